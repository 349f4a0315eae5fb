# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which persistent store a tunnel task writes: the detection of the host's network manager, and
the refusals when no single manager is found (nothing is written then)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _tunnel_persist as persist
from ansible_collections.edgenet.router.plugins.module_utils._iptun import run_iptun
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TunnelError
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import KernelTunnels
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_networkd import NetworkdTunnels
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_nm import NmTunnels
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_netlink import FakeNetlink
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__iptun import HE, fake_resolve, params

NETWORKCTL = """  1 lo   loopback carrier  unmanaged
  2 eth0 ether    routable configured
"""
NETWORKCTL_NONE = "  1 lo   loopback carrier  unmanaged\n  2 eth0 ether    routable unmanaged\n"


class Host(object):
    """systemctl and networkctl of a host whose ``active`` units run; its ifupdown state file."""

    def __init__(self, tmp_path, active=(), networkctl=NETWORKCTL, ifstate='lo=lo\neth0=eth0\n', systemd=True):
        self.active = set(active)
        self.networkctl = networkctl
        self.calls = []
        self.nm_keyfile_path = '/etc/NetworkManager/system-connections'
        self.paths = {'systemd': str(tmp_path / 'run-systemd-system'), 'ifstate': str(tmp_path / 'ifstate')}
        if systemd:
            (tmp_path / 'run-systemd-system').mkdir()
        if ifstate is not None:
            (tmp_path / 'ifstate').write_text(ifstate)

    def run(self, argv):
        self.calls.append(argv)
        if argv[:3] == ['systemctl', 'is-active', '--quiet']:
            return (0 if argv[3] in self.active else 3), '', ''
        if argv[:2] == ['networkctl', 'list']:
            return 0, self.networkctl, ''
        if argv == ['NetworkManager', '--print-config']:
            return 0, '[main]\nplugins=keyfile\n\n[keyfile]\npath=%s\n' % self.nm_keyfile_path, ''
        raise AssertionError('unexpected command %r' % (argv,))

    def choose(self, **task):
        return persist.choose(params(**task), self.run, self.paths)


NETWORKD, IFUPDOWN, NM = 'systemd-networkd.service', 'networking.service', 'NetworkManager.service'


@pytest.mark.parametrize('active, expected, why', [
    ([NETWORKD], 'networkd', 'systemd-networkd is active and configures eth0'),
    ([IFUPDOWN], 'ifupdown', 'ifupdown (networking.service) is active and brought up eth0'),
    ([NM], 'networkmanager', 'NetworkManager is active'),
])
def test_the_one_manager_that_runs_is_found(tmp_path, active, expected, why):
    host = Host(tmp_path, active)
    found, running, notes = persist.managing(host.run, host.paths)
    assert found == {expected: why}
    assert running == {expected}
    assert len(notes) == 2
    assert sum(1 for argv in host.calls if argv[:2] == ['systemctl', 'is-active']) == 3   # each unit asked once


def test_a_running_manager_that_manages_nothing_does_not_count(tmp_path):
    host = Host(tmp_path, [NETWORKD, IFUPDOWN], networkctl=NETWORKCTL_NONE, ifstate='lo=lo\n')
    found, running, notes = persist.managing(host.run, host.paths)
    assert found == {}
    assert running == {'networkd', 'ifupdown'}
    assert 'systemd-networkd is active but configures no link' in notes
    assert 'networking.service is active but ifupdown brought up no interface besides lo' in notes


def test_auto_picks_networkd_and_says_why(tmp_path):
    choice = Host(tmp_path, [NETWORKD]).choose()
    assert (choice.name, choice.problem) == ('networkd', None)
    assert choice.result() == {'name': 'networkd', 'why': 'systemd-networkd is active and configures eth0'}


def test_no_systemd_no_manager_is_refused_with_what_was_found(tmp_path):
    host = Host(tmp_path, [NETWORKD], systemd=False)
    choice = host.choose()
    assert choice.name is None
    assert 'no network manager manages this host' in choice.problem
    assert 'systemd is not running' in choice.problem
    assert host.calls == []   # no systemctl on a host without systemd


def test_no_running_manager_is_refused(tmp_path):
    choice = Host(tmp_path, []).choose()
    assert 'no network manager manages this host' in choice.problem
    for unit in (NETWORKD, IFUPDOWN, NM):
        assert '%s is not active' % unit in choice.problem


def test_two_managers_are_refused_naming_both(tmp_path):
    choice = Host(tmp_path, [NETWORKD, NM]).choose()
    assert 'several network managers manage this host' in choice.problem
    assert 'systemd-networkd is active and configures eth0' in choice.problem
    assert 'NetworkManager is active' in choice.problem
    assert 'set persistent_store' in choice.problem


def test_an_explicit_choice_must_run_but_need_not_manage_a_link_yet(tmp_path):
    host = Host(tmp_path, [NETWORKD, NM], networkctl=NETWORKCTL_NONE)
    choice = host.choose(persistent_store='networkd')
    assert (choice.name, choice.problem) == ('networkd', None)
    assert choice.why == 'systemd-networkd is active (chosen by persistent_store)'
    host.active = {NM}
    stopped = host.choose(persistent_store='networkd')
    assert 'persistent_store networkd: systemd-networkd does not run on this host' in stopped.problem


def test_auto_picks_networkmanager_and_builds_its_store_over_the_directory_it_reads(tmp_path):
    host = Host(tmp_path, [NM])
    host.nm_keyfile_path = str(tmp_path / 'nm')
    store = persist.open_persistent(params(networkmanager_dir=str(tmp_path / 'nm')), host.run, host.paths)
    assert isinstance(store, NmTunnels)
    assert store.files.directory == str(tmp_path / 'nm')


def test_networkmanager_reading_another_directory_is_refused_naming_it(tmp_path):
    host = Host(tmp_path, [NM])
    choice = host.choose(networkmanager_dir=str(tmp_path / 'nm'))
    assert choice.name == 'networkmanager'
    assert 'NetworkManager reads its keyfiles from /etc/NetworkManager/system-connections' in choice.problem
    assert 'set networkmanager_dir to /etc/NetworkManager/system-connections' in choice.problem


def test_persistent_false_asks_nothing(tmp_path):
    host = Host(tmp_path, [])
    assert host.choose(persistent=False) is None
    assert persist.open_persistent(params(persistent=False), host.run, host.paths) is None
    assert host.calls == []


def test_the_store_is_built_over_its_directory_option(tmp_path):
    host = Host(tmp_path, [NETWORKD])
    store = persist.open_persistent(params(networkd_dir=str(tmp_path / 'net')), host.run, host.paths)
    assert isinstance(store, NetworkdTunnels)
    assert store.files.directory == str(tmp_path / 'net')


def test_a_refused_store_fails_the_task_with_every_field_error_and_writes_nothing(tmp_path):
    host = Host(tmp_path, [])
    task = params(**HE)
    task.update(ttl=300, networkd_dir=str(tmp_path / 'net'))
    store = persist.open_persistent(task, host.run, host.paths)
    assert isinstance(store, persist.Refused)
    nl = FakeNetlink()
    with pytest.raises(TunnelError) as err:
        run_iptun(task, KernelTunnels(nl), store, resolve=fake_resolve)
    assert 'ttl' in str(err.value) and 'no network manager manages this host' in str(err.value)
    assert nl.writes == [] and not (tmp_path / 'net').exists()


STORE_MODULES = ('_tunnel_networkd', '_tunnel_ifupdown', '_tunnel_nm')


def _store_modules_after(code):
    """The tunnel store modules a fresh Python has imported after running ``code``."""
    script = ('import sys\n%s\nprint(" ".join(sorted(m.split(".")[-1] for m in sys.modules\n'
              '    if m.split(".")[-1] in %r)))' % (code, STORE_MODULES))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    done = subprocess.run([sys.executable, '-c', script], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_tunnel_module_imports_no_store_until_one_is_chosen_and_then_only_that_one():
    """Each task compiles what it imports (Ansible runs modules from a zip): the stores of the
    managers a host does not run are not imported."""
    modules = ('from ansible_collections.edgenet.router.plugins.modules import iptun, iptun_info, sixtofour_relay\n'
               'from ansible_collections.edgenet.router.plugins.module_utils import _tunnel_persist as persist')
    assert _store_modules_after(modules) == []
    for name, module in (('networkd', '_tunnel_networkd'), ('ifupdown', '_tunnel_ifupdown'), ('networkmanager', '_tunnel_nm')):
        assert _store_modules_after('%s\npersist.MANAGERS[%r].store_class()' % (modules, name)) == [module]


def test_every_store_error_is_what_the_modules_catch():
    from ansible_collections.edgenet.router.plugins.module_utils._ifupdown import IfupdownError
    from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdError
    from ansible_collections.edgenet.router.plugins.module_utils._nm import NmError
    for error in (NetworkdError, IfupdownError, NmError):
        assert issubclass(error, persist.ERRORS)
