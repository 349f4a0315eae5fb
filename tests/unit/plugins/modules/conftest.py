# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``world`` fixture (fakes at every seam and a temp dir for the module's files, see driver),
and UTF-8-safe failure reports: bad input holds lone surrogates, and a report quoting one would
break pytest-xdist's channel (which ansible-test units uses) for the whole run."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.tests.unit.plugins.modules.driver import World


@pytest.fixture
def world(monkeypatch, tmp_path):
    return World(monkeypatch, tmp_path)


def _utf8(text):
    return text.encode('utf-8', 'backslashreplace').decode('utf-8')


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.longrepr is not None:
        text = str(report.longrepr)
        if _utf8(text) != text:
            report.longrepr = _utf8(text)
    report.sections = [(title, _utf8(body)) for title, body in report.sections]
