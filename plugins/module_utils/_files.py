# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Writing managed files safely: atomic replacement, a per-directory lock, byte-exact snapshots.

The mechanics only, no file syntax and no ownership rule: the networkd seam (``_networkd``), the
DHCPv6 daemon config files (``_dhcpv6._conffile``) and the pipex state files (``_pipex``) decide
what a file holds and whether it is theirs, and call these to put it on disk.

* :func:`atomic_write` writes a temporary file in the target's directory, syncs it, optionally
  lets a checker read it, renames it over the target and syncs the directory: a reader sees the
  old file or the new one, never a mix, and a failure leaves the old file and no temporary file.
* :func:`locked` holds the directory's lock file :data:`LOCK_NAME` (``flock``), re-entrant within
  a process, so every writer of a directory agrees on one lock whatever wrote it.
* :func:`snapshot` saves a set of paths (bytes, mode, owner and group, or absence) and returns a
  callable that puts them back exactly (and can be written down for another process to do so).

Symbolic links are never followed, read through or replaced: a managed path that is a link is an
error naming it. As root, following a link planted in a directory another user can write would
read or overwrite any file; replacing the link would silently undo how the admin laid out the
configuration.

Every function takes ``error``, the exception class it raises (with the path and the system's
words in the message), so each caller keeps raising its own error type.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import fcntl
import json
import os
import stat
import tempfile
import threading

from ansible_collections.edgenet.router.plugins.module_utils._poll import until

__all__ = ['LOCK_NAME', 'MANAGED_MARKER', 'FilesError', 'StoreError', 'atomic_write', 'fsync_directory', 'is_managed', 'is_ours', 'load',
           'load_json_object', 'locked', 'remove', 'snapshot', 'Snapshot']

LOCK_NAME = '.edgenet-router.lock'
# The first line of every file the collection manages: a file without it is someone else's, and is
# never changed or removed (networkd files, DHCPv6 daemon configs, pipex state files and unit).
MANAGED_MARKER = '# Managed by edgenet.router: edits here are reported as drift and overwritten.'


class FilesError(Exception):
    """The default ``error``: a file operation failed; the message names the path."""


class StoreError(Exception):
    """The base of what a store of files raises (systemd-networkd's, ifupdown's, NetworkManager's
    ``error``): one of its files or its manager's commands failed. A module catches this one class
    without importing every store (see ``_tunnel_persist``: only the chosen one is imported)."""


def is_managed(text):
    """True if ``text`` carries the marker line (anywhere, so a comment added above it by hand
    is drift to correct rather than a takeover of the file)."""
    return any(line.strip() == MANAGED_MARKER for line in text.split('\n'))


def is_ours(data):
    """:func:`is_managed` for a file's bytes (the ``ours`` test of :func:`snapshot`)."""
    return is_managed(data.decode('utf-8', 'replace'))


def _error(error, action, path, exc):
    return error('Cannot %s %s: %s' % (action, path, getattr(exc, 'strerror', None) or exc))


def _symlink_error(error, path):
    return error('Cannot use %s: it is a symbolic link, and edgenet.router never reads, writes or '
                 'replaces a managed file through a link; give the path of the real file' % path)


def _load(path, error):
    """``(bytes, stat)`` of the regular file ``path``, or None when it is absent."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _symlink_error(error, path)
        raise _error(error, 'read', path, exc)
    with os.fdopen(fd, 'rb') as handle:
        try:
            return handle.read(), os.fstat(handle.fileno())
        except OSError as exc:
            raise _error(error, 'read', path, exc)


def load(path, error=FilesError):
    """``(bytes, mode)`` of ``path`` (mode: permission bits), or ``None`` when it is absent.
    A symbolic link is an ``error`` (see the module's docstring)."""
    loaded = _load(path, error)
    return None if loaded is None else (loaded[0], loaded[1].st_mode & 0o7777)


def load_json_object(path, error=FilesError):
    """The JSON object in ``path`` (a daemon's state file, a record), or None when the file is
    absent, not JSON or not an object: callers check the fields they trust (a pid's owner) themselves.
    A symbolic link is an ``error``, as for :func:`load`."""
    loaded = _load(path, error)
    if loaded is None:
        return None
    try:
        value = json.loads(loaded[0].decode('utf-8'))
    except ValueError:   # UnicodeDecodeError and json's errors alike
        return None
    return value if isinstance(value, dict) else None


def fsync_directory(directory):
    """Make a rename or unlink in ``directory`` durable, not only the file's content."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, data, mode=0o644, validate=None, error=FilesError, owner=None):
    """Replace ``path`` by a file holding ``data`` (bytes) with permission bits ``mode``.

    The temporary file ``.<name>.XXXX.tmp`` is made in ``path``'s directory, written, given
    ``mode`` (not the umask's) and synced before the rename; the directory is synced after it.
    ``validate(tmp_path)``, when given, runs on the complete temporary file before the rename
    and raises to refuse it (its exception passes through). On any failure the old file is
    untouched and the temporary file is gone; OSErrors become ``error('Cannot write PATH: ...')``.
    ``owner`` is ``(uid, gid)``; without it a file that exists keeps its owner and group (a
    daemon's config may be group-readable by the daemon's user only), and a new file gets the
    writer's (the modules run as root). A symbolic link at ``path`` is an ``error``, not replaced.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        old = os.lstat(path)
    except OSError:
        old = None
    if old is not None and stat.S_ISLNK(old.st_mode):
        raise _symlink_error(error, path)
    if owner is None and old is not None:
        owner = (old.st_uid, old.st_gid)
    tmp = None
    try:
        try:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path), suffix='.tmp')
            with os.fdopen(fd, 'wb') as handle:
                if owner is not None and owner != (os.geteuid(), os.getegid()):
                    os.fchown(handle.fileno(), owner[0], owner[1])
                os.fchmod(handle.fileno(), mode)  # mkstemp makes 0600; after fchown, which clears set-id bits
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise _error(error, 'write', path, exc)
        if validate is not None:
            validate(tmp)
        try:
            os.replace(tmp, path)
            tmp = None
            fsync_directory(directory)
        except OSError as exc:
            raise _error(error, 'write', path, exc)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def remove(path, error=FilesError):
    """Unlink ``path`` and sync its directory; True if it was removed, False if it was absent."""
    try:
        os.unlink(path)
        fsync_directory(os.path.dirname(os.path.abspath(path)))
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _error(error, 'remove', path, exc)
    return True


# flock() locks belong to an open file description: a second open() of the lock file in this
# process would wait for itself. So each lock path is flocked once per process and counted.
# Keyed by pid too: a child forked while the parent holds the lock shares the parent's file
# description and must take the lock anew, not believe it already holds it.
_HELD = {}
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def locked(directory, timeout=60, error=FilesError):
    """Hold ``directory``'s exclusive lock (the file :data:`LOCK_NAME` in it, made 0644).

    Re-entrant within the process (any thread of it waits for the holding thread); another
    process waits up to ``timeout`` seconds, then ``error('Cannot lock ...')``. A missing
    directory is made with mode 0755.
    """
    directory = os.path.abspath(directory)
    lock_path = os.path.join(directory, LOCK_NAME)
    with _HELD_GUARD:
        state = _HELD.setdefault((os.getpid(), lock_path), {'thread': threading.RLock(), 'fd': None, 'depth': 0})
    with state['thread']:
        if not state['depth']:
            state['fd'] = _acquire(directory, lock_path, timeout, error)
        state['depth'] += 1
        try:
            yield
        finally:
            state['depth'] -= 1
            if not state['depth']:
                os.close(state['fd'])  # releases the flock
                state['fd'] = None


def _acquire(directory, lock_path, timeout, error):
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755, exist_ok=True)
            os.chmod(directory, 0o755)  # makedirs' mode is filtered by the umask
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o644)
    except OSError as exc:
        raise _error(error, 'create the lock file', lock_path, exc)
    failed = []

    def taken():
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            failed.append(exc)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            return False
    try:
        if until(taken, timeout):
            return fd
    except OSError:
        pass
    os.close(fd)
    raise error('Cannot lock %s (another run holding it for over %ss?): %s' % (lock_path, timeout, failed[-1].strerror))


def snapshot(paths, lock, ours=None, error=FilesError):
    """Save ``paths`` now; return a :class:`Snapshot`, the callable putting each back byte for
    byte (content, mode, owner and group, absence).

    ``lock`` is a callable returning the context manager to hold while saving and restoring
    (e.g. ``lambda: locked(directory)``). The restore skips a path that is already as saved, and
    is idempotent. ``ours(bytes)``, when given, guards it: a path whose current content fails it
    has become someone else's and is not touched (``error('Cannot restore ...')``).
    """
    paths = list(paths)
    with lock():
        saved = [(path, _saved(path, error)) for path in paths]
    return Snapshot(saved, lock, ours, error)


class Snapshot(object):
    """Saved paths and how to put them back (see :func:`snapshot`). ``record()`` is the same
    content as plain data (JSON-able) for a rollback that runs in another process (the
    commit-confirm timer); :meth:`from_record` turns it back into a Snapshot."""

    def __init__(self, saved, lock, ours=None, error=FilesError):
        self.saved = saved
        self.lock = lock
        self.ours = ours
        self.error = error

    def __call__(self):
        error = self.error
        with self.lock():
            for path, then in self.saved:
                now = _saved(path, error)
                if now == then:
                    continue
                if self.ours is not None and now is not None and not self.ours(now[0]):
                    raise error('Cannot restore %s: it was replaced by a file without the edgenet.router marker'
                                % path)
                if then is None:
                    remove(path, error)
                else:
                    atomic_write(path, then[0], then[1], error=error, owner=then[2])

    def record(self):
        return [[path, None if then is None else
                 {'data': base64.b64encode(then[0]).decode('ascii'), 'mode': then[1], 'owner': list(then[2])}]
                for path, then in self.saved]

    @classmethod
    def from_record(cls, record, directories, lock, ours=None, error=FilesError):
        """The Snapshot a :meth:`record` describes. Every path must name a file directly in one of
        ``directories`` (a path or a tuple of paths: the store's own): a record is data read from
        disk, and nothing read from disk chooses which file a root process writes."""
        if isinstance(directories, str):
            directories = (directories,)
        directories = tuple(os.path.normpath(directory) for directory in directories)
        saved = []
        try:
            for path, then in record:
                if os.path.dirname(path) not in directories or os.path.basename(path) in ('', '.', '..'):
                    raise error('Refusing to restore %r: it is not a file of %s' % (path, ' or '.join(directories)))
                if then is not None:
                    then = (base64.b64decode(then['data'], validate=True), int(then['mode']) & 0o7777,
                            (int(then['owner'][0]), int(then['owner'][1])))
                saved.append((path, then))
        except (TypeError, ValueError, KeyError, IndexError, binascii.Error) as exc:
            raise error('Refusing a malformed file record for %s: %s' % (' or '.join(directories), exc))
        return cls(saved, lock, ours, error)


def _saved(path, error):
    loaded = _load(path, error)
    if loaded is None:
        return None
    data, st = loaded
    return data, st.st_mode & 0o7777, (st.st_uid, st.st_gid)
