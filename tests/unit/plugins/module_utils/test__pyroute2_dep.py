# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pyroute2 guard (L2TP only): missing or too old is one clear sentence with the Debian fix."""

from __future__ import annotations

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
