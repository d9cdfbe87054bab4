#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""`make bench`: labwatch-agent --read against its peers on one trace.

Generates build/bench/trace.pcap once (scripts/gen-trace: 5 M packets,
61,000 conversations; kept out of git), installs the peers (tcpdump,
softflowd: Debian packages) when missing, then runs each command ROUNDS
times side by side, the file in the page cache, and reports the median
packets per second, the peak resident memory, and ratios to labwatch.

Then the targets of issue 11: --read at least 3x softflowd's and 1.2x
tcpdump -w /dev/null's packets per second, from the medians of this run.

usage: tests/bench/net-replay.py [ROUNDS]   (B= selects the build folder;
       scripts/bench runs it with the other benches)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
B = os.path.join(ROOT, os.environ.get("B", "build"))
TRACE = os.path.join(B, "bench", "trace.pcap")
PACKETS = 5000000
PCAPS = os.path.join(ROOT, "tests", "fixtures", "pcaps")
TIMEOUT = 600		# seconds one command may take
RSS_FILE = os.path.join(B, "bench", "rss.txt")


def ensure_tools():
    missing = [p for p, tool in (("tcpdump", "tcpdump"),
                                 ("softflowd", "softflowd"),
                                 ("time", "/usr/bin/time"))
               if shutil.which(tool) is None]
    if missing:
        print("bench: installing " + " ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq",
                        "--no-install-recommends"] + missing, check=True,
                       env=env)


def run(cmd, stdout):
    """Wall seconds and peak RSS (MiB) of one command.  GNU time measures
    the memory: a child forked from Python would start with Python's."""
    t0 = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", RSS_FILE] + cmd,
                         stdout=stdout, stderr=subprocess.DEVNULL)
    while True:
        pid, status, _ = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.perf_counter() - t0 > TIMEOUT:
            p.kill()
            sys.exit("bench: %s took more than %d s" % (cmd[0], TIMEOUT))
        time.sleep(0.005)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("bench: %s failed (%d)" % (cmd[0], p.returncode))
    with open(RSS_FILE) as f:
        rss_kb = int(f.read().split()[-1])
    return wall, rss_kb / 1024.0


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    ensure_tools()
    os.makedirs(os.path.dirname(TRACE), exist_ok=True)
    if not os.path.exists(TRACE):
        print("bench: generating " + TRACE)
        subprocess.run([os.path.join(ROOT, "scripts", "gen-trace"),
                        TRACE + ".tmp", str(PACKETS)], check=True)
        os.rename(TRACE + ".tmp", TRACE)
    size = os.path.getsize(TRACE)
    tmp = tempfile.mkdtemp(prefix="lwnet-bench-")
    agent_out = os.path.join(tmp, "agent.json")
    tools = [
        ("cat", ["cat", TRACE], subprocess.DEVNULL),
        ("tcpdump -r -w /dev/null",
         ["tcpdump", "-n", "-r", TRACE, "-w", "/dev/null"],
         subprocess.DEVNULL),
        ("softflowd -r", ["softflowd", "-r", TRACE, "-n", "127.0.0.1:9",
                          "-d", "-6", "-a", "-m", "200000", "-t", "tcp=2",
                          "-t", "udp=2", "-t", "general=2",
                          # -c PATH makes softflowd 1.1.0 -r block in
                          # accept() on the control socket: left default.
                          "-p", os.path.join(tmp, "sf.pid")],
         subprocess.DEVNULL),
        ("labwatch-agent --read",
         [os.path.join(B, "labwatch-agent"), "--read", TRACE, "--stdout",
          "--format", "json", "--host", "bench", "--ip-filter", "/dev/null",
          "--state-dir", tmp], None),
    ]
    results = {name: [] for name, _, _ in tools}
    try:
        run(["cat", TRACE], subprocess.DEVNULL)	# into the page cache
        for r in range(rounds):
            for name, cmd, out in tools:
                if out is None:
                    with open(agent_out, "w") as f:
                        results[name].append(run(cmd, f))
                else:
                    results[name].append(run(cmd, out))
        flows = stats = 0
        with open(agent_out) as f:
            for line in f:
                rec = json.loads(line)
                flows += rec["event"].startswith("flow.")
                if rec["event"] == "agent.stats":
                    stats = rec["packets"]
        # ip.txt: 100,000 prefixes (half IPv6) loaded, one tiny capture.
        iptxt = os.path.join(tmp, "ip100k.txt")
        with open(iptxt, "w") as f:
            for i in range(50000):
                f.write("%d.%d.%d.0/24 v4\n" % (100 + i // 65536,
                                               i // 256 % 256, i % 256))
                f.write("2001:db8:%x:%x::/64 v6\n" % (i // 256, i % 256))
        small = os.path.join(PCAPS, "zeek_tls12-decryption-heise.pcap")
        load = []
        for r in range(rounds):
            for path in ("/dev/null", iptxt):
                load.append((path, run([os.path.join(B, "labwatch-agent"),
                                        "--read", small, "--stdout",
                                        "--ip-filter", path, "--state-dir",
                                        tmp], subprocess.DEVNULL)))
    finally:
        shutil.rmtree(tmp)

    def med(path, i):
        return statistics.median(v[i] for p, v in load if p == path)
    print("\nip.txt with 100,000 prefixes: agent start to exit %.3f s "
          "(%.3f s without), peak RSS %.1f MiB (%.1f without)" %
          (med(iptxt, 0), med("/dev/null", 0), med(iptxt, 1),
           med("/dev/null", 1)))

    n = stats
    print("\ntrace: %s, %.2f GB, %d packets; labwatch emitted %d "
          "conversation records; %d rounds, medians\n" %
          (TRACE, size / 1e9, n, flows, rounds))
    lw = statistics.median(w for w, _ in results["labwatch-agent --read"])
    print("%-26s %10s %12s %12s %16s" % ("command", "seconds", "packets/s",
                                         "peak RSS MiB", "time / labwatch"))
    for name, _, _ in tools:
        wall = statistics.median(w for w, _ in results[name])
        rss = max(m for _, m in results[name])
        print("%-26s %10.2f %12.0f %12.1f %16.2f" % (name, wall, n / wall,
                                                     rss, wall / lw))
    print()
    for name, target in (("softflowd -r", 3.0),
                         ("tcpdump -r -w /dev/null", 1.2)):
        ratio = statistics.median(w for w, _ in results[name]) / lw
        print("labwatch / %-24s %.2fx packets/s (target %.1fx): %s" % (
            name, ratio, target, "met" if ratio >= target else "NOT met"))


if __name__ == "__main__":
    main()
