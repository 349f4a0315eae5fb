# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Pure IPv4/IPv6 prefix arithmetic, on the standard library's ``ipaddress`` only.

Shared by the filter plugins (run on the controller) and the modules (run on the router), so
a template and a module can never disagree about a prefix; of the rest of the collection it
imports only ``_names.quoted``. Every function takes text or ``ipaddress`` objects, returns
``ipaddress`` objects and raises :class:`PrefixError` naming the value and the rule.

* 6to4 (RFC 3056) and 6rd (RFC 5969): :func:`sixtofour_prefix`, :func:`sixrd_prefix` and their
  inverses :func:`sixtofour_ipv4`, :func:`sixrd_ipv4`;
* the one 6to4 address rule, :func:`check_sixtofour_ipv4` (a 6to4 prefix embeds the IPv4
  address, so it must be global), for the filter and the sixtofour_relay module alike;
* subnets and hosts of an IPv6 prefix: :func:`ipv6_subnet` (the n-th /64 of a /48),
  :func:`ipv6_host` (the router's ``::1`` in a /64).
"""

from __future__ import annotations

import ipaddress

from ansible_collections.edgenet.router.plugins.module_utils._names import quoted

__all__ = [
    'DOCUMENTATION_RANGES',
    'NOT_GLOBAL',
    'PrefixError',
    'SIXTOFOUR_PREFIX',
    'SixToFourError',
    'check_sixtofour_ipv4',
    'ipv4_address',
    'ipv6_host',
    'ipv6_network',
    'ipv6_subnet',
    'not_global',
    'sixrd_delegated_prefix',
    'sixrd_ipv4',
    'sixrd_masklen',
    'sixrd_prefix',
    'sixtofour_ipv4',
    'sixtofour_prefix',
]

# RFC 3056 section 2: every 6to4 site prefix is 2002:V4ADDR::/48.
SIXTOFOUR_PREFIX = ipaddress.IPv6Network('2002::/16')
SIXTOFOUR_SITE_LENGTH = 48
# A delegated 6rd prefix is a CE's LAN prefix: SLAAC (RFC 4862 on Ethernet, RFC 2464) needs a /64
# on a LAN, and the kernel's sit driver refuses 6rd prefix + 32 - relay prefix > 64.
SIXRD_LONGEST = 64
IPV4_BITS = 32
IPV6_BITS = 128


# IPv4 ranges a 6to4 address cannot embed: nobody on the IPv4 Internet can send to them, so no
# relay or other 6to4 site could reach the prefix. (Own table rather than ipaddress.is_global,
# whose answers differ between Python versions, and so the message can say which range.)
NOT_GLOBAL = [(ipaddress.IPv4Network(net), what) for net, what in (
    ('0.0.0.0/8', '"this network" address (RFC 791)'),
    ('10.0.0.0/8', 'private address (RFC 1918)'),
    ('100.64.0.0/10', 'shared address for carrier-grade NAT (RFC 6598)'),
    ('127.0.0.0/8', 'loopback address'),
    ('169.254.0.0/16', 'link-local address'),
    ('172.16.0.0/12', 'private address (RFC 1918)'),
    ('192.0.0.0/24', 'IETF protocol assignment (RFC 6890)'),
    ('192.88.99.0/24', '6to4 anycast relay address (RFC 3068, deprecated by RFC 7526)'),
    ('192.168.0.0/16', 'private address (RFC 1918)'),
    ('198.18.0.0/15', 'benchmarking address (RFC 2544)'),
    ('224.0.0.0/4', 'multicast address'),
    ('240.0.0.0/4', 'reserved address'),
)]
DOCUMENTATION_RANGES = [ipaddress.IPv4Network(net) for net in ('192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24')]
# What a task does about a non-global address: the sixtofour_relay module's advice (callers
# such as the filter pass their own).
NOT_GLOBAL_FIX = 'Behind NAT, use a tunnel broker (edgenet.router.iptun, type sit) instead'
DOCUMENTATION_FIX = 'set allow_documentation_addresses: true for labs and tests'


class PrefixError(ValueError):
    """Bad input for a prefix computation: raised before anything is touched."""


class SixToFourError(PrefixError):
    """Bad input for 6to4 or 6rd: an address 6to4 cannot embed, or a role's parameters the
    argument spec cannot refuse. Raised before anything is touched."""


def _number(value, what):
    """A whole number from an int or its decimal text; bools and the rest are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PrefixError('%s must be a whole number, not %s' % (what, quoted(value)))
    try:
        return int(value)
    except ValueError:
        raise PrefixError('%s must be a whole number, not %s' % (what, quoted(value)))


def ipv4_address(value, what='address'):
    """An IPv4 address from its text (surrounding blanks ignored)."""
    try:
        return ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        raise PrefixError('%s %s is not an IPv4 address' % (what, quoted(value)))


def ipv6_network(value, what):
    """An IPv6 network from its text, host bits cleared (``2001:db8::5/64`` is ``2001:db8::/64``)."""
    try:
        return ipaddress.IPv6Network(str(value).strip(), strict=False)
    except ValueError:
        raise PrefixError('%s %s is not an IPv6 prefix such as 2001:db8::/32' % (what, quoted(value)))


def sixrd_masklen(value):
    """The 6rd ``ipv4_masklen``: a number 0-32, as an int or its text."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PrefixError('ipv4_masklen must be a number 0-32, not %s' % quoted(value))
    try:
        number = int(value)
    except ValueError:
        raise PrefixError('ipv4_masklen must be a number 0-32, not %s' % quoted(value))
    if not 0 <= number <= IPV4_BITS:
        raise PrefixError('ipv4_masklen must be between 0 and 32, not %d' % number)
    return number


# ---- 6to4 and 6rd ------------------------------------------------------------------------------
def not_global(address, allow_documentation=False):
    """``(kind, range)`` when IPv4 ``address`` cannot carry a 6to4 prefix, else None."""
    for network, kind in NOT_GLOBAL:
        if address in network:
            return kind, network
    for network in DOCUMENTATION_RANGES:
        if address in network and not allow_documentation:
            return 'documentation address (RFC 5737)', network
    return None


def check_sixtofour_ipv4(address, what, allow_documentation=False, fix=NOT_GLOBAL_FIX, documentation_fix=DOCUMENTATION_FIX):
    """The IPv4 address, or SixToFourError when a 6to4 prefix cannot be built on it (see
    NOT_GLOBAL; documentation ranges only with ``allow_documentation``). ``fix`` and
    ``documentation_fix`` end the message: what the caller's user can do instead."""
    address = ipv4_address(address, what)
    problem = not_global(address, allow_documentation)
    if problem is None:
        return address
    kind, network = problem
    if network in DOCUMENTATION_RANGES:
        raise SixToFourError('%s %s is a %s in %s, which is not routed on the Internet; %s'
                             % (what, address, kind, network, documentation_fix))
    raise SixToFourError('%s %s is a %s in %s: 6to4 embeds the IPv4 address in the IPv6 prefix, so it must be '
                         'a global address every 6to4 router and relay can send to. %s' % (what, address, kind, network, fix))


def sixtofour_prefix(ipv4):
    """IPv4 address -> its 6to4 site prefix ``2002:VVVV:VVVV::/48`` (RFC 3056 section 2)."""
    address = ipv4_address(ipv4)
    shift = IPV6_BITS - SIXTOFOUR_PREFIX.prefixlen - IPV4_BITS
    value = (int(SIXTOFOUR_PREFIX.network_address)) | (int(address) << shift)
    return ipaddress.IPv6Network((value, SIXTOFOUR_SITE_LENGTH))


def sixtofour_ipv4(ipv6):
    """The IPv4 address embedded in a 6to4 address or prefix (anything inside 2002::/16 that
    is /48 or longer)."""
    network = ipv6_network(ipv6, '6to4 address')
    if network.prefixlen < SIXTOFOUR_SITE_LENGTH or not network.subnet_of(SIXTOFOUR_PREFIX):
        raise PrefixError('%s is not a 6to4 address or prefix (inside 2002::/16, /48 or longer)' % network)
    shift = IPV6_BITS - SIXTOFOUR_PREFIX.prefixlen - IPV4_BITS
    return ipaddress.IPv4Address((int(network.network_address) >> shift) & 0xFFFFFFFF)


def _sixrd_parts(sixrd_pfx, ipv4_masklen):
    prefix = ipv6_network(sixrd_pfx, 'sixrd_prefix')
    masklen = sixrd_masklen(ipv4_masklen)
    length = prefix.prefixlen + IPV4_BITS - masklen
    if length > IPV6_BITS:
        raise PrefixError('sixrd_prefix %s with ipv4_masklen %d would need a /%d prefix: longer than 128 '
                          'bits' % (prefix, masklen, length))
    return prefix, masklen, length


def sixrd_prefix(ipv4, sixrd_pfx, ipv4_masklen=0):
    """The 6rd delegated prefix (RFC 5969 section 4): the 6rd prefix followed by the IPv4
    address bits after the first ``ipv4_masklen``, of length prefixlen + 32 - ipv4_masklen."""
    address = ipv4_address(ipv4)
    prefix, masklen, length = _sixrd_parts(sixrd_pfx, ipv4_masklen)
    suffix_bits = IPV4_BITS - masklen
    suffix = int(address) & ((1 << suffix_bits) - 1)
    value = int(prefix.network_address) | (suffix << (IPV6_BITS - length))
    return ipaddress.IPv6Network((value, length))


def sixrd_delegated_prefix(ipv4, sixrd_pfx, ipv4_masklen=0):
    """:func:`sixrd_prefix`, refused when longer than /64: the prefix a CE can hand to a LAN
    (the filter and the sixtofour_relay module; the bare arithmetic goes to /128)."""
    prefix = sixrd_prefix(ipv4, sixrd_pfx, ipv4_masklen)
    if prefix.prefixlen > SIXRD_LONGEST:
        sixrd, masklen, length = _sixrd_parts(sixrd_pfx, ipv4_masklen)
        raise PrefixError('sixrd_prefix /%d with ipv4_masklen %d gives a /%d delegated prefix (%d + 32 - %d), longer '
                          'than /%d: the kernel and SLAAC need /64 or shorter; give a shorter sixrd_prefix or '
                          'an ipv4_masklen of at least %d' % (sixrd.prefixlen, masklen, length, sixrd.prefixlen, masklen,
                                                              SIXRD_LONGEST, sixrd.prefixlen + IPV4_BITS - SIXRD_LONGEST))
    return prefix


def sixrd_ipv4(ipv6, sixrd_pfx, ipv4_masklen=0, ipv4_common=None):
    """The IPv4 address a border relay sends to for ``ipv6`` (inside the 6rd prefix): the
    embedded bits behind the ``ipv4_masklen`` bits of ``ipv4_common`` (what the kernel does
    with its 6rd relay prefix)."""
    address = ipv6_network(ipv6, '6rd address')
    prefix, masklen, length = _sixrd_parts(sixrd_pfx, ipv4_masklen)
    if address.prefixlen < length or not address.subnet_of(prefix):
        raise PrefixError('%s is not inside %s with at least /%d' % (address, prefix, length))
    suffix_bits = IPV4_BITS - masklen
    suffix = (int(address.network_address) >> (IPV6_BITS - length)) & ((1 << suffix_bits) - 1)
    common = int(ipv4_address(ipv4_common or '0.0.0.0', 'ipv4_common')) if masklen else 0
    high = (common >> suffix_bits) << suffix_bits if suffix_bits < IPV4_BITS else 0
    return ipaddress.IPv4Address(high | suffix)


# ---- subnets and hosts -------------------------------------------------------------------------
def ipv6_subnet(prefix, number=0, length=64):
    """Subnet ``number`` (counted from 0) of ``length`` inside ``prefix``: the prefix's bits
    followed by ``number`` in the ``length - prefixlen`` bits after them. ``prefix`` may carry
    host bits (they are cleared); ``number`` must fit in the bits between the two lengths."""
    network = ipv6_network(prefix, 'prefix')
    length = _number(length, 'subnet length')
    if not network.prefixlen <= length <= IPV6_BITS:
        raise PrefixError('subnet length /%d must be between the prefix\'s own /%d and /128 (prefix %s)'
                          % (length, network.prefixlen, network))
    number = _number(number, 'subnet number')
    count = 1 << (length - network.prefixlen)
    if not 0 <= number < count:
        raise PrefixError('subnet number %d is not one of the %d /%d subnets of %s (0 to %d)'
                          % (number, count, length, network, count - 1))
    return ipaddress.IPv6Network((int(network.network_address) | (number << (IPV6_BITS - length)), length))


def ipv6_host(prefix, host=1):
    """Address ``host`` of ``prefix``: the prefix's bits followed by ``host`` in its host bits.
    ``host`` is a number (``1``) or an address holding host bits only (``::1000``), so the
    result is the prefix's ``::1`` or ``::1000``; ``prefix`` may carry host bits (cleared)."""
    network = ipv6_network(prefix, 'prefix')
    if isinstance(host, str) and ':' in host:
        try:
            number = int(ipaddress.IPv6Address(host.strip()))
        except ValueError:
            raise PrefixError('host %s is not a number or an IPv6 address such as ::1' % quoted(host))
    else:
        number = _number(host, 'host')
    if not 0 <= number < network.num_addresses:
        raise PrefixError('host %s does not fit in the %d host bits of %s'
                          % (quoted(host), IPV6_BITS - network.prefixlen, network))
    return ipaddress.IPv6Address(int(network.network_address) | number)
