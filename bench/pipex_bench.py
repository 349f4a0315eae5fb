# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of pipex_session and pipex_session_info inside a lab guest: prints figures, asserts nothing.

Static L2TPv3 (issue 16's benchmark), N sessions over one UDP tunnel in a network namespace of
its own, the module's own code (``run_pipex`` / ``info`` with the real generic netlink and
rtnetlink stores, ``persistent: false``) against iproute2:

- create: one bulk ``run_pipex`` call (``sessions:``, what one task does, minus transport) against
  an ``ip -batch`` of the same ``l2tp add tunnel`` / ``l2tp add session`` / ``link set up`` lines;
- read: ``info`` (pipex_session_info: every tunnel and session, canonical, with counters) against
  ``ip l2tp show session`` and ``ip -s -j link show`` (iproute2 needs both for the same figures);
- no-op check: the bulk call again in check mode;
- delete: ``run_pipex`` with every session absent against an ``ip -batch`` of the deletes.

Each figure is the best of ``--repeat`` rounds (a round: iproute2, then the module, back to back).

With ``--ppp`` it times the live PPP session read (``ppp_sessions``, what pipex_session_info adds)
against ``cat /proc/net/pppoe`` on whatever concentrator sessions the host has (bench/run-pipex
makes 50).

Usage (in the guest, the collection on PYTHONPATH, as root):
    pipex_bench.py [--counts 100] [--repeat 3] [--ppp]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

# bench_common lives beside this script (its directory is first on sys.path when it runs)
import bench_common  # pylint: disable=import-error
from bench_common import timed  # pylint: disable=import-error
from ansible_collections.edgenet.router.plugins.module_utils._command import run_process
from ansible_collections.edgenet.router.plugins.module_utils._pipex._service import (
    TASK, info, open_stores, run_pipex,
)

NETNS = 'pxbench'
TUNNEL = {'tunnel_id': 7000, 'peer_tunnel_id': 7001, 'local': '192.0.2.1', 'remote': '192.0.2.2', 'encap': 'udp',
          'udp_sport': 17010, 'udp_dport': 17011}
DEFAULTS = dict((name, spec.get('default')) for name, spec in TASK.argument_spec().items())


def session(i, state='present'):
    return dict(TUNNEL, ifname='pxb%d' % i, session_id=100 + i, peer_session_id=5000 + i, state=state)


def params(n, state='present'):
    out = dict(DEFAULTS, persistent=False, netns=NETNS, ifname=None,
               sessions=[session(i, state) for i in range(n)])
    return out


def ip_batch(lines):
    return bench_common.ip_batch(NETNS, lines)


def fresh_netns():
    subprocess.run(['ip', 'netns', 'del', NETNS], stderr=subprocess.DEVNULL, check=False)
    subprocess.run(['ip', 'netns', 'add', NETNS], check=True)
    subprocess.run(['ip', '-n', NETNS, 'link', 'set', 'lo', 'up'], check=True)
    subprocess.run(['ip', '-n', NETNS, 'addr', 'add', '192.0.2.1/24', 'dev', 'lo'], check=True)


def iproute2_round(n):
    fresh_netns()
    t = TUNNEL
    create = ip_batch(['l2tp add tunnel tunnel_id %d peer_tunnel_id %d encap udp local %s remote %s udp_sport %d '
                       'udp_dport %d' % (t['tunnel_id'], t['peer_tunnel_id'], t['local'], t['remote'], t['udp_sport'],
                                         t['udp_dport'])]
                      + ['l2tp add session name pxb%d tunnel_id %d session_id %d peer_session_id %d'
                         % (i, t['tunnel_id'], 100 + i, 5000 + i) for i in range(n)]
                      + ['link set pxb%d up' % i for i in range(n)])
    read = timed(subprocess.run, ['ip', '-n', NETNS, 'l2tp', 'show', 'session'], check=True, stdout=subprocess.DEVNULL)[0]
    read += timed(subprocess.run, ['ip', '-n', NETNS, '-s', '-j', 'link', 'show'], check=True, stdout=subprocess.DEVNULL)[0]
    delete = ip_batch(['l2tp del session tunnel_id %d session_id %d' % (t['tunnel_id'], 100 + i) for i in range(n)]
                      + ['l2tp del tunnel tunnel_id %d' % t['tunnel_id']])
    return {'create': create, 'read': read, 'delete': delete}


def module_call(task, check_mode=False):
    with open_stores(task, run_process) as (tunnels, runtime, files):
        return run_pipex(task, tunnels, runtime, files, check_mode=check_mode)


def module_round(n):
    fresh_netns()
    create, result = timed(module_call, params(n))
    assert result['changed'] and len(result['sessions']) == n, 'bulk create did not make every session'

    def read_all():
        with open_stores(params(n), run_process) as (dummy, runtime, dummy2):
            return info(runtime)
    read, seen = timed(read_all)
    assert len(seen['sessions']) == n, 'info did not list every session'
    noop, again = timed(module_call, params(n), True)
    assert not again['changed'], 'the no-op check found changes'
    delete = timed(module_call, params(n, 'absent'))[0]
    return {'create': create, 'read': read, 'noop_check': noop, 'delete': delete}


def ppp_figures(repeat):
    from ansible_collections.edgenet.router.plugins.module_utils._ppp._sessions import ppp_sessions
    best_cat = min(timed(subprocess.run, ['cat', '/proc/net/pppoe'], check=True, stdout=subprocess.DEVNULL)[0]
                   for dummy in range(repeat))
    runs = [timed(ppp_sessions) for dummy in range(repeat)]
    best = min(seconds for seconds, dummy in runs)
    rows = runs[0][1]
    print('| PPP sessions listed | `cat /proc/net/pppoe` | ppp_sessions() (state + kernel + counters) | ratio |')
    print('|---|---|---|---|')
    print('| %d | %.4f s | %.4f s | %.1fx |' % (len(rows), best_cat, best, best / best_cat))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--counts', type=int, nargs='+', default=[100])
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--ppp', action='store_true')
    args = parser.parse_args(argv)
    if args.ppp:
        ppp_figures(args.repeat)
        return 0
    print('| N | operation | iproute2 | module | module/iproute2 |')
    print('|---|---|---|---|---|')
    for n in args.counts:
        floor, mine = {}, {}
        for dummy in range(args.repeat):
            for key, value in iproute2_round(n).items():
                floor[key] = min(floor.get(key, value), value)
            for key, value in module_round(n).items():
                mine[key] = min(mine.get(key, value), value)
        for key, what in (('create', 'create (bulk)'), ('read', 'read (info vs show session + link -s)'),
                          ('noop_check', 'no-op check'), ('delete', 'delete (bulk)')):
            base = floor.get(key)
            print('| %d | %s | %s | %.3f s | %s |' % (
                n, what, '%.3f s' % base if base is not None else '-', mine[key],
                '%.2fx' % (mine[key] / base) if base else '-'))
    subprocess.run(['ip', 'netns', 'del', NETNS], check=False)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
