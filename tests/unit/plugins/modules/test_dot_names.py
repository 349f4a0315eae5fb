# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""``.`` and ``..`` as an interface name get the message every other bad name gets, in every
module and option that takes one: "<option> '.' is not a valid interface name: <the rule>".

The kernel refuses both (dev_valid_name), and as a file name they are this directory and its
parent; _names.link_name_problem is the one rule, and these cases pin that each option reaches it.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._names import LINK_NAME_RULE
from ansible_collections.edgenet.router.tests.unit.plugins.modules.bad_values import set_path
from ansible_collections.edgenet.router.tests.unit.plugins.modules.driver import assert_refused
from ansible_collections.edgenet.router.tests.unit.plugins.modules import (
    test_bad_input_dhcpv6_server as dhcpv6, test_bad_input_iptun as iptun, test_bad_input_pipex_session as pipex,
    test_bad_input_sixtofour_relay as sixtofour,
)

# (module, base task, path to the option, the option's words in the message)
OPTIONS = [
    ('iptun', iptun.BASE, ('name',), 'tunnel name'),
    ('iptun', iptun.BASE, ('link',), 'underlay link'),
    ('iptun', iptun.BULK, ('tunnels', 0, 'name'), 'tunnel name'),
    ('iptun_info', iptun.INFO.base, ('name',), 'name'),
    ('sixtofour_relay', sixtofour.SITE, ('name',), 'tunnel name'),
    ('sixtofour_relay', sixtofour.BY_INTERFACE, ('local_interface',), 'local_interface'),
    ('pipex_session', pipex.BASE, ('ifname',), 'ifname'),
    ('pipex_session', pipex.BULK, ('sessions', 0, 'ifname'), 'ifname'),
    ('dhcpv6_server', dhcpv6.KEA, ('interface',), 'interface'),
    ('dhcpv6_server', dhcpv6.RELAY, ('upstream_interface',), 'upstream_interface'),
    ('dhcpv6_server_info', dhcpv6.INFO.base, ('interface',), 'interface'),
]


@pytest.mark.parametrize('name', ['.', '..'])
@pytest.mark.parametrize('module, base, path, words', OPTIONS, ids=['%s-%s' % (o[0], '.'.join(map(str, o[2]))) for o in OPTIONS])
def test_dot_names_are_not_valid_interface_names(world, module, base, path, words, name):
    result = assert_refused(world, module, set_path(base, path, name), [words])
    assert "%s %r is not a valid interface name: an interface name is %s" % (words, name, LINK_NAME_RULE) in result['msg']
