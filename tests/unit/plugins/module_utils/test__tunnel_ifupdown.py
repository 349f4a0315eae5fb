# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ifupdown persistent store of tunnels: every type round trip, drift edited by hand, foreign
files left alone, the source-line check, and the store in the engine's cycle (fake kernel)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._ifupdown import IfupdownError, parse_stanza, sourcing_problem
from ansible_collections.edgenet.router.plugins.module_utils._iptun import run_iptun
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TunnelError, desired_tunnel
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_ifupdown import IfupdownTunnels, parse_hooks, render_hooks
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import KernelTunnels
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_netlink import FakeNetlink
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__iptun import HE, fake_resolve, params
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.store_checks import assert_round_trip

TUNNELS = [
    dict(name='t4in4', type='ipip', local='192.0.2.1', remote='192.0.2.2', ttl=0, tos='inherit', pmtudisc=False,
         mtu=1400, addresses=['10.0.0.1/30'], routes=[{'dest': '10.1.0.0/24', 'via': '10.0.0.2', 'metric': 7}]),
    dict(name='t6in4', type='6in4', local='192.0.2.1', remote='192.0.2.3', ttl=64, tos=0x16,
         addresses=['2001:db8::2/64'], routes=[{'dest': '::/0', 'via': '2001:db8::1'}]),
    dict(name='t6to4', type='6to4', local='192.0.2.1', addresses=['2002:c000:201::1/16']),
    dict(name='t6rd', type='6rd', local='192.0.2.1', sixrd_prefix='2001:db8::/32', sixrd_relay_prefix='192.0.2.0/24'),
    dict(name='tv4', type='ipv4', local='192.0.2.1', remote='192.0.2.5', link='eth0', enabled=False),
    dict(name='t6in6', type='6in6', local='2001:db8:f::1', remote='2001:db8:f::2', ttl=30, encaplimit='none',
         flowlabel=0x12345, tos='inherit', routes=[{'dest': '2001:db8:1::/48'}]),
    dict(name='t4in6', type='4in6', local='2001:db8:f::1', remote='2001:db8:f::3', encaplimit=5, tos=0x20),
    dict(name='tv6', type='ipv6', local='2001:db8:f::1', remote='2001:db8:f::4'),
]


def canonical(task):
    return desired_tunnel(params(**task), fake_resolve)


@pytest.mark.parametrize('task', TUNNELS, ids=[t['name'] for t in TUNNELS])
def test_every_type_reads_back_as_written(tmp_path, task):
    obj = canonical(task)
    assert_round_trip(IfupdownTunnels(str(tmp_path / 'interfaces.d')), obj)
    text = (tmp_path / 'interfaces.d' / ('edgenet-' + obj['name'])).read_text()
    assert text.startswith('# Managed by edgenet.router')
    assert 'auto %s\niface %s inet manual\n' % (obj['name'], obj['name']) in text
    assert os.stat(str(tmp_path / 'interfaces.d' / ('edgenet-' + obj['name']))).st_mode & 0o777 == 0o644


def test_tos_and_flowlabel_are_written_in_hexadecimal_as_iproute2_reads_them():
    words = [' '.join(argv) for dummy, argv in render_hooks(canonical(TUNNELS[5]))]
    assert 'flowlabel 0x12345' in words[0] and 'tclass inherit' in words[0]
    assert 'tos 0x16' in ' '.join(render_hooks(canonical(TUNNELS[1]))[0][1])


def test_a_value_edited_by_hand_is_drift_of_this_store():
    obj = canonical(TUNNELS[1])
    hooks = render_hooks(obj)
    argv = hooks[0][1]
    hooks[0] = ('pre-up', argv[:argv.index('ttl') + 1] + ['5'] + argv[argv.index('ttl') + 2:])
    assert parse_hooks('t6in4', True, hooks)['ttl'] == 5
    assert parse_hooks('t6in4', False, hooks) is None   # without auto, boot brings nothing


def test_a_line_the_shell_cannot_split_is_an_error():
    with pytest.raises(IfupdownError, match='line 3'):
        parse_stanza('x', 'auto x\niface x inet manual\n    up ip addr add "10.0.0.1/30 dev x\n')


def test_a_name_with_a_dot_is_refused():
    with pytest.raises(TunnelError, match='source-directory skips file names with a dot'):
        IfupdownTunnels.check_persistable(canonical(dict(TUNNELS[0], name='he.0')))


def test_a_foreign_file_is_neither_read_nor_overwritten(tmp_path):
    directory = tmp_path / 'interfaces.d'
    directory.mkdir()
    (directory / 'edgenet-t4in4').write_text('auto t4in4\niface t4in4 inet static\n')
    store = IfupdownTunnels(str(directory))
    assert store.read() == {}
    with pytest.raises(IfupdownError, match='not ours'):
        store.create('t4in4', canonical(TUNNELS[0]))
    assert (directory / 'edgenet-t4in4').read_text() == 'auto t4in4\niface t4in4 inet static\n'


@pytest.mark.parametrize('line, sourced', [
    ('source /etc/network/interfaces.d/*', True),
    ('source-directory /etc/network/interfaces.d', True),
    ('source /etc/network/interfaces.d/edgenet-*', True),
    ('source /etc/network/interfaces.d/*.cfg', False),
    ('# source /etc/network/interfaces.d/*', False),
])
def test_the_interfaces_file_must_source_the_directory(tmp_path, line, sourced):
    etc = tmp_path / 'etc' / 'network'
    etc.mkdir(parents=True)
    (etc / 'interfaces').write_text('auto lo\niface lo inet loopback\n%s\n' % line.replace('/etc/network', str(etc)))
    problem = sourcing_problem(str(etc / 'interfaces.d'))
    assert (problem is None) == sourced
    if not sourced:
        assert 'does not source' in problem and '"source %s/*"' % (etc / 'interfaces.d') in problem


def test_a_missing_interfaces_file_is_a_problem(tmp_path):
    assert 'cannot be read' in sourcing_problem(str(tmp_path / 'interfaces.d'))


def test_the_store_in_the_cycle_check_apply_idempotent_restore(tmp_path):
    nl = FakeNetlink()
    directory = str(tmp_path / 'interfaces.d')
    task = params(**HE)

    def run(check_mode=False, **changes):
        p = dict(task, **changes)
        nl.read_only = check_mode
        try:
            return run_iptun(p, KernelTunnels(nl), IfupdownTunnels(directory), check_mode=check_mode, resolve=fake_resolve)
        finally:
            nl.read_only = False
    check = run(check_mode=True)
    assert check['changed'] and not os.path.exists(directory)
    assert check['commands'][0] == 'write %s/edgenet-he-ipv6' % directory
    applied = run()
    assert [c['store'] for c in applied['changes']] == ['persistent', 'runtime']
    assert run()['changed'] is False
    path = os.path.join(directory, 'edgenet-he-ipv6')
    before = open(path, 'rb').read()
    snapshot = IfupdownTunnels(directory).snapshot('he-ipv6')
    run(ttl=10)
    assert open(path, 'rb').read() != before
    record = snapshot.record()
    IfupdownTunnels(directory).restore_record(record)
    assert open(path, 'rb').read() == before
    with pytest.raises(IfupdownError, match='Refusing to restore'):
        IfupdownTunnels(str(tmp_path / 'elsewhere')).restore_record(record)
    removed = run(state='absent')
    assert removed['changed'] and not os.path.exists(path)
    assert engine.PERSISTENT in [c['store'] for c in removed['changes']]


def test_a_managed_file_the_shell_cannot_split_is_a_clear_error_naming_it(tmp_path):
    directory = tmp_path / 'interfaces.d'
    directory.mkdir()
    (directory / 'edgenet-t1').write_text('# Managed by edgenet.router: edits here are reported as drift and overwritten.\n'
                                          'auto t1\niface t1 inet manual\n    up ip addr add "10.0.0.1/30 dev t1\n')
    with pytest.raises(IfupdownError, match='Cannot read the ifupdown file of tunnel t1 in .*line 4'):
        IfupdownTunnels(str(directory)).read()


@pytest.mark.parametrize('directory', ['', 'relative/interfaces.d', '/etc/network/a\x00b', '/etc/network/a\nb', '/' + 'x' * 5000])
def test_a_directory_that_cannot_be_one_is_refused_before_the_interfaces_file_is_read(directory):
    with pytest.raises(IfupdownError, match='ifupdown directory .* is refused'):
        IfupdownTunnels.host_problem(directory)


# --- the GRE family -------------------------------------------------------------------------------
GRE4 = dict(name='g1', type='gre', local='192.0.2.1', remote='192.0.2.2')
GRE6 = dict(name='g6', type='ip6gre', local='2001:db8::1', remote='2001:db8::2')
GRE_TUNNELS = [
    dict(GRE4),
    dict(GRE4, name='gt1', type='gretap', local=None, key=0, csum=True, seq=True, ttl=64, tos='inherit', mtu=1400,
         addresses=['10.9.0.1/30'], routes=[{'dest': '10.9.1.0/24', 'via': '10.9.0.2'}]),
    dict(GRE4, name='g2', ikey='0.0.0.7', okey=4294967295, icsum=True, oseq=True, pmtudisc=False, enabled=False, link='eth0'),
    dict(GRE6),
    dict(GRE6, name='gt6', type='ip6gretap', key=5, tos='inherit', encaplimit='none', flowlabel=0x12345, ttl=10,
         ocsum=True, iseq=True, addresses=['2001:db8:9::1/64']),
    dict(GRE6, name='g7', okey=9, tos=0x28, encaplimit=0),
]


@pytest.mark.parametrize('task', GRE_TUNNELS, ids=[t['name'] for t in GRE_TUNNELS])
def test_every_gre_type_reads_back_as_written(tmp_path, task):
    obj = canonical(task)
    IfupdownTunnels.check_persistable(obj)   # ifupdown's ip link add says every GRE setting
    assert_round_trip(IfupdownTunnels(str(tmp_path / 'interfaces.d')), obj)


def test_the_gre_words_of_the_boot_line():
    words = render_hooks(canonical(GRE_TUNNELS[2]))[0][1]
    assert words[:6] == ['ip', 'link', 'add', 'g2', 'type', 'gre']
    assert words[-10:] == ['ikey', '7', 'okey', '4294967295', 'icsum', 'noiseq', 'noocsum', 'oseq', 'dev', 'eth0']
    assert ' '.join(render_hooks(canonical(GRE_TUNNELS[3]))[0][1]).endswith(' noikey nookey noicsum noiseq noocsum nooseq')


def _gre_line(obj, old, new):
    hooks = render_hooks(obj)
    line = ' '.join(hooks[0][1])
    assert old in line
    return [('pre-up', line.replace(old, new).split())] + hooks[1:]


@pytest.mark.parametrize('old, new, wanted', [
    ('ikey 42 okey 42', 'ikey 43 okey 42', {'ikey': 43, 'okey': 42}),
    ('ikey 42 okey 42', 'key 0.0.0.44', {'ikey': 44, 'okey': 44}),              # iproute2's dotted form
    ('ikey 42 okey 42', 'key 0x2a', {'ikey': 42, 'okey': 42}),
    ('ikey 42 okey 42', 'nokey', {'ikey': 'none', 'okey': 'none'}),
    ('ikey 42 okey 42', 'ikey 0 nookey', {'ikey': 0, 'okey': 'none'}),
    ('ikey 42 okey 42', '', {'ikey': 'none', 'okey': 'none'}),                  # no key word: no key
    ('ikey 42 okey 42', 'ikey forty okey 42', {'ikey': 'forty'}),              # shown as written
    ('noicsum noiseq noocsum nooseq', 'csum seq', {'icsum': True, 'ocsum': True, 'iseq': True, 'oseq': True}),
    ('noicsum noiseq noocsum nooseq', 'iseq', {'icsum': False, 'ocsum': False, 'iseq': True, 'oseq': False}),
    ('noicsum noiseq noocsum nooseq', 'csum noicsum', {'icsum': False, 'ocsum': True}),
    ('noicsum noiseq noocsum nooseq', 'seq noseq', {'iseq': False, 'oseq': False}),
    ('noicsum noiseq noocsum nooseq', '', {'icsum': False, 'ocsum': False, 'iseq': False, 'oseq': False}),
    ('noicsum noiseq noocsum nooseq', 'noicsum noiseq noocsum nooseq key', {'ikey': 42}),   # a key word without a value
])
def test_a_gre_word_edited_by_hand_is_drift_read_as_iproute2_reads_it(old, new, wanted):
    obj = canonical(dict(GRE4, key=42))
    back = parse_hooks('g1', True, _gre_line(obj, old, new))
    assert dict((field, back[field]) for field in wanted) == wanted
    assert back['type'] == 'gre' and back['ttl'] == 0 and back['pmtudisc'] is True


def test_other_kinds_read_no_gre_fields_even_with_gre_words():
    obj = canonical(TUNNELS[0])
    hooks = render_hooks(obj)
    hooks[0] = ('pre-up', hooks[0][1] + ['ikey', '5', 'csum'])
    back = parse_hooks('t4in4', True, hooks)
    assert [back[f] for f in ('ikey', 'okey', 'icsum', 'ocsum', 'iseq', 'oseq')] == [None] * 6


def test_a_gre_tunnel_in_the_cycle_check_apply_idempotent_drift_repair(tmp_path):
    nl = FakeNetlink()
    directory = str(tmp_path / 'interfaces.d')
    task = params(**dict(GRE4, key=77, csum=True, addresses=['10.9.0.1/30']))

    def run(check_mode=False, **changes):
        nl.read_only = check_mode
        try:
            return run_iptun(dict(task, **changes), KernelTunnels(nl), IfupdownTunnels(directory), check_mode=check_mode,
                             resolve=fake_resolve)
        finally:
            nl.read_only = False
    assert run(check_mode=True)['changed'] and not os.path.exists(directory)
    applied = run()
    assert [c['store'] for c in applied['changes']] == ['persistent', 'runtime']
    assert run()['changed'] is False
    path = os.path.join(directory, 'edgenet-g1')
    with open(path) as handle:
        text = handle.read()
    assert ' ikey 77 okey 77 icsum noiseq ocsum nooseq\n' in text
    with open(path, 'w') as handle:
        handle.write(text.replace(' ocsum ', ' noocsum '))
    drift = run(check_mode=True)
    assert [(c['store'], list(c['fields'])) for c in drift['changes']] == [('persistent', ['ocsum'])]
    assert run()['changed'] is True and run(check_mode=True)['changed'] is False
