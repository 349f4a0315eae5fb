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


@pytest.mark.parametrize('manager, running, stores', [
    ('systemd', False, 'both'),   # stopped: the runtime store's row is the start
    ('systemd', True, 'both'),
    ('none', True, 'both'),
    ('none', False, 'file'),   # nothing may start it: the daemon is not the task's
])
def test_file_backend_plans_the_daemon_when_it_runs_or_may_be_started(manager, running, stores):
    params = {'config_file': '/nowhere', 'service_name': 'words.service', 'service_manager': manager}
    backend = WordsBackend(params, None)
    backend._running = running
    assert backend.stores() == ([backend.file, backend.daemon] if stores == 'both' else [backend.file])


@pytest.mark.parametrize('manager, rc, up, expected', [
    ('systemd', 0, True, None),
    ('systemd', 1, True, r'systemctl start words.service failed \(rc=1\): unit failed'),
    ('systemd', 0, False, r'does not run or serves nothing .*it was stopped again'),
    ('none', 0, True, 'service_manager none starts nothing'),
])
def test_file_backend_start_proves_the_daemon_runs(tmp_path, manager, rc, up, expected):
    runs = []

    def run(argv):
        runs.append(argv)
        return rc, '', 'unit failed' if rc else ''
    params = {'config_file': str(tmp_path / 'w.conf'), 'service_name': 'words.service', 'service_manager': manager}
    backend = WordsBackend(params, run, runs_after_start=up)
    if expected is not None:
        with pytest.raises(WordsError, match=expected):
            backend.start()
        assert not backend.daemon_running() and not backend.started_here
        if manager == 'none':
            assert runs == []
        elif rc == 0:
            assert runs[-1] == ['systemctl', 'stop', 'words.service']
        return
    backend.start()
    assert runs == [['systemctl', 'start', 'words.service']]
    assert backend.daemon_running() and backend.started_here
    backend.stop()
    assert runs[-1] == ['systemctl', 'stop', 'words.service'] and not backend.daemon_running()
    assert backend.render('b', {'value': '2'}).endswith('b=2\n')
