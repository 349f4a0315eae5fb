# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one MSS clamp rendering: its two forms, its limits, and pipex's script unchanged by it."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._nft import MssError, mss_clamp
from ansible_collections.edgenet.router.plugins.module_utils._pipex import _effects


@pytest.mark.parametrize('mss, expected', [
    (None, 'tcp flags syn / syn,rst tcp option maxseg size set rt mtu'),
    (1420, 'tcp flags syn / syn,rst tcp option maxseg size > 1420 tcp option maxseg size set 1420'),
    ('1412', 'tcp flags syn / syn,rst tcp option maxseg size > 1412 tcp option maxseg size set 1412'),
    (0, 'tcp flags syn / syn,rst tcp option maxseg size > 0 tcp option maxseg size set 0'),
    (65535, 'tcp flags syn / syn,rst tcp option maxseg size > 65535 tcp option maxseg size set 65535'),
])
def test_mss_clamp(mss, expected):
    assert mss_clamp(mss) == expected


@pytest.mark.parametrize('mss, message', [
    (65536, 'MSS 65536 is not between 0 and 65535'),
    (-1, 'MSS -1 is not between'),
    (True, 'is not a number'),
    ('1420; flush ruleset', 'is not a number'),
    ([1420], 'is not a number'),
])
def test_mss_clamp_refuses(mss, message):
    with pytest.raises(MssError, match=message):
        mss_clamp(mss)


def test_pipex_script_is_byte_for_byte_what_it_was():
    # The text _effects.nft_script wrote before the rule moved to _nft (runtime and boot unit).
    rule = 'tcp flags syn / syn,rst tcp option maxseg size set rt mtu comment "edgenet-pipex:pw0"'
    assert _effects.nft_script('pw0') == (
        'add table inet edgenet_pipex\n'
        'add chain inet edgenet_pipex mss { type filter hook forward priority mangle; policy accept; }\n'
        'add rule inet edgenet_pipex mss iifname "pw0" %s\n'
        'add rule inet edgenet_pipex mss oifname "pw0" %s\n' % (rule, rule))
