#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Live network test: lab PCs in network namespaces on a veth bridge, the
agent capturing on pc1's interface.

  pc1 10.77.5.1   the agent; sends a file to pc2, browses the "internet"
  pc2 10.77.5.2   a file server (TCP 9000)
  pc3 10.77.5.3   appears later (MAC 00:50:56:..., a VMware OUI)
  inet 198.51.100.10, 203.0.113.20: a TLS server (openssl s_server, SNI),
      a DNS responder, a UDP sink; reached on-link from pc1

Checks the records: the LAN transfer with exact byte counts (against
tcpdump's reading of the same packets), HTTPS named by SNI, UDP named by
the DNS answer, the new device with its vendor, the ip.txt filter reloaded
on SIGHUP, agent.stats, and that a restart does not announce known devices.
Namespaces are named lwnet-PID-* and always deleted.
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
from netcheck import AGENT, DNS_QUERY, DNS_SERVER, SEND, SINK, check

TAG = "lwnet-%d" % os.getpid()
NS = {n: "%s-%s" % (TAG, n) for n in ("br", "pc1", "pc2", "pc3", "inet")}
FILE_BYTES = 1000000


def sh(*args, ns=None, check_rc=True, **kw):
    cmd = (["ip", "netns", "exec", NS[ns]] if ns else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30, **kw)
    if check_rc and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.strip()))
    return p


def bg(*args, ns, **kw):
    return subprocess.Popen(["ip", "netns", "exec", NS[ns]] + list(args),
                            **kw)


def py(ns, code, *args, **kw):
    return sh(sys.executable, "-c", code, *args, ns=ns, **kw)


def add_pc(name, addrs, mac=None, idx=0):
    sh("ip", "netns", "add", NS[name])
    sh("ip", "-n", NS["br"], "link", "add", "p-" + name, "type", "veth",
       "peer", "name", "eth0", "netns", NS[name])
    sh("ip", "-n", NS["br"], "link", "set", "p-" + name, "master", "br0",
       "up")
    if mac:
        sh("ip", "-n", NS[name], "link", "set", "eth0", "address", mac)
    for a in addrs:
        sh("ip", "-n", NS[name], "addr", "add", a, "dev", "eth0")
    sh("ip", "-n", NS[name], "link", "set", "eth0", "up")
    sh("ip", "-n", NS[name], "link", "set", "lo", "up")


def setup():
    sh("ip", "netns", "add", NS["br"])
    sh("ip", "-n", NS["br"], "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", NS["br"], "link", "set", "br0", "up")
    add_pc("pc1", ["10.77.5.1/24"])
    add_pc("pc2", ["10.77.5.2/24"])
    add_pc("inet", ["198.51.100.10/24", "203.0.113.20/24"])
    # The "internet" is on-link: no router to set up.
    for net in ("198.51.100.0/24", "203.0.113.0/24"):
        sh("ip", "-n", NS["pc1"], "route", "add", net, "dev", "eth0")
    sh("ip", "-n", NS["inet"], "route", "add", "10.77.5.0/24", "dev",
       "eth0")


def teardown():
    for n in NS.values():
        subprocess.run(["ip", "netns", "del", n], capture_output=True)


HTTPS = r'''
import socket, ssl
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection(("198.51.100.10", 443), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="lab-test.example") as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
print(len(data))
'''

UDP_SINK = r'''
import select, socket
socks = []
for port in (7000, 7001):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("203.0.113.20", port))
    socks.append(s)
print("ready", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        s.recv(2048)
'''

UDP_SEND = r'''
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    s.sendto(b"u" * 100, ("203.0.113.20", int(sys.argv[1])))
    time.sleep(0.05)
'''


def ip_bytes(pcap, src):
    """Packets and IP bytes from src (tcpdump's reading), TCP only."""
    out = sh("tcpdump", "-nn", "-v", "-r", pcap, "tcp and src host " + src,
             check_rc=False).stdout
    pk = by = 0
    for line in out.splitlines():
        if ", length " in line and line.startswith(" ") is False:
            by += int(line.rsplit(", length ", 1)[1].rstrip(")"))
            pk += 1
    return pk, by


def read_records(path):
    recs = []
    with open(path) as f:
        for line in f:
            try:
                recs.append(json.loads(line))
            except ValueError:
                recs.append({"event": "UNPARSABLE"})
    return recs


def run(tmp):
    state = os.path.join(tmp, "state")
    ipf = os.path.join(tmp, "ip.txt")
    with open(ipf, "w") as f:
        f.write("# nothing listed yet\n")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
       "/CN=lab-test.example", "-keyout", os.path.join(tmp, "k.pem"),
       "-out", os.path.join(tmp, "c.pem"))
    procs = []
    try:
        tls = bg("openssl", "s_server", "-quiet", "-accept", "443", "-www",
                 "-cert", os.path.join(tmp, "c.pem"), "-key",
                 os.path.join(tmp, "k.pem"), ns="inet",
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(tls)
        dns = bg(sys.executable, "-c", DNS_SERVER, ns="inet",
                 stdout=subprocess.PIPE, text=True)
        procs.append(dns)
        dns.stdout.readline()
        usink = bg(sys.executable, "-c", UDP_SINK, ns="inet",
                   stdout=subprocess.PIPE, text=True)
        procs.append(usink)
        usink.stdout.readline()
        sink = bg(sys.executable, "-c", SINK, ns="pc2",
                  stdout=subprocess.PIPE, text=True)
        procs.append(sink)
        sink.stdout.readline()
        dump = bg("tcpdump", "-i", "eth0", "-U", "-w",
                  os.path.join(tmp, "ref.pcap"), "tcp port 9000", ns="pc1",
                  stderr=subprocess.PIPE, text=True)
        procs.append(dump)
        dump.stderr.readline()		# "listening on eth0..."

        out = open(os.path.join(tmp, "out.json"), "w")
        err = open(os.path.join(tmp, "err.txt"), "w")
        agent = bg(AGENT, "--stdout", "--format", "json", "--host", "pc1",
                   "--interface", "eth0", "--flow-idle", "1", "--stats", "1",
                   "--state-dir", state, "--ip-filter", ipf, ns="pc1",
                   stdout=out, stderr=err)
        procs.append(agent)
        if not netcheck.wait_capturing(os.path.join(tmp, "err.txt")):
            check(False, "agent started capturing on eth0")
            return

        # 1. A LAN transfer: pc1 sends a file to pc2.
        py("pc1", SEND, "10.77.5.2", str(FILE_BYTES))
        got = int(sink.stdout.readline())
        check(got == FILE_BYTES, "the file server got %d bytes" % got)
        # 2. HTTPS to a documentation address, with SNI.
        n = int(py("pc1", HTTPS).stdout)
        check(n > 0, "the HTTPS request got an answer (%d bytes)" % n)
        # 3. A DNS answer, then traffic to the address it gave.
        py("pc1", DNS_QUERY)
        py("pc1", UDP_SEND, "7000")
        # 4. A new host appears and talks to pc1.
        add_pc("pc3", ["10.77.5.3/24"], mac="00:50:56:3a:00:03")
        sh("ping", "-c", "2", "-i", "0.2", "10.77.5.1", ns="pc3")
        time.sleep(2.5)		# idle 1 s, ticks every second
        # 5. ip.txt lists 203.0.113.0/24; SIGHUP; then more UDP to it.
        with open(ipf, "w") as f:
            f.write("203.0.113.0/24 documentation\n")
        agent.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        py("pc1", UDP_SEND, "7001")
        time.sleep(2.5)
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=10)
        check(agent.returncode == 0, "agent exits 0 on SIGTERM")
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=5)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    recs = read_records(os.path.join(tmp, "out.json"))
    check(all(r["event"] != "UNPARSABLE" for r in recs),
          "every output line is JSON")
    flows = [r for r in recs if r["event"].startswith("flow.")]

    lan = [r for r in flows if r["event"] == "flow.lan" and
           r["dport"] == 9000]
    ref_out = ip_bytes(os.path.join(tmp, "ref.pcap"), "10.77.5.1")
    ref_in = ip_bytes(os.path.join(tmp, "ref.pcap"), "10.77.5.2")
    if check(len(lan) == 1, "one flow.lan record for the transfer"):
        r = lan[0]
        check(r["src"] == "10.77.5.1" and r["dst"] == "10.77.5.2" and
              r["proto"] == "tcp" and r["connections"] == 1 and
              r["final"] is True, "transfer: pc1 -> pc2:9000, final")
        check((r["packets_out"], r["bytes_out"]) == ref_out and
              (r["packets_in"], r["bytes_in"]) == ref_in,
              "transfer: packets and IP bytes exactly as tcpdump reads "
              "them: out %r in %r, agent %r" % (ref_out, ref_in, (
                  r["packets_out"], r["bytes_out"], r["packets_in"],
                  r["bytes_in"])))
        check(r["bytes_out"] > FILE_BYTES, "transfer: more IP bytes out "
              "than the file holds")
        # Live records come from the idle timer, not from the exit.
        check(r["ts"] < [x for x in recs if x["event"] ==
                         "agent.stop"][0]["ts"],
              "transfer: reported on idle, before the stop")

    https = [r for r in flows if r["event"] == "flow.internet" and
             r["dport"] == 443]
    check(len(https) == 1 and https[0]["dst"] == "198.51.100.10" and
          https[0].get("name") == "lab-test.example" and
          https[0].get("name_source") == "sni",
          "HTTPS: flow.internet to 198.51.100.10:443 named by SNI")

    udp = [r for r in flows if r["dport"] == 7000]
    check(len(udp) == 1 and udp[0]["event"] == "flow.internet" and
          udp[0]["packets_out"] == 3 and
          udp[0]["bytes_out"] == 3 * (20 + 8 + 100) and
          udp[0]["packets_in"] == 0 and
          udp[0].get("name") == "files.example.test" and
          udp[0].get("name_source") == "dns",
          "UDP: 3 datagrams, 384 IP bytes, named by the DNS answer "
          "(CNAME followed back)")
    check(not [r for r in flows if r["dport"] == 53],
          "DNS itself is not logged")
    check(not [r for r in flows if r["dport"] == 7001],
          "after SIGHUP the listed range is not logged")
    stats = [r for r in recs if r["event"] == "agent.stats"]
    check(stats and "documentation 1" in stats[-1]["filtered"],
          "agent.stats counts the filtered conversation under its label")
    check(stats and all(s["dropped"] == 0 for s in stats) and
          stats[-1]["kernel_packets"] > 0,
          "agent.stats: kernel packets counted, none dropped")

    ping = [r for r in flows if r["proto"] == "icmp"]
    # No ICMP errors either: the UDP sink listens on both ports.
    check(len(ping) == 1 and ping[0]["src"] == "10.77.5.3" and
          ping[0]["packets_out"] == 2 and ping[0]["packets_in"] == 2 and
          ping[0]["bytes_out"] == 2 * 84,
          "ping from the new host: flow.lan icmp, 2 + 2 packets of 84 B")

    devs = [r for r in recs if r["event"] == "net.device"]
    new = [d for d in devs if d["ip"] == "10.77.5.3"]
    check(len(new) == 1 and new[0]["mac"] == "00:50:56:3a:00:03" and
          new[0].get("vendor") == "VMware, Inc.",
          "net.device for the new host with its vendor")
    check(len([d for d in devs if d["ip"] == "10.77.5.2"]) == 1,
          "net.device for pc2, once")
    return devs


def restart(tmp, devs):
    """A second run with the same state: pc2 talks again, no net.device."""
    state = os.path.join(tmp, "state")
    out = open(os.path.join(tmp, "out2.json"), "w")
    err = open(os.path.join(tmp, "err2.txt"), "w")
    agent = bg(AGENT, "--stdout", "--format", "json", "--host", "pc1",
               "--interface", "eth0", "--flow-idle", "1",
               "--state-dir", state, "--ip-filter", "/dev/null", ns="pc1",
               stdout=out, stderr=err)
    try:
        netcheck.wait_capturing(os.path.join(tmp, "err2.txt"))
        sh("ip", "-n", NS["pc1"], "neigh", "flush", "all")
        sh("ip", "-n", NS["pc2"], "neigh", "flush", "all")
        sh("ping", "-c", "1", "10.77.5.2", ns="pc1")
        time.sleep(0.5)
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=10)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    recs = read_records(os.path.join(tmp, "out2.json"))
    check([r for r in recs if r["event"] == "flow.lan"] and
          not [r for r in recs if r["event"] == "net.device"],
          "after a restart, known devices are not announced again")


def main():
    if os.geteuid() != 0:
        print("not ok - the live test needs root for network namespaces")
        return 1
    for tool in ("tcpdump", "openssl", "ip", "ping"):
        if shutil.which(tool) is None:
            print("not ok - %s missing (scripts/install-deps)" % tool)
            return 1
    tmp = tempfile.mkdtemp(prefix="lwnet-")
    # The agent's unprivileged worker rereads ip.txt and writes its state.
    os.chmod(tmp, 0o755)
    try:
        setup()
        devs = run(tmp)
        if devs is not None:
            restart(tmp, devs)
    except Exception as e:		# a setup failure is a failed check
        check(False, "live test ran: %s" % e)
    finally:
        teardown()
        left = subprocess.run(["ip", "netns", "list"], capture_output=True,
                              text=True).stdout
        check(TAG not in left, "namespaces deleted")
        if os.environ.get("LWNET_KEEP"):
            print("# kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if netcheck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
