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

__all__ = ['KINDS', 'Kind', 'kind_of_module', 'mismatches', 'SECRET_MASK']

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
