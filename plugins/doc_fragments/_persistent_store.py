# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  persistent_store:
    description:
      - Which network manager's files are the persistent store, the files that bring the tunnel
        back at boot.
      - V(auto) asks the host which manager manages its links now. systemd-networkd counts when
        C(systemd-networkd.service) is active and C(networkctl list) shows a link it configures;
        ifupdown when C(networking.service) is active and C(/run/network/ifstate) lists an
        interface besides C(lo); NetworkManager when C(NetworkManager.service) is active.
        Exactly one must be found. None (a host without systemd, or with no manager running),
        or more than one, is refused with what was found, before anything is changed; files that
        nothing reads at boot are never written.
      - V(networkd) writes C(.netdev)/C(.network) files to O(networkd_dir) and asks a running
        networkd to reload them.
      - V(ifupdown) writes one file per tunnel, C(edgenet-NAME), to O(ifupdown_dir), holding C(auto NAME)
        and an C(inet manual) stanza whose C(pre-up)/C(up) lines are the C(ip) commands that
        create the tunnel, its addresses and routes at boot (ifupdown's own tunnel methods cannot
        express tos, path MTU discovery, the flow label, 6rd or a tunnel without an address). The
        C(interfaces) file next to that directory must source it (Debian's default
        C(source /etc/network/interfaces.d/*) does), else the task is refused. Nothing is reloaded;
        ifupdown reads the files at boot only. Tunnel names with a dot are refused (ifupdown's
        C(source-directory) skips such file names).
      - V(networkmanager) writes one C(ip-tunnel) keyfile per tunnel,
        C(edgenet-NAME.nmconnection) (mode 0600, C(autoconnect=true), a UUID derived from the
        name), to O(networkmanager_dir), which must be the directory NetworkManager's keyfile
        plugin reads (C(NetworkManager --print-config)), else the task is refused. After writing,
        NetworkManager reloads the files (C(nmcli connection reload)) and is made to hold each
        tunnel written with its connection (C(nmcli device reapply NAME) when only addresses,
        routes or mtu changed, else C(nmcli connection up)); it takes over the device the runtime
        store made, without recreating it (the reload waits until NetworkManager has a device for
        each link the runtime store made, since a connection loaded before gets a device of its own
        that never takes the link over). Left alone
        after a reload, NetworkManager takes such devices over by itself a moment later and may
        flush their addresses and routes, so the module does it and waits. A keyfile
        NetworkManager does not load, or a connection it cannot activate, fails the task and every
        store is rolled back. NetworkManager cannot express type V(ipv4), V(ipv6), V(6rd), a tunnel
        that stays down (C(enabled=false)), routes of an address family without an address, GRE
        checksums or sequence numbers, and for ip6gre/ip6gretap encaplimit V(none), tos V(inherit) or no local;
        such a tunnel is refused naming the field (use O(persistent=false)). A change of type between
        ipip, gre, sit, ip6ip6, ipip6, ip6gre, gretap and ip6gretap is refused (remove the tunnel first).
      - A manager named directly must be running (it need not manage a link yet). A manager that
        is not running is refused the same way.
      - Ignored with O(persistent=false).
    type: str
    choices: [auto, networkd, ifupdown, networkmanager]
    default: auto
  networkd_dir:
    description:
      - Directory of the systemd-networkd files of the persistent store.
    type: path
    default: /etc/systemd/network
  ifupdown_dir:
    description:
      - Directory of the ifupdown files of the persistent store.
    type: path
    default: /etc/network/interfaces.d
  networkmanager_dir:
    description:
      - Directory of the NetworkManager keyfiles of the persistent store.
    type: path
    default: /etc/NetworkManager/system-connections
'''
