#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The dashboard with 200 hosts and 10 M indexed events.

The index database is made by the collector itself (--index FILE creates
and migrates the schema), then filled straight with SQL: 10 M events over
200 hosts (one every 0.1 s, eight event names, text lines with words of
every frequency), 2,000 LAN devices, 500 USB devices with 5,000 sessions.
It is kept in $B/bench/ and reused while it holds as many events.  A
collector (--insecure, --index, --http) then serves it with 200 idle
agents connected (tests/tools/lw-load --idle), and one keep-alive client
times each request 30 times: the page and its files, GET /api/hosts, the
event queries the search page makes, devices, USB.  Side by side, the
same SQL run directly on the database from Python (sqlite3, one
connection): the ratio is what the HTTP side and the reader thread add.
Then GET /api/hosts again while four clients run slow text searches: the
event loop only queues queries, so it should stay fast.  With chromium
present, a full page load (navigate to 200 host cards drawn), median of
5.  Env B is the build folder.
"""

import http.client
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get('B', 'build'))
COLLECTOR = os.path.join(BUILD, 'labwatch-collector')
LOAD = os.path.join(BUILD, 'tests', 'lw-load')
CTL = os.path.join(ROOT, 'scripts', 'labwatchctl')
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
import cdp  # noqa: E402

EVENTS = int(os.environ.get('BENCH_EVENTS', 10_000_000))
HOSTS = 200
CHUNK = 500_000
T0 = 1764000000000000		# µs, 2025-11-24
STEP = 100_000			# µs between events
RUNS = 30
NAMES = ("'usb.add'", "'flow.lan'", "'flow.internet'", "'net.dns'",
         "'usb.write'", "'net.device'", "'agent.heartbeat'", "'usb.read'")
procs = []


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def start(args, log):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                         stdout=open(log, 'ab'), stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def wait_log(path, text, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and text in open(path, errors='replace').read():
            return True
        time.sleep(0.05)
    raise RuntimeError('%s: no %r' % (path, text))


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_db(db, tmp):
    """The schema from the collector, then the rows."""
    for f in (db, db + '-wal', db + '-shm'):
        if os.path.exists(f):
            os.unlink(f)
    logs, state = tempfile.mkdtemp(dir=tmp), tempfile.mkdtemp(dir=tmp)
    log = os.path.join(tmp, 'schema.log')
    c = start([COLLECTOR, '-f', '--insecure', '-l', '127.0.0.1:%d' %
               free_port(), '-d', logs, '-s', state, '--control', '',
               '--user', 'root', '--index', db], log)
    wait_log(log, ' started, logs in ')
    c.send_signal(signal.SIGTERM)
    c.wait(10)
    con = sqlite3.connect(db)
    con.execute('PRAGMA synchronous=OFF')
    con.execute('PRAGMA cache_size=-262144')
    t = time.monotonic()
    for lo in range(0, EVENTS, CHUNK):
        hi = min(EVENTS, lo + CHUNK)
        con.execute(
            "INSERT INTO events (ts, host, event, seq, line) "
            "WITH RECURSIVE c(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM c "
            "WHERE i < ?) SELECT ? + i * ?, printf('load%04d', i % 200 + 1), "
            "CASE i % 8 " + ' '.join('WHEN %d THEN %s' % (n, v) for n, v in
                                     enumerate(NAMES)) + " END, i, "
            "printf('load%04d path=/media/stick/file%d.txt user=student%d "
            "dst=198.51.100.%d bytes=%d', i % 200 + 1, i % 9973, i % 97, "
            "i % 250, i % 100003) FROM c", (lo + 1, hi, T0, STEP))
        con.commit()
        print('# filled %d events (%.0f/s)' % (hi, hi / (time.monotonic() -
                                                         t)), flush=True)
    con.execute(
        "INSERT INTO devices (mac, vendor, first_seen, last_seen) "
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
        "WHERE i < 2000) SELECT printf('02:00:00:00:%02x:%02x', i / 256, "
        "i % 256), 'Vendor ' || (i % 50), ? + i * 1000000, ? + i * 2000000 "
        "FROM c", (T0, T0))
    con.execute(
        "INSERT INTO device_hosts (mac, host, first_seen, last_seen) "
        "SELECT mac, printf('load%04d', rowid % 200 + 1), first_seen, "
        "last_seen FROM devices")
    con.execute(
        "INSERT INTO usb_devices (device_id, vendor_name, model_name, "
        "serial, first_seen, last_seen) WITH RECURSIVE c(i) AS (SELECT 1 "
        "UNION ALL SELECT i + 1 FROM c WHERE i < 500) SELECT "
        "printf('0781:5567:%08d', i), 'SanDisk', 'Cruzer Blade', "
        "printf('%08d', i), ? + i * 1000000, ? + i * 3000000 FROM c",
        (T0, T0))
    con.execute(
        "INSERT INTO usb_sessions (session, host, device_id, added, removed, "
        "files_written, bytes_written) WITH RECURSIVE c(i) AS (SELECT 1 "
        "UNION ALL SELECT i + 1 FROM c WHERE i < 5000) SELECT "
        "printf('s%d', i), printf('load%04d', i % 200 + 1), "
        "printf('0781:5567:%08d', i % 500 + 1), ? + i * 10000000, "
        "? + i * 10000000 + 600000000, i % 20, (i % 20) * 1000000 FROM c",
        (T0, T0))
    con.commit()
    con.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    con.close()


def count(db, filled=True):
    """The events filled (ids up to EVENTS; the collector's own come
    after), or all."""
    try:
        con = sqlite3.connect('file:%s?mode=ro' % db, uri=True)
        n = con.execute('SELECT count(*) FROM events WHERE id <= ?' if filled
                        else 'SELECT count(*) FROM events',
                        (EVENTS,) if filled else ()).fetchone()[0]
        con.close()
        return n
    except sqlite3.Error:
        return 0


class Client:
    def __init__(self, port, cookie=None):
        self.port, self.cookie = port, cookie
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)

    def get(self, path):
        hdrs = {'Cookie': self.cookie} if self.cookie else {}
        t = time.perf_counter()
        self.conn.request('GET', path, headers=hdrs)
        r = self.conn.getresponse()
        body = r.read()
        dt = time.perf_counter() - t
        if r.status != 200:
            raise RuntimeError('%s: %d %s' % (path, r.status, body[:200]))
        return dt, body


def ms(v):
    return '%.2f ms' % (v * 1000)


def stats(samples):
    s = sorted(samples)
    return statistics.median(s), s[int(len(s) * 0.95) - 1]


# Each API request and the SQL it runs (as api.c builds it).
HOST = 'load0042'
MID = T0 + EVENTS // 2 * STEP
QUERIES = [
    ('/api/events?limit=100', 'SELECT e.id, e.ts, e.host, e.event, e.line '
     'FROM events e WHERE 1 ORDER BY e.ts DESC LIMIT 100', ()),
    ('/api/events?host=%s&limit=100' % HOST, 'SELECT e.id, e.ts, e.host, '
     'e.event, e.line FROM events e WHERE 1 AND e.host = ? ORDER BY e.ts '
     'DESC LIMIT 100', (HOST,)),
    ('/api/events?type=usb.add&limit=100', 'SELECT e.id, e.ts, e.host, '
     'e.event, e.line FROM events e WHERE 1 AND e.event = ? ORDER BY e.ts '
     'DESC LIMIT 100', ('usb.add',)),
    ('/api/events?host=%s&type=flow.*&limit=100' % HOST, 'SELECT e.id, '
     'e.ts, e.host, e.event, e.line FROM events e WHERE 1 AND e.host = ? '
     'AND e.event GLOB ? ORDER BY e.ts DESC LIMIT 100', (HOST, 'flow.*')),
    ('/api/events?from=%d&to=%d&limit=100' % (MID, MID + 3600_000_000),
     'SELECT e.id, e.ts, e.host, e.event, e.line FROM events e WHERE 1 AND '
     'e.ts >= ? AND e.ts < ? ORDER BY e.ts DESC LIMIT 100',
     (MID, MID + 3600_000_000)),
    ('/api/events?q=file4242&limit=100', 'SELECT e.id, e.ts, e.host, '
     'e.event, e.line FROM events_fts f CROSS JOIN events e ON e.id = '
     'f.rowid WHERE events_fts MATCH ? ORDER BY e.ts DESC LIMIT 100',
     ('"file4242"',)),
    ('/api/events?q=file4242&host=%s&limit=100' % HOST, 'SELECT e.id, e.ts, '
     'e.host, e.event, e.line FROM events_fts f CROSS JOIN events e ON '
     'e.id = f.rowid WHERE events_fts MATCH ? AND e.host = ? ORDER BY e.ts DESC '
     'LIMIT 100', ('"file4242"', HOST)),
    ('/api/devices?limit=100', None, ()),
    ('/api/usb?limit=100', None, ()),
]
SLOW = '/api/events?q=student42&limit=1000'	# 1 line in 97: sorts 100 k


def main():
    for p in (COLLECTOR, LOAD):
        if not os.access(p, os.X_OK):
            print('%s missing: make all tests first' % p)
            return 1
    tmp = tempfile.mkdtemp(prefix='lwbench-dash-')
    try:
        return bench(tmp)
    finally:
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def bench(tmp):
    db = os.path.join(BUILD, 'bench', 'dashboard-%d.db' % EVENTS)
    os.makedirs(os.path.dirname(db), exist_ok=True)
    if count(db) != EVENTS:
        t = time.monotonic()
        make_db(db, tmp)
        print('# made %s in %.0f s' % (db, time.monotonic() - t))
    size = os.path.getsize(db)
    users = os.path.join(tmp, 'users')
    subprocess.run([CTL, 'passwd', '-f', users, 'bench'], input='bench-pw\n',
                   text=True, check=True, capture_output=True)
    port, aport = free_port(), free_port()
    logs, state = tempfile.mkdtemp(dir=tmp), tempfile.mkdtemp(dir=tmp)
    log = os.path.join(tmp, 'collector.log')
    start([COLLECTOR, '-f', '--insecure', '-l', '127.0.0.1:%d' % aport,
           '-d', logs, '-s', state, '--control', '', '--user', 'root',
           '--index', db, '--http', '127.0.0.1:%d' % port,
           '--http-users', users], log)
    wait_log(log, ' started, logs in ')
    load = start([LOAD, '--idle', '--connect', '127.0.0.1:%d' % aport,
                  '--agents', str(HOSTS), '--sources', '50'],
                 os.path.join(tmp, 'load.log'))
    wait_log(os.path.join(tmp, 'load.log'), 'ready')
    c = Client(port)
    c.conn.request('POST', '/api/login', json.dumps(
        {'user': 'bench', 'password': 'bench-pw'}),
        {'Content-Type': 'application/json'})
    r = c.conn.getresponse()
    r.read()
    c.cookie = r.getheader('Set-Cookie').split(';')[0]
    _, body = c.get('/api/hosts')
    online = sum(h['state'] == 'online' for h in json.loads(body)['hosts'])
    print('dashboard: %d events (%.1f GB database), %d hosts online, %d '
          'runs each, median and p95' % (count(db, False), size / 1e9, online, RUNS))

    page = []
    for _ in range(RUNS):
        page.append(sum(c.get(p)[0] for p in ('/', '/app.js', '/style.css',
                                              '/api/session',
                                              '/api/hosts')))
    med, p95 = stats(page)
    print('  page and its requests (/, app.js, style.css, session, hosts): '
          '%s, p95 %s' % (ms(med), ms(p95)))

    raw = sqlite3.connect('file:%s?mode=ro' % db, uri=True)
    print('  %-52s %10s %10s %10s %7s' % ('request', 'median', 'p95',
                                          'sqlite', 'ratio'))
    for path, sql, args in [('/api/hosts', None, ())] + QUERIES:
        samples = [c.get(path)[0] for _ in range(RUNS)]
        med, p95 = stats(samples)
        rows = len(json.loads(c.get(path)[1]) if path != '/api/hosts' else
                   json.loads(c.get(path)[1])['hosts'])
        if sql:
            direct = []
            for _ in range(RUNS):
                t = time.perf_counter()
                raw.execute(sql, args).fetchall()
                direct.append(time.perf_counter() - t)
            dmed = statistics.median(direct)
            print('  %-52s %10s %10s %10s %6.2fx  %d rows' % (
                path, ms(med), ms(p95), ms(dmed), med / dmed, rows))
        else:
            print('  %-52s %10s %10s %10s %7s  %d rows' % (
                path, ms(med), ms(p95), '-', '-', rows))

    # The loop stays free while the reader thread works.
    t = time.perf_counter()
    c.get(SLOW)
    slow = time.perf_counter() - t
    stop = threading.Event()

    def hammer():
        h = Client(port, c.cookie)
        while not stop.is_set():
            h.get(SLOW)
    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for th in threads:
        th.start()
    time.sleep(0.2)
    busy = [c.get('/api/hosts')[0] for _ in range(RUNS)]
    stop.set()
    for th in threads:
        th.join()
    idle = [c.get('/api/hosts')[0] for _ in range(RUNS)]
    print('  GET /api/hosts while 4 clients search %s (%s each): %s, idle '
          '%s (%.2fx)' % (SLOW.split('?')[1], ms(slow),
                          ms(statistics.median(busy)),
                          ms(statistics.median(idle)),
                          statistics.median(busy) /
                          statistics.median(idle)))

    if os.access(cdp.CHROMIUM, os.X_OK):
        b = cdp.Browser(tmp)
        try:
            name, value = c.cookie.split('=', 1)
            b.call('Network.enable')
            b.call('Network.setCookie', name=name, value=value,
                   url='http://127.0.0.1:%d/' % port)
            loads = []
            for _ in range(6):
                t = time.perf_counter()
                b.navigate('http://127.0.0.1:%d/' % port)
                n = b.wait('document.querySelectorAll(".host[data-host]")'
                           '.length >= %d' % HOSTS, 10, 0.01)
                loads.append(time.perf_counter() - t)
                if not n:
                    raise RuntimeError('the grid did not show %d hosts' %
                                       HOSTS)
            print('  chromium: page load to %d host cards drawn: median %s '
                  '(%d runs after a warm-up)' % (
                      HOSTS, ms(statistics.median(loads[1:])),
                      len(loads) - 1))
        finally:
            b.close()
    else:
        print('  chromium: not installed, no browser figure')
    load.send_signal(signal.SIGTERM)
    return 0


if __name__ == '__main__':
    sys.exit(main())
