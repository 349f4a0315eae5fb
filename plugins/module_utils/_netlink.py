# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The single pyroute2 seam: rtnetlink links, addresses and routes as plain data.

Everything above this file works on dicts; everything below it is pyroute2. It hides:

* the import (``HAS_PYROUTE2``), so modules load and fail cleanly without it;
* network namespaces (``netns=``), opened without ever creating one;
* the differences between Debian's pyroute2 0.7.x and PyPI's 0.9.x;
* errno values, turned into :class:`NetlinkError` messages a network engineer can act on.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import traceback
from contextlib import contextmanager

from ansible_collections.edgenet.router.plugins.module_utils import _rtnl
from ansible_collections.edgenet.router.plugins.module_utils._rtnl import RtnlSocket

try:
    import pyroute2
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError as _PyrouteNetlinkError
except ImportError:
    HAS_PYROUTE2 = False
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()
    PYROUTE2_VERSION = None
else:
    HAS_PYROUTE2 = True
    PYROUTE2_IMPORT_ERROR = None
    # 0.7.x has no usable __version__; the distribution metadata is right in both.
    try:
        from importlib.metadata import version as _dist_version
        PYROUTE2_VERSION = _dist_version('pyroute2')
    except Exception:  # pylint: disable=broad-except
        PYROUTE2_VERSION = getattr(pyroute2, '__version__', None)

__all__ = [
    'HAS_PYROUTE2',
    'PYROUTE2_IMPORT_ERROR',
    'PYROUTE2_VERSION',
    'NETNS_DIR',
    'NetlinkError',
    'Netlink',
    'check_netns',
    'in_netns',
    'open_netlink',
    'require_pyroute2',
]

NETNS_DIR = '/run/netns'

# Which kernel module provides a link kind: EOPNOTSUPP on create means it is missing.
KIND_MODULES = {'ipip': 'ipip', 'sit': 'sit', 'ip6tnl': 'ip6_tunnel', 'l2tp': 'l2tp_eth'}
# route origins the collection writes and reads back (rtm_protocol): boot (iproute2, pyroute2), static
STATIC_PROTOCOLS = (3, 4)


class NetlinkError(Exception):
    """A kernel refusal or a seam failure, with a message meant for the user."""

    def __init__(self, msg, code=None):
        super(NetlinkError, self).__init__(msg)
        self.code = code


def require_pyroute2(module):
    """Fail the module the Ansible way when pyroute2 is missing on the managed host."""
    if not HAS_PYROUTE2:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(
            msg=missing_required_lib('pyroute2', reason='to talk to the kernel over netlink '
                                     '(Debian/Ubuntu: apt install python3-pyroute2)'),
            exception=PYROUTE2_IMPORT_ERROR)


def _explain(exc, what, kind=None):
    code = getattr(exc, 'code', None) or getattr(exc, 'errno', None)
    if code == errno.EEXIST and kind in ('ipip', 'sit', 'ip6tnl'):
        # The kernel keys these tunnels by their endpoints too, not only by name.
        return NetlinkError('%s: a link of that name or a %s tunnel with the same local and remote '
                            'addresses already exists' % (what, kind), code)
    if code == errno.EOPNOTSUPP and kind:
        return NetlinkError('%s: the kernel has no %s support (module %s is not built or cannot be '
                            'loaded)' % (what, kind, KIND_MODULES.get(kind, kind)), code)
    reasons = {
        errno.EPERM: 'permission denied (needs root or CAP_NET_ADMIN)',
        errno.EEXIST: 'the object already exists',
        errno.ENODEV: 'no such device',
        errno.ENOENT: 'no such object',
        errno.EINVAL: 'the kernel refused the parameters (invalid argument)',
        errno.EADDRNOTAVAIL: 'address not available',
        errno.ENETUNREACH: 'network unreachable (is the gateway on a connected prefix?)',
        errno.EBUSY: 'device or resource busy',
    }
    reason = reasons.get(code) or (os.strerror(code) if code else str(exc))
    return NetlinkError('%s: %s' % (what, reason), code)


def _call(what, func, *args, **kwargs):
    kind = kwargs.get('kind')
    try:
        result = func(*args, **kwargs)
        # pyroute2 0.9 answers some calls with generators: consume them here so the error
        # (if any) is raised inside this try block.
        return list(result) if result is not None and not isinstance(result, (list, tuple, dict)) else result
    except _PyrouteNetlinkError as exc:
        raise _explain(exc, what, kind)
    except OSError as exc:
        raise _explain(exc, what, kind)


class Netlink(object):
    """An open rtnetlink handle in one network namespace, speaking plain dicts.

    Links, and the dumps of addresses and routes, go through ``_rtnl`` (a small struct codec:
    these are the paths whose cost grows with the number of tunnels); address and route
    changes through pyroute2.
    """

    def __init__(self, ipr, netns=None, rtnl=None):
        self._ipr = ipr
        self._rtnl = rtnl
        self.netns = netns

    # ---- links -------------------------------------------------------------------------------
    def links(self, kinds=None):
        """Every link (or those of ``kinds``) as ``{index, name, kind, up, mtu, alias, link,
        address, data}``; ``data`` holds the kind's attributes with short names (``local``,
        ``ttl``, ``6rd_prefix``...), exactly as the kernel reports them."""
        links = _call('list links', self._rtnl.links)
        return [link for link in links if kinds is None or link['kind'] in kinds]

    def link_index(self, name):
        """Index of link ``name`` or None."""
        found = _call('look up link %s' % name, self._rtnl.link_by_name, name)
        return found['index'] if found else None

    # Link writes. Each is one rtnetlink request; link_writes() sends many in one batch.
    def _request(self, op, args):
        """``(what, kind, request)`` of one link write (see link_writes)."""
        if op == 'add_link':
            return ('create %s link %s' % (args['kind'], args['name']), args['kind'], _rtnl.new_link_request(
                name=args['name'], kind=args['kind'], data=args['data'], mtu=args.get('mtu') or None, up=args.get('up')))
        if op == 'set_kind_data':
            index = args['index']
            return ('change %s link %s' % (args['kind'], args['name']), args['kind'], _rtnl.set_link_request(
                index=index or 0, name=None if index else args['name'], kind=args['kind'], data=args['data']))
        if op == 'set_link':
            index = args.get('index')
            return ('change link %s' % (args.get('name') or index), None, _rtnl.set_link_request(
                index=index or 0, name=None if index else args.get('name'), up=args.get('up'), mtu=args.get('mtu'),
                alias=args.get('alias')))
        if op == 'del_link':
            return ('delete link %s' % (args.get('name') or args['index']), None, _rtnl.del_link_request(args['index']))
        raise ValueError('unknown link write %r' % op)

    def link_writes(self, calls):
        """Carry out link writes ``[(op, {argument: value}), ...]`` in one batch. Returns one
        NetlinkError or None per call, in order: as in the kernel, an error does not stop the
        calls after it. The ops:

        * ``add_link`` (name, kind, data, mtu, up): create a link, already up or down (the
          kernel ignores IFLA_IFALIAS on create: the alias is a set_link of its own);
        * ``set_kind_data`` (index or name, kind, data): replace a tunnel's parameters. The
          kernel zeroes what a change leaves out, so ``data`` must be the complete desired set
          (see FACTS: ipip/sit/ip6tnl changelink);
        * ``set_link`` (index or name, up, mtu, alias) and ``del_link`` (index): as the methods.
        """
        requests = [self._request(op, args) for op, args in calls]
        try:
            codes = self._rtnl.request_many([request for _what, _kind, request in requests])
        except OSError as exc:
            raise _explain(exc, 'change links')
        return [_explain(OSError(code, os.strerror(code)), what, kind) if code else None
                for (what, kind, _request), code in zip(requests, codes)]

    def _link_write(self, op, **args):
        error = self.link_writes([(op, args)])[0]
        if error is not None:
            raise error

    def set_link(self, index=None, up=None, mtu=None, alias=None, name=None):
        """Flags, MTU and alias of a link, by index or (index None) by name, in one message."""
        if up is None and mtu is None and alias is None:
            return
        self._link_write('set_link', index=index, up=up, mtu=mtu, alias=alias, name=name)

    def del_link(self, index, name=None):
        self._link_write('del_link', index=index, name=name)

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

    def add_address(self, index, cidr):
        address, prefixlen = cidr.split('/')
        _call('add address %s' % cidr, self._ipr.addr, 'add', index=index, address=address, prefixlen=int(prefixlen))

    def del_address(self, index, cidr):
        address, prefixlen = cidr.split('/')
        _call('delete address %s' % cidr, self._ipr.addr, 'del', index=index, address=address, prefixlen=int(prefixlen))

    # ---- routes ------------------------------------------------------------------------------
    def routes(self):
        """``{index: [{dest, via, metric}, ...]}``: static routes of the main table by outgoing
        link, one dump per family (``dest`` as ``net/len``, ``via`` None for on-link). Kernel
        and RA routes are left out."""
        out = {}
        for family in (socket.AF_INET, socket.AF_INET6):
            for route in _call('list routes', self._rtnl.routes, family, STATIC_PROTOCOLS):
                if route['table'] != 254 or route['oif'] is None:
                    continue
                dst = route['dst'] or ('0.0.0.0' if family == socket.AF_INET else '::')
                out.setdefault(route['oif'], []).append({
                    'dest': '%s/%d' % (dst, route['dst_len']),
                    'via': route['gateway'],
                    'metric': route['priority'] or 0,
                })
        return out

    def _route_args(self, index, route):
        dest, dst_len = route['dest'].split('/')
        family = socket.AF_INET6 if ':' in dest else socket.AF_INET
        args = {'oif': index, 'dst_len': int(dst_len), 'family': family, 'table': 254}
        if int(dst_len):
            args['dst'] = dest
        if route.get('via'):
            args['gateway'] = route['via']
        if route.get('metric'):
            args['priority'] = route['metric']
        return args

    def add_route(self, index, route):
        _call('add route %s' % route['dest'], self._ipr.route, 'add', proto=4, **self._route_args(index, route))

    def del_route(self, index, route):
        _call('delete route %s' % route['dest'], self._ipr.route, 'del', **self._route_args(index, route))

    def close(self):
        self._ipr.close()
        if self._rtnl is not None:
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
    if '/' in netns or netns in ('.', '..') or not os.path.exists(os.path.join(NETNS_DIR, netns)):
        raise NetlinkError('network namespace %r does not exist (see ip netns list)' % netns)


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
    if not HAS_PYROUTE2:
        raise NetlinkError('pyroute2 is not installed (Debian/Ubuntu: apt install python3-pyroute2)')

    def sockets():
        return IPRoute(), RtnlSocket()

    try:
        if netns:
            with in_netns(netns):
                ipr, rtnl = sockets()
        else:
            ipr, rtnl = sockets()
    except (OSError, _PyrouteNetlinkError) as exc:
        raise _explain(exc, 'open netlink%s' % (' in netns %s' % netns if netns else ''))
    handle = Netlink(ipr, netns, rtnl)
    try:
        yield handle
    finally:
        handle.close()
