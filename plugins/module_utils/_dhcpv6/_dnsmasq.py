# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The dnsmasq (2.90) backend: render, check, apply by restart, read running state and leases.

One file (a drop-in, by default ``/etc/dnsmasq.d/edgenet-dhcpv6.conf``) serves every interface;
each interface is a section that starts with ``# edgenet.router interface NAME: MODE`` and holds
only directives tagged with the interface's name (dnsmasq sets the receiving interface's name as
a tag on every DHCPv6 request, so ``tag:NAME`` binds ranges and options to the link).

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
from ansible_collections.edgenet.router.plugins.module_utils._engine import (
    RUNTIME, Store,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import (
    MANAGED_MARKER, ConfigFileError, ConfigFileStore, FileBackend, canonical_read,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import (
    ALL_DHCP_SERVERS, Dhcpv6Error, TABLE, norm_pool, pick_router_address, pool_bounds,
)
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
SECTION = '# edgenet.router interface '
# dnsmasq's lease time is both lifetimes; this is its own default for a range (one hour is
# also the model's preferred lifetime).
LEASE_TIME = 3600
MIN_LEASE_TIME = 120
# DHCPv6 options dnsmasq 2.90 knows by name (``dnsmasq --help dhcp6``): it re-encodes data for
# them by their type (hex for option 32 is sent as 0), so raw bytes cannot pass through.
TYPED_OPTIONS = {21: 'sip-server-domain', 22: 'sip-server', 27: 'nis-server', 28: 'nis+-server',
                 29: 'nis-domain', 30: 'nis+-domain', 31: 'sntp-server', 41: 'posix-timezone',
                 42: 'tzdb-timezone', 56: 'ntp-server', 59: 'bootfile-url', 60: 'bootfile-param'}
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


class DnsmasqError(Exception):
    """dnsmasq refused something or cannot be restarted; the message carries its own words."""


def model_defaults(params):
    """What the model's defaults become on dnsmasq, which has one lease time for both lifetimes
    and always honours a client's Rapid Commit: the lifetime the task gives sets both, else one
    hour; rapid_commit is true."""
    lease = params.get('valid_lifetime') or params.get('preferred_lifetime') or LEASE_TIME
    return {'preferred_lifetime': params.get('preferred_lifetime') or lease,
            'valid_lifetime': lease, 'rapid_commit': True}


def check_expressible(obj):
    """Refuse, before anything is touched, what dnsmasq cannot do (naming dnsmasq)."""
    if obj is None:
        return
    where = 'backend dnsmasq (interface %s)' % obj['interface']
    if obj['mode'] == 'relay':
        if obj['interface_id']:
            raise Dhcpv6Error('%s: dnsmasq\'s DHCPv6 relay sends no Interface-ID option (ISC dhcrelay -6 -I '
                              'does; it is not a backend of this module yet): use interface_id: false' % where)
        return
    refused = []
    if obj['prefix_delegation']:
        refused.append('prefix_delegation: dnsmasq has no prefix delegation (use backend kea)')
    if any(res['prefix'] for res in obj['reservations']):
        refused.append('reservations with a prefix: dnsmasq has no prefix delegation (use backend kea)')
    if obj['preferred_lifetime'] != obj['valid_lifetime']:
        refused.append('preferred_lifetime %d != valid_lifetime %d: dnsmasq has one lease time for both '
                       '(give one of them, or the same value)' % (obj['preferred_lifetime'], obj['valid_lifetime']))
    if obj['valid_lifetime'] < MIN_LEASE_TIME:
        refused.append('valid_lifetime %d: dnsmasq\'s shortest lease time is %d seconds'
                       % (obj['valid_lifetime'], MIN_LEASE_TIME))
    if not obj['rapid_commit']:
        refused.append('rapid_commit: false: dnsmasq always answers a Solicit carrying Rapid Commit with a Reply')
    if ipaddress.IPv6Network(obj['subnet']).prefixlen < 64:
        refused.append('subnet %s: dnsmasq serves prefixes of length 64 or longer' % obj['subnet'])
    for extra in obj['extra_options']:
        if extra['code'] in TYPED_OPTIONS:
            refused.append('extra option %d: dnsmasq knows it as %s and re-encodes its data'
                           % (extra['code'], TYPED_OPTIONS[extra['code']]))
    if refused:
        raise Dhcpv6Error('%s cannot express: %s' % (where, '; '.join(refused)))


# ---- model <-> dnsmasq directives -----------------------------------------------------------
def _ignore_tag(iface):
    # '%' cannot occur in an interface name (see _model.IFNAME_RE): no clash with NAME tags.
    return 'ignore%' + iface


def _hex_data(data):
    """Option bytes as dnsmasq reads them: ``aa:bb`` for 2+ bytes (one group alone is read as
    text), a decimal number for one byte (dnsmasq sends the smallest integer), nothing for 0."""
    raw = bytes.fromhex(data)
    if not raw:
        return ''
    if len(raw) == 1:
        return ',%d' % raw[0]
    return ',' + ':'.join('%02x' % b for b in raw)


def _u32(value):
    return ':'.join('%02x' % b for b in int(value).to_bytes(4, 'big'))


def render_section(obj, relay_local=None):
    """The directives of one interface (canonical model), header line first."""
    iface = obj['interface']
    lines = ['%s%s: %s' % (SECTION, iface, obj['mode'])]
    if obj['mode'] == 'relay':
        if not relay_local:
            raise Dhcpv6Error('backend dnsmasq (interface %s): the relay needs a global IPv6 address on %s '
                              '(dnsmasq relays from it; servers choose the subnet by it)' % (iface, iface))
        for server in obj['servers']:
            if server == ALL_DHCP_SERVERS:
                # No server address: dnsmasq multicasts to All_DHCP_Servers on the interface.
                lines.append('dhcp-relay=%s,%s' % (relay_local, obj['upstream_interface']))
            else:
                lines.append('dhcp-relay=%s,%s,%s' % (relay_local, server, obj['upstream_interface']))
        return lines
    net = ipaddress.IPv6Network(obj['subnet'])
    lease = obj['valid_lifetime']
    if obj['pools']:
        for pool in obj['pools']:
            first, last = pool_bounds(pool)
            lines.append('dhcp-range=tag:%s,%s,%s,%d,%d' % (iface, first, last, net.prefixlen, lease))
    else:
        lines.append('dhcp-range=tag:%s,%s,static,%d,%d' % (iface, net.network_address, net.prefixlen, lease))
    lines.append('dhcp-option=tag:%s,option6:dns-server,%s' % (iface, ','.join('[%s]' % a for a in obj['dns_servers'])))
    if obj['domain_search']:
        lines.append('dhcp-option=tag:%s,option6:domain-search,%s' % (iface, ','.join(obj['domain_search'])))
    # odhcpd sends these whether asked or not: dhcp-option-force. dnsmasq types option 32 (a
    # number); 82 and 83 it does not know, so they go as 4 raw bytes.
    lines.append('dhcp-option-force=tag:%s,option6:information-refresh-time,%d'
                 % (iface, obj['information_refresh_time']))
    lines.append('dhcp-option-force=tag:%s,option6:82,%s' % (iface, _u32(obj['sol_max_rt'])))
    lines.append('dhcp-option-force=tag:%s,option6:83,%s' % (iface, _u32(obj['inf_max_rt'])))
    for extra in obj['extra_options']:
        lines.append('dhcp-option-force=tag:%s,option6:%d%s' % (iface, extra['code'], _hex_data(extra['hex'])))
    for res in obj['reservations']:
        lines.append('dhcp-host=tag:%s,id:%s,[%s]' % (iface, res['duid'], res['address']))
    for user_class in obj['ignore_user_class']:
        lines.append('dhcp-userclass=set:%s,%s' % (_ignore_tag(iface), user_class))
    if obj['ignore_user_class']:
        lines.append('dhcp-ignore=tag:%s,tag:%s' % (_ignore_tag(iface), iface))
    return lines


def render_text(models, relay_local=None):
    """The whole file for ``{interface: model}``; ``relay_local`` maps relay interfaces to the
    local address dnsmasq relays from."""
    relay_local = relay_local or {}
    out = [MANAGED_MARKER,
           '# DHCPv6 per interface, rendered by edgenet.router.dhcpv6_server. Each section is one',
           '# interface; edit the task, not this file (edits show as drift and are replaced).']
    for iface in sorted(models):
        out.append('')
        out.extend(render_section(models[iface], relay_local.get(iface)))
    return '\n'.join(out) + '\n'


def _blank(iface, mode):
    obj = dict((f.name, None) for f in TABLE)
    obj.update({'interface': iface, 'mode': mode})
    if mode == 'server':
        obj.update({'pools': [], 'prefix_delegation': [], 'reservations': [], 'dns_servers': [],
                    'domain_search': [], 'ignore_user_class': [], 'extra_options': [], 'rapid_commit': True})
    elif mode == 'relay':
        obj.update({'servers': [], 'interface_id': False})
    return obj


def _unknown(obj, line):
    """Keep a directive we did not write visible as a difference (never equal to a canonical value)."""
    obj.setdefault('_foreign', []).append(line)


def _parse_option(obj, iface, value, line):
    parts = value.split(',')
    if parts[0] != 'tag:%s' % iface or len(parts) < 2 or not parts[1].startswith('option6:'):
        _unknown(obj, line)
        return
    name, data = parts[1][len('option6:'):], parts[2:]
    if name == 'dns-server':
        obj['dns_servers'] = [d.strip('[]') for d in data]
    elif name == 'domain-search':
        obj['domain_search'] = data
    elif name == 'information-refresh-time' and len(data) == 1 and data[0].isdigit():
        obj['information_refresh_time'] = int(data[0])
    elif name in ('82', '83') and len(data) == 1:
        field = 'sol_max_rt' if name == '82' else 'inf_max_rt'
        try:
            obj[field] = int(data[0].replace(':', ''), 16)
        except ValueError:
            obj[field] = data[0]
    elif name.isdigit():
        text = ','.join(data)
        if text.isdigit():
            hexdata = '%02x' % int(text) if int(text) < 256 else '?' + text
        elif all(len(g) <= 2 for g in text.split(':')) and text:
            hexdata = ''.join(g.zfill(2) for g in text.split(':')).lower()
        elif not text:
            hexdata = ''
        else:
            hexdata = '?' + text
        obj['extra_options'].append({'code': int(name), 'hex': hexdata})
    else:
        _unknown(obj, line)


def _parse_server_line(obj, iface, key, value, line):
    parts = value.split(',')
    if key == 'dhcp-range':
        if parts[0] != 'tag:%s' % iface:
            _unknown(obj, line)
            return
        parts = parts[1:]
        try:
            if len(parts) == 4 and parts[1] == 'static':
                obj['subnet'] = '%s/%s' % (parts[0], parts[2])
            else:
                obj['pools'].append(norm_pool('%s-%s' % (parts[0], parts[1])))
                net = ipaddress.IPv6Network('%s/%s' % (parts[0], parts[2]), strict=False)
                obj['subnet'] = net.with_prefixlen
            lease = int(parts[3])
        except (ValueError, IndexError, Dhcpv6Error):
            _unknown(obj, line)
            return
        obj['preferred_lifetime'] = obj['valid_lifetime'] = lease
    elif key in ('dhcp-option', 'dhcp-option-force'):
        _parse_option(obj, iface, value, line)
    elif key == 'dhcp-host' and len(parts) == 3 and parts[0] == 'tag:%s' % iface and parts[1].startswith('id:'):
        obj['reservations'].append({'duid': parts[1][3:], 'address': parts[2].strip('[]'), 'prefix': None})
    elif key == 'dhcp-userclass' and len(parts) == 2 and parts[0] == 'set:%s' % _ignore_tag(iface):
        obj['ignore_user_class'].append(parts[1])
    elif key == 'dhcp-ignore' and value == 'tag:%s,tag:%s' % (_ignore_tag(iface), iface):
        obj['_ignore'] = True
    else:
        _unknown(obj, line)


def parse_text(text):
    """``({interface: model}, {interface: relay local address})`` from a file we wrote.

    Directives are read back into the model (a hand edit shows as a difference); a directive
    that is not ours keeps the section from ever equalling the desired model.
    """
    models, local = {}, {}
    obj = None
    for raw in (text or '').splitlines():
        line = raw.strip()
        if line.startswith(SECTION):
            head = line[len(SECTION):]
            iface, _sep, mode = head.partition(':')
            obj = _blank(iface.strip(), mode.strip())
            models[obj['interface']] = obj
            continue
        if not line or line.startswith('#') or obj is None:
            continue
        key, _sep, value = line.partition('=')
        if obj['mode'] == 'relay':
            parts = value.split(',')
            if key == 'dhcp-relay' and len(parts) in (2, 3):
                local[obj['interface']] = parts[0]
                obj['upstream_interface'] = parts[-1]
                obj['servers'].append(parts[1] if len(parts) == 3 else ALL_DHCP_SERVERS)
            else:
                _unknown(obj, line)
        elif obj['mode'] == 'server':
            _parse_server_line(obj, obj['interface'], key, value, line)
        else:
            _unknown(obj, line)
    return dict((k, _canonical(v)) for k, v in models.items()), local


def _canonical(obj):
    foreign = obj.pop('_foreign', None)
    ignore = obj.pop('_ignore', False)
    if obj['mode'] == 'server':
        obj['address_mode'] = 'stateful' if obj['pools'] else 'stateless'
        if bool(obj['ignore_user_class']) != ignore:
            foreign = (foreign or []) + ['dhcp-ignore missing or stray']
    out = canonical_read(obj)
    if foreign:
        # Not a model field value any task can ask for: the section always reads as drift.
        out['mode'] = '%s (with directives not written by edgenet.router: %s)' % (out['mode'], ' | '.join(foreign))
    return out


# ---- the process ----------------------------------------------------------------------------
def _conf_files_of(argv, read=None):
    """Config files and directories a dnsmasq command line loads: ``([files], [dirs])``."""
    files, dirs = [], []
    explicit = False
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        value = None
        for long_, short in (('--conf-file', '-C'), ('--conf-dir', '-7')):
            if arg.startswith(long_ + '='):
                value = (long_, arg[len(long_) + 1:])
            elif arg in (long_, short) and i + 1 < len(args):
                value = (long_, args[i + 1])
                i += 1
            elif arg.startswith(short) and len(arg) > 2 and not arg.startswith('--'):
                value = (long_, arg[2:])
        if value:
            if value[0] == '--conf-file':
                explicit = True
                files.append(value[1])
            else:
                dirs.append(value[1].split(',')[0])
        i += 1
    if not explicit:
        files.append('/etc/dnsmasq.conf')
    # One level of conf-file / conf-dir lines inside the files named (Debian's /etc/dnsmasq.conf).
    for path in list(files):
        text = (read or read_text)(path)
        for line in (text or '').splitlines():
            key, _sep, value = line.strip().partition('=')
            if key == 'conf-file' and value:
                files.append(value)
            elif key == 'conf-dir' and value:
                dirs.append(value.split(',')[0])
    return files, dirs


def loads_file(argv, path, read=None):
    """True when a dnsmasq started with ``argv`` reads ``path`` (directly or from a conf-dir)."""
    files, dirs = _conf_files_of(argv, read)
    real = os.path.realpath(path)
    if any(os.path.realpath(f) == real for f in files):
        return True
    name = os.path.basename(real)
    return any(os.path.realpath(d.rstrip('/') or '/') == os.path.dirname(real) for d in dirs) \
        and not name.startswith('.') and not name.endswith('~')


# ---- the stores -----------------------------------------------------------------------------
def _checker(run, binary=BINARY):
    """``validate(path)``: dnsmasq's own syntax check of the complete new file."""
    def validate(path):
        rc, out, err = run([binary, '--test', '--conf-file=%s' % path])
        if rc != 0:
            words = (err or out).strip().replace(path, '<new file>')
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
            loaded = _files.load(self.record_path, DnsmasqError)
            record = json.loads(loaded[0].decode('utf-8')) if loaded is not None else None
        except (DnsmasqError, ValueError):
            return None
        proc = self.backend.process
        if (isinstance(record, dict) and isinstance(record.get('text'), str) and record.get('pid') == pid
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
        running, file_text = found
        process = self.backend.process
        pid = process.pid()
        identity = (pid, process.start_ticks(pid) if pid is not None else None)
        undo_file = self.backend.file.file.snapshot()

        def restore():
            now = process.pid()
            if pid is None and now is not None:
                # Started by this write (systemd): it was stopped before this run, so it is again.
                self.backend.stop()
            if pid is None or (now, process.start_ticks(now) if now is not None else None) == identity:
                undo_file()
                return
            if running:
                self.backend.file.file.replace(running.encode())
            elif file_text is None:
                self.backend.file.file.remove()
            else:
                self.backend.file.file.replace(file_text.encode())
            self.backend.restart(was_running=True)
            undo_file()
        return restore

    def commands(self, change):
        return [self.backend.restart_command()]


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
        held = _lease_file_of(argv)
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
        return leases(_lease_file_of(self.process.argv(pid) if pid else None) or self.settings['lease_file'])


def _lease_file_of(argv):
    """The lease file a dnsmasq command line names, or None."""
    path = None
    for i, arg in enumerate(argv or []):
        if arg.startswith('--dhcp-leasefile='):
            path = arg.split('=', 1)[1]
        elif arg in ('-l', '--dhcp-leasefile') and i + 1 < len(argv):
            path = argv[i + 1]
        elif arg.startswith('-l') and len(arg) > 2 and not arg.startswith('--'):
            path = arg[2:]
    return path


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
