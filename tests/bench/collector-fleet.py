#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""5,000 simulated agents at a lab's rate on one collector over TLS.

The real collector (a fresh folder, the default --sync) takes AGENTS
connections from tests/tools/lw-load, each over TLS with its own host name
and loopback address, each sending at a lab PC's pace: RATE records a
second (spread over the second across the agents) for DURATION seconds,
plus BURST records at once every BURST_EVERY seconds, a tenth of the lab at
a time (a class opening the same program: 500 PCs x BURST records in the
same instant).  Measured: the collector's CPU (user + system from
/proc/PID/stat) while the agents connect and while they send, its peak
memory (VmHWM), the acknowledgement latency of every record (lw-load, from
handing it to the socket to the ACK that covers it: p50, p99), and that the
logs hold every record.  Two runs side by side: --sync batch (the default:
a record is acknowledged once a syncer thread has made its log durable:
an fdatasync per log written since the last round, or one syncfs per
filesystem once a round has 16 logs or more) and --sync never (acknowledged once written).

Descriptors: the collector raises its soft RLIMIT_NOFILE to the hard one
and keeps a quarter for host logs; the bench raises the limits of both it
and lw-load to 30,000 (to the hard limit where it may not go above).  The collector's defaults that matter here: --max-conns
4096 is below 5,000 (the bench passes AGENTS + 1,000; a real lab of 5,000
PCs on one collector needs the same in collector.conf), and --max-pending
256 with --max-pending-per-addr 16 (lw-load keeps CONNECTING handshakes
under way, each from its own address, so none is closed).

The helpers (certificates, starting the collector, /proc readings) are
tests/bench/collector-load.py's.  Env B is the build folder;
FLEET_AGENTS and FLEET_SECONDS change the size (for a quick look).
"""

import importlib.util
import os
import re
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    'collector_load', os.path.join(HERE, 'collector-load.py'))
cl = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cl)

AGENTS = int(os.environ.get('FLEET_AGENTS', 5000))
RATE = 1                # records a second per agent
DURATION = int(os.environ.get('FLEET_SECONDS', 60))    # of sending
BURST, BURST_EVERY = 20, 20
CONNECTING = 200        # handshakes at once, under --max-pending 256
CONNECT_TIMEOUT = 180   # seconds for every agent to be WELCOMEd
SYNCS = ('batch', 'never')  # the default, and no fdatasync: what it costs
cl.HOSTS_PER_CERT = 100     # names per agent certificate: 50 certificates


def fleet_run(sync, records):
    """One run on a fresh collector with --sync sync; returns its figures."""
    coll, port, logdir = cl.start_collector(
        ['--max-conns', str(AGENTS + 1000), '--sync', sync], tls=True)
    with open('/proc/%d/limits' % coll.pid) as f:
        nofile = int(re.search(r'Max open files\s+(\d+)', f.read()).group(1))
    r = {'sync': sync, 'nofile': nofile,
         'rss0': cl.mem_kib(coll.pid, 'VmRSS')}
    cpu0 = cl.cpu_seconds(coll.pid)
    load = cl.start(cl.load_args(port, AGENTS, True) + [
        '--rate', str(RATE), '--duration', str(DURATION), '--burst',
        str(BURST), '--burst-every', str(BURST_EVERY), '--connecting',
        str(CONNECTING), '--window', '1000', '--timeout',
        str(CONNECT_TIMEOUT + DURATION * 3)], 'lw-load-fleet',
        stdout=subprocess.PIPE, text=True)
    sending = ''
    if select.select([load.stdout], [], [], CONNECT_TIMEOUT)[0]:
        sending = load.stdout.readline()
    t_send = time.monotonic()
    cpu1 = cl.cpu_seconds(coll.pid)
    r['rss1'] = cl.mem_kib(coll.pid, 'VmRSS')
    r['load_cpu'] = cl.cpu_seconds(load.pid) if load.poll() is None else 0
    summary = ''
    if sending.startswith('sending') and \
            select.select([load.stdout], [], [], DURATION * 3)[0]:
        summary = load.stdout.readline()
    r['secs'] = time.monotonic() - t_send
    alive = coll.poll() is None
    cpu2 = cl.cpu_seconds(coll.pid) if alive else cpu1
    r['hwm'] = cl.mem_kib(coll.pid, 'VmHWM') if alive else 0
    load.wait(10)
    cl.stop(coll)
    r['stored'] = cl.count_in_logs(logdir, b' load.test ')
    cl.shutil.rmtree(logdir, ignore_errors=True)
    r['kv'], r['sk'] = cl.keyvals(summary), cl.keyvals(sending)
    r['acked'] = int(r['kv'].get('acked', 0))
    r['cpu_connect'], r['cpu_send'] = cpu1 - cpu0, cpu2 - cpu1
    r['failed'] = not (alive and r['acked'] == records * AGENTS and
                       r['stored'] == r['acked'] and
                       int(r['kv'].get('errors', 1)) == 0)
    if r['failed']:
        cl.say('# %s FAILED: %s %s %s' % (sync, sending.strip(),
                                         summary.strip(),
                                         cl.stderr_of(load)[-300:]))
    return r


def report(r, records):
    kv, sk, secs = r['kv'], r['sk'], max(r['secs'], 1)
    cl.say('')
    cl.say('--sync %s%s' % (r['sync'], ' (the default)' if r['sync'] ==
                            'batch' else ''))
    cl.say('  connect: %s of %d agents WELCOMEd in %.1f s (%s errors); '
           'collector CPU %.1f s, RSS %.1f MiB -> %.1f MiB' % (
               sk.get('connected', '0'), AGENTS,
               float(sk.get('connect_s', 0)), sk.get('errors', '?'),
               r['cpu_connect'], r['rss0'] / 1024, r['rss1'] / 1024))
    cl.say('  send: %d of %d records acked in %.1f s (%.0f records/s), %d '
           'in the logs' % (r['acked'], records * AGENTS, r['secs'],
                            r['acked'] / secs, r['stored']))
    cl.say('  collector CPU while sending: %.1f s = %.0f%% of one core; '
           'peak RSS %.1f MiB (%.1f KiB per agent over the idle start)' % (
               r['cpu_send'], 100 * r['cpu_send'] / secs, r['hwm'] / 1024,
               (r['hwm'] - r['rss0']) / AGENTS))
    cl.say('  ACK latency per record: p50 %s ms, p99 %s ms' % (
        kv.get('p50_ms', '?'), kv.get('p99_ms', '?')))
    cl.say('  lw-load (sharing the cores) spent %.1f s CPU while connecting; '
           'the collector may open %d descriptors' % (r['load_cpu'],
                                                      r['nofile']))


def main():
    t0 = time.monotonic()
    records = RATE * DURATION + BURST * (DURATION // BURST_EVERY)
    cl.say('%d agents over TLS, %d record/s each for %d s plus %d at once '
           'every %d s (a tenth of them at a time): %d records each, %d '
           'in all; --sync batch (the default: ACK once fdatasync\'d) '
           'beside --sync never (ACK once written)' % (
               AGENTS, RATE, DURATION, BURST, BURST_EVERY, records,
               records * AGENTS))
    cl.TLS['collector'], cl.TLS['load'] = cl.make_certs(AGENTS)
    runs = [fleet_run(sync, records) for sync in SYNCS]
    for r in runs:
        report(r, records)
    if len(runs) == 2 and runs[1]['kv'].get('p99_ms'):
        cl.say('')
        cl.say('p99 ratio batch/never: %.1f' % (
            float(runs[0]['kv']['p99_ms']) /
            max(float(runs[1]['kv']['p99_ms']), 0.01)))
    cl.say('took %.0f s' % (time.monotonic() - t0))
    return 1 if any(r['failed'] for r in runs) else 0


if __name__ == '__main__':
    sys.exit(main())
