# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Static kernel L2TPv3 Ethernet sessions (the Linux side of OpenBSD's pipex) as one field table,
the two stores they live in, and what the pipex_session / pipex_session_info modules do.

A session is keyed by its interface name (``ifname``): changing any id keeps the key and so
becomes a recreate, as the kernel cannot change ids in place. Its tunnel is shared: created with
the first session that needs it, deleted with the last (unless ``keep_tunnel``). A tunnel's
parameters are part of every session's canonical form, so drift on the tunnel shows up on each
of its sessions.

Persistent form: systemd-networkd v252's ``Kind=l2tp`` has no cookie, sequencing, MTU-per-session
or alias keys, so it cannot bring back every field. Instead this module writes one small state
file per session (``/etc/edgenet/pipex/<ifname>.conf``, shell assignments quoted with
``shlex.quote``) and a oneshot unit ``edgenet-pipex.service`` that replays them with ``ip l2tp``
at boot. iproute2 cannot set ``lns_mode`` or a reorder timeout on a new session, so those two
are refused with ``persistent: true`` unless left at their defaults.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import os
import re
import shlex
import shutil
import time
import unicodedata

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._engine import (
    CREATE, DELETE, PERSISTENT, RECREATE, RUNTIME, Field, ObjectTable, Store,
)
from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._networkd import MANAGED_MARKER, NetworkdError, is_managed
from ansible_collections.edgenet.router.plugins.module_utils._pipex_boot import (
    NFT_CHAIN, NFT_COMMENT, NFT_TABLE, UNIT_DIR, UNIT_NAME, BootUnit, PipexError,
)

__all__ = [
    'TABLE',
    'TUNNEL_FIELDS',
    'PipexError',
    'KernelSessions',
    'PersistentSessions',
    'SideEffects',
    'argument_spec',
    'module_kwargs',
    'desired_set',
    'run_pipex',
    'info',
    'render_state',
    'parse_state',
    'check_ifname',
]

U32_MAX = 0xFFFFFFFF
DEFAULT_UDP_PORT = 1701
STATE_DIR = '/etc/edgenet/pipex'
JIFFY_TOLERANCE_MS = 10
TUNNEL_TEARDOWN_TIMEOUT = 10
# The kernel keeps an interface alias in IFALIASZ (256) bytes with the terminating NUL.
ALIAS_MAX_BYTES = 255
# Line and paragraph separators, surrogates (cannot be written as UTF-8) and control characters:
# any of them in a value would split or corrupt the state file's line the boot script sources.
_BAD_TEXT_CATEGORIES = ('Cc', 'Cs', 'Zl', 'Zp')


# ---- normalisers ----------------------------------------------------------------------------
def _norm_id(what):
    def normalise(value):
        """An L2TPv3 id: an int 1 to 2^32-1 (0 is reserved by RFC 3931)."""
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            raise PipexError('%s must be a number, not %s' % (what, quoted(value)))
        if not 1 <= number <= U32_MAX:
            raise PipexError('%s must be between 1 and %d, not %d' % (what, U32_MAX, number))
        return number
    return normalise


def _norm_port(what):
    def normalise(value):
        """A UDP port 1-65535."""
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            raise PipexError('%s must be a number, not %s' % (what, quoted(value)))
        if not 1 <= number <= 65535:
            raise PipexError('%s must be between 1 and 65535, not %d' % (what, number))
        return number
    return normalise


def _norm_address(what):
    def normalise(value):
        """An IPv4 or IPv6 address, compressed; no ``%zone`` (the tunnel has no device to scope it to)."""
        text = str(value).strip()
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            address = None
        if address is None or '%' in text:
            raise PipexError('%s %s is not an IP address (IPv4 or IPv6, without a %%zone)' % (what, quoted(value)))
        return str(address)
    return normalise


def _norm_cookie(what):
    def normalise(value):
        """``none`` or lowercase hex of 4 or 8 bytes; ``0x`` prefix, ``:`` and spaces dropped. Text only
        (the option is ``raw`` so this sees what YAML made): an unquoted ``0x1a2b3c4d`` reaches a module
        as the decimal number 439041101, which would be read as other hex digits."""
        if not isinstance(value, str):
            raise PipexError('%s must be text of hex digits, not a %s: quote it in YAML (cookie: "0x1a2b3c4d")'
                             % (what, type(value).__name__))
        text = value.strip().lower()
        if text in ('', 'none'):
            return 'none'
        if text.startswith('0x'):
            text = text[2:]
        text = text.replace(':', '').replace(' ', '')
        if not re.match(r'^[0-9a-f]*$', text):
            raise PipexError('%s must be hexadecimal (4 or 8 bytes, e.g. 0x1a2b3c4d)' % what)
        if len(text) not in (8, 16):
            raise PipexError('%s must be 4 or 8 bytes (8 or 16 hex digits), not %d hex digits'
                             % (what, len(text)))
        return text
    return normalise


def _norm_int(low, high, what):
    def normalise(value):
        """An int within the field's range."""
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            raise PipexError('%s must be a number, not %s' % (what, quoted(value)))
        if not low <= number <= high:
            raise PipexError('%s must be between %d and %d, not %d' % (what, low, high, number))
        return number
    return normalise


def _norm_addresses(values):
    """CIDR strings, compressed, host bits kept, sorted, unique."""
    out = set()
    if isinstance(values, (str, bytes, dict)):
        raise PipexError('addresses must be a list of addresses with prefix length, not %s' % quoted(values))
    for value in values:
        if not isinstance(value, str) or '/' not in value:
            raise PipexError('address %s needs a prefix length (e.g. 10.42.0.1/30)' % quoted(value))
        try:
            if '%' in value:
                raise ValueError('zone')
            out.add(ipaddress.ip_interface(value.strip()).with_prefixlen)
        except ValueError:
            raise PipexError('address %s is not an address with a prefix length' % quoted(value))
    return sorted(out, key=lambda c: (ipaddress.ip_interface(c).version, ipaddress.ip_interface(c).ip.packed,
                                      ipaddress.ip_interface(c).network.prefixlen))


def _norm_task_addresses(values):
    """The task's ``addresses``: as :func:`_norm_addresses`, and each a unicast host address given once
    (what the kernel reads back from the interface is not held to this)."""
    out, problems = _norm_addresses(values), []
    if len(out) != len(values):
        problems.append('an address is listed twice (perhaps spelled two ways); list each once')
    for cidr in out:
        address = ipaddress.ip_interface(cidr).ip
        if address.is_unspecified or address.is_multicast or address.is_loopback:
            problems.append('address %s is %s, not an address for an interface' % (
                cidr, 'unspecified' if address.is_unspecified else 'multicast' if address.is_multicast else 'loopback'))
    if problems:
        raise PipexError('; '.join(problems))
    return out


def _norm_text(value):
    """Text as given (the kernel keeps an interface alias verbatim); ``None`` stays unmanaged.
    No control characters or line separators (the state file holds it on one line) and at most
    255 bytes of UTF-8 (the kernel's limit, which would otherwise cut it and report drift forever)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        # The option is raw: Ansible would have turned a list or dict into its Python text.
        raise PipexError('description must be text, not a %s' % type(value).__name__)
    text = str(value)
    if any(unicodedata.category(c) in _BAD_TEXT_CATEGORIES for c in text):
        raise PipexError('description %s holds a control character or line break; an interface alias is one line '
                         'of printable text: remove them' % quoted(text))
    if len(text.encode('utf-8')) > ALIAS_MAX_BYTES:
        raise PipexError('description %s is %d bytes of UTF-8; the kernel keeps at most %d: shorten it'
                         % (quoted(text), len(text.encode('utf-8')), ALIAS_MAX_BYTES))
    return text


# ---- the field table --------------------------------------------------------------------------
# ``ip`` is the iproute2 keyword in ``commands``; ``tunnel`` marks fields of the shared tunnel.
TABLE = ObjectTable('session', [
    Field('ifname', required=True, aliases=['name']),
    Field('tunnel_id', type='int', normalise=_norm_id('tunnel_id'), update=RECREATE, tunnel=True),
    Field('peer_tunnel_id', type='int', normalise=_norm_id('peer_tunnel_id'), update=RECREATE, tunnel=True),
    Field('session_id', type='int', normalise=_norm_id('session_id'), update=RECREATE),
    Field('peer_session_id', type='int', normalise=_norm_id('peer_session_id'), update=RECREATE),
    Field('encap', default='udp', choices=['udp', 'ip'], update=RECREATE, tunnel=True),
    Field('local', normalise=_norm_address('local'), update=RECREATE, tunnel=True),
    Field('remote', normalise=_norm_address('remote'), update=RECREATE, tunnel=True),
    Field('udp_sport', type='int', normalise=_norm_port('udp_sport'), update=RECREATE, tunnel=True),
    Field('udp_dport', type='int', normalise=_norm_port('udp_dport'), update=RECREATE, tunnel=True),
    Field('cookie', type='raw', normalise=_norm_cookie('cookie'), update=RECREATE, secret=True),
    Field('peer_cookie', type='raw', normalise=_norm_cookie('peer_cookie'), update=RECREATE, secret=True),
    # The kernel does not report the L2-specific sublayer back: written, never compared.
    Field('l2spec_type', default='default', choices=['default', 'none'], update=RECREATE, compare=False),
    Field('sequencing', default='none', choices=['none', 'send', 'recv', 'both']),
    Field('reorder_timeout', type='int', default=0, normalise=_norm_int(0, 3600000, 'reorder_timeout')),
    Field('lns_mode', type='bool', default=False),
    Field('mtu', type='int', normalise=_norm_int(68, 65535, 'mtu')),
    Field('description', type='raw', normalise=_norm_text),
    Field('enabled', type='bool', default=True),
    Field('addresses', type='list', elements='str', normalise=_norm_task_addresses),
    Field('adjust_tcpmss', type='bool', default=False),
    Field('ingress_filter', type='bool', default=False),
])

TUNNEL_FIELDS = tuple(f.name for f in TABLE if f.extra.get('tunnel'))
SESSION_SETTINGS = ('sequencing', 'reorder_timeout', 'lns_mode')
LINK_FIELDS = ('mtu', 'description', 'enabled', 'addresses')
SEQ = {'none': (False, False), 'send': (True, False), 'recv': (False, True), 'both': (True, True)}


def check_ifname(name):
    """The collection's one rule (``_names``): the name becomes a link, a file and a command word."""
    problem = link_name_problem(name)
    if problem:
        raise PipexError('ifname %s is not a valid interface name: %s' % (quoted(name), problem))


def _endpoint_kind(address):
    """Why ``address`` cannot be a tunnel endpoint, or None."""
    if address.is_unspecified:
        return 'unspecified'
    if address.is_multicast:
        return 'multicast'
    if str(address) == '255.255.255.255':
        return 'the broadcast address'
    if address.version == 4 and address.is_reserved:
        return 'reserved (240.0.0.0/4)'
    if address.version == 6 and address.ipv4_mapped is not None:
        return 'an IPv4-mapped IPv6 address (give the IPv4 address itself)'
    if address.version == 6 and address.is_link_local:
        return 'link-local (it needs an interface scope a tunnel does not have)'
    return None


def _endpoint_problems(where, local, remote):
    """Underlay addresses no tunnel can use: the kernel takes them and the session never carries a packet."""
    problems = []
    for what, text in (('local', local), ('remote', remote)):
        kind = _endpoint_kind(ipaddress.ip_address(text))
        if kind:
            whose = 'this end' if what == 'local' else 'the peer'
            problems.append('%s %s is %s; give the unicast address of %s' % (what, text, kind, whose))
    if not problems and local == remote:
        problems.append('remote %s equals local: a tunnel needs the peer\'s address' % remote)
    elif not problems and ipaddress.ip_address(remote).is_loopback != ipaddress.ip_address(local).is_loopback:
        # Both ends on loopback is a tunnel inside this host (used by the lab proofs); one end on
        # loopback and the other not can never exchange a packet.
        problems.append('%s %s is a loopback address while %s %s is not: both ends must be on loopback (a tunnel '
                        'inside this host) or neither' % (('remote', remote, 'local', local)
                                                          if ipaddress.ip_address(remote).is_loopback
                                                          else ('local', local, 'remote', remote)))
    return ['%s: %s' % (where, p) for p in problems]


def desired_session(params, persistent=False):
    """Task parameters of one session -> canonical dict; the rules the spec cannot say."""
    check_ifname(params.get('ifname'))
    where = 'session %s' % params['ifname']
    values = TABLE.normalise(params)
    missing = [n for n in ('tunnel_id', 'peer_tunnel_id', 'session_id', 'peer_session_id', 'local', 'remote')
               if values[n] is None]
    if missing:
        raise PipexError('%s: %s required when state=present' % (where, ', '.join(missing)))
    if ipaddress.ip_address(values['local']).version != ipaddress.ip_address(values['remote']).version:
        raise PipexError('%s: local %s and remote %s are of different address families'
                         % (where, values['local'], values['remote']))
    problems = _endpoint_problems(where, values['local'], values['remote'])
    if problems:
        raise PipexError('; '.join(problems))
    if values['encap'] == 'ip':
        given = [n for n in ('udp_sport', 'udp_dport') if values[n] is not None]
        if given:
            raise PipexError('%s: encap ip carries L2TPv3 directly over IP (protocol 115) and takes no UDP '
                             'ports; remove %s' % (where, ', '.join(given)))
    else:
        for name in ('udp_sport', 'udp_dport'):
            if values[name] is None:
                values[name] = DEFAULT_UDP_PORT
    for name in ('cookie', 'peer_cookie'):
        if values[name] is None:
            values[name] = 'none'
    if values['reorder_timeout'] and not SEQ[values['sequencing']][1]:
        raise PipexError('%s: reorder_timeout only applies when received packets carry sequence numbers '
                         '(sequencing recv or both)' % where)
    if persistent:
        if values['lns_mode'] or values['reorder_timeout']:
            raise PipexError('%s cannot be made persistent: ip l2tp (which replays sessions at boot) cannot set '
                             'lns_mode or reorder_timeout. Use persistent: false, or leave them at their '
                             'defaults' % where)
    return values


def tunnel_view(obj):
    return dict((name, obj.get(name)) for name in TUNNEL_FIELDS)


# ---- side effects beyond L2TP: nftables MSS clamp, reverse-path filter ---------------------------
class SideEffects(object):
    """nftables MSS clamping and rp_filter for session interfaces, through commands.

    ``run_command`` is shaped like AnsibleModule.run_command. In a netns the commands run under
    ``ip netns exec``. Rules carry the comment ``edgenet-pipex:<ifname>`` in chain
    ``inet edgenet_pipex mss``, so they are found and removed by interface name.
    """

    def __init__(self, run_command, netns=None, which=shutil.which):
        self._run = run_command
        self.netns = netns
        # run_command fails the whole module on a missing program: look for nft first, so hosts
        # without nftables can still run every task that does not ask for adjust_tcpmss.
        self.has_nft = bool(which('nft'))

    def _argv(self, argv):
        return (['ip', 'netns', 'exec', self.netns] + argv) if self.netns else argv

    def _check(self, argv, data=None):
        rc, out, err = self._run(self._argv(argv), data=data) if data is not None else self._run(self._argv(argv))
        if rc != 0:
            raise PipexError('%s failed (rc=%s): %s' % (' '.join(argv), rc, (err or out or '').strip()))
        return out

    def _rules(self):
        if not self.has_nft:
            return {}
        rc, out, dummy = self._run(self._argv(['nft', '-a', 'list', 'chain', 'inet', NFT_TABLE, NFT_CHAIN]))
        if rc != 0:
            return {}
        found = {}
        for line in out.splitlines():
            match = re.search(r'comment "%s([^"]+)".*# handle (\d+)' % re.escape(NFT_COMMENT), line)
            if match:
                found.setdefault(match.group(1), []).append(int(match.group(2)))
        return found

    def mss_ifnames(self):
        return set(self._rules())

    def set_mss(self, ifname, enabled):
        handles = self._rules().get(ifname, [])
        if enabled and not self.has_nft:
            raise PipexError('adjust_tcpmss needs the nft command (Debian/Ubuntu: apt install nftables)')
        if enabled and not handles:
            self._check(['nft', '-f', '-'], data=nft_script(ifname))
        elif not enabled:
            for handle in handles:
                self._check(['nft', 'delete', 'rule', 'inet', NFT_TABLE, NFT_CHAIN, 'handle', str(handle)])

    def rp_filter(self, ifname):
        rc, out, dummy = self._run(self._argv(['sysctl', '-n', 'net/ipv4/conf/%s/rp_filter' % ifname]))
        return out.strip() == '1' if rc == 0 else False

    def set_rp_filter(self, ifname, enabled):
        self._check(['sysctl', '-q', '-w', 'net/ipv4/conf/%s/rp_filter=%d' % (ifname, 1 if enabled else 0)])


def nft_script(ifname):
    """Clamp the MSS of TCP SYNs in and out of ``ifname`` to the route MTU (as OpenWrt's mtu_fix)."""
    rule = 'tcp flags syn / syn,rst tcp option maxseg size set rt mtu comment "%s%s"' % (NFT_COMMENT, ifname)
    return ('add table inet %s\n'
            'add chain inet %s %s { type filter hook forward priority mangle; policy accept; }\n'
            'add rule inet %s %s iifname "%s" %s\n'
            'add rule inet %s %s oifname "%s" %s\n'
            % (NFT_TABLE, NFT_TABLE, NFT_CHAIN, NFT_TABLE, NFT_CHAIN, ifname, rule, NFT_TABLE, NFT_CHAIN, ifname, rule))


# ---- iproute2 equivalents -------------------------------------------------------------------------
def _ip(netns):
    return 'ip -n %s' % netns if netns else 'ip'


def tunnel_args(obj):
    words = ['tunnel_id', obj['tunnel_id'], 'peer_tunnel_id', obj['peer_tunnel_id'], 'encap', obj['encap'],
             'local', obj['local'], 'remote', obj['remote']]
    if obj['encap'] == 'udp':
        words += ['udp_sport', obj['udp_sport'], 'udp_dport', obj['udp_dport']]
    return [str(w) for w in words]


def session_args(obj):
    words = ['name', obj['ifname'], 'tunnel_id', obj['tunnel_id'], 'session_id', obj['session_id'],
             'peer_session_id', obj['peer_session_id']]
    for name in ('cookie', 'peer_cookie'):
        if obj.get(name) not in (None, 'none'):
            words += [name, obj[name]]
    words += ['l2spec_type', obj.get('l2spec_type') or 'default', 'seq', obj.get('sequencing') or 'none']
    return [str(w) for w in words]


def runtime_commands(change, netns=None):
    ip = _ip(netns)
    before = change.before or {}
    after = change.after or {}
    name = change.key
    cmds = []
    if change.action in (DELETE, RECREATE):
        cmds.append('%s l2tp del session tunnel_id %s session_id %s' % (ip, before['tunnel_id'], before['session_id']))
        cmds.append('%s l2tp del tunnel tunnel_id %s  # when no other session uses it' % (ip, before['tunnel_id']))
        if change.action == DELETE:
            if before.get('adjust_tcpmss'):
                cmds.append('nft delete rule inet %s %s handle ...  # rules commented %s%s'
                            % (NFT_TABLE, NFT_CHAIN, NFT_COMMENT, name))
            return cmds
    if change.action in (CREATE, RECREATE):
        cmds.append('%s l2tp add tunnel %s  # unless it exists' % (ip, ' '.join(tunnel_args(after))))
        cmds.append('%s l2tp add session %s' % (ip, ' '.join(session_args(after))))
        before = {}
    elif any(f in change.fields for f in SESSION_SETTINGS):
        # iproute2 has no "l2tp set session"; the module sends L2TP_CMD_SESSION_MODIFY.
        cmds.append('# genl l2tp SESSION_MODIFY tunnel_id %s session_id %s seq %s reorder_timeout %s lns_mode %s'
                    % (after['tunnel_id'], after['session_id'], after.get('sequencing'), after.get('reorder_timeout'),
                       after.get('lns_mode')))
    if after.get('mtu') is not None and after['mtu'] != before.get('mtu'):
        cmds.append('%s link set %s mtu %s' % (ip, name, after['mtu']))
    if after.get('description') is not None and after['description'] != before.get('description'):
        cmds.append('%s link set %s alias %s' % (ip, name, shlex.quote(after['description'])))
    for address in _removed(before.get('addresses'), after.get('addresses')):
        cmds.append('%s addr del %s dev %s' % (ip, address, name))
    for address in _removed(after.get('addresses'), before.get('addresses') or []):
        cmds.append('%s addr add %s dev %s' % (ip, address, name))
    if after.get('enabled') is not None and after['enabled'] != before.get('enabled'):
        cmds.append('%s link set %s %s' % (ip, name, 'up' if after['enabled'] else 'down'))
    prefix = 'ip netns exec %s ' % netns if netns else ''
    if after.get('adjust_tcpmss') is not None and after['adjust_tcpmss'] != bool(before.get('adjust_tcpmss')):
        cmds.append('%snft add rule inet %s %s oifname/iifname %s tcp option maxseg size set rt mtu'
                    % (prefix, NFT_TABLE, NFT_CHAIN, name) if after['adjust_tcpmss'] else
                    '%snft delete rule inet %s %s handle ...' % (prefix, NFT_TABLE, NFT_CHAIN))
    if after.get('ingress_filter') is not None and after['ingress_filter'] != bool(before.get('ingress_filter')):
        cmds.append('%ssysctl -w net/ipv4/conf/%s/rp_filter=%d' % (prefix, name, 1 if after['ingress_filter'] else 0))
    return cmds


def _removed(old, new):
    if old is None or new is None:
        return []
    return [item for item in old if item not in new]


# ---- the runtime store ----------------------------------------------------------------------------
def _sequencing(send, recv):
    return {(False, False): 'none', (True, False): 'send', (False, True): 'recv', (True, True): 'both'}[(send, recv)]


def from_kernel(session, tunnel, link, addresses, mss, rpf):
    """Seam dicts of one Ethernet session -> canonical session dict."""
    obj = dict((f.name, None) for f in TABLE)
    obj.update({
        'ifname': session['ifname'],
        'tunnel_id': session['tunnel_id'],
        'peer_tunnel_id': tunnel.get('peer_tunnel_id'),
        'session_id': session['session_id'],
        'peer_session_id': session['peer_session_id'],
        'encap': tunnel.get('encap'),
        'local': _norm_address('local')(tunnel['local']) if tunnel.get('local') else None,
        'remote': _norm_address('remote')(tunnel['remote']) if tunnel.get('remote') else None,
        'udp_sport': tunnel.get('udp_sport'),
        'udp_dport': tunnel.get('udp_dport'),
        'cookie': session.get('cookie') or 'none',
        'peer_cookie': session.get('peer_cookie') or 'none',
        'sequencing': _sequencing(bool(session.get('send_seq')), bool(session.get('recv_seq'))),
        'reorder_timeout': session.get('reorder_timeout') or 0,
        'lns_mode': bool(session.get('lns_mode')),
    })
    if link is not None:
        obj.update({'mtu': link['mtu'], 'description': link.get('alias') or '', 'enabled': link['up'],
                    'addresses': _norm_addresses(addresses)})
    obj['adjust_tcpmss'] = mss
    obj['ingress_filter'] = rpf
    return obj


class KernelSessions(Store):
    """Ethernet sessions in one namespace: L2TP genl (``_l2tp.L2tp``) for tunnels and sessions,
    rtnetlink (``_netlink.Netlink``) for the l2tpeth link, :class:`SideEffects` for the rest."""

    name = RUNTIME

    def __init__(self, l2tp, netlink, side=None, netns=None, keep_tunnel=False):
        self.l2tp = l2tp
        self.nl = netlink
        self.side = side
        self.netns = netns
        self.keep_tunnel = keep_tunnel
        self.tunnels = {}
        self.sessions = []
        self.link_names = set()
        self.stats = {}
        # tunnel ids whose parameters this run changes (set by run_pipex)
        self.replacing = set()
        # ifname -> requested reorder_timeout: the kernel keeps it in jiffies (50 ms reads back
        # as 52 at HZ=250), so a value within one jiffy (<= 10 ms at HZ=100) counts as equal.
        self.wanted = {}
        # What the write under way has made so far, as undo steps (see snapshot).
        self._pending = None
        self._made = []

    def refresh(self):
        self.tunnels = dict((t['tunnel_id'], t) for t in self.l2tp.tunnels())
        self.sessions = self.l2tp.sessions()
        return self.tunnels, self.sessions

    def read(self):
        self.refresh()
        links = dict((link['name'], link) for link in self.nl.links())
        self.link_names = set(links)
        addresses = self.nl.addresses()
        mss = self.side.mss_ifnames() if self.side else set()
        out = {}
        self.stats = {}
        for session in self.sessions:
            name = session.get('ifname')
            if not name or session.get('pw_type') not in (None, 5):
                continue  # PPP pseudowires belong to a daemon (pppd, accel-ppp): never ours
            link = links.get(name)
            rpf = bool(self.side.rp_filter(name)) if self.side and link else False
            out[name] = from_kernel(session, self.tunnels.get(session['tunnel_id'], {}), link,
                                    addresses.get(link['index'], []) if link else [], name in mss, rpf)
            wanted = self.wanted.get(name)
            if wanted is not None and 0 <= out[name]['reorder_timeout'] - wanted <= JIFFY_TOLERANCE_MS:
                out[name]['reorder_timeout'] = wanted
            self.stats[name] = session.get('stats')
        return out

    def _sessions_in(self, tunnel_id):
        return [s for s in self.l2tp.sessions() if s['tunnel_id'] == tunnel_id]

    def _ensure_tunnel(self, obj):
        tunnels = dict((t['tunnel_id'], t) for t in self.l2tp.tunnels())
        have = tunnels.get(obj['tunnel_id'])
        if have is not None:
            have_view = from_kernel({'ifname': None, 'tunnel_id': obj['tunnel_id'], 'session_id': None,
                                     'peer_session_id': None}, have, None, [], False, False)
            if tunnel_view(have_view) == tunnel_view(obj):
                return False
            if self._sessions_in(obj['tunnel_id']):
                raise PipexError('tunnel %s exists with other parameters and carries other sessions'
                                 % obj['tunnel_id'])
            self._delete_tunnel(obj['tunnel_id'])  # a leftover kept by keep_tunnel: replace it
        self.l2tp.create_tunnel(obj)
        return True

    def snapshot(self, key):
        """The undo the engine journals for the write that follows: after a completed write, the
        inverse write (what the engine does without a snapshot); after a failed one, removing
        what it made before failing (a session without its link settings, a new tunnel). An undo
        step that fails raises, so the rollback names it under "COULD NOT ROLL BACK"."""
        record = self._pending = {'done': None, 'made': []}

        def restore():
            if record['done'] is not None:
                record['done']()
                return
            for step in reversed(record['made']):
                step()
        return restore

    def write(self, action, key, before, after):
        record, self._pending = self._pending, None
        self._made = record['made'] if record is not None else []
        Store.write(self, action, key, before, after)
        if record is not None:
            inverse = {CREATE: DELETE, DELETE: CREATE}.get(action, action)
            record['done'] = functools.partial(self.write, inverse, key, after, before)

    def create(self, key, obj):
        if self._ensure_tunnel(obj):
            self._made.append(functools.partial(self._delete_tunnel, obj['tunnel_id']))
        session = dict(obj, ifname=key)
        session['send_seq'], session['recv_seq'] = SEQ[obj.get('sequencing') or 'none']
        self.l2tp.create_session(session)
        # The session takes its link, addresses and rp_filter with it; the nft rules live apart.
        self._made.append(functools.partial(self.l2tp.delete_session, obj['tunnel_id'], obj['session_id']))
        if self.side is not None and obj.get('adjust_tcpmss'):
            self._made.append(functools.partial(self.side.set_mss, key, False))
        if obj.get('lns_mode') or obj.get('reorder_timeout'):
            self.l2tp.modify_session(session)
        self._converge(key, self.nl.link_index(key), {}, obj)
        return True

    def modify(self, key, before, after):
        if any(before.get(f) != after.get(f) for f in SESSION_SETTINGS):
            session = dict(after)
            session['send_seq'], session['recv_seq'] = SEQ[after['sequencing']]
            self.l2tp.modify_session(session)
        self._converge(key, self.nl.link_index(key), before, after)

    def _converge(self, key, index, before, after):
        if index is None:
            raise PipexError('session %s: the kernel made no interface of that name' % key)
        if after.get('mtu') is not None and after['mtu'] != before.get('mtu'):
            self.nl.set_link(index, mtu=after['mtu'])
        if after.get('description') is not None and after['description'] != (before.get('description') or ''):
            self.nl.set_link(index, alias=after['description'])
        for address in _removed(before.get('addresses'), after.get('addresses')):
            self.nl.del_address(index, address)
        for address in _removed(after.get('addresses'), before.get('addresses') or []):
            self.nl.add_address(index, address)
        if after.get('enabled') is not None and after['enabled'] != before.get('enabled'):
            self.nl.set_link(index, up=after['enabled'])
        if self.side is not None:
            if after.get('adjust_tcpmss') is not None and after['adjust_tcpmss'] != bool(before.get('adjust_tcpmss')):
                self.side.set_mss(key, after['adjust_tcpmss'])
            if after.get('ingress_filter') is not None and after['ingress_filter'] != bool(before.get('ingress_filter')):
                self.side.set_rp_filter(key, after['ingress_filter'])

    def delete(self, key, obj):
        if self.side is not None and obj.get('adjust_tcpmss'):
            self.side.set_mss(key, False)
        # rp_filter lives in the interface's own sysctl directory: it goes with the interface.
        if obj['tunnel_id'] in self.replacing:
            # The task gives this tunnel new parameters and re-creates every session in it (the
            # conflict check made sure): the first such delete takes the tunnel and its sessions
            # down at once, the later ones find their session gone already.
            if any(s['session_id'] == obj['session_id'] for s in self._sessions_in(obj['tunnel_id'])):
                self._delete_tunnel(obj['tunnel_id'])
            return
        self.l2tp.delete_session(obj['tunnel_id'], obj['session_id'])
        if not self.keep_tunnel and not self._sessions_in(obj['tunnel_id']):
            self._delete_tunnel(obj['tunnel_id'])

    def _delete_tunnel(self, tunnel_id):
        """Delete a tunnel and wait until it is gone. The kernel tears tunnels down in a work
        queue (l2tp_tunnel_delete): until then a dump still lists the dying tunnel, a create with
        its id fails with EEXIST, and a session added to it dies with it (seen in the lab when a
        recreate re-used the tunnel at once)."""
        self.l2tp.delete_tunnel(tunnel_id)
        deadline = time.monotonic() + TUNNEL_TEARDOWN_TIMEOUT
        while any(t['tunnel_id'] == tunnel_id for t in self.l2tp.tunnels()):
            if time.monotonic() > deadline:
                raise PipexError('tunnel %s is still being torn down by the kernel after %ss'
                                 % (tunnel_id, TUNNEL_TEARDOWN_TIMEOUT))
            time.sleep(0.05)

    def commands(self, change):
        return runtime_commands(change, self.netns)


# ---- the persistent store --------------------------------------------------------------------------
STATE_KEYS = ('IFNAME', 'TUNNEL_ID', 'TUNNEL_ARGS', 'SESSION_ARGS', 'MTU', 'ALIAS', 'ENABLED', 'ADDRESSES',
              'MSS', 'RPF')


def render_state(obj):
    """Canonical session -> state file text (shell assignments, every value shlex-quoted)."""
    values = {
        'IFNAME': obj['ifname'],
        'TUNNEL_ID': str(obj['tunnel_id']),
        'TUNNEL_ARGS': ' '.join(tunnel_args(obj)),
        'SESSION_ARGS': ' '.join(session_args(obj)),
        'MTU': '' if obj.get('mtu') is None else str(obj['mtu']),
        'ALIAS': obj.get('description') or '',
        'ENABLED': 'no' if obj.get('enabled') is False else 'yes',
        'ADDRESSES': ' '.join(obj.get('addresses') or []),
        'MSS': 'yes' if obj.get('adjust_tcpmss') else 'no',
        'RPF': 'yes' if obj.get('ingress_filter') else 'no',
    }
    lines = [MANAGED_MARKER, '# L2TPv3 session %s, replayed at boot by %s.' % (obj['ifname'], UNIT_NAME)]
    lines += ['%s=%s' % (key, shlex.quote(values[key])) for key in STATE_KEYS]
    text = '\n'.join(lines) + '\n'
    # Never write a file the next run could not read back as the same session (a value the
    # normalisers let through by mistake would otherwise wedge every later run on the directory).
    back = parse_state(text)
    if any(back[name] != obj.get(name) for name in ('ifname', 'description', 'addresses') if obj.get(name) is not None):
        raise PipexError('session %s cannot be written to a state file that reads back the same; nothing was written'
                         % obj['ifname'])
    return text


def _pairs(words):
    return dict(zip(words[0::2], words[1::2]))


def parse_state(text, path='state file'):
    """State file text -> canonical session dict (what boot would build). Read as the shell reads
    it (a quoted value may span lines, as a description with a line break once made it); text the shell
    would not read as our assignments is a PipexError naming ``path``, never echoing the file (it
    holds the cookies)."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = '#'
    values = {}
    try:
        for word in lexer:
            key, equals, value = word.partition('=')
            if not equals or key not in STATE_KEYS:
                raise ValueError('a word that is not one of its assignments (%s)' % ', '.join(STATE_KEYS))
            values[key] = value
    except ValueError as exc:
        raise PipexError('Cannot read the state file %s: %s. Remove it (and the session with ip l2tp, if it exists), '
                         'then run the task again' % (path, exc))
    tun = _pairs(values.get('TUNNEL_ARGS', '').split())
    ses = _pairs(values.get('SESSION_ARGS', '').split())
    obj = dict((f.name, None) for f in TABLE)

    def num(value):
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    obj.update({
        'ifname': values.get('IFNAME') or ses.get('name'),
        'tunnel_id': num(tun.get('tunnel_id')),
        'peer_tunnel_id': num(tun.get('peer_tunnel_id')),
        'session_id': num(ses.get('session_id')),
        'peer_session_id': num(ses.get('peer_session_id')),
        'encap': tun.get('encap', 'udp'),
        'local': tun.get('local'),
        'remote': tun.get('remote'),
        'udp_sport': num(tun.get('udp_sport')),
        'udp_dport': num(tun.get('udp_dport')),
        'cookie': ses.get('cookie', 'none'),
        'peer_cookie': ses.get('peer_cookie', 'none'),
        'l2spec_type': ses.get('l2spec_type', 'default'),
        'sequencing': ses.get('seq', 'none'),
        'reorder_timeout': 0,
        'lns_mode': False,
        'mtu': num(values.get('MTU')) if values.get('MTU') else None,
        'description': values.get('ALIAS', ''),
        'enabled': values.get('ENABLED', 'yes') != 'no',
        'adjust_tcpmss': values.get('MSS') == 'yes',
        'ingress_filter': values.get('RPF') == 'yes',
    })
    try:
        obj['addresses'] = _norm_addresses(values.get('ADDRESSES', '').split())
    except PipexError as exc:
        raise PipexError('Cannot read the state file %s: %s. Remove it, then run the task again' % (path, exc))
    return obj


class PersistentSessions(Store):
    """Sessions as state files in ``state_dir``, replayed at boot by ``edgenet-pipex.service``.

    Files are written atomically with the managed marker (the ``_files`` helpers, errors as
    NetworkdError); a file without the marker is never changed or removed. The unit, its restore
    script and its ``multi-user.target.wants`` link (``_pipex_boot.BootUnit``) are written with
    the first session, in the same snapshot, so a rollback removes them again. ``run_command`` and
    ``systemctl`` (its path, None when absent) make the settle step a checked ``daemon-reload``.
    """

    name = PERSISTENT

    def __init__(self, state_dir=STATE_DIR, unit_dir=UNIT_DIR, run_command=None, systemctl=None):
        self.boot = BootUnit(state_dir, unit_dir, run_command, systemctl)
        self.state_dir = self.boot.state_dir
        self.unit_dir = self.boot.unit_dir
        self._written = False

    def path(self, name):
        check_ifname(name)
        return os.path.join(self.state_dir, '%s.conf' % name)

    def locked(self):
        """The state and unit directories' locks, held by the engine from read to end of apply."""
        return self.boot.locked()

    @staticmethod
    def _load(path):
        return _files.load(path, NetworkdError)

    def read(self):
        try:
            entries = sorted(os.listdir(self.state_dir))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise NetworkdError('Cannot read the state directory %s: %s' % (self.state_dir, exc.strerror or exc))
        out = {}
        for entry in entries:
            if not entry.endswith('.conf'):
                continue
            path = os.path.join(self.state_dir, entry)
            loaded = self._load(path)
            if loaded is None:
                continue
            text = loaded[0].decode('utf-8', 'replace')
            if not is_managed(text):
                continue
            obj = parse_state(text, path)
            # The file name is the key every write uses: one that disagrees with its IFNAME, or is
            # no interface name, could be neither updated nor removed.
            if link_name_problem(entry[:-5]) or (obj['ifname'] or entry[:-5]) != entry[:-5]:
                raise PipexError('Cannot read the state file %s: its name is not <IFNAME>.conf for a valid interface '
                                 'name (%s). Remove it, then run the task again' % (path, quoted(obj['ifname'])))
            out[entry[:-5]] = dict(obj, ifname=entry[:-5])
        return out

    def foreign(self, name):
        loaded = self._load(self.path(name))
        return loaded is not None and not is_managed(loaded[0].decode('utf-8', 'replace'))

    def _put(self, path, text, mode=0o644):
        loaded = self._load(path)
        data = text.encode('utf-8')
        if loaded is not None and loaded[0] == data and loaded[1] == mode:
            return
        if loaded is not None and not is_managed(loaded[0].decode('utf-8', 'replace')):
            raise PipexError('Refusing to overwrite %s: it lacks the line "%s", so it is not ours' % (path, MANAGED_MARKER))
        _files.atomic_write(path, data, mode, error=NetworkdError)

    def create(self, key, obj):
        with self.locked():
            # 0600: the state file holds the cookies (no_log values).
            self._written = True
            self._put(self.path(key), render_state(dict(obj, ifname=key)), 0o600)
            self.boot.install(self._put)

    def modify(self, key, before, after):
        self.create(key, after)

    def delete(self, key, obj):
        with self.locked():
            loaded = self._load(self.path(key))
            if loaded is not None and is_managed(loaded[0].decode('utf-8', 'replace')):
                self._written = True
                _files.remove(self.path(key), NetworkdError)

    def snapshot(self, key):
        """The state file, the unit, its script and link as they are now: the rollback of the first
        session removes all of them again (and a wants directory it made)."""
        state = _files.snapshot([self.path(key)], self.locked, ours=lambda data: is_managed(data.decode('utf-8', 'replace')),
                                error=NetworkdError)
        boot = self.boot.snapshot()

        def restore():
            state()
            boot()
        return restore

    def settle(self):
        """``systemctl daemon-reload`` once after the writes, checked: a failure rolls them back."""
        if self._written:
            self.boot.reload()
            self._written = False

    def commands(self, change):
        path = self.path(change.key)
        if change.action == DELETE:
            return ['remove %s' % path]
        return ['write %s' % path, 'systemctl enable %s' % UNIT_NAME]


# ---- the modules' behaviour ------------------------------------------------------------------------
COMMON = {
    'protocol': {'type': 'str', 'default': 'l2tp', 'choices': ['l2tp']},
    'persistent': {'type': 'bool', 'default': True},
    'recreate': {'type': 'str', 'default': 'allowed', 'choices': ['allowed', 'never']},
    'keep_tunnel': {'type': 'bool', 'default': False},
    'netns': {'type': 'str'},
    'state_dir': {'type': 'path', 'default': STATE_DIR},
}


def _session_options():
    return TABLE.object_options()


def argument_spec():
    spec = _session_options()
    spec['ifname']['required'] = False
    spec['sessions'] = {'type': 'list', 'elements': 'dict', 'options': _session_options()}
    spec['sessions']['options']['ifname']['required'] = True
    spec.update(copy.deepcopy(COMMON))
    return spec


def module_kwargs():
    return {
        'argument_spec': argument_spec(),
        'supports_check_mode': True,
        'required_one_of': [('ifname', 'sessions')],
        'mutually_exclusive': [('ifname', 'sessions')],
    }


def _requested(params):
    options = _session_options()
    items = params['sessions'] if params.get('sessions') is not None else [params]
    return [dict((name, item.get(name, spec.get('default'))) for name, spec in options.items()) for item in items]


def desired_set(params):
    """Task -> ``{ifname: canonical dict or None}``; every error found, not just the first."""
    persistent = params.get('persistent', True)
    if params.get('netns') and persistent:
        raise PipexError('persistent: true is not possible with netns %s: the boot-time unit replays sessions '
                         'in the host namespace only; set persistent: false' % quoted(params['netns']))
    desired, errors = {}, []
    for item in _requested(params):
        try:
            check_ifname(item.get('ifname'))
            if item['ifname'] in desired:
                raise PipexError('session %s is listed twice' % item['ifname'])
            if item.get('state', 'present') == 'absent':
                desired[item['ifname']] = None
                continue
            desired[item['ifname']] = desired_session(item, persistent=persistent)
        except PipexError as exc:
            errors.append(str(exc))
    if errors:
        raise PipexError('; '.join(errors))
    return desired


def _kernel_tunnel_view(tunnel):
    return tunnel_view(from_kernel({'ifname': None, 'tunnel_id': tunnel['tunnel_id'], 'session_id': None,
                                    'peer_session_id': None}, tunnel, None, [], False, False))


def check_conflicts(desired, current, kernel_sessions=(), kernel_tunnels=None, links=()):
    """Refuse what would clash in the kernel, before anything is touched: two sessions of the task
    with one (tunnel, session) or (tunnel, peer session) id pair or disagreeing on a shared tunnel; a
    session id, peer session id or tunnel held by sessions the task does not name; a name taken by
    an interface that is no session. ``kernel_sessions`` and ``kernel_tunnels`` are the seam's raw
    view (PPP sessions too: their ids and tunnels are taken all the same); ``links`` the link names."""
    errors = []
    tunnels, ids, peer_ids = {}, {}, {}
    for name, obj in sorted(desired.items()):
        if obj is None:
            continue
        if name not in current and name in links:
            errors.append('session %s: an interface of that name exists and is not an L2TP session; choose another ifname'
                          % name)
        pair = (obj['tunnel_id'], obj['session_id'])
        if pair in ids:
            errors.append('sessions %s and %s both use session_id %s in tunnel %s' % (ids[pair], name, pair[1], pair[0]))
        ids[pair] = name
        # The peer tells sessions apart by the id we send to: two sessions sending to one peer
        # session would pour both pseudowires into one at the far end.
        peer = (obj['tunnel_id'], obj['peer_session_id'])
        if peer in peer_ids:
            errors.append('sessions %s and %s both use peer_session_id %s in tunnel %s: each session of a tunnel needs '
                          'its own peer session; give one of them another peer_session_id' % (peer_ids[peer], name, peer[1], peer[0]))
        peer_ids[peer] = name
        view = tunnel_view(obj)
        if obj['tunnel_id'] in tunnels and tunnels[obj['tunnel_id']][1] != view:
            other, theirs = tunnels[obj['tunnel_id']]
            errors.append('sessions %s and %s share tunnel %s but disagree on its parameters: %s' % (
                other, name, obj['tunnel_id'], ', '.join('%s %s vs %s' % (k, theirs[k], view[k])
                                                         for k in TUNNEL_FIELDS if theirs[k] != view[k])))
        tunnels.setdefault(obj['tunnel_id'], (name, view))
    # Sessions the task does not name: Ethernet ones by interface, the others (PPP) by id.
    others = [('interface %s' % name, 'session %s' % name, obj['tunnel_id'], obj['session_id'], obj['peer_session_id'],
               tunnel_view(obj)) for name, obj in sorted(current.items()) if name not in desired]
    for raw in sorted(kernel_sessions, key=lambda s: (s['tunnel_id'], s['session_id'])):
        if raw.get('ifname') in current or raw.get('ifname') in desired:
            continue
        label = 'session %s of tunnel %s (not an Ethernet session)' % (raw['session_id'], raw['tunnel_id'])
        tunnel = (kernel_tunnels or {}).get(raw['tunnel_id'])
        others.append((label, label, raw['tunnel_id'], raw['session_id'], raw.get('peer_session_id'),
                       _kernel_tunnel_view(tunnel) if tunnel else None))
    for holder, carried, tunnel_id, session_id, peer_session_id, view in others:
        if (tunnel_id, session_id) in ids:
            errors.append('session %s: session_id %s in tunnel %s is held by %s, which this task does not manage'
                          % (ids[(tunnel_id, session_id)], session_id, tunnel_id, holder))
        if (tunnel_id, peer_session_id) in peer_ids:
            errors.append('session %s: peer_session_id %s in tunnel %s is already used by %s, which this task does not '
                          'manage; give another peer_session_id'
                          % (peer_ids[(tunnel_id, peer_session_id)], peer_session_id, tunnel_id, holder))
        if tunnel_id in tunnels and view is not None and view != tunnels[tunnel_id][1]:
            errors.append('session %s: tunnel %s exists with other parameters and carries %s, which this task does not '
                          'name (%s)' % (tunnels[tunnel_id][0], tunnel_id, carried, ', '.join(
                              '%s %s' % (k, view[k]) for k in TUNNEL_FIELDS if view[k] != tunnels[tunnel_id][1][k])))
    if errors:
        raise PipexError('; '.join(errors))


def run_pipex(params, runtime, persistent=None, check_mode=False):
    """The pipex_session module's behaviour on already-built stores; returns the result dict."""
    desired = desired_set(params)
    if persistent is not None:
        foreign = [name for name in desired if persistent.foreign(name)]
        if foreign:
            raise PipexError('state files without the edgenet.router marker hold these names: %s' % ', '.join(foreign))
    if hasattr(runtime, 'wanted'):
        runtime.wanted = dict((name, obj['reorder_timeout']) for name, obj in desired.items() if obj is not None)
    current = runtime.read()
    check_conflicts(desired, current, runtime.sessions, runtime.tunnels, runtime.link_names)
    if hasattr(runtime, 'replacing'):
        runtime.replacing = set(
            have['tunnel_id'] for name, have in current.items()
            if desired.get(name) is not None and desired[name]['tunnel_id'] == have['tunnel_id']
            and tunnel_view(desired[name]) != tunnel_view(have))
    stores = [s for s in (persistent, runtime) if s is not None]
    outcome = engine.run(TABLE, stores, desired, check_mode=check_mode, recreate=params.get('recreate', 'allowed'))
    if not check_mode and outcome['changed']:
        runtime.read()  # fresh statistics after the change
    result = {
        'changed': outcome['changed'],
        'diff': {'before': outcome['before'], 'after': outcome['after']},
        'commands': outcome['commands'],
        'changes': outcome['changes'],
    }
    after = outcome['after']
    if params.get('sessions') is None:
        name = params['ifname']
        result['diff'] = {'before': outcome['before'][name], 'after': after[name]}
        result['session'] = after[name][RUNTIME]
        result['statistics'] = runtime.stats.get(name) if after[name][RUNTIME] is not None else None
    else:
        result['sessions'] = dict((name, views[RUNTIME]) for name, views in after.items())
        result['statistics'] = dict((name, runtime.stats.get(name)) for name in after if after[name][RUNTIME])
    return result


def _masked(obj):
    if obj is None:
        return None
    return dict((k, engine.SECRET_MASK if k in TABLE.secret_names() and v not in (None, 'none') else v)
                for k, v in obj.items())


def info(runtime, persistent=None, ifname=None):
    """pipex_session_info's result: every tunnel with its sessions (Ethernet ones in canonical form,
    others as the kernel reports them) and statistics; the state files and drift. ``ifname`` keeps
    only that session in ``sessions``."""
    if ifname is not None:
        check_ifname(ifname)
    sessions = runtime.read()
    files = persistent.read() if persistent is not None else {}
    tunnels = []
    for tunnel_id, tunnel in sorted(runtime.tunnels.items()):
        members = []
        for raw in sorted(runtime.sessions, key=lambda s: s['session_id']):
            if raw['tunnel_id'] != tunnel_id:
                continue
            name = raw.get('ifname')
            members.append({
                'session_id': raw['session_id'],
                'peer_session_id': raw['peer_session_id'],
                'ifname': name,
                'pseudowire': 'ethernet' if raw.get('pw_type') in (None, 5) else 'ppp' if raw.get('pw_type') in (7, 8)
                else raw.get('pw_type'),
                'statistics': raw.get('stats'),
            })
        tunnels.append({
            'tunnel_id': tunnel_id,
            'peer_tunnel_id': tunnel.get('peer_tunnel_id'),
            'encap': tunnel.get('encap'),
            'local': tunnel.get('local'),
            'remote': tunnel.get('remote'),
            'udp_sport': tunnel.get('udp_sport'),
            'udp_dport': tunnel.get('udp_dport'),
            'version': tunnel.get('version'),
            'statistics': tunnel.get('stats'),
            'sessions': members,
        })
    out = []
    names = set(sessions) | set(files)
    for name in sorted(names & {ifname} if ifname is not None else names):
        k, f = sessions.get(name), files.get(name)
        differs = []
        if k is not None and f is not None:
            differs = sorted(field.name for field in TABLE if field.compare and f.get(field.name) is not None
                             and k.get(field.name) != f.get(field.name))
        out.append({
            'ifname': name,
            'runtime': _masked(k),
            'persistent': _masked(f),
            'statistics': runtime.stats.get(name),
            'missing': [store for store, view in ((RUNTIME, k), (PERSISTENT, f)) if view is None]
            if persistent is not None else ([] if k is not None else [RUNTIME]),
            'differs': differs,
        })
    return {'tunnels': tunnels, 'sessions': out}
