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
      - What a module makes in a namespace lives at runtime only - the namespace itself does not
        outlive a reboot, and what recreates objects at boot (the router's network manager, the
        collection's boot-time unit) works in the host namespace. So the modules that change
        objects take it with C(persistent=false) only (C(true), their default, is refused after
        every other field is checked), and the C(_info) modules show no persistent view there.
    type: str
'''
