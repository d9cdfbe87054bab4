"""What the network integration tests share: where the binaries are, and
check(), which prints one TAP-style line per check and counts failures."""
import os

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
