# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""What the ppp_server module does, kept out of the module file: a PPPoE access concentrator
whose sessions run in the kernel (the collection's own discovery daemon, ``_pppoed``, handing
each session to pppd's rp-pppoe plugin), in the engine's cycle.

Two tables in one run (``_engine.Part``): the users (``USER_TABLE``, store ``secrets``: their
lines in ``/etc/ppp/pap-secrets`` and ``chap-secrets``) before the concentrator (``TABLE``) with
its two stores:

- ``persistent`` (:class:`BootConfig`): ``/etc/edgenet/ppp/IFACE.conf``, what the router boots
  with, and the unit ``edgenet-pppoe@IFACE.service`` enabled;
- ``runtime`` (:class:`LiveDaemon`): what the running daemon reports it runs (its state file,
  written by the daemon itself, and only while systemd's MainPID is the pid in it). A change
  writes ``/run/edgenet/ppp/IFACE.conf`` and reloads the daemon (SIGHUP: sessions up stay), or
  starts it; so the runtime can be changed and rolled back without touching the boot file.

Users are scoped by pppd's ``name``: the concentrator on IFACE runs pppd with ``name
edgenet-pppoe-IFACE``, and pppd takes a secrets line only where its server column is that name,
so the lines of each concentrator are its own and every other line of the files stays as it is.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pkgutil
import shlex

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._command import checked
from ansible_collections.edgenet.router.plugins.module_utils._engine import (
    PERSISTENT, RUNTIME, Field, ObjectTable, Part, PutStore,
)
from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._poll import until
from ansible_collections.edgenet.router.plugins.module_utils._ppp import _pppoed
from ansible_collections.edgenet.router.plugins.module_utils._task import Task

__all__ = ['BOOT_DIR', 'PROGRAM', 'STORE_OPTIONS', 'TABLE', 'TASK', 'USER_TABLE', 'PppError', 'BootConfig',
           'LiveDaemon', 'Secrets', 'daemon_config', 'desired_server', 'module_kwargs', 'open_stores', 'run_ppp']

BOOT_DIR = '/etc/edgenet/ppp'
LIVE_DIR = _pppoed.LIVE_DIR
SECRETS_FILES = ('/etc/ppp/pap-secrets', '/etc/ppp/chap-secrets')
PROGRAM = '/usr/local/lib/edgenet-router/pppoed.py'
UNIT_DIR = '/etc/systemd/system'
UNIT_TEMPLATE = 'edgenet-pppoe@.service'
UNIT_TEXT = '''%s
# The PPP access concentrator (PPPoE, or an L2TP LNS) of edgenet.router.ppp_server on the interface %%i.
[Unit]
Description=edgenet.router PPP access concentrator on %%i
After=network.target

[Service]
Type=simple
ExecStartPre=-/sbin/modprobe -q pppoe
ExecStartPre=-/sbin/modprobe -q l2tp_ppp
ExecStart=/usr/bin/python3 -I %s %s/%%i.conf %s/%%i.conf %s/%%i.state
ExecReload=/bin/kill -HUP $MAINPID
# SIGTERM to the daemon alone: it ends each session's pppd (LCP terminate, PADT) itself, or
# stops its xl2tpd, which ends each call and tunnel.
KillMode=mixed
TimeoutStopSec=15
Restart=on-failure
# Not the default 100 ms: five quick failures would stop the unit for good (start limit).
RestartSec=2

[Install]
WantedBy=multi-user.target
''' % (_files.MANAGED_MARKER, PROGRAM, BOOT_DIR, LIVE_DIR, LIVE_DIR)
# How long a started or reloaded daemon has to report the config it was given.
DAEMON_WAIT = 10


class PppError(Exception):
    """The task cannot be carried out; the message names the option or the system's words."""


# ---- the model ---------------------------------------------------------------------------------------
def _interface(value):
    problem = link_name_problem(value)
    if problem:
        raise PppError('interface %s is not a valid interface name: %s; it names the unit, the files and pppd\'s argv, so give the '
                       'literal name of one link' % (quoted(value), problem))
    return value


def _words(what, empty=False):
    def norm(value):
        try:
            return _pppoed.printable(value, what, empty)
        except _pppoed.BadConfig:
            raise PppError('%s %s is refused: give 1-64 printable characters without spaces, quotes or backslashes'
                           % (what, quoted(value)))
    return norm


def _ipv4(what):
    def norm(value):
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError:
            raise PppError('%s %s is not an IPv4 address' % (what, quoted(value)))
    return norm


def _pool(value):
    """``FIRST-LAST`` (or one address) -> ``FIRST-LAST`` in canonical form."""
    parts = [part.strip() for part in str(value).split('-')]
    try:
        first, last = ipaddress.IPv4Address(parts[0]), ipaddress.IPv4Address(parts[-1])
    except ValueError:
        first = last = None
    if len(parts) > 2 or first is None or first > last:
        raise PppError('remote_pool %s is not FIRST-LAST, two IPv4 addresses with the first not above the last '
                       '(e.g. 10.0.0.10-10.0.0.73)' % quoted(value))
    return '%s-%s' % (first, last)


def _int_range(what, low, high):
    def norm(value):
        if not low <= int(value) <= high:
            raise PppError('%s %s is outside %d-%d' % (what, value, low, high))
        return int(value)
    return norm


def _tunnel_secret(value):
    try:
        return _pppoed.tunnel_secret(value)
    except _pppoed.BadConfig as exc:
        raise PppError('%s (the value itself is not shown: it is a secret)' % exc)


def _dns(value):
    out = [_ipv4('dns_servers')(v) for v in value]
    if len(out) > 2:
        raise PppError('dns_servers: IPCP carries two DNS servers at most, not %d' % len(out))
    return out


def _auth(value):
    wrong = [v for v in value if v not in _pppoed.AUTH_WORDS]
    if wrong or not value:
        raise PppError('authentication %s: give one or more of %s' % (quoted(value), ', '.join(sorted(_pppoed.AUTH_WORDS))))
    return sorted(set(value), key=list(_pppoed.AUTH_WORDS).index)


# Fields of the concentrator; ``daemon`` names its key in the daemon's config (_pppoed.check_config).
TABLE = ObjectTable('ppp server', [
    Field('interface', required=True, normalise=_interface),
    Field('protocol', default='pppoe', choices=list(_pppoed.PROTOCOLS)),
    Field('listen_address', normalise=_ipv4('listen_address')),
    Field('tunnel_secret', secret=True, normalise=_tunnel_secret),
    Field('service_name', default='', normalise=_words('service_name', empty=True)),
    Field('ac_name', default='edgenet', normalise=_words('ac_name')),
    Field('local_address', normalise=_ipv4('local_address')),
    Field('remote_pool', normalise=_pool),
    Field('dns_servers', type='list', elements='str', default=[], normalise=_dns),
    Field('authentication', type='list', elements='str', default=['pap', 'chap'], normalise=_auth,
          choices=sorted(_pppoed.AUTH_WORDS)),
    # Default by protocol (DEFAULT_MTU), set in desired_server.
    Field('mtu', type='int', normalise=_int_range('mtu', 128, 1492)),
    Field('mru', type='int', normalise=_int_range('mru', 128, 1492)),
    Field('idle_timeout', type='int', default=0, normalise=_int_range('idle_timeout', 0, 86400 * 7)),
    Field('lcp_echo_interval', type='int', default=10, normalise=_int_range('lcp_echo_interval', 0, 3600)),
    Field('lcp_echo_failure', type='int', default=3, normalise=_int_range('lcp_echo_failure', 0, 100)),
    Field('max_sessions', type='int', normalise=_int_range('max_sessions', 1, _pppoed.MAX_SESSION_ID)),
    Field('adjust_tcpmss', type='bool', default=False),
    Field('ingress_filter', type='bool', default=False),
    # The users live in their own table and store (see USER_TABLE); here they are only the task's option.
    Field('users', type='list', elements='dict', stores=(), compare=False,
          options={'name': {'type': 'str', 'required': True},
                   'password': {'type': 'str', 'required': True, 'no_log': True}}),
])
DAEMON_KEYS = [f.name for f in TABLE if f.name != 'users']
# PPPoE: the payload of a 1500 byte Ethernet frame. L2TP: 1500 less IPv4 (20), UDP (8), the L2TP
# header with its length field (8) and PPP's address, control and protocol (4).
DEFAULT_MTU = {'pppoe': 1492, 'l2tp': 1460}


def _user_name(value):
    if not isinstance(value, str) or not _pppoed.USER_RE.match(value):
        raise PppError('user name %s is refused: 1-64 letters, digits, "_", ".", "@", "+" or "-", starting with a letter, '
                       'digit or "_" (pppd reads "*" and other forms as patterns)' % quoted(value))
    return value


def _password(value):
    if not isinstance(value, str) or not 1 <= len(value) <= 128 or value.startswith('@') or \
            any(ord(c) < 32 or ord(c) == 127 or c in '"\\#' for c in value):
        # The value itself never appears: it is a secret.
        raise PppError('a password is refused: give 1-128 characters without control characters, double quotes, '
                       'backslashes or "#", not starting with "@" (pppd reads "@FILE" as a file to take the secret from)')
    return value


USER_TABLE = ObjectTable('ppp user', [
    Field('name', required=True, normalise=_user_name, stores=('secrets',)),
    Field('password', required=True, normalise=_password, secret=True, stores=('secrets',)),
])


def auth_name(interface, protocol='pppoe'):
    """pppd's ``name`` on the concentrator: the server column of its users' secrets lines."""
    return 'edgenet-%s-%s' % (protocol, interface)


def desired_server(params):
    """One task's concentrator -> canonical dict (every field definite), or None for state absent."""
    if params.get('state', 'present') == 'absent':
        return None
    values = TABLE.normalise(params)
    where = 'interface %s' % values['interface']
    for name in ('local_address', 'remote_pool'):
        if values[name] is None:
            raise PppError('%s: %s is required while state is present' % (where, name))
    if values['protocol'] == 'l2tp' and values['listen_address'] is None:
        raise PppError('%s: listen_address (where LACs reach the LNS, UDP %d) is required with protocol l2tp'
                       % (where, _pppoed.L2TP_PORT))
    if values['protocol'] != 'l2tp' and values['listen_address'] is not None:
        raise PppError('%s: listen_address is for protocol l2tp; a PPPoE concentrator listens on the interface' % where)
    if values['protocol'] != 'l2tp' and values['tunnel_secret'] is not None:
        raise PppError('%s: tunnel_secret is for protocol l2tp (the LACs\' tunnel authentication); PPPoE has no tunnel'
                       % where)
    for name in ('mtu', 'mru'):
        if values[name] is None:
            values[name] = DEFAULT_MTU[values['protocol']]
    first, last = (ipaddress.IPv4Address(a) for a in values['remote_pool'].split('-'))
    if first <= ipaddress.IPv4Address(values['local_address']) <= last:
        raise PppError('%s: local_address %s lies inside remote_pool %s-%s; give a pool that leaves it out'
                       % (where, values['local_address'], first, last))
    size = int(last) - int(first) + 1
    if values['max_sessions'] is None:
        values['max_sessions'] = min(size, _pppoed.MAX_SESSION_ID)
    elif values['max_sessions'] > size:
        raise PppError('%s: max_sessions %d exceeds the %d addresses of remote_pool' % (where, values['max_sessions'], size))
    users = []
    for user in values.pop('users') or []:
        users.append({'name': _user_name(user.get('name')), 'password': _password(user.get('password'))})
    names = [u['name'] for u in users]
    twice = sorted(set(n for n in names if names.count(n) > 1))
    if twice:
        raise PppError('%s: user %s is listed twice' % (where, ', '.join(twice)))
    values['users'] = users
    return values


def program_missing(obj, nft=_pppoed.NFT, xl2tpd=_pppoed.XL2TPD):
    """The refusal when ``obj`` needs a program the router lacks (nft for the per-session rules,
    xl2tpd for an LNS), else None: said before anything is touched, in check mode too."""
    if not obj:
        return None
    wanted = [name for name in _pppoed.BOOL_KEYS if obj.get(name)]
    if wanted and not os.access(nft, os.X_OK):
        return ('interface %s: %s need %s, which is missing (Debian/Ubuntu: apt install nftables)'
                % (obj['interface'], ' and '.join(wanted), nft))
    if obj.get('protocol') == 'l2tp' and not os.access(xl2tpd, os.X_OK):
        return ('interface %s: protocol l2tp needs %s, which is missing (Debian/Ubuntu: apt install xl2tpd)'
                % (obj['interface'], xl2tpd))
    return None


def daemon_config(obj):
    """The daemon's config (``_pppoed.check_config``'s form) serving ``obj``."""
    config = dict((name, obj.get(name)) for name in DAEMON_KEYS)
    config['remote_pool'] = obj['remote_pool'].split('-')
    config['auth_name'] = auth_name(obj['interface'], obj['protocol'])
    return _pppoed.check_config(config)


def model_of(config):
    """A daemon config read back -> the model (users are not in it)."""
    obj = dict((name, config.get(name)) for name in DAEMON_KEYS)
    for name in _pppoed.BOOL_KEYS:   # a daemon of an older module runs neither option
        obj[name] = config.get(name, False)
    obj['remote_pool'] = '-'.join(config.get('remote_pool') or ())
    obj['protocol'] = config.get('protocol', 'pppoe')
    return obj


# ---- what is installed once: the program and the unit template ------------------------------------------
def program_text():
    """The daemon's source, from the collection itself (inside AnsiballZ's payload too)."""
    return pkgutil.get_data('ansible_collections.edgenet.router.plugins.module_utils._ppp', '_pppoed.py')


def install(run, systemctl='systemctl'):
    """Put the program, its ip-up script and the unit template in place (where they differ);
    daemon-reload after a new unit."""
    for path, data, mode in ((PROGRAM, program_text(), 0o644),
                             (_pppoed.UP_SCRIPT, _pppoed.up_script_text().encode(), 0o755)):
        with _files.locked(os.path.dirname(path), error=PppError):
            loaded = _files.load(path, PppError)
            if loaded is None or loaded != (data, mode):
                _files.atomic_write(path, data, mode, error=PppError)
    unit = os.path.join(UNIT_DIR, UNIT_TEMPLATE)
    with _files.locked(UNIT_DIR, error=PppError):
        loaded = _files.load(unit, PppError)
        if loaded is not None and not _files.is_ours(loaded[0]):
            raise PppError('%s exists without the line "%s": it is not ours; move it aside' % (unit, _files.MANAGED_MARKER))
        if loaded is None or loaded[0] != UNIT_TEXT.encode():
            _files.atomic_write(unit, UNIT_TEXT.encode(), 0o644, error=PppError)
            checked(run, [systemctl, 'daemon-reload'], PppError)


def unit_name(interface):
    return 'edgenet-pppoe@%s.service' % interface


# ---- the stores --------------------------------------------------------------------------------------------
def _read_config(path):
    """The model in a config file, None when absent, or the fields unreadable (all None: drift)."""
    loaded = _files.load(path, PppError)
    if loaded is None:
        return None
    try:
        return model_of(_pppoed.parse_config(loaded[0].decode('utf-8', 'replace')))
    except _pppoed.BadConfig:
        return dict((name, None) for name in DAEMON_KEYS)


class BootConfig(PutStore):
    """The persistent store: the boot config file and the unit enabled."""

    name = PERSISTENT
    verifies = True

    def __init__(self, interface, run, systemctl='systemctl', directory=BOOT_DIR):
        self.interface = interface
        self.run = run
        self.systemctl = systemctl
        self.path = os.path.join(directory, '%s.conf' % interface)

    def locked(self):
        return _files.locked(os.path.dirname(self.path), error=PppError)

    def read(self):
        obj = _read_config(self.path)
        return {} if obj is None else {self.interface: obj}

    def put(self, key, obj):
        unit = unit_name(key)
        if obj is None:
            checked(self.run, [self.systemctl, 'disable', '--quiet', unit], PppError)
            loaded = _files.load(self.path, PppError)
            if loaded is not None and _files.is_ours(loaded[0]):
                _files.remove(self.path, PppError)
            return
        install(self.run, self.systemctl)
        text = _pppoed.render_config(daemon_config(obj)).encode()
        _files.atomic_write(self.path, text, 0o600, error=PppError)
        checked(self.run, [self.systemctl, 'enable', '--quiet', unit], PppError)

    def commands(self, change):
        if change.action == engine.DELETE:
            return ['systemctl disable %s' % unit_name(change.key), 'rm %s' % self.path]
        return ['write %s' % self.path, 'systemctl enable %s' % unit_name(change.key)]


class LiveDaemon(PutStore):
    """The runtime store: the config the running daemon reports (its state file), trusted only
    while its pid is the unit's MainPID (a stale file of a dead daemon serves nothing)."""

    name = RUNTIME
    verifies = True

    def __init__(self, interface, run, systemctl='systemctl', directory=LIVE_DIR, wait=DAEMON_WAIT):
        self.interface = interface
        self.run = run
        self.systemctl = systemctl
        self.live = os.path.join(directory, '%s.conf' % interface)
        self.state_path = os.path.join(directory, '%s.state' % interface)
        self.wait = wait

    def locked(self):
        return _files.locked(os.path.dirname(self.live), error=PppError)

    def main_pid(self):
        """systemd's MainPID of the unit while it is active, else None."""
        rc, out, dummy = self.run([self.systemctl, 'show', '--property=ActiveState', '--property=MainPID',
                                   unit_name(self.interface)])
        props = dict(line.split('=', 1) for line in (out or '').splitlines() if '=' in line)
        if rc != 0 or props.get('ActiveState') not in ('active', 'reloading') or not props.get('MainPID', '0').isdigit():
            return None
        return int(props['MainPID']) or None

    def state(self, pid=None):
        """The daemon's state file, when the running unit's daemon (or ``pid``: its MainPID, asked
        once by a caller that polls) wrote it; else None."""
        pid = pid or self.main_pid()
        state = _files.load_json_object(self.state_path, PppError) if pid else None
        return state if state is not None and state.get('pid') == pid else None

    def read(self):
        state = self.state()
        if state is None or not isinstance(state.get('config'), dict):
            return {}
        return {self.interface: model_of(state['config'])}

    def _reports(self, config, pid):
        state = self.state(pid) if pid else None
        return state is not None and state.get('config') == config

    def put(self, key, obj):
        unit = unit_name(key)
        if obj is None:
            checked(self.run, [self.systemctl, 'stop', unit], PppError)
            if _files.load(self.live, PppError) is not None:
                _files.remove(self.live, PppError)
            return
        install(self.run, self.systemctl)
        config = daemon_config(obj)
        state = self.state()
        running = state is not None
        serving = (state or {}).get('config', {}).get('protocol', 'pppoe')
        if running and serving != config['protocol']:
            raise PppError('the concentrator of %s runs protocol %s: to serve %s there, remove it first (state absent, '
                           'protocol %s)' % (key, serving, config['protocol'], serving))
        _files.atomic_write(self.live, _pppoed.render_config(config).encode(), 0o600, error=PppError)
        checked(self.run, [self.systemctl, 'reload' if running else 'start', unit], PppError)
        pid = self.main_pid()   # once: systemd knows it as soon as start or reload returned
        if not until(lambda: self._reports(config, pid), self.wait):
            if not running:
                self.run([self.systemctl, 'stop', unit])
            raise PppError('the concentrator of %s does not report the new config %d s after systemctl %s (see '
                           'journalctl -u %s)%s' % (key, self.wait, 'reload' if running else 'start', unit,
                                                    '' if running else '; it was stopped again'))

    def commands(self, change):
        unit = unit_name(change.key)
        if change.action == engine.DELETE:
            return ['systemctl stop %s' % unit]
        return ['write %s' % self.live, 'systemctl %s %s' % ('start' if change.action == engine.CREATE else 'reload', unit)]


def _secret_lines(text, server):
    """``(lines kept as they are, {user: password})`` of a secrets file: the lines whose server
    column is ``server`` are ours; every other line (comments too) is kept verbatim."""
    kept, ours = [], {}
    for line in (text or '').splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            words = []
        if len(words) >= 3 and words[1] == server:
            ours[words[0]] = words[2]
        else:
            kept.append(line)
    return kept, ours


class Secrets(PutStore):
    """The users of one concentrator: their lines in pap-secrets and chap-secrets (both: pppd
    reads the file of the protocol it authenticates with). A user counts as present with its
    password only when both files agree."""

    name = 'secrets'
    verifies = True

    def __init__(self, interface, files=SECRETS_FILES, protocol='pppoe'):
        self.server = auth_name(interface, protocol)
        self.files = files
        self.wildcards = []   # clients of lines whose server column is "*": pppd lets them in here too

    def locked(self):
        return _files.locked(os.path.dirname(self.files[0]), error=PppError)

    def _texts(self):
        out = []
        for path in self.files:
            loaded = _files.load(path, PppError)
            out.append(None if loaded is None else loaded[0].decode('utf-8', 'replace'))
        return out

    def read(self):
        texts = self._texts()
        self.wildcards = sorted(set().union(*(_secret_lines(text, '*')[1] for text in texts)))
        found = [_secret_lines(text, self.server)[1] for text in texts]
        users = {}
        for name in set().union(*found):
            passwords = [f.get(name) for f in found]
            users[name] = {'name': name, 'password': passwords[0] if len(set(passwords)) == 1 else None}
        return users

    def put(self, key, obj):
        for path, text in zip(self.files, self._texts()):
            kept, ours = _secret_lines(text, self.server)
            ours.pop(key, None)
            if obj is not None:
                ours[key] = obj['password']
            lines = kept + ['"%s" %s "%s" *' % (name, self.server, ours[name]) for name in sorted(ours)]
            # 0600 whatever the file had: it holds passwords.
            _files.atomic_write(path, ('\n'.join(lines) + '\n').encode(), 0o600, error=PppError)

    def commands(self, change):
        what = 'remove the line of' if change.action == engine.DELETE else 'write the line of'
        return ['%s user %s (server %s) in %s' % (what, change.key, self.server, ' and '.join(self.files))]


# ---- the task ------------------------------------------------------------------------------------------------
TASK = Task(TABLE, key='interface', bulk=None, result='server', error=PppError, common={}, check_key=_interface)
STORE_OPTIONS = ('interface', 'protocol')


def module_kwargs():
    return TASK.module_kwargs()


@contextlib.contextmanager
def open_stores(params, run_command, systemctl='systemctl'):
    """``(secrets, persistent, runtime)`` for the interface ``params`` name (a commit-confirm
    rollback builds them from its record: the name is checked again)."""
    interface = _interface(params.get('interface'))
    protocol = params.get('protocol') or 'pppoe'
    if protocol not in _pppoed.PROTOCOLS:
        raise PppError('protocol %s is not one of %s' % (quoted(protocol), ', '.join(_pppoed.PROTOCOLS)))
    yield (Secrets(interface, protocol=protocol), BootConfig(interface, run_command, systemctl), LiveDaemon(interface, run_command, systemctl))


def run_ppp(params, secrets, boot, live, check_mode=False, confirm=None, warn=None, nft=_pppoed.NFT, xl2tpd=_pppoed.XL2TPD):
    """The ppp_server module's behaviour over its three stores; returns the result dict.
    ``warn`` receives warnings (AnsibleModule.warn); ``nft`` and ``xl2tpd`` are where the daemon
    finds them."""
    key = params['interface']
    desired = TASK.desired_set(params, desired_server)
    # The users leave the concentrator's object here: they are the users table's (their passwords
    # must not ride along in a view that does not mask them).
    users = {} if desired[key] is None else dict((u['name'], u) for u in desired[key].pop('users'))
    refusal = program_missing(desired[key], nft, xl2tpd)
    if refusal:
        raise PppError(refusal)

    def wanted_users(current):
        # The task's list is the whole set: a user of this concentrator it leaves out is removed.
        out = dict((name, None) for name in current[secrets.name])
        out.update(users)
        return out

    parts = [Part(USER_TABLE, [secrets], wanted_users), Part(TABLE, [boot, live], desired)]
    outcome = engine.run_parts(parts, check_mode=check_mode, confirm=confirm)
    result = TASK.result(params, outcome, confirm)
    result['users'] = sorted(users)
    if secrets.wildcards and desired[key] is not None and warn is not None:
        # Not refused: those lines are someone else's, and other pppd (a dial-out) may need them.
        warn('the secrets files hold lines for any server ("*" in the server column) for %d user(s) (%s): pppd lets '
             'them log in to this concentrator too. Give them a server name to keep them out.'
             % (len(secrets.wildcards), ', '.join(secrets.wildcards[:5])))
    return result
