# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The neutral DHCPv6 model: normalisers, defaults and the bad-input table."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import (
    ALL_DHCP_SERVERS, TABLE, Dhcpv6Error, desired_service, norm_pool, pick_router_address, public_view,
)

ADDRS = ['2001:db8:1::1/64', 'fe80::1/64']


def want(**kwargs):
    params = {'interface': 'lan0'}
    params.update(kwargs)
    return desired_service(params, ADDRS)


def test_defaults_are_explicit_and_odhcpd_like():
    obj = want()
    assert obj['mode'] == 'server' and obj['address_mode'] == 'stateless'
    assert obj['subnet'] == '2001:db8:1::/64'
    assert obj['dns_servers'] == ['2001:db8:1::1']
    assert (obj['sol_max_rt'], obj['inf_max_rt'], obj['information_refresh_time']) == (60, 60, 600)
    assert obj['pools'] == [] and obj['domain_search'] == [] and obj['ignore_user_class'] == []
    assert obj['upstream_interface'] is None and obj['servers'] is None


def test_dns_default_falls_back_to_link_local():
    obj = desired_service({'interface': 'lan0', 'subnet': '2001:db8:9::/64'}, ['fe80::abcd/64'])
    assert obj['dns_servers'] == ['fe80::abcd']


@pytest.mark.parametrize('addresses, subnet, expected', [
    (['2001:db8:1::9/64', '2001:db8:1::2/64', 'fe80::1/64'], None, '2001:db8:1::2'),
    (['2001:db8:2::9/64', '2001:db8:1::2/64'], '2001:db8:2::/64', '2001:db8:2::9'),
    (['fe80::1/64'], None, 'fe80::1'),
    ([], None, None),
])
def test_router_address(addresses, subnet, expected):
    assert pick_router_address(addresses, subnet) == expected


@pytest.mark.parametrize('text, canonical', [
    ('2001:db8:1::100-2001:db8:1::1ff', '2001:db8:1::100/120'),
    ('2001:0db8:0001::0100 - 2001:db8:1::0105', '2001:db8:1::100-2001:db8:1::105'),
    ('2001:db8:1::1000/116', '2001:db8:1::1000/116'),
    ('2001:db8:1::5-2001:db8:1::5', '2001:db8:1::5/128'),
])
def test_pool_normaliser(text, canonical):
    assert norm_pool(text) == canonical
    assert norm_pool(canonical) == canonical  # idempotent


def test_normalisers_are_idempotent_on_a_full_model():
    obj = want(pools=['2001:db8:1::200-2001:db8:1::2ff', '2001:db8:1::100-2001:db8:1::1ff'],
               prefix_delegation=[{'prefix': '2001:DB8:100::/48', 'delegated_length': 56}],
               reservations=[{'duid': '0003000102000000000B', 'address': '2001:db8:1::5'}],
               domain_search=['B.example.', 'a.example'], ignore_user_class=['z', 'a'],
               extra_options=[{'code': 65001, 'type': 'string', 'data': 'hi'},
                              {'code': 100, 'type': 'ipv6-address', 'data': '2001:db8::1'}])
    assert obj['pools'] == ['2001:db8:1::100/120', '2001:db8:1::200/120']
    assert obj['reservations'][0]['duid'] == '00:03:00:01:02:00:00:00:00:0b'
    assert obj['domain_search'] == ['b.example', 'a.example']  # order kept
    assert obj['ignore_user_class'] == ['a', 'z']
    assert obj['extra_options'] == [{'code': 100, 'hex': '20010db8000000000000000000000001'},
                                    {'code': 65001, 'hex': '6869'}]
    assert TABLE.normalise(obj) == obj


def test_relay_defaults():
    obj = want(mode='relay', upstream_interface='wan0')
    assert obj['servers'] == [ALL_DHCP_SERVERS] and obj['interface_id'] is False
    assert obj['hop_limit'] == 8 and obj['dns_rewrite'] is False   # RFC 8415 HOP_COUNT_LIMIT, odhcpd's default
    assert obj['pools'] is None and obj['dns_servers'] is None
    assert 'pools' not in public_view(obj)
    server = want()
    assert server['hop_limit'] is None and server['dns_rewrite'] is None   # relay fields, not a server's


def test_disabled_and_absent_are_no_object():
    assert want(mode='disabled') is None
    assert want(state='absent', pools=['nonsense']) is None


BAD = [
    ({'subnet': '2001:db8:1::1/64'}, 'not a valid IPv6 prefix'),
    ({'subnet': '2001:db8:1::/129'}, 'not a valid IPv6 prefix'),
    ({'subnet': '10.0.0.0/8'}, 'not a valid IPv6 prefix'),
    ({'pools': ['2001:db8:2::1-2001:db8:2::ff']}, 'lies outside the subnet'),
    ({'pools': ['2001:db8:1::ff-2001:db8:1::1']}, 'first address is above the last'),
    ({'pools': ['2001:db8:1::1-nonsense']}, 'is not an IPv6 address'),
    ({'pools': ['2001:db8:1::/120', '2001:db8:1::80-2001:db8:1::1ff']}, 'overlap'),
    ({'address_mode': 'stateful'}, 'needs pools'),
    ({'address_mode': 'stateless', 'pools': ['2001:db8:1::100/120']}, 'hands out no addresses'),
    ({'prefix_delegation': [{'prefix': '2001:db8:100::/48', 'delegated_length': 40}]}, 'must be between 48 and 128'),
    ({'prefix_delegation': [{'prefix': '2001:db8:100::1/48', 'delegated_length': 56}]}, 'not a valid IPv6 prefix'),
    ({'reservations': [{'duid': 'zz:01', 'address': '2001:db8:1::5'}]}, 'must be 2 to 130 bytes of hex'),
    ({'reservations': [{'duid': '00:01:02:03', 'address': '2001:db8:9::5'}]}, 'lies outside the subnet'),
    ({'reservations': [{'duid': '00:01:02:03'}]}, 'needs an address or a prefix'),
    ({'dns_servers': ['192.0.2.1']}, 'is not an IPv6 address'),
    ({'domain_search': ['x"}, {"evil": 1\nfoo']}, 'is not a domain name'),
    ({'domain_search': ['bad domain.example']}, 'is not a domain name'),
    ({'domain_search': ['-x.example']}, 'is not a domain name'),
    ({'ignore_user_class': ['a"b']}, 'no white space, quotes'),
    ({'ignore_user_class': ['line\nbreak']}, 'no white space, quotes'),
    ({'extra_options': [{'code': 0, 'type': 'hex', 'data': '00'}]}, 'not a DHCPv6 option code'),
    ({'extra_options': [{'code': 70000, 'type': 'hex', 'data': '00'}]}, 'not a DHCPv6 option code'),
    ({'extra_options': [{'code': 23, 'type': 'hex', 'data': '00'}]}, 'use dns_servers'),
    ({'extra_options': [{'code': 3, 'type': 'hex', 'data': '00'}]}, 'managed by the server itself'),
    ({'extra_options': [{'code': 65001, 'type': 'hex', 'data': 'abc'}]}, 'even number of hex digits'),
    ({'extra_options': [{'code': 65001, 'type': 'uint8', 'data': 256}]}, 'does not fit a uint8'),
    ({'extra_options': [{'code': 65001, 'type': 'float', 'data': 1}]}, 'is not one of'),
    ({'sol_max_rt': 10}, 'between 60 and 86400'),
    ({'information_refresh_time': 100}, 'between 600 and'),
    ({'preferred_lifetime': 9000, 'valid_lifetime': 3600}, 'exceeds valid_lifetime'),
    ({'interface': 'eth0; rm -rf'}, 'not a valid interface name'),
    ({'interface': 'a' * 16}, 'not a valid interface name'),
    ({'upstream_interface': 'wan0'}, 'do(es) not apply to mode server'),
    ({'mode': 'relay', 'upstream_interface': 'wan0', 'pools': ['2001:db8:1::/120']}, 'do(es) not apply to mode relay'),
    ({'mode': 'relay'}, 'needs upstream_interface'),
    ({'mode': 'relay', 'upstream_interface': 'lan0'}, 'must be another interface'),
]

# Issue 12 item 6: input that was accepted silently (de-duplicated, or names the house refuses).
REFUSED = [
    ({'pools': ['2001:db8:1::100/120', '2001:db8:1::100-2001:db8:1::1ff']}, 'pools: 2001:db8:1::100/120 is listed twice'),
    ({'prefix_delegation': [{'prefix': '2001:db8:100::/48', 'delegated_length': 56},
                            {'prefix': '2001:DB8:100::/48', 'delegated_length': 56}]}, 'prefix_delegation: 2001:db8:100::/48'),
    ({'dns_servers': ['2001:db8::53', '2001:DB8:0::53']}, 'dns_servers: 2001:db8::53 is listed twice'),
    ({'domain_search': ['a.example', 'A.example.']}, 'domain_search: a.example is listed twice'),
    ({'ignore_user_class': ['x', 'x']}, 'ignore_user_class: x is listed twice'),
    ({'mode': 'relay', 'upstream_interface': 'wan0', 'servers': ['ff05::1:3', 'FF05::1:3']}, 'servers: ff05::1:3 is listed twice'),
    ({'dns_servers': ['ff02::1']}, 'dns_servers: ff02::1 is multicast'),
    ({'dns_servers': ['::']}, 'dns_servers: :: is the unspecified address'),
    ({'dns_servers': ['::1']}, 'dns_servers: ::1 is loopback'),
    ({'interface': 'eth*'}, "interface 'eth*' is not a valid interface name"),
    ({'interface': 'lan@0'}, "interface 'lan@0' is not a valid interface name"),
    ({'interface': '-lan0'}, "interface '-lan0' is not a valid interface name"),
    ({'mode': 'relay', 'upstream_interface': 'wan+'}, "interface 'wan+' is not a valid interface name"),
]


@pytest.mark.parametrize('params, message', REFUSED, ids=[m for dummy, m in REFUSED])
def test_silently_accepted_input_is_refused(params, message):
    with pytest.raises(Dhcpv6Error) as exc:
        want(**params)
    assert message in str(exc.value)


# Issue 12 item 8: values the argument spec lets through (raw data, lists of str holding anything
# in direct calls) end in Dhcpv6Error, never another exception, and never echo a long value whole.
LONG = 'x' * 100000
ODD = [
    {'interface': 'lan\x00'},
    {'interface': ['lan0']},
    {'interface': LONG},
    {'pools': [{'a': 1}]},
    {'pools': [['2001:db8:1::/120']]},
    {'pools': ['2001:db8:1::\n/120']},
    {'pools': [LONG]},
    {'subnet': LONG},
    {'dns_servers': [None]},
    {'dns_servers': [['2001:db8::1']]},
    {'domain_search': [{'x': 1}]},
    {'domain_search': ['a\x07.example']},
    {'ignore_user_class': [1.5]},
    {'prefix_delegation': [{'prefix': '2001:db8:100::/48', 'delegated_length': float('inf')}]},
    {'prefix_delegation': [{'prefix': ['x'], 'delegated_length': 56}]},
    {'reservations': [{'duid': {'x': 1}, 'address': '2001:db8:1::5'}]},
    {'reservations': [{'duid': '00:01', 'address': ['2001:db8:1::5']}]},
    {'extra_options': [{'code': float('inf'), 'type': 'hex', 'data': '00'}]},
    {'extra_options': [{'code': '9' * 5000, 'type': 'hex', 'data': '00'}]},
    {'extra_options': [{'code': 65001, 'type': 'uint16', 'data': float('inf')}]},
    {'extra_options': [{'code': 65001, 'type': 'uint32', 'data': [1]}]},
    {'extra_options': [{'code': 65001, 'type': 'string', 'data': '\udc80'}]},
    {'extra_options': [{'code': 65001, 'type': 'hex', 'data': {'x': 1}}]},
    {'extra_options': [{'code': 65001, 'type': ['hex'], 'data': '00'}]},
    {'extra_options': [{'code': 65001, 'type': 'ipv6-address', 'data': [{'x': 1}]}]},
    {'sol_max_rt': float('nan')},
    {'valid_lifetime': [7200]},
    {'mode': ['server']},
]


@pytest.mark.parametrize('params', ODD, ids=[str(i) for i in range(len(ODD))])
def test_odd_input_ends_in_a_clear_error(params):
    with pytest.raises(Dhcpv6Error) as exc:
        want(**params)
    assert len(str(exc.value)) < 600


@pytest.mark.parametrize('params, message', BAD, ids=[m for dummy, m in BAD])
def test_bad_input_is_refused_with_a_clear_message(params, message):
    with pytest.raises(Dhcpv6Error) as exc:
        want(**params)
    assert message in str(exc.value)


def test_no_global_address_needs_a_subnet():
    with pytest.raises(Dhcpv6Error) as exc:
        desired_service({'interface': 'lan0'}, ['fe80::1/64'])
    # A sentence that says what to do, with an example to copy.
    assert 'give the subnet option' in str(exc.value)
    assert 'e.g. subnet: 2001:db8:1::/64' in str(exc.value)


def test_bad_hex_in_an_extra_option_names_the_option():
    from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._normalisers import norm_extra_options
    for item in ({'code': 100, 'type': 'hex', 'data': 'zz'}, {'code': 100, 'hex': 'zz'}):
        with pytest.raises(Dhcpv6Error, match='^extra option 100: .*hex'):
            norm_extra_options([item])
