# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tunnel_end filter: one declaration, each host's end mirrored from the other; the modules
take what it returns; errors as AnsibleFilterError that never quote a cookie."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgenet.router.plugins.filter.tunnel_end import FilterModule, tunnel_end
from ansible_collections.edgenet.router.plugins.module_utils._iptun import TASK as IPTUN_TASK
from ansible_collections.edgenet.router.plugins.module_utils._pipex._model import desired_session
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import desired_tunnel
from ansible_collections.edgenet.router.plugins.plugin_utils._pairs import KINDS

COOKIE_A, COOKIE_B = '0x5E6F7A8B', 'cafe0001cafe0002'

PW = {
    'name': 'pw-cust', 'type': 'l2tpv3', 'mtu': 1442, 'sequencing': 'both',
    'ends': {
        'pe-a': {'address': '198.51.100.1', 'tunnel_id': 100, 'session_id': 1000, 'cookie': COOKIE_A, 'udp_port': 1701},
        'pe-b': {'address': '198.51.100.2', 'tunnel_id': 200, 'session_id': 2000, 'cookie': COOKIE_B, 'udp_port': 1702,
                 'description': 'customer 42', 'addresses': ['10.42.0.2/30']},
    },
}

GRE = {
    'name': 'gre-east', 'type': 'gre', 'ttl': 64, 'csum': True,
    'ends': {
        'rt1': {'address': '192.0.2.1', 'ikey': 7, 'addresses': ['10.9.0.1/30'], 'routes': [{'dest': '10.1.0.0/16'}]},
        'rt2': {'address': '192.0.2.2', 'ikey': '0.0.0.8', 'iseq': True, 'addresses': ['10.9.0.2/30']},
    },
}


def pair(base, **changes):
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def end(base, host, **changes):
    out = copy.deepcopy(base)
    out['ends'][host].update(changes)
    out['ends'][host] = dict((k, v) for k, v in out['ends'][host].items() if v is not None)
    return out


def test_registered():
    assert list(FilterModule().filters()) == ['tunnel_end']


def test_a_pseudowire_gives_each_host_its_end_with_ids_addresses_ports_and_cookies_swapped():
    a, b = tunnel_end(PW, 'pe-a'), tunnel_end(PW, 'pe-b')
    assert a == {
        'ifname': 'pw-cust', 'mtu': 1442, 'sequencing': 'both',
        'local': '198.51.100.1', 'remote': '198.51.100.2',
        'tunnel_id': 100, 'peer_tunnel_id': 200, 'session_id': 1000, 'peer_session_id': 2000,
        'cookie': '5e6f7a8b', 'peer_cookie': 'cafe0001cafe0002', 'udp_sport': 1701, 'udp_dport': 1702,
        'peer': 'pe-b',
    }
    assert b['local'] == a['remote'] and b['remote'] == a['local']
    assert (b['tunnel_id'], b['peer_tunnel_id'], b['session_id'], b['peer_session_id']) == (200, 100, 2000, 1000)
    assert (b['cookie'], b['peer_cookie'], b['udp_sport'], b['udp_dport']) == ('cafe0001cafe0002', '5e6f7a8b', 1702, 1701)
    # an end's own options stay with it
    assert b['description'] == 'customer 42' and b['addresses'] == ['10.42.0.2/30'] and 'addresses' not in a
    assert b['peer'] == 'pe-a'


def test_every_mirrored_field_of_the_table_is_swapped():
    """What the callback compares is what the filter swaps: one table (plugin_utils/_pairs)."""
    for base, kind in ((PW, 'l2tpv3'), (GRE, 'iptun')):
        a, b = tunnel_end(base, sorted(base['ends'])[0]), tunnel_end(base, sorted(base['ends'])[1])
        for own, far in KINDS[kind].mirrored():
            if own in a or far in b:
                assert a.get(own) == b.get(far), (kind, own, far)
        for field in KINDS[kind].shared:
            assert a.get(field) == b.get(field)


def test_a_gre_tunnel_mirrors_keys_and_flags_per_direction_and_keeps_the_shared_shorthands():
    rt1, rt2 = tunnel_end(GRE, 'rt1'), tunnel_end(GRE, 'rt2')
    assert rt1 == {
        'name': 'gre-east', 'type': 'gre', 'ttl': 64, 'csum': True,
        'local': '192.0.2.1', 'remote': '192.0.2.2', 'ikey': 7, 'okey': 8, 'oseq': True,
        'addresses': ['10.9.0.1/30'], 'routes': [{'dest': '10.1.0.0/16'}], 'peer': 'rt2',
    }
    assert rt2 == {
        'name': 'gre-east', 'type': 'gre', 'ttl': 64, 'csum': True,
        'local': '192.0.2.2', 'remote': '192.0.2.1', 'ikey': 8, 'okey': 7, 'iseq': True,
        'addresses': ['10.9.0.2/30'], 'peer': 'rt1',
    }


@pytest.mark.parametrize('host', ['rt1', 'rt2'])
def test_the_iptun_module_takes_the_end_as_a_bulk_item(host):
    item = tunnel_end(GRE, host)
    spec = IPTUN_TASK.argument_spec()['tunnels']['options']
    assert set(item) <= set(spec)
    obj = desired_tunnel(item, resolve=lambda text, family, what: text)
    assert obj['icsum'] is True and obj['ocsum'] is True
    assert obj['okey'] == tunnel_end(GRE, 'rt2' if host == 'rt1' else 'rt1')['ikey']


@pytest.mark.parametrize('host', ['pe-a', 'pe-b'])
def test_the_pipex_module_takes_the_end(host):
    obj = desired_session(tunnel_end(PW, host))
    assert obj['udp_sport'] in (1701, 1702) and obj['cookie'] != 'none'


def test_a_cookieless_end_gives_no_cookie_option_at_all():
    """A no_log value 'none' would make Ansible hide every 'none' of the module's result."""
    quiet = end(PW, 'pe-a', cookie='none')
    a, b = tunnel_end(quiet, 'pe-a'), tunnel_end(quiet, 'pe-b')
    assert 'cookie' not in a and 'peer_cookie' not in b
    assert desired_session(a)['cookie'] == 'none'


def test_the_other_ends_own_options_never_reach_this_end():
    a = tunnel_end(PW, 'pe-a')
    assert 'description' not in a and 'addresses' not in a


def test_a_list_gives_this_hosts_ends_of_the_pairs_that_name_it():
    third = pair(PW, name='pw-two', ends={'pe-b': {'address': '198.51.100.2', 'tunnel_id': 300, 'session_id': 3000},
                                          'pe-c': {'address': '198.51.100.3', 'tunnel_id': 400, 'session_id': 4000}})
    assert [e['ifname'] for e in tunnel_end([PW, third, GRE], 'pe-b')] == ['pw-cust', 'pw-two']
    assert [e.get('ifname', e.get('name')) for e in tunnel_end([PW, third, GRE], 'rt1')] == ['gre-east']
    assert tunnel_end([PW], 'elsewhere') == []


# --- errors ------------------------------------------------------------------------------------------
ERRORS = [
    (PW, 'pe-c', r"pseudowire pw-cust: host 'pe-c' is not one of its ends \(pe-a, pe-b\)"),
    (pair(PW, ends={'pe-a': PW['ends']['pe-a']}), 'pe-a', 'needs ends: a dict of exactly two inventory host names'),
    (pair(PW, ends=dict(PW['ends'], **{'pe-c': {}})), 'pe-a', r'exactly two .* \(it has 3\)'),
    (pair(PW, ends=None), 'pe-a', 'needs ends'),
    (end(PW, 'pe-b', address=None), 'pe-a', 'pseudowire pw-cust end pe-b has no address'),
    (end(PW, 'pe-a', tunnel_id=None, session_id=None), 'pe-a', 'end pe-a has no tunnel_id or session_id'),
    (end(PW, 'pe-b', address='198.51.100.1'), 'pe-a', 'both ends have address 198.51.100.1'),
    (end(PW, 'pe-b', address='2001:db8::2'), 'pe-a', 'of different families'),
    (end(PW, 'pe-b', address='pe-b.example'), 'pe-a', 'is not an IP address'),
    (end(PW, 'pe-a', tunnel_id=0), 'pe-a', 'end pe-a tunnel_id must be a number 1 to 4294967295, not 0'),
    (end(PW, 'pe-a', session_id=True), 'pe-a', 'end pe-a session_id must be a number'),
    (end(PW, 'pe-b', udp_port=70000), 'pe-a', 'end pe-b udp_port must be a UDP port'),
    (end(PW, 'pe-b', peer_session_id=5), 'pe-a', "end pe-b: 'peer_session_id' is not an option an end declares"),
    (end(PW, 'pe-b', mtu=1400), 'pe-a', 'end pe-b: mtu must be the same at both ends; give it once'),
    (end(PW, 'pe-b', bogus=1), 'pe-a', "'bogus' is not an option an end declares"),
    (pair(PW, tunnel_id=5), 'pe-a', "'tunnel_id' belongs to each end"),
    (pair(PW, addresses=['10.0.0.1/30']), 'pe-a', 'addresses differs from end to end; give it under each end'),
    (pair(PW, remote='198.51.100.9'), 'pe-a', "'remote' is not an option of a pseudowire pair"),
    (pair(PW, encap='ip'), 'pe-a', 'encap ip takes no UDP ports; remove udp_port at end pe-a, pe-b'),
    (pair(PW, name=None), 'pe-a', 'needs name'),
    (pair(PW, type=None), 'pe-a', 'needs type'),
    (pair(GRE, type='6to4'), 'rt1', 'type 6to4 has no fixed remote end'),
    (pair(GRE, type='bogus'), 'rt1', "type 'bogus' is neither l2tpv3 nor an iptun type"),
    (pair(GRE, key=3), 'rt1', 'key is given for the pair and ikey for end rt1'),
    (pair(GRE, okey=3), 'rt1', "'okey' is not an option of a tunnel pair"),
    (pair(GRE, ikey=3), 'rt1', "'ikey' belongs to each end"),
    (end(GRE, 'rt2', ikey='seven'), 'rt1', 'end rt2 ikey: a GRE key must be'),
    (end(GRE, 'rt2', icsum='yes'), 'rt1', 'end rt2 icsum must be true or false'),
    (end(GRE, 'rt2', type='ipip'), 'rt1', 'end rt2: type must be the same at both ends'),
    (pair(GRE, ends={'rt 1': GRE['ends']['rt1'], 'rt2': GRE['ends']['rt2']}), 'rt2', "end 'rt 1' is not an inventory host name"),
    (GRE, 'web*', "host 'web\\*' is not an inventory host name"),
    ('gre-east', 'rt1', 'must be a pair .* or a list of pairs, not a str'),
]


@pytest.mark.parametrize('value, host, message', ERRORS)
def test_errors_say_what_and_where(value, host, message):
    with pytest.raises(AnsibleFilterError, match='tunnel_end: .*' + message):
        tunnel_end(value, host)


@pytest.mark.parametrize('cookie', ['0x1A2B3C', '0xZZZZZZZZ', 439041101, '1a2b3c4d5e'])
def test_a_bad_cookie_is_refused_without_quoting_it(cookie):
    with pytest.raises(AnsibleFilterError, match='end pe-b cookie must be') as err:
        tunnel_end(end(PW, 'pe-b', cookie=cookie), 'pe-a')
    text = str(err.value).lower()
    assert str(cookie).lower().replace('0x', '') not in text and COOKIE_A.lower()[2:] not in text


def test_errors_in_a_list_name_the_pair_and_are_all_reported():
    bad = end(PW, 'pe-a', address=None)
    gre_bad = pair(GRE, ends={'pe-a': GRE['ends']['rt1'], 'rt2': dict(GRE['ends']['rt2'], ikey='x')})
    with pytest.raises(AnsibleFilterError) as err:
        tunnel_end([PW, bad, gre_bad], 'pe-a')
    text = str(err.value)
    assert 'pair 2 (pseudowire pw-cust) end pe-a has no address' in text and 'pair 3 (tunnel gre-east)' in text


def test_one_hosts_ends_must_not_clash():
    again = pair(PW, ends={'pe-a': {'address': '198.51.100.1', 'tunnel_id': 100, 'session_id': 1000},
                           'pe-c': {'address': '198.51.100.3', 'tunnel_id': 300, 'session_id': 2000}})
    with pytest.raises(AnsibleFilterError) as err:
        tunnel_end([PW, again], 'pe-a')
    text = str(err.value)
    assert 'pair 1 (pseudowire pw-cust) and pair 2 (pseudowire pw-cust) both name ifname pw-cust on this host' in text
    assert 'both use tunnel_id 100 on this host, towards other peers' in text
    assert 'both have session_id 1000 in tunnel 100' in text and 'both have peer_session_id 2000 in tunnel 100' in text
    # two sessions of one tunnel (same far end) are fine
    second = pair(PW, name='pw-two', ends={'pe-a': {'address': '198.51.100.1', 'tunnel_id': 100, 'session_id': 1001},
                                           'pe-b': {'address': '198.51.100.2', 'tunnel_id': 200, 'session_id': 2001}})
    assert [e['session_id'] for e in tunnel_end([PW, second], 'pe-a')] == [1000, 1001]
