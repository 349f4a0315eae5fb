# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The read -> plan -> apply -> re-read cycle every module of the collection runs.

A managed object (a tunnel, a session, a DHCPv6 interface service) is described by an
:class:`ObjectTable` of :class:`Field` rows. It lives in one or more *stores* (the kernel at
runtime, files that bring it back at boot). Each store reads its objects as plain normalised
dicts keyed by object key; :func:`plan` compares them with what the task asks for and yields
:class:`Change` rows; :func:`apply` runs them in a fixed order with a journal and undoes what it
did, in reverse, on the first error.

The package: ``_objects`` (the vocabulary: actions, errors, Field, ObjectTable, Change, Store),
``_plan`` (plan, unkept, predict, view, compare_stores: pure), ``_apply`` (apply with its
journal, rollback and undo) and, here, :func:`run_parts`, the whole cycle over one table or a
container's table and its members' (:class:`Part`). Import from here, not from the parts.

Nothing here touches the system: stores do (see ``_netlink.py``, ``_networkd.py``).
"""

from __future__ import annotations

import contextlib
import gc

from ansible_collections.edgenet.router.plugins.module_utils._poll import until
from ansible_collections.edgenet.router.plugins.module_utils._engine._objects import (  # noqa: F401 (re-exported)
    CONFIRM, CREATE, DELETE, IN_PLACE, MODIFY, PERSISTENT, RECREATE, RUNTIME, SECRET_MASK, SETTLE, VERIFY,
    ApplyError, Change, Field, ObjectTable, PlanError, PutStore, Store, Unkept, _mask, overlaid, secret_texts,
)
from ansible_collections.edgenet.router.plugins.module_utils._engine._plan import compare_stores, plan, predict, unkept, view  # noqa: F401
from ansible_collections.edgenet.router.plugins.module_utils._engine._apply import apply, undo  # noqa: F401

__all__ = [
    'ApplyError', 'Change', 'Field', 'ObjectTable', 'Part', 'PlanError', 'PutStore', 'Store', 'Unkept',
    'apply', 'collector_paused', 'compare_stores', 'overlaid', 'plan', 'predict', 'run', 'run_parts', 'secret_texts', 'undo', 'unkept', 'view',
    'CREATE', 'MODIFY', 'RECREATE', 'DELETE', 'SETTLE', 'VERIFY', 'CONFIRM', 'IN_PLACE',
    'RUNTIME', 'PERSISTENT', 'SECRET_MASK',
]


@contextlib.contextmanager
def collector_paused():
    """Python's cycle collector off for the length of a task's run, on again after it. A bulk run
    keeps what it makes until its result (the reads, plans and views of 1000 tunnels: tens of
    thousands of dicts and lists), so every collection its allocations set off walks them again
    and finds next to nothing to free; reference counting frees the rest as it always does. In a
    one-vCPU lab guest that was 0.04-0.08 s (about 55 collections) of a 1.3 s bulk modify of 1000
    tunnels; the first collection after the run walks what it kept once, 0.01-0.04 s. Nested or
    with the collector already off, it leaves the collector as it found it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Part(object):
    """One table of a run with its stores (persistent first; store names unique in the run).

    ``desired`` is the task's objects (see :func:`plan`), or, for a container whose objects
    follow from what its members need (an L2TP tunnel is wanted while a session of it is), a
    callable given every store's read (``{store name: objects}``) returning them."""

    def __init__(self, table, stores, desired):
        self.table = table
        self.stores = list(stores)
        self.desired = desired


# How often verify reads the stores again within a store's settle_grace.
REREAD_INTERVAL = 0.2


def run(table, stores, desired, check_mode=False, recreate='allowed', confirm=None):
    """The whole cycle for one table: :func:`run_parts` with one :class:`Part`."""
    return run_parts([Part(table, stores, desired)], check_mode=check_mode, recreate=recreate, confirm=confirm)


def run_parts(parts, check_mode=False, recreate='allowed', confirm=None):
    """The whole cycle. ``parts`` are :class:`Part` rows, containers first (a tunnel table before
    its sessions'); the last is the task's own objects, which the views show.

    Returns a dict with ``changed``, ``changes`` (plan rows as dicts, every part's), ``before``
    and ``after`` views of the last part (per object, per store) and ``commands``. In check mode
    ``after`` is the prediction; otherwise the stores are re-read. ``changed`` is computed from
    the plan alone, so it is the same in both modes. Deletions run members first, creations
    containers first (see ``Change.level``), under one journal: a failure anywhere rolls every
    part back. ``confirm`` goes to :func:`apply` (a real run with changes only).
    """
    stores = [store for part in parts for store in part.stores]
    by_name = dict((s.name, s) for s in stores)
    if len(by_name) != len(stores):
        raise ValueError('two stores of one run share a name: %s' % ', '.join(s.name for s in stores))
    task = parts[-1]
    with contextlib.ExitStack() as held:
        if not check_mode:  # taking a lock may create its file: check mode writes nothing
            for store in stores:
                held.enter_context(store.locked())
        current = dict((s.name, s.read()) for s in stores)
        wanted = [part.desired(current) if callable(part.desired) else part.desired for part in parts]
        removals, updates = [], []
        for level, (part, desired) in enumerate(zip(parts, wanted)):
            names = [s.name for s in part.stores]
            for store in part.stores:
                store.prepare(desired, current[store.name])
            changes = plan(part.table, names, desired, dict((n, current[n]) for n in names), recreate=recreate)
            for change in changes:
                change.level = level
            # plan puts deletions first: members' before their containers', containers' updates first
            removals[:0] = [c for c in changes if c.action == DELETE]
            updates += [c for c in changes if c.action != DELETE]
        changes = removals + updates
        if check_mode or not changes:
            after = predict(list(by_name), current, changes)
        else:
            reread = {}

            def verify():
                # The re-read for the result, and the proof that the stores took the change; while a
                # store's manager still reconfigures after its settle (settle_grace), read again.
                verified = set(s.name for s in stores if s.verifies)
                problems = []

                def kept():
                    reread.update((s.name, s.read_after(changes)) for s in stores)
                    problems[:] = []
                    for part in parts:
                        mine = set(s.name for s in part.stores)
                        problems.extend(unkept(part.table, [c for c in changes if c.store in mine], reread, verified))
                    return not problems
                if not until(kept, max(s.settle_grace for s in stores), REREAD_INTERVAL):
                    raise Unkept('; '.join(problems))
            try:
                apply(by_name, changes, verify, confirm)
            except ApplyError as exc:
                exc.mask(set().union(*(secret_texts(part.table, desired, *(current[s.name] for s in part.stores))
                                       for part, desired in zip(parts, wanted))))
                raise
            after = reread
    tables = dict((s.name, part.table) for part in parts for s in part.stores)
    commands = []
    for change in changes:
        commands.extend(by_name[change.store].commands(_masked_change(change, tables[change.store].secret_names())))
    names = [s.name for s in task.stores]
    keys = set(wanted[-1])
    before = view(task.table, names, current, keys)
    return {
        'changed': bool(changes),
        'changes': [c.as_dict(tables[c.store].secret_names()) for c in changes],
        'before': before,
        # Without changes the prediction is what was read: its view is the same, not built twice
        # (a tenth of a no-op check of 1000 tunnels). Nothing changes a view once built.
        'after': view(task.table, names, after, keys) if changes else before,
        'commands': commands,
    }


def _masked_change(change, secrets):
    if not secrets:
        return change

    def masked(obj):
        if obj is None:
            return None
        return dict((k, _mask(k, v, secrets)) for k, v in obj.items())

    return Change(change.store, change.key, change.action, masked(change.before), masked(change.after),
                  dict((n, (_mask(n, b, secrets), _mask(n, a, secrets))) for n, (b, a) in change.fields.items()),
                  change.level)
