# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
"""A tunnel or L2TPv3 pseudowire declared once for its two hosts -> one host's module arguments;
documented in tunnel_end.yml.

Which declared value goes to which field at which end is the table in plugin_utils/_pairs.py,
which the drift_report callback reads too when it compares the two ends. The options an end may
carry are the modules' own (their field tables), so a name the module would refuse is refused
here, where the declaration is.
"""

from __future__ import annotations

import functools
import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.edgenet.router.plugins.module_utils._names import inventory_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import TABLE as SESSION_TABLE, PipexError
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import _norm_cookie
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TABLE as TUNNEL_TABLE, TYPES, TYPE_ALIASES, TunnelError
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import _norm_key
from ansible_collections.edgenet.router.plugins.plugin_utils._pairs import KINDS

L2TPV3 = 'l2tpv3'
U32_MAX = 0xFFFFFFFF

# Per kind: the module's object options (its field table and state); what the filter makes itself
# (never declared); what only an end may declare (an address on the tunnel is one end's, the
# other end has its own) and what only the pair may (both ends need the same, see _pairs).
_OPTIONS = {
    'iptun': set(f.name for f in TUNNEL_TABLE) | {'state'},
    L2TPV3: set(f.name for f in SESSION_TABLE) | {'state'},
}
_MADE = {
    'iptun': {'name', 'local', 'remote', 'okey', 'ocsum', 'oseq', 'peer'},
    L2TPV3: {'ifname', 'local', 'remote', 'peer_tunnel_id', 'peer_session_id', 'peer_cookie', 'udp_sport', 'udp_dport', 'peer'},
}
_END_ONLY = {'addresses', 'routes', 'link', 'description'}
_PAIR_ONLY = {'type', 'state'}
# A per-direction GRE field said for the whole pair would say both directions at once: those are
# the shorthands (key, csum, seq), which stay shared.
_NOT_SHARED = {'iptun': {'ikey', 'icsum', 'iseq'}, L2TPV3: {'tunnel_id', 'session_id', 'cookie'}}


class PairError(ValueError):
    pass


def _kind(pair, where):
    ttype = pair.get('type')
    if not isinstance(ttype, str) or not ttype:
        raise PairError('%s needs type: l2tpv3 for a pseudowire, or an iptun type (gre, ipip, sit...)' % where)
    text = ttype.strip().lower()
    if text == L2TPV3:
        return L2TPV3
    canonical = TYPE_ALIASES.get(text, text)
    if canonical not in TYPES:
        raise PairError('%s: type %s is neither l2tpv3 nor an iptun type' % (where, quoted(ttype)))
    if TYPES[canonical].get('remote_any'):
        raise PairError('%s: type %s has no fixed remote end (its packets go to any 6to4 or 6rd address), so it is '
                        'no pair; declare it per host' % (where, ttype))
    return 'iptun'


def _id(value, what):
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, str) and value.strip().isdigit()):
        raise PairError('%s must be a number 1 to %d' % (what, U32_MAX))
    number = int(value)
    if not 1 <= number <= U32_MAX:
        raise PairError('%s must be a number 1 to %d, not %d' % (what, U32_MAX, number))
    return number


def _port(value, what):
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, str) and value.strip().isdigit()):
        raise PairError('%s must be a UDP port 1 to 65535' % what)
    number = int(value)
    if not 1 <= number <= 65535:
        raise PairError('%s must be a UDP port 1 to 65535, not %d' % (what, number))
    return number


def _cookie(value, what):
    # The module's own rule; its messages never quote the value (cookies are secret), nor do ours.
    try:
        return _norm_cookie(what)(value)
    except PipexError as exc:
        raise PairError(str(exc))


def _key(value, what):
    try:
        return _norm_key(value)
    except TunnelError as exc:  # a GRE key is no secret: its message may quote it
        raise PairError('%s: %s' % (what, exc))


def _flag(value, what):
    if not isinstance(value, bool):
        raise PairError('%s must be true or false' % what)
    return value


def _address(value, what, kind):
    if not isinstance(value, str) or not value.strip():
        raise PairError('%s must be an address%s' % (what, ' (IPv4 or IPv6)' if kind == L2TPV3 else ' or a host name'))
    text = value.strip()
    if kind == L2TPV3:
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise PairError('%s %s is not an IP address (pipex_session takes addresses, not names)' % (what, quoted(value)))
    return text


# What an end declares of its own: key -> how its value is checked.
_DECLARED = {
    'iptun': {'address': functools.partial(_address, kind='iptun'), 'ikey': _key, 'icsum': _flag, 'iseq': _flag},
    L2TPV3: {'address': functools.partial(_address, kind=L2TPV3), 'tunnel_id': _id, 'session_id': _id, 'cookie': _cookie, 'udp_port': _port},
}
_REQUIRED = {'iptun': ('address',), L2TPV3: ('address', 'tunnel_id', 'session_id')}


def _end(kind, name, values, where):
    """One end's declared values, checked: ``{key: value}``."""
    what = '%s end %s' % (where, name)
    if not isinstance(values, dict):
        raise PairError('%s must be a dict (address and the end\'s own options)' % what)
    missing = [key for key in _REQUIRED[kind] if values.get(key) is None]
    if missing:
        raise PairError('%s has no %s' % (what, ' or '.join(missing)))
    out = {}
    for key, value in values.items():
        if key in _DECLARED[kind]:
            if value is not None:
                out[key] = _DECLARED[kind][key](value, '%s %s' % (what, key))
        elif key in _MADE[kind] or key not in _OPTIONS[kind]:
            raise PairError('%s: %s is not an option an end declares (%s)' % (what, quoted(key), _end_help(kind)))
        elif key in _PAIR_ONLY or key in KINDS[kind].shared:
            raise PairError('%s: %s must be the same at both ends; give it once, beside ends' % (what, key))
        else:
            out[key] = value
    # No cookie is said by leaving cookie out: a no_log value 'none' would make Ansible hide every
    # 'none' in the module's result.
    if out.get('cookie') == 'none':
        del out['cookie']
    return out


def _end_help(kind):
    declared = ', '.join(sorted(_DECLARED[kind]))
    return 'an end gives %s, and options of its own such as addresses' % declared


def _shared(kind, pair, where):
    out = {}
    for key, value in pair.items():
        if key in ('name', 'type', 'ends'):
            continue
        if key in _NOT_SHARED[kind] or key in _DECLARED[kind]:
            raise PairError('%s: %s belongs to each end (what that end receives or is); give it under ends' % (where, quoted(key)))
        if key in _MADE[kind] or key not in _OPTIONS[kind]:
            raise PairError('%s: %s is not an option of a %s pair' % (where, quoted(key), 'pseudowire' if kind == L2TPV3 else 'tunnel'))
        if key in _END_ONLY:
            raise PairError('%s: %s differs from end to end; give it under each end' % (where, key))
        out[key] = value
    return out


def _ends(pair, where):
    ends = pair.get('ends')
    if not isinstance(ends, dict) or len(ends) != 2:
        count = len(ends) if isinstance(ends, dict) else 0
        raise PairError('%s needs ends: a dict of exactly two inventory host names, each with its end\'s values '
                        '(it has %d)' % (where, count))
    for name in ends:
        problem = inventory_name_problem(name)
        if problem is not None:
            raise PairError('%s: end %s is not an inventory host name: %s' % (where, quoted(name), problem))
    return list(ends)


def _describe(pair, index=None):
    name = pair.get('name') if isinstance(pair, dict) else None
    kind = 'pseudowire' if isinstance(pair, dict) and str(pair.get('type', '')).strip().lower() == L2TPV3 else 'tunnel'
    label = '%s %s' % (kind, name if isinstance(name, str) and name else '(no name)')
    return label if index is None else 'pair %d (%s)' % (index + 1, label)


def end_of(pair, host, where):
    """One pair -> ``host``'s module arguments (``host`` must be one of its ends)."""
    if not isinstance(pair, dict):
        raise PairError('%s must be a dict with name, type and ends' % where)
    if not isinstance(pair.get('name'), str) or not pair['name']:
        raise PairError('%s needs name: the tunnel or session interface name, the same at both ends' % where)
    kind = _kind(pair, where)
    names = _ends(pair, where)
    if host not in names:
        raise PairError('%s: host %s is not one of its ends (%s)' % (where, quoted(host), ', '.join(sorted(names))))
    other = names[1] if names[0] == host else names[0]
    shared = _shared(kind, pair, where)
    mine = _end(kind, host, pair['ends'][host], where)
    theirs = _end(kind, other, pair['ends'][other], where)
    if mine['address'] == theirs['address']:
        raise PairError('%s: both ends have address %s; each end needs its own' % (where, mine['address']))
    if kind == L2TPV3 and ipaddress.ip_address(mine['address']).version != ipaddress.ip_address(theirs['address']).version:
        raise PairError('%s: the ends\' addresses %s and %s are of different families' % (where, mine['address'], theirs['address']))
    if kind == L2TPV3 and str(shared.get('encap', 'udp')).strip().lower() == 'ip':
        given = [n for n, end in ((host, mine), (other, theirs)) if 'udp_port' in end]
        if given:
            raise PairError('%s: encap ip takes no UDP ports; remove udp_port at end %s' % (where, ', '.join(given)))
    if kind == 'iptun':
        for short, per_end in (('key', 'ikey'), ('csum', 'icsum'), ('seq', 'iseq')):
            given = [n for n, end in ((host, mine), (other, theirs)) if per_end in end]
            if short in shared and given:
                raise PairError('%s: %s is given for the pair and %s for end %s; give %s for both directions, or %s '
                                'at each end' % (where, short, per_end, given[0], short, per_end))
    out = {KINDS[kind].key: pair['name']}
    if kind == 'iptun':
        out['type'] = pair['type']
    out.update(shared)
    for key, (own, far) in KINDS[kind].ends.items():
        if key in mine:
            out[own] = mine[key]
        if key in theirs:
            out[far] = theirs[key]
    out.update((key, value) for key, value in mine.items() if key not in KINDS[kind].ends)
    out['peer'] = other
    return kind, out


def _check_host(host):
    problem = inventory_name_problem(host)
    if problem is not None:
        raise PairError('host %s is not an inventory host name: %s; pass inventory_hostname' % (quoted(host), problem))


def _across(ends):
    """Problems between the ends of one host's pairs: a name twice, and for L2TPv3 a tunnel id
    towards two peers or a session id (or the peer's) twice in one tunnel."""
    problems, names, tunnels, sessions = [], {}, {}, {}
    for label, (kind, end) in ends:
        key = KINDS[kind].key
        if end[key] in names:
            problems.append('%s and %s both name %s %s on this host' % (names[end[key]], label, key, end[key]))
        names.setdefault(end[key], label)
        if kind != L2TPV3:
            continue
        tunnel = end['tunnel_id']
        far = (end['peer_tunnel_id'], end['remote'], end.get('encap'))
        seen = tunnels.setdefault(tunnel, (far, label))
        if seen[0] != far:
            problems.append('%s and %s both use tunnel_id %d on this host, towards other peers or with another peer '
                            'tunnel id or encap; one tunnel has one peer' % (seen[1], label, tunnel))
        for field in ('session_id', 'peer_session_id'):
            ident = (tunnel, field, end[field])
            if ident in sessions:
                problems.append('%s and %s both have %s %d in tunnel %d' % (sessions[ident], label, field, end[field], tunnel))
            sessions.setdefault(ident, label)
    return problems


def tunnel_end(pairs, host):
    """A pair (dict) -> ``host``'s end; a list of pairs -> ``host``'s ends of those that name it."""
    try:
        _check_host(host)
        if isinstance(pairs, dict):
            return end_of(pairs, host, _describe(pairs))[1]
        if not isinstance(pairs, (list, tuple)):
            raise PairError('the input must be a pair (a dict with name, type and ends) or a list of pairs, not a %s'
                            % type(pairs).__name__)
        ends, problems = [], []
        for index, pair in enumerate(pairs):
            where = _describe(pair, index)
            try:
                if isinstance(pair, dict) and isinstance(pair.get('ends'), dict) and host not in pair['ends']:
                    continue
                ends.append((where, end_of(pair, host, where)))
            except PairError as exc:
                problems.append(str(exc))
        problems += _across(ends)
        if problems:
            raise PairError('; '.join(problems))
        return [end for dummy, (kind, end) in ends]
    except PairError as exc:
        raise AnsibleFilterError('tunnel_end: %s' % to_text(exc))


class FilterModule(object):

    def filters(self):
        return {'tunnel_end': tunnel_end}
