#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
module: dhcpv6_server_info
short_description: What the DHCPv6 daemon runs, per interface, and its current leases
version_added: 0.1.0
description:
  - Reads the DHCPv6 service of each interface this collection manages back from the running
    daemon (Kea C(config-get) over the control socket; dnsmasq the text it was started with, as
    recorded at the module's last restart, or the file when the daemon started after the file's last change;
    the collection's own relay its state file, with its counters) and from the config file, in the canonical form M(edgenet.router.dhcpv6_server) uses, and
    says where they differ.
  - A Kea that answers but holds no DHCPv6 socket (UDP port 547) serves nothing, and its interfaces
    read as C(running.mode) V(broken (reason\)), so they differ from the file.
  - Lists the current leases from the daemon's lease file (Kea memfile CSV, dnsmasq leases file).
author:
  - edgenet.router developers (@edgenet)
extends_documentation_fragment:
  - edgenet.router._attributes
  - edgenet.router._attributes.INFO_MODULE
  - edgenet.router._attributes.PLATFORM_LINUX
  - edgenet.router._attributes.ACTIONGROUP_ROUTER
options:
  interface:
    description: Only this interface. Default all the collection manages in the file or the daemon.
    type: str
  backend:
    description: The daemon, as in M(edgenet.router.dhcpv6_server).
    type: str
    choices: [kea, dnsmasq, edgenet]
    default: kea
  netns:
    description: Network namespace the daemon runs in.
    type: str
  config_file:
    description: See M(edgenet.router.dhcpv6_server).
    type: path
  control_socket:
    description: See M(edgenet.router.dhcpv6_server).
    type: path
  lease_file:
    description: See M(edgenet.router.dhcpv6_server).
    type: path
  pid_file:
    description: See M(edgenet.router.dhcpv6_server).
    type: path
  service_manager:
    description:
      - As in M(edgenet.router.dhcpv6_server), so that both modules judge drift alike.
      - With O(backend=kea), an interface with C(pd_routes) whose route service is not running reads
        as C(running.pd_routes) V(route service ... not running this config) under V(systemd) (which
        M(edgenet.router.dhcpv6_server) would start), and as V(true) under V(none) (nothing starts it).
      - Otherwise not used here; accepted so the same option set can be passed to both modules.
    type: str
    choices: [systemd, none]
    default: systemd
  service_name:
    description:
      - With O(backend=edgenet), the relay whose state is read (its files are named after it).
      - With O(backend=kea) or O(backend=dnsmasq), not used here (the daemon is found by its control
        socket or pid file); accepted so the same option set can be passed to both modules.
    type: str
seealso:
  - module: edgenet.router.dhcpv6_server
'''

EXAMPLES = r'''
- name: What Kea serves and who has a lease
  edgenet.router.dhcpv6_server_info:
  register: dhcp

- name: Show the leases of lan0's clients
  ansible.builtin.debug:
    var: dhcp.leases
'''

RETURN = r'''
daemon_running:
  description: Whether the daemon answered (Kea control socket, dnsmasq pid file).
  returned: always
  type: bool
  sample: true
interfaces:
  description: Per interface, the service the daemon runs (C(running)), the one in the file (C(file)) and the differing fields.
  returned: always
  type: dict
  sample:
    lan0:
      running: {interface: lan0, mode: server, address_mode: stateless, dns_servers: ['2001:db8:1::1']}
      file: {interface: lan0, mode: server, address_mode: stateless, dns_servers: ['2001:db8:1::1']}
      differs: []
    lan1:
      running: {interface: lan1, mode: "broken (kea-dhcp6 (pid 812) holds no socket on UDP port 547: ...)"}
      file: {interface: lan1, mode: server, address_mode: stateless, dns_servers: ['2001:db8:2::1']}
      differs: [address_mode, dns_servers, domain_search, extra_options, ignore_user_class, inf_max_rt,
                information_refresh_time, mode, pools, preferred_lifetime, prefix_delegation, rapid_commit,
                reservations, sol_max_rt, subnet, valid_lifetime]
relay_counters:
  description:
    - What the collection's own relay (O(backend=edgenet)) counted since it started; null for the
      other backends and for a relay that does not run.
    - C(forwarded) messages sent towards the servers, C(replied) replies sent back, C(dropped) per
      reason (C(hop_limit), C(malformed), C(unknown_interface), C(no_link_address), C(unexpected),
      C(send_failed)).
  returned: always
  type: dict
  sample: {forwarded: 12, replied: 12, dropped: {hop_limit: 1, malformed: 0, no_link_address: 0,
           send_failed: 0, unexpected: 0, unknown_interface: 0}}
pd_routes:
  description:
    - The routes to delegated prefixes that the route service of O(backend=kea) installed
      (M(edgenet.router.dhcpv6_server) O(edgenet.router.dhcpv6_server#module:pd_routes)), as the running
      service reports them, sorted by prefix; empty when it does not run; null for the other backends.
    - C(via) is the requesting router's address, C(dev) the server's interface, C(expires) the end of
      the lease's valid lifetime (seconds since the epoch).
  returned: always
  type: list
  elements: dict
  sample: [{prefix: '2001:db8:100::/56', via: 'fe80::acdb:2eff:fe22:8854', dev: lan0, expires: 1796526083}]
leases:
  description: Current leases (released and expired ones left out), sorted by address.
  returned: always
  type: list
  elements: dict
  sample:
    - {address: '2001:db8:1::100', prefix_length: 128, type: address, duid: '00:01:00:01:32:96:2d:d2:16:d8:3e:a7:f8:c1',
       iaid: 1051195585, expires: 1795394931, subnet_id: 1, state: default}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._backends import BackendError, open_backend
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service import COMMON_OPTIONS, check_where, info


def main():
    spec = dict(COMMON_OPTIONS)
    spec['interface'] = {'type': 'str'}
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    try:
        check_where(module.params)
        result = info(open_backend(module), module.params['interface'])
    except BackendError + (ValueError,) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
