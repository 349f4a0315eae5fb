# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nft_mss_clamp filter, and the dslite_b4 role's table file rendered with it."""

from __future__ import annotations

import os

import jinja2
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgenet.router.plugins.filter.nft import FilterModule, nft_mss_clamp

ROLE_TEMPLATES = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'dslite_b4', 'templates')


def test_registered():
    assert sorted(FilterModule().filters()) == ['nft_mss_clamp']


def test_errors():
    with pytest.raises(AnsibleFilterError, match='nft_mss_clamp: MSS 70000 is not between 0 and 65535'):
        nft_mss_clamp(70000)


def test_dslite_b4_table_file():
    """The rule lines the role writes: the shared rendering. Before, the role wrote the flags
    match as ``tcp flags & (syn | rst) == syn``, which is the same match as pipex's
    ``tcp flags syn / syn,rst`` in nft's syntax (SYN set, RST clear)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLE_TEMPLATES), undefined=jinja2.StrictUndefined)
    env.filters['edgenet.router.nft_mss_clamp'] = nft_mss_clamp
    text = env.get_template('mss.nft.j2').render(dslite_b4_name='dslite0', dslite_b4_nft_table='edgenet_dslite_b4',
                                                 _dslite_b4_mss='1420')
    rules = [line.strip() for line in text.splitlines() if 'maxseg' in line]
    assert rules == [
        'oifname "dslite0" tcp flags syn / syn,rst tcp option maxseg size > 1420 tcp option maxseg size set 1420',
        'iifname "dslite0" tcp flags syn / syn,rst tcp option maxseg size > 1420 tcp option maxseg size set 1420',
    ]
