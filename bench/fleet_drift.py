# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A nightly drift run over a simulated fleet, on this host: prints figures, asserts nothing.

Each inventory host is a network namespace of its own (``edgenet-fleet-<pid>-NNN``, a veth pair
``lan0``/``lan0p`` with ``2001:db8:N::1/64`` on ``lan0``), driven with ``ansible_connection:
local`` and the modules' ``netns`` option. The play has two tasks, both of the collection:

- ``dhcpv6_server`` (dnsmasq backend, ``service_manager: none``, a config file per host);
- ``iptun``: the tunnel ``agg0`` present on every tenth host, absent on the others
  (``persistent: false``; this host's kernel has no ipip driver, which check mode never needs).

One real run writes every host's dnsmasq file (the iptun task is skipped); then drift is made by
hand: the DNS server edited on every fourth host, the search domain on every seventh, the file
removed on every 25th, and the last host's namespace deleted (its task fails: a failed host).
Then ``ansible-playbook --check --diff`` runs at each ``--forks``, once without the drift_report
callback and once with it, and the script prints side by side:

- wall time of the whole run (from here), and the peak RSS of its largest process (the
  controller; ``wait4``'s ``ru_maxrss``), callback off and on;
- the callback's own time, measured inside the controller by ``fleet_timer/fleet_timer.py`` (a
  callback of the bench that wraps drift_report's methods in a clock): all its calls for task
  results, and the end of the play (building the report, rendering and writing three files);
- the memory it needs: the rows it held at the end (deep size) and the peak that building and
  rendering the report allocates on top (``tracemalloc``, in a second build after the timed one);
- the sizes of the three files.

Usage (as root; tests/run --exec puts ansible-playbook on PATH):
    tests/run --exec python3 bench/fleet_drift.py [--hosts 200] [--forks 10 50] [--keep-report DIR]

``--keep-report DIR`` copies the last report (md, json, html) to DIR, for
bench/drift_report_screenshot. Every namespace it made is deleted by name when it ends, and its
working directory removed. No traffic leaves the namespaces: nothing is sent at all.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMER_DIR = os.path.join(ROOT, 'bench', 'fleet_timer')
DNS = '2001:db8:53::53'

PLAYBOOK = """\
- name: Fleet
  hosts: fleet
  gather_facts: false
  tasks:
    - name: DHCPv6 on the LAN
      edgenet.router.dhcpv6_server:
        interface: lan0
        backend: dnsmasq
        netns: "{{ fleet_netns }}"
        config_file: "{{ fleet_dir }}/dnsmasq-dhcpv6.conf"
        pid_file: "{{ fleet_dir }}/dnsmasq.pid"
        lease_file: "{{ fleet_dir }}/dnsmasq.leases"
        service_manager: none
        dns_servers: ['%(dns)s']
        domain_search: [lab.example]

    - name: Tunnel to the aggregation router
      edgenet.router.iptun:
        name: agg0
        state: "{{ fleet_agg0 }}"
        type: ipip
        local: "{{ fleet_local }}"
        remote: 198.51.100.1
        ttl: 64
        netns: "{{ fleet_netns }}"
        persistent: false
      when: not (fleet_setup | default(false) | bool)
""" % {'dns': DNS}


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, **kwargs)


def make_fleet(count, prefix):
    """Namespaces and their links; returns the names made (the only ones cleanup deletes)."""
    made = []
    for index in range(1, count + 1):
        name = '%s%03d' % (prefix, index)
        run(['ip', 'netns', 'add', name])
        made.append(name)
        batch = ('link add lan0 type veth peer name lan0p\n'
                 'addr add 2001:db8:%x::1/64 dev lan0 nodad\n'
                 'link set lan0 up\nlink set lan0p up\n' % index)
        run(['ip', '-n', name, '-batch', '-'], input=batch.encode())
    return made


def write_inventory(path, count, prefix, work):
    hosts = {}
    for index in range(1, count + 1):
        host_dir = os.path.join(work, 'hosts', 'edge%03d' % index)
        os.makedirs(host_dir)
        hosts['edge%03d' % index] = {
            'fleet_netns': '%s%03d' % (prefix, index),
            'fleet_dir': host_dir,
            'fleet_agg0': 'present' if index % 10 == 0 else 'absent',
            'fleet_local': '192.0.2.%d' % (index % 250 + 1),
        }
    inventory = {'fleet': {'hosts': hosts, 'vars': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}
    with open(path, 'w') as handle:
        json.dump(inventory, handle, indent=1)     # JSON is YAML: the inventory plugin reads it


def make_drift(count, prefix, work, made):
    """Edits by hand, the way a fleet drifts; the last host loses its namespace."""
    for index in range(1, count + 1):
        path = os.path.join(work, 'hosts', 'edge%03d' % index, 'dnsmasq-dhcpv6.conf')
        if index % 25 == 0:
            os.unlink(path)
            continue
        with open(path) as handle:
            text = handle.read()
        if index % 4 == 0:
            text = text.replace('[%s]' % DNS, '[2001:db8:53::99]')
        if index % 7 == 0:
            text = text.replace('domain-search,lab.example', 'domain-search,old.example')
        with open(path, 'w') as handle:
            handle.write(text)
    gone = '%s%03d' % (prefix, count)
    run(['ip', 'netns', 'del', gone])
    made.remove(gone)


def playbook_run(work, forks, callback, timeout, extra=()):
    """One ansible-playbook run: (wall seconds, max RSS bytes, exit status, timer figures)."""
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(work, 'coll'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_HOST_KEY_CHECKING='0', ANSIBLE_RETRY_FILES_ENABLED='0',
               EDGENET_DRIFT_REPORT_DIR=os.path.join(work, 'report'),
               FLEET_TIMER_OUT=os.path.join(work, 'timer.json'))
    env.pop('ANSIBLE_CALLBACKS_ENABLED', None)
    if callback:
        env.update(ANSIBLE_CALLBACKS_ENABLED='edgenet.router.drift_report,fleet_timer',
                   ANSIBLE_CALLBACK_PLUGINS=TIMER_DIR)
    if os.path.exists(env['FLEET_TIMER_OUT']):
        os.unlink(env['FLEET_TIMER_OUT'])
    argv = ['timeout', str(timeout), 'ansible-playbook', '-i', os.path.join(work, 'inventory.yml'),
            os.path.join(work, 'site.yml'), '--forks', str(forks)] + list(extra)
    log = os.path.join(work, 'run-%d-%s.log' % (forks, 'on' if callback else 'off'))
    start = time.perf_counter()
    with open(log, 'w') as handle:
        proc = subprocess.Popen(argv, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=work)
        dummy, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    timer = None
    if callback and os.path.exists(env['FLEET_TIMER_OUT']):
        with open(env['FLEET_TIMER_OUT']) as handle:
            timer = json.load(handle)
    with open(log) as handle:
        summary = [line.strip() for line in handle if line.startswith('drift report:')]
    return wall, usage.ru_maxrss * 1024, proc.returncode, timer, summary, log


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--hosts', type=int, default=200)
    parser.add_argument('--forks', type=int, nargs='+', default=[10, 50])
    parser.add_argument('--timeout', type=int, default=900, help='seconds, each ansible-playbook run')
    parser.add_argument('--keep-report', metavar='DIR')
    parser.add_argument('--only-on', action='store_true', help='no runs without the callback (for a report only)')
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit('fleet_drift.py: needs root (network namespaces)')
    if not shutil.which('ansible-playbook'):
        sys.exit('fleet_drift.py: ansible-playbook not on PATH; run it as: tests/run --exec python3 bench/fleet_drift.py')
    if not 2 <= args.hosts <= 999:
        sys.exit('fleet_drift.py: --hosts 2..999')
    prefix = 'edgenet-fleet-%d-' % os.getpid()
    work = tempfile.mkdtemp(prefix='edgenet-fleet.')
    made = []
    try:
        os.makedirs(os.path.join(work, 'coll', 'ansible_collections', 'edgenet'))
        os.symlink(ROOT, os.path.join(work, 'coll', 'ansible_collections', 'edgenet', 'router'))
        with open(os.path.join(work, 'site.yml'), 'w') as handle:
            handle.write(PLAYBOOK)
        write_inventory(os.path.join(work, 'inventory.yml'), args.hosts, prefix, work)
        start = time.perf_counter()
        made = make_fleet(args.hosts, prefix)
        print('%d namespaces (%s001..%03d) made in %.1f s' % (len(made), prefix, args.hosts,
                                                              time.perf_counter() - start))
        wall, dummy, status, dummy, dummy, log = playbook_run(
            work, 50, False, args.timeout, ['-e', 'fleet_setup=true'])
        print('setup: a real run wrote %d dnsmasq files in %.1f s (exit %d)' % (args.hosts, wall, status))
        if status != 0:
            sys.exit('fleet_drift.py: the setup run failed; see %s (kept)' % log)
        make_drift(args.hosts, prefix, work, made)
        print('drift made by hand; check runs (--check --diff), %s, at each forks:'
              % ('callback on' if args.only_on else 'callback off, then on'))
        print()
        rows = []
        for forks in args.forks:
            for callback in (True,) if args.only_on else (False, True):
                wall, rss, status, timer, summary, dummy = playbook_run(
                    work, forks, callback, args.timeout, ['--check', '--diff'])
                rows.append((forks, callback, wall, rss, status, timer))
                if summary:
                    print('  forks %d: %s' % (forks, summary[0]))
        print()
        print_table(rows)
        if args.keep_report:
            os.makedirs(args.keep_report, exist_ok=True)
            for ext in ('md', 'json', 'html'):
                shutil.copy(os.path.join(work, 'report', 'drift-report.' + ext), args.keep_report)
            print('report kept in %s' % args.keep_report)
    finally:
        for name in made:
            subprocess.run(['ip', 'netns', 'del', name], check=False)
        shutil.rmtree(work, ignore_errors=True)


def print_table(rows):
    header = ('forks', 'callback', 'wall s', 'max RSS MB', 'exit', 'results s', 'results cpu', 'calls',
              'end s', 'end cpu', 'held MB', 'end peak MB', 'md KB', 'json KB', 'html KB')
    print(' '.join('%11s' % h for h in header))
    base = {}
    for forks, callback, wall, rss, status, timer in rows:
        cells = [forks, 'on' if callback else 'off', '%.1f' % wall, '%.0f' % (rss / 1e6), status]
        if not callback:
            base[forks] = wall
            cells += ['-'] * 10
        elif timer is None:
            cells += ['no figures'] + ['-'] * 9
        else:
            sizes = timer['text_bytes']
            cells += ['%.3f' % timer['collect_s'], '%.3f' % timer['collect_cpu_s'], timer['collect_calls'],
                      '%.3f' % timer['end_s'], '%.3f' % timer['end_cpu_s'],
                      '%.2f' % (timer['held_bytes'] / 1e6), '%.2f' % (timer['end_peak_bytes'] / 1e6),
                      '%.1f' % (sizes[0] / 1e3), '%.1f' % (sizes[1] / 1e3), '%.1f' % (sizes[2] / 1e3)]
        print(' '.join('%11s' % c for c in cells))
    for forks, callback, wall, rss, status, timer in rows:
        if callback and timer:
            print('forks %d, the end of the play: report %.3f s, Markdown %.3f s, JSON %.3f s, HTML %.3f s '
                  '(built again, not written); slowest result call %.4f s%s'
                  % (forks, timer['report_s'], timer['markdown_s'], timer['json_s'], timer['html_s'],
                     timer['collect_max_s'],
                     '; wall on - off %+.1f s' % (wall - base[forks]) if forks in base else ''))


if __name__ == '__main__':
    main()
