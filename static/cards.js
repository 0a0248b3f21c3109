// Scenario cards: how a scenario is shown, and how a run's result is written into its card.
// DOM contract (the Rust browser tests rely on it):
// <article class="scenario" id="scenario-{id}" data-scenario data-state data-outcome
// data-cors-error data-preflight-seen data-preflight-count data-expected-preflights data-run-id>,
// <button data-run="{id}">, and the fields data-field="reason" | "script-result" | "console".

import { h, fill, copyText, headerValue, formatClock } from './dom.js';
import { renderEntry, cacheNoteFor } from './journal.js';
import { explain } from './explain.js';
import { verdictMode, runnerOf, requestOrigin, predictFromPolicy, isFrontAnswer } from './runner.js';
import { predictionBox } from './predict.js';
import { renderWorkflow } from './workflow.js';

/** Fill the {page_origin} and {api_url} placeholders of a curl command. */
export function curlFor(scenario, { pageOrigin, apiUrl }) {
  return String(scenario.curl ?? '')
    .replaceAll('{page_origin}', pageOrigin)
    .replaceAll('{api_url}', String(apiUrl).replace(/\/+$/, ''));
}

/** `#scenario=<id>&preset=<name>`: the shareable link of a card. */
export function shareHash(id, preset) {
  const p = new URLSearchParams({ scenario: id });
  if (preset) p.set('preset', preset);
  return `#${p.toString()}`;
}

function field(tag, name, attrs = {}, ...children) {
  return h(tag, { ...attrs, dataset: { ...(attrs.dataset ?? {}), field: name } }, ...children);
}

function q(card, name) {
  return card.querySelector(`[data-field="${name}"]`);
}

function preflightLine(scenario) {
  const expected = Boolean(scenario.preflight?.expected);
  if (scenario.reaches_api === false) {
    return h('p', { class: 'scenario__preflight' },
      h('span', { class: 'badge badge--simple' }, 'nothing sent'), ' ', scenario.preflight?.why ?? '', '.');
  }
  return h('p', { class: 'scenario__preflight' },
    h('span', { class: `badge ${expected ? 'badge--preflight' : 'badge--simple'}` },
      expected ? 'preflight: yes' : 'preflight: no'),
    ' ',
    expected ? 'The browser will send a preflight first, because ' : 'No preflight: ',
    scenario.preflight?.why ?? '',
    '.');
}

function credentialsLine(scenario) {
  if (verdictMode(scenario) === 'include') {
    return h('p', { class: 'scenario__creds small' },
      'Sent with credentials (', h('code', {}, runnerOf(scenario) === 'xhr' ? 'withCredentials = true' : "credentials: 'include'"),
      '): cookies go along, and the response needs the exact origin in Access-Control-Allow-Origin plus Access-Control-Allow-Credentials: true.');
  }
  return h('p', { class: 'scenario__creds small muted' },
    'Sent without credentials (a cross-origin fetch sends no cookies by default).');
}

function runnerLine(scenario) {
  const runner = runnerOf(scenario);
  if (runner === 'sandboxed-iframe') {
    return h('p', { class: 'small scenario__runner' }, h('span', { class: 'badge badge--runner' }, 'sandboxed iframe'),
      ' Run creates ', h('code', {}, '<iframe sandbox="allow-scripts" srcdoc=…>'), ' and runs the code inside it; the result comes back by postMessage.');
  }
  if (runner === 'xhr') {
    return h('p', { class: 'small scenario__runner' }, h('span', { class: 'badge badge--runner' }, 'XMLHttpRequest'),
      ' The console line says “Access to XMLHttpRequest at …”.');
  }
  return null;
}

/** Notes that depend on where the card is shown (trusted or untrusted page). */
function contextNotes(scenario, ctx) {
  const notes = [];
  const link = (url, text) => h('a', { href: `${url}/${shareHash(scenario.id)}` }, text);
  const loginLink = h('a', { href: `${ctx.trustedUrl}/${shareHash('login')}` }, 'Log in');
  if (scenario.from === 'untrusted') {
    notes.push(h('p', { class: 'callout callout--attack' },
      h('strong', {}, 'Meant for the untrusted page. '),
      '1. On the trusted page, run ', loginLink, ' so that your browser holds the session cookies. ',
      '2. Run this card ', ctx.role === 'untrusted' ? 'here' : link(ctx.untrustedUrl, 'on the untrusted page'),
      ', under strict, then under ', h('code', {}, 'broken-reflect-origin'), '. ',
      ctx.role === 'untrusted' ? '' : 'From this (trusted) page it is an ordinary credentialed read.'));
  } else if (verdictMode(scenario) === 'include' && scenario.id !== 'login') {
    notes.push(h('p', { class: 'small muted' }, 'Run ', loginLink, ' first, so there is a session cookie to send.'));
  }
  return notes;
}

/** The card of one scenario, in its idle state. `onRun(id)` is called by its Run button. */
export function renderCard(scenario, ctx, onRun) {
  const button = h('button', { type: 'button', class: 'button button--primary', dataset: { run: scenario.id } }, 'Run');
  button.addEventListener('click', () => onRun(scenario.id));

  const curl = curlFor(scenario, ctx);
  const copy = h('button', { type: 'button', class: 'button button--small' }, 'Copy');
  const copied = h('span', { class: 'small muted', role: 'status' });
  copy.addEventListener('click', async () => {
    copied.textContent = (await copyText(curl)) ? 'Copied.' : 'Copy failed: select the text instead.';
    setTimeout(() => { copied.textContent = ''; }, 2500);
  });

  const titleId = `scenario-${scenario.id}-title`;
  const badges = [];
  if (scenario.from === 'untrusted') badges.push(h('span', { class: 'badge badge--attack' }, 'from the untrusted page'));
  if (scenario.cache) badges.push(h('span', { class: 'badge badge--cache' }, 'preflight cache'));

  return h('article', {
    class: 'scenario',
    id: `scenario-${scenario.id}`,
    'aria-labelledby': titleId,
    tabindex: '-1',
    dataset: { scenario: scenario.id, state: 'idle' },
  },
    h('header', { class: 'scenario__head' },
      h('h4', { class: 'scenario__title', id: titleId }, scenario.title),
      h('p', { class: 'scenario__meta small' },
        h('code', {}, scenario.id), ' ', badges, ' ',
        field('a', 'permalink', { class: 'permalink', href: shareHash(scenario.id), title: 'A link to this card (with the current preset)' }, 'Link'))),
    h('p', { class: 'scenario__teaches' }, scenario.teaches),
    preflightLine(scenario),
    scenario.cache ? field('p', 'expectation', { class: 'small scenario__expectation' }) : null,
    credentialsLine(scenario),
    runnerLine(scenario),
    contextNotes(scenario, ctx),
    h('pre', { class: 'code', 'aria-label': 'Code this scenario runs, as the body of async function (api)' }, h('code', {}, scenario.code)),
    predictionBox(scenario),
    h('div', { class: 'scenario__actions' },
      button,
      field('span', 'status', { class: 'run-status', role: 'status' }, 'Not run yet.')),
    field('section', 'result', { class: 'result', hidden: true, 'aria-label': 'Result of the last run' },
      field('p', 'stale', { class: 'result__stale small', hidden: true }),
      field('div', 'verdict', { class: 'verdict' }),
      h('div', { class: 'result__grid' },
        h('section', { class: 'result__col', 'aria-label': 'What script got' },
          h('h5', {}, 'What script got'),
          field('pre', 'script-result', { class: 'script-result' }),
          field('p', 'script-note', { class: 'small muted' })),
        h('section', { class: 'result__col', 'aria-label': 'What the API received and answered' },
          h('h5', {}, 'What the API received and answered'),
          field('div', 'entries', { class: 'run-entries' })),
        h('section', { class: 'result__col', 'aria-label': 'The browser’s verdict' },
          h('h5', {}, 'The browser’s verdict'),
          field('div', 'verdict-detail', { class: 'verdict-detail' }),
          field('pre', 'console', { class: 'console', 'aria-label': 'Chromium console line' }),
          field('p', 'reason', { class: 'reason' }),
          field('div', 'explanation', { class: 'explanation' }))),
      field('div', 'notes', { class: 'result__notes' },
        field('p', 'preflight-note', { class: 'small' }),
        field('div', 'cookies', { class: 'cookies' }),
        field('div', 'exposed', { class: 'exposed small' })),
      h('details', { class: 'result__workflow', open: true },
        h('summary', {}, 'The workflow of this run, drawn'),
        field('div', 'diagram', { class: 'workflow__diagram' }))),
    h('details', { class: 'curl' },
      h('summary', {}, 'The same with curl'),
      field('pre', 'curl', { class: 'code' }, h('code', {}, curl)),
      h('div', { class: 'curl__actions' }, copy, copied),
      h('p', { class: 'small muted' },
        'curl gets an answer whatever the policy: it never enforces CORS, and sends no Origin unless you add one. CORS is enforced by the browser, which refuses to hand a blocked response to the script.')));
}

/** Switch a card to "running": previous result and attributes are cleared. */
export function markRunning(card) {
  card.dataset.state = 'running';
  for (const a of ['outcome', 'corsError', 'preflightSeen', 'preflightCount', 'expectedPreflights', 'runId']) delete card.dataset[a];
  const button = card.querySelector('[data-run]');
  button.disabled = true;
  q(card, 'status').textContent = 'Running…';
  q(card, 'result').hidden = true;
  for (const name of ['verdict', 'verdict-detail', 'console', 'reason', 'explanation', 'preflight-note',
    'script-result', 'script-note', 'entries', 'cookies', 'exposed', 'diagram', 'stale']) {
    fill(q(card, name));
  }
  q(card, 'stale').hidden = true;
  const score = card.querySelector('.predict__score');
  if (score) {
    fill(score);
    delete score.dataset.right;
    delete score.dataset.asked;
  }
}

function isNotCors(result) {
  return result.outcome === 'pass' && result.entries.length > 0
    && result.entries.every((e) => e.verdict?.[result.mode]?.not_cors);
}

function verdictBanner(result, scenario) {
  const attack = scenario.from === 'untrusted';
  const expectedUnreached = scenario.reaches_api === false;
  if (result.outcome === 'pass') {
    if (isNotCors(result)) {
      return [h('span', { class: 'verdict__label' }, '✓ No CORS check'),
        ' Not a CORS request (no Origin header): nothing to block, and nothing readable — the response is opaque.'];
    }
    return [h('span', { class: 'verdict__label' }, '✓ Pass'),
      ' The browser let the script read the response.',
      attack ? ' For an attack, “pass” is the bad outcome.' : ''];
  }
  if (result.outcome === 'blocked') {
    return [h('span', { class: 'verdict__label' }, '✗ Blocked by CORS'), ' ',
      h('code', { class: 'verdict__error' }, result.corsError || 'CORS error'),
      result.blocking?.kind === 'preflight' ? ' at the preflight: the actual request was never sent.'
        : isFrontAnswer(result.blocking) ? ' at the redirect: the browser did not follow it, so the new address was never asked.'
          : ' on the response: the API ran the request, script may not read it.'];
  }
  return [h('span', { class: 'verdict__label' }, '⚠ Unreached'),
    ' No request of this run reached the API',
    expectedUnreached ? ' — as expected: the browser refused before sending.' : '.'];
}

function sameSite(a, b) {
  const site = (url) => {
    try {
      const u = new URL(url);
      const host = u.hostname;
      const isIp = /^[\d.]+$/.test(host) || host.includes(':');
      const labels = host.split('.');
      return `${u.protocol}//${isIp || labels.length <= 2 ? host : labels.slice(-2).join('.')}`;
    } catch {
      return url;
    }
  };
  return site(a) === site(b);
}

/**
 * What the block means and how to fix it: the fix depends on the preset the run was under and on
 * where the request came from.
 */
export function fixFor(result, scenario, ctx, policy) {
  const blockingOrigin = result.blocking?.origin;
  const base = explain(result.corsError, blockingOrigin && blockingOrigin !== 'null' ? blockingOrigin : ctx.pageOrigin, result.blocking?.kind);
  const info = (policy?.presets ?? []).find((p) => p.name === result.preset);
  const originError = /AllowOrigin|MissingAllowOriginHeader/.test(result.corsError);
  let fix = base.fix;
  let stageNote = base.stageNote;
  if (isFrontAnswer(result.blocking)) {
    const { status, kind, response } = result.blocking;
    // The address without this run's query: the one the page should call.
    const location = (headerValue(response ?? [], 'location') ?? '').split('?')[0];
    const target = location ? ` (${location})` : '';
    fix = `The ${status} came from the API’s front, before its CORS layer ran, so no CORS_* setting reaches it. Call the final address${target} directly; or make the front pass ${kind === 'preflight' ? 'OPTIONS through to the API: a preflight may never be redirected, whatever headers the redirect carries' : 'the request through to the API, or send the CORS headers on its redirects'}.`;
    if (kind !== 'preflight') stageNote = `The front answered the ${status} before the API ran anything, and the browser stopped at the redirect: it never asked the new address${target}.`;
  } else if (result.preset === 'off') {
    fix = 'The API runs CORS_PRESET=off and sends no CORS headers at all. Switch to strict (CORS_PRESET=strict), which allows the trusted page, or permissive.';
  } else if (info?.broken) {
    fix = `${result.preset} is broken on purpose. ${info.fix ?? ''} Or go back to CORS_PRESET=strict.`;
  } else if (blockingOrigin === 'null' && originError) {
    fix = 'The request carried Origin: null (a sandboxed iframe, or the hop after a cross-origin redirect). Do not add null to CORS_ALLOW_ORIGINS: any site can send Origin: null. Call the API from a real origin, and call the final URL directly instead of through a cross-origin redirect.';
  } else if (ctx.misaddressed && originError) {
    fix = `This page is open at ${ctx.pageOrigin}, but the lab serves it as ${ctx.servedAs}, the origin the policy expects for the ${ctx.role} page. Open ${ctx.servedAs}/ instead (or, to allow this address too, add ${ctx.pageOrigin} to CORS_ALLOW_ORIGINS).`;
  } else if (ctx.role === 'untrusted' && originError && result.preset === 'strict') {
    fix = `This page is the untrusted origin, which strict refuses on purpose. To allow it anyway: CORS_ALLOW_ORIGINS=${ctx.trustedUrl},${ctx.pageOrigin} — only for an origin you trust.`;
  }
  return { ...base, fix, stageNote };
}

function preflightNote(scenario, result) {
  if (scenario.reaches_api === false) {
    return result.entries.length ? 'Unexpected: requests were recorded, although the browser should have refused before sending.' : 'As expected, no request and no preflight: the browser refused before sending anything.';
  }
  const parts = [];
  const count = result.preflightCount;
  const expected = result.expectedPreflights;
  parts.push(h('strong', {}, `Preflights: ${count} in the journal, ${expected} expected.`), ' ');
  for (const round of result.rounds) {
    if (round.skip?.kind === 'cached') parts.push(h('span', { class: 'cache-note' }, h('span', { class: 'badge badge--cache' }, 'cache'), ' ', round.skip.text, '. '));
  }
  if (scenario.cache && count > 1) {
    const first = result.rounds.find((r) => r.preflight)?.preflight;
    const failed = first && first.verdict?.[result.mode]?.pass === false;
    parts.push(failed
      ? 'The first preflight failed, and failed preflights are never cached: each request asked again. '
      : 'The cached answer did not cover the later request (Max-Age 0, or a header it did not list), so the browser asked again. ');
  }
  if (scenario.preflight?.per_hop && count > 1 && count === expected) {
    parts.push(`As expected, one preflight per URL: after each redirect the browser asked again, for the new URL, before it sent the ${result.rounds[0]?.preflight?.request_method ?? 'request'} there. `);
  } else if (!scenario.cache && scenario.preflight?.expected && count === 1) parts.push('As expected, the browser asked first: the preflight is the first entry the API received.');
  if (!scenario.preflight?.expected && count === 0 && result.outcome !== 'unreached') parts.push('As expected, no preflight: the request went straight out.');
  if (count !== expected) parts.push(h('span', { class: 'bad-text' }, 'This differs from what the page expected.'));
  return parts;
}

function scriptNote(result, scenario) {
  if (result.outcome === 'blocked' && !result.script.ok) {
    const status = result.blocking?.kind === 'actual' ? ` although the API answered ${result.blocking.status}` : '';
    return `In script every CORS failure looks the same (“${result.script.error}”)${status}: the page cannot tell why. The journal can.`;
  }
  if (result.outcome === 'blocked' && runnerOf(scenario) === 'xhr') {
    return 'XMLHttpRequest does not throw: script gets an “error” event and status 0, whatever the reason.';
  }
  if (result.outcome === 'pass' && !result.script.ok) {
    return 'The CORS checks passed, but the script still failed: see the error above.';
  }
  if (result.outcome === 'unreached') {
    if (result.journalError) return `The journal could not be read either (${result.journalError}). Is the API running?`;
    return scenario.reaches_api === false
      ? 'The browser refused before sending anything; the error above is all script learns.'
      : 'Nothing reached the API: it may be down, or the browser refused before sending anything.';
  }
  if (isNotCors(result)) return 'An opaque response: type "opaque", status 0, no headers, empty body — whatever the API really answered (see the journal).';
  return '';
}

/** What the script got: one line when short, indented when not; always valid JSON. */
export function formatScriptResult(script) {
  const flat = JSON.stringify(script);
  if (flat === undefined) return String(script);
  return flat.length <= 70 ? flat : JSON.stringify(script, null, 2);
}

/** `cookies_received` from what script got, when the response was readable. */
function cookiesReceived(script) {
  if (!script?.ok) return null;
  const look = (v, depth = 0) => {
    if (v === null || v === undefined || depth > 3) return null;
    if (typeof v === 'string' && depth > 0) {
      try { return look(JSON.parse(v), depth + 1); } catch { return null; }
    }
    if (typeof v !== 'object') return null;
    if (Array.isArray(v.cookies_received)) return v.cookies_received;
    for (const x of Object.values(v)) {
      const found = look(x, depth + 1);
      if (found) return found;
    }
    return null;
  };
  return look(script.value);
}

const SESSION_COOKIES = [
  ['lab_session', 'SameSite=Lax', 'sent on same-site requests only (the browsers’ default)'],
  ['lab_session_cross_site', 'SameSite=None; Secure', 'sent cross-site too, when the browser allows third-party cookies'],
];

function cookiesBox(scenario, result, ctx) {
  if (result.mode !== 'include' || result.entries.length === 0) return null;
  const api = ctx.apiUrl;
  const fromOrigin = requestOrigin(scenario, ctx.pageOrigin);
  const same = fromOrigin !== 'null' && sameSite(ctx.pageOrigin, api);
  const actuals = result.entries.filter((e) => e.kind === 'actual');
  const preflights = result.entries.filter((e) => e.kind === 'preflight');
  const received = cookiesReceived(result.script);
  const setByLogin = scenario.id === 'login' && result.script?.ok ? result.script.value?.body?.cookies_set : null;
  const items = [];
  for (const p of preflights) {
    items.push(h('li', {}, `The preflight: ${p.cookie_sent ? 'a Cookie header was sent (unexpected)' : 'no Cookie header — preflights never carry cookies'} (journal).`));
  }
  for (const a of actuals) {
    items.push(h('li', {}, h('code', {}, `${a.method} ${a.path}`), ': ', h('strong', {}, a.cookie_sent ? 'a Cookie header was sent' : 'no Cookie header was sent'), ' (journal: cookie_sent ', h('code', {}, String(Boolean(a.cookie_sent))), ').'));
  }
  if (received) {
    items.push(h('li', {}, 'The API says it received: ',
      received.length ? received.map((n, i) => [i ? ', ' : '', h('code', {}, n)]) : h('em', {}, 'no session cookie'),
      ' (', h('code', {}, 'cookies_received'), ', readable because the response passed).'));
  } else if (scenario.id !== 'login') {
    items.push(h('li', { class: 'muted' }, 'Which cookies arrived is in the response, which script could not read; the journal above still says whether a Cookie header was sent.'));
  }
  if (setByLogin) {
    items.push(h('li', {}, 'The API set: ', setByLogin.map((n, i) => [i ? ', ' : '', h('code', {}, n)]), '.'));
  }
  return [
    h('h5', {}, 'Cookies, as observed'),
    h('ul', { class: 'cookies__list small' }, items),
    h('p', { class: 'small' },
      `This request went from ${fromOrigin === 'null' ? 'an opaque origin (null)' : fromOrigin} to ${api}: `,
      h('strong', {}, same ? 'same site' : 'cross-site'),
      same ? ' (cross-origin, but the same host: both cookies may go).' : ' (localhost and 127.0.0.1 are different sites).'),
    h('table', { class: 'cookies__table small' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Cookie'), h('th', { scope: 'col' }, 'Attribute'), h('th', { scope: 'col' }, 'Rule'), h('th', { scope: 'col' }, 'Arrived?'))),
      h('tbody', {}, SESSION_COOKIES.map(([name, attr, rule]) => h('tr', {},
        h('th', { scope: 'row' }, h('code', {}, name)), h('td', {}, h('code', {}, attr)), h('td', {}, rule),
        h('td', {}, received ? (received.includes(name) ? h('span', { class: 'ok-text' }, 'yes') : 'no') : h('span', { class: 'muted' }, 'not readable')))))),
  ];
}

function attackBox(scenario, result, ctx) {
  if (scenario.id !== 'attack-whoami' || result.outcome === 'unreached') return null;
  const value = result.script?.ok ? result.script.value : null;
  const sent = result.entries.some((e) => e.kind === 'actual' && e.cookie_sent);
  let verdict;
  if (result.outcome === 'blocked') {
    verdict = [h('strong', { class: 'ok-text' }, 'The attack failed. '),
      `The browser sent the request (the API ran it and answered ${result.blocking?.status ?? ''}${sent ? ', with a Cookie header' : ', without any cookie'}), but refused to let this page read the answer.`];
  } else if (value?.user) {
    verdict = [h('strong', { class: 'bad-text' }, 'The attack worked. '),
      `This page${ctx.role === 'untrusted' ? ', on another site,' : ''} read who is logged in (user “${value.user}”), carried by `, (value.cookies_received ?? []).join(', ') || 'a cookie', '. That is what reflecting any origin with credentials allows.'];
  } else {
    verdict = [h('strong', {}, 'Readable, but nobody logged in. '),
      'The answer reached this page, and no session cookie came with the request: either “Log in” was not run on the trusted page, or the browser did not send the cookies to another site.'];
  }
  return h('p', { class: 'callout callout--attack' }, verdict);
}

function exposedBox(scenario, result) {
  const name = scenario.reads_header;
  if (!name || result.outcome !== 'pass') return null;
  const actual = result.entries.find((e) => e.kind === 'actual');
  if (!actual) return null;
  const sentValue = headerValue(actual.response, name);
  const expose = headerValue(actual.cors_response, 'access-control-expose-headers');
  const list = String(expose ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const readable = list.includes(name) || (list.includes('*') && result.mode !== 'include');
  return [
    'The API sent ', h('code', {}, `${name}: ${sentValue ?? '(nothing)'}`), ' and ',
    expose ? h('code', {}, `Access-Control-Expose-Headers: ${expose}`) : 'no Access-Control-Expose-Headers',
    readable
      ? [' — ', h('strong', { class: 'ok-text' }, `${name} is exposed`), list.includes(name) ? ', so script can read it.' : ' by the wildcard *, so script can read it.']
      : [' — ', h('strong', { class: 'bad-text' }, `${name} is not exposed`), ', so headers.get() returns null although the header arrived.'],
  ];
}

/** Write a finished run into its card and set the data-* attributes of the contract. */
export function showResult(card, scenario, result, ctx, policy) {
  const mode = result.mode;

  fill(q(card, 'verdict'), verdictBanner(result, scenario));
  q(card, 'verdict').className = `verdict verdict--${result.outcome}`;

  q(card, 'console').textContent = result.console;
  q(card, 'console').hidden = !result.console;
  q(card, 'reason').textContent = result.outcome === 'blocked' ? result.reason : '';
  q(card, 'reason').hidden = result.outcome !== 'blocked';

  if (result.outcome === 'blocked') {
    const ex = fixFor(result, scenario, ctx, policy);
    fill(q(card, 'verdict-detail'),
      h('p', { class: 'small' }, h('strong', { class: 'bad-text' }, 'Blocked: '), h('code', {}, result.corsError || 'CORS error'),
        '. Chromium’s console says (DevTools, Console tab, in red):'));
    fill(q(card, 'explanation'),
      h('p', {}, h('strong', {}, 'In plain English: '), ex.what),
      h('p', {}, ex.stageNote),
      h('p', { class: 'fix' }, h('strong', {}, 'Fix: '), ex.fix));
  } else if (result.outcome === 'pass') {
    fill(q(card, 'verdict-detail'), isNotCors(result)
      ? h('p', {}, 'No CORS check at all: the request carried no Origin header. Nothing in the console.')
      : h('p', {}, h('span', { class: 'ok-text' }, 'Pass. '), 'Every response of this run passed the browser’s CORS check, so nothing appears in the console.'));
  } else {
    fill(q(card, 'verdict-detail'), h('p', {}, scenario.reaches_api === false
      ? 'The browser refused before sending: no CORS check took place, and the API saw nothing.'
      : 'No request reached the API, so there is nothing to judge.'),
    scenario.reaches_api === false && scenario.console
      ? h('p', { class: 'small' }, 'Chromium’s console says (DevTools, Console tab, in red): ', h('q', {}, `… ${scenario.console} …`))
      : null);
  }
  fill(q(card, 'preflight-note'), preflightNote(scenario, result));

  q(card, 'script-result').textContent = formatScriptResult(result.script);
  q(card, 'script-note').textContent = scriptNote(result, scenario);

  fill(q(card, 'entries'),
    result.entries.length
      ? h('ol', { class: 'run-entries__list' },
        result.entries.map((e) => h('li', {
          class: e === result.blocking ? 'is-blocking' : null,
        }, renderEntry(e, { mode, collapsible: false, note: cacheNoteFor(e, result.entries, mode) }))))
      : h('p', { class: 'small muted' }, 'Nothing: no request of this run reached the API.'));

  fill(q(card, 'cookies'), attackBox(scenario, result, ctx), cookiesBox(scenario, result, ctx));
  fill(q(card, 'exposed'), exposedBox(scenario, result));
  fill(q(card, 'diagram'), renderWorkflow(ctx, scenario, result));

  const when = result.entries[0]?.time_ms ?? Date.now();
  q(card, 'status').textContent = `Done: run ${result.runId} at ${formatClock(when)}${result.preset ? `, preset ${result.preset}` : ''}.`;
  q(card, 'result').hidden = false;
  card.dataset.resultPreset = result.preset ?? '';

  const button = card.querySelector('[data-run]');
  button.disabled = false;

  card.dataset.outcome = result.outcome;
  card.dataset.corsError = result.corsError ?? '';
  card.dataset.preflightSeen = String(Boolean(result.preflightSeen));
  card.dataset.preflightCount = String(result.preflightCount ?? 0);
  card.dataset.expectedPreflights = String(result.expectedPreflights ?? 0);
  card.dataset.runId = result.runId;
  card.dataset.state = 'done';
}

/** Keep a card in step with the policy: its link, the cache prediction, a stale result. */
export function updateCardForPolicy(card, scenario, policy, ctx = {}) {
  const preset = policy?.preset ?? '';
  const link = q(card, 'permalink');
  if (link) link.setAttribute('href', shareHash(scenario.id, preset));
  const expectation = q(card, 'expectation');
  if (expectation && scenario.cache) {
    const p = predictFromPolicy(scenario, verdictMode(scenario), policy, ctx.pageOrigin);
    fill(expectation, h('strong', {}, `Under ${preset || 'the current policy'}: ${p.count} preflight${p.count === 1 ? '' : 's'} expected`), ` — ${p.why}.`);
  }
  const stale = q(card, 'stale');
  if (stale && card.dataset.state === 'done' && card.dataset.resultPreset && card.dataset.resultPreset !== preset) {
    stale.textContent = `This result was obtained under ${card.dataset.resultPreset}; the API now runs ${preset}. Run it again to compare.`;
    stale.hidden = false;
  } else if (stale) {
    stale.hidden = true;
  }
}
