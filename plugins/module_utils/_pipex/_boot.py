# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The boot side of pipex_session's persistent store: the oneshot unit ``edgenet-pipex.service``,
its ``restore.sh`` and its ``multi-user.target.wants`` link, installed with the first session.

:class:`BootUnit` installs them, snapshots them (so the rollback of the first session removes
what it made, the link and a wants directory it created included), holds the state and unit
directories' locks and runs ``systemctl daemon-reload`` as the persistent store's settle step.
The state files themselves (syntax, ownership) are ``_state``'s.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shlex

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._files import MANAGED_MARKER, is_ours
from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdError
from ansible_collections.edgenet.router.plugins.module_utils._pipex._effects import nft_script
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import PipexError
from ansible_collections.edgenet.router.plugins.module_utils._command import checked

UNIT_DIR = '/etc/systemd/system'
UNIT_NAME = 'edgenet-pipex.service'
# The state directory is written unquoted into the unit (ExecStart=, ConditionDirectoryNotEmpty=),
# where systemd splits on white space and expands "%" specifiers, and a line break would start a
# new directive: only plain path characters are literal there.
_STATE_DIR_RE = re.compile(r'/[A-Za-z0-9_./+-]{0,254}\Z')


def check_state_dir(path):
    """An absolute path made of letters, digits and ``_ . / + -`` (what the unit can hold literally)."""
    if not isinstance(path, str) or not _STATE_DIR_RE.match(path) or '/../' in path + '/' or '/./' in path + '/':
        raise PipexError('state_dir %s is not usable: the boot unit names it unquoted, so it must be an absolute path of '
                         'at most 255 letters, digits, "_", ".", "/", "+" or "-", without ".." (for example /etc/edgenet/pipex)'
                         % (repr(path)[:60],))
    return os.path.normpath(path)


RESTORE_SCRIPT = '''#!/bin/sh
%s
# Replays the static L2TPv3 sessions of edgenet.router.pipex_session at boot: one state file per
# session in the directory below (shell assignments, values quoted by the module).
dir=%s
rc=0
for f in "$dir"/*.conf; do
    [ -e "$f" ] || continue
    (
        # The *_ARGS and ADDRESSES values are word lists (ids, addresses, hex): split them, never glob.
        set -e -f
        IFNAME='' TUNNEL_ID='' TUNNEL_ARGS='' SESSION_ARGS='' MTU='' ALIAS='' ENABLED='' ADDRESSES='' MSS='' RPF=''
        # shellcheck source=/dev/null
        . "$f"
        # A tunnel is shared by its sessions: the first one to come up creates it.
        if [ -z "$(ip l2tp show tunnel tunnel_id "$TUNNEL_ID" 2>/dev/null)" ]; then
            # shellcheck disable=SC2086
            ip l2tp add tunnel $TUNNEL_ARGS
        fi
        # shellcheck disable=SC2086
        ip l2tp add session $SESSION_ARGS
        [ -z "$MTU" ] || ip link set dev "$IFNAME" mtu "$MTU"
        [ -z "$ALIAS" ] || ip link set dev "$IFNAME" alias "$ALIAS"
        for a in $ADDRESSES; do ip addr add "$a" dev "$IFNAME"; done
        [ "$ENABLED" = no ] || ip link set dev "$IFNAME" up
        [ "$RPF" != yes ] || sysctl -q -w "net/ipv4/conf/$IFNAME/rp_filter=1"
        if [ "$MSS" = yes ]; then
            # The rules _effects.nft_script makes at runtime, rendered for "$IFNAME" (a valid
            # interface name: no quote, "$" or backquote the here-document could expand).
            nft -f - <<EOF
%s
EOF
        fi
    ) || { echo "edgenet-pipex: $f could not be replayed" >&2; rc=1; }
done
exit $rc
'''

UNIT = '''%s
[Unit]
Description=Static L2TPv3 sessions of edgenet.router.pipex_session
Documentation=man:ip-l2tp(8)
# The local tunnel address must be configured before the kernel can bind the tunnel socket.
Wants=network-online.target
After=network-online.target
ConditionDirectoryNotEmpty=%s

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh %s/restore.sh

[Install]
WantedBy=multi-user.target
'''


class BootUnit(object):
    """The unit, its script and its link for one state directory.

    ``run_command`` is shaped like AnsibleModule.run_command; ``systemctl`` is the path of
    systemctl, or None on a host without it (then nothing is reloaded, as before).
    """

    def __init__(self, state_dir, unit_dir=UNIT_DIR, run_command=None, systemctl=None):
        self.state_dir = check_state_dir(state_dir)
        self.unit_dir = os.path.abspath(unit_dir)
        self.unit = os.path.join(self.unit_dir, UNIT_NAME)
        self.script = os.path.join(self.state_dir, 'restore.sh')
        self.wants = os.path.join(self.unit_dir, 'multi-user.target.wants')
        self.link = os.path.join(self.wants, UNIT_NAME)
        self._run = run_command
        self._systemctl = systemctl

    @contextlib.contextmanager
    def locked(self):
        """Both directories' locks, always state directory first (every writer takes them in
        this order, so two runs cannot each hold one and wait for the other)."""
        with _files.locked(self.state_dir, error=NetworkdError), _files.locked(self.unit_dir, error=NetworkdError):
            yield

    def texts(self):
        script = RESTORE_SCRIPT % (MANAGED_MARKER, shlex.quote(self.state_dir), nft_script('$IFNAME').rstrip('\n'))
        return ((self.script, script, 0o755), (self.unit, UNIT % (MANAGED_MARKER, self.state_dir, self.state_dir), 0o644))

    def install(self, put):
        """Write the script and unit (through ``put(path, text, mode)``, which refuses files that
        are not ours) and point the wants link at the unit."""
        with self.locked():
            for path, text, mode in self.texts():
                put(path, text, mode)
            if self._link_target() == self.unit:
                return
            try:
                if not os.path.isdir(self.wants):
                    os.makedirs(self.wants, 0o755, exist_ok=True)
                    os.chmod(self.wants, 0o755)  # makedirs' mode is filtered by the umask
                self._set_link(self.unit)
            except OSError as exc:
                raise NetworkdError('Cannot enable %s (link %s): %s' % (UNIT_NAME, self.link, exc.strerror or exc))

    def _link_target(self):
        """The link's target, None when absent; anything else there is not ours to replace."""
        try:
            return os.readlink(self.link)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise NetworkdError('Refusing to replace %s: it is not a symbolic link, so systemctl did not make it; '
                                    'remove it, then run the task again' % self.link)
            raise NetworkdError('Cannot read %s: %s' % (self.link, exc.strerror or exc))

    def _set_link(self, target):
        # A new link renamed over the old one: systemd never sees the unit disabled in between.
        tmp = os.path.join(self.wants, '.%s.tmp' % UNIT_NAME)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(target, tmp)
        os.replace(tmp, self.link)
        _files.fsync_directory(self.wants)

    def snapshot(self):
        """A callable putting the script, the unit, the link and the wants directory back as they
        are now (absent ones removed again); an undo that fails raises, so the engine reports it.
        Its ``record()`` is the same as data (see :meth:`restore_record`)."""
        files = _files.snapshot([self.script, self.unit], self.locked, ours=is_ours, error=NetworkdError)
        with self.locked():
            target, had_wants = self._link_target(), os.path.isdir(self.wants)
        return _BootSnapshot(self, files, target, had_wants)

    def restore_record(self, record):
        """Put back what a snapshot's ``record()`` saved: files of this unit's two directories only,
        and a link that is absent or points at this unit (the only target :meth:`install` sets)."""
        try:
            files = _files.Snapshot.from_record(record['files'], (self.state_dir, self.unit_dir), self.locked,
                                                is_ours, NetworkdError)
            target, had_wants = record['link'], bool(record['had_wants'])
        except (KeyError, TypeError) as exc:
            raise NetworkdError('Refusing a malformed record of %s: %s' % (UNIT_NAME, exc))
        if target not in (None, self.unit):
            raise NetworkdError('Refusing to point %s at %r: only %s is ours' % (self.link, target, self.unit))
        _BootSnapshot(self, files, target, had_wants)()

    def _restore_link(self, target, had_wants):
        with self.locked():
            try:
                if self._link_target() != target:
                    if target is None:
                        os.unlink(self.link)
                        _files.fsync_directory(self.wants)
                    else:
                        self._set_link(target)
                if not had_wants and os.path.isdir(self.wants) and not os.listdir(self.wants):
                    os.rmdir(self.wants)
            except OSError as exc:
                raise NetworkdError('Cannot restore %s: %s' % (self.link, exc.strerror or exc))

    def reload(self):
        """``systemctl daemon-reload`` so systemd sees the unit now, not only at the next boot.
        Its failure is an error: the persistent store's settle step, so the apply rolls back."""
        if self._run is None or not self._systemctl:
            return
        checked(self._run, [self._systemctl, 'daemon-reload'], NetworkdError, what='systemctl daemon-reload')


class _BootSnapshot(object):
    """The unit's files, link and wants directory as they were (see :meth:`BootUnit.snapshot`)."""

    def __init__(self, boot, files, target, had_wants):
        self.boot = boot
        self.files = files
        self.target = target
        self.had_wants = had_wants

    def __call__(self):
        self.files()
        self.boot._restore_link(self.target, self.had_wants)  # pylint: disable=protected-access

    def record(self):
        return {'files': self.files.record(), 'link': self.target, 'had_wants': self.had_wants}
