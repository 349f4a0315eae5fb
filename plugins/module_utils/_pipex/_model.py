# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The session's field table and the rules one session must follow: normalisers, endpoint checks,
the canonical form of a task's session, and the iproute2 words that make it (the kernel store's
commands and the state files both use them)."""

from __future__ import annotations

import ipaddress
import re
import unicodedata

from ansible_collections.edgenet.router.plugins.module_utils._engine import RECREATE, Field, ObjectTable
from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._values import address_list, int_in_range, task_addresses


class PipexError(ValueError):
    """Bad input or a conflict with what exists: raised before anything is touched."""


U32_MAX = 0xFFFFFFFF
DEFAULT_UDP_PORT = 1701
# The kernel keeps an interface alias in IFALIASZ (256) bytes with the terminating NUL.
ALIAS_MAX_BYTES = 255
JIFFY_TOLERANCE_MS = 10
# Line and paragraph separators, surrogates (cannot be written as UTF-8) and control characters:
# any of them in a value would split or corrupt the state file's line the boot script sources.
_BAD_TEXT_CATEGORIES = ('Cc', 'Cs', 'Zl', 'Zp')


# ---- normalisers ----------------------------------------------------------------------------
def _norm_int(low, high, what):
    return int_in_range(low, high, what, PipexError)


def norm_addresses(values):
    """What the kernel or a state file holds: see ``_values.address_list``."""
    return address_list(values, PipexError)


def _norm_task_addresses(values):
    """The task's ``addresses``: see ``_values.task_addresses``."""
    return task_addresses(values, PipexError)


def norm_address(what):
    def normalise(value):
        """An IPv4 or IPv6 address, compressed; no ``%zone`` (the tunnel has no device to scope it to)."""
        text = str(value).strip()
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            address = None
        if address is None or '%' in text:
            raise PipexError('%s %s is not an IP address (IPv4 or IPv6, without a %%zone)' % (what, quoted(value)))
        return str(address)
    return normalise


def _norm_cookie(what):
    def normalise(value):
        """``none`` or lowercase hex of 4 or 8 bytes; ``0x`` prefix, ``:`` and spaces dropped. Text only
        (the option is ``raw`` so this sees what YAML made): an unquoted ``0x1a2b3c4d`` reaches a module
        as the decimal number 439041101, which would be read as other hex digits."""
        if not isinstance(value, str):
            raise PipexError('%s must be text of hex digits, not a %s: quote it in YAML (cookie: "0x1a2b3c4d")'
                             % (what, type(value).__name__))
        text = value.strip().lower()
        if text in ('', 'none'):
            return 'none'
        if text.startswith('0x'):
            text = text[2:]
        text = text.replace(':', '').replace(' ', '')
        if not re.match(r'^[0-9a-f]*$', text):
            raise PipexError('%s must be hexadecimal (4 or 8 bytes, e.g. 0x1a2b3c4d)' % what)
        if len(text) not in (8, 16):
            raise PipexError('%s must be 4 or 8 bytes (8 or 16 hex digits), not %d hex digits'
                             % (what, len(text)))
        return text
    return normalise


def _norm_text(value):
    """Text as given (the kernel keeps an interface alias verbatim); ``None`` stays unmanaged.
    No control characters or line separators (the state file holds it on one line) and at most
    255 bytes of UTF-8 (the kernel's limit, which would otherwise cut it and report drift forever)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        # The option is raw: Ansible would have turned a list or dict into its Python text.
        raise PipexError('description must be text, not a %s' % type(value).__name__)
    text = str(value)
    if any(unicodedata.category(c) in _BAD_TEXT_CATEGORIES for c in text):
        raise PipexError('description %s holds a control character or line break; an interface alias is one line '
                         'of printable text: remove them' % quoted(text))
    if len(text.encode('utf-8')) > ALIAS_MAX_BYTES:
        raise PipexError('description %s is %d bytes of UTF-8; the kernel keeps at most %d: shorten it'
                         % (quoted(text), len(text.encode('utf-8')), ALIAS_MAX_BYTES))
    return text


# ---- the field table --------------------------------------------------------------------------
# Ids are 1 to 2^32-1 (0 is reserved by RFC 3931); ports 1-65535.
# ``ip`` is the iproute2 keyword in ``commands``; ``tunnel`` marks fields of the shared tunnel.
TABLE = ObjectTable('session', [
    Field('ifname', required=True, aliases=['name']),
    Field('tunnel_id', type='int', normalise=_norm_int(1, U32_MAX, 'tunnel_id'), update=RECREATE, tunnel=True),
    Field('peer_tunnel_id', type='int', normalise=_norm_int(1, U32_MAX, 'peer_tunnel_id'), update=RECREATE, tunnel=True),
    Field('session_id', type='int', normalise=_norm_int(1, U32_MAX, 'session_id'), update=RECREATE),
    Field('peer_session_id', type='int', normalise=_norm_int(1, U32_MAX, 'peer_session_id'), update=RECREATE),
    Field('encap', default='udp', choices=['udp', 'ip'], update=RECREATE, tunnel=True),
    Field('local', normalise=norm_address('local'), update=RECREATE, tunnel=True),
    Field('remote', normalise=norm_address('remote'), update=RECREATE, tunnel=True),
    Field('udp_sport', type='int', normalise=_norm_int(1, 65535, 'udp_sport'), update=RECREATE, tunnel=True),
    Field('udp_dport', type='int', normalise=_norm_int(1, 65535, 'udp_dport'), update=RECREATE, tunnel=True),
    # Masked everywhere but their none, which says only that a packet carries no cookie (its length
    # shows that), so a drift report can tell an end with a cookie from one without.
    Field('cookie', type='raw', normalise=_norm_cookie('cookie'), update=RECREATE, secret=True, shown=('none',)),
    Field('peer_cookie', type='raw', normalise=_norm_cookie('peer_cookie'), update=RECREATE, secret=True, shown=('none',)),
    # The kernel does not report the L2-specific sublayer back: written, never compared.
    Field('l2spec_type', default='default', choices=['default', 'none'], update=RECREATE, compare=False),
    Field('sequencing', default='none', choices=['none', 'send', 'recv', 'both']),
    # The kernel keeps it in jiffies: 50 ms reads back as 52 at HZ=250; up to one jiffy more
    # (10 ms at HZ=100, the coarsest) is the value asked for.
    Field('reorder_timeout', type='int', default=0, normalise=_norm_int(0, 3600000, 'reorder_timeout'),
          compare=lambda have, wanted: 0 <= have - wanted <= JIFFY_TOLERANCE_MS),
    Field('lns_mode', type='bool', default=False),
    Field('mtu', type='int', normalise=_norm_int(68, 65535, 'mtu')),
    Field('description', type='raw', normalise=_norm_text),
    Field('enabled', type='bool', default=True),
    Field('addresses', type='list', elements='str', normalise=_norm_task_addresses),
    Field('adjust_tcpmss', type='bool', default=False),
    Field('ingress_filter', type='bool', default=False),
])

TUNNEL_FIELDS = tuple(f.name for f in TABLE if f.extra.get('tunnel'))

# The L2TP tunnel is its own object, planned before its sessions (``_engine.Part``): its table is
# the session table's tunnel fields, living in one store only, the kernel's tunnels (a session's
# state file carries its tunnel's fields, so the boot unit brings the tunnel back with it). The
# session table keeps those fields too: a tunnel's drift shows on each of its sessions, and a
# session moved to other tunnel parameters is re-created.
TUNNELS = 'tunnels'
TUNNEL_TABLE = ObjectTable('tunnel', [
    Field(f.name, type=f.type, normalise=f.normalise, stores=(TUNNELS,), update=RECREATE) for f in TABLE if f.name in TUNNEL_FIELDS
])
SESSION_SETTINGS = ('sequencing', 'reorder_timeout', 'lns_mode')
SEQ = {'none': (False, False), 'send': (True, False), 'recv': (False, True), 'both': (True, True)}


def check_ifname(name):
    """The collection's one rule (``_names``): the name becomes a link, a file and a command word."""
    problem = link_name_problem(name)
    if problem:
        raise PipexError('ifname %s is not a valid interface name: %s' % (quoted(name), problem))


def _endpoint_kind(address):
    """Why ``address`` cannot be a tunnel endpoint, or None."""
    if address.is_unspecified:
        return 'unspecified'
    if address.is_multicast:
        return 'multicast'
    if str(address) == '255.255.255.255':
        return 'the broadcast address'
    if address.version == 4 and address.is_reserved:
        return 'reserved (240.0.0.0/4)'
    if address.version == 6 and address.ipv4_mapped is not None:
        return 'an IPv4-mapped IPv6 address (give the IPv4 address itself)'
    if address.version == 6 and address.is_link_local:
        return 'link-local (it needs an interface scope a tunnel does not have)'
    return None


def _endpoint_problems(where, local, remote):
    """Underlay addresses no tunnel can use: the kernel takes them and the session never carries a packet."""
    problems = []
    for what, text in (('local', local), ('remote', remote)):
        kind = _endpoint_kind(ipaddress.ip_address(text))
        if kind:
            whose = 'this end' if what == 'local' else 'the peer'
            problems.append('%s %s is %s; give the unicast address of %s' % (what, text, kind, whose))
    if not problems and local == remote:
        problems.append('remote %s equals local: a tunnel needs the peer\'s address' % remote)
    elif not problems and ipaddress.ip_address(remote).is_loopback != ipaddress.ip_address(local).is_loopback:
        # Both ends on loopback is a tunnel inside this host (used by the lab proofs); one end on
        # loopback and the other not can never exchange a packet.
        problems.append('%s %s is a loopback address while %s %s is not: both ends must be on loopback (a tunnel '
                        'inside this host) or neither' % (('remote', remote, 'local', local)
                                                          if ipaddress.ip_address(remote).is_loopback
                                                          else ('local', local, 'remote', remote)))
    return ['%s: %s' % (where, p) for p in problems]


def desired_session(params, persistent=False):
    """Task parameters of one session -> canonical dict; the rules the spec cannot say."""
    check_ifname(params.get('ifname'))
    where = 'session %s' % params['ifname']
    values = TABLE.normalise(params)
    missing = [n for n in ('tunnel_id', 'peer_tunnel_id', 'session_id', 'peer_session_id', 'local', 'remote')
               if values[n] is None]
    if missing:
        raise PipexError('%s: %s required when state=present' % (where, ', '.join(missing)))
    if ipaddress.ip_address(values['local']).version != ipaddress.ip_address(values['remote']).version:
        raise PipexError('%s: local %s and remote %s are of different address families'
                         % (where, values['local'], values['remote']))
    problems = _endpoint_problems(where, values['local'], values['remote'])
    if problems:
        raise PipexError('; '.join(problems))
    if values['encap'] == 'ip':
        given = [n for n in ('udp_sport', 'udp_dport') if values[n] is not None]
        if given:
            raise PipexError('%s: encap ip carries L2TPv3 directly over IP (protocol 115) and takes no UDP '
                             'ports; remove %s' % (where, ', '.join(given)))
    else:
        for name in ('udp_sport', 'udp_dport'):
            if values[name] is None:
                values[name] = DEFAULT_UDP_PORT
    for name in ('cookie', 'peer_cookie'):
        if values[name] is None:
            values[name] = 'none'
    if values['reorder_timeout'] and not SEQ[values['sequencing']][1]:
        raise PipexError('%s: reorder_timeout only applies when received packets carry sequence numbers '
                         '(sequencing recv or both)' % where)
    if persistent:
        if values['lns_mode'] or values['reorder_timeout']:
            raise PipexError('%s cannot be made persistent: ip l2tp (which replays sessions at boot) cannot set '
                             'lns_mode or reorder_timeout. Use persistent: false, or leave them at their '
                             'defaults' % where)
    return values


def tunnel_view(obj):
    return dict((name, obj.get(name)) for name in TUNNEL_FIELDS)


# ---- iproute2 words of a session (commands and state files) ---------------------------------------
def ip_command(netns):
    return 'ip -n %s' % netns if netns else 'ip'


def tunnel_args(obj):
    words = ['tunnel_id', obj['tunnel_id'], 'peer_tunnel_id', obj['peer_tunnel_id'], 'encap', obj['encap'],
             'local', obj['local'], 'remote', obj['remote']]
    if obj['encap'] == 'udp':
        words += ['udp_sport', obj['udp_sport'], 'udp_dport', obj['udp_dport']]
    return [str(w) for w in words]


def session_args(obj):
    words = ['name', obj['ifname'], 'tunnel_id', obj['tunnel_id'], 'session_id', obj['session_id'],
             'peer_session_id', obj['peer_session_id']]
    for name in ('cookie', 'peer_cookie'):
        if obj.get(name) not in (None, 'none'):
            words += [name, obj[name]]
    words += ['l2spec_type', obj.get('l2spec_type') or 'default', 'seq', obj.get('sequencing') or 'none']
    return [str(w) for w in words]
