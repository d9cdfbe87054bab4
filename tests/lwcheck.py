#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""lwcheck: proves that host logs hold every record exactly once, in order.

Reads the per-host logs of a collector's log folder (text or JSON lines,
told apart line by line), rotated ones included: HOST.log.N ... HOST.log.1,
HOST.log are read as one file, oldest first.  Per host and per stream (a
host.connect line names the stream the records after it belong to), the
agent's records (lines with a seq) must run 1, 2, 3, ... (or from --first)
with no number twice and none out of order.  A number may be missing only
where an agent.dropped record accounts for it exactly: its first_seq..last_seq
is a whole run of missing numbers (several records may cover adjacent parts
of one run) and its count is last_seq - first_seq + 1.  Collector records
(host.connect, host.disconnect, host.offline, host.online) carry no seq.

Usage: lwcheck.py [--first N] [--expect-last N] LOGDIR
       lwcheck.py --union [--first N] [--expect-last N] LOGDIR...
Prints a line per host and "ok" or "not ok"; exits 0 or 1.
As a module: check_dir(path, expect_last=None, first=1) returns a list of
problems (empty when all is well); scan_dir() returns per-host summaries;
check_union(paths) checks agents with several collectors (--collector
A,B): in each folder no number twice or out of order (gaps allowed: the
other collectors have them), over all folders every number at least once.
With --union, the command line checks its LOGDIRs that way.
"""

import argparse
import json
import os
import re
import sys

LOG_RE = re.compile(r'^(?P<host>.+)\.log(?:\.(?P<n>\d+))?$')
MAX_REPORTED = 20       # problems listed per host
FIELDS_READ = ('agent.dropped', 'host.connect')
# The collector writes ts, host, seq, event first: agent records other than
# those above are read from this head alone, for speed.
JSON_HEAD_RE = re.compile(r'\{"ts":"[^"]*","host":"([A-Za-z0-9._-]+)",'
                          r'"seq":([1-9][0-9]*),"event":"([a-z0-9_.]+)"')


class Stream:
    """What one stream of one host holds."""

    def __init__(self, sid):
        self.sid = sid
        self.seqs = 0           # records with a seq
        self.first = None
        self.last = None
        self.gaps = []          # [first, last] runs of missing numbers
        self.dropped = []       # (first_seq, last_seq, count, where)
        self.problems = []


class HostLog:
    """Everything read for one host."""

    def __init__(self, host, files):
        self.host = host
        self.files = files
        self.streams = []
        self.events = {}        # event name -> count
        self.problems = []

    def summary(self):
        parts = []
        for st in self.streams:
            dropped = sum(d[2] for d in st.dropped)
            span = '%s..%s' % (st.first, st.last) if st.seqs else 'none'
            parts.append('stream %s: seq %s, %d records, %d dropped' % (
                st.sid or '?', span, st.seqs, dropped))
        return '%s: %s' % (self.host, '; '.join(parts) or 'no records')


def log_files(path):
    """{host: [files, oldest first]} for the logs in folder path."""
    hosts = {}
    for name in os.listdir(path):
        m = LOG_RE.match(name)
        if not m or not os.path.isfile(os.path.join(path, name)):
            continue
        n = int(m.group('n')) if m.group('n') is not None else 0
        hosts.setdefault(m.group('host'), []).append((n, name))
    return {h: [os.path.join(path, name)
                for _, name in sorted(files, reverse=True)]
            for h, files in hosts.items()}


def _text_fields(rest):
    """Splits 'k=v k="quoted \\" v" ...' into a dict of raw values."""
    fields = {}
    i, n = 0, len(rest)
    while i < n:
        eq = rest.find('=', i)
        if eq == -1:
            raise ValueError('field without "=": %r' % rest[i:i + 40])
        key = rest[i:eq]
        i = eq + 1
        if i < n and rest[i] == '"':
            j = i + 1
            while j < n and rest[j] != '"':
                j += 2 if rest[j] == '\\' else 1
            if j >= n:
                raise ValueError('unterminated quote')
            value = rest[i + 1:j]
            i = j + 1
        else:
            j = rest.find(' ', i)
            j = n if j == -1 else j
            value = rest[i:j]
            i = j
        fields[key] = value
        if i < n:
            if rest[i] != ' ':
                raise ValueError('no space after a value')
            i += 1
    return fields


def parse_line(line):
    """(host, event, seq or None, fields or None) of one log line.  Fields
    are only decoded for the records lwcheck reads them from."""
    if line.startswith('{'):
        m = JSON_HEAD_RE.match(line)
        if m and m.group(3) not in FIELDS_READ and line.endswith('}'):
            return m.group(1), m.group(3), int(m.group(2)), None
        rec = json.loads(line)
        seq = rec.get('seq')
        if seq is not None and (not isinstance(seq, int) or seq < 1):
            raise ValueError('bad seq %r' % (seq,))
        return rec.get('host'), rec.get('event'), seq, rec
    parts = line.split(' ', 4)
    if len(parts) < 3:
        raise ValueError('fewer than three words')
    host, event = parts[1], parts[2]
    seq, rest = None, parts[3:]
    if rest and rest[0].startswith('seq='):
        seq = int(rest[0][4:])
        if seq < 1:
            raise ValueError('bad seq %d' % seq)
        rest = rest[1:]
    fields = None
    if event in FIELDS_READ:
        fields = _text_fields(' '.join(rest))
    return host, event, seq, fields


def _int_field(fields, key):
    v = fields.get(key)
    if isinstance(v, int):
        return v
    if isinstance(v, str) and re.fullmatch(r'-?\d+', v):
        return int(v)
    return None


def _close_stream(st, expect_last):
    """Matches the gaps of a stream against its agent.dropped records."""
    if expect_last is not None and st.last is not None and \
            st.last < expect_last:
        st.gaps.append([st.last + 1, expect_last])
    drops = []
    for first, last, count, where in st.dropped:
        if first is None or last is None or count is None or first > last:
            st.problems.append('%s: agent.dropped without a valid '
                               'first_seq, last_seq and count' % where)
            continue
        if count != last - first + 1:
            st.problems.append('%s: agent.dropped count=%d but first_seq=%d '
                               'last_seq=%d span %d' % (
                                   where, count, first, last,
                                   last - first + 1))
        drops.append([first, last, where])
    drops.sort()
    merged = []
    for first, last, where in drops:
        if merged and first <= merged[-1][1]:
            st.problems.append('%s: agent.dropped %d..%d overlaps another'
                               % (where, first, last))
            merged[-1][1] = max(merged[-1][1], last)
        elif merged and first == merged[-1][1] + 1:
            merged[-1][1] = last
        else:
            merged.append([first, last])
    gaps = [tuple(g) for g in st.gaps]
    covered = [tuple(m) for m in merged]
    for g in sorted(set(gaps) - set(covered)):
        st.problems.append('seq %d..%d missing (%d records) and no '
                           'agent.dropped accounts for exactly that' % (
                               g[0], g[1], g[1] - g[0] + 1))
    for m in sorted(set(covered) - set(gaps)):
        st.problems.append('agent.dropped says %d..%d were dropped, but '
                           'that is not exactly a run of missing numbers'
                           % m)
    if expect_last is not None and st.last is not None and \
            st.last > expect_last:
        st.problems.append('last seq %d, expected %d' % (st.last,
                                                         expect_last))


def scan_host(host, files, expect_last=None, first=1):
    """Reads one host's files (oldest first) into a HostLog."""
    hl = HostLog(host, files)
    st = None
    for path in files:
        with open(path, 'rb') as f:
            data = f.read()
        name = os.path.basename(path)
        if data and not data.endswith(b'\n'):
            hl.problems.append('%s: last line has no newline (torn)' % name)
        for lineno, raw in enumerate(data.splitlines(), 1):
            where = '%s:%d' % (name, lineno)
            try:
                line = raw.decode('utf-8', 'surrogateescape')
                lhost, event, seq, fields = parse_line(line)
            except (ValueError, json.JSONDecodeError) as e:
                hl.problems.append('%s: cannot parse: %s' % (where, e))
                continue
            hl.events[event] = hl.events.get(event, 0) + 1
            if lhost != host:
                hl.problems.append('%s: host %r in the log of %r' % (
                    where, lhost, host))
            if event == 'host.connect' and fields is not None and \
                    fields.get('stream'):
                sid = fields['stream']
                if st is None or st.sid != sid:
                    st = next((s for s in hl.streams if s.sid == sid), None)
                    if st is None:
                        st = Stream(sid)
                        hl.streams.append(st)
                continue
            if seq is None:
                continue
            if st is None:
                st = Stream(None)
                hl.streams.append(st)
            if event == 'agent.dropped':
                st.dropped.append((_int_field(fields, 'first_seq'),
                                   _int_field(fields, 'last_seq'),
                                   _int_field(fields, 'count'), where))
            prev = st.last if st.last is not None else first - 1
            if seq <= prev:
                st.problems.append('%s: seq %d after %d: a duplicate or out '
                                   'of order' % (where, seq, prev))
                continue
            if seq > prev + 1:
                st.gaps.append([prev + 1, seq - 1])
            if st.first is None:
                st.first = seq
            st.last = seq
            st.seqs += 1
    for i, s in enumerate(hl.streams):
        _close_stream(s, expect_last if i == len(hl.streams) - 1 else None)
        hl.problems += ['stream %s: %s' % (s.sid or '?', p)
                        for p in s.problems]
    if expect_last is not None and not any(s.seqs for s in hl.streams):
        hl.problems.append('no records, expected up to seq %d' % expect_last)
    return hl


def scan_dir(path, expect_last=None, first=1):
    """{host: HostLog} for every host log in the folder."""
    return {host: scan_host(host, files, expect_last, first)
            for host, files in sorted(log_files(path).items())}


def check_dir(path, expect_last=None, first=1):
    """Problems found in the folder's host logs, as strings; [] is good."""
    problems = []
    for host, hl in scan_dir(path, expect_last, first).items():
        problems += ['%s: %s' % (host, p) for p in hl.problems]
    return problems


def host_seqs(path):
    """{(host, stream): [seqs in file order]} and {(host, stream): [(first,
    last)]} of agent.dropped, for the host logs in folder path."""
    seqs, drops = {}, {}
    for host, files in sorted(log_files(path).items()):
        sid = None
        for name in files:
            with open(name, 'rb') as f:
                data = f.read()
            for raw in data.splitlines():
                lhost, event, seq, fields = parse_line(
                    raw.decode('utf-8', 'surrogateescape'))
                if event == 'host.connect' and fields and \
                        fields.get('stream'):
                    sid = fields['stream']
                if seq is None:
                    continue
                seqs.setdefault((host, sid), []).append(seq)
                if event == 'agent.dropped':
                    drops.setdefault((host, sid), []).append((
                        _int_field(fields, 'first_seq'),
                        _int_field(fields, 'last_seq')))
    return seqs, drops


def check_union(paths, expect_last=None, first=1):
    """Problems of agents that spread one stream over the collectors whose
    log folders are paths; [] is good.  Each folder: per host and stream,
    numbers only rise (each stored once there).  All folders together:
    every number from first to the highest (or expect_last) is in one of
    them, or in the run of an agent.dropped."""
    problems = []
    union, dropped = {}, {}
    for path in paths:
        seqs, drops = host_seqs(path)
        for key, got in seqs.items():
            for a, b in zip(got, got[1:]):
                if b <= a:
                    problems.append('%s: %s stream %s: seq %d after %d: a '
                                    'duplicate or out of order' % (
                                        path, key[0], key[1], b, a))
                    break
            union.setdefault(key, set()).update(got)
        for key, runs in drops.items():
            for a, b in runs:
                if a is not None and b is not None:
                    dropped.setdefault(key, set()).update(range(a, b + 1))
    for key, have in sorted(union.items(), key=lambda kv: str(kv[0])):
        last = expect_last if expect_last is not None else max(have)
        missing = [n for n in range(first, last + 1)
                   if n not in have and n not in dropped.get(key, ())]
        if missing:
            problems.append('%s stream %s: %d numbers in no log, from %d '
                            'to %d' % (key[0], key[1], len(missing),
                                       missing[0], missing[-1]))
        if expect_last is not None and max(have) > expect_last:
            problems.append('%s stream %s: last seq %d, expected %d' % (
                key[0], key[1], max(have), expect_last))
    return problems


def main():
    ap = argparse.ArgumentParser(description='Checks host logs for '
                                 'exactly-once, in-order delivery.')
    ap.add_argument('--first', type=int, default=1,
                    help='first sequence number of each stream (default 1)')
    ap.add_argument('--expect-last', type=int,
                    help='the last stream of every host must reach this seq')
    ap.add_argument('--union', action='store_true',
                    help='the LOGDIRs are collectors of one list of agents: '
                    'each stores a number once, together they have all')
    ap.add_argument('logdir', nargs='+')
    args = ap.parse_args()
    if args.union:
        problems = check_union(args.logdir, args.expect_last, args.first)
        for p in problems[:MAX_REPORTED]:
            print('  ' + p)
        print('%s: %d problems' % ('ok' if not problems else 'not ok',
                                   len(problems)))
        return 1 if problems else 0
    if len(args.logdir) != 1:
        ap.error('one LOGDIR, or --union')
    args.logdir = args.logdir[0]
    hosts = scan_dir(args.logdir, args.expect_last, args.first)
    bad = 0
    for host, hl in hosts.items():
        print('%s: %s' % (hl.summary(), 'not ok' if hl.problems else 'ok'))
        for p in hl.problems[:MAX_REPORTED]:
            print('  ' + p)
        if len(hl.problems) > MAX_REPORTED:
            print('  ... %d more' % (len(hl.problems) - MAX_REPORTED))
        bad += bool(hl.problems)
    if not hosts:
        print('no host logs in %s' % args.logdir)
        bad = 1
    print('%s: %d hosts, %d with problems' % (
        'ok' if not bad else 'not ok', len(hosts), bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
