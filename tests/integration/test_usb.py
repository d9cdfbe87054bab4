#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""USB monitor, devices: the real agent and libudev against umockdev testbeds
holding real recordings (tests/fixtures/README.md says what each proves).
Coldplug and hotplug usb.add, usb.remove with the remembered identity, hubs
not reported, device_id derivation, LABWATCH_IGNORE, --no-usb, hostile
device strings."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import usbtb  # noqa: E402

usbtb.reexec()
UMockdev = usbtb.umockdev()
check = usbtb.check
FIX = usbtb.FIXTURES

KBD = "/sys/devices/pci0000:00/0000:00:1a.0/usb1/1-1/1-1.5/1-1.5.4/1-1.5.4.2"
FIDO = "/sys/devices/pci0000:00/0000:00:08.1/0000:05:00.3/usb1/1-2/1-2.3"
CAM = "/sys/devices/pci0000:00/0000:00:1a.0/usb1/1-1/1-1.5/1-1.5.2/1-1.5.2.3"
PHONE = "/sys/devices/pci0000:00/0000:00:1a.0/usb1/1-1/1-1.5/1-1.5.2/1-1.5.2.4"


def identity(r):
    return {k: v for k, v in r.items() if k not in ("ts", "seq", "event",
                                                      "host", "coldplug")}


def coldplug_and_hotplug():
    tb = UMockdev.Testbed.new()
    tb.add_from_file(os.path.join(FIX, "usbkbd.umockdev"))
    a = usbtb.Agent(tb)
    r = a.event("usb.add")
    check(r is not None, "coldplug: the keyboard present at start is reported",
          a.records)
    if r is None:
        a.stop()
        return
    check(r.get("coldplug") is True, "coldplug: \"coldplug\": true", r)
    want = {
        "syspath": KBD, "port": "1-1.5.4.2", "busnum": 1, "devnum": 9,
        "vendor_id": "05f3", "product_id": "0007", "serial": "",
        "vendor_name": "PI Engineering, Inc.",
        "model_name": "Kinesis Advantage PRO MPC/USB Keyboard",
        "speed": "12", "bcd_device": "0320",
        "interfaces": ["03/01/01", "03/00/00"], "storage": False,
        # No serial: vendor:product:serial@port.
        "device_id": usbtb.fnv1a64("05f3:0007:@1-1.5.4.2"),
    }
    bad = {k: (r.get(k), v) for k, v in want.items() if r.get(k) != v}
    check(not bad, "coldplug: keyboard identity, hwdb names, interfaces "
          "from the raw descriptors, port-based device_id", bad)

    tb.add_from_string(usbtb.stick_recording())
    f = a.event("usb.add")
    check(f is not None and f.get("syspath") == usbtb.STICK_SYSPATH and
          "coldplug" not in f and f.get("vendor_id") == "0781",
          "hotplug: a stick plugged next to the keyboard is reported "
          "without coldplug", f)
    usbtb.remove(tb, usbtb.STICK_SYSPATH)
    g = a.event("usb.remove")
    check(g is not None and f is not None and identity(g) == identity(f),
          "remove: usb.remove carries the identity usb.add saw", (f, g))
    a.drain()
    err = a.stop()
    adds = a.events("usb.add")
    check(len(adds) == 2, "hubs and root hubs are not reported (two usb.add "
          "for the keyboard behind 4 hubs and the stick)", [x.get("syspath") for x in adds])
    check(a.records and a.records[-1].get("event") == "agent.stop" and
          a.proc.returncode == 0, "the agent stops cleanly (exit status 0, "
          "no sanitizer report)", err)


def camera_and_phone():
    for name, path, vid, pid, serial, port, cls in (
            ("canon-powershot-sx200", CAM, "04a9", "31c0",
             "C767F1C714174C309255F70E4A7B2EE2", None, "06/01/01"),
            ("sony-xperia-mini-pro", PHONE, "0fce", "0166",
             "0123456789ABCDEF", "1-1.5.2.4", "ff/ff/00"),
            ("fido2", FIDO, "1050", "0120", "", "1-2.3", "03/00/00")):
        tb = UMockdev.Testbed.new()
        a = usbtb.Agent(tb)
        a.ready()
        tb.add_from_file(os.path.join(FIX, name + ".umockdev"))
        r = a.event("usb.add")
        key = "%s:%s:%s" % (vid, pid, serial)
        if port is not None:
            key += "@" + port
        check(r is not None and r.get("syspath") == path and
              r.get("vendor_id") == vid and r.get("product_id") == pid and
              r.get("serial") == serial and r.get("interfaces") == [cls] and
              r.get("storage") is False and r.get("busnum") == 1 and
              "coldplug" not in r,
              "%s: hotplug usb.add with its identity" % name, r)
        check(r is not None and r.get("device_id") == usbtb.fnv1a64(key),
              "%s: device_id = FNV-1a of \"%s\"" % (name, key), r)
        usbtb.remove(tb, path)
        g = a.event("usb.remove")
        check(g is not None and r is not None and identity(g) == identity(r),
              "%s: usb.remove with the same identity" % name, g)
        a.drain()
        a.stop()
        check(len(a.events("usb.add")) == 1,
              "%s: only the device, not its hubs" % name,
              a.events("usb.add"))
        # One testbed at a time: dropping one unsets UMOCKDEV_DIR.
        tb = None


def stick():
    tb = UMockdev.Testbed.new()
    a = usbtb.Agent(tb)
    a.ready()
    tb.add_from_string(usbtb.stick_recording())
    r = a.event("usb.add")
    check(r is not None and r.get("storage") is True and
          r.get("interfaces") == ["08/06/50"] and
          r.get("manufacturer") == "SanDisk" and
          r.get("product") == "Cruzer Blade" and r.get("port") == "2-3" and
          r.get("busnum") == 2 and r.get("devnum") == 5 and
          r.get("speed") == "480" and
          r.get("device_id") ==
          usbtb.fnv1a64("0781:5567:4C530001230515117093"),
          "stick: usb.add with storage true, 08/06/50, serial-based id", r)
    a.drain()
    a.stop()
    check(len(a.events("usb.add")) == 1, "stick: its SCSI and block "
          "children are not devices of their own", a.events("usb.add"))


HOSTILE = """P: /devices/pci0000:00/0000:00:14.0/usb3/3-7
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
E: BUSNUM=003
E: DEVNUM=002
A: bDeviceClass=00
A: idVendor=dead
A: idProduct=beef
A: busnum=3
A: devnum=2
A: speed=12
A: bcdDevice=0001
H: manufacturer=%s
H: product=%s
H: serial=%s
"""


def hostile():
    manufacturer = (b"\x1b[2J\x1b]0;pwned\x07Evil\nCorp\r\x00tail")
    product = b"A\xff\xfe\xc0\xaf\xe2\x80\xae" + b"\xc2\x9b" + b"B" * 5000
    serial = b"\xe2\x80\xa8\"\\,=x\t\x7f"
    tb = UMockdev.Testbed.new()
    a = usbtb.Agent(tb)
    a.ready()
    tb.add_from_string(HOSTILE % (manufacturer.hex(), product.hex(),
                                  serial.hex()))
    r = a.event("usb.add")
    usbtb.remove(tb, "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-7")
    g = a.event("usb.remove")
    a.drain()
    err = a.stop()
    check(r is not None and g is not None, "hostile: add and remove "
          "reported", (a.records, err))
    check(all(x.get("event") != "UNPARSABLE" for x in a.records),
          "hostile: every line parses as JSON",
          [x for x in a.records if x.get("event") == "UNPARSABLE"])
    raw = b"\n".join(a.lines)
    check(not any(c < 0x20 or c == 0x7f for c in raw.replace(b"\n", b"")),
          "hostile: no raw control byte in the output")
    check(raw.count(b"\n") + 1 == len(a.records),
          "hostile: one line per record")
    check(all(c not in raw for c in (b"\xc2\x9b", b"\xe2\x80\xae",
                                     b"\xe2\x80\xa8", b"\xff")),
          "hostile: no raw C1, bidi override, separator or invalid UTF-8")
    if r is not None:
        m = r.get("manufacturer", "")
        check(m.startswith("\x1b[2J\x1b]0;pwned\x07Evil\nCorp\r") and
              "tail" not in m,
              "hostile: the escapes decode back to the device's bytes "
              "(up to the NUL)", repr(m))
        check(len(r.get("product", "")) <= 600 and
              r.get("product", "").startswith("A\\xff\\xfe"),
              "hostile: a 5000-byte string is cut, invalid bytes as \\xNN",
              repr(r.get("product", ""))[:120])
        check(r.get("serial") == "\u2028\"\\,=x\t\x7f",
              "hostile: serial with separator and quotes round-trips",
              repr(r.get("serial")))


BAD_UEVENTS = """P: /devices/pci0000:00/0000:00:14.0/usb3/3-8
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
A: bDeviceClass=00
A: idVendor=0bad
A: idProduct=0001
A: busnum=99999999999999999999
A: devnum=-5
H: descriptors=1201ff
E: ID_USB_INTERFACES=:zzzzzz:08:0806500:

P: /devices/pci0000:00/0000:00:14.0/usb3/3-8/3-8:1.0/host9/target9:0:0/9:0:0:0/block/sdz
E: DEVTYPE=disk
E: SUBSYSTEM=block
E: MAJOR=notanumber
E: MINOR=-1
E: DEVNAME=/dev/sdz

P: /devices/pci0000:00/0000:00:14.0/usb3/3-9
E: DEVTYPE=usb_device
E: SUBSYSTEM=usb
A: bDeviceClass=00
A: idVendor=0bad
A: idProduct=0002
A: serial=GOODAFTERBAD1
H: descriptors=1201000200000040810767550001010203010902200001010080320904000002ff080600070581020002000705020200020109043300
"""


def bad_uevents():
    """Malformed numbers, descriptors and properties: reported as far as
    they make sense, never fatal; the next device is still seen."""
    tb = UMockdev.Testbed.new()
    a = usbtb.Agent(tb)
    a.ready()
    tb.add_from_string(BAD_UEVENTS)
    r1 = a.event("usb.add")
    r2 = a.event("usb.add")
    a.drain()
    err = a.stop()
    check(r1 is not None and r1.get("product_id") == "0001" and
          "busnum" not in r1 and "devnum" not in r1 and
          r1.get("interfaces") == [] and r1.get("storage") is False,
          "bad numbers, descriptors and ID_USB_INTERFACES: left out, not "
          "guessed", r1)
    check("descriptors of 3 bytes without a device descriptor" in err,
          "bad descriptors are logged", err)
    # The second device's descriptors end in a truncated interface
    # descriptor (length 9, 3 bytes there): the whole ones still count.
    check(r2 is not None and r2.get("serial") == "GOODAFTERBAD1" and
          r2.get("interfaces") == ["ff/08/06"],
          "a device after them is reported, truncated descriptors read "
          "as far as they go", r2)
    check(a.proc.returncode == 0 and not a.events("usb.mount"),
          "the agent survives and ties nothing to a block device without "
          "a device number", err[-500:])
    tb = None


def ignore_and_no_usb():
    tb = UMockdev.Testbed.new()
    a = usbtb.Agent(tb)
    a.ready()
    tb.add_device("usb", "4-1", None,
                  ["idVendor", "046d", "idProduct", "c52b",
                   "bDeviceClass", "00", "serial", "LABMOUSE01"],
                  ["DEVTYPE", "usb_device", "LABWATCH_IGNORE", "1"])
    tb.add_device("usb", "4-2", None,
                  ["idVendor", "046d", "idProduct", "c077",
                   "bDeviceClass", "00", "serial", "OTHER0001"],
                  ["DEVTYPE", "usb_device"])
    r = a.event("usb.add")
    a.drain()
    a.stop()
    check(r is not None and r.get("product_id") == "c077" and
          len(a.events("usb.add")) == 1,
          "LABWATCH_IGNORE=1: the marked device is not reported, the next "
          "one is", a.events("usb.add"))
    tb = None

    tb = UMockdev.Testbed.new()
    tb.add_from_file(os.path.join(FIX, "usbkbd.umockdev"))
    a = usbtb.Agent(tb, "--no-usb")
    a.event("agent.start")
    tb.add_from_string(usbtb.stick_recording())
    a.drain(0.5)
    a.stop()
    check(a.records and a.records[0].get("event") == "agent.start" and
          not a.events("usb.add"),
          "--no-usb: no USB records at start or on hotplug",
          [x.get("event") for x in a.records])


coldplug_and_hotplug()
camera_and_phone()
stick()
hostile()
bad_uevents()
ignore_and_no_usb()
usbtb.finish()
