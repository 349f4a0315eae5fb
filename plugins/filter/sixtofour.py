# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
"""6to4 and 6rd prefix arithmetic as filters; documented in sixtofour_prefix.yml and sixrd_prefix.yml.

The arithmetic lives in module_utils/_prefix.py, shared with the sixtofour_relay module, so a
template and the module can never disagree about a prefix. Only that file is imported: the
filters do not load the tunnel stack.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.edgenet.router.plugins.module_utils._names import quoted
from ansible_collections.edgenet.router.plugins.module_utils._prefix import (
    PrefixError, check_sixtofour_ipv4, sixrd_delegated_prefix, sixtofour_prefix as _sixtofour_prefix,
)

# The filter's way out of the 6to4 address rule, named in its message.
NOT_GLOBAL_FIX = 'Pass allow_nonglobal=true to compute the prefix anyway (arithmetic only, for labs and tests)'


def _flag(value, what):
    """A boolean filter argument as Ansible reads booleans (true, 'yes', 1...), else an error."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise PrefixError('%s must be true or false, not %s' % (what, quoted(value)))


def sixtofour_prefix(ipv4, allow_nonglobal=False):
    """IPv4 address -> ``2002:VVVV:VVVV::/48``; a non-global address only with ``allow_nonglobal``.

    The documentation ranges (RFC 5737) pass: they stand for global addresses in examples and
    tests, which is what they are for, and the collection's own docs and tests use them."""
    try:
        if not _flag(allow_nonglobal, 'allow_nonglobal'):
            check_sixtofour_ipv4(ipv4, 'address', allow_documentation=True, fix=NOT_GLOBAL_FIX)
        return _sixtofour_prefix(ipv4).with_prefixlen
    except PrefixError as exc:
        raise AnsibleFilterError('sixtofour_prefix: %s' % exc)


def sixrd_prefix(ipv4, sixrd_prefix, ipv4_masklen=0):
    """IPv4 address, 6rd prefix, IPv4 mask length -> 6rd delegated prefix, /64 or shorter."""
    try:
        return sixrd_delegated_prefix(ipv4, sixrd_prefix, ipv4_masklen).with_prefixlen
    except PrefixError as exc:
        raise AnsibleFilterError('sixrd_prefix: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {
            'sixtofour_prefix': sixtofour_prefix,
            'sixrd_prefix': sixrd_prefix,
        }
