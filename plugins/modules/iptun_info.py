#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
module: iptun_info
short_description: Read kernel IP tunnels and their boot-time files, and where they disagree
version_added: 0.1.0
description:
  - Lists every ipip, sit, ip6tnl, gre, ip6gre, gretap and ip6gretap tunnel in a network namespace (the
    kernel's fallback devices excepted) in the canonical form M(edgenet.router.iptun) uses, 6rd parameters and
    GRE keys, checksums and sequence numbers decoded, together
    with the persistent store this collection manages, the files of the host's network manager
    (see O(persistent_store)).
  - For each tunnel, says which store lacks it and which fields differ between the running kernel
    and the files, the input for drift reports.
author:
  - edgenet.router developers (@edgenet)
extends_documentation_fragment:
  - edgenet.router._attributes
  - edgenet.router._attributes.INFO_MODULE
  - edgenet.router._attributes.PLATFORM_LINUX
  - edgenet.router._attributes.ACTIONGROUP_ROUTER
  - edgenet.router._netns
options:
  name:
    description:
      - Only this tunnel. A literal interface name as for M(edgenet.router.iptun) O(edgenet.router.iptun#module:name),
        not a pattern; anything else is refused.
    type: str
  persistent_store:
    description:
      - Which network manager's files to read as the persistent store.
      - V(auto) detects the manager that manages the host's links, as
        M(edgenet.router.iptun) does (see O(edgenet.router.iptun#module:persistent_store)). When
        none or several are found, or the manager named is not running, nothing is refused; the
        tunnels are listed without a persistent view and RV(persistent_store) says why.
    type: str
    choices: [auto, networkd, ifupdown, networkmanager]
    default: auto
  networkd_dir:
    description: Directory of the systemd-networkd files to read.
    type: path
    default: /etc/systemd/network
  ifupdown_dir:
    description: Directory of the ifupdown files to read.
    type: path
    default: /etc/network/interfaces.d
  networkmanager_dir:
    description: Directory of the NetworkManager keyfiles to read.
    type: path
    default: /etc/NetworkManager/system-connections
seealso:
  - module: edgenet.router.iptun
'''

EXAMPLES = r'''
- name: Read all tunnels
  edgenet.router.iptun_info:
  register: tunnels

- name: Fail when the kernel and the boot files disagree
  ansible.builtin.assert:
    that: tunnels.tunnels | selectattr('differs') | list | length == 0
'''

RETURN = r'''
persistent_store:
  description: The persistent store read, and why it was chosen; RV(persistent_store.name) is V(null)
    when none was read (O(netns) given, or no single manager found).
  returned: always
  type: dict
  contains:
    name:
      description: The network manager whose files were read (V(networkd), V(ifupdown), V(networkmanager)), or V(null).
      type: str
      returned: always
      sample: networkd
    why:
      description: What the detection found, or why no store was read.
      type: str
      returned: always
      sample: systemd-networkd is active and configures eth0
tunnels:
  description:
    - Every tunnel found, as a list sorted by name (a listing, like the other info modules; each item
      carries its C(name)).
    - M(edgenet.router.iptun) returns its bulk RV(edgenet.router.iptun#module:tunnels) as a dict keyed by
      name instead (a change result, keyed like the task's items). Both shapes stay as they are - changing
      either would break playbooks that loop over them without an error.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Interface name.
      type: str
      returned: always
      sample: he-ipv6
    managed:
      description: Whether this collection made it (link alias C(edgenet.router) or a managed file).
      type: bool
      returned: always
      sample: true
    runtime:
      description: The tunnel in the kernel, canonical form (see RV(edgenet.router.iptun#module:tunnel)); V(null) if absent.
      type: dict
      returned: always
      sample: {name: he-ipv6, type: sit, local: 198.51.100.7, remote: 203.0.113.1, ttl: 64}
    persistent:
      description: The tunnel as the persistent store's files would build it at boot; V(null) if there are none.
      type: dict
      returned: always
      sample: {name: he-ipv6, type: sit, local: 198.51.100.7, remote: 203.0.113.1, ttl: 64}
    missing:
      description: The stores (C(runtime), C(persistent)) that do not have the tunnel.
      type: list
      elements: str
      returned: always
      sample: []
    differs:
      description: Fields whose value differs between the kernel and the files.
      type: list
      elements: str
      returned: always
      sample: [ttl]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgenet.router.plugins.module_utils._command import module_runner
from ansible_collections.edgenet.router.plugins.module_utils._iptun import check_info_name, info
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError, check_netns, open_netlink
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TunnelError
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import KernelTunnels
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_persist import (
    ERRORS as STORE_ERRORS, OPTIONS as PERSISTENT_OPTIONS, Choice, choose, store_for,
)


def main():
    module = AnsibleModule(
        argument_spec=dict({
            'name': {'type': 'str'},
            'netns': {'type': 'str'},
        }, **PERSISTENT_OPTIONS),
        supports_check_mode=True,
    )
    try:
        if module.params['name'] is not None:  # before opening anything
            check_info_name(module.params['name'])
        if module.params['netns'] is not None:  # '' is a mistake, not the host namespace
            check_netns(module.params['netns'])
        # The managers' files describe the host namespace only: no persistent view inside a netns.
        choice, files = Choice(None, 'netns %s: the network managers bring back links of the host namespace '
                                     'only' % module.params['netns']), None
        if not module.params['netns']:
            choice = choose(dict(module.params, persistent=True), module_runner(module))
            files = store_for(choice, module.params, None) if choice.problem is None else None
        with open_netlink(module.params['netns']) as netlink:
            tunnels = info(KernelTunnels(netlink, module.params['netns']), files)
    except (TunnelError, NetlinkError) + STORE_ERRORS as exc:
        module.fail_json(msg=str(exc))
    if module.params['name']:
        tunnels = [t for t in tunnels if t['name'] == module.params['name']]
    module.exit_json(changed=False, persistent_store=choice.result(), tunnels=tunnels)


if __name__ == '__main__':
    main()
