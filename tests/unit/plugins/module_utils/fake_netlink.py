# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stateful stand-in for ``_netlink.Netlink``: links, addresses and routes in memory.

It proves the code above the seam only; the kernel's own answers are proven in the lab. Link
writes arrive as the seam's ``LinkWrite`` requests and are read back from their bytes, so the
encoding of every link write a module makes is exercised here too.
``read_only=True`` fails the test on any write (check mode must not write).
"""

from __future__ import annotations

import copy
import errno

from ansible_collections.edgenet.router.plugins.module_utils._netlink import NetlinkError
from ansible_collections.edgenet.router.plugins.module_utils._rtnl import _codec as rtnl


class FakeNetlink(object):

    def __init__(self, read_only=False, missing_kinds=()):
        self.read_only = read_only
        self.missing_kinds = set(missing_kinds)
        self.next_index = 10
        self.links_by_name = {}
        self.addrs = {}
        self.route_table = {}
        self.rule_list = []
        self.writes = []
        self.batches = []
        self.add_plain('lo', None)
        self.add_plain('eth0', 'veth')

    def add_plain(self, name, kind):
        self.links_by_name[name] = {'index': self.next_index, 'name': name, 'kind': kind, 'up': True, 'mtu': 1500,
                                    'alias': None, 'link': None, 'address': None, 'data': {}}
        self.addrs[self.next_index] = []
        self.route_table[self.next_index] = []
        self.next_index += 1

    def _write(self, what):
        assert not self.read_only, 'netlink write in check mode: %s' % what
        self.writes.append(what)

    def _by_index(self, index):
        for link in self.links_by_name.values():
            if link['index'] == index:
                return link
        raise NetlinkError('no such device', 19)

    def links(self, rp_filter=True):
        links = [copy.deepcopy(link) for link in self.links_by_name.values()]
        if not rp_filter:   # as the seam: the key is left out
            for link in links:
                link.pop('rp_filter', None)
        return links

    def link_index(self, name):
        link = self.links_by_name.get(name)
        return link['index'] if link else None

    def kind_missing(self, kind):
        return 'the kernel has no %s module: the real run will fail' % kind if kind in self.missing_kinds else None

    def add_link(self, name, kind, data, mtu=None, alias=None, up=None):
        self._write(('add', name))
        if kind in self.missing_kinds:
            raise NetlinkError('create %s link %s: the kernel has no %s support' % (kind, name, kind), 95)
        if name in self.links_by_name:
            raise NetlinkError('create %s link %s: the object already exists' % (kind, name), 17)
        self.add_plain(name, kind)
        link = self.links_by_name[name]
        link.update({'up': bool(up), 'mtu': mtu or (1480 if kind != 'ip6tnl' else 1452), 'alias': alias,
                     'data': self._kernel_view(data)})

    @staticmethod
    def _kernel_view(data):
        view = dict(data)
        view.setdefault('flags', 0)
        return view

    def set_kind_data(self, index, name, kind, data):
        self._write(('set', name))
        self._by_index(index)['data'] = self._kernel_view(data)

    def set_link(self, index=None, up=None, mtu=None, alias=None, name=None):
        self._write(('set_link', index or name))
        link = self._by_index(index) if index else self.links_by_name.get(name)
        if link is None:
            raise NetlinkError('change link %s: no such device' % name, 19)
        if up is not None:
            link['up'] = up
        if mtu is not None:
            link['mtu'] = mtu
        if alias is not None:
            link['alias'] = alias

    def _decoded(self, write):
        """What a LinkWrite asks, read back from the request's bytes as the kernel would:
        ``(label, method, arguments)``."""
        msg_type, flags, body = write.request
        link = rtnl.parse_link(body)
        up = link['up'] if rtnl.IFINFOMSG.unpack_from(body)[4] & rtnl.IFF_UP else None
        index = link['index'] or None
        if msg_type == rtnl.RTM_DELLINK:
            return 'del_link', self.del_link, {'index': index}
        if flags & rtnl.NLM_F_CREATE:
            return 'add_link', self.add_link, {'name': link['name'], 'kind': link['kind'], 'data': link['data'],
                                               'mtu': link['mtu'], 'up': up}
        name = link['name'] or self._by_index(index)['name']
        if link['kind'] is not None:
            return 'set_kind_data', self.set_kind_data, {'index': index, 'name': name, 'kind': link['kind'],
                                                         'data': link['data']}
        return 'set_link', self.set_link, {'index': index, 'name': name, 'up': up, 'mtu': link['mtu'],
                                           'alias': link['alias']}

    def link_writes(self, writes):
        """The seam's batch: every write tried in order, an error does not stop the rest."""
        decoded = [self._decoded(write) for write in writes]
        self.batches.append([label for label, _method, _args in decoded])
        outcomes = []
        for _label, method, args in decoded:
            try:
                method(**args)
            except NetlinkError as exc:
                outcomes.append(exc)
            else:
                outcomes.append(None)
        return outcomes

    def del_link(self, index, name=None):
        self._write(('del', name or self._by_index(index)['name']))
        link = self._by_index(index)
        del self.links_by_name[link['name']]

    def addresses(self):
        return copy.deepcopy(self.addrs)

    def add_address(self, index, cidr):
        self._write(('addr add', cidr))
        if cidr in self.addrs[index]:
            raise NetlinkError('add address %s: the object already exists' % cidr, 17)
        self.addrs[index].append(cidr)

    def del_address(self, index, cidr):
        self._write(('addr del', cidr))
        self.addrs[index].remove(cidr)

    def routes(self):
        return copy.deepcopy(self.route_table)

    def rules(self):
        return copy.deepcopy(self.rule_list)

    def add_rule(self, rule):
        self._write(('rule add', rule['priority']))
        if rule in self.rule_list:
            raise NetlinkError('add rule priority %s: the object already exists' % rule['priority'], errno.EEXIST)
        self.rule_list.append(dict(rule))

    def del_rule(self, rule):
        self._write(('rule del', rule['priority']))
        if rule not in self.rule_list:
            raise NetlinkError('delete rule priority %s: no such rule' % rule['priority'], errno.ENOENT)
        self.rule_list.remove(rule)

    def add_route(self, index, route):
        self._write(('route add', route['dest']))
        self.route_table[index].append(dict(route))

    def del_route(self, index, route):
        self._write(('route del', route['dest']))
        if route not in self.route_table.get(index, []):
            raise NetlinkError('delete route %s: no such route' % route['dest'], errno.ESRCH)
        self.route_table[index].remove(route)
