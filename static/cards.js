// Scenario cards: how a scenario is shown, and how a run's result is written into its card.
// DOM contract (the Rust browser tests rely on it):
// <article class="scenario" id="scenario-{id}" data-scenario data-state data-outcome
// data-cors-error data-preflight-seen data-run-id>, <button data-run="{id}">, and the fields
// data-field="reason" | "script-result" | "console".

import { h, fill, copyText } from './dom.js';
import { renderEntry } from './journal.js';
import { explain } from './explain.js';
import { verdictMode } from './runner.js';

/** Fill the {page_origin} and {api_url} placeholders of a curl command. */
export function curlFor(scenario, { pageOrigin, apiUrl }) {
  return String(scenario.curl ?? '')
    .replaceAll('{page_origin}', pageOrigin)
    .replaceAll('{api_url}', String(apiUrl).replace(/\/+$/, ''));
}

function field(tag, name, attrs = {}, ...children) {
  return h(tag, { ...attrs, dataset: { ...(attrs.dataset ?? {}), field: name } }, ...children);
}

function preflightLine(scenario) {
  const expected = Boolean(scenario.preflight?.expected);
  return h('p', { class: 'scenario__preflight' },
    h('span', { class: `badge ${expected ? 'badge--preflight' : 'badge--simple'}` },
      expected ? 'preflight: yes' : 'preflight: no'),
    ' ',
    expected ? 'The browser will send a preflight first: ' : 'No preflight: ',
    scenario.preflight?.why ?? '',
    '.');
}

function credentialsLine(scenario) {
  if (verdictMode(scenario) === 'include') {
    return h('p', { class: 'scenario__creds small' },
      'Sent with ', h('code', {}, "credentials: 'include'"),
      ': cookies go along, and the response needs an exact Access-Control-Allow-Origin plus Access-Control-Allow-Credentials: true.');
  }
  return h('p', { class: 'scenario__creds small muted' },
    'Sent without credentials (a cross-origin fetch sends no cookies by default).');
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
  return h('article', {
    class: 'scenario',
    id: `scenario-${scenario.id}`,
    'aria-labelledby': titleId,
    dataset: { scenario: scenario.id, state: 'idle' },
  },
    h('header', { class: 'scenario__head' },
      h('p', { class: 'scenario__group' }, scenario.group),
      h('h4', { class: 'scenario__title', id: titleId }, scenario.title),
      h('p', { class: 'scenario__id small muted' }, h('code', {}, scenario.id))),
    h('p', { class: 'scenario__teaches' }, scenario.teaches),
    preflightLine(scenario),
    credentialsLine(scenario),
    h('pre', { class: 'code', 'aria-label': 'Code this scenario runs' }, h('code', {}, scenario.code)),
    h('div', { class: 'scenario__actions' },
      button,
      field('span', 'status', { class: 'run-status', role: 'status' }, 'Not run yet.')),
    field('section', 'result', { class: 'result', hidden: true, 'aria-label': 'Result of the last run' },
      field('div', 'verdict', { class: 'verdict' }),
      field('pre', 'console', { class: 'console', 'aria-label': 'Chromium console line' }),
      field('p', 'reason', { class: 'reason' }),
      field('div', 'explanation', { class: 'explanation' }),
      field('p', 'decision', { class: 'decision-line small' }),
      field('p', 'preflight-note', { class: 'small muted' }),
      h('h5', {}, 'What the script got'),
      field('pre', 'script-result', { class: 'script-result' }),
      field('p', 'script-note', { class: 'small muted' }),
      h('h5', {}, 'What the API saw (journal of this run)'),
      field('div', 'entries', { class: 'run-entries' }),
      h('h5', {}, 'The same with curl'),
      h('div', { class: 'curl' },
        field('pre', 'curl', { class: 'code' }, h('code', {}, curl)),
        h('div', { class: 'curl__actions' }, copy, copied)),
      h('p', { class: 'small muted' },
        'curl gets an answer whatever the policy: it never enforces CORS. Only the browser refuses to hand a blocked response to the script.')));
}

function q(card, name) {
  return card.querySelector(`[data-field="${name}"]`);
}

/** Switch a card to "running": previous result and attributes are cleared. */
export function markRunning(card) {
  card.dataset.state = 'running';
  for (const a of ['outcome', 'corsError', 'preflightSeen', 'runId']) delete card.dataset[a];
  const button = card.querySelector('[data-run]');
  button.disabled = true;
  q(card, 'status').textContent = 'Running…';
  q(card, 'result').hidden = true;
  for (const name of ['verdict', 'console', 'reason', 'explanation', 'decision', 'preflight-note', 'script-result', 'script-note', 'entries']) {
    fill(q(card, name));
  }
}

function verdictBanner(result) {
  if (result.outcome === 'pass') {
    return [h('span', { class: 'verdict__label' }, '✓ Pass'),
      ' The browser let the script read the response.'];
  }
  if (result.outcome === 'blocked') {
    return [h('span', { class: 'verdict__label' }, '✗ Blocked by CORS'), ' ',
      h('code', { class: 'verdict__error' }, result.corsError || 'CORS error'),
      result.blocking?.kind === 'preflight' ? ' (at the preflight)' : ' (on the response)'];
  }
  return [h('span', { class: 'verdict__label' }, '⚠ Unreached'),
    ' No request of this run reached the API.'];
}

function preflightNote(scenario, result) {
  const expected = Boolean(scenario.preflight?.expected);
  if (expected && !result.preflightSeen && result.outcome === 'pass') {
    return 'No preflight this time: the browser reused a preflight it had cached for this URL (Access-Control-Max-Age). Run it again after the cache expires, or with DevTools “Disable cache”, to see it.';
  }
  if (expected && result.preflightSeen) return 'As expected, the browser sent a preflight (the first journal entry below).';
  if (!expected && !result.preflightSeen && result.outcome !== 'unreached') return 'As expected, no preflight: the request went straight out.';
  if (!expected && result.preflightSeen) return 'Unexpected: a preflight was seen for a request the catalogue calls simple.';
  return '';
}

function scriptNote(result) {
  if (result.outcome === 'blocked' && !result.script.ok) {
    const status = result.blocking?.kind === 'actual' ? ` although the API answered ${result.blocking.status}` : '';
    return `In script every CORS failure looks the same (“${result.script.error}”)${status}: the page cannot tell why. The journal can.`;
  }
  if (result.outcome === 'pass' && !result.script.ok) {
    return 'The CORS checks passed, but the script still failed: see the error above.';
  }
  if (result.outcome === 'unreached') {
    return result.journalError
      ? `The journal could not be read either (${result.journalError}). Is the API running?`
      : 'Nothing reached the API: it may be down, or the browser refused before sending anything.';
  }
  return '';
}

// One line when short, indented when not; always valid JSON.
function formatScriptResult(script) {
  const flat = JSON.stringify(script);
  if (flat === undefined) return String(script);
  return flat.length <= 90 ? flat : JSON.stringify(script, null, 2);
}

/** Write a finished run into its card and set the data-* attributes of the contract. */
export function showResult(card, scenario, result, ctx) {
  const mode = result.mode;

  fill(q(card, 'verdict'), verdictBanner(result));
  q(card, 'verdict').className = `verdict verdict--${result.outcome}`;

  q(card, 'console').textContent = result.console;
  q(card, 'console').hidden = !result.console;
  q(card, 'reason').textContent = result.outcome === 'blocked' ? result.reason : '';
  q(card, 'reason').hidden = result.outcome !== 'blocked';

  if (result.outcome === 'blocked') {
    const ex = explain(result.corsError, ctx.pageOrigin, result.blocking?.kind);
    fill(q(card, 'explanation'),
      h('p', {}, h('strong', {}, 'What went wrong: '), ex.what),
      h('p', {}, ex.stageNote),
      h('p', {}, h('strong', {}, 'Fix: '), ex.fix));
  }
  const decision = result.blocking?.decision;
  if (decision?.reason) {
    fill(q(card, 'decision'), h('strong', {}, 'The API’s own decision: '),
      decision.outcome ? h('span', { class: `decision decision--${decision.outcome}` }, decision.outcome) : null,
      ` ${decision.reason}`);
  }
  q(card, 'preflight-note').textContent = preflightNote(scenario, result);

  q(card, 'script-result').textContent = formatScriptResult(result.script);
  q(card, 'script-note').textContent = scriptNote(result);

  fill(q(card, 'entries'),
    result.entries.length
      ? h('ol', { class: 'run-entries__list' },
        result.entries.map((e) => h('li', {
          class: e === result.blocking ? 'is-blocking' : null,
        }, renderEntry(e, { mode, collapsible: false }))))
      : h('p', { class: 'small muted' }, 'No journal entries for this run.'));

  q(card, 'status').textContent = `Done (run ${result.runId}).`;
  q(card, 'result').hidden = false;

  const button = card.querySelector('[data-run]');
  button.disabled = false;

  card.dataset.outcome = result.outcome;
  card.dataset.corsError = result.corsError ?? '';
  card.dataset.preflightSeen = String(Boolean(result.preflightSeen));
  card.dataset.runId = result.runId;
  card.dataset.state = 'done';
}
