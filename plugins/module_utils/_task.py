# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The task layer around the engine, for modules that manage objects by a key: one object named
by its key option (``name: he0``), or several under a bulk option (``tunnels: [...]``) where the
module offers one (``dhcpv6_server`` manages one interface per task and has none).

A :class:`Task` says which options those are and what the result calls the object; from that
it makes the argument spec, reads the task's objects (each error of each object, in one
message), and shapes the result of :func:`_engine.run`. What is a module's own stays with it:
its field table, its stores, how one object is made canonical and the rules across objects.
"""

from __future__ import annotations

import copy

from ansible_collections.edgenet.router.plugins.module_utils._engine import RUNTIME, overlaid
from ansible_collections.edgenet.router.plugins.module_utils._names import inventory_name_problem, quoted

# The option every task offers (see _confirm).
CONFIRM_OPTION = {'confirm_timeout': {'type': 'int'}}

# The option each object of a task with ``pairs`` offers: the inventory name of the host at the
# object's far end (a tunnel's, a pseudowire's). It is an option of the task, not a field of the
# object's table: a table field becomes a key of what every store reads (stores build their
# objects from the table), and no store holds it. The module checks its shape and returns it in
# ``peers``, where the drift_report callback finds both ends of a pair.
PEER = 'peer'

__all__ = ['PEER', 'Task']


class Task(object):
    """A keyed-object task.

    ``table`` is the object's field table; ``key`` the option naming one object (required in each
    item of ``bulk``, and in the task itself when ``bulk`` is None: no bulk form); ``result`` what
    the result calls one object (``tunnel``; the bulk result adds an ``s``); ``error`` the
    module's error class; ``common`` the options that apply to the whole task; ``purge`` offers
    ``purge: true`` (with the bulk form only); ``check_key(key)`` raises ``error`` for a key that
    cannot name an object; ``required_if`` the module's own rules of that kind between object
    options (AnsibleModule's form). Every task offers ``confirm_timeout`` (see ``_confirm``): its
    module builds the ``Pending`` rollback and hands it to the engine. ``pairs`` gives each object
    the option ``peer`` (see :data:`PEER`) and the result ``peers``.
    """

    def __init__(self, table, key, bulk, result, error, common, check_key, purge=False, required_if=(), pairs=False):
        if purge and bulk is None:
            raise ValueError('purge needs a bulk form: it removes what the bulk list leaves out')
        self.table = table
        self.key = key
        self.bulk = bulk
        self.result_key = result
        self.error = error
        self.common = common
        self.check_key = check_key
        self.purge = purge
        self.required_if = list(required_if)
        self.pairs = pairs

    def object_options(self):
        """The options of one object: the table's (with ``state``), and ``peer`` with ``pairs``."""
        options = self.table.object_options()
        if self.pairs:
            options[PEER] = {'type': 'str'}
        return options

    def argument_spec(self):
        spec = self.object_options()
        if self.bulk is not None:
            spec[self.key]['required'] = False
            spec[self.bulk] = {'type': 'list', 'elements': 'dict', 'options': self.object_options()}
            spec[self.bulk]['options'][self.key]['required'] = True
        else:
            spec[self.key]['required'] = True
        if self.purge:
            spec['purge'] = {'type': 'bool', 'default': False}
        spec.update(copy.deepcopy(self.common))
        spec.update(copy.deepcopy(CONFIRM_OPTION))
        return spec

    def module_kwargs(self):
        kwargs = {
            'argument_spec': self.argument_spec(),
            'supports_check_mode': True,
        }
        if self.bulk is not None:
            kwargs['required_one_of'] = [(self.key, self.bulk)]
            kwargs['mutually_exclusive'] = [(self.key, self.bulk)]
        required_if = list(self.required_if)
        if self.purge:
            required_if.append(('purge', True, (self.bulk,)))
        if required_if:
            kwargs['required_if'] = required_if
        return kwargs

    def bulk_form(self, params):
        """True when the task names its objects in the bulk list."""
        return self.bulk is not None and params.get(self.bulk) is not None

    def requested(self, params):
        """The objects the task names, as parameter dicts with every object option (single form or
        bulk form). AnsibleModule fills the defaults already; doing it here keeps the task whole
        for callers that pass plain dicts (unit tests, roles' action code)."""
        defaults = dict((name, spec.get('default')) for name, spec in self.object_options().items())
        items = params[self.bulk] if self.bulk_form(params) else [params]
        return [overlaid(defaults, item) for item in items]

    def desired_set(self, params, canonical, across=None):
        """Task -> ``{key: canonical dict, or None for state=absent}``. ``canonical(item)`` makes one
        object canonical; ``across(desired)`` returns the problems between objects. Every error is
        found, not just the first, and raised as one ``error``."""
        desired, errors = {}, []
        for item in self.requested(params):
            try:
                self.check_key(item.get(self.key))
                key = item[self.key]
                if key in desired:
                    raise self.error('%s %s is listed twice' % (self.table.kind, key))
                self._check_peer(key, item.get(PEER))
                desired[key] = None if item.get('state', 'present') == 'absent' else canonical(item)
            except self.error as exc:
                errors.append(str(exc))
        if across is not None:
            errors += across(desired)
        if errors:
            raise self.error('; '.join(errors))
        return desired

    def _check_peer(self, key, peer):
        if peer is None:
            return
        problem = inventory_name_problem(peer)
        if problem is not None:
            raise self.error('%s %s: peer %s is not an inventory host name: %s; give the name the inventory has for the '
                             'host at the other end (the tunnel_end filter sets it)' % (self.table.kind, key, quoted(peer), problem))

    def peers(self, params):
        """``{key: peer}`` of the task's objects that name their far end's host."""
        if not self.pairs:
            return {}
        # The task's own items, not requested(): an item without peer has none, and filling every
        # item's defaults again cost a bulk task of 1000 a millisecond and more for nothing.
        items = params[self.bulk] if self.bulk_form(params) else [params]
        return dict((item[self.key], item[PEER]) for item in items if item.get(PEER) is not None)

    def result(self, params, outcome, confirm=None):
        """The module result from :func:`_engine.run`'s outcome: the change, and the objects as the
        runtime store holds them (one object under ``result``, the bulk form under its plural);
        ``confirm``, the rollback ``confirm_timeout`` scheduled, when there is one; ``peers``
        (:meth:`peers`), when an object names its far end's host."""
        result = {
            'changed': outcome['changed'],
            'diff': {'before': outcome['before'], 'after': outcome['after']},
            'commands': outcome['commands'],
            'changes': outcome['changes'],
        }
        if confirm is not None and confirm.result() is not None:
            result['confirm'] = confirm.result()
        peers = self.peers(params)
        if peers:
            result['peers'] = peers
        after = outcome['after']
        if not self.bulk_form(params):
            key = params[self.key]
            result['diff'] = {'before': outcome['before'][key], 'after': after[key]}
            result[self.result_key] = after[key].get(RUNTIME)  # None also when the task has no runtime store
        else:
            result[self.result_key + 's'] = dict((key, views.get(RUNTIME)) for key, views in after.items())
        return result
