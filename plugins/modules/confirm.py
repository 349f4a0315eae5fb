#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
module: confirm
short_description: Confirm the changes made with confirm_timeout, or roll them back now
version_added: 0.1.0
description:
  - Modules of this collection given O(edgenet.router.iptun#module:confirm_timeout) apply their
    change and schedule its rollback on the router. This module keeps those changes (it stops
    their timers and drops their journals) or, with O(rollback=true), rolls them back at once.
  - Run it as the task after the risky ones. When the risky change cut the path Ansible reaches
    the router by, this task cannot reach it either; the timers then put the router back.
  - Confirms or rolls back every pending change on the router, not one of them. Commit-confirm
    is about the router's state as a whole, and a later change was applied on top of the earlier ones.
author:
  - edgenet.router developers (@edgenet)
extends_documentation_fragment:
  - edgenet.router._attributes
  - edgenet.router._attributes.PLATFORM_LINUX
  - edgenet.router._attributes.ACTIONGROUP_NONE
attributes:
  check_mode:
    support: full
    details: Reports the pending changes it would confirm or roll back, and touches nothing.
  diff_mode:
    support: none
options:
  rollback:
    description:
      - V(false) keeps every pending change. V(true) rolls them back now, newest first, as their
        timers would have (this also works after a reboot, which drops the timers).
    type: bool
    default: false
notes:
  - The journals live in C(/var/lib/edgenet/confirm/), one C(ID.json) per pending change, with a
    copy of the module code that made it (C(ID.zip)). The timer of change C(ID) is the transient
    systemd unit C(edgenet-confirm-ID.timer); C(journalctl -u edgenet-confirm-ID) shows what a
    rollback did. A journal whose rollback failed stays as C(ID.failed.json) for a person to read.
seealso:
  - module: edgenet.router.iptun
  - module: edgenet.router.sixtofour_relay
  - module: edgenet.router.pipex_session
  - module: edgenet.router.dhcpv6_server
'''

EXAMPLES = r'''
- name: Move the management route into the new tunnel; undo it unless confirmed in 60 s
  edgenet.router.iptun:
    name: mgmt6
    type: sit
    local: 192.0.2.10
    remote: 198.51.100.1
    routes:
      - dest: 2001:db8:ffff::/48
    confirm_timeout: 60

- name: Still reachable through the new path? Then keep the change
  edgenet.router.confirm:

- name: Put everything pending back now
  edgenet.router.confirm:
    rollback: true
'''

RETURN = r'''
confirmed:
  description: The ids of the changes kept (empty with O(rollback=true)).
  returned: always
  type: list
  elements: str
  sample: ['1796424000123456789']
rolled_back:
  description: The ids of the changes rolled back (empty without O(rollback=true)).
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgenet.router.plugins.module_utils._command import module_runner
from ansible_collections.edgenet.router.plugins.module_utils._confirm import ConfirmError, confirm_all, rollback_now


def main():
    module = AnsibleModule(argument_spec={'rollback': {'type': 'bool', 'default': False}}, supports_check_mode=True)
    systemctl = module.get_bin_path('systemctl', required=True)
    run_command = module_runner(module)
    result = {'confirmed': [], 'rolled_back': []}
    try:
        if module.params['rollback']:
            result['rolled_back'] = rollback_now(run_command, systemctl, check_mode=module.check_mode)
        else:
            result['confirmed'] = confirm_all(run_command, systemctl, check_mode=module.check_mode)
    except ConfirmError as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(changed=bool(result['confirmed'] or result['rolled_back']), **result)


if __name__ == '__main__':
    main()
