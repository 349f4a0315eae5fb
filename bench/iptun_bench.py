# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of iptun inside a lab guest: prints figures, asserts nothing.

Runs the module's own code (``run_iptun`` with the real netlink store) in a network namespace
of its own, for N tunnels of ``--type`` (ipip, or gre with a key each), each with an IPv4
address and a route, as a router's tunnels have:

- ``ip -batch``: the floor, the same links, addresses and routes made by iproute2 in one
  process; for the no-op check, iproute2's JSON dumps of the links, addresses and routes
  (``ip -d -j link show``, ``ip -j addr show``, ``ip -j route show table all``), which is what
  reading them takes without comparing anything: read side by side with the module's check, just
  before it, of the very tunnels it checks (``NOOP_PAIRS`` pairs a round); for the modify,
  ``ip -batch`` changing the ttl of those same tunnels, just before the module changes it again
  (``MODIFY_PAIRS`` pairs a round);
- bulk: one ``run_iptun`` call with ``tunnels:`` (what one Ansible task does, minus transport);
- singles: one ``run_iptun`` call per tunnel, each with its own netlink socket (what a loop of
  single tasks does, minus Ansible's ~2 s per task transport under TCG, reported separately by
  bench/run-iptun).

Each figure is the best of ``--repeat`` rounds, a round being ip -batch then bulk back to back
(the no-op check and the modify: their pairs, see above):
the emulated CPU shares a host with other work, and its speed varies by a factor of two from
one minute to the next. Beside the ratio of the best times, the median of the rounds' own
ratios, which a slow minute moves less.

``--record FILE`` (in the guest) runs the bulk sequence (create, no-op check, modify, delete) of
the largest N once more and records every datagram the kernel answered; ``--replay FILE``
(anywhere, no kernel needed) runs the sequence again against the recorded answers: the module's
own work on a native CPU, with real kernel bytes.

Usage (in the guest, the collection on PYTHONPATH):
    iptun_bench.py [--counts 100 1000] [--singles 100] [--repeat 3] [--type ipip|gre] [--record FILE]
    iptun_bench.py --replay FILE        (on the host)
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import os
import statistics
import struct
import subprocess
import sys
import time

# bench_common lives beside this script (its directory is first on sys.path when it runs)
import bench_common  # pylint: disable=import-error
from bench_common import timed  # pylint: disable=import-error
from ansible_collections.edgenet.router.plugins.module_utils import _values
from ansible_collections.edgenet.router.plugins.module_utils._iptun import argument_spec, run_iptun
from ansible_collections.edgenet.router.plugins.module_utils._netlink import Netlink, open_netlink
from ansible_collections.edgenet.router.plugins.module_utils._rtnl._socket import RtnlSocket
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import KernelTunnels

NETNS = 'iptbench'
DEFAULTS = dict((name, spec.get('default')) for name, spec in argument_spec().items())


TYPE = 'ipip'   # set by --type
ADDRESSES = ipaddress.IPv4Address('100.64.0.0')   # a /30 per tunnel
ROUTES = ipaddress.IPv4Address('198.18.0.0')      # a /32 per tunnel, on-link


def remote(i):
    return '10.%d.%d.%d' % (1 + i // 65536, (i // 256) % 256, i % 256)


def address(i):
    return '%s/30' % (ADDRESSES + 4 * i + 1)


def route(i):
    return '%s/32' % (ROUTES + i)


def tunnel(i, ttl=64):
    """Tunnel i as the task names it: gre tunnels carry key i + 1 (they share the local address)."""
    item = {'name': 'b%d' % i, 'type': TYPE, 'local': '192.0.2.1', 'remote': remote(i), 'ttl': ttl,
            'addresses': [address(i)], 'routes': [{'dest': route(i)}]}
    if TYPE == 'gre':
        item['key'] = i + 1
    return item


def link_line(verb, i, ttl):
    """``ip -batch`` words for tunnel i (``link add`` or ``link set``)."""
    words = 'link %s b%d type %s local 192.0.2.1 remote %s ttl %d' % (verb, i, TYPE, remote(i), ttl)
    return words + (' key %d' % (i + 1) if TYPE == 'gre' else '')


def params(**kwargs):
    out = dict(DEFAULTS, persistent=False, netns=NETNS)
    out.update(kwargs)
    return out


def cold():
    """Forget what earlier runs of this process parsed (``_values``' caches of address and route
    texts): a module run is a process of its own and starts with them empty, so every timed run
    here does too (with them warm, a no-op check of 1000 tunnels took a quarter less CPU)."""
    _values._PARSED.clear()  # pylint: disable=protected-access
    _values._FACTS.clear()  # pylint: disable=protected-access


def run_on(nl, check_mode=False, **kwargs):
    """One run_iptun call over an open netlink handle (live, recording or replaying), its caches
    cold as in a module's process."""
    cold()
    return run_iptun(params(**kwargs), KernelTunnels(nl, NETNS), None, check_mode=check_mode)


def run(**kwargs):
    with open_netlink(NETNS) as nl:
        return run_on(nl, **kwargs)


def ip_batch(lines):
    return bench_common.ip_batch(NETNS, lines)


def python_speed():
    """Seconds for a fixed pure-Python workload (struct decoding, dicts): run it on the host too,
    the ratio is how much slower the emulated CPU runs the module's own code."""
    data = struct.pack('=HH', 8, 1) * 64
    start = time.perf_counter()
    for dummy in range(20000):
        attrs = {}
        for off in range(0, len(data), 4):
            length, kind = struct.unpack_from('=HH', data, off)
            attrs[kind] = length
    return time.perf_counter() - start


def fresh_netns():
    subprocess.run(['ip', 'netns', 'del', NETNS], stderr=subprocess.DEVNULL, check=False)
    subprocess.run(['ip', 'netns', 'add', NETNS], check=True)


# the floor of a no-op check: iproute2 reading every link, address and route of the namespace
DUMPS = (('links', ['-d', '-j', 'link', 'show']), ('addresses', ['-j', 'addr', 'show']),
         ('routes', ['-j', 'route', 'show', 'table', 'all']))

# Not in the floor, shown beside it: iproute2 asking for only the routes the module reads (its
# origins boot and static, which the kernel filters before building messages, as the module asks).
OWN_ROUTES = (['-j', 'route', 'show', 'table', 'all', 'proto', 'boot'],
              ['-j', 'route', 'show', 'table', 'all', 'proto', 'static'])


def _ip_seconds(argv):
    return timed(subprocess.run, ['ip', '-n', NETNS] + argv, check=True, stdout=subprocess.DEVNULL)[0]


def dumps():
    """Seconds of each iproute2 JSON dump, by name."""
    return dict((name, _ip_seconds(argv)) for name, argv in DUMPS)


def bench_batch(n):
    fresh_netns()
    create = ip_batch([link_line('add', i, 64) for i in range(n)]
                      + ['link set b%d alias edgenet.router up' % i for i in range(n)]
                      + ['addr add %s dev b%d' % (address(i), i) for i in range(n)]
                      + ['route add %s dev b%d' % (route(i), i) for i in range(n)])
    read = dumps()
    own_routes = sum(_ip_seconds(argv) for argv in OWN_ROUTES)
    modify = ip_batch([link_line('set', i, 10) for i in range(n)])
    links_after = _ip_seconds(DUMPS[0][1])
    delete = ip_batch(['link del b%d' % i for i in range(n)])
    # the no-op's and the modify's floors: see NOOP_PAIRS and MODIFY_PAIRS; this namespace's modify
    # is printed beside them, as the bench timed it before session 24
    times = {'create': create, 'modify_own_namespace': modify, 'delete': delete}
    times.update(('dump_' + name, seconds) for name, seconds in read.items())
    times['own_routes'] = own_routes
    # Not in the floor either: a modify that reads as the module does (the three dumps to plan,
    # the batch, the links dump again to verify), the least any tool that checks its work pays.
    times['modify_reading'] = sum(read.values()) + modify + links_after
    return times


def bulk_operations(n):
    """``(operation, run_iptun keyword arguments)`` of the bulk sequence, in order."""
    return [
        ('create', {'tunnels': [tunnel(i) for i in range(n)]}),
        ('noop_check', {'check_mode': True, 'tunnels': [tunnel(i) for i in range(n)]}),
        ('modify', {'tunnels': [tunnel(i, ttl=10) for i in range(n)]}),
        ('delete', {'tunnels': [{'name': 'b%d' % i, 'state': 'absent'} for i in range(n)]}),
    ]


# The no-op check against its floor, side by side: the three dumps, then the check, this many times
# per round on the tunnels the bulk create made. Both then read the same links, addresses and
# routes in the same minute; the floor's dumps after ip -batch (bench_batch) read another
# namespace's, made in another minute of a host whose speed varies from one to the next. One pair
# varies a lot (1.07x to 1.98x in one guest, udev idle): the median of all rounds' pairs is the figure.
NOOP_PAIRS = 5

# The bulk modify against ip -batch, side by side the same way: ip -batch sets the ttl of the
# module's tunnels to MODIFY_FLOOR_TTL, then the module sets it back to the task's, this many
# times a round (each a change of every tunnel, both sides). Before (session 23 and earlier) the
# two modifies ran in two namespaces a minute apart, and the median of three rounds' ratios
# swung with ip -batch's own rounds (0.80 s to 1.2 s in one run).
MODIFY_PAIRS = 3
MODIFY_FLOOR_TTL = 20


def bench_bulk(n):
    """Seconds of each bulk operation; for the no-op check and the modify the best of their pairs
    with the floor (``NOOP_PAIRS``, ``MODIFY_PAIRS``), whose best is ``<op>_floor``, and every
    pair's ratio in ``<op>_ratios``."""
    fresh_netns()
    times = {}
    for op, kwargs in bulk_operations(n):
        if op in SIDE_BY_SIDE:
            floors, runs = SIDE_BY_SIDE[op](n, kwargs)
            times[op], times[op + '_floor'] = min(runs), min(floors)
            times[op + '_ratios'] = [seconds / floor for floor, seconds in zip(floors, runs)]
            continue
        times[op], res = timed(run, **kwargs)
        assert res['changed'], '%s: changed is %s' % (op, res['changed'])
    return times


def noop_side_by_side(dummy_n, kwargs):
    """``(floors, checks)``: seconds of the floor's three dumps and of the module's no-op check
    (``kwargs``), one after the other, ``NOOP_PAIRS`` times."""
    floors, checks = [], []
    for dummy in range(NOOP_PAIRS):
        floors.append(sum(dumps().values()))
        seconds, res = timed(run, **kwargs)
        assert not res['changed'], 'noop_check: changed is %s' % res['changed']
        checks.append(seconds)
    return floors, checks


def modify_side_by_side(n, kwargs):
    """``(floors, modifies)``: seconds of ``ip -batch`` setting the ttl of the n tunnels to
    ``MODIFY_FLOOR_TTL`` and of the module's modify (``kwargs``) setting it back, one after the
    other, ``MODIFY_PAIRS`` times."""
    assert all(t['ttl'] != MODIFY_FLOOR_TTL for t in kwargs['tunnels'])
    floors, modifies = [], []
    for dummy in range(MODIFY_PAIRS):
        floors.append(ip_batch([link_line('set', i, MODIFY_FLOOR_TTL) for i in range(n)]))
        seconds, res = timed(run, **kwargs)
        assert res['changed'] and len(res['changes']) == n, 'modify: %d of %d tunnels changed' % (len(res['changes']), n)
        modifies.append(seconds)
    return floors, modifies


# The operations timed in pairs with their floor, and how: ``(floors, runs)`` from ``f(n, kwargs)``.
SIDE_BY_SIDE = {'noop_check': noop_side_by_side, 'modify': modify_side_by_side}


def bench_singles(n):
    fresh_netns()
    create = sum(timed(run, **tunnel(i))[0] for i in range(n))
    noop = sum(timed(run, check_mode=True, **tunnel(i))[0] for i in range(n))
    delete = sum(timed(run, name='b%d' % i, state='absent')[0] for i in range(n))
    return {'create': create, 'noop_check': noop, 'delete': delete}


def rounds(repeat, n):
    """``repeat`` rounds of ip -batch then bulk, back to back: a slow minute of the shared host
    then weighs on both sides of a round's ratio. Returns the best time of each side per
    operation and the median of the rounds' bulk/batch ratios."""
    batches, bulks = [], []
    for dummy in range(repeat):
        batches.append(bench_batch(n))
        bulks.append(bench_bulk(n))
    batch = dict((op, min(run[op] for run in batches)) for op in batches[0])
    bulk = dict((op, min(run[op] for run in bulks)) for op in bulks[0] if not op.endswith('_ratios'))
    ratios = {}
    for op in SIDE_BY_SIDE:   # their floors timed side by side (NOOP_PAIRS, MODIFY_PAIRS)
        batch[op] = bulk.pop(op + '_floor')
        pairs = [r for run in bulks for r in run[op + '_ratios']]
        ratios[op] = statistics.median(pairs)
        ratios[op + '_spread'] = (min(pairs), max(pairs), len(pairs))
    for op in ('create', 'delete'):   # the others: the rounds' ratios
        ratios[op] = statistics.median(b[op] / a[op] for a, b in zip(batches, bulks))
    return batch, bulk, ratios


class _Recorder(object):
    """A socket that passes everything through and keeps what the kernel answered."""

    def __init__(self, sock):
        self.sock, self.answers = sock, []

    def send(self, data):
        return self.sock.send(data)

    def setsockopt(self, *args):
        return self.sock.setsockopt(*args)

    def recv_into(self, buf):
        size = self.sock.recv_into(buf)
        self.answers.append(bytes(buf[:size]))
        return size


class _Replayer(object):
    """A socket that answers with recorded datagrams, in order (requests are not read: the
    module sends the same requests in the same order, so the sequence numbers match)."""

    def __init__(self, answers):
        self.answers = list(answers)

    def send(self, data):
        return len(data)

    def setsockopt(self, *args):
        """Taken, as the guest's kernel took it when the answers were recorded (strict dumps)."""

    def recv_into(self, buf):
        data = self.answers.pop(0)
        buf[:len(data)] = data
        return len(data)


def record(path, n):
    """Run the bulk sequence once more and keep every datagram the kernel answered, per step."""
    fresh_netns()
    recorded = {'n': n, 'type': TYPE, 'answers': {}}
    for op, kwargs in bulk_operations(n):
        with open_netlink(NETNS) as nl:
            recorder = _Recorder(nl._rtnl.sock)
            nl._rtnl.sock = recorder
            try:
                run_on(nl, **kwargs)
            finally:
                nl._rtnl.sock = recorder.sock
        recorded['answers'][op] = [base64.b64encode(a).decode() for a in recorder.answers]
    with open(path, 'w') as f:
        json.dump(recorded, f)
    subprocess.run(['ip', 'netns', 'del', NETNS], stderr=subprocess.DEVNULL, check=False)
    print("recorded the kernel's answers to the bulk sequence of %d tunnels in %s" % (n, path))


def replay(path, repeat):
    """The recorded bulk sequence again, the kernel's answers replayed: the module's own time."""
    global TYPE  # pylint: disable=global-statement
    with open(path) as f:
        recorded = json.load(f)
    TYPE = recorded.get('type', 'ipip')
    print('bulk sequence of %d %s tunnels, the kernel\'s answers replayed (the module\'s own time):' % (recorded['n'], TYPE))
    for op, kwargs in bulk_operations(recorded['n']):
        answers = [base64.b64decode(a) for a in recorded['answers'][op]]
        times = []
        for dummy in range(max(repeat, 5)):
            nl = Netlink(RtnlSocket.over(_Replayer(answers)), NETNS)
            times.append(timed(run_on, nl, **kwargs)[0])
        times.sort()
        print('  %-10s  best %.3fs, median %.3fs of %d runs (%d datagrams)'
              % (op, times[0], times[len(times) // 2], len(times), len(answers)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--counts', type=int, nargs='+', default=[100, 1000])
    parser.add_argument('--singles', type=int, default=100, help='largest N for the singles loop (it is O(N^2))')
    parser.add_argument('--speed', action='store_true', help='print only the Python speed figure (works anywhere)')
    parser.add_argument('--repeat', type=int, default=3, help='rounds (ip -batch, then bulk) per figure, the best is printed')
    parser.add_argument('--type', choices=['ipip', 'gre'], default='ipip', help='the tunnels\' type (gre: a key each)')
    parser.add_argument('--record', metavar='FILE', help='also record the bulk sequence of the largest N (for --replay)')
    parser.add_argument('--replay', metavar='FILE', help='replay a recorded bulk sequence here and print its times')
    args = parser.parse_args()
    global TYPE  # pylint: disable=global-statement
    TYPE = args.type
    print('kernel %s, python %s, %s tunnels with an address and a route each'
          % (os.uname().release, sys.version.split()[0], 'recorded' if args.replay else TYPE))
    print('python speed: %.3fs for the fixed workload (bench/iptun_bench.py --speed on the host to compare)'
          % python_speed())
    if args.speed:
        return
    if args.replay:
        replay(args.replay, args.repeat)
        return
    rows = []
    try:
        for n in args.counts:
            batch, bulk, ratios = rounds(args.repeat, n)
            singles = bench_singles(n) if n <= args.singles else {}
            rows.append((n, batch, bulk, singles, ratios))
        if args.record:
            record(args.record, max(args.counts))
    finally:
        subprocess.run(['ip', 'netns', 'del', NETNS], stderr=subprocess.DEVNULL, check=False)
    print()
    print('ip -batch: for noop_check, the three iproute2 JSON dumps (links -d, addresses, routes table all) added up, '
          'read %d times a round just before the module\'s check, on its tunnels; for modify, ip -batch setting the ttl '
          'of those tunnels %d times a round just before the module sets it back; median ratio: of those pairs'
          % (NOOP_PAIRS, MODIFY_PAIRS))
    print('times: best of %d rounds; bulk/batch: of the best times, and the median of the rounds\' ratios (noop_check and '
          'modify: of all their pairs, whose range the pairs row gives)' % args.repeat)
    print('%6s  %-10s  %10s  %10s  %10s  %12s  %12s'
          % ('N', 'operation', 'ip -batch', 'bulk', 'singles', 'bulk/batch', 'median ratio'))
    for n, batch, bulk, singles, ratios in rows:
        for op in ('create', 'noop_check', 'modify', 'delete'):
            b = batch.get(op)
            print('%6d  %-10s  %10s  %10s  %10s  %12s  %12s' % (
                n, op, '%.3fs' % b if b is not None else '-', '%.3fs' % bulk[op],
                '%.3fs' % singles[op] if op in singles else '-',
                '%.2fx' % (bulk[op] / b) if b else '-',
                '%.2fx' % ratios[op] if op in ratios else '-'))
        spreads = ['%s %.2fx-%.2fx (%d)' % ((op,) + ratios[op + '_spread']) for op in SIDE_BY_SIDE]
        print('%6d  %-10s  %s' % (n, 'pairs', ', '.join(spreads)))
        print('%6d  %-10s  %s (after ip -batch); not in the floor: routes proto boot and static %.3fs' % (
            n, 'dumps', ', '.join('%s %.3fs' % (name, batch['dump_' + name]) for name, dummy in DUMPS), batch['own_routes']))
        print('%6d  %-10s  not in the floor: ip -batch in a namespace of its own (as timed before session 24) %.3fs '
              '(bulk/that %.2fx); the three dumps, that ip -batch, the links dump again %.3fs (bulk/that %.2fx)' % (
                  n, 'modify', batch['modify_own_namespace'], bulk['modify'] / batch['modify_own_namespace'],
                  batch['modify_reading'], bulk['modify'] / batch['modify_reading']))


if __name__ == '__main__':
    main()
