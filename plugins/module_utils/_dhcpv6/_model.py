# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The neutral model of DHCPv6 service on one interface, as an engine field table.

odhcpd's model: each interface is a DHCPv6 ``server``, a ``relay`` towards an upstream
interface, or ``disabled``. Every backend (Kea, dnsmasq) renders this model and parses its own
files and running state back into it, so the comparison is always between canonical dicts.

The canonical form is complete for the interface's mode: every field that applies has a
definite value (odhcpd's defaults made explicit), and fields of the other mode are ``None``.
A disabled interface is no object at all (the engine's "absent"). The fields' normalisers live
in ``_normalisers``; the names this module offers from there stay importable from here.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.edgenet.router.plugins.module_utils._engine import Field, ObjectTable
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._normalisers import (
    MANAGED_OPTION_CODES, OPTION_TYPES, Dhcpv6Error, check_interface_name, norm_addresses, norm_choice,
    norm_domains, norm_extra_options, norm_hex, norm_ifname, norm_pd, norm_pool, norm_pools, norm_reservations,
    norm_servers, norm_subnet, norm_unicast, norm_user_classes, pool_bounds, uint,
)

__all__ = [
    'ALL_DHCP_SERVERS',
    'DEFAULTS',
    'Dhcpv6Error',
    'MANAGED_OPTION_CODES',
    'OPTION_TYPES',
    'RELAY_DEFAULTS',
    'RELAY_FIELDS',
    'SERVER_FIELDS',
    'TABLE',
    'check_interface_name',
    'desired_service',
    'norm_hex',
    'norm_pool',
    'pick_router_address',
    'pool_bounds',
    'public_view',
]

# RFC 8415 All_DHCP_Servers (site scope): where odhcpd relays when no server is named.
ALL_DHCP_SERVERS = 'ff05::1:3'

# odhcpd's values, made explicit so both backends send the same thing.
DEFAULTS = {
    'sol_max_rt': 60,
    'inf_max_rt': 60,
    'information_refresh_time': 600,
    'preferred_lifetime': 3600,
    'valid_lifetime': 7200,
    'rapid_commit': False,
}

SERVER_FIELDS = ('address_mode', 'subnet', 'pools', 'prefix_delegation', 'reservations', 'dns_servers',
                 'domain_search', 'sol_max_rt', 'inf_max_rt', 'information_refresh_time',
                 'preferred_lifetime', 'valid_lifetime', 'rapid_commit', 'ignore_user_class', 'extra_options',
                 'listen_unicast', 'pd_routes')
RELAY_FIELDS = ('upstream_interface', 'servers', 'interface_id', 'hop_limit', 'dns_rewrite')
# RFC 8415 section 7.6 HOP_COUNT_LIMIT (RFC 3315 had 32), and odhcpd's relay, which rewrites no DNS
# server unless told. A backend whose relay fixes the limit itself says so in its defaults (None).
RELAY_DEFAULTS = {'hop_limit': 8, 'dns_rewrite': False}

# The field table. What each backend writes for a field lives in that backend's own tables
# (_kea_config, _dnsmasq_config): two backends, two vocabularies, neither of them the model's.
TABLE = ObjectTable('dhcpv6 interface', [
    Field('interface', required=True, normalise=norm_ifname),
    Field('mode', default='server', normalise=norm_choice('server', 'relay', 'disabled'), choices=['server', 'relay', 'disabled']),
    # -- server
    Field('address_mode', normalise=norm_choice('stateless', 'stateful'), choices=['stateless', 'stateful']),
    Field('subnet', normalise=norm_subnet),
    Field('pools', type='list', elements='str', normalise=norm_pools),
    Field('prefix_delegation', type='list', elements='dict', normalise=norm_pd,
          options={'prefix': {'type': 'str', 'required': True},
                   'delegated_length': {'type': 'int', 'required': True}}),
    Field('reservations', type='list', elements='dict', normalise=norm_reservations,
          options={'duid': {'type': 'str', 'required': True}, 'address': {'type': 'str'},
                   'prefix': {'type': 'str'}}),
    Field('dns_servers', type='list', elements='str', normalise=norm_addresses),
    Field('domain_search', type='list', elements='str', normalise=norm_domains),
    Field('sol_max_rt', type='int', normalise=uint(60, 86400, 'sol_max_rt')),
    Field('inf_max_rt', type='int', normalise=uint(60, 86400, 'inf_max_rt')),
    Field('information_refresh_time', type='int', normalise=uint(600, 0xFFFFFFFF, 'information_refresh_time')),
    Field('preferred_lifetime', type='int', normalise=uint(1, 0xFFFFFFFF, 'preferred_lifetime')),
    Field('valid_lifetime', type='int', normalise=uint(1, 0xFFFFFFFF, 'valid_lifetime')),
    Field('rapid_commit', type='bool'),
    Field('ignore_user_class', type='list', elements='str', normalise=norm_user_classes),
    Field('extra_options', type='list', elements='dict', normalise=norm_extra_options,
          options={'code': {'type': 'int', 'required': True},
                   'type': {'type': 'str', 'default': 'hex', 'choices': list(OPTION_TYPES)},
                   'data': {'type': 'raw', 'required': True}}),
    Field('listen_unicast', normalise=norm_unicast),
    Field('pd_routes', type='bool'),
    # -- relay
    Field('upstream_interface', normalise=norm_ifname),
    Field('servers', type='list', elements='str', normalise=norm_servers),
    Field('interface_id', type='bool'),
    Field('hop_limit', type='int', normalise=uint(1, 32, 'hop_limit')),
    Field('dns_rewrite', type='bool'),
])


def pick_router_address(addresses, subnet=None):
    """The router's own address on an interface, as odhcpd offers it for DNS.

    ``addresses`` are ``addr/len`` strings of the interface. A global address (inside
    ``subnet`` when given, lowest first) is preferred because it works beyond the link and needs
    no zone index in the client's resolver; otherwise the link-local address, odhcpd's choice.
    """
    ifaces = [ipaddress.IPv6Interface(a) for a in addresses if ':' in a]
    globals_ = sorted((i for i in ifaces if not i.ip.is_link_local and not i.ip.is_loopback
                       and (subnet is None or i.ip in ipaddress.IPv6Network(subnet))), key=lambda i: i.ip)
    if globals_:
        return str(globals_[0].ip)
    local = sorted((i for i in ifaces if i.ip.is_link_local), key=lambda i: i.ip)
    return str(local[0].ip) if local else None


def _default_subnet(addresses):
    nets = sorted(set(ipaddress.IPv6Interface(a).network for a in addresses if ':' in a
                      and not ipaddress.IPv6Interface(a).ip.is_link_local
                      and not ipaddress.IPv6Interface(a).ip.is_loopback), key=lambda n: (n.prefixlen, n))
    return nets[0].with_prefixlen if nets else None


def desired_service(params, addresses=None, defaults=None):
    """Task parameters of one interface -> canonical dict, or ``None`` (mode disabled or absent).

    ``addresses`` lists the interface's own addresses (``addr/len``), read at run time: the
    default ``subnet`` is the interface's global prefix, the default ``dns_servers`` the router's
    address there (see pick_router_address). ``defaults`` overrides :data:`DEFAULTS` where a
    backend's own behaviour differs (dnsmasq: one lease time, rapid commit always honoured).
    Checks what the argument spec cannot say: fields of the other mode, pools and reservations
    outside the subnet, stateless with pools.
    """
    iface = check_interface_name(params.get('interface'))
    where = 'interface %s' % iface
    if params.get('state', 'present') == 'absent' or (params.get('mode') or 'server') == 'disabled':
        return None
    values = TABLE.normalise(dict(params, mode=params.get('mode') or 'server'))
    for field in TABLE:   # complete, whatever options the caller passed (a module passes them all)
        values.setdefault(field.name, None)
    mode = values['mode']
    own, other = (SERVER_FIELDS, RELAY_FIELDS) if mode == 'server' else (RELAY_FIELDS, SERVER_FIELDS)
    wrong = [name for name in other if values.get(name) not in (None, [])]
    if wrong:
        raise Dhcpv6Error('%s: %s do(es) not apply to mode %s' % (where, ', '.join(wrong), mode))
    for name in other:
        values[name] = None
    addresses = list(addresses or [])
    if mode == 'relay':
        if not values['upstream_interface']:
            raise Dhcpv6Error('%s: mode relay needs upstream_interface (where the DHCPv6 servers are)' % where)
        if values['upstream_interface'] == iface:
            raise Dhcpv6Error('%s: upstream_interface must be another interface' % where)
        values['servers'] = values['servers'] or [ALL_DHCP_SERVERS]
        values['interface_id'] = bool(values['interface_id'])
        for name, default in RELAY_DEFAULTS.items():
            if values[name] is None:
                values[name] = (defaults or {}).get(name, default)
        return values

    for name in ('pools', 'prefix_delegation', 'reservations', 'domain_search', 'ignore_user_class', 'extra_options'):
        values[name] = values[name] or []
    for name, default in DEFAULTS.items():
        if values[name] is None:
            values[name] = (defaults or {}).get(name, default)
    if values['address_mode'] is None:
        values['address_mode'] = 'stateful' if values['pools'] else 'stateless'
    if values['address_mode'] == 'stateless' and values['pools']:
        raise Dhcpv6Error('%s: address_mode stateless hands out no addresses; remove pools or use stateful' % where)
    if values['address_mode'] == 'stateful' and not values['pools']:
        raise Dhcpv6Error('%s: address_mode stateful needs pools (address ranges to hand out)' % where)
    if values['subnet'] is None:
        values['subnet'] = _default_subnet(addresses)
        if values['subnet'] is None:
            raise Dhcpv6Error('%s has no global IPv6 address to take the subnet from; give the subnet option '
                              'with the prefix of the link (e.g. subnet: 2001:db8:1::/64)' % where)
    subnet = ipaddress.IPv6Network(values['subnet'])
    # The router's own addresses: handing one to a client breaks the link for both.
    own = set(ipaddress.IPv6Interface(a).ip for a in addresses if ':' in a)
    for pool in values['pools']:
        first, last = pool_bounds(pool)
        if first not in subnet or last not in subnet:
            raise Dhcpv6Error('%s: pool %s lies outside the subnet %s' % (where, pool, subnet))
        mine = sorted(a for a in own if first <= a <= last)
        if mine:
            raise Dhcpv6Error('%s: pool %s contains the router\'s own address %s; give a pool that leaves it out '
                              '(e.g. a range starting above it)' % (where, pool, mine[0]))
    if values['listen_unicast'] is None:
        values['listen_unicast'] = ''
    if values['listen_unicast'] and ipaddress.IPv6Address(values['listen_unicast']) not in own:
        raise Dhcpv6Error('%s: listen_unicast %s is not an address of the interface (it has %s): give one of them'
                          % (where, values['listen_unicast'], ', '.join(sorted(str(a) for a in own)) or 'none'))
    for res in values['reservations']:
        if res['address'] and ipaddress.IPv6Address(res['address']) not in subnet:
            raise Dhcpv6Error('%s: reservation %s address %s lies outside the subnet %s'
                              % (where, res['duid'], res['address'], subnet))
        if res['address'] and ipaddress.IPv6Address(res['address']) in own:
            raise Dhcpv6Error('%s: reservation %s address %s is the router\'s own address; reserve another one'
                              % (where, res['duid'], res['address']))
    for pd in values['prefix_delegation']:
        if ipaddress.IPv6Network(pd['prefix']).overlaps(subnet):
            raise Dhcpv6Error('%s: prefix_delegation prefix %s overlaps the subnet %s: delegate prefixes from '
                              'outside the link\'s own subnet' % (where, pd['prefix'], subnet))
    values['pd_routes'] = bool(values['pd_routes'])
    if values['pd_routes'] and not values['prefix_delegation']:
        raise Dhcpv6Error('%s: pd_routes routes the prefixes the server delegates, and prefix_delegation is empty: give '
                          'prefix_delegation or leave pd_routes false' % where)
    if not values['dns_servers']:
        router = pick_router_address(addresses, values['subnet'])
        if router is None:
            raise Dhcpv6Error('%s has no IPv6 address to offer as DNS server: give dns_servers' % where)
        values['dns_servers'] = [router]
    if values['preferred_lifetime'] > values['valid_lifetime']:
        raise Dhcpv6Error('%s: preferred_lifetime %d exceeds valid_lifetime %d'
                          % (where, values['preferred_lifetime'], values['valid_lifetime']))
    return values


def public_view(obj):
    """The model as results show it: the fields of the object's mode only."""
    if obj is None:
        return None
    other = RELAY_FIELDS if obj.get('mode') == 'server' else SERVER_FIELDS
    return dict((k, v) for k, v in sorted(obj.items()) if k not in other)
