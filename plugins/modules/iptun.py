#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
module: iptun
short_description: Kernel IP and GRE tunnels (ipip, sit, ip6tnl, 6to4, 6rd, gre, gretap), at runtime and across reboots
version_added: 0.1.0
description:
  - Creates, changes and removes Linux IP-in-IP tunnels, 4in4 (C(ipip)), 6in4 (C(sit)),
    6in6 and 4in6 (C(ip6tnl)), 6to4 and 6rd, and GRE tunnels (C(gre), C(ip6gre), and the Ethernet
    C(gretap), C(ip6gretap)) with their keys, checksums and sequence numbers, with their addresses and routes.
  - Reads the tunnel from the kernel over netlink and, with O(persistent=true), from the
    files of the router's network manager that bring it back at boot (systemd-networkd,
    ifupdown or NetworkManager, see O(persistent_store)); compares both with the task and changes
    only what differs. Check mode reports drift per store (C(runtime), C(persistent)).
  - The kernel cannot change a tunnel's type in place; such a change deletes and re-creates the
    link, unless O(recreate=never).
  - Omitted tunnel parameters take the defaults iproute2 uses, because the kernel resets every
    parameter a change leaves out.
  - Bulk mode (O(tunnels)) handles many tunnels with one netlink dump and one plan; with
    O(purge=true) it also removes the other tunnels this collection made (they carry the link
    alias C(edgenet.router) or a managed file); tunnels made by others are never removed.
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
        letter, digit or C(_), and not all digits.
      - The name becomes the link, its networkd file names and their C([Match] Name=), which systemd-networkd
        reads as a pattern, so C(*), C(?), C([...]), a leading C(!) and every other character are refused.
      - The kernel's fallback devices C(tunl0), C(sit0), C(ip6tnl0), C(gre0), C(gretap0), C(erspan0), C(ip6gre0),
        C(ip6gretap0) and C(ip6erspan0) are refused.
      - Required unless O(tunnels) is given.
    type: str
  type:
    description:
      - What the tunnel carries over what.
      - V(ipip) (alias V(4in4)) IPv4 in IPv4; V(sit) (alias V(6in4)) IPv6 in IPv4;
        V(ip6ip6) (alias V(6in6)) IPv6 in IPv6; V(ipip6) (alias V(4in6)) IPv4 in IPv6;
        V(6to4) a sit tunnel with no fixed remote (RFC 3056), O(local) required, O(remote) refused.
      - V(6rd) a 6to4-like sit tunnel for the ISP's 6rd prefix O(sixrd_prefix) (RFC 5969), O(local)
        required, O(remote) refused. M(edgenet.router.sixtofour_relay) derives the whole 6rd setup.
      - V(ipv4) is illumos' IPv4 tunnel (a sit device in mode any, carrying IPv4 and IPv6);
        V(ipv6) the same over IPv6 (ip6tnl mode any).
      - V(gre) GRE over IPv4 and V(ip6gre) (alias V(gre6)) GRE over IPv6 (RFC 2784, keys and sequence
        numbers RFC 2890), carrying IPv4 and IPv6; V(gretap) and V(ip6gretap) carry Ethernet frames
        instead (a link with a MAC address, for a bridge or a routed L2 segment). They take O(ikey),
        O(okey), O(icsum), O(ocsum), O(iseq), O(oseq) and their shorthands; V(gre) and V(gretap) the IPv4
        outer options of ipip (O(ttl), O(tos), O(pmtudisc)), V(ip6gre) and V(ip6gretap) those of ip6tnl
        (O(ttl), O(tos), O(encaplimit), O(flowlabel)).
      - Persistent stores - systemd-networkd has no V(ipv4) tunnel; NetworkManager has neither V(ipv4),
        V(ipv6) nor V(6rd). Those need O(persistent=false) or the ifupdown store (a task asking for
        them is refused before anything changes).
      - Required when O(state=present).
    type: str
    choices: [4in4, 4in6, 6in4, 6in6, 6rd, 6to4, gre, gre6, gretap, ip6gre, ip6gretap, ip6ip6, ipip, ipip6, ipv4, ipv6, sit]
  local:
    description:
      - Local (outer) address, or a host name that resolves to exactly one address of the
        tunnel's outer family.
      - Omit for any local address (not with V(6to4)); an empty string is refused, not taken as any.
      - Unspecified, loopback, multicast and IPv4-mapped IPv6 (C(::ffff:0:0/96)) addresses are refused.
      - With the NetworkManager store, ip6gre and ip6gretap need O(local) - NetworkManager sends their remote
        only when local is set.
    type: str
  remote:
    description:
      - Remote (outer) address or a host name, resolved like O(local); it must differ from O(local).
      - Required for every type but V(6to4), which refuses it.
      - Two tunnels of the same kernel kind with the same O(local), O(remote) and O(link) are refused
        (the kernel keeps one); GRE tunnels may share them when their O(ikey) differs, as the kernel
        finds a GRE tunnel by its input key too.
    type: str
  ttl:
    description:
      - TTL (IPv4 outer) or hop limit (IPv6 outer) of the outer header.
      - Default V(0) (inherit from the inner packet) for ipip, sit, gre and gretap types, V(64) for ip6tnl,
        ip6gre and ip6gretap types.
    type: int
    aliases: [hoplimit]
  tos:
    description:
      - TOS byte (IPv4 outer) or traffic class (IPv6 outer) of the outer header, a number
        0-255 or V(inherit) to copy it from the inner packet. Default V(0).
      - For ipip, sit, gre and gretap the kernel holds V(inherit) as the TOS byte 1 (C(ip) prints 1 as
        C(tos inherit)), so V(1) is taken as V(inherit) there.
      - Persistent stores - systemd-networkd and NetworkManager write V(inherit) for ipip, sit, gre and
        gretap as C(TOS=1) / C(tos=1); systemd-networkd keeps no traffic class at
        all for the IPv6 types ip6tnl, ip6gre and ip6gretap (only V(0); its C(CopyDSCP=) copies the outer
        DSCP into received packets, which is not V(inherit)); NetworkManager cannot keep V(inherit) for ip6gre and
        ip6gretap (1.42 refuses ip-tunnel flags on those modes). The ifupdown store keeps every value.
    type: raw
    aliases: [tclass]
  pmtudisc:
    description:
      - Path MTU discovery on the outer IPv4 header (ipip, sit, gre and gretap types only). Default V(true).
      - V(false) needs O(ttl=0); the kernel refuses a fixed TTL without it. With V(true) the outer
        header always has DF set; with V(false) it copies the inner packet's DF (proven on the wire).
    type: bool
  encaplimit:
    description:
      - Tunnel encapsulation limit option of the outer IPv6 header (ip6tnl, ip6gre and ip6gretap types only),
        a number 0-255 or V(none) to send no such option. Default V(4).
      - Persistent stores - for ip6gre and ip6gretap systemd-networkd sends no encapsulation limit and the kernel
        holds V(0) after boot, so only V(0) and V(none) are kept there (the default V(4) is refused; set one of
        them); NetworkManager 1.42 cannot keep V(none) for ip6gre and ip6gretap.
    type: raw
  flowlabel:
    description:
      - IPv6 flow label of the outer header (ip6tnl, ip6gre and ip6gretap types only), 0 to 0xFFFFF. Default V(0).
    type: int
  ikey:
    description:
      - GRE key the tunnel expects on packets it receives (GRE types only), a number 0 to 4294967295 or the
        dotted form C(ip -d link) prints (V(0.0.0.42) is V(42)); V(none) or omitted, no key.
      - Returned as a number, or V(none).
      - Not secret and not masked - the key travels in clear in every packet and any local user reads it with
        C(ip -d link); it tells tunnels apart, it authenticates nothing (use IPsec for that).
      - Persistent stores - systemd-networkd cannot keep a key of V(0) (its C(InputKey=)/C(OutputKey=) take 0
        as no key); ifupdown and NetworkManager keep every key.
    type: raw
  okey:
    description:
      - GRE key the tunnel puts on packets it sends (GRE types only), as O(ikey). The far end's O(ikey).
    type: raw
  key:
    description:
      - Shorthand for the same O(ikey) and O(okey). Given with either of them, they must agree.
      - Only the pair is read back and returned.
    type: raw
  icsum:
    description:
      - Require a GRE checksum on received packets (GRE types only; packets without one are dropped). Default V(false).
    type: bool
  ocsum:
    description:
      - Put a GRE checksum on sent packets (GRE types only). Default V(false).
      - Persistent stores - systemd-networkd and NetworkManager have no GRE checksum setting, so V(true) of
        O(icsum) or O(ocsum) is refused with them; ifupdown keeps it.
    type: bool
  csum:
    description:
      - Shorthand for the same O(icsum) and O(ocsum); given with either, they must agree.
    type: bool
  iseq:
    description:
      - Require GRE sequence numbers on received packets, dropping those out of order (GRE types only). Default V(false).
    type: bool
  oseq:
    description:
      - Number the packets sent (GRE types only). Default V(false).
      - Persistent stores - systemd-networkd sets sequence numbers in both directions at once
        (C(SerializeTunneledPackets=)) and for gre and gretap only, so O(iseq) and O(oseq) must agree there and be
        V(false) for ip6gre and ip6gretap; NetworkManager has no sequence number setting; ifupdown keeps every value.
    type: bool
  seq:
    description:
      - Shorthand for the same O(iseq) and O(oseq); given with either, they must agree.
    type: bool
  sixrd_prefix:
    description:
      - The 6rd prefix (RFC 5969) of a V(6rd) tunnel, for example V(2001:db8::/32). Required for
        V(6rd), refused for the other types.
    type: str
  sixrd_relay_prefix:
    description:
      - The IPv4 prefix all 6rd nodes of the domain share (the bits left out of the delegated
        prefix), for example V(10.0.0.0/8). V(6rd) only. Default V(0.0.0.0/0) (every IPv4 bit is
        embedded).
      - systemd-networkd cannot store it (NetworkManager no 6rd tunnel at all); anything but
        V(0.0.0.0/0) needs O(persistent=false) or the ifupdown store.
    type: str
  mtu:
    description:
      - MTU of the tunnel. Omit to let the kernel derive it from the underlay (and leave it alone).
    type: int
  link:
    description:
      - Underlay device the outer packets are bound to, an interface name under the same rule as O(name).
        Not with the systemd-networkd store (networkd ties a tunnel to its underlay in the underlay's own
        file); the ifupdown and NetworkManager stores and O(persistent=false) take it.
    type: str
  enabled:
    description:
      - Whether the tunnel is administratively up.
      - NetworkManager cannot keep a tunnel that exists but stays down (it brings a connection's device
        up); V(false) needs O(persistent=false) or another store there.
    type: bool
    default: true
  addresses:
    description:
      - Addresses with prefix length on the tunnel, for example V(2001:db8:1f0a::2/64).
      - When given, the tunnel carries exactly these (IPv6 link-local addresses, which the kernel
        makes itself, are left alone); omit to leave addresses unmanaged.
      - Unicast addresses only, each listed once (two spellings of one address are refused too).
    type: list
    elements: str
  routes:
    description:
      - Routes through this tunnel, in the main table or the one O(routes[].table) names. When given, the
        routes out of this tunnel (in every table) are exactly these; omit to leave them unmanaged.
      - The kernel keys a link's routes by destination and metric (and table, and source prefix), so two
        routes with the same O(routes[].dest), O(routes[].metric), O(routes[].table) and O(routes[].from)
        are refused.
      - Returned routes have C(dest), C(via) and C(metric), and C(table), C(src) and C(from) only when set
        (a route in the main table has no C(table)).
      - NetworkManager adds a family's routes only with an address of that family on the tunnel, so IPv4
        (IPv6) routes need an IPv4 (IPv6) entry in O(addresses) with that store.
    type: list
    elements: dict
    suboptions:
      dest:
        description: Destination network, for example V(::/0).
        type: str
        required: true
      via:
        description: Gateway, a unicast address of the destination's family; omit for an on-link route.
        type: str
      metric:
        description:
          - Route metric, 0 to 4294967295. Default V(0) for IPv4 and V(1024) for IPv6, as the kernel does.
        type: int
      table:
        description:
          - Routing table, a number 1 to 4294967295 other than 255 (the kernel's local table), or V(main) (254,
            the default) or V(default) (253). Traffic reaches another table through a rule (C(ip rule)).
        type: raw
      src:
        description:
          - Preferred source address for traffic this route carries (C(ip route ... src)), an address of the
            destination's family, usually one of this router's.
        type: str
      from:
        description:
          - Source prefix of a source-specific route (C(ip route ... from)), for example the prefix a provider
            delegated, so a multihomed router sends that prefix's traffic to that provider.
          - IPv6 only, the Linux IPv4 routing table has none - for IPv4 put the route in its own O(routes[].table)
            and add a rule for the source (O(rules)).
        type: str
  rules:
    description:
      - Routing policy rules (C(ip rule)) that send traffic to this tunnel's tables, for example what comes from
        a prefix to the table of this tunnel's routes. When given, the rules leading to the tables of this tunnel's
        routes (other than main) are exactly these; omit to leave them unmanaged.
      - The kernel ties a rule to no link, so a tunnel's rules are told apart by where they lead - each rule's
        O(rules[].table) must be a table one of this tunnel's O(routes) use, and two tunnels with rules cannot
        share a table. They are added after the tunnel's routes and removed with the tunnel.
      - systemd-networkd keeps them as C([RoutingPolicyRule]) in the tunnel's C(.network), ifupdown as C(ip rule)
        lines of the tunnel's stanza, NetworkManager as C(routing-rule) entries of the connection (which needs an
        address of the rule's family).
    type: list
    elements: dict
    suboptions:
      priority:
        description:
          - The rule's priority, 1 to 32765 (0, 32766 and 32767 are the kernel's own rules); lower goes first.
        type: int
        required: true
      table:
        description:
          - The table the rule leads to, a number other than main, 253 (V(default) also) or 255, that this tunnel's
            routes use.
        type: raw
        required: true
      from:
        description: Source prefix the rule matches, for example V(10.1.0.0/16). O(rules[].from) or O(rules[].to) is required; they give the family.
        type: str
      to:
        description: Destination prefix the rule matches.
        type: str
      iif:
        description: Incoming interface the rule matches (a literal interface name).
        type: str
  peer:
    description:
      - Inventory name of the host at the other end of the tunnel, as the P(edgenet.router.tunnel_end#filter)
        filter sets it from a tunnel declared once for both hosts.
      - Lives in no store and changes nothing on the router - the module checks that it looks like an inventory
        host name and returns it in RV(peers), where the P(edgenet.router.drift_report#callback) callback
        finds the two ends of a tunnel and reports where their kernel states no longer match (endpoints, keys,
        checksums, sequence numbers, type, MTU).
    type: str
  state:
    description: Whether the tunnel should exist.
    type: str
    choices: [present, absent]
    default: present
  tunnels:
    description:
      - Bulk mode, a list of tunnels, each with the options above from O(name) to O(state).
      - O(persistent), O(recreate), O(netns) and O(purge) apply to all of them.
    type: list
    elements: dict
    suboptions:
      name:
        description: See O(name).
        type: str
        required: true
      type:
        description: See O(type).
        type: str
        choices: [4in4, 4in6, 6in4, 6in6, 6rd, 6to4, gre, gre6, gretap, ip6gre, ip6gretap, ip6ip6, ipip, ipip6, ipv4, ipv6, sit]
      local:
        description: See O(local).
        type: str
      remote:
        description: See O(remote).
        type: str
      ttl:
        description: See O(ttl).
        type: int
        aliases: [hoplimit]
      tos:
        description: See O(tos).
        type: raw
        aliases: [tclass]
      pmtudisc:
        description: See O(pmtudisc).
        type: bool
      encaplimit:
        description: See O(encaplimit).
        type: raw
      flowlabel:
        description: See O(flowlabel).
        type: int
      ikey:
        description: See O(ikey).
        type: raw
      okey:
        description: See O(okey).
        type: raw
      key:
        description: See O(key).
        type: raw
      icsum:
        description: See O(icsum).
        type: bool
      ocsum:
        description: See O(ocsum).
        type: bool
      csum:
        description: See O(csum).
        type: bool
      iseq:
        description: See O(iseq).
        type: bool
      oseq:
        description: See O(oseq).
        type: bool
      seq:
        description: See O(seq).
        type: bool
      sixrd_prefix:
        description: See O(sixrd_prefix).
        type: str
      sixrd_relay_prefix:
        description: See O(sixrd_relay_prefix).
        type: str
      mtu:
        description: See O(mtu).
        type: int
      link:
        description: See O(link).
        type: str
      enabled:
        description: See O(enabled).
        type: bool
        default: true
      addresses:
        description: See O(addresses).
        type: list
        elements: str
      routes:
        description: See O(routes).
        type: list
        elements: dict
        suboptions:
          dest:
            description: See O(routes[].dest).
            type: str
            required: true
          via:
            description: See O(routes[].via).
            type: str
          metric:
            description: See O(routes[].metric).
            type: int
          table:
            description: See O(routes[].table).
            type: raw
          src:
            description: See O(routes[].src).
            type: str
          from:
            description: See O(routes[].from).
            type: str
      rules:
        description: See O(rules).
        type: list
        elements: dict
        suboptions:
          priority:
            description: See O(rules[].priority).
            type: int
            required: true
          table:
            description: See O(rules[].table).
            type: raw
            required: true
          from:
            description: See O(rules[].from).
            type: str
          to:
            description: See O(rules[].to).
            type: str
          iif:
            description: See O(rules[].iif).
            type: str
      peer:
        description: See O(peer).
        type: str
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
        default: present
  purge:
    description:
      - With O(tunnels), also remove every other tunnel this collection manages in the namespace.
    type: bool
    default: false
  recreate:
    description:
      - What to do when a change needs the link deleted and created again (a new type).
      - V(never) fails before anything is changed.
    type: str
    choices: [allowed, never]
    default: allowed
notes:
  - In check mode, a tunnel the task would create whose kernel module (C(ipip), C(sit), C(ip6_tunnel), C(ip_gre) or C(ip6_gre))
    is neither loaded nor listed under C(/lib/modules/<release>) gives a warning - the real run fails there
    (check mode writes nothing, so it cannot try). In a container whose host loads modules on demand the
    warning can be a false alarm.
  - The runtime and persistent stores are changed in one transaction; files first, then the kernel.
    If the kernel change fails, the files are restored byte for byte and the error says so.
  - Tunnels are changed with the complete parameter set, as the kernel zeroes parameters a change
    leaves out.
seealso:
  - module: edgenet.router.iptun_info
  - name: ip-link(8)
    description: The iproute2 command the O(ignore:commands) result mirrors.
    link: https://man7.org/linux/man-pages/man8/ip-link.8.html
  - name: systemd.netdev(5)
    description: The persistent store's file format.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemd.netdev.html
'''

EXAMPLES = r'''
- name: 6in4 tunnel to a tunnel broker, with a default IPv6 route
  edgenet.router.iptun:
    name: he-ipv6
    type: sit
    local: 198.51.100.7
    remote: 203.0.113.1
    ttl: 64
    addresses: ['2001:db8:1f0a::2/64']
    routes:
      - dest: '::/0'
        via: '2001:db8:1f0a::1'

- name: 4in6 tunnel (DS-Lite style), runtime only
  edgenet.router.iptun:
    name: dslite0
    type: 4in6
    local: 2001:db8::2
    remote: aftr.example.net
    encaplimit: none
    persistent: false

- name: Two GRE tunnels between the same sites, told apart by their keys, with checksums on one
  edgenet.router.iptun:
    tunnels:
      - name: gre-voice
        type: gre
        local: 192.0.2.1
        remote: 198.51.100.9
        key: 100
        addresses: ['10.60.0.1/30']
      - name: gre-data
        type: gre
        local: 192.0.2.1
        remote: 198.51.100.9
        key: 200
        csum: true
        addresses: ['10.60.1.1/30']
    persistent: false

- name: A second uplink for one customer prefix - its traffic leaves by the tunnel, the rest by the main table
  edgenet.router.iptun:
    name: gre-isp2
    type: gre
    local: 192.0.2.1
    remote: 198.51.100.9
    addresses: ['10.60.2.1/30', '2001:db8:60::1/64']
    routes:
      - {dest: 0.0.0.0/0, table: 100, src: 10.60.2.1}
      - {dest: '::/0', from: '2001:db8:77::/48'}      # IPv6 has source-specific routes of its own
    rules:
      - {priority: 1000, from: 10.77.0.0/16, table: 100}

- name: An Ethernet segment over IPv6 (put the gretap link in a bridge to extend a LAN)
  edgenet.router.iptun:
    name: l2-west
    type: ip6gretap
    local: 2001:db8::1
    remote: 2001:db8:2::1
    ikey: 7
    okey: 8
    persistent: false

- name: Several tunnels in one call; remove other tunnels this collection made
  edgenet.router.iptun:
    tunnels:
      - name: t-east
        type: ipip
        local: 192.0.2.1
        remote: 192.0.2.2
      - name: t-west
        type: ip6ip6
        local: 2001:db8::1
        remote: 2001:db8::2
    purge: true

- name: Remove a tunnel (kernel and files)
  edgenet.router.iptun:
    name: he-ipv6
    state: absent
'''

# confirm is written out here, not taken from the _confirm doc fragment: ansible-core 2.19
# merges no RETURN fragment (ansible-doc failed there), and the collection supports 2.19.
RETURN = r'''
tunnel:
  description:
    - The tunnel in the kernel after the task (in check mode, as it would be), in canonical form;
      V(null) when absent. Single form only.
    - Fields a type does not have are V(null) (the GRE fields of an ipip tunnel, O(pmtudisc) of an ip6gre
      tunnel); a GRE tunnel has O(ikey) and O(okey) (a number or V(none)) and the four flags, never the
      shorthands O(key), O(csum) and O(seq).
  returned: success and O(name) given
  type: dict
  sample:
    name: he-ipv6
    type: sit
    local: 198.51.100.7
    remote: 203.0.113.1
    ttl: 64
    tos: 0
    pmtudisc: true
    encaplimit: null
    flowlabel: null
    ikey: null
    okey: null
    icsum: null
    ocsum: null
    iseq: null
    oseq: null
    sixrd_prefix: null
    sixrd_relay_prefix: null
    mtu: 1480
    link: null
    enabled: true
    addresses: ['2001:db8:1f0a::2/64']
    routes: [{dest: '::/0', via: '2001:db8:1f0a::1', metric: 1024}]
tunnels:
  description:
    - Bulk form, each named tunnel (and purged ones) in the kernel after the task, as a dict keyed by
      name (V(null) for one that is absent), so C(result.tunnels[name]) finds the task's own item.
    - This is a change result, not a listing - M(edgenet.router.iptun_info) returns its RV(edgenet.router.iptun_info#module:tunnels)
      as a list sorted by name, each item with its C(name) (like the other info modules); turn that
      into this shape with C(info.tunnels | items2dict(key_name='name', value_name='runtime')).
  returned: success and O(tunnels) given
  type: dict
  sample: {t-east: {name: t-east, type: ipip, local: 192.0.2.1, remote: 192.0.2.2, ttl: 0}}
peers:
  description:
    - The O(peer) of each tunnel of the task that names one, keyed by tunnel name (single and bulk form
      alike), for the P(edgenet.router.drift_report#callback) callback.
  returned: when a tunnel names its O(peer)
  type: dict
  sample: {gre-east: rt-east}
commands:
  description: What a person would run for the same change, iproute2 commands and file writes.
  returned: always
  type: list
  elements: str
  sample:
    - write /etc/systemd/network/60-edgenet-he-ipv6.netdev
    - write /etc/systemd/network/60-edgenet-he-ipv6.network
    - ip link set he-ipv6 type sit mode ip6ip local 198.51.100.7 remote 203.0.113.1 ttl 64 tos 0 pmtudisc
changes:
  description:
    - The plan, one entry per object and store, with each drifted field's before and after value.
      Empty when nothing differs. The input for drift reports.
  returned: always
  type: list
  elements: dict
  sample:
    - store: runtime
      object: he-ipv6
      action: modify
      fields: {ttl: {before: 10, after: 64}}
diff:
  description:
    - Before and after, per store (C(runtime), C(persistent)); in bulk form keyed by tunnel name first.
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
from ansible_collections.edgenet.router.plugins.module_utils._iptun import module_kwargs, open_stores, run_iptun
from ansible_collections.edgenet.router.plugins.module_utils._engine import ApplyError, PlanError
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_persist import ERRORS as STORE_ERRORS
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TunnelError


def main():
    module = AnsibleModule(**module_kwargs())
    params = module.params
    try:
        confirm = pending(module, 'iptun', params)
        with open_stores(params, module_runner(module)) as (runtime, files):
            result = run_iptun(params, runtime, files, module.check_mode, confirm=confirm)
    except (TunnelError, PlanError, ApplyError, NetlinkError, ConfirmError) + STORE_ERRORS as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop('warnings'):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
