# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""One daemon configuration file: locked, validated, atomic replacement, byte-exact snapshots.

The same contract as the networkd seam (``_networkd.py``) for a single file of any syntax, on the
same mechanics (``_files.py``): the file carries :data:`MANAGED_MARKER` (shared with networkd
files); a file without it is someone else's and is never replaced. A new version is written to a
temporary file next to the target, checked by the daemon's own checker, and only then renamed over
the live file, so a rejected config leaves the previous file untouched.

Both DHCPv6 daemons are configured by one such file, so what their backends share lives here
too: :class:`ConfigFileStore`, the persistent store over the file (a :class:`PutStore`, as is
Kea's runtime store), and :class:`FileBackend`, the frame of a backend (its settings, its two
stores, starting the daemon under systemd). What differs per daemon (syntax, checker, how the
daemon takes a new config) stays in ``_kea`` and ``_dnsmasq``.
"""

from __future__ import annotations

import os

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._engine import DELETE, PERSISTENT, PutStore
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import Dhcpv6Error, TABLE
from ansible_collections.edgenet.router.plugins.module_utils._files import MANAGED_MARKER, is_managed, is_ours
from ansible_collections.edgenet.router.plugins.module_utils._command import checked

__all__ = [
    'ConfigFile',
    'ConfigFileError',
    'ConfigFileStore',
    'FileBackend',
    'MANAGED_MARKER',
    'PutStore',
    'canonical_read',
    'is_managed',
]


class ConfigFileError(Exception):
    """A file operation or validation failed; the message names the path or the checker's words."""


class ConfigFile(object):
    """A daemon config file at ``path``; the lock lives in its directory (``.edgenet-router.lock``,
    the name networkd directories use, so any writer of the directory agrees on it)."""

    def __init__(self, path, lock_timeout=60):
        self.path = os.path.abspath(path)
        self.directory = os.path.dirname(self.path)
        self.lock_path = os.path.join(self.directory, _files.LOCK_NAME)
        self.lock_timeout = lock_timeout

    def load(self):
        """``(bytes, mode)`` or ``None`` when the file is absent."""
        return _files.load(self.path, ConfigFileError)

    def text(self):
        """The file's text, or ``None`` when absent."""
        loaded = self.load()
        return None if loaded is None else loaded[0].decode('utf-8', 'replace')

    def foreign(self):
        """True when the file exists without the marker: someone else's, left alone."""
        text = self.text()
        return text is not None and not is_managed(text)

    def locked(self):
        """Hold the directory's exclusive lock (see :func:`_files.locked`); re-entrant within this process."""
        return _files.locked(self.directory, self.lock_timeout, ConfigFileError)

    def replace(self, data, validate=None, mode=0o644):
        """Make the file hold ``data`` (bytes that already carry the marker).

        ``validate(tmp_path)`` runs on the complete temporary file before the rename and raises
        to refuse it; the live file is then untouched. Returns True if the file changed.
        """
        with self.locked():
            loaded = self.load()
            if loaded is not None and not is_ours(loaded[0]):
                raise ConfigFileError('Refusing to overwrite %s: it lacks the line "%s", so it is not ours. Move '
                                      'it aside (e.g. to %s.dist) or choose another config file.'
                                      % (self.path, MANAGED_MARKER, self.path))
            if loaded is not None and loaded[0] == data:
                return False
            _files.atomic_write(self.path, data, loaded[1] if loaded is not None else mode, validate, ConfigFileError)
            return True

    def remove(self):
        """Remove the file if it is ours; True if removed."""
        with self.locked():
            loaded = self.load()
            if loaded is None or not is_ours(loaded[0]):
                return False
            return _files.remove(self.path, ConfigFileError)

    def snapshot(self):
        """A callable putting the file back byte for byte (content, mode, absence); it never
        touches a file that has meanwhile become someone else's."""
        return _files.snapshot([self.path], self.locked, is_ours, ConfigFileError)


def canonical_read(obj):
    """A model object a backend parsed from its file or daemon, in canonical form: the model's
    normalisers run over every field, and a value they refuse is kept as read (so it shows as
    drift rather than failing the read)."""
    out = {}
    for field in TABLE:
        value = obj.get(field.name)
        try:
            out[field.name] = field.canonical(value)
        except (Dhcpv6Error, ValueError):
            out[field.name] = value
    return out


class ConfigFileStore(PutStore):
    """The persistent store of a daemon backend: the managed config file holding every
    interface's part; a change to one part replaces the whole file once the daemon's checker
    (``validate(tmp_path)``) accepted it.

    A subclass gives the syntax: :meth:`parse` (the file -> ``(models, context)``, context being
    what rendering keeps from the file) and :meth:`render_models`; and the words: ``error`` (its
    exception class), ``part`` (what one interface's share is called), ``check_command`` (the
    checker's command line, ``%s`` for the path) and ``aside`` (a hint on where to move a foreign
    file, ``%(path)s`` for its path).
    """

    name = PERSISTENT
    error = ConfigFileError
    part = 'part'
    check_command = '%s'
    aside = ''

    # The file reads back at once what was written: the engine's re-read after the apply must show
    # every field each change wrote (a parser that loses a field, a write that never reached the
    # file), or the whole change is rolled back naming the field.
    verifies = True

    def __init__(self, path, validate):
        self.file = ConfigFile(path)
        self.validate = validate
        self.dirty = False

    def locked(self):
        """The file's directory lock, held by the engine from the read to the end of apply: two
        runs on one shared file (every interface's part) cannot plan on the same bytes, and a
        rollback's byte-exact restore cannot erase a change another run committed meanwhile.
        Snapshots and restores take the same lock, re-entrantly."""
        return self.file.locked()

    def text(self):
        """The file's text (``None`` when absent); ``error`` when it is not ours."""
        text = self.file.text()
        if text is not None and not is_managed(text):
            path = self.file.path
            raise self.error('%s exists without the line "%s": it is not managed by edgenet.router. Move it '
                             'aside%s or point config_file elsewhere.'
                             % (path, MANAGED_MARKER, self.aside % {'path': path}))
        return text

    def parse(self):
        """``(models, context)`` of the file as it is."""
        raise NotImplementedError

    def render_models(self, models, context):
        """The file text serving ``models``."""
        raise NotImplementedError

    def read(self):
        return self.parse()[0]

    def rendered(self, key, obj):
        """The file text with ``key``'s part replaced by ``obj`` (None: removed)."""
        models, context = self.parse()
        if obj is None:
            models.pop(key, None)
        else:
            models[key] = obj
        return self.render_models(models, context)

    def put(self, key, obj):
        """Write the file with ``key``'s part as ``obj``; True (and ``dirty``) if it changed."""
        with self.file.locked():
            changed = self.file.replace(self.rendered(key, obj).encode(), validate=self.validate)
        if changed:
            self.dirty = True
        return changed

    def snapshot(self, key):
        return self.file.snapshot()

    def restore_record(self, record):
        """Put back what a snapshot's ``record()`` saved (a commit-confirm rollback), byte for byte
        (content, mode, owner), as guarded as the snapshot's own restore. The record may name
        this store's file only: it is data read from disk."""
        snapshot = _files.Snapshot.from_record(record, self.file.directory, self.file.locked, is_ours, self.error)
        others = [path for path, dummy in snapshot.saved if path != self.file.path]
        if others:
            raise self.error('Refusing to restore %s: the record may name %s only' % (', '.join(others), self.file.path))
        snapshot()

    def commands(self, change):
        what = 'remove the %s of %s from' if change.action == DELETE else 'write the %s of %s to'
        return ['%s %s' % (what % (self.part, change.key), self.file.path), self.check_command % self.file.path]


class FileBackend(object):
    """The frame of a backend whose daemon reads a :class:`ConfigFileStore` (``self.file``) and
    has a runtime store (``self.daemon``), as dhcpv6_server(_info) use it (see ``_service``).

    A subclass sets ``name`` and ``error``, makes both stores and ``self._running``, and says in
    :meth:`started` whether the daemon runs (and serves) after ``systemctl start``.

    Whether the daemon runs is part of the runtime store, not a step beside the engine: a stopped
    daemon serves nothing, so its store reads empty and the plan has a ``create`` row for the
    interface, which the store carries out by starting the daemon (see :meth:`start`). That
    needs someone to start it: with ``service_manager: none`` a stopped daemon is not the task's,
    and the runtime store stays out of the plan (see :meth:`stores`).
    """

    name = None
    error = ConfigFileError

    def __init__(self, params, run, defaults):
        self.settings = dict((k, params.get(k) or v) for k, v in defaults.items())
        self.params = params
        self.run = run
        self._running = False
        self.started_here = False   # start() brought the daemon up in this run

    @staticmethod
    def model_defaults(params):
        """The backend's own defaults for the model (None: the model's); dnsmasq has some."""
        return None

    def starts_daemon(self):
        """True when the module may start the daemon: systemd runs it."""
        return self.params.get('service_manager') == 'systemd'

    def stores(self):
        """Persistent first. The runtime store takes part while the daemon runs, and while it is
        stopped when the module may start it (its plan row is the start)."""
        if self._running or self.starts_daemon():
            return [self.file, self.daemon]
        return [self.file]

    def daemon_running(self):
        return self._running

    def file_store(self):
        return self.file

    def daemon_store(self):
        return self.daemon

    def render(self, key, obj):
        return self.file.rendered(key, obj)

    def start_hint(self):
        """Words the warning about a stopped daemon ends with (how to start it); none here."""
        return ''

    def warnings(self):
        """Warnings about the backend's helpers that the task should repeat on every run."""
        return []

    def pd_routes(self):
        """The routes to delegated prefixes the backend installed (Kea's pd_routes); None when
        the backend has none."""
        return None

    def counters(self):
        """What the daemon counted (the relay: forwarded, replied, dropped by reason); None for a
        daemon that counts nothing the module reads."""
        return None

    def run_checked(self, argv):
        """Run ``argv``; ``error`` naming it and its words unless it succeeds."""
        return checked(self.run, argv, self.error)

    def started(self):
        """True if the daemon runs (asked right after ``systemctl start`` succeeded)."""
        raise NotImplementedError

    def start_argv(self):
        return ['systemctl', 'start', self.settings['service_name']]

    def stop_argv(self):
        return ['systemctl', 'stop', self.settings['service_name']]

    def start(self):
        """``systemctl start`` and prove the daemon then runs; ``error`` otherwise, after stopping
        what systemd may have left half up (the daemon was stopped before: it is stopped again).
        The runtime store's write when the daemon is stopped; the file was written before it."""
        if not self.starts_daemon():
            raise self.error('the %s daemon is not running and service_manager none starts nothing: start it '
                             '(it reads %s), then run the task again' % (self.name, self.file.file.path))
        argv = self.start_argv()
        self.run_checked(argv)
        if not self.started():
            self.run(self.stop_argv())
            raise self.error('%s started but the %s daemon does not run or serves nothing (see journalctl -u %s); '
                             'it was stopped again' % (' '.join(argv), self.name, self.settings['service_name']))
        self._running = True
        self.started_here = True

    def stop(self):
        """Undo of :meth:`start` (a rollback): the daemon was stopped before this run, so it is
        stopped again."""
        self.run_checked(self.stop_argv())
        self._running = False
