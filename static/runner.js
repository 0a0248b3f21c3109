// Running one scenario: execute its code from this page, then ask the API's journal what happened.
// No DOM here, so the logic can be read (and tested) on its own.

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

/** Run the scenario's code (the body of `async function (api)`). Never throws. */
export async function runScript(code, api) {
  try {
    const fn = new AsyncFunction('api', code);
    const value = await fn(api);
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: String(e) };
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Oldest first, by id. */
export function sortOldestFirst(entries) {
  return [...entries].sort((a, b) => a.id - b.id);
}

// A run whose last entry is a preflight that passed should be followed by its actual request;
// if that entry is not there yet, the journal may simply be a moment behind. Same with no entry.
function looksIncomplete(entries, mode) {
  if (entries.length === 0) return true;
  const last = entries[entries.length - 1];
  return last.kind === 'preflight' && last.verdict?.[mode]?.pass !== false;
}

/**
 * GET `${apiUrl}/_lab/journal?run=<runId>`, oldest first. Retries briefly while the run looks
 * incomplete (the script's promise can settle a moment before the server has recorded it).
 */
export async function fetchRunEntries(apiUrl, runId, mode, { attempts = 5, delayMs = 60 } = {}) {
  const base = String(apiUrl).replace(/\/+$/, '');
  const url = `${base}/_lab/journal?run=${encodeURIComponent(runId)}`;
  let entries = [];
  for (let i = 0; i < attempts; i += 1) {
    const res = await fetch(url, { cache: 'no-store' });
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
    const body = await res.json();
    entries = sortOldestFirst(Array.isArray(body) ? body : []);
    if (!looksIncomplete(entries, mode)) break;
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
  const preflightSeen = sorted.some((e) => e.kind === 'preflight');
  const base = { entries: sorted, preflightSeen, mode, blocking: null, corsError: '', reason: '' };
  if (sorted.length === 0) return { ...base, outcome: 'unreached' };
  const blocking = sorted.find((e) => e.verdict?.[mode]?.pass === false);
  if (!blocking) return { ...base, outcome: 'pass' };
  const v = blocking.verdict[mode];
  return {
    ...base,
    outcome: 'blocked',
    blocking,
    corsError: v.cors_error ?? '',
    reason: v.reason ?? '',
  };
}

/** The line Chromium prints in the console for a blocked fetch. */
export function consoleLine(blockingEntry, pageOrigin, reason) {
  return `Access to fetch at '${blockingEntry.url}' from origin '${pageOrigin}' has been blocked by CORS policy: ${reason}`;
}

/**
 * Run one scenario end to end.
 * Returns { runId, script, outcome, corsError, reason, blocking, preflightSeen, entries, mode,
 *           console, journalError }.
 */
export async function runScenario(scenario, { apiUrl, pageOrigin }) {
  const runId = newRunId(scenario.id);
  const mode = verdictMode(scenario);
  const script = await runScript(scenario.code, makeApi(apiUrl, runId));

  let verdict;
  let journalError = '';
  try {
    const entries = await fetchRunEntries(apiUrl, runId, mode);
    verdict = computeVerdict(entries, mode);
  } catch (e) {
    journalError = String(e);
    verdict = computeVerdict([], mode);
  }
  return {
    runId,
    script,
    journalError,
    ...verdict,
    console: verdict.blocking ? consoleLine(verdict.blocking, pageOrigin, verdict.reason) : '',
  };
}
