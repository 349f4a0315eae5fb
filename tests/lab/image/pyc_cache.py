# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab guests only: a bytecode cache for the code Ansible sends in its AnsiballZ zips.

Every module run ships its Python code to the guest as a fresh zip
(/tmp/ansible_<module>_payload_XXXX/ansible_<module>_payload.zip) and Python's zipimport
compiles every source file in it again: under QEMU TCG that is about a third of each
task's time (ansible.module_utils.basic alone takes a second). This module, imported at
interpreter start by edgenet-pyc-cache.pth, keeps the compiled code of those files in
/var/cache/edgenet-pyc, keyed by the SHA-256 of the source text and the interpreter's
bytecode magic: the code that runs is always the code compiled from the source the
controller sent, only the compilation is skipped. Everything else Python imports is
untouched. Any problem with the cache falls back to a plain compile.

Not part of the collection: the image recipe (tests/lab/image/build.sh) installs it.
"""

import os
import sys
import zipimport

CACHE_DIR = '/var/cache/edgenet-pyc'
PAYLOAD_MARK = '_payload.zip' + os.sep

_compile_source = zipimport._compile_source


def _rename(code, filename):
    """code with co_filename set to filename, in it and every code object it holds."""
    consts = tuple(_rename(c, filename) if isinstance(c, type(code)) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _cache_ok():
    try:
        st = os.lstat(CACHE_DIR)
    except FileNotFoundError:
        try:
            os.mkdir(CACHE_DIR, 0o700)
        except OSError:
            return False
        st = os.lstat(CACHE_DIR)
    # root's own directory, nobody else's: the cache holds code that runs as root
    return os.path.isdir(CACHE_DIR) and not os.path.islink(CACHE_DIR) \
        and st.st_uid == 0 and st.st_mode & 0o077 == 0 and os.geteuid() == 0


def _cached_compile_source(pathname, source):
    if PAYLOAD_MARK not in pathname or not _cache_ok():
        return _compile_source(pathname, source)
    import hashlib
    import importlib.util
    import marshal
    key = hashlib.sha256(importlib.util.MAGIC_NUMBER + b'\0' + source).hexdigest()
    path = os.path.join(CACHE_DIR, key)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, 'rb') as f:
            code = marshal.loads(f.read())
        return _rename(code, pathname)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = _compile_source(pathname, source)
    try:
        tmp = '%s.%d.tmp' % (path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(marshal.dumps(code))
        os.rename(tmp, path)
    except OSError:
        pass
    return code


def install():
    if sys.implementation.name == 'cpython' and getattr(zipimport, '_compile_source', None):
        zipimport._compile_source = _cached_compile_source
