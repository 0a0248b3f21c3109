// “Explain a console message”: the learner pastes Chromium's red console line from their own
// app; the page's server reads it (GET /_lab/explain, cors_policy::console) and this module
// says, for each blocked request in it, which check failed, on which response, and what the
// server's answer must carry to pass. The texts of the checks are explain.js's, as on the cards.
// `#explain=<text>` at the end of the page's address explains that text when the page opens:
// a link a teacher can hand out with a student's error in it.

import { h, fill, headerCase, shellQuote as quote, wordBreaks } from './dom.js';
import { explain } from './explain.js';
import { originDifference } from './workflow.js';

const EXAMPLE =
  "Access to fetch at 'https://api.example.com/orders' from origin 'https://shop.example.com' has been blocked by CORS policy: Request header field x-token is not allowed by Access-Control-Allow-Headers in preflight response.";

/** The catalogue's `reproduce` map (CorsError → scenario, preset, page) and scenario titles. */
let catalogue = null;
function loadCatalogue() {
  catalogue ??= fetch('/scenarios.json')
    .then((res) => (res.ok ? res.json() : {}))
    .then((c) => ({
      reproduce: c.reproduce ?? {},
      titles: new Map((c.scenarios ?? []).map((s) => [s.id, s.title])),
    }))
    .catch(() => ({ reproduce: {}, titles: new Map() }));
  return catalogue;
}

/** Wire the form of the #explain section. */
export function setUpConsoleExplainer() {
  const form = document.getElementById('explain-form');
  const input = document.getElementById('explain-message');
  const out = document.getElementById('explain-result');
  if (!form || !input || !out) return;
  document.getElementById('explain-example')?.addEventListener('click', () => {
    input.value = EXAMPLE;
    input.focus();
  });
  const fromHash = () => {
    const text = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('explain');
    if (!text) return;
    input.value = text;
    form.requestSubmit();
    document.getElementById('explain')?.scrollIntoView();
  };
  window.addEventListener('hashchange', fromHash);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      fill(out, h('p', { class: 'explain__problem' }, 'Paste the red line from the DevTools console first.'));
      return;
    }
    fill(out, h('p', { class: 'muted' }, 'Reading…'));
    out.dataset.state = 'reading';
    try {
      const res = await fetch(`/_lab/explain?message=${encodeURIComponent(text)}`);
      if (!res.ok) {
        // 400 and 414 say why in their body; 431 is the request head's own limit (64 KiB).
        const said = res.status === 400 || res.status === 414 ? await res.text() : '';
        const tooLong = res.status === 431
          ? 'The text is too long to send: paste only the lines that say “has been blocked by CORS policy”.'
          : `The lab's page server answered ${res.status}.`;
        fill(out, h('p', { class: 'explain__problem' }, said || tooLong));
      } else {
        render(out, (await res.json()).messages ?? [], await loadCatalogue());
        out.append(h('p', { class: 'small' },
          h('a', { href: `#explain=${encodeURIComponent(text)}`, class: 'explain__link' }, 'Link to this explanation'),
          ' (the text rides in the link; the lab keeps nothing).'));
      }
    } catch (e) {
      fill(out, h('p', { class: 'explain__problem' }, `The lab's page server did not answer (${e.message}). Is the lab running?`));
    }
    out.dataset.state = 'done';
  });
  fromHash();
}

function render(out, messages, lab) {
  if (messages.length === 0) {
    fill(out, h('p', { class: 'explain__problem' },
      'No CORS message found. Chromium’s line contains “has been blocked by CORS policy”; copy it from the Console tab (right-click › Copy message works too). ',
      'Script’s own ', h('code', {}, 'TypeError: Failed to fetch'), ' carries no reason: that is why the console line matters.'));
    return;
  }
  fill(out,
    messages.length > 1 ? h('p', { class: 'small muted' }, `${messages.length} blocked requests in the text, each explained below.`) : null,
    messages.map((m) => renderMessage(m, lab)));
}

function renderMessage(m, lab) {
  if (m.problem) {
    return h('article', { class: 'explain__item' },
      h('p', { class: 'explain__problem' }, `A line mentions a CORS block but is ${m.problem}. Paste Chromium’s whole line, from “Access to”.`));
  }
  const request = h('p', {},
    'The page at ', h('code', {}, m.origin), ' called ',
    h('code', { class: 'explain__url' }, m.url), ` (${m.initiator})`,
    m.redirected_from ? [', after a redirect from ', h('code', {}, m.redirected_from)] : null,
    `: another origin (${originDifference(m.origin, m.url)}).`);
  if (!m.cors_error) {
    return h('article', { class: 'explain__item', dataset: { corsError: '' } },
      h('h3', {}, 'A reason the lab does not model'),
      request,
      h('p', {}, 'Chromium’s reason: ', h('q', {}, m.reason)),
      h('p', { class: 'small muted' }, 'The lab models the response checks of the Fetch standard (Access-Control-Allow-*, preflight status); this block comes from another rule, such as Private Network Access or a scheme without CORS.'));
  }
  const e = explain(m.cors_error, m.origin, m.stage, 'the server');
  return h('article', { class: `explain__item explain__item--${m.stage}`, dataset: { corsError: m.cors_error } },
    h('h3', {}, h('code', { class: 'explain__error' }, wordBreaks(m.cors_error)),
      ' ', h('span', { class: `badge badge--${m.stage}` }, m.stage === 'preflight' ? 'preflight' : 'actual response')),
    request,
    h('p', { class: 'explain__what' }, e.what, m.failed_parameter ? [' Chromium names ', h('code', {}, m.failed_parameter), '.'] : null),
    h('p', { class: 'small' }, e.stageNote),
    requiredAnswer(m.required, { stage: m.stage, url: m.url, origin: m.origin }),
    checkWithCurl(m),
    reproduce(m.cors_error, lab));
}

/** A link to the lab's own run of the same check failing, where the journal shows it all. */
function reproduce(corsError, lab) {
  const where = lab.reproduce[corsError];
  if (!where) return null;
  const d = document.body.dataset;
  const base = (where.page === 'untrusted' ? d.untrustedUrl : d.trustedUrl) ?? '';
  const href = `${base.replace(/\/+$/, '')}/#scenario=${encodeURIComponent(where.scenario)}&preset=${encodeURIComponent(where.preset)}`;
  return h('p', { class: 'explain__reproduce' },
    'See it in the lab: ',
    h('a', { href }, `“${lab.titles.get(where.scenario) ?? where.scenario}”`),
    ` under the ${where.preset} preset, from the ${where.page} page. Chromium fails the same check there, and the lab shows the requests and answers it judged.`);
}

/**
 * What the server's answer must carry: `r` is a required answer ({ credentialed, requirements })
 * for the response of `stage` to a request from `origin` (to `url`, when known). `unsaid` says
 * whose silence leaves the credentials mode open ("the message does not say"), `again` what to do
 * after a fix; `vary: false` leaves out the general note on `Vary: Origin`.
 * Also used by check.js, for an answer pasted as curl printed it.
 */
export function requiredAnswer(r, { stage, url = null, origin, unsaid = 'the message does not say whether it does', again = 'paste the new line again', vary = true }) {
  const which = stage === 'preflight'
    ? ['its answer to the preflight', url ? [' (', h('code', {}, `OPTIONS ${url}`), ')'] : null]
    : ['its response to the request itself'];
  // `carried` (answers pasted as curl printed them): the answer has it already.
  const has = (req) => (req.carried ? h('span', { class: 'check__carried' }, ' ✓ it has this already') : null);
  const items = r.requirements.map((req) => h('li', { class: req.carried ? 'is-carried' : '' }, requirement(req), has(req)));
  const notes = [];
  if (!r.credentialed) {
    notes.push(h('li', {}, 'if the request sends cookies or HTTP authentication (', h('code', {}, "credentials: 'include'"), ', ', h('code', {}, 'withCredentials'), '), also ', h('code', { class: 'explain__line' }, 'Access-Control-Allow-Credentials: true'), ` — ${unsaid}.`));
  }
  if (vary) notes.push(h('li', {}, h('code', {}, 'Vary: Origin'), ' whenever the server picks Access-Control-Allow-Origin by the request’s origin, so that no cache serves one origin’s answer to another.'));
  return h('div', { class: 'explain__required' },
    h('h4', {}, 'What the server must answer'),
    h('p', {}, 'For this check to pass, the server', url ? [' at ', h('code', {}, originOf(url))] : null, ' must send, in ', which, ':'),
    h('ul', { class: 'explain__requirements' }, items),
    h('p', { class: 'small' }, 'Also:'),
    h('ul', { class: 'small' }, notes),
    origin === 'null'
      ? h('p', { class: 'explain__warn' }, 'The origin is ', h('code', {}, 'null'), ': the page is a sandboxed iframe, a file:// page, or the request crossed origins in a redirect. Allowing ', h('code', {}, 'null'), ' lets every such page in; serve the page from a real origin instead.')
      : null,
    h('p', { class: 'small muted' }, `Fix one check and Chromium may name the next one (it stops at the first that fails): ${again}.`));
}

/** One requirement of a required answer, as the text of its list item. */
function requirement(req) {
  switch (req.kind) {
    case 'ok_status':
      return ['an ok status (', h('code', {}, '204'), ' or ', h('code', {}, '200'), '), not a redirect or an error: a preflight is answered by the server itself, before any login or routing that could refuse it;'];
    case 'line':
      return [h('code', { class: 'explain__line' }, `${headerCase(req.name)}: ${req.value}`), ' — the only line of that name;'];
    case 'in_list':
      return [h('code', { class: 'explain__line' }, `${headerCase(req.name)}: ${req.value}`), ` — ${req.value} in the list, beside what it already allows (a list of names, or a second line);`];
    case 'valid_list':
      return [h('code', {}, headerCase(req.name)), ' as a plain comma-separated list of names (', h('code', {}, 'GET, PUT'), ' or ', h('code', {}, 'content-type, x-token'), '), nothing else;'];
    default:
      return null;
  }
}

function checkWithCurl(m) {
  const method = m.cors_error === 'MethodDisallowedByPreflightResponse' ? m.failed_parameter : 'PUT';
  const headers = m.cors_error === 'HeaderDisallowedByPreflightResponse' ? ` -H ${quote(`Access-Control-Request-Headers: ${m.failed_parameter}`)}` : '';
  const cmd = m.stage === 'preflight'
    ? `curl -i -X OPTIONS ${quote(m.url)} -H ${quote(`Origin: ${m.origin}`)} -H ${quote(`Access-Control-Request-Method: ${method}`)}${headers}`
    : `curl -i ${quote(m.url)} -H ${quote(`Origin: ${m.origin}`)}`;
  return h('details', { class: 'explain__curl' },
    h('summary', {}, 'See what the server answers, with curl'),
    h('pre', {}, h('code', {}, cmd)),
    m.stage === 'preflight' && m.cors_error !== 'MethodDisallowedByPreflightResponse'
      ? h('p', { class: 'small muted' }, 'Put the request’s real method in place of PUT: the message does not name it. DevTools’ preflight row shows it.')
      : null,
    h('p', { class: 'small muted' }, 'curl never enforces CORS: it shows the Access-Control-* lines the browser judged.'),
    h('p', { class: 'small' }, 'To have them judged as Chromium would, with what is still missing, run it verbose and pipe it to the lab’s ', h('code', {}, 'cors-check'), ' (in this repository; see the README):'),
    h('pre', {}, h('code', {}, `${cmd.replace(/^curl -i /, 'curl -sv ')} 2>&1 | cargo run -q -p api-server --bin cors-check --${m.required && m.required.credentialed ? ' --credentials' : ''}`)),
    h('p', { class: 'small' }, 'Or run the verbose curl command alone (without the pipe) and paste what it prints into ', h('a', { href: '#check' }, 'Check your own server’s answer'), ', on this page.'));
}

function originOf(url) {
  try { return new URL(url).origin; } catch { return url; }
}
