# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""iptun and iptun_info refuse bad input with a message naming the option, and touch nothing.

Every case runs the module's main() through AnsibleModule (see driver.py); a traceback, an
accepted value or a write is a failure.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.tests.unit.plugins.modules.bad_values import (
    BOOL_WRONG, CONTROL, DIR_BAD, DIR_NAMES, IFNAME_BAD, INT_WRONG, IPV4_RESERVED, IPV6_RESERVED, LIST_WRONG, LONG, MALFORMED_ADDR,
    NETNS_BAD, PATTERNS, TEXT_BAD, Table, drop, ints,
)
from ansible_collections.edgenet.router.tests.unit.plugins.modules.driver import assert_accepted, assert_refused

BASE = {'name': 't-east', 'type': 'ipip', 'local': '192.0.2.1', 'remote': '192.0.2.2', 'networkd_dir': '@networkd'}
BASE6 = dict(BASE, type='ip6ip6', local='2001:db8::1', remote='2001:db8::2')
BASE6RD = {'name': 't-6rd', 'type': '6rd', 'local': '192.0.2.1', 'sixrd_prefix': '2001:db8::/32',
           'networkd_dir': '@networkd'}
TUNNEL = drop(BASE, 'networkd_dir')
BULK = {'tunnels': [dict(TUNNEL)], 'networkd_dir': '@networkd'}
ROUTE = {'dest': '198.51.100.0/24', 'via': None, 'metric': None}
WITH_ROUTE = dict(BASE, routes=[dict(ROUTE)])
BASEGRE = dict(BASE, type='gre', key=5, seq=True)
BASEGRE6 = dict(BASE6, type='ip6gretap', okey='0.0.0.9', encaplimit='none')

# Free text that is neither an address nor a name the (fake) resolver knows.
ENDPOINT_TEXT = list(TEXT_BAD)

T = Table(BASE)

# ---- names ---------------------------------------------------------------------------------------
T.each('name', ('name',), IFNAME_BAD, 'name', short_for_text=True)
T.each('bulk-name', ('tunnels', 0, 'name'), IFNAME_BAD, 'name', base=BULK, short_for_text=True)
T.each('link', ('link',), IFNAME_BAD, 'link', short_for_text=True)
for fallback in ('tunl0', 'sit0', 'ip6tnl0'):
    T.add('name-fallback-%s' % fallback, dict(BASE, name=fallback), fallback)
T.add('name-foreign-veth', dict(BASE, name='eth0'), 'eth0')
T.add('name-loopback', dict(BASE, name='lo'), ('lo', 'name'))
T.add('link-missing', dict(BASE, link='nonexistent0'), ('link', 'nonexistent0'))
T.add('link-is-itself', dict(BASE, link='t-east'), 'link')

# ---- endpoints -----------------------------------------------------------------------------------
for option in ('local', 'remote'):
    T.each(option, (option,), ENDPOINT_TEXT, option, short_for_text=True)
    T.each(option, (option,), IPV4_RESERVED + MALFORMED_ADDR, option)
    T.each('%s-v6-for-ipip' % option, (option,), [('v6', '2001:db8::9'), ('v6only-name', 'v6only.test')], option)
    T.each('%s-loopback-name' % option, (option,), [('name', 'loop.test')], option)
    T.each('%s-for-ip6ip6' % option, (option,), IPV6_RESERVED + [
        ('v4', '192.0.2.9'), ('v4-mapped', '::ffff:192.0.2.1'), ('bad', '2001:db8::g')], option, base=BASE6)
    T.each('bulk-%s' % option, ('tunnels', 0, option), [('glob', '*'), ('nul', 'a\0b'), ('label-64', 'a' * 64 + '.x'),
                                                        ('loopback', '127.0.0.1'), ('v6', '2001:db8::1')],
           option, base=BULK)
T.add('local-equals-remote', dict(BASE, remote='192.0.2.1'), ('remote', 'local'))
T.add('local-equals-remote-by-name', dict(BASE, local='one.test', remote='198.51.100.9'), ('remote', 'local'))
T.add('remote-missing', drop(BASE, 'remote'), 'remote')
T.add('remote-for-6to4', dict(BASE, type='6to4', remote='192.0.2.2'), 'remote')
T.add('local-missing-6to4', drop(dict(BASE, type='6to4'), 'local', 'remote'), 'local')
T.add('local-missing-6rd', drop(BASE6RD, 'local'), 'local')

# ---- type and the fields that belong to types ----------------------------------------------------
T.each('type', ('type',), [('upper', 'IPIP'), ('vxlan', 'vxlan'), ('empty', ''), ('space', ' ipip'), ('nul', 'ipip\0'),
                           ('int', 4), ('list', ['ipip']), ('long-100k', LONG), ('glob', 'ip*')], 'type')
T.add('type-missing', drop(BASE, 'type'), 'type')
T.add('sixrd-prefix-on-ipip', dict(BASE, sixrd_prefix='2001:db8::/32'), 'sixrd_prefix')
T.add('sixrd-relay-prefix-on-ipip', dict(BASE, sixrd_relay_prefix='192.0.2.0/24'), 'sixrd_relay_prefix')
T.add('sixrd-prefix-missing', drop(BASE6RD, 'sixrd_prefix'), 'sixrd_prefix')
T.add('encaplimit-on-ipip', dict(BASE, encaplimit=4), 'encaplimit')
T.add('flowlabel-on-ipip', dict(BASE, flowlabel=1), 'flowlabel')
T.add('pmtudisc-on-ip6ip6', dict(BASE6, pmtudisc=False), 'pmtudisc')
T.add('ttl-without-pmtudisc', dict(BASE, ttl=64, pmtudisc=False), ('pmtudisc', 'ttl'))

# ---- numbers --------------------------------------------------------------------------------------
T.each('ttl', ('ttl',), ints([-1, 256, 1000, 2 ** 32, 2 ** 64]) + INT_WRONG, 'ttl')
T.each('hoplimit', ('hoplimit',), ints([-1, 256]) + [('word', 'abc')], ('hoplimit', 'ttl'), base=BASE6)
T.each('tos', ('tos',), ints([-1, 256, 2 ** 32]) + [
    ('word', 'abc'), ('hex-too-big', '0x100'), ('empty', ''), ('list', [1]), ('dict', {'a': 1}), ('float', 1.5),
    ('nul', '\0'), ('long-100k', LONG), ('inherit-typo', 'inherits')], 'tos')
T.each('tclass', ('tclass',), ints([-1, 256]) + [('word', 'abc')], ('tclass', 'tos'), base=BASE6)
T.each('encaplimit', ('encaplimit',), ints([-1, 256, 2 ** 32]) + [
    ('word', 'abc'), ('none-typo', 'nonee'), ('list', [1]), ('dict', {'a': 1}), ('float', 1.5),
    ('empty', ''), ('long-100k', LONG)], 'encaplimit', base=BASE6)
T.each('flowlabel', ('flowlabel',), ints([-1, 0x100000, 2 ** 32]) + INT_WRONG, 'flowlabel', base=BASE6)
T.each('mtu', ('mtu',), ints([0, 67, 65536, -1, 2 ** 31]) + INT_WRONG, 'mtu')

# ---- GRE: keys, checksums, sequence numbers; what the persistent store (networkd) cannot keep ------
KEY_BAD = ints([-1, 2 ** 32, 2 ** 64]) + [
    ('word', 'abc'), ('dotted-256', '0.0.0.256'), ('dotted-short', '0.0.42'), ('dotted-v6', '::42'), ('bool', True),
    ('float', 1.5), ('float-text', '1.5'), ('list', [1]), ('dict', {'a': 1}), ('empty', ''), ('nul', '5\0'),
    ('none-typo', 'nonee'), ('long-100k', LONG)]
# _tunnel._norm_key serves key, ikey and okey: its message says "GRE key", not which option
for option in ('key', 'ikey', 'okey'):
    T.each('gre-%s' % option, (option,), KEY_BAD, (option, 'GRE key'), base=drop(BASEGRE, 'key'), short_for_text=True)
T.each('gre6-okey', ('okey',), KEY_BAD[:6], ('okey', 'GRE key'), base=BASEGRE6)
for option in ('csum', 'icsum', 'ocsum', 'seq', 'iseq', 'oseq'):
    T.each('gre-%s' % option, (option,), BOOL_WRONG, option, base=drop(BASEGRE, 'seq'))
T.add('gre-key-and-okey-disagree', dict(BASEGRE, okey=6), ('key', 'okey'))
T.add('gre-seq-and-iseq-disagree', dict(BASEGRE, iseq=False), ('seq', 'iseq'))
T.add('gre-key-on-ipip', dict(BASE, key=5), 'key')
T.add('gre-csum-on-ip6ip6', dict(BASE6, csum=True), 'csum')
T.add('gre-ocsum-on-sit', dict(BASE, type='sit', ocsum=True), 'ocsum')
T.add('gre-encaplimit-on-gre', dict(BASEGRE, encaplimit=4), 'encaplimit')
T.add('gre-pmtudisc-on-ip6gretap', dict(BASEGRE6, pmtudisc=True), 'pmtudisc')
T.add('gre-fallback-gre0', dict(BASEGRE, name='gre0'), 'gre0')
T.add('gre-persistent-csum', dict(BASEGRE, csum=True), ('csum', 'persistent'))
T.add('gre-persistent-key-0', dict(BASEGRE, key=0), ('key 0', 'persistent'))
T.add('gre-persistent-iseq-only', dict(BASEGRE, seq=None, iseq=True), ('iseq', 'persistent'))
T.add('gre-persistent-ip6gretap-seq', dict(BASEGRE6, oseq=True), ('sequence', 'persistent'))
T.add('gre-persistent-ip6gretap-encaplimit', drop(BASEGRE6, 'encaplimit'), ('encaplimit', 'persistent'))
T.add('gre-persistent-ip6gretap-tclass', dict(BASEGRE6, tclass=8), ('tclass', 'persistent'))

# ---- 6rd prefixes ----------------------------------------------------------------------------------
T.each('sixrd_prefix', ('sixrd_prefix',), [
    ('v4', '192.0.2.0/24'), ('no-length', '2001:db8::'), ('zero-length', '2001:db8::/0'), ('len-65', '2001:db8::/65'),
    ('len-129', '2001:db8::/129'), ('word', 'abc'), ('empty', ''), ('long-100k', LONG)] + CONTROL[:4] + PATTERNS[:3],
    'sixrd_prefix', base=BASE6RD)
T.each('sixrd_relay_prefix', ('sixrd_relay_prefix',), [
    ('v6', '2001:db8::/32'), ('len-33', '192.0.2.0/33'), ('word', 'abc'), ('empty', ''), ('long-100k', LONG),
    ('too-long-delegated', '0.0.0.0/0')] + CONTROL[:4],
    'sixrd_relay_prefix', base=dict(BASE6RD, sixrd_prefix='2001:db8::/48'))

# ---- booleans and choices ----------------------------------------------------------------------------
for option in ('pmtudisc', 'enabled', 'persistent', 'purge'):
    T.each(option, (option,), BOOL_WRONG, option)
for option in ('state', 'recreate'):
    T.each(option, (option,), [('upper', 'PRESENT'), ('word', 'gone'), ('empty', ''), ('nul', 'present\0'),
                               ('long-100k', LONG)], option)

# ---- addresses ---------------------------------------------------------------------------------------
T.each('addresses', ('addresses',), [
    ('no-length', ['10.0.0.1']), ('word', ['abc']), ('len-33', ['10.0.0.1/33']), ('v6-len-129', ['2001:db8::1/129']),
    ('empty-item', ['']), ('nul', ['10.0.0.1/30\0']), ('newline', ['10.0.0.1/30\n10.0.0.5/30']),
    ('long-100k', [LONG]), ('duplicate', ['10.0.0.1/30', '10.0.0.1/30']),
    ('duplicate-spelled-twice', ['2001:db8::1/64', '2001:db8:0::1/64']), ('multicast', ['224.0.0.1/32']),
    ('loopback', ['127.0.0.1/8']), ('v6-multicast', ['ff02::1/64']), ('v6-loopback', ['::1/128']),
    ('unspecified', ['0.0.0.0/0']), ('glob', ['10.0.0.*/24']), ('netmask-form', ['10.0.0.1/255.255.255.0 x']),
] + LIST_WRONG, 'address')

# ---- routes --------------------------------------------------------------------------------------------
T.each('route-dest', ('routes', 0, 'dest'), [
    ('word', 'abc'), ('empty', ''), ('len-33', '10.0.0.0/33'), ('nul', '10.0.0.0/8\0'), ('newline', '10.0.0.0/8\nx'),
    ('long-100k', LONG), ('glob', '10.*'), ('default-word', 'default x'), ('label-64', 'a' * 64)],
    ('dest', 'route'), base=WITH_ROUTE)
T.each('route-via', ('routes', 0, 'via'), [
    ('word', 'abc'), ('other-family', '2001:db8::1'), ('multicast', '224.0.0.1'), ('broadcast', '255.255.255.255'),
    ('nul', '192.0.2.9\0'), ('long-100k', LONG), ('with-length', '192.0.2.9/32'), ('loopback', '127.0.0.1')],
    ('via', 'route'), base=WITH_ROUTE)
T.each('route-metric', ('routes', 0, 'metric'), ints([-1, -1024, 2 ** 32, 2 ** 64]) + INT_WRONG,
       ('metric', 'route'), base=WITH_ROUTE)
T.each('routes', ('routes',), [
    ('unknown-key', [{'dest': '10.0.0.0/8', 'gw': '192.0.2.9'}]), ('missing-dest', [{'via': '192.0.2.9'}]),
    ('string-item', ['10.0.0.0/8']), ('duplicate', [dict(ROUTE), dict(ROUTE)]),
    ('duplicate-spelled-twice', [dict(ROUTE), dict(ROUTE, dest='198.51.100.0/24 ')]),
    ('dest-host-bits-duplicate', [dict(ROUTE), dict(ROUTE, dest='198.51.100.7/24')]),
] + LIST_WRONG, ('route', 'dest', 'dictionary requested'))

# ---- conflicts and bulk form ----------------------------------------------------------------------------
T.add('name-and-tunnels', dict(BULK, name='t-west'), ('name', 'tunnels'))
T.add('neither-name-nor-tunnels', {'networkd_dir': '@networkd'}, ('name', 'tunnels'))
T.add('purge-without-tunnels', dict(BASE, purge=True), ('purge', 'tunnels'))
T.add('tunnel-listed-twice', {'tunnels': [dict(TUNNEL), dict(TUNNEL)], 'networkd_dir': '@networkd'}, ('twice', 't-east'))
T.add('tunnel-listed-twice-other-params', {'tunnels': [dict(TUNNEL), dict(TUNNEL, remote='192.0.2.3')],
                                           'networkd_dir': '@networkd'}, ('twice', 't-east'))
T.add('two-tunnels-same-endpoints', {'tunnels': [dict(TUNNEL), dict(TUNNEL, name='t-west')],
                                     'networkd_dir': '@networkd'}, ('t-west', 'local', 'remote'))
T.each('tunnels', ('tunnels',), [('string-item', ['t-east']), ('int-item', [1])] + LIST_WRONG[:1], ('tunnels', 'dictionary requested'), base=BULK)
T.add('bulk-unknown-key', {'tunnels': [dict(TUNNEL, colour='red')], 'networkd_dir': '@networkd'}, 'colour')
T.each('bulk-ttl', ('tunnels', 0, 'ttl'), ints([-1, 256]) + [('word', 'abc')], 'ttl', base=BULK)
T.each('bulk-mtu', ('tunnels', 0, 'mtu'), ints([0, 65536]), 'mtu', base=BULK)
T.each('bulk-addresses', ('tunnels', 0, 'addresses'), [('no-length', ['10.0.0.1']),
                                                       ('duplicate', ['10.0.0.1/30', '10.0.0.1/30'])], 'address', base=BULK)

# ---- where: namespace and directory ------------------------------------------------------------------
T.each('netns', ('netns',), NETNS_BAD, ('netns', 'namespace'), base=dict(BASE, persistent=False), short_for_text=True)
T.add('netns-with-persistent', dict(BASE, netns='lab'), ('persistent', 'netns'))
T.each('networkd_dir', ('networkd_dir',), DIR_BAD, DIR_NAMES + ('networkd_dir',), short_for_text=True)

IPTUN = T.params

# ---- iptun_info ------------------------------------------------------------------------------------------
INFO = Table({'networkd_dir': '@networkd'})
INFO.each('name', ('name',), IFNAME_BAD, 'name', short_for_text=True)
INFO.each('netns', ('netns',), NETNS_BAD, ('netns', 'namespace'), short_for_text=True)
INFO.each('networkd_dir', ('networkd_dir',), DIR_BAD, DIR_NAMES + ('networkd_dir',), short_for_text=True)
INFO.add('unknown-option', {'networkd_dir': '@networkd', 'type': 'ipip'}, 'type')
INFO.each('name-wrong-type', ('name',), [('list', ['a']), ('dict', {'a': 1})], 'name')
INFO_CASES = INFO.params


def test_tables_are_big_enough():
    assert len(T) >= 300
    assert len(INFO) >= 60


@pytest.mark.parametrize('check_mode', [False, True], ids=['apply', 'check'])
def test_the_base_task_is_accepted(world, check_mode):
    """The tables' starting point is valid: every refusal below is the bad value's doing."""
    for base in (BASE, BASE6, BASE6RD, BULK, WITH_ROUTE, BASEGRE, BASEGRE6):
        result = assert_accepted(world, 'iptun', base, check_mode=check_mode)
        assert result['changed'] or not check_mode
    assert assert_accepted(world, 'iptun_info', INFO.base, check_mode=check_mode)['changed'] is False


@pytest.mark.parametrize('args, fragments, short', IPTUN)
def test_iptun_refuses(world, args, fragments, short):
    assert_refused(world, 'iptun', args, fragments, short=short)


@pytest.mark.parametrize('args, fragments, short', INFO_CASES)
def test_iptun_info_refuses(world, args, fragments, short):
    assert_refused(world, 'iptun_info', args, fragments, short=short)
