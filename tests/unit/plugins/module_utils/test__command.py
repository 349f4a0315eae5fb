# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way the seams run a command: output on success, the seam's error naming the command,
its exit code and what it said (bounded) otherwise; systemd's is-active."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._command import checked, unit_active


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


def test_a_missing_binary_is_the_seams_error_not_a_traceback():
    # AnsibleModule.run_command reports a missing executable as rc 127 (or 2) with the reason
    with pytest.raises(Boom, match=r'rc=127.*No such file'):
        checked(runner(127, '', '[Errno 2] No such file or directory: b\'nmcli\''), ['nmcli', 'connection', 'reload'], Boom)


def test_unit_active_asks_systemctl_quietly():
    run = runner(3)
    assert unit_active(run, 'NetworkManager.service') is False
    assert run.calls == [(['systemctl', 'is-active', '--quiet', 'NetworkManager.service'], None)]
    assert unit_active(runner(0), 'systemd-networkd.service') is True
