#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Forwarding throughput beside the collector's own rate, in one run.

The real collector over TLS (the lab CA of collector-load.py, whose helpers
this reuses), fed by tests/tools/lw-load (AGENTS agents x RECORDS records of
SIZE bytes): once with no output, once forwarding every record to Debian's
rsyslogd over TLS (imtcp with the OpenSSL driver, RFC 5424 octet counting,
one file), format json and format ecs.  For each: the collector's ingest
rate (records stored and acknowledged per second, as lw-load counts them),
its CPU time, and for the forwarding runs the forwarding rate: records in
rsyslog's file over the time from the first record sent until the last one
is there.  REPEAT runs each, medians, and the ratios to the run without
forwarding.  Env B is the build folder.
"""
import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    'collector_load', os.path.join(HERE, 'collector-load.py'))
cl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cl)

AGENTS, RECORDS, SIZE = 50, 4000, 200
WINDOW = 1000
REPEAT = 3
DRAIN_CAP = 60          # seconds forwarding may take after the load

RS_CONF = '''
global(workDirectory="{work}" maxMessageSize="64k")
module(load="imtcp")
template(name="id" type="string" string="%msgid%\\n")
ruleset(name="fwd") {{
  action(type="omfile" file="{out}" template="id")
}}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="fwd"
      streamDriver.name="ossl" streamDriver.mode="1"
      streamDriver.authMode="anon" streamDriver.CAFile="{ca}"
      streamDriver.CertFile="{cert}" streamDriver.KeyFile="{key}")
'''


def start_rsyslog():
    """rsyslogd on TLS; returns (proc, port, output file)."""
    d = tempfile.mkdtemp(prefix='rsyslog-', dir=cl.TMP)
    work, out = os.path.join(d, 'work'), os.path.join(d, 'out.log')
    os.mkdir(work)
    port = cl.free_port()
    srv = os.path.join(cl.CA, 'servers', '127.0.0.1')
    conf = os.path.join(d, 'rsyslog.conf')
    with open(conf, 'w') as f:
        f.write(RS_CONF.format(work=work, out=out, port=port,
                               ca=os.path.join(cl.CA, 'ca.crt'),
                               cert=srv + '.crt', key=srv + '.key'))
    rs = cl.start(['/usr/sbin/rsyslogd', '-n', '-f', conf, '-i',
                   os.path.join(d, 'rsyslogd.pid')], 'rsyslogd')
    # A plain connect to the TLS port is enough to know it listens.
    if not cl.wait_until(lambda: listening(port), 10) or \
            rs.poll() is not None:
        raise RuntimeError('rsyslogd did not start: ' +
                           cl.stderr_of(rs)[-500:])
    return rs, port, out


def listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), 0.2).close()
        return True
    except OSError:
        return False


def arrived(path):
    try:
        with open(path, 'rb') as f:
            return f.read().count(b'load.test\n')
    except FileNotFoundError:
        return 0


def run(fmt):
    """One run: fmt None (no output), 'json' or 'ecs'."""
    rs = out = None
    extra = ['--sync', 'batch']
    if fmt is not None:
        rs, port, out = start_rsyslog()
        extra += ['--forward', 'bench syslog tls://127.0.0.1:%d ca %s name '
                  '127.0.0.1 format %s' % (port, os.path.join(cl.CA,
                                                              'ca.crt'), fmt)]
    coll, cport, _ = cl.start_collector(extra, tls=True)
    if fmt is not None and not cl.wait_until(
            lambda: 'forward bench: connected' in cl.stderr_of(coll), 10):
        raise RuntimeError('no forwarding link: ' +
                           cl.stderr_of(coll)[-500:])
    cpu0 = cl.cpu_seconds(coll.pid)
    t0 = time.monotonic()
    res = subprocess.run(cl.load_args(cport, AGENTS, True) +
                         ['--records', str(RECORDS), '--size', str(SIZE),
                          '--window', str(WINDOW), '--timeout', '120'],
                         capture_output=True, text=True, timeout=150)
    kv = cl.keyvals(res.stdout.strip().splitlines()[-1]
                    if res.stdout else '')
    n = AGENTS * RECORDS
    row = {'fmt': fmt or 'none', 'rate': float(kv.get('records_per_s', 0)),
           'acked': int(kv.get('acked', 0)), 'p99_ms':
           float(kv.get('p99_ms', 0)), 'fwd_rate': None, 'arrived': None}
    if fmt is not None:
        cl.wait_until(lambda: arrived(out) >= n, DRAIN_CAP, 0.1)
        took = time.monotonic() - t0
        row['arrived'] = arrived(out)
        row['fwd_rate'] = row['arrived'] / took
    row['cpu_s'] = cl.cpu_seconds(coll.pid) - cpu0
    cl.stop(coll)
    if rs is not None:
        cl.stop(rs)
    row['failed'] = row['acked'] != n or (fmt is not None and
                                          row['arrived'] < n)
    return row


def main():
    t0 = time.monotonic()
    if not cl.ensure_rsyslog():
        print('rsyslogd is missing and could not be installed')
        return 1
    if not os.path.exists('/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so'):
        print('# rsyslog-openssl missing (scripts/install-deps installs it)')
        return 1
    cl.TLS['collector'], cl.TLS['load'] = cl.make_certs(AGENTS)
    print('forward: %d agents x %d records of %d bytes over TLS, --sync '
          'batch; forwarding over TLS to rsyslogd; median of %d runs'
          % (AGENTS, RECORDS, SIZE, REPEAT))
    rows = {}
    for fmt in (None, 'json', 'ecs'):
        rows[fmt] = [run(fmt) for _ in range(REPEAT)]
    base = statistics.median(r['rate'] for r in rows[None])
    failed = False
    print('%-22s %12s %8s %14s %8s %8s' % ('output', 'ingest rec/s',
                                           'ratio', 'forward rec/s',
                                           'p99 ms', 'cpu s'))
    for fmt, rs in rows.items():
        rate = statistics.median(r['rate'] for r in rs)
        fwd = [r['fwd_rate'] for r in rs if r['fwd_rate'] is not None]
        print('%-22s %12.0f %8.2f %14s %8.1f %8.2f%s' % (
            'none' if fmt is None else 'syslog tls, ' + fmt, rate,
            rate / base if base else 0,
            '%.0f' % statistics.median(fwd) if fwd else '-',
            statistics.median(r['p99_ms'] for r in rs),
            statistics.median(r['cpu_s'] for r in rs),
            '  FAILED' if any(r['failed'] for r in rs) else ''))
        failed |= any(r['failed'] for r in rs)
    print('took %.0f s' % (time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
