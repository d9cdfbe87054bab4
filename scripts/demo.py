#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""make demo: a whole virtual lab on this machine, with the real binaries.

A collector and four lab PCs, each in its own network namespace on one
switch (a bridge), and an "internet" host on documentation addresses:

  srv   10.77.0.1       labwatch-collector, logs in build/demo/logs
  pc01  10.77.0.11      an agent; a (mocked) USB stick is plugged in, a
                        real ext4 image stands in for it, files go on it
  pc02  10.77.0.12      an agent; sends a file to pc03 over the LAN
  pc03  10.77.0.13      an agent; looks up a name, browses over HTTPS
  pc04  10.77.0.14      appears halfway: a new device on the lab network
  inet  198.51.100.10   a DNS server; 203.0.113.20 an HTTPS server (SNI)

The link is TLS on a lab CA made with scripts/labwatch-ca: pc02 and pc03
get certificates issued by the admin, pc01 enrols itself with the lab's
enrolment secret (its key never leaves it).
Halfway the collector is killed and restarted: the agents spool meanwhile,
and tests/lwcheck.py shows at the end that every record arrived once.
The USB stick needs umockdev, so this script runs itself under
umockdev-wrapper; only pc01's agent sees the mocked devices.
Needs root (namespaces, loop devices).  Env B: the build folder.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import usbtb  # noqa: E402  (the tests' umockdev testbed and loop images)

usbtb.reexec()
import lwcheck  # noqa: E402
from netcheck import DNS_QUERY, DNS_SERVER, SEND, SINK  # noqa: E402

BUILD = os.path.join(ROOT, os.environ.get("B", "build"))
DEMO = os.path.join(BUILD, "demo")
LOGS = os.path.join(DEMO, "logs")
PORT = 7514
P = "lwdemo"
PCS = {"pc01": "10.77.0.11", "pc02": "10.77.0.12", "pc03": "10.77.0.13"}
procs = {}


def ns(name):
    return "%s-%s" % (P, name)


def sh(*args, host=None, check=True, env=None, **kw):
    cmd = (["ip", "netns", "exec", ns(host)] if host else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       env=env or usbtb.real_env(), **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.strip()))
    return p.stdout


def bg(name, *args, host, env=None, **kw):
    """Starts a daemon in a host's namespace; its stderr goes to a file."""
    err = open(os.path.join(DEMO, name + ".err"), "ab")
    procs[name] = subprocess.Popen(
        ["ip", "netns", "exec", ns(host)] + list(args), stderr=err,
        env=env or usbtb.real_env(), **kw)
    return procs[name]


def stop(name, sig=signal.SIGTERM):
    p = procs.pop(name, None)
    if p is not None and p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def say(text):
    print("\n\033[1m== %s\033[0m" % text, flush=True)


def teardown():
    for name in list(procs):
        stop(name)
    for n in ("sw", "srv", "inet", "pc04") + tuple(PCS):
        subprocess.run(["ip", "netns", "del", ns(n)], capture_output=True)


def add_host(name, addrs, mac=None):
    sh("ip", "netns", "add", ns(name))
    sh("ip", "-n", ns("sw"), "link", "add", "p-" + name, "type", "veth",
       "peer", "name", "eth0", "netns", ns(name))
    sh("ip", "-n", ns("sw"), "link", "set", "p-" + name, "master", "br0",
       "up")
    if mac:
        sh("ip", "-n", ns(name), "link", "set", "eth0", "address", mac)
    for a in addrs:
        sh("ip", "-n", ns(name), "addr", "add", a, "dev", "eth0")
    sh("ip", "-n", ns(name), "link", "set", "eth0", "up")
    sh("ip", "-n", ns(name), "link", "set", "lo", "up")


def setup_lab():
    teardown()
    sh("ip", "netns", "add", ns("sw"))
    sh("ip", "-n", ns("sw"), "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", ns("sw"), "link", "set", "br0", "up")
    add_host("srv", ["10.77.0.1/24"])
    for pc, addr in PCS.items():
        add_host(pc, [addr + "/24"])
        # The "internet" is on the wire: no router to set up.
        for net in ("198.51.100.0/24", "203.0.113.0/24"):
            sh("ip", "-n", ns(pc), "route", "add", net, "dev", "eth0")
    add_host("inet", ["198.51.100.10/24", "203.0.113.20/24"])
    sh("ip", "-n", ns("inet"), "route", "add", "10.77.0.0/24", "dev",
       "eth0")


CA = os.path.join(DEMO, "ca")
LABWATCH_CA = os.path.join(ROOT, "scripts", "labwatch-ca")


def make_ca():
    """The lab CA, the collector's certificate, the enrolment secret;
    certificates for pc02 and pc03 (pc01 enrols itself)."""
    sh(LABWATCH_CA, "init", CA)
    sh(LABWATCH_CA, "server", CA, "10.77.0.1")
    sh(LABWATCH_CA, "secret", CA)
    for pc in ("pc02", "pc03"):
        sh(LABWATCH_CA, "issue", CA, pc)
        tls_files(pc, os.path.join(CA, "hosts", pc))
    # What a PC's image carries: the CA certificate and the secret.
    tls_files("pc01", None)
    shutil.copy(os.path.join(CA, "enroll.secret"),
                os.path.join(DEMO, "pcs", "pc01", "enroll.secret"))
    # The collector runs as labwatch (nobody here): enrolment signs in
    # the CA folder, a reload rereads its files.
    import pwd
    try:
        pw = pwd.getpwnam("labwatch")
    except KeyError:
        pw = pwd.getpwnam("nobody")
    for d, _, files in os.walk(CA):
        os.chown(d, pw.pw_uid, pw.pw_gid)
        for f in files:
            os.chown(os.path.join(d, f), pw.pw_uid, pw.pw_gid)


def tls_files(pc, stem):
    """A PC's /etc/labwatch/tls: the CA, and its pair when issued."""
    d = os.path.join(DEMO, "pcs", pc)
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(CA, "ca.crt"), d)
    if stem:
        shutil.copy(stem + ".crt", os.path.join(d, "agent.crt"))
        shutil.copy(stem + ".key", os.path.join(d, "agent.key"))


def agent_tls(pc):
    d = os.path.join(DEMO, "pcs", pc)
    return ["--tls-ca", os.path.join(d, "ca.crt"),
            "--tls-cert", os.path.join(d, "agent.crt"),
            "--tls-key", os.path.join(d, "agent.key")]


CONTROL = os.path.join(DEMO, "collector.sock")


def write_conf(path, settings):
    """A configuration file as an admin writes one: key value lines."""
    with open(path, "w") as f:
        f.write("# written by make demo (labwatch.conf(5))\n")
        for key, value in settings:
            f.write("%s %s\n" % (key, value))
    return path


def start_collector():
    conf = write_conf(os.path.join(DEMO, "collector.conf"), [
        ("listen", "10.77.0.1:%d" % PORT), ("log-dir", LOGS),
        ("state-dir", os.path.join(DEMO, "collector-state")),
        ("control", CONTROL),
        ("tls-ca", os.path.join(CA, "ca.crt")),
        ("tls-cert", os.path.join(CA, "servers", "10.77.0.1.crt")),
        ("tls-key", os.path.join(CA, "servers", "10.77.0.1.key")),
        ("tls-crl", os.path.join(CA, "crl.pem")),
        ("enroll-hosts", "pc[01-40]"),
        ("enroll-secret", os.path.join(CA, "enroll.hash")),
        ("enroll-ca", CA)])
    bg("collector", os.path.join(BUILD, "labwatch-collector"), "-f",
       "--config", conf, host="srv")
    time.sleep(0.3)


def start_agent(pc, env=None):
    d = os.path.join(DEMO, "pcs", pc)
    conf = write_conf(os.path.join(d, "agent.conf"), [
        ("collector", "10.77.0.1:%d" % PORT), ("host", pc),
        ("state-dir", os.path.join(DEMO, "state", pc)),
        ("heartbeat", 2), ("reconnect-max", 2),
        ("ip-filter", os.path.join(ROOT, "agent", "ip.txt")),
        ("tls-ca", os.path.join(d, "ca.crt")),
        ("tls-cert", os.path.join(d, "agent.crt")),
        ("tls-key", os.path.join(d, "agent.key"))])
    bg("agent-" + pc, os.path.join(BUILD, "labwatch-agent"), "-f",
       "--config", conf, host=pc, env=env)


def labwatchctl(*args):
    """Runs scripts/labwatchctl on the demo collector's control socket."""
    print(sh(os.path.join(ROOT, "scripts", "labwatchctl"), "-s", CONTROL,
             *args), end="")


def lab_has(text):
    return log_has("lab", text)


def wait_for(pred, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def log_has(pc, text):
    try:
        with open(os.path.join(LOGS, pc + ".log")) as f:
            return text in f.read()
    except OSError:
        return False


def main():
    if os.geteuid() != 0:
        print("demo: needs root for network namespaces and loop devices")
        return 1
    shutil.rmtree(DEMO, ignore_errors=True)
    os.makedirs(LOGS)
    os.makedirs(os.path.join(DEMO, "state"))
    UMockdev = usbtb.umockdev()

    say("The lab: a collector, pc01-pc03 on one switch, an internet host")
    setup_lab()
    for n, a in list(PCS.items()) + [("srv", "10.77.0.1"),
                                     ("inet", "198.51.100.10")]:
        print("  %-5s %s" % (n, a))
    bg("dns", sys.executable, "-c", DNS_SERVER, host="inet",
       stdout=subprocess.DEVNULL)
    certdir = os.path.join(DEMO, "tls")
    os.makedirs(certdir)
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
       "-subj", "/CN=www.example.test", "-keyout",
       os.path.join(certdir, "key.pem"), "-out",
       os.path.join(certdir, "cert.pem"))
    bg("https", "openssl", "s_server", "-quiet", "-www", "-accept", "443",
       "-cert", os.path.join(certdir, "cert.pem"), "-key",
       os.path.join(certdir, "key.pem"), host="inet",
       stdout=subprocess.DEVNULL)

    say("The lab CA: the collector's certificate, pc02's and pc03's, "
        "the enrolment secret")
    make_ca()
    sys.stdout.write(sh(LABWATCH_CA, "list", CA))

    say("Starting the collector; pc01 enrols with the lab's secret")
    start_collector()
    sh(*[os.path.join(BUILD, "labwatch-agent"), "--enroll",
         "10.77.0.1:%d" % PORT, "--host", "pc01", "--enroll-secret",
         os.path.join(DEMO, "pcs", "pc01", "enroll.secret")] +
       agent_tls("pc01"), host="pc01")
    print("  pc01 made its key, the collector signed its request")
    sys.stdout.write(sh(LABWATCH_CA, "list", CA))

    say("Starting the agents (TLS, each with its own certificate)")
    # Only pc01's agent sees the umockdev testbed: the USB PC.
    tb = UMockdev.Testbed.new()
    # The agent's unprivileged worker makes its uevent socket there.
    os.chmod(tb.get_root_dir(), 0o1777)
    start_agent("pc01", env=dict(os.environ,
                                 UMOCKDEV_DIR=tb.get_root_dir()))
    for pc in ("pc02", "pc03"):
        start_agent(pc)
    for pc in PCS:
        wait_for(lambda: log_has(pc, "agent.start"))
    time.sleep(1)

    say("pc01: a USB stick is plugged in and mounted; files go on it")
    loop = usbtb.ext4_loop("LABSTICK")
    tb.add_from_string(usbtb.stick_recording(loop))
    wait_for(lambda: log_has("pc01", "usb.add"))
    # pc01's own mount namespace (ip netns exec made one for its agent).
    in_pc01 = ["nsenter", "-t", str(procs["agent-pc01"].pid), "-m"]
    mnt = os.path.join(loop["dir"], "EXAM STICK")
    os.makedirs(mnt)
    sh(*in_pc01, "mount", "-t", "ext4", loop["dev"], mnt)
    wait_for(lambda: log_has("pc01", "usb.mount"))
    sh(*in_pc01, "sh", "-c", 'cp /etc/services "$1/answers.txt" && '
       'cat "$1/answers.txt" >/dev/null', "sh", mnt)
    print("  copied answers.txt onto the stick, read it back")
    wait_for(lambda: log_has("pc01", "usb.read"))
    sh(*in_pc01, "umount", mnt)
    wait_for(lambda: log_has("pc01", "usb.unmount"))
    usbtb.remove(tb, usbtb.STICK_SYSPATH)
    wait_for(lambda: log_has("pc01", "usb.remove"))

    say("pc02 sends a 2 MB file to pc03 over the LAN")
    sink = subprocess.Popen(["ip", "netns", "exec", ns("pc03"),
                             sys.executable, "-c", SINK],
                            stdout=subprocess.PIPE, text=True,
                            env=usbtb.real_env())
    time.sleep(0.3)
    sh(sys.executable, "-c", SEND, "10.77.0.13", str(2 * 1000 * 1000),
       host="pc02")
    print("  pc03 received %s bytes" %
          sink.communicate(timeout=10)[0].split()[-1])

    say("pc03 looks up files.example.test and browses www.example.test")
    print("  an answer of %s bytes" %
          sh(sys.executable, "-c", DNS_QUERY, host="pc03").strip())
    sh("openssl", "s_client", "-connect", "203.0.113.20:443",
       "-servername", "www.example.test", input="GET / HTTP/1.0\r\n\r\n",
       host="pc03", check=False)
    print("  HTTPS with SNI www.example.test to 203.0.113.20")

    say("The collector crashes (kill -9); pc02 copies more meanwhile")
    stop("collector", signal.SIGKILL)
    sink = subprocess.Popen(["ip", "netns", "exec", ns("pc01"),
                             sys.executable, "-c", SINK],
                            stdout=subprocess.PIPE, text=True,
                            env=usbtb.real_env())
    time.sleep(0.3)
    sh(sys.executable, "-c", SEND, "10.77.0.11", "500000", host="pc02")
    sink.communicate(timeout=10)
    time.sleep(3)

    say("A new device appears on the lab network: pc04")
    add_host("pc04", ["10.77.0.14/24"], mac="00:50:56:12:34:56")
    sh("ping", "-c", "2", "-i", "0.2", "10.77.0.11", host="pc04",
       check=False)
    time.sleep(1)

    say("The collector is back; the agents resend what it missed")
    start_collector()
    wait_for(lambda: all(log_has(pc, "net.device") for pc in PCS), 15)
    time.sleep(3)

    say("The admin's view: labwatchctl hosts")
    labwatchctl("hosts")

    say("pc03 goes to sleep; the admin wakes it: labwatchctl wake pc03")
    stop("agent-pc03")
    wait_for(lambda: log_has("pc03", "host.disconnect"), 5)
    time.sleep(0.5)
    labwatchctl("wake", "pc03")
    wait_for(lambda: lab_has("lab.command"), 5)
    print("  pc03 boots (its agent starts again)")
    start_agent("pc03")
    if wait_for(lambda: lab_has("host.woke"), 10):
        print("  " + [l for l in open(os.path.join(LOGS, "lab.log"))
                      if "host.woke" in l][-1].strip())

    say("The lab log (%s)" % os.path.join(LOGS, "lab.log"))
    with open(os.path.join(LOGS, "lab.log")) as f:
        sys.stdout.write(f.read())

    say("Devices the lab saw, new until marked: labwatchctl devices")
    labwatchctl("devices")

    say("The agents stop")
    for pc in PCS:
        stop("agent-" + pc)
    time.sleep(1)

    for pc in PCS:
        say("Log of %s (%s)" % (pc, os.path.join(LOGS, pc + ".log")))
        with open(os.path.join(LOGS, pc + ".log")) as f:
            sys.stdout.write(f.read())

    say("Every record exactly once, in order (tests/lwcheck.py)")
    problems = lwcheck.check_dir(LOGS)
    for p in problems:
        print("  " + p)
    print("  %s" % ("no problems" if not problems else
                    "%d problems" % len(problems)))
    print("  Logs stay in %s; tail one live with tail -F." % LOGS)
    say("labwatchctl hosts: every PC seen, now offline")
    labwatchctl("hosts")
    stop("collector")
    return 1 if problems else 0


if __name__ == "__main__":
    rc = 1
    try:
        rc = main()
    finally:
        teardown()
    sys.exit(rc)
