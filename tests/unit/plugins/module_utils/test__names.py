# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one name rule: literal everywhere a name travels (networkd globs, files, commands)."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._names import inventory_name_problem, link_name_problem, quoted


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


@pytest.mark.parametrize('name', ['rt1', 'rt1.example.net', 'pe-west_2', '2001:db8::1', '192.0.2.1', 'l2tp-a', 'é-site'])
def test_inventory_names_pass(name):
    assert inventory_name_problem(name) is None


@pytest.mark.parametrize('name, words', [
    ('', '1 to 255'), ('x' * 256, '1 to 255'), ('rt 1', 'white space'), ('rt1\n', 'white space'), ('rt\x001', 'control'),
    ('rt1,rt2', 'host-pattern'), ('web*', 'host-pattern'), ('db[1:3]', 'host-pattern'), ('!rt1', 'host-pattern'),
    ('&rt1', 'host-pattern'), ('~rt.*', 'host-pattern'), (42, 'not a string'), (None, 'not a string'),
])
def test_inventory_names_refused(name, words):
    assert words in inventory_name_problem(name)
