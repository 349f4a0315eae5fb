# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""What the pipex_session and pipex_session_info modules do with the stores: the task (argument
spec, the sessions it names), the cycle with its statistics, and the info view."""

from __future__ import annotations

import contextlib
import shutil

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._engine import RUNTIME
from ansible_collections.edgenet.router.plugins.module_utils._l2tp import PWTYPE_ETH, PWTYPE_PPP, PWTYPE_PPP_AC, open_l2tp
from ansible_collections.edgenet.router.plugins.module_utils._names import quoted
from ansible_collections.edgenet.router.plugins.module_utils._netlink import check_netns, open_netlink
from ansible_collections.edgenet.router.plugins.module_utils._pipex._effects import SideEffects
from ansible_collections.edgenet.router.plugins.module_utils._pipex._kernel import KernelSessions
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import (
    TABLE, TUNNEL_TABLE, PipexError, check_ifname, desired_session,
)
from ansible_collections.edgenet.router.plugins.module_utils._pipex._state import STATE_DIR, PersistentSessions
from ansible_collections.edgenet.router.plugins.module_utils._pipex._tunnels import KernelTunnels, wanted_tunnels
from ansible_collections.edgenet.router.plugins.module_utils._task import Task


# ---- the modules' behaviour ------------------------------------------------------------------------
COMMON = {
    # One choice, read by nothing: deprecated (Ansible warns when a task sets it), still accepted.
    'protocol': {'type': 'str', 'default': 'l2tp', 'choices': ['l2tp'],
                 'removed_in_version': '1.0.0', 'removed_from_collection': 'edgenet.router'},
    'persistent': {'type': 'bool', 'default': True},
    'recreate': {'type': 'str', 'default': 'allowed', 'choices': ['allowed', 'never']},
    'keep_tunnel': {'type': 'bool', 'default': False},
    'netns': {'type': 'str'},
    'state_dir': {'type': 'path', 'default': STATE_DIR},
}


TASK = Task(TABLE, key='ifname', bulk='sessions', result='session', error=PipexError, common=COMMON,
            check_key=check_ifname, pairs=True)

# The options the stores are built from: all a commit-confirm rollback keeps of the task.
STORE_OPTIONS = ('persistent', 'netns', 'keep_tunnel', 'state_dir')


@contextlib.contextmanager
def open_stores(params, run_command, systemctl=None):
    """The task's stores, ``(KernelTunnels, KernelSessions, PersistentSessions or None with
    persistent: false)``, over L2TP generic netlink and rtnetlink sockets in ``netns`` held open meanwhile.
    ``systemctl`` (its path; looked up when None) makes ``daemon-reload`` the files store's
    settle step: checked, and a failure rolls the apply back."""
    netns = params.get('netns')
    if netns is not None:  # '' is a mistake, not the host namespace: refuse it before anything
        check_netns(netns)
    with open_l2tp(netns) as l2tp, open_netlink(netns) as netlink:
        runtime = KernelSessions(l2tp, netlink, SideEffects(run_command, netns), netns)
        files = None
        if params.get('persistent', True):
            state_dir = params.get('state_dir')  # '' is refused by the store, not read as the default
            files = PersistentSessions(STATE_DIR if state_dir is None else state_dir, run_command=run_command,
                                       systemctl=systemctl or shutil.which('systemctl'))
        yield KernelTunnels(l2tp, netns), runtime, files


def argument_spec():
    return TASK.argument_spec()


def module_kwargs():
    """The table's options, and ``ppp_user``: with state absent, the user whose live PPP sessions
    to close (``_ppp._sessions.close_result``), instead of a session named by ``ifname``."""
    kwargs = TASK.module_kwargs()
    kwargs['argument_spec']['ppp_user'] = {'type': 'str'}
    kwargs['required_one_of'] = [tuple(kwargs['required_one_of'][0]) + ('ppp_user',)]
    kwargs['mutually_exclusive'] = kwargs['mutually_exclusive'] + [('ppp_user', TASK.key), ('ppp_user', TASK.bulk)]
    return kwargs


def desired_set(params):
    """Task -> ``{ifname: canonical dict or None}``; every error found, not just the first."""
    persistent = params.get('persistent', True)
    # Refused after every field is checked, so one run names every problem; what the boot unit
    # could not replay is moot then.
    netns_problem = None
    if params.get('netns') and persistent:
        netns_problem = ('persistent: true is not possible with netns %s: the boot-time unit '
                         'replays sessions in the host namespace only; set persistent: false (it defaults to true)' % quoted(params['netns']))
    try:
        desired = TASK.desired_set(params, lambda item: desired_session(item, persistent=persistent and netns_problem is None))
    except PipexError as exc:
        if netns_problem is None:
            raise
        raise PipexError('%s; %s' % (exc, netns_problem))
    if netns_problem is not None:
        raise PipexError(netns_problem)
    return desired


def run_pipex(params, tunnels, runtime, persistent=None, check_mode=False, confirm=None):
    """The pipex_session module's behaviour on already-built stores; returns the result dict.
    ``confirm`` is the commit-confirm rollback to schedule (``_confirm.Pending``) or None.

    Two parts for the engine: the tunnels the sessions need (:func:`wanted_tunnels`, from the
    read), planned first, then the sessions."""
    desired = desired_set(params)
    if persistent is not None:
        foreign = [name for name in desired if persistent.foreign(name)]
        if foreign:
            raise PipexError('state files without the edgenet.router marker hold these names: %s' % ', '.join(foreign))
    # Conflicts with what the task does not name are refused by KernelSessions.prepare, on the
    # engine's own read (one read of the kernel before the plan, one after a change).
    keep_tunnel = params.get('keep_tunnel', False)

    def tunnels_wanted(current):
        return wanted_tunnels(desired, current[RUNTIME], runtime.sessions, keep_tunnel)
    parts = [engine.Part(TUNNEL_TABLE, [tunnels], tunnels_wanted),
             engine.Part(TABLE, [s for s in (persistent, runtime) if s is not None], desired)]
    with engine.collector_paused():
        outcome = engine.run_parts(parts, check_mode=check_mode, recreate=params.get('recreate', 'allowed'), confirm=confirm)
    # runtime.stats come from the engine's last read: after the apply when it changed anything
    result = TASK.result(params, outcome, confirm)
    after = outcome['after']

    def statistics(name):
        if after[name][RUNTIME] is not None:
            return runtime.stats.get(name)
        # removed: its last counters (check mode: the ones it has now, which a removal would end with)
        return runtime.final_stats.get(name) or (runtime.stats.get(name) if check_mode else None)
    if params.get('sessions') is None:
        result['statistics'] = statistics(params['ifname'])
    else:
        result['statistics'] = dict((name, statistics(name)) for name in after if statistics(name) is not None)
    return result


def _masked(obj):
    if obj is None:
        return None
    return dict((k, engine.SECRET_MASK if k in TABLE.secret_names() and v not in (None, 'none') else v)
                for k, v in obj.items())


def info(runtime, persistent=None, ifname=None):
    """pipex_session_info's result: every tunnel with its sessions (Ethernet ones in canonical form,
    others as the kernel reports them) and statistics; the state files and drift. ``ifname`` keeps
    only that session in ``sessions``."""
    if ifname is not None:
        check_ifname(ifname)
    sessions = runtime.read()
    tunnels = []
    for tunnel_id, tunnel in sorted(runtime.tunnels.items()):
        members = []
        for raw in sorted(runtime.sessions, key=lambda s: s['session_id']):
            if raw['tunnel_id'] != tunnel_id:
                continue
            name = raw.get('ifname')
            members.append({
                'session_id': raw['session_id'],
                'peer_session_id': raw['peer_session_id'],
                'ifname': name,
                'pseudowire': 'ethernet' if raw.get('pw_type') in (None, PWTYPE_ETH)
                else 'ppp' if raw.get('pw_type') in (PWTYPE_PPP, PWTYPE_PPP_AC) else raw.get('pw_type'),
                'statistics': raw.get('stats'),
            })
        tunnels.append({
            'tunnel_id': tunnel_id,
            'peer_tunnel_id': tunnel.get('peer_tunnel_id'),
            'encap': tunnel.get('encap'),
            'local': tunnel.get('local'),
            'remote': tunnel.get('remote'),
            'udp_sport': tunnel.get('udp_sport'),
            'udp_dport': tunnel.get('udp_dport'),
            'version': tunnel.get('version'),
            'statistics': tunnel.get('stats'),
            'sessions': members,
        })
    out = []
    compared = engine.compare_stores(TABLE, sessions, persistent.read() if persistent is not None else None,
                                     None if ifname is None else [ifname])
    for name, views in compared.items():
        out.append({
            'ifname': name,
            'runtime': _masked(views['runtime']),
            'persistent': _masked(views['persistent']),
            'statistics': runtime.stats.get(name),
            'missing': views['missing'],
            'differs': views['differs'],
        })
    return {'tunnels': tunnels, 'sessions': out}
