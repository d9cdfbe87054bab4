#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""scripts/labwatch-ca, checked by readers other than the script: the
openssl command line (verify, verify -crl_check, x509, pkey, crl), stat for
file modes, Python's hashlib for the enrolment hash and Python's ssl module
for real TLS 1.3 handshakes on 127.0.0.1 with mutual verification, before
and after a revocation.  Covers init (and a refused second init), host and
server certificates, bad host names, a refused second issue, revoke and
re-issue, the CRL, list (valid, revoked, expired), secret, a moved CA
folder, usage errors.  Needs only openssl and python3.
"""

import base64
import calendar
import hashlib
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
import lwtest as lw  # noqa: E402
from lwtest import check

CA = os.path.join(lw.ROOT, 'scripts', 'labwatch-ca')
OUTPUTS = []          # every stdout and stderr of the script, for key leaks
SLOWEST = [0.0, '']   # the slowest command and its time


def ca(*args, env=None):
    """Runs labwatch-ca; returns (status, stdout, stderr)."""
    full_env = dict(os.environ)
    for k in ('LABWATCH_CA_DAYS', 'LABWATCH_CA_STARTDATE',
              'LABWATCH_CA_ENDDATE'):
        full_env.pop(k, None)
    full_env.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run([CA] + list(args), capture_output=True, text=True,
                       env=full_env, timeout=60, check=False)
    took = time.monotonic() - t0
    if took > SLOWEST[0]:
        SLOWEST[:] = [took, ' '.join(args[:1])]
    OUTPUTS.append(p.stdout + p.stderr)
    return p.returncode, p.stdout, p.stderr


def ossl(*args):
    """Runs openssl; returns (status, stdout + stderr)."""
    p = subprocess.run(['openssl'] + list(args), capture_output=True,
                       text=True, timeout=30, check=False)
    return p.returncode, p.stdout + p.stderr


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def ext_text(crt, exts):
    return ossl('x509', '-in', crt, '-noout', '-ext', exts)[1]


def san_list(crt):
    """The subjectAltName entries as openssl prints them."""
    text = ext_text(crt, 'subjectAltName')
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if 'Subject Alternative Name' in line and i + 1 < len(lines):
            return [s.strip() for s in lines[i + 1].split(',')]
    return []


def x509_field(crt, opt):
    """One 'key=value' line of openssl x509 (-serial, -enddate, -subject
    in the /A=B/C=D form); the value."""
    out = ossl('x509', '-in', crt, '-noout', opt, '-nameopt', 'compat')[1]
    return out.strip().split('=', 1)[1] if '=' in out else ''


def verify(crt, d, crl=False, purpose=None):
    args = ['verify', '-CAfile', os.path.join(d, 'ca.crt')]
    if crl:
        args += ['-crl_check', '-CRLfile', os.path.join(d, 'crl.pem')]
    if purpose:
        args += ['-purpose', purpose]
    rc, out = ossl(*(args + [crt]))
    return rc == 0 and out.strip().endswith(': OK'), out


def index_lines(d):
    with open(os.path.join(d, 'index.txt')) as f:
        return [line.rstrip('\n').split('\t') for line in f]


def list_rows(d):
    """labwatch-ca list as (header, [row dicts]); rows split on tabs."""
    rc, out, err = ca('list', d)
    lines = out.splitlines()
    if rc != 0 or not lines:
        return None, []
    header = lines[0].split('\t')
    return header, [dict(zip(header, line.split('\t')))
                    for line in lines[1:]]


def iso_to_epoch(s):
    return calendar.timegm(time.strptime(s, '%Y-%m-%dT%H:%M:%SZ'))


def openssl_time(crt):
    """notAfter of crt as seconds since the epoch, read by openssl."""
    return ssl.cert_time_to_seconds(x509_field(crt, '-enddate'))


# TLS

def server_ctx(d, name, crl=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(os.path.join(d, 'servers', name + '.crt'),
                        os.path.join(d, 'servers', name + '.key'))
    ctx.load_verify_locations(cafile=os.path.join(d, 'ca.crt'))
    ctx.verify_mode = ssl.CERT_REQUIRED
    if crl:
        ctx.load_verify_locations(cafile=os.path.join(d, 'crl.pem'))
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return ctx


def client_ctx(d, host):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(cafile=os.path.join(d, 'ca.crt'))
    ctx.load_cert_chain(os.path.join(d, 'hosts', host + '.crt'),
                        os.path.join(d, 'hosts', host + '.key'))
    return ctx


def handshake(sctx, cctx, server_hostname):
    """One TLS connection on 127.0.0.1: the client sends 'ping', the
    server answers with the client certificate's CN.  Returns (server,
    client): each 'ok ...' or 'error ...'."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)
    srv.settimeout(5)
    result = {}

    def serve():
        try:
            conn, _ = srv.accept()
            conn.settimeout(5)
            with sctx.wrap_socket(conn, server_side=True) as tls:
                cert = tls.getpeercert()
                cn = [v for rdn in cert['subject'] for k, v in rdn
                      if k == 'commonName']
                data = tls.recv(16)
                tls.sendall(b'cn=' + cn[0].encode())
                result['server'] = 'ok %s %s %s' % (tls.version(), cn[0],
                                                    data.decode())
        except Exception as e:  # the outcome under test
            result['server'] = 'error %r' % e

    t = threading.Thread(target=serve)
    t.start()
    try:
        with socket.create_connection(srv.getsockname(), timeout=5) as s:
            with cctx.wrap_socket(s, server_hostname=server_hostname) as tls:
                tls.sendall(b'ping')
                answer = tls.recv(64)
                if not answer:
                    raise ConnectionError('closed without an answer')
                result['client'] = 'ok %s' % answer.decode()
    except Exception as e:
        result['client'] = 'error %r' % e
    t.join(10)
    srv.close()
    return result.get('server', 'error none'), result.get('client')


# The steps

def usage_errors():
    rc, out, _ = ca('--help')
    check('--help exits 0 and prints the commands',
          rc == 0 and all(c in out for c in
                          ('init DIR', 'server DIR NAME', 'issue DIR HOST',
                           'revoke DIR HOST', 'crl DIR', 'list DIR',
                           'secret DIR', 'cron')), out[:200])
    check('-h and help print the same usage',
          ca('-h')[1] == out and ca('help')[1] == out)
    for args in ([], ['bogus', 'x'], ['init'], ['issue', 'x'],
                 ['server', 'x'], ['list', 'a', 'b'], ['init', '']):
        rc, _, err = ca(*args)
        check('bad usage %r exits 2 with a message' % (args,),
              rc == 2 and err.startswith('labwatch-ca: '), (rc, err))
    rc, _, err = ca('list', os.path.join(lw.tmpdir(), 'nothing-here'))
    check('a folder without a CA: exit 1, says so',
          rc == 1 and 'no labwatch CA' in err, (rc, err))


def init(d):
    rc, out, err = ca('init', d)
    check('init exits 0', rc == 0, err)
    check('init: folder mode 0700', mode(d) == 0o700, oct(mode(d)))
    for name, want in (('ca.key', 0o600), ('ca.crt', 0o644)):
        path = os.path.join(d, name)
        check('init: %s mode %o' % (name, want),
              os.path.exists(path) and mode(path) == want,
              oct(mode(path)) if os.path.exists(path) else 'missing')
    for name in ('openssl.cnf', 'index.txt', 'index.txt.attr', 'serial',
                 'crlnumber', 'crl.pem', 'certs', 'hosts', 'servers'):
        check('init: %s exists' % name,
              os.path.exists(os.path.join(d, name)))
    crt, key = os.path.join(d, 'ca.crt'), os.path.join(d, 'ca.key')
    text = ossl('pkey', '-in', key, '-noout', '-text')[1]
    check('init: CA key is P-256 (openssl pkey)',
          'NIST CURVE: P-256' in text and 'prime256v1' in text, text[-200:])
    exts = ext_text(crt, 'basicConstraints,keyUsage')
    check('init: CA certificate is CA:TRUE, keyCertSign and cRLSign',
          'CA:TRUE' in exts and 'Certificate Sign, CRL Sign' in exts, exts)
    subject = x509_field(crt, '-subject')
    issuer = x509_field(crt, '-issuer')
    check('init: CA subject is CN=labwatch ..., self-signed',
          re.match(r'^/CN=labwatch (lab )?CA\b', subject) and
          subject == issuer, (subject, issuer))
    years = (openssl_time(crt) - time.time()) / (365.25 * 86400)
    check('init: CA certificate valid about 10 years',
          9.9 < years < 10.1, years)
    ok, out = verify(crt, d)
    check('init: CA certificate verifies against itself', ok, out)
    with open(os.path.join(d, 'index.txt.attr')) as f:
        check('init: index.txt.attr says unique_subject = no',
              'unique_subject = no' in f.read())
    check('init: index.txt is empty',
          os.path.getsize(os.path.join(d, 'index.txt')) == 0)
    rc, text = ossl('crl', '-in', os.path.join(d, 'crl.pem'), '-noout',
                    '-text', '-CAfile', crt)
    check('init: crl.pem is an empty CRL signed by the CA',
          rc == 0 and 'No Revoked Certificates' in text and
          'verify OK' in text, text[:300])
    nxt = ossl('crl', '-in', os.path.join(d, 'crl.pem'), '-noout',
               '-nextupdate')[1].strip().split('=', 1)[-1]
    days = (ssl.cert_time_to_seconds(nxt) - time.time()) / 86400
    check('init: CRL nextUpdate about 30 days ahead', 29 < days <= 30.01,
          nxt)
    before = lw.read_bytes(key)
    rc, _, err = ca('init', d)
    check('second init refused (exit 1, says a CA is there)',
          rc == 1 and 'already holds a CA' in err, (rc, err))
    check('second init left ca.key alone', lw.read_bytes(key) == before)


def bad_names(d):
    for host in ('../x', '.hidden', 'a' * 65, 'a b', '', 'a/b', 'x\ny',
                 'caf\u00e9'):
        rc, _, err = ca('issue', d, host)
        check('issue refuses host name %r (exit 2)' % host,
              rc == 2 and 'bad host name' in err, (rc, err))
    check('refused names wrote no files',
          os.listdir(os.path.join(d, 'hosts')) == [] and
          os.path.getsize(os.path.join(d, 'index.txt')) == 0)
    for name in ('999.1.1.1', 'a/b', '.x', 'fe80::zz'):
        rc, _, err = ca('server', d, 'ok.lab', name)
        check('server refuses name %r' % name, rc in (1, 2), (rc, err))
    check('refused server names wrote no files',
          os.listdir(os.path.join(d, 'servers')) == [])


def host_cert(d, host):
    rc, out, err = ca('issue', d, host)
    check('issue %s exits 0' % host, rc == 0, err)
    crt = os.path.join(d, 'hosts', host + '.crt')
    key = os.path.join(d, 'hosts', host + '.key')
    check('issue %s: key mode 0600, certificate 0644' % host,
          os.path.exists(key) and mode(key) == 0o600 and
          mode(crt) == 0o644)
    ok, out = verify(crt, d, purpose='sslclient')
    check('issue %s: openssl verify (sslclient) OK' % host, ok, out)
    ok, out = verify(crt, d, crl=True)
    check('issue %s: openssl verify -crl_check OK' % host, ok, out)
    ok, out = verify(crt, d, purpose='sslserver')
    check('issue %s: not usable as a server certificate' % host, not ok,
          out)
    subject = x509_field(crt, '-subject')
    check('issue %s: subject is /OU=host/CN=%s' % (host, host),
          subject == '/OU=host/CN=' + host, subject)
    check('issue %s: SAN is exactly DNS:%s' % (host, host),
          san_list(crt) == ['DNS:' + host], san_list(crt))
    eku = ext_text(crt, 'extendedKeyUsage')
    check('issue %s: EKU clientAuth only' % host,
          'TLS Web Client Authentication' in eku and
          'Server' not in eku, eku)
    text = ossl('pkey', '-in', key, '-noout', '-text')[1]
    check('issue %s: key is P-256' % host, 'NIST CURVE: P-256' in text)
    days = (openssl_time(crt) - time.time()) / 86400
    check('issue %s: valid 825 days' % host, 824.9 < days < 825.1, days)
    serial = x509_field(crt, '-serial')
    rows = [r for r in index_lines(d) if r[3] == serial]
    check('issue %s: index.txt line V, serial, unknown, /OU=host/CN=%s'
          % (host, host),
          len(rows) == 1 and rows[0][0] == 'V' and rows[0][2] == '' and
          rows[0][4] == 'unknown' and rows[0][5] == '/OU=host/CN=' + host,
          rows)
    check('issue %s: certs/%s.pem is the same certificate' % (host, serial),
          x509_field(os.path.join(d, 'certs', serial + '.pem'),
                     '-fingerprint') == x509_field(crt, '-fingerprint'))
    return serial


def server_cert(d):
    rc, out, err = ca('server', d, 'collector.lab', '127.0.0.1', '::1',
                      'lw.example')
    check('server exits 0', rc == 0, err)
    crt = os.path.join(d, 'servers', 'collector.lab.crt')
    key = os.path.join(d, 'servers', 'collector.lab.key')
    check('server: key mode 0600', os.path.exists(key) and
          mode(key) == 0o600)
    ok, out = verify(crt, d, purpose='sslserver')
    check('server: openssl verify (sslserver) OK', ok, out)
    sans = san_list(crt)
    check('server: SANs DNS and IP as given',
          sans == ['DNS:collector.lab', 'IP Address:127.0.0.1',
                   'IP Address:0:0:0:0:0:0:0:1', 'DNS:lw.example'], sans)
    eku = ext_text(crt, 'extendedKeyUsage')
    check('server: EKU serverAuth only',
          'TLS Web Server Authentication' in eku and 'Client' not in eku,
          eku)
    subject = x509_field(crt, '-subject')
    check('server: subject /OU=server/CN=collector.lab',
          subject == '/OU=server/CN=collector.lab', subject)


def tls(d, serial):
    s, c = handshake(server_ctx(d, 'collector.lab'), client_ctx(d, 'pc01'),
                     'collector.lab')
    check('TLS 1.3 mutual: server sees client pc01',
          s == 'ok TLSv1.3 pc01 ping', s)
    check('TLS 1.3 mutual: client verified collector.lab',
          c == 'ok cn=pc01', c)
    s, c = handshake(server_ctx(d, 'collector.lab'), client_ctx(d, 'pc01'),
                     '127.0.0.1')
    check('TLS: client verifies the server by its IP SAN',
          c == 'ok cn=pc01', c)
    s, c = handshake(server_ctx(d, 'collector.lab'), client_ctx(d, 'pc01'),
                     'other.lab')
    check('TLS: a name not in the SANs fails', c.startswith('error'), c)
    s, c = handshake(server_ctx(d, 'collector.lab', crl=True),
                     client_ctx(d, 'pc01'), 'collector.lab')
    check('TLS with the CRL checked, before revoke: works',
          s.startswith('ok') and c == 'ok cn=pc01', (s, c))

    rc, _, err = ca('issue', d, 'pc01')
    check('issue pc01 again refused: revoke it first',
          rc == 1 and 'revoke it first' in err and serial in err, err)
    rc, out, err = ca('revoke', d, 'pc01')
    check('revoke pc01 exits 0', rc == 0 and serial in out, (err, out))
    crt = os.path.join(d, 'certs', serial + '.pem')
    ok, out = verify(crt, d, crl=True)
    check('after revoke: openssl verify -crl_check says revoked',
          not ok and 'certificate revoked' in out, out)
    text = ossl('crl', '-in', os.path.join(d, 'crl.pem'), '-noout',
                '-text')[1]
    check('after revoke: the CRL lists the serial',
          'Serial Number: ' + serial in text, text[:300])
    s, c = handshake(server_ctx(d, 'collector.lab', crl=True),
                     client_ctx(d, 'pc01'), 'collector.lab')
    check('TLS after revoke: the server refuses pc01 (CRL, leaf check)',
          s.startswith('error') and 'revoked' in s, s)
    check('TLS after revoke: the client gets no answer',
          c is not None and c.startswith('error'), c)
    rc, _, err = ca('revoke', d, 'pc01')
    check('revoke again: nothing to revoke, exit 1',
          rc == 1 and 'no certificate' in err, err)
    new = host_cert(d, 'pc01')
    check('re-issue after revoke: a new serial', new != serial, new)
    s, c = handshake(server_ctx(d, 'collector.lab', crl=True),
                     client_ctx(d, 'pc01'), 'collector.lab')
    check('TLS with the re-issued certificate and the CRL: works',
          s.startswith('ok') and c == 'ok cn=pc01', (s, c))
    return new


def expired(d):
    env = {'LABWATCH_CA_STARTDATE': '20200101000000Z',
           'LABWATCH_CA_ENDDATE': '20210101000000Z'}
    rc, _, err = ca('issue', d, 'pc-old', env=env)
    check('issue with LABWATCH_CA_ENDDATE in the past exits 0', rc == 0, err)
    crt = os.path.join(d, 'hosts', 'pc-old.crt')
    ok, out = verify(crt, d)
    check('that certificate is expired for openssl verify',
          not ok and 'certificate has expired' in out, out)
    old_serial = x509_field(crt, '-serial')
    rows = list_rows(d)[1]
    row = [r for r in rows if r.get('serial') == old_serial]
    check('list: the expired certificate says expired, 2021-01-01',
          len(row) == 1 and row[0]['status'] == 'expired' and
          row[0]['not_after'] == '2021-01-01T00:00:00Z', row)
    rc, _, err = ca('issue', d, 'pc-old')
    check('issue over an expired certificate works', rc == 0, err)
    ok, out = verify(crt, d)
    check('the new pc-old certificate verifies', ok, out)
    for bad in ({'LABWATCH_CA_DAYS': '0'}, {'LABWATCH_CA_DAYS': 'x'},
                {'LABWATCH_CA_ENDDATE': '2021'}):
        rc, _, err = ca('issue', d, 'pc-knob', env=bad)
        check('bad knob %r refused (exit 2)' % bad, rc == 2, (rc, err))
    rc, _, err = ca('issue', d, 'pc-short', env={'LABWATCH_CA_DAYS': '2'})
    days = (openssl_time(os.path.join(d, 'hosts', 'pc-short.crt')) -
            time.time()) / 86400
    check('LABWATCH_CA_DAYS=2 gives 2 days', rc == 0 and 1.9 < days < 2.1,
          (rc, err, days))


def listing(d, revoked, valid):
    header, rows = list_rows(d)
    check('list: header name kind serial status not_after',
          header == ['name', 'kind', 'serial', 'status', 'not_after'],
          header)
    check('list: five tab-separated fields on every line',
          rows and all(len(r) == 5 for r in rows), rows)
    check('list: one line per index.txt line, in order',
          [r['serial'] for r in rows] == [x[3] for x in index_lines(d)])
    by = {r['serial']: r for r in rows}
    check('list: the revoked pc01 certificate',
          by.get(revoked, {}).get('status') == 'revoked' and
          by[revoked]['name'] == 'pc01' and by[revoked]['kind'] == 'host',
          by.get(revoked))
    check('list: the new pc01 certificate is valid',
          by.get(valid, {}).get('status') == 'valid', by.get(valid))
    srv = [r for r in rows if r['name'] == 'collector.lab']
    check('list: the server, kind server, valid',
          len(srv) == 1 and srv[0]['kind'] == 'server' and
          srv[0]['status'] == 'valid', srv)
    crt = os.path.join(d, 'hosts', 'pc01.crt')
    check('list: not_after matches openssl x509 -enddate',
          valid in by and
          iso_to_epoch(by[valid]['not_after']) == openssl_time(crt),
          by.get(valid))


def secret(d):
    rc, out, err = ca('secret', d)
    check('secret exits 0', rc == 0, err)
    sp, hp = os.path.join(d, 'enroll.secret'), os.path.join(d, 'enroll.hash')
    check('enroll.secret mode 0600', mode(sp) == 0o600, oct(mode(sp)))
    data = lw.read_bytes(sp)
    line = data[:-1]
    raw = b''
    if re.fullmatch(rb'[0-9a-f]{64}', line):
        raw = bytes.fromhex(line.decode())
    elif re.fullmatch(rb'[A-Za-z0-9+/]{43}=', line):
        raw = base64.b64decode(line)
    check('enroll.secret: one line, 32 bytes in hex or base64',
          data.endswith(b'\n') and data.count(b'\n') == 1 and
          len(raw) == 32, data)
    hline = lw.read_bytes(hp).decode()
    m = re.fullmatch(r'pbkdf2-sha256\$100000\$([0-9a-f]{32})\$([0-9a-f]{64})'
                     r'\n', hline)
    check('enroll.hash: pbkdf2-sha256$100000$SALT32$HASH64, one line',
          m is not None, hline)
    if m:
        want = hashlib.pbkdf2_hmac('sha256', line, bytes.fromhex(m.group(1)),
                                   100000, 32).hex()
        check('enroll.hash verifies with hashlib.pbkdf2_hmac',
              want == m.group(2), (want, m.group(2)))
        wrong = hashlib.pbkdf2_hmac('sha256', line + b'\n',
                                    bytes.fromhex(m.group(1)), 100000).hex()
        check('the hash is over the line without its newline',
              wrong != m.group(2))
    check('secret never prints the secret',
          line.decode() not in out + err)
    ca('secret', d)
    check('secret again: a new secret and a new salt',
          lw.read_bytes(sp) != data and lw.read_bytes(hp).decode() != hline)


def moved(d):
    d2 = d + '-moved'
    shutil.move(d, d2)
    rc, _, err = ca('issue', d2, 'pc02')
    check('a moved CA folder still works (issue)', rc == 0, err)
    ok, out = verify(os.path.join(d2, 'hosts', 'pc02.crt'), d2)
    check('its certificate verifies', ok, out)
    rc, _, err = ca('revoke', d2, 'pc02')
    ok, out = verify(os.path.join(d2, 'hosts', 'pc02.crt'), d2, crl=True)
    check('a moved CA folder revokes', rc == 0 and not ok and
          'revoked' in out, (err, out))
    return d2


def main():
    d = os.path.join(lw.tmpdir('ca'), 'lab-ca')
    usage_errors()
    init(d)
    bad_names(d)
    serial = host_cert(d, 'pc01')
    rc, _, err = ca('issue', d, 'a' * 64)
    check('a 64-character host name is accepted', rc == 0, err)
    server_cert(d)
    new = tls(d, serial)
    listing(d, serial, new)
    expired(d)
    secret(d)
    rc, out, err = ca('crl', d)
    check('crl exits 0 and the CRL still verifies',
          rc == 0 and 'verify OK' in ossl(
              'crl', '-in', os.path.join(d, 'crl.pem'), '-noout',
              '-CAfile', os.path.join(d, 'ca.crt'))[1], err)
    d = moved(d)
    left = [n for n in os.listdir(d) if n.startswith('.tmp')]
    check('no temporary files left in the CA folder', not left, left)
    check('no command printed a private key',
          not any('PRIVATE KEY' in o for o in OUTPUTS))
    check('every command took under 3 s', SLOWEST[0] < 3.0, SLOWEST)
    lw.note('slowest command: %s, %.2f s' % (SLOWEST[1], SLOWEST[0]))


if __name__ == '__main__':
    lw.run(main)
