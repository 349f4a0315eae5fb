# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Screenshots of a drift report's HTML page in headless Chromium, and a check of what the
drift detection guide says about the page: prints what it found, asserts nothing.

    python3 bench/drift_report_screenshot.py REPORT.html OUTDIR [--filter NAME=VALUE ...]

Writes OUTDIR/drift-report-top.png (the page as it opens, 1400x1000; with ``--no-js``, the page
with JavaScript off, OUTDIR/drift-report-nojs.png) and, with ``--filter``,
OUTDIR/drift-report-filtered.png (the filters set as a person would: each select given a value
and a change event sent, the page scrolled to the first section shown). It drives Chromium
over the DevTools protocol on a pipe (``--remote-debugging-pipe``: no port, no network) and
prints:

- whether the page ran its script (the filter form is shown only by it);
- every console message, script error and Content-Security-Policy violation (the page's
  policy allows its one script by hash and forbids any fetch: a violation would show here);
- every request the page made other than itself (there should be none);
- how many host sections and rows are visible before and after the filters.

Needs Debian's chromium (apt-get install chromium); not part of make test. Run as root it
passes --no-sandbox. Every Chromium flag that would reach the network is off.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

WIDTH, HEIGHT = 1400, 1000
FLAGS = ['--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-extensions',
         '--disable-default-apps', '--metrics-recording-only', '--no-default-browser-check',
         '--window-size=%d,%d' % (WIDTH, HEIGHT), '--hide-scrollbars', '--remote-debugging-pipe']

# Installed before the page's own script: collects CSP violations and errors the page raises
# (the DevTools protocol reports them too; this is a second witness).
WITNESS = """
window.__witness = {violations: [], errors: []};
document.addEventListener('securitypolicyviolation', function (e) {
  window.__witness.violations.push(e.violatedDirective + ' ' + (e.blockedURI || '(inline)'));
});
window.addEventListener('error', function (e) { window.__witness.errors.push(String(e.message)); });
"""

# What is visible: host sections, drift rows, lines of the hosts table.
COUNT = """
(function () {
  function shown(sel) {
    return Array.prototype.filter.call(document.querySelectorAll(sel), function (n) {
      return n.offsetParent !== null; }).length;
  }
  return JSON.stringify({
    filters_shown: !document.getElementById('filters').hidden,
    sections: shown('section.host'), rows: shown('tr.row'), host_lines: shown('table.hosts tr[data-host]'),
    witness: window.__witness});
})()
"""


class Browser(object):
    """Chromium with the DevTools protocol on fds 3 (commands in) and 4 (answers out)."""

    def __init__(self, profile):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        argv = [shutil.which('chromium') or 'chromium'] + FLAGS + ['--user-data-dir=' + profile]
        if os.geteuid() == 0:
            argv.append('--no-sandbox')
        shell = 'exec "$@" 3<&%d 4>&%d' % (to_chrome_r, from_chrome_w)
        self.proc = subprocess.Popen(['bash', '-c', shell, 'chromium'] + argv, pass_fds=(to_chrome_r, from_chrome_w),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b''
        self._next_id = 0
        self.events = []
        self.session = None

    def send(self, method, params=None, timeout=30, session=True):
        self._next_id += 1
        message = {'id': self._next_id, 'method': method, 'params': params or {}}
        if session and self.session:
            message['sessionId'] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b'\0')
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get('id') == self._next_id:
                if 'error' in answer:
                    raise RuntimeError('%s: %s' % (method, answer['error']))
                return answer.get('result', {})
            self.events.append(answer)

    def wait_for(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get('method') == method:
                return event
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get('method') == method:
                return event

    def _read(self, deadline):
        while b'\0' not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise RuntimeError('no answer from chromium in time')
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError('chromium closed the pipe')
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b'\0', 1)
        return json.loads(message)

    def evaluate(self, expression):
        result = self.send('Runtime.evaluate', {'expression': expression, 'returnByValue': True})
        return result.get('result', {}).get('value')

    def screenshot(self, path):
        data = self.send('Page.captureScreenshot', {'format': 'png'})['data']
        with open(path, 'wb') as handle:
            handle.write(base64.b64decode(data))
        return os.path.getsize(path)

    def close(self):
        try:
            self.send('Browser.close', session=False, timeout=5)
        except RuntimeError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('report')
    parser.add_argument('outdir')
    parser.add_argument('--filter', action='append', default=[], metavar='NAME=VALUE',
                        help='a filter to set (host, module, store, status) for the second screenshot')
    parser.add_argument('--no-js', action='store_true',
                        help="the page with JavaScript off (one screenshot, drift-report-nojs.png)")
    args = parser.parse_args()
    if not shutil.which('chromium'):
        sys.exit('drift_report_screenshot.py: no chromium (apt-get install chromium)')
    url = 'file://' + os.path.abspath(args.report)
    os.makedirs(args.outdir, exist_ok=True)
    profile = tempfile.mkdtemp(prefix='edgenet-shot.')
    browser = Browser(profile)
    try:
        target = browser.send('Target.createTarget', {'url': 'about:blank'})['targetId']
        browser.session = browser.send('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Page', 'Runtime', 'Log', 'Network'):
            browser.send(domain + '.enable')
        browser.send('Emulation.setDeviceMetricsOverride',
                     {'width': WIDTH, 'height': HEIGHT, 'deviceScaleFactor': 1, 'mobile': False})
        if args.no_js:
            browser.send('Emulation.setScriptExecutionDisabled', {'value': True})
        else:
            browser.send('Page.addScriptToEvaluateOnNewDocument', {'source': WITNESS})
        browser.send('Page.navigate', {'url': url})
        browser.wait_for('Page.loadEventFired')
        before = json.loads(browser.evaluate(COUNT))
        top = os.path.join(args.outdir, 'drift-report-nojs.png' if args.no_js else 'drift-report-top.png')
        print('%s: %d bytes' % (top, browser.screenshot(top)))
        after = None
        if args.filter and not args.no_js:
            for item in args.filter:
                name, dummy, value = item.partition('=')
                found = browser.evaluate(
                    "(function () { var s = document.getElementById('filters').elements[%s];"
                    " if (!s) { return 'no such filter'; }"
                    " if (!Array.prototype.some.call(s.options, function (o) { return o.value === %s; }))"
                    " { return 'no such choice'; }"
                    " s.value = %s; s.dispatchEvent(new Event('change', {bubbles: true})); return 'set'; })()"
                    % (json.dumps(name), json.dumps(value), json.dumps(value)))
                print('filter %s=%s: %s' % (name, value, found))
            browser.evaluate("(function () { var s = Array.prototype.filter.call("
                             "document.querySelectorAll('section.host'), function (n) { return !n.hidden; })[0];"
                             " window.scrollTo(0, 0); if (s) { s.scrollIntoView();"
                             " window.scrollBy(0, -(document.getElementById('filters').offsetHeight + 8)); } })()")
            after = json.loads(browser.evaluate(COUNT))
            path = os.path.join(args.outdir, 'drift-report-filtered.png')
            print('%s: %d bytes' % (path, browser.screenshot(path)))
        report_witness(browser, url, before, after)
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)


def report_witness(browser, url, before, after):
    print('script ran (filter form shown): %s' % before['filters_shown'])
    print('visible before filters: %(sections)d host sections, %(rows)d rows, %(host_lines)d lines of the hosts table'
          % before)
    if after:
        print('visible after filters:  %(sections)d host sections, %(rows)d rows, %(host_lines)d lines of the '
              'hosts table' % after)
    requests = [e['params']['request']['url'] for e in browser.events
                if e.get('method') == 'Network.requestWillBeSent' and e['params']['request']['url'] != url]
    console = ['%s: %s' % (e['params']['entry']['level'], e['params']['entry']['text']) for e in browser.events
               if e.get('method') == 'Log.entryAdded']
    console += ['console.%s' % e['params']['type'] for e in browser.events
                if e.get('method') == 'Runtime.consoleAPICalled']
    errors = [e['params']['exceptionDetails'].get('text') for e in browser.events
              if e.get('method') == 'Runtime.exceptionThrown']
    witness = (after or before).get('witness') or {'violations': [], 'errors': []}
    print('requests other than the page: %d %s' % (len(requests), requests[:5]))
    print('console messages: %d %s' % (len(console), console[:5]))
    print('script errors: %d %s' % (len(errors) + len(witness['errors']), (errors + witness['errors'])[:5]))
    print('CSP violations (securitypolicyviolation events): %d %s'
          % (len(witness['violations']), witness['violations'][:5]))


if __name__ == '__main__':
    main()
