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


# ---- rules --------------------------------------------------------------------------------------
RULED = dict(SIX, type='ip6gre', addresses=['2001:db8:6::1/64', '10.6.0.1/30'],
             routes=[{'dest': '::/0', 'table': 100}, {'dest': '0.0.0.0/0', 'table': 100}],
             rules=[{'priority': 100, 'from': '2001:db8:1::/48', 'table': 100},
                    {'priority': 101, 'from': '10.1.0.0/16', 'to': '198.51.100.0/24', 'iif': 'eth0', 'table': 100}])


@pytest.mark.parametrize('rule, message', [
    ({'priority': 0, 'from': '10.0.0.0/8', 'table': 100}, 'priority 0 must be a number 1-32765'),
    ({'priority': 32766, 'from': '10.0.0.0/8', 'table': 100}, 'must be a number 1-32765'),
    ({'priority': 5, 'table': 100}, 'rule 5 needs from or to'),
    ({'priority': 5, 'from': '10.0.0.0/8'}, 'rule 5 needs table'),
    ({'priority': 5, 'from': '10.0.0.0/8', 'table': 'main'}, 'rule 5 needs table'),
    ({'priority': 5, 'from': '10.0.0.0/8', 'to': '2001:db8::/32', 'table': 100}, 'of different address families'),
    ({'priority': 5, 'from': 'x', 'table': 100}, "from 'x' is not a network"),
    ({'priority': 5, 'from': '10.0.0.0/8', 'iif': 'e*', 'table': 100}, 'iif'),
    ({'priority': 5, 'from': '10.0.0.0/8', 'table': 255}, 'rule 5: table 255 must be'),
    ({'priority': 5, 'from': '10.0.0.0/8', 'table': 100, 'fwmark': 1}, 'unknown keys'),
])
def test_bad_rules_are_refused_with_the_reason(rule, message):
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel import _norm_rule
    with pytest.raises(TunnelError) as caught:
        _norm_rule(rule)
    assert message in str(caught.value)


def test_a_rule_leads_to_a_table_of_its_own_tunnels_routes(router):
    with pytest.raises(TunnelError, match='rule 7 leads to table 200, which none of this tunnel'):
        router.run(persistent=False, **dict(RULED, rules=[{'priority': 7, 'from': '10.1.0.0/16', 'table': 200}]))
    with pytest.raises(TunnelError, match='tunnels t6 and t7 have routes in table 100 and rules'):
        router.run(persistent=False, tunnels=[RULED, dict(SIX, name='t7', local='2001:db8::3', routes=[{'dest': '::/0', 'table': 100}])])


def test_rules_apply_read_back_change_and_go_with_the_tunnel(router):
    first = router.run(persistent=False, **RULED)
    assert first['changed']
    assert first['tunnel']['rules'] == [{'priority': 100, 'table': 100, 'from': '2001:db8:1::/48', 'to': None, 'iif': None},
                                        {'priority': 101, 'table': 100, 'from': '10.1.0.0/16', 'to': '198.51.100.0/24', 'iif': 'eth0'}]
    assert 'ip -6 rule add priority 100 from 2001:db8:1::/48 table 100' in first['commands']
    assert 'ip rule add priority 101 from 10.1.0.0/16 to 198.51.100.0/24 iif eth0 table 100' in first['commands']
    assert len(router.nl.rule_list) == 2
    assert not router.run(persistent=False, **RULED)['changed']
    # a rule another tunnel or a person added to another table is not this tunnel's
    router.nl.rule_list.append({'priority': 50, 'table': 300, 'from': '10.9.0.0/16', 'to': None, 'iif': None})
    assert not router.run(persistent=False, **RULED)['changed']
    # a rule removed by hand is drift, put back
    router.nl.rule_list.remove({'priority': 100, 'table': 100, 'from': '2001:db8:1::/48', 'to': None, 'iif': None})
    drift = router.run(persistent=False, check_mode=True, **RULED)
    assert drift['changed'] and list(drift['changes'][0]['fields']) == ['rules']
    assert router.run(persistent=False, **RULED)['changed'] and len(router.nl.rule_list) == 3
    moved = router.run(persistent=False, **dict(RULED, rules=[{'priority': 102, 'from': '2001:db8:1::/48', 'table': 100}]))
    assert moved['commands'][-3:] == ['ip -6 rule del priority 100 from 2001:db8:1::/48 table 100',
                                      'ip rule del priority 101 from 10.1.0.0/16 to 198.51.100.0/24 iif eth0 table 100',
                                      'ip -6 rule add priority 102 from 2001:db8:1::/48 table 100']
    gone = router.run(persistent=False, name='t6', state='absent')
    assert gone['changed'] and router.nl.rule_list == [{'priority': 50, 'table': 300, 'from': '10.9.0.0/16', 'to': None, 'iif': None}]


def _ruled_tunnel():
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel import desired_tunnel
    from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__iptun import fake_resolve
    return desired_tunnel(RULED, fake_resolve)


def test_each_store_keeps_the_rules():
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel_networkd import parse_files, render_files
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel_ifupdown import parse_hooks, render_hooks
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel_nm import parse_groups, render_groups
    obj = _ruled_tunnel()
    files = render_files(obj)
    assert '[RoutingPolicyRule]\nPriority=101\nFrom=10.1.0.0/16\nTo=198.51.100.0/24\nIncomingInterface=eth0\nTable=100' in files['network']
    assert parse_files('t6', files)['rules'] == obj['rules']
    hooks = render_hooks(obj)
    assert ('up', ['ip', '-6', 'rule', 'add', 'priority', '100', 'from', '2001:db8:1::/48', 'table', '100']) in hooks
    assert ('down', ['ip', '-6', 'rule', 'del', 'priority', '100', 'from', '2001:db8:1::/48', 'table', '100']) in hooks
    assert parse_hooks('t6', True, hooks)['rules'] == obj['rules']
    groups = dict((group, dict((key, str(value)) for key, value in pairs if value is not None))
                  for group, pairs in render_groups(obj))
    assert groups['ipv6']['routing-rule1'] == 'priority 100 from 2001:db8:1::/48 table 100'
    assert groups['ipv4']['routing-rule1'] == 'priority 101 from 10.1.0.0/16 to 198.51.100.0/24 iif eth0 table 100'
    assert parse_groups('t6', groups)['rules'] == obj['rules']
    edited = dict(groups, ipv4=dict(groups['ipv4'], **{'routing-rule1': 'priority 101 from 10.1.0.0/16 table 100'}))
    assert parse_groups('t6', edited)['rules'] != obj['rules']     # a hand edit is drift


def test_the_rule_requests_bytes_read_back():
    args = Netlink._rule_args({'priority': 101, 'table': 1000, 'from': '10.1.0.0/16', 'to': '198.51.100.0/24', 'iif': 'eth0'})
    dummy, dummy, body = rtnl.new_rule_request(**args)
    rule = rtnl.parse_rule(body)
    assert (rule['family'], rule['priority'], rule['table'], rule['src'], rule['src_len'], rule['dst'], rule['dst_len'],
            rule['iif'], rule['proto'], rule['action']) == \
        (socket.AF_INET, 101, 1000, '10.1.0.0', 16, '198.51.100.0', 24, 'eth0', rtnl.RTPROT_STATIC, rtnl.FR_ACT_TO_TBL)
    assert rtnl.FIB_RULE_HDR.unpack_from(body)[4] == rtnl.RT_TABLE_COMPAT      # a table above 255 in FRA_TABLE only


def test_a_modify_says_the_commands_of_what_it_changes_and_only_those(router):
    """The commands of a modify: a parameter alone is one ``link set``; lists that change say their
    adds and removes, in the order they are written (addresses, then up, then routes)."""
    four = dict(name='t4', type='ipip', local='192.0.2.1', remote='192.0.2.2', addresses=['10.9.0.1/30'],
                routes=[{'dest': '198.51.100.0/24'}])
    assert router.run(persistent=False, **four)['changed']
    ttl = router.run(persistent=False, **dict(four, ttl=10))
    assert ttl['commands'] == ['ip link set t4 type ipip local 192.0.2.1 remote 192.0.2.2 ttl 10 tos 0 pmtudisc']
    lists = router.run(persistent=False, **dict(four, ttl=10, enabled=False, addresses=['10.9.1.1/30'],
                                                routes=[{'dest': '203.0.113.0/24'}]))
    assert lists['commands'] == ['ip addr del 10.9.0.1/30 dev t4', 'ip addr add 10.9.1.1/30 brd + dev t4',
                                 'ip link set t4 down',
                                 'ip route del 198.51.100.0/24 metric 0 dev t4', 'ip route add 203.0.113.0/24 metric 0 dev t4']
