# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
name: drift_report
type: notification
short_description: Write what drifted, per host and per object, as Markdown and JSON files
version_added: 0.1.0
description:
  - Collects every task result that reports C(changed) during an C(ansible-playbook) run and, when
    the run ends, writes two files to O(dir) - C(<basename>.json) and C(<basename>.md) - that list
    per host which objects drifted, in which store, and each field's value now (C(before)) and the
    value the play wants (C(after)).
  - Meant for a nightly C(ansible-playbook site.yml --check --diff) run; a normal run reports what
    it changed the same way.
  - Modules of this collection (M(edgenet.router.iptun), M(edgenet.router.sixtofour_relay),
    M(edgenet.router.dhcpv6_server), M(edgenet.router.pipex_session), M(edgenet.router.ppp_server)) return
    a C(changes) list;
    each field of each entry becomes one row, except that a store lacking the object (action
    C(create)) gives one row for the whole object (its fields folded into C(after) and C(fields)).
    Any other module that reports C(changed) gets one row
    naming the task and module, and saying whether a diff was returned (no field table).
  - Values the modules masked stay masked. Results of C(no_log) tasks are never written; their row
    only says that the task changed something and that its result is censored.
  - Both files are replaced atomically (written to a temporary file in O(dir), then renamed).
  - Works beside the stdout callback; enable it with
    C(ANSIBLE_CALLBACKS_ENABLED=edgenet.router.drift_report) or C(callbacks_enabled) in C(ansible.cfg).
  - The JSON schema and a sample report are in the collection's drift detection guide.
requirements:
  - Enabled with C(callbacks_enabled) (it is a notification callback and does not print anything).
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
      - File name without extension; the callback writes C(<basename>.json) and C(<basename>.md).
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

import datetime
import json
import os
import re

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.edgenet.router.plugins.module_utils import _files

SCHEMA_VERSION = 1

# What Ansible puts in a result whose task had no_log (ansible-core 2.19+ and earlier).
_CENSORED_KEY = 'censored'
_NO_LOG_KEY = '_ansible_no_log'

# A not-checked task's reason is a failure message: enough to act on, not a whole traceback.
_REASON_LENGTH = 300

_ROW_KEYS = ('task', 'module', 'object', 'store', 'action', 'field', 'fields', 'before', 'after', 'diff', 'note')


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _plain(value):
    """``value`` as plain JSON data (tagged or odd types become str)."""
    return json.loads(json.dumps(value, default=str))


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


def _failure_reason(task, res, censored):
    """Why an ignored failure left its task unchecked: the failure message, or the first
    failed loop item's (a loop's own message only says that items failed)."""
    if censored:
        return '(censored: no_log)'
    msg = res.get('msg')
    items = res.get('results') if isinstance(res.get('results'), list) else []
    if not msg:
        for item in items:
            if isinstance(item, dict) and item.get('failed'):
                if _is_censored(task, item):
                    return '(censored: no_log)'
                msg = item.get('msg')
                if msg:
                    break
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
        self._host(_attr(result, 'host').get_name())

    def v2_playbook_on_stats(self, stats):
        for name in getattr(stats, 'processed', {}) or {}:
            self._host(name)
        report = self.report()
        self._write(report)

    # ------------------------------------------------------------------ output

    def report(self):
        """The report as plain data (the JSON file's content)."""
        hosts = {}
        summary = {'hosts': 0, 'clean': 0, 'drift': 0, 'failed': 0, 'unreachable': 0, 'rows': 0,
                   'not_checked': 0, 'not_checked_hosts': 0}
        for name in sorted(self._hosts):
            entry = self._hosts[name]
            rows = _plain(entry['rows'])
            if entry['unreachable']:
                status = 'unreachable'
            elif entry['failures']:
                status = 'failed'
            elif rows:
                status = 'drift'
            else:
                status = 'clean'
            not_checked = _plain(entry['not_checked'])
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
        directory = self.get_option('dir')
        base = self.get_option('basename')
        try:
            os.makedirs(directory, exist_ok=True)
            _atomic_write(os.path.join(directory, base + '.json'),
                          json.dumps(report, indent=2, sort_keys=True) + '\n')
            _atomic_write(os.path.join(directory, base + '.md'),
                          render_markdown(report, self.get_option('max_value_length')))
        except (IOError, OSError, _files.FilesError) as exc:
            self._display.warning('edgenet.router.drift_report: cannot write the report to %s: %s'
                                  % (directory, exc))


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
        ', '.join('`%s`' % os.path.basename(p) for p in report['playbooks']) or 'unknown',
        report['finished']))
    lines.append('')
    lines.append('**%d of %d hosts drifted** (%d rows); %d clean, %d failed, %d unreachable.' % (
        s['drift'], s['hosts'], s['rows'], s['clean'], s['failed'], s['unreachable']))
    lines.append('')
    if s.get('not_checked'):
        lines.append('**%d not checked**: %s on %s failed with errors ignored; their drift is unknown.' % (
            s['not_checked'], _plural(s['not_checked'], 'task'), _plural(s.get('not_checked_hosts', 0), 'host')))
        lines.append('')
    if report['hosts']:
        lines.extend(['| host | status | rows |', '|---|---|---|'])
        for name, host in report['hosts'].items():
            lines.append('| %s | %s | %d |' % (_cell(name, 0, code=False), _status_text(host), len(host['rows'])))
        lines.append('')
    header = ('task', 'module', 'object', 'store', 'action', 'field', 'before', 'after', 'note')
    for name, host in report['hosts'].items():
        lines.extend(['## %s' % name.replace('\n', ' '), ''])
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
