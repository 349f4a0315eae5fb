# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The dnsmasq backend against planted pid files and records (issue 12), on a fake /proc tree.

The pid file and its directory belong to the dnsmasq user: nothing named there may be executed,
signalled unless it is our binary under root or the daemon user, or written through.
"""

from __future__ import annotations

import json
import os
import threading

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _dnsmasq, _process
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service import run_dhcpv6
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils._dhcpv6.test_dnsmasq import (
    ADDRS, STATEFUL, Router, fake_binary,
)

PID = 4242


class ProcTree(object):
    """A /proc with dnsmasq processes in it, the pid file naming one, and a fake ``kill`` and start."""

    def __init__(self, tmp_path, monkeypatch):
        self.tmp = str(tmp_path)
        self.root = os.path.join(self.tmp, 'proc')
        os.makedirs(self.root)
        with open(os.path.join(self.root, 'uptime'), 'w') as handle:
            handle.write('1000.00 10.00\n')
        self.binary = fake_binary(tmp_path)
        self.piddir = os.path.join(self.tmp, 'run-dnsmasq')   # the daemon user's directory
        os.makedirs(self.piddir)
        self.pid_file = os.path.join(self.piddir, 'dnsmasq.pid')
        self.router = Router(tmp_path)
        self.killed = []
        self.started = []
        self.next_pid = 5000
        self.proc = _dnsmasq.Process(self.pid_file, root=self.root)
        self.netns = os.path.join(self.tmp, 'netns-of-the-module')   # every process here shares it
        open(self.netns, 'w').close()
        monkeypatch.setattr(_dnsmasq.os, 'kill', self.kill)

    def add(self, pid, exe, uid=0, argv=None, ticks=777):
        directory = os.path.join(self.root, str(pid))
        os.makedirs(os.path.join(directory, 'ns'))
        argv = argv or [exe, '--conf-file=%s' % self.router.conf, '--port=0']
        files = {'comm': 'dnsmasq\n', 'stat': '%d (dnsmasq) %s\n' % (pid, ' '.join(['S'] + ['1'] * 18 + [str(ticks)])),
                 'cmdline': '\0'.join(argv) + '\0', 'status': 'Name:\tdnsmasq\nUid:\t%d\t%d\t%d\t%d\n' % ((uid,) * 4)}
        for name, text in files.items():
            with open(os.path.join(directory, name), 'w') as handle:
                handle.write(text)
        os.symlink(exe, os.path.join(directory, 'exe'))
        os.link(self.netns, os.path.join(directory, 'ns', 'net'))
        with open(self.pid_file, 'w') as handle:
            handle.write('%d\n' % pid)

    def netns_inode(self):
        return os.stat(self.netns).st_ino

    def kill(self, pid, sig):
        self.killed.append(pid)
        os.unlink(self.pid_file)    # dnsmasq removes its pid file as it exits

    def run_command(self, argv):
        self.router.calls.append(argv)
        if argv[1:2] == ['--test']:
            return 0, '', ''
        self.started.append(argv)
        if argv[0] == self.binary:   # our own start: a new daemon running our binary
            self.next_pid += 1
            self.add(self.next_pid, self.binary)
        return 0, '', ''

    def backend(self, **kwargs):
        params = self.router.params(pid_file=self.pid_file, **kwargs)
        return _dnsmasq.Backend(params, self.run_command, binary=self.binary, process=self.proc,
                                netns_inode=self.netns_inode(), state_dir=os.path.join(self.tmp, 'state'))

    def run(self, check_mode=False, **kwargs):
        params = self.router.params(pid_file=self.pid_file, **kwargs)
        return run_dhcpv6(params, self.backend(**kwargs), check_mode, ADDRS)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    return ProcTree(tmp_path, monkeypatch)


def _evil(tree, name='dnsmasq'):
    """A script the dnsmasq user could write and name its process after."""
    directory = os.path.join(tree.piddir, 'evil')
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, 'w') as handle:
        handle.write('#!/bin/sh\ntouch /tmp/pwned\n')
    os.chmod(path, 0o755)
    return path


# ---- hole 1: the pid file's process is never executed, and signalled only when it is ours -----
def test_planted_script_named_dnsmasq_is_neither_signalled_nor_run(tree):
    evil = _evil(tree)
    tree.add(PID, evil, argv=[evil, '--conf-file=%s' % tree.router.conf])
    words = r"pid %d from .* does not run %s \(its executable is '%s'\): not touching it" % (PID, tree.binary, evil)
    with pytest.raises(_dnsmasq.DnsmasqError, match=words):
        tree.run(**STATEFUL)
    assert tree.killed == [] and tree.started == []
    assert not any(evil in ' '.join(argv) for argv in tree.router.calls)


@pytest.mark.parametrize('case, accepted', [
    ('our binary as root', True),
    ('our binary as nobody', True),
    ('our binary unlinked by an upgrade', True),
    ('our binary as another user', False),
    ('a copy of the binary elsewhere', False),
    ('an unlinked file under our name, not root\'s', False),
])
def test_process_is_signalled_only_when_it_runs_our_binary_as_root_or_the_daemon_user(tree, case, accepted):
    exe, uid = tree.binary, 0
    if case == 'our binary as nobody':
        uid = 65534
    elif case == 'our binary unlinked by an upgrade':
        exe = os.path.realpath(tree.binary) + ' (deleted)'
        with open(exe, 'w') as handle:   # /proc/PID/exe still reaches the old file
            handle.write('old\n')
    elif case == 'our binary as another user':
        uid = 1234
    elif case == 'a copy of the binary elsewhere':
        exe = _evil(tree)
    elif case == 'an unlinked file under our name, not root\'s':
        exe = os.path.realpath(tree.binary) + ' (deleted)'
        with open(exe, 'w') as handle:
            handle.write('theirs\n')
        os.chown(exe, 1234, 1234)
    tree.add(PID, exe, uid=uid, argv=[exe, '--conf-file=%s' % tree.router.conf, '--evil-option'])
    uids = {0, 65534}
    if accepted:
        backend = tree.backend()
        backend.uids = uids
        res = run_dhcpv6(tree.router.params(pid_file=tree.pid_file, **STATEFUL), backend, False, ADDRS)
        assert res['changed'] and tree.killed == [PID]
        # Started from the module's own argument vector, never the one read from /proc.
        assert tree.started == [[tree.binary, '--conf-file=%s' % tree.router.conf, '--port=0',
                                 '--pid-file=%s' % tree.pid_file, '--dhcp-leasefile=%s' % tree.router.params()['lease_file']]]
    else:
        with pytest.raises(_dnsmasq.DnsmasqError, match='not touching it'):
            tree.run(**STATEFUL)
        assert tree.killed == [] and tree.started == []


def test_commands_show_the_modules_own_command_line(tree):
    tree.add(PID, tree.binary, argv=[tree.binary, '--conf-file=%s' % tree.router.conf, '--dhcp-script=/tmp/x'])
    backend = tree.backend(netns='srv1')
    res = run_dhcpv6(tree.router.params(pid_file=tree.pid_file, netns='srv1', **STATEFUL), backend, True, ADDRS)
    restart = [c for c in res['commands'] if c.startswith('kill -TERM')]
    assert restart == ['kill -TERM $(cat %s) && ip netns exec srv1 %s --conf-file=%s --port=0 --pid-file=%s '
                       '--dhcp-leasefile=%s' % (tree.pid_file, tree.binary, tree.router.conf, tree.pid_file,
                                                tree.router.params()['lease_file'])]
    assert '--dhcp-script' not in ' '.join(res['commands'])


def test_a_fifo_or_device_as_pid_file_does_not_hang(tree):
    os.mkfifo(tree.pid_file)
    out = []
    reader = threading.Thread(target=lambda: out.append(tree.proc.pid()), daemon=True)
    reader.start()
    reader.join(5)
    assert out == [None]


# ---- hole 2: the record lives in a root-only directory, written and read without links --------
def test_record_is_never_written_through_a_link_beside_the_pid_file(tree):
    victim = os.path.join(tree.tmp, 'victim')
    with open(victim, 'w') as handle:
        handle.write('precious\n')
    # The names the record used beside the pid file, planted by the dnsmasq user.
    for name in ('dnsmasq.pid.edgenet-dhcpv6', 'dnsmasq.pid.edgenet-dhcpv6.tmp'):
        os.symlink(victim, os.path.join(tree.piddir, name))
    tree.add(PID, tree.binary)
    backend = tree.backend()
    run_dhcpv6(tree.router.params(pid_file=tree.pid_file, **STATEFUL), backend, False, ADDRS)
    assert tree.killed == [PID]
    with open(victim) as handle:
        assert handle.read() == 'precious\n'
    record = backend.daemon.record_path
    assert os.path.dirname(record) == os.path.join(tree.tmp, 'state')
    assert os.stat(record).st_mode & 0o777 == 0o600 and os.stat(os.path.dirname(record)).st_mode & 0o777 == 0o700
    with open(record) as handle:
        assert json.load(handle)['pid'] == tree.next_pid


def test_forged_record_beside_the_pid_file_is_not_believed(tree):
    # The daemon started before the file's last change: only a record could say what it runs.
    tree.add(PID, tree.binary, ticks=1)
    tree.run(**STATEFUL)
    good = tree.backend().daemon
    os.unlink(good.record_path)
    tree.add(PID + 1, tree.binary, ticks=1)
    with open(tree.router.conf) as handle:
        text = handle.read()
    forged = {'pid': PID + 1, 'start': 1, 'config_file': tree.router.conf, 'pid_file': tree.pid_file,
              'text': text + 'dhcp-script=/tmp/evil\n'}
    with open(tree.pid_file + '.edgenet-dhcpv6', 'w') as handle:
        json.dump(forged, handle)
    assert tree.backend().daemon.running_text() == (None, 'started before the file was last written')


def test_record_behind_a_symlink_or_in_a_loose_directory_is_ignored_and_not_written(tree):
    tree.add(PID, tree.binary)
    tree.run(**STATEFUL)
    daemon = tree.backend().daemon
    assert daemon.running_text()[1] == 'recorded at restart'
    record = daemon.record_path
    os.rename(record, record + '.real')
    os.symlink(record + '.real', record)
    assert daemon.running_text()[1] != 'recorded at restart'
    with pytest.raises(_dnsmasq.DnsmasqError, match='symbolic link'):
        daemon.write_record(tree.proc.pid())
    os.unlink(record)
    os.rename(record + '.real', record)
    os.chmod(os.path.dirname(record), 0o777)
    assert daemon.running_text()[1] != 'recorded at restart'
    with pytest.raises(_dnsmasq.DnsmasqError, match=r'Refusing to keep state in .*writable by group or others'):
        daemon.write_record(tree.proc.pid())


@pytest.mark.parametrize('content', ['[]', '"text"', '{"pid": "x"}', '{not json', '\xff'])
def test_record_that_is_not_ours_reads_as_unknown(tree, content):
    tree.add(PID, tree.binary, ticks=1)
    tree.run(**STATEFUL)
    daemon = tree.backend().daemon
    with open(daemon.record_path, 'w', encoding='latin-1') as handle:
        handle.write(content)
    assert daemon.running_text() == (None, 'started before the file was last written')


# ---- item 6: a failed restart is rolled back through the journal, and says so ------------------
def _fail_first_start(tree, words='dnsmasq: failed to create listening socket for port 547'):
    real = tree.run_command
    failed = []

    def run_command(argv):
        if argv[0] == tree.binary and argv[1] != '--test' and not failed:
            failed.append(argv)
            return 2, '', words
        return real(argv)
    tree.run_command = run_command
    return failed


def test_failed_start_of_a_daemon_of_unknown_config_restarts_it_on_the_file_as_found(tree):
    """No record and a daemon older than the file: a rollback used to start it on the new file
    (the file's own undo came later), leaving the task failed but its change in effect."""
    tree.add(PID, tree.binary, ticks=1)
    tree.run(**STATEFUL)
    os.unlink(tree.backend().daemon.record_path)
    with open(tree.router.conf) as handle:
        found = handle.read()
    failed = _fail_first_start(tree)
    with pytest.raises(engine.ApplyError) as exc:
        tree.run(**dict(STATEFUL, valid_lifetime=9000))
    assert failed
    assert str(exc.value).endswith('failed to create listening socket for port 547. Rolled back: runtime lan0; '
                                   'persistent lan0 set back')
    with open(tree.router.conf) as handle:
        assert handle.read() == found
    # Started again, on the text the file held when the run began (recorded as such).
    daemon = tree.backend().daemon
    assert daemon.running_text() == (found, 'recorded at restart')
    assert ',64,9000' not in found


def test_daemon_that_would_not_stop_is_left_alone_by_the_rollback(tree, monkeypatch):
    monkeypatch.setattr(_dnsmasq.Backend, '_wait', staticmethod(lambda condition, seconds: condition()))
    tree.add(PID, tree.binary)
    tree.run(**STATEFUL)
    with open(tree.router.conf) as handle:
        before = handle.read()
    tree.killed = []
    monkeypatch.setattr(_dnsmasq.os, 'kill', lambda pid, sig: tree.killed.append(pid))   # SIGTERM ignored
    with pytest.raises(engine.ApplyError) as exc:
        tree.run(**dict(STATEFUL, valid_lifetime=9000))
    message = str(exc.value)
    assert 'did not stop within' in message and 'COULD NOT ROLL BACK' not in message
    assert message.endswith('Rolled back: runtime lan0; persistent lan0 set back')
    assert len(tree.killed) == 1     # the rollback did not signal it a second time
    with open(tree.router.conf) as handle:
        assert handle.read() == before


def test_failed_start_after_disable_puts_section_and_daemon_back(tree):
    tree.add(PID, tree.binary, ticks=1)
    tree.run(**STATEFUL)
    os.unlink(tree.backend().daemon.record_path)
    with open(tree.router.conf) as handle:
        found = handle.read()
    _fail_first_start(tree)
    with pytest.raises(engine.ApplyError, match=r'Rolled back: runtime lan0$'):
        tree.run(mode='disabled')
    with open(tree.router.conf) as handle:
        assert handle.read() == found
    assert tree.backend().daemon.running_text() == (found, 'recorded at restart')


def test_daemon_on_another_lease_file_is_not_restarted_onto_ours(tree):
    tree.add(PID, tree.binary, argv=[tree.binary, '--conf-file=%s' % tree.router.conf, '-l', '/var/lib/misc/other.leases'])
    words = "keeps its leases in '/var/lib/misc/other.leases', and the module restarts it with /.*/leases: set lease_file to that file"
    with pytest.raises(_dnsmasq.DnsmasqError, match=words):
        tree.run(**STATEFUL)
    assert tree.killed == [] and not os.path.exists(tree.router.conf)


def test_paths_from_pid_files_and_command_lines_open_no_device(tree, monkeypatch):
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, 'open', lambda path, flags, *args: (opened.append((path, flags)), real_open(path, flags, *args))[1])
    os.symlink('/dev/zero', tree.pid_file)
    assert tree.proc.pid() is None
    assert _process.read_text('/dev/null') is None
    # /dev/zero and /dev/null were reached only through O_PATH (no driver's open() ran).
    assert [flags & os.O_PATH for path, flags in opened if path in (tree.pid_file, '/dev/null')] == [os.O_PATH, os.O_PATH]
    assert _dnsmasq.loads_file(['dnsmasq', '-C', '/dev/zero'], '/e/x.conf') is False


def test_a_daemon_of_ours_is_told_by_the_tail_of_its_command_line_after_an_interpreter(tmp_path):
    """The check the own relay and the pd route service share (their state file's pid)."""
    tail = ['/usr/local/lib/edgenet-router/prog.py', 'serve', '/etc/x.conf']
    for pid, argv, ours in ((10, ['/usr/bin/python3', '-I'] + tail, True),
                            (11, tail, False),                               # nothing before it
                            (12, ['/usr/bin/python3', '-I'] + tail + ['more'], False),
                            (13, ['/usr/bin/python3', '-I', tail[0], '', 'serve', tail[2]], False)):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / 'cmdline').write_bytes(b''.join(w.encode() + b'\0' for w in argv))
        assert _process.runs_with_tail(pid, tail, str(tmp_path)) is ours
    assert not _process.runs_with_tail(99, tail, str(tmp_path)) and not _process.runs_with_tail('x', tail, str(tmp_path))
