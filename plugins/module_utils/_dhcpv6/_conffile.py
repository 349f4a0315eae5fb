# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""One daemon configuration file: locked, validated, atomic replacement, byte-exact snapshots.

The same contract as the networkd seam (``_networkd.py``) for a single file of any syntax, on the
same mechanics (``_files.py``): the file carries :data:`MANAGED_MARKER` (shared with networkd
files); a file without it is someone else's and is never replaced. A new version is written to a
temporary file next to the target, checked by the daemon's own checker, and only then renamed over
the live file, so a rejected config leaves the previous file untouched.
"""

from __future__ import annotations

import os

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._networkd import MANAGED_MARKER, is_managed

__all__ = ['ConfigFile', 'ConfigFileError', 'MANAGED_MARKER', 'is_managed']


class ConfigFileError(Exception):
    """A file operation or validation failed; the message names the path or the checker's words."""


def _ours(data):
    return is_managed(data.decode('utf-8', 'replace'))


class ConfigFile(object):
    """A daemon config file at ``path``; the lock lives in its directory (``.edgenet-router.lock``,
    the name networkd directories use, so any writer of the directory agrees on it)."""

    def __init__(self, path, lock_timeout=60):
        self.path = os.path.abspath(path)
        self.directory = os.path.dirname(self.path)
        self.lock_path = os.path.join(self.directory, _files.LOCK_NAME)
        self.lock_timeout = lock_timeout

    def load(self):
        """``(bytes, mode)`` or ``None`` when the file is absent."""
        return _files.load(self.path, ConfigFileError)

    def text(self):
        """The file's text, or ``None`` when absent."""
        loaded = self.load()
        return None if loaded is None else loaded[0].decode('utf-8', 'replace')

    def foreign(self):
        """True when the file exists without the marker: someone else's, left alone."""
        text = self.text()
        return text is not None and not is_managed(text)

    def locked(self):
        """Hold the directory's exclusive lock (see :func:`_files.locked`); re-entrant within this process."""
        return _files.locked(self.directory, self.lock_timeout, ConfigFileError)

    def replace(self, data, validate=None, mode=0o644):
        """Make the file hold ``data`` (bytes that already carry the marker).

        ``validate(tmp_path)`` runs on the complete temporary file before the rename and raises
        to refuse it; the live file is then untouched. Returns True if the file changed.
        """
        with self.locked():
            loaded = self.load()
            if loaded is not None and not _ours(loaded[0]):
                raise ConfigFileError('Refusing to overwrite %s: it lacks the line "%s", so it is not ours. Move '
                                      'it aside (e.g. to %s.dist) or choose another config file.'
                                      % (self.path, MANAGED_MARKER, self.path))
            if loaded is not None and loaded[0] == data:
                return False
            _files.atomic_write(self.path, data, loaded[1] if loaded is not None else mode, validate, ConfigFileError)
            return True

    def remove(self):
        """Remove the file if it is ours; True if removed."""
        with self.locked():
            loaded = self.load()
            if loaded is None or not _ours(loaded[0]):
                return False
            return _files.remove(self.path, ConfigFileError)

    def snapshot(self):
        """A callable putting the file back byte for byte (content, mode, absence); it never
        touches a file that has meanwhile become someone else's."""
        return _files.snapshot([self.path], self.locked, _ours, ConfigFileError)
