# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The kernel L2TP seam: generic netlink family ``l2tp`` (include/uapi/linux/l2tp.h) as plain dicts.

The collection's own codec over ``_rtnl._socket.NetlinkSocket`` (protocol NETLINK_GENERIC), as
``_rtnl`` is for rtnetlink; no third-party library. pyroute2's ``L2tp`` helper had a broken
tunnel dump, cookies and IPv6 checksum flags that differed between Debian's 0.7.x and PyPI's
0.9.x, its generic socket cost ~40 % of each request in its message encoding, and its import
alone ~2 s of a task under emulation (bench/README.md).

Tunnels and sessions come back as dicts with short names (``tunnel_id``, ``peer_session_id``,
``cookie`` as lowercase hex, ``stats``...). Errors become :class:`_netlink.NetlinkError` with a
message a network engineer can act on. Network namespaces are entered with ``setns(2)`` only for
opening the socket (a netlink socket stays in the namespace it was made in), never created.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from contextlib import contextmanager, nullcontext

from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError, error_code, explain, in_netns
from ansible_collections.edgenet.router.plugins.module_utils._rtnl._codec import attr, attrs
from ansible_collections.edgenet.router.plugins.module_utils._rtnl._socket import NetlinkSocket

__all__ = [
    'L2tp',
    'encode_tunnel',
    'encode_session',
    'decode_tunnel',
    'decode_session',
    'open_l2tp',
    'ENCAP_UDP',
    'ENCAP_IP',
    'PWTYPE_ETH',
    'PWTYPE_PPP',
    'PWTYPE_PPP_AC',
    'REASONS',
]

NETLINK_GENERIC = 16
GENLMSGHDR = struct.Struct('=BBH')      # cmd, version, reserved
# The generic netlink controller: it resolves a family's name to its message type.
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2

GENL_NAME = 'l2tp'
GENL_VERSION = 1

CMD_TUNNEL_CREATE = 1
CMD_TUNNEL_DELETE = 2
CMD_TUNNEL_MODIFY = 3
CMD_TUNNEL_GET = 4
CMD_SESSION_CREATE = 5
CMD_SESSION_DELETE = 6
CMD_SESSION_MODIFY = 7
CMD_SESSION_GET = 8

L2TP_V3 = 3  # L2TP_ATTR_PROTO_VERSION of every tunnel the collection makes (RFC 3931; no L2TPv2)
ENCAP_UDP = 0
ENCAP_IP = 1
PWTYPE_ETH = 0x0005
# RFC 4591 / the kernel's L2TP_PWTYPE_PPP and L2TP_PWTYPE_PPP_AC: sessions a PPP daemon owns.
PWTYPE_PPP = 0x0007
PWTYPE_PPP_AC = 0x0008
L2SPEC_NONE = 0
L2SPEC_DEFAULT = 1

# enum l2tp_attrs (the ones the collection reads or writes)
ATTR_PW_TYPE, ATTR_ENCAP_TYPE, ATTR_L2SPEC_TYPE, ATTR_PROTO_VERSION, ATTR_IFNAME = 1, 2, 5, 7, 8
ATTR_CONN_ID, ATTR_PEER_CONN_ID, ATTR_SESSION_ID, ATTR_PEER_SESSION_ID = 9, 10, 11, 12
ATTR_COOKIE, ATTR_PEER_COOKIE, ATTR_RECV_SEQ, ATTR_SEND_SEQ, ATTR_LNS_MODE, ATTR_RECV_TIMEOUT = 15, 16, 18, 19, 20, 22
ATTR_IP_SADDR, ATTR_IP_DADDR, ATTR_UDP_SPORT, ATTR_UDP_DPORT, ATTR_STATS = 24, 25, 26, 27, 30
ATTR_IP6_SADDR, ATTR_IP6_DADDR = 31, 32

_U8, _U16, _U32, _U64 = (struct.Struct(f) for f in ('=B', '=H', '=I', '=Q'))

# short name -> (attribute, struct) for the fields sent and read as plain integers
_TUNNEL_INTS = (('tunnel_id', ATTR_CONN_ID, _U32), ('peer_tunnel_id', ATTR_PEER_CONN_ID, _U32),
                ('udp_sport', ATTR_UDP_SPORT, _U16), ('udp_dport', ATTR_UDP_DPORT, _U16))
_SESSION_INTS = (('tunnel_id', ATTR_CONN_ID, _U32), ('session_id', ATTR_SESSION_ID, _U32),
                 ('peer_session_id', ATTR_PEER_SESSION_ID, _U32))
_SESSION_FLAGS = (('send_seq', ATTR_SEND_SEQ), ('recv_seq', ATTR_RECV_SEQ), ('lns_mode', ATTR_LNS_MODE))
# enum l2tp_stats_attrs, in order from 1: every counter is a u64
STATS = (('tx_packets', 1), ('tx_bytes', 2), ('tx_errors', 3), ('rx_packets', 4), ('rx_bytes', 5),
         ('rx_seq_discards', 6), ('rx_oos_packets', 7), ('rx_errors', 8))


def _int_attr(number, fixed, value):
    return attr(number, fixed.pack(int(value)))


def encode_tunnel(tunnel):
    """Tunnel dict (``tunnel_id, peer_tunnel_id, encap ('udp'|'ip'), local, remote, udp_sport,
    udp_dport``) -> the attributes of TUNNEL_CREATE. No FD: an unmanaged tunnel, whose socket
    the kernel makes and keeps itself (Documentation/networking/l2tp.rst)."""
    out = [_int_attr(ATTR_PROTO_VERSION, _U8, L2TP_V3),
           _int_attr(ATTR_ENCAP_TYPE, _U16, ENCAP_IP if tunnel['encap'] == 'ip' else ENCAP_UDP)]
    for name, number, fixed in _TUNNEL_INTS:
        if tunnel.get(name) is not None and (tunnel['encap'] == 'udp' or not name.startswith('udp_')):
            out.append(_int_attr(number, fixed, tunnel[name]))
    if ':' in tunnel['remote']:
        out += [attr(ATTR_IP6_SADDR, socket.inet_pton(socket.AF_INET6, tunnel['local'])),
                attr(ATTR_IP6_DADDR, socket.inet_pton(socket.AF_INET6, tunnel['remote']))]
    else:
        out += [attr(ATTR_IP_SADDR, socket.inet_pton(socket.AF_INET, tunnel['local'])),
                attr(ATTR_IP_DADDR, socket.inet_pton(socket.AF_INET, tunnel['remote']))]
    return b''.join(out)


def encode_session(session):
    """Session dict -> the attributes of SESSION_CREATE (an Ethernet pseudowire)."""
    out = [_int_attr(number, fixed, session[name]) for name, number, fixed in _SESSION_INTS]
    out.append(_int_attr(ATTR_PW_TYPE, _U16, PWTYPE_ETH))
    out.append(_int_attr(ATTR_L2SPEC_TYPE, _U8, L2SPEC_NONE if session.get('l2spec_type') == 'none' else L2SPEC_DEFAULT))
    if session.get('ifname'):
        out.append(attr(ATTR_IFNAME, session['ifname'].encode() + b'\0'))
    for name, number in (('cookie', ATTR_COOKIE), ('peer_cookie', ATTR_PEER_COOKIE)):
        if session.get(name) not in (None, '', 'none'):
            out.append(attr(number, bytes.fromhex(session[name])))
    return b''.join(out) + _session_settings(session)


def _session_settings(session):
    """The attributes SESSION_MODIFY can change in place (l2tp_nl_cmd_session_modify)."""
    out = []
    for name, number in _SESSION_FLAGS:
        if session.get(name) is not None:
            out.append(_int_attr(number, _U8, 1 if session[name] else 0))
    if session.get('reorder_timeout') is not None:
        out.append(_int_attr(ATTR_RECV_TIMEOUT, _U64, session['reorder_timeout']))
    return b''.join(out)


def _unsigned(raw, default=None):
    if raw is None:
        return default
    return {1: _U8, 2: _U16, 4: _U32, 8: _U64}[len(raw)].unpack(raw)[0] if len(raw) in (1, 2, 4, 8) else default


def _address(found, number, family):
    raw = found.get(number)
    return socket.inet_ntop(family, raw) if raw is not None and len(raw) in (4, 16) else None


def _stats(found):
    nested = attrs(found[ATTR_STATS]) if ATTR_STATS in found else {}
    return dict((name, _unsigned(nested.get(number), 0)) for name, number in STATS)


def decode_tunnel(body):
    """A TUNNEL_GET reply (its genl header and attributes) -> tunnel dict (addresses as text,
    encap as 'udp'/'ip')."""
    found = attrs(body, GENLMSGHDR.size)
    encap = 'ip' if _unsigned(found.get(ATTR_ENCAP_TYPE), ENCAP_UDP) == ENCAP_IP else 'udp'
    return {
        'tunnel_id': _unsigned(found.get(ATTR_CONN_ID)),
        'peer_tunnel_id': _unsigned(found.get(ATTR_PEER_CONN_ID)),
        'version': _unsigned(found.get(ATTR_PROTO_VERSION)),
        'encap': encap,
        'local': _address(found, ATTR_IP6_SADDR, socket.AF_INET6) or _address(found, ATTR_IP_SADDR, socket.AF_INET),
        'remote': _address(found, ATTR_IP6_DADDR, socket.AF_INET6) or _address(found, ATTR_IP_DADDR, socket.AF_INET),
        'udp_sport': _unsigned(found.get(ATTR_UDP_SPORT)) if encap == 'udp' else None,
        'udp_dport': _unsigned(found.get(ATTR_UDP_DPORT)) if encap == 'udp' else None,
        'stats': _stats(found),
    }


def decode_session(body):
    """A SESSION_GET reply -> session dict. The kernel does not report the L2-specific sublayer."""
    found = attrs(body, GENLMSGHDR.size)
    ifname = found.get(ATTR_IFNAME)
    cookies = dict((name, found[number].hex() or None if number in found else None)
                   for name, number in (('cookie', ATTR_COOKIE), ('peer_cookie', ATTR_PEER_COOKIE)))
    return dict({
        'tunnel_id': _unsigned(found.get(ATTR_CONN_ID)),
        'peer_tunnel_id': _unsigned(found.get(ATTR_PEER_CONN_ID)),
        'session_id': _unsigned(found.get(ATTR_SESSION_ID)),
        'peer_session_id': _unsigned(found.get(ATTR_PEER_SESSION_ID)),
        'pw_type': _unsigned(found.get(ATTR_PW_TYPE)),
        'ifname': ifname.split(b'\0', 1)[0].decode('utf-8', 'replace') if ifname is not None else None,
        'send_seq': bool(_unsigned(found.get(ATTR_SEND_SEQ), 0)),
        'recv_seq': bool(_unsigned(found.get(ATTR_RECV_SEQ), 0)),
        'lns_mode': bool(_unsigned(found.get(ATTR_LNS_MODE), 0)),
        'reorder_timeout': _unsigned(found.get(ATTR_RECV_TIMEOUT), 0),
        'stats': _stats(found),
    }, **cookies)


# What the L2TP family means by a code, over _netlink's words (EPERM, EINVAL... are the same).
_MISSING_ENCAP = 'the kernel has no L2TP support for this encapsulation (module l2tp_ip / l2tp_ip6 missing)'
REASONS = {
    errno.EEXIST: 'it already exists',
    errno.ENOENT: 'no such tunnel or session',
    errno.ENODEV: 'no such tunnel or session',
    errno.EADDRNOTAVAIL: 'the local address is not configured on this host (or namespace)',
    errno.EADDRINUSE: 'the local UDP port or IP encapsulation socket is already in use',
    errno.EPROTONOSUPPORT: _MISSING_ENCAP,
    errno.EAFNOSUPPORT: _MISSING_ENCAP,
    errno.EOPNOTSUPP: 'the kernel has no L2TP Ethernet pseudowire support (module l2tp_eth missing)',
}


def _explain(exc, what):
    return explain(exc, what, reasons=REASONS)


class L2tp(object):
    """An open L2TP genl handle in one namespace, speaking plain dicts: ``sock`` a
    NETLINK_GENERIC :class:`NetlinkSocket`, ``family`` the message type the controller gave
    the family ``l2tp``."""

    def __init__(self, sock, family, netns=None):
        self._sock = sock
        self.family = family
        self.netns = netns

    def _request(self, what, cmd, payload=b''):
        try:
            return self._sock.request(self.family, GENLMSGHDR.pack(cmd, GENL_VERSION, 0) + payload)
        except OSError as exc:
            raise _explain(exc, what)

    def _dump(self, what, cmd):
        try:
            return self._sock.dump(self.family, GENLMSGHDR.pack(cmd, GENL_VERSION, 0))
        except OSError as exc:
            raise _explain(exc, what)

    def tunnels(self):
        return [decode_tunnel(body) for body in self._dump('list L2TP tunnels', CMD_TUNNEL_GET)]

    def sessions(self):
        return [decode_session(body) for body in self._dump('list L2TP sessions', CMD_SESSION_GET)]

    def create_tunnel(self, tunnel):
        self._request('create L2TP tunnel %s' % tunnel['tunnel_id'], CMD_TUNNEL_CREATE, encode_tunnel(tunnel))

    def delete_tunnel(self, tunnel_id):
        self._request('delete L2TP tunnel %s' % tunnel_id, CMD_TUNNEL_DELETE, _int_attr(ATTR_CONN_ID, _U32, tunnel_id))

    def create_session(self, session):
        self._request('create L2TP session %s/%s' % (session['tunnel_id'], session['session_id']),
                      CMD_SESSION_CREATE, encode_session(session))

    def create_sessions(self, sessions):
        """Create ``sessions`` in batches (``NetlinkSocket.request_many``: one datagram for up to
        64, the kernel going on past a refusal); one NetlinkError or None per session, in order."""
        header = GENLMSGHDR.pack(CMD_SESSION_CREATE, GENL_VERSION, 0)
        try:
            codes = self._sock.request_many([(self.family, 0, header + encode_session(session)) for session in sessions])
        except OSError as exc:
            raise _explain(exc, 'create L2TP sessions')
        return [_explain(OSError(code, os.strerror(code)), 'create L2TP session %s/%s' % (session['tunnel_id'], session['session_id']))
                if code else None for session, code in zip(sessions, codes)]

    def modify_session(self, session):
        ids = b''.join(_int_attr(number, fixed, session[name]) for name, number, fixed in _SESSION_INTS[:2])
        self._request('change L2TP session %s/%s' % (session['tunnel_id'], session['session_id']),
                      CMD_SESSION_MODIFY, ids + _session_settings(session))

    def delete_session(self, tunnel_id, session_id):
        self._request('delete L2TP session %s/%s' % (tunnel_id, session_id), CMD_SESSION_DELETE,
                      _int_attr(ATTR_CONN_ID, _U32, tunnel_id) + _int_attr(ATTR_SESSION_ID, _U32, session_id))

    def close(self):
        self._sock.close()


def family_id(sock, name):
    """The message type of the generic netlink family ``name`` (the controller loads its module
    on demand); OSError(ENOENT) when the kernel has none."""
    header = GENLMSGHDR.pack(CTRL_CMD_GETFAMILY, 1, 0)
    for body in sock.request(GENL_ID_CTRL, header + attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b'\0')):
        found = _unsigned(attrs(body, GENLMSGHDR.size).get(CTRL_ATTR_FAMILY_ID))
        if found:
            return found
    raise OSError(errno.ENOENT, 'no generic netlink family %s' % name)


@contextmanager
def open_l2tp(netns=None):
    """An :class:`L2tp` handle in ``netns`` (None: the caller's namespace).

    The genl family lookup loads l2tp_netlink on demand; when it is missing the error says so.
    """
    where = ' in netns %s' % netns if netns else ''
    sock = None
    try:
        # '' too: an empty name is a mistake, not the caller's namespace (in_netns refuses it)
        with (in_netns(netns) if netns is not None else nullcontext()):
            # made here, inside the namespace: a netlink socket stays where it was made
            sock = NetlinkSocket(NETLINK_GENERIC)
        family = family_id(sock, GENL_NAME)
    except OSError as exc:
        if sock is not None:
            sock.close()
        code = error_code(exc)
        if code in (errno.ENOENT, errno.EOPNOTSUPP, errno.ENOTSUP):
            raise NetlinkError('open L2TP netlink%s: the kernel has no L2TP support (module l2tp_netlink is '
                               'not built or cannot be loaded)' % where, code)
        raise _explain(exc, 'open L2TP netlink%s' % where)
    handle = L2tp(sock, family, netns)
    try:
        yield handle
    finally:
        handle.close()
