# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The one rendering of the nftables TCP MSS clamp, shared by pipex_session (``_pipex._effects``,
runtime rules and the boot unit) and the dslite_b4 role (its table file, through the
``nft_mss_clamp`` filter). Pure text; no other import from the collection."""

from __future__ import annotations

__all__ = ['MSS_MAX', 'MssError', 'mss_clamp']

# Only SYN segments (not SYN+RST) carry the MSS option a clamp must lower.
_SYN = 'tcp flags syn / syn,rst'
# The TCP MSS option holds 16 bits (RFC 9293 section 3.7.1).
MSS_MAX = 0xFFFF


class MssError(ValueError):
    """An MSS that is not a number between 0 and MSS_MAX."""


def mss_clamp(mss=None):
    """The match and statement of a clamp rule, to put after ``iifname``/``oifname``: to the
    route MTU when ``mss`` is None (as OpenWrt's mtu_fix), else down to ``mss`` (an MSS already
    smaller is left alone)."""
    if mss is None:
        return '%s tcp option maxseg size set rt mtu' % _SYN
    if isinstance(mss, bool) or not isinstance(mss, (int, str)):
        raise MssError('MSS %r is not a number' % (mss,))
    try:
        number = int(mss)
    except ValueError:
        raise MssError('MSS %r is not a number' % (mss,))
    if not 0 <= number <= MSS_MAX:
        raise MssError('MSS %d is not between 0 and %d' % (number, MSS_MAX))
    return '%s tcp option maxseg size > %d tcp option maxseg size set %d' % (_SYN, number, number)
