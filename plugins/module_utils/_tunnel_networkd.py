# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The persistent store of IP tunnels: a systemd-networkd ``.netdev`` + ``.network`` pair.

networkd (v252 in Debian 12) creates a tunnel netdev at boot only when an underlying link's
``.network`` names it in ``Tunnel=`` or the netdev says ``Independent=yes``; we always write
``Independent=yes``. It never updates or deletes an existing netdev, which is why the runtime
store changes the kernel itself and these files only matter at boot.

The GRE kinds, as networkd v252 and v257 build them (src/network/netdev/tunnel.c,
``netdev_gre_erspan_fill_message_create`` and ``netdev_ip6gre_fill_message_create``):
``InputKey=``/``OutputKey=`` (``Key=`` for both) set a key, and a key of 0 is no key;
``SerializeTunneledPackets=`` sets sequence numbers in both directions, for gre and gretap
only; nothing sets a checksum. For ip6gre and ip6gretap it sends the hop limit, the flow label
and the flags (``EncapsulationLimit=none``), but no traffic class and no encapsulation limit,
which the kernel then holds as 0 (``ip6gre_netlink_parms`` zeroes what a request leaves out).
:func:`check_persistable` refuses the rest.

No networkd kind takes an IPv6 traffic class, fixed or inherited. ip6tnl's ``CopyDSCP=yes`` is
not ``tclass inherit``: networkd turns it into ``IP6_TNL_F_RCV_DSCP_COPY`` (the outer DSCP copied
into the inner packet on receive; ``ip -d link`` says ``tclass 0x00 ... dscp inherit``), not
``IP6_TNL_F_USE_ORIG_TCLASS`` (seen in a Debian 12 guest, networkd 252). So it is never written,
and a file that has it (an older version of this store wrote it for inherit) reads as drift.
"""

from __future__ import annotations

from ansible_collections.edgenet.router.plugins.module_utils._engine import PERSISTENT, Store, DELETE
from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdDir, NetworkdError, parse, reload, render
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import (
    GRE_KINDS, SIXRD_DEFAULT_RELAY_PREFIX, TABLE, TYPES, TunnelError, _norm_address_list, _norm_key, _norm_routes,
    _norm_rules, tos_byte, tos_of_byte,
)

__all__ = ['NetworkdTunnels', 'check_persistable', 'render_files', 'parse_files']

# ip6tnl "Mode=" values (networkd has no mode for sit: the illumos "ipv4" type cannot persist).
IP6TNL_MODES = {'ip6ip6': 'ip6ip6', 'ipip6': 'ipip6', 'ipv6': 'any'}
MODE_TYPES = dict((mode, ttype) for ttype, mode in IP6TNL_MODES.items())
# The GRE kinds over IPv6, and those networkd gives sequence numbers (SerializeTunneledPackets=).
IP6GRE_KINDS = ('ip6gre', 'ip6gretap')
SEQUENCE_KINDS = ('gre', 'gretap')
# systemd's booleans (parse_boolean)
_BOOLEANS = {'1': True, 'yes': True, 'y': True, 'true': True, 't': True, 'on': True,
             '0': False, 'no': False, 'n': False, 'false': False, 'f': False, 'off': False}


# a route's table, preferred source and source prefix as [Route] keys (render leaves out None)
ROUTE_KEYS = (('table', 'Table'), ('src', 'PreferredSource'), ('from', 'Source'))
# a rule as [RoutingPolicyRule] keys (networkd takes the family from From=/To=)
RULE_KEYS = (('priority', 'Priority'), ('from', 'From'), ('to', 'To'), ('iif', 'IncomingInterface'), ('table', 'Table'))


def check_persistable(obj):
    """Refuse, before anything is touched, what networkd cannot bring back at boot."""
    name = obj['name']
    kind = TYPES[obj['type']]['kind']
    problems = []
    if obj['type'] == 'ipv4':
        problems.append('type ipv4 (sit mode any) has no systemd-networkd equivalent')
    if obj.get('link'):
        problems.append('link (underlay device) needs Tunnel=%s in the underlay\'s own .network file, '
                        'which this module does not own' % name)
    if kind == 'ip6tnl' and obj['tos'] != 0:
        problems.append('tclass %s: networkd sets no traffic class for ip6tnl, fixed or inherited (its CopyDSCP= copies '
                        'the outer DSCP into received packets, which is not tclass inherit); use tclass 0' % obj['tos'])
    if obj['type'] == '6rd' and obj.get('sixrd_relay_prefix') not in (None, SIXRD_DEFAULT_RELAY_PREFIX):
        # networkd's [Tunnel] has IPv6RapidDeploymentPrefix= but nothing for the relay prefix.
        problems.append('a 6rd relay prefix (%s, i.e. an IPv4 mask length above 0) has no systemd-networkd '
                        'setting (only IPv6RapidDeploymentPrefix=)' % obj['sixrd_relay_prefix'])
    if kind in GRE_KINDS:
        problems += _gre_problems(obj, kind)
    if problems:
        raise TunnelError('tunnel %s cannot be made persistent: %s. Use persistent: false, or change '
                          'the tunnel' % (name, '; '.join(problems)))


def _gre_problems(obj, kind):
    """What networkd cannot say of a GRE tunnel (see the module's docstring for the source)."""
    problems = []
    for key in ('ikey', 'okey'):
        if obj[key] == 0:
            problems.append('%s 0: networkd sets no GRE key when a key is 0 (InputKey=/OutputKey= 0 is no key); '
                            'choose a key from 1 up, or none' % key)
    checksums = [name for name in ('icsum', 'ocsum') if obj[name]]
    if checksums:
        problems.append('%s: systemd-networkd has no GRE checksum setting' % ' and '.join(checksums))
    if kind in IP6GRE_KINDS:
        if obj['iseq'] or obj['oseq']:
            problems.append('sequence numbers on %s: networkd\'s SerializeTunneledPackets= applies to gre and '
                            'gretap only' % kind)
        if obj['tos'] != 0:
            problems.append('tclass %s: networkd sets no traffic class for %s, fixed or inherited; use tclass 0'
                            % (obj['tos'], kind))
        if obj['encaplimit'] not in (0, 'none'):
            problems.append('encaplimit %s: networkd sends no encapsulation limit for %s, so the kernel holds 0 '
                            'after boot; use encaplimit 0 or none' % (obj['encaplimit'], kind))
    elif obj['iseq'] != obj['oseq']:
        problems.append('sequence numbers in one direction only (iseq %s, oseq %s): networkd\'s '
                        'SerializeTunneledPackets= sets both; use seq' % (obj['iseq'], obj['oseq']))
    return problems


def _yes(value):
    return 'yes' if value else 'no'


def render_files(obj):
    """Canonical tunnel -> ``{'netdev': text, 'network': text}``."""
    spec = TYPES[obj['type']]
    kind = spec['kind']
    netdev = [('NetDev', [('Name', obj['name']), ('Kind', kind), ('MTUBytes', obj.get('mtu'))])]
    tunnel = [('Independent', 'yes'), ('Local', obj['local']), ('Remote', obj['remote'])]
    if kind == 'ip6tnl':
        tunnel += [('Mode', IP6TNL_MODES[obj['type']]), ('TTL', obj['ttl']),
                   ('EncapsulationLimit', obj['encaplimit']), ('IPv6FlowLabel', obj['flowlabel'])]
    elif kind in IP6GRE_KINDS:
        tunnel += [('TTL', obj['ttl']), ('EncapsulationLimit', obj['encaplimit']), ('IPv6FlowLabel', obj['flowlabel'])]
    else:
        tunnel += [('TTL', obj['ttl']), ('TOS', tos_byte(obj['tos'])), ('DiscoverPathMTU', _yes(obj['pmtudisc']))]
    if obj['type'] == '6rd':
        tunnel.append(('IPv6RapidDeploymentPrefix', obj['sixrd_prefix']))
    if kind in GRE_KINDS:
        tunnel += [('InputKey', None if obj['ikey'] == 'none' else obj['ikey']),
                   ('OutputKey', None if obj['okey'] == 'none' else obj['okey'])]
        if kind in SEQUENCE_KINDS:
            tunnel.append(('SerializeTunneledPackets', _yes(obj['iseq'])))
    netdev.append(('Tunnel', tunnel))

    network = [('Match', [('Name', obj['name'])]),
               # A tunnel is no reason to hold up boot in systemd-networkd-wait-online.
               ('Link', [('ActivationPolicy', 'up' if obj['enabled'] else 'down'), ('RequiredForOnline', 'no')]),
               ('Network', [('ConfigureWithoutCarrier', 'yes')] + [('Address', a) for a in obj.get('addresses') or []])]
    for rule in obj.get('rules') or []:
        network.append(('RoutingPolicyRule', [(key, rule.get(field)) for field, key in RULE_KEYS]))
    for route in obj.get('routes') or []:
        network.append(('Route', [('Destination', route['dest']), ('Gateway', route['via']),
                                  ('Metric', route['metric'])] + [(key, route.get(field)) for field, key in ROUTE_KEYS]))
    return {'netdev': render(netdev), 'network': render(network)}


def _keys(sections, section):
    out = {}
    for name, items in sections:
        if name == section:
            for key, value in items:
                out[key] = value
    return out


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value  # shown as drift as written


def _key(value):
    """``Key=``-style text -> a key (a number or a dotted quad, as networkd reads it), or the text
    itself when networkd would not read it (shown as drift as written)."""
    if value is None:
        return None
    try:
        return _norm_key(value)
    except TunnelError:
        return value


def _boolean(value, default):
    if value is None:
        return default
    return _BOOLEANS.get(value.lower(), value)   # not a boolean: shown as drift as written


def _gre_from(obj, kind, tun):
    """The [Tunnel] keys of a GRE netdev -> its canonical fields, as networkd builds the link:
    ``InputKey=``/``OutputKey=`` else ``Key=``, a key of 0 being no key; no checksums; the
    IPv6 kinds without a traffic class, sequence numbers or an encapsulation limit but none."""
    for field, own in (('ikey', 'InputKey'), ('okey', 'OutputKey')):
        keys = [_key(tun.get(name)) for name in (own, 'Key')]
        obj[field] = next((key for key in keys if key not in (None, 0)), 'none')
    obj['icsum'] = obj['ocsum'] = False
    if kind in IP6GRE_KINDS:
        obj['iseq'] = obj['oseq'] = False
        obj['tos'] = 0
        obj['encaplimit'] = 'none' if tun.get('EncapsulationLimit') == 'none' else 0
        obj['flowlabel'] = _int(tun.get('IPv6FlowLabel', 0))
    else:
        obj['iseq'] = obj['oseq'] = _boolean(tun.get('SerializeTunneledPackets'), False)
        obj['tos'] = tos_of_byte(_int(tun.get('TOS', 0)))
        obj['pmtudisc'] = _boolean(tun.get('DiscoverPathMTU'), True)


def parse_files(name, files):
    """``{'netdev': text, 'network': text}`` -> canonical tunnel dict (what boot would build)."""
    obj = dict((f.name, None) for f in TABLE)
    obj['name'] = name
    netdev = parse(files.get('netdev') or '')
    network = parse(files.get('network') or '')
    dev = _keys(netdev, 'NetDev')
    tun = _keys(netdev, 'Tunnel')
    kind = dev.get('Kind')
    if kind == 'ip6tnl':
        obj['type'] = MODE_TYPES.get(tun.get('Mode', 'ip6ip6'), tun.get('Mode'))
        obj['encaplimit'] = tun.get('EncapsulationLimit')
        obj['encaplimit'] = obj['encaplimit'] if obj['encaplimit'] == 'none' else _int(obj['encaplimit'])
        obj['flowlabel'] = _int(tun.get('IPv6FlowLabel'))
        # CopyDSCP=yes boots a receive-side DSCP copy, which no task asks for: drift, shown as written
        obj['tos'] = 'CopyDSCP=yes' if _boolean(tun.get('CopyDSCP'), False) is True else 0
    elif kind in ('ipip', 'sit'):
        obj['type'] = kind
        if kind == 'sit' and tun.get('Remote') in (None, 'any'):
            obj['type'] = '6to4'
            if tun.get('IPv6RapidDeploymentPrefix'):
                obj['type'] = '6rd'
                obj['sixrd_prefix'] = tun['IPv6RapidDeploymentPrefix']
                obj['sixrd_relay_prefix'] = SIXRD_DEFAULT_RELAY_PREFIX
        obj['tos'] = tos_of_byte(_int(tun.get('TOS', 0)))
        obj['pmtudisc'] = tun.get('DiscoverPathMTU', 'yes') == 'yes'
    elif kind in GRE_KINDS:
        obj['type'] = kind
        _gre_from(obj, kind, tun)
    else:
        obj['type'] = kind
    obj['local'] = tun.get('Local', 'any')
    obj['remote'] = tun.get('Remote', 'any')
    obj['ttl'] = _int(tun.get('TTL'))
    obj['mtu'] = _int(dev.get('MTUBytes'))
    obj['enabled'] = _keys(network, 'Link').get('ActivationPolicy', 'up') != 'down'
    addresses = [value for section, items in network if section == 'Network' for key, value in items if key == 'Address']
    obj['addresses'] = _norm_address_list(addresses)
    routes = []
    for section, items in network:
        if section == 'Route':
            keys = dict(items)
            route = {'dest': keys.get('Destination'), 'via': keys.get('Gateway'), 'metric': keys.get('Metric')}
            route.update((field, keys[key]) for field, key in ROUTE_KEYS if key in keys)
            routes.append(route)
    obj['routes'] = _norm_routes(routes)
    rules = [dict((field, keys[key]) for field, key in RULE_KEYS if key in keys)
             for keys in (dict(items) for section, items in network if section == 'RoutingPolicyRule')]
    obj['rules'] = _norm_rules(rules)
    return obj


# Seconds the engine may re-read after networkd was reloaded (Store.settle_grace).
SETTLE_GRACE = 10


class NetworkdTunnels(Store):
    """Tunnels as networkd files in one directory (/etc/systemd/network on a router).

    ``run_command`` (shaped like AnsibleModule.run_command) asks a running networkd to reload
    once the writes are done (:meth:`settle`): when that fails, the engine rolls every store
    back, so a task never ends with files networkd refused to load. None: no reload (tests,
    callers that reload themselves). ``netif_dir`` is networkd's state directory (see
    ``_networkd.reload``).
    """

    name = PERSISTENT
    manager = 'networkd'  # the key of _tunnel_persist.MANAGERS: a commit-confirm rollback reopens this store
    verifies = True  # the engine checks its re-read against every change (see _engine.unkept)
    settles_again = True
    check_persistable = staticmethod(check_persistable)

    @staticmethod
    def host_problem(directory, run_command=None):
        """networkd reads any directory it is pointed at: nothing to check."""
        return None

    def __init__(self, directory, run_command=None, netif_dir='/run/systemd/netif'):
        self.files = NetworkdDir(directory)
        self._run_command = run_command
        self._netif_dir = netif_dir
        self.dirty = False

    def read(self):
        out = {}
        for name, files in self.files.read_all().items():
            if files.get('netdev'):
                try:
                    out[name] = parse_files(name, files)
                except (NetworkdError, TunnelError) as exc:
                    raise NetworkdError('Cannot read the networkd files of tunnel %s in %s: %s. Fix or remove them '
                                        '(they carry the managed marker)' % (name, self.files.directory, exc))
        return out

    def locked(self):
        """The directory's lock, which the engine holds from read to the end of apply in a real
        run (it may create the lock file; check mode never takes it and reading creates nothing)."""
        return self.files.locked()

    def settle(self):
        """Ask a running networkd to reload the files written (see ``_networkd.reload``: skipped
        when networkd is not running). A failure rolls the whole apply back."""
        if self.dirty and self._run_command is not None and reload(self._run_command, self._netif_dir):
            # networkd takes the links it now manages in the background: for a moment a link has
            # none of its addresses and routes (seen on systemd 252: deleted and added again)
            self.settle_grace = SETTLE_GRACE
        self.dirty = False

    def settle_again(self):
        """After a rollback restored the files: networkd reloads them as it did the new ones."""
        self.dirty = True
        self.settle()

    def managed(self):
        return set(self.read())

    def create(self, key, obj):
        self.files.write(key, render_files(obj))
        self.dirty = True

    def modify(self, key, before, after):
        self.create(key, after)

    def delete(self, key, obj):
        self.files.remove(key)
        self.dirty = True

    def snapshot(self, key):
        return self.files.snapshot(key)

    def restore_record(self, record):
        self.files.restore_record(record)
        self.dirty = True

    def commands(self, change):
        paths = [self.files.path(change.key, ext) for ext in ('netdev', 'network')]
        verb = 'remove' if change.action == DELETE else 'write'
        return ['%s %s' % (verb, path) for path in paths]
