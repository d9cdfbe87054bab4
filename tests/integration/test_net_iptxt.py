#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""scripts/build-ip-txt on small range files in each provider's published
format (written here; documentation prefixes only), the shipped agent/ip.txt,
and the agent loading the result (the filter applied to a fixture capture)."""
import json
import os
import subprocess
import sys
import tempfile

import netcheck
from netcheck import AGENT, ROOT, check

SCRIPT = os.path.join(ROOT, "scripts", "build-ip-txt")
PCAPS = os.path.join(ROOT, "tests", "fixtures", "pcaps")


def main():
    with tempfile.TemporaryDirectory(prefix="lwnet-") as tmp:
        def put(name, text):
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(text)
            return path

        aws = put("ip-ranges.json", json.dumps({
            "syncToken": "1", "prefixes": [
                {"ip_prefix": "198.51.100.0/25", "region": "x",
                 "service": "AMAZON"},
                {"ip_prefix": "198.51.100.0/25", "region": "y",
                 "service": "EC2"}],
            "ipv6_prefixes": [{"ipv6_prefix": "2001:db8:a::/48"}]}))
        goog = put("cloud.json", json.dumps({"prefixes": [
            {"ipv4Prefix": "142.250.0.0/15", "scope": "x"},
            {"ipv6Prefix": "2001:db8:b::/48"}]}))
        azure = put("ServiceTags_Public.json", json.dumps({"values": [
            {"name": "AzureCloud", "properties": {"addressPrefixes": [
                "203.0.113.0/26", "2001:db8:c::/48"]}}]}))
        oracle = put("public_ip_ranges.json", json.dumps({"regions": [
            {"region": "r", "cidrs": [{"cidr": "203.0.113.64/26"}]}]}))
        cf = put("ips-v4", "# cloudflare\n192.0.2.0/24\n192.0.2.1/24\n")
        p = subprocess.run([SCRIPT, "aws=" + aws, "google=" + goog,
                            "azure=" + azure, "oracle=" + oracle,
                            "cloudflare=" + cf], capture_output=True,
                           text=True)
        lines = [l for l in p.stdout.splitlines() if not l.startswith("#")]
        check(lines == ["142.250.0.0/15 google", "192.0.2.0/24 cloudflare",
                        "198.51.100.0/25 aws", "203.0.113.0/26 azure",
                        "203.0.113.64/26 oracle", "2001:db8:a::/48 aws",
                        "2001:db8:b::/48 google", "2001:db8:c::/48 azure"],
              "build-ip-txt: every format read, duplicates once, sorted")
        check(p.returncode == 1 and "192.0.2.1/24" in p.stderr,
              "build-ip-txt: a bad entry is reported and skipped")
        iptxt = put("ip.txt", p.stdout)

        state = os.path.join(tmp, "state")
        a = subprocess.run([AGENT, "--read", os.path.join(
            PCAPS, "zeek_tls13-chrome-kyber-bigCH.pcap"), "--stdout",
            "--format", "json", "--ip-filter", iptxt, "--state-dir", state],
            capture_output=True, text=True, timeout=30)
        recs = [json.loads(l) for l in a.stdout.splitlines()]
        stats = [r for r in recs if r["event"] == "agent.stats"]
        check(a.returncode == 0 and "8 prefixes" in a.stderr and
              not [r for r in recs if r["event"].startswith("flow.")] and
              stats and stats[0]["filtered"] == ["google 1"],
              "the agent loads the built file and filters by it")

        shipped = os.path.join(ROOT, "agent", "ip.txt")
        a = subprocess.run([AGENT, "--read", os.path.join(
            PCAPS, "zeek_tls13-chrome-kyber-bigCH.pcap"), "--stdout",
            "--format", "json", "--ip-filter", shipped, "--state-dir",
            state], capture_output=True, text=True, timeout=30)
        check(a.returncode == 0 and "0 prefixes" in a.stderr and
              "ip.txt:" not in a.stderr.replace(shipped + ": 0", ""),
              "the shipped agent/ip.txt loads without a bad line")
    return 1 if netcheck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
