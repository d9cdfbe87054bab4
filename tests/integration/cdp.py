# SPDX-License-Identifier: ISC
"""A headless chromium driven over the DevTools protocol, for the
dashboard's browser test.  Standard library only: a tiny WebSocket client
(RFC 6455, client side: masked frames out, unmasked in, fragments joined)
speaks to the page's DevTools endpoint.

  b = Browser(tmpdir)          # starts /usr/bin/chromium --headless
  b.navigate(url)
  b.eval('document.title')     # Runtime.evaluate, by value, promises awaited
  b.screenshot(path)
  b.close()
"""

import base64
import json
import os
import socket
import struct
import subprocess
import time
import urllib.request

CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')


class WebSocket:
    def __init__(self, url, timeout=30.0):
        assert url.startswith('ws://')
        hostport, _, path = url[5:].partition('/')
        host, _, port = hostport.rpartition(':')
        self.sock = socket.create_connection((host, int(port)), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(('GET /%s HTTP/1.1\r\nHost: %s\r\n'
                           'Upgrade: websocket\r\nConnection: Upgrade\r\n'
                           'Sec-WebSocket-Key: %s\r\n'
                           'Sec-WebSocket-Version: 13\r\n\r\n' %
                           (path, hostport, key)).encode())
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError('DevTools closed the handshake')
            head += chunk
        if b' 101 ' not in head.split(b'\r\n')[0]:
            raise ConnectionError('no WebSocket: %r' % head[:200])
        self.buf = b''

    def send(self, text):
        data = text.encode()
        n = len(data)
        if n < 126:
            hdr = struct.pack('>BB', 0x81, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack('>BBH', 0x81, 0x80 | 126, n)
        else:
            hdr = struct.pack('>BBQ', 0x81, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + masked)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError('DevTools closed the connection')
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """The next text message (fragments joined; pings answered)."""
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack('>H', self._read(2))[0]
            elif n == 127:
                n = struct.unpack('>Q', self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0f
            if op == 0x9:		# ping: pong back
                mask = os.urandom(4)
                self.sock.sendall(struct.pack('>BB', 0x8a, 0x80 | n) + mask +
                                  bytes(b ^ mask[i % 4]
                                        for i, b in enumerate(payload)))
                continue
            if op == 0x8:
                raise ConnectionError('DevTools closed the WebSocket')
            parts.append(payload)
            if b0 & 0x80:
                return b''.join(parts).decode()

    def close(self):
        self.sock.close()


class Browser:
    def __init__(self, tmpdir, width=1280, height=900):
        self.profile = os.path.join(tmpdir, 'chromium-profile')
        os.makedirs(self.profile, exist_ok=True)
        portfile = os.path.join(self.profile, 'DevToolsActivePort')
        if os.path.exists(portfile):
            os.unlink(portfile)		# a previous run's
        self.log = open(os.path.join(tmpdir, 'chromium.log'), 'wb')
        self.proc = subprocess.Popen(
            [CHROMIUM, '--headless=new', '--no-sandbox', '--disable-gpu',
             '--no-first-run', '--no-default-browser-check',
             '--disable-extensions', '--disable-background-networking',
             '--disable-dev-shm-usage', '--remote-debugging-port=0',
             '--remote-debugging-address=127.0.0.1',
             '--window-size=%d,%d' % (width, height),
             '--user-data-dir=' + self.profile, 'about:blank'],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while not os.path.exists(portfile) or \
                not open(portfile).read().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError('chromium did not start')
            time.sleep(0.1)
        port = int(open(portfile).read().split()[0])
        pages = []
        while not pages:
            with urllib.request.urlopen(
                    'http://127.0.0.1:%d/json/list' % port, timeout=10) as r:
                pages = [t for t in json.load(r) if t['type'] == 'page']
            if not pages:
                time.sleep(0.1)
        self.ws = WebSocket(pages[0]['webSocketDebuggerUrl'])
        self.next_id = 0
        self.events = []
        self.call('Page.enable')
        self.call('Runtime.enable')

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({'id': mid, 'method': method,
                                 'params': params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get('id') == mid:
                if 'error' in msg:
                    raise RuntimeError('%s: %s' % (method, msg['error']))
                return msg.get('result', {})
            if 'method' in msg:
                self.events.append(msg)

    def eval(self, expr):
        """The value of a JavaScript expression (a promise is awaited)."""
        r = self.call('Runtime.evaluate', expression=expr,
                      awaitPromise=True, returnByValue=True)
        if 'exceptionDetails' in r:
            raise RuntimeError('%s: %s' % (expr[:80], r['exceptionDetails']
                                           .get('exception', {})
                                           .get('description',
                                                r['exceptionDetails'])))
        return r['result'].get('value')

    def wait(self, expr, timeout=5.0, interval=0.05):
        """Polls expr until it is truthy; returns the last value."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.eval(expr)
            if v or time.monotonic() >= deadline:
                return v
            time.sleep(interval)

    def navigate(self, url):
        self.events = []
        if 'loaderId' not in self.call('Page.navigate', url=url):
            return		# within the document: no load
        self._loaded()

    def reload(self):
        self.events = []
        self.call('Page.reload')
        self._loaded()

    def _loaded(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if any(e['method'] == 'Page.loadEventFired' for e in self.events):
                return
            msg = json.loads(self.ws.recv())
            if 'method' in msg:
                self.events.append(msg)
        raise RuntimeError('the page did not load')

    def screenshot(self, path):
        data = self.call('Page.captureScreenshot', format='png')['data']
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))

    def cookies(self):
        return self.call('Network.getCookies').get('cookies', [])

    def close(self):
        try:
            self.ws.close()
        except OSError:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
