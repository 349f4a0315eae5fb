# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Result shapes the RETURN docs describe and the bad-input tables do not look at (issue 19)."""

from __future__ import annotations

from ansible_collections.edgenet.router.tests.unit.plugins.modules.driver import assert_accepted

DNSMASQ = {'interface': 'lan0', 'backend': 'dnsmasq', 'config_file': '@dnsmasq_conf', 'pid_file': '@dnsmasq_pid',
           'lease_file': '@dnsmasq_leases'}


def test_dhcpv6_server_relay_result_has_the_relay_fields_only(world):
    """RETURN server - with mode relay, the relay's fields and none of a server's."""
    result = assert_accepted(world, 'dhcpv6_server', dict(DNSMASQ, mode='relay', upstream_interface='wan0'),
                             check_mode=True)
    assert result['server'] == {'interface': 'lan0', 'mode': 'relay', 'upstream_interface': 'wan0',
                                'servers': ['ff05::1:3'], 'interface_id': False, 'hop_limit': 32,
                                'dns_rewrite': False}


def test_dhcpv6_server_disabled_result_names_the_interface_and_mode_only(world):
    for args in (dict(DNSMASQ, mode='disabled'), dict(DNSMASQ, state='absent')):
        assert assert_accepted(world, 'dhcpv6_server', args, check_mode=True)['server'] == {
            'interface': 'lan0', 'mode': 'disabled'}
