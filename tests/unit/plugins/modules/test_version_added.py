# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
"""No plugin, option or role claims a version later than the collection's own: antsibull-changelog
lists a module under "New Modules" of the release whose number its version_added gives, so
ppp_server's 0.3.0 in a 0.1.0 collection left it out of the first release's notes."""

from __future__ import annotations

import ast
import glob
import json
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def _collection_version():
    # a checkout has galaxy.yml, an installed copy (the docs tier runs these tests there) MANIFEST.json
    galaxy = os.path.join(ROOT, 'galaxy.yml')
    if os.path.isfile(galaxy):
        with open(galaxy, encoding='utf-8') as f:
            return yaml.safe_load(f)['version']
    with open(os.path.join(ROOT, 'MANIFEST.json'), encoding='utf-8') as f:
        return json.load(f)['collection_info']['version']


def _version(text):
    return tuple(int(part) for part in str(text).split('.'))


def _python_documentation(path):
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'DOCUMENTATION' for t in node.targets):
            return yaml.safe_load(node.value.value)
    return None


def _documents():
    """(label, parsed documentation) of every documented plugin and role argument spec."""
    for path in sorted(glob.glob(os.path.join(ROOT, 'plugins', '*', '*.py'))):
        if os.path.basename(os.path.dirname(path)) in ('module_utils', 'doc_fragments', 'plugin_utils'):
            continue
        doc = _python_documentation(path)
        if doc is not None:
            yield os.path.relpath(path, ROOT), doc
    for path in sorted(glob.glob(os.path.join(ROOT, 'plugins', 'filter', '*.yml'))):
        with open(path, encoding='utf-8') as f:
            yield os.path.relpath(path, ROOT), yaml.safe_load(f)['DOCUMENTATION']
    for path in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml'))):
        with open(path, encoding='utf-8') as f:
            yield os.path.relpath(path, ROOT), yaml.safe_load(f)


def _claims(node, where=()):
    """(where, version) for every version_added key in a parsed document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'version_added':
                yield '.'.join(where) or '(top)', value
            else:
                yield from _claims(value, where + (str(key),))
    elif isinstance(node, list):
        for item in node:
            yield from _claims(item, where)


DOCUMENTS = list(_documents())


def test_the_collection_documents_something():
    labels = [label for label, dummy in DOCUMENTS]
    assert any(label.startswith('plugins/modules/') for label in labels)
    assert any(label.startswith('roles/') for label in labels)


@pytest.mark.parametrize('label,doc', DOCUMENTS, ids=[label for label, dummy in DOCUMENTS])
def test_no_version_added_after_the_collection(label, doc):
    collection = _version(_collection_version())
    late = ['%s: %s' % (where, version) for where, version in _claims(doc) if _version(version) > collection]
    assert not late, '%s claims a version after the collection\'s %s: %s' % (
        label, _collection_version(), ', '.join(late))
