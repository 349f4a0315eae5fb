# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Both ends of a link declared once: which fields of a module say the same thing at the two ends.

A tunnel or an L2TPv3 pseudowire has two ends on two routers. Some of what one end holds is what
the other holds in another field (one end's ``local`` is the other's ``remote``, its ``ikey`` the
other's ``okey``, its ``session_id`` the other's ``peer_session_id``): those are *mirrored*. Some
must be the same at both ends (the tunnel type, the MTU): those are *shared*. One table per kind
of link says which, and two readers use it, so they can never disagree:

* the ``tunnel_end`` filter turns a link declared once (``ends``: each host's own values) into
  each host's module arguments: an end's own value goes to its own field, and to the other end's
  mirrored field;
* the ``drift_report`` callback compares the two ends' kernel state after a run and makes a row
  of every field where they no longer match (:func:`mismatches`).

Controller-side only (no module imports this).
"""

from __future__ import annotations

__all__ = ['KINDS', 'Kind', 'PairBook', 'kind_of_module', 'mismatches', 'runtime_views', 'SECRET_MASK']

# What the modules put in place of a secret value (_engine.SECRET_MASK), and what Ansible puts in
# a string where a no_log value stood.
SECRET_MASK = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
_NO_LOG_STARS = '********'


class Kind(object):
    """One kind of link: the module that makes an end, the option naming the object, and the fields.

    ``ends`` maps what a pair declares per end (``address``) to ``(this end's field, the other
    end's field)`` (``('local', 'remote')``): the value an end declares goes to its own first field
    and to the other end's second. ``shared`` are the fields both ends must hold the same."""

    def __init__(self, name, module, key, ends, shared):
        self.name = name
        self.module = module
        self.key = key
        self.ends = ends
        self.shared = tuple(shared)

    def mirrored(self):
        """``(field, other end's field)`` for every mirrored relation, each direction once:
        ``local`` at one end is ``remote`` at the other, and ``remote`` is ``local``."""
        out = []
        for own, other in self.ends.values():
            out.append((own, other))
            if own != other:
                out.append((other, own))
        return out


KINDS = {
    # iptun: a GRE end's ikey is the key the other end sends (its okey); checksums and sequence
    # numbers likewise, each direction on its own.
    'iptun': Kind('iptun', 'edgenet.router.iptun', 'name', {
        'address': ('local', 'remote'),
        'ikey': ('ikey', 'okey'),
        'icsum': ('icsum', 'ocsum'),
        'iseq': ('iseq', 'oseq'),
    }, shared=('type', 'mtu')),
    # pipex_session: L2TPv3 ids and cookies are each chosen by the end that receives them (RFC 3931
    # 4.1), so one end's session_id is what the other end sends (its peer_session_id).
    'l2tpv3': Kind('l2tpv3', 'edgenet.router.pipex_session', 'ifname', {
        'address': ('local', 'remote'),
        'tunnel_id': ('tunnel_id', 'peer_tunnel_id'),
        'session_id': ('session_id', 'peer_session_id'),
        'cookie': ('cookie', 'peer_cookie'),
        'udp_port': ('udp_sport', 'udp_dport'),
    }, shared=('encap', 'mtu')),
}

_BY_MODULE = dict((kind.module, kind) for kind in KINDS.values())


def kind_of_module(module):
    """The :class:`Kind` whose ends ``module`` (a resolved FQCN, or a short name) makes, or None."""
    if not module:
        return None
    module = str(module)
    if module in _BY_MODULE:
        return _BY_MODULE[module]
    short = module.rsplit('.', 1)[-1]
    return next((kind for kind in KINDS.values() if kind.module.rsplit('.', 1)[-1] == short and '.' not in module), None)


def _masked(value):
    return isinstance(value, str) and (value == SECRET_MASK or _NO_LOG_STARS in value)


def _same(mine, theirs):
    """Whether two ends' values agree, as far as masks let anyone tell: two masked values may be
    different secrets, but nothing in a result says so (no secret leaves a router), so they count
    as the same; a masked value against an unmasked one (a cookie against none) differs."""
    if _masked(mine) and _masked(theirs):
        return True
    return mine == theirs


def mismatches(kind, mine, theirs):
    """Where two ends' objects (their runtime views, as the module returned them) disagree.

    ``mine`` and ``theirs`` are the two views (None: the end has no such object). Returns a list
    of ``(field, my value, other end's field, its value)``: one for every mirrored relation and
    shared field that does not hold, in the table's order; ``(None, present?, None, present?)``
    when one end has the object and the other has not. Both absent: nothing to compare, []."""
    if mine is None and theirs is None:
        return []
    if mine is None or theirs is None:
        return [(None, mine is not None, None, theirs is not None)]
    out = []
    for own, other in kind.mirrored():
        if own not in mine and other not in theirs:
            continue
        if not _same(mine.get(own), theirs.get(other)):
            out.append((own, mine.get(own), other, theirs.get(other)))
    for field in kind.shared:
        if field not in mine and field not in theirs:
            continue
        if not _same(mine.get(field), theirs.get(field)):
            out.append((field, mine.get(field), field, theirs.get(field)))
    return out


# ---------------------------------------------------------------------- the drift report's pair check

def runtime_views(kind, res, check_mode):
    """``{object: runtime view or None}`` of one module result, as the router holds it now: the
    diff's ``before`` in check mode (``after`` is the prediction there), ``after`` otherwise (the
    re-read after the change). The bulk form's diff is keyed by object name first; the single
    form's is ``{runtime: view, persistent: view}`` (a tunnel's view has no ``runtime`` key), its
    object named by ``peers`` or by the key field of a view."""
    diff = res.get('diff') if isinstance(res.get('diff'), dict) else {}
    side = diff.get('before' if check_mode else 'after')
    if not isinstance(side, dict):
        return {}
    single = 'runtime' in side and not (isinstance(side['runtime'], dict) and 'runtime' in side['runtime'])
    if not single:
        return dict((str(name), views.get('runtime') if isinstance(views, dict) else None) for name, views in side.items())
    names = list(res.get('peers') or {}) if isinstance(res.get('peers'), dict) else []
    for either in (side, diff.get('after' if check_mode else 'before')):
        if not names and isinstance(either, dict) and isinstance(either.get('runtime'), dict):
            names = [either['runtime'].get(kind.key)]
    return dict((str(name), side['runtime']) for name in names[:1] if name is not None)


class PairBook(object):
    """The ends of pairs the run's results name, per task, and what the pair check makes of them.

    :meth:`add` takes every result of a module whose kind is in :data:`KINDS` and that returned
    ``peers``; :meth:`absent` notes a host whose result of a task is missing for a reason (failed,
    unreachable, skipped, censored). :meth:`check` compares each pair once."""

    def __init__(self):
        self._tasks = {}        # task id -> {'task', 'module', 'kind', 'hosts': {host: {'peers', 'views'}}}
        self._absent = {}       # task id -> {host: reason}

    def add(self, task_id, task, module, host, res, check_mode):
        kind = kind_of_module(module)
        if kind is None or not isinstance(res, dict):
            return
        peers = res.get('peers')
        peers = dict((str(k), str(v)) for k, v in peers.items() if v is not None) if isinstance(peers, dict) else {}
        entry = self._tasks.setdefault(task_id, {'task': task, 'module': module, 'kind': kind, 'hosts': {}})
        mine = entry['hosts'].setdefault(host, {'peers': {}, 'views': {}})
        mine['peers'].update(peers)
        mine['views'].update(runtime_views(kind, res, check_mode))

    def absent(self, task_id, host, reason):
        self._absent.setdefault(task_id, {}).setdefault(host, reason)

    def _other(self, task_id, entry, peer):
        """The peer's ends of the same task; when the peer ran another copy of it (an include
        loaded for it alone), the only task of the same name and module it has ends of."""
        if peer in entry['hosts']:
            return entry['hosts'][peer], None
        reason = self._absent.get(task_id, {}).get(peer)
        if reason is None:
            same = [e for tid, e in self._tasks.items() if tid != task_id and e['task'] == entry['task']
                    and e['module'] == entry['module'] and peer in e['hosts']]
            if len(same) == 1:
                return same[0]['hosts'][peer], None
        return None, reason or 'has no result of this task (skipped, stopped earlier, or not in the play)'

    def check(self):
        """``(rows, not_checked, compared)``: per host, the mismatch rows it holds (each pair's rows
        go to the end whose name sorts first) and the pairs it could not compare, as plain dicts;
        and how many pairs were compared."""
        rows, not_checked, compared = {}, {}, 0
        for task_id, entry in self._tasks.items():
            kind, done = entry['kind'], set()
            for host in sorted(entry['hosts']):
                mine = entry['hosts'][host]
                for obj, peer in sorted(mine['peers'].items()):
                    pair_id = (obj, frozenset((host, peer)))
                    if pair_id in done:
                        continue
                    done.add(pair_id)
                    base = {'task': entry['task'], 'module': entry['module'], 'object': obj, 'peer': peer}
                    what = '%s %s with %s not compared: ' % (kind.key, obj, peer)
                    if peer == host:
                        not_checked.setdefault(host, []).append(dict(base, reason=what + 'it names this host as its own peer'))
                        continue
                    other, reason = self._other(task_id, entry, peer)
                    if other is None:
                        not_checked.setdefault(host, []).append(dict(base, reason=what + '%s %s' % (peer, reason)))
                        continue
                    if obj not in other['views']:
                        not_checked.setdefault(host, []).append(
                            dict(base, reason=what + 'the result of %s has no %s %s' % (peer, kind.key, obj)))
                        continue
                    if other['peers'].get(obj, host) != host:
                        not_checked.setdefault(host, []).append(dict(base, reason=what + '%s names %s as the peer of %s' % (
                            peer, other['peers'][obj], obj)))
                        continue
                    compared += 1
                    first, second = sorted((host, peer))
                    views = {host: mine['views'].get(obj), peer: other['views'].get(obj)}
                    for row in _rows(kind, obj, first, second, views[first], views[second]):
                        rows.setdefault(first, []).append(dict(base, peer=second, **row))
        return rows, not_checked, compared


def _rows(kind, obj, first, second, mine, theirs):
    out = []
    for field, value, peer_field, peer_value in mismatches(kind, mine, theirs):
        if field is None:
            note = '%s %s %s in the kernel, %s %s' % (
                first, 'has' if value else 'has no', obj, second, 'has' if peer_value else 'has not')
            out.append({'field': None, 'peer_field': None, 'before': 'present' if value else 'absent',
                        'after': 'present' if peer_value else 'absent', 'note': note})
            continue
        out.append({'field': field, 'peer_field': peer_field, 'before': value, 'after': peer_value,
                    'note': '%s\'s %s (before) differs from %s\'s %s (after)' % (first, field, second, peer_field)})
    return out
