# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: edgenet.router contributors
#
# Private to the edgenet.router collection: no compatibility promise to other collections.
"""The one place pyroute2 is imported: an optional dependency, needed only for L2TP.

rtnetlink (links, addresses, routes) goes through the collection's own ``_rtnl`` codec; the
L2TP generic netlink family (``_l2tp.py``, used by pipex_session and pipex_session_info) still
speaks through pyroute2's ``GenericNetlinkSocket``. The import is guarded so that modules load
without pyroute2 (and ``ansible-test sanity --test import`` passes); a module that needs it calls
:func:`require_pyroute2` first and fails with the usual "missing required library" message.
Pattern: community.crypto's ``_cryptography_dep.py``.
"""

from __future__ import annotations

import re
import traceback

# Debian 12 ships 0.7.2: the oldest version the L2TP seam is proven against. pyroute2's own L2tp
# helper differs between versions (0.9.7's cannot dump tunnels or set cookies and swaps the IPv6
# checksum flags; 0.7.2 has other signatures), which is why _l2tp.py only uses the generic socket.
MINIMUM_PYROUTE2_VERSION = '0.7'
DEBIAN_PACKAGE = 'python3-pyroute2'

try:
    import pyroute2
    from pyroute2.netlink import NLA_F_NESTED, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, genlmsg, nla
    from pyroute2.netlink.exceptions import NetlinkError as PyrouteNetlinkError
    from pyroute2.netlink.generic import GenericNetlinkSocket
except ImportError:
    HAS_PYROUTE2 = False
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()
    PYROUTE2_VERSION = None
    # stand-ins, so that the classes and ``except`` clauses of _l2tp.py are still valid Python
    genlmsg = nla = object
    GenericNetlinkSocket = None
    NLA_F_NESTED, NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x8000, 0x1, 0x4, 0x300

    class PyrouteNetlinkError(Exception):
        """Never raised: pyroute2 is missing."""
else:
    HAS_PYROUTE2 = True
    PYROUTE2_IMPORT_ERROR = None
    # 0.7.x has no usable __version__; the distribution metadata is right in both.
    try:
        from importlib.metadata import version as _dist_version
        PYROUTE2_VERSION = _dist_version('pyroute2')
    except Exception:  # pylint: disable=broad-except
        PYROUTE2_VERSION = getattr(pyroute2, '__version__', None)

__all__ = [
    'DEBIAN_PACKAGE',
    'HAS_PYROUTE2',
    'MINIMUM_PYROUTE2_VERSION',
    'PYROUTE2_IMPORT_ERROR',
    'PYROUTE2_VERSION',
    'pyroute2_problem',
    'require_pyroute2',
    # pyroute2's names that _l2tp.py uses (stand-ins when it is missing)
    'GenericNetlinkSocket',
    'NLA_F_NESTED',
    'NLM_F_ACK',
    'NLM_F_DUMP',
    'NLM_F_REQUEST',
    'PyrouteNetlinkError',
    'genlmsg',
    'nla',
]


def _version_tuple(text):
    return tuple(int(part) for part in re.findall(r'\d+', text or '')[:3])


def pyroute2_problem(reason='to talk to the kernel over L2TP generic netlink'):
    """None when a usable pyroute2 is importable, else what is wrong and the fix, in one sentence."""
    fix = '(Debian/Ubuntu: apt install %s)' % DEBIAN_PACKAGE
    if not HAS_PYROUTE2:
        return 'pyroute2 >= %s is needed %s but is not installed %s' % (MINIMUM_PYROUTE2_VERSION, reason, fix)
    if PYROUTE2_VERSION and _version_tuple(PYROUTE2_VERSION) < _version_tuple(MINIMUM_PYROUTE2_VERSION):
        return 'pyroute2 %s is too old %s: version %s or later is needed %s' % (
            PYROUTE2_VERSION, reason, MINIMUM_PYROUTE2_VERSION, fix)
    return None


def require_pyroute2(module, reason='to talk to the kernel over L2TP generic netlink'):
    """Fail ``module`` the Ansible way when pyroute2 is missing or too old on the managed host."""
    if not HAS_PYROUTE2:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(
            msg=missing_required_lib('pyroute2 >= %s' % MINIMUM_PYROUTE2_VERSION,
                                     reason='%s (Debian/Ubuntu: apt install %s)' % (reason, DEBIAN_PACKAGE)),
            exception=PYROUTE2_IMPORT_ERROR)
    problem = pyroute2_problem(reason)
    if problem:
        module.fail_json(msg=problem)
