# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Routes to delegated prefixes: Kea's ``libdhcp_run_script`` hook and the root service that
installs the routes (dhcpv6_server ``pd_routes``).

Standard library only and no import from the collection: the module installs this file on the
router as it is. Two roles, one file:

- ``hook SPOOL HOOKPOINT``: what Kea runs (through a two-line wrapper the module writes, since
  run_script passes the hook point as the only argument and the Kea variables as the only
  environment). Kea runs as ``_kea`` without CAP_NET_ADMIN under Debian's unit, so the hook
  changes nothing: it turns the environment into validated events (:func:`events_from_env`) and
  drops one JSON file into SPOOL. Kea 2.2 calls it at ``leases6_committed`` (Request, Renew,
  Rebind, Release; the given leases and the deleted ones), ``lease6_renew``, ``lease6_rebind``,
  ``lease6_release``, ``lease6_decline``, ``lease6_expire`` and ``lease6_recover`` (seen on
  Debian 12's Kea 2.2: there is no ``lease6_select``, and ``lease6_expire`` carries no query, so
  no interface and no peer).
- ``serve CONFIG STATE``: the root service. It reads the spool (a directory ``_kea`` can write:
  every file there is untrusted data, checked again by :meth:`Service.check_event`), keeps a
  route ``PREFIX via PEER dev IFACE proto 211`` per delegated prefix, built as an argv of its own
  from validated values, and deletes it on release, decline, expiry, or when the lease's valid
  lifetime has passed without a renewal. It never touches a route of another protocol.
  The next hop is the query's source (``QUERY6_REMOTE_ADDR``: the requesting router's link-local
  address, or the relay's address for a relayed client); Kea's lease file does not keep it, so
  the service keeps its routes in ROUTES (``routes_file``) and at start (and on SIGHUP) puts back
  those whose lease Kea's lease file still holds, and deletes its other routes (proto 211).
  STATE (pid, config, routes, counters) is what the module and dhcpv6_server_info read.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time

MARKER = '# Managed by edgenet.router: edits here are reported as drift and overwritten.'
# The rtm_protocol of every route the service makes; it deletes no route of another protocol.
PROTO = '211'
IP = '/sbin/ip'
HOOKS = ('leases6_committed', 'lease6_renew', 'lease6_rebind', 'lease6_release', 'lease6_decline',
         'lease6_expire', 'lease6_recover')
# Bounds on what is read from the spool (written by another user): per file, per hook call, per pass.
MAX_EVENT_BYTES = 65536
MAX_LEASES = 64
MAX_FILES_PER_PASS = 256
MAX_ROUTES = 65536
POLL = 0.2
# A route whose lease's valid lifetime ended this long ago without a renewal is removed even if
# Kea's lease6_expire never reached the service (it was down, the spool was full).
EXPIRY_GRACE = 30
_IFNAME_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}\Z')
_PATH_RE = re.compile(r'/[A-Za-z0-9_./@+-]{1,4094}\Z')
_ADDRESS_RE = re.compile(r'[0-9A-Fa-f:.]{2,45}\Z')
_UINT_RE = re.compile(r'[0-9]{1,10}\Z')
_SPOOL_NAME_RE = re.compile(r'[0-9]{1,20}-[0-9]{1,10}\.json\Z')
REASONS = ('malformed', 'bad_prefix', 'bad_peer', 'bad_interface', 'unknown_interface', 'outside_pools',
           'too_large', 'too_many', 'route_failed')


class BadEvent(ValueError):
    """An event that is ignored and counted; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason, detail=''):
        super(BadEvent, self).__init__('%s%s' % (reason, ': ' + detail if detail else ''))
        self.reason = reason


class BadConfig(ValueError):
    pass


# ---- validation: everything below takes untrusted strings ------------------------------------
def _text(value, reason):
    if not isinstance(value, str) or any(ord(c) < 33 or ord(c) > 126 for c in value):
        raise BadEvent(reason, 'not printable ASCII')
    return value


def check_ifname(value):
    if not isinstance(value, str) or not _IFNAME_RE.match(value) or value in ('.', '..'):
        raise BadEvent('bad_interface', repr(value)[:40])
    return value


def check_uint(value, reason='malformed', high=0xFFFFFFFF):
    if isinstance(value, bool):
        raise BadEvent(reason)
    if isinstance(value, int):
        number = value
    else:
        if not isinstance(value, str) or not _UINT_RE.match(value):
            raise BadEvent(reason, repr(value)[:40])
        number = int(value)
    if not 0 <= number <= high:
        raise BadEvent(reason, str(number))
    return number


def check_prefix(address, length=None):
    """``ADDRESS`` and ``LENGTH`` (or ``ADDRESS/LENGTH``) -> canonical ``prefix/len``: a network
    with no host bits, length 1-128, not multicast, link-local, loopback or unspecified."""
    if length is None:
        if not isinstance(address, str) or address.count('/') != 1:
            raise BadEvent('bad_prefix', repr(address)[:60])
        address, length = address.split('/')
    _text(address, 'bad_prefix')
    if not _ADDRESS_RE.match(address):
        raise BadEvent('bad_prefix', repr(address)[:60])
    length = check_uint(length, 'bad_prefix', 128)
    try:
        net = ipaddress.IPv6Network('%s/%d' % (address, length), strict=True)
    except ValueError as exc:
        raise BadEvent('bad_prefix', str(exc)[:80])
    if length == 0 or net.is_multicast or net.is_link_local or net.is_loopback or net.network_address.is_unspecified:
        raise BadEvent('bad_prefix', net.with_prefixlen)
    return net.with_prefixlen


def check_peer(address):
    """The next hop: a link-local or global unicast IPv6 address, canonical."""
    _text(address, 'bad_peer')
    if not _ADDRESS_RE.match(address):
        raise BadEvent('bad_peer', repr(address)[:60])
    try:
        peer = ipaddress.IPv6Address(address)
    except ValueError as exc:
        raise BadEvent('bad_peer', str(exc)[:80])
    if peer.is_multicast or peer.is_unspecified or peer.is_loopback or peer.ipv4_mapped is not None:
        raise BadEvent('bad_peer', str(peer))
    return str(peer)


# ---- the hook: Kea's environment -> events --------------------------------------------------
def _lease(env, prefix):
    """One lease of the environment (``LEASE6_`` or ``LEASES6_AT3_``): ``(prefix, expires,
    valid)``, or None when it is no delegated prefix."""
    if env.get(prefix + 'TYPE') != 'IA_PD':
        return None
    net = check_prefix(env.get(prefix + 'ADDRESS'), env.get(prefix + 'PREFIX_LEN'))
    valid = check_uint(env.get(prefix + 'VALID_LIFETIME'))
    cltt = check_uint(env.get(prefix + 'CLTT', '0'))
    state = env.get(prefix + 'STATE', 'default')
    return net, cltt + valid, valid if state == 'default' else 0


def _add(env, lease):
    net, expires, valid = lease
    if not valid:
        return {'op': 'del', 'prefix': net}
    return {'op': 'add', 'prefix': net, 'via': check_peer(env.get('QUERY6_REMOTE_ADDR')),
            'dev': check_ifname(env.get('QUERY6_IFACE_NAME')), 'expires': expires}


def events_from_env(hook, env):
    """``(events, ignored)`` of one run of the hook: ``events`` are ``{op: add, prefix, via, dev,
    expires}`` or ``{op: del, prefix}``, every value validated; ``ignored`` names the reason of
    each lease that could not be read (never an event). Leases other than prefixes are not ours."""
    events, ignored = [], []

    def given(key):
        lease = _lease(env, key)
        return None if lease is None else _add(env, lease)

    def gone(key):
        lease = _lease(env, key)
        return None if lease is None else {'op': 'del', 'prefix': lease[0]}

    def one(make, key):
        try:
            event = make(key)
        except BadEvent as exc:
            ignored.append(exc.reason)
            return
        if event is not None:
            events.append(event)

    if hook not in HOOKS:
        return [], ['malformed']
    if hook == 'leases6_committed':
        for size_key, kind, make in (('LEASES6_SIZE', 'LEASES6_AT', given), ('DELETED_LEASES6_SIZE', 'DELETED_LEASES6_AT', gone)):
            try:
                size = check_uint(env.get(size_key, '0'))
            except BadEvent as exc:
                ignored.append(exc.reason)
                continue
            if size > MAX_LEASES:
                ignored.append('too_many')
                size = MAX_LEASES
            for index in range(size):
                one(make, '%s%d_' % (kind, index))
    elif hook in ('lease6_renew', 'lease6_rebind'):
        one(given, 'LEASE6_')
    else:   # release, decline, expire, recover (a declined or reclaimed lease routes nowhere)
        one(gone, 'LEASE6_')
    return events, ignored


def check_path(value, what):
    if not isinstance(value, str) or not _PATH_RE.match(value) or '/../' in value + '/' or '/./' in value + '/':
        raise BadConfig('%s %r: an absolute path of letters, digits and "_./@+-" only' % (what, value))
    return value


def write_event(spool, hook, env, now=None):
    """The hook's whole work: one file in ``spool`` (atomic: a temporary name, then renamed), or
    none when the run concerned no delegated prefix. Returns the file's name or None."""
    check_path(spool, 'spool')
    events, ignored = events_from_env(hook, env)
    if not events and not ignored:
        return None
    data = json.dumps({'hook': hook, 'events': events, 'ignored': ignored}, sort_keys=True).encode()
    name = '%020d-%d.json' % (now if now is not None else time.time_ns(), os.getpid())
    fd, tmp = tempfile.mkstemp(dir=spool, prefix='.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.rename(tmp, os.path.join(spool, name))
        tmp = None
    finally:
        if tmp is not None:
            os.unlink(tmp)
    return name


# ---- the service's config ---------------------------------------------------------------------
def check_config(config):
    """The service's config, checked: ``{spool, routes_file, lease_file, interfaces: {IFACE:
    [pool prefix, ...]}}``. BadConfig names the first problem."""
    if not isinstance(config, dict):
        raise BadConfig('the config is not a JSON object')
    out = {}
    for key in ('spool', 'routes_file', 'lease_file'):
        out[key] = check_path(config.get(key), key)
    interfaces = config.get('interfaces')
    if not isinstance(interfaces, dict):
        raise BadConfig('interfaces is not an object')
    out['interfaces'] = {}
    for name, pools in sorted(interfaces.items()):
        try:
            check_ifname(name)
            if not isinstance(pools, list) or not pools:
                raise BadEvent('bad_prefix', 'no pools')
            out['interfaces'][name] = sorted(check_prefix(pool) for pool in pools)
        except BadEvent as exc:
            raise BadConfig('interface %r: %s' % (name, exc))
    return out


def render_config(config):
    return MARKER + '\n' + json.dumps(check_config(config), indent=2, sort_keys=True) + '\n'


def parse_config(text):
    lines = [line for line in text.split('\n') if not line.lstrip().startswith('#')]
    try:
        return check_config(json.loads('\n'.join(lines)))
    except ValueError as exc:
        raise BadConfig(str(exc))


def load(path):
    with open(path, encoding='utf-8') as handle:
        return parse_config(handle.read())


def leased_prefixes(lease_file, now):
    """``{prefix: expires}`` of the delegated prefixes Kea's memfile CSV holds now (an append
    log: the last row wins; valid lifetime 0 is a release). Unreadable rows are skipped."""
    rows = {}
    for path in (lease_file + '.2', lease_file + '.1', lease_file):
        try:
            with open(path, newline='', encoding='utf-8', errors='replace') as handle:
                for row in csv.DictReader(handle):
                    if row.get('lease_type') == '2':
                        rows[(row.get('address'), row.get('prefix_len'))] = row
        except OSError:
            continue
    out = {}
    for (address, length), row in rows.items():
        try:
            net = check_prefix(address, length)
            expires = check_uint(row.get('expire'))
            valid = check_uint(row.get('valid_lifetime'))
        except BadEvent:
            continue
        if valid and expires > now and row.get('state', '0') == '0':
            out[net] = expires
    return out


# ---- the service -------------------------------------------------------------------------------
def _run(argv):
    """Run one of the service's own argvs (never a word read from the system unvalidated)."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                          check=False, timeout=10)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')


def route_argv(op, prefix, via=None, dev=None):
    """The ``ip`` command line of one route change: every word a constant or a validated value."""
    if op == 'add':
        return [IP, '-6', 'route', 'replace', check_prefix(prefix), 'via', check_peer(via), 'dev', check_ifname(dev),
                'proto', PROTO]
    return [IP, '-6', 'route', 'del', check_prefix(prefix), 'proto', PROTO]


class Service(object):
    """The root service: spool -> routes (see the module's docstring)."""

    def __init__(self, config_path, state_path, run=_run, now=time.time, log=None):
        self.config_path = config_path
        self.state_path = state_path
        self.run = run
        self.now = now
        self.log = log or (lambda text: sys.stderr.write(text + '\n'))
        self.config = {'spool': None, 'routes_file': None, 'lease_file': None, 'interfaces': {}}
        self.routes = {}
        self.counters = {'added': 0, 'removed': 0, 'ignored': dict((reason, 0) for reason in REASONS)}
        self.dirty = True

    def ignore(self, reason, detail=''):
        self.counters['ignored'][reason] = self.counters['ignored'].get(reason, 0) + 1
        self.log('ignored (%s)%s' % (reason, ': ' + detail if detail else ''))
        self.dirty = True

    # -- config and reconciliation
    def load_config(self):
        self.config = load(self.config_path)

    def check_event(self, event):
        """An event as read from the spool -> the same, validated against the config; BadEvent."""
        if not isinstance(event, dict) or event.get('op') not in ('add', 'del'):
            raise BadEvent('malformed')
        prefix = check_prefix(event.get('prefix'))
        if event['op'] == 'del':
            return {'op': 'del', 'prefix': prefix}
        dev = check_ifname(event.get('dev'))
        via = check_peer(event.get('via'))
        expires = check_uint(event.get('expires'), high=2 ** 40)
        pools = self.config['interfaces'].get(dev)
        if pools is None:
            raise BadEvent('unknown_interface', dev)
        net = ipaddress.IPv6Network(prefix)
        if not any(net.subnet_of(ipaddress.IPv6Network(pool)) for pool in pools):
            raise BadEvent('outside_pools', prefix)
        return {'op': 'add', 'prefix': prefix, 'via': via, 'dev': dev, 'expires': expires}

    def apply(self, event):
        prefix = event['prefix']
        if event['op'] == 'add':
            route = {'via': event['via'], 'dev': event['dev'], 'expires': event['expires']}
            if prefix not in self.routes and len(self.routes) >= MAX_ROUTES:
                raise BadEvent('too_many', prefix)
            if self.routes.get(prefix, {}).get('via') != route['via'] or \
                    self.routes.get(prefix, {}).get('dev') != route['dev'] or prefix not in self.routes:
                rc, dummy, err = self.run(route_argv('add', prefix, route['via'], route['dev']))
                if rc != 0:
                    raise BadEvent('route_failed', err.strip()[:200])
                self.counters['added'] += 1
                self.log('route %s via %s dev %s' % (prefix, route['via'], route['dev']))
            self.routes[prefix] = route
        elif prefix in self.routes:
            self.run(route_argv('del', prefix))
            del self.routes[prefix]
            self.counters['removed'] += 1
            self.log('route %s removed' % prefix)
        self.dirty = True

    def handle(self, event):
        try:
            self.apply(self.check_event(event))
        except BadEvent as exc:
            self.ignore(exc.reason, str(exc))

    def kernel_routes(self):
        """Our routes in the kernel: ``{prefix: (via, dev)}``; a dst that is no prefix is skipped."""
        rc, out, dummy = self.run([IP, '-6', '-j', 'route', 'show', 'proto', PROTO])
        try:
            listed = json.loads(out or '[]') if rc == 0 else []
        except ValueError:
            listed = []
        found = {}
        for route in listed if isinstance(listed, list) else []:
            try:
                found[check_prefix(route.get('dst'))] = (route.get('gateway'), route.get('dev'))
            except (BadEvent, AttributeError):
                continue
        return found

    def reconcile(self):
        """Start and SIGHUP: keep the remembered routes whose lease Kea still holds and that the
        config still allows; put them in the kernel; delete our other routes."""
        now = self.now()
        leased = leased_prefixes(self.config['lease_file'], now)
        remembered = {}
        try:
            with open(self.config['routes_file'], encoding='utf-8') as handle:
                saved = json.load(handle)
            remembered = saved.get('routes', {}) if isinstance(saved, dict) else {}
        except (OSError, ValueError):
            pass
        wanted = {}
        for prefix, route in (remembered if isinstance(remembered, dict) else {}).items():
            try:
                event = self.check_event(dict(route, op='add', prefix=prefix) if isinstance(route, dict) else None)
            except BadEvent:
                continue
            if event['prefix'] in leased:
                wanted[event['prefix']] = {'via': event['via'], 'dev': event['dev'],
                                           'expires': leased[event['prefix']]}
        for prefix, route in self.routes.items():   # a SIGHUP: what runs now, if still allowed
            try:
                event = self.check_event(dict(route, op='add', prefix=prefix))
            except BadEvent:
                continue
            wanted.setdefault(event['prefix'], route)
        self.routes = {}
        for prefix in self.kernel_routes():
            if prefix not in wanted:
                self.run(route_argv('del', prefix))
                self.counters['removed'] += 1
                self.log('route %s removed (no lease or no longer configured)' % prefix)
        for prefix, route in sorted(wanted.items()):
            self.handle(dict(route, op='add', prefix=prefix))
        self.dirty = True

    # -- the spool
    def read_spool(self):
        """Handle the spool's files in name (time) order, at most MAX_FILES_PER_PASS; every file
        is removed once read, whatever it holds."""
        spool = self.config['spool']
        try:
            names = sorted(entry.name for entry in os.scandir(spool))
        except OSError:
            return 0
        done = 0
        for name in names:
            path = os.path.join(spool, name)
            if not _SPOOL_NAME_RE.match(name):
                self._drop_stray(path, name)
                continue
            if done >= MAX_FILES_PER_PASS:
                break
            done += 1
            data = self._read_untrusted(path)
            if data is None:
                continue
            try:
                record = json.loads(data.decode('utf-8'))
                events = record.get('events')
                reported = record.get('ignored')
                if not isinstance(events, list) or not isinstance(reported, list):
                    raise ValueError('no events')
            except (ValueError, UnicodeError, AttributeError):
                self.ignore('malformed', name)
                continue
            for reason in reported[:MAX_LEASES]:
                self.ignore(reason if reason in REASONS else 'malformed', 'reported by the hook')
            for event in events[:MAX_LEASES]:
                self.handle(event)
            if len(events) > MAX_LEASES:
                self.ignore('too_many', name)
        return done

    def _read_untrusted(self, path):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            self._unlink(path)
            self.ignore('malformed', os.path.basename(path))
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_EVENT_BYTES:
                self.ignore('too_large' if stat.S_ISREG(info.st_mode) else 'malformed', os.path.basename(path))
                return None
            return os.read(fd, MAX_EVENT_BYTES + 1)[:MAX_EVENT_BYTES]
        except OSError:
            return None
        finally:
            os.close(fd)
            self._unlink(path)

    def _drop_stray(self, path, name):
        """A hook's temporary file is left to be renamed; anything else, or a temporary file
        older than a minute, is removed (the spool is no one's storage)."""
        try:
            info = os.lstat(path)
        except OSError:
            return
        if name.startswith('.') and name.endswith('.tmp') and self.now() - info.st_mtime < 60:
            return
        self._unlink(path)

    @staticmethod
    def _unlink(path):
        try:
            os.unlink(path)
        except OSError:
            pass

    def sweep(self):
        """Remove the routes whose lease ran out without a renewal (EXPIRY_GRACE later)."""
        now = self.now()
        for prefix in sorted(p for p, r in self.routes.items() if r['expires'] + EXPIRY_GRACE < now):
            self.apply({'op': 'del', 'prefix': prefix})

    # -- state
    def state(self):
        return {'pid': os.getpid(), 'config': self.config, 'routes': self.routes, 'counters': self.counters,
                'proto': int(PROTO)}

    def save(self):
        if not self.dirty:
            return
        _write_json(self.state_path, self.state(), 0o644)
        if self.config.get('routes_file'):
            _write_json(self.config['routes_file'], {'routes': self.routes}, 0o600)
        self.dirty = False


def _write_json(path, data, mode):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'w') as handle:
            os.fchmod(handle.fileno(), mode)
            json.dump(data, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            os.unlink(tmp)


def serve(config_path, state_path):
    service = Service(config_path, state_path)
    flags = {'reload': False, 'stop': False}

    def on_hup(signum, frame):
        flags['reload'] = True

    def on_term(signum, frame):
        flags['stop'] = True

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    service.load_config()
    for path in (os.path.dirname(state_path), os.path.dirname(service.config['routes_file'])):
        os.makedirs(path, 0o755, exist_ok=True)
    service.reconcile()
    service.save()
    service.log('serving %s' % ', '.join(sorted(service.config['interfaces'])) or 'no interface')
    while not flags['stop']:
        if flags['reload']:
            flags['reload'] = False
            try:
                service.load_config()
                service.reconcile()
                service.log('reloaded')
            except (OSError, BadConfig) as exc:
                service.log('reload refused, the running config stays: %s' % exc)
        service.read_spool()
        service.sweep()
        service.save()
        time.sleep(POLL)
    service.save()
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == 'hook':
        try:
            write_event(argv[2], argv[3], dict(os.environ))
        except (OSError, BadConfig) as exc:
            sys.stderr.write('edgenet pd-routes hook: %s\n' % exc)
        return 0   # Kea does not wait for the hook (sync false); nothing to tell it
    if len(argv) == 4 and argv[1] == 'serve':
        try:
            return serve(check_path(argv[2], 'config'), check_path(argv[3], 'state'))
        except (OSError, BadConfig) as exc:
            sys.stderr.write('edgenet pd-routes: %s\n' % exc)
            return 1
    sys.stderr.write('usage: %s hook SPOOL HOOKPOINT | serve CONFIG STATE\n' % argv[0])
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))  # pylint: disable=ansible-bad-function
