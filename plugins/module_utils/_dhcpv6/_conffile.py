# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""One daemon configuration file: locked, validated, atomic replacement, byte-exact snapshots.

The same contract as the networkd seam (``_networkd.py``) for a single file of any syntax: the
file carries :data:`MANAGED_MARKER` (shared with networkd files); a file without it is someone
else's and is never replaced. A new version is written to a temporary file next to the target,
checked by the daemon's own checker, and only then renamed over the live file, so a rejected
config leaves the previous file untouched.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import threading
import time

from ansible_collections.edgenet.router.plugins.module_utils._networkd import MANAGED_MARKER, is_managed

__all__ = ['ConfigFile', 'ConfigFileError', 'MANAGED_MARKER', 'is_managed']

_HELD = {}
_HELD_GUARD = threading.Lock()


class ConfigFileError(Exception):
    """A file operation or validation failed; the message names the path or the checker's words."""


def _error(action, path, exc):
    return ConfigFileError('Cannot %s %s: %s' % (action, path, getattr(exc, 'strerror', None) or exc))


class ConfigFile(object):
    """A daemon config file at ``path``; the lock lives in its directory (``.edgenet-router.lock``,
    the name networkd directories use, so any writer of the directory agrees on it)."""

    def __init__(self, path, lock_timeout=60):
        self.path = os.path.abspath(path)
        self.directory = os.path.dirname(self.path)
        self.lock_path = os.path.join(self.directory, '.edgenet-router.lock')
        self.lock_timeout = lock_timeout

    def load(self):
        """``(bytes, mode)`` or ``None`` when the file is absent."""
        try:
            with open(self.path, 'rb') as handle:
                return handle.read(), os.fstat(handle.fileno()).st_mode & 0o7777
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _error('read', self.path, exc)

    def text(self):
        """The file's text, or ``None`` when absent."""
        loaded = self.load()
        return None if loaded is None else loaded[0].decode('utf-8', 'replace')

    def foreign(self):
        """True when the file exists without the marker: someone else's, left alone."""
        text = self.text()
        return text is not None and not is_managed(text)

    @contextlib.contextmanager
    def locked(self):
        """Hold the directory's exclusive lock; re-entrant within this process."""
        with _HELD_GUARD:
            state = _HELD.setdefault((os.getpid(), self.lock_path), {'thread': threading.RLock(), 'fd': None, 'depth': 0})
        with state['thread']:
            if not state['depth']:
                state['fd'] = self._acquire()
            state['depth'] += 1
            try:
                yield
            finally:
                state['depth'] -= 1
                if not state['depth']:
                    os.close(state['fd'])
                    state['fd'] = None

    def _acquire(self):
        try:
            os.makedirs(self.directory, 0o755, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o644)
        except OSError as exc:
            raise _error('create the lock file', self.lock_path, exc)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    os.close(fd)
                    raise ConfigFileError('Cannot lock %s (another run holding it for over %ss?): %s'
                                          % (self.lock_path, self.lock_timeout, exc.strerror))
                time.sleep(0.05)

    def _fsync_directory(self):
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def replace(self, data, validate=None, mode=0o644):
        """Make the file hold ``data`` (bytes that already carry the marker).

        ``validate(tmp_path)`` runs on the complete temporary file before the rename and raises
        to refuse it; the live file is then untouched. Returns True if the file changed.
        """
        with self.locked():
            loaded = self.load()
            if loaded is not None and not is_managed(loaded[0].decode('utf-8', 'replace')):
                raise ConfigFileError('Refusing to overwrite %s: it lacks the line "%s", so it is not ours. Move '
                                      'it aside (e.g. to %s.dist) or choose another config file.'
                                      % (self.path, MANAGED_MARKER, self.path))
            if loaded is not None and loaded[0] == data:
                return False
            self._write(data, loaded[1] if loaded is not None else mode, validate)
            return True

    def _write(self, data, mode, validate=None):
        tmp = None
        try:
            try:
                fd, tmp = tempfile.mkstemp(dir=self.directory, prefix='.%s.' % os.path.basename(self.path),
                                           suffix='.tmp')
                with os.fdopen(fd, 'wb') as handle:
                    os.fchmod(handle.fileno(), mode)
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise _error('write', self.path, exc)
            if validate is not None:
                validate(tmp)
            try:
                os.replace(tmp, self.path)
                tmp = None
                self._fsync_directory()
            except OSError as exc:
                raise _error('write', self.path, exc)
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def remove(self):
        """Remove the file if it is ours; True if removed."""
        with self.locked():
            loaded = self.load()
            if loaded is None or not is_managed(loaded[0].decode('utf-8', 'replace')):
                return False
            try:
                os.unlink(self.path)
                self._fsync_directory()
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise _error('remove', self.path, exc)
            return True

    def snapshot(self):
        """A callable putting the file back byte for byte (content, mode, absence); it never
        touches a file that has meanwhile become someone else's."""
        with self.locked():
            saved = self.load()

        def restore():
            with self.locked():
                now = self.load()
                if now == saved:
                    return
                if now is not None and not is_managed(now[0].decode('utf-8', 'replace')):
                    raise ConfigFileError('Cannot restore %s: it was replaced by a file without the '
                                          'edgenet.router marker' % self.path)
                if saved is None:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.path)
                        self._fsync_directory()
                else:
                    self._write(saved[0], saved[1])
        return restore
