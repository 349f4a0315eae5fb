# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""edgenet.router.drift_report: real-shaped module results in through the v2_* methods,
both report files out, read back and checked."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import stat

import pytest
from ansible import context
from ansible.module_utils.common.collections import ImmutableDict
from ansible.plugins.loader import callback_loader

from ansible_collections.edgenet.router.plugins.callback import drift_report
from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service import DRIFT_DAEMON, DRIFT_FILE
from ansible_collections.edgenet.router.plugins.module_utils._engine import Field, ObjectTable, SECRET_MASK
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_store import FakeStore

TABLE = ObjectTable('tunnel', [
    Field('type', update=engine.RECREATE),
    Field('local'),
    Field('ttl', type='int'),
    Field('key', secret=True),
])

SIT = {'type': 'sit', 'local': '198.51.100.7', 'ttl': 64, 'key': 'hunter2'}


class FakeHost(object):
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class FakeTask(object):
    def __init__(self, name, action, no_log=False):
        self.name = name
        self.action = action
        self.resolved_action = action
        self.no_log = no_log

    def get_name(self):
        return self.name


class FakeResult(object):
    """Shaped like ansible-core's CallbackTaskResult (host, task, result)."""

    def __init__(self, host, task, result):
        self.host = FakeHost(host)
        self.task = task
        self.result = result


class FakeStats(object):
    def __init__(self, hosts):
        self.processed = dict((h, 1) for h in hosts)


class FakePlaybook(object):
    _file_name = '/srv/site/converge.yml'


def module_result(runtime, persistent, desired, check_mode=True):
    """What an engine-based module (iptun, pipex_session...) returns, from the real engine."""
    stores = [FakeStore(engine.PERSISTENT, persistent, read_only=check_mode),
              FakeStore(engine.RUNTIME, runtime, read_only=check_mode)]
    out = engine.run(TABLE, stores, desired, check_mode=check_mode)
    return {'changed': out['changed'], 'changes': out['changes'], 'commands': out['commands'],
            'diff': {'before': out['before'], 'after': out['after']}}


def load_callback():
    """The plugin as Ansible loads it: by FQCN, with its DOCUMENTATION options (ansible-test
    units puts the collection on the collection loader's path)."""
    cb = callback_loader.get('edgenet.router.drift_report')
    assert cb is not None, 'the callback does not load by its FQCN'
    return cb


def run(cb, events, hosts):
    """Feed (method, host, task, result) tuples, then the end of the playbook; read the JSON and
    Markdown files (read_html reads the third)."""
    cb.v2_playbook_on_start(FakePlaybook())
    for method, host, task, result in events:
        kwargs = {'ignore_errors': True} if method == 'failed_ignored' else {}
        method = 'failed' if method == 'failed_ignored' else method
        getattr(cb, 'v2_runner_on_' + method)(FakeResult(host, task, result), **kwargs)
    cb.v2_playbook_on_stats(FakeStats(hosts))
    directory = cb.get_option('dir')
    base = cb.get_option('basename')
    with open(os.path.join(directory, base + '.json')) as f:
        text_json = f.read()
    with open(os.path.join(directory, base + '.md')) as f:
        text_md = f.read()
    return json.loads(text_json), text_md, text_json


IPTUN = FakeTask('Tunnel to the broker', 'edgenet.router.iptun')


def test_field_drift_per_host_and_store(callback):
    drifted = module_result({'he': dict(SIT, ttl=17)}, {'he': SIT}, {'he': SIT})
    in_step = module_result({'he': SIT}, {'he': SIT}, {'he': SIT})
    assert drifted['changed'] and not in_step['changed']
    report, md, dummy = run(callback, [('ok', 'r1', IPTUN, drifted), ('ok', 'r2', IPTUN, in_step)], ['r1', 'r2'])

    assert report['schema_version'] == 1
    assert report['check_mode'] is True and report['diff_mode'] is True
    assert report['playbooks'] == ['/srv/site/converge.yml']
    assert report['summary'] == {'hosts': 2, 'clean': 1, 'drift': 1, 'failed': 0, 'unreachable': 0, 'rows': 1,
                                 'not_checked': 0, 'not_checked_hosts': 0, 'pairs': 0, 'pair_rows': 0,
                                 'pairs_not_checked': 0}
    assert report['hosts']['r2'] == {'status': 'clean', 'rows': [], 'failures': [], 'not_checked': []}
    assert report['hosts']['r1']['status'] == 'drift'
    assert report['hosts']['r1']['rows'] == [{
        'task': 'Tunnel to the broker', 'module': 'edgenet.router.iptun', 'object': 'he',
        'store': 'runtime', 'action': 'modify', 'field': 'ttl', 'fields': None, 'before': 17, 'after': 64,
        'diff': True, 'note': None, 'peer': None, 'peer_field': None,
    }]

    assert '**1 of 2 hosts drifted** (1 rows); 1 clean, 0 failed, 0 unreachable.' in md
    assert 'check mode (nothing was changed)' in md
    assert '| Tunnel to the broker | `edgenet.router.iptun` | `he` | runtime | modify | `ttl` | `17` | `64` |  |' in md
    r2 = md.split('## r2', 1)[1]
    assert r2.strip().startswith('No drift.')


def test_create_recreate_and_delete_rows(callback):
    created = module_result({}, {}, {'new': SIT})
    recreated = module_result({'he': dict(SIT, type='ipip')}, {'he': SIT}, {'he': SIT})
    deleted = module_result({'old': SIT}, {'old': SIT}, {'old': None})
    report, md, dummy = run(callback, [('ok', 'r1', IPTUN, created), ('ok', 'r1', IPTUN, recreated),
                                       ('ok', 'r1', IPTUN, deleted)], ['r1'])
    rows = report['hosts']['r1']['rows']
    got = set((r['object'], r['store'], r['action'], r['field']) for r in rows)
    assert ('he', 'runtime', 'recreate', 'type') in got
    assert ('old', 'runtime', 'delete', None) in got
    assert ('old', 'persistent', 'delete', None) in got
    # a missing object is ONE row per store, its fields folded into it
    created_rows = [r for r in rows if r['object'] == 'new']
    assert [(r['store'], r['action'], r['field']) for r in created_rows] == [
        ('persistent', 'create', None), ('runtime', 'create', None)]
    for row in created_rows:
        assert row['fields'] == ['key', 'local', 'ttl', 'type']
        assert row['before'] is None
        assert row['after'] == {'key': SECRET_MASK, 'local': '198.51.100.7', 'ttl': 64, 'type': 'sit'}
    assert all(r['fields'] is None for r in rows if r['action'] != 'create')
    assert '| `new` | persistent | create | `key, local, ttl, type` | (absent) | `{"key": ' in md
    assert '| `old` | runtime | delete |  |  | (absent) |' in md


def test_create_with_bare_values_and_odd_field_names_is_one_row():
    result = {'changed': True, 'changes': [
        {'store': 'runtime', 'object': 'x', 'action': 'create', 'fields': {'mtu': 1280, 3: 'three'}},
        {'store': 'runtime', 'object': 'y', 'action': 'modify', 'fields': {'mtu': 1280, 3: 'three'}}]}
    rows = drift_report.rows_from_result('T', 'm', result)
    assert [(r['object'], r['field'], r['fields'], r['after']) for r in rows] == [
        ('x', None, ['3', 'mtu'], {'3': 'three', 'mtu': 1280}),
        ('y', 3, None, 'three'), ('y', 'mtu', None, 1280)]


def test_masked_values_stay_masked(callback):
    result = module_result({'he': dict(SIT, key='old-secret')}, {'he': SIT}, {'he': dict(SIT, key='new-secret')})
    report, md, text = run(callback, [('ok', 'r1', IPTUN, result)], ['r1'])
    keys = [r for r in report['hosts']['r1']['rows'] if r['field'] == 'key']
    assert keys and all(r['before'] == SECRET_MASK and r['after'] == SECRET_MASK for r in keys)
    for secret in ('old-secret', 'new-secret', 'hunter2'):
        assert secret not in text and secret not in md


@pytest.mark.parametrize('task, result', [
    # ansible-core censors the result of a no_log task before callbacks see it ...
    (FakeTask('Session', 'edgenet.router.pipex_session', no_log=True),
     {'changed': True, 'censored': "the output has been hidden due to the fact that 'no_log: true' was specified"}),
    # ... and even when a result arrives uncensored but marked, nothing of it is written
    (FakeTask('Session', 'edgenet.router.pipex_session'),
     dict(module_result({}, {}, {'pw-a': dict(SIT, key='s3cr3t-cookie')}), _ansible_no_log=True)),
    (FakeTask('Session', 'edgenet.router.pipex_session', no_log=True),
     module_result({}, {}, {'pw-a': dict(SIT, local='203.0.113.250')})),
])
def test_no_log_results_are_never_written(callback, task, result):
    report, md, text = run(callback, [('ok', 'r1', task, result),
                                      ('failed', 'r2', task, dict(result, msg='failed with 203.0.113.250'))],
                           ['r1', 'r2'])
    assert report['hosts']['r1']['rows'] == [{
        'task': 'Session', 'module': 'edgenet.router.pipex_session', 'object': None, 'store': None,
        'action': None, 'field': None, 'fields': None, 'before': None, 'after': None, 'diff': False,
        'note': 'changed (result censored: no_log)', 'peer': None, 'peer_field': None,
    }]
    assert report['hosts']['r2']['status'] == 'failed'
    assert report['hosts']['r2']['failures'][0]['msg'] == '(censored: no_log)'
    for leak in ('pw-a', 's3cr3t-cookie', '203.0.113.250', '198.51.100.7'):
        assert leak not in text and leak not in md


def test_loop_items_each_give_rows_and_censored_items_stay_hidden(callback):
    item_a = dict(module_result({'a': dict(SIT, ttl=1)}, {'a': SIT}, {'a': SIT}), item='a')
    item_b = dict(module_result({'b': SIT}, {'b': SIT}, {'b': SIT}), item='b')
    item_c = {'changed': True, 'censored': 'hidden', '_ansible_no_log': True}
    result = {'changed': True, 'results': [item_a, item_b, item_c]}
    report, dummy, text = run(callback, [('ok', 'r1', IPTUN, result)], ['r1'])
    rows = report['hosts']['r1']['rows']
    assert [(r['object'], r['field'], r['note']) for r in rows] == [
        ('a', 'ttl', None), (None, None, 'changed (result censored: no_log)')]


def test_other_modules_get_one_row_saying_whether_a_diff_exists(callback):
    copy = FakeTask('Write the sysctl file', 'ansible.builtin.copy')
    cmd = FakeTask('Reload', 'ansible.builtin.command')
    report, md, dummy = run(callback, [
        ('ok', 'r1', copy, {'changed': True, 'diff': [{'before': 'a\n', 'after': 'b\n'}], 'dest': '/etc/x'}),
        ('ok', 'r1', cmd, {'changed': True, 'rc': 0}),
        ('ok', 'r1', copy, {'changed': False, 'dest': '/etc/y'}),
    ], ['r1'])
    rows = report['hosts']['r1']['rows']
    assert [(r['module'], r['object'], r['field'], r['diff'], r['note']) for r in rows] == [
        ('ansible.builtin.copy', None, None, True, 'changed (diff returned)'),
        ('ansible.builtin.command', None, None, False, 'changed (no diff returned)'),
    ]
    assert '| Write the sysctl file | `ansible.builtin.copy` |' in md


def test_dhcpv6_daemon_drift_is_a_normal_row(callback):
    dhcp = FakeTask('DHCPv6 on the LAN', 'edgenet.router.dhcpv6_server')
    # a stopped daemon (systemd starts it): the runtime store's create row, like any other store's
    stopped = {'changed': True, 'drift': [DRIFT_DAEMON], 'server': {'interface': 'lan0', 'mode': 'server'},
               'changes': [{'store': 'runtime', 'object': 'lan0', 'action': 'create',
                            'fields': {'mode': {'before': None, 'after': 'server'}}}],
               'diff': {'before': {}, 'after': {}}}
    # the file differs: the persistent change rows say it
    edited = {'changed': True, 'drift': [DRIFT_FILE], 'server': {'interface': 'lan1'},
              'changes': [{'store': 'persistent', 'object': 'lan1', 'action': 'modify',
                           'fields': {'dns_servers': {'before': [], 'after': ['2001:db8::53']}}}]}
    # a drift label without a row is no longer read: the rows are the whole story
    label_only = {'changed': False, 'changes': [], 'drift': [DRIFT_DAEMON], 'server': {'interface': 'lan2'}}
    in_step = {'changed': False, 'changes': [], 'drift': [], 'server': {'interface': 'lan3'}}
    report, md, dummy = run(callback, [('ok', 'r1', dhcp, stopped), ('ok', 'r1', dhcp, edited),
                                       ('ok', 'r1', dhcp, label_only), ('ok', 'r2', dhcp, in_step)], ['r1', 'r2'])
    rows = report['hosts']['r1']['rows']
    assert [(r['object'], r['store'], r['action'], r['field'], r['before'], r['after'], r['note']) for r in rows] == [
        ('lan0', 'runtime', 'create', None, None, {'mode': 'server'}, None),
        ('lan1', 'persistent', 'modify', 'dns_servers', [], ['2001:db8::53'], None),
    ]
    assert report['hosts']['r2']['status'] == 'clean'
    assert '`["2001:db8::53"]`' in md


def test_failures_unreachable_and_ignored_errors(callback):
    task = FakeTask('Tunnel', 'edgenet.router.iptun')
    report, md, dummy = run(callback, [
        ('failed', 'r1', task, {'failed': True, 'msg': 'kernel has no sit support'}),
        ('unreachable', 'r2', task, {'unreachable': True, 'msg': 'ssh: connect timed out'}),
        ('failed_ignored', 'r3', task, {'failed': True, 'msg': 'ignored'}),
    ], ['r1', 'r2', 'r3'])
    assert report['summary'] == {'hosts': 3, 'clean': 1, 'drift': 0, 'failed': 1, 'unreachable': 1, 'rows': 0,
                                 'not_checked': 1, 'not_checked_hosts': 1, 'pairs': 0, 'pair_rows': 0,
                                 'pairs_not_checked': 0}
    assert report['hosts']['r1']['status'] == 'failed'
    assert report['hosts']['r1']['failures'] == [
        {'task': 'Tunnel', 'module': 'edgenet.router.iptun', 'unreachable': False, 'msg': 'kernel has no sit support'}]
    assert report['hosts']['r2']['status'] == 'unreachable'
    # an ignored failure is not a failed host, but the task is listed as not checked
    assert report['hosts']['r3']['status'] == 'clean'
    assert report['hosts']['r3']['failures'] == []
    assert report['hosts']['r3']['not_checked'] == [
        {'task': 'Tunnel', 'module': 'edgenet.router.iptun', 'reason': 'ignored'}]
    assert report['hosts']['r1']['not_checked'] == []
    assert '- failed task Tunnel (`edgenet.router.iptun`): kernel has no sit support' in md
    assert '**1 not checked**: 1 task on 1 host failed with errors ignored' in md
    assert '| r3 | clean, 1 not checked | 0 |' in md
    assert '- not checked: task Tunnel (`edgenet.router.iptun`): ignored' in md.split('## r3', 1)[1]


def test_not_checked_reasons_are_cut_censored_and_taken_from_loop_items(callback):
    task = FakeTask('Tunnel', 'edgenet.router.iptun')
    secret_task = FakeTask('Session', 'edgenet.router.pipex_session', no_log=True)
    long_msg = 'line one\nline two\x1b[31m ' + 'x' * 5000
    loop = {'failed': True, 'msg': 'One or more items failed', 'results': [
        {'failed': False, 'changed': False, 'item': 'a'},
        {'failed': True, 'msg': 'no such device: he9', 'item': 'b'}]}
    report, md, text = run(callback, [
        ('failed_ignored', 'r1', task, {'failed': True, 'msg': long_msg}),
        ('failed_ignored', 'r1', secret_task, {'failed': True, 'msg': 'cookie s3cr3t-cookie rejected'}),
        ('failed_ignored', 'r2', task, loop),
        # ansible-core 2.19's shape: no 'failed' key left, a failed item has 'exception'
        ('failed_ignored', 'r2', task, {'changed': True, 'msg': 'One or more items failed', 'results': [
            {'changed': True, 'msg': '', 'rc': 0, 'item': '/bin/true'},
            {'changed': True, 'msg': 'The command exited with a non-zero return code.', 'rc': 1,
             'exception': '(traceback unavailable)', 'item': '/bin/false'}]}),
        ('failed_ignored', 'r2', task, {'failed': True}),
        ('failed_ignored', 'r2', task, {'failed': True, 'msg': {'odd': ['type', 1]}}),
    ], ['r1', 'r2'])
    reasons = [n['reason'] for n in report['hosts']['r1']['not_checked']]
    assert len(reasons[0]) == 300 and reasons[0].startswith('line one line two') and reasons[0].endswith('...')
    assert '\\x1b[31m' in reasons[0]                 # shown, not sent to a terminal
    assert '\x1b' not in md
    assert reasons[1] == '(censored: no_log)'
    assert [n['reason'] for n in report['hosts']['r2']['not_checked']] == [
        '1 of 2 items failed; the first: no such device: he9',
        '1 of 2 items failed; the first: The command exited with a non-zero return code.',
        'failed (no message)', '{"odd": ["type", 1]}']
    assert report['summary']['not_checked'] == 6 and report['summary']['not_checked_hosts'] == 2
    assert 's3cr3t-cookie' not in text and 's3cr3t-cookie' not in md


def test_markdown_cells_escape_pipes_and_cut_long_values(tmp_path, cli_check):
    cb = load_callback()
    cb.set_options(direct={'dir': str(tmp_path), 'max_value_length': 20})
    result = {'changed': True, 'changes': [{'store': 'persistent', 'object': 'a|b', 'action': 'modify',
                                            'fields': {'description': {'before': 'x' * 50, 'after': 'l1\nl2'}}}]}
    report, md, dummy = run(cb, [('ok', 'r1', IPTUN, result)], ['r1'])
    assert report['hosts']['r1']['rows'][0]['before'] == 'x' * 50     # JSON keeps the whole value
    line = [ln for ln in md.splitlines() if ln.startswith('| Tunnel')][0]
    assert '`a\\|b`' in line and '`%s...`' % ('x' * 17) in line and '`l1 l2`' in line
    assert line.count(' | ') == 8          # nine cells: nothing split the row


def test_options_from_environment_and_atomic_replace(tmp_path, monkeypatch, cli_check):
    out = tmp_path / 'nightly'
    monkeypatch.setenv('EDGENET_DRIFT_REPORT_DIR', str(out))
    monkeypatch.setenv('EDGENET_DRIFT_REPORT_BASENAME', 'site')
    out.mkdir()
    (out / 'site.json').write_text('stale')
    cb = load_callback()
    cb.set_options()
    old_umask = os.umask(0o022)
    try:
        report, md, dummy = run(cb, [], ['r1'])
    finally:
        os.umask(old_umask)
    assert report['hosts'] == {'r1': {'status': 'clean', 'rows': [], 'failures': [], 'not_checked': []}}
    assert sorted(os.listdir(str(out))) == ['site.html', 'site.json', 'site.md']   # no temporary file left
    # mkstemp makes 0600 files: the report is chmod'ed to what the umask allows, like any new file
    assert stat.S_IMODE(os.stat(str(out / 'site.md')).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(str(out / 'site.json')).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(str(out / 'site.html')).st_mode) == 0o644


def test_normal_run_is_flagged(tmp_path, monkeypatch):
    monkeypatch.setattr(context, 'CLIARGS', ImmutableDict(check=False, diff=False))
    cb = load_callback()
    cb.set_options(direct={'dir': str(tmp_path)})
    report, md, dummy = run(cb, [('ok', 'r1', IPTUN, module_result({}, {}, {'x': SIT}, check_mode=False))], ['r1'])
    assert report['check_mode'] is False and report['diff_mode'] is False
    assert 'normal run (changes were applied)' in md
    assert report['summary']['rows'] == 2      # one create row per store, not one per field


def read_html(cb):
    with open(os.path.join(cb.get_option('dir'), cb.get_option('basename') + '.html')) as f:
        return f.read()


def assert_self_contained(page):
    """No resource from the network, nothing that links out: every src/href is an anchor on the
    page, and the policy forbids fetches and runs only the page's own script."""
    assert 'http://' not in page and 'https://' not in page
    tags = re.findall(r'<[a-zA-Z][^>]*>', page)       # escaped text has &lt;, not <
    assert not [t for t in tags if re.search(r'\ssrc\s*=', t, re.I)]
    hrefs = [h for t in tags for h in re.findall(r'\shref\s*=\s*"([^"]*)"', t, re.I)]
    assert all(h.startswith('#') for h in hrefs)
    assert not re.search(r'@import|url\(', page, re.I)
    assert page.count('<script>') == 1 and page.count('<style>') == 1
    script = page.split('<script>', 1)[1].split('</script>', 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode('utf-8')).digest()).decode('ascii')
    assert "default-src &#x27;none&#x27;" in page and ('sha256-%s' % digest) in page


HOSTILE = '<script>alert("owned")</script><img src=x onerror=alert(1)>'


def test_html_report_escapes_values_and_fetches_nothing(callback):
    hostile = {'changed': True, 'changes': [
        {'store': 'persistent', 'object': 'he<b>', 'action': 'modify',
         'fields': {'description': {'before': HOSTILE, 'after': 'ok & "quoted"'}}},
        {'store': 'runtime', 'object': 'gre"1', 'action': 'create',
         'fields': {'remote': {'before': None, 'after': HOSTILE}}}]}
    task = FakeTask('Tunnel <i>', 'edgenet.router.iptun')
    report, dummy, dummy = run(callback, [
        ('ok', 'r1', task, hostile),
        ('failed_ignored', 'r2', task, {'failed': True, 'msg': 'bad ' + HOSTILE}),
        ('failed', 'r3', task, {'failed': True, 'msg': HOSTILE}),
    ], ['r1', 'r2', 'r3'])
    page = read_html(callback)
    assert '<script>alert' not in page and '<img' not in page and '<b>' not in page and '<i>' not in page
    assert html.escape(HOSTILE, quote=True) in page
    assert 'object <code>he&lt;b&gt;</code>' in page and 'gre&quot;1' in page
    assert 'ok &amp; &quot;quoted&quot;' in page
    assert_self_contained(page)


def test_html_report_lists_every_host_and_object_grouped(callback):
    events = [
        ('ok', 'r1', IPTUN, module_result({'a': dict(SIT, ttl=1, local='192.0.2.1'), 'b': dict(SIT, ttl=2)},
                                          {'a': SIT, 'b': SIT}, {'a': SIT, 'b': SIT})),
        ('ok', 'r1', FakeTask('Write a file', 'ansible.builtin.copy'), {'changed': True, 'diff': []}),
        ('ok', 'r2', IPTUN, module_result({}, {}, {'new': SIT})),
        ('ok', 'r3', IPTUN, module_result({'c': SIT}, {'c': SIT}, {'c': SIT})),
        ('failed_ignored', 'r4', IPTUN, {'failed': True, 'msg': 'no sit module'}),
        ('unreachable', 'r5', IPTUN, {'unreachable': True, 'msg': 'timed out'}),
    ]
    report, dummy, dummy = run(callback, events, ['r1', 'r2', 'r3', 'r4', 'r5'])
    page = read_html(callback)
    sections = page.split('<table class="hosts">', 1)[1].split('</table>', 1)[1]
    for host in ('r1', 'r2', 'r3', 'r4', 'r5'):
        assert '<tr data-host="%s" data-status=' % host in page      # every host in the summary table
    for host in ('r1', 'r2', 'r4', 'r5'):
        assert 'data-host="%s" data-status=' % host in sections       # and a section of its own
    assert 'data-host="r3"' not in sections                          # a clean host: a line only
    r1 = sections.split('data-host="r1" data-status="drift">', 1)[1].split('</section>', 1)[0]
    # rows grouped per object: one group head each, the rows of the object under it
    assert r1.count('<tbody class="object">') == 3
    group_a = r1.split('object <code>a</code> (2 rows)', 1)[1].split('</tbody>', 1)[0]
    assert group_a.count('<tr class="row"') == 2 and '192.0.2.1' in group_a and '<code>ttl</code>' in group_a
    assert 'object <code>b</code> (1 row)' in r1 and 'other tasks (no object) (1 row)' in r1
    assert r1.index('object <code>a</code>') < r1.index('object <code>b</code>') < r1.index('other tasks')
    # a missing object is one row: its fields as a list in the after cell
    r2 = sections.split('data-host="r2" data-status="drift">', 1)[1].split('</section>', 1)[0]
    assert r2.count('<tr class="row"') == 2 and '(4 fields)' in r2 and '<code>ttl</code> = <code>64</code>' in r2
    # summary per host: status and counts, not-checked and unreachable shown
    assert '<tr data-host="r1" data-status="drift"><td><a href="#host-1">r1</a></td><td class="status drift">' \
           'drift</td><td>4</td><td>3</td><td>0</td><td>0</td></tr>' in page
    assert 'clean, 1 not checked' in page and 'no sit module' in page
    assert 'unreachable at task' in page and 'timed out' in page
    # filters: hidden until the script shows them; rows carry what they filter on
    assert '<form id="filters" hidden>' in page
    for name in ('status', 'host', 'module', 'store'):
        assert '<select name="%s">' % name in page
    assert '<tr class="row" data-module="edgenet.router.iptun" data-store="runtime">' in page
    assert_self_contained(page)


def test_html_puts_hosts_that_need_a_look_first_and_counts_what_drifted(callback):
    """200 hosts: the failed and drifted ones on the first screen, clean ones last; one table says
    how many hosts drifted in each field before the per-host sections repeat it."""
    ttl = module_result({'t': dict(SIT, ttl=1)}, {'t': SIT}, {'t': SIT})   # ttl differs in runtime
    events = [
        ('ok', 'a-clean', IPTUN, module_result({'t': SIT}, {'t': SIT}, {'t': SIT})),
        ('ok', 'b-drift', IPTUN, ttl),
        ('ok', 'c-drift', IPTUN, ttl),
        ('ok', 'd-drift', IPTUN, module_result({}, {}, {'new': SIT})),
        ('failed', 'e-failed', IPTUN, {'failed': True, 'msg': 'boom'}),
        ('failed_ignored', 'f-unchecked', IPTUN, {'failed': True, 'msg': 'no sit module'}),
        ('unreachable', 'g-gone', IPTUN, {'unreachable': True, 'msg': 'timed out'}),
    ]
    hosts = ['a-clean', 'b-drift', 'c-drift', 'd-drift', 'e-failed', 'f-unchecked', 'g-gone']
    report, dummy, text = run(callback, events, hosts)
    page = read_html(callback)
    table = page.split('<table class="hosts">', 1)[1].split('</table>', 1)[0]
    order = re.findall(r'<tr data-host="([^"]*)" data-status="([^"]*)">', table)
    assert order == [('g-gone', 'unreachable'), ('e-failed', 'failed'), ('b-drift', 'drift'),
                     ('c-drift', 'drift'), ('d-drift', 'drift'), ('f-unchecked', 'clean'), ('a-clean', 'clean')]
    sections = re.findall(r'<section class="host" id="(host-\d+)" data-host="([^"]*)"', page)
    assert [host for dummy, host in sections] == ['g-gone', 'e-failed', 'b-drift', 'c-drift', 'd-drift',
                                                  'f-unchecked']
    # an anchor is the host's place by name, whatever the order on the page
    assert ('host-5', 'e-failed') in sections and '<a href="#host-5">e-failed</a>' in table
    assert list(json.loads(text)['hosts']) == sorted(hosts)          # the JSON file keeps the name order
    # what drifted: per module, store, action and field, most hosts first; a create is one line
    drifted = page.split('<h2>What drifted</h2>', 1)[1].split('</table>', 1)[0]
    lines = re.findall(r'<tr><td><code>([^<]*)</code></td><td>(\w*)</td><td>(\w*)</td><td><code>([^<]*)</code>'
                       r'</td><td>(\d+)</td><td>(\d+)</td></tr>', drifted)
    assert lines[0] == ('edgenet.router.iptun', 'runtime', 'modify', 'ttl', '2', '2')
    assert ('edgenet.router.iptun', 'persistent', 'create', '(whole object)', '1', '1') in lines
    assert len(lines) == 3
    assert page.index('What drifted') < page.index('<form id="filters"') < page.index('<table class="hosts">')
    # the filters: status among them, a line that says how much is shown
    assert '<select name="status">' in page and '<output id="shown"></output>' in page
    assert_self_contained(page)


def test_html_what_drifted_is_absent_without_rows_and_capped(callback):
    run(callback, [('ok', 'r1', IPTUN, module_result({'t': SIT}, {'t': SIT}, {'t': SIT}))], ['r1'])
    assert 'What drifted' not in read_html(callback)
    rows = [drift_report._row('T', 'm', object='o', store='runtime', action='modify', field='f%03d' % i,
                              before=1, after=2) for i in range(60)]
    report = {'check_mode': True, 'diff_mode': True, 'playbooks': [], 'finished': 'now',
              'summary': {'hosts': 1, 'drift': 1, 'clean': 0, 'failed': 0, 'unreachable': 0, 'rows': 60},
              'hosts': {'r1': {'status': 'drift', 'rows': rows, 'failures': [], 'not_checked': []}}}
    page = drift_report.render_html(report)
    drifted = page.split('<h2>What drifted</h2>', 1)[1].split('</table>', 1)[0]
    assert drifted.count('<tr><td>') == 50 and '... and 10 more (the JSON file has every row).' in page


@pytest.mark.parametrize('task, result', [
    (FakeTask('Session', 'edgenet.router.pipex_session', no_log=True),
     dict(module_result({}, {}, {'pw-a': dict(SIT, key='s3cr3t-cookie', local='203.0.113.250')}),
          msg='failed with 203.0.113.250')),
    (FakeTask('Session', 'edgenet.router.pipex_session'),
     dict(module_result({}, {}, {'pw-a': dict(SIT, key='s3cr3t-cookie', local='203.0.113.250')}),
          _ansible_no_log=True, msg='failed with 203.0.113.250')),
])
def test_html_never_shows_censored_values(callback, task, result):
    run(callback, [('ok', 'r1', task, result), ('failed', 'r2', task, result),
                   ('failed_ignored', 'r3', task, result)], ['r1', 'r2', 'r3'])
    page = read_html(callback)
    for leak in ('pw-a', 's3cr3t-cookie', '203.0.113.250', '198.51.100.7'):
        assert leak not in page
    assert 'changed (result censored: no_log)' in page and '(censored: no_log)' in page


class Unprintable(object):
    def __str__(self):
        return '<unprintable \x00 object>'


def test_odd_values_give_a_report_not_a_traceback(callback):
    loop = []
    loop.append(loop)
    odd = {'changed': True, 'changes': [
        {'store': 'runtime', 'object': ('tuple', 1), 'action': 'modify', 'fields': {
            'blob': {'before': b'\x00\xff', 'after': 'x' * 100000},
            'ctl': {'before': 'a\x00b\x1b[2Jc\r\nd\u2028e', 'after': float('nan')},
            'obj': {'before': Unprintable(), 'after': {(1, 2): 'tuple key', 3: [None, True]}},
            'loop': {'before': loop, 'after': 1}}},
        {'store': 'runtime', 'object': None, 'action': 'create', 'fields': {'mtu': None}},
        {'store': 'persistent', 'object': 7, 'action': 'delete', 'fields': 'not a dict'}]}
    report, md, text = run(callback, [('ok', 'r\x00<1>', IPTUN, odd)], ['r\x00<1>'])
    page = read_html(callback)
    assert len(report['hosts']['r\x00<1>']['rows']) == 6
    for output in (md, page):
        assert '\x00' not in output and '\x1b' not in output
    assert '\\x1b[2J' in page and 'r\\x00&lt;1&gt;' in page
    assert 'x' * 10000 in page and 'x' * 10001 not in page     # a huge value is cut in the page
    assert 'x' * 100000 in text                                 # the JSON file keeps it whole
    assert_self_contained(page)


def test_render_html_of_200_hosts_stays_small():
    hosts = {}
    for n in range(200):
        rows = [drift_report._row('Tunnel', 'edgenet.router.iptun', object='t%d' % (i % 3), store='runtime',
                                  action='modify', field='ttl', before=i, after=64) for i in range(6)]
        hosts['r%03d' % n] = {'status': 'drift' if n % 2 else 'clean', 'rows': rows if n % 2 else [],
                              'failures': [], 'not_checked': []}
    report = {'check_mode': True, 'diff_mode': True, 'playbooks': ['site.yml'], 'finished': 'now',
              'summary': {'hosts': 200, 'drift': 100, 'clean': 100, 'failed': 0, 'unreachable': 0,
                          'rows': 600, 'not_checked': 0, 'not_checked_hosts': 0},
              'hosts': hosts}
    page = drift_report.render_html(report)
    assert page.count('<section class="host"') == 100 and page.count('<tr data-host=') == 200
    assert len(page) < 600 * 400 + 200 * 300 + 10000       # a few hundred bytes per row, no data blob
    assert_self_contained(page)


class RecordingDisplay(object):
    def __init__(self):
        self.lines = []
        self.warnings = []

    def display(self, msg, *args, **kwargs):
        self.lines.append(msg)

    def warning(self, msg, *args, **kwargs):
        self.warnings.append(msg)


def test_summary_line_at_the_end_of_the_play(callback, monkeypatch):
    shown = RecordingDisplay()
    monkeypatch.setattr(callback, '_display', shown)
    task = FakeTask('Tunnel', 'edgenet.router.iptun')
    run(callback, [
        ('ok', 'r1', IPTUN, module_result({'he': dict(SIT, ttl=17)}, {'he': dict(SIT, ttl=17)}, {'he': SIT})),
        ('failed', 'r2', task, {'failed': True, 'msg': 'no'}),
        ('failed_ignored', 'r3', task, {'failed': True, 'msg': 'ignored'}),
        ('ok', 'r4', IPTUN, {'changed': False}),
    ], ['r1', 'r2', 'r3', 'r4'])
    base = os.path.abspath(os.path.join(callback.get_option('dir'), 'drift-report'))
    assert shown.lines == [
        'drift report: 1 of 4 hosts drifted (2 rows), 1 failed, 1 not checked; files: '
        '%s.md, %s.json, %s.html' % (base, base, base)]
    assert not shown.warnings


def test_summary_line_when_the_files_cannot_be_written(tmp_path, cli_check, monkeypatch):
    (tmp_path / 'a-file').write_text('')
    cb = load_callback()
    cb.set_options(direct={'dir': str(tmp_path / 'a-file' / 'sub')})
    shown = RecordingDisplay()
    monkeypatch.setattr(cb, '_display', shown)
    cb.v2_playbook_on_stats(FakeStats(['r1']))
    assert len(shown.warnings) == 1 and 'cannot write the report' in shown.warnings[0]
    assert shown.lines == ['drift report: 0 of 1 hosts drifted (0 rows); files: not written (see the warning above)']
