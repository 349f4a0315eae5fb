# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Running an external command whose argv the collection built, and asking systemd about a unit.

Every seam that runs ``networkctl``, ``systemctl``, ``nmcli``, ``nft``, ``systemd-run`` or a daemon's
checker does it through :func:`checked`: a non-zero exit becomes the seam's own error, naming the
command, its exit code and what it said (the last 400 characters at most, so a chatty tool cannot
flood a task result). ``run_command`` is shaped like AnsibleModule.run_command (argv list, never a
shell string); the commands carry no secret, so their words may be shown.
"""

from __future__ import annotations

__all__ = ['checked', 'unit_active']

OUTPUT_LIMIT = 400


def checked(run_command, argv, error, what=None, data=None):
    """Run ``argv`` (a list) and return its standard output; raise ``error`` (an exception class)
    with ``WHAT failed (rc=N): OUTPUT`` when it exits non-zero. ``what`` names the command in the
    message (default: its words); ``data`` is given to the command's standard input."""
    if data is None:
        rc, out, err = run_command(argv)
    else:
        rc, out, err = run_command(argv, data=data)
    if rc != 0:
        said = (err or out or '').strip()
        if len(said) > OUTPUT_LIMIT:
            said = '...' + said[-OUTPUT_LIMIT:]
        raise error('%s failed (rc=%s): %s' % (what or ' '.join(argv), rc, said))
    return out


def unit_active(run_command, unit):
    """Whether the systemd ``unit`` is active (``systemctl is-active --quiet UNIT``)."""
    rc, dummy, dummy = run_command(['systemctl', 'is-active', '--quiet', unit])
    return rc == 0
