// Journal entries: how one entry is shown, and the live panel fed by server-sent events
// (`event: entry` for each exchange, `event: policy` after a runtime switch).

import { h, fill, headerTable, isCorsHeader, formatTime, formatClock, wordBreaks } from './dom.js';
import { preflightMaxAge } from './runner.js';

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

/** "pass" | "blocked" | "not-cors" for one credentials mode's verdict of an entry. */
export function verdictClass(entry, mode = 'omit') {
  const v = entry?.verdict?.[mode] ?? entry?.verdict?.omit;
  if (!v) return '';
  if (v.not_cors) return 'not-cors';
  return v.pass ? 'pass' : 'blocked';
}

/** A small pass/blocked chip for one credentials mode's verdict. */
export function verdictChip(verdict, label) {
  if (!verdict) return null;
  const prefix = label ? `${label}: ` : '';
  if (verdict.not_cors) return h('span', { class: 'chip chip--neutral', title: 'No Origin header: not a CORS request' }, `${prefix}not CORS`);
  if (verdict.pass) return h('span', { class: 'chip chip--pass' }, `${prefix}✓ pass`);
  return h('span', { class: 'chip chip--blocked', title: verdict.reason ?? '' },
    `${prefix}✗ blocked`, verdict.cors_error ? [' (', wordBreaks(verdict.cors_error), ')'] : '');
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

function cacheLine(note) {
  return note ? h('p', { class: 'entry__cache small' }, h('span', { class: 'badge badge--cache' }, 'cached preflight'), ' ', note) : null;
}

/** Full detail, for the journal panel. */
function entryBodyFull(entry, note) {
  return [
    cacheLine(note),
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

/** `name: value` lines, compact enough for a narrow column. */
function headerLines(pairs, { empty = 'none' } = {}) {
  if (!pairs.length) return h('p', { class: 'small bad-text' }, empty);
  return h('dl', { class: 'hlines' },
    pairs.map(([k, v]) => h('div', {}, h('dt', {}, `${k}:`), ' ', h('dd', {}, v === null || v === undefined || v === '' ? '—' : String(v)))));
}

/** What matters for one run, for a scenario card: `mode` is the credentials mode the code used. */
function entryBodyCompact(entry, mode, note) {
  const other = mode === 'include' ? 'omit' : 'include';
  const sent = [['Origin', entry.origin ?? '(none)']];
  if (entry.kind === 'preflight' || entry.request_method) sent.push(['Access-Control-Request-Method', entry.request_method]);
  if (entry.kind === 'preflight' || entry.request_headers) sent.push(['Access-Control-Request-Headers', entry.request_headers]);
  sent.push(['Cookie', entry.cookie_sent ? '(sent)' : '(none)']);
  return [
    cacheLine(note),
    h('p', { class: 'entry__label' }, 'Received'),
    headerLines(sent),
    h('p', { class: 'entry__label' }, `Answered ${entry.status}, with`),
    headerLines(entry.cors_response ?? [], { empty: 'no Access-Control-* header at all' }),
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
 * `mode` ("omit"/"include"), when known, picks the verdict that matters; `note` is a
 * preflight-cache note for an actual request that was not preflighted.
 */
export function renderEntry(entry, { mode = null, collapsible = true, note = '' } = {}) {
  const cls = `entry entry--${entry.kind === 'preflight' ? 'preflight' : 'actual'}`;
  const dataset = { entryId: entry.id, kind: entry.kind, run: entry.run ?? '' };
  if (collapsible) {
    const meta = h('span', { class: 'entry__meta' },
      h('span', { class: 'entry__chips' }, verdictChips(entry, mode)),
      ` ${formatTime(entry.time_ms)}`,
      entry.origin ? ` · from ${entry.origin}` : ' · no Origin',
      entry.run ? ` · ${entry.run}` : '');
    // The body is built on first open: the panel holds up to 200 entries. The cache note is in
    // the summary already.
    const body = h('div', { class: 'entry__body' });
    const details = h('details', { class: cls, dataset },
      h('summary', { class: 'entry__summary' }, entrySummary(entry), meta,
        note ? h('span', { class: 'entry__cache-inline' }, h('span', { class: 'badge badge--cache' }, 'cached preflight'), ` ${note}`) : null),
      body);
    details.addEventListener('toggle', () => {
      if (details.open && !body.hasChildNodes()) fill(body, entryBodyFull(entry, ''));
    });
    return details;
  }
  return h('div', { class: cls, dataset },
    h('div', { class: 'entry__summary' },
      entrySummary(entry),
      h('span', { class: 'entry__chips' }, verdictChips(entry, mode))),
    h('div', { class: 'entry__body' }, entryBodyCompact(entry, mode ?? 'omit', note)));
}

/**
 * For an actual request that a preflight of an earlier request of the same URL and method
 * covered (a cache hit), the note "this PUT was not preflighted: allowed by the preflight at …".
 * `entries` is everything known, any order.
 */
export function cacheNoteFor(entry, entries, mode = 'omit') {
  if (entry.kind !== 'actual' || !entry.origin) return '';
  const before = entries.filter((e) => e.id < entry.id && e.url === entry.url).sort((a, b) => a.id - b.id);
  let preflight = null;
  let used = false; // has an actual request already followed that preflight?
  for (const e of before) {
    if (e.kind === 'preflight' && e.request_method === entry.method) {
      preflight = e;
      used = false;
    } else if (e.kind === 'actual' && e.method === entry.method) {
      used = true;
    }
  }
  if (!preflight || !used || preflight.verdict?.[mode]?.pass === false) return '';
  return `this ${entry.method} was not preflighted: allowed by the preflight at ${formatClock(preflight.time_ms)} (${preflightMaxAge(preflight).text})`;
}

/**
 * The live journal panel: initial list from /_lab/journal, then the event stream.
 * `scenarioForRun(run)` → the scenario id of a run (run ids start with it), or '';
 * `modeForRun(run)` → its credentials mode, or null; `onPolicy(policy)` gets `event: policy`
 * (the stream's first event, and one after each switch).
 */
export class JournalPanel {
  constructor({ apiUrl, list, empty, status, clearButton, count, filters = {}, modeForRun = () => null,
    scenarioForRun = () => '', onPolicy = () => {} }) {
    this.apiUrl = String(apiUrl).replace(/\/+$/, '');
    this.list = list;
    this.empty = empty;
    this.status = status;
    this.count = count;
    this.filters = filters; // { scenario, kind, verdict }: <select>s
    this.modeForRun = modeForRun;
    this.scenarioForRun = scenarioForRun;
    this.onPolicy = onPolicy;
    this.items = []; // { id, entry, node }, newest (highest id) first
    this.ids = new Set();
    this.clearedBelow = 0; // entries with id <= this were cleared from the view
    this.skipped = 0; // entries the event stream left out (its `gap` events), shown in the status
    this.catchUp = null; // the pending reload of the journal after a gap
    this.instance = undefined; // the run of the API the entries shown come from
    clearButton?.addEventListener('click', () => this.clear());
    for (const select of Object.values(filters)) select?.addEventListener('change', () => this.applyFilters());
  }

  /** Fill the scenario filter with the catalogue's ids. */
  setScenarios(scenarios) {
    const select = this.filters.scenario;
    if (!select) return;
    fill(select,
      h('option', { value: '' }, 'all'),
      scenarios.map((s) => h('option', { value: s.id }, s.id)),
      h('option', { value: '-' }, 'no scenario (curl, other tools)'));
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
      // Oldest first, so that each entry's cache note sees the entries before it.
      for (const e of entries.slice(0, MAX_ENTRIES).reverse()) this.add(e);
    } catch (e) {
      this.setStatus('error', `journal unavailable (${e.message ?? e})`);
    }
  }

  /**
   * The stream opens with the policy of the API's current run (its `instance`). Journal ids
   * start again at 1 when the API restarts, so after another run the entries shown are
   * another journal's, whose ids the new one reuses: start the view afresh and load the new
   * journal. (An id alone cannot tell: the new run may already have recorded as many.)
   */
  sawInstance(instance) {
    if (instance === undefined) return;
    const restarted = this.instance !== undefined && instance !== this.instance;
    this.instance = instance;
    if (restarted) {
      this.skipped = 0; // the old run's count
      this.reset();
      this.loadInitial();
    }
  }

  connect() {
    if (typeof EventSource === 'undefined') {
      this.setStatus('error', 'no EventSource in this browser');
      return;
    }
    this.setStatus('connecting', 'connecting…');
    const es = new EventSource(`${this.apiUrl}/_lab/events`);
    es.addEventListener('open', () => {
      this.setStatus('live', 'live');
      // Whatever was recorded before the stream was open (or while it was down) comes from the
      // journal itself; entries already shown are skipped by id.
      this.loadInitial();
    });
    es.addEventListener('error', () => {
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
    // Under load the API sends a sample of the newest entries and says how many it left out;
    // the journal itself has them (its last 1000), so catch up from it, at most once a second.
    es.addEventListener('gap', (ev) => {
      let skipped = 0;
      try {
        skipped = Number(JSON.parse(ev.data).skipped) || 0;
      } catch (e) {
        console.warn('CORS Lab: unreadable gap event', e, ev.data);
      }
      this.skipped += skipped;
      this.setStatus('live', `live (${this.skipped.toLocaleString()} not streamed: too many at once)`);
      if (this.catchUp) return;
      this.catchUp = setTimeout(() => {
        this.catchUp = null;
        this.loadInitial();
      }, 1000);
    });
    es.addEventListener('policy', (ev) => {
      let policy;
      try {
        policy = JSON.parse(ev.data);
      } catch (e) {
        console.warn('CORS Lab: unreadable policy event', e, ev.data);
        return;
      }
      this.sawInstance(policy?.instance);
      this.onPolicy(policy);
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
    const mode = this.modeForRun(entry.run);
    const note = cacheNoteFor(entry, this.items.map((it) => it.entry), mode ?? 'omit');
    const node = h('li', {
      class: 'journal__item',
      dataset: {
        kind: entry.kind,
        verdict: verdictClass(entry, mode ?? 'omit'),
        scenario: this.scenarioForRun(entry.run) || '-',
      },
    }, renderEntry(entry, { mode, note }));
    const index = this.items.findIndex((it) => it.id < entry.id);
    if (index === -1) {
      this.list.append(node);
      this.items.push({ id: entry.id, entry, node });
    } else {
      this.list.insertBefore(node, this.items[index].node);
      this.items.splice(index, 0, { id: entry.id, entry, node });
    }
    this.ids.add(entry.id);
    while (this.items.length > MAX_ENTRIES) {
      const old = this.items.pop();
      old.node.remove();
      this.ids.delete(old.id);
    }
    this.filterOne(node);
    this.updateCount();
  }

  filterValues() {
    const v = (name) => this.filters[name]?.value ?? '';
    return { scenario: v('scenario'), kind: v('kind'), verdict: v('verdict') };
  }

  filterOne(node, f = this.filterValues()) {
    const d = node.dataset;
    node.hidden = Boolean((f.scenario && d.scenario !== f.scenario)
      || (f.kind && d.kind !== f.kind)
      || (f.verdict && d.verdict !== f.verdict));
  }

  applyFilters() {
    const f = this.filterValues();
    for (const it of this.items) this.filterOne(it.node, f);
    this.updateCount();
  }

  updateCount() {
    const total = this.items.length;
    const shown = this.items.filter((it) => !it.node.hidden).length;
    if (this.empty) {
      this.empty.hidden = shown > 0;
      this.empty.textContent = total ? 'No entry matches the filters.' : 'No requests yet. Run a scenario.';
    }
    if (this.count) {
      const filtered = Object.values(this.filterValues()).some(Boolean);
      this.count.textContent = filtered ? `Showing ${shown} of ${total} entries.` : (total ? `${total} entries.` : '');
    }
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
    this.updateCount();
  }
}
