# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  netns:
    description:
      - Name of the network namespace to work in, as listed by C(ip netns list) (a file under C(/run/netns)).
      - The namespace must exist; the module never creates one.
      - Omit to work in the namespace the module runs in.
    type: str
'''
