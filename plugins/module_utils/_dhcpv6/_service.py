# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""What the dhcpv6_server and dhcpv6_server_info modules do, kept out of the module files.

The task (``_task.Task``: one interface per task, no bulk form), the checks of where the daemon's
files are, ``run_dhcpv6`` on a backend object (its stores, how to start the daemon: unit-tested
with fakes; the module files only build the real backends), the stores a commit-confirm rollback
opens, and the info view.
"""

from __future__ import annotations

import contextlib
import json
import os
import re

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils import _netlink
from ansible_collections.edgenet.router.plugins.module_utils._names import quoted
from ansible_collections.edgenet.router.plugins.module_utils._command import last_words
from ansible_collections.edgenet.router.plugins.module_utils._task import Task
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _backends
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import ConfigFileError
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import (
    TABLE, Dhcpv6Error, check_interface_name, desired_service, public_view,
)

__all__ = [
    'BACKENDS',
    'COMMON_OPTIONS',
    'DRIFT_DAEMON',
    'DRIFT_FILE',
    'STORE_OPTIONS',
    'TASK',
    'argument_spec',
    'check_other_backends',
    'check_where',
    'desired_set',
    'info',
    'interface_addresses',
    'module_kwargs',
    'open_stores',
    'run_dhcpv6',
]

BACKENDS = ('kea', 'dnsmasq', 'edgenet')
DRIFT_FILE = 'file differs'
DRIFT_DAEMON = 'daemon not running the file'

# Options of both modules: where the daemon's files and socket are and how it is run.
COMMON_OPTIONS = {
    'backend': {'type': 'str', 'default': 'kea', 'choices': list(BACKENDS)},
    'netns': {'type': 'str'},
    'config_file': {'type': 'path'},
    'control_socket': {'type': 'path'},
    'lease_file': {'type': 'path'},
    'pid_file': {'type': 'path'},
    'service_manager': {'type': 'str', 'default': 'systemd', 'choices': ['systemd', 'none']},
    'service_name': {'type': 'str'},
}

# One interface per task: no bulk form. A relay needs to know where the servers are.
TASK = Task(TABLE, key='interface', bulk=None, result='server', error=Dhcpv6Error, common=COMMON_OPTIONS,
            check_key=check_interface_name, required_if=[('mode', 'relay', ('upstream_interface',))])

# The options the stores are built from: all a commit-confirm rollback keeps of the task.
STORE_OPTIONS = ('interface', 'backend', 'netns', 'config_file', 'control_socket', 'lease_file', 'pid_file',
                 'service_manager', 'service_name')

PATH_OPTIONS = ('config_file', 'control_socket', 'lease_file', 'pid_file')
# A systemd unit name: systemctl matches a name holding *, ? or [ as a glob over every unit, and
# one starting with "-" is read as an option.
_UNIT_RE = re.compile(r'[A-Za-z0-9:_.\\@][A-Za-z0-9:_.\\@-]{0,254}\Z')


def _path_problem(path):
    """None when ``path`` can name the daemon's file, else why not (before anything is touched:
    an empty value must not silently become the default, a directory must not reach open())."""
    if path == '':
        return 'it is empty'
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        return 'it holds a control character (NUL, newline, ...)'
    if len(path.encode('utf-8', 'surrogateescape')) > 4095:
        return 'it is longer than the 4095 bytes of a Linux path'
    if not path.startswith('/'):
        return 'it is not an absolute path'
    try:
        if os.path.isdir(path):
            return 'it is a directory'
        parent = os.path.dirname(path)
        if os.path.exists(parent) and not os.path.isdir(parent):
            return 'its directory %s is not a directory' % quoted(parent)
    except (ValueError, UnicodeError):
        return 'the file system cannot encode it'
    return None


def check_where(params):
    """Refuse, before any backend is opened, file paths, a unit name, a namespace and an
    interface filter that cannot be what they name; every problem in one message."""
    problems = []
    for option in PATH_OPTIONS:
        value = params.get(option)
        problem = None if value is None else _path_problem(value)
        if problem:
            problems.append('%s %s: %s; give the absolute path of a file, or omit %s for the default'
                            % (option, quoted(value), problem, option))
    paths = [params.get(option) for option in ('config_file', 'lease_file')]
    if None not in paths and not problems and os.path.normpath(paths[0]) == os.path.normpath(paths[1]):
        problems.append('lease_file %s is the config_file: the daemon would overwrite its config with leases; '
                        'give another file' % quoted(paths[1]))
    unit = params.get('service_name')
    if unit is not None and not (isinstance(unit, str) and _UNIT_RE.match(unit)):
        problems.append('service_name %s is not a systemd unit name: 1-255 letters, digits or ":-_.\\@", not starting '
                        'with "-", no glob characters; give the literal unit name (e.g. kea-dhcp6-server)' % quoted(unit))
    netns = params.get('netns')
    if netns is not None:
        try:
            _netlink.check_netns(netns)
        except _netlink.NetlinkError as exc:
            problems.append(str(exc) if str(exc).startswith('netns') else 'netns: %s' % exc)
    for option in ('interface', 'upstream_interface'):
        if params.get(option) is not None:
            try:
                check_interface_name(params[option], option)
            except Dhcpv6Error as exc:
                problems.append(str(exc))
    if problems:
        raise Dhcpv6Error('; '.join(problems))


def argument_spec():
    return TASK.argument_spec()


def module_kwargs():
    return TASK.module_kwargs()


@contextlib.contextmanager
def open_stores(params, run_command):
    """The task's stores, ``(runtime, persistent)``, for a commit-confirm rollback (see
    ``_confirm``): the backend the options name, built as the module built it. The options are
    checked again (they come from a record on disk): no path, unit or namespace the module
    would have refused reaches a store."""
    check_where(params)
    yield _backends.open_stores(params, run_command)


def desired_set(params, addresses=None, defaults=None):
    """Task -> ``{interface: canonical dict, or None when disabled}``; see ``desired_service``."""
    return TASK.desired_set(params, lambda item: desired_service(item, addresses, defaults))


def interface_addresses(run, interface, netns=None):
    """``addr/len`` of the interface's IPv6 addresses (link-local included), via iproute2.

    ``run`` is shaped like AnsibleModule.run_command. A missing interface is an error: the
    daemon could not serve it either.
    """
    check_interface_name(interface)
    argv = ['ip'] + (['-n', netns] if netns else []) + ['-j', '-6', 'addr', 'show', 'dev', interface]
    rc, out, err = run(argv)
    if rc != 0:
        where = ' in network namespace %s' % netns if netns else ''
        raise Dhcpv6Error('interface %s%s: %s' % (interface, where, last_words(err, out) or 'ip failed'))
    try:
        links = json.loads(out or '[]')
    except ValueError:
        raise Dhcpv6Error('cannot parse the output of %s' % ' '.join(argv))
    out = []
    for link in links:
        for info_ in link.get('addr_info') or []:
            if info_.get('family') == 'inet6' and not info_.get('tentative') and not info_.get('deprecated'):
                out.append('%s/%s' % (info_['local'], info_['prefixlen']))
    return out


def _drift(changes):
    """The result's ``drift`` labels, from the plan rows alone: the file's rows and the daemon's."""
    stores = set(c['store'] for c in changes)
    return [label for store, label in ((engine.PERSISTENT, DRIFT_FILE), (engine.RUNTIME, DRIFT_DAEMON))
            if store in stores]


def check_other_backends(key, desired, others):
    """Refuse to serve ``key`` while another backend's config file still serves it: Kea and
    dnsmasq cannot share a network namespace's DHCPv6 port (dnsmasq binds ``[::]:547``), so
    switching backends is two steps. ``others``: ``{backend name: its file store}``."""
    if desired is None:
        return
    for name, store in sorted((others or {}).items()):
        try:
            served = store.read()
        except (ValueError, OSError, ConfigFileError, store.error):
            continue   # absent, unreadable or someone else's file: it serves nothing of ours
        if key in served:
            raise Dhcpv6Error('interface %s is still served by the %s backend (%s): two DHCPv6 daemons cannot both '
                              'answer on one interface (each takes UDP port 547). Disable it there first (backend: %s, '
                              'state: absent), then run this task again.' % (key, name, store.file.path, name))


def run_dhcpv6(params, backend, check_mode=False, addresses=None, warn=None, others=None, confirm=None):
    """The dhcpv6_server module's behaviour; returns the result dict.

    ``backend`` offers ``check_expressible(obj, addresses)``, ``model_defaults(params)`` (its own
    defaults for the model, None for the model's), ``stores()`` (persistent first; the runtime
    store while the daemon runs or the module may start it: its write starts a stopped daemon),
    ``daemon_running()`` and ``render(key, obj)`` (the backend's config text for the result).
    Everything the run does is a row of the engine's plan, so ``changed`` is the same in check
    mode and a real run. ``warn`` receives warnings (AnsibleModule.warn). ``others`` are the
    other backends' file stores (see :func:`check_other_backends`). ``confirm`` is the
    commit-confirm rollback to schedule (``_confirm.Pending``) or None.
    """
    key = params['interface']
    desired = desired_set(params, addresses, backend.model_defaults(params))[key]
    backend.check_expressible(desired, addresses)
    check_other_backends(key, desired, others)
    stores = backend.stores()
    outcome = engine.run(TABLE, stores, {key: desired}, check_mode=check_mode, confirm=confirm)
    after = outcome['after'][key]
    # In check mode the prediction: a stopped daemon the plan starts would run.
    running = backend.daemon_running() or after.get(engine.RUNTIME) is not None
    if not running and desired is not None and engine.RUNTIME not in after and warn is not None:
        # Said on every run while nothing serves the file, in words true of this run.
        written = any(change['store'] == engine.PERSISTENT for change in outcome['changes'])
        warn('the %s daemon is not running: the config file %s but nothing serves it (service_manager: none '
             'leaves starting it to you%s)' % (backend.name, ('would be written' if check_mode else 'is written')
                                               if written else 'is as the task asks', backend.start_hint()))
    if warn is not None and not check_mode:
        for text in backend.warnings():
            warn(text)
    view = after.get(engine.RUNTIME) or after.get(engine.PERSISTENT)
    result = TASK.result(params, outcome, confirm)
    result.update({
        # Not the runtime view alone: with service_manager none a stopped daemon is no store.
        'server': public_view(view) if desired is not None else {'interface': key, 'mode': 'disabled'},
        'backend_config': backend.render(key, desired),
        'drift': _drift(outcome['changes']),
        'daemon_running': running,
    })
    return result


def info(backend, interface=None):
    """The model read back from the daemon (and the file), where they differ, and the leases."""
    files = backend.file_store().read()
    daemon = backend.daemon_store().read() if backend.daemon_running() else {}
    compared = engine.compare_stores(TABLE, daemon, files, None if interface is None else [interface])
    interfaces = dict((name, {'running': public_view(views['runtime']), 'file': public_view(views['persistent']),
                              'differs': views['differs']})
                      for name, views in compared.items())
    return {
        'changed': False,
        'daemon_running': backend.daemon_running(),
        'interfaces': interfaces,
        'leases': backend.leases(),
        'relay_counters': backend.counters(),
        'pd_routes': backend.pd_routes(),
    }
