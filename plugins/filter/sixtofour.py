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

from ansible_collections.edgenet.router.plugins.module_utils._prefix import (
    PrefixError, sixrd_prefix as _sixrd_prefix, sixtofour_prefix as _sixtofour_prefix,
)


def sixtofour_prefix(ipv4):
    """IPv4 address -> ``2002:VVVV:VVVV::/48``."""
    try:
        return _sixtofour_prefix(ipv4).with_prefixlen
    except PrefixError as exc:
        raise AnsibleFilterError('sixtofour_prefix: %s' % exc)


def sixrd_prefix(ipv4, sixrd_prefix, ipv4_masklen=0):
    """IPv4 address, 6rd prefix, IPv4 mask length -> 6rd delegated prefix."""
    try:
        return _sixrd_prefix(ipv4, sixrd_prefix, ipv4_masklen).with_prefixlen
    except PrefixError as exc:
        raise AnsibleFilterError('sixrd_prefix: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {
            'sixtofour_prefix': sixtofour_prefix,
            'sixrd_prefix': sixrd_prefix,
        }
