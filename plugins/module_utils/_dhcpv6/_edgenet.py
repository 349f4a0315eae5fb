# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The ``edgenet`` backend of dhcpv6_server: the collection's own DHCPv6 relay (``_relayd``), relay
mode only, with what odhcpd's relay does and the other backends cannot (Interface-ID, a hop
limit, DNS rewrite).

The module installs the daemon as :data:`PROGRAM` and, under systemd, a unit of its own
(``service_name``, default ``edgenet-dhcp6-relay.service``) running ``python3 -I PROGRAM BOOT LIVE
STATE``. Two stores, as ppp_server has them:

- persistent (:class:`RelayFile`): BOOT, ``config_file`` (default ``/etc/edgenet/dhcp6-relay.conf``),
  what the router boots with; the unit is enabled and starts only where that file exists, so the
  file alone (written, removed or rolled back) decides what comes back at boot;
- runtime (:class:`RelayDaemon`): what the running relay reports in STATE (its pid, config and
  counters), trusted only while that pid's command line is the daemon's own. A change writes LIVE
  (``/run/edgenet/dhcp6-relay/SERVICE.conf``) and reloads the relay (SIGHUP: the same socket, no
  exchange in flight lost), or starts it; so the runtime can change and roll back on its own.

With ``service_manager: none`` nothing is started: the task runs the daemon itself (the warning
names the command line), and a change reaches it by SIGHUP to the pid its state names, once that
pid's command line proved it is the daemon of these files.
"""

from __future__ import annotations

import json
import os
import pkgutil
import re
import signal

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._command import checked
from ansible_collections.edgenet.router.plugins.module_utils._engine import DELETE, RUNTIME
from ansible_collections.edgenet.router.plugins.module_utils._poll import until
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _relayd
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import (
    ConfigFileError, ConfigFileStore, FileBackend, PutStore, canonical_read,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import TABLE, Dhcpv6Error
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._process import runs_with_tail

__all__ = ['BINARY', 'DEBIAN_PACKAGE', 'DEFAULTS', 'PROGRAM', 'Backend', 'RelayDaemon', 'RelayError', 'RelayFile',
           'daemon_argv', 'unit_text']

BINARY = 'python3'
DEBIAN_PACKAGE = 'python3'
# The relay runs on the router's own Python (a virtualenv's first on PATH is not the system's).
PYTHON = '/usr/bin/python3'
PROGRAM = '/usr/local/lib/edgenet-router/dhcp6-relayd.py'
LIVE_DIR = '/run/edgenet/dhcp6-relay'
UNIT_DIR = '/etc/systemd/system'
DEFAULTS = {
    'config_file': '/etc/edgenet/dhcp6-relay.conf',
    'service_name': 'edgenet-dhcp6-relay',
}
# How long a started or reloaded relay has to report the config it was given.
DAEMON_WAIT = 10
# Words of a unit's ExecStart= and of the daemon's argv: no quoting, no "%" specifiers, no spaces.
_PLAIN_PATH_RE = re.compile(r'/[A-Za-z0-9_./@+-]{1,4094}\Z')
# The relay's unit and the names of its files in LIVE_DIR: literal, and a word of ExecStart= too.
_SERVICE_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\Z')


class RelayError(ConfigFileError):
    """The relay backend cannot carry out the task; the message says why and what to do."""


def _plain(path, what):
    if not _PLAIN_PATH_RE.match(path) or '/../' in path + '/':
        raise RelayError('%s %s: the edgenet relay runs with it on its command line, so give an absolute path of '
                         'letters, digits and "_./@+-" only' % (what, path))
    return path


class Paths(object):
    """The files of one relay (its ``service_name``): BOOT, LIVE, STATE and its unit."""

    def __init__(self, settings):
        service = settings['service_name']
        if not _SERVICE_RE.match(service) or service.endswith('.service'):
            raise RelayError('service_name %s: the edgenet relay names its unit and its files after it, so give 1-201 '
                             'letters, digits, "_", "." or "-", starting with a letter, digit or "_", without '
                             '".service" (e.g. edgenet-dhcp6-relay)' % service)
        self.boot = _plain(settings['config_file'], 'config_file')
        self.live = os.path.join(LIVE_DIR, service + '.conf')
        self.state = os.path.join(LIVE_DIR, service + '.state')
        self.unit = service + '.service'


def daemon_argv(python, paths, netns=None):
    """The relay's command line: every word ours (the paths were checked, the namespace too)."""
    return (['/sbin/ip', 'netns', 'exec', netns] if netns else []) + \
        [python, '-I', PROGRAM, paths.boot, paths.live, paths.state]


def unit_text(python, paths, netns=None):
    return '''%s
# The DHCPv6 relay of edgenet.router.dhcpv6_server (backend edgenet).
[Unit]
Description=edgenet.router DHCPv6 relay
After=network.target
# What the router boots with is the config file: no file, no relay.
ConditionPathExists=%s

[Service]
Type=simple
ExecStart=%s
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure

[Install]
WantedBy=multi-user.target
''' % (_files.MANAGED_MARKER, paths.boot, ' '.join(daemon_argv(python, paths, netns)))


def program_text():
    """The daemon's source, from the collection itself (inside AnsiballZ's payload too)."""
    return pkgutil.get_data('ansible_collections.edgenet.router.plugins.module_utils._dhcpv6', '_relayd.py')


def _model(ifname, conf):
    """One interface of the daemon's config -> the model, canonical."""
    obj = dict((field.name, None) for field in TABLE)
    obj.update(dict((name, conf.get(name)) for name in _relayd.INTERFACE_KEYS), interface=ifname, mode='relay')
    return canonical_read(obj)


def _daemon_part(obj):
    return dict((name, obj[name]) for name in _relayd.INTERFACE_KEYS)


def _with(config, key, obj):
    """``config`` (the daemon's form) with ``key``'s part as ``obj`` (None: without it), checked."""
    interfaces = dict((config or {}).get('interfaces') or {})
    interfaces.pop(key, None)
    if obj is not None:
        interfaces[key] = _daemon_part(obj)
    try:
        return _relayd.check_config({'interfaces': interfaces})
    except _relayd.BadConfig as exc:
        raise RelayError('the relay would refuse its new config: %s' % exc)


class Installer(object):
    """The program (and under systemd the unit) in place where they differ; daemon-reload after a
    new unit. Done once per run, by whichever store writes first."""

    def __init__(self, run, python, paths, netns, systemd):
        self.run, self.python, self.paths, self.netns, self.systemd = run, python, paths, netns, systemd
        self.done = False

    def __call__(self):
        if self.done:
            return
        data = program_text()
        with _files.locked(os.path.dirname(PROGRAM), error=RelayError):
            if _files.load(PROGRAM, RelayError) != (data, 0o644):
                _files.atomic_write(PROGRAM, data, 0o644, error=RelayError)
        if self.systemd:
            path = os.path.join(UNIT_DIR, self.paths.unit)
            text = unit_text(self.python, self.paths, self.netns).encode()
            with _files.locked(UNIT_DIR, error=RelayError):
                loaded = _files.load(path, RelayError)
                if loaded is not None and not _files.is_ours(loaded[0]):
                    raise RelayError('%s exists without the line "%s": it is not ours; choose another service_name or '
                                     'move it aside' % (path, _files.MANAGED_MARKER))
                if loaded is None or loaded[0] != text:
                    _files.atomic_write(path, text, 0o644, error=RelayError)
                    checked(self.run, ['systemctl', 'daemon-reload'], RelayError)
        self.done = True


class RelayFile(ConfigFileStore):
    """The persistent store: BOOT, removed when it would relay nothing; the unit enabled."""

    error = RelayError
    part = 'relayed interface'
    aside = ' (e.g. to %(path)s.dist)'

    def __init__(self, path, run, install, systemd):
        super(RelayFile, self).__init__(path, self._check)
        self.run = run
        self.install = install
        self.systemd = systemd

    @staticmethod
    def _check(path):
        try:
            _relayd.load(path)
        except (OSError, _relayd.BadConfig) as exc:
            raise RelayError('the relay would refuse the new config file (the live file is unchanged): %s' % exc)

    def parse(self):
        text = self.text()
        if text is None:
            return {}, None
        try:
            config = _relayd.parse_config(text)
        except _relayd.BadConfig as exc:
            raise RelayError('%s cannot be read: %s; fix or remove it' % (self.file.path, exc))
        return dict((name, _model(name, conf)) for name, conf in config['interfaces'].items()), None

    def render_models(self, models, context):
        config = {'interfaces': dict((name, _daemon_part(obj)) for name, obj in models.items())}
        return _relayd.render_config(config)

    def put(self, key, obj):
        self.install()
        with self.file.locked():
            models = self.parse()[0]
            models.pop(key, None)
            if obj is not None:
                models[key] = obj
            if models:
                changed = self.file.replace(self.render_models(models, None).encode(), validate=self.validate,
                                            mode=0o600)
            else:
                changed = self.file.remove()
        if self.systemd and models:
            checked(self.run, ['systemctl', 'enable', '--quiet', self.install.paths.unit], RelayError)
        self.dirty = self.dirty or changed
        return changed

    def commands(self, change):
        what = 'remove %s from' % change.key if change.action == DELETE else 'write %s to' % change.key
        return ['%s %s (checked as the relay reads it)' % (what, self.file.path)] + \
            (['systemctl enable %s' % self.install.paths.unit] if self.systemd else [])


class _Snapshot(object):
    """The relay as it was: the config it ran, or stopped. Calling it puts that back."""

    def __init__(self, daemon, config):
        self.daemon = daemon
        self.config = config

    def __call__(self):
        self.daemon.run_config(self.config)

    def record(self):
        return {'stopped': True} if self.config is None else {'config': self.config}


class RelayDaemon(PutStore):
    """The runtime store: the config the running relay reports (see the module's docstring)."""

    name = RUNTIME
    verifies = True   # put() returns once the relay reports the config it was given

    def __init__(self, run, install, paths, systemd, wait=DAEMON_WAIT, proc='/proc'):
        self.run = run
        self.install = install
        self.paths = paths
        self.systemd = systemd
        self.wait = wait
        self.proc = proc

    def locked(self):
        return _files.locked(LIVE_DIR, error=RelayError)   # made (0755) when missing

    def _is_ours(self, pid):
        """True when ``pid`` runs this relay: its command line ends in the daemon's own words."""
        return runs_with_tail(pid, daemon_argv('', self.paths)[1:], self.proc)

    def state(self):
        """The state file, when the process that wrote it still runs this relay; else None."""
        state = _files.load_json_object(self.paths.state, RelayError)
        pid = state.get('pid') if state is not None else None
        if not isinstance(pid, int) or isinstance(pid, bool) or not self._is_ours(pid):
            return None
        return state

    def running(self):
        return self.state() is not None

    def config(self):
        state = self.state()
        return state.get('config') if state is not None and isinstance(state.get('config'), dict) else None

    def read(self):
        config = self.config()
        interfaces = (config or {}).get('interfaces')
        if not isinstance(interfaces, dict):
            return {}
        return dict((name, _model(name, conf if isinstance(conf, dict) else {})) for name, conf in interfaces.items())

    def counters(self):
        state = self.state()
        return state.get('counters') if state is not None else None

    def put(self, key, obj):
        # A relay that runs is changed in what it runs; a stopped one starts with what the router
        # boots with (the engine wrote that file first) and this change, so a start never drops
        # the interfaces of other tasks.
        base = self.config()
        if base is None:
            try:
                base = _relayd.load(self.paths.boot)
            except (OSError, _relayd.BadConfig):
                base = None
        self.run_config(_with(base, key, obj))

    def run_config(self, config):
        """Make the relay run ``config`` (None or no interface: stopped, or under service_manager
        none relaying nothing); returns once it reports that config."""
        with self.locked():
            self._run_config(config)

    def _run_config(self, config):
        state = self.state()
        if not (config or {}).get('interfaces') and (self.systemd or state is None):
            if self.systemd:
                checked(self.run, ['systemctl', 'stop', self.paths.unit], RelayError)
            if _files.load(self.paths.live, RelayError) is not None:
                _files.remove(self.paths.live, RelayError)
            return
        config = _relayd.check_config(config)
        if state is None and not self.systemd:
            raise RelayError('the edgenet DHCPv6 relay is not running and service_manager none starts nothing: start it '
                             '(%s), then run the task again' % ' '.join(daemon_argv(self.install.python, self.paths)))
        self.install()
        _files.atomic_write(self.paths.live, _relayd.render_config(config).encode(), 0o600, error=RelayError)
        if state is None:
            how = 'systemctl start'
            checked(self.run, ['systemctl', 'start', self.paths.unit], RelayError)
        elif self.systemd:
            how = 'systemctl reload'
            checked(self.run, ['systemctl', 'reload', self.paths.unit], RelayError)
        else:
            how = 'SIGHUP to pid %d' % state['pid']
            os.kill(state['pid'], signal.SIGHUP)   # proven ours by state(): its command line
        if not until(lambda: self.config() == config, self.wait):
            if state is None:
                self.run(['systemctl', 'stop', self.paths.unit])
            raise RelayError('the edgenet DHCPv6 relay does not report the new config %d s after %s (see journalctl -u %s)%s'
                             % (self.wait, how, self.paths.unit, '' if state is not None else '; it was stopped again'))

    def snapshot(self, key):
        return _Snapshot(self, self.config())

    def restore_record(self, record):
        if not isinstance(record, dict) or not (record.get('stopped') is True or isinstance(record.get('config'), dict)):
            raise RelayError('Refusing a malformed record of the edgenet relay: %r' % (record,))
        self.run_config(None if record.get('stopped') else record['config'])

    def commands(self, change):
        if not self.running():
            return ['write %s' % self.paths.live, 'systemctl start %s' % self.paths.unit]
        how = 'systemctl reload %s' % self.paths.unit if self.systemd else 'kill -HUP <the relay\'s pid>'
        if change.action == DELETE:
            return ['write %s without %s' % (self.paths.live, change.key), how]
        return ['write %s' % self.paths.live, how]


class Backend(FileBackend):
    """The collection's own relay for dhcpv6_server(_info)."""

    name = 'edgenet'
    error = RelayError
    NOT_OURS = ('control_socket', 'lease_file', 'pid_file')

    def __init__(self, params, run, binary=None):   # binary: python3 was found; the relay runs on PYTHON
        super(Backend, self).__init__(params, run, DEFAULTS)
        given = [name for name in self.NOT_OURS if params.get(name) is not None]
        if given:
            raise RelayError('%s do(es) not apply to backend edgenet (a relay keeps no leases; its state is in %s)'
                             % (', '.join(given), LIVE_DIR))
        self.paths = Paths(self.settings)
        netns = params.get('netns')
        if netns is not None and not _SERVICE_RE.match(netns):
            raise RelayError('netns %s: the edgenet relay\'s unit runs it as "ip netns exec NETNS", so give a namespace '
                             'named with letters, digits, "_", "." or "-"' % netns)
        systemd = self.starts_daemon()
        self.install = Installer(run, PYTHON, self.paths, params.get('netns'), systemd)
        self.file = RelayFile(self.paths.boot, run, self.install, systemd)
        self.daemon = RelayDaemon(run, self.install, self.paths, systemd)
        self._running = self.daemon.running()

    @staticmethod
    def check_expressible(obj, addresses=None):
        if obj is None:
            return
        if obj['mode'] != 'relay':
            raise Dhcpv6Error('backend edgenet is a DHCPv6 relay only (interface %s): serve with backend kea or '
                              'dnsmasq' % obj['interface'])
        if addresses is not None and not obj['interface_id'] and \
                not any(not a.lower().startswith('fe80') for a in addresses if ':' in a):
            raise Dhcpv6Error('backend edgenet (interface %s): the relay needs a global IPv6 address on %s (servers '
                              'choose the subnet by it, the link-address) or interface_id: true'
                              % (obj['interface'], obj['interface']))

    def started(self):
        return self.daemon.running()

    def start_hint(self):
        return ': start it as %s' % ' '.join(daemon_argv(self.install.python, self.paths, self.params.get('netns')))

    def render(self, key, obj):
        return '' if obj is None else json.dumps({key: _daemon_part(obj)}, sort_keys=True)

    def leases(self):
        return []   # a relay keeps none: the servers behind it do

    def counters(self):
        return self.daemon.counters()
