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
import re
import socket

from ansible_collections.edgenet.router.plugins.module_utils._names import quoted
from ansible_collections.edgenet.router.plugins.module_utils._values import plain_ipv4

__all__ = ['ResolveError', 'resolve_endpoint', 'canonical_address', 'FAMILY_NAMES']

FAMILY_NAMES = {4: 'IPv4', 6: 'IPv6'}

# A host name as DNS carries it (RFC 1123, plus "_" which some internal zones use): labels of
# 1-63 ASCII letters, digits, "-" or "_", at most 253 characters, an optional final dot. Checked
# before getaddrinfo, which raises UnicodeError for a label over 63 characters or an empty one
# (IDNA encoding) and ValueError for a NUL, and would send anything else to the resolver as is.
# An internationalised name is given in its ASCII form (xn--...).
_HOST_LABEL = r'[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?'
_HOST_RE = re.compile(r'(?=.{1,253}\.?\Z)%s(?:\.%s)*\.?\Z' % (_HOST_LABEL, _HOST_LABEL))
HOST_RULE = ('an IP address or a host name of dot-separated labels of 1-63 letters, digits, "-" or "_" '
             '(253 characters at most; an internationalised name in its xn-- form)')


class ResolveError(ValueError):
    pass


def _ipv4_problem(number):
    """What makes the IPv4 address ``number`` (an int) no tunnel endpoint, as a word, or None:
    the rules of ipaddress's properties (used for IPv6 below) as integer tests, which cost a ninth
    as much: bulk mode checks every endpoint. Broadcast is tested before the reserved /4 it lies in."""
    if number == 0:
        return 'unspecified'
    if number >> 28 == 0xE:
        return 'multicast'
    if number >> 24 == 127:
        return 'loopback'
    if number == 0xFFFFFFFF:
        return 'broadcast'
    if number >> 28 == 0xF:
        return 'reserved (240.0.0.0/4)'
    return None


def _ipv6_problem(address):
    """:func:`_ipv4_problem` for an IPv6Address."""
    if address.is_unspecified:
        return 'unspecified'
    if address.is_multicast:
        return 'multicast'
    if address.is_loopback:
        return 'loopback'
    if address.ipv4_mapped is not None:
        # ::ffff:a.b.c.d is an IPv4 host as seen by a dual-stack socket; on the wire it is no IPv6 endpoint.
        return 'IPv4-mapped (::ffff:0:0/96: use an IPv4 tunnel type)'
    return None


def _check_usable(address, what):
    """Refuse an address (an ipaddress object) no tunnel endpoint can have."""
    word = _ipv4_problem(int(address)) if address.version == 4 else _ipv6_problem(address)
    _refuse(word, address, what)


def _refuse(word, address, what):
    """ResolveError when the address (an object or its canonical text) has a problem ``word``."""
    if word is not None:
        article = 'an' if word[0] in 'aeiouAEIOU' else 'a'
        raise ResolveError('%s %s is %s %s address and cannot be a tunnel endpoint' % (what, address, article, word))


def _parse(text):
    """An address literal -> IPv4Address/IPv6Address, anything else -> None. A plain dotted quad
    skips ipaddress's parser (``_values.plain_ipv4``): bulk mode pays it for every endpoint."""
    packed = plain_ipv4(text)
    if packed is not None:
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
    address = _parse(text.strip()) if isinstance(text, str) else None
    if address is None:
        raise ResolveError('%s %s is not an IP address' % (what, quoted(text)))
    return _canonical(address, family, what)


def resolve_endpoint(text, family, what, getaddrinfo=socket.getaddrinfo):
    """Address or host name -> one compressed address of ``family``.

    ``getaddrinfo`` is injectable so the rule is unit-tested without a resolver.
    """
    if not isinstance(text, str):
        raise ResolveError('%s %s is refused: it must be %s' % (what, quoted(text), HOST_RULE))
    text = text.strip()
    packed = plain_ipv4(text) if family == 4 else None
    if packed is not None:  # its own canonical text (see plain_ipv4): no ipaddress object to make
        _refuse(_ipv4_problem(int.from_bytes(packed, 'big')), text, what)
        return text
    address = _parse(text)
    if address is not None:
        return _canonical(address, family, what)
    if ':' in text:  # a malformed IPv6 literal is no host name
        raise ResolveError('%s %s is not an IP address' % (what, quoted(text)))
    if not _HOST_RE.match(text):
        raise ResolveError('%s %s is refused: it must be %s' % (what, quoted(text), HOST_RULE))
    if text.rstrip('.').rsplit('.', 1)[-1].isdigit():
        # A typo'd address (192.0.2.300), not a name: no host name ends in a label of digits only
        # (RFC 3696 section 2). Not looked up: glibc's getaddrinfo reads 192.0.2 as 192.0.0.2 and
        # 3221225985 as 192.0.2.1 (inet_aton shorthand), and sends 192.0.2.300 to DNS.
        form = ' (four numbers 0-255 separated by dots)' if family == 4 else ''
        raise ResolveError('%s %s is not an %s address%s, and not a host name either: a name never ends in digits only'
                           % (what, quoted(text), FAMILY_NAMES[family], form))
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    try:
        infos = getaddrinfo(text, None, af, socket.SOCK_DGRAM)
    except (OSError, UnicodeError, ValueError) as exc:  # gaierror is an OSError
        # Say both readings: a typo'd address that still reads as a name (192.0.2.3O, a letter O) reaches
        # here, and the resolver's "Name or service not known" alone hides the typo.
        raise ResolveError('%s %s is not an %s address, and does not resolve as a name to an %s address (%s); give an '
                           '%s address or a host name the router can resolve'
                           % (what, quoted(text), FAMILY_NAMES[family], FAMILY_NAMES[family], exc, FAMILY_NAMES[family]))
    found = sorted(set(str(ipaddress.ip_address(info[4][0].split('%')[0])) for info in infos))
    if len(found) != 1:
        raise ResolveError('%s %s must resolve to exactly one %s address, but resolves to %d: %s'
                           % (what, quoted(text), FAMILY_NAMES[family], len(found), ', '.join(found) or 'none'))
    return canonical_address(found[0], family, what)
