# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Values several field tables normalise alike: a whole number in a range, and interface
addresses (``addr/len``), as a task gives them or as a store holds them.

Each normaliser takes the module's error class, so its message reaches the user as that
module's error; the messages name the option and never echo more than a cut of the value.
"""

from __future__ import annotations

import ipaddress
import socket

from ansible_collections.edgenet.router.plugins.module_utils._names import quoted

__all__ = ['integer', 'int_in_range', 'interface_address', 'address_list', 'task_addresses', 'removed', 'parsed',
           'plain_ipv4', 'plain_ipv4_prefix']


# Text -> its ipaddress object, for the life of the module's process: a task's addresses and
# routes and the kernel's dump of them name the same texts, each parsed once instead of three
# times (the task, the dump, the sort). ipaddress objects are immutable, so sharing them is safe;
# a task names at most a few thousand texts. Under emulation this parsing was a fifth of a
# 1000-tunnel no-op check.
_PARSED = {}
# The same for what address lists derive from an address text (see _facts).
_FACTS = {}


def parsed(parse, text):
    """``parse(text)`` (an ipaddress constructor), remembered; its ValueError is not."""
    key = (parse, text)
    value = _PARSED.get(key)
    if value is None:
        value = _PARSED[key] = parse(text)
    return value


def plain_ipv4(text):
    """The 4 bytes of ``text`` when it is a plain dotted quad, one that inet_ntop gives back
    unchanged (four decimal numbers 0-255, no leading zeros: ipaddress's own text of it), else
    None. The fast path before ipaddress, whose pure-Python parser and objects cost five times as
    much, for the texts a bulk task and a kernel dump are made of; every other text is left to
    ipaddress's rules."""
    try:
        packed = socket.inet_pton(socket.AF_INET, text)
    except (OSError, ValueError):
        return None
    return packed if socket.inet_ntop(socket.AF_INET, packed) == text else None


def plain_ipv4_prefix(text):
    """``(4 bytes, prefix length)`` of a plain ``a.b.c.d/len`` (:func:`plain_ipv4`, a length 0-32
    in decimal without leading zeros: ipaddress's own text), else None."""
    address, slash, length = text.partition('/')
    if not slash or not length.isdigit() or not length.isascii() or (length[0] == '0' and length != '0'):
        return None
    packed = plain_ipv4(address)
    if packed is None or int(length) > 32:
        return None
    return packed, int(length)


def integer(value, base=10):
    """``value`` as an int when it is one (or its text), else None. A bool or a float is no
    number here: ``int()`` would quietly turn True into 1 and 1.5 into 1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip(), base)
        except ValueError:
            return None
    return None


def int_in_range(low, high, what, error, show_hex=False):
    """A normaliser: a whole number from ``low`` to ``high`` (an int, or its decimal text), else
    ``error`` naming ``what``. ``show_hex`` adds the bound in hex (for bit fields)."""
    def normalise(value):
        """A whole number within the field's range."""
        number = integer(value)
        if number is None:
            raise error('%s must be a number, not %s' % (what, quoted(value)))
        if not low <= number <= high:
            raise error('%s must be between %d and %d%s, not %d'
                        % (what, low, high, ' (0x%X)' % high if show_hex else '', number))
        return number
    return normalise


def interface_address(value, error):
    """One ``addr/len`` -> ipaddress interface (host bits kept), or ``error``. No ``%zone``: the
    address belongs to the interface it is put on."""
    text = value.strip() if isinstance(value, str) else None
    try:
        if text is None or '%' in text:
            raise ValueError(text)
        iface = parsed(ipaddress.ip_interface, text)
    except ValueError:
        raise error('address %s is not an address with a prefix length (e.g. 2001:db8::2/64 or 10.42.0.1/30)'
                    % quoted(value))
    if '/' not in text:
        raise error('address %s needs a prefix length (e.g. %s/%d)' % (quoted(value), iface.ip, iface.max_prefixlen))
    return iface


def _facts(value, error):
    """``(cidr, sort key, kind)`` of one ``addr/len`` (see :func:`interface_address`): its canonical
    text, its place in a sorted list, and what makes it no address of an interface's own
    (``unspecified``, ``multicast``, ``loopback``) or None. Remembered by text as :data:`_PARSED`
    is: the task and the kernel's dump name the same texts, and these values (ipaddress
    properties and text, each made anew per call) cost more than the parse."""
    facts = _FACTS.get(value) if isinstance(value, str) else None
    if facts is None and isinstance(value, str):
        facts = _plain_ipv4_facts(value)
    if facts is None:
        iface = interface_address(value, error)
        address = iface.ip
        kind = ('unspecified' if address.is_unspecified else 'multicast' if address.is_multicast
                else 'loopback' if address.is_loopback else None)
        facts = _FACTS[value] = (iface.with_prefixlen, (iface.version, address.packed, iface.network.prefixlen), kind)
    return facts


def _plain_ipv4_facts(text):
    """:func:`_facts` of a plain ``a.b.c.d/len`` without ipaddress (the same values: a unit test
    compares them), remembered; None for any other text."""
    plain = plain_ipv4_prefix(text)
    if plain is None:
        return None
    packed, length = plain
    first = packed[0]
    kind = ('unspecified' if packed == b'\0\0\0\0' else 'multicast' if 224 <= first <= 239
            else 'loopback' if first == 127 else None)
    facts = _FACTS[text] = (text, (4, packed, length), kind)
    return facts


def _items(values, error):
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, '__iter__'):
        raise error('addresses must be a list of addresses with a prefix length, not %s' % quoted(values))
    return values


def address_list(values, error):
    """What a store holds: CIDR strings, compressed, host bits kept, sorted, unique (a
    hand-edited file may repeat a line; the task's list goes through :func:`task_addresses`)."""
    keys = dict(_facts(value, error)[:2] for value in _items(values, error))
    return sorted(keys, key=keys.get)


def task_addresses(values, error):
    """The task's ``addresses``: as :func:`address_list`, each a unicast address an interface can
    have, each listed once (also in two spellings): silently dropping one hides a typo."""
    seen, keys = {}, {}
    for value in _items(values, error):
        cidr, key, kind = _facts(value, error)
        if kind:
            raise error('address %s is %s, not a unicast address, which an interface address must be; give the '
                        'interface\'s own address' % (quoted(value), kind))
        if cidr in seen:
            raise error('addresses lists %s twice (as %s and %s); list each address once'
                        % (cidr, quoted(seen[cidr]), quoted(value)))
        seen[cidr], keys[cidr] = value, key
    return sorted(seen, key=keys.get)


def removed(old, new):
    """Items of ``old`` not in ``new`` (``None`` lists: unmanaged, nothing removed): the
    addresses or routes a write takes away (``removed(new, old)``: those it adds)."""
    if old is None or new is None:
        return []
    return [item for item in old if item not in new]
