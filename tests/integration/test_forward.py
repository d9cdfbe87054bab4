#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Forwarding to a real rsyslog (Debian's rsyslogd, imtcp, and imtcp with
the OpenSSL driver on a certificate of the run's lab CA; mmjsonparse
parses the JSON message): RFC 5424 with octet counting over TCP (format
json) and over TLS (format ecs); every record arrives once with HOSTNAME,
APP-NAME, MSGID, structured data and the JSON parsed.  Then the queue
under a downstream that is down for a while and a kill -9 of the
collector: every record acknowledged to the agent reaches rsyslog, and
the only duplicates are copies with the same identity (host, stream,
seq)."""
import json
import os
import shutil
import socket
import subprocess
import time

import lwtest
from lwtest import check

RSYSLOGD = shutil.which('rsyslogd') or '/usr/sbin/rsyslogd'

RS_CONF = '''
global(workDirectory="{d}" maxMessageSize="256k")
module(load="imtcp")
module(load="mmjsonparse")
template(name="lw" type="list") {{
  property(name="hostname") constant(value="\\t")
  property(name="app-name") constant(value="\\t")
  property(name="msgid") constant(value="\\t")
  property(name="structured-data") constant(value="\\t")
  property(name="$!all-json") constant(value="\\n")
}}
ruleset(name="plain") {{
  action(type="mmjsonparse" cookie="")
  action(type="omfile" file="{d}/plain.out" template="lw")
}}
ruleset(name="tls") {{
  action(type="mmjsonparse" cookie="")
  action(type="omfile" file="{d}/tls.out" template="lw")
}}
ruleset(name="small") {{
  action(type="mmjsonparse" cookie="")
  action(type="omfile" file="{d}/small.out" template="lw")
}}
input(type="imtcp" address="127.0.0.1" port="{plain}" ruleset="plain")
input(type="imtcp" address="127.0.0.1" port="{small}" ruleset="small")
input(type="imtcp" address="127.0.0.1" port="{tls}" ruleset="tls"
      streamDriver.name="ossl" streamDriver.mode="1"
      streamDriver.authMode="anon" streamDriver.CAFile="{ca}"
      streamDriver.CertFile="{cert}" streamDriver.KeyFile="{key}")
'''

# A string with everything RFC 5424 escapes in SD-PARAM values.
NASTY = 'a "quoted" back\\slash ]bracket\u00e9'


def start_rsyslog(d, ports):
    cert, key = lwtest.server_cert()
    conf = os.path.join(d, 'rsyslog.conf')
    with open(conf, 'w') as f:
        f.write(RS_CONF.format(d=d, plain=ports[0], tls=ports[1],
                               small=ports[2],
                               ca=lwtest.ca_file(), cert=cert, key=key))
    proc = lwtest.start([RSYSLOGD, '-n', '-f', conf, '-i',
                         os.path.join(d, 'rsyslog.pid')], 'rsyslogd')

    def listening():
        for p in ports:
            try:
                socket.create_connection(('127.0.0.1', p), 0.2).close()
            except OSError:
                return False
        return True
    check('rsyslogd listens on its two ports',
          lwtest.wait_until(listening, 10) and lwtest.running(proc),
          lwtest.stderr_text(proc)[-300:])
    return proc


def received(path):
    """[(hostname, app, msgid, sd, json)] rsyslog wrote."""
    out = []
    try:
        lines = open(path, encoding='utf-8').read().splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        parts = line.split('\t', 4)
        if len(parts) != 5:
            continue
        try:
            doc = json.loads(parts[4])
        except ValueError:
            doc = None
        out.append((parts[0], parts[1], parts[2], parts[3], doc))
    return out


def ids(msgs, key):
    return [key(m[4]) for m in msgs if m[4] is not None]


def json_id(doc):
    return doc.get('record_id')


def ecs_id(doc):
    return doc.get('event', {}).get('id')


def send_batch(port, host, stream, first, n, tag):
    """Sends records first..first+n-1 on a new session; returns once all
    are acknowledged (and how long the last ACK took)."""
    sess = lwtest.open_session(port, host, stream)
    frames = b''
    for seq in range(first, first + n):
        frames += lwtest.record_frame(seq, 'test.fwd', [
            ('n', seq), ('tag', tag), ('note', NASTY),
            ('items', ['x', 'y z'])])
    t0 = time.monotonic()
    sess.sock.sendall(frames)
    acked = lwtest.wait_ack(sess, first + n - 1, 10)
    took = time.monotonic() - t0
    lwtest.close_session(sess)
    return acked, took


def agent_seqs(msgs, key, host, stream):
    """The agent seqs of host's stream among msgs, in arrival order."""
    prefix = '%s/%016x/' % (host, stream)
    return [int(i[len(prefix):]) for i in ids(msgs, key)
            if i is not None and i.startswith(prefix)]


def same_copies(msgs, key):
    """Whether every copy of an identity carries the same record."""
    seen = {}
    for m in msgs:
        if m[4] is None:
            continue
        doc = dict(m[4])
        i = key(doc)
        if i in seen and seen[i] != doc:
            return False, i
        seen[i] = doc
    return True, None


def main():
    d = lwtest.tmpdir('forward')
    os.chmod(d, 0o755)
    ports = (lwtest.free_port(), lwtest.free_port(), lwtest.free_port())
    rs = start_rsyslog(d, ports)
    statedir = lwtest.tmpdir('fwdstate')
    extra = ['--forward', 'plain syslog tcp://127.0.0.1:%d queue 1048576'
             % ports[0],
             '--forward', 'sec syslog tls://127.0.0.1:%d ca %s name '
             'localhost format ecs' % (ports[1], lwtest.ca_file()),
             # The server's certificate does not name this: refused.
             '--forward', 'wrongname syslog tls://127.0.0.1:%d ca %s name '
             'relay.example' % (ports[1], lwtest.ca_file()),
             # 64 KiB: the outage overflows it.
             '--forward', 'small syslog tcp://127.0.0.1:%d queue 65536'
             % ports[2]]
    coll = lwtest.start_collector(statedir=statedir, extra=extra)
    check('both outputs connect',
          lwtest.wait_until(lambda: lwtest.stderr_text(coll).count(
              'connected to 127.0.0.1') >= 3, 10),
          lwtest.stderr_text(coll)[-400:])

    host, stream, n1 = 'pc-fwd', lwtest.new_stream(), 200
    acked, _ = send_batch(coll.port, host, stream, 1, n1, 'one')
    check('the first %d records are acknowledged' % n1, acked == n1,
          'acked %d' % acked)
    plain_out = os.path.join(d, 'plain.out')
    tls_out = os.path.join(d, 'tls.out')
    for name, path, key in (('tcp/json', plain_out, json_id),
                            ('tls/ecs', tls_out, ecs_id)):
        lwtest.wait_until(lambda: len(agent_seqs(received(path), key, host,
                                                 stream)) >= n1, 15)
        msgs = received(path)
        seqs = agent_seqs(msgs, key, host, stream)
        check('%s: every record arrived once, in order' % name,
              seqs == list(range(1, n1 + 1)),
              '%d arrived, first %r' % (len(seqs), seqs[:5]))
        mine = [m for m in msgs if m[4] is not None and
                m[2] == 'test.fwd']
        check('%s: HOSTNAME is the PC, APP-NAME labwatch, MSGID the event, '
              'the JSON parsed' % name,
              mine and all(m[0] == host and m[1] == 'labwatch' and
                           'msg' not in m[4] for m in mine),
              repr(mine[:1])[:300])
        sd = mine[0][3] if mine else ''
        check('%s: identity and fields as structured data, escaped' % name,
              ('[labwatch-id@32473 host="%s" stream="%016x" seq="1"]'
               % (host, stream)) in sd and
              'note="a \\"quoted\\" back\\\\slash \\]bracket\u00e9"' in sd
              and 'items="x,y z"' in sd and 'n="1"' in sd, sd[:300])
        conn = [m for m in msgs if m[2] == 'host.connect']
        check('%s: the collector\'s own records go too (host.connect)'
              % name, len(conn) >= 1, '%d' % len(conn))
    check('an output whose server certificate names another host is '
          'refused (TLS verification)',
          'forward wrongname: syslog 127.0.0.1:%d: TLS:' % ports[1] in
          lwtest.stderr_text(coll) and
          not any(m[4] and 'record_id' in m[4] for m in received(tls_out)),
          lwtest.stderr_text(coll)[-300:])
    doc = received(plain_out)[0][4] if received(plain_out) else {}
    first = [m[4] for m in received(plain_out)
             if m[4] and m[4].get('event') == 'test.fwd']
    check('format json: the log\'s JSON with record_id, fields typed',
          first and first[0].get('note') == NASTY and
          first[0].get('n') == 1 and first[0].get('items') == ['x', 'y z']
          and first[0].get('host') == host and
          first[0].get('record_id') == '%s/%016x/1' % (host, stream),
          repr(first[:1] or doc)[:300])
    ecs = [m[4] for m in received(tls_out)
           if m[4] and m[4].get('event', {}).get('action') == 'test.fwd']
    e = ecs[0] if ecs else {}
    check('format ecs: @timestamp, event.*, host.name, labwatch.*',
          '@timestamp' in e and e.get('host', {}).get('name') == host and
          e.get('event', {}).get('category') == ['host'] and
          e.get('labwatch', {}).get('seq') == 1 and
          e.get('labwatch', {}).get('stream') == '%016x' % stream and
          e.get('labwatch', {}).get('note') == NASTY,
          json.dumps(e)[:300])

    # The downstream goes away; the collector still ACKs at once.
    lwtest.stop(rs)
    # The delivery point is saved once a second.
    time.sleep(1.5)
    n2, n3 = 300, 100
    acked, took = send_batch(coll.port, host, stream, n1 + 1, n2, 'two')
    check('with rsyslog down, %d more records are acknowledged' % n2,
          acked == n1 + n2, 'acked %d' % acked)
    check('... without waiting for the downstream (%.2f s)' % took,
          took < 5, '%.2f s' % took)
    # kill -9: the queue on disk is all that is left of them.
    coll.kill()
    coll.wait()
    logdir1 = coll.logdir
    check('kill -9 left the queue on disk',
          len(os.listdir(os.path.join(statedir, 'forward', 'plain'))) >= 2)
    coll = lwtest.start_collector(statedir=statedir, extra=extra,
                                  name='collector-again')
    acked, _ = send_batch(coll.port, host, stream, n1 + n2 + 1, n3, 'three')
    check('after the restart %d more are acknowledged' % n3,
          acked == n1 + n2 + n3, 'acked %d' % acked)
    time.sleep(1)
    rs = start_rsyslog(d, ports)
    total = n1 + n2 + n3
    for name, path, key in (('tcp/json', plain_out, json_id),
                            ('tls/ecs', tls_out, ecs_id)):
        lwtest.wait_until(lambda: set(agent_seqs(received(path), key, host,
                                                 stream)) >=
                          set(range(1, total + 1)), 20)
        msgs = received(path)
        seqs = agent_seqs(msgs, key, host, stream)
        missing = sorted(set(range(1, total + 1)) - set(seqs))
        check('%s: every acknowledged record reached rsyslog' % name,
              not missing, '%d missing, first %r' % (len(missing),
                                                   missing[:5]))
        check('%s: what was delivered before the crash is not sent again'
              % name, all(seqs.count(s) == 1 for s in range(1, n1 + 1)),
              'sent again: %d' % sum(seqs.count(s) > 1
                                     for s in range(1, n1 + 1)))
        same, bad = same_copies(msgs, key)
        check('%s: duplicates (%d) only as copies with the same identity'
              % (name, len(seqs) - len(set(seqs))), same, repr(bad))
        check('%s: no record without its identity' % name,
              all(key(m[4]) for m in msgs if m[4] is not None))
    # What an admin sees: labwatchctl outputs and the metrics.
    ctl = os.path.join(lwtest.ROOT, 'scripts', 'labwatchctl')
    out = subprocess.run([ctl, '-s', coll.control, 'outputs'],
                         capture_output=True, text=True, timeout=10)
    check('labwatchctl outputs lists the three outputs and their queues',
          out.returncode == 0 and all(
              n in out.stdout for n in ('plain (syslog): connected to',
                                        'sec (syslog): connected to',
                                        'wrongname (syslog): 127.0.0.1:',
                                        'small (syslog)')) and
          'dropped' in out.stdout, out.stdout + out.stderr)
    # The small queue dropped its oldest and said so in lab.log.
    small = received(os.path.join(d, 'small.out'))
    got = set(agent_seqs(small, json_id, host, stream))
    missing = set(range(1, total + 1)) - got
    drops = [r for r in lwtest.records_quiet(
        lwtest.log_path(coll.logdir, 'lab'), 'text') +
        lwtest.records_quiet(lwtest.log_path(logdir1, 'lab'), 'text')
        if r.get('event') == 'lab.forward_dropped']
    dropped = sum(int(r.get('count', 0)) for r in drops
                  if r.get('output') == 'small')
    check('small queue: lab.forward_dropped says what it dropped',
          drops and all(r.get('output') == 'small' and
                        r.get('reason') == 'queue full' for r in drops),
          repr(drops[:2])[:300])
    check('small queue: the newest records arrived (oldest dropped)',
          set(range(n1 + n2 + 1, total + 1)) <= got,
          '%d of the last %d' % (len(set(range(n1 + n2 + 1, total + 1)) &
                                     got), n3))
    check('small queue: each missing record is counted as dropped '
          '(%d missing, %d reported)' % (len(missing), dropped),
          0 < len(missing) <= dropped, '')
    check('small queue: the report reached rsyslog too',
          any(m[2] == 'lab.forward_dropped' for m in small))
    lwtest.stop(coll)
    lwtest.stop(rs)


if __name__ == '__main__':
    lwtest.run(main)
