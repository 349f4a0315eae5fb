# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import functools

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._engine import (
    Field, ObjectTable, PERSISTENT, RECREATE, RUNTIME,
)
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_store import (
    BatchingStore, FakeStore, StoreFailure,
)

TABLE = ObjectTable('widget', [
    Field('kind', update=RECREATE, normalise=lambda v: v.lower()),
    Field('ttl', type='int', normalise=int),
    Field('mtu', type='int', stores=(RUNTIME,)),
    Field('key', secret=True),
])

T1 = {'kind': 'ipip', 'ttl': 64, 'mtu': 1480}


def stores(runtime=None, persistent=None, **kwargs):
    return [FakeStore(PERSISTENT, persistent, **kwargs), FakeStore(RUNTIME, runtime, **kwargs)]


def desired(**values):
    return TABLE.normalise(values)


def persistent_view(obj):
    return dict((k, v) for k, v in obj.items() if k != 'mtu')


# --- plan: a table of (current runtime, current persistent, desired) -> expected actions ----------
PLAN_CASES = [
    ('create', {}, {}, {'t1': desired(kind='ipip', ttl=64)},
     [(PERSISTENT, 't1', 'create'), (RUNTIME, 't1', 'create')]),
    ('no-op', {'t1': T1}, {'t1': persistent_view(T1)}, {'t1': desired(kind='IPIP', ttl='64')}, []),
    ('unmanaged field ignored', {'t1': T1}, {'t1': persistent_view(T1)}, {'t1': desired(kind='ipip')}, []),
    ('modify in place', {'t1': T1}, {'t1': persistent_view(T1)}, {'t1': desired(kind='ipip', ttl=10)},
     [(PERSISTENT, 't1', 'modify'), (RUNTIME, 't1', 'modify')]),
    ('runtime-only drift', {'t1': dict(T1, mtu=1400)}, {'t1': persistent_view(T1)},
     {'t1': desired(kind='ipip', ttl=64, mtu=1480)}, [(RUNTIME, 't1', 'modify')]),
    ('recreate', {'t1': T1}, {'t1': persistent_view(T1)}, {'t1': desired(kind='sit', ttl=64)},
     [(PERSISTENT, 't1', 'recreate'), (RUNTIME, 't1', 'recreate')]),
    ('delete', {'t1': T1}, {'t1': persistent_view(T1)}, {'t1': None},
     [(RUNTIME, 't1', 'delete'), (PERSISTENT, 't1', 'delete')]),
    ('delete absent', {}, {}, {'t1': None}, []),
    ('deletes before creates', {'t2': T1}, {}, {'t1': desired(kind='ipip'), 't2': None},
     [(RUNTIME, 't2', 'delete'), (PERSISTENT, 't1', 'create'), (RUNTIME, 't1', 'create')]),
]


@pytest.mark.parametrize('runtime, persistent, want, expected',
                         [c[1:] for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES])
def test_plan(runtime, persistent, want, expected):
    current = {RUNTIME: runtime, PERSISTENT: persistent}
    changes = engine.plan(TABLE, [PERSISTENT, RUNTIME], want, current)
    assert [(c.store, c.key, c.action) for c in changes] == expected


def test_plan_records_field_differences():
    current = {RUNTIME: {'t1': T1}, PERSISTENT: {'t1': persistent_view(T1)}}
    change = engine.plan(TABLE, [PERSISTENT, RUNTIME], {'t1': desired(kind='ipip', ttl=10)}, current)[0]
    assert change.fields == {'ttl': (64, 10)}
    assert change.after == {'kind': 'ipip', 'ttl': 10}


COARSE_TABLE = ObjectTable('timer', [
    # a value the store keeps in coarser units: up to 10 more than asked is what was asked
    engine.Field('timeout', type='int', stores=(RUNTIME,), compare=lambda have, wanted: 0 <= have - wanted <= 10),
])


@pytest.mark.parametrize('have, changed', [(50, False), (52, False), (60, False), (61, True), (49, True), (None, True)])
def test_a_field_compare_decides_what_counts_as_equal(have, changed):
    current = {RUNTIME: {'t': {'timeout': have}} if have is not None else {}}
    changes = engine.plan(COARSE_TABLE, [RUNTIME], {'t': {'timeout': 50}}, current)
    assert bool(changes) == changed


def test_recreate_never_fails_before_anything_is_touched():
    st = stores({'t1': T1}, {'t1': persistent_view(T1)}, read_only=True)
    with pytest.raises(engine.PlanError, match=r"t1 \(persistent: kind 'ipip' -> 'sit'\)"):
        engine.run(TABLE, st, {'t1': desired(kind='sit')}, recreate='never')
    assert all(not s.writes for s in st)


# --- the whole cycle -------------------------------------------------------------------------------
CYCLE_CASES = [
    ('create', {}, {}, {'t1': desired(kind='ipip', ttl=64, mtu=1480)}, True),
    ('modify', {'t1': T1}, {'t1': persistent_view(T1)}, {'t1': desired(kind='ipip', ttl=9)}, True),
    ('recreate', {'t1': T1}, {'t1': persistent_view(T1)}, {'t1': desired(kind='sit', ttl=64)}, True),
    ('delete', {'t1': T1}, {'t1': persistent_view(T1)}, {'t1': None}, True),
    ('no-op', {'t1': T1}, {'t1': persistent_view(T1)}, {'t1': desired(kind='ipip', ttl=64)}, False),
]


@pytest.mark.parametrize('runtime, persistent, want, changed', [c[1:] for c in CYCLE_CASES],
                         ids=[c[0] for c in CYCLE_CASES])
def test_check_mode_writes_nothing_and_predicts_the_real_run(runtime, persistent, want, changed):
    check = engine.run(TABLE, stores(runtime, persistent, read_only=True), want, check_mode=True)
    real_stores = stores(runtime, persistent)
    real = engine.run(TABLE, real_stores, want)
    assert check['changed'] is real['changed'] is changed
    assert check['after'] == real['after']
    assert check['changes'] == real['changes']
    assert check['commands'] == real['commands']
    again = engine.run(TABLE, real_stores, want)
    assert again['changed'] is False


def test_results_for_create():
    res = engine.run(TABLE, stores(), {'t1': desired(kind='ipip', ttl=64, mtu=1480)})
    assert res['before'] == {'t1': {PERSISTENT: None, RUNTIME: None}}
    assert res['after'] == {'t1': {PERSISTENT: {'kind': 'ipip', 'ttl': 64},
                                   RUNTIME: {'kind': 'ipip', 'ttl': 64, 'mtu': 1480}}}
    assert res['commands'] == ['persistent create t1', 'runtime create t1']


def test_recreate_deletes_then_creates():
    st = stores({'t1': T1}, {'t1': persistent_view(T1)})
    engine.run(TABLE, st, {'t1': desired(kind='sit')})
    assert st[1].writes == [('delete', 't1'), ('create', 't1')]
    assert st[1].objects['t1'] == dict(T1, kind='sit')


def test_secrets_are_masked_in_every_result():
    res = engine.run(TABLE, stores(), {'t1': desired(kind='ipip', key='hunter2')}, check_mode=True)
    text = repr(res['changes']) + repr(res['after']) + repr(res['commands'])
    assert 'hunter2' not in text
    assert res['after']['t1'][RUNTIME]['key'] == engine.SECRET_MASK


SECRET_TABLE = ObjectTable('session', [
    Field('kind'),
    Field('cookie', update=RECREATE, secret=True, normalise=lambda v: v.lower()),
])


def test_recreate_never_error_masks_secret_values():
    st = [FakeStore(RUNTIME, {'s1': {'kind': 'eth', 'cookie': '1a2b3c4d'}})]
    with pytest.raises(engine.PlanError) as err:
        engine.run(SECRET_TABLE, st, {'s1': SECRET_TABLE.normalise({'kind': 'eth', 'cookie': '11223344'})},
                   recreate='never')
    assert '1a2b3c4d' not in str(err.value) and '11223344' not in str(err.value)
    assert 'cookie %r -> %r' % (engine.SECRET_MASK, engine.SECRET_MASK) in str(err.value)


def test_store_errors_quoting_a_secret_are_masked():
    class Leaky(FakeStore):
        def create(self, key, obj):
            raise StoreFailure('kernel refused cookie %s (was %s)' % (obj['cookie'], 'cafe0001'))

    st = [FakeStore(PERSISTENT, {}), Leaky(RUNTIME, {'s2': {'kind': 'eth', 'cookie': 'cafe0001'}})]
    with pytest.raises(engine.ApplyError) as err:
        engine.run(SECRET_TABLE, st, {'s1': SECRET_TABLE.normalise({'kind': 'eth', 'cookie': 'DEADBEEF'})})
    assert 'deadbeef' not in str(err.value) and 'cafe0001' not in str(err.value)
    assert 'kernel refused cookie %s' % engine.SECRET_MASK in str(err.value)
    assert 'Rolled back: persistent s1 removed again' in str(err.value)


SHOWN_TABLE = ObjectTable('session', [
    Field('kind'),
    Field('cookie', update=RECREATE, secret=True, shown=('none',)),
])


def test_a_secret_fields_shown_values_stay_visible_and_the_rest_masked():
    st = [FakeStore(RUNTIME, {'s1': {'kind': 'eth', 'cookie': 'none'}, 's2': {'kind': 'eth', 'cookie': '1a2b3c4d'}})]
    res = engine.run(SHOWN_TABLE, st, {'s1': {'kind': 'eth', 'cookie': '1a2b3c4d'}, 's2': {'kind': 'eth', 'cookie': 'none'}},
                     check_mode=True)
    assert '1a2b3c4d' not in repr(res)
    assert res['before']['s1'][RUNTIME]['cookie'] == 'none' and res['after']['s1'][RUNTIME]['cookie'] == engine.SECRET_MASK
    assert res['before']['s2'][RUNTIME]['cookie'] == engine.SECRET_MASK and res['after']['s2'][RUNTIME]['cookie'] == 'none'
    fields = dict((c['object'], c['fields']['cookie']) for c in res['changes'])
    assert fields == {'s1': {'before': 'none', 'after': engine.SECRET_MASK},
                      's2': {'before': engine.SECRET_MASK, 'after': 'none'}}


def test_shown_values_are_not_scrubbed_from_errors():
    """'none' is no secret: an error that says "none" keeps the word."""
    texts = engine.secret_texts(SHOWN_TABLE, {'s1': {'cookie': 'none'}, 's2': {'cookie': 'cafe0001'}})
    assert texts == {'cafe0001'}


def test_shown_values_need_a_secret_field():
    with pytest.raises(ValueError, match='secret fields only'):
        Field('kind', shown=('none',))


# --- failure mid-apply --------------------------------------------------------------------------------
def test_runtime_failure_restores_the_files_exactly():
    persistent = FakeStore(PERSISTENT, {'t1': persistent_view(T1)}, snapshots=True)
    runtime = FakeStore(RUNTIME, {'t1': T1}, fail_on=[('modify', 't1')])
    with pytest.raises(engine.ApplyError) as err:
        engine.run(TABLE, [persistent, runtime], {'t1': desired(kind='ipip', ttl=1)})
    assert persistent.objects == {'t1': persistent_view(T1)}
    assert runtime.objects == {'t1': T1}
    assert persistent.writes == [('modify', 't1'), ('restore', 't1')]
    assert 'injected failure: modify t1' in str(err.value)
    assert 'Rolled back: persistent t1' in str(err.value)


def test_failure_undoes_every_earlier_object_in_reverse():
    st = stores({}, {}, fail_on=[('create', 't3')])
    want = dict((k, desired(kind='ipip', ttl=1, mtu=1480)) for k in ('t1', 't2', 't3'))
    with pytest.raises(engine.ApplyError) as err:
        engine.run(TABLE, st, want)
    assert st[0].objects == {} and st[1].objects == {}
    assert err.value.restored[0] == 'persistent t2 removed again'  # reverse order
    assert isinstance(err.value.error, StoreFailure)


def test_failed_recreate_puts_the_old_object_back():
    st = stores({'t1': T1}, {'t1': persistent_view(T1)})
    st[1].fail_on = {('create', 't1')}
    with pytest.raises(engine.ApplyError):
        engine.run(TABLE, st, {'t1': desired(kind='sit')})
    assert st[1].objects == {'t1': T1}
    assert st[0].objects == {'t1': persistent_view(T1)}


def test_failed_delete_restores_nothing_it_did_not_touch():
    st = stores({'t1': T1}, {'t1': persistent_view(T1)})
    st[1].fail_on = {('delete', 't1')}
    with pytest.raises(engine.ApplyError) as err:
        engine.run(TABLE, st, {'t1': None})
    assert st[0].writes == []  # runtime goes first on delete: the files were never touched
    assert err.value.restored == []


def test_rollback_failure_is_reported():
    persistent = FakeStore(PERSISTENT, {}, fail_on=[('delete', 't1')])  # the undo of its create
    runtime = FakeStore(RUNTIME, {}, fail_on=[('create', 't1')])
    with pytest.raises(engine.ApplyError, match='COULD NOT ROLL BACK: persistent t1 removed again'):
        engine.run(TABLE, [persistent, runtime], {'t1': desired(kind='ipip')})


# --- settle: the step after the writes (reloads) --------------------------------------------------------
def test_each_written_store_settles_once_after_all_writes():
    st = stores({}, {})
    engine.run(TABLE, st, {'t1': desired(kind='ipip'), 't2': desired(kind='sit')})
    assert [e for e in st[0].events if e == 'settle'] == ['settle']
    assert st[1].events.count('settle') == 1
    assert st[0].events.index('settle') > st[0].events.index('read')


def test_a_store_without_writes_does_not_settle():
    st = stores({'t1': T1}, {'t1': persistent_view(T1)})
    engine.run(TABLE, st, {'t1': desired(kind='ipip', mtu=1400)})  # runtime-only drift
    assert 'settle' not in st[0].events and 'settle' in st[1].events


def test_a_failed_settle_rolls_everything_back_and_says_so():
    persistent = FakeStore(PERSISTENT, {'t1': persistent_view(T1)}, snapshots=True,
                           settle_error='networkctl reload failed (rc=1): boom')
    runtime = FakeStore(RUNTIME, {'t1': T1})
    with pytest.raises(engine.ApplyError) as err:
        engine.run(TABLE, [persistent, runtime], {'t1': desired(kind='ipip', ttl=1)})
    assert persistent.objects == {'t1': persistent_view(T1)}
    assert runtime.objects == {'t1': T1}
    assert str(err.value).startswith('The writes to the persistent store did not take effect: '
                                     'networkctl reload failed (rc=1): boom. Rolled back: ')
    assert err.value.restored == ['runtime t1 set back', 'persistent t1 set back']


def test_check_mode_neither_locks_nor_settles():
    st = stores({}, {}, read_only=True)
    engine.run(TABLE, st, {'t1': desired(kind='ipip')}, check_mode=True)
    assert st[0].events == ['read'] and st[1].events == ['read']


def test_a_real_run_holds_every_lock_from_read_to_the_re_read():
    st = stores({}, {})
    engine.run(TABLE, st, {'t1': desired(kind='ipip')})
    assert st[0].events == ['lock', 'read', 'settle', 'read', 'unlock']
    assert st[1].events == ['lock', 'read', 'settle', 'read', 'unlock']


def test_a_batching_store_gets_each_run_of_writes_at_once():
    persistent, runtime = FakeStore(PERSISTENT, {}), BatchingStore(RUNTIME, {'t0': T1})
    want = dict((k, desired(kind='ipip', ttl=1, mtu=1480)) for k in ('t1', 't2'))
    want['t0'] = None
    engine.run(TABLE, [persistent, runtime], want)
    # the deletes' run, then (after the files) the creates' run
    assert runtime.runs == [[('delete', 't0')], [('create', 't1'), ('create', 't2')]]
    assert sorted(runtime.objects) == ['t1', 't2']


def test_a_failure_in_a_batch_undoes_what_the_batch_did_after_it_too():
    persistent = FakeStore(PERSISTENT, {})
    runtime = BatchingStore(RUNTIME, {}, fail_on=[('create', 't2')])
    want = dict((k, desired(kind='ipip', ttl=1, mtu=1480)) for k in ('t1', 't2', 't3'))
    with pytest.raises(engine.ApplyError) as err:
        engine.run(TABLE, [persistent, runtime], want)
    assert runtime.writes[:3] == [('create', 't1'), ('create', 't2'), ('create', 't3')]
    assert runtime.objects == {} and persistent.objects == {}
    assert err.value.restored[:2] == ['runtime t3 removed again', 'runtime t1 removed again']
    assert 'injected failure: create t2' in str(err.value)


def test_the_default_batch_stops_at_the_first_failure():
    class Batching(FakeStore):
        batches = True  # with Store's own write_many: one at a time
    runtime = Batching(RUNTIME, {}, fail_on=[('create', 't2')])
    want = dict((k, desired(kind='ipip')) for k in ('t1', 't2', 't3'))
    with pytest.raises(engine.ApplyError) as err:
        engine.run(TABLE, [runtime], want)
    assert runtime.writes == [('create', 't1'), ('create', 't2'), ('delete', 't1')]
    assert err.value.restored == ['runtime t1 removed again']


# --- field table ------------------------------------------------------------------------------------
def test_argument_spec_from_table():
    spec = TABLE.argument_spec()
    assert spec['key'] == {'type': 'str', 'no_log': True}
    assert spec['ttl'] == {'type': 'int'}


def test_duplicate_field_names_are_refused():
    with pytest.raises(ValueError):
        ObjectTable('x', [Field('a'), Field('a')])


# --- verify after apply: the re-read must show what was written -----------------------------------
class Forgetful(FakeStore):
    """A store that verifies, like the kernel stores, but drops one field on every write (a
    kernel that ignores an attribute, a daemon that did not load the file)."""

    verifies = True

    def __init__(self, name, objects=None, forgets='ttl', **kwargs):
        super(Forgetful, self).__init__(name, objects, **kwargs)
        self.forgets = forgets

    def create(self, key, obj):
        super(Forgetful, self).create(key, obj)
        self.objects[key].pop(self.forgets, None)

    def modify(self, key, before, after):
        self._write('modify', key)
        kept = self.objects[key].get(self.forgets)
        self.objects[key] = dict(after, **{self.forgets: kept})


class Settling(FakeStore):
    """A verifying store whose settle, once done, must be done again after a rollback."""

    verifies = True
    settles_again = True

    def settle_again(self):
        self.events.append('settle again')


def test_a_store_that_did_not_keep_a_field_rolls_the_task_back_and_names_it():
    persistent = Settling(PERSISTENT, {'t1': persistent_view(T1)}, snapshots=True)
    runtime = Forgetful(RUNTIME, {'t1': T1})
    with pytest.raises(engine.ApplyError) as err:
        engine.run(TABLE, [persistent, runtime], {'t1': desired(kind='ipip', ttl=10)})
    assert str(err.value).startswith('A store did not keep what was written: runtime t1: ttl reads back as 64, '
                                     'not the 10 written. Rolled back: ')
    assert err.value.restored == ['runtime t1 set back', 'persistent t1 set back', 'persistent store settled again']
    assert persistent.objects == {'t1': persistent_view(T1)} and runtime.objects == {'t1': T1}
    # the persistent store settled after the writes, and again after the undo
    assert persistent.events.count('settle') == 1 and persistent.events[-2:] == ['settle again', 'unlock']


def test_a_created_object_missing_a_field_is_removed_again():
    runtime = Forgetful(RUNTIME, {})
    with pytest.raises(engine.ApplyError, match=r"runtime t1: ttl reads back as None, not the 64 written"):
        engine.run(TABLE, [runtime], {'t1': desired(kind='ipip', ttl=64)})
    assert runtime.objects == {}


def test_verify_masks_secrets():
    runtime = Forgetful(RUNTIME, {}, forgets='key')
    with pytest.raises(engine.ApplyError) as err:
        engine.run(TABLE, [runtime], {'t1': desired(kind='ipip', key='s3cr3t-cookie')})
    assert 's3cr3t' not in str(err.value) and engine.SECRET_MASK in str(err.value)


def test_a_store_that_does_not_verify_keeps_the_old_behaviour():
    runtime = Forgetful(RUNTIME, {})
    runtime.verifies = False
    assert engine.run(TABLE, [runtime], {'t1': desired(kind='ipip', ttl=64)})['changed']
    assert runtime.objects == {'t1': {'kind': 'ipip'}}


def test_verify_uses_the_fields_compare_and_the_engine_reads_once_after_apply():
    coarse = ObjectTable('timer', [Field('timeout', type='int', compare=lambda have, wanted: 0 <= have - wanted <= 10)])

    class Coarse(FakeStore):
        verifies = True

        def create(self, key, obj):
            super(Coarse, self).create(key, dict(obj, timeout=obj['timeout'] + 2))

    runtime = Coarse(RUNTIME, {})
    result = engine.run(coarse, [runtime], {'t': {'timeout': 50}})
    assert result['changed'] and runtime.objects == {'t': {'timeout': 52}}
    assert runtime.events.count('read') == 2


class Reconfiguring(FakeStore):
    """A persistent store whose manager, once settled, takes the runtime's field away for a few
    re-reads and puts it back (networkd after a reload: the address deleted and added again)."""

    def __init__(self, name, objects, runtime, gap, grace, **kwargs):
        super(Reconfiguring, self).__init__(name, objects, **kwargs)
        self.runtime, self.gap, self.grace = runtime, gap, grace

    def settle(self):
        super(Reconfiguring, self).settle()
        self.settle_grace = self.grace
        taken = dict((key, obj.pop('ttl', None)) for key, obj in self.runtime.objects.items())
        reads = [0]
        original = self.runtime.read

        def read():
            reads[0] += 1
            if reads[0] > self.gap:
                for key, ttl in taken.items():
                    self.runtime.objects[key]['ttl'] = ttl
            return original()
        self.runtime.read = read


@pytest.mark.parametrize('gap, grace, kept', [(0, 0, True), (3, 5, True), (3, 0, False)])
def test_verify_reads_again_while_a_settled_manager_reconfigures(monkeypatch, gap, grace, kept):
    monkeypatch.setattr(engine, 'REREAD_INTERVAL', 0.01)
    runtime = Forgetful(RUNTIME, {}, forgets='nothing')
    persistent = Reconfiguring(PERSISTENT, {}, runtime, gap, grace)
    run = functools.partial(engine.run, TABLE, [persistent, runtime], {'t1': desired(kind='ipip', ttl=10)})
    if kept:
        assert run()['changed'] and runtime.objects['t1']['ttl'] == 10
    else:
        with pytest.raises(engine.ApplyError, match='runtime t1: ttl reads back as None, not the 10 written'):
            run()


# --- a container and its members: two parts under one journal -------------------------------------
BOXES = ObjectTable('box', [Field('size', update=RECREATE, stores=('boxes',))])
ITEMS = ObjectTable('item', [Field('box', update=RECREATE, stores=(RUNTIME,)), Field('colour', stores=(RUNTIME,))])


class LoggedStore(FakeStore):
    """A FakeStore whose writes also go to one log shared by every store of the run."""

    def __init__(self, name, objects, log, **kwargs):
        FakeStore.__init__(self, name, objects, **kwargs)
        self.log = log

    def _write(self, action, key):
        self.log.append((self.name, action, key))
        FakeStore._write(self, action, key)


def boxes_and_items(fail_on=()):
    log = []
    boxes = LoggedStore('boxes', {'b1': {'size': 1}}, log, fail_on=fail_on)
    items = LoggedStore(RUNTIME, {'i1': {'box': 'b1', 'colour': 'red'}, 'i2': {'box': 'b1', 'colour': 'red'}}, log,
                        fail_on=fail_on)
    return log, boxes, items


def parts(boxes, items, wanted_items):
    def wanted_boxes(current):
        # what the members need, from the read: a box for each item, the old one emptied goes
        out = dict((obj['box'], {'size': 2}) for obj in wanted_items.values() if obj)
        for key in current['boxes']:
            out.setdefault(key, None)
        return out
    return [engine.Part(BOXES, [boxes], wanted_boxes), engine.Part(ITEMS, [items], wanted_items)]


def test_nested_parts_delete_members_first_and_create_containers_first():
    log, boxes, items = boxes_and_items()
    wanted = {'i1': {'box': 'b2', 'colour': 'red'}, 'i2': None}
    result = engine.run_parts(parts(boxes, items, wanted))
    assert [(c['store'], c['object'], c['action']) for c in result['changes']] == [
        (RUNTIME, 'i2', 'delete'), ('boxes', 'b1', 'delete'), ('boxes', 'b2', 'create'), (RUNTIME, 'i1', 'recreate')]
    # the recreate's two halves fall into the two phases: its delete before the box's
    assert log == [(RUNTIME, 'delete', 'i2'), (RUNTIME, 'delete', 'i1'), ('boxes', 'delete', 'b1'),
                   ('boxes', 'create', 'b2'), (RUNTIME, 'create', 'i1')]
    assert boxes.objects == {'b2': {'size': 2}} and items.objects == {'i1': {'box': 'b2', 'colour': 'red'}}
    # the views are the task's own objects (the last part's)
    assert set(result['after']) == {'i1', 'i2'} and result['after']['i1'][RUNTIME]['box'] == 'b2'


def test_nested_parts_roll_back_containers_before_their_members_come_back():
    log, boxes, items = boxes_and_items(fail_on=[('create', 'i1')])
    with pytest.raises(engine.ApplyError):
        engine.run_parts(parts(boxes, items, {'i1': {'box': 'b2', 'colour': 'red'}, 'i2': None}))
    undo = log[log.index((RUNTIME, 'create', 'i1')) + 1:]
    assert undo == [('boxes', 'delete', 'b2'), ('boxes', 'create', 'b1'), (RUNTIME, 'create', 'i1'), (RUNTIME, 'create', 'i2')]
    assert boxes.objects == {'b1': {'size': 1}} and set(items.objects) == {'i1', 'i2'}


def test_check_mode_plans_every_part_and_writes_none():
    log, boxes, items = boxes_and_items()
    boxes.read_only = items.read_only = True
    result = engine.run_parts(parts(boxes, items, {'i1': {'box': 'b2', 'colour': 'red'}}), check_mode=True)
    assert result['changed'] and log == [] and result['after']['i1'][RUNTIME]['box'] == 'b2'


def test_two_stores_of_one_run_may_not_share_a_name():
    with pytest.raises(ValueError, match='share a name'):
        engine.run_parts([engine.Part(BOXES, [FakeStore(RUNTIME)], {}), engine.Part(ITEMS, [FakeStore(RUNTIME)], {})])


def test_verify_hands_each_store_every_change_of_the_run():
    """A store may keep part of its last read for verify (KernelTunnels.read_after): it can only
    tell what the run did if it sees the other stores' changes too (a settle may reconfigure)."""
    seen = []

    class Watching(FakeStore):
        verifies = True

        def read_after(self, changes):
            seen.append((self.name, sorted((c.store, c.key, c.action) for c in changes)))
            return super(Watching, self).read_after(changes)

    persistent, runtime = Watching(PERSISTENT, {}), Watching(RUNTIME, {'t2': desired(kind='ipip', ttl=1)})
    engine.run(TABLE, [persistent, runtime], {'t1': desired(kind='ipip', ttl=10), 't2': None})
    every = [(PERSISTENT, 't1', 'create'), (RUNTIME, 't1', 'create'), (RUNTIME, 't2', 'delete')]
    assert seen == [(PERSISTENT, every), (RUNTIME, every)]


def test_the_cycle_collector_is_paused_for_a_run_and_left_as_it_was_found():
    import gc
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with engine.collector_paused():
            assert not gc.isenabled()
            with engine.collector_paused():   # nested: still off after the inner one
                pass
            assert not gc.isenabled()
            raise RuntimeError('a run that fails')
    assert gc.isenabled()
    gc.disable()
    try:
        with engine.collector_paused():
            pass
        assert not gc.isenabled()   # off before: a caller's choice, kept
    finally:
        gc.enable()
