# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""PPP access concentrators whose sessions the kernel carries (issue 16): ``_pppoed``, the PPPoE
discovery stage this collection runs itself because Debian 12's pppoe-server has no kernel mode."""
