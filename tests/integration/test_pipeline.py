# SPDX-License-Identifier: ISC
"""The whole pipeline on loopback: real agents, a real collector, its logs.

Agents pcA and pcB send to a collector (text format, then JSON): the logs
get host.connect and agent.start, heartbeats keep the link alive without
being logged, agent SIGTERM and SIGKILL end with the right disconnect
reason.  Then: a collector restart under running agents, log rotation with
SIGHUP, IPv6, the agent's --stdout mode and the programs' options.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
import lwtest as lw  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import lwcheck  # noqa: E402
from lwtest import check

AGENT_VERSION = lw.program_version(lw.AGENT)
HOSTS = ('pcA', 'pcB')


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def one(recs, event):
    """The only record of event, or None."""
    found = lw.events(recs, event)
    return found[0] if len(found) == 1 else None


def check_lines(label, path, fmt):
    """Every line of the file is one well-formed record of the format."""
    data = lw.read_bytes(path)
    bad = []
    for line in lw.read_lines(path):
        try:
            rec = lw.parse_line(line, fmt)
            if fmt == 'json':
                keys = list(rec)
                want = ['ts', 'host', 'seq', 'event'] if 'seq' in rec \
                    else ['ts', 'host', 'event']
                if keys[:len(want)] != want:
                    bad.append('key order %r' % keys[:4])
                if not lw.TS_RE.match(rec['ts']):
                    bad.append('bad ts %r' % rec['ts'])
        except ValueError as e:
            bad.append(str(e))
    check('%s: %s is one %s record per line' % (
        label, os.path.basename(path), fmt),
        data.endswith(b'\n') and b'\r' not in data and not bad,
        bad[:2] or data[-80:])


def check_start(label, host, recs, fmt):
    """host.connect then agent.start, with the fields they must have."""
    conn = one(recs, 'host.connect')
    check('%s: %s.log has one host.connect' % (label, host), conn,
          [r.get('event') for r in recs])
    if conn:
        check('%s: host.connect names host %s, has no seq' % (label, host),
              conn['host'] == host and 'seq' not in conn, conn)
        check('%s: host.connect has peer, stream and resume_after=0' % label,
              str(conn.get('peer', '')).startswith('127.0.0.1:') and
              re.match(r'^[0-9a-f]{16}$', str(conn.get('stream'))) and
              str(conn.get('resume_after')) == '0', conn)
    start = one(recs, 'agent.start')
    check('%s: %s.log has one agent.start' % (label, host), start,
          [r.get('event') for r in recs])
    if not start:
        return
    check('%s: agent.start has host %s and seq=1' % (label, host),
          start['host'] == host and start.get('seq') == 1, start)
    check('%s: agent.start version is the agent\'s --version (%s)' % (
        label, AGENT_VERSION), AGENT_VERSION and
        start.get('version') == AGENT_VERSION, start.get('version'))
    uname = os.uname()
    check('%s: agent.start has kernel and machine of this host' % label,
          start.get('kernel') == uname.release and
          start.get('machine') == uname.machine, start)
    ifaces = as_list(start.get('interfaces'))
    check('%s: agent.start lists interfaces ("name addr/prefix")' % label,
          'interfaces' in start and 'macs' in start and
          all(re.match(r'^\S+ [0-9a-fA-F.:]+/\d+$', i) for i in ifaces),
          start.get('interfaces'))
    if fmt == 'json':
        check('%s: interfaces and macs are JSON lists' % label,
              isinstance(start.get('interfaces'), list) and
              isinstance(start.get('macs'), list), start)
    check('%s: host.connect comes before agent.start' % label,
          recs.index(conn) < recs.index(start) if conn else False)


def basic(fmt):
    label = fmt
    coll = lw.start_collector(fmt=fmt, extra=['--idle-timeout', '3'],
                              name='collector-' + fmt)
    addr = '127.0.0.1:%d' % coll.port
    agents = {h: lw.start_agent(addr, h, heartbeat=1,
                                name='agent-%s-%s' % (h, fmt))
              for h in HOSTS}
    paths = {h: lw.log_path(coll, h) for h in HOSTS}
    for h in HOSTS:
        recs = lw.wait_event(paths[h], fmt, 'agent.start')
        check_start(label, h, recs, fmt)

    # Heartbeats every second keep the link past a 3 s idle timeout.
    time.sleep(4.2)
    for h in HOSTS:
        data = lw.read_bytes(paths[h])
        recs = lw.records_quiet(paths[h], fmt)
        check('%s: no heartbeat logged for %s after 4 s' % (label, h),
              b'heartbeat' not in data, data[-200:])
        check('%s: %s still connected past the 3 s idle timeout '
              '(heartbeats flow)' % (label, h),
              not lw.events(recs, 'host.disconnect') and
              lw.running(agents[h]), [r.get('event') for r in recs])
        check_lines(label, paths[h], fmt)

    rc = lw.stop(agents['pcA'])
    check('%s: agent pcA exits 0 on SIGTERM' % label, rc == 0, rc)
    recs = lw.wait_event(paths['pcA'], fmt, 'host.disconnect')
    stop = one(recs, 'agent.stop')
    check('%s: pcA agent.stop logged once with seq=2' % label,
          stop and stop.get('seq') == 2 and stop['host'] == 'pcA', stop)
    disc = one(recs, 'host.disconnect')
    check('%s: pcA host.disconnect reason=agent-stop' % label,
          disc and disc.get('reason') == 'agent-stop', disc)
    if disc:
        check('%s: pcA host.disconnect counts records=2, has duration and '
              'peer' % label, str(disc.get('records')) == '2' and
              'duration' in disc and 'peer' in disc, disc)
        check('%s: pcA host.disconnect is the last line' % label,
              recs[-1] is disc, [r.get('event') for r in recs])

    rc = lw.stop(agents['pcB'], signal.SIGKILL)
    recs = lw.wait_event(paths['pcB'], fmt, 'host.disconnect')
    disc = one(recs, 'host.disconnect')
    check('%s: SIGKILLed pcB gets host.disconnect reason=closed' % label,
          disc and disc.get('reason') == 'closed', disc)
    check('%s: SIGKILLed pcB has no agent.stop' % label,
          not lw.events(recs, 'agent.stop'), recs[-2:])

    rc = lw.stop(coll)
    check('%s: collector exits 0 on SIGTERM' % label, rc == 0, rc)
    for h in HOSTS:
        check_lines(label + ' at the end', paths[h], fmt)
        recs = lw.records_quiet(paths[h], fmt)
        check('%s: %s.log holds no collector-stop (agent already gone)' % (
            label, h), all(r.get('reason') != 'collector-stop'
                           for r in recs), recs[-1:])


def restart():
    label = 'restart'
    port = lw.free_port()
    logdir = lw.tmpdir('restart')
    addr = '127.0.0.1:%d' % port
    coll = lw.start_collector(port=port, logdir=logdir,
                              name='collector-restart-1')
    agents = {h: lw.start_agent(addr, h, name='agent-%s-restart' % h)
              for h in HOSTS}
    paths = {h: lw.log_path(logdir, h) for h in HOSTS}
    for h in HOSTS:
        lw.wait_event(paths[h], 'text', 'agent.start')
    time.sleep(0.3)  # the ACKs reach the agents

    rc = lw.stop(coll)
    check('%s: collector with 2 agents connected exits 0 on SIGTERM' %
          label, rc == 0, rc)
    for h in HOSTS:
        recs = lw.records_quiet(paths[h], 'text')
        disc = one(recs, 'host.disconnect')
        check('%s: %s gets host.disconnect reason=collector-stop' % (
            label, h), disc and disc.get('reason') == 'collector-stop',
            recs[-1:])

    coll2 = lw.start_collector(port=port, logdir=logdir,
                               statedir=coll.statedir,
                               name='collector-restart-2')
    for h in HOSTS:
        recs = lw.wait_event(paths[h], 'text', 'host.connect', 2, 10)
        conns = lw.events(recs, 'host.connect')
        check('%s: agent %s reconnects by itself (second host.connect)' % (
            label, h), len(conns) == 2, [r.get('event') for r in recs])
        if len(conns) == 2:
            check('%s: %s reconnects with the same stream; the collector '
                  'remembers it stored seq 1 (resume_after=1)' %
                  (label, h), conns[0]['stream'] == conns[1]['stream'] and
                  conns[1]['resume_after'] == '1', conns)
        check('%s: %s agent.start stored once (it was ACKed)' % (label, h),
              len(lw.events(recs, 'agent.start')) == 1,
              [r.get('event') for r in recs])

    rc = lw.stop(agents['pcA'])
    recs = lw.wait_event(paths['pcA'], 'text', 'host.disconnect', 2)
    stop = one(recs, 'agent.stop')
    check('%s: after the reconnect pcA\'s agent.stop arrives with seq=2' %
          label, stop and stop.get('seq') == 2, recs[-3:])
    check('%s: pcA seqs are 1, 2 exactly' % label,
          lw.seqs(recs) == [1, 2], lw.seqs(recs))
    lw.stop(agents['pcB'])
    rc = lw.stop(coll2)
    check('%s: restarted collector exits 0' % label, rc == 0, rc)


def send_range(sess, first, last):
    sess.sock.sendall(b''.join(lw.record_frame(i, 'test.rotate',
                                               [('n', i)])
                               for i in range(first, last + 1)))
    return lw.wait_ack(sess, last)


def rotation():
    label = 'SIGHUP'
    coll = lw.start_collector(name='collector-rotate')
    path = lw.log_path(coll, 'pcA')
    sess = lw.open_session(coll.port, 'pcA')
    check('%s: records 1-5 ACKed' % label, send_range(sess, 1, 5) == 5)
    os.rename(path, path + '.1')
    check('%s: record 6, sent after the rename, ACKed' % label,
          send_range(sess, 6, 6) == 6)
    coll.send_signal(signal.SIGHUP)
    check('%s: collector says it reopened the logs' % label,
          lw.wait_until(lambda: 'log files reopened' in
                        lw.stderr_text(coll)))
    check('%s: records 7-10, sent after SIGHUP, ACKed' % label,
          send_range(sess, 7, 10) == 10)
    old = lw.read_records(path + '.1', 'text')
    new = lw.read_records(path, 'text') if os.path.exists(path) else []
    check('%s: a fresh pcA.log was created' % label, os.path.exists(path))
    check('%s: pcA.log.1 holds host.connect and records 1-6' % label,
          lw.seqs(old) == list(range(1, 7)) and
          old[0]['event'] == 'host.connect', lw.seqs(old))
    check('%s: new pcA.log holds records 7-10' % label,
          lw.seqs(new) == list(range(7, 11)), lw.seqs(new))
    check('%s: nothing lost or duplicated across the two files' % label,
          sorted(lw.seqs(old) + lw.seqs(new)) == list(range(1, 11)))
    lw.close_session(sess)
    new = lw.wait_event(path, 'text', 'host.disconnect')
    check('%s: host.disconnect goes to the new file' % label,
          one(new, 'host.disconnect') and
          not lw.events(lw.read_records(path + '.1', 'text'),
                        'host.disconnect'), new[-1:])
    rc = lw.stop(coll)
    check('%s: collector exits 0' % label, rc == 0, rc)


def ipv6():
    if not lw.ipv6_available():
        print('ok - IPv6: listen on [::1] # SKIP no IPv6 loopback')
        return
    port = lw.free_port(socket.AF_INET6)
    listen = '[::1]:%d' % port
    coll = lw.start_collector(port=port, listen=listen,
                              name='collector-ipv6')
    agent = lw.start_agent(listen, 'pc6', name='agent-pc6')
    path = lw.log_path(coll, 'pc6')
    recs = lw.wait_event(path, 'text', 'agent.start')
    start, conn = one(recs, 'agent.start'), one(recs, 'host.connect')
    check('IPv6: agent.start from an agent via [::1]',
          start and start.get('seq') == 1, recs)
    check('IPv6: host.connect peer is [::1]:port',
          conn and conn.get('peer', '').startswith('[::1]:'), conn)
    sess = lw.open_session(port, 'pc6b', addr='::1')
    sess.sock.sendall(lw.record_frame(1))
    check('IPv6: a protocol client over ::1 gets its ACK',
          lw.wait_ack(sess, 1) == 1)
    lw.close_session(sess)
    rc = lw.stop(agent)
    check('IPv6: agent exits 0', rc == 0, rc)
    rc = lw.stop(coll)
    check('IPv6: collector exits 0', rc == 0, rc)


def frames_until(sock, ftype, timeout=3.0):
    """Frames read up to and including the first of ftype."""
    got, deadline = [], time.monotonic() + timeout
    while True:
        try:
            fr = lw.recv_frame(sock, max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return got
        if fr is None:
            return got
        got.append(fr)
        if fr[0] == ftype:
            return got


def fake_link(srv, label, last_seq):
    """Accepts the agent, checks its HELLO, sends WELCOME(last_seq).
    Returns (socket, stream)."""
    sock = lw.accept(srv)
    check('%s: agent connects' % label, sock)
    if sock is None:
        raise RuntimeError('agent did not connect')
    host, stream, software, caps = lw.parse_hello(
        lw.next_of_type(sock, lw.HELLO))
    check('%s: HELLO says host pcR, version %s, caps 1 (commands)' % (
        label, AGENT_VERSION), (host, software, caps) ==
        ('pcR', AGENT_VERSION, 1), (host, software, caps))
    sock.sendall(lw.welcome_frame(last_seq))
    return sock, stream


def agent_resend():
    """The agent against a fake collector that withholds ACKs."""
    label = 'fake collector'
    port = lw.free_port()
    srv = lw.listen(port)
    agent = lw.start_agent('127.0.0.1:%d' % port, 'pcR', heartbeat=1,
                           name='agent-pcR-fake')
    try:
        c1, stream = fake_link(srv, label + ' link 1', 0)
        first = lw.next_of_type(c1, lw.RECORD)
        seq, _, event, _ = lw.parse_record(first)
        check('%s: agent.start arrives as seq 1' % label,
              (seq, event) == (1, 'agent.start'), (seq, event))
        hb = lw.parse_record(lw.next_of_type(c1, lw.HEARTBEAT, 3))
        check('%s: heartbeat within ~1 s, seq 0, says 1 record queued' %
              label, hb[0] == 0 and hb[2] == 'agent.heartbeat' and
              hb[3].get('spool_records') == 1, hb)
        c1.close()                      # agent.start never ACKed

        c2, stream2 = fake_link(srv, label + ' link 2', 0)
        check('%s: reconnects with the same stream id' % label,
              stream2 == stream, (stream, stream2))
        again = lw.next_of_type(c2, lw.RECORD)
        check('%s: unACKed agent.start resent, byte for byte' % label,
              again == first, again and lw.parse_record(again)[:3])
        c2.close()

        c3, _ = fake_link(srv, label + ' link 3 (WELCOME last_seq=1)', 1)
        got = frames_until(c3, lw.HEARTBEAT, 3)
        types = [t for t, _ in got]
        check('%s: seq 1 not resent once WELCOME says it is stored' % label,
              types and types[-1] == lw.HEARTBEAT and
              lw.RECORD not in types and
              lw.parse_record(got[-1][1])[3].get('spool_records') == 0, types)
        agent.send_signal(signal.SIGTERM)
        stop = lw.next_of_type(c3, lw.RECORD)
        seq, _, event, fields = lw.parse_record(stop) if stop else (
            None, None, None, {})
        check('%s: SIGTERM sends agent.stop seq 2' % label,
              (seq, event) == (2, 'agent.stop') and 'reason' in fields,
              (seq, event, fields))
        c3.sendall(lw.ack_frame(2))
        frames, closed = lw.read_until_closed(c3, 3)
        bye = lw.bye_of(frames)
        check('%s: after ACK 2 the agent says BYE 1 and closes' % label,
              closed and bye is not None and bye[0] == lw.BYE_SHUTDOWN,
              (closed, bye))
        c3.close()
        rc = lw.wait_exit(agent)
        check('%s: agent exits 0' % label, rc == 0, rc)
    finally:
        srv.close()


def stdout_mode(fmt):
    label = '--stdout ' + fmt
    out = os.path.join(lw.tmpdir(), 'stdout-%s.out' % fmt)
    agent = lw.start([lw.AGENT, '--stdout'] + lw.QUIET + ['--host', 'pcS',
                      '--format',
                      fmt], 'agent-stdout-' + fmt, stdout_path=out)
    check('%s: agent.start printed' % label,
          lw.wait_until(lambda: b'agent.start' in lw.read_bytes(out)))
    rc = lw.stop(agent)
    check('%s: agent exits 0 on SIGTERM' % label, rc == 0, rc)
    try:
        recs = lw.read_records(out, fmt)
    except ValueError as e:
        recs = []
        check('%s: every line parses' % label, False, e)
    check('%s: agent.start seq=1 then agent.stop seq=2' % label,
          [(r.get('event'), r.get('seq')) for r in recs] ==
          [('agent.start', 1), ('agent.stop', 2)], recs)
    if recs:
        check('%s: agent.start has host pcS, version and interfaces' %
              label, recs[0]['host'] == 'pcS' and
              recs[0].get('version') == AGENT_VERSION and
              'interfaces' in recs[0], recs[0])


def options():
    for prog in (lw.COLLECTOR, lw.AGENT):
        name = os.path.basename(prog)
        r = subprocess.run([prog, '--version'], capture_output=True,
                           timeout=5, check=False)
        check('%s --version prints "%s X.Y.Z", exits 0' % (name, name),
              r.returncode == 0 and re.match(
                  r'^%s \d+\.\d+\.\d+\n$' % name, r.stdout.decode()),
              r.stdout)
        r = subprocess.run([prog, '--help'], capture_output=True,
                           timeout=5, check=False)
        check('%s --help prints usage, exits 0' % name,
              r.returncode == 0 and r.stdout.startswith(b'usage:'),
              r.returncode)
        r = subprocess.run([prog, '--format', 'xml', '--no-such-option'],
                           capture_output=True, timeout=5, check=False)
        check('%s rejects a bad option with status 2' % name,
              r.returncode == 2, r.returncode)


def many_logs():
    """40 agents at once (tests/tools/lw-load): a sync round of 16 logs or
    more makes one syncfs instead of an fdatasync per log; every record is
    still acknowledged once stored, and stored once."""
    load = os.path.join(lw.BUILD, 'tests', 'lw-load')
    if not shutil.which('strace'):
        print('# skip - many logs: strace is not installed')
        return
    trace = os.path.join(lw.tmpdir('strace'), 'trace')
    coll = lw.start_collector(name='collector-many', tls=False,
                              extra=['--sync', 'batch', '--user', 'root'])
    st = subprocess.Popen(['strace', '-f', '-qq', '-e',
                           'trace=syncfs,fdatasync', '-o', trace,
                           '-p', str(coll.pid)],
                          stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    r = subprocess.run([load, '--connect', '127.0.0.1:%d' % coll.port,
                        '--agents', '40', '--records', '500', '--sources',
                        '40', '--window', '500'], capture_output=True,
                       timeout=60, check=False)
    out = r.stdout.decode() + r.stderr.decode()
    check('many logs: lw-load has all 20000 records of 40 agents '
          'acknowledged', r.returncode == 0 and 'acked=20000 ' in out,
          out[-300:])
    st.terminate()
    st.wait(5)
    lw.stop(coll)
    with open(trace) as f:
        calls = f.read()
    check('many logs: the rounds of many logs were made durable with '
          'syncfs', 'syncfs(' in calls, calls[-300:])
    logs = lwcheck.scan_dir(coll.logdir)
    problems = ['%s: %s' % (h, p) for h, hl in logs.items()
                for p in hl.problems]
    check('many logs: 40 logs, every seq 1..500 once, in order',
          len(logs) == 40 and not problems and all(
              max(s.last for s in hl.streams) == 500
              for hl in logs.values()), problems[:3] or len(logs))


def main():
    if not check('binaries are built', os.access(lw.COLLECTOR, os.X_OK) and
                 os.access(lw.AGENT, os.X_OK), lw.BUILD):
        return
    lw.step('options', options)
    for fmt in ('text', 'json'):
        lw.step('pipeline ' + fmt, basic, fmt)
    lw.step('restart', restart)
    lw.step('SIGHUP', rotation)
    lw.step('IPv6', ipv6)
    lw.step('fake collector', agent_resend)
    lw.step('many logs', many_logs)
    for fmt in ('text', 'json'):
        lw.step('--stdout ' + fmt, stdout_mode, fmt)


if __name__ == '__main__':
    lw.run(main)
