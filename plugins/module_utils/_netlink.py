# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The rtnetlink seam: links, addresses and routes as plain data.

Everything above this file works on dicts; everything below it is ``_rtnl`` (the collection's
own codec and socket: no third-party library). It hides:

* network namespaces (``netns=``), opened without ever creating one;
* errno values, turned into :class:`NetlinkError` messages a network engineer can act on.

pyroute2 is not imported here: its import alone cost about 2 s of a 5.6 s task in the TCG lab
guest. L2TP (``_l2tp.py``) has its own codec over ``_rtnl``'s socket too: no module imports it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import socket
from collections import namedtuple
from contextlib import contextmanager

from ansible_collections.edgenet.router.plugins.module_utils._names import quoted
from ansible_collections.edgenet.router.plugins.module_utils._rtnl import _codec
from ansible_collections.edgenet.router.plugins.module_utils._rtnl._socket import RtnlSocket
from ansible_collections.edgenet.router.plugins.module_utils._values import removed

__all__ = [
    'NETNS_DIR',
    'REASONS',
    'LinkWrite',
    'NetlinkError',
    'Netlink',
    'change_link',
    'change_tunnel',
    'check_netns',
    'delete_link',
    'error_code',
    'explain',
    'in_netns',
    'kind_missing',
    'new_link',
    'open_netlink',
]

NETNS_DIR = '/run/netns'

# Which kernel module provides a tunnel link kind: EOPNOTSUPP on create means it is missing.
KIND_MODULES = {'ipip': 'ipip', 'sit': 'sit', 'ip6tnl': 'ip6_tunnel', 'gre': 'ip_gre', 'gretap': 'ip_gre',
                'ip6gre': 'ip6_gre', 'ip6gretap': 'ip6_gre'}
# route origins the collection reads back (rtm_protocol): boot (what ``ip route add`` writes
# unless told otherwise) and static (what add_route writes, as pyroute2 did before it)
STATIC_PROTOCOLS = (_codec.RTPROT_BOOT, _codec.RTPROT_STATIC)


def kind_missing(kind, sys_module='/sys/module', lib_modules='/lib/modules'):
    """Why creating a ``kind`` tunnel link will fail, or None when it may work.

    What check mode can know without writing: ipip, sit, ip6_tunnel, ip_gre and ip6_gre each have a module parameter,
    so ``/sys/module/<name>`` exists once the module is loaded or built in. Else the kernel loads it on
    the first create, which works only when ``/lib/modules/<release>`` lists it (modules.dep or
    modules.builtin). Neither means the real create fails with EOPNOTSUPP - except in a container
    whose host has the module but does not share its /lib/modules, hence "unless"."""
    module = KIND_MODULES.get(kind)
    if module is None or os.path.isdir(os.path.join(sys_module, module)):
        return None
    release = os.uname().release
    found = re.compile(r'(^|/)%s\.ko(\.[a-z]+)?(:|$)' % re.escape(module), re.M)
    for name in ('modules.dep', 'modules.builtin'):
        try:
            with open(os.path.join(lib_modules, release, name)) as listing:
                if found.search(listing.read()):
                    return None
        except (OSError, UnicodeError):
            continue
    where = (os.path.join(sys_module, module), os.path.join(lib_modules, release))
    return ('the kernel module %s is neither loaded (%s) nor listed in %s: the real run will fail to create '
            'the %s link, unless a container\'s host loads it' % (module, where[0], where[1], kind))


class NetlinkError(Exception):
    """A kernel refusal or a seam failure, with a message meant for the user."""

    def __init__(self, msg, code=None):
        super(NetlinkError, self).__init__(msg)
        self.code = code


# errno -> what it means, in words a network engineer can act on. A seam adds its own meaning of
# a code with ``explain(..., reasons=...)`` (``_l2tp``: ENOENT is "no such tunnel or session").
REASONS = {
    errno.EPERM: 'permission denied (needs root or CAP_NET_ADMIN)',
    errno.EEXIST: 'the object already exists',
    errno.ENODEV: 'no such device',
    errno.ENOENT: 'no such object',
    errno.EINVAL: 'the kernel refused the parameters (invalid argument)',
    errno.EADDRNOTAVAIL: 'address not available',
    errno.ENETUNREACH: 'network unreachable (is the gateway on a connected prefix?)',
    errno.ESRCH: 'no such route',  # what a route delete answers when nothing matched
    errno.EBUSY: 'device or resource busy',
}


def error_code(exc):
    """The errno of a kernel refusal: ``OSError.errno`` (``_rtnl``, ``_l2tp``) or ``.code`` (a
    NetlinkError already explained); None when there is none."""
    return getattr(exc, 'errno', None) or getattr(exc, 'code', None)


def explain(exc, what, kind=None, reasons=None):
    """The one errno -> message mapper, for ``_rtnl``'s OSErrors and ``_l2tp``'s refusals alike:
    ``what`` was being done, ``kind`` the tunnel kind of a link write, ``reasons`` a seam's own
    words for some codes (over :data:`REASONS`)."""
    code = error_code(exc)
    if code == errno.EEXIST and kind in KIND_MODULES:
        # The kernel keys these tunnels by their endpoints too, not only by name.
        return NetlinkError('%s: a link of that name or a %s tunnel with the same local and remote '
                            'addresses already exists' % (what, kind), code)
    if code == errno.EOPNOTSUPP and kind:
        return NetlinkError('%s: the kernel has no %s support (module %s is not built or cannot be '
                            'loaded)' % (what, kind, KIND_MODULES.get(kind, kind)), code)
    reason = (reasons or {}).get(code) or REASONS.get(code) or (os.strerror(code) if code else str(exc))
    return NetlinkError('%s: %s' % (what, reason), code)


def _call(what, func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except OSError as exc:
        raise explain(exc, what)


class LinkWrite(namedtuple('LinkWrite', 'what kind request')):
    """One link request for :meth:`Netlink.link_writes`: ``request`` is what the kernel gets
    (``(msg_type, flags, body)``), ``what`` and ``kind`` word its refusal (see explain)."""

    __slots__ = ()


def new_link(name, kind, data, mtu=None, up=None):
    """Create a link, already up or down. The kernel ignores IFLA_IFALIAS on create: the alias
    is a :func:`change_link` of its own."""
    return LinkWrite('create %s link %s' % (kind, name), kind,
                     _codec.new_link_request(name=name, kind=kind, data=data, mtu=mtu or None, up=up))


def change_tunnel(index, name, kind, data):
    """Replace a tunnel's parameters (by ``index``; by ``name`` when index is 0 or None). The
    kernel zeroes what a change leaves out, so ``data`` must be the complete desired set: the
    ipip, sit and ip6tnl changelink handlers rebuild the parameters from the message alone."""
    return LinkWrite('change %s link %s' % (kind, name), kind,
                     _codec.set_link_request(index=index or 0, name=None if index else name, kind=kind, data=data))


def change_link(index=None, name=None, up=None, mtu=None, alias=None):
    """Flags, MTU and alias of a link (by ``index``; by ``name`` when index is 0 or None)."""
    return LinkWrite('change link %s' % (name or index), None,
                     _codec.set_link_request(index=index or 0, name=None if index else name, up=up, mtu=mtu,
                                             alias=alias))


def address_commands(ip, name, before, after):
    """The ``ip addr`` lines equal to going from address list ``before`` to ``after`` on link
    ``name``: an IPv4 add says ``brd +``, as :meth:`Netlink.add_address` sends it."""
    out = ['%s addr del %s dev %s' % (ip, cidr, name) for cidr in removed(before, after)]
    for cidr in removed(after, before or []):
        address, dummy, prefixlen = cidr.partition('/')
        brd = ' brd +' if _codec.ipv4_broadcast(address, int(prefixlen or 32)) else ''
        out.append('%s addr add %s%s dev %s' % (ip, cidr, brd, name))
    return out


def delete_link(index, name=None):
    """Delete link ``index`` (``name`` only words the error)."""
    return LinkWrite('delete link %s' % (name or index), None, _codec.del_link_request(index))


class Netlink(object):
    """An open rtnetlink handle in one network namespace, speaking plain dicts.

    Every read and write goes through ``_rtnl`` (a small struct codec on a plain socket): link
    writes in batches (link_writes, the requests made by :func:`new_link` and its siblings),
    address and route writes one request each.
    """

    def __init__(self, rtnl, netns=None):
        self._rtnl = rtnl
        self.netns = netns

    # ---- links -------------------------------------------------------------------------------
    def links(self, rp_filter=True):
        """Every link as ``{index, name, kind, up, mtu, alias, link, address, data, rp_filter}``;
        ``data`` holds the kind's attributes with short names (``local``, ``ttl``, ``6rd_prefix``...),
        exactly as the kernel reports them; ``rp_filter`` is the link's net/ipv4/conf value (not
        there when ``rp_filter`` is False: decoding it was a tenth of a tunnel links dump's time)."""
        return _call('list links', self._rtnl.links, rp_filter)

    def link_index(self, name):
        """Index of link ``name`` or None."""
        found = _call('look up link %s' % name, self._rtnl.link_by_name, name)
        return found['index'] if found else None

    def link_writes(self, writes):
        """Send :class:`LinkWrite` requests (``new_link``, ``change_tunnel``, ``change_link``,
        ``delete_link``) in one batch. Returns one NetlinkError or None per write, in order: as
        in the kernel, an error does not stop the writes after it."""
        try:
            codes = self._rtnl.request_many([write.request for write in writes])
        except OSError as exc:
            raise explain(exc, 'change links')
        return [explain(OSError(code, os.strerror(code)), write.what, write.kind) if code else None
                for write, code in zip(writes, codes)]

    def _link_write(self, write):
        error = self.link_writes([write])[0]
        if error is not None:
            raise error

    def set_link(self, index=None, up=None, mtu=None, alias=None, name=None):
        """Flags, MTU and alias of a link, by index or (index None) by name, in one message."""
        if up is None and mtu is None and alias is None:
            return
        self._link_write(change_link(index=index, name=name, up=up, mtu=mtu, alias=alias))

    def del_link(self, index, name=None):
        self._link_write(delete_link(index, name))

    # ---- addresses ---------------------------------------------------------------------------
    def addresses(self):
        """``{index: [addr/prefixlen, ...]}`` for every link, from one dump (link-local IPv6 left
        out: the kernel makes those itself)."""
        out = {}
        for index, _family, address, prefixlen in _call('list addresses', self._rtnl.addresses, ipv6_link_local=False):
            if address is None:
                continue
            out.setdefault(index, []).append('%s/%d' % (address, prefixlen))
        return out

    def _write(self, what, request):
        """Send one ``(msg_type, flags, body)`` request and wait for its acknowledgement."""
        msg_type, flags, body = request
        _call(what, self._rtnl.request, msg_type, body, flags)

    def add_address(self, index, cidr):
        address, prefixlen = cidr.split('/')
        self._write('add address %s' % cidr, _codec.new_addr_request(index, address, int(prefixlen)))

    def del_address(self, index, cidr):
        address, prefixlen = cidr.split('/')
        self._write('delete address %s' % cidr, _codec.del_addr_request(index, address, int(prefixlen)))

    # ---- routes ------------------------------------------------------------------------------
    def routes(self):
        """``{index: [{dest, via, metric[, table, src, from]}, ...]}``: static routes of every table
        by outgoing link, one dump per family (``dest`` as ``net/len``, ``via`` None for on-link;
        ``table`` only when not main, ``src`` the preferred source and ``from`` the source prefix
        only when set). Kernel and RA routes are left out (the local table holds only those)."""
        out = {}
        for family in (socket.AF_INET, socket.AF_INET6):
            for route in _call('list routes', self._rtnl.routes, family, STATIC_PROTOCOLS):
                if route['oif'] is None:
                    continue
                dst = route['dst'] or ('0.0.0.0' if family == socket.AF_INET else '::')
                seam = {'dest': '%s/%d' % (dst, route['dst_len']), 'via': route['gateway'], 'metric': route['priority'] or 0}
                if route['table'] != _codec.RT_TABLE_MAIN:
                    seam['table'] = route['table']
                if route['prefsrc']:
                    seam['src'] = route['prefsrc']
                if route['src'] and route['src_len']:
                    seam['from'] = '%s/%d' % (route['src'], route['src_len'])
                out.setdefault(route['oif'], []).append(seam)
        return out

    @staticmethod
    def _route_args(index, route):
        """A seam route (``dest``, ``via``, ``metric``, optional ``table``, ``src``, ``from``) ->
        ``_codec.route_body`` arguments (the main table unless ``table``). Metric 0 is left out:
        the kernel then picks its default (0 for IPv4, 1024 for IPv6), as it did for pyroute2."""
        dest, dst_len = route['dest'].split('/')
        source, source_len = (route.get('from') or '/0').split('/')
        return {
            'oif': index,
            'dst_len': int(dst_len),
            'family': socket.AF_INET6 if ':' in dest else socket.AF_INET,
            'dst': dest if int(dst_len) else None,
            'gateway': route.get('via') or None,
            'priority': route.get('metric') or None,
            'table': route.get('table') or _codec.RT_TABLE_MAIN,
            'src': source or None,
            'src_len': int(source_len),
            'prefsrc': route.get('src') or None,
        }

    def add_route(self, index, route):
        self._write('add route %s' % route['dest'], _codec.new_route_request(**self._route_args(index, route)))

    def del_route(self, index, route):
        self._write('delete route %s' % route['dest'], _codec.del_route_request(**self._route_args(index, route)))

    # ---- policy rules ----------------------------------------------------------------------------
    def rules(self):
        """The policy rules that send traffic to a table, both families, as ``{priority, table, from,
        to, iif}`` (``from``/``to`` as ``net/len`` or None). The kernel's own (priority 0, 32766 and
        32767: local, main, default) are left out."""
        out = []
        for family in (socket.AF_INET, socket.AF_INET6):
            for rule in _call('list rules', self._rtnl.rules, family):
                if rule['proto'] == _codec.RTPROT_KERNEL or rule['action'] != _codec.FR_ACT_TO_TBL:
                    continue
                out.append({'priority': rule['priority'], 'table': rule['table'],
                            'from': '%s/%d' % (rule['src'], rule['src_len']) if rule['src'] else None,
                            'to': '%s/%d' % (rule['dst'], rule['dst_len']) if rule['dst'] else None,
                            'iif': rule['iif']})
        return out

    @staticmethod
    def _rule_args(rule):
        """A seam rule -> ``_codec.rule_body`` arguments (its family from its prefixes)."""
        args = {'priority': rule['priority'], 'table': rule['table'], 'iif': rule.get('iif')}
        family = socket.AF_INET
        for key, address, length in (('from', 'src', 'src_len'), ('to', 'dst', 'dst_len')):
            if rule.get(key):
                prefix, bits = rule[key].split('/')
                args[address], args[length] = prefix, int(bits)
                family = socket.AF_INET6 if ':' in prefix else socket.AF_INET
        args['family'] = family
        return args

    def add_rule(self, rule):
        self._write('add rule priority %s' % rule['priority'], _codec.new_rule_request(**self._rule_args(rule)))

    def del_rule(self, rule):
        self._write('delete rule priority %s' % rule['priority'], _codec.del_rule_request(**self._rule_args(rule)))

    @staticmethod
    def kind_missing(kind):
        """See :func:`kind_missing`: why a ``kind`` link cannot be created here, or None."""
        return kind_missing(kind)

    def close(self):
        self._rtnl.close()


CLONE_NEWNET = 0x40000000


def _setns(fd):
    if hasattr(os, 'setns'):  # Python 3.12+
        os.setns(fd, CLONE_NEWNET)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def check_netns(netns):
    """Refuse a namespace name that is not an existing entry of /run/netns."""
    if netns == '':
        # Not the host's namespace: an empty value is most likely an unset variable, and acting on
        # the host instead of the namespace meant would change the wrong interfaces.
        raise NetlinkError('netns \'\' is refused: give a namespace name from "ip netns list", or omit netns '
                           'for the host\'s namespace')
    try:
        found = isinstance(netns, str) and '/' not in netns and netns not in ('', '.', '..') \
            and os.path.exists(os.path.join(NETNS_DIR, netns))
    except (ValueError, UnicodeError):  # a NUL, or a lone surrogate the file system cannot encode
        found = False
    if not found:
        raise NetlinkError('network namespace %s does not exist (see ip netns list; omit netns for the host\'s '
                           'namespace)' % quoted(netns))


@contextmanager
def in_netns(netns):
    """Run the block in network namespace ``netns``, then come back.

    Sockets opened inside stay bound to that namespace after we return. This replaces
    pyroute2's NetNS, which creates a missing namespace by default and, in 0.7.x, proxies every
    message through a forked process over pickles (it broke under load in our benchmark:
    "pickle data was truncated"). Modules are single-threaded, so switching the thread's
    namespace is safe.
    """
    check_netns(netns)
    own = os.open('/proc/self/ns/net', os.O_RDONLY)
    try:
        target = os.open(os.path.join(NETNS_DIR, netns), os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(own)
        finally:
            os.close(target)
    finally:
        os.close(own)


@contextmanager
def open_netlink(netns=None):
    """A :class:`Netlink` handle in ``netns`` (None: the caller's namespace)."""
    try:
        if netns is not None:  # '' too: an empty name is a mistake, not the host namespace
            with in_netns(netns):
                rtnl = RtnlSocket()
        else:
            rtnl = RtnlSocket()
    except OSError as exc:
        raise explain(exc, 'open netlink%s' % (' in netns %s' % netns if netns else ''))
    handle = Netlink(rtnl, netns)
    try:
        yield handle
    finally:
        handle.close()
