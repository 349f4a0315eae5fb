# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commit-confirm: the journal handed out by apply, its undo in another process, the files and
the timer's command line, confirm and rollback. systemd itself is proven in the lab (iptun target)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _confirm as confirm
from ansible_collections.edgenet.router.plugins.module_utils import _tunnel_persist
from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils import _iptun
from ansible_collections.edgenet.router.plugins.module_utils._engine import PERSISTENT, RUNTIME
from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdError
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TABLE as TUNNELS
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import KernelTunnels
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_networkd import NetworkdTunnels
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_netlink import FakeNetlink
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__engine import TABLE, T1, desired, persistent_view, stores
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__iptun import HE, fake_resolve, params


# --- the engine: apply hands out the journal as data, undo replays it -----------------------------
def test_apply_hands_the_journal_to_confirm_and_undo_puts_fresh_stores_back():
    persistent, runtime = stores(runtime={'t1': T1}, persistent={'t1': persistent_view(T1)})
    handed = []
    engine.run(TABLE, [persistent, runtime], {'t1': desired(kind='ipip', ttl=10), 't2': desired(kind='sit', ttl=5)},
               confirm=handed.append)
    records = json.loads(json.dumps(handed[0]))  # what goes to disk must survive JSON
    assert [r['description'] for r in records] == [
        'persistent t1 set back', 'persistent t2 removed again', 'runtime t1 set back', 'runtime t2 removed again']
    assert runtime.objects['t1']['ttl'] == 10 and 't2' in runtime.objects
    # Another process: new store objects over the same state.
    again = dict((s.name, s) for s in stores(runtime=runtime.objects, persistent=persistent.objects))
    restored, unrestored = engine.undo(again, records)
    assert unrestored == [] and restored == list(reversed([r['description'] for r in records]))
    assert again[RUNTIME].objects == {'t1': T1} and again[PERSISTENT].objects == {'t1': persistent_view(T1)}


def test_a_confirm_that_cannot_be_scheduled_rolls_the_change_back_now():
    persistent, runtime = stores()

    def refuse(records):
        raise confirm.ConfirmError('systemd-run failed (rc=1): no bus')
    with pytest.raises(engine.ApplyError) as err:
        engine.run(TABLE, [persistent, runtime], {'t1': desired(kind='ipip', ttl=10)}, confirm=refuse)
    assert str(err.value).startswith('Could not schedule the rollback that confirm_timeout asks for: systemd-run failed')
    assert persistent.objects == {} and runtime.objects == {}


def test_check_mode_and_a_task_without_changes_schedule_nothing():
    persistent, runtime = stores(runtime={'t1': T1}, persistent={'t1': persistent_view(T1)})
    handed = []
    engine.run(TABLE, [persistent, runtime], {'t1': desired(kind='ipip', ttl=10)}, check_mode=True, confirm=handed.append)
    engine.run(TABLE, [persistent, runtime], {'t1': desired(kind='ipip', ttl=64)}, confirm=handed.append)
    assert handed == []


@pytest.mark.parametrize('record', [
    {'store': 'nowhere', 'undo': 'write', 'write': ['delete', 't1', {}, None]},
    {'store': RUNTIME, 'undo': 'write', 'write': ['recreate', 't1', {}, None]},
    {'store': RUNTIME, 'undo': 'shell', 'command': 'rm -rf /'},
    'delete t1',
])
def test_undo_refuses_a_record_apply_could_not_have_written_before_touching_anything(record):
    persistent, runtime = stores(runtime={'t1': T1})
    good = {'store': RUNTIME, 'undo': 'write', 'write': ['delete', 't1', T1, None]}
    with pytest.raises(ValueError):
        engine.undo({PERSISTENT: persistent, RUNTIME: runtime}, [good, record])
    assert runtime.objects == {'t1': T1} and runtime.writes == []


# --- files: a snapshot written down and put back by another process ---------------------------------
def test_a_networkd_snapshot_record_puts_files_back_byte_for_byte(tmp_path):
    files = NetworkdTunnels(str(tmp_path))
    tunnel = TUNNELS.normalise({'name': 'he0', 'type': 'sit', 'local': '192.0.2.1', 'remote': '192.0.2.2', 'ttl': 64})
    files.create('he0', tunnel)
    path = str(tmp_path / '60-edgenet-he0.netdev')
    os.chmod(path, 0o640)
    before = open(path, 'rb').read()
    record = json.loads(json.dumps(files.snapshot('he0').record()))
    files.create('he0', dict(tunnel, ttl=10))
    assert open(path, 'rb').read() != before
    NetworkdTunnels(str(tmp_path)).restore_record(record)
    assert open(path, 'rb').read() == before and stat.S_IMODE(os.stat(path).st_mode) == 0o640


@pytest.mark.parametrize('path', ['/etc/passwd', '{dir}/../x.netdev', '{dir}/sub/x.netdev', '{dir}/..'])
def test_a_file_record_cannot_name_a_path_outside_the_store(tmp_path, path):
    record = [[path.format(dir=str(tmp_path)), {'data': 'eA==', 'mode': 0o644, 'owner': [0, 0]}]]
    with pytest.raises(NetworkdError, match='Refusing to restore'):
        NetworkdTunnels(str(tmp_path)).restore_record(record)


# --- scheduling, confirming and rolling back iptun changes (fake kernel, real files) ----------------
class Router(object):
    """A fake kernel and a networkd directory, reached through _iptun.open_stores as the timer's
    process reaches them; run_command stands for systemd-run and systemctl, and runs the rollback
    command lines in this process (as their own process would)."""

    def __init__(self, tmp_path, monkeypatch):
        self.nl = FakeNetlink()
        self.networkd = str(tmp_path / 'network')
        self.confirm_dir = str(tmp_path / 'confirm')
        self.commands = []
        self.systemd_run_rc = 0

        @contextlib.contextmanager
        def fake_netlink(netns):
            yield self.nl
        monkeypatch.setattr(_iptun, 'open_netlink', fake_netlink)
        # A host whose links systemd-networkd manages (the detection is _tunnel_persist's own test).
        monkeypatch.setattr(_tunnel_persist, 'managing', lambda run_command, paths=None: ({'networkd': 'test'}, {'networkd'}, []))

    def run_command(self, argv):
        self.commands.append(argv)
        if argv[0] == 'systemd-run':
            return self.systemd_run_rc, '', 'Failed to start transient timer unit' if self.systemd_run_rc else ''
        if argv[0] == sys.executable:  # a rollback command line: [python, -I, -c, BOOT, entry, dir, id]
            assert argv[1:4] == ['-I', '-c', confirm._BOOT]
            return confirm.main(argv[5], argv[6], run_command=self.run_command), 'rolled back', ''
        return 0, '', ''

    def apply(self, timeout=30, clock=1796424000.0, **task):
        p = params(networkd_dir=self.networkd, confirm_timeout=timeout, **task)
        pending = None if timeout is None else confirm.Pending(
            'iptun', p, timeout, self.run_command, 'systemd-run', self.confirm_dir, clock=lambda: clock)
        with _iptun.open_stores(p, self.run_command) as (runtime, files):
            return _iptun.run_iptun(p, runtime, files, resolve=fake_resolve, confirm=pending)

    def state(self):
        files = {}
        if os.path.isdir(self.networkd):
            for name in sorted(os.listdir(self.networkd)):
                if not name.startswith('.'):
                    with open(os.path.join(self.networkd, name), 'rb') as handle:
                        files[name] = handle.read()
        return KernelTunnels(self.nl).read(), files


@pytest.fixture
def router(tmp_path, monkeypatch):
    return Router(tmp_path, monkeypatch)


def test_a_change_with_confirm_timeout_writes_its_journal_and_starts_a_timer(router):
    result = router.apply(**HE)
    ident = result['confirm']['id']
    assert result['changed'] and result['confirm'] == {
        'id': ident, 'timeout': 30, 'unit': 'edgenet-confirm-%s.timer' % ident, 'deadline': '2026-12-04T22:40:30Z'}
    assert stat.S_IMODE(os.stat(router.confirm_dir).st_mode) == 0o700
    path = os.path.join(router.confirm_dir, ident + '.json')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    record = json.load(open(path))
    # persistent_store: auto was asked; the record pins the store this run chose (networkd), so the
    # rollback reopens it whatever manager runs by then
    assert record['task'] == 'iptun' and record['options'] == {
        'persistent': True, 'netns': None, 'persistent_store': 'networkd', 'networkd_dir': router.networkd,
        'ifupdown_dir': '/etc/network/interfaces.d', 'networkmanager_dir': '/etc/NetworkManager/system-connections'}
    assert [r['undo'] for r in record['journal']] == ['settle', 'restore', 'write']
    assert router.commands[-1][:-7] == [
        'systemd-run', '--unit', 'edgenet-confirm-' + ident, '--description',
        'edgenet.router: roll back change %s unless confirmed' % ident, '--on-active', '30s',
        '--timer-property', 'AccuracySec=1s', '--property', 'Type=oneshot', '--collect', '--quiet', '--']
    assert router.commands[-1][-7:-3] == [sys.executable, '-I', '-c', confirm._BOOT]
    assert router.commands[-1][-2:] == [router.confirm_dir, ident]
    assert confirm.pending_ids(router.confirm_dir) == [ident]


def test_the_timer_puts_the_kernel_and_the_files_back_byte_for_byte(router):
    router.apply(name='he-ipv6', type='6in4', local='198.51.100.7', remote='203.0.113.1', ttl=64, timeout=None)
    before = router.state()
    ident = router.apply(**dict(HE, ttl=10))['confirm']['id']
    router.apply(clock=1796424001.0, name='t2', type='ipip', local='198.51.100.7', remote='203.0.113.2')
    assert router.state() != before
    # The older timer fires first: it rolls the newer change back before its own.
    assert confirm.main(router.confirm_dir, ident, run_command=router.run_command) == 0
    assert router.state() == before
    assert confirm.pending_ids(router.confirm_dir) == [] and os.listdir(router.confirm_dir) == ['.edgenet-router.lock']
    assert ['systemctl', 'stop', 'edgenet-confirm-1796424001000000000.timer'] in router.commands


def test_a_route_networkd_removed_meanwhile_does_not_stop_the_rollback(router):
    before = router.state()
    ident = router.apply(name='t3', type='ipip', local='198.51.100.7', remote='203.0.113.3',
                         routes=[{'dest': '10.0.2.2/32', 'via': None, 'metric': None}])['confirm']['id']
    index = router.nl.link_index('t3')
    router.nl.route_table[index] = []   # gone before the timer fires
    assert confirm.main(router.confirm_dir, ident, run_command=router.run_command) == 0
    assert router.state() == before


def test_a_confirmed_change_stays_and_its_timer_finds_nothing_to_do(router):
    ident = router.apply(**HE)['confirm']['id']
    after = router.state()
    assert confirm.confirm_all(router.run_command, 'systemctl', router.confirm_dir, check_mode=True) == [ident]
    assert confirm.pending_ids(router.confirm_dir) == [ident]
    assert confirm.confirm_all(router.run_command, 'systemctl', router.confirm_dir) == [ident]
    assert router.commands[-1] == ['systemctl', 'stop', 'edgenet-confirm-%s.timer' % ident]
    assert confirm.main(router.confirm_dir, ident, run_command=router.run_command) == 0
    assert router.state() == after and confirm.pending_ids(router.confirm_dir) == []


def test_rollback_now_undoes_every_pending_change(router):
    before = router.state()
    router.apply(**HE)
    router.apply(clock=1796424001.0, name='t2', type='ipip', local='198.51.100.7', remote='203.0.113.2')
    assert confirm.rollback_now(router.run_command, 'systemctl', router.confirm_dir) == [
        '1796424000000000000', '1796424001000000000']
    assert router.state() == before


def test_a_failed_systemd_run_rolls_the_change_back_and_leaves_no_journal(router):
    router.systemd_run_rc = 1
    before = router.state()
    with pytest.raises(engine.ApplyError, match='Could not schedule the rollback .* Failed to start transient timer'):
        router.apply(**HE)
    assert router.state() == before and confirm.pending_ids(router.confirm_dir) == []


@pytest.mark.parametrize('timeout', [0, 9, 86401, -5])
def test_a_timeout_out_of_range_is_refused(router, timeout):
    with pytest.raises(confirm.ConfirmError, match='between 10 and 86400'):
        router.apply(timeout=timeout, **HE)
    assert router.state() == ({}, {})


def test_a_confirm_directory_anyone_else_can_write_is_refused(router):
    os.makedirs(router.confirm_dir, 0o777)
    os.chmod(router.confirm_dir, 0o777)
    with pytest.raises(engine.ApplyError, match='must be a directory .* with mode 0700'):
        router.apply(**HE)
    assert router.state() == ({}, {})


def test_a_journal_that_cannot_be_undone_is_kept_for_a_person(router):
    ident = router.apply(**HE)['confirm']['id']
    path = os.path.join(router.confirm_dir, ident + '.json')
    record = json.load(open(path))
    record['journal'][-1]['write'][1] = 'bad/name'
    with open(path, 'w') as handle:
        json.dump(record, handle)
    assert confirm.main(router.confirm_dir, ident, run_command=router.run_command) == 1
    assert os.path.exists(os.path.join(router.confirm_dir, ident + '.failed.json'))
    assert confirm.pending_ids(router.confirm_dir) == []


# --- pipex: the state file, the unit, its script and its link, written down and put back ----------
def test_a_pipex_session_record_puts_the_boot_store_back_byte_for_byte(tmp_path):
    from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import desired_session
    from ansible_collections.edgenet.router.plugins.module_utils._pipex._state import PersistentSessions
    from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__pipex import session, wan

    def disk():
        out = {}
        for top, dirs, files in os.walk(str(tmp_path)):
            for name in dirs + files:
                path = os.path.join(top, name)
                if name != '.edgenet-router.lock':
                    out[path] = os.readlink(path) if os.path.islink(path) else (
                        None if os.path.isdir(path) else open(path, 'rb').read())
        return out
    state_dir, unit_dir = str(tmp_path / 'pipex'), str(tmp_path / 'units')
    files = PersistentSessions(state_dir, unit_dir)
    os.makedirs(state_dir)
    os.makedirs(unit_dir)
    before = disk()
    obj = desired_session(session(**wan()), persistent=True)
    record = json.loads(json.dumps(files.snapshot('l2tpeth-wan').record()))
    files.create('l2tpeth-wan', obj)
    assert disk() != before and any(path.endswith('multi-user.target.wants/edgenet-pipex.service') for path in disk())
    PersistentSessions(state_dir, unit_dir).restore_record(record)
    assert disk() == before


def test_a_pipex_record_cannot_point_the_unit_link_elsewhere(tmp_path):
    from ansible_collections.edgenet.router.plugins.module_utils._pipex._state import PersistentSessions
    state_dir, unit_dir = str(tmp_path / 'pipex'), str(tmp_path / 'units')
    record = {'state': [], 'boot': {'files': [], 'link': '/bin/sh', 'had_wants': True}}
    with pytest.raises(NetworkdError, match='only .*edgenet-pipex.service is ours'):
        PersistentSessions(state_dir, unit_dir).restore_record(record)


class FakeModule(object):
    def __init__(self, check_mode=False, bins=('systemd-run',)):
        self.check_mode = check_mode
        self.bins = bins

    def get_bin_path(self, name):
        return '/usr/bin/' + name if name in self.bins else None

    def run_command(self, argv):
        raise AssertionError('nothing may run: %r' % (argv,))


def test_pending_is_none_without_the_option_or_in_check_mode_and_refuses_a_router_without_systemd(monkeypatch):
    assert confirm.pending(FakeModule(), 'iptun', {'confirm_timeout': None}) is None
    assert confirm.pending(FakeModule(check_mode=True), 'iptun', {'confirm_timeout': 30}) is None
    with pytest.raises(confirm.ConfirmError, match='between 10 and 86400'):
        confirm.pending(FakeModule(check_mode=True), 'iptun', {'confirm_timeout': 5})
    with pytest.raises(confirm.ConfirmError, match='needs systemd'):
        confirm.pending(FakeModule(bins=()), 'iptun', {'confirm_timeout': 30})
    monkeypatch.setattr(confirm.os.path, 'isdir', lambda path: path == '/run/systemd/system')
    made = confirm.pending(FakeModule(), 'iptun', {'confirm_timeout': 30, 'netns': None, 'persistent': True,
                                                   'networkd_dir': '/etc/systemd/network', 'cookie': 'secret'})
    assert made.timeout == 30
    assert made.options == {'persistent': True, 'netns': None, 'persistent_store': None, 'networkd_dir': '/etc/systemd/network',
                            'ifupdown_dir': None, 'networkmanager_dir': None}
    assert made.result() is None


def test_an_unknown_task_in_a_record_imports_nothing():
    with pytest.raises(confirm.ConfirmError, match="no task 'os' can be rolled back"):
        confirm.undo({'task': 'os', 'journal': [], 'options': {}})


def test_pin_keeps_only_store_options():
    made = confirm.Pending('iptun', {'persistent_store': 'auto'}, 30, None, '/usr/bin/systemd-run')
    made.pin(persistent_store='ifupdown')
    assert made.options['persistent_store'] == 'ifupdown'
    with pytest.raises(ValueError, match='not store options of iptun: tunnels'):
        made.pin(tunnels=[])
