# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Turning tunnel endpoints given as names or addresses into exactly one address.

The rule comes from illumos ``dladm create-iptun``: a name must resolve to exactly one address
of the tunnel's outer family; anything else is an error that lists what it did resolve to, so
the user can see why (a host with both A and AAAA records is fine, two A records are not).
"""

from __future__ import annotations

import ipaddress
import socket

__all__ = ['ResolveError', 'resolve_endpoint', 'canonical_address', 'FAMILY_NAMES']

FAMILY_NAMES = {4: 'IPv4', 6: 'IPv6'}


class ResolveError(ValueError):
    pass


_IPV4_PROBLEMS = (
    # (test on the address as an int, word): the rules of ipaddress's properties (used for IPv6
    # below) as integer tests, which cost a ninth as much: bulk mode checks every endpoint.
    (lambda n: n == 0, 'unspecified'),
    (lambda n: n >> 28 == 0xE, 'multicast'),
    (lambda n: n >> 24 == 127, 'loopback'),
    (lambda n: n == 0xFFFFFFFF, 'broadcast'),
    (lambda n: n >> 28 == 0xF, 'reserved (240.0.0.0/4)'),
)


def _check_usable(address, what):
    """Refuse addresses no tunnel endpoint can have."""
    if address.version == 4:
        number = int(address)
        problems = ((bad(number), word) for bad, word in _IPV4_PROBLEMS)
    else:
        problems = ((address.is_unspecified, 'unspecified'), (address.is_multicast, 'multicast'),
                    (address.is_loopback, 'loopback'))
    for bad, word in problems:
        if bad:
            raise ResolveError('%s %s is a %s address and cannot be a tunnel endpoint' % (what, address, word))


def _parse(text):
    """An address literal -> IPv4Address/IPv6Address, anything else -> None.

    A plain dotted quad (one that inet_ntop gives back unchanged) skips ipaddress's pure-Python
    parser, which costs about three times as much and which bulk mode pays for every endpoint;
    every other text gets ipaddress's own rules."""
    try:
        packed = socket.inet_pton(socket.AF_INET, text)
    except (OSError, ValueError):
        packed = None
    if packed is not None and socket.inet_ntop(socket.AF_INET, packed) == text:
        return ipaddress.IPv4Address(packed)
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _canonical(address, family, what):
    if address.version != family:
        raise ResolveError('%s %s is an %s address, but this tunnel type carries its packets over %s'
                           % (what, address, FAMILY_NAMES[address.version], FAMILY_NAMES[family]))
    _check_usable(address, what)
    return str(address)


def canonical_address(text, family, what):
    """``text`` as a compressed address of ``family`` (4 or 6), or ResolveError."""
    address = _parse(str(text).strip())
    if address is None:
        raise ResolveError('%s %r is not an IP address' % (what, text))
    return _canonical(address, family, what)


def resolve_endpoint(text, family, what, getaddrinfo=socket.getaddrinfo):
    """Address or host name -> one compressed address of ``family``.

    ``getaddrinfo`` is injectable so the rule is unit-tested without a resolver.
    """
    text = str(text).strip()
    address = _parse(text)
    if address is not None:
        return _canonical(address, family, what)
    if ':' in text:  # a malformed IPv6 literal is no host name
        raise ResolveError('%s %r is not an IP address' % (what, text))
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    try:
        infos = getaddrinfo(text, None, af, socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise ResolveError('%s %r does not resolve to an %s address: %s' % (what, text, FAMILY_NAMES[family], exc))
    found = sorted(set(str(ipaddress.ip_address(info[4][0].split('%')[0])) for info in infos))
    if len(found) != 1:
        raise ResolveError('%s %r must resolve to exactly one %s address, but resolves to %d: %s'
                           % (what, text, FAMILY_NAMES[family], len(found), ', '.join(found) or 'none'))
    return canonical_address(found[0], family, what)
