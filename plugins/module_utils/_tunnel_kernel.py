# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The runtime store of IP tunnels: the kernel, through the netlink seam (``_netlink``).

What the kernel reports becomes the canonical form of ``_tunnel.TABLE`` (:func:`from_kernel`)
and the canonical form becomes the complete IFLA_INFO_DATA set a write sends
(:func:`kernel_data`); :func:`iproute2_commands` says the same change as ``ip`` commands.
"""

from __future__ import annotations

import errno
import ipaddress

from ansible_collections.edgenet.router.plugins.module_utils._engine import RECREATE, RUNTIME, Store, CREATE, DELETE, MODIFY
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import (
    FALLBACK_DEVICES, FIELD_NAMES, GRE_KINDS, IPPROTO_IPIP, IPPROTO_IPV6, LINK_PARAMETERS,
    SIXRD_DEFAULT_PREFIX, SIXRD_DEFAULT_RELAY_PREFIX, TYPES, TunnelError, _norm_address_list, _norm_routes, _norm_rules,
    route_tables, tos_byte, tos_of_byte,
)
from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError, address_commands, change_link, change_tunnel, delete_link, new_link
from ansible_collections.edgenet.router.plugins.module_utils._values import removed

__all__ = [
    'KINDS',
    'MANAGED_ALIAS',
    'KernelTunnels',
    'from_kernel',
    'iproute2_commands',
    'link_words',
    'route_words',
    'kernel_data',
]

# The IFLA_IFALIAS the collection puts on links it made: how purge and iptun_info tell ours
# from foreign links without a state file (the alias lives and dies with the link).
MANAGED_ALIAS = 'edgenet.router'

KINDS = ('ipip', 'sit', 'ip6tnl') + GRE_KINDS

# ip6tnl flags (include/uapi/linux/ip6_tunnel.h)
IP6_TNL_F_IGN_ENCAP_LIMIT = 0x1
IP6_TNL_F_USE_ORIG_TCLASS = 0x2
IP6_TNL_F_USE_ORIG_FLOWLABEL = 0x4
IP6_FLOWINFO_TCLASS = 0x0FF00000
IP6_FLOWINFO_FLOWLABEL = 0x000FFFFF
IP6_FLOWINFO_TCLASS_SHIFT = 20   # the traffic class sits above the 20-bit flow label

# GRE header bits of IFLA_GRE_IFLAGS/OFLAGS (linux/if_tunnel.h, host order here: the codec
# reads the big-endian word), per in/out pair of fields: (key field, checksum, sequence)
GRE_CSUM, GRE_KEY, GRE_SEQ = 0x8000, 0x2000, 0x1000
GRE_DIRECTIONS = (('iflags', 'ikey', 'icsum', 'iseq'), ('oflags', 'okey', 'ocsum', 'oseq'))


# ---- kernel <-> canonical -------------------------------------------------------------------
def _type_of(kind, data):
    proto = data.get('proto')
    remote = data.get('remote')
    if kind == 'ipip' or kind in GRE_KINDS:
        return kind
    if kind == 'sit':
        if proto == 0:
            return 'ipv4'
        if remote not in (None, '0.0.0.0'):
            return 'sit'
        return '6rd' if _sixrd_of(data) is not None else '6to4'
    return {IPPROTO_IPV6: 'ip6ip6', IPPROTO_IPIP: 'ipip6', 0: 'ipv6'}.get(proto, 'ip6ip6')


def _sixrd_of(data):
    """``(prefix, relay prefix)`` of a sit device with a 6rd configuration; None for the
    kernel's default (2002::/16, relay 0.0.0.0/0), which is plain 6to4."""
    if not data.get('6rd_prefixlen'):
        return None
    prefix = '%s/%d' % (ipaddress.IPv6Address(data.get('6rd_prefix') or '::'), data['6rd_prefixlen'])
    relay = '%s/%d' % (ipaddress.IPv4Address(data.get('6rd_relay_prefix') or '0.0.0.0'),
                       data.get('6rd_relay_prefixlen') or 0)
    if (prefix, relay) == (SIXRD_DEFAULT_PREFIX, SIXRD_DEFAULT_RELAY_PREFIX):
        return None
    return prefix, relay


def _endpoint(value):
    """The seam's endpoint text -> canonical form. Its IPv4 text (inet_ntop) already is; its
    IPv6 text goes through ipaddress, whose form for IPv4-mapped addresses differs by version."""
    if value in (None, '0.0.0.0', '::'):
        return 'any'
    return str(ipaddress.ip_address(value)) if ':' in value else value


def _tunnel_addresses(kind, addresses):
    """Leave out the IPv4-compatible ::a.b.c.d/96 addresses the kernel adds to sit devices."""
    if kind != 'sit':
        return addresses
    return [a for a in addresses if not (a.endswith('/96') and ipaddress.ip_interface(a).ip in ipaddress.ip_network('::/96'))]


def from_kernel(link, addresses, routes, index_names, rules=()):
    """A link as read by the netlink seam -> canonical tunnel dict. ``rules`` are every policy
    rule; the tunnel's are those leading to the tables its routes use."""
    obj = _link_fields(link, index_names)
    obj['addresses'] = _norm_address_list(_tunnel_addresses(link['kind'], addresses)) if addresses else []
    obj['routes'] = _norm_routes(routes) if routes else []
    tables = route_tables(obj['routes'])
    obj['rules'] = _norm_rules([rule for rule in rules if rule['table'] in tables]) if tables else []
    return obj


_NO_FIELDS = dict.fromkeys(FIELD_NAMES)


def _link_fields(link, index_names):
    """The canonical tunnel dict of a link, but for its addresses, routes and rules (None)."""
    kind = link['kind']
    data = link['data']
    # a copy of a made dict, then its values replaced: dict.fromkeys and an update with a dict of
    # eight were three times the cost (each adds the keys one by one, growing the table)
    obj = _NO_FIELDS.copy()
    obj['name'] = link['name']
    obj['type'] = _type_of(kind, data)
    obj['local'] = _endpoint(data.get('local'))
    obj['remote'] = _endpoint(data.get('remote'))
    obj['ttl'] = data.get('ttl', 0)
    obj['mtu'] = link['mtu']
    obj['link'] = index_names.get(data.get('link')) if data.get('link') else None
    obj['enabled'] = link['up']
    if TYPES[obj['type']]['family'] == 6:  # ip6tnl, ip6gre, ip6gretap: IP6_TNL_F_* flags and flowinfo
        flags = data.get('flags', 0) or 0
        flowinfo = data.get('flowinfo', 0) or 0
        obj['encaplimit'] = 'none' if flags & IP6_TNL_F_IGN_ENCAP_LIMIT else data.get('encap_limit', 0)
        obj['tos'] = 'inherit' if flags & IP6_TNL_F_USE_ORIG_TCLASS else (flowinfo & IP6_FLOWINFO_TCLASS) >> IP6_FLOWINFO_TCLASS_SHIFT
        obj['flowlabel'] = flowinfo & IP6_FLOWINFO_FLOWLABEL
    else:
        obj['tos'] = tos_of_byte(data.get('tos', 0) or 0)
        obj['pmtudisc'] = bool(data.get('pmtudisc', 1))
    if obj['type'] == '6rd':
        obj['sixrd_prefix'], obj['sixrd_relay_prefix'] = _sixrd_of(data)
    if kind in GRE_KINDS:
        for flags_name, key, csum, seq in GRE_DIRECTIONS:
            flags = data.get(flags_name, 0) or 0
            obj[key] = data.get(key, 0) if flags & GRE_KEY else 'none'
            obj[csum] = bool(flags & GRE_CSUM)
            obj[seq] = bool(flags & GRE_SEQ)
    return obj


def kernel_data(obj, link_index):
    """Canonical tunnel -> the complete IFLA_INFO_DATA set for the seam (short names)."""
    spec = TYPES[obj['type']]
    kind = spec['kind']
    any_addr = '0.0.0.0' if spec['family'] == 4 else '::'
    data = {
        'local': any_addr if obj['local'] == 'any' else obj['local'],
        'remote': any_addr if obj['remote'] == 'any' else obj['remote'],
        'ttl': obj['ttl'],
        'link': link_index or 0,
    }
    if kind in GRE_KINDS:
        for flags_name, key, csum, seq in GRE_DIRECTIONS:
            keyed = obj[key] != 'none'
            data[flags_name] = (GRE_KEY if keyed else 0) | (GRE_CSUM if obj[csum] else 0) | (GRE_SEQ if obj[seq] else 0)
            data[key] = obj[key] if keyed else 0
    else:
        data['proto'] = spec['proto']
    if spec['family'] == 6:
        flags = 0
        flowinfo = obj['flowlabel'] or 0
        if obj['encaplimit'] == 'none':
            flags |= IP6_TNL_F_IGN_ENCAP_LIMIT
            data['encap_limit'] = 0
        else:
            data['encap_limit'] = obj['encaplimit']
        if obj['tos'] == 'inherit':
            flags |= IP6_TNL_F_USE_ORIG_TCLASS
        else:
            flowinfo |= (obj['tos'] or 0) << IP6_FLOWINFO_TCLASS_SHIFT
        data['flags'] = flags
        data['flowinfo'] = flowinfo
    else:
        data['tos'] = tos_byte(obj['tos'])
        data['pmtudisc'] = 1 if obj['pmtudisc'] else 0
    if obj['type'] == '6rd':
        prefix = ipaddress.IPv6Network(obj['sixrd_prefix'])
        relay = ipaddress.IPv4Network(obj['sixrd_relay_prefix'])
        data.update({'6rd_prefix': str(prefix.network_address), '6rd_prefixlen': prefix.prefixlen,
                     '6rd_relay_prefix': str(relay.network_address), '6rd_relay_prefixlen': relay.prefixlen})
    return kind, data


# ---- iproute2 equivalents -----------------------------------------------------------------
def _ip(netns):
    return 'ip -n %s' % netns if netns else 'ip'


def _hex(value):
    """iproute2 reads tos, tclass and flowlabel in hexadecimal ("tos 16" is 0x16): written so."""
    return value if isinstance(value, str) or value == 0 else '0x%x' % value


def link_words(obj):
    """The ``ip link add NAME ...`` words of a canonical tunnel (after the name), as iproute2
    reads them back: also what the ifupdown store writes for boot."""
    spec = TYPES[obj['type']]
    kind = spec['kind']
    words = ['type', kind]
    if kind in ('sit', 'ip6tnl'):
        mode = {IPPROTO_IPV6: 'ip6ip6' if kind == 'ip6tnl' else 'ip6ip', IPPROTO_IPIP: 'ipip6' if kind == 'ip6tnl' else 'ipip',
                0: 'any'}[spec['proto']]
        words += ['mode', mode]
    words += ['local', obj['local'], 'remote', obj['remote']]
    if spec['family'] == 6:
        words += ['hoplimit', str(obj['ttl']), 'encaplimit', str(obj['encaplimit']),
                  'tclass', str(_hex(obj['tos'])), 'flowlabel', str(_hex(obj['flowlabel']))]
    else:
        words += ['ttl', str(obj['ttl']) if obj['ttl'] else 'inherit', 'tos', str(_hex(obj['tos'])),
                  'pmtudisc' if obj['pmtudisc'] else 'nopmtudisc']
    if obj['type'] == '6rd':
        words += ['6rd-prefix', obj['sixrd_prefix'], '6rd-relay_prefix', obj['sixrd_relay_prefix']]
    if kind in GRE_KINDS:
        words += _gre_words(obj)
    if obj.get('link'):
        words += ['dev', obj['link']]
    return words


def _gre_words(obj):
    """iproute2's GRE words: a key per direction when there is one, then the flag words. With
    no key, ``noikey``/``nookey``: on ``ip link set`` an omitted key keeps the old one."""
    words = []
    for dummy, key, csum, seq in GRE_DIRECTIONS:
        words += ['no' + key] if obj[key] == 'none' else [key, str(obj[key])]
    for dummy, dummy, csum, seq in GRE_DIRECTIONS:
        words += [csum if obj[csum] else 'no' + csum, seq if obj[seq] else 'no' + seq]
    return words


def _link_params(obj):
    return ' '.join(link_words(obj))


def iproute2_commands(change, netns=None):
    """The ``ip`` commands a person would type for a runtime change."""
    ip = _ip(netns)
    name = change.key
    if change.action == DELETE:
        return ['%s link del %s' % (ip, name)]
    before = change.before if change.action == MODIFY else {}
    after = change.after
    cmds = []
    if change.action in (CREATE, RECREATE):
        if change.action == RECREATE:
            cmds.append('%s link del %s' % (ip, name))
        cmds.append('%s link add %s %s' % (ip, name, _link_params(after)))
        before = {}
    elif not _LINK_PARAMETER_SET.isdisjoint(change.fields):
        cmds.append('%s link set %s %s' % (ip, name, _link_params(after)))
    if after.get('mtu') is not None and after.get('mtu') != before.get('mtu'):
        cmds.append('%s link set %s mtu %s' % (ip, name, after['mtu']))
    # As the writes do (see _addresses_and_routes): equal lists are told in one compare each, not
    # searched for addresses, routes and rules to add and remove (a ttl change of 1000 tunnels).
    lists = _lists_change(before, after)
    if lists:
        cmds.extend(address_commands(ip, name, before.get('addresses'), after.get('addresses')))
    if after.get('enabled') is not None and after.get('enabled') != before.get('enabled'):
        cmds.append('%s link set %s %s' % (ip, name, 'up' if after['enabled'] else 'down'))
    if not lists:
        return cmds
    for route in removed(before.get('routes'), after.get('routes')):
        cmds.append('%s route del %s dev %s' % (ip, ' '.join(route_words(route)), name))
    for route in removed(after.get('routes'), before.get('routes') or []):
        cmds.append('%s route add %s dev %s' % (ip, ' '.join(route_words(route)), name))
    for rule in removed(before.get('rules'), after.get('rules')):
        cmds.append('%s rule del %s' % (_ip_family(ip, rule), ' '.join(rule_words(rule))))
    for rule in removed(after.get('rules'), before.get('rules') or []):
        cmds.append('%s rule add %s' % (_ip_family(ip, rule), ' '.join(rule_words(rule))))
    return cmds


def _ip_family(ip, rule):
    """``ip`` or ``ip -6``: ``ip rule`` is IPv4's unless told."""
    return ip + ' -6' if ':' in (rule.get('from') or rule.get('to') or '') else ip


def rule_words(rule):
    """``ip rule add ...`` words of a canonical rule (after ``ip [-6] rule add``)."""
    words = ['priority', str(rule['priority'])]
    for key in ('from', 'to', 'iif'):
        if rule.get(key):
            words += [key, rule[key]]
    return words + ['table', str(rule['table'])]


def rule_from_words(words):
    """The rule of ``priority N [from P] [to P] [iif NAME] table T`` words (as :func:`rule_words`
    writes them; also NetworkManager's routing-rule syntax), for its store's normaliser to check."""
    rule = {}
    for key, value in zip(words[::2], words[1::2]):
        if key in ('priority', 'from', 'to', 'iif', 'table'):
            rule[key] = value
    return rule


LIST_FIELDS = ('addresses', 'routes', 'rules')
_LINK_PARAMETER_SET = frozenset(LINK_PARAMETERS)


def _lists_change(before, after):
    """Whether a write adds or removes addresses, routes or rules. Equal lists (the usual case,
    tested first) add and remove nothing."""
    for field in LIST_FIELDS:
        old, new = before.get(field), after.get(field)
        if old != new and (removed(old, new) or removed(new, old or [])):
            return True
    return False


def _info_data_only(change):
    """Whether ``change`` is a modify whose writes replace the link's IFLA_INFO_DATA and nothing
    else (endpoints, underlay, ttl, tos, keys...; no MTU, up/down, address, route or rule).

    The kernel keeps a link's addresses and routes through such a change: ip_tunnel_update (and
    its ip6tnl and sit siblings) rehashes the tunnel, sets a new underlay's MTU by plain
    assignment (no NETDEV_CHANGEMTU) and ends in netdev_state_change, whose NETDEV_CHANGE at most
    marks routes linkdown. What does move them: an MTU below 1280 (IPv6 drops the link's
    addresses), down (NETDEV_DOWN flushes its routes), a delete or recreate (the link goes with
    all it held), and rules are written only with routes."""
    if change.action != MODIFY:
        return False
    before, after = change.before or {}, change.after or {}
    return not _lists_change(before, after) and all(
        after.get(field) is None or after.get(field) == before.get(field) for field in ('mtu', 'enabled'))


def route_words(route):
    """``ip route add ...`` words of a canonical route (before ``dev``)."""
    words = [route['dest']]
    if route.get('from'):
        words += ['from', route['from']]
    if route.get('via'):
        words += ['via', route['via']]
    if route.get('src'):
        words += ['src', route['src']]
    words += ['metric', str(route['metric'])]
    if route.get('table'):
        words += ['table', str(route['table'])]
    return words


# ---- the runtime store ----------------------------------------------------------------------
class KernelTunnels(Store):
    """Tunnels in one network namespace, through the netlink seam.

    Reads every ipip/sit/ip6tnl link but the fallback devices; ``managed()`` tells which carry
    the collection's alias. Writes send the complete parameter set (see kernel_data).
    """

    name = RUNTIME
    verifies = True  # the engine checks its re-read against every change (see _engine.unkept)

    def __init__(self, netlink, netns=None):
        self.nl = netlink
        self.netns = netns
        self._links = None
        self._stale = True
        self._lists = None   # {index: [addresses, routes, rules]} of each tunnel the last read() saw

    def _refresh(self):
        links = self.nl.links(rp_filter=False)   # a tunnel has no rp_filter field
        self._links = dict((link['name'], link) for link in links)
        self._index_names = dict((link['index'], link['name']) for link in links)
        self._stale = False

    def _dump(self):
        """The links as last dumped: one dump serves the checks before planning and the read.
        After a write it is stale for read(), but its indexes still serve the lookups (a
        change keeps a link's index; created links are looked up by name, deleted ones
        dropped)."""
        if self._links is None:
            self._refresh()
        return self._links

    def _tunnel_links(self):
        return [(name, link) for name, link in self._dump().items() if link['kind'] in KINDS and name not in FALLBACK_DEVICES]

    def read(self):
        if self._stale:
            self._refresh()
        # One dump each of links, addresses, routes and rules, whatever the number of tunnels; the
        # rules only when a route is in a table other than main (a tunnel's rules lead there).
        addresses = self.nl.addresses()
        routes = self.nl.routes()
        rules = self.nl.rules() if any(r.get('table') for rs in routes.values() for r in rs) else ()
        out = {}
        self._lists = {}
        for name, link in self._tunnel_links():
            obj = out[name] = from_kernel(link, addresses.get(link['index'], []), routes.get(link['index'], []),
                                          self._index_names, rules)
            self._lists[link['index']] = [obj[field] for field in LIST_FIELDS]
        return out

    def read_after(self, changes):
        """The read verify makes. After writes that only replaced tunnels' IFLA_INFO_DATA (see
        :func:`_info_data_only`), the links are dumped again but their addresses, routes and rules
        are those :meth:`read` saw before the writes: the kernel keeps them through such a change,
        and verify checks only what a change wrote, which was none of them. A ttl change of 1000
        tunnels then skips three dumps and decoding 1000 tunnels' lists again. Any other change in
        the run (in any store: a network manager's settle may reconfigure the link), or a tunnel
        the last read did not see (by index: a link made again has a new one), reads all."""
        if self._lists is None or not all(change.store == self.name and _info_data_only(change) for change in changes):
            return self.read()
        self._refresh()
        out = {}
        for name, link in self._tunnel_links():
            lists = self._lists.get(link['index'])
            if lists is None:
                return self.read()
            obj = out[name] = _link_fields(link, self._index_names)
            obj.update(zip(LIST_FIELDS, lists))
        return out

    def managed(self):
        """Names of tunnels this collection made (they carry MANAGED_ALIAS)."""
        return set(name for name, link in self._dump().items()
                   if link['kind'] in KINDS and link.get('alias') == MANAGED_ALIAS)

    def foreign_kind(self, name):
        """The kind of a non-tunnel link holding ``name`` (never touched), or None."""
        link = self._dump().get(name)
        if link is not None and link['kind'] not in KINDS:
            return link['kind'] or 'device'
        return None

    def _index(self, name):
        """Index of an existing link (the underlay ``link``; a tunnel being changed)."""
        if name is None:
            return 0
        link = (self._links or {}).get(name)
        index = link['index'] if link is not None else self.nl.link_index(name)
        if index is None:
            raise TunnelError('underlay link %s does not exist' % name)
        return index

    def _dumped_index(self, name):
        """Index of a link as last dumped, without a lookup: None when unknown."""
        if name is None:
            return 0
        link = (self._links or {}).get(name)
        return link['index'] if link is not None else None

    def _link_calls(self, action, key, before, after, index_of):
        """The link requests of a create or modify, in order: the link itself (kind data,
        MTU, up/down, the alias), never its addresses or routes. ``index_of`` names links:
        None from it means "unknown", and then so is the answer (None)."""
        underlay = index_of(after.get('link'))
        if underlay is None:
            return None
        if action == CREATE:
            kind, data = kernel_data(after, underlay)
            # One request makes the link with its MTU and state; the alias needs a second.
            return [new_link(key, kind, data, mtu=after.get('mtu'), up=after.get('enabled')),
                    change_link(name=key, alias=MANAGED_ALIAS)]
        index = index_of(key)
        if index is None:
            return None
        calls = []
        if any(before.get(f) != after.get(f) for f in LINK_PARAMETERS):
            kind, data = kernel_data(after, underlay)
            calls.append(change_tunnel(index, key, kind, data))
        if after.get('mtu') is not None and after['mtu'] != before.get('mtu'):
            calls.append(change_link(index=index, name=key, mtu=after['mtu']))
        if after.get('enabled') is not None and after['enabled'] != before.get('enabled'):
            calls.append(change_link(index=index, name=key, up=after['enabled']))
        return calls

    def _one_by_one(self, calls):
        for call in calls:
            error = self.nl.link_writes([call])[0]
            if error is not None:
                raise error

    def create(self, key, obj):
        self._one_by_one(self._link_calls(CREATE, key, None, obj, self._index))
        self._stale = True
        self._addresses_and_routes(key, None, {}, obj)

    def modify(self, key, before, after):
        self._one_by_one(self._link_calls(MODIFY, key, before, after, self._index))
        self._stale = True
        self._addresses_and_routes(key, self._index(key), before, after)

    def _addresses_and_routes(self, name, index, before, after):
        if not _lists_change(before, after):
            return
        index = index or self.nl.link_index(name)
        for address in removed(before.get('addresses'), after.get('addresses')):
            self.nl.del_address(index, address)
        for address in removed(after.get('addresses'), before.get('addresses') or []):
            self.nl.add_address(index, address)
        # Routes need the link up and its addresses in place (a gateway must be on-link).
        for route in removed(before.get('routes'), after.get('routes')):
            try:
                self.nl.del_route(index, route)
            except NetlinkError as exc:
                # Gone already, as the delete wants (a rollback after networkd reloaded the
                # tunnel's files); the engine's verify still checks what the kernel holds.
                if exc.code != errno.ESRCH:
                    raise
        for route in removed(after.get('routes'), before.get('routes') or []):
            self.nl.add_route(index, route)
        # The kernel ties a rule to no link: its rules go and come here, not with the link.
        for rule in removed(before.get('rules'), after.get('rules')):
            self.nl.del_rule(rule)
        for rule in removed(after.get('rules'), before.get('rules') or []):
            self.nl.add_rule(rule)

    def delete(self, key, obj):
        for rule in (obj or {}).get('rules') or ():   # they would outlive the link
            self.nl.del_rule(rule)
        link = (self._links or {}).pop(key, None)
        index = link['index'] if link is not None else self.nl.link_index(key)
        self._stale = True
        if index is not None:
            self.nl.del_link(index, key)

    # ---- many writes at once (the engine's batches) ---------------------------------------------
    batches = True

    def _batch_item(self, action, key, before, after):
        """``(action, key, link requests)`` of a write that can go in a batch, or None: a write
        that changes addresses or routes, or names a link the dump did not show, goes alone."""
        if action == DELETE:
            index = self._dumped_index(key)
            if index is None or (before or {}).get('rules'):   # rules go one by one first (see delete)
                return None
            return action, key, [delete_link(index, key)]
        if _lists_change(before or {}, after):
            return None
        return action, key, self._link_calls(action, key, before or {}, after, self._dumped_index)

    def write_many(self, writes):
        """Consecutive writes that are link requests only go to the kernel as one batch (see
        RtnlSocket.request_many); the others one at a time, in order (Store.write_in_batches).
        The writes of a batch after a failure in it were done."""
        return self.write_in_batches(writes, self._batch_item, self._send_batch)

    def _send_batch(self, batch):
        """One outcome per write of ``batch``: the first error among its requests, or None."""
        errors = self.nl.link_writes([call for dummy, dummy, calls in batch for call in calls])
        self._stale = True
        outcomes, start = [], 0
        for action, key, calls in batch:
            mine = [error for error in errors[start:start + len(calls)] if error is not None]
            start += len(calls)
            outcomes.append(mine[0] if mine else None)
            if action == DELETE and not mine:
                self._links.pop(key, None)
        return outcomes

    def commands(self, change):
        return iproute2_commands(change, self.netns)
