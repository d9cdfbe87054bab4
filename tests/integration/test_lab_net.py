#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The lab from real agents' network records: three agents replay one
capture (--read, made here: a new box answering ARP, a TCP transfer between
two lab PCs) to one collector.  One lab.device.new naming the three PCs
(not three, as their 3 net.device records would say), and the transfer's
two flow.lan records joined into one lab.transfer; the index holds the
device with the three PCs that saw it."""
import os
import sqlite3
import struct
import time

import lwtest
from lwtest import check

NEW_MAC = bytes.fromhex('02005e1000aa')
PC1_MAC, PC2_MAC = bytes.fromhex('02005e100001'), bytes.fromhex('02005e100002')
NEW_IP, PC1_IP, PC2_IP = '198.51.100.50', '198.51.100.1', '198.51.100.2'


def ip4(s):
    return bytes(int(x) for x in s.split('.'))


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def eth(dst, src, etype, payload):
    return dst + src + struct.pack('!H', etype) + payload


def arp_reply(mac, ip, to_mac, to_ip):
    return eth(to_mac, mac, 0x0806, struct.pack(
        '!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 2, mac, ip4(ip), to_mac,
        ip4(to_ip)))


def tcp(src_mac, dst_mac, src, dst, sport, dport, seq, ack, flags, data=b''):
    th = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags,
                     65535, 0, 0)
    pseudo = ip4(src) + ip4(dst) + struct.pack('!BBH', 0, 6,
                                               len(th) + len(data))
    th = th[:16] + struct.pack('!H', csum(pseudo + th + data)) + th[18:]
    ih = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(th) + len(data), 1,
                     0x4000, 64, 6, 0, ip4(src), ip4(dst))
    ih = ih[:10] + struct.pack('!H', csum(ih)) + ih[12:]
    return eth(dst_mac, src_mac, 0x0800, ih + th + data)


def capture(path):
    """A pcap: the new box's ARP reply, then PC1 sends 3000 bytes to PC2's
    port 445 and both close."""
    t = time.time()
    a, b = (PC1_MAC, PC1_IP), (PC2_MAC, PC2_IP)

    def seg(x, y, seq, ack, flags, data=b''):
        return tcp(x[0], y[0], x[1], y[1], 40000 if x is a else 445,
                   445 if x is a else 40000, seq, ack, flags, data)
    frames = [
        arp_reply(NEW_MAC, NEW_IP, PC1_MAC, PC1_IP),
        seg(a, b, 100, 0, 0x02),
        seg(b, a, 900, 101, 0x12),
        seg(a, b, 101, 901, 0x10),
        seg(a, b, 101, 901, 0x18, b'x' * 1500),
        seg(a, b, 1601, 901, 0x18, b'y' * 1500),
        seg(b, a, 901, 3101, 0x10),
        seg(a, b, 3101, 901, 0x11),
        seg(b, a, 901, 3102, 0x11),
        seg(a, b, 3102, 902, 0x10),
    ]
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            ts = t + i * 0.001
            f.write(struct.pack('<IIII', int(ts), int(ts % 1 * 1e6),
                                len(fr), len(fr)))
            f.write(fr)


def main():
    d = lwtest.tmpdir('labnet')
    pcap = os.path.join(d, 'lab.pcap')
    capture(pcap)
    coll = lwtest.start_collector()
    addr = '127.0.0.1:%d' % coll.port
    agents = []
    for h in ('pc01', 'pc02', 'pc03'):
        state = lwtest.tmpdir('astate-' + h)
        agents.append(lwtest.start(
            [lwtest.AGENT, '-f', '--collector', addr, '--host', h,
             '--state-dir', state, '--no-usb', '--read', pcap,
             '--lan', '198.51.100.0/24', '--ip-filter', '/dev/null'] +
            lwtest.agent_tls_args(h), 'agent-' + h))
    for a in agents:
        lwtest.wait_exit(a, 20)
    check('the three agents replayed the capture and exited 0',
          all(a.returncode == 0 for a in agents),
          [lwtest.stderr_text(a)[-300:] for a in agents])
    devs = [r for h in ('pc01', 'pc02', 'pc03')
            for r in lwtest.read_records(lwtest.log_path(coll, h), coll.fmt)
            if r.get('event') == 'net.device' and
            r.get('mac') == '02:00:5e:10:00:aa']
    check('each PC logged the new box: 3 net.device records',
          len(devs) == 3, devs)
    lab = lwtest.log_path(coll, 'lab')

    def labrecs(ev):
        return [r for r in lwtest.read_records(lab, coll.fmt)
                if r.get('event') == ev] if os.path.exists(lab) else []
    got = lwtest.wait_until(lambda: labrecs('lab.device.new'), 8)
    time.sleep(0.5)
    news = [r for r in labrecs('lab.device.new')
            if r.get('mac') == '02:00:5e:10:00:aa']
    check('one lab.device.new for the box, naming the three PCs',
          got and len(news) == 1 and
          sorted(news[0].get('pcs', [])) == ['pc01', 'pc02', 'pc03'] and
          news[0].get('ips') in ([NEW_IP], NEW_IP), labrecs('lab.device.new'))
    t = labrecs('lab.transfer')
    flows = [r for h in ('pc01', 'pc02', 'pc03')
             for r in lwtest.read_records(lwtest.log_path(coll, h), coll.fmt)
             if r.get('event') == 'flow.lan' and r.get('dport') in (445,
                                                                  '445')]
    cids = {r.get('community_id') for r in flows}
    check('the transfer: flow.lan from each PC, one community_id',
          len(flows) == 3 and len(cids) == 1, flows)
    check('joined into one lab.transfer (the first two ends) with both '
          'byte counts', len(t) == 1 and t[0].get('community_id') in cids and
          t[0].get('pc_a') != t[0].get('pc_b') and
          int(t[0].get('bytes_out_a', 0)) > 0 and
          int(t[0].get('bytes_out_b', 0)) > 0, t)
    db = os.path.join(coll.statedir, 'index.db')
    ok = lwtest.wait_until(lambda: sqlite3.connect(db).execute(
        "SELECT count(*) FROM device_hosts WHERE mac = ?",
        ('02:00:5e:10:00:aa',)).fetchone()[0] == 3, 5)
    check('the index: the box and the three PCs that saw it', ok)


lwtest.run(main)
