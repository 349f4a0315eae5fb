# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The networkd persistent store of tunnels, GRE family (and ip6tnl's traffic class): every GRE
type round trip with and without keys, the [Tunnel] keys networkd reads, what networkd cannot bring back refused with the reason,
hand edits read as networkd builds the link (drift), and the store in the engine's cycle (fake
kernel). The other tunnel types are tested through test__iptun.py and test__sixtofour.py."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._networkd import parse
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TunnelError
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_networkd import (
    NetworkdTunnels, check_persistable, parse_files, render_files,
)
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.store_checks import assert_round_trip
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__iptun import Router
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__tunnel_ifupdown import canonical

GRE4 = dict(name='g1', type='gre', local='192.0.2.1', remote='192.0.2.2')
GRE6 = dict(name='g6', type='ip6gre', local='2001:db8::1', remote='2001:db8::2', encaplimit=0)
TUNNELS = [
    dict(GRE4),
    dict(GRE4, name='gt1', type='gretap', local=None, key=42, seq=True, ttl=64, tos=0x10, mtu=1400,
         addresses=['10.9.0.1/30'], routes=[{'dest': '10.9.1.0/24', 'via': '10.9.0.2'}]),
    dict(GRE4, name='g2', ikey='0.0.0.7', okey=4294967295, pmtudisc=False, enabled=False),
    dict(GRE6),
    dict(GRE6, name='gt6', type='ip6gretap', key=5, encaplimit='none', flowlabel=0x12345, ttl=10,
         addresses=['2001:db8:9::1/64']),
    dict(GRE6, name='g7', okey=9),
]
REFUSED = [
    (dict(GRE4, csum=True), 'icsum and ocsum: systemd-networkd has no GRE checksum setting'),
    (dict(GRE4, ocsum=True), 'ocsum: systemd-networkd has no GRE checksum setting'),
    (dict(GRE4, iseq=True), 'sequence numbers in one direction only (iseq True, oseq False)'),
    (dict(GRE4, ikey=0), 'ikey 0: networkd sets no GRE key when a key is 0'),
    (dict(GRE4, key='0.0.0.0'), 'okey 0: networkd sets no GRE key'),
    (dict(GRE6, seq=True), "sequence numbers on ip6gre: networkd's SerializeTunneledPackets= applies to gre"),
    (dict(GRE6, tos=0x20), 'tclass 32: networkd sets no traffic class for ip6gre'),
    (dict(GRE6, type='ip6gretap', tos='inherit'), 'tclass inherit: networkd sets no traffic class for ip6gretap'),
    (dict(GRE6, encaplimit=None), 'encaplimit 4: networkd sends no encapsulation limit for ip6gre, so the kernel '
                                  'holds 0 after boot; use encaplimit 0 or none'),
    # ip6tnl: CopyDSCP= is a receive-side DSCP copy, not tclass inherit (a Debian 12 guest's ip -d link)
    (dict(GRE6, name='t6', type='ip6ip6', tos='inherit'), 'tclass inherit: networkd sets no traffic class for ip6tnl'),
    (dict(GRE6, name='t6', type='ipip6', tos=0x20), 'tclass 32: networkd sets no traffic class for ip6tnl'),
]


def netdev(obj):
    return dict(pair for section, pairs in parse(render_files(obj)['netdev']) if section == 'Tunnel' for pair in pairs)


@pytest.mark.parametrize('task', TUNNELS, ids=[t['name'] for t in TUNNELS])
def test_every_gre_type_reads_back_as_written(tmp_path, task):
    obj = canonical(task)
    check_persistable(obj)
    assert_round_trip(NetworkdTunnels(str(tmp_path / 'network')), obj)
    assert sorted(n for n in os.listdir(str(tmp_path / 'network')) if not n.startswith('.')) == \
        ['60-edgenet-%s.netdev' % obj['name'], '60-edgenet-%s.network' % obj['name']]


def test_the_keys_networkd_reads():
    keyed = netdev(canonical(TUNNELS[1]))
    assert (keyed['InputKey'], keyed['OutputKey'], keyed['SerializeTunneledPackets']) == ('42', '42', 'yes')
    assert (keyed['TTL'], keyed['TOS'], keyed['DiscoverPathMTU'], keyed['Local']) == ('64', '16', 'yes', 'any')
    plain = netdev(canonical(TUNNELS[0]))
    assert 'InputKey' not in plain and 'OutputKey' not in plain and plain['SerializeTunneledPackets'] == 'no'
    assert (netdev(canonical(TUNNELS[2]))['InputKey'], netdev(canonical(TUNNELS[2]))['OutputKey']) == ('7', '4294967295')
    six = netdev(canonical(TUNNELS[4]))
    # ip6gre: no TOS, CopyDSCP, DiscoverPathMTU or SerializeTunneledPackets (networkd sends none of them)
    assert six == {'Independent': 'yes', 'Local': '2001:db8::1', 'Remote': '2001:db8::2', 'TTL': '10',
                   'EncapsulationLimit': 'none', 'IPv6FlowLabel': str(0x12345), 'InputKey': '5', 'OutputKey': '5'}
    assert '\nKind=ip6gretap\n' in render_files(canonical(TUNNELS[4]))['netdev']


@pytest.mark.parametrize('task, words', REFUSED, ids=['%s-%d' % (t['type'], i) for i, (t, w) in enumerate(REFUSED)])
def test_what_networkd_cannot_bring_back_is_refused_with_the_reason(task, words):
    with pytest.raises(TunnelError, match=re.escape(words)):
        check_persistable(canonical(task))


def test_every_problem_of_a_gre_tunnel_in_one_message():
    with pytest.raises(TunnelError) as caught:
        check_persistable(canonical(dict(GRE6, type='ip6gretap', ikey=0, icsum=True, oseq=True, encaplimit=3)))
    message = str(caught.value)
    assert message.startswith('tunnel g6 cannot be made persistent: ikey 0')
    assert 'icsum: ' in message and 'sequence numbers on ip6gretap' in message and 'encaplimit 3' in message
    assert message.endswith('Use persistent: false, or change the tunnel')


@pytest.mark.parametrize('edit, field, value', [
    (('InputKey=42', 'InputKey=43'), 'ikey', 43),
    (('InputKey=42', 'InputKey=0.0.0.44'), 'ikey', 44),           # networkd's dotted form
    (('InputKey=42\n', ''), 'ikey', 'none'),
    (('InputKey=42', 'InputKey=0'), 'ikey', 'none'),             # a key of 0 is no key
    (('InputKey=42', 'InputKey=forty'), 'ikey', 'forty'),         # shown as written
    (('OutputKey=42\n', 'Key=7\n'), 'okey', 7),                 # Key= when OutputKey= is not there
    (('SerializeTunneledPackets=yes', 'SerializeTunneledPackets=no'), 'oseq', False),
    (('SerializeTunneledPackets=yes\n', ''), 'iseq', False),     # the kernel's default: none
    (('SerializeTunneledPackets=yes', 'SerializeTunneledPackets=on'), 'iseq', True),
    (('TOS=16', 'TOS=8'), 'tos', 8),
    (('DiscoverPathMTU=yes', 'DiscoverPathMTU=no'), 'pmtudisc', False),
])
def test_a_gre_value_edited_by_hand_is_drift(edit, field, value):
    obj = canonical(TUNNELS[1])
    files = render_files(obj)
    assert edit[0] in files['netdev']
    back = parse_files(obj['name'], dict(files, netdev=files['netdev'].replace(edit[0], edit[1])))
    assert back[field] == value


def test_an_ip6gre_file_reads_as_networkd_builds_the_link():
    obj = canonical(TUNNELS[4])
    text = render_files(obj)['netdev']
    text = text.replace('EncapsulationLimit=none', 'EncapsulationLimit=5').replace('OutputKey=5', 'OutputKey=6')
    back = parse_files('gt6', {'netdev': text + 'CopyDSCP=yes\nTOS=4\nSerializeTunneledPackets=yes\n'})
    # networkd sends no encapsulation limit, traffic class or sequence numbers for ip6gre
    assert (back['encaplimit'], back['tos'], back['iseq'], back['oseq']) == (0, 0, False, False)
    assert (back['ikey'], back['okey'], back['icsum'], back['ocsum']) == (5, 6, False, False)
    assert back['pmtudisc'] is None


@pytest.mark.parametrize('kind', ['ipip', 'sit', 'gre', 'gretap'])
def test_tos_inherit_of_an_ipv4_kind_is_the_kernels_tos_1(kind):
    obj = canonical(dict(GRE4, name='t4', type=kind, tos='inherit'))
    check_persistable(obj)
    # a task's tos 1 is the same thing (the kernel reads 1 back as inherit)
    assert canonical(dict(GRE4, name='t4', type=kind, tos=1))['tos'] == 'inherit'
    assert netdev(obj)['TOS'] == '1' and parse_files('t4', render_files(obj))['tos'] == 'inherit'
    assert parse_files('t4', render_files(dict(obj, tos=0x10)))['tos'] == 0x10


def test_an_ip6tnl_file_never_says_copydscp_and_one_that_does_is_drift():
    obj = canonical(dict(GRE6, name='t6', type='ip6ip6'))
    text = render_files(obj)['netdev']
    assert 'CopyDSCP' not in text and parse_files('t6', {'netdev': text})['tos'] == 0
    # an older version wrote it for tclass inherit; networkd boots it as a receive-side DSCP copy
    assert parse_files('t6', {'netdev': text + 'CopyDSCP=yes\n'})['tos'] == 'CopyDSCP=yes'
    assert parse_files('t6', {'netdev': text + 'CopyDSCP=no\n'})['tos'] == 0


def test_other_kinds_have_no_gre_fields():
    back = parse_files('t1', render_files(canonical(dict(name='t1', type='ipip', local='192.0.2.1', remote='192.0.2.2'))))
    assert [back[f] for f in ('ikey', 'okey', 'icsum', 'ocsum', 'iseq', 'oseq')] == [None] * 6


@pytest.mark.parametrize('task', [dict(GRE4, key=77, seq=True), dict(GRE6, type='ip6gretap', okey=3)],
                         ids=['gre', 'ip6gretap'])
def test_the_store_in_the_cycle_check_apply_idempotent_drift_repair(tmp_path, task):
    router = Router(tmp_path)
    check = router.run(check_mode=True, **task)
    assert check['changed'] and router.files() == []
    applied = router.run(**task)
    assert [c['store'] for c in applied['changes']] == ['persistent', 'runtime']
    assert router.run(**task)['changed'] is False
    path = os.path.join(router.dir, '60-edgenet-%s.netdev' % task['name'])
    with open(path) as handle:
        text = handle.read()
    with open(path, 'w') as handle:
        handle.write(text.replace('OutputKey=%d' % (task.get('key') or task.get('okey')), 'OutputKey=1'))
    drift = router.run(check_mode=True, **task)
    assert [(c['store'], list(c['fields'])) for c in drift['changes']] == [('persistent', ['okey'])]
    assert router.run(**task)['changed'] is True
    assert router.run(check_mode=True, **task)['changed'] is False


def test_a_refused_gre_tunnel_changes_nothing(tmp_path):
    router = Router(tmp_path)
    with pytest.raises(TunnelError, match='no GRE checksum setting'):
        router.run(**dict(GRE4, csum=True))
    assert router.files() == [] and router.link('g1') is None
    assert router.run(persistent=False, **dict(GRE4, csum=True))['changed'] is True
