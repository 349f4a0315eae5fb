# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import multiprocessing
import os
import stat
import threading

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._files import (
    LOCK_NAME, FilesError, atomic_write, load, locked, remove, snapshot,
)

CTX = multiprocessing.get_context('fork')


class OwnError(Exception):
    pass


def listing(directory):
    return sorted(os.listdir(str(directory)))


def raw(path):
    """(bytes, mode) read without the module under test, or None."""
    if not os.path.exists(path):
        return None
    with open(path, 'rb') as handle:
        return handle.read(), stat.S_IMODE(os.stat(path).st_mode)


# --- atomic_write ----------------------------------------------------------------------------------
@pytest.mark.parametrize('mode', [0o644, 0o600, 0o755, 0o640])
def test_atomic_write_sets_mode_and_bytes_whatever_the_umask(tmp_path, mode):
    path = str(tmp_path / 'f.conf')
    old = os.umask(0o077)
    try:
        atomic_write(path, b'a\r\n\xff\0', mode)
    finally:
        os.umask(old)
    assert raw(path) == (b'a\r\n\xff\0', mode)
    assert load(path) == (b'a\r\n\xff\0', mode)
    assert listing(tmp_path) == ['f.conf']


def test_atomic_write_replaces_the_inode(tmp_path):
    path = str(tmp_path / 'f')
    atomic_write(path, b'one\n')
    before = os.stat(path).st_ino
    atomic_write(path, b'two\n', 0o600)
    assert raw(path) == (b'two\n', 0o600)
    assert os.stat(path).st_ino != before  # renamed over, never rewritten in place


def _fail_write(monkeypatch):
    real_fdopen = os.fdopen

    class Half(object):
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def fileno(self):
            return self.handle.fileno()

        def write(self, data):
            self.handle.write(data[:3])  # a partial temp file exists when the error strikes
            self.handle.flush()
            raise OSError(28, 'No space left on device')

    monkeypatch.setattr(_files.os, 'fdopen', lambda fd, *a, **k: Half(real_fdopen(fd, *a, **k)))


def _fail_rename(monkeypatch):
    def denied(src, dst):
        assert os.path.exists(src)
        raise PermissionError(13, 'Permission denied')
    monkeypatch.setattr(_files.os, 'replace', denied)


def _fail_validate(monkeypatch):
    return 'validate'


@pytest.mark.parametrize('how, message', [
    (_fail_write, 'Cannot write .*f.conf: No space left on device'),
    (_fail_rename, 'Cannot write .*f.conf: Permission denied'),
    (_fail_validate, 'checker said no'),
])
def test_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, how, message):
    path = str(tmp_path / 'f.conf')
    with open(path, 'wb') as handle:
        handle.write(b'old content\n')
    os.chmod(path, 0o640)
    seen = []

    def validate(tmp):
        seen.append(raw(tmp))
        raise OwnError('checker said no')
    use_validate = how(monkeypatch) == 'validate'
    with pytest.raises(OwnError, match=message):
        atomic_write(path, b'new content\n', 0o644, validate=validate if use_validate else None, error=OwnError)
    monkeypatch.undo()
    assert raw(path) == (b'old content\n', 0o640)
    assert listing(tmp_path) == ['f.conf']
    if use_validate:  # the checker saw the complete new file, with its final mode
        assert seen == [(b'new content\n', 0o644)]


def test_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    _fail_rename(monkeypatch)
    with pytest.raises(FilesError, match='Permission denied'):
        atomic_write(str(tmp_path / 'new'), b'x')
    monkeypatch.undo()
    assert listing(tmp_path) == []


def test_write_into_a_missing_directory_names_the_path(tmp_path):
    with pytest.raises(OwnError, match='Cannot write .*nodir/f: No such file or directory'):
        atomic_write(str(tmp_path / 'nodir' / 'f'), b'x', error=OwnError)


# --- load / remove ---------------------------------------------------------------------------------
def test_load_and_remove(tmp_path):
    path = str(tmp_path / 'f')
    assert load(path) is None
    assert not remove(path)
    atomic_write(path, b'x', 0o600)
    assert load(path) == (b'x', 0o600)
    assert remove(path)
    assert load(path) is None
    assert listing(tmp_path) == []


def test_errors_use_the_callers_class(tmp_path, monkeypatch):
    (tmp_path / 'file').write_text('')
    with pytest.raises(OwnError, match='Cannot read .*file/x: Not a directory'):
        load(str(tmp_path / 'file' / 'x'), OwnError)

    def erofs(path):
        raise OSError(30, 'Read-only file system')
    monkeypatch.setattr(_files.os, 'unlink', erofs)
    with pytest.raises(OwnError, match='Cannot remove .*file: Read-only file system'):
        remove(str(tmp_path / 'file'), OwnError)


# --- locked ----------------------------------------------------------------------------------------
def _try_lock(directory, queue):
    try:
        with locked(directory, timeout=0.2, error=OwnError):
            queue.put('locked')
    except OwnError as exc:
        queue.put(str(exc))


def test_lock_excludes_a_second_holder_and_is_reentrant(tmp_path):
    directory = str(tmp_path / 'new' / 'dir')
    queue = CTX.Queue()
    with locked(directory):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o755
        assert stat.S_IMODE(os.stat(os.path.join(directory, LOCK_NAME)).st_mode) == 0o644
        with locked(directory + '/'):  # same directory, same process: no self-deadlock
            child = CTX.Process(target=_try_lock, args=(directory, queue))
            child.start()
            answer = queue.get(timeout=10)
            child.join(10)
        assert answer.startswith('Cannot lock %s/%s' % (directory, LOCK_NAME))
        child = CTX.Process(target=_try_lock, args=(directory, queue))  # still held by the outer level
        child.start()
        assert 'Cannot lock' in queue.get(timeout=10)
        child.join(10)
    child = CTX.Process(target=_try_lock, args=(directory, queue))
    child.start()
    assert queue.get(timeout=10) == 'locked'
    child.join(10)
    assert listing(directory) == [LOCK_NAME]


def test_lock_makes_another_thread_wait(tmp_path):
    order = []

    def other():
        with locked(str(tmp_path)):
            order.append('other')
    with locked(str(tmp_path)):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive()  # waits for the holding thread
        order.append('holder')
    thread.join(10)
    assert order == ['holder', 'other']


def test_lock_in_a_directory_under_a_file(tmp_path):
    (tmp_path / 'file').write_text('')
    with pytest.raises(OwnError, match='Cannot create the lock file .*file/d/%s: Not a directory' % LOCK_NAME):
        with locked(str(tmp_path / 'file' / 'd'), error=OwnError):
            pass


# --- snapshot --------------------------------------------------------------------------------------
def test_snapshot_restores_bytes_modes_and_absence(tmp_path):
    kept, gone, absent = (str(tmp_path / n) for n in ('kept', 'gone', 'absent'))
    with open(kept, 'wb') as handle:
        handle.write(b'# odd\r\n\xff bytes \n')
    os.chmod(kept, 0o600)
    with open(gone, 'wb') as handle:
        handle.write(b'soon removed\n')
    os.chmod(gone, 0o751)
    saved = [raw(p) for p in (kept, gone, absent)]
    restore = snapshot([kept, gone, absent], lambda: locked(str(tmp_path)))
    atomic_write(kept, b'rewritten\n', 0o644)
    os.unlink(gone)
    atomic_write(absent, b'created\n')
    assert [raw(p) for p in (kept, gone, absent)] != saved
    restore()
    assert [raw(p) for p in (kept, gone, absent)] == saved
    assert saved[2] is None and not os.path.exists(absent)
    restore()  # idempotent
    assert [raw(p) for p in (kept, gone, absent)] == saved
    assert listing(tmp_path) == [LOCK_NAME, 'gone', 'kept']


def test_snapshot_leaves_an_unchanged_file_alone(tmp_path):
    path = str(tmp_path / 'f')
    atomic_write(path, b'same\n')
    inode = os.stat(path).st_ino
    snapshot([path], lambda: locked(str(tmp_path)))()
    assert os.stat(path).st_ino == inode


def test_snapshot_guard_refuses_a_file_that_became_foreign(tmp_path):
    path = str(tmp_path / 'f')
    restore = snapshot([path], lambda: locked(str(tmp_path)), ours=lambda data: data.startswith(b'#mine'),
                       error=OwnError)
    atomic_write(path, b'theirs\n')
    with pytest.raises(OwnError, match='Cannot restore .*f: it was replaced by a file without'):
        restore()
    assert raw(path) == (b'theirs\n', 0o644)
    atomic_write(path, b'#mine\n')
    restore()
    assert raw(path) is None


# --- owner, group and symbolic links ---------------------------------------------------------------
def test_rewrite_keeps_owner_and_group_and_restore_puts_them_back(tmp_path):
    path = str(tmp_path / 'kea.conf')
    atomic_write(path, b'one\n', 0o640)
    os.chown(path, 0, 101)  # root:<daemon group>, as Debian ships a daemon's config
    restore = snapshot([path], lambda: locked(str(tmp_path)))
    atomic_write(path, b'two\n', 0o640)
    assert (os.stat(path).st_uid, os.stat(path).st_gid) == (0, 101)
    os.chown(path, 0, 0)
    atomic_write(path, b'three\n', 0o600)
    restore()
    st = os.stat(path)
    assert (raw(path), st.st_uid, st.st_gid) == ((b'one\n', 0o640), 0, 101)


def test_a_symlink_is_never_read_written_or_replaced(tmp_path):
    victim = tmp_path / 'shadow'
    victim.write_bytes(b'secret\n')
    link = str(tmp_path / 'managed.conf')
    os.symlink(str(victim), link)
    with pytest.raises(OwnError, match='managed.conf: it is a symbolic link'):
        load(link, OwnError)
    with pytest.raises(OwnError, match='managed.conf: it is a symbolic link'):
        atomic_write(link, b'pwned\n', error=OwnError)
    with pytest.raises(OwnError, match='it is a symbolic link'):
        snapshot([link], lambda: locked(str(tmp_path)), error=OwnError)
    assert os.path.islink(link) and victim.read_bytes() == b'secret\n'
