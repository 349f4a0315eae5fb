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


@pytest.mark.parametrize('args, expected', [
    (('12.12.12.2', '2010::/16'), '2010:c0c:c02::/48'),
    (('12.12.12.2', '2010::/16', 0), '2010:c0c:c02::/48'),
    (('10.100.100.1', '2001:db8::/32', 8), '2001:db8:6464:100::/56'),
    (('10.100.100.1', '2001:db8::/32', '16'), '2001:db8:6401::/48'),
])
def test_sixrd_prefix(args, expected):
    assert sixrd_prefix(*args) == expected


@pytest.mark.parametrize('call, message', [
    (lambda: sixtofour_prefix('not-an-address'), "sixtofour_prefix: address 'not-an-address' is not an IPv4 address"),
    (lambda: sixrd_prefix('12.12.12.2', '2010::/16', 33), 'sixrd_prefix: ipv4_masklen must be between 0 and 32'),
    (lambda: sixrd_prefix('12.12.12.2', 'x'), "sixrd_prefix: sixrd_prefix 'x' is not an IPv6 prefix"),
])
def test_errors(call, message):
    with pytest.raises(AnsibleFilterError, match=message):
        call()
