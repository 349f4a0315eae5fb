# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""A Linux bridge and its ports, compared with what the kernel holds (``ip -json -details link show``).

The l2tpv3_pseudowire role joins a port and an L2TPv3 session interface to one bridge. Check mode
must report each field that drifted in the collection's ``changes`` shape, and a real run must fix
exactly those: :func:`bridge_changes` returns both at once, one row per drifted field with the
``ip -batch`` line that fixes it, in the order the kernel needs them (create the bridge, join the
ports, set MTUs, bring links up). The bridge's MTU is set after its ports join: a bridge whose
MTU was set by the user keeps it as ports come and go, and one set before would be lowered to its
smallest port's.
"""

from __future__ import annotations

from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted

__all__ = ['BridgeError', 'bridge_changes']

STORE = 'runtime'


class BridgeError(Exception):
    """The request cannot describe a bridge; the message names the value."""


def _name(what, value):
    """The collection's one name rule (``_names``): the name becomes a word of an ``ip -batch``
    line, where a leading ``-`` reads as an option, and ``.``/``..`` are no link the kernel makes."""
    problem = link_name_problem(value)
    if problem is not None:
        raise BridgeError('%s %s is not a valid interface name: %s' % (what, quoted(value), problem))
    return value


def _mtu(what, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 68 <= value <= 65535:
        raise BridgeError('%s mtu %r: an integer from 68 to 65535' % (what, value))
    return value


def _row(name, field, before, after, command, action='modify'):
    return {'object': name, 'store': STORE, 'action': action, 'fields': {field: {'before': before, 'after': after}},
            'command': command}


def _up(link):
    return 'UP' in (link.get('flags') or [])


def bridge_changes(links, bridge, mtu=None, ports=(), state='present'):
    """``[{object, store, action, fields, command}]``: what differs between the kernel's ``links``
    (the list ``ip -json -details link show`` prints) and ``bridge`` (a name) with ``mtu`` (None:
    left alone) and ``ports`` (``[{name, mtu (None: left alone), up (False: its state is not
    ours)}]``), up; or, with ``state: absent``, the bridge deleted (its ports are released by the
    kernel and keep their MTU). Raises BridgeError for a name or MTU that cannot be one, and for
    a ``bridge`` name held by a link of another kind."""
    if state not in ('present', 'absent'):
        raise BridgeError('state %r: present or absent' % (state,))
    bridge = _name('bridge', bridge)
    mtu = _mtu('bridge %s' % bridge, mtu)
    by_name = dict((link.get('ifname'), link) for link in links or [])
    have = by_name.get(bridge)
    if have is not None and (have.get('linkinfo') or {}).get('info_kind') != 'bridge':
        kind = (have.get('linkinfo') or {}).get('info_kind') or 'plain'
        raise BridgeError('%s is a %s link, not a bridge: it is left alone' % (bridge, kind))
    if state == 'absent':
        return [] if have is None else [_row(bridge, 'present', True, False, 'link del dev %s' % bridge, 'delete')]
    have = have or {}
    create, join, mtus, ups = [], [], [], []
    if not have:
        create.append(_row(bridge, 'present', False, True, 'link add name %s type bridge' % bridge, 'create'))
    for port in ports:
        name = _name('port', port.get('name'))
        if name == bridge:
            raise BridgeError('port %s is the bridge itself' % name)
        port_mtu = _mtu('port %s' % name, port.get('mtu'))
        link = by_name.get(name, {})
        if link.get('master') != bridge:
            join.append(_row(name, 'master', link.get('master'), bridge, 'link set dev %s master %s' % (name, bridge)))
        if port_mtu is not None and link.get('mtu') != port_mtu:
            mtus.append(_row(name, 'mtu', link.get('mtu'), port_mtu, 'link set dev %s mtu %d' % (name, port_mtu)))
        if port.get('up') and not _up(link):
            ups.append(_row(name, 'up', False, True, 'link set dev %s up' % name))
    if mtu is not None and have.get('mtu') != mtu:
        mtus.append(_row(bridge, 'mtu', have.get('mtu'), mtu, 'link set dev %s mtu %d' % (bridge, mtu)))
    if not _up(have):
        ups.append(_row(bridge, 'up', False, True, 'link set dev %s up' % bridge))
    return create + join + mtus + ups
