# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Running an external command whose argv the collection built, and asking systemd about a unit.

The stores take a ``run_command``: a callable shaped like AnsibleModule.run_command (an argv list,
never a shell string, and ``data`` for standard input) returning ``(rc, stdout, stderr)``. This
file makes the two there are: :func:`module_runner` from the module's AnsibleModule and
:func:`run_process` in commit-confirm's timer process, where there is none. Both take every word
literally and report a program that cannot be started as a shell does (rc 127 or 126, the reason
on stderr), so a missing ``nmcli`` is the seam's error, inside the engine's rollback, not the end
of the module half way through an apply.

Every seam that runs ``networkctl``, ``systemctl``, ``nmcli``, ``nft``, ``systemd-run`` or a daemon's
checker does it through :func:`checked`: a non-zero exit becomes the seam's own error, naming the
command, its exit code and what it said (:func:`last_words`: the last 400 characters at most, so a
chatty tool cannot flood a task result). The commands carry no secret (pipex cookies go over
generic netlink, never on a command line), so their words may be shown.
"""

from __future__ import annotations

import errno
import subprocess

__all__ = ['checked', 'last_words', 'module_runner', 'run_process', 'unit_active']

OUTPUT_LIMIT = 400
# What a shell answers for a program it cannot find, and for one it found but cannot execute.
RC_NOT_FOUND = 127
RC_NOT_EXECUTABLE = 126


def last_words(err, out='', limit=OUTPUT_LIMIT):
    """What a failed command said: its standard error, else its standard output, stripped, and
    only its last ``limit`` characters (marked with ``...``): tools print the reason last."""
    said = (err or out or '').strip()
    if len(said) > limit:
        said = '...' + said[-limit:]
    return said


def checked(run_command, argv, error, what=None, data=None):
    """Run ``argv`` (a list) and return its standard output; raise ``error`` (an exception class)
    with ``WHAT failed (rc=N): OUTPUT`` when it exits non-zero. ``what`` names the command in the
    message (default: its words); ``data`` is given to the command's standard input."""
    if data is None:
        rc, out, err = run_command(argv)
    else:
        rc, out, err = run_command(argv, data=data)
    if rc != 0:
        raise error('%s failed (rc=%s): %s' % (what or ' '.join(argv), rc, last_words(err, out)))
    return out


def unit_active(run_command, unit):
    """Whether the systemd ``unit`` is active (``systemctl is-active --quiet UNIT``)."""
    rc, dummy, dummy = run_command(['systemctl', 'is-active', '--quiet', unit])
    return rc == 0


def _not_started(argv, exc):
    rc = RC_NOT_FOUND if exc.errno == errno.ENOENT else RC_NOT_EXECUTABLE
    return rc, '', 'cannot run %s: %s' % (argv[0], exc.strerror or exc)


def module_runner(module):
    """``run_command`` for the stores of a module: ``module.run_command`` with the words taken
    literally (its default expands ``$VAR`` and ``~`` in every word: a file name holding a ``$``
    would reach a checker as another path) and a program that cannot be started returned as rc
    127/126 (its default is ``fail_json``, which ends the module before the engine can roll back
    what it already applied)."""
    def run(argv, data=None):
        try:
            return module.run_command(argv, data=data, expand_user_and_vars=False, handle_exceptions=False)
        except OSError as exc:
            return _not_started(argv, exc)
    return run


def run_process(argv, data=None):
    """``run_command`` where there is no AnsibleModule (commit-confirm's timer process): the
    same contract as :func:`module_runner`'s, text decoded as UTF-8 (undecodable bytes replaced)."""
    try:
        proc = subprocess.run(  # pylint: disable=ansible-bad-function
            argv, input=None if data is None else data.encode('utf-8'),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    except OSError as exc:
        return _not_started(argv, exc)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')
