// SPDX-License-Identifier: ISC
// The labwatch dashboard: plain JavaScript, no framework.  Talks to the
// collector's JSON API under /api/ and its live feed (/api/live, SSE).
'use strict';

const S = { session: null, hosts: new Map(), rooms: [], es: null,
  esHost: null, route: '' };

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined) e.setAttribute(k, v);
  }
  for (const k of kids)
    e.append(k instanceof Node ? k : document.createTextNode(k ?? ''));
  return e;
}

function when(us) {
  if (us === null || us === undefined || us === '') return '-';
  const d = typeof us === 'number' ? new Date(us / 1000) : new Date(us);
  return isNaN(d) ? String(us) : d.toLocaleString();
}

function bytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}

class HttpError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

async function api(path, body) {
  const opts = { credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opts.method = 'POST';
    opts.headers['Content-Type'] = 'application/json';
    if (S.session) opts.headers['X-CSRF-Token'] = S.session.csrf;
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (r.status === 401 && path !== '/api/login') showLogin();
  if (!r.ok) throw new HttpError(r.status, (data && data.error) || r.statusText);
  return data;
}

// Login, session, logout.

function showLogin(msg) {
  S.session = null;
  stopLive();
  $('#login').hidden = false;
  $('#nav').hidden = $('#logout').hidden = $('#feed').hidden = true;
  $('#who').textContent = '';
  $('#main').replaceChildren();
  $('#login-error').textContent = msg || '';
}

function loggedIn(s) {
  S.session = s;
  $('#login').hidden = true;
  $('#nav').hidden = $('#logout').hidden = $('#feed').hidden = false;
  $('#who').textContent = s.user + ' (' + s.role + ')';
  document.body.dataset.role = s.role;
  route();
}

async function login(ev) {
  ev.preventDefault();
  try {
    loggedIn(await api('/api/login', { user: $('#login-user').value,
      password: $('#login-password').value }));
    $('#login-password').value = '';
  } catch (e) {
    $('#login-error').textContent = e.message;
  }
}

async function logout() {
  try { await api('/api/logout', {}); } catch (e) { /* gone anyway */ }
  showLogin('Logged out.');
}

// The live feed: a snapshot of the hosts, then changes.

function setLive(on) {
  const l = $('#live');
  l.className = 'live ' + (on ? 'on' : 'off');
  l.textContent = on ? 'live' : 'reconnecting';
}

function stopLive() {
  if (S.es) S.es.close();
  S.es = null;
  setLive(false);
}

function startLive(host) {
  if (S.es && S.esHost === host) return;
  stopLive();
  S.esHost = host;
  const es = new EventSource('/api/live' + (host ? '?host=' +
    encodeURIComponent(host) : ''));
  S.es = es;
  es.onopen = () => setLive(true);
  es.onerror = () => {
    setLive(false);
    // Closed for good (an HTTP error: logged out?): ask, then retry.
    if (es.readyState === EventSource.CLOSED && S.es === es) {
      S.es = null;
      setTimeout(() => api('/api/session').then(() => startLive(host),
        () => {}), 2000);
    }
  };
  es.addEventListener('snapshot', (m) => {
    S.hosts.clear();
    for (const h of JSON.parse(m.data)) S.hosts.set(h.host, h);
    hostsChanged();
  });
  es.addEventListener('hosts', (m) => {
    for (const h of JSON.parse(m.data)) S.hosts.set(h.host, h);
    hostsChanged();
  });
  es.addEventListener('record', (m) => onRecord(JSON.parse(m.data)));
  es.addEventListener('lab', (m) => onLab(JSON.parse(m.data)));
}

function hostsChanged() {
  if (S.route === 'grid') drawGrid();
  else if (S.route === 'host') drawHostCard();
}

function feedAdd(r) {
  const ul = $('#feed-list');
  ul.prepend(el('li', { class: 'fresh' }, when(r.ts) + ' ' + r.event + ' ' +
    (r.mac || r.device_id || r.target || r.user || '')));
  while (ul.children.length > 30) ul.lastChild.remove();
}

function onLab(r) {
  feedAdd(r);
  if (S.route === 'devices' && r.event === 'lab.device.new')
    addDeviceRow(deviceFromLab(r), true);
  if (S.route === 'usb' && r.event.startsWith('lab.usb')) drawUsb();
}

function onRecord(r) {
  if (S.route !== 'host' || r.host !== S.arg) return;
  const tb = $('#timeline tbody');
  if (tb) tb.prepend(eventRow(r.ts, r.host, r.event, recordText(r), true));
}

function recordText(r) {
  return Object.entries(r).filter(([k]) => !['ts', 'host', 'event']
    .includes(k)).map(([k, v]) => k + '=' + (typeof v === 'object' ?
    JSON.stringify(v) : v)).join(' ');
}

// Views.

function route() {
  if (!S.session) return;
  const parts = (location.hash.replace(/^#\/?/, '') || '').split('/');
  const views = { '': viewGrid, devices: viewDevices, usb: viewUsb,
    search: viewSearch, host: viewHost };
  const v = views[parts[0]] || viewGrid;
  S.arg = parts[1] ? decodeURIComponent(parts[1]) : '';
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', a.getAttribute('href') === '#/' + parts[0]);
  $('#main').replaceChildren();
  startLive(parts[0] === 'host' ? S.arg : null);
  v();
}

function hostCard(h) {
  if (!h) return el('div', { class: 'host empty' });
  return el('a', { class: 'host ' + h.state, href: '#/host/' +
    encodeURIComponent(h.host), 'data-host': h.host, 'data-state': h.state },
    el('b', {}, h.host), el('small', {}, h.state + ' since ' + when(h.since)),
    el('small', {}, h.last_event ? h.last_event + ' ' + when(h.last_ts) :
      'no event yet'),
    el('div', { class: 'counts' }, 'USB ' + h.usb_today + ' · LAN ' +
      h.lan_today + ' · internet ' + h.internet_today));
}

async function viewGrid() {
  S.route = 'grid';
  $('#main').append(el('div', { id: 'grid' }));
  try {
    const d = await api('/api/hosts');
    S.rooms = d.rooms;
    if (!S.hosts.size) for (const h of d.hosts) S.hosts.set(h.host, h);
  } catch (e) { /* the live snapshot fills it */ }
  drawGrid();
}

function drawGrid() {
  const g = $('#grid');
  if (!g) return;
  const placed = new Set();
  const out = [];
  for (const r of S.rooms) {
    const row = el('div', { class: 'row' });
    for (const seat of r.seats) {
      if (seat) placed.add(seat);
      row.append(hostCard(seat ? S.hosts.get(seat) ||
        { host: seat, state: 'offline', since: null, last_event: '',
          usb_today: 0, lan_today: 0, internet_today: 0 } : null));
    }
    out.push(el('div', { class: 'room' }, el('h3', {}, r.name), row));
  }
  const rest = el('div', { class: 'grid' });
  for (const h of [...S.hosts.values()].sort((a, b) =>
    a.host.localeCompare(b.host)))
    if (!placed.has(h.host)) rest.append(hostCard(h));
  out.push(rest);
  const counts = { online: 0, degraded: 0, offline: 0 };
  for (const h of S.hosts.values()) counts[h.state]++;
  g.replaceChildren(el('p', { id: 'summary' }, counts.online + ' online, ' +
    counts.degraded + ' degraded, ' + counts.offline + ' offline'), ...out);
}

function eventRow(ts, host, event, line, fresh) {
  return el('tr', { class: fresh ? 'fresh' : '' }, el('td', {}, when(ts)),
    el('td', {}, el('a', { href: '#/host/' + encodeURIComponent(host) }, host)),
    el('td', {}, event), el('td', { class: 'line' }, line));
}

function eventTable(id) {
  return el('table', { id }, el('thead', {}, el('tr', {}, el('th', {}, 'Time'),
    el('th', {}, 'Host'), el('th', {}, 'Event'), el('th', {}, 'Details'))),
  el('tbody'));
}

async function viewHost() {
  S.route = 'host';
  $('#main').append(el('h2', {}, S.arg), el('div', { id: 'hostcard' }),
    el('h3', {}, 'Timeline'), eventTable('timeline'),
    el('p', { id: 'timeline-note' }));
  drawHostCard();
  try {
    const rows = await api('/api/events?limit=100&host=' +
      encodeURIComponent(S.arg));
    const tb = $('#timeline tbody');
    for (const r of rows) tb.append(eventRow(r.ts, r.host, r.event, r.line));
  } catch (e) {
    $('#timeline-note').textContent = 'History: ' + e.message +
      ' (new records still appear).';
  }
}

function drawHostCard() {
  const c = $('#hostcard');
  if (c) c.replaceChildren(hostCard(S.hosts.get(S.arg)));
}

// Devices: new ones first, with known and ignore buttons.

function deviceFromLab(r) {
  return { mac: r.mac, vendor: r.vendor || '', ips: [].concat(r.ips || [])
    .join(' '), hosts: [].concat(r.pcs || []).join(' '),
    first_seen: r.first_seen || r.ts, mark: 'new', note: '' };
}

function markButtons(kind, id) {
  if (!S.session || S.session.role !== 'admin') return '';
  const b = (mark, label) => el('button', { type: 'button', class: 'mark-' +
    mark + '-btn', 'data-mark': mark, onclick: () => setMark(kind, id, mark) },
  label);
  return el('span', {}, b('known', 'Known'), ' ', b('ignored', 'Ignore'), ' ',
    b('new', 'Unmark'));
}

async function setMark(kind, id, mark) {
  const n = $('#mark-note');
  const note = n && mark === 'known' ? n.value.trim() : '';
  try {
    await api(kind === 'usb' ? '/api/usb/mark' : '/api/devices/mark',
      { id, mark, note });
    const row = document.querySelector('tr[data-id="' + CSS.escape(id) + '"]');
    if (row) {
      const c = row.querySelector('.mark');
      c.className = 'mark mark-' + mark;
      c.textContent = mark + (note ? ' (' + note + ')' : '');
    }
  } catch (e) {
    alert(e.message);
  }
}

function addDeviceRow(d, fresh) {
  const tb = $('#devices tbody');
  if (!tb) return;
  const old = tb.querySelector('tr[data-id="' + CSS.escape(d.mac) + '"]');
  const row = el('tr', { 'data-id': d.mac, class: fresh ? 'fresh' : '' },
    el('td', {}, d.mac), el('td', {}, d.vendor || ''),
    el('td', {}, d.ips || ''), el('td', {}, d.hosts || ''),
    el('td', {}, when(d.first_seen)),
    el('td', { class: 'mark mark-' + d.mark }, d.mark +
      (d.note ? ' (' + d.note + ')' : '')),
    el('td', {}, markButtons('lan', d.mac)));
  if (old) old.replaceWith(row);
  else if (fresh) tb.prepend(row);
  else tb.append(row);
}

async function viewDevices() {
  S.route = 'devices';
  const mark = S.arg || '';
  const tab = (m, label) => el('a', { href: '#/devices/' + m,
    class: m === mark ? 'active' : '' }, label);
  $('#main').append(el('h2', {}, 'LAN devices'),
    el('p', { class: 'tabs' }, tab('', 'All'), tab('new', 'New'),
      tab('known', 'Known'), tab('ignored', 'Ignored')),
    S.session.role === 'admin' ? el('p', {}, el('label', {},
      'Note for Known: ', el('input', { id: 'mark-note', maxlength: '200',
        placeholder: 'e.g. the printer' }))) : '',
    el('table', { id: 'devices' }, el('thead', {}, el('tr', {},
      ...['MAC', 'Vendor', 'IPs', 'Seen by', 'First seen', 'Mark', '']
        .map((t) => el('th', {}, t)))), el('tbody')),
    el('p', { id: 'devices-note' }));
  try {
    for (const d of await api('/api/devices?limit=500' +
      (mark ? '&mark=' + mark : ''))) addDeviceRow(d, false);
  } catch (e) {
    $('#devices-note').textContent = e.message;
  }
}

// USB sticks: where they were seen, what was copied.

async function viewUsb() {
  S.route = 'usb';
  $('#main').append(el('h2', {}, 'USB devices'),
    el('table', { id: 'usb' }, el('thead', {}, el('tr', {},
      ...['Device', 'Name', 'Label', 'Seen on', 'Sessions', 'Written',
        'Last seen', 'Mark', ''].map((t) => el('th', {}, t)))), el('tbody')),
    el('div', { id: 'usb-detail' }), el('p', { id: 'usb-note' }));
  drawUsb();
}

async function drawUsb() {
  const tb = $('#usb tbody');
  if (!tb) return;
  try {
    const rows = await api('/api/usb?limit=500');
    tb.replaceChildren(...rows.map((u) => el('tr', { 'data-id': u.device_id },
      el('td', {}, el('a', { href: '#', onclick: (ev) => {
        ev.preventDefault(); usbDetail(u.device_id);
      } }, u.device_id)),
      el('td', {}, [u.vendor_name || u.manufacturer, u.model_name ||
        u.product].filter(Boolean).join(' ')),
      el('td', {}, u.fs_label || ''), el('td', {}, u.hosts || ''),
      el('td', {}, String(u.sessions || 0)),
      el('td', {}, (u.files_written || 0) + ' files, ' +
        bytes(u.bytes_written)),
      el('td', {}, when(u.last_seen)),
      el('td', { class: 'mark mark-' + u.mark }, u.mark),
      el('td', {}, markButtons('usb', u.device_id)))));
  } catch (e) {
    $('#usb-note').textContent = e.message;
  }
}

async function usbDetail(id) {
  const d = $('#usb-detail');
  const q = '?limit=200&device_id=' + encodeURIComponent(id);
  try {
    const [sessions, files] = await Promise.all([
      api('/api/usb/sessions' + q), api('/api/usb/files' + q)]);
    d.replaceChildren(el('h3', {}, id),
      el('table', {}, el('thead', {}, el('tr', {}, ...['PC', 'In', 'Out',
        'Label', 'Written', 'Read'].map((t) => el('th', {}, t)))),
      el('tbody', {}, ...sessions.map((s) => el('tr', {},
        el('td', {}, s.host), el('td', {}, when(s.added)),
        el('td', {}, when(s.removed)), el('td', {}, s.fs_label || ''),
        el('td', {}, s.files_written + ' files, ' + bytes(s.bytes_written)),
        el('td', {}, s.files_read + ' files, ' + bytes(s.bytes_read)))))),
      el('h4', {}, 'Files'),
      el('table', {}, el('tbody', {}, ...files.map((f) => el('tr', {},
        el('td', {}, when(f.ts)), el('td', {}, f.host),
        el('td', {}, f.direction), el('td', { class: 'line' }, f.path),
        el('td', {}, f.size === null ? '' : bytes(f.size)),
        el('td', {}, f.comm || ''))))));
  } catch (e) {
    d.textContent = e.message;
  }
}

// Search: the index by host, type, time and text.

function viewSearch() {
  S.route = 'search';
  const f = el('form', { class: 'search', id: 'search-form' },
    el('input', { name: 'q', placeholder: 'text' }),
    el('input', { name: 'host', placeholder: 'host' }),
    el('input', { name: 'type', placeholder: 'event (usb.*)' }),
    el('input', { name: 'from', placeholder: 'from 2026-11-29T08:00' }),
    el('input', { name: 'to', placeholder: 'to' }),
    el('input', { name: 'limit', value: '100', size: '4' }),
    el('button', { type: 'submit' }, 'Search'));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(f)) if (v) p.set(k, v);
    const tb = $('#results tbody');
    tb.replaceChildren();
    $('#search-note').textContent = 'searching…';
    try {
      const rows = await api('/api/events?' + p);
      for (const r of rows) tb.append(eventRow(r.ts, r.host, r.event, r.line));
      $('#search-note').textContent = rows.length + ' events';
    } catch (e) {
      $('#search-note').textContent = e.message;
    }
  });
  $('#main').append(el('h2', {}, 'Search'), f, el('p', { id: 'search-note' }),
    eventTable('results'));
}

async function start() {
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  window.addEventListener('hashchange', route);
  try {
    loggedIn(await api('/api/session'));
  } catch (e) {
    showLogin();
  }
}

start();
