# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Families of bad values, and the table helpers the per-module bad-input tests share.

Each family is a list of ``(label, value)``; a label is what the test id shows, so a 100 kB value
or a NUL reads as ``long-100k`` or ``nul-inside`` in a failure list.
"""

from __future__ import annotations

import copy

import pytest

LONG = 'x' * 100000

PATTERNS = [
    ('glob-star', '*'), ('glob-e-star', 'e*'), ('negated', '!he0'), ('glob-qmark', 'eth?'),
    ('glob-class', 'tun[0-9]'), ('printf-d', '%d'), ('printf-s', 'eth%s'), ('brace', 'eth{0,1}'),
    ('tilde', '~tun'),
]
CONTROL = [
    ('nul', '\0'), ('nul-inside', 'tun\x00x'), ('newline', 'tun\nx'), ('newline-end', 'tun\n'),
    ('cr', 'tun\rx'), ('escape', 'tun\x1b[31m'), ('del', 'tun\x7f'), ('soh', '\x01tun'),
    ('nel', 'tun\x85x'), ('line-separator', 'tun\u2028x'),
]
UNICODE = [
    ('e-acute', '\u00e9th0'), ('rtl-override', '\u202eeth0'), ('zero-width', 'e\u200bth0'),
    ('bom', '\ufeffeth0'), ('emoji', 'tun\U0001f600'), ('surrogate', 'tun\udcff'),
    ('fullwidth', '\uff45\uff54\uff48\uff10'), ('cyrillic-e', '\u0435th0'),
]
SPACES = [('empty', ''), ('space', ' '), ('inner-space', 'tun x'), ('leading-space', ' tun'),
          ('trailing-space', 'tun '), ('tab', 'tun\tx')]
SHELL = [
    ('dollar-paren', '$(id)'), ('backtick', '`id`'), ('semicolon', 'tun;x'), ('pipe', 'tun|x'),
    ('amp', 'tun&x'), ('quote', "tun'x"), ('dquote', 'tun"x'), ('backslash', 'tun\\x'),
    ('hash', '#tun'), ('equals', 'tun=x'), ('brackets', '[tun]'), ('leading-dash', '-tun'),
    ('double-dash', '--help'),
]
PATHY = [('dot', '.'), ('dotdot', '..'), ('slash', '/'), ('with-slash', 'a/b'), ('climb', '../etc'),
         ('colon', 'tun:0')]
LENGTHS = [('16-chars', 'a' * 16), ('256-chars', 'a' * 256), ('long-100k', LONG)]
IFNAME_EXTRA = [('all-digits', '123'), ('zero', '0')]

# What is never an interface name (the kernel's rules and the collection's literal-name rule).
IFNAME_BAD = PATTERNS + CONTROL + UNICODE + SPACES + SHELL + PATHY + LENGTHS + IFNAME_EXTRA

# Neither an address nor a name the fake resolver knows, or an address no endpoint can have.
IPV4_RESERVED = [('unspecified', '0.0.0.0'), ('loopback', '127.0.0.1'), ('multicast', '224.0.0.1'),
                 ('broadcast', '255.255.255.255'), ('class-e', '240.0.0.1')]
IPV6_RESERVED = [('v6-unspecified', '::'), ('v6-loopback', '::1'), ('v6-multicast', 'ff02::1')]
MALFORMED_ADDR = [
    ('octet-256', '192.0.2.256'), ('three-octets', '192.0.2'), ('five-octets', '192.0.2.1.1'),
    ('leading-zero', '192.0.2.01'), ('with-prefix', '192.0.2.1/24'), ('bad-v6', '2001:db8:::1'),
    ('v6-zone', 'fe80::1%eth0'), ('label-64', 'a' * 64 + '.example'), ('empty-label', 'a..example'),
    ('two-addresses', 'two.test'), ('unknown-name', 'nonexistent.test'), ('hex-int', '0xC0000201'),
    ('decimal-int', '3221225985'), ('comma-list', '192.0.2.1,192.0.2.2'),
]
TEXT_BAD = PATTERNS + CONTROL + UNICODE + SPACES + SHELL + PATHY + LENGTHS

INT_WRONG = [('word', 'abc'), ('float-text', '1.5'), ('float', 1.5), ('list', [1]), ('dict', {'a': 1}),
             ('hex-text', '0x10'), ('empty-text', ''), ('spaces-text', ' 1 2 ')]
BOOL_WRONG = [('word', 'maybe'), ('two', 2), ('list', [True]), ('dict', {'a': 1}), ('empty', ''),
              ('float', 0.5)]
LIST_WRONG = [('dict', {'a': 1}), ('nested-list', [['a']]), ('int-list', 42)]

# A network namespace that does not exist or cannot be one; a directory that cannot be one.
NETNS_BAD = [('missing', 'nope')] + PATTERNS + CONTROL + SPACES + PATHY + [
    ('long-100k', LONG), ('surrogate', 'lab\udcff')]
DIR_BAD = [('empty', ''), ('nul', '\0'), ('nul-inside', '@networkd\0x'), ('a-file', '@a_file'),
           ('under-a-file', '@a_file/sub'), ('long-100k', '/' + LONG), ('newline', '@networkd\nx')]
# A message about a directory names the option or the path (the file, or the start of the long name).
DIR_NAMES = ('a-file', 'directory', 'x' * 20)


def ints(values):
    return [('int-%s' % v, v) for v in values]


def set_path(args, path, value):
    """A copy of ``args`` with ``value`` at ``path`` (``('tunnels', 0, 'name')``); a missing
    container on the way is made (a list of one item copied from the template when given)."""
    out = copy.deepcopy(args)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def drop(args, *names):
    out = copy.deepcopy(args)
    for name in names:
        out.pop(name, None)
    return out


class Table(object):
    """A list of ``pytest.param(args, fragments, short)`` with readable ids, no id twice."""

    def __init__(self, base):
        self.base = base
        self.params = []
        self.ids = set()
        self.option_of = {}   # case id -> the option (prefix) it is about, for failure reports

    def add(self, case_id, args, fragments, short=False, option=None):
        if case_id in self.ids:
            raise ValueError('case id %s twice' % case_id)
        self.ids.add(case_id)
        self.option_of[case_id] = option or case_id
        if isinstance(fragments, str):
            fragments = (fragments,)
        self.params.append(pytest.param(args, tuple(fragments), short, id=case_id))

    def each(self, prefix, path, values, fragments, base=None, short_for_text=False):
        """One case per ``(label, value)`` put at ``path`` of ``base`` (default the table's)."""
        for label, value in values:
            short = short_for_text and isinstance(value, str) and len(value) > 1000
            self.add('%s-%s' % (prefix, label), set_path(base or self.base, path, value), fragments, short, prefix)

    def __len__(self):
        return len(self.params)
