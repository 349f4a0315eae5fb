# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
"""pd_routes: the hook's parsing of Kea's environment, the service's checks of what the spool
holds (untrusted: written by Kea's user), and the routes it asks of ``ip``."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _pdroutesd as d
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._kea_config import models_from_config, render_config
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import desired_service, Dhcpv6Error
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._pdroutes import PdRoutes, apparmor_problem, is_our_hook

PEER = 'fe80::acdb:2eff:fe22:8854'
# What Kea 2.2 set for a Request (seen on the test host, trimmed).
COMMITTED = {
    'QUERY6_TYPE': 'REQUEST', 'QUERY6_REMOTE_ADDR': PEER, 'QUERY6_IFACE_NAME': 's0', 'LEASES6_SIZE': '1',
    'DELETED_LEASES6_SIZE': '0', 'LEASES6_AT0_TYPE': 'IA_PD', 'LEASES6_AT0_ADDRESS': '2001:db8:100::',
    'LEASES6_AT0_PREFIX_LEN': '56', 'LEASES6_AT0_VALID_LIFETIME': '30', 'LEASES6_AT0_CLTT': '1796526053',
    'LEASES6_AT0_STATE': 'default', 'PWD': '/tmp',
}
ADD = {'op': 'add', 'prefix': '2001:db8:100::/56', 'via': PEER, 'dev': 's0', 'expires': 1796526083}


def _with(**changes):
    env = dict(COMMITTED)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.mark.parametrize('hook, env, events, ignored', [
    ('leases6_committed', COMMITTED, [ADD], []),
    ('leases6_committed', _with(LEASES6_AT0_TYPE='IA_NA'), [], []),   # an address: not ours
    ('leases6_committed', _with(LEASES6_SIZE='0', DELETED_LEASES6_SIZE='1', DELETED_LEASES6_AT0_TYPE='IA_PD',
                                DELETED_LEASES6_AT0_ADDRESS='2001:db8:100::', DELETED_LEASES6_AT0_PREFIX_LEN='56',
                                DELETED_LEASES6_AT0_VALID_LIFETIME='30'),
     [{'op': 'del', 'prefix': '2001:db8:100::/56'}], []),
    ('leases6_committed', _with(LEASES6_AT0_VALID_LIFETIME='0'), [{'op': 'del', 'prefix': '2001:db8:100::/56'}], []),
    ('leases6_committed', _with(LEASES6_AT0_STATE='declined'), [{'op': 'del', 'prefix': '2001:db8:100::/56'}], []),
    ('lease6_renew', {'QUERY6_REMOTE_ADDR': PEER, 'QUERY6_IFACE_NAME': 's0', 'LEASE6_TYPE': 'IA_PD',
                      'LEASE6_ADDRESS': '2001:db8:100::', 'LEASE6_PREFIX_LEN': '56', 'LEASE6_VALID_LIFETIME': '30',
                      'LEASE6_CLTT': '1796526053'}, [ADD], []),
    ('lease6_expire', {'LEASE6_TYPE': 'IA_PD', 'LEASE6_ADDRESS': '2001:db8:100:100::', 'LEASE6_PREFIX_LEN': '56',
                       'LEASE6_VALID_LIFETIME': '30', 'REMOVE_LEASE': 'false'},
     [{'op': 'del', 'prefix': '2001:db8:100:100::/56'}], []),
    ('lease6_release', {'LEASE6_TYPE': 'IA_PD', 'LEASE6_ADDRESS': '2001:db8:100::', 'LEASE6_PREFIX_LEN': '56',
                        'LEASE6_VALID_LIFETIME': '30'}, [{'op': 'del', 'prefix': '2001:db8:100::/56'}], []),
    # what is never an event
    ('lease6_select', COMMITTED, [], ['malformed']),
    ('leases6_committed', _with(LEASES6_AT0_ADDRESS='2001:db8:100::1'), [], ['bad_prefix']),   # host bits
    ('leases6_committed', _with(LEASES6_AT0_PREFIX_LEN='129'), [], ['bad_prefix']),
    ('leases6_committed', _with(LEASES6_AT0_PREFIX_LEN='56; reboot'), [], ['bad_prefix']),
    ('leases6_committed', _with(LEASES6_AT0_ADDRESS='ff02::'), [], ['bad_prefix']),
    ('leases6_committed', _with(LEASES6_AT0_ADDRESS='2001:db8:100::\n'), [], ['bad_prefix']),
    ('leases6_committed', _with(LEASES6_AT0_ADDRESS=None), [], ['bad_prefix']),
    ('leases6_committed', _with(QUERY6_IFACE_NAME='s0\nip link del s0'), [], ['bad_interface']),
    ('leases6_committed', _with(QUERY6_IFACE_NAME='-s0'), [], ['bad_interface']),
    ('leases6_committed', _with(QUERY6_IFACE_NAME='a' * 16), [], ['bad_interface']),
    ('leases6_committed', _with(QUERY6_REMOTE_ADDR='ff02::1'), [], ['bad_peer']),
    ('leases6_committed', _with(QUERY6_REMOTE_ADDR='::'), [], ['bad_peer']),
    ('leases6_committed', _with(QUERY6_REMOTE_ADDR='fe80::1%s0'), [], ['bad_peer']),
    ('leases6_committed', _with(QUERY6_REMOTE_ADDR='fe80::1\x1b[2J'), [], ['bad_peer']),
    ('leases6_committed', _with(LEASES6_AT0_VALID_LIFETIME='-1'), [], ['malformed']),
    ('leases6_committed', _with(LEASES6_SIZE='x'), [], ['malformed']),
    ('leases6_committed', _with(LEASES6_SIZE='100000'), [ADD], ['too_many']),   # bounded: 64 read, the rest absent
])
def test_events_from_env(hook, env, events, ignored):
    assert d.events_from_env(hook, env) == (events, ignored)


class FakeIp(object):
    def __init__(self, routes=None):
        self.calls = []
        self.kernel = routes or []

    def __call__(self, argv):
        self.calls.append(argv)
        if argv[:5] == [d.IP, '-6', '-j', 'route', 'show']:
            return 0, json.dumps(self.kernel), ''
        return 0, '', ''


@pytest.fixture
def service(tmp_path):
    spool = tmp_path / 'spool'
    spool.mkdir()
    config = {'spool': str(spool), 'routes_file': str(tmp_path / 'routes.json'),
              'lease_file': str(tmp_path / 'leases6.csv'), 'interfaces': {'s0': ['2001:db8:100::/48']}}
    (tmp_path / 'conf').write_text(d.render_config(config))
    svc = d.Service(str(tmp_path / 'conf'), str(tmp_path / 'state'), run=FakeIp(), now=lambda: 1796526060,
                    log=lambda text: None)
    svc.load_config()
    return svc


def test_an_event_becomes_one_route_and_a_release_removes_it(service):
    service.handle(ADD)
    service.handle(ADD)   # a renewal: nothing to change
    service.handle({'op': 'del', 'prefix': '2001:db8:100::/56'})
    assert service.run.calls == [
        [d.IP, '-6', 'route', 'replace', '2001:db8:100::/56', 'via', PEER, 'dev', 's0', 'proto', d.PROTO],
        [d.IP, '-6', 'route', 'del', '2001:db8:100::/56', 'proto', d.PROTO],
    ]
    assert service.counters['added'] == 1 and service.counters['removed'] == 1


@pytest.mark.parametrize('event, reason', [
    (dict(ADD, dev='s1'), 'unknown_interface'),
    (dict(ADD, prefix='2001:db8:200::/56'), 'outside_pools'),
    (dict(ADD, prefix='2001:db8::/32'), 'outside_pools'),   # wider than the pool
    (dict(ADD, via='2001:db8::1;id'), 'bad_peer'),
    (dict(ADD, dev='s0 via ::1'), 'bad_interface'),
    (dict(ADD, expires='soon'), 'malformed'),
    (dict(ADD, op='exec'), 'malformed'),
    ('add', 'malformed'),
    ({'op': 'del', 'prefix': '2001:db8:100::/56\x00'}, 'bad_prefix'),
])
def test_the_service_ignores_and_counts_what_it_cannot_trust(service, event, reason):
    service.handle(event)
    assert service.run.calls == []
    assert service.counters['ignored'][reason] == 1
    assert service.routes == {}


def _spool(service, name, data):
    path = os.path.join(service.config['spool'], name)
    with open(path, 'wb') as handle:
        handle.write(data)
    return path


def test_the_spool_is_untrusted(service, tmp_path):
    good = json.dumps({'hook': 'leases6_committed', 'events': [ADD], 'ignored': ['bad_peer']}).encode()
    _spool(service, '00000000000000000001-1.json', good)
    _spool(service, '00000000000000000002-1.json', b'{"events": "rm -rf /"')
    _spool(service, '00000000000000000003-1.json', b' ' * (d.MAX_EVENT_BYTES + 1))
    _spool(service, '00000000000000000004-1.json', json.dumps({'events': [{'op': 'add'}], 'ignored': ['nope']}).encode())
    os.symlink(str(tmp_path / 'conf'), os.path.join(service.config['spool'], '00000000000000000005-1.json'))
    _spool(service, 'whatever; reboot', b'x')
    assert service.read_spool() == 5
    assert os.listdir(service.config['spool']) == []
    assert service.run.calls == [[d.IP, '-6', 'route', 'replace', '2001:db8:100::/56', 'via', PEER, 'dev', 's0',
                                  'proto', d.PROTO]]
    ignored = service.counters['ignored']
    assert ignored['bad_peer'] == 1 and ignored['too_large'] == 1
    assert ignored['malformed'] == 3   # broken JSON, the unknown reason, the symlink
    assert ignored['bad_prefix'] == 1  # the event without a prefix


def test_the_hook_writes_one_file_of_checked_events(tmp_path):
    name = d.write_event(str(tmp_path), 'leases6_committed', COMMITTED, now=5)
    assert name == '%020d-%d.json' % (5, os.getpid())
    assert json.loads((tmp_path / name).read_text()) == {'hook': 'leases6_committed', 'events': [ADD], 'ignored': []}
    assert d.write_event(str(tmp_path), 'leases6_committed', _with(LEASES6_AT0_TYPE='IA_NA')) is None


def test_start_puts_back_remembered_routes_still_leased_and_drops_the_rest(service, tmp_path):
    (tmp_path / 'leases6.csv').write_text(
        'address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,'
        'hostname,hwaddr,state,user_context\n'
        '2001:db8:100::,00:01,7200,1796533000,1,3600,2,1,56,0,0,,,0,\n'
        '2001:db8:100:100::,00:02,0,1796526000,1,3600,2,1,56,0,0,,,0,\n')
    (tmp_path / 'routes.json').write_text(json.dumps({'routes': {
        '2001:db8:100::/56': {'via': PEER, 'dev': 's0', 'expires': 1},
        '2001:db8:100:100::/56': {'via': PEER, 'dev': 's0', 'expires': 1796533000}}}))
    service.run.kernel = [{'dst': '2001:db8:100:100::/56'}, {'dst': 'default'}]
    service.reconcile()
    assert service.run.calls[1:] == [
        [d.IP, '-6', 'route', 'del', '2001:db8:100:100::/56', 'proto', d.PROTO],
        [d.IP, '-6', 'route', 'replace', '2001:db8:100::/56', 'via', PEER, 'dev', 's0', 'proto', d.PROTO],
    ]
    assert service.routes == {'2001:db8:100::/56': {'via': PEER, 'dev': 's0', 'expires': 1796533000}}


def test_a_lease_that_ran_out_unrenewed_loses_its_route(service):
    service.handle(dict(ADD, expires=1796526060 - d.EXPIRY_GRACE - 1))
    service.sweep()
    assert service.routes == {} and service.counters['removed'] == 1


# ---- the model and Kea's config ---------------------------------------------------------------
SERVER = {'interface': 's0', 'subnet': '2001:db8:1::/64', 'dns_servers': ['2001:db8:1::1'],
          'prefix_delegation': [{'prefix': '2001:db8:100::/48', 'delegated_length': 56}]}


def test_pd_routes_defaults_off_and_needs_prefix_delegation():
    assert desired_service(dict(SERVER))['pd_routes'] is False
    assert desired_service(dict(SERVER, pd_routes=True))['pd_routes'] is True
    with pytest.raises(Dhcpv6Error, match='prefix_delegation is empty'):
        desired_service(dict(SERVER, pd_routes=True, prefix_delegation=[]))


def test_kea_config_carries_the_hook_entry_and_reads_it_back():
    obj = desired_service(dict(SERVER, pd_routes=True))
    pd = PdRoutes({'config_file': '/etc/kea/kea-dhcp6.conf', 'lease_file': '/var/lib/kea/kea-leases6.csv'}, None)
    settings = {'control_socket': '/run/kea/s', 'lease_file': '/var/lib/kea/kea-leases6.csv',
                'pd_hook': pd.hook_entry('/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_run_script.so')}
    other = {'library': '/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so'}
    config = render_config({'s0': obj}, settings, {'Dhcp6': {'hooks-libraries': [other]}})
    hooks = config['Dhcp6']['hooks-libraries']
    assert hooks[0] == other and is_our_hook(hooks[1])
    assert hooks[1]['parameters'] == {'name': '/usr/local/lib/edgenet-router/dhcp6-pd-hook-edgenet-dhcp6-pd-routes.sh',
                                      'sync': False}
    assert models_from_config(config)['s0']['pd_routes'] is True
    config['Dhcp6']['hooks-libraries'] = [other]   # removed by hand: drift
    assert 'hook missing' in models_from_config(config)['s0']['pd_routes']
    off = render_config({'s0': dict(obj, pd_routes=False)}, settings, config)
    assert off['Dhcp6']['hooks-libraries'] == [other]
    assert models_from_config(off)['s0']['pd_routes'] is False


DEBIAN12_PROFILE = 'profile kea-dhcp6 /usr/sbin/kea-dhcp6 {\n  /etc/kea/** r,\n}\n'
DEBIAN13_PROFILE = 'profile kea-dhcp6 /usr/sbin/kea-dhcp6 {\n  /etc/kea/** r,\n  #include <local/usr.sbin.kea-dhcp6>\n}\n'
RULE = '/usr/local/lib/edgenet-router/dhcp6-pd-hook-*.sh Ux,\n'


@pytest.mark.parametrize('mode, profile, local, warned', [
    (None, DEBIAN12_PROFILE, None, False),                      # AppArmor off (no securityfs file)
    ('complain', DEBIAN12_PROFILE, None, False),                # complain mode denies nothing
    ('enforce', DEBIAN12_PROFILE, None, True),                  # Debian's profile: no script at all
    ('enforce', DEBIAN12_PROFILE, RULE, True),                  # Debian 12 does not include the site file
    ('enforce', DEBIAN12_PROFILE.replace('}', '  #include <local/usr.sbin.kea-dhcp6>\n}'), RULE, False),
    ('enforce', DEBIAN13_PROFILE, RULE, False),
    ('enforce', DEBIAN13_PROFILE, '', True),
    ('enforce', DEBIAN12_PROFILE.replace('}', '  ' + RULE + '}'), None, False),   # edited in the profile itself
])
def test_apparmor_denying_kea_the_hook_is_said(tmp_path, mode, profile, local, warned):
    """Kea confined by Debian's profile is denied the hook and no route ever appears: said, not silent
    (a Debian 12 guest logged apparmor="DENIED" operation="exec" and routed nothing)."""
    profiles = tmp_path / 'profiles'
    if mode:
        profiles.write_text('lsb_release (enforce)\nkea-dhcp6 (%s)\n' % mode)
    (tmp_path / 'local').mkdir()
    (tmp_path / 'usr.sbin.kea-dhcp6').write_text(profile)
    if local is not None:
        (tmp_path / 'local' / 'usr.sbin.kea-dhcp6').write_text(local)
    problem = apparmor_problem(str(tmp_path), str(profiles))
    assert bool(problem) is warned
    if warned:
        assert 'denied' in problem and RULE.strip() in problem and 'apparmor_parser -r' in problem
