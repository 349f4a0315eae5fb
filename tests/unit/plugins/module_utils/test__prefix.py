# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prefix arithmetic: 6to4/6rd tables from the RFCs and hypothesis round trips; subnets and
hosts of an IPv6 prefix, with their limits."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.edgenet.router.plugins.module_utils._prefix import (
    PrefixError, ipv6_host, ipv6_subnet, sixrd_delegated_prefix, sixrd_ipv4, sixrd_prefix, sixtofour_ipv4, sixtofour_prefix,
)


# ---- 6to4 and 6rd ----------------------------------------------------------------------------------
SIXTOFOUR = [
    ('198.51.100.7', '2002:c633:6407::/48'),
    ('192.0.2.1', '2002:c000:201::/48'),
    ('1.2.3.4', '2002:102:304::/48'),
    ('255.255.255.254', '2002:ffff:fffe::/48'),
    ('0.0.0.1', '2002:0:1::/48'),
]


@pytest.mark.parametrize('ipv4, prefix', SIXTOFOUR)
def test_sixtofour_prefix(ipv4, prefix):
    assert sixtofour_prefix(ipv4).with_prefixlen == prefix
    assert str(sixtofour_ipv4(prefix)) == ipv4


SIXRD = [
    # RFC 5969 / issue example: 6rd prefix 2010::/16, all 32 IPv4 bits embedded.
    ('12.12.12.2', '2010::/16', 0, '2010:c0c:c02::/48'),
    # The IPv4 bits sit right behind the 6rd prefix, whatever its length.
    ('192.0.2.1', '2001:db8::/32', 0, '2001:db8:c000:201::/64'),
    # CEs share 10.0.0.0/8: only the last 24 bits are embedded.
    ('10.100.100.1', '2001:db8::/32', 8, '2001:db8:6464:100::/56'),
    # CEs share 10.100.0.0/16: 16 bits embedded.
    ('10.100.100.1', '2001:db8::/32', 16, '2001:db8:6401::/48'),
    # A prefix length that is not a multiple of 4 (28 + 32 - 0 = 60).
    ('255.255.255.255', '2001:db0::/28', 0, '2001:dbf:ffff:fff0::/60'),
    # Mask 32: nothing embedded, the delegated prefix is the 6rd prefix.
    ('203.0.113.5', '2001:db8:1234::/48', 32, '2001:db8:1234::/48'),
]


@pytest.mark.parametrize('ipv4, prefix, masklen, delegated', SIXRD)
def test_sixrd_prefix(ipv4, prefix, masklen, delegated):
    assert sixrd_prefix(ipv4, prefix, masklen).with_prefixlen == delegated
    assert str(sixrd_ipv4(delegated, prefix, masklen, ipv4)) == ipv4


@pytest.mark.parametrize('call, message', [
    (lambda: sixtofour_prefix('10.0.0.300'), 'is not an IPv4 address'),
    (lambda: sixtofour_prefix('2001:db8::1'), 'is not an IPv4 address'),
    (lambda: sixtofour_ipv4('2001:db8::/48'), 'not a 6to4 address'),
    (lambda: sixtofour_ipv4('2002::/16'), 'not a 6to4 address'),
    (lambda: sixrd_prefix('192.0.2.1', 'nope'), 'not an IPv6 prefix'),
    (lambda: sixrd_prefix('192.0.2.1', '2001:db8::/32', 33), 'between 0 and 32'),
    (lambda: sixrd_prefix('192.0.2.1', '2001:db8::/32', 'x'), 'must be a number'),
    (lambda: sixrd_prefix('192.0.2.1', '2001:db8::/112', 0), 'longer than 128'),
])
def test_arithmetic_errors(call, message):
    with pytest.raises(PrefixError, match=message):
        call()


def test_sixrd_delegated_prefix_stops_at_64_where_the_arithmetic_does_not():
    assert sixrd_prefix('192.0.2.1', '2001:db8::/48', 8).with_prefixlen == '2001:db8:0:2:100::/72'
    assert sixrd_delegated_prefix('192.0.2.1', '2001:db8::/40', 8).with_prefixlen == '2001:db8:0:201::/64'
    with pytest.raises(PrefixError, match=r'/72 delegated prefix \(48 \+ 32 - 8\), longer than /64.*at least 16'):
        sixrd_delegated_prefix('192.0.2.1', '2001:db8::/48', 8)


@pytest.mark.parametrize('call, message', [
    (lambda: sixrd_delegated_prefix('192.0.2.1', '2001:db8::/32', 33), 'between 0 and 32'),
    (lambda: sixrd_delegated_prefix('192.0.2.1', '2001:db8::/112', 0), 'longer than 128'),
])
def test_sixrd_delegated_prefix_keeps_the_arithmetic_errors(call, message):
    with pytest.raises(PrefixError, match=message):
        call()


ipv4s = st.integers(min_value=0, max_value=2 ** 32 - 1).map(ipaddress.IPv4Address)


@given(ipv4s)
def test_sixtofour_round_trip(address):
    prefix = sixtofour_prefix(address)
    assert prefix.prefixlen == 48 and prefix.subnet_of(ipaddress.IPv6Network('2002::/16'))
    assert sixtofour_ipv4(prefix) == address
    # any address inside the /48 carries the same IPv4 address
    assert sixtofour_ipv4(ipaddress.IPv6Address(int(prefix.network_address) + 0xFFFF)) == address


@st.composite
def sixrd_domains(draw):
    masklen = draw(st.integers(min_value=0, max_value=32))
    # The kernel's limit: delegated prefixes of /64 at most.
    prefixlen = draw(st.integers(min_value=1, max_value=64 - (32 - masklen)))
    bits = draw(st.integers(min_value=0, max_value=2 ** prefixlen - 1))
    prefix = ipaddress.IPv6Network((bits << (128 - prefixlen), prefixlen))
    return prefix, masklen


@settings(max_examples=300)
@given(sixrd_domains(), ipv4s, ipv4s)
def test_sixrd_round_trip(domain, address, other):
    prefix, masklen = domain
    delegated = sixrd_prefix(address, prefix, masklen)
    assert delegated.prefixlen == prefix.prefixlen + 32 - masklen
    assert delegated.subnet_of(prefix)
    # The BR (or another CE) finds the IPv4 address again from the shared high bits.
    assert sixrd_ipv4(delegated, prefix, masklen, address) == address
    # Two CEs of one domain (same high bits) get the same prefix only if they are the same CE.
    shift = 32 - masklen
    sibling = ipaddress.IPv4Address(((int(address) >> shift) << shift if shift < 32 else 0)
                                    | (int(other) & ((1 << shift) - 1)))
    assert (sixrd_prefix(sibling, prefix, masklen) == delegated) == (sibling == address)


# ---- subnets and hosts -------------------------------------------------------------------------
@pytest.mark.parametrize('prefix, number, length, expected', [
    ('2001:db8:beef::/48', 0, 64, '2001:db8:beef::/64'),
    ('2001:db8:beef::/48', 1, 64, '2001:db8:beef:1::/64'),
    ('2001:db8:beef::/48', 65535, 64, '2001:db8:beef:ffff::/64'),
    # host bits of the prefix are cleared first
    ('2001:db8:beef:77::1/48', 2, 64, '2001:db8:beef:2::/64'),
    # lengths that are not a multiple of 16
    ('2001:db8:c000:200::/56', 255, 64, '2001:db8:c000:2ff::/64'),
    ('2001:db0::/28', 3, 32, '2001:db3::/32'),
    # a /64 is its own only /64
    ('2001:DB8:0:1::/64', 0, 64, '2001:db8:0:1::/64'),
    ('2001:db8::/32', '7', '48', '2001:db8:7::/48'),
])
def test_ipv6_subnet(prefix, number, length, expected):
    assert ipv6_subnet(prefix, number, length).with_prefixlen == expected


@pytest.mark.parametrize('prefix, host, expected', [
    ('2001:db8:beef:1::/64', 1, '2001:db8:beef:1::1'),
    ('2001:db8:beef:1::/64', '::1000', '2001:db8:beef:1::1000'),
    ('2001:db8:beef:1::/64', '::1fff', '2001:db8:beef:1::1fff'),
    ('2001:db8:beef:1::/64', 4096, '2001:db8:beef:1::1000'),
    ('2001:db8:beef::/64', 1, '2001:db8:beef::1'),
    ('2002:c633:6407::/48', 1, '2002:c633:6407::1'),
    ('2001:db8::/32', '::1:0:0:0:1', '2001:db8:0:1::1'),
    ('2001:db8:beef:1::99/64', 0, '2001:db8:beef:1::'),
])
def test_ipv6_host(prefix, host, expected):
    assert str(ipv6_host(prefix, host)) == expected


@pytest.mark.parametrize('call, message', [
    (lambda: ipv6_subnet('2001:db8::/48', 65536), r'subnet number 65536 is not one of the 65536 /64 subnets of 2001:db8::/48 \(0 to 65535\)'),
    (lambda: ipv6_subnet('2001:db8::/48', -1), 'subnet number -1 is not one of'),
    (lambda: ipv6_subnet('2001:db8::/48', 1, 40), r'subnet length /40 must be between the prefix\'s own /48 and /128'),
    (lambda: ipv6_subnet('2001:db8::/48', 1, 129), 'subnet length /129'),
    (lambda: ipv6_subnet('2001:db8::/48', True), 'subnet number must be a whole number, not True'),
    (lambda: ipv6_subnet('2001:db8::/48', '1.5'), "subnet number must be a whole number, not '1.5'"),
    (lambda: ipv6_subnet('192.0.2.0/24', 1), "prefix '192.0.2.0/24' is not an IPv6 prefix"),
    (lambda: ipv6_subnet('', 1), "prefix '' is not an IPv6 prefix"),
    (lambda: ipv6_host('2001:db8::/64', 2 ** 64), 'does not fit in the 64 host bits of 2001:db8::/64'),
    (lambda: ipv6_host('2001:db8::/64', '2001:db8::1'), 'does not fit in the 64 host bits'),
    (lambda: ipv6_host('2001:db8::/64', ':::1'), "host ':::1' is not a number or an IPv6 address"),
    (lambda: ipv6_host('2001:db8::/64', -1), 'does not fit'),
    (lambda: ipv6_host('2001:db8::/64', None), 'host must be a whole number, not None'),
])
def test_subnet_and_host_errors(call, message):
    with pytest.raises(PrefixError, match=message):
        call()


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=2 ** 128 - 1), st.integers(min_value=0, max_value=64),
       st.integers(min_value=0, max_value=64), st.data())
def test_subnet_is_inside_and_numbered(bits, prefixlen, extra, data):
    prefix = ipaddress.IPv6Network((bits >> (128 - prefixlen) << (128 - prefixlen) if prefixlen else 0, prefixlen))
    length = prefixlen + extra
    number = data.draw(st.integers(min_value=0, max_value=2 ** extra - 1))
    subnet = ipv6_subnet(prefix, number, length)
    assert subnet.prefixlen == length and subnet.subnet_of(prefix)
    assert (int(subnet.network_address) - int(prefix.network_address)) >> (128 - length) == number
