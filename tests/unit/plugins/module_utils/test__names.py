# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one name rule: literal everywhere a name travels (networkd globs, files, commands)."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted


@pytest.mark.parametrize('name', ['he-ipv6', 'tun0', 'eth0.100', 'a', 'x' * 15, 'l2tp_eth.1', '_x', '0x', 'eth-'])
def test_literal_names_pass(name):
    assert link_name_problem(name) is None


@pytest.mark.parametrize('name', [
    '', '.', '..', 'x' * 16, '*', 'e*', '!he0', 'eth?', 'tun[0-9]', '%d', 'a b', 'a/b', 'a:b',
    'a\nb', 'a\0b', 'a\tb', 'é', 'a@b', 'a+b', '$x', '`x`', 'a;b', '.x', '-x', '123', None, 5, b'tun0',
])
def test_pattern_and_bad_names_refused(name):
    assert 'interface name' in link_name_problem(name) or link_name_problem(name) == 'it is not a string'


def test_quoted_cuts_long_text():
    assert quoted('x' * 1000) == repr('x' * 1000)[:40] + '...'
    assert quoted('tun0') == "'tun0'"
