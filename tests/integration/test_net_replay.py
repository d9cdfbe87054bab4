#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Replays the shared captures (../shared/pcaps, provenance in its
MANIFEST.tsv) through labwatch-agent --read and checks every conversation
and device record exactly.

Packet counts per conversation agree with tshark's conv tables in
X.conv.txt (checked below for the single-conversation captures); byte
counts are IP bytes from the IP headers (tshark's Bytes column is frame
bytes), cross-checked by hand against tcpdump -v lengths.  Captures whose
connections have pauses longer than the 2 s idle timeout show as several
conversations where tshark has one.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import netcheck
import lwtest
from netcheck import AGENT, COLLECTOR, ROOT, check

PCAPS = os.path.join(os.path.dirname(ROOT), "shared", "pcaps")


def replay(name, *extra):
    state = tempfile.mkdtemp(prefix="lwnet-state-")
    try:
        p = subprocess.run([AGENT, "--read", os.path.join(PCAPS, name),
                            "--stdout", "--format", "json", "--host", "t",
                            "--ip-filter", "/dev/null", "--state-dir", state]
                           + list(extra), capture_output=True, text=True,
                           timeout=60)
    finally:
        shutil.rmtree(state)
    recs = []
    for line in p.stdout.splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            recs.append({"event": "UNPARSABLE", "line": line})
    return p.returncode, recs, p.stderr


def rows(recs):
    out = []
    for r in recs:
        if r["event"].startswith("flow."):
            out.append((r["event"][5:], r["proto"], r["src"], r["dst"],
                        r["dport"], r["packets_out"], r["bytes_out"],
                        r["packets_in"], r["bytes_in"], r["connections"],
                        r.get("name"), r.get("name_source")))
        elif r["event"] == "net.device":
            out.append(("device", r["mac"], r["ip"], r.get("vendor")))
    return out


EXPECTED = {
    'ndpi_badpackets-dns.pcap': [
    ],
    'ndpi_dns-fragmented-v4v6.pcap': [
    ],
    'ndpi_malformed-dns.pcap': [
    ],
    'sv_ftp-download-active.pcap': [
        ('lan', 'tcp', '172.23.0.2', '172.23.0.3', 44671, 5, 293, 3, 164, 1, None, None),
        ('lan', 'tcp', '172.23.0.2', '172.23.0.3', 43585, 5, 307, 3, 164, 1, None, None),
        ('lan', 'tcp', '172.23.0.2', '172.23.0.3', 43439, 5, 293, 3, 164, 1, None, None),
        ('lan', 'tcp', '172.23.0.3', '172.23.0.2', 21, 19, 1154, 20, 1605, 1, None, None),
    ],
    'sv_ftp-ipv6-ula-alldata.pcap': [
        ('lan', 'tcp', 'fd00:10:16:1::3', 'fd00:10:16:1::2', 21003, 5, 412, 3, 224, 1, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::3', 'fd00:10:16:1::2', 21006, 5, 412, 3, 224, 1, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::3', 'fd00:10:16:1::2', 21008, 10, 819, 8, 2705, 2, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::3', 'fd00:10:16:1::2', 21002, 4, 296, 4, 1144, 1, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::3', 'fd00:10:16:1::2', 21009, 9, 664, 9, 3214, 2, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::2', 'fd00:10:16:1::3', 40467, 4, 296, 4, 379, 1, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::2', 'fd00:10:16:1::3', 40547, 4, 296, 4, 340, 1, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::2', 'fd00:10:16:1::3', 36713, 4, 296, 4, 340, 1, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::2', 'fd00:10:16:1::3', 42219, 6, 2648, 4, 296, 1, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::2', 'fd00:10:16:1::3', 39099, 5, 1256, 3, 224, 1, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::2', 'fd00:10:16:1::3', 46525, 6, 3063, 4, 296, 1, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::2', 'fd00:10:16:1::3', 37533, 5, 407, 3, 224, 1, None, None),
        ('lan', 'tcp', 'fd00:10:16:1::3', 'fd00:10:16:1::2', 21, 72, 5953, 70, 7317, 2, None, None),
    ],
    'sv_http-arp-linux-sll.pcap': [
        ('device', '02:42:ac:10:ee:0a', '172.16.238.10', None),
        ('device', '02:42:ac:10:ee:0b', '172.16.238.11', None),
        ('device', '02:42:76:8f:34:16', '172.16.238.1', None),
        ('lan', 'tcp', '172.16.238.1', '172.16.238.10', 8080, 3, 810, 2, 112, 1, None, None),
        ('lan', 'tcp', '172.16.238.10', '172.16.238.11', 1389, 6, 403, 6, 495, 1, None, None),
        ('lan', 'tcp', '172.16.238.10', '172.16.238.11', 80, 6, 528, 6, 1868, 1, None, None),
        ('lan', 'tcp', '172.16.238.10', '10.10.10.31', 9001, 2, 112, 1, 60, 1, None, None),
        ('lan', 'tcp', '10.10.10.31', '172.16.238.10', 55408, 33, 1723, 33, 1795, 1, None, None),
        ('lan', 'tcp', '172.16.238.1', '172.16.238.10', 8080, 1, 52, 1, 52, 1, None, None),
        ('lan', 'tcp', '10.10.10.31', '172.16.238.10', 55408, 140, 7301, 140, 8029, 1, None, None),
        ('lan', 'tcp', '10.10.10.31', '172.16.238.10', 55408, 2, 109, 3, 156, 1, None, None),
        ('lan', 'tcp', '172.16.238.10', '172.16.238.11', 80, 7, 580, 6, 1868, 1, None, None),
        ('lan', 'tcp', '172.16.238.10', '10.10.10.31', 9001, 1, 60, 1, 40, 1, None, None),
        ('lan', 'tcp', '172.16.238.10', '172.16.238.11', 1389, 12, 787, 8, 599, 2, None, None),
        ('lan', 'tcp', '172.16.238.10', '172.16.238.1', 1984, 1, 275, 1, 52, 1, None, None),
    ],
    'sv_ipv4frags-icmp.pcap': [
        ('internet', 'icmp', '2.1.1.2', '2.1.1.1', 0, 2, 1448, 1, 1428, 1, None, None),
    ],
    'sv_ipv6-covert-dstopts.pcap': [
        ('device', '64:00:6a:5b:8e:b3', 'fe80::6600:6aff:fe5b:8eb3', 'Dell Inc.'),
        ('internet', 'icmp', '2001:db8:2:0:8e16:45ff:fee5:5ba2', '2001:db8:1::1', 0, 18, 24592, 18, 864, 1, None, None),
    ],
    'sv_nfs4.pcap': [
        ('lan', 'tcp', '192.168.0.26', '192.168.0.61', 2049, 27, 5184, 25, 5272, 1, None, None),
        ('lan', 'tcp', '192.168.0.61', '192.168.0.26', 880, 13, 2588, 16, 2956, 1, None, None),
    ],
    'sv_quic-tls-ipv6-cloudflare.pcap': [
        ('internet', 'tcp', '2001:db8:1::1', '2606:4700:10::6816:826', 443, 24, 2923, 22, 14747, 1, 'cloudflare-quic.com', 'sni'),
        ('internet', 'udp', '2001:db8:1::1', '2606:4700:10::6816:826', 443, 13, 2913, 20, 16567, 1, 'cloudflare-quic.com', 'sni'),
        ('internet', 'udp', '2001:db8:1::1', '2606:4700:10::6816:826', 443, 1, 110, 0, 0, 1, None, None),
        ('internet', 'tcp', '2001:db8:1::1', '2606:4700:10::6816:826', 443, 2, 144, 1, 72, 1, None, None),
    ],
    'sv_smb1-writeandx-filetransfer.pcap': [
        ('lan', 'tcp', '10.4.30.101', '10.4.30.5', 445, 64, 20315, 66, 14823, 1, None, None),
        ('lan', 'tcp', '10.4.30.101', '10.4.30.5', 445, 33, 7595, 27, 6470, 1, None, None),
        ('lan', 'tcp', '10.4.30.101', '10.4.30.5', 445, 356, 393408, 266, 23891, 1, None, None),
        ('lan', 'tcp', '10.4.30.101', '10.4.30.5', 445, 22, 2719, 23, 2292, 1, None, None),
    ],
    'sv_tls-clienthello-split-mtu300.pcap': [
        ('internet', 'tcp', '10.20.0.14', '142.251.111.105', 443, 32, 2650, 30, 22011, 1, 'www.google.com', 'sni'),
    ],
    'td_ipv6-routing-header.pcap': [
        ('internet', 'icmp', '2200::244:212:3fff:feae:22f7', '2200::240:2:0:0:4', 0, 1, 72, 0, 0, 1, None, None),
        ('internet', 'icmp', '2200::244:212:3fff:feae:22f7', '2200::211:2:0:0:2', 0, 1, 88, 0, 0, 1, None, None),
        ('internet', 'udp', '2200::244:212:3fff:feae:22f7', '2200::240:2:0:0:4', 5642, 1, 72, 0, 0, 1, None, None),
        ('internet', 'udp', '2200::244:212:3fff:feae:22f7', '2200::211:2:0:0:2', 5642, 1, 88, 0, 0, 1, None, None),
    ],
    'zeek_arp-malformed.pcap': [
    ],
    'zeek_dhcp.pcap': [
    ],
    'zeek_dns-edns-ecs.pcap': [
    ],
    'zeek_dns-long-connection-lan.pcap': [
    ],
    'zeek_ftp-retr.pcap': [
        ('internet', 'tcp', '141.142.228.5', '141.142.192.162', 38141, 10, 532, 14, 17293, 1, None, None),
        ('internet', 'tcp', '141.142.228.5', '141.142.192.162', 21, 26, 1477, 17, 1428, 1, None, None),
    ],
    'zeek_http-arp-lan-nsec.pcapng': [
        ('lan', 'tcp', '192.168.111.148', '192.168.111.154', 80, 1, 52, 1, 52, 1, None, None),
        ('device', '00:50:56:c0:00:08', '192.168.111.1', 'VMware, Inc.'),
        ('lan', 'tcp', '192.168.111.148', '192.168.111.154', 80, 1, 52, 2, 104, 1, None, None),
        ('lan', 'tcp', '192.168.111.148', '192.168.111.154', 80, 6, 851, 5, 5295, 1, None, None),
        ('lan', 'tcp', '192.168.111.148', '192.168.111.154', 80, 1, 52, 1, 52, 1, None, None),
        ('lan', 'tcp', '192.168.111.148', '192.168.111.154', 80, 1, 52, 2, 104, 1, None, None),
        ('lan', 'tcp', '192.168.111.148', '192.168.111.154', 80, 6, 912, 5, 5148, 1, None, None),
        ('lan', 'tcp', '192.168.111.148', '192.168.111.154', 80, 1, 52, 1, 52, 1, None, None),
        ('lan', 'tcp', '192.168.111.148', '192.168.111.154', 80, 1, 52, 2, 104, 1, None, None),
        ('lan', 'tcp', '192.168.111.148', '192.168.111.154', 80, 6, 912, 5, 5295, 1, None, None),
    ],
    'zeek_icmp-arp-dot1q.pcap': [
        ('device', '00:19:06:ea:b8:c1', '192.168.123.1', 'Cisco Systems, Inc'),
        ('device', '00:18:73:de:57:c1', '192.168.123.2', 'Cisco Systems, Inc'),
        ('lan', 'icmp', '192.168.123.2', '192.168.123.1', 0, 5, 500, 4, 400, 1, None, None),
    ],
    'zeek_linux-sll2.pcap': [
        ('internet', 'icmp', '192.0.2.1', '192.0.2.1', 0, 2, 168, 0, 0, 1, None, None),
        ('lan', 'icmp', 'fe80::8c36:6ff:fe44:acaf', 'fe80::8c36:6ff:fe44:acaf', 0, 2, 208, 0, 0, 1, None, None),
    ],
    'zeek_mdns-ula.pcap': [
    ],
    'zeek_nfs3-write.pcap': [
        ('lan', 'tcp', '192.168.122.1', '192.168.122.219', 111, 12, 788, 8, 496, 2, None, None),
        ('lan', 'udp', '192.168.122.1', '192.168.122.219', 111, 2, 168, 2, 112, 2, None, None),
        ('lan', 'udp', '192.168.122.1', '192.168.122.219', 20048, 5, 428, 5, 304, 4, None, None),
        ('lan', 'tcp', '192.168.122.1', '192.168.122.219', 2049, 66, 9848, 52, 8280, 2, None, None),
    ],
    'zeek_pcapng-multi-interface.pcapng': [
    ],
    'zeek_quic-curl-http3-google.pcap': [
        ('internet', 'udp', '172.17.0.2', '64.233.166.94', 443, 21, 3826, 27, 27542, 1, 'www.google.de', 'sni'),
    ],
    'zeek_smb2-read.pcap': [
        ('lan', 'tcp', '10.0.0.11', '10.0.0.12', 445, 1071, 1558858, 107, 10417, 1, None, None),
    ],
    'zeek_smb2readwrite-linklocal.pcap': [
        ('lan', 'tcp', '169.254.128.18', '169.254.128.15', 445, 30, 11624, 26, 7400, 1, None, None),
    ],
    'zeek_ssh-multi.pcap': [
        ('internet', 'tcp', '192.168.1.79', '131.159.21.1', 22, 25, 3981, 20, 3549, 1, None, None),
        ('internet', 'tcp', '10.0.0.18', '128.2.6.88', 41644, 22, 4965, 26, 5017, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 21, 5557, 17, 3661, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 17, 1684, 12, 1344, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 9, 804, 6, 821, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 14, 980, 10, 832, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 2200, 37, 4693, 29, 3225, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 10, 908, 8, 925, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 3, 208, 3, 180, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 4, 260, 3, 168, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 26, 2184, 20, 2173, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 25, 2004, 19, 1993, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 26, 2024, 20, 2013, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 11, 1016, 9, 989, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 1, 104, 1, 52, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 4, 312, 4, 232, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 3, 156, 2, 116, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 11, 1016, 9, 989, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 14, 980, 10, 832, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 14, 1240, 10, 1137, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 23, 1784, 18, 1757, 1, None, None),
        ('lan', 'tcp', '192.168.2.1', '192.168.2.158', 22, 32, 4725, 23, 5369, 1, None, None),
        ('internet', 'tcp', '192.168.1.32', '128.2.10.238', 22, 18, 6135, 16, 3039, 1, None, None),
        ('internet', 'tcp', '192.168.1.32', '128.2.10.238', 22, 2, 248, 1, 148, 1, None, None),
        ('internet', 'tcp', '192.168.1.32', '128.2.10.238', 22, 12, 1376, 16, 1576, 1, None, None),
        ('internet', 'tcp', '192.168.1.32', '128.2.13.133', 22, 33, 8195, 29, 7565, 1, None, None),
        ('internet', 'tcp', '192.168.1.32', '128.2.10.238', 22, 24, 6869, 20, 3535, 1, None, None),
        ('lan', 'udp', '192.168.1.32', '192.168.1.31', 57621, 1, 72, 0, 0, 1, None, None),
        ('lan', 'tcp', '192.168.1.31', '192.168.1.32', 22, 18, 3969, 12, 1933, 1, None, None),
        ('lan', 'tcp', '192.168.1.31', '192.168.1.32', 22, 18, 1644, 12, 1564, 1, None, None),
        ('lan', 'tcp', '192.168.1.31', '192.168.1.32', 22, 24, 4605, 15, 2341, 1, None, None),
        ('lan', 'tcp', '192.168.1.31', '192.168.1.32', 8118, 6, 388, 5, 284, 1, None, None),
        ('lan', 'tcp', '192.168.1.31', '192.168.1.32', 22, 10, 1096, 7, 1104, 1, None, None),
        ('lan', 'tcp', '192.168.1.31', '192.168.1.32', 22, 8, 548, 5, 492, 1, None, None),
        ('internet', 'tcp', '192.168.1.32', '131.103.20.168', 22, 16, 3725, 13, 2993, 1, None, None),
        ('internet', 'tcp', '192.168.1.32', '131.103.20.168', 22, 179, 13793, 226, 546861, 1, None, None),
        ('internet', 'tcp', '192.168.1.32', '131.103.20.168', 22, 183, 14001, 236, 547141, 1, None, None),
    ],
    'zeek_tcp-bulk-snap96-lan.pcap': [
        ('lan', 'tcp', '192.168.1.10', '192.168.2.20', 12345, 185, 9628, 693, 1036044, 1, None, None),
    ],
    'zeek_tcp-truncated-snap68.pcap': [
        ('internet', 'tcp', '201.186.157.67', '128.3.26.249', 25, 10, 548, 14, 1041, 1, None, None),
    ],
    'zeek_tls12-decryption-heise.pcap': [
        ('internet', 'tcp', '192.168.100.70', '193.99.144.80', 443, 10, 1521, 6, 4081, 1, 'heise.de', 'sni'),
    ],
    'zeek_tls13-chrome-kyber-bigCH.pcap': [
        ('internet', 'tcp', '0.0.51.217', '142.250.200.14', 443, 8, 2150, 7, 9325, 1, 'lh3.google.com', 'sni'),
    ],
    'zeek_tls13-ech.pcap': [
        ('internet', 'tcp', '192.168.20.65', '162.159.138.85', 443, 2, 143, 1, 91, 1, None, None),
        ('internet', 'tcp', '192.168.20.65', '162.159.138.85', 443, 30, 4314, 31, 9544, 2, 'cloudflare-ech.com', 'sni'),
        ('internet', 'tcp', '192.168.20.65', '162.159.138.85', 443, 3, 132, 2, 128, 1, None, None),
    ],
    'zeek_tls13-openjdk-sll2.pcap': [
        ('internet', 'tcp', '192.168.64.6', '192.0.78.150', 443, 3, 597, 3, 3052, 1, 'zeek.org', 'sni'),
    ],
    'zeek_vlan-collisions.pcap': [
        ('internet', 'tcp', '141.142.228.5', '192.150.187.43', 80, 21, 1536, 21, 16137, 1, 'bro.org', 'http'),
    ],
    'zeek_wikipedia.pcap': [
        ('internet', 'tcp', '141.142.220.118', '208.80.152.118', 80, 4, 741, 3, 396, 1, 'bits.wikimedia.org', 'http'),
        ('internet', 'tcp', '141.142.220.118', '208.80.152.2', 80, 6, 1317, 4, 978, 2, 'www.wikipedia.org', 'http'),
        ('internet', 'tcp', '141.142.220.118', '208.80.152.3', 80, 36, 8809, 24, 5698, 6, 'upload.wikimedia.org', 'http'),
        ('internet', 'tcp', '141.142.220.235', '173.192.163.128', 80, 0, 0, 1, 48, 1, None, None),
    ],
}


def manifest_packets():
    counts = {}
    with open(os.path.join(PCAPS, "MANIFEST.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            cols = dict(zip(head, line.rstrip("\n").split("\t")))
            counts[cols["filename"]] = int(cols["packets"])
    return counts


def tshark_frames(name):
    """(frames <-, frames ->) of the one IPv4 conversation tshark saw."""
    with open(os.path.join(PCAPS, name + ".conv.txt")) as f:
        text = f.read()
    m = re.search(r"IPv4 Conversations.*?\n\S+\s+<-> \S+\s+(\d+) .*?"
                  r"\s(\d+) \d+ \S+\s+\d+ \d+ ", text, re.S)
    return (int(m.group(1)), int(m.group(2))) if m else None


def main():
    if not os.path.isdir(PCAPS):
        print("not ok - shared captures missing at " + PCAPS)
        return 1
    packets = manifest_packets()
    for name, want in sorted(EXPECTED.items()):
        rc, recs, err = replay(name)
        check(rc == 0, "%s: exit status 0 (got %d: %s)" % (
            name, rc, err.strip()[-200:].replace("\n", " | ")))
        check(all(r["event"] != "UNPARSABLE" for r in recs),
              "%s: every line is JSON" % name)
        got = rows(recs)
        check(got == want, "%s: %d records as expected" % (name, len(want)))
        if got != want:
            for g in got:
                print("#   got  %r" % (g,))
        stats = [r for r in recs if r["event"] == "agent.stats"]
        check(len(stats) == 1 and stats[0]["packets"] == packets[name] and
              stats[0]["conversations"] == 0,
              "%s: agent.stats counts %d packets, none left open" %
              (name, packets[name]))
        flows = [r for r in recs if r["event"].startswith("flow.")]
        check(all(r["final"] is True and r["end"] >= r["start"]
                  for r in flows), "%s: records final, end >= start" % name)

    # Single-conversation captures: exactly tshark's frame counts.
    for name in ("zeek_smb2-read.pcap", "zeek_tcp-bulk-snap96-lan.pcap",
                 "zeek_tcp-truncated-snap68.pcap",
                 "zeek_tls12-decryption-heise.pcap",
                 "zeek_vlan-collisions.pcap",
                 "sv_tls-clienthello-split-mtu300.pcap"):
        want = tshark_frames(name)
        got = [r for r in rows(replay(name)[1]) if r[0] != "device"]
        check(want is not None and len(got) == 1 and
              sorted((got[0][5], got[0][7])) == sorted(want),
              "%s: packets match tshark %r" % (name, want))

    # 126 interface blocks of mixed link types: libpcap refuses the file;
    # the agent says so and still ends cleanly.
    rc, recs, err = replay("zeek_pcapng-126idb-vlan-ipv6.pcapng")
    check(rc == 0 and "different from" in err,
          "126-IDB pcapng: libpcap's refusal reported, exit 0")

    # ip.txt: the listed range is not logged but counted per label.
    tmp = tempfile.mkdtemp(prefix="lwnet-")
    try:
        path = os.path.join(tmp, "ip.txt")
        with open(path, "w") as f:
            f.write("# test\n142.250.0.0/15 google\nbogus line here\n")
        rc, recs, err = replay("zeek_tls13-chrome-kyber-bigCH.pcap",
                               "--ip-filter", path)
        stats = [r for r in recs if r["event"] == "agent.stats"]
        check(rc == 0 and rows(recs) == [] and
              stats[0]["filtered"] == ["google 1"],
              "ip.txt: filtered conversation counted under its label")
        check(path + ":3:" in err, "ip.txt: bad line reported as file:line")

        # --flow-idle 100 joins the nine DVWA conversations (sums of the
        # nine above); past 60 s an interim record comes first.
        rc, recs, err = replay("zeek_http-arp-lan-nsec.pcapng",
                               "--flow-idle", "100")
        flows = [r for r in recs if r["event"] == "flow.lan"]
        check(len(flows) == 2 and flows[0]["final"] is False and
              flows[1]["final"] is True and
              rows(flows)[1][5:10] == (24, 2987, 24, 16206, 4) and
              flows[0]["packets_out"] == 18,
              "--flow-idle 100: one conversation, an interim record, "
              "the sums of the nine")

        # --collector: exits once the collector has acknowledged all.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        logs = os.path.join(tmp, "logs")
        os.mkdir(logs)
        col = subprocess.Popen([COLLECTOR, "-f", "-l", "127.0.0.1:%d" % port,
                                "-d", logs, "--format", "json",
                                "--state-dir", os.path.join(tmp, "cstate")]
                               + lwtest.collector_tls_args(),
                               stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            p = subprocess.run([AGENT, "--read",
                                os.path.join(PCAPS, "zeek_ssh-multi.pcap"),
                                "--collector", "127.0.0.1:%d" % port,
                                "--host", "pcr", "-f", "--ip-filter",
                                "/dev/null", "--state-dir", tmp]
                               + lwtest.agent_tls_args("pcr"),
                               capture_output=True, text=True, timeout=30)
            check(p.returncode == 0, "--collector: exit 0 after the ACKs")
            time.sleep(0.3)
            with open(os.path.join(logs, "pcr.log")) as f:
                got = [json.loads(l) for l in f]
            n = len([r for r in got if r["event"].startswith("flow.")])
            check(n == len(EXPECTED["zeek_ssh-multi.pcap"]),
                  "--collector: all %d conversations stored (got %d)" %
                  (len(EXPECTED["zeek_ssh-multi.pcap"]), n))
        finally:
            col.terminate()
            col.wait()
    finally:
        shutil.rmtree(tmp)
    return 1 if netcheck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
