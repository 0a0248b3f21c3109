// “Try a request”: the learner writes a request as their script would (origin, method, headers,
// credentials); the API walks it through its current policy on paper (GET /_lab/walkthrough,
// cors_policy::walkthrough) and this module shows the steps: what the browser sends and why a
// preflight goes first, what the API answers to each request, and what Chromium concludes.
// From this page's own origin, “Send it for real” then runs the same fetch() and sets what
// Chromium did beside what the walk said, from the API's journal.
//
// DOM contract (the browser tests rely on it): #walk-result[data-state="done"] holds one
// <article class="walk__result"> with data-throws, data-preflight ("yes" | "no"),
// data-request-headers, data-verdict ("pass" or Chromium's CorsError), data-stage and
// data-preset (the policy it was walked under), data-url (the URL walked), data-refused-headers
// (the requested headers the policy lacks), and the console line
// Chromium would print in .walk__console; after a
// real send, #walk-real[data-state="done"] has data-outcome ("pass" | "blocked" | "threw"),
// data-preflight-seen, data-request-headers (as the API received them), data-as-predicted and
// data-run-id (the run id in the send's URL). `#walk=<fields as a query>` opens the page with that
// request walked: a link a teacher can hand out.

import { h, fill, headerTable, isCorsHeader, shellQuote as quote, wordBreaks } from './dom.js';
import { explain } from './explain.js';
import { verdictChip } from './journal.js';
import { newRunId, makeApi, fetchRunEntries } from './runner.js';


/** `Name: value` lines of the form's text, as fetch() takes them. */
function headerPairs(text) {
  return String(text).split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const at = line.indexOf(':');
      return at < 0 ? [line.trim(), ''] : [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    });
}

/** The example buttons' requests (the origin stays what the form has). */
const EXAMPLES = {
  'simple-get': { method: 'GET', headers: '', credentials: false },
  'form-post': { method: 'POST', headers: 'Content-Type: application/x-www-form-urlencoded', credentials: false },
  'json-put': { method: 'PUT', headers: 'Content-Type: application/json\nX-Token: 1', credentials: true },
  patch: { method: 'patch', headers: '', credentials: false },
  bearer: { method: 'GET', headers: 'Authorization: Bearer 1234', credentials: false },
};

/** `#walk=<the form's fields as a query>`. */
function walkHash(asked) {
  return `#walk=${encodeURIComponent(new URLSearchParams(asked).toString())}`;
}

/**
 * Wire the form of the #walk section. Returns `policyChanged(policy)`, for the policy panel to
 * call: a walk shown under another policy than the one in force is walked again.
 */
export function setUpWalkthrough(ctx) {
  const form = document.getElementById('walk-form');
  const out = document.getElementById('walk-result');
  if (!form || !out) return () => {};
  let shown = null; // { generation, instance } of the policy the walk on show was made under
  const origin = document.getElementById('walk-origin');
  if (origin && !origin.value) origin.value = ctx.pageOrigin;
  document.getElementById('walk-this-page')?.addEventListener('click', () => {
    origin.value = ctx.pageOrigin;
  });
  const method = document.getElementById('walk-method');
  const headers = document.getElementById('walk-headers');
  const credentials = document.getElementById('walk-credentials');
  // `#walk=<the form's fields as a query>`: the page opens with that request walked.
  const fromHash = () => {
    const shared = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('walk');
    if (!shared) return;
    const fields = new URLSearchParams(shared);
    origin.value = fields.get('origin') ?? ctx.pageOrigin;
    method.value = fields.get('method') ?? 'GET';
    headers.value = fields.get('headers') ?? '';
    credentials.checked = fields.get('credentials') === 'include';
    form.requestSubmit();
    document.getElementById('walk')?.scrollIntoView();
  };
  window.addEventListener('hashchange', fromHash);
  for (const button of document.querySelectorAll('[data-walk-example]')) {
    button.addEventListener('click', () => {
      const example = EXAMPLES[button.dataset.walkExample];
      if (!example) return;
      method.value = example.method;
      headers.value = example.headers;
      credentials.checked = example.credentials;
      form.requestSubmit();
    });
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const asked = {
      origin: origin.value.trim(),
      method: method.value.trim(),
      headers: headers.value,
      credentials: credentials.checked ? 'include' : 'omit',
    };
    out.dataset.state = 'walking';
    fill(out, h('p', { class: 'muted' }, 'Walking…'));
    try {
      const res = await fetch(`${ctx.apiUrl}/_lab/walkthrough?${new URLSearchParams(asked)}`, { cache: 'no-store' });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        fill(out, h('p', { class: 'walk__problem' }, body.error ?? `The API answered ${res.status}.`));
      } else {
        shown = { generation: body.generation, instance: body.instance };
        fill(out, render(body, asked, ctx),
          h('p', { class: 'small' },
            h('a', { href: walkHash(asked), class: 'walk__link' }, 'Link to this walk'),
            ' (the request rides in the link; it is walked again, under the policy in force, when the link is opened).'));
      }
    } catch (e) {
      fill(out, h('p', { class: 'walk__problem' }, `The API did not answer (${e.message}). Is it running?`));
    }
    out.dataset.state = 'done';
  });
  fromHash();
  return (policy) => {
    if (!shown || out.dataset.state !== 'done') return;
    if (policy.generation === shown.generation && policy.instance === shown.instance) return;
    shown = null;
    form.requestSubmit();
  };
}

function render(walk, asked, ctx) {
  const init = fetchInit(asked, walk.sent?.method ?? asked.method);
  const code = `fetch('${walk.url}', ${JSON.stringify(init, null, 2)})`;
  const article = h('article', {
    class: 'walk__result',
    dataset: {
      throws: walk.throws ? 'yes' : 'no',
      preflight: walk.sent?.preflight ? 'yes' : 'no',
      requestHeaders: walk.sent?.request_headers ?? '',
      verdict: walk.verdict ? (walk.verdict.pass ? 'pass' : walk.verdict.cors_error) : '',
      refusedHeaders: (walk.refused_headers ?? []).join(','),
      stage: walk.verdict?.stage ?? '',
      preset: walk.preset,
      url: walk.url,
    },
  });
  const preset = h('p', { class: 'small muted' },
    `Walked under the API's current policy (preset ${walk.preset}) from origin `, h('code', {}, walk.origin),
    walk.credentials === 'include' ? ', with credentials.' : ', without credentials.',
    ' Nothing was sent: this is what the engine and the model of Chromium’s check say.');
  if (walk.throws) {
    article.append(preset, step(1, 'The script', h('pre', {}, h('code', {}, code)),
      h('p', { class: 'walk__verdict walk__verdict--blocked' },
        h('code', {}, 'fetch()'), ' throws a ', h('code', {}, 'TypeError'), ' before anything is sent: ', walk.throws, '.')));
    return [article, realSend(walk, asked, ctx, article)];
  }
  const sent = walk.sent;
  article.append(preset,
    step(1, 'What the browser sends', h('pre', {}, h('code', {}, code)),
      sent.dropped.length
        ? h('p', { class: 'small' }, 'The browser drops ', sent.dropped.map((n, i) => [i ? ', ' : '', h('code', {}, n)]),
          ' without a word: script may not set ', sent.dropped.length > 1 ? 'them' : 'it', ' (a forbidden request-header). Cookies go with ',
          h('code', {}, "credentials: 'include'"), '.')
        : null,
      sent.preflight
        ? [h('p', {}, h('span', { class: 'badge badge--preflight' }, 'preflight first'), ' because:'),
          h('ul', { class: 'walk__causes' }, sent.causes.map((c) => h('li', { dataset: { cause: c.kind } }, c.text, '.')))]
        : h('p', {}, h('span', { class: 'badge badge--simple' }, 'no preflight'),
          ` ${sent.method} with only CORS-safelisted headers is sent at once: the server runs it whatever its policy says. CORS only decides whether script may read the answer.`)),
    sent.preflight ? exchange(2, 'The preflight', walk.preflight, walk) : null,
    walk.actual
      ? exchange(sent.preflight ? 3 : 2, 'The request itself', walk.actual, walk)
      : step(3, 'The request itself', h('p', { class: 'walk__never' }, 'Never sent: the preflight failed, so the browser stops there and the server never sees the request.')),
    outcome(walk, ctx),
    curl(walk));
  return [article, realSend(walk, asked, ctx, article)];
}

function step(n, title, ...body) {
  return h('section', { class: 'walk__step' }, h('h3', {}, h('span', { class: 'walk__n' }, String(n)), ' ', title), ...body);
}

function exchange(n, title, e, walk) {
  const v = e.verdict;
  return step(n, title,
    h('div', { class: 'walk__pair' },
      h('div', {}, h('h4', {}, `${e.method} ${new URL(walk.url).pathname}`), headerTable(e.request, { highlight: isCorsHeader })),
      h('div', {}, h('h4', {}, `The API answers ${e.status}`), headerTable(e.response, { caption: 'CORS lines', highlight: isCorsHeader }))),
    h('p', { class: 'small' }, 'The API’s reason: ', e.reason, '.'),
    h('p', { class: 'walk__check' }, 'Chromium’s check: ', verdictChip(v),
      v.pass ? null : [' ', explain(v.cors_error, walk.origin, e.method === 'OPTIONS' ? 'preflight' : 'actual').what]));
}

function outcome(walk, ctx) {
  const v = walk.verdict;
  if (v.pass) {
    return h('p', { class: 'walk__verdict walk__verdict--pass' }, 'Script reads the response.');
  }
  const e = explain(v.cors_error, walk.origin, v.stage);
  return h('div', { class: 'walk__verdict walk__verdict--blocked' },
    h('p', {}, 'Script gets ', h('code', {}, 'TypeError: Failed to fetch'), '. Chromium blocks it with ',
      h('code', {}, wordBreaks(v.cors_error)), ' and writes in the console:'),
    h('pre', { class: 'walk__console' }, v.console),
    v.blames_one_of.length > 0
      ? h('p', { class: 'small walk__several' },
        `The policy refuses ${v.blames_one_of.length} of the requested headers (${v.blames_one_of.join(', ')}). Chromium names one of them, in its own order, which may not be the one above; fix it, and it names the next.`)
      : null,
    h('p', { class: 'small' }, 'The fix: ', e.fix),
    walk.origin === ctx.pageOrigin ? null : h('p', { class: 'small muted' }, 'The fix names the lab’s variables; in your own server, the same header does it.'));
}

function curl(walk) {
  const o = `-H ${quote(`Origin: ${walk.origin}`)}`;
  const lines = [];
  if (walk.preflight) {
    const extra = walk.preflight.request.slice(1).map(([n, v]) => ` -H ${quote(`${n}: ${v}`)}`).join('');
    lines.push(`curl -i -X OPTIONS ${quote(walk.url)} ${o}${extra}`);
  }
  if (walk.actual) lines.push(`curl -i -X ${walk.actual.method} ${quote(walk.url)} ${o}`);
  return h('details', { class: 'walk__curl' },
    h('summary', {}, 'The same requests with curl'),
    h('pre', {}, h('code', {}, lines.join('\n'))),
    h('p', { class: 'small muted' }, 'curl sends any Origin you like and never enforces CORS: it shows what the API answers, which is what the walk reads.'));
}

/**
 * The init object of the fetch() call, as the learner would write it. Headers as an object,
 * or as [name, value] pairs when a name comes twice (fetch() then combines the values, as the
 * walk does; an object would keep only the last).
 */
function fetchInit(asked, method) {
  const init = { method };
  const headers = headerPairs(asked.headers);
  const names = new Set(headers.map(([n]) => n.toLowerCase()));
  if (headers.length) init.headers = names.size === headers.length ? Object.fromEntries(headers) : headers;
  if (asked.credentials === 'include') init.credentials = 'include';
  return init;
}

/**
 * “Send it for real”, from this page's own origin only: runs the fetch() and reads the run's
 * journal entries to say whether a preflight reached the API, with which headers, and whether
 * script could read the answer; then whether that is what the walk said.
 */
function realSend(walk, asked, ctx, article) {
  if (walk.origin !== ctx.pageOrigin) {
    // The lab's other page has that origin: the same walk opens there, ready to send.
    const labPage = [ctx.trustedUrl, ctx.untrustedUrl].find((u) => u && u === walk.origin);
    return h('p', { class: 'small muted walk__elsewhere' },
      'This page runs on ', h('code', {}, ctx.pageOrigin), ', so it cannot send from ', h('code', {}, walk.origin), '. ',
      labPage
        ? h('a', { href: `${labPage}/${walkHash(asked)}`, class: 'walk__other-page' }, 'Open this walk on the lab’s page there to send it for real.')
        : 'Try the walk from this page’s origin to compare it with what Chromium does.');
  }
  const box = h('div', { id: 'walk-real', class: 'walk__real', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'button', id: 'walk-send' }, 'Send it for real from this page');
  button.addEventListener('click', async () => {
    box.dataset.state = 'sending';
    fill(box, h('p', { class: 'muted' }, 'Sending…'));
    const runId = newRunId('walk');
    // A fresh URL per send (its run id), so no cached preflight stands in for this one.
    const url = makeApi(ctx.apiUrl, runId)('/api/echo');
    const init = fetchInit(asked, asked.method);
    let outcome;
    let thrown = '';
    try {
      const res = await fetch(url, init);
      outcome = { kind: 'pass', status: res.status };
    } catch (e) {
      thrown = String(e);
      outcome = { kind: 'blocked' };
    }
    const entries = walk.throws ? [] : await fetchRunEntries(ctx.apiUrl, runId, walk.credentials, { reaches_api: true }).catch(() => []);
    const preflight = entries.find((e) => e.kind === 'preflight');
    const actual = entries.find((e) => e.kind === 'actual');
    if (outcome.kind === 'blocked' && entries.length === 0) outcome.kind = 'threw';
    const real = {
      outcome: outcome.kind,
      preflightSeen: Boolean(preflight),
      requestHeaders: preflight?.request_headers ?? '',
    };
    const predicted = {
      outcome: walk.throws ? 'threw' : walk.verdict.pass ? 'pass' : 'blocked',
      preflightSeen: Boolean(walk.preflight),
      requestHeaders: walk.sent?.request_headers ?? '',
    };
    const differences = [];
    if (real.outcome !== predicted.outcome) differences.push(`the walk said “${predicted.outcome}”, Chromium did “${real.outcome}”`);
    if (real.preflightSeen !== predicted.preflightSeen) differences.push(real.preflightSeen ? 'a preflight reached the API' : 'no preflight reached the API');
    if (real.requestHeaders !== predicted.requestHeaders) differences.push(`the preflight asked for “${real.requestHeaders}”`);
    Object.assign(box.dataset, {
      state: 'done',
      runId,
      outcome: real.outcome,
      preflightSeen: real.preflightSeen ? 'yes' : 'no',
      requestHeaders: real.requestHeaders,
      asPredicted: differences.length === 0 ? 'yes' : 'no',
    });
    fill(box,
      h('p', {},
        real.outcome === 'pass' ? ['Chromium let script read the response (', h('code', {}, String(outcome.status)), ').']
          : real.outcome === 'threw' ? ['fetch() threw before sending: ', h('code', {}, thrown), '.']
            : ['Chromium blocked it: script got ', h('code', {}, thrown), '. The console says why.']),
      walk.throws ? null : h('p', { class: 'small' },
        preflight ? ['A preflight reached the API', real.requestHeaders ? [' with ', h('code', {}, `Access-Control-Request-Headers: ${real.requestHeaders}`)] : ' without Access-Control-Request-Headers', '.']
          : 'No preflight reached the API.',
        actual ? ' The request itself reached it too.' : ' The request itself never reached it.',
        ' The live journal shows both, under run ', h('code', {}, runId), '.'),
      h('p', { class: differences.length ? 'walk__differs' : 'walk__agrees' },
        differences.length ? `Not as the walk said: ${differences.join('; ')}.` : 'As the walk said.'));
  });
  article.dataset.sendable = 'yes';
  return h('div', { class: 'walk__send' }, button, box);
}
