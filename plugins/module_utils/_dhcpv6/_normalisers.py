# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The normalisers of the DHCPv6 model's fields: user text or a backend's read-back value in,
the canonical value out, or :class:`Dhcpv6Error` saying what is wrong and how to write it.

Each is idempotent (a canonical value normalises to itself), so both sides of a comparison go
through the same function: what a task asks for and what a backend parsed from its file or
daemon. The field table that names them is ``_model.TABLE``.
"""

from __future__ import annotations

import ipaddress
import re
import struct

from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._values import int_in_range

__all__ = [
    'Dhcpv6Error',
    'MANAGED_OPTION_CODES',
    'OPTION_TYPES',
    'check_interface_name',
    'norm_addresses',
    'norm_unicast',
    'norm_choice',
    'norm_domain',
    'norm_domains',
    'norm_duid',
    'norm_extra_options',
    'norm_hex',
    'norm_ifname',
    'norm_pd',
    'norm_pool',
    'norm_pools',
    'norm_prefix',
    'norm_reservations',
    'norm_servers',
    'norm_subnet',
    'norm_user_classes',
    'pool_bounds',
    'uint',
]

# Options the model itself produces or the protocol reserves: extra_options may not set them.
MANAGED_OPTION_CODES = {
    1: 'client identifier', 2: 'server identifier', 3: 'IA_NA', 4: 'IA_TA', 5: 'IA address',
    6: 'option request', 8: 'elapsed time', 9: 'relay message', 11: 'authentication',
    13: 'status code', 14: 'rapid commit (use rapid_commit)', 15: 'user class', 18: 'interface-id',
    19: 'reconfigure message', 20: 'reconfigure accept', 23: 'DNS servers (use dns_servers)',
    24: 'domain search list (use domain_search)', 25: 'IA_PD', 26: 'IA prefix',
    32: 'information refresh time (use information_refresh_time)', 82: 'SOL_MAX_RT (use sol_max_rt)',
    83: 'INF_MAX_RT (use inf_max_rt)',
}

OPTION_TYPES = ('hex', 'string', 'ipv6-address', 'uint8', 'uint16', 'uint32')

LABEL_RE = re.compile(r'^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)\Z')
# A user class is compared byte for byte; printable text without quotes, backslashes, commas or
# white space renders safely in every backend's syntax.
USER_CLASS_RE = re.compile(r'^[A-Za-z0-9._:+@/=-]{1,255}\Z')
HEX_RE = re.compile(r'^[0-9a-f]*\Z')


class Dhcpv6Error(ValueError):
    """Bad input for a DHCPv6 service: raised before anything is touched."""


def check_interface_name(name, what='interface'):
    """A literal interface name (the house's one rule, ``_names.link_name_problem``): it reaches
    Kea's and dnsmasq's configs and ``ip`` command lines, where globs or options must not."""
    problem = link_name_problem(name)
    if problem is not None:
        raise Dhcpv6Error('%s %s is not a valid interface name: %s. Give the literal name of one link (no wildcards).'
                          % (what, quoted(name), problem))
    return name


def _text(value, what):
    """``value`` as text for a parser, refusing what is not a plain scalar (a list or dict inside
    a list of strings) so no parser ever sees it."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Dhcpv6Error('%s: %s is not a string' % (what, quoted(value)))
    text = str(value)
    # Checked before stripping: a trailing newline must not pass as the value without it (it
    # would end a line of dnsmasq's file, or mean the task was templated wrong).
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise Dhcpv6Error('%s: %s holds a control character (newline, NUL, ...); give the value alone'
                          % (what, quoted(value)))
    return text.strip()


def _address(value, what):
    try:
        addr = ipaddress.IPv6Address(_text(value, what))
    except ValueError as exc:
        if isinstance(exc, Dhcpv6Error):
            raise
        raise Dhcpv6Error('%s: %s is not an IPv6 address' % (what, quoted(value)))
    return addr


def _network(value, what):
    text = _text(value, what)
    if '/' not in text:
        raise Dhcpv6Error('%s: %s needs a prefix length (e.g. 2001:db8:1::/64)' % (what, quoted(value)))
    try:
        return ipaddress.IPv6Network(text, strict=True)
    except ValueError as exc:
        raise Dhcpv6Error('%s: %s is not a valid IPv6 prefix (%s)' % (what, quoted(value), quoted(str(exc), 120)))


def _int(value, what):
    """An int from an int or a string of digits; never a float, bool, list or an overflow."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise Dhcpv6Error('%s must be a whole number, not %s' % (what, quoted(value)))
    try:
        return int(value)
    except ValueError:
        raise Dhcpv6Error('%s must be a whole number, not %s' % (what, quoted(value)))


def _no_duplicates(items, what, shown=str):
    """Refuse a value listed twice (after normalising): a de-duplicated list would silently be
    shorter than what the task wrote."""
    seen = set()
    for item in items:
        if item in seen:
            raise Dhcpv6Error('%s: %s is listed twice (after normalising). List each once.' % (what, shown(item)))
        seen.add(item)
    return items


def norm_prefix(value):
    """An IPv6 prefix with zero host bits, compressed (``2001:db8:1::/64``)."""
    return _network(value, 'prefix').with_prefixlen


def norm_subnet(value):
    """The served prefix (see norm_prefix); ``::/0`` is not a link's subnet."""
    net = _network(value, 'subnet')
    if net.prefixlen == 0:
        raise Dhcpv6Error('subnet %s covers every IPv6 address: give the prefix of the interface\'s link '
                          '(e.g. 2001:db8:1::/64)' % quoted(value))
    return net.with_prefixlen


def pool_bounds(pool):
    """First and last address of a canonical pool."""
    if '/' in pool:
        net = ipaddress.IPv6Network(pool)
        return net.network_address, net.broadcast_address
    first, last = pool.split('-')
    return ipaddress.IPv6Address(first), ipaddress.IPv6Address(last)


def norm_pool(value):
    """``first-last`` or a prefix; an aligned range becomes its prefix (as Kea reports it)."""
    text = _text(value, 'pool').replace(' ', '')
    if '-' in text:
        first, _sep, last = text.partition('-')
        first, last = _address(first, 'pool %s' % value), _address(last, 'pool %s' % value)
        if first > last:
            raise Dhcpv6Error('pool %s: the first address is above the last' % value)
        nets = list(ipaddress.summarize_address_range(first, last))
        if len(nets) == 1:
            return nets[0].with_prefixlen
        return '%s-%s' % (first, last)
    return _network(value, 'pool').with_prefixlen


def norm_pools(values):
    """Canonical pools, sorted by first address, unique; overlaps refused."""
    pools = sorted(_no_duplicates([norm_pool(v) for v in values], 'pools'), key=pool_bounds)
    for a, b in zip(pools, pools[1:]):
        if pool_bounds(b)[0] <= pool_bounds(a)[1]:
            raise Dhcpv6Error('pools %s and %s overlap' % (a, b))
    return pools


def norm_pd(values):
    """``[{prefix, delegated_length}]`` sorted; the delegated length lies in [prefix length, 128]."""
    out = []
    for item in values:
        if not isinstance(item, dict) or set(item) - {'prefix', 'delegated_length'}:
            raise Dhcpv6Error('prefix_delegation entry %s must be a dict with prefix and delegated_length' % quoted(item))
        net = _network(item.get('prefix'), 'prefix_delegation prefix')
        length = _int(item.get('delegated_length'), 'prefix_delegation %s: delegated_length' % net)
        if not net.prefixlen <= length <= 128:
            raise Dhcpv6Error('prefix_delegation %s: delegated_length %d must be between %d and 128'
                              % (net, length, net.prefixlen))
        out.append({'prefix': net.with_prefixlen, 'delegated_length': length})
    _no_duplicates([(d['prefix'], d['delegated_length']) for d in out], 'prefix_delegation',
                   lambda k: '%s with delegated_length %d' % k)
    out = sorted(out, key=lambda d: (ipaddress.IPv6Network(d['prefix']).network_address, d['delegated_length']))
    nets = [ipaddress.IPv6Network(d['prefix']) for d in out]
    for i, a in enumerate(nets):
        for b in nets[i + 1:]:
            if a.overlaps(b):
                raise Dhcpv6Error('prefix_delegation prefixes %s and %s overlap' % (a, b))
    return out


def norm_duid(value):
    """Lower-case hex bytes joined by colons (``00:03:00:01:02:00:00:00:00:01``)."""
    text = _text(value, 'reservation duid').lower().replace(':', '').replace('-', '')
    if not HEX_RE.match(text) or len(text) % 2 or not 4 <= len(text) <= 260:
        raise Dhcpv6Error('reservation duid %s must be 2 to 130 bytes of hex, e.g. 00:03:00:01:02:00:00:00:00:01'
                          % quoted(value))
    return ':'.join(text[i:i + 2] for i in range(0, len(text), 2))


def norm_reservations(values):
    """``[{duid, address, prefix}]`` sorted by duid; one reservation per DUID."""
    out = {}
    for item in values:
        if not isinstance(item, dict) or set(item) - {'duid', 'address', 'prefix'}:
            raise Dhcpv6Error('reservation %s must be a dict with duid and address and/or prefix' % quoted(item))
        duid = norm_duid(item.get('duid'))
        address = item.get('address')
        prefix = item.get('prefix')
        if address in (None, '') and prefix in (None, ''):
            raise Dhcpv6Error('reservation %s needs an address or a prefix' % duid)
        if duid in out:
            raise Dhcpv6Error('reservation %s is listed twice (reservations: one entry per DUID)' % duid)
        out[duid] = {
            'duid': duid,
            'address': None if address in (None, '') else str(_address(address, 'reservation %s' % duid)),
            'prefix': None if prefix in (None, '') else _network(prefix, 'reservation %s' % duid).with_prefixlen,
        }
    _no_duplicates([r['address'] for r in out.values() if r['address']], 'reservations address')
    _no_duplicates([r['prefix'] for r in out.values() if r['prefix']], 'reservations prefix')
    return [out[k] for k in sorted(out)]


def norm_addresses(values):
    """IPv6 addresses, compressed, in the given order (DNS order is preference); each a unicast
    address a client can send queries to (not multicast, unspecified or loopback), listed once."""
    out = []
    for value in values:
        addr = _address(value, 'dns_servers')
        kind = ('multicast' if addr.is_multicast else 'the unspecified address' if addr.is_unspecified
                else 'loopback' if addr.is_loopback else None)
        if kind is not None:
            raise Dhcpv6Error('dns_servers: %s is %s, which no client can query: give the unicast address of a '
                              'DNS server (e.g. the router\'s own address on the interface)' % (addr, kind))
        out.append(str(addr))
    return _no_duplicates(out, 'dns_servers')


def norm_unicast(value):
    """A global unicast IPv6 address the server listens on (``listen_unicast``), compressed; ``''``
    for none (multicast and link-local only: the model's default, a definite value)."""
    if value == '':
        return ''
    addr = _address(value, 'listen_unicast')
    if addr.is_multicast or addr.is_unspecified or addr.is_loopback or addr.is_link_local:
        raise Dhcpv6Error('listen_unicast: %s is not a global unicast address: give one of the interface\'s own global '
                          'addresses (relays send to it)' % addr)
    return str(addr)


def norm_domain(value):
    """A DNS name, lower case, no trailing dot; each label 1-63 of letters, digits, ``-``, ``_``."""
    if isinstance(value, str) and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise Dhcpv6Error('domain_search: %s is not a domain name: it holds a control character (newline, NUL, ...)'
                          % quoted(value))
    text = _text(value, 'domain_search').lower().rstrip('.')
    if not text or len(text) > 253 or not all(LABEL_RE.match(label) for label in text.split('.')):
        raise Dhcpv6Error('domain_search: %s is not a domain name (letters, digits, "-" and "_" in '
                          'dot-separated labels of 1-63 characters)' % quoted(value))
    return text


def norm_domains(values):
    """Search domains in the given order (the client tries them in order), each listed once."""
    return _no_duplicates([norm_domain(value) for value in values], 'domain_search')


def norm_user_classes(values):
    """User class strings, sorted, each listed once; refused when they could break a config syntax."""
    out = []
    for value in values:
        if not isinstance(value, str) or not USER_CLASS_RE.match(value):
            raise Dhcpv6Error('ignore_user_class %s: use 1-255 letters, digits or "._:+@/=-" (no white '
                              'space, quotes, commas or backslashes)' % quoted(value))
        out.append(value)
    return sorted(_no_duplicates(out, 'ignore_user_class'))


def uint(low, high, what):
    return int_in_range(low, high, what, Dhcpv6Error)


def norm_hex(value):
    """Lower-case hex without separators."""
    text = _text(value, 'hex data').lower().replace(':', '').replace(' ', '')
    if text.startswith('0x'):
        text = text[2:]
    if not HEX_RE.match(text) or len(text) % 2:
        raise Dhcpv6Error('hex data %s is not an even number of hex digits (e.g. 0a0b or 0a:0b)' % quoted(value))
    return text


def _option_bytes(code, otype, data):
    what = 'extra option %s' % code
    if otype == 'hex':
        try:
            return bytes.fromhex(norm_hex(data))
        except Dhcpv6Error as exc:
            raise Dhcpv6Error('%s: data: %s' % (what, exc))
    if otype == 'string':
        if not isinstance(data, str):
            raise Dhcpv6Error('%s: string data must be text' % what)
        try:
            return data.encode('utf-8')
        except UnicodeError:   # lone surrogates: text no wire format can carry
            raise Dhcpv6Error('%s: string data %s is not valid UTF-8 text' % (what, quoted(data)))
    if otype == 'ipv6-address':
        items = data if isinstance(data, list) else _text(data, what).split(',')
        return b''.join(_address(a, what).packed for a in items)
    size = {'uint8': 'B', 'uint16': 'H', 'uint32': 'I'}[otype]
    try:
        return struct.pack('!' + size, _int(data, what))
    except struct.error:
        raise Dhcpv6Error('%s: %s does not fit a %s' % (what, quoted(data), otype))


def norm_extra_options(values):
    """``[{code, hex}]`` sorted by code: typed data turned into the bytes on the wire."""
    out = {}
    for item in values:
        if not isinstance(item, dict) or set(item) - {'code', 'type', 'data', 'hex'}:
            raise Dhcpv6Error('extra option %s must be a dict with code, type and data' % quoted(item))
        code = _int(item.get('code'), 'extra option code')
        if not 1 <= code <= 65535:
            raise Dhcpv6Error('extra option code %d is not a DHCPv6 option code (1-65535)' % code)
        if code in MANAGED_OPTION_CODES:
            raise Dhcpv6Error('extra option code %d (%s) is managed by the server itself and cannot be set '
                              'as an extra option' % (code, MANAGED_OPTION_CODES[code]))
        if code in out:
            raise Dhcpv6Error('extra option code %d is listed twice' % code)
        if 'hex' in item and item.get('data') is None:  # canonical form, read back
            try:
                data = bytes.fromhex(norm_hex(item['hex']))
            except Dhcpv6Error as exc:
                raise Dhcpv6Error('extra option %d: %s' % (code, exc))
        else:
            otype = item.get('type') or 'hex'
            if not isinstance(otype, str) or otype not in OPTION_TYPES:
                raise Dhcpv6Error('extra option %d: type %s is not one of %s' % (code, quoted(otype), ', '.join(OPTION_TYPES)))
            if item.get('data') is None:
                raise Dhcpv6Error('extra option %d needs data' % code)
            data = _option_bytes(code, otype, item['data'])
        if len(data) > 65535:
            raise Dhcpv6Error('extra option %d: data longer than 65535 bytes' % code)
        out[code] = {'code': code, 'hex': data.hex()}
    return [out[k] for k in sorted(out)]


def norm_servers(values):
    """Relay destinations: unicast or multicast IPv6 addresses, sorted, each listed once."""
    out = []
    for value in values:
        addr = _address(value, 'servers')
        if addr.is_unspecified or addr.is_loopback:
            raise Dhcpv6Error('servers: %s is not a DHCPv6 server the relay can reach: give a server\'s unicast '
                              'address or ff05::1:3 / ff02::1:2' % addr)
        out.append(str(addr))
    return sorted(_no_duplicates(out, 'servers'), key=ipaddress.IPv6Address)


def norm_choice(*choices):
    def normalise(value):
        """One of the field's choices, lower case."""
        text = _text(value, 'value').lower()
        if text not in choices:
            raise Dhcpv6Error('%s is not one of %s' % (quoted(value), ', '.join(choices)))
        return text
    return normalise


def norm_ifname(value):
    """An interface name (see check_interface_name)."""
    return check_interface_name(value)
