# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.

from __future__ import annotations


class ModuleDocFragment(object):

    # Only the L2TP modules: rtnetlink goes through the collection's own codec (no library).
    DOCUMENTATION = r'''
options: {}
requirements:
  - pyroute2 >= 0.7 on the managed host (Debian/Ubuntu package C(python3-pyroute2)), for the kernel's L2TP generic
    netlink interface.
'''
