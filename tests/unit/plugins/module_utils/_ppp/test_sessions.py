# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The live PPP sessions pipex_session_info lists: a concentrator's state joined with the kernel's
PPPoE table and its links' counters (files in a temp dir; the real ones in the lab, pppoe.yml)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._ppp import _pppoed as pppoed, _sessions
# what a Debian 12 guest's /proc/net/pppol2tp printed with one xl2tpd call up
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils._ppp.test_pppoed import PPPOL2TP


def test_kernel_table_ids_are_read_in_both_byte_orders():
    table = 'Id       Address              Device\n00000100 02:00:00:00:00:02      ac0\nbad line\n'
    assert (1, '02:00:00:00:00:02', 'ac0') in _sessions.kernel_pppoe(table)
    assert _sessions.kernel_pppoe('Id Address Device\n') == set()


def host(tmp_path, **counters):
    """A live directory and a sysfs with ppp0's counters (``counters``: value by name)."""
    live, net = tmp_path / 'live', tmp_path / 'net'
    live.mkdir()
    (net / 'ppp0' / 'statistics').mkdir(parents=True)
    for name, value in counters.items():
        (net / 'ppp0' / 'statistics' / name).write_text('%d\n' % value)
    return live, net


def test_sessions_with_user_counters_uptime_and_idle_time(tmp_path):
    live, net = host(tmp_path, rx_packets=7, tx_packets=6, rx_bytes=588, tx_bytes=504)
    (live / 'ac0.state').write_text(json.dumps({'pid': 1, 'config': {}, 'sessions': [
        {'id': 1, 'mac': '02:00:00:00:00:02', 'address': '10.70.0.10', 'pid': 99, 'started': 1000,
         'link': 'ppp0', 'user': 'user1', 'last_activity': 1090},
        {'id': 2, 'mac': '02:00:00:00:00:03', 'address': '10.70.0.11', 'pid': 98, 'started': 1095}]}))
    (live / 'ac0.conf').write_text('not a state file')
    (live / '..evil.state').write_text('{}')
    (tmp_path / 'pppoe').write_text('Id       Address              Device\n00000100 02:00:00:00:00:02      ac0\n')
    rows = _sessions.ppp_sessions(str(live), str(tmp_path / 'pppoe'), str(net), now=1100.5)
    assert rows[0] == {'protocol': 'pppoe', 'concentrator': 'ac0', 'session_id': 1, 'peer_mac': '02:00:00:00:00:02',
                       'interface': 'ppp0', 'user': 'user1', 'address': '10.70.0.10', 'uptime': 100, 'idle_time': 10,
                       'statistics': {'rx_packets': 7, 'tx_packets': 6, 'rx_bytes': 588, 'tx_bytes': 504},
                       'in_kernel': True, 'adjust_tcpmss': False, 'ingress_filter': False,
                       'tunnel_id': None, 'peer_tunnel_id': None, 'peer_session_id': None, 'peer': None}
    # the rules the kernel holds for the session on its link; one left for another link (a reused
    # name's earlier session) or another session is not the session's
    nft = ('table inet edgenet_ppp {\n\tchain mss {\n'
           '\t\tiifname "ppp0" tcp flags syn / syn,rst tcp option maxseg size set rt mtu comment "edgenet-ppp:ac0:1"\n'
           '\t}\n\tchain ingress {\n'
           '\t\tiifname "ppp7" ip saddr != 10.70.0.10 counter packets 0 bytes 0 drop comment "edgenet-ppp:ac0:1"\n'
           '\t\tiifname "ppp0" ip saddr != 10.70.0.11 counter packets 0 bytes 0 drop comment "edgenet-ppp:ac0:2"\n'
           '\t}\n}\n')
    ruled = _sessions.ppp_sessions(str(live), str(tmp_path / 'pppoe'), str(net), now=1100.5, nft_text=nft)
    assert (ruled[0]['adjust_tcpmss'], ruled[0]['ingress_filter']) == (True, False)
    assert (ruled[1]['adjust_tcpmss'], ruled[1]['ingress_filter']) == (False, False)
    # before IPCP: no link, user, counters or idle time yet; not (yet) in the kernel's table
    assert (rows[1]['interface'], rows[1]['user'], rows[1]['statistics'], rows[1]['idle_time'], rows[1]['in_kernel']) == \
        (None, None, None, None, False)
    assert [r['session_id'] for r in _sessions.ppp_sessions(str(live), str(tmp_path / 'pppoe'), str(net), link='ppp0')] == [1]
    assert _sessions.ppp_sessions(str(tmp_path / 'absent')) == []


def test_an_l2tp_lns_session_row_names_its_tunnel_peer_and_ids_and_is_found_in_the_kernel(tmp_path):
    """The /proc text is what a Debian 12 guest printed with one xl2tpd call up (lab)."""
    live, net = host(tmp_path, rx_packets=3, tx_packets=3, rx_bytes=3, tx_bytes=3)
    key = pppoed.l2tp_key(1143, 19892)
    (live / 'lns0.state').write_text(json.dumps({'pid': 1, 'config': {'protocol': 'l2tp'}, 'sessions': [
        {'id': key, 'tunnel_id': 1143, 'session_id': 19892, 'peer_tunnel_id': 52515, 'peer_session_id': 1016,
         'peer': '10.80.0.2', 'peer_port': 1701, 'link': 'ppp0', 'user': 'user1', 'address': '10.81.0.10',
         'pid': None, 'started': 1000, 'last_activity': 1090}]}))
    (tmp_path / 'pppol2tp').write_text(PPPOL2TP)
    rows = _sessions.ppp_sessions(str(live), str(tmp_path / 'none'), str(net), now=1100, proc_l2tp=str(tmp_path / 'pppol2tp'))
    assert rows == [{'protocol': 'l2tp', 'concentrator': 'lns0', 'session_id': 19892, 'tunnel_id': 1143,
                     'peer_tunnel_id': 52515, 'peer_session_id': 1016, 'peer': '10.80.0.2', 'peer_mac': None,
                     'interface': 'ppp0', 'user': 'user1', 'address': '10.81.0.10', 'uptime': 100, 'idle_time': 10,
                     'statistics': dict.fromkeys(('rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes'), 3),
                     'in_kernel': True, 'adjust_tcpmss': False, 'ingress_filter': False}]
    assert _sessions.daemon_id(rows[0]) == key
    # the same ids on another link are not this session in the kernel
    (tmp_path / 'pppol2tp').write_text(PPPOL2TP.replace('interface ppp0', 'interface ppp9'))
    assert not _sessions.ppp_sessions(str(live), str(tmp_path / 'none'), str(net), proc_l2tp=str(tmp_path / 'pppol2tp'))[0]['in_kernel']


def test_a_state_file_that_is_not_one_is_skipped(tmp_path):
    (tmp_path / 'ac0.state').write_text('{"sessions": [{"id": "1"}, 7, {"id": true}]}')
    (tmp_path / 'ac1.state').write_text('[1, 2]')
    (tmp_path / 'ac2.state').write_text('{not json')
    assert _sessions.ppp_sessions(str(tmp_path), str(tmp_path / 'none'), str(tmp_path)) == []


def test_closing_a_ppp_session_goes_through_its_concentrator_and_returns_the_final_counters(tmp_path):
    live, net = host(tmp_path, rx_packets=9, tx_packets=9, rx_bytes=9, tx_bytes=9)
    state = {'pid': 1, 'sessions': [{'id': 3, 'mac': '02:00:00:00:00:02', 'started': 1, 'link': 'ppp0', 'user': 'u'}]}
    (live / 'ac0.state').write_text(json.dumps(state))
    calls = []

    def run(argv):   # systemd signals the daemon, which ends the session named in the close file
        calls.append(argv)
        assert json.loads((live / 'ac0.close').read_text()) == [3]
        (live / 'ac0.state').write_text(json.dumps(dict(state, sessions=[])))
        return 0, '', ''
    read = {'live_dir': str(live), 'proc': str(tmp_path / 'none'), 'sys_net': str(net)}
    params = {'ifname': 'ppp0', 'state': 'absent', 'sessions': None, 'netns': None}
    checked = _sessions.close_result(params, run, 'systemctl', True, **read)
    assert checked['changed'] and calls == [] and checked['statistics']['rx_packets'] == 9
    done = _sessions.close_result(params, run, 'systemctl', False, **read)
    assert calls == [['systemctl', 'kill', '--signal=SIGUSR1', '--kill-whom=main', 'edgenet-pppoe@ac0.service']]
    assert done['ppp_session']['user'] == 'u' and done['statistics'] == {
        'rx_packets': 9, 'tx_packets': 9, 'rx_bytes': 9, 'tx_bytes': 9}
    assert _sessions.close_result(params, run, 'systemctl', False, **read) is None   # gone: an L2TPv3 name then
    for other in ({'state': 'present'}, {'netns': 'lab'}, {'sessions': []}):
        assert _sessions.close_result(dict(params, **other), run, 'systemctl', False, **read) is None


def test_a_session_that_does_not_go_is_an_error(tmp_path):
    (tmp_path / 'ac0.state').write_text(json.dumps({'sessions': [{'id': 3, 'link': 'ppp0', 'started': 1}]}))
    row = _sessions.ppp_sessions(str(tmp_path), str(tmp_path / 'none'), str(tmp_path))[0]
    with pytest.raises(_sessions.CloseError, match='still up'):
        _sessions.close_session(row, lambda argv: (0, '', ''), live_dir=str(tmp_path), wait=0.1,
                                proc=str(tmp_path / 'none'), sys_net=str(tmp_path))


def test_closing_every_session_of_a_user_returns_them_and_their_final_counters(tmp_path):
    live, net = tmp_path / 'live', tmp_path / 'net'
    live.mkdir()
    for link in ('ppp0', 'ppp1', 'ppp2'):
        (net / link / 'statistics').mkdir(parents=True)
        for name in ('rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes'):
            (net / link / 'statistics' / name).write_text('%d\n' % int(link[-1]))
    state = {'pid': 1, 'sessions': [{'id': n + 1, 'mac': '02:00:00:00:00:0%d' % n, 'started': 1, 'link': 'ppp%d' % n,
                                     'user': 'bob' if n != 1 else 'alice'} for n in range(3)]}
    (live / 'ac0.state').write_text(json.dumps(state))
    closed = []

    def run(argv):
        ids = json.loads((live / 'ac0.close').read_text())
        closed.extend(ids)
        left = [s for s in json.loads((live / 'ac0.state').read_text())['sessions'] if s['id'] not in ids]
        (live / 'ac0.state').write_text(json.dumps(dict(state, sessions=left)))
        return 0, '', ''
    read = {'live_dir': str(live), 'proc': str(tmp_path / 'none'), 'sys_net': str(net), 'nft': str(tmp_path / 'no-nft')}
    params = {'ifname': None, 'ppp_user': 'bob', 'state': 'absent', 'sessions': None, 'netns': None}
    checked = _sessions.close_result(params, run, 'systemctl', True, **dict(read))
    assert checked['changed'] and closed == [] and sorted(checked['statistics']) == ['ppp0', 'ppp2']
    done = _sessions.close_result(params, run, 'systemctl', False, **dict(read))
    assert sorted(closed) == [1, 3] and [r['user'] for r in done['ppp_sessions']] == ['bob', 'bob']
    assert done['statistics'] == {'ppp0': dict.fromkeys(('rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes'), 0),
                                  'ppp2': dict.fromkeys(('rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes'), 2)}
    assert [c['object'] for c in done['changes']] == ['ppp0', 'ppp2'] and 'ppp_session' not in done
    # nobody of that name up: no change, and nothing asked of a concentrator
    again = _sessions.close_result(params, run, 'systemctl', False, **dict(read))
    assert not again['changed'] and again['ppp_sessions'] == [] and sorted(closed) == [1, 3]
    # refused before anything is read or signalled
    for bad in ({'state': 'present'}, {'netns': 'lab'}, {'ppp_user': '*'}, {'ppp_user': 'a b'}, {'ppp_user': 'x' * 65},
                {'ppp_user': 'bob\n'}):
        with pytest.raises(_sessions.CloseError, match='ppp_user'):
            _sessions.close_result(dict(params, **bad), run, 'systemctl', False, **dict(read))
    assert sorted(closed) == [1, 3]
