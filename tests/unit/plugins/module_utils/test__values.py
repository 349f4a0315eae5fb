# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared normalisers: one rule for whole numbers and interface addresses in every module."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._values import (
    address_list, int_in_range, task_addresses,
)


class Refused(ValueError):
    pass


@pytest.mark.parametrize('value, number', [(5, 5), ('5', 5), (' 7 ', 7), (0, 0), (255, 255)])
def test_whole_numbers_in_range(value, number):
    assert int_in_range(0, 255, 'ttl', Refused)(value) == number


@pytest.mark.parametrize('value, message', [
    (True, "ttl must be a number, not True"),        # int(True) would be 1
    (1.5, "ttl must be a number, not 1.5"),          # int(1.5) would be 1
    ('0x10', "ttl must be a number, not '0x10'"),
    ([1], r"ttl must be a number, not \[1\]"),
    (256, 'ttl must be between 0 and 255, not 256'),
    (-1, 'ttl must be between 0 and 255, not -1'),
])
def test_anything_else_is_refused_with_the_modules_error(value, message):
    with pytest.raises(Refused, match=message):
        int_in_range(0, 255, 'ttl', Refused)(value)


def test_a_bound_in_hex_for_bit_fields():
    with pytest.raises(Refused, match=r'flowlabel must be between 0 and 1048575 \(0xFFFFF\), not 1048576'):
        int_in_range(0, 0xFFFFF, 'flowlabel', Refused, show_hex=True)(0x100000)


def test_addresses_as_a_store_holds_them_are_sorted_and_unique():
    assert address_list(['10.0.0.2/24', '2001:DB8::1/64', '10.0.0.2/24', '10.0.0.1/24'], Refused) == [
        '10.0.0.1/24', '10.0.0.2/24', '2001:db8::1/64']


@pytest.mark.parametrize('addresses, message', [
    (['10.0.0.1'], 'needs a prefix length'),
    (['fe80::1%eth0/64'], 'is not an address with a prefix length'),   # a zone names another interface
    (['10.0.0.300/24'], 'is not an address with a prefix length'),
    ('10.0.0.1/24', 'addresses must be a list'),
    ([None], 'is not an address with a prefix length'),
    (['10.0.0.1/24', '10.0.0.1/24'], 'lists 10.0.0.1/24 twice'),
    (['224.0.0.1/32'], 'is multicast, not a unicast address'),
    (['::/0'], 'is unspecified'),
])
def test_a_tasks_addresses_are_unicast_and_listed_once(addresses, message):
    with pytest.raises(Refused, match=message):
        task_addresses(addresses, Refused)


# Texts for the plain dotted-quad fast path: each either takes it with ipaddress's own result, or
# is left to ipaddress (leading zeros, a netmask, spaces, a zone, IPv6, nonsense).
PLAIN_OR_NOT = [
    '10.0.0.1/30', '0.0.0.0/0', '0.0.0.0/32', '255.255.255.255/32', '224.0.0.1/32', '239.255.255.255/8', '127.0.0.1/8',
    '126.255.255.255/8', '128.0.0.1/1', '240.0.0.1/4', '100.64.3.129/30', '192.0.2.0/24', '192.0.2.7/24', '1.2.3.4/0',
    '010.0.0.1/30', '10.0.0.01/30', '10.0.0.1/030', '10.0.0.1/00', '10.0.0.1/33', '10.0.0.1/255.255.255.0',
    ' 10.0.0.1/30', '10.0.0.1/30 ', '10.0.0.1', '10.0.0.1/', '10.0.0/24', '10.0.0.256/24', '10.0.0.1%eth0/30',
    '1.2.3.4/٣', '١.2.3.4/8', '2001:db8::1/64', '::ffff:10.0.0.1/128', 'a.b.c.d/8', '', '/', '10.0.0.1/3 0', '0x1.2.3.4/8',
]


@pytest.mark.parametrize('text', PLAIN_OR_NOT)
def test_the_plain_ipv4_fast_path_gives_what_ipaddress_gives(text):
    import ipaddress
    from ansible_collections.edgenet.router.plugins.module_utils import _tunnel, _values

    _values._FACTS.clear()
    try:
        iface = ipaddress.ip_interface(text.strip())
        address = iface.ip
        kind = ('unspecified' if address.is_unspecified else 'multicast' if address.is_multicast
                else 'loopback' if address.is_loopback else None)
        expected = (iface.with_prefixlen, (iface.version, address.packed, iface.network.prefixlen), kind)
        if '/' not in text or '%' in text:
            expected = ValueError
    except ValueError:
        expected = ValueError
    try:
        got = _values._facts(text, ValueError)
    except ValueError:
        got = ValueError
    assert got == expected
    plain = _values.plain_ipv4_prefix(text)
    if plain is not None:   # taken only for ipaddress's own text of an address and length
        assert expected is not ValueError and expected[0] == text and plain == expected[1][1:]
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
        expected = (network.version, network.with_prefixlen)
    except ValueError:
        expected = ValueError
    try:
        got = _tunnel._version_and_text(text.strip())
    except ValueError:
        got = ValueError
    assert got == expected


def test_the_fast_path_takes_plain_texts_only():
    from ansible_collections.edgenet.router.plugins.module_utils._values import plain_ipv4, plain_ipv4_prefix
    assert plain_ipv4_prefix('10.0.0.1/30') == (b'\n\0\0\x01', 30) and plain_ipv4_prefix('0.0.0.0/0') == (bytes(4), 0)
    assert plain_ipv4('192.0.2.1') == b'\xc0\0\x02\x01'
    assert [plain_ipv4_prefix(t) for t in ('010.0.0.1/30', '10.0.0.1/030', '10.0.0.1', ' 10.0.0.1/30', '10.0.0.1/33')] == [None] * 5
    assert [plain_ipv4(t) for t in ('192.0.2.01', '192.0.2', '::1', '192.0.2.1 ')] == [None] * 4
