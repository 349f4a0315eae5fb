# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.

from __future__ import annotations


class ModuleDocFragment(object):

    # Standard attributes of every module that changes state.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
'''

    # For modules that only read.
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
'''

    # Every module of the collection runs on Linux routers only.
    PLATFORM_LINUX = r'''
options: {}
attributes:
  platform:
    platforms: linux
'''

    # Action groups (meta/runtime.yml). A group holds only modules that take every option its
    # fragment names, so module_defaults on the group never gives a member an option it
    # refuses ("Unsupported parameters"). tests/unit/plugins/modules/test_action_groups.py checks both.
    ACTIONGROUP_ROUTER = r'''
options: {}
attributes:
  action_group:
    description:
      - Use C(group/edgenet.router.router) in C(module_defaults) to set defaults for this module.
      - The option every module of that group takes is O(netns); set only it on the group.
    support: full
    membership:
      - edgenet.router.router
'''

    # The modules that keep a kernel object and its boot-time files in step.
    ACTIONGROUP_LINKS = r'''
options: {}
attributes:
  action_group:
    description:
      - Use C(group/edgenet.router.router) in C(module_defaults) to set O(netns) for this module,
        and C(group/edgenet.router.links) to set O(netns), O(persistent), O(recreate) and
        O(confirm_timeout), the options every module of that group takes.
    support: full
    membership:
      - edgenet.router.router
      - edgenet.router.links
'''

    # Modules in no action group: they do not take netns, the option both groups set, so
    # module_defaults on either group would fail them. Said on their page all the same, so a
    # reader looking for the group learns there is none.
    ACTIONGROUP_NONE = r'''
options: {}
attributes:
  action_group:
    description:
      - This module is in no action group. C(group/edgenet.router.router) and
        C(group/edgenet.router.links) hold the modules that take C(netns), and this one does not.
        Set its defaults in C(module_defaults) under its own name.
    support: none
    membership: []
'''
