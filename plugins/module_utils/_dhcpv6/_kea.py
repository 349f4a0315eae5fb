# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The Kea DHCPv6 (2.2) backend: check, apply live, read running state and leases.

One Kea config file serves every interface, one ``subnet6`` entry each; the model <-> Kea JSON
mapping, and what Kea can express, is ``_kea_config``'s.

Two stores in the engine's sense: :class:`KeaFile` (persistent: the config file, validated
with ``kea-dhcp6 -t`` in the daemon's namespace before it replaces the live file) and
:class:`KeaDaemon` (runtime: ``config-get`` over the control socket, applied with
``config-test`` + ``config-reload`` -- never a restart, which would drop in-flight exchanges).
"""

from __future__ import annotations

import csv
import ipaddress
import os
import time

from ansible_collections.edgenet.router.plugins.module_utils._command import last_words
from ansible_collections.edgenet.router.plugins.module_utils._engine import (
    DELETE, RUNTIME,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import (
    ConfigFileError, ConfigFileStore, FileBackend, PutStore,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._kea_config import (
    check_expressible, dump_config, load_text, managed_part, models_from_config, render_config,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._kea_control import KeaControl, KeaError, KeaHealth
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._pdroutes import (
    PdRoutes, apparmor_problem, run_script_library, wanted_interfaces,
)
from ansible_collections.edgenet.router.plugins.module_utils import _files

__all__ = [
    'BINARY',
    'DEBIAN_PACKAGE',
    'DEFAULTS',
    'Backend',
    'KeaControl',
    'KeaDaemon',
    'KeaError',
    'KeaFile',
    'check_expressible',
    'leases',
    'load_text',
    'models_from_config',
    'render_config',
    'dump_config',
    'managed_part',
]

BINARY = 'kea-dhcp6'
DEBIAN_PACKAGE = 'kea-dhcp6-server'
DEFAULTS = {
    'config_file': '/etc/kea/kea-dhcp6.conf',
    'control_socket': '/run/kea/kea6-ctrl-socket',
    'lease_file': '/var/lib/kea/kea-leases6.csv',
    'service_name': 'kea-dhcp6-server',
}


# ---- the stores -----------------------------------------------------------------------------
KEA_USER = '_kea'  # Debian's kea-common


def _ensure_data_directory(directory):
    """Kea's checker refuses a config whose data-directory is missing ("Bad directory"), and on
    a fresh Debian host the unit makes it only when kea-dhcp6 first starts (StateDirectory=)."""
    if not directory or os.path.isdir(directory):
        return
    os.makedirs(directory, 0o750)
    try:
        import pwd
        user = pwd.getpwnam(KEA_USER)
        os.chown(directory, user.pw_uid, user.pw_gid)
    except (ImportError, KeyError):
        pass  # no _kea user: the daemon runs as root, root owns it


def _checker(run, netns=None, binary=BINARY, data_directory=None):
    """``validate(path)`` running Kea's own checker in the daemon's namespace (it looks the
    configured interfaces up, so it must see the daemon's links). Runs only on apply."""
    def validate(path):
        _ensure_data_directory(data_directory)
        argv = (['ip', 'netns', 'exec', netns] if netns else []) + [binary, '-t', path]
        rc, out, err = run(argv)
        if rc != 0:
            words = [line for line in (out + '\n' + err).splitlines() if 'ERROR' in line or 'rror' in line]
            raise KeaError('kea-dhcp6 -t rejected the new config (the live file is unchanged): %s'
                           % last_words('; '.join(words) or err, out))
    return validate


class KeaFile(ConfigFileStore):
    """The persistent store: the managed Kea config file."""

    error = KeaError
    part = 'subnet'
    check_command = BINARY + ' -t %s'
    aside = ' (e.g. to %(path)s.dist)'

    def __init__(self, path, settings, run, netns=None, binary=BINARY, pd=None):
        super(KeaFile, self).__init__(path, _checker(run, netns, binary, os.path.dirname(settings['lease_file'])))
        self.settings = settings
        self.pd = pd   # the route service of pd_routes (its config file is part of this store)

    def config(self):
        """The file's config (``{}`` when absent); KeaError if unreadable or not ours."""
        text = self.text()
        if text is None:
            return {}
        try:
            return load_text(text)
        except ValueError as exc:
            raise KeaError('%s is not valid JSON: %s' % (self.file.path, exc))

    def parse(self):
        existing = self.config()
        return models_from_config(existing, check_hook=False), existing

    def read(self):
        """The file's models; pd_routes reads as the problem when the run_script hook entry is
        missing or the route service's config file does not route what the subnet asks."""
        config = self.config()
        models = models_from_config(config)
        if self.pd is None:
            return models
        routed = (self.pd.file_config() or {}).get('interfaces') or {}
        wanted = wanted_interfaces(models_from_config(config, check_hook=False))
        for name, obj in models.items():
            if obj.get('pd_routes') in (True, False) and routed.get(name) != wanted.get(name):
                obj['pd_routes'] = 'route service config %s differs' % self.pd.config
        return models

    def render_models(self, models, context):
        settings = self.settings
        if self.pd is not None and wanted_interfaces(models):
            settings = dict(settings, pd_hook=self.pd.hook_entry(run_script_library()))
        return dump_config(render_config(models, settings, context))

    def put(self, key, obj):
        """The route service's files first (Kea's checker loads the hook library, and the hook
        script must be there when Kea runs it), then the Kea file."""
        if self.pd is not None:
            with self.file.locked():
                models = self.parse()[0]
                models.pop(key, None)
                if obj is not None:
                    models[key] = obj
                if self.pd.write_config(models):
                    self.dirty = True
        return super(KeaFile, self).put(key, obj)

    def snapshot(self, key):
        paths = [self.file.path] + ([self.pd.config] if self.pd is not None else [])
        return _files.snapshot(paths, self.file.locked, _files.is_ours, KeaError)

    def restore_record(self, record):
        allowed = [self.file.path] + ([self.pd.config] if self.pd is not None else [])
        snapshot = _files.Snapshot.from_record(record, self.file.directory, self.file.locked, _files.is_ours, KeaError)
        others = [path for path, dummy in snapshot.saved if path not in allowed]
        if others:
            raise KeaError('Refusing to restore %s: the record may name %s only' % (', '.join(others), ' or '.join(allowed)))
        snapshot()


def _broken(models, problem):
    """What read() reports for a Kea that answers but serves nothing: each interface as a mode
    no task asks for, so it is drift, and a real run repairs it with config-reload."""
    return dict((k, {'interface': k, 'mode': 'broken (%s)' % problem}) for k in models)


class KeaDaemon(PutStore):
    """The runtime store: what the running Kea serves, through its control socket. A Kea that
    serves no DHCPv6 socket reads as broken (see ``_kea_control``), whatever config it answers;
    a stopped Kea serves nothing and reads empty, and its write is the start (``backend``: the
    :class:`Backend`, which knows whether Kea runs and starts it)."""

    name = RUNTIME
    # Read back at once: put() returns only after Kea committed the config and bound its sockets
    # (settled_problem), and a start only once Kea serves, so config-get then shows what runs.
    verifies = True

    def __init__(self, control, config_file, health=None, backend=None):
        self.control = control
        self.health = health or KeaHealth(control)   # problem() / settled_problem(): see _kea_control
        self.config_file = config_file   # a KeaFile: config-reload loads it
        self.backend = backend
        self.reloaded = False

    def _stopped(self):
        return self.backend is not None and not self.backend.daemon_running()

    def running_config(self):
        return without_hash(self.control.command('config-get'))

    def read(self):
        if self._stopped():
            return {}
        models = models_from_config(self.running_config())
        problem = self.health.problem() if models else None
        if problem:
            return _broken(models, problem)
        pd = self.backend.pd if self.backend is not None else None
        if pd is not None and wanted_interfaces(models):
            # Routes need the route service running this config: under systemd the module starts it;
            # with service_manager none a stopped one is a warning (nothing starts it), a running one
            # on another config is drift (SIGHUP).
            if (pd.systemd or pd.state() is not None) and not pd.runs(models):
                for name in wanted_interfaces(models):
                    models[name]['pd_routes'] = 'route service %s not running this config' % pd.instance
        return models

    def put(self, key, obj):
        """Make Kea run the file's config with ``key``'s part as ``obj``.

        A stopped Kea is started (the file was written first: it reads the file). Creations and
        changes reach the file first (the engine writes persistent stores first), so a running
        Kea re-reads the file: ``config-reload``. A removal reaches the daemon first (so nothing
        brings the interface back), so Kea gets that config directly with ``config-set``; the
        file follows. ``config-test`` first either way: Kea answers with its reason without
        touching what it runs.
        """
        if self._stopped():
            self.backend.start()
            self._routes(models_from_config(self.config_file.config()))
            return
        wanted = load_text(self.config_file.rendered(key, obj))
        self.control.command('config-test', wanted)
        if wanted == self.config_file.config():
            self.control.command('config-reload')
        else:
            self.control.command('config-set', wanted)
        self.reloaded = True
        if models_from_config(wanted):
            problem = self.health.settled_problem()
            if problem:
                raise KeaError('Kea took the new config but serves no DHCPv6 socket: %s' % problem)
        self._routes(models_from_config(wanted))
        now = self.read().get(key)
        if obj is None and now is not None:
            raise KeaError('Kea still serves %s after the new config was loaded' % key)
        if obj is not None:
            differs = sorted(f for f in obj if obj[f] is not None and (now or {}).get(f) != obj[f])
            if differs:
                raise KeaError('Kea loaded the new config but does not run the expected %s: %s'
                               % (key, ', '.join(differs)))

    def _routes(self, models):
        """The route service takes the config the file now holds (pd_routes)."""
        if self.backend is not None and self.backend.pd is not None:
            self.backend.pd.apply(models)

    def snapshot(self, key):
        return _DaemonSnapshot(self, None if self._stopped() else self.running_config())

    def restore_record(self, record):
        """Put Kea back as a snapshot's ``record()`` saw it (a commit-confirm rollback, in the
        timer's process): stopped, or running the config it ran then."""
        if not isinstance(record, dict) or not (record.get('stopped') is True or isinstance(record.get('config'), dict)):
            raise KeaError('Refusing a malformed record of the Kea daemon: %r' % (record,))
        _DaemonSnapshot(self, None if record.get('stopped') else record['config'])()

    def commands(self, change):
        if self._stopped() or (self.backend is not None and self.backend.started_here):
            return [' '.join(self.backend.start_argv())]
        last = 'config-set' if change.action == DELETE else 'config-reload'
        return ['echo \'{"command": "%s"}\' | socat UNIX:%s -' % (cmd, self.control.path)
                for cmd in ('config-test', last)]


def without_hash(config):
    """``config-get``'s answer as a config Kea takes back. Kea 2.4 and later (Debian 13 has 2.6)
    add a top-level ``hash`` of the config beside ``Dhcp6``, and refuse it in ``config-set`` and
    ``config-test`` (DHCP6_CONFIG_UNSUPPORTED_OBJECT "unsupported object: hash"): a rollback
    would put nothing back. Kea 2.2 (Debian 12) has no such key."""
    if isinstance(config, dict) and 'hash' in config:
        config = dict((key, value) for key, value in config.items() if key != 'hash')
    return config


class _DaemonSnapshot(object):
    """Kea as it was before a write: ``saved``, the config it ran (``config-get``), or None when it
    was stopped. Calling it puts that back (``config-set``; or stops a Kea this run started);
    :meth:`record` is the same as data for a rollback in another process."""

    def __init__(self, daemon, saved):
        self.daemon = daemon
        self.saved = saved

    def __call__(self):
        if self.saved is None:
            backend = self.daemon.backend
            if backend.daemon_running():   # started by this write: it was stopped before
                backend.stop()
            return
        self.daemon.control.command('config-set', without_hash(self.saved))

    def record(self):
        return {'stopped': True} if self.saved is None else {'config': self.saved}


class Backend(FileBackend):
    """Kea for dhcpv6_server(_info): its two stores and how the daemon is started."""

    name = 'kea'
    error = KeaError

    def __init__(self, params, run, binary=BINARY, control=None, health=None):
        super(Backend, self).__init__(params, run, DEFAULTS)
        self.control = control or KeaControl(self.settings['control_socket'])
        self.health = health or KeaHealth(self.control)
        self.pd = PdRoutes(self.settings, run, params.get('netns'), systemd=self.starts_daemon())
        self.file = KeaFile(self.settings['config_file'], self.settings, run, params.get('netns'), binary, pd=self.pd)
        self.daemon = KeaDaemon(self.control, self.file, self.health, backend=self)
        self._running = self.control.running()

    def warnings(self):
        """pd_routes said on every run: AppArmor denies Kea the hook (see ``apparmor_problem``), or
        service_manager none and no route service running."""
        try:
            models = self.file.read()
        except KeaError:
            return []
        if not wanted_interfaces(models):
            return []
        problem = apparmor_problem()
        out = [problem] if problem else []
        if not self.pd.systemd and self.pd.state() is None:
            out.append('pd_routes: the route service is not running and service_manager none starts nothing, so no '
                       'route to a delegated prefix is installed: start it as %s' % ' '.join(self.pd.argv()))
        return out

    def pd_routes(self):
        return self.pd.routes()

    @staticmethod
    def check_expressible(obj, addresses=None):
        check_expressible(obj)

    def started(self):
        return self.health.serving()

    def render(self, key, obj):
        return managed_part(load_text(self.file.rendered(key, obj)), key) if obj is not None else ''

    def leases(self):
        path = self.settings['lease_file']
        if self._running:
            database = (self.daemon.running_config().get('Dhcp6') or {}).get('lease-database') or {}
            path = database.get('name') or path
        return leases(path)


# ---- leases ---------------------------------------------------------------------------------
LEASE_TYPES = {'0': 'address', '1': 'temporary', '2': 'prefix'}


def leases(lease_file, now=None):
    """Current leases from Kea's memfile CSV (an append log: the last row of a lease wins;
    rows with valid lifetime 0 are releases). ``[{address, prefix_length, type, duid, iaid,
    expires, subnet_id, state}]`` sorted by address."""
    now = time.time() if now is None else now
    rows = {}
    for path in (lease_file + '.2', lease_file + '.1', lease_file):
        try:
            with open(path, newline='') as handle:
                for row in csv.DictReader(handle):
                    key = (row.get('address'), row.get('lease_type'))
                    rows[key] = row
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigFileError('Cannot read %s: %s' % (path, exc.strerror))
    out = []
    for (address, ltype), row in rows.items():
        try:
            expire = int(row.get('expire') or 0)
            valid = int(row.get('valid_lifetime') or 0)
        except ValueError:
            continue
        if valid == 0 or expire < now:
            continue
        out.append({
            'address': address,
            'prefix_length': int(row.get('prefix_len') or 128),
            'type': LEASE_TYPES.get(ltype, ltype),
            'duid': row.get('duid'),
            'iaid': int(row.get('iaid') or 0),
            'expires': expire,
            'subnet_id': int(row.get('subnet_id') or 0),
            'state': {'0': 'default', '1': 'declined', '2': 'expired-reclaimed'}.get(row.get('state'), row.get('state')),
        })
    return sorted(out, key=lambda lease: (ipaddress.IPv6Address(lease['address']), lease['prefix_length']))
