#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Forwarding to Kafka: real agents (--selftest-rate) into a collector with
two Kafka outputs (format json and format ecs) on librdkafka's own mock
cluster (tests/tools/lw-kafka-mock: three brokers, no real one runs here).
Every record of every host arrives, key = host, the labwatch_id header =
the record's identity, each host's records in order; then every broker
goes down while the agents keep sending, the collector is stopped and
started again during the outage (its queue on disk holds what waits), the
brokers come back: nothing is lost, and a duplicate is only ever a copy
with the same identity."""
import json
import os
import subprocess
import time

import lwtest
from lwtest import check

MOCK = os.path.join(lwtest.BUILD, 'tests', 'lw-kafka-mock')
HOSTS = ('pc-k1', 'pc-k2', 'pc-k3')
RATE = 40			# records a second per agent


class Mock:
    """lw-kafka-mock: its bootstraps and what it consumed."""

    def __init__(self, topics):
        self.out = os.path.join(lwtest.tmpdir(), 'kafka-mock.out')
        self.proc = lwtest.start([MOCK] + list(topics), 'lw-kafka-mock',
                                 stdout_path=self.out, stdin=subprocess.PIPE)
        self.bootstraps = None
        lwtest.wait_until(lambda: self._lines()[:1] and
                          self._lines()[0].startswith('bootstraps '), 10)
        first = self._lines()[:1]
        if first and first[0].startswith('bootstraps '):
            self.bootstraps = first[0].split(' ', 1)[1]
        check('the mock cluster starts and says its bootstraps',
              self.bootstraps is not None and
              self.bootstraps.count(',') == 2,
              lwtest.stderr_text(self.proc)[-300:])

    def _lines(self):
        try:
            with open(self.out, encoding='utf-8', errors='replace') as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def command(self, line):
        n = len(self._lines())
        self.proc.stdin.write((line + '\n').encode())
        self.proc.stdin.flush()
        return lwtest.wait_until(lambda: 'ok ' + line in self._lines()[n:],
                                 5)

    def messages(self, topic):
        """[(partition, offset, key, id, doc)] consumed from topic."""
        out = []
        for line in self._lines():
            parts = line.split('\t', 6)
            if len(parts) != 7 or parts[0] != 'msg' or parts[1] != topic:
                continue
            try:
                doc = json.loads(parts[6])
            except ValueError:
                doc = None
            out.append((int(parts[2]), int(parts[3]), parts[4], parts[5],
                        doc))
        return out

    def stop(self):
        self.proc.stdin.close()
        lwtest.wait_exit(self.proc, 10)


def json_id(doc):
    return doc.get('record_id')


def json_host(doc):
    return doc.get('host')


def ecs_id(doc):
    return doc.get('event', {}).get('id')


def ecs_host(doc):
    return doc.get('host', {}).get('name')


def logged_seqs(coll_dirs, host):
    """The agent seqs in host's log(s), across the collector's runs."""
    seqs = set()
    for d in coll_dirs:
        for r in lwtest.records_quiet(lwtest.log_path(d, host), 'json'):
            if r.get('seq'):
                seqs.add(int(r['seq']))
    return seqs


def event_of(doc):
    e = doc.get('event')
    return e.get('action', '') if isinstance(e, dict) else e or ''


def agent_seqs(msgs, key, host):
    """Agent seqs of host in arrival order, from the ids HOST/STREAM/SEQ of
    the agent's records (not the collector's own: host.*, lab.*)."""
    out = []
    for m in msgs:
        doc = m[4]
        if doc is None or m[2] != host or \
                event_of(doc).startswith(('host.', 'lab.', 'collector.')):
            continue
        i = key(doc) or ''
        if i.startswith(host + '/'):
            out.append(int(i.rsplit('/', 1)[1]))
    return out


def check_topic(name, msgs, key, hostkey, coll_dirs):
    check('%s: every message is a JSON document' % name,
          msgs and all(m[4] is not None for m in msgs),
          '%d messages' % len(msgs))
    docs = [m for m in msgs if m[4] is not None]
    bad = [m for m in docs if m[2] != hostkey(m[4])]
    check('%s: key = host for every message' % name, not bad,
          repr(bad[:1])[:300])
    bad = [m for m in docs if m[3] != key(m[4]) or not m[3] or m[3] == '-']
    check('%s: the labwatch_id header is the record\'s identity' % name,
          not bad, repr(bad[:1])[:300])
    for host in HOSTS:
        want = logged_seqs(coll_dirs, host)
        seqs = agent_seqs(docs, key, host)
        missing = sorted(want - set(seqs))
        check('%s: every record of %s arrived (%d)' % (name, host,
                                                      len(want)),
              want and not missing,
              '%d missing, first %r' % (len(missing), missing[:5]))
        firsts, seen = [], set()
        for s in seqs:
            if s not in seen:
                seen.add(s)
                firsts.append(s)
        check('%s: %s\'s records in order' % (name, host),
              firsts == sorted(firsts), repr(firsts[:20]))
    copies, bad = {}, None
    for m in docs:
        i = key(m[4])
        if i in copies and copies[i] != m[4]:
            bad = i
        copies[i] = m[4]
    dups = len(docs) - len(copies)
    check('%s: duplicates (%d) only as copies with the same identity'
          % (name, dups), bad is None, repr(bad))
    return dups


def main():
    mock = Mock(('labwatch', 'labwatch-ecs'))
    if mock.bootstraps is None:
        return
    statedir = lwtest.tmpdir('kstate')
    extra = ['--forward', 'k kafka %s labwatch' % mock.bootstraps,
             '--forward', 'e kafka %s labwatch-ecs format ecs'
             % mock.bootstraps,
             # TLS (ca FILE) to the mock's plaintext listeners: refused.
             '--forward', 's kafka %s labwatch ca %s'
             % (mock.bootstraps, lwtest.ca_file())]
    coll = lwtest.start_collector(statedir=statedir, extra=extra,
                                  fmt='json')
    check('the collector opens both Kafka outputs',
          'forward k: kafka %s topic labwatch' % mock.bootstraps in
          lwtest.stderr_text(coll) and 'forward e: kafka' in
          lwtest.stderr_text(coll), lwtest.stderr_text(coll)[-300:])
    check('ca FILE: the output speaks TLS, and says why the plaintext '
          'mock does not answer, without giving up',
          'forward s: kafka %s topic labwatch (TLS)' % mock.bootstraps in
          lwtest.stderr_text(coll) and lwtest.wait_until(
              lambda: 'forward s: kafka' in lwtest.stderr_text(coll) and
              'in state SSL_HANDSHAKE' in lwtest.stderr_text(coll), 5) and lwtest.running(coll), lwtest.stderr_text(coll)[-300:])
    addr = '127.0.0.1:%d' % coll.port
    agents = [lwtest.start_agent(addr, h, extra=['--selftest-rate',
                                                 str(RATE)])
              for h in HOSTS]
    check('records flow into Kafka',
          lwtest.wait_until(lambda: all(
              len(agent_seqs(mock.messages('labwatch'), json_id, h)) >= 40
              for h in HOSTS), 15),
          '%d messages' % len(mock.messages('labwatch')))

    # Every broker goes away; the collector keeps taking records.
    check('the mock takes every broker down', mock.command('down -1'))
    before = {h: len(logged_seqs([coll.logdir], h)) for h in HOSTS}
    time.sleep(2)
    check('with the brokers down, the collector still stores and '
          'acknowledges', all(len(logged_seqs([coll.logdir], h)) >
                              before[h] + RATE for h in HOSTS), repr(before))
    check('... and says the brokers are away, retrying',
          lwtest.wait_until(lambda: 'retrying; records wait in the queue'
                            in lwtest.stderr_text(coll), 5),
          lwtest.stderr_text(coll)[-400:])
    out = subprocess.run([lwtest.LABWATCHCTL, '-s', coll.control,
                          'outputs'], capture_output=True, text=True,
                         timeout=10)
    check('labwatchctl outputs shows the Kafka outputs',
          out.returncode == 0 and 'k (kafka)' in out.stdout and
          'in flight' in out.stdout, out.stdout + out.stderr)
    # Stopped during the outage: a bounded wait, the rest stays queued.
    t0 = time.monotonic()
    rc = lwtest.stop(coll, timeout=15)
    took = time.monotonic() - t0
    check('the collector stops within a bounded time with the brokers '
          'down (%.1f s)' % took, rc == 0 and took < 10, 'rc %r' % rc)
    check('... leaving what waits in its queue',
          'records wait in its queue for the next start' in
          lwtest.stderr_text(coll), lwtest.stderr_text(coll)[-400:])
    logdir1 = coll.logdir
    coll = lwtest.start_collector(port=coll.port, statedir=statedir,
                                  extra=extra, fmt='json',
                                  name='collector-again')
    time.sleep(2)
    check('the mock brings the brokers back', mock.command('up -1'))
    time.sleep(2)
    for a in agents:
        lwtest.stop(a)
    time.sleep(0.5)
    dirs = [logdir1, coll.logdir]
    want = sum(len(logged_seqs(dirs, h)) for h in HOSTS)
    for topic, key in (('labwatch', json_id), ('labwatch-ecs', ecs_id)):
        lwtest.wait_until(lambda: sum(
            len(set(agent_seqs(mock.messages(topic), key, h)))
            for h in HOSTS) >= want, 30)
    dups = check_topic('json', mock.messages('labwatch'), json_id,
                       json_host, dirs)
    lwtest.note('json topic: %d messages, %d duplicates'
                % (len(mock.messages('labwatch')), dups))
    dups = check_topic('ecs', mock.messages('labwatch-ecs'), ecs_id,
                       ecs_host, dirs)
    lwtest.note('ecs topic: %d messages, %d duplicates'
                % (len(mock.messages('labwatch-ecs')), dups))
    ecs = [m[4] for m in mock.messages('labwatch-ecs') if m[4]]
    e = next((d for d in ecs if event_of(d) == 'agent.selftest'), {})
    check('format ecs: @timestamp, event.action, host.name, labwatch.*',
          '@timestamp' in e and e.get('host', {}).get('name') in HOSTS and
          'labwatch' in e, json.dumps(e)[:300])
    conn = [m for m in mock.messages('labwatch') if m[4] and
            event_of(m[4]) == 'host.connect']
    check('the collector\'s own records go too (host.connect)',
          len(conn) >= len(HOSTS), '%d' % len(conn))
    lwtest.stop(coll)
    mock.stop()


if __name__ == '__main__':
    lwtest.run(main)
