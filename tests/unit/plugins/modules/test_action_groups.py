# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
"""The action groups of meta/runtime.yml are honest: ``module_defaults`` gives every option set
on a group to every member, so each member must take the options its group is for, and each
module's ``action_group`` attribute must name exactly the groups runtime.yml puts it in."""

from __future__ import annotations

import importlib
import os

import pytest
import yaml

from ansible_collections.edgenet.router.plugins.doc_fragments import _attributes
from ansible_collections.edgenet.router.plugins.modules import confirm
from ansible_collections.edgenet.router.tests.unit.plugins.modules.driver import MODULES, capture_spec

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))

# What each group is for: the options a user may set on it in module_defaults. The
# doc fragment's description names the same options.
GROUP_OPTIONS = {
    'router': ('netns',),
    'links': ('netns', 'persistent', 'recreate', 'confirm_timeout'),
}

ALL_MODULES = dict(MODULES, confirm=confirm)

# every module file, imported by name: the attribute and the groups are checked on each
MODULE_NAMES = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, 'plugins', 'modules'))
                      if f.endswith('.py') and not f.startswith('_'))


def _documentation(name):
    module = importlib.import_module('ansible_collections.edgenet.router.plugins.modules.' + name)
    return yaml.safe_load(module.DOCUMENTATION)


def _runtime_groups():
    with open(os.path.join(ROOT, 'meta', 'runtime.yml'), encoding='utf-8') as f:
        return yaml.safe_load(f)['action_groups']


def _documented_membership(name):
    """The action_group membership the module's DOCUMENTATION declares (through our fragments)."""
    doc = _documentation(name)
    groups = []
    for fragment in doc.get('extends_documentation_fragment') or []:
        if fragment.startswith('edgenet.router._attributes.ACTIONGROUP_'):
            text = getattr(_attributes.ModuleDocFragment, fragment.rsplit('.', 1)[1])
            groups.extend(yaml.safe_load(text)['attributes']['action_group']['membership'])
    assert 'action_group' not in (doc.get('attributes') or {}), 'declare action_group through the fragment'
    return sorted(groups)


def _spec(name):
    """The argument spec main() builds, caught when it makes its AnsibleModule."""
    return capture_spec(name)['argument_spec']


def test_every_group_is_described():
    assert sorted(_runtime_groups()) == sorted(GROUP_OPTIONS)


def test_every_module_file_is_checked():
    assert set(ALL_MODULES) <= set(MODULE_NAMES) and 'ppp_server' in MODULE_NAMES


@pytest.mark.parametrize('name', MODULE_NAMES)
def test_every_module_says_its_groups(name):
    # one ACTIONGROUP_ fragment each, ACTIONGROUP_NONE for a module in no group: its page says so
    fragments = [f for f in _documentation(name).get('extends_documentation_fragment') or []
                 if f.startswith('edgenet.router._attributes.ACTIONGROUP_')]
    assert len(fragments) == 1, '%s: %s' % (name, fragments)


@pytest.mark.parametrize('name', MODULE_NAMES)
def test_router_holds_every_module_that_takes_netns(name):
    assert ('netns' in _spec(name)) == (name in _runtime_groups()['router'])


@pytest.mark.parametrize('name', MODULE_NAMES)
def test_action_group_attribute_matches_runtime(name):
    expected = sorted('edgenet.router.%s' % group for group, members in _runtime_groups().items() if name in members)
    assert _documented_membership(name) == expected


@pytest.mark.parametrize('group', sorted(GROUP_OPTIONS))
def test_every_member_takes_the_group_options_alike(group):
    members = _runtime_groups()[group]
    assert members, 'empty group %s' % group
    specs = {name: _spec(name) for name in members}
    for option in GROUP_OPTIONS[group]:
        missing = [name for name in members if option not in specs[name]]
        assert not missing, 'group %s: %s do not take %s (module_defaults would fail them)' % (group, missing, option)
        # the same type and default everywhere: one value set on the group means one thing
        shapes = {name: (specs[name][option].get('type', 'str'), specs[name][option].get('default'))
                  for name in members}
        assert len(set(shapes.values())) == 1, 'group %s: %s differs: %s' % (group, option, shapes)


@pytest.mark.parametrize('group', sorted(GROUP_OPTIONS))
def test_group_fragment_names_its_options(group):
    text = _attributes.ModuleDocFragment.ACTIONGROUP_LINKS if group == 'links' else _attributes.ModuleDocFragment.ACTIONGROUP_ROUTER
    for option in GROUP_OPTIONS[group]:
        assert 'O(%s)' % option in text


def test_confirm_is_in_no_group():
    # it takes none of the shared options: module_defaults on any group would fail it
    assert not any('confirm' in members for members in _runtime_groups().values())
    assert not set(_spec('confirm')) & set(GROUP_OPTIONS['router'])
