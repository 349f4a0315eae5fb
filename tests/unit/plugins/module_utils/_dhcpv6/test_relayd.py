# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The own DHCPv6 relay's wire format and decisions (no socket). Real packets between namespaces,
Kea behind it and dhclient in front: the dhcpv6_server host target (tasks/own_relay.yml)."""

from __future__ import annotations

import json
import socket
import struct

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _relayd as relayd

SOLICIT = bytes([1, 0xAB, 0xCD, 0xEF]) + relayd.option_bytes(1, b'\x00\x03\x00\x01\x02\x00\x00\xc0\xff\xee')
CONFIG = {'interfaces': {
    'lan0': {'upstream_interface': 'wan0', 'servers': ['ff02::1:2', '2001:db8:6::1'], 'interface_id': True},
    'lan1': {'upstream_interface': 'wan0', 'servers': ['2001:db8:6::1'], 'dns_rewrite': True, 'hop_limit': 2},
}}
LINKS = {'lan0': '2001:db8:5::1', 'lan1': '2001:db8:7::1'}


def reply(dns=None):
    body = bytes([7, 0xAB, 0xCD, 0xEF]) + relayd.option_bytes(2, b'\x00\x01')
    if dns is not None:
        body += relayd.option_bytes(23, b''.join(socket.inet_pton(socket.AF_INET6, a) for a in dns))
    return body + relayd.option_bytes(24, b'\x07example\x00')


def relay_repl(message, link='::', peer='fe80::c1', interface_id=None):
    body = struct.pack('!BB16s16s', relayd.RELAY_REPL, 0, socket.inet_pton(socket.AF_INET6, link),
                       socket.inet_pton(socket.AF_INET6, peer))
    if interface_id is not None:
        body += relayd.option_bytes(relayd.OPTION_INTERFACE_ID, interface_id)
    return body + relayd.option_bytes(relayd.OPTION_RELAY_MSG, message)


def test_a_client_message_is_wrapped_with_link_peer_and_interface_id_and_sent_to_every_server_upstream():
    decision = relayd.from_downstream(CONFIG, 'lan0', 'fe80::c1', SOLICIT, LINKS['lan0'])
    assert decision.reason is None and decision.forwarded
    assert [(address, port, out) for dummy, address, port, out in decision.sends] == [
        ('ff02::1:2', 547, 'wan0'), ('2001:db8:6::1', 547, 'wan0')]
    forw = relayd.relay_message(decision.sends[0][0])
    assert forw['type'] == relayd.RELAY_FORW and forw['hop_count'] == 0
    assert forw['link_address'] == '2001:db8:5::1' and forw['peer_address'] == 'fe80::c1'
    assert forw['interface_id'] == b'lan0' and forw['message'] == SOLICIT
    # the Interface-ID before the Relay Message, as odhcpd and ISC dhcrelay order them
    assert [code for code, dummy in forw['options']] == [relayd.OPTION_INTERFACE_ID, relayd.OPTION_RELAY_MSG]


def test_a_relay_forward_from_a_relay_behind_counts_one_more_hop_and_is_dropped_at_the_limit():
    inner = relayd.relay_forw(1, '2001:db8:9::1', 'fe80::c1', SOLICIT)
    decision = relayd.from_downstream(CONFIG, 'lan1', 'fe80::2', inner, LINKS['lan1'])
    forw = relayd.relay_message(decision.sends[0][0])
    assert forw['hop_count'] == 2 and forw['link_address'] == '2001:db8:7::1' and forw['message'] == inner
    # from a relay with a global source address: link-address 0 (RFC 8415 section 19.1.2)
    forw = relayd.relay_message(relayd.from_downstream(CONFIG, 'lan1', '2001:db8:7::9', inner, LINKS['lan1']).sends[0][0])
    assert forw['link_address'] == '::'
    at_limit = relayd.relay_forw(2, '::', 'fe80::c1', SOLICIT)
    assert relayd.from_downstream(CONFIG, 'lan1', 'fe80::2', at_limit, LINKS['lan1']).reason == 'hop_limit'
    # the default limit is RFC 8415's HOP_COUNT_LIMIT, 8
    assert relayd.from_downstream(CONFIG, 'lan0', 'fe80::2', relayd.relay_forw(7, '::', '::1', SOLICIT), None).sends
    assert relayd.from_downstream(CONFIG, 'lan0', 'fe80::2', relayd.relay_forw(8, '::', '::1', SOLICIT), None).reason == 'hop_limit'


def test_what_cannot_be_relayed_from_downstream_is_dropped_by_reason():
    assert relayd.from_downstream(CONFIG, 'lan1', 'fe80::c1', SOLICIT, None).reason == 'no_link_address'
    # with an Interface-ID the server can still tell the link apart: link-address 0
    forw = relayd.relay_message(relayd.from_downstream(CONFIG, 'lan0', 'fe80::c1', SOLICIT, None).sends[0][0])
    assert forw['link_address'] == '::' and forw['interface_id'] == b'lan0'
    for message in (reply(), relay_repl(reply()), bytes([99, 0, 0, 0])):
        assert relayd.from_downstream(CONFIG, 'lan0', 'fe80::c1', message, LINKS['lan0']).reason == 'unexpected'
    assert relayd.from_downstream(CONFIG, 'lan0', 'fe80::c1', b'', LINKS['lan0']).reason == 'malformed'
    assert relayd.from_downstream(CONFIG, 'lan0', 'fe80::c1', bytes([12, 0]) + b'\0' * 10, LINKS['lan0']).reason == 'malformed'


def test_a_relay_reply_goes_to_the_client_on_the_interface_its_interface_id_names():
    decision = relayd.from_upstream(CONFIG, relay_repl(reply(['2001:db8:6::53']), interface_id=b'lan0'), LINKS)
    assert decision.sends == [(reply(['2001:db8:6::53']), 'fe80::c1', 546, 'lan0')] and not decision.forwarded


def test_without_an_interface_id_the_link_address_names_the_interface_and_dns_is_rewritten_there():
    decision = relayd.from_upstream(CONFIG, relay_repl(reply(['2001:db8:6::53', '2001:db8:6::54']),
                                                       link='2001:db8:7::1'), LINKS)
    (message, address, port, ifname), = decision.sends
    assert (address, port, ifname) == ('fe80::c1', 546, 'lan1')
    # the relay's own address on lan1 only; every other option and the header as they came
    assert message == reply(['2001:db8:7::1'])
    assert relayd.options(message[4:])[-1] == (24, b'\x07example\x00')


def test_a_nested_relay_reply_goes_to_the_relay_behind_on_the_server_port_unchanged():
    inner = relay_repl(reply(['2001:db8:6::53']), peer='fe80::c1')
    decision = relayd.from_upstream(CONFIG, relay_repl(inner, link='2001:db8:7::1', peer='fe80::2'), LINKS)
    assert decision.sends == [(inner, 'fe80::2', 547, 'lan1')]


def test_what_cannot_be_returned_downstream_is_dropped_by_reason():
    assert relayd.from_upstream(CONFIG, reply(), LINKS).reason == 'unexpected'
    assert relayd.from_upstream(CONFIG, relay_repl(reply(), link='2001:db8:99::1'), LINKS).reason == 'unknown_interface'
    # an Interface-ID this relay did not send (lan1 sends none) names no interface of ours
    assert relayd.from_upstream(CONFIG, relay_repl(reply(), interface_id=b'lan1'), LINKS).reason == 'unknown_interface'
    assert relayd.from_upstream(CONFIG, relay_repl(reply(), interface_id=b'../x'), LINKS).reason == 'unknown_interface'
    assert relayd.from_upstream(CONFIG, relay_repl(reply(), link='2001:db8:7::1'), dict(LINKS, lan1=None)).reason == 'unknown_interface'
    assert relayd.from_upstream(CONFIG, relay_repl(b'\x07\x00', link='2001:db8:7::1'), LINKS).reason == 'malformed'
    cut = relay_repl(reply())[:-3]
    assert relayd.from_upstream(CONFIG, cut, LINKS).reason == 'malformed'


def test_options_that_overrun_their_message_are_malformed():
    with pytest.raises(relayd.Malformed):
        relayd.options(b'\x00\x17\x00\x10' + b'\0' * 4)
    with pytest.raises(relayd.Malformed):
        relayd.options(b'\x00')
    assert relayd.options(b'') == []


def _conf(**changes):
    conf = {'upstream_interface': 'wan0', 'servers': ['ff02::1:2'], 'interface_id': False, 'hop_limit': 8,
            'dns_rewrite': False}
    conf.update(changes)
    return conf


@pytest.mark.parametrize('bad, words', [
    (_conf(upstream_interface='lan0'), 'another one'),
    (_conf(servers=[]), 'servers'),
    (_conf(servers=['192.0.2.1']), 'not all IPv6'),
    (_conf(servers=['ff02::1:2'] * 17), 'servers'),
    (_conf(upstream_interface='wan*'), 'not an interface name'),
    (_conf(upstream_interface='-x'), 'not an interface name'),
    (_conf(hop_limit=0), 'hop_limit'),
    (_conf(hop_limit=True), 'hop_limit'),
    (_conf(hop_limit=33), 'hop_limit'),
    (_conf(interface_id='yes'), 'interface_id'),
    (dict((k, v) for k, v in _conf().items() if k != 'dns_rewrite'), 'exactly'),
    (_conf(extra=1), 'exactly'),
])
def test_the_config_is_checked_word_by_word(tmp_path, bad, words):
    path = tmp_path / 'relay.conf'
    path.write_text(relayd.MARKER + '\n' + json.dumps({'interfaces': {'lan0': bad}}))
    with pytest.raises(relayd.BadConfig, match=words):
        relayd.load(str(path))


def test_a_config_file_needs_the_marker_and_one_object(tmp_path):
    path = tmp_path / 'relay.conf'
    path.write_text(json.dumps({'interfaces': {}}))
    with pytest.raises(relayd.BadConfig, match='lacks the line'):
        relayd.load(str(path))
    path.write_text(relayd.MARKER + '\n{"interfaces": {}, "other": 1}')
    with pytest.raises(relayd.BadConfig, match='key "interfaces" only'):
        relayd.load(str(path))
    with pytest.raises(relayd.BadConfig, match='interface name'):
        relayd.check_config({'interfaces': {'l*': _conf()}})


def test_a_rendered_config_reads_back_as_it_was(tmp_path):
    config = {'interfaces': {'lan0': _conf(servers=['FF02::1:2', '2001:DB8::1'], interface_id=True)}}
    path = tmp_path / 'relay.conf'
    path.write_text(relayd.render_config(config))
    assert relayd.load(str(path))['interfaces']['lan0']['servers'] == ['ff02::1:2', '2001:db8::1']


def test_global_addresses_come_from_the_kernels_table_and_skip_tentative_ones(tmp_path):
    table = tmp_path / 'if_inet6'
    table.write_text('fe80000000000000000000000000c001 03 40 20 80     lan0\n'
                     '20010db8000500000000000000000009 03 40 00 c0     lan0\n'  # tentative
                     '20010db8000500000000000000000001 03 40 00 80     lan0\n'
                     '20010db8000600000000000000000002 04 40 00 80     wan0\n')
    assert relayd.global_addresses(str(table)) == {'lan0': '2001:db8:5::1', 'wan0': '2001:db8:6::2'}


def test_the_daemon_file_imports_nothing_of_the_collection():
    # the module installs the file as it is on the router: it must run without the collection
    with open(relayd.__file__) as handle:
        source = handle.read()
    assert 'ansible' not in ''.join(line for line in source.splitlines(True) if line.startswith(('import', 'from')))


def test_the_relay_reads_the_kernels_addresses_once_a_second_not_per_message(monkeypatch):
    reads = []
    monkeypatch.setattr(relayd, 'global_addresses', lambda: reads.append(1) or dict(LINKS))
    relay = relayd.Relay.__new__(relayd.Relay)   # no socket: only the address cache is under test
    setattr(relay, '_addresses', None)
    for now in (100.0, 100.2, 100.9):
        assert relay.addresses(now) == LINKS
    assert len(reads) == 1
    relay.addresses(101.0)
    assert len(reads) == 2
