# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""sixtofour_relay refuses bad input with a message naming the option, and touches nothing.

Every case runs the module's main() through AnsibleModule (see driver.py); a traceback, an
accepted value or a write is a failure.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.tests.unit.plugins.modules.bad_values import (
    BOOL_WRONG, CONTROL, DIR_BAD, DIR_NAMES, IFNAME_BAD, INT_WRONG, IPV4_RESERVED, LIST_WRONG, LONG, MALFORMED_ADDR, NETNS_BAD,
    PATTERNS, TEXT_BAD, Table, drop, ints,
)
from ansible_collections.edgenet.router.tests.unit.plugins.modules.driver import assert_accepted, assert_refused

SITE = {'name': 'tun6to4', 'role': '6to4-site', 'local': '198.51.100.7', 'allow_documentation_addresses': True,
        'relay': '203.0.113.99', 'networkd_dir': '@networkd'}
RELAY = {'name': 'tun6to4', 'role': '6to4-relay', 'local': '198.51.100.7', 'allow_documentation_addresses': True,
         'networkd_dir': '@networkd'}
CE = {'name': 'tun6rd', 'role': '6rd-ce', 'local': '198.51.100.7', 'sixrd_prefix': '2001:db8::/32',
      'border_relays': ['192.0.2.1'], 'networkd_dir': '@networkd'}
BR = {'name': 'tun6rd', 'role': '6rd-br', 'local': '192.0.2.1', 'sixrd_prefix': '2001:db8::/32',
      'networkd_dir': '@networkd'}
BY_INTERFACE = dict(drop(SITE, 'local'), local_interface='wan0')

NOT_GLOBAL = [('private-10', '10.0.0.1'), ('private-172', '172.16.0.1'), ('private-192', '192.168.1.1'),
              ('shared-cgn', '100.64.0.1'), ('link-local', '169.254.1.1'), ('this-network', '0.1.2.3'),
              ('ietf', '192.0.0.1'), ('benchmark', '198.18.0.1'), ('anycast-net', '192.88.99.2')]
V6 = [('v6', '2001:db8::1'), ('v6only-name', 'v6only.test'), ('v4-mapped', '::ffff:198.51.100.7')]

T = Table(SITE)

# ---- names -----------------------------------------------------------------------------------------
T.each('name', ('name',), IFNAME_BAD, 'name', short_for_text=True)
T.add('name-fallback-sit0', dict(SITE, name='sit0'), 'sit0')
T.add('name-foreign-veth', dict(SITE, name='eth0'), 'eth0')
T.each('local_interface', ('local_interface',), IFNAME_BAD, 'local_interface', base=BY_INTERFACE, short_for_text=True)
T.add('local_interface-missing', dict(BY_INTERFACE, local_interface='nonexistent0'), ('local_interface', 'nonexistent0'))
T.add('local_interface-private-only', dict(BY_INTERFACE, local_interface='lan0'), ('local_interface', 'lan0'))
T.add('local_interface-two-usable', dict(BY_INTERFACE, local_interface='wan2'), ('local_interface', 'wan2'))
T.add('local_interface-no-ipv4', dict(BY_INTERFACE, local_interface='lan1'), ('local_interface', 'lan1'))
T.add('local-and-local_interface', dict(SITE, local_interface='wan0'), ('local', 'local_interface'))
T.add('neither-local-nor-interface', drop(SITE, 'local'), ('local', 'local_interface'))

# ---- addresses ---------------------------------------------------------------------------------------
T.each('local', ('local',), TEXT_BAD, 'local', short_for_text=True)
T.each('local', ('local',), IPV4_RESERVED + MALFORMED_ADDR + NOT_GLOBAL + V6, 'local')
T.add('local-documentation-not-allowed', dict(SITE, allow_documentation_addresses=False), ('local', 'documentation'))
T.each('local-6rd', ('local',), IPV4_RESERVED + V6 + [('word', 'abc'), ('label-64', 'a' * 64 + '.x')], 'local', base=CE)
T.each('relay', ('relay',), [v for v in TEXT_BAD if v[1] not in ('', ' ')], 'relay', short_for_text=True)
T.each('relay', ('relay',), IPV4_RESERVED + MALFORMED_ADDR + NOT_GLOBAL + V6, 'relay')
T.add('relay-documentation-not-allowed',
      dict(SITE, relay='203.0.113.99', local='8.8.8.8', allow_documentation_addresses=False), ('relay', 'documentation'))
T.add('relay-equals-local', dict(SITE, relay='198.51.100.7'), ('relay', 'local'))
T.add('relay-on-6to4-relay', dict(RELAY, relay='203.0.113.99'), 'relay')
T.add('relay-on-6rd-ce', dict(CE, relay='203.0.113.99'), 'relay')
T.each('border_relays', ('border_relays', 0), [v for v in TEXT_BAD if v[1] not in ('',)], 'border', base=CE,
       short_for_text=True)
T.each('border_relays', ('border_relays', 0), IPV4_RESERVED + MALFORMED_ADDR + V6, 'border', base=CE)
T.each('border_relays-list', ('border_relays',), [
    ('duplicate', ['192.0.2.1', '192.0.2.1']), ('duplicate-by-name', ['198.51.100.9', 'one.test']),
    ('empty-list', []), ('equals-local', ['198.51.100.7']), ('nul-item', ['\0'])] + LIST_WRONG[:2], 'border', base=CE)
T.add('border_relays-on-6to4', dict(SITE, border_relays=['192.0.2.1']), 'border_relays')
T.add('border_relays-missing', drop(CE, 'border_relays'), 'border_relays')

# ---- 6rd ----------------------------------------------------------------------------------------------
SIXRD_BAD = [('v4', '192.0.2.0/24'), ('no-length', '2001:db8::'), ('zero-length', '2001:db8::/0'),
             ('len-65', '2001:db8::/65'), ('len-129', '2001:db8::/129'), ('word', 'abc'), ('empty', ''),
             ('long-100k', LONG), ('6to4-prefix', '2002::/16'), ('multicast', 'ff00::/8'),
             ('link-local', 'fe80::/10')] + CONTROL[:4] + PATTERNS[:3]
T.each('sixrd_prefix-ce', ('sixrd_prefix',), SIXRD_BAD, 'sixrd_prefix', base=CE)
T.each('sixrd_prefix-br', ('sixrd_prefix',), SIXRD_BAD, 'sixrd_prefix', base=BR)
T.add('sixrd_prefix-missing', drop(BR, 'sixrd_prefix'), 'sixrd_prefix')
T.add('sixrd_prefix-on-6to4', dict(SITE, sixrd_prefix='2001:db8::/32'), 'sixrd_prefix')
T.each('ipv4_masklen', ('ipv4_masklen',), ints([-1, 33, 2 ** 32]) + INT_WRONG, 'ipv4_masklen',
       base=dict(CE, persistent=False))
T.add('ipv4_masklen-on-6to4', dict(SITE, ipv4_masklen=8), 'ipv4_masklen')
T.add('ipv4_masklen-too-long-delegated', dict(CE, sixrd_prefix='2001:db8::/48', persistent=False, ipv4_masklen=8),
      ('ipv4_masklen', 'sixrd_prefix'))
T.add('ipv4_masklen-persistent', dict(CE, ipv4_masklen=8), ('ipv4_masklen', 'persistent'))

# ---- numbers ------------------------------------------------------------------------------------------
T.each('mtu', ('mtu',), ints([0, 67, 1279, 65536, -1, 2 ** 31]) + INT_WRONG, 'mtu')
T.each('ttl', ('ttl',), ints([-1, 256, 2 ** 32]) + INT_WRONG, 'ttl')
T.each('route_metric', ('route_metric',), ints([-1, -1024, 2 ** 32, 2 ** 64]) + INT_WRONG, 'route_metric')
# Each further border relay's route gets the next metric: the last must still fit 32 bits.
T.each('route_metric-ce', ('route_metric',), ints([-1, 2 ** 32 - 1]), 'route_metric',
       base=dict(CE, border_relays=['192.0.2.1', '192.0.2.2']))

# ---- choices, booleans, rules --------------------------------------------------------------------------
CHOICE_BAD = [('upper', 'X'), ('empty', ''), ('nul', '\0'), ('long-100k', LONG), ('list', ['a'])]
T.each('role', ('role',), [('upper-role', '6TO4-SITE'), ('typo', '6to4_site'), ('space', ' 6to4-site')] + CHOICE_BAD, 'role')
T.add('role-missing', drop(SITE, 'role'), 'role')
T.each('state', ('state',), CHOICE_BAD, 'state')
T.each('recreate', ('recreate',), CHOICE_BAD, 'recreate')
for option in ('allow_documentation_addresses', 'persistent'):
    T.each(option, (option,), BOOL_WRONG, option)

# ---- where ------------------------------------------------------------------------------------------------
T.each('netns', ('netns',), NETNS_BAD, ('netns', 'namespace'), base=dict(SITE, persistent=False), short_for_text=True)
T.add('netns-with-persistent', dict(SITE, netns='lab'), ('persistent', 'netns'))
T.each('networkd_dir', ('networkd_dir',), DIR_BAD, DIR_NAMES + ('networkd_dir',), short_for_text=True)
T.add('unknown-option', dict(SITE, type='sit'), 'type')

CASES = T.params


def test_table_is_big_enough():
    assert len(T) >= 300


@pytest.mark.parametrize('check_mode', [False, True], ids=['apply', 'check'])
@pytest.mark.parametrize('base', [SITE, RELAY, CE, BR, BY_INTERFACE], ids=['site', 'relay', 'ce', 'br', 'by-interface'])
def test_the_base_task_is_accepted(world, base, check_mode):
    """The tables' starting points are valid: every refusal below is the bad value's doing."""
    assert assert_accepted(world, 'sixtofour_relay', base, check_mode=check_mode)['changed'] is True


@pytest.mark.parametrize('args, fragments, short', CASES)
def test_sixtofour_relay_refuses(world, args, fragments, short):
    assert_refused(world, 'sixtofour_relay', args, fragments, short=short)
