#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The live half of `make bench`: agent CPU and kernel drops while an
iperf3 TCP stream crosses a veth pair the agent captures on.

Two namespaces (lwnet-bench-PID-a, -b) joined by a veth pair; iperf3 runs
for SECONDS at each rate (default 100M and 1G); the agent captures on a's
side.  Reports the agent's CPU (user + system, % of one core) from
/proc/PID/stat and the drops from its last agent.stats record, once with
the veth offloads on (TSO/GSO: few large packets) and once off (MTU-sized
packets, the worst case).  The namespaces are deleted whatever happens.

usage: tests/bench/net-live.py [SECONDS]    (B= selects the build folder)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
B = os.path.join(ROOT, os.environ.get("B", "build"))
TAG = "lwnet-bench-%d" % os.getpid()
A, Z = TAG + "-a", TAG + "-b"
HZ = os.sysconf("SC_CLK_TCK")


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])	# utime + stime


def measure(rate, seconds, tmp):
    out = os.path.join(tmp, "agent-%s.json" % rate)
    with open(out, "w") as f:
        agent = subprocess.Popen(
            ["ip", "netns", "exec", A, os.path.join(B, "labwatch-agent"),
             "--stdout", "--format", "json", "--interface", "veth0",
             "--stats", "1", "--state-dir", tmp, "--ip-filter",
             "/dev/null"], stdout=f, stderr=subprocess.DEVNULL)
    time.sleep(1)
    # The agent runs under "ip netns exec": find the agent itself.
    pid = int(subprocess.run(["pgrep", "-P", str(agent.pid)],
                             capture_output=True, text=True).stdout.split()[0]
              if subprocess.run(["pgrep", "-P", str(agent.pid)],
                                capture_output=True).returncode == 0
              else agent.pid)
    t0, c0 = time.time(), cpu_ticks(pid)
    ip = subprocess.run(["ip", "netns", "exec", A, "iperf3", "-c",
                         "10.99.0.2", "-t", str(seconds), "-b", rate, "-J"],
                        capture_output=True, text=True)
    t1, c1 = time.time(), cpu_ticks(pid)
    time.sleep(1.5)
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=10)
    bps = json.loads(ip.stdout)["end"]["sum_sent"]["bits_per_second"]
    stats = [json.loads(l) for l in open(out)
             if '"agent.stats"' in l]
    last = stats[-1] if stats else {}
    return (bps, 100.0 * (c1 - c0) / HZ / (t1 - t0),
            last.get("kernel_packets", 0), last.get("dropped", 0))


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    missing = [t for t in ("iperf3", "ethtool") if shutil.which(t) is None]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq",
                        "--no-install-recommends"] + missing, check=True)
    tmp = tempfile.mkdtemp(prefix="lwnet-bench-")
    server = None
    try:
        sh("ip", "netns", "add", A)
        sh("ip", "netns", "add", Z)
        sh("ip", "-n", A, "link", "add", "veth0", "type", "veth", "peer",
           "name", "veth0", "netns", Z)
        sh("ip", "-n", A, "addr", "add", "10.99.0.1/24", "dev", "veth0")
        sh("ip", "-n", Z, "addr", "add", "10.99.0.2/24", "dev", "veth0")
        for ns in (A, Z):
            sh("ip", "-n", ns, "link", "set", "veth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        server = subprocess.Popen(["ip", "netns", "exec", Z, "iperf3", "-s"],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        print("\nlive capture on a veth pair, iperf3 TCP for %d s\n" %
              seconds)
        print("%-8s %14s %18s %16s %10s" % ("rate", "achieved Mbit/s",
                                             "agent CPU % core",
                                             "kernel packets", "dropped"))
        for offload in ("on", "off"):
            # Offloads off: MTU-sized packets, the worst case for capture.
            if offload == "off":
                for ns in (A, Z):
                    sh("ip", "netns", "exec", ns, "ethtool", "-K", "veth0",
                       "tso", "off", "gso", "off", "gro", "off")
            for rate in ("100M", "1G"):
                bps, cpu, pk, drop = measure(rate, seconds, tmp)
                print("%-8s %14.0f %18.1f %16d %10d   offloads %s" % (
                    rate, bps / 1e6, cpu, pk, drop, offload))
    finally:
        if server is not None:
            server.kill()
            server.wait()
        for ns in (A, Z):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
