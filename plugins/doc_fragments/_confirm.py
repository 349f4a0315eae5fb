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
