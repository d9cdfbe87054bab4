#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Agents with more than one collector (issue 14): --collector A,B.

Two real collectors over TLS (the run's lab CA), two real agents sending
agent.selftest records (--selftest-rate) with --collector A,B.  Collector A
is killed (kill -9): the agents fail over to B and records keep flowing
there, with an agent.collector record (from A, to B) first.  A is
restarted on the same port and folders: the agents probe it, come back,
and say so (agent.collector from B to A, in A's log).  Then the agents stop
and tests/lwcheck.py's check_union reads both log folders: in each, per
host, no number twice or out of order; over both, every number from 1 to
the agent.stop record's at least once.  Also the list's parsing: bad
entries exit 2 with a clear message, at most 8 collectors, --enroll takes
one.  A first collector that is frozen (kill -STOP): the agent leaves it
when the link goes silent and comes back after kill -CONT.  A first
collector that is full (--max-conns 1): the agent it
sends away (BYE 4) goes to B and stays there while A stays busy; one whose
certificate fails the agent's check: the same, the reason names TLS.  Env B is
the build folder (default build).
"""

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import lwcheck  # noqa: E402
import lwtest  # noqa: E402
from lwtest import check, note, stderr_text, stop, tmpdir, \
    wait_until  # noqa: E402

AGENT = lwtest.AGENT
RATE = 100              # agent.selftest records a second, per agent
HOSTS = ('fo1', 'fo2')


class Collector:
    """A collector whose port and folders survive a kill -9."""

    def __init__(self, name):
        self.name = name
        self.port = lwtest.free_port()
        self.logdir = tmpdir(name + '-logs')
        self.statedir = tmpdir(name + '-state')
        self.proc = None
        self.start()

    def start(self):
        self.proc = lwtest.start_collector(
            port=self.port, logdir=self.logdir, statedir=self.statedir,
            name=self.name)

    def addr(self):
        return '127.0.0.1:%d' % self.port


def host_recs(coll, host):
    path = lwtest.log_path(coll.logdir, host)
    return lwtest.records_quiet(path, 'text') if os.path.exists(path) else []


def last_seq(coll, host):
    return max(lwtest.seqs(host_recs(coll, host)) or [0])


def switches(coll, host, to):
    return [r for r in lwtest.events(host_recs(coll, host), 'agent.collector')
            if r.get('to') == to]


def switched(what, agents, to, frm, timeout, reason_ok):
    """Waits until every agent's agent.collector record (frm to to) is in
    to's log, checks it, and that records keep arriving there."""
    hosts = [p.host for p in agents]
    ok = wait_until(lambda: all(switches(to, h, to.addr()) for h in hosts),
                    timeout)
    check('%s: every agent switched to %s (agent.collector in its log)' % (
        what, to.name), ok, [stderr_text(p)[-300:] for p in agents])
    for h in hosts:
        sw = (switches(to, h, to.addr()) or [{}])[0]
        check('%s: %s: agent.collector from %s to %s, position and reason' %
              (what, h, frm.name, to.name),
              sw.get('from') == frm.addr() and reason_ok(sw), sw)
    now = {h: last_seq(to, h) for h in hosts}
    check('%s: records keep arriving at %s' % (what, to.name),
          wait_until(lambda: all(last_seq(to, h) > now[h] + RATE
                                 for h in hosts), 6),
          {h: last_seq(to, h) for h in hosts})


def run_agent(args, timeout=5):
    return subprocess.run([AGENT] + args, capture_output=True, text=True,
                          timeout=timeout, check=False)


def start_agents(a, b, hosts):
    """Agents sending agent.selftest records to --collector A,B."""
    agents = []
    for host in hosts:
        p = lwtest.start_agent(
            '%s,%s' % (a.addr(), b.addr()), host, heartbeat=1,
            extra=['--selftest-rate', str(RATE), '--reconnect-max', '2'])
        p.host = host
        agents.append(p)
    return agents


def stop_and_verify(what, a, b, agents):
    """SIGTERM to the agents, then the logs of both collectors: each number
    once in each, all of them in the union, ending with agent.stop."""
    for p in agents:
        p.send_signal(signal.SIGTERM)
    for p in agents:
        check('%s: %s: exits 0 on SIGTERM' % (what, p.host),
              lwtest.wait_exit(p, timeout=8) == 0,
              stderr_text(p)[-300:])
    problems = lwcheck.check_union([a.logdir, b.logdir], first=1)
    for h in [p.host for p in agents]:
        stops = lwtest.events(host_recs(a, h) + host_recs(b, h),
                              'agent.stop')
        if not check('%s: %s: agent.stop reached a collector' % (what, h),
                     stops):
            continue
        last = int(stops[-1]['seq'])
        mine = [x for x in problems if (' %s ' % h) in (' ' + x)]
        check('%s: %s: seq 1..%d: once in each log, all in the union' % (
            what, h, last), not mine, mine[:3])
        sa = set(lwtest.seqs(host_recs(a, h)))
        sb = set(lwtest.seqs(host_recs(b, h)))
        check('%s: %s: the union ends with agent.stop (%d)' % (what, h, last),
              max(sa | sb) == last, (max(sa | sb), last))
        check('%s: %s: B has a gap at the start (it took over mid-stream) '
              'and A one in the middle' % (what, h), sb and min(sb) > 1 and
              len(sa) < max(sa) and sa and 1 in sa,
              'A %d..%d (%d), B %d..%d (%d)' % (
                  min(sa), max(sa), len(sa), min(sb), max(sb), len(sb)))
        note('%s: %s: A has %d records, B %d, %d in both' % (
            what, h, len(sa), len(sb), len(sa & sb)))
    for c in (a, b):
        check('%s stops cleanly' % c.name, stop(c.proc) == 0)


def parsing():
    """Bad lists exit 2 with a message naming the entry."""
    for value, want in (('127.0.0.1:7514,', 'entry 2: empty'),
                        ('a:1,b', 'entry 2: the port is missing'),
                        ('a:1,b:99999', 'entry 2: port must be'),
                        ('a:1,a:1', 'entry 2: named twice'),
                        (','.join('h%d:1' % i for i in range(9)),
                         'more than 8 entries')):
        r = run_agent(['--collector', value, '-n'])
        check('--collector %s: exit 2 saying "%s"' % (value[:30], want),
              r.returncode == 2 and want in r.stderr,
              'status %d, stderr %r' % (r.returncode, r.stderr[-200:]))
    eight = ','.join('h%d:1' % i for i in range(8))
    r = run_agent(['--collector', eight, '-n'])
    check('--collector with 8 entries is accepted and printed by -n',
          r.returncode == 0 and ('collector ' + eight) in r.stdout,
          'status %d, %r' % (r.returncode, (r.stdout + r.stderr)[-200:]))
    conf = os.path.join(tmpdir('conf'), 'agent.conf')
    with open(conf, 'w') as f:
        f.write('# two collectors\ncollector a:7514,,b:7514\n')
    r = run_agent(['--config', conf, '-n'])
    check('collector a:7514,,b:7514 in agent.conf: exit 2, file:line',
          r.returncode == 2 and (conf + ':2:') in r.stderr and
          'entry 2: empty' in r.stderr, r.stderr[-200:])
    r = run_agent(['--enroll', 'a:7514,b:7514', '-n'])
    check('--enroll with a list: exit 2, enrol with one collector',
          r.returncode == 2 and 'enrol with one collector' in r.stderr,
          r.stderr[-200:])


def failover():
    a, b = Collector('coll-a'), Collector('coll-b')
    agents = start_agents(a, b, HOSTS)

    check('records reach A, the first collector',
          wait_until(lambda: all(last_seq(a, h) > RATE for h in HOSTS), 8),
          [last_seq(a, h) for h in HOSTS])
    check('nothing at B while A works',
          not any(os.path.exists(lwtest.log_path(b.logdir, h))
                  for h in HOSTS))

    a.proc.kill()
    a.proc.wait()
    at_kill = {h: last_seq(a, h) for h in HOSTS}
    note('A killed at seq %s' % at_kill)
    switched('kill -9 of A', agents, b, a, 8,
             lambda sw: sw.get('position') == '2' and sw.get('reason'))
    for p in agents:
        check('%s: the agent logged the switch to B' % p.host,
              'switched from collector %s to %s' % (a.addr(), b.addr())
              in stderr_text(p), stderr_text(p)[-300:])

    a.start()
    switched('A restarted', agents, a, b, 15,
             lambda sw: 'answers again' in sw.get('reason', ''))
    b_after = {h: last_seq(b, h) for h in HOSTS}
    time.sleep(1)
    check('B takes nothing once the agents are back at A',
          {h: last_seq(b, h) for h in HOSTS} == b_after,
          (b_after, {h: last_seq(b, h) for h in HOSTS}))
    for h in HOSTS:
        evs = [r['event'] for r in host_recs(b, h)]
        check('%s: B logged host.connect and then host.disconnect' % h,
              'host.connect' in evs and 'host.disconnect' in evs and
              evs.index('host.disconnect') > evs.index('host.connect'),
              evs[-5:])

    stop_and_verify('kill -9', a, b, agents)


def freeze():
    """kill -STOP of A: the link goes silent and the agent leaves for B
    after its read timeout (three heartbeats and 2 s); its probes of A
    stall until kill -CONT, then it comes back."""
    a, b = Collector('frz-a'), Collector('frz-b')
    agents = start_agents(a, b, ('fz1',))
    check('frozen: records reach A',
          wait_until(lambda: last_seq(a, 'fz1') > RATE, 8))
    a.proc.send_signal(signal.SIGSTOP)
    switched('kill -STOP of A', agents, b, a, 12,
             lambda sw: 'silent' in str(sw.get('reason')))
    a.proc.send_signal(signal.SIGCONT)
    switched('kill -CONT of A', agents, a, b, 15,
             lambda sw: 'answers again' in str(sw.get('reason')))
    stop_and_verify('kill -STOP', a, b, agents)


def busy():
    """A first collector that is full (--max-conns 1) sends the second agent
    away with BYE 4: it goes to B, and its probes of A find it busy."""
    a = lwtest.start_collector(name='busy-a', extra=['--max-conns', '1'])
    b = lwtest.start_collector(name='busy-b')
    addr = ['127.0.0.1:%d' % c.port for c in (a, b)]
    agents = []
    for host in ('fb1', 'fb2'):
        agents.append(lwtest.start_agent(
            ','.join(addr), host, heartbeat=1,
            extra=['--selftest-rate', '10', '--reconnect-max', '1']))
        wait_until(lambda: os.path.exists(lwtest.log_path(a.logdir, 'fb1')),
                   5)

    def recs(c, h):
        path = lwtest.log_path(c.logdir, h)
        return lwtest.records_quiet(path, 'text') \
            if os.path.exists(path) else []
    ok = wait_until(lambda: lwtest.events(recs(b, 'fb2'), 'agent.collector'),
                    8)
    sw = (lwtest.events(recs(b, 'fb2'), 'agent.collector') or [{}])[0]
    check('A full: the second agent went to B, reason BYE 4',
          ok and 'BYE 4' in str(sw.get('reason')) and
          sw.get('from') == addr[0], sw)
    check('the first agent stays at A', not os.path.exists(
        lwtest.log_path(b.logdir, 'fb1')))
    ok = wait_until(lambda: 'still unavailable: busy' in
                    stderr_text(agents[1]), 8)
    check('the second agent probes A and finds it busy', ok,
          stderr_text(agents[1])[-400:])
    n = len(lwtest.seqs(recs(b, 'fb2')))
    check('and keeps sending to B', wait_until(
        lambda: len(lwtest.seqs(recs(b, 'fb2'))) > n + 10, 5))
    for p in agents + [a, b]:
        stop(p)


def tls_failure():
    """A first collector whose certificate does not name the address the
    agent dials: the TLS handshake fails, the agent goes to B and says
    why, and its probes of A fail the same way."""
    cert, key = lwtest.server_cert(('wrong.example',))
    a = lwtest.start_collector(name='tls-a', extra=['--tls-cert', cert,
                                                    '--tls-key', key])
    b = lwtest.start_collector(name='tls-b')
    addr = ['127.0.0.1:%d' % c.port for c in (a, b)]
    agent = lwtest.start_agent(','.join(addr), 'ft1', heartbeat=1, extra=[
        '--selftest-rate', '10', '--reconnect-max', '1'])
    path = lwtest.log_path(b.logdir, 'ft1')
    recs = lwtest.wait_event(path, 'text', 'agent.collector', timeout=8)
    sw = (lwtest.events(recs, 'agent.collector') or [{}])[0]
    check('A fails TLS: the agent went to B, reason names TLS',
          sw.get('from') == addr[0] and 'TLS' in str(sw.get('reason')), sw)
    ok = wait_until(lambda: 'the first) still unavailable: TLS' in
                    stderr_text(agent), 8)
    check('its probes of A fail TLS too, and it stays at B', ok and
          not os.path.exists(lwtest.log_path(a.logdir, 'ft1')),
          stderr_text(agent)[-400:])
    for p in (agent, a, b):
        stop(p)


def main():
    lwtest.step('parsing of the list', parsing)
    lwtest.step('failover and return', failover)
    lwtest.step('a frozen first collector', freeze)
    lwtest.step('a busy first collector', busy)
    lwtest.step('a first collector that fails TLS', tls_failure)


if __name__ == '__main__':
    lwtest.run(main)
