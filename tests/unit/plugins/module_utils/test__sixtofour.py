# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The 6to4 address rules and sixtofour_relay's behaviour above the seams: a fake netlink and
real networkd files. (The 6to4/6rd arithmetic is tested in test__prefix.py.)"""

from __future__ import annotations

import os

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils import _sixtofour
from ansible_collections.edgenet.router.plugins.module_utils._prefix import PrefixError
from ansible_collections.edgenet.router.plugins.module_utils._sixtofour import (
    SixToFourError, argument_spec, check_sixtofour_ipv4, run_sixtofour,
)
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TunnelError, desired_tunnel
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import MANAGED_ALIAS, KernelTunnels, from_kernel
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_networkd import NetworkdTunnels, parse_files, render_files
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_netlink import FakeNetlink


# ---- the 6to4 address rules --------------------------------------------------------------------
REFUSED = [
    ('10.1.2.3', 'private address (RFC 1918) in 10.0.0.0/8'),
    ('172.16.9.9', 'private address (RFC 1918) in 172.16.0.0/12'),
    ('192.168.1.1', 'private address (RFC 1918) in 192.168.0.0/16'),
    ('100.64.0.1', 'carrier-grade NAT (RFC 6598) in 100.64.0.0/10'),
    ('127.0.0.1', 'loopback address'),
    ('169.254.1.1', 'link-local address'),
    ('0.1.2.3', '"this network"'),
    ('224.0.0.5', 'multicast'),
    ('240.0.0.1', 'reserved'),
    ('198.18.0.1', 'benchmarking'),
    ('192.88.99.1', 'deprecated by RFC 7526'),
    ('192.0.2.1', 'documentation address (RFC 5737) in 192.0.2.0/24'),
    ('198.51.100.7', 'allow_documentation_addresses'),
    ('203.0.113.9', 'allow_documentation_addresses'),
]


@pytest.mark.parametrize('address, message', REFUSED)
def test_non_global_ipv4_is_refused_for_6to4(address, message):
    with pytest.raises(SixToFourError, match=message.replace('(', r'\(').replace(')', r'\)')):
        check_sixtofour_ipv4(address, 'local')


def test_documentation_ranges_only_when_allowed():
    assert str(check_sixtofour_ipv4('198.51.100.7', 'local', allow_documentation=True)) == '198.51.100.7'
    with pytest.raises(SixToFourError, match='private'):
        check_sixtofour_ipv4('10.0.0.1', 'local', allow_documentation=True)
    assert str(check_sixtofour_ipv4('8.8.8.8', 'local')) == '8.8.8.8'


# ---- 6rd in the tunnel table -------------------------------------------------------------------
def test_kernel_default_6rd_data_is_plain_6to4():
    link = {'name': 't', 'kind': 'sit', 'mtu': 1280, 'up': True,
            'data': {'local': '198.51.100.7', 'remote': '0.0.0.0', 'proto': 41, 'ttl': 0, 'pmtudisc': 1,
                     '6rd_prefix': '2002::', '6rd_prefixlen': 16, '6rd_relay_prefix': '0.0.0.0',
                     '6rd_relay_prefixlen': 0}}
    obj = from_kernel(link, [], [], {})
    assert obj['type'] == '6to4' and obj['sixrd_prefix'] is None and obj['sixrd_relay_prefix'] is None
    link['data'].update({'6rd_prefix': '2010::', '6rd_relay_prefix': '12.0.0.0', '6rd_relay_prefixlen': 8})
    obj = from_kernel(link, [], [], {})
    assert (obj['type'], obj['sixrd_prefix'], obj['sixrd_relay_prefix']) == ('6rd', '2010::/16', '12.0.0.0/8')


def test_6rd_tunnel_fields_and_files_round_trip():
    obj = desired_tunnel({'name': 't', 'type': '6rd', 'local': '192.0.2.1', 'sixrd_prefix': '2001:0db8::/32',
                          'addresses': ['2001:db8:c000:201::1/32']})
    assert obj['sixrd_prefix'] == '2001:db8::/32' and obj['sixrd_relay_prefix'] == '0.0.0.0/0'
    files = render_files(obj)
    assert 'IPv6RapidDeploymentPrefix=2001:db8::/32' in files['netdev']
    back = parse_files('t', files)
    assert all(back[k] == obj[k] for k in ('type', 'local', 'remote', 'sixrd_prefix', 'sixrd_relay_prefix'))


@pytest.mark.parametrize('task, message', [
    ({'type': '6rd', 'local': '192.0.2.1'}, 'needs sixrd_prefix'),
    ({'type': '6rd', 'sixrd_prefix': '2001:db8::/32'}, 'type 6rd needs local'),
    ({'type': '6rd', 'local': '192.0.2.1', 'remote': '192.0.2.2', 'sixrd_prefix': '2001:db8::/32'}, 'takes no remote'),
    ({'type': '6to4', 'local': '192.0.2.1', 'sixrd_prefix': '2001:db8::/32'}, 'applies to type 6rd only'),
    ({'type': '6rd', 'local': '192.0.2.1', 'sixrd_prefix': '2001:db8::/40'}, 'at most /64'),
    ({'type': '6rd', 'local': '192.0.2.1', 'sixrd_prefix': '2001:db8::'}, 'needs a prefix length'),
    ({'type': '6rd', 'local': '192.0.2.1', 'sixrd_prefix': '2001:db8::/32', 'sixrd_relay_prefix': 'x'},
     'not an IPv4 prefix'),
])
def test_6rd_tunnel_bad_input(task, message):
    with pytest.raises(TunnelError, match=message):
        desired_tunnel(dict(task, name='t'))


# ---- the module's behaviour --------------------------------------------------------------------
SPEC_DEFAULTS = dict((name, spec.get('default')) for name, spec in argument_spec().items())


def params(**kwargs):
    out = dict(SPEC_DEFAULTS)
    out.update(kwargs)
    return out


SITE = dict(name='tun6to4', role='6to4-site', local='198.51.100.7', relay='203.0.113.99',
            allow_documentation_addresses=True)
RELAY = dict(name='tun6to4', role='6to4-relay', local='203.0.113.99', allow_documentation_addresses=True)
CE = dict(name='tun6rd', role='6rd-ce', local='12.12.12.2', sixrd_prefix='2010::/16', border_relays=['12.12.12.1'])
BR = dict(name='tun6rd', role='6rd-br', local='12.12.12.1', sixrd_prefix='2010::/16')


class Router(object):

    def __init__(self, tmp_path):
        self.nl = FakeNetlink()
        self.dir = str(tmp_path / 'network')

    def run(self, check_mode=False, **kwargs):
        p = params(networkd_dir=self.dir, **kwargs)
        self.nl.read_only = check_mode
        try:
            files = NetworkdTunnels(self.dir) if p['persistent'] else None
            return run_sixtofour(p, KernelTunnels(self.nl), files, check_mode=check_mode)
        finally:
            self.nl.read_only = False

    def files(self):
        names = os.listdir(self.dir) if os.path.isdir(self.dir) else []
        return sorted(n for n in names if n.endswith(('.netdev', '.network')))

    def read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def link(self, name):
        return self.nl.links_by_name.get(name)


@pytest.fixture
def router(tmp_path):
    return Router(tmp_path)


@pytest.mark.parametrize('task, prefix, address, routes, relay', [
    (SITE, '2002:c633:6407::/48', '2002:c633:6407::1/16',
     [{'dest': '::/0', 'via': '::cb00:7163', 'metric': 1024}], ['203.0.113.99']),
    (dict(SITE, relay='none'), '2002:c633:6407::/48', '2002:c633:6407::1/16', [], []),
    (RELAY, '2002:cb00:7163::/48', '2002:cb00:7163::1/128', [{'dest': '2002::/16', 'via': None, 'metric': 1024}], []),
    (CE, '2010:c0c:c02::/48', '2010:c0c:c02::1/16', [{'dest': '::/0', 'via': '::c0c:c01', 'metric': 1024}],
     ['12.12.12.1']),
    (BR, '2010:c0c:c01::/48', '2010:c0c:c01::1/128', [{'dest': '2010::/16', 'via': None, 'metric': 1024}], []),
])
def test_each_role_check_apply_idempotent_check(router, task, prefix, address, routes, relay):
    check = router.run(check_mode=True, **task)
    assert check['changed'] and router.link(task['name']) is None and router.files() == []
    assert (check['prefix'], check['address'], check['relay']) == (prefix, address, relay)
    real = router.run(**task)
    assert real['changed'] and real['commands'] == check['commands']
    assert (real['prefix'], real['address'], real['relay']) == (prefix, address, relay)
    tunnel = real['tunnel']
    assert tunnel['addresses'] == [address] and tunnel['routes'] == routes
    assert tunnel['remote'] == 'any' and tunnel['mtu'] == 1280
    assert tunnel['type'] == ('6rd' if task['role'].startswith('6rd') else '6to4')
    assert router.link(task['name'])['alias'] == MANAGED_ALIAS
    assert [c['store'] for c in real['changes']] == ['persistent', 'runtime']
    again = router.run(**task)
    assert not again['changed'] and again['commands'] == [] and again['previous']['prefix'] == prefix
    assert not router.run(check_mode=True, **task)['changed']


def test_6rd_kernel_attributes_and_commands(router):
    res = router.run(**dict(CE, persistent=False, ipv4_masklen=8))
    data = router.link('tun6rd')['data']
    assert (data['6rd_prefix'], data['6rd_prefixlen'], data['6rd_relay_prefix'], data['6rd_relay_prefixlen']) \
        == ('2010::', 16, '12.0.0.0', 8)
    assert res['prefix'] == '2010:c0c:200::/40'   # 24 bits 0c0c02 behind 2010::/16
    assert 'ip link add tun6rd type sit mode ip6ip local 12.12.12.2 remote any ttl inherit tos 0 pmtudisc ' \
        '6rd-prefix 2010::/16 6rd-relay_prefix 12.0.0.0/8' in res['commands']
    assert 'ip route add ::/0 via ::c0c:c01 metric 1024 dev tun6rd' in res['commands']


def test_6rd_persistent_file(router):
    router.run(**CE)
    netdev = router.read('60-edgenet-tun6rd.netdev')
    assert 'Kind=sit' in netdev and 'Remote=any' in netdev and 'IPv6RapidDeploymentPrefix=2010::/16' in netdev
    network = router.read('60-edgenet-tun6rd.network')
    assert 'Address=2010:c0c:c02::1/16' in network and 'Gateway=::c0c:c01' in network


def test_check_mode_reports_a_changed_public_ipv4_without_touching_anything(router):
    router.nl.add_plain('wan0', 'veth')
    wan = router.link('wan0')['index']
    router.nl.addrs[wan] = ['198.51.100.7/24', '10.0.0.2/8', '2001:db8::2/64']
    task = dict(SITE, local=None, local_interface='wan0')
    first = router.run(**task)
    assert first['prefix'] == '2002:c633:6407::/48' and first['previous'] is None
    # The ISP hands out a new address.
    router.nl.addrs[wan] = ['198.51.100.9/24', '10.0.0.2/8']
    snapshot = [router.read(n) for n in router.files()]
    res = router.run(check_mode=True, **task)
    assert res['changed']
    assert res['prefix'] == '2002:c633:6409::/48' and res['address'] == '2002:c633:6409::1/16'
    assert res['previous'] == {'local': '198.51.100.7', 'prefix': '2002:c633:6407::/48',
                               'address': '2002:c633:6407::1/16', 'relay': ['203.0.113.99']}
    runtime = [c for c in res['changes'] if c['store'] == 'runtime'][0]
    assert runtime['fields']['local'] == {'before': '198.51.100.7', 'after': '198.51.100.9'}
    assert runtime['fields']['addresses'] == {'before': ['2002:c633:6407::1/16'], 'after': ['2002:c633:6409::1/16']}
    assert any('renumber' in w for w in res['warnings'])
    assert router.nl.writes.count(('addr add', '2002:c633:6409::1/16')) == 0
    assert [router.read(n) for n in router.files()] == snapshot
    assert router.link('tun6to4')['data']['local'] == '198.51.100.7'
    real = router.run(**task)
    assert real['changed'] and router.link('tun6to4')['data']['local'] == '198.51.100.9'
    assert not router.run(check_mode=True, **task)['changed']


def test_local_interface_needs_exactly_one_usable_address(router):
    router.nl.add_plain('wan0', 'veth')
    wan = router.link('wan0')['index']
    router.nl.addrs[wan] = ['10.0.0.2/8', '192.168.1.2/24']
    with pytest.raises(SixToFourError, match=r'no IPv4 address this role can use: it has 10\.0\.0\.2 \(private'):
        router.run(**dict(SITE, local=None, local_interface='wan0'))
    router.nl.addrs[wan] = ['198.51.100.7/24', '198.51.100.8/24']
    with pytest.raises(SixToFourError, match='has 2 usable IPv4 addresses'):
        router.run(**dict(SITE, local=None, local_interface='wan0'))
    # 6rd domains may use private IPv4 addresses.
    router.nl.addrs[wan] = ['10.0.0.2/8']
    res = router.run(**dict(CE, local=None, local_interface='wan0', sixrd_prefix='2001:db8::/32'))
    assert res['prefix'] == '2001:db8:a00:2::/64'
    with pytest.raises(SixToFourError, match='does not exist'):
        router.run(**dict(SITE, local=None, local_interface='nope0'))


def test_anycast_relay_only_when_named_and_with_a_warning(router):
    res = router.run(**dict(SITE, relay='192.88.99.1'))
    assert res['relay'] == ['192.88.99.1'] and 'RFC 7526' in res['warnings'][0]
    assert res['tunnel']['routes'] == [{'dest': '::/0', 'via': '::c058:6301', 'metric': 1024}]
    res = router.run(**dict(SITE, relay=None))
    assert res['relay'] == [] and res['tunnel']['routes'] == [] and res['warnings'] == []


def test_border_relays_are_an_order_of_preference(router):
    res = router.run(**dict(CE, border_relays=['12.12.12.1', '12.12.13.1'], route_metric=100))
    assert res['tunnel']['routes'] == [{'dest': '::/0', 'via': '::c0c:c01', 'metric': 100},
                                       {'dest': '::/0', 'via': '::c0c:d01', 'metric': 101}]


def test_switching_6to4_to_6rd_recreates_the_device(router):
    router.run(**dict(SITE, name='tun0'))
    index = router.link('tun0')['index']
    with pytest.raises(engine.PlanError, match='recreate=never'):
        router.run(**dict(CE, name='tun0', recreate='never'))
    res = router.run(**dict(CE, name='tun0'))
    assert [c['action'] for c in res['changes']] == ['recreate', 'recreate']
    assert router.link('tun0')['index'] != index and router.link('tun0')['data']['6rd_prefixlen'] == 16


def test_absent_removes_everything(router):
    router.run(**SITE)
    res = router.run(name='tun6to4', state='absent', role=None, local=None)
    assert res['changed'] and res['tunnel'] is None and res['prefix'] is None
    assert res['previous']['prefix'] == '2002:c633:6407::/48'
    assert router.link('tun6to4') is None and router.files() == []
    assert not router.run(name='tun6to4', state='absent')['changed']


BAD = [
    ('private local', dict(SITE, local='192.168.1.1'), 'private address'),
    ('cgnat local', dict(SITE, local='100.64.1.1'), 'RFC 6598'),
    ('documentation local', dict(SITE, allow_documentation_addresses=False), 'allow_documentation_addresses'),
    ('private relay', dict(SITE, relay='10.0.0.1'), 'relay 10.0.0.1 is a private address'),
    ('relay garbage', dict(SITE, relay='relay.invalid.'), 'does not resolve'),
    ('relay on a relay', dict(RELAY, relay='203.0.113.1'), 'relay applies to role 6to4-site only'),
    ('BRs on a site', dict(SITE, border_relays=['203.0.113.1']), 'border_relays applies to role 6rd-ce only'),
    ('6rd prefix on 6to4', dict(SITE, sixrd_prefix='2010::/16'), 'apply to the 6rd roles only'),
    ('6rd without prefix', dict(CE, sixrd_prefix=None), 'needs sixrd_prefix'),
    ('CE without BR', dict(CE, border_relays=[]), 'needs border_relays'),
    ('BR multicast', dict(CE, border_relays=['224.0.0.1']), 'multicast'),
    ('delegated too long', dict(CE, sixrd_prefix='2001:db8::/48'),
     r'sixrd_prefix /48 with ipv4_masklen 0 gives a /80 delegated prefix \(48 \+ 32 - 0\), longer than /64'),
    ('bad masklen', dict(CE, ipv4_masklen=40), 'between 0 and 32'),
    ('relay prefix not persistable', dict(CE, ipv4_masklen=8), 'cannot be made persistent.*relay prefix'),
    ('persistent in netns', dict(SITE, netns='ns1'), 'not possible with netns'),
    ('bad name', dict(SITE, name='a/b'), 'tunnel name .* is not a valid interface name'),
    ('fallback name', dict(SITE, name='sit0'), 'fallback tunnel device'),
    ('local is ipv6', dict(SITE, local='2001:db8::1'), 'IPv6 address'),
    ('name held by a non-tunnel', dict(SITE, name='eth0'), 'not IP tunnels'),
]


@pytest.mark.parametrize('task, message', [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_fails_clearly_and_changes_nothing(router, task, message):
    router.nl.read_only = True
    with pytest.raises((PrefixError, TunnelError), match=message):
        run_sixtofour(params(networkd_dir=router.dir, **task), KernelTunnels(router.nl), NetworkdTunnels(router.dir))
    assert router.nl.writes == [] and router.files() == []


def test_the_relay_is_read_back_from_the_kernel_not_echoed(router):
    router.run(**SITE)
    # by hand: the default route now points to another relay, with a better metric
    tunnel = router.link('tun6to4')
    router.nl.route_table[tunnel['index']].append({'dest': '::/0', 'via': '::cb00:7101', 'metric': 10})
    check = router.run(check_mode=True, **dict(SITE, persistent=False))
    assert check['previous']['relay'] == ['203.0.113.1', '203.0.113.99']   # what the router uses now, best first
    assert check['relay'] == ['203.0.113.99']                               # what it would use after the task
    real = router.run(**dict(SITE, persistent=False))
    assert real['relay'] == ['203.0.113.99'] and real['previous']['relay'] == ['203.0.113.1', '203.0.113.99']


def test_kernel_relays_take_only_ipv4_compatible_default_routes():
    tunnel = {'routes': [{'dest': '::/0', 'via': '::c0c:d01', 'metric': 101}, {'dest': '::/0', 'via': '::c0c:c01', 'metric': 100},
                         {'dest': '2002::/16', 'via': None, 'metric': 1024}, {'dest': '::/0', 'via': 'fe80::1', 'metric': 1},
                         {'dest': '::/0', 'via': '::', 'metric': 1}, {'dest': '::/0', 'via': 'bogus', 'metric': 1}]}
    assert _sixtofour.kernel_relays(tunnel) == ['12.12.12.1', '12.12.13.1']
    assert _sixtofour.kernel_relays(None) == [] and _sixtofour.kernel_relays({'routes': None}) == []
