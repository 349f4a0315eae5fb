# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcpv6_server and dhcpv6_server_info refuse bad input with a message naming the option, and touch
nothing (config file, Kea's control socket, dnsmasq's process, systemctl).

Every case runs the module's main() through AnsibleModule (see driver.py); a traceback, an
accepted value or a write is a failure.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.tests.unit.plugins.modules.bad_values import (
    BOOL_WRONG, CONTROL, IFNAME_BAD, INT_WRONG, LIST_WRONG, LONG, PATTERNS, SHELL, SPACES, UNICODE, Table, drop,
    ints,
)
from ansible_collections.edgenet.router.tests.unit.plugins.modules.driver import assert_accepted, assert_refused

POOL = '2001:db8:1::1000-2001:db8:1::1fff'
KEA = {'interface': 'lan0', 'pools': [POOL], 'config_file': '@kea_conf', 'control_socket': '@kea_socket',
       'lease_file': '@kea_leases'}
DNSMASQ = {'interface': 'lan0', 'backend': 'dnsmasq', 'pools': [POOL], 'config_file': '@dnsmasq_conf',
           'pid_file': '@dnsmasq_pid', 'lease_file': '@dnsmasq_leases'}
RELAY = dict(drop(DNSMASQ, 'pools'), mode='relay', upstream_interface='wan0')
STATELESS = drop(KEA, 'pools')
PD = {'prefix': '2001:db8:100::/48', 'delegated_length': 56}
WITH_PD = dict(KEA, prefix_delegation=[dict(PD)])
RES = {'duid': '00:03:00:01:02:00:00:00:00:01', 'address': '2001:db8:1::5', 'prefix': None}
WITH_RES = dict(KEA, reservations=[dict(RES)])
EXTRA = {'code': 65001, 'type': 'uint16', 'data': 2571}
WITH_EXTRA = dict(KEA, extra_options=[dict(EXTRA)])

T = Table(KEA)

# ---- interfaces ---------------------------------------------------------------------------------------
T.each('interface', ('interface',), IFNAME_BAD, 'interface', short_for_text=True)
T.each('interface-dnsmasq', ('interface',), PATTERNS + CONTROL[:4] + [('comma', 'lan0,lan1')], 'interface', base=DNSMASQ)
T.add('interface-missing-on-host', dict(KEA, interface='nope0'), ('interface', 'nope0'))
T.add('interface-link-local-only', dict(KEA, interface='lanll'), ('lanll', 'subnet'))
T.each('upstream_interface', ('upstream_interface',), IFNAME_BAD, 'upstream_interface', base=RELAY,
       short_for_text=True)
T.add('upstream-equals-interface', dict(RELAY, upstream_interface='lan0'), 'upstream_interface')
T.add('upstream-missing-for-relay', drop(RELAY, 'upstream_interface'), 'upstream_interface')

# ---- subnet, pools ---------------------------------------------------------------------------------------
PREFIX_TEXT = [('v4', '192.0.2.0/24'), ('no-length', '2001:db8:1::'), ('host-bits', '2001:db8:1::1/64'),
               ('len-129', '2001:db8:1::/129'), ('word', 'abc'), ('empty', ''), ('long-100k', LONG),
               ('glob', '2001:db8:1::*/64')] + CONTROL[:4]
T.each('subnet', ('subnet',), PREFIX_TEXT + [('everything', '::/0'), ('multicast', 'ff02::/16'),
                                             ('loopback', '::1/128')], 'subnet', short_for_text=True)
T.add('subnet-not-containing-pools', dict(KEA, subnet='2001:db8:2::/64'), ('pool', 'subnet'))
T.each('pools', ('pools',), [
    ('v4-range', ['192.0.2.10-192.0.2.20']), ('reversed', ['2001:db8:1::1fff-2001:db8:1::1000']),
    ('outside-subnet', ['2001:db8:2::1000-2001:db8:2::1fff']), ('half', ['2001:db8:1::1000-']),
    ('three-parts', ['2001:db8:1::1-2001:db8:1::2-2001:db8:1::3']), ('word', ['abc']), ('empty-item', ['']),
    ('long-100k', [LONG]), ('nul', [POOL + '\0']), ('newline', [POOL + '\n']),
    ('overlap', [POOL, '2001:db8:1::1800-2001:db8:1::2fff']), ('duplicate', [POOL, POOL]),
    ('duplicate-spelled-twice', [POOL, '2001:db8:1::1000/116']), ('prefix-host-bits', ['2001:db8:1::1/116']),
    ('contains-router-address', ['2001:db8:1::/64']), ('multicast', ['ff02::1-ff02::2'])] + LIST_WRONG, 'pool')
T.add('pools-with-stateless', dict(KEA, address_mode='stateless'), ('pools', 'stateless'))
T.add('stateful-without-pools', dict(STATELESS, address_mode='stateful'), ('pools', 'stateful'))

# ---- prefix delegation ----------------------------------------------------------------------------------------
T.each('pd-prefix', ('prefix_delegation', 0, 'prefix'), PREFIX_TEXT + [('overlaps-subnet', '2001:db8:1::/48')],
       ('prefix', 'prefix_delegation'), base=WITH_PD, short_for_text=True)
T.each('pd-delegated_length', ('prefix_delegation', 0, 'delegated_length'), ints([47, 129, -1, 0]) + INT_WRONG,
       ('delegated_length', 'prefix_delegation'), base=WITH_PD)
T.each('prefix_delegation', ('prefix_delegation',), [
    ('duplicate', [dict(PD), dict(PD)]), ('overlap', [dict(PD), dict(PD, prefix='2001:db8:100:100::/56')]),
    ('missing-length', [{'prefix': '2001:db8:100::/48'}]), ('unknown-key', [dict(PD, colour='red')]),
    ('string-item', ['2001:db8:100::/48'])] + LIST_WRONG[:1],
    ('prefix_delegation', 'delegated_length', 'colour', 'dictionary requested'), base=WITH_PD)

# ---- reservations -----------------------------------------------------------------------------------------------
T.each('reservation-duid', ('reservations', 0, 'duid'), [
    ('odd', '0:03:00'), ('word', 'zz:zz'), ('one-byte', '01'), ('131-bytes', '00' * 131), ('empty', ''),
    ('long-100k', LONG), ('glob', '00:03:*')] + CONTROL[:4], 'duid', base=WITH_RES, short_for_text=True)
T.each('reservation-address', ('reservations', 0, 'address'), [
    ('outside-subnet', '2001:db8:2::5'), ('v4', '192.0.2.5'), ('multicast', 'ff02::1'), ('word', 'abc'),
    ('long-100k', LONG), ('router-own', '2001:db8:1::1')] + CONTROL[:3],
    ('address', 'reservation'), base=WITH_RES, short_for_text=True)
T.each('reservation-prefix', ('reservations', 0, 'prefix'), PREFIX_TEXT[:5], ('prefix', 'reservation'), base=WITH_RES)
T.each('reservations', ('reservations',), [
    ('duplicate-duid', [dict(RES), dict(RES, address='2001:db8:1::6')]),
    ('duplicate-duid-spelled-twice', [dict(RES), dict(RES, duid='0003000102000000000' + '1', address='2001:db8:1::6')]),
    ('duplicate-address', [dict(RES), dict(RES, duid='00:03:00:01:02:00:00:00:00:02')]),
    ('nothing-reserved', [{'duid': '00:03:00:01:02:00:00:00:00:01'}]), ('unknown-key', [dict(RES, colour='red')]),
    ('missing-duid', [{'address': '2001:db8:1::5'}])] + LIST_WRONG[:1],
    ('reservation', 'duid', 'colour', 'address', 'dictionary requested'), base=WITH_RES)

# ---- DNS, search list, user classes ------------------------------------------------------------------------------
T.each('dns_servers', ('dns_servers',), [
    ('v4', ['192.0.2.53']), ('multicast', ['ff02::1']), ('unspecified', ['::']), ('loopback', ['::1']),
    ('word', ['abc']), ('empty-item', ['']), ('long-100k', [LONG]), ('duplicate', ['2001:db8::53', '2001:db8::53']),
    ('duplicate-spelled-twice', ['2001:db8::53', '2001:db8:0::53']), ('with-length', ['2001:db8::53/64']),
    ('nul', ['2001:db8::53\0']), ('newline', ['2001:db8::53\n']), ('comma', ['2001:db8::53,2001:db8::54'])]
    + LIST_WRONG, 'dns_servers', short_for_text=True)
T.each('domain_search', ('domain_search',), [
    ('label-64', ['a' * 64 + '.example']), ('name-254', ['a.' * 126 + 'ab']), ('empty-label', ['a..example']),
    ('leading-dash', ['-a.example']), ('trailing-dash', ['a-.example']), ('glob', ['*.example']),
    ('space', ['a b.example']), ('dot', ['.']), ('empty', ['']), ('long-100k', [LONG]),
    ('duplicate', ['home.example', 'home.example']), ('duplicate-case', ['home.example', 'HOME.example.']),
    ('unicode', ['\u00e9.example']), ('comma', ['a.example,b.example'])] + [(label, [value]) for label, value in CONTROL]
    + LIST_WRONG[:1], 'domain_search', short_for_text=True)
T.each('ignore_user_class', ('ignore_user_class',), [
    ('256-chars', ['u' * 256]), ('long-100k', [LONG]), ('empty', ['']), ('duplicate', ['homenet', 'homenet']),
    ('comma', ['a,b'])] + [(label, [value]) for label, value in CONTROL + SPACES[1:] + SHELL[:8] + UNICODE[:4]]
    + LIST_WRONG[:1], 'ignore_user_class', short_for_text=True)

# ---- numbers -----------------------------------------------------------------------------------------------------
T.each('sol_max_rt', ('sol_max_rt',), ints([59, 86401, -1, 0]) + INT_WRONG, 'sol_max_rt')
T.each('inf_max_rt', ('inf_max_rt',), ints([59, 86401, -1, 0]) + INT_WRONG, 'inf_max_rt')
T.each('information_refresh_time', ('information_refresh_time',), ints([599, 2 ** 32, -1]) + INT_WRONG[:4],
       'information_refresh_time')
T.each('preferred_lifetime', ('preferred_lifetime',), ints([0, -1, 2 ** 32]) + INT_WRONG[:4], 'preferred_lifetime')
T.each('valid_lifetime', ('valid_lifetime',), ints([0, -1, 2 ** 32]) + INT_WRONG[:4], 'valid_lifetime')
T.add('preferred-over-valid', dict(KEA, preferred_lifetime=7200, valid_lifetime=3600),
      ('preferred_lifetime', 'valid_lifetime'))

# ---- extra options --------------------------------------------------------------------------------------------------
T.each('extra-code', ('extra_options', 0, 'code'), ints([0, -1, 65536, 23, 24, 3, 25, 82]) + INT_WRONG[:4], 'code',
       base=WITH_EXTRA)
T.each('extra-type', ('extra_options', 0, 'type'), [('upper', 'UINT16'), ('int64', 'uint64'), ('empty', ''),
                                                    ('nul', '\0')], 'type', base=WITH_EXTRA)
T.each('extra-data-uint16', ('extra_options', 0, 'data'), [('too-big', 65536), ('negative', -1), ('word', 'abc'),
                                                           ('list', [1]), ('float', 1.5)], ('data', 'extra option'),
       base=WITH_EXTRA)
T.each('extra-data-hex', ('extra_options', 0, 'data'), [('not-hex', 'zz'), ('odd', 'abc'), ('too-long', 'ab' * 65536),
                                                        ('dict', {'a': 1}), ('nul', 'ab\0')], ('data', 'extra option'),
       base=dict(KEA, extra_options=[dict(EXTRA, type='hex')]))
T.each('extra-data-ipv6', ('extra_options', 0, 'data'), [('v4', '192.0.2.1'), ('word', 'abc'), ('empty', '')],
       ('data', 'extra option'), base=dict(KEA, extra_options=[dict(EXTRA, type='ipv6-address')]))
T.each('extra-data-uint8', ('extra_options', 0, 'data'), [('too-big', 256), ('negative', -1)], ('data', 'extra option'),
       base=dict(KEA, extra_options=[dict(EXTRA, type='uint8')]))
T.each('extra-data-uint32', ('extra_options', 0, 'data'), [('too-big', 2 ** 32), ('negative', -1)],
       ('data', 'extra option'), base=dict(KEA, extra_options=[dict(EXTRA, type='uint32')]))
T.each('extra_options', ('extra_options',), [
    ('duplicate-code', [dict(EXTRA), dict(EXTRA, data=1)]), ('missing-data', [{'code': 65001}]),
    ('unknown-key', [dict(EXTRA, colour='red')]), ('string-item', ['65001'])] + LIST_WRONG[:1],
    ('extra option', 'extra_options', 'data', 'colour', 'dictionary requested'), base=WITH_EXTRA)

# ---- relay ------------------------------------------------------------------------------------------------------------
T.each('servers', ('servers',), [
    ('v4', ['192.0.2.1']), ('unspecified', ['::']), ('loopback', ['::1']), ('word', ['abc']), ('empty-item', ['']),
    ('long-100k', [LONG]), ('duplicate', ['ff02::1:2', 'ff02::1:2']),
    ('nul', ['ff02::1:2\0']), ('newline', ['ff02::1:2\n'])] + LIST_WRONG, 'servers', base=RELAY, short_for_text=True)
T.add('relay-with-kea', dict(drop(KEA, 'pools'), mode='relay', upstream_interface='wan0'), 'kea')
T.add('relay-with-pools', dict(RELAY, pools=[POOL]), ('pools', 'relay'))
T.add('relay-with-dns', dict(RELAY, dns_servers=['2001:db8::53']), ('dns_servers', 'relay'))
T.add('server-with-servers', dict(KEA, servers=['ff02::1:2']), ('servers', 'server'))
T.add('server-with-upstream', dict(KEA, upstream_interface='wan0'), ('upstream_interface', 'server'))
T.add('server-with-interface_id', dict(KEA, interface_id=True), ('interface_id', 'server'))
T.add('relay-interface_id-dnsmasq', dict(RELAY, interface_id=True), ('interface_id', 'dnsmasq'))
T.add('relay-without-global-address', dict(RELAY, interface='lanll'), ('lanll', 'global'))

# ---- what dnsmasq cannot say --------------------------------------------------------------------------------------------
T.add('dnsmasq-prefix-delegation', dict(DNSMASQ, prefix_delegation=[dict(PD)]), ('prefix_delegation', 'dnsmasq'))
T.add('dnsmasq-rapid-commit-off', dict(DNSMASQ, rapid_commit=False), ('rapid_commit', 'dnsmasq'))
T.add('dnsmasq-two-lifetimes', dict(DNSMASQ, preferred_lifetime=3600, valid_lifetime=7200),
      ('lifetime', 'dnsmasq'))
T.add('dnsmasq-pool-shorter-than-64', dict(DNSMASQ, subnet='2001:db8:1::/48', pools=['2001:db8:1::/63']),
      ('pool', 'dnsmasq', '64'))

# ---- choices, booleans -----------------------------------------------------------------------------------------------
CHOICE_BAD = [('upper', 'X'), ('empty', ''), ('nul', '\0'), ('long-100k', LONG), ('list', ['a'])]
for option, typo in (('mode', 'relais'), ('state', 'gone'), ('backend', 'isc-dhcp'), ('address_mode', 'slaac'),
                     ('service_manager', 'sysvinit')):
    T.each(option, (option,), CHOICE_BAD + [('typo', typo)], option)
for option in ('rapid_commit', 'interface_id'):
    T.each(option, (option,), BOOL_WRONG, option)

# ---- where: files, socket, namespace, service -------------------------------------------------------------------------
FILE_BAD = [('nul', '\0'), ('nul-inside', '@dhcp/x\0y'), ('long-100k', '/' + LONG), ('a-directory', '@networkd'),
            ('under-a-file', '@a_file/x'), ('newline', '@dhcp/x\ny')]
FILE_NAMES = ('a-file', 'directory', 'networkd', 'x' * 20)
for option in ('config_file', 'control_socket', 'lease_file'):
    T.each(option, (option,), FILE_BAD + [('empty', '')], FILE_NAMES + (option,), short_for_text=True)
for option in ('config_file', 'pid_file', 'lease_file'):
    T.each('dnsmasq-%s' % option, (option,), FILE_BAD + [('empty', '')], FILE_NAMES + (option,), base=DNSMASQ,
           short_for_text=True)
T.add('lease_file-equals-config_file', dict(KEA, lease_file='@kea_conf'), ('lease_file', 'config_file'))
UNIT_BAD = PATTERNS + CONTROL + [('empty', ''), ('space', ' '), ('leading-dash', '-a'), ('option', '--now'),
                                 ('inner-space', 'kea dhcp6'), ('climb', '../x'), ('absolute', '/etc/x'),
                                 ('long-100k', LONG), ('surrogate', 'kea\udcff'), ('semicolon', 'kea;x')]
T.each('service_name', ('service_name',), UNIT_BAD, 'service_name', short_for_text=True)
T.each('dnsmasq-service_name', ('service_name',), UNIT_BAD, 'service_name', base=DNSMASQ, short_for_text=True)
NETNS_TEXT = [('missing', 'nope'), ('empty', ''), ('dotdot', '..'), ('slash', 'a/b'), ('long-100k', LONG)] + \
    PATTERNS[:5] + CONTROL[:4]
T.each('netns', ('netns',), NETNS_TEXT, ('netns', 'namespace'), short_for_text=True)
T.each('dnsmasq-netns', ('netns',), NETNS_TEXT, ('netns', 'namespace'), base=DNSMASQ, short_for_text=True)
T.add('unknown-option', dict(KEA, colour='red'), 'colour')

CASES = T.params

# ---- dhcpv6_server_info ------------------------------------------------------------------------------------------------
INFO = Table({'config_file': '@kea_conf', 'control_socket': '@kea_socket', 'lease_file': '@kea_leases'})
INFO.each('interface', ('interface',), IFNAME_BAD, 'interface', short_for_text=True)
for option in ('config_file', 'control_socket', 'lease_file'):
    INFO.each(option, (option,), FILE_BAD + [('empty', '')], FILE_NAMES + (option,), short_for_text=True)
INFO.each('netns', ('netns',), NETNS_TEXT, ('netns', 'namespace'), short_for_text=True)
INFO.each('backend', ('backend',), CHOICE_BAD, 'backend')
INFO.each('service_manager', ('service_manager',), CHOICE_BAD, 'service_manager')
INFO.add('unknown-option', dict(INFO.base, pools=[POOL]), 'pools')
INFO_CASES = INFO.params


def test_tables_are_big_enough():
    assert len(T) >= 300
    assert len(INFO) >= 60


@pytest.mark.parametrize('check_mode', [False, True], ids=['apply', 'check'])
@pytest.mark.parametrize('base', [KEA, DNSMASQ, RELAY, STATELESS, WITH_PD, WITH_RES, WITH_EXTRA],
                         ids=['kea', 'dnsmasq', 'relay', 'stateless', 'pd', 'reservation', 'extra'])
def test_the_base_task_is_accepted(world, base, check_mode):
    """The tables' starting points are valid: every refusal below is the bad value's doing."""
    assert assert_accepted(world, 'dhcpv6_server', base, check_mode=check_mode)['changed'] is True
    assert assert_accepted(world, 'dhcpv6_server_info', INFO.base, check_mode=check_mode)['changed'] is False


@pytest.mark.parametrize('args, fragments, short', CASES)
def test_dhcpv6_server_refuses(world, args, fragments, short):
    assert_refused(world, 'dhcpv6_server', args, fragments, short=short)


@pytest.mark.parametrize('args, fragments, short', INFO_CASES)
def test_dhcpv6_server_info_refuses(world, args, fragments, short):
    assert_refused(world, 'dhcpv6_server_info', args, fragments, short=short)
