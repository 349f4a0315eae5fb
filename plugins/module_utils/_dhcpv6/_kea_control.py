# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Kea's control socket and its health: does the running kea-dhcp6 serve DHCPv6 at all?

Answering ``config-get`` is not serving: Kea 2.2, after refusing a runtime ``config-set``, goes to
``DHCP6_CONFIG_UNRECOVERABLE_ERROR`` with every DHCPv6 socket closed and still answers
``config-get`` with the last good config (measured with Debian's Kea 2.2). So health is read from two places:
``status-get`` (its ``sockets`` map says ``failed``/``retrying`` where Kea reports it) and the
kernel's own table: the UDP sockets on port 547 in Kea's network namespace
(``/proc/<pid>/net/udp6``) that Kea's process holds (``/proc/<pid>/fd``). The second also catches a
port held by another daemon (dnsmasq binds ``[::]:547``), which leaves Kea with none.
"""

from __future__ import annotations

import json
import os
import socket
import time

from ansible_collections.edgenet.router.plugins.module_utils._poll import until

__all__ = ['DHCP6_SERVER_PORT', 'KeaControl', 'KeaError', 'KeaHealth', 'server_sockets']

DHCP6_SERVER_PORT = 547
# How often Kea's health is asked while it settles (each ask is a status-get and a /proc read).
POLL_INTERVAL = 0.2


class KeaError(Exception):
    """Kea refused something or cannot be reached; the message carries Kea's own words."""


def server_sockets(pid, proc='/proc', port=DHCP6_SERVER_PORT):
    """The local addresses of the UDP (v6) sockets on ``port`` that process ``pid`` holds, or
    None when /proc cannot tell (not root, process gone): no verdict then, never a false alarm."""
    base = os.path.join(proc, str(pid))
    try:
        inodes = set()
        for name in os.listdir(os.path.join(base, 'fd')):
            target = os.readlink(os.path.join(base, 'fd', name))
            if target.startswith('socket:['):
                inodes.add(target[8:-1])
        with open(os.path.join(base, 'net', 'udp6')) as handle:
            lines = handle.read().splitlines()[1:]
    except OSError:
        return None
    out = []
    for line in lines:
        fields = line.split()
        if len(fields) < 10:
            continue
        address, _sep, hexport = fields[1].rpartition(':')
        try:
            local_port = int(hexport, 16)
        except ValueError:
            continue
        if local_port == port and fields[9] in inodes:
            out.append(address)
    return out


class KeaControl(object):
    """Kea's unix control socket: one JSON command per connection."""

    def __init__(self, path, timeout=30, proc='/proc', settle_seconds=5.0, sleep=time.sleep):
        self.path = path
        self.timeout = timeout
        self.proc = proc
        # Kea opens its DHCPv6 sockets at the end of a config commit, and retries a busy port
        # when service-sockets-retry-wait is set: health is polled this long before the verdict.
        self.settle_seconds = settle_seconds
        self.sleep = sleep

    def running(self):
        try:
            self.command('version-get')
            return True
        except KeaError:
            return False

    def _health(self):
        return KeaHealth(self, self.proc, self.settle_seconds, self.sleep)

    def problem(self):
        return self._health().problem()

    def settled_problem(self):
        return self._health().settled_problem()

    def serving(self):
        return self._health().serving()

    def command(self, name, arguments=None):
        message = {'command': name}
        if arguments is not None:
            message['arguments'] = arguments
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        chunks = []
        try:
            sock.connect(self.path)
            sock.sendall(json.dumps(message).encode())
            sock.shutdown(socket.SHUT_WR)
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
            answer = json.loads(b''.join(chunks))
        except (OSError, ValueError) as exc:
            raise KeaError('cannot talk to Kea over %s (%s): %s'
                           % (self.path, name, getattr(exc, 'strerror', None) or exc))
        finally:
            sock.close()
        if isinstance(answer, list):
            answer = answer[0]
        if not isinstance(answer, dict) or answer.get('result') != 0:
            raise KeaError('Kea refused %s: %s' % (name, answer.get('text') if isinstance(answer, dict) else answer))
        return answer.get('arguments')


class KeaHealth(object):
    """Whether the Kea behind ``control`` (anything with ``running()`` and ``command()``) serves
    DHCPv6: a separate seam from the socket itself, so a fake control needs only those two."""

    def __init__(self, control, proc='/proc', settle_seconds=5.0, sleep=time.sleep):
        self.control = control
        self.proc = proc
        # Kea opens its DHCPv6 sockets at the end of a config commit, and retries a busy port
        # when service-sockets-retry-wait is set: health is polled this long before the verdict.
        self.settle_seconds = settle_seconds
        self.sleep = sleep

    def running(self):
        return self.control.running()

    def command(self, name, arguments=None):
        return self.control.command(name, arguments)

    def problem(self):
        """None when Kea serves DHCPv6 (its sockets are bound), else why not, in words."""
        try:
            status = self.command('status-get') or {}
        except KeaError as exc:
            return str(exc)
        sockets = status.get('sockets') or {}
        if sockets.get('status') not in (None, 'ready'):
            return 'Kea reports its sockets %s: %s' % (sockets.get('status'), '; '.join(sockets.get('errors') or []))
        pid = status.get('pid')
        if isinstance(pid, int):
            bound = server_sockets(pid, self.proc)
            if bound is not None and not bound:
                return ('kea-dhcp6 (pid %d) holds no socket on UDP port %d: it serves no interface (after a refused '
                        'config it closes them all; another DHCPv6 server such as dnsmasq holding the port does the '
                        'same)' % (pid, DHCP6_SERVER_PORT))
        return None

    def settled_problem(self):
        """:meth:`problem` after giving Kea up to ``settle_seconds`` to bind its sockets."""
        seen = []
        until(lambda: seen.append(self.problem()) or seen[-1] is None, self.settle_seconds, POLL_INTERVAL, self.sleep)
        return seen[-1]

    def serving(self):
        """True once a just started Kea answers and serves, within ``settle_seconds`` (systemd
        reports the unit started before Kea has read its config and opened the socket)."""
        if not until(self.running, self.settle_seconds, POLL_INTERVAL, self.sleep):
            return False
        return self.settled_problem() is None
