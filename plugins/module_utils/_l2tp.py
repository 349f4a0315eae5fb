# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The kernel L2TP seam: generic netlink family ``l2tp`` (include/uapi/linux/l2tp.h) as plain dicts.

Our own message class and requests on pyroute2's ``GenericNetlinkSocket`` rather than pyroute2's
``L2tp`` helper, whose tunnel dump, cookies, IPv6 checksum flags and return values are broken or
differ between Debian's 0.7.x and PyPI's 0.9.x (0.9.7's helper dumps no tunnels, drops cookies
and swaps the IPv6 checksum flags; 0.7.2 has other signatures). Only the generic socket, ``bind``
and ``nlm_request`` are used here; they behave the same in both.

Tunnels and sessions come back as dicts with short names (``tunnel_id``, ``peer_session_id``,
``cookie`` as lowercase hex, ``stats``...). Errors become :class:`_netlink.NetlinkError` with a
message a network engineer can act on. Network namespaces are entered with ``setns(2)`` only for
opening the socket (a netlink socket stays in the namespace it was made in), never created.
"""

from __future__ import annotations

import errno
from contextlib import contextmanager, nullcontext

from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError, error_code, explain, in_netns
from ansible_collections.edgenet.router.plugins.module_utils._pyroute2_dep import (
    HAS_PYROUTE2, NLA_F_NESTED, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, GenericNetlinkSocket, genlmsg, nla, pyroute2_problem,
)
from ansible_collections.edgenet.router.plugins.module_utils._pyroute2_dep import PyrouteNetlinkError as _PyrouteNetlinkError

__all__ = [
    'HAS_PYROUTE2',
    'L2tp',
    'l2tpmsg',
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


class l2tpmsg(genlmsg):
    """L2TP genl message. Cookies are raw ``cdata`` (pyroute2's ``hex`` type differs between
    versions); timeouts are the kernel's u64 milliseconds."""

    prefix = 'L2TP_ATTR_'
    nla_map = (
        ('L2TP_ATTR_NONE', 'none'),
        ('L2TP_ATTR_PW_TYPE', 'uint16'),
        ('L2TP_ATTR_ENCAP_TYPE', 'uint16'),
        ('L2TP_ATTR_OFFSET', 'uint16'),
        ('L2TP_ATTR_DATA_SEQ', 'uint8'),
        ('L2TP_ATTR_L2SPEC_TYPE', 'uint8'),
        ('L2TP_ATTR_L2SPEC_LEN', 'uint8'),
        ('L2TP_ATTR_PROTO_VERSION', 'uint8'),
        ('L2TP_ATTR_IFNAME', 'asciiz'),
        ('L2TP_ATTR_CONN_ID', 'uint32'),
        ('L2TP_ATTR_PEER_CONN_ID', 'uint32'),
        ('L2TP_ATTR_SESSION_ID', 'uint32'),
        ('L2TP_ATTR_PEER_SESSION_ID', 'uint32'),
        ('L2TP_ATTR_UDP_CSUM', 'uint8'),
        ('L2TP_ATTR_VLAN_ID', 'uint16'),
        ('L2TP_ATTR_COOKIE', 'cdata'),
        ('L2TP_ATTR_PEER_COOKIE', 'cdata'),
        ('L2TP_ATTR_DEBUG', 'uint32'),
        ('L2TP_ATTR_RECV_SEQ', 'uint8'),
        ('L2TP_ATTR_SEND_SEQ', 'uint8'),
        ('L2TP_ATTR_LNS_MODE', 'uint8'),
        ('L2TP_ATTR_USING_IPSEC', 'uint8'),
        ('L2TP_ATTR_RECV_TIMEOUT', 'uint64'),
        ('L2TP_ATTR_FD', 'uint32'),
        ('L2TP_ATTR_IP_SADDR', 'ip4addr'),
        ('L2TP_ATTR_IP_DADDR', 'ip4addr'),
        ('L2TP_ATTR_UDP_SPORT', 'uint16'),
        ('L2TP_ATTR_UDP_DPORT', 'uint16'),
        ('L2TP_ATTR_MTU', 'uint16'),
        ('L2TP_ATTR_MRU', 'uint16'),
        ('L2TP_ATTR_STATS', 'l2tp_stats'),
        ('L2TP_ATTR_IP6_SADDR', 'ip6addr'),
        ('L2TP_ATTR_IP6_DADDR', 'ip6addr'),
        ('L2TP_ATTR_UDP_ZERO_CSUM6_TX', 'flag'),
        ('L2TP_ATTR_UDP_ZERO_CSUM6_RX', 'flag'),
        ('L2TP_ATTR_PAD', 'none'),
    )

    class l2tp_stats(nla):
        nla_flags = NLA_F_NESTED
        prefix = 'L2TP_ATTR_'
        nla_map = (
            ('L2TP_ATTR_STATS_NONE', 'none'),
            ('L2TP_ATTR_TX_PACKETS', 'uint64'),
            ('L2TP_ATTR_TX_BYTES', 'uint64'),
            ('L2TP_ATTR_TX_ERRORS', 'uint64'),
            ('L2TP_ATTR_RX_PACKETS', 'uint64'),
            ('L2TP_ATTR_RX_BYTES', 'uint64'),
            ('L2TP_ATTR_RX_SEQ_DISCARDS', 'uint64'),
            ('L2TP_ATTR_RX_OOS_PACKETS', 'uint64'),
            ('L2TP_ATTR_RX_ERRORS', 'uint64'),
            ('L2TP_ATTR_STATS_PAD', 'none'),
        )


# short name -> kernel attribute, for the fields sent as plain integers
_TUNNEL_INTS = (('tunnel_id', 'L2TP_ATTR_CONN_ID'), ('peer_tunnel_id', 'L2TP_ATTR_PEER_CONN_ID'),
                ('udp_sport', 'L2TP_ATTR_UDP_SPORT'), ('udp_dport', 'L2TP_ATTR_UDP_DPORT'))
_SESSION_INTS = (('tunnel_id', 'L2TP_ATTR_CONN_ID'), ('session_id', 'L2TP_ATTR_SESSION_ID'),
                 ('peer_session_id', 'L2TP_ATTR_PEER_SESSION_ID'))
_SESSION_FLAGS = (('send_seq', 'L2TP_ATTR_SEND_SEQ'), ('recv_seq', 'L2TP_ATTR_RECV_SEQ'),
                  ('lns_mode', 'L2TP_ATTR_LNS_MODE'))
STATS = (('tx_packets', 'L2TP_ATTR_TX_PACKETS'), ('tx_bytes', 'L2TP_ATTR_TX_BYTES'),
         ('tx_errors', 'L2TP_ATTR_TX_ERRORS'), ('rx_packets', 'L2TP_ATTR_RX_PACKETS'),
         ('rx_bytes', 'L2TP_ATTR_RX_BYTES'), ('rx_seq_discards', 'L2TP_ATTR_RX_SEQ_DISCARDS'),
         ('rx_oos_packets', 'L2TP_ATTR_RX_OOS_PACKETS'), ('rx_errors', 'L2TP_ATTR_RX_ERRORS'))


def encode_tunnel(tunnel):
    """Tunnel dict (``tunnel_id, peer_tunnel_id, encap ('udp'|'ip'), local, remote, udp_sport,
    udp_dport``) -> attribute list for TUNNEL_CREATE. No FD: an unmanaged tunnel, whose socket
    the kernel makes and keeps itself (Documentation/networking/l2tp.rst)."""
    attrs = [('L2TP_ATTR_PROTO_VERSION', L2TP_V3),
             ('L2TP_ATTR_ENCAP_TYPE', ENCAP_IP if tunnel['encap'] == 'ip' else ENCAP_UDP)]
    for name, attr in _TUNNEL_INTS:
        if tunnel.get(name) is not None and (tunnel['encap'] == 'udp' or not name.startswith('udp_')):
            attrs.append((attr, int(tunnel[name])))
    prefix = 'L2TP_ATTR_IP6_' if ':' in tunnel['remote'] else 'L2TP_ATTR_IP_'
    attrs.append((prefix + 'SADDR', tunnel['local']))
    attrs.append((prefix + 'DADDR', tunnel['remote']))
    return attrs


def encode_session(session):
    """Session dict -> attribute list for SESSION_CREATE (an Ethernet pseudowire)."""
    attrs = [(attr, int(session[name])) for name, attr in _SESSION_INTS]
    attrs.append(('L2TP_ATTR_PW_TYPE', PWTYPE_ETH))
    attrs.append(('L2TP_ATTR_L2SPEC_TYPE', L2SPEC_NONE if session.get('l2spec_type') == 'none' else L2SPEC_DEFAULT))
    if session.get('ifname'):
        attrs.append(('L2TP_ATTR_IFNAME', session['ifname']))
    for name, attr in (('cookie', 'L2TP_ATTR_COOKIE'), ('peer_cookie', 'L2TP_ATTR_PEER_COOKIE')):
        if session.get(name) not in (None, '', 'none'):
            attrs.append((attr, bytes.fromhex(session[name])))
    attrs.extend(_session_settings(session))
    return attrs


def _session_settings(session):
    """The attributes SESSION_MODIFY can change in place (l2tp_nl_cmd_session_modify)."""
    attrs = []
    for name, attr in _SESSION_FLAGS:
        if session.get(name) is not None:
            attrs.append((attr, 1 if session[name] else 0))
    if session.get('reorder_timeout') is not None:
        attrs.append(('L2TP_ATTR_RECV_TIMEOUT', int(session['reorder_timeout'])))
    return attrs


def _get(msg, name, default=None):
    value = msg.get_attr(name)
    return default if value is None else value


def decode_tunnel(msg):
    """TUNNEL_GET reply -> tunnel dict (addresses as text, encap as 'udp'/'ip')."""
    encap = 'ip' if _get(msg, 'L2TP_ATTR_ENCAP_TYPE', ENCAP_UDP) == ENCAP_IP else 'udp'
    local = msg.get_attr('L2TP_ATTR_IP6_SADDR') or msg.get_attr('L2TP_ATTR_IP_SADDR')
    remote = msg.get_attr('L2TP_ATTR_IP6_DADDR') or msg.get_attr('L2TP_ATTR_IP_DADDR')
    return {
        'tunnel_id': msg.get_attr('L2TP_ATTR_CONN_ID'),
        'peer_tunnel_id': msg.get_attr('L2TP_ATTR_PEER_CONN_ID'),
        'version': msg.get_attr('L2TP_ATTR_PROTO_VERSION'),
        'encap': encap,
        'local': local,
        'remote': remote,
        'udp_sport': msg.get_attr('L2TP_ATTR_UDP_SPORT') if encap == 'udp' else None,
        'udp_dport': msg.get_attr('L2TP_ATTR_UDP_DPORT') if encap == 'udp' else None,
        'stats': _stats(msg),
    }


def _hex(value):
    if value is None:
        return None
    if isinstance(value, str):  # some pyroute2 versions hand cdata back as latin-1 text
        value = value.encode('latin-1')
    return bytes(value).hex() or None


def decode_session(msg):
    """SESSION_GET reply -> session dict. The kernel does not report the L2-specific sublayer."""
    return {
        'tunnel_id': msg.get_attr('L2TP_ATTR_CONN_ID'),
        'peer_tunnel_id': msg.get_attr('L2TP_ATTR_PEER_CONN_ID'),
        'session_id': msg.get_attr('L2TP_ATTR_SESSION_ID'),
        'peer_session_id': msg.get_attr('L2TP_ATTR_PEER_SESSION_ID'),
        'pw_type': msg.get_attr('L2TP_ATTR_PW_TYPE'),
        'ifname': msg.get_attr('L2TP_ATTR_IFNAME'),
        'cookie': _hex(msg.get_attr('L2TP_ATTR_COOKIE')),
        'peer_cookie': _hex(msg.get_attr('L2TP_ATTR_PEER_COOKIE')),
        'send_seq': bool(_get(msg, 'L2TP_ATTR_SEND_SEQ', 0)),
        'recv_seq': bool(_get(msg, 'L2TP_ATTR_RECV_SEQ', 0)),
        'lns_mode': bool(_get(msg, 'L2TP_ATTR_LNS_MODE', 0)),
        'reorder_timeout': _get(msg, 'L2TP_ATTR_RECV_TIMEOUT', 0),
        'stats': _stats(msg),
    }


def _stats(msg):
    stats = msg.get_attr('L2TP_ATTR_STATS')
    if stats is None:
        return dict((name, 0) for name, dummy in STATS)
    return dict((name, _get(stats, attr, 0)) for name, attr in STATS)


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
    """An open L2TP genl handle in one namespace, speaking plain dicts."""

    def __init__(self, sock, netns=None):
        self._sock = sock
        self.netns = netns

    def _request(self, what, cmd, attrs, flags):
        msg = l2tpmsg()
        msg['cmd'] = cmd
        msg['version'] = GENL_VERSION
        msg['attrs'] = attrs
        try:
            return list(self._sock.nlm_request(msg, msg_type=self._sock.prid, msg_flags=flags) or ())
        except (_PyrouteNetlinkError, OSError) as exc:
            raise _explain(exc, what)

    @staticmethod
    def _replies(answers, cmd):
        # NLMSG_DONE/ERROR headers come back too in some pyroute2 versions: keep real replies.
        return [m for m in answers if m.get('cmd', None) == cmd or m.get_attr('L2TP_ATTR_CONN_ID') is not None]

    def tunnels(self):
        answers = self._request('list L2TP tunnels', CMD_TUNNEL_GET, [], NLM_F_REQUEST | NLM_F_DUMP)
        return [decode_tunnel(m) for m in self._replies(answers, CMD_TUNNEL_GET)]

    def sessions(self):
        answers = self._request('list L2TP sessions', CMD_SESSION_GET, [], NLM_F_REQUEST | NLM_F_DUMP)
        return [decode_session(m) for m in self._replies(answers, CMD_SESSION_GET)]

    def create_tunnel(self, tunnel):
        self._request('create L2TP tunnel %s' % tunnel['tunnel_id'], CMD_TUNNEL_CREATE, encode_tunnel(tunnel),
                      NLM_F_REQUEST | NLM_F_ACK)

    def delete_tunnel(self, tunnel_id):
        self._request('delete L2TP tunnel %s' % tunnel_id, CMD_TUNNEL_DELETE,
                      [('L2TP_ATTR_CONN_ID', int(tunnel_id))], NLM_F_REQUEST | NLM_F_ACK)

    def create_session(self, session):
        self._request('create L2TP session %s/%s' % (session['tunnel_id'], session['session_id']),
                      CMD_SESSION_CREATE, encode_session(session), NLM_F_REQUEST | NLM_F_ACK)

    def modify_session(self, session):
        attrs = [(attr, int(session[name])) for name, attr in _SESSION_INTS[:2]] + _session_settings(session)
        self._request('change L2TP session %s/%s' % (session['tunnel_id'], session['session_id']),
                      CMD_SESSION_MODIFY, attrs, NLM_F_REQUEST | NLM_F_ACK)

    def delete_session(self, tunnel_id, session_id):
        self._request('delete L2TP session %s/%s' % (tunnel_id, session_id), CMD_SESSION_DELETE,
                      [('L2TP_ATTR_CONN_ID', int(tunnel_id)), ('L2TP_ATTR_SESSION_ID', int(session_id))],
                      NLM_F_REQUEST | NLM_F_ACK)

    def close(self):
        self._sock.close()


@contextmanager
def open_l2tp(netns=None):
    """An :class:`L2tp` handle in ``netns`` (None: the caller's namespace).

    The genl family lookup loads l2tp_netlink on demand; when it is missing the error says so.
    """
    problem = pyroute2_problem()
    if problem:
        raise NetlinkError(problem)
    where = ' in netns %s' % netns if netns else ''
    sock = None
    try:
        # '' too: an empty name is a mistake, not the caller's namespace (in_netns refuses it)
        with (in_netns(netns) if netns is not None else nullcontext()):
            sock = GenericNetlinkSocket()
            # bind() resolves the family: it creates the socket here, inside the namespace.
            sock.bind(GENL_NAME, l2tpmsg)
    except (_PyrouteNetlinkError, OSError) as exc:
        if sock is not None:
            sock.close()
        code = error_code(exc)
        if code in (errno.ENOENT, errno.EOPNOTSUPP, errno.ENOTSUP) or 'not found' in str(exc).lower():
            raise NetlinkError('open L2TP netlink%s: the kernel has no L2TP support (module l2tp_netlink is '
                               'not built or cannot be loaded)' % where, code)
        raise _explain(exc, 'open L2TP netlink%s' % where)
    handle = L2tp(sock, netns)
    try:
        yield handle
    finally:
        handle.close()
