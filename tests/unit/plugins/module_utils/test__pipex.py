# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""pipex_session's behaviour above the seams: fake genl, fake rtnetlink, fake nft/sysctl and real
state files in a temp dir."""

from __future__ import annotations

import copy
import json
import os
import stat
import subprocess

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._pipex import _boot
from ansible_collections.edgenet.router.plugins.module_utils._pipex import _effects
from ansible_collections.edgenet.router.plugins.module_utils._pipex import _model
from ansible_collections.edgenet.router.plugins.module_utils._pipex._kernel import KernelSessions
from ansible_collections.edgenet.router.plugins.module_utils._pipex._tunnels import KernelTunnels
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import PipexError
from ansible_collections.edgenet.router.plugins.module_utils._pipex._service import argument_spec, info, run_pipex
from ansible_collections.edgenet.router.plugins.module_utils._pipex._state import PersistentSessions, parse_state, render_state
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_l2tp import FakeL2tp, FakeSideEffects
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_netlink import FakeNetlink

SPEC_DEFAULTS = dict((name, spec.get('default')) for name, spec in argument_spec().items())
SESSION_DEFAULTS = dict((name, spec.get('default')) for name, spec in argument_spec()['sessions']['options'].items())

WAN = dict(ifname='l2tpeth-wan', tunnel_id=100, peer_tunnel_id=200, session_id=1000, peer_session_id=2000,
           local='192.0.2.1', remote='192.0.2.2', encap='udp', udp_sport=1701, udp_dport=1701, sequencing='both',
           cookie='0x1A2B3C4D', peer_cookie='0102030405060708', mtu=1446, description='customer 42',
           addresses=['10.42.0.1/30'])


def wan(**changes):
    out = dict(WAN)
    out.update(changes)
    return out


def session(**kwargs):
    out = dict(SESSION_DEFAULTS)
    out.update(kwargs)
    return out


class Router(object):
    def __init__(self, tmp_path):
        self.nl = FakeNetlink()
        self.genl = FakeL2tp(self.nl)
        self.side = FakeSideEffects(self.nl)
        self.state_dir = str(tmp_path / 'pipex')
        self.unit_dir = str(tmp_path / 'units')

    def run(self, check_mode=False, **kwargs):
        p = dict(SPEC_DEFAULTS, state_dir=self.state_dir)
        p.update(kwargs)
        self.nl.read_only = self.genl.read_only = self.side.read_only = check_mode
        try:
            runtime = KernelSessions(self.genl, self.nl, self.side)
            files = PersistentSessions(self.state_dir, self.unit_dir) if p['persistent'] else None
            return run_pipex(p, KernelTunnels(self.genl), runtime, files, check_mode=check_mode)
        finally:
            self.nl.read_only = self.genl.read_only = self.side.read_only = False

    def index(self, name):
        link = self.nl.links_by_name.get(name)
        return link and link['index']


@pytest.fixture
def router(tmp_path):
    return Router(tmp_path)


def test_check_apply_idempotent_check(router):
    check = router.run(check_mode=True, **WAN)
    assert check['changed'] and router.genl.writes == [] and not os.path.exists(router.state_dir)
    assert check['session']['sequencing'] == 'both' and check['statistics'] is None
    applied = router.run(**WAN)
    assert applied['changed']
    assert applied['session'] == dict(check['session'], l2spec_type=None)
    assert applied['statistics']['rx_packets'] == 3
    assert applied['session']['cookie'] == engine.SECRET_MASK
    assert not any('1a2b3c4d' in c for c in applied['commands'])
    assert router.nl.links_by_name['l2tpeth-wan']['alias'] == 'customer 42'
    assert router.nl.addrs[router.index('l2tpeth-wan')] == ['10.42.0.1/30']
    again = router.run(**WAN)
    assert not again['changed'] and again['changes'] == []
    assert not router.run(check_mode=True, **WAN)['changed']


def test_sequencing_changes_in_place(router):
    router.run(**WAN)
    index = router.index('l2tpeth-wan')
    router.genl.writes = []
    result = router.run(**wan(sequencing='send'))
    assert [c['action'] for c in result['changes']] == ['modify', 'modify']
    assert router.genl.writes == [('session set', (100, 1000))]
    assert router.index('l2tpeth-wan') == index


def test_id_change_recreates_and_never_refuses(router):
    router.run(**WAN)
    with pytest.raises(engine.PlanError, match='session_id'):
        router.run(recreate='never', **wan(session_id=1001))
    assert (100, 1000) in router.genl.session_table
    result = router.run(**wan(session_id=1001))
    assert 'recreate' in [c['action'] for c in result['changes']]
    assert list(router.genl.session_table) == [(100, 1001)]


def test_recreate_waits_for_the_kernel_to_tear_the_tunnel_down(router):
    router.run(**WAN)
    router.genl.linger = 3
    router.run(**wan(session_id=1001))
    assert list(router.genl.session_table) == [(100, 1001)] and list(router.genl.tunnel_table) == [100]


def test_tunnel_shared_created_with_first_deleted_with_last(router):
    a = session(**wan(ifname='pw-a', session_id=1, peer_session_id=1, addresses=None))
    b = session(**wan(ifname='pw-b', session_id=2, peer_session_id=2, addresses=None))
    router.run(sessions=[a, b], persistent=False)
    assert list(router.genl.tunnel_table) == [100] and len(router.genl.session_table) == 2
    router.run(ifname='pw-a', state='absent', persistent=False)
    assert list(router.genl.tunnel_table) == [100]
    router.run(ifname='pw-b', state='absent', persistent=False)
    assert router.genl.tunnel_table == {}


def test_new_parameters_for_a_shared_tunnel_recreate_all_its_sessions(router):
    a = session(**wan(ifname='pw-a', session_id=1, peer_session_id=1, addresses=None))
    b = session(**wan(ifname='pw-b', session_id=2, peer_session_id=2, addresses=None))
    router.run(sessions=[a, b], persistent=False)
    router.genl.linger = 2
    result = router.run(sessions=[dict(a, remote='192.0.2.9'), dict(b, remote='192.0.2.9')], persistent=False)
    # The tunnel is its own object, planned before its sessions: one recreate each.
    assert [(c['store'], c['object'], c['action']) for c in result['changes']] == [
        ('tunnels', '100', 'recreate'), ('runtime', 'pw-a', 'recreate'), ('runtime', 'pw-b', 'recreate')]
    assert router.genl.tunnel_table[100]['remote'] == '192.0.2.9' and len(router.genl.session_table) == 2
    assert not router.run(sessions=[dict(a, remote='192.0.2.9'), dict(b, remote='192.0.2.9')], persistent=False)['changed']


def test_keep_tunnel(router):
    router.run(persistent=False, **WAN)
    router.run(ifname='l2tpeth-wan', state='absent', persistent=False, keep_tunnel=True)
    assert list(router.genl.tunnel_table) == [100] and router.genl.session_table == {}


def test_tunnel_with_other_sessions_and_other_parameters_is_refused(router):
    router.run(persistent=False, **wan(ifname='other'))
    with pytest.raises(PipexError, match='carries session other'):
        router.run(persistent=False, **wan(session_id=5, remote='192.0.2.9'))
    with pytest.raises(PipexError, match='held by interface other'):
        router.run(persistent=False, **WAN)


def test_ppp_sessions_are_never_touched(router):
    router.run(persistent=False, **WAN)
    router.genl.add_foreign_ppp_session(100, 77)
    result = router.run(persistent=False, **WAN)
    assert not result['changed']
    router.run(ifname='l2tpeth-wan', state='absent', persistent=False)
    assert (100, 77) in router.genl.session_table and 100 in router.genl.tunnel_table


def test_adjust_tcpmss_and_ingress_filter_idempotent_and_removed(router):
    task = wan(adjust_tcpmss=True, ingress_filter=True)
    router.run(persistent=False, **task)
    assert router.side.mss == {'l2tpeth-wan'} and router.nl.links_by_name['l2tpeth-wan']['rp_filter'] == 1
    assert not router.run(persistent=False, **task)['changed']
    router.run(persistent=False, **dict(task, ingress_filter=False))
    assert router.nl.links_by_name['l2tpeth-wan']['rp_filter'] == 0
    router.run(ifname='l2tpeth-wan', state='absent', persistent=False)
    assert router.side.mss == set()


def test_reorder_timeout_within_a_jiffy_is_equal(router, monkeypatch):
    task = wan(reorder_timeout=50)
    router.run(persistent=False, **task)
    assert router.genl.session_table[(100, 1000)]['reorder_timeout'] == 52
    assert not router.run(persistent=False, **task)['changed']
    modified = []
    real = router.genl.modify_session
    monkeypatch.setattr(router.genl, 'modify_session', lambda session: modified.append(session) or real(session))
    # another field changes: the timeout, within its jiffy, is not sent again
    result = router.run(persistent=False, **wan(reorder_timeout=50, mtu=1400))
    assert [sorted(c['fields']) for c in result['changes']] == [['mtu']] and modified == []
    # one further away is a change, and is sent
    result = router.run(persistent=False, **wan(reorder_timeout=30, mtu=1400))
    assert [sorted(c['fields']) for c in result['changes']] == [['reorder_timeout']] and len(modified) == 1


def test_persistent_state_file_round_trip(router):
    router.run(**wan(adjust_tcpmss=True))
    path = os.path.join(router.state_dir, 'l2tpeth-wan.conf')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.path.islink(os.path.join(router.unit_dir, 'multi-user.target.wants', _boot.UNIT_NAME))
    assert os.access(os.path.join(router.state_dir, 'restore.sh'), os.X_OK)
    files = PersistentSessions(router.state_dir, router.unit_dir).read()
    wanted = _model.desired_session(session(**wan(adjust_tcpmss=True)), persistent=True)
    assert files['l2tpeth-wan'] == wanted
    router.run(ifname='l2tpeth-wan', state='absent')
    assert not os.path.exists(path)


def test_boot_script_clamps_with_the_runtime_rules(router, tmp_path):
    """The restore script, run by /bin/sh with stand-ins for ip, sysctl and nft, feeds nft the
    rules _effects.nft_script makes at runtime (one rendering of the clamp, not two)."""
    router.run(**wan(adjust_tcpmss=True, ifname='pw-a.1'))
    fake = tmp_path / 'bin'
    fake.mkdir()
    for name, body in (('ip', 'exit 0'), ('sysctl', 'exit 0'), ('nft', 'cat >> "%s"' % (tmp_path / 'nft.in'))):
        (fake / name).write_text('#!/bin/sh\n%s\n' % body)
        (fake / name).chmod(0o755)
    env = dict(os.environ, PATH='%s:%s' % (fake, os.environ.get('PATH', '/usr/bin:/bin')))
    subprocess.run(['/bin/sh', os.path.join(router.state_dir, 'restore.sh')], env=env, check=True)
    assert (tmp_path / 'nft.in').read_text() == _effects.nft_script('pw-a.1')


@pytest.mark.parametrize('text', ["it's 42", 'a "b" $c `d`', ''])
def test_state_file_quotes_anything(text):
    obj = _model.desired_session(session(**wan(description=text)), persistent=True)
    assert parse_state(render_state(obj)) == obj


def test_runtime_failure_restores_state_file(router, monkeypatch):
    router.run(**WAN)
    path = os.path.join(router.state_dir, 'l2tpeth-wan.conf')
    before = open(path, 'rb').read()

    def boom(session):
        raise _model.PipexError('kernel says no')
    monkeypatch.setattr(router.genl, 'create_session', boom)
    with pytest.raises(engine.ApplyError, match='kernel says no'):
        router.run(**wan(session_id=1001))
    assert open(path, 'rb').read() == before


def test_foreign_state_file_is_refused(router):
    os.makedirs(router.state_dir)
    with open(os.path.join(router.state_dir, 'l2tpeth-wan.conf'), 'w') as handle:
        handle.write('IFNAME=l2tpeth-wan\n')
    with pytest.raises(PipexError, match='marker'):
        router.run(**WAN)


BAD = [
    (dict(tunnel_id=0), 'tunnel_id must be between 1 and 4294967295'),
    (dict(session_id=2 ** 32), 'session_id must be between 1 and 4294967295'),
    (dict(peer_session_id=0), 'peer_session_id must be between'),
    (dict(peer_tunnel_id=-1), 'peer_tunnel_id must be between'),
    (dict(cookie='0x1a2b3c'), 'cookie must be 4 or 8 bytes'),
    (dict(peer_cookie='0x1a2b3c4d5e'), 'peer_cookie must be 4 or 8 bytes'),
    (dict(cookie='zz2b3c4d'), 'cookie must be hexadecimal'),
    (dict(encap='ip', udp_sport=1701, udp_dport=None), 'encap ip .* takes no UDP ports; remove udp_sport'),
    (dict(remote='2001:db8::2'), 'different address families'),
    (dict(local='not-an-ip'), 'is not an IP address'),
    (dict(udp_dport=70000), 'udp_dport must be between 1 and 65535'),
    (dict(ifname='bad/name'), 'not a valid interface name'),
    (dict(reorder_timeout=50, sequencing='send'), 'reorder_timeout only applies'),
    (dict(session_id=None), 'session_id required'),
]


@pytest.mark.parametrize('change, message', BAD)
def test_bad_input_touches_nothing(router, change, message):
    with pytest.raises(PipexError, match=message):
        router.run(check_mode=True, **wan(**change))
    assert router.genl.writes == [] and not os.path.exists(router.state_dir)


@pytest.mark.parametrize('change, message', [
    (dict(lns_mode=True), 'cannot be made persistent'),
    (dict(netns='edge'), 'persistent: true is not possible with netns'),
])
def test_not_persistable(router, change, message):
    with pytest.raises(PipexError, match=message):
        router.run(**wan(**change))


def test_netns_with_persistent_is_refused_after_the_fields_are_checked(router):
    with pytest.raises(PipexError) as err:
        router.run(**wan(netns='edge', tunnel_id=0, lns_mode=True))
    msg = str(err.value)
    assert 'tunnel_id must be between' in msg and 'persistent: true is not possible with netns' in msg
    # lns_mode cannot be replayed at boot, but persistent: false (the fix) makes that moot
    assert 'cannot be made persistent' not in msg
    assert router.genl.writes == [] and not os.path.exists(router.state_dir)


def test_same_session_id_twice_in_a_tunnel(router):
    with pytest.raises(PipexError, match='both use session_id 1000 in tunnel 100'):
        router.run(persistent=False, sessions=[session(**WAN), session(**wan(ifname='pw-b'))])


def test_conflicting_tunnel_parameters_in_one_task(router):
    with pytest.raises(PipexError, match='share tunnel 100 but disagree on its parameters: peer_tunnel_id 200 vs 201'):
        router.run(persistent=False, sessions=[session(**WAN),
                                               session(**wan(ifname='pw-b', session_id=2, peer_tunnel_id=201))])


def test_listed_twice(router):
    with pytest.raises(PipexError, match='listed twice'):
        router.run(persistent=False, sessions=[session(**WAN), session(**WAN)])


@pytest.mark.parametrize('cookie, canonical', [
    ('0x1A2B3C4D', '1a2b3c4d'), ('1a:2b:3c:4d', '1a2b3c4d'), ('0102030405060708', '0102030405060708'),
    ('none', 'none'), ('', 'none'),
])
def test_cookie_normaliser(cookie, canonical):
    normalise = _model.TABLE['cookie'].normalise
    assert normalise(cookie) == canonical
    assert normalise(normalise(cookie)) == canonical


def test_ip_encap_has_no_ports(router):
    result = router.run(persistent=False, **wan(encap='ip', udp_sport=None, udp_dport=None))
    assert result['session']['udp_sport'] is None
    assert not router.run(persistent=False, **wan(encap='ip', udp_sport=None, udp_dport=None))['changed']


def test_info_lists_tunnels_sessions_and_drift(router):
    router.run(**WAN)
    router.genl.add_foreign_ppp_session(100, 77)
    router.genl.session_table[(100, 1000)]['send_seq'] = False
    out = info(KernelSessions(router.genl, router.nl, router.side), PersistentSessions(router.state_dir, router.unit_dir))
    assert [s['pseudowire'] for s in out['tunnels'][0]['sessions']] == ['ppp', 'ethernet']
    (found,) = out['sessions']
    assert found['differs'] == ['sequencing'] and found['missing'] == []
    assert found['runtime']['cookie'] == engine.SECRET_MASK and found['statistics']['rx_packets'] == 3


class Recorder(object):
    def __init__(self, answers=None):
        self.calls = []
        self.answers = answers or {}

    def __call__(self, argv, data=None):
        self.calls.append((argv, data))
        return self.answers.get(argv[0] if argv[0] != 'ip' else argv[4], (0, '', ''))


def test_side_effects_without_nft_read_nothing_and_refuse_to_clamp():
    run = Recorder()
    side = _effects.SideEffects(run, which=lambda name: None)
    assert side.mss_ifnames() == set() and run.calls == []
    with pytest.raises(PipexError, match='apt install nftables'):
        side.set_mss('pw0', True)


def test_side_effects_commands_in_a_netns():
    listing = ('table inet edgenet_pipex {\n chain mss {\n'
               '  iifname "pw0" tcp flags syn / syn,rst tcp option maxseg size set rt mtu comment "edgenet-pipex:pw0" # handle 4\n'
               '  oifname "pw0" tcp flags syn / syn,rst tcp option maxseg size set rt mtu comment "edgenet-pipex:pw0" # handle 5\n'
               ' }\n}\n')
    run = Recorder({'nft': (0, listing, '')})
    side = _effects.SideEffects(run, netns='edge', which=lambda name: '/usr/sbin/nft')
    assert side.mss_ifnames() == {'pw0'}
    side.set_mss('pw0', True)  # already there: nothing added
    side.set_mss('pw0', False)
    side.set_mss('pw1', True)
    argvs = [' '.join(argv) for argv, data in run.calls]
    assert 'ip netns exec edge nft delete rule inet edgenet_pipex mss handle 5' in argvs
    assert run.calls[-1][0][-3:] == ['nft', '-f', '-'] and 'oifname "pw1"' in run.calls[-1][1]
    side.set_rp_filter('pw0', True)
    assert run.calls[-1][0] == ['ip', 'netns', 'exec', 'edge', 'sysctl', '-q', '-w', 'net/ipv4/conf/pw0/rp_filter=1']


def test_the_chain_is_listed_once_per_run_until_a_rule_changes():
    # the engine reads before the plan and again to verify: a run that sets no rule lists once
    listing = 'table inet edgenet_pipex {\n chain mss {\n  iifname "pw0" comment "edgenet-pipex:pw0" # handle 4\n }\n}\n'
    run = Recorder({'nft': (0, listing, '')})
    side = _effects.SideEffects(run, which=lambda name: '/usr/sbin/nft')
    assert side.mss_ifnames() == {'pw0'} and side.mss_ifnames() == {'pw0'}
    assert [argv[:2] for argv, data in run.calls] == [['nft', '-a']]
    side.set_mss('pw1', True)   # a change: the next read lists the chain again
    side.mss_ifnames()
    assert [argv[:2] for argv, data in run.calls] == [['nft', '-a'], ['nft', '-f'], ['nft', '-a']]


# --- the tunnel as its own object, planned before its sessions (engine.Part) ----------------------
def test_a_session_moved_to_another_tunnel_is_deleted_before_its_old_tunnel_and_made_after_the_new(router):
    router.run(persistent=False, **WAN)
    router.genl.writes[:] = []
    result = router.run(persistent=False, **wan(tunnel_id=101, session_id=1001))
    assert [(c['store'], c['object'], c['action']) for c in result['changes']] == [
        ('tunnels', '100', 'delete'), ('tunnels', '101', 'create'), ('runtime', 'l2tpeth-wan', 'recreate')]
    assert router.genl.writes == [('session del', (100, 1000)), ('tunnel del', 100), ('tunnel add', 101),
                                  ('session add', (101, 1001))]
    assert result['commands'][:2] == ['ip l2tp del tunnel tunnel_id 100', 'ip l2tp add tunnel tunnel_id 101 peer_tunnel_id 200 '
                                      'encap udp local 192.0.2.1 remote 192.0.2.2 udp_sport 1701 udp_dport 1701']


def test_a_session_that_cannot_be_made_takes_its_new_tunnel_back_through_the_journal(router, monkeypatch):
    router.run(persistent=False, **wan(ifname='other', tunnel_id=7, peer_tunnel_id=8))

    def refuse(session):
        raise PipexError('no room for %s' % session['ifname'])
    monkeypatch.setattr(router.genl, 'create_session', refuse)
    with pytest.raises(engine.ApplyError) as err:
        router.run(persistent=False, **WAN)
    assert 'no room for l2tpeth-wan' in str(err.value) and 'tunnels 100 removed again' in str(err.value)
    assert list(router.genl.tunnel_table) == [7]


def test_a_tunnel_a_ppp_session_still_uses_stays_when_the_last_ethernet_session_goes(router):
    router.run(persistent=False, **WAN)
    router.genl.add_foreign_ppp_session(100, 4242)
    result = router.run(persistent=False, ifname='l2tpeth-wan', state='absent')
    assert [(c['store'], c['action']) for c in result['changes']] == [('runtime', 'delete')]
    assert list(router.genl.tunnel_table) == [100]


def test_an_unconfirmed_move_is_undone_by_fresh_stores_from_its_journal(router):
    router.run(persistent=False, **WAN)
    before = (copy.deepcopy(router.genl.tunnel_table), sorted(router.genl.session_table))

    class Handed(list):  # a Pending's two faces: takes the journal, says what it scheduled
        __call__ = list.append

        def result(self):
            return None
    handed = Handed()
    p = dict(SPEC_DEFAULTS, state_dir=router.state_dir, persistent=False, **wan(tunnel_id=101, session_id=1001))
    run_pipex(p, KernelTunnels(router.genl), KernelSessions(router.genl, router.nl, router.side), None, confirm=handed)
    records = json.loads(json.dumps(handed[0]))
    assert [r['store'] for r in records] == ['runtime', 'tunnels', 'tunnels', 'runtime']
    stores = dict((s.name, s) for s in (KernelTunnels(router.genl), KernelSessions(router.genl, router.nl, router.side)))
    for store in stores.values():
        store.read()
    restored, unrestored = engine.undo(stores, records)
    assert unrestored == [] and len(restored) == 4
    assert (router.genl.tunnel_table, sorted(router.genl.session_table)) == before


def test_a_tunnel_record_names_one_tunnel_id(router):
    tunnels = KernelTunnels(router.genl)
    for key, obj in (('../x', {'tunnel_id': 5}), ('05', {'tunnel_id': 5}), ('6', {'tunnel_id': 5}), ('0', {'tunnel_id': 0})):
        with pytest.raises(PipexError, match='not an L2TP tunnel of this store'):
            tunnels.write('create', key, None, dict(obj, peer_tunnel_id=1, encap='ip', local='192.0.2.1', remote='192.0.2.2'))
    assert router.genl.writes == []


def test_a_removed_session_returns_its_final_counters_and_check_mode_the_current_ones(router):
    router.run(persistent=False, **WAN)
    check = router.run(check_mode=True, persistent=False, ifname='l2tpeth-wan', state='absent')
    assert check['changed'] and check['statistics']['rx_packets'] == 3
    removed = router.run(persistent=False, ifname='l2tpeth-wan', state='absent')
    assert removed['changed'] and removed['statistics']['rx_packets'] == 3 and router.genl.session_table == {}
    # gone before the task: nothing to count
    assert router.run(persistent=False, ifname='l2tpeth-wan', state='absent')['statistics'] is None
    router.run(persistent=False, **WAN)
    bulk = router.run(persistent=False, sessions=[dict(session(**WAN), state='absent')])
    assert bulk['statistics'] == {'l2tpeth-wan': dict(bulk['statistics']['l2tpeth-wan'], rx_packets=3)}


def plain(i):
    """A session whose create is two messages (no address, side effect or SESSION_MODIFY)."""
    return session(ifname='pw%d' % i, tunnel_id=100, peer_tunnel_id=200, session_id=10 + i, peer_session_id=50 + i,
                   local='192.0.2.1', remote='192.0.2.2', encap='udp', udp_sport=1701, udp_dport=1701, mtu=1400)


def test_a_bulk_create_sends_the_sessions_in_one_batch_and_their_links_in_another(router):
    applied = router.run(persistent=False, sessions=[plain(i) for i in range(5)] + [session(**wan(session_id=9))])
    assert applied['changed'] and len(router.genl.session_table) == 6
    # the five plain ones together; the one with an address (its link's index needed) alone
    assert router.genl.batches == [5]
    assert router.nl.batches[0] == ['set_link'] * 5
    assert all(router.nl.links_by_name['pw%d' % i]['up'] and router.nl.links_by_name['pw%d' % i]['mtu'] == 1400
               for i in range(5))
    again = router.run(persistent=False, sessions=[plain(i) for i in range(5)] + [session(**wan(session_id=9))])
    assert not again['changed']


def test_a_batched_session_whose_link_the_kernel_refuses_is_deleted_and_the_batch_rolled_back(router, monkeypatch):
    real = router.nl.set_link

    def refuse_pw3(index=None, name=None, **settings):
        if name == 'pw3':
            raise NetlinkError('change link pw3: the kernel refused the parameters (invalid argument)', 22)
        return real(index=index, name=name, **settings)
    monkeypatch.setattr(router.nl, 'set_link', refuse_pw3)
    with pytest.raises(engine.ApplyError) as err:
        router.run(persistent=False, sessions=[plain(i) for i in range(5)])
    assert 'change link pw3' in str(err.value) and 'removed again' in str(err.value)
    # nothing left: pw3 deleted by the batch itself, the others and the tunnel by the rollback
    assert router.genl.session_table == {} and router.genl.tunnel_table == {}


def test_bulk_statistics_leave_out_a_session_with_nothing_to_count(router):
    """RETURN statistics, bulk form - a session gone before the task has no entry (not null)."""
    router.run(persistent=False, **WAN)
    gone = [dict(session(**WAN), state='absent'), dict(session(**wan(ifname='pw-b')), state='absent')]
    bulk = router.run(persistent=False, sessions=gone)
    assert sorted(bulk['statistics']) == ['l2tpeth-wan'] and bulk['statistics']['l2tpeth-wan']['rx_packets'] == 3


def test_peer_is_returned_reaches_no_store_and_a_cookieless_end_shows_none(router):
    res = router.run(peer='pe-west', **wan(cookie=None))
    assert res['peers'] == {'l2tpeth-wan': 'pe-west'}
    assert 'peer' not in res['session']
    # no cookie is no secret: none shows; the cookie expected from the peer stays masked
    assert res['session']['cookie'] == 'none' and res['session']['peer_cookie'] == engine.SECRET_MASK
    assert not any('pe-west' in open(os.path.join(router.state_dir, n)).read() for n in os.listdir(router.state_dir))
    assert router.run(peer='pe-east', **wan(cookie=None))['changed'] is False
    with pytest.raises(PipexError, match="session l2tpeth-wan: peer '' is not an inventory host name"):
        router.run(sessions=[session(peer='', **wan())])
