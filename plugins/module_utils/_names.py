# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The one rule for names that become a link, a file name, a ``[Match]`` key or a command word.

The kernel takes almost any byte in an interface name (not ``/``, ``:`` or white space), but the
places a name travels to do not: systemd-networkd reads ``[Match] Name=`` as a list of shell
globs (``*``, ``?``, ``[...]``, and a leading ``!`` inverts the match), ifupdown and dnsmasq have
their own wildcards, and a file name must not climb out of its directory. So a name is literal
everywhere only when it is made of letters, digits, ``-``, ``_`` and ``.`` and fits the kernel's
IFNAMSIZ (15 bytes and the terminating NUL). It must also start with a letter, digit or ``_``: a
leading ``-`` reads as an option to ``ip`` and a leading ``.`` as a hidden file or ``.``/``..``;
and it must not be all digits, which systemd refuses as a name (it reads as an ifindex).
"""

from __future__ import annotations

import re

__all__ = ['LINK_NAME_RULE', 'inventory_name_problem', 'link_name_problem', 'quoted']

_LINK_NAME_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}\Z')

LINK_NAME_RULE = ('1-15 letters, digits, "-", "_" or ".", starting with a letter, digit or "_", '
                  'and not all digits')


def link_name_problem(name):
    """None when ``name`` is a literal interface name, else why not (for the caller's error).

    The reason names the rule, not the bad characters, so a name holding control characters or
    very long text is never echoed whole: the caller quotes it with ``%r``, cut to 40 characters.
    """
    if not isinstance(name, str):
        return 'it is not a string'
    if not _LINK_NAME_RE.match(name) or name.isdigit():
        return 'an interface name is %s' % LINK_NAME_RULE
    return None


# What Ansible reads as host patterns (``a,b``, ``web*``, ``db[1:3]``, ``!x``, ``&x``, ``~regex``):
# a host named with them could not be targeted by its name.
_PATTERN_CHARS = set(',*?[]')
_PATTERN_LEADS = ('!', '&', '~')


def inventory_name_problem(name):
    """None when ``name`` could be an Ansible inventory host name, else why not.

    Only the shape is checked (the module cannot see the inventory): 1-255 characters, no white
    space or control character (INI inventories split on white space), no host-pattern character
    (``,*?[]``) and no leading ``!``, ``&`` or ``~``. IPv6 addresses and domain names pass."""
    if not isinstance(name, str):
        return 'it is not a string'
    if not name or len(name) > 255:
        return 'an inventory host name is 1 to 255 characters'
    if any(c.isspace() or not c.isprintable() for c in name):
        return 'it holds white space or a control character'
    if _PATTERN_CHARS.intersection(name) or name.startswith(_PATTERN_LEADS):
        return 'it holds a host-pattern character (, * ? [ ] or a leading ! & ~)'
    return None


def quoted(text, limit=40):
    """``%r`` of a user value for an error message, cut to ``limit`` characters."""
    text = repr(text)
    return text if len(text) <= limit else text[:limit] + '...'
