# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Choosing and opening a DHCPv6 backend for a module run."""

from __future__ import annotations

from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _dnsmasq, _edgenet, _kea
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import ConfigFileError
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._process import resolve_binary
from ansible_collections.edgenet.router.plugins.module_utils._command import module_runner

__all__ = ['BackendError', 'open_backend', 'open_stores', 'other_file_stores']

# Everything a backend raises for the user to read.
BackendError = (_kea.KeaError, _dnsmasq.DnsmasqError, ConfigFileError)

_MODULES = {'kea': _kea, 'dnsmasq': _dnsmasq, 'edgenet': _edgenet}


def open_backend(module):
    """The backend the task names, or fail_json naming the Debian package of a missing daemon."""
    params = module.params
    impl = _MODULES[params['backend']]
    binary = module.get_bin_path(impl.BINARY, opt_dirs=['/usr/sbin', '/sbin'])
    if binary is None:
        module.fail_json(msg='%s is not installed on the managed host: the %s backend needs it (Debian/Ubuntu: '
                             'apt install %s)' % (impl.BINARY, params['backend'], impl.DEBIAN_PACKAGE))
    return impl.Backend(params, module_runner(module), binary=binary)


def open_stores(params, run):
    """``(runtime store, persistent store)`` of the backend ``params`` name, outside a module (a
    commit-confirm rollback: no AnsibleModule to look the daemon up); the daemon is found on
    PATH and in /usr/sbin, /sbin, as the module finds it."""
    impl = _MODULES[params.get('backend') or 'kea']
    backend = impl.Backend(params, run, binary=resolve_binary(impl.BINARY))
    return backend.daemon, backend.file


def other_file_stores(params, run):
    """``{backend name: file store}`` of the backends the task does not use, at their default
    config file (where the collection's own tasks put them unless told otherwise): read only, to
    find an interface the other daemon still serves (see ``_service.check_other_backends``)."""
    out = {}
    for name, impl in _MODULES.items():
        if name == params['backend']:
            continue
        path = impl.DEFAULTS['config_file']
        if name == 'kea':
            out[name] = _kea.KeaFile(path, dict(_kea.DEFAULTS), run)
        elif name == 'dnsmasq':
            out[name] = _dnsmasq.DnsmasqFile(path, run)
        else:
            out[name] = _edgenet.RelayFile(path, run, install=None, systemd=False)
    return out
