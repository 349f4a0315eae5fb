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


_BROADCAST = ipaddress.IPv4Address('255.255.255.255')
_CLASS_E = ipaddress.IPv4Network('240.0.0.0/4')


def _check_usable(address, what):
    """Refuse addresses no tunnel endpoint can have."""
    problems = (
        (address.is_unspecified, 'unspecified'),
        (address.is_multicast, 'multicast'),
        (address.is_loopback, 'loopback'),
        (address.version == 4 and address == _BROADCAST, 'broadcast'),
        (address.version == 4 and address in _CLASS_E and not address.is_unspecified, 'reserved (240.0.0.0/4)'),
    )
    for bad, word in problems:
        if bad:
            raise ResolveError('%s %s is a %s address and cannot be a tunnel endpoint' % (what, address, word))


def _parse(text):
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
