# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The runtime store: Ethernet sessions in one namespace, read and written through L2TP generic
netlink (``_l2tp``), rtnetlink (``_netlink``) and the side effects (``_effects``), and the
iproute2 commands that say what a change does."""

from __future__ import annotations

import functools
import shlex

from ansible_collections.edgenet.router.plugins.module_utils._engine import CREATE, DELETE, RECREATE, RUNTIME, Store
from ansible_collections.edgenet.router.plugins.module_utils._l2tp import PWTYPE_ETH
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError, address_commands, change_link
from ansible_collections.edgenet.router.plugins.module_utils._pipex._effects import NFT_CHAIN, NFT_COMMENT, NFT_TABLE
from ansible_collections.edgenet.router.plugins.module_utils._pipex._tunnels import tunnel_from_kernel
from ansible_collections.edgenet.router.plugins.module_utils._values import removed
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import (
    SEQ, SESSION_SETTINGS, TABLE, TUNNEL_FIELDS, PipexError, ip_command, norm_addresses, session_args, tunnel_view,
)


# ---- iproute2 equivalents (the tunnel's: _tunnels.KernelTunnels.commands) --------------------------
def runtime_commands(change, netns=None):
    ip = ip_command(netns)
    before = change.before or {}
    after = change.after or {}
    name = change.key
    cmds = []
    if change.action in (DELETE, RECREATE):
        cmds.append('%s l2tp del session tunnel_id %s session_id %s' % (ip, before['tunnel_id'], before['session_id']))
        if change.action == DELETE:
            if before.get('adjust_tcpmss'):
                cmds.append('nft delete rule inet %s %s handle ...  # rules commented %s%s'
                            % (NFT_TABLE, NFT_CHAIN, NFT_COMMENT, name))
            return cmds
    if change.action in (CREATE, RECREATE):
        cmds.append('%s l2tp add session %s' % (ip, ' '.join(session_args(after))))
        before = {}
    elif any(f in change.fields for f in SESSION_SETTINGS):
        # iproute2 has no "l2tp set session"; the module sends L2TP_CMD_SESSION_MODIFY.
        cmds.append('# genl l2tp SESSION_MODIFY tunnel_id %s session_id %s seq %s reorder_timeout %s lns_mode %s'
                    % (after['tunnel_id'], after['session_id'], after.get('sequencing'), after.get('reorder_timeout'),
                       after.get('lns_mode')))
    if after.get('mtu') is not None and after['mtu'] != before.get('mtu'):
        cmds.append('%s link set %s mtu %s' % (ip, name, after['mtu']))
    if after.get('description') is not None and after['description'] != before.get('description'):
        cmds.append('%s link set %s alias %s' % (ip, name, shlex.quote(after['description'])))
    cmds.extend(address_commands(ip, name, before.get('addresses'), after.get('addresses')))
    if after.get('enabled') is not None and after['enabled'] != before.get('enabled'):
        cmds.append('%s link set %s %s' % (ip, name, 'up' if after['enabled'] else 'down'))
    prefix = 'ip netns exec %s ' % netns if netns else ''
    if after.get('adjust_tcpmss') is not None and after['adjust_tcpmss'] != bool(before.get('adjust_tcpmss')):
        cmds.append('%snft add rule inet %s %s oifname/iifname %s tcp option maxseg size set rt mtu'
                    % (prefix, NFT_TABLE, NFT_CHAIN, name) if after['adjust_tcpmss'] else
                    '%snft delete rule inet %s %s handle ...' % (prefix, NFT_TABLE, NFT_CHAIN))
    if after.get('ingress_filter') is not None and after['ingress_filter'] != bool(before.get('ingress_filter')):
        cmds.append('%ssysctl -w net/ipv4/conf/%s/rp_filter=%d' % (prefix, name, 1 if after['ingress_filter'] else 0))
    return cmds


# ---- the runtime store ----------------------------------------------------------------------------
def _sequencing(send, recv):
    return {(False, False): 'none', (True, False): 'send', (False, True): 'recv', (True, True): 'both'}[(send, recv)]


def from_kernel(session, tunnel, link, addresses, mss, rpf):
    """Seam dicts of one Ethernet session -> canonical session dict."""
    obj = dict((f.name, None) for f in TABLE)
    obj.update(tunnel_from_kernel(tunnel))
    obj.update({
        'ifname': session['ifname'],
        'tunnel_id': session['tunnel_id'],
        'session_id': session['session_id'],
        'peer_session_id': session['peer_session_id'],
        'cookie': session.get('cookie') or 'none',
        'peer_cookie': session.get('peer_cookie') or 'none',
        'sequencing': _sequencing(bool(session.get('send_seq')), bool(session.get('recv_seq'))),
        'reorder_timeout': session.get('reorder_timeout') or 0,
        'lns_mode': bool(session.get('lns_mode')),
    })
    if link is not None:
        obj.update({'mtu': link['mtu'], 'description': link.get('alias') or '', 'enabled': link['up'],
                    'addresses': norm_addresses(addresses)})
    obj['adjust_tcpmss'] = mss
    obj['ingress_filter'] = rpf
    return obj


def seam_session(key, obj):
    """The ``_l2tp`` dict that creates session ``obj`` with its link named ``key``."""
    send, recv = SEQ[obj.get('sequencing') or 'none']
    return dict(obj, ifname=key, send_seq=send, recv_seq=recv)


def _link_settings(before, after):
    """The MTU, alias and state of a session's link that ``after`` changes from ``before``."""
    settings = {}
    if after.get('mtu') is not None and after['mtu'] != before.get('mtu'):
        settings['mtu'] = after['mtu']
    if after.get('description') is not None and after['description'] != (before.get('description') or ''):
        settings['alias'] = after['description']
    if after.get('enabled') is not None and after['enabled'] != before.get('enabled'):
        settings['up'] = after['enabled']
    return settings


def link_settings(key, before, after):
    """Those settings as one rtnetlink request by name, or None when there are none."""
    settings = _link_settings(before, after)
    return change_link(name=key, **settings) if settings else None


class KernelSessions(Store):
    """Ethernet sessions in one namespace: L2TP genl (``_l2tp.L2tp``) for sessions, rtnetlink
    (``_netlink.Netlink``) for the l2tpeth link, :class:`SideEffects` for the rest. Their tunnels
    are another store's (``_tunnels.KernelTunnels``), planned before them: a session is created
    in a tunnel that exists and deleted before its tunnel is."""

    name = RUNTIME
    verifies = True  # the engine checks its re-read against every change (see _engine.unkept)

    def __init__(self, l2tp, netlink, side=None, netns=None):
        self.l2tp = l2tp
        self.nl = netlink
        self.side = side
        self.netns = netns
        # The last dump: raw tunnels by id (sessions show their tunnel's fields), every session.
        self.tunnels = {}
        self.sessions = []
        self.link_names = set()
        self.stats = {}
        # The counters of each session this run deleted, as the read before the apply saw them:
        # pipex hands back a closed session's final counters, and so does the module.
        self.final_stats = {}
        # What the write under way has made so far, as undo steps (see snapshot).
        self._pending = None
        self._made = []

    def refresh(self):
        self.tunnels = dict((t['tunnel_id'], t) for t in self.l2tp.tunnels())
        self.sessions = self.l2tp.sessions()
        return self.tunnels, self.sessions

    def ethernet_sessions(self):
        """The sessions of the last dump that are ours to manage: Ethernet pseudowires with an
        interface. PPP pseudowires belong to a daemon (pppd, accel-ppp): never ours."""
        return [s for s in self.sessions if s.get('ifname') and s.get('pw_type') in (None, PWTYPE_ETH)]

    def read(self):
        self.refresh()
        links = dict((link['name'], link) for link in self.nl.links())
        self.link_names = set(links)
        addresses = self.nl.addresses()
        mss = self.side.mss_ifnames() if self.side else set()
        out = {}
        self.stats = {}
        for session in self.ethernet_sessions():
            name = session['ifname']
            link = links.get(name)
            rpf = bool(link and link.get('rp_filter') == 1)  # strict mode only, as the task sets it
            out[name] = from_kernel(session, self.tunnels.get(session['tunnel_id'], {}), link,
                                    addresses.get(link['index'], []) if link else [], name in mss, rpf)
            self.stats[name] = session.get('stats')
        return out

    def prepare(self, desired, current):
        """Before the plan: refuse what would clash in the kernel (:func:`check_conflicts`, on
        the dump just read)."""
        check_conflicts(desired, current, self.sessions, self.tunnels, self.link_names)

    def snapshot(self, key):
        """The undo the engine journals for the write that follows: after a completed write, the
        inverse write (what the engine does without a snapshot); after a failed one, removing
        what it made before failing (a session without its link settings). An undo
        step that fails raises, so the rollback names it under "COULD NOT ROLL BACK"."""
        record = self._pending = {'done': None, 'made': []}

        def restore():
            if record['done'] is not None:
                record['done']()
                return
            for step in reversed(record['made']):
                step()
        return restore

    def write(self, action, key, before, after):
        record, self._pending = self._pending, None
        self._made = record['made'] if record is not None else []
        Store.write(self, action, key, before, after)
        if record is not None:
            inverse = {CREATE: DELETE, DELETE: CREATE}.get(action, action)
            record['done'] = functools.partial(self.write, inverse, key, after, before)

    def create(self, key, obj):
        session = seam_session(key, obj)
        self.l2tp.create_session(session)
        # The session takes its link, addresses and rp_filter with it; the nft rules live apart.
        self._made.append(functools.partial(self.l2tp.delete_session, obj['tunnel_id'], obj['session_id']))
        if self.side is not None and obj.get('adjust_tcpmss'):
            self._made.append(functools.partial(self.side.set_mss, key, False))
        if obj.get('lns_mode') or obj.get('reorder_timeout'):
            self.l2tp.modify_session(session)
        self._converge(key, {}, obj)
        return True

    def modify(self, key, before, after):
        if any(not TABLE[f].same(before.get(f), after.get(f)) for f in SESSION_SETTINGS):
            session = dict(after)
            session['send_seq'], session['recv_seq'] = SEQ[after['sequencing']]
            self.l2tp.modify_session(session)
        self._converge(key, before, after)

    def _converge(self, key, before, after):
        """The session's link as ``after`` asks: its MTU, alias and state in one message by name
        (as ``ip link set NAME ...``; a bulk create of 100 sessions made 100 index lookups and up to
        300 messages before), its index looked up only when addresses change."""
        settings = _link_settings(before, after)
        stale = removed(before.get('addresses'), after.get('addresses'))
        new = removed(after.get('addresses'), before.get('addresses') or [])
        if stale or new:
            # the MTU before the addresses (IPv6 leaves a link whose MTU drops below 1280), up after
            up = settings.pop('up', None)
            self.nl.set_link(name=key, **settings)
            settings = {} if up is None else {'up': up}
            index = self.nl.link_index(key)
            if index is None:
                raise PipexError('session %s: the kernel made no interface of that name' % key)
            for address in stale:
                self.nl.del_address(index, address)
            for address in new:
                self.nl.add_address(index, address)
        self.nl.set_link(name=key, **settings)
        if self.side is not None:
            if after.get('adjust_tcpmss') is not None and after['adjust_tcpmss'] != bool(before.get('adjust_tcpmss')):
                self.side.set_mss(key, after['adjust_tcpmss'])
            if after.get('ingress_filter') is not None and after['ingress_filter'] != bool(before.get('ingress_filter')):
                self.side.set_rp_filter(key, after['ingress_filter'])

    # ---- many creates at once (the engine's batches) -----------------------------------------------
    batches = True

    @staticmethod
    def _batch_item(action, key, before, after):
        """``(key, obj)`` of a create whose session and link settings are two messages and
        nothing else (no addresses, no SESSION_MODIFY after it, no nft rule or sysctl), else None."""
        if action == CREATE and not after.get('addresses') and not after.get('lns_mode') and \
                not after.get('reorder_timeout') and not after.get('adjust_tcpmss') and not after.get('ingress_filter'):
            return key, after
        return None

    def write_many(self, writes):
        """Consecutive plain creates go to the kernel together: every session in one L2TP batch,
        then every link's MTU, alias and state in one rtnetlink batch (a bulk create of 100 was
        200 round trips, each with Python between them); the other writes one at a time, in
        order (Store.write_in_batches)."""
        return self.write_in_batches(writes, self._batch_item, self._create_many)

    def _create_many(self, run):
        """One outcome per ``(key, obj)`` of ``run``. A session whose link settings the kernel
        refused is deleted again here, so what is reported failed left nothing behind."""
        outcomes = self.l2tp.create_sessions([seam_session(key, obj) for key, obj in run])
        settings = [(i, link_settings(key, {}, obj)) for i, (key, obj) in enumerate(run) if outcomes[i] is None]
        settings = [(i, write) for i, write in settings if write is not None]
        for (i, dummy), error in zip(settings, self.nl.link_writes([write for dummy, write in settings])):
            if error is not None:
                outcomes[i] = error
                try:
                    self.l2tp.delete_session(run[i][1]['tunnel_id'], run[i][1]['session_id'])
                except NetlinkError:
                    pass  # the error reported is the link's; the rollback's own delete says more
        return outcomes

    def delete(self, key, obj):
        if self.side is not None and obj.get('adjust_tcpmss'):
            self.side.set_mss(key, False)
        # rp_filter lives in the interface's own sysctl directory: it goes with the interface.
        self.final_stats[key] = self.stats.get(key)
        self.l2tp.delete_session(obj['tunnel_id'], obj['session_id'])

    def commands(self, change):
        return runtime_commands(change, self.netns)


def check_conflicts(desired, current, kernel_sessions=(), kernel_tunnels=None, links=()):
    """Refuse what would clash in the kernel, before anything is touched: two sessions of the task
    with one (tunnel, session) or (tunnel, peer session) id pair or disagreeing on a shared tunnel; a
    session id, peer session id or tunnel held by sessions the task does not name; a name taken by
    an interface that is no session. ``kernel_sessions`` and ``kernel_tunnels`` are the seam's raw
    view (PPP sessions too: their ids and tunnels are taken all the same); ``links`` the link names."""
    errors = []
    tunnels, ids, peer_ids = {}, {}, {}
    for name, obj in sorted(desired.items()):
        if obj is None:
            continue
        if name not in current and name in links:
            errors.append('session %s: an interface of that name exists and is not an L2TP session; choose another ifname'
                          % name)
        pair = (obj['tunnel_id'], obj['session_id'])
        if pair in ids:
            errors.append('sessions %s and %s both use session_id %s in tunnel %s' % (ids[pair], name, pair[1], pair[0]))
        ids[pair] = name
        # The peer tells sessions apart by the id we send to: two sessions sending to one peer
        # session would pour both pseudowires into one at the far end.
        peer = (obj['tunnel_id'], obj['peer_session_id'])
        if peer in peer_ids:
            errors.append('sessions %s and %s both use peer_session_id %s in tunnel %s: each session of a tunnel needs '
                          'its own peer session; give one of them another peer_session_id' % (peer_ids[peer], name, peer[1], peer[0]))
        peer_ids[peer] = name
        view = tunnel_view(obj)
        if obj['tunnel_id'] in tunnels and tunnels[obj['tunnel_id']][1] != view:
            other, theirs = tunnels[obj['tunnel_id']]
            errors.append('sessions %s and %s share tunnel %s but disagree on its parameters: %s' % (
                other, name, obj['tunnel_id'], ', '.join('%s %s vs %s' % (k, theirs[k], view[k])
                                                         for k in TUNNEL_FIELDS if theirs[k] != view[k])))
        tunnels.setdefault(obj['tunnel_id'], (name, view))
    # Sessions the task does not name: Ethernet ones by interface, the others (PPP) by id.
    others = [('interface %s' % name, 'session %s' % name, obj['tunnel_id'], obj['session_id'], obj['peer_session_id'],
               tunnel_view(obj)) for name, obj in sorted(current.items()) if name not in desired]
    for raw in sorted(kernel_sessions, key=lambda s: (s['tunnel_id'], s['session_id'])):
        if raw.get('ifname') in current or raw.get('ifname') in desired:
            continue
        label = 'session %s of tunnel %s (not an Ethernet session)' % (raw['session_id'], raw['tunnel_id'])
        tunnel = (kernel_tunnels or {}).get(raw['tunnel_id'])
        others.append((label, label, raw['tunnel_id'], raw['session_id'], raw.get('peer_session_id'),
                       tunnel_view(tunnel_from_kernel(tunnel)) if tunnel else None))
    for holder, carried, tunnel_id, session_id, peer_session_id, view in others:
        if (tunnel_id, session_id) in ids:
            errors.append('session %s: session_id %s in tunnel %s is held by %s, which this task does not manage'
                          % (ids[(tunnel_id, session_id)], session_id, tunnel_id, holder))
        if (tunnel_id, peer_session_id) in peer_ids:
            errors.append('session %s: peer_session_id %s in tunnel %s is already used by %s, which this task does not '
                          'manage; give another peer_session_id'
                          % (peer_ids[(tunnel_id, peer_session_id)], peer_session_id, tunnel_id, holder))
        if tunnel_id in tunnels and view is not None and view != tunnels[tunnel_id][1]:
            errors.append('session %s: tunnel %s exists with other parameters and carries %s, which this task does not '
                          'name (%s)' % (tunnels[tunnel_id][0], tunnel_id, carried, ', '.join(
                              '%s %s' % (k, view[k]) for k in TUNNEL_FIELDS if view[k] != tunnels[tunnel_id][1][k])))
    if errors:
        raise PipexError('; '.join(errors))
