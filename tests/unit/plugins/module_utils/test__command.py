# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way the seams run a command: output on success, the seam's error naming the command,
its exit code and what it said (bounded) otherwise; systemd's is-active."""

from __future__ import annotations

import errno
import os
import sys

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._command import (
    checked, last_words, module_runner, run_process, unit_active,
)


class Boom(Exception):
    pass


def runner(rc, out='', err=''):
    calls = []

    def run(argv, data=None):
        calls.append((argv, data))
        return rc, out, err
    run.calls = calls
    return run


def test_success_returns_the_output_and_passes_stdin():
    run = runner(0, 'ok\n')
    assert checked(run, ['nft', '-f', '-'], Boom, data='table x') == 'ok\n'
    assert run.calls == [(['nft', '-f', '-'], 'table x')]


def test_failure_names_the_command_its_code_and_its_words():
    with pytest.raises(Boom, match=r'^networkctl reload failed \(rc=1\): Failed to reload: access denied$'):
        checked(runner(1, '', 'Failed to reload: access denied\n'), ['networkctl', 'reload'], Boom)
    with pytest.raises(Boom, match=r'^nmcli connection show failed \(rc=8\): only stdout$'):
        checked(runner(8, 'only stdout'), ['nmcli', '-t', 'connection', 'show'], Boom, what='nmcli connection show')


def test_a_chatty_failure_keeps_its_last_words_only():
    with pytest.raises(Boom) as caught:
        checked(runner(2, '', 'x' * 5000 + ' the reason'), ['kea-dhcp6', '-t', 'f'], Boom)
    message = str(caught.value)
    assert message.endswith('the reason') and len(message) < 450


def test_a_failure_ends_with_the_last_line_of_stderr():
    err = 'kea-dhcp6: reading /etc/kea/kea-dhcp6.conf\n' * 30 + 'ERROR: subnet 2001:db8::/64 overlaps\n'
    with pytest.raises(Boom) as caught:
        checked(runner(1, 'ignored stdout', err), ['kea-dhcp6', '-t', '/etc/kea/kea-dhcp6.conf'], Boom)
    message = str(caught.value)
    assert message.startswith('kea-dhcp6 -t /etc/kea/kea-dhcp6.conf failed (rc=1): ...')
    assert message.endswith('ERROR: subnet 2001:db8::/64 overlaps')
    assert 'ignored stdout' not in message


@pytest.mark.parametrize('err, out, limit, said', [
    ('reason\n', 'output', 400, 'reason'),          # stderr first
    ('', '  only output \n', 400, 'only output'),  # else stdout
    (None, None, 400, ''),                         # nothing said
    ('abcdef', '', 3, '...def'),                    # the last words, marked as cut
    ('abc', '', 3, 'abc'),                          # exactly the limit: whole
])
def test_last_words(err, out, limit, said):
    assert last_words(err, out, limit) == said


class FakeModule(object):
    """AnsibleModule.run_command's contract as far as the runner uses it: with
    ``handle_exceptions=False`` a program that cannot be started raises its OSError."""

    def __init__(self, raises=None, answer=(0, 'out', 'err')):
        self.raises = raises
        self.answer = answer
        self.calls = []

    def run_command(self, args, **kwargs):
        self.calls.append((args, kwargs))
        if self.raises is not None:
            raise self.raises
        return self.answer


def test_module_runner_takes_the_words_literally_and_keeps_the_module_alive():
    module = FakeModule(answer=(0, 'done', ''))
    run = module_runner(module)
    assert run(['nft', '-f', '-'], data='table x') == (0, 'done', '')
    assert run(['ls', '/etc/$HOME']) == (0, 'done', '')
    assert module.calls == [
        (['nft', '-f', '-'], {'data': 'table x', 'expand_user_and_vars': False, 'handle_exceptions': False}),
        (['ls', '/etc/$HOME'], {'data': None, 'expand_user_and_vars': False, 'handle_exceptions': False}),
    ]


@pytest.mark.parametrize('exc, rc', [
    (FileNotFoundError(errno.ENOENT, 'No such file or directory', b'nmcli'), 127),
    (PermissionError(errno.EACCES, 'Permission denied', b'nmcli'), 126),
])
def test_a_program_that_cannot_be_started_is_the_seams_error_not_a_traceback(exc, rc):
    run = module_runner(FakeModule(raises=exc))
    assert run(['nmcli', 'connection', 'reload'])[0] == rc
    with pytest.raises(Boom, match=r'^nmcli connection reload failed \(rc=%d\): cannot run nmcli: %s$' % (rc, exc.strerror)):
        checked(run, ['nmcli', 'connection', 'reload'], Boom)
    assert unit_active(run, 'NetworkManager.service') is False


def test_run_process_runs_argv_and_feeds_stdin():
    script = 'import sys; data = sys.stdin.read(); print(data.upper()); sys.stderr.write("note"); sys.exit(3)'
    assert run_process([sys.executable, '-c', script], data='table x') == (3, 'TABLE X\n', 'note')
    assert checked(run_process, [sys.executable, '-c', 'print("$HOME ~")'], Boom) == '$HOME ~\n'


def test_run_process_reports_a_missing_program_like_a_shell(tmp_path):
    missing = str(tmp_path / 'networkctl')
    assert run_process([missing, 'reload']) == (127, '', 'cannot run %s: No such file or directory' % missing)
    not_executable = tmp_path / 'nft'
    not_executable.write_text('#!/bin/sh\n')
    os.chmod(str(not_executable), 0o644)  # execve needs an x bit, for root too
    rc, out, err = run_process([str(not_executable)])
    assert (rc, out) == (126, '') and err.startswith('cannot run %s: ' % not_executable)
    with pytest.raises(Boom, match=r'networkctl reload failed \(rc=127\): cannot run .*networkctl: No such file'):
        checked(run_process, [missing, 'reload'], Boom, what='networkctl reload')


def test_unit_active_asks_systemctl_quietly():
    run = runner(3)
    assert unit_active(run, 'NetworkManager.service') is False
    assert run.calls == [(['systemctl', 'is-active', '--quiet', 'NetworkManager.service'], None)]
    assert unit_active(runner(0), 'systemd-networkd.service') is True
