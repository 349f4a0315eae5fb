# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commit-confirm for dhcpv6_server: with Kea, the journal (the config file's snapshot, the config
Kea ran), the timer's rollback through _service.open_stores in the same way the timer's own
process runs it, a confirmed change kept, records that cannot be undone; with dnsmasq, the
restart undone. Kea is test_kea's fake control socket, dnsmasq test_dnsmasq's fake process table;
systemd and a real Kea are proven in the lab (tests/integration/targets/pipex_session/tasks/
confirm_dhcpv6.yml)."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _confirm as confirm
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _backends, _dnsmasq, _kea, _service
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import Dhcpv6Error
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service import STORE_OPTIONS, run_dhcpv6
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils._dhcpv6 import test_dnsmasq
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils._dhcpv6.test_kea import ADDRS, STATEFUL, Router


class ConfirmRouter(Router):
    """test_kea's router (a fake Kea over a real config file) with the timer: run_command stands
    for kea-dhcp6 -t, systemd-run and systemctl, and runs a rollback command line in this process,
    where _service.open_stores finds the same fake Kea (as the timer's process finds the real one)."""

    def __init__(self, tmp_path, monkeypatch, running=True):
        super(ConfirmRouter, self).__init__(tmp_path, running)
        self.confirm_dir = str(tmp_path / 'confirm')
        self.commands = []

        def open_stores(params, run):
            backend = _kea.Backend(params, run, control=self.kea, health=self.kea)
            return backend.daemon, backend.file
        monkeypatch.setattr(_backends, 'open_stores', open_stores)

    def run_command(self, argv):
        self.commands.append(argv)
        if argv[0] == 'systemd-run':
            return 0, '', ''
        if argv[0] == sys.executable:  # a rollback command line: [python, -I, -c, BOOT, entry, dir, id]
            return confirm.main(argv[5], argv[6], run_command=self.run_command), 'rolled back', ''
        if argv == ['systemctl', 'start', 'kea-dhcp6-server']:
            self.kea.is_running = True
            self.kea.command('config-reload')
        if argv == ['systemctl', 'stop', 'kea-dhcp6-server']:
            self.kea.is_running = False
        return Router.run_command(self, argv) if argv[0] == _kea.BINARY or argv[-1].endswith('.conf') else (0, '', '')

    def apply(self, timeout=30, clock=1796424000.0, **kwargs):
        params = self.params(confirm_timeout=timeout, **kwargs)
        pending = None if timeout is None else confirm.Pending(
            'dhcpv6_server', params, timeout, self.run_command, 'systemd-run', self.confirm_dir, clock=lambda: clock)
        return run_dhcpv6(params, self.backend(**kwargs), False, ADDRS, confirm=pending)

    def state(self):
        """The config file (bytes, mode) and what Kea runs (None when it is stopped)."""
        try:
            with open(self.conf, 'rb') as handle:
                data = handle.read()
            mode = stat.S_IMODE(os.stat(self.conf).st_mode)
        except FileNotFoundError:
            data = mode = None
        return data, mode, self.kea.config if self.kea.is_running else None


@pytest.fixture
def router(tmp_path, monkeypatch):
    return ConfirmRouter(tmp_path, monkeypatch)


def test_a_change_with_confirm_timeout_writes_the_file_and_kea_into_its_journal(router):
    router.apply(timeout=None)
    result = router.apply(**STATEFUL)
    ident = result['confirm']['id']
    assert result['changed'] and result['confirm']['unit'] == 'edgenet-confirm-%s.timer' % ident
    record = json.load(open(os.path.join(router.confirm_dir, ident + '.json')))
    assert record['task'] == 'dhcpv6_server'
    assert sorted(record['options']) == sorted(STORE_OPTIONS) and record['options']['config_file'] == router.conf
    # The file's bytes and the config Kea ran, both as data: no inverse write stands in for either.
    assert [(r['store'], r['undo']) for r in record['journal']] == [('persistent', 'restore'), ('runtime', 'restore')]
    assert 'Dhcp6' in record['journal'][1]['record']['config']


def test_the_timer_puts_the_file_back_byte_for_byte_and_kea_on_its_old_config(router):
    router.apply(timeout=None)
    os.chmod(router.conf, 0o640)
    before = router.state()
    ident = router.apply(**STATEFUL)['confirm']['id']
    assert router.state() != before and router.kea.config['Dhcp6']['subnet6'][0]['pools']
    assert confirm.main(router.confirm_dir, ident, run_command=router.run_command) == 0
    assert router.state() == before
    assert router.kea.log[-1] == 'config-set'   # Kea given back what it ran, over its socket
    assert confirm.pending_ids(router.confirm_dir) == []


def test_a_kea_the_change_started_is_stopped_again_and_the_file_removed(tmp_path, monkeypatch):
    router = ConfirmRouter(tmp_path, monkeypatch, running=False)
    before = router.state()
    result = router.apply(service_manager='systemd')
    assert result['daemon_running'] and ['systemctl', 'start', 'kea-dhcp6-server'] in router.commands
    assert confirm.main(router.confirm_dir, result['confirm']['id'], run_command=router.run_command) == 0
    assert ['systemctl', 'stop', 'kea-dhcp6-server'] in router.commands
    assert router.state() == before == (None, None, None)


def test_a_confirmed_change_stays(router):
    ident = router.apply(**STATEFUL)['confirm']['id']
    after = router.state()
    assert confirm.confirm_all(router.run_command, 'systemctl', router.confirm_dir) == [ident]
    assert confirm.main(router.confirm_dir, ident, run_command=router.run_command) == 0
    assert router.state() == after


@pytest.mark.parametrize('record', [[['{dir}/other.conf', None]], [['/etc/passwd', None]]])
def test_a_file_record_may_name_the_config_file_only(router, record):
    router.apply(timeout=None)
    before = router.state()
    record = [[record[0][0].format(dir=router.dir), None]]
    with pytest.raises(_kea.KeaError, match='Refusing to restore'):
        router.backend().file.restore_record(record)
    assert router.state() == before


@pytest.mark.parametrize('record', [None, {}, {'stopped': 'yes'}, {'config': 'rm -rf /'}])
def test_a_malformed_kea_record_is_refused(router, record):
    router.apply(timeout=None)
    log = list(router.kea.log)
    with pytest.raises(_kea.KeaError, match='malformed record'):
        router.backend().daemon.restore_record(record)
    assert router.kea.log == log


def test_options_from_a_record_are_checked_again(router):
    with pytest.raises(Dhcpv6Error, match='config_file'):
        with _service.open_stores(dict(router.params(), config_file='relative.conf'), router.run_command):
            pass


# --- dnsmasq: the restart undone by the timer (the old text into the file, a restart, the file back) -----
class DnsmasqRouter(test_dnsmasq.Router):
    """test_dnsmasq's router (a fake process table over a real drop-in file) with the timer."""

    def __init__(self, tmp_path, monkeypatch):
        super(DnsmasqRouter, self).__init__(tmp_path)
        self.confirm_dir = str(tmp_path / 'confirm')

        def kill(pid, sig):
            assert pid == self.proc.current
            self.proc.current = None
        monkeypatch.setattr(_dnsmasq.os, 'kill', kill)

        def open_stores(params, run):
            backend = _dnsmasq.Backend(params, run, binary=self.binary, process=self.proc, netns_inode=7,
                                       state_dir=self.state_dir)
            return backend.daemon, backend.file
        monkeypatch.setattr(_backends, 'open_stores', open_stores)

    def run_command(self, argv):
        if argv[0] == 'systemd-run' or argv[:3] == ['systemctl', 'stop', 'edgenet-confirm-%s.timer' % argv[2][16:-6]]:
            return 0, '', ''
        if argv[0] == sys.executable:
            return confirm.main(argv[5], argv[6], run_command=self.run_command), 'rolled back', ''
        return test_dnsmasq.Router.run_command(self, argv)

    def apply(self, timeout=30, **kwargs):
        params = self.params(confirm_timeout=timeout, **kwargs)
        pending = None if timeout is None else confirm.Pending(
            'dhcpv6_server', params, timeout, self.run_command, 'systemd-run', self.confirm_dir, clock=lambda: 1796424000.0)
        return run_dhcpv6(params, self.backend(**kwargs), False, ADDRS, confirm=pending)


def test_the_timer_restarts_dnsmasq_on_its_old_text_and_puts_the_file_back(tmp_path, monkeypatch):
    router = DnsmasqRouter(tmp_path, monkeypatch)
    router.apply(timeout=None)
    before = (router.text(), router.started_text)
    result = router.apply(**test_dnsmasq.STATEFUL)
    assert router.started_text != before[1]
    record = json.load(open(os.path.join(router.confirm_dir, result['confirm']['id'] + '.json')))
    assert [(r['store'], r['undo']) for r in record['journal']] == [('persistent', 'restore'), ('runtime', 'restore')]
    process = (router.proc.current, router.proc.ticks)
    assert confirm.main(router.confirm_dir, result['confirm']['id'], run_command=router.run_command) == 0
    # Restarted (a new process) on the text it ran before, and the file is back byte for byte.
    assert (router.proc.current, router.proc.ticks) != process and (router.text(), router.started_text) == before


@pytest.mark.parametrize('record', [{}, {'identity': [1], 'running': None, 'file_text': None, 'file': []},
                                    {'identity': [None, None], 'running': 5, 'file_text': None, 'file': []},
                                    {'identity': [None, None], 'running': None, 'file_text': None,
                                     'file': [['/etc/passwd', None]]}])
def test_a_malformed_dnsmasq_record_is_refused(tmp_path, monkeypatch, record):
    router = DnsmasqRouter(tmp_path, monkeypatch)
    router.apply(timeout=None)
    before = (router.text(), router.proc.current)
    with pytest.raises(_dnsmasq.DnsmasqError, match='Refusing'):
        router.backend().daemon.restore_record(record)
    assert (router.text(), router.proc.current) == before
