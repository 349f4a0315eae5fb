# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Which persistent store a tunnel task writes: the files of the network manager that owns the host.

A persistent store is only worth writing when something reads it at boot. ``persistent_store:
auto`` asks the host which manager manages its links now — systemd-networkd (active, and
``networkctl`` lists a link it configures), ifupdown (``networking.service`` active, and its state
``/run/network/ifstate`` lists an interface besides ``lo``), NetworkManager (active) — and takes
the one it finds. None, or more than one, is refused with what was found; so is a store named
explicitly whose manager is not running. The refusal is a problem of the task, reported with
every field error (see ``_iptun.desired_set``), before anything is changed.

Each entry of :data:`MANAGERS` names (a function importing) the store class that writes its files, offering
``check_persistable(obj)`` (what its manager cannot bring back at boot) and
``host_problem(directory, run_command)`` (None, or why its manager would not read that directory
at boot), built from its own directory option (:func:`store_for`).
A refused choice is a :class:`Refused` store: it carries the problem and holds nothing.
"""

from __future__ import annotations

import collections
import os

from ansible_collections.edgenet.router.plugins.module_utils._command import unit_active
from ansible_collections.edgenet.router.plugins.module_utils._files import StoreError

__all__ = ['ERRORS', 'MANAGERS', 'OPTIONS', 'Choice', 'Refused', 'choose', 'managing', 'open_persistent', 'store_for']

Manager = collections.namedtuple('Manager', 'label unit dir_option default_dir store_class')


# A store's module is imported when its manager is chosen, not with this one: a task compiles every
# module it imports from source (Ansible runs it from a zip, where no bytecode is kept), and a host
# has one manager, so the other stores (a third of iptun's code) were compiled for nothing in each
# task. Ansible still ships them: it finds the imports inside these functions too.
def _networkd_store():
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel_networkd import NetworkdTunnels
    return NetworkdTunnels


def _ifupdown_store():
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel_ifupdown import IfupdownTunnels
    return IfupdownTunnels


def _nm_store():
    from ansible_collections.edgenet.router.plugins.module_utils._tunnel_nm import NmTunnels
    return NmTunnels


# Every manager the detection knows, with (the function that imports) the store class that writes its files.
MANAGERS = collections.OrderedDict([
    ('networkd', Manager('systemd-networkd', 'systemd-networkd.service', 'networkd_dir', '/etc/systemd/network',
                         _networkd_store)),
    ('ifupdown', Manager('ifupdown', 'networking.service', 'ifupdown_dir', '/etc/network/interfaces.d',
                         _ifupdown_store)),
    ('networkmanager', Manager('NetworkManager', 'NetworkManager.service', 'networkmanager_dir',
                               '/etc/NetworkManager/system-connections', _nm_store)),
])

# What the stores raise (a file they cannot read, write or restore; every store's error is one): the
# modules report it.
ERRORS = (StoreError,)

OPTIONS = collections.OrderedDict(
    [('persistent_store', {'type': 'str', 'default': 'auto', 'choices': ['auto'] + list(MANAGERS)})]
    + [(manager.dir_option, {'type': 'path', 'default': manager.default_dir}) for manager in MANAGERS.values()])

# Where systemd and ifupdown keep what the detection reads (tests point them elsewhere).
PATHS = {'systemd': '/run/systemd/system', 'ifstate': '/run/network/ifstate'}


class Choice(object):
    """The persistent store of a task: ``name`` (a key of :data:`MANAGERS`) or None, ``why`` it was
    chosen or refused, ``problem`` (None when the store can be written)."""

    def __init__(self, name, why, problem=None):
        self.name = name
        self.why = why
        self.problem = problem

    def result(self):
        """What iptun_info reports: the store read, or None and why none was."""
        if self.problem is not None:
            return {'name': None, 'why': self.problem}
        return {'name': self.name, 'why': self.why}


def _networkd_links(run_command):
    """The links systemd-networkd configures (networkctl's SETUP column is not "unmanaged")."""
    rc, out, dummy = run_command(['networkctl', 'list', '--no-legend', '--no-pager'])
    if rc != 0:
        return []
    rows = [line.split() for line in (out or '').splitlines()]
    return [row[1] for row in rows if len(row) >= 5 and row[4] != 'unmanaged']


def _ifupdown_interfaces(path):
    """The interfaces ifupdown brought up this boot, ``lo`` aside (its state file: ``name=name``)."""
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError, UnicodeError):
        return []
    names = [line.split('=', 1)[0].strip() for line in lines if '=' in line]
    return [name for name in names if name and name != 'lo']


def managing(run_command, paths=None):
    """``(found, active, notes)``: ``{manager: why}`` for every manager that manages this host's
    links now, the set of managers whose unit is active (a manager named explicitly need only be
    active), and what was seen of the others (for the message when none or several are found).
    Reads only; asks each unit once."""
    paths = dict(PATHS, **(paths or {}))
    if not os.path.isdir(paths['systemd']):
        return {}, set(), ['systemd is not running (no %s): none of the managers can be asked' % paths['systemd']]
    found, active, notes = {}, set(), []
    for name, manager in MANAGERS.items():
        if not unit_active(run_command, manager.unit):
            notes.append('%s is not active' % manager.unit)
            continue
        active.add(name)
        if name == 'networkd':
            links = _networkd_links(run_command)
            if not links:
                notes.append('systemd-networkd is active but configures no link')
                continue
            found[name] = 'systemd-networkd is active and configures %s' % ', '.join(links)
        elif name == 'ifupdown':
            interfaces = _ifupdown_interfaces(paths['ifstate'])
            if not interfaces:
                notes.append('networking.service is active but ifupdown brought up no interface besides lo')
                continue
            found[name] = 'ifupdown (networking.service) is active and brought up %s' % ', '.join(interfaces)
        else:
            found[name] = 'NetworkManager is active'
    return found, active, notes


def choose(params, run_command, paths=None):
    """The persistent store of the task (:class:`Choice`), or None with ``persistent: false``."""
    if not params.get('persistent', True):
        return None
    wanted = params.get('persistent_store') or 'auto'
    found, active, notes = managing(run_command, paths)
    seen = '; '.join([found[name] for name in sorted(found)] + notes)
    if wanted == 'auto':
        if len(found) != 1:
            what = 'no network manager manages' if not found else 'several network managers manage'
            return Choice(None, seen, 'persistent_store auto: %s this host (%s), so no file is sure to bring the '
                                      'tunnel back at boot; set persistent_store to the manager that does, or '
                                      'persistent: false' % (what, seen))
        name = list(found)[0]
        why = found[name]
    else:
        name = wanted
        why = found.get(name)
        if why is None and name in active:  # it may not manage a link yet: ours is the first
            why = '%s is active (chosen by persistent_store)' % MANAGERS[name].label
        if why is None:
            return Choice(name, seen, 'persistent_store %s: %s does not run on this host (%s): nothing would read its '
                                      'files at boot; choose the manager that runs, or persistent: false'
                                      % (name, MANAGERS[name].label, seen))
    problem = MANAGERS[name].store_class().host_problem(_directory(name, params), run_command)
    if problem is not None:
        return Choice(name, why, 'persistent_store %s: %s' % (name, problem))
    return Choice(name, why)


def _directory(name, params):
    directory = params.get(MANAGERS[name].dir_option)
    return MANAGERS[name].default_dir if directory is None else directory


def store_for(choice, params, run_command):
    """The store of ``choice`` over the directory its option names (``''`` is refused by the store)."""
    return MANAGERS[choice.name].store_class()(_directory(choice.name, params), run_command)


class Refused(object):
    """The persistent store of a task whose choice was refused: ``problem`` says why. It is never
    read or written (the task fails on the problem first); every object is persistable, so the
    fields' own errors are reported with the problem."""

    manager = None

    def __init__(self, problem):
        self.problem = problem

    @staticmethod
    def check_persistable(obj):
        return None


def open_persistent(params, run_command, paths=None):
    """The task's persistent store: None with ``persistent: false``, else the chosen manager's
    store, or :class:`Refused`."""
    choice = choose(params, run_command, paths)
    if choice is None:
        return None
    if choice.problem is not None:
        return Refused(choice.problem)
    return store_for(choice, params, run_command)
