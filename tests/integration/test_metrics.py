#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""--metrics: Prometheus text format over HTTP, read with curl while an
agent runs, checked with promtool when Debian's prometheus is installed."""
import re
import shutil
import socket
import subprocess
import time

import lwtest
from lwtest import check


def scrape(port):
    p = subprocess.run(['curl', '-fsS', '--max-time', '5',
                        'http://127.0.0.1:%d/metrics' % port],
                       capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else ''


def value(text, name):
    m = re.search(r'^%s (\S+)$' % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def main():
    mport = lwtest.free_port()
    coll = lwtest.start_collector(extra=['--metrics', ':%d' % mport])
    off = subprocess.run(['curl', '-fsS', '--max-time', '3',
                          'http://127.0.0.1:%d/nothing' % mport],
                         capture_output=True)
    check('only /metrics is served', off.returncode != 0)
    agent = lwtest.start_agent('127.0.0.1:%d' % coll.port, 'pcm',
                               heartbeat=1, extra=['--selftest-rate', '20'])
    lwtest.wait_event(lwtest.log_path(coll, 'pcm'), 'text', 'agent.selftest',
                      count=10)
    # A peer that is no TLS client: a failed handshake.
    with socket.create_connection(('127.0.0.1', coll.port)) as s:
        s.sendall(b'GET / HTTP/1.0\r\n\r\n' + b'x' * 100)
        s.settimeout(3)
        try:
            s.recv(100)
        except OSError:
            pass
    time.sleep(1.5)   # a heartbeat with the spool depth
    text = scrape(mport)
    check('curl gets the metrics', 'labwatch_agents_connected' in text,
          text[:200])
    check('one agent connected', value(text, 'labwatch_agents_connected')
          == 1, text[:400])
    check('it is online',
          value(text, 'labwatch_agents{state="online"}') == 1)
    n = value(text, 'labwatch_records_total{host="pcm",'
              'event="agent.selftest"}')
    check('records per host and event', n is not None and n >= 10, n)
    b = value(text, 'labwatch_record_bytes_total{host="pcm",'
              'event="agent.start"}')
    check('bytes per host and event', b is not None and b > 30, b)
    cnt = value(text, 'labwatch_ack_latency_seconds_count')
    inf = value(text, 'labwatch_ack_latency_seconds_bucket{le="+Inf"}')
    check('an ACK latency histogram with observations',
          cnt and cnt > 0 and inf == cnt, (cnt, inf))
    check('the failed handshake is counted',
          value(text, 'labwatch_handshake_failures_total') == 1)
    check('write errors: none', value(text, 'labwatch_write_errors_total')
          == 0)
    check('the spool depth the agent reports',
          value(text, 'labwatch_agent_spool_records{host="pcm"}')
          is not None, text[-600:])
    if shutil.which('promtool'):
        p = subprocess.run(['promtool', 'check', 'metrics'], input=text,
                           capture_output=True, text=True)
        check('promtool check metrics', p.returncode == 0,
              p.stdout + p.stderr)
    else:
        lwtest.note('SKIP promtool check metrics: promtool not installed')
    lwtest.stop(agent)
    lwtest.wait_event(lwtest.log_path(coll, 'pcm'), 'text',
                      'host.disconnect')
    text = scrape(mport)
    check('after the agent stops: 0 connected, 1 offline',
          value(text, 'labwatch_agents_connected') == 0 and
          value(text, 'labwatch_agents{state="offline"}') == 1, text[:400])
    lwtest.stop(coll)


lwtest.run(main)
