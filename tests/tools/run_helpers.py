# SPDX-License-Identifier: GPL-3.0-or-later
"""The few things tests/run asks Python for, in one file instead of inside the shell script.

    python tests/tools/run_helpers.py junit-count DIR...   tests executed (not skipped) in DIR/*.xml
    python tests/tools/run_helpers.py json-keys WORD       "WORD key" per key of the JSON object on stdin
    python tests/tools/run_helpers.py json-field NAME      the field NAME of the JSON object on stdin
    python tests/tools/run_helpers.py ansible-test-dir     where the ansible_test package lives
"""

from __future__ import annotations

import glob
import json
import os
import sys
import xml.etree.ElementTree as ET


def junit_count(directories):
    ran = 0
    for directory in directories:
        for path in glob.glob(os.path.join(directory, '*.xml')):
            root = ET.parse(path).getroot()
            for suite in ([root] if root.tag == 'testsuite' else root.iter('testsuite')):
                ran += int(suite.get('tests', 0)) - int(suite.get('skipped', 0))
    return ran


def main(argv):
    command, args = argv[0], argv[1:]
    if command == 'junit-count':
        print(junit_count(args))
    elif command == 'json-keys':
        for key in sorted(json.load(sys.stdin)):
            print(args[0], key)
    elif command == 'json-field':
        print(json.load(sys.stdin)[args[0]])
    elif command == 'ansible-test-dir':
        import ansible_test  # pylint: disable=import-outside-toplevel  # only this command needs it
        print(os.path.dirname(ansible_test.__file__))
    else:
        sys.exit('run_helpers.py: unknown command %r' % command)


if __name__ == '__main__':
    main(sys.argv[1:])
