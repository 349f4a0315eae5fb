# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stateful stand-ins for ``_l2tp.L2tp`` and ``_pipex._effects.SideEffects``, sharing a FakeNetlink.

A session create makes its l2tpeth link in the fake rtnetlink, as l2tp_eth does. They prove the
code above the seams only; the kernel's answers are proven in the lab. ``read_only=True`` fails
the test on any write (check mode must not write).
"""

from __future__ import annotations

import copy

from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError

ZERO_STATS = dict((name, 0) for name in ('tx_packets', 'tx_bytes', 'tx_errors', 'rx_packets', 'rx_bytes',
                                         'rx_seq_discards', 'rx_oos_packets', 'rx_errors'))


class FakeL2tp(object):

    def __init__(self, netlink, read_only=False):
        self.nl = netlink
        self.read_only = read_only
        self.tunnel_table = {}
        self.session_table = {}
        self.writes = []
        self.batches = []   # the size of each create_sessions batch
        # Like the kernel's work queue: a deleted tunnel stays in this many dumps.
        self.linger = 0
        self.dying = {}

    def _write(self, what):
        assert not self.read_only, 'genl write in check mode: %s' % (what,)
        self.writes.append(what)

    def tunnels(self):
        out = [dict(copy.deepcopy(t), stats=dict(ZERO_STATS)) for t in self.tunnel_table.values()]
        for tunnel_id in list(self.dying):
            out.append(dict(self.dying[tunnel_id]['tunnel'], stats=dict(ZERO_STATS)))
            self.dying[tunnel_id]['dumps'] -= 1
            if self.dying[tunnel_id]['dumps'] <= 0:
                del self.dying[tunnel_id]
        return out

    def sessions(self):
        out = []
        for (tid, sid), s in sorted(self.session_table.items()):
            out.append(dict(copy.deepcopy(s), peer_tunnel_id=self.tunnel_table[tid]['peer_tunnel_id'],
                            stats=dict(ZERO_STATS, rx_packets=3)))
        return out

    def create_tunnel(self, tunnel):
        self._write(('tunnel add', tunnel['tunnel_id']))
        if tunnel['tunnel_id'] in self.tunnel_table or tunnel['tunnel_id'] in self.dying:
            raise NetlinkError('create L2TP tunnel %s: it already exists' % tunnel['tunnel_id'], 17)
        self.tunnel_table[tunnel['tunnel_id']] = dict(
            (k, tunnel.get(k)) for k in ('tunnel_id', 'peer_tunnel_id', 'encap', 'local', 'remote', 'udp_sport',
                                         'udp_dport'))
        self.tunnel_table[tunnel['tunnel_id']]['version'] = 3
        if tunnel['encap'] == 'ip':
            self.tunnel_table[tunnel['tunnel_id']].update(udp_sport=None, udp_dport=None)

    def delete_tunnel(self, tunnel_id):
        self._write(('tunnel del', tunnel_id))
        if tunnel_id not in self.tunnel_table:
            raise NetlinkError('delete L2TP tunnel %s: no such tunnel or session' % tunnel_id, 2)
        for key in [k for k in self.session_table if k[0] == tunnel_id]:
            self._drop_session(key)
        tunnel = self.tunnel_table.pop(tunnel_id)
        if self.linger:
            self.dying[tunnel_id] = {'tunnel': tunnel, 'dumps': self.linger}

    def create_session(self, session):
        key = (session['tunnel_id'], session['session_id'])
        self._write(('session add', key))
        if session['tunnel_id'] not in self.tunnel_table:
            raise NetlinkError('create L2TP session: no such tunnel or session', 2)
        if key in self.session_table:
            raise NetlinkError('create L2TP session: it already exists', 17)
        self.session_table[key] = {
            'tunnel_id': key[0], 'session_id': key[1], 'peer_session_id': session['peer_session_id'],
            'pw_type': 5, 'ifname': session['ifname'],
            'cookie': None if session.get('cookie') in (None, 'none') else session['cookie'],
            'peer_cookie': None if session.get('peer_cookie') in (None, 'none') else session['peer_cookie'],
            'send_seq': bool(session.get('send_seq')), 'recv_seq': bool(session.get('recv_seq')),
            'lns_mode': False, 'reorder_timeout': 0,
        }
        self.nl.add_plain(session['ifname'], 'l2tp')
        self.nl.links_by_name[session['ifname']].update(up=False, mtu=1446)

    def create_sessions(self, sessions):
        """The seam's batch: every create tried in order, an error does not stop the rest."""
        self.batches.append(len(sessions))
        outcomes = []
        for session in sessions:
            try:
                self.create_session(session)
            except NetlinkError as exc:
                outcomes.append(exc)
            else:
                outcomes.append(None)
        return outcomes

    def modify_session(self, session):
        key = (session['tunnel_id'], session['session_id'])
        self._write(('session set', key))
        found = self.session_table[key]
        for name in ('send_seq', 'recv_seq', 'lns_mode'):
            if session.get(name) is not None:
                found[name] = bool(session[name])
        if session.get('reorder_timeout') is not None:
            # HZ=250: the kernel rounds up to a 4 ms jiffy.
            found['reorder_timeout'] = -(-int(session['reorder_timeout']) // 4) * 4

    def _drop_session(self, key):
        session = self.session_table.pop(key)
        link = self.nl.links_by_name.pop(session['ifname'], None)
        if link is not None:
            self.nl.addrs.pop(link['index'], None)

    def delete_session(self, tunnel_id, session_id):
        self._write(('session del', (tunnel_id, session_id)))
        if (tunnel_id, session_id) not in self.session_table:
            raise NetlinkError('delete L2TP session: no such tunnel or session', 2)
        self._drop_session((tunnel_id, session_id))

    def add_foreign_ppp_session(self, tunnel_id, session_id):
        self.session_table[(tunnel_id, session_id)] = {
            'tunnel_id': tunnel_id, 'session_id': session_id, 'peer_session_id': 1, 'pw_type': 7, 'ifname': None,
            'cookie': None, 'peer_cookie': None, 'send_seq': False, 'recv_seq': False, 'lns_mode': False,
            'reorder_timeout': 0}


class FakeSideEffects(object):
    """nft and sysctl of one fake router: rp_filter lands on ``netlink``'s link, where the kernel
    store reads it back (from the link dump, as on a real router)."""

    def __init__(self, netlink, read_only=False):
        self.netlink = netlink
        self.read_only = read_only
        self.mss = set()

    def mss_ifnames(self):
        return set(self.mss)

    def set_mss(self, ifname, enabled):
        assert not self.read_only, 'nft write in check mode'
        (self.mss.add if enabled else self.mss.discard)(ifname)

    def set_rp_filter(self, ifname, enabled):
        assert not self.read_only, 'sysctl write in check mode'
        self.netlink.links_by_name[ifname]['rp_filter'] = 1 if enabled else 0
