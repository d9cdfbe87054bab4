#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""tests/lwcheck.py, the exactly-once checker, against crafted host logs:
it must pass good logs (text and JSON, rotated pairs, gaps that an
agent.dropped record accounts for) and catch duplicates, reordering,
unexplained gaps, wrong agent.dropped records and torn lines; and
check_union (agents with several collectors) must pass a stream split
between two collectors and catch a number in neither or twice in one."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import lwcheck  # noqa: E402
from lwtest import check, run, tmpdir  # noqa: E402

TS = '2026-11-22T04:05:06.123456Z'
STREAM = '00000000000000aa'


def line(fmt, host, event, seq=None, **fields):
    """One log line as the collector writes it."""
    if fmt == 'json':
        rec = {'ts': TS, 'host': host}
        if seq is not None:
            rec['seq'] = seq
        rec['event'] = event
        rec.update(fields)
        return json.dumps(rec, separators=(',', ':'))
    out = [TS, host, event]
    if seq is not None:
        out.append('seq=%d' % seq)
    for k, v in fields.items():
        v = str(v)
        if ' ' in v or '"' in v or not v:
            v = '"' + v.replace('\\', '\\\\').replace('"', '\\"') + '"'
        out.append('%s=%s' % (k, v))
    return ' '.join(out)


def records(fmt, host, seqs, stream=STREAM):
    """A connect line, then agent records with these sequence numbers; an
    int is a plain record, a tuple (seq, first, last, count) agent.dropped."""
    out = [line(fmt, host, 'host.connect', peer='127.0.0.1:4000',
                stream=stream, resume_after=0)]
    for s in seqs:
        if isinstance(s, tuple):
            out.append(line(fmt, host, 'agent.dropped', s[0],
                            first_seq=s[1], last_seq=s[2], count=s[3],
                            reason='spool full'))
        else:
            out.append(line(fmt, host, 'agent.selftest', s, n=s,
                            note='x seq=1 count=9'))
    return out


def write(d, name, lines, newline=True):
    with open(os.path.join(d, name), 'w') as f:
        f.write('\n'.join(lines) + ('\n' if newline else ''))


def problems_for(fmt, files, **kw):
    """Writes {name: lines} to a fresh folder and runs check_dir on it."""
    d = tmpdir('lwcheck-' + fmt)
    for name, lines in files.items():
        write(d, name, lines)
    return lwcheck.check_dir(d, **kw)


def expect(fmt, what, files, want_bad, word=None, **kw):
    probs = problems_for(fmt, files, **kw)
    if not want_bad:
        check('%s: %s: no problem' % (fmt, what), probs == [], probs)
        return
    check('%s: %s: caught' % (fmt, what),
          probs and (word is None or any(word in p for p in probs)), probs)


# One pc01.log each: (what, sequence numbers as records() takes them, the
# word a problem must hold or None for a clean log, check_dir options).
SINGLE = [
    ('a duplicate', [1, 2, 3, 3, 4], 'duplicate', {}),
    ('a reorder', [1, 2, 4, 3, 5], 'out of order', {}),
    ('a gap', [1, 2, 5, 6], '3..4 missing', {}),
    ('a missing first record', [2, 3], '1..1 missing', {}),
    ('a gap explained by agent.dropped', [1, 2, 5, 6, (7, 3, 4, 2), 8],
     None, {'expect_last': 8}),
    ('oldest records dropped, explained', [(101, 1, 100, 100), 102], None,
     {}),
    ('a gap covered by two adjacent agent.dropped',
     [1, 9, (10, 2, 4, 3), (11, 5, 8, 4)], None, {}),
    ('agent.dropped with a wrong count', [1, 2, 5, (6, 3, 4, 3)], 'count=3',
     {}),
    ('agent.dropped wider than the gap', [1, 2, 5, (6, 3, 5, 3)],
     'not exactly a run', {}),
    ('agent.dropped narrower than the gap', [1, 2, 6, (7, 3, 4, 2)],
     'missing', {}),
    ('agent.dropped but nothing missing', [1, 2, 3, (4, 10, 11, 2)],
     'not exactly a run', {}),
    ('a short stream against --expect-last', range(1, 8), '8..10 missing',
     {'expect_last': 10}),
    ('a stream that starts where expected', range(5, 9), None, {'first': 5}),
]


def formats(fmt):
    h = 'pc01'
    expect(fmt, 'a clean stream of 1..50 with collector records', {
        'pc01.log': records(fmt, h, range(1, 51)) +
        [line(fmt, h, 'host.offline', silence=31),
         line(fmt, h, 'host.online'),
         line(fmt, h, 'host.disconnect', reason='closed', records=50)]},
        False, expect_last=50)
    for what, seqs, word, kw in SINGLE:
        expect(fmt, what, {'pc01.log': records(fmt, h, seqs)},
               word is not None, word, **kw)
    expect(fmt, 'a duplicate after a reconnect', {
        'pc01.log': records(fmt, h, [1, 2, 3]) + records(fmt, h, [3, 4])},
        True, 'seq 3 after 3')
    expect(fmt, 'a rotated pair, older first', {
        'pc01.log.1': records(fmt, h, range(1, 6)),
        'pc01.log': records(fmt, h, range(6, 11))}, False, expect_last=10)
    expect(fmt, 'three rotated files', {
        'pc01.log.2': records(fmt, h, range(1, 4)),
        'pc01.log.1': records(fmt, h, range(4, 8)),
        'pc01.log': records(fmt, h, range(8, 11))}, False, expect_last=10)
    expect(fmt, 'a duplicate across a rotated pair', {
        'pc01.log.1': records(fmt, h, range(1, 6)),
        'pc01.log': records(fmt, h, range(5, 11))}, True, 'duplicate')
    expect(fmt, 'a gap across a rotated pair', {
        'pc01.log.1': records(fmt, h, range(1, 6)),
        'pc01.log': records(fmt, h, range(7, 11))}, True, '6..6 missing')
    expect(fmt, 'a gap across a rotated pair explained', {
        'pc01.log.1': records(fmt, h, range(1, 6)),
        'pc01.log': records(fmt, h, [7, 8, (9, 6, 6, 1)])}, False)
    expect(fmt, 'a second stream of the host starting at 1', {
        'pc01.log': records(fmt, h, [1, 2]) +
        records(fmt, h, [1, 2, 3], stream='00000000000000bb')}, False)
    expect(fmt, 'a record of another host', {
        'pc01.log': records(fmt, h, [1, 2]) +
        [line(fmt, 'pc02', 'agent.selftest', 3)]}, True, "host 'pc02'")
    expect(fmt, 'a host fine, another one broken', {
        'pc01.log': records(fmt, h, [1, 2]),
        'pc02.log': records(fmt, 'pc02', [1, 1])}, True, 'pc02: ')

    d = tmpdir('lwcheck-torn-' + fmt)
    lines = records(fmt, h, [1, 2, 3])
    write(d, 'pc01.log', lines[:-1] + [lines[-1][:20]], newline=False)
    probs = lwcheck.check_dir(d)
    check('%s: a torn last line: caught' % fmt,
          any('torn' in p for p in probs), probs)


def cli():
    tool = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))), 'lwcheck.py')
    good = tmpdir('lwcheck-cli-good')
    write(good, 'pc01.log', records('text', 'pc01', range(1, 4)))
    bad = tmpdir('lwcheck-cli-bad')
    write(bad, 'pc01.log', records('text', 'pc01', [1, 3]))
    for d, want, word in ((good, 0, 'pc01: stream'), (bad, 1, 'not ok')):
        p = subprocess.run([sys.executable, tool, '--expect-last', '3', d],
                           capture_output=True, text=True, timeout=30)
        check('command line: exit %d on the %s log' % (
            want, 'good' if want == 0 else 'bad'),
            p.returncode == want and word in p.stdout, p.stdout + p.stderr)


# Two collectors' pc01.log each (--union): (what, A's seqs, B's seqs, the
# word a problem must hold or None for a good pair).
UNION = [
    ('a failover and back', [1, 2, 3, 7, 8], [4, 5, 6], None),
    ('a record in both (in flight at a kill -9)', [1, 2, 3, 6], [3, 4, 5],
     None),
    ('a number in neither', [1, 2, 6], [3, 4], '1 numbers in no log, from 5'),
    ('a duplicate at one collector', [1, 2, 3], [4, 4, 5], 'duplicate'),
    ('a gap explained by agent.dropped', [1, 2], [(5, 3, 4, 2), 6], None),
]


def union(fmt):
    for what, sa, sb, word in UNION:
        dirs = []
        for name, seqs in (('a', sa), ('b', sb)):
            d = tmpdir('lwcheck-union-' + name)
            write(d, 'pc01.log', records(fmt, 'pc01', seqs))
            dirs.append(d)
        probs = lwcheck.check_union(dirs)
        if word is None:
            check('%s: union: %s: no problem' % (fmt, what), probs == [],
                  probs)
        else:
            check('%s: union: %s: caught' % (fmt, what),
                  any(word in p for p in probs), probs)
    d = tmpdir('lwcheck-union-short')
    write(d, 'pc01.log', records(fmt, 'pc01', [1, 2]))
    check('%s: union: short of --expect-last: caught' % fmt,
          any('no log' in p for p in lwcheck.check_union([d],
                                                         expect_last=3)))


def main():
    for fmt in ('text', 'json'):
        formats(fmt)
        union(fmt)
    cli()


if __name__ == '__main__':
    run(main)
