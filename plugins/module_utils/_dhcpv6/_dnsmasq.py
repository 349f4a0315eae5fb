# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The dnsmasq backend (placeholder while the Kea backend is proven)."""

from __future__ import annotations

__all__ = ['BINARY', 'DEBIAN_PACKAGE', 'Backend', 'DnsmasqError']

BINARY = 'dnsmasq'
DEBIAN_PACKAGE = 'dnsmasq-base'


class DnsmasqError(Exception):
    """dnsmasq refused something; the message carries its own words."""


class Backend(object):
    name = 'dnsmasq'

    def __init__(self, params, run, binary=BINARY):
        raise DnsmasqError('backend dnsmasq is not implemented yet')
