# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The persistent store: one state file per session (shell assignments, every value quoted), read
back as the canonical session the boot unit (``_boot``) would build from it."""

from __future__ import annotations

import os
import shlex

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._engine import DELETE, PERSISTENT, Store
from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._files import MANAGED_MARKER, is_managed, is_ours
from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdError
from ansible_collections.edgenet.router.plugins.module_utils._pipex._boot import UNIT_DIR, UNIT_NAME, BootUnit
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import TABLE, PipexError, check_ifname, norm_addresses, session_args, tunnel_args

STATE_DIR = '/etc/edgenet/pipex'


# ---- the persistent store --------------------------------------------------------------------------
STATE_KEYS = ('IFNAME', 'TUNNEL_ID', 'TUNNEL_ARGS', 'SESSION_ARGS', 'MTU', 'ALIAS', 'ENABLED', 'ADDRESSES',
              'MSS', 'RPF')


def render_state(obj):
    """Canonical session -> state file text (shell assignments, every value shlex-quoted)."""
    values = {
        'IFNAME': obj['ifname'],
        'TUNNEL_ID': str(obj['tunnel_id']),
        'TUNNEL_ARGS': ' '.join(tunnel_args(obj)),
        'SESSION_ARGS': ' '.join(session_args(obj)),
        'MTU': '' if obj.get('mtu') is None else str(obj['mtu']),
        'ALIAS': obj.get('description') or '',
        'ENABLED': 'no' if obj.get('enabled') is False else 'yes',
        'ADDRESSES': ' '.join(obj.get('addresses') or []),
        'MSS': 'yes' if obj.get('adjust_tcpmss') else 'no',
        'RPF': 'yes' if obj.get('ingress_filter') else 'no',
    }
    lines = [MANAGED_MARKER, '# L2TPv3 session %s, replayed at boot by %s.' % (obj['ifname'], UNIT_NAME)]
    lines += ['%s=%s' % (key, shlex.quote(values[key])) for key in STATE_KEYS]
    text = '\n'.join(lines) + '\n'
    # Never write a file the next run could not read back as the same session (a value the
    # normalisers let through by mistake would otherwise wedge every later run on the directory).
    back = parse_state(text)
    if any(back[name] != obj.get(name) for name in ('ifname', 'description', 'addresses') if obj.get(name) is not None):
        raise PipexError('session %s cannot be written to a state file that reads back the same; nothing was written'
                         % obj['ifname'])
    return text


def _pairs(words):
    return dict(zip(words[0::2], words[1::2]))


def parse_state(text, path='state file'):
    """State file text -> canonical session dict (what boot would build). Read as the shell reads
    it (a quoted value may span lines, as a description with a line break once made it); text the shell
    would not read as our assignments is a PipexError naming ``path``, never echoing the file (it
    holds the cookies)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = '#'
    values = {}
    try:
        for word in lexer:
            key, equals, value = word.partition('=')
            if not equals or key not in STATE_KEYS:
                raise ValueError('a word that is not one of its assignments (%s)' % ', '.join(STATE_KEYS))
            values[key] = value
    except ValueError as exc:
        raise PipexError('Cannot read the state file %s: %s. Remove it (and the session with ip l2tp, if it exists), '
                         'then run the task again' % (path, exc))
    tun = _pairs(values.get('TUNNEL_ARGS', '').split())
    ses = _pairs(values.get('SESSION_ARGS', '').split())
    obj = dict((f.name, None) for f in TABLE)

    def num(value):
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    obj.update({
        'ifname': values.get('IFNAME') or ses.get('name'),
        'tunnel_id': num(tun.get('tunnel_id')),
        'peer_tunnel_id': num(tun.get('peer_tunnel_id')),
        'session_id': num(ses.get('session_id')),
        'peer_session_id': num(ses.get('peer_session_id')),
        'encap': tun.get('encap', 'udp'),
        'local': tun.get('local'),
        'remote': tun.get('remote'),
        'udp_sport': num(tun.get('udp_sport')),
        'udp_dport': num(tun.get('udp_dport')),
        'cookie': ses.get('cookie', 'none'),
        'peer_cookie': ses.get('peer_cookie', 'none'),
        'l2spec_type': ses.get('l2spec_type', 'default'),
        'sequencing': ses.get('seq', 'none'),
        'reorder_timeout': 0,
        'lns_mode': False,
        'mtu': num(values.get('MTU')) if values.get('MTU') else None,
        'description': values.get('ALIAS', ''),
        'enabled': values.get('ENABLED', 'yes') != 'no',
        'adjust_tcpmss': values.get('MSS') == 'yes',
        'ingress_filter': values.get('RPF') == 'yes',
    })
    try:
        obj['addresses'] = norm_addresses(values.get('ADDRESSES', '').split())
    except PipexError as exc:
        raise PipexError('Cannot read the state file %s: %s. Remove it, then run the task again' % (path, exc))
    return obj


class PersistentSessions(Store):
    """Sessions as state files in ``state_dir``, replayed at boot by ``edgenet-pipex.service``.

    Files are written atomically with the managed marker (the ``_files`` helpers, errors as
    NetworkdError); a file without the marker is never changed or removed. The unit, its restore
    script and its ``multi-user.target.wants`` link (``_pipex_boot.BootUnit``) are written with
    the first session, in the same snapshot, so a rollback removes them again. ``run_command`` and
    ``systemctl`` (its path, None when absent) make the settle step a checked ``daemon-reload``.
    """

    name = PERSISTENT
    verifies = True  # the engine checks its re-read against every change (see _engine.unkept)
    settles_again = True

    def __init__(self, state_dir=STATE_DIR, unit_dir=UNIT_DIR, run_command=None, systemctl=None):
        self.boot = BootUnit(state_dir, unit_dir, run_command, systemctl)
        self.state_dir = self.boot.state_dir
        self.unit_dir = self.boot.unit_dir
        self._written = False

    def path(self, name):
        check_ifname(name)
        return os.path.join(self.state_dir, '%s.conf' % name)

    def locked(self):
        """The state and unit directories' locks, held by the engine from read to end of apply."""
        return self.boot.locked()

    @staticmethod
    def _load(path):
        return _files.load(path, NetworkdError)

    def read(self):
        try:
            entries = sorted(os.listdir(self.state_dir))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise NetworkdError('Cannot read the state directory %s: %s' % (self.state_dir, exc.strerror or exc))
        out = {}
        for entry in entries:
            if not entry.endswith('.conf'):
                continue
            path = os.path.join(self.state_dir, entry)
            loaded = self._load(path)
            if loaded is None:
                continue
            text = loaded[0].decode('utf-8', 'replace')
            if not is_managed(text):
                continue
            obj = parse_state(text, path)
            # The file name is the key every write uses: one that disagrees with its IFNAME, or is
            # no interface name, could be neither updated nor removed.
            if link_name_problem(entry[:-5]) or (obj['ifname'] or entry[:-5]) != entry[:-5]:
                raise PipexError('Cannot read the state file %s: its name is not <IFNAME>.conf for a valid interface '
                                 'name (%s). Remove it, then run the task again' % (path, quoted(obj['ifname'])))
            out[entry[:-5]] = dict(obj, ifname=entry[:-5])
        return out

    def foreign(self, name):
        loaded = self._load(self.path(name))
        return loaded is not None and not is_managed(loaded[0].decode('utf-8', 'replace'))

    def _put(self, path, text, mode=0o644):
        loaded = self._load(path)
        data = text.encode('utf-8')
        if loaded is not None and loaded[0] == data and loaded[1] == mode:
            return
        if loaded is not None and not is_managed(loaded[0].decode('utf-8', 'replace')):
            raise PipexError('Refusing to overwrite %s: it lacks the line "%s", so it is not ours' % (path, MANAGED_MARKER))
        _files.atomic_write(path, data, mode, error=NetworkdError)

    def create(self, key, obj):
        with self.locked():
            # 0600: the state file holds the cookies (no_log values).
            self._written = True
            self._put(self.path(key), render_state(dict(obj, ifname=key)), 0o600)
            self.boot.install(self._put)

    def modify(self, key, before, after):
        self.create(key, after)

    def delete(self, key, obj):
        with self.locked():
            loaded = self._load(self.path(key))
            if loaded is not None and is_managed(loaded[0].decode('utf-8', 'replace')):
                self._written = True
                _files.remove(self.path(key), NetworkdError)

    def snapshot(self, key):
        """The state file, the unit, its script and link as they are now: the rollback of the first
        session removes all of them again (and a wants directory it made)."""
        return _SessionSnapshot(_files.snapshot([self.path(key)], self.locked, ours=is_ours, error=NetworkdError),
                                self.boot.snapshot())

    def restore_record(self, record):
        """Put back what a snapshot's ``record()`` saved (a commit-confirm rollback), byte for byte:
        the state file in this state directory, then the unit, its script and its link."""
        try:
            state, boot = record['state'], record['boot']
        except (KeyError, TypeError) as exc:
            raise NetworkdError('Refusing a malformed record of the pipex state: %s' % exc)
        _files.Snapshot.from_record(state, self.state_dir, self.locked, is_ours, NetworkdError)()
        self.boot.restore_record(boot)
        self._written = True

    def settle(self):
        """``systemctl daemon-reload`` once after the writes, checked: a failure rolls them back."""
        if self._written:
            self.boot.reload()
            self._written = False

    def settle_again(self):
        """After a rollback restored the unit (or removed it): systemd reads it again."""
        self._written = True
        self.settle()

    def commands(self, change):
        path = self.path(change.key)
        if change.action == DELETE:
            return ['remove %s' % path]
        return ['write %s' % path, 'systemctl enable %s' % UNIT_NAME]


class _SessionSnapshot(object):
    """A session's state file and the boot unit as they were (see :meth:`PersistentSessions.snapshot`)."""

    def __init__(self, state, boot):
        self.state = state
        self.boot = boot

    def __call__(self):
        self.state()
        self.boot()

    def record(self):
        return {'state': self.state.record(), 'boot': self.boot.record()}
