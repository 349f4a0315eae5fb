# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
"""Subnets and hosts of an IPv6 prefix as filters; documented in ipv6_subnet.yml and ipv6_host.yml.

The arithmetic lives in module_utils/_prefix.py (standard library ipaddress only), so the roles
derive a LAN /64 or the router's address without parsing IPv6 text in Jinja.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.edgenet.router.plugins.module_utils._prefix import (
    PrefixError, ipv6_host as _ipv6_host, ipv6_subnet as _ipv6_subnet,
)


def ipv6_subnet(prefix, number=0, length=64):
    """IPv6 prefix, subnet number, subnet length -> the subnet, compressed, with its length."""
    try:
        return _ipv6_subnet(prefix, number, length).with_prefixlen
    except PrefixError as exc:
        raise AnsibleFilterError('ipv6_subnet: %s' % exc)


def ipv6_host(prefix, host=1):
    """IPv6 prefix, host number or ``::N`` -> the address, compressed, without a length."""
    try:
        return str(_ipv6_host(prefix, host))
    except PrefixError as exc:
        raise AnsibleFilterError('ipv6_host: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {
            'ipv6_subnet': ipv6_subnet,
            'ipv6_host': ipv6_host,
        }
