# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Kernel IP tunnels (ipip, sit, ip6tnl) as one field table, and the two stores they live in.

The canonical form of a tunnel is a flat dict of the fields in :data:`TABLE`. Both the task's
parameters and what the kernel / the networkd files report are turned into that form before
they are compared, so a drift report names exact fields (``ttl: 64 -> 10``).
"""

from __future__ import annotations

import errno
import ipaddress

from ansible_collections.edgenet.router.plugins.module_utils._engine import (
    Field, ObjectTable, RECREATE, RUNTIME, Store, CREATE, DELETE, MODIFY,
)
from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError, change_link, change_tunnel, delete_link, new_link
from ansible_collections.edgenet.router.plugins.module_utils._resolve import ResolveError, resolve_endpoint
from ansible_collections.edgenet.router.plugins.module_utils._values import address_list, int_in_range, integer, removed, task_addresses

__all__ = [
    'TABLE',
    'TYPES',
    'TYPE_ALIASES',
    'FALLBACK_DEVICES',
    'MANAGED_ALIAS',
    'TunnelError',
    'desired_tunnel',
    'from_kernel',
    'kernel_data',
    'KernelTunnels',
    'iproute2_commands',
]

# Kernel fallback devices, created when the module loads: never ours to manage.
FALLBACK_DEVICES = ('tunl0', 'sit0', 'ip6tnl0')

# The IFLA_IFALIAS the collection puts on links it made: how purge and iptun_info tell ours
# from foreign links without a state file (the alias lives and dies with the link).
MANAGED_ALIAS = 'edgenet.router'

IPPROTO_IPIP = 4
IPPROTO_IPV6 = 41

# type -> kernel kind, IFLA_IPTUN_PROTO, outer (underlay) family, whether remote is any.
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
}
TYPE_ALIASES = {'4in4': 'ipip', '6in4': 'sit', '6in6': 'ip6ip6', '4in6': 'ipip6'}
KINDS = ('ipip', 'sit', 'ip6tnl')

# ip6tnl flags (include/uapi/linux/ip6_tunnel.h)
IP6_TNL_F_IGN_ENCAP_LIMIT = 0x1
IP6_TNL_F_USE_ORIG_TCLASS = 0x2
IP6_TNL_F_USE_ORIG_FLOWLABEL = 0x4
IP6_FLOWINFO_TCLASS = 0x0FF00000
IP6_FLOWINFO_FLOWLABEL = 0x000FFFFF

# ipip/sit: a TOS of 1 means "inherit from the inner packet" (iproute2 prints "tos inherit").
IPTUN_TOS_INHERIT = 1

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


def _norm_route(route):
    """``{dest, via, metric}``: dest as a network, via compressed (None: on-link),
    metric with the kernel's default made explicit (0 for IPv4, 1024 for IPv6)."""
    if not isinstance(route, dict):
        raise TunnelError('route %s must be a dict with dest (and optional via, metric)' % quoted(route))
    unknown = set(route) - set(('dest', 'via', 'metric'))
    if unknown:
        raise TunnelError('route %s has unknown keys: %s' % (quoted(route), ', '.join(sorted(quoted(k) for k in unknown))))
    dest = route.get('dest')
    try:
        dest = ipaddress.ip_network(dest.strip(), strict=False)
    except (AttributeError, ValueError):
        raise TunnelError('route dest %s is not a network such as ::/0 or 198.51.100.0/24; every route needs one'
                          % quoted(dest))
    via = route.get('via')
    if via not in (None, ''):
        try:
            via_addr = ipaddress.ip_address(via.strip())
        except (AttributeError, ValueError):
            raise TunnelError('route to %s: via %s is not an IP address' % (dest, quoted(via)))
        if via_addr.version != dest.version:
            raise TunnelError('route to %s: via %s is of the other address family' % (dest, via_addr))
        if via_addr.is_multicast or via_addr.is_loopback or via_addr.is_unspecified or str(via_addr) == '255.255.255.255':
            raise TunnelError('route to %s: via %s is not a unicast address, so it cannot be a gateway; give the '
                              'gateway\'s address on the tunnel, or omit via for an on-link route' % (dest, via_addr))
        via = str(via_addr)
    else:
        via = None
    metric = route.get('metric')
    if metric in (None, ''):
        metric = 1024 if dest.version == 6 else 0
    number = integer(metric)
    if number is None or not 0 <= number <= METRIC_MAX:
        raise TunnelError('route to %s: metric %s must be a number between 0 and %d' % (dest, quoted(metric), METRIC_MAX))
    return {'dest': dest.with_prefixlen, 'via': via, 'metric': number}


def _route_sort_key(route):
    return (route['dest'], route['via'] or '', route['metric'])


def _norm_routes(routes):
    """Routes as :func:`_norm_route` makes them, sorted (a store's view: see :func:`_norm_route_list`)."""
    return sorted((_norm_route(r) for r in routes), key=_route_sort_key)


def _norm_route_list(routes):
    """The task's ``routes`` as :func:`_norm_routes` does, refusing two routes to one destination
    with one metric: the kernel keys a link's routes by both (IPv4 refuses the second, IPv6 would
    merge them into a multipath route this module does not manage), and dropping a repeat hides it."""
    seen = {}
    for route in routes:
        route = _norm_route(route)
        key = (route['dest'], route['metric'])
        if key in seen:
            raise TunnelError('routes lists the route to %s with metric %d twice (via %s and via %s); list it '
                              'once, or give each its own metric' % (key[0], key[1], seen[key]['via'] or 'on-link',
                                                                     route['via'] or 'on-link'))
        seen[key] = route
    return sorted(seen.values(), key=_route_sort_key)


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


# The field table. ``networkd`` names (section, key) in the .netdev/.network files; ``ip`` is the
# iproute2 keyword used in the ``commands`` result.
TABLE = ObjectTable('tunnel', [
    Field('name', required=True),
    Field('type', normalise=_norm_type, update=RECREATE,
          choices=sorted(list(TYPES) + list(TYPE_ALIASES))),
    Field('local'),
    Field('remote'),
    Field('ttl', type='int', normalise=_norm_int(0, 255, 'ttl'), aliases=['hoplimit'], ip='ttl'),
    Field('tos', type='raw', normalise=_norm_tos, aliases=['tclass'], ip='tos'),
    Field('pmtudisc', type='bool', ip='pmtudisc'),
    Field('encaplimit', type='raw', normalise=_norm_encaplimit, ip='encaplimit'),
    Field('flowlabel', type='int', normalise=_norm_int(0, 0xFFFFF, 'flowlabel'), ip='flowlabel'),
    Field('sixrd_prefix', normalise=_norm_sixrd_prefix, ip='6rd-prefix'),
    Field('sixrd_relay_prefix', normalise=_norm_sixrd_relay_prefix, ip='6rd-relay_prefix'),
    Field('mtu', type='int', normalise=_norm_int(68, 65535, 'mtu')),
    Field('link'),
    Field('enabled', type='bool', default=True),
    Field('addresses', type='list', elements='str', normalise=_norm_addresses),
    Field('routes', type='list', elements='dict', normalise=_norm_route_list,
          options={'dest': {'type': 'str', 'required': True},
                   'via': {'type': 'str'},
                   'metric': {'type': 'int'}}),
])

FIELD_NAMES = tuple(f.name for f in TABLE)

# Fields that only some kinds have: the others are None in the canonical form.
KIND_FIELDS = {
    'ipip': ('ttl', 'tos', 'pmtudisc'),
    'sit': ('ttl', 'tos', 'pmtudisc'),
    'ip6tnl': ('ttl', 'tos', 'encaplimit', 'flowlabel'),
}
TUNNEL_FIELDS = ('ttl', 'tos', 'pmtudisc', 'encaplimit', 'flowlabel')
# Everything IFLA_INFO_DATA carries: a change to any of them resends the whole set.
LINK_PARAMETERS = ('local', 'remote', 'link') + TUNNEL_FIELDS + SIXRD_FIELDS


def check_name(name):
    """Refuse a tunnel name that is not literal (see ``_names``) or is a kernel fallback device.

    The name becomes the link, the networkd file names and their ``[Match] Name=``, which
    networkd reads as a list of globs: ``e*`` or ``!he0`` there would put the tunnel's addresses,
    routes and ``ActivationPolicy=`` on other interfaces."""
    problem = link_name_problem(name)
    if problem is not None:
        raise TunnelError('tunnel name %s is refused: %s, because it becomes the link, its networkd file names '
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
        raise TunnelError('underlay link %s is refused: %s; give the underlay device\'s name as "ip link" '
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

    for name in TUNNEL_FIELDS:
        if name not in KIND_FIELDS[kind] and values[name] is not None:
            raise TunnelError('%s: %s does not apply to type %s (%s)' % (where, name, ttype, kind))
    if kind == 'ip6tnl':
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
    _sixrd(values, ttype, where)
    if values['link'] is not None:
        if values['link'] == params['name']:
            raise TunnelError('%s: link %s is the tunnel itself; the underlay is the device the outer packets '
                              'leave by, such as eth0' % (where, values['link']))
    return values


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


# ---- kernel <-> canonical -------------------------------------------------------------------
def _type_of(kind, data):
    proto = data.get('proto')
    remote = data.get('remote')
    if kind == 'ipip':
        return 'ipip'
    if kind == 'sit':
        if proto == 0:
            return 'ipv4'
        if remote not in (None, '0.0.0.0'):
            return 'sit'
        return '6rd' if _sixrd_of(data) is not None else '6to4'
    return {IPPROTO_IPV6: 'ip6ip6', IPPROTO_IPIP: 'ipip6', 0: 'ipv6'}.get(proto, 'ip6ip6')


def _sixrd_of(data):
    """``(prefix, relay prefix)`` of a sit device with a 6rd configuration; None for the
    kernel's default (2002::/16, relay 0.0.0.0/0), which is plain 6to4."""
    if not data.get('6rd_prefixlen'):
        return None
    prefix = '%s/%d' % (ipaddress.IPv6Address(data.get('6rd_prefix') or '::'), data['6rd_prefixlen'])
    relay = '%s/%d' % (ipaddress.IPv4Address(data.get('6rd_relay_prefix') or '0.0.0.0'),
                       data.get('6rd_relay_prefixlen') or 0)
    if (prefix, relay) == (SIXRD_DEFAULT_PREFIX, SIXRD_DEFAULT_RELAY_PREFIX):
        return None
    return prefix, relay


def _endpoint(value):
    """The seam's endpoint text -> canonical form. Its IPv4 text (inet_ntop) already is; its
    IPv6 text goes through ipaddress, whose form for IPv4-mapped addresses differs by version."""
    if value in (None, '0.0.0.0', '::'):
        return 'any'
    return str(ipaddress.ip_address(value)) if ':' in value else value


def _tunnel_addresses(kind, addresses):
    """Leave out the IPv4-compatible ::a.b.c.d/96 addresses the kernel adds to sit devices."""
    if kind != 'sit':
        return addresses
    return [a for a in addresses if not (a.endswith('/96') and ipaddress.ip_interface(a).ip in ipaddress.ip_network('::/96'))]


def from_kernel(link, addresses, routes, index_names):
    """A link as read by the netlink seam -> canonical tunnel dict."""
    kind = link['kind']
    data = link['data']
    obj = dict.fromkeys(FIELD_NAMES)
    obj.update({
        'name': link['name'],
        'type': _type_of(kind, data),
        'local': _endpoint(data.get('local')),
        'remote': _endpoint(data.get('remote')),
        'ttl': data.get('ttl', 0),
        'mtu': link['mtu'],
        'link': index_names.get(data.get('link')) if data.get('link') else None,
        'enabled': link['up'],
        'addresses': _norm_address_list(_tunnel_addresses(kind, addresses)) if addresses else [],
        'routes': _norm_routes(routes) if routes else [],
    })
    if kind == 'ip6tnl':
        flags = data.get('flags', 0) or 0
        flowinfo = data.get('flowinfo', 0) or 0
        obj['encaplimit'] = 'none' if flags & IP6_TNL_F_IGN_ENCAP_LIMIT else data.get('encap_limit', 0)
        obj['tos'] = 'inherit' if flags & IP6_TNL_F_USE_ORIG_TCLASS else (flowinfo & IP6_FLOWINFO_TCLASS) >> 20
        obj['flowlabel'] = flowinfo & IP6_FLOWINFO_FLOWLABEL
    else:
        tos = data.get('tos', 0) or 0
        obj['tos'] = 'inherit' if tos == IPTUN_TOS_INHERIT else tos
        obj['pmtudisc'] = bool(data.get('pmtudisc', 1))
    if obj['type'] == '6rd':
        obj['sixrd_prefix'], obj['sixrd_relay_prefix'] = _sixrd_of(data)
    return obj


def kernel_data(obj, link_index):
    """Canonical tunnel -> the complete IFLA_INFO_DATA set for the seam (short names)."""
    spec = TYPES[obj['type']]
    kind = spec['kind']
    any_addr = '0.0.0.0' if spec['family'] == 4 else '::'
    data = {
        'local': any_addr if obj['local'] == 'any' else obj['local'],
        'remote': any_addr if obj['remote'] == 'any' else obj['remote'],
        'ttl': obj['ttl'],
        'proto': spec['proto'],
        'link': link_index or 0,
    }
    if kind == 'ip6tnl':
        flags = 0
        flowinfo = obj['flowlabel'] or 0
        if obj['encaplimit'] == 'none':
            flags |= IP6_TNL_F_IGN_ENCAP_LIMIT
            data['encap_limit'] = 0
        else:
            data['encap_limit'] = obj['encaplimit']
        if obj['tos'] == 'inherit':
            flags |= IP6_TNL_F_USE_ORIG_TCLASS
        else:
            flowinfo |= (obj['tos'] or 0) << 20
        data['flags'] = flags
        data['flowinfo'] = flowinfo
    else:
        data['tos'] = IPTUN_TOS_INHERIT if obj['tos'] == 'inherit' else obj['tos']
        data['pmtudisc'] = 1 if obj['pmtudisc'] else 0
    if obj['type'] == '6rd':
        prefix = ipaddress.IPv6Network(obj['sixrd_prefix'])
        relay = ipaddress.IPv4Network(obj['sixrd_relay_prefix'])
        data.update({'6rd_prefix': str(prefix.network_address), '6rd_prefixlen': prefix.prefixlen,
                     '6rd_relay_prefix': str(relay.network_address), '6rd_relay_prefixlen': relay.prefixlen})
    return kind, data


# ---- iproute2 equivalents -----------------------------------------------------------------
def _ip(netns):
    return 'ip -n %s' % netns if netns else 'ip'


def _link_params(obj):
    spec = TYPES[obj['type']]
    kind = spec['kind']
    words = ['type', kind]
    if kind == 'sit' or kind == 'ip6tnl':
        mode = {IPPROTO_IPV6: 'ip6ip6' if kind == 'ip6tnl' else 'ip6ip', IPPROTO_IPIP: 'ipip6' if kind == 'ip6tnl' else 'ipip',
                0: 'any'}[spec['proto']]
        words += ['mode', mode]
    words += ['local', obj['local'], 'remote', obj['remote']]
    if kind == 'ip6tnl':
        words += ['hoplimit', str(obj['ttl']), 'encaplimit', str(obj['encaplimit']),
                  'tclass', str(obj['tos']), 'flowlabel', str(obj['flowlabel'])]
    else:
        words += ['ttl', str(obj['ttl']) if obj['ttl'] else 'inherit', 'tos', str(obj['tos']),
                  'pmtudisc' if obj['pmtudisc'] else 'nopmtudisc']
    if obj['type'] == '6rd':
        words += ['6rd-prefix', obj['sixrd_prefix'], '6rd-relay_prefix', obj['sixrd_relay_prefix']]
    if obj.get('link'):
        words += ['dev', obj['link']]
    return ' '.join(words)


def iproute2_commands(change, netns=None):
    """The ``ip`` commands a person would type for a runtime change."""
    ip = _ip(netns)
    name = change.key
    if change.action == DELETE:
        return ['%s link del %s' % (ip, name)]
    before = change.before if change.action == MODIFY else {}
    after = change.after
    cmds = []
    if change.action in (CREATE, RECREATE):
        if change.action == RECREATE:
            cmds.append('%s link del %s' % (ip, name))
        cmds.append('%s link add %s %s' % (ip, name, _link_params(after)))
        before = {}
    elif any(f in change.fields for f in LINK_PARAMETERS):
        cmds.append('%s link set %s %s' % (ip, name, _link_params(after)))
    if after.get('mtu') is not None and after.get('mtu') != before.get('mtu'):
        cmds.append('%s link set %s mtu %s' % (ip, name, after['mtu']))
    for address in removed(before.get('addresses'), after.get('addresses')):
        cmds.append('%s addr del %s dev %s' % (ip, address, name))
    for address in removed(after.get('addresses'), before.get('addresses') or []):
        cmds.append('%s addr add %s dev %s' % (ip, address, name))
    if after.get('enabled') is not None and after.get('enabled') != before.get('enabled'):
        cmds.append('%s link set %s %s' % (ip, name, 'up' if after['enabled'] else 'down'))
    for route in removed(before.get('routes'), after.get('routes')):
        cmds.append('%s route del %s dev %s' % (ip, _route_words(route), name))
    for route in removed(after.get('routes'), before.get('routes') or []):
        cmds.append('%s route add %s dev %s' % (ip, _route_words(route), name))
    return cmds


def _lists_change(before, after):
    """Whether a write adds or removes addresses or routes."""
    return any(removed(before.get(f), after.get(f)) or removed(after.get(f), before.get(f) or [])
               for f in ('addresses', 'routes'))


def _route_words(route):
    words = [route['dest']]
    if route.get('via'):
        words += ['via', route['via']]
    words += ['metric', str(route['metric'])]
    return ' '.join(words)


# ---- the runtime store ----------------------------------------------------------------------
class KernelTunnels(Store):
    """Tunnels in one network namespace, through the netlink seam.

    Reads every ipip/sit/ip6tnl link but the fallback devices; ``managed()`` tells which carry
    the collection's alias. Writes send the complete parameter set (see kernel_data).
    """

    name = RUNTIME
    verifies = True  # the engine checks its re-read against every change (see _engine.unkept)

    def __init__(self, netlink, netns=None):
        self.nl = netlink
        self.netns = netns
        self._links = None
        self._stale = True

    def _refresh(self):
        links = self.nl.links()
        self._links = dict((link['name'], link) for link in links)
        self._index_names = dict((link['index'], link['name']) for link in links)
        self._stale = False

    def _dump(self):
        """The links as last dumped: one dump serves the checks before planning and the read.
        After a write it is stale for read(), but its indexes still serve the lookups (a
        change keeps a link's index; created links are looked up by name, deleted ones
        dropped)."""
        if self._links is None:
            self._refresh()
        return self._links

    def read(self):
        if self._stale:
            self._refresh()
        links = self._dump()
        # One dump each of links, addresses and routes, whatever the number of tunnels.
        addresses = self.nl.addresses()
        routes = self.nl.routes()
        out = {}
        for name, link in links.items():
            if link['kind'] not in KINDS or name in FALLBACK_DEVICES:
                continue
            out[name] = from_kernel(link, addresses.get(link['index'], []), routes.get(link['index'], []),
                                    self._index_names)
        return out

    def managed(self):
        """Names of tunnels this collection made (they carry MANAGED_ALIAS)."""
        return set(name for name, link in self._dump().items()
                   if link['kind'] in KINDS and link.get('alias') == MANAGED_ALIAS)

    def foreign_kind(self, name):
        """The kind of a non-tunnel link holding ``name`` (never touched), or None."""
        link = self._dump().get(name)
        if link is not None and link['kind'] not in KINDS:
            return link['kind'] or 'device'
        return None

    def _index(self, name):
        """Index of an existing link (the underlay ``link``; a tunnel being changed)."""
        if name is None:
            return 0
        link = (self._links or {}).get(name)
        index = link['index'] if link is not None else self.nl.link_index(name)
        if index is None:
            raise TunnelError('underlay link %s does not exist' % name)
        return index

    def _dumped_index(self, name):
        """Index of a link as last dumped, without a lookup: None when unknown."""
        if name is None:
            return 0
        link = (self._links or {}).get(name)
        return link['index'] if link is not None else None

    def _link_calls(self, action, key, before, after, index_of):
        """The link requests of a create or modify, in order: the link itself (kind data,
        MTU, up/down, the alias), never its addresses or routes. ``index_of`` names links:
        None from it means "unknown", and then so is the answer (None)."""
        underlay = index_of(after.get('link'))
        if underlay is None:
            return None
        if action == CREATE:
            kind, data = kernel_data(after, underlay)
            # One request makes the link with its MTU and state; the alias needs a second.
            return [new_link(key, kind, data, mtu=after.get('mtu'), up=after.get('enabled')),
                    change_link(name=key, alias=MANAGED_ALIAS)]
        index = index_of(key)
        if index is None:
            return None
        calls = []
        if any(before.get(f) != after.get(f) for f in LINK_PARAMETERS):
            kind, data = kernel_data(after, underlay)
            calls.append(change_tunnel(index, key, kind, data))
        if after.get('mtu') is not None and after['mtu'] != before.get('mtu'):
            calls.append(change_link(index=index, name=key, mtu=after['mtu']))
        if after.get('enabled') is not None and after['enabled'] != before.get('enabled'):
            calls.append(change_link(index=index, name=key, up=after['enabled']))
        return calls

    def _one_by_one(self, calls):
        for call in calls:
            error = self.nl.link_writes([call])[0]
            if error is not None:
                raise error

    def create(self, key, obj):
        self._one_by_one(self._link_calls(CREATE, key, None, obj, self._index))
        self._stale = True
        self._addresses_and_routes(key, None, {}, obj)

    def modify(self, key, before, after):
        self._one_by_one(self._link_calls(MODIFY, key, before, after, self._index))
        self._stale = True
        self._addresses_and_routes(key, self._index(key), before, after)

    def _addresses_and_routes(self, name, index, before, after):
        if not _lists_change(before, after):
            return
        index = index or self.nl.link_index(name)
        for address in removed(before.get('addresses'), after.get('addresses')):
            self.nl.del_address(index, address)
        for address in removed(after.get('addresses'), before.get('addresses') or []):
            self.nl.add_address(index, address)
        # Routes need the link up and its addresses in place (a gateway must be on-link).
        for route in removed(before.get('routes'), after.get('routes')):
            try:
                self.nl.del_route(index, route)
            except NetlinkError as exc:
                # Gone already, as the delete wants (a rollback after networkd reloaded the
                # tunnel's files); the engine's verify still checks what the kernel holds.
                if exc.code != errno.ESRCH:
                    raise
        for route in removed(after.get('routes'), before.get('routes') or []):
            self.nl.add_route(index, route)

    def delete(self, key, obj):
        link = (self._links or {}).pop(key, None)
        index = link['index'] if link is not None else self.nl.link_index(key)
        self._stale = True
        if index is not None:
            self.nl.del_link(index, key)

    # ---- many writes at once (the engine's batches) ---------------------------------------------
    batches = True

    def _batch_calls(self, action, key, before, after):
        """The link requests of a write that can go in a batch, or None: a write that changes
        addresses or routes, or names a link the dump did not show, goes one at a time."""
        if action == DELETE:
            index = self._dumped_index(key)
            return None if index is None else [delete_link(index, key)]
        if _lists_change(before or {}, after):
            return None
        return self._link_calls(action, key, before or {}, after, self._dumped_index)

    def write_many(self, writes):
        """Consecutive writes that are link requests only go to the kernel as one batch (see
        RtnlSocket.request_many); the others one at a time, in order. Stops after the first
        failed batch or write; the writes of that batch after the failure were done."""
        outcomes, batch, calls = [], [], []
        for action, key, before, after in writes:
            link_calls = self._batch_calls(action, key, before, after)
            if link_calls is not None:
                batch.append((action, key, len(link_calls)))
                calls.extend(link_calls)
                continue
            outcomes.extend(self._send_batch(batch, calls))
            batch, calls = [], []
            if any(outcomes):
                return outcomes
            try:
                self.write(action, key, before, after)
            except Exception as exc:  # pylint: disable=broad-except
                return outcomes + [exc]
            outcomes.append(None)
        return outcomes + self._send_batch(batch, calls)

    def _send_batch(self, batch, calls):
        """One outcome per write of ``batch``: the first error among its requests, or None."""
        if not batch:
            return []
        errors = self.nl.link_writes(calls)
        self._stale = True
        outcomes, start = [], 0
        for action, key, count in batch:
            mine = [error for error in errors[start:start + count] if error is not None]
            start += count
            outcomes.append(mine[0] if mine else None)
            if action == DELETE and not mine:
                self._links.pop(key, None)
        return outcomes

    def commands(self, change):
        return iproute2_commands(change, self.netns)
