# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright: edgenet.router contributors

from __future__ import annotations

DOCUMENTATION = r'''
name: fleet_timer
type: aggregate
short_description: Time the drift_report callback's own work (bench/fleet_drift.py only)
description:
  - Wraps the methods of C(edgenet.router.drift_report) that Ansible calls (every task result, and
    the end of the play) in a clock, and writes the figures as JSON to the file named by
    C(FLEET_TIMER_OUT).
  - At the end of the play, after the report is written, it builds the same report and the three
    texts once more under C(tracemalloc) to find their peak memory, and sizes the rows the
    callback held during the run.
  - Not part of the collection; bench/fleet_drift.py enables it beside drift_report.
requirements:
  - Enabled with C(callbacks_enabled) beside C(edgenet.router.drift_report).
'''

import json
import os
import sys
import time
import tracemalloc

from ansible.plugins.callback import CallbackBase

from ansible_collections.edgenet.router.plugins.callback import drift_report

# Wall clock (perf_counter: what the callback adds to the run, waits for the GIL included) and
# the CPU of the calling thread (thread_time: the callback's own work).
_FIGURES = {'collect_calls': 0, 'collect_s': 0.0, 'collect_cpu_s': 0.0, 'collect_max_s': 0.0,
            'end_s': None, 'end_cpu_s': None}
_COLLECT = ('v2_playbook_on_start', 'v2_runner_on_ok', 'v2_runner_on_failed',
            'v2_runner_on_unreachable', 'v2_runner_on_skipped')


def _deep_size(value, seen):
    """Bytes held by ``value`` and what it refers to (dicts, lists, strings, numbers)."""
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(_deep_size(k, seen) + _deep_size(v, seen) for k, v in value.items())
    elif isinstance(value, (list, tuple, set)):
        size += sum(_deep_size(v, seen) for v in value)
    return size


def _timed_collect(original):
    def wrapper(self, *args, **kwargs):
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            took = time.perf_counter() - start
            _FIGURES['collect_calls'] += 1
            _FIGURES['collect_s'] += took
            _FIGURES['collect_cpu_s'] += time.thread_time() - cpu
            _FIGURES['collect_max_s'] = max(_FIGURES['collect_max_s'], took)
    return wrapper


def _timed_end(original):
    def wrapper(self, stats):
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(self, stats)
        finally:
            _FIGURES['end_s'] = time.perf_counter() - start
            _FIGURES['end_cpu_s'] = time.thread_time() - cpu
            _measure(self)
    return wrapper


def _measure(callback):
    """The report's pieces timed one by one, then built again under tracemalloc (its peak: the
    memory the end of the play needs on top of what the callback held)."""
    limit = callback.get_option('max_value_length')
    figures = {'held_bytes': _deep_size(callback._hosts, set())}
    steps = (('report_s', callback.report),
             ('markdown_s', lambda: drift_report.render_markdown(report, limit)),
             ('json_s', lambda: json.dumps(report, indent=2, sort_keys=True)),
             ('html_s', lambda: drift_report.render_html(report, limit)))
    report = None
    for name, step in steps:
        start = time.perf_counter()
        result = step()
        figures[name] = time.perf_counter() - start
        if name == 'report_s':
            report = result
    report = None
    tracemalloc.start()
    try:
        report = callback.report()
        texts = [drift_report.render_markdown(report, limit), json.dumps(report, indent=2, sort_keys=True),
                 drift_report.render_html(report, limit)]
        figures['end_peak_bytes'] = tracemalloc.get_traced_memory()[1]
        figures['text_bytes'] = [len(text.encode('utf-8')) for text in texts]
    finally:
        tracemalloc.stop()
    _FIGURES.update(figures)
    out = os.environ.get('FLEET_TIMER_OUT')
    if out:
        with open(out, 'w') as handle:
            json.dump(_FIGURES, handle, indent=2, sort_keys=True)


for _name in _COLLECT:
    setattr(drift_report.CallbackModule, _name, _timed_collect(getattr(drift_report.CallbackModule, _name)))
drift_report.CallbackModule.v2_playbook_on_stats = _timed_end(drift_report.CallbackModule.v2_playbook_on_stats)


class CallbackModule(CallbackBase):
    """Nothing of its own: importing it wraps drift_report's methods."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'fleet_timer'
    CALLBACK_NEEDS_ENABLED = True
