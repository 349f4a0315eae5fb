# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The collection's own rtnetlink code, used by ``_netlink`` only (no third-party library).

pyroute2 decodes every attribute of every message into objects: under QEMU TCG that cost about
25 ms per link, so a no-op check of 100 tunnels took seconds, and pyroute2 0.7 answered each
"which index has this name" with a decode of the whole link (bench/README.md). This package
packs and unpacks only what the collection reads and writes:

* ``_codec``: the wire format (constants, attributes, link, address and route messages);
* ``_socket``: ``RtnlSocket``, one request, a batch or a dump at a time.
"""
