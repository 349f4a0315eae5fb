# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""6to4 (RFC 3056) and 6rd (RFC 5969): prefix arithmetic, address rules and the four roles.

Three layers, each usable alone:

* pure arithmetic (``_prefix``: :func:`sixtofour_prefix`, :func:`sixrd_prefix` and their
  inverses), shared with the filter plugins;
* the address rules of 6to4 (:func:`check_sixtofour_ipv4`: a 6to4 prefix embeds the site's
  IPv4 address, so it must be global; RFC 7526's anycast relay is never a default);
* :func:`tunnel_params`: a role (``6to4-site``, ``6to4-relay``, ``6rd-ce``, ``6rd-br``) ->
  the parameters of one ``iptun`` tunnel, which :func:`run_sixtofour` hands to
  ``_iptun.run_iptun``: the device, its stores and the cycle are iptun's, not a copy.
"""

from __future__ import annotations

import copy
import ipaddress

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._iptun import COMMON, run_iptun
from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._prefix import (
    IPV4_BITS, SIXTOFOUR_PREFIX, PrefixError, SixToFourError, check_sixtofour_ipv4, ipv6_host, ipv6_network, not_global,
    sixrd_delegated_prefix, sixrd_masklen, sixrd_prefix, sixtofour_prefix,
)
from ansible_collections.edgenet.router.plugins.module_utils._resolve import ResolveError, resolve_endpoint
from ansible_collections.edgenet.router.plugins.module_utils._task import CONFIRM_OPTION
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import DEFAULT_METRIC, METRIC_MAX, TunnelError, check_name

__all__ = [
    'ANYCAST_RELAY',
    'ERRORS',
    'ROLES',
    'SixToFourError',
    'argument_spec',
    'check_sixtofour_ipv4',
    'interface_ipv4',
    'module_kwargs',
    'run_sixtofour',
    'tunnel_params',
]

# RFC 3068's anycast relay, deprecated by RFC 7526: used only when a task names it.
ANYCAST_RELAY = ipaddress.IPv4Address('192.88.99.1')
DEFAULT_MTU = 1280

ROLES = ('6to4-site', '6to4-relay', '6rd-ce', '6rd-br')

# IPv6 ranges a 6rd prefix cannot be in: its delegated prefixes would be no global unicast.
NOT_SIXRD = [(ipaddress.IPv6Network(net), what) for net, what in (
    ('2002::/16', '6to4 prefix (use a 6to4 role)'),
    ('fe80::/10', 'link-local prefix'),
    ('ff00::/8', 'multicast prefix'),
    ('::/8', 'reserved prefix'),
)]


# ---- rules (the 6to4 address rule itself is _prefix.check_sixtofour_ipv4, shared with the filter) --
def _unicast_ipv4(value, what):
    """An IPv4 literal or a name resolving to exactly one IPv4 address, usable as an endpoint."""
    try:
        return ipaddress.IPv4Address(resolve_endpoint(value, 4, what))
    except ResolveError as exc:
        raise SixToFourError(str(exc))


def _relay_address(value, allow_documentation):
    """``relay`` of a 6to4 site: None for ``none``; 192.88.99.1 only because the task named it."""
    if value in (None, '') or str(value).strip().lower() == 'none':
        return None
    address = _unicast_ipv4(value, 'relay')
    if address == ANYCAST_RELAY:
        return address
    return check_sixtofour_ipv4(address, 'relay', allow_documentation)


def _compat(ipv4):
    """``::a.b.c.d``: a next hop the sit driver sends straight to IPv4 address a.b.c.d."""
    return str(ipaddress.IPv6Address(int(ipv4)))


def _route(dest, via, metric):
    return {'dest': dest, 'via': via, 'metric': metric}


def tunnel_params(params, local):
    """A role and its parameters -> ``(iptun tunnel parameters, facts)``.

    ``local`` is the already chosen IPv4 address; ``facts`` holds the result keys (``prefix``,
    ``address``, ``relay``) and ``warnings``. Raises SixToFourError for what the argument spec
    cannot say.
    """
    role = params['role']
    allow_doc = params.get('allow_documentation_addresses', False)
    metric = params.get('route_metric')
    mtu = DEFAULT_MTU if params.get('mtu') is None else params['mtu']
    wrong = []
    if isinstance(mtu, bool) or not isinstance(mtu, int) or not DEFAULT_MTU <= mtu <= 65535:
        # RFC 8200: IPv6 needs every link to carry 1280 bytes; the kernel drops IPv6 from a smaller one.
        wrong.append('mtu %s must be between %d (the IPv6 minimum) and 65535' % (quoted(mtu), DEFAULT_MTU))
    if metric is not None and (isinstance(metric, bool) or not isinstance(metric, int) or not 0 <= metric <= METRIC_MAX):
        wrong.append('route_metric %s must be between 0 and %d' % (quoted(metric), METRIC_MAX))
    elif metric is not None and role == '6rd-ce' and metric + len(params.get('border_relays') or []) - 1 > METRIC_MAX:
        wrong.append('route_metric %d leaves no room for one metric per border relay (route_metric + n - 1 must '
                     'stay at most %d); choose a smaller route_metric' % (metric, METRIC_MAX))
    if params.get('relay') not in (None, '') and role != '6to4-site':
        wrong.append('relay applies to role 6to4-site only')
    if params.get('border_relays') and role != '6rd-ce':
        wrong.append('border_relays applies to role 6rd-ce only')
    if role.startswith('6to4') and (params.get('sixrd_prefix') or params.get('ipv4_masklen')):
        wrong.append('sixrd_prefix and ipv4_masklen apply to the 6rd roles only')
    if wrong:
        raise SixToFourError('; '.join(wrong))
    warnings = []
    relays = []
    tunnel = {'name': params['name'], 'local': str(local), 'ttl': params.get('ttl'),
              'mtu': mtu, 'enabled': True, 'state': 'present'}
    if role.startswith('6to4'):
        check_sixtofour_ipv4(local, 'local', allow_doc)
        prefix = sixtofour_prefix(local)
        tunnel['type'] = '6to4'
        if role == '6to4-site':
            # /16: the kernel then routes all of 2002::/16 into the tunnel, straight to other sites.
            address = '%s/16' % ipv6_host(prefix)
            relay = _relay_address(params.get('relay'), allow_doc)
            routes = []
            if relay is not None and str(relay) == str(local):
                raise SixToFourError('relay %s is this router\'s own local address; name another 6to4 relay, or none'
                                     % relay)
            if relay is not None:
                relays.append(str(relay))
                routes.append(_route('::/0', _compat(relay), metric))
                if relay == ANYCAST_RELAY:
                    warnings.append('relay 192.88.99.1 is the 6to4 anycast relay that RFC 7526 deprecated: '
                                    'replies may come from any relay, or none')
        else:
            # The relay forwards native traffic for any 6to4 site: route the whole 2002::/16.
            address = '%s/128' % ipv6_host(prefix)
            routes = [_route(str(SIXTOFOUR_PREFIX), None, metric)]
    else:
        if not params.get('sixrd_prefix'):
            raise SixToFourError('role %s needs sixrd_prefix (the ISP\'s 6rd prefix, e.g. 2001:db8::/32)' % role)
        masklen = sixrd_masklen(params.get('ipv4_masklen') or 0)
        sixrd = ipv6_network(params['sixrd_prefix'], 'sixrd_prefix')
        for network, kind in NOT_SIXRD:
            if sixrd.overlaps(network):
                raise SixToFourError('sixrd_prefix %s is inside the %s %s, so no delegated prefix in it is routable; '
                                     'give the ISP\'s 6rd prefix (global unicast, such as 2001:db8::/32)'
                                     % (sixrd, kind, network))
        prefix = sixrd_delegated_prefix(local, params['sixrd_prefix'], masklen)
        tunnel.update({'type': '6rd', 'sixrd_prefix': sixrd.with_prefixlen,
                       'sixrd_relay_prefix': ipaddress.IPv4Network((int(local), masklen), strict=False).with_prefixlen})
        if role == '6rd-ce':
            # The 6rd prefix is on-link through the tunnel: other CEs are reached directly.
            address = '%s/%d' % (ipv6_host(prefix), sixrd.prefixlen)
            brs = params.get('border_relays') or []
            if not brs:
                raise SixToFourError('role 6rd-ce needs border_relays (the BR IPv4 address or addresses)')
            routes = []
            for number, value in enumerate(brs):
                br = _unicast_ipv4(value, 'border relay')
                if str(br) == str(local):
                    raise SixToFourError('border relay %s is this router\'s own local address; list the ISP\'s '
                                         'border relays' % quoted(value))
                if str(br) in relays:
                    raise SixToFourError('border_relays lists %s twice (%s); list each border relay once'
                                         % (br, quoted(value)))
                relays.append(str(br))
                # A sit device cannot tell a dead BR: the list is an order of preference.
                base = DEFAULT_METRIC[6] if metric is None else metric
                routes.append(_route('::/0', _compat(br), base + number))
        else:
            address = '%s/128' % ipv6_host(prefix)
            routes = [_route(sixrd.with_prefixlen, None, metric)]
    tunnel['addresses'] = [address]
    tunnel['routes'] = routes
    facts = {'prefix': prefix.with_prefixlen, 'address': address, 'relay': relays, 'warnings': warnings}
    return tunnel, facts


def kernel_relays(tunnel):
    """The relays a tunnel's default routes point to, best first (lowest metric): the IPv4
    address inside each ``::/0 via ::a.b.c.d`` route (RFC 3056/5969 IPv4-compatible next hops).
    Read from the tunnel as the kernel holds it, this is dladm's ``get6to4relay``: which relay the
    router uses now, not what a task asked for."""
    found = []
    for route in (tunnel or {}).get('routes') or []:
        if route.get('dest') != '::/0' or not route.get('via'):
            continue
        try:
            via = int(ipaddress.IPv6Address(route['via']))
        except ValueError:
            continue
        if 0 < via < 1 << IPV4_BITS:
            metric = route.get('metric')
            found.append((1024 if metric is None else metric, str(ipaddress.IPv4Address(via))))
    return [relay for dummy, relay in sorted(found)]


def _previous(current):
    """``{local, prefix, address, relay}`` of the tunnel as it is now, for renumbering; None if
    absent or not a tunnel of this role's type."""
    if current is None or current.get('type') not in ('6to4', '6rd') or current.get('local') in (None, 'any'):
        return None
    try:
        if current['type'] == '6to4':
            prefix = sixtofour_prefix(current['local'])
        else:
            masklen = int(current['sixrd_relay_prefix'].split('/')[1])
            prefix = sixrd_prefix(current['local'], current['sixrd_prefix'], masklen)
    except (SixToFourError, AttributeError, IndexError, TypeError, ValueError):
        return None
    inside = [a for a in current.get('addresses') or [] if ipaddress.ip_interface(a).ip in prefix]
    return {'local': current['local'], 'prefix': prefix.with_prefixlen, 'address': inside[0] if inside else None,
            'relay': kernel_relays(current)}


# ---- the module --------------------------------------------------------------------------------
def argument_spec():
    spec = {
        'name': {'type': 'str', 'required': True},
        'role': {'type': 'str', 'choices': list(ROLES)},
        'local': {'type': 'str'},
        'local_interface': {'type': 'str'},
        'relay': {'type': 'str'},
        'border_relays': {'type': 'list', 'elements': 'str'},
        'sixrd_prefix': {'type': 'str'},
        'ipv4_masklen': {'type': 'int', 'default': 0},
        'allow_documentation_addresses': {'type': 'bool', 'default': False},
        'mtu': {'type': 'int', 'default': DEFAULT_MTU},
        'ttl': {'type': 'int'},
        'route_metric': {'type': 'int'},
        'state': {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']},
    }
    spec.update(copy.deepcopy(COMMON))
    spec.update(copy.deepcopy(CONFIRM_OPTION))
    return spec


def module_kwargs():
    return {
        'argument_spec': argument_spec(),
        'supports_check_mode': True,
        'mutually_exclusive': [('local', 'local_interface')],
        'required_if': [
            ('state', 'present', ('role',)),
            ('state', 'present', ('local', 'local_interface'), True),
            ('role', '6rd-ce', ('sixrd_prefix', 'border_relays')),
            ('role', '6rd-br', ('sixrd_prefix',)),
        ],
    }


def interface_ipv4(netlink, name, role, allow_documentation=False):
    """The one usable IPv4 address of interface ``name`` (global for the 6to4 roles), or an
    error that lists what the interface has and why each was passed over."""
    problem = link_name_problem(name)
    if problem is not None:
        raise SixToFourError('local_interface %s is not a valid interface name: %s; give the interface name as "ip link" shows it'
                             % (quoted(name), problem))
    index = netlink.link_index(name)
    if index is None:
        raise SixToFourError('local_interface %s does not exist' % name)
    found = [a.split('/')[0] for a in netlink.addresses().get(index, []) if ':' not in a]
    usable, refused = [], []
    for text in found:
        address = ipaddress.IPv4Address(text)
        if role.startswith('6to4'):
            problem = not_global(address, allow_documentation)
        elif address.is_loopback or address.is_link_local:
            problem = ('loopback' if address.is_loopback else 'link-local', None)
        else:
            problem = None
        if problem is None:
            usable.append(address)
        else:
            refused.append('%s (%s)' % (text, problem[0]))
    if len(usable) == 1:
        return usable[0]
    if not usable:
        raise SixToFourError('local_interface %s has no IPv4 address this role can use%s' % (
            name, ': it has ' + ', '.join(refused) if refused else ' (it has none)'))
    raise SixToFourError('local_interface %s has %d usable IPv4 addresses (%s): name one with local'
                         % (name, len(usable), ', '.join(str(a) for a in usable)))


def run_sixtofour(params, runtime, persistent=None, check_mode=False, confirm=None):
    """The sixtofour_relay module's behaviour. ``runtime`` is a KernelTunnels-like store (its
    ``nl`` answers ``local_interface``); ``persistent`` a NetworkdTunnels-like store or None;
    ``confirm`` as for ``run_iptun`` (the tunnel is an iptun change: it rolls back as one).
    The tunnel goes through ``run_iptun``: same device code, same stores, same cycle."""
    facts = {'prefix': None, 'address': None, 'relay': [], 'warnings': []}
    previous_local = None
    check_name(params.get('name'))  # before anything: the name travels to files and their [Match]
    if params.get('state', 'present') == 'absent':
        tunnel = {'name': params['name'], 'state': 'absent'}
    else:
        if params.get('local_interface') is not None:  # '' too: interface_ipv4 refuses it by name
            local = interface_ipv4(runtime.nl, params['local_interface'], params['role'],
                                   params.get('allow_documentation_addresses', False))
        else:
            local = _unicast_ipv4(params['local'], 'local')
        tunnel, facts = tunnel_params(params, local)
        previous_local = str(local)
    iptun_params = dict(tunnel, tunnels=None, purge=False)
    for key in COMMON:
        iptun_params[key] = params.get(key, COMMON[key].get('default'))
    result = run_iptun(iptun_params, runtime, persistent, check_mode=check_mode, confirm=confirm)
    before = result['diff']['before'].get(engine.RUNTIME)
    previous = _previous(before)
    result.update({
        'prefix': facts['prefix'],
        'address': facts['address'],
        # From the tunnel as the runtime store holds it after the task (read back from the kernel;
        # in check mode, as it would be), not the task's own list.
        'relay': kernel_relays(result.get('tunnel')),
        'previous': previous,
        'warnings': facts['warnings'] + result['warnings'],
    })
    if previous is not None and previous_local is not None and previous['prefix'] != facts['prefix']:
        result['warnings'].append('the delegated prefix changes from %s to %s (local %s -> %s): renumber the LANs '
                                  'that use it' % (previous['prefix'], facts['prefix'], previous['local'],
                                                   previous_local))
    return result


# What the module turns into fail_json besides the engine's and the seams' errors.
ERRORS = (PrefixError, TunnelError)
