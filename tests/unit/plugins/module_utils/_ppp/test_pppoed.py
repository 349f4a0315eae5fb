# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The own PPPoE discovery: its frames and decisions (no socket, no pppd). A real client (pppd's
rp-pppoe plugin) served in the kernel: the pipex_session lab target (tasks/pppoe.yml)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._ppp import _pppoed as pppoed

AC = bytes.fromhex('020000000001')
CLIENT = bytes.fromhex('020000000002')
CONFIG = {'interface': 'ac0', 'ac_name': 'edgenet', 'service_name': 'isp', 'max_sessions': 2,
          'local_address': '10.0.0.1', 'remote_pool': ['10.0.0.10', '10.0.0.12'], 'dns_servers': ['10.0.0.53'],
          'authentication': ['pap', 'chap'], 'auth_name': 'edgenet-pppoe-ac0', 'mtu': 1492, 'mru': 1480,
          'idle_timeout': 0, 'lcp_echo_interval': 10, 'lcp_echo_failure': 3, 'adjust_tcpmss': False,
          'ingress_filter': False, 'protocol': 'pppoe'}


def concentrator(**changes):
    return pppoed.Concentrator(dict(CONFIG, **changes), AC, key=b'k' * 16, clock=lambda: 1000)


def padi(service=b'isp', src=CLIENT, extra=()):
    return pppoed.parse(pppoed.frame(pppoed.BROADCAST, src, pppoed.PADI, 0,
                                     [(pppoed.SERVICE_NAME, service), (pppoed.HOST_UNIQ, b'\x01\x02')] + list(extra)))


def padr(ac, cookie=None, service=b'isp', src=CLIENT):
    tag_list = [(pppoed.SERVICE_NAME, service), (pppoed.HOST_UNIQ, b'\x01\x02')]
    if cookie is not None:
        tag_list.append((pppoed.AC_COOKIE, cookie))
    return pppoed.parse(pppoed.frame(AC, src, pppoed.PADR, 0, tag_list))


def test_a_padi_for_our_service_or_any_gets_an_offer_with_a_cookie_and_the_host_uniq_echoed():
    ac = concentrator()
    for service in (b'isp', b''):
        reply, session, ended = ac.handle(padi(service))
        offer = pppoed.parse(reply)
        assert (offer['dst'], offer['src'], offer['code'], offer['session_id']) == (CLIENT, AC, pppoed.PADO, 0)
        assert offer['tags'] == [(pppoed.AC_NAME, b'edgenet'), (pppoed.SERVICE_NAME, b'isp'),
                                 (pppoed.AC_COOKIE, ac.cookie(CLIENT)), (pppoed.HOST_UNIQ, b'\x01\x02')]
        assert session is None and ended is None


def test_a_padi_for_another_service_or_without_one_is_left_to_other_concentrators():
    ac = concentrator()
    assert ac.handle(padi(b'other')) == (None, None, None)
    no_service = pppoed.parse(pppoed.frame(pppoed.BROADCAST, CLIENT, pppoed.PADI, 0, [(pppoed.HOST_UNIQ, b'x')]))
    assert ac.handle(no_service) == (None, None, None)


def test_a_padr_with_our_cookie_gets_a_session_an_address_and_a_pppd_argv_built_here():
    ac = concentrator()
    reply, session, dummy = ac.handle(padr(AC, ac.cookie(CLIENT)))
    confirm = pppoed.parse(reply)
    assert (confirm['code'], confirm['session_id']) == (pppoed.PADS, 1)
    assert session == {'id': 1, 'mac': '02:00:00:00:00:02', 'address': '10.0.0.10', 'pid': None, 'started': 1000}
    assert ac.pppd_argv(session) == [
        '/usr/sbin/pppd', 'plugin', 'rp-pppoe.so', 'rp_pppoe_sess', '1:02:00:00:00:00:02', 'rp_pppoe_service', 'isp',
        'ac0', 'nodetach', 'name', 'edgenet-pppoe-ac0', 'auth', 'require-pap', 'require-chap', 'ms-dns', '10.0.0.53',
        'mtu', '1492', 'mru', '1480', 'lcp-echo-interval', '10', 'lcp-echo-failure', '3', 'nodefaultroute',
        'ip-up-script', '/usr/local/lib/edgenet-router/pppoe-ip-up', 'ipparam', 'ac0:1', '10.0.0.1:10.0.0.10']
    idle = concentrator(idle_timeout=600, pppd='/tmp/evil')
    assert idle.pppd_argv(session)[0] == '/usr/sbin/pppd'   # never a program named by the config
    assert idle.pppd_argv(session)[-8:-6] == ['idle', '600']
    other = bytes.fromhex('020000000003')
    dummy, second, dummy = ac.handle(padr(AC, ac.cookie(other), src=other))
    assert (second['id'], second['address']) == (2, '10.0.0.11')


def test_a_padr_without_our_cookie_is_ignored_and_the_limit_is_kept():
    ac = concentrator()
    assert ac.handle(padr(AC)) == (None, None, None)
    assert ac.handle(padr(AC, ac.cookie(bytes.fromhex('020000000009')))) == (None, None, None)  # another MAC's
    for n in (2, 3):
        mac = bytes.fromhex('02000000000%d' % n)
        assert ac.handle(padr(AC, ac.cookie(mac), src=mac))[1] is not None
    mac = bytes.fromhex('020000000004')
    reply, session, dummy = ac.handle(padr(AC, ac.cookie(mac), src=mac))
    assert session is None and pppoed.parse(reply)['tags'][0] == (pppoed.AC_SYSTEM_ERROR, b'no free session')
    # a full concentrator offers nothing
    assert ac.handle(padi(src=mac)) == (None, None, None)


def test_a_padt_from_the_sessions_peer_ends_it_and_frees_its_id_and_address():
    ac = concentrator()
    dummy, session, dummy = ac.handle(padr(AC, ac.cookie(CLIENT)))
    stranger = bytes.fromhex('020000000007')
    padt = pppoed.parse(pppoed.frame(AC, stranger, pppoed.PADT, session['id'], []))
    assert ac.handle(padt) == (None, None, None)  # only the session's own peer may end it
    padt = pppoed.parse(pppoed.frame(AC, CLIENT, pppoed.PADT, session['id'], []))
    assert ac.handle(padt) == (None, None, 1)
    del ac.sessions[1]
    dummy, again, dummy = ac.handle(padr(AC, ac.cookie(CLIENT)))
    assert (again['id'], again['address']) == (1, '10.0.0.10')


def test_frames_that_are_not_pppoe_discovery_are_malformed():
    good = pppoed.frame(pppoed.BROADCAST, CLIENT, pppoed.PADI, 0, [(pppoed.SERVICE_NAME, b'')])
    for bad in (good[:15], good[:12] + b'\x88\x64' + good[14:], good[:14] + b'\x21' + good[15:],
                good[:18] + b'\x00\x40' + good[20:], good[:20] + b'\x01\x01\x00\x09'):
        with pytest.raises(pppoed.Malformed):
            pppoed.parse(bad)


def test_the_daemon_file_imports_nothing_of_the_collection():
    with open(pppoed.__file__) as handle:
        source = handle.read()
    assert 'ansible' not in ''.join(line for line in source.splitlines(True) if line.startswith(('import', 'from')))


def test_the_config_is_checked_word_by_word_before_any_argv_is_built_from_it():
    assert pppoed.check_config(CONFIG) == dict(CONFIG)
    for bad in ({'auth_name': 'a b'}, {'service_name': 'x"y'}, {'mtu': 9000}, {'mtu': True},
                {'authentication': ['pap', 'eap']}, {'authentication': []}, {'local_address': '10.0.0.1 -x'},
                {'remote_pool': ['10.0.0.12', '10.0.0.10']}, {'dns_servers': ['1.1.1.1', '2.2.2.2', '3.3.3.3']},
                {'interface': None}, {'adjust_tcpmss': 1}, {'ingress_filter': 'yes'}):
        with pytest.raises(pppoed.BadConfig):
            pppoed.check_config(dict(CONFIG, **bad))
    assert pppoed.check_config(dict(CONFIG, service_name=''))['service_name'] == ''
    # a config of an older module, without pipex's options and the protocol: neither is on, PPPoE
    older = dict((k, v) for k, v in CONFIG.items() if k not in pppoed.BOOL_KEYS + ('protocol',))
    assert pppoed.check_config(older) == CONFIG


def test_a_config_file_is_the_marker_and_json_and_reads_back_as_written():
    text = pppoed.render_config(CONFIG)
    assert text.startswith(pppoed.MARKER + '\n')
    assert pppoed.parse_config(text) == CONFIG
    with pytest.raises(pppoed.BadConfig, match='lacks the line'):
        pppoed.parse_config(text.split('\n', 1)[1])
    with pytest.raises(pppoed.BadConfig):
        pppoed.parse_config(pppoed.MARKER + '\n{not json')


def test_a_reload_keeps_the_sessions_up_and_serves_new_ones_from_the_new_pool():
    ac = concentrator()
    dummy, first, dummy = ac.handle(padr(AC, ac.cookie(CLIENT)))
    ac.reconfigure(dict(CONFIG, remote_pool=['10.0.0.20', '10.0.0.21']))
    assert ac.sessions[first['id']]['address'] == '10.0.0.10'
    other = bytes.fromhex('020000000003')
    dummy, second, dummy = ac.handle(padr(AC, ac.cookie(other), src=other))
    assert second['address'] == '10.0.0.20'


def test_the_daemon_learns_each_sessions_link_and_user_and_when_it_last_carried_a_packet(tmp_path, monkeypatch):
    daemon = object.__new__(pppoed.Daemon)
    daemon.state, daemon.config, daemon.lns = str(tmp_path / 'ac0.state'), dict(CONFIG), None
    daemon.ac = concentrator()
    dummy, session, dummy = daemon.ac.handle(padr(AC, daemon.ac.cookie(CLIENT)))
    counters = {'rx_packets': 0, 'tx_packets': 0}
    monkeypatch.setattr(pppoed, '_counter', lambda link, name: counters[name])
    assert not daemon.watch(100.0)                 # pppd has not run ip-up yet: nothing known
    (tmp_path / 'up.ac0:1').write_text('ppp3\nuser1\n')
    assert daemon.watch(101.0)
    assert (session['link'], session['user'], session['last_activity']) == ('ppp3', 'user1', 101)
    assert not daemon.watch(105.0)                 # no packet: the idle time grows
    counters['rx_packets'] = 5
    assert daemon.watch(106.0) and session['last_activity'] == 106
    daemon.write_state()
    written = json.loads((tmp_path / 'ac0.state').read_text())['sessions'][0]
    assert '_counters' not in written and written['user'] == 'user1'
    daemon.pids = {}
    daemon.end(1, 'test')
    assert not (tmp_path / 'up.ac0:1').exists()


# What `nft -a list table inet edgenet_ppp` printed in a Debian 12 guest (nftables 1.0.6) for a
# session with both options, beside a rule of another concentrator and one without a comment.
LISTING = """table inet edgenet_ppp { # handle 5
\tchain mss { # handle 1
\t\ttype filter hook forward priority mangle; policy accept;
\t\tiifname "ppp3" tcp flags syn / syn,rst tcp option maxseg size set rt mtu comment "edgenet-ppp:ac0:1" # handle 4
\t\toifname "ppp3" tcp flags syn / syn,rst tcp option maxseg size set rt mtu comment "edgenet-ppp:ac0:1" # handle 5
\t\tiifname "ppp4" tcp flags syn / syn,rst tcp option maxseg size set rt mtu comment "edgenet-ppp:ac1:7" # handle 8
\t}

\tchain ingress { # handle 2
\t\ttype filter hook prerouting priority filter; policy accept;
\t\tiifname "ppp3" ip saddr != 10.0.0.10 counter packets 3 bytes 252 drop comment "edgenet-ppp:ac0:1" # handle 6
\t\tiifname "ppp9" drop # handle 9
\t}
}
"""


def test_the_clamp_is_the_collections_one_rendering():
    from ansible_collections.edgenet.router.plugins.module_utils._nft import mss_clamp
    assert pppoed.MSS_CLAMP == mss_clamp()


def test_a_sessions_rules_are_pipexs_two_options_on_its_link():
    both = dict(CONFIG, adjust_tcpmss=True, ingress_filter=True)
    rules = pppoed.session_rules('ppp3', '10.0.0.10', both)
    assert rules == [('mss', 'iifname "ppp3" ' + pppoed.MSS_CLAMP), ('mss', 'oifname "ppp3" ' + pppoed.MSS_CLAMP),
                     ('ingress', 'iifname "ppp3" ip saddr != 10.0.0.10 counter drop')]
    assert pppoed.session_rules('ppp3', '10.0.0.10', CONFIG) == []
    # a link name read from pppd's note is data: one that is not a plain name gets no rule
    for link in ('ppp3" accept', '', None, '../x', 'p' * 16):
        assert pppoed.session_rules(link, '10.0.0.10', both) == []
    script = pppoed.nft_add_script('ac0:1', rules)
    assert script.startswith('add table inet edgenet_ppp\n')
    assert script.count('comment "edgenet-ppp:ac0:1"') == 3 and script.endswith('\n')


def test_rules_are_found_by_session_chain_and_handle():
    found = pppoed.nft_session_rules(LISTING)
    assert sorted(found) == ['ac0:1', 'ac1:7']
    assert [(chain, handle) for chain, handle, dummy in found['ac0:1']] == [('mss', 4), ('mss', 5), ('ingress', 6)]
    # without -a (pipex_session_info's listing) the handles are unknown, the rules still found
    assert [h for dummy, h, dummy in pppoed.nft_session_rules(LISTING.replace(' # handle 6', ''))['ac0:1']] == [4, 5, None]
    assert pppoed.nft_session_rules(None) == {}


def test_the_daemon_makes_a_sessions_rules_when_its_link_appears_and_drops_them_at_a_reload_and_the_end(tmp_path, monkeypatch):
    calls = []

    def nft(argv, script=None, quiet=False):
        calls.append((argv, script))
        return LISTING if argv[:2] == ['-a', 'list'] else ''
    monkeypatch.setattr(pppoed, '_nft', nft)
    daemon = object.__new__(pppoed.Daemon)
    daemon.state, daemon.config, daemon.has_nft, daemon.pids = str(tmp_path / 'ac0.state'), dict(CONFIG), True, {}
    daemon.lns = None
    daemon.ac = concentrator(adjust_tcpmss=True, ingress_filter=True)
    daemon.config = daemon.ac.config
    dummy, session, dummy = daemon.ac.handle(padr(AC, daemon.ac.cookie(CLIENT)))
    daemon.sync_rules()
    assert calls == []                             # no link yet: nothing to match on
    session['link'] = 'ppp3'
    daemon.sync_rules()
    daemon.sync_rules()                            # made once, not every second
    assert len(calls) == 1 and calls[0][0] == ['-f', '-'] and '!= 10.0.0.10 counter drop' in calls[0][1]
    del calls[:]
    daemon.config = dict(daemon.config, adjust_tcpmss=False)
    daemon.sync_rules()                            # a reload: the session's rules are made again
    assert calls[1] == (['-f', '-'], 'delete rule inet edgenet_ppp mss handle 4\n'
                                     'delete rule inet edgenet_ppp mss handle 5\n'
                                     'delete rule inet edgenet_ppp ingress handle 6\n')
    assert 'maxseg' not in calls[2][1] and 'saddr' in calls[2][1]
    del calls[:]
    daemon.end(1, 'test')
    assert calls[-1][1].count('delete rule') == 3 and 'handle 8' not in calls[-1][1]   # ac1's rule stays
    # at start, every rule of this interface an earlier run left goes, and only those
    del calls[:]
    left = daemon.own_rules()
    daemon.drop_rules(left, left)
    assert 'handle 8' not in calls[-1][1] and calls[-1][1].count('delete rule') == 3


def test_the_first_start_after_a_boot_makes_the_live_directory_and_file_from_the_boot_file(tmp_path):
    # /run is empty after a boot: the live directory is gone too (the lab's reboot proof found the
    # concentrator failing there, "No such file or directory: /run/edgenet/ppp/ac0.conf.PID.tmp")
    boot, live = tmp_path / 'boot.conf', tmp_path / 'run' / 'edgenet' / 'ppp' / 'ac0.conf'
    boot.write_text(pppoed.render_config(CONFIG))
    pppoed.start_live(str(boot), str(live))
    assert pppoed.load_config(str(live)) == CONFIG
    live.write_text(pppoed.render_config(dict(CONFIG, mtu=1400)))
    pppoed.start_live(str(boot), str(live))       # a restart runs what runs now, not the boot file
    assert pppoed.load_config(str(live))['mtu'] == 1400
    boot.write_text('not ours')
    live.unlink()
    with pytest.raises(pppoed.BadConfig):
        pppoed.start_live(str(boot), str(live))
    assert not live.exists()


# ---- the L2TPv2 LNS ---------------------------------------------------------------------------------
L2TP = dict(CONFIG, protocol='l2tp', listen_address='192.0.2.1', interface='lns0', auth_name='edgenet-l2tp-lns0',
            mtu=1460, mru=1460, idle_timeout=600)
PPPOL2TP = """PPPoL2TP driver info, V2.0
TUNNEL 'tunl 1143', Y 3
 00000000 13/427/0 12/385/0
  SESSION 'sess 1143/0' 0A500001/1701 0477/0000 -> CD23/0000 1 Y
   0/0/-/-/LAC 00000000 0
   0/0 0/0/0 0/0/0
   interface (null)
  SESSION 'sess 1143/19892' 0A500001/1701 0477/4DB4 -> CD23/03F8 3 Y
   0/0/-/-/LNS 00000000 0
   0/0 13/427/0 12/385/0
   interface ppp0
"""


def test_an_lns_config_needs_its_listen_address_and_a_pppoe_one_keeps_none():
    assert pppoed.check_config(L2TP)['listen_address'] == '192.0.2.1'
    for bad in ({'listen_address': None}, {'listen_address': '192.0.2.1 -x'}, {'protocol': 'pptp'}):
        with pytest.raises(pppoed.BadConfig):
            pppoed.check_config(dict(L2TP, **bad))
    assert 'listen_address' not in pppoed.check_config(dict(CONFIG, listen_address='192.0.2.1'))


def test_xl2tpd_gets_the_pool_cut_to_max_sessions_and_pppd_every_option_from_the_checked_config():
    conf = pppoed.xl2tpd_conf(pppoed.check_config(L2TP), '/run/edgenet/ppp/lns0.xl2tpd.options',
                              '/run/edgenet/ppp/lns0.xl2tpd.secrets')
    assert 'listen-addr = 192.0.2.1\n' in conf and 'port = 1701\n' in conf
    # our own secrets file even without a secret: the system's l2tp-secrets never answers for the LNS
    assert 'auth file = /run/edgenet/ppp/lns0.xl2tpd.secrets\n' in conf and 'challenge = no\n' in conf
    assert 'ip range = 10.0.0.10-10.0.0.11\n' in conf      # max_sessions 2 of a pool of 3
    assert 'local ip = 10.0.0.1\n' in conf and 'pppoptfile = /run/edgenet/ppp/lns0.xl2tpd.options\n' in conf
    assert 'require authentication = no' in conf             # pppd's "auth" is in the options file
    options = pppoed.l2tp_options(pppoed.check_config(L2TP)).splitlines()
    assert options[0].startswith('# ') and pppoed.MARKER.lstrip('# ') in options[0]
    assert options[1:] == ['name edgenet-l2tp-lns0', 'auth', 'require-pap', 'require-chap', 'ms-dns 10.0.0.53',
                           'mtu 1460', 'mru 1460', 'lcp-echo-interval 10', 'lcp-echo-failure 3', 'idle 600',
                           'nodefaultroute', 'ip-up-script %s' % pppoed.UP_SCRIPT, 'ipparam lns0:l2tp']


def test_a_tunnel_secret_turns_the_challenge_on_and_is_the_secrets_files_one_line():
    config = pppoed.check_config(dict(L2TP, tunnel_secret='s3cret-!x'))
    conf = pppoed.xl2tpd_conf(config, '/o', '/s')
    assert 'challenge = yes\n' in conf and 'auth file = /s\n' in conf and 's3cret' not in conf
    lines = pppoed.xl2tpd_secrets(config).splitlines()
    assert lines[0].startswith('# ') and lines[1:] == ['* * s3cret-!x']
    assert pppoed.xl2tpd_secrets(pppoed.check_config(L2TP)).splitlines()[1:] == []
    assert pppoed.check_config(L2TP)['tunnel_secret'] is None
    # a field of xl2tpd's file ends at whitespace, and "#" or ";" start a comment there
    for bad in ('two words', 'a#b', 'a;b', '', 'x' * 65, 'tab\there', 'caf\u00e9', 7):
        with pytest.raises(pppoed.BadConfig) as exc:
            pppoed.check_config(dict(L2TP, tunnel_secret=bad))
        assert str(bad) not in str(exc.value) or bad in ('', 7)


def test_a_new_tunnel_secret_is_rewritten_in_place_and_turning_the_challenge_on_or_off_restarts_xl2tpd(tmp_path, monkeypatch):
    lns = pppoed.L2tpLns(pppoed.check_config(dict(L2TP, tunnel_secret='first')), str(tmp_path))
    restarts = []
    monkeypatch.setattr(lns, 'stop', lambda: restarts.append('stop'))
    monkeypatch.setattr(lns, 'start', lambda: (restarts.append('start'), lns.write_files()))
    lns.write_files()
    secrets = tmp_path / 'lns0.xl2tpd.secrets'
    assert secrets.stat().st_mode & 0o777 == 0o600 and secrets.read_text().endswith('* * first\n')
    assert lns.reconfigure(pppoed.check_config(dict(L2TP, tunnel_secret='second'))) is False
    assert restarts == [] and secrets.read_text().endswith('* * second\n')
    assert lns.reconfigure(pppoed.check_config(L2TP)) is True
    assert restarts == ['stop', 'start'] and 'challenge = no' in (tmp_path / 'lns0.xl2tpd.conf').read_text()
    assert 'second' not in secrets.read_text()


def test_the_kernel_sessions_of_an_lns_are_read_from_proc_with_their_link():
    assert pppoed.kernel_l2tp_sessions(PPPOL2TP) == [
        {'tunnel_id': 1143, 'session_id': 19892, 'peer_tunnel_id': 52515, 'peer_session_id': 1016, 'link': 'ppp0'}]
    assert pppoed.kernel_l2tp_sessions(PPPOL2TP.replace('interface ppp0', 'interface ../x')) == []
    assert pppoed.kernel_l2tp_sessions('') == [] and pppoed.kernel_l2tp_sessions(None) == []
    assert pppoed.l2tp_peers('[{"tunnel_id":1143,"peer":"10.80.0.2","peer_port":1701}, {"tunnel_id":"x"}]') == \
        {1143: ('10.80.0.2', 1701)}
    assert pppoed.l2tp_peers('not json') == {}


def lns_daemon(tmp_path, proc_text):
    daemon = object.__new__(pppoed.Daemon)
    daemon.state, daemon.config, daemon.has_nft, daemon.pids = str(tmp_path / 'lns0.state'), pppoed.check_config(L2TP), False, {}
    daemon.ac = daemon.sock = None
    daemon.stopping = daemon.failed = False
    (tmp_path / 'pppol2tp').write_text(proc_text)
    daemon.lns = pppoed.L2tpLns(daemon.config, str(tmp_path), proc=str(tmp_path / 'pppol2tp'))
    return daemon


def test_an_lns_follows_its_sessions_in_the_kernel_and_takes_user_and_address_from_the_note(tmp_path, monkeypatch):
    monkeypatch.setattr(pppoed, '_run', lambda argv: '[{"tunnel_id":1143,"peer":"10.80.0.2","peer_port":1701}]')
    monkeypatch.setattr(pppoed, '_counter', lambda link, name: 0)
    daemon = lns_daemon(tmp_path, PPPOL2TP)
    assert daemon.reap_lns(100.0)
    key = pppoed.l2tp_key(1143, 19892)
    session = daemon.sessions[key]
    assert (session['link'], session['peer'], session['peer_session_id'], session['address']) == ('ppp0', '10.80.0.2', 1016, None)
    assert not daemon.reap_lns(101.0)                     # the same session: nothing new
    (tmp_path / 'up.lns0:l2tp:ppp0').write_text('ppp0\nuser1\n10.0.0.10\n')
    assert daemon.watch(102.0)
    assert (session['user'], session['address'], session['last_activity']) == ('user1', '10.0.0.10', 102)
    (tmp_path / 'pppol2tp').write_text(PPPOL2TP.split("  SESSION 'sess 1143/19892'", maxsplit=1)[0])
    assert daemon.reap_lns(103.0) and daemon.sessions == {}   # gone from the kernel: ended, its note too
    assert not (tmp_path / 'up.lns0:l2tp:ppp0').exists()


def test_an_lns_closes_a_session_through_xl2tpds_control_pipe_and_never_a_twin_of_another_tunnel(tmp_path, monkeypatch):
    monkeypatch.setattr(pppoed, '_run', lambda argv: '[]')
    daemon = lns_daemon(tmp_path, PPPOL2TP)
    daemon.reap_lns(100.0)
    os.mkfifo(daemon.lns.paths['control'])
    reader = os.open(daemon.lns.paths['control'], os.O_RDONLY | os.O_NONBLOCK)
    try:
        twin = dict(daemon.sessions[pppoed.l2tp_key(1143, 19892)], id=pppoed.l2tp_key(7, 19892), tunnel_id=7)
        daemon.sessions[twin['id']] = twin
        daemon.end(twin['id'], 'test', hang_up=True)      # tunnel 1143 has a session 19892 too: not asked
        assert os.read(reader, 100) == b''
        daemon.end(pppoed.l2tp_key(1143, 19892), 'test', hang_up=True)
        assert os.read(reader, 100) == b'h 19892\n'
    finally:
        os.close(reader)
    # still in the kernel a moment after the hang-up: not taken for a new session
    assert daemon.reap_lns(101.0) is False and daemon.sessions == {}
