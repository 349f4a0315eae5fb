# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs a module's ``main()`` the way Ansible does, on fakes at the seams.

The module gets its arguments through ``ansible.module_utils.testing.patch_module_args`` and
builds its ``AnsibleModule`` for real, so the argument spec, ``required_if`` and friends, check
mode and the result encoding (no_log masking, JSON) are ansible-core's own. ``exit_json`` and
``fail_json`` still run in full (their JSON goes to a buffer); the wrappers then raise
:class:`ModuleExit` / :class:`ModuleFail` with the parsed result instead of exiting. Any other
exception out of ``main()`` is a defect: a module answers bad input with ``fail_json``.

Only the seams are replaced, each in the namespace of the module that imports it:

* ``open_netlink`` / ``open_l2tp`` (where the modules' stores are opened): :class:`FakeNetlink` / :class:`FakeL2tp`, after the real
  namespace check (``_netlink.check_netns``, its directory pointed at a temp dir holding ``lab``);
* ``open_backend`` (DHCPv6): the real Kea or dnsmasq backend with a fake control socket or
  process table (its daemon runs a binary file of the temp dir as root; the backend's state
  directory is in the temp dir too);
* ``PersistentSessions`` (pipex): the real store with its unit directory in the temp dir;
* ``AnsibleModule.run_command`` / ``get_bin_path``: :class:`FakeRun` (nothing is executed; a program
  named in ``world.run.missing`` is absent, as AnsibleModule reports it);
* the resolver's ``getaddrinfo`` (``_resolve``): a fake that encodes the name as the real one
  does (IDNA, so over-long labels fail the same way) and knows a few names;
* ``os.kill``: recorded, never sent;
* ``_tunnel_persist.managing``: the host's network manager is systemd-networkd.

Files are real, in the test's temp dir. As a safety net every ``_files`` write, removal and lock,
the backends' own ``open`` for writing and Kea's data directory outside that dir raise
:class:`OutsideSandbox` before touching anything (modules run as root): a task that silently
falls back to a system path (``networkd_dir: ''`` -> ``/etc/systemd/network``) fails the test
instead of writing there.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import io
import json
import os
import re
import socket
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgenet.router.plugins.module_utils import _files, _iptun, _netlink, _resolve, _tunnel_persist
from ansible_collections.edgenet.router.plugins.module_utils._command import module_runner
from ansible_collections.edgenet.router.plugins.module_utils._pipex import _service as _pipex_service
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _dnsmasq, _kea
from ansible_collections.edgenet.router.plugins.modules import (
    dhcpv6_server, dhcpv6_server_info, iptun, iptun_info, pipex_session, pipex_session_info, sixtofour_relay,
)
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_l2tp import FakeL2tp
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_netlink import FakeNetlink

MODULES = {
    'iptun': iptun,
    'iptun_info': iptun_info,
    'sixtofour_relay': sixtofour_relay,
    'dhcpv6_server': dhcpv6_server,
    'dhcpv6_server_info': dhcpv6_server_info,
    'pipex_session': pipex_session,
    'pipex_session_info': pipex_session_info,
}

_PLACEHOLDER = re.compile(r'@([a-z_]+)')
NETNS = 'lab'          # the one network namespace that exists
LONG = 'x' * 100000    # 100 kB
LONG_MSG = 4096        # a message longer than this does not quote a value, it dumps it

# The fake resolver's world: everything else does not resolve.
HOSTS = {
    'one.test': ['198.51.100.9', '2001:db8:9::9'],
    'two.test': ['198.51.100.10', '198.51.100.11', '2001:db8:9::10', '2001:db8:9::11'],
    'v6only.test': ['2001:db8:9::12'],
    'loop.test': ['127.0.0.1', '::1'],
}

# Interface addresses ``ip -j -6 addr show`` reports (DHCPv6) and the FakeNetlink links hold.
IFACES = {
    'lan0': ['2001:db8:1::1/64', 'fe80::1/64'],
    'lan1': ['2001:db8:2::1/64', 'fe80::2/64'],
    'wan0': ['2001:db8:ffff::2/64', 'fe80::3/64'],
    'lanll': ['fe80::4/64'],
}
IPV4 = {
    'wan0': ['198.51.100.7/24'],
    'lan0': ['10.0.0.1/24'],
    'wan2': ['198.51.100.7/24', '203.0.113.8/24'],
}


def safe(text, limit=300):
    """``text`` cut to ``limit`` characters with lone surrogates escaped: a test report crosses
    pytest-xdist's channel, which takes UTF-8 only."""
    text = str(text)
    cut = text[:limit] + ('...' if len(text) > limit else '')
    return cut.encode('utf-8', 'backslashreplace').decode('utf-8')


# BaseException, as the SystemExit the real exit_json/fail_json raise: an ``except Exception`` in
# the code under test (the engine's rollback) must not catch them here when it would not there.
class ModuleExit(BaseException):
    def __init__(self, result):
        super(ModuleExit, self).__init__('exit_json')
        self.result = result


class ModuleFail(BaseException):
    def __init__(self, result):
        super(ModuleFail, self).__init__('fail_json: %s' % safe(result.get('msg')))
        self.result = result


class OutsideSandbox(AssertionError):
    """The module was about to write outside the test's temp dir."""


def _finish(original):
    def wrapper(self, *args, **kwargs):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                original(self, *args, **kwargs)
            except SystemExit:
                pass
        lines = [line for line in buf.getvalue().splitlines() if line.strip()]
        result = json.loads(lines[-1])
        raise (ModuleFail if result.get('failed') else ModuleExit)(result)
    return wrapper


# ---- fakes ------------------------------------------------------------------------------------
def fake_getaddrinfo(host, port, family=0, type_=0, proto=0, flags=0):
    """``socket.getaddrinfo`` for a few names: the host is IDNA-encoded first, as CPython does
    for a str (so a label over 63 characters raises UnicodeError just like the real one)."""
    if isinstance(host, str):
        host.encode('idna')
    if isinstance(host, bytes):
        host = host.decode('ascii')
    found = [a for a in HOSTS.get(host, []) if family in (0, socket.AF_INET6 if ':' in a else socket.AF_INET)]
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')
    return [(socket.AF_INET6 if ':' in a else socket.AF_INET, type_, 17, '', (a, 0)) for a in found]


class FakeKeaControl(object):
    """Kea's control socket: runs a config; config-reload reads the file; writes are recorded."""

    def __init__(self, path, world, conf=None):
        self.path = path
        self.world = world
        self.conf = conf
        self.config = {}

    def running(self):
        """Kea serves its socket at the world's path only."""
        return self.path == self.world.settings['kea_socket']

    def command(self, name, arguments=None):
        if not self.running():
            raise _kea.KeaError('cannot talk to Kea over %s (%s): No such file or directory' % (self.path, name))
        if name in ('config-get', 'version-get', 'config-test'):
            return copy.deepcopy(self.config) if name == 'config-get' else None
        self.world.record('kea %s' % name)
        if name == 'config-reload':
            with open(self.conf) as handle:
                self.config = _kea.load_text(handle.read())
        elif name == 'config-set':
            self.config = copy.deepcopy(arguments)
        return None


class FakeProcess(object):
    """dnsmasq's process table: one daemon reading the world's dnsmasq file."""

    name = 'dnsmasq'

    def __init__(self, world):
        self.world = world
        self.current = 100
        self.pid_file = world.settings['dnsmasq_pid']

    def pid(self):
        """The daemon's pid while its pid file (``pid_file``, read as the real table reads it)
        holds one: a pid file elsewhere names no daemon."""
        try:
            with open(self.pid_file, 'rb') as handle:
                text = handle.read().decode('utf-8').strip()
        except (OSError, UnicodeDecodeError):
            return None
        return self.current if text.isdigit() else None

    def exe(self, pid):
        """The daemon runs the binary the module was given (a file of its own in the temp dir)."""
        binary = self.world.settings['dnsmasq_bin']
        return binary, os.stat(binary)

    def real_uid(self, pid):
        return 0

    def argv(self, pid):
        if pid is None or pid != self.current:
            return None
        return ['dnsmasq', '--conf-file=%s' % self.world.settings['dnsmasq_conf'], '--port=0']

    def start_ticks(self, pid):
        return 5000

    def start_wall(self, pid):
        return 0.0

    def netns_inode(self, pid):
        return 7


class FakeRun(object):
    """``AnsibleModule.run_command``: answers the reads, records every command that changes
    something (a write), and runs nothing."""

    READS = ('ip', 'kea-dhcp6', 'dnsmasq-test', 'is-active', 'nft-list', 'sysctl-n')

    def __init__(self, world):
        self.world = world
        self.calls = []
        self.missing = set()   # program names this host lacks

    def __call__(self, module, args, check_rc=False, data=None, handle_exceptions=True, **kwargs):
        argv = [str(a) for a in (args if isinstance(args, (list, tuple)) else args.split())]
        self.calls.append(argv)
        if os.path.basename(argv[0]) in self.missing:
            # what AnsibleModule.run_command does: Popen's OSError, or fail_json by default
            exc = FileNotFoundError(2, 'No such file or directory', argv[0].encode())
            if handle_exceptions:
                module.fail_json(rc=exc.errno, msg=str(exc), cmd=' '.join(argv))
            raise exc
        if argv[:3] == ['ip', 'netns', 'exec']:
            if argv[3] != NETNS:
                return 1, '', 'Cannot open network namespace "%s": No such file or directory' % argv[3]
            argv = argv[4:]
        name = os.path.basename(argv[0]) if argv else ''
        if name == 'ip':
            return self._ip(argv)
        if name == 'kea-dhcp6' and argv[1:2] == ['-t']:
            return 0, '', ''
        if name == 'dnsmasq' and argv[1:2] == ['--test']:
            return 0, 'dnsmasq: syntax check OK.', ''
        if name == 'systemctl' and argv[1:2] == ['is-active']:
            return 0, '', ''
        if name == 'nft' and argv[1:3] == ['-a', 'list']:
            return 1, '', 'Error: No such file or directory'
        if name == 'sysctl' and argv[1:2] == ['-n']:
            return 0, '0\n', ''
        self.world.record('run %s' % ' '.join(argv))
        if name == 'dnsmasq':   # started again after SIGTERM (service_manager: none)
            self.world.process.current = 101
        return 0, '', ''

    def _ip(self, argv):
        netns = None
        if argv[1:2] == ['-n']:
            netns = argv[2]
            argv = argv[:1] + argv[3:]
            if netns != NETNS:
                return 1, '', 'Cannot open network namespace "%s": No such file or directory' % netns
        if argv[1:5] == ['-j', '-6', 'addr', 'show']:
            dev = argv[-1]
            if dev not in IFACES:
                return 1, '', 'Device "%s" does not exist.' % dev
            info = [{'family': 'inet6', 'local': a.split('/')[0], 'prefixlen': int(a.split('/')[1])} for a in IFACES[dev]]
            return 0, json.dumps([{'ifname': dev, 'addr_info': info}]), ''
        self.world.record('run %s' % ' '.join(argv))
        return 0, '', ''


# ---- the world a module runs in -----------------------------------------------------------------
class World(object):
    """The fakes and files of one module run, and what was written to them."""

    def __init__(self, monkeypatch, tmp):
        self.mp = monkeypatch
        self.root = os.path.realpath(str(tmp))
        self.events = []
        self.settings = {}
        for sub in ('networkd', 'pipex', 'systemd', 'dhcp', 'netns', 'cwd', 'bin'):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        open(os.path.join(self.root, 'netns', NETNS), 'w').close()
        open(os.path.join(self.root, 'a-file'), 'w').close()
        open(os.path.join(self.root, 'bin', 'dnsmasq'), 'w').close()
        with open(os.path.join(self.root, 'dhcp', 'dnsmasq.pid'), 'w') as handle:
            handle.write('100\n')
        self.settings.update(
            networkd=os.path.join(self.root, 'networkd'),
            pipex=os.path.join(self.root, 'pipex'),
            unit_dir=os.path.join(self.root, 'systemd'),
            kea_conf=os.path.join(self.root, 'dhcp', 'kea-dhcp6.conf'),
            kea_socket=os.path.join(self.root, 'dhcp', 'kea6-ctrl-socket'),
            kea_leases=os.path.join(self.root, 'dhcp', 'kea-leases6.csv'),
            dnsmasq_conf=os.path.join(self.root, 'dhcp', 'edgenet-dhcpv6.conf'),
            dnsmasq_pid=os.path.join(self.root, 'dhcp', 'dnsmasq.pid'),
            dnsmasq_leases=os.path.join(self.root, 'dhcp', 'dnsmasq.leases'),
            a_file=os.path.join(self.root, 'a-file'),
            dhcp=os.path.join(self.root, 'dhcp'),
            dnsmasq_bin=os.path.join(self.root, 'bin', 'dnsmasq'),
            dnsmasq_state=os.path.join(self.root, 'run', 'dnsmasq'),
        )
        self.netlink = FakeNetlink()
        for name in sorted(set(IFACES) | set(IPV4)):
            self.netlink.add_plain(name, 'veth')
            index = self.netlink.links_by_name[name]['index']
            self.netlink.addrs[index] = list(IPV4.get(name, [])) + list(IFACES.get(name, []))
        self.l2tp = FakeL2tp(self.netlink)
        # A tunnel with a PPP session this collection never touches.
        self.l2tp.create_tunnel({'tunnel_id': 7, 'peer_tunnel_id': 8, 'encap': 'udp', 'local': '192.0.2.1',
                                 'remote': '192.0.2.9', 'udp_sport': 1701, 'udp_dport': 1701})
        self.l2tp.add_foreign_ppp_session(7, 70)
        self.l2tp.writes = []
        self.kea = FakeKeaControl(self.settings['kea_socket'], self)
        self.process = FakeProcess(self)
        self.run = FakeRun(self)
        self._patch()

    def record(self, what):
        self.events.append(what)

    # -- patches --------------------------------------------------------------------------------
    def _inside(self, path):
        real = os.path.realpath(os.path.abspath(path))
        return real == self.root or real.startswith(self.root + os.sep)

    def _outside(self, what, path):
        """Record and refuse a write outside the temp dir (the record fails the test even if a
        module turns the exception into its own message)."""
        self.record('OUTSIDE %s %r' % (what, path))
        raise OutsideSandbox('HARNESS: the module would %s outside the test dir: %r' % (what, path))

    def _guard(self, func, what):
        world = self

        def guarded(path, *args, **kwargs):
            if not isinstance(path, (str, bytes)) or not world._inside(path):
                world._outside(what, path)
            if what != 'lock':
                world.record('%s %s' % (what, path))
            return func(path, *args, **kwargs)
        return guarded

    def _guarded_open(self, path, mode='r', *args, **kwargs):
        """``open`` for the backends' own plain writes: inside the temp dir only, and recorded."""
        if any(c in mode for c in 'wax+'):
            if not (isinstance(path, (str, bytes)) and self._inside(path)):
                self._outside('open for writing', path)
            self.record('open %s' % (path,))
        return open(path, mode, *args, **kwargs)

    def _patch(self):
        mp = self.mp
        world = self
        mp.chdir(os.path.join(self.root, 'cwd'))
        mp.setattr(_netlink, 'NETNS_DIR', os.path.join(self.root, 'netns'))
        # The host's network manager: systemd-networkd (the detection is _tunnel_persist's own test).
        mp.setattr(_tunnel_persist, 'managing', lambda run_command, paths=None: ({'networkd': 'the test world'}, {'networkd'}, []))
        mp.setattr(_files, 'atomic_write', self._guard(_files.atomic_write, 'write'))
        mp.setattr(_files, 'remove', self._guard(_files.remove, 'remove'))
        mp.setattr(_files, 'locked', self._guard(_files.locked, 'lock'))
        # Plain file writes and directories the backends make themselves (the dnsmasq start
        # record, Kea's data directory).
        mp.setattr(_dnsmasq, 'open', self._guarded_open, raising=False)
        mp.setattr(_kea, 'open', self._guarded_open, raising=False)
        ensure = _kea._ensure_data_directory

        def ensure_data_directory(directory):
            if directory and not os.path.isdir(directory):
                if not world._inside(directory):
                    world._outside('make the directory', directory)
                world.record('mkdir %s' % directory)
            return ensure(directory)
        mp.setattr(_kea, '_ensure_data_directory', ensure_data_directory)
        # A daemon that does not come back is waited for briefly: the wait is the backend's own.
        if hasattr(_dnsmasq, 'WAIT_SECONDS'):
            mp.setattr(_dnsmasq, 'WAIT_SECONDS', 0.2)
        mp.setattr(os, 'kill', lambda pid, sig: (world.record('kill %s %s' % (pid, sig)),
                                                 setattr(world.process, 'current', None)))
        # The resolver: every default argument bound to the real getaddrinfo, and the module's own.
        for name in dir(_resolve):
            func = getattr(_resolve, name)
            defaults = getattr(func, '__defaults__', None)
            if callable(func) and defaults and any(d is socket.getaddrinfo for d in defaults):
                mp.setattr(func, '__defaults__', tuple(fake_getaddrinfo if d is socket.getaddrinfo else d
                                                       for d in defaults))
        mp.setattr(socket, 'getaddrinfo', fake_getaddrinfo)
        mp.setattr(AnsibleModule, 'exit_json', _finish(AnsibleModule.exit_json))
        mp.setattr(AnsibleModule, 'fail_json', _finish(AnsibleModule.fail_json))
        # a plain function, not the bound world.run: set on the class, it must take the module as self
        mp.setattr(AnsibleModule, 'run_command', lambda module, args, **kw: world.run(module, args, **kw))  # pylint: disable=unnecessary-lambda
        mp.setattr(AnsibleModule, 'get_bin_path',
                   lambda module, arg, required=False, opt_dirs=None: '/usr/sbin/%s' % arg)
        mp.setattr(AnsibleModule, '_log_invocation', lambda module: None)

        @contextlib.contextmanager
        def open_netlink(netns=None):
            if netns:
                _netlink.check_netns(netns)
            yield world.netlink

        @contextlib.contextmanager
        def open_l2tp(netns=None):
            if netns:
                _netlink.check_netns(netns)
            yield world.l2tp

        def open_backend(module):
            params = module.params
            if params['backend'] == 'kea':
                control = FakeKeaControl(params.get('control_socket') or _kea.DEFAULTS['control_socket'], world,
                                         params.get('config_file') or _kea.DEFAULTS['config_file'])
                control.config = world.kea.config
                world.kea = control
                return _kea.Backend(params, module_runner(module), binary='/usr/sbin/kea-dhcp6', control=control)
            world.process.pid_file = params.get('pid_file') or _dnsmasq.DEFAULTS.get('pid_file')
            extra = {}
            if 'state_dir' in inspect.signature(_dnsmasq.Backend).parameters:
                # Where the backend records what it started: a root-only directory of the temp dir.
                extra['state_dir'] = world.settings['dnsmasq_state']
            return _dnsmasq.Backend(params, module_runner(module), binary=world.settings['dnsmasq_bin'],
                                    process=world.process, netns_inode=7, **extra)

        # iptun, sixtofour_relay and pipex_session open their stores in their task's module_utils
        # (open_stores, which the commit-confirm rollback uses too); the _info modules themselves
        for mod in (_iptun, iptun_info, _pipex_service, pipex_session_info):
            mp.setattr(mod, 'open_netlink', open_netlink)
        for mod in (_pipex_service, pipex_session_info):
            mp.setattr(mod, 'open_l2tp', open_l2tp)
            real = mod.PersistentSessions
            mp.setattr(mod, 'PersistentSessions',
                       lambda *args, _real=real, **kwargs: _real(*args, **dict(kwargs, unit_dir=world.settings['unit_dir'])))
        for mod in (dhcpv6_server, dhcpv6_server_info):
            mp.setattr(mod, 'open_backend', open_backend)

    # -- what changed ---------------------------------------------------------------------------
    def writes(self):
        """Every write the fakes saw: netlink, L2TP genl, Kea, commands, files, signals."""
        return ([('netlink',) + tuple(w) for w in self.netlink.writes] + [('l2tp',) + tuple(w) for w in self.l2tp.writes]
                + list(self.events))

    def tree(self):
        """Every file under the temp dir (lock files aside): bytes, mode, link target."""
        out = {}
        for top, dirs, files in os.walk(self.root):
            for name in dirs + files:
                path = os.path.join(top, name)
                if name == _files.LOCK_NAME:
                    continue
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    out[path] = ('link', os.readlink(path))
                elif stat.S_ISREG(st.st_mode):
                    with open(path, 'rb') as handle:
                        out[path] = ('file', st.st_mode, handle.read())
                else:
                    out[path] = ('dir', st.st_mode)
        return out


def materialise(args, settings):
    """``args`` with ``@key`` strings (and ``@key/rest``) replaced by the world's paths: the tables
    are built before any temp dir exists."""
    if isinstance(args, dict):
        return dict((k, materialise(v, settings)) for k, v in args.items())
    if isinstance(args, list):
        return [materialise(v, settings) for v in args]
    if isinstance(args, str):
        match = _PLACEHOLDER.match(args)
        if match and match.group(1) in settings:
            return settings[match.group(1)] + args[match.end():]
    return args


def run_module(name, args, check_mode=False):
    """``(outcome, result)``: ``('exit', result)`` or ``('fail', result)``. Other exceptions propagate."""
    module = MODULES[name]
    module_args = dict(args, _ansible_check_mode=check_mode)
    with patch_module_args(module_args):
        try:
            module.main()
        except ModuleExit as exc:
            return 'exit', exc.result
        except ModuleFail as exc:
            return 'fail', exc.result
        except Exception as exc:  # pylint: disable=broad-except
            # ansible-core's own decoder refuses a lone surrogate (not UTF-8) once its controller
            # side is loaded in this process (the filter tests load it): no module ever receives
            # such text from a controller, so this is a refusal before the module ran.
            if str(exc) == 'Failed to decode JSON module parameters.' and _has_surrogate(module_args):
                return 'fail', {'failed': True, 'ansible_refused': True,
                                'msg': 'ansible-core refused the arguments before the module ran: %s' % exc.__cause__}
            raise
    raise AssertionError('%s main() returned without exit_json or fail_json' % name)


def _has_surrogate(value):
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_surrogate(v) for v in value)
    return isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def capture_spec(name):
    """The ``AnsibleModule`` keyword arguments ``main()`` builds (argument_spec and the rules), of a
    module this driver runs or any other of the collection's modules (imported by name)."""
    module = MODULES.get(name) or importlib.import_module('ansible_collections.edgenet.router.plugins.modules.' + name)
    captured = {}

    class Captured(Exception):
        pass

    def spy(self, *args, **kwargs):
        captured.update(kwargs)
        if args:
            captured['argument_spec'] = args[0]
        raise Captured()

    original = AnsibleModule.__init__
    AnsibleModule.__init__ = spy
    try:
        with patch_module_args({}):
            try:
                module.main()
            except Captured:
                pass
    finally:
        AnsibleModule.__init__ = original
    return captured


def assert_refused(world, name, args, fragments, check_mode=False, short=False):
    """Run ``name`` with ``args``; it must fail_json naming one of ``fragments`` and write nothing.
    ``short``: the value is long, and the message must quote it, not carry it whole."""
    __tracebackhide__ = True  # pylint: disable=unused-variable
    args = materialise(args, world.settings)
    before = world.tree()
    outcome, result = run_module(name, args, check_mode=check_mode)
    writes = world.writes()
    after = world.tree()
    assert outcome == 'fail', 'accepted: %s returned %s' % (name, _brief(result))
    msg = result.get('msg')
    assert result.get('failed') is True
    assert isinstance(msg, str) and msg.strip(), 'fail_json without a message: %r' % (result,)
    assert 'Traceback (most recent call last)' not in msg, 'a traceback as the message: %s' % safe(msg)
    assert 'HARNESS:' not in msg, safe(msg)
    lowered = msg.lower()
    assert result.get('ansible_refused') or any(f.lower() in lowered for f in fragments), \
        'message names none of %s: %s' % (list(fragments), safe(msg))
    if short:
        assert len(msg) <= LONG_MSG, 'message of %d characters dumps the value instead of quoting it: %s' % (
            len(msg), safe(msg, 120))
    assert writes == [], 'refused, but wrote: %s' % (writes[:5],)
    assert after == before, 'refused, but files changed: %s' % (
        sorted(set(after) ^ set(before)) or [p for p in after if after[p] != before.get(p)])[:5]
    return result


def _brief(result):
    text = json.dumps(dict((k, v) for k, v in result.items() if k in ('changed', 'msg', 'commands')), default=str)
    return safe(text)


def assert_accepted(world, name, args, check_mode=False):
    """Run ``name`` with ``args``; it must exit_json, and in check mode write nothing."""
    __tracebackhide__ = True  # pylint: disable=unused-variable
    args = materialise(args, world.settings)
    before = world.tree()
    outcome, result = run_module(name, args, check_mode=check_mode)
    assert outcome == 'exit', '%s failed: %s' % (name, safe(result.get('msg')))
    if check_mode:
        assert world.writes() == [], 'check mode wrote: %s' % (world.writes()[:5],)
        assert world.tree() == before, 'check mode changed files'
    return result
