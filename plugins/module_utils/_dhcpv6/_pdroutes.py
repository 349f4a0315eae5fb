# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Routes to delegated prefixes for the Kea backend (``pd_routes``): the files of the route
service (``_pdroutesd``) and how a module run installs, configures and reloads it.

One route service per network namespace Kea runs in (its routes go into that namespace), named
``edgenet-dhcp6-pd-routes`` (``-NETNS`` in a namespace). Its files:

- the program :data:`PROGRAM` and the hook wrapper ``LIB_DIR/dhcp6-pd-hook-INSTANCE.sh`` that
  Kea's ``libdhcp_run_script`` runs (``hooks-libraries`` of the Kea config names it);
- its config ``CONFIG_FILE.pd-routes``, next to Kea's config (same directory, same lock, part of
  the Kea file store: written, snapshotted and rolled back with it);
- the spool ``/run/edgenet/pd-routes/INSTANCE.spool`` (owned by ``_kea``: the hook runs as Kea's
  user), its state ``/run/edgenet/pd-routes/INSTANCE.state`` and the routes it remembers across a
  restart ``/var/lib/edgenet/pd-routes/INSTANCE.json``;
- under systemd its unit ``INSTANCE.service``.
"""

from __future__ import annotations

import glob
import json
import os
import pkgutil
import re
import signal

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._command import checked
from ansible_collections.edgenet.router.plugins.module_utils._poll import until
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _pdroutesd
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._kea_control import KeaError
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._process import read_text, runs_with_tail

__all__ = ['HOOK_PREFIX', 'LIB_DIR', 'PROGRAM', 'PdRoutes', 'RUN_SCRIPT', 'is_our_hook', 'run_script_library']

PYTHON = '/usr/bin/python3'
LIB_DIR = '/usr/local/lib/edgenet-router'
PROGRAM = LIB_DIR + '/dhcp6-pdroutesd.py'
HOOK_PREFIX = LIB_DIR + '/dhcp6-pd-hook-'
RUN_DIR = '/run/edgenet/pd-routes'
STATE_DIR = '/var/lib/edgenet/pd-routes'
UNIT_DIR = '/etc/systemd/system'
RUN_SCRIPT = 'libdhcp_run_script.so'
# Debian's kea-dhcp6-server (multiarch) puts the hook libraries here.
RUN_SCRIPT_GLOB = '/usr/lib/*/kea/hooks/' + RUN_SCRIPT
KEA_USER = '_kea'
WAIT = 10
# Debian's AppArmor profile of Kea (kea-dhcp6-server) and its site file; the rule the hook needs.
APPARMOR_DIR = '/etc/apparmor.d'
APPARMOR_PROFILES = '/sys/kernel/security/apparmor/profiles'
KEA_PROFILE = 'usr.sbin.kea-dhcp6'
HOOK_RULE = HOOK_PREFIX + '*.sh Ux,'
LIMIT = 1 << 20   # bytes read of a profile
_LOCAL_INCLUDE_RE = re.compile(r'^[ \t]*#?include[ \t]+(if exists[ \t]+)?<local/usr\.sbin\.kea-dhcp6>', re.M)
_PLAIN_PATH_RE = re.compile(r'/[A-Za-z0-9_./@+-]{1,4094}\Z')
_INSTANCE_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\Z')


def run_script_library(pattern=RUN_SCRIPT_GLOB):
    """The path of Kea's run_script hook library, or KeaError naming the package."""
    found = sorted(glob.glob(pattern))
    if not found:
        raise KeaError('pd_routes needs Kea\'s run_script hook library (%s), which is not installed: on Debian it is '
                       'part of kea-dhcp6-server (2.2 and later)' % pattern)
    return found[0]


def is_our_hook(entry):
    """True for the ``hooks-libraries`` entry this collection writes for pd_routes."""
    if not isinstance(entry, dict) or os.path.basename(str(entry.get('library', ''))) != RUN_SCRIPT:
        return False
    parameters = entry.get('parameters')
    return isinstance(parameters, dict) and str(parameters.get('name', '')).startswith(HOOK_PREFIX) \
        and parameters.get('sync') is False


def apparmor_problem(apparmor_dir=None, profiles=None):
    """A warning when AppArmor enforces Kea's profile and neither the profile nor the site file it
    includes names the hook: Kea is then denied running it and no route ever appears, silently
    (seen in a Debian 12 guest: apparmor="DENIED" operation="exec" in the journal). None otherwise.
    The files are read, not the loaded profile: one edited but not reloaded reads as allowed."""
    loaded = read_text(profiles or APPARMOR_PROFILES, LIMIT)
    apparmor_dir = apparmor_dir or APPARMOR_DIR
    if loaded is None or not re.search(r'^kea-dhcp6 \(enforce\)$', loaded, re.M):
        return None
    profile_path = os.path.join(apparmor_dir, KEA_PROFILE)
    local_path = os.path.join(apparmor_dir, 'local', KEA_PROFILE)
    profile = read_text(profile_path, LIMIT) or ''
    texts = [profile] + ([read_text(local_path, LIMIT) or ''] if _LOCAL_INCLUDE_RE.search(profile) else [])
    if any(HOOK_PREFIX in text for text in texts):
        return None
    return ('pd_routes: AppArmor enforces the kea-dhcp6 profile, and %s allows Kea no run of the hook, so Kea is denied '
            'it and no route to a delegated prefix appears. Add "%s" to %s (on Debian 12 also the line "#include '
            '<local/%s>" before the profile\'s closing brace) and reload it with apparmor_parser -r %s; the '
            'edgenet.router.dhcpv6_lan role does this' % (profile_path, HOOK_RULE, local_path, KEA_PROFILE, profile_path))


def wanted_interfaces(models):
    """``{interface: [pd pool prefix, ...]}`` of the models that ask for routes."""
    return dict((name, sorted(pd['prefix'] for pd in obj.get('prefix_delegation') or []))
                for name, obj in sorted(models.items())
                if obj is not None and obj.get('pd_routes') is True and obj.get('prefix_delegation'))


class PdRoutes(object):
    """The route service of one Kea (see the module docstring)."""

    def __init__(self, settings, run, netns=None, systemd=False, proc='/proc', wait=WAIT):
        self.instance = 'edgenet-dhcp6-pd-routes' + ('-%s' % netns if netns else '')
        self.run = run
        self.netns = netns
        self.systemd = systemd
        self.proc = proc
        self.wait = wait
        self.kea_config = settings['config_file']
        self.lease_file = settings['lease_file']
        self.config = self.kea_config + '.pd-routes'
        self.hook = HOOK_PREFIX + self.instance + '.sh'
        self.spool = os.path.join(RUN_DIR, self.instance + '.spool')
        self.state_path = os.path.join(RUN_DIR, self.instance + '.state')
        self.routes_file = os.path.join(STATE_DIR, self.instance + '.json')
        self.unit = self.instance + '.service'
        self.done = False

    def check(self):
        """Refuse what cannot be a word of the service's command line or unit (before any write)."""
        problems = []
        if not _INSTANCE_RE.match(self.instance):
            problems.append('netns %s cannot name the route service' % self.netns)
        for what, path in (('config_file', self.kea_config), ('lease_file', self.lease_file)):
            if not _PLAIN_PATH_RE.match(path) or '/../' in path + '/':
                problems.append('%s %s: with pd_routes the route service reads it by name, so give an absolute path of '
                                'letters, digits and "_./@+-" only' % (what, path))
        if problems:
            raise KeaError('; '.join(problems))

    def hook_entry(self, library):
        return {'library': library, 'parameters': {'name': self.hook, 'sync': False}}

    def daemon_config(self, models):
        return {'spool': self.spool, 'routes_file': self.routes_file, 'lease_file': self.lease_file,
                'interfaces': wanted_interfaces(models)}

    def argv(self):
        return (['/sbin/ip', 'netns', 'exec', self.netns] if self.netns else []) + \
            [PYTHON, '-I', PROGRAM, 'serve', self.config, self.state_path]

    # -- files (persistent: with the Kea file, under its directory's lock)
    def file_config(self):
        """The route service's config file, checked; None when absent, {} when unreadable."""
        loaded = _files.load(self.config, KeaError)
        if loaded is None:
            return None
        try:
            return _pdroutesd.parse_config(loaded[0].decode('utf-8', 'replace'))
        except _pdroutesd.BadConfig:
            return {}

    def needed(self, models):
        return bool(wanted_interfaces(models)) or self.file_config() is not None

    def write_config(self, models):
        """Install what the hook and the service need, then write the config (only when some
        interface asks for routes, or the file exists: no trace for a Kea without pd_routes)."""
        if not self.needed(models):
            return False
        self.check()
        self.install()
        data = _pdroutesd.render_config(self.daemon_config(models)).encode()
        loaded = _files.load(self.config, KeaError)
        if loaded is not None and not _files.is_ours(loaded[0]):
            raise KeaError('%s exists without the line "%s": it is not ours; move it aside' % (self.config, _files.MANAGED_MARKER))
        if loaded is not None and loaded[0] == data:
            return False
        _files.atomic_write(self.config, data, 0o644, error=KeaError)
        return True

    def install(self):
        if self.done:
            return
        program = pkgutil.get_data('ansible_collections.edgenet.router.plugins.module_utils._dhcpv6', '_pdroutesd.py')
        hook = ('#!/bin/sh\n%s\n# Run by Kea\'s libdhcp_run_script for pd_routes (dhcpv6_server): records the lease '
                'event, changes nothing.\nexec %s -I %s hook %s "$1"\n'
                % (_files.MANAGED_MARKER, PYTHON, PROGRAM, self.spool)).encode()
        with _files.locked(LIB_DIR, error=KeaError):
            for path, data, mode in ((PROGRAM, program, 0o644), (self.hook, hook, 0o755)):
                if _files.load(path, KeaError) != (data, mode):
                    _files.atomic_write(path, data, mode, error=KeaError)
        owner = None
        try:
            import pwd
            user = pwd.getpwnam(KEA_USER)
            owner = (user.pw_uid, user.pw_gid)
        except (ImportError, KeyError):
            pass   # no _kea user: Kea runs as root
        for directory in (RUN_DIR, STATE_DIR):
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
        if not os.path.isdir(self.spool):
            os.mkdir(self.spool, 0o700)
        if owner is not None:
            os.chown(self.spool, owner[0], owner[1])
        if self.systemd:
            self._install_unit()
        self.done = True

    def _install_unit(self):
        path = os.path.join(UNIT_DIR, self.unit)
        text = ('%s\n# Routes to the prefixes Kea delegates (edgenet.router.dhcpv6_server pd_routes).\n[Unit]\n'
                'Description=edgenet.router routes to DHCPv6 delegated prefixes\nAfter=network.target\n'
                'Before=kea-dhcp6-server.service\nConditionPathExists=%s\n\n[Service]\nType=simple\nExecStart=%s\n'
                'ExecReload=/bin/kill -HUP $MAINPID\nRestart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n'
                % (_files.MANAGED_MARKER, self.config, ' '.join(self.argv()))).encode()
        with _files.locked(UNIT_DIR, error=KeaError):
            loaded = _files.load(path, KeaError)
            if loaded is not None and not _files.is_ours(loaded[0]):
                raise KeaError('%s exists without the line "%s": it is not ours' % (path, _files.MANAGED_MARKER))
            if loaded is None or loaded[0] != text:
                _files.atomic_write(path, text, 0o644, error=KeaError)
                checked(self.run, ['systemctl', 'daemon-reload'], KeaError)

    # -- the running service (runtime)
    def _is_ours(self, pid):
        return runs_with_tail(pid, [PROGRAM, 'serve', self.config, self.state_path], self.proc)

    def state(self):
        """What the running service reports, when its pid still runs this service; else None."""
        try:
            state = _files.load_json_object(self.state_path, KeaError)
        except KeaError:
            return None
        pid = state.get('pid') if isinstance(state, dict) else None
        if not isinstance(pid, int) or isinstance(pid, bool) or not self._is_ours(pid):
            return None
        return state

    def runs(self, models):
        """True when the service runs the config these models ask for."""
        state = self.state()
        return state is not None and state.get('config') == _pdroutesd.check_config(self.daemon_config(models))

    def apply(self, models):
        """Make the running service take the file's config; returns a warning (service_manager
        none and no service running) or None. KeaError when it does not report the config."""
        if not self.needed(models):
            return None
        state = self.state()
        if state is None and not self.systemd:
            return ('pd_routes: the route service is not running and service_manager none starts nothing; no route is '
                    'installed until it runs: %s' % ' '.join(self.argv()))
        if state is None:
            checked(self.run, ['systemctl', 'enable', '--quiet', self.unit], KeaError)
            checked(self.run, ['systemctl', 'restart', self.unit], KeaError)
        elif self.systemd:
            checked(self.run, ['systemctl', 'reload', self.unit], KeaError)
        else:
            os.kill(state['pid'], signal.SIGHUP)   # proven ours by state(): its command line
        if not until(lambda: self.runs(models), self.wait):
            raise KeaError('the pd_routes service %s does not report its new config %d s after the change (see '
                           'journalctl -u %s)' % (self.instance, self.wait, self.unit))
        return None

    def routes(self):
        """The routes the running service installed: ``[{prefix, via, dev, expires}]``."""
        state = self.state()
        routes = (state or {}).get('routes')
        if not isinstance(routes, dict):
            return []
        return [dict(prefix=prefix, **dict((k, route.get(k)) for k in ('via', 'dev', 'expires')))
                for prefix, route in sorted(routes.items()) if isinstance(route, dict)]

    def counters(self):
        state = self.state()
        return (state or {}).get('counters')

    def describe(self):
        return json.dumps({'config': self.config, 'unit': self.unit})
