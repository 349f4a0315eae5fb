# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stateful in-memory store for engine tests.

``read_only=True`` makes every write fail the test: check mode must never write.
``fail_on`` names (action, key) pairs whose next write raises once, to exercise the rollback.
``snapshots=True`` makes it behave like the file store (byte-exact restore callables).
``settle_error`` makes its settle step raise (a reload that failed after the writes); ``events``
records lock, unlock, read and settle in order.
"""

from __future__ import annotations

import contextlib
import copy

from ansible_collections.edgenet.router.plugins.module_utils._engine import Store


class StoreFailure(Exception):
    pass


class FakeStore(Store):

    def __init__(self, name, objects=None, read_only=False, fail_on=(), snapshots=False, settle_error=None):
        self.name = name
        self.settle_error = settle_error
        self.events = []
        self.objects = copy.deepcopy(objects or {})
        self.read_only = read_only
        self.fail_on = set(fail_on)
        self.snapshots = snapshots
        self.writes = []

    def read(self):
        self.events.append('read')
        return copy.deepcopy(self.objects)

    @contextlib.contextmanager
    def locked(self):
        self.events.append('lock')
        try:
            yield
        finally:
            self.events.append('unlock')

    def settle(self):
        assert not self.read_only, 'settle in a read-only store (check mode?)'
        self.events.append('settle')
        if self.settle_error is not None:
            raise StoreFailure(self.settle_error)

    def _write(self, action, key):
        assert not self.read_only, 'write %s %s in a read-only store (check mode?)' % (action, key)
        self.writes.append((action, key))
        if (action, key) in self.fail_on:
            self.fail_on.discard((action, key))  # fail once: the rollback's own write succeeds
            raise StoreFailure('injected failure: %s %s' % (action, key))

    def create(self, key, obj):
        self._write('create', key)
        assert key not in self.objects, 'create over existing %s' % key
        self.objects[key] = copy.deepcopy(obj)

    def modify(self, key, before, after):
        self._write('modify', key)
        assert self.objects[key] == before, 'modify from a stale before'
        self.objects[key] = copy.deepcopy(after)

    def delete(self, key, obj):
        self._write('delete', key)
        del self.objects[key]

    def snapshot(self, key):
        if not self.snapshots:
            return None
        saved = copy.deepcopy(self.objects.get(key))

        def restore():
            self.writes.append(('restore', key))
            if saved is None:
                self.objects.pop(key, None)
            else:
                self.objects[key] = copy.deepcopy(saved)
        return restore

    def commands(self, change):
        return ['%s %s %s' % (self.name, change.action, change.key)]


class BatchingStore(FakeStore):
    """A store that takes runs of writes at once and, like the kernel with a batch of
    requests, tries every write of the run even after one failed."""

    batches = True

    def __init__(self, name, objects=None, **kwargs):
        super(BatchingStore, self).__init__(name, objects, **kwargs)
        self.runs = []

    def write_many(self, writes):
        self.runs.append([(action, key) for action, key, _before, _after in writes])
        outcomes = []
        for action, key, before, after in writes:
            try:
                self.write(action, key, before, after)
            except StoreFailure as exc:
                outcomes.append(exc)
            else:
                outcomes.append(None)
        return outcomes
