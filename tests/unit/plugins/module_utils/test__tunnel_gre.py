# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The GRE family in iptun: the task's rules (keys, shorthands, kinds), the IFLA_GRE_* bytes a
write sends, and a run through the fake kernel that reads every write back from its bytes.
The kernel's own answers are proven in the lab (tests/lab/targets/iptun, tasks/gre.yml)."""

from __future__ import annotations

import struct

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._rtnl import _codec as rtnl
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TunnelError, desired_tunnel
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import (
    from_kernel, iproute2_commands, kernel_data, link_words,
)
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__iptun import Router, fake_resolve

GRE4 = dict(name='g1', type='gre', local='192.0.2.1', remote='192.0.2.2')
GRE6 = dict(name='g6', type='ip6gre', local='2001:db8::1', remote='2001:db8::2')
GRE_TYPES = [dict(GRE4), dict(GRE4, name='gt1', type='gretap'), dict(GRE6), dict(GRE6, name='gt6', type='ip6gretap')]


def canonical(**task):
    return desired_tunnel(task, fake_resolve)


@pytest.fixture
def router(tmp_path):
    return Router(tmp_path)


def test_a_gre_tunnel_without_keys_has_no_key_checksum_or_sequence():
    obj = canonical(**GRE4)
    assert (obj['ikey'], obj['okey'], obj['icsum'], obj['ocsum'], obj['iseq'], obj['oseq']) == \
        ('none', 'none', False, False, False, False)
    assert (obj['ttl'], obj['tos'], obj['pmtudisc']) == (0, 0, True)   # ipip's outer defaults
    obj6 = canonical(**GRE6)
    assert (obj6['ttl'], obj6['encaplimit'], obj6['flowlabel'], obj6['pmtudisc']) == (64, 4, 0, None)  # ip6tnl's


@pytest.mark.parametrize('task, wanted', [
    (dict(key=42), (42, 42, False, False, False, False)),
    (dict(key='0.0.0.42'), (42, 42, False, False, False, False)),       # iproute2's dotted form
    (dict(key=' 0x2a '), (42, 42, False, False, False, False)),
    (dict(ikey=1, okey='4294967295'), (1, 4294967295, False, False, False, False)),
    (dict(key=7, ikey=7), (7, 7, False, False, False, False)),          # the shorthand and a member agree
    (dict(okey=9), ('none', 9, False, False, False, False)),
    (dict(csum=True, oseq=True), ('none', 'none', True, True, False, True)),
    (dict(seq=True, icsum=True), ('none', 'none', True, False, True, True)),
    (dict(key='none'), ('none', 'none', False, False, False, False)),
])
def test_keys_and_shorthands_become_the_in_and_out_pairs(task, wanted):
    obj = canonical(**dict(GRE4, **task))
    assert (obj['ikey'], obj['okey'], obj['icsum'], obj['ocsum'], obj['iseq'], obj['oseq']) == wanted
    assert (obj['key'], obj['csum'], obj['seq']) == (None, None, None)   # the shorthands live in no store


@pytest.mark.parametrize('task, message', [
    (dict(GRE4, key=2 ** 32), 'a GRE key must be a number 0-4294967295'),
    (dict(GRE4, key=-1), 'a GRE key must be a number'),
    (dict(GRE4, ikey='0.0.0.256'), 'a GRE key must be a number'),
    (dict(GRE4, okey='secret'), 'a GRE key must be a number'),
    (dict(GRE4, key=True), 'a GRE key must be a number'),
    (dict(GRE4, key=5, okey=6), 'key 5 and okey 6 disagree'),
    (dict(GRE4, csum=True, icsum=False), 'csum True and icsum False disagree'),
    (dict(name='t1', type='ipip', local='192.0.2.1', remote='192.0.2.2', key=1), 'key applies to the GRE types only'),
    (dict(name='t1', type='sit', local='192.0.2.1', remote='192.0.2.2', ocsum=True), 'ocsum does not apply to type sit'),
    (dict(name='t1', type='ip6ip6', local='2001:db8::1', remote='2001:db8::2', ikey=3), 'ikey does not apply'),
    (dict(GRE6, pmtudisc=False), 'pmtudisc does not apply to type ip6gre'),
    (dict(GRE4, encaplimit=2), 'encaplimit does not apply to type gre'),
    (dict(GRE4, ttl=64, pmtudisc=False), 'a fixed ttl (64) needs pmtudisc'),
    (dict(GRE4, local='2001:db8::1'), 'local'),
])
def test_bad_gre_input_is_refused_with_the_reason(task, message):
    with pytest.raises(TunnelError) as caught:
        canonical(**task)
    assert message in str(caught.value)


def test_the_flags_words_and_keys_go_out_big_endian():
    """IFLA_GRE_IFLAGS/OFLAGS carry GRE header bits in network order (GRE_KEY is 0x2000 on the
    wire), the keys are big-endian 32-bit: the bytes iproute2 sends for ``ikey 42 ocsum oseq``."""
    obj = canonical(**dict(GRE4, ikey=42, ocsum=True, oseq=True))
    kind, data = kernel_data(obj, 0)
    assert kind == 'gre' and 'proto' not in data
    payload = rtnl.encode_info_data(kind, data)
    spans = rtnl.attrs(payload)
    assert spans[2] == b'\x20\x00'                       # IFLA_GRE_IFLAGS: GRE_KEY
    assert spans[3] == b'\x90\x00'                       # IFLA_GRE_OFLAGS: GRE_CSUM | GRE_SEQ
    assert spans[4] == struct.pack('!I', 42)             # IFLA_GRE_IKEY
    assert spans[5] == b'\0\0\0\0'                       # IFLA_GRE_OKEY: none
    assert spans[6] == bytes((192, 0, 2, 1)) and spans[7] == bytes((192, 0, 2, 2))
    assert spans[10] == b'\x01'                          # IFLA_GRE_PMTUDISC


@pytest.mark.parametrize('task', GRE_TYPES + [
    dict(GRE4, key=3000000000, csum=True, seq=True, tos='inherit', ttl=64),
    dict(GRE4, ikey=1, okey=2, tos=0x10, pmtudisc=False),
    dict(GRE6, key=5, tos='inherit', encaplimit='none', flowlabel=0x12345, ttl=10, icsum=True),
    dict(GRE6, name='gt6', type='ip6gretap', okey=8, tos=0x28, encaplimit=0, oseq=True),
])
def test_what_is_written_reads_back_the_same_through_the_codec(task):
    """Canonical -> IFLA_INFO_DATA bytes -> decoded as the kernel reports it -> canonical again."""
    obj = canonical(**task)
    kind, data = kernel_data(obj, 0)
    body = rtnl.link_body(index=5, name=obj['name'], kind=kind, data=data, mtu=1400, up=True)
    link = rtnl.parse_link(body)
    back = from_kernel(link, ['10.0.0.1/30'], [], {})
    for field in ('type', 'local', 'remote', 'ttl', 'tos', 'pmtudisc', 'encaplimit', 'flowlabel',
                  'ikey', 'okey', 'icsum', 'ocsum', 'iseq', 'oseq'):
        assert back[field] == obj[field], field


def test_iproute2_words_name_every_gre_setting():
    obj = canonical(**dict(GRE4, ikey=42, ocsum=True, iseq=True, link='eth0'))
    assert link_words(obj) == ['type', 'gre', 'local', '192.0.2.1', 'remote', '192.0.2.2', 'ttl', 'inherit', 'tos', '0',
                               'pmtudisc', 'ikey', '42', 'nookey', 'noicsum', 'iseq', 'ocsum', 'nooseq', 'dev', 'eth0']
    obj6 = canonical(name='g6', type='ip6gretap', local='2001:db8::1', remote='2001:db8::2', key=1, tos='inherit')
    assert link_words(obj6) == ['type', 'ip6gretap', 'local', '2001:db8::1', 'remote', '2001:db8::2', 'hoplimit', '64',
                                'encaplimit', '4', 'tclass', 'inherit', 'flowlabel', '0', 'ikey', '1', 'okey', '1',
                                'noicsum', 'noiseq', 'noocsum', 'nooseq']


@pytest.mark.parametrize('task', GRE_TYPES)
def test_apply_then_idempotent_then_a_key_change_in_place(router, task):
    first = router.run(persistent=False, **dict(task, addresses=['10.9.0.1/30']))
    assert first['changed']
    assert first['tunnel']['ikey'] == 'none' and first['tunnel']['type'] == task['type']
    assert not router.run(persistent=False, **dict(task, addresses=['10.9.0.1/30']))['changed']
    index = router.link(task['name'])['index']
    keyed = router.run(persistent=False, **dict(task, addresses=['10.9.0.1/30'], key=77, csum=True))
    assert keyed['changed'] and [sorted(c['fields']) for c in keyed['changes']] == [['icsum', 'ikey', 'ocsum', 'okey']]
    assert keyed['commands'][0].startswith('ip link set %s type %s ' % (task['name'], task['type']))
    assert ' ikey 77 okey 77 icsum noiseq ocsum nooseq' in keyed['commands'][0]
    assert router.link(task['name'])['index'] == index            # changed in place, not recreated
    data = router.link(task['name'])['data']
    assert (data['iflags'], data['oflags'], data['ikey'], data['okey']) == (0xA000, 0xA000, 77, 77)
    assert not router.run(persistent=False, **dict(task, addresses=['10.9.0.1/30'], key=77, csum=True))['changed']
    dropped = router.run(persistent=False, **dict(task, addresses=['10.9.0.1/30']))
    assert dropped['changed'] and dropped['tunnel']['ikey'] == 'none' and dropped['tunnel']['ocsum'] is False


def test_gre_and_gretap_are_different_kinds_so_a_type_change_recreates(router):
    router.run(persistent=False, **GRE4)
    result = router.run(persistent=False, **dict(GRE4, type='gretap'))
    assert [c['action'] for c in result['changes']] == [engine.RECREATE]
    assert router.link('g1')['kind'] == 'gretap'


def test_same_endpoints_are_fine_with_different_input_keys_and_refused_with_the_same(router):
    # The kernel finds a GRE tunnel by its endpoints and input key: two with one key collide.
    with pytest.raises(TunnelError, match='tunnels g1 and g2 have the same local 192.0.2.1 and remote 192.0.2.2 '
                                          r'\(kind gre, input key 5\)'):
        router.run(persistent=False, tunnels=[dict(GRE4, key=5), dict(GRE4, name='g2', key=5)])
    result = router.run(persistent=False, tunnels=[dict(GRE4, key=5), dict(GRE4, name='g2', key=6)])
    assert result['changed'] and sorted(result['tunnels']) == ['g1', 'g2']


def test_a_kernel_fallback_gre_device_is_not_a_tunnel_name(router):
    for name in ('gre0', 'gretap0', 'ip6gre0'):
        with pytest.raises(TunnelError, match='fallback tunnel device'):
            router.run(persistent=False, **dict(GRE4, name=name))


def test_the_commands_of_a_create_say_the_keys():
    obj = canonical(**dict(GRE6, key=9))
    change = engine.Change(engine.RUNTIME, 'g6', engine.CREATE, None, obj)
    assert iproute2_commands(change)[0] == ('ip link add g6 type ip6gre local 2001:db8::1 remote 2001:db8::2 hoplimit 64 '
                                            'encaplimit 4 tclass 0 flowlabel 0 ikey 9 okey 9 noicsum noiseq noocsum '
                                            'nooseq')
