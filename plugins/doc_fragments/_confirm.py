# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  confirm_timeout:
    description:
      - Commit-confirm. When set and the task changes something, the change rolls itself back
        after this many seconds unless a later task confirms it with M(edgenet.router.confirm).
      - Use it for changes that could cut the path Ansible reaches the router by (a route or a
        tunnel on the management path). If the change cuts it, nothing can confirm, and the
        router puts itself back on its own.
      - Before the module returns, the change's journal is written to C(/var/lib/edgenet/confirm/)
        (root only, mode 0700) and a transient systemd timer is started (C(edgenet-confirm-ID.timer)).
        When it fires, files are restored byte for byte (content, mode, owner) and kernel objects
        are set back to what they were. Pending changes roll back newest first.
      - The timer does not survive a reboot. After a reboot the journal is still there, and
        M(edgenet.router.confirm) with O(edgenet.router.confirm#module:rollback=true) rolls it back.
      - Needs systemd on the router. Ignored in check mode. Between 10 and 86400.
    type: int
'''

    # The result's confirm, for the RETURN of every module that offers the option.
    RETURN = r'''
confirm:
  description:
    - The rollback O(confirm_timeout) scheduled. Only when it is set, the task changed something
      and it is not check mode. Confirm with M(edgenet.router.confirm) before RV(confirm.deadline).
  returned: when a rollback was scheduled
  type: dict
  contains:
    id:
      description: The change's id (its journal is C(/var/lib/edgenet/confirm/ID.json)).
      type: str
      returned: always
      sample: '1796424000123456789'
    timeout:
      description: O(confirm_timeout) as given.
      type: int
      returned: always
      sample: 60
    unit:
      description: The systemd timer that rolls the change back.
      type: str
      returned: always
      sample: edgenet-confirm-1796424000123456789.timer
    deadline:
      description: When the timer fires (UTC, ISO 8601).
      type: str
      returned: always
      sample: '2026-12-04T23:59:00Z'
'''
