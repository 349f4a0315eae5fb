# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The L2TP genl seam: message encoding and decoding round trips, requests on a fake socket,
error mapping. The kernel's own answers are proven in the lab (tests/integration/targets/pipex_session)."""

from __future__ import annotations

import errno

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _l2tp
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError

pytestmark = pytest.mark.skipif(not _l2tp.HAS_PYROUTE2, reason='pyroute2 not installed')


def roundtrip(cmd, attrs):
    msg = _l2tp.l2tpmsg()
    msg['cmd'] = cmd
    msg['version'] = _l2tp.GENL_VERSION
    msg['attrs'] = attrs
    msg.encode()
    back = _l2tp.l2tpmsg(msg.data)
    back.decode()
    return back


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
    back = _l2tp.decode_tunnel(roundtrip(_l2tp.CMD_TUNNEL_GET, _l2tp.encode_tunnel(tunnel)))
    assert back.pop('stats') == dict((name, 0) for name, dummy in _l2tp.STATS)
    assert back.pop('version') == 3
    assert back == tunnel


def test_tunnel_encoding_is_unmanaged_and_family_specific():
    attrs = dict(_l2tp.encode_tunnel(TUNNELS[1]))
    assert 'L2TP_ATTR_FD' not in attrs  # no socket: the kernel keeps the tunnel without a daemon
    assert attrs['L2TP_ATTR_IP6_SADDR'] == '2001:db8::1' and 'L2TP_ATTR_IP_SADDR' not in attrs
    assert 'L2TP_ATTR_UDP_SPORT' not in dict(_l2tp.encode_tunnel(dict(TUNNELS[2], udp_sport=5)))


SESSIONS = [
    dict(tunnel_id=1, session_id=10, peer_session_id=20, ifname='l2a', cookie='0a0b0c0d',
         peer_cookie='0102030405060708', send_seq=True, recv_seq=False, lns_mode=False, reorder_timeout=0),
    dict(tunnel_id=1, session_id=0xFFFFFFFF, peer_session_id=1, ifname='pw-b', cookie=None, peer_cookie=None,
         send_seq=True, recv_seq=True, lns_mode=True, reorder_timeout=52),
]


@pytest.mark.parametrize('session', SESSIONS)
def test_session_roundtrip(session):
    stats = ('L2TP_ATTR_STATS', {'attrs': [('L2TP_ATTR_RX_PACKETS', 7), ('L2TP_ATTR_TX_BYTES', 1 << 40)]})
    back = _l2tp.decode_session(roundtrip(_l2tp.CMD_SESSION_GET, _l2tp.encode_session(session) + [stats]))
    assert back.pop('stats')['rx_packets'] == 7
    assert back.pop('pw_type') == _l2tp.PWTYPE_ETH
    assert back.pop('peer_tunnel_id') is None
    assert back == session


def test_session_stats_all_counters():
    stats = [(attr, i + 1) for i, (dummy, attr) in enumerate(_l2tp.STATS)]
    back = _l2tp.decode_session(roundtrip(_l2tp.CMD_SESSION_GET, [('L2TP_ATTR_CONN_ID', 1),
                                                                  ('L2TP_ATTR_STATS', {'attrs': stats})]))
    assert [back['stats'][name] for name, dummy in _l2tp.STATS] == list(range(1, 9))


def test_no_cookie_sends_no_cookie_attribute():
    attrs = dict(_l2tp.encode_session(dict(SESSIONS[0], cookie='none', peer_cookie=None)))
    assert 'L2TP_ATTR_COOKIE' not in attrs and 'L2TP_ATTR_PEER_COOKIE' not in attrs


@pytest.mark.parametrize('l2spec, value', [('none', _l2tp.L2SPEC_NONE), ('default', _l2tp.L2SPEC_DEFAULT),
                                           (None, _l2tp.L2SPEC_DEFAULT)])
def test_l2spec_type(l2spec, value):
    attrs = dict(_l2tp.encode_session(dict(SESSIONS[0], l2spec_type=l2spec)))
    assert attrs['L2TP_ATTR_L2SPEC_TYPE'] == value


class FakeSock(object):
    prid = 0x20

    def __init__(self, answer=(), error=None):
        self.answer = answer
        self.error = error
        self.sent = []

    def nlm_request(self, msg, msg_type, msg_flags):
        self.sent.append((msg['cmd'], msg_type, msg_flags, list(msg['attrs'])))
        if self.error:
            raise self.error
        return iter(self.answer)

    def close(self):
        pass


def test_requests_carry_command_family_and_flags():
    sock = FakeSock()
    handle = _l2tp.L2tp(sock)
    handle.delete_session(1, 2)
    handle.modify_session(dict(tunnel_id=1, session_id=2, send_seq=False, recv_seq=True, reorder_timeout=None,
                               lns_mode=None))
    cmd, family, flags, attrs = sock.sent[0]
    assert (cmd, family) == (_l2tp.CMD_SESSION_DELETE, 0x20) and flags & _l2tp.NLM_F_ACK
    assert sock.sent[1][3] == [('L2TP_ATTR_CONN_ID', 1), ('L2TP_ATTR_SESSION_ID', 2), ('L2TP_ATTR_SEND_SEQ', 0),
                               ('L2TP_ATTR_RECV_SEQ', 1)]


def test_dump_decodes_replies():
    reply = roundtrip(_l2tp.CMD_TUNNEL_GET, _l2tp.encode_tunnel(TUNNELS[0]))
    handle = _l2tp.L2tp(FakeSock(answer=[reply]))
    assert handle.tunnels()[0]['tunnel_id'] == 1


@pytest.mark.parametrize('code, words', [
    (errno.EEXIST, 'already exists'),
    (errno.EPERM, 'CAP_NET_ADMIN'),
    (errno.EADDRNOTAVAIL, 'local address'),
    (errno.EPROTONOSUPPORT, 'l2tp_ip'),
    (errno.ENOENT, 'no such tunnel or session'),                          # the L2TP family's words
    (errno.EINVAL, 'the kernel refused the parameters (invalid argument)'),  # the seam's common words
])
def test_errors_are_explained(code, words):
    handle = _l2tp.L2tp(FakeSock(error=_l2tp._PyrouteNetlinkError(code)))
    with pytest.raises(NetlinkError) as exc:
        handle.create_tunnel(TUNNELS[0])
    assert words in str(exc.value) and 'tunnel 1' in str(exc.value)
    assert exc.value.code == code


def test_missing_netns_is_not_created():
    with pytest.raises(NetlinkError, match='does not exist'):
        with _l2tp.open_l2tp('edgenet-no-such-ns'):
            pass
