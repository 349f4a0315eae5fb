#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
module: pipex_session_info
short_description: Read kernel L2TP tunnels and sessions with their statistics
version_added: 0.1.0
description:
  - Lists every L2TP tunnel and session in a network namespace with the kernel's counters (the
    figures of pipex C(PIPEXGSTAT)), including sessions this collection did not make (for example
    PPP sessions of pppd or accel-ppp, shown with their pseudowire type only).
  - Ethernet sessions come in the canonical form M(edgenet.router.pipex_session) uses (cookies
    masked), next to the boot-time state files that module writes, with the fields where the two
    disagree.
  - Linux keeps no list of closed sessions (pipex C(PIPEXGCLOSED) keeps them for 30 seconds), so a deleted
    session and its counters are gone at once, so this module returns none rather than a fake list.
  - The live PPPoE sessions of the concentrators M(edgenet.router.ppp_server) keeps (host namespace only)
    come in RV(ppp_sessions) - user, address, uptime, counters and idle time, as pipex lists its PPP
    sessions.
author:
  - edgenet.router developers (@edgenet)
extends_documentation_fragment:
  - edgenet.router._attributes
  - edgenet.router._attributes.INFO_MODULE
  - edgenet.router._attributes.PLATFORM_LINUX
  - edgenet.router._attributes.ACTIONGROUP_ROUTER
  - edgenet.router._netns
options:
  ifname:
    description:
      - Only this Ethernet session in O(ignore:sessions), and only the PPP session on this link in
        O(ignore:ppp_sessions) (tunnels are all listed).
      - An interface name by the rule of M(edgenet.router.pipex_session)'s O(edgenet.router.pipex_session#module:ifname); another is refused.
    type: str
  state_dir:
    description: Directory of the state files of the persistent store (ignored with O(netns)).
    type: path
    default: /etc/edgenet/pipex
seealso:
  - module: edgenet.router.pipex_session
'''

EXAMPLES = r'''
- name: Counters of every L2TP session in a namespace
  edgenet.router.pipex_session_info:
    netns: edge
  register: l2tp

- name: Sessions whose boot-time state differs from the running kernel
  ansible.builtin.debug:
    msg: "{{ l2tp.sessions | selectattr('differs') | map(attribute='ifname') }}"
'''

RETURN = r'''
tunnels:
  description: Every kernel L2TP tunnel, with its sessions and counters.
  returned: always
  type: list
  elements: dict
  sample:
    - tunnel_id: 100
      peer_tunnel_id: 200
      encap: udp
      local: 192.0.2.1
      remote: 192.0.2.2
      udp_sport: 1701
      udp_dport: 1701
      version: 3
      statistics: {rx_packets: 0, tx_packets: 0}
      sessions:
        - {session_id: 1000, peer_session_id: 2000, ifname: l2tpeth-wan, pseudowire: ethernet,
           statistics: {rx_packets: 12, rx_bytes: 1104, rx_errors: 0, rx_seq_discards: 0,
                        rx_oos_packets: 0, tx_packets: 12, tx_bytes: 1104, tx_errors: 0}}
sessions:
  description:
    - Ethernet sessions in canonical form by store, with C(missing) (stores without the session) and
      C(differs) (fields where the state file and the kernel disagree).
  returned: always
  type: list
  elements: dict
  sample:
    - ifname: l2tpeth-wan
      runtime: {ifname: l2tpeth-wan, tunnel_id: 100, session_id: 1000, sequencing: both}
      persistent: {ifname: l2tpeth-wan, tunnel_id: 100, session_id: 1000, sequencing: none}
      statistics: {rx_packets: 12, tx_packets: 12}
      missing: []
      differs: [sequencing]
ppp_sessions:
  description:
    - Every session of the concentrators of M(edgenet.router.ppp_server) on the host, PPPoE and L2TP
      LNS (empty with O(netns)), from the concentrator daemon's state joined with the kernel.
    - C(protocol) says which. PPPoE - C(session_id) and C(peer_mac) (the L2TP keys are null). L2TP -
      C(tunnel_id) and C(session_id) (the LNS's ids), C(peer_tunnel_id), C(peer_session_id) and
      C(peer) (the LAC's address); C(peer_mac) is null.
    - C(interface) and C(user) come from pppd once IPCP is up (null before). C(idle_time) is the seconds
      since the session's link last counted a packet, as pipex computes it from its counters; LCP
      echoes do not count, PPP's network-control frames (IPCP, CCP) on the link do. The concentrator
      samples the counters every second. Null before IPCP is up. C(in_kernel) is true when the session
      is in C(/proc/net/pppoe) (L2TP - in C(/proc/net/pppol2tp) with its tunnel, session and link),
      that is, the kernel carries it.
    - C(adjust_tcpmss) and C(ingress_filter) are true when the kernel holds the session's nftables rules for
      them (C(nft list table inet edgenet_ppp), rules naming the session and its link); false without C(nft).
  returned: always
  type: list
  elements: dict
  sample:
    - protocol: pppoe
      concentrator: access0
      session_id: 1
      peer_mac: 02:00:00:00:00:02
      tunnel_id: null
      peer_tunnel_id: null
      peer_session_id: null
      peer: null
      interface: ppp0
      user: alice
      address: 100.64.0.10
      uptime: 3600
      idle_time: 12
      in_kernel: true
      adjust_tcpmss: true
      ingress_filter: true
      statistics: {rx_packets: 120, tx_packets: 118, rx_bytes: 10080, tx_bytes: 9912}
    - protocol: l2tp
      concentrator: core0
      session_id: 19892
      tunnel_id: 1143
      peer_tunnel_id: 52515
      peer_session_id: 1016
      peer: 192.0.2.7
      peer_mac: null
      interface: ppp1
      user: carol
      address: 100.64.1.10
      uptime: 600
      idle_time: 3
      in_kernel: true
      adjust_tcpmss: true
      ingress_filter: false
      statistics: {rx_packets: 40, tx_packets: 38, rx_bytes: 3360, tx_bytes: 3192}
closed_sessions:
  description: Always empty; Linux has no closed-session list (see the description).
  returned: always
  type: list
  elements: dict
  sample: []
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgenet.router.plugins.module_utils._command import module_runner
from ansible_collections.edgenet.router.plugins.module_utils._l2tp import open_l2tp
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError, check_netns, open_netlink
from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdError
from ansible_collections.edgenet.router.plugins.module_utils._pipex._effects import SideEffects
from ansible_collections.edgenet.router.plugins.module_utils._pipex._kernel import KernelSessions
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import PipexError, check_ifname
from ansible_collections.edgenet.router.plugins.module_utils._pipex._service import info
from ansible_collections.edgenet.router.plugins.module_utils._pipex._state import STATE_DIR, PersistentSessions
from ansible_collections.edgenet.router.plugins.module_utils._ppp._sessions import nft_listing, ppp_sessions


def main():
    module = AnsibleModule(
        argument_spec={
            'ifname': {'type': 'str'},
            'netns': {'type': 'str'},
            'state_dir': {'type': 'path', 'default': STATE_DIR},
        },
        supports_check_mode=True,
    )
    netns = module.params['netns']
    try:
        if netns is not None:  # '' is a mistake, not the host namespace: refuse it before anything
            check_netns(netns)
        if module.params['ifname'] is not None:  # before opening anything
            check_ifname(module.params['ifname'])
        with open_l2tp(netns) as l2tp, open_netlink(netns) as netlink:
            files = None if netns else PersistentSessions(module.params['state_dir'])
            result = info(KernelSessions(l2tp, netlink, SideEffects(module_runner(module), netns), netns), files,
                          module.params['ifname'])
    except (PipexError, NetlinkError, NetworkdError) as exc:
        module.fail_json(msg=str(exc))
    # The concentrators run in the host namespace only (their units are the host's).
    result['ppp_sessions'] = [] if netns else ppp_sessions(link=module.params['ifname'],
                                                           nft_text=nft_listing(module_runner(module)))
    module.exit_json(changed=False, closed_sessions=[], **result)


if __name__ == '__main__':
    main()
