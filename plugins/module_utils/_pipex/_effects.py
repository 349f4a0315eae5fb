# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""What a session has beside L2TP: the nftables MSS clamp and the reverse-path filter, through
commands (``nft``, ``sysctl``), and the one place the clamp rules are written (the boot unit's
script renders them from :func:`nft_script` too; the rule itself is ``_nft.mss_clamp``, shared
with the dslite_b4 role)."""

from __future__ import annotations

import re
import shutil

from ansible_collections.edgenet.router.plugins.module_utils._nft import mss_clamp
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import PipexError
from ansible_collections.edgenet.router.plugins.module_utils._command import checked

NFT_TABLE = 'edgenet_pipex'
NFT_CHAIN = 'mss'
NFT_COMMENT = 'edgenet-pipex:'


# ---- side effects beyond L2TP: nftables MSS clamp, reverse-path filter ---------------------------
class SideEffects(object):
    """nftables MSS clamping and rp_filter for session interfaces, through commands.

    ``run_command`` is shaped like AnsibleModule.run_command. In a netns the commands run under
    ``ip netns exec``. Rules carry the comment ``edgenet-pipex:<ifname>`` in chain
    ``inet edgenet_pipex mss``, so they are found and removed by interface name.
    """

    def __init__(self, run_command, netns=None, which=shutil.which):
        self._run = run_command
        self.netns = netns
        # Look for nft first: a host without nftables runs every task that does not ask for
        # adjust_tcpmss, and one that asks is told which package to install.
        self.has_nft = bool(which('nft'))
        # The chain as last listed, until this object changes it: the engine reads the store
        # before the plan and again to verify, and a run that sets no rule needs one listing, not
        # two (each an nft process: ~0.25 s of a 100-session bulk create in a TCG guest).
        self._listing = None

    def _argv(self, argv):
        return (['ip', 'netns', 'exec', self.netns] + argv) if self.netns else argv

    def _check(self, argv, data=None):
        return checked(self._run, self._argv(argv), PipexError, what=' '.join(argv), data=data)

    def _rules(self):
        if not self.has_nft:
            return {}
        if self._listing is None:
            rc, out, dummy = self._run(self._argv(['nft', '-a', 'list', 'chain', 'inet', NFT_TABLE, NFT_CHAIN]))
            self._listing = out if rc == 0 else ''
        found = {}
        for line in self._listing.splitlines():
            match = re.search(r'comment "%s([^"]+)".*# handle (\d+)' % re.escape(NFT_COMMENT), line)
            if match:
                found.setdefault(match.group(1), []).append(int(match.group(2)))
        return found

    def mss_ifnames(self):
        return set(self._rules())

    def set_mss(self, ifname, enabled):
        handles = self._rules().get(ifname, [])
        if enabled and not self.has_nft:
            raise PipexError('adjust_tcpmss needs the nft command (Debian/Ubuntu: apt install nftables)')
        self._listing = None   # whatever happens next, the next read lists the chain again
        if enabled and not handles:
            self._check(['nft', '-f', '-'], data=nft_script(ifname))
        elif not enabled:
            for handle in handles:
                self._check(['nft', 'delete', 'rule', 'inet', NFT_TABLE, NFT_CHAIN, 'handle', str(handle)])

    def set_rp_filter(self, ifname, enabled):
        self._check(['sysctl', '-q', '-w', 'net/ipv4/conf/%s/rp_filter=%d' % (ifname, 1 if enabled else 0)])


def nft_script(ifname):
    """Clamp the MSS of TCP SYNs in and out of ``ifname`` to the route MTU (as OpenWrt's mtu_fix)."""
    rule = '%s comment "%s%s"' % (mss_clamp(), NFT_COMMENT, ifname)
    return ('add table inet %s\n'
            'add chain inet %s %s { type filter hook forward priority mangle; policy accept; }\n'
            'add rule inet %s %s iifname "%s" %s\n'
            'add rule inet %s %s oifname "%s" %s\n'
            % (NFT_TABLE, NFT_TABLE, NFT_CHAIN, NFT_TABLE, NFT_CHAIN, ifname, rule, NFT_TABLE, NFT_CHAIN, ifname, rule))
