# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The Kea DHCPv6 (2.2) backend: render, check, apply live, read running state and leases.

One Kea config file serves every interface; each interface is one ``subnet6`` entry carrying
``user-context: {"edgenet.router": {"interface": ...}}``, so a task replaces its own subnet and
keeps the others. Ignored user classes are clauses of the global ``DROP`` client class.

Two stores in the engine's sense: :class:`KeaFile` (persistent: the config file, validated
with ``kea-dhcp6 -t`` in the daemon's namespace before it replaces the live file) and
:class:`KeaDaemon` (runtime: ``config-get`` over the control socket, applied with
``config-test`` + ``config-reload`` -- never a restart, which would drop in-flight exchanges).
"""

from __future__ import annotations

import copy
import csv
import ipaddress
import json
import os
import re
import time

from ansible_collections.edgenet.router.plugins.module_utils._engine import (
    DELETE, RUNTIME,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import (
    MANAGED_MARKER, ConfigFileError, ConfigFileStore, FileBackend, PutStore, canonical_read,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._kea_control import KeaControl, KeaError, KeaHealth
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import (
    Dhcpv6Error, TABLE, norm_pool,
)

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
CONTEXT_KEY = 'edgenet.router'

# Model field -> Kea option name (all in the dhcp6 space).
OPTION_NAMES = {
    'dns_servers': ('dns-servers', 23),
    'domain_search': ('domain-search', 24),
    'sol_max_rt': ('solmax-rt', 82),
    'inf_max_rt': ('inf-max-rt', 83),
    'information_refresh_time': ('information-refresh-time', 32),
}
# odhcpd puts the retransmission limits and the refresh time in every reply whether asked or
# not; Kea only sends what the client requests unless always-send is set.
ALWAYS_SEND = ('sol_max_rt', 'inf_max_rt', 'information_refresh_time')
CODE_FIELDS = dict((code, field) for field, (dummy, code) in OPTION_NAMES.items())
NAME_FIELDS = dict((name, field) for field, (name, dummy) in OPTION_NAMES.items())

_DROP_CLAUSE = re.compile(r"\(pkt\.iface == '([^']+)' and substring\(option\[15\]\.hex,0,(\d+)\) == 0x([0-9A-Fa-f]+)\)")


def check_expressible(obj):
    """Refuse, before anything is touched, what Kea cannot do (naming Kea)."""
    if obj is not None and obj['mode'] == 'relay':
        raise Dhcpv6Error('backend kea cannot relay: Kea is a DHCPv6 server only (interface %s). Use '
                          'backend dnsmasq for a relay.' % obj['interface'])


# ---- model <-> Kea JSON ---------------------------------------------------------------------
def _user_class_clause(iface, user_class):
    data = len(user_class.encode()).to_bytes(2, 'big') + user_class.encode()
    return "(pkt.iface == '%s' and substring(option[15].hex,0,%d) == 0x%s)" % (iface, len(data), data.hex().upper())


def _drop_test(models):
    clauses = [_user_class_clause(iface, uc) for iface in sorted(models)
               for uc in (models[iface].get('ignore_user_class') or [])]
    return ' or '.join(clauses)


def _parse_drop(test):
    """``{iface: [user class, ...]}`` from the DROP test; unknown clauses read as ``?``."""
    out = {}
    rest = test or ''
    for iface, length, data in _DROP_CLAUSE.findall(rest):
        raw = bytes.fromhex(data)
        if int(length) != len(raw) or int.from_bytes(raw[:2], 'big') != len(raw) - 2:
            out.setdefault(iface, []).append('?')
            continue
        out.setdefault(iface, []).append(raw[2:].decode('utf-8', 'replace'))
    return dict((k, sorted(v)) for k, v in out.items())


def _pool_entry(pool):
    return {'pool': pool}


def render_subnet(obj, subnet_id):
    """Canonical server model -> one Kea ``subnet6`` entry."""
    options = []
    for field, (name, dummy) in OPTION_NAMES.items():
        value = obj[field]
        if value in (None, []):
            continue
        data = ', '.join(value) if isinstance(value, list) else str(value)
        entry = {'name': name, 'data': data}
        if field in ALWAYS_SEND:
            entry['always-send'] = True
        options.append(entry)
    for extra in obj['extra_options']:
        options.append({'code': extra['code'], 'space': 'dhcp6', 'csv-format': False,
                        'data': extra['hex'].upper(), 'always-send': True})
    reservations = []
    for res in obj['reservations']:
        entry = {'duid': res['duid']}
        if res['address']:
            entry['ip-addresses'] = [res['address']]
        if res['prefix']:
            entry['prefixes'] = [res['prefix']]
        reservations.append(entry)
    subnet = {
        'id': subnet_id,
        'subnet': obj['subnet'],
        'interface': obj['interface'],
        'user-context': {CONTEXT_KEY: {'interface': obj['interface'], 'address_mode': obj['address_mode']}},
        'pools': [_pool_entry(p) for p in obj['pools']],
        'pd-pools': [{'prefix': str(ipaddress.IPv6Network(pd['prefix']).network_address),
                      'prefix-len': ipaddress.IPv6Network(pd['prefix']).prefixlen,
                      'delegated-len': pd['delegated_length']} for pd in obj['prefix_delegation']],
        'reservations': reservations,
        'preferred-lifetime': obj['preferred_lifetime'],
        'valid-lifetime': obj['valid_lifetime'],
        'rapid-commit': obj['rapid_commit'],
        'option-data': options,
    }
    return subnet


def _split(data):
    return [item.strip() for item in str(data).split(',') if item.strip()]


def parse_subnet(subnet, user_classes=()):
    """A Kea ``subnet6`` entry (file or ``config-get``) -> canonical model, or None if not ours."""
    context = (subnet.get('user-context') or {}).get(CONTEXT_KEY)
    if not isinstance(context, dict) or not context.get('interface'):
        return None
    obj = dict((f.name, None) for f in TABLE)
    obj.update({
        'interface': context['interface'],
        'mode': 'server',
        'subnet': subnet.get('subnet'),
        'pools': [norm_pool(p.get('pool')) for p in subnet.get('pools') or []],
        'prefix_delegation': [{'prefix': '%s/%s' % (pd.get('prefix'), pd.get('prefix-len')),
                               'delegated_length': pd.get('delegated-len')} for pd in subnet.get('pd-pools') or []],
        'reservations': [],
        'dns_servers': [],
        'domain_search': [],
        'preferred_lifetime': subnet.get('preferred-lifetime'),
        'valid_lifetime': subnet.get('valid-lifetime'),
        'rapid_commit': bool(subnet.get('rapid-commit', False)),
        'ignore_user_class': list(user_classes),
        'extra_options': [],
    })
    if subnet.get('interface') != context['interface']:
        obj['subnet'] = '%s (on interface %s)' % (obj['subnet'], subnet.get('interface'))
    for res in subnet.get('reservations') or []:
        addresses, prefixes = res.get('ip-addresses') or [], res.get('prefixes') or []
        obj['reservations'].append({'duid': res.get('duid'), 'address': addresses[0] if addresses else None,
                                    'prefix': prefixes[0] if prefixes else None})
    for option in subnet.get('option-data') or []:
        if option.get('space', 'dhcp6') != 'dhcp6':
            continue
        field = NAME_FIELDS.get(option.get('name')) or CODE_FIELDS.get(option.get('code'))
        if field is None:
            data = option.get('data', '')
            if option.get('csv-format', True):
                data = '?' + data  # not ours: never equal to a canonical hex string
            obj['extra_options'].append({'code': option.get('code'), 'hex': data})
        elif field in ('dns_servers', 'domain_search'):
            obj[field] = _split(option.get('data', ''))
        else:
            obj[field] = int(option.get('data'))
    obj['address_mode'] = 'stateful' if obj['pools'] else 'stateless'
    return canonical_read(obj)


def models_from_config(config):
    """``{interface: model}`` of the subnets this collection manages in a Kea config."""
    dhcp6 = (config or {}).get('Dhcp6') or {}
    drop = {}
    for klass in dhcp6.get('client-classes') or []:
        if klass.get('name') == 'DROP':
            drop = _parse_drop(klass.get('test'))
    out = {}
    for subnet in dhcp6.get('subnet6') or []:
        iface = ((subnet.get('user-context') or {}).get(CONTEXT_KEY) or {}).get('interface')
        obj = parse_subnet(subnet, drop.get(iface, []))
        if obj is not None:
            out[obj['interface']] = obj
    return out


def render_config(models, settings, existing=None):
    """The whole Kea config for ``models`` (``{interface: model}``).

    ``existing`` is the config we wrote before (or None): subnet ids stay with their interface,
    because Kea ties leases to the subnet id and a renumbering would orphan them.
    """
    config = copy.deepcopy(existing) if existing else {}
    dhcp6 = config.setdefault('Dhcp6', {})
    ids = {}
    for subnet in dhcp6.get('subnet6') or []:
        iface = ((subnet.get('user-context') or {}).get(CONTEXT_KEY) or {}).get('interface')
        if iface and isinstance(subnet.get('id'), int):
            ids[iface] = subnet['id']
    used = set(ids.values())
    subnets = []
    for iface in sorted(models):
        if iface not in ids:
            ids[iface] = next(i for i in range(1, len(used) + 2) if i not in used)
            used.add(ids[iface])
        subnets.append(render_subnet(models[iface], ids[iface]))
    dhcp6['interfaces-config'] = {'interfaces': sorted(models)}
    dhcp6['control-socket'] = {'socket-type': 'unix', 'socket-name': settings['control_socket']}
    # The server's DUID file lives here: next to the leases it identifies.
    dhcp6['data-directory'] = os.path.dirname(settings['lease_file'])
    dhcp6['lease-database'] = {'type': 'memfile', 'persist': True, 'name': settings['lease_file'],
                               'lfc-interval': 3600}
    classes = [c for c in dhcp6.get('client-classes') or [] if c.get('name') != 'DROP']
    test = _drop_test(models)
    if test:
        classes.append({'name': 'DROP', 'test': test})
    if classes:
        dhcp6['client-classes'] = classes
    else:
        dhcp6.pop('client-classes', None)
    dhcp6['subnet6'] = subnets
    return config


def managed_part(config, key):
    """What the collection manages of ``key`` in a Kea config, as JSON text: its ``subnet6`` entry
    and its clauses of the DROP class. The rest of the file (other interfaces, hook libraries and
    their parameters, which may hold secrets) is not the task's to show."""
    dhcp6 = (config or {}).get('Dhcp6') or {}
    part = {'subnet6': [s for s in dhcp6.get('subnet6') or []
                        if ((s.get('user-context') or {}).get(CONTEXT_KEY) or {}).get('interface') == key]}
    models = models_from_config(config)
    if key in models and models[key].get('ignore_user_class'):
        part['client-classes'] = [{'name': 'DROP', 'test': _drop_test({key: models[key]})}]
    return json.dumps({'Dhcp6': part}, indent=2, sort_keys=True) + '\n'


def dump_config(config):
    """File text: the marker line (Kea reads ``#`` comments) then indented JSON."""
    return MANAGED_MARKER + '\n' + json.dumps(config, indent=2, sort_keys=True) + '\n'


def load_text(text):
    """Parse a Kea file we wrote (comment lines first, then JSON); ValueError otherwise."""
    lines = text.split('\n')
    body = '\n'.join(line for line in lines if not line.lstrip().startswith('#'))
    return json.loads(body) if body.strip() else {}


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
                           % ('; '.join(words) or (err or out).strip()))
    return validate


class KeaFile(ConfigFileStore):
    """The persistent store: the managed Kea config file."""

    error = KeaError
    part = 'subnet'
    check_command = BINARY + ' -t %s'
    aside = ' (e.g. to %(path)s.dist)'

    def __init__(self, path, settings, run, netns=None, binary=BINARY):
        super(KeaFile, self).__init__(path, _checker(run, netns, binary, os.path.dirname(settings['lease_file'])))
        self.settings = settings

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
        return models_from_config(existing), existing

    def render_models(self, models, context):
        return dump_config(render_config(models, self.settings, context))


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
        return self.control.command('config-get')

    def read(self):
        if self._stopped():
            return {}
        models = models_from_config(self.running_config())
        problem = self.health.problem() if models else None
        return _broken(models, problem) if problem else models

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
        now = self.read().get(key)
        if obj is None and now is not None:
            raise KeaError('Kea still serves %s after the new config was loaded' % key)
        if obj is not None:
            differs = sorted(f for f in obj if obj[f] is not None and (now or {}).get(f) != obj[f])
            if differs:
                raise KeaError('Kea loaded the new config but does not run the expected %s: %s'
                               % (key, ', '.join(differs)))

    def snapshot(self, key):
        if self._stopped():
            backend = self.backend

            def stop_again():
                if backend.daemon_running():   # started by this write: it was stopped before
                    backend.stop()
            return stop_again
        saved = self.running_config()

        def restore():
            self.control.command('config-set', saved)
        return restore

    def commands(self, change):
        if self._stopped() or (self.backend is not None and self.backend.started_here):
            return [' '.join(self.backend.start_argv())]
        last = 'config-set' if change.action == DELETE else 'config-reload'
        return ['echo \'{"command": "%s"}\' | socat UNIX:%s -' % (cmd, self.control.path)
                for cmd in ('config-test', last)]


class Backend(FileBackend):
    """Kea for dhcpv6_server(_info): its two stores and how the daemon is started."""

    name = 'kea'
    error = KeaError

    def __init__(self, params, run, binary=BINARY, control=None, health=None):
        super(Backend, self).__init__(params, run, DEFAULTS)
        self.control = control or KeaControl(self.settings['control_socket'])
        self.health = health or KeaHealth(self.control)
        self.file = KeaFile(self.settings['config_file'], self.settings, run, params.get('netns'), binary)
        self.daemon = KeaDaemon(self.control, self.file, self.health, backend=self)
        self._running = self.control.running()

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
