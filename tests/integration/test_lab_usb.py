#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A stick passed from one PC to another: two real agents, each under its
own umockdev testbed (pc01, pc02), one collector.  The stick plugged into
pc01, pulled, plugged into pc02: one lab.usb.moved from pc01 to pc02; the
agent's usb_session ties pc01's usb.add and usb.remove, and the collector
closes the session with lab.usb.session; the index knows the stick on both
PCs."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import usbtb  # noqa: E402

usbtb.reexec()
UMockdev = usbtb.umockdev()
# The collector and tools run without the testbed's preload; the agents
# get it back with their testbed.
# (UMOCKDEV_DIR stays: this process's own preload finds its testbed by it.)
PRELOAD = os.environ.pop('LD_PRELOAD', '')

import lwtest  # noqa: E402
from lwtest import check  # noqa: E402


def start_agent(tb, host, addr):
    os.chmod(tb.get_root_dir(), 0o1777)
    os.environ.update(LD_PRELOAD=PRELOAD, UMOCKDEV_DIR=tb.get_root_dir(),
                      ASAN_OPTIONS='verify_asan_link_order=0:' +
                      os.environ.get('ASAN_OPTIONS', ''))
    try:
        return lwtest.start(
            [lwtest.AGENT, '-f', '--collector', addr, '--host', host,
             '--state-dir', lwtest.tmpdir('astate-' + host), '--no-net'] +
            lwtest.agent_tls_args(host), 'agent-' + host)
    finally:
        os.environ.pop('LD_PRELOAD', None)


def main():
    coll = lwtest.start_collector()
    addr = '127.0.0.1:%d' % coll.port
    # One testbed at a time: the preload follows the newest.
    tb1 = UMockdev.Testbed.new()
    start_agent(tb1, 'pc01', addr)

    def recs(host, ev):
        p = lwtest.log_path(coll, host)
        return [r for r in lwtest.read_records(p, coll.fmt)
                if r.get('event') == ev] if os.path.exists(p) else []

    ok = lwtest.wait_until(lambda: recs('pc01', 'agent.start'), 15)
    check('pc01 connected', ok, lwtest.stderr_text(coll)[-500:])
    tb1.add_from_string(usbtb.stick_recording())
    add1 = lwtest.wait_until(lambda: recs('pc01', 'usb.add'), 10)
    usbtb.remove(tb1, usbtb.STICK_SYSPATH)
    rem1 = lwtest.wait_until(lambda: recs('pc01', 'usb.remove'), 10)
    s1 = add1[0].get('usb_session') if add1 else None
    check('pc01: usb.add and usb.remove carry one usb_session', s1 and
          rem1 and rem1[0].get('usb_session') == s1, (add1, rem1))
    sess = lwtest.wait_until(lambda: recs('lab', 'lab.usb.session'), 5)
    check('the collector closes it: lab.usb.session for pc01', sess and
          sess[0].get('pc') == 'pc01' and sess[0].get('usb_session') == s1 and
          sess[0].get('device_id') == add1[0].get('device_id'), sess)
    check('no lab.usb.moved while the stick was on one PC',
          not recs('lab', 'lab.usb.moved'))

    tb2 = UMockdev.Testbed.new()
    start_agent(tb2, 'pc02', addr)
    ok = lwtest.wait_until(lambda: recs('pc02', 'agent.start'), 15)
    check('pc02 connected', ok, lwtest.stderr_text(coll)[-500:])
    tb2.add_from_string(usbtb.stick_recording())
    add2 = lwtest.wait_until(lambda: recs('pc02', 'usb.add'), 10)
    check('pc02: a new usb_session for the same device_id', add2 and
          add2[0].get('usb_session') not in (None, s1) and
          add2[0].get('device_id') == add1[0].get('device_id'), add2)
    moved = lwtest.wait_until(lambda: recs('lab', 'lab.usb.moved'), 5)
    lwtest.records_quiet(lwtest.log_path(coll, 'lab'), coll.fmt)
    moved = recs('lab', 'lab.usb.moved')
    check('one lab.usb.moved, from pc01 to pc02 with both times',
          len(moved) == 1 and moved[0].get('from_pc') == 'pc01' and
          moved[0].get('to_pc') == 'pc02' and moved[0].get('from_time') and
          moved[0].get('to_time') and
          moved[0].get('device_id') == add1[0].get('device_id'), moved)
    db = os.path.join(coll.statedir, 'index.db')
    ok = lwtest.wait_until(lambda: sqlite3.connect(db).execute(
        'SELECT count(*) FROM usb_device_hosts WHERE device_id = ?',
        (add1[0].get('device_id'),)).fetchone()[0] == 2, 5)
    check('the index: the stick on both PCs', ok)


lwtest.run(main)
