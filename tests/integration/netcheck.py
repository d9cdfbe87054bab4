# SPDX-License-Identifier: ISC
"""What the network integration tests (and the demo) share: where the
binaries are, check(), which prints one TAP-style line per check and counts
failures, and small programs run with python3 -c inside namespaces: a DNS
server and a query (files.example.test CNAME store.example.test A
203.0.113.20), and a TCP sink and sender on port 9000."""
import os
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("B", "build"))
AGENT = os.path.join(BUILD, "labwatch-agent")
COLLECTOR = os.path.join(BUILD, "labwatch-collector")

failed = 0


def check(ok, what):
    """Prints "ok - what" or "not ok - what"; returns ok."""
    global failed
    print(("ok - " if ok else "not ok - ") + what)
    if not ok:
        failed += 1
    return ok

def wait_capturing(err_path, dev="eth0", timeout=5.0):
    """Waits until the agent writing stderr to err_path says it captures
    on dev; whether it did within timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        time.sleep(0.1)
        with open(err_path) as f:
            if "capturing on " + dev in f.read():
                return True
    return False


DNS_SERVER = r'''
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    qid, = struct.unpack("!H", q[:2])
    end = q.index(b"\0", 12) + 5
    question = q[12:end]
    # Answer: files.example.test CNAME store.example.test A 203.0.113.20
    cname = b"\x05store\x07example\x04test\x00"
    ans = (b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, len(cname)) + cname
           + b"\xc0" + bytes([12 + len(question) + 12])
           + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([203, 0, 113, 20]))
    s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 2, 0, 0) + question + ans,
             peer)
'''

DNS_QUERY = r'''
import socket, struct
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"\x05files\x07example\x04test\x00" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, ("198.51.100.10", 53))
r = s.recv(512)
print(len(r))
'''

SINK = r'''
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 9000))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
c.close()
print(n, flush=True)
'''

SEND = r'''
import socket, sys
s = socket.create_connection((sys.argv[1], 9000), timeout=10)
s.sendall(b"x" * int(sys.argv[2]))
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
'''
