# SPDX-License-Identifier: GPL-3.0-or-later
"""Sphinx configuration of the edgenet.router docs site, built by docs/build-site.

Adapted from what ``antsibull-docs sphinx-init`` writes, with one difference: the build
is offline. There is no intersphinx (its inventories live on docs.ansible.com), so
the references that antsibull-docs' page templates make to the Ansible documentation,
and references to plugins of other collections (``M(ansible.builtin.apt)``,
``seealso``), are resolved here into plain links to docs.ansible.com. Every other
unresolved reference stays a warning, and ``sphinx-build -W`` makes it an error:
a reference to a plugin, role or guide of this collection that does not exist fails
the build.
"""

import re

from docutils import nodes

project = 'edgenet.router'
copyright = 'edgenet.router developers'  # pylint: disable=redefined-builtin

title = 'edgenet.router collection'
html_short_title = 'edgenet.router'
html_title = 'edgenet.router collection documentation'

extensions = ['sphinx_antsibull_ext']

pygments_style = 'ansible'
highlight_language = 'YAML+Jinja'

html_theme = 'sphinx_ansible_theme'
html_show_sphinx = False
html_domain_indices = False
html_use_index = False
html_copy_source = False
html_show_sourcelink = False
display_version = False

default_role = 'any'
nitpicky = True

ANSIBLE_DOCS = 'https://docs.ansible.com/projects/ansible/latest/'

# The labels of the Ansible documentation that antsibull-docs' templates refer to
# (antsibull_docs/data/docsite/ansible-docsite/*.rst.j2): label -> (page, title).
ANSIBLE_LABELS = {
    'action_plugins': ('plugins/action.html', 'Action plugins'),
    'ansible_configuration_settings': ('reference_appendices/config.html', 'Ansible Configuration Settings'),
    'callback_plugins': ('plugins/callback.html', 'Callback plugins'),
    'collections_keyword': ('collections_guide/collections_using_playbooks.html', 'the collections keyword'),
    'common_return_values': ('reference_appendices/common_return_values.html', 'Return Values'),
    'list_of_callback_plugins': ('collections/index_callback.html', 'Index of all Callback Plugins'),
    'list_of_collections': ('collections/index.html', 'Collection Index'),
}

# ansible_collections.<namespace>.<name>.<plugin>_<type>, optionally followed by
# __<what>-<option path> (an option or return value of that plugin)
PLUGIN_LABEL = re.compile(
    r'^ansible_collections\.([a-z0-9_]+)\.([a-z0-9_]+)\.([a-z0-9_]+)_([a-z]+)(__.*)?$')
OWN_COLLECTION = ('edgenet', 'router')


def _anchor(label):
    """The HTML id Sphinx gives a label (docutils' make_id, for the characters labels use)."""
    return re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')


def _external_uri(target):
    """(uri, title) of a reference into the Ansible docs, or None when it is not one."""
    if target in ANSIBLE_LABELS:
        page, label_title = ANSIBLE_LABELS[target]
        return '%s%s#%s' % (ANSIBLE_DOCS, page, _anchor(target)), label_title
    match = PLUGIN_LABEL.match(target)
    if match is None or match.group(1, 2) == OWN_COLLECTION:
        # ours: the page exists here or the reference is broken (a build error)
        return None
    namespace, name, plugin, plugin_type = match.group(1, 2, 3, 4)
    # options and return values have the anchors of their labels too
    return ('%scollections/%s/%s/%s_%s.html#%s' % (ANSIBLE_DOCS, namespace, name, plugin, plugin_type, _anchor(target)),
            '%s.%s.%s' % (namespace, name, plugin))


def _resolve_external(app, env, node, contnode):  # pylint: disable=unused-argument
    """missing-reference handler: links into docs.ansible.com instead of intersphinx."""
    if node.get('refdomain') != 'std' or node.get('reftype') != 'ref':
        return None
    found = _external_uri(node['reftarget'])
    if found is None:
        return None
    uri, label_title = found
    ref = nodes.reference('', '', internal=False, refuri=uri, reftitle=label_title)
    if node.get('refexplicit'):
        ref += contnode
    else:
        ref += nodes.inline(label_title, label_title, classes=contnode.get('classes', []))
    return ref


def setup(app):
    app.connect('missing-reference', _resolve_external)
