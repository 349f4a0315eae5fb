# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The netlink seam's writes over a fake socket: link writes in one batch, address and route writes
one request each, one message per refusal; and no pyroute2 on the way."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._rtnl import _codec as rtnl
from ansible_collections.edgenet.router.plugins.module_utils._rtnl._socket import RtnlSocket
from ansible_collections.edgenet.router.plugins.module_utils._netlink import (
    Netlink, NetlinkError, change_link, change_tunnel, check_netns, delete_link, error_code, explain, kind_missing,
    new_link,
)
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_rtnl import FakeSocket, ack


def test_link_writes_answer_each_call_in_words():
    sock = FakeSocket([ack(1), ack(2, code=errno.EEXIST), ack(3, code=errno.EOPNOTSUPP), ack(4, code=errno.ENODEV)])
    nl = Netlink(RtnlSocket.over(sock))
    outcomes = nl.link_writes([
        change_link(name='t0', alias='edgenet.router'),
        new_link('t1', 'ipip', {'ttl': 64}, up=True),
        new_link('t2', 'ip6tnl', {}),
        delete_link(9, 't3'),
    ])
    assert outcomes[0] is None
    assert all(isinstance(o, NetlinkError) for o in outcomes[1:])
    assert str(outcomes[1]) == ('create ipip link t1: a link of that name or a ipip tunnel with the same local '
                                'and remote addresses already exists')
    assert 'create ip6tnl link t2: the kernel has no ip6tnl support (module ip6_tunnel' in str(outcomes[2])
    assert str(outcomes[3]) == 'delete link t3: no such device'
    assert len(sock.sent) == 1                                   # four requests, one datagram


# each link write's words for a refusal, its message type and flags, and what the kernel reads from it
CREATE = rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL
LINK_WRITES = [
    ('new', new_link('t1', 'ipip', {'local': '192.0.2.1', 'ttl': 64}, mtu=1400, up=True),
     'create ipip link t1', 'ipip', rtnl.RTM_NEWLINK, CREATE, (rtnl.IFF_UP, rtnl.IFF_UP),
     {'index': 0, 'name': 't1', 'kind': 'ipip', 'mtu': 1400, 'data': {'local': '192.0.2.1', 'ttl': 64}}),
    ('new-down-no-mtu', new_link('t2', 'ip6tnl', {}, mtu=0, up=False),
     'create ip6tnl link t2', 'ip6tnl', rtnl.RTM_NEWLINK, CREATE, (0, rtnl.IFF_UP),
     {'name': 't2', 'kind': 'ip6tnl', 'mtu': None, 'data': {}}),
    ('tunnel-by-index', change_tunnel(7, 't1', 'sit', {'ttl': 9}),
     'change sit link t1', 'sit', rtnl.RTM_NEWLINK, 0, (0, 0), {'index': 7, 'name': None, 'data': {'ttl': 9}}),
    ('tunnel-by-name', change_tunnel(None, 't1', 'sit', {'ttl': 9}),
     'change sit link t1', 'sit', rtnl.RTM_NEWLINK, 0, (0, 0), {'index': 0, 'name': 't1', 'kind': 'sit'}),
    ('mtu', change_link(index=7, name='t1', mtu=1280),
     'change link t1', None, rtnl.RTM_NEWLINK, 0, (0, 0), {'index': 7, 'name': None, 'mtu': 1280, 'kind': None}),
    ('down', change_link(index=7, up=False), 'change link 7', None, rtnl.RTM_NEWLINK, 0, (0, rtnl.IFF_UP), {'index': 7}),
    ('alias-by-name', change_link(name='t1', alias='edgenet.router'),
     'change link t1', None, rtnl.RTM_NEWLINK, 0, (0, 0), {'index': 0, 'name': 't1', 'alias': 'edgenet.router'}),
    ('delete', delete_link(7, 't1'), 'delete link t1', None, rtnl.RTM_DELLINK, 0, (0, 0),
     {'index': 7, 'name': None, 'kind': None}),
]


@pytest.mark.parametrize('write,what,kind,msg_type,flags,up_change,fields', [w[1:] for w in LINK_WRITES],
                         ids=[w[0] for w in LINK_WRITES])
def test_link_writes_are_built_directly(write, what, kind, msg_type, flags, up_change, fields):
    assert (write.what, write.kind) == (what, kind)
    assert write.request[:2] == (msg_type, flags)
    body = write.request[2]
    assert rtnl.IFINFOMSG.unpack_from(body)[3:] == up_change
    link = rtnl.parse_link(body)
    assert dict((name, link[name]) for name in fields) == fields


def test_a_single_write_raises_its_error():
    nl = Netlink(RtnlSocket.over(FakeSocket([ack(1, code=errno.EPERM)])))
    with pytest.raises(NetlinkError, match=r'^change link 4: permission denied \(needs root or CAP_NET_ADMIN\)$'):
        nl.set_link(index=4, up=True)


def test_address_and_route_writes_are_one_request_each_with_iproute2s_flags():
    sock = FakeSocket([ack(1), ack(2), ack(3), ack(4)])
    nl = Netlink(RtnlSocket.over(sock))
    nl.add_address(3, '10.9.0.1/30')
    nl.del_address(3, '2001:db8:9::1/64')
    nl.add_route(3, {'dest': '0.0.0.0/0', 'via': '10.9.0.2', 'metric': 300})
    nl.del_route(3, {'dest': '2001:db8:99::/48', 'via': None, 'metric': 0})
    headers = [rtnl.NLMSGHDR.unpack_from(data) for data in sock.sent]
    base, create = rtnl.NLM_F_REQUEST | rtnl.NLM_F_ACK, rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL
    assert [(h[1], h[2]) for h in headers] == [(rtnl.RTM_NEWADDR, base | create), (rtnl.RTM_DELADDR, base),
                                               (rtnl.RTM_NEWROUTE, base | create), (rtnl.RTM_DELROUTE, base)]
    route = rtnl.parse_route(sock.sent[2][rtnl.NLMSGHDR.size:])
    assert (route['dst'], route['dst_len'], route['gateway'], route['priority'], route['proto']) == (None, 0, '10.9.0.2', 300, 4)
    route = rtnl.parse_route(sock.sent[3][rtnl.NLMSGHDR.size:])
    assert (route['dst'], route['gateway'], route['priority'], route['proto']) == ('2001:db8:99::', None, None, 0)


# the kernel's answers seen on the host (veth in a namespace) and the seam's words for them
REFUSALS = [
    ('add_address', (3, '10.9.0.1/30'), errno.EEXIST, 'add address 10.9.0.1/30: the object already exists'),
    ('del_address', (3, '10.9.0.1/30'), errno.EADDRNOTAVAIL, 'delete address 10.9.0.1/30: address not available'),
    ('add_address', (99, '10.9.0.1/30'), errno.ENODEV, 'add address 10.9.0.1/30: no such device'),
    ('add_route', (3, {'dest': '10.98.0.0/24', 'via': '192.0.2.99'}), errno.ENETUNREACH,
     'add route 10.98.0.0/24: network unreachable (is the gateway on a connected prefix?)'),
    ('add_route', (3, {'dest': '10.98.0.0/24'}), errno.EEXIST, 'add route 10.98.0.0/24: the object already exists'),
    ('del_route', (3, {'dest': '10.98.0.0/24'}), errno.ESRCH, 'delete route 10.98.0.0/24: no such route'),
    ('add_route', (3, {'dest': '::/0', 'via': 'fe80::1'}), errno.EPERM,
     'add route ::/0: permission denied (needs root or CAP_NET_ADMIN)'),
    ('del_route', (3, {'dest': '::/0'}), errno.EMSGSIZE, 'delete route ::/0: ' + os.strerror(errno.EMSGSIZE)),
]


@pytest.mark.parametrize('method,args,code,message', REFUSALS, ids=[r[0] + '-' + errno.errorcode[r[2]] for r in REFUSALS])
def test_a_refused_write_says_what_and_why(method, args, code, message):
    nl = Netlink(RtnlSocket.over(FakeSocket([ack(1, code=code)])))
    with pytest.raises(NetlinkError) as err:
        getattr(nl, method)(*args)
    assert str(err.value) == message and err.value.code == code


class CodedError(Exception):
    """A refusal that carries its errno as ``code`` (pyroute2's NetlinkError, as _l2tp gets it)."""

    def __init__(self, code):
        super(CodedError, self).__init__('netlink error %d' % code)
        self.code = code


L2TP_WORDS = {errno.ENOENT: 'no such tunnel or session'}
# (exception, kind, a seam's own reasons) -> the one message
MAPPED = [
    ('eperm', OSError(errno.EPERM, 'x'), None, None, 'permission denied (needs root or CAP_NET_ADMIN)'),
    ('eexist', OSError(errno.EEXIST, 'x'), None, None, 'the object already exists'),
    ('eexist-tunnel', OSError(errno.EEXIST, 'x'), 'sit', None,
     'a link of that name or a sit tunnel with the same local and remote addresses already exists'),
    ('eopnotsupp-tunnel', OSError(errno.EOPNOTSUPP, 'x'), 'ip6tnl', None,
     'the kernel has no ip6tnl support (module ip6_tunnel is not built or cannot be loaded)'),
    ('eopnotsupp', OSError(errno.EOPNOTSUPP, 'x'), None, None, os.strerror(errno.EOPNOTSUPP)),
    ('esrch', OSError(errno.ESRCH, 'x'), None, None, 'no such route'),
    ('enetunreach', OSError(errno.ENETUNREACH, 'x'), None, None,
     'network unreachable (is the gateway on a connected prefix?)'),
    ('unlisted', OSError(errno.EMSGSIZE, 'x'), None, None, os.strerror(errno.EMSGSIZE)),
    ('no-code', OSError('socket closed'), None, None, 'socket closed'),
    ('code-attribute', CodedError(errno.EBUSY), None, None, 'device or resource busy'),
    ('seam-words', CodedError(errno.ENOENT), None, L2TP_WORDS, 'no such tunnel or session'),
    ('seam-words-fall-back', CodedError(errno.EINVAL), None, L2TP_WORDS,
     'the kernel refused the parameters (invalid argument)'),
]


@pytest.mark.parametrize('exc,kind,reasons,words', [m[1:] for m in MAPPED], ids=[m[0] for m in MAPPED])
def test_one_errno_mapper(exc, kind, reasons, words):
    error = explain(exc, 'do it', kind=kind, reasons=reasons)
    assert isinstance(error, NetlinkError)
    assert str(error) == 'do it: ' + words
    assert error.code == error_code(exc)


def test_the_rtnetlink_modules_do_not_import_pyroute2():
    # pyroute2's import alone took ~2 s of a 5.6 s iptun_info task in the TCG guest: only the
    # L2TP seam may load it. A fresh interpreter, since this one may have pyroute2 loaded already.
    code = ('import sys\n'
            'from ansible_collections.edgenet.router.plugins.module_utils import _netlink, _iptun, _sixtofour, _rtnl\n'
            'from ansible_collections.edgenet.router.plugins.modules import iptun, iptun_info, sixtofour_relay\n'
            'print(sorted(m for m in sys.modules if m.split(".")[0] == "pyroute2"))\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'


@pytest.mark.parametrize('netns', ['', 'x' * 300, 'a/b', '..', 'a\0b', '\udc80'])
def test_check_netns_refuses_clearly(netns):
    # '' is not the host namespace (an unset variable would act on the wrong interfaces); long
    # values are cut in the message; NUL and surrogates are an error, not a traceback.
    with pytest.raises(NetlinkError) as err:
        check_netns(netns)
    assert 'netns' in str(err.value) and len(str(err.value)) < 300


@pytest.mark.parametrize('loaded, listing, listed', [
    (True, None, None),                                       # loaded or built in with a parameter
    (False, 'modules.dep', 'kernel/net/ipv4/ipip.ko.zst: kernel/net/ipv4/ip_tunnel.ko.zst\n'),  # loadable
    (False, 'modules.builtin', 'kernel/net/ipv4/ipip.ko\n'),  # built in
])
def test_a_kind_the_kernel_has_or_can_load_is_not_missing(tmp_path, loaded, listing, listed):
    if loaded:
        (tmp_path / 'sys' / 'ipip').mkdir(parents=True)
    if listing:
        (tmp_path / 'lib' / os.uname().release).mkdir(parents=True)
        (tmp_path / 'lib' / os.uname().release / listing).write_text(listed)
    assert kind_missing('ipip', str(tmp_path / 'sys'), str(tmp_path / 'lib')) is None


@pytest.mark.parametrize('listed', [None, 'kernel/net/ipv6/sit.ko: kernel/net/ipv4/ip_tunnel.ko\nkernel/net/ipv4/myipip.ko:\n'])
def test_a_kind_neither_loaded_nor_listed_is_missing(tmp_path, listed):
    if listed is not None:
        (tmp_path / 'lib' / os.uname().release).mkdir(parents=True)
        (tmp_path / 'lib' / os.uname().release / 'modules.dep').write_text(listed)
    reason = kind_missing('ipip', str(tmp_path / 'sys'), str(tmp_path / 'lib'))
    assert reason.startswith('the kernel module ipip is neither loaded') and 'the real run will fail' in reason
    # ip6tnl's module has another name; a kind with no module of its own is never reported
    assert 'ip6_tunnel' in kind_missing('ip6tnl', str(tmp_path / 'sys'), str(tmp_path / 'lib'))
    assert kind_missing('vxlan', str(tmp_path / 'sys'), str(tmp_path / 'lib')) is None
