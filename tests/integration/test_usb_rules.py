#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The udev rule drop-in, run by the real udev rule engine: `udevadm test`
under umockdev-wrapper sees mocked devices, and reads the rules file from a
/run/udev/rules.d that exists only in a private mount namespace (unshare),
so the machine's own udev setup is not touched.  Each commented example in
udev-rules/90-labwatch.rules, once uncommented, must set LABWATCH_IGNORE=1
on the device it describes and not on another; the file as shipped marks
nothing."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import usbtb  # noqa: E402

usbtb.reexec()
UMockdev = usbtb.umockdev()
check = usbtb.check
RULES = os.path.join(usbtb.ROOT, "udev-rules", "90-labwatch.rules")
KBD = "/sys/devices/pci0000:00/0000:00:1a.0/usb1/1-1/1-1.5/1-1.5.4/1-1.5.4.2"


def dev(tb, name, vendor, product, serial="", ifaces=None):
    props = ["DEVTYPE", "usb_device"]
    if ifaces:
        props += ["ID_USB_INTERFACES", ifaces]
    return tb.add_device("usb", name, None,
                         ["idVendor", vendor, "idProduct", product,
                          "serial", serial, "bDeviceClass", "00"], props)


def ignored(tb, rules_text, syspath):
    """Runs udevadm test on syspath with rules_text installed; returns
    whether LABWATCH_IGNORE=1 came out, and the output."""
    d = tempfile.mkdtemp(prefix="lw-rules-")
    try:
        path = os.path.join(d, "90-labwatch.rules")
        with open(path, "w") as f:
            f.write(rules_text)
        script = ("mount --make-rprivate / && mount -t tmpfs none /run && "
                  "mkdir -p /run/udev/rules.d && cp \"$1\" /run/udev/rules.d/"
                  " && udevadm test --action=add \"$2\"")
        env = dict(os.environ, UMOCKDEV_DIR=tb.get_root_dir())
        out = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh",
                              path, syspath], env=env,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT).stdout.decode(
                                 errors="replace")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    read = "90-labwatch.rules" in out
    return read and "LABWATCH_IGNORE=1" in out.splitlines(), read, out


def main():
    with open(RULES) as f:
        text = f.read()
    tb = UMockdev.Testbed.new()
    tb.add_from_string(usbtb.stick_recording())
    tb.add_from_file(os.path.join(usbtb.FIXTURES, "usbkbd.umockdev"))
    dell = dev(tb, "3-1", "413c", "2113")
    m90 = dev(tb, "3-2", "046d", "c05a")
    b100 = dev(tb, "3-3", "046d", "c077")
    other = dev(tb, "3-5", "046d", "c52b")
    cam = dev(tb, "1-4", "0c45", "6713")
    mouse = dev(tb, "3-6", "1bcf", "0005", ifaces=":030102:")
    stick = usbtb.STICK_SYSPATH

    hit, read, out = ignored(tb, text, stick)
    check(read and not hit, "the shipped file (examples commented) is read "
          "and marks nothing", out[-1500:])
    # (a line of the example, devices it must mark, devices it must not)
    cases = [
        ('ATTR{idVendor}=="413c"', [dell], [other, stick]),
        ('ATTR{idProduct}=="c05a|c077"', [m90, b100], [other, dell]),
        ('ATTR{serial}=="4C530001230515117093"', [stick], [other]),
        ('KERNEL=="1-4"', [cam], [other, stick]),
        ('ENV{ID_USB_INTERFACES}==":030101:|:030102:"', [mouse],
         [KBD, other]),
    ]
    for needle, yes, no in cases:
        lines = [ln for ln in text.splitlines()
                 if ln.startswith("#") and needle in ln]
        if not check(len(lines) == 1, "example %s is in the file" % needle):
            continue
        rules = text.replace(lines[0], lines[0][1:])
        for syspath in yes:
            hit, _, out = ignored(tb, rules, syspath)
            check(hit, "example %s marks %s" % (needle,
                  os.path.basename(syspath)), out[-1500:])
        for syspath in no:
            hit, _, out = ignored(tb, rules, syspath)
            check(not hit, "example %s leaves %s alone" % (needle,
                  os.path.basename(syspath)), out[-1500:])


if shutil.which("udevadm") is None:
    print("not ok - udevadm missing: run scripts/install-deps (package udev)")
    sys.exit(1)
if os.geteuid() != 0:
    print("ok - # SKIP not root: unshare -m needs root")
    sys.exit(0)
main()
usbtb.finish()
