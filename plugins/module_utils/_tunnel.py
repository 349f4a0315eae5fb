# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Kernel IP tunnels (ipip, sit, ip6tnl and the GRE family): the field table, its normalisers and the task's rules.

The canonical form of a tunnel is a flat dict of the fields in :data:`TABLE`. Both the task's
parameters and what the kernel / the networkd files report are turned into that form before
they are compared, so a drift report names exact fields (``ttl: 64 -> 10``). The stores that
hold tunnels are ``_tunnel_kernel`` (runtime) and ``_tunnel_networkd`` (persistent).
"""

from __future__ import annotations

import ipaddress
import socket

from ansible_collections.edgenet.router.plugins.module_utils._engine import Field, ObjectTable, RECREATE
from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._resolve import ResolveError, resolve_endpoint
from ansible_collections.edgenet.router.plugins.module_utils._values import (
    address_list, int_in_range, integer, parsed, plain_ipv4_prefix, task_addresses,
)

__all__ = [
    'TABLE',
    'TYPES',
    'TYPE_ALIASES',
    'FALLBACK_DEVICES',
    'FIELD_NAMES',
    'LINK_PARAMETERS',
    'DEFAULT_METRIC',
    'METRIC_MAX',
    'IPPROTO_IPIP',
    'IPPROTO_IPV6',
    'SIXRD_DEFAULT_PREFIX',
    'SIXRD_DEFAULT_RELAY_PREFIX',
    'TunnelError',
    'check_link',
    'check_name',
    'tos_byte',
    'tos_of_byte',
    'desired_tunnel',
]

# Kernel fallback devices, created when the module loads: never ours to manage.
FALLBACK_DEVICES = ('tunl0', 'sit0', 'ip6tnl0', 'gre0', 'gretap0', 'erspan0', 'ip6gre0', 'ip6gretap0', 'ip6erspan0')

IPPROTO_IPIP = 4
IPPROTO_IPV6 = 41

# type -> kernel kind, IFLA_IPTUN_PROTO (IP-in-IP kinds only), outer (underlay) family, whether
# remote is any.
TYPES = {
    'ipip': {'kind': 'ipip', 'proto': IPPROTO_IPIP, 'family': 4},
    'sit': {'kind': 'sit', 'proto': IPPROTO_IPV6, 'family': 4},
    '6to4': {'kind': 'sit', 'proto': IPPROTO_IPV6, 'family': 4, 'remote_any': True},
    # 6rd (RFC 5969): a 6to4-like sit device whose prefix is the ISP's, not 2002::/16.
    '6rd': {'kind': 'sit', 'proto': IPPROTO_IPV6, 'family': 4, 'remote_any': True},
    'ipv4': {'kind': 'sit', 'proto': 0, 'family': 4},        # illumos "ipv4": 4in4 + 6in4 on one link
    'ip6ip6': {'kind': 'ip6tnl', 'proto': IPPROTO_IPV6, 'family': 6},
    'ipip6': {'kind': 'ip6tnl', 'proto': IPPROTO_IPIP, 'family': 6},
    'ipv6': {'kind': 'ip6tnl', 'proto': 0, 'family': 6},     # illumos "ipv6": 4in6 + 6in6 on one link
    # GRE (RFC 2784/2890): any inner protocol, IPv4 or IPv6 outside; the tap kinds carry Ethernet
    'gre': {'kind': 'gre', 'family': 4},
    'ip6gre': {'kind': 'ip6gre', 'family': 6},
    'gretap': {'kind': 'gretap', 'family': 4},
    'ip6gretap': {'kind': 'ip6gretap', 'family': 6},
}
TYPE_ALIASES = {'4in4': 'ipip', '6in4': 'sit', '6in6': 'ip6ip6', '4in6': 'ipip6', 'gre6': 'ip6gre'}
GRE_KINDS = ('gre', 'ip6gre', 'gretap', 'ip6gretap')

IP4_DEFAULT_TTL = 0      # inherit

# What the kernel reports for every sit device that has no 6rd configuration: plain 6to4.
SIXRD_DEFAULT_PREFIX = '2002::/16'
SIXRD_DEFAULT_RELAY_PREFIX = '0.0.0.0/0'
SIXRD_FIELDS = ('sixrd_prefix', 'sixrd_relay_prefix')
IP6_DEFAULT_HOPLIMIT = 64
IP6_DEFAULT_ENCAPLIMIT = 4


class TunnelError(ValueError):
    """Bad input for a tunnel: raised before anything is touched."""


def _norm_type(value):
    """User type or alias -> canonical type name."""
    value = str(value).strip().lower()
    return TYPE_ALIASES.get(value, value)


# The IPv4 kinds' (ipip, sit, gre, gretap) outer TOS byte 1: the kernel's "inherit" (ip_tunnel
# copies the inner TOS when bit 0 is set; iproute2 prints "tos inherit"). It is how the kernel,
# NetworkManager and networkd's TOS= hold inherit, so a task's tos 1 is taken as inherit.
TOS_INHERIT = 1
IPV4_TOS_KINDS = ('ipip', 'sit', 'gre', 'gretap')


def tos_byte(tos):
    """The IPv4 kinds' canonical tos -> the TOS byte the kernel and the managers' files hold."""
    return TOS_INHERIT if tos == 'inherit' else tos


def tos_of_byte(byte):
    """The IPv4 kinds' TOS byte -> canonical tos (:func:`tos_byte` undone)."""
    return 'inherit' if byte == TOS_INHERIT else byte


def _norm_tos(value):
    """``inherit`` or an int 0-255 (decimal or 0x hex text)."""
    if isinstance(value, str) and value.strip().lower() == 'inherit':
        return 'inherit'
    number = integer(value, 0)
    if number is None or not 0 <= number <= 255:
        raise TunnelError('tos must be a number 0-255 or "inherit", not %s' % quoted(value))
    return number


def _norm_encaplimit(value):
    """``none`` or an int 0-255."""
    if isinstance(value, str) and value.strip().lower() == 'none':
        return 'none'
    number = integer(value)
    if number is None or not 0 <= number <= 255:
        raise TunnelError('encaplimit must be a number 0-255 or "none", not %s' % quoted(value))
    return number


KEY_MAX = 2 ** 32 - 1


def _norm_key(value):
    """A GRE key: ``none`` (no key field in the header) or an int 0-4294967295, given as a number
    or in the dotted-quad form iproute2 prints (``0.0.0.42`` is 42). Keys tell tunnels with the
    same endpoints apart; they travel in clear in every packet, so they are no secret."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text == 'none':
            return 'none'
        if text.count('.') == 3:
            try:
                return int(ipaddress.IPv4Address(text))
            except ValueError:
                pass
    number = integer(value, 0)
    if number is None or isinstance(value, bool) or not 0 <= number <= KEY_MAX:
        raise TunnelError('a GRE key must be a number 0-%d, a dotted quad such as 0.0.0.42, or "none", not %s'
                          % (KEY_MAX, quoted(value)))
    return number


def _norm_address_list(values):
    """What a store holds: see ``_values.address_list``."""
    return address_list(values, TunnelError)


def _norm_addresses(values):
    """The task's ``addresses``: see ``_values.task_addresses``."""
    return task_addresses(values, TunnelError)


def _norm_int(low, high, what):
    return int_in_range(low, high, what, TunnelError, show_hex=True)


# rtm_priority is a 32-bit unsigned attribute: anything outside is not a metric the kernel has.
METRIC_MAX = 2 ** 32 - 1
# The metric the kernel gives a route added without one ("ip route" shows IPv6's as 1024).
DEFAULT_METRIC = {4: 0, 6: 1024}
# An IPv4 link must carry 68 bytes (RFC 791); 65535 is the largest IP packet.
MTU_MIN, MTU_MAX = 68, 65535


# Routing tables by name, as /etc/iproute2/rt_tables has them; "local" (255) is the kernel's own.
RT_TABLE_MAIN = 254
TABLE_NAMES = {'main': RT_TABLE_MAIN, 'default': 253}
TABLE_MAX = 2 ** 32 - 1
ROUTE_KEYS = ('dest', 'via', 'metric', 'table', 'src', 'from')


def _norm_table(value, where):
    """A routing table: a number 1-4294967295 but 255 (local), or main/default; main (254) is
    None in the canonical form, so a route in the main table has no ``table`` key at all.
    ``where``: the route or rule, for the message."""
    if value in (None, ''):
        return None
    number = TABLE_NAMES.get(value.strip().lower()) if isinstance(value, str) else None
    if number is None:
        number = integer(value)
    if number is None or not 1 <= number <= TABLE_MAX or number == 255:
        raise TunnelError('%s: table %s must be a number 1-%d other than 255 (the kernel\'s local table), '
                          'or main or default' % (where, quoted(value), TABLE_MAX))
    return None if number == RT_TABLE_MAIN else number


def _route_address(value, version, dest, key):
    """A route's ``via`` or ``src``: an IP address of the destination's family (``version``)."""
    try:
        address = parsed(ipaddress.ip_address, value.strip())
    except (AttributeError, ValueError):
        raise TunnelError('route to %s: %s %s is not an IP address' % (dest, key, quoted(value)))
    if address.version != version:
        raise TunnelError('route to %s: %s %s is of the other address family' % (dest, key, address))
    return address


def _norm_route_src(value, version, dest):
    """The preferred source address of a route (``ip route ... src``), of the destination's family."""
    if value in (None, ''):
        return None
    address = _route_address(value, version, dest, 'src')
    if address.is_multicast or address.is_unspecified:
        raise TunnelError('route to %s: src %s is not a unicast address this router could send from' % (dest, address))
    return str(address)


def _norm_route_from(value, version, dest):
    """The source prefix of a source-specific route (``ip route ... from``): IPv6 only, the IPv4
    routing table has no source prefix (a rule to another table does that); ::/0 is none."""
    if value in (None, ''):
        return None
    try:
        network = parsed(_any_network, value.strip())
    except (AttributeError, ValueError):
        raise TunnelError('route to %s: from %s is not a network such as 2001:db8:1::/48' % (dest, quoted(value)))
    if version == 4 or network.version == 4:
        raise TunnelError('route to %s: from %s - only IPv6 routes can have a source prefix; for IPv4, put the route in '
                          'its own table and add a rule for the source (ip rule)' % (dest, network))
    return None if network.prefixlen == 0 else network.with_prefixlen


def _norm_route(route):
    """``{dest, via, metric}`` and, when set, ``table``, ``src`` and ``from``: dest as a network,
    via compressed (None: on-link), metric with the kernel's default made explicit (0 for IPv4,
    1024 for IPv6); a route in the main table, with no preferred source and no source prefix, has
    only the three keys (the form it always had)."""
    if not isinstance(route, dict):
        raise TunnelError('route %s must be a dict with dest (and optional via, metric, table, src, from)' % quoted(route))
    if not _ROUTE_KEY_SET.issuperset(route):
        unknown = set(route) - _ROUTE_KEY_SET
        raise TunnelError('route %s has unknown keys: %s' % (quoted(route), ', '.join(sorted(quoted(k) for k in unknown))))
    dest = route.get('dest')
    try:
        version, dest = parsed(_version_and_text, dest.strip())
    except (AttributeError, ValueError):
        raise TunnelError('route dest %s is not a network such as ::/0 or 198.51.100.0/24; every route needs one'
                          % quoted(dest))
    via = route.get('via')
    if via not in (None, ''):
        via_addr = _route_address(via, version, dest, 'via')
        if via_addr.is_multicast or via_addr.is_loopback or via_addr.is_unspecified or str(via_addr) == '255.255.255.255':
            raise TunnelError('route to %s: via %s is not a unicast address, so it cannot be a gateway; give the '
                              'gateway\'s address on the tunnel, or omit via for an on-link route' % (dest, via_addr))
        via = str(via_addr)
    else:
        via = None
    metric = route.get('metric')
    if metric in (None, ''):
        metric = DEFAULT_METRIC[version]
    number = integer(metric)
    if number is None or not 0 <= number <= METRIC_MAX:
        raise TunnelError('route to %s: metric %s must be a number between 0 and %d' % (dest, quoted(metric), METRIC_MAX))
    out = {'dest': dest, 'via': via, 'metric': number}
    for key, normalise in _ROUTE_OPTIONALS:
        value = route.get(key)
        if value is not None:   # each normaliser's None (and '': none either) is no key
            value = normalise(value, version, dest)
            if value is not None:
                out[key] = value
    return out


def _any_network(text):
    """A network, host bits cleared (a route's destination)."""
    return ipaddress.ip_network(text, strict=False)


def _version_and_text(text):
    """The IP version of a network (:func:`_any_network`) and its canonical text, host bits
    cleared, for :func:`parsed` to remember both. A plain ``a.b.c.d/len`` skips ipaddress's
    parser and objects (a bulk task names a route per tunnel), and is its own canonical text
    when it has no host bits."""
    plain = plain_ipv4_prefix(text)
    if plain is not None:
        packed, length = plain
        number = int.from_bytes(packed, 'big')
        network = number & (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
        return 4, text if network == number else '%s/%d' % (socket.inet_ntop(socket.AF_INET, network.to_bytes(4, 'big')), length)
    network = _any_network(text)
    return network.version, network.with_prefixlen


_ROUTE_KEY_SET = frozenset(ROUTE_KEYS)


def _norm_route_table(value, _version, dest):
    """A route's ``table`` (:func:`_norm_table`), with the other route options' arguments."""
    return _norm_table(value, 'route to %s' % dest)


_ROUTE_OPTIONALS = (('table', _norm_route_table), ('src', _norm_route_src), ('from', _norm_route_from))


def _route_sort_key(route):
    return (route['dest'], route['via'] or '', route['metric'], route.get('table') or RT_TABLE_MAIN,
            route.get('from') or '', route.get('src') or '')


def _norm_routes(routes):
    """Routes as :func:`_norm_route` makes them, sorted (a store's view: see :func:`_norm_route_list`)."""
    if len(routes) == 1:   # a tunnel's usual one: sorted as it is
        return [_norm_route(routes[0])]
    return sorted((_norm_route(r) for r in routes), key=_route_sort_key)


def _norm_route_list(routes):
    """The task's ``routes`` as :func:`_norm_routes` does, refusing two routes to one destination
    with one metric in one table (from one source prefix): the kernel keys a link's routes by those
    (IPv4 refuses the second, IPv6 would merge them into a multipath route this module does not
    manage), and dropping a repeat hides it."""
    seen = {}
    for route in routes:
        route = _norm_route(route)
        key = (route['dest'], route['metric'], route.get('table'), route.get('from'))
        if key in seen:
            raise TunnelError('routes lists the route to %s with metric %d%s%s twice (via %s and via %s); list it '
                              'once, or give each its own metric'
                              % (key[0], key[1], '' if key[2] is None else ' in table %d' % key[2],
                                 '' if key[3] is None else ' from %s' % key[3],
                                 seen[key]['via'] or 'on-link', route['via'] or 'on-link'))
        seen[key] = route
    return sorted(seen.values(), key=_route_sort_key)


RULE_KEYS = ('priority', 'table', 'from', 'to', 'iif')
# The kernel's own rules sit at 0 (local), 32766 (main) and 32767 (default).
RULE_PRIORITY_MAX = 32765


def _rule_prefix(value, key, where):
    if value in (None, ''):
        return None
    try:
        return parsed(_any_network, value.strip()).with_prefixlen
    except (AttributeError, ValueError):
        raise TunnelError('%s: %s %s is not a network such as 192.0.2.0/24 or 2001:db8:1::/48' % (where, key, quoted(value)))


def _norm_rule(rule):
    """``{priority, table, from, to, iif}``: a policy rule sending what matches its source prefix,
    destination prefix and incoming interface to ``table``; keys it does not use are None."""
    if not isinstance(rule, dict):
        raise TunnelError('rule %s must be a dict with priority, table and from or to' % quoted(rule))
    unknown = set(rule) - set(RULE_KEYS)
    if unknown:
        raise TunnelError('rule %s has unknown keys: %s' % (quoted(rule), ', '.join(sorted(quoted(k) for k in unknown))))
    priority = integer(rule.get('priority'))
    if priority is None or not 1 <= priority <= RULE_PRIORITY_MAX:
        raise TunnelError('rule %s: priority %s must be a number 1-%d (0, 32766 and 32767 are the kernel\'s own rules)'
                          % (quoted(rule), quoted(rule.get('priority')), RULE_PRIORITY_MAX))
    where = 'rule %d' % priority
    out = {'priority': priority, 'from': _rule_prefix(rule.get('from'), 'from', where),
           'to': _rule_prefix(rule.get('to'), 'to', where), 'iif': None}
    if out['from'] is None and out['to'] is None:
        raise TunnelError('%s needs from or to (a prefix, which also says the address family)' % where)
    if out['from'] and out['to'] and (':' in out['from']) != (':' in out['to']):
        raise TunnelError('%s: from %s and to %s are of different address families' % (where, out['from'], out['to']))
    if rule.get('iif') not in (None, ''):
        problem = link_name_problem(rule['iif'])
        if problem is not None:
            raise TunnelError('%s: iif %s is not a valid interface name: %s' % (where, quoted(rule['iif']), problem))
        out['iif'] = rule['iif']
    table = _norm_table(rule.get('table'), where) if rule.get('table') not in (None, '') else None
    if table is None:
        raise TunnelError('%s needs table, a table other than main that this tunnel\'s routes use' % where)
    out['table'] = table
    return out


def _rule_sort_key(rule):
    return (rule['priority'], rule['table'], rule['from'] or '', rule['to'] or '', rule['iif'] or '')


def _norm_rules(rules):
    """Rules as :func:`_norm_rule` makes them, sorted (a store's view)."""
    return sorted((_norm_rule(r) for r in rules), key=_rule_sort_key)


def _norm_rule_list(rules):
    """The task's ``rules``, refusing one listed twice (the kernel would refuse the second)."""
    seen = {}
    for rule in rules:
        rule = _norm_rule(rule)
        key = (rule['priority'], rule['from'], rule['to'], rule['iif'], ':' in (rule['from'] or rule['to']))
        if key in seen:
            raise TunnelError('rules lists rule %d (from %s, to %s) twice; list it once'
                              % (rule['priority'], rule['from'] or 'all', rule['to'] or 'all'))
        seen[key] = rule
    return sorted(seen.values(), key=_rule_sort_key)


def _norm_sixrd_prefix(value):
    """An IPv6 network, compressed (host bits cleared, as the kernel stores it)."""
    try:
        network = ipaddress.IPv6Network(str(value).strip(), strict=False)
    except ValueError:
        raise TunnelError('sixrd_prefix %s is not an IPv6 prefix such as 2001:db8::/32' % quoted(value))
    if '/' not in str(value) or network.prefixlen == 0:
        raise TunnelError('sixrd_prefix %s needs a prefix length between 1 and 64 (e.g. 2001:db8::/32)' % quoted(value))
    return network.with_prefixlen


def _norm_sixrd_relay_prefix(value):
    """An IPv4 network, compressed (host bits cleared): the IPv4 bits all 6rd nodes share."""
    try:
        network = ipaddress.IPv4Network(str(value).strip(), strict=False)
    except ValueError:
        raise TunnelError('sixrd_relay_prefix %s is not an IPv4 prefix such as 192.0.2.0/24 or 0.0.0.0/0'
                          % quoted(value))
    return network.with_prefixlen


# The field table. The stores map fields to their own names: _tunnel_kernel to IFLA_IPTUN_* data
# and iproute2 words, _tunnel_networkd to .netdev/.network keys.
TABLE = ObjectTable('tunnel', [
    Field('name', required=True),
    Field('type', normalise=_norm_type, update=RECREATE,
          choices=sorted(list(TYPES) + list(TYPE_ALIASES))),
    Field('local'),
    Field('remote'),
    Field('ttl', type='int', normalise=_norm_int(0, 255, 'ttl'), aliases=['hoplimit']),
    Field('tos', type='raw', normalise=_norm_tos, aliases=['tclass']),
    Field('pmtudisc', type='bool'),
    Field('encaplimit', type='raw', normalise=_norm_encaplimit),
    Field('flowlabel', type='int', normalise=_norm_int(0, 0xFFFFF, 'flowlabel')),
    Field('ikey', type='raw', normalise=_norm_key, secret=False),
    Field('okey', type='raw', normalise=_norm_key, secret=False),
    Field('icsum', type='bool'),
    Field('ocsum', type='bool'),
    Field('iseq', type='bool'),
    Field('oseq', type='bool'),
    # The task's shorthands for both directions: desired_tunnel spreads them over the pairs above,
    # so they live in no store (never read, never compared).
    Field('key', type='raw', normalise=_norm_key, secret=False, stores=()),
    Field('csum', type='bool', stores=()),
    Field('seq', type='bool', stores=()),
    Field('sixrd_prefix', normalise=_norm_sixrd_prefix),
    Field('sixrd_relay_prefix', normalise=_norm_sixrd_relay_prefix),
    Field('mtu', type='int', normalise=_norm_int(MTU_MIN, MTU_MAX, 'mtu')),
    Field('link'),
    Field('enabled', type='bool', default=True),
    Field('addresses', type='list', elements='str', normalise=_norm_addresses),
    Field('routes', type='list', elements='dict', normalise=_norm_route_list,
          options={'dest': {'type': 'str', 'required': True},
                   'via': {'type': 'str'},
                   'metric': {'type': 'int'},
                   'table': {'type': 'raw'},
                   'src': {'type': 'str'},
                   'from': {'type': 'str'}}),
    Field('rules', type='list', elements='dict', normalise=_norm_rule_list,
          options={'priority': {'type': 'int', 'required': True},
                   'table': {'type': 'raw', 'required': True},
                   'from': {'type': 'str'},
                   'to': {'type': 'str'},
                   'iif': {'type': 'str'}}),
])

FIELD_NAMES = tuple(f.name for f in TABLE)

# Fields that only some kinds have: the others are None in the canonical form.
IP4_OUTER_FIELDS = ('ttl', 'tos', 'pmtudisc')
IP6_OUTER_FIELDS = ('ttl', 'tos', 'encaplimit', 'flowlabel')
GRE_FIELDS = ('ikey', 'okey', 'icsum', 'ocsum', 'iseq', 'oseq')
# shorthand -> the pair it sets
GRE_SHORTHANDS = {'key': ('ikey', 'okey'), 'csum': ('icsum', 'ocsum'), 'seq': ('iseq', 'oseq')}
KIND_FIELDS = {
    'ipip': IP4_OUTER_FIELDS,
    'sit': IP4_OUTER_FIELDS,
    'ip6tnl': IP6_OUTER_FIELDS,
    'gre': IP4_OUTER_FIELDS + GRE_FIELDS,
    'gretap': IP4_OUTER_FIELDS + GRE_FIELDS,
    'ip6gre': IP6_OUTER_FIELDS + GRE_FIELDS,
    'ip6gretap': IP6_OUTER_FIELDS + GRE_FIELDS,
}
TUNNEL_FIELDS = ('ttl', 'tos', 'pmtudisc', 'encaplimit', 'flowlabel') + GRE_FIELDS
# kind -> the tunnel fields it does not have (a task giving one is refused)
OTHER_KINDS_FIELDS = dict((kind, tuple(name for name in TUNNEL_FIELDS if name not in fields))
                          for kind, fields in KIND_FIELDS.items())
# Everything IFLA_INFO_DATA carries: a change to any of them resends the whole set.
LINK_PARAMETERS = ('local', 'remote', 'link') + TUNNEL_FIELDS + SIXRD_FIELDS


def check_name(name):
    """Refuse a tunnel name that is not literal (see ``_names``) or is a kernel fallback device.

    The name becomes the link, the networkd file names and their ``[Match] Name=``, which
    networkd reads as a list of globs: ``e*`` or ``!he0`` there would put the tunnel's addresses,
    routes and ``ActivationPolicy=`` on other interfaces."""
    problem = link_name_problem(name)
    if problem is not None:
        raise TunnelError('tunnel name %s is not a valid interface name: %s, because it becomes the link, its networkd file names '
                          'and their [Match] Name=, which networkd reads as a pattern; choose a literal name such '
                          'as he-ipv6' % (quoted(name), problem))
    if name in FALLBACK_DEVICES:
        raise TunnelError('tunnel name %s is the kernel\'s fallback tunnel device, which the kernel owns; choose '
                          'another name' % name)


def check_link(name):
    """Refuse an underlay ``link`` that is not a literal interface name (it is looked up by
    name, and written to ``commands``)."""
    problem = link_name_problem(name)
    if problem is not None:
        raise TunnelError('underlay link %s is not a valid interface name: %s; give the underlay device\'s name as "ip link" '
                          'shows it' % (quoted(name), problem))


def desired_tunnel(params, resolve=resolve_endpoint):
    """Task parameters of one tunnel -> canonical dict (``None``: leave as found).

    Applies the rules the argument spec cannot say: endpoint family, type-specific fields and
    iproute2's defaults for the kind (the kernel zeroes what a change leaves out, so every
    tunnel parameter gets a definite value).
    """
    check_name(params.get('name'))
    if params.get('link') is not None:
        check_link(params['link'])
    values = TABLE.normalise(params)
    ttype = values['type']
    if ttype is None:
        raise TunnelError('%s: type is required when state=present' % params['name'])
    if ttype not in TYPES:
        raise TunnelError('%s: unknown tunnel type %s' % (params['name'], quoted(params['type'])))
    spec = TYPES[ttype]
    kind = spec['kind']
    family = spec['family']
    where = 'tunnel %s' % params['name']
    for key in ('local', 'remote'):
        if params.get(key) == '':  # an unset variable templated to '': never a silent "any"
            raise TunnelError('%s: %s is empty; give an address or a host name, or omit %s' % (where, key, key))

    if params.get('local') is None:  # only an omitted local means any ('' is refused above)
        if ttype == '6to4':
            raise TunnelError('%s: type 6to4 needs local (the public IPv4 address of this site)' % where)
        if ttype == '6rd':
            raise TunnelError('%s: type 6rd needs local (this router\'s IPv4 address in the 6rd domain)' % where)
        values['local'] = 'any'
    else:
        values['local'] = _resolved(params['local'], family, '%s local' % where, resolve)
    if spec.get('remote_any'):
        if params.get('remote') not in (None, ''):
            raise TunnelError('%s: type %s takes no remote (packets go to the IPv4 address embedded '
                              'in each %s destination)' % (where, ttype, '2002::/16' if ttype == '6to4' else '6rd prefix'))
        values['remote'] = 'any'
    elif params.get('remote') in (None, ''):
        raise TunnelError('%s: type %s needs remote' % (where, ttype))
    else:
        values['remote'] = _resolved(params['remote'], family, '%s remote' % where, resolve)
        if values['remote'] == values['local']:
            raise TunnelError('%s: remote %s is the same address as local; remote is the far end of the tunnel'
                              % (where, values['remote']))

    _gre_shorthands(values, kind, where)
    for name in OTHER_KINDS_FIELDS[kind]:
        if values[name] is not None:
            raise TunnelError('%s: %s does not apply to type %s (%s)' % (where, name, ttype, kind))
    if kind in GRE_KINDS:
        # no key, checksum or sequence number unless asked, as iproute2 makes a GRE link
        for name in GRE_FIELDS:
            if values[name] is None:
                values[name] = 'none' if name.endswith('key') else False
    if family == 6:
        values['ttl'] = IP6_DEFAULT_HOPLIMIT if values['ttl'] is None else values['ttl']
        values['encaplimit'] = IP6_DEFAULT_ENCAPLIMIT if values['encaplimit'] is None else values['encaplimit']
        values['flowlabel'] = values['flowlabel'] or 0
    else:
        values['ttl'] = IP4_DEFAULT_TTL if values['ttl'] is None else values['ttl']
        values['pmtudisc'] = True if values['pmtudisc'] is None else values['pmtudisc']
        if values['ttl'] and not values['pmtudisc']:
            raise TunnelError('%s: a fixed ttl (%d) needs pmtudisc (the kernel refuses ttl with '
                              'nopmtudisc); use ttl 0 (inherit) or pmtudisc: true' % (where, values['ttl']))
    values['tos'] = 0 if values['tos'] is None else values['tos']
    if kind in IPV4_TOS_KINDS:
        values['tos'] = tos_of_byte(values['tos'])   # a 1 is what the kernel makes of it, and reads back: inherit
    _sixrd(values, ttype, where)
    _rules_reach_own_tables(values, where)
    if values['link'] is not None:
        if values['link'] == params['name']:
            raise TunnelError('%s: link %s is the tunnel itself; the underlay is the device the outer packets '
                              'leave by, such as eth0' % (where, values['link']))
    return values


def route_tables(routes):
    """The tables other than main that ``routes`` use: a tunnel's rules are those leading there."""
    return set(route['table'] for route in routes or () if route.get('table'))


def _rules_reach_own_tables(values, where):
    """A tunnel's rules lead to its own tables: that is how the kernel view tells them apart from
    other rules (the kernel ties a rule to no link)."""
    tables = route_tables(values['routes'])
    for rule in values['rules'] or ():
        if rule['table'] not in tables:
            raise TunnelError('%s: rule %d leads to table %d, which none of this tunnel\'s routes use; a tunnel\'s rules '
                              'lead to its own tables (give a route in table %d, or the rule to the tunnel whose routes '
                              'are there)' % (where, rule['priority'], rule['table'], rule['table']))


def _gre_shorthands(values, kind, where):
    """Spread ``key``, ``csum`` and ``seq`` over their in/out pair; a pair member given as well must
    agree. The shorthands then leave the canonical form (they live in no store)."""
    for short, pair in GRE_SHORTHANDS.items():
        value, values[short] = values[short], None
        if value is None:
            continue
        if kind not in GRE_KINDS:
            raise TunnelError('%s: %s applies to the GRE types only (gre, ip6gre, gretap, ip6gretap), not %s'
                              % (where, short, kind))
        for name in pair:
            if values[name] is not None and values[name] != value:
                raise TunnelError('%s: %s %s and %s %s disagree; give %s for both directions, or %s and %s'
                                  % (where, short, value, name, values[name], short, pair[0], pair[1]))
            values[name] = value


def _sixrd(values, ttype, where):
    """The 6rd fields belong to type 6rd, which needs the prefix; the kernel refuses a 6rd
    delegated prefix longer than /64 (prefix length + 32 - relay prefix length)."""
    if ttype != '6rd':
        for name in SIXRD_FIELDS:
            if values[name] is not None:
                raise TunnelError('%s: %s applies to type 6rd only, not %s' % (where, name, ttype))
        return
    if values['sixrd_prefix'] is None:
        raise TunnelError('%s: type 6rd needs sixrd_prefix (the ISP\'s 6rd prefix, e.g. 2001:db8::/32)' % where)
    if values['sixrd_relay_prefix'] is None:
        values['sixrd_relay_prefix'] = SIXRD_DEFAULT_RELAY_PREFIX
    prefixlen = int(values['sixrd_prefix'].split('/')[1])
    relaylen = int(values['sixrd_relay_prefix'].split('/')[1])
    if prefixlen + 32 - relaylen > 64:
        raise TunnelError('%s: sixrd_prefix /%d with sixrd_relay_prefix /%d gives /%d delegated prefixes; '
                          'the kernel allows at most /64' % (where, prefixlen, relaylen, prefixlen + 32 - relaylen))


def _resolved(value, family, what, resolve):
    try:
        return resolve(value, family, what)
    except ResolveError as exc:
        raise TunnelError(str(exc))
