#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
module: sixtofour_relay
short_description: 6to4 and 6rd sites, relays, customer edges and border relays
version_added: 0.1.0
description:
  - Sets up a whole 6to4 (RFC 3056) or 6rd (RFC 5969) node on a Linux router, a sit tunnel
    device with no fixed remote, the IPv6 address derived from the router's IPv4 address and the
    route to or from the relay, and returns the derived prefix for the LAN side
    (RV(prefix) is what a DHCPv6 prefix delegation or router advertisement role hands out).
  - The device is an M(edgenet.router.iptun) tunnel, built and compared by the same code, in the
    same two stores (the kernel at runtime, the network manager's files for boot). Check mode reports
    drift per store; a changed public IPv4 address shows as the prefix and address it would change.
  - O(role=6to4-site) a 6to4 site, address C(2002:VVVV:VVVV::1/16) on the tunnel and, with
    O(relay), a default route to a 6to4 relay.
  - O(role=6to4-relay) a 6to4 relay router, address C(2002:VVVV:VVVV::1/128) and the route for
    C(2002::/16) into the tunnel, so native IPv6 hosts behind it reach every 6to4 site.
  - O(role=6rd-ce) a 6rd customer edge, the delegated prefix (6rd prefix followed by the IPv4
    bits after O(ipv4_masklen)), its first address on the tunnel with the length of the 6rd
    prefix, and default routes to the O(border_relays).
  - O(role=6rd-br) a 6rd border relay, the 6rd parameters on the device and the route for the
    6rd prefix into the tunnel.
author:
  - edgenet.router developers (@edgenet)
extends_documentation_fragment:
  - edgenet.router._attributes
  - edgenet.router._attributes.PLATFORM_LINUX
  - edgenet.router._attributes.ACTIONGROUP_LINKS
  - edgenet.router._confirm
  - edgenet.router._netns
  - edgenet.router._persistent
  - edgenet.router._persistent_store
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  name:
    description:
      - Name of the tunnel interface, literal, 1 to 15 letters, digits, C(-), C(_) or C(.), starting with a
        letter, digit or C(_), and not all digits (not the kernel's fallback device C(sit0)).
      - The name becomes the link, its networkd file names and their C([Match] Name=), which systemd-networkd
        reads as a pattern, so C(*), C(?), C([...]), a leading C(!) and every other character are refused.
    type: str
    required: true
  role:
    description:
      - What this router is in the 6to4 or 6rd setup (see the description).
      - Required when O(state=present).
    type: str
    choices: [6to4-site, 6to4-relay, 6rd-ce, 6rd-br]
  local:
    description:
      - This router's IPv4 address, the one the prefix is derived from, or a host name that
        resolves to exactly one IPv4 address.
      - For the 6to4 roles it must be a global address; private (RFC 1918), shared (100.64.0.0/10),
        loopback, link-local, multicast and reserved addresses are refused, and the documentation
        ranges (RFC 5737) unless O(allow_documentation_addresses=true).
      - One of O(local) and O(local_interface) is required when O(state=present).
    type: str
  local_interface:
    description:
      - Take O(local) from this interface (a literal interface name, as for O(name)), which must have
        exactly one usable IPv4 address (for the 6to4 roles, one global address). Run the task again when
        the ISP changes the address; check mode then shows the new prefix and address, and RV(previous)
        the old ones.
    type: str
  relay:
    description:
      - O(role=6to4-site) only. IPv4 address of the 6to4 relay the default route points to, or
        V(none) (or omitted) for no default route (2002::/16 destinations still work).
      - The anycast relay C(192.88.99.1) is deprecated (RFC 7526) and never a default; it is used
        only when named here, with a warning.
    type: str
  border_relays:
    description:
      - O(role=6rd-ce) only, and required there. IPv4 addresses of the 6rd border relays. Each gets a
        default route via the IPv4-compatible address C(::a.b.c.d), the first with
        O(route_metric), the next with one more, and so on (the tunnel cannot tell a dead BR, so this is
        an order of preference, not a failover).
      - Each border relay once, and not this router's own O(local).
    type: list
    elements: str
  sixrd_prefix:
    description:
      - The ISP's 6rd prefix, for example V(2001:db8::/32). Required for the 6rd roles.
      - A prefix inside 2002::/16 (6to4), fe80::/10, ff00::/8 or ::/8 is refused.
    type: str
  ipv4_masklen:
    description:
      - 6rd IPv4 mask length, the number of high-order bits all CE addresses of the 6rd domain share,
        left out of the delegated prefix (0 to 32). The delegated prefix is
        O(sixrd_prefix) length + 32 - O(ipv4_masklen) bits long, at most /64.
      - Anything but V(0) cannot be stored by systemd-networkd (it has no 6rd relay prefix setting)
        and needs O(persistent=false) or the ifupdown store. NetworkManager stores no 6rd tunnel.
    type: int
    default: 0
  allow_documentation_addresses:
    description:
      - Accept the IPv4 documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) for
        the 6to4 roles, for labs and tests.
    type: bool
    default: false
  mtu:
    description:
      - MTU of the tunnel, 1280 to 65535. The IPv6 minimum, 1280, is the default because relays and other
        sites sit behind unknown IPv4 paths.
    type: int
    default: 1280
  ttl:
    description:
      - TTL of the outer IPv4 header. Default V(0), inherit from the inner packet's hop limit.
    type: int
  route_metric:
    description:
      - Metric of the routes the role adds, 0 to 4294967295. Default the kernel's, 1024.
      - The kernel keeps one route per destination and metric, so a router that already has a default
        route at that metric (another uplink, a second tunnel) needs a different one here.
    type: int
  state:
    description: Whether the setup should exist. V(absent) removes the tunnel with its addresses and routes.
    type: str
    choices: [present, absent]
    default: present
  recreate:
    description:
      - What to do when a change needs the tunnel deleted and created again (switching between a 6to4
        and a 6rd role). V(never) fails before anything is changed.
    type: str
    choices: [allowed, never]
    default: allowed
notes:
  - The kernel needs the C(sit) module (with 6rd support, C(CONFIG_IPV6_SIT_6RD), for the 6rd roles).
    Check mode warns when C(sit) is neither loaded nor listed under C(/lib/modules/<release>).
  - Replies to a 6to4 site come back through whatever relay is nearest to the sender; a site that
    names a relay still receives from others. Prefer native IPv6 or a tunnel broker where possible.
seealso:
  - module: edgenet.router.iptun
  - module: edgenet.router.iptun_info
  - plugin: edgenet.router.sixtofour_prefix
    plugin_type: filter
  - plugin: edgenet.router.sixrd_prefix
    plugin_type: filter
  - name: RFC 3056, Connection of IPv6 Domains via IPv4 Clouds
    description: 6to4.
    link: https://www.rfc-editor.org/rfc/rfc3056
  - name: RFC 5969, IPv6 Rapid Deployment on IPv4 Infrastructures (6rd)
    description: 6rd, the delegated prefix arithmetic.
    link: https://www.rfc-editor.org/rfc/rfc5969
  - name: RFC 7526, Deprecating the Anycast Prefix for 6to4 Relay Routers
    description: Why 192.88.99.1 is never a default.
    link: https://www.rfc-editor.org/rfc/rfc7526
'''

EXAMPLES = r'''
- name: 6to4 site on the WAN address, default route via a known relay
  edgenet.router.sixtofour_relay:
    name: tun6to4
    role: 6to4-site
    local_interface: wan0
    relay: 203.0.113.99
  register: sixtofour

- name: Hand the /48 to the LAN side
  ansible.builtin.debug:
    msg: "LAN prefix {{ sixtofour.prefix }}"

- name: 6to4 relay router
  edgenet.router.sixtofour_relay:
    name: tun6to4
    role: 6to4-relay
    local: 203.0.113.99

- name: 6rd customer edge (prefix and BR as the ISP announces them, e.g. DHCP option 212)
  edgenet.router.sixtofour_relay:
    name: tun6rd
    role: 6rd-ce
    local_interface: wan0
    sixrd_prefix: '2001:db8::/32'
    ipv4_masklen: 0
    border_relays: [192.0.2.1]

- name: 6rd border relay of the same domain
  edgenet.router.sixtofour_relay:
    name: tun6rd
    role: 6rd-br
    local: 192.0.2.1
    sixrd_prefix: '2001:db8::/32'

- name: Remove the 6to4 setup (kernel and files)
  edgenet.router.sixtofour_relay:
    name: tun6to4
    state: absent
'''

# confirm is written out here, not taken from the _confirm doc fragment: ansible-core 2.19
# merges no RETURN fragment (ansible-doc failed there), and the collection supports 2.19.
RETURN = r'''
prefix:
  description:
    - The delegated prefix of this router, C(2002:VVVV:VVVV::/48) for 6to4 or the 6rd delegated
      prefix; V(null) with O(state=absent). In check mode, the prefix the task would set up.
  returned: always
  type: str
  sample: 2002:c633:6407::/48
address:
  description: The address (with prefix length) on the tunnel; V(null) with O(state=absent).
  returned: always
  type: str
  sample: 2002:c633:6407::1/16
relay:
  description:
    - The relays the tunnel's default routes point to, in order of preference (lowest metric first;
      6to4 relay or 6rd border relays), read back from the kernel after the task (in check mode, as
      they would be) - which relay the router uses, as C(dladm show-6to4relay) tells on illumos; empty
      when there is none. The C(relay) key of RV(previous) has the relays before the task.
  returned: always
  type: list
  elements: str
  sample: [203.0.113.99]
previous:
  description:
    - The local address, prefix, address and relays (as RV(relay)) of the tunnel in the kernel before
      the task, so a play can renumber what used the old prefix and see which relay was in use;
      V(null) when there was no 6to4 or 6rd tunnel of that name.
  returned: always
  type: dict
  sample: {local: 198.51.100.7, prefix: '2002:c633:6407::/48', address: '2002:c633:6407::1/16', relay: [203.0.113.99]}
tunnel:
  description:
    - The tunnel in the kernel after the task (in check mode, as it would be), in the canonical form
      of M(edgenet.router.iptun); V(null) when absent.
  returned: always
  type: dict
  sample:
    name: tun6to4
    type: 6to4
    local: 198.51.100.7
    remote: any
    ttl: 0
    tos: 0
    pmtudisc: true
    encaplimit: null
    flowlabel: null
    sixrd_prefix: null
    sixrd_relay_prefix: null
    mtu: 1280
    link: null
    enabled: true
    addresses: ['2002:c633:6407::1/16']
    routes: [{dest: '::/0', via: '::cb00:7163', metric: 1024}]
commands:
  description: What a person would run for the same change, iproute2 commands and file writes.
  returned: always
  type: list
  elements: str
  sample:
    - write /etc/systemd/network/60-edgenet-tun6to4.netdev
    - write /etc/systemd/network/60-edgenet-tun6to4.network
    - ip link add tun6to4 type sit mode ip6ip local 198.51.100.7 remote any ttl inherit tos 0 pmtudisc
changes:
  description: The plan, one entry per store, with each drifted field's before and after value.
  returned: always
  type: list
  elements: dict
  sample:
    - store: runtime
      object: tun6to4
      action: modify
      fields: {local: {before: 198.51.100.7, after: 198.51.100.9}}
diff:
  description: Before and after, per store (C(runtime), C(persistent)).
  returned: always
  type: dict
  contains:
    before:
      description: What the stores held before the task.
      type: dict
      returned: always
    after:
      description: What the stores hold after the task (in check mode, the prediction).
      type: dict
      returned: always
confirm:
  description:
    - The rollback O(confirm_timeout) scheduled. Only when it is set, the task changed something
      and it is not check mode. Confirm with M(edgenet.router.confirm) before RV(confirm.deadline).
  returned: when a rollback was scheduled
  type: dict
  contains:
    id:
      description: The change's id (its journal is C(/var/lib/edgenet/confirm/ID.json)).
      type: str
      returned: always
      sample: '1796424000123456789'
    timeout:
      description: O(confirm_timeout) as given.
      type: int
      returned: always
      sample: 60
    unit:
      description: The systemd timer that rolls the change back.
      type: str
      returned: always
      sample: edgenet-confirm-1796424000123456789.timer
    deadline:
      description: When the timer fires (UTC, ISO 8601).
      type: str
      returned: always
      sample: '2026-12-04T23:59:00Z'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgenet.router.plugins.module_utils._command import module_runner
from ansible_collections.edgenet.router.plugins.module_utils._confirm import ConfirmError, pending
from ansible_collections.edgenet.router.plugins.module_utils._engine import ApplyError, PlanError
from ansible_collections.edgenet.router.plugins.module_utils._iptun import open_stores
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_persist import ERRORS as STORE_ERRORS
from ansible_collections.edgenet.router.plugins.module_utils._sixtofour import ERRORS, module_kwargs, run_sixtofour


def main():
    module = AnsibleModule(**module_kwargs())
    params = module.params
    try:
        # The tunnel is an iptun tunnel: the same stores, and the same rollback.
        confirm = pending(module, 'iptun', params)
        with open_stores(params, module_runner(module)) as (runtime, files):
            result = run_sixtofour(params, runtime, files, module.check_mode, confirm=confirm)
    except ERRORS + (PlanError, ApplyError, NetlinkError, ConfirmError) + STORE_ERRORS as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop('warnings'):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
