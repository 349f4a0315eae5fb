# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The half of the cycle that writes: :func:`apply` runs a plan's changes against the stores with a
journal, settles and verifies them, and rolls everything back in reverse on the first error;
:func:`undo` replays a journal written down as data (commit-confirm, in another process)."""

from __future__ import annotations

import functools

from ansible_collections.edgenet.router.plugins.module_utils._engine._objects import (
    CONFIRM, CREATE, DELETE, MODIFY, RECREATE, SETTLE, VERIFY, ApplyError, Change, Unkept,
)

__all__ = ['apply', 'undo']


def _steps(change):
    """A recreate is a delete then a create; everything else is one primitive write."""
    if change.action == RECREATE:
        return [(DELETE, change.before, None), (CREATE, None, change.after)]
    return [(change.action, change.before, change.after)]


def _ordered(changes):
    """The primitive writes of ``changes`` in the order apply runs them. Objects of one level: the
    plan's order, a recreate's delete right before its create. Nested objects (several levels,
    see ``Change.level``): every delete first, the deepest level first (a session before its
    tunnel), then every create and modify, the shallowest first (a tunnel before its sessions).
    A recreate's two halves fall into the two phases: a tunnel recreated under its sessions is
    deleted after they are, and a rollback, in reverse, puts the old tunnel back before them.
    Within a level the plan's order holds (the sorts are stable)."""
    steps = [(change, action, before, after) for change in changes for action, before, after in _steps(change)]
    if len(set(change.level for change in changes)) < 2:
        return steps
    deletes = sorted((step for step in steps if step[1] == DELETE), key=lambda step: -step[0].level)
    writes = sorted((step for step in steps if step[1] != DELETE), key=lambda step: step[0].level)
    return deletes + writes


def _write(store, action, key, before, after):
    store.write(action, key, before, after)


_INVERSE = {CREATE: DELETE, DELETE: CREATE, MODIFY: MODIFY}


def apply(stores, changes, verify=None, confirm=None):
    """Run ``changes`` against ``stores`` (name -> Store), undoing in reverse on failure.

    ``verify()``, when given, runs after the stores settled and raises :class:`Unkept` when a
    store does not hold what was written: that rolls everything back too. ``confirm(records)``,
    when given, runs last with the journal as data (see :func:`undo`) so that something outside
    this process can roll the change back later; if it raises, the change is rolled back now.
    Returns the number of primitive writes. Raises :class:`ApplyError` after the rollback.
    """
    journal = []
    steps = _ordered(changes)
    start = 0
    while start < len(steps):
        store = stores[steps[start][0].store]
        end = start + 1
        while end < len(steps) and steps[end][0].store == steps[start][0].store:
            end += 1
        run, start = steps[start:end], end
        if store.batches:
            _apply_batch(store, run, journal)
            continue
        for change, action, before, after in run:
            restore = store.snapshot(change.key)
            try:
                _write(store, action, change.key, before, after)
            except Exception as exc:  # pylint: disable=broad-except
                # The write may have half-happened: a snapshot undoes that too.
                if restore is not None:
                    journal.append(('%s %s' % (change.store, change.key), restore, None))
                raise _rollback(journal, exc, change)
            _journal(journal, store, change, action, before, after, restore)
    _settle(stores, steps, journal)
    if verify is not None:
        try:
            verify()
        except Unkept as exc:
            raise _rollback(journal, exc, Change(None, None, VERIFY, None, None))
    if confirm is not None:
        try:
            confirm([record for dummy, dummy, record in journal])
        except Exception as exc:  # pylint: disable=broad-except
            raise _rollback(journal, exc, Change(None, None, CONFIRM, None, None))
    return len(journal)


def _settle(stores, steps, journal):
    """Each store that was written settles once, in the order it was first written."""
    written = []
    for change, dummy, dummy, dummy in steps:
        if change.store not in written:
            written.append(change.store)
    for name in written:
        try:
            stores[name].settle()
        except Exception as exc:  # pylint: disable=broad-except
            if stores[name].settled_in_part:   # some writes took effect: the undo settles again too
                _settle_again_last(journal, stores[name])
            raise _rollback(journal, exc, Change(name, None, SETTLE, None, None))
        _settle_again_last(journal, stores[name])


def _settle_again_last(journal, store):
    """Journal the store's :meth:`settle_again`, when it has one, first, so undone last: after
    every write it would make take effect was undone, in every store (a link the runtime store
    makes anew is there before a manager reloads the file that describes it)."""
    if store.settles_again:
        description = '%s store settled again' % store.name
        journal.insert(0, (description, store.settle_again, {'store': store.name, 'undo': SETTLE, 'description': description}))


def _journal(journal, store, change, action, before, after, restore=None):
    """One done write into the journal: how to undo it here (the store's snapshot, else the
    inverse write) and the same as data for :func:`undo` (a snapshot's ``record()`` when it has
    one, else the inverse write: after a completed write the two put back the same object)."""
    description = '%s %s %s' % (change.store, change.key, _undo_word(action))
    inverse = (_INVERSE[action], change.key, after, before)
    if restore is None:
        restore = functools.partial(_write, store, *inverse)
    if callable(getattr(restore, 'record', None)):
        record = {'store': change.store, 'undo': 'restore', 'record': restore.record()}
    else:
        record = {'store': change.store, 'undo': 'write', 'write': list(inverse)}
    record['description'] = description
    journal.append((description, restore, record))


def _apply_batch(store, run, journal):
    """A run of writes handed to a batching store at once; each write it reports done goes
    into the journal (those after a failed one too: the kernel went on), then the first
    failure rolls everything back."""
    outcomes = store.write_many([(action, change.key, before, after) for change, action, before, after in run])
    failed = None
    for (change, action, before, after), error in zip(run, outcomes):
        if error is None:
            _journal(journal, store, change, action, before, after)
            continue
        if isinstance(error, tuple):   # it may have half happened: its snapshot undoes that
            error, restore = error
            journal.append(('%s %s' % (change.store, change.key), restore, None))
        if failed is None:
            failed = (error, change)
    if failed is not None:
        raise _rollback(journal, *failed)


def _undo_word(action):
    return {CREATE: 'removed again', DELETE: 'put back', MODIFY: 'set back'}[action]


def _undo_all(journal):
    restored, unrestored = [], []
    for description, restore, dummy in reversed(journal):
        try:
            restore()
            restored.append(description)
        except Exception as undo_exc:  # pylint: disable=broad-except
            unrestored.append('%s (%s)' % (description, undo_exc))
    return restored, unrestored


def _rollback(journal, exc, change):
    return ApplyError(exc, change, *_undo_all(journal))


def undo(stores, records):
    """Roll back a change from the journal :func:`apply` handed to ``confirm``, in another process
    and maybe minutes later: ``records`` in the order apply wrote them, undone in reverse against
    ``stores`` (name -> Store, built anew from the task's options). Every record goes through
    the store's own writes, so a record cannot make a store write anything its objects could
    not. Returns ``(restored, unrestored)`` like an :class:`ApplyError`; raises ``ValueError``,
    before undoing anything, for a record that is not one apply could have written."""
    journal = []
    for record in records:
        if not isinstance(record, dict) or record.get('store') not in stores:
            raise ValueError('a journal record names no store of this task: %r' % (record,))
        store = stores[record['store']]
        kind = record.get('undo')
        if kind == 'write':
            action, key, before, after = record['write']
            if action not in _INVERSE or not isinstance(key, str):
                raise ValueError('a journal record holds no write: %r' % (record['write'],))
            restore = functools.partial(_write, store, action, key, before, after)
        elif kind == 'restore':
            restore = functools.partial(store.restore_record, record['record'])
        elif kind == SETTLE:
            restore = store.settle_again
        else:
            raise ValueError('a journal record of an unknown kind: %r' % (kind,))
        journal.append((str(record.get('description', kind)), restore, record))
    return _undo_all(journal)
