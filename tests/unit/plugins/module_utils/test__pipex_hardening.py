# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 12 on pipex_session: what an outside review found it accepted, wedged or left behind.
Same fakes as test__pipex (fake genl, fake rtnetlink, fake nft/sysctl, real files in a temp dir)."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._pipex import _boot
from ansible_collections.edgenet.router.plugins.module_utils._pipex import _service
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError
from ansible_collections.edgenet.router.plugins.module_utils._files import MANAGED_MARKER
from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdError
from ansible_collections.edgenet.router.plugins.module_utils._pipex._kernel import KernelSessions
from ansible_collections.edgenet.router.plugins.module_utils._pipex._tunnels import KernelTunnels
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import PipexError
from ansible_collections.edgenet.router.plugins.module_utils._pipex._service import run_pipex
from ansible_collections.edgenet.router.plugins.module_utils._pipex._state import PersistentSessions
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__pipex import (
    SPEC_DEFAULTS, WAN, session, wan,
)
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__pipex import Router as BaseRouter

SYSTEMCTL = '/usr/bin/systemctl'


class Systemctl(object):
    """run_command for the persistent store: records argv, answers ``rc``."""

    def __init__(self, rc=0, err=''):
        self.rc, self.err = rc, err
        self.calls = []

    def __call__(self, argv, **kwargs):
        self.calls.append(argv)
        return self.rc, '', self.err


class Router(BaseRouter):
    """test__pipex's fake router whose persistent store also settles through a recorded systemctl."""

    def __init__(self, tmp_path):
        super(Router, self).__init__(tmp_path)
        self.systemctl = Systemctl()

    def files(self, systemctl=SYSTEMCTL, state_dir=None):
        return PersistentSessions(self.state_dir if state_dir is None else state_dir, self.unit_dir, run_command=self.systemctl,
                                  systemctl=systemctl)

    def run(self, check_mode=False, systemctl=SYSTEMCTL, **kwargs):
        p = dict(SPEC_DEFAULTS, state_dir=self.state_dir)
        p.update(kwargs)
        self.nl.read_only = self.genl.read_only = self.side.read_only = check_mode
        try:
            runtime = KernelSessions(self.genl, self.nl, self.side)
            files = self.files(systemctl, p['state_dir']) if p['persistent'] else None
            return run_pipex(p, KernelTunnels(self.genl), runtime, files, check_mode=check_mode)
        finally:
            self.nl.read_only = self.genl.read_only = self.side.read_only = False

    def boot_files(self):
        return [os.path.join(self.unit_dir, _boot.UNIT_NAME), os.path.join(self.state_dir, 'restore.sh'),
                os.path.join(self.unit_dir, 'multi-user.target.wants')]


@pytest.fixture
def router(tmp_path):
    return Router(tmp_path)


def state_path(router, name='l2tpeth-wan'):
    return os.path.join(router.state_dir, '%s.conf' % name)


# ---- 1. free text: control characters, length; a state file that cannot be parsed ----------------
@pytest.mark.parametrize('text', ['two\nlines', 'cr\r', 'nul\x00', 'esc\x1b[31m', 'sep\u2028', 'nel\x85', 'tab\there'])
def test_control_characters_in_description_are_refused_before_any_write(router, text):
    with pytest.raises(PipexError, match='description .* control character or line break'):
        router.run(**wan(description=text))
    assert router.genl.writes == [] and not os.path.exists(router.state_dir)


def test_description_longer_than_the_kernel_keeps_is_refused(router):
    with pytest.raises(PipexError, match='is 256 bytes of UTF-8; the kernel keeps at most 255'):
        router.run(check_mode=True, **wan(description='\u00e9' * 128))
    assert router.run(check_mode=True, **wan(description='x' * 255))['changed']


def test_state_file_with_a_multi_line_value_reads_as_the_shell_reads_it(router):
    """What f847798 wrote for a description with a newline: every later run crashed in shlex."""
    router.run(**WAN)
    path = state_path(router)
    text = open(path).read().replace("ALIAS='customer 42'", "ALIAS='customer\n42'")
    with open(path, 'w') as handle:
        handle.write(text)
    assert router.files().read()['l2tpeth-wan']['description'] == 'customer\n42'
    result = router.run(**WAN)  # the drift is corrected: the file is ours
    assert [c['store'] for c in result['changes']] == ['persistent']
    assert "ALIAS='customer 42'" in open(path).read()


@pytest.mark.parametrize('line', ["ALIAS='unclosed", 'echo hello', 'TUNNEL_ID=1 rm -rf x'])
def test_unparsable_state_file_is_an_error_naming_it(router, line):
    router.run(**WAN)
    path = state_path(router)
    with open(path, 'a') as handle:
        handle.write(line + '\n')
    with pytest.raises(PipexError) as exc:
        router.run(**WAN)
    assert 'Cannot read the state file %s' % path in str(exc.value) and 'Remove it' in str(exc.value)
    assert '1a2b3c4d' not in str(exc.value)  # the file holds the cookies: never echoed


def test_state_file_whose_name_is_not_its_ifname_is_an_error(router):
    router.run(**WAN)
    os.rename(state_path(router), state_path(router, 'other'))
    with pytest.raises(PipexError, match='other.conf: its name is not <IFNAME>.conf'):
        router.files().read()


def test_state_dir_that_is_a_file_is_a_clear_error(router, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(NetworkdError, match='Cannot read the state directory'):
        PersistentSessions(str(blocker), router.unit_dir).read()


@pytest.mark.parametrize('state_dir', ['/etc/edgenet/pipex\nExecStartPre=/bin/true', '/etc/edge net', '/etc/%n', 'x' * 300])
def test_state_dir_the_unit_cannot_name_literally_is_refused(router, state_dir):
    with pytest.raises(PipexError, match='state_dir .* is not usable'):
        router.run(check_mode=True, **dict(WAN, state_dir=state_dir))


# ---- 2. daemon-reload is the persistent store's settle step ------------------------------------
def test_daemon_reload_runs_once_after_the_writes(router):
    router.run(sessions=[session(**WAN), session(**wan(ifname='pw-b', session_id=2, peer_session_id=2))])
    assert router.systemctl.calls == [[SYSTEMCTL, 'daemon-reload']]
    router.run(sessions=[session(**WAN), session(**wan(ifname='pw-b', session_id=2, peer_session_id=2))])
    assert len(router.systemctl.calls) == 1  # nothing written, nothing reloaded
    router.run(check_mode=True, **wan(mtu=1400))
    assert len(router.systemctl.calls) == 1


def test_without_systemctl_nothing_is_reloaded(router):
    router.run(systemctl=None, **WAN)
    assert router.systemctl.calls == [] and os.path.exists(state_path(router))


def test_failed_daemon_reload_rolls_everything_back(router):
    router.systemctl.rc, router.systemctl.err = 1, 'Failed to reload daemon: Access denied'
    with pytest.raises(engine.ApplyError) as exc:
        router.run(**WAN)
    message = str(exc.value)
    assert 'The writes to the persistent store did not take effect' in message and 'Access denied' in message
    assert 'COULD NOT ROLL BACK' not in message
    assert router.genl.session_table == {} and router.genl.tunnel_table == {}
    assert not os.path.exists(state_path(router))
    assert not any(os.path.lexists(p) for p in router.boot_files())


# ---- 3. the engine holds both directory locks from read to the end of apply ---------------------
def _held(directory):
    state = _files._HELD.get((os.getpid(), os.path.join(os.path.abspath(directory), _files.LOCK_NAME)))
    return bool(state and state['depth'])


def test_read_runs_under_the_state_and_unit_directory_locks(router, monkeypatch):
    seen = []
    real_read = PersistentSessions.read

    def read(store):
        seen.append((_held(router.state_dir), _held(router.unit_dir)))
        return real_read(store)
    monkeypatch.setattr(PersistentSessions, 'read', read)
    router.run(**WAN)
    assert seen == [(True, True), (True, True)]  # the read and the re-read after apply
    assert not _held(router.state_dir) and not _held(router.unit_dir)


def test_check_mode_creates_no_lock_file(router):
    os.makedirs(router.unit_dir)
    router.run(check_mode=True, **WAN)
    assert not os.path.exists(router.state_dir)
    assert os.listdir(router.unit_dir) == []


# ---- 4. the rollback of the first session removes everything it made -----------------------------
def _kernel_says_no(session):
    raise NetlinkError('create L2TP session 100/1000: the kernel refused the parameters (invalid argument)', 22)


def test_rollback_of_the_first_session_removes_unit_link_script_and_wants_dir(router, monkeypatch):
    monkeypatch.setattr(router.genl, 'create_session', _kernel_says_no)
    with pytest.raises(engine.ApplyError) as exc:
        router.run(**WAN)
    assert 'COULD NOT ROLL BACK' not in str(exc.value)
    assert not os.path.exists(state_path(router))
    assert [p for p in router.boot_files() if os.path.lexists(p)] == []
    assert router.genl.tunnel_table == {}


def test_rollback_of_a_later_session_keeps_the_unit(router, monkeypatch):
    router.run(**WAN)
    unit = open(router.boot_files()[0], 'rb').read()
    monkeypatch.setattr(router.genl, 'create_session', _kernel_says_no)
    with pytest.raises(engine.ApplyError):
        router.run(**wan(ifname='pw-b', tunnel_id=7, session_id=2))
    assert open(router.boot_files()[0], 'rb').read() == unit
    assert os.readlink(os.path.join(router.boot_files()[2], _boot.UNIT_NAME)) == router.boot_files()[0]
    assert not os.path.exists(state_path(router, 'pw-b'))


def test_wants_directory_mode_is_0755_whatever_the_umask(router):
    old = os.umask(0o077)
    try:
        router.run(**WAN)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(router.boot_files()[2]).st_mode) == 0o755


def test_a_regular_file_in_place_of_the_wants_link_is_not_replaced(router):
    wants = router.boot_files()[2]
    os.makedirs(wants)
    with open(os.path.join(wants, _boot.UNIT_NAME), 'w') as handle:
        handle.write('mine\n')
    with pytest.raises(NetworkdError, match='not a symbolic link, so systemctl did not make it'):
        router.run(**WAN)
    assert open(os.path.join(wants, _boot.UNIT_NAME)).read() == 'mine\n'
    assert not os.path.exists(state_path(router))


def test_an_undo_that_fails_is_reported_not_swallowed(router, monkeypatch):
    def no_alias(index=None, up=None, mtu=None, alias=None, name=None):
        raise NetlinkError('set link: the kernel refused the parameters (invalid argument)', 22)

    def stuck(tunnel_id, session_id):
        raise NetlinkError('delete L2TP session %s/%s: permission denied' % (tunnel_id, session_id), 1)
    monkeypatch.setattr(router.nl, 'set_link', no_alias)
    monkeypatch.setattr(router.genl, 'delete_session', stuck)
    with pytest.raises(engine.ApplyError) as exc:
        router.run(persistent=False, **WAN)
    assert 'COULD NOT ROLL BACK: runtime l2tpeth-wan (delete L2TP session 100/1000: permission denied)' in str(exc.value)


def test_a_half_made_session_and_its_new_tunnel_are_removed(router, monkeypatch):
    def no_alias(index=None, up=None, mtu=None, alias=None, name=None):
        raise NetlinkError('set link: the kernel refused the parameters (invalid argument)', 22)
    monkeypatch.setattr(router.nl, 'set_link', no_alias)
    with pytest.raises(engine.ApplyError) as exc:
        router.run(persistent=False, **wan(adjust_tcpmss=True))
    assert 'COULD NOT ROLL BACK' not in str(exc.value)
    assert router.genl.session_table == {} and router.genl.tunnel_table == {} and router.side.mss == set()


# ---- 5. endpoints and peer session ids -----------------------------------------------------------
@pytest.mark.parametrize('change, message', [
    (dict(remote='0.0.0.0'), 'remote 0.0.0.0 is unspecified'),
    (dict(remote='224.0.0.5'), 'remote 224.0.0.5 is multicast'),
    (dict(remote='255.255.255.255'), 'remote 255.255.255.255 is the broadcast address'),
    (dict(remote='192.0.2.1'), 'remote 192.0.2.1 equals local'),
    (dict(remote='127.0.0.1'), 'remote 127.0.0.1 is a loopback address while local 192.0.2.1 is not'),
    (dict(local='0.0.0.0'), 'local 0.0.0.0 is unspecified'),
    (dict(local='2001:db8::1', remote='::'), 'remote :: is unspecified'),
    (dict(local='2001:db8::1', remote='ff02::1'), 'remote ff02::1 is multicast'),
    (dict(local='2001:db8::1', remote='::1'), 'remote ::1 is a loopback address'),
    (dict(local='2001:db8::1', remote='2001:db8::1'), 'equals local'),
    (dict(local='fe80::1', remote='fe80::2%eth0'), r'remote .* is not an IP address \(IPv4 or IPv6, without a %zone\)'),
    (dict(remote='240.0.0.1'), r'remote 240.0.0.1 is reserved \(240.0.0.0/4\)'),
    (dict(local='2001:db8::1', remote='::ffff:192.0.2.2'), r'remote ::ffff:\S+ is an IPv4-mapped IPv6 address'),
    (dict(local='2001:db8::1', remote='fe80::2'), 'remote fe80::2 is link-local'),
    (dict(local='127.0.0.1'), 'local 127.0.0.1 is a loopback address while remote 192.0.2.2 is not'),
])
def test_unusable_endpoints_are_refused(router, change, message):
    with pytest.raises(PipexError, match=message):
        router.run(check_mode=True, **wan(**change))


def test_both_ends_on_loopback_is_allowed(router):
    assert router.run(check_mode=True, **wan(local='127.0.0.1', remote='127.0.0.2'))['changed']


def test_same_peer_session_id_twice_in_a_tunnel_of_the_task(router):
    with pytest.raises(PipexError, match='pw-a and pw-b both use peer_session_id 9 in tunnel 100'):
        router.run(persistent=False, sessions=[session(**wan(ifname='pw-a', session_id=1, peer_session_id=9)),
                                               session(**wan(ifname='pw-b', session_id=2, peer_session_id=9))])
    # the same peer id in another tunnel is another peer session
    router.run(persistent=False, sessions=[session(**wan(ifname='pw-a', session_id=1, peer_session_id=9)),
                                           session(**wan(ifname='pw-b', tunnel_id=7, session_id=2, peer_session_id=9))])


def test_peer_session_id_held_in_the_kernel_is_refused(router):
    router.run(persistent=False, **wan(ifname='other', session_id=5))
    with pytest.raises(PipexError, match='peer_session_id 2000 in tunnel 100 is already used by interface other'):
        router.run(persistent=False, **WAN)
    router.genl.add_foreign_ppp_session(100, 77)
    with pytest.raises(PipexError, match=r'peer_session_id 1 in tunnel 100 is already used by session 77 of tunnel 100 \(not an Ethernet'):
        router.run(persistent=False, **wan(peer_session_id=1))


def test_changing_a_sessions_own_peer_id_is_no_conflict(router):
    router.run(persistent=False, **WAN)
    assert router.run(persistent=False, **wan(peer_session_id=2001))['changed']


# ---- 6. names: the one rule of _names -------------------------------------------------------------
@pytest.mark.parametrize('name', ['-pw', '.pw', '1234', 'a' * 16, 'pw\n0', 'pw*', 'pw/0', 'pw 0', '', 7])
def test_names_follow_the_one_link_name_rule(router, name):
    with pytest.raises(PipexError, match='is not a valid interface name: (.*1-15 letters|it is not a string)'):
        router.run(check_mode=True, **wan(ifname=name))
    with pytest.raises(PipexError, match='is not a valid interface name'):
        router.run(check_mode=True, sessions=[session(**wan(ifname=name))])


# ---- 7. any input: a clear refusal or success, never a traceback ----------------------------------
@pytest.mark.parametrize('change', [
    dict(tunnel_id=float('inf')), dict(mtu=float('nan')), dict(udp_sport=[1]), dict(session_id='1e3'),
    dict(addresses='10.0.0.1/30'), dict(addresses=[None]), dict(addresses=[['10.0.0.1/30']]), dict(addresses=[5]),
    dict(addresses=['fe80::1%eth0/64']), dict(local=['192.0.2.1']), dict(remote='x' * 10000),
    dict(description='\x00' * 10000), dict(cookie='0x' + 'z' * 5000), dict(ifname='\u00e9t\u00e9'),
    dict(netns='edge\nx'),
])
def test_any_input_ends_in_a_clear_error_or_success(router, change):
    try:
        router.run(check_mode=True, **wan(**change))
    except PipexError as exc:
        assert len(str(exc)) < 600  # never the whole of a long value
    assert router.genl.writes == []


# ---- 8. secrets in the messages pipex builds --------------------------------------------------------
@pytest.mark.parametrize('change', [
    dict(remote='0.0.0.0'), dict(description='a\nb'), dict(peer_cookie='0x1a2b3c'), dict(ifname='-x'),
    dict(sequencing='send', reorder_timeout=50), dict(lns_mode=True),
])
def test_messages_pipex_builds_never_show_a_cookie(router, change):
    with pytest.raises(PipexError) as exc:
        router.run(**wan(**change))
    assert '1a2b3c4d' not in str(exc.value).lower() and '0102030405060708' not in str(exc.value)


def test_apply_error_masks_the_cookies(router, monkeypatch):
    def leak(session):
        raise NetlinkError('create L2TP session with cookie %s: invalid argument' % session['cookie'], 22)
    monkeypatch.setattr(router.genl, 'create_session', leak)
    with pytest.raises(engine.ApplyError) as exc:
        router.run(**WAN)
    assert '1a2b3c4d' not in str(exc.value) and engine.SECRET_MASK in str(exc.value)


def test_state_file_marker_is_kept(router):
    router.run(**WAN)
    assert open(state_path(router)).read().startswith(MANAGED_MARKER + '\n')


def test_recreate_never_refusal_masks_the_cookies(router):
    router.run(**WAN)
    with pytest.raises(engine.PlanError) as exc:
        router.run(recreate='never', **wan(cookie='0xdeadbeef'))
    assert 'cookie' in str(exc.value) and '1a2b3c4d' not in str(exc.value) and 'deadbeef' not in str(exc.value)


def test_a_name_taken_by_another_interface_is_refused(router):
    router.nl.add_plain('eth0', 'veth')
    with pytest.raises(PipexError, match='session eth0: an interface of that name exists and is not an L2TP session'):
        router.run(check_mode=True, **wan(ifname='eth0'))


def test_a_ppp_sessions_tunnel_and_ids_are_taken(router):
    router.genl.tunnel_table[7] = dict(tunnel_id=7, peer_tunnel_id=8, encap='udp', local='192.0.2.1', remote='192.0.2.9',
                                       udp_sport=1701, udp_dport=1701, version=3)
    router.genl.add_foreign_ppp_session(7, 70)
    with pytest.raises(PipexError, match=r'tunnel 7 exists with other parameters and carries session 70 of tunnel 7 \(not an'):
        router.run(check_mode=True, **wan(tunnel_id=7))
    with pytest.raises(PipexError, match='session_id 70 in tunnel 7 is held by session 70 of tunnel 7'):
        router.run(check_mode=True, **wan(tunnel_id=7, peer_tunnel_id=8, session_id=70, remote='192.0.2.9'))


@pytest.mark.parametrize('addresses, message', [
    (['10.42.0.1/30', '10.42.0.1/30'], 'lists 10.42.0.1/30 twice'),
    (['2001:db8::1/64', '2001:db8:0::1/64'], "lists 2001:db8::1/64 twice .as '2001:db8::1/64' and '2001:db8:0::1/64'"),
    (['224.0.0.1/32'], 'is multicast'), (['ff02::1/64'], 'is multicast'), (['127.0.0.1/8'], 'is loopback'),
    (['0.0.0.0/0'], 'is unspecified'),
])
def test_task_addresses_are_unicast_and_listed_once(router, addresses, message):
    with pytest.raises(PipexError, match=message):
        router.run(check_mode=True, **wan(addresses=addresses))


@pytest.mark.parametrize('state_dir', ['', 'relative/dir'])
def test_state_dir_must_be_absolute(router, state_dir):
    with pytest.raises(PipexError, match='state_dir .* is not usable'):
        router.run(check_mode=True, **dict(WAN, state_dir=state_dir))


def test_info_checks_the_name_it_filters_on(router):
    router.run(**WAN)
    runtime = KernelSessions(router.genl, router.nl, router.side)
    assert [s['ifname'] for s in _service.info(runtime, router.files(), 'l2tpeth-wan')['sessions']] == ['l2tpeth-wan']
    assert _service.info(runtime, router.files(), 'other')['sessions'] == []
    with pytest.raises(PipexError, match='is not a valid interface name'):
        _service.info(runtime, router.files(), 'pw*')


@pytest.mark.parametrize('change, message', [
    (dict(cookie=439041101), 'cookie must be text of hex digits, not a int: quote it in YAML'),
    (dict(peer_cookie=12345678), 'peer_cookie must be text of hex digits'),
    (dict(description=['a']), 'description must be text, not a list'),
    (dict(description={'a': 1}), 'description must be text, not a dict'),
    (dict(description=True), 'description must be text, not a bool'),
])
def test_raw_options_refuse_what_yaml_made_of_unquoted_values(router, change, message):
    assert _service.argument_spec()['cookie']['type'] == 'raw'
    with pytest.raises(PipexError, match=message):
        router.run(check_mode=True, **wan(**change))
