# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The collection's own DHCPv6 relay agent (RFC 8415 section 19), the relay half of odhcpd.

Standard library only and no import from the collection: the module (backend ``edgenet`` of
dhcpv6_server) installs this file on the router as it is, and its systemd unit runs it as
``python3 -I FILE BOOT LIVE STATE``. One process serves every relayed interface:

- ``BOOT`` is what the router starts with; ``LIVE`` what it runs now. At start a missing LIVE is
  made from BOOT, so the module can change the running relay (and roll that back) without
  touching BOOT, and a reboot comes back to BOOT. Both are the marker line and one JSON object::

    # Managed by edgenet.router: edits here are reported as drift and overwritten.
    {"interfaces": {"lan0": {"upstream_interface": "wan0", "servers": ["ff02::1:2"],
                             "interface_id": true, "hop_limit": 8, "dns_rewrite": false}}}

- ``STATE`` is written by the daemon: its pid, the config it runs (as :func:`check_config`
  made it) and its counters (at most once a second, when they moved). The module trusts it only
  while that pid's command line is this relay's: a stale file of a dead relay serves nothing.
- ``SIGHUP`` re-reads LIVE on the same socket, so no exchange in flight is lost (a relay keeps
  no state between a RELAY-FORW and its RELAY-REPL); a config :func:`check_config` refuses is
  logged and the running one stays.

What it does, for each message on port 547:

* from a relayed (downstream) interface, a client's message or a RELAY-FORW of a relay behind it:
  wrapped in a RELAY-FORW (hop count 0, or the inner one's + 1; a message whose hop count reached
  ``hop_limit`` is dropped and counted), link-address the interface's global address (``::``
  when the message came from a relay with a global source, as section 19.1.2 says), peer-address
  the sender, the Interface-ID option (the interface name) when ``interface_id``; sent to every
  server, out of ``upstream_interface`` only (multicast with that interface, unicast with it as
  the outgoing interface), never back where it came from;
* from an upstream interface, a RELAY-REPL: its downstream interface found by the Interface-ID
  (when it has one) or the link-address, the inner message sent to the peer-address (port 546 for
  a client, 547 for a relay), with the DNS Recursive Name Server option replaced by the
  interface's own address when ``dns_rewrite``;
* anything else is dropped and counted by reason.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import time

SERVER_PORT = 547
CLIENT_PORT = 546
ALL_RELAY_AGENTS_AND_SERVERS = 'ff02::1:2'
HOP_COUNT_LIMIT = 8  # RFC 8415 section 7.6
MAX_MESSAGE = 65535

# Message types (RFC 8415 section 7.3).
CLIENT_MESSAGES = {1: 'solicit', 3: 'request', 4: 'confirm', 5: 'renew', 6: 'rebind', 8: 'release', 9: 'decline',
                   11: 'information-request'}
RELAY_FORW = 12
RELAY_REPL = 13
# Options (RFC 8415 section 21, RFC 3646).
OPTION_RELAY_MSG = 9
OPTION_INTERFACE_ID = 18
OPTION_DNS_SERVERS = 23

_RELAY_HEADER = struct.Struct('!BB16s16s')
_OPTION_HEADER = struct.Struct('!HH')
_PKTINFO = struct.Struct('@16sI')
DROP_REASONS = ('malformed', 'hop_limit', 'no_link_address', 'unknown_interface', 'unexpected', 'send_failed')
MARKER = '# Managed by edgenet.router: edits here are reported as drift and overwritten.'
# A Linux interface name, literally (it names a socket option's interface and the Interface-ID).
_IFNAME_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}\Z')
INTERFACE_KEYS = ('upstream_interface', 'servers', 'interface_id', 'hop_limit', 'dns_rewrite')
MAX_SERVERS = 16
# How old the relay's copy of the interfaces' addresses may be, in seconds.
ADDRESS_TTL = 1.0


class Malformed(ValueError):
    pass


# ---- the wire format (pure) ----------------------------------------------------------------------
def options(data):
    """``[(code, value)]`` of a run of DHCPv6 options; :class:`Malformed` when one overruns."""
    out, offset = [], 0
    while offset < len(data):
        if offset + _OPTION_HEADER.size > len(data):
            raise Malformed('an option header is cut short')
        code, length = _OPTION_HEADER.unpack_from(data, offset)
        offset += _OPTION_HEADER.size
        if offset + length > len(data):
            raise Malformed('option %d says %d bytes and has %d' % (code, length, len(data) - offset))
        out.append((code, data[offset:offset + length]))
        offset += length
    return out


def option_bytes(code, value):
    return _OPTION_HEADER.pack(code, len(value)) + value


def relay_forw(hop_count, link_address, peer_address, message, interface_id=None):
    """A RELAY-FORW carrying ``message`` (bytes); addresses as text."""
    body = _RELAY_HEADER.pack(RELAY_FORW, hop_count, socket.inet_pton(socket.AF_INET6, link_address),
                              socket.inet_pton(socket.AF_INET6, peer_address))
    if interface_id is not None:
        body += option_bytes(OPTION_INTERFACE_ID, interface_id)
    return body + option_bytes(OPTION_RELAY_MSG, message)


def relay_message(data):
    """A RELAY-FORW or RELAY-REPL -> ``{type, hop_count, link_address, peer_address, options,
    message, interface_id}`` (``message`` the Relay Message option's bytes)."""
    if len(data) < _RELAY_HEADER.size:
        raise Malformed('a relay message of %d bytes' % len(data))
    kind, hops, link, peer = _RELAY_HEADER.unpack_from(data)
    opts = options(data[_RELAY_HEADER.size:])
    inner = [value for code, value in opts if code == OPTION_RELAY_MSG]
    if len(inner) != 1 or not inner[0]:
        raise Malformed('a relay message needs exactly one non-empty Relay Message option')
    ifid = [value for code, value in opts if code == OPTION_INTERFACE_ID]
    return {'type': kind, 'hop_count': hops, 'link_address': socket.inet_ntop(socket.AF_INET6, link),
            'peer_address': socket.inet_ntop(socket.AF_INET6, peer), 'options': opts, 'message': inner[0],
            'interface_id': ifid[0] if ifid else None}


def rewrite_dns(message, address):
    """A client message (ADVERTISE, REPLY...) whose DNS Recursive Name Server option, when it has
    one, names only ``address``. The message's 4-byte header is kept; other options as they were."""
    if len(message) < 4:
        raise Malformed('a client message of %d bytes' % len(message))
    out = message[:4]
    for code, value in options(message[4:]):
        if code == OPTION_DNS_SERVERS:
            value = socket.inet_pton(socket.AF_INET6, address)
        out += option_bytes(code, value)
    return out


# ---- what the relay decides (pure: no socket) ------------------------------------------------------
class Decision(object):
    """Send ``data`` to ``(address, port)`` out of interface ``ifname``, or drop for ``reason``."""

    def __init__(self, sends=(), reason=None, forwarded=False):
        self.sends = list(sends)
        self.reason = reason
        self.forwarded = forwarded


def _global(text):
    address = ipaddress.IPv6Address(text.split('%')[0])
    return not (address.is_link_local or address.is_loopback or address.is_unspecified or address.is_multicast)


def from_downstream(config, ifname, source, data, link_address):
    """A message that came in on relayed interface ``ifname`` from ``source``. ``link_address``
    is the interface's global address (None: it has none)."""
    conf = config['interfaces'][ifname]
    if not data:
        return Decision(reason='malformed')
    kind = data[0]
    if kind == RELAY_FORW:
        try:
            hops = relay_message(data)['hop_count']
        except Malformed:
            return Decision(reason='malformed')
        if hops >= conf.get('hop_limit', HOP_COUNT_LIMIT):
            return Decision(reason='hop_limit')
        hop_count = hops + 1
        # from a relay with a global address the server can answer it there: link-address 0
        link = '::' if _global(source) else link_address
    elif kind in CLIENT_MESSAGES:
        hop_count, link = 0, link_address
    else:
        return Decision(reason='unexpected')
    interface_id = ifname.encode('utf-8') if conf.get('interface_id') else None
    if link is None:
        if interface_id is None:
            return Decision(reason='no_link_address')
        link = '::'
    forw = relay_forw(hop_count, link, source.split('%')[0], data, interface_id)
    upstream = conf['upstream_interface']
    return Decision([(forw, server, SERVER_PORT, upstream) for server in conf['servers']], forwarded=True)


def from_upstream(config, data, link_addresses):
    """A message that came in on an upstream interface. ``link_addresses`` maps each relayed
    interface to its global address (or None)."""
    if not data or data[0] != RELAY_REPL:
        return Decision(reason='unexpected')
    try:
        repl = relay_message(data)
    except Malformed:
        return Decision(reason='malformed')
    ifname = None
    if repl['interface_id'] is not None:
        name = repl['interface_id'].decode('utf-8', 'replace')
        if name in config['interfaces'] and config['interfaces'][name].get('interface_id'):
            ifname = name
    elif repl['link_address'] != '::':
        for name, address in sorted(link_addresses.items()):
            if address is not None and ipaddress.IPv6Address(address) == ipaddress.IPv6Address(repl['link_address']):
                ifname = name
                break
    if ifname is None:
        return Decision(reason='unknown_interface')
    message = repl['message']
    port = SERVER_PORT if message[0] == RELAY_REPL else CLIENT_PORT
    if port == CLIENT_PORT and config['interfaces'][ifname].get('dns_rewrite'):
        if link_addresses.get(ifname) is None:
            return Decision(reason='no_link_address')
        try:
            message = rewrite_dns(message, link_addresses[ifname])
        except Malformed:
            return Decision(reason='malformed')
    return Decision([(message, repl['peer_address'], port, ifname)])


# ---- the daemon ----------------------------------------------------------------------------------
def global_addresses(path='/proc/net/if_inet6'):
    """``{ifname: first global IPv6 address}`` of this namespace (the kernel's own table)."""
    out = {}
    with open(path) as handle:
        for line in handle:
            fields = line.split()
            # scope 00: global; flag 0x40: tentative (DAD not done, the kernel would not send from it)
            if len(fields) < 6 or fields[3] != '00' or int(fields[4], 16) & 0x40:
                continue
            text = str(ipaddress.IPv6Address(bytes.fromhex(fields[0])))
            out.setdefault(fields[5], text)
    return out


class BadConfig(ValueError):
    pass


def _ifname(value, what):
    if not isinstance(value, str) or not _IFNAME_RE.match(value) or value.isdigit():
        raise BadConfig('%s %r is not an interface name' % (what, value))
    return value


def check_config(config):
    """The config as the daemon runs it, every value typed and bounded; :class:`BadConfig` names
    what is wrong. The module runs the same check before it writes a file."""
    if not isinstance(config, dict) or set(config) != {'interfaces'} or not isinstance(config['interfaces'], dict):
        raise BadConfig('the config is one object with the key "interfaces" only')
    out = {}
    for ifname, conf in sorted(config['interfaces'].items()):
        where = 'interface %s' % _ifname(ifname, 'relayed interface')
        if not isinstance(conf, dict) or set(conf) != set(INTERFACE_KEYS):
            raise BadConfig('%s: give exactly %s' % (where, ', '.join(INTERFACE_KEYS)))
        upstream = _ifname(conf['upstream_interface'], '%s: upstream_interface' % where)
        if upstream == ifname:
            raise BadConfig('%s: the upstream interface must be another one' % where)
        servers = conf['servers']
        if not isinstance(servers, list) or not 1 <= len(servers) <= MAX_SERVERS:
            raise BadConfig('%s: servers is a list of 1-%d IPv6 addresses' % (where, MAX_SERVERS))
        try:
            servers = [str(ipaddress.IPv6Address(server)) for server in servers]
        except (ValueError, TypeError):
            raise BadConfig('%s: servers %r are not all IPv6 addresses' % (where, servers))
        hop_limit = conf['hop_limit']
        if not isinstance(hop_limit, int) or isinstance(hop_limit, bool) or not 1 <= hop_limit <= 32:
            raise BadConfig('%s: hop_limit is a number 1-32' % where)
        for flag in ('interface_id', 'dns_rewrite'):
            if not isinstance(conf[flag], bool):
                raise BadConfig('%s: %s is true or false' % (where, flag))
        out[ifname] = {'upstream_interface': upstream, 'servers': servers, 'interface_id': conf['interface_id'],
                       'hop_limit': hop_limit, 'dns_rewrite': conf['dns_rewrite']}
    return {'interfaces': out}


def parse_config(text):
    """A config file's text -> the checked config."""
    lines = text.split('\n')
    if MARKER not in (line.strip() for line in lines):
        raise BadConfig('the file lacks the line "%s"' % MARKER)
    try:
        config = json.loads('\n'.join(line for line in lines if not line.lstrip().startswith('#')))
    except ValueError as exc:
        raise BadConfig('not JSON: %s' % exc)
    return check_config(config)


def render_config(config):
    return '%s\n%s\n' % (MARKER, json.dumps(check_config(config), sort_keys=True, indent=1))


def load(path):
    with open(path) as handle:
        return parse_config(handle.read())


def _write(path, text, mode=0o644):
    tmp = '%s.%d.tmp' % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, 'w') as handle:
        handle.write(text)
    os.replace(tmp, path)


class Relay(object):
    def __init__(self, boot, live, state):
        self.live, self.state = live, state
        for directory in set(os.path.dirname(path) for path in (live, state)):
            os.makedirs(directory, 0o755, exist_ok=True)   # /run is empty after a boot
        if not os.path.exists(live):   # the first start since boot: run what the router boots with
            with open(boot) as handle:
                text = handle.read()
            parse_config(text)
            _write(live, text, 0o600)
        self.config = load(live)
        self.counters = {'forwarded': 0, 'replied': 0, 'dropped': dict((r, 0) for r in DROP_REASONS)}
        self.reload_asked = False
        self.stopping = False
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        # never hear our own multicast (the loop a relay to ff02::1:2 on its own link would make)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, HOP_COUNT_LIMIT)
        self.sock.bind(('::', SERVER_PORT))
        self.joined = set()
        self.written = (0.0, None)
        self._addresses = None
        self.apply_config()

    def apply_config(self):
        """Join All_DHCP_Relay_Agents_and_Servers on each relayed interface (and leave it where
        no longer relayed); map names and indexes."""
        self.index = {}
        for ifname in set(self.config['interfaces']) | set(c['upstream_interface'] for c in self.config['interfaces'].values()):
            try:
                self.index[ifname] = socket.if_nametoindex(ifname)
            except OSError:
                log('interface %s does not exist (yet): not relayed until a reload finds it' % ifname)
        wanted = set(self.index[n] for n in self.config['interfaces'] if n in self.index)
        group = socket.inet_pton(socket.AF_INET6, ALL_RELAY_AGENTS_AND_SERVERS)
        for ifindex in sorted(self.joined - wanted):
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_LEAVE_GROUP, group + struct.pack('@I', ifindex))
        for ifindex in sorted(wanted - self.joined):
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group + struct.pack('@I', ifindex))
        self.joined = wanted
        self.names = dict((i, n) for n, i in self.index.items())
        self.upstreams = set(c['upstream_interface'] for c in self.config['interfaces'].values())

    def reload(self):
        self.reload_asked = False
        try:
            self.config = load(self.live)
        except (OSError, ValueError) as exc:
            log('reload refused, the running config stays: %s' % exc)
            return
        self.apply_config()
        self._addresses = None   # and the addresses read afresh
        log('reloaded %s: %d relayed interfaces' % (self.live, len(self.config['interfaces'])))
        self.write_state(time.time(), force=True)

    def addresses(self, now=None):
        """The relayed interfaces' global addresses: the kernel's table, read again once a second
        (a read per message would cost more than the relaying itself)."""
        now = time.monotonic() if now is None else now
        if self._addresses is None or now - self._addresses[0] >= ADDRESS_TTL:
            self._addresses = (now, global_addresses())
        return self._addresses[1]

    def handle(self, data, source, ifindex):
        ifname = self.names.get(ifindex)
        addresses = self.addresses()
        if ifname in self.config['interfaces'] and (data[:1] != bytes([RELAY_REPL]) or ifname not in self.upstreams):
            decision = from_downstream(self.config, ifname, source, data, addresses.get(ifname))
        elif ifname in self.upstreams:
            decision = from_upstream(self.config, data, dict((n, addresses.get(n)) for n in self.config['interfaces']))
        else:
            decision = Decision(reason='unexpected')
        for payload, address, port, out_ifname in decision.sends:
            if out_ifname == ifname and port == SERVER_PORT and decision.forwarded:
                decision.reason = 'unexpected'  # never back out of the interface it came in on
                continue
            try:
                self.send(payload, address, port, self.index[out_ifname])
            except (OSError, KeyError) as exc:
                log('send to %s%%%s failed: %s' % (address, out_ifname, exc))
                decision.reason = 'send_failed'
                continue
            self.counters['forwarded' if decision.forwarded else 'replied'] += 1
        if decision.reason is not None:
            self.counters['dropped'][decision.reason] += 1

    def send(self, payload, address, port, ifindex):
        scope = ifindex if ipaddress.IPv6Address(address).is_link_local or address.startswith('ff02') else 0
        pktinfo = _PKTINFO.pack(b'\0' * 16, ifindex)
        if address.lower().startswith('ff'):
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        self.sock.sendmsg([payload], [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, pktinfo)], 0, (address, port, 0, scope))

    def write_state(self, now, force=False):
        """The state file: pid, config, counters; when forced, else at most once a second and only
        when the counters moved."""
        if not force and now - self.written[0] < 1.0:
            return
        counters = json.dumps(self.counters, sort_keys=True)
        if not force and counters == self.written[1]:
            return
        self.written = (now, counters)
        _write(self.state, json.dumps({'pid': os.getpid(), 'config': self.config, 'counters': self.counters,
                                       'updated': int(now)}, sort_keys=True))

    def serve(self, until=None):
        signal.signal(signal.SIGTERM, lambda signum, frame: setattr(self, 'stopping', True))
        signal.signal(signal.SIGHUP, lambda signum, frame: setattr(self, 'reload_asked', True))
        self.write_state(time.time(), force=True)
        while not self.stopping and (until is None or time.time() < until):
            if self.reload_asked:
                self.reload()
            try:
                ready = select.select([self.sock], [], [], 1.0)[0]
            except InterruptedError:
                ready = []
            if ready:
                data, ancdata, dummy, source = self.sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(_PKTINFO.size))
                ifindex = None
                for level, kind, value in ancdata:
                    if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO and len(value) >= _PKTINFO.size:
                        ifindex = _PKTINFO.unpack_from(value)[1]
                text = source[0]
                if ipaddress.IPv6Address(text.split('%')[0]).is_link_local:
                    text = text.split('%')[0]
                self.handle(data, text, ifindex)
            self.write_state(time.time())
        if self.stopping:
            os.unlink(self.state)


def log(text):
    sys.stderr.write('edgenet-dhcp6-relay: %s\n' % text)
    sys.stderr.flush()


def main(argv):
    if len(argv) != 4:
        log('usage: %s BOOT_CONFIG LIVE_CONFIG STATE_FILE' % argv[0])
        return 2
    try:
        relay = Relay(argv[1], argv[2], argv[3])
    except (OSError, ValueError) as exc:
        log('cannot start: %s' % exc)
        return 1
    log('relaying %s' % (', '.join(sorted(relay.config['interfaces'])) or 'nothing'))
    relay.serve()
    return 0


if __name__ == '__main__':
    # A daemon run by its unit, not a module: its exit status is systemd's to read.
    sys.exit(main(sys.argv))  # pylint: disable=ansible-bad-function
