# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  persistent:
    description:
      - Whether the object must also come back after a reboot.
      - V(true) keeps two stores in step, the running kernel (C(runtime)) and the files that
        recreate the object at boot (C(persistent)). Files are written before the kernel is
        changed; if the kernel change fails, the files are restored byte for byte.
      - V(false) changes the running kernel only and leaves any boot-time files alone, like
        C(dladm create-iptun -t).
      - With O(netns), set V(false). What recreates objects at boot (systemd-networkd, the
        collection's boot-time unit) works in the host namespace only, and a namespace itself does
        not outlive a reboot. V(true) with O(netns) is refused, after every other field is checked,
        so one run names every problem.
    type: bool
    default: true
notes:
  - Files written by this collection start with a comment that marks them as managed.
    Files without that comment are never changed or deleted.
'''
