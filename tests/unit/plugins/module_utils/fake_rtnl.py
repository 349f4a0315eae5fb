# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A netlink socket that answers with prepared datagrams, for the rtnetlink codec and the seam."""

from __future__ import annotations

import struct

from ansible_collections.edgenet.router.plugins.module_utils._rtnl import _codec as rtnl
from ansible_collections.edgenet.router.plugins.module_utils._rtnl._socket import RtnlSocket


class FakeSocket(object):
    """Answers with prepared datagrams; records what was sent."""

    def __init__(self, datagrams):
        self.datagrams = list(datagrams)
        self.sent = []

    def send(self, data):
        self.sent.append(data)

    def recv_into(self, buf):
        data = self.datagrams.pop(0)
        buf[:len(data)] = data
        return len(data)


def message(msg_type, seq, body, flags=0):
    return rtnl.NLMSGHDR.pack(rtnl.NLMSGHDR.size + len(body), msg_type, flags, seq, 0) + body


def sock_with(datagrams):
    return RtnlSocket.over(FakeSocket(datagrams))


def ack(seq, code=0):
    return message(rtnl.NLMSG_ERROR, seq, struct.pack('=i', -code) + b'\0' * 16)
