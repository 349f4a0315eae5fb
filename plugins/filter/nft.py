# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
"""The nftables TCP MSS clamp as a filter; documented in nft_mss_clamp.yml.

The rule text lives in module_utils/_nft.py, shared with the pipex_session module, so the
dslite_b4 role and the module clamp with one rendering.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.edgenet.router.plugins.module_utils._nft import MssError, mss_clamp as _mss_clamp


def nft_mss_clamp(mss):
    """MSS (or None: the route MTU) -> the match and statement of an nftables clamp rule."""
    try:
        return _mss_clamp(mss)
    except MssError as exc:
        raise AnsibleFilterError('nft_mss_clamp: %s' % exc)


class FilterModule(object):

    def filters(self):
        return {
            'nft_mss_clamp': nft_mss_clamp,
        }
