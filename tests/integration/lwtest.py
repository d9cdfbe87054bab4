# SPDX-License-Identifier: ISC
"""Shared helpers for the labwatch integration tests.

Plain python3 standard library.  A test program imports this module, runs
its steps through run() and step(), reports with check() ("ok - name" or
"not ok - name: detail") and ends in finish(), which exits 1 if any check
failed.  Every process started through start() is killed at exit, even
after an exception, and its stderr is searched for sanitizer reports when
it ends.  Everything lives in one temporary folder, removed at exit.
"""

import atexit
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import types

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get('B') or 'build')
COLLECTOR = os.path.join(BUILD, 'labwatch-collector')
AGENT = os.path.join(BUILD, 'labwatch-agent')
LABWATCH_CA = os.path.join(ROOT, 'scripts', 'labwatch-ca')
LABWATCHCTL = os.path.join(ROOT, 'scripts', 'labwatchctl')

SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer',
                   'SUMMARY: AddressSanitizer', 'runtime error:',
                   'SUMMARY: UndefinedBehaviorSanitizer',
                   'Sanitizer has encountered a fatal error')

_state = {'failed': 0, 'passed': 0, 'tmp': None, 'cleaned': False}
_procs = []


# Reporting

def note(msg):
    """Prints a comment line (ignored by the test driver)."""
    for line in str(msg).splitlines() or ['']:
        print('# ' + line)
    sys.stdout.flush()


def check(name, cond, detail=''):
    """Reports one check; returns whether it passed."""
    if cond:
        _state['passed'] += 1
        print('ok - ' + name)
    else:
        _state['failed'] += 1
        detail = ' '.join(str(detail).split())
        if len(detail) > 400:
            detail = detail[:400] + '...'
        print('not ok - ' + name + (': ' + detail if detail else ''))
    sys.stdout.flush()
    return bool(cond)


def step(name, func, *args):
    """Runs one test step; an exception in it fails the step, not the run."""
    try:
        return func(*args)
    except Exception as e:
        note(traceback.format_exc())
        check(name + ': ran without an exception', False, repr(e))
        return None


def run(main):
    """Runs main(), reports an exception as a failure, cleans up, exits."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    start_time = time.monotonic()
    try:
        main()
    except Exception as e:
        note(traceback.format_exc())
        check('test program ran without an exception', False, repr(e))
    finally:
        cleanup()
    note('took %.1f s' % (time.monotonic() - start_time))
    finish()


def finish():
    """Exits 1 if any check failed, showing the processes' stderr."""
    cleanup()
    if _state['failed']:
        note('%d checks failed, %d passed' % (_state['failed'],
                                              _state['passed']))
    sys.exit(1 if _state['failed'] else 0)


def _on_sigterm(signo, _stack):
    raise SystemExit('killed by signal %d' % signo)


# Files and time

def tmpdir(name=None):
    """A fresh folder inside this run's temporary folder."""
    if _state['tmp'] is None:
        _state['tmp'] = tempfile.mkdtemp(prefix='lwtest-')
        # Daemons started as root work as an unprivileged user: they must
        # be able to pass through to the folders handed to them.
        os.chmod(_state['tmp'], 0o755)
    if name is None:
        return _state['tmp']
    return tempfile.mkdtemp(prefix=name + '-', dir=_state['tmp'])


def wait_until(pred, timeout=5.0, interval=0.05):
    """Polls pred() until it returns something true; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def free_port(family=socket.AF_INET):
    """A TCP port nobody listens on right now."""
    addr = '::1' if family == socket.AF_INET6 else '127.0.0.1'
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def ipv6_available():
    try:
        free_port(socket.AF_INET6)
        return True
    except OSError:
        return False


def read_bytes(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        return b''


# TLS: one lab CA per test run, made by labwatch-ca

_ca = {'dir': None, 'hosts': {}, 'servers': {}}
# The addresses the tests' collectors listen on: the server certificate
# names them all.
SERVER_NAMES = ('localhost', '127.0.0.1', '::1', '10.77.0.1', '10.99.0.1')


def labwatch_ca(*args, check_rc=True):
    """Runs scripts/labwatch-ca; returns the CompletedProcess."""
    p = subprocess.run([LABWATCH_CA] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    if check_rc and p.returncode != 0:
        raise RuntimeError('labwatch-ca %s: %s' % (' '.join(map(str, args)),
                                                    p.stderr.strip()))
    if _ca['dir'] is not None:
        give_to_collector(_ca['dir'])
    return p


# Collectors started as root run as 'labwatch' (nobody where there is no
# such user): they reread their TLS files at SIGHUP and sign enrolments in
# the CA folder, so those are that user's.
COLLECTOR_USER = 'labwatch'


def collector_user():
    """(uid, gid) a collector started by the tests runs as."""
    import pwd
    try:
        pw = pwd.getpwnam(COLLECTOR_USER)
    except KeyError:
        pw = pwd.getpwnam('nobody')
    return pw.pw_uid, pw.pw_gid


def give_to_collector(path):
    """chown -R path to the collector's user (when the tests are root)."""
    if os.geteuid() != 0:
        return
    uid, gid = collector_user()
    for d, dirs, files in os.walk(path):
        os.chown(d, uid, gid)
        for name in files:
            os.chown(os.path.join(d, name), uid, gid, follow_symlinks=False)


def ca_dir():
    """The run's lab CA folder (made on first use)."""
    if _ca['dir'] is None:
        # Apart from the run's folder, which tests list before and after.
        d = os.path.join(tempfile.mkdtemp(prefix='lwca-'), 'lab-ca')
        os.chmod(os.path.dirname(d), 0o755)
        labwatch_ca('init', d)
        _ca['dir'] = d
        give_to_collector(d)
    return _ca['dir']


def ca_file():
    return os.path.join(ca_dir(), 'ca.crt')


def crl_file():
    return os.path.join(ca_dir(), 'crl.pem')


def host_cert(host):
    """(certificate, key) of a lab PC, issued on first use."""
    if host not in _ca['hosts']:
        d = ca_dir()
        labwatch_ca('issue', d, host)
        _ca['hosts'][host] = (os.path.join(d, 'hosts', host + '.crt'),
                              os.path.join(d, 'hosts', host + '.key'))
    return _ca['hosts'][host]


def server_cert(names=SERVER_NAMES):
    """(certificate, key) of the collector, for all of names."""
    if names not in _ca['servers']:
        d = ca_dir()
        labwatch_ca('server', d, *names)
        _ca['servers'][names] = (
            os.path.join(d, 'servers', names[0] + '.crt'),
            os.path.join(d, 'servers', names[0] + '.key'))
    return _ca['servers'][names]


def collector_tls_args(tls=True):
    """Options that put a collector on the run's lab CA (or --insecure)."""
    if not tls:
        return ['--insecure']
    cert, key = server_cert()
    return ['--tls-ca', ca_file(), '--tls-cert', cert, '--tls-key', key,
            '--tls-crl', crl_file()]


def agent_tls_args(host, tls=True):
    """Options that give an agent host's certificate (or --insecure)."""
    if not tls:
        return ['--insecure']
    cert, key = host_cert(host)
    return ['--tls-ca', ca_file(), '--tls-cert', cert, '--tls-key', key]


def client_context(host=None):
    """A TLS client context on the lab CA, with host's certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                     cafile=ca_file())
    if host is not None:
        ctx.load_cert_chain(*host_cert(host))
    return ctx


def server_context():
    """A TLS server context that asks agents for lab certificates."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH,
                                     cafile=ca_file())
    ctx.load_cert_chain(*server_cert())
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


# Processes

def start(args, name, stdout_path=None, stdin=subprocess.DEVNULL):
    """Starts a program; stderr (and stdout if asked) go to files; stdin
    may be subprocess.PIPE for a program that takes commands."""
    d = tmpdir()
    err_path = os.path.join(d, name + '.stderr')
    n = 1
    while os.path.exists(err_path):
        n += 1
        err_path = os.path.join(d, '%s.%d.stderr' % (name, n))
    with open(err_path, 'wb') as err:
        out = open(stdout_path, 'wb') if stdout_path else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(args, stdin=stdin, stdout=out,
                                    stderr=err)
        finally:
            if stdout_path:
                out.close()
    proc.lw_name = name
    proc.lw_stderr = err_path
    proc.lw_stdout = stdout_path
    proc.lw_checked = False
    _procs.append(proc)
    return proc


def stderr_text(proc):
    return read_bytes(proc.lw_stderr).decode('utf-8', 'replace')


def running(proc):
    return proc.poll() is None


def _sanitizer_check(proc):
    if proc.lw_checked:
        return
    proc.lw_checked = True
    text = stderr_text(proc)
    found = [line for line in text.splitlines()
             if any(m in line for m in SANITIZER_MARKS)]
    check('%s: no sanitizer report on stderr' % proc.lw_name, not found,
          '; '.join(found[:3]))


def wait_exit(proc, timeout=5.0):
    """Waits for proc to end; returns its exit status or None (then kills)."""
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = None
    _sanitizer_check(proc)
    return rc


def stop(proc, sig=signal.SIGTERM, timeout=5.0):
    """Sends sig (if it still runs), waits; returns the exit status or None
    if it had to be killed."""
    if running(proc):
        proc.send_signal(sig)
    return wait_exit(proc, timeout)


def cleanup():
    """Kills what still runs, checks sanitizer output, removes the folder."""
    if _state['cleaned']:
        return
    _state['cleaned'] = True
    for proc in _procs:
        if running(proc):
            proc.kill()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
    for proc in _procs:
        _sanitizer_check(proc)
    if _state['failed']:
        for proc in _procs:
            tail = stderr_text(proc).splitlines()[-15:]
            if tail:
                note('--- stderr of %s (%s), last lines:' % (
                    proc.lw_name, ' '.join(proc.args[1:])[:120]))
                note('\n'.join(tail))
    if _state['tmp'] is not None:
        shutil.rmtree(_state['tmp'], ignore_errors=True)
    if _ca['dir'] is not None:
        shutil.rmtree(os.path.dirname(_ca['dir']), ignore_errors=True)


atexit.register(cleanup)


# The programs

def program_version(path):
    """The version a program's --version prints, or '' if it cannot run."""
    try:
        out = subprocess.run([path, '--version'], capture_output=True,
                             timeout=5, check=False).stdout.decode()
    except OSError:
        return ''
    return out.split()[-1] if out.split() else ''


def start_collector(port=None, logdir=None, fmt='text', listen=None,
                    extra=(), name='collector', statedir=None, tls=True):
    """Starts a collector in the foreground and waits until it listens,
    on the run's lab CA unless tls is false (--insecure).  The process
    gets .port, .logdir, .statedir, .fmt and .tls."""
    if port is None:
        port = free_port()
    if logdir is None:
        logdir = tmpdir('logs')
    if statedir is None:
        statedir = tmpdir('cstate')
    if listen is None:
        listen = '127.0.0.1:%d' % port
    args = [COLLECTOR, '-f', '-l', listen, '-d', logdir, '--format', fmt,
            '--state-dir', statedir] + collector_tls_args(tls)
    # Each collector has its own control socket (labwatchctl -s).
    control = os.path.join(tmpdir('ctl'), 'ctl.sock')
    if '--control' not in extra:
        args += ['--control', control]
    proc = start(args + list(extra), name)
    proc.port, proc.logdir, proc.fmt, proc.tls = port, logdir, fmt, tls
    proc.statedir = statedir
    proc.control = control
    ok = wait_until(lambda: ' started, logs in ' in stderr_text(proc)
                    or not running(proc), 5)
    check('%s started on %s' % (name, listen),
          ok and running(proc), stderr_text(proc)[-300:])
    return proc


# The pipeline is tested on its own: no packets, no USB devices.
QUIET = ['--no-net', '--no-usb']


def start_agent(collector_addr, host, heartbeat=None, extra=(), name=None,
                state_dir=None, tls=True):
    """Starts an agent in the foreground sending to collector_addr, with
    its spool in state_dir (a new temporary folder by default), its
    monitors off (QUIET), host's certificate unless tls is false."""
    if state_dir is None:
        state_dir = tmpdir('astate-' + host)
    args = [AGENT, '-f', '--collector', collector_addr, '--host', host,
            '--state-dir', state_dir] + QUIET + agent_tls_args(host, tls)
    if heartbeat is not None:
        args += ['--heartbeat', str(heartbeat)]
    return start(args + list(extra), name or 'agent-' + host)


# Log files

def log_path(coll_or_dir, host):
    d = getattr(coll_or_dir, 'logdir', coll_or_dir)
    return os.path.join(d, host + '.log')


def read_lines(path):
    """The file's lines (without newlines), decoded keeping odd bytes."""
    data = read_bytes(path)
    if not data:
        return []
    text = data.decode('utf-8', 'surrogateescape')
    if text.endswith('\n'):
        text = text[:-1]
    return text.split('\n')


TS_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$')
EVENT_RE = re.compile(r'^[a-z0-9_]+(\.[a-z0-9_]+)*$')
KEY_RE = re.compile(r'^[a-z0-9_]+$')


def split_outside_quotes(s, sep):
    """Splits s at sep where sep is not inside a "quoted" part."""
    parts, cur, quoted, escaped = [], [], False, False
    for ch in s:
        if quoted:
            if escaped:
                escaped = False
            elif ch == '\\':
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == sep:
            parts.append(''.join(cur))
            cur = []
            continue
        cur.append(ch)
    if quoted:
        raise ValueError('unterminated quote in %r' % s[:80])
    parts.append(''.join(cur))
    return parts


def text_unquote(item):
    """Decodes one text-format value (bare or quoted) into its bytes."""
    if not item.startswith('"'):
        if item == '':
            raise ValueError('empty bare value')
        return item.encode('utf-8', 'surrogateescape')
    if len(item) < 2 or not item.endswith('"'):
        raise ValueError('bad quoted value %r' % item[:80])
    body, out, i = item[1:-1], bytearray(), 0
    simple = {'"': b'"', '\\': b'\\', 'n': b'\n', 'r': b'\r', 't': b'\t'}
    while i < len(body):
        ch = body[i]
        if ch != '\\':
            out += ch.encode('utf-8', 'surrogateescape')
            i += 1
        elif body[i + 1:i + 2] in simple:
            out += simple[body[i + 1]]
            i += 2
        elif body[i + 1:i + 2] == 'x':
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        elif body[i + 1:i + 2] == 'u':
            out += chr(int(body[i + 2:i + 6], 16)).encode('utf-8')
            i += 6
        else:
            raise ValueError('bad escape in %r' % item[:80])
    return bytes(out)


def text_value_items(value):
    """A text-format value as a list of byte strings (list items)."""
    return [text_unquote(it) for it in split_outside_quotes(value, ',')]


def parse_text(line):
    """Parses 'TS HOST EVENT [seq=N] key=value ...' into a dict like the
    JSON format's: seq an int, values str (or a list of str when the value
    has several comma-separated items).  Raises ValueError if malformed."""
    tokens = split_outside_quotes(line, ' ')
    if len(tokens) < 3 or not TS_RE.match(tokens[0]):
        raise ValueError('bad line start: %r' % line[:80])
    if not EVENT_RE.match(tokens[2]):
        raise ValueError('bad event: %r' % line[:80])
    rec = {'ts': tokens[0],
           'host': text_unquote(tokens[1]).decode('utf-8', 'replace'),
           'event': tokens[2]}
    for tok in tokens[3:]:
        key, eq, value = tok.partition('=')
        if not eq or not KEY_RE.match(key) or key in rec:
            raise ValueError('bad field %r in %r' % (tok[:40], line[:80]))
        items = [b.decode('utf-8', 'surrogateescape')
                 for b in text_value_items(value)]
        rec[key] = items[0] if len(items) == 1 else items
    if 'seq' in rec:
        rec['seq'] = int(rec['seq'])
    return rec


def parse_line(line, fmt):
    if fmt == 'json':
        rec = json.loads(line)
        if not isinstance(rec, dict):
            raise ValueError('not an object: %r' % line[:80])
        return rec
    return parse_text(line)


def read_records(path, fmt):
    """Every line of the log parsed; raises ValueError on a bad line."""
    return [parse_line(line, fmt) for line in read_lines(path)]


def records_quiet(path, fmt):
    """Like read_records, but [] while a line does not parse (for polling)."""
    try:
        return read_records(path, fmt)
    except ValueError:
        return []


def events(recs, event):
    return [r for r in recs if r.get('event') == event]


def wait_records(path, fmt, pred, timeout=5.0):
    """Polls the log until pred(records) is true; returns the records."""
    wait_until(lambda: pred(records_quiet(path, fmt)), timeout)
    return records_quiet(path, fmt)


def wait_event(path, fmt, event, count=1, timeout=5.0):
    """Waits for count records of event; returns all records."""
    return wait_records(
        path, fmt, lambda recs: len(events(recs, event)) >= count, timeout)


def seqs(recs):
    return [r['seq'] for r in recs if 'seq' in r]


# The wire protocol (common/wire.h)

MAGIC = 0x4c57
VERSION = 1
HELLO, WELCOME, RECORD, HEARTBEAT, ACK, BYE = 1, 2, 3, 4, 5, 6
F_STR, F_INT, F_BOOL, F_LIST, F_TIME, F_DURATION = 1, 2, 3, 4, 5, 6
BYE_SHUTDOWN, BYE_PROTOCOL, BYE_BAD_HOST = 1, 2, 3
BYE_BUSY, BYE_TIMEOUT, BYE_STORAGE = 4, 5, 6
BYE_ENROLL, BYE_STREAM = 7, 8


def _b(s):
    return s.encode('utf-8') if isinstance(s, str) else bytes(s)


def str16(s):
    s = _b(s)
    return struct.pack('>H', len(s)) + s


def header(ftype, length, version=VERSION, magic=MAGIC):
    return struct.pack('>HBBI', magic, version, ftype, length)


def frame(ftype, payload, version=VERSION, magic=MAGIC, length=None):
    """One frame; length overrides the real payload length."""
    if length is None:
        length = len(payload)
    return header(ftype, length, version, magic) + payload


def hello_payload(host, stream, software='lwtest', caps=0):
    return (str16(host) + struct.pack('>Q', stream) + str16(software) +
            struct.pack('>I', caps))


def hello_frame(host, stream, software='lwtest'):
    return frame(HELLO, hello_payload(host, stream, software))


def field_bytes(field):
    """(key, value) with the type from the value, or (type, key, value)."""
    if len(field) == 3:
        ftype, key, value = field
    else:
        key, value = field
        if isinstance(value, bool):
            ftype = F_BOOL
        elif isinstance(value, int):
            ftype = F_INT
        elif isinstance(value, list):
            ftype = F_LIST
        else:
            ftype = F_STR
    out = struct.pack('>B', ftype) + str16(key)
    if ftype == F_STR:
        return out + str16(value)
    if ftype in (F_INT, F_TIME, F_DURATION):
        return out + struct.pack('>Q', value & 0xffffffffffffffff)
    if ftype == F_BOOL:
        return out + struct.pack('>B', int(value))
    if ftype == F_LIST:
        return out + struct.pack('>H', len(value)) + b''.join(
            str16(v) for v in value)
    raise ValueError('unknown field type %r' % ftype)


def record_payload(seq, event, fields=(), ts_us=None):
    if ts_us is None:
        ts_us = int(time.time() * 1e6)
    return (struct.pack('>QQ', seq, ts_us) + str16(event) +
            struct.pack('>H', len(fields)) +
            b''.join(field_bytes(f) for f in fields))


def record_frame(seq, event='test.record', fields=(), ftype=RECORD):
    return frame(ftype, record_payload(seq, event, fields))


def bye_frame(code, reason):
    return frame(BYE, struct.pack('>H', code) + str16(reason))


def connect(port, addr='127.0.0.1', timeout=3.0, cert=None, tls=True,
            src=None):
    """A connection to a collector: TLS on the lab CA (presenting the
    certificate of host cert, if given) unless tls is false; from source
    address src if given (another PC, as far as the collector knows)."""
    family = socket.AF_INET6 if ':' in addr else socket.AF_INET
    # Before connecting: issuing a certificate takes longer than the
    # collector's handshake deadline in some tests.
    ctx = client_context(cert) if tls else None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if src is not None:
        sock.bind((src, 0))
    sock.connect((addr, port))
    if tls:
        sock = ctx.wrap_socket(sock, server_hostname=addr)
    return sock


def _recv_exact(sock, n, deadline):
    """n bytes, or fewer if the peer closed; raises TimeoutError."""
    data = b''
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError('no frame in time')
        sock.settimeout(left)
        try:
            chunk = sock.recv(n - len(data))
        except (socket.timeout, TimeoutError):
            raise TimeoutError('no frame in time') from None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            return data
        if not chunk:
            return data
        data += chunk
    return data


def recv_frame(sock, timeout=3.0):
    """(type, payload), or None when the peer closed (or reset).
    Raises TimeoutError if nothing whole came in time, ValueError on a
    malformed frame."""
    deadline = time.monotonic() + timeout
    hdr = _recv_exact(sock, 8, deadline)
    if len(hdr) < 8:
        return None
    magic, version, ftype, length = struct.unpack('>HBBI', hdr)
    if magic != MAGIC or version != VERSION or length > 1 << 24:
        raise ValueError('bad frame header %r' % hdr)
    payload = _recv_exact(sock, length, deadline)
    if len(payload) < length:
        return None
    return ftype, payload


def read_until_closed(sock, timeout=3.0):
    """Reads frames until the peer closes.  Returns (frames, closed);
    closed is False if it was still open after timeout."""
    frames, deadline = [], time.monotonic() + timeout
    while True:
        try:
            fr = recv_frame(sock, max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return frames, False
        except ValueError:
            return frames, True
        if fr is None:
            return frames, True
        frames.append(fr)


def parse_welcome(payload):
    return struct.unpack('>QII', payload)


def parse_bye(payload):
    code, n = struct.unpack('>HH', payload[:4])
    return code, payload[4:4 + n].decode('utf-8', 'replace')


def bye_of(frames):
    """(code, reason) of the first BYE among frames, or None."""
    for ftype, payload in frames:
        if ftype == BYE:
            return parse_bye(payload)
    return None


def has_type(frames, ftype):
    return any(t == ftype for t, _ in frames)


def send_quiet(sock, data):
    """Sends, ignoring a peer that already closed."""
    try:
        sock.sendall(data)
        return True
    except (OSError, ssl.SSLError):
        return False


def new_stream():
    return struct.unpack('>Q', os.urandom(8))[0] | 1


def open_session(port, host, stream=None, addr='127.0.0.1', timeout=3.0,
                 cert=None, tls=True, src=None):
    """Connects (with the certificate of host, or of cert), says HELLO,
    reads the WELCOME.  Returns a namespace with sock, host, stream,
    last_seq (from WELCOME), acked, heartbeat_ms, max_frame; raises
    RuntimeError if the collector does not welcome."""
    if stream is None:
        stream = new_stream()
    sock = connect(port, addr, timeout, cert or host, tls, src)
    sock.sendall(hello_frame(host, stream))
    fr = recv_frame(sock, timeout)
    if fr is None or fr[0] != WELCOME:
        sock.close()
        raise RuntimeError('no WELCOME for %r: got %r' % (host, fr))
    last_seq, hb_ms, max_frame = parse_welcome(fr[1])
    return types.SimpleNamespace(sock=sock, host=host, stream=stream,
                                 last_seq=last_seq, acked=last_seq,
                                 heartbeat_ms=hb_ms, max_frame=max_frame)


def wait_ack(sess, seq, timeout=3.0):
    """Reads frames until an ACK >= seq; returns the last ACK seen (which
    is < seq if none came in time or the link closed)."""
    deadline = time.monotonic() + timeout
    while sess.acked < seq:
        try:
            fr = recv_frame(sess.sock, max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            break
        if fr is None:
            break
        if fr[0] == ACK:
            sess.acked = max(sess.acked, struct.unpack('>Q', fr[1])[0])
    return sess.acked


def listen(port, addr='127.0.0.1'):
    """A listening socket, to play the collector."""
    family = socket.AF_INET6 if ':' in addr else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(16)
    return srv


def accept(srv, timeout=5.0, tls=True):
    """The next connection (TLS as the collector, unless tls is false),
    or None if none came in time."""
    srv.settimeout(timeout)
    try:
        sock, _ = srv.accept()
    except (socket.timeout, TimeoutError):
        return None
    sock.settimeout(timeout)
    if tls:
        try:
            sock = server_context().wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError):
            sock.close()
            return None
    return sock


def _take(p, n):
    if len(p) < n:
        raise ValueError('short payload')
    return p[:n], p[n:]


def _take_str16(p):
    raw, p = _take(p, 2)
    return _take(p, struct.unpack('>H', raw)[0])


def parse_hello(payload):
    """(host, stream, software, caps) of a HELLO payload."""
    host, p = _take_str16(payload)
    raw, p = _take(p, 8)
    software, p = _take_str16(p)
    caps, p = _take(p, 4)
    if p:
        raise ValueError('trailing bytes in HELLO')
    return (host.decode(), struct.unpack('>Q', raw)[0], software.decode(),
            struct.unpack('>I', caps)[0])


def parse_record(payload):
    """(seq, ts_us, event, {key: value}) of a RECORD/HEARTBEAT payload."""
    raw, p = _take(payload, 16)
    seq, ts = struct.unpack('>QQ', raw)
    event, p = _take_str16(p)
    raw, p = _take(p, 2)
    fields = {}
    for _ in range(struct.unpack('>H', raw)[0]):
        raw, p = _take(p, 1)
        ftype = raw[0]
        key, p = _take_str16(p)
        if ftype == F_STR:
            value, p = _take_str16(p)
            value = value.decode('utf-8', 'replace')
        elif ftype in (F_INT, F_TIME, F_DURATION):
            raw, p = _take(p, 8)
            value = struct.unpack('>q', raw)[0]
        elif ftype == F_BOOL:
            raw, p = _take(p, 1)
            value = bool(raw[0])
        elif ftype == F_LIST:
            raw, p = _take(p, 2)
            value = []
            for _ in range(struct.unpack('>H', raw)[0]):
                item, p = _take_str16(p)
                value.append(item.decode('utf-8', 'replace'))
        else:
            raise ValueError('unknown field type %d' % ftype)
        fields[key.decode()] = value
    if p:
        raise ValueError('trailing bytes in record')
    return seq, ts, event.decode(), fields


def welcome_frame(last_seq, heartbeat_ms=30000, max_frame=65536):
    return frame(WELCOME, struct.pack('>QII', last_seq, heartbeat_ms,
                                      max_frame))


def ack_frame(seq):
    return frame(ACK, struct.pack('>Q', seq))


def next_of_type(sock, ftype, timeout=3.0):
    """Reads frames until one of ftype; returns its payload, or None."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fr = recv_frame(sock, max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return None
        if fr is None:
            return None
        if fr[0] == ftype:
            return fr[1]


def close_session(sess):
    try:
        sess.sock.close()
    except OSError:
        pass
