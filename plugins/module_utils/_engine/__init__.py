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
journal, rollback and undo) and, here, :func:`run`, the whole cycle. Import from here, not from the parts.

Nothing here touches the system: stores do (see ``_netlink.py``, ``_networkd.py``).
"""

from __future__ import annotations

import contextlib

from ansible_collections.edgenet.router.plugins.module_utils._engine._objects import (  # noqa: F401 (re-exported)
    CONFIRM, CREATE, DELETE, IN_PLACE, MODIFY, PERSISTENT, RECREATE, RUNTIME, SECRET_MASK, SETTLE, VERIFY,
    ApplyError, Change, Field, ObjectTable, PlanError, Store, Unkept, _mask, secret_texts,
)
from ansible_collections.edgenet.router.plugins.module_utils._engine._plan import compare_stores, plan, predict, unkept, view  # noqa: F401
from ansible_collections.edgenet.router.plugins.module_utils._engine._apply import apply, undo  # noqa: F401

__all__ = [
    'ApplyError', 'Change', 'Field', 'ObjectTable', 'PlanError', 'Store', 'Unkept',
    'apply', 'compare_stores', 'plan', 'predict', 'run', 'secret_texts', 'undo', 'unkept', 'view',
    'CREATE', 'MODIFY', 'RECREATE', 'DELETE', 'SETTLE', 'VERIFY', 'CONFIRM', 'IN_PLACE',
    'RUNTIME', 'PERSISTENT', 'SECRET_MASK',
]


def run(table, stores, desired, check_mode=False, recreate='allowed', confirm=None):
    """The whole cycle. ``stores`` is an ordered list of Store objects (persistent first).

    Returns a dict with ``changed``, ``changes`` (plan rows as dicts), ``before``/``after``
    views (per object, per store), ``commands`` and ``after_objects`` (the raw after
    snapshot). In check mode ``after`` is the prediction; otherwise the stores are re-read.
    ``changed`` is computed from the plan alone, so it is the same in both modes. ``confirm``
    goes to :func:`apply` (a real run with changes only).
    """
    names = [s.name for s in stores]
    by_name = dict((s.name, s) for s in stores)
    with contextlib.ExitStack() as held:
        if not check_mode:  # taking a lock may create its file: check mode writes nothing
            for store in stores:
                held.enter_context(store.locked())
        current = dict((s.name, s.read()) for s in stores)
        for store in stores:
            store.prepare(desired, current[store.name])
        changes = plan(table, names, desired, current, recreate=recreate)
        if check_mode or not changes:
            after = predict(names, current, changes)
        else:
            reread = {}

            def verify():
                # The re-read for the result, and the proof that the stores took the change.
                reread.update((s.name, s.read()) for s in stores)
                problems = unkept(table, changes, reread, set(s.name for s in stores if s.verifies))
                if problems:
                    raise Unkept('; '.join(problems))
            try:
                apply(by_name, changes, verify, confirm)
            except ApplyError as exc:
                exc.mask(secret_texts(table, desired, *current.values()))
                raise
            after = reread
    secrets = table.secret_names()
    commands = []
    for change in changes:
        commands.extend(by_name[change.store].commands(_masked_change(change, secrets)))
    keys = set(desired)
    return {
        'changed': bool(changes),
        'changes': [c.as_dict(secrets) for c in changes],
        'before': view(table, names, current, keys),
        'after': view(table, names, after, keys),
        'commands': commands,
        'after_objects': after,
    }


def _masked_change(change, secrets):
    if not secrets:
        return change

    def masked(obj):
        if obj is None:
            return None
        return dict((k, _mask(k, v, secrets)) for k, v in obj.items())

    return Change(change.store, change.key, change.action, masked(change.before), masked(change.after),
                  dict((n, (_mask(n, b, secrets), _mask(n, a, secrets))) for n, (b, a) in change.fields.items()))
