// The CORS workflow as a sequence diagram (HTML and CSS, no library): three lifelines — the
// origin server, the browser, the API server — and the six steps. With a run, the steps that
// happened light up and carry the real headers from the journal; skipped steps say why.

import { h, headerCase, headerValue, formatClock } from './dom.js';
import { runnerOf, requestOrigin, isFrontAnswer } from './runner.js';

// The lanes, left to right: the browser sits between the two servers it talks to.
const LANES = [
  { key: 'origin', label: 'Origin server' },
  { key: 'browser', label: 'Browser' },
  { key: 'api', label: 'API server' },
];

/**
 * One arrow of a step: from → to among 'origin' | 'browser' | 'api', or a note on the browser
 * (`note: true`). `state`: idle | done | pass | fail | skipped | not-sent.
 */
function arrow({ from, to, label = '', state = 'idle', note = false }) {
  if (note) {
    return h('span', { class: 'seq__note', dataset: { state } }, label);
  }
  const dir = `${from}-${to}`;
  return h('span', { class: 'seq__arrow', dataset: { dir, state } },
    h('span', { class: 'seq__arrow-label' }, label));
}

function step({ n, title, state = 'idle', arrows = [], body = [], sub = '' }) {
  return h('li', { class: 'seq__step', dataset: { step: String(n), state } },
    h('div', { class: 'seq__art', 'aria-hidden': 'true', dataset: { arrows: String(arrows.length) } }, arrows),
    h('div', { class: 'seq__text' },
      h('p', { class: 'seq__title' },
        h('span', { class: 'seq__num' }, String(n)), ' ', title,
        sub ? h('span', { class: 'seq__sub' }, ` — ${sub}`) : null,
        stateWord(state)),
      body));
}

function stateWord(state) {
  const words = {
    pass: ['passed', 'ok'], fail: ['failed', 'bad'], skipped: ['skipped', 'skip'],
    'not-sent': ['never sent', 'bad'],
  };
  const w = words[state];
  return w ? h('span', { class: `seq__state seq__state--${w[1]}` }, w[0]) : null;
}

function lines(pairs) {
  const shown = pairs.filter(([, v]) => v !== null && v !== undefined && v !== '');
  if (!shown.length) return null;
  return h('dl', { class: 'seq__headers' },
    shown.map(([k, v]) => h('div', {}, h('dt', {}, `${k}:`), ' ', h('dd', {}, String(v)))));
}

function para(...children) {
  return h('p', { class: 'seq__line' }, ...children);
}

function host(url) {
  try { return new URL(url).host; } catch { return String(url ?? ''); }
}

/** What makes two origins differ, in words: "port 9090 ≠ 8080". */
export function originDifference(a, b) {
  let x; let y;
  try { x = new URL(a); y = new URL(b); } catch { return 'another origin'; }
  const parts = [];
  if (x.protocol !== y.protocol) parts.push(`scheme ${y.protocol.replace(':', '')} ≠ ${x.protocol.replace(':', '')}`);
  if (x.hostname !== y.hostname) parts.push(`host ${y.hostname} ≠ ${x.hostname}`);
  const port = (u) => u.port || (u.protocol === 'https:' ? '443' : '80');
  if (port(x) !== port(y)) parts.push(`port ${port(y)} ≠ ${port(x)}`);
  return parts.length ? parts.join(', ') : 'the same origin';
}

function lanesHeader() {
  return h('div', { class: 'seq__lanes', 'aria-hidden': 'true' },
    h('div', { class: 'seq__art seq__art--head' },
      LANES.map((l) => h('span', { class: `seq__lane seq__lane--${l.key}` }, h('strong', {}, l.label)))),
    h('div', { class: 'seq__text seq__text--head' }));
}

function caption(ctx, ran) {
  return h('p', { class: 'seq__caption' },
    'Origin server ', h('code', {}, host(ctx.pageOrigin)), ' · Browser (this tab) · API server ', h('code', {}, host(ctx.apiUrl)),
    ran ? '. Solid arrows happened; dashed ones were skipped or never sent.' : '. Run a scenario: its real requests and headers replace this outline.');
}

/** The generic diagram: the six steps, before any run. */
function genericSteps(ctx) {
  return [
    step({
      n: 1, title: 'Page load',
      arrows: [arrow({ from: 'browser', to: 'origin', label: 'GET /' }), arrow({ from: 'origin', to: 'browser', label: '200 HTML' })],
      body: para('The browser loads this page from ', h('code', {}, ctx.pageOrigin), ': same origin, no CORS involved.'),
    }),
    step({
      n: 2, title: 'The page calls the API',
      arrows: [arrow({ note: true, label: 'fetch()' })],
      body: para('A script on the page calls ', h('code', {}, ctx.apiUrl), `: another origin (${originDifference(ctx.pageOrigin, ctx.apiUrl)}).`),
    }),
    step({
      n: 3, title: 'Preflight or not?',
      arrows: [arrow({ note: true, label: 'simple?' })],
      body: para('GET, HEAD or POST with only safelisted headers is “simple” and goes straight out; anything else needs permission first.'),
    }),
    step({
      n: 4, title: 'Preflight',
      arrows: [arrow({ from: 'browser', to: 'api', label: 'OPTIONS' })],
      body: para(h('code', {}, 'OPTIONS'), ' with ', h('code', {}, 'Origin'), ', ', h('code', {}, 'Access-Control-Request-Method'), ' and, when needed, ', h('code', {}, 'Access-Control-Request-Headers'), '. No cookies, no body.'),
    }),
    step({
      n: 5, title: 'The API’s CORS answer',
      arrows: [arrow({ from: 'api', to: 'browser', label: '204' })],
      body: para(h('code', {}, 'Access-Control-Allow-Origin'), ', ', h('code', {}, '-Methods'), ', ', h('code', {}, '-Headers'), ', ', h('code', {}, '-Max-Age'), '. The browser checks them; if the check fails, the actual request is never sent.'),
    }),
    step({
      n: 6, title: 'Actual request and response',
      arrows: [arrow({ from: 'browser', to: 'api', label: 'PUT' }), arrow({ from: 'api', to: 'browser', label: '200' })],
      body: para('The real request goes out with ', h('code', {}, 'Origin'), '; its response is checked again. Only if it passes does the script see it, and only the exposed headers.'),
    }),
  ];
}

/** The request mode the code sets (`mode: '…'`), or fetch's default, `cors`. */
function requestModeOf(scenario) {
  return /mode:\s*['"]([a-z-]+)['"]/.exec(String(scenario?.code ?? ''))?.[1] ?? 'cors';
}

/** Does the code use mode: 'no-cors'? */
export function isNoCors(scenario) {
  return requestModeOf(scenario) === 'no-cors';
}

function verdictOf(entry, mode) {
  return entry?.verdict?.[mode] ?? null;
}

function checkLine(entry, mode, what) {
  const v = verdictOf(entry, mode);
  if (!v) return null;
  if (v.not_cors) return para(h('span', { class: 'ok-text' }, 'No check: '), 'not a CORS request.');
  if (v.pass) return para(h('span', { class: 'ok-text' }, `✓ The browser’s check passes`), what ? `: ${what}` : '.');
  return para(h('span', { class: 'bad-text' }, `✗ The browser’s check fails: `), h('code', {}, v.cors_error ?? 'CORS error'), ` — ${v.reason ?? ''}`);
}

const CORS_ANSWER = [
  'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods',
  'access-control-allow-headers', 'access-control-max-age', 'access-control-expose-headers',
];

function corsAnswerLines(entry, { includeVary = false } = {}) {
  const pairs = (entry.cors_response ?? []).filter(([k]) => CORS_ANSWER.includes(String(k).toLowerCase()));
  const names = new Set(pairs.map(([k]) => String(k).toLowerCase()));
  const shown = [...names].map((n) => [headerCase(n), headerValue(pairs, n)]);
  if (includeVary) {
    const vary = headerValue(entry.response, 'vary');
    if (vary) shown.push(['Vary', vary]);
  }
  return shown.length ? lines(shown) : para(h('span', { class: 'bad-text' }, 'No Access-Control-* header at all.'));
}


function frontNote(entry) {
  const location = headerValue(entry.response, 'location');
  return para('The API’s front answered ', h('code', {}, String(entry.status)), location ? [' → ', h('code', {}, location)] : null,
    ' before its CORS layer ran, so the answer carries none of the policy’s headers:');
}

function roundSteps(round, i, total, { scenario, mode, isLast, result, hops }) {
  const sub = total <= 1 ? '' : hops ? (i === 0 ? 'hop 1' : `hop ${i + 1}, after the redirect`) : `request ${i + 1} of ${total}`;
  const out = [];
  const p = round.preflight;
  const a = round.actual;
  // 4. Preflight
  if (p) {
    const v = verdictOf(p, mode);
    out.push(step({
      n: 4, title: 'Preflight', sub, state: 'done',
      arrows: [arrow({ from: 'browser', to: 'api', label: 'OPTIONS', state: 'done' })],
      body: [
        para(h('code', {}, `OPTIONS ${p.path}`), ` to ${host(p.url)}, sent by the browser itself${p.cookie_sent ? ' (with a cookie!)' : ', without cookies'}:`),
        lines([['Origin', p.origin], ['Access-Control-Request-Method', p.request_method], ['Access-Control-Request-Headers', p.request_headers]]),
      ],
    }));
    const front = isFrontAnswer(p);
    out.push(step({
      n: 5, title: front ? 'The front’s redirect' : 'The API’s CORS answer', sub, state: v?.pass === false ? 'fail' : 'pass',
      arrows: [arrow({ from: 'api', to: 'browser', label: String(p.status), state: v?.pass === false ? 'fail' : 'pass' })],
      body: [
        front ? frontNote(p) : para(`The API answered `, h('code', {}, String(p.status)), ':'),
        corsAnswerLines(p),
        checkLine(p, mode, a ? 'the actual request may go' : ''),
      ],
    }));
  } else {
    const reason = round.skip?.text ?? 'no preflight';
    const cached = round.skip?.kind === 'cached';
    out.push(step({
      n: 4, title: 'Preflight', sub, state: 'skipped',
      arrows: [arrow({ from: 'browser', to: 'api', label: cached ? 'cached' : 'none', state: 'skipped' })],
      body: para(h('strong', {}, cached ? 'Skipped (cached): ' : 'Skipped: '), reason, '.'),
    }));
    out.push(step({
      n: 5, title: 'The API’s CORS answer', sub, state: 'skipped',
      arrows: [arrow({ from: 'api', to: 'browser', label: '', state: 'skipped' })],
      body: para(cached
        ? `No new answer: the browser reuses the one from ${formatClock(round.skip.by.time_ms)}.`
        : round.skip?.kind === 'no-cors'
          ? 'No CORS answer to check: in no-cors mode the browser checks nothing and makes the response opaque.'
          : 'No preflight answer: the CORS headers come with the actual response (step 6).'),
    }));
  }
  // 6. Actual request and response
  if (a) {
    const v = verdictOf(a, mode);
    const state = v?.pass === false ? 'fail' : 'pass';
    const location = headerValue(a.response, 'location');
    out.push(step({
      n: 6, title: 'Actual request and response', sub, state,
      arrows: [
        arrow({ from: 'browser', to: 'api', label: a.method, state: 'done' }),
        arrow({ from: 'api', to: 'browser', label: String(a.status), state }),
      ],
      body: [
        para(h('code', {}, `${a.method} ${a.path}`), ` to ${host(a.url)}:`),
        lines([
          ['Origin', a.origin ?? '(none: not a CORS request)'],
          ['Cookie', mode === 'include' || a.cookie_sent ? (a.cookie_sent ? 'sent' : 'none sent') : null],
        ]),
        isFrontAnswer(a) ? frontNote(a) : para('The API answered ', h('code', {}, String(a.status)), location ? [' → ', h('code', {}, location)] : null, a.origin ? ', with:' : '.'),
        a.origin ? corsAnswerLines(a) : null,
        checkLine(a, mode, location ? 'the browser follows the redirect' : 'script may read the response'),
        isLast ? scriptLine(result) : null,
      ],
    }));
  } else if (p) {
    out.push(step({
      n: 6, title: 'Actual request and response', sub, state: 'not-sent',
      arrows: [arrow({ from: 'browser', to: 'api', label: scenario ? methodOf(p) : '', state: 'not-sent' })],
      body: [
        para(h('strong', { class: 'bad-text' }, 'Never sent: '), `the preflight failed, so the browser did not send the ${methodOf(p)}. The API never ran it.`),
        isLast ? scriptLine(result) : null,
      ],
    }));
  }
  return out;
}

function methodOf(preflight) {
  return preflight?.request_method ?? 'request';
}

function scriptLine(result) {
  if (!result) return null;
  const s = result.script;
  if (!s) return null;
  if (s.ok) {
    return para(h('strong', {}, 'Script got: '), h('code', {}, short(JSON.stringify(s.value))));
  }
  return para(h('strong', {}, 'Script got: '), h('code', { class: 'bad-text' }, short(s.error)));
}

function short(text, max = 140) {
  const t = String(text ?? '');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function decisionText(scenario, result) {
  const rounds = result.rounds ?? [];
  const seen = result.preflightCount ?? 0;
  const expected = Boolean(scenario.preflight?.expected);
  const base = [h('strong', {}, expected ? 'Preflight needed: ' : 'No preflight needed: '), scenario.preflight?.why ?? '', '.'];
  const cached = rounds.filter((r) => r.skip?.kind === 'cached').length;
  if (scenario.cache) {
    base.push(` ${seen} preflight${seen === 1 ? '' : 's'} for ${rounds.length} request${rounds.length === 1 ? '' : 's'}`,
      cached ? ` (${cached} answered from the preflight cache).` : '.');
  }
  return base;
}

/**
 * The diagram for one run of `scenario` (or the generic workflow when `result` is null).
 * `ctx`: { pageOrigin, apiUrl }.
 */
export function renderWorkflow(ctx, scenario = null, result = null) {
  const label = result
    ? `Sequence diagram of the run ${result.runId} of “${scenario.title}”`
    : 'Sequence diagram of the CORS workflow';
  const steps = [];
  if (!result) {
    steps.push(...genericSteps(ctx));
  } else {
    const runner = runnerOf(scenario);
    const origin = requestOrigin(scenario, ctx.pageOrigin);
    const first = result.entries[0];
    steps.push(step({
      n: 1, title: 'Page load', state: 'done',
      arrows: [arrow({ from: 'browser', to: 'origin', label: 'GET /', state: 'done' }), arrow({ from: 'origin', to: 'browser', label: '200', state: 'done' })],
      body: para('This page came from ', h('code', {}, ctx.pageOrigin), ' (same origin, no CORS).'),
    }));
    const callee = first ? `${first.kind === 'preflight' ? first.request_method : first.method} ${first.url}` : '';
    steps.push(step({
      n: 2, title: 'The page calls the API', state: 'done',
      arrows: [arrow({ note: true, label: runner === 'xhr' ? 'XHR' : runner === 'sandboxed-iframe' ? 'iframe' : 'fetch()', state: 'done' })],
      body: [
        runner === 'sandboxed-iframe'
          ? para('The code runs in a sandboxed iframe: its origin is opaque, so the browser sends ', h('code', {}, 'Origin: null'), '.')
          : isNoCors(scenario)
            ? para(`Script on the page calls ${host(ctx.apiUrl)}: another origin (${originDifference(ctx.pageOrigin, ctx.apiUrl)}), but with `, h('code', {}, "mode: 'no-cors'"), ': no Origin header, no CORS.')
            : requestModeOf(scenario) === 'same-origin'
              ? para(`Script on the page calls ${host(ctx.apiUrl)}: another origin (${originDifference(ctx.pageOrigin, ctx.apiUrl)}), but with `, h('code', {}, "mode: 'same-origin'"), ', which allows this page’s own origin only.')
              : para(`Script on the page calls ${host(ctx.apiUrl)}: another origin (${originDifference(ctx.pageOrigin, ctx.apiUrl)}); the browser will send `, h('code', {}, `Origin: ${origin}`), '.'),
        callee ? para(h('code', {}, callee)) : null,
      ],
    }));
    const nothing = result.entries.length === 0;
    steps.push(step({
      n: 3, title: 'Preflight or not?', state: nothing ? (scenario.reaches_api === false ? 'fail' : 'skipped') : 'done',
      arrows: [arrow({ note: true, label: isNoCors(scenario) ? 'no-cors' : scenario.preflight?.expected ? 'preflight' : 'simple', state: 'done' })],
      body: [
        para(...decisionText(scenario, result)),
        nothing ? para(h('strong', { class: 'bad-text' }, 'Nothing was sent. '),
          scenario.reaches_api === false
            ? `The browser refused before any request: ${result.script?.ok ? JSON.stringify(result.script.value) : result.script?.error ?? ''}`
            : 'No request of this run reached the API (is it running?).') : null,
      ],
    }));
    const rounds = result.rounds ?? [];
    rounds.forEach((round, i) => {
      steps.push(...roundSteps(round, i, rounds.length, {
        scenario, mode: result.mode, isLast: i === rounds.length - 1, result, hops: rounds.some((r) => r.hop),
      }));
    });
    if (nothing) {
      steps.push(step({ n: 4, title: 'Preflight', state: 'skipped', arrows: [arrow({ from: 'browser', to: 'api', state: 'skipped' })], body: para('Not reached.') }));
      steps.push(step({ n: 5, title: 'The API’s CORS answer', state: 'skipped', arrows: [arrow({ from: 'api', to: 'browser', state: 'skipped' })], body: para('Not reached.') }));
      steps.push(step({ n: 6, title: 'Actual request and response', state: 'not-sent', arrows: [arrow({ from: 'browser', to: 'api', state: 'not-sent' })], body: [para('Not sent.'), scriptLine(result)] }));
    }
  }
  return h('div', { class: 'seq', role: 'group', 'aria-label': label },
    caption(ctx, Boolean(result)),
    lanesHeader(),
    h('ol', { class: 'seq__steps' }, steps));
}
