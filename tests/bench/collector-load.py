#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The collector under load, side by side with rsyslog in the same run.

labwatch: the real collector on a fresh folder, fed by tests/tools/lw-load
(100 and 1,000 agents, then 200 agents x 10,000 records of 200 bytes three
times), once per --sync mode the collector's --help lists, in plaintext
(--insecure); with --sync batch the same runs go over TLS as well, each TLS
run right after its plaintext twin.  Records per second count records
stored and acknowledged; the stored count is checked against the logs (and
by tests/lwcheck.py on the first 200-agent run).
rsyslog: rsyslogd from the Debian package with its own configuration (imtcp
on a loopback port, one dynafile per host name), the same 200 connections
and 2 M lines from lw-load --syslog, timed until every line is in the files.
Then 1,000 agents connecting at once (a lab booting), over TLS and in
plaintext: the time until all are WELCOMEd and the collector's CPU time.
Then 10,000 idle agent connections and the collector's memory.
The index (an SQLite database the collector writes from a thread of its
own, on by default): the 200-agent run with the index on and with
--no-index, interleaved, the ratio of their medians (goal: on within 20% of
off), and how many records the index got before the collector stopped
(the rest wait in its spill file for the next start, or, past 1 GiB, were
counted as missed: the logs have them).  BENCH_PART=index runs only that comparison.

TLS: a lab CA made by scripts/labwatch-ca, the collector's certificate from
it (for 127.0.0.1), and the agents' certificates signed by openssl with that
CA, HOSTS_PER_CERT DNS names each (lw-load picks the one naming its host):
issuing one per host would take a minute.  Every lw-load connection comes
from its own loopback address (127.1.x.y), as from its own PC, and keeps
within the collector's default --max-pending; the 1,000-agent burst raises
--max-pending to let them all handshake at once.

Everything runs on 127.0.0.1 in a temporary folder, bounded in time, and is
stopped and removed at the end, failure or not.  Env B is the build folder.
"""

import atexit
import os
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get('B', 'build'))
COLLECTOR = os.path.join(BUILD, 'labwatch-collector')
LOAD = os.path.join(BUILD, 'tests', 'lw-load')
sys.path.insert(0, os.path.join(ROOT, 'tests'))
import lwcheck  # noqa: E402

SIZE = 200              # bytes a record
WINDOW = 1000           # unacknowledged records per connection
REPEAT = 3              # runs of the main comparison, median quoted
MAIN_AGENTS, MAIN_RECORDS = 200, 10000
IDLE_AGENTS = 10000
BURST_AGENTS = 1000     # connecting at once, TLS and plaintext
TLS_SYNC = 'batch'      # the --sync mode also measured over TLS
HOSTS_PER_CERT = 10     # DNS names in each agent certificate
PENDING = 256           # the collector's default --max-pending
LOAD_TIMEOUT = 90       # seconds an rsyslog run may take
RUN_CAP = 20            # seconds of one labwatch run: a slow --sync mode
                        # is measured on what was acked by then
TICK = os.sysconf('SC_CLK_TCK')

procs = []
TMP = tempfile.mkdtemp(prefix='lw-bench-')
CA = os.path.join(TMP, 'ca')
LABWATCH_CA = os.path.join(ROOT, 'scripts', 'labwatch-ca')


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda s, f: sys.exit('killed by signal'))


def say(msg):
    print(msg)
    sys.stdout.flush()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def raise_nofile():
    """Child setup: room for IDLE_AGENTS descriptors."""
    want = IDLE_AGENTS * 3    # the collector holds a socket and a log each
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start(args, name, **kw):
    name = '%s.%d' % (name, len(procs))    # a fresh stderr file each
    err = open(os.path.join(TMP, name + '.stderr'), 'wb')
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stderr=err,
                         preexec_fn=raise_nofile, **kw)
    err.close()
    p.name = name
    procs.append(p)
    return p


def stderr_of(p):
    with open(os.path.join(TMP, p.name + '.stderr'), 'rb') as f:
        return f.read().decode('utf-8', 'replace')


def stop(p, timeout=10):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_until(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


def cpu_seconds(pid):
    """User + system CPU of a process (all threads), in seconds."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def mem_kib(pid, key):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1])
    return 0


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def keyvals(line):
    return dict(kv.split('=', 1) for kv in line.split() if '=' in kv)


def run_quiet(args):
    p = subprocess.run(args, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError('%s: %s' % (' '.join(args[:3]), p.stderr[-300:]))


AGENT_EXT = '''[ ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = %s
'''


def make_certs(agents):
    """The lab CA, the collector's certificate, and agent certificates for
    load0001..agents (HOSTS_PER_CERT names each, one shared key); returns
    (collector options, lw-load options)."""
    run_quiet([LABWATCH_CA, 'init', CA])
    run_quiet([LABWATCH_CA, 'server', CA, '127.0.0.1'])
    d = os.path.join(TMP, 'agent-certs')
    os.mkdir(d)
    key, csr = os.path.join(d, 'load.key'), os.path.join(d, 'load.csr')
    run_quiet(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt',
               'ec_paramgen_curve:P-256', '-out', key])
    os.chmod(key, 0o600)
    run_quiet(['openssl', 'req', '-new', '-key', key, '-subj',
               '/OU=host/CN=lw-load', '-out', csr])
    load_args = ['--tls-ca', os.path.join(CA, 'ca.crt'), '--tls-key', key]
    for first in range(1, agents + 1, HOSTS_PER_CERT):
        names = range(first, min(first + HOSTS_PER_CERT, agents + 1))
        ext, crt = (os.path.join(d, 'load%04d.%s' % (first, x))
                    for x in ('cnf', 'crt'))
        with open(ext, 'w') as f:
            f.write(AGENT_EXT % ', '.join('DNS:load%04d' % i
                                          for i in names))
        run_quiet(['openssl', 'x509', '-req', '-in', csr, '-CA',
                   os.path.join(CA, 'ca.crt'), '-CAkey',
                   os.path.join(CA, 'ca.key'), '-set_serial',
                   str(0x10000 + first), '-days', '2', '-extfile', ext,
                   '-extensions', 'ext', '-out', crt])
        load_args += ['--tls-cert', crt]
    srv = os.path.join(CA, 'servers', '127.0.0.1')
    coll_args = ['--tls-ca', os.path.join(CA, 'ca.crt'), '--tls-cert',
                 srv + '.crt', '--tls-key', srv + '.key', '--tls-crl',
                 os.path.join(CA, 'crl.pem')]
    return coll_args, load_args


def collector_features():
    """(sync modes, whether --state-dir exists) from the collector's --help."""
    out = subprocess.run([COLLECTOR, '--help'], capture_output=True,
                         text=True, timeout=10).stdout
    modes = []
    for line in out.splitlines():
        if '--sync' in line:
            modes = [m for m in ('always', 'batch', 'never') if m in line]
    return modes or [None], '--state-dir' in out


SYNC_MODES, HAS_STATE_DIR = collector_features()
# Options for TLS, from make_certs(): 'collector' and 'load'.
TLS = {}


def load_args(port, agents, tls):
    """lw-load's options for agents connecting to port, each from its own
    address, plaintext or TLS."""
    return [LOAD, '--connect', '127.0.0.1:%d' % port, '--agents',
            str(agents), '--sources', str(agents)] + \
        (TLS['load'] if tls else [])


def start_collector(extra=(), tls=False):
    """A fresh collector on a fresh log folder; returns (proc, port, dir)."""
    port = free_port()
    logdir = tempfile.mkdtemp(prefix='logs-', dir=TMP)
    args = [COLLECTOR, '-f', '-l', '127.0.0.1:%d' % port, '-d', logdir,
            '--format', 'text'] + list(extra) + \
        (TLS['collector'] if tls else ['--insecure'])
    statedir = None
    if HAS_STATE_DIR:
        statedir = tempfile.mkdtemp(prefix='state-', dir=TMP)
        args += ['--state-dir', statedir]
    p = start(args, 'collector')
    p.statedir = statedir
    if not wait_until(lambda: 'listening on' in stderr_of(p) or
                      p.poll() is not None, 10) or p.poll() is not None:
        raise RuntimeError('collector did not start: ' + stderr_of(p)[-500:])
    return p, port, logdir


def count_in_logs(logdir, needle):
    n = 0
    for name in os.listdir(logdir):
        with open(os.path.join(logdir, name), 'rb') as f:
            n += f.read().count(needle)
    return n


def index_count(statedir):
    """Records in the index a collector left (None: no index)."""
    path = os.path.join(statedir or '', 'index.db')
    if not statedir or not os.path.exists(path):
        return None
    import sqlite3
    db = sqlite3.connect(path)
    try:
        return db.execute('SELECT count(*) FROM events WHERE event = '
                          "'load.test'").fetchone()[0]
    finally:
        db.close()


def labwatch_run(sync, agents, records, check=False, tls=False, more=()):
    """One lw-load run against a fresh collector; returns a result row."""
    extra = (['--sync', sync] if sync else []) + list(more)
    coll, port, logdir = start_collector(extra, tls)
    base_kib = mem_kib(coll.pid, 'VmRSS')
    cpu0, load0 = cpu_seconds(coll.pid), children_cpu()
    out = subprocess.run(load_args(port, agents, tls) +
                         ['--records', str(records), '--size', str(SIZE),
                          '--window', str(WINDOW), '--connecting',
                          str(PENDING), '--timeout', str(RUN_CAP)],
                         capture_output=True, text=True, timeout=RUN_CAP + 30)
    cpu, load_cpu = cpu_seconds(coll.pid) - cpu0, children_cpu() - load0
    hwm = mem_kib(coll.pid, 'VmHWM')
    stop(coll)
    kv = keyvals(out.stdout.strip().splitlines()[-1] if out.stdout else '')
    row = {'system': 'labwatch', 'link': 'tls' if tls else 'plain',
           'sync': sync or 'default', 'agents': agents,
           'records': agents * records,
           'seconds': float(kv.get('seconds', 0)),
           'rate': float(kv.get('records_per_s', 0)),
           'p99_ms': float(kv.get('p99_ms', 0)),
           'cpu_s': cpu, 'hwm_kib': hwm,
           'per_conn_kib': max(0, hwm - base_kib) / agents,
           'errors': int(kv.get('errors', -1))}
    stored = count_in_logs(logdir, b' load.test seq=')
    acked = int(kv.get('acked', 0))
    capped = 'stopped before the end' in out.stderr and \
        row['errors'] == 0 and acked > 0
    row['note'] = '%sstored %d acked %d, lw-load cpu %.1f s' % (
        'time cap %d s: ' % RUN_CAP if capped else '', stored, acked,
        load_cpu)
    row['indexed'] = index_count(coll.statedir)
    if row['indexed'] is not None:
        row['note'] += ', indexed %d' % row['indexed']
    if not capped and (out.returncode != 0 or acked != agents * records) \
            or stored < acked:
        row['note'] += ' FAILED: ' + (out.stderr.strip()[-200:] or
                                      'rc %d' % out.returncode)
        row['failed'] = True
    if check:
        problems = lwcheck.check_dir(logdir, expect_last=None if capped
                                     else records)
        row['note'] += ', lwcheck %s' % ('ok' if not problems else
                                         'FAILED: ' + problems[0])
        row['failed'] = row.get('failed') or bool(problems)
    shutil.rmtree(logdir, ignore_errors=True)
    return row


RSYSLOG_CONF = '''\
global(workDirectory="{work}")
module(load="imtcp" MaxSessions="2000")
template(name="perhost" type="string" string="{logs}/%HOSTNAME%.log")
ruleset(name="bench") {{
  action(type="omfile" dynaFile="perhost" dynaFileCacheSize="1000"
         template="RSYSLOG_FileFormat")
}}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="bench")
'''


def ensure_rsyslog():
    if shutil.which('rsyslogd') or os.path.exists('/usr/sbin/rsyslogd'):
        return True
    say('# rsyslogd missing: installing the Debian package rsyslog')
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    for cmd in (['apt-get', 'update', '-qq'],
                ['apt-get', 'install', '-y', '-qq', '--no-install-recommends',
                 'rsyslog']):
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300)
    return os.path.exists('/usr/sbin/rsyslogd')


def file_sizes(d):
    return sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))


def rsyslog_run(agents, records):
    """The same volume through rsyslog; timed until every line is stored."""
    d = tempfile.mkdtemp(prefix='rsyslog-', dir=TMP)
    logs, work = os.path.join(d, 'logs'), os.path.join(d, 'work')
    os.mkdir(logs)
    os.mkdir(work)
    port = free_port()
    conf = os.path.join(d, 'rsyslog.conf')
    with open(conf, 'w') as f:
        f.write(RSYSLOG_CONF.format(work=work, logs=logs, port=port))
    rs = start(['/usr/sbin/rsyslogd', '-n', '-f', conf, '-i',
                os.path.join(d, 'rsyslogd.pid')], 'rsyslogd')

    def listening():
        try:
            socket.create_connection(('127.0.0.1', port), 0.2).close()
            return True
        except OSError:
            return False
    if not wait_until(listening, 10) or rs.poll() is not None:
        raise RuntimeError('rsyslogd did not start: ' + stderr_of(rs)[-500:])
    cpu0, load0 = cpu_seconds(rs.pid), children_cpu()
    load = start([LOAD, '--syslog', '--connect', '127.0.0.1:%d' % port,
                  '--agents', str(agents), '--records', str(records),
                  '--size', str(SIZE), '--timeout', str(LOAD_TIMEOUT)],
                 'lw-load-syslog', stdout=subprocess.PIPE, text=True)
    # Stored means in the files: wait until they stop growing.
    last_size, last_change = -1, time.monotonic()
    deadline = time.monotonic() + LOAD_TIMEOUT
    while time.monotonic() < deadline:
        size = file_sizes(logs)
        now = time.monotonic()
        if size != last_size:
            last_size, last_change = size, now
        elif load.poll() is not None and now - last_change > 1.5:
            break
        time.sleep(0.05)
    out = load.communicate(timeout=30)[0]
    load_cpu = children_cpu() - load0
    kv = keyvals(out.strip().splitlines()[-1] if out else '')
    cpu = cpu_seconds(rs.pid) - cpu0
    hwm = mem_kib(rs.pid, 'VmHWM')
    lines = count_in_logs(logs, b'\n')
    stop(rs)
    start_t = float(kv.get('send_start', 0))
    seconds = last_change - start_t if start_t else 0
    row = {'system': 'rsyslog', 'link': 'plain', 'sync': 'none',
           'agents': agents,
           'records': agents * records, 'seconds': seconds,
           'rate': lines / seconds if seconds > 0 else 0, 'p99_ms': None,
           'cpu_s': cpu, 'hwm_kib': hwm, 'per_conn_kib': None,
           'errors': int(kv.get('errors', -1)),
           'note': 'stored %d of %d, %d files, sent in %.2f s, lw-load '
                   'cpu %.1f s' % (lines, agents * records,
                                   len(os.listdir(logs)),
                                   float(kv.get('seconds', 0)), load_cpu)}
    if lines != agents * records or load.returncode != 0:
        row['failed'] = True
    shutil.rmtree(d, ignore_errors=True)
    return row


def idle_run(n):
    """n idle agent connections: the collector's memory."""
    coll, port, logdir = start_collector(['--max-conns', str(n + 1000)])
    time.sleep(0.3)
    base_kib = mem_kib(coll.pid, 'VmRSS')
    load = start(load_args(port, n, False) +
                 ['--idle', '--connecting', str(PENDING)], 'lw-load-idle',
                 stdout=subprocess.PIPE, text=True)
    ready = load.stdout.readline()  # "ready ..." once all are in
    time.sleep(2)
    rss = mem_kib(coll.pid, 'VmRSS')
    with open('/proc/%d/limits' % coll.pid) as f:
        nofile = int(re.search(r'Max open files\s+(\d+)', f.read()).group(1))
    hwm = mem_kib(coll.pid, 'VmHWM')
    alive = coll.poll() is None
    stop(load)
    summary = load.stdout.read()
    stop(coll)
    kv = keyvals(ready)
    shutil.rmtree(logdir, ignore_errors=True)
    return {'n': n, 'connected': int(kv.get('connected', 0)),
            'errors': int(kv.get('errors', -1)), 'base_kib': base_kib,
            'rss_kib': rss, 'hwm_kib': hwm, 'alive': alive,
            'nofile': nofile,
            'summary': summary.strip()}


def burst_run(n, tls):
    """n agents connecting at once to a fresh collector: the seconds until
    all are WELCOMEd, and the CPU the collector spent meanwhile."""
    coll, port, logdir = start_collector(['--max-pending', str(n)], tls)
    cpu0 = cpu_seconds(coll.pid)
    load = start(load_args(port, n, tls) + ['--idle', '--connecting', str(n)],
                 'lw-load-burst', stdout=subprocess.PIPE, text=True)
    ready = ''
    if select.select([load.stdout], [], [], LOAD_TIMEOUT)[0]:
        ready = load.stdout.readline()    # "ready ..." once all are in
    cpu = cpu_seconds(coll.pid) - cpu0
    load_cpu = cpu_seconds(load.pid) if load.poll() is None else 0
    stop(load)
    stop(coll)
    shutil.rmtree(logdir, ignore_errors=True)
    kv = keyvals(ready)
    r = {'tls': tls, 'connected': int(kv.get('connected', 0)),
         'errors': int(kv.get('errors', -1)),
         'seconds': float(kv.get('connect_s', 0)), 'cpu_s': cpu,
         'load_cpu_s': load_cpu}
    r['failed'] = r['connected'] != n or r['errors'] != 0
    if r['failed']:
        say('# burst %s FAILED: %s %s' % ('tls' if tls else 'plain',
                                           ready.strip(),
                                           stderr_of(load)[-300:]))
    return r


def median_of(rows, key):
    return statistics.median(r[key] for r in rows)


def fmt_row(r):
    p99 = '%.1f' % r['p99_ms'] if r['p99_ms'] is not None else '-'
    per = '%.1f' % r['per_conn_kib'] if r['per_conn_kib'] is not None \
        else '-'
    cpu_pct = 100 * r['cpu_s'] / r['seconds'] if r['seconds'] else 0
    return '%-8s %-5s %-7s %6d %9d %7.2f %10.0f %8s %6.1f %5.0f%% %8.1f ' \
        '%8s  %s' % (
        r['system'], r['link'], r['sync'], r['agents'], r['records'],
        r['seconds'],
        r['rate'], p99, r['cpu_s'], cpu_pct, r['hwm_kib'] / 1024, per,
        r['note'])


HEADER = '%-8s %-5s %-7s %6s %9s %7s %10s %8s %6s %6s %8s %8s  %s' % (
    'system', 'link', 'sync', 'agents', 'records', 'seconds', 'records/s',
    'p99 ms', 'cpu s', 'cpu', 'peakMiB', 'KiB/conn', 'check')


def index_part():
    """The 200-agent run with the index on and off, interleaved."""
    say('')
    say('index on / off, sync=batch plaintext, %d agents x %d records, %d '
        'runs each, interleaved:' % (MAIN_AGENTS, MAIN_RECORDS, REPEAT))
    say(HEADER)
    runs, failed = {True: [], False: []}, False
    for i in range(REPEAT):
        for on in (True, False):
            r = labwatch_run('batch', MAIN_AGENTS, MAIN_RECORDS,
                             more=() if on else ['--no-index'])
            r['sync'] = 'idx-on' if on else 'idx-off'
            say(fmt_row(r))
            runs[on].append(r)
            failed = failed or r.get('failed')
    ok = {k: [r for r in v if not r.get('failed')] for k, v in runs.items()}
    if ok[True] and ok[False]:
        on, off = median_of(ok[True], 'rate'), median_of(ok[False], 'rate')
        idx = statistics.median(r['indexed'] or 0 for r in ok[True])
        say('  index on %10.0f records/s, off %10.0f: on/off %.2f, goal at '
            'least 0.80: %s; the index got %d of %d records (median) '
            'before the stop, the rest spilled for the next start' % (
                on, off, on / off, 'met' if on / off >= 0.8 else 'NOT met',
                idx, MAIN_AGENTS * MAIN_RECORDS))
    return failed


def main():
    for path in (COLLECTOR, LOAD):
        if not os.access(path, os.X_OK):
            sys.exit('%s missing: make B=%s all tests' % (path, BUILD))
    if os.environ.get('BENCH_PART') == 'index':
        return 1 if index_part() else 0
    t0 = time.monotonic()
    say('collector-load: %s, lw-load %d-byte records, window %d, '
        'sync modes %s, --state-dir %s' % (
            COLLECTOR, SIZE, WINDOW,
            ', '.join(m or 'default' for m in SYNC_MODES),
            'yes' if HAS_STATE_DIR else 'not supported'))
    t = time.monotonic()
    TLS['collector'], TLS['load'] = make_certs(BURST_AGENTS)
    say('TLS: lab CA by labwatch-ca, %d agent certificates of %d names '
        'each (%.1f s to make)' % (TLS['load'].count('--tls-cert'),
                                   HOSTS_PER_CERT, time.monotonic() - t))
    say(HEADER)
    rows, failed = [], False
    main_rates = {}
    tls_sync = TLS_SYNC if TLS_SYNC in SYNC_MODES else SYNC_MODES[0]
    for sync in SYNC_MODES:
        links = (False, True) if sync == tls_sync else (False,)
        for agents, records in ((100, 10000), (1000, 1000)):
            for tls in links:
                r = labwatch_run(sync, agents, records, tls=tls)
                say(fmt_row(r))
                rows.append(r)
        for i in range(REPEAT):
            for tls in links:
                r = labwatch_run(sync, MAIN_AGENTS, MAIN_RECORDS,
                                 check=i == 0, tls=tls)
                say(fmt_row(r))
                rows.append(r)
                main_rates.setdefault((sync, tls), []).append(r)
    rs_rows = []
    if ensure_rsyslog():
        for i in range(REPEAT):
            r = rsyslog_run(MAIN_AGENTS, MAIN_RECORDS)
            say(fmt_row(r))
            rs_rows.append(r)
    else:
        say('# rsyslog: not measured, the package could not be installed')
    failed = any(r.get('failed') for r in rows + rs_rows)

    say('')
    say('median of %d runs (failed ones left out), %d agents x %d records '
        'of %d bytes:' % (REPEAT, MAIN_AGENTS, MAIN_RECORDS, SIZE))
    rs_rows = [r for r in rs_rows if not r.get('failed')]
    rs_med = statistics.median(r['rate'] for r in rs_rows) if rs_rows \
        else None
    if rs_rows:
        say('  rsyslog (stored, no ack): %10.0f records/s, cpu %.1f s' % (
            rs_med, statistics.median(r['cpu_s'] for r in rs_rows)))
    meds = {}
    for (sync, tls), rs in main_rates.items():
        label = 'sync=%-7s %-5s' % (sync or 'default',
                                    'tls' if tls else 'plain')
        rs = [r for r in rs if not r.get('failed')]
        if not rs:
            say('  labwatch %s: every run failed' % label)
            continue
        med = meds[(sync, tls)] = median_of(rs, 'rate')
        say('  labwatch %s (stored+acked): %10.0f records/s, p99 '
            '%.1f ms, cpu %.1f s%s' % (
                label, med, median_of(rs, 'p99_ms'), median_of(rs, 'cpu_s'),
                ', labwatch/rsyslog %.2f' % (med / rs_med) if rs_med
                else ''))
    tls_med, plain_med = meds.get((tls_sync, True)), meds.get((tls_sync,
                                                               False))
    if tls_med and plain_med:
        ratio = tls_med / plain_med
        say('  TLS / plaintext (sync=%s): %.2f, goal at least 0.80: %s' % (
            tls_sync, ratio, 'met' if ratio >= 0.8 else 'NOT met'))
    if tls_med and rs_med:
        say('  TLS / rsyslog plaintext: %.2f, goal above 1: %s' % (
            tls_med / rs_med, 'met' if tls_med > rs_med else 'NOT met'))

    bursts = {True: [], False: []}
    for i in range(REPEAT):
        for tls in (True, False):
            bursts[tls].append(burst_run(BURST_AGENTS, tls))
    say('')
    say('%d agents connecting at once (--max-pending %d, an address each), '
        'median of %d:' % (BURST_AGENTS, BURST_AGENTS, REPEAT))
    cpu = {}
    for tls, rs in bursts.items():
        failed = failed or any(r['failed'] for r in rs)
        rs = [r for r in rs if not r['failed']]
        if not rs:
            say('  %-5s: every run failed' % ('tls' if tls else 'plain'))
            continue
        cpu[tls] = median_of(rs, 'cpu_s')
        say('  %-5s: all WELCOMEd in %.2f s, collector cpu %.2f s (%.2f ms '
            'an agent), lw-load cpu %.2f s' % (
                'tls' if tls else 'plain', median_of(rs, 'seconds'),
                cpu[tls], 1000 * cpu[tls] / BURST_AGENTS,
                median_of(rs, 'load_cpu_s')))
    if len(cpu) == 2:
        say('  TLS handshakes cost the collector %.2f ms of cpu an agent' %
            (1000 * (cpu[True] - cpu[False]) / BURST_AGENTS))

    failed = index_part() or failed
    idle = idle_run(IDLE_AGENTS)
    per = (idle['rss_kib'] - idle['base_kib']) / max(1, idle['connected'])
    say('')
    say('idle: %d of %d agents connected (%d errors), collector RSS %.1f '
        'MiB (%.1f MiB before), %.2f KiB per connection, peak %.1f MiB%s' % (
            idle['connected'], idle['n'], idle['errors'],
            idle['rss_kib'] / 1024, idle['base_kib'] / 1024, per,
            idle['hwm_kib'] / 1024,
            '' if idle['alive'] else ', COLLECTOR DIED'))
    if idle['connected'] != idle['n'] and idle['nofile'] < 2 * idle['n'] + 100:
        say('  (the collector may open %d descriptors here and holds a socket '
            'and a host log per agent: %d agents need more; raising the hard '
            'limit needs CAP_SYS_RESOURCE)' % (idle['nofile'], idle['n']))
    elif idle['connected'] != idle['n'] or not idle['alive']:
        failed = True
    say('took %.0f s' % (time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
