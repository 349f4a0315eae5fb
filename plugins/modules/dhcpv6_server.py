#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
module: dhcpv6_server
short_description: DHCPv6 service per interface (server, relay or disabled) in Kea, dnsmasq or the collection's own relay
version_added: 0.1.0
description:
  - Keeps odhcpd's model of DHCPv6 on a router, one interface per task; each interface is a
    DHCPv6 V(server), a V(relay) towards an upstream interface, or V(disabled), and configures a
    real daemon for it, Kea (O(backend=kea)), dnsmasq (O(backend=dnsmasq)) or the collection's
    own relay (O(backend=edgenet)), which relays as odhcpd does (Interface-ID, hop limit, DNS
    rewrite).
  - Several tasks on different interfaces share one daemon config file; a task replaces only its
    own interface's part.
  - The new config is checked with the daemon's own checker (C(kea-dhcp6 -t), C(dnsmasq --test))
    before it replaces the live file, written atomically under a lock, and applied live. Kea is
    reloaded over its control socket (C(config-test) then C(config-reload)), never restarted, so
    leases and in-flight exchanges survive; dnsmasq is restarted only when its file changed.
  - Drift is checked against both the file (C(persistent)) and the running daemon (C(runtime));
    each difference is a row of RV(changes), and C(changed) comes from those rows alone, the same
    in check mode and a real run. A Kea that answers on its control socket but holds no DHCPv6
    socket (UDP port 547; Kea closes them all after refusing a runtime config) counts as not
    running the file, and a real run repairs it with C(config-reload).
  - A stopped daemon serves nothing; with O(service_manager=systemd) the C(runtime) store's row
    for the interface is a V(create), carried out by starting the daemon, so a daemon that does
    not come up serving is stopped again and the file is put back. With O(service_manager=none)
    a stopped daemon is not the task's to start; the file is written, the C(runtime) store is left
    out of the plan and a warning says nothing serves the file.
  - Concurrent tasks on one router are serialised by the lock of the config file's directory,
    held from reading the file to the end of the change, so no task plans on, or rolls back over,
    another's change.
  - A parameter the chosen backend cannot express is an error naming the backend, never ignored.
  - With O(confirm_timeout), an unconfirmed change puts the config file back byte for byte and the
    daemon back on what it ran before (Kea by C(config-set), dnsmasq by a restart on its old text),
    or stops a daemon the task started.
author:
  - edgenet.router developers (@edgenet)
extends_documentation_fragment:
  - edgenet.router._attributes
  - edgenet.router._attributes.PLATFORM_LINUX
  - edgenet.router._attributes.ACTIONGROUP_ROUTER
  - edgenet.router._confirm
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  interface:
    description: The interface the service runs on (clients' link for a server or a relay).
    type: str
    required: true
  mode:
    description:
      - V(server) answers clients on O(interface); V(relay) forwards their messages to the servers
        on O(upstream_interface); V(disabled) removes the interface from the daemon's config.
    type: str
    choices: [server, relay, disabled]
    default: server
  state:
    description: V(absent) is the same as O(mode=disabled).
    type: str
    choices: [present, absent]
    default: present
  backend:
    description:
      - The daemon. V(kea) (Debian package C(kea-dhcp6-server)) is a server only.
      - V(dnsmasq) (package C(dnsmasq-base)) serves and relays. It has no prefix delegation, one
        lease time for both lifetimes, always honours Rapid Commit, serves prefixes of length 64 or
        longer and sends no Interface-ID when relaying; asking for those is an error naming
        dnsmasq. See the DHCPv6 guide for the whole table.
      - V(edgenet) is the collection's own relay (relay mode only; Python 3 from Debian's
        C(python3)), installed by the module as C(/usr/local/lib/edgenet-router/dhcp6-relayd.py)
        with the unit O(service_name) (default C(edgenet-dhcp6-relay.service)). It adds the
        Interface-ID (O(interface_id)), drops a message at O(hop_limit), rewrites the DNS servers in
        replies (O(dns_rewrite)), sends to the servers out of O(upstream_interface) only and never
        hears its own multicast. One process relays every interface of its config file. Its
        runtime store is what the running relay reports (C(/run/edgenet/dhcp6-relay/SERVICE.state));
        a change is written to C(/run/edgenet/dhcp6-relay/SERVICE.conf) and the relay reloaded
        (SIGHUP on the same socket, so no exchange in flight is lost); the config file is what the router
        boots with (the unit starts only where it exists). Its counters are in
        M(edgenet.router.dhcpv6_server_info)'s RV(edgenet.router.dhcpv6_server_info#module:relay_counters).
      - Two backends cannot both answer on one interface (dnsmasq binds C([::]:547)). A task is
        refused while another backend's config file (at its default path,
        C(/etc/kea/kea-dhcp6.conf), C(/etc/dnsmasq.d/edgenet-dhcpv6.conf) or
        C(/etc/edgenet/dhcp6-relay.conf)) still serves O(interface). To switch, first run the task
        with the old backend and O(state=absent).
        A Kea that finds the port taken serves nothing, which the module reports as an error
        and rolls back.
    type: str
    choices: [kea, dnsmasq, edgenet]
    default: kea
  netns:
    description:
      - Network namespace the daemon runs in; the interface's addresses are read there and the
        config checker runs there (Kea's checker looks the interfaces up).
    type: str
  address_mode:
    description:
      - V(stateless) gives out configuration only (DNS, search list) to Information-Requests;
        V(stateful) also leases addresses from O(pools).
      - Default V(stateful) when O(pools) is given, else V(stateless).
      - Prefix delegation works in both.
    type: str
    choices: [stateless, stateful]
  subnet:
    description:
      - The prefix of O(interface) the server serves. Default the interface's global prefix
        (read at run time); O(pools) and reservation addresses must lie inside it.
    type: str
  pools:
    description:
      - Address ranges to lease, V(first-last) or a prefix (V(2001:db8:1::1000/116)).
    type: list
    elements: str
  prefix_delegation:
    description: Prefix delegation pools.
    type: list
    elements: dict
    suboptions:
      prefix:
        description: Pool prefix, for example V(2001:db8:100::/48).
        type: str
        required: true
      delegated_length:
        description: Length of each delegated prefix, between the pool's length and 128.
        type: int
        required: true
  reservations:
    description: Fixed leases by client DUID.
    type: list
    elements: dict
    suboptions:
      duid:
        description: Client DUID in hex (V(00:03:00:01:02:00:00:00:00:01)).
        type: str
        required: true
      address:
        description: The address this client always gets (inside O(subnet)).
        type: str
      prefix:
        description: The prefix delegated to this client.
        type: str
  dns_servers:
    description:
      - DNS servers announced, in order of preference.
      - Default, as odhcpd does, the router's own address on O(interface), a global one inside
        O(subnet) if there is one, else the link-local address.
    type: list
    elements: str
  domain_search:
    description:
      - Domain search list, in order. Default none (odhcpd copies the router's resolver search
        list; a default that depends on C(/etc/resolv.conf) would make the task's result drift).
    type: list
    elements: str
  sol_max_rt:
    description: SOL_MAX_RT option (seconds), sent in every reply as odhcpd does. Default V(60).
    type: int
  inf_max_rt:
    description: INF_MAX_RT option (seconds), sent in every reply. Default V(60).
    type: int
  information_refresh_time:
    description: Information refresh time option (seconds, at least 600). Default V(600).
    type: int
  preferred_lifetime:
    description:
      - Preferred lifetime of leased addresses and prefixes (seconds). Default V(3600).
      - With O(backend=dnsmasq) (one lease time) it must equal O(valid_lifetime); giving only one
        of the two sets both, and the default is V(3600) for both.
    type: int
  valid_lifetime:
    description: Valid lifetime of leased addresses and prefixes (seconds). Default V(7200).
    type: int
  rapid_commit:
    description:
      - Answer a Solicit with Rapid Commit by a Reply at once. Default V(false) (Kea).
      - dnsmasq always does, so its default is V(true) and V(false) is an error.
    type: bool
  ignore_user_class:
    description:
      - Clients sending one of these user classes (option 15) get no answer (odhcpd's filter class).
      - Kea compares the first user class the client sends; dnsmasq matches any user class
        containing the string (C(dhcp-userclass)), on this interface only.
    type: list
    elements: str
  extra_options:
    description: Additional options sent to every client, as odhcpd's raw options.
    type: list
    elements: dict
    suboptions:
      code:
        description: Option code; codes the server manages itself (DNS, IA, status...) are refused.
        type: int
        required: true
      type:
        description: How O(extra_options[].data) is written.
        type: str
        choices: [hex, string, ipv6-address, uint8, uint16, uint32]
        default: hex
      data:
        description: The value; for V(ipv6-address) a list or comma-separated addresses.
        type: raw
        required: true
  listen_unicast:
    description:
      - Server mode, a global address of O(interface) the server listens on besides its link-local
        address and V(ff02::1:2), so relays can reach it by unicast (O(servers) of a relay).
        Default none (multicast and link-local only).
      - Only O(backend=kea) (an C(interface/address) entry of Kea's C(interfaces-config)); dnsmasq
        answers on every address already, so with O(backend=dnsmasq) it is an error.
    type: str
  pd_routes:
    description:
      - Server mode with O(prefix_delegation), O(backend=kea) only. Each delegated prefix gets a route
        C(PREFIX via PEER dev INTERFACE proto 211) in the server's namespace, PEER being the address the
        requesting router sent its Request from (its link-local address, or the relay's address for a
        relayed client); it is installed when Kea gives or renews the lease and removed on release,
        decline or expiry.
      - Kea's C(libdhcp_run_script) hook (Debian's C(kea-dhcp6-server)) runs a script of the collection
        that only records the lease event (Kea runs as C(_kea) and cannot route); a small root service of
        the collection (C(/usr/local/lib/edgenet-router/dhcp6-pdroutesd.py), unit
        C(edgenet-dhcp6-pd-routes.service), C(edgenet-dhcp6-pd-routes-NETNS) with O(netns)) checks each
        event (prefix inside a delegation pool of an interface asking for routes, a unicast next hop, a
        literal interface name) and changes the routes. Its config is C(CONFIG_FILE.pd-routes), next to
        O(config_file); both are drift-checked and rolled back together.
      - The lease file does not keep the next hop, so the service remembers its routes in
        C(/var/lib/edgenet/pd-routes/) and, when it starts, puts back those whose lease Kea still holds
        (after a reboot at once; a lease it never saw is routed at the client's next Renew).
      - Default V(false). Not on by default because Debian 12's AppArmor profile for C(kea-dhcp6) lets Kea
        execute no script at all; on a host where that profile is enforced, Kea needs the rule
        C(/usr/local/lib/edgenet-router/dhcp6-pd-hook-*.sh Ux,) in it (see the DHCPv6 guide), and a
        default that silently routes nothing there would be worse than asking. The role
        C(edgenet.router.dhcpv6_lan) in C(pd) mode turns this on and adds that rule itself.
    type: bool
  upstream_interface:
    description: Relay mode, the interface towards the servers. Required for O(mode=relay).
    type: str
  servers:
    description:
      - Relay mode, the servers to relay to. Default the All_DHCP_Servers group V(ff05::1:3), as odhcpd.
      - Kea 2.2 joins neither V(ff05::1:3) nor listens on its global address by default (only its
        link-local address and V(ff02::1:2)); to reach it on the upstream link give V(ff02::1:2), or its
        unicast address with O(listen_unicast) on the Kea side.
      - With O(backend=dnsmasq) only unicast addresses and V(ff05::1:3); dnsmasq sets the upstream
        interface for that group only, and a Relay-Forward to another group would leave by whichever
        link the kernel picks (back onto the client's link, a loop), so it is refused.
    type: list
    elements: str
  interface_id:
    description:
      - Relay mode, add an Interface-ID option (the interface's name) to relayed messages; replies
        go back out of the interface it names. Default V(false).
      - Only O(backend=edgenet); V(true) with O(backend=dnsmasq) is an error.
      - A relayed interface without a global IPv6 address needs it (servers then see link-address
        C(::)).
    type: bool
  hop_limit:
    description:
      - Relay mode, a Relay-Forward whose hop count has reached this is dropped (and counted) rather
        than relayed again. Default V(8), RFC 8415's HOP_COUNT_LIMIT.
      - dnsmasq's relay has the fixed limit V(32) of RFC 3315; with O(backend=dnsmasq) it is the
        default and any other value is an error.
    type: int
  dns_rewrite:
    description:
      - Relay mode, replace the DNS Recursive Name Server option in relayed replies with the relay's
        own global address on O(interface), as odhcpd does for a router that runs its own resolver.
        Default V(false).
      - Only O(backend=edgenet); V(true) with O(backend=dnsmasq) is an error.
    type: bool
  config_file:
    description:
      - The daemon config file this collection manages. A file without the collection's marker
        line is never overwritten.
      - Default C(/etc/kea/kea-dhcp6.conf) (Kea), C(/etc/dnsmasq.d/edgenet-dhcpv6.conf) (dnsmasq) or
        C(/etc/edgenet/dhcp6-relay.conf) (edgenet; the relay gets it on its command line, so letters,
        digits and C(_./@+-) only).
    type: path
  control_socket:
    description: Kea's control socket. Default C(/run/kea/kea6-ctrl-socket). Not for O(backend=edgenet).
    type: path
  lease_file:
    description:
      - The lease file. Default C(/var/lib/kea/kea-leases6.csv) (Kea) or
        C(/var/lib/misc/dnsmasq.leases) (dnsmasq). Not for O(backend=edgenet) (a relay keeps none).
    type: path
  pid_file:
    description:
      - dnsmasq's pid file; it finds the running daemon and its start time.
        Default C(/run/dnsmasq/dnsmasq.pid) (Debian's C(dnsmasq) service).
      - The process it names is used only if it runs the dnsmasq binary the module found, as
        C(root), C(dnsmasq) or C(nobody); otherwise the task fails and touches nothing.
      - The record of what the module started dnsmasq with lives in C(/run/edgenet-router/dnsmasq/)
        (readable by root only).
    type: path
  service_manager:
    description:
      - V(systemd) starts the daemon's unit when it is not running; dnsmasq is restarted with
        C(systemctl restart) when it does not run the file.
      - V(none) starts nothing; a running Kea is still reloaded over its control socket and a
        running dnsmasq (found by O(pid_file), in O(netns)) is stopped with SIGTERM and started again
        as C(dnsmasq --conf-file=CONFIG_FILE --port=0 --pid-file=PID_FILE --dhcp-leasefile=LEASE_FILE)
        (DHCPv6 from the managed file only, no DNS; other options it ran with are not kept); a
        dnsmasq in the foreground, or keeping its leases in a file other than O(lease_file), is
        refused.
      - With O(backend=edgenet), V(none) writes the config file and starts nothing (a warning gives
        the command line to run, C(python3 -I /usr/local/lib/edgenet-router/dhcp6-relayd.py BOOT LIVE
        STATE)); a running relay gets SIGHUP once its command line proved it is the relay of these
        files.
    type: str
    choices: [systemd, none]
    default: systemd
  service_name:
    description:
      - The systemd unit. Default C(kea-dhcp6-server), C(dnsmasq) or C(edgenet-dhcp6-relay).
      - With O(backend=edgenet) the module writes this unit (C(/etc/systemd/system/NAME.service));
        a unit of that name without the collection's marker line is refused.
    type: str
notes:
  - Kea 2.2 has no relay; dnsmasq's relay sends no Interface-ID and rewrites no DNS server;
    the collection's own relay (O(backend=edgenet)) does both. Asking a backend for what it cannot
    do is an error naming the backend.
  - dnsmasq reads its config only when it starts, so a change restarts it (leases are kept in its
    lease file; a client renewing meanwhile retransmits once). The drop-in must be read by the
    daemon (C(--conf-file) or a C(--conf-dir) holding it) or the task fails saying so.
  - Installing the daemon's package is the roles' job; the module fails naming the Debian package
    when the daemon is missing.
seealso:
  - module: edgenet.router.dhcpv6_server_info
  - name: Kea DHCPv6 configuration
    description: The file this module writes for O(backend=kea).
    link: https://kea.readthedocs.io/en/kea-2.2.0/arm/dhcp6-srv.html
'''

EXAMPLES = r'''
- name: Stateless DHCPv6 on the LAN (DNS from the router, a search list)
  edgenet.router.dhcpv6_server:
    interface: lan0
    domain_search: [home.example]

- name: Stateful with prefix delegation and a reservation, Kea
  edgenet.router.dhcpv6_server:
    interface: lan0
    pools: ['2001:db8:1::1000-2001:db8:1::1fff']
    prefix_delegation:
      - prefix: 2001:db8:100::/48
        delegated_length: 56
    reservations:
      - duid: 00:03:00:01:02:00:00:00:00:01
        address: 2001:db8:1::5
    ignore_user_class: [homenet]

- name: Stateful DHCPv6 with dnsmasq (Debian's dnsmasq service reads /etc/dnsmasq.d)
  edgenet.router.dhcpv6_server:
    interface: lan0
    backend: dnsmasq
    pools: ['2001:db8:1::1000-2001:db8:1::1fff']
    valid_lifetime: 7200
    reservations:
      - duid: 00:03:00:01:02:00:00:00:00:01
        address: 2001:db8:1::5

- name: Delegate /56 prefixes to downstream routers and route each one to the router that asked
  edgenet.router.dhcpv6_server:
    interface: lan0
    prefix_delegation:
      - prefix: 2001:db8:100::/48
        delegated_length: 56
    pd_routes: true

- name: Relay from a downstream segment to the servers on the uplink, with dnsmasq
  edgenet.router.dhcpv6_server:
    interface: lan1
    mode: relay
    upstream_interface: wan0
    backend: dnsmasq
    servers: ['ff02::1:2']

- name: Relay as odhcpd does, with the collection's own relay (Interface-ID, DNS rewritten to the router)
  edgenet.router.dhcpv6_server:
    interface: lan2
    mode: relay
    upstream_interface: wan0
    backend: edgenet
    servers: ['ff02::1:2', '2001:db8:ffff::547']
    interface_id: true
    dns_rewrite: true

- name: Stop serving DHCPv6 on a segment (its subnet leaves Kea's config; leases stay on disk)
  edgenet.router.dhcpv6_server:
    interface: guest0
    mode: disabled
'''

# confirm is written out here, not taken from the _confirm doc fragment: ansible-core 2.19
# merges no RETURN fragment (ansible-doc failed there), and the collection supports 2.19.
RETURN = r'''
server:
  description:
    - The interface's service after the task (in check mode, as it would be), canonical.
    - The sample is O(mode=server). With O(mode=relay) it holds the relay's fields and none of a server's,
      that is C(interface), C(mode) (V(relay)), C(upstream_interface), C(servers) (V(ff05::1:3) when none
      were given), C(interface_id), C(hop_limit) (8 by default, dnsmasq's fixed 32 with O(backend=dnsmasq))
      and C(dns_rewrite).
    - With O(mode=disabled) or O(state=absent), only C(interface) and C(mode) (V(disabled)).
  returned: always
  type: dict
  sample:
    interface: lan0
    mode: server
    address_mode: stateful
    subnet: 2001:db8:1::/64
    pools: ['2001:db8:1::1000/116']
    prefix_delegation: [{prefix: 2001:db8:100::/48, delegated_length: 56}]
    reservations: []
    dns_servers: ['2001:db8:1::1']
    domain_search: []
    sol_max_rt: 60
    inf_max_rt: 60
    information_refresh_time: 600
    preferred_lifetime: 3600
    valid_lifetime: 7200
    rapid_commit: false
    ignore_user_class: []
    extra_options: []
    pd_routes: false
backend_config:
  description:
    - The daemon config the task makes for O(interface), as text.
    - Kea, only what the collection manages for the interface (JSON with its C(subnet6) entry and
      its clauses of the C(DROP) client class), never the rest of the file (other interfaces, hook
      libraries and their parameters, which may hold secrets); empty when the interface is
      disabled.
    - dnsmasq, the managed drop-in file's text (every interface's section; the file holds nothing
      else).
  returned: always
  type: str
  sample: "{\"Dhcp6\": {\"subnet6\": [{\"id\": 1, \"interface\": \"lan0\", \"subnet\": \"2001:db8:1::/64\"}]}}"
commands:
  description: What a person would do for the same change (file writes, checker, reload).
  returned: always
  type: list
  elements: str
  sample: ['write the subnet of lan0 to /etc/kea/kea-dhcp6.conf', 'kea-dhcp6 -t /etc/kea/kea-dhcp6.conf']
changes:
  description:
    - The plan, one entry per store (C(persistent) file, C(runtime) daemon) with each differing field.
    - A stopped daemon that the task starts (O(service_manager=systemd)) is a V(create) entry of the
      C(runtime) store.
    - C(changed) is true exactly when this list is not empty, in check mode and in a real run.
  returned: always
  type: list
  elements: dict
  sample: [{store: runtime, object: lan0, action: modify, fields: {pools: {before: [], after: ['2001:db8:1::1000/116']}}}]
drift:
  description:
    - A summary of RV(changes) before the task; empty when in step. V(file differs) when the
      C(persistent) store has a row, V(daemon not running the file) when the C(runtime) store has one
      (including a stopped daemon that O(service_manager=systemd) starts).
    - A stopped daemon with O(service_manager=none) is not in the plan, so it is not listed here
      (RV(daemon_running) is false and a warning says so).
  returned: always
  type: list
  elements: str
  sample: [daemon not running the file]
daemon_running:
  description:
    - Whether the daemon runs after the task (in check mode, would run). A Kea that runs but
      serves no socket still runs; RV(drift) then says V(daemon not running the file).
  returned: always
  type: bool
  sample: true
diff:
  description: Before and after per store (C(persistent), C(runtime)).
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
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._backends import (
    BackendError, open_backend, other_file_stores,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service import (
    check_where, interface_addresses, module_kwargs, run_dhcpv6,
)


def main():
    module = AnsibleModule(**module_kwargs())
    params = module.params
    try:
        check_where(params)
        confirm = pending(module, 'dhcpv6_server', params)
        backend = open_backend(module)
        run_command = module_runner(module)
        addresses = None
        if params['state'] == 'present' and params['mode'] != 'disabled':
            addresses = interface_addresses(run_command, params['interface'], params['netns'])
        result = run_dhcpv6(params, backend, module.check_mode, addresses, warn=module.warn,
                            others=other_file_stores(params, run_command), confirm=confirm)
    except BackendError + (PlanError, ApplyError, ConfirmError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
