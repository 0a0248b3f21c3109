// Journal entries: how one entry is shown, and the live panel fed by server-sent events.

import { h, fill, headerTable, isCorsHeader, formatTime } from './dom.js';

const MAX_ENTRIES = 200;

function kindBadge(entry) {
  return entry.kind === 'preflight'
    ? h('span', { class: 'badge badge--preflight', title: 'CORS preflight: OPTIONS sent by the browser itself' }, 'preflight')
    : h('span', { class: 'badge badge--actual', title: 'The request the script made' }, 'actual');
}

function statusBadge(status) {
  const s = Number(status);
  const cls = s >= 500 ? 'status--5xx' : s >= 400 ? 'status--4xx' : s >= 300 ? 'status--3xx' : 'status--2xx';
  return h('span', { class: `status ${cls}`, title: `HTTP status ${status}` }, String(status));
}

/** A small pass/blocked chip for one credentials mode's verdict. */
export function verdictChip(verdict, label) {
  if (!verdict) return null;
  const prefix = label ? `${label}: ` : '';
  if (verdict.not_cors) return h('span', { class: 'chip chip--neutral', title: 'No Origin header: not a CORS request' }, `${prefix}not CORS`);
  if (verdict.pass) return h('span', { class: 'chip chip--pass' }, `${prefix}✓ pass`);
  return h('span', { class: 'chip chip--blocked', title: verdict.reason ?? '' },
    `${prefix}✗ blocked`, verdict.cors_error ? ` (${verdict.cors_error})` : '');
}

function verdictChips(entry, mode) {
  if (!entry.verdict) return null;
  if (mode) return verdictChip(entry.verdict[mode], mode === 'include' ? 'with credentials' : null);
  if (entry.verdict.omit?.not_cors) return verdictChip(entry.verdict.omit, null);
  return [verdictChip(entry.verdict.omit, 'omit'), verdictChip(entry.verdict.include, 'include')];
}

function fact(name, value, { code = true } = {}) {
  const shown = value === null || value === undefined || value === '' ? '—' : String(value);
  return h('div', { class: 'fact' }, h('dt', {}, name), h('dd', {}, code && shown !== '—' ? h('code', {}, shown) : shown));
}

function verdictDetail(label, v) {
  if (!v) return null;
  if (v.not_cors) return h('li', {}, h('strong', {}, `${label}: `), 'not a CORS request (no Origin header), nothing to check.');
  if (v.pass) return h('li', {}, h('strong', {}, `${label}: `), h('span', { class: 'ok-text' }, 'pass'));
  return h('li', {},
    h('strong', {}, `${label}: `),
    h('span', { class: 'bad-text' }, 'blocked'),
    v.cors_error ? [' — ', h('code', {}, v.cors_error)] : null,
    v.failed_parameter ? [' (failed parameter ', h('code', {}, v.failed_parameter), ')'] : null,
    v.reason ? h('div', { class: 'reason-text' }, v.reason) : null);
}

function decisionLine(entry) {
  const decision = entry.decision ?? {};
  return h('p', { class: 'small entry__decision' },
    h('span', { class: 'entry__label-inline' }, 'Server decision: '),
    decision.outcome ? h('span', { class: `decision decision--${decision.outcome}` }, decision.outcome) : '—',
    decision.reason ? ` ${decision.reason}` : '');
}

function corsResponse(entry) {
  return entry.cors_response && entry.cors_response.length
    ? headerTable(entry.cors_response)
    : h('p', { class: 'small bad-text' }, 'none: the API sent no Access-Control-* headers');
}

function allHeaders(entry) {
  return [
    headerTable(entry.request, { caption: 'Request headers (as received)', highlight: isCorsHeader }),
    headerTable(entry.response, { caption: 'Response headers', highlight: isCorsHeader }),
  ];
}

/** Full detail, for the journal panel. */
function entryBodyFull(entry) {
  return [
    h('dl', { class: 'facts' },
      fact('Request', `${entry.method} ${entry.url ?? entry.path}`),
      fact('Origin', entry.origin),
      fact('Access-Control-Request-Method', entry.request_method),
      fact('Access-Control-Request-Headers', entry.request_headers),
      fact('Cookie sent', entry.cookie_sent ? 'yes' : 'no', { code: false }),
      fact('Status', entry.status, { code: false }),
      fact('Time', formatTime(entry.time_ms), { code: false }),
      fact('Run', entry.run)),
    h('p', { class: 'entry__label' }, 'CORS response headers'),
    corsResponse(entry),
    decisionLine(entry),
    h('p', { class: 'entry__label' }, 'Chromium’s verdict'),
    h('ul', { class: 'verdicts small' },
      verdictDetail('credentials omitted', entry.verdict?.omit),
      verdictDetail('credentials included', entry.verdict?.include)),
    h('details', { class: 'entry__headers' },
      h('summary', {}, 'All request and response headers'),
      allHeaders(entry)),
  ];
}

/** What matters for one run, for a scenario card: `mode` is the credentials mode the code used. */
function entryBodyCompact(entry, mode) {
  const other = mode === 'include' ? 'omit' : 'include';
  return [
    h('dl', { class: 'facts' },
      fact('Request', `${entry.method} ${entry.url ?? entry.path}`),
      fact('Origin', entry.origin),
      entry.kind === 'preflight' || entry.request_method ? fact('Access-Control-Request-Method', entry.request_method) : null,
      entry.kind === 'preflight' || entry.request_headers ? fact('Access-Control-Request-Headers', entry.request_headers) : null,
      fact('Cookie sent', entry.cookie_sent ? 'yes' : 'no', { code: false })),
    h('p', { class: 'entry__label' }, 'CORS response headers'),
    corsResponse(entry),
    decisionLine(entry),
    h('details', { class: 'entry__headers' },
      h('summary', {}, 'All headers, and the verdict with credentials ', other === 'include' ? 'included' : 'omitted'),
      h('ul', { class: 'verdicts small' },
        verdictDetail(other === 'include' ? 'credentials included' : 'credentials omitted', entry.verdict?.[other])),
      allHeaders(entry)),
  ];
}

function entrySummary(entry) {
  return [
    kindBadge(entry),
    h('span', { class: 'entry__method' }, entry.method),
    h('span', { class: 'entry__path' }, entry.path),
    statusBadge(entry.status),
  ];
}

/**
 * One entry as an expandable <details> (journal panel) or an always-open block (scenario card).
 * `mode` ("omit"/"include"), when known, picks the verdict that matters.
 */
export function renderEntry(entry, { mode = null, collapsible = true } = {}) {
  const cls = `entry entry--${entry.kind === 'preflight' ? 'preflight' : 'actual'}`;
  const dataset = { entryId: entry.id, kind: entry.kind, run: entry.run ?? '' };
  const meta = h('span', { class: 'entry__meta' },
    h('span', { class: 'entry__chips' }, verdictChips(entry, mode)),
    ` ${formatTime(entry.time_ms)}`,
    entry.origin ? ` · from ${entry.origin}` : ' · no Origin');
  if (collapsible) {
    // The body is built on first open: the panel holds up to 200 entries.
    const body = h('div', { class: 'entry__body' });
    const details = h('details', { class: cls, dataset },
      h('summary', { class: 'entry__summary' }, entrySummary(entry), meta),
      body);
    details.addEventListener('toggle', () => {
      if (details.open && !body.hasChildNodes()) fill(body, entryBodyFull(entry));
    });
    return details;
  }
  return h('div', { class: cls, dataset },
    h('div', { class: 'entry__summary' },
      entrySummary(entry),
      h('span', { class: 'entry__chips' }, verdictChips(entry, mode))),
    h('div', { class: 'entry__body' }, entryBodyCompact(entry, mode ?? 'omit')));
}

/**
 * The live journal panel: initial list from /_lab/journal, then `event: entry` from /_lab/events.
 * `modeForRun(run)` may return the credentials mode of a run started by this page.
 */
export class JournalPanel {
  constructor({ apiUrl, list, empty, status, clearButton, modeForRun = () => null }) {
    this.apiUrl = String(apiUrl).replace(/\/+$/, '');
    this.list = list;
    this.empty = empty;
    this.status = status;
    this.modeForRun = modeForRun;
    this.items = []; // { id, node }, newest (highest id) first
    this.ids = new Set();
    this.clearedBelow = 0; // entries with id <= this were cleared from the view
    clearButton?.addEventListener('click', () => this.clear());
  }

  start() {
    this.connect();
    this.loadInitial();
  }

  async loadInitial() {
    try {
      const res = await fetch(`${this.apiUrl}/_lab/journal`, { cache: 'no-store' });
      if (!res.ok) throw new Error(`status ${res.status}`);
      const entries = await res.json();
      if (!Array.isArray(entries)) throw new Error('not a list');
      // After a reconnect: a journal whose newest id is below what is shown means the API restarted
      // (ids start again at 1), so start the view afresh.
      const newest = entries.reduce((m, e) => Math.max(m, e.id ?? 0), 0);
      const shown = Math.max(this.items[0]?.id ?? 0, this.clearedBelow);
      if (newest < shown) this.reset();
      // Newest first from the server; only the newest MAX_ENTRIES matter.
      for (const e of entries.slice(0, MAX_ENTRIES)) this.add(e);
    } catch (e) {
      this.setStatus('error', `journal unavailable (${e.message ?? e})`);
    }
  }

  connect() {
    if (typeof EventSource === 'undefined') {
      this.setStatus('error', 'no EventSource in this browser');
      return;
    }
    this.setStatus('connecting', 'connecting…');
    const es = new EventSource(`${this.apiUrl}/_lab/events`);
    let hadError = false;
    es.addEventListener('open', () => {
      this.setStatus('live', 'live');
      if (hadError) this.loadInitial(); // fill what was missed while disconnected
      hadError = false;
    });
    es.addEventListener('error', () => {
      hadError = true;
      if (es.readyState === EventSource.CLOSED) this.setStatus('error', 'disconnected');
      else this.setStatus('connecting', 'reconnecting…');
    });
    es.addEventListener('entry', (ev) => {
      try {
        this.add(JSON.parse(ev.data));
      } catch (e) {
        console.warn('CORS Lab: unreadable journal event', e, ev.data);
      }
    });
    this.source = es;
  }

  setStatus(state, text) {
    if (!this.status) return;
    this.status.dataset.status = state;
    this.status.textContent = text;
  }

  add(entry) {
    if (!entry || typeof entry.id !== 'number' || this.ids.has(entry.id) || entry.id <= this.clearedBelow) return;
    // Older than everything shown while the panel is full: not worth showing.
    if (this.items.length >= MAX_ENTRIES && entry.id < this.items[this.items.length - 1].id) return;
    const node = h('li', { class: 'journal__item' }, renderEntry(entry, { mode: this.modeForRun(entry.run) }));
    const index = this.items.findIndex((it) => it.id < entry.id);
    if (index === -1) {
      this.list.append(node);
      this.items.push({ id: entry.id, node });
    } else {
      this.list.insertBefore(node, this.items[index].node);
      this.items.splice(index, 0, { id: entry.id, node });
    }
    this.ids.add(entry.id);
    while (this.items.length > MAX_ENTRIES) {
      const old = this.items.pop();
      old.node.remove();
      this.ids.delete(old.id);
    }
    if (this.empty) this.empty.hidden = true;
  }

  reset() {
    this.clearedBelow = 0;
    this.clear();
    this.clearedBelow = 0;
  }

  clear() {
    if (this.items.length) this.clearedBelow = Math.max(this.clearedBelow, this.items[0].id);
    this.items = [];
    this.ids.clear();
    fill(this.list);
    if (this.empty) this.empty.hidden = false;
  }
}
