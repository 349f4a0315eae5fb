# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""pipex_session and pipex_session_info refuse bad input with a message naming the option, and
touch nothing (kernel L2TP, rtnetlink, state files, unit files, nft and sysctl commands).

Every case runs the module's main() through AnsibleModule (see driver.py); a traceback, an
accepted value or a write is a failure.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.tests.unit.plugins.modules.bad_values import (
    BOOL_WRONG, CONTROL, DIR_BAD, DIR_NAMES, IFNAME_BAD, INT_WRONG, IPV4_RESERVED, IPV6_RESERVED, LIST_WRONG, LONG,
    MALFORMED_ADDR, NETNS_BAD, PATTERNS, Table, drop, ints,
)
from ansible_collections.edgenet.router.tests.unit.plugins.modules.driver import assert_accepted, assert_refused, capture_spec

BASE = {'ifname': 'l2tpeth-a', 'tunnel_id': 100, 'peer_tunnel_id': 200, 'session_id': 1000, 'peer_session_id': 2000,
        'local': '192.0.2.1', 'remote': '192.0.2.2', 'addresses': ['10.42.0.1/30'], 'state_dir': '@pipex'}
BASE6 = dict(BASE, local='2001:db8::1', remote='2001:db8::2')
SESSION = drop(BASE, 'state_dir')
BULK = {'sessions': [dict(SESSION)], 'state_dir': '@pipex'}
TWO = {'sessions': [dict(SESSION), dict(SESSION, ifname='l2tpeth-b', session_id=1001, peer_session_id=2001)],
       'state_dir': '@pipex'}
IP_ENCAP = dict(BASE, encap='ip')

T = Table(BASE)

# ---- names --------------------------------------------------------------------------------------------
T.each('ifname', ('ifname',), IFNAME_BAD, 'ifname', short_for_text=True)
T.each('name-alias', ('name',), PATTERNS[:5] + CONTROL[:3], ('name', 'ifname'), base=drop(BASE, 'ifname'))
T.each('bulk-ifname', ('sessions', 0, 'ifname'), IFNAME_BAD, 'ifname', base=BULK, short_for_text=True)
T.add('ifname-foreign-veth', dict(BASE, ifname='eth0'), 'eth0')
T.add('ifname-loopback', dict(BASE, ifname='lo'), ('lo', 'ifname'))

# ---- ids and ports ------------------------------------------------------------------------------------
for option in ('tunnel_id', 'peer_tunnel_id', 'session_id', 'peer_session_id'):
    T.each(option, (option,), ints([0, -1, 2 ** 32, 2 ** 64]) + INT_WRONG, option)
for option in ('udp_sport', 'udp_dport'):
    T.each(option, (option,), ints([0, -1, 65536, 2 ** 32]) + INT_WRONG, option)
    T.add('%s-with-encap-ip' % option, dict(IP_ENCAP, **{option: 1701}), option)

# ---- endpoints ----------------------------------------------------------------------------------------
ENDPOINT_BAD = IPV4_RESERVED + MALFORMED_ADDR + PATTERNS[:4] + CONTROL + [
    ('empty', ''), ('space', ' '), ('long-100k', LONG), ('name', 'one.test'), ('surrogate', '192.0.2.1\udcff')]
for option in ('local', 'remote'):
    T.each(option, (option,), ENDPOINT_BAD, option, short_for_text=True)
    T.each('%s-v6' % option, (option,), IPV6_RESERVED + [('v4-mapped', '::ffff:192.0.2.1')], option, base=BASE6)
    T.add('%s-missing' % option, drop(BASE, option), option)
T.add('remote-equals-local', dict(BASE, remote='192.0.2.1'), ('remote', 'local'))
T.add('remote-equals-local-v6', dict(BASE6, remote='2001:db8:0::1'), ('remote', 'local'))
T.add('families-differ', dict(BASE, remote='2001:db8::2'), ('local', 'remote', 'famil'))
T.add('remote-link-local-v6', dict(BASE6, remote='fe80::2'), 'remote')

# ---- cookies -------------------------------------------------------------------------------------------
COOKIE_BAD = [('word', 'xyz'), ('odd', '0x123'), ('7-digits', '1234567'), ('12-digits', '123456789abc'),
              ('18-digits', '1' * 18), ('long-100k', LONG), ('int', 12345678), ('list', ['1a2b3c4d'])] + CONTROL[:4]
for option in ('cookie', 'peer_cookie'):
    T.each(option, (option,), COOKIE_BAD, option, short_for_text=True)

# ---- text, numbers ---------------------------------------------------------------------------------------
T.each('description', ('description',), CONTROL + [
    ('256-bytes', 'd' * 256), ('long-100k', LONG), ('multibyte-over-255-bytes', '\u00e9' * 200),
    ('surrogate', 'desc\udcff'), ('list', ['a']), ('dict', {'a': 1})], 'description', short_for_text=True)
T.each('mtu', ('mtu',), ints([0, 67, 65536, -1]) + INT_WRONG, 'mtu')
T.each('reorder_timeout', ('reorder_timeout',), ints([-1, 3600001, 2 ** 32]) + INT_WRONG, 'reorder_timeout',
       base=dict(BASE, sequencing='both', persistent=False))
T.add('reorder_timeout-without-recv-sequencing', dict(BASE, reorder_timeout=100, persistent=False),
      ('reorder_timeout', 'sequencing'))
T.add('reorder_timeout-persistent', dict(BASE, reorder_timeout=100, sequencing='both'), ('reorder_timeout', 'persistent'))
T.add('lns_mode-persistent', dict(BASE, lns_mode=True), ('lns_mode', 'persistent'))

# ---- addresses ---------------------------------------------------------------------------------------------
T.each('addresses', ('addresses',), [
    ('no-length', ['10.0.0.1']), ('word', ['abc']), ('len-33', ['10.0.0.1/33']), ('v6-len-129', ['2001:db8::1/129']),
    ('empty-item', ['']), ('nul', ['10.0.0.1/30\0']), ('newline', ['10.0.0.1/30\n10.0.0.5/30']),
    ('long-100k', [LONG]), ('duplicate', ['10.42.0.1/30', '10.42.0.1/30']),
    ('duplicate-spelled-twice', ['2001:db8::1/64', '2001:db8:0::1/64']), ('multicast', ['224.0.0.1/32']),
    ('loopback', ['127.0.0.1/8']), ('v6-multicast', ['ff02::1/64']), ('unspecified', ['0.0.0.0/0']),
    ('glob', ['10.0.0.*/24'])] + LIST_WRONG, 'address')

# ---- choices and booleans ------------------------------------------------------------------------------------
CHOICE_BAD = [('upper', 'X'), ('empty', ''), ('nul', '\0'), ('long-100k', LONG), ('list', ['a'])]
for option, typo in (('encap', 'UDP'), ('l2spec_type', 'defaults'), ('sequencing', 'both '), ('protocol', 'pppoe'),
                     ('state', 'gone'), ('recreate', 'always')):
    T.each(option, (option,), CHOICE_BAD + [('typo', typo)], option)
for option in ('lns_mode', 'enabled', 'adjust_tcpmss', 'ingress_filter', 'persistent', 'keep_tunnel'):
    T.each(option, (option,), BOOL_WRONG, option)

# ---- conflicts, bulk form, what exists ---------------------------------------------------------------------------
T.add('ifname-and-sessions', dict(BULK, ifname='l2tpeth-c'), ('ifname', 'sessions'))
T.add('neither-ifname-nor-sessions', {'state_dir': '@pipex'}, ('ifname', 'sessions'))
T.add('session-listed-twice', {'sessions': [dict(SESSION), dict(SESSION)], 'state_dir': '@pipex'}, ('twice', 'l2tpeth-a'))
T.add('same-session-id-twice', {'sessions': [dict(SESSION), dict(SESSION, ifname='l2tpeth-b')],
                                'state_dir': '@pipex'}, ('session_id', '1000'))
T.add('shared-tunnel-disagrees', {'sessions': [dict(SESSION),
                                               dict(SESSION, ifname='l2tpeth-b', session_id=1001, remote='192.0.2.3')],
                                  'state_dir': '@pipex'}, ('tunnel', 'remote'))
T.add('tunnel-of-foreign-session-other-params', dict(BASE, tunnel_id=7), ('tunnel', '7'))
T.add('session-id-of-foreign-ppp-session', dict(BASE, tunnel_id=7, peer_tunnel_id=8, session_id=70, local='192.0.2.1',
                                                remote='192.0.2.9'), ('session', '70'))
T.each('sessions', ('sessions',), [('string-item', ['l2tpeth-a']), ('int-item', [1])] + LIST_WRONG[:1],
       ('sessions', 'dictionary requested'), base=BULK)
T.add('bulk-unknown-key', {'sessions': [dict(SESSION, colour='red')], 'state_dir': '@pipex'}, 'colour')
T.add('bulk-missing-ifname', {'sessions': [drop(SESSION, 'ifname')], 'state_dir': '@pipex'}, 'ifname')
T.each('bulk-session_id', ('sessions', 1, 'session_id'), ints([0, -1, 2 ** 32]), 'session_id', base=TWO)
T.each('bulk-remote', ('sessions', 1, 'remote'),
       [('multicast', '224.0.0.1'), ('unspecified', '0.0.0.0'), ('word', 'abc')], 'remote', base=TWO)
T.each('bulk-description', ('sessions', 1, 'description'), CONTROL[:4], 'description', base=TWO)

# ---- where -----------------------------------------------------------------------------------------------------
T.each('netns', ('netns',), NETNS_BAD, ('netns', 'namespace'), base=dict(BASE, persistent=False), short_for_text=True)
T.add('netns-with-persistent', dict(BASE, netns='lab'), ('persistent', 'netns'))
STATE_DIR_BAD = [(label, value.replace('@networkd', '@pipex')) for label, value in DIR_BAD]
T.each('state_dir', ('state_dir',), STATE_DIR_BAD, DIR_NAMES + ('state_dir',), short_for_text=True)

CASES = T.params

# ---- pipex_session_info ------------------------------------------------------------------------------------------
INFO = Table({'state_dir': '@pipex'})
INFO.each('ifname', ('ifname',), IFNAME_BAD, 'ifname', short_for_text=True)
INFO.each('netns', ('netns',), NETNS_BAD, ('netns', 'namespace'), short_for_text=True)
INFO.each('state_dir', ('state_dir',), STATE_DIR_BAD, DIR_NAMES + ('state_dir',), short_for_text=True)
INFO.add('unknown-option', {'state_dir': '@pipex', 'tunnel_id': 1}, 'tunnel_id')
INFO.each('ifname-wrong-type', ('ifname',), [('list', ['a']), ('dict', {'a': 1})], 'ifname')
INFO_CASES = INFO.params


def test_tables_are_big_enough():
    assert len(T) >= 300
    assert len(INFO) >= 60


@pytest.mark.parametrize('check_mode', [False, True], ids=['apply', 'check'])
@pytest.mark.parametrize('base', [BASE, BASE6, BULK, TWO, IP_ENCAP], ids=['single', 'v6', 'bulk', 'two', 'ip-encap'])
def test_the_base_task_is_accepted(world, base, check_mode):
    """The tables' starting points are valid: every refusal below is the bad value's doing."""
    assert assert_accepted(world, 'pipex_session', base, check_mode=check_mode)['changed'] is True
    assert assert_accepted(world, 'pipex_session_info', INFO.base, check_mode=check_mode)['changed'] is False


@pytest.mark.parametrize('args, fragments, short', CASES)
def test_pipex_session_refuses(world, args, fragments, short):
    assert_refused(world, 'pipex_session', args, fragments, short=short)


@pytest.mark.parametrize('args, fragments, short', INFO_CASES)
def test_pipex_session_info_refuses(world, args, fragments, short):
    assert_refused(world, 'pipex_session_info', args, fragments, short=short)


def test_protocol_is_deprecated_but_still_accepted(world):
    """``protocol`` has one choice and nothing reads it: AnsibleModule warns when a task sets it
    (from removed_in_version; where the warning goes depends on what else the process loaded,
    so the spec is asserted), and such a task still runs."""
    spec = capture_spec('pipex_session')['argument_spec']['protocol']
    assert (spec['removed_in_version'], spec['removed_from_collection']) == ('1.0.0', 'edgenet.router')
    assert assert_accepted(world, 'pipex_session', dict(BASE, protocol='l2tp'), check_mode=True)['changed'] is True
