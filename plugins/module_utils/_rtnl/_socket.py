# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Netlink sockets: requests, acknowledgements, batches and dumps. ``NetlinkSocket`` is the
transport of any netlink protocol (rtnetlink here, generic netlink for ``_l2tp``);
``RtnlSocket`` adds the rtnetlink reads, decoded by ``_codec``.

A plain ``AF_NETLINK`` socket in the namespace it was opened in (open it inside one to work
there). Kernel refusals come back as ``OSError`` with the kernel's errno; turning them into words
is ``_netlink``'s job.
"""

from __future__ import annotations

import errno
import os
import socket
import struct

from ansible_collections.edgenet.router.plugins.module_utils._rtnl._codec import (
    IFA_FAMILY_OFFSET, IFA_SCOPE_OFFSET, IFADDRMSG, IFINFOMSG, IFLA_EXT_MASK, NETLINK_ROUTE, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSGERR, NLMSGHDR, RT_SCOPE_LINK, RTEXT_FILTER_SKIP_STATS, RTM_GETADDR,
    RTM_GETLINK, RTM_GETROUTE, RTM_PROTOCOL_OFFSET, RTMSG, attr, link_body, parse_addr, parse_link, parse_link_spanned,
    parse_route, reparse_link, RTM_GETRULE, FIB_RULE_HDR, parse_rule,
)

__all__ = ['RECV_BUFFER', 'NetlinkSocket', 'RtnlSocket']

# The socket's receive buffer and our one read buffer: a datagram larger than the read buffer is
# cut, and a link dump's datagrams stay well below a megabyte.
RECV_BUFFER = 1 << 20
# linux/netlink.h: with this socket option set, the kernel checks dump requests strictly and
# honours their filters (a route dump's protocol); kernels before 4.20 refuse the option.
SOL_NETLINK = 270
NETLINK_GET_STRICT_CHK = 12


class NetlinkSocket(object):
    """A netlink socket of ``protocol`` in the namespace it was opened in; one request (or one
    batch) at a time."""

    def __init__(self, protocol=NETLINK_ROUTE):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER)
        sock.bind((0, 0))
        self._attach(sock)

    @classmethod
    def over(cls, sock):
        """A socket of this class speaking through ``sock`` (anything with send and recv_into:
        the unit tests' fakes, the benchmark's recorder and replayer)."""
        self = cls.__new__(cls)
        self._attach(sock)
        return self

    def _attach(self, sock):
        self.sock = sock
        self.seq = 0
        # One receive buffer for the socket's life: sock.recv(1 MiB) allocated (and faulted
        # in) a fresh megabyte for every answer, three times the cost of the whole request
        # on a native CPU.
        self._buf = bytearray(RECV_BUFFER)
        self._view = memoryview(self._buf)

    def _recv(self):
        return bytes(self._view[:self.sock.recv_into(self._buf)])

    def close(self):
        self.sock.close()

    def _send(self, msg_type, flags, body):
        self.seq += 1
        self.sock.send(NLMSGHDR.pack(NLMSGHDR.size + len(body), msg_type, flags, self.seq, 0) + body)
        return self.seq

    def _messages(self):
        """Yield ``(msg_type, seq, buf, start, end)`` for every message received, datagram after
        datagram (``buf[start:end]`` is its body), until the caller has what it waits for. A
        malformed header ends it."""
        while True:
            buf = self._recv()
            offset = 0
            while offset + NLMSGHDR.size <= len(buf):
                length, msg_type, _flags, msg_seq, _pid = NLMSGHDR.unpack_from(buf, offset)
                if length < NLMSGHDR.size:
                    return
                yield msg_type, msg_seq, buf, offset + NLMSGHDR.size, offset + length
                offset += (length + 3) & ~3

    def _bodies(self, seq):
        """The bodies of the messages answering ``seq``, until DONE or the ACK (an error raised as
        OSError): a list made in one loop over :meth:`_messages` (a generator between the two and a
        list made of its pairs cost a dump a microsecond a message, a tenth of reading 1000 links
        whose bytes had not changed)."""
        bodies = []
        for msg_type, msg_seq, buf, start, end in self._messages():
            if msg_seq != seq:
                continue  # a late answer to an earlier request
            if msg_type == NLMSG_DONE:
                break
            if msg_type == NLMSG_ERROR:
                code = -NLMSGERR.unpack_from(buf, start)[0]
                if code:
                    raise OSError(code, os.strerror(code))
                break
            bodies.append(buf[start:end])
        return bodies

    def dump(self, msg_type, body):
        """Every message of a dump request (``body``: the family header plus attributes)."""
        seq = self._send(msg_type, NLM_F_REQUEST | NLM_F_DUMP, body)
        try:
            return self._bodies(seq)
        except OSError as exc:
            if exc.errno == errno.EINTR:  # the dump changed while we read it: once more
                seq = self._send(msg_type, NLM_F_REQUEST | NLM_F_DUMP, body)
                return self._bodies(seq)
            raise

    def request(self, msg_type, body, flags=0):
        """Send one request and wait for its acknowledgement; answers (if any) are returned."""
        seq = self._send(msg_type, NLM_F_REQUEST | NLM_F_ACK | flags, body)
        return self._bodies(seq)

    # Requests per datagram in request_many: each is acknowledged in a datagram of its own,
    # and 64 acknowledgements (an error one echoes its request) stay far below the socket's
    # receive buffer (net.core.rmem_default, 208 KiB), so none is dropped.
    BATCH = 64

    def request_many(self, requests):
        """Send ``(msg_type, flags, body)`` requests, ``BATCH`` to a datagram, and return each
        one's errno (0: done), in order. The kernel handles the messages of a datagram one
        after another in one system call, and an error does not stop the ones after it.

        Why: a change request costs the kernel about the same alone or in a batch, but under
        emulation the same request took 2-3x as long when the caller's Python ran between
        requests (measured in the lab guest): the batch keeps the kernel's path warm."""
        codes = []
        for start in range(0, len(requests), self.BATCH):
            chunk = requests[start:start + self.BATCH]
            first = self.seq + 1
            messages = []
            for msg_type, flags, body in chunk:
                self.seq += 1
                messages.append(NLMSGHDR.pack(NLMSGHDR.size + len(body), msg_type,
                                              NLM_F_REQUEST | NLM_F_ACK | flags, self.seq, 0) + body)
            self.sock.send(b''.join(messages))
            answered = [None] * len(chunk)
            waiting = len(chunk)
            for msg_type, msg_seq, buf, start, _end in self._messages():
                slot = msg_seq - first
                if msg_type == NLMSG_ERROR and 0 <= slot < len(chunk) and answered[slot] is None:
                    answered[slot] = -NLMSGERR.unpack_from(buf, start)[0]
                    waiting -= 1
                    if not waiting:
                        break
            codes.extend(errno.EIO if code is None else code for code in answered)
        return codes


class RtnlSocket(NetlinkSocket):
    """A NETLINK_ROUTE socket with the rtnetlink reads the collection makes."""

    def _attach(self, sock):
        NetlinkSocket._attach(self, sock)
        # the last dump's links by index, each (its bytes, its dict, its IFLA_INFO_DATA span); and
        # its rp_filter
        self._parsed_at, self._parsed_with = {}, None

    # ---- the seam's operations ------------------------------------------------------------
    def links(self, rp_filter=True):
        """Every link, decoded (``rp_filter``: see ``parse_link``). A link whose bytes are those of
        the last dump is not decoded again: the read after a change then decodes the changed links
        only (the others come back byte for byte); and of a changed link whose bytes differ from
        the last dump's only inside its IFLA_INFO_DATA (a tunnel's ttl, endpoints, keys...), only
        that is decoded (``reparse_link``): verify's read of a bulk modify. The dicts are shared
        between dumps: callers must not change them."""
        body = IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + attr(IFLA_EXT_MASK, struct.pack('=I', RTEXT_FILTER_SKIP_STATS))
        last = self._parsed_at if self._parsed_with == rp_filter else {}
        self._parsed_at, self._parsed_with = {}, rp_filter
        out = []
        for raw in self.dump(RTM_GETLINK, body):
            index = IFINFOMSG.unpack_from(raw)[2]
            before = last.get(index)
            link = None
            if before is not None:   # the same bytes, or the same but for its parameters: the same span
                link = before[1] if before[0] == raw else reparse_link(raw, *before)
                span = before[2]
            if link is None:
                link, span = parse_link_spanned(raw, rp_filter)
            self._parsed_at[index] = (raw, link, span)
            out.append(link)
        return out

    def link_by_name(self, name):
        try:
            found = self.request(RTM_GETLINK, link_body(name=name))
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                return None
            raise
        return parse_link(found[0]) if found else None

    def addresses(self, ipv6_link_local=True):
        """Every address; ``ipv6_link_local`` False leaves out IPv6 link-local addresses, told
        from the header's scope before any attribute is decoded (the kernel gives most links
        one, tunnels included, and scope link is what it gives fe80::/10 and nothing else)."""
        replies = self.dump(RTM_GETADDR, IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0))
        if not ipv6_link_local:
            replies = [b for b in replies if not (b[IFA_FAMILY_OFFSET] == socket.AF_INET6 and b[IFA_SCOPE_OFFSET] == RT_SCOPE_LINK)]
        return [parse_addr(b) for b in replies]

    def rules(self, family):
        """The policy rules of ``family`` (``ip rule``), decoded."""
        return [parse_rule(b) for b in self.dump(RTM_GETRULE, FIB_RULE_HDR.pack(family, 0, 0, 0, 0, 0, 0, 0, 0))]

    def _strict(self, on):
        """Turn the kernel's strict dump checking (and its dump filters) on or off; False when
        it cannot be (a kernel before 4.20, or a socket that is not a kernel's: tests, replays)."""
        try:
            self.sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1 if on else 0)
        except (AttributeError, OSError):
            return False
        return True

    def routes(self, family, protocols=None):
        """Routes of ``family``; with ``protocols``, only routes of those origins (boot, static..).

        The kernel's own routes (a local, a broadcast and a prefix route per IPv4 address, a local
        and a multicast route per IPv6 link) outnumber the ones we manage, and a router may carry
        a routing daemon's full table: so the kernel is asked for each origin in a dump of its
        own, with strict checking on just for them (it then skips the others before building
        their messages; 1000 tunnels with an address and a route each: 1000 routes sent instead
        of 4000). Without it every route comes, and the others are told from the header here,
        before any attribute is decoded (as they are anyway)."""
        if protocols is not None and self._strict(True):
            try:
                replies = [body for protocol in protocols
                           for body in self.dump(RTM_GETROUTE, RTMSG.pack(family, 0, 0, 0, 0, protocol, 0, 0, 0))]
            finally:
                self._strict(False)
        else:
            replies = self.dump(RTM_GETROUTE, RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0))
        if protocols is not None:
            replies = [b for b in replies if b[RTM_PROTOCOL_OFFSET] in protocols]
        return [parse_route(b) for b in replies]
