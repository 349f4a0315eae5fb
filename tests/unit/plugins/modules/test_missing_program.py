# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A program a module runs is missing on the host: the task fails with the seam's message naming
the command and exit code 127, and the engine puts back what it had applied (AnsibleModule's own
run_command would have ended the module with fail_json half way through the apply)."""

from __future__ import annotations

from ansible_collections.edgenet.router.tests.unit.plugins.modules.driver import materialise, run_module

SESSION = {'ifname': 'l2tpeth-a', 'tunnel_id': 100, 'peer_tunnel_id': 200, 'session_id': 1000, 'peer_session_id': 2000,
           'local': '192.0.2.1', 'remote': '192.0.2.2', 'addresses': ['10.42.0.1/30'], 'state_dir': '@pipex'}


def kernel(world):
    return (sorted(world.l2tp.tunnel_table), sorted(world.l2tp.session_table), sorted(world.netlink.links_by_name))


def test_pipex_session_without_systemctl_rolls_back_and_names_the_command(world):
    args = materialise(SESSION, world.settings)
    before = world.tree()
    kernel_before = kernel(world)
    world.run.missing.add('systemctl')
    outcome, result = run_module('pipex_session', args)
    assert outcome == 'fail'
    msg = result['msg']
    assert 'systemctl daemon-reload failed (rc=127): cannot run /usr/sbin/systemctl: No such file or directory' in msg
    assert 'Traceback' not in msg
    assert world.tree() == before, 'the unit and state files were not put back'
    assert kernel(world) == kernel_before, 'the L2TP tunnel, session or link was not removed again'
    assert world.l2tp.writes, 'the runtime store was not reached: the test proves nothing about the rollback'


def test_the_same_host_with_systemctl_applies(world):
    outcome, result = run_module('pipex_session', materialise(SESSION, world.settings))
    assert outcome == 'exit' and result['changed'] is True
    assert ['/usr/sbin/systemctl', 'daemon-reload'] in world.run.calls
