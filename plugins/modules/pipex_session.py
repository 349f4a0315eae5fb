#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
module: pipex_session
short_description: Static kernel L2TPv3 tunnels and Ethernet sessions (the Linux counterpart of pipex)
version_added: 0.1.0
description:
  - Creates, changes and removes static (unmanaged) L2TPv3 tunnels and Ethernet pseudowire
    sessions in the Linux kernel over generic netlink, with the session interface's MTU, alias
    and addresses. Such sessions keep forwarding in the kernel without a daemon, like OpenBSD's
    pipex(4) keeps PPP sessions in the kernel; see the pipex guide for the mapping.
  - A tunnel is shared by its sessions and planned as an object of its own, before them (store
    C(tunnels) in RV(changes)). It is created before the first session that needs it and deleted
    after the last (unless O(keep_tunnel=true)); new tunnel parameters re-create the tunnel and
    every session in it. Sessions of one tunnel that disagree on
    its parameters, or a tunnel that exists with other parameters and carries sessions the task
    does not name, are an error before anything changes.
  - The kernel changes in place only sequencing, the reorder timeout and LNS mode of a session,
    and the interface's MTU, alias, addresses and state. Any other change (ids, addresses, ports,
    encapsulation, cookies, L2-specific sublayer) deletes and re-creates the session, unless
    O(recreate=never).
  - "Persistent form: systemd-networkd's C(Kind=l2tp) (v252 in Debian 12) has no keys for cookies,
    sequencing or the session interface's alias, so it cannot bring every field back. With
    O(persistent=true) the module instead writes one state file per session under O(state_dir)
    (mode 0600: it holds the cookies) and enables the oneshot unit C(edgenet-pipex.service), which
    replays them with C(ip l2tp) at boot after C(network-online.target)."
  - Check mode reports drift per store (C(runtime), C(persistent); a tunnel's in C(tunnels) and on
    each of its sessions).
  - Sessions that carry PPP (PPPoE, L2TPv2) are held by their daemon and die with their socket - this
    module never creates one. Those of a M(edgenet.router.ppp_server) concentrator can be closed (see
    O(ifname) and O(ppp_user)); any other (another pppd, accel-ppp) is never touched.
author:
  - edgenet.router developers (@edgenet)
extends_documentation_fragment:
  - edgenet.router._attributes
  - edgenet.router._attributes.PLATFORM_LINUX
  - edgenet.router._attributes.ACTIONGROUP_LINKS
  - edgenet.router._confirm
  - edgenet.router._netns
  - edgenet.router._persistent
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  protocol:
    description:
      - The tunnel protocol (pipex C(pr_protocol)). Only V(l2tp) (L2TPv3) is kept in the Linux kernel
        without a daemon, so the option changes nothing.
      - Deprecated, to be removed in version 1.0.0 of the collection; a task that sets it gets a
        deprecation warning. Leave it out.
    type: str
    choices: [l2tp]
    default: l2tp
  ifname:
    description:
      - Name of the session's Ethernet interface (the kernel's C(l2tpethN)), 1 to 15 letters, digits,
        C(.), C(-) or C(_), starting with a letter, digit or C(_) and not all digits (it also names the
        state file). It identifies the session; changing an id keeps the name and re-creates the session.
      - Required unless O(sessions) or O(ppp_user) is given.
      - With O(state=absent), the link of a live PPP session of a M(edgenet.router.ppp_server)
        concentrator (its C(pppN), see M(edgenet.router.pipex_session_info)'s C(ppp_sessions)) closes
        that session, as pipex C(PIPEXDSESSION) does - its concentrator ends it cleanly (LCP terminate,
        then PADT for PPPoE; an LNS's xl2tpd hangs the call up with a CDN), RV(statistics) returns its
        final counters and RV(ppp_session) the session. Host namespace, single form only.
    type: str
    aliases: [name]
  ppp_user:
    description:
      - With O(state=absent), close every live PPP session of this user on the concentrators of
        M(edgenet.router.ppp_server) (as C(npppctl clear username) does on OpenBSD), each through its
        concentrator; RV(ppp_sessions) returns them and RV(statistics) their final counters by interface.
        No session of that user up is no change.
      - A user name as M(edgenet.router.ppp_server) takes it. Not with O(ifname) or O(sessions); host
        namespace only.
    type: str
  tunnel_id:
    description:
      - Local L2TPv3 control connection (tunnel) id, 1 to 4294967295. Sessions with the same
        O(tunnel_id) share one kernel tunnel, which must then have the same O(peer_tunnel_id),
        O(encap), O(local), O(remote) and ports. Required when O(state=present).
    type: int
  peer_tunnel_id:
    description: The peer's tunnel id, 1 to 4294967295. Required when O(state=present).
    type: int
  session_id:
    description:
      - Local session id, 1 to 4294967295 (pipex C(pr_session_id)), unique within the tunnel.
        Required when O(state=present).
    type: int
  peer_session_id:
    description:
      - The peer's session id, 1 to 4294967295. Required when O(state=present).
      - Unique within the tunnel, among the task's sessions and those already in the kernel (the peer
        tells sessions apart by it).
    type: int
  encap:
    description:
      - V(udp) carries L2TPv3 in UDP (ports O(udp_sport), O(udp_dport)); V(ip) directly over IP
        (protocol 115), which takes no ports.
    type: str
    choices: [udp, ip]
    default: udp
  local:
    description:
      - Local underlay address (IPv4 or IPv6, without a C(%zone)), configured on this host. Required when
        O(state=present). Not unspecified, multicast or V(255.255.255.255).
    type: str
  remote:
    description:
      - The peer's underlay address, of the same family as O(local). Required when O(state=present).
      - A unicast address other than O(local); a loopback address only when O(local) is one too (a tunnel
        inside this host).
    type: str
  udp_sport:
    description: Local UDP port with O(encap=udp). Default V(1701). Refused with O(encap=ip).
    type: int
  udp_dport:
    description: Peer UDP port with O(encap=udp). Default V(1701). Refused with O(encap=ip).
    type: int
  cookie:
    description:
      - Cookie this end sends, 4 or 8 bytes as hex (V(0x1a2b3c4d), V(1a:2b:3c:4d) or V(1a2b3c4d5e6f7a8b)).
        The peer's O(peer_cookie) must match. Omit (or V(none)) for no cookie. Not logged.
      - Text only; quote it in YAML (an unquoted V(0x1a2b3c4d) is a number, which is refused).
    type: raw
  peer_cookie:
    description: Cookie expected from the peer, 4 or 8 bytes as hex, like O(cookie) (text only). Not logged.
    type: raw
  l2spec_type:
    description:
      - L2-specific sublayer, V(default) (the 4-byte default sublayer, RFC 3931) or V(none). Both ends
        must agree. The kernel does not report it back, so it is written but never reported as drift.
    type: str
    choices: [default, none]
    default: default
  sequencing:
    description:
      - Sequence numbers on data packets (pipex C(PIPEX_L2TP_USE_SEQUENCING)), V(send), V(recv)
        (require them), V(both) or V(none). Changed in place.
    type: str
    choices: [none, send, recv, both]
    default: none
  reorder_timeout:
    description:
      - Milliseconds to hold out-of-order packets for reordering (O(sequencing=recv) or V(both)); V(0)
        drops them. The kernel keeps it in jiffies, so a read-back value up to 10 ms above counts as equal
        (the result shows the kernel's value, e.g. V(52) for V(50) at 250 Hz).
      - Needs O(persistent=false) when not V(0) (ip l2tp cannot replay it at boot).
    type: int
    default: 0
  lns_mode:
    description:
      - Let the kernel act as LNS for sequencing (it decides whether the peer sends sequence numbers).
        Changed in place. Needs O(persistent=false) when V(true).
    type: bool
    default: false
  mtu:
    description: MTU of the session interface (pipex peer MRU). Omit to keep the kernel's choice.
    type: int
  description:
    description:
      - Interface alias (pipex C(PIPEXSIFDESCR)); V("") removes it. Omit to leave it alone.
      - One line of text, at most 255 bytes of UTF-8 (the kernel's limit); control characters and line
        breaks are refused, and so are lists and dictionaries.
    type: raw
  enabled:
    description: Whether the session interface is administratively up.
    type: bool
    default: true
  addresses:
    description:
      - Addresses with prefix length on the session interface. When given, exactly these (IPv6
        link-local left alone); omit to leave addresses unmanaged.
    type: list
    elements: str
  adjust_tcpmss:
    description:
      - Clamp the TCP MSS of SYNs in and out of the interface to the route MTU (pipex
        C(PIPEX_PPP_ADJUST_TCPMSS)), with two rules in the nftables chain C(inet edgenet_pipex mss)
        commented C(edgenet-pipex:IFNAME). Needs C(nft). Removed with the session.
    type: bool
    default: false
  ingress_filter:
    description:
      - Strict reverse-path filter (C(rp_filter=1)) on the interface (pipex C(PIPEX_PPP_INGRESS_FILTER)),
        IPv4 only. The effective value is the maximum of C(all) and the interface's. It goes away with
        the interface.
    type: bool
    default: false
  peer:
    description:
      - Inventory name of the host at the other end of the pseudowire, as the P(edgenet.router.tunnel_end#filter)
        filter sets it from a pseudowire declared once for both hosts.
      - Lives in no store and changes nothing on the router - the module checks that it looks like an inventory
        host name and returns it in RV(peers), where the P(edgenet.router.drift_report#callback) callback
        finds the two ends of a session and reports where their kernel states no longer match (endpoints, ids,
        UDP ports, a cookie on one end only, encapsulation, MTU).
    type: str
  state:
    description: Whether the session should exist.
    type: str
    choices: [present, absent]
    default: present
  sessions:
    description:
      - Bulk mode, a list of sessions, each with the options above from O(ifname) to O(state).
      - O(persistent), O(recreate), O(keep_tunnel), O(netns) and O(state_dir) apply to all of them.
    type: list
    elements: dict
    suboptions:
      ifname:
        description: See O(ifname).
        type: str
        aliases: [name]
        required: true
      tunnel_id:
        description: See O(tunnel_id).
        type: int
      peer_tunnel_id:
        description: See O(peer_tunnel_id).
        type: int
      session_id:
        description: See O(session_id).
        type: int
      peer_session_id:
        description: See O(peer_session_id).
        type: int
      encap:
        description: See O(encap).
        type: str
        choices: [udp, ip]
        default: udp
      local:
        description: See O(local).
        type: str
      remote:
        description: See O(remote).
        type: str
      udp_sport:
        description: See O(udp_sport).
        type: int
      udp_dport:
        description: See O(udp_dport).
        type: int
      cookie:
        description: See O(cookie).
        type: raw
      peer_cookie:
        description: See O(peer_cookie).
        type: raw
      l2spec_type:
        description: See O(l2spec_type).
        type: str
        choices: [default, none]
        default: default
      sequencing:
        description: See O(sequencing).
        type: str
        choices: [none, send, recv, both]
        default: none
      reorder_timeout:
        description: See O(reorder_timeout).
        type: int
        default: 0
      lns_mode:
        description: See O(lns_mode).
        type: bool
        default: false
      mtu:
        description: See O(mtu).
        type: int
      description:
        description: See O(description).
        type: raw
      enabled:
        description: See O(enabled).
        type: bool
        default: true
      addresses:
        description: See O(addresses).
        type: list
        elements: str
      adjust_tcpmss:
        description: See O(adjust_tcpmss).
        type: bool
        default: false
      ingress_filter:
        description: See O(ingress_filter).
        type: bool
        default: false
      peer:
        description: See O(peer).
        type: str
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
        default: present
  keep_tunnel:
    description: Keep a tunnel when its last session is removed.
    type: bool
    default: false
  recreate:
    description:
      - What to do when a change needs the session deleted and created again (ids, endpoints, cookies...).
      - V(never) fails before anything is changed.
    type: str
    choices: [allowed, never]
    default: allowed
  state_dir:
    description:
      - Directory of the state files of the persistent store. C(edgenet-pipex.service) is written to
        C(/etc/systemd/system) and replays the files of this directory.
      - An absolute path of letters, digits, C(_), C(.), C(/), C(+) and C(-) (the unit names it unquoted).
    type: path
    default: /etc/edgenet/pipex
notes:
  - On a kernel without L2TP support (C(l2tp_netlink) neither built in nor loadable) the task fails, in
    check mode too - the read of the current sessions already needs it.
  - Persistent first, then the kernel; if the kernel change fails, the state file (and the unit, its
    script and link when this run wrote them) is restored byte for byte and the error says so.
  - After the writes, C(systemctl daemon-reload) (when systemctl exists); if it fails, every change of the
    task is rolled back. The state and unit directories are locked from the read to the end of the task
    (not in check mode, which creates no lock file).
  - With O(persistent=true), O(netns) is refused (the boot unit works in the host namespace), and so are
    O(lns_mode=true) and a non-zero O(reorder_timeout) (C(ip l2tp) cannot set them on a new session).
  - New parameters for a tunnel that carries several sessions re-create the tunnel and all of them,
    so every session of that tunnel must be named in the same task (bulk mode).
seealso:
  - module: edgenet.router.pipex_session_info
  - name: ip-l2tp(8)
    description: The iproute2 command the O(ignore:commands) result mirrors.
    link: https://man7.org/linux/man-pages/man8/ip-l2tp.8.html
  - name: Kernel L2TP documentation
    description: Unmanaged tunnels, Ethernet sessions, what can change in place.
    link: https://docs.kernel.org/networking/l2tp.html
'''

EXAMPLES = r'''
- name: Ethernet pseudowire over UDP with cookies and sequencing
  edgenet.router.pipex_session:
    tunnel_id: 100
    peer_tunnel_id: 200
    session_id: 1000
    peer_session_id: 2000
    local: 192.0.2.1
    remote: 192.0.2.2
    encap: udp
    udp_sport: 1701
    udp_dport: 1701
    sequencing: both
    cookie: "0x1a2b3c4d"
    peer_cookie: "0x4d3c2b1a"
    ifname: l2tpeth-wan
    mtu: 1446
    description: customer 42
    addresses: [10.42.0.1/30]
    adjust_tcpmss: true

- name: Two sessions in one tunnel over IP, runtime only, in a namespace
  edgenet.router.pipex_session:
    netns: edge
    persistent: false
    sessions:
      - {ifname: pw-a, tunnel_id: 7, peer_tunnel_id: 7, session_id: 1, peer_session_id: 1,
         encap: ip, local: 2001:db8::1, remote: 2001:db8::2}
      - {ifname: pw-b, tunnel_id: 7, peer_tunnel_id: 7, session_id: 2, peer_session_id: 2,
         encap: ip, local: 2001:db8::1, remote: 2001:db8::2}

- name: Remove a session (its tunnel goes with the last session)
  edgenet.router.pipex_session:
    ifname: l2tpeth-wan
    state: absent
'''

# confirm is written out here, not taken from the _confirm doc fragment: ansible-core 2.19
# merges no RETURN fragment (ansible-doc failed there), and the collection supports 2.19.
RETURN = r'''
session:
  description:
    - The session in the kernel after the task (in check mode, as it would be), in canonical form,
      cookies masked (V(none), no cookie, is shown as it is); V(null) when absent. Single form only.
  returned: success and O(ifname) given
  type: dict
  sample:
    ifname: l2tpeth-wan
    tunnel_id: 100
    peer_tunnel_id: 200
    session_id: 1000
    peer_session_id: 2000
    encap: udp
    local: 192.0.2.1
    remote: 192.0.2.2
    udp_sport: 1701
    udp_dport: 1701
    cookie: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER
    peer_cookie: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER
    l2spec_type: null
    sequencing: both
    reorder_timeout: 0
    lns_mode: false
    mtu: 1446
    description: customer 42
    enabled: true
    addresses: [10.42.0.1/30]
    adjust_tcpmss: true
    ingress_filter: false
sessions:
  description: Bulk form, each named session in the kernel after the task, by interface name.
  returned: success and O(sessions) given
  type: dict
  sample: {pw-a: {ifname: pw-a, tunnel_id: 7, session_id: 1}}
statistics:
  description:
    - Kernel counters of the session (pipex C(PIPEXGSTAT)) read after the task; in bulk form a dict by
      interface name. V(null) when the session does not exist (or, in check mode, does not exist yet);
      in bulk form such a session has no entry.
    - A session the task removed returns its final counters, as read just before it was deleted
      (pipex returns them too when it closes a session); in check mode, the counters it has now. A
      session that was already gone before the task has none (V(null), or no entry in bulk form).
    - PPP sessions closed by O(ppp_user) return theirs as a dict by interface name.
  returned: always
  type: dict
  sample: {rx_packets: 12, rx_bytes: 1104, rx_errors: 0, rx_seq_discards: 0, rx_oos_packets: 0,
           tx_packets: 12, tx_bytes: 1104, tx_errors: 0}
ppp_session:
  description: The PPP session O(state=absent) closed (see O(ifname)), as it was just before; only then.
  returned: when a PPP session was closed
  type: dict
  sample: {protocol: pppoe, concentrator: access0, session_id: 1, peer_mac: 02:00:00:00:00:02, interface: ppp0,
           user: alice, address: 100.64.0.10, uptime: 3600, idle_time: 12, in_kernel: true,
           adjust_tcpmss: false, ingress_filter: false,
           statistics: {rx_packets: 120, tx_packets: 118, rx_bytes: 10080, tx_bytes: 9912}}
ppp_sessions:
  description: The PPP sessions O(state=absent) closed (by O(ifname) or O(ppp_user)), each as it was just before.
  returned: when O(ppp_user) is given, or O(ifname) named a PPP session
  type: list
  elements: dict
  sample: [{protocol: pppoe, concentrator: access0, session_id: 1, peer_mac: 02:00:00:00:00:02, interface: ppp0,
            user: alice, address: 100.64.0.10, uptime: 3600, idle_time: 12, in_kernel: true,
            adjust_tcpmss: true, ingress_filter: true,
            statistics: {rx_packets: 120, tx_packets: 118, rx_bytes: 10080, tx_bytes: 9912}}]
peers:
  description:
    - The O(peer) of each session of the task that names one, keyed by interface name (single and bulk form
      alike), for the P(edgenet.router.drift_report#callback) callback.
  returned: when a session names its O(peer)
  type: dict
  sample: {pw-cust42: pe-west}
commands:
  description: What a person would run for the same change, C(ip l2tp) / C(ip link) commands and file writes.
  returned: always
  type: list
  elements: str
  sample:
    - ip l2tp add tunnel tunnel_id 100 peer_tunnel_id 200 encap udp local 192.0.2.1 remote 192.0.2.2 udp_sport 1701 udp_dport 1701
    - write /etc/edgenet/pipex/l2tpeth-wan.conf
    - systemctl enable edgenet-pipex.service
    - ip l2tp add session name l2tpeth-wan tunnel_id 100 session_id 1000 peer_session_id 2000 l2spec_type default seq both
changes:
  description:
    - The plan, one entry per object and store, with each drifted field's before and after value.
    - C(store) is C(runtime) or C(persistent) for a session (C(object) its interface name), C(tunnels)
      for a tunnel in the kernel (C(object) its tunnel id).
  returned: always
  type: list
  elements: dict
  sample:
    - store: runtime
      object: l2tpeth-wan
      action: modify
      fields: {sequencing: {before: none, after: both}}
diff:
  description: Before and after, per store (C(runtime), C(persistent)); in bulk form keyed by interface name first.
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
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError
from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdError
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import PipexError
from ansible_collections.edgenet.router.plugins.module_utils._pipex._service import module_kwargs, open_stores, run_pipex
from ansible_collections.edgenet.router.plugins.module_utils._ppp._sessions import CloseError, close_result


def main():
    module = AnsibleModule(**module_kwargs())
    params = module.params
    try:
        # state absent naming a live PPP session (pppN of a ppp_server concentrator): closed
        # through its daemon (pipex's PIPEXDSESSION), final counters returned.
        closed = close_result(params, module_runner(module), module.get_bin_path('systemctl') or 'systemctl',
                              module.check_mode)
        if closed is not None:
            module.exit_json(**closed)
        confirm = pending(module, 'pipex_session', params)
        with open_stores(params, module_runner(module), module.get_bin_path('systemctl')) as (tunnels, runtime, files):
            result = run_pipex(params, tunnels, runtime, files, module.check_mode, confirm=confirm)
    except (PipexError, PlanError, ApplyError, NetlinkError, NetworkdError, ConfirmError, CloseError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
