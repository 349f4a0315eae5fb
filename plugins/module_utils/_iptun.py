# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""What the iptun and iptun_info modules do, kept out of the module files.

``run_iptun`` takes already-built stores, so the whole module behaviour (bulk mode, purge,
foreign links, results) is unit-tested with fake stores; the module file only wires the real
netlink and networkd stores in.
"""

from __future__ import annotations

import contextlib

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._netlink import check_netns, open_netlink
from ansible_collections.edgenet.router.plugins.module_utils._resolve import resolve_endpoint
from ansible_collections.edgenet.router.plugins.module_utils._task import Task
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TABLE, TYPES, TunnelError, desired_tunnel, check_name, route_tables
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import KernelTunnels
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_persist import OPTIONS as PERSISTENT_OPTIONS, Refused, open_persistent

__all__ = ['TASK', 'STORE_OPTIONS', 'argument_spec', 'module_kwargs', 'open_stores', 'run_iptun', 'info', 'check_info_name']

COMMON = dict({
    'persistent': {'type': 'bool', 'default': True},
    'recreate': {'type': 'str', 'default': 'allowed', 'choices': ['allowed', 'never']},
    'netns': {'type': 'str'},
}, **PERSISTENT_OPTIONS)


TASK = Task(TABLE, key='name', bulk='tunnels', result='tunnel', error=TunnelError, common=COMMON,
            check_key=check_name, purge=True, pairs=True)

# The options the stores are built from: all a commit-confirm rollback keeps of the task.
STORE_OPTIONS = ('persistent', 'netns') + tuple(PERSISTENT_OPTIONS)


@contextlib.contextmanager
def open_stores(params, run_command):
    """The task's stores, ``(KernelTunnels, the persistent store or None with persistent: false)``,
    over a netlink socket in ``netns`` held open meanwhile. The persistent store is the files of
    the host's network manager (``_tunnel_persist``; a refused choice is a ``Refused`` store that
    ``desired_set`` reports); its manager reloads them as the store's settle step: a failed reload
    rolls the task back."""
    if params.get('netns') is not None:  # '' is a mistake, not the host namespace: refuse it before anything
        check_netns(params['netns'])
    with open_netlink(params.get('netns')) as netlink:
        runtime = KernelTunnels(netlink, params.get('netns'))
        files = None
        if not params.get('netns'):  # with netns, persistent: true is refused by desired_set
            files = open_persistent(params, run_command)
        yield runtime, files


def argument_spec():
    return TASK.argument_spec()


def module_kwargs():
    return TASK.module_kwargs()


def _remembered(resolve):
    """``resolve`` answering each (text, family) once per task: a bulk task names the same
    local address for every tunnel. Errors are not kept (their message names the tunnel)."""
    known = {}

    def remembered(text, family, what):
        key = (text, family)
        if key not in known:
            known[key] = resolve(text, family, what)
        return known[key]
    return remembered


def desired_set(params, resolve=None, persistent=None):
    """Task -> ``{name: canonical dict or None}``; every error found, not just the first.
    ``persistent`` is the task's persistent store (None with ``persistent: false``): what its
    manager cannot bring back at boot is refused per tunnel."""
    resolve = _remembered(resolve or resolve_endpoint)
    # Network managers bring links back in the host's namespace only; a refused choice of store
    # (see _tunnel_persist) is a problem of the task. Both are reported after every field is
    # checked, so one run names every problem; what the store could not express is moot then.
    task_problem = None
    if params.get('netns') and params.get('persistent', True):
        task_problem = ('persistent: true is not possible with netns %s: the network managers only '
                        'create links in the host namespace, and nothing recreates a namespace\'s links at '
                        'boot; set persistent: false (it defaults to true)' % quoted(params['netns']))
    elif isinstance(persistent, Refused):
        task_problem = persistent.problem

    def canonical(item):
        obj = desired_tunnel(item, resolve)
        if persistent is not None and task_problem is None:
            persistent.check_persistable(obj)
        return obj
    try:
        desired = TASK.desired_set(params, canonical, _across)
    except TunnelError as exc:
        if task_problem is None:
            raise
        raise TunnelError('%s; %s' % (exc, task_problem))
    if task_problem is not None:
        raise TunnelError(task_problem)
    return desired


def _across(desired):
    """The rules between a task's tunnels."""
    return _same_endpoints(desired) + _shared_tables(desired)


def _same_endpoints(desired):
    """The kernel keeps one tunnel per kind, local, remote and underlay link (and input key, for
    GRE): a second one with the same fails with EEXIST halfway through the apply, so refuse it in
    the plan."""
    seen, errors = {}, []
    for name in sorted(desired):
        obj = desired[name]
        if obj is None:
            continue
        key = (TYPES[obj['type']]['kind'], obj.get('local'), obj.get('remote'), obj.get('link'), obj.get('ikey'))
        if key in seen:
            errors.append('tunnels %s and %s have the same local %s and remote %s (kind %s%s): the kernel keeps one '
                          'tunnel per local and remote address%s; merge them or change an endpoint%s'
                          % (seen[key], name, key[1], key[2], key[0],
                             '' if key[4] is None else ', input key %s' % key[4],
                             '' if key[4] is None else ' and input key',
                             '' if key[4] is None else ' or the key'))
        else:
            seen[key] = name
    return errors


def _shared_tables(desired):
    """A tunnel with rules owns the tables its routes use (its rules are read back as those leading
    there): another tunnel's routes in one of them would make both claim the rules."""
    owners, errors = {}, []
    for name in sorted(desired):
        obj = desired[name]
        for table in sorted(route_tables(obj['routes'])) if obj is not None else ():
            owners.setdefault(table, []).append(name)
    for table, names in sorted(owners.items()):
        if len(names) > 1 and any(desired[name]['rules'] for name in names):
            errors.append('tunnels %s have routes in table %d and rules: a tunnel with rules needs its tables to itself '
                          '(its rules are the ones leading there); give each its own table' % (' and '.join(names), table))
    return errors


def run_iptun(params, runtime, persistent=None, check_mode=False, resolve=None, confirm=None):
    """The iptun module's behaviour. ``runtime`` is a KernelTunnels-like store; ``persistent``
    the persistent store (NetworkdTunnels-like, or ``_tunnel_persist.Refused``) or None; ``confirm`` the commit-confirm
    rollback to schedule (``_confirm.Pending``) or None. Returns the result dict."""
    with engine.collector_paused():   # a bulk task of 1000 tunnels: see collector_paused
        desired = desired_set(params, resolve, persistent)
        foreign = sorted('%s (a %s link)' % (name, runtime.foreign_kind(name))
                         for name in desired if runtime.foreign_kind(name))
        if foreign:
            raise TunnelError('these names are held by links that are not IP tunnels, which this module '
                              'never touches: %s' % ', '.join(foreign))
        if params.get('purge'):
            ours = set(runtime.managed())
            if persistent is not None:
                ours |= set(persistent.managed())
            for name in ours - set(desired):
                desired[name] = None
        if confirm is not None and persistent is not None and persistent.manager is not None:
            # The rollback reopens the store this run chose, not whatever auto would find then.
            confirm.pin(persistent_store=persistent.manager)
        stores = [s for s in (persistent, runtime) if s is not None]
        outcome = engine.run(TABLE, stores, desired, check_mode=check_mode, recreate=params.get('recreate', 'allowed'),
                             confirm=confirm)
        result = TASK.result(params, outcome, confirm)
        result['warnings'] = _missing_kinds(outcome, runtime) if check_mode else []
        return result


def _missing_kinds(outcome, runtime):
    """Check mode's warnings: a link it would create whose kind the kernel cannot make (the real
    run fails there with EOPNOTSUPP; check mode writes nothing, so it asks the kernel side)."""
    warnings = []
    for change in outcome['changes']:
        if change['store'] != engine.RUNTIME or change['action'] not in (engine.CREATE, engine.RECREATE):
            continue
        tunnel = outcome['after'][change['object']][engine.RUNTIME]
        reason = runtime.nl.kind_missing(TYPES[tunnel['type']]['kind'])
        if reason:
            warnings.append('%s: %s' % (change['object'], reason))
    return warnings


def check_info_name(name):
    """iptun_info's ``name`` filter: a name no tunnel can have (not literal) is a mistake to
    report, not an empty answer."""
    problem = link_name_problem(name)
    if problem is not None:
        raise TunnelError('name %s is not a valid interface name: %s, and tunnel names are literal (not patterns); give one '
                          'tunnel\'s name or omit name to list all' % (quoted(name), problem))


def info(runtime, persistent=None):
    """Every tunnel in both views and where they disagree: iptun_info's result."""
    kernel = runtime.read()
    managed = runtime.managed()
    files = persistent.read() if persistent is not None else None
    return [dict(name=name, managed=name in managed or name in (files or {}), **views)
            for name, views in engine.compare_stores(TABLE, kernel, files).items()]
