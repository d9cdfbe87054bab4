#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""make install, make uninstall and make deb land every file where issue 10
says (the lists in tests/fixtures/install/, written by hand); an admin's
configuration is never overwritten; units carry the install prefix;
the packages are lintian clean (make deb fails otherwise) and their
maintainer scripts make the user, the folders and enable the units."""
import os
import stat
import subprocess

import lwtest
from lwtest import ROOT, check

FIX = os.path.join(ROOT, 'tests', 'fixtures', 'install')


def listing(name):
    with open(os.path.join(FIX, name)) as f:
        return [line.split() for line in f
                if line.strip() and not line.startswith('#')]


def tree(d):
    out = {}
    for dirpath, _, files in os.walk(d):
        for f in files:
            p = os.path.join(dirpath, f)
            out['/' + os.path.relpath(p, d)] = '%o' % (
                stat.S_IMODE(os.lstat(p).st_mode))
    return out


def make(*args):
    return subprocess.run(['make', '--no-print-directory', '-C', ROOT] +
                          list(args), capture_output=True, text=True,
                          timeout=600)


# The exposure systemd-analyze gives each unit, at most (README, Services).
EXPOSURE = {'labwatch-agent.service': 4.5, 'labwatch-collector.service': 1.5}


def hardening(unitdir):
    """systemd-analyze security --offline=true on the installed units."""
    for unit, most in sorted(EXPOSURE.items()):
        p = subprocess.run(['systemd-analyze', 'security', '--offline=true',
                            os.path.join(unitdir, unit)],
                           capture_output=True, text=True, timeout=60)
        last = (p.stdout.strip().splitlines() or [''])[-1]
        try:
            level = float(last.split('level for')[1].split(':')[1].split()[0])
        except (IndexError, ValueError):
            level = None
        check('%s: systemd-analyze exposure %s, at most %.1f' % (
            unit, level, most), level is not None and level <= most, last)
    text = open(os.path.join(unitdir, 'labwatch-collector.service')).read()
    check('the collector\'s unit runs it as labwatch with no capabilities',
          'User=labwatch' in text and '\nCapabilityBoundingSet=\n' in text)


def install():
    dest = lwtest.tmpdir('destdir')
    p = make('install', 'DESTDIR=' + dest)
    check('make install DESTDIR=...', p.returncode == 0, p.stderr[-500:])
    want = {path: mode for path, mode in listing('make-install.list')}
    got = tree(dest)
    check('every file where the list says, nothing else',
          got == want, 'missing %s, extra %s' % (
              sorted(set(want) - set(got)), sorted(set(got) - set(want))))
    modes = {p for p in want if got.get(p) != want[p]}
    check('with the listed modes', not modes, sorted(modes))
    unit = os.path.join(dest, 'usr/local/lib/systemd/system/'
                        'labwatch-collector.service')
    text = open(unit).read() if os.path.exists(unit) else ''
    check('the unit runs the installed binary, Type=notify, watchdog',
          'ExecStart=/usr/local/sbin/labwatch-collector -f' in text and
          'Type=notify' in text and 'WatchdogSec=' in text, text[:300])
    hardening(os.path.join(dest, 'usr/local/lib/systemd/system'))
    conf = os.path.join(dest, 'etc/labwatch/agent.conf')
    with open(conf, 'a') as f:
        f.write('collector collector.lab:7514\n')
    p = make('install', 'DESTDIR=' + dest)
    check("a second make install keeps the admin's agent.conf",
          p.returncode == 0 and
          open(conf).read().endswith('collector collector.lab:7514\n'))
    p = make('uninstall', 'DESTDIR=' + dest)
    left = sorted(tree(dest))
    check('make uninstall leaves only the configuration',
          p.returncode == 0 and left == [
              '/etc/labwatch/agent.conf', '/etc/labwatch/collector.conf',
              '/etc/labwatch/ip.txt', '/etc/logrotate.d/labwatch-collector',
              '/etc/udev/rules.d/90-labwatch.rules'], left)
    dest = lwtest.tmpdir('destusr')
    p = make('install', 'DESTDIR=' + dest, 'PREFIX=/usr')
    check('PREFIX=/usr puts binaries in /usr/sbin',
          p.returncode == 0 and
          os.path.exists(os.path.join(dest, 'usr/sbin/labwatchctl')))


def deb():
    p = make('deb')
    check('make deb builds both packages, lintian clean',
          p.returncode == 0, (p.stdout + p.stderr)[-800:])
    for pkg in ('labwatch-agent', 'labwatch-collector'):
        debf = os.path.join(ROOT, 'build', 'deb', pkg + '_0.1.0_amd64.deb')
        c = subprocess.run(['dpkg-deb', '-c', debf], capture_output=True,
                           text=True)
        files = sorted(line.split()[5][1:] for line in c.stdout.splitlines()
                       if not line.startswith('d'))
        want = sorted(p[0] for p in listing(pkg + '.deb.list'))
        check('dpkg-deb -c %s: the listed layout' % pkg, files == want,
              'missing %s, extra %s' % (sorted(set(want) - set(files)),
                                        sorted(set(files) - set(want))))
        info = subprocess.run(['dpkg-deb', '-I', debf, 'postinst'],
                              capture_output=True, text=True).stdout
        check('%s postinst makes the user and folders, enables the unit'
              % pkg, 'systemd-sysusers' in info and
              'systemd-tmpfiles' in info and
              "deb-systemd-helper enable '%s.service'" % pkg in info,
              info[:300])


def main():
    lwtest.step('make install', install)
    lwtest.step('make deb', deb)


lwtest.run(main)
