#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
module: ppp_server
short_description: A PPPoE access concentrator or L2TPv2 LNS whose PPP sessions run in the kernel
version_added: 0.1.0
description:
  - Keeps a PPP access concentrator on one interface, as pipex(4) keeps PPP sessions on OpenBSD -
    the control path in a daemon, the data path in the kernel. O(protocol=pppoe) (the default) - the
    server side of DSL-style PPP over Ethernet; O(protocol=l2tp) - an L2TPv2 LNS (RFC 2661) that LACs
    reach on O(listen_address), UDP port 1701.
  - PPPoE - each client session is a C(pppd) whose rp-pppoe plugin binds a PPPoX socket, so the
    kernel's C(pppoe) module carries its packets (the session shows in C(/proc/net/pppoe)). The
    discovery stage (PADI/PADO/PADR/PADS/PADT) is run by the collection's own daemon. Debian's
    C(pppoe-server) (rp-pppoe 3.15 in Debian 12) is built without kernel mode and relays every
    session through a userspace process, which is what pipex avoids.
  - L2TP - Debian's C(xl2tpd) (1.3.18 in Debian 12, kernel mode) holds the tunnels and calls and
    starts each call's C(pppd) with its pppol2tp plugin, so the kernel's C(l2tp_ppp) carries the
    session (it shows in C(/proc/net/pppol2tp)). The collection's daemon runs xl2tpd as its child from
    a config it writes, and follows the sessions in the kernel. Debian's own C(xl2tpd.service) must
    not hold UDP port 1701 on O(listen_address) (stop and disable it, or give it another address).
  - Both run under the collection's daemon, installed as C(/usr/local/lib/edgenet-router/pppoed.py)
    with the unit template C(edgenet-pppoe@.service), one instance per interface.
  - Three stores, each a row of RV(changes) when it differs. C(secrets) - the users' lines in
    C(/etc/ppp/pap-secrets) and C(/etc/ppp/chap-secrets) (mode 0600), those whose server column is
    C(edgenet-pppoe-INTERFACE) (C(edgenet-l2tp-INTERFACE) for an LNS); every other line stays as it is. C(persistent) - the boot config
    C(/etc/edgenet/ppp/INTERFACE.conf) and the unit enabled. C(runtime) - the config the running
    daemon reports (it writes C(/run/edgenet/ppp/INTERFACE.state) itself).
  - A change to a running concentrator is a reload (SIGHUP), never a restart. Sessions already up
    keep running with pppd's settings they started with (O(adjust_tcpmss) and O(ingress_filter)
    excepted, which are the daemon's and change on them too); new sessions get the new ones. Users
    are read by pppd at each authentication, so a new password holds from the next login.
  - Where the daemon cannot keep sessions up - an LNS whose O(listen_address), O(local_address),
    O(remote_pool) or O(max_sessions) changes, or whose O(tunnel_secret) is set or removed, restarts
    its xl2tpd (which reads them only at its start), and the LNS's sessions end; the LACs dial again.
  - The config is checked by the module and again by the daemon before it is used; a daemon that
    does not report the new config within 10 seconds fails the task, and every store is put back.
  - O(users) is the whole set of the concentrator's users - one it leaves out is removed. pppd
    also accepts lines whose server column is C(*) (any server); the module leaves them alone and
    warns that they can log in here too.
  - Needs systemd, C(python3) and the Debian package C(ppp) (pppd and its rp-pppoe and pppol2tp
    plugins) on the router; an LNS also C(xl2tpd).
author:
  - edgenet.router developers (@edgenet)
extends_documentation_fragment:
  - edgenet.router._attributes
  - edgenet.router._attributes.PLATFORM_LINUX
  - edgenet.router._attributes.ACTIONGROUP_NONE
  - edgenet.router._confirm
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  interface:
    description:
      - PPPoE - the Ethernet interface the clients are on. L2TP - the interface that holds
        O(listen_address). One concentrator per interface.
      - A literal interface name - it names the unit instance, the files and pppd's options.
      - The concentrator sets it up (and gives it no address - PPPoE needs none). Started at boot before
        the interface exists, it waits for it (an LNS also for O(listen_address)).
    type: str
    required: true
  state:
    description: V(absent) stops the concentrator (its sessions end), disables it and removes its
      files and users.
    type: str
    choices: [present, absent]
    default: present
  protocol:
    description:
      - V(pppoe) - a PPPoE access concentrator; V(l2tp) - an L2TPv2 LNS (needs O(listen_address)).
      - To switch an interface's concentrator to the other protocol, remove it first (V(absent) with
        its protocol) - a running one is not turned into the other by a reload.
    type: str
    choices: [pppoe, l2tp]
    default: pppoe
  listen_address:
    description:
      - L2TP only - the IPv4 address LACs send to (UDP port 1701), an address of O(interface).
      - Without O(tunnel_secret) the LNS takes a tunnel from every LAC that reaches it; users still
        authenticate in PPP.
    type: str
  tunnel_secret:
    description:
      - L2TP only - the shared secret of RFC 2661 tunnel authentication. The LNS challenges every
        LAC and takes no call on a tunnel whose LAC does not answer with it (xl2tpd's
        C(challenge); the LAC needs the same secret, and must send its host name). One secret for
        every LAC.
      - 1-64 printable characters without spaces, C(#) or C(;) (xl2tpd's secrets file reads them as
        field ends and comments).
      - Kept in the daemon's config files (mode 0600) and xl2tpd's secrets file (0600, next to the
        runtime config); masked in the result, the diff and every message, as the passwords are.
      - A new secret holds from the next tunnel (xl2tpd reads it at each challenge) and tunnels up
        stay; setting or removing it restarts xl2tpd, which ends the LNS's sessions.
      - It authenticates the tunnel's control messages only - L2TP carries sessions in clear. For
        privacy run IPsec (transport mode, UDP port 1701) beside the LNS; the module does not
        configure IPsec.
    type: str
  service_name:
    description:
      - PPPoE only - the Service-Name offered. A client asking for another service is left to other
        concentrators; one asking for any service (empty) is served.
      - Up to 64 printable characters, no spaces, quotes or backslashes; empty offers the empty name.
    type: str
    default: ''
  ac_name:
    description: PPPoE only - the AC-Name the concentrator offers in its PADO.
    type: str
    default: edgenet
  local_address:
    description: The concentrator's IPv4 address on every session. Required while O(state=present).
    type: str
  remote_pool:
    description:
      - The addresses handed to clients, C(FIRST-LAST) (one address alone is a pool of one).
        Must leave out O(local_address). Required while O(state=present).
    type: str
  dns_servers:
    description: Up to two IPv4 DNS servers sent to clients in IPCP.
    type: list
    elements: str
    default: []
  authentication:
    description: The protocols a client must authenticate with; a client may use any one of them.
    type: list
    elements: str
    choices: [chap, mschap-v2, pap]
    default: [pap, chap]
  users:
    description:
      - The users who may log in. Their passwords go to the secrets files and never to the result,
        the diff or a message.
      - The whole set - users of this concentrator missing here are removed.
    type: list
    elements: dict
    suboptions:
      name:
        description: 1-64 letters, digits, C(_), C(.), C(@), C(+) or C(-) (no pppd wildcards).
        type: str
        required: true
      password:
        description: 1-128 characters without control characters, double quotes, backslashes or
          C(#), not starting with C(@).
        type: str
        required: true
  mtu:
    description:
      - pppd's C(mtu) on each session, at most 1492.
      - Default - 1492 for PPPoE (the payload of a 1500 byte link), 1460 for L2TP (1500 less the
        IPv4, UDP, L2TP and PPP headers).
    type: int
  mru:
    description: pppd's C(mru) on each session. Default as for O(mtu).
    type: int
  idle_timeout:
    description: Seconds without IP traffic after which a session is closed (pppd's C(idle)); 0 never.
    type: int
    default: 0
  lcp_echo_interval:
    description: Seconds between LCP echo requests to each client; 0 sends none.
    type: int
    default: 10
  lcp_echo_failure:
    description: Unanswered LCP echo requests after which a session is closed; 0 never.
    type: int
    default: 3
  max_sessions:
    description:
      - Sessions served at once; further clients get no offer. Default - the size of O(remote_pool).
      - An LNS hands xl2tpd the first O(max_sessions) addresses of the pool (xl2tpd refuses a call
        when its range has none left - its only limit).
    type: int
  adjust_tcpmss:
    description:
      - Clamp the MSS of TCP SYNs through each session to the route MTU (pipex's option of that name),
        so TCP across a session's smaller MTU does not rely on ICMP reaching the hosts.
      - The daemon adds two rules per session (chain C(mss) of C(table inet edgenet_ppp), comment
        C(edgenet-ppp:INTERFACE:ID)) once pppd has named the session's link, and removes them when the
        session ends. Needs C(nft) (Debian package C(nftables)).
      - A change reaches the sessions already up too (at the reload).
      - M(edgenet.router.pipex_session_info) reads each session's rules back from the kernel.
    type: bool
    default: false
  ingress_filter:
    description:
      - Drop (and count) every IPv4 packet a session sends from an address other than the one the
        concentrator gave it (pipex's option of that name; clients cannot spoof sources through the
        concentrator).
      - One rule per session in chain C(ingress) of C(table inet edgenet_ppp), made and removed as for
        O(adjust_tcpmss). Needs C(nft).
      - A change reaches the sessions already up too (at the reload).
    type: bool
    default: false
notes:
  - Not yet here - per-user fixed addresses; a tunnel secret per LAC (one secret serves every LAC);
    IPsec for L2TP (L2TP/IPsec clients such as the VPN clients built into desktop and phone systems
    need an IKE daemon, for example strongSwan, set up beside the LNS).
  - An LNS closes a session (M(edgenet.router.pipex_session) with V(absent)) through xl2tpd's control
    pipe, which names the LNS's session id alone; when two tunnels use the same session id the daemon
    refuses to close either (logged), rather than close the wrong one.
  - O(adjust_tcpmss) and O(ingress_filter) are in place within a second of a session's IPCP coming up
    (the daemon applies them when pppd's ip-up names the link), not before its first packet.
  - A session's settings are fixed when it starts; to move every session to new settings, restart
    the unit (C(systemctl restart edgenet-pppoe@INTERFACE)), which ends them.
  - The program and the unit template are installed (or updated) by every change; their own
    content is not compared.
seealso:
  - module: edgenet.router.pipex_session_info
  - module: edgenet.router.pipex_session
'''

EXAMPLES = r'''
- name: A PPPoE concentrator on the access link, two users
  edgenet.router.ppp_server:
    interface: access0
    service_name: isp
    local_address: 100.64.0.1
    remote_pool: 100.64.0.10-100.64.0.73
    dns_servers: [100.64.0.53]
    authentication: [chap]
    idle_timeout: 1800
    adjust_tcpmss: true
    ingress_filter: true
    users:
      - name: alice
        password: "{{ vault_alice_password }}"
      - name: bob
        password: "{{ vault_bob_password }}"

- name: An L2TPv2 LNS on the address LACs reach, LACs authenticated by a tunnel secret, CHAP users
  edgenet.router.ppp_server:
    interface: core0
    protocol: l2tp
    listen_address: 192.0.2.1
    tunnel_secret: "{{ vault_lac_secret }}"
    local_address: 100.64.1.1
    remote_pool: 100.64.1.10-100.64.1.200
    dns_servers: [100.64.0.53]
    authentication: [chap]
    adjust_tcpmss: true
    users:
      - name: carol
        password: "{{ vault_carol_password }}"

- name: Nightly drift check
  edgenet.router.ppp_server:
    interface: access0
    service_name: isp
    local_address: 100.64.0.1
    remote_pool: 100.64.0.10-100.64.0.73
    users: "{{ access_users }}"
  check_mode: true
  diff: true

- name: Stop serving PPPoE on access0
  edgenet.router.ppp_server:
    interface: access0
    state: absent
'''

# confirm is written out here, not taken from the _confirm doc fragment: ansible-core 2.19
# merges no RETURN fragment (ansible-doc failed there), and the collection supports 2.19.
RETURN = r'''
server:
  description: The concentrator as the running daemon reports it after the task (in check mode, as
    it would), canonical; null when absent. Users are listed in RV(users), not here. A
    O(tunnel_secret) shows as a mask.
  returned: always
  type: dict
  sample:
    interface: access0
    protocol: pppoe
    listen_address: null
    tunnel_secret: null
    service_name: isp
    ac_name: edgenet
    local_address: 100.64.0.1
    remote_pool: 100.64.0.10-100.64.0.73
    dns_servers: [100.64.0.53]
    authentication: [chap]
    mtu: 1492
    mru: 1492
    idle_timeout: 1800
    lcp_echo_interval: 10
    lcp_echo_failure: 3
    max_sessions: 64
    adjust_tcpmss: true
    ingress_filter: true
users:
  description: The names of the concentrator's users after the task (never their passwords).
  returned: always
  type: list
  elements: str
  sample: [alice, bob]
commands:
  description: What a person would do for the same change (file writes, systemctl).
  returned: always
  type: list
  elements: str
  sample: ['write /etc/edgenet/ppp/access0.conf', 'systemctl enable edgenet-pppoe@access0.service']
changes:
  description:
    - The plan, one entry per store (C(secrets), C(persistent), C(runtime)) and object (a user name, or
      the interface) with each differing field; a password shows as a mask.
    - C(changed) is true exactly when this list is not empty, in check mode and in a real run.
  returned: always
  type: list
  elements: dict
  sample: [{store: secrets, object: alice, action: modify,
            fields: {password: {before: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER, after: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER}}}]
diff:
  description: The concentrator before and after, per store (C(persistent), C(runtime)).
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
      sample: '2026-12-05T12:00:00Z'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgenet.router.plugins.module_utils._command import module_runner
from ansible_collections.edgenet.router.plugins.module_utils._confirm import ConfirmError, pending
from ansible_collections.edgenet.router.plugins.module_utils._engine import ApplyError, PlanError
from ansible_collections.edgenet.router.plugins.module_utils._ppp._server import (
    PppError, module_kwargs, open_stores, run_ppp,
)


def main():
    module = AnsibleModule(**module_kwargs())
    params = module.params
    systemctl = module.get_bin_path('systemctl')
    if systemctl is None:
        module.fail_json(msg='ppp_server needs systemd on the router (systemctl runs the concentrator\'s unit)')
    if params['state'] == 'present' and module.get_bin_path('pppd', opt_dirs=['/usr/sbin']) is None:
        module.fail_json(msg='pppd is not installed on the managed host: the concentrator runs one per session '
                             '(Debian/Ubuntu: apt install ppp)')
    try:
        confirm = pending(module, 'ppp_server', params)
        with open_stores(params, module_runner(module), systemctl) as (secrets, boot, live):
            result = run_ppp(params, secrets, boot, live, module.check_mode, confirm=confirm, warn=module.warn)
    except (PppError, PlanError, ApplyError, ConfirmError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
