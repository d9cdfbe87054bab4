#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The lab-wide view and the index: one lab.device.new for a device three
PCs see; known and ignored marks suppress it and outlive a restart; a USB
session's totals; a stick on a second PC gives one lab.usb.moved; both ends
of a LAN conversation give one lab.transfer; labwatchctl reindex rebuilds
the same counts; a stalled index (a test holding SQLite's write lock)
never delays acknowledgements.  PCs speak the protocol from this script
(real TLS, real collector, real SQLite)."""
import json
import os
import sqlite3
import subprocess
import time

import lwtest
from lwtest import LABWATCHCTL, check


def ctl(coll, *args):
    return subprocess.run([LABWATCHCTL, '-s', coll.control] + list(args),
                          capture_output=True, text=True, timeout=30)


class PC:
    def __init__(self, coll, host):
        self.sess = lwtest.open_session(coll.port, host)
        self.seq = self.sess.last_seq

    def send(self, event, fields, ack=True):
        self.seq += 1
        self.sess.sock.sendall(lwtest.record_frame(self.seq, event, fields))
        if ack:
            return lwtest.wait_ack(self.sess, self.seq) >= self.seq
        return True

    def close(self):
        self.sess.sock.close()


def idle(coll):
    """Whether the index wrote all it was given."""
    st = json.loads(ctl(coll, '-j', 'index').stdout or '{}')
    return st.get('queued', -1) == st.get('indexed') and not st['reindexing']


def lab(coll, event):
    return [r for r in lwtest.read_records(lwtest.log_path(coll, 'lab'),
                                           coll.fmt)
            if r.get('event') == event]


def db_counts(path):
    db = sqlite3.connect(path)
    q = {
        'events': 'SELECT count(*) FROM events',
        'devices': 'SELECT count(*) FROM devices WHERE first_seen > 0',
        'device_hosts': 'SELECT count(*) FROM device_hosts',
        'usb_devices': 'SELECT count(*) FROM usb_devices WHERE first_seen > 0',
        'sessions': 'SELECT group_concat(host || "/" || session || ":" || '
                    'files_written || "," || bytes_written || "," || '
                    'files_read || "," || mounts, " ") FROM (SELECT * FROM '
                    'usb_sessions ORDER BY host, session)',
        'marks': 'SELECT group_concat(mac || "=" || mark, " ") FROM '
                 '(SELECT * FROM devices WHERE mark != "new" ORDER BY mac)',
        'hosts': 'SELECT count(*) FROM hosts',
    }
    out = {k: db.execute(v).fetchone()[0] for k, v in q.items()}
    db.close()
    return out


M1, M2, M3 = '02:00:5e:10:00:01', '02:00:5e:10:00:02', '02:00:5e:10:00:03'
D1 = '00000000000000d1'


SCRIPT = '''#!/bin/sh
# An alert: the record's mac, one line.
sed -n 's/.*"mac":"\\([^"]*\\)".*/\\1/p' >>"$1"
'''


def json_reindex():
    """A JSON log folder: the same counts after labwatchctl reindex."""
    coll = lwtest.start_collector(fmt='json', name='collector-json')
    index = os.path.join(coll.statedir, 'index.db')
    a, b = PC(coll, 'pc11'), PC(coll, 'pc12')
    usb = [('device_id', D1), ('serial', 'S "1"\n'), ('usb_session', 'j1')]
    for p in (a, b):
        p.send('net.device', [('mac', M1), ('ip', '198.51.100.7')])
    a.send('usb.add', usb + [('interfaces', ['08/06/50', 'ff/00/00'])])
    a.send('usb.write', [('path', '/media/s/\u00e9t\u00e9.txt'),
                         ('size', 7)] + usb)
    a.send('usb.remove', usb)
    lwtest.wait_until(lambda: lab(coll, 'lab.usb.session'), 5)
    ok = lwtest.wait_until(lambda: idle(coll), 5)
    before = db_counts(index)
    r = ctl(coll, 'reindex')
    after = db_counts(index)
    check('JSON logs: labwatchctl reindex rebuilds the same counts',
          ok and r.returncode == 0 and after == before and
          before['sessions'] == 'pc11/j1:1,7,0,0', (before, after, r.stdout,
                                                   r.stderr))
    a.close()
    b.close()
    lwtest.stop(coll)


def main():
    json_reindex()
    logdir, statedir = lwtest.tmpdir('lablogs'), lwtest.tmpdir('labstate')
    d = lwtest.tmpdir('labalert')
    script, fired = os.path.join(d, 'alert'), os.path.join(d, 'fired')
    with open(script, 'w') as f:
        f.write(SCRIPT)
    os.chmod(script, 0o755)
    lwtest.give_to_collector(d)
    conf = os.path.join(d, 'collector.conf')
    with open(conf, 'w') as f:
        f.write('alert-interval 0\nalert unknowns net.device unknown -> '
                '%s %s\n' % (script, fired))
    coll = lwtest.start_collector(logdir=logdir, statedir=statedir,
                                  extra=['--config', conf])
    index = os.path.join(statedir, 'index.db')
    pcs = {h: PC(coll, h) for h in ('pc01', 'pc02', 'pc03')}

    # One device, three PCs, within the window: one lab.device.new.
    for h, ip in (('pc01', '198.51.100.7'), ('pc02', '198.51.100.7'),
                  ('pc03', '198.51.100.8')):
        mac = M1.upper() if h == 'pc02' else M1
        pcs[h].send('net.device', [('mac', mac), ('ip', ip),
                                   ('vendor', 'Acme')])
    got = lwtest.wait_until(lambda: lab(coll, 'lab.device.new'), 8)
    time.sleep(0.5)
    news = lab(coll, 'lab.device.new')
    check('one device seen by three PCs: one lab.device.new', len(news) == 1,
          news)
    check('naming the three PCs, the vendor and both addresses',
          got and sorted(news[0].get('pcs', [])) == ['pc01', 'pc02', 'pc03']
          and news[0].get('vendor') == 'Acme' and
          sorted(news[0].get('ips', [])) == ['198.51.100.7',
                                             '198.51.100.8'], news)

    # Known and ignored devices are not announced.
    r = ctl(coll, 'known', M2, 'the', 'printer')
    check('labwatchctl known MAC NOTE', r.returncode == 0, r.stderr)
    r = ctl(coll, 'ignore', M3.upper())
    check('labwatchctl ignore MAC', r.returncode == 0, r.stderr)
    r = ctl(coll, 'known', 'not-a-mac')
    check('a bad MAC is refused', r.returncode == 1 and 'not a MAC' in
          r.stderr, r.stderr)
    pcs['pc01'].send('net.device', [('mac', M2), ('ip', '198.51.100.9')])
    pcs['pc02'].send('net.device', [('mac', M3), ('ip', '198.51.100.10')])
    time.sleep(4)
    news = lab(coll, 'lab.device.new')
    check('known and ignored devices make no lab.device.new',
          len(news) == 1, news)
    got = lwtest.wait_until(lambda: os.path.exists(fired) and
                            open(fired).read().split(), 3)
    check('an alert rule saying unknown: the unknown device fires it, the '
          'known one does not (the ignored one does: not known)',
          got and M1 in got and M1.upper() in got and M2 not in got and
          M3 in got, got)
    marks = lab(coll, 'lab.mark')
    check('marks are logged with who set them', len(marks) == 2 and
          marks[0].get('note') == 'the printer' and
          marks[0].get('by', '').startswith('uid '), marks)

    # A USB session on pc01, then the stick on pc02.
    usb = [('device_id', D1), ('vendor_id', '0781'), ('product_id', '5567'),
           ('serial', 'S1')]
    p1 = pcs['pc01']
    p1.send('usb.add', usb + [('usb_session', 'a1')])
    p1.send('usb.mount', [('device', '/dev/sdb1'), ('mountpoint', '/media/s'),
                          ('fs_uuid', 'U1'), ('fs_label', 'EXAM')] + usb +
            [('usb_session', 'a1')])
    p1.send('usb.write', [('path', '/media/s/a.txt'), ('size', 100)] + usb +
            [('usb_session', 'a1')])
    p1.send('usb.write', [('path', '/media/s/b.txt'), ('size', 300)] + usb +
            [('usb_session', 'a1')])
    p1.send('usb.read', [('path', '/media/s/c.txt'), ('size', 50)] + usb +
            [('usb_session', 'a1')])
    p1.send('usb.remove', usb + [('usb_session', 'a1')])
    got = lwtest.wait_until(lambda: lab(coll, 'lab.usb.session'), 5)
    s = got[0] if got else {}
    check('usb.remove: lab.usb.session with the totals',
          s.get('pc') == 'pc01' and s.get('usb_session') == 'a1' and
          s.get('files_written') in (2, '2') and
          s.get('bytes_written') in (400, '400') and
          s.get('files_read') in (1, '1') and
          s.get('bytes_read') in (50, '50') and s.get('mounts') in (1, '1'),
          got)
    p2 = pcs['pc02']
    p2.send('usb.add', usb + [('usb_session', 'b1')])
    p2.send('usb.mount', [('device', '/dev/sdc1'), ('mountpoint', '/media/t'),
                          ('fs_uuid', 'U1'), ('fs_label', 'EXAM')] + usb +
            [('usb_session', 'b1')])
    got = lwtest.wait_until(lambda: lab(coll, 'lab.usb.moved'), 5)
    time.sleep(0.5)
    moved = lab(coll, 'lab.usb.moved')
    check('the stick on pc01 then pc02: one lab.usb.moved',
          len(moved) == 1 and moved[0].get('from_pc') == 'pc01' and
          moved[0].get('to_pc') == 'pc02' and
          moved[0].get('device_id') == D1, moved)
    # A stick without a usable serial: another device_id (by port), the
    # same filesystem.
    p3 = pcs['pc03']
    p3.send('usb.add', [('device_id', '00000000000000d2'),
                        ('usb_session', 'c1')])
    p3.send('usb.mount', [('fs_uuid', 'U1'), ('fs_label', 'EXAM'),
                          ('device_id', '00000000000000d2'),
                          ('usb_session', 'c1')])
    got = lwtest.wait_until(lambda: len(lab(coll, 'lab.usb.moved')) >= 2, 5)
    moved = lab(coll, 'lab.usb.moved')
    check('another device_id, the same filesystem UUID and label: moved '
          'by filesystem', len(moved) == 2 and
          moved[1].get('by') == 'filesystem' and
          moved[1].get('from_pc') == 'pc02' and
          moved[1].get('to_pc') == 'pc03', moved)

    # Both ends of one LAN conversation.
    flow = [('proto', 'tcp'), ('src', '198.51.100.1'),
            ('dst', '198.51.100.2'), ('dport', 445),
            ('community_id', '1:abcdefghijklmnopqrstuvwxyz0=')]
    p1.send('flow.lan', flow + [('bytes_out', 1000), ('bytes_in', 50000),
                                ('final', True)])
    p2.send('flow.lan', flow + [('bytes_out', 50010), ('bytes_in', 990),
                                ('final', True)])
    got = lwtest.wait_until(lambda: lab(coll, 'lab.transfer'), 5)
    t = got[0] if got else {}
    check('both ends joined by community_id: one lab.transfer with both '
          'byte counts', len(got or []) == 1 and
          {t.get('pc_a'), t.get('pc_b')} == {'pc01', 'pc02'} and
          str(t.get('bytes_out_a')) == '1000' and
          str(t.get('bytes_out_b')) == '50010', got)

    # The index has it all.
    ok = lwtest.wait_until(lambda: idle(coll), 5)
    before = db_counts(index)
    check('the index: 3 devices, M1 seen by 3 PCs, one USB device, two '
          'sessions, the marks', ok and before['devices'] == 3 and
          before['device_hosts'] == 5 and before['usb_devices'] == 2 and
          'pc01/a1:2,400,1,1' in (before['sessions'] or '') and
          before['marks'] == '%s=known %s=ignored' % (M2, M3), before)
    r = ctl(coll, 'devices', '--known')
    check('labwatchctl devices --known', r.returncode == 0 and
          M2 in r.stdout and M1 not in r.stdout and 'printer' in r.stdout,
          r.stdout + r.stderr)
    r = ctl(coll, 'devices', '--export')
    exported = json.loads(r.stdout) if r.returncode == 0 else {}
    check('labwatchctl devices --export: the marked devices as JSON',
          sorted(d['id'] for d in exported.get('lan', [])) == [M2, M3],
          r.stdout)

    # Reindex: the same counts from the logs.
    r = ctl(coll, 'reindex')
    after = db_counts(index)
    check('labwatchctl reindex rebuilds the same counts',
          r.returncode == 0 and after == before, (before, after, r.stdout,
                                                  r.stderr))

    # A stalled index never delays acknowledgements.
    hold = sqlite3.connect(index, timeout=1, isolation_level=None)
    hold.execute('BEGIN IMMEDIATE')
    t0 = time.monotonic()
    slow = 0
    for i in range(3000):
        t1 = time.monotonic()
        if not p3.send('test.load', [('n', i)], ack=(i % 100 == 99)):
            slow += 1
        if time.monotonic() - t1 > 1.0:
            slow += 1
    p3.send('test.load', [('n', -1)])
    took = time.monotonic() - t0
    st = json.loads(ctl(coll, '-j', 'index').stdout or '{}')
    check('with the index locked, 3000 records are acknowledged at once '
          '(%.1f s) while the index waits (%s waiting)' % (
              took, st.get('depth')),
          slow == 0 and took < 10 and st.get('depth', 0) > 0, st)
    hold.execute('ROLLBACK')
    hold.close()
    ok = lwtest.wait_until(lambda: idle(coll), 30)
    n = sqlite3.connect(index).execute(
        "SELECT count(*) FROM events WHERE event = 'test.load'").fetchone()[0]
    check('once the lock goes, the index catches up', ok and n == 3001, n)

    # Stopping with the index locked: the collector does not wait for it.
    hold = sqlite3.connect(index, timeout=1, isolation_level=None)
    hold.execute('BEGIN IMMEDIATE')
    for i in range(200):
        p3.send('test.stop', [('n', i)], ack=(i == 199))
    for p in pcs.values():
        p.close()
    t0 = time.monotonic()
    lwtest.stop(coll, timeout=30)
    took = time.monotonic() - t0
    hold.execute('ROLLBACK')
    hold.close()
    check('with the index locked by another writer, the collector still '
          'stops in %.1f s (at most one busy wait)' % took,
          coll.returncode == 0 and took < 10, lwtest.stderr_text(coll)[-300:])

    # Marks and seen devices outlive a restart.
    coll = lwtest.start_collector(logdir=logdir, statedir=statedir)
    p4 = PC(coll, 'pc04')
    p4.send('net.device', [('mac', M2), ('ip', '198.51.100.9')])
    p4.send('net.device', [('mac', M1), ('ip', '198.51.100.7')])
    p4.send('net.device', [('mac', '02:00:5e:10:00:04'),
                           ('ip', '198.51.100.11')])
    got = lwtest.wait_until(lambda: len(lab(coll, 'lab.device.new')) >= 2, 6)
    time.sleep(0.5)
    news = lab(coll, 'lab.device.new')
    check('after a restart: marks and seen devices kept, only the new one '
          'announced', len(news) == 2 and
          news[1].get('mac') == '02:00:5e:10:00:04', news)
    r = ctl(coll, 'devices', '--ignored')
    check('the ignore mark survived the restart', M3 in r.stdout, r.stdout)
    r = ctl(coll, '-j', 'hosts')
    check('after a restart: labwatchctl hosts lists the PCs, not lab.log',
          r.returncode == 0 and '"pc04"' in r.stdout and
          '"lab"' not in r.stdout, r.stdout[-300:])
    r = ctl(coll, 'forget', M2)
    p4.send('net.device', [('mac', M2), ('ip', '198.51.100.9')])
    got = lwtest.wait_until(lambda: len(lab(coll, 'lab.device.new')) >= 3, 6)
    check('a forgotten device is new again', got and r.returncode == 0,
          r.stderr)
    imp = os.path.join(lwtest.tmpdir('imp'), 'known.json')
    with open(imp, 'w') as f:
        json.dump({'02:00:5e:10:00:05': 'laptop of the teacher'}, f)
    r = ctl(coll, 'import', imp)
    r2 = ctl(coll, 'devices', '--known')
    check('import: a plain map of MAC to name marks them known',
          r.returncode == 0 and '02:00:5e:10:00:05' in r2.stdout and
          'teacher' in r2.stdout, r.stderr + r2.stdout)
    p4.close()


def burst():
    """A burst beyond the index's queue (65,536 records): the rest goes
    to the spill file and is indexed after, none missed; what is spilled
    when the collector stops is indexed after its next start."""
    load = os.path.join(lwtest.BUILD, 'tests', 'lw-load')
    coll = lwtest.start_collector(tls=False, name='collector-burst')
    r = subprocess.run([load, '--connect', '127.0.0.1:%d' % coll.port,
                        '--agents', '10', '--records', '12000', '--sources',
                        '10'], capture_output=True, text=True, timeout=120)
    check('burst: 120,000 records acknowledged', r.returncode == 0 and
          'acked=120000 ' in r.stdout, r.stdout + r.stderr[-300:])
    st = json.loads(ctl(coll, '-j', 'index').stdout or '{}')
    check('burst: the queue overflowed into the spill file',
          st.get('spilled', 0) > 0 or st.get('queued', 0) >
          st.get('indexed', 0) + 65536, st)
    # Stop with records still spilled; the next start indexes them.
    rc = lwtest.stop(coll, timeout=15)
    index = os.path.join(coll.statedir, 'index.db')
    spill = os.path.getsize(index + '-spill') if os.path.exists(
        index + '-spill') else 0
    coll = lwtest.start_collector(tls=False, name='collector-burst2',
                                  logdir=coll.logdir, statedir=coll.statedir)
    done = lwtest.wait_until(lambda: sqlite3.connect(index).execute(
        "SELECT count(*) FROM events WHERE event = 'load.test'").fetchone()[
            0] == 120000, 60, 0.5)
    st = json.loads(ctl(coll, '-j', 'index').stdout or '{}')
    check('burst: stopped with %d bytes spilled (status %r), restarted: '
          'all 120,000 records indexed, none missed' % (spill, rc),
          done and st.get('missed') == 0, st)
    check('burst: the spill file is empty once read',
          lwtest.wait_until(lambda: os.path.getsize(index + '-spill') == 0,
                            5), os.path.getsize(index + '-spill'))
    lwtest.stop(coll)


def steps():
    main()
    lwtest.step('burst', burst)


lwtest.run(steps)
