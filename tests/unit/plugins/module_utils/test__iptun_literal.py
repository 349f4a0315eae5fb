# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 12: literal tunnel names, clear errors for any input, and networkd's reload as the
persistent store's settle step. Each test here failed on f847798."""

from __future__ import annotations

import os
import socket

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._iptun import run_iptun
from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdDir, NetworkdError, render
from ansible_collections.edgenet.router.plugins.module_utils._resolve import ResolveError, resolve_endpoint
from ansible_collections.edgenet.router.plugins.module_utils._sixtofour import run_sixtofour
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import TunnelError
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import KernelTunnels
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_networkd import NetworkdTunnels
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__iptun import (
    HE, Router, fake_resolve, params,
)
from ansible_collections.edgenet.router.tests.unit.plugins.module_utils.test__sixtofour import (
    SITE, params as sixtofour_params,
)

PATTERNS = ['*', 'e*', '!he0', 'eth?', 'tun[0-9]', '%d', 'eth{0,1}', '.', '..', '.x', 'a\0b', '123', '-tun', 'tun\n']
V4 = dict(type='ipip', local='192.0.2.1', remote='192.0.2.2')


@pytest.fixture
def router(tmp_path):
    return Router(tmp_path)


def refused(router, error, match, run):
    """``run()`` raises ``error`` matching ``match`` and nothing reached the kernel or the directory."""
    router.nl.read_only = True
    with pytest.raises(error, match=match):
        run()
    assert router.nl.writes == [] and router.files() == []
    assert not os.path.exists(router.dir)  # not even the lock file or the directory


# --- 1. names that networkd would read as patterns ------------------------------------------------
@pytest.mark.parametrize('name', PATTERNS)
def test_a_pattern_name_is_refused_with_value_rule_and_fix(router, name):
    def run():
        run_iptun(params(networkd_dir=router.dir, name=name, **V4), KernelTunnels(router.nl),
                  NetworkdTunnels(router.dir), resolve=fake_resolve)
    refused(router, TunnelError, r'tunnel name .* is not a valid interface name: an interface name is 1-15 letters.*networkd reads as a '
                                 r'pattern; choose a literal name such as he-ipv6', run)


@pytest.mark.parametrize('name', ['e*', '!he0', 'tun[0-9]'])
def test_a_pattern_name_is_refused_in_bulk_absent_and_sixtofour(router, name):
    bulk = dict(networkd_dir=router.dir, tunnels=[dict(V4, name='t-ok'), dict(V4, name=name, remote='192.0.2.3')])
    refused(router, TunnelError, 'tunnel name %s is not a valid interface name' % repr(name).replace('[', r'\[').replace('*', r'\*'),
            lambda: run_iptun(params(**bulk), KernelTunnels(router.nl), NetworkdTunnels(router.dir), resolve=fake_resolve))
    absent = dict(networkd_dir=router.dir, name=name, state='absent')
    refused(router, TunnelError, 'is not a valid interface name',
            lambda: run_iptun(params(**absent), KernelTunnels(router.nl), NetworkdTunnels(router.dir)))
    site = sixtofour_params()
    site.update(SITE)
    site.update(name=name, networkd_dir=router.dir)
    refused(router, TunnelError, 'is not a valid interface name',
            lambda: run_sixtofour(site, KernelTunnels(router.nl), NetworkdTunnels(router.dir)))


def test_a_pattern_underlay_link_is_refused(router):
    def run():
        run_iptun(params(networkd_dir=router.dir, name='t1', link='eth*', persistent=False, **V4),
                  KernelTunnels(router.nl), None, resolve=fake_resolve)
    refused(router, TunnelError, r"underlay link 'eth\*' is not a valid interface name", run)


def test_very_long_text_is_quoted_not_dumped(router):
    with pytest.raises(TunnelError) as err:
        router.run(name='x' * 100000, **V4)
    assert len(str(err.value)) < 400


# networkd refuses non-literal names itself (defence in depth), with its own error, never ValueError.
@pytest.mark.parametrize('name', PATTERNS + ['', '.', '..'])
def test_networkd_refuses_a_file_name_that_is_not_literal(tmp_path, name):
    ndir = NetworkdDir(str(tmp_path))
    with pytest.raises(NetworkdError, match='networkd file name .* is not a valid interface name'):
        ndir.path(name, 'network')
    with pytest.raises(NetworkdError, match='is not a valid interface name'):
        ndir.write(name, {'netdev': '[NetDev]\nName=x\n'})
    assert os.listdir(str(tmp_path)) == []  # refused before the lock file was made


@pytest.mark.parametrize('name', ['*', 'e*', '!he0', 'eth?', 'tun[0-9]', '%d', '.', '..'])
def test_networkd_refuses_a_match_name_pattern(name):
    with pytest.raises(NetworkdError, match=r'\[Match\] Name=.* is not a valid interface name'):
        render([('Match', [('Name', name)])])
    assert render([('Match', [('Name', 'he-ipv6')])]) == '[Match]\nName=he-ipv6\n'


def test_networkd_skips_pattern_named_files_an_older_version_wrote(tmp_path):
    ndir = NetworkdDir(str(tmp_path))
    ndir.write('he0', {'netdev': '[NetDev]\nName=he0\n'})
    with open(os.path.join(str(tmp_path), '60-edgenet-e*.network'), 'w') as handle:
        handle.write(ndir.read('he0')['netdev'])
    assert sorted(ndir.read_all()) == ['he0']


@pytest.mark.parametrize('directory', ['', 'relative/dir', '/tmp/a\0b', '/tmp/a\nb', '/' + 'x' * 5000])
def test_networkd_refuses_a_directory_it_cannot_mean(directory):
    with pytest.raises(NetworkdError, match='networkd directory .* is refused') as err:
        NetworkdDir(directory)
    assert len(str(err.value)) < 400


def test_a_malformed_managed_file_is_a_clear_error(router):
    router.run(**HE)
    path = os.path.join(router.dir, '60-edgenet-he-ipv6.network')
    with open(path, 'a') as handle:
        handle.write('junk without a key\n')
    with pytest.raises(NetworkdError, match='Cannot read the networkd files of tunnel he-ipv6 .* line'):
        router.run(check_mode=True, **HE)


# --- 2. names the resolver cannot take ---------------------------------------------------------------
@pytest.mark.parametrize('text', ['a' * 64 + '.example', 'a..example', '.', 'x' * 300, 'tun\0x', 'tun\nx',
                                  '\u202eeth0', 'tun\udcff', 'e*', ''])
def test_a_name_the_resolver_cannot_take_is_a_resolve_error(text):
    # The real getaddrinfo: over-long labels and NULs raised UnicodeError / ValueError before.
    with pytest.raises(ResolveError) as err:
        resolve_endpoint(text, 4, 'remote')
    assert len(str(err.value)) < 400


@pytest.mark.parametrize('exc', [UnicodeError('label too long'), ValueError('embedded null byte'),
                                 socket.gaierror(-2, 'Name or service not known')])
def test_any_resolver_failure_is_a_resolve_error(exc):
    def getaddrinfo(*args):
        raise exc
    with pytest.raises(ResolveError, match="remote 'host.example' is not an IPv4 address, and does not resolve as a name "
                                           "to an IPv4 address"):
        resolve_endpoint('host.example', 4, 'remote', getaddrinfo=getaddrinfo)


@pytest.mark.parametrize('text, family', [('192.0.2.3O', 4), ('192.0.2.1x', 4), ('2001.db8.0.1a', 6)])
def test_a_typod_address_that_reads_as_a_name_says_both(text, family):
    # Looked up (it may be a name), and the message names both readings, not the resolver's words alone.
    def getaddrinfo(*args):
        raise socket.gaierror(-2, 'Name or service not known')
    word = 'IPv4' if family == 4 else 'IPv6'
    with pytest.raises(ResolveError) as err:
        resolve_endpoint(text, family, 'remote', getaddrinfo=getaddrinfo)
    assert str(err.value).startswith("remote %r is not an %s address, and does not resolve as a name to an %s address "
                                     "([Errno -2] Name or service not known)" % (text, word, word))


@pytest.mark.parametrize('text, family, message', [
    ('192.0.2.300', 4, "remote '192.0.2.300' is not an IPv4 address (four numbers 0-255 separated by dots), "
                       "and not a host name either: a name never ends in digits only"),
    ('192.0.2', 4, "remote '192.0.2' is not an IPv4 address"),          # glibc: 192.0.0.2
    ('3221225985', 4, "remote '3221225985' is not an IPv4 address"),    # glibc: 192.0.2.1
    ('10.0.0.1.', 4, "remote '10.0.0.1.' is not an IPv4 address"),
    ('192.0.2.300', 6, "remote '192.0.2.300' is not an IPv6 address, and not a host name either"),
])
def test_a_typod_address_is_not_looked_up_as_a_name(text, family, message):
    def getaddrinfo(*args):
        raise AssertionError('looked up %r' % (args,))
    with pytest.raises(ResolveError) as err:
        resolve_endpoint(text, family, 'remote', getaddrinfo=getaddrinfo)
    assert str(err.value).startswith(message)


@pytest.mark.parametrize('text', ['host1.example', '1.example', 'a1', '6to4.example.'])
def test_a_name_with_digits_is_still_looked_up(text):
    def getaddrinfo(*args):
        return [(socket.AF_INET, socket.SOCK_DGRAM, 0, '', ('192.0.2.7', 0))]
    assert resolve_endpoint(text, 4, 'remote', getaddrinfo=getaddrinfo) == '192.0.2.7'


# --- 3. what was silently accepted ---------------------------------------------------------------------
ROUTE = {'dest': '198.51.100.0/24', 'via': None}


@pytest.mark.parametrize('metric', [-1, -1024, 2 ** 32, 2 ** 64, 'abc', [1], {'a': 1}, 1.5, True])
def test_a_metric_outside_the_kernels_range_is_refused(router, metric):
    def run():
        run_iptun(params(networkd_dir=router.dir, name='t1', routes=[dict(ROUTE, metric=metric)], **V4),
                  KernelTunnels(router.nl), NetworkdTunnels(router.dir), resolve=fake_resolve)
    refused(router, TunnelError, r'route to 198.51.100.0/24: metric .* must be a number between 0 and 4294967295', run)


def test_the_largest_metric_is_taken(router):
    result = router.run(name='t1', routes=[dict(ROUTE, metric=2 ** 32 - 1)], persistent=False, **V4)
    assert result['tunnel']['routes'] == [{'dest': '198.51.100.0/24', 'via': None, 'metric': 4294967295}]


@pytest.mark.parametrize('addresses, match', [
    (['10.0.0.1/30', '10.0.0.1/30'], "addresses lists 10.0.0.1/30 twice"),
    (['2001:db8::1/64', '2001:db8:0::1/64'], "addresses lists 2001:db8::1/64 twice .as '2001:db8::1/64' and '2001:db8:0::1/64'"),
])
def test_an_address_listed_twice_is_refused(router, addresses, match):
    def run():
        run_iptun(params(networkd_dir=router.dir, name='t1', addresses=addresses, **V4), KernelTunnels(router.nl),
                  NetworkdTunnels(router.dir), resolve=fake_resolve)
    refused(router, TunnelError, match, run)


@pytest.mark.parametrize('routes', [
    [ROUTE, ROUTE],
    [ROUTE, dict(ROUTE, dest='198.51.100.0/24 ')],
    [ROUTE, dict(ROUTE, dest='198.51.100.7/24')],
    [ROUTE, dict(ROUTE, via='192.0.2.9', metric=0)],
])
def test_a_route_listed_twice_is_refused(router, routes):
    def run():
        run_iptun(params(networkd_dir=router.dir, name='t1', routes=routes, **V4), KernelTunnels(router.nl),
                  NetworkdTunnels(router.dir), resolve=fake_resolve)
    refused(router, TunnelError, 'routes lists the route to 198.51.100.0/24 with metric 0 twice', run)


# --- 5. wrong types anywhere end in a clear error --------------------------------------------------------
@pytest.mark.parametrize('task, match', [
    (dict(addresses=[1]), 'address 1 is not an address'),
    (dict(addresses=['x' * 100000]), 'is not an address'),
    (dict(routes=[{'dest': ['10.0.0.0/8']}]), 'route dest'),
    (dict(routes=[{'dest': '10.0.0.0/8', 'via': ['192.0.2.9']}]), 'via .* is not an IP address'),
    (dict(routes=[{'dest': '10.0.0.0/8', 'via': '224.0.0.1'}]), 'not a unicast address'),
    (dict(routes=['10.0.0.0/8']), 'must be a dict'),
    (dict(tos=[1]), 'tos must be a number'),
    (dict(tos=True), 'tos must be a number'),
    (dict(ttl=[1]), 'ttl must be a number'),
    (dict(mtu={'a': 1}), 'mtu must be a number'),
    (dict(type='ip6ip6', local='2001:db8::1', remote='2001:db8::2', encaplimit=1.5), 'encaplimit must be a number'),
    (dict(remote='192.0.2.1'), 'remote 192.0.2.1 is the same address as local'),
    (dict(remote='a' * 64 + '.example'), 'tunnel t1 remote .* is refused'),
    (dict(addresses=['224.0.0.1/32']), 'not a unicast address'),
])
def test_wrong_values_inside_the_lists_are_clear_errors(router, task, match):
    def run():
        run_iptun(params(networkd_dir=router.dir, name='t1', **dict(V4, **task)), KernelTunnels(router.nl),
                  NetworkdTunnels(router.dir), resolve=fake_resolve)
    refused(router, TunnelError, match, run)


# --- 4. the reload is the persistent store's settle step -------------------------------------------------
class FakeRun(object):
    """run_command: networkd is active; ``networkctl reload`` answers ``reload``."""

    def __init__(self, reload=(0, '', '')):
        self.reload = reload
        self.calls = []

    def __call__(self, argv):
        self.calls.append(' '.join(argv[:2]))
        return self.reload if argv[0] == 'networkctl' else (0, '', '')


def run_with(router, tmp_path, run, check_mode=False, **task):
    files = NetworkdTunnels(router.dir, run, netif_dir=str(tmp_path))
    router.nl.read_only = check_mode
    try:
        return run_iptun(params(networkd_dir=router.dir, **task), KernelTunnels(router.nl), files, check_mode=check_mode,
                         resolve=fake_resolve)
    finally:
        router.nl.read_only = False


def test_a_failed_reload_rolls_back_the_files_and_the_kernel(router, tmp_path):
    run = FakeRun(reload=(1, '', 'Failed to reload network settings: Access denied'))
    with pytest.raises(engine.ApplyError, match='The writes to the persistent store did not take effect: networkctl '
                                                'reload failed .*Access denied. Rolled back: runtime he-ipv6 removed '
                                                'again; persistent he-ipv6'):
        run_with(router, tmp_path, run, **HE)
    assert router.files() == [] and router.link('he-ipv6') is None
    assert run.calls == ['systemctl is-active', 'networkctl reload']


def test_networkd_reloads_once_after_the_writes_and_never_without_them(router, tmp_path):
    run = FakeRun()
    run_with(router, tmp_path, run, tunnels=[dict(V4, name='t1'), dict(V4, name='t2', remote='192.0.2.3')])
    assert run.calls == ['systemctl is-active', 'networkctl reload']
    run_with(router, tmp_path, run, tunnels=[dict(V4, name='t1'), dict(V4, name='t2', remote='192.0.2.3')])
    run_with(router, tmp_path, run, check_mode=True, **HE)
    assert run.calls == ['systemctl is-active', 'networkctl reload']


def test_the_reload_is_skipped_when_networkd_never_ran(router, tmp_path):
    run = FakeRun(reload=(1, '', 'must not be called'))
    assert run_with(router, tmp_path / 'no-netif', run, **HE)['changed']
    assert run.calls == []


class LockWitness(NetworkdTunnels):
    """Records whether the directory lock was held while the engine read the store."""

    held = None

    def read(self):
        state = _files._HELD.get((os.getpid(), self.files.lock_path))
        self.held = bool(state and state['depth'])
        return super(LockWitness, self).read()


def test_the_lock_is_held_from_read_in_a_real_run_and_not_taken_in_check_mode(router):
    check = LockWitness(router.dir)
    router.nl.read_only = True
    run_iptun(params(networkd_dir=router.dir, **HE), KernelTunnels(router.nl), check, check_mode=True,
              resolve=fake_resolve)
    router.nl.read_only = False
    assert check.held is False and not os.path.exists(router.dir)  # check mode creates nothing
    real = LockWitness(router.dir)
    run_iptun(params(networkd_dir=router.dir, **HE), KernelTunnels(router.nl), real, resolve=fake_resolve)
    assert real.held is True
