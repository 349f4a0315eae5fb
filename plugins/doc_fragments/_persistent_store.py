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
      - A manager named directly must be running (it need not manage a link yet). A manager that
        is not running is refused the same way.
      - Ignored with O(persistent=false).
    type: str
    choices: [auto, networkd, ifupdown]
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
'''
