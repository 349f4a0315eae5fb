# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""dnsmasq's configuration language for the DHCPv6 model: what dnsmasq can express, the model
rendered as the directives of the drop-in file and parsed back from them, and which config files
and lease file a dnsmasq command line names. Plain text in, plain text out: nothing here touches
the system (the stores and the process are ``_dnsmasq``'s).

One file serves every interface; each interface is a section that starts with
``# edgenet.router interface NAME: MODE`` and holds only directives tagged with the interface's
name (dnsmasq sets the receiving interface's name as a tag on every DHCPv6 request, so
``tag:NAME`` binds ranges and options to the link).
"""

from __future__ import annotations

import ipaddress
import os

from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import MANAGED_MARKER, canonical_read
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import (
    ALL_DHCP_SERVERS, Dhcpv6Error, TABLE, norm_pool, pool_bounds,
)
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._process import read_text

__all__ = [
    'DnsmasqError',
    'LEASE_TIME',
    'MIN_LEASE_TIME',
    'SECTION',
    'TYPED_OPTIONS',
    'check_expressible',
    'lease_file_of',
    'loads_file',
    'model_defaults',
    'parse_text',
    'render_section',
    'render_text',
]

SECTION = '# edgenet.router interface '
# dnsmasq's lease time is both lifetimes; this is its own default for a range (one hour is
# also the model's preferred lifetime).
LEASE_TIME = 3600
# dnsmasq drops a Relay-Forward whose hop count would pass RFC 3315's HOP_COUNT_LIMIT of 32 (rfc3315.c,
# relay_upstream6): in the model's terms (hop counts at or over the limit are dropped) 32.
RELAY_HOP_LIMIT = 32
MIN_LEASE_TIME = 120
# DHCPv6 options dnsmasq 2.90 knows by name (``dnsmasq --help dhcp6``): it re-encodes data for
# them by their type (hex for option 32 is sent as 0), so raw bytes cannot pass through.
TYPED_OPTIONS = {21: 'sip-server-domain', 22: 'sip-server', 27: 'nis-server', 28: 'nis+-server',
                 29: 'nis-domain', 30: 'nis+-domain', 31: 'sntp-server', 41: 'posix-timezone',
                 42: 'tzdb-timezone', 56: 'ntp-server', 59: 'bootfile-url', 60: 'bootfile-param'}


class DnsmasqError(Exception):
    """dnsmasq refused something or cannot be restarted; the message carries its own words."""


def model_defaults(params):
    """What the model's defaults become on dnsmasq, which has one lease time for both lifetimes
    and always honours a client's Rapid Commit: the lifetime the task gives sets both, else one
    hour; rapid_commit is true; a relay's hop limit is dnsmasq's fixed one."""
    lease = params.get('valid_lifetime') or params.get('preferred_lifetime') or LEASE_TIME
    return {'preferred_lifetime': params.get('preferred_lifetime') or lease,
            'valid_lifetime': lease, 'rapid_commit': True, 'hop_limit': RELAY_HOP_LIMIT}


def check_expressible(obj):
    """Refuse, before anything is touched, what dnsmasq cannot do (naming dnsmasq)."""
    if obj is None:
        return
    where = 'backend dnsmasq (interface %s)' % obj['interface']
    if obj['mode'] == 'relay':
        if obj['interface_id']:
            raise Dhcpv6Error('%s: dnsmasq\'s DHCPv6 relay sends no Interface-ID option: use interface_id: '
                              'false, or backend edgenet (the collection\'s own relay)' % where)
        if obj['hop_limit'] != RELAY_HOP_LIMIT:
            raise Dhcpv6Error('%s: dnsmasq\'s DHCPv6 relay has the fixed hop limit %d of RFC 3315: omit hop_limit, '
                              'or use backend edgenet (the collection\'s own relay)' % (where, RELAY_HOP_LIMIT))
        if obj['dns_rewrite']:
            raise Dhcpv6Error('%s: dnsmasq\'s DHCPv6 relay passes replies on unchanged: use dns_rewrite: false, or '
                              'backend edgenet (the collection\'s own relay)' % where)
        # dnsmasq 2.90 sets the outgoing interface (IPV6_MULTICAST_IF) for ff05::1:3 only: a Relay-Forward to
        # another group leaves by whatever interface the kernel picks. Seen in a Debian 12 guest: nothing left
        # (the first ff00::/8 route was the management link), and where the client's link came first the
        # Relay-Forward went back onto it, dnsmasq relayed its own message again and again (issue 17's loop).
        groups = [server for server in obj['servers']
                  if ipaddress.IPv6Address(server).is_multicast and server != ALL_DHCP_SERVERS]
        if groups:
            raise Dhcpv6Error('%s: servers %s: dnsmasq\'s relay chooses the upstream interface only for %s; a '
                              'Relay-Forward to another multicast group leaves by whichever link the kernel picks '
                              '(back onto the client\'s link, where dnsmasq relays it again, or none). Give the '
                              'servers\' unicast addresses (Kea - with listen_unicast), %s, or use backend edgenet '
                              '(the collection\'s own relay)'
                              % (where, ', '.join(groups), ALL_DHCP_SERVERS, ALL_DHCP_SERVERS))
        return
    refused = []
    if obj['listen_unicast']:
        refused.append('listen_unicast: dnsmasq binds [::]:547 and answers on every address of the interface already '
                       '(omit listen_unicast)')
    if obj['prefix_delegation']:
        refused.append('prefix_delegation: dnsmasq has no prefix delegation (use backend kea)')
    if obj.get('pd_routes'):
        refused.append('pd_routes: dnsmasq has no prefix delegation to route (use backend kea)')
    if any(res['prefix'] for res in obj['reservations']):
        refused.append('reservations with a prefix: dnsmasq has no prefix delegation (use backend kea)')
    if obj['preferred_lifetime'] != obj['valid_lifetime']:
        refused.append('preferred_lifetime %d != valid_lifetime %d: dnsmasq has one lease time for both '
                       '(give one of them, or the same value)' % (obj['preferred_lifetime'], obj['valid_lifetime']))
    if obj['valid_lifetime'] < MIN_LEASE_TIME:
        refused.append('valid_lifetime %d: dnsmasq\'s shortest lease time is %d seconds'
                       % (obj['valid_lifetime'], MIN_LEASE_TIME))
    if not obj['rapid_commit']:
        refused.append('rapid_commit: false: dnsmasq always answers a Solicit carrying Rapid Commit with a Reply')
    if ipaddress.IPv6Network(obj['subnet']).prefixlen < 64:
        refused.append('subnet %s: dnsmasq serves prefixes of length 64 or longer' % obj['subnet'])
    for extra in obj['extra_options']:
        if extra['code'] in TYPED_OPTIONS:
            refused.append('extra option %d: dnsmasq knows it as %s and re-encodes its data'
                           % (extra['code'], TYPED_OPTIONS[extra['code']]))
    if refused:
        raise Dhcpv6Error('%s cannot express: %s' % (where, '; '.join(refused)))


# ---- model <-> dnsmasq directives -----------------------------------------------------------
def _ignore_tag(iface):
    # '%' cannot occur in an interface name (see _model.IFNAME_RE): no clash with NAME tags.
    return 'ignore%' + iface


def _hex_data(data):
    """Option bytes as dnsmasq reads them: ``aa:bb`` for 2+ bytes (one group alone is read as
    text), a decimal number for one byte (dnsmasq sends the smallest integer), nothing for 0."""
    raw = bytes.fromhex(data)
    if not raw:
        return ''
    if len(raw) == 1:
        return ',%d' % raw[0]
    return ',' + ':'.join('%02x' % b for b in raw)


def _u32(value):
    return ':'.join('%02x' % b for b in int(value).to_bytes(4, 'big'))


def render_section(obj, relay_local=None):
    """The directives of one interface (canonical model), header line first."""
    iface = obj['interface']
    lines = ['%s%s: %s' % (SECTION, iface, obj['mode'])]
    if obj['mode'] == 'relay':
        if not relay_local:
            raise Dhcpv6Error('backend dnsmasq (interface %s): the relay needs a global IPv6 address on %s '
                              '(dnsmasq relays from it; servers choose the subnet by it)' % (iface, iface))
        for server in obj['servers']:
            if server == ALL_DHCP_SERVERS:
                # No server address: dnsmasq multicasts to All_DHCP_Servers on the interface.
                lines.append('dhcp-relay=%s,%s' % (relay_local, obj['upstream_interface']))
            else:
                lines.append('dhcp-relay=%s,%s,%s' % (relay_local, server, obj['upstream_interface']))
        return lines
    net = ipaddress.IPv6Network(obj['subnet'])
    lease = obj['valid_lifetime']
    if obj['pools']:
        for pool in obj['pools']:
            first, last = pool_bounds(pool)
            lines.append('dhcp-range=tag:%s,%s,%s,%d,%d' % (iface, first, last, net.prefixlen, lease))
    else:
        lines.append('dhcp-range=tag:%s,%s,static,%d,%d' % (iface, net.network_address, net.prefixlen, lease))
    lines.append('dhcp-option=tag:%s,option6:dns-server,%s' % (iface, ','.join('[%s]' % a for a in obj['dns_servers'])))
    if obj['domain_search']:
        lines.append('dhcp-option=tag:%s,option6:domain-search,%s' % (iface, ','.join(obj['domain_search'])))
    # odhcpd sends these whether asked or not: dhcp-option-force. dnsmasq types option 32 (a
    # number); 82 and 83 it does not know, so they go as 4 raw bytes.
    lines.append('dhcp-option-force=tag:%s,option6:information-refresh-time,%d'
                 % (iface, obj['information_refresh_time']))
    lines.append('dhcp-option-force=tag:%s,option6:82,%s' % (iface, _u32(obj['sol_max_rt'])))
    lines.append('dhcp-option-force=tag:%s,option6:83,%s' % (iface, _u32(obj['inf_max_rt'])))
    for extra in obj['extra_options']:
        lines.append('dhcp-option-force=tag:%s,option6:%d%s' % (iface, extra['code'], _hex_data(extra['hex'])))
    for res in obj['reservations']:
        lines.append('dhcp-host=tag:%s,id:%s,[%s]' % (iface, res['duid'], res['address']))
    for user_class in obj['ignore_user_class']:
        lines.append('dhcp-userclass=set:%s,%s' % (_ignore_tag(iface), user_class))
    if obj['ignore_user_class']:
        lines.append('dhcp-ignore=tag:%s,tag:%s' % (_ignore_tag(iface), iface))
    return lines


def render_text(models, relay_local=None):
    """The whole file for ``{interface: model}``; ``relay_local`` maps relay interfaces to the
    local address dnsmasq relays from."""
    relay_local = relay_local or {}
    out = [MANAGED_MARKER,
           '# DHCPv6 per interface, rendered by edgenet.router.dhcpv6_server. Each section is one',
           '# interface; edit the task, not this file (edits show as drift and are replaced).']
    for iface in sorted(models):
        out.append('')
        out.extend(render_section(models[iface], relay_local.get(iface)))
    return '\n'.join(out) + '\n'


def _blank(iface, mode):
    obj = dict((f.name, None) for f in TABLE)
    obj.update({'interface': iface, 'mode': mode})
    if mode == 'server':
        obj.update({'pools': [], 'prefix_delegation': [], 'reservations': [], 'dns_servers': [],
                    'domain_search': [], 'ignore_user_class': [], 'extra_options': [], 'rapid_commit': True,
                    'listen_unicast': '', 'pd_routes': False})
    elif mode == 'relay':
        obj.update({'servers': [], 'interface_id': False, 'hop_limit': RELAY_HOP_LIMIT, 'dns_rewrite': False})
    return obj


def _unknown(obj, line):
    """Keep a directive we did not write visible as a difference (never equal to a canonical value)."""
    obj.setdefault('_foreign', []).append(line)


def _parse_option(obj, iface, value, line):
    parts = value.split(',')
    if parts[0] != 'tag:%s' % iface or len(parts) < 2 or not parts[1].startswith('option6:'):
        _unknown(obj, line)
        return
    name, data = parts[1][len('option6:'):], parts[2:]
    if name == 'dns-server':
        obj['dns_servers'] = [d.strip('[]') for d in data]
    elif name == 'domain-search':
        obj['domain_search'] = data
    elif name == 'information-refresh-time' and len(data) == 1 and data[0].isdigit():
        obj['information_refresh_time'] = int(data[0])
    elif name in ('82', '83') and len(data) == 1:
        field = 'sol_max_rt' if name == '82' else 'inf_max_rt'
        try:
            obj[field] = int(data[0].replace(':', ''), 16)
        except ValueError:
            obj[field] = data[0]
    elif name.isdigit():
        text = ','.join(data)
        if text.isdigit():
            hexdata = '%02x' % int(text) if int(text) < 256 else '?' + text
        elif all(len(g) <= 2 for g in text.split(':')) and text:
            hexdata = ''.join(g.zfill(2) for g in text.split(':')).lower()
        elif not text:
            hexdata = ''
        else:
            hexdata = '?' + text
        obj['extra_options'].append({'code': int(name), 'hex': hexdata})
    else:
        _unknown(obj, line)


def _parse_server_line(obj, iface, key, value, line):
    parts = value.split(',')
    if key == 'dhcp-range':
        if parts[0] != 'tag:%s' % iface:
            _unknown(obj, line)
            return
        parts = parts[1:]
        try:
            if len(parts) == 4 and parts[1] == 'static':
                obj['subnet'] = '%s/%s' % (parts[0], parts[2])
            else:
                obj['pools'].append(norm_pool('%s-%s' % (parts[0], parts[1])))
                net = ipaddress.IPv6Network('%s/%s' % (parts[0], parts[2]), strict=False)
                obj['subnet'] = net.with_prefixlen
            lease = int(parts[3])
        except (ValueError, IndexError, Dhcpv6Error):
            _unknown(obj, line)
            return
        obj['preferred_lifetime'] = obj['valid_lifetime'] = lease
    elif key in ('dhcp-option', 'dhcp-option-force'):
        _parse_option(obj, iface, value, line)
    elif key == 'dhcp-host' and len(parts) == 3 and parts[0] == 'tag:%s' % iface and parts[1].startswith('id:'):
        obj['reservations'].append({'duid': parts[1][3:], 'address': parts[2].strip('[]'), 'prefix': None})
    elif key == 'dhcp-userclass' and len(parts) == 2 and parts[0] == 'set:%s' % _ignore_tag(iface):
        obj['ignore_user_class'].append(parts[1])
    elif key == 'dhcp-ignore' and value == 'tag:%s,tag:%s' % (_ignore_tag(iface), iface):
        obj['_ignore'] = True
    else:
        _unknown(obj, line)


def parse_text(text):
    """``({interface: model}, {interface: relay local address})`` from a file we wrote.

    Directives are read back into the model (a hand edit shows as a difference); a directive
    that is not ours keeps the section from ever equalling the desired model.
    """
    models, local = {}, {}
    obj = None
    for raw in (text or '').splitlines():
        line = raw.strip()
        if line.startswith(SECTION):
            head = line[len(SECTION):]
            iface, _sep, mode = head.partition(':')
            obj = _blank(iface.strip(), mode.strip())
            models[obj['interface']] = obj
            continue
        if not line or line.startswith('#') or obj is None:
            continue
        key, _sep, value = line.partition('=')
        if obj['mode'] == 'relay':
            parts = value.split(',')
            if key == 'dhcp-relay' and len(parts) in (2, 3):
                local[obj['interface']] = parts[0]
                obj['upstream_interface'] = parts[-1]
                obj['servers'].append(parts[1] if len(parts) == 3 else ALL_DHCP_SERVERS)
            else:
                _unknown(obj, line)
        elif obj['mode'] == 'server':
            _parse_server_line(obj, obj['interface'], key, value, line)
        else:
            _unknown(obj, line)
    return dict((k, _canonical(v)) for k, v in models.items()), local


def _canonical(obj):
    foreign = obj.pop('_foreign', None)
    ignore = obj.pop('_ignore', False)
    if obj['mode'] == 'server':
        obj['address_mode'] = 'stateful' if obj['pools'] else 'stateless'
        if bool(obj['ignore_user_class']) != ignore:
            foreign = (foreign or []) + ['dhcp-ignore missing or stray']
    out = canonical_read(obj)
    if foreign:
        # Not a model field value any task can ask for: the section always reads as drift.
        out['mode'] = '%s (with directives not written by edgenet.router: %s)' % (out['mode'], ' | '.join(foreign))
    return out


# ---- what a dnsmasq command line names -----------------------------------------------------
def _conf_files_of(argv, read=None):
    """Config files and directories a dnsmasq command line loads: ``([files], [dirs])``."""
    files, dirs = [], []
    explicit = False
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        value = None
        for long_, short in (('--conf-file', '-C'), ('--conf-dir', '-7')):
            if arg.startswith(long_ + '='):
                value = (long_, arg[len(long_) + 1:])
            elif arg in (long_, short) and i + 1 < len(args):
                value = (long_, args[i + 1])
                i += 1
            elif arg.startswith(short) and len(arg) > 2 and not arg.startswith('--'):
                value = (long_, arg[2:])
        if value:
            if value[0] == '--conf-file':
                explicit = True
                files.append(value[1])
            else:
                dirs.append(value[1].split(',')[0])
        i += 1
    if not explicit:
        files.append('/etc/dnsmasq.conf')
    # One level of conf-file / conf-dir lines inside the files named (Debian's /etc/dnsmasq.conf).
    for path in list(files):
        text = (read or read_text)(path)
        for line in (text or '').splitlines():
            key, _sep, value = line.strip().partition('=')
            if key == 'conf-file' and value:
                files.append(value)
            elif key == 'conf-dir' and value:
                dirs.append(value.split(',')[0])
    return files, dirs


def loads_file(argv, path, read=None):
    """True when a dnsmasq started with ``argv`` reads ``path`` (directly or from a conf-dir)."""
    files, dirs = _conf_files_of(argv, read)
    real = os.path.realpath(path)
    if any(os.path.realpath(f) == real for f in files):
        return True
    name = os.path.basename(real)
    return any(os.path.realpath(d.rstrip('/') or '/') == os.path.dirname(real) for d in dirs) \
        and not name.startswith('.') and not name.endswith('~')


def lease_file_of(argv):
    """The lease file a dnsmasq command line names, or None."""
    path = None
    for i, arg in enumerate(argv or []):
        if arg.startswith('--dhcp-leasefile='):
            path = arg.split('=', 1)[1]
        elif arg in ('-l', '--dhcp-leasefile') and i + 1 < len(argv):
            path = argv[i + 1]
        elif arg.startswith('-l') and len(arg) > 2 and not arg.startswith('--'):
            path = arg[2:]
    return path
