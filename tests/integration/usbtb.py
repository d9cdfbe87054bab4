# SPDX-License-Identifier: ISC
"""Shared by the USB tests and the USB bench: a umockdev testbed driving the
real agent (libudev inside it talks to the testbed), loop-mounted ext4 images
standing in for the USB stick's partition, and TAP-style checks.

The test process itself must run under umockdev-wrapper (the testbed's
uevent sender resolves devices through the preloaded sysfs), and needs the
Debian python3 for the UMockdev GObject bindings, so reexec() restarts the
script that way."""

import atexit
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AGENT = os.path.join(ROOT, os.environ.get("B", "build"), "labwatch-agent")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SYS_PYTHON = "/usr/bin/python3"


def reexec():
    """Restarts this script under umockdev-wrapper with Debian's python3."""
    if os.environ.get("LABWATCH_UMOCKDEV_REEXEC") == "1":
        return
    wrapper = shutil.which("umockdev-wrapper")
    if wrapper is None or not os.path.exists(SYS_PYTHON):
        print("not ok - umockdev-wrapper or %s missing: run "
              "scripts/install-deps" % SYS_PYTHON)
        sys.exit(1)
    env = dict(os.environ, LABWATCH_UMOCKDEV_REEXEC="1")
    os.execve(wrapper, [wrapper, SYS_PYTHON, os.path.abspath(sys.argv[0])] +
              sys.argv[1:], env)


def umockdev():
    import gi
    gi.require_version("UMockdev", "1.0")
    from gi.repository import UMockdev
    return UMockdev


# The environment for helper commands (mkfs, losetup, mount): no preload,
# so they see the real /dev and /sys.
def real_env():
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("UMOCKDEV_DIR", None)
    return env


def sh(*cmd):
    return subprocess.run(cmd, check=True, env=real_env(),
                          stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE).stdout.decode().strip()


failures = 0


def check(cond, what, detail=None):
    """Prints one TAP-style line for a check; returns cond."""
    global failures
    if cond:
        print("ok - %s" % what, flush=True)
    else:
        failures += 1
        print("not ok - %s" % what, flush=True)
        if detail is not None:
            print("#   %s" % str(detail)[:2000], flush=True)
    return cond


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


class Agent:
    """The real agent under the testbed, records read from its stdout."""

    def __init__(self, testbed, *extra):
        env = dict(os.environ, UMOCKDEV_DIR=testbed.get_root_dir())
        # Started as root, the agent parses in an unprivileged worker,
        # which must see the testbed and make its uevent socket there.
        os.chmod(testbed.get_root_dir(), 0o1777)
        # With SANITIZE=1 the umockdev preload comes before ASan's runtime.
        env["ASAN_OPTIONS"] = "verify_asan_link_order=0:" + \
            env.get("ASAN_OPTIONS", "")
        self.proc = subprocess.Popen(
            [AGENT, "--stdout", "--format", "json", "--no-net",
             "--host", "pc01"] + list(extra),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.err = b""
        self.pending = b""
        self.lines = []         # every raw line, for the escaping checks
        self.records = []       # parsed, in order
        self.taken = 0          # records handed out by next()
        _agents.append(self)

    def _read(self, timeout):
        fds = [self.proc.stdout, self.proc.stderr]
        r, _, _ = select.select(fds, [], [], timeout)
        if not r:
            return False
        if self.proc.stderr in r:
            data = os.read(self.proc.stderr.fileno(), 1 << 16)
            self.err += data
            if self.proc.stdout not in r:
                return bool(data)
        data = os.read(self.proc.stdout.fileno(), 1 << 20)
        if not data:
            return False
        self.pending += data
        while b"\n" in self.pending:
            line, self.pending = self.pending.split(b"\n", 1)
            self.lines.append(line)
            try:
                self.records.append(json.loads(line))
            except ValueError:
                self.records.append({"event": "UNPARSABLE",
                                     "raw": repr(line)})
        return True

    def wait(self, pred, timeout=10.0):
        """Returns the first record not yet taken that pred accepts (the
        ones before it are skipped), or None after timeout seconds."""
        end = time.monotonic() + timeout
        while True:
            for i in range(self.taken, len(self.records)):
                if pred(self.records[i]):
                    self.taken = i + 1
                    return self.records[i]
            left = end - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and \
                    not self._read(0):
                return None
            self._read(min(left, 0.5))

    def ready(self, timeout=10.0):
        """Waits until the USB monitor has scanned what is present."""
        end = time.monotonic() + timeout
        while b"usb: watching" not in self.err:
            left = end - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                return False
            self._read(min(left, 0.5))
        return True

    def event(self, name, timeout=10.0, **match):
        return self.wait(lambda r: r.get("event") == name and
                         all(r.get(k) == v for k, v in match.items()),
                         timeout)

    def drain(self, quiet=0.3):
        """Reads until the agent has said nothing for quiet seconds."""
        while self._read(quiet):
            pass

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        while self._read(0):
            pass
        return self.err.decode(errors="replace")

    def events(self, name):
        return [r for r in self.records if r.get("event") == name]


_agents = []
_loops = []       # (loopdev, image, mountpoint or None)


def _cleanup():
    for a in _agents:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait()
    for loop in _loops:
        if loop.get("mnt"):
            subprocess.run(["umount", "-l", loop["mnt"]], env=real_env(),
                           stderr=subprocess.DEVNULL)
        subprocess.run(["losetup", "-d", loop["dev"]], env=real_env(),
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(loop["dir"], ignore_errors=True)
    _loops.clear()


atexit.register(_cleanup)
for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_s, lambda s, f: sys.exit(1))


def ext4_loop(label, size_mb=32):
    """A fresh ext4 image on a loop device: a dict with dev, major, minor,
    uuid, dir (a private temporary folder) and mnt (set by mount())."""
    d = tempfile.mkdtemp(prefix="lw-usb-")
    img = os.path.join(d, "stick.img")
    with open(img, "wb") as f:
        f.truncate(size_mb << 20)
    sh("mkfs.ext4", "-q", "-F", "-L", label, "-N", "16384", img)
    dev = sh("losetup", "--find", "--show", img)
    loop = {"dev": dev, "dir": d, "mnt": None, "img": img}
    _loops.append(loop)
    st = os.stat(dev)
    loop["major"], loop["minor"] = os.major(st.st_rdev), os.minor(st.st_rdev)
    loop["uuid"] = sh("blkid", "-o", "value", "-s", "UUID", img)
    return loop


def mount(loop, name="USB STICK"):
    """Mounts the loop device on <dir>/<name> (a space in it by default,
    which mountinfo escapes as \\040)."""
    mnt = os.path.join(loop["dir"], name)
    os.makedirs(mnt, exist_ok=True)
    sh("mount", "-t", "ext4", loop["dev"], mnt)
    loop["mnt"] = mnt
    return mnt


def umount(loop):
    sh("umount", loop["mnt"])
    loop["mnt"] = None


def stick_recording(loop=None):
    """The USB stick recording, its partition renumbered to the loop device's
    major:minor and given the image's UUID."""
    with open(os.path.join(FIXTURES, "usb-stick.umockdev")) as f:
        text = f.read()
    if loop is not None:
        text = text.replace("A: dev=259:1\\n", "A: dev=%d:%d\\n" %
                            (loop["major"], loop["minor"]))
        text = re.sub(r"(?m)^E: MAJOR=259$", "E: MAJOR=%d" % loop["major"],
                      text)
        text = re.sub(r"(?m)^E: MINOR=1$", "E: MINOR=%d" % loop["minor"],
                      text)
        text = text.replace("0b1e4d2c-6f4a-4c39-9a43-2f3b0e6f1a55",
                            loop["uuid"])
    return text


STICK_SYSPATH = "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-3"


def remove(testbed, syspath):
    """Unplugs: a remove uevent, then the sysfs tree goes."""
    testbed.uevent(syspath, "remove")
    testbed.remove_device(syspath)


def finish():
    """Checks that every agent run stopped with status 0 (so no sanitizer
    report either), then exits."""
    if _agents:
        codes = [(a.proc.returncode, a.err[-500:]) for a in _agents
                 if a.proc.returncode != 0]
        check(not codes, "every agent run (%d) exited with status 0" %
              len(_agents), codes)
    sys.exit(1 if failures else 0)
