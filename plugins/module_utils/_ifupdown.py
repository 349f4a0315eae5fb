# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""ifupdown's files: one managed stanza file per interface in ``/etc/network/interfaces.d/``.

Debian's ifupdown (0.8.41 in Debian 12) reads ``/etc/network/interfaces`` at boot
(``networking.service`` runs ``ifup -a``) and, through its ``source`` line, every file of
``interfaces.d/``. A file there is read only when that line names it: :func:`sourcing_problem`
says so before anything is written (a file nothing reads is never written).

A file holds ``auto NAME`` and one ``iface NAME inet manual`` stanza whose ``pre-up``/``up``/
``post-down`` lines are iproute2 commands the caller renders from validated fields (never from
text read back): ifupdown runs them with ``/bin/sh`` at boot. Nothing is reloaded at runtime:
ifupdown reads the files at boot only, and the runtime store changes the kernel itself.
"""

from __future__ import annotations

import fnmatch
import os
import shlex

from ansible_collections.edgenet.router.plugins.module_utils._files import StoreError
from ansible_collections.edgenet.router.plugins.module_utils._names import quoted
from ansible_collections.edgenet.router.plugins.module_utils._networkd import NetworkdDir

__all__ = ['IfupdownError', 'InterfacesDir', 'HOOKS', 'parse_stanza', 'render_stanza', 'sourcing_problem']

# The hook options of an ``inet manual`` stanza the stores write, in the order ifupdown runs them.
HOOKS = ('pre-up', 'up', 'down', 'post-down')


class IfupdownError(StoreError):
    pass


class InterfacesDir(NetworkdDir):
    """The ``edgenet-NAME`` files of one ``interfaces.d`` directory. No dot in the name:
    ``source-directory`` reads only names of letters, digits, ``-`` and ``_`` (run-parts' rule),
    so the tunnel stores refuse a name with a dot (see ``_tunnel_ifupdown.check_persistable``)."""

    extensions = ('interfaces',)
    error = IfupdownError
    what = 'ifupdown'
    default_directory = '/etc/network/interfaces.d'

    def file_name(self, name, ext):
        return self.prefix + name

    def name_of(self, entry):
        if entry.startswith(self.prefix) and len(entry) > len(self.prefix) and '.' not in entry:
            return entry[len(self.prefix):]
        return None

    def __init__(self, directory='/etc/network/interfaces.d', prefix='edgenet-', lock_timeout=60):
        super(InterfacesDir, self).__init__(directory, prefix, lock_timeout)


def render_stanza(name, hooks, comment):
    """``auto NAME`` and its ``inet manual`` stanza. ``hooks``: ``[(option, argv), ...]`` with
    ``option`` in :data:`HOOKS`; each argv is quoted for /bin/sh."""
    lines = ['# %s' % comment, 'auto %s' % name, 'iface %s inet manual' % name]
    for option, argv in hooks:
        if option not in HOOKS:
            raise IfupdownError('ifupdown hook %s is not one of %s' % (quoted(option), ', '.join(HOOKS)))
        lines.append('    %s %s' % (option, ' '.join(shlex.quote(word) for word in argv)))
    return '\n'.join(lines) + '\n'


def parse_stanza(name, text):
    """A stanza file -> ``(auto, [(option, argv), ...])``: whether ``auto NAME`` is there, and
    the hook lines of ``iface NAME`` as argv lists. Lines of other interfaces' stanzas, comments
    and options that are not hooks are left out; a line the shell could not split is an error."""
    auto, hooks, current = False, [], None
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith('#'):
            continue
        if words[0] in ('auto', 'allow-auto') and name in words[1:]:
            auto = True
        elif words[0] == 'iface':
            current = words[1] if len(words) > 1 else None
        elif words[0] in HOOKS and current == name:
            try:
                hooks.append((words[0], shlex.split(line.strip()[len(words[0]):])))
            except ValueError as exc:
                raise IfupdownError('line %d of the ifupdown file of %s cannot be read: %s' % (number, name, exc))
    return auto, hooks


def sourcing_problem(directory, interfaces=None):
    """None when ``interfaces`` (``/etc/network/interfaces`` next to ``directory`` by default)
    makes ifupdown read the files of ``directory``; else what is wrong and the line to add."""
    interfaces = interfaces or os.path.join(os.path.dirname(os.path.normpath(directory)), 'interfaces')
    example = os.path.join(os.path.normpath(directory), 'edgenet-x')
    try:
        with open(interfaces) as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        return ('%s cannot be read (%s): ifupdown would not read the files of %s at boot'
                % (interfaces, getattr(exc, 'strerror', None) or exc, directory))
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == 'source' and fnmatch.fnmatchcase(example, words[1]):
            return None
        if len(words) == 2 and words[0] == 'source-directory' \
                and os.path.normpath(words[1]) == os.path.normpath(directory):
            return None
    return ('%s does not source %s, so ifupdown would not read the files written there at boot; add the line '
            '"source %s/*" to it (Debian\'s default has it)' % (interfaces, directory, os.path.normpath(directory)))
