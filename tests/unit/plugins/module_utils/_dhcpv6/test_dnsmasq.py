# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The dnsmasq backend above its seams: real files in a temp dir, a fake process table and checker."""

from __future__ import annotations

import os

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _dnsmasq
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import MANAGED_MARKER
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import Dhcpv6Error, desired_service
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service import (
    DRIFT_DAEMON, DRIFT_FILE, argument_spec, info, run_dhcpv6,
)

ADDRS = ['2001:db8:1::1/64', 'fe80::1/64']
SPEC_DEFAULTS = dict((name, spec.get('default')) for name, spec in argument_spec().items())
STATEFUL = dict(pools=['2001:db8:1::1000-2001:db8:1::1fff'],
                reservations=[{'duid': '00:03:00:01:02:00:00:00:00:01', 'address': '2001:db8:1::5', 'prefix': None}],
                domain_search=['example.net'], ignore_user_class=['homenet'], sol_max_rt=120,
                extra_options=[{'code': 65001, 'type': 'uint16', 'data': 2571},
                               {'code': 65002, 'type': 'uint8', 'data': 10},
                               {'code': 65003, 'type': 'hex', 'data': ''}])


class FakeProcess(object):
    """A dnsmasq process table: ``started`` is the text the daemon loaded; ``read_only`` fails restarts."""

    def __init__(self, conf, binary, running=True):
        self.conf = conf
        self.binary = binary
        self.current = 100 if running else None
        self.ticks = 5000
        self.wall = 0.0
        self.argv_ = ['dnsmasq', '--conf-file=%s' % conf, '--port=0', '--pid-file=/x/dm.pid']
        self.inode = 7
        self.uid = 0
        self.pid_file = '/x/dm.pid'
        self.name = 'dnsmasq'

    def pid(self):
        return self.current

    def exe(self, pid):
        return self.binary, os.stat(self.binary)

    def real_uid(self, pid):
        return self.uid

    def argv(self, pid):
        return list(self.argv_) if pid == self.current and pid is not None else None

    def start_ticks(self, pid):
        return self.ticks

    def start_wall(self, pid):
        return self.wall

    def netns_inode(self, pid):
        return self.inode


class Router(object):
    def __init__(self, tmp_path, running=True):
        self.dir = str(tmp_path)
        self.conf = os.path.join(self.dir, 'edgenet-dhcpv6.conf')
        self.binary = fake_binary(tmp_path)
        self.state_dir = os.path.join(self.dir, 'state')
        self.proc = FakeProcess(self.conf, self.binary, running)
        self.calls = []
        self.refuse = None
        self.read_only = False
        self.started_text = None

    def run_command(self, argv):
        self.calls.append(argv)
        if argv[1:2] == ['--test']:
            path = argv[2].split('=', 1)[1]
            if self.refuse and self.refuse in open(path).read():
                return 1, '', '\ndnsmasq: bad option at line 3 of %s' % path
            return 0, '', ''
        assert not self.read_only, 'started %s in check mode' % argv
        if argv[:2] == ['systemctl', 'stop']:
            self.proc.current = None
            return 0, '', ''
        # a start: the new daemon reads the file
        self.proc.current = (self.proc.current or 100) + 1
        self.proc.ticks += 1
        self.started_text = open(self.conf).read()
        return 0, '', ''

    def params(self, **kwargs):
        out = dict(SPEC_DEFAULTS, interface='lan0', backend='dnsmasq', config_file=self.conf,
                   pid_file=os.path.join(self.dir, 'dm.pid'), lease_file=os.path.join(self.dir, 'leases'),
                   service_manager='none')
        out.update(kwargs)
        return out

    def backend(self, **kwargs):
        return _dnsmasq.Backend(self.params(**kwargs), self.run_command, binary=self.binary, process=self.proc,
                                netns_inode=7, state_dir=self.state_dir)

    def run(self, check_mode=False, **kwargs):
        self.read_only = check_mode
        before = self.text()
        try:
            return run_dhcpv6(self.params(**kwargs), self.backend(**kwargs), check_mode, ADDRS)
        finally:
            self.read_only = False
            if check_mode:
                assert self.text() == before, 'check mode changed the file'

    def text(self):
        return open(self.conf).read() if os.path.exists(self.conf) else None


def fake_binary(tmp_path):
    """The dnsmasq binary the module resolved (a file of its own: the process check compares inodes)."""
    directory = os.path.join(str(tmp_path), 'sbin')
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, 'dnsmasq')
    with open(path, 'w') as handle:
        handle.write('#!/bin/sh\nexit 0\n')
    os.chmod(path, 0o755)
    return path


@pytest.fixture
def router(tmp_path, monkeypatch):
    # SIGTERM goes to the fake process table: the daemon "exits" at once.
    r = Router(tmp_path)

    def kill(pid, sig):
        assert pid == r.proc.current
        r.proc.current = None
    monkeypatch.setattr(_dnsmasq.os, 'kill', kill)
    return r


def _model(**kwargs):
    params = dict(interface='lan0', **kwargs)
    return desired_service(params, ADDRS, _dnsmasq.model_defaults(params))


def test_render_parse_round_trip():
    obj = _model(**STATEFUL)
    lan1 = desired_service({'interface': 'lan1', 'subnet': '2001:db8:2::/64', 'dns_servers': ['2001:db8:2::1']},
                           [], _dnsmasq.model_defaults({}))
    text = _dnsmasq.render_text({'lan0': obj, 'lan1': lan1})
    assert text.startswith(MANAGED_MARKER + '\n')
    models, dummy = _dnsmasq.parse_text(text)
    assert models['lan0'] == obj
    assert models['lan1']['address_mode'] == 'stateless'
    lines = text.splitlines()
    assert 'dhcp-range=tag:lan0,2001:db8:1::1000,2001:db8:1::1fff,64,3600' in lines
    assert 'dhcp-range=tag:lan1,2001:db8:2::,static,64,3600' in lines
    assert 'dhcp-option-force=tag:lan0,option6:82,00:00:00:78' in lines
    assert 'dhcp-option-force=tag:lan0,option6:information-refresh-time,600' in lines
    assert 'dhcp-option-force=tag:lan0,option6:65001,0a:0b' in lines
    assert 'dhcp-option-force=tag:lan0,option6:65002,10' in lines
    assert 'dhcp-option-force=tag:lan0,option6:65003' in lines
    assert 'dhcp-host=tag:lan0,id:00:03:00:01:02:00:00:00:00:01,[2001:db8:1::5]' in lines
    assert 'dhcp-ignore=tag:ignore%lan0,tag:lan0' in lines


def test_relay_round_trip():
    obj = desired_service({'interface': 'dl0', 'mode': 'relay', 'upstream_interface': 'up0',
                           'servers': ['2001:db8:9::1', 'ff05::1:3']}, ADDRS, _dnsmasq.Backend.model_defaults({}))
    assert obj['hop_limit'] == 32 and obj['dns_rewrite'] is False   # dnsmasq's fixed ones
    text = _dnsmasq.render_text({'dl0': obj}, {'dl0': '2001:db8:1::1'})
    assert 'dhcp-relay=2001:db8:1::1,up0' in text.splitlines()
    assert 'dhcp-relay=2001:db8:1::1,2001:db8:9::1,up0' in text.splitlines()
    assert _dnsmasq.parse_text(text) == ({'dl0': obj}, {'dl0': '2001:db8:1::1'})


def test_hand_edits_and_foreign_lines_read_as_differences():
    obj = _model(**STATEFUL)
    text = _dnsmasq.render_text({'lan0': obj})
    edited = _dnsmasq.parse_text(text.replace(',64,3600', ',64,4000'))[0]['lan0']
    assert edited['valid_lifetime'] == 4000 and edited['preferred_lifetime'] == 4000
    foreign = _dnsmasq.parse_text(text + 'dhcp-option=option6:dns-server,[::]\n')[0]['lan0']
    assert foreign['mode'] != 'server' and 'not written by edgenet.router' in foreign['mode']


@pytest.mark.parametrize('params, words', [
    (dict(STATEFUL, prefix_delegation=[{'prefix': '2001:db8:100::/48', 'delegated_length': 56}]),
     'prefix_delegation: dnsmasq has no prefix delegation'),
    (dict(preferred_lifetime=1800, valid_lifetime=3600), 'dnsmasq has one lease time'),
    (dict(rapid_commit=False), 'dnsmasq always answers a Solicit carrying Rapid Commit'),
    (dict(valid_lifetime=60), "dnsmasq's shortest lease time is 120"),
    (dict(subnet='2001:db8:1::/48'), 'dnsmasq serves prefixes of length 64 or longer'),
    (dict(extra_options=[{'code': 31, 'type': 'ipv6-address', 'data': '2001:db8::1'}]), 'knows it as sntp-server'),
    (dict(reservations=[{'duid': '00:01', 'address': None, 'prefix': '2001:db8:100::/56'}]),
     'reservations with a prefix'),
])
def test_refusals_name_dnsmasq(params, words):
    with pytest.raises(Dhcpv6Error, match='backend dnsmasq') as exc:
        _dnsmasq.check_expressible(_model(**params))
    assert words in str(exc.value)


def test_relay_refusals(router):
    with pytest.raises(Dhcpv6Error, match='sends no Interface-ID'):
        router.run(mode='relay', upstream_interface='up0', interface_id=True)
    with pytest.raises(Dhcpv6Error, match='fixed hop limit 32'):
        router.run(mode='relay', upstream_interface='up0', hop_limit=8)
    with pytest.raises(Dhcpv6Error, match='answers on every address of the interface already'):
        router.run(listen_unicast='2001:db8:1::1')
    with pytest.raises(Dhcpv6Error, match='passes replies on unchanged'):
        router.run(mode='relay', upstream_interface='up0', dns_rewrite=True)
    # the group Kea 2.2 listens on: dnsmasq would send it out of whichever link the kernel picks
    with pytest.raises(Dhcpv6Error, match=r'servers ff02::1:2: .* only for ff05::1:3.*unicast addresses'):
        router.run(mode='relay', upstream_interface='up0', servers=['2001:db8:9::1', 'ff02::1:2'])
    assert not os.path.exists(router.conf)
    with pytest.raises(Dhcpv6Error, match='needs a global IPv6 address'):
        run_dhcpv6(router.params(mode='relay', upstream_interface='up0'), router.backend(), False, ['fe80::1/64'])


def test_one_lifetime_sets_both():
    assert _model(valid_lifetime=900)['preferred_lifetime'] == 900
    assert _model(preferred_lifetime=900)['valid_lifetime'] == 900
    obj = _model()
    assert (obj['preferred_lifetime'], obj['valid_lifetime'], obj['rapid_commit']) == (3600, 3600, True)


def test_check_apply_idempotent_check(router):
    router.proc.wall = 1e12   # started "after" any file: runs the file it found
    check = router.run(check_mode=True, **STATEFUL)
    assert check['changed'] and router.text() is None
    real = router.run(**STATEFUL)
    assert real['changed'] and real['commands'] == check['commands']
    assert real['drift'] == [DRIFT_FILE, DRIFT_DAEMON]
    assert router.started_text == router.text()
    assert router.calls[-1][0] == router.binary and '--conf-file=%s' % router.conf in router.calls[-1]
    assert [c[:2] for c in router.calls].count([router.binary, '--test']) == 1
    router.proc.wall = 0.0    # only the record tells what the restarted daemon runs
    again = router.run(**STATEFUL)
    assert not again['changed'] and again['commands'] == [] and again['drift'] == []
    assert not router.run(check_mode=True, **STATEFUL)['changed']


def test_netns_prefix_and_foreign_namespace(router):
    router.proc.wall = 1e12
    router.run(netns='srv1')
    assert router.calls[-1][:4] == ['ip', 'netns', 'exec', 'srv1']
    router.proc.inode = 8
    before = router.text()
    # Refused before the file is touched (it used to be found in the restart, after the write).
    with pytest.raises(_dnsmasq.DnsmasqError, match='runs in another network namespace'):
        router.run(netns='srv1', domain_search=['a.example'])
    assert router.text() == before


def test_daemon_started_before_the_last_write_is_unknown(router):
    router.proc.wall = 1e12
    router.run(**STATEFUL)
    os.unlink(router.backend().daemon.record_path)
    router.proc.wall = 0.0
    res = router.run(check_mode=True, **STATEFUL)
    assert res['drift'] == [DRIFT_DAEMON]
    assert res['changes'][0]['fields']['mode']['before'].startswith('unknown (dnsmasq started before')


def test_drift_is_named_per_store(router):
    router.proc.wall = 1e12
    router.run(**STATEFUL)
    with open(router.conf) as handle:
        text = handle.read()
    with open(router.conf, 'w') as handle:
        handle.write(text.replace(',64,3600', ',64,4000'))
    res = router.run(check_mode=True, **STATEFUL)
    assert res['drift'] == [DRIFT_FILE]


def test_checker_veto_keeps_the_file(router):
    router.run(**STATEFUL)
    before = router.text()
    router.refuse = '2001:db8:1::6'
    with pytest.raises(engine.ApplyError, match='dnsmasq --test rejected the new config.*bad option at line 3 of <new'):
        router.run(**dict(STATEFUL, reservations=[{'duid': '00:01', 'address': '2001:db8:1::6'}]))
    assert router.text() == before


def test_failed_restart_restores_file_and_daemon(router):
    router.run(**STATEFUL)
    before = router.text()
    real_run = router.run_command
    attempts = []

    def failing(argv):
        if argv[0] == router.binary and argv[1] != '--test' and not attempts:
            attempts.append(argv)
            return 2, '', 'dnsmasq: failed to create listening socket'
        return real_run(argv)
    router.run_command = failing
    with pytest.raises(engine.ApplyError, match='failed to create listening socket. Rolled back: runtime lan0'):
        router.run(**dict(STATEFUL, valid_lifetime=9000))
    assert router.text() == before
    assert router.proc.current is not None and router.started_text == before


def test_disable_removes_the_section_then_restarts(router):
    router.run(**STATEFUL)
    router.run(interface='lan1', subnet='2001:db8:2::/64', dns_servers=['2001:db8:2::1'])
    res = router.run(mode='disabled')
    assert [c['store'] for c in res['changes']] == [engine.RUNTIME, engine.PERSISTENT]
    assert list(_dnsmasq.parse_text(router.started_text)[0]) == ['lan1']
    assert not router.run(mode='disabled')['changed']


def test_foreground_daemon_is_not_restarted(router):
    router.proc.argv_.append('--keep-in-foreground')
    with pytest.raises(_dnsmasq.DnsmasqError, match=r'runs in the foreground \(--keep-in-foreground\)'):
        router.run()
    assert router.text() is None


def test_daemon_that_does_not_read_the_file_is_refused(router):
    router.proc.argv_ = ['dnsmasq', '--conf-file=/elsewhere.conf']
    with pytest.raises(_dnsmasq.DnsmasqError, match='does not read'):
        router.run()


@pytest.mark.parametrize('argv, files, ok', [
    (['dnsmasq', '-C', '/e/x.conf'], {}, True),
    (['dnsmasq', '--conf-dir=/e,.dpkg-dist'], {}, True),
    (['dnsmasq', '-7', '/e'], {}, True),
    (['dnsmasq', '-x', '/run/dnsmasq/dnsmasq.pid'], {'/etc/dnsmasq.conf': 'conf-dir=/e/,*.conf\n'}, True),
    (['dnsmasq', '-x', '/run/dnsmasq/dnsmasq.pid'], {'/etc/dnsmasq.conf': '#conf-dir=/e\n'}, False),
    (['dnsmasq', '-C/other.conf'], {}, False),
])
def test_loads_file(argv, files, ok):
    assert _dnsmasq.loads_file(argv, '/e/x.conf', read=files.get) is ok


def test_not_running_writes_the_file_and_warns(tmp_path):
    router = Router(tmp_path, running=False)
    warnings = []
    res = run_dhcpv6(router.params(), router.backend(), False, ADDRS, warn=warnings.append)
    assert res['changed'] and not res['daemon_running'] and router.text() is not None
    # service_manager none: a stopped daemon is not the task's; a warning, no runtime row.
    assert [c['store'] for c in res['changes']] == [engine.PERSISTENT]
    assert res['drift'] == [DRIFT_FILE] and 'not running' in warnings[0]


def test_a_stopped_daemon_under_systemd_is_a_runtime_row_started_by_the_real_run(tmp_path):
    router = Router(tmp_path, running=False)
    check = router.run(check_mode=True, service_manager='systemd', **STATEFUL)
    real = router.run(service_manager='systemd', **STATEFUL)
    for res in (check, real):
        assert res['changed'] and res['daemon_running'] and res['drift'] == [DRIFT_FILE, DRIFT_DAEMON]
        assert [(c['store'], c['action']) for c in res['changes']] == [
            (engine.PERSISTENT, engine.CREATE), (engine.RUNTIME, engine.CREATE)]
    assert check['commands'] == real['commands'] and 'systemctl restart dnsmasq' in real['commands']
    assert router.started_text == router.text()
    assert not router.run(service_manager='systemd', **STATEFUL)['changed']


def test_systemd_restart(router):
    router.run(service_manager='systemd')
    assert ['systemctl', 'restart', 'dnsmasq'] in router.calls


def test_info_and_leases(router, tmp_path):
    router.proc.wall = 1e12
    router.run(**STATEFUL)
    with open(os.path.join(router.dir, 'leases'), 'w') as handle:
        handle.write('1700000000 aa:bb:cc:dd:ee:ff 192.0.2.5 host 01:aa\n'
                     'duid 00:01:00:01:32:96:34:3d:26:31:f7:26:04:7e\n'
                     '4102444800 1051195585 2001:db8:1::18f2 * 00:03:00:01:02:00:00:c0:ff:ee\n'
                     '4102444800 T7 2001:db8:1::1001 * 00:03:00:01:02:00:00:c0:ff:ee\n'
                     '1000 5 2001:db8:1::1002 * 00:03\n')
    router.proc.argv_.append('--dhcp-leasefile=%s' % os.path.join(router.dir, 'leases'))
    got = info(router.backend(), 'lan0')
    assert got['interfaces']['lan0']['differs'] == []
    assert [(l['address'], l['type'], l['iaid']) for l in got['leases']] == [
        ('2001:db8:1::1001', 'temporary', 7), ('2001:db8:1::18f2', 'address', 1051195585)]
