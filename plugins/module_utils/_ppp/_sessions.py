# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The live PPP sessions of the router's concentrators (PPPoE, L2TP LNS), as ``pipex_session_info`` lists them.

What each concentrator's daemon knows (its state file: session id, peer MAC or L2TP tunnel and
peer, address, when it started, the link and user from pppd's ip-up, when its counters last moved)
joined with what the kernel holds: the session in ``/proc/net/pppoe`` or ``/proc/net/pppol2tp``
and its link's counters in sysfs. Everything here is read as data; no pid read from a file is
signalled or run.
"""

from __future__ import annotations

import json
import os
import re
import time

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._command import checked
from ansible_collections.edgenet.router.plugins.module_utils._names import quoted
from ansible_collections.edgenet.router.plugins.module_utils._poll import until
from ansible_collections.edgenet.router.plugins.module_utils._ppp import _pppoed
from ansible_collections.edgenet.router.plugins.module_utils._ppp._pppoed import STATS

__all__ = ['LIVE_DIR', 'CloseError', 'close_argv', 'close_session', 'daemon_id', 'kernel_pppoe', 'nft_listing', 'ppp_sessions']

LIVE_DIR = _pppoed.LIVE_DIR
PROC_PPPOE = '/proc/net/pppoe'
PROC_PPPOL2TP = _pppoed.PROC_PPPOL2TP
_STATE_RE = re.compile(r'([A-Za-z0-9_][A-Za-z0-9_.-]{0,14})\.state\Z')
_LINK_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}\Z')


# How long a closed session has to leave its concentrator's state.
CLOSE_WAIT = 10


class CloseError(Exception):
    """A PPP session could not be closed; the message says where it stands."""


def kernel_pppoe(text):
    """``/proc/net/pppoe`` -> ``{(session id, peer MAC, device)}``. The kernel prints the id as it
    keeps it, in network byte order (``%08X`` of a big-endian 16-bit value): session 1 reads
    ``00000100`` on a little-endian machine, so both orders are taken."""
    out = set()
    for line in (text or '').splitlines()[1:]:
        words = line.split()
        if len(words) != 3:
            continue
        try:
            raw = int(words[0], 16) & 0xffff
        except ValueError:
            continue
        for session_id in (raw, ((raw & 0xff) << 8) | (raw >> 8)):
            out.add((session_id, words[1].lower(), words[2]))
    return out


def _counters(link, sys_net):
    if not isinstance(link, str) or not _LINK_RE.match(link):
        return None
    out = {}
    for name in STATS:
        try:
            with open(os.path.join(sys_net, link, 'statistics', name)) as handle:
                out[name] = int(handle.read())
        except (OSError, ValueError):
            return None
    return out


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def nft_listing(run, nft=_pppoed.NFT):
    """The PPP sessions' nftables rules as the kernel holds them (``ppp_sessions``'s
    ``nft_text``), or None: no nft, or no table (no session asks for a rule)."""
    if not os.access(nft, os.X_OK):
        return None
    rc, out, dummy = run([nft, 'list', 'table', 'inet', _pppoed.NFT_TABLE])
    return out if rc == 0 else None


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ''


def daemon_id(row):
    """The id a row's session has in its concentrator's state (what a close request names)."""
    if row['protocol'] == 'l2tp':
        return _pppoed.l2tp_key(row['tunnel_id'], row['session_id'])
    return row['session_id']


def _protocol_fields(protocol, session, concentrator, kernel):
    """The fields of a row that differ by protocol, and whether the kernel carries the session."""
    if protocol == 'l2tp':
        ids = dict((name, _int(session.get(name))) for name in ('tunnel_id', 'session_id', 'peer_tunnel_id', 'peer_session_id'))
        in_kernel = (ids['tunnel_id'], ids['session_id'], session.get('link')) in kernel['l2tp']
        return dict(ids, peer_mac=None, peer=session.get('peer'), in_kernel=in_kernel)
    return {'session_id': session['id'], 'tunnel_id': None, 'peer_tunnel_id': None, 'peer_session_id': None,
            'peer_mac': session.get('mac'), 'peer': None,
            'in_kernel': (session['id'], str(session.get('mac')).lower(), concentrator) in kernel['pppoe']}


def ppp_sessions(live_dir=LIVE_DIR, proc=PROC_PPPOE, sys_net='/sys/class/net', now=None, link=None, nft_text=None,
                 proc_l2tp=PROC_PPPOL2TP):
    """Every session of every concentrator on the host (``link``: only the one on that pppN).
    ``nft_text``: the output of :func:`nft_listing`, whose rules for a session's link show
    its ``adjust_tcpmss`` and ``ingress_filter`` as the kernel holds them (both false without it)."""
    now = time.time() if now is None else now
    rules = _pppoed.nft_session_rules(nft_text)
    try:
        names = sorted(os.listdir(live_dir))
    except OSError:
        return []
    kernel = {'pppoe': kernel_pppoe(_read(proc)),
              'l2tp': set((s['tunnel_id'], s['session_id'], s['link']) for s in _pppoed.kernel_l2tp_sessions(_read(proc_l2tp)))}
    out = []
    for name in names:
        match = _STATE_RE.match(name)
        state = _files.load_json_object(os.path.join(live_dir, name)) if match else None
        if state is None or not isinstance(state.get('sessions'), list):
            continue
        concentrator = match.group(1)
        config = state.get('config') if isinstance(state.get('config'), dict) else {}
        protocol = 'l2tp' if config.get('protocol') == 'l2tp' else 'pppoe'
        for session in state['sessions']:
            if not isinstance(session, dict) or _int(session.get('id')) is None:
                continue
            started, last = _int(session.get('started')), _int(session.get('last_activity'))
            # Rules of this session that name its link: a rule of an earlier session on a reused
            # pppN name carries another tag, and one left for a dead link names no live session.
            chains = set(chain for chain, dummy, text in rules.get(_pppoed.session_tag(concentrator, session['id']), [])
                         if '"%s"' % session.get('link') in text)
            row = {
                'protocol': protocol,
                'concentrator': concentrator,
                'interface': session.get('link'),
                'user': session.get('user'),
                'address': session.get('address'),
                'uptime': None if started is None else max(0, int(now) - started),
                'idle_time': None if last is None else max(0, int(now) - last),
                'statistics': _counters(session.get('link'), sys_net),
                'adjust_tcpmss': 'mss' in chains,
                'ingress_filter': 'ingress' in chains,
            }
            row.update(_protocol_fields(protocol, session, concentrator, kernel))
            if link is None or row['interface'] == link:
                out.append(row)
    return out


def close_argv(concentrator, systemctl='systemctl'):
    """systemd signals the concentrator's main process (never a pid read from a file)."""
    return [systemctl, 'kill', '--signal=SIGUSR1', '--kill-whom=main', 'edgenet-pppoe@%s.service' % concentrator]


def close_session(row, run, systemctl='systemctl', live_dir=LIVE_DIR, wait=CLOSE_WAIT, **read):
    """End the session ``row`` (one of :func:`ppp_sessions`) through its concentrator and return
    its final counters, read just before the close (pipex returns them too)."""
    concentrator = row['concentrator']
    if not _LINK_RE.match(concentrator):
        raise CloseError('not a concentrator: %r' % concentrator)
    final = _counters(row['interface'], read.get('sys_net', '/sys/class/net')) or row['statistics']
    with _files.locked(live_dir, error=CloseError):
        _files.atomic_write(os.path.join(live_dir, concentrator + '.close'), json.dumps([daemon_id(row)]).encode(),
                            0o600, error=CloseError)
    checked(run, close_argv(concentrator, systemctl), CloseError)

    def gone():
        return not [r for r in ppp_sessions(live_dir, **read)
                    if (r['concentrator'], daemon_id(r)) == (concentrator, daemon_id(row))]
    if not until(gone, wait):
        raise CloseError('PPP session %d on %s (%s) is still up %d s after its concentrator was asked to close it '
                         '(see journalctl -u edgenet-pppoe@%s)' % (row['session_id'], concentrator, row['interface'],
                                                                   wait, concentrator))
    return final


def _closed(rows, finals, what, live_dir):
    """The result of closing ``rows`` (their final counters in ``finals``, by interface)."""
    commands = []
    for row in rows:
        commands += ['echo [%d] > %s/%s.close' % (daemon_id(row), live_dir, row['concentrator']),
                     ' '.join(close_argv(row['concentrator'], 'systemctl'))]
    return {
        'changed': bool(rows),
        'changes': [{'store': 'ppp', 'object': row['interface'], 'action': 'delete', 'fields': {}} for row in rows],
        'commands': commands,
        'diff': {'before': {'ppp': dict((row['interface'], row) for row in rows)}, 'after': {'ppp': {}}},
        'session': None,
        'ppp_sessions': rows,
        'statistics': finals,
        'msg': '%s: %d PPP session(s) %s' % (what, len(rows), 'closed' if rows else 'up, nothing to close'),
    }


def close_result(params, run, systemctl, check_mode, **read):
    """pipex_session's result for ``state: absent`` naming live PPP sessions (host namespace), or
    None when the task is not about them: ``ppp_user`` closes every session of that user (npppctl's
    ``clear username``; none up is no change), ``ifname`` the session on that link (when it names
    none, it is an L2TPv3 session and the engine's cycle handles it). Each session is ended
    through its daemon; no L2TP store is touched, so the rest of pipex_session (persistence,
    tunnels) does not apply."""
    user = params.get('ppp_user')
    if user is not None:
        if params.get('state') != 'absent' or params.get('netns'):
            raise CloseError('ppp_user names PPP sessions to close: it goes with state absent, in the host namespace '
                             '(the concentrators run there)')
        if not isinstance(user, str) or not _pppoed.USER_RE.match(user):
            raise CloseError('ppp_user %s is not a user name ppp_server takes (1-64 letters, digits, "_", ".", "@", "+" '
                             'or "-")' % quoted(user))
    elif params.get('sessions') is not None or params.get('state') != 'absent' or params.get('netns'):
        return None
    live_dir = read.get('live_dir', LIVE_DIR)
    nft_text = nft_listing(run, read.pop('nft', _pppoed.NFT))
    if user is not None:
        rows = [row for row in ppp_sessions(nft_text=nft_text, **read) if row['user'] == user]
    else:
        rows = ppp_sessions(link=params.get('ifname'), nft_text=nft_text, **read)[:1]
        if not rows:
            return None
    finals = dict((row['interface'], row['statistics'] if check_mode else close_session(row, run, systemctl, **read))
                  for row in rows)
    result = _closed(rows, finals, 'user %s' % user if user is not None else params.get('ifname'), live_dir)
    if user is None:   # the single form: the session and its counters, not dicts by interface
        result.update(ppp_session=rows[0], statistics=finals[rows[0]['interface']])
    return result
