# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Kea backend above its seams: real files in a temp dir, a fake control socket and checker."""

from __future__ import annotations

import copy
import os

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _kea
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import MANAGED_MARKER
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import Dhcpv6Error, desired_service
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service import (
    DRIFT_DAEMON, DRIFT_FILE, argument_spec, info, run_dhcpv6,
)

ADDRS = ['2001:db8:1::1/64', 'fe80::1/64']
SPEC_DEFAULTS = dict((name, spec.get('default')) for name, spec in argument_spec().items())


class FakeKea(object):
    """Kea's control socket: runs a config; config-reload reads the file; ``read_only`` fails writes."""

    def __init__(self, path, running=True):
        self.path = path
        self.config = None
        self.is_running = running
        self.read_only = False
        self.log = []
        # None: serving; else why not (what KeaControl.problem() finds in status-get and /proc).
        self.broken = None
        # What the next config-reload / config-set leaves as ``broken`` (None: it repairs).
        self.breaks_on_load = None
        # config-get adds "hash" as Kea 2.4 and later do (Debian 13's 2.6), not as 2.2 (Debian 12's)
        self.hash = False

    def running(self):
        return self.is_running

    def problem(self):
        return self.broken

    def settled_problem(self):
        return self.broken

    def serving(self):
        return self.is_running and self.broken is None

    def command(self, name, arguments=None):
        self.log.append(name)
        if name == 'config-get':
            # Kea >= 2.4 answers with a hash of the config beside it, and refuses that key in
            # config-set/config-test
            return dict(copy.deepcopy(self.config or {}), **({'hash': 'C0FFEE'} if self.hash else {}))
        if name in ('config-test', 'config-set'):
            assert 'hash' not in (arguments or {}), 'Kea refuses "hash" in %s' % name
        if name == 'config-test':
            return None
        assert not self.read_only, '%s in check mode' % name
        if name == 'config-reload':
            with open(self.path) as handle:
                self.config = _kea.load_text(handle.read())
        elif name == 'config-set':
            self.config = copy.deepcopy(arguments)
        if name in ('config-reload', 'config-set'):
            self.broken = self.breaks_on_load
        return None


class Router(object):
    def __init__(self, tmp_path, running=True):
        self.dir = str(tmp_path)
        self.conf = os.path.join(self.dir, 'kea-dhcp6.conf')
        self.kea = FakeKea(self.conf, running)
        self.checks = []
        self.refuse = None

    def run_command(self, argv):
        self.checks.append(argv)
        if self.refuse and self.refuse in open(argv[-1]).read():
            return 1, '', 'ERROR [kea-dhcp6] DHCP6_PARSER_FAIL %s refused' % self.refuse
        return 0, '', ''

    def backend(self, **params):
        return _kea.Backend(self.params(**params), self.run_command, control=self.kea, health=self.kea)

    def last_writes(self):
        return [c for c in self.kea.log if c != 'config-get'][-2:]

    def params(self, **kwargs):
        out = dict(SPEC_DEFAULTS, interface='lan0', config_file=self.conf, control_socket='/x/kea.sock',
                   lease_file=os.path.join(self.dir, 'leases6.csv'), service_manager='none')
        out.update(kwargs)
        return out

    def run(self, check_mode=False, **kwargs):
        self.kea.read_only = check_mode
        before = self.text()
        try:
            return run_dhcpv6(self.params(**kwargs), self.backend(**kwargs), check_mode, ADDRS)
        finally:
            self.kea.read_only = False
            if check_mode:
                assert self.text() == before, 'check mode changed the file'

    def text(self):
        return open(self.conf).read() if os.path.exists(self.conf) else None


@pytest.fixture
def router(tmp_path):
    return Router(tmp_path)


STATEFUL = dict(pools=['2001:db8:1::1000-2001:db8:1::1fff'],
                prefix_delegation=[{'prefix': '2001:db8:100::/48', 'delegated_length': 56}],
                reservations=[{'duid': '00:03:00:01:02:00:00:00:00:01', 'address': '2001:db8:1::5', 'prefix': None}],
                ignore_user_class=['homenet'], extra_options=[{'code': 65001, 'type': 'uint16', 'data': 2571}])


def test_render_parse_round_trip():
    obj = desired_service(dict(interface='lan0', **STATEFUL), ADDRS)
    config = _kea.render_config({'lan0': obj}, {'control_socket': '/s', 'lease_file': '/l/leases.csv'})
    assert _kea.models_from_config(config) == {'lan0': obj}
    text = _kea.dump_config(config)
    assert text.startswith(MANAGED_MARKER + '\n')
    assert _kea.load_text(text) == config
    drop = config['Dhcp6']['client-classes'][0]
    assert drop == {'name': 'DROP', 'test': "(pkt.iface == 'lan0' and substring(option[15].hex,0,9) == 0x0007686F6D656E6574)"}


def test_check_apply_idempotent_check(router):
    check = router.run(check_mode=True, **STATEFUL)
    assert check['changed'] and router.text() is None
    real = router.run(**STATEFUL)
    assert real['changed'] and real['commands'] == check['commands']
    assert real['drift'] == [DRIFT_FILE, DRIFT_DAEMON]
    assert router.last_writes() == ['config-test', 'config-reload']
    assert real['server']['pools'] == ['2001:db8:1::1000/116']
    assert real['server'] == check['server']
    assert router.checks and router.checks[-1][:2] == ['kea-dhcp6', '-t']
    again = router.run(**STATEFUL)
    assert not again['changed'] and again['commands'] == [] and again['drift'] == []
    assert not router.run(check_mode=True, **STATEFUL)['changed']


def test_checker_runs_in_the_daemon_namespace(router):
    router.run(netns='srv1')
    assert router.checks[-1][:5] == ['ip', 'netns', 'exec', 'srv1', 'kea-dhcp6']


def test_interfaces_share_the_file_and_keep_their_subnet_ids(router):
    router.run(**STATEFUL)
    router.run(interface='lan1', subnet='2001:db8:2::/64', dns_servers=['2001:db8:2::1'])
    ids = dict((s['interface'], s['id']) for s in router.kea.config['Dhcp6']['subnet6'])
    assert ids == {'lan0': 1, 'lan1': 2}
    router.run(mode='disabled')
    assert [s['interface'] for s in router.kea.config['Dhcp6']['subnet6']] == ['lan1']
    router.run(**STATEFUL)
    ids = dict((s['interface'], s['id']) for s in router.kea.config['Dhcp6']['subnet6'])
    assert ids == {'lan0': 1, 'lan1': 2}
    assert router.kea.config['Dhcp6']['interfaces-config']['interfaces'] == ['lan0', 'lan1']


def test_disable_reaches_the_daemon_before_the_file(router):
    router.run(**STATEFUL)
    res = router.run(mode='disabled')
    assert [c['store'] for c in res['changes']] == [engine.RUNTIME, engine.PERSISTENT]
    assert router.last_writes() == ['config-test', 'config-set']
    assert _kea.models_from_config(router.kea.config) == {}
    assert not router.run(mode='disabled')['changed']


def test_drift_is_named_per_store(router):
    router.run(**STATEFUL)
    with open(router.conf) as handle:
        text = handle.read()
    with open(router.conf, 'w') as handle:
        handle.write(text.replace('"valid-lifetime": 7200', '"valid-lifetime": 4000'))
    assert router.run(check_mode=True, **STATEFUL)['drift'] == [DRIFT_FILE]
    router.run(**STATEFUL)
    router.kea.config['Dhcp6']['subnet6'][0]['valid-lifetime'] = 5000   # as a config-set by hand
    res = router.run(check_mode=True, **STATEFUL)
    assert res['drift'] == [DRIFT_DAEMON]
    assert res['changes'][0]['fields'] == {'valid_lifetime': {'before': 5000, 'after': 7200}}


def test_checker_veto_keeps_the_file(router):
    router.run(**STATEFUL)
    before = router.text()
    router.refuse = '2001:db8:1::6'
    with pytest.raises(engine.ApplyError, match='kea-dhcp6 -t rejected the new config.*2001:db8:1::6 refused'):
        router.run(**dict(STATEFUL, reservations=[{'duid': '00:01', 'address': '2001:db8:1::6', 'prefix': None}]))
    assert router.text() == before


def test_daemon_failure_restores_the_file(router):
    router.run(**STATEFUL)
    before = router.text()

    def broken(name, arguments=None):
        if name == 'config-reload':
            raise _kea.KeaError('Kea refused config-reload: boom')
        return FakeKea.command(router.kea, name, arguments)
    router.kea.command = broken
    with pytest.raises(engine.ApplyError, match='boom. Rolled back: runtime lan0; persistent lan0 set back'):
        router.run(**dict(STATEFUL, valid_lifetime=9000))
    assert router.text() == before


def test_foreign_file_is_never_overwritten(router):
    with open(router.conf, 'w') as handle:
        handle.write('{"Dhcp6": {}}\n')
    with pytest.raises(_kea.KeaError, match='not managed by edgenet.router'):
        router.run()
    assert router.text() == '{"Dhcp6": {}}\n'


def test_daemon_not_running_writes_the_file_and_warns(tmp_path):
    router = Router(tmp_path, running=False)
    warnings = []
    res = run_dhcpv6(router.params(), router.backend(), False, ADDRS, warn=warnings.append)
    assert res['changed'] and not res['daemon_running'] and router.text() is not None
    # service_manager none starts nothing: the stopped daemon is not the task's, so no plan row
    # for it (a warning says nothing serves the file), and changed is the file's alone.
    assert [c['store'] for c in res['changes']] == [engine.PERSISTENT]
    assert res['drift'] == [DRIFT_FILE] and 'not running' in warnings[0]
    res = run_dhcpv6(router.params(), router.backend(), False, ADDRS, warn=warnings.append)
    assert not res['changed'] and res['drift'] == [] and len(warnings) == 2 and 'not running' in warnings[1]
    # worded for the run: the first wrote the file, the second found it as asked
    assert 'the config file is written but nothing serves it' in warnings[0]
    assert 'the config file is as the task asks but nothing serves it' in warnings[1]


def test_systemd_starts_a_stopped_daemon(tmp_path):
    router = Router(tmp_path, running=False)
    calls = []

    def run_command(argv):
        calls.append(argv)
        if argv[0] == 'systemctl':
            router.kea.is_running = True
            router.kea.command('config-reload')
        return 0, '', ''
    backend = _kea.Backend(router.params(service_manager='systemd'), run_command, control=router.kea, health=router.kea)
    res = run_dhcpv6(router.params(service_manager='systemd'), backend, False, ADDRS)
    assert ['systemctl', 'start', 'kea-dhcp6-server'] in calls
    assert res['changed'] and res['daemon_running'] and 'systemctl start kea-dhcp6-server' in res['commands']
    # The start is the runtime store's create row: the daemon served nothing before.
    assert [(c['store'], c['action']) for c in res['changes']] == [
        (engine.PERSISTENT, engine.CREATE), (engine.RUNTIME, engine.CREATE)]
    assert res['drift'] == [DRIFT_FILE, DRIFT_DAEMON] and res['diff']['after'][engine.RUNTIME]['mode'] == 'server'


def test_kea_cannot_relay(router):
    with pytest.raises(Dhcpv6Error, match='backend kea cannot relay'):
        router.run(mode='relay', upstream_interface='wan0')


def test_info_reads_daemon_file_and_leases(router):
    router.run(**STATEFUL)
    with open(os.path.join(router.dir, 'leases6.csv'), 'w') as handle:
        handle.write('address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,'
                     'fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,hwaddr_source\n'
                     '2001:db8:1::1000,00:01,7200,4102444800,1,3600,0,1,128,0,0,,,0,,1,2\n'
                     '2001:db8:1::1001,00:02,7200,4102444800,1,3600,0,1,128,0,0,,,0,,1,2\n'
                     '2001:db8:1::1001,00:02,0,4102444800,1,3600,0,1,128,0,0,,,0,,1,2\n'
                     '2001:db8:100::,00:01,7200,4102444800,1,3600,2,1,56,0,0,,,0,,1,2\n')
    got = info(router.backend())
    assert got['interfaces']['lan0']['differs'] == []
    assert got['interfaces']['lan0']['running']['pools'] == ['2001:db8:1::1000/116']
    assert [(l['address'], l['type'], l['prefix_length']) for l in got['leases']] == [
        ('2001:db8:1::1000', 'address', 128), ('2001:db8:100::', 'prefix', 56)]


@pytest.mark.parametrize('kea_hash', [False, True], ids=['kea-2.2', 'kea-2.6'])
def test_rollback_puts_back_a_config_kea_takes(router, kea_hash):
    """What the daemon store reads holds no "hash" key (nor do its snapshots and records, for a
    commit-confirm rollback), and a record written with one is put back without it."""
    router.kea.hash = kea_hash
    router.run(**STATEFUL)
    before = copy.deepcopy(router.kea.config)
    snap = _kea._DaemonSnapshot(_kea.KeaDaemon(router.kea, None), router.kea.command('config-get'))
    router.kea.config = {'Dhcp6': {}}
    snap()
    assert router.kea.config == before
    assert _kea.without_hash(dict(before, hash='AB')) == before
    assert 'hash' not in _kea.KeaDaemon(router.kea, None).running_config()


def test_listen_unicast_is_an_interfaces_config_entry_and_reads_back():
    obj = desired_service(dict(interface='lan0', listen_unicast='2001:DB8:1::1'), ADDRS)
    assert obj['listen_unicast'] == '2001:db8:1::1'
    config = _kea.render_config({'lan0': obj, 'lan1': desired_service(dict(interface='lan1', subnet='2001:db8:2::/64',
                                                                           dns_servers=['2001:db8:2::1']), [])},
                                {'control_socket': '/s', 'lease_file': '/l/leases.csv'})
    assert config['Dhcp6']['interfaces-config']['interfaces'] == ['lan0/2001:db8:1::1', 'lan1']
    models = _kea.models_from_config(config)
    assert models['lan0'] == obj and models['lan1']['listen_unicast'] == ''
    # omitted: multicast and link-local only, a definite value (so turning it off is a change)
    assert desired_service(dict(interface='lan0'), ADDRS)['listen_unicast'] == ''


@pytest.mark.parametrize('value, words', [
    ('2001:db8:9::1', 'not an address of the interface'),
    ('fe80::1', 'not a global unicast address'),
    ('ff02::1:2', 'not a global unicast address'),
])
def test_listen_unicast_must_be_an_own_global_address(value, words):
    with pytest.raises(Dhcpv6Error, match=words):
        desired_service(dict(interface='lan0', listen_unicast=value), ADDRS)


def test_info_reads_pd_routes_as_service_manager_says(router):
    """dhcpv6_server_info's service_manager is used (issue 19): a Kea running pd_routes with no route
    service running is drift only when systemd would start that service."""
    backend = router.backend()
    obj = desired_service(dict(interface='lan0', pd_routes=True, **STATEFUL), ADDRS)
    settings = {'control_socket': '/s', 'lease_file': '/l/leases.csv',
                'pd_hook': backend.pd.hook_entry('/usr/lib/kea/hooks/libdhcp_run_script.so')}
    router.kea.config = _kea.render_config({'lan0': obj}, settings)
    assert backend.pd.state() is None  # no route service runs in the test
    running = info(router.backend(service_manager='none'))['interfaces']['lan0']['running']
    assert running['pd_routes'] is True
    running = info(router.backend(service_manager='systemd'))['interfaces']['lan0']['running']
    assert running['pd_routes'] == 'route service %s not running this config' % backend.pd.instance
