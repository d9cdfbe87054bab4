#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""USB bench (make bench), not a test: measures, on the real agent under a
umockdev testbed,
  1. latency from a uevent to its record leaving the agent (read here from
     its stdout), p50 and p99 over N plug/unplug cycles of the USB stick
     recording (target p99 under 10 ms);
  2. a burst of 10,000 file writes on a loop-mounted ext4 image standing in
     for the stick: agent CPU time, peak memory, and whether every file
     appeared.
Usage: usb_bench.py [CYCLES] [FILES]   (defaults 1000 and 10000)"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import usbtb  # noqa: E402

usbtb.reexec()
UMockdev = usbtb.umockdev()

CYCLES = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
FILES = int(sys.argv[2]) if len(sys.argv) > 2 else 10000


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def latency(tb, a):
    adds, removes = [], []
    for _ in range(CYCLES):
        t0 = time.perf_counter()
        tb.uevent(usbtb.STICK_SYSPATH, "remove")
        if a.event("usb.remove", timeout=5) is None:
            raise SystemExit("no usb.remove")
        t1 = time.perf_counter()
        tb.uevent(usbtb.STICK_SYSPATH, "add")
        if a.event("usb.add", timeout=5) is None:
            raise SystemExit("no usb.add")
        t2 = time.perf_counter()
        removes.append((t1 - t0) * 1000)
        adds.append((t2 - t1) * 1000)
        del a.records[:]
        a.taken = 0
        del a.lines[:]
    both = adds + removes
    print("uevent -> record latency over %d plug/unplug cycles "
          "(%d events):" % (CYCLES, len(both)))
    for name, xs in (("usb.add", adds), ("usb.remove", removes),
                     ("all", both)):
        print("  %-10s p50 %.3f ms  p99 %.3f ms  max %.3f ms" %
              (name, pct(xs, 50), pct(xs, 99), max(xs)))
    p99 = pct(both, 99)
    print("  target p99 < 10 ms: %s" % ("met" if p99 < 10 else "MISSED"))


def burst(tb, a, loop):
    # The unplugs above took the stick's block devices with them.
    blk = usbtb.STICK_SYSPATH + "/2-3:1.0/host6/target6:0:0/6:0:0:0/block/"
    tb.uevent(blk + "sdb", "add")
    tb.uevent(blk + "sdb/sdb1", "add")
    mnt = usbtb.mount(loop, "BENCH STICK")
    if a.event("usb.mount", timeout=10) is None:
        raise SystemExit("no usb.mount")
    a.drain(0.2)
    pid = a.proc.pid
    cpu0, mem0 = proc_cpu(pid), proc_mem(pid)
    d = os.path.join(mnt, "burst")
    os.mkdir(d)
    t0 = time.perf_counter()
    for i in range(FILES):
        with open(os.path.join(d, "f%05d" % i), "wb") as f:
            f.write(b"x" * 512)
    t1 = time.perf_counter()
    last = os.path.join(d, "f%05d" % (FILES - 1))
    if a.event("usb.write", timeout=120, path=last) is None:
        raise SystemExit("the last file never appeared")
    t2 = time.perf_counter()
    cpu1, mem1 = proc_cpu(pid), proc_mem(pid)
    paths = {r.get("path") for r in a.events("usb.write")}
    seen = sum(1 for i in range(FILES)
               if os.path.join(d, "f%05d" % i) in paths)
    usbtb.umount(loop)
    print("burst of %d file writes on a USB mount:" % FILES)
    print("  writer took %.2f s; last record %.2f s after the last write "
          "(1 s of it is the merge window)" % (t1 - t0, t2 - t1))
    print("  agent CPU %.2f s (%.1f us per file)" %
          (cpu1 - cpu0, (cpu1 - cpu0) * 1e6 / FILES))
    print("  agent memory: RSS %d KiB before, %d KiB after, peak %d KiB" %
          (mem0["VmRSS"], mem1["VmRSS"], mem1["VmHWM"]))
    print("  files reported: %d of %d" % (seen, FILES))


def main():
    if os.geteuid() != 0:
        raise SystemExit("usb bench: needs root (loop device, mount, "
                         "fanotify)")
    loop = usbtb.ext4_loop("BENCH", 64)
    tb = UMockdev.Testbed.new()
    tb.add_from_string(usbtb.stick_recording(loop))
    a = usbtb.Agent(tb)
    if not a.ready() or a.event("usb.add") is None:
        raise SystemExit("the agent did not start: " + a.err.decode())
    a.drain(0.2)
    latency(tb, a)
    burst(tb, a, loop)
    a.stop()


try:
    main()
finally:
    usbtb._cleanup()
