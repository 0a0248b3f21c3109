// “Check your own server's answer”: the learner asks their own server with curl, sending the
// headers the browser would, and pastes what curl printed. The page's server judges that answer
// as Chromium does (POST /_lab/check-answer, cors_policy::answer: the same check as the
// `cors-check` command) and this module says what it found: the request judged and where each
// part of it came from, the verdict, what the answer must carry, and notes.
// The lab never contacts that server: curl does, on the learner's machine.
// `#check=<the form's fields as a query>` at the end of the page's address checks that answer
// when the page opens: a link a teacher can hand out with a student's answer in it.
//
// A text may hold several curl runs (the preflight's, then the request's): each is judged.
//
// DOM contract (the browser tests rely on it): #check-result[data-state="done"] holds one
// <article class="check__item"> per exchange, in order, with data-verdict ("pass" or Chromium's
// CorsError) and data-stage ("preflight" | "actual"), Chromium's reason in .check__reason, or a
// .explain__problem paragraph when the text could not be judged.

import { h, fill, headerCase, wordBreaks } from './dom.js';
import { explain } from './explain.js';
import { requiredAnswer } from './console.js';

/** What `curl -sv -X OPTIONS … 2>&1` prints for a preflight whose answer leaves out a header. */
const EXAMPLE = `*   Trying 203.0.113.7:443...
* Connected to api.example.com (203.0.113.7) port 443
> OPTIONS /orders HTTP/1.1
> Host: api.example.com
> User-Agent: curl/8.14.1
> Accept: */*
> Origin: https://shop.example.com
> Access-Control-Request-Method: PUT
> Access-Control-Request-Headers: content-type,x-token
>
< HTTP/1.1 204 No Content
< Access-Control-Allow-Origin: https://shop.example.com
< Access-Control-Allow-Methods: GET, POST, PUT
< Access-Control-Allow-Headers: content-type
< Vary: Origin
<
* Connection #0 to host api.example.com left intact`;

const FROM = {
  curl: 'from curl’s request lines',
  form: 'from the form',
  default: 'not shown, so the default',
};

/** Wire the form of the #check section. */
export function setUpAnswerCheck() {
  const form = document.getElementById('check-form');
  const text = document.getElementById('check-text');
  const out = document.getElementById('check-result');
  if (!form || !text || !out) return;
  const field = (id) => document.getElementById(id);
  field('check-example')?.addEventListener('click', () => {
    text.value = EXAMPLE;
    text.focus();
  });
  // The form's text fields, by the key they have in the request body and in `#check=`.
  const TEXT_FIELDS = { origin: 'check-origin', method: 'check-method', request_headers: 'check-request-headers' };
  const fields = () => ({
    text: text.value,
    ...Object.fromEntries(Object.entries(TEXT_FIELDS).map(([key, id]) => [key, field(id)?.value ?? ''])),
    preflight: field('check-preflight')?.checked ?? false,
    credentials: field('check-credentials')?.value || null,
  });
  const fromHash = () => {
    const query = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('check');
    if (!query) return;
    const given = new URLSearchParams(query);
    text.value = given.get('text') ?? '';
    for (const [key, id] of [...Object.entries(TEXT_FIELDS), ['credentials', 'check-credentials']]) {
      if (field(id)) field(id).value = given.get(key) ?? '';
    }
    if (field('check-preflight')) field('check-preflight').checked = given.get('preflight') === 'true';
    if ([...Object.keys(TEXT_FIELDS), 'preflight'].some((k) => given.get(k))) field('check-request')?.setAttribute('open', '');
    form.requestSubmit();
    document.getElementById('check')?.scrollIntoView();
  };
  window.addEventListener('hashchange', fromHash);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    out.dataset.state = 'reading';
    if (!text.value.trim()) {
      fill(out, h('p', { class: 'explain__problem' }, 'Paste what curl printed first.'));
      out.dataset.state = 'done';
      return;
    }
    const body = fields();
    fill(out, h('p', { class: 'muted' }, 'Checking…'));
    try {
      const res = await fetch('/_lab/check-answer', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.ok) {
        const { exchanges = [] } = await res.json();
        fill(out,
          exchanges.length > 1 ? h('p', { class: 'small muted' }, `${exchanges.length} exchanges in the text (one per curl run), each judged below, in order.`) : null,
          exchanges.map((c, i) => render(c, { index: i, total: exchanges.length, before: exchanges[i - 1] })),
          link(body));
      } else {
        // 422 says what is missing; 413 is the body limit (64 KiB).
        const said = res.status === 422 ? await res.text() : '';
        const problem = res.status === 413
          ? 'The text is too long: paste one exchange, from curl’s “>” request lines to the end of the answer’s headers.'
          : said || `The lab's page server answered ${res.status}.`;
        fill(out, h('p', { class: 'explain__problem' }, problem));
        if (/origin is unknown|method is unknown/.test(said)) field('check-request')?.setAttribute('open', '');
      }
    } catch (e) {
      fill(out, h('p', { class: 'explain__problem' }, `The lab's page server did not answer (${e.message}). Is the lab running?`));
    }
    out.dataset.state = 'done';
  });
  fromHash();
}

/** “Link to this check”: `#check=` and the fields given, as a query. */
function link(body) {
  const given = Object.entries(body).filter(([, v]) => v !== null && v !== '' && v !== false).map(([k, v]) => [k, String(v)]);
  const href = `#check=${encodeURIComponent(new URLSearchParams(given).toString())}`;
  return h('p', { class: 'small' },
    h('a', { href, class: 'check__link' }, 'Link to this check'),
    ' (the pasted text rides in the link; the lab keeps nothing).');
}

/** One exchange judged; `before` is the exchange pasted before it, if any. */
function render(c, { index, total, before }) {
  const preflight = c.stage === 'preflight';
  const what = preflight
    ? ['the preflight (', h('code', {}, 'OPTIONS'), ') of a ', h('code', {}, c.method), ' request',
      c.request_headers ? [' with the headers ', h('code', {}, c.request_headers)] : ' with no custom headers']
    : ['a ', h('code', {}, c.method), ' request itself (no preflight)'];
  const judged = h('p', {},
    'Your server answered ', h('code', {}, String(c.status)), ' to ', what,
    ', from a page at ', h('code', {}, c.origin),
    c.credentials === 'include' ? ', with credentials.' : ', without credentials.');
  const sources = h('p', { class: 'small muted check__sources' },
    `Origin ${FROM[c.origin_from]}; ${preflight ? 'method asked about' : 'method'} ${FROM[c.method_from]}`,
    c.method_from === 'default' ? ' (GET)' : '',
    `; credentials ${c.credentials_from === 'form' ? 'from the form' : 'not said, so judged without (the default of a cross-origin fetch)'}.`);
  const head = c.passes
    ? h('h3', {}, h('span', { class: 'check__pass' }, preflight ? 'Passes: Chromium then sends the request itself' : 'Passes: script can read the response'))
    : h('h3', {}, h('code', { class: 'explain__error' }, wordBreaks(c.cors_error)), ' ',
      h('span', { class: `badge badge--${c.stage}` }, preflight ? 'preflight' : 'actual response'));
  const article = h('article', {
    class: `explain__item check__item explain__item--${c.stage}`,
    dataset: { verdict: c.passes ? 'pass' : c.cors_error, stage: c.stage },
  }, total > 1 ? h('p', { class: 'small muted check__which' }, `${index + 1} of ${total}: ${preflight ? 'a preflight' : 'a request itself'}`) : null,
  head, judged, sources,
  before && before.stage === 'preflight' && !before.passes && !preflight
    ? h('p', { class: 'explain__warn' }, 'Chromium would never send this request: the preflight before it failed. Its answer is judged all the same, for when the preflight is fixed.')
    : null);
  if (!c.passes) {
    const e = explain(c.cors_error, c.origin, c.stage, 'your server');
    article.append(
      h('p', { class: 'explain__what' }, e.what, c.failed_parameter ? [' Chromium names ', h('code', {}, c.failed_parameter), '.'] : null),
      h('p', {}, 'Chromium’s console would end its line with: ', h('q', { class: 'check__reason' }, c.reason)),
      h('p', { class: 'small' }, e.stageNote),
      requiredAnswer(c.required, {
        stage: c.stage,
        origin: c.origin,
        unsaid: 'you did not say whether it does (Credentials, above)',
        again: 'run curl again and paste its new answer',
        vary: false, // the notes below say whether this answer needs it
      }));
  }
  const notes = c.notes.map((n) => note(n, c)).filter(Boolean);
  if (notes.length) article.append(h('h4', {}, c.passes ? 'Next' : 'Also'), h('ul', { class: 'check__notes' }, notes));
  return article;
}

function lines(list) {
  return list.map((l, i) => [i ? ' and ' : '', h('code', { class: 'explain__line' }, `${headerCase(l.name)}: ${l.value}`)]);
}

function note(n, c) {
  switch (n.kind) {
    case 'no_origin_sent':
      return h('li', {}, 'curl sent no ', h('code', {}, 'Origin'), ' line, so your server answered a request no browser sends cross-origin; many servers add CORS headers only when ', h('code', {}, 'Origin'), ' is there. Add ', h('code', {}, `-H 'Origin: ${c.origin}'`), ' to curl.');
    case 'options_without_request_method':
      return h('li', {}, 'curl’s OPTIONS had no ', h('code', {}, 'Access-Control-Request-Method'), ', so it is not a preflight, and it was judged as a request itself. Add ', h('code', {}, "-H 'Access-Control-Request-Method: PUT'"), ' (the real method) to curl.');
    case 'vary_origin_missing':
      return h('li', {}, h('code', {}, 'Access-Control-Allow-Origin'), ' names one origin but ', h('code', {}, 'Vary'), ' does not list ', h('code', {}, 'Origin'), ': a cache between may hand this answer to a page of another origin. Add ', h('code', {}, 'Vary: Origin'), '.');
    case 'later_responses':
      return h('li', {}, `curl followed ${n.count} redirect${n.count === 1 ? '' : 's'} after this answer; only the first answer is checked. Chromium checks each, never follows one for a preflight, and sends `, h('code', {}, 'Origin: null'), ' after a redirect to another origin.');
    case 'later_exchanges':
      return h('li', {}, `The text holds ${n.count} more curl run${n.count === 1 ? '' : 's'} after this one, not judged: one of them shows no request (`, h('code', {}, 'curl -i'), '), and the form’s request can be only one of them. Paste ', h('code', {}, 'curl -sv'), ' output to have each judged, or paste one run at a time.');
    case 'actual_needs':
      return h('li', {}, 'The response to the request itself must carry ', lines(n.lines), ' too: check it with curl as well (without the ', h('code', {}, 'Access-Control-Request-*'), ' lines, with the real method).');
    case 'with_credentials_needs':
      return h('li', {}, 'Judged without credentials. With ', h('code', {}, "credentials: 'include'"), ' (cookies, HTTP authentication) the answer needs ', lines(n.lines), ', and no ', h('code', {}, '*'), ' in Access-Control-Allow-Origin. Say which under Credentials.');
    default:
      return null;
  }
}

