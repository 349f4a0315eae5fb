# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""A daemon behind a pid file, read from ``/proc``; and whether it may be signalled.

The pid file usually lives in a directory the daemon's own user owns (Debian's ``/run/dnsmasq``
belongs to ``dnsmasq``), so its content is not trusted: it is a hint where to look. Nothing read
here (a command line, a pid) is ever executed; a process is signalled only after
:func:`check_identity` proved it runs the binary the module resolved itself, under root or the
daemon's own user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import time

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._names import quoted
from ansible_collections.edgenet.router.plugins.module_utils._poll import until

__all__ = ['Process', 'StateDir', 'check_identity', 'daemon_uids', 'read_text', 'resolve_binary', 'runs_with_tail', 'wait']


def runs_with_tail(pid, tail, proc='/proc'):
    """True when process ``pid``'s command line ends in the words ``tail`` with something before
    them (the interpreter that runs one of the collection's own daemons: ``python3 -I PROGRAM
    ...``). Read, never run; a state file's pid is trusted only this way."""
    try:
        with open(os.path.join(proc, str(int(pid)), 'cmdline'), 'rb') as handle:
            argv = handle.read().split(b'\0')[:-1]
    except (OSError, ValueError):
        return False
    return len(argv) > len(tail) and [word.decode('utf-8', 'replace') for word in argv[-len(tail):]] == list(tail)


def read_text(path, limit=-1):
    """The text of the regular file ``path`` (at most ``limit`` bytes), or None (absent,
    unreadable, not UTF-8, not a regular file).

    The paths come from pid files and command lines the daemon's user may write. The file is
    first opened with ``O_PATH``, which opens no device and blocks on no FIFO, and read only if it
    is a regular file, reopened through ``/proc/self/fd`` (the very inode checked, no race):
    opening a planted ``/dev/watchdog`` as root would arm it, a FIFO would hang the module,
    ``/dev/zero`` would fill its memory. (procfs files are regular files.)"""
    cloexec = getattr(os, 'O_CLOEXEC', 0)
    try:
        handle_fd = os.open(path, os.O_PATH | cloexec)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(handle_fd).st_mode):
            return None
        fd = os.open('/proc/self/fd/%d' % handle_fd, os.O_RDONLY | os.O_NONBLOCK | cloexec)
    except OSError:
        return None
    finally:
        os.close(handle_fd)
    try:
        with os.fdopen(fd, 'rb') as handle:
            return handle.read(limit).decode('utf-8')
    except (OSError, UnicodeDecodeError):
        return None


def resolve_binary(binary):
    """An absolute path for ``binary``: the process check compares the running executable with
    it, and a start runs exactly it (no PATH lookup when it runs)."""
    if os.path.isabs(binary):
        return binary
    path = os.environ.get('PATH', os.defpath) + os.pathsep + os.pathsep.join(('/usr/sbin', '/sbin'))
    return shutil.which(binary, path=path) or binary


def wait(condition, seconds):
    """Poll ``condition()`` every 50 ms for up to ``seconds``; True once it holds (``_poll.until``)."""
    return until(condition, seconds)


def daemon_uids(names):
    """Root and the uids of the users in ``names`` that exist on this host."""
    uids = {0}
    for name in names:
        try:
            uids.add(pwd.getpwnam(name).pw_uid)
        except KeyError:
            pass
    return uids


class Process(object):
    """The process behind a pid file whose ``comm`` is ``name``, read from /proc (``root`` is for tests)."""

    def __init__(self, pid_file, root='/proc', name='dnsmasq'):
        self.pid_file = pid_file
        self.root = root
        self.name = name

    def _path(self, pid, what):
        return os.path.join(self.root, str(pid), what)

    def pid(self):
        """The pid of a live process called ``name`` that the pid file names, else None (a stale
        pid file whose number now belongs to another program reads as "not running")."""
        text = read_text(self.pid_file, 64)
        try:
            pid = int((text or '').strip())
        except ValueError:
            return None
        if pid <= 0:
            return None
        comm = read_text(self._path(pid, 'comm'))
        stat_ = read_text(self._path(pid, 'stat')) or ''
        if comm is None or comm.strip() != self.name or stat_.rsplit(')', 1)[-1].split()[:1] == ['Z']:
            return None
        return pid

    def argv(self, pid):
        """The command line, to look at only (what it loads, how it runs): never to run."""
        try:
            with open(self._path(pid, 'cmdline'), 'rb') as handle:
                data = handle.read()
        except OSError:
            return None
        return [a.decode('utf-8', 'surrogateescape') for a in data.split(b'\0') if a]

    def exe(self, pid):
        """``(link text, stat of the executable)`` of ``/proc/PID/exe``; either may be None."""
        link = self._path(pid, 'exe')
        try:
            target = os.readlink(link)
        except OSError:
            target = None
        try:
            # stat() through the magic link reaches the very file the process runs, even unlinked.
            st = os.stat(link)
        except OSError:
            st = None
        return target, st

    def real_uid(self, pid):
        for line in (read_text(self._path(pid, 'status')) or '').splitlines():
            if line.startswith('Uid:'):
                try:
                    return int(line.split()[1])
                except (IndexError, ValueError):
                    return None
        return None

    def start_ticks(self, pid):
        text = read_text(self._path(pid, 'stat'))
        if not text:
            return None
        # The name field may hold spaces and parentheses: split after the last ')'.
        try:
            return int(text.rsplit(')', 1)[1].split()[19])
        except (IndexError, ValueError):
            return None

    def start_wall(self, pid):
        """Wall-clock time the process started (10 ms resolution), or None."""
        ticks = self.start_ticks(pid)
        uptime = read_text(os.path.join(self.root, 'uptime'))
        if ticks is None or not uptime:
            return None
        boot = time.time() - float(uptime.split()[0])
        return boot + ticks / float(os.sysconf('SC_CLK_TCK'))

    def netns_inode(self, pid):
        try:
            return os.stat(self._path(pid, os.path.join('ns', 'net'))).st_ino
        except OSError:
            return None


def check_identity(process, pid, binary, uids, error, users=''):
    """Raise ``error`` unless process ``pid`` runs ``binary`` (an absolute path) with a real uid
    in ``uids``.

    The executable is compared by identity (device and inode through ``/proc/PID/exe``), not by
    the path text, which another mount namespace could fake. After a package upgrade the running
    daemon's executable is the unlinked old binary: the kernel then shows ``PATH (deleted)``. That
    one is accepted when PATH is the binary's own real path and the unlinked file has the
    binary's owner: only root can unlink a file in the binary's directory, and a file another
    user made (even mounted at that path in a namespace of theirs) keeps that user as its owner.
    Accepting it is needed (the first run after an upgrade is when a restart is wanted) and
    bounded: all the module ever does with the process is send it SIGTERM; what it starts next
    is its own command line.
    """
    where = '%s (pid %d from %s)' % (process.name, pid, process.pid_file)
    try:
        want = os.stat(binary)
    except OSError as exc:
        raise error('Cannot check %s: the binary %s: %s' % (where, binary, exc.strerror))
    target, st = process.exe(pid)
    same = st is not None and (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino)
    upgraded = (target == os.path.realpath(binary) + ' (deleted)' and st is not None and st.st_uid == want.st_uid)
    if not (same or upgraded):
        raise error('%s does not run %s (its executable is %s): not touching it. A stale or planted pid file? '
                    'Stop that process yourself or point pid_file at the daemon this task manages'
                    % (where, binary, quoted(target, 200) if target else 'unreadable'))
    uid = process.real_uid(pid)
    if uid not in uids:
        raise error('%s runs as uid %s, neither root nor the daemon user (%s): not touching it. Point pid_file '
                    'at the daemon this task manages' % (where, uid, users or 'none known'))


def _dir_problem(path):
    """Why ``path`` is no place for root's state (None when it is fine)."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return exc.strerror
    if not stat.S_ISDIR(st.st_mode):
        return 'not a directory (or a symbolic link)'
    if st.st_uid != os.geteuid():
        return 'owned by uid %d' % st.st_uid
    if st.st_mode & 0o022:
        return 'writable by group or others (mode %04o)' % (st.st_mode & 0o7777)
    return None


class StateDir(object):
    """A directory for state the module must trust (what it started a daemon with): it and its
    parent belong to the module's user (root) and nobody else can write them, so no one else can
    plant a symlink or a forged file there. Made on first write (0700, the parent 0755)."""

    def __init__(self, path, error):
        self.path = os.path.abspath(path)
        self.error = error

    def problem(self):
        """None when the directory exists and is safe; else why not."""
        for path in (os.path.dirname(self.path), self.path):
            problem = _dir_problem(path)
            if problem is not None:
                return '%s: %s' % (path, problem)
        return None

    @contextlib.contextmanager
    def locked(self):
        """Hold the directory's lock (``_files.locked``), making the directory first."""
        for path, mode in ((os.path.dirname(self.path), 0o755), (self.path, 0o700)):
            try:
                os.mkdir(path, mode)
            except FileExistsError:
                pass
            except OSError as exc:
                raise self.error('Cannot create %s: %s' % (path, exc.strerror))
        problem = self.problem()
        if problem is not None:
            raise self.error('Refusing to keep state in %s: %s (it must be a directory only root can write)'
                             % (self.path, problem))
        with _files.locked(self.path, error=self.error):
            yield
