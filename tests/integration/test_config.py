#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Configuration: the option tables, the files, -n and usage errors.

Golden tests: -n on good and broken files under tests/fixtures/config/,
compared with the expected output written there by hand (the effective
configuration, or the file:line errors).  Usage errors exit 2 before the
state folder is made.  The shipped sample files and the manual pages'
option lists match the option tables (scripts/update-options --check).
"""
import os
import subprocess

import lwtest
from lwtest import AGENT, COLLECTOR, ROOT, check

FIX = os.path.join(ROOT, 'tests', 'fixtures', 'config')


def sh(args, cwd=None):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                          timeout=30)


def expected(name):
    with open(os.path.join(FIX, name)) as f:
        return f.read()


def golden():
    cases = [
        # name, program, arguments, expected file, exit status, stream
        ('agent good file, command line overrides', AGENT,
         ['--config', 'agent-good.conf', '-n', '--host', 'pc07',
          '-i', 'eth1'], 'agent-good.expected', 0, 'stdout'),
        ('agent broken file: every bad line named', AGENT,
         ['--config', 'agent-bad.conf', '-n'], 'agent-bad.expected', 2,
         'stderr'),
        ('collector good file, command line overrides', COLLECTOR,
         ['--config', 'collector-good.conf', '-n', '--idle-timeout', '90'],
         'collector-good.expected', 0, 'stdout'),
        ('collector broken file', COLLECTOR,
         ['--config', 'collector-bad.conf', '-n'], 'collector-bad.expected',
         2, 'stderr'),
        ('collector: bad alert rules, each named by its line', COLLECTOR,
         ['--config', 'collector-alert.conf', '-n'],
         'collector-alert.expected', 2, 'stderr'),
        ('collector: bad forward lines, each named by its line', COLLECTOR,
         ['--config', 'collector-forward.conf', '-n'],
         'collector-forward.expected', 2, 'stderr'),
        ('collector: options that do not go together, named by line',
         COLLECTOR, ['--config', 'collector-tls.conf', '-n'],
         'collector-tls.expected', 2, 'stderr'),
    ]
    for name, prog, args, exp, rc, stream in cases:
        p = sh([prog] + args, cwd=FIX)
        out = p.stdout if stream == 'stdout' else p.stderr
        check('-n golden: %s: exit %d' % (name, rc), p.returncode == rc,
              'exit %d: %s' % (p.returncode, p.stderr[-300:]))
        check('-n golden: %s: output as %s' % (name, exp),
              out == expected(exp), out[-600:])


def usage_errors():
    tmp = lwtest.tmpdir('usage')
    new = os.path.join(tmp, 'not-made')
    cases = [
        ('agent --lan foo', [AGENT, '--stdout', '--lan', 'foo'],
         'labwatch-agent: --lan foo: not an IPv4 or IPv6 address'),
        ('agent -c without a port', [AGENT, '-c', 'collector.lab'],
         'labwatch-agent: --collector collector.lab: the port is missing'),
        ('agent without a mode', [AGENT, '--state-dir', new],
         'give one of --collector HOST:PORT, --stdout or --enroll'),
        ('agent bad number, state folder given',
         [AGENT, '-c', '127.0.0.1:1', '--state-dir', new, '--heartbeat',
          '0'], '--heartbeat 0: too small (1 to 3600)'),
        ('agent unknown option', [AGENT, '--stdout', '--bogus'],
         'labwatch-agent: --bogus: unknown option'),
        ('agent stray argument', [AGENT, '--stdout', 'extra'],
         'labwatch-agent: extra: unexpected argument'),
        ('agent missing --config file', [AGENT, '--stdout', '--config',
                                         os.path.join(tmp, 'none.conf')],
         'none.conf: No such file or directory'),
        ('agent bad host name', [AGENT, '--stdout', '--host', '.x'],
         'host name ".x" is not 1-64'),
        ('agent option without its value', [AGENT, '--stdout', '-F'],
         'labwatch-agent: -F: needs a value'),
        ('collector bad number, state folder given',
         [COLLECTOR, '-f', '--state-dir', new, '--max-conns', '0'],
         '--max-conns 0: too small (1 to 1000000)'),
        ('collector --sync typo', [COLLECTOR, '--sync', 'allways'],
         '--sync allways: use one of always|batch|never'),
        ('collector nine listeners',
         [COLLECTOR, '-n'] + sum([['-l', '127.0.0.1:%d' % (9000 + i)]
                                  for i in range(9)], []),
         'at most 8 listen addresses'),
        ('collector empty state folder', [COLLECTOR, '--state-dir', ''],
         '--state-dir: needs a value'),
    ]
    for name, args, msg in cases:
        p = sh(args)
        check('usage error exits 2: %s' % name, p.returncode == 2,
              'exit %d: %s' % (p.returncode, p.stderr[-300:]))
        check('usage error says so: %s' % name, msg in p.stderr,
              p.stderr[-300:])
    check('usage errors made no state folder', not os.path.exists(new))


def samples():
    """The shipped files are all comments: -n on them gives the defaults."""
    for prog, conf, extra in ((AGENT, 'agent/agent.conf', ['--stdout']),
                              (COLLECTOR, 'collector/collector.conf', [])):
        a = sh([prog, '-n', '--config', os.path.join(ROOT, conf)] + extra)
        b = sh([prog, '-n', '--config', '/dev/null'] + extra)
        body_a = a.stdout.split('\n', 1)[-1]
        body_b = b.stdout.split('\n', 1)[-1]
        check('%s: -n accepts the shipped file' % conf, a.returncode == 0,
              a.stderr)
        check('%s: every line commented, defaults unchanged' % conf,
              body_a == body_b and len(body_a.splitlines()) > 20,
              body_a[:300])
        with open(os.path.join(ROOT, conf)) as f:
            text = f.read()
        p = sh([prog, '--help'])
        for line in p.stdout.splitlines():
            opt = line.split()[0] if line.startswith('  ') else ''
            if opt.startswith('-') and not opt.startswith('--'):
                opt = line.split()[1]
            if opt.startswith('--') and opt not in (
                    '--config', '--check', '--help', '--version',
                    '--enroll', '--read'):
                if '\n#%s' % opt[2:] not in text:
                    check('%s names %s' % (conf, opt), False)
                    break
        else:
            check('%s names every option --help lists' % conf, True)
    p = sh([os.path.join(ROOT, 'scripts', 'update-options'), '--check'])
    check('sample files and manual option lists match the option tables '
          '(make options)', p.returncode == 0, p.stdout + p.stderr)


def runs_from_file():
    """A collector and an agent configured by files alone."""
    port = lwtest.free_port()
    logs = lwtest.tmpdir('logs')
    tmp = lwtest.tmpdir('conf')
    cert, key = lwtest.server_cert()
    cconf = os.path.join(tmp, 'collector.conf')
    with open(cconf, 'w') as f:
        f.write('listen 127.0.0.1:%d\nlog-dir %s\nstate-dir %s\n'
                'tls-ca %s\ntls-cert %s\ntls-key %s\ntls-crl %s\n'
                'control\nformat json\n' % (
                    port, logs, lwtest.tmpdir('cstate'), lwtest.ca_file(),
                    cert, key, lwtest.crl_file()))
    coll = lwtest.start([COLLECTOR, '-f', '--config', cconf], 'collector')
    ok = lwtest.wait_until(lambda: ' started, logs in ' in
                           lwtest.stderr_text(coll), 5)
    check('collector starts from its file', ok, lwtest.stderr_text(coll))
    acert, akey = lwtest.host_cert('pcconf')
    aconf = os.path.join(tmp, 'agent.conf')
    with open(aconf, 'w') as f:
        f.write('collector 127.0.0.1:%d\nstate-dir %s\nno-usb\nno-net yes\n'
                'tls-ca %s\ntls-cert %s\ntls-key %s\n' % (
                    port, lwtest.tmpdir('astate'), lwtest.ca_file(), acert,
                    akey))
    agent = lwtest.start([AGENT, '-f', '--config', aconf], 'agent')
    recs = lwtest.wait_event(lwtest.log_path(logs, 'pcconf'), 'json',
                             'agent.start')
    check('agent configured by its file reaches the collector',
          lwtest.events(recs, 'agent.start'), lwtest.stderr_text(agent))
    lwtest.stop(agent)
    lwtest.stop(coll)


def log_ergonomics():
    """--localtime text lines; a log folder keeps one format."""
    logs = lwtest.tmpdir('logs')
    os.environ['TZ'] = 'LAB-2'     # POSIX: two hours east of UTC
    coll = lwtest.start_collector(logdir=logs, extra=['--localtime'])
    del os.environ['TZ']
    agent = lwtest.start_agent('127.0.0.1:%d' % coll.port, 'pclocal')
    lwtest.wait_until(lambda: len(lwtest.read_lines(
        lwtest.log_path(logs, 'pclocal'))) >= 2, 5)
    lines = lwtest.read_lines(lwtest.log_path(logs, 'pclocal'))
    check('--localtime: text lines in local time with the offset',
          lines and all(len(l.split()[0]) == 32 and
                        l.split()[0].endswith('+02:00') for l in lines),
          lines[:2])
    lwtest.stop(agent)
    lwtest.stop(coll)
    p = sh([COLLECTOR, '-f', '-l', '127.0.0.1:%d' % lwtest.free_port(),
            '-d', logs, '--state-dir', lwtest.tmpdir('cstate'),
            '--format', 'json', '--insecure', '--control', ''])
    check('another --format on a folder of text logs is refused',
          p.returncode == 1 and 'pclocal.log is written in text; this '
          'collector would write json' in p.stderr, p.stderr[-300:])


def main():
    lwtest.step('golden', golden)
    lwtest.step('log ergonomics', log_ergonomics)
    lwtest.step('usage errors', usage_errors)
    lwtest.step('samples', samples)
    lwtest.step('runs from file', runs_from_file)


lwtest.run(main)
