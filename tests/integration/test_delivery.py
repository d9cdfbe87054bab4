#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Fault injection: every record an agent accepted reaches its host's log
exactly once and in order, whatever fails (issue 5).

Real agents emit agent.selftest records (--selftest-rate) to a real
collector while the test kills the collector (kill -9, three times, with a
torn last line to repair), kills an agent and restarts it on the same state
folder, cuts the network between two namespaces for longer than the idle
timeout, fills the log folder's tmpfs and frees it again, renames the logs
and sends SIGHUP in a loop, and overflows an agent's spool.  Each scenario
then stops the agents with SIGTERM, waits until each agent's agent.stop
record is in the log, and runs tests/lwcheck.py over the log folder.
Env B is the build folder (default build).
"""

import atexit
import os
import random
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import lwcheck  # noqa: E402
import lwtest  # noqa: E402
from lwtest import check, note, running, start, stderr_text, stop, \
    tmpdir, wait_until  # noqa: E402

BUILD = os.path.join(lwtest.ROOT, os.environ.get('B', 'build'))
COLLECTOR = os.path.join(BUILD, 'labwatch-collector')
AGENT = os.path.join(BUILD, 'labwatch-agent')
RATE = 300              # agent.selftest records a second, per agent
NS_C, NS_A = 'lwdel-c', 'lwdel-a'
NET_C, NET_A = '10.77.0.1', '10.77.0.2'


class Collector:
    """A collector whose port, log and state folders survive restarts."""

    def __init__(self, name, sync='batch', fmt='text', logdir=None,
                 idle_timeout=None, netns=None):
        self.name, self.sync, self.fmt = name, sync, fmt
        self.logdir = logdir or tmpdir(name + '-logs')
        self.state = tmpdir(name + '-state')
        self.addr = NET_C if netns else '127.0.0.1'
        self.port = lwtest.free_port()
        self.idle_timeout, self.netns = idle_timeout, netns
        self.proc = None
        self.start()

    def start(self):
        args = [COLLECTOR, '-f', '-l', '%s:%d' % (self.addr, self.port),
                '-d', self.logdir, '--format', self.fmt,
                '--state-dir', self.state, '--sync', self.sync
                ] + lwtest.collector_tls_args()
        if self.idle_timeout:
            args += ['--idle-timeout', str(self.idle_timeout)]
        if self.netns:
            args = ['ip', 'netns', 'exec', self.netns] + args
        p = self.proc = start(args, self.name)
        ok = wait_until(lambda: ' started' in stderr_text(p) or
                        not running(p), 5)
        if not (ok and running(p)):
            raise RuntimeError('%s did not start: %s' % (
                self.name, stderr_text(p)[-300:]))

    def connect_to(self):
        return '%s:%d' % (self.addr, self.port)


def start_agent(coll, host, rate=RATE, spool_max=None, netns=None,
                state=None):
    """Starts a real agent; returns it with .state, its state folder."""
    state = state or tmpdir('state-' + host)
    args = [AGENT, '-f', '--collector', coll.connect_to(), '--host', host,
            '--state-dir', state, '--selftest-rate', str(rate),
            '--heartbeat', '1', '--reconnect-max', '1'] + lwtest.QUIET + \
        lwtest.agent_tls_args(host)
    if spool_max:
        args += ['--spool-max', str(spool_max)]
    if netns:
        args = ['ip', 'netns', 'exec', netns] + args
    p = start(args, 'agent-' + host)
    p.state, p.host = state, host
    return p


def kill_all():
    """Kills what still runs (before a namespace or a mount goes away)."""
    for p in lwtest._procs:
        if running(p):
            p.kill()
            p.wait()


def host_events(logdir, host):
    """The events of a host's logs (rotated ones first), in order."""
    out = []
    for path in lwcheck.log_files(logdir).get(host, []):
        with open(path, 'rb') as f:
            for raw in f.read().splitlines():
                try:
                    out.append(lwcheck.parse_line(raw.decode(
                        'utf-8', 'surrogateescape'))[1])
                except ValueError:
                    out.append(None)
    return out


def stop_agents(scenario, coll, agents, timeout=15):
    """SIGTERM to every agent, then waits for each one's agent.stop to be
    in the log and for the agent to exit."""
    for a in agents:
        if running(a):
            a.send_signal(signal.SIGTERM)

    def all_in():
        logs = lwcheck.scan_dir(coll.logdir)
        return all(a.host in logs and logs[a.host].events.get('agent.stop')
                   for a in agents)
    check('%s: every agent.stop record reached the log within %d s of '
          'SIGTERM' % (scenario, timeout), wait_until(all_in, timeout, 0.2),
          ', '.join('%s: %s' % (h, hl.summary()) for h, hl in
                    lwcheck.scan_dir(coll.logdir).items()))
    for a in agents:
        rc = stop(a, timeout=5)
        check('%s: agent %s exited by itself, status 0' % (scenario, a.host),
              rc == 0, 'status %r; stderr ends: %s' % (
                  rc, stderr_text(a)[-300:]))


def verify(scenario, coll, agents, min_records, dropped=False):
    """lwcheck over the log folder, plus: one stream per host, enough
    records, and agent.dropped records only where the scenario drops."""
    logs = lwcheck.scan_dir(coll.logdir)
    problems = ['%s: %s' % (h, p) for h, hl in logs.items()
                for p in hl.problems]
    check('%s: lwcheck finds every seq exactly once, in order' % scenario,
          not problems, '; '.join(problems[:5]))
    for a in agents:
        hl = logs.get(a.host)
        if not check('%s: %s has a log' % (scenario, a.host), hl is not None):
            continue
        streams = [s for s in hl.streams if s.seqs]
        check('%s: %s: one stream (the agent kept its stream id)' % (
            scenario, a.host), len(streams) == 1, hl.summary())
        last = max([s.last for s in streams] or [0])
        check('%s: %s: at least %d records arrived' % (
            scenario, a.host, min_records), last >= min_records,
            hl.summary())
        ndrop = sum(d[2] or 0 for s in hl.streams for d in s.dropped)
        if dropped:
            check('%s: %s: the spool overflowed and agent.dropped says so' %
                  (scenario, a.host), ndrop > 0, hl.summary())
        else:
            check('%s: %s: nothing dropped' % (scenario, a.host), ndrop == 0,
                  hl.summary())
    return logs


def finish(scenario, coll, agents, min_records, dropped=False):
    """Stops the agents, checks the logs, stops the collector."""
    stop_agents(scenario, coll, agents)
    logs = verify(scenario, coll, agents, min_records, dropped)
    rc = stop(coll.proc)
    check('%s: the collector stopped cleanly on SIGTERM' % scenario,
          rc == 0, 'status %r' % rc)
    return logs


def scenario_collector_kill():
    """kill -9 of the collector three times at random moments; before the
    last restart a torn line is left at the end of a host log."""
    name = 'collector kill -9'
    coll = Collector('c-kill', sync='batch')
    agents = [start_agent(coll, 'kill%d' % i) for i in range(3)]
    rnd = random.Random(os.getpid())
    time.sleep(1)
    for n in range(3):
        time.sleep(rnd.uniform(0.3, 1.2))
        coll.proc.kill()
        coll.proc.wait()
        time.sleep(rnd.uniform(0.1, 0.8))
        if n == 2:
            path = lwtest.log_path(coll.logdir, 'kill0')
            with open(path, 'rb') as f:
                last = f.read().rstrip(b'\n').rsplit(b'\n', 1)[-1]
            with open(path, 'ab') as f:
                f.write(last[:len(last) * 2 // 3])
            note('%s: left a torn line at the end of kill0.log: %r' % (
                name, last[:len(last) * 2 // 3][-40:]))
        coll.start()
    time.sleep(1.5)
    finish(name, coll, agents, 1000)
    # Each restart after a kill closes the sessions the dead one left open.
    for a in agents:
        evs = [r['event'] for r in lwtest.records_quiet(
            lwtest.log_path(coll.logdir, a.host), 'text')
            if r['event'].startswith('host.')]
        pairs = list(zip(evs, evs[1:]))
        recs = [r for r in lwtest.records_quiet(
            lwtest.log_path(coll.logdir, a.host), 'text')
            if r.get('reason') == 'collector-restart']
        check('%s: %s: no host.connect follows another without an end '
              'between (host.disconnect reason=collector-restart x%d)' % (
                  name, a.host, len(recs)),
              ('host.connect', 'host.connect') not in pairs and recs, evs)


def scenario_agent_kill():
    """kill -9 of an agent; restarted on the same state folder it goes on
    with the same stream and resends what was not acknowledged."""
    name = 'agent kill -9'
    coll = Collector('c-akill', sync='batch', fmt='json')
    agents = [start_agent(coll, 'akill%d' % i) for i in range(2)]
    time.sleep(1.5)
    victim = agents[0]
    victim.kill()
    victim.wait()
    time.sleep(0.5)
    agents[0] = start_agent(coll, victim.host, state=victim.state)
    time.sleep(1.5)
    logs = finish(name, coll, agents, 500)
    hl = logs.get(victim.host)
    if hl:
        check('%s: the restarted agent logged a second agent.start' % name,
              hl.events.get('agent.start', 0) == 2, hl.events)


def ip(*args):
    subprocess.run(['ip'] + list(args), check=True, capture_output=True,
                   timeout=10)


def netns_delete():
    for ns in (NS_A, NS_C):
        subprocess.run(['ip', 'netns', 'del', ns], capture_output=True,
                       timeout=10)


def netns_setup():
    netns_delete()
    atexit.register(netns_delete)
    ip('netns', 'add', NS_C)
    ip('netns', 'add', NS_A)
    ip('link', 'add', 'lwdel-vc', 'netns', NS_C, 'type', 'veth', 'peer',
       'name', 'lwdel-va', 'netns', NS_A)
    for ns, dev, addr in ((NS_C, 'lwdel-vc', NET_C),
                          (NS_A, 'lwdel-va', NET_A)):
        ip('-n', ns, 'addr', 'add', addr + '/30', 'dev', dev)
        ip('-n', ns, 'link', 'set', 'lo', 'up')
        ip('-n', ns, 'link', 'set', dev, 'up')


def scenario_partition():
    """The agents' network goes down for longer than the idle timeout."""
    name = 'network partition'
    try:
        netns_setup()
    except (subprocess.CalledProcessError, OSError) as e:
        check('%s: network namespaces can be made (needs root)' % name,
              False, getattr(e, 'stderr', b'') or e)
        return
    try:
        coll = Collector('c-part', sync='batch', idle_timeout=3, netns=NS_C)
        agents = [start_agent(coll, 'part%d' % i, netns=NS_A)
                  for i in range(2)]
        time.sleep(1.5)
        ip('-n', NS_A, 'link', 'set', 'lwdel-va', 'down')
        time.sleep(6)
        offline = {a.host: 'host.offline' in host_events(coll.logdir, a.host)
                   for a in agents}
        check('%s: host.offline logged while the link was down' % name,
              all(offline.values()), offline)
        ip('-n', NS_A, 'link', 'set', 'lwdel-va', 'up')

        def back():
            for a in agents:
                ev = host_events(coll.logdir, a.host)
                if 'host.offline' not in ev or \
                        'host.online' not in ev[ev.index('host.offline'):]:
                    return False
            return True
        check('%s: host.online logged after host.offline once the link '
              'was up' % name, wait_until(back, 10, 0.2),
              {a.host: [e for e in host_events(coll.logdir, a.host)
                        if e and e.startswith('host.')] for a in agents})
        time.sleep(1)
        finish(name, coll, agents, 1000)
    finally:
        kill_all()
        netns_delete()


def fs_free(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def scenario_disk_full():
    """The log folder is a 2 MiB tmpfs that fills up and then gets room."""
    name = 'disk full'
    mnt = tmpdir('tmpfs')
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs',
                        mnt], capture_output=True, timeout=10)
    if not check('%s: a 2 MiB tmpfs can be mounted (needs root)' % name,
                 r.returncode == 0, r.stderr):
        return
    atexit.register(subprocess.run, ['umount', '-l', mnt],
                    capture_output=True)
    try:
        filler = os.path.join(mnt, 'filler')
        with open(filler, 'wb') as f:
            f.write(b'\0' * (fs_free(mnt) - 96 * 1024))
        logdir = os.path.join(mnt, 'logs')
        os.mkdir(logdir)
        coll = Collector('c-full', sync='always', logdir=logdir)
        agents = [start_agent(coll, 'full%d' % i) for i in range(3)]
        full = wait_until(lambda: fs_free(mnt) < 8192, 10, 0.1)
        check('%s: the log folder filled up' % name, full,
              '%d bytes free' % fs_free(mnt))
        rss0 = rss_kib(coll.proc)
        time.sleep(2)
        check('%s: the collector stays up while the disk is full' % name,
              running(coll.proc), stderr_text(coll.proc)[-300:])
        grew = rss_kib(coll.proc) - rss0
        check('%s: the collector memory stays flat while full (grew %d '
              'KiB)' % (name, grew), grew < 16384)
        os.unlink(filler)
        time.sleep(2)
        finish(name, coll, agents, 500)
    finally:
        kill_all()
        subprocess.run(['umount', '-l', mnt], capture_output=True)


def rss_kib(proc):
    try:
        with open('/proc/%d/status' % proc.pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rotate(logdir, host):
    """logrotate without copytruncate: HOST.log.N -> .N+1, HOST.log -> .1"""
    files = lwcheck.log_files(logdir).get(host, [])
    n = len(files)
    for path in files:         # oldest (highest number) first
        if path.endswith('.log'):
            os.rename(path, path + '.1')
        else:
            base, num = path.rsplit('.', 1)
            os.rename(path, '%s.%d' % (base, int(num) + 1))
    return n


def scenario_logrotate():
    """rename + SIGHUP every 0.2 s during the stream."""
    name = 'logrotate'
    coll = Collector('c-rot', sync='never', fmt='json')
    agents = [start_agent(coll, 'rot%d' % i) for i in range(3)]
    time.sleep(0.5)
    rotations = 0
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for a in agents:
            rotate(coll.logdir, a.host)
        coll.proc.send_signal(signal.SIGHUP)
        rotations += 1
        time.sleep(0.2)
    time.sleep(0.5)
    check('%s: the collector survived %d SIGHUPs' % (name, rotations),
          running(coll.proc))
    finish(name, coll, agents, 500)
    files = lwcheck.log_files(coll.logdir)
    check('%s: %d rotations left rotated files behind' % (name, rotations),
          all(len(files.get(a.host, [])) > rotations // 2 for a in agents),
          {h: len(f) for h, f in files.items()})


def scenario_spool_overflow():
    """A tiny spool and the collector away: the oldest records go, and one
    agent.dropped record accounts for exactly the missing numbers."""
    name = 'spool overflow'
    coll = Collector('c-spool', sync='batch')
    agents = [start_agent(coll, 'spool0', rate=500, spool_max=65536)]
    time.sleep(1)
    stop(coll.proc)
    time.sleep(4)
    coll.start()
    time.sleep(2)
    finish(name, coll, agents, 1500, dropped=True)


def preflight():
    """The options of the issue-5 contract; without them nothing runs."""
    def opts(path):
        try:
            return subprocess.run([path, '--help'], capture_output=True,
                                  text=True, timeout=5).stdout
        except OSError as e:
            return str(e)
    a, c = opts(AGENT), opts(COLLECTOR)
    ok = check('the agent has --state-dir, --spool-max, --selftest-rate',
               all(o in a for o in ('--state-dir', '--spool-max',
                                    '--selftest-rate')), a[-300:])
    ok &= check('the collector has --state-dir and --sync',
                '--state-dir' in c and '--sync' in c, c[-300:])
    return ok


def main():
    if not preflight():
        note('skipped: the fault-injection scenarios need the options '
             'above (issue 5)')
        return
    if os.geteuid() != 0:
        note('skipped: network partition and tmpfs scenarios need root')
    for scenario in (scenario_collector_kill, scenario_agent_kill,
                     scenario_logrotate, scenario_spool_overflow,
                     scenario_disk_full, scenario_partition):
        if scenario in (scenario_partition, scenario_disk_full) and \
                os.geteuid() != 0:
            continue
        t = time.monotonic()
        lwtest.step(scenario.__name__, scenario)
        note('%s took %.1f s' % (scenario.__name__, time.monotonic() - t))


if __name__ == '__main__':
    lwtest.run(main)
