# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The pure half of the cycle: :func:`plan` (current and desired -> changes), :func:`unkept` (the
re-read against the changes), :func:`predict` (check mode's after), :func:`view` (the diff's
shape) and :func:`compare_stores` (what the ``_info`` modules report). Nothing here touches a store."""

from __future__ import annotations

import copy

from ansible_collections.edgenet.router.plugins.module_utils._engine._objects import (
    CREATE, DELETE, MODIFY, PERSISTENT, RECREATE, RUNTIME, Change, PlanError, _mask,
)

__all__ = ['plan', 'unkept', 'predict', 'view', 'compare_stores']


def _differences(table, store, before, desired):
    """Fields of ``store`` whose desired value is set and differs from ``before`` (``desired``: the
    whole object or its part in ``store``, only the store's compared fields are read)."""
    fields = {}
    for name, field in table.compared_in(store):
        wanted = desired.get(name)
        if wanted is None:
            continue
        have = before.get(name)
        if have != wanted and not field.same(have, wanted):
            fields[name] = (have, wanted)
    return fields


def _merged(table, store, before, desired):
    """``before`` with ``desired``'s values set (not None) of the fields that live in ``store``:
    the object after a modify (the projection and the merge in one pass)."""
    after = dict(before)
    for field in table.in_store(store):
        value = desired.get(field.name)
        if value is not None:
            after[field.name] = value
    return after


def plan(table, stores, desired, current, recreate='allowed'):
    """Compute the list of changes turning ``current`` into ``desired``.

    ``desired`` maps object key to a normalised dict (``None`` values: leave as found) or to
    ``None`` (the object must be absent). ``current`` maps store name to that store's
    ``read()``. Changes come in apply order: deletions first (runtime before persistent, so
    nothing at boot brings back what is being removed), then creations and modifications
    (persistent before runtime, so a failed runtime step can be undone from the files).
    A recreate with ``recreate='never'`` raises :class:`PlanError`.
    """
    removals, updates = [], []
    refused = []
    secrets = table.secret_names()
    for key in sorted(desired):
        want = desired[key]
        for store in stores:
            have = current[store].get(key)
            if want is None:
                if have is not None:
                    removals.append(Change(store, key, DELETE, have, None))
                continue
            if have is None:
                after = dict((k, v) for k, v in table.project(want, store).items() if v is not None)
                updates.append(Change(store, key, CREATE, None, after,
                                      dict((k, (None, v)) for k, v in after.items())))
                continue
            # the store's compared fields of the whole object: an object in place, as most are in a
            # check, is not projected at all
            fields = _differences(table, store, have, want)
            if not fields:
                continue
            action = MODIFY
            if any(table[name].update == RECREATE for name in fields):
                action = RECREATE
                if recreate == 'never':
                    refused.append('%s (%s: %s)' % (key, store, ', '.join(
                        '%s %r -> %r' % (n, _mask(n, b, secrets), _mask(n, a, secrets))
                        for n, (b, a) in sorted(fields.items())
                        if table[n].update == RECREATE)))
            change = Change(store, key, action, have, _merged(table, store, have, want), fields)
            if action == RECREATE:
                change.wanted = dict((k, v) for k, v in table.project(want, store).items() if v is not None)
            updates.append(change)
    if refused:
        raise PlanError('Changing these fields requires deleting and re-creating the object, '
                        'which recreate=never forbids: %s' % '; '.join(refused))
    order = dict((store, i) for i, store in enumerate(stores))
    removals.sort(key=lambda c: (-order[c.store], c.key))
    updates.sort(key=lambda c: (order[c.store], c.key))
    return removals + updates


def unkept(table, changes, reread, verified):
    """One line per object and field that a store in ``verified`` does not hold as ``changes``
    wrote it, by the field's comparison, in ``reread`` (the stores' read after the apply).
    Secret values are masked."""
    secrets = table.secret_names()
    problems = []
    for change in changes:
        if change.store not in verified:
            continue
        got = reread[change.store].get(change.key)
        if change.action == DELETE:
            if got is not None:
                problems.append('%s %s is still there after its delete' % (change.store, change.key))
            continue
        if got is None:
            problems.append('%s %s is not there after its %s' % (change.store, change.key, change.action))
            continue
        for name, wanted in _written(change):
            field = table[name]
            if wanted is None or not field.compare or change.store not in field.stores:
                continue
            if not field.same(got.get(name), wanted):
                problems.append('%s %s: %s reads back as %r, not the %r written' % (
                    change.store, change.key, name, _mask(name, got.get(name), secrets), _mask(name, wanted, secrets)))
    return problems


def _written(change):
    """``(field name, value)`` of what ``change`` wrote, for verify: a create's or a modify's fields; a
    recreate's whole task (a new link gets its addresses and routes anew, and one it did not get is
    not kept even when that field did not differ)."""
    if change.action == RECREATE:
        return sorted(change.wanted.items())
    return sorted((name, wanted) for name, (dummy, wanted) in change.fields.items())


def predict(stores, current, changes):
    """What each store will hold after ``changes``: check mode's ``after``.

    The stores' maps are copied, not the objects in them: nothing downstream mutates an object
    (``view`` builds new dicts), and a deep copy of every object cost more than the rest of a
    no-op check of 1000 tunnels under emulation. Changed objects are deep-copied."""
    after = dict((store, dict(objects)) for store, objects in current.items())
    for change in changes:
        if change.action == DELETE:
            after[change.store].pop(change.key, None)
        else:
            after[change.store][change.key] = copy.deepcopy(change.after)
    return after


def view(table, stores, snapshot, keys):
    """``{key: {store: object or None}}`` for ``keys``, secrets masked: the diff's shape.

    A table without secrets shows the store's own objects, not copies: nothing changes an object
    once read (see :func:`predict`), and a copy of each was a twentieth of a bulk modify of 1000
    tunnels. The names keep the store's order; whatever shows a result sorts them (Ansible's
    callbacks and its diff, the drift report)."""
    secrets = table.secret_names()
    out = {}
    for key in sorted(keys):
        out[key] = views = {}
        for store in stores:
            obj = snapshot[store].get(key)
            if obj is not None and secrets:
                obj = {name: _mask(name, value, secrets) for name, value in obj.items()}
            views[store] = obj
    return out


def compare_stores(table, runtime, persistent, keys=None):
    """Where the runtime and the persistent store disagree: the ``_info`` modules' view.

    ``runtime`` and ``persistent`` are two stores' ``read()`` maps; ``persistent`` is None when
    the task has no persistent store (a network namespace, which no boot-time file describes).
    Returns ``{key: {'runtime': obj or None, 'persistent': obj or None, 'missing': [store names
    without the object], 'differs': [field names]}}`` for every key either store holds (only
    those in ``keys`` when given), sorted. A field differs when the persistent store sets it and
    the runtime value does not count as it (the field's own ``compare``); a field the persistent
    store leaves unset (a networkd file that cannot hold it, the other mode's fields of a DHCPv6
    interface) or that is never compared (``compare=False``) is no difference. Objects are the
    stores' own: a caller masks secrets as its result shows them."""
    files = persistent if persistent is not None else {}
    names = set(runtime) | set(files)
    if keys is not None:
        names &= set(keys)
    out = {}
    for key in sorted(names):
        have, kept = runtime.get(key), files.get(key)
        differs = []
        if have is not None and kept is not None:
            differs = sorted(field.name for field in table if field.compare and kept.get(field.name) is not None
                             and not field.same(have.get(field.name), kept.get(field.name)))
        if persistent is not None:
            missing = [store for store, obj in ((RUNTIME, have), (PERSISTENT, kept)) if obj is None]
        else:
            missing = [] if have is not None else [RUNTIME]
        out[key] = {'runtime': have, 'persistent': kept, 'missing': missing, 'differs': differs}
    return out
