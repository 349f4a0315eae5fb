# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""drift_report's pair rows: a pseudowire and a GRE tunnel declared once (the tunnel_end filter),
each end made by the real module code on its own fake kernel, a mismatch made by hand on one
side, then the two ends' results through the callback."""

from __future__ import annotations

import json

import pytest
from ansible import context
from ansible.module_utils.common.collections import ImmutableDict

from ansible_collections.edgenet.router.plugins.callback import drift_report
from ansible_collections.edgenet.router.plugins.filter.tunnel_end import tunnel_end
from ansible_collections.edgenet.router.plugins.module_utils._engine import SECRET_MASK
from ansible_collections.edgenet.router.plugins.plugin_utils._pairs import KINDS, mismatches, runtime_views
from ansible_collections.edgenet.router.tests.unit.plugins.callback.test_drift_report import FakeTask, load_callback, read_html, run
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__iptun import Router as TunnelRouter
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__pipex import Router as PipexRouter

COOKIE_A, COOKIE_B = '0x5e6f7a8b', '0x0badcafe'

PW = {
    'name': 'pw-cust', 'type': 'l2tpv3',
    'ends': {
        'pe-a': {'address': '198.51.100.1', 'tunnel_id': 100, 'session_id': 1000, 'cookie': COOKIE_A},
        'pe-b': {'address': '198.51.100.2', 'tunnel_id': 200, 'session_id': 2000, 'cookie': COOKIE_B},
    },
}

GRE = {
    'name': 'gre-east', 'type': 'gre', 'ttl': 64,
    'ends': {'rt1': {'address': '192.0.2.1', 'ikey': 7}, 'rt2': {'address': '192.0.2.2', 'ikey': 8}},
}

SESSION = FakeTask('Pseudowire', 'edgenet.router.pipex_session')
TUNNEL = FakeTask('GRE tunnel', 'edgenet.router.iptun')


def sessions(host, pair=None, **changes):
    item = tunnel_end(pair or PW, host)
    item.update(changes)
    return {'sessions': [dict((k, v) for k, v in item.items() if v is not None)], 'persistent': False}


@pytest.fixture
def routers(tmp_path):
    out = {}
    for host in ('pe-a', 'pe-b'):
        (tmp_path / host).mkdir()
        out[host] = PipexRouter(tmp_path / host)
        out[host].run(**sessions(host))
    return out


def check_both(routers, check_mode=True, **per_host):
    return dict((host, router.run(check_mode=check_mode, **per_host.get(host, sessions(host))))
                for host, router in sorted(routers.items()))


def pair_rows(report, host):
    return [r for r in report['hosts'][host]['rows'] if r['store'] == drift_report.PAIR_STORE]


def test_two_ends_in_step_are_one_pair_compared_and_no_row(callback, routers):
    results = check_both(routers)
    assert all(not r['changed'] for r in results.values())
    assert results['pe-a']['peers'] == {'pw-cust': 'pe-b'}
    report, md, text = run(callback, [('ok', h, SESSION, r) for h, r in results.items()], ['pe-a', 'pe-b'])
    assert report['summary']['pairs'] == 1 and report['summary']['pair_rows'] == 0
    assert report['summary']['pairs_not_checked'] == 0 and report['summary']['drift'] == 0
    assert '**Pairs**: 1 pair compared (both ends of a tunnel or pseudowire), 0 rows where the two ends disagree' in md
    for cookie in ('5e6f7a8b', '0badcafe'):
        assert cookie not in text and cookie not in md


def test_an_mtu_changed_by_hand_is_no_drift_of_either_task_but_a_pair_row(callback, routers):
    """The tasks leave the MTU alone (no mtu given): only the pair check sees the two ends differ."""
    routers['pe-b'].nl.links_by_name['pw-cust']['mtu'] = 1400
    results = check_both(routers)
    assert not results['pe-a']['changed'] and not results['pe-b']['changed']
    report, md, dummy = run(callback, [('ok', h, SESSION, r) for h, r in results.items()], ['pe-a', 'pe-b'])
    rows = pair_rows(report, 'pe-a')
    assert rows == [{
        'task': 'Pseudowire', 'module': 'edgenet.router.pipex_session', 'object': 'pw-cust', 'store': 'pair',
        'action': 'mismatch', 'field': 'mtu', 'fields': None, 'before': rows[0]['before'], 'after': 1400,
        'diff': True, 'note': "pe-a's mtu (before) differs from pe-b's mtu (after)", 'peer': 'pe-b', 'peer_field': 'mtu',
    }]
    assert rows[0]['before'] != 1400
    # once per pair: the row is under the end whose name sorts first, not repeated under the other
    assert report['hosts']['pe-b']['rows'] == [] and report['hosts']['pe-b']['status'] == 'clean'
    assert report['hosts']['pe-a']['status'] == 'drift'
    assert report['summary'] == dict(report['summary'], drift=1, rows=1, pairs=1, pair_rows=1)
    assert "| Pseudowire | `edgenet.router.pipex_session` | `pw-cust` | pair | mismatch | `mtu` |" in md
    assert '1 row where the two ends disagree (store pair)' in md


def test_a_session_recreated_by_hand_with_another_peer_session_id(callback, routers):
    # pe-b's session made again by hand, expecting 1001 from pe-a instead of its 1000
    routers['pe-b'].run(**sessions('pe-b', peer_session_id=1001))
    results = check_both(routers)
    assert results['pe-b']['changed'] and not results['pe-a']['changed']
    report, md, text = run(callback, [('ok', h, SESSION, r) for h, r in results.items()], ['pe-a', 'pe-b'])
    assert [(r['field'], r['before'], r['peer'], r['peer_field'], r['after']) for r in pair_rows(report, 'pe-a')] == [
        ('session_id', 1000, 'pe-b', 'peer_session_id', 1001)]
    # pe-b's own task sees it as drift too, as a row of its own
    own = [r for r in report['hosts']['pe-b']['rows'] if r['field'] == 'peer_session_id']
    assert own and own[0]['store'] == 'runtime' and own[0]['before'] == 1001 and own[0]['after'] == 1000


def test_cookies_are_compared_only_as_far_as_the_mask_allows_and_never_written(callback, routers):
    # pe-b made again without the cookie it should expect from pe-a: pe-a sends one, pe-b expects none
    routers['pe-b'].run(**sessions('pe-b', peer_cookie='none'))
    results = check_both(routers)
    report, md, text = run(callback, [('ok', h, SESSION, r) for h, r in results.items()], ['pe-a', 'pe-b'])
    assert [(r['field'], r['before'], r['peer_field'], r['after']) for r in pair_rows(report, 'pe-a')] == [
        ('cookie', SECRET_MASK, 'peer_cookie', 'none')]
    html = read_html(callback)
    for cookie in ('5e6f7a8b', '0badcafe'):
        assert cookie not in text and cookie not in md and cookie not in html


def test_two_masked_cookies_count_as_the_same_the_ends_own_rows_tell_the_rest(callback, routers):
    routers['pe-b'].run(**sessions('pe-b', peer_cookie='0x01020304'))
    results = check_both(routers)
    report, md, text = run(callback, [('ok', h, SESSION, r) for h, r in results.items()], ['pe-a', 'pe-b'])
    assert pair_rows(report, 'pe-a') == []
    assert [r['field'] for r in report['hosts']['pe-b']['rows']] == ['peer_cookie']
    assert '01020304' not in text


def test_one_end_without_the_session_is_a_row_for_the_whole_object(callback, routers):
    routers['pe-b'].run(sessions=[{'ifname': 'pw-cust', 'state': 'absent'}], persistent=False)
    results = {'pe-a': routers['pe-a'].run(check_mode=True, **sessions('pe-a')),
               # pe-b's task names the session and its peer, with the task's own drift: a create
               'pe-b': routers['pe-b'].run(check_mode=True, **sessions('pe-b'))}
    report, dummy, dummy2 = run(callback, [('ok', h, SESSION, r) for h, r in results.items()], ['pe-a', 'pe-b'])
    rows = pair_rows(report, 'pe-a')
    assert [(r['field'], r['before'], r['after'], r['note']) for r in rows] == [
        (None, 'present', 'absent', 'pe-a has pw-cust in the kernel, pe-b has not')]


@pytest.mark.parametrize('event, reason', [
    (('failed', {'failed': True, 'msg': 'no l2tp'}), 'pe-b failed this task'),
    (('failed_ignored', {'failed': True, 'msg': 'no l2tp'}), 'pe-b failed this task'),
    (('unreachable', {'unreachable': True, 'msg': 'timed out'}), 'pe-b was unreachable'),
    (('skipped', {'skipped': True}), 'pe-b skipped this task'),
    (None, 'pe-b has no result of this task (skipped, stopped earlier, or not in the play)'),
])
def test_a_missing_other_end_is_a_pair_not_checked_never_silence(callback, routers, event, reason):
    events = [('ok', 'pe-a', SESSION, routers['pe-a'].run(check_mode=True, **sessions('pe-a')))]
    if event is not None:
        events.append((event[0], 'pe-b', SESSION, event[1]))
    report, md, dummy = run(callback, events, ['pe-a', 'pe-b'])
    assert report['hosts']['pe-a']['not_checked'] == [{
        'task': 'Pseudowire', 'module': 'edgenet.router.pipex_session',
        'reason': 'ifname pw-cust with pe-b not compared: ' + reason}]
    assert report['summary']['pairs'] == 0 and report['summary']['pairs_not_checked'] == 1
    assert report['summary']['not_checked'] >= 1
    assert 'or could not be compared with the other end of their pair' in md
    assert 'pair not compared' in md


def test_a_censored_other_end_and_an_end_that_names_another_peer(callback, routers):
    secret = FakeTask('Pseudowire', 'edgenet.router.pipex_session', no_log=True)
    a = routers['pe-a'].run(check_mode=True, **sessions('pe-a'))
    report, dummy, dummy2 = run(callback, [('ok', 'pe-a', secret, a), ('ok', 'pe-b', secret, {'censored': 'hidden'})],
                                ['pe-a', 'pe-b'])
    assert report['summary']['pairs'] == 0 and report['summary']['pairs_not_checked'] == 0  # pe-a's censored too
    cb = load_callback()
    cb.set_options(direct={'dir': callback.get_option('dir') + '2'})
    b = routers['pe-b'].run(check_mode=True, **sessions('pe-b', peer='pe-c'))
    report, dummy, dummy2 = run(cb, [('ok', 'pe-a', SESSION, a), ('ok', 'pe-b', SESSION, b)], ['pe-a', 'pe-b'])
    reasons = [n['reason'] for h in ('pe-a', 'pe-b') for n in report['hosts'][h]['not_checked']]
    assert 'ifname pw-cust with pe-b not compared: pe-b names pe-c as the peer of pw-cust' in reasons
    assert 'ifname pw-cust with pe-c not compared: pe-c has no result of this task' in reasons[-1]


def test_a_gre_tunnel_in_a_real_run_compares_the_state_after_it(tmp_path, monkeypatch):
    """Without --check the ends are compared after the task, in the kernel as the run left it."""
    monkeypatch.setattr(context, 'CLIARGS', ImmutableDict(check=False, diff=False))
    routers = {}
    for host in ('rt1', 'rt2'):
        (tmp_path / host).mkdir()
        routers[host] = TunnelRouter(tmp_path / host)
        routers[host].run(persistent=False, tunnels=[tunnel_end(GRE, host)])
    # rt2: ttl and okey changed by hand; rt2's task, which lost its okey, puts the ttl back and sets no key
    routers['rt2'].nl.links_by_name['gre-east']['data']['ttl'] = 10
    routers['rt2'].nl.links_by_name['gre-east']['data']['okey'] = 9
    end2 = tunnel_end(GRE, 'rt2')
    end2.pop('okey')
    results = {'rt1': routers['rt1'].run(persistent=False, tunnels=[tunnel_end(GRE, 'rt1')]),
               'rt2': routers['rt2'].run(persistent=False, tunnels=[end2])}
    assert results['rt2']['changed'] and not results['rt1']['changed']
    assert results['rt2']['diff']['before']['gre-east']['runtime']['okey'] == 9
    cb = load_callback()
    cb.set_options(direct={'dir': str(tmp_path / 'out')})
    report, md, dummy = run(cb, [('ok', h, TUNNEL, r) for h, r in results.items()], ['rt1', 'rt2'])
    assert report['check_mode'] is False
    assert [(r['field'], r['before'], r['peer_field'], r['after']) for r in pair_rows(report, 'rt1')] == [
        ('ikey', 7, 'okey', 'none')]


def test_each_pair_once_even_when_both_ends_name_each_other_in_bulk_and_single_form(callback, routers):
    a = routers['pe-a'].run(check_mode=True, **sessions('pe-a'))
    single = dict(tunnel_end(PW, 'pe-b'), persistent=False)
    routers['pe-b'].nl.links_by_name['pw-cust']['mtu'] = 1300
    b = routers['pe-b'].run(check_mode=True, **single)
    assert 'session' in b and b['peers'] == {'pw-cust': 'pe-a'}
    report, dummy, dummy2 = run(callback, [('ok', 'pe-b', SESSION, b), ('ok', 'pe-a', SESSION, a)], ['pe-a', 'pe-b'])
    assert report['summary']['pairs'] == 1 and report['summary']['pair_rows'] == 1
    assert [r['field'] for r in pair_rows(report, 'pe-a')] == ['mtu'] and pair_rows(report, 'pe-b') == []


def test_loop_items_and_tasks_told_apart_by_their_id(callback, routers):
    a = routers['pe-a'].run(check_mode=True, **sessions('pe-a'))
    routers['pe-b'].nl.links_by_name['pw-cust']['mtu'] = 1300
    b = routers['pe-b'].run(check_mode=True, **sessions('pe-b'))
    first, second = FakeTask('Pseudowire', 'edgenet.router.pipex_session'), FakeTask('Pseudowire', 'edgenet.router.pipex_session')
    first._uuid, second._uuid = 'uuid-1', 'uuid-2'
    loop = {'changed': False, 'results': [dict(a, item=1)]}
    # the same task (uuid-1) on both hosts; uuid-2 ran on pe-b only: pe-b's copy is found by name
    report, dummy, dummy2 = run(callback, [('ok', 'pe-a', first, loop), ('ok', 'pe-b', first, b),
                                           ('ok', 'pe-a', second, a)], ['pe-a', 'pe-b'])
    assert report['summary']['pairs'] == 2 and report['summary']['pair_rows'] == 2


def test_summary_line_and_html_name_the_pair_rows(callback, routers):
    routers['pe-b'].nl.links_by_name['pw-cust']['mtu'] = 1400
    results = check_both(routers)
    report, dummy, dummy2 = run(callback, [('ok', h, SESSION, r) for h, r in results.items()], ['pe-a', 'pe-b'])
    line = drift_report.summary_line(report, ['/x/drift-report.md'])
    assert line.startswith('drift report: 1 of 2 hosts drifted (1 row), 1 of them where the two ends of a pair disagree')
    page = read_html(callback)
    assert '<p class="pairs"><strong>Pairs</strong>: 1 pair compared' in page
    assert 'data-store="pair"' in page and "pe-b&#x27;s mtu (after)" in page


# --- the table and the views, pure ----------------------------------------------------------------------
def test_mismatches_mirrored_shared_absent_and_masked():
    kind = KINDS['l2tpv3']
    mine = {'local': '192.0.2.1', 'remote': '192.0.2.2', 'tunnel_id': 1, 'peer_tunnel_id': 2, 'session_id': 10,
            'peer_session_id': 20, 'cookie': SECRET_MASK, 'peer_cookie': 'none', 'udp_sport': 1701, 'udp_dport': 1702,
            'encap': 'udp', 'mtu': 1446}
    theirs = dict(mine, local='192.0.2.2', remote='192.0.2.1', tunnel_id=2, peer_tunnel_id=1, session_id=20,
                  peer_session_id=10, cookie='none', peer_cookie=SECRET_MASK, udp_sport=1702, udp_dport=1701)
    assert mismatches(kind, mine, theirs) == []
    assert mismatches(kind, mine, dict(theirs, remote='192.0.2.9', encap='ip')) == [
        ('local', '192.0.2.1', 'remote', '192.0.2.9'), ('encap', 'udp', 'encap', 'ip')]
    assert mismatches(kind, mine, dict(theirs, peer_cookie='none')) == [('cookie', SECRET_MASK, 'peer_cookie', 'none')]
    assert mismatches(kind, mine, dict(theirs, peer_cookie='********')) == []
    assert mismatches(kind, None, theirs) == [(None, False, None, True)]
    assert mismatches(kind, None, None) == []


def test_runtime_views_of_both_forms():
    kind = KINDS['iptun']
    view = {'name': 'runtime', 'mtu': 1476}
    single = {'diff': {'before': {'runtime': view, 'persistent': None}, 'after': {'runtime': None, 'persistent': None}}}
    assert runtime_views(kind, single, True) == {'runtime': view}          # named by its view
    assert runtime_views(kind, single, False) == {'runtime': None}          # gone after: named by before
    assert runtime_views(kind, dict(single, peers={'runtime': 'rt2'}), False) == {'runtime': None}
    bulk = {'diff': {'before': {'runtime': {'runtime': view, 'persistent': None}, 't2': {'runtime': None}}}}
    assert runtime_views(kind, bulk, True) == {'runtime': view, 't2': None}
    assert runtime_views(kind, {'diff': 'odd'}, True) == {} and runtime_views(kind, {}, True) == {}


def test_the_report_holds_json_types(callback, routers):
    routers['pe-b'].nl.links_by_name['pw-cust']['mtu'] = 1400
    results = check_both(routers)
    dummy, dummy2, text = run(callback, [('ok', h, SESSION, r) for h, r in results.items()], ['pe-a', 'pe-b'])
    row = [r for r in json.loads(text)['hosts']['pe-a']['rows'] if r['store'] == 'pair'][0]
    assert isinstance(row['after'], int) and row['peer'] == 'pe-b'
