#!/usr/bin/env python3
"""Hostile input the replay way (issue 9), with captures written by
tests/tools/make-captures at test time:

- 60,000 TCP conversations that each begin a TLS ClientHello (300 bytes
  of a record announcing 2000) and stop.  The agent's peak resident size
  (VmHWM in /proc/PID/status of the agent and every process under it,
  read while it runs, and the kernel's ru_maxrss at exit) stays under
  64 MiB, and agent.stats says how many reassemblies the budget refused:
  the budget (4 MiB) holds at most 4096 streams of 1 KiB, so at least
  60000 - 4096 are refused; every conversation is still logged.
- A capture from 2040 (2208988800 s, past 2^31): times print as 2040.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import netcheck
from netcheck import AGENT, ROOT, check

MAKE = os.path.join(ROOT, "tests", "tools", "make-captures")
N = 60000
LIMIT_KB = 64 * 1024
BUDGET_STREAMS = (4 << 20) // 1024


def tree(pid):
    """pid and its descendants, as /proc lists them now."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def vmhwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_agent(pcap, tmp):
    """Runs --read on pcap; returns (records, peak VmHWM kB, maxrss kB)."""
    out = os.path.join(tmp, "out.json")
    with open(out, "w") as f:
        p = subprocess.Popen([AGENT, "--read", pcap, "--stdout", "--format",
                              "json", "--host", "t", "--ip-filter",
                              "/dev/null", "--state-dir", tmp], stdout=f,
                             stderr=subprocess.DEVNULL)
        peak = 0
        while True:
            for q in tree(p.pid):
                peak = max(peak, vmhwm_kb(q))
            done, status, usage = os.wait4(p.pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
    with open(out) as f:
        recs = [json.loads(line) for line in f]
    return p.returncode, recs, peak, usage.ru_maxrss


def main():
    tmp = tempfile.mkdtemp(prefix="lwflood-")
    try:
        pcap = os.path.join(tmp, "flood.pcap")
        subprocess.run([MAKE, "--hello-flood", str(N), pcap], check=True)
        rc, recs, peak, maxrss = run_agent(pcap, tmp)
        check(rc == 0, "60,000 partial ClientHellos: exit 0")
        flows = [r for r in recs if r["event"] == "flow.internet"]
        stats = [r for r in recs if r["event"] == "agent.stats"]
        check(len(flows) == N, "every conversation logged (%d)" %
              len(flows))
        print("# peak VmHWM %d kB, ru_maxrss %d kB" % (peak, maxrss))
        check(0 < peak < LIMIT_KB and maxrss < LIMIT_KB,
              "peak resident size under 64 MiB (VmHWM %d kB, ru_maxrss "
              "%d kB)" % (peak, maxrss))
        refused = stats[-1].get("reassembly_refused") if stats else None
        check(refused is not None and N - BUDGET_STREAMS <= refused < N,
              "agent.stats reassembly_refused %r: between %d and %d" %
              (refused, N - BUDGET_STREAMS, N - 1))
        check(stats and stats[-1].get("evicted") == 0,
              "agent.stats evicted 0: the table held them all")

        y = os.path.join(tmp, "y2040.pcap")
        subprocess.run([MAKE, "--year-2040", y], check=True)
        rc, recs, _, _ = run_agent(y, tmp)
        flows = [r for r in recs if r["event"] == "flow.internet"]
        check(rc == 0 and len(flows) == 1 and
              flows[0]["start"] == "2040-01-01T00:00:00.000000Z" and
              flows[0]["end"] == "2040-01-01T00:00:01.002000Z" and
              flows[0]["ts"].startswith("2040-01-01T00:00:01"),
              "a capture from 2040 prints 2040: %r" %
              [(r.get("start"), r.get("end"), r.get("ts")) for r in flows])
    finally:
        shutil.rmtree(tmp)
    return 1 if netcheck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
