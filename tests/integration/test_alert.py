#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Alert rules in collector.conf: a rule firing a script that records its
standard input (the record as JSON) and environment; field and host
conditions; the per-rule-and-host rate limit with its count of what was
held back; a failing command and a hung one (timeout) are logged."""
import json
import os
import time

import lwtest
from lwtest import check

SCRIPT = '''#!/bin/sh
# Records what an alert hands over: stdin, then a line of environment.
out=$1
{ cat; echo "ENV alert=$LABWATCH_ALERT host=$LABWATCH_HOST \
suppressed=$LABWATCH_SUPPRESSED"; } >>"$out"
'''


def fired(path):
    """[(record, env line)] the script recorded."""
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for i in range(0, len(lines) - 1, 2):
        out.append((json.loads(lines[i]), lines[i + 1]))
    return out


def main():
    d = lwtest.tmpdir('alert')
    script = os.path.join(d, 'record-alert')
    with open(script, 'w') as f:
        f.write(SCRIPT)
    os.chmod(script, 0o755)
    sticks, lab2, offline = (os.path.join(d, n) for n in
                             ('sticks.out', 'lab2.out', 'offline.out'))
    # The collector runs its alerts as its own unprivileged user.
    lwtest.give_to_collector(d)
    conf = os.path.join(d, 'collector.conf')
    with open(conf, 'w') as f:
        f.write('alert-interval 2\nalert-timeout 1\n'
                'alert sticks usb.add storage=true -> %s %s\n'
                'alert lab2 flow.internet host=lab2-* name=*.example.com '
                '-> %s %s\n'
                'alert gone host.disconnect -> %s %s\n'
                'alert failing agent.stop -> /bin/false\n'
                'alert slow agent.selftest -> /bin/sleep 30\n' % (
                    script, sticks, script, lab2, script, offline))
    coll = lwtest.start_collector(extra=['--config', conf])
    pc = lwtest.open_session(coll.port, 'pcx')
    seq = [0]

    def send(sess, event, fields):
        seq[0] += 1
        sess.sock.sendall(lwtest.record_frame(seq[0], event, fields))
        lwtest.wait_ack(sess, seq[0])

    send(pc, 'usb.add', [('vendor_id', '0781'), ('storage', True),
                         ('serial', 'S1')])
    got = lwtest.wait_until(lambda: fired(sticks), 5)
    check('a matching usb.add runs the script with the record as JSON',
          got and got[0][0].get('event') == 'usb.add' and
          got[0][0].get('serial') == 'S1' and got[0][0].get('host') == 'pcx',
          got)
    check('with the rule and host in its environment, nothing held back',
          got and got[0][1] == 'ENV alert=sticks host=pcx suppressed=0',
          got)
    send(pc, 'usb.add', [('storage', False), ('serial', 'S2')])
    send(pc, 'usb.add', [('storage', True), ('serial', 'S3')])
    send(pc, 'usb.add', [('storage', True), ('serial', 'S4')])
    time.sleep(0.5)
    check('within the interval: held back (no second run)',
          len(fired(sticks)) == 1, fired(sticks))
    time.sleep(2)
    send(pc, 'usb.add', [('storage', True), ('serial', 'S5')])
    got = lwtest.wait_until(lambda: (lambda f: f if len(f) == 2 else None)(
        fired(sticks)), 5) or []
    check('after the interval it runs again and counts the 2 held back',
          len(got) == 2 and got[1][0].get('serial') == 'S5' and
          got[1][1].endswith('suppressed=2'), got)
    check('storage=false never matched',
          all(r.get('serial') != 'S2' for r, _ in fired(sticks)))

    send(pc, 'flow.internet', [('name', 'www.example.com')])
    lab = lwtest.open_session(coll.port, 'lab2-a')
    seq[0] = 0
    send(lab, 'flow.internet', [('name', 'other.example.org')])
    send(lab, 'flow.internet', [('name', 'www.example.com'),
                                ('dport', 443)])
    got = lwtest.wait_until(lambda: fired(lab2), 5)
    check('host=lab2-* name=*.example.com: only lab2-a with that name',
          got and len(got) == 1 and got[0][0].get('host') == 'lab2-a' and
          got[0][0].get('name') == 'www.example.com', got)

    send(lab, 'agent.stop', [('reason', 'test')])
    ok = lwtest.wait_until(lambda: '/bin/false exited with status 1' in
                           lwtest.stderr_text(coll), 5)
    check('a failing command is logged', ok,
          lwtest.stderr_text(coll)[-400:])
    send(lab, 'agent.selftest', [('n', 1)])
    ok = lwtest.wait_until(lambda: 'still running after 1 s; killed' in
                           lwtest.stderr_text(coll), 5)
    check('a command past the timeout is killed and logged', ok,
          lwtest.stderr_text(coll)[-400:])
    lab.sock.close()
    got = lwtest.wait_until(lambda: fired(offline), 5)
    check("the collector's own events fire too (host.disconnect)",
          got and got[0][0].get('event') == 'host.disconnect' and
          got[0][0].get('host') == 'lab2-a', got)
    pc.sock.close()
    lwtest.stop(coll)


lwtest.run(main)
