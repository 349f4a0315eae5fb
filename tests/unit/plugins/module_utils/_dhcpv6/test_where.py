# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""What both modules refuse before a backend is opened (paths, unit name, namespace, interface
names), and the cross-field rules of the model (the router's own address, overlaps, newlines)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import Dhcpv6Error, desired_service
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service import check_where

ADDRS = ['2001:db8:1::1/64', 'fe80::1/64']


@pytest.mark.parametrize('option', ['config_file', 'control_socket', 'lease_file', 'pid_file'])
@pytest.mark.parametrize('value, words', [
    ('', 'empty'), ('/etc/x\0y', 'control character'), ('/etc/x\ny', 'control character'),
    ('etc/x', 'absolute'), ('@dir', 'directory'), ('@file/x', 'is not a directory'), ('/' + 'x' * 5000, '4095'),
])
def test_a_path_option_that_names_no_file_is_refused_naming_the_option(tmp_path, option, value, words):
    os.mkdir(str(tmp_path / 'dir'))
    (tmp_path / 'file').write_text('x')
    value = value.replace('@', str(tmp_path) + '/')
    with pytest.raises(Dhcpv6Error) as exc:
        check_where({option: value})
    assert option in str(exc.value) and words in str(exc.value)
    assert len(str(exc.value)) < 4096


def test_lease_file_equal_to_config_file_is_refused():
    with pytest.raises(Dhcpv6Error, match='lease_file .* is the config_file'):
        check_where({'config_file': '/etc/kea/k.conf', 'lease_file': '/etc/kea/./k.conf'})


@pytest.mark.parametrize('unit', ['dnsmasq*', 'kea?', 'kea[1]', '-a', '--now', 'kea dhcp6', '../x', '/etc/x', '',
                                  'x' * 256, 'kea;x', 'kea\n'])
def test_service_name_must_be_one_literal_unit(unit):
    with pytest.raises(Dhcpv6Error, match='service_name'):
        check_where({'service_name': unit})


@pytest.mark.parametrize('unit', ['kea-dhcp6-server', 'dnsmasq', 'dnsmasq@lan.service', 'a:b_c.d\\x2d'])
def test_service_name_accepts_unit_names(unit):
    check_where({'service_name': unit})


@pytest.mark.parametrize('option', ['interface', 'upstream_interface'])
@pytest.mark.parametrize('name', ['eth0@1', 'eth+', 'eth0\n', '', 'x' * 16, '123'])
def test_interface_names_follow_the_one_rule_and_the_message_names_the_option(option, name):
    with pytest.raises(Dhcpv6Error) as exc:
        check_where({option: name})
    assert str(exc.value).startswith(option + ' ')


@pytest.mark.parametrize('netns', ['', '..', 'a/b', 'no-such-namespace-here'])
def test_netns_must_name_an_existing_namespace(netns):
    with pytest.raises(Dhcpv6Error) as exc:
        check_where({'netns': netns})
    assert str(exc.value).startswith('netns') and 'namespace' in str(exc.value)


def test_nothing_given_is_fine():
    check_where({'interface': None, 'netns': None, 'config_file': None, 'service_name': None})


@pytest.mark.parametrize('params, words', [
    ({'subnet': '::/0'}, 'subnet'),
    ({'subnet': '2001:db8:1::1/64'}, 'subnet'),
    ({'subnet': '2001:db8:1::/64\n'}, 'control character'),
    ({'pools': ['2001:db8:1::/64']}, "router's own address"),
    ({'pools': ['2001:db8:1::1000-2001:db8:1::1fff'], 'reservations': [
        {'duid': '00:01', 'address': '2001:db8:1::1'}]}, "router's own address"),
    ({'pools': ['2001:db8:1::1000-2001:db8:1::1fff'], 'reservations': [
        {'duid': '00:01', 'address': '2001:db8:1::5'}, {'duid': '00:02', 'address': '2001:db8:1::5'}]}, 'listed twice'),
    ({'prefix_delegation': [{'prefix': '2001:db8:1::/48', 'delegated_length': 56}]}, 'overlaps the subnet'),
    ({'dns_servers': ['2001:db8::53\n']}, 'control character'),
    ({'domain_search': ['home.example\n']}, 'control character'),
    ({'ignore_user_class': ['homenet\n']}, 'ignore_user_class'),
    ({'extra_options': [{'code': 65001, 'type': 'hex', 'data': 'zz'}]}, 'extra option 65001: data'),
])
def test_the_model_refuses(params, words):
    with pytest.raises(Dhcpv6Error) as exc:
        desired_service(dict({'interface': 'lan0', 'subnet': '2001:db8:1::/64'}, **params), ADDRS)
    assert words in str(exc.value)


@pytest.mark.parametrize('servers', [['::'], ['::1']])
def test_a_relay_does_not_send_to_the_unspecified_or_loopback_address(servers):
    with pytest.raises(Dhcpv6Error, match='servers'):
        desired_service({'interface': 'lan0', 'mode': 'relay', 'upstream_interface': 'wan0', 'servers': servers}, ADDRS)
