# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Static kernel L2TPv3 Ethernet sessions (the Linux side of OpenBSD's pipex): what the
pipex_session and pipex_session_info modules do, in one module per part --

* ``_model``: the field table, its normalisers and the rules a session must follow;
* ``_effects``: what lives beside L2TP (the nftables MSS clamp, the reverse-path filter);
* ``_kernel``: the runtime store (L2TP generic netlink, rtnetlink, the side effects);
* ``_state`` and ``_boot``: the persistent store (state files, and the unit that replays them);
* ``_service``: the modules' behaviour (argument spec, conflicts, the cycle, the info view).

A session is keyed by its interface name (``ifname``): changing any id keeps the key and so
becomes a recreate, as the kernel cannot change ids in place. Its tunnel is shared: created with
the first session that needs it, deleted with the last (unless ``keep_tunnel``). A tunnel's
parameters are part of every session's canonical form, so drift on the tunnel shows up on each
of its sessions.

Persistent form: systemd-networkd v252's ``Kind=l2tp`` has no cookie, sequencing, MTU-per-session
or alias keys, so it cannot bring back every field. Instead this module writes one small state
file per session (``/etc/edgenet/pipex/<ifname>.conf``, shell assignments quoted with
``shlex.quote``) and a oneshot unit ``edgenet-pipex.service`` that replays them with ``ip l2tp``
at boot. iproute2 cannot set ``lns_mode`` or a reorder timeout on a new session, so those two
are refused with ``persistent: true`` unless left at their defaults.
"""
