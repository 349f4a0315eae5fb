# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""ppp_server's cycle over its three stores, with systemctl and the daemon faked (the fake daemon
reports the live config it is started or reloaded with, as _pppoed's does). The real daemon, pppd
and a real client: the pipex_session lab target (tasks/pppoe.yml)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._ppp import _pppoed, _server

SECRET = 'pa55-word!'


class FakeSystemd(object):
    """systemctl for one concentrator unit, and the daemon it runs: started or reloaded, the
    daemon reads the live config and writes its state file (``broken``: it never does)."""

    def __init__(self, live_dir):
        self.live_dir = live_dir
        self.pid = None
        self.calls = []
        self.broken = False

    def _report(self, unit):
        interface = unit[len('edgenet-pppoe@'):-len('.service')]
        if self.broken:
            return
        with open(os.path.join(self.live_dir, interface + '.conf')) as handle:
            config = _pppoed.parse_config(handle.read())
        with open(os.path.join(self.live_dir, interface + '.state'), 'w') as handle:
            json.dump({'pid': self.pid, 'interface': interface, 'config': config, 'sessions': []}, handle)

    def __call__(self, argv, data=None):
        assert argv[0] == 'systemctl'
        self.calls.append(' '.join(argv[1:]))
        verb, unit = argv[1], argv[-1]
        if verb == 'show':
            if self.pid is None:
                return 0, 'ActiveState=inactive\nMainPID=0\n', ''
            return 0, 'ActiveState=active\nMainPID=%d\n' % self.pid, ''
        if verb == 'start':
            self.pid = 4242
            self._report(unit)
        elif verb == 'reload':
            self._report(unit)
        elif verb == 'stop':
            self.pid = None
        return 0, '', ''


@pytest.fixture
def router(tmp_path, monkeypatch):
    for name in ('boot', 'live', 'ppp', 'lib', 'units'):
        (tmp_path / name).mkdir()
    monkeypatch.setattr(_server, 'PROGRAM', str(tmp_path / 'lib' / 'pppoed.py'))
    monkeypatch.setattr(_pppoed, 'UP_SCRIPT', str(tmp_path / 'lib' / 'pppoe-ip-up'))
    monkeypatch.setattr(_server, 'UNIT_DIR', str(tmp_path / 'units'))
    pap = tmp_path / 'ppp' / 'pap-secrets'
    pap.write_text('# Secrets for authentication using PAP\n"other" * "theirs" *\n')
    systemd = FakeSystemd(str(tmp_path / 'live'))

    def stores():
        return (_server.Secrets('ac0', (str(pap), str(tmp_path / 'ppp' / 'chap-secrets'))),
                _server.BootConfig('ac0', systemd, directory=str(tmp_path / 'boot')),
                _server.LiveDaemon('ac0', systemd, directory=str(tmp_path / 'live'), wait=0.2))
    return tmp_path, systemd, stores


def task(**changes):
    params = dict((name, spec.get('default')) for name, spec in _server.TASK.argument_spec().items())
    params.update(interface='ac0', service_name='isp', local_address='10.70.0.1', remote_pool='10.70.0.10-10.70.0.13',
                  dns_servers=['10.70.0.53'], users=[{'name': 'user1', 'password': SECRET}])
    params.update(changes)
    return params


def run(stores, params, check_mode=False):
    return _server.run_ppp(params, *stores(), check_mode=check_mode)


def test_check_apply_idempotent_check_and_the_secret_nowhere_in_the_result(router):
    tmp_path, systemd, stores = router
    check = run(stores, task(), check_mode=True)
    assert check['changed'] and systemd.calls == ['show --property=ActiveState --property=MainPID edgenet-pppoe@ac0.service']
    assert not (tmp_path / 'boot' / 'ac0.conf').exists() and not (tmp_path / 'lib' / 'pppoed.py').exists()
    applied = run(stores, task())
    assert [(c['store'], c['object'], c['action']) for c in applied['changes']] == [
        ('secrets', 'user1', 'create'), ('persistent', 'ac0', 'create'), ('runtime', 'ac0', 'create')]
    assert [(c['store'], c['object'], c['action']) for c in check['changes']] == \
        [(c['store'], c['object'], c['action']) for c in applied['changes']]
    assert SECRET not in json.dumps([check, applied])
    assert applied['server']['remote_pool'] == '10.70.0.10-10.70.0.13' and applied['server']['max_sessions'] == 4
    assert applied['users'] == ['user1']
    # what the router holds: the boot file 0600, the unit enabled and started, the secret in both files
    assert oct(os.stat(str(tmp_path / 'boot' / 'ac0.conf')).st_mode & 0o777) == '0o600'
    assert 'enable --quiet edgenet-pppoe@ac0.service' in systemd.calls and 'start edgenet-pppoe@ac0.service' in systemd.calls
    assert (tmp_path / 'lib' / 'pppoed.py').read_bytes() == _server.program_text()
    script = tmp_path / 'lib' / 'pppoe-ip-up'
    assert oct(os.stat(str(script)).st_mode & 0o777) == '0o755' and _pppoed.MARKER in script.read_text()
    assert '%s/%%i.conf' % _server.BOOT_DIR in (tmp_path / 'units' / _server.UNIT_TEMPLATE).read_text()
    for name in ('pap-secrets', 'chap-secrets'):
        text = (tmp_path / 'ppp' / name).read_text()
        assert '"user1" edgenet-pppoe-ac0 "%s" *' % SECRET in text
        assert oct(os.stat(str(tmp_path / 'ppp' / name)).st_mode & 0o777) == '0o600'
    assert '"other" * "theirs" *' in (tmp_path / 'ppp' / 'pap-secrets').read_text()   # not ours: kept
    warnings = []
    again = _server.run_ppp(task(), *stores(), warn=warnings.append)
    assert not again['changed'] and again['changes'] == []
    assert warnings and 'other' in warnings[0] and 'theirs' not in warnings[0]   # the "*" line: named, its secret not
    assert not run(stores, task(), check_mode=True)['changed']


def test_a_change_is_a_reload_and_drift_in_each_store_is_named_and_repaired(router):
    tmp_path, systemd, stores = router
    run(stores, task())
    systemd.calls[:] = []
    changed = run(stores, task(idle_timeout=600, users=[{'name': 'user1', 'password': 'new-secret'}]))
    assert [(c['store'], c['action'], sorted(c['fields'])) for c in changed['changes']] == [
        ('secrets', 'modify', ['password']), ('persistent', 'modify', ['idle_timeout']),
        ('runtime', 'modify', ['idle_timeout'])]
    assert changed['changes'][0]['fields']['password'] == {'before': engine.SECRET_MASK, 'after': engine.SECRET_MASK}
    assert 'reload edgenet-pppoe@ac0.service' in systemd.calls and 'start edgenet-pppoe@ac0.service' not in systemd.calls
    # drift: the password edited in one file, the boot file edited, the daemon stopped
    chap = tmp_path / 'ppp' / 'chap-secrets'
    chap.write_text(chap.read_text().replace('new-secret', 'typo'))
    boot = tmp_path / 'boot' / 'ac0.conf'
    boot.write_text(boot.read_text().replace('"mtu": 1492', '"mtu": 1400'))
    systemd.pid = None
    drift = run(stores, task(idle_timeout=600, users=[{'name': 'user1', 'password': 'new-secret'}]), check_mode=True)
    assert [(c['store'], c['action'], sorted(c['fields'])) for c in drift['changes']] == [
        ('secrets', 'modify', ['password']), ('persistent', 'modify', ['mtu']),
        # a create row folds the fields with a value: a PPPoE concentrator has no listen_address
        # and no tunnel_secret
        ('runtime', 'create', sorted(f for f in _server.DAEMON_KEYS if f not in ('listen_address', 'tunnel_secret')))]
    repaired = run(stores, task(idle_timeout=600, users=[{'name': 'user1', 'password': 'new-secret'}]))
    assert repaired['changed'] and repaired['server']['idle_timeout'] == 600
    assert not run(stores, task(idle_timeout=600, users=[{'name': 'user1', 'password': 'new-secret'}]))['changed']


def test_a_daemon_that_does_not_report_the_config_rolls_every_store_back(router):
    tmp_path, systemd, stores = router
    systemd.broken = True
    with pytest.raises(engine.ApplyError) as failed:
        run(stores, task())
    assert 'does not report the new config' in str(failed.value) and SECRET not in str(failed.value)
    assert not (tmp_path / 'boot' / 'ac0.conf').exists()
    assert 'user1' not in (tmp_path / 'ppp' / 'pap-secrets').read_text()
    assert '"other" * "theirs" *' in (tmp_path / 'ppp' / 'pap-secrets').read_text()


def test_absent_stops_disables_and_removes_its_users_only(router):
    tmp_path, systemd, stores = router
    run(stores, task(users=[{'name': 'user1', 'password': SECRET}, {'name': 'user2', 'password': 'second-pw'}]))
    fewer = run(stores, task())
    assert [(c['store'], c['object'], c['action']) for c in fewer['changes']] == [('secrets', 'user2', 'delete')]
    gone = run(stores, task(state='absent'))
    assert [(c['store'], c['object'], c['action']) for c in gone['changes']] == [
        ('runtime', 'ac0', 'delete'), ('persistent', 'ac0', 'delete'), ('secrets', 'user1', 'delete')]
    assert gone['server'] is None and gone['users'] == []
    assert 'disable --quiet edgenet-pppoe@ac0.service' in systemd.calls and systemd.pid is None
    assert not (tmp_path / 'boot' / 'ac0.conf').exists()
    assert (tmp_path / 'ppp' / 'pap-secrets').read_text() == '# Secrets for authentication using PAP\n"other" * "theirs" *\n'
    assert not run(stores, task(state='absent'))['changed']


def test_pipexs_options_reach_the_daemon_and_an_older_daemon_runs_neither(router, tmp_path):
    dummy, systemd, stores = router
    nft = tmp_path / 'nft'
    nft.write_text('#!/bin/sh\n')
    nft.chmod(0o755)
    applied = _server.run_ppp(task(adjust_tcpmss=True, ingress_filter=True), *stores(), nft=str(nft))
    assert applied['server']['adjust_tcpmss'] and applied['server']['ingress_filter']
    live = json.loads((tmp_path / 'live' / 'ac0.state').read_text())['config']
    assert live['adjust_tcpmss'] is True and live['ingress_filter'] is True
    # a daemon of an older module reports a config without them: it runs neither (drift if asked)
    assert _server.model_of(dict((k, v) for k, v in live.items() if k not in _pppoed.BOOL_KEYS))['adjust_tcpmss'] is False
    # a change of an option alone is a reload, the sessions stay up
    systemd.calls[:] = []
    off = _server.run_ppp(task(adjust_tcpmss=True), *stores(), nft=str(nft))
    assert [(c['store'], sorted(c['fields'])) for c in off['changes']] == [
        ('persistent', ['ingress_filter']), ('runtime', ['ingress_filter'])]
    assert 'reload edgenet-pppoe@ac0.service' in systemd.calls


def test_pipexs_options_without_nft_are_refused_before_anything_is_touched(router, tmp_path):
    dummy, systemd, stores = router
    for check_mode in (True, False):
        with pytest.raises(_server.PppError, match='adjust_tcpmss need .*apt install nftables'):
            _server.run_ppp(task(adjust_tcpmss=True), *stores(), check_mode=check_mode, nft=str(tmp_path / 'no-nft'))
    assert systemd.calls == [] and not (tmp_path / 'boot' / 'ac0.conf').exists()
    # without either option nft is not needed
    assert _server.run_ppp(task(), *stores(), nft=str(tmp_path / 'no-nft'))['changed']


@pytest.mark.parametrize('changes, words', [
    ({'interface': 'ac*'}, 'interface'),
    ({'interface': '.'}, "interface '.' is not a valid interface name: an interface name is 1-15"),
    ({'interface': '..'}, "interface '..' is not a valid interface name: an interface name is 1-15"),
    ({'remote_pool': '10.70.0.13-10.70.0.10'}, 'remote_pool'),
    ({'remote_pool': '10.70.0.0-10.70.0.13'}, 'lies inside remote_pool'),
    ({'local_address': None}, 'local_address is required'),
    ({'max_sessions': 5}, 'exceeds the 4 addresses'),
    ({'dns_servers': ['10.0.0.1', '10.0.0.2', '10.0.0.3']}, 'two DNS servers'),
    ({'service_name': 'two words'}, 'service_name'),
    ({'users': [{'name': '*', 'password': SECRET}]}, 'user name'),
    ({'users': [{'name': 'u', 'password': '@/etc/shadow'}]}, 'not starting with "@"'),
    ({'users': [{'name': 'u', 'password': 'a"b'}]}, 'double quotes'),
    ({'users': [{'name': 'u', 'password': SECRET}, {'name': 'u', 'password': SECRET}]}, 'listed twice'),
    ({'mtu': 9000}, 'mtu'),
    ({'protocol': 'l2tp'}, 'is required with protocol l2tp'),
    ({'listen_address': '192.0.2.1'}, 'listen_address is for protocol l2tp'),
    ({'protocol': 'l2tp', 'listen_address': '192.0.2.300'}, "listen_address '192.0.2.300' is not an IPv4 address"),
])
def test_bad_input_is_refused_before_anything_is_touched(router, changes, words):
    tmp_path, systemd, stores = router
    with pytest.raises(_server.PppError, match=words.replace('*', r'\*')) as refused:
        run(stores, task(**changes))
    assert SECRET not in str(refused.value) and '/etc/shadow' not in str(refused.value)
    assert systemd.calls == [] or all(c.startswith('show') for c in systemd.calls)
    assert not (tmp_path / 'boot' / 'ac0.conf').exists()


# Every text option with every family of bad text: a clear PppError or success, never another
# exception, nothing written, and the value never echoed whole (a password never at all).
TEXT_OPTIONS = [('interface',), ('service_name',), ('ac_name',), ('local_address',), ('remote_pool',),
                ('dns_servers', 0), ('users', 0, 'name'), ('users', 0, 'password')]


@pytest.mark.parametrize('path', TEXT_OPTIONS, ids=['.'.join(str(p) for p in path) for path in TEXT_OPTIONS])
def test_every_bad_text_ends_in_a_clear_error_or_success(router, path):
    from ansible_collections.edgenet.router.tests.unit.plugins.modules.bad_values import TEXT_BAD, set_path
    tmp_path, systemd, stores = router
    for label, value in TEXT_BAD:
        params = set_path(task(), path, value)
        try:
            _server.run_ppp(params, *stores(), check_mode=True)
        except _server.PppError as exc:
            assert len(str(exc)) < 1000, label
            if path[-1] == 'password':
                assert value not in str(exc) or len(value) < 2, label
    assert not (tmp_path / 'boot' / 'ac0.conf').exists()


def test_an_l2tp_lns_runs_from_the_same_stores_with_its_own_users_and_mtu(router, tmp_path):
    """protocol l2tp: the daemon's config names the listen address and the LNS's own pppd name
    (its users' server column), the MTU defaults to what fits L2TP over a 1500 byte link, and
    xl2tpd missing is refused before anything is touched."""
    dummy, systemd, stores = router
    lns = task(protocol='l2tp', listen_address='192.0.2.1')
    with pytest.raises(_server.PppError, match='protocol l2tp needs .*apt install xl2tpd'):
        _server.run_ppp(lns, *stores(), xl2tpd=str(tmp_path / 'no-xl2tpd'))
    assert systemd.calls == []
    secrets, boot, live = stores()
    secrets = _server.Secrets('ac0', secrets.files, protocol='l2tp')
    applied = _server.run_ppp(lns, secrets, boot, live, xl2tpd='/bin/sh')
    assert applied['server']['protocol'] == 'l2tp' and applied['server']['mtu'] == applied['server']['mru'] == 1460
    config = _pppoed.parse_config((tmp_path / 'boot' / 'ac0.conf').read_text())
    assert (config['protocol'], config['listen_address'], config['auth_name']) == ('l2tp', '192.0.2.1', 'edgenet-l2tp-ac0')
    assert '"user1" edgenet-l2tp-ac0 ' in (tmp_path / 'ppp' / 'chap-secrets').read_text()
    assert not _server.run_ppp(lns, secrets, boot, live, xl2tpd='/bin/sh')['changed']
    # the running concentrator serves PPPoE: it is not turned into an LNS by a reload
    with pytest.raises(engine.ApplyError, match='runs protocol l2tp: to serve pppoe there, remove it first'):
        _server.run_ppp(task(), *stores())


def test_an_lns_tunnel_secret_reaches_the_daemon_and_never_the_result_and_pppoe_refuses_one(router, tmp_path):
    """The tunnel secret is in the daemon's config files (0600) and masked in the result, the
    diff, the changes and every message; a new one is a change (masked too), the same one is none."""
    dummy, systemd, stores = router
    tunnel_secret = 'lac-Secret-42'
    secrets, boot, live = stores()
    secrets = _server.Secrets('ac0', secrets.files, protocol='l2tp')
    lns = task(protocol='l2tp', listen_address='192.0.2.1', tunnel_secret=tunnel_secret)
    applied = _server.run_ppp(lns, secrets, boot, live, xl2tpd='/bin/sh')
    assert applied['changed'] and tunnel_secret not in json.dumps(applied)
    assert applied['server']['tunnel_secret'] == engine.SECRET_MASK
    for path in (tmp_path / 'boot' / 'ac0.conf', tmp_path / 'live' / 'ac0.conf'):
        assert _pppoed.parse_config(path.read_text())['tunnel_secret'] == tunnel_secret
        assert path.stat().st_mode & 0o777 == 0o600
    assert not _server.run_ppp(lns, secrets, boot, live, xl2tpd='/bin/sh')['changed']
    renewed = _server.run_ppp(dict(lns, tunnel_secret='another-one'), secrets, boot, live, check_mode=True, xl2tpd='/bin/sh')
    assert [(c['store'], sorted(c['fields'])) for c in renewed['changes']] == [
        ('persistent', ['tunnel_secret']), ('runtime', ['tunnel_secret'])]
    assert tunnel_secret not in json.dumps(renewed) and 'another-one' not in json.dumps(renewed)
    with pytest.raises(_server.PppError, match='tunnel_secret is for protocol l2tp'):
        _server.run_ppp(task(tunnel_secret=tunnel_secret), *stores())
    with pytest.raises(_server.PppError, match='not shown: it is a secret') as exc:
        _server.run_ppp(dict(lns, tunnel_secret='has space'), secrets, boot, live, xl2tpd='/bin/sh')
    assert 'has space' not in str(exc.value)
