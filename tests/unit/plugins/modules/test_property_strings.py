# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Arbitrary text in every string option of every module: a clear fail_json or a success, never
a traceback, and in check mode never a write.

The string options are read from the argument spec each module's main() really builds (nested
suboptions of lists of dicts included), so a new option is covered without touching this file.
Each option gets its share of about 200 examples per module, drawn from arbitrary text (control
characters and NUL included), undecodable bytes (surrogateescape) and near-misses of a valid value.
Path options get the text under the test's temp dir, so a run can never write elsewhere.
"""

from __future__ import annotations

import copy
import tempfile

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from ansible_collections.edgenet.router.tests.unit.plugins.modules.driver import (
    World, capture_spec, materialise, run_module, safe,
)

EXAMPLES_PER_MODULE = 200

ROUTE = {'dest': '198.51.100.0/24', 'via': '10.0.0.2'}
TUNNEL = {'name': 't-east', 'type': 'ipip', 'local': '192.0.2.1', 'remote': '192.0.2.2',
          'sixrd_prefix': None, 'addresses': ['10.0.0.1/30'], 'routes': [dict(ROUTE)]}
SESSION = {'ifname': 'l2tpeth-a', 'tunnel_id': 100, 'peer_tunnel_id': 200, 'session_id': 1000,
           'peer_session_id': 2000, 'local': '192.0.2.1', 'remote': '192.0.2.2', 'addresses': ['10.42.0.1/30'],
           'description': 'to the west', 'cookie': '1a2b3c4d'}
KEA_PATHS = {'config_file': '@dhcp/kea-dhcp6.conf', 'control_socket': '@dhcp/kea6-ctrl-socket',
             'lease_file': '@dhcp/kea-leases6.csv', 'pid_file': '@dhcp/dnsmasq.pid'}

# Per module: the templates a drawn text goes into, the first whose top-level keys hold the option's.
TEMPLATES = {
    'iptun': [
        {'tunnels': [dict(TUNNEL)], 'networkd_dir': '@networkd'},
        dict(TUNNEL, networkd_dir='@networkd', link='eth0', netns='lab', persistent=False),
    ],
    'iptun_info': [{'name': 't-east', 'netns': 'lab', 'networkd_dir': '@networkd'}],
    'sixtofour_relay': [
        {'name': 'tun6to4', 'role': '6to4-site', 'local': '198.51.100.7', 'allow_documentation_addresses': True,
         'relay': '203.0.113.99', 'networkd_dir': '@networkd', 'netns': 'lab', 'persistent': False},
        {'name': 'tun6rd', 'role': '6rd-ce', 'local_interface': 'wan0', 'sixrd_prefix': '2001:db8::/32',
         'border_relays': ['192.0.2.1'], 'networkd_dir': '@networkd'},
    ],
    'pipex_session': [
        {'sessions': [dict(SESSION)], 'state_dir': '@pipex'},
        dict(SESSION, state_dir='@pipex', netns='lab', persistent=False),
    ],
    'pipex_session_info': [{'ifname': 'l2tpeth-a', 'netns': 'lab', 'state_dir': '@pipex'}],
    'dhcpv6_server': [
        dict(KEA_PATHS, interface='lan0', pools=['2001:db8:1::1000-2001:db8:1::1fff'],
             prefix_delegation=[{'prefix': '2001:db8:100::/48', 'delegated_length': 56}],
             reservations=[{'duid': '00:03:00:01:02:00:00:00:00:01', 'address': '2001:db8:1::5',
                            'prefix': '2001:db8:200::/56'}],
             dns_servers=['2001:db8::53'], domain_search=['home.example'], ignore_user_class=['homenet'],
             extra_options=[{'code': 65001, 'type': 'string', 'data': 'hello'}], subnet='2001:db8:1::/64',
             address_mode='stateful', service_name='kea-dhcp6-server', netns='lab', mode='server', state='present',
             backend='kea', service_manager='systemd'),
        dict(KEA_PATHS, interface='lan0', backend='dnsmasq', mode='relay', upstream_interface='wan0',
             servers=['ff02::1:2']),
    ],
    'dhcpv6_server_info': [dict(KEA_PATHS, interface='lan0', netns='lab', service_name='kea-dhcp6-server')],
}

# Where a path option's text goes: under this placeholder's directory.
PATH_HOME = {'networkd_dir': '@networkd/', 'state_dir': '@pipex/'}


def string_paths(spec, prefix=()):
    """Paths of every str/path option: ``('name',)``, ``('addresses', 0)``, ``('tunnels', 0, 'local')``."""
    out = []
    for name, option in sorted(spec.items()):
        kind = option.get('type', 'str')
        if kind in ('str', 'path'):
            out.append((prefix + (name,), kind))
        elif kind == 'list' and option.get('elements') in ('str', 'path'):
            out.append((prefix + (name, 0), option['elements']))
        elif kind == 'list' and option.get('elements') == 'dict' and option.get('options'):
            out.extend(string_paths(option['options'], prefix + (name, 0)))
        elif kind == 'dict' and option.get('options'):
            out.extend(string_paths(option['options'], prefix + (name,)))
    return out


def _template(module, path):
    for template in TEMPLATES[module]:
        if path[0] in template:
            return template
    return TEMPLATES[module][-1]


def _put(args, path, value):
    out = copy.deepcopy(args)
    node = out
    for i, key in enumerate(path[:-1]):
        if isinstance(node, dict) and node.get(key) is None:
            node[key] = [{}] if path[i + 1] == 0 and i + 2 < len(path) else []
        if isinstance(node, list) and len(node) <= key:
            node.append({} if i + 2 < len(path) else None)
        node = node[key]
    if isinstance(node, list) and len(node) <= path[-1]:
        node.append(value)
    else:
        node[path[-1]] = value
    return out


def _near_miss(valid):
    """A valid value with something wrong added, removed or swapped."""
    noise = st.sampled_from(['', ' ', '\n', '\0', '\t', '*', '?', '!', '%d', '..', '/', ':', ',', ';', '"', "'",
                             '\\', '\udcff', '\u00e9', '\u202e', 'x' * 300, '-', '#'])
    text = valid if isinstance(valid, str) else ''
    return st.one_of(
        st.builds(lambda n: text + n, noise),
        st.builds(lambda n: n + text, noise),
        st.builds(lambda i, n: text[:i] + n + text[i + 1:], st.integers(0, max(len(text) - 1, 0)), noise),
    )


def texts(valid):
    return st.one_of(
        st.text(max_size=40),
        st.binary(max_size=40).map(lambda data: data.decode('utf-8', 'surrogateescape')),
        _near_miss(valid),
    )


def _cases():
    out = []
    for module in sorted(TEMPLATES):
        paths = string_paths(capture_spec(module)['argument_spec'])
        share = max(4, -(-EXAMPLES_PER_MODULE // len(paths)))
        for path, kind in paths:
            out.append(pytest.param(module, path, kind, share, id='%s-%s' % (module, '.'.join(str(p) for p in path))))
    return out


CASES = _cases()


def _valid(module, path):
    node = _template(module, path)
    try:
        for key in path:
            node = node[key]
    except (KeyError, IndexError, TypeError):
        return ''
    return node if isinstance(node, str) else ''


def _check_outcome(outcome, result):
    if outcome == 'fail':
        msg = result.get('msg')
        assert isinstance(msg, str) and msg.strip(), 'fail_json without a message'
        assert 'HARNESS:' not in msg, safe(msg)
        assert 'Traceback (most recent call last)' not in msg, safe(msg)


def test_every_module_has_string_options():
    modules = set(case.values[0] for case in CASES)
    assert modules == set(TEMPLATES)
    assert len(CASES) >= 50


@pytest.mark.parametrize('module, path, kind, share', CASES)
def test_any_text_fails_cleanly_or_succeeds(module, path, kind, share):
    valid = _valid(module, path)

    @settings(max_examples=share, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(texts(valid))
    def run(text):
        if kind == 'path':
            # Inside the temp dir whatever the text: never a way out.
            assume('..' not in text and '$' not in text)
            text = PATH_HOME.get(path[-1], '@dhcp/') + text
        args = _put(_template(module, path), path, text)
        with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
            world = World(mp, tmp)
            args = materialise(args, world.settings)
            before = world.tree()
            outcome, result = run_module(module, args, check_mode=True)
            _check_outcome(outcome, result)
            assert world.writes() == [], 'check mode wrote: %s' % (world.writes()[:5],)
            assert world.tree() == before, 'check mode changed files'
            outcome, result = run_module(module, args, check_mode=False)
            _check_outcome(outcome, result)
    run()  # pylint: disable=no-value-for-parameter
