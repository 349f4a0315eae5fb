# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The one polling loop of the collection: wait for something outside the module (a daemon that
binds its sockets, a pid file, a kernel work queue, another run's lock) up to a deadline.

Every wait in plugins/ goes through :func:`until`, so each has a deadline on the monotonic clock
(a wall-clock step cannot stretch or cut it), checks once more at the deadline, and can be given
a fake ``sleep`` in tests.
"""

from __future__ import annotations

import time

__all__ = ['until']


def until(condition, seconds, interval=0.05, sleep=time.sleep):
    """Call ``condition()`` every ``interval`` seconds until it returns true, for up to
    ``seconds``: True once it held, False when the deadline passed first. It is always called at
    least once, and once more after the deadline; what it raises passes through."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        sleep(interval)
