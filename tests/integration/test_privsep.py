#!/usr/bin/env python3
"""No root where none is needed, and no silent blind spots (issue 9).

- The running agent's worker and the collector, read from /proc/PID/status:
  not root, no effective capabilities, no new privileges, a seccomp filter.
- An agent without privilege, one told to capture on an interface that
  does not exist, one with an --ip-filter it cannot read: each says so
  (agent.degraded at the collector, or exit 2 at start).
- Interfaces that come up after the agent started (a veth in a network
  namespace the test made) are captured, their traffic logged, and logged
  as net.interface records; the missing one, once made, recovers.
Namespaces are named lwps-PID-* and always deleted.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest as lw  # noqa: E402
from lwtest import check  # noqa: E402

TAG = 'lwps-%d' % os.getpid()
NS_A, NS_B = TAG + '-a', TAG + '-b'
ctx = {}


def status(pid):
    """/proc/PID/status as a dict."""
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            out[k] = v.strip()
    return out


def children(pid):
    kids = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(d))
    return kids


def uids(st):
    return [int(x) for x in st['Uid'].split()]


def sandboxed():
    coll = lw.start_collector(name='collector-ps')
    agent = lw.start_agent('127.0.0.1:%d' % coll.port, 'ps01')
    lw.wait_event(lw.log_path(coll, 'ps01'), 'text', 'agent.start')
    kids = lw.wait_until(lambda: children(agent.pid), 3)
    check('privsep: the agent started as root has one worker process',
          kids and len(kids) == 1, kids)
    if not kids:
        return
    w = status(kids[0])
    p = status(agent.pid)
    check('privsep: the worker is not root (all four uids)',
          all(u != 0 for u in uids(w)), w['Uid'])
    check('privsep: the worker has no effective capabilities (CapEff 0)',
          int(w['CapEff'], 16) == 0, w['CapEff'])
    check('privsep: the worker has NoNewPrivs: 1', w['NoNewPrivs'] == '1',
          w['NoNewPrivs'])
    check('privsep: the worker runs under a seccomp filter (Seccomp: 2)',
          w['Seccomp'] == '2', w['Seccomp'])
    check('privsep: the parent is the one left with root',
          uids(p)[1] == 0, p['Uid'])
    c = status(coll.pid)
    check('privsep: the collector started as root runs as another user',
          all(u != 0 for u in uids(c)), c['Uid'])
    check('privsep: ... and without capabilities',
          int(c['CapEff'], 16) == 0, c['CapEff'])
    recs = lw.records_quiet(lw.log_path(coll, 'ps01'), 'text')
    start = lw.events(recs, 'agent.start')
    check('privsep: agent.start says privsep=true; --no-net --no-usb: '
          'no monitors', start and start[0].get('privsep') == 'true' and
          start[0].get('monitors') == '', start)
    # Either exits when the other does.
    os.kill(kids[0], 9)
    rc = lw.wait_exit(agent, 5)
    check('privsep: the worker killed, the parent exits (non-zero)',
          rc is not None and rc != 0, rc)
    agent2 = lw.start_agent('127.0.0.1:%d' % coll.port, 'ps01',
                            name='agent-ps01-again')
    kids = lw.wait_until(lambda: children(agent2.pid), 3)
    os.kill(agent2.pid, 9)
    gone = lw.wait_until(lambda: kids and not os.path.exists(
        '/proc/%d/status' % kids[0]) or (kids and status(kids[0]).get(
            'State', '').startswith('Z')), 5)
    check('privsep: the parent killed, the worker goes too', gone, kids)
    lw.wait_exit(agent2, 2)
    ctx['coll'] = coll


def hammer(proc, sig=15, timeout=8.0):
    """Sends sig every 2 ms until proc exits; returns its exit status
    (None if it had to be killed)."""
    end = time.monotonic() + timeout
    while lw.running(proc) and time.monotonic() < end:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            break
        time.sleep(0.002)
    return lw.wait_exit(proc, 1)


def repeated_sigterm():
    """systemd, an admin and a script may all ask at once: SIGTERM sent
    again and again while a daemon stops must not cut its cleanup."""
    coll = lw.start_collector(name='collector-term')
    agent = lw.start_agent('127.0.0.1:%d' % coll.port, 'term01',
                           extra=['--selftest-rate', '200'])
    lw.wait_event(lw.log_path(coll, 'term01'), 'text', 'agent.start')
    rc = hammer(agent)
    check('signals: an agent sent SIGTERM every 2 ms until it exits '
          'exits 0', rc == 0, 'status %r: %s' % (
              rc, lw.stderr_text(agent)[-300:]))
    check('signals: ... and its agent.stop reached the log',
          lw.wait_until(lambda: lw.events(lw.records_quiet(
              lw.log_path(coll, 'term01'), 'text'), 'agent.stop'), 5))
    rc = hammer(coll)
    check('signals: a collector sent SIGTERM every 2 ms until it exits '
          'exits 0', rc == 0, 'status %r: %s' % (
              rc, lw.stderr_text(coll)[-300:]))


def unprivileged():
    coll = ctx['coll']
    nobody = pwd.getpwnam('nobody')
    st = lw.tmpdir('unpriv')
    os.chown(st, nobody.pw_uid, nobody.pw_gid)
    cert, key = lw.host_cert('ps02')
    lw.give_to_collector(lw.ca_dir())   # nobody can read its own key

    def drop():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    # nobody may not reach the build folder (a clone under a private
    # folder): run a copy from the run's folder, which nobody can enter.
    agent_bin = os.path.join(st, 'labwatch-agent')
    shutil.copy(lw.AGENT, agent_bin)
    args = [agent_bin, '-f', '--collector', '127.0.0.1:%d' % coll.port,
            '--host', 'ps02', '--state-dir', st, '--no-usb',
            '--tls-ca', lw.ca_file(), '--tls-cert', cert, '--tls-key', key]
    err = open(os.path.join(lw.tmpdir(), 'agent-ps02.stderr'), 'wb')
    p = subprocess.Popen(args, preexec_fn=drop, stderr=err,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        recs = lw.wait_event(lw.log_path(coll, 'ps02'), 'text',
                             'agent.degraded', timeout=8)
        deg = lw.events(recs, 'agent.degraded')
        check('blind: an agent without privilege reports agent.degraded '
              'monitor=net at the collector, saying capture needs root',
              deg and deg[0].get('monitor') == 'net' and
              'capture needs root' in deg[0].get('reason', ''), recs)
        check('blind: the collector\'s own log names the degraded host',
              lw.wait_until(lambda: 'ps02): agent degraded: net' in
                            lw.stderr_text(coll), 3))
    finally:
        p.terminate()
        p.wait(5)
        err.close()


def bad_files():
    d = lw.tmpdir('bad')
    for label, opt in (('--ip-filter', ['--ip-filter', '/nonexistent/ip.txt']),
                       ('--read', ['--read', '/nonexistent/x.pcap'])):
        p = subprocess.run([lw.AGENT, '--stdout', '--host', 'ps03',
                            '--no-usb', '--state-dir', d] + opt,
                           capture_output=True, text=True, timeout=10)
        check('start: %s naming a missing file exits 2 and says which' %
              label, p.returncode == 2 and '/nonexistent/' in p.stderr,
              (p.returncode, p.stderr))


# Interfaces that come later, in network namespaces

def ns(*args, check_rc=True):
    p = subprocess.run(list(args), capture_output=True, text=True,
                       timeout=30)
    if check_rc and p.returncode != 0:
        raise RuntimeError('%s: %s' % (' '.join(args), p.stderr))
    return p


def teardown():
    for n in (NS_A, NS_B):
        ns('ip', 'netns', 'del', n, check_rc=False)


def later_interfaces():
    teardown()
    ns('ip', 'netns', 'add', NS_A)
    ns('ip', 'netns', 'add', NS_B)
    ns('ip', '-n', NS_A, 'link', 'set', 'lo', 'up')
    port = lw.free_port()
    logs, cst = lw.tmpdir('ns-logs'), lw.tmpdir('ns-cstate')
    coll = lw.start(['ip', 'netns', 'exec', NS_A, lw.COLLECTOR, '-f', '-l',
                     '127.0.0.1:%d' % port, '-d', logs, '--state-dir', cst] +
                    lw.collector_tls_args(), 'collector-ns')
    coll.logdir, coll.fmt = logs, 'text'
    check('ns: collector started', lw.wait_until(
        lambda: ' started, logs in ' in lw.stderr_text(coll), 5))

    def agent(host, extra):
        return lw.start(['ip', 'netns', 'exec', NS_A, lw.AGENT, '-f',
                         '--collector', '127.0.0.1:%d' % port, '--host', host,
                         '--state-dir', lw.tmpdir('ns-' + host), '--no-usb',
                         '--flow-idle', '1', '--ip-filter', '/dev/null'] +
                        extra + lw.agent_tls_args(host), 'agent-' + host)
    every = agent('ps10', [])
    named = agent('ps11', ['-i', 'vlate0'])
    recs = lw.wait_event(lw.log_path(logs, 'ps11'), 'text', 'agent.degraded',
                         timeout=8)
    deg = lw.events(recs, 'agent.degraded')
    check('ns: -i naming a missing interface: agent.degraded monitor=net '
          '"interface vlate0 does not exist"', deg and
          deg[0].get('reason') == 'interface vlate0 does not exist', recs)
    recs = lw.wait_event(lw.log_path(logs, 'ps10'), 'text', 'agent.start')
    start = lw.events(recs, 'agent.start')
    check('ns: agent.start lists the network monitor running (--no-usb)',
          start and start[0].get('monitors') == 'net', start)
    time.sleep(0.5)

    ns('ip', 'link', 'add', 'vlate0', 'netns', NS_A, 'type', 'veth', 'peer',
       'name', 'vpeer0', 'netns', NS_B)
    ns('ip', '-n', NS_A, 'addr', 'add', '10.99.5.1/24', 'dev', 'vlate0')
    ns('ip', '-n', NS_B, 'addr', 'add', '10.99.5.2/24', 'dev', 'vpeer0')
    ns('ip', '-n', NS_A, 'link', 'set', 'vlate0', 'up')
    ns('ip', '-n', NS_B, 'link', 'set', 'vpeer0', 'up')
    for host in ('ps10', 'ps11'):
        recs = lw.wait_records(
            lw.log_path(logs, host), 'text',
            lambda rs: any(r['event'] == 'net.interface' and
                           r.get('name') == 'vlate0' and
                           r.get('captured') == 'true' for r in rs), 8)
        iface = [r for r in recs if r['event'] == 'net.interface' and
                 r.get('name') == 'vlate0']
        check('ns: %s: the veth that came up later is captured '
              '(net.interface state=up kind=ether captured=true)' % host,
              iface and iface[-1].get('state') == 'up' and
              iface[-1].get('kind') == 'ether' and
              iface[-1].get('captured') == 'true', iface)
    recs = lw.wait_event(lw.log_path(logs, 'ps11'), 'text',
                         'agent.recovered', timeout=5)
    check('ns: once vlate0 exists the -i agent reports agent.recovered',
          [r.get('monitor') for r in lw.events(recs, 'agent.recovered')] ==
          ['net'], recs)
    time.sleep(1)
    # Traffic on the new interface: B sends 50,000 bytes to A.
    srv = subprocess.Popen(
        ['ip', 'netns', 'exec', NS_A, sys.executable, '-c',
         'import socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,'
         'socket.SO_REUSEADDR,1);s.bind(("10.99.5.1",9000));s.listen(1);'
         'c,_=s.accept();n=0\nwhile True:\n d=c.recv(65536)\n if not d:'
         ' break\n n+=len(d)\nprint(n)'], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    ns('ip', 'netns', 'exec', NS_B, sys.executable, '-c',
       'import socket;s=socket.create_connection(("10.99.5.1",9000));'
       's.sendall(b"x"*50000);s.close()')
    got = srv.communicate(timeout=10)[0].strip()
    for host in ('ps10', 'ps11'):
        recs = lw.wait_records(
            lw.log_path(logs, host), 'text',
            lambda rs: any(r['event'] == 'flow.lan' for r in rs), 8)
        flows = [r for r in recs if r['event'] == 'flow.lan' and
                 r.get('dport') == '9000']
        check('ns: %s: the transfer on the new interface is logged '
              '(flow.lan 10.99.5.2 -> 10.99.5.1:9000, %s bytes sent)' %
              (host, got), flows and flows[0].get('src') == '10.99.5.2' and
              flows[0].get('dst') == '10.99.5.1', flows)
    ns('ip', '-n', NS_A, 'link', 'del', 'vlate0')
    recs = lw.wait_records(
        lw.log_path(logs, 'ps10'), 'text',
        lambda rs: any(r['event'] == 'net.interface' and
                       r.get('state') == 'gone' for r in rs), 5)
    check('ns: an interface that goes away is closed and logged '
          '(net.interface state=gone)',
          any(r['event'] == 'net.interface' and r.get('state') == 'gone'
              and r.get('name') == 'vlate0' for r in recs), recs[-3:])
    for p in (every, named):
        lw.stop(p)
    lw.stop(coll)


def main():
    if not check('binaries are built', os.access(lw.COLLECTOR, os.X_OK) and
                 os.access(lw.AGENT, os.X_OK), lw.BUILD):
        return
    if os.geteuid() != 0:
        print('# skip - privilege separation needs root to test')
        return
    try:
        for step in (sandboxed, repeated_sigterm, unprivileged, bad_files,
                     later_interfaces):
            lw.step(step.__name__, step)
    finally:
        lw.cleanup()
        teardown()


if __name__ == '__main__':
    lw.run(main)
