# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
name: drift_report
type: notification
short_description: Write what drifted, per host and per object, as Markdown, JSON and HTML files
version_added: 0.1.0
description:
  - Collects every task result that reports C(changed) during an C(ansible-playbook) run and, when
    the run ends, writes three files to O(dir) - C(<basename>.json), C(<basename>.md) and
    C(<basename>.html) - that list per host which objects drifted, in which store, and each
    field's value now (C(before)) and the value the play wants (C(after)).
  - The HTML file is one self-contained page (no network fetches) with a summary per host (hosts
    that failed, were unreachable or drifted first), a count of the hosts that drifted in each
    field, the rows grouped per object, and filters by status, host, module and store when
    JavaScript runs.
  - Meant for a nightly C(ansible-playbook site.yml --check --diff) run; a normal run reports what
    it changed the same way.
  - Modules of this collection (M(edgenet.router.iptun), M(edgenet.router.sixtofour_relay),
    M(edgenet.router.dhcpv6_server), M(edgenet.router.pipex_session), M(edgenet.router.ppp_server)) return
    a C(changes) list;
    each field of each entry becomes one row, except that a store lacking the object (action
    C(create)) gives one row for the whole object (its fields folded into C(after) and C(fields)).
    Any other module that reports C(changed) gets one row
    naming the task and module, and saying whether a diff was returned (no field table).
  - Tasks that failed with C(ignore_errors) are listed per host as not checked, with the failure
    message as the reason, and counted in the summary (C(not_checked)).
  - "Pairs: a task of M(edgenet.router.iptun) or M(edgenet.router.pipex_session) whose objects name their
    O(edgenet.router.iptun#module:peer) (the host at the other end, as the P(edgenet.router.tunnel_end#filter)
    filter sets it) returns C(peers); at the end of the run the two hosts' results of that task are
    compared, object by object, in the state of the kernel now (before the task in check mode, after it
    otherwise): the fields that must mirror each other (one end's C(local) is the other's C(remote), its
    C(ikey) the other's C(okey), its C(session_id) the other's C(peer_session_id), cookies and UDP ports
    likewise) and those that must be equal (type, MTU, encapsulation). Each disagreement is one row of store
    C(pair) and action C(mismatch), once per pair, under the host whose name sorts first - C(field) and
    C(before) this host's, C(peer_field) and C(after) the other end's, C(peer) its name. A masked value (a
    cookie) is only compared with an unmasked one (C(none)). When the other end has no result of the task
    (failed, unreachable, skipped, censored), the pair is listed under the host as not checked. The summary
    counts C(pairs), C(pair_rows) and C(pairs_not_checked)."
  - Values the modules masked stay masked. Results of C(no_log) tasks are never written; their row
    only says that the task changed something and that its result is censored.
  - The files are replaced atomically (written to a temporary file in O(dir), then renamed).
  - At the end of the play it prints one line, for CI logs and AWX job output, that counts the
    drifted hosts and their rows, the failed and unreachable hosts and the tasks not checked, and
    names the three files.
  - Works beside the stdout callback; enable it with
    C(ANSIBLE_CALLBACKS_ENABLED=edgenet.router.drift_report) or C(callbacks_enabled) in C(ansible.cfg).
  - The JSON schema and a sample report are in the collection's drift detection guide.
requirements:
  - Enabled with C(callbacks_enabled) (it is a notification callback; it prints only the summary line).
options:
  dir:
    description:
      - Directory the report files are written to; created (with parents) if missing.
      - A relative path is relative to the working directory of C(ansible-playbook).
    type: path
    default: drift-report
    env:
      - name: EDGENET_DRIFT_REPORT_DIR
    ini:
      - section: callback_edgenet_drift_report
        key: dir
  basename:
    description:
      - File name without extension; the callback writes C(<basename>.json), C(<basename>.md) and
        C(<basename>.html).
    type: str
    default: drift-report
    env:
      - name: EDGENET_DRIFT_REPORT_BASENAME
    ini:
      - section: callback_edgenet_drift_report
        key: basename
  max_value_length:
    description:
      - Longest value shown in a Markdown table cell; longer values are cut and end with C(...).
        The JSON file always holds the whole value.
      - In the HTML file a longer value is cut the same way, with the whole value (up to 10000
        characters) one click away.
    type: int
    default: 80
    env:
      - name: EDGENET_DRIFT_REPORT_MAX_VALUE_LENGTH
    ini:
      - section: callback_edgenet_drift_report
        key: max_value_length
seealso:
  - ref: ansible_collections.edgenet.router.docsite.drift_detection
    description: How to run a nightly drift job, the report's JSON schema and a sample report.
'''

import base64
import datetime
import hashlib
import html
import json
import os
import re

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.plugin_utils._pairs import PairBook

SCHEMA_VERSION = 1

# What Ansible puts in a result whose task had no_log (ansible-core 2.19+ and earlier).
_CENSORED_KEY = 'censored'
_NO_LOG_KEY = '_ansible_no_log'

# A not-checked task's reason is a failure message: enough to act on, not a whole traceback.
_REASON_LENGTH = 300

_ROW_KEYS = ('task', 'module', 'object', 'store', 'action', 'field', 'fields', 'before', 'after', 'diff', 'note',
             'peer', 'peer_field')

# A pair row's store and action: the two ends of a tunnel or pseudowire disagree.
PAIR_STORE = 'pair'
PAIR_ACTION = 'mismatch'


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _plain(value):
    """``value`` as plain JSON data (tagged or odd types become str)."""
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError, RecursionError):
        # keys json cannot take (a tuple), a loop in the data, nesting too deep: go by hand
        return _plain_by_hand(value, 0)


def _plain_by_hand(value, depth):
    if depth > 50:
        return '...'
    if isinstance(value, dict):
        return dict((str(k), _plain_by_hand(v, depth + 1)) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain_by_hand(v, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _attr(obj, name):
    """ansible-core 2.19+ names (host, task, result) first, then the older underscored ones."""
    try:
        return getattr(obj, name)
    except AttributeError:
        return getattr(obj, '_' + name)


def _is_censored(task, res):
    if res.get(_NO_LOG_KEY) or _CENSORED_KEY in res:
        return True
    return bool(getattr(task, 'no_log', False) is True)


def _module_name(task):
    for name in ('resolved_action', 'action'):
        value = getattr(task, name, None)
        if value:
            return str(value)
    return None


def _row(task, module, **kwargs):
    row = dict((key, None) for key in _ROW_KEYS)
    row.update(task=task, module=module, diff=False)
    row.update(kwargs)
    return row


def _looks_like_changes(changes):
    return isinstance(changes, list) and changes and all(
        isinstance(c, dict) and 'object' in c and 'store' in c for c in changes)


def _reports_drift(res):
    """Changed, or a plan of the collection's shape with rows in it."""
    return bool(res.get('changed') or _looks_like_changes(res.get('changes')))


def _before_after(value):
    """A ``fields`` entry is ``{before, after}``; a bare value is the wanted one."""
    if isinstance(value, dict):
        return value.get('before'), value.get('after')
    return None, value


def _create_row(task_name, module, fields, common):
    """A store lacking the object: ONE row, not one per field. Every field's ``before`` is
    absent anyway, so a row each only repeats the object; ``after`` holds the object the task
    wants (field -> value) and ``fields`` names its fields."""
    names = sorted(fields, key=str)
    after = dict((str(name), _before_after(fields[name])[1]) for name in names)
    return _row(task_name, module, after=after, fields=[str(name) for name in names], **common)


# C0 and C1 control characters but tab and newline: values come from routers, and an escape
# sequence in a report someone cats to a terminal (or a NUL in an HTML page) does harm.
_CONTROL = re.compile(r'[\x00-\x08\x0b-\x1f\x7f-\x9f]')


def _visible(text):
    """``text`` with control characters shown as ``\\xNN`` instead of sent as they are."""
    return _CONTROL.sub(lambda m: '\\x%02x' % ord(m.group()), text)


def _one_line(value, limit):
    """``value`` as text on one line (runs of whitespace, newlines included, become one
    space), cut at ``limit`` with ``...``; never raises, whatever the type."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    text = _visible(' '.join(text.split()))
    if limit and len(text) > limit:
        text = text[:max(limit - 3, 1)] + '...'
    return text


def _item_failed(item):
    """ansible-core 2.19 hands callbacks loop items without their ``failed`` key; a failed one
    still carries ``exception`` (earlier versions keep ``failed``)."""
    return bool(item.get('failed')) or 'exception' in item


def _failure_reason(task, res, censored):
    """Why an ignored failure left its task unchecked: the failure message; for a loop, how
    many items failed and the first one's message (the loop's own only says that some did)."""
    if censored:
        return '(censored: no_log)'
    msg = res.get('msg')
    items = res.get('results') if isinstance(res.get('results'), list) else []
    failed_items = [item for item in items if isinstance(item, dict) and _item_failed(item)]
    if any(_is_censored(task, item) for item in failed_items):
        return '(censored: no_log)'
    first = next((item.get('msg') for item in failed_items if item.get('msg')), None)
    if first:
        msg = '%d of %d items failed; the first: %s' % (
            len(failed_items), len(items), _one_line(first, _REASON_LENGTH))
    if not msg:
        return 'failed (no message)'
    return _one_line(msg, _REASON_LENGTH)


def rows_from_result(task_name, module, res):
    """Drift rows of one (non-censored, changed) module result.

    A ``changes`` list of the collection's shape gives one row per object, store and field (a
    change without fields, like a delete, gives one row with ``field`` null); a ``create``
    gives one row for the whole object (``field`` null, ``after`` the wanted fields, ``fields``
    their names). Every module of the collection, dhcpv6_server's daemon included, says all it
    drifted that way. Anything else that changed gives one row for the task.
    """
    has_diff = bool(res.get('diff'))
    rows = []
    changes = res.get('changes')
    if _looks_like_changes(changes):
        for change in changes:
            common = dict(object=change.get('object'), store=change.get('store'),
                          action=change.get('action'), diff=has_diff)
            fields = change.get('fields') or {}
            if not isinstance(fields, dict) or not fields:
                rows.append(_row(task_name, module, **common))
                continue
            if change.get('action') == 'create':
                rows.append(_create_row(task_name, module, fields, common))
                continue
            for field in sorted(fields, key=str):
                before, after = _before_after(fields[field])
                rows.append(_row(task_name, module, field=field, before=before, after=after, **common))
    if not rows and res.get('changed'):
        rows.append(_row(task_name, module, diff=has_diff,
                         note='changed (diff returned)' if has_diff else 'changed (no diff returned)'))
    return rows


class CallbackModule(CallbackBase):
    """Collects drift rows per host and writes the report at the end of the run."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'edgenet.router.drift_report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self._hosts = {}
        self._playbooks = []
        self._started = _now()
        self._pairs = PairBook()

    # ------------------------------------------------------------------ collection

    def _host(self, name):
        return self._hosts.setdefault(name, {'rows': [], 'failures': [], 'not_checked': [],
                                             'unreachable': False})

    def _record(self, result, failed=False, unreachable=False, ignore_errors=False):
        host = _attr(result, 'host').get_name()
        task = _attr(result, 'task')
        res = _attr(result, 'result') or {}
        entry = self._host(host)
        task_name = task.get_name()
        module = _module_name(task)
        censored = _is_censored(task, res)
        self._pair_ends(host, task, module, res, failed, unreachable, censored)
        if unreachable:
            entry['unreachable'] = True
        if failed and ignore_errors and not unreachable:
            # The play goes on, but this task said nothing about drift: without this entry the
            # host would count as clean although its state was never compared.
            entry['not_checked'].append({'task': task_name, 'module': module,
                                         'reason': _failure_reason(task, res, censored)})
        if failed or unreachable:
            if not ignore_errors:
                msg = None if censored else res.get('msg')
                entry['failures'].append({
                    'task': task_name,
                    'module': module,
                    'unreachable': unreachable,
                    'msg': '(censored: no_log)' if censored else (None if msg is None else str(msg)[:500]),
                })
            if unreachable:
                return
        items = res.get('results') if isinstance(res.get('results'), list) else None
        if censored:
            if res.get('changed'):
                entry['rows'].append(_row(task_name, module, note='changed (result censored: no_log)'))
            return
        if items:
            for item in items:
                if not isinstance(item, dict):
                    continue
                if _is_censored(task, item):
                    if item.get('changed'):
                        entry['rows'].append(_row(task_name, module, note='changed (result censored: no_log)'))
                    continue
                if _reports_drift(item):
                    entry['rows'].extend(rows_from_result(task_name, module, item))
            return
        if _reports_drift(res):
            entry['rows'].extend(rows_from_result(task_name, module, res))

    def _pair_ends(self, host, task, module, res, failed, unreachable, censored):
        """Keep the ends of pairs a result names (``peers``), or why this host has none to offer."""
        task_id = getattr(task, '_uuid', None) or task.get_name()
        if unreachable or failed:
            self._pairs.absent(task_id, host, 'was unreachable' if unreachable else 'failed this task')
            return
        if censored:
            self._pairs.absent(task_id, host, 'has its result censored (no_log)')
            return
        check_mode = getattr(task, 'check_mode', None)
        if not isinstance(check_mode, bool):  # not resolved yet: the run's --check decides
            check_mode = bool(context.CLIARGS.get('check', False))
        items = res.get('results') if isinstance(res.get('results'), list) else [res]
        for item in items:
            if not isinstance(item, dict):
                continue
            if _is_censored(task, item):
                self._pairs.absent(task_id, host, 'has its result censored (no_log)')
            elif isinstance(item.get('peers'), dict):
                self._pairs.add(task_id, task.get_name(), module, host, item, check_mode)

    def v2_playbook_on_start(self, playbook):
        name = getattr(playbook, '_file_name', None)
        if name:
            self._playbooks.append(str(name))

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, failed=True, ignore_errors=ignore_errors)

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, unreachable=True)

    def v2_runner_on_skipped(self, result, **kwargs):
        host = _attr(result, 'host').get_name()
        self._host(host)
        task = _attr(result, 'task')
        self._pairs.absent(getattr(task, '_uuid', None) or task.get_name(), host, 'skipped this task')

    def v2_playbook_on_stats(self, stats):
        for name in getattr(stats, 'processed', {}) or {}:
            self._host(name)
        report = self.report()
        paths = self._write(report)
        # One line in the play's output: CI logs and AWX job output show it even where nobody
        # opens the files.
        self._display.display(summary_line(report, paths))

    # ------------------------------------------------------------------ output

    def report(self):
        """The report as plain data (the JSON file's content)."""
        hosts = {}
        summary = {'hosts': 0, 'clean': 0, 'drift': 0, 'failed': 0, 'unreachable': 0, 'rows': 0,
                   'not_checked': 0, 'not_checked_hosts': 0, 'pairs': 0, 'pair_rows': 0, 'pairs_not_checked': 0}
        pair_rows, pairs_not_checked, summary['pairs'] = self._pairs.check()
        for name in sorted(set(self._hosts) | set(pair_rows) | set(pairs_not_checked)):
            entry = self._hosts.get(name) or self._host(name)
            mine = [_row(r['task'], r['module'], object=r['object'], store=PAIR_STORE, action=PAIR_ACTION,
                         field=r['field'], before=r['before'], after=r['after'], diff=True, note=r['note'],
                         peer=r['peer'], peer_field=r['peer_field']) for r in pair_rows.get(name, [])]
            unpaired = [{'task': r['task'], 'module': r['module'], 'reason': r['reason']} for r in pairs_not_checked.get(name, [])]
            summary['pair_rows'] += len(mine)
            summary['pairs_not_checked'] += len(unpaired)
            rows = _plain(entry['rows'] + mine)
            if entry['unreachable']:
                status = 'unreachable'
            elif entry['failures']:
                status = 'failed'
            elif rows:
                status = 'drift'
            else:
                status = 'clean'
            not_checked = _plain(entry['not_checked'] + unpaired)
            hosts[name] = {'status': status, 'rows': rows, 'failures': _plain(entry['failures']),
                           'not_checked': not_checked}
            summary['hosts'] += 1
            summary[status] += 1
            summary['rows'] += len(rows)
            summary['not_checked'] += len(not_checked)
            summary['not_checked_hosts'] += 1 if not_checked else 0
        return {
            'schema_version': SCHEMA_VERSION,
            'generator': self.CALLBACK_NAME,
            'playbooks': list(self._playbooks),
            'check_mode': bool(context.CLIARGS.get('check', False)),
            'diff_mode': bool(context.CLIARGS.get('diff', False)),
            'started': self._started,
            'finished': _now(),
            'summary': summary,
            'hosts': hosts,
        }

    def _write(self, report):
        """Write the three files; their paths, or None when they could not be written."""
        directory = self.get_option('dir')
        base = os.path.join(directory, self.get_option('basename'))
        limit = self.get_option('max_value_length')
        files = [
            (base + '.md', lambda: render_markdown(report, limit)),
            (base + '.json', lambda: json.dumps(report, indent=2, sort_keys=True) + '\n'),
            (base + '.html', lambda: render_html(report, limit)),
        ]
        try:
            os.makedirs(directory, exist_ok=True)
            for path, render in files:
                _atomic_write(path, render())
        except (IOError, OSError, _files.FilesError) as exc:
            self._display.warning('edgenet.router.drift_report: cannot write the report to %s: %s'
                                  % (directory, exc))
            return None
        return [os.path.abspath(path) for path, dummy in files]


def summary_line(report, paths):
    """The line printed at the end of the play: what drifted, what went wrong, where the
    files are (absolute: a CI log is read far from the working directory)."""
    s = report['summary']
    parts = ['%d of %d hosts drifted (%s)' % (s['drift'], s['hosts'], _plural(s['rows'], 'row'))]
    if s.get('pair_rows'):
        parts.append('%d of them where the two ends of a pair disagree' % s['pair_rows'])
    for key in ('failed', 'unreachable', 'not_checked'):
        if s.get(key):
            parts.append('%d %s' % (s[key], key.replace('_', ' ')))
    files = ', '.join(_visible(p) for p in paths) if paths else 'not written (see the warning above)'
    return 'drift report: %s; files: %s' % (', '.join(parts), files)


def _atomic_write(path, text):
    """The collection's one atomic write (``_files``), with the mode a new file of the user's
    would get (the umask's): the report is the user's, not a managed file of the router."""
    umask = os.umask(0)
    os.umask(umask)
    _files.atomic_write(path, text.encode('utf-8'), 0o666 & ~umask)


def _cell(value, limit=80, code=True):
    """One Markdown table cell: strings as they are, other values as JSON; one line, pipes
    escaped, cut at ``limit`` (0: no limit); in a code span when ``code``."""
    if value is None:
        return ''
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = _visible(' '.join(text.splitlines()))
    if limit and len(text) > limit:
        text = text[:max(limit - 3, 1)] + '...'
    text = text.replace('|', '\\|')
    if code and '`' not in text:
        return '`%s`' % text
    return text


def _plural(count, noun):
    return '%d %s%s' % (count, noun, '' if count == 1 else 's')


def _status_text(host):
    """A host's status, and how many of its tasks went unchecked (a ``clean`` host with
    unchecked tasks is only clean as far as it was checked)."""
    count = len(host.get('not_checked') or [])
    return '%s, %d not checked' % (host['status'], count) if count else host['status']


def _has_pairs(summary):
    return bool(summary.get('pairs') or summary.get('pair_rows') or summary.get('pairs_not_checked'))


def _pairs_unchecked_text(summary):
    return ' or could not be compared with the other end of their pair' if summary.get('pairs_not_checked') else ''


def _pairs_text(summary, strong):
    """The pair check in one sentence: how many pairs, where their ends disagree, what was not compared."""
    text = '%s compared (both ends of a tunnel or pseudowire), %s where the two ends disagree (store %s)' % (
        _plural(summary.get('pairs', 0), 'pair'), _plural(summary.get('pair_rows', 0), 'row'), PAIR_STORE)
    if summary.get('pairs_not_checked'):
        text += ', %s not compared' % _plural(summary['pairs_not_checked'], 'pair')
    return strong % 'Pairs' + ': ' + text + '.'


def _field_cell(row, limit):
    """The field, or a created object's field names (its one row stands for all of them)."""
    if row.get('fields'):
        return _cell(', '.join(str(name) for name in row['fields']), limit)
    return _cell(row['field'], 0)


def render_markdown(report, limit=80):
    """The report as Markdown: a summary line, a host table, then a table of rows per host."""
    s = report['summary']
    lines = ['# Drift report', '']
    mode = 'check mode (nothing was changed)' if report['check_mode'] else 'normal run (changes were applied)'
    lines.append('%s, %s; playbook %s; finished %s.' % (
        mode, 'diff on' if report['diff_mode'] else 'diff off',
        ', '.join('`%s`' % _visible(os.path.basename(p)) for p in report['playbooks']) or 'unknown',
        report['finished']))
    lines.append('')
    lines.append('**%d of %d hosts drifted** (%d rows); %d clean, %d failed, %d unreachable.' % (
        s['drift'], s['hosts'], s['rows'], s['clean'], s['failed'], s['unreachable']))
    lines.append('')
    if s.get('not_checked'):
        lines.append('**%d not checked**: %s on %s failed with errors ignored%s; their drift is unknown.' % (
            s['not_checked'], _plural(s['not_checked'], 'task'), _plural(s.get('not_checked_hosts', 0), 'host'),
            _pairs_unchecked_text(s)))
        lines.append('')
    if _has_pairs(s):
        lines.extend([_pairs_text(s, '**%s**'), ''])
    if report['hosts']:
        lines.extend(['| host | status | rows |', '|---|---|---|'])
        for name, host in report['hosts'].items():
            lines.append('| %s | %s | %d |' % (_cell(name, 0, code=False), _status_text(host), len(host['rows'])))
        lines.append('')
    header = ('task', 'module', 'object', 'store', 'action', 'field', 'before', 'after', 'note')
    for name, host in report['hosts'].items():
        lines.extend(['## %s' % _visible(' '.join(name.splitlines())), ''])
        if host['rows']:
            lines.append('| %s |' % ' | '.join(header))
            lines.append('|%s' % ('---|' * len(header)))
            for row in host['rows']:
                lines.append('| %s |' % ' | '.join([
                    _cell(row['task'], 0, code=False),
                    _cell(row['module'], 0),
                    _cell(row['object'], limit),
                    _cell(row['store'], 0, code=False),
                    _cell(row['action'], 0, code=False),
                    _field_cell(row, limit),
                    '(absent)' if row['before'] is None and row['action'] == 'create' else _cell(row['before'], limit),
                    '(absent)' if row['after'] is None and row['action'] == 'delete' else _cell(row['after'], limit),
                    _cell(row['note'], 0, code=False),
                ]))
            lines.append('')
        elif host['status'] == 'clean':
            lines.extend(['No drift in what was checked.' if host.get('not_checked') else 'No drift.', ''])
        for item in host.get('not_checked', []):
            lines.append('- not checked: task %s (%s): %s' % (
                _cell(item['task'], 0, code=False), _cell(item['module'], 0),
                _cell(item['reason'], _REASON_LENGTH, code=False)))
        if host.get('not_checked'):
            lines.append('')
        for failure in host['failures']:
            lines.append('- %s task %s (%s): %s' % (
                'unreachable at' if failure['unreachable'] else 'failed',
                _cell(failure['task'], 0, code=False), _cell(failure['module'], 0),
                _cell(failure['msg'], 300, code=False)))
        if host['failures']:
            lines.append('')
    return '\n'.join(lines).rstrip('\n') + '\n'


# ---------------------------------------------------------------------- HTML

# The whole page is one file: no fonts, scripts or styles from the network (a report may be
# opened where there is none, and must not tell anyone it was opened). The policy below
# forbids any fetch and runs only the one script whose hash it names, so markup that slipped
# past html.escape in a router's value could still not run.
_HTML_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1b1b}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}h3{font-size:1em}
table{border-collapse:collapse;margin:.5em 0;width:100%}
table.hosts,table.drifted{width:auto}table.hosts td{padding-right:1.5em}
table.rows{table-layout:fixed}
table.rows th:nth-child(1){width:16%}table.rows th:nth-child(2){width:15%}
table.rows th:nth-child(3){width:7%}table.rows th:nth-child(4){width:6%}
table.rows th:nth-child(5){width:10%}table.rows th:nth-child(6),table.rows th:nth-child(7){width:16%}
th,td{border:1px solid #ccc;padding:.2em .45em;text-align:left;vertical-align:top}
thead th{background:#eee}
tr.object-head th{background:#f6f6f6;font-weight:normal}
code,pre{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:break-word}
pre{margin:.2em 0;word-break:break-all}
.status{font-weight:bold}.drift{color:#9a5b00}.clean{color:#226b22}
.failed,.unreachable{color:#b00020}.not-checked{color:#6b4c9a}
.absent{color:#777;font-style:italic}
ul.fields{margin:0;padding:0;list-style:none}ul.fields li{display:inline-block;margin-right:1.2em}
#filters{margin:1em 0;padding:.5em;background:#f6f6f6;border:1px solid #ddd;position:sticky;top:0;z-index:1}
#filters label{margin-right:1em}#shown{margin-left:1em;color:#555}
[hidden]{display:none!important}
"""

# Filters by status, host, module and store over what is already on the page; the choices
# come from the data attributes, so nothing is listed twice. A module or store filter also
# narrows the hosts table to the hosts with a matching row. Without JS the form stays hidden
# and the page is plain tables.
_HTML_SCRIPT = """
(function () {
  'use strict';
  var form = document.getElementById('filters');
  var shown = document.getElementById('shown');
  var rows = document.querySelectorAll('.row');
  var lines = document.querySelectorAll('table.hosts tr[data-host]');
  var sections = document.querySelectorAll('section.host');
  var names = ['status', 'host', 'module', 'store'];
  var sectionOf = {};
  Array.prototype.forEach.call(sections, function (section) {
    sectionOf[section.getAttribute('data-host')] = section;
  });
  function fill(name, values) {
    var select = form.elements[name];
    values.sort().forEach(function (value) {
      var option = document.createElement('option');
      option.value = value;
      option.textContent = value;
      select.appendChild(option);
    });
  }
  function distinct(nodes, name) {
    var seen = {};
    Array.prototype.forEach.call(nodes, function (node) {
      var value = node.getAttribute('data-' + name);
      if (value) { seen[value] = true; }
    });
    return Object.keys(seen);
  }
  fill('status', distinct(lines, 'status'));
  fill('host', distinct(lines, 'host'));
  fill('module', distinct(rows, 'module'));
  fill('store', distinct(rows, 'store'));
  function apply() {
    var want = {};
    names.forEach(function (name) { want[name] = form.elements[name].value; });
    var narrowed = want.module || want.store;
    Array.prototype.forEach.call(rows, function (row) {
      row.hidden = (want.module && row.getAttribute('data-module') !== want.module) ||
                   (want.store && row.getAttribute('data-store') !== want.store);
    });
    Array.prototype.forEach.call(document.querySelectorAll('tbody.object, ul.entries'), function (group) {
      group.hidden = !group.querySelector('.row:not([hidden])');
    });
    function other(node) {
      return (want.host && node.getAttribute('data-host') !== want.host) ||
             (want.status && node.getAttribute('data-status') !== want.status);
    }
    Array.prototype.forEach.call(sections, function (section) {
      section.hidden = other(section) || (narrowed && !section.querySelector('.row:not([hidden])'));
    });
    var count = 0;
    Array.prototype.forEach.call(lines, function (line) {
      var section = sectionOf[line.getAttribute('data-host')];
      line.hidden = other(line) || (narrowed && !(section && !section.hidden));
      count += line.hidden ? 0 : 1;
    });
    var visible = Array.prototype.filter.call(document.querySelectorAll('tr.row'), function (row) {
      return !row.hidden && !row.closest('section').hidden;
    }).length;
    shown.textContent = count === lines.length ? '' :
      'showing ' + count + ' of ' + lines.length + ' hosts, ' + visible + ' rows';
  }
  form.addEventListener('change', apply);
  form.addEventListener('reset', function () { window.setTimeout(apply, 0); });
  form.hidden = false;
})();
"""

_HTML_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-%s'; "
             "base-uri 'none'; form-action 'none'"
             % base64.b64encode(hashlib.sha256(_HTML_SCRIPT.encode('utf-8')).digest()).decode('ascii'))

# A value longer than this is cut in the HTML page too (the JSON file has it whole): one
# router's whole configuration in a cell would bury the other 199 hosts.
_HTML_VALUE_CAP = 10000

_HTML_COLUMNS = ('task', 'module', 'store', 'action', 'field', 'before', 'after', 'note')


def _esc(value):
    """Text for HTML, attributes included: escaped, control characters made visible."""
    return html.escape(_visible(value if isinstance(value, str) else str(value)), quote=True)


def _value_text(value):
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _html_value(value, limit, absent=False):
    """One value: empty or ``(absent)`` for null, short values in code, long ones cut with the
    rest behind a <details> (readable and searchable without JS)."""
    if value is None:
        return '<span class="absent">(absent)</span>' if absent else ''
    text = _value_text(value)
    if not limit or len(text) <= limit:
        return '<code>%s</code>' % _esc(text)
    whole = text if len(text) <= _HTML_VALUE_CAP else (
        text[:_HTML_VALUE_CAP] + '... (%d characters; the JSON file has them all)' % len(text))
    return '<details><summary><code>%s...</code></summary><pre>%s</pre></details>' % (
        _esc(text[:max(limit - 3, 1)]), _esc(whole))


def _html_after(row, limit):
    """A created object's wanted fields as a list, one per line; any other row's value."""
    after = row.get('after')
    if row.get('fields') and isinstance(after, dict):
        return '<ul class="fields">%s</ul>' % ''.join(
            '<li><code>%s</code> = %s</li>' % (_esc(name), _html_value(after.get(name), limit))
            for name in row['fields'])
    return _html_value(after, limit, absent=row.get('action') == 'delete')


def _html_field(row):
    if row.get('fields'):
        return '<span class="absent">(%s)</span>' % _esc(_plural(len(row['fields']), 'field'))
    return _html_value(row.get('field'), 0)


def _html_row(row, limit):
    cells = [
        _esc(row.get('task') or ''),
        _html_value(row.get('module'), 0),
        _esc(row.get('store') or ''),
        _esc(row.get('action') or ''),
        _html_field(row),
        _html_value(row.get('before'), limit, absent=row.get('action') == 'create'),
        _html_after(row, limit),
        _esc(row.get('note') or ''),
    ]
    return '<tr class="row" data-module="%s" data-store="%s">%s</tr>' % (
        _esc(row.get('module') or ''), _esc(row.get('store') or ''),
        ''.join('<td>%s</td>' % cell for cell in cells))


def _by_object(rows):
    """Rows grouped by object, in the order objects first appear; rows of other modules (no
    object) last, as one group."""
    groups = {}
    order = []
    for row in rows:
        key = row.get('object')
        key = None if key is None else _value_text(key)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(row)
    order.sort(key=lambda k: k is None)       # stable: objects keep their order
    return [(key, groups[key]) for key in order]


def _html_rows_table(rows, limit):
    out = ['<table class="rows"><thead><tr>%s</tr></thead>'
           % ''.join('<th>%s</th>' % name for name in _HTML_COLUMNS)]
    for key, group in _by_object(rows):
        title = ('object <code>%s</code>' % _esc(key)) if key is not None else 'other tasks (no object)'
        out.append('<tbody class="object"><tr class="object-head"><th colspan="%d">%s (%s)</th></tr>'
                   % (len(_HTML_COLUMNS), title, _plural(len(group), 'row')))
        out.extend(_html_row(row, limit) for row in group)
        out.append('</tbody>')
    out.append('</table>')
    return out


def _html_entries(title, css, items, text_of):
    """A host's not-checked tasks or failures: a list whose items the module filter can hide."""
    if not items:
        return []
    out = ['<h3 class="%s">%s</h3>' % (css, title), '<ul class="entries">']
    for item in items:
        out.append('<li class="row" data-module="%s" data-store="">%s</li>'
                   % (_esc(item.get('module') or ''), text_of(item)))
    out.append('</ul>')
    return out


def _not_checked_text(item):
    return 'task %s (%s): %s' % (_esc(item.get('task') or ''), _html_value(item.get('module'), 0),
                                 _esc(item.get('reason') or ''))


def _failure_text(item):
    return '%s task %s (%s): %s' % (
        'unreachable at' if item.get('unreachable') else 'failed', _esc(item.get('task') or ''),
        _html_value(item.get('module'), 0), _esc(item.get('msg') or ''))


def _html_host_section(index, name, host, limit):
    heading = '<h2>%s <span class="status %s">%s</span></h2>' % (_esc(name), _esc(host['status']), _esc(_status_text(host)))
    out = ['<section class="host" id="host-%d" data-host="%s" data-status="%s">'
           % (index, _esc(name), _esc(host['status'])), heading]
    if host['rows']:
        out.extend(_html_rows_table(host['rows'], limit))
    elif host['status'] == 'clean':
        out.append('<p>No drift in what was checked.</p>')
    out.extend(_html_entries('Not checked (failed, errors ignored: drift unknown)', 'not-checked',
                             host.get('not_checked') or [], _not_checked_text))
    out.extend(_html_entries('Failures', 'failed', host.get('failures') or [], _failure_text))
    out.append('</section>')
    return out


# The order of hosts on the page: what needs a person first (a host that could not be
# checked, a failed one, a drifted one, a clean one with tasks not checked), clean ones last;
# by name within each. The JSON file keeps the hosts by name.
_HTML_STATUS_ORDER = {'unreachable': 0, 'failed': 1, 'drift': 2, 'clean': 3}


def _html_hosts(report):
    """``(index, name, host)`` in the page's order; ``index`` (the anchor ``host-N``) is the
    host's place by name, so a link to a host stays the same whatever the others did."""
    hosts = [(index, name, host) for index, (name, host) in enumerate(report['hosts'].items(), 1)]
    hosts.sort(key=lambda item: (_HTML_STATUS_ORDER.get(item[2]['status'], 0),
                                 not item[2].get('not_checked'), item[1]))
    return hosts


def _html_hosts_table(report):
    """Every host, one line each, those that need a look first; hosts with something to show
    link to their section (a clean host has none: 200 'No drift.' sections would bury the
    ones that matter)."""
    out = ['<table class="hosts"><thead><tr><th>host</th><th>status</th><th>rows</th><th>objects</th>'
           '<th>not checked</th><th>failures</th></tr></thead><tbody>']
    for index, name, host in _html_hosts(report):
        label = _esc(name)
        if _has_section(host):
            label = '<a href="#host-%d">%s</a>' % (index, label)
        out.append('<tr data-host="%s" data-status="%s"><td>%s</td><td class="status %s">%s</td><td>%d</td>'
                   '<td>%d</td><td>%d</td><td>%d</td></tr>' % (
                       _esc(name), _esc(host['status']), label, _esc(host['status']), _esc(host['status']),
                       len(host['rows']),
                       len(_by_object(host['rows'])), len(host.get('not_checked') or []),
                       len(host.get('failures') or [])))
    out.append('</tbody></table>')
    return out


def _has_section(host):
    return bool(host['rows'] or host.get('not_checked') or host.get('failures') or host['status'] != 'clean')


# The fleet view: how many hosts drifted in each field. Longer than this, the rest is counted.
_HTML_DRIFTED_LINES = 50


def _html_what_drifted(report):
    """Rows of every host counted per module, store, action and field, most hosts first: with
    200 hosts, "dns_servers on 46 hosts" says what the per-host sections below repeat."""
    counts = {}
    for name, host in report['hosts'].items():
        for row in host['rows']:
            if row.get('fields'):
                field = '(whole object)'
            elif row.get('field') is not None:
                field = _value_text(row['field'])
            else:
                field = row.get('note') or ''
            key = tuple(_value_text(row.get(k) or '') for k in ('module', 'store', 'action')) + (field,)
            entry = counts.setdefault(key, [set(), 0])
            entry[0].add(name)
            entry[1] += 1
    if not counts:
        return []
    lines = sorted(counts.items(), key=lambda item: (-len(item[1][0]), item[0]))
    out = ['<h2>What drifted</h2>',
           '<table class="drifted"><thead><tr><th>module</th><th>store</th><th>action</th><th>field</th>'
           '<th>hosts</th><th>rows</th></tr></thead><tbody>']
    for (module, store, action, field), (hosts, rows) in lines[:_HTML_DRIFTED_LINES]:
        out.append('<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td></tr>' % (
            _html_value(module or None, 0), _esc(store), _esc(action), _html_value(field or None, 0),
            len(hosts), rows))
    out.append('</tbody></table>')
    if len(lines) > _HTML_DRIFTED_LINES:
        out.append('<p>... and %d more (the JSON file has every row).</p>' % (len(lines) - _HTML_DRIFTED_LINES))
    return out


def _html_filters():
    selects = ''.join(
        '<label>%s <select name="%s"><option value="">all</option></select></label>' % (name, name)
        for name in ('status', 'host', 'module', 'store'))
    return ('<form id="filters" hidden>Show only: %s<button type="reset">all</button>'
            '<output id="shown"></output></form>' % selects)


def render_html(report, limit=80):
    """The report as one self-contained HTML page: a summary per host, then per host the rows
    grouped per object, what was not checked and what failed, hosts that need a look first;
    filters by status, host, module and store when JS runs."""
    s = report['summary']
    mode = 'check mode (nothing was changed)' if report['check_mode'] else 'normal run (changes were applied)'
    out = [
        '<!DOCTYPE html>',
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="%s">' % _esc(_HTML_CSP),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<title>Drift report %s</title>' % _esc(report.get('finished') or ''),
        '<style>%s</style></head><body>' % _HTML_STYLE,
        '<h1>Drift report</h1>',
        '<p>%s, %s; playbook %s; finished %s.</p>' % (
            _esc(mode), 'diff on' if report['diff_mode'] else 'diff off',
            ', '.join('<code>%s</code>' % _esc(os.path.basename(p)) for p in report['playbooks']) or 'unknown',
            _esc(report.get('finished') or '')),
        '<p><strong>%d of %d hosts drifted</strong> (%d rows); %d clean, %d failed, %d unreachable.</p>' % (
            s['drift'], s['hosts'], s['rows'], s['clean'], s['failed'], s['unreachable']),
    ]
    if s.get('not_checked'):
        out.append('<p class="not-checked"><strong>%d not checked</strong>: %s on %s failed with errors '
                   'ignored%s; their drift is unknown.</p>' % (
                       s['not_checked'], _plural(s['not_checked'], 'task'),
                       _plural(s.get('not_checked_hosts', 0), 'host'), _esc(_pairs_unchecked_text(s))))
    if _has_pairs(s):
        out.append('<p class="pairs">%s</p>' % _pairs_text(s, '<strong>%s</strong>'))
    out.extend(_html_what_drifted(report))
    out.append(_html_filters())
    if report['hosts']:
        out.append('<h2>Hosts</h2>')
        out.extend(_html_hosts_table(report))
    for index, name, host in _html_hosts(report):
        if _has_section(host):
            out.extend(_html_host_section(index, name, host, limit))
    out.append('<script>%s</script>' % _HTML_SCRIPT)
    out.append('</body></html>')
    return '\n'.join(out) + '\n'
