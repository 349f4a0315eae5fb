# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The 6to4/6rd filters: RFC examples, errors as AnsibleFilterError, registration."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgenet.router.plugins.filter.sixtofour import FilterModule, sixrd_prefix, sixtofour_prefix


def test_both_filters_are_registered():
    assert sorted(FilterModule().filters()) == ['sixrd_prefix', 'sixtofour_prefix']


@pytest.mark.parametrize('ipv4, expected', [
    ('198.51.100.7', '2002:c633:6407::/48'),
    ('192.0.2.1', '2002:c000:201::/48'),
])
def test_sixtofour_prefix(ipv4, expected):
    assert sixtofour_prefix(ipv4) == expected


# The module's rule (_prefix.check_sixtofour_ipv4), documentation ranges allowed: a range, its
# words in the message. The fix is the filter's own option, not the module's.
NOT_GLOBAL = [
    ('10.1.2.3', r'private address \(RFC 1918\) in 10\.0\.0\.0/8'),
    ('172.16.9.9', r'private address \(RFC 1918\) in 172\.16\.0\.0/12'),
    ('192.168.1.1', r'private address \(RFC 1918\) in 192\.168\.0\.0/16'),
    ('127.0.0.1', 'loopback address'),
    ('169.254.1.1', 'link-local address'),
    ('224.0.0.5', 'multicast address'),
    ('0.0.0.0', '"this network" address'),
    ('255.255.255.255', r'reserved address in 240\.0\.0\.0/4'),
    ('240.0.0.1', r'reserved address in 240\.0\.0\.0/4'),
    ('100.64.0.1', r'shared address for carrier-grade NAT \(RFC 6598\) in 100\.64\.0\.0/10'),
    ('192.88.99.1', r'6to4 anycast relay address \(RFC 3068, deprecated by RFC 7526\)'),
]


@pytest.mark.parametrize('ipv4, words', NOT_GLOBAL)
def test_sixtofour_prefix_refuses_non_global(ipv4, words):
    pattern = 'sixtofour_prefix: address %s is a %s.*allow_nonglobal=true' % (ipv4.replace('.', r'\.'), words)
    with pytest.raises(AnsibleFilterError, match=pattern):
        sixtofour_prefix(ipv4)


@pytest.mark.parametrize('ipv4, expected', [
    ('10.0.0.1', '2002:a00:1::/48'),
    ('192.168.1.1', '2002:c0a8:101::/48'),
    ('255.255.255.255', '2002:ffff:ffff::/48'),
    ('0.0.0.0', '2002::/48'),
])
@pytest.mark.parametrize('flag', [True, 'yes', 'true', 1])
def test_sixtofour_prefix_allow_nonglobal_is_arithmetic(ipv4, expected, flag):
    assert sixtofour_prefix(ipv4, allow_nonglobal=flag) == expected
    assert sixtofour_prefix(ipv4, flag) == expected  # positional, as documented


@pytest.mark.parametrize('ipv4', ['192.0.2.1', '198.51.100.7', '203.0.113.9'])
def test_documentation_ranges_are_allowed(ipv4):
    # RFC 5737 ranges stand for global addresses in examples; the docs and tests use them.
    assert sixtofour_prefix(ipv4).startswith('2002:')
    assert sixtofour_prefix(ipv4) == sixtofour_prefix(ipv4, allow_nonglobal=True)


@pytest.mark.parametrize('flag', ['maybe', [True], {'a': 1}, 2])
def test_allow_nonglobal_must_be_a_boolean(flag):
    with pytest.raises(AnsibleFilterError, match='sixtofour_prefix: allow_nonglobal must be true or false'):
        sixtofour_prefix('8.8.8.8', allow_nonglobal=flag)


@pytest.mark.parametrize('args, expected', [
    (('12.12.12.2', '2010::/16'), '2010:c0c:c02::/48'),
    (('12.12.12.2', '2010::/16', 0), '2010:c0c:c02::/48'),
    (('10.100.100.1', '2001:db8::/32', 8), '2001:db8:6464:100::/56'),
    (('10.100.100.1', '2001:db8::/32', '16'), '2001:db8:6401::/48'),
])
def test_sixrd_prefix(args, expected):
    assert sixrd_prefix(*args) == expected


@pytest.mark.parametrize('args, expected', [
    (('192.0.2.1', '2001:db8::/32'), '2001:db8:c000:201::/64'),               # 32 + 32 - 0
    (('10.100.100.1', '2001:db8:ab00::/40', 8), '2001:db8:ab64:6401::/64'),  # 40 + 32 - 8
])
def test_sixrd_prefix_up_to_64(args, expected):
    assert sixrd_prefix(*args) == expected


@pytest.mark.parametrize('args, lengths', [
    (('192.0.2.1', '2001:db8::/33'), r'sixrd_prefix /33 with ipv4_masklen 0 gives a /65 delegated prefix \(33 \+ 32 - 0\)'),
    (('192.0.2.1', '2001:db8::/48', 8), r'sixrd_prefix /48 with ipv4_masklen 8 gives a /72 delegated prefix \(48 \+ 32 - 8\)'),
    (('192.0.2.1', '2001:db8::/96'), r'sixrd_prefix /96 with ipv4_masklen 0 gives a /128 delegated prefix \(96 \+ 32 - 0\)'),
])
def test_sixrd_prefix_longer_than_64_is_refused(args, lengths):
    with pytest.raises(AnsibleFilterError, match='sixrd_prefix: %s, longer than /64.*ipv4_masklen of at least' % lengths):
        sixrd_prefix(*args)


@pytest.mark.parametrize('call, message', [
    (lambda: sixtofour_prefix('not-an-address'), "sixtofour_prefix: address 'not-an-address' is not an IPv4 address"),
    (lambda: sixtofour_prefix('not-an-address', True), "sixtofour_prefix: address 'not-an-address' is not an IPv4 address"),
    (lambda: sixtofour_prefix(None), "sixtofour_prefix: address None is not an IPv4 address"),
    (lambda: sixrd_prefix('12.12.12.2', '2010::/16', 33), 'sixrd_prefix: ipv4_masklen must be between 0 and 32'),
    (lambda: sixrd_prefix('12.12.12.2', 'x'), "sixrd_prefix: sixrd_prefix 'x' is not an IPv6 prefix"),
])
def test_errors(call, message):
    with pytest.raises(AnsibleFilterError, match=message):
        call()
