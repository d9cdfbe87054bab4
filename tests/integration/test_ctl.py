#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""labwatchctl and the control socket.

Two real agents (one then stopped: offline) and a third PC played by the
test that reports itself blinded (agent.degraded: degraded) and sends a
USB device and two LAN conversations (today's counts); hosts, show,
reload, revoke (which cuts the agent's live link), JSON output, and clear
errors when no collector answers.
"""
import json
import os
import subprocess
import time

import lwtest
from lwtest import LABWATCHCTL, check


def ctl(coll, *args, sock=None):
    return subprocess.run([LABWATCHCTL, '-s', sock or coll.control] +
                          list(args), capture_output=True, text=True,
                          timeout=30)


def hosts(coll):
    p = ctl(coll, '-j', 'hosts')
    return {h['host']: h for h in json.loads(p.stdout)} if \
        p.returncode == 0 else {}


def main():
    coll = lwtest.start_collector(extra=['--enroll-ca', lwtest.ca_dir()])
    addr = '127.0.0.1:%d' % coll.port
    p = ctl(coll, '-j', 'hosts')
    check('hosts with no agent yet: an empty list',
          p.returncode == 0 and json.loads(p.stdout) == [], p.stderr)
    check('the control socket is mode 0660',
          os.stat(coll.control).st_mode & 0o777 == 0o660)

    a = lwtest.start_agent(addr, 'pca')
    b = lwtest.start_agent(addr, 'pcb')
    fake = lwtest.open_session(coll.port, 'pcc')
    recs = [('agent.start', [('version', '9.9.9')]),
            ('usb.add', [('vendor_id', '0781'), ('storage', True)]),
            ('flow.lan', [('proto', 'tcp')]), ('flow.lan', [('proto', 'udp')]),
            ('agent.degraded', [('monitor', 'capture'),
                                ('reason', 'interface eth0 gone')])]
    for i, (ev, fields) in enumerate(recs, 1):
        fake.sock.sendall(lwtest.record_frame(i, ev, fields))
    lwtest.wait_ack(fake, len(recs))
    for h in ('pca', 'pcb'):
        lwtest.wait_event(lwtest.log_path(coll, h), 'text', 'agent.start')
    lwtest.stop(b)
    lwtest.wait_event(lwtest.log_path(coll, 'pcb'), 'text',
                      'host.disconnect')

    hs = lwtest.wait_until(lambda: (lambda x: x if len(x) == 3 else None)(
        hosts(coll)), 5) or {}
    check('hosts lists the three PCs', sorted(hs) == ['pca', 'pcb', 'pcc'],
          hs)
    check('a running agent is online',
          hs.get('pca', {}).get('state') == 'online', hs.get('pca'))
    check('a stopped agent is offline',
          hs.get('pcb', {}).get('state') == 'offline', hs.get('pcb'))
    check('a blinded agent is degraded',
          hs.get('pcc', {}).get('state') == 'degraded', hs.get('pcc'))
    pca = hs.get('pca', {})
    check('online: address, TLS identity, agent version, since',
          pca.get('address', '').startswith('127.0.0.1:') and
          pca.get('identity') == 'pca' and
          pca.get('version') == lwtest.program_version(lwtest.AGENT) and
          pca.get('since'), pca)
    pcc = hs.get('pcc', {})
    check("today's counts: 1 USB device, 2 LAN conversations, 0 internet",
          (pcc.get('usb_today'), pcc.get('lan_today'),
           pcc.get('internet_today')) == (1, 2, 0), pcc)
    check('last event is the latest record',
          pcc.get('last_event') == 'agent.degraded', pcc)

    p = ctl(coll, 'hosts')
    lines = p.stdout.splitlines()
    check('hosts as a table: a header and a line per host',
          p.returncode == 0 and lines[0].split()[:3] ==
          ['HOST', 'STATE', 'SINCE'] and len(lines) == 4 and
          lines[3].split()[:2] == ['pcc', 'degraded'], p.stdout)
    p = ctl(coll, 'show', 'pcc')
    check('show: the state, then the recent records oldest first',
          p.returncode == 0 and p.stdout.splitlines()[0] == 'pcc: degraded'
          and ' usb.add seq=2 ' in p.stdout and
          p.stdout.rstrip().splitlines()[-1].split()[2] == 'agent.degraded',
          p.stdout)
    p = ctl(coll, 'show', 'nosuchpc')
    check('show of an unknown host: exit 1, says so',
          p.returncode == 1 and 'no such host' in p.stderr, p.stderr)
    p = ctl(coll, 'frobnicate')
    check('a usage error exits 2', p.returncode == 2, p.stderr)
    p = ctl(coll, 'hosts', sock=os.path.join(lwtest.tmpdir(), 'none.sock'))
    check('no collector: exit 1 and a clear message',
          p.returncode == 1 and 'is labwatch-collector running' in p.stderr,
          p.stderr)
    check('the collector logs what was asked, by which uid',
          'control: uid %d asks: hosts' % os.getuid() in
          lwtest.stderr_text(coll), lwtest.stderr_text(coll)[-500:])

    p = ctl(coll, 'reload')
    check('reload', p.returncode == 0 and 'reloaded' in p.stdout, p.stderr)
    check('pca stays connected across a reload',
          lwtest.wait_until(lambda: hosts(coll).get('pca', {}).get(
              'state') == 'online', 2))

    p = ctl(coll, 'revoke', 'pca')
    check('revoke pca: exit 0', p.returncode == 0, p.stderr)
    recs = lwtest.wait_event(lwtest.log_path(coll, 'pca'), 'text',
                             'host.disconnect')
    d = lwtest.events(recs, 'host.disconnect')
    check('revoke then reload cuts the agent (host.disconnect revoked)',
          d and d[-1].get('reason') == 'revoked', d)
    check('the revoked PC is offline in hosts',
          lwtest.wait_until(lambda: hosts(coll).get('pca', {}).get(
              'state') == 'offline', 3))
    listing = lwtest.labwatch_ca('list', lwtest.ca_dir()).stdout
    check('labwatch-ca lists pca as revoked',
          any(line.split('\t')[0] == 'pca' and 'revoked' in line
              for line in listing.splitlines()), listing)
    time.sleep(1)
    check('the revoked agent cannot come back',
          hosts(coll).get('pca', {}).get('state') == 'offline')
    fake.sock.close()
    lwtest.stop(a)
    lwtest.stop(coll)


lwtest.run(main)
