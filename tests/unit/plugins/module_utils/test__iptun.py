# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""iptun's behaviour above the seams: a fake netlink and real networkd files in a temp dir."""

from __future__ import annotations

import copy
import os
import socket

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._iptun import argument_spec, info, run_iptun
from ansible_collections.edgenet.router.plugins.module_utils._resolve import ResolveError, resolve_endpoint
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TunnelError
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import MANAGED_ALIAS, KernelTunnels
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_networkd import NetworkdTunnels
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.fake_netlink import FakeNetlink

SPEC_DEFAULTS = dict((name, spec.get('default')) for name, spec in argument_spec().items())

HOSTS = {
    'one.example': [('192.0.2.9',)],
    'two.example': [('192.0.2.10',), ('192.0.2.11',)],
    'six.example': [('2001:db8::9',)],
}


def fake_getaddrinfo(host, port, family, socktype):
    answers = [a for a in HOSTS.get(host, []) if (':' in a[0]) == (family == socket.AF_INET6)]
    if not answers:
        raise socket.gaierror(-2, 'Name or service not known')
    return [(family, socktype, 17, '', (a[0], 0)) for a in answers]


def fake_resolve(text, family, what):
    return resolve_endpoint(text, family, what, getaddrinfo=fake_getaddrinfo)


def params(**kwargs):
    out = dict(SPEC_DEFAULTS)
    out.update(kwargs)
    return out


HE = dict(name='he-ipv6', type='6in4', local='198.51.100.7', remote='203.0.113.1', ttl=64,
          addresses=['2001:db8:1f0a::2/64'], routes=[{'dest': '::/0', 'via': '2001:db8:1f0a::1', 'metric': None}])


class Router(object):
    """One fake router: kernel state plus a networkd directory."""

    def __init__(self, tmp_path):
        self.nl = FakeNetlink()
        self.dir = str(tmp_path / 'network')

    def run(self, check_mode=False, **kwargs):
        p = params(networkd_dir=self.dir, **kwargs)
        self.nl.read_only = check_mode
        try:
            files = NetworkdTunnels(self.dir) if p['persistent'] else None
            return run_iptun(p, KernelTunnels(self.nl), files, check_mode=check_mode, resolve=fake_resolve)
        finally:
            self.nl.read_only = False

    def files(self):
        names = os.listdir(self.dir) if os.path.isdir(self.dir) else []
        return sorted(n for n in names if n.endswith(('.netdev', '.network')))

    def link(self, name):
        return self.nl.links_by_name.get(name)


@pytest.fixture
def router(tmp_path):
    return Router(tmp_path)


def test_check_then_apply_then_idempotent_then_check(router):
    check = router.run(check_mode=True, **HE)
    assert check['changed'] is True
    assert router.link('he-ipv6') is None and router.files() == []
    real = router.run(**HE)
    assert real['changed'] is True
    assert real['tunnel']['type'] == 'sit' and real['tunnel']['ttl'] == 64
    assert real['commands'] == check['commands']
    assert 'ip link add he-ipv6 type sit mode ip6ip local 198.51.100.7 remote 203.0.113.1 ttl 64 tos 0 pmtudisc' \
        in real['commands']
    assert router.link('he-ipv6')['alias'] == MANAGED_ALIAS and router.link('he-ipv6')['up'] is True
    assert router.files() == ['60-edgenet-he-ipv6.netdev', '60-edgenet-he-ipv6.network']
    again = router.run(**HE)
    assert again['changed'] is False and again['commands'] == []
    assert router.run(check_mode=True, **HE)['changed'] is False


def test_modify_in_place_keeps_the_link(router):
    router.run(**HE)
    index = router.link('he-ipv6')['index']
    res = router.run(**dict(HE, ttl=10))
    assert res['changed'] and router.link('he-ipv6')['index'] == index
    assert router.link('he-ipv6')['data']['ttl'] == 10
    # the complete set is sent: the kernel zeroes what a change leaves out
    assert router.link('he-ipv6')['data']['pmtudisc'] == 1
    assert [c['action'] for c in res['changes']] == ['modify', 'modify']


def test_type_change_recreates_or_fails_with_recreate_never(router):
    router.run(**dict(HE, type='ipip', addresses=None, routes=None))
    index = router.link('he-ipv6')['index']
    with pytest.raises(engine.PlanError, match='recreate=never'):
        router.run(recreate='never', **HE)
    assert router.link('he-ipv6')['index'] == index
    res = router.run(**HE)
    assert [c['action'] for c in res['changes']] == ['recreate', 'recreate']
    assert router.link('he-ipv6')['index'] != index


def test_drift_is_reported_per_store_with_the_field(router):
    router.run(**HE)
    router.link('he-ipv6')['data']['ttl'] = 10          # as `ip link set he-ipv6 type sit ttl 10`
    res = router.run(check_mode=True, **HE)
    assert res['changes'] == [{'store': 'runtime', 'object': 'he-ipv6', 'action': 'modify',
                               'fields': {'ttl': {'before': 10, 'after': 64}}}]
    path = os.path.join(router.dir, '60-edgenet-he-ipv6.netdev')
    with open(path) as f:
        text = f.read()
    with open(path, 'w') as f:
        f.write(text.replace('TTL=64', 'TTL=5'))
    res = router.run(check_mode=True, **HE)
    assert sorted((c['store'], tuple(c['fields'])) for c in res['changes']) == [('persistent', ('ttl',)), ('runtime', ('ttl',))]
    router.run(**HE)
    assert router.run(check_mode=True, **HE)['changed'] is False


def test_deleted_link_is_recreated(router):
    router.run(**HE)
    router.nl.del_link(router.link('he-ipv6')['index'], 'he-ipv6')
    res = router.run(check_mode=True, **HE)
    assert [(c['store'], c['action']) for c in res['changes']] == [('runtime', 'create')]


def test_runtime_failure_restores_the_files(router):
    router.nl.missing_kinds.add('sit')
    with pytest.raises(engine.ApplyError, match='no sit support.*Rolled back: persistent he-ipv6'):
        router.run(**HE)
    assert router.files() == []


def test_absent_removes_kernel_and_files(router):
    router.run(**HE)
    res = router.run(name='he-ipv6', state='absent')
    assert res['changed'] and res['tunnel'] is None
    assert router.link('he-ipv6') is None and router.files() == []
    assert res['commands'][0] == 'ip link del he-ipv6'
    assert router.run(name='he-ipv6', state='absent')['changed'] is False


def test_bulk_purge_removes_only_managed_tunnels(router):
    router.run(tunnels=[dict(HE), dict(name='t2', type='ipip', local='192.0.2.1', remote='192.0.2.2')])
    router.nl.add_plain('foreign0', 'ipip')                # made by someone else: no alias, no file
    res = router.run(tunnels=[dict(name='t2', type='ipip', local='192.0.2.1', remote='192.0.2.2')], purge=True)
    assert res['changed']
    assert router.link('he-ipv6') is None and router.link('t2') and router.link('foreign0')
    assert sorted(res['tunnels']) == ['he-ipv6', 't2'] and res['tunnels']['he-ipv6'] is None


def test_persistent_false_touches_no_file(router):
    res = router.run(persistent=False, **HE)
    assert res['changed'] and router.files() == []
    assert all(c['store'] == 'runtime' for c in res['changes'])


def test_secretless_diff_shape(router):
    res = router.run(check_mode=True, **HE)
    assert set(res['diff']['before']) == {'runtime', 'persistent'}
    assert res['diff']['after']['runtime']['ttl'] == 64


def test_info_reports_drift_between_stores(router):
    router.run(**HE)
    router.link('he-ipv6')['data']['ttl'] = 10
    router.nl.add_plain('foreign0', 'ipip')
    tunnels = dict((t['name'], t) for t in info(KernelTunnels(router.nl), NetworkdTunnels(router.dir)))
    assert tunnels['he-ipv6']['differs'] == ['ttl'] and tunnels['he-ipv6']['managed']
    assert tunnels['foreign0']['missing'] == ['persistent'] and not tunnels['foreign0']['managed']


# --- bad input: each case fails with its message and changes nothing ---------------------------
V4 = dict(type='ipip', local='192.0.2.1', remote='192.0.2.2')
V6 = dict(type='ip6ip6', local='2001:db8::1', remote='2001:db8::2')
BAD = [
    ('name too long', dict(V4, name='a' * 16), 'tunnel name .* is not a valid interface name: an interface name is 1-15'),
    ('name with slash', dict(V4, name='a/b'), 'tunnel name .* is not a valid interface name'),
    ('name with colon', dict(V4, name='a:b'), 'tunnel name .* is not a valid interface name'),
    ('name with space', dict(V4, name='a b'), 'tunnel name .* is not a valid interface name'),
    ('empty name', dict(V4, name=''), 'tunnel name .* is not a valid interface name'),
    ('fallback tunl0', dict(V4, name='tunl0'), 'fallback tunnel device'),
    ('fallback sit0', dict(V4, name='sit0', type='sit'), 'fallback tunnel device'),
    ('fallback ip6tnl0', dict(V6, name='ip6tnl0'), 'fallback tunnel device'),
    ('no type', dict(name='t1', local='192.0.2.1', remote='192.0.2.2'), 'type is required'),
    ('unknown type', dict(V4, name='t1', type='vxlan'), 'unknown tunnel type'),
    ('ipv6 local on ipip', dict(V4, name='t1', local='2001:db8::1'), 'is an IPv6 address, but this tunnel type carries'),
    ('ipv4 remote on ip6ip6', dict(V6, name='t1', remote='192.0.2.2'), 'is an IPv4 address'),
    ('malformed address', dict(V4, name='t1', remote='192.0.2.300'),
     "remote '192.0.2.300' is not an IPv4 address .four numbers 0-255 separated by dots., and not a host name either"),
    ('malformed v6', dict(V6, name='t1', remote='2001:db8:::2'), 'is not an IP address'),
    ('multicast remote', dict(V4, name='t1', remote='224.0.0.1'), 'multicast address'),
    ('loopback remote', dict(V4, name='t1', remote='127.0.0.1'), 'loopback address'),
    ('unspecified local', dict(V6, name='t1', local='::'), 'unspecified address'),
    ('broadcast remote', dict(V4, name='t1', remote='255.255.255.255'), 'broadcast address'),
    ('class E remote', dict(V4, name='t1', remote='240.0.0.1'), r'reserved (240.0.0.0/4) address'),
    ('unspecified v4 remote', dict(V4, name='t1', remote='0.0.0.0'), 'unspecified address'),
    ('multicast v6 remote', dict(V6, name='t1', remote='ff02::1'), 'multicast address'),
    ('loopback v6 remote', dict(V6, name='t1', remote='::1'), 'loopback address'),
    ('leading zero in v4', dict(V4, name='t1', remote='192.0.2.01'), "'192.0.2.01' is not an IPv4 address"),
    ('name resolving to two', dict(V4, name='t1', remote='two.example'), 'resolves to 2: 192.0.2.10, 192.0.2.11'),
    ('name not resolving', dict(V4, name='t1', remote='none.example'), 'is not an IPv4 address, and does not resolve as a name to an IPv4 address'),
    ('name without v6', dict(V6, name='t1', remote='one.example'), 'is not an IPv6 address, and does not resolve as a name to an IPv6 address'),
    ('6to4 with remote', dict(name='t1', type='6to4', local='192.0.2.1', remote='192.0.2.2'), 'takes no remote'),
    ('6to4 without local', dict(name='t1', type='6to4'), 'needs local'),
    ('sit without remote', dict(name='t1', type='sit', local='192.0.2.1'), 'needs remote'),
    ('ttl with nopmtudisc', dict(V4, name='t1', ttl=64, pmtudisc=False), 'needs pmtudisc'),
    ('ttl too big', dict(V4, name='t1', ttl=256), 'ttl must be between 0 and 255'),
    ('flowlabel too big', dict(V6, name='t1', flowlabel=0x100000), 'flowlabel must be between 0 and 1048575'),
    ('flowlabel on ipip', dict(V4, name='t1', flowlabel=1), 'flowlabel does not apply to type ipip'),
    ('encaplimit on sit', dict(V4, name='t1', type='sit', encaplimit=4), 'encaplimit does not apply'),
    ('pmtudisc on ip6tnl', dict(V6, name='t1', pmtudisc=True), 'pmtudisc does not apply'),
    ('bad encaplimit', dict(V6, name='t1', encaplimit='lots'), 'encaplimit must be a number'),
    ('bad tos', dict(V4, name='t1', tos='fast'), 'tos must be a number'),
    ('tos too big', dict(V4, name='t1', tos=300), 'tos must be a number 0-255'),
    ('address without prefix', dict(V4, name='t1', addresses=['10.0.0.1']), 'needs a prefix length'),
    ('bad address', dict(V4, name='t1', addresses=['10.0.0.300/24']), 'is not an address with a prefix'),
    ('route without dest', dict(V4, name='t1', routes=[{'via': '10.0.0.1'}]), 'every route needs one'),
    ('route family mix', dict(V4, name='t1', routes=[{'dest': '::/0', 'via': '10.0.0.1'}]), 'other address family'),
    ('persistent with netns', dict(V4, name='t1', netns='ns1'), 'not possible with netns'),
    ('persistent with link', dict(V4, name='t1', link='eth0'), 'cannot be made persistent'),
    ('persistent ipv4 mode any', dict(V4, name='t1', type='ipv4'), 'has no systemd-networkd equivalent'),
    ('link is a non-tunnel', dict(V4, name='eth0'), 'not IP tunnels, which this module never touches'),
]


@pytest.mark.parametrize('task, message', [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_fails_clearly_and_changes_nothing(router, task, message):
    router.nl.read_only = True
    with pytest.raises(TunnelError, match=message.replace('(', r'\(').replace(')', r'\)')):
        run_iptun(params(networkd_dir=router.dir, **task), KernelTunnels(router.nl), NetworkdTunnels(router.dir),
                  resolve=fake_resolve)
    assert router.nl.writes == [] and router.files() == []


def test_several_errors_are_reported_together(router):
    with pytest.raises(TunnelError) as err:
        router.run(tunnels=[dict(V4, name='a/b'), dict(V4, name='t2', ttl=999)])
    assert 'a/b' in str(err.value) and 'ttl must be' in str(err.value)


def test_netns_with_persistent_is_refused_after_the_fields_are_checked(router):
    # one run names the bad field and the netns rule, so a user fixes both at once
    with pytest.raises(TunnelError) as err:
        router.run(netns='ns1', tunnels=[dict(V4, name='t1', ttl=999)])
    assert 'ttl must be' in str(err.value) and 'persistent: true is not possible with netns' in str(err.value)
    assert router.nl.writes == [] and router.files() == []


def test_netns_with_persistent_does_not_add_what_networkd_could_not_express(router):
    # link= cannot be made persistent, but with netns the only fix is persistent: false, which
    # makes that moot: the message says the fix, not a second rule that no longer applies
    with pytest.raises(TunnelError) as err:
        router.run(netns='ns1', tunnels=[dict(V4, name='t1', link='eth0')])
    assert 'cannot be made persistent' not in str(err.value)
    assert str(err.value).endswith('set persistent: false (it defaults to true)')


def test_a_bad_endpoint_named_twice_is_reported_for_each_tunnel(router):
    # desired_set answers each endpoint text once per task: a failure must not be remembered
    # as an answer, and each message must name its own tunnel.
    with pytest.raises(TunnelError) as err:
        router.run(tunnels=[dict(V4, name='t1', remote='224.0.0.1'), dict(V4, name='t2', remote='224.0.0.1')])
    assert 'tunnel t1 remote' in str(err.value) and 'tunnel t2 remote' in str(err.value)


@pytest.mark.parametrize('text, family, canonical', [
    ('192.0.2.1', 4, '192.0.2.1'),
    ('2001:DB8:0::0002', 6, '2001:db8::2'),
    ('one.example', 4, '192.0.2.9'),
])
def test_endpoints_come_out_in_one_form(text, family, canonical):
    assert fake_resolve(text, family, 'remote') == canonical


class CountingNetlink(FakeNetlink):
    """Counts the calls whose number must not grow with the number of tunnels."""

    def __init__(self):
        super(CountingNetlink, self).__init__()
        self.calls = {'links': 0, 'link_index': 0}

    def links(self, rp_filter=True):
        self.calls['links'] += 1
        return super(CountingNetlink, self).links(rp_filter)

    def link_index(self, name):
        self.calls['link_index'] += 1
        return super(CountingNetlink, self).link_index(name)


def test_bulk_costs_one_dump_per_read_and_no_per_tunnel_lookups(router):
    router.nl = CountingNetlink()
    tunnels = [dict(name='t%d' % i, type='ipip', local='192.0.2.1', remote='198.51.100.%d' % (i + 1), ttl=64)
               for i in range(20)]
    router.run(tunnels=tunnels, persistent=False)
    router.nl.calls = {'links': 0, 'link_index': 0}
    assert router.run(check_mode=True, tunnels=tunnels, persistent=False)['changed'] is False
    assert router.nl.calls == {'links': 1, 'link_index': 0}
    router.nl.calls = {'links': 0, 'link_index': 0}
    res = router.run(tunnels=[dict(t, ttl=10) for t in tunnels], persistent=False)
    assert res['changed'] and all(router.link('t%d' % i)['data']['ttl'] == 10 for i in range(20))
    # one dump before planning, one to read the result back
    assert router.nl.calls == {'links': 2, 'link_index': 0}


def ipips(count, **extra):
    return [dict(name='t%d' % i, type='ipip', local='192.0.2.1', remote='198.51.100.%d' % (i + 1), **extra)
            for i in range(count)]


def test_link_only_writes_go_to_the_kernel_in_one_batch(router):
    router.run(tunnels=ipips(5), persistent=False)
    assert router.nl.batches == [['add_link', 'set_link'] * 5]
    router.nl.batches = []
    router.run(tunnels=ipips(5, ttl=10), persistent=False)
    assert router.nl.batches == [['set_kind_data'] * 5]
    assert all(router.link('t%d' % i)['data']['ttl'] == 10 for i in range(5))
    router.nl.batches = []
    router.run(tunnels=[dict(name='t%d' % i, state='absent') for i in range(5)], persistent=False)
    assert router.nl.batches == [['del_link'] * 5]
    assert not any(router.link('t%d' % i) for i in range(5))


def test_writes_with_addresses_go_one_at_a_time_in_order(router):
    tunnels = ipips(3)
    tunnels[1]['addresses'] = ['10.0.0.1/30']
    router.run(tunnels=tunnels, persistent=False)
    # t0 alone, t1 request by request (then its address), t2 alone
    assert router.nl.batches == [['add_link', 'set_link'], ['add_link'], ['set_link'], ['add_link', 'set_link']]
    assert router.nl.addrs[router.link('t1')['index']] == ['10.0.0.1/30']


def test_a_failure_in_a_batch_removes_the_tunnels_it_made(router):
    tunnels = ipips(3)
    tunnels[1] = dict(name='t1', type='ip6ip6', local='2001:db8::1', remote='2001:db8::2')
    router.nl.missing_kinds.add('ip6tnl')
    with pytest.raises(engine.ApplyError) as err:
        router.run(tunnels=tunnels, persistent=False)
    assert 'create ip6tnl link t1: the kernel has no ip6tnl support' in str(err.value)
    # t2 was made after t1 failed (the kernel goes on within a batch): both t0 and t2 are gone
    assert [w for w in router.nl.writes if w[0] == 'add'] == [('add', 't0'), ('add', 't1'), ('add', 't2')]
    assert not any(router.link(name) for name in ('t0', 't1', 't2'))
    assert err.value.restored == ['runtime t2 removed again', 'runtime t0 removed again']


def test_an_ipv4_mapped_endpoint_is_refused():
    # ::ffff:a.b.c.d is an IPv4 host seen through a dual-stack socket, never an IPv6 tunnel endpoint.
    with pytest.raises(ResolveError, match='remote ::ffff:c000:201 is an IPv4-mapped'):
        fake_resolve('::ffff:192.0.2.1', 6, 'remote')


def test_an_empty_local_is_refused_not_any(router):
    # Only an omitted local means "any": '' is most likely an unset variable.
    with pytest.raises(TunnelError, match='tunnel t1: local is empty'):
        router.run(name='t1', **dict(V4, local=''))


def test_two_tunnels_with_the_same_endpoints_are_refused_in_the_plan(router):
    # The kernel would refuse the second with EEXIST halfway through the apply.
    with pytest.raises(TunnelError, match='tunnels t1 and t2 have the same local 192.0.2.1 and remote 192.0.2.2'):
        router.run(tunnels=[dict(V4, name='t1'), dict(V4, name='t2')])
    assert router.run(tunnels=[dict(V4, name='t1'), dict(V4, name='t2', remote='192.0.2.3')])['changed']


def test_a_kernel_that_ignores_the_mtu_fails_the_task_and_puts_everything_back(router, monkeypatch):
    """Verify after apply: the kernel answered the MTU change without error but kept the old MTU
    (as a kernel that ignores an attribute would). The task fails naming the field, the files are
    restored byte for byte, and the next check run still wants the change (not a silent success)."""
    router.run(**HE)
    files = dict((n, open(os.path.join(router.dir, n)).read()) for n in router.files())
    real = router.nl.set_link
    monkeypatch.setattr(router.nl, 'set_link', lambda index=None, up=None, mtu=None, alias=None, name=None:
                        real(index=index, up=up, alias=alias, name=name))
    unkept = r'^A store did not keep what was written: runtime he-ipv6: mtu reads back as 1480, not the 1400 written\. '
    with pytest.raises(engine.ApplyError, match=unkept + 'Rolled back: '):
        router.run(**dict(HE, mtu=1400))
    assert dict((n, open(os.path.join(router.dir, n)).read()) for n in router.files()) == files
    assert router.link('he-ipv6')['mtu'] == 1480
    assert router.run(check_mode=True, **dict(HE, mtu=1400))['changed']


def test_check_mode_warns_when_the_kernel_cannot_make_the_kind(router):
    router.nl.missing_kinds = {'sit'}
    check = router.run(check_mode=True, **HE)
    assert check['changed'] is True
    assert len(check['warnings']) == 1
    assert check['warnings'][0].startswith('he-ipv6: the kernel has no sit module')
    assert 'the real run will fail' in check['warnings'][0]
    # the real run fails as warned; a kind the kernel has gives no warning
    with pytest.raises(engine.ApplyError):
        router.run(**HE)
    router.nl.missing_kinds = set()
    assert router.run(check_mode=True, **HE)['warnings'] == []


def test_bulk_result_is_a_dict_by_name_and_info_a_list_that_converts_to_it(router):
    """The two documented shapes (iptun RETURN tunnels, iptun_info RETURN tunnels), and the
    items2dict(key_name='name', value_name='runtime') the docs give from one to the other."""
    res = router.run(tunnels=[dict(HE), dict(name='t2', type='ipip', local='192.0.2.1', remote='192.0.2.2')])
    listing = info(KernelTunnels(router.nl), NetworkdTunnels(router.dir))
    assert isinstance(res['tunnels'], dict) and isinstance(listing, list)
    assert [t['name'] for t in listing] == sorted(t['name'] for t in listing)
    assert dict((t['name'], t['runtime']) for t in listing) == res['tunnels']


def test_peer_is_returned_and_reaches_no_store(router):
    tun = dict(name='t-east', type='ipip', local='192.0.2.1', remote='192.0.2.2')
    res = router.run(peer='rt-east', **tun)
    assert res['peers'] == {'t-east': 'rt-east'}
    assert 'peer' not in res['tunnel'] and 'peer' not in res['diff']['after'][engine.PERSISTENT]
    assert not any('rt-east' in line for line in res['commands'])
    assert not any('rt-east' in open(os.path.join(router.dir, name)).read() for name in router.files())
    # another peer name changes nothing on the router
    again = router.run(peer='rt-west', **tun)
    assert again['changed'] is False and again['peers'] == {'t-east': 'rt-west'}
    bulk = router.run(tunnels=[dict(tun, peer='rt-east'), dict(name='t2', type='ipip', local='192.0.2.1', remote='192.0.2.3')])
    assert bulk['peers'] == {'t-east': 'rt-east'}
    assert 'peers' not in router.run(**tun)


def test_a_peer_that_is_no_inventory_name_is_refused_before_anything(router):
    with pytest.raises(TunnelError, match="tunnel t-east: peer 'rt east' is not an inventory host name"):
        router.run(peer='rt east', name='t-east', type='gre', local='192.0.2.1', remote='192.0.2.2')
    assert router.link('t-east') is None and router.files() == []


def test_a_tos_of_1_is_inherit_for_the_ipv4_kinds_and_a_traffic_class_of_1_for_ip6tnl(router):
    """ip_tunnel takes the TOS byte 1 as inherit and reads it back so: the task's 1 is inherit
    from the start, not a value the verify step would find unkept; ip6tnl's traffic class 1 is 1."""
    four = dict(persistent=False, name='t1', type='ipip', local='192.0.2.1', remote='192.0.2.2', tos=1)
    assert router.run(**four)['tunnel']['tos'] == 'inherit'
    assert not router.run(**four)['changed'] and not router.run(**dict(four, tos='inherit'))['changed']
    six = dict(persistent=False, name='t6', type='ip6ip6', local='2001:db8::1', remote='2001:db8::2', tos=1)
    assert router.run(**six)['tunnel']['tos'] == 1 and not router.run(**six)['changed']


# --- verify after a change: what it reads again -------------------------------------------------------
class DumpCounting(FakeNetlink):
    """Counts the dumps of each kind (links, addresses, routes, rules)."""

    def __init__(self):
        super(DumpCounting, self).__init__()
        self.dumps = {}
        for kind in ('links', 'addresses', 'routes', 'rules'):
            self.dumps[kind] = 0
            setattr(self, kind, self._counting(kind, getattr(self, kind)))

    def _counting(self, kind, dump):
        def counted(*args, **kwargs):
            self.dumps[kind] += 1
            return dump(*args, **kwargs)
        return counted


ROUTED = [dict(name='t%d' % i, type='ipip', local='192.0.2.1', remote='198.51.100.%d' % (i + 1), ttl=64,
               addresses=['10.0.%d.1/30' % i], routes=[{'dest': '203.0.113.%d/32' % i, 'table': 100 + i}],
               rules=[{'priority': 100 + i, 'from': '10.0.%d.0/30' % i, 'table': 100 + i}]) for i in range(3)]


def routed_router(router):
    router.nl = DumpCounting()
    router.run(tunnels=ROUTED, persistent=False)
    router.nl.dumps = dict.fromkeys(router.nl.dumps, 0)
    return router


def test_a_ttl_change_reads_the_links_again_and_keeps_the_addresses_routes_and_rules_read_before(router):
    routed_router(router)
    res = router.run(tunnels=[dict(t, ttl=10) for t in ROUTED], persistent=False)
    assert res['changed'] and all(router.link(t['name'])['data']['ttl'] == 10 for t in ROUTED)
    # before the plan: every dump; verify: the links only (the kernel keeps the rest through the change)
    assert router.nl.dumps == {'links': 2, 'addresses': 1, 'routes': 1, 'rules': 1}
    assert res['tunnels']['t1']['ttl'] == 10 and res['tunnels']['t1']['addresses'] == ['10.0.1.1/30']
    assert res['tunnels']['t1']['routes'] == [{'dest': '203.0.113.1/32', 'via': None, 'metric': 0, 'table': 101}]
    assert res['tunnels']['t1']['rules'][0]['priority'] == 101
    assert router.run(check_mode=True, tunnels=[dict(t, ttl=10) for t in ROUTED], persistent=False)['changed'] is False


@pytest.mark.parametrize('change', [
    pytest.param({'t1': dict(type='gre')}, id='recreate (a new link holds nothing)'),
    pytest.param({'t1': dict(mtu=1400)}, id='mtu (IPv6 drops addresses below 1280)'),
    pytest.param({'t1': dict(enabled=False)}, id='down (routes are flushed)'),
    pytest.param({'t1': dict(addresses=['10.0.1.2/30'])}, id='an address'),
    pytest.param({'t1': dict(routes=[{'dest': '203.0.113.9/32', 'table': 101}])}, id='a route'),
    pytest.param({'t1': dict(rules=[{'priority': 99, 'from': '10.0.1.0/30', 'table': 101}])}, id='a rule'),
    pytest.param({'t2': dict(state='absent')}, id='a delete beside the ttl changes'),
    pytest.param({'t3': dict(name='t3', type='ipip', local='192.0.2.1', remote='198.51.100.9')}, id='a create beside them'),
])
def test_any_other_change_in_the_run_reads_everything_again(router, change):
    routed_router(router)
    tunnels = dict((t['name'], dict(t, ttl=10)) for t in ROUTED)
    for name, values in change.items():
        tunnels[name] = dict(tunnels.get(name, {}), **values)
    res = router.run(tunnels=list(tunnels.values()), persistent=False)
    assert res['changed']
    assert router.nl.dumps['addresses'] == router.nl.dumps['routes'] == 2


def test_a_ttl_change_with_the_files_written_too_reads_everything_again(router):
    """The persistent store's settle asks the network manager to reload, which may reconfigure the
    link (NetworkManager activates the connection again): verify reads what the kernel holds then."""
    router.nl = DumpCounting()
    router.run(**dict(HE, name='he-ipv6'))
    router.nl.dumps = dict.fromkeys(router.nl.dumps, 0)
    assert router.run(**dict(HE, ttl=10))['changed']
    assert router.nl.dumps['addresses'] == router.nl.dumps['routes'] == 2


def test_a_recreate_is_verified_whole_an_address_the_new_link_did_not_get_fails_it(router, monkeypatch):
    """A recreated link holds none of the old one's addresses and routes; the create puts them back,
    and verify checks every field of the new link, not only those that differed (the type here):
    when the kernel drops the address add, the task fails naming it and is rolled back."""
    routed_router(router)
    before = copy.deepcopy(router.nl.links_by_name['t0'])
    monkeypatch.setattr(router.nl, 'add_address', lambda index, cidr: None)
    with pytest.raises(engine.ApplyError, match=r"runtime t0: addresses reads back as \[\], not the \['10.0.0.1/30'\] "
                       r"written.*Rolled back"):
        router.run(tunnels=[dict(ROUTED[0], type='gre')] + ROUTED[1:], persistent=False)
    assert router.nl.links_by_name['t0']['kind'] == before['kind'] == 'ipip'


def test_a_tunnel_made_by_someone_else_meanwhile_reads_everything_again(router, monkeypatch):
    """Verify keeps the earlier read of a link by its index: a link it did not see then (made between
    the read and verify, or made again under its old name) has its lists read again."""
    routed_router(router)
    real = router.nl.set_kind_data

    def and_another(index, name, kind, data):
        real(index, name, kind, data)
        if 'x0' not in router.nl.links_by_name:
            router.nl.add_link('x0', 'ipip', {'local': '192.0.2.1', 'remote': '198.51.100.99'}, up=True)
    monkeypatch.setattr(router.nl, 'set_kind_data', and_another)
    res = router.run(tunnels=[dict(t, ttl=10) for t in ROUTED], persistent=False)
    assert res['changed'] and router.nl.dumps['addresses'] == 2


def test_a_run_reads_plans_and_writes_with_the_cycle_collector_paused(router):
    import gc
    seen = []
    store = KernelTunnels(router.nl)
    real_read = store.read

    def read():
        seen.append(gc.isenabled())
        return real_read()
    store.read = read
    run_iptun(params(persistent=False, name='t1', type='ipip', local='192.0.2.1', remote='192.0.2.2'), store, None,
              resolve=fake_resolve)
    assert seen and not any(seen) and gc.isenabled()
