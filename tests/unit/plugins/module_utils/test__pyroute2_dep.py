# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pyroute2 guard (L2TP only): missing or too old is one clear sentence with the Debian fix;
pyroute2 is imported in one place, and only the L2TP modules say they need it."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _pyroute2_dep as dep


class FailingModule(object):
    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


@pytest.mark.parametrize('has,version,problem', [
    (True, '0.7.2', None),
    (True, '0.9.7', None),
    (True, '0.6.13', 'pyroute2 0.6.13 is too old to talk to the kernel over L2TP generic netlink: version 0.7 or later '
                     'is needed (Debian/Ubuntu: apt install python3-pyroute2)'),
    (False, None, 'pyroute2 >= 0.7 is needed to talk to the kernel over L2TP generic netlink but is not installed '
                  '(Debian/Ubuntu: apt install python3-pyroute2)'),
])
def test_pyroute2_problem(monkeypatch, has, version, problem):
    monkeypatch.setattr(dep, 'HAS_PYROUTE2', has)
    monkeypatch.setattr(dep, 'PYROUTE2_VERSION', version)
    assert dep.pyroute2_problem() == problem


def test_require_pyroute2_fails_the_ansible_way(monkeypatch):
    monkeypatch.setattr(dep, 'HAS_PYROUTE2', False)
    monkeypatch.setattr(dep, 'PYROUTE2_IMPORT_ERROR', 'Traceback ...')
    with pytest.raises(AssertionError) as err:
        dep.require_pyroute2(FailingModule())
    failed = err.value.args[0]
    assert 'pyroute2 >= 0.7' in failed['msg'] and 'apt install python3-pyroute2' in failed['msg']
    assert failed['exception'] == 'Traceback ...'
    monkeypatch.setattr(dep, 'HAS_PYROUTE2', True)
    monkeypatch.setattr(dep, 'PYROUTE2_VERSION', '0.6.1')
    with pytest.raises(AssertionError, match='0.6.1 is too old'):
        dep.require_pyroute2(FailingModule())
    monkeypatch.setattr(dep, 'PYROUTE2_VERSION', '0.7.2')
    dep.require_pyroute2(FailingModule())  # nothing to say


PLUGINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'plugins')
IMPORT = re.compile(r'^\s*(?:import\s+pyroute2|from\s+pyroute2[\s.])', re.MULTILINE)


def _python_files():
    for top, _dirs, files in os.walk(PLUGINS):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(top, name)
                yield os.path.relpath(path, PLUGINS), open(path, encoding='utf-8').read()


def test_pyroute2_is_imported_in_one_place():
    importers = sorted(path for path, text in _python_files() if IMPORT.search(text))
    assert importers == [os.path.join('module_utils', '_pyroute2_dep.py')]


def test_only_the_l2tp_modules_take_the_pyroute2_fragment():
    takers = sorted(path for path, text in _python_files()
                    if path.startswith('modules') and 'edgenet.router._pyroute2' in text)
    assert takers == [os.path.join('modules', 'pipex_session.py'), os.path.join('modules', 'pipex_session_info.py')]
