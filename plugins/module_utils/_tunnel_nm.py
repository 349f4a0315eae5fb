# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The persistent store of IP tunnels on a NetworkManager router: one ip-tunnel connection keyfile each.

``/etc/NetworkManager/system-connections/edgenet-he0.nmconnection`` (0600 root)::

    # Managed by edgenet.router: edits here are reported as drift and overwritten.
    [connection]
    id=edgenet-he0
    uuid=<uuid5 of the name>
    type=ip-tunnel
    interface-name=he0
    autoconnect=true

    [ip-tunnel]
    mode=3
    local=198.51.100.7
    remote=203.0.113.1
    ttl=64
    tos=0
    path-mtu-discovery=true

    [ipv4]
    method=disabled

    [ipv6]
    method=manual
    address1=2001:db8:1f0a::2/64
    route1=::/0,2001:db8:1f0a::1,1024

NetworkManager 1.42's ip-tunnel setting (``nm-setting-ip-tunnel.c``) knows the modes ipip (1), gre
(2), sit (3), ip6ip6 (6), ipip6 (7), ip6gre (8), gretap (10) and ip6gretap (11) with local, remote
(required), ttl (the hop limit of the IPv6 modes), tos (ipip/sit/gre/gretap: 1 is the kernel's
"inherit"; the IPv6 modes: the traffic class), path-mtu-discovery, encapsulation-limit, flow-label,
parent, mtu, flags (ip6ip6/ipip6: 0x1 ignore the encapsulation limit, 0x2 copy the traffic class)
and, for the GRE modes, input-key and output-key. It has no 6rd prefix, no sit or ip6tnl mode "any"
and no way to create a device that stays down; :func:`check_persistable` refuses those. 6to4 is a
sit connection whose remote is ``0.0.0.0`` (NetworkManager accepts any valid IPv4 text and creates
the sit device with that remote, which the kernel reads as "any").

GRE, as NetworkManager 1.42.4 and 1.52.0 create the link (``create_and_realize`` in
nm-device-ip-tunnel.c, ``_nl_msg_new_link_set_linkinfo`` in nm-linux-platform.c): a key is a
decimal number 0-4294967295 (an empty or absent key: none; 0 is a key); nothing sets a checksum or
a sequence number; the ip6gre modes take the hop limit, traffic class, encapsulation limit and flow
label, but 1.42's verify() accepts flags on ip6ip6 and ipip6 only (a keyfile with flags on ip6gre is
not loaded; 1.52 accepts them), and the ip6gre link gets its remote only when local is set. The tap
modes need no [ethernet] group (without a cloned MAC address the kernel picks a random one).

The files are read back by parsing them as NetworkManager does, so a value edited by hand is drift
of this store; a file NetworkManager would not bring up at boot (other type or interface, no
autoconnect) reads as no tunnel.
"""

from __future__ import annotations

import ipaddress
import os

from ansible_collections.edgenet.router.plugins.module_utils._engine import PERSISTENT, Store, DELETE
from ansible_collections.edgenet.router.plugins.module_utils._poll import until
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import rule_from_words, rule_words
from ansible_collections.edgenet.router.plugins.module_utils._nm import (
    SUFFIX, KeyfileDir, NmError, activate, active_uuid, configured_directory, connection_uuid, device_known, loaded_files, parse, reapply,
    reload_running, render, running,
)
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import (
    GRE_KINDS, KEY_MAX, TABLE, TYPES, KIND_FIELDS, TunnelError, _norm_address_list, _norm_routes, _norm_rules, tos_byte,
    tos_of_byte,
)

__all__ = ['NmTunnels', 'check_persistable', 'render_groups', 'parse_groups']

# type -> NetworkManager's ip-tunnel mode (NMIPTunnelMode, nm-dbus-interface.h).
MODES = {'ipip': 1, 'gre': 2, 'sit': 3, '6to4': 3, 'ip6ip6': 6, 'ipip6': 7, 'ip6gre': 8, 'gretap': 10, 'ip6gretap': 11}
# How long to wait for NetworkManager to see a link the runtime store made (see settle).
DEVICE_WAIT = 10
# How long to retry an activation NetworkManager refuses while its view of the link lags, before
# failing (see _bring_up); the words of those refusals.
EXISTS_WAIT = 5
LAGGING_REFUSALS = ('exists', 'Failed to find a compatible device')
MODE_TYPES = {1: 'ipip', 2: 'gre', 3: 'sit', 6: 'ip6ip6', 7: 'ipip6', 8: 'ip6gre', 10: 'gretap', 11: 'ip6gretap'}
# ip6tnl flags (NMIPTunnelFlags = the kernel's IP6_TNL_F_*).
FLAG_IGN_ENCAP_LIMIT = 0x1
FLAG_USE_ORIG_TCLASS = 0x2
ANY = {4: '0.0.0.0', 6: '::'}

REFUSED_TYPES = {
    'ipv4': 'type ipv4 (sit carrying IPv4 and IPv6) has no NetworkManager mode (its sit mode carries IPv6 only)',
    'ipv6': 'type ipv6 (ip6tnl carrying IPv4 and IPv6) has no NetworkManager mode (only ip6ip6 and ipip6)',
    '6rd': 'type 6rd: NetworkManager 1.42\'s ip-tunnel setting has no 6rd prefix',
}


def check_persistable(obj):
    """Refuse, before anything is touched, what NetworkManager cannot bring back at boot; every
    problem of the tunnel in one message."""
    problems = []
    if obj['type'] in REFUSED_TYPES:
        problems.append(REFUSED_TYPES[obj['type']])
    if obj.get('enabled') is False:
        problems.append('enabled false: NetworkManager brings a connection\'s device up when it creates it at boot, '
                        'and has no setting for a tunnel that exists but stays down')
    kind = TYPES.get(obj['type'], {}).get('kind')
    if kind in GRE_KINDS:
        problems += _gre_problems(obj, kind)
    for version in (4, 6):
        if any(ipaddress.ip_network(r['dest']).version == version for r in obj.get('routes') or []) \
                and not any(ipaddress.ip_interface(a).version == version for a in obj.get('addresses') or []):
            # lab: such a keyfile was not loaded ("ipv6.addresses: this property cannot be empty ...")
            problems.append('routes: IPv%d routes without an IPv%d address, which NetworkManager cannot express (its '
                            'ipv%d method manual, the one that adds routes, needs an address)' % (version, version, version))
        if any((':' in (r['from'] or r['to'])) == (version == 6) for r in obj.get('rules') or []) \
                and not any(ipaddress.ip_interface(a).version == version for a in obj.get('addresses') or []):
            problems.append('rules: IPv%d rules without an IPv%d address, which NetworkManager cannot express (its '
                            'ipv%d method manual, the one that adds rules, needs an address)' % (version, version, version))
    if problems:
        raise TunnelError('tunnel %s cannot be made persistent with NetworkManager: %s. Use persistent: false, or '
                          'change the tunnel' % (obj['name'], '; '.join(problems)))


def _gre_problems(obj, kind):
    """What NetworkManager cannot say of a GRE tunnel (see the module's docstring for the source)."""
    problems = []
    flags = [name for name in ('icsum', 'ocsum', 'iseq', 'oseq') if obj.get(name)]
    if flags:
        problems.append('%s: NetworkManager\'s ip-tunnel setting has no GRE checksum or sequence number setting '
                        '(only input-key and output-key)' % ', '.join(flags))
    if kind in ('ip6gre', 'ip6gretap'):
        flagged = ['encaplimit none'] if obj.get('encaplimit') == 'none' else []
        flagged += ['tclass inherit'] if obj.get('tos') == 'inherit' else []
        if flagged:
            problems.append('%s: these are ip-tunnel flags, which NetworkManager 1.42 refuses on %s (it does not load '
                            'the keyfile); give a number' % (' and '.join(flagged), kind))
        if obj.get('local') == 'any':
            problems.append('no local: NetworkManager sends the remote of an %s link only when local is set, so the '
                            'tunnel would come back without its remote; give local' % kind)
    return problems


def _key_text(key):
    return None if key == 'none' else str(key)


def _address_family(obj):
    return TYPES[obj['type']]['family']


# a route's attributes in ``routeN_options`` (NetworkManager's keyfile route attributes)
ROUTE_OPTIONS = ('table', 'src', 'from')


def _route_value(route):
    dest = ipaddress.ip_network(route['dest'])
    via = route['via'] or ANY[dest.version]   # NetworkManager's own writer puts 0.0.0.0 / :: for on-link
    return '%s,%s,%d' % (dest.with_prefixlen, via, route['metric'])


def _ip_group(obj, version):
    addresses = [a for a in obj.get('addresses') or [] if ipaddress.ip_interface(a).version == version]
    routes = [r for r in obj.get('routes') or [] if ipaddress.ip_network(r['dest']).version == version]
    if not addresses and not routes:   # (check_persistable: a family's rules need its routes here)
        # IPv4 "disabled" adds nothing; IPv6 "ignore" leaves the kernel's own link-local address as a
        # tunnel made over netlink has it ("disabled" would turn IPv6 off on the device).
        return [('method', 'disabled' if version == 4 else 'ignore')]
    pairs = [('method', 'manual')]
    if version == 6:
        # NetworkManager makes the link-local address itself with method manual; its default for a
        # keyfile (eui64) needs a hardware address a tunnel lacks: activation failed on ip6tnl and
        # 6to4 devices ("failed to generate interface identifier ... IPv6 cannot continue", lab).
        pairs.append(('addr-gen-mode', 'stable-privacy'))
    pairs += [('address%d' % i, a) for i, a in enumerate(addresses, 1)]
    for i, route in enumerate(routes, 1):
        pairs.append(('route%d' % i, _route_value(route)))
        options = ','.join('%s=%s' % (key, route[key]) for key in ROUTE_OPTIONS if route.get(key) is not None)
        if options:
            pairs.append(('route%d_options' % i, options))
    rules = [r for r in obj.get('rules') or [] if (':' in (r['from'] or r['to'])) == (version == 6)]
    pairs += [('routing-rule%d' % i, ' '.join(rule_words(rule))) for i, rule in enumerate(rules, 1)]
    return pairs


def render_groups(obj):
    """Canonical tunnel -> the keyfile's ``[(group, [(key, value)])]``."""
    name = obj['name']
    kind = TYPES[obj['type']]['kind']
    family = _address_family(obj)
    tunnel = [('mode', MODES[obj['type']]),
              ('parent', obj.get('link')),
              ('local', None if obj['local'] == 'any' else obj['local']),
              ('remote', ANY[family] if obj['remote'] == 'any' else obj['remote']),
              ('ttl', obj['ttl'])]
    if family == 6:
        flags = (FLAG_IGN_ENCAP_LIMIT if obj['encaplimit'] == 'none' else 0) \
            | (FLAG_USE_ORIG_TCLASS if obj['tos'] == 'inherit' else 0)
        tunnel += [('tos', 0 if obj['tos'] == 'inherit' else obj['tos']),
                   ('encapsulation-limit', 0 if obj['encaplimit'] == 'none' else obj['encaplimit']),
                   ('flow-label', obj['flowlabel']), ('flags', flags)]
    else:
        tunnel += [('tos', tos_byte(obj['tos'])),
                   ('path-mtu-discovery', bool(obj['pmtudisc']))]
    if kind in GRE_KINDS:
        tunnel += [('input-key', _key_text(obj['ikey'])), ('output-key', _key_text(obj['okey']))]
    tunnel.append(('mtu', obj.get('mtu')))
    return [('connection', [('id', 'edgenet-%s' % name), ('uuid', connection_uuid(name)), ('type', 'ip-tunnel'),
                            ('interface-name', name), ('autoconnect', True)]),
            ('ip-tunnel', tunnel),
            ('ipv4', _ip_group(obj, 4)),
            ('ipv6', _ip_group(obj, 6))]


def render_file(obj):
    return render(render_groups(obj))


def _int(value, default=None):
    if value is None:
        return default
    try:
        return int(value.strip(), 0)
    except ValueError:
        return value  # shown as drift as written


def _bool(value, default):
    # GLib's g_key_file_get_boolean: true/false, 1/0
    if value is None:
        return default
    return {'true': True, '1': True, 'false': False, '0': False}.get(value.strip().lower(), value)


def _routes(group):
    routes = []
    for key in _numbered(group, 'route'):
        fields = group[key].split(',')
        via = fields[1].strip() if len(fields) > 1 else ''
        metric = _int(fields[2]) if len(fields) > 2 else None
        route = {'dest': fields[0].strip(), 'via': None if via in ('', '0.0.0.0', '::') else via, 'metric': metric}
        # the route's attributes NetworkManager keeps beside it (table=, src=, from=); others are not ours
        for option in (group.get(key + '_options') or '').split(','):
            name, equals, value = option.partition('=')
            if equals and name.strip() in ROUTE_OPTIONS:
                route[name.strip()] = value.strip()
        routes.append(route)
    return routes


def _numbered(group, stem):
    """``stem1``, ``stem2``, ... in number order (NetworkManager's order)."""
    keys = [key for key in group if key.startswith(stem) and key[len(stem):].isdigit()]
    return sorted(keys, key=lambda key: int(key[len(stem):]))


def parse_groups(name, groups):
    """The keyfile's ``{group: {key: value}}`` -> canonical tunnel (what NetworkManager would bring
    up at boot), or None when it would bring up no tunnel named ``name`` (another type or
    interface, autoconnect off, no ip-tunnel mode this store writes). Missing keys read as
    NetworkManager's defaults (ttl 0, tos 0, path MTU discovery on, ...)."""
    conn = groups.get('connection', {})
    tun = groups.get('ip-tunnel', {})
    if conn.get('type') != 'ip-tunnel' or conn.get('interface-name') != name \
            or _bool(conn.get('autoconnect'), True) is not True:
        return None
    ttype = MODE_TYPES.get(_int(tun.get('mode')))
    if ttype is None:
        return None
    kind = TYPES[ttype]['kind']
    family = TYPES[ttype]['family']
    obj = dict((f.name, None) for f in TABLE)
    obj.update(name=name, type=ttype, enabled=True, link=tun.get('parent') or None, mtu=_int(tun.get('mtu')))
    local = tun.get('local')
    remote = tun.get('remote')
    obj['local'] = 'any' if local in (None, '', ANY[family]) else _address(local)
    obj['remote'] = 'any' if remote in (None, '', ANY[family]) else _address(remote)
    if ttype == 'sit' and obj['remote'] == 'any':
        obj['type'] = '6to4'
    obj['ttl'] = _int(tun.get('ttl'), 0)
    tos = _int(tun.get('tos'), 0)
    if family == 6:
        flags = _int(tun.get('flags'), 0)
        flags = flags if isinstance(flags, int) else 0
        obj['tos'] = 'inherit' if flags & FLAG_USE_ORIG_TCLASS else tos
        obj['encaplimit'] = 'none' if flags & FLAG_IGN_ENCAP_LIMIT else _int(tun.get('encapsulation-limit'), 0)
        obj['flowlabel'] = _int(tun.get('flow-label'), 0)
    else:
        obj['tos'] = tos_of_byte(tos)
        obj['pmtudisc'] = _bool(tun.get('path-mtu-discovery'), True)
    for field in ('ttl', 'tos', 'pmtudisc', 'encaplimit', 'flowlabel'):
        if field not in KIND_FIELDS[kind]:
            obj[field] = None
    if kind in GRE_KINDS:
        obj['ikey'] = _key(tun.get('input-key'))
        obj['okey'] = _key(tun.get('output-key'))
        obj['icsum'] = obj['ocsum'] = obj['iseq'] = obj['oseq'] = False
    addresses, routes, rules = [], [], []
    for version in ('ipv4', 'ipv6'):
        group = groups.get(version, {})
        if group.get('method') == 'manual':   # NetworkManager configures addresses and routes only then
            addresses += [group[key].split(',')[0].strip() for key in _numbered(group, 'address')]
            routes += _routes(group)
            rules += [rule_from_words(group[key].split()) for key in _numbered(group, 'routing-rule')]
    obj['addresses'] = _norm_address_list(addresses)
    obj['routes'] = _norm_routes(routes)
    obj['rules'] = _norm_rules(rules)
    return obj


def _key(value):
    """input-key/output-key -> a key: NetworkManager reads decimal digits only (0 is a key) and an
    empty or absent key as none; other text is shown as drift as written (NetworkManager would not
    load the keyfile)."""
    text = (value or '').strip()
    if not text:
        return 'none'
    if text.isdigit() and text.isascii() and int(text) <= KEY_MAX:
        return int(text)
    return value


def _address(text):
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text   # shown as drift as written


class NmTunnels(Store):
    """Tunnels as NetworkManager keyfiles in one directory (/etc/NetworkManager/system-connections).

    ``run_command`` (shaped like AnsibleModule.run_command) makes a running NetworkManager reload
    the files once the writes are done (:meth:`settle`) and checks that it loaded each file
    written, then has it hold each tunnel written with that connection (reapplied or activated on
    the device the runtime store made: see ``_nm`` for why and the lab figures): a keyfile it
    refused or a connection it could not activate fails the task and rolls every store back.
    None: nothing is asked (tests, callers that reload themselves). ``link_present(name)`` tells
    whether the kernel has the link (a rollback waits for NetworkManager's device of those only).
    """

    name = PERSISTENT
    manager = 'networkmanager'  # the key of _tunnel_persist.MANAGERS: a commit-confirm rollback reopens this store
    verifies = True  # the engine checks its re-read against every change (see _engine.unkept)
    settles_again = True
    check_persistable = staticmethod(check_persistable)

    def __init__(self, directory, run_command=None, link_present=None):
        self.files = KeyfileDir(directory)
        self._run_command = run_command
        self._link_present = link_present or _link_in_sysfs
        self._written = {}   # name -> True (written) / False (removed) since the last settle
        self._restorable = set()   # names a rollback may restore (snapshots taken, records replayed)

    @staticmethod
    def host_problem(directory, run_command=None):
        """None, or why NetworkManager would not read keyfiles from ``directory`` at boot: its
        keyfile plugin reads another one. A directory that cannot be one (empty, relative, a NUL
        or line break) is refused first, as the store does. That NetworkManager runs is the
        choice's check (``_tunnel_persist.choose``); without ``run_command`` nothing is asked."""
        directory = KeyfileDir(directory).directory
        configured = configured_directory(run_command) if run_command is not None else None
        if configured is not None and os.path.normpath(directory) != configured:
            return ('NetworkManager reads its keyfiles from %s ([keyfile] path of NetworkManager --print-config), '
                    'not %s: a file written there would bring nothing back at boot; set networkmanager_dir to %s'
                    % (configured, directory, configured))
        return None

    def prepare(self, desired, current):
        """Refuse a type change that changes a loaded connection's NetworkManager mode: NetworkManager
        1.42 keeps the device object it made for the old mode (the mode is fixed when it is made), so
        the new link gets it and activating the new connection fails with "Failed to find a
        compatible device for this connection" (lab). Removing the tunnel first drops that object."""
        problems = []
        for name in sorted(desired):
            want, have = desired[name], current.get(name)
            if want is None or have is None or want.get('type') is None:
                continue
            if MODES.get(want['type']) != MODES.get(have['type']):
                problems.append('%s from %s to %s' % (name, have['type'], want['type']))
        if problems:
            raise TunnelError('NetworkManager cannot change the type of a tunnel whose connection it holds (%s): it '
                              'keeps the device it made for the old ip-tunnel mode and refuses to activate the new '
                              'connection on it; remove the tunnel first (state: absent), then create it with the '
                              'new type' % ', '.join(problems))

    def read(self):
        out = {}
        for name, files in self.files.read_all().items():
            try:
                obj = parse_groups(name, parse(files[SUFFIX]))
            except (NmError, TunnelError) as exc:
                raise NmError('Cannot read the NetworkManager keyfile of tunnel %s in %s: %s. Fix or remove it (it '
                              'carries the managed marker)' % (name, self.files.directory, exc))
            if obj is not None:
                out[name] = obj
        return out

    def locked(self):
        """The directory's lock (see ``NetworkdTunnels.locked``)."""
        return self.files.locked()

    def settle(self):
        """``nmcli connection reload`` when NetworkManager runs, once it has a device for each
        link written; then check that it holds every connection written from its file and none of
        those removed, and bring each written one up. A failure rolls the whole apply back."""
        written, self._written = self._written, {}
        if not written or self._run_command is None or not running(self._run_command):
            return
        # NetworkManager must have made its device of each link the runtime store wrote before it
        # loads the connection: loaded first, the connection gets a device of its own that never
        # takes the link over, so every activation tries to create the link and fails ("exists",
        # then "Failed to find a compatible device"), and removing the link removes that device
        # too. Its debug journal showed it (lab, NetworkManager 1.42, a first apply in a fresh
        # guest): the link's new-link event still queued when the reload came, 0.6 s after the
        # link was made. So wait, bounded, until it knows each link (a link it never shows is
        # left to the activation, as before).
        self._wait_for_devices(name for name, present in written.items() if present)
        reload_running(self._run_command)
        # From here NetworkManager holds the new files: if this fails, the engine's rollback
        # restores the files and the links, then settles again (settle_again).
        self.settled_in_part = True
        loaded = loaded_files(self._run_command)
        for name, present in sorted(written.items()):
            path = self.files.path(name, SUFFIX)
            holds = loaded.get(connection_uuid(name)) == path
            if present and not holds:
                raise NmError('NetworkManager did not load %s after nmcli connection reload (journalctl -u '
                              'NetworkManager says why)' % path)
            if not present and holds:
                raise NmError('NetworkManager still holds the connection of %s after nmcli connection reload' % path)
        for name, present in sorted(written.items()):
            if present:
                self._bring_up(name)
        self.settled_in_part = False

    def _wait_for_devices(self, names):
        """Before a reload: wait, bounded, until NetworkManager has a device of each link named
        (see settle; a link it never shows is left to the activation, which creates it)."""
        for name in sorted(names):
            until(lambda: device_known(self._run_command, name), DEVICE_WAIT)

    def _restored_links(self, names):
        """Of the tunnels a rollback restored, those whose link the kernel has again: the runtime
        store may have just made it anew (a deleted tunnel put back), the race settle waits out."""
        return [name for name in names if self._link_present(name)]

    def _bring_up(self, name):
        """Make NetworkManager hold the tunnel's device with the connection just loaded (after the
        wait for its device: :meth:`_wait_for_devices`): reapply when it is active already and only
        addresses, routes or mtu changed (no interruption), else activate it (on the device the
        runtime store made: NetworkManager takes it over without recreating it; an active one is
        deactivated and activated again)."""
        uuid = connection_uuid(name)
        if active_uuid(self._run_command, name) == uuid and reapply(self._run_command, name):
            return
        refused = []

        def activated():
            try:
                activate(self._run_command, uuid)
            except NmError as exc:
                # Refusals of a NetworkManager whose view of the link lags (settle's wait is for
                # the device; its properties follow the link's events): tried again for a while;
                # any other refusal fails at once.
                if not any(words in str(exc) for words in LAGGING_REFUSALS):
                    raise
                refused[:] = [exc]
                return False
            return True
        if not until(activated, EXISTS_WAIT, interval=1):
            raise refused[0]

    def settle_again(self):
        """After a rollback restored the files and the links (the engine runs this last, see
        ``_engine._apply``; also after a settle that failed after its reload): NetworkManager
        reloads the files, once it has a device of each restored link (see settle), and brings
        up again each restored connection it loaded (a restored modify is the old connection
        active again)."""
        self._written = {}
        if self._run_command is None or not running(self._run_command):
            return
        self._wait_for_devices(self._restored_links(self._restorable))
        reload_running(self._run_command)
        loaded = loaded_files(self._run_command)
        for name in sorted(self._restorable):
            if loaded.get(connection_uuid(name)) == self.files.path(name, SUFFIX):
                self._bring_up(name)

    def managed(self):
        return set(self.read())

    def create(self, key, obj):
        self.files.write(key, {SUFFIX: render_file(obj)})
        self._written[key] = True

    def modify(self, key, before, after):
        self.create(key, after)

    def delete(self, key, obj):
        self.files.remove(key)
        self._written[key] = False

    def snapshot(self, key):
        self._restorable.add(key)
        return self.files.snapshot(key)

    def restore_record(self, record):
        self.files.restore_record(record)
        # from_record accepted only files of this directory: their names are tunnels' names
        self._restorable.update(name for name in (self.files.name_of(os.path.basename(path)) for path, dummy in record)
                                if name is not None)

    def commands(self, change):
        path = self.files.path(change.key, SUFFIX)
        if change.action == DELETE:
            return ['remove %s' % path, 'nmcli connection reload']
        return ['write %s' % path, 'nmcli connection reload', 'nmcli connection up uuid %s' % connection_uuid(change.key)]


def _link_in_sysfs(name):
    """Whether the host's kernel has a link ``name`` (a literal interface name: see check_name):
    the store writes the host namespace's files only."""
    return os.path.lexists(os.path.join('/sys/class/net', name))
