#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Trust on the link: TLS with per-host certificates, enrolment, and the
probes a student at a lab PC would try (issue "Trust the link").

A lab CA made by scripts/labwatch-ca in a temporary folder; the real
collector and agents on 127.0.0.1 (other 127.0.0.x source addresses stand
for other PCs); raw TLS clients from Python's ssl module for the probes.
Expected outcomes are what the collector and agent must do, read from the
logs, the frames on the wire, tcpdump's capture and openssl's verdicts.
"""

import os
import resource
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest as lw  # noqa: E402
from lwtest import check  # noqa: E402

ctx = {}
BIG = 1000000000


def coll_addr(coll):
    return '127.0.0.1:%d' % coll.port


def stderr_has(proc, text, timeout=5.0):
    return lw.wait_until(lambda: text in lw.stderr_text(proc), timeout)


def events_of(coll, host):
    return [r['event'] for r in lw.records_quiet(lw.log_path(coll, host),
                                                 coll.fmt)]


def other_ca():
    """A second, unrelated CA with a certificate for pc03."""
    d = os.path.join(lw.tmpdir('other'), 'ca')
    lw.labwatch_ca('init', d)
    lw.labwatch_ca('issue', d, 'pc03')
    return d


def issue_dated(host, start, end):
    """A certificate of the lab CA for host with the given dates."""
    env = dict(os.environ, LABWATCH_CA_STARTDATE=start,
               LABWATCH_CA_ENDDATE=end)
    p = subprocess.run([lw.LABWATCH_CA, 'issue', lw.ca_dir(), host],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    d = lw.ca_dir()
    return (os.path.join(d, 'hosts', host + '.crt'),
            os.path.join(d, 'hosts', host + '.key'))


def handshake(port, pair, src, cafile=None):
    """A TLS handshake from src with (cert, key): True if it completed
    and the connection was then usable (the server may refuse a client
    certificate after the client thinks it is done: TLS 1.3)."""
    c = ssl.create_default_context(cafile=cafile or lw.ca_file())
    if pair:
        c.load_cert_chain(*pair)
    s = socket.socket()
    s.settimeout(3)
    s.bind((src, 0))
    s.connect(('127.0.0.1', port))
    try:
        t = c.wrap_socket(s, server_hostname='127.0.0.1')
        t.sendall(lw.hello_frame('probe', lw.new_stream()))
        fr = lw.recv_frame(t, 2)
        t.close()
        return fr is not None
    except (ssl.SSLError, OSError, TimeoutError, ValueError):
        s.close()
        return False


# Refused certificates

def refused_certificates():
    coll = ctx['coll']
    cases = [
        ('another CA', os.path.join(other_ca(), 'hosts', 'pc03'),
         '127.0.0.11'),
        ('expired', issue_dated('pc04', '20200101000000Z',
                                '20210101000000Z')[0][:-4], '127.0.0.12'),
        ('not yet valid', issue_dated('pc05', '20400101000000Z',
                                      '20410101000000Z')[0][:-4],
         '127.0.0.13'),
    ]
    whys = {'another CA': 'unable to get local issuer certificate',
            'expired': 'certificate has expired',
            'not yet valid': 'certificate is not yet valid'}
    for label, stem, src in cases:
        pair = (stem + '.crt', stem + '.key')
        ok = handshake(coll.port, pair, src)
        check('refused: %s certificate: no usable connection' % label,
              not ok)
        check('refused: %s certificate: collector logs it with the '
              'address and why' % label,
              stderr_has(coll, '%s:' % src) and
              any(src in line and whys[label] in line for line in
                  lw.stderr_text(coll).splitlines()),
              lw.stderr_text(coll)[-400:])
    # The same address again and again: one line a minute.
    for _ in range(10):
        handshake(coll.port, (cases[0][1] + '.crt', cases[0][1] + '.key'),
                  '127.0.0.11')
    time.sleep(0.3)
    n = sum(1 for line in lw.stderr_text(coll).splitlines()
            if '127.0.0.11:' in line and 'TLS handshake failed' in line)
    check('refused: 11 failed handshakes from one address log one line '
          '(rate limited)', n == 1, n)
    check('refused: no log for the refused hosts',
          not any(os.path.exists(lw.log_path(coll, h))
                  for h in ('pc03', 'pc04', 'pc05')))
    # A real agent with the wrong CA's certificate says why.
    d = os.path.dirname(os.path.dirname(cases[0][1]))
    agent = lw.start([lw.AGENT, '-f', '--collector', coll_addr(coll),
                      '--host', 'pc03', '--state-dir', lw.tmpdir('a3'),
                      '--tls-ca', lw.ca_file(), '--tls-cert',
                      os.path.join(d, 'hosts', 'pc03.crt'), '--tls-key',
                      os.path.join(d, 'hosts', 'pc03.key')] + lw.QUIET,
                     'agent-otherca')
    check('refused: an agent with another CA\'s certificate logs that '
          'the collector closed it',
          stderr_has(agent, 'collector 127.0.0.1', 5), lw.stderr_text(agent))
    check('refused: ... and never gets a host.connect',
          'host.connect' not in events_of(coll, 'pc03'))
    lw.stop(agent)


# Identity: a certificate names one host

def wrong_name():
    coll = ctx['coll']
    sock = lw.connect(coll.port, cert='pc01', src='127.0.0.21')
    sock.sendall(lw.hello_frame('pc02', lw.new_stream()))
    frames, closed = lw.read_until_closed(sock)
    sock.close()
    bye = lw.bye_of(frames)
    check('identity: pc01\'s certificate claiming pc02 gets BYE 3',
          closed and bye is not None and bye[0] == lw.BYE_BAD_HOST and
          not lw.has_type(frames, lw.WELCOME), (closed, bye))
    check('identity: logged as suspicious with the address and the '
          'certificate\'s name',
          stderr_has(coll, 'suspicious: the certificate of "pc01"') and
          '127.0.0.21' in lw.stderr_text(coll))
    check('identity: no pc02.log written',
          'host.connect' not in events_of(coll, 'pc02'))
    sock = lw.connect(coll.port, src='127.0.0.22')
    sock.sendall(lw.hello_frame('pc02', lw.new_stream()))
    frames, closed = lw.read_until_closed(sock)
    sock.close()
    bye = lw.bye_of(frames)
    check('identity: a HELLO without a certificate gets BYE 3',
          bye is not None and bye[0] == lw.BYE_BAD_HOST, bye)


def plaintext_mismatch():
    coll = ctx['coll']
    agent = lw.start_agent(coll_addr(coll), 'pc06', tls=False,
                           extra=['--reconnect-max', '1'])
    check('mismatch: a plaintext agent on a TLS collector says the '
          'collector may want TLS',
          stderr_has(agent, 'a TLS collector? --insecure must be on both',
                     5), lw.stderr_text(agent)[-300:])
    check('mismatch: ... and is never logged as connected',
          'host.connect' not in events_of(coll, 'pc06'))
    lw.stop(agent)
    plain = lw.start_collector(tls=False, name='collector-plain')
    check('mismatch: a plaintext collector warns it runs --insecure',
          stderr_has(plain, '--insecure: agents are neither'))
    agent = lw.start_agent(coll_addr(plain), 'pc06',
                           extra=['--reconnect-max', '1'],
                           name='agent-pc06-tls')
    check('mismatch: a TLS agent on a plaintext collector: the collector '
          'says it was a TLS client',
          stderr_has(plain, 'a TLS client: this collector runs --insecure',
                     5), lw.stderr_text(plain)[-300:])
    check('mismatch: ... the agent says it could not connect',
          stderr_has(agent, 'TLS', 5), lw.stderr_text(agent)[-300:])
    lw.stop(agent)
    a2 = lw.start_agent(coll_addr(plain), 'pc06', tls=False,
                        name='agent-pc06-plain')
    recs = lw.wait_event(lw.log_path(plain, 'pc06'), 'text', 'agent.start')
    start = lw.events(recs, 'agent.start')
    conn = lw.events(recs, 'host.connect')
    check('mismatch: plaintext on both sides works, and agent.start and '
          'host.connect say tls=false',
          start and conn and start[0].get('tls') == 'false' and
          conn[0].get('tls') == 'false', recs)
    check('mismatch: the collector warns about the plaintext peer',
          stderr_has(plain, 'plaintext link for pc06'))
    lw.stop(a2)
    lw.stop(plain)


def good_agent():
    coll = ctx['coll']
    agent = lw.start_agent(coll_addr(coll), 'pc01')
    recs = lw.wait_event(lw.log_path(coll, 'pc01'), 'text', 'agent.start')
    conn = lw.events(recs, 'host.connect')
    start = lw.events(recs, 'agent.start')
    check('good: pc01 connects over TLS: host.connect tls=true '
          'identity=pc01 and a serial',
          conn and conn[0].get('tls') == 'true' and
          conn[0].get('identity') == 'pc01' and
          len(conn[0].get('serial', '')) >= 8, conn)
    check('good: agent.start says tls=true',
          start and start[0].get('tls') == 'true', start)
    lw.stop(agent)


# Limits before trust

def half_open():
    coll = ctx['coll']
    raw = socket.create_connection(('127.0.0.1', coll.port))
    t0 = time.monotonic()
    sess = lw.open_session(coll.port, 'pc07', src='127.0.0.31')
    sess.sock.sendall(lw.record_frame(1, 'test.one'))
    check('half-open: an agent is served while a TLS handshake is held '
          'half-open', lw.wait_ack(sess, 1) == 1, sess.acked)
    raw.settimeout(5)
    try:
        closed = raw.recv(100) == b''
    except OSError:
        closed = True
    took = time.monotonic() - t0
    raw.close()
    check('half-open: closed by the handshake deadline (2 s)',
          closed and took < 4.5, (closed, took))
    lw.close_session(sess)


def idle_flood():
    coll = ctx['coll']
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4200 + 200
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    socks = []
    try:
        for _ in range(4200):
            try:
                socks.append(socket.create_connection(
                    ('127.0.0.1', coll.port), timeout=2))
            except OSError:
                break
        check('flood: 4,200 idle sockets opened from one address',
              len(socks) == 4200, len(socks))
        time.sleep(0.5)
        sess = lw.open_session(coll.port, 'pc08', src='127.0.0.32')
        sess.sock.sendall(lw.record_frame(1, 'test.one'))
        check('flood: a real agent from its own address is still served',
              lw.wait_ack(sess, 1) == 1, sess.acked)
        lw.close_session(sess)
        check('flood: the collector says why it turned the rest away',
              stderr_has(coll, 'connections from this address wait for '
                         'their handshake already'))
    finally:
        for s in socks:
            s.close()


# Streams no one else can touch

def hijack_and_forgery():
    coll = ctx['coll']
    victim = lw.open_session(coll.port, 'pc10', src='127.0.0.41')
    stream = victim.stream
    victim.sock.sendall(b''.join(lw.record_frame(n, 'test.v', [('n', n)])
                                 for n in (1, 2, 3)))
    check('hijack: the victim\'s first records are ACKed',
          lw.wait_ack(victim, 3) == 3, victim.acked)

    # Another PC (own valid certificate) takes the victim's stream id.
    for label, host, cert, code in (
            ('its own name', 'pc11', 'pc11', lw.BYE_STREAM),
            ('the victim\'s name', 'pc10', 'pc11', lw.BYE_BAD_HOST)):
        sock = lw.connect(coll.port, cert=cert, src='127.0.0.42')
        sock.sendall(lw.hello_frame(host, stream) +
                     lw.record_frame(BIG, 'usb.add', [('forged', 'yes')]))
        frames, closed = lw.read_until_closed(sock)
        sock.close()
        bye = lw.bye_of(frames)
        check('hijack: HELLO with the victim\'s stream under %s: BYE %d, '
              'no WELCOME' % (label, code),
              closed and bye is not None and bye[0] == code and
              not lw.has_type(frames, lw.WELCOME), (closed, bye))

    # The victim's own PC (root on it) writes in the collector's name.
    hostile = [
        ('stream', '%016x' % stream), ('resume_after', BIG),
        ('x', '\n2026-01-01T00:00:00Z pc10 host.connect stream=%016x '
         'resume_after=%d' % (stream, BIG)),
        ('y', '","event":"host.connect","stream":"%016x",'
         '"resume_after":%d,"z":"' % (stream, BIG)),
    ]
    victim.sock.sendall(lw.record_frame(4, 'host.connect', hostile) +
                        lw.record_frame(5, 'host.disconnect') +
                        lw.record_frame(6, 'test.v', hostile))
    check('forgery: records named host.* are taken (ACK 6) but not '
          'stored', lw.wait_ack(victim, 6) == 6, victim.acked)
    recs = lw.wait_records(lw.log_path(coll, 'pc10'), 'text',
                           lambda rs: 6 in lw.seqs(rs))
    refused = lw.events(recs, 'host.refused')
    check('forgery: two host.refused lines name the event and number',
          [(r.get('refused_event'), r.get('number')) for r in refused] ==
          [('host.connect', '4'), ('host.disconnect', '5')], refused)
    check('forgery: the only host.connect is the collector\'s own',
          len(lw.events(recs, 'host.connect')) == 1, recs)
    check('forgery: stderr calls it suspicious',
          stderr_has(coll, 'which only the collector writes'))
    victim.sock.sendall(lw.record_frame(7, 'test.v', [('n', 7)]))
    check('hijack: the victim\'s later records still land',
          lw.wait_ack(victim, 7) == 7, victim.acked)
    lw.close_session(victim)
    lw.wait_event(lw.log_path(coll, 'pc10'), 'text', 'host.disconnect')

    # After a restart the collector still knows the truth.
    lw.stop(coll)
    coll = ctx['coll'] = restart(coll)
    again = lw.open_session(coll.port, 'pc10', stream=stream,
                            src='127.0.0.41')
    check('restart: WELCOME after a restart says 7, not %d' % BIG,
          again.last_seq == 7, again.last_seq)
    again.sock.sendall(lw.record_frame(8, 'test.v', [('n', 8)]))
    check('restart: the victim\'s record 8 lands after the restart',
          lw.wait_ack(again, 8) == 8, again.acked)
    lw.close_session(again)
    recs = lw.wait_records(lw.log_path(coll, 'pc10'), 'text',
                           lambda rs: 8 in lw.seqs(rs))
    check('restart: pc10\'s log holds seq 1..8 once (4 and 5 as '
          'host.refused)', lw.seqs(recs) == [1, 2, 3, 6, 7, 8],
          lw.seqs(recs))


def restart(coll):
    args = [a for a in coll.args]
    p = lw.start(args, 'collector-tls-restarted')
    p.port, p.logdir, p.fmt, p.tls = coll.port, coll.logdir, coll.fmt, True
    p.statedir = coll.statedir
    check('restart: collector back', lw.wait_until(
        lambda: ' started, logs in ' in lw.stderr_text(p), 5))
    return p


def one_key_two_pcs():
    coll = ctx['coll']
    cert = lw.agent_tls_args('pc12')
    a1 = lw.start_agent(coll_addr(coll), 'pc12', heartbeat=1,
                        extra=['--reconnect-max', '1'], name='agent-pc12-a')
    lw.wait_event(lw.log_path(coll, 'pc12'), 'text', 'agent.start')
    a2 = lw.start_agent(coll_addr(coll), 'pc12', heartbeat=1,
                        extra=['--reconnect-max', '1'], name='agent-pc12-b')
    check('one key: the collector warns that two PCs share a key',
          stderr_has(coll, 'two PCs share one key?', 5))
    recs = lw.wait_records(
        lw.log_path(coll, 'pc12'), 'text',
        lambda rs: any(r.get('reason') == 'replaced' for r in rs))
    rep = [r for r in recs if r.get('reason') == 'replaced']
    check('one key: the log says the link was replaced by another agent '
          'with this host\'s certificate', rep and
          'another agent with this host' in rep[0].get('detail', ''), rep)
    streams = [r.get('stream') for r in lw.events(recs, 'host.connect')]
    check('one key: each change of stream comes after a host.connect',
          len(set(streams)) == 2, streams)
    lw.stop(a1)
    lw.stop(a2)
    del cert


def cloned_state():
    coll = ctx['coll']
    st = lw.tmpdir('state-pc13')
    a = lw.start_agent(coll_addr(coll), 'pc13', state_dir=st)
    lw.wait_event(lw.log_path(coll, 'pc13'), 'text', 'agent.start')
    lw.stop(a, signal.SIGKILL)
    clone = os.path.join(lw.tmpdir('clone'), 'state')
    os.chmod(os.path.dirname(clone), 0o755)
    shutil.copytree(st, clone)
    os.unlink(os.path.join(clone, '.labwatch.lock'))
    b = lw.start_agent(coll_addr(coll), 'pc14', state_dir=clone)
    recs = lw.wait_event(lw.log_path(coll, 'pc14'), 'text',
                         'agent.state_reset')
    reset = lw.events(recs, 'agent.state_reset')
    check('clone: an agent on a folder made for pc13 logs '
          'agent.state_reset naming it',
          reset and 'made for host pc13' in reset[0].get('reason', ''),
          recs)
    s13 = lw.events(lw.records_quiet(lw.log_path(coll, 'pc13'), 'text'),
                    'host.connect')[0]['stream']
    s14 = lw.events(recs, 'host.connect')[0]['stream']
    check('clone: with a new stream, numbered from 1',
          s13 != s14 and lw.seqs(recs)[:2] == [1, 2], (s13, s14, recs))
    # A second agent on the same folder is refused at once.
    dup = lw.start([lw.AGENT, '-f', '--collector', coll_addr(coll),
                    '--host', 'pc14', '--state-dir', clone] + lw.QUIET +
                   lw.agent_tls_args('pc14'), 'agent-pc14-dup')
    rc = lw.wait_exit(dup, 5)
    check('lock: a second agent on one state folder exits, naming the '
          'holder\'s pid', rc == 1 and 'pid %d' % b.pid in
          lw.stderr_text(dup), (rc, lw.stderr_text(dup)))
    lw.stop(b)


def welcome_above():
    port = lw.free_port()
    srv = lw.listen(port)
    agent = lw.start_agent('127.0.0.1:%d' % port, 'pc15', heartbeat=1,
                           extra=['--reconnect-max', '1'])
    try:
        c1 = lw.accept(srv)
        _, stream, _, _ = lw.parse_hello(lw.next_of_type(c1, lw.HELLO))
        c1.sendall(lw.welcome_frame(BIG))
        c2 = lw.accept(srv)
        _, stream2, _, _ = lw.parse_hello(lw.next_of_type(c2, lw.HELLO))
        check('welcome: a WELCOME above what the agent numbered makes it '
              'reconnect with a new stream', stream2 != stream,
              (stream, stream2))
        c2.sendall(lw.welcome_frame(0))
        got = []
        for _ in range(3):
            fr = lw.next_of_type(c2, lw.RECORD)
            if fr is None:
                break
            got.append(lw.parse_record(fr))
        events = [g[2] for g in got]
        check('welcome: nothing dropped: agent.start (seq 1) comes again, '
              'then agent.stream_reset', events[:2] ==
              ['agent.start', 'agent.stream_reset'] and got[0][0] == 1,
              got)
        reset = got[1][3] if len(got) > 1 else {}
        check('welcome: agent.stream_reset says what the collector claimed',
              reset.get('claimed') == BIG and
              reset.get('old_stream') == '%016x' % stream, reset)
        c1.close()
        c2.close()
    finally:
        srv.close()
        lw.stop(agent)


def wrong_collector():
    """The agent checks the collector's certificate: the lab CA, and the
    name it dialled."""
    lw.labwatch_ca('server', lw.ca_dir(), 'elsewhere.lab')
    d = os.path.join(lw.ca_dir(), 'servers')
    o = os.path.join(other_ca(), 'hosts')
    for label, pair, want in (
            ('a certificate for another name',
             (os.path.join(d, 'elsewhere.lab.crt'),
              os.path.join(d, 'elsewhere.lab.key')),
             'TLS: IP address mismatch'),
            ('a certificate of another CA',
             (os.path.join(o, 'pc03.crt'), os.path.join(o, 'pc03.key')),
             'TLS: unable to get local issuer certificate')):
        port = lw.free_port()
        srv = lw.listen(port)
        sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        sctx.load_cert_chain(*pair)
        agent = lw.start_agent('127.0.0.1:%d' % port, 'pc19',
                               extra=['--reconnect-max', '1'],
                               name='agent-pc19-' + label.split()[-2])
        raw = lw.accept(srv, tls=False)
        hello = None
        try:
            t = sctx.wrap_socket(raw, server_side=True)
            hello = lw.recv_frame(t, 2)
        except (ssl.SSLError, OSError, TimeoutError):
            pass
        check('collector check: %s: the agent sends nothing' % label,
              hello is None, hello)
        check('collector check: %s: the agent says why' % label,
              stderr_has(agent, want, 5), lw.stderr_text(agent)[-300:])
        srv.close()
        lw.stop(agent)


def revoke_live():
    coll = ctx['coll']
    agent = lw.start_agent(coll_addr(coll), 'pc16', heartbeat=1,
                           extra=['--reconnect-max', '1'])
    other = lw.start_agent(coll_addr(coll), 'pc18', heartbeat=1)
    lw.wait_event(lw.log_path(coll, 'pc16'), 'text', 'agent.start')
    lw.wait_event(lw.log_path(coll, 'pc18'), 'text', 'agent.start')
    lw.labwatch_ca('revoke', lw.ca_dir(), 'pc16')
    coll.send_signal(signal.SIGHUP)
    recs = lw.wait_records(lw.log_path(coll, 'pc16'), 'text',
                           lambda rs: lw.events(rs, 'host.disconnect'))
    disc = lw.events(recs, 'host.disconnect')
    check('revoke: after SIGHUP the live connection is cut '
          '(host.disconnect reason=revoked)',
          disc and disc[0].get('reason') == 'revoked', disc)
    check('revoke: the collector says why',
          stderr_has(coll, 'no longer valid: certificate revoked'))
    time.sleep(3)
    n = len(lw.events(lw.records_quiet(lw.log_path(coll, 'pc16'), 'text'),
                      'host.connect'))
    check('revoke: the agent cannot connect again', n == 1, n)
    ev18 = events_of(coll, 'pc18')
    check('revoke: other agents stay connected through the reload',
          lw.running(coll) and ev18.count('host.connect') == 1 and
          'host.disconnect' not in ev18, ev18)
    lw.stop(agent)
    lw.stop(other)


def capture():
    """tcpdump on loopback sees no record text over TLS (and, as a control
    that the capture works, sees it on a plaintext link)."""
    if not shutil.which('tcpdump'):
        check('capture: tcpdump is installed (make check installs it)',
              False)
        return
    marker = 'EXAM-ANSWER-%d' % os.getpid()
    for tls in (True, False):
        coll = ctx['coll'] if tls else lw.start_collector(
            tls=False, name='collector-capture')
        pcap = os.path.join(lw.tmpdir('pcap'), 'link.pcap')
        dump = subprocess.Popen(['tcpdump', '-i', 'lo', '-U', '-w', pcap,
                                 'tcp port %d' % coll.port],
                                stderr=subprocess.PIPE)
        time.sleep(1)
        sess = lw.open_session(coll.port, 'pc17', tls=tls, src='127.0.0.51')
        sess.sock.sendall(lw.record_frame(1, 'usb.write',
                                          [('path', marker)]))
        lw.wait_ack(sess, 1)
        lw.close_session(sess)
        time.sleep(1)
        dump.send_signal(signal.SIGINT)
        dump.wait(5)
        data = lw.read_bytes(pcap)
        logged = marker in lw.read_bytes(lw.log_path(
            coll, 'pc17')).decode('utf-8', 'replace')
        if tls:
            check('capture: the record reached the log, and a capture of '
                  'the TLS link holds no record text',
                  logged and len(data) > 500 and marker.encode() not in
                  data, (logged, len(data)))
        else:
            check('capture: on a plaintext link the same capture does '
                  'show it (the check can fail)',
                  logged and marker.encode() in data, len(data))
            lw.stop(coll)


# Enrolment

def enrol(host, secret_file, src=None, ca=None):
    d = lw.tmpdir('enrol-' + host)
    crt, key = os.path.join(d, 'agent.crt'), os.path.join(d, 'agent.key')
    p = subprocess.run([lw.AGENT, '--enroll', coll_addr(ctx['coll']),
                        '--host', host, '--enroll-secret', secret_file,
                        '--tls-ca', ca or lw.ca_file(), '--tls-cert', crt,
                        '--tls-key', key], capture_output=True, text=True,
                       timeout=30)
    return p, crt, key


def enrolment():
    coll = ctx['coll']
    secret = os.path.join(lw.ca_dir(), 'enroll.secret')
    p, crt, key = enrol('pc21', secret)
    check('enrol: pc21 with the lab\'s secret: exit 0', p.returncode == 0,
          p.stderr)
    v = subprocess.run(['openssl', 'verify', '-CAfile', lw.ca_file(), crt],
                       capture_output=True, text=True)
    check('enrol: the stored certificate verifies against the lab CA',
          v.returncode == 0, v.stdout + v.stderr)
    check('enrol: the key is mode 600',
          os.path.exists(key) and os.stat(key).st_mode & 0o777 == 0o600)
    lst = lw.labwatch_ca('list', lw.ca_dir()).stdout
    check('enrol: labwatch-ca list shows pc21 valid',
          any(line.split('\t')[:2] == ['pc21', 'host'] and
              '\tvalid\t' in line for line in lst.splitlines()), lst)
    check('enrol: the collector logged the enrolment',
          stderr_has(coll, 'enrolled pc21 from 127.0.0.1'))
    agent = lw.start([lw.AGENT, '-f', '--collector', coll_addr(coll),
                      '--state-dir', lw.tmpdir('a21'), '--tls-ca',
                      lw.ca_file(), '--tls-cert', crt, '--tls-key', key] +
                     lw.QUIET, 'agent-pc21')
    recs = lw.wait_event(lw.log_path(coll, 'pc21'), 'text', 'agent.start')
    conn = lw.events(recs, 'host.connect')
    check('enrol: the enrolled PC connects, named by its certificate '
          '(no --host)', conn and conn[0].get('identity') == 'pc21', recs)
    lw.stop(agent)

    bad = os.path.join(lw.tmpdir('bad'), 'secret')
    with open(bad, 'w') as f:
        f.write('not-the-secret\n')
    os.chmod(bad, 0o600)
    for label, host, sec, why in (
            ('a wrong secret', 'pc22', bad, 'wrong secret'),
            ('a name outside the allowlist', 'lab3-pc1', secret,
             'name not on the enrolment allowlist'),
            ('a name already enrolled', 'pc01', secret,
             'already enrolled')):
        p, crt, key = enrol(host, sec)
        check('enrol: %s: refused (exit 1, says why)' % label,
              p.returncode == 1 and why in p.stderr, (p.returncode,
                                                       p.stderr))
        check('enrol: %s: no certificate or key stored' % label,
              not os.path.exists(crt) and not os.path.exists(key))
        check('enrol: %s: the collector logs the attempt' % label,
              stderr_has(coll, 'enrolment of %s from 127.0.0.1 refused: '
                         '%s' % (host, why)))
    for _ in range(2):
        enrol('pc23', bad)
    p, crt, key = enrol('pc24', secret)
    check('enrol: after 5 failures in a minute the address is turned '
          'away, even with the right secret',
          p.returncode == 1 and 'too many failed attempts' in p.stderr,
          p.stderr)
    os.chmod(bad, 0o644)
    p, _, _ = enrol('pc25', bad)
    check('enrol: a secret file open to others is refused before '
          'connecting (exit 2)', p.returncode == 2 and 'chmod 600' in
          p.stderr, (p.returncode, p.stderr))


def start_checks():
    pair = lw.host_cert('pc30')
    d = lw.tmpdir('loose')
    key = os.path.join(d, 'agent.key')
    shutil.copy(pair[1], key)
    os.chmod(key, 0o644)
    p = subprocess.run([lw.AGENT, '-f', '--collector', '127.0.0.1:1',
                        '--state-dir', d, '--tls-ca', lw.ca_file(),
                        '--tls-cert', pair[0], '--tls-key', key] + lw.QUIET,
                       capture_output=True, text=True, timeout=10)
    check('start: a key open to group/others is refused with exit 2 and '
          'how to fix it', p.returncode == 2 and 'chmod 600 ' + key in
          p.stderr, (p.returncode, p.stderr))
    p = subprocess.run([lw.AGENT, '-f', '--collector', '127.0.0.1:1',
                        '--host', 'pc31', '--state-dir', d] +
                       lw.agent_tls_args('pc30') + lw.QUIET,
                       capture_output=True, text=True, timeout=10)
    check('start: --host that the certificate does not name: exit 2',
          p.returncode == 2 and 'not a certificate for host pc31' in
          p.stderr, (p.returncode, p.stderr))
    coll = ctx['coll']
    dup = lw.start([lw.COLLECTOR, '-f', '-l', '127.0.0.1:%d' %
                    lw.free_port(), '-d', lw.tmpdir('l2'), '--state-dir',
                    coll.statedir] + lw.collector_tls_args(),
                   'collector-dup')
    rc = lw.wait_exit(dup, 5)
    check('lock: a second collector on one state folder exits, naming '
          'the holder\'s pid', rc == 1 and 'pid %d' % coll.pid in
          lw.stderr_text(dup), (rc, lw.stderr_text(dup)))
    p = subprocess.run([lw.COLLECTOR, '-f', '-l', '127.0.0.1:1', '-d', d,
                        '--state-dir', lw.tmpdir('s3'), '--tls-ca',
                        lw.ca_file()], capture_output=True, text=True,
                       timeout=10)
    check('start: a collector without its certificate exits 2 saying '
          'what is missing', p.returncode == 2 and
          'collector.crt' in p.stderr, (p.returncode, p.stderr))


def main():
    if not check('binaries are built', os.access(lw.COLLECTOR, os.X_OK) and
                 os.access(lw.AGENT, os.X_OK), lw.BUILD):
        return
    lw.labwatch_ca('secret', lw.ca_dir())
    lw.host_cert('pc01')
    ctx['coll'] = lw.start_collector(
        extra=['--handshake-timeout', '2', '--idle-timeout', '60',
               '--enroll-hosts', 'pc[01-40], lab2-*', '--enroll-secret',
               os.path.join(lw.ca_dir(), 'enroll.hash'), '--enroll-ca',
               lw.ca_dir()], name='collector-tls')
    for step in (good_agent, refused_certificates, wrong_name,
                 plaintext_mismatch, half_open, idle_flood,
                 hijack_and_forgery, one_key_two_pcs, cloned_state,
                 welcome_above, wrong_collector, revoke_live, capture, start_checks,
                 enrolment):
        lw.step(step.__name__, step)
    rc = lw.stop(ctx['coll'])
    check('collector exits 0 at the end', rc == 0, rc)


if __name__ == '__main__':
    lw.run(main)
