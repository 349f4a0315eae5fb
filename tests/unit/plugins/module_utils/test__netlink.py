# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The netlink seam's link writes over a fake socket: one batch, one message per refusal."""

from __future__ import annotations

import errno

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _rtnl as rtnl
from ansible_collections.edgenet.router.plugins.module_utils._netlink import Netlink, NetlinkError
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_rtnl import FakeSocket, ack


def test_link_writes_answer_each_call_in_words():
    sock = FakeSocket([ack(1), ack(2, code=errno.EEXIST), ack(3, code=errno.EOPNOTSUPP), ack(4, code=errno.ENODEV)])
    nl = Netlink(None, rtnl=rtnl.RtnlSocket.over(sock))
    outcomes = nl.link_writes([
        ('set_link', {'name': 't0', 'alias': 'edgenet.router'}),
        ('add_link', {'name': 't1', 'kind': 'ipip', 'data': {'ttl': 64}, 'up': True}),
        ('add_link', {'name': 't2', 'kind': 'ip6tnl', 'data': {}}),
        ('del_link', {'index': 9, 'name': 't3'}),
    ])
    assert outcomes[0] is None
    assert all(isinstance(o, NetlinkError) for o in outcomes[1:])
    assert str(outcomes[1]) == ('create ipip link t1: a link of that name or a ipip tunnel with the same local '
                                'and remote addresses already exists')
    assert 'create ip6tnl link t2: the kernel has no ip6tnl support (module ip6_tunnel' in str(outcomes[2])
    assert str(outcomes[3]) == 'delete link t3: no such device'
    assert len(sock.sent) == 1                                   # four requests, one datagram


def test_a_single_write_raises_its_error():
    nl = Netlink(None, rtnl=rtnl.RtnlSocket.over(FakeSocket([ack(1, code=errno.EPERM)])))
    with pytest.raises(NetlinkError, match=r'^change link 4: permission denied \(needs root or CAP_NET_ADMIN\)$'):
        nl.set_link(index=4, up=True)
