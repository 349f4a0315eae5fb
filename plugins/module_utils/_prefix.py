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
* subnets and hosts of an IPv6 prefix: :func:`ipv6_subnet` (the n-th /64 of a /48),
  :func:`ipv6_host` (the router's ``::1`` in a /64).
"""

from __future__ import annotations

import ipaddress

from ansible_collections.edgenet.router.plugins.module_utils._names import quoted

__all__ = [
    'PrefixError',
    'SIXTOFOUR_PREFIX',
    'ipv4_address',
    'ipv6_host',
    'ipv6_network',
    'ipv6_subnet',
    'sixrd_ipv4',
    'sixrd_masklen',
    'sixrd_prefix',
    'sixtofour_ipv4',
    'sixtofour_prefix',
]

# RFC 3056 section 2: every 6to4 site prefix is 2002:V4ADDR::/48.
SIXTOFOUR_PREFIX = ipaddress.IPv6Network('2002::/16')
SIXTOFOUR_SITE_LENGTH = 48
IPV4_BITS = 32
IPV6_BITS = 128


class PrefixError(ValueError):
    """Bad input for a prefix computation: raised before anything is touched."""


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
