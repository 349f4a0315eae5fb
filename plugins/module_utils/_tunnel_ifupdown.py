# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The persistent store of IP tunnels on an ifupdown router: ``/etc/network/interfaces.d/edgenet-NAME``.

Why ``inet manual`` with iproute2 hooks and not ifupdown's own ``tunnel``/``v4tunnel`` methods:
those need an address on the tunnel and know neither tos, path MTU discovery, the flow label,
6rd nor a tunnel without addresses; the hooks bring back every field the kernel store writes,
with the words the runtime store's ``commands`` already show (``_tunnel_kernel.link_words``):

    auto he0
    iface he0 inet manual
        pre-up ip link add he0 type sit mode ip6ip local 198.51.100.7 remote 203.0.113.1 ttl 64 tos 0 pmtudisc
        up ip link set he0 up
        up ip addr add 2001:db8:1f0a::2/64 dev he0
        up ip route add ::/0 via 2001:db8:1f0a::1 metric 1024 dev he0
        post-down ip link del he0

Reading back parses those same lines, so a value edited by hand is drift of this store. A GRE
tunnel's line says every key and flag (``ikey 42 nookey icsum noiseq ...``), as the runtime store's
commands do; a hand edit may also use iproute2's ``key``, ``csum``, ``seq`` (both directions),
their ``no`` forms and the dotted key form (``key 0.0.0.42``), read as ``ip link add`` reads them.
"""

from __future__ import annotations

from ansible_collections.edgenet.router.plugins.module_utils._engine import PERSISTENT, Store, DELETE
from ansible_collections.edgenet.router.plugins.module_utils._ifupdown import (
    IfupdownError, InterfacesDir, parse_stanza, render_stanza, sourcing_problem,
)
from ansible_collections.edgenet.router.plugins.module_utils._tunnel import (
    GRE_FIELDS, GRE_KINDS, GRE_SHORTHANDS, TABLE, TYPES, KIND_FIELDS, TUNNEL_FIELDS, TunnelError, _norm_address_list,
    _norm_key, _norm_routes, _norm_rules,
)
from ansible_collections.edgenet.router.plugins.module_utils._tunnel_kernel import link_words, route_words, rule_from_words, rule_words

__all__ = ['IfupdownTunnels', 'check_persistable', 'render_hooks', 'parse_hooks']

# (kind, mode) -> type, for the types a plain ``mode`` tells apart (6to4 and 6rd: see parse_hooks).
MODE_TYPES = {('ipip', None): 'ipip', ('sit', 'ip6ip'): 'sit', ('sit', 'any'): 'ipv4',
              ('ip6tnl', 'ip6ip6'): 'ip6ip6', ('ip6tnl', 'ipip6'): 'ipip6', ('ip6tnl', 'any'): 'ipv6'}
# ``ip link add`` words -> field, and how the value reads back.
WORD_FIELDS = {'local': 'local', 'remote': 'remote', 'ttl': 'ttl', 'hoplimit': 'ttl', 'tos': 'tos',
               'tclass': 'tos', 'encaplimit': 'encaplimit', 'flowlabel': 'flowlabel', 'dev': 'link',
               '6rd-prefix': 'sixrd_prefix', '6rd-relay_prefix': 'sixrd_relay_prefix'}
HEX_FIELDS = ('tos', 'flowlabel')   # iproute2 reads these in hexadecimal
# iproute2's GRE words (ip/link_gre.c, link_gre6.c): a key word takes a value and ``no``+word
# clears it; a flag word sets its flag and ``no``+word clears it. ``key``, ``csum`` and ``seq``
# are both directions.
GRE_PAIRS = dict([(name, (name,)) for name in GRE_FIELDS] + list(GRE_SHORTHANDS.items()))
GRE_KEY_WORDS = ('key', 'ikey', 'okey')
COMMENT = 'edgenet.router iptun tunnel: ifupdown brings it back at boot (networking.service, ifup -a).'


def check_persistable(obj):
    """Refuse, before anything is touched, what the ifupdown store cannot bring back at boot."""
    if '.' in obj['name']:
        raise TunnelError('tunnel %s cannot be made persistent with ifupdown: its file would be named edgenet-%s, '
                          'and ifupdown\'s source-directory skips file names with a dot; choose a name without one, '
                          'or persistent: false' % (obj['name'], obj['name']))


def render_hooks(obj):
    """Canonical tunnel -> the stanza's ``[(hook, argv)]``."""
    name = obj['name']
    hooks = [('pre-up', ['ip', 'link', 'add', name] + link_words(obj))]
    if obj.get('mtu') is not None:
        hooks.append(('pre-up', ['ip', 'link', 'set', name, 'mtu', str(obj['mtu'])]))
    hooks.append(('up', ['ip', 'link', 'set', name, 'up' if obj['enabled'] else 'down']))
    hooks += [('up', ['ip', 'addr', 'add', address, 'dev', name]) for address in obj.get('addresses') or []]
    hooks += [('up', ['ip', 'route', 'add'] + route_words(route) + ['dev', name]) for route in obj.get('routes') or []]
    # rules are tied to no link: they come with the tunnel and go before it
    hooks += [('up', _ip_rule(rule) + ['add'] + rule_words(rule)) for rule in obj.get('rules') or []]
    hooks += [('down', _ip_rule(rule) + ['del'] + rule_words(rule)) for rule in obj.get('rules') or []]
    hooks.append(('post-down', ['ip', 'link', 'del', name]))
    return hooks


def _ip_rule(rule):
    return ['ip', '-6', 'rule'] if ':' in (rule.get('from') or rule.get('to') or '') else ['ip', 'rule']


def _value(field, word):
    if word in ('inherit', 'none', 'any'):
        return 0 if field == 'ttl' and word == 'inherit' else word
    try:
        return int(word, 16) if field in HEX_FIELDS else int(word, 0)
    except ValueError:
        return word   # not a number where one belongs: shown as drift as written


def _key(word):
    """A key word's value as iproute2 reads it (a number, or the dotted form); else the word, shown
    as drift as written."""
    try:
        return _norm_key(word)
    except TunnelError:
        return word


def _link(obj, words):
    """``type KIND [mode M] key value ... [pmtudisc|nopmtudisc] [GRE words]`` into ``obj``."""
    kind = words[1] if len(words) > 1 and words[0] == 'type' else None
    mode, rest = None, words[2:]
    while rest:
        word = rest.pop(0)
        if word in ('pmtudisc', 'nopmtudisc'):
            obj['pmtudisc'] = word == 'pmtudisc'
        elif word in GRE_KEY_WORDS:
            if rest:
                obj.update(dict.fromkeys(GRE_PAIRS[word], _key(rest.pop(0))))
        elif word in GRE_PAIRS:
            obj.update(dict.fromkeys(GRE_PAIRS[word], True))
        elif word.startswith('no') and word[2:] in GRE_PAIRS:
            obj.update(dict.fromkeys(GRE_PAIRS[word[2:]], 'none' if word[2:] in GRE_KEY_WORDS else False))
        elif word == 'mode' and rest:
            mode = rest.pop(0)
        elif word in WORD_FIELDS and rest:
            field = WORD_FIELDS[word]
            obj[field] = _value(field, rest.pop(0))
    obj['type'] = MODE_TYPES.get((kind, mode), kind)
    if obj['type'] == 'sit' and obj.get('remote') == 'any':
        obj['type'] = '6rd' if obj.get('sixrd_prefix') else '6to4'
    return kind


def parse_hooks(name, auto, hooks):
    """The stanza's hooks -> canonical tunnel (what boot would build); None without ``auto``
    or without the ``ip link add`` line (boot would build nothing)."""
    obj = dict((f.name, None) for f in TABLE)
    obj.update(name=name, local='any', remote='any', enabled=True)
    addresses, routes, rules, kind = [], [], [], None
    for hook, argv in hooks:
        head, args = argv[:3], argv[3:]
        if hook == 'pre-up' and head == ['ip', 'link', 'add'] and args[:1] == [name]:
            kind = _link(obj, args[1:])
        elif head == ['ip', 'link', 'set'] and args[:1] == [name]:
            if args[1:2] == ['mtu'] and len(args) > 2:
                obj['mtu'] = _value('mtu', args[2])
            elif args[1:] in (['up'], ['down']):
                obj['enabled'] = args[1] == 'up'
        elif hook == 'up' and head == ['ip', 'addr', 'add'] and args[-2:] == ['dev', name]:
            addresses.append(args[0])
        elif hook == 'up' and head == ['ip', 'route', 'add'] and args[-2:] == ['dev', name]:
            words = args[:-2]
            route = {'dest': words[0] if words else None, 'via': None, 'metric': None}
            for key in ('via', 'metric', 'table', 'src', 'from'):
                if key in words[1:-1]:
                    route[key] = words[words.index(key) + 1]
            route['metric'] = _value('metric', route['metric']) if route['metric'] is not None else None
            routes.append(route)
        elif hook == 'up' and argv[:2] == ['ip', 'rule'] and argv[2:3] == ['add']:
            rules.append(rule_from_words(argv[3:]))
        elif hook == 'up' and argv[:3] == ['ip', '-6', 'rule'] and argv[3:4] == ['add']:
            rules.append(rule_from_words(argv[4:]))
    if not auto or kind is None:
        return None
    for field in TUNNEL_FIELDS:
        if field not in KIND_FIELDS.get(TYPES.get(obj['type'], {}).get('kind'), ()):
            obj[field] = None
    if kind in GRE_KINDS:   # a GRE word left out: iproute2 makes the link without that key or flag
        for field in GRE_FIELDS:
            if obj[field] is None:
                obj[field] = 'none' if field.endswith('key') else False
    obj['addresses'] = _norm_address_list(addresses)
    obj['routes'] = _norm_routes(routes)
    obj['rules'] = _norm_rules(rules)
    return obj


class IfupdownTunnels(Store):
    """Tunnels as ifupdown stanza files in one directory (/etc/network/interfaces.d on a router).
    Nothing to reload: ifupdown reads them at boot (see ``_ifupdown``)."""

    name = PERSISTENT
    manager = 'ifupdown'  # the key of _tunnel_persist.MANAGERS: a commit-confirm rollback reopens this store
    verifies = True  # the engine checks its re-read against every change (see _engine.unkept)
    check_persistable = staticmethod(check_persistable)

    def __init__(self, directory, run_command=None):
        self.files = InterfacesDir(directory)

    @staticmethod
    def host_problem(directory, run_command=None):
        """Why ifupdown would not read this directory's files at boot, or None. A directory that
        cannot be one (empty, relative, a NUL or line break) is refused first, as the store does."""
        return sourcing_problem(InterfacesDir(directory).directory)

    def read(self):
        out = {}
        for name, files in self.files.read_all().items():
            try:
                obj = parse_hooks(name, *parse_stanza(name, files['interfaces']))
            except (IfupdownError, TunnelError) as exc:
                raise IfupdownError('Cannot read the ifupdown file of tunnel %s in %s: %s. Fix or remove it (it carries '
                                    'the managed marker)' % (name, self.files.directory, exc))
            if obj is not None:
                out[name] = obj
        return out

    def locked(self):
        return self.files.locked()

    def managed(self):
        return set(self.read())

    def create(self, key, obj):
        self.files.write(key, {'interfaces': render_stanza(key, render_hooks(obj), COMMENT)})

    def modify(self, key, before, after):
        self.create(key, after)

    def delete(self, key, obj):
        self.files.remove(key)

    def snapshot(self, key):
        return self.files.snapshot(key)

    def restore_record(self, record):
        self.files.restore_record(record)

    def commands(self, change):
        verb = 'remove' if change.action == DELETE else 'write'
        return ['%s %s' % (verb, self.files.path(change.key, 'interfaces'))]
