# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The task layer (_task.Task) for a module without a bulk form, and the engine's comparison of
two stores that the three _info modules share (_engine.compare_stores)."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._engine import PERSISTENT, RUNTIME, Field, ObjectTable
from ansible_collections.edgenet.router.plugins.module_utils._task import Task

TABLE = ObjectTable('thing', [
    Field('name', required=True),
    Field('size', type='int'),
    Field('mode', default='a', choices=['a', 'b']),
    Field('peer'),
    Field('tick', type='int', compare=lambda have, wanted: abs(have - wanted) <= 1),
    Field('hidden', compare=False),
])


class ThingError(Exception):
    pass


def check_name(name):
    if not name or '/' in name:
        raise ThingError('name %r is refused' % (name,))


def one(**kwargs):
    return Task(TABLE, key='name', bulk=None, result='thing', error=ThingError, common={'where': {'type': 'path'}},
                check_key=check_name, **kwargs)


def test_without_a_bulk_form_the_key_is_required_and_nothing_bulk_is_offered():
    task = one(required_if=[('mode', 'b', ('peer',))])
    spec = task.argument_spec()
    assert spec['name'] == {'type': 'str', 'required': True}
    assert sorted(spec) == ['confirm_timeout', 'hidden', 'mode', 'name', 'peer', 'size', 'state', 'tick', 'where']
    assert spec['mode']['default'] == 'a' and spec['state']['default'] == 'present'
    kwargs = task.module_kwargs()
    assert 'required_one_of' not in kwargs and 'mutually_exclusive' not in kwargs
    assert kwargs['required_if'] == [('mode', 'b', ('peer',))]


def test_a_bulk_task_keeps_its_rules_and_adds_purge_after_the_modules_own():
    task = Task(TABLE, key='name', bulk='things', result='thing', error=ThingError, common={}, check_key=check_name,
                purge=True, required_if=[('mode', 'b', ('peer',))])
    kwargs = task.module_kwargs()
    assert kwargs['required_one_of'] == [('name', 'things')] and kwargs['argument_spec']['name'].get('required') is False
    assert kwargs['required_if'] == [('mode', 'b', ('peer',)), ('purge', True, ('things',))]


def test_purge_without_a_bulk_form_is_a_mistake_in_the_table():
    with pytest.raises(ValueError, match='purge needs a bulk form'):
        one(purge=True)


def test_desired_set_and_result_of_one_object():
    task = one()
    assert task.desired_set({'name': 't1', 'size': 3}, dict) == {
        't1': {'name': 't1', 'size': 3, 'mode': 'a', 'peer': None, 'tick': None, 'hidden': None, 'state': 'present'}}
    assert task.desired_set({'name': 't1', 'state': 'absent'}, lambda item: 1 / 0) == {'t1': None}
    with pytest.raises(ThingError, match="name 'a/b' is refused"):
        task.desired_set({'name': 'a/b'}, dict)
    outcome = {'changed': True, 'commands': [], 'changes': [],
               'before': {'t1': {PERSISTENT: None}}, 'after': {'t1': {PERSISTENT: {'name': 't1'}}}}
    # A task whose runtime store is not in the run (a stopped daemon nobody starts) has no runtime view.
    result = task.result({'name': 't1'}, outcome)
    assert result['thing'] is None and result['diff'] == {'before': {PERSISTENT: None}, 'after': {PERSISTENT: {'name': 't1'}}}


# --- compare_stores -------------------------------------------------------------------------------------
A = {'name': 'a', 'size': 1, 'mode': 'a', 'peer': None, 'tick': 10, 'hidden': 'x'}


@pytest.mark.parametrize('runtime, persistent, differs', [
    (A, A, []),
    (dict(A, size=2), A, ['size']),
    (dict(A, tick=11), A, []),                 # the field's own compare: within one
    (dict(A, tick=12), A, ['tick']),
    (dict(A, hidden='y'), A, []),              # compare=False: never drift
    (dict(A, peer='p'), A, []),                # the persistent store leaves peer unset
    (A, dict(A, peer='p'), ['peer']),
])
def test_compare_stores_names_the_fields_that_differ(runtime, persistent, differs):
    assert engine.compare_stores(TABLE, {'a': runtime}, {'a': persistent}) == {
        'a': {'runtime': runtime, 'persistent': persistent, 'missing': [], 'differs': differs}}


def test_compare_stores_missing_keys_and_no_persistent_store():
    got = engine.compare_stores(TABLE, {'b': A, 'a': A}, {'c': A})
    assert list(got) == ['a', 'b', 'c']
    assert got['a']['missing'] == [PERSISTENT] and got['c']['missing'] == [RUNTIME] and got['c']['runtime'] is None
    assert engine.compare_stores(TABLE, {'a': A}, {'c': A}, keys=['c', 'zzz']) == {
        'c': {'runtime': None, 'persistent': A, 'missing': [RUNTIME], 'differs': []}}
    # No persistent store at all (a network namespace): only the runtime can be missing.
    assert engine.compare_stores(TABLE, {'a': A}, None) == {'a': {'runtime': A, 'persistent': None, 'missing': [], 'differs': []}}
    assert engine.compare_stores(TABLE, {}, None, keys=['a']) == {}


# --- pairs: the peer option ------------------------------------------------------------------------------
PAIR_TABLE = ObjectTable('link', [Field('name', required=True), Field('size', type='int')])


def paired():
    return Task(PAIR_TABLE, key='name', bulk='links', result='link', error=ThingError, common={}, check_key=check_name,
                pairs=True)


def test_pairs_offer_peer_on_each_object_in_both_forms_and_no_table_field():
    spec = paired().argument_spec()
    assert spec['peer'] == {'type': 'str'} and spec['links']['options']['peer'] == {'type': 'str'}
    assert 'peer' not in PAIR_TABLE.by_name


def test_peer_is_checked_with_every_other_error_and_never_reaches_the_object():
    task = paired()
    assert task.desired_set({'name': 'l1', 'peer': 'rt2.example'}, lambda item: {'size': item['size']}) == {'l1': {'size': None}}
    with pytest.raises(ThingError) as err:
        task.desired_set({'links': [{'name': 'l1', 'peer': 'rt 2'}, {'name': 'l2', 'peer': 'web*'}, {'name': 'a/b'}]}, dict)
    text = str(err.value)
    assert "link l1: peer 'rt 2' is not an inventory host name: it holds white space" in text
    assert "link l2: peer 'web*' is not an inventory host name: it holds a host-pattern character" in text
    assert "name 'a/b' is refused" in text and 'tunnel_end filter' in text


def test_result_names_the_peers_in_both_forms():
    task = paired()
    outcome = {'changed': False, 'commands': [], 'changes': [],
               'before': {'l1': {RUNTIME: None}, 'l2': {RUNTIME: None}}, 'after': {'l1': {RUNTIME: None}, 'l2': {RUNTIME: None}}}
    assert task.result({'name': 'l1', 'peer': 'rt2'}, outcome)['peers'] == {'l1': 'rt2'}
    bulk = task.result({'links': [{'name': 'l1', 'peer': 'rt2'}, {'name': 'l2'}]}, outcome)
    assert bulk['peers'] == {'l1': 'rt2'}
    assert 'peers' not in task.result({'name': 'l1'}, outcome)
    # a task without pairs never returns peers, whatever its objects hold
    assert 'peers' not in one().result({'name': 't1', 'peer': 'x'}, {
        'changed': False, 'commands': [], 'changes': [], 'before': {'t1': {RUNTIME: None}}, 'after': {'t1': {RUNTIME: None}}})
