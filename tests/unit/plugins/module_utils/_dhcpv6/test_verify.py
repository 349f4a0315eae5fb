# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify after apply on the DHCPv6 stores: a store that does not keep a field it was given fails
the task naming the field, and the rollback puts the file back byte for byte."""

from __future__ import annotations

import re

import pytest

from ansible_collections.edgenet.router.plugins.module_utils import _engine as engine
from ansible_collections.edgenet.router.plugins.module_utils._dhcpv6 import _dnsmasq_config, _kea_config

from .test_dnsmasq import Router as DnsmasqRouter
from .test_kea import STATEFUL, Router as KeaRouter


def test_the_stores_that_read_back_at_once_take_part_in_verify(tmp_path):
    kea = KeaRouter(tmp_path).backend()
    assert kea.file.verifies and kea.daemon.verifies
    dnsmasq = DnsmasqRouter(tmp_path).backend()
    assert dnsmasq.file.verifies and dnsmasq.daemon.verifies


def _losing(render, key):
    """A renderer with a bug: it leaves ``key`` out of what it writes."""
    def lossy(*args, **kwargs):
        out = render(*args, **kwargs)
        out.pop(key, None)
        return out
    return lossy


def test_a_kea_file_that_loses_a_field_rolls_back_naming_it(tmp_path, monkeypatch):
    router = KeaRouter(tmp_path, running=False)   # service_manager none: the file is the only store
    router.run(**STATEFUL)
    before = router.text()
    monkeypatch.setattr(_kea_config, 'render_subnet', _losing(_kea_config.render_subnet, 'valid-lifetime'))
    with pytest.raises(engine.ApplyError) as exc:
        router.run(**dict(STATEFUL, valid_lifetime=9000))
    msg = str(exc.value)
    assert msg.startswith('A store did not keep what was written: persistent lan0: '
                          'valid_lifetime reads back as None, not the 9000 written')
    assert msg.endswith('Rolled back: persistent lan0 set back')
    assert router.text() == before


def test_a_kea_file_created_without_a_field_is_removed_again(tmp_path, monkeypatch):
    router = KeaRouter(tmp_path, running=False)
    monkeypatch.setattr(_kea_config, 'render_subnet', _losing(_kea_config.render_subnet, 'preferred-lifetime'))
    with pytest.raises(engine.ApplyError, match=re.escape(
            'persistent lan0: preferred_lifetime reads back as None, not the 3600 written')):
        router.run(**STATEFUL)
    assert router.text() is None


def test_a_dnsmasq_file_that_loses_a_directive_rolls_back_naming_the_field(tmp_path, monkeypatch):
    router = DnsmasqRouter(tmp_path, running=False)
    router.run()
    before = router.text()
    render = _dnsmasq_config.render_section

    def lossy(obj, relay_local=None):
        return [line for line in render(obj, relay_local) if 'domain-search' not in line]
    monkeypatch.setattr(_dnsmasq_config, 'render_section', lossy)
    with pytest.raises(engine.ApplyError) as exc:
        router.run(domain_search=['lab.example'])
    assert "persistent lan0: domain_search reads back as [], not the ['lab.example'] written" in str(exc.value)
    assert router.text() == before
