# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The IPv6 subnet and host filters: registration, errors as AnsibleFilterError, and equality with
the Jinja expressions the roles used before (rendered here with jinja2, copied verbatim from the
roles' vars/main.yml files as they were before these filters replaced them)."""

from __future__ import annotations

import jinja2
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgenet.router.plugins.filter.ipv6 import FilterModule, ipv6_host, ipv6_subnet
from ansible_collections.edgenet.router.plugins.filter.sixtofour import sixrd_prefix, sixtofour_prefix


def test_both_filters_are_registered():
    assert sorted(FilterModule().filters()) == ['ipv6_host', 'ipv6_subnet']


@pytest.mark.parametrize('call, message', [
    (lambda: ipv6_subnet('2001:db8::/48', 65536), 'ipv6_subnet: subnet number 65536 is not one of the 65536 /64 subnets'),
    (lambda: ipv6_subnet('nope', 1), "ipv6_subnet: prefix 'nope' is not an IPv6 prefix"),
    (lambda: ipv6_host('2001:db8::/64', 2 ** 64), 'ipv6_host: host 18446744073709551616 does not fit in the 64 host bits'),
])
def test_errors(call, message):
    with pytest.raises(AnsibleFilterError, match=message):
        call()


# ---- the old Jinja, verbatim -------------------------------------------------------------------
# roles/dhcpv6_lan/vars/main.yml before: the LAN prefix's first 64 bits without trailing zero
# groups; the subnet, router address and default pool were built from it.
OLD_DHCPV6_LAN_HEAD = """
  {%- set addr = (dhcpv6_lan_prefix | string).split('/')[0] | trim | lower -%}
  {%- set halves = addr.split('::') -%}
  {%- set left = halves[0].split(':') if halves[0] else [] -%}
  {%- set right = (halves[1].split(':') if halves[1] else []) if halves | length > 1 else [] -%}
  {%- set groups = left + ['0'] * (8 - (left | length) - (right | length)) + right -%}
  {%- set ns = namespace(head=groups[:4] | map('int', base=16) | list) -%}
  {%- for _ in range(4) -%}
  {%- if ns.head and ns.head[-1] == 0 -%}{%- set ns.head = ns.head[:-1] -%}{%- endif -%}
  {%- endfor -%}
  {%- for g in ns.head -%}{{ '%x' % g }}{{ '' if loop.last else ':' }}{%- endfor -%}
"""

# roles/tunnel_broker_client/vars/main.yml before.
OLD_BROKER_ROUTED_LEN = "{{ (tunnel_broker_client_routed_prefix | string).split('/')[-1] | int }}"
OLD_BROKER_ROUTED_BITS = """
  {%- set addr = (tunnel_broker_client_routed_prefix | string).split('/')[0] | trim | lower -%}
  {%- set halves = addr.split('::') -%}
  {%- set left = halves[0].split(':') if halves[0] else [] -%}
  {%- set right = (halves[1].split(':') if halves[1] else []) if halves | length > 1 else [] -%}
  {%- set groups = left + ['0'] * (8 - (left | length) - (right | length)) + right -%}
  {%- set ns = namespace(v=0) -%}
  {%- for g in groups[:4] -%}{%- set ns.v = ns.v * 65536 + (g | int(base=16)) -%}{%- endfor -%}
  {{ ns.v }}
"""
OLD_BROKER_LAN_COUNT = "{{ 2 ** (64 - (_tunnel_broker_client_routed_len | int)) }}"
OLD_BROKER_LAN_HEAD = """
  {%- set count = _tunnel_broker_client_lan_count | int -%}
  {%- set v = ((_tunnel_broker_client_routed_bits | int) // count) * count + (tunnel_broker_client_lan_subnet_id | int) -%}
  {%- set ns = namespace(head=[v // 281474976710656 % 65536, v // 4294967296 % 65536, v // 65536 % 65536, v % 65536]) -%}
  {%- for _ in range(4) -%}
  {%- if ns.head and ns.head[-1] == 0 -%}{%- set ns.head = ns.head[:-1] -%}{%- endif -%}
  {%- endfor -%}
  {%- for g in ns.head -%}{{ '%x' % g }}{{ '' if loop.last else ':' }}{%- endfor -%}
"""

# roles/sixtofour_site/vars/main.yml and roles/sixrd_ce/vars/main.yml before: the subnet id
# written as an IPv4 address, through the sixrd_prefix filter.
OLD_SIXTOFOUR_SITE_SUBNET_IPV4 = "0.0.{{ sixtofour_site_lan_subnet_id // 256 % 256 }}.{{ sixtofour_site_lan_subnet_id % 256 }}"
OLD_SIXTOFOUR_SITE_LAN_PREFIX = "{{ _sixtofour_site_subnet_ipv4 | edgenet.router.sixrd_prefix(sixtofour_site_tunnel.prefix, 16) }}"
OLD_SIXRD_CE_DELEGATED_LEN = "{{ sixrd_ce_tunnel.prefix.split('/')[1] | int }}"
OLD_SIXRD_CE_SUBNET_IPV4 = """{{ [sixrd_ce_lan_subnet_id // 16777216 % 256, sixrd_ce_lan_subnet_id // 65536 % 256,
      sixrd_ce_lan_subnet_id // 256 % 256, sixrd_ce_lan_subnet_id % 256] | join('.') }}"""
OLD_SIXRD_CE_LAN_PREFIX = """{{ _sixrd_ce_subnet_ipv4 | edgenet.router.sixrd_prefix(sixrd_ce_tunnel.prefix, (_sixrd_ce_delegated_len | int) - 32) }}"""


def render(template, **variables):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters['edgenet.router.sixrd_prefix'] = sixrd_prefix
    return env.from_string(template).render(**variables).strip()


@pytest.mark.parametrize('prefix', [
    '2001:db8:beef:1::/64',
    '2001:db8:beef::/64',
    '2001:DB8:0:1::/64',
    '2001:db8:0:0::/64',
    '2001:0db8:00be:0100::/64',
    '2001:db8:beef:1::99/64',
    ' 2001:db8:c000:202::/64 ',
    '2002:c633:6407:ffff::/64',
    'fd00::/64',
    '2001:0:0:5::/64',
])
def test_dhcpv6_lan_values_equal_the_old_jinja(prefix):
    head = render(OLD_DHCPV6_LAN_HEAD, dhcpv6_lan_prefix=prefix)
    assert ipv6_subnet(prefix) == head + '::/64'
    assert ipv6_host(prefix) == head + '::1'
    assert ipv6_host(prefix, '::1000') + '-' + ipv6_host(prefix, '::1fff') == head + '::1000-' + head + '::1fff'


def test_dhcpv6_lan_the_one_prefix_family_where_the_old_jinja_was_not_canonical():
    # 0:0:0:N::1 has two runs of three zero groups; RFC 5952 (and ip -j, through inet_ntop)
    # compress the first, the old Jinja the second. Such prefixes are inside ::/16 (reserved).
    head = render(OLD_DHCPV6_LAN_HEAD, dhcpv6_lan_prefix='0:0:0:5::/64')
    assert head + '::1' == '0:0:0:5::1'
    assert ipv6_host('0:0:0:5::/64') == '::5:0:0:0:1'


@pytest.mark.parametrize('routed, subnet_id', [
    ('2001:db8:beef::/48', 0),
    ('2001:db8:beef::/48', 1),
    ('2001:db8:beef::/48', 65535),
    ('2001:470:1f0b:9d::/64', 0),
    ('2001:db8:12:3400::/56', 0),
    ('2001:db8:12:3400::/56', 255),
    ('2001:db8:12:3456::/56', 3),      # host bits in the routed prefix are dropped
    ('2001:db8::/32', 65536),          # subnet ids above 16 bits
    ('2001:db8:8000::/33', 2 ** 31 - 1),
    ('2001:DB8:A::/48', 10),
])
def test_tunnel_broker_lan_prefix_equals_the_old_jinja(routed, subnet_id):
    variables = {'tunnel_broker_client_routed_prefix': routed, 'tunnel_broker_client_lan_subnet_id': subnet_id}
    variables['_tunnel_broker_client_routed_len'] = render(OLD_BROKER_ROUTED_LEN, **variables)
    variables['_tunnel_broker_client_routed_bits'] = render(OLD_BROKER_ROUTED_BITS, **variables)
    variables['_tunnel_broker_client_lan_count'] = render(OLD_BROKER_LAN_COUNT, **variables)
    old = render(OLD_BROKER_LAN_HEAD, **variables) + '::/64'
    assert ipv6_subnet(routed, subnet_id) == old


@pytest.mark.parametrize('site_ipv4, subnet_id', [
    ('198.51.100.7', 0),
    ('198.51.100.7', 1),
    ('198.51.100.7', 16),
    ('198.51.100.7', 65535),
    ('192.0.2.1', 256),
    ('1.2.3.4', 4660),
])
def test_sixtofour_site_lan_prefix_equals_the_old_jinja(site_ipv4, subnet_id):
    variables = {'sixtofour_site_lan_subnet_id': subnet_id, 'sixtofour_site_tunnel': {'prefix': sixtofour_prefix(site_ipv4)}}
    variables['_sixtofour_site_subnet_ipv4'] = render(OLD_SIXTOFOUR_SITE_SUBNET_IPV4, **variables)
    old = render(OLD_SIXTOFOUR_SITE_LAN_PREFIX, **variables)
    assert ipv6_subnet(variables['sixtofour_site_tunnel']['prefix'], subnet_id) == old


@pytest.mark.parametrize('ce_ipv4, sixrd_pfx, masklen, subnet_id', [
    ('192.0.2.2', '2001:db8::/32', 0, 0),          # the molecule scenario's /64: one subnet
    ('12.12.12.2', '2010::/16', 0, 0),             # RFC 5969's example: a /48
    ('12.12.12.2', '2010::/16', 0, 1),
    ('12.12.12.2', '2010::/16', 0, 65535),
    ('10.100.100.1', '2001:db8::/32', 8, 255),     # a /56
    ('10.100.100.1', '2001:db8::/32', 16, 4660),   # a /48
    ('255.255.255.255', '2001:db0::/28', 0, 15),   # a /60
    ('203.0.113.5', '2001:db8::/24', 24, 2 ** 24 - 1),  # a /32: every bit of the IPv4 form used
])
def test_sixrd_ce_lan_prefix_equals_the_old_jinja(ce_ipv4, sixrd_pfx, masklen, subnet_id):
    delegated = sixrd_prefix(ce_ipv4, sixrd_pfx, masklen)
    variables = {'sixrd_ce_lan_subnet_id': subnet_id, 'sixrd_ce_tunnel': {'prefix': delegated}}
    variables['_sixrd_ce_delegated_len'] = render(OLD_SIXRD_CE_DELEGATED_LEN, **variables)
    variables['_sixrd_ce_subnet_ipv4'] = render(OLD_SIXRD_CE_SUBNET_IPV4, **variables)
    old = render(OLD_SIXRD_CE_LAN_PREFIX, **variables)
    assert ipv6_subnet(delegated, subnet_id) == old
