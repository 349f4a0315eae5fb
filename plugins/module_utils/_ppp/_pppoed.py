# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The collection's own PPPoE access concentrator discovery (RFC 2516), with sessions in the kernel.

Why not Debian's ``pppoe-server``: Debian 12's rp-pppoe 3.15 is built without kernel mode (its
usage lists no ``-k``; given ``-k`` it still runs every session as ``pppd pty /usr/sbin/pppoe``,
a userspace relay, and the server's ``/proc/net/pppoe`` stays empty — measured in the lab). pipex's
point is the data path in the kernel, so this daemon does the discovery stage itself and hands
each session to ``pppd plugin rp-pppoe.so rp_pppoe_sess ID:MAC``: pppd's own plugin (package
``ppp``) binds a PPPoX socket to that session, so the kernel's ``pppoe`` module carries it.

Standard library only, no import from the collection (installed on the router as it is, like
``_dhcpv6/_relayd.py``). One process per interface, from one JSON file::

    {"interface": "ac0", "ac_name": "edgenet", "service_name": "isp", "max_sessions": 64,
     "pppd": "/usr/sbin/pppd", "options_file": "/etc/ppp/edgenet-pppoe-ac0.options",
     "local_address": "10.0.0.1", "remote_pool": ["10.0.0.10", "10.0.0.73"],
     "sessions_file": "/run/edgenet/pppoe-ac0.sessions.json"}

Discovery: a PADI asking for our service (or any) gets a PADO with the AC name, the service and an
AC-Cookie (an HMAC of the client's MAC under a key of this process); a PADR with that cookie gets
a PADS with a free session id and an address from the pool, and pppd starts for it with an argv
built here (never read from the system). A PADT, or pppd's end, frees the session. The sessions
(id, peer MAC, address, pppd pid, start time) go to ``sessions_file`` for ``pipex_session_info``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import sys
import time

ETH_P_PPP_DISC = 0x8863
BROADCAST = b'\xff' * 6
PPPOE_VER_TYPE = 0x11
PADI, PADO, PADR, PADS, PADT = 0x09, 0x07, 0x19, 0x65, 0xa7
CODE_NAMES = {PADI: 'PADI', PADO: 'PADO', PADR: 'PADR', PADS: 'PADS', PADT: 'PADT'}
# Tags (RFC 2516 appendix A)
END_OF_LIST, SERVICE_NAME, AC_NAME, HOST_UNIQ, AC_COOKIE = 0x0000, 0x0101, 0x0102, 0x0103, 0x0104
RELAY_SESSION_ID, SERVICE_NAME_ERROR, AC_SYSTEM_ERROR = 0x0110, 0x0201, 0x0202
# Echoed from the client's packet into ours, as RFC 2516 asks.
ECHOED = (HOST_UNIQ, RELAY_SESSION_ID)
MAX_SESSION_ID = 0xfffe

_ETH = struct.Struct('!6s6sH')
_PPPOE = struct.Struct('!BBHH')
_TAG = struct.Struct('!HH')


class Malformed(ValueError):
    pass


# ---- the wire format (pure) ----------------------------------------------------------------------
def tags(payload):
    """``[(type, value)]``; stops at End-Of-List; :class:`Malformed` when a tag overruns."""
    out, offset = [], 0
    while offset + _TAG.size <= len(payload):
        kind, length = _TAG.unpack_from(payload, offset)
        offset += _TAG.size
        if kind == END_OF_LIST:
            break
        if offset + length > len(payload):
            raise Malformed('tag 0x%04x says %d bytes and has %d' % (kind, length, len(payload) - offset))
        out.append((kind, payload[offset:offset + length]))
        offset += length
    return out


def frame(dst, src, code, session_id, tag_list):
    payload = b''.join(_TAG.pack(kind, len(value)) + value for kind, value in tag_list)
    return _ETH.pack(dst, src, ETH_P_PPP_DISC) + _PPPOE.pack(PPPOE_VER_TYPE, code, session_id, len(payload)) + payload


def parse(data):
    """An Ethernet frame of the discovery stage -> ``{dst, src, code, session_id, tags}``."""
    if len(data) < _ETH.size + _PPPOE.size:
        raise Malformed('a frame of %d bytes' % len(data))
    dst, src, ethertype = _ETH.unpack_from(data)
    if ethertype != ETH_P_PPP_DISC:
        raise Malformed('ethertype 0x%04x' % ethertype)
    ver_type, code, session_id, length = _PPPOE.unpack_from(data, _ETH.size)
    if ver_type != PPPOE_VER_TYPE:
        raise Malformed('version/type 0x%02x' % ver_type)
    payload = data[_ETH.size + _PPPOE.size:]
    if length > len(payload):
        raise Malformed('a payload of %d bytes says %d' % (len(payload), length))
    return {'dst': dst, 'src': src, 'code': code, 'session_id': session_id, 'tags': tags(payload[:length])}


def mac_text(mac):
    return ':'.join('%02x' % b for b in mac)


# ---- what the concentrator decides (pure: no socket, no process) -----------------------------------
class Concentrator(object):
    """The discovery state: which session ids and pool addresses are taken, and by whom."""

    def __init__(self, config, own_mac, key=None, clock=time.time):
        self.config = config
        self.own_mac = own_mac
        self.key = key if key is not None else os.urandom(16)
        self.clock = clock
        self.sessions = {}  # session id -> {'mac', 'address', 'pid', 'started'}
        first, last = (ipaddress.IPv4Address(a) for a in config['remote_pool'])
        self.pool = [str(ipaddress.IPv4Address(n)) for n in range(int(first), int(last) + 1)]

    def cookie(self, mac):
        return hmac.new(self.key, mac, hashlib.sha256).digest()[:16]

    def _service_ok(self, packet):
        asked = [value for kind, value in packet['tags'] if kind == SERVICE_NAME]
        return bool(asked) and asked[0] in (b'', self.config['service_name'].encode('utf-8'))

    def _reply(self, packet, code, session_id, extra):
        echoed = [(kind, value) for kind, value in packet['tags'] if kind in ECHOED]
        return frame(packet['src'], self.own_mac, code, session_id, extra + echoed)

    def handle(self, packet):
        """A parsed discovery packet -> ``(reply frame or None, new session or None, ended session id or None)``."""
        code, src = packet['code'], packet['src']
        if code == PADI and packet['session_id'] == 0:
            if not self._service_ok(packet) or len(self.sessions) >= self.config.get('max_sessions', 64):
                return None, None, None  # another concentrator may serve it: stay silent
            return self._reply(packet, PADO, 0, [
                (AC_NAME, self.config['ac_name'].encode('utf-8')),
                (SERVICE_NAME, self.config['service_name'].encode('utf-8')),
                (AC_COOKIE, self.cookie(src))]), None, None
        if code == PADR and packet['dst'] == self.own_mac and packet['session_id'] == 0:
            cookie = [value for kind, value in packet['tags'] if kind == AC_COOKIE]
            if not cookie or not hmac.compare_digest(cookie[0], self.cookie(src)):
                return None, None, None  # not an offer of ours
            if not self._service_ok(packet):
                return self._reply(packet, PADS, 0, [(SERVICE_NAME_ERROR, b'')]), None, None
            session_id, address = self._free()
            if session_id is None:
                return self._reply(packet, PADS, 0, [(AC_SYSTEM_ERROR, b'no free session')]), None, None
            session = {'id': session_id, 'mac': mac_text(src), 'address': address, 'pid': None,
                       'started': int(self.clock())}
            self.sessions[session_id] = session
            return self._reply(packet, PADS, session_id, [
                (SERVICE_NAME, self.config['service_name'].encode('utf-8'))]), session, None
        if code == PADT and packet['dst'] == self.own_mac:
            session = self.sessions.get(packet['session_id'])
            if session is not None and session['mac'] == mac_text(src):
                return None, None, packet['session_id']
        return None, None, None

    def _free(self):
        if len(self.sessions) >= self.config.get('max_sessions', 64):
            return None, None
        used_ids = set(self.sessions)
        used_addresses = set(s['address'] for s in self.sessions.values())
        addresses = [a for a in self.pool if a not in used_addresses]
        ids = [i for i in range(1, MAX_SESSION_ID + 1) if i not in used_ids]
        if not addresses or not ids:
            return None, None
        return ids[0], addresses[0]

    def pppd_argv(self, session):
        """pppd for one session: its own plugin binds a PPPoX socket to the session (kernel mode)."""
        conf = self.config
        return [conf.get('pppd', '/usr/sbin/pppd'), 'plugin', 'rp-pppoe.so',
                'rp_pppoe_sess', '%d:%s' % (session['id'], session['mac']),
                'rp_pppoe_service', conf['service_name'], conf['interface'],
                'file', conf['options_file'], 'nodetach',
                '%s:%s' % (conf['local_address'], session['address'])]


# ---- the daemon ----------------------------------------------------------------------------------
def log(text):
    sys.stderr.write('edgenet-pppoe: %s\n' % text)
    sys.stderr.flush()


def _own_mac(ifname):
    with open('/sys/class/net/%s/address' % ifname) as handle:
        return bytes.fromhex(handle.read().strip().replace(':', ''))


class Daemon(object):
    def __init__(self, config):
        self.config = config
        self.ac = Concentrator(config, _own_mac(config['interface']))
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_PPP_DISC))
        self.sock.bind((config['interface'], ETH_P_PPP_DISC))
        self.pids = {}  # pppd pid -> session id
        self.stopping = False

    def start_pppd(self, session):
        pid = os.fork()
        if pid == 0:  # the child: pppd with our argv and nothing of ours open
            try:
                os.setsid()
                os.execv(self.ac.pppd_argv(session)[0], self.ac.pppd_argv(session))
            finally:
                os._exit(127)
        session['pid'] = pid
        self.pids[pid] = session['id']
        log('session %d for %s (%s): pppd %d' % (session['id'], session['mac'], session['address'], pid))

    def end(self, session_id, why):
        session = self.ac.sessions.pop(session_id, None)
        if session is None:
            return
        log('session %d ended: %s' % (session_id, why))
        if session['pid'] is not None and session['pid'] in self.pids:
            try:
                os.kill(session['pid'], signal.SIGTERM)
            except OSError:
                pass

    def reap(self):
        while self.pids:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            session_id = self.pids.pop(pid, None)
            if session_id is not None:
                self.end(session_id, 'pppd %d exited (status %d)' % (pid, status))

    def write_sessions(self):
        path = self.config.get('sessions_file')
        if not path:
            return
        tmp = '%s.%d.tmp' % (path, os.getpid())
        with open(tmp, 'w') as handle:
            json.dump({'pid': os.getpid(), 'interface': self.config['interface'],
                       'sessions': sorted(self.ac.sessions.values(), key=lambda s: s['id'])}, handle, sort_keys=True)
        os.replace(tmp, path)

    def serve(self):
        signal.signal(signal.SIGTERM, lambda signum, frame: setattr(self, 'stopping', True))
        self.write_sessions()
        while not self.stopping:
            ready = select.select([self.sock], [], [], 1.0)[0]
            changed = False
            if ready:
                data = self.sock.recv(1514)
                try:
                    packet = parse(data)
                except Malformed:
                    packet = None
                if packet is not None:
                    reply, session, ended = self.ac.handle(packet)
                    if reply is not None:
                        self.sock.send(reply)
                    if session is not None:
                        self.start_pppd(session)
                        changed = True
                    if ended is not None:
                        self.end(ended, 'PADT from the client')
                        changed = True
            before = len(self.ac.sessions)
            self.reap()
            if changed or len(self.ac.sessions) != before:
                self.write_sessions()
        for session_id in list(self.ac.sessions):
            self.end(session_id, 'the concentrator stops')
        self.write_sessions()


def main(argv):
    if len(argv) != 2:
        log('usage: %s CONFIG.json' % argv[0])
        return 2
    try:
        with open(argv[1]) as handle:
            daemon = Daemon(json.load(handle))
    except (OSError, ValueError, KeyError) as exc:
        log('cannot start: %s' % exc)
        return 1
    log('serving %s on %s' % (daemon.config['service_name'], daemon.config['interface']))
    daemon.serve()
    return 0


if __name__ == '__main__':
    # A daemon run by its unit, not a module: its exit status is systemd's to read.
    sys.exit(main(sys.argv))  # pylint: disable=ansible-bad-function
