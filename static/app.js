// CORS Lab page: reads the page context from <body data-*>, shows the API policy, renders the
// scenario cards from /scenarios.json, runs them, and keeps the live journal panel.

import { h, fill } from './dom.js';
import { JournalPanel } from './journal.js';
import { runScenario, verdictMode } from './runner.js';
import { renderCard, markRunning, showResult } from './cards.js';

function readContext(body) {
  const d = body.dataset;
  return {
    apiUrl: (d.apiUrl ?? '').replace(/\/+$/, ''),
    role: d.role ?? '',
    trustedUrl: d.trustedUrl ?? '',
    untrustedUrl: d.untrustedUrl ?? '',
    pageOrigin: d.pageOrigin || window.location.origin,
  };
}

// Mark the link to this page's own origin; the other one is the one to follow.
function markOwnLink(ctx) {
  for (const link of document.querySelectorAll('[data-link]')) {
    if (link.dataset.link === ctx.role) {
      link.setAttribute('aria-current', 'page');
      link.append(' (this page)');
    }
  }
}

async function loadPolicy(ctx) {
  const preset = document.getElementById('policy-preset');
  const summary = document.getElementById('policy-summary');
  const tbody = document.getElementById('policy-fields');
  try {
    const res = await fetch(`${ctx.apiUrl}/_lab/policy`, { cache: 'no-store' });
    if (!res.ok) throw new Error(`status ${res.status}`);
    const policy = await res.json();
    preset.textContent = policy.preset ?? '(custom)';
    preset.dataset.preset = policy.preset ?? '';
    summary.textContent = policy.summary ?? '';
    showBrokenPreset(policy);
    const fieldsBox = document.getElementById('policy-fields-box');
    if (fieldsBox) fieldsBox.hidden = !(policy.fields ?? []).length;
    fill(tbody, (policy.fields ?? []).map((f) =>
      h('tr', {},
        h('th', { scope: 'row' }, h('code', {}, f.name)),
        h('td', {}, h('code', {}, f.variable)),
        h('td', {}, f.value === '' || f.value === null || f.value === undefined ? h('span', { class: 'muted' }, '(empty)') : h('code', {}, String(f.value))),
        h('td', { class: 'muted' }, f.source ?? ''))));
  } catch (e) {
    const fieldsBox = document.getElementById('policy-fields-box');
    if (fieldsBox) fieldsBox.hidden = true;
    preset.textContent = 'unknown';
    preset.dataset.preset = '';
    summary.textContent = '';
    summary.append(
      h('strong', { class: 'bad-text' }, 'The API did not answer'),
      ` at ${ctx.apiUrl}/_lab/policy (${e.message ?? e}). Is the lab running (`, h('code', {}, 'cargo run'), ')?');
  }
}

// A preset that is broken on purpose: say so, with the mistake, its symptom and the fix.
function showBrokenPreset(policy) {
  const box = document.getElementById('policy-broken');
  if (!box) return;
  const info = policy.broken ? (policy.presets ?? []).find((p) => p.name === policy.preset) : null;
  if (!info) {
    box.hidden = true;
    return;
  }
  fill(box,
    h('p', {}, h('strong', {}, 'This preset is broken on purpose. '), info.mistake ?? ''),
    info.symptom ? h('p', {}, h('strong', {}, 'Symptom: '), info.symptom) : null,
    info.fix ? h('p', {}, h('strong', {}, 'Fix: '), info.fix) : null);
  box.hidden = false;
}

async function loadScenarios() {
  const res = await fetch('/scenarios.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /scenarios.json answered ${res.status}`);
  const data = await res.json();
  if (!Array.isArray(data?.scenarios)) throw new Error('scenarios.json has no "scenarios" list');
  return data.scenarios;
}

function renderScenarioList(container, scenarios, ctx, onRun) {
  fill(container, scenarios.map((s) => renderCard(s, ctx, onRun)));
}

async function main() {
  const ctx = readContext(document.body);
  markOwnLink(ctx);
  loadPolicy(ctx);

  let scenarios = [];
  const byId = new Map();
  const running = new Map(); // id → promise of the current run

  const modeForRun = (run) => {
    if (!run) return null;
    // Run ids are `${scenarioId}-${time}-${counter}`; take the longest scenario id that fits.
    let best = null;
    for (const s of scenarios) {
      if (run.startsWith(`${s.id}-`) && (!best || s.id.length > best.id.length)) best = s;
    }
    return best ? verdictMode(best) : null;
  };

  const panel = new JournalPanel({
    apiUrl: ctx.apiUrl,
    list: document.getElementById('journal-list'),
    empty: document.getElementById('journal-empty'),
    status: document.getElementById('journal-status'),
    clearButton: document.getElementById('journal-clear'),
    modeForRun,
  });

  function run(id) {
    if (running.has(id)) return running.get(id);
    const scenario = byId.get(id);
    const card = document.getElementById(`scenario-${id}`);
    if (!scenario || !card) return Promise.reject(new Error(`no scenario ${id}`));
    markRunning(card);
    const p = runScenario(scenario, ctx)
      .then((result) => {
        showResult(card, scenario, result, ctx);
        return result;
      })
      .finally(() => running.delete(id));
    running.set(id, p);
    return p;
  }

  const runAllButton = document.getElementById('run-all');
  async function runAll() {
    runAllButton.disabled = true;
    const results = [];
    try {
      for (const [i, s] of scenarios.entries()) {
        runAllButton.textContent = `Running ${i + 1} of ${scenarios.length}…`;
        results.push(await run(s.id));
      }
    } finally {
      runAllButton.disabled = false;
      runAllButton.textContent = 'Run all';
    }
    return results;
  }
  runAllButton.addEventListener('click', () => { runAll().catch((e) => console.error(e)); });

  // A handle for the console and for tests driving the page.
  window.corsLab = { ctx, run, runAll, get scenarios() { return scenarios; } };

  const list = document.getElementById('scenario-list');
  try {
    scenarios = await loadScenarios();
    for (const s of scenarios) byId.set(s.id, s);
    renderScenarioList(list, scenarios, ctx, (id) => { run(id).catch((e) => console.error(e)); });
    document.body.dataset.ready = 'true';
  } catch (e) {
    runAllButton.disabled = true;
    fill(list, h('p', { class: 'bad-text' }, `Could not load the scenarios: ${e.message ?? e}`));
    document.body.dataset.ready = 'error';
  }
  // After the catalogue, so the panel knows each run's credentials mode.
  panel.start();
}

main();
