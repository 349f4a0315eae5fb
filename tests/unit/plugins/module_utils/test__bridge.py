# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bridge of the l2tpv3_pseudowire role against the kernel's links: one row per drifted field,
in the order the kernel needs, and nothing when the kernel matches."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._bridge import BridgeError, bridge_changes

PORTS = [{'name': 'eth1', 'mtu': 1450, 'up': True}, {'name': 'l2tpeth0'}]


def link(name, kind=None, master=None, mtu=1500, up=True):
    out = {'ifname': name, 'mtu': mtu, 'flags': ['BROADCAST', 'MULTICAST'] + (['UP'] if up else [])}
    if kind:
        out['linkinfo'] = {'info_kind': kind}
    if master:
        out['master'] = master
    return out


def commands(rows):
    return [row['command'] for row in rows]


def test_nothing_there_yet_creates_joins_sets_mtus_then_brings_up_in_that_order():
    links = [link('lo'), link('eth1', up=False), link('l2tpeth0', kind='l2tp', mtu=1446)]
    rows = bridge_changes(links, 'br0', mtu=1450, ports=PORTS)
    assert commands(rows) == [
        'link add name br0 type bridge',
        'link set dev eth1 master br0',
        'link set dev l2tpeth0 master br0',
        'link set dev eth1 mtu 1450',
        'link set dev br0 mtu 1450',   # after its ports joined: the bridge keeps it
        'link set dev eth1 up',
        'link set dev br0 up',
    ]
    assert rows[0] == {'object': 'br0', 'store': 'runtime', 'action': 'create',
                       'fields': {'present': {'before': False, 'after': True}}, 'command': 'link add name br0 type bridge'}
    assert rows[3]['fields'] == {'mtu': {'before': 1500, 'after': 1450}}


def test_the_kernel_as_wanted_gives_no_row():
    links = [link('br0', kind='bridge', mtu=1450), link('eth1', master='br0', mtu=1450),
             link('l2tpeth0', kind='l2tp', master='br0', mtu=1446, up=False)]
    assert bridge_changes(links, 'br0', mtu=1450, ports=PORTS) == []   # the session's mtu and state are not ours


def test_one_hand_made_change_is_one_row():
    links = [link('br0', kind='bridge', mtu=1400), link('eth1', master='br0', mtu=1450),
             link('l2tpeth0', kind='l2tp', master='br0')]
    assert bridge_changes(links, 'br0', mtu=1450, ports=PORTS) == [
        {'object': 'br0', 'store': 'runtime', 'action': 'modify', 'fields': {'mtu': {'before': 1400, 'after': 1450}},
         'command': 'link set dev br0 mtu 1450'}]


def test_a_port_of_another_bridge_moves():
    links = [link('br0', kind='bridge', mtu=1450), link('eth1', master='br9', mtu=1450), link('l2tpeth0', master='br0')]
    rows = bridge_changes(links, 'br0', mtu=1450, ports=PORTS)
    assert [(r['object'], r['fields']) for r in rows] == [('eth1', {'master': {'before': 'br9', 'after': 'br0'}})]


def test_absent_deletes_an_existing_bridge_and_nothing_else():
    assert bridge_changes([link('br0', kind='bridge')], 'br0', state='absent') == [
        {'object': 'br0', 'store': 'runtime', 'action': 'delete', 'fields': {'present': {'before': True, 'after': False}},
         'command': 'link del dev br0'}]
    assert bridge_changes([link('eth1')], 'br0', state='absent') == []


def test_a_name_held_by_another_kind_of_link_is_refused_and_left_alone():
    with pytest.raises(BridgeError, match='br0 is a veth link, not a bridge'):
        bridge_changes([link('br0', kind='veth')], 'br0', mtu=1450, ports=PORTS)
    with pytest.raises(BridgeError, match='br0 is a plain link'):
        bridge_changes([link('br0')], 'br0', state='absent')


@pytest.mark.parametrize('bridge, ports, mtu, state, message', [
    ('br 0', PORTS, None, 'present', "bridge 'br 0' is not a valid interface name"),
    ('x' * 16, PORTS, None, 'present', 'is not a valid interface name'),
    ('br0\n', PORTS, None, 'present', 'is not a valid interface name'),
    (None, PORTS, None, 'present', 'bridge None is not a valid interface name'),
    ('br0', [{'name': 'eth1;reboot'}], None, 'present', "port 'eth1;reboot' is not a valid interface name"),
    # The kernel refuses . and .. (the old own pattern let them through), and - would be an option to ip.
    ('.', PORTS, None, 'present', "bridge '.' is not a valid interface name: an interface name is 1-15"),
    ('br0', [{'name': '..'}], None, 'present', "port '..' is not a valid interface name: an interface name is 1-15"),
    ('-br0', PORTS, None, 'present', "bridge '-br0' is not a valid interface name"),
    ('br0', [{'name': 'br0'}], None, 'present', 'port br0 is the bridge itself'),
    ('br0', PORTS, 67, 'present', 'bridge br0 mtu 67: an integer from 68 to 65535'),
    ('br0', [{'name': 'eth1', 'mtu': '1450'}], None, 'present', "port eth1 mtu '1450'"),
    ('br0', PORTS, True, 'present', 'mtu True'),
    ('br0', PORTS, None, 'gone', "state 'gone': present or absent"),
])
def test_what_cannot_be_a_bridge_is_refused_naming_the_value(bridge, ports, mtu, state, message):
    with pytest.raises(BridgeError) as caught:
        bridge_changes([link('eth1')], bridge, mtu=mtu, ports=ports, state=state)
    assert message in str(caught.value)
