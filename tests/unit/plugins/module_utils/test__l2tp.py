# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The L2TP genl seam: the collection's own codec (encode -> decode round trips, the bytes a request
carries, the family lookup), requests over a fake socket, error mapping. The kernel's own answers
are proven in the lab (tests/integration/targets/pipex_session)."""

from __future__ import annotations

import errno
import struct

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _l2tp
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError
from ansible_collections.edgenet.router.plugins.module_utils._rtnl import _codec as rtnl
from ansible_collections.edgenet.router.plugins.module_utils._rtnl._socket import NetlinkSocket
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_rtnl import FakeSocket, ack, message

FAMILY = 0x20


def reply(cmd, payload):
    """A message body as the kernel answers a GET: the genl header, then the attributes."""
    return _l2tp.GENLMSGHDR.pack(cmd, _l2tp.GENL_VERSION, 0) + payload


def stats(**counters):
    numbers = dict(_l2tp.STATS)
    nested = b''.join(rtnl.attr(numbers[name], struct.pack('=Q', value)) for name, value in counters.items())
    return rtnl.attr(_l2tp.ATTR_STATS | rtnl.NLA_F_NESTED, nested)


TUNNELS = [
    dict(tunnel_id=1, peer_tunnel_id=2, encap='udp', local='192.0.2.1', remote='192.0.2.2', udp_sport=1701,
         udp_dport=1701),
    dict(tunnel_id=0xFFFFFFFF, peer_tunnel_id=7, encap='udp', local='2001:db8::1', remote='2001:db8::2',
         udp_sport=5000, udp_dport=6000),
    dict(tunnel_id=9, peer_tunnel_id=9, encap='ip', local='192.0.2.1', remote='192.0.2.2', udp_sport=None,
         udp_dport=None),
    dict(tunnel_id=9, peer_tunnel_id=9, encap='ip', local='2001:db8::1', remote='2001:db8::2', udp_sport=None,
         udp_dport=None),
]


@pytest.mark.parametrize('tunnel', TUNNELS)
def test_tunnel_roundtrip(tunnel):
    back = _l2tp.decode_tunnel(reply(_l2tp.CMD_TUNNEL_GET, _l2tp.encode_tunnel(tunnel)))
    assert back.pop('stats') == dict((name, 0) for name, dummy in _l2tp.STATS)
    assert back.pop('version') == 3
    assert back == tunnel


def test_tunnel_encoding_is_unmanaged_and_family_specific():
    found = rtnl.attrs(_l2tp.encode_tunnel(TUNNELS[1]))
    assert 23 not in found  # L2TP_ATTR_FD: no socket, the kernel keeps the tunnel without a daemon
    assert found[_l2tp.ATTR_IP6_SADDR] == bytes.fromhex('20010db8000000000000000000000001')
    assert _l2tp.ATTR_IP_SADDR not in found
    assert _l2tp.ATTR_UDP_SPORT not in rtnl.attrs(_l2tp.encode_tunnel(dict(TUNNELS[2], udp_sport=5)))
    # the widths the kernel's policy asks for: u32 ids, u16 ports and encapsulation, u8 version
    found = rtnl.attrs(_l2tp.encode_tunnel(TUNNELS[0]))
    assert [len(found[n]) for n in (_l2tp.ATTR_CONN_ID, _l2tp.ATTR_UDP_SPORT, _l2tp.ATTR_ENCAP_TYPE,
                                    _l2tp.ATTR_PROTO_VERSION)] == [4, 2, 2, 1]


SESSIONS = [
    dict(tunnel_id=1, session_id=10, peer_session_id=20, ifname='l2a', cookie='0a0b0c0d',
         peer_cookie='0102030405060708', send_seq=True, recv_seq=False, lns_mode=False, reorder_timeout=0),
    dict(tunnel_id=1, session_id=0xFFFFFFFF, peer_session_id=1, ifname='pw-b', cookie=None, peer_cookie=None,
         send_seq=True, recv_seq=True, lns_mode=True, reorder_timeout=52),
]


@pytest.mark.parametrize('session', SESSIONS)
def test_session_roundtrip(session):
    back = _l2tp.decode_session(reply(_l2tp.CMD_SESSION_GET, _l2tp.encode_session(session) +
                                      stats(rx_packets=7, tx_bytes=1 << 40)))
    assert back.pop('stats') == dict(dict((name, 0) for name, dummy in _l2tp.STATS), rx_packets=7, tx_bytes=1 << 40)
    assert back.pop('pw_type') == _l2tp.PWTYPE_ETH
    assert back.pop('peer_tunnel_id') is None
    assert back == session


def test_session_stats_all_counters():
    back = _l2tp.decode_session(reply(_l2tp.CMD_SESSION_GET, rtnl.attr(_l2tp.ATTR_CONN_ID, struct.pack('=I', 1)) +
                                      stats(**dict((name, i + 1) for i, (name, dummy) in enumerate(_l2tp.STATS)))))
    assert [back['stats'][name] for name, dummy in _l2tp.STATS] == list(range(1, 9))


def test_a_ppp_session_of_a_daemon_decodes_with_its_type_and_no_interface():
    back = _l2tp.decode_session(reply(_l2tp.CMD_SESSION_GET, rtnl.attr(_l2tp.ATTR_PW_TYPE, struct.pack('=H', 7))))
    assert back['pw_type'] == _l2tp.PWTYPE_PPP and back['ifname'] is None and back['cookie'] is None


def test_no_cookie_sends_no_cookie_attribute():
    found = rtnl.attrs(_l2tp.encode_session(dict(SESSIONS[0], cookie='none', peer_cookie=None)))
    assert _l2tp.ATTR_COOKIE not in found and _l2tp.ATTR_PEER_COOKIE not in found


@pytest.mark.parametrize('l2spec, value', [('none', _l2tp.L2SPEC_NONE), ('default', _l2tp.L2SPEC_DEFAULT),
                                           (None, _l2tp.L2SPEC_DEFAULT)])
def test_l2spec_type(l2spec, value):
    assert rtnl.attrs(_l2tp.encode_session(dict(SESSIONS[0], l2spec_type=l2spec)))[_l2tp.ATTR_L2SPEC_TYPE] == bytes((value,))


def handle_with(datagrams):
    sock = FakeSocket(datagrams)
    return _l2tp.L2tp(NetlinkSocket.over(sock), FAMILY), sock


def sent_messages(sock):
    """``(type, flags, cmd, attributes)`` of each message sent."""
    out = []
    for data in sock.sent:
        length, msg_type, flags, dummy, dummy = rtnl.NLMSGHDR.unpack_from(data)
        cmd = data[rtnl.NLMSGHDR.size]
        out.append((msg_type, flags, cmd, rtnl.attrs(data[:length], rtnl.NLMSGHDR.size + _l2tp.GENLMSGHDR.size)))
    return out


def test_requests_carry_command_family_and_flags():
    handle, sock = handle_with([ack(1), ack(2)])
    handle.delete_session(1, 2)
    handle.modify_session(dict(tunnel_id=1, session_id=2, send_seq=False, recv_seq=True, reorder_timeout=None,
                               lns_mode=None))
    (msg_type, flags, cmd, found), modify = sent_messages(sock)
    assert (msg_type, cmd) == (FAMILY, _l2tp.CMD_SESSION_DELETE) and flags & rtnl.NLM_F_ACK
    assert found == {_l2tp.ATTR_CONN_ID: struct.pack('=I', 1), _l2tp.ATTR_SESSION_ID: struct.pack('=I', 2)}
    assert modify[2] == _l2tp.CMD_SESSION_MODIFY
    assert modify[3] == {_l2tp.ATTR_CONN_ID: struct.pack('=I', 1), _l2tp.ATTR_SESSION_ID: struct.pack('=I', 2),
                         _l2tp.ATTR_SEND_SEQ: b'\0', _l2tp.ATTR_RECV_SEQ: b'\1'}


def test_dump_decodes_replies():
    tunnel = message(FAMILY, 1, reply(_l2tp.CMD_TUNNEL_GET, _l2tp.encode_tunnel(TUNNELS[0])), flags=2)
    handle, sock = handle_with([tunnel + message(rtnl.NLMSG_DONE, 1, b'\0' * 4)])
    assert [t['tunnel_id'] for t in handle.tunnels()] == [1]
    assert sent_messages(sock)[0][1] & rtnl.NLM_F_DUMP == rtnl.NLM_F_DUMP


def test_the_family_is_looked_up_by_name_through_the_controller():
    answer = reply(1, rtnl.attr(_l2tp.CTRL_ATTR_FAMILY_NAME, b'l2tp\0') + rtnl.attr(_l2tp.CTRL_ATTR_FAMILY_ID, struct.pack('=H', 0x1b)))
    sock = FakeSocket([message(_l2tp.GENL_ID_CTRL, 1, answer) + ack(1)])
    assert _l2tp.family_id(NetlinkSocket.over(sock), 'l2tp') == 0x1b
    length, msg_type = rtnl.NLMSGHDR.unpack_from(sock.sent[0])[:2]
    assert msg_type == _l2tp.GENL_ID_CTRL and sock.sent[0][rtnl.NLMSGHDR.size] == _l2tp.CTRL_CMD_GETFAMILY
    with pytest.raises(OSError) as missing:
        _l2tp.family_id(NetlinkSocket.over(FakeSocket([ack(1, code=errno.ENOENT)])), 'l2tp')
    assert missing.value.errno == errno.ENOENT


@pytest.mark.parametrize('code, words', [
    (errno.EEXIST, 'already exists'),
    (errno.EPERM, 'CAP_NET_ADMIN'),
    (errno.EADDRNOTAVAIL, 'local address'),
    (errno.EPROTONOSUPPORT, 'l2tp_ip'),
    (errno.ENOENT, 'no such tunnel or session'),                          # the L2TP family's words
    (errno.EINVAL, 'the kernel refused the parameters (invalid argument)'),  # the seam's common words
])
def test_errors_are_explained(code, words):
    handle, dummy = handle_with([ack(1, code=code)])
    with pytest.raises(NetlinkError) as exc:
        handle.create_tunnel(TUNNELS[0])
    assert words in str(exc.value) and 'tunnel 1' in str(exc.value)
    assert exc.value.code == code


def test_missing_netns_is_not_created():
    with pytest.raises(NetlinkError, match='does not exist'):
        with _l2tp.open_l2tp('edgenet-no-such-ns'):
            pass
