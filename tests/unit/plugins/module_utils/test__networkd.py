# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import multiprocessing
import os
import stat

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.edgenet.router.plugins.module_utils import _networkd as networkd
from ansible_collections.edgenet.router.plugins.module_utils._networkd import (
    MANAGED_MARKER, NetworkdDir, NetworkdError, is_managed, parse, reload, render,
)

# --- render / parse tables -----------------------------------------------------------------------
RENDER_CASES = [
    ('empty', [], ''),
    ('one section', [('NetDev', [('Name', 'tun0'), ('Kind', 'ipip')])],
     '[NetDev]\nName=tun0\nKind=ipip\n'),
    ('repeated sections and keys', [
        ('Match', [('Name', 'tun0')]),
        ('Network', [('Address', '192.0.2.1/30'), ('Address', '2001:db8::1/64')]),
        ('Route', [('Destination', '10.0.0.0/8')]),
        ('Route', [('Destination', '172.16.0.0/12'), ('Metric', 10)]),
    ], '[Match]\nName=tun0\n\n[Network]\nAddress=192.0.2.1/30\nAddress=2001:db8::1/64\n\n'
       '[Route]\nDestination=10.0.0.0/8\n\n[Route]\nDestination=172.16.0.0/12\nMetric=10\n'),
    ('booleans, ints, None skipped', [('Tunnel', [('Independent', True), ('DiscoverPathMTU', False),
                                                  ('TTL', 0), ('Local', None)])],
     '[Tunnel]\nIndependent=yes\nDiscoverPathMTU=no\nTTL=0\n'),
    ('empty section', [('Match', [])], '[Match]\n'),
    ('empty value resets a list', [('Network', [('Address', '')])], '[Network]\nAddress=\n'),
    ('= and # inside a value', [('X', [('Key', 'a=b #c')])], '[X]\nKey=a=b #c\n'),
]


@pytest.mark.parametrize('sections, text', [c[1:] for c in RENDER_CASES], ids=[c[0] for c in RENDER_CASES])
def test_render(sections, text):
    assert render(sections) == text


def _stringified(sections):
    conv = {True: 'yes', False: 'no'}
    return [(name, [(k, conv[v] if isinstance(v, bool) else str(v)) for k, v in pairs if v is not None])
            for name, pairs in sections]


@pytest.mark.parametrize('sections, text', [c[1:] for c in RENDER_CASES], ids=[c[0] for c in RENDER_CASES])
def test_parse_reads_render_back(sections, text):
    assert parse(text) == _stringified(sections)


PARSE_CASES = [
    ('comments and blanks', '# hi\n; there\n\n[Match]\n  # indented comment\nName=tun0\n',
     [('Match', [('Name', 'tun0')])]),
    ('whitespace around key and value', '[A]\n  Key  =  some value \t\n', [('A', [('Key', 'some value')])]),
    ('split on the first =', '[A]\nKey=a=b\n', [('A', [('Key', 'a=b')])]),
    ('CRLF and BOM', '\ufeff[A]\r\nKey=v\r\n', [('A', [('Key', 'v')])]),
    ('continuation: the backslash becomes a space', '[A]\nKey=one \\\n  two\\\nthree\nNext=x\n', [('A', [('Key', 'one  two three'), ('Next', 'x')])]),
    ('comment inside a continuation', '[A]\nKey=one\\\n# skipped\ntwo\n', [('A', [('Key', 'one two')])]),
    ('blank line ends a continuation', '[A]\nKey=one\\\n\nNext=x\n', [('A', [('Key', 'one'), ('Next', 'x')])]),
    ('continuation at end of file', '[A]\nKey=one\\', [('A', [('Key', 'one')])]),
    ('marker is a comment', MANAGED_MARKER + '\n[A]\nK=v\n', [('A', [('K', 'v')])]),
]


@pytest.mark.parametrize('text, sections', [c[1:] for c in PARSE_CASES], ids=[c[0] for c in PARSE_CASES])
def test_parse(text, sections):
    assert parse(text) == sections


@pytest.mark.parametrize('text, line', [
    ('Key=value\n', 1),
    ('[A]\nK=v\njunk\n', 3),
])
def test_parse_errors_name_the_line(text, line):
    with pytest.raises(NetworkdError, match='line %d:' % line):
        parse(text)


@pytest.mark.parametrize('sections, match', [
    ([('A', [('K', 'a\nb')])], 'line break'),
    ([('A', [('K', 'a\rb')])], 'line break'),
    ([('A', [('K', 'a\0b')])], 'NUL'),
    ([('A', [('K', ' a')])], 'whitespace'),
    ([('A', [('K', 'a\t')])], 'whitespace'),
    ([('A', [('K', 'C:\\')])], 'backslash'),
    ([('A', [('K', ['a', 'b'])])], 'repeat the key'),
    ([('A', [('K', 1.5)])], 'str, int or bool'),
    ([('A', [('', 'v')])], 'key name'),
    ([('A', [('K K', 'v')])], 'key name'),
    ([('A', [('K=', 'v')])], 'key name'),
    ([('A', [('#K', 'v')])], 'key name'),
    ([('A', [(None, 'v')])], 'key name'),
    ([('A]', [])], 'section name'),
    ([('', [])], 'section name'),
    ([('A B', [])], 'section name'),
])
def test_render_refuses(sections, match):
    with pytest.raises(NetworkdError, match=match):
        render(sections)


WORDS = st.from_regex(r'[A-Za-z][A-Za-z0-9_.-]{0,12}', fullmatch=True)
ANY_TEXT = st.text(st.characters(exclude_categories=('Cs',)), max_size=16)
VALUES = ANY_TEXT.map(str.strip).filter(lambda v: not v.endswith('\\') and not any(c in v for c in '\r\n\0'))
SECTIONS = st.lists(st.tuples(WORDS, st.lists(st.tuples(WORDS, VALUES), max_size=5)), max_size=5)


@settings(max_examples=300, deadline=None)
@given(SECTIONS)
def test_round_trip(sections):
    assert parse(render(sections)) == sections


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(WORDS, st.lists(st.tuples(WORDS, ANY_TEXT | st.integers() | st.booleans()), max_size=4)),
                max_size=3))
def test_render_refuses_or_round_trips(sections):
    """Whatever the value, networkd either reads back exactly what was meant or render refuses."""
    try:
        text = render(sections)
    except NetworkdError:
        return
    assert parse(text) == _stringified(sections)


def test_is_managed():
    assert is_managed(MANAGED_MARKER + '\n[A]\n')
    assert is_managed('# added by hand\n' + MANAGED_MARKER + '\n')
    assert not is_managed('[A]\nK=v\n')
    assert not is_managed('# Managed by someone else\n')


# --- NetworkdDir ---------------------------------------------------------------------------------
NETDEV = '[NetDev]\nName=tun0\nKind=ipip\n'
NETWORK = '[Match]\nName=tun0\n'


@pytest.fixture
def ndir(tmp_path):
    return NetworkdDir(str(tmp_path / 'network'))


def listing(ndir):
    return sorted(os.listdir(ndir.directory))


def test_write_creates_directory_and_marked_files(ndir):
    assert ndir.write('tun0', {'netdev': NETDEV, 'network': NETWORK})
    assert stat.S_IMODE(os.stat(ndir.directory).st_mode) == 0o755
    assert listing(ndir) == ['.edgenet-router.lock', '60-edgenet-tun0.netdev', '60-edgenet-tun0.network']
    with open(ndir.path('tun0', 'netdev')) as handle:
        assert handle.read() == MANAGED_MARKER + '\n' + NETDEV
    assert stat.S_IMODE(os.stat(ndir.path('tun0', 'network')).st_mode) == 0o644
    assert ndir.read('tun0') == {'netdev': MANAGED_MARKER + '\n' + NETDEV, 'network': MANAGED_MARKER + '\n' + NETWORK}
    assert parse(ndir.read('tun0')['netdev']) == parse(NETDEV)


def test_identical_write_is_a_no_op(ndir):
    ndir.write('tun0', {'netdev': NETDEV, 'network': NETWORK})
    before = os.stat(ndir.path('tun0', 'netdev'))
    assert not ndir.write('tun0', {'netdev': NETDEV, 'network': MANAGED_MARKER + '\n' + NETWORK})
    after = os.stat(ndir.path('tun0', 'netdev'))
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_write_none_removes_and_missing_key_leaves_alone(ndir):
    ndir.write('tun0', {'netdev': NETDEV, 'network': NETWORK})
    assert ndir.write('tun0', {'network': None})
    assert ndir.read('tun0') == {'netdev': MANAGED_MARKER + '\n' + NETDEV, 'network': None}
    assert not ndir.write('tun0', {'network': None})
    assert ndir.remove('tun0')
    assert not ndir.remove('tun0')
    assert ndir.read_all() == {}
    assert listing(ndir) == ['.edgenet-router.lock']


def test_atomic_write_leaves_no_temp_files(ndir):
    for i in range(5):
        ndir.write('tun0', {'netdev': NETDEV + 'MTUBytes=%d\n' % (1400 + i), 'network': NETWORK})
    assert listing(ndir) == ['.edgenet-router.lock', '60-edgenet-tun0.netdev', '60-edgenet-tun0.network']


def test_write_renames_a_synced_temp_file_then_syncs_the_directory(ndir, monkeypatch):
    ndir.write('tun0', {'netdev': NETDEV})
    target = ndir.path('tun0', 'netdev')
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(('fsync', os.readlink('/proc/self/fd/%d' % fd)))
        real_fsync(fd)

    def replace(src, dst):
        with open(dst, 'rb') as handle:
            assert handle.read() == (MANAGED_MARKER + '\n' + NETDEV).encode()  # old content until the rename
        with open(src, 'rb') as handle:
            assert handle.read() == (MANAGED_MARKER + '\n' + NETDEV + 'MTUBytes=1400\n').encode()
        assert stat.S_IMODE(os.stat(src).st_mode) == 0o644
        assert os.path.dirname(src) == ndir.directory
        events.append(('replace', src))
        real_replace(src, dst)
    monkeypatch.setattr(networkd.os, 'fsync', fsync)
    monkeypatch.setattr(networkd.os, 'replace', replace)
    assert ndir.write('tun0', {'netdev': NETDEV + 'MTUBytes=1400\n'})
    tmp = events[1][1]
    assert events == [('fsync', tmp), ('replace', tmp), ('fsync', ndir.directory)]


def test_read_all_sees_managed_files_only(ndir):
    ndir.write('tun0', {'netdev': NETDEV})
    ndir.write('v6.tun', {'network': NETWORK})
    for name, text in [('60-edgenet-foreign.netdev', NETDEV), ('10-other.netdev', MANAGED_MARKER + '\n'),
                       ('60-edgenet-tun0.link', MANAGED_MARKER + '\n'), ('60-edgenet-.netdev', MANAGED_MARKER + '\n')]:
        with open(os.path.join(ndir.directory, name), 'w') as handle:
            handle.write(text)
    assert ndir.read_all() == {
        'tun0': {'netdev': MANAGED_MARKER + '\n' + NETDEV, 'network': None},
        'v6.tun': {'netdev': None, 'network': MANAGED_MARKER + '\n' + NETWORK},
    }
    assert ndir.read('foreign') == {'netdev': None, 'network': None}


def test_read_all_of_missing_directory(ndir):
    assert ndir.read_all() == {}
    assert not os.path.exists(ndir.directory)


def test_foreign_file_is_never_overwritten_or_removed(ndir):
    os.makedirs(ndir.directory)
    foreign = ndir.path('tun0', 'network')
    with open(foreign, 'w') as handle:
        handle.write(NETWORK)
    with pytest.raises(NetworkdError, match='Refusing to overwrite %s' % foreign):
        ndir.write('tun0', {'netdev': NETDEV, 'network': NETWORK})
    assert not os.path.exists(ndir.path('tun0', 'netdev'))  # refused before writing anything
    assert not ndir.write('tun0', {'network': None})
    assert not ndir.remove('tun0')
    with open(foreign) as handle:
        assert handle.read() == NETWORK
    assert ndir.foreign('tun0') == [foreign]
    assert ndir.foreign('tun1') == []


def test_invalid_names(ndir):
    for name in ('', '../x', '.hidden', 'a\0b'):
        with pytest.raises(NetworkdError):
            ndir.write(name, {'netdev': NETDEV})
    with pytest.raises(NetworkdError, match='link'):
        ndir.write('tun0', {'link': '[Match]\n'})


def _raw_state(ndir, name):
    out = {}
    for ext in networkd.EXTENSIONS:
        path = ndir.path(name, ext)
        if os.path.exists(path):
            with open(path, 'rb') as handle:
                out[ext] = (handle.read(), stat.S_IMODE(os.stat(path).st_mode))
        else:
            out[ext] = None
    return out


def test_snapshot_restores_bytes_mode_and_absence(ndir):
    os.makedirs(ndir.directory)
    # A managed file with odd bytes and mode: restored exactly, not re-rendered.
    with open(ndir.path('tun0', 'netdev'), 'wb') as handle:
        handle.write(b'# hand edit\r\n' + MANAGED_MARKER.encode() + b'\n[NetDev]\nName=tun0 \xff\n')
    os.chmod(ndir.path('tun0', 'netdev'), 0o600)
    saved = _raw_state(ndir, 'tun0')
    restore = ndir.snapshot('tun0')
    ndir.write('tun0', {'netdev': NETDEV, 'network': NETWORK})
    assert _raw_state(ndir, 'tun0') != saved
    restore()
    assert _raw_state(ndir, 'tun0') == saved
    restore()  # idempotent
    assert _raw_state(ndir, 'tun0') == saved
    assert listing(ndir) == ['.edgenet-router.lock', '60-edgenet-tun0.netdev']


def test_snapshot_of_absent_object(ndir):
    restore = ndir.snapshot('tun0')
    ndir.write('tun0', {'netdev': NETDEV, 'network': NETWORK})
    restore()
    assert _raw_state(ndir, 'tun0') == {'netdev': None, 'network': None}


def test_snapshot_restore_never_touches_a_foreign_file(ndir):
    restore = ndir.snapshot('tun0')
    with open(ndir.path('tun0', 'netdev'), 'w') as handle:
        handle.write(NETDEV)
    with pytest.raises(NetworkdError, match='without the edgenet.router marker'):
        restore()
    assert _raw_state(ndir, 'tun0')['netdev'][0] == NETDEV.encode()


# --- errors --------------------------------------------------------------------------------------
def test_permission_denied_on_rename(ndir, monkeypatch):
    ndir.write('tun0', {'netdev': NETDEV})

    def denied(src, dst):
        raise PermissionError(13, 'Permission denied')
    monkeypatch.setattr(networkd.os, 'replace', denied)
    with pytest.raises(NetworkdError, match='Cannot write %s: Permission denied' % ndir.path('tun0', 'netdev')):
        ndir.write('tun0', {'netdev': NETDEV + 'MTUBytes=1400\n'})
    monkeypatch.undo()
    assert listing(ndir) == ['.edgenet-router.lock', '60-edgenet-tun0.netdev']
    assert ndir.read('tun0')['netdev'] == MANAGED_MARKER + '\n' + NETDEV


def test_read_only_file_system_on_remove(ndir, monkeypatch):
    ndir.write('tun0', {'netdev': NETDEV})

    def erofs(path):
        raise OSError(30, 'Read-only file system')
    monkeypatch.setattr(networkd.os, 'unlink', erofs)
    with pytest.raises(NetworkdError, match='Cannot remove .*60-edgenet-tun0.netdev: Read-only file system'):
        ndir.remove('tun0')


def test_directory_under_a_file(tmp_path):
    (tmp_path / 'file').write_text('')
    ndir = NetworkdDir(str(tmp_path / 'file' / 'network'))
    with pytest.raises(NetworkdError, match='Cannot create the lock file .*file/network/.edgenet-router.lock: Not a directory'):
        ndir.write('tun0', {'netdev': NETDEV})
    with pytest.raises(NetworkdError, match='Cannot list .*file/network: Not a directory'):
        ndir.read_all()


def test_unreadable_file(ndir, monkeypatch):
    ndir.write('tun0', {'netdev': NETDEV})
    real_open = os.open

    def fake_open(path, *args, **kwargs):
        if str(path).endswith('.netdev'):
            raise PermissionError(13, 'Permission denied')
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(os, 'open', fake_open)
    with pytest.raises(NetworkdError, match='Cannot read .*tun0.netdev: Permission denied'):
        ndir.read_all()


# --- locking -------------------------------------------------------------------------------------
CTX = multiprocessing.get_context('fork')


def _try_lock(directory, queue):
    try:
        with NetworkdDir(directory, lock_timeout=0.2).locked():
            queue.put('locked')
    except NetworkdError as exc:
        queue.put(str(exc))


def test_lock_is_reentrant_and_excludes_other_processes(ndir):
    with ndir.locked():
        with NetworkdDir(ndir.directory).locked():  # same directory, same process: no self-deadlock
            ndir.write('tun0', {'netdev': NETDEV})
            queue = CTX.Queue()
            child = CTX.Process(target=_try_lock, args=(ndir.directory, queue))
            child.start()
            assert 'Cannot lock' in queue.get(timeout=10)
            child.join(10)
    child = CTX.Process(target=_try_lock, args=(ndir.directory, queue))
    child.start()
    assert queue.get(timeout=10) == 'locked'
    child.join(10)


def _content(writer, i):
    # Big enough that a non-atomic write would be seen half-done.
    return '[NetDev]\nName=shared\n' + ''.join('Description=%s-%d-%d\n' % (writer, i, n) for n in range(400))


def _writer(directory, writer, rounds):
    ndir = NetworkdDir(directory)
    for i in range(rounds):
        ndir.write('%s-%d' % (writer, i), {'netdev': NETDEV, 'network': NETWORK})
        ndir.write('shared', {'netdev': _content(writer, i), 'network': NETWORK})


def _reader(directory, stop, queue):
    ndir = NetworkdDir(directory)
    bad = seen = 0
    while not stop.is_set():
        text = ndir.read('shared')['netdev']
        if text is not None:
            seen += 1
            try:
                complete = len(parse(text)[0][1]) == 401 and text.endswith('-399\n')
            except NetworkdError:
                complete = False
            bad += not complete
    queue.put((seen, bad))


def test_concurrent_writers_lose_nothing_and_never_half_write(ndir):
    rounds = 30
    stop, queue = CTX.Event(), CTX.Queue()
    reader = CTX.Process(target=_reader, args=(ndir.directory, stop, queue))
    writers = [CTX.Process(target=_writer, args=(ndir.directory, w, rounds)) for w in ('a', 'b')]
    reader.start()
    for proc in writers:
        proc.start()
    for proc in writers:
        proc.join(60)
        assert proc.exitcode == 0
    stop.set()
    seen, bad = queue.get(timeout=30)
    reader.join(10)
    assert bad == 0 and seen > 0
    found = ndir.read_all()
    assert sorted(found) == sorted(['shared'] + ['%s-%d' % (w, i) for w in 'ab' for i in range(rounds)])
    assert found['shared']['netdev'] in (MANAGED_MARKER + '\n' + _content(w, rounds - 1) for w in 'ab')
    assert [e for e in listing(ndir) if e.endswith('.tmp')] == []


# --- reload --------------------------------------------------------------------------------------
class FakeRun(object):

    def __init__(self, results):
        self.results = dict(results)
        self.calls = []

    def __call__(self, args):
        self.calls.append(args[0] + ' ' + args[1])
        return self.results.get(args[0], (0, '', ''))


def test_reload_skipped_when_networkd_never_ran(tmp_path):
    run = FakeRun({})
    assert not reload(run, state_dir=str(tmp_path / 'netif'))
    assert run.calls == []


def test_reload_skipped_when_networkd_stopped(tmp_path):
    run = FakeRun({'systemctl': (3, '', '')})
    assert not reload(run, state_dir=str(tmp_path))
    assert run.calls == ['systemctl is-active']


def test_reload(tmp_path):
    run = FakeRun({})
    assert reload(run, state_dir=str(tmp_path))
    assert run.calls == ['systemctl is-active', 'networkctl reload']


def test_reload_failure_carries_stderr(tmp_path):
    run = FakeRun({'networkctl': (1, '', 'Failed to reload network settings: Access denied\n')})
    with pytest.raises(NetworkdError, match=r'networkctl reload failed \(rc=1\): Failed to reload network settings: Access denied$'):
        reload(run, state_dir=str(tmp_path))
