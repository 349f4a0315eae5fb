# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""NetworkManager's keyfiles: ``/etc/NetworkManager/system-connections/edgenet-NAME.nmconnection``.

The only code of the collection that touches NetworkManager (1.42.4 in Debian 12). It knows the
keyfile syntax (GLib's key files: ``[group]`` and ``key=value`` lines, ``#`` comments), not
tunnels: ``_tunnel_nm`` turns objects into ``[(group, [(key, value)])]`` lists and back. Every
file written here starts with the managed marker (a comment: NetworkManager keeps reading the file);
a file without it is never changed or deleted. NetworkManager's keyfile plugin refuses a file that
is not owned by root or that group or others may read (``nms_keyfile_utils_check_file_permissions``):
files are written 0600 by the module, which runs as root. It skips hidden files, so the directory's
lock ``.edgenet-router.lock`` and the ``.NAME.XXXX.tmp`` files of an atomic write are never loaded.

How the runtime store (netlink) and NetworkManager's own activation coexist, measured in a
Debian 12 lab guest (NetworkManager 1.42.4, kernel 6.1, QEMU TCG; five tunnels: 4in4, 6in4,
6in6, 4in6 and 6to4, with addresses and routes, through the collection's own cycle):

* A keyfile NetworkManager loads is acted on at once: a loaded ``autoconnect=true`` ip-tunnel
  connection with no device made the device and activated it (under 8 s); removing the file and
  reloading deleted that device again.
* Loading only, never activating (the device left to the netlink store) does not hold. After
  ``nmcli connection reload`` NetworkManager assumed two of the five netlink-made devices as
  external (generated connections, left alone) and auto-activated the edgenet connection on the
  other three about 1 s later, asynchronously: the engine's verify had already passed, and where
  that activation failed NetworkManager flushed the device's addresses and routes; in a second
  run the verify itself caught the flush and rolled back.
* So this store makes NetworkManager hold every tunnel it writes, as it does after a reboot, and
  waits for it: after the reload, ``nmcli device reapply NAME`` when the tunnel's own connection
  is active already (a change of addresses, routes or mtu: NetworkManager applies it without
  deactivating; it refuses any other ip-tunnel change), else ``nmcli --wait 60 connection up uuid
  UUID``. Activation takes over the device the runtime store made, same ifindex, without
  recreating it (its alias stayed): the five tunnels were "connected" with their edgenet
  connections and read back exactly at 0 s and 10 s (the apply took 8 s under TCG). A change of
  ttl re-activates: deactivating to activated in 0.19 s, the device kept, addresses and routes put
  back; the repair of a hand-edited keyfile went through reapply.
* Reboot: NetworkManager made all five from the keyfiles, every field as written. Changes made
  over netlink on devices NetworkManager made and holds: a new ttl and an address written
  through the store, an address added with ``ip`` and a ttl changed with ``persistent: false``
  stayed 10 s and across ``systemctl restart NetworkManager`` (the device whose ttl no longer
  matched its connection became "connected (externally)", its ttl kept); an mtu set with ``ip``
  went back to the connection's at that restart. A reboot brings back the files' state.
* Deleting a device NetworkManager holds over netlink, then its file (reload): NetworkManager did
  not recreate it (checked 10 s later and after a reboot).
* IPv6 needs ``addr-gen-mode=stable-privacy``: with the keyfile default (eui64) activating IPv6 on
  ip6tnl and 6to4 devices failed ("failed to generate interface identifier ... IPv6 cannot
  continue"), and NetworkManager flushed them.
* A type change that changes the ip-tunnel mode fails in one run: NetworkManager keeps the device
  object of the old mode (the mode is fixed when the object is made) and the new connection finds
  "no compatible device"; ``_tunnel_nm`` refuses it and says to remove the tunnel first (remove,
  then create with the new type, worked).
"""

from __future__ import annotations

import os
import re
import uuid

from ansible_collections.edgenet.router.plugins.module_utils._files import StoreError
from ansible_collections.edgenet.router.plugins.module_utils._names import quoted
from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdDir, section_text
from ansible_collections.edgenet.router.plugins.module_utils._command import checked, unit_active

__all__ = ['DEFAULT_DIRECTORY', 'SUFFIX', 'KeyfileDir', 'NmError', 'activate', 'active_uuid', 'configured_directory',
           'connection_uuid', 'device_known', 'loaded_files', 'parse', 'reapply', 'reload_running', 'render', 'running']

DEFAULT_DIRECTORY = '/etc/NetworkManager/system-connections'
UNIT = 'NetworkManager.service'
SUFFIX = 'nmconnection'
# The namespace of the connection UUIDs (uuid5 of the interface name): a fixed random UUID, so the
# file of a tunnel is the same bytes on every run and every router.
UUID_NAMESPACE = uuid.UUID('4f0e8d5a-6c7b-5e2f-9a41-3d8c1b2e7f60')

# GLib key files: a group or key name cannot hold these; a value is one line.
_FORBIDDEN = ('\n', '\r', '\0')
_KEY_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]*\Z')
# GLib's escapes in values (g_key_file_parse_value_as_string).
_UNESCAPE = {'s': ' ', 'n': '\n', 't': '\t', 'r': '\r', '\\': '\\'}


class NmError(StoreError):
    """A keyfile or NetworkManager operation failed, or text cannot be a keyfile; the message names
    the path, command or value."""


def connection_uuid(name):
    """The connection UUID of the tunnel ``name``: derived from the name, so re-rendering the file
    gives the same bytes and NetworkManager sees the same connection after every write."""
    return str(uuid.uuid5(UUID_NAMESPACE, name))


def _check_word(what, word):
    if not isinstance(word, str) or not _KEY_RE.match(word):
        raise NmError('invalid keyfile %s name %s: letters, digits, "-", "_" and "." only' % (what, quoted(word)))


def _value_text(key, value):
    if isinstance(value, bool):  # before int: bool is an int
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise NmError('%s=%s: a keyfile value must be a str, int or bool' % (key, quoted(value)))
    # parse() would unescape a backslash and strip whitespace around the value: refuse both, so
    # what is read back is what was written (no value of a tunnel needs them).
    if any(c in value for c in _FORBIDDEN) or '\\' in value or value != value.strip():
        raise NmError('%s=%s: a keyfile value cannot hold a line break, NUL or backslash, or start or end with '
                      'whitespace' % (key, quoted(value)))
    return value


def render(groups):
    """Keyfile text of ``[(group, [(key, value), ...]), ...]`` in the given order; ``None`` values
    are left out, booleans are ``true``/``false``. Raises NmError for what :func:`parse` would not
    read back unchanged."""
    return section_text(groups, _check_word, lambda group, key, value: _value_text(key, value))


def _unescape(value):
    out, chars = [], iter(value)
    for char in chars:
        if char == '\\':
            char = _UNESCAPE.get(next(chars, ''), '')
        out.append(char)
    return ''.join(out)


def parse(text):
    """``{group: {key: value}}`` of keyfile ``text``, values str, as GLib reads it: blank and
    ``#`` lines skipped, whitespace around the key and before the value dropped, GLib's escapes
    undone, a repeated group merged and a repeated key's last value kept. Raises NmError naming
    the line for anything else (GLib refuses such a file, and NetworkManager skips it)."""
    groups, current = {}, None
    for number, line in enumerate(text.lstrip('\ufeff').split('\n'), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        if stripped.startswith('[') and stripped.endswith(']'):
            current = groups.setdefault(stripped[1:-1], {})
        elif '=' in line and current is not None:
            key, value = line.split('=', 1)
            current[key.strip()] = _unescape(value.lstrip())
        else:
            raise NmError('line %d: expected "[group]" or "key=value" inside a group, got %s' % (number, quoted(stripped)))
    return groups


class KeyfileDir(NetworkdDir):
    """The ``edgenet-NAME.nmconnection`` files of one directory, written 0600 (NetworkManager
    ignores a keyfile others may read). Locking, atomic writes, snapshots and the marker rule are
    ``NetworkdDir``'s."""

    extensions = (SUFFIX,)
    error = NmError
    what = 'NetworkManager'
    default_directory = DEFAULT_DIRECTORY
    mode = 0o600

    def __init__(self, directory=DEFAULT_DIRECTORY, prefix='edgenet-', lock_timeout=60):
        super(KeyfileDir, self).__init__(directory, prefix, lock_timeout)


def running(run_command):
    """Whether NetworkManager runs (its unit is active); ``run_command`` is shaped like
    AnsibleModule.run_command."""
    return unit_active(run_command, UNIT)


def reload_running(run_command):
    """Ask NetworkManager, which the caller has just seen run (:func:`running`), to re-read every
    keyfile (``nmcli connection reload``): it adds, changes or forgets connections; it activates
    none that is already active and changes no device."""
    checked(run_command, ['nmcli', 'connection', 'reload'], NmError)


def activate(run_command, connection, timeout=60):
    """``nmcli --wait TIMEOUT connection up uuid UUID``: NetworkManager activates the connection
    (on the device of its interface name, created if missing) and nmcli returns once it is active
    or failed. Raises NmError with nmcli's words when it failed."""
    checked(run_command, ['nmcli', '--wait', str(timeout), 'connection', 'up', 'uuid', connection], NmError,
            what='nmcli connection up uuid %s' % connection)


def active_uuid(run_command, ifname):
    """The UUID of the connection active on device ``ifname`` (``nmcli -g GENERAL.CON-UUID device
    show``), or None: no such device, or nothing active on it."""
    rc, out, dummy = run_command(['nmcli', '-g', 'GENERAL.CON-UUID', 'device', 'show', ifname])
    return (out or '').strip() or None if rc == 0 else None


def device_known(run_command, ifname):
    """Whether NetworkManager has a device ``ifname`` yet (``nmcli -g GENERAL.DEVICE device show``).
    It learns of a link made over netlink from the kernel's events, seconds later on a loaded host."""
    rc, dummy, dummy = run_command(['nmcli', '-g', 'GENERAL.DEVICE', 'device', 'show', ifname])
    return rc == 0


def reapply(run_command, ifname):
    """``nmcli device reapply IFNAME``: the active connection's changed addresses, routes and mtu
    take effect without deactivating it. False when NetworkManager refused (it refuses a change
    to any other ip-tunnel property: ``can_reapply_change`` of nm-device-ip-tunnel.c)."""
    rc, dummy, dummy = run_command(['nmcli', 'device', 'reapply', ifname])
    return rc == 0


def loaded_files(run_command):
    """``{uuid: file}`` of the connections NetworkManager holds now (``nmcli -t -f
    UUID,FILENAME connection show``): a keyfile NetworkManager refused (bad syntax, a property
    it rejects, wrong mode or owner) is not among them."""
    out = checked(run_command, ['nmcli', '-t', '-f', 'UUID,FILENAME', 'connection', 'show'], NmError,
                  what='nmcli connection show')
    files = {}
    for line in (out or '').splitlines():
        # -t separates fields with ":" and escapes a ":" or "\" inside one with "\"
        fields, field, chars = [], [], iter(line)
        for char in chars:
            if char == '\\':
                field.append(next(chars, ''))
            elif char == ':':
                fields.append(''.join(field))
                field = []
            else:
                field.append(char)
        fields.append(''.join(field))
        if len(fields) == 2 and fields[0]:
            files[fields[0]] = fields[1]
    return files


def configured_directory(run_command):
    """The directory NetworkManager's keyfile plugin reads (``[keyfile] path=`` of
    ``NetworkManager --print-config``, :data:`DEFAULT_DIRECTORY` without one), or None when the
    configuration cannot be printed."""
    rc, out, dummy = run_command(['NetworkManager', '--print-config'])
    if rc != 0:
        return None
    group, path = None, None
    for line in (out or '').splitlines():
        line = line.strip()
        if line.startswith('[') and line.endswith(']'):
            group = line[1:-1]
        elif group == 'keyfile' and '=' in line and not line.startswith('#'):
            key, value = line.split('=', 1)
            if key.strip() == 'path':
                path = value.strip()
    return os.path.normpath(path) if path else DEFAULT_DIRECTORY
