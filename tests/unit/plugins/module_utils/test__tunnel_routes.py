# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Routes on tunnels with a table, a preferred source and a source prefix: the task's rules, the
route requests' bytes and a run through the fake kernel. The kernel's answers are proven in the
lab (tests/lab/targets/iptun, tasks/routes.yml)."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._netlink import Netlink
from ansible_collections.edgenet.router.plugins.module_utils._rtnl import _codec as rtnl
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TunnelError, _norm_route, _norm_route_list
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import route_words
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__iptun import Router

SIX = dict(name='t6', type='ip6ip6', local='2001:db8::1', remote='2001:db8::2', addresses=['2001:db8:6::1/64'])


@pytest.fixture
def router(tmp_path):
    return Router(tmp_path)


@pytest.mark.parametrize('route, canonical', [
    ({'dest': '::/0'}, {'dest': '::/0', 'via': None, 'metric': 1024}),     # the form it always had
    ({'dest': '::/0', 'table': 'main'}, {'dest': '::/0', 'via': None, 'metric': 1024}),
    ({'dest': '::/0', 'table': 254}, {'dest': '::/0', 'via': None, 'metric': 1024}),
    ({'dest': '::/0', 'table': '100'}, {'dest': '::/0', 'via': None, 'metric': 1024, 'table': 100}),
    ({'dest': '::/0', 'table': 'default'}, {'dest': '::/0', 'via': None, 'metric': 1024, 'table': 253}),
    ({'dest': '::/0', 'from': '2001:db8:1::/48'}, {'dest': '::/0', 'via': None, 'metric': 1024, 'from': '2001:db8:1::/48'}),
    ({'dest': '::/0', 'from': '2001:db8:1::1/48'}, {'dest': '::/0', 'via': None, 'metric': 1024, 'from': '2001:db8:1::/48'}),
    ({'dest': '::/0', 'from': '::/0'}, {'dest': '::/0', 'via': None, 'metric': 1024}),
    ({'dest': '10.0.0.0/8', 'src': ' 10.9.0.1 ', 'table': 7, 'metric': 5},
     {'dest': '10.0.0.0/8', 'via': None, 'metric': 5, 'table': 7, 'src': '10.9.0.1'}),
])
def test_a_route_takes_table_src_and_from_and_keeps_its_old_form_without_them(route, canonical):
    assert _norm_route(route) == canonical


@pytest.mark.parametrize('route, message', [
    ({'dest': '::/0', 'table': 255}, 'table 255 must be a number 1-4294967295 other than 255'),
    ({'dest': '::/0', 'table': 0}, 'table 0 must be a number'),
    ({'dest': '::/0', 'table': 'local'}, "table 'local' must be"),
    ({'dest': '::/0', 'table': 2 ** 32}, 'must be a number'),
    ({'dest': '::/0', 'src': '10.0.0.1'}, 'src 10.0.0.1 is of the other address family'),
    ({'dest': '::/0', 'src': 'ff02::1'}, 'is not a unicast address'),
    ({'dest': '::/0', 'src': 'host.example'}, "src 'host.example' is not an IP address"),
    ({'dest': '10.0.0.0/8', 'from': '192.0.2.0/24'}, 'only IPv6 routes can have a source prefix'),
    ({'dest': '::/0', 'from': 'nope'}, "from 'nope' is not a network"),
    ({'dest': '::/0', 'gateway': '::1'}, 'unknown keys'),
])
def test_bad_route_fields_are_refused_with_the_reason(route, message):
    with pytest.raises(TunnelError) as caught:
        _norm_route(route)
    assert message in str(caught.value)


def test_the_same_destination_may_be_in_two_tables_or_from_two_sources_but_not_twice_in_one():
    routes = _norm_route_list([{'dest': '::/0'}, {'dest': '::/0', 'table': 100},
                               {'dest': '::/0', 'from': '2001:db8:1::/48'}])
    assert len(routes) == 3
    with pytest.raises(TunnelError, match='the route to ::/0 with metric 1024 in table 100 twice'):
        _norm_route_list([{'dest': '::/0', 'table': 100}, {'dest': '::/0', 'table': '100', 'via': 'fe80::1'}])


def test_the_ip_words_name_from_src_and_table():
    assert route_words({'dest': '::/0', 'via': 'fe80::1', 'metric': 1024, 'table': 100, 'src': '2001:db8:6::1',
                        'from': '2001:db8:1::/48'}) == \
        ['::/0', 'from', '2001:db8:1::/48', 'via', 'fe80::1', 'src', '2001:db8:6::1', 'metric', '1024', 'table', '100']


def test_the_route_request_carries_table_source_prefix_and_preferred_source():
    args = Netlink._route_args(7, {'dest': '::/0', 'via': None, 'metric': 1024, 'table': 100,
                                   'src': '2001:db8:6::1', 'from': '2001:db8:1::/48'})
    dummy, dummy, body = rtnl.new_route_request(**args)
    route = rtnl.parse_route(body)
    assert (route['family'], route['table'], route['oif'], route['src'], route['src_len'], route['prefsrc']) == \
        (socket.AF_INET6, 100, 7, '2001:db8:1::', 48, '2001:db8:6::1')
    plain = rtnl.parse_route(rtnl.new_route_request(**Netlink._route_args(7, {'dest': '::/0', 'via': None, 'metric': 1024}))[2])
    assert (plain['table'], plain['src'], plain['src_len'], plain['prefsrc']) == (rtnl.RT_TABLE_MAIN, None, 0, None)


def test_routes_in_other_tables_apply_and_read_back_then_move_between_tables(router):
    routes = [{'dest': '::/0', 'table': 100, 'src': '2001:db8:6::1'}, {'dest': '::/0', 'from': '2001:db8:1::/48'}]
    first = router.run(persistent=False, **dict(SIX, routes=routes))
    assert first['changed']
    assert first['tunnel']['routes'] == [{'dest': '::/0', 'via': None, 'metric': 1024, 'table': 100, 'src': '2001:db8:6::1'},
                                         {'dest': '::/0', 'via': None, 'metric': 1024, 'from': '2001:db8:1::/48'}]
    assert 'ip route add ::/0 via' not in ' '.join(first['commands'])
    assert 'ip route add ::/0 src 2001:db8:6::1 metric 1024 table 100 dev t6' in first['commands']
    assert not router.run(persistent=False, **dict(SIX, routes=routes))['changed']
    moved = router.run(persistent=False, **dict(SIX, routes=[{'dest': '::/0', 'table': 200, 'src': '2001:db8:6::1'},
                                                             {'dest': '::/0', 'from': '2001:db8:1::/48'}]))
    assert moved['changed'] and moved['commands'] == ['ip route del ::/0 src 2001:db8:6::1 metric 1024 table 100 dev t6',
                                                      'ip route add ::/0 src 2001:db8:6::1 metric 1024 table 200 dev t6']


ROUTES = [{'dest': '::/0', 'table': 100, 'src': '2001:db8:6::1'}, {'dest': '::/0', 'from': '2001:db8:1::/48', 'via': 'fe80::1'},
          {'dest': '2001:db8:9::/48', 'metric': 5}]


def _persistent_tunnel():
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel import desired_tunnel
    from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__iptun import fake_resolve
    return desired_tunnel(dict(SIX, routes=ROUTES), fake_resolve)


def test_networkd_keeps_table_preferred_source_and_source_prefix():
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel_networkd import parse_files, render_files
    obj = _persistent_tunnel()
    files = render_files(obj)
    assert 'Table=100' in files['network'] and 'PreferredSource=2001:db8:6::1' in files['network']
    assert 'Source=2001:db8:1::/48' in files['network']
    assert parse_files('t6', files)['routes'] == obj['routes']
    edited = dict(files, network=files['network'].replace('Table=100', 'Table=101'))
    assert [r.get('table') for r in parse_files('t6', edited)['routes']] == [None, 101, None]   # a hand edit is drift


def test_ifupdown_keeps_table_preferred_source_and_source_prefix():
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel_ifupdown import parse_hooks, render_hooks
    obj = _persistent_tunnel()
    hooks = render_hooks(obj)
    assert ('up', ['ip', 'route', 'add', '::/0', 'from', '2001:db8:1::/48', 'via', 'fe80::1', 'metric', '1024', 'dev', 't6']) in hooks
    assert parse_hooks('t6', True, hooks)['routes'] == obj['routes']


def test_networkmanager_keeps_them_as_route_options():
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel_nm import parse_groups, render_groups
    obj = _persistent_tunnel()
    groups = dict((group, dict((key, str(value)) for key, value in pairs if value is not None))
                  for group, pairs in render_groups(obj))
    # in the canonical order: 2001:db8:9::/48 (no options), then ::/0 in table 100, then ::/0 from the prefix
    assert 'route1_options' not in groups['ipv6']
    assert groups['ipv6']['route2_options'] == 'table=100,src=2001:db8:6::1'
    assert groups['ipv6']['route3_options'] == 'from=2001:db8:1::/48'
    assert parse_groups('t6', groups)['routes'] == obj['routes']
