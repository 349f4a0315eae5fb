# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 12 (outside review of f847798): concurrent runs, failures after the file was written,
Kea's health, switching backends, check mode vs real run, what the result shows."""

from __future__ import annotations

import json
import os
import re
import threading

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _backends, _dnsmasq, _edgenet, _kea, _kea_config
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import MANAGED_MARKER, PutStore
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._kea_control import KeaControl, server_sockets
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import TABLE, Dhcpv6Error, desired_service
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service import DRIFT_DAEMON, info, run_dhcpv6

from .test_kea import ADDRS, STATEFUL, Router

NO_SOCKET = 'kea-dhcp6 (pid 7) holds no socket on UDP port 547'


@pytest.fixture
def router(tmp_path):
    return Router(tmp_path)


# --- item 1: the file's lock is held from read to the end of apply ----------------------------------
def test_a_rollback_does_not_erase_a_concurrent_runs_change(tmp_path):
    settings = {'control_socket': '/x', 'lease_file': str(tmp_path / 'leases6.csv')}
    conf = str(tmp_path / 'kea-dhcp6.conf')

    def run(argv):
        return 0, '', ''
    first, second = _kea.KeaFile(conf, settings, run), _kea.KeaFile(conf, settings, run)
    second_done = threading.Event()

    def second_run():
        engine.run(TABLE, [second], {'lan1': desired_service({'interface': 'lan1'}, ADDRS)})
        second_done.set()
    other = threading.Thread(target=second_run, daemon=True)

    class RefusingDaemon(PutStore):
        """The first run's daemon: refuses its change after the file was written, while a second
        run (another task on the same router) tries to add lan1 to the same file."""
        name = engine.RUNTIME

        def read(self):
            return {}

        def put(self, key, obj):
            other.start()
            second_done.wait(1.0)   # without the lock, the second run commits here
            raise RuntimeError('Kea refused config-reload')

    with pytest.raises(engine.ApplyError, match='Kea refused config-reload'):
        engine.run(TABLE, [first, RefusingDaemon()], {'lan0': desired_service({'interface': 'lan0'}, ADDRS)})
    other.join(10)
    assert second_done.is_set()
    # The first run's rollback came before the second run read the file: lan1 survives, lan0 is gone.
    assert sorted(_kea.models_from_config(second.config())) == ['lan1']


def test_the_config_file_store_offers_its_directory_lock(tmp_path):
    store = _kea.KeaFile(str(tmp_path / 'k.conf'), {'control_socket': '/x', 'lease_file': '/l/x'}, None)
    with store.locked():
        with store.locked():   # re-entrant: snapshots and restores take it again inside apply
            assert os.path.exists(str(tmp_path / '.edgenet-router.lock'))


# --- item 2: a daemon start or reload that leaves nothing served rolls the file back -------------
def test_a_kea_that_starts_without_serving_rolls_the_file_back(tmp_path):
    router = Router(tmp_path, running=False)
    calls = []

    def run_command(argv):
        calls.append(argv)
        if argv[:2] == ['systemctl', 'start']:
            router.kea.is_running = True
            router.kea.broken = NO_SOCKET
        elif argv[:2] == ['systemctl', 'stop']:
            router.kea.is_running = False
        return 0, '', ''
    params = router.params(service_manager='systemd', **STATEFUL)
    with pytest.raises(engine.ApplyError) as exc:
        run_dhcpv6(params, _kea.Backend(params, run_command, control=router.kea, health=router.kea), False, ADDRS)
    # Starting Kea is the runtime store's write: its failure rolls the file back like any write's.
    assert 'Failed to create lan0 in the runtime store' in str(exc.value)
    assert 'does not run or serves nothing' in str(exc.value)
    assert 'persistent lan0 removed again' in str(exc.value)
    assert router.text() is None   # the file is put back as it was: absent
    assert ['systemctl', 'stop', 'kea-dhcp6-server'] in calls and not router.kea.is_running


def test_a_reload_after_which_kea_serves_nothing_rolls_back(router):
    router.run(**STATEFUL)
    before = router.text()
    router.kea.breaks_on_load = NO_SOCKET
    with pytest.raises(engine.ApplyError, match=re.escape('serves no DHCPv6 socket: ' + NO_SOCKET)):
        router.run(**dict(STATEFUL, valid_lifetime=9000))
    assert router.text() == before


# --- item 3: a Kea that answers but serves no socket is drift, repaired by a real run ------------
def test_a_kea_serving_no_socket_is_drift_that_a_real_run_repairs(router):
    router.run(**STATEFUL)
    router.kea.broken = NO_SOCKET   # a refused config-set closed every socket; config-get still answers
    check = router.run(check_mode=True, **STATEFUL)
    assert check['changed'] and check['drift'] == [DRIFT_DAEMON]
    got = info(router.backend())
    assert got['interfaces']['lan0']['running']['mode'] == 'broken (%s)' % NO_SOCKET
    assert 'mode' in got['interfaces']['lan0']['differs']
    real = router.run(**STATEFUL)
    assert real['changed'] and real['drift'] == [DRIFT_DAEMON]
    assert router.last_writes() == ['config-test', 'config-reload'] and router.kea.broken is None
    assert not router.run(**STATEFUL)['changed']


class FakeProc(object):
    """A /proc tree: process ``pid`` with socket fds and its namespace's udp6 table."""

    def __init__(self, root, pid, fds, rows):
        self.root = str(root)
        os.makedirs(os.path.join(self.root, str(pid), 'fd'))
        os.makedirs(os.path.join(self.root, str(pid), 'net'))
        for number, inode in enumerate(fds):
            os.symlink('socket:[%s]' % inode, os.path.join(self.root, str(pid), 'fd', str(number)))
        header = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr ' \
                 'tm->when retrnsmt   uid  timeout inode\n'
        with open(os.path.join(self.root, str(pid), 'net', 'udp6'), 'w') as handle:
            handle.write(header + ''.join(
                '  %d: %s:%04X 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   0        0 %s '
                '2 0000000000000000 0\n' % (i, address, port, inode) for i, (address, port, inode) in enumerate(rows)))


class StatusControl(KeaControl):
    def __init__(self, proc, status):
        super(StatusControl, self).__init__('/x', proc=proc, settle_seconds=0, sleep=lambda s: None)
        self.status = status

    def command(self, name, arguments=None):
        assert name == 'status-get'
        return self.status


LINK_LOCAL = '000080FE00000000FF0100020300FFFE'


def test_health_is_a_bound_dhcpv6_socket_of_keas_own_process(tmp_path):
    FakeProc(tmp_path, 7, ['111', '112'], [(LINK_LOCAL, 547, '111'), ('0' * 32, 53, '112')])
    assert server_sockets(7, str(tmp_path)) == [LINK_LOCAL]
    assert StatusControl(str(tmp_path), {'pid': 7}).problem() is None


@pytest.mark.parametrize('rows, status, words', [
    ([], {'pid': 7}, NO_SOCKET),                                       # every socket closed
    ([('0' * 32, 547, '999')], {'pid': 7}, NO_SOCKET),                 # port 547 held by another daemon
    ([(LINK_LOCAL, 547, '111')], {'pid': 7, 'sockets': {'status': 'failed', 'errors': ['bind: in use']}},
     'Kea reports its sockets failed: bind: in use'),
])
def test_a_kea_that_serves_nothing_has_a_problem(tmp_path, rows, status, words):
    FakeProc(tmp_path, 7, ['111'], rows)
    assert words in StatusControl(str(tmp_path), status).problem()


def test_no_verdict_when_proc_cannot_tell(tmp_path):
    assert server_sockets(7, str(tmp_path)) is None
    assert StatusControl(str(tmp_path), {'pid': 7}).problem() is None


# --- item 4: an interface the other backend still serves is refused --------------------------------
class OtherFile(object):
    error = _dnsmasq.DnsmasqError

    def __init__(self, served):
        self.served = served

        class File(object):
            path = '/etc/dnsmasq.d/edgenet-dhcpv6.conf'
        self.file = File()

    def read(self):
        if isinstance(self.served, Exception):
            raise self.served
        return self.served


def test_switching_backend_while_the_other_serves_the_interface_is_refused(router):
    others = {'dnsmasq': OtherFile({'lan0': {'interface': 'lan0'}})}
    params = router.params(**STATEFUL)
    with pytest.raises(Dhcpv6Error, match=r'lan0 is still served by the dnsmasq backend \(/etc/dnsmasq.d/edgenet-dhcpv6.conf\).*'
                                          r'backend: dnsmasq, state: absent'):
        run_dhcpv6(params, router.backend(), False, ADDRS, others=others)
    assert router.text() is None
    # Another interface, a foreign or absent file, or disabling: nothing to refuse.
    for other in ({'lan1': {}}, _dnsmasq.DnsmasqError('not ours'), {}):
        run_dhcpv6(params, router.backend(), True, ADDRS, others={'dnsmasq': OtherFile(other)})
    run_dhcpv6(router.params(state='absent'), router.backend(), True, ADDRS, others=others)


def test_the_other_backends_are_read_at_their_default_files():
    defaults = {'kea': _kea.DEFAULTS, 'dnsmasq': _dnsmasq.DEFAULTS, 'edgenet': _edgenet.DEFAULTS}
    for backend in defaults:
        stores = _backends.other_file_stores({'backend': backend}, None)
        assert sorted(stores) == sorted(set(defaults) - {backend})
        assert all(store.file.path == defaults[name]['config_file'] for name, store in stores.items())


# --- item 5: changed is the same in check mode and the real run -----------------------------------
@pytest.mark.parametrize('running', [False, True])
def test_absent_with_an_empty_file_is_unchanged_in_both_modes(tmp_path, running):
    router = Router(tmp_path, running=running)
    router.run(**STATEFUL)
    router.run(state='absent')      # the file stays, serving nothing
    assert router.text() is not None and not _kea.models_from_config(_kea.load_text(router.text()))

    def run_command(argv):
        assert argv[0] != 'systemctl', 'nothing to serve: %s' % argv
        return 0, '', ''
    results = []
    for check_mode in (True, False):
        params = router.params(state='absent', service_manager='systemd')
        results.append(run_dhcpv6(params, _kea.Backend(params, run_command, control=router.kea, health=router.kea), check_mode, ADDRS))
    assert [r['changed'] for r in results] == [False, False]
    assert [r['commands'] for r in results] == [[], []]


def test_check_mode_predicts_the_start_of_a_stopped_kea(tmp_path):
    router = Router(tmp_path, running=False)

    def run_command(argv):
        if argv[:2] == ['systemctl', 'start']:
            router.kea.is_running = True
            router.kea.command('config-reload')
        return 0, '', ''
    params = router.params(service_manager='systemd', **STATEFUL)
    check = run_dhcpv6(params, _kea.Backend(params, run_command, control=router.kea, health=router.kea), True, ADDRS)
    real = run_dhcpv6(params, _kea.Backend(params, run_command, control=router.kea, health=router.kea), False, ADDRS)
    assert check['changed'] and real['changed'] and check['commands'] == real['commands']
    assert 'systemctl start kea-dhcp6-server' in real['commands'] and real['daemon_running']


# --- item 7: the result shows what the collection manages, not the whole file -------------------
def test_backend_config_shows_only_the_interfaces_own_part(router):
    router.run(**STATEFUL)
    config = _kea.load_text(router.text())
    config['Dhcp6']['hooks-libraries'] = [{'library': '/usr/lib/kea/hooks/libdhcp_x.so',
                                           'parameters': {'password': 'hunter2-secret'}}]
    with open(router.conf, 'w') as handle:
        handle.write(_kea.dump_config(config))
    router.run(interface='lan1', subnet='2001:db8:2::/64', dns_servers=['2001:db8:2::1'])
    res = router.run(**dict(STATEFUL, valid_lifetime=9000))
    assert 'hunter2-secret' not in json.dumps(res) and 'hooks-libraries' not in res['backend_config']
    part = json.loads(res['backend_config'])['Dhcp6']
    assert [s['interface'] for s in part['subnet6']] == ['lan0'] and part['subnet6'][0]['valid-lifetime'] == 9000
    assert part['client-classes'] == [{'name': 'DROP', 'test': _kea_config._drop_test({'lan0': res['server']})}]
    assert 'hunter2-secret' in router.text()   # the file keeps what is not ours
    assert router.run(state='absent')['backend_config'] == ''
    assert MANAGED_MARKER not in res['backend_config']
