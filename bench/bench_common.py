# SPDX-License-Identifier: GPL-3.0-or-later
"""What both bench scripts time with: a call, and the floor they are measured against
(``ip -batch`` in the bench's namespace). Imported from the scripts' own directory."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time


def timed(func, *args, **kwargs):
    """``(seconds, result)`` of one call."""
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def ip_batch(netns, lines):
    """Seconds for ``ip -n NETNS -batch`` over ``lines``: the floor (iproute2 alone, one process)."""
    with tempfile.NamedTemporaryFile('w', suffix='.batch', delete=False) as handle:
        handle.write('\n'.join(lines) + '\n')
    try:
        return timed(subprocess.run, ['ip', '-n', netns, '-batch', handle.name], check=True)[0]
    finally:
        os.unlink(handle.name)
