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
