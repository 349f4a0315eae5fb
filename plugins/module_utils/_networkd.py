# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""systemd-networkd files: unit-file syntax, atomic locked writes (by ``_files``), reload.

The only code of the collection that touches ``.netdev``/``.network`` files. It knows the file
syntax, not tunnels: field tables elsewhere turn objects into ``[(section, [(key, value)])]``
lists and back. Every file written here starts with :data:`MANAGED_MARKER`; a file without it
belongs to someone else and is never modified or deleted.
"""

from __future__ import annotations

import os

from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._files import MANAGED_MARKER, StoreError, is_managed, is_ours
from ansible_collections.edgenet.router.plugins.module_utils._names import link_name_problem, quoted
from ansible_collections.edgenet.router.plugins.module_utils._command import checked, unit_active

__all__ = [
    'EXTENSIONS',
    'MANAGED_MARKER',
    'NetworkdDir',
    'NetworkdError',
    'is_managed',
    'parse',
    'reload',
    'render',
    'section_text',
]

EXTENSIONS = ('netdev', 'network')
_COMMENTS = ('#', ';')
# systemd's line reader ends a line at any of these; inside a value they would split it.
_FORBIDDEN = ('\n', '\r', '\0')
# Keys whose value networkd takes as an interface name: [Match] Name= is a list of shell globs
# ("*", "?", "[...]", a leading "!" inverts it), so only a literal name matches one link alone.
_LINK_NAME_KEYS = (('Match', 'Name'), ('NetDev', 'Name'))


class NetworkdError(StoreError):
    """A file or networkd operation failed, or text cannot be a networkd file; the message names
    the path, command or value."""


def _check_word(what, word):
    if not isinstance(word, str) or not word or any(c.isspace() or c in '[]=' or c in _FORBIDDEN for c in word) \
            or word.startswith(_COMMENTS):
        raise NetworkdError('invalid networkd %s name %s: it must be non-empty, without whitespace, '
                            '"=", brackets or a leading comment character' % (what, quoted(word)))


def _value_text(section, key, value):
    if isinstance(value, bool):  # before int: bool is an int
        return 'yes' if value else 'no'
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise NetworkdError('%s=%s: a networkd value must be a str, int or bool (repeat the key for lists)'
                            % (key, quoted(value)))
    if (section, key) in _LINK_NAME_KEYS:
        problem = link_name_problem(value)
        if problem is not None:
            raise NetworkdError('[%s] %s=%s is not a valid interface name: %s, since networkd reads other characters as a pattern '
                                'that can match other interfaces; use the literal interface name'
                                % (section, key, quoted(value), problem))
    if any(c in value for c in _FORBIDDEN):
        raise NetworkdError('%s=%s: a networkd value cannot contain a line break or NUL' % (key, quoted(value)))
    # parse() strips around the value and a trailing backslash continues the line: either would
    # silently change what networkd reads.
    if value != value.strip() or value.endswith('\\'):
        raise NetworkdError('%s=%s: a networkd value cannot start or end with whitespace or end with a '
                            'backslash' % (key, quoted(value)))
    return value


def render(sections):
    """Unit-file text of ``[(section, [(key, value), ...]), ...]`` in the given order.

    Sections may repeat (several [Address] or [Route]); so may keys. Booleans become
    ``yes``/``no``, ints decimal text, ``None`` values are left out. Raises NetworkdError for
    anything :func:`parse` would not read back unchanged, and for a ``[Match]``/``[NetDev]``
    ``Name=`` that is not a literal interface name.
    """
    return section_text(sections, _check_word, _value_text)


def section_text(sections, check_word, value_text):
    """``[section]`` and ``key=value`` lines of ``[(section, [(key, value), ...]), ...]``, the
    syntax systemd unit files and GLib key files (NetworkManager's keyfiles) share: sections
    apart by a blank line, ``None`` values left out. ``check_word(what, word)`` raises for a
    section or key name the reader would not read back; ``value_text(section, key, value)`` is
    the value's text."""
    lines = []
    for section, pairs in sections:
        check_word('section', section)
        if lines:
            lines.append('')
        lines.append('[%s]' % section)
        for key, value in pairs:
            check_word('key', key)
            if value is not None:
                lines.append('%s=%s' % (key, value_text(section, key, value)))
    return '\n'.join(lines) + '\n' if lines else ''


def parse(text):
    """``[(section, [(key, value), ...]), ...]`` of unit-file ``text``, all values str.

    Comments and blank lines are dropped; ``key=value`` splits on the first ``=`` with
    whitespace around both stripped; a trailing backslash joins the next line with a space, and
    comment lines inside such a continuation are skipped (systemd.syntax(7)). Raises
    NetworkdError naming the line for anything else.
    """
    sections = []
    pending = ''
    number = 0
    for number, line in enumerate(text.lstrip('\ufeff').split('\n'), 1):
        line = line.strip()
        if line.startswith(_COMMENTS) or not (line or pending):
            continue
        line = pending + line  # an empty line ends a continuation
        if line.endswith('\\'):
            pending = line[:-1] + ' '
            continue
        pending = ''
        _parse_line(sections, number, line)
    if pending:  # a continuation at the end of the file: systemd takes what it has
        _parse_line(sections, number, pending)
    return sections


def _parse_line(sections, number, line):
    line = line.strip()
    if line.startswith('[') and line.endswith(']'):
        sections.append((line[1:-1], []))
    elif '=' not in line or not sections:
        raise NetworkdError('line %d: expected "[Section]" or "Key=value" inside a section, got %s' % (number, quoted(line)))
    else:
        key, value = line.split('=', 1)
        sections[-1][1].append((key.strip(), value.strip()))


class NetworkdDir(object):
    """The ``<prefix><name>.netdev``/``.network`` files of one directory.

    The lock file lives in the directory itself: every writer of that directory agrees on it
    whatever prefix or collection version it runs, it works in any directory (tests, chroots),
    and networkd ignores names without its suffixes.
    """

    # What a subclass for another manager's directory changes (``_ifupdown.InterfacesDir``): the
    # kinds of file each name has, how a kind's file is named, the error raised, the file mode.
    extensions = EXTENSIONS
    error = NetworkdError
    what = 'networkd'
    default_directory = '/etc/systemd/network'
    mode = 0o644

    def file_name(self, name, ext):
        return '%s%s.%s' % (self.prefix, name, ext)

    def name_of(self, entry):
        """The name whose file ``entry`` (a directory entry) is, or None."""
        stem, dot, ext = entry.rpartition('.')
        if dot and ext in self.extensions and stem.startswith(self.prefix) and len(stem) > len(self.prefix):
            return stem[len(self.prefix):]
        return None

    def __init__(self, directory='/etc/systemd/network', prefix='60-edgenet-', lock_timeout=60):
        # An empty path would be the current directory, a relative one depends on where the
        # module runs, and a NUL or line break is no directory anyone means.
        if not isinstance(directory, str) or not os.path.isabs(directory) \
                or any(c in directory for c in _FORBIDDEN) or len(directory) > 4095:
            raise self.error('%s directory %s is refused: it must be an absolute path of at most 4095 '
                             'characters without line breaks or NUL, such as %s'
                             % (self.what, quoted(directory), self.default_directory))
        self.directory = os.path.abspath(directory)
        self.prefix = prefix
        self.lock_path = os.path.join(self.directory, _files.LOCK_NAME)
        self.lock_timeout = lock_timeout

    def path(self, name, ext):
        """The file of ``name`` (an interface name: literal, so it stays in the directory and its
        ``[Match] Name=`` matches that link alone)."""
        problem = link_name_problem(name)
        if problem is not None:
            raise self.error('%s file name %s is not a valid interface name: %s; use the literal interface name'
                             % (self.what, quoted(name), problem))
        if ext not in self.extensions:
            raise self.error('%s file types are %s, not %s' % (self.what, ', '.join(self.extensions), quoted(ext)))
        return os.path.join(self.directory, self.file_name(name, ext))

    def _load(self, path):
        """``(bytes, mode)`` of ``path``, or ``None`` when absent."""
        return _files.load(path, self.error)

    def _texts(self, name):
        loaded = [(self.path(name, ext), self._load(self.path(name, ext))) for ext in self.extensions]
        return [(path, None if got is None else got[0].decode('utf-8', 'replace')) for path, got in loaded]

    def read(self, name):
        """``{'netdev': text or None, 'network': text or None}``; unmarked files read as None."""
        return dict((ext, text if text is not None and is_managed(text) else None)
                    for ext, (dummy, text) in zip(self.extensions, self._texts(name)))

    def read_all(self):
        """``{name: read(name)}`` for every name with at least one managed file."""
        try:
            entries = os.listdir(self.directory)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise self.error('Cannot list %s: %s' % (self.directory, exc.strerror or exc))
        names = set(self.name_of(entry) for entry in entries) - set([None])
        # A name that is not literal (a pattern an older version wrote) is none of ours now: it
        # could be neither rewritten nor removed through path().
        names = set(name for name in names if link_name_problem(name) is None)
        found = dict((name, self.read(name)) for name in sorted(names))
        return dict((name, files) for name, files in found.items() if any(files.values()))

    def foreign(self, name):
        """Paths where ``name``'s files exist without the marker: someone else's, left alone."""
        return [path for path, text in self._texts(name) if text is not None and not is_managed(text)]

    def locked(self):
        """Hold the directory's exclusive lock (see :func:`_files.locked`); re-entrant within this process."""
        return _files.locked(self.directory, self.lock_timeout, self.error)

    def write(self, name, files):
        """Make ``name``'s files hold ``files[ext]`` (the marker line prepended if missing);
        ``None`` removes a managed file, an absent key leaves it alone. Returns True if a file
        changed. Refuses, before writing anything, to overwrite a file without the marker."""
        if set(files) - set(self.extensions):
            unknown = sorted(set(files) - set(self.extensions))
            raise self.error('%s file types are %s, not %s' % (self.what, ', '.join(self.extensions), quoted(unknown)))
        paths = dict((ext, self.path(name, ext)) for ext in files)  # refuses a bad name before the lock
        with self.locked():
            plan = []
            for ext in self.extensions:
                if ext not in files:
                    continue
                path = paths[ext]
                loaded = self._load(path)
                old = None if loaded is None else loaded[0]
                ours = old is not None and is_ours(old)
                text = files[ext]
                if text is None:
                    if ours:
                        plan.append((path, None))
                    continue
                if not is_managed(text):
                    text = MANAGED_MARKER + '\n' + text
                if old is not None and not ours:
                    raise self.error('Refusing to overwrite %s: it lacks the line "%s", so it is not ours. '
                                     'Remove or rename it, or choose another name.' % (path, MANAGED_MARKER))
                data = text.encode('utf-8')
                if old != data:  # byte-identical: no write, no mtime change
                    plan.append((path, data))
            for path, data in plan:
                if data is None:
                    _files.remove(path, self.error)
                else:
                    _files.atomic_write(path, data, self.mode, error=self.error)
        return bool(plan)

    def remove(self, name):
        """Remove ``name``'s managed files; returns True if one was removed."""
        return self.write(name, dict((ext, None) for ext in self.extensions))

    def snapshot(self, name):
        """A callable putting ``name``'s files back byte for byte (content, mode, absence).

        The restore never touches a file that has meanwhile become someone else's."""
        return _files.snapshot([self.path(name, ext) for ext in self.extensions], self.locked, is_ours, self.error)

    def restore_record(self, record):
        """Put back what a snapshot's ``record()`` saved, in this directory only (a commit-confirm
        rollback: see ``_engine.undo``); as guarded as the snapshot's own restore."""
        _files.Snapshot.from_record(record, self.directory, self.locked, is_ours, self.error)()


def reload(run_command, state_dir='/run/systemd/netif'):
    """Ask a running systemd-networkd to re-read its files; True if it was asked.

    ``run_command`` is shaped like AnsibleModule.run_command. ``state_dir`` only exists once
    networkd has run this boot (so systemctl exists), and it is kept when networkd stops:
    hence the is-active check. Before systemd v257 a reload does not change an existing netdev;
    callers make runtime changes themselves.
    """
    if not os.path.isdir(state_dir):
        return False
    if not unit_active(run_command, 'systemd-networkd.service'):
        return False
    checked(run_command, ['networkctl', 'reload'], NetworkdError)
    return True
