#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Wake-on-LAN through the lab's agents (issue 13), in network namespaces.

One switch (a bridge) with the collector (10.99.0.1), a relay PC running an
agent (10.99.0.11) and a sleeping PC (10.99.0.12, MAC 02:00:00:00:00:12)
whose agent ran once (so the collector knows its MAC) and then stopped.
A raw packet socket in the sleeping PC's namespace reads what arrives:
the magic packet must come as UDP to ports 9 and 7 and as an Ethernet
frame of type 0x0842, byte for byte.  Then the sleeper's agent starts and
the lab log says host.woke.  Also: no relay on the segment (a clear error;
--direct sends a directed broadcast from the collector), a plaintext link
and an unknown command (refused, and logged by the agent).
Namespaces are named lwwk-PID-* and always deleted.
"""

import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest as lw  # noqa: E402
from lwtest import check  # noqa: E402

TAG = 'lwwk-%d' % os.getpid()
NS = {n: '%s-%s' % (TAG, n) for n in ('sw', 'srv', 'relay', 'sleep')}
ADDR = {'srv': '10.99.0.1', 'relay': '10.99.0.11', 'sleep': '10.99.0.12'}
SLEEPER_MAC = '02:00:00:00:00:12'
MAGIC = b'\xff' * 6 + bytes.fromhex(SLEEPER_MAC.replace(':', '')) * 16
CTL = os.path.join(lw.ROOT, 'scripts', 'labwatchctl')

# Reads frames on eth0 for a while; prints what looked like a wake.
LISTENER = r'''
import socket, struct, sys, time, json
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0))
s.settimeout(0.2)
print("ready", flush=True)
end = time.time() + float(sys.argv[1])
seen = []
while time.time() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    etype = struct.unpack(">H", f[12:14])[0]
    if etype == 0x0842:
        seen.append({"kind": "ether", "dst": f[0:6].hex(),
                     "payload": f[14:14 + 102].hex()})
    elif etype == 0x0800 and f[23] == 17:
        ihl = (f[14] & 15) * 4
        udp = f[14 + ihl:]
        dport = struct.unpack(">H", udp[2:4])[0]
        if dport in (7, 9):
            seen.append({"kind": "udp", "port": dport,
                         "dst": socket.inet_ntoa(f[30:34]),
                         "payload": udp[8:8 + 102].hex()})
print(json.dumps(seen), flush=True)
'''


def sh(*args, ns=None, check_rc=True):
    cmd = (['ip', 'netns', 'exec', NS[ns]] if ns else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check_rc and p.returncode != 0:
        raise RuntimeError('%s: %s' % (' '.join(cmd), p.stderr.strip()))
    return p


def teardown():
    for n in NS.values():
        subprocess.run(['ip', 'netns', 'del', n], capture_output=True)


def setup():
    teardown()
    sh('ip', 'netns', 'add', NS['sw'])
    sh('ip', '-n', NS['sw'], 'link', 'add', 'br0', 'type', 'bridge')
    sh('ip', '-n', NS['sw'], 'link', 'set', 'br0', 'up')
    for name in ('srv', 'relay', 'sleep'):
        sh('ip', 'netns', 'add', NS[name])
        sh('ip', '-n', NS['sw'], 'link', 'add', 'p-' + name, 'type', 'veth',
           'peer', 'name', 'eth0', 'netns', NS[name])
        sh('ip', '-n', NS['sw'], 'link', 'set', 'p-' + name, 'master', 'br0',
           'up')
        if name == 'sleep':
            sh('ip', '-n', NS[name], 'link', 'set', 'eth0', 'address',
               SLEEPER_MAC)
        sh('ip', '-n', NS[name], 'addr', 'add', ADDR[name] + '/24', 'dev',
           'eth0')
        sh('ip', '-n', NS[name], 'link', 'set', 'eth0', 'up')
        sh('ip', '-n', NS[name], 'link', 'set', 'lo', 'up')


def agent(name, host, extra=()):
    return lw.start(['ip', 'netns', 'exec', NS[name], lw.AGENT, '-f',
                     '--collector', '%s:%d' % (ADDR['srv'], ctx['port']),
                     '--host', host, '--state-dir',
                     lw.tmpdir('st-' + host), '--no-usb', '--no-net',
                     '--heartbeat', '1'] + list(extra) +
                    lw.agent_tls_args(host), 'agent-' + host)


def ctl(*args):
    return subprocess.run([sys.executable, CTL, '-s', ctx['sock']] +
                          list(args), capture_output=True, text=True,
                          timeout=20)


def listen(seconds):
    p = subprocess.Popen(['ip', 'netns', 'exec', NS['sleep'], sys.executable,
                          '-c', LISTENER, str(seconds)],
                         stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    return p


def heard(p):
    return json.loads(p.communicate(timeout=30)[0].strip() or '[]')


def lab(pred, timeout=8):
    return lw.wait_records(os.path.join(ctx['logs'], 'lab.log'), 'text',
                           pred, timeout)


ctx = {}


def wake_through_relay():
    ctx['port'] = lw.free_port()
    ctx['logs'] = lw.tmpdir('wk-logs')
    ctx['sock'] = os.path.join(lw.tmpdir('wk-ctl'), 'ctl.sock')
    coll = lw.start(['ip', 'netns', 'exec', NS['srv'], lw.COLLECTOR, '-f',
                     '-l', '%s:%d' % (ADDR['srv'], ctx['port']), '-d',
                     ctx['logs'], '--state-dir', lw.tmpdir('wk-cstate'),
                     '--control', ctx['sock']] + lw.collector_tls_args(),
                    'collector-wk')
    ctx['coll'] = coll
    check('collector started', lw.wait_until(
        lambda: ' started, logs in ' in lw.stderr_text(coll), 5))
    sleeper = agent('sleep', 'sleep01')
    recs = lw.wait_event(lw.log_path(ctx['logs'], 'sleep01'), 'text',
                         'agent.start')
    check('the sleeping PC ran once: its agent.start names its MAC',
          SLEEPER_MAC in str(lw.events(recs, 'agent.start')), recs)
    lw.stop(sleeper)
    lw.wait_event(lw.log_path(ctx['logs'], 'sleep01'), 'text',
                  'host.disconnect')
    r = ctl('wake', 'sleep01')
    check('no agent on the segment: wake fails with a clear error '
          '(exit 1)', r.returncode == 1 and 'no online agent on its '
          'segment' in r.stdout + r.stderr, (r.returncode, r.stdout,
                                             r.stderr))
    relay = agent('relay', 'relay01')
    ctx['relay'] = relay
    lw.wait_event(lw.log_path(ctx['logs'], 'relay01'), 'text',
                  'agent.start')
    time.sleep(0.5)
    p = listen(4)
    r = ctl('wake', 'sleep01')
    check('labwatchctl wake sleep01: sent through one agent (exit 0)',
          r.returncode == 0 and 'through 1 agent' in r.stdout,
          (r.returncode, r.stdout, r.stderr))
    seen = heard(p)
    udp = sorted(s['port'] for s in seen if s['kind'] == 'udp' and
                 s['payload'] == MAGIC.hex())
    eth = [s for s in seen if s['kind'] == 'ether' and
           s['payload'] == MAGIC.hex() and s['dst'] == 'ff' * 6]
    check('the magic packet arrives by UDP to ports 7 and 9 (6 x ff, the '
          'MAC 16 times)', udp == [7, 9], seen)
    check('... and as an Ethernet frame of type 0x0842 to the broadcast '
          'address', len(eth) == 1, seen)
    check('... the UDP ones to the segment\'s broadcast address',
          all(s['dst'] == '10.99.0.255' for s in seen
              if s['kind'] == 'udp'), seen)
    recs = lab(lambda rs: lw.events(rs, 'lab.command'))
    wake = lw.events(recs, 'host.wake')
    check('lab.log: host.wake says who asked and through which agent',
          wake and wake[0].get('target') == 'sleep01' and
          wake[0].get('relays') == 'relay01' and
          wake[0].get('by', '').startswith('uid '), wake)
    cmd = lw.events(recs, 'lab.command')
    check('lab.log: the relay\'s result (lab.command status=ok)',
          cmd and cmd[0].get('relay') == 'relay01' and
          cmd[0].get('status') == 'ok', cmd)
    recs = lw.wait_event(lw.log_path(ctx['logs'], 'relay01'), 'text',
                         'agent.command')
    ac = lw.events(recs, 'agent.command')
    check('the relay logs the command in its own log (agent.command '
          'name=wake status=ok)', ac and ac[0].get('name') == 'wake' and
          ac[0].get('status') == 'ok' and SLEEPER_MAC in
          ac[0].get('args', ''), ac)
    # The PC wakes up: its agent connects.
    sleeper = agent('sleep', 'sleep01')
    recs = lab(lambda rs: lw.events(rs, 'host.woke'))
    woke = lw.events(recs, 'host.woke')
    check('lab.log: host.woke with the time it took',
          woke and woke[0].get('target') == 'sleep01' and
          float(woke[0].get('took', '-1')) > 0, woke)
    r = ctl('wake', 'sleep01')
    check('waking a PC that is online: refused, says so',
          r.returncode == 1 and 'is online' in r.stdout, r.stdout)
    lw.stop(sleeper)
    lw.stop(relay)
    lw.wait_event(lw.log_path(ctx['logs'], 'relay01'), 'text',
                  'host.disconnect')
    time.sleep(0.5)
    p = listen(3)
    r = ctl('wake', '--direct', 'sleep*')
    seen = heard(p)
    check('--direct with no relay: the collector itself broadcasts to '
          'ports 7 and 9', r.returncode == 0 and sorted(
              s['port'] for s in seen if s['kind'] == 'udp' and
              s['payload'] == MAGIC.hex()) == [7, 9], (r.stdout, seen))
    lw.stop(coll)


def fake_collector_commands():
    """The agent's side: a plaintext link refuses; an unknown command is
    refused and logged."""
    for tls, cmd, want, label in (
            (False, 'wake', 1, 'a plaintext link (--insecure)'),
            (True, 'reboot', 3, 'an unknown command')):
        port = lw.free_port()
        srv = lw.listen(port)
        a = lw.start_agent('127.0.0.1:%d' % port, 'cmd01', tls=tls,
                           name='agent-cmd-%s' % cmd)
        try:
            c = lw.accept(srv, tls=tls)
            lw.next_of_type(c, lw.HELLO)
            c.sendall(lw.welcome_frame(0))
            args = [SLEEPER_MAC, '127.0.0.0/8']
            payload = struct.pack('>I', 42) + lw.str16(cmd) + \
                struct.pack('>H', len(args)) + b''.join(
                    lw.str16(x) for x in args)
            c.sendall(lw.frame(9, payload))
            fr = lw.next_of_type(c, 10, 5)
            status = struct.unpack('>IH', fr[:6])[1] if fr else None
            check('agent: %s: the command is refused (RESULT status %d)' %
                  (label, want), status == want, fr)
            recs = []
            for _ in range(4):
                rec = lw.next_of_type(c, lw.RECORD, 3)
                if rec is None:
                    break
                recs.append(lw.parse_record(rec))
            ac = [r for r in recs if r[2] == 'agent.command']
            check('agent: %s: logged as agent.command' % label,
                  ac and ac[0][3].get('name') == cmd and
                  ac[0][3].get('status') in ('refused', 'unknown'), recs)
            c.close()
        finally:
            srv.close()
            lw.stop(a)


def main():
    if not check('binaries are built', os.access(lw.COLLECTOR, os.X_OK) and
                 os.access(lw.AGENT, os.X_OK), lw.BUILD):
        return
    try:
        setup()
        for step in (wake_through_relay, fake_collector_commands):
            lw.step(step.__name__, step)
    finally:
        lw.cleanup()
        teardown()


if __name__ == '__main__':
    lw.run(main)
