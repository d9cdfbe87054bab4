#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Replays every capture in tests/fixtures/pcaps (provenance in its
MANIFEST.tsv and README; the lw_* ones are written by
tests/tools/make-captures) through labwatch-agent --read and compares its
records with X.expect.jsonl, which tests/tools/tshark-expect derives from
tshark's per-packet fields (SYN sender, IP lengths, names, Community ID),
not from labwatch: every flow and device record and the packet counts of
agent.stats, exactly.  With tshark installed the expectations are derived
again and must equal the checked-in files.

The hand-made captures carry the cases of issue 11, also checked by hand
below: a connection idle 3 s keeps its initiator; an NFS client on port
880 stays the initiator after a pause; two SNIs to one address within the
idle time are both named; QUIC and TLS to one address are both named.
And issue 9's: a forged DNS answer sent to the whole segment (or to a
multicast group, or unsolicited, or late) names nothing, while the answer
to a real query still names its flow.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import netcheck
import lwtest
from netcheck import AGENT, COLLECTOR, ROOT, check

PCAPS = os.path.join(ROOT, "tests", "fixtures", "pcaps")
EXPECT = os.path.join(ROOT, "tests", "tools", "tshark-expect")
MAKE = os.path.join(ROOT, "tests", "tools", "make-captures")
# The options of each variant (tests/tools/tshark-expect's VARIANTS).
VARIANTS = {"zeek_http-arp-lan-nsec.pcapng": {"idle100": ["--flow-idle",
                                                          "100"]}}
REFUSED = "zeek_pcapng-126idb-vlan-ipv6.pcapng"
# Fields compared: all but those that only restate others or the run.
SKIP_FIELDS = {"ts", "host", "seq", "duration", "vendor"}


def replay(name, *extra):
    state = tempfile.mkdtemp(prefix="lwnet-state-")
    try:
        p = subprocess.run([AGENT, "--read", os.path.join(PCAPS, name),
                            "--stdout", "--format", "json", "--host", "t",
                            "--ip-filter", "/dev/null", "--state-dir", state]
                           + list(extra), capture_output=True, text=True,
                           timeout=60)
    finally:
        shutil.rmtree(state)
    # Built with SANITIZE=1 (make check's build-san), a report fails.
    if re.search(r"ERROR: \w+Sanitizer|runtime error:", p.stderr):
        check(False, "%s: no sanitizer report: %s" % (
            name, p.stderr.strip()[-400:].replace("\n", " | ")))
    recs = []
    for line in p.stdout.splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            recs.append({"event": "UNPARSABLE", "line": line})
    return p.returncode, recs, p.stderr


def comparable(recs):
    """The records tshark-expect predicts, canonical and sorted."""
    out = []
    for r in recs:
        if r["event"].startswith("flow.") or r["event"] == "net.device":
            out.append({k: v for k, v in r.items() if k not in SKIP_FIELDS})
        elif r["event"] == "agent.stats":
            out.append({k: r[k] for k in ("event", "packets",
                                          "fragments_unplaced",
                                          "conversations")})
    return sorted(json.dumps(x, sort_keys=True) for x in out)


def expected(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f]


def flows(recs):
    return [r for r in recs if r["event"].startswith("flow.")]


def manifest_packets():
    counts = {}
    with open(os.path.join(PCAPS, "MANIFEST.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            cols = dict(zip(head, line.rstrip("\n").split("\t")))
            counts[cols["filename"]] = int(cols["packets"])
    return counts


def tshark_frames(name):
    """(frames <-, frames ->) of the one IPv4 conversation tshark saw."""
    with open(os.path.join(PCAPS, name + ".conv.txt")) as f:
        text = f.read()
    m = re.search(r"IPv4 Conversations.*?\n\S+\s+<-> \S+\s+(\d+) .*?"
                  r"\s(\d+) \d+ \S+\s+\d+ \d+ ", text, re.S)
    return (int(m.group(1)), int(m.group(2))) if m else None


def captures():
    return sorted(f for f in os.listdir(PCAPS)
                  if f.endswith((".pcap", ".pcapng")))


def check_capture(name, path, extra=()):
    rc, recs, err = replay(name, *extra)
    label = name + (" " + " ".join(extra) if extra else "")
    check(rc == 0, "%s: exit status 0 (got %d: %s)" % (
        label, rc, err.strip()[-200:].replace("\n", " | ")))
    check(all(r["event"] != "UNPARSABLE" for r in recs),
          "%s: every line is JSON" % label)
    got, want = comparable(recs), expected(path)
    check(got == want, "%s: %d records as tshark-expect derived" %
          (label, len(want)))
    if got != want:
        for line in sorted(set(want) - set(got)):
            print("#   want %s" % line)
        for line in sorted(set(got) - set(want)):
            print("#   got  %s" % line)
    return recs


def check_issue_cases():
    """The captures of issue 11, by what make-captures wrote into them."""
    f = flows(replay("lw_tcp-idle-resume.pcap")[1])
    check(len(f) == 3 and all((r["src"], r["dst"], r["dport"]) ==
                              ("192.168.1.10", "10.10.10.31", 9001)
                              for r in f) and
          sum(r["packets_in"] for r in f) == 5,
          "idle 3 s, resumed by the server: one initiator in all %d "
          "records" % len(f))
    f = flows(replay("lw_nfs-pause.pcap")[1])
    check(len(f) == 3 and all((r["src"], r["dport"]) ==
                              ("192.168.0.26", 2049) for r in f),
          "NFS client 880 -> 2049 after a 2.6 s pause: still the initiator")
    f = flows(replay("lw_two-sni-one-server.pcap")[1])
    check(len(f) == 1 and f[0]["connections"] == 2 and
          f[0]["names"] == ["www.school-portal.example",
                            "games.blocked.example",
                            "portal.school.example"] and
          f[0]["name"] == "www.school-portal.example",
          "two SNIs to one address: both named, then the DNS name")
    f = {r["proto"]: r for r in flows(replay(
        "lw_quic-and-tls-one-server.pcap")[1])}
    check(set(f) == {"udp", "tcp"} and
          f["udp"]["names"] == ["video.example.com", "chat.example.com"] and
          f["tcp"]["names"] == ["www.example.com"],
          "QUIC (two connections) and TLS to one address: every name")
    recs = replay("lw_dns-forged.pcap")[1]
    named = {r["dst"]: r.get("name") for r in flows(recs)}
    stats = [r for r in recs if r["event"] == "agent.stats"]
    check(named == {"198.51.100.%d" % i: None for i in range(66, 70)} |
          {"198.51.100.70": "news.example"},
          "DNS answers broadcast, multicast, unsolicited or late name "
          "nothing; the answer to a real query names its flow: %r" % named)
    # make-captures writes five answers, one of them real.
    check(len(stats) == 1 and stats[0].get("dns_ignored") == 4,
          "agent.stats: dns_ignored 4 (got %r)" %
          (stats[0].get("dns_ignored") if stats else None))
    f = flows(replay("lw_http-many-hosts.pcap")[1])
    check(len(f) == 1 and len(f[0]["names"]) == 16 and
          f[0]["names"][15] == "site15.example" and
          f[0]["names_more"] == 4,
          "20 HTTP Hosts: 16 listed, names_more 4")


def main():
    if not os.path.isdir(PCAPS):
        print("not ok - captures missing at " + PCAPS)
        return 1
    packets = manifest_packets()
    for name in captures():
        path = os.path.join(PCAPS, name + ".expect.jsonl")
        check(os.path.exists(path), "%s: has expectations" % name)
        if not os.path.exists(path):
            continue
        recs = check_capture(name, path)
        stats = [r for r in recs if r["event"] == "agent.stats"]
        if name in packets:
            # libpcap refuses one file: nothing read, as tshark-expect says.
            want = 0 if name == REFUSED else packets[name]
            check(len(stats) == 1 and stats[0]["packets"] == want,
                  "%s: agent.stats counts %d packets (the manifest's "
                  "%d)" % (name, want, packets[name]))
        check(all(r["end"] >= r["start"] and
                  re.fullmatch(r"1:[A-Za-z0-9+/]{27}=", r["community_id"])
                  for r in flows(recs)),
              "%s: end >= start, a community_id on every flow" % name)
        for v, extra in VARIANTS.get(name, {}).items():
            check_capture(name, os.path.join(
                PCAPS, "%s.%s.expect.jsonl" % (name, v)), extra)
    check_issue_cases()

    # The expectations are what the scripts write today.
    tmp = tempfile.mkdtemp(prefix="lwcap-")
    try:
        p = subprocess.run([MAKE, tmp], capture_output=True, text=True)
        same = p.returncode == 0 and all(
            open(os.path.join(tmp, f), "rb").read() ==
            open(os.path.join(PCAPS, f), "rb").read()
            for f in os.listdir(tmp))
        check(same and len(os.listdir(tmp)) >= 5,
              "make-captures writes the checked-in lw_* captures %s" %
              p.stderr.strip()[-200:])
    finally:
        shutil.rmtree(tmp)
    if shutil.which("tshark") is None:
        print("# skip - tshark not installed: the expectations are not "
              "derived again (apt-get install tshark)")
    else:
        p = subprocess.run([EXPECT, "--check"], capture_output=True,
                           text=True)
        check(p.returncode == 0, "tshark-expect --check: the checked-in "
              "expectations are what tshark gives today %s" %
              (p.stdout + p.stderr).strip()[-300:])

    # Single-conversation captures: tshark's own conversation table agrees.
    for name in ("zeek_smb2-read.pcap", "zeek_tcp-bulk-snap96-lan.pcap",
                 "zeek_tcp-truncated-snap68.pcap",
                 "zeek_tls12-decryption-heise.pcap",
                 "zeek_vlan-collisions.pcap",
                 "sv_tls-clienthello-split-mtu300.pcap"):
        want = tshark_frames(name)
        got = flows(replay(name)[1])
        check(want is not None and len(got) == 1 and
              sorted((got[0]["packets_out"], got[0]["packets_in"])) ==
              sorted(want), "%s: packets match tshark's conv table %r" %
              (name, want))

    # 126 interface blocks of mixed link types: libpcap refuses the file;
    # the agent says so and still ends cleanly.
    rc, recs, err = replay(REFUSED)
    check(rc == 0 and "different from" in err,
          "126-IDB pcapng: libpcap's refusal reported, exit 0")

    # ip.txt: the listed range is not logged but counted per label.
    tmp = tempfile.mkdtemp(prefix="lwnet-")
    try:
        path = os.path.join(tmp, "ip.txt")
        with open(path, "w") as f:
            f.write("# test\n142.250.0.0/15 google\nbogus line here\n")
        rc, recs, err = replay("zeek_tls13-chrome-kyber-bigCH.pcap",
                               "--ip-filter", path)
        stats = [r for r in recs if r["event"] == "agent.stats"]
        check(rc == 0 and flows(recs) == [] and
              stats[0]["filtered"] == ["google 1"],
              "ip.txt: filtered conversation counted under its label")
        check(path + ":3:" in err, "ip.txt: bad line reported as file:line")

        # --flow-idle 100 (its expectations: the idle100 variant above)
        # joins the nine DVWA conversations, an interim record first.
        f = flows(replay("zeek_http-arp-lan-nsec.pcapng", "--flow-idle",
                         "100")[1])
        nine = [json.loads(line) for line in expected(os.path.join(
            PCAPS, "zeek_http-arp-lan-nsec.pcapng.expect.jsonl"))]
        nine = [r for r in nine if r["event"].startswith("flow.")]
        check(len(nine) == 9 and len(f) == 2 and f[0]["final"] is False and
              f[1]["final"] is True and all(
                  f[1][k] == sum(r[k] for r in nine) for k in (
                      "packets_out", "bytes_out", "packets_in", "bytes_in")),
              "--flow-idle 100: one conversation, an interim record, the "
              "sums of the nine")

        # --collector: exits once the collector has acknowledged all.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        logs = os.path.join(tmp, "logs")
        os.mkdir(logs)
        col = subprocess.Popen([COLLECTOR, "-f", "-l", "127.0.0.1:%d" % port,
                                "-d", logs, "--format", "json",
                                "--state-dir", os.path.join(tmp, "cstate")]
                               + lwtest.collector_tls_args(),
                               stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            p = subprocess.run([AGENT, "--read",
                                os.path.join(PCAPS, "zeek_ssh-multi.pcap"),
                                "--collector", "127.0.0.1:%d" % port,
                                "--host", "pcr", "-f", "--ip-filter",
                                "/dev/null", "--state-dir", tmp]
                               + lwtest.agent_tls_args("pcr"),
                               capture_output=True, text=True, timeout=30)
            check(p.returncode == 0, "--collector: exit 0 after the ACKs")
            time.sleep(0.3)
            with open(os.path.join(logs, "pcr.log")) as f:
                got = [json.loads(l) for l in f]
            n = len(flows(got))
            want = len([x for x in expected(os.path.join(
                PCAPS, "zeek_ssh-multi.pcap.expect.jsonl"))
                if '"flow.' in x])
            check(n == want and n > 0,
                  "--collector: all %d conversations stored (got %d)" %
                  (want, n))
        finally:
            col.terminate()
            col.wait()
    finally:
        shutil.rmtree(tmp)
    return 1 if netcheck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
