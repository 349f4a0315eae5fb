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

Standard library only, no import from the collection (installed on the router as it is by
``ppp_server``, like ``_dhcpv6/_relayd.py``). One process per interface, run by the unit
``edgenet-pppoe@IFACE.service`` as ``pppoed.py BOOT LIVE STATE``:

- ``BOOT`` (``/etc/edgenet/ppp/IFACE.conf``) is what the router starts with; ``LIVE``
  (``/run/edgenet/ppp/IFACE.conf``) what it runs now. At start a missing LIVE is made from BOOT, so
  the module can change the running daemon (and roll that back) without touching BOOT, and a
  reboot comes back to BOOT. Both are the marker line and one JSON object::

    {"interface": "ac0", "ac_name": "edgenet", "service_name": "isp", "max_sessions": 64,
     "local_address": "10.0.0.1", "remote_pool": ["10.0.0.10", "10.0.0.73"],
     "dns_servers": ["10.0.0.53"], "authentication": ["pap", "chap"], "auth_name": "edgenet-pppoe-ac0",
     "mtu": 1492, "mru": 1492, "idle_timeout": 0, "lcp_echo_interval": 10, "lcp_echo_failure": 3,
     "adjust_tcpmss": false, "ingress_filter": false}

- At start it waits for the interface to exist (a router's access link may appear after the unit
  starts at boot) and sets it up.
- ``SIGHUP`` reloads LIVE: new sessions get the new settings, established ones keep theirs (their
  pppd already runs with its argv); a config that fails :func:`check_config`, or names another
  interface, is logged and the old one kept.
- ``SIGUSR1`` ends the sessions listed (ids, JSON) in ``IFACE.close`` next to STATE: each
  session's pppd is told to stop (it ends LCP and sends the PADT) and the session leaves STATE.
- ``STATE`` (``/run/edgenet/ppp/IFACE.state``) is written on every change: the daemon's pid, the
  config it runs and its sessions (id, peer MAC, address, pppd pid, start time), which
  ``ppp_server`` reads as its runtime store and ``pipex_session_info`` lists.
- pipex's two session options, on each session's link once pppd's ip-up names it (and on every
  session at a reload that changes them), as nftables rules in ``table inet edgenet_ppp``, each
  with the comment ``edgenet-ppp:IFACE:ID`` of its session: ``adjust_tcpmss`` clamps the MSS of
  TCP SYNs through the session to the route MTU (chain ``mss``); ``ingress_filter`` drops what the
  session sends from any address but the one it was given (chain ``ingress``, counted). A
  session's rules go when it ends; at start the daemon removes every rule of its interface left
  by an earlier run.

Discovery: a PADI asking for our service (or any) gets a PADO with the AC name, the service and an
AC-Cookie (an HMAC of the client's MAC under a key of this process); a PADR with that cookie gets
a PADS with a free session id and an address from the pool, and pppd starts for it with an argv
built here from the checked config (never a command read from the system). A PADT, or pppd's
end, frees the session.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import select
import signal
import re
import socket
import stat
import struct
import subprocess
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
# Never from the config: the daemon runs as root and execs it.
PPPD = '/usr/sbin/pppd'
# pppd's ip-up for our sessions (installed by ppp_server): it notes the session's link and the
# user who logged in as ``up.IFACE:ID`` in the state directory, then runs Debian's ip-up.
UP_SCRIPT = '/usr/local/lib/edgenet-router/pppoe-ip-up'
# Where the concentrators' live configs, state files and session notes are (the module's too).
LIVE_DIR = '/run/edgenet/ppp'
UP_SCRIPT_TEXT = '''#!/bin/sh
%(marker)s
# pppd's ip-up-script for the PPP sessions of edgenet.router.ppp_server: notes the session's
# link, authenticated user and address for the concentrator, then runs Debian's /etc/ppp/ip-up
# and its hooks as pppd would have. A PPPoE session's ipparam is its own (IFACE:ID); an L2TP
# LNS gives one to every session (IFACE:l2tp: xl2tpd starts their pppd), so the note names the link too.
note=
case "$6" in
    ''|*[!A-Za-z0-9_.:-]*) ;;
    *:l2tp) case "$1" in ''|*[!A-Za-z0-9_.-]*) ;; *) note="$6:$1" ;; esac ;;
    *) note="$6" ;;
esac
if [ -n "$note" ]; then
    printf '%%s\\n%%s\\n%%s\\n' "$1" "$PEERNAME" "$5" > "%(live)s/.up.$note.tmp" &&
        mv -f "%(live)s/.up.$note.tmp" "%(live)s/up.$note"
fi
if [ -x /etc/ppp/ip-up ]; then exec /etc/ppp/ip-up "$@"; fi
exit 0
'''
STATS = ('rx_packets', 'tx_packets', 'rx_bytes', 'tx_bytes')
# Never from the config or the system, like PPPD.
NFT = '/usr/sbin/nft'
IP = '/sbin/ip'
XL2TPD = '/usr/sbin/xl2tpd'
PROC_PPPOL2TP = '/proc/net/pppol2tp'
L2TP_PORT = 1701
NFT_TABLE = 'edgenet_ppp'
NFT_COMMENT = 'edgenet-ppp:'
NFT_CHAINS = (('mss', 'type filter hook forward priority mangle; policy accept;'),
              ('ingress', 'type filter hook prerouting priority filter; policy accept;'))
# _nft.mss_clamp() as it renders the clamp to the route MTU (a unit test holds the two equal):
# this file is installed alone and imports nothing of the collection.
MSS_CLAMP = 'tcp flags syn / syn,rst tcp option maxseg size set rt mtu'
_LINK_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}\Z')
# The user names ppp_server writes into pppd's secrets files (literally, in double quotes; no
# pppd pattern), and so the only users a session can have (pipex_session closes by them).
USER_RE = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.@+-]{0,63}\Z')

MARKER = '# Managed by edgenet.router: edits here are reported as drift and overwritten.'
# pppd's words for each authentication protocol the concentrator can require.
AUTH_WORDS = {'pap': 'require-pap', 'chap': 'require-chap', 'mschap-v2': 'require-mschap-v2'}
# The config's keys and their checks; every pppd word comes from here or from AUTH_WORDS.
# pipex's per-session options (false when a config of an older module leaves them out).
BOOL_KEYS = ('adjust_tcpmss', 'ingress_filter')
_INT_KEYS = {'max_sessions': (1, MAX_SESSION_ID), 'mtu': (128, 1492), 'mru': (128, 1492),
             'idle_timeout': (0, 86400 * 7), 'lcp_echo_interval': (0, 3600), 'lcp_echo_failure': (0, 100)}
_TEXT_KEYS = ('interface', 'ac_name', 'service_name', 'auth_name')
PROTOCOLS = ('pppoe', 'l2tp')
# An L2TP LNS's keys that xl2tpd reads at its start only (its own config file): a reload that
# changes one restarts xl2tpd, and its sessions end. The rest are pppd's, read per session.
XL2TPD_KEYS = ('listen_address', 'local_address', 'remote_pool', 'max_sessions')

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


# ---- the config (pure) ---------------------------------------------------------------------------
class BadConfig(ValueError):
    pass


def printable(value, key, empty=False):
    if not isinstance(value, str) or (not value and not empty) or len(value) > 64 or \
            any(ord(c) < 33 or ord(c) == 127 or c in '"\\' for c in value):
        raise BadConfig('%s: %r is not 1-64 printable characters without spaces, quotes or backslashes' % (key, value))
    return value


def tunnel_secret(value):
    """The L2TP tunnel secret as xl2tpd's secrets file can hold it, or :class:`BadConfig`
    (never showing the value): one word of printable characters, since the file's fields end at
    whitespace and "#" or ";" start a comment there; its lines are 100 bytes at most."""
    if not isinstance(value, str) or not 1 <= len(value) <= 64 or \
            any(ord(c) < 33 or ord(c) > 126 or c in '#;' for c in value):
        raise BadConfig('tunnel_secret: give 1-64 printable characters without spaces, "#" or ";"')
    return value


def check_config(config):
    """The config as the daemon runs it, or :class:`BadConfig`: the module checked it already,
    and the daemon checks it again, since it builds pppd's argv from it."""
    if not isinstance(config, dict):
        raise BadConfig('the config is not a JSON object')
    out = {}
    for key in _TEXT_KEYS:
        out[key] = printable(config.get(key), key, empty=key == 'service_name')
    for key, (low, high) in _INT_KEYS.items():
        value = config.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise BadConfig('%s: %r is not a whole number from %d to %d' % (key, value, low, high))
        out[key] = value
    for key in BOOL_KEYS:
        value = config.get(key, False)
        if not isinstance(value, bool):
            raise BadConfig('%s: %r is not true or false' % (key, value))
        out[key] = value
    try:
        out['local_address'] = str(ipaddress.IPv4Address(config.get('local_address')))
        pool = [ipaddress.IPv4Address(a) for a in config.get('remote_pool')]
        out['dns_servers'] = [str(ipaddress.IPv4Address(a)) for a in config.get('dns_servers')]
    except (ValueError, TypeError) as exc:
        raise BadConfig('an address: %s' % exc)
    if len(pool) != 2 or pool[0] > pool[1] or len(out['dns_servers']) > 2:
        raise BadConfig('remote_pool is [first, last] and dns_servers at most two addresses')
    out['remote_pool'] = [str(a) for a in pool]
    auth = config.get('authentication')
    if not isinstance(auth, list) or not auth or any(a not in AUTH_WORDS for a in auth):
        raise BadConfig('authentication: %r is not a list of %s' % (auth, ', '.join(sorted(AUTH_WORDS))))
    out['authentication'] = list(auth)
    # A config of an older module has no protocol: it was PPPoE's.
    out['protocol'] = config.get('protocol', 'pppoe')
    if out['protocol'] not in PROTOCOLS:
        raise BadConfig('protocol: %r is not one of %s' % (out['protocol'], ', '.join(PROTOCOLS)))
    if out['protocol'] == 'l2tp':
        try:
            out['listen_address'] = str(ipaddress.IPv4Address(config.get('listen_address')))
        except (ValueError, TypeError) as exc:
            raise BadConfig('listen_address: %s' % exc)
        secret = config.get('tunnel_secret')
        out['tunnel_secret'] = None if secret is None else tunnel_secret(secret)
    return out


def parse_config(text):
    """A config file's text (the marker line, then JSON) -> the checked config."""
    lines = text.split('\n')
    if MARKER not in (line.strip() for line in lines):
        raise BadConfig('the file lacks the line "%s"' % MARKER)
    try:
        return check_config(json.loads('\n'.join(line for line in lines if not line.startswith('#'))))
    except ValueError as exc:
        raise BadConfig(str(exc))


def render_config(config):
    return '%s\n%s\n' % (MARKER, json.dumps(config, sort_keys=True, indent=1))


# ---- what the concentrator decides (pure: no socket, no process) -----------------------------------
class Concentrator(object):
    """The discovery state: which session ids and pool addresses are taken, and by whom."""

    def __init__(self, config, own_mac, key=None, clock=time.time):
        self.config = config
        self.own_mac = own_mac
        self.key = key if key is not None else os.urandom(16)
        self.clock = clock
        self.sessions = {}  # session id -> {'mac', 'address', 'pid', 'started'}
        self.pool = _pool(config)

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

    def reconfigure(self, config):
        """A reloaded config: new sessions follow it; sessions up keep their id and address."""
        self.config = config
        self.pool = _pool(config)

    def pppd_argv(self, session):
        """pppd for one session: its own plugin binds a PPPoX socket to the session (kernel mode)."""
        conf = self.config
        return ([PPPD, 'plugin', 'rp-pppoe.so',
                 'rp_pppoe_sess', '%d:%s' % (session['id'], session['mac']),
                 'rp_pppoe_service', conf['service_name'], conf['interface'], 'nodetach'] +
                [word for option in pppd_options(conf) for word in option] +
                ['ipparam', session_tag(conf['interface'], session['id']),
                 '%s:%s' % (conf['local_address'], session['address'])])


def pppd_options(conf):
    """pppd's options every session of a concentrator gets, PPPoE or L2TP, each with its argument
    if it takes one. ``name`` scopes the secrets: pppd takes a user's line only where its server
    column is ``auth_name``, so each concentrator has its own users in the shared secrets files."""
    options = [('name', conf['auth_name']), ('auth',)]
    options += [(AUTH_WORDS[name],) for name in conf['authentication']]
    options += [('ms-dns', server) for server in conf['dns_servers']]
    options += [('mtu', str(conf['mtu'])), ('mru', str(conf['mru'])),
                ('lcp-echo-interval', str(conf['lcp_echo_interval'])), ('lcp-echo-failure', str(conf['lcp_echo_failure']))]
    if conf['idle_timeout']:
        options.append(('idle', str(conf['idle_timeout'])))
    return options + [('nodefaultroute',), ('ip-up-script', UP_SCRIPT)]


def up_script_text():
    return UP_SCRIPT_TEXT % {'marker': MARKER, 'live': LIVE_DIR}


def session_tag(interface, session_id):
    """pppd's ipparam for a session, and the name of its ``up.`` note."""
    return '%s:%d' % (interface, session_id)


def session_rules(link, address, config):
    """The nftables rules ``(chain, rule)`` pipex's options ask for on one session's link."""
    if not _LINK_RE.match(link or ''):
        return []
    rules = []
    if config.get('adjust_tcpmss'):
        rules += [('mss', '%s "%s" %s' % (way, link, MSS_CLAMP)) for way in ('iifname', 'oifname')]
    if config.get('ingress_filter'):
        # pipex's ingress filter: what comes out of a session comes from the address it was given.
        rules.append(('ingress', 'iifname "%s" ip saddr != %s counter drop' % (link, ipaddress.IPv4Address(address))))
    return rules


def nft_add_script(tag, rules):
    """``nft -f -`` input adding ``rules`` with the comment of session ``tag`` (table and chains
    made as needed: ``add`` leaves existing ones as they are)."""
    lines = ['add table inet %s' % NFT_TABLE]
    lines += ['add chain inet %s %s { %s }' % (NFT_TABLE, chain, spec) for chain, spec in NFT_CHAINS]
    lines += ['add rule inet %s %s %s comment "%s%s"' % (NFT_TABLE, chain, rule, NFT_COMMENT, tag) for chain, rule in rules]
    return '\n'.join(lines) + '\n'


def nft_session_rules(listing):
    """``nft -a list table inet edgenet_ppp`` -> ``{session tag: [(chain, handle, rule text)]}``."""
    found, chain = {}, None
    for line in (listing or '').splitlines():
        match = re.match(r'\s*chain (\S+) \{', line)
        if match:
            chain = match.group(1)
            continue
        match = re.search(r'comment "%s([^"]+)"(?:.*# handle (\d+))?' % re.escape(NFT_COMMENT), line)
        if match and chain:
            handle = int(match.group(2)) if match.group(2) else None
            found.setdefault(match.group(1), []).append((chain, handle, line.strip()))
    return found


def _pool(config):
    first, last = (ipaddress.IPv4Address(a) for a in config['remote_pool'])
    return [str(ipaddress.IPv4Address(n)) for n in range(int(first), int(last) + 1)]


# ---- the L2TPv2 LNS (pure) ----------------------------------------------------------------------------
def l2tp_tag(interface):
    """pppd's ipparam for every session of the LNS on ``interface`` (xl2tpd starts their pppd
    with one options file), so their ip-up notes are ``up.IFACE:l2tp:LINK``."""
    return '%s:l2tp' % interface


def xl2tpd_conf(config, options_path, secrets_path):
    """xl2tpd's config for the LNS: the pool cut to ``max_sessions`` addresses (xl2tpd refuses
    a call when its range has none left: its only session limit), PPP authentication left to
    pppd, every pppd option in ``options_path`` (see :func:`l2tp_options`), and the tunnel
    secrets in ``secrets_path`` (:func:`xl2tpd_secrets`; ours even without a secret, so that
    the system's ``/etc/xl2tpd/l2tp-secrets`` never answers for this LNS). With a
    ``tunnel_secret`` every LAC must answer the LNS's challenge (RFC 2661 tunnel
    authentication) before a call is taken."""
    pool = _pool(config)[:config['max_sessions']]
    return '\n'.join([
        '; ' + MARKER.lstrip('# '),
        '[global]',
        'listen-addr = %s' % config['listen_address'],
        'port = %d' % L2TP_PORT,
        'access control = no',
        'auth file = %s' % secrets_path,
        '[lns default]',
        'ip range = %s-%s' % (pool[0], pool[-1]),
        'local ip = %s' % config['local_address'],
        'challenge = %s' % ('yes' if config.get('tunnel_secret') else 'no'),
        'refuse pap = yes',
        'refuse chap = yes',
        'require authentication = no',
        'length bit = yes',
        'pppoptfile = %s' % options_path,
        ''])


def xl2tpd_secrets(config):
    """xl2tpd's secrets file (l2tp-secrets(5): our name, the LAC's name, the secret): the one
    tunnel secret for every LAC, or no line."""
    lines = ['# ' + MARKER.lstrip('# ')]
    if config.get('tunnel_secret'):
        lines.append('* * %s' % config['tunnel_secret'])
    return '\n'.join(lines) + '\n'


def l2tp_options(config):
    """The pppd options file every session of the LNS reads (read at each call: a change holds
    for the next session without restarting xl2tpd). Every word is checked config."""
    options = pppd_options(config) + [('ipparam', l2tp_tag(config['interface']))]
    return '\n'.join(['# ' + MARKER.lstrip('# ')] + [' '.join(option) for option in options]) + '\n'


_PPPOL2TP_SESSION = re.compile(r"\s+SESSION '[^']*' \S+ ([0-9A-Fa-f]{4})/([0-9A-Fa-f]{4}) -> ([0-9A-Fa-f]{4})/([0-9A-Fa-f]{4}) ")
_PPPOL2TP_LINK = re.compile(r'\s+interface (\S+)\s*\Z')


def kernel_l2tp_sessions(text):
    """``/proc/net/pppol2tp`` -> ``[{tunnel_id, session_id, peer_tunnel_id, peer_session_id,
    link}]``: the PPP sessions the kernel carries, each with its pppN (the genl dump does not
    name it). A tunnel's session 0 (its control) has no link and is left out."""
    out, current = [], None
    for line in (text or '').splitlines():
        match = _PPPOL2TP_SESSION.match(line)
        if match:
            ids = [int(group, 16) for group in match.groups()]
            current = dict(zip(('tunnel_id', 'session_id', 'peer_tunnel_id', 'peer_session_id'), ids))
            continue
        match = _PPPOL2TP_LINK.match(line)
        if match and current is not None:
            if current['session_id'] and _LINK_RE.match(match.group(1)):
                current['link'] = match.group(1)
                out.append(current)
            current = None
    return out


def l2tp_key(tunnel_id, session_id):
    """A session's id in the daemon's state: L2TPv2 session ids are per tunnel (16 bits each)."""
    return (tunnel_id << 16) | session_id


def session_label(session):
    """How the log names a session: PPPoE's id, or L2TP's TUNNEL/SESSION."""
    if session.get('tunnel_id') is not None:
        return '%d/%d' % (session['tunnel_id'], session['session_id'])
    return '%d' % session['id']


def l2tp_peers(listing):
    """``ip -j l2tp show tunnel`` -> ``{tunnel id: (peer address, peer port)}``."""
    out = {}
    try:
        tunnels = json.loads(listing or '[]')
    except ValueError:
        return out
    for tunnel in tunnels if isinstance(tunnels, list) else []:
        try:
            out[int(tunnel['tunnel_id'])] = (str(ipaddress.ip_address(tunnel['peer'])), int(tunnel['peer_port']))
        except (KeyError, TypeError, ValueError):
            continue
    return out


# ---- the daemon ----------------------------------------------------------------------------------
def log(text):
    sys.stderr.write('edgenet-pppoe: %s\n' % text)
    sys.stderr.flush()


def wait_for_link(ifname, period=1.0):
    """Until the interface exists (a router's access link may appear late in boot, after this
    unit starts: udev renames, a VLAN or veth made by another unit); then set it up, since a link
    that is down hears no client. No address is given to it: PPPoE needs none."""
    told = False
    while not os.path.exists('/sys/class/net/%s' % ifname):
        if not told:
            log('waiting for interface %s to appear' % ifname)
            told = True
        time.sleep(period)
    _run([IP, 'link', 'set', 'dev', ifname, 'up'])   # a failure is logged; the daemon serves on


def _own_mac(ifname):
    with open('/sys/class/net/%s/address' % ifname) as handle:
        return bytes.fromhex(handle.read().strip().replace(':', ''))


def _write(path, text, mode=0o600):
    tmp = '%s.%d.tmp' % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, 'w') as handle:
        handle.write(text)
    os.replace(tmp, path)


def _counter(link, name):
    if not link or '/' in link or link.startswith('.'):
        raise ValueError(link)
    with open('/sys/class/net/%s/statistics/%s' % (link, name)) as handle:
        return int(handle.read())


def _run(argv, script=None, quiet=False):
    """A command of ours (a fixed path, checked words; ``script`` its input): its output, or None
    (logged unless ``quiet``) when it fails."""
    try:
        # a daemon run by its unit, not a module: no AnsibleModule.run_command here
        done = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=10,  # pylint: disable=ansible-bad-function
                              check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log('%s: %s' % (' '.join(argv), exc))
        return None
    if done.returncode != 0:
        if not quiet:
            log('%s: %s' % (' '.join(argv), done.stderr.strip()))
        return None
    return done.stdout


def _nft(argv, script=None, quiet=False):
    """nft (its path fixed here), as :func:`_run`."""
    return _run([NFT] + argv, script, quiet)


def wait_for_address(address, period=1.0):
    """Until ``address`` is on one of the host's links (xl2tpd cannot listen on it before; at
    boot the address may come after this unit): a UDP socket bound to it tells."""
    told = False
    while True:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.bind((address, 0))
            return
        except OSError:
            if not told:
                log('waiting for address %s to appear' % address)
                told = True
        finally:
            probe.close()
        time.sleep(period)


class L2tpLns(object):
    """An L2TPv2 LNS (RFC 2661): Debian's xl2tpd holds the tunnels and calls and starts each
    call's pppd with its pppol2tp plugin, so the kernel's ``l2tp_ppp`` carries the session (xl2tpd
    says "Using l2tp kernel support"). xl2tpd runs as this process's child, from a config
    written here from the checked config; its sessions are followed in the kernel
    (``/proc/net/pppol2tp``), and one is closed through xl2tpd's control pipe (``h SESSION``,
    which hangs the call up: pppd ends LCP and xl2tpd sends the CDN)."""

    # How long a hung-up session still in the kernel is not taken for a new one.
    CLOSING = 10

    def __init__(self, config, directory, proc=PROC_PPPOL2TP):
        self.config = config
        self.proc = proc
        self.paths = dict((kind, os.path.join(directory, '%s.xl2tpd.%s' % (config['interface'], kind)))
                          for kind in ('conf', 'options', 'secrets', 'control', 'pid'))
        self.pid = None
        self.sessions = {}   # l2tp_key(tunnel, session) -> session
        self.closing = {}    # key -> until when it is still expected in the kernel

    def argv(self):
        return [XL2TPD, '-D', '-c', self.paths['conf'], '-p', self.paths['pid'], '-C', self.paths['control']]

    def write_files(self):
        _write(self.paths['options'], l2tp_options(self.config), 0o644)
        _write(self.paths['secrets'], xl2tpd_secrets(self.config), 0o600)
        _write(self.paths['conf'], xl2tpd_conf(self.config, self.paths['options'], self.paths['secrets']), 0o644)

    def start(self):
        self.write_files()
        for kind in ('control', 'pid'):   # an earlier run's: xl2tpd makes its own
            if os.path.lexists(self.paths[kind]):
                os.unlink(self.paths[kind])
        argv = self.argv()
        pid = os.fork()
        if pid == 0:  # the child: xl2tpd with our argv
            try:
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        self.pid = pid
        log('xl2tpd %d listens on %s:%d' % (pid, self.config['listen_address'], L2TP_PORT))

    def stop(self, wait=5):
        """SIGTERM to xl2tpd: it ends every call (its pppd) and tunnel (StopCCN) itself."""
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            return
        deadline = time.time() + wait
        while time.time() < deadline:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

    def reconfigure(self, config):
        """A reloaded config. pppd's options take effect at the next call; xl2tpd's own
        (:data:`XL2TPD_KEYS`) only at its start, so a change there restarts it and ends the
        sessions (said in ppp_server's docs). True when it restarted."""
        changed = [key for key in XL2TPD_KEYS if config.get(key) != self.config.get(key)]
        # xl2tpd reads its secrets file at each challenge, so a new tunnel secret holds from the next
        # tunnel without a restart; turning the challenge on or off is its config's, and restarts it.
        if bool(config.get('tunnel_secret')) != bool(self.config.get('tunnel_secret')):
            changed.append('tunnel authentication')
        self.config = config
        if changed:
            log('xl2tpd restarts for a new %s: its sessions end' % ', '.join(changed))
            self.stop()
            self.start()
        else:
            self.write_files()
        return bool(changed)

    def poll(self, now):
        """``(new sessions, keys of sessions gone)`` from the kernel since the last poll."""
        try:
            with open(self.proc) as handle:
                seen = dict((l2tp_key(s['tunnel_id'], s['session_id']), s) for s in kernel_l2tp_sessions(handle.read()))
        except OSError:
            seen = {}
        self.closing = dict((key, until) for key, until in self.closing.items() if key in seen and until > now)
        fresh = [key for key in seen if key not in self.sessions and key not in self.closing]
        peers = l2tp_peers(_run([IP, '-j', 'l2tp', 'show', 'tunnel'])) if fresh else {}
        new = []
        for key in sorted(fresh):
            session = dict(seen[key], id=key, pid=None, started=int(now), address=None, user=None)
            session['peer'], session['peer_port'] = peers.get(session['tunnel_id'], (None, None))
            new.append(session)
        return new, [key for key in self.sessions if key not in seen]

    def hang_up(self, session, now):
        """Ask xl2tpd to hang the session's call up. Its ``h`` names our session id alone, and
        another tunnel may use the same one: then nothing is asked (and logged), rather than
        closing the wrong session."""
        twins = [s for s in self.sessions.values() if s['session_id'] == session['session_id'] and s['id'] != session['id']]
        if twins:
            log('session %d of tunnel %d not closed: tunnel %d has a session %d too, and xl2tpd hangs up by session id '
                'alone' % (session['session_id'], session['tunnel_id'], twins[0]['tunnel_id'], session['session_id']))
            return
        self.closing[session['id']] = now + self.CLOSING
        try:
            fd = os.open(self.paths['control'], os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError as exc:
            log('xl2tpd control %s: %s' % (self.paths['control'], exc))
            return
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, ('h %d\n' % session['session_id']).encode())
        finally:
            os.close(fd)


def start_live(boot, live):
    """At the first start since boot LIVE is missing, and so is its directory (``/run`` is
    emptied at each boot): both are made, LIVE from BOOT, so the router runs what it boots with."""
    if os.path.exists(live):
        return
    os.makedirs(os.path.dirname(live), mode=0o755, exist_ok=True)
    with open(boot) as handle:
        text = handle.read()
    parse_config(text)
    _write(live, text)


def load_config(path):
    with open(path) as handle:
        return parse_config(handle.read())


class Daemon(object):
    def __init__(self, boot, live, state):
        self.live, self.state = live, state
        start_live(boot, live)
        config = load_config(live)
        self.config = config
        wait_for_link(config['interface'])
        self.ac = self.sock = self.lns = None
        if config['protocol'] == 'l2tp':
            wait_for_address(config['listen_address'])
            self.lns = L2tpLns(config, os.path.dirname(state))
        else:
            self.ac = Concentrator(config, _own_mac(config['interface']))
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_PPP_DISC))
            self.sock.bind((config['interface'], ETH_P_PPP_DISC))
        self.pids = {}  # pppd pid -> session id (PPPoE: the daemon starts each session's pppd)
        self.failed = False
        self.has_nft = os.access(NFT, os.X_OK)
        # An earlier run's sessions ended with it (pppd dies with its concentrator): so do their rules.
        left = self.own_rules()
        self.drop_rules(left, left)
        self.stopping = False
        self.reload_asked = False
        self.close_asked = False
        if self.lns is not None:
            self.lns.start()

    @property
    def sessions(self):
        """The sessions up, by id: PPPoE's from discovery, L2TP's as found in the kernel."""
        return self.lns.sessions if self.lns is not None else self.ac.sessions

    def reload(self):
        """SIGHUP: the live config again; sessions up are left as they are."""
        self.reload_asked = False
        try:
            config = load_config(self.live)
            for key in ('interface', 'protocol'):
                if config[key] != self.config[key]:
                    raise BadConfig('it names %s %s, and this daemon serves %s' % (key, config[key], self.config[key]))
        except (OSError, BadConfig) as exc:
            log('reload refused, the old config stays: %s' % exc)
            return
        self.config = config
        (self.lns or self.ac).reconfigure(config)
        log('reloaded %s' % self.live)

    def close_requested(self):
        """SIGUSR1: end the sessions whose ids the close file lists (pipex's PIPEXDSESSION, asked
        by pipex_session through systemd's signal to this daemon, never by pid). Only sessions of
        this daemon, and only their pppd, which it started itself."""
        self.close_asked = False
        path = os.path.join(os.path.dirname(self.state), self.config['interface'] + '.close')
        try:
            with open(path) as handle:
                ids = json.load(handle)
            os.unlink(path)
        except (OSError, ValueError) as exc:
            log('close request unreadable: %s' % exc)
            return False
        ids = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)] if isinstance(ids, list) else []
        closed = [i for i in ids if i in self.sessions]
        for session_id in closed:
            self.end(session_id, 'closed on request', hang_up=True)
        return bool(closed)

    def own_rules(self):
        """This concentrator's nftables rules in the kernel, by session tag."""
        if not self.has_nft:
            return {}
        # quiet: no table is what a router without these options has
        listing = _nft(['-a', 'list', 'table', 'inet', NFT_TABLE], quiet=True)
        prefix = session_tag(self.config['interface'], 0)[:-1]
        return dict((tag, rules) for tag, rules in nft_session_rules(listing).items() if tag.startswith(prefix))

    def drop_rules(self, tags, found=None):
        """Remove the rules of the sessions ``tags`` in one nft transaction; ``found`` is a
        listing of :meth:`own_rules` already made, else the table is listed now (once)."""
        found = self.own_rules() if found is None else found
        lines = ['delete rule inet %s %s handle %d' % (NFT_TABLE, chain, handle)
                 for tag in tags for chain, handle, dummy in found.get(tag, []) if handle is not None]
        if lines:
            _nft(['-f', '-'], '\n'.join(lines) + '\n')

    def sync_rules(self):
        """Each session's rules as its link and the config ask (pipex's adjust_tcpmss and
        ingress_filter): made when ip-up names the link, changed at a reload that changes them.
        The rules to change are dropped together (one listing, one transaction, however many
        sessions a reload reaches), then each session's new ones are added."""
        changed = []
        for session in self.sessions.values():
            if session.get('link') is None or session.get('address') is None:
                continue
            want = session_rules(session['link'], session['address'], self.config)
            if want != session.get('_rules', []):
                changed.append((session_tag(self.config['interface'], session['id']), session, want))
        stale = [tag for tag, session, dummy in changed if session.get('_rules')]
        if stale:
            self.drop_rules(stale)
        for tag, session, want in changed:
            if want and not self.has_nft:
                log('session %d: no %s, so no %s' % (session['id'], NFT, ' or '.join(
                    key for key in BOOL_KEYS if self.config.get(key))))
            elif want:
                _nft(['-f', '-'], nft_add_script(tag, want))
            session['_rules'] = want   # tried once: a failure is logged, not retried every second

    def start_pppd(self, session):
        argv = self.ac.pppd_argv(session)
        pid = os.fork()
        if pid == 0:  # the child: pppd with our argv and nothing of ours open
            try:
                os.setsid()
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        session['pid'] = pid
        self.pids[pid] = session['id']
        log('session %d for %s (%s): pppd %d' % (session['id'], session['mac'], session['address'], pid))

    def note_path(self, session):
        """The ip-up note of a session (see UP_SCRIPT_TEXT), None while it cannot be known."""
        if self.lns is None:
            name = session_tag(self.config['interface'], session['id'])
        elif session.get('link'):
            name = '%s:%s' % (l2tp_tag(self.config['interface']), session['link'])
        else:
            return None
        return os.path.join(os.path.dirname(self.state), 'up.' + name)

    def end(self, session_id, why, hang_up=False):
        """Forget a session, drop its rules and note; its pppd is told to stop (PPPoE), or with
        ``hang_up`` xl2tpd is asked to hang its call up (L2TP)."""
        session = self.sessions.pop(session_id, None)
        if session is None:
            return
        log('session %s ended: %s' % (session_label(session), why))
        if session.get('_rules'):
            self.drop_rules([session_tag(self.config['interface'], session_id)])
        note = self.note_path(session)
        if note and os.path.exists(note):
            os.unlink(note)
        if hang_up and self.lns is not None:
            self.lns.hang_up(session, time.time())
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

    def reap_lns(self, now):
        """L2TP: xl2tpd's end stops the daemon (systemd starts it again); the sessions found in
        or gone from the kernel. True when the sessions changed."""
        try:
            pid, status = os.waitpid(self.lns.pid, os.WNOHANG) if self.lns.pid else (0, 0)
        except ChildProcessError:
            pid, status = self.lns.pid, -1
        if pid:
            log('xl2tpd %d exited (status %d): the concentrator stops' % (pid, status))
            self.lns.pid = None
            self.stopping = self.failed = True
        new, gone = self.lns.poll(now)
        for session in new:
            self.lns.sessions[session['id']] = session
            log('session %s from %s: %s' % (session_label(session), session['peer'], session['link']))
        for key in gone:
            self.end(key, 'gone from the kernel')
        return bool(new or gone)

    def watch(self, now):
        """Each session's link and user (from its ip-up note) and when it last carried a packet
        (its link's counters moved): pipex's idle time, from the counters. True when something
        the state file shows changed."""
        changed = False
        for session in self.sessions.values():
            if not session.get('_noted'):
                if self.read_note(session, now):
                    changed = True
                elif session.get('link') is None:
                    continue
            try:
                counters = tuple(_counter(session['link'], name) for name in ('rx_packets', 'tx_packets'))
            except (OSError, ValueError):
                continue
            if counters != session.get('_counters'):
                if session.get('_counters') is not None and int(now) != session.get('last_activity'):
                    session['last_activity'] = int(now)
                    changed = True
                session['_counters'] = counters
        return changed

    def read_note(self, session, now):
        """The session's link, user and address from its ip-up note (PPPoE knows the address
        already: it gave it; L2TP takes xl2tpd's from the note). True when read."""
        note = self.note_path(session)
        try:
            with open(note) as handle:
                lines = handle.read().split('\n') + ['', '']
        except (OSError, TypeError):
            return False
        if session.get('link') is None:
            session['link'] = lines[0][:15]
        session['user'] = lines[1][:256] or None
        if session.get('address') is None:
            try:
                session['address'] = str(ipaddress.IPv4Address(lines[2]))
            except ValueError:
                pass
        session['last_activity'] = int(now)
        session['_noted'] = True
        return True

    def write_state(self):
        _write(self.state, json.dumps({
            'pid': os.getpid(), 'interface': self.config['interface'], 'config': self.config,
            'sessions': [dict((k, v) for k, v in s.items() if not k.startswith('_'))
                         for s in sorted(self.sessions.values(), key=lambda s: s['id'])]}, sort_keys=True), 0o644)

    def serve(self):
        signal.signal(signal.SIGTERM, lambda signum, frame: setattr(self, 'stopping', True))
        signal.signal(signal.SIGHUP, lambda signum, frame: setattr(self, 'reload_asked', True))
        signal.signal(signal.SIGUSR1, lambda signum, frame: setattr(self, 'close_asked', True))
        self.write_state()
        while not self.stopping:
            try:
                ready = select.select([self.sock] if self.sock else [], [], [], 1.0)[0]
            except InterruptedError:
                ready = []
            changed = False
            if self.reload_asked:
                self.reload()
                changed = True
            if self.close_asked:
                changed = self.close_requested() or changed
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
            before = len(self.sessions)
            self.reap()
            if self.lns is not None:
                changed = self.reap_lns(time.time()) or changed
            changed = self.watch(time.time()) or changed
            self.sync_rules()
            if changed or len(self.sessions) != before:
                self.write_state()
        for session_id in list(self.sessions):
            self.end(session_id, 'the concentrator stops')
        if self.lns is not None:
            self.lns.stop()   # it ends each call and tunnel itself
        deadline = time.time() + 5   # each pppd ends its session (LCP terminate, PADT) before we go
        while self.pids and time.time() < deadline:
            self.reap()
            time.sleep(0.1)
        os.unlink(self.state)
        return 1 if self.failed else 0


def main(argv):
    if len(argv) != 4:
        log('usage: %s BOOT_CONFIG LIVE_CONFIG STATE_FILE' % argv[0])
        return 2
    try:
        daemon = Daemon(argv[1], argv[2], argv[3])
    except (OSError, BadConfig) as exc:
        log('cannot start: %s' % exc)
        return 1
    if daemon.lns is None:
        log('serving %r on %s' % (daemon.config['service_name'], daemon.config['interface']))
    return daemon.serve()


if __name__ == '__main__':
    # A daemon run by its unit, not a module: its exit status is systemd's to read.
    sys.exit(main(sys.argv))  # pylint: disable=ansible-bad-function
