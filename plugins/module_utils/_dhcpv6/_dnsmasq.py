# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The dnsmasq (2.90) backend: check, apply by restart, read running state and leases.

One file (a drop-in, by default ``/etc/dnsmasq.d/edgenet-dhcpv6.conf``) serves every interface,
one section each; its syntax, and what dnsmasq can express of the model, is ``_dnsmasq_config``'s.

dnsmasq re-reads its main config only when it starts, so the running state cannot be asked
from the daemon. Two stores in the engine's sense: :class:`DnsmasqFile` (persistent, checked
with ``dnsmasq --test --conf-file=TMP`` before it replaces the live file) and
:class:`DnsmasqDaemon` (runtime). The daemon runs the text it was started with: when this
module restarts it, that text is recorded in a root-only state directory together with the
process' identity (pid + start time); a daemon started by someone else after the file's last
change runs the file; otherwise what it runs is unknown, which reads as mode ``unknown`` (drift:
restart). Without systemd the module starts dnsmasq with its own command line (:meth:`Backend.own_argv`),
never one read from ``/proc``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shlex
import signal
import time

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._names import quoted
from ansible_collections.edgenet.router.plugins.module_utils._command import last_words
from ansible_collections.edgenet.router.plugins.module_utils._engine import (
    RUNTIME, Store,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import (
    ConfigFileError, ConfigFileStore, FileBackend,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._dnsmasq_config import (
    DnsmasqError, check_expressible, lease_file_of, loads_file, model_defaults, parse_text, render_text,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import Dhcpv6Error, pick_router_address
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._process import (
    Process, StateDir, check_identity, daemon_uids, read_text, resolve_binary, wait,
)

__all__ = [
    'BINARY',
    'DAEMON_USERS',
    'DEBIAN_PACKAGE',
    'DEFAULTS',
    'Backend',
    'DnsmasqDaemon',
    'DnsmasqError',
    'DnsmasqFile',
    'Process',
    'STATE_DIR',
    'check_expressible',
    'leases',
    'loads_file',
    'model_defaults',
    'parse_text',
    'render_text',
]

BINARY = 'dnsmasq'
DEBIAN_PACKAGE = 'dnsmasq-base'
DEFAULTS = {
    'config_file': '/etc/dnsmasq.d/edgenet-dhcpv6.conf',
    'lease_file': '/var/lib/misc/dnsmasq.leases',
    # Debian's dnsmasq.service (and its init script) write this pid file.
    'pid_file': '/run/dnsmasq/dnsmasq.pid',
    'service_name': 'dnsmasq',
}
FOREGROUND_FLAGS = ('-d', '--no-daemon', '-k', '--keep-in-foreground')
NAME = 'dnsmasq'
# Debian's dnsmasq.service drops to ``dnsmasq``; started without --user, dnsmasq drops to its
# compiled-in ``nobody``. A process named by the pid file is signalled only under these or root.
DAEMON_USERS = ('dnsmasq', 'nobody')
# Where the record of what the module started dnsmasq with lives. Not beside the pid file: that
# directory (/run/dnsmasq) belongs to the dnsmasq user, who could plant a symlink there or forge
# a record whose text a rollback would write into the config file as root. /run because the
# record describes a process and must not outlive a reboot.
STATE_DIR = '/run/edgenet-router/dnsmasq'
WAIT_SECONDS = 10


# ---- the stores -----------------------------------------------------------------------------
def _checker(run, binary=BINARY):
    """``validate(path)``: dnsmasq's own syntax check of the complete new file."""
    def validate(path):
        rc, out, err = run([binary, '--test', '--conf-file=%s' % path])
        if rc != 0:
            words = last_words((err or out or '').replace(path, '<new file>'))
            raise DnsmasqError('dnsmasq --test rejected the new config (the live file is unchanged): %s' % words)
    return validate


class DnsmasqFile(ConfigFileStore):
    """The persistent store: the managed dnsmasq drop-in file."""

    error = DnsmasqError
    part = 'section'
    check_command = BINARY + ' --test --conf-file=%s'

    def __init__(self, path, run, binary=BINARY):
        super(DnsmasqFile, self).__init__(path, _checker(run, binary))
        self.relay_local = {}   # the task's own relay interface -> local address

    def parse(self):
        models, local = parse_text(self.text())
        local.update(self.relay_local)
        return models, local

    def render_models(self, models, context):
        return render_text(models, context)


class DnsmasqDaemon(Store):
    """The runtime store: what the running dnsmasq was started with; written by a restart. A
    stopped dnsmasq serves nothing and reads empty; its write (under systemd) starts it."""

    name = RUNTIME
    # Read back at once: a restart returns only once the new daemon wrote its pid file, and its
    # record (pid, start time, the text it was started with) is written then, so the re-read finds
    # the text the new process runs; a restart that left another process proves nothing.
    verifies = True

    def __init__(self, backend):
        self.backend = backend
        self.restarted = False
        # (what the daemon runs, the file's text) as read() found them, before this run wrote
        # anything: what a rollback starts the daemon on again.
        self._found = None

    @property
    def record_path(self):
        # One record per pid file (one dnsmasq per network namespace may run), named by a digest
        # of its path: the path itself may hold any character.
        pid_file = os.path.abspath(self.backend.settings['pid_file']).encode('utf-8', 'surrogateescape')
        return os.path.join(self.backend.state.path, 'dnsmasq-%s.json' % hashlib.sha256(pid_file).hexdigest()[:16])

    def locked(self):
        return self.backend.state.locked()

    def _record(self, pid):
        """The text recorded when the module started the daemon ``pid``, else None. Read only from
        a state directory only root can write, never through a symlink: anything else is ignored."""
        if self.backend.state.problem() is not None:
            return None
        try:
            record = _files.load_json_object(self.record_path, DnsmasqError)
        except DnsmasqError:
            return None
        proc = self.backend.process
        if (record is not None and isinstance(record.get('text'), str) and record.get('pid') == pid
                and record.get('start') == proc.start_ticks(pid) and record.get('config_file') == self.backend.file.file.path
                and record.get('pid_file') == os.path.abspath(self.backend.settings['pid_file'])):
            return record['text']
        return None

    def write_record(self, pid):
        record = {'pid_file': os.path.abspath(self.backend.settings['pid_file']), 'pid': pid,
                  'start': self.backend.process.start_ticks(pid), 'config_file': self.backend.file.file.path,
                  'text': self.backend.file.text() or ''}
        with self.backend.state.locked():
            # 0600: the text is the daemon's whole config; no one but root needs to read it.
            _files.atomic_write(self.record_path, json.dumps(record).encode(), 0o600, error=DnsmasqError)

    def running_text(self):
        """``(text or None, how)``: the config text the daemon runs and how we know it."""
        pid = self.backend.daemon_pid()
        if pid is None:
            return None, 'not running'
        recorded = self._record(pid)
        if recorded is not None:
            return recorded, 'recorded at restart'
        try:
            mtime = os.stat(self.backend.file.file.path).st_mtime
        except OSError:
            return '', 'started without the file'
        started = self.backend.process.start_wall(pid)
        if started is not None and started > mtime + 0.02:
            return self.backend.file.text(), 'started after the file was written'
        return None, 'started before the file was last written'

    def read(self):
        if not self.backend.loads_file():
            return {}
        text, how = self.running_text()
        self._found = (text, self.backend.file.file.text())
        if text is None:
            keys = set(self.backend.file.read()) | {self.backend.key}
            return dict((k, {'interface': k, 'mode': 'unknown (dnsmasq %s)' % how}) for k in keys)
        return parse_text(text)[0]

    def _restart(self):
        self.backend.restart()
        self.restarted = True

    def create(self, key, obj):
        self._restart()

    def modify(self, key, before, after):
        self._restart()

    def delete(self, key, obj):
        # The daemon reads only the file: the file loses the section first, then the restart.
        self.backend.file.put(key, None)
        self._restart()

    def snapshot(self, key):
        """Undo = the daemon back on what it ran when this run read it, then the file as it was
        before this write (a delete's own file change); the persistent store's undo, later in the
        rollback, puts the file's earlier bytes back.

        The daemon reads only its file, so that text goes into the file before the restart. When
        what it ran is unknown (started before the file's last change, no record), it is started
        on the file as this run found it: the state the rollback leaves the file in. Taken after
        the persistent write, so the texts come from :meth:`read`, not from now. A daemon this
        write never stopped (it failed before the SIGTERM) is left alone; a daemon that was
        stopped before this write and runs now is stopped again."""
        found = self._found if self._found is not None else (self.running_text()[0], self.backend.file.file.text())
        process = self.backend.process
        pid = process.pid()
        identity = (pid, process.start_ticks(pid) if pid is not None else None)
        return _DaemonSnapshot(self, identity, found[0], found[1], self.backend.file.file.snapshot())

    def restore_record(self, record):
        """Put the daemon back as a snapshot's ``record()`` describes it (a commit-confirm rollback,
        in the timer's process); the file snapshot in it may name the config file only."""
        try:
            identity = tuple(record['identity'])
            texts = (record['running'], record['file_text'])
            if len(identity) != 2 or not all(i is None or isinstance(i, int) for i in identity) or \
                    not all(t is None or isinstance(t, str) for t in texts):
                raise ValueError('identity or texts of the wrong type')
            file_record = record['file']
        except (KeyError, TypeError, ValueError) as exc:
            raise DnsmasqError('Refusing a malformed record of the dnsmasq daemon: %s' % exc)
        undo_file = _files.Snapshot.from_record(file_record, self.backend.file.file.directory, self.backend.file.file.locked,
                                                _files.is_ours, DnsmasqError)
        if [path for path, dummy in undo_file.saved] != [self.backend.file.file.path]:
            raise DnsmasqError('Refusing to restore a file record that is not of %s' % self.backend.file.file.path)
        _DaemonSnapshot(self, identity, texts[0], texts[1], undo_file)()

    def commands(self, change):
        return [self.backend.restart_command()]


class _DaemonSnapshot(object):
    """dnsmasq as it was before a write (see :meth:`DnsmasqDaemon.snapshot`): the process'
    ``identity`` (pid, start time; pid None when it was stopped), the text it ran (``running``, None
    when unknown), the file's text then and ``undo_file``, the file before this write. Calling it
    puts the daemon back; :meth:`record` is the same as data for a rollback in another process."""

    def __init__(self, daemon, identity, running, file_text, undo_file):
        self.daemon = daemon
        self.identity = identity
        self.running = running
        self.file_text = file_text
        self.undo_file = undo_file

    def __call__(self):
        backend = self.daemon.backend
        process = backend.process
        pid = self.identity[0]
        now = process.pid()
        if pid is None and now is not None:
            # Started by this write (systemd): it was stopped before this run, so it is again.
            backend.stop()
        if pid is None or (now, process.start_ticks(now) if now is not None else None) == self.identity:
            self.undo_file()
            return
        if self.running:
            backend.file.file.replace(self.running.encode())
        elif self.file_text is None:
            backend.file.file.remove()
        else:
            backend.file.file.replace(self.file_text.encode())
        backend.restart(was_running=True)
        self.undo_file()

    def record(self):
        return {'identity': list(self.identity), 'running': self.running, 'file_text': self.file_text,
                'file': self.undo_file.record()}


class Backend(FileBackend):
    """dnsmasq for dhcpv6_server(_info): its two stores and how the daemon is (re)started."""

    name = 'dnsmasq'
    error = DnsmasqError

    def __init__(self, params, run, binary=BINARY, process=None, netns_inode=None, state_dir=None, uids=None):
        super(Backend, self).__init__(params, run, DEFAULTS)
        self.binary = resolve_binary(binary)
        self.key = params.get('interface')
        self.file = DnsmasqFile(self.settings['config_file'], run, self.binary)
        self.process = process or Process(self.settings['pid_file'])
        self.state = StateDir(state_dir or STATE_DIR, DnsmasqError)
        self.uids = daemon_uids(DAEMON_USERS) if uids is None else set(uids)
        self.daemon = DnsmasqDaemon(self)
        self._netns_inode = netns_inode
        self._running = self.daemon_pid() is not None

    # -- what run_dhcpv6 asks -----------------------------------------------------------------
    @staticmethod
    def model_defaults(params):
        return model_defaults(params)

    def check_expressible(self, obj, addresses=None):
        check_expressible(obj)
        if obj is not None and obj['mode'] == 'relay':
            local = pick_router_address(addresses or [])
            if local is None or ipaddress.IPv6Address(local).is_link_local:
                raise Dhcpv6Error('backend dnsmasq (interface %s): the relay needs a global IPv6 address on %s '
                                  '(dnsmasq relays from it and it becomes the link-address servers choose the '
                                  'subnet by)' % (obj['interface'], obj['interface']))
            self.file.relay_local[obj['interface']] = local
        pid = self.daemon_pid() if self._running else None
        if pid is not None and not self.loads_file():
            raise DnsmasqError('dnsmasq (pid %s from %s) does not read %s: its command line names neither that '
                               'file (--conf-file) nor its directory (--conf-dir)'
                               % (pid, self.settings['pid_file'], self.file.file.path))
        if pid is not None and self.params.get('service_manager') != 'systemd':
            self._check_restartable(pid)   # refused before the file is touched, not after

    def daemon_pid(self):
        """The pid of the dnsmasq the pid file names, once it proved to run our binary as root or
        the daemon user (else DnsmasqError); None when none runs."""
        pid = self.process.pid()
        if pid is not None:
            check_identity(self.process, pid, self.binary, self.uids, DnsmasqError, ', '.join(DAEMON_USERS))
        return pid

    def loads_file(self):
        pid = self.daemon_pid()
        argv = self.process.argv(pid) if pid else None
        return bool(argv) and loads_file(argv, self.file.file.path)

    # -- restarting ----------------------------------------------------------------------------
    def _netns_prefix(self):
        netns = self.params.get('netns')
        return ['ip', 'netns', 'exec', netns] if netns else []

    def own_argv(self):
        # Not start_argv: that is FileBackend's systemd start (service_manager: systemd), which a
        # method of this name here would replace.
        """How the module starts dnsmasq without a service manager: every word its own, none read
        from the system. DHCPv6 from the managed file only; ``--port=0`` because this module
        serves DHCPv6, and a dnsmasq with DNS on would answer queries on every interface (an open
        resolver on the uplink)."""
        return [self.binary, '--conf-file=%s' % self.file.file.path, '--port=0',
                '--pid-file=%s' % os.path.abspath(self.settings['pid_file']),
                '--dhcp-leasefile=%s' % os.path.abspath(self.settings['lease_file'])]

    def restart_command(self):
        """What a person would run for the restart (the result's ``commands``)."""
        if self.params.get('service_manager') == 'systemd':
            return 'systemctl restart %s' % shlex.quote(self.settings['service_name'])
        return 'kill -TERM $(cat %s) && %s' % (shlex.quote(self.settings['pid_file']),
                                               ' '.join(shlex.quote(a) for a in self._netns_prefix() + self.own_argv()))

    def _check_restartable(self, pid):
        # The command line is only looked at here, to refuse: it is never run.
        argv = self.process.argv(pid) or []
        foreground = [a for a in argv if a in FOREGROUND_FLAGS]
        if foreground:
            raise DnsmasqError('dnsmasq (pid %d) runs in the foreground (%s): with service_manager none the module '
                               'restarts only a daemonising dnsmasq' % (pid, foreground[0]))
        # Started again on another lease file, dnsmasq would forget every lease it gave.
        held = lease_file_of(argv)
        if held is not None and os.path.abspath(held) != os.path.abspath(self.settings['lease_file']):
            raise DnsmasqError('dnsmasq (pid %d) keeps its leases in %s, and the module restarts it with %s: set '
                               'lease_file to that file' % (pid, quoted(held, 200), os.path.abspath(self.settings['lease_file'])))
        netns = self.params.get('netns')
        want = self._netns_inode
        if want is None:
            path = os.path.join('/run/netns', netns) if netns else '/proc/self/ns/net'
            try:
                want = os.stat(path).st_ino
            except OSError as exc:
                raise DnsmasqError('cannot find network namespace %s: %s' % (netns or '(own)', exc.strerror))
        if self.process.netns_inode(pid) != want:
            raise DnsmasqError('dnsmasq (pid %d) runs in another network namespace than %s: not restarting it'
                               % (pid, 'netns %s' % netns if netns else "the module's"))

    def restart(self, was_running=False):
        """Restart dnsmasq so it reads the file; record what it was started with. ``was_running``:
        a rollback starting again the daemon this run stopped."""
        if self.params.get('service_manager') == 'systemd':
            self.run_checked(['systemctl', 'restart', self.settings['service_name']])
        else:
            pid = self.daemon_pid()
            if pid is None and not was_running:
                raise DnsmasqError('dnsmasq is not running (no live pid in %s): nothing to restart'
                                   % self.settings['pid_file'])
            if pid is not None:
                self._check_restartable(pid)
                os.kill(pid, signal.SIGTERM)
                if not self._wait(lambda: self.process.pid() != pid, WAIT_SECONDS):
                    raise DnsmasqError('dnsmasq (pid %d) did not stop within %d s of SIGTERM' % (pid, WAIT_SECONDS))
            self.run_checked(self._netns_prefix() + self.own_argv())
        if not self._wait(lambda: self.process.pid() is not None, WAIT_SECONDS):
            raise DnsmasqError('dnsmasq did not come back within %d s (pid file %s)'
                               % (WAIT_SECONDS, self.settings['pid_file']))
        self._running = True
        # The pid file is the daemon user's to write: the new pid is checked like the old one.
        self.daemon.write_record(self.daemon_pid())

    _wait = staticmethod(wait)

    def started(self):
        return self._wait(lambda: self.process.pid() is not None, WAIT_SECONDS)

    def leases(self):
        pid = self.daemon_pid()
        return leases(lease_file_of(self.process.argv(pid) if pid else None) or self.settings['lease_file'])


# ---- leases ---------------------------------------------------------------------------------
def leases(lease_file, now=None):
    """Current DHCPv6 leases from dnsmasq's lease file: the lines after its ``duid`` line,
    ``EXPIRES IAID ADDRESS HOSTNAME CLIENT-DUID`` (IAID prefixed ``T`` for temporary addresses).
    Same keys as the Kea backend's leases, sorted by address."""
    now = time.time() if now is None else now
    if not os.path.lexists(lease_file):
        return []
    text = read_text(lease_file)   # the path may come from the daemon's command line: no FIFO, no device
    if text is None:
        raise ConfigFileError('Cannot read %s: not a readable regular UTF-8 file' % lease_file)
    lines = text.splitlines()
    out = []
    v6 = False
    for line in lines:
        fields = line.split()
        if fields[:1] == ['duid']:
            v6 = True
            continue
        if not v6 or len(fields) < 5:
            continue
        try:
            expires = int(fields[0])
            address = str(ipaddress.IPv6Address(fields[2]))
        except ValueError:
            continue
        if expires and expires < now:
            continue
        iaid = fields[1]
        temporary = iaid.startswith('T')
        try:
            iaid = int(iaid.lstrip('T'))
        except ValueError:
            iaid = 0
        out.append({'address': address, 'prefix_length': 128, 'type': 'temporary' if temporary else 'address',
                    'duid': fields[4], 'iaid': iaid, 'expires': expires, 'subnet_id': None, 'state': 'default'})
    return sorted(out, key=lambda lease: ipaddress.IPv6Address(lease['address']))
