# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures both drift_report test files use: a --check --diff run's command line, and the
callback loaded by its FQCN writing into the test's own directory."""

from __future__ import annotations

import pytest
from ansible import context
from ansible.module_utils.common.collections import ImmutableDict

from ansible_collections.edgenet.router.tests.unit.plugins.callback.test_drift_report import load_callback


@pytest.fixture
def cli_check(monkeypatch):
    monkeypatch.setattr(context, 'CLIARGS', ImmutableDict(check=True, diff=True))


@pytest.fixture
def callback(tmp_path, cli_check):
    cb = load_callback()
    cb.set_options(direct={'dir': str(tmp_path / 'out')})
    return cb
