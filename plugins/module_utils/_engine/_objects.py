# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The engine's vocabulary: actions and store names, its errors, the field table (:class:`Field`,
:class:`ObjectTable`), a plan's :class:`Change` and the :class:`Store` interface every store
implements. No logic that touches a store lives here (see ``_plan`` and ``_apply``)."""

from __future__ import annotations

import contextlib
import copy

__all__ = ['CREATE', 'MODIFY', 'RECREATE', 'DELETE', 'SETTLE', 'VERIFY', 'CONFIRM', 'IN_PLACE', 'RUNTIME', 'PERSISTENT',
           'SECRET_MASK', 'PlanError', 'ApplyError', 'Unkept', 'secret_texts', 'Field', 'ObjectTable', 'Change', 'Store',
           'PutStore', 'overlaid']

CREATE = 'create'
MODIFY = 'modify'
RECREATE = 'recreate'
DELETE = 'delete'
# Not a plan action: the step after a store's last write that makes its writes take effect.
SETTLE = 'settle'
# Not a plan action either: the check, on the re-read, that the stores hold what was written.
VERIFY = 'verify'
# Nor this: handing the journal, as data, to what rolls the change back unless it is confirmed.
CONFIRM = 'confirm'

IN_PLACE = 'in_place'

RUNTIME = 'runtime'
PERSISTENT = 'persistent'

SECRET_MASK = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


class PlanError(Exception):
    """The task cannot be carried out as asked; raised before anything is touched."""


class ApplyError(Exception):
    """A store failed mid-apply. ``restored`` lists what the rollback put back,
    ``unrestored`` what it could not (with the reason)."""

    def __init__(self, error, change, restored, unrestored):
        self.error = error
        self.change = change
        self.restored = restored
        self.unrestored = unrestored
        super(ApplyError, self).__init__(self._message(str(error)))

    def _message(self, error_text):
        change = self.change
        if change.action == SETTLE:
            msg = 'The writes to the %s store did not take effect: %s' % (change.store, error_text)
        elif change.action == VERIFY:
            msg = 'A store did not keep what was written: %s' % error_text
        elif change.action == CONFIRM:
            msg = 'Could not schedule the rollback that confirm_timeout asks for: %s' % error_text
        else:
            msg = 'Failed to %s %s in the %s store: %s' % (change.action, change.key, change.store, error_text)
        if self.restored:
            msg += '. Rolled back: %s' % '; '.join(self.restored)
        if self.unrestored:
            msg += '. COULD NOT ROLL BACK: %s' % '; '.join(self.unrestored)
        return msg

    def mask(self, values):
        """Hide every text in ``values`` (secret field values) wherever a store's error or an
        undo's reason quoted it: Ansible masks only the task's raw ``no_log`` texts, not the
        normalised forms the stores see (a cookie given as ``0x1A2B`` is ``1a2b`` here)."""
        self.unrestored = [_scrub(text, values) for text in self.unrestored]
        self.args = (_scrub(self._message(str(self.error)), values),)


def _scrub(text, values):
    # Longest first, so a secret that contains a shorter one is hidden whole.
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, SECRET_MASK)
    return text


def secret_texts(table, *snapshots):
    """The texts of every secret field value in ``snapshots`` (``{key: obj}`` maps or objects),
    for :meth:`ApplyError.mask`. Texts under four characters are left out: replacing every "1"
    in a message would hide the message, and a secret that short is no secret. So are a field's
    ``shown`` values (a cookie's ``none``), which say there is no secret."""
    names = table.secret_names()
    texts = set()
    for snapshot in snapshots:
        for obj in snapshot.values():
            if not isinstance(obj, dict):
                continue
            for name in names:
                value = obj.get(name)
                if value is not None and len(str(value)) >= 4 and value not in _shown(names, name):
                    texts.add(str(value))
    return texts


class SecretNames(frozenset):
    """The names of a table's secret fields (a frozenset, as callers test ``name in secrets``),
    with ``shown``: per name, the values that are no secret and stay visible."""

    def __new__(cls, fields):
        fields = list(fields)
        names = super(SecretNames, cls).__new__(cls, (f.name for f in fields))
        names.shown = dict((f.name, tuple(f.shown)) for f in fields if f.shown)
        return names


def _shown(secrets, name):
    return getattr(secrets, 'shown', {}).get(name, ())


class Field(object):
    """One row of an object's field table.

    ``normalise(value)`` turns user text or a store's raw value into the canonical form both
    sides are compared in; it must be idempotent. ``stores`` names where the field lives;
    ``update`` is ``in_place`` or ``recreate`` (the kernel cannot change it without replacing
    the object). ``secret`` values are masked in diffs and commands and become ``no_log``;
    ``secret=False``, said outright, is a field whose name sounds secret but is not (a GRE key):
    its option says ``no_log: False``, as Ansible wants such an option to say.
    ``shown`` lists values of a secret field that are no secret and stay visible: the word for
    "no cookie" (``none``) says only that there is none, which every packet's length shows, and
    a drift report can then tell one end with a cookie from one without.
    ``compare`` False means the field is written but never reported as drift (e.g. a value
    the kernel does not report back); a callable ``compare(have, wanted)`` says when a store's
    value counts as the wanted one (e.g. a timeout the kernel keeps in its own units).
    ``extra`` carries store-specific names (netlink attribute, file key, iproute2 keyword) so
    those tables stay next to the field.
    """

    def __init__(self, name, type='str', default=None, normalise=None, stores=(RUNTIME, PERSISTENT),
                 update=IN_PLACE, secret=None, choices=None, elements=None, aliases=None,
                 required=False, compare=True, options=None, shown=(), **extra):
        self.name = name
        self.type = type
        self.default = default
        self.normalise = normalise
        self.stores = tuple(stores)
        self.update = update
        self.secret = secret
        self.choices = choices
        self.elements = elements
        self.aliases = aliases
        self.required = required
        self.compare = compare
        self.options = options
        self.shown = tuple(shown)
        self.extra = extra
        if self.shown and not secret:
            raise ValueError('field %s: shown values are for secret fields only' % name)

    def same(self, have, wanted):
        """Whether ``have`` (a store's value) counts as ``wanted``: equal, or equal by the
        field's own ``compare``."""
        if callable(self.compare):
            return have == wanted or (have is not None and wanted is not None and bool(self.compare(have, wanted)))
        return have == wanted

    def argument_spec(self):
        spec = {'type': self.type}
        for key in ('default', 'choices', 'elements', 'aliases', 'options'):
            value = getattr(self, key)
            if value is not None:
                spec[key] = copy.deepcopy(value)
        if self.required:
            spec['required'] = True
        if self.secret is not None:
            spec['no_log'] = bool(self.secret)
        return spec

    def canonical(self, value):
        if value is None or self.normalise is None:
            return value
        return self.normalise(value)


class ObjectTable(object):
    """The field table of one kind of managed object."""

    def __init__(self, kind, fields):
        self.kind = kind
        self.fields = list(fields)
        self.by_name = dict((f.name, f) for f in self.fields)
        if len(self.by_name) != len(self.fields):
            raise ValueError('duplicate field in %s table' % kind)
        self._blank = dict.fromkeys(f.name for f in self.fields)   # see normalise
        self._normalisers = [(f.name, f.normalise) for f in self.fields if f.normalise is not None]
        self._in_store = {}   # store name -> its fields (see in_store)
        self._compared = {}   # store name -> (name, field) of its compared fields (see compared_in)
        self._secrets = None   # see secret_names

    def __iter__(self):
        return iter(self.fields)

    def __getitem__(self, name):
        return self.by_name[name]

    def argument_spec(self):
        return dict((f.name, f.argument_spec()) for f in self.fields)

    def object_options(self):
        """The argument spec of one object in a task: its fields plus ``state``. Modules use it
        for the single form and for each item of their bulk list."""
        options = self.argument_spec()
        options['state'] = {'type': 'str', 'default': 'present', 'choices': ['present', 'absent']}
        return options

    def normalise(self, values):
        """Canonical dict of the table's fields; ``None`` means "not managed by this task".
        The same as each field's :meth:`Field.canonical`, with the normalisers looked up once per
        table: a bulk task normalises every field of every object (26 of 1000 tunnels), and the
        method call per field was a third of it."""
        out = overlaid(self._blank, values)
        for name, normalise in self._normalisers:
            if out[name] is not None:
                out[name] = normalise(out[name])
        return out

    def in_store(self, store):
        """The fields that live in ``store``, in table order (found once per store: plan asks for
        each object)."""
        fields = self._in_store.get(store)
        if fields is None:
            fields = self._in_store[store] = [f for f in self.fields if store in f.stores]
        return fields

    def compared_in(self, store):
        """``(name, field)`` of the fields of ``store`` that are compared (``compare`` set), in
        table order: plan looks at each of every object's (found once per store)."""
        compared = self._compared.get(store)
        if compared is None:
            compared = self._compared[store] = [(f.name, f) for f in self.in_store(store) if f.compare]
        return compared

    def project(self, obj, store):
        """The part of ``obj`` that lives in ``store``."""
        if obj is None:
            return None
        return {f.name: obj[f.name] for f in self.in_store(store) if f.name in obj}

    def secret_names(self):
        """:class:`SecretNames` of the secret fields (with the values each shows), made once: the
        result masks each change with them (a bulk task of 1000 tunnels asked 2000 times)."""
        if self._secrets is None:
            self._secrets = SecretNames(f for f in self.fields if f.secret)
        return self._secrets


def overlaid(template, values):
    """A copy of ``template`` with ``values``' entries for its keys (the others left out). A copy
    of a made dict has every key at once, where adding them one by one grows the dict as it goes:
    a bulk task does this for each field of 1000 items, twice (their defaults, their canonical
    form)."""
    out = template.copy()
    for name, value in values.items():
        if name in out:
            out[name] = value
    return out


class Change(object):
    """One step of a plan: ``action`` on object ``key`` in ``store``.

    ``before`` and ``after`` are the store's full normalised views of the object (``None`` when
    absent); ``fields`` maps each differing field to ``(before, after)``. ``level`` is how deep
    the object is nested in a run of several tables (:class:`Part`): 0 for a container (an L2TP
    tunnel), 1 for what it contains (its sessions); apply deletes deeper objects first and
    creates them last.
    """

    def __init__(self, store, key, action, before, after, fields=None, level=0):
        self.store = store
        self.key = key
        self.action = action
        self.before = before
        self.after = after
        self.fields = fields or {}
        self.level = level
        # a recreate's: the task's values for the object (set by plan), all of which verify checks
        self.wanted = None

    def as_dict(self, secrets=()):
        fields = dict((name, {'before': _mask(name, b, secrets), 'after': _mask(name, a, secrets)})
                      for name, (b, a) in self.fields.items())
        return {'store': self.store, 'object': self.key, 'action': self.action, 'fields': fields}

    def __repr__(self):
        return 'Change(%s, %s, %s, %r)' % (self.store, self.key, self.action, sorted(self.fields))


class Store(object):
    """Where objects live. Subclasses implement read and the three writes.

    ``read()`` returns ``{key: normalised dict}`` of the objects this store can see (and may
    manage). Writes receive the store's projection of the object. ``snapshot(key)`` may return
    a callable that restores the object exactly as it was (files byte for byte); without one
    the engine undoes a write with the inverse write.
    """

    name = None
    # True: apply() hands the store each run of consecutive writes at once (write_many), so it
    # can send them to the kernel together instead of one round trip per write.
    batches = False

    def read(self):
        raise NotImplementedError

    def read_after(self, changes):
        """The read verify makes once ``changes`` (the whole run's, every store's) are applied and
        settled: :meth:`read` by default. A store may keep, from its last :meth:`read`, what none of
        ``changes`` can have touched (see ``KernelTunnels``): verify checks only the fields the
        changes wrote, and the rest is the result's ``after``."""
        return self.read()

    def prepare(self, desired, current):
        """Called by :func:`run` between the read and the plan, in check mode too, with the task's
        objects and what this store has just read: a store refuses here (by raising) what would
        clash with what the task does not manage, before anything is touched, and keeps what its
        writes will need to know. Nothing by default."""

    def create(self, key, obj):
        raise NotImplementedError

    def modify(self, key, before, after):
        raise NotImplementedError

    def delete(self, key, obj):
        raise NotImplementedError

    def snapshot(self, key):
        return None

    def restore_record(self, record):
        """Put back what a snapshot's ``record()`` saved (a commit-confirm rollback in another
        process: see :func:`undo`). Stores whose snapshots have no ``record`` never get here."""
        raise NotImplementedError

    def locked(self):
        """The context manager :func:`run` holds from the read to the end of apply in a real run,
        so two runs sharing the store (one Kea file, one networkd directory) cannot plan on the same
        state and then overwrite or roll back each other's change. Re-entrant within a process."""
        return contextlib.nullcontext()

    def settle(self):
        """Called once after every write of an apply went through, for stores whose writes take
        effect in a separate step (``networkctl reload``, ``systemctl daemon-reload``, a daemon
        reload). Raising rolls the whole apply back, so a change never stays half in effect."""

    # Seconds the engine keeps re-reading (every store) before it calls a write unkept, set by
    # :meth:`settle` when the manager it asked goes on reconfiguring in the background: networkd,
    # reloaded, takes a link it now manages, drops the addresses it finds and adds its own (the
    # same ones), so for a moment the runtime store reads none.
    settle_grace = 0

    # True: when a rollback undoes writes this store had already settled, the engine calls
    # :meth:`settle_again` after the undo, so the restored state takes effect the same way.
    settles_again = False

    # True once a settle that fails has made some writes take effect (a manager that loaded the
    # new files, then could not bring one up): the undo then settles again too, last.
    settled_in_part = False

    def settle_again(self):
        """Make what a rollback restored take effect (see ``settles_again``)."""

    # True: after a real apply, the engine's re-read of this store must show every field each
    # change wrote (by the field's comparison); if not, the whole apply is rolled back and the
    # error names the object and the field. A store whose writes take effect later (a daemon
    # started after the cycle) leaves it False.
    verifies = False

    def write(self, action, key, before, after):
        """One primitive write: the create, modify or delete that ``action`` names."""
        if action == CREATE:
            self.create(key, after)
        elif action == MODIFY:
            self.modify(key, before, after)
        else:
            self.delete(key, before)

    def write_many(self, writes):
        """Carry out ``writes`` (``(action, key, before, after)`` tuples, in order) for a store
        with ``batches``. Returns one outcome per write tried: None (done), the exception that
        write raised, or ``(exception, restore)`` for a write that may have half happened and
        whose snapshot ``restore`` undoes that. A store may go on past a failed write (the
        kernel does, within one batch): every write reported done is undone on rollback. This
        default is one write at a time, stopping at the first error."""
        outcomes = []
        for action, key, before, after in writes:
            try:
                self.write(action, key, before, after)
            except Exception as exc:  # pylint: disable=broad-except
                outcomes.append(exc)
                break
            outcomes.append(None)
        return outcomes

    def write_in_batches(self, writes, batch_item, send_batch):
        """``write_many`` for a store whose writes can go to the kernel together: each run of
        consecutive writes for which ``batch_item(action, key, before, after)`` gives an item (not
        None) goes as one ``send_batch(items)`` call, which returns one outcome per item; the
        other writes go one at a time, in order, each with its snapshot as :func:`apply` takes
        it: a lone write that fails hands back ``(exception, restore)`` so the rollback also
        undoes what it half did. Stops after the first failed batch or write."""
        outcomes, items = [], []
        for action, key, before, after in writes:
            item = batch_item(action, key, before, after)
            if item is not None:
                items.append(item)
                continue
            outcomes.extend(send_batch(items) if items else [])
            items = []
            if any(outcomes):
                return outcomes
            restore = self.snapshot(key)
            try:
                self.write(action, key, before, after)
            except Exception as exc:  # pylint: disable=broad-except
                return outcomes + [exc if restore is None else (exc, restore)]
            outcomes.append(None)
        return outcomes + (send_batch(items) if items else [])

    def commands(self, change):
        """Human-readable equivalent commands for ``change`` (iproute2, file edits...)."""
        return []


class PutStore(Store):
    """A store whose three writes are one: :meth:`put` makes ``key``'s object ``obj`` (None: none).
    Daemon configs and files are like that: the write renders the whole object, whatever it was."""

    def put(self, key, obj):
        raise NotImplementedError

    def create(self, key, obj):
        self.put(key, obj)

    def modify(self, key, before, after):
        self.put(key, after)

    def delete(self, key, obj):
        self.put(key, None)


def _mask(name, value, secrets):
    if name in secrets and value is not None and value not in _shown(secrets, name):
        return SECRET_MASK
    return value


class Unkept(Exception):
    """A store read back other than what was just written to it (see ``_plan.unkept``)."""
