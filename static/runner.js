// Running one scenario: execute its code from this page (or from a sandboxed iframe), then ask the
// API's journal what happened, and work out what the browser did: the verdict, the console line,
// the preflights and the preflight cache. No DOM rendering here, so the logic reads on its own.

import { headerValue } from './dom.js';

const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;

let counter = 0;

/** A fresh run id: `${id}-${Date.now().toString(36)}-${counter}`. */
export function newRunId(scenarioId) {
  counter += 1;
  return `${scenarioId}-${Date.now().toString(36)}-${counter}`;
}

/** `api(path)` → `${apiUrl}${path}` with `run=<runId>` added to the query (an existing query is kept). */
export function makeApi(apiUrl, runId) {
  const base = String(apiUrl).replace(/\/+$/, '');
  return (path) => {
    const p = String(path);
    const url = new URL(base + (p.startsWith('/') ? p : `/${p}`));
    url.searchParams.set('run', runId);
    return url.toString();
  };
}

/** The credentials mode whose verdict applies to this scenario. */
export function verdictMode(scenario) {
  return scenario.credentials === 'include' ? 'include' : 'omit';
}

/** "fetch" (default), "xhr" or "sandboxed-iframe". */
export function runnerOf(scenario) {
  return scenario.runner === 'xhr' || scenario.runner === 'sandboxed-iframe' ? scenario.runner : 'fetch';
}

/** The origin the request leaves from: this page's, or `null` from the sandboxed iframe. */
export function requestOrigin(scenario, pageOrigin) {
  return runnerOf(scenario) === 'sandboxed-iframe' ? 'null' : pageOrigin;
}

/** Run the scenario's code (the body of `async function (api)`) in this page. Never throws. */
export async function runScript(code, api) {
  try {
    const fn = new AsyncFunction('api', code);
    const value = await fn(api);
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: String(e) };
  }
}

/**
 * Run the code inside `<iframe sandbox="allow-scripts" srcdoc=…>`: an opaque origin, so its
 * requests carry `Origin: null`. The result comes back by postMessage. Never throws.
 */
export function runInSandbox(code, apiUrl, runId, { timeoutMs = 15000 } = {}) {
  return new Promise((resolve) => {
    const token = `${runId}-${Math.random().toString(36).slice(2)}`;
    // JSON inside a <script>: escape "<" so no "</script>" can end it early.
    const payload = JSON.stringify({ code, apiUrl: String(apiUrl).replace(/\/+$/, ''), runId, token })
      .replaceAll('<', '\\u003c');
    const srcdoc = `<!doctype html><meta charset="utf-8"><script>
const P = ${payload};
const api = (path) => {
  const p = String(path);
  const u = new URL(P.apiUrl + (p.startsWith('/') ? p : '/' + p));
  u.searchParams.set('run', P.runId);
  return u.toString();
};
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
(async () => {
  let msg;
  try { msg = { ok: true, value: await new AsyncFunction('api', P.code)(api) }; }
  catch (e) { msg = { ok: false, error: String(e) }; }
  try { msg = JSON.parse(JSON.stringify(msg)); }
  catch (e) { msg = { ok: false, error: 'the result could not be sent back: ' + e }; }
  msg.token = P.token;
  parent.postMessage(msg, '*');
})();
<\/script>`;
    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', 'allow-scripts');
    frame.setAttribute('title', 'Sandboxed iframe running a scenario');
    frame.setAttribute('aria-hidden', 'true');
    frame.setAttribute('tabindex', '-1');
    frame.className = 'sandbox-frame';
    let timer = null;
    const finish = (result) => {
      window.removeEventListener('message', onMessage);
      clearTimeout(timer);
      frame.remove();
      resolve(result);
    };
    const onMessage = (ev) => {
      if (ev.source !== frame.contentWindow || ev.data?.token !== token) return;
      const { ok, value, error } = ev.data;
      finish(ok ? { ok: true, value } : { ok: false, error: String(error) });
    };
    window.addEventListener('message', onMessage);
    timer = setTimeout(() => finish({ ok: false, error: `no answer from the sandboxed iframe within ${timeoutMs / 1000} s` }), timeoutMs);
    frame.srcdoc = srcdoc;
    document.body.append(frame);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Oldest first, by id. */
export function sortOldestFirst(entries) {
  return [...entries].sort((a, b) => a.id - b.id);
}

const passes = (entry, mode) => entry?.verdict?.[mode]?.pass !== false;
const isRedirect = (status) => Number(status) >= 300 && Number(status) < 400;

// The journal may be a moment behind the script (its promise can settle before the server has
// recorded the exchange). A run looks incomplete when nothing arrived yet, when it ends with a
// preflight that passed (its actual request follows), when it ends with a redirect that passed
// (the next hop follows), or when fewer of its requests are accounted for than the code sends.
function looksIncomplete(entries, mode, scenario) {
  if (scenario?.reaches_api === false) return false;
  if (entries.length === 0) return true;
  const last = entries[entries.length - 1];
  if (last.kind === 'preflight' && passes(last, mode)) return true;
  if (last.kind === 'actual' && isRedirect(last.status) && passes(last, mode)) return true;
  if (scenario?.cache) {
    const settled = entries.filter((e) => e.kind === 'actual' || !passes(e, mode)).length;
    if (settled < (scenario.requests ?? 1)) return true;
  }
  return false;
}

/**
 * GET `${apiUrl}/_lab/journal?run=<runId>`, oldest first. Retries briefly while the run looks
 * incomplete.
 */
export async function fetchRunEntries(apiUrl, runId, mode, scenario, { attempts = 6, delayMs = 60 } = {}) {
  const base = String(apiUrl).replace(/\/+$/, '');
  // Every character of the id percent-encoded: the API decodes it all the same, and this page's
  // own journal request then does not match `run=<id>`, the filter that finds the run's requests
  // in DevTools (and in the browser tests).
  const encoded = [...new TextEncoder().encode(runId)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  const url = `${base}/_lab/journal?run=${encoded}`;
  let entries = [];
  for (let i = 0; i < attempts; i += 1) {
    const res = await fetch(url, { cache: 'no-store' });
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
    const body = await res.json();
    entries = sortOldestFirst(Array.isArray(body) ? body : []);
    if (!looksIncomplete(entries, mode, scenario)) break;
    if (i + 1 < attempts) await sleep(delayMs * (i + 1));
  }
  return entries;
}

/**
 * The browser's verdict on a run, from its journal entries (any order).
 * The first entry (oldest first) whose verdict for `mode` has pass === false blocks the run.
 */
export function computeVerdict(entries, mode) {
  const sorted = sortOldestFirst(entries);
  const preflightCount = sorted.filter((e) => e.kind === 'preflight').length;
  const base = {
    entries: sorted, preflightSeen: preflightCount > 0, preflightCount, mode,
    blocking: null, corsError: '', reason: '',
  };
  if (sorted.length === 0) return { ...base, outcome: 'unreached' };
  const blocking = sorted.find((e) => e.verdict?.[mode]?.pass === false);
  if (!blocking) return { ...base, outcome: 'pass' };
  const v = blocking.verdict[mode];
  return { ...base, outcome: 'blocked', blocking, corsError: v.cors_error ?? '', reason: v.reason ?? '' };
}

const VALID_VALUE_HINT = ' Have the server send the header with a valid value.';

/**
 * The reason as Chromium words it for this runner. The journal words it as for fetch; for
 * XMLHttpRequest Chromium leaves out "Have the server send the header with a valid value."
 * (seen in Chromium 156 with AllowOriginMismatch and MultipleAllowOriginValues).
 */
export function reasonFor(scenario, reason) {
  const text = String(reason ?? '');
  return runnerOf(scenario) === 'xhr' ? text.replaceAll(VALID_VALUE_HINT, '') : text;
}

/**
 * The line Chromium prints in the console for a blocked request:
 * `Access to fetch at '<url>' [(redirected from '<url0>') ]from origin '<origin>' has been
 * blocked by CORS policy: <reason>` (`XMLHttpRequest` for XHR; origin `null` from the sandbox).
 */
export function consoleLine({ blocking, entries, reason, scenario, pageOrigin }) {
  if (!blocking) return '';
  const what = runnerOf(scenario) === 'xhr' ? 'XMLHttpRequest' : 'fetch';
  const origin = requestOrigin(scenario, pageOrigin);
  let redirected = '';
  if (blocking.kind === 'actual') {
    const actuals = sortOldestFirst(entries).filter((e) => e.kind === 'actual');
    const i = actuals.indexOf(blocking);
    if (i > 0 && isRedirect(actuals[i - 1].status)) redirected = ` (redirected from '${actuals[0].url}')`;
  }
  // For XMLHttpRequest, Chromium adds a hint to the credentials errors (seen in Chromium 156).
  const xhrHint = what === 'XMLHttpRequest' && /credentials mode is 'include'/.test(reason)
    ? ' The credentials mode of requests initiated by the XMLHttpRequest is controlled by the withCredentials attribute.'
    : '';
  return `Access to ${what} at '${blocking.url}'${redirected} from origin '${origin}' has been blocked by CORS policy: ${reason}${xhrHint}`;
}

/**
 * The Max-Age a preflight answer set: { seconds, sent }. Without the header browsers cache a
 * preflight for 5 s; Chromium caps it at 7200 s.
 */
export function preflightMaxAge(preflight) {
  const raw = headerValue(preflight?.cors_response ?? preflight?.response, 'access-control-max-age');
  if (raw === null || raw === undefined || raw === '') return { seconds: 5, sent: false, text: 'no Max-Age: browsers keep it 5 s' };
  const n = Number.parseInt(raw, 10);
  if (!Number.isFinite(n) || n < 0) return { seconds: 5, sent: true, text: `Max-Age ${raw}, unreadable: 5 s` };
  return { seconds: Math.min(n, 7200), sent: true, text: `Max-Age ${raw}` };
}

function listOf(value) {
  return String(value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/** Would a cached answer of this preflight cover a later request that adds `newHeaders`? */
function cachedAnswerCovers(preflight, newHeaders, mode) {
  if (!newHeaders.length) return true;
  const allowed = listOf(headerValue(preflight.cors_response, 'access-control-allow-headers'));
  const wildcard = allowed.includes('*') && mode !== 'include';
  return newHeaders.every((h) => {
    const name = String(h).toLowerCase();
    // Chromium lets a cached `*` cover Authorization too (the Fetch standard says it should not).
    return allowed.includes(name) || wildcard;
  });
}

/**
 * How many preflights the browser should send for this run, as the page predicts it.
 * - `reaches_api: false`: 0;
 * - preflight-cache scenarios: the first request preflights; the later ones reuse its answer
 *   when it passed and may be cached (Max-Age not 0; 5 s when absent) and covers their headers,
 *   else each preflights again;
 * - `preflight.per_hop` (a preflighted request that is redirected): one for each URL it is sent
 *   to, that is one more after each redirect that passed (the cache holds nothing for the new
 *   URL); before a run, one per request the code makes;
 * - otherwise 1 when the catalogue expects a preflight, else 0.
 * For cache scenarios the first preflight's journal entry decides; before a run (no entries) the
 * policy's fields give the prediction (`policy` may be null).
 */
export function expectedPreflights(scenario, entries, mode, policy) {
  if (scenario.reaches_api === false) return 0;
  const requests = Math.max(1, Number(scenario.requests ?? 1));
  if (scenario.preflight?.per_hop) {
    if (!entries?.length) return requests;
    return 1 + entries.filter((e) => e.kind === 'actual' && isRedirect(e.status) && passes(e, mode)).length;
  }
  if (!scenario.cache) return scenario.preflight?.expected ? 1 : 0;
  const newHeaders = scenario.preflight?.new_headers ?? [];
  const first = sortOldestFirst(entries ?? []).find((e) => e.kind === 'preflight');
  if (first) {
    if (!passes(first, mode)) return requests;
    if (preflightMaxAge(first).seconds === 0) return requests;
    return cachedAnswerCovers(first, newHeaders, mode) ? 1 : requests;
  }
  return predictFromPolicy(scenario, mode, policy).count;
}

/**
 * Was the journal `entry` answered in front of the API's CORS layer (the front's redirect of
 * /moved/), so that the engine never saw it?
 */
export function isFrontAnswer(entry) {
  return entry?.answered_by === 'front-redirect';
}

/** The cache prediction from the policy alone (before a run), with the reason in words. */
export function predictFromPolicy(scenario, mode, policy, pageOrigin = '') {
  const requests = Math.max(1, Number(scenario.requests ?? 1));
  const field = (name) => (policy?.fields ?? []).find((f) => f.name === name)?.value ?? '';
  if (!policy) return { count: 1, why: 'once the policy is known' };
  if (policy.preset === 'off') return { count: requests, why: 'under off the preflight fails, and failed preflights are never cached' };
  const origins = listOf(field('allow_origins'));
  if (!policy.broken && pageOrigin && origins.length && !origins.some((o) => o === '*' || o.includes('*') || o === pageOrigin.toLowerCase())) {
    return { count: requests, why: `this page's origin is not in CORS_ALLOW_ORIGINS, so each preflight fails, and failed preflights are never cached` };
  }
  const maxAge = field('max_age');
  if (maxAge === '0') return { count: requests, why: 'Max-Age 0: the browser does not cache the preflight' };
  const ageText = maxAge === '' ? 'no Max-Age: browsers cache it 5 s' : `Max-Age ${maxAge}`;
  const newHeaders = scenario.preflight?.new_headers ?? [];
  if (newHeaders.length) {
    const allowed = listOf(field('allow_headers'));
    const star = allowed.includes('*') && mode !== 'include' && field('allow_credentials') !== 'true';
    if (!star) return { count: requests, why: `the cached answer lists only the headers asked for, not ${newHeaders.join(', ')} (${ageText})` };
    return { count: 1, why: `the cached Access-Control-Allow-Headers: * also covers ${newHeaders.join(', ')} (${ageText})` };
  }
  return { count: 1, why: `the second request reuses the cached preflight (${ageText}), if the first one passes${policy.broken ? ' — a broken preset may well make it fail' : ''}` };
}

/**
 * The run as rounds: one per request the browser made (or tried), each
 * { preflight, actual, skip, notSent, hop }.
 * `skip` says why a round has no preflight: { kind: 'simple' | 'cached' | 'redirect' |
 * 'no-cors' | 'missing', text, by?, maxAge? }.
 */
export function analyzeRounds(entries, scenario, mode) {
  const sorted = sortOldestFirst(entries);
  const rounds = [];
  let current = null;
  for (const e of sorted) {
    if (e.kind === 'preflight') {
      current = { preflight: e, actual: null };
      rounds.push(current);
    } else if (current && current.preflight && !current.actual && current.preflight.url === e.url
      && (current.preflight.request_method ?? '') === e.method) {
      current.actual = e;
    } else {
      current = { preflight: null, actual: e };
      rounds.push(current);
    }
  }
  rounds.forEach((round, i) => {
    const previous = rounds[i - 1];
    round.hop = previous?.actual && isRedirect(previous.actual.status);
    if (round.preflight) {
      round.notSent = !round.actual && !passes(round.preflight, mode);
      return;
    }
    const a = round.actual;
    if (!a.origin) {
      round.skip = { kind: 'no-cors', text: 'no Origin header: not a CORS request (no-cors), so no preflight and no CORS check' };
    } else if (round.hop) {
      round.skip = { kind: 'redirect', text: `the browser followed the ${previous.actual.status} redirect; a simple GET needs no preflight, even after a redirect` };
    } else {
      const by = rounds.slice(0, i).map((r) => r.preflight)
        .filter((p) => p && p.url === a.url && p.request_method === a.method && passes(p, mode)).pop();
      if (by) {
        const maxAge = preflightMaxAge(by);
        round.skip = {
          kind: 'cached', by, maxAge,
          text: `this ${a.method} was not preflighted: allowed by the preflight at ${clock(by.time_ms)} (${maxAge.text})`,
        };
      } else if (scenario.preflight?.expected) {
        round.skip = { kind: 'missing', text: 'no preflight was recorded although this request needs one: the browser must have had a cached answer for this URL' };
      } else {
        round.skip = { kind: 'simple', text: `simple request: ${scenario.preflight?.why ?? 'no preflight needed'}` };
      }
    }
  });
  return rounds;
}

function clock(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Run one scenario end to end. `policy` is the effective policy when known (for the words only).
 * Returns { runId, script, outcome, corsError, reason, blocking, preflightSeen, preflightCount,
 *           expectedPreflights, entries, rounds, mode, console, journalError, preset }.
 */
export async function runScenario(scenario, { apiUrl, pageOrigin }, policy = null) {
  const runId = newRunId(scenario.id);
  const mode = verdictMode(scenario);
  const script = runnerOf(scenario) === 'sandboxed-iframe'
    ? await runInSandbox(scenario.code, apiUrl, runId)
    : await runScript(scenario.code, makeApi(apiUrl, runId));

  let verdict;
  let journalError = '';
  try {
    const entries = await fetchRunEntries(apiUrl, runId, mode, scenario);
    verdict = computeVerdict(entries, mode);
    verdict.reason = reasonFor(scenario, verdict.reason);
  } catch (e) {
    journalError = String(e);
    verdict = computeVerdict([], mode);
  }
  return {
    runId,
    script,
    journalError,
    preset: policy?.preset ?? null,
    ...verdict,
    rounds: analyzeRounds(verdict.entries, scenario, mode),
    expectedPreflights: expectedPreflights(scenario, verdict.entries, mode, policy),
    console: consoleLine({ ...verdict, scenario, pageOrigin }),
  };
}
