#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The dashboard in a real browser: Debian's chromium, headless, driven
over the DevTools protocol (cdp.py), against a running collector (TLS, the
index on) with agents.  Accounts made by labwatchctl passwd; the API's
refusals (401 without a cookie, 403 without the CSRF token, 403 for a
viewer) checked over plain HTTP; the grid's states, a record and a new
device appearing without a reload, a known mark surviving a collector
restart, checked in the page.  Screenshots go to build/screenshots/."""

import datetime
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest as T  # noqa: E402
import cdp  # noqa: E402

SHOTS = os.path.join(T.BUILD, 'screenshots')
MAC = '02:00:5e:10:20:30'


def http(port, path, body=None, cookie=None, csrf=None, ctype=None):
    """(status, headers, JSON or None) of one request."""
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path))
    if body is not None:
        req.data = body if isinstance(body, bytes) else \
            json.dumps(body).encode()
        req.add_header('Content-Type', ctype or 'application/json')
    if cookie:
        req.add_header('Cookie', cookie)
    if csrf:
        req.add_header('X-CSRF-Token', csrf)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, hdrs, data = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, data = e.code, e.headers, e.read()
    try:
        return status, hdrs, json.loads(data)
    except ValueError:
        return status, hdrs, None


def login(port, user, pw):
    status, hdrs, data = http(port, '/api/login', {'user': user,
                                                   'password': pw})
    set_cookie = hdrs.get('Set-Cookie', '')
    return status, set_cookie, set_cookie.split(';')[0], data


def give(path):
    """The users file to the collector's user (no group labwatch here)."""
    if os.geteuid() == 0:
        os.chown(path, *T.collector_user())


def make_users(path):
    for name, role in (('ann', 'admin'), ('vic', 'viewer')):
        p = subprocess.run([T.LABWATCHCTL, 'passwd', '-f', path, name,
                            '--role', role], input=name + '-pw\n',
                           capture_output=True, text=True, timeout=10)
        T.check('labwatchctl passwd %s --role %s (password on stdin)' %
                (name, role), p.returncode == 0, p.stderr)
    lines = open(path).read().splitlines()
    T.check('the users file holds yescrypt hashes and roles',
            [l.split(':')[:2] for l in lines] == [['ann', 'admin'],
                                                  ['vic', 'viewer']] and
            all(l.split(':', 2)[2].startswith('$y$') for l in lines),
            lines)
    give(path)


def api_checks(port, users):
    status, _, _ = http(port, '/api/hosts')
    T.check('GET /api/hosts without a cookie: 401', status == 401, status)
    status, _, _, _ = login(port, 'ann', 'wrong')
    T.check('a wrong password: 401', status == 401, status)
    status, set_cookie, ann, data = login(port, 'ann', 'ann-pw')
    T.check('POST /api/login: 200 with a session cookie', status == 200 and
            ann.startswith('labwatch_session='), (status, set_cookie))
    T.check('the cookie is HttpOnly, Secure, SameSite=Strict',
            all(f in set_cookie for f in ('HttpOnly', 'Secure',
                                          'SameSite=Strict')), set_cookie)
    csrf = data['csrf']
    status, _, hosts = http(port, '/api/hosts', cookie=ann)
    T.check('GET /api/hosts with the cookie: 200, the room layout',
            status == 200 and hosts['rooms'] == [
                {'name': 'front', 'seats': ['pc01', None, 'pc02']}],
            (status, hosts))
    mark = {'id': MAC, 'mark': 'ignored'}
    status, _, _ = http(port, '/api/devices/mark', mark, cookie=ann)
    T.check('a change without the CSRF token: 403', status == 403, status)
    status, _, _ = http(port, '/api/devices/mark', mark, cookie=ann,
                        csrf='0' * 32)
    T.check('a change with a wrong CSRF token: 403', status == 403, status)
    status, _, _ = http(port, '/api/devices/mark', b'{"id": [1]}',
                        cookie=ann, csrf=csrf)
    T.check('a change with a bad JSON body: 400', status == 400, status)
    status, _, vic, vdata = login(port, 'vic', 'vic-pw')
    status, _, err = http(port, '/api/devices/mark', mark, cookie=vic,
                          csrf=vdata['csrf'])
    T.check('a viewer cannot change: 403', status == 403, (status, err))
    for path in ('/api/events?limit=5&q=agent&type=agent.*&from=2020-01-01',
                 '/api/devices?mark=new', '/api/usb',
                 '/api/usb/sessions?device_id=0781:5567:x',
                 '/api/usb/files?device_id=0781:5567:x'):
        status, _, rows = http(port, path, cookie=vic)
        T.check('a viewer may read: GET %s: 200, a list' % path,
                status == 200 and isinstance(rows, list), (status, rows))
    for path in ('/api/events?from=yesterday', '/api/devices?mark=odd',
                 '/api/usb/files', '/api/nothing'):
        status, _, err = http(port, path, cookie=vic)
        T.check('GET %s: refused with a reason' % path,
                status in (400, 404) and err.get('error'), (status, err))
    status, _, _ = http(port, '/api/hosts', cookie=ann.replace(
        'labwatch_session=ann', 'labwatch_session=vic'))
    T.check('a forged cookie (another name): 401', status == 401, status)
    _, _, vic2, vdata2 = login(port, 'vic', 'vic-pw')
    status, hdrs, _ = http(port, '/api/logout', {}, cookie=vic2,
                           csrf=vdata2['csrf'])
    T.check('POST /api/logout: 200, the cookie cleared', status == 200 and
            'Max-Age=0' in hdrs.get('Set-Cookie', ''), status)
    status, _, _ = http(port, '/api/hosts', cookie=vic2)
    T.check('a logged-out cookie: 401', status == 401, status)
    status, _, _ = http(port, '/api/hosts', cookie=vic)
    T.check("... the same account's other session still works",
            status == 200, status)
    p = subprocess.run([T.LABWATCHCTL, 'passwd', '-f', users, 'vic'],
                       input='vic-pw\n', capture_output=True, text=True)
    give(users)
    time.sleep(1.1)		# the file is looked at once a second at most
    status, _, _ = http(port, '/api/hosts', cookie=vic)
    T.check('a new password ends the old sessions (401), role kept',
            p.returncode == 0 and status == 401 and
            ':viewer:' in open(users).read(), (status, p.stderr))
    status, _, _, _ = login(port, 'vic', 'vic-pw')
    T.check('... and the new password logs in', status == 200, status)


def https_check(users):
    """Off loopback the dashboard is HTTPS with the collector's
    certificate, asking the browser for none."""
    port = T.free_port()
    c = T.start_collector(extra=['--http', '0.0.0.0:%d' % port,
                                 '--http-users', users],
                          name='collector-https')
    ctx = T.client_context()		# the lab CA, no client certificate
    req = urllib.request.Request('https://127.0.0.1:%d/api/login' % port,
                                 data=json.dumps({'user': 'ann', 'password':
                                                  'ann-pw'}).encode(),
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
        status, cookie = r.status, r.headers.get('Set-Cookie', '')
        hsts = r.headers.get('Strict-Transport-Security', '')
    T.check('off loopback: HTTPS with the collector\'s certificate, login '
            '200', status == 200 and 'Secure' in cookie and hsts,
            (status, cookie, hsts))
    try:
        urllib.request.urlopen('http://127.0.0.1:%d/' % port, timeout=5)
        plain = True
    except (urllib.error.URLError, ConnectionError, OSError):
        plain = False
    T.check('off loopback: no plain HTTP', not plain)
    T.stop(c)


def page_login(b, port, user):
    b.navigate('http://127.0.0.1:%d/' % port)
    T.check('the page asks %s to log in' % user,
            b.wait('!document.querySelector("#login").hidden'))
    b.eval('document.querySelector("#login-user").value = %s;'
           'document.querySelector("#login-password").value = %s;'
           'document.querySelector("#login-form").requestSubmit(); 1' %
           (json.dumps(user), json.dumps(user + '-pw')))
    T.check('%s is logged in by the form' % user,
            b.wait('document.querySelector("#who").textContent')
            .startswith(user))


STATES = ('Object.fromEntries([...document.querySelectorAll(".host[data-host]")]'
          '.map(e => [e.dataset.host, e.dataset.state]))')


def epoch(ts):
    """Seconds since the epoch of a text line's UTC time."""
    return datetime.datetime.strptime(ts, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=datetime.timezone.utc).timestamp()


def send_record(sess, seq, event, fields):
    sess.sock.sendall(T.record_frame(seq, event, fields))
    return T.wait_ack(sess, seq) >= seq


def main():
    if not os.access(cdp.CHROMIUM, os.X_OK):
        T.note('SKIP: %s is missing (scripts/install-deps installs '
               'chromium)' % cdp.CHROMIUM)
        return
    d = T.tmpdir('dash')
    os.chmod(d, 0o755)		# the collector's user reads users there
    users = os.path.join(d, 'users')
    make_users(users)
    port = T.free_port()
    logdir, statedir = T.tmpdir('logs'), T.tmpdir('cstate')
    extra = ['--http', '127.0.0.1:%d' % port, '--http-users', users,
             '--room', 'front pc01 - pc02']
    coll = T.start_collector(logdir=logdir, statedir=statedir, extra=extra)
    addr = '127.0.0.1:%d' % coll.port
    T.start_agent(addr, 'pc01')
    a2 = T.start_agent(addr, 'pc02')
    T.wait_event(T.log_path(coll, 'pc02'), 'text', 'host.connect')
    T.wait_event(T.log_path(coll, 'pc01'), 'text', 'host.connect')
    T.stop(a2)
    T.wait_event(T.log_path(coll, 'pc02'), 'text', 'host.disconnect')
    T.step('API', api_checks, port, users)
    T.step('HTTPS', https_check, users)

    b = cdp.Browser(d)
    try:
        page_login(b, port, 'ann')
        states = b.wait('(s => s.pc01 === "online" && s.pc02 === "offline" '
                        '&& s)(%s)' % STATES, 5)
        T.check('the grid: pc01 online, pc02 offline', states, b.eval(STATES))
        b.screenshot(os.path.join(SHOTS, 'grid.png'))

        # A PC that talks: its record shows on its page without a reload.
        sess = T.open_session(coll.port, 'pc03')
        T.check('a new PC appears in the grid without a reload',
                b.wait('(%s).pc03 === "online"' % STATES, 3))
        b.eval('location.hash = "#/host/pc03"; 1')
        b.wait('document.querySelector("#timeline")')
        time.sleep(0.3)
        t0 = time.monotonic()
        send_record(sess, 1, 'test.dashboard', [('word', 'hello')])
        row = b.wait('[...document.querySelectorAll("#timeline td")]'
                     '.some(td => td.textContent === "test.dashboard")', 2)
        T.check('a new record appears on the host page within 2 s', row,
                '%.1f s' % (time.monotonic() - t0))
        b.screenshot(os.path.join(SHOTS, 'host.png'))

        # Search: the record through the index's text search.
        b.eval('location.hash = "#/search"; 1')
        b.wait('document.querySelector("#search-form")')
        search = ('(f => { f.q.value = "hello"; f.host.value = "pc03"; '
                  'f.requestSubmit(); return 1; })'
                  '(document.querySelector("#search-form"))')
        hit = ('[...document.querySelectorAll("#results td")].some(td => '
               'td.textContent === "test.dashboard")')
        found = False
        for _ in range(10):		# the index writes in batches
            b.eval(search)
            if b.wait(hit, 0.5):
                found = True
                break
        T.check('the search page finds the record by a word of it', found,
                b.eval('document.querySelector("#search-note").textContent'))
        b.screenshot(os.path.join(SHOTS, 'search.png'))

        # A new device: lab.device.new reaches the devices page.
        b.eval('location.hash = "#/devices"; 1')
        b.wait('document.querySelector("#devices")')
        send_record(sess, 2, 'net.device', [('mac', MAC), ('ip', '198.51.100.7')])
        sel = 'document.querySelector("tr[data-id=\\"%s\\"]")' % MAC
        found = b.wait('!!' + sel, 3 + 5)
        seen = time.time()
        lab = [r for r in T.read_records(T.log_path(coll, 'lab'), 'text')
               if r.get('event') == 'lab.device.new']
        T.check('one lab.device.new for the device', len(lab) == 1 and
                lab[0].get('mac') == MAC, lab)
        delay = seen - epoch(lab[0]['ts']) if lab else None
        T.check('the new device appears without a reload', found)
        if delay is not None:
            T.check('... within 2 s of lab.device.new', delay < 2.0,
                    '%.2f s' % delay)
        b.eval('document.querySelector("#mark-note").value = "printer"; 1')
        b.eval(sel + '.querySelector("button[data-mark=known]").click(); 1')
        T.check('Known marks it in the page',
                b.wait(sel + '.querySelector(".mark").textContent'
                       '.startsWith("known")', 3))
        b.screenshot(os.path.join(SHOTS, 'devices.png'))

        # The collector restarts: the page reconnects, the mark stays.
        sess.sock.close()
        T.stop(coll)
        T.check('the page sees the collector go',
                b.wait('document.querySelector("#live").textContent !== '
                       '"live"', 5))
        coll = T.start_collector(port=coll.port, logdir=logdir,
                                 statedir=statedir, extra=extra)
        T.check('the page reconnects to the restarted collector',
                b.wait('document.querySelector("#live").textContent === '
                       '"live"', 10))
        b.eval('location.hash = "#/devices/known"; 1')
        b.reload()
        T.check('after the restart the device is still known (same '
                'session cookie)',
                b.wait('(e => e && e.querySelector(".mark").textContent'
                       '.startsWith("known"))(%s)' % sel, 5),
                b.eval('document.querySelector("#main").textContent'))
        b.screenshot(os.path.join(SHOTS, 'devices-after-restart.png'))

        # A viewer sees no buttons.
        b.eval('document.querySelector("#logout").click(); 1')
        b.wait('!document.querySelector("#login").hidden')
        page_login(b, port, 'vic')
        b.eval('location.hash = "#/devices"; 1')
        b.wait('!!' + sel, 5)
        T.check('a viewer gets no mark buttons',
                b.eval(sel + '.querySelectorAll("button").length') == 0)
        b.screenshot(os.path.join(SHOTS, 'viewer.png'))
    finally:
        b.close()
    log = T.read_lines(T.log_path(coll, 'lab'))
    T.check('lab.log records the logins with the account and address',
            any('dashboard.login' in l and 'user=ann' in l and
                'peer=127.0.0.1' in l and 'result=ok' in l for l in log) and
            any('dashboard.login' in l and 'result="bad password"' in l
                for l in log), log[-5:])
    T.check('lab.log records the mark with the account',
            any('lab.mark' in l and 'ann' in l for l in log), log[-5:])


T.run(main)
