# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks every persistent tunnel store's tests share."""

from __future__ import annotations


def assert_round_trip(store, obj):
    """``obj`` written to the empty ``store`` reads back as itself: every field the task set is the
    same, and one it left out (None: "leave as found") reads back as None or no entries."""
    store.create(obj['name'], obj)
    read = store.read()
    assert list(read) == [obj['name']]
    assert dict((k, v) for k, v in read[obj['name']].items() if obj[k] is not None) == \
        dict((k, v) for k, v in obj.items() if v is not None)
    assert all(read[obj['name']][k] in (None, []) for k in obj if obj[k] is None)
