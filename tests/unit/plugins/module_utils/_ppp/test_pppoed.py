# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The own PPPoE discovery: its frames and decisions (no socket, no pppd). A real client (pppd's
rp-pppoe plugin) served in the kernel: the pipex_session lab target (tasks/pppoe.yml)."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._ppp import _pppoed as pppoed

AC = bytes.fromhex('020000000001')
CLIENT = bytes.fromhex('020000000002')
CONFIG = {'interface': 'ac0', 'ac_name': 'edgenet', 'service_name': 'isp', 'max_sessions': 2,
          'options_file': '/etc/ppp/edgenet-pppoe-ac0.options', 'local_address': '10.0.0.1',
          'remote_pool': ['10.0.0.10', '10.0.0.12']}


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
        'ac0', 'file', '/etc/ppp/edgenet-pppoe-ac0.options', 'nodetach', '10.0.0.1:10.0.0.10']
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
