# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The read -> plan -> apply -> re-read cycle every module of the collection runs.

A managed object (a tunnel, a session, a DHCPv6 interface service) is described by an
:class:`ObjectTable` of :class:`Field` rows. It lives in one or more *stores* (the kernel at
runtime, files that bring it back at boot). Each store reads its objects as plain normalised
dicts keyed by object key; :func:`plan` compares them with what the task asks for and yields
:class:`Change` rows; :func:`apply` runs them in a fixed order with a journal and undoes what it
did, in reverse, on the first error.

Nothing here touches the system: stores do (see ``_netlink.py``, ``_networkd.py``).
"""

from __future__ import annotations

import contextlib
import copy
import functools

__all__ = [
    'ApplyError',
    'Change',
    'Field',
    'ObjectTable',
    'PlanError',
    'Store',
    'apply',
    'plan',
    'run',
    'secret_texts',
    'CREATE',
    'MODIFY',
    'RECREATE',
    'DELETE',
    'SETTLE',
    'VERIFY',
    'Unkept',
    'undo',
    'unkept',
    'CONFIRM',
    'IN_PLACE',
    'RUNTIME',
    'PERSISTENT',
    'SECRET_MASK',
]

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
    in a message would hide the message, and a secret that short is no secret."""
    names = table.secret_names()
    texts = set()
    for snapshot in snapshots:
        for obj in snapshot.values():
            if not isinstance(obj, dict):
                continue
            for name in names:
                value = obj.get(name)
                if value is not None and len(str(value)) >= 4:
                    texts.add(str(value))
    return texts


class Field(object):
    """One row of an object's field table.

    ``normalise(value)`` turns user text or a store's raw value into the canonical form both
    sides are compared in; it must be idempotent. ``stores`` names where the field lives;
    ``update`` is ``in_place`` or ``recreate`` (the kernel cannot change it without replacing
    the object). ``secret`` values are masked in diffs and commands and become ``no_log``.
    ``compare`` False means the field is written but never reported as drift (e.g. a value
    the kernel does not report back); a callable ``compare(have, wanted)`` says when a store's
    value counts as the wanted one (e.g. a timeout the kernel keeps in its own units).
    ``extra`` carries store-specific names (netlink attribute, file key, iproute2 keyword) so
    those tables stay next to the field.
    """

    def __init__(self, name, type='str', default=None, normalise=None, stores=(RUNTIME, PERSISTENT),
                 update=IN_PLACE, secret=False, choices=None, elements=None, aliases=None,
                 required=False, compare=True, options=None, **extra):
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
        self.extra = extra

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
        if self.secret:
            spec['no_log'] = True
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
        """Canonical dict of the table's fields; ``None`` means "not managed by this task"."""
        get = values.get
        return {f.name: f.canonical(get(f.name)) for f in self.fields}

    def project(self, obj, store):
        """The part of ``obj`` that lives in ``store``."""
        if obj is None:
            return None
        return {f.name: obj[f.name] for f in self.fields if store in f.stores and f.name in obj}

    def secret_names(self):
        return set(f.name for f in self.fields if f.secret)


class Change(object):
    """One step of a plan: ``action`` on object ``key`` in ``store``.

    ``before`` and ``after`` are the store's full normalised views of the object (``None`` when
    absent); ``fields`` maps each differing field to ``(before, after)``.
    """

    def __init__(self, store, key, action, before, after, fields=None):
        self.store = store
        self.key = key
        self.action = action
        self.before = before
        self.after = after
        self.fields = fields or {}

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

    # True: when a rollback undoes writes this store had already settled, the engine calls
    # :meth:`settle_again` after the undo, so the restored state takes effect the same way.
    settles_again = False

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
        with ``batches``. Returns one outcome per write tried: None (done) or the exception
        that write raised. A store may go on past a failed write (the kernel does, within one
        batch): every write reported done is undone on rollback. This default is one write at
        a time, stopping at the first error."""
        outcomes = []
        for action, key, before, after in writes:
            try:
                self.write(action, key, before, after)
            except Exception as exc:  # pylint: disable=broad-except
                outcomes.append(exc)
                break
            outcomes.append(None)
        return outcomes

    def commands(self, change):
        """Human-readable equivalent commands for ``change`` (iproute2, file edits...)."""
        return []


def _mask(name, value, secrets):
    if name in secrets and value is not None:
        return SECRET_MASK
    return value


def _differences(table, store, before, desired):
    """Fields whose desired value is set and differs from ``before``."""
    fields = {}
    for field in table:
        if store not in field.stores or not field.compare:
            continue
        wanted = desired.get(field.name)
        if wanted is None:
            continue
        if not field.same(before.get(field.name), wanted):
            fields[field.name] = (before.get(field.name), wanted)
    return fields


def _merged(before, desired):
    after = dict(before or {})
    for name, value in desired.items():
        if value is not None:
            after[name] = value
    return after


def plan(table, stores, desired, current, recreate='allowed'):
    """Compute the list of changes turning ``current`` into ``desired``.

    ``desired`` maps object key to a normalised dict (``None`` values: leave as found) or to
    ``None`` (the object must be absent). ``current`` maps store name to that store's
    ``read()``. Changes come in apply order: deletions first (runtime before persistent, so
    nothing at boot brings back what is being removed), then creations and modifications
    (persistent before runtime, so a failed runtime step can be undone from the files).
    A recreate with ``recreate='never'`` raises :class:`PlanError`.
    """
    removals, updates = [], []
    refused = []
    secrets = table.secret_names()
    for key in sorted(desired):
        want = desired[key]
        for store in stores:
            have = current[store].get(key)
            if want is None:
                if have is not None:
                    removals.append(Change(store, key, DELETE, have, None))
                continue
            want_here = table.project(want, store)
            if have is None:
                after = dict((k, v) for k, v in want_here.items() if v is not None)
                updates.append(Change(store, key, CREATE, None, after,
                                      dict((k, (None, v)) for k, v in after.items())))
                continue
            fields = _differences(table, store, have, want_here)
            if not fields:
                continue
            action = MODIFY
            if any(table[name].update == RECREATE for name in fields):
                action = RECREATE
                if recreate == 'never':
                    refused.append('%s (%s: %s)' % (key, store, ', '.join(
                        '%s %r -> %r' % (n, _mask(n, b, secrets), _mask(n, a, secrets))
                        for n, (b, a) in sorted(fields.items())
                        if table[n].update == RECREATE)))
            updates.append(Change(store, key, action, have, _merged(have, want_here), fields))
    if refused:
        raise PlanError('Changing these fields requires deleting and re-creating the object, '
                        'which recreate=never forbids: %s' % '; '.join(refused))
    order = dict((store, i) for i, store in enumerate(stores))
    removals.sort(key=lambda c: (-order[c.store], c.key))
    updates.sort(key=lambda c: (order[c.store], c.key))
    return removals + updates


class Unkept(Exception):
    """A store read back other than what was just written to it (see :func:`unkept`)."""


def unkept(table, changes, reread, verified):
    """One line per object and field that a store in ``verified`` does not hold as ``changes``
    wrote it, by the field's comparison, in ``reread`` (the stores' read after the apply).
    Secret values are masked."""
    secrets = table.secret_names()
    problems = []
    for change in changes:
        if change.store not in verified:
            continue
        got = reread[change.store].get(change.key)
        if change.action == DELETE:
            if got is not None:
                problems.append('%s %s is still there after its delete' % (change.store, change.key))
            continue
        if got is None:
            problems.append('%s %s is not there after its %s' % (change.store, change.key, change.action))
            continue
        for name, (dummy, wanted) in sorted(change.fields.items()):
            field = table[name]
            if wanted is None or not field.compare or change.store not in field.stores:
                continue
            if not field.same(got.get(name), wanted):
                problems.append('%s %s: %s reads back as %r, not the %r written' % (
                    change.store, change.key, name, _mask(name, got.get(name), secrets), _mask(name, wanted, secrets)))
    return problems


def _steps(change):
    """A recreate is a delete then a create; everything else is one primitive write."""
    if change.action == RECREATE:
        return [(DELETE, change.before, None), (CREATE, None, change.after)]
    return [(change.action, change.before, change.after)]


def _write(store, action, key, before, after):
    store.write(action, key, before, after)


_INVERSE = {CREATE: DELETE, DELETE: CREATE, MODIFY: MODIFY}


def apply(stores, changes, verify=None, confirm=None):
    """Run ``changes`` against ``stores`` (name -> Store), undoing in reverse on failure.

    ``verify()``, when given, runs after the stores settled and raises :class:`Unkept` when a
    store does not hold what was written: that rolls everything back too. ``confirm(records)``,
    when given, runs last with the journal as data (see :func:`undo`) so that something outside
    this process can roll the change back later; if it raises, the change is rolled back now.
    Returns the number of primitive writes. Raises :class:`ApplyError` after the rollback.
    """
    journal = []
    steps = [(change, action, before, after) for change in changes for action, before, after in _steps(change)]
    start = 0
    while start < len(steps):
        store = stores[steps[start][0].store]
        end = start + 1
        while end < len(steps) and steps[end][0].store == steps[start][0].store:
            end += 1
        run, start = steps[start:end], end
        if store.batches:
            _apply_batch(store, run, journal)
            continue
        for change, action, before, after in run:
            restore = store.snapshot(change.key)
            try:
                _write(store, action, change.key, before, after)
            except Exception as exc:  # pylint: disable=broad-except
                # The write may have half-happened: a snapshot undoes that too.
                if restore is not None:
                    journal.append(('%s %s' % (change.store, change.key), restore, None))
                raise _rollback(journal, exc, change)
            _journal(journal, store, change, action, before, after, restore)
    _settle(stores, steps, journal)
    if verify is not None:
        try:
            verify()
        except Unkept as exc:
            raise _rollback(journal, exc, Change(None, None, VERIFY, None, None))
    if confirm is not None:
        try:
            confirm([record for dummy, dummy, record in journal])
        except Exception as exc:  # pylint: disable=broad-except
            raise _rollback(journal, exc, Change(None, None, CONFIRM, None, None))
    return len(journal)


def _settle(stores, steps, journal):
    """Each store that was written settles once, in the order it was first written."""
    written = []
    for change, dummy, dummy, dummy in steps:
        if change.store not in written:
            written.append(change.store)
    for name in written:
        try:
            stores[name].settle()
        except Exception as exc:  # pylint: disable=broad-except
            raise _rollback(journal, exc, Change(name, None, SETTLE, None, None))
        if stores[name].settles_again:
            # First in the journal, so undone last: after the writes it would make take effect.
            journal.insert(0, ('%s store settled again' % name, stores[name].settle_again,
                               {'store': name, 'undo': SETTLE, 'description': '%s store settled again' % name}))


def _journal(journal, store, change, action, before, after, restore=None):
    """One done write into the journal: how to undo it here (the store's snapshot, else the
    inverse write) and the same as data for :func:`undo` (a snapshot's ``record()`` when it has
    one, else the inverse write: after a completed write the two put back the same object)."""
    description = '%s %s %s' % (change.store, change.key, _undo_word(action))
    inverse = (_INVERSE[action], change.key, after, before)
    if restore is None:
        restore = functools.partial(_write, store, *inverse)
    if callable(getattr(restore, 'record', None)):
        record = {'store': change.store, 'undo': 'restore', 'record': restore.record()}
    else:
        record = {'store': change.store, 'undo': 'write', 'write': list(inverse)}
    record['description'] = description
    journal.append((description, restore, record))


def _apply_batch(store, run, journal):
    """A run of writes handed to a batching store at once; each write it reports done goes
    into the journal (those after a failed one too: the kernel went on), then the first
    failure rolls everything back."""
    outcomes = store.write_many([(action, change.key, before, after) for change, action, before, after in run])
    failed = None
    for (change, action, before, after), error in zip(run, outcomes):
        if error is None:
            _journal(journal, store, change, action, before, after)
        elif failed is None:
            failed = (error, change)
    if failed is not None:
        raise _rollback(journal, *failed)


def _undo_word(action):
    return {CREATE: 'removed again', DELETE: 'put back', MODIFY: 'set back'}[action]


def _undo_all(journal):
    restored, unrestored = [], []
    for description, restore, dummy in reversed(journal):
        try:
            restore()
            restored.append(description)
        except Exception as undo_exc:  # pylint: disable=broad-except
            unrestored.append('%s (%s)' % (description, undo_exc))
    return restored, unrestored


def _rollback(journal, exc, change):
    return ApplyError(exc, change, *_undo_all(journal))


def undo(stores, records):
    """Roll back a change from the journal :func:`apply` handed to ``confirm``, in another process
    and maybe minutes later: ``records`` in the order apply wrote them, undone in reverse against
    ``stores`` (name -> Store, built anew from the task's options). Every record goes through
    the store's own writes, so a record cannot make a store write anything its objects could
    not. Returns ``(restored, unrestored)`` like an :class:`ApplyError`; raises ``ValueError``,
    before undoing anything, for a record that is not one apply could have written."""
    journal = []
    for record in records:
        if not isinstance(record, dict) or record.get('store') not in stores:
            raise ValueError('a journal record names no store of this task: %r' % (record,))
        store = stores[record['store']]
        kind = record.get('undo')
        if kind == 'write':
            action, key, before, after = record['write']
            if action not in _INVERSE or not isinstance(key, str):
                raise ValueError('a journal record holds no write: %r' % (record['write'],))
            restore = functools.partial(_write, store, action, key, before, after)
        elif kind == 'restore':
            restore = functools.partial(store.restore_record, record['record'])
        elif kind == SETTLE:
            restore = store.settle_again
        else:
            raise ValueError('a journal record of an unknown kind: %r' % (kind,))
        journal.append((str(record.get('description', kind)), restore, record))
    return _undo_all(journal)


def predict(stores, current, changes):
    """What each store will hold after ``changes``: check mode's ``after``.

    The stores' maps are copied, not the objects in them: nothing downstream mutates an object
    (``view`` builds new dicts), and a deep copy of every object cost more than the rest of a
    no-op check of 1000 tunnels under emulation. Changed objects are deep-copied."""
    after = dict((store, dict(objects)) for store, objects in current.items())
    for change in changes:
        if change.action == DELETE:
            after[change.store].pop(change.key, None)
        else:
            after[change.store][change.key] = copy.deepcopy(change.after)
    return after


def view(table, stores, snapshot, keys):
    """``{key: {store: object or None}}`` for ``keys``, secrets masked: the diff's shape."""
    secrets = table.secret_names()
    out = {}
    for key in sorted(keys):
        out[key] = {}
        for store in stores:
            obj = snapshot[store].get(key)
            if obj is None:
                out[key][store] = None
            elif secrets:
                out[key][store] = dict((name, _mask(name, value, secrets)) for name, value in sorted(obj.items()))
            else:
                out[key][store] = dict(sorted(obj.items()))
    return out


def run(table, stores, desired, check_mode=False, recreate='allowed', confirm=None):
    """The whole cycle. ``stores`` is an ordered list of Store objects (persistent first).

    Returns a dict with ``changed``, ``changes`` (plan rows as dicts), ``before``/``after``
    views (per object, per store), ``commands`` and ``after_objects`` (the raw after
    snapshot). In check mode ``after`` is the prediction; otherwise the stores are re-read.
    ``changed`` is computed from the plan alone, so it is the same in both modes. ``confirm``
    goes to :func:`apply` (a real run with changes only).
    """
    names = [s.name for s in stores]
    by_name = dict((s.name, s) for s in stores)
    with contextlib.ExitStack() as held:
        if not check_mode:  # taking a lock may create its file: check mode writes nothing
            for store in stores:
                held.enter_context(store.locked())
        current = dict((s.name, s.read()) for s in stores)
        for store in stores:
            store.prepare(desired, current[store.name])
        changes = plan(table, names, desired, current, recreate=recreate)
        if check_mode or not changes:
            after = predict(names, current, changes)
        else:
            reread = {}

            def verify():
                # The re-read for the result, and the proof that the stores took the change.
                reread.update((s.name, s.read()) for s in stores)
                problems = unkept(table, changes, reread, set(s.name for s in stores if s.verifies))
                if problems:
                    raise Unkept('; '.join(problems))
            try:
                apply(by_name, changes, verify, confirm)
            except ApplyError as exc:
                exc.mask(secret_texts(table, desired, *current.values()))
                raise
            after = reread
    secrets = table.secret_names()
    commands = []
    for change in changes:
        commands.extend(by_name[change.store].commands(_masked_change(change, secrets)))
    keys = set(desired)
    return {
        'changed': bool(changes),
        'changes': [c.as_dict(secrets) for c in changes],
        'before': view(table, names, current, keys),
        'after': view(table, names, after, keys),
        'commands': commands,
        'after_objects': after,
    }


def _masked_change(change, secrets):
    if not secrets:
        return change

    def masked(obj):
        if obj is None:
            return None
        return dict((k, _mask(k, v, secrets)) for k, v in obj.items())

    return Change(change.store, change.key, change.action, masked(change.before), masked(change.after),
                  dict((n, (_mask(n, b, secrets), _mask(n, a, secrets))) for n, (b, a) in change.fields.items()))
