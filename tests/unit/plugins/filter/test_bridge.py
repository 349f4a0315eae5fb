# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bridge_changes filter: registration, errors as AnsibleFilterError, and equality with the
Jinja template the l2tpv3_pseudowire role used before (templates/drift.j2, copied verbatim below
as it was before this filter replaced it, rendered here with jinja2)."""

from __future__ import annotations

import json

import jinja2
import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.edgenet.router.plugins.filter.bridge import FilterModule, bridge_changes

OLD_DRIFT_J2 = r"""{#- The bridge, the port and the session interface as the kernel holds them (_l2tpv3_pseudowire_links,
    from `ip -json -details link show`) against what the role wants: one entry per drifted field
    in the shape of the collection's `changes` (object, store, action, fields: {name: {before,
    after}}) plus the `ip -batch` line that fixes it, in the order the kernel needs them (bridge,
    membership, MTUs, up). The session interface's own MTU and state belong to pipex_session.
    The bridge's MTU is set after its ports join, so the kernel keeps it (set by the user). -#}
{%- macro row(object, field, before, after, command, action='modify') -%}
{{ {'object': object, 'store': 'runtime', 'action': action,
    'fields': {field: {'before': before, 'after': after}}, 'command': command} | to_json }}
{%- endmacro -%}
{%- set links = _l2tpv3_pseudowire_links -%}
{%- set br_name = l2tpv3_pseudowire_bridge -%}
{%- set br = links.get(br_name, {}) -%}
{%- set create, member, mtus, ups = [], [], [], [] -%}
{%- if br == {} -%}
{%-   set _ = create.append(row(br_name, 'present', false, true, 'link add name ' ~ br_name ~ ' type bridge', 'create')) -%}
{%- endif -%}
{%- for name, mtu in [(l2tpv3_pseudowire_port, _l2tpv3_pseudowire_pw_mtu | int), (l2tpv3_pseudowire_ifname, none)] -%}
{%-   set link = links.get(name, {}) -%}
{%-   if link.get('master') != br_name -%}
{%-     set _ = member.append(row(name, 'master', link.get('master'), br_name, 'link set dev ' ~ name ~ ' master ' ~ br_name)) -%}
{%-   endif -%}
{%-   if mtu is not none and link.get('mtu') != mtu -%}
{%-     set _ = mtus.append(row(name, 'mtu', link.get('mtu'), mtu, 'link set dev ' ~ name ~ ' mtu ' ~ mtu)) -%}
{%-   endif -%}
{%-   if name == l2tpv3_pseudowire_port and 'UP' not in link.get('flags', []) -%}
{%-     set _ = ups.append(row(name, 'up', false, true, 'link set dev ' ~ name ~ ' up')) -%}
{%-   endif -%}
{%- endfor -%}
{%- set br_mtu = _l2tpv3_pseudowire_pw_mtu | int -%}
{%- if br.get('mtu') != br_mtu -%}
{%-   set _ = mtus.append(row(br_name, 'mtu', br.get('mtu'), br_mtu, 'link set dev ' ~ br_name ~ ' mtu ' ~ br_mtu)) -%}
{%- endif -%}
{%- if 'UP' not in br.get('flags', []) -%}
{%-   set _ = ups.append(row(br_name, 'up', false, true, 'link set dev ' ~ br_name ~ ' up')) -%}
{%- endif -%}
[{{ (create + member + mtus + ups) | join(', ') }}]
"""


def old_drift(links, bridge, port, ifname, mtu):
    env = jinja2.Environment(extensions=['jinja2.ext.do'])
    env.filters['to_json'] = json.dumps
    text = env.from_string(OLD_DRIFT_J2).render(
        _l2tpv3_pseudowire_links=dict((link['ifname'], link) for link in links), l2tpv3_pseudowire_bridge=bridge,
        l2tpv3_pseudowire_port=port, l2tpv3_pseudowire_ifname=ifname, _l2tpv3_pseudowire_pw_mtu=str(mtu))
    return yaml.safe_load(text)


def new_drift(links, bridge, port, ifname, mtu):
    return bridge_changes(links, bridge, mtu=mtu, ports=[{'name': port, 'mtu': mtu, 'up': True}, {'name': ifname}])


def link(name, kind=None, master=None, mtu=1500, up=True):
    out = {'ifname': name, 'mtu': mtu, 'flags': ['BROADCAST'] + (['UP'] if up else [])}
    if kind:
        out['linkinfo'] = {'info_kind': kind}
    if master:
        out['master'] = master
    return out


def test_the_filter_is_registered():
    assert sorted(FilterModule().filters()) == ['bridge_changes']


@pytest.mark.parametrize('links', [
    [],                                                                   # check mode of a first run
    [link('eth1', up=False), link('pw0', kind='l2tp')],                   # first run
    [link('br0', kind='bridge', mtu=1450), link('eth1', master='br0', mtu=1450), link('pw0', master='br0')],
    [link('br0', kind='bridge', mtu=1400), link('eth1', master='br0', mtu=1450), link('pw0', master='br0')],
    [link('br0', kind='bridge', mtu=1450, up=False), link('eth1', master='br9', mtu=9000, up=False),
     link('pw0', mtu=1300, up=False)],
])
def test_the_same_rows_as_the_template_it_replaced(links):
    old = old_drift(links, 'br0', 'eth1', 'pw0', 1450)
    assert new_drift(links, 'br0', 'eth1', 'pw0', 1450) == old


def test_errors_are_filter_errors_naming_the_value():
    with pytest.raises(AnsibleFilterError, match='bridge_changes: br0 is a veth link, not a bridge'):
        bridge_changes([link('br0', kind='veth')], 'br0')
    with pytest.raises(AnsibleFilterError, match="bridge_changes: port 'a b' is not a valid interface name"):
        bridge_changes([], 'br0', ports=[{'name': 'a b'}])
