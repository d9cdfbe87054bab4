# SPDX-License-Identifier: ISC
"""A collector under attack from raw sockets keeps serving a good agent.

One collector (text format, 1 s handshake timeout) and one well-behaved
protocol client ("good") run the whole time.  Each attack below comes from
its own socket; after each, the good client sends another record and must
get its ACK and find the record in good.log.  The letters follow the test
plan: (a) garbage, (b) oversized frames, (c) unknown version/type, (d) short
frames, (e) frames before HELLO, (f) bad host names, (g) broken records,
(h) planted symlinks, (i) silence, (j) slowloris, (k) hostile strings and
extreme values, (l) 20 clients at once, (m) resends, (n) --max-conns,
(o) a client that never reads its ACKs.
"""

import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True
import lwtest as lw  # noqa: E402
from lwtest import check

ctx = {}
N_GOOD = 10


# The good client and the probes

def setup():
    # Twenty clients from one address connect at once in (l).
    coll = lw.start_collector(extra=['--handshake-timeout', '1',
                                     '--idle-timeout', '60',
                                     '--max-pending-per-addr', '32'],
                              name='collector-hostile')
    ctx['coll'], ctx['port'], ctx['logdir'] = coll, coll.port, coll.logdir
    ctx['root'] = os.path.dirname(coll.logdir)
    good = lw.open_session(coll.port, 'good')
    ctx['good'], ctx['next'] = good, N_GOOD + 1
    for seq in range(1, N_GOOD + 1):
        good.sock.sendall(lw.record_frame(seq, 'test.good', [('n', seq)]))
    check('good client: ACKs advance to %d' % N_GOOD,
          lw.wait_ack(good, N_GOOD) == N_GOOD, good.acked)
    recs = lw.wait_records(lw.log_path(coll, 'good'), 'text',
                           lambda rs: N_GOOD in lw.seqs(rs))
    check('good client: good.log has seq 1..%d' % N_GOOD,
          lw.seqs(recs) == list(range(1, N_GOOD + 1)), lw.seqs(recs))


def still_serves(label, timeout=3.0):
    """The good client sends one more record: ACKed and in good.log."""
    good, seq = ctx['good'], ctx['next']
    ctx['next'] += 1
    path = lw.log_path(ctx['logdir'], 'good')
    sent = lw.running(ctx['coll']) and lw.send_quiet(
        good.sock, lw.record_frame(seq, 'test.good', [('n', seq)]))
    acked = lw.wait_ack(good, seq, timeout) if sent else None
    recs = lw.wait_records(path, 'text', lambda rs: seq in lw.seqs(rs), 1)
    check('%s: then the good client gets ACK %d and its record is logged' %
          (label, seq), acked == seq and
          lw.seqs(recs) == list(range(1, seq + 1)),
          'collector running=%s ack=%r last seqs=%r' % (
              lw.running(ctx['coll']), acked, lw.seqs(recs)[-3:]))


def listing():
    """Every path under the test's temporary root, for before/after."""
    found = set()
    for d, dirs, files in os.walk(ctx['root']):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(d, name), ctx['root']))
    return {p for p in found if not p.endswith('.stderr')}


def attack(data, timeout=3.0, cert='attacker'):
    """Connects (over TLS with the certificate of host cert: a student with
    a PC's key), sends data, reads until closed: (frames, closed, port)."""
    sock = lw.connect(ctx['port'], cert=cert)
    port = sock.getsockname()[1]
    lw.send_quiet(sock, data)
    frames, closed = lw.read_until_closed(sock, timeout)
    sock.close()
    return frames, closed, port


def check_refused(label, frames, closed, codes=(lw.BYE_PROTOCOL,)):
    """No WELCOME, the connection closed, and (if codes) a BYE with one."""
    check('%s: connection closed, no WELCOME' % label,
          closed and not lw.has_type(frames, lw.WELCOME),
          'closed=%s frames=%r' % (closed, [t for t, _ in frames]))
    if codes:
        bye = lw.bye_of(frames)
        check('%s: BYE code %s' % (label, '/'.join(map(str, codes))),
              bye is not None and bye[0] in codes, bye)


def pre_hello_attack(label, data, codes=(lw.BYE_PROTOCOL,)):
    before = listing()
    frames, closed, _ = attack(data)
    check_refused(label, frames, closed, codes)
    after = listing()
    check('%s: no file created' % label, after == before,
          sorted(after - before))
    still_serves(label)


def session_attack(label, host, data, marker=None):
    """HELLO as host, one good record, then data: the collector must close
    with BYE 2 and log host.disconnect reason=protocol, and nothing of the
    bad frame (marker) may reach the log."""
    sess = lw.open_session(ctx['port'], host)
    sess.sock.sendall(lw.record_frame(1, 'test.ok', [('n', 1)]))
    check('%s: good record before the attack ACKed' % label,
          lw.wait_ack(sess, 1) == 1, sess.acked)
    lw.send_quiet(sess.sock, data)
    frames, closed = lw.read_until_closed(sess.sock)
    lw.close_session(sess)
    check_refused(label, frames, closed)
    path = lw.log_path(ctx['logdir'], host)
    recs = lw.wait_event(path, 'text', 'host.disconnect')
    disc = lw.events(recs, 'host.disconnect')
    check('%s: %s.log gets host.disconnect reason=protocol' % (label, host),
          len(disc) == 1 and disc[0].get('reason') == 'protocol' and
          recs[-1] is disc[0], recs[-1:])
    check('%s: only the good record is stored' % label,
          lw.seqs(recs) == [1] and
          [r['event'] for r in recs] ==
          ['host.connect', 'test.ok', 'host.disconnect'],
          [r.get('event') for r in recs])
    if marker:
        check('%s: nothing of the bad record in the log' % label,
              marker.encode() not in lw.read_bytes(path), marker)
    still_serves(label)
    return disc[0] if disc else {}


# (a) - (e): frames that are not frames

def garbage():
    rnd = random.Random(4242)
    data = bytearray(rnd.randbytes(4096))
    data[0] = 0x00                      # surely not the magic
    pre_hello_attack('(a) 4 KiB of random bytes', bytes(data), codes=())

    label = '(a) "GET / HTTP/1.0"'
    before = listing()
    frames, closed, port = attack(b'GET / HTTP/1.0\r\n\r\n')
    check_refused(label, frames, closed)
    check('%s: no file created' % label, listing() == before)
    peer = '127.0.0.1:%d' % port
    found = lw.wait_until(lambda: [
        line for line in lw.stderr_text(ctx['coll']).splitlines()
        if peer in line and 'bad magic' in line], 2)
    check('%s: collector stderr warns naming the peer %s' % (label, peer),
          found, lw.stderr_text(ctx['coll'])[-300:])
    still_serves(label)


def oversize():
    pre_hello_attack('(b) HELLO header with length 1 GiB',
                     lw.header(lw.HELLO, 1 << 30))
    pre_hello_attack('(b) HELLO header with length max-frame+1',
                     lw.header(lw.HELLO, 65537))
    disc = session_attack('(b) RECORD header with length 1 GiB', 'b-big',
                          lw.header(lw.RECORD, 1 << 30))
    check('(b) disconnect detail says the frame is too long',
          'longer than the maximum' in disc.get('detail', ''), disc)
    session_attack('(b) RECORD header with length 2^32-1', 'b-huge',
                   lw.header(lw.RECORD, 0xffffffff))

    # The limit itself is allowed: a record of exactly max-frame bytes.
    label = '(b) RECORD of exactly max-frame (65536) bytes'
    sess = lw.open_session(ctx['port'], 'b-edge')
    payload = lw.record_payload(1, 'test.big', [('pad', 'A' * 65500)])
    check('%s: built to size' % label, len(payload) == 65536, len(payload))
    sess.sock.sendall(lw.frame(lw.RECORD, payload))
    check('%s: accepted and ACKed' % label, lw.wait_ack(sess, 1) == 1,
          sess.acked)
    lw.close_session(sess)
    still_serves(label)


def bad_headers():
    hello = lw.hello_payload('c-host', 1)
    pre_hello_attack('(c) unknown version 2',
                     lw.frame(lw.HELLO, hello, version=2))
    pre_hello_attack('(c) unknown version 0',
                     lw.frame(lw.HELLO, hello, version=0))
    pre_hello_attack('(c) unknown type 7', lw.frame(7, b'\0' * 24))
    pre_hello_attack('(c) unknown type 0', lw.frame(0, b'\0' * 24))
    pre_hello_attack('(c) unknown type 255', lw.frame(255, b'\0' * 24))
    session_attack('(c) unknown type 9 after HELLO', 'c-type',
                   lw.frame(9, b'\0' * 24))
    session_attack('(c) a WELCOME from the agent', 'c-welcome',
                   lw.frame(lw.WELCOME, b'\0' * 16))
    session_attack('(c) unknown version after HELLO', 'c-version',
                   lw.frame(lw.RECORD, lw.record_payload(2, 'test.x'),
                            version=9))
    session_attack('(c) a second HELLO', 'c-hello2',
                   lw.hello_frame('c-hello2', 5))

    pre_hello_attack('(d) HELLO of 5 bytes (minimum 17)',
                     lw.frame(lw.HELLO, b'\0' * 5))
    pre_hello_attack('(d) HELLO of 0 bytes', lw.frame(lw.HELLO, b''))
    pre_hello_attack('(d) HELLO whose host runs past the frame',
                     lw.frame(lw.HELLO, struct.pack('>H', 200) +
                              b'x' * 15))
    pre_hello_attack('(d) HELLO with trailing bytes',
                     lw.frame(lw.HELLO, hello + b'junk'))
    session_attack('(d) RECORD of 20 bytes (minimum 21)', 'd-short',
                   lw.frame(lw.RECORD, b'\0' * 20))
    session_attack('(d) ACK of 0 bytes (minimum 8)', 'd-ack',
                   lw.frame(lw.ACK, b''))
    session_attack('(d) BYE whose reason runs past the frame', 'd-bye',
                   lw.frame(lw.BYE, struct.pack('>HH', 1, 50) + b'abc'))

    pre_hello_attack('(e) RECORD before HELLO',
                     lw.record_frame(1, 'test.early', [('k', 'MARK-e')]))
    pre_hello_attack('(e) HEARTBEAT before HELLO',
                     lw.record_frame(1, 'agent.heartbeat',
                                     ftype=lw.HEARTBEAT))
    pre_hello_attack('(e) BYE before HELLO', lw.bye_frame(1, 'bye'))


# (f) host names that must never become file names

BAD_HOSTS = [
    ('"../etc/passwd"', b'../etc/passwd', (lw.BYE_BAD_HOST,)),
    ('".hidden"', b'.hidden', (lw.BYE_BAD_HOST,)),
    ('".."', b'..', (lw.BYE_BAD_HOST,)),
    ('"a/b"', b'a/b', (lw.BYE_BAD_HOST,)),
    ('"pc\\nB"', b'pc\nB', (lw.BYE_BAD_HOST,)),
    ('"pc\\0B" (NUL byte)', b'pc\x00B', (lw.BYE_BAD_HOST,)),
    ('"pc B"', b'pc B', (lw.BYE_BAD_HOST,)),
    ('"\\x1b[2J" (ESC)', b'\x1b[2J', (lw.BYE_BAD_HOST,)),
    ('"" (empty)', b'', (lw.BYE_PROTOCOL, lw.BYE_BAD_HOST)),
    ('65 characters', b'h' * 65, (lw.BYE_PROTOCOL, lw.BYE_BAD_HOST)),
]


def bad_hosts():
    root = ctx['root']
    absolute = os.path.join(root, 'abs')
    cases = BAD_HOSTS + [('"<tmp>/abs" (absolute path)',
                          absolute.encode(), (lw.BYE_BAD_HOST,))]
    for label, name, codes in cases:
        label = '(f) host ' + label
        before = listing()
        frames, closed, _ = attack(lw.hello_frame(name, lw.new_stream()))
        check_refused(label, frames, closed, codes)
        after = listing()
        check('%s: no file created anywhere' % label, after == before,
              sorted(after - before))
    check('(f) nothing appeared outside the log dir (etc/passwd.log, '
          'abs.log)', not os.path.exists(os.path.join(root, 'etc')) and
          not os.path.exists(absolute + '.log') and
          not os.path.exists('/etc/passwd.log'))
    names = [n for n in os.listdir(ctx['logdir'])
             if n != '.labwatch.lock']
    check('(f) no log file named after a bad name',
          not [n for n in names if n.startswith(('.', 'a', 'pc', 'h' * 60))
               or '\x1b' in n], names)
    text = lw.stderr_text(ctx['coll'])
    check('(f) stderr shows the refused name escaped ("pc\\nB")',
          'refused host name "pc\\nB"' in text, text[-300:])
    still_serves('(f) bad host names')


# (g) broken records after a good HELLO

def rec_head(seq, event, nfields):
    return (struct.pack('>QQ', seq, int(time.time() * 1e6)) +
            lw.str16(event) + struct.pack('>H', nfields))


def bad_records():
    cases = [
        ('(g) field running past the frame', 'g-past',
         rec_head(2, 'test.bad', 1) + b'\x01' + lw.str16('k') +
         struct.pack('>H', 100) + b'MARK-g-past'),
        ('(g) nfields larger than the fields sent', 'g-count',
         rec_head(2, 'test.bad', 3) + lw.field_bytes(('k', 'MARK-g-count'))),
        ('(g) bad event name', 'g-event',
         rec_head(2, 'Bad Event!', 1) + lw.field_bytes(('k', 'MARK-g-ev'))),
        ('(g) event name "../x"', 'g-event2',
         rec_head(2, '../x', 1) + lw.field_bytes(('k', 'MARK-g-ev2'))),
        ('(g) reserved key "host"', 'g-reserved',
         rec_head(2, 'test.bad', 2) + lw.field_bytes(('k', 'MARK-g-res')) +
         lw.field_bytes(('host', 'other'))),
        ('(g) reserved key "seq"', 'g-seqkey',
         rec_head(2, 'test.bad', 2) + lw.field_bytes(('k', 'MARK-g-sk')) +
         lw.field_bytes(('seq', 99))),
        ('(g) duplicate key', 'g-dup',
         rec_head(2, 'test.bad', 2) + lw.field_bytes(('k', 'MARK-g-dup')) +
         lw.field_bytes(('k', 'again'))),
        ('(g) key with a space', 'g-key',
         rec_head(2, 'test.bad', 1) + lw.field_bytes(('a b', 'MARK-g-key'))),
        ('(g) unknown field type 9', 'g-ftype',
         rec_head(2, 'test.bad', 2) + lw.field_bytes(('k', 'MARK-g-ft')) +
         b'\x09' + lw.str16('x') + b'\0' * 8),
        ('(g) boolean 2', 'g-bool',
         rec_head(2, 'test.bad', 2) + lw.field_bytes(('k', 'MARK-g-bool')) +
         b'\x03' + lw.str16('b') + b'\x02'),
        ('(g) list whose items run past the frame', 'g-list',
         rec_head(2, 'test.bad', 2) + lw.field_bytes(('k', 'MARK-g-list')) +
         b'\x04' + lw.str16('l') + struct.pack('>H', 60000) + b'\0\0'),
        ('(g) trailing bytes after the last field', 'g-trail',
         rec_head(2, 'test.bad', 1) + lw.field_bytes(('k', 'MARK-g-tr')) +
         b'xyz'),
        ('(g) sequence 0', 'g-seq0',
         rec_head(0, 'test.bad', 1) + lw.field_bytes(('k', 'MARK-g-s0'))),
    ]
    for label, host, payload in cases:
        marker = payload[payload.index(b'MARK-'):].split(b'\0')[0][:9]
        session_attack(label, host, lw.frame(lw.RECORD, payload),
                       marker.decode())
    disc = session_attack('(g) HEARTBEAT with a duplicate key', 'g-hb',
                          lw.frame(lw.HEARTBEAT,
                                   rec_head(0, 'agent.heartbeat', 2) +
                                   lw.field_bytes(('k', 1)) +
                                   lw.field_bytes(('k', 2))))
    check('(g) disconnect detail names the problem (duplicate key)',
          'duplicate' in disc.get('detail', ''), disc)


# (h) a symlink planted in the log dir

def symlinks():
    outside = lw.tmpdir('outside')
    target = os.path.join(outside, 'somefile-outside')
    with open(target, 'wb') as f:
        f.write(b'precious\n')
    before = os.stat(target)
    link = os.path.join(ctx['logdir'], 'evil.log')
    os.symlink(target, link)
    label = '(h) evil.log -> file outside'
    frames, closed, _ = attack(lw.hello_frame('evil', lw.new_stream()),
                               cert='evil')
    check_refused(label, frames, closed, (lw.BYE_STORAGE,))
    after = os.stat(target)
    check('%s: outside file untouched' % label,
          lw.read_bytes(target) == b'precious\n' and
          after.st_size == before.st_size and
          after.st_mtime_ns == before.st_mtime_ns)
    check('%s: the link is still the same link' % label,
          os.path.islink(link) and os.readlink(link) == target)
    still_serves(label)

    label = '(h) dangling evil2.log -> outside/new-file'
    missing = os.path.join(outside, 'new-file')
    os.symlink(missing, os.path.join(ctx['logdir'], 'evil2.log'))
    frames, closed, _ = attack(lw.hello_frame('evil2', lw.new_stream()),
                               cert='evil2')
    check_refused(label, frames, closed, (lw.BYE_STORAGE,))
    check('%s: no file created through the link' % label,
          not os.path.exists(missing))
    still_serves(label)


# (i) and (j): clients that say nothing, or too little

def silent():
    label = '(i) a client that says nothing'
    sock = lw.connect(ctx['port'])
    t0 = time.monotonic()
    frames, closed = lw.read_until_closed(sock, 5)
    took = time.monotonic() - t0
    sock.close()
    lw.note('%s: closed after %.2f s' % (label, took))
    check('%s: closed by the 1 s handshake timeout' % label,
          closed and 0.8 <= took <= 2.5, 'closed=%s after %.2f s' % (
              closed, took))
    bye = lw.bye_of(frames)
    check('%s: BYE code 5 (timeout)' % label,
          bye is not None and bye[0] == lw.BYE_TIMEOUT, bye)
    still_serves(label)


def slowloris():
    label = '(j) slowloris: HELLO header, 3 bytes, then nothing'
    s1 = lw.connect(ctx['port'])
    s1.sendall(lw.header(lw.HELLO, 40) + b'\0\x03a')
    t0 = time.monotonic()
    still_serves(label + ' (at once)', timeout=0.5)
    frames, closed = lw.read_until_closed(s1, 4)
    took = time.monotonic() - t0
    s1.close()
    check('%s: closed by the handshake timeout' % label,
          closed and took <= 2.5, 'closed=%s after %.2f s' % (closed, took))

    label = '(j) slowloris after HELLO: RECORD header, 10 bytes, nothing'
    s2 = lw.open_session(ctx['port'], 'slow')
    s2.sock.sendall(lw.header(lw.RECORD, 100) + b'\0' * 10)
    time.sleep(0.2)
    still_serves(label, timeout=0.5)
    lw.close_session(s2)
    recs = lw.wait_event(lw.log_path(ctx['logdir'], 'slow'), 'text',
                         'host.disconnect')
    check('%s: closed by the client: host.disconnect reason=closed, no '
          'record' % label, [(r['event'], r.get('reason')) for r in recs] ==
          [('host.connect', None), ('host.disconnect', 'closed')], recs)

    label = '(j) slowloris trickling a HELLO one byte every 0.25 s'
    s3 = lw.connect(ctx['port'])
    s3.sendall(lw.header(lw.HELLO, 60))
    t0, closed_after = time.monotonic(), None
    while time.monotonic() - t0 < 4.5:
        if not lw.send_quiet(s3, b'x'):
            closed_after = time.monotonic() - t0
            break
        readable, _, _ = select.select([s3], [], [], 0.25)
        if readable:
            _, closed = lw.read_until_closed(s3, 0.5)
            if closed:
                closed_after = time.monotonic() - t0
                break
    s3.close()
    check('%s: closed within the 1 s handshake timeout (+1.5 s slack)' %
          label, closed_after is not None and closed_after <= 2.5,
          'still open after %.1f s of trickling, no HELLO yet' %
          (time.monotonic() - t0) if closed_after is None else
          'closed after %.2f s' % closed_after)
    still_serves(label)


# (k) hostile strings

HOSTILE = [
    b'\x1b[2J', b'\n', b'\r', b'\x00', b'\x7f', b'\xff\xfe',
    b'\xc2\x9b', '\u202e'.encode(), b'A' * 8000,
    b'\x1b]0;title\x07', b'a"b\\c,d e', '\u2028'.encode(), b'\t',
    b'ok\xe2\x80', b'\xed\xa0\x80', '\U0001F600 caf\u00e9'.encode(),
]
RAW_FORBIDDEN = [b'\xc2' + bytes([c]) for c in range(0x80, 0xa0)] + [
    '\u2028'.encode(), '\u2029'.encode(), '\u202e'.encode(),
    '\u202a'.encode()]


def hostile_fields():
    fields = [(lw.F_STR, 's%d' % i, v) for i, v in enumerate(HOSTILE)]
    return fields + [(lw.F_LIST, 'items', HOSTILE)]


def send_hostile(port, host):
    sess = lw.open_session(port, host)
    sess.sock.sendall(lw.frame(lw.RECORD, lw.record_payload(
        1, 'test.strings', hostile_fields())))
    acked = lw.wait_ack(sess, 1)
    lw.close_session(sess)
    return acked


def check_raw_bytes(label, data):
    check('%s: no raw byte < 0x20 but newline, no 0x7f' % label,
          all(b >= 0x20 or b == 0x0a for b in data) and b'\x7f' not in data,
          sorted({b for b in data if b < 0x20 and b != 0x0a or b == 0x7f}))
    raw = [seq for seq in RAW_FORBIDDEN if seq in data]
    check('%s: no raw C1 control, line separator or bidi override' % label,
          not raw, raw)
    try:
        data.decode('utf-8')
        valid = True
    except UnicodeDecodeError as e:
        valid = e
    check('%s: the file is valid UTF-8' % label, valid is True, valid)


def hostile_text():
    label = '(k) hostile strings, text'
    path = lw.log_path(ctx['logdir'], 'k-text')
    check('%s: record ACKed' % label, send_hostile(ctx['port'], 'k-text'))
    recs = lw.wait_event(path, 'text', 'host.disconnect')
    data = lw.read_bytes(path)
    lines = data.split(b'\n')
    check('%s: exactly one line per record (3 lines)' % label,
          len(lines) == 4 and lines[-1] == b'' and
          [r['event'] for r in recs] ==
          ['host.connect', 'test.strings', 'host.disconnect'],
          [ln[:60] for ln in lines])
    check_raw_bytes(label, data)
    rec_line = lines[1].decode('utf-8', 'surrogateescape')
    try:
        tokens = lw.split_outside_quotes(rec_line, ' ')
    except ValueError as e:
        check('%s: the record line parses' % label, False, e)
        return
    values = dict(t.partition('=')[::2] for t in tokens[4:])
    wrong = []
    for i, v in enumerate(HOSTILE):
        try:
            got = lw.text_value_items(values.get('s%d' % i, ''))
        except (ValueError, IndexError) as e:
            got = [repr(e)]
        if got != [v]:
            wrong.append((i, v[:20], got[0][:40] if got else None))
    check('%s: every string field decodes back to its exact bytes' % label,
          not wrong, wrong)
    try:
        items = lw.text_value_items(values.get('items', ''))
    except (ValueError, IndexError) as e:
        items = [repr(e)]
    check('%s: the list field decodes back to its exact items' % label,
          items == HOSTILE, [x[:20] for x in items][:4])
    still_serves(label)


def json_expected(v):
    """What the JSON log must hold for v: the text itself when v is valid
    UTF-8; invalid bytes as the four characters \\xNN."""
    out, i = [], 0
    while i < len(v):
        for n in (1, 2, 3, 4):
            try:
                out.append(v[i:i + n].decode('utf-8'))
                i += n
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append('\\x%02x' % v[i])
            i += 1
    return ''.join(out)


def hostile_json():
    label = '(k) hostile strings, json'
    coll = lw.start_collector(fmt='json', name='collector-hostile-json')
    path = lw.log_path(coll, 'k-json')
    check('%s: record ACKed' % label, send_hostile(coll.port, 'k-json'))
    lw.wait_event(path, 'json', 'host.disconnect')
    data = lw.read_bytes(path)
    lines = data.split(b'\n')
    check('%s: exactly one line per record (3 lines)' % label,
          len(lines) == 4 and lines[-1] == b'', len(lines))
    check_raw_bytes(label, data)
    try:
        recs = [json.loads(ln) for ln in lines[:-1]]
    except ValueError as e:
        recs = []
        check('%s: every line json.loads()' % label, False, e)
    if len(recs) != 3:
        return
    check('%s: every line json.loads()' % label, True)
    rec = recs[1]
    wrong = [(i, v[:20], rec.get('s%d' % i, '')[:40])
             for i, v in enumerate(HOSTILE)
             if rec.get('s%d' % i) != json_expected(v)]
    check('%s: valid UTF-8 strings round-trip exactly, invalid bytes '
          'show as \\xNN' % label, not wrong, wrong)
    check('%s: "\\xff\\xfe" is logged as the text \\xff\\xfe' % label,
          rec.get('s5') == '\\xff\\xfe', rec.get('s5'))
    check('%s: the list field round-trips' % label,
          rec.get('items') == [json_expected(v) for v in HOSTILE],
          str(rec.get('items'))[:100])
    rc = lw.stop(coll)
    check('%s: json collector exits 0' % label, rc == 0, rc)


def hostile_bye():
    label = '(k) hostile BYE reason'
    host = 'k-bye'
    sess = lw.open_session(ctx['port'], host)
    sess.sock.sendall(lw.bye_frame(1, b'\x1b[2J\nfake 2000 line\r\x00\xff'))
    frames, closed = lw.read_until_closed(sess.sock)
    lw.close_session(sess)
    path = lw.log_path(ctx['logdir'], host)
    recs = lw.wait_event(path, 'text', 'host.disconnect')
    data = lw.read_bytes(path)
    check('%s: agent-stop logged on one line' % label,
          data.count(b'\n') == 2 and recs and
          recs[-1].get('reason') == 'agent-stop', data[-200:])
    check_raw_bytes(label, data)
    still_serves(label)


# (l) a crowd

FLEET, PER_CLIENT = 20, 200


def fleet_client(i, barrier, results):
    host = 'fleet%02d' % i
    try:
        barrier.wait(5)
        sess = lw.open_session(ctx['port'], host, timeout=5)
        data = b''.join(lw.record_frame(seq, 'test.fleet',
                                        [('n', seq), ('who', host)])
                        for seq in range(1, PER_CLIENT + 1))
        if i % 2:
            for off in range(0, len(data), 37):     # frames cut anywhere
                sess.sock.sendall(data[off:off + 37])
        else:
            sess.sock.sendall(data)
        results[host] = lw.wait_ack(sess, PER_CLIENT, 10)
        lw.close_session(sess)
    except Exception as e:
        results[host] = repr(e)


def crowd():
    label = '(l) %d clients x %d records at once' % (FLEET, PER_CLIENT)
    barrier, results = threading.Barrier(FLEET), {}
    threads = [threading.Thread(target=fleet_client,
                                args=(i, barrier, results))
               for i in range(FLEET)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    took = time.monotonic() - t0
    bad = {h: r for h, r in results.items() if r != PER_CLIENT}
    lw.note('%s: took %.1f s' % (label, took))
    check('%s: every client ACKed up to %d' % (label, PER_CLIENT),
          len(results) == FLEET and not bad, bad)
    wrong = []
    for i in range(FLEET):
        host = 'fleet%02d' % i
        recs = lw.wait_event(lw.log_path(ctx['logdir'], host), 'text',
                             'host.disconnect')
        want = list(range(1, PER_CLIENT + 1))
        if (lw.seqs(recs) != want or recs[0]['event'] != 'host.connect' or
                recs[-1]['event'] != 'host.disconnect' or
                any(r.get('who', host) != host or
                    r.get('n', str(r.get('seq'))) != str(r.get('seq'))
                    for r in recs)):
            wrong.append((host, len(recs), lw.seqs(recs)[:3]))
    check('%s: every log holds seq 1..%d once, in order, its own records' %
          (label, PER_CLIENT), not wrong, wrong[:3])
    still_serves(label)


# (m) a resend after reconnecting

def duplicates():
    label = '(m) resend after reconnect'
    host, stream = 'dup', lw.new_stream()
    path = lw.log_path(ctx['logdir'], host)
    sess = lw.open_session(ctx['port'], host, stream)
    check('%s: first WELCOME last_seq=0' % label, sess.last_seq == 0,
          sess.last_seq)
    sess.sock.sendall(b''.join(lw.record_frame(s) for s in range(1, 6)))
    check('%s: 1..5 ACKed' % label, lw.wait_ack(sess, 5) == 5, sess.acked)
    lw.close_session(sess)
    lw.wait_event(path, 'text', 'host.disconnect')

    sess = lw.open_session(ctx['port'], host, stream)
    check('%s: same stream: WELCOME last_seq=5' % label,
          sess.last_seq == 5, sess.last_seq)
    sess.sock.sendall(b''.join(lw.record_frame(s) for s in range(3, 8)))
    check('%s: resent 3..7 ACKed up to 7' % label,
          lw.wait_ack(sess, 7) == 7, sess.acked)
    sess.sock.sendall(lw.record_frame(7) + lw.record_frame(4) +
                      lw.record_frame(8))
    check('%s: 7 and 4 again, then 8: ACK 8' % label,
          lw.wait_ack(sess, 8) == 8, sess.acked)
    lw.close_session(sess)
    recs = lw.wait_event(path, 'text', 'host.disconnect', 2)
    check('%s: log holds seq 1..8 exactly once' % label,
          lw.seqs(recs) == list(range(1, 9)), lw.seqs(recs))
    conns = lw.events(recs, 'host.connect')
    check('%s: second host.connect says resume_after=5' % label,
          len(conns) == 2 and conns[1].get('resume_after') == '5', conns)
    disc = lw.events(recs, 'host.disconnect')
    check('%s: second host.disconnect counts records=3 (6, 7, 8)' % label,
          len(disc) == 2 and disc[1].get('records') == '3', disc[-1:])

    sess = lw.open_session(ctx['port'], host, lw.new_stream())
    check('%s: a new stream starts at last_seq=0' % label,
          sess.last_seq == 0, sess.last_seq)
    lw.close_session(sess)
    still_serves(label)


def extremes():
    """Extreme numbers and the largest records the limits allow."""
    label = '(k) extreme values'
    host = 'k-extreme'
    big = [0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1,
           253402300800 * 10 ** 6, (-62135596800 * 10 ** 6) % (1 << 64)]
    sess = lw.open_session(ctx['port'], host)
    frames = []
    for seq, v in enumerate(big, 1):
        frames.append(lw.frame(lw.RECORD, struct.pack('>QQ', seq, v) +
                               lw.str16('test.extreme') +
                               struct.pack('>H', 5) +
                               lw.field_bytes((lw.F_TIME, 't', v)) +
                               lw.field_bytes((lw.F_DURATION, 'd', v)) +
                               lw.field_bytes((lw.F_INT, 'i', v)) +
                               lw.field_bytes((lw.F_BOOL, 'b', v & 1)) +
                               lw.field_bytes(('e', ''))))
    n = len(big)
    frames.append(lw.record_frame(n + 1, 'test.wide',
                                  [('k%d' % i, i) for i in range(256)]))
    frames.append(lw.record_frame(n + 2, 'test.long',
                                  [('l', ['x'] * 4096), ('m', [])]))
    sess.sock.sendall(b''.join(frames))
    check('%s: all %d records ACKed' % (label, n + 2),
          lw.wait_ack(sess, n + 2) == n + 2, sess.acked)
    sess.sock.sendall(lw.record_frame(n + 3, 'test.toowide',
                                      [('k%d' % i, i) for i in range(257)]))
    frames, closed = lw.read_until_closed(sess.sock)
    lw.close_session(sess)
    check_refused(label + ', 257 fields', frames, closed)
    recs = lw.wait_event(lw.log_path(ctx['logdir'], host), 'text',
                         'host.disconnect')
    check('%s: every line parses, one per record, seq 1..%d' % (label, n + 2),
          lw.seqs(recs) == list(range(1, n + 3)) and len(recs) == n + 4,
          lw.seqs(recs))
    wide = lw.events(recs, 'test.wide')
    check('%s: 256 fields all logged' % label,
          wide and all(wide[0].get('k%d' % i) == str(i)
                       for i in range(256)))
    still_serves(label)


# (o) a client that never reads

def vm_kib(pid, field):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


def no_reader():
    label = '(o) heartbeat flood from a client that never reads'
    coll = ctx['coll']
    sess = lw.open_session(ctx['port'], 'o-flood')
    sess.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    chunk = lw.record_frame(0, 'agent.heartbeat',
                            ftype=lw.HEARTBEAT) * 20000
    before = vm_kib(coll.pid, 'VmHWM')
    sent, t0, pushed_back = 0, time.monotonic(), False
    sess.sock.settimeout(2)
    try:
        while sent < 100 * 10 ** 6 and time.monotonic() - t0 < 8:
            sess.sock.sendall(chunk)
            sent += len(chunk)
    except OSError:                     # a timeout: it stopped reading;
        pushed_back = True              # reset or closed: it hung up
    time.sleep(0.5)
    grew = (vm_kib(coll.pid, 'VmHWM') - before) / 1024.0
    lw.close_session(sess)
    lw.note('%s: sent %d MB in %.1f s, collector peak RSS grew %.0f MiB, '
            'pushed back: %s' % (label, sent // 10 ** 6,
                                 time.monotonic() - t0, grew, pushed_back))
    check('%s: collector pushes back, hangs up, or stays within +16 MiB' %
          label, pushed_back or grew < 16,
          'took all %d MB without stopping to read and grew %.0f MiB: it '
          'queues a 16-byte ACK per HEARTBEAT with no limit on unread '
          'output' % (sent // 10 ** 6, grew))
    still_serves(label)


# (n) the connection cap

def conn_cap():
    label = '(n) --max-conns 2'
    coll = lw.start_collector(extra=['--max-conns', '2'],
                              name='collector-maxconns')
    held = [lw.open_session(coll.port, 'cap%d' % i) for i in (1, 2)]
    sock = lw.connect(coll.port, cert='cap9')
    sock.sendall(lw.hello_frame('cap9', lw.new_stream()))
    frames, closed = lw.read_until_closed(sock, 2)
    sock.close()
    check('%s: a third agent is closed at its HELLO, no WELCOME' % label,
          closed and not lw.has_type(frames, lw.WELCOME), frames)
    bye = lw.bye_of(frames)
    check('%s: BYE code 4 (busy)' % label,
          bye is not None and bye[0] == lw.BYE_BUSY, bye)
    check('%s: stderr says why' % label, lw.wait_until(
        lambda: 'refused, 2 agents connected already' in
        lw.stderr_text(coll)))
    lw.close_session(held.pop())
    lw.wait_event(lw.log_path(coll, 'cap2'), 'text', 'host.disconnect')
    try:
        sess = lw.open_session(coll.port, 'cap3')
        sess.sock.sendall(lw.record_frame(1))
        ok = lw.wait_ack(sess, 1) == 1
        lw.close_session(sess)
    except (OSError, RuntimeError) as e:
        ok = e
    check('%s: once one left, a new agent is served' % label, ok is True,
          ok)
    lw.close_session(held.pop())
    rc = lw.stop(coll)
    check('%s: collector exits 0' % label, rc == 0, rc)


def shutdown():
    coll, good = ctx['coll'], ctx['good']
    rc = lw.stop(coll)
    check('collector exits 0 on SIGTERM after all that', rc == 0, rc)
    frames, closed = lw.read_until_closed(good.sock, 1)
    bye = lw.bye_of(frames)
    check('good client gets BYE code 1 (shutdown)',
          bye is not None and bye[0] == lw.BYE_SHUTDOWN, bye)
    recs = lw.records_quiet(lw.log_path(coll, 'good'), 'text')
    check('good.log ends with host.disconnect reason=collector-stop and '
          'holds every good record once', recs and
          recs[-1].get('reason') == 'collector-stop' and
          lw.seqs(recs) == list(range(1, ctx['next'])),
          (lw.seqs(recs)[-3:], recs[-1:]))
    err = lw.read_bytes(coll.lw_stderr)
    check('no raw ESC, CR or NUL reached the collector\'s stderr',
          not any(c in err for c in (b'\x1b', b'\r', b'\x00')),
          [c for c in (b'\x1b', b'\r', b'\x00') if c in err])


def main():
    if not check('binaries are built', os.access(lw.COLLECTOR, os.X_OK),
                 lw.BUILD):
        return
    setup()
    if not lw.running(ctx['coll']) or 'good' not in ctx:
        return
    lw.step('(a) garbage', garbage)
    lw.step('(b) oversize', oversize)
    lw.step('(c)-(e) bad headers', bad_headers)
    lw.step('(f) bad hosts', bad_hosts)
    lw.step('(g) bad records', bad_records)
    lw.step('(h) symlinks', symlinks)
    lw.step('(i) silent', silent)
    lw.step('(j) slowloris', slowloris)
    lw.step('(k) hostile text', hostile_text)
    lw.step('(k) hostile json', hostile_json)
    lw.step('(k) hostile BYE', hostile_bye)
    lw.step('(l) crowd', crowd)
    lw.step('(k) extreme values', extremes)
    lw.step('(m) duplicates', duplicates)
    lw.step('(n) connection cap', conn_cap)
    lw.step('(o) never reads', no_reader)
    lw.step('shutdown', shutdown)


if __name__ == '__main__':
    lw.run(main)
