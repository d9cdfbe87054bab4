#!/usr/bin/env python3
"""Live DNS test (issue 9): a forged DNS answer sent to the whole segment
names nothing; an answer to a real query still names the flow.

Namespaces on a veth bridge (test_net_live's helpers), all made here:
  pc1 10.77.5.1    the agent captures on its eth0
  atk 10.77.5.66   an attacker on the same segment
  inet 198.51.100.10  a DNS server (netcheck.DNS_SERVER: files.example.test
                      CNAME store.example.test A 203.0.113.20)
       198.51.100.11  a DNS server that never answers
       203.0.113.20, 203.0.113.66  UDP sinks on ports 7000 and 7001

pc1 asks 198.51.100.11 for bank.example (id 0x6666, port 41000); the
attacker answers it in an Ethernet broadcast frame, spoofing the server
(same id, ports and question; bank.example A 203.0.113.66), and sends a
second forged answer to 255.255.255.255; pc1 then sends UDP to
203.0.113.66:7000: that flow has no name.  pc1 asks the real server for
files.example.test, then sends UDP to 203.0.113.20:7001: that flow is
named files.example.test by DNS.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import netcheck
import test_net_live as live
from netcheck import AGENT, DNS_QUERY, DNS_SERVER, check

live.NS["atk"] = "%s-atk" % live.TAG
NS = live.NS

SILENT_DNS = r'''
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.11", 53))
print("ready", flush=True)
while True:
    s.recv(2048)
'''

# UDP sinks on ports 7000 and 7001 of every address of inet.
SINK = live.UDP_SINK.replace('"203.0.113.20"', '"0.0.0.0"')

# pc1's query for bank.example from port 41000, id 0x6666; no answer read.
QUERY = r'''
import socket, struct
q = struct.pack("!HHHHHH", 0x6666, 0x0100, 1, 0, 0, 0)
q += b"\x04bank\x07example\x00" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.5.1", 41000))
s.sendto(q, ("198.51.100.11", 53))
'''

# The attacker's frames: Ethernet broadcast, spoofed DNS server, UDP 53.
FORGE = r'''
import socket, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def frame(src, dst, dport, qid, name, addr):
    qn = b"".join(bytes([len(x)]) + x.encode() for x in name.split("."))
    dns = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + qn + b"\0" + \
        struct.pack("!HH", 1, 1) + b"\xc0\x0c" + \
        struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton(addr)
    udp = struct.pack("!HHHH", 53, dport, 8 + len(dns), 0) + dns
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17,
                     0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\xff" * 6 + bytes.fromhex("020000000066") + b"\x08\x00" + \
        ip + udp

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
s.send(frame("198.51.100.11", "10.77.5.1", 41000, 0x6666, "bank.example",
             "203.0.113.66"))
s.send(frame("198.51.100.11", "255.255.255.255", 41001, 0x6767,
             "shop.example", "203.0.113.66"))
'''

# Three datagrams to an address and port.
UDP_SEND = live.UDP_SEND.replace('("203.0.113.20", int(sys.argv[1]))',
                                 '(sys.argv[1], int(sys.argv[2]))')


def setup():
    """test_net_live's segment (pc2 unused), the attacker, two more
    addresses for inet."""
    live.setup()
    live.add_pc("atk", ["10.77.5.66/24"], mac="02:00:00:00:00:66")
    for a in ("198.51.100.11/24", "203.0.113.66/24"):
        live.sh("ip", "-n", NS["inet"], "addr", "add", a, "dev", "eth0")


def run(tmp):
    procs = []
    try:
        # The real server answers on its own address only.
        real = DNS_SERVER.replace('("0.0.0.0", 53)', '("198.51.100.10", 53)')
        check(real != DNS_SERVER and SINK != live.UDP_SINK and
              UDP_SEND != live.UDP_SEND, "the helpers were adapted")
        for code in (real, SILENT_DNS, SINK):
            p = live.bg(sys.executable, "-c", code, ns="inet",
                        stdout=subprocess.PIPE, text=True)
            procs.append(p)
            p.stdout.readline()
        out = open(os.path.join(tmp, "out.json"), "w")
        err = open(os.path.join(tmp, "err.txt"), "w")
        agent = live.bg(AGENT, "--stdout", "--format", "json", "--host",
                        "pc1", "--interface", "eth0", "--flow-idle", "1",
                        "--stats", "1", "--state-dir",
                        os.path.join(tmp, "state"), "--ip-filter",
                        "/dev/null", ns="pc1", stdout=out, stderr=err)
        procs.append(agent)
        if not netcheck.wait_capturing(os.path.join(tmp, "err.txt")):
            check(False, "agent started capturing on eth0")
            return None
        # The forged answers, to a query pc1 really sent.
        live.py("pc1", QUERY)
        live.py("atk", FORGE)
        time.sleep(0.2)
        live.py("pc1", UDP_SEND, "203.0.113.66", "7000")
        # The real thing.
        live.py("pc1", DNS_QUERY)
        live.py("pc1", UDP_SEND, "203.0.113.20", "7001")
        time.sleep(2.5)			# idle 1 s, ticks every second
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=10)
        check(agent.returncode == 0, "agent exits 0 on SIGTERM")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    with open(os.path.join(tmp, "out.json")) as f:
        return [json.loads(line) for line in f]


def main():
    if os.geteuid() != 0:
        print("not ok - the live test needs root for network namespaces")
        return 1
    tmp = tempfile.mkdtemp(prefix="lwdns-")
    try:
        setup()
        recs = run(tmp)
        if recs is not None:
            flows = [r for r in recs if r["event"].startswith("flow.")]
            forged = [r for r in flows if r["dport"] == 7000]
            real = [r for r in flows if r["dport"] == 7001]
            check(len(forged) == 1 and forged[0]["dst"] == "203.0.113.66"
                  and forged[0]["packets_out"] == 3 and
                  "name" not in forged[0] and "names" not in forged[0],
                  "UDP to the address of a broadcast forged answer: "
                  "no name (%r)" % [r.get("names") for r in forged])
            check(len(real) == 1 and real[0]["dst"] == "203.0.113.20" and
                  real[0].get("name") == "files.example.test" and
                  real[0].get("name_source") == "dns",
                  "UDP to the address of a real answer: named "
                  "files.example.test by DNS")
            stats = [r for r in recs if r["event"] == "agent.stats"]
            check(stats and stats[-1].get("dns_ignored") == 2,
                  "agent.stats counts the two forged answers in "
                  "dns_ignored (%r)" %
                  (stats[-1].get("dns_ignored") if stats else None))
    except Exception as e:		# a setup failure is a failed check
        check(False, "live DNS test ran: %s" % e)
    finally:
        live.teardown()
        left = subprocess.run(["ip", "netns", "list"], capture_output=True,
                              text=True).stdout
        check(live.TAG not in left, "namespaces deleted")
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if netcheck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
