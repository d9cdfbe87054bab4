#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""USB monitor, storage: a real ext4 image on a real loop device stands in
for the mocked stick's partition (its major:minor and UUID are written into
the recording), is really mounted, and real files are written and read on
it.  Checks usb.mount/usb.unmount (live and coldplug), usb.write/usb.read
with exact paths, sizes and the writing process, merging of repeats, a
burst of thousands of files each reported once, and that a mount of a
block device that is not USB is not reported."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import usbtb  # noqa: E402

usbtb.reexec()
UMockdev = usbtb.umockdev()
check = usbtb.check

STICK = usbtb.STICK_SYSPATH
CHILDREN = ["2-3:1.0/host6/target6:0:0/6:0:0:0/block/sdb/sdb1",
            "2-3:1.0/host6/target6:0:0/6:0:0:0/block/sdb",
            "2-3:1.0/host6/target6:0:0/6:0:0:0",
            "2-3:1.0/host6/target6:0:0", "2-3:1.0/host6", "2-3:1.0"]
BURST = 5000


def write(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


def main():
    loop = usbtb.ext4_loop("LABSTICK")
    other = usbtb.ext4_loop("NOTUSB", 8)
    tb = UMockdev.Testbed.new()
    tb.add_from_string(usbtb.stick_recording(loop))
    mnt = usbtb.mount(loop, "USB STICK")

    # An agent started now sees the stick and its mount as present.  (One
    # agent at a time: umockdev names a listener's socket after its fd
    # number, so two agents on one testbed would take each other's.)
    b = usbtb.Agent(tb)
    ba = b.event("usb.add")
    bm = b.event("usb.mount")
    b.stop()
    check(ba is not None and ba.get("coldplug") is True and
          ba.get("storage") is True,
          "coldplug: a stick present at start", ba)
    check(bm is not None and bm.get("coldplug") is True and
          bm.get("mountpoint") == mnt and bm.get("device") == "/dev/sdb1",
          "coldplug: a mount present at start", bm)
    usbtb.umount(loop)

    a = usbtb.Agent(tb)
    check(a.ready(), "the agent starts under the testbed", a.err)
    add = a.event("usb.add")
    check(add is not None and ba is not None and
          add.get("device_id") == ba.get("device_id"),
          "the stick has the same device_id in both runs", (add, ba))
    if add is None:
        return
    ident = {k: add.get(k) for k in ("device_id", "vendor_id", "product_id",
                                      "serial")}

    mnt = usbtb.mount(loop, "USB STICK")
    usbtb.mount(other, "plain disk")
    m = a.event("usb.mount")
    want = dict(ident, device="/dev/sdb1", mountpoint=mnt, fstype="ext4",
                fs_uuid=loop["uuid"], fs_label="LABSTICK", port="2-3",
                syspath=STICK, storage=True)
    bad = {k: (m.get(k) if m else None, v) for k, v in want.items()
           if m is None or m.get(k) != v}
    check(not bad and m is not None and "coldplug" not in m,
          "usb.mount: device, mount point (with a space), fstype, "
          "fs_uuid, fs_label and the USB identity", bad)

    pid = os.getpid()
    with open("/proc/self/comm") as f:
        comm = f.read().strip()
    # Written twice within a second by one process: one record, count 2.
    report = os.path.join(mnt, "report.txt")
    write(report, b"x" * 1234)
    write(report, b"y" * 100, "ab")
    photo = os.path.join(mnt, "DCIM", "photo 1.jpg")
    os.mkdir(os.path.dirname(photo))
    write(photo, os.urandom(5000))
    with open(photo, "rb") as f:
        data = f.read()
    w = a.event("usb.write", path=report)
    check(w is not None and w.get("size") == 1334 and w.get("pid") == pid and w.get("uid") == 0 and
          w.get("comm") == comm and w.get("mountpoint") == mnt and
          all(w.get(k) == v for k, v in ident.items()),
          "usb.write: size after the last close, pid, uid, comm, "
          "identity", w)
    a.taken = 0
    w = a.event("usb.write", path=photo)
    check(w is not None and w.get("size") == 5000 and w.get("pid") == pid,
          "usb.write: a file in a folder, its size", w)
    check(len([x for x in a.events("usb.write")
               if x.get("path") == report]) == 1,
          "usb.write: repeats of one file by one process in one record")
    a.taken = 0
    r = a.event("usb.read", path=photo)
    check(r is not None and len(data) == 5000 and r.get("pid") == pid and
          r.get("uid") == 0 and r.get("comm") == comm and
          r.get("size") == 5000,
          "usb.read: the file read back, with its reader and its size", r)

    # The kernel merges a write and a read of one file by one process
    # queued together into one event with both bits: with the agent
    # stopped, they surely queue together; both must be reported.
    both = os.path.join(mnt, "both.txt")
    a.proc.send_signal(signal.SIGSTOP)
    try:
        write(both, b"q" * 77)
        with open(both, "rb") as f:
            f.read()
    finally:
        a.proc.send_signal(signal.SIGCONT)
    a.taken = 0
    w = a.event("usb.write", path=both)
    a.taken = 0
    r = a.event("usb.read", path=both)
    check(w is not None and w.get("size") == 77 and r is not None and
          r.get("pid") == pid, "a write and a read merged by the kernel "
          "into one event are both reported", (w, r))

    # A burst: every file appears once, with its size.
    burst = os.path.join(mnt, "burst")
    os.mkdir(burst)
    for i in range(BURST):
        write(os.path.join(burst, "f%05d.dat" % i), b"z" * (i % 97))
    # Queued fanotify events pin the mount: unmount once they are read.
    a.event("usb.write", timeout=60,
            path=os.path.join(burst, "f%05d.dat" % (BURST - 1)))
    usbtb.umount(loop)
    u = a.event("usb.unmount", timeout=60)
    seen = {}
    for rec in a.events("usb.write"):
        p = rec.get("path", "")
        if p.startswith(burst + "/"):
            seen.setdefault(p, []).append(rec)
    wrong = [p for p, recs in seen.items()
             if len(recs) != 1 or
             recs[0].get("size") != int(p[-9:-4]) % 97]
    check(len(seen) == BURST and not wrong,
          "burst: %d files written, each in exactly one usb.write with its "
          "size" % BURST, (len(seen), wrong[:5]))
    last_write = max(rec["seq"] for rec in a.events("usb.write"))
    check(u is not None and u.get("seq", 0) > last_write and
          u.get("mountpoint") == mnt and u.get("device_id") ==
          add.get("device_id"),
          "usb.unmount after the last write of that mount", u)
    check(len(a.events("usb.mount")) == 1 and
          not [x for x in a.records if "plain disk" in str(x)],
          "a mount of a block device that is not USB is not reported",
          [x for x in a.records if "plain disk" in str(x)][:2])

    for c in CHILDREN:
        tb.uevent(STICK + "/" + c, "remove")
    usbtb.remove(tb, STICK)
    g = a.event("usb.remove")
    check(g is not None and g.get("device_id") == add.get("device_id") and
          g.get("storage") is True, "usb.remove of the stick",
          (g, a.records[-3:], a.err[-1000:]))
    a.drain()
    err = a.stop()
    check(a.records[-1].get("event") == "agent.stop" and
          a.proc.returncode == 0, "the agent stops cleanly (exit status 0, "
          "no sanitizer report)", err[-2000:])


if os.geteuid() != 0:
    # Loop devices, mount and fanotify need root; make check runs as root.
    print("ok - # SKIP not root: loop devices, mount and fanotify need it")
    sys.exit(0)
with open("/proc/filesystems") as _f:
    if "ext4" not in _f.read():
        print("ok - # SKIP this kernel has no ext4 for the stick image")
        sys.exit(0)
try:
    main()
finally:
    for _a in usbtb._agents:
        _a.stop()
    usbtb._cleanup()
usbtb.finish()
