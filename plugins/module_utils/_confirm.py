# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""Commit-confirm: a change that puts itself back unless it is confirmed in time.

Routers are changed over the network they route: a wrong route or tunnel can cut the path the
change came by, and then no later task can repair it. With ``confirm_timeout: SECONDS`` a module
applies its change as usual and then, before it returns, writes the change's journal to
:data:`CONFIRM_DIR` as data and schedules a transient systemd timer on the router. The timer
lives outside the module and the SSH session; when it fires, :func:`main` (in a process of its
own) rolls the change back through the same stores: files byte for byte, kernel objects by
the inverse write. ``edgenet.router.confirm`` stops the timers and drops the journals.

On disk, per pending change ``ID`` (a sortable time stamp): ``ID.json``, the record (task name,
the options the stores are built from, the journal); ``ID.zip``, a copy of the module's own
payload (AnsiballZ deletes it when the module ends), so the rollback runs the code that made
the change, whatever is installed later. The directory is root's, mode 0700; a directory that is
a link or anyone else's is refused. The journal is data: each record goes through a store's own
writes, and the command line of the timer is built here, never read back.

Changes roll back newest first: the rollback of ``ID`` first runs the rollback of every newer
pending change (with that change's own payload, and waits for it), so a change applied on top
of another is undone before it.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import json
import os
import stat
import sys
import time

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils import _files
from ansible_collections.edgenet.router.plugins.module_utils._command import checked, last_words, module_runner, run_process

__all__ = ['CONFIRM_DIR', 'ConfirmError', 'Pending', 'pending', 'pending_ids', 'confirm_all', 'rollback_now', 'runner_argv', 'undo', 'main']

CONFIRM_DIR = '/var/lib/edgenet/confirm'
UNIT_PREFIX = 'edgenet-confirm-'
# Long enough to get the next task through, short enough that a cut-off router is back soon.
MIN_TIMEOUT = 10
MAX_TIMEOUT = 86400

# The tasks whose changes can be rolled back by the timer: name -> the module_utils that builds
# their stores (``open_stores(params, run_command)`` yielding ``(runtime, persistent or None)``,
# ``STORE_OPTIONS``, ``TASK``). A record names one of these keys; nothing else is imported.
TASKS = {
    'iptun': 'ansible_collections.edgenet.router.plugins.module_utils._iptun',
    'pipex_session': 'ansible_collections.edgenet.router.plugins.module_utils._pipex._service',
    'dhcpv6_server': 'ansible_collections.edgenet.router.plugins.module_utils._dhcpv6._service',
    'ppp_server': 'ansible_collections.edgenet.router.plugins.module_utils._ppp._server',
}

# What the timer runs: the payload first on sys.path, then main(). -I: no environment variable,
# user site or working directory decides what Python imports.
_BOOT = ('import sys; sys.path.insert(0, sys.argv[1]); '
         'from ansible_collections.edgenet.router.plugins.module_utils._confirm import main; '
         'sys.exit(main(sys.argv[2], sys.argv[3]))')


class ConfirmError(Exception):
    """confirm_timeout cannot be honoured, or a pending change cannot be confirmed."""


def check_timeout(timeout):
    if timeout is not None and not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
        raise ConfirmError('confirm_timeout must be between %d and %d seconds, not %d' % (MIN_TIMEOUT, MAX_TIMEOUT, timeout))


def _own_dir(directory, create=False):
    """``directory``, made (0700) when ``create``; refused when it is a link, not a directory, or
    not root's (the owner of this process) alone. False when it is absent and not made."""
    if create:
        parent = os.path.dirname(directory)
        os.makedirs(parent, 0o755, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(directory, 0o700)
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise ConfirmError('Refusing %s: it must be a directory (not a link) of uid %d with mode 0700'
                           % (directory, os.geteuid()))
    return True


def _payload_source():
    """Where the code of this module comes from: ``('zip', archive)`` inside AnsiballZ, else
    ``('dir', the directory holding ansible_collections)`` (tests, a checkout)."""
    archive = getattr(__loader__, 'archive', None)  # a zipimporter's
    if archive:
        return 'zip', archive
    here = os.path.abspath(__file__)
    return 'dir', here[:here.rindex(os.sep + 'ansible_collections' + os.sep)]


def pending_ids(directory=CONFIRM_DIR):
    """The ids of the changes waiting for confirmation, oldest first."""
    if not _own_dir(directory):
        return []
    return sorted(entry[:-5] for entry in os.listdir(directory)
                  if entry.endswith('.json') and entry[:-5].isdigit())


class Pending(object):
    """The ``confirm`` callable a module hands to ``_engine.run``: writes the journal down and
    starts the timer; afterwards ``result()`` says what was scheduled (None before).

    ``task`` is a key of :data:`TASKS`; ``params`` the module's options (only the task's
    ``STORE_OPTIONS`` are kept). ``run_command`` is the module's (``_command.module_runner``);
    ``systemd_run`` its path."""

    def __init__(self, task, params, timeout, run_command, systemd_run, directory=CONFIRM_DIR,
                 python=sys.executable, clock=time.time):
        check_timeout(timeout)
        self.task = task
        self.options = dict((name, params.get(name)) for name in _task_module(task).STORE_OPTIONS)
        self.timeout = timeout
        self.run_command = run_command
        self.systemd_run = systemd_run
        self.directory = directory
        self.python = python
        self.clock = clock
        self.id = None
        self.deadline = None

    def pin(self, **options):
        """Record ``options`` as this run resolved them (``persistent_store: auto`` -> the store it
        chose), so the rollback reopens the same stores. Only the task's ``STORE_OPTIONS``."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError('not store options of %s: %s' % (self.task, ', '.join(unknown)))
        self.options.update(options)

    def __call__(self, records):
        _own_dir(self.directory, create=True)
        now = self.clock()
        ident = '%019d' % int(now * 1e9)
        kind, source = _payload_source()
        with _files.locked(self.directory, error=ConfirmError):
            record = {'id': ident, 'task': self.task, 'options': self.options, 'journal': records,
                      'created': now, 'timeout': self.timeout}
            json_path, zip_path = self._paths(ident)
            if kind == 'zip':
                with open(source, 'rb') as handle:
                    _files.atomic_write(zip_path, handle.read(), 0o600, error=ConfirmError)
            _files.atomic_write(json_path, json.dumps(record, sort_keys=True).encode('utf-8'), 0o600, error=ConfirmError)
            try:
                checked(self.run_command, self.timer_argv(ident), ConfirmError, what='systemd-run')
            except ConfirmError:
                for path in (json_path, zip_path):   # no timer: nothing may look pending
                    _files.remove(path, ConfirmError)
                raise
        self.id = ident
        self.deadline = now + self.timeout

    def _paths(self, ident):
        return _paths(self.directory, ident)

    def timer_argv(self, ident):
        return [self.systemd_run, '--unit', UNIT_PREFIX + ident, '--description',
                'edgenet.router: roll back change %s unless confirmed' % ident,
                '--on-active', '%ds' % self.timeout, '--timer-property', 'AccuracySec=1s',
                '--property', 'Type=oneshot', '--collect', '--quiet',
                '--'] + runner_argv(self.directory, ident, self.python)

    def result(self):
        if self.id is None:
            return None
        deadline = datetime.datetime.fromtimestamp(self.deadline, datetime.timezone.utc)
        return {'id': self.id, 'timeout': self.timeout, 'unit': UNIT_PREFIX + self.id + '.timer',
                'deadline': deadline.strftime('%Y-%m-%dT%H:%M:%SZ')}


def pending(module, task, params, directory=CONFIRM_DIR):
    """A module's :class:`Pending` for ``confirm_timeout``, or None when the option is unset or in
    check mode. Fails the module, before anything is touched, where no timer can be scheduled."""
    timeout = params.get('confirm_timeout')
    check_timeout(timeout)  # in check mode too: a wrong value is a mistake either way
    if timeout is None or module.check_mode:
        return None
    systemd_run = module.get_bin_path('systemd-run')
    if not systemd_run or not os.path.isdir('/run/systemd/system'):
        raise ConfirmError('confirm_timeout needs systemd (systemd-run and a running systemd) on the router: '
                           'the rollback is a systemd timer')
    return Pending(task, params, timeout, module_runner(module), systemd_run, directory)


def _task_module(task):
    if task not in TASKS:
        raise ConfirmError('no task %r can be rolled back' % (task,))
    return importlib.import_module(TASKS[task])


def confirm_all(run_command, systemctl, directory=CONFIRM_DIR, check_mode=False):
    """Confirm every pending change: stop its timer and drop its journal. Returns the ids."""
    confirmed = []
    if not _own_dir(directory):
        return confirmed
    with _files.locked(directory, error=ConfirmError):
        for ident in pending_ids(directory):
            confirmed.append(ident)
            if check_mode:
                continue
            # A timer already gone (fired, or the router rebooted) is no error: the journal is
            # what decides, and it is dropped under the lock the rollback takes too.
            run_command([systemctl, 'stop', UNIT_PREFIX + ident + '.timer'])
            for path in _paths(directory, ident):
                _files.remove(path, ConfirmError)
    return confirmed


def rollback_now(run_command, systemctl, directory=CONFIRM_DIR, check_mode=False):
    """Roll back every pending change now, newest first, as the oldest one's timer would (after a
    reboot too, when the timers are gone). Returns the ids; raises when a rollback failed."""
    ids = pending_ids(directory)
    if ids and not check_mode:
        run_command([systemctl, 'stop', UNIT_PREFIX + ids[0] + '.timer'])
        rc, out, err = run_command(runner_argv(directory, ids[0]))
        if rc != 0:
            # main() prints its report on stdout (a traceback would be on stderr): both are its words.
            raise ConfirmError('The rollback of %s did not put everything back (rc=%s): %s'
                               % (ids[0], rc, last_words(out + err, limit=800)))
    return ids


def _paths(directory, ident):
    return os.path.join(directory, ident + '.json'), os.path.join(directory, ident + '.zip')


def runner_argv(directory, ident, python=sys.executable):
    """The command line that rolls back ``ident`` (and the newer changes): Python with the change's
    own payload (``ID.zip``) first on its path, or this code's directory outside AnsiballZ. Every
    word is built here: the ids are digits, the paths are ours."""
    zip_path = _paths(directory, ident)[1]
    kind, source = _payload_source()
    entry = zip_path if kind == 'zip' or os.path.exists(zip_path) else source
    return [python, '-I', '-c', _BOOT, entry, directory, ident]


def undo(record, run_command=run_process):
    """Roll back one record's change through the stores of its task. Returns (restored, unrestored)."""
    task = _task_module(record['task'])
    journal = record['journal']
    for entry in journal:
        # The task's objects are named by its key (a link name, a file name): checked here. A
        # container's store (pipex's tunnels) checks its own keys on every write.
        if entry.get('undo') == 'write' and entry.get('store') in (engine.RUNTIME, engine.PERSISTENT):
            task.TASK.check_key(entry['write'][1])
    with task.open_stores(record['options'], run_command) as opened:
        stores = [store for store in opened if store is not None]
        by_name = dict((store.name, store) for store in stores)
        for store in stores:
            store.read()  # stores that keep what they saw (the kernel's tunnels) need a fresh view
        return engine.undo(by_name, journal)


def main(directory, ident, run_command=run_process, systemctl='systemctl'):
    """The timer's process: roll back ``ident`` and every newer pending change. 0 when everything
    was put back or the change was confirmed meanwhile; 1 otherwise (the journal says why).
    No AnsibleModule here: what it prints goes to the systemd journal of the timer's unit."""
    # pylint: disable=ansible-bad-function
    if not ident.isdigit():
        print('not a change id: %r' % ident)
        return 1
    status = 0
    for newer in reversed(pending_ids(directory)):
        if newer > ident:
            run_command([systemctl, 'stop', UNIT_PREFIX + newer + '.timer'])
            rc, out, err = run_command(runner_argv(directory, newer))
            print((out + err).strip())
            status = status or (1 if rc else 0)
    with _files.locked(directory, error=ConfirmError):
        json_path, zip_path = _paths(directory, ident)
        loaded = _files.load(json_path, ConfirmError)
        if loaded is None:
            print('change %s is not pending (confirmed, or rolled back already)' % ident)
            return status
        try:
            record = json.loads(loaded[0].decode('utf-8'))
            restored, unrestored = undo(record, run_command)
        except Exception as exc:  # pylint: disable=broad-except
            restored, unrestored = [], ['the whole change (%s)' % exc]
        print('change %s rolled back: %s' % (ident, '; '.join(restored) or 'nothing to undo'))
        if unrestored:
            # Kept for a person to read (and out of pending_ids: a retry would undo twice).
            print('COULD NOT ROLL BACK: %s; the journal stays as %s.failed.json' % ('; '.join(unrestored), ident))
            os.rename(json_path, os.path.join(directory, ident + '.failed.json'))
            status = 1
        for path in (json_path, zip_path):
            _files.remove(path, ConfirmError)
    return status
