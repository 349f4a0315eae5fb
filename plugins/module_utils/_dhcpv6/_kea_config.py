# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Kea's configuration (2.2) for the DHCPv6 model: what Kea can express, the model rendered as
Kea JSON and parsed back from a file or from ``config-get``, and the file's text. Plain data in,
plain data out: nothing here touches the system (the stores and the control socket are
``_kea``'s and ``_kea_control``'s).

One Kea config serves every interface; each interface is one ``subnet6`` entry carrying
``user-context: {"edgenet.router": {"interface": ...}}``, so a task replaces its own subnet and
keeps the others. Ignored user classes are clauses of the global ``DROP`` client class.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import re

from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import MANAGED_MARKER, canonical_read
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._model import Dhcpv6Error, TABLE, norm_pool
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._pdroutes import is_our_hook

__all__ = [
    'CONTEXT_KEY',
    'check_expressible',
    'dump_config',
    'load_text',
    'managed_part',
    'models_from_config',
    'parse_subnet',
    'render_config',
    'render_subnet',
]

CONTEXT_KEY = 'edgenet.router'

# Model field -> Kea option name (all in the dhcp6 space).
OPTION_NAMES = {
    'dns_servers': ('dns-servers', 23),
    'domain_search': ('domain-search', 24),
    'sol_max_rt': ('solmax-rt', 82),
    'inf_max_rt': ('inf-max-rt', 83),
    'information_refresh_time': ('information-refresh-time', 32),
}
# odhcpd puts the retransmission limits and the refresh time in every reply whether asked or
# not; Kea only sends what the client requests unless always-send is set.
ALWAYS_SEND = ('sol_max_rt', 'inf_max_rt', 'information_refresh_time')
CODE_FIELDS = dict((code, field) for field, (dummy, code) in OPTION_NAMES.items())
NAME_FIELDS = dict((name, field) for field, (name, dummy) in OPTION_NAMES.items())

_DROP_CLAUSE = re.compile(r"\(pkt\.iface == '([^']+)' and substring\(option\[15\]\.hex,0,(\d+)\) == 0x([0-9A-Fa-f]+)\)")


def check_expressible(obj):
    """Refuse, before anything is touched, what Kea cannot do (naming Kea)."""
    if obj is not None and obj['mode'] == 'relay':
        raise Dhcpv6Error('backend kea cannot relay: Kea is a DHCPv6 server only (interface %s). Use '
                          'backend edgenet (the collection\'s own relay) or dnsmasq for a relay.' % obj['interface'])


# ---- model <-> Kea JSON ---------------------------------------------------------------------
def _user_class_clause(iface, user_class):
    data = len(user_class.encode()).to_bytes(2, 'big') + user_class.encode()
    return "(pkt.iface == '%s' and substring(option[15].hex,0,%d) == 0x%s)" % (iface, len(data), data.hex().upper())


def _drop_test(models):
    clauses = [_user_class_clause(iface, uc) for iface in sorted(models)
               for uc in (models[iface].get('ignore_user_class') or [])]
    return ' or '.join(clauses)


def _parse_drop(test):
    """``{iface: [user class, ...]}`` from the DROP test; unknown clauses read as ``?``."""
    out = {}
    rest = test or ''
    for iface, length, data in _DROP_CLAUSE.findall(rest):
        raw = bytes.fromhex(data)
        if int(length) != len(raw) or int.from_bytes(raw[:2], 'big') != len(raw) - 2:
            out.setdefault(iface, []).append('?')
            continue
        out.setdefault(iface, []).append(raw[2:].decode('utf-8', 'replace'))
    return dict((k, sorted(v)) for k, v in out.items())


def _pool_entry(pool):
    return {'pool': pool}


def render_subnet(obj, subnet_id):
    """Canonical server model -> one Kea ``subnet6`` entry."""
    options = []
    for field, (name, dummy) in OPTION_NAMES.items():
        value = obj[field]
        if value in (None, []):
            continue
        data = ', '.join(value) if isinstance(value, list) else str(value)
        entry = {'name': name, 'data': data}
        if field in ALWAYS_SEND:
            entry['always-send'] = True
        options.append(entry)
    for extra in obj['extra_options']:
        options.append({'code': extra['code'], 'space': 'dhcp6', 'csv-format': False,
                        'data': extra['hex'].upper(), 'always-send': True})
    reservations = []
    for res in obj['reservations']:
        entry = {'duid': res['duid']}
        if res['address']:
            entry['ip-addresses'] = [res['address']]
        if res['prefix']:
            entry['prefixes'] = [res['prefix']]
        reservations.append(entry)
    subnet = {
        'id': subnet_id,
        'subnet': obj['subnet'],
        'interface': obj['interface'],
        'user-context': {CONTEXT_KEY: dict({'interface': obj['interface'], 'address_mode': obj['address_mode']},
                                           **({'pd_routes': True} if obj.get('pd_routes') is True else {}))},
        'pools': [_pool_entry(p) for p in obj['pools']],
        'pd-pools': [{'prefix': str(ipaddress.IPv6Network(pd['prefix']).network_address),
                      'prefix-len': ipaddress.IPv6Network(pd['prefix']).prefixlen,
                      'delegated-len': pd['delegated_length']} for pd in obj['prefix_delegation']],
        'reservations': reservations,
        'preferred-lifetime': obj['preferred_lifetime'],
        'valid-lifetime': obj['valid_lifetime'],
        'rapid-commit': obj['rapid_commit'],
        'option-data': options,
    }
    return subnet


def _split(data):
    return [item.strip() for item in str(data).split(',') if item.strip()]


def parse_subnet(subnet, user_classes=()):
    """A Kea ``subnet6`` entry (file or ``config-get``) -> canonical model, or None if not ours."""
    context = (subnet.get('user-context') or {}).get(CONTEXT_KEY)
    if not isinstance(context, dict) or not context.get('interface'):
        return None
    obj = dict((f.name, None) for f in TABLE)
    obj.update({
        'interface': context['interface'],
        'mode': 'server',
        'subnet': subnet.get('subnet'),
        'pools': [norm_pool(p.get('pool')) for p in subnet.get('pools') or []],
        'prefix_delegation': [{'prefix': '%s/%s' % (pd.get('prefix'), pd.get('prefix-len')),
                               'delegated_length': pd.get('delegated-len')} for pd in subnet.get('pd-pools') or []],
        'reservations': [],
        'dns_servers': [],
        'domain_search': [],
        'preferred_lifetime': subnet.get('preferred-lifetime'),
        'valid_lifetime': subnet.get('valid-lifetime'),
        'rapid_commit': bool(subnet.get('rapid-commit', False)),
        'ignore_user_class': list(user_classes),
        'extra_options': [],
        'pd_routes': context.get('pd_routes') is True,
    })
    if subnet.get('interface') != context['interface']:
        obj['subnet'] = '%s (on interface %s)' % (obj['subnet'], subnet.get('interface'))
    for res in subnet.get('reservations') or []:
        addresses, prefixes = res.get('ip-addresses') or [], res.get('prefixes') or []
        obj['reservations'].append({'duid': res.get('duid'), 'address': addresses[0] if addresses else None,
                                    'prefix': prefixes[0] if prefixes else None})
    for option in subnet.get('option-data') or []:
        if option.get('space', 'dhcp6') != 'dhcp6':
            continue
        field = NAME_FIELDS.get(option.get('name')) or CODE_FIELDS.get(option.get('code'))
        if field is None:
            data = option.get('data', '')
            if option.get('csv-format', True):
                data = '?' + data  # not ours: never equal to a canonical hex string
            obj['extra_options'].append({'code': option.get('code'), 'hex': data})
        elif field in ('dns_servers', 'domain_search'):
            obj[field] = _split(option.get('data', ''))
        else:
            obj[field] = int(option.get('data'))
    obj['address_mode'] = 'stateful' if obj['pools'] else 'stateless'
    return canonical_read(obj)


def models_from_config(config, check_hook=True):
    """``{interface: model}`` of the subnets this collection manages in a Kea config. With
    ``check_hook``, an interface asking for pd_routes in a config without the run_script hook
    entry reads as that problem (drift); without it, as the flag the subnet carries (to render
    the file again)."""
    dhcp6 = (config or {}).get('Dhcp6') or {}
    drop = {}
    for klass in dhcp6.get('client-classes') or []:
        if klass.get('name') == 'DROP':
            drop = _parse_drop(klass.get('test'))
    # "IFACE/ADDRESS" in interfaces-config: Kea listens on that unicast address of IFACE too.
    unicast = dict(entry.split('/', 1) for entry in (dhcp6.get('interfaces-config') or {}).get('interfaces') or []
                   if isinstance(entry, str) and '/' in entry)
    # pd_routes needs the run_script hook calling our hook script: without it nothing is routed.
    hooked = any(is_our_hook(entry) for entry in dhcp6.get('hooks-libraries') or [])
    out = {}
    for subnet in dhcp6.get('subnet6') or []:
        iface = ((subnet.get('user-context') or {}).get(CONTEXT_KEY) or {}).get('interface')
        obj = parse_subnet(subnet, drop.get(iface, []))
        if obj is not None:
            obj['listen_unicast'] = unicast.get(obj['interface'], '')
            if check_hook and obj['pd_routes'] is True and not hooked:
                obj['pd_routes'] = 'run_script hook missing from hooks-libraries'
            out[obj['interface']] = obj
    return out


def render_config(models, settings, existing=None):
    """The whole Kea config for ``models`` (``{interface: model}``).

    ``existing`` is the config we wrote before (or None): subnet ids stay with their interface,
    because Kea ties leases to the subnet id and a renumbering would orphan them.
    """
    config = copy.deepcopy(existing) if existing else {}
    dhcp6 = config.setdefault('Dhcp6', {})
    ids = {}
    for subnet in dhcp6.get('subnet6') or []:
        iface = ((subnet.get('user-context') or {}).get(CONTEXT_KEY) or {}).get('interface')
        if iface and isinstance(subnet.get('id'), int):
            ids[iface] = subnet['id']
    used = set(ids.values())
    subnets = []
    for iface in sorted(models):
        if iface not in ids:
            ids[iface] = next(i for i in range(1, len(used) + 2) if i not in used)
            used.add(ids[iface])
        subnets.append(render_subnet(models[iface], ids[iface]))
    dhcp6['interfaces-config'] = {'interfaces': sorted(
        iface if not models[iface].get('listen_unicast') else '%s/%s' % (iface, models[iface]['listen_unicast'])
        for iface in models)}
    dhcp6['control-socket'] = {'socket-type': 'unix', 'socket-name': settings['control_socket']}
    # The server's DUID file lives here: next to the leases it identifies.
    dhcp6['data-directory'] = os.path.dirname(settings['lease_file'])
    dhcp6['lease-database'] = {'type': 'memfile', 'persist': True, 'name': settings['lease_file'],
                               'lfc-interval': 3600}
    classes = [c for c in dhcp6.get('client-classes') or [] if c.get('name') != 'DROP']
    test = _drop_test(models)
    if test:
        classes.append({'name': 'DROP', 'test': test})
    if classes:
        dhcp6['client-classes'] = classes
    else:
        dhcp6.pop('client-classes', None)
    dhcp6['subnet6'] = subnets
    hooks = [entry for entry in dhcp6.get('hooks-libraries') or [] if not is_our_hook(entry)]
    if settings.get('pd_hook') and any(obj.get('pd_routes') is True for obj in models.values()):
        hooks.append(settings['pd_hook'])
    if hooks:
        dhcp6['hooks-libraries'] = hooks
    else:
        dhcp6.pop('hooks-libraries', None)
    return config


def managed_part(config, key):
    """What the collection manages of ``key`` in a Kea config, as JSON text: its ``subnet6`` entry
    and its clauses of the DROP class. The rest of the file (other interfaces, hook libraries and
    their parameters, which may hold secrets) is not the task's to show."""
    dhcp6 = (config or {}).get('Dhcp6') or {}
    part = {'subnet6': [s for s in dhcp6.get('subnet6') or []
                        if ((s.get('user-context') or {}).get(CONTEXT_KEY) or {}).get('interface') == key]}
    models = models_from_config(config)
    if key in models and models[key].get('ignore_user_class'):
        part['client-classes'] = [{'name': 'DROP', 'test': _drop_test({key: models[key]})}]
    return json.dumps({'Dhcp6': part}, indent=2, sort_keys=True) + '\n'


def dump_config(config):
    """File text: the marker line (Kea reads ``#`` comments) then indented JSON."""
    return MANAGED_MARKER + '\n' + json.dumps(config, indent=2, sort_keys=True) + '\n'


def load_text(text):
    """Parse a Kea file we wrote (comment lines first, then JSON); ValueError otherwise."""
    lines = text.split('\n')
    body = '\n'.join(line for line in lines if not line.lstrip().startswith('#'))
    return json.loads(body) if body.strip() else {}
