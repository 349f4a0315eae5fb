# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._engine import CREATE, DELETE
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._conffile import (
    MANAGED_MARKER, ConfigFile, ConfigFileError, ConfigFileStore, FileBackend,
)

MARKED = (MANAGED_MARKER + '\nkey=1\n').encode()


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# --- ConfigFile ------------------------------------------------------------------------------------
def test_replace_writes_once_and_keeps_a_hand_set_mode(tmp_path):
    conf = ConfigFile(str(tmp_path / 'etc' / 'd.conf'))
    assert conf.replace(MARKED, mode=0o640)
    assert mode_of(conf.path) == 0o640
    assert sorted(os.listdir(conf.directory)) == ['.edgenet-router.lock', 'd.conf']
    inode = os.stat(conf.path).st_ino
    assert not conf.replace(MARKED)  # identical: no write
    assert os.stat(conf.path).st_ino == inode
    os.chmod(conf.path, 0o600)
    assert conf.replace(MARKED + b'more=2\n')
    assert mode_of(conf.path) == 0o600


def test_rejected_config_leaves_the_live_file(tmp_path):
    conf = ConfigFile(str(tmp_path / 'd.conf'))
    conf.replace(MARKED)
    checked = []

    def validate(tmp):
        with open(tmp, 'rb') as handle:
            checked.append(handle.read())
        raise ConfigFileError('checker: bad line 2')
    with pytest.raises(ConfigFileError, match='bad line 2'):
        conf.replace(MARKED + b'broken\n', validate=validate)
    assert checked == [MARKED + b'broken\n']
    assert conf.load() == (MARKED, 0o644)
    assert sorted(os.listdir(str(tmp_path))) == ['.edgenet-router.lock', 'd.conf']


def test_foreign_file_is_never_replaced_removed_or_restored_over(tmp_path):
    conf = ConfigFile(str(tmp_path / 'd.conf'))
    restore = conf.snapshot()
    with open(conf.path, 'wb') as handle:
        handle.write(b'theirs\n')
    assert conf.foreign()
    with pytest.raises(ConfigFileError, match='Refusing to overwrite .*d.conf'):
        conf.replace(MARKED)
    assert not conf.remove()
    with pytest.raises(ConfigFileError, match='Cannot restore .*d.conf'):
        restore()
    assert conf.text() == 'theirs\n'


def test_snapshot_puts_back_bytes_mode_and_absence(tmp_path):
    conf = ConfigFile(str(tmp_path / 'd.conf'))
    restore_absent = conf.snapshot()
    conf.replace(MARKED + b'\xff\r\n', mode=0o600)
    restore_first = conf.snapshot()
    conf.replace(MARKED)
    restore_first()
    assert conf.load() == (MARKED + b'\xff\r\n', 0o600)
    restore_absent()
    assert conf.load() is None
    assert not conf.remove()


# --- the backend frame -----------------------------------------------------------------------------
class WordsError(Exception):
    pass


class WordsFile(ConfigFileStore):
    """A toy syntax: one ``key=value`` line per model."""

    error = WordsError
    part = 'line'
    check_command = 'words --check %s'
    aside = ' (to %(path)s.old)'

    def parse(self):
        text = self.text() or ''
        lines = [line.split('=', 1) for line in text.splitlines()[1:]]
        return dict((k, {'value': v}) for k, v in lines), None

    def render_models(self, models, context):
        return MANAGED_MARKER + '\n' + ''.join('%s=%s\n' % (k, models[k]['value']) for k in sorted(models))


class Change(object):
    def __init__(self, action, key):
        self.action, self.key = action, key


def test_config_file_store_puts_one_part_and_names_it(tmp_path):
    seen = []
    store = WordsFile(str(tmp_path / 'w.conf'), seen.append)
    store.create('a', {'value': '1'})
    store.modify('b', None, {'value': '2'})
    assert store.read() == {'a': {'value': '1'}, 'b': {'value': '2'}}
    assert store.dirty and len(seen) == 2
    store.dirty = False
    assert not store.put('b', {'value': '2'}) and not store.dirty
    store.delete('a', None)
    assert store.file.text() == MANAGED_MARKER + '\nb=2\n'
    path = store.file.path
    assert store.commands(Change(CREATE, 'a')) == ['write the line of a to %s' % path, 'words --check %s' % path]
    assert store.commands(Change(DELETE, 'a'))[0] == 'remove the line of a from %s' % path


def test_config_file_store_refuses_a_foreign_file_with_its_own_error(tmp_path):
    store = WordsFile(str(tmp_path / 'w.conf'), None)
    with open(store.file.path, 'w') as handle:
        handle.write('a=1\n')
    with pytest.raises(WordsError, match=r'w.conf exists without the line .* Move it aside \(to .*w.conf.old\) or'):
        store.read()


class WordsBackend(FileBackend):
    name = 'words'
    error = WordsError

    def __init__(self, params, run, runs_after_start=True):
        super(WordsBackend, self).__init__(params, run, {'config_file': '/nowhere', 'service_name': 'words'})
        self.file = WordsFile(self.settings['config_file'], None)
        self.daemon = object()
        self.runs_after_start = runs_after_start

    def started(self):
        return self.runs_after_start


@pytest.mark.parametrize('manager, has_models, check_mode, rc, expected, running', [
    ('systemd', True, False, 0, ['systemctl start words.service'], True),
    ('systemd', False, False, 0, [], False),   # nothing to serve: not started
    ('systemd', False, True, 0, [], False),   # check mode decides as the real run: nothing to serve, no start
    ('none', True, False, 0, [], False),
    ('systemd', True, False, 1, WordsError, False),
])
def test_file_backend_starts_the_daemon_under_systemd_only(
        tmp_path, manager, has_models, check_mode, rc, expected, running):
    runs = []

    def run(argv):
        runs.append(argv)
        return rc, '', 'unit failed' if rc else ''
    params = {'config_file': str(tmp_path / 'w.conf'), 'service_name': 'words.service', 'service_manager': manager}
    backend = WordsBackend(params, run)
    assert backend.stores() == [backend.file] and not backend.daemon_running()
    if has_models:
        backend.file.create('a', {'value': '1'})
    if expected is WordsError:
        with pytest.raises(WordsError, match=r'systemctl start words.service failed \(rc=1\): unit failed'):
            backend.after_apply(True, check_mode)
        return
    assert backend.after_apply(True, check_mode) == expected
    assert runs == ([] if check_mode else [a.split() for a in expected])
    assert backend.daemon_running() is running
    assert backend.stores() == ([backend.file, backend.daemon] if running else [backend.file])
    assert backend.render('b', {'value': '2'}).endswith('b=2\n')
