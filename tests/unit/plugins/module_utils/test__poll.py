# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""_poll.until, the collection's one polling loop."""

from __future__ import annotations

import pytest

from ansible_collections.edgenet.router.plugins.module_utils._poll import until


def test_it_polls_at_the_interval_until_the_condition_holds():
    answers, slept = [False, False, True], []
    assert until(lambda: answers.pop(0), 60, 0.2, slept.append) is True
    assert answers == [] and slept == [0.2, 0.2]


def test_a_past_deadline_still_asks_once_and_then_gives_up():
    calls, slept = [], []
    assert until(lambda: calls.append(1), -1, 0.2, slept.append) is False
    assert calls == [1] and slept == []


def test_what_the_condition_raises_passes_through():
    def broken():
        raise OSError('no such process')
    with pytest.raises(OSError, match='no such process'):
        until(broken, 60, sleep=lambda seconds: None)
