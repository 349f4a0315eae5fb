# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
"""A bridge and its ports against the kernel's links, as a filter; documented in bridge_changes.yml.

The comparison lives in module_utils/_bridge.py, so the l2tpv3_pseudowire role reports drift and
fixes it without comparing ``ip -json`` output in Jinja.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.edgenet.router.plugins.module_utils._bridge import BridgeError, bridge_changes as _bridge_changes


def bridge_changes(links, bridge, mtu=None, ports=None, state='present'):
    """``ip -json -details link show`` output, bridge name, MTU, ports -> the rows that differ."""
    try:
        return _bridge_changes(links, bridge, mtu=mtu, ports=ports or (), state=state)
    except BridgeError as exc:
        raise AnsibleFilterError('bridge_changes: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {'bridge_changes': bridge_changes}
