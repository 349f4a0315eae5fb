# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The edgenet backend of dhcpv6_server (the collection's own relay) around its seams: systemctl
and the process table are fakes that run the daemon's own config code (a started relay reports
what LIVE holds, as _relayd.Relay does). Real packets through the real daemon: the dhcpv6_server
host target (tasks/own_relay.yml); under systemd: the lab."""

from __future__ import annotations

import json
import os
import signal
import stat

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _confirm as confirm
from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _backends, _edgenet, _relayd
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import Dhcpv6Error
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service import argument_spec, info, run_dhcpv6

ADDRS = ['2001:db8:5::1/64', 'fe80::1/64']
SPEC_DEFAULTS = dict((name, spec.get('default')) for name, spec in argument_spec().items())


class FakeRouter(object):
    """systemctl and /proc: ``start`` and ``reload`` make the relay report LIVE (unless ``deaf``),
    ``stop`` ends it; SIGHUP (service_manager none) reloads it."""

    def __init__(self, tmp_path, monkeypatch):
        self.root = tmp_path
        self.proc = tmp_path / 'proc'
        self.proc.mkdir()
        for name, sub in (('LIVE_DIR', 'run'), ('UNIT_DIR', 'units')):
            monkeypatch.setattr(_edgenet, name, str(tmp_path / sub))
        monkeypatch.setattr(_edgenet, 'PROGRAM', str(tmp_path / 'lib' / 'dhcp6-relayd.py'))
        monkeypatch.setattr(_edgenet.RelayDaemon, '__init__', self._daemon_init(_edgenet.RelayDaemon.__init__))
        monkeypatch.setattr(_edgenet.os, 'kill', self.kill)
        self.boot = str(tmp_path / 'etc' / 'dhcp6-relay.conf')
        self.calls = []
        self.pid = None
        self.deaf = False
        self.enabled = False

    def _daemon_init(self, original):
        router = self

        def init(daemon, *args, **kwargs):
            original(daemon, *args, **kwargs)
            daemon.proc, daemon.wait = str(router.proc), 0.3
        return init

    def params(self, **kwargs):
        params = dict(SPEC_DEFAULTS, interface='r0', mode='relay', upstream_interface='r1', backend='edgenet',
                      config_file=self.boot, servers=['ff02::1:2'])
        params.update(kwargs)
        return params

    def paths(self):
        return _edgenet.Paths({'config_file': self.boot, 'service_name': 'edgenet-dhcp6-relay'})

    def report(self):
        """The relay (re)reads LIVE and writes its state, as _relayd.Relay does."""
        paths = self.paths()
        if self.pid is None:
            self.pid = 4242
            os.makedirs(os.path.dirname(paths.live), exist_ok=True)
            if not os.path.exists(paths.live):
                with open(paths.boot) as handle:
                    text = handle.read()
                with open(paths.live, 'w') as handle:
                    handle.write(text)
        argv = ['/usr/bin/python3'] + _edgenet.daemon_argv('', paths)[1:]
        (self.proc / str(self.pid)).mkdir(exist_ok=True)
        (self.proc / str(self.pid) / 'cmdline').write_bytes(b'\0'.join(w.encode() for w in argv) + b'\0')
        if not self.deaf:
            with open(paths.state, 'w') as handle:
                json.dump({'pid': self.pid, 'config': _relayd.load(paths.live), 'counters': {'forwarded': 3}}, handle)

    def run_command(self, argv):
        self.calls.append(argv)
        if argv[:2] == ['systemctl', 'start'] or argv[:2] == ['systemctl', 'reload']:
            self.report()
        elif argv[:2] == ['systemctl', 'stop']:
            self.pid = None
            if os.path.exists(self.paths().state):
                os.unlink(self.paths().state)
        elif argv[:3] == ['systemctl', 'enable', '--quiet']:
            self.enabled = True
        return 0, '', ''

    def kill(self, pid, signum):
        assert (pid, signum) == (self.pid, signal.SIGHUP)
        self.calls.append(['kill', '-HUP', str(pid)])
        self.report()

    def backend(self, **kwargs):
        return _edgenet.Backend(self.params(**kwargs), self.run_command, binary='/usr/bin/python3')

    def run(self, check_mode=False, addresses=None, **kwargs):
        return run_dhcpv6(self.params(**kwargs), self.backend(**kwargs), check_mode,
                          ADDRS if addresses is None else addresses)


@pytest.fixture
def router(tmp_path, monkeypatch):
    return FakeRouter(tmp_path, monkeypatch)


def test_a_relay_is_installed_started_from_its_files_and_a_second_run_changes_nothing(router):
    checked = router.run(check_mode=True, interface_id=True)
    assert checked['changed'] and router.calls == [] and not os.path.exists(router.boot)
    result = router.run(interface_id=True)
    assert result['changed'] and result['daemon_running'] and result['drift'] == ['file differs',
                                                                                  'daemon not running the file']
    assert result['server'] == {'interface': 'r0', 'mode': 'relay', 'upstream_interface': 'r1', 'servers': ['ff02::1:2'],
                                'interface_id': True, 'hop_limit': 8, 'dns_rewrite': False}
    paths = router.paths()
    boot = _relayd.load(paths.boot)['interfaces']['r0']
    assert boot['interface_id'] is True and stat.S_IMODE(os.stat(paths.boot).st_mode) == 0o600
    assert _relayd.load(paths.live) == _relayd.load(paths.boot)
    unit = open(os.path.join(_edgenet.UNIT_DIR, 'edgenet-dhcp6-relay.service')).read()
    assert 'ConditionPathExists=%s\n' % paths.boot in unit
    assert 'ExecStart=/usr/bin/python3 -I %s %s %s %s\n' % (_edgenet.PROGRAM, paths.boot, paths.live, paths.state) in unit
    assert open(_edgenet.PROGRAM, 'rb').read() == _edgenet.program_text() and router.enabled
    assert ['systemctl', 'daemon-reload'] in router.calls and ['systemctl', 'start', paths.unit] in router.calls
    router.calls[:] = []
    again = router.run(interface_id=True)
    assert not again['changed'] and router.calls == []
    assert info(router.backend())['relay_counters'] == {'forwarded': 3}


def test_a_change_reloads_the_running_relay_and_removal_stops_it(router):
    router.run()
    pid = router.pid
    router.calls[:] = []
    result = router.run(dns_rewrite=True, hop_limit=4, servers=['2001:db8:6::1'])
    assert result['changed'] and ['systemctl', 'reload', 'edgenet-dhcp6-relay.service'] in router.calls
    assert router.pid == pid   # the same process: exchanges in flight are not lost
    assert _relayd.load(router.paths().live)['interfaces']['r0'] == {
        'upstream_interface': 'r1', 'servers': ['2001:db8:6::1'], 'interface_id': False, 'hop_limit': 4,
        'dns_rewrite': True}
    gone = router.run(state='absent')
    assert gone['changed'] and router.pid is None
    assert not os.path.exists(router.paths().boot) and not os.path.exists(router.paths().live)


def test_a_relay_that_does_not_report_its_config_is_rolled_back(router):
    router.run()
    before = open(router.paths().boot, 'rb').read()
    router.deaf = True
    with pytest.raises(engine.ApplyError, match='does not report the new config'):
        router.run(hop_limit=3)
    assert open(router.paths().boot, 'rb').read() == before


def test_a_stale_state_file_is_no_running_relay(router):
    router.run()
    state = json.load(open(router.paths().state))
    (router.proc / str(state['pid']) / 'cmdline').write_bytes(b'/usr/sbin/sshd\0-D\0')
    assert not router.backend().daemon_running()
    assert router.backend().daemon.read() == {}


def test_service_manager_none_writes_the_file_and_reloads_a_relay_it_proved_ours(router):
    result = run_dhcpv6(router.params(service_manager='none'), router.backend(service_manager='none'), False, ADDRS,
                        warn=router.calls.append)
    assert result['changed'] and not result['daemon_running'] and os.path.exists(router.boot)
    assert 'the edgenet daemon is not running' in router.calls[-1]
    router.report()   # the task starts it itself
    router.calls[:] = []
    result = router.run(service_manager='none', interface_id=True)
    assert result['changed'] and router.calls == [['kill', '-HUP', '4242']]


@pytest.mark.parametrize('kwargs, words', [
    (dict(mode='server', upstream_interface=None, servers=None), 'relay only'),
    (dict(lease_file='/tmp/x.csv'), 'not apply to backend edgenet'),
    (dict(config_file='/etc/my relay.conf'), 'letters, digits'),
    (dict(config_file='/etc/../x.conf'), 'letters, digits'),
    (dict(service_name='relay\\x2d1'), 'names its unit'),
    (dict(service_name='relay@x'), 'names its unit'),
    (dict(service_name='relay.service'), 'names its unit'),
    (dict(netns='my ns'), 'ip netns exec NETNS'),
])
def test_what_the_relay_cannot_do_is_refused_before_anything_is_touched(router, kwargs, words):
    with pytest.raises((Dhcpv6Error, _edgenet.RelayError), match=words):
        router.run(**kwargs)
    assert router.calls == [] and not os.path.exists(router.boot)


def test_a_relayed_interface_without_a_global_address_needs_interface_id(router):
    with pytest.raises(Dhcpv6Error, match='needs a global IPv6 address'):
        router.run(addresses=['fe80::1/64'])
    assert router.run(addresses=['fe80::1/64'], interface_id=True)['changed']


def test_commit_confirm_puts_the_relay_back_as_it_ran(router, tmp_path, monkeypatch):
    def open_stores(params, run):   # as the timer's process opens them, on the fake router
        backend = router.backend(**dict((k, v) for k, v in params.items() if k in ('config_file', 'service_manager')))
        return backend.daemon, backend.file
    monkeypatch.setattr(_backends, 'open_stores', open_stores)
    router.run()
    ran = _relayd.load(router.paths().live)
    directory = str(tmp_path / 'confirm')
    pending = confirm.Pending('dhcpv6_server', router.params(hop_limit=2), 30,
                              lambda argv: (0, '', ''), 'systemd-run', directory, clock=lambda: 1796424000.0)
    run_dhcpv6(router.params(hop_limit=2), router.backend(), False, ADDRS, confirm=pending)
    assert _relayd.load(router.paths().live)['interfaces']['r0']['hop_limit'] == 2
    assert confirm.main(directory, pending.id, run_command=router.run_command) == 0
    assert _relayd.load(router.paths().live) == ran and _relayd.load(router.paths().boot) == ran
    assert json.load(open(router.paths().state))['config'] == ran
