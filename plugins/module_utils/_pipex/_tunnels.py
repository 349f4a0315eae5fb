# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The L2TP tunnels under the sessions: which ones a task's sessions need, and their runtime store
(L2TP generic netlink). The engine plans them before the sessions (``_engine.Part``), so a tunnel
is created before its first session, deleted after its last, and a rollback puts both back in
the right order without the session store knowing about tunnels."""

from __future__ import annotations

from ansible_collections.edgenet.router.plugins.module_utils._engine import CREATE, DELETE, RECREATE, Store
from ansible_collections.edgenet.router.plugins.module_utils._poll import until
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import (
    TUNNELS, U32_MAX, PipexError, ip_command, norm_address, tunnel_args, tunnel_view,
)

__all__ = ['KernelTunnels', 'TEARDOWN_TIMEOUT', 'tunnel_from_kernel', 'wanted_tunnels']

TEARDOWN_TIMEOUT = 10


def tunnel_from_kernel(tunnel):
    """A tunnel as the L2TP seam dumps it -> its canonical fields (None where the dump has none)."""
    return {
        'tunnel_id': tunnel.get('tunnel_id'),
        'peer_tunnel_id': tunnel.get('peer_tunnel_id'),
        'encap': tunnel.get('encap'),
        'local': norm_address('local')(tunnel['local']) if tunnel.get('local') else None,
        'remote': norm_address('remote')(tunnel['remote']) if tunnel.get('remote') else None,
        'udp_sport': tunnel.get('udp_sport'),
        'udp_dport': tunnel.get('udp_dport'),
    }


def wanted_tunnels(desired, current, kernel_sessions, keep_tunnel=False):
    """The tunnels the task's sessions need, as the tunnel part's desired objects: each tunnel a
    present session uses, with that session's tunnel fields (the sessions agree: see
    ``check_conflicts``); and None (delete it) for a tunnel one of the task's sessions leaves,
    deleted or moved, when no other session stays in it and ``keep_tunnel`` is false.
    ``desired`` and ``current`` are the sessions' (the task's, the kernel's read);
    ``kernel_sessions`` every session of the kernel's dump, PPP ones too (a tunnel carrying one stays)."""
    wanted = {}
    for obj in desired.values():
        if obj is not None:
            wanted[str(obj['tunnel_id'])] = tunnel_view(obj)
    if keep_tunnel:
        return wanted
    for name in sorted(desired):
        have = current.get(name)
        if have is None or str(have['tunnel_id']) in wanted:
            continue
        staying = [s for s in kernel_sessions if s['tunnel_id'] == have['tunnel_id'] and s.get('ifname') not in desired]
        if not staying:
            wanted[str(have['tunnel_id'])] = None
    return wanted


def _tunnel_id(key, obj):
    """A journal record's key and object must name one tunnel id (a commit-confirm rollback
    replays records read from disk; the task's ``check_key`` is for session names)."""
    try:
        tunnel_id = int(key)
    except (TypeError, ValueError):
        tunnel_id = None
    if tunnel_id is None or not 1 <= tunnel_id <= U32_MAX or str(tunnel_id) != key or obj.get('tunnel_id') != tunnel_id:
        raise PipexError('not an L2TP tunnel of this store: %r' % (key,))
    return tunnel_id


class KernelTunnels(Store):
    """The kernel's L2TP tunnels in one namespace, keyed by tunnel id as text. Every field needs a
    recreate (the kernel changes none in place). It reads every tunnel, also those of PPP
    sessions and other daemons; the plan touches only those the task's sessions name or leave."""

    name = TUNNELS
    verifies = True

    def __init__(self, l2tp, netns=None):
        self.l2tp = l2tp
        self.netns = netns

    def read(self):
        return dict((str(t['tunnel_id']), tunnel_from_kernel(t)) for t in self.l2tp.tunnels())

    def create(self, key, obj):
        _tunnel_id(key, obj)
        self.l2tp.create_tunnel(obj)

    def modify(self, key, before, after):
        raise PipexError('tunnel %s: the kernel changes no tunnel parameter in place' % key)

    def delete(self, key, obj):
        """Delete a tunnel and wait until it is gone. The kernel tears tunnels down in a work
        queue (l2tp_tunnel_delete): until then a dump still lists the dying tunnel, a create with
        its id fails with EEXIST, and a session added to it dies with it (seen in the lab when a
        recreate re-used the tunnel at once)."""
        tunnel_id = _tunnel_id(key, obj)
        self.l2tp.delete_tunnel(tunnel_id)
        if not until(lambda: not any(t['tunnel_id'] == tunnel_id for t in self.l2tp.tunnels()), TEARDOWN_TIMEOUT):
            raise PipexError('tunnel %s is still being torn down by the kernel after %ss' % (tunnel_id, TEARDOWN_TIMEOUT))

    def commands(self, change):
        ip = ip_command(self.netns)
        cmds = []
        if change.action in (DELETE, RECREATE):
            cmds.append('%s l2tp del tunnel tunnel_id %s' % (ip, change.before['tunnel_id']))
        if change.action in (CREATE, RECREATE):
            cmds.append('%s l2tp add tunnel %s' % (ip, ' '.join(tunnel_args(change.after))))
        return cmds
