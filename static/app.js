// CORS Lab page: reads the page context from <body data-*>, shows and switches the API policy,
// renders the scenario catalogue from /scenarios.json, runs scenarios, draws the workflow of the
// last run, keeps the live journal, explains console messages pasted from other apps
// (console.js), walks a request through the policy on paper (walkthrough.js), and follows
// shareable links:
//   #scenario=<id>&preset=<name>   scroll to and highlight a card; offer to switch to the preset
//   #autorun=<id>,<id>,…            run these scenarios once the page is ready (for teachers)

import { h, fill } from './dom.js';
import { JournalPanel } from './journal.js';
import { runScenario, verdictMode } from './runner.js';
import { renderCard, markRunning, showResult, updateCardForPolicy, shareHash } from './cards.js';
import { PolicyPanel } from './policy.js';
import { renderWorkflow } from './workflow.js';
import { setUpConsoleExplainer } from './console.js';
import { setUpAnswerCheck } from './check.js';
import { setUpPredictMode, scorePrediction } from './predict.js';
import { setUpWalkthrough } from './walkthrough.js';
import { setUpCompare } from './compare.js';

function readContext(body) {
  const d = body.dataset;
  const ctx = {
    apiUrl: (d.apiUrl ?? '').replace(/\/+$/, ''),
    role: d.role ?? '',
    trustedUrl: (d.trustedUrl ?? '').replace(/\/+$/, ''),
    untrustedUrl: (d.untrustedUrl ?? '').replace(/\/+$/, ''),
    // The origin script here really has (what the browser sends as Origin), and the one the
    // lab serves this page as: they differ when the page is opened at another address, e.g.
    // http://127.0.0.1:8080 for http://localhost:8080.
    pageOrigin: window.location.origin,
    servedAs: (d.pageOrigin || window.location.origin).replace(/\/+$/, ''),
    secret: d.labSecret ?? '',
  };
  ctx.misaddressed = ctx.pageOrigin !== ctx.servedAs;
  return ctx;
}

/** Why two origins differ, in the words of the origin triple. */
function howOriginsDiffer(a, b) {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    if (x.protocol !== y.protocol) return `the scheme differs: ${x.protocol} is not ${y.protocol}`;
    if (x.hostname !== y.hostname) return `the host differs: ${x.hostname} is not ${y.hostname}`;
    return `the port differs: ${x.port || 'the default'} is not ${y.port || 'the default'}`;
  } catch {
    return 'they are not the same text';
  }
}

// Mark the link to this page's own origin; the other one is the one to follow.
function markOwnLink(ctx) {
  if (ctx.misaddressed) {
    // The header names the origin this page really has, which is neither of the lab's.
    const role = document.getElementById('page-role');
    if (role) {
      role.className = 'role role--untrusted';
      role.textContent = 'another origin';
    }
    const origin = document.getElementById('page-origin');
    if (origin) origin.textContent = ctx.pageOrigin;
    return;
  }
  for (const link of document.querySelectorAll('[data-link]')) {
    if (link.dataset.link === ctx.role) {
      link.setAttribute('aria-current', 'page');
      link.append(' (this page)');
    }
  }
}

function hostOf(url) {
  try { return new URL(url).hostname; } catch { return String(url); }
}

function showRoleNote(ctx) {
  const note = document.getElementById('role-note');
  if (!note) return;
  if (ctx.misaddressed) {
    note.classList.add('role-note--warn');
    fill(note, h('strong', {}, `This page is open at ${ctx.pageOrigin}, not at ${ctx.servedAs}, where the lab serves the ${ctx.role} page. `),
      `To a browser these are two origins (${howOriginsDiffer(ctx.pageOrigin, ctx.servedAs)}), so script here sends `,
      h('code', {}, `Origin: ${ctx.pageOrigin}`), ', an origin the lab does not know as this page: the results below are that origin\'s, not the ',
      `${ctx.role} page's. Open `, h('a', { href: `${ctx.servedAs}/` }, `${ctx.servedAs}/`), ' instead.');
    return;
  }
  if (ctx.role === 'trusted') {
    fill(note, h('strong', {}, 'You are on the trusted page. '),
      'The default policy (strict) allows this origin. Open the ',
      h('a', { href: `${ctx.untrustedUrl}/` }, 'untrusted page'),
      ' beside it: the same scenarios, from another site, are refused.');
  } else if (ctx.role === 'untrusted') {
    fill(note, h('strong', {}, 'You are on the untrusted page. '),
      hostOf(ctx.pageOrigin) === hostOf(ctx.apiUrl)
        ? `${ctx.pageOrigin} is another origin than the trusted page, and strict does not allow it. The policy is read-only here; switch it from the `
        : `${ctx.pageOrigin} is another origin than the trusted page, on another site than the API (${hostOf(ctx.pageOrigin)} is not ${hostOf(ctx.apiUrl)}), and strict does not allow it. The policy is read-only here; switch it from the `,
      h('a', { href: `${ctx.trustedUrl}/` }, 'trusted page'), '.');
  }
}

async function loadCatalogue() {
  const res = await fetch('/scenarios.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /scenarios.json answered ${res.status}`);
  const data = await res.json();
  if (!Array.isArray(data?.scenarios)) throw new Error('scenarios.json has no "scenarios" list');
  return { scenarios: data.scenarios, groups: Array.isArray(data.groups) ? data.groups : [] };
}

const slug = (text) => String(text).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** The cards, grouped in catalogue order, with a heading and intro per group. */
function renderGroups(list, nav, { scenarios, groups }, ctx, onRun) {
  const order = [];
  for (const s of scenarios) if (!order.includes(s.group)) order.push(s.group);
  const intro = new Map(groups.map((g) => [g.name, g.intro]));
  fill(list, order.map((group) => {
    const members = scenarios.filter((s) => s.group === group);
    return h('section', { class: 'group', id: `group-${slug(group)}`, 'aria-labelledby': `group-${slug(group)}-title` },
      h('h3', { class: 'group__title', id: `group-${slug(group)}-title` }, group, h('span', { class: 'group__count' }, ` ${members.length}`)),
      intro.get(group) ? h('p', { class: 'group__intro' }, intro.get(group)) : null,
      members.map((s) => renderCard(s, ctx, onRun)));
  }));
  fill(nav, order.map((group) => h('a', { href: `#group-${slug(group)}` }, group)));
}

/** `#scenario=…&preset=…&autorun=…` → { scenario, preset, autorun: [] }; plain anchors give {}. */
export function parseHash(hash) {
  const text = String(hash ?? '').replace(/^#/, '');
  if (!text.includes('=')) return { autorun: [] };
  const p = new URLSearchParams(text);
  return {
    scenario: p.get('scenario') ?? '',
    preset: p.get('preset') ?? '',
    autorun: (p.get('autorun') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  };
}

async function main() {
  const ctx = readContext(document.body);
  markOwnLink(ctx);
  showRoleNote(ctx);
  setUpConsoleExplainer();
  setUpAnswerCheck();
  setUpPredictMode();
  const walkPolicyChanged = setUpWalkthrough(ctx);

  let scenarios = [];
  const byId = new Map();
  const running = new Map(); // id → promise of the current run
  const offerBox = document.getElementById('share-offer');
  let wanted = { autorun: [] }; // the parsed hash
  let comparison = null; // the "Compare policies" section, once the catalogue is loaded

  const policyPanel = new PolicyPanel(ctx, {
    onChange: (policy) => {
      for (const s of scenarios) {
        const card = document.getElementById(`scenario-${s.id}`);
        if (card) updateCardForPolicy(card, s, policy, ctx);
      }
      showOffer();
      walkPolicyChanged(policy);
      comparison?.policyChanged(policy);
    },
  });
  policyPanel.load();

  const scenarioForRun = (run) => {
    if (!run) return '';
    // Run ids are `${scenarioId}-${time}-${counter}`; take the longest scenario id that fits.
    let best = null;
    for (const s of scenarios) {
      if (run.startsWith(`${s.id}-`) && (!best || s.id.length > best.id.length)) best = s;
    }
    return best ? best.id : '';
  };

  const panel = new JournalPanel({
    apiUrl: ctx.apiUrl,
    list: document.getElementById('journal-list'),
    empty: document.getElementById('journal-empty'),
    status: document.getElementById('journal-status'),
    clearButton: document.getElementById('journal-clear'),
    count: document.getElementById('journal-count'),
    filters: {
      scenario: document.getElementById('journal-filter-scenario'),
      kind: document.getElementById('journal-filter-kind'),
      verdict: document.getElementById('journal-filter-verdict'),
    },
    scenarioForRun,
    modeForRun: (run) => {
      const id = scenarioForRun(run);
      return id ? verdictMode(byId.get(id)) : null;
    },
    // The stream opens with the policy in force (also after a reconnect), then one per switch.
    onPolicy: (policy) => policyPanel.set(policy, { source: 'event' }),
  });

  // The workflow diagram at the top follows the last run.
  const diagram = document.getElementById('workflow-diagram');
  const caption = document.getElementById('workflow-caption');
  fill(diagram, renderWorkflow(ctx));

  function showLastRun(scenario, result) {
    fill(diagram, renderWorkflow(ctx, scenario, result));
    const word = { pass: 'passed', blocked: `blocked (${result.corsError})`, unreached: 'unreached' }[result.outcome] ?? result.outcome;
    fill(caption, 'Last run: ', h('a', { href: `#scenario-${scenario.id}` }, scenario.title), ` — ${word}`,
      result.preset ? `, under ${result.preset}.` : '.');
  }

  function run(id) {
    if (running.has(id)) return running.get(id);
    const scenario = byId.get(id);
    const card = document.getElementById(`scenario-${id}`);
    if (!scenario || !card) return Promise.reject(new Error(`no scenario ${id}`));
    markRunning(card);
    const p = policyPanel.ready
      .then(() => runScenario(scenario, ctx, policyPanel.policy))
      .then((result) => {
        showResult(card, scenario, result, ctx, policyPanel.policy);
        scorePrediction(card, scenario, result);
        updateCardForPolicy(card, scenario, policyPanel.policy, ctx);
        showLastRun(scenario, result);
        return result;
      })
      .finally(() => running.delete(id));
    running.set(id, p);
    return p;
  }

  const runAllButton = document.getElementById('run-all');
  async function runAll(ids = scenarios.map((s) => s.id)) {
    runAllButton.disabled = true;
    const results = [];
    try {
      for (const [i, id] of ids.entries()) {
        runAllButton.textContent = `Running ${i + 1} of ${ids.length}…`;
        results.push(await run(id));
      }
    } finally {
      runAllButton.disabled = false;
      runAllButton.textContent = 'Run all';
    }
    return results;
  }
  runAllButton.addEventListener('click', () => { runAll().catch((e) => console.error(e)); });

  // Shareable links ------------------------------------------------------------------------

  function highlight(id) {
    for (const el of document.querySelectorAll('.scenario.is-highlighted')) el.classList.remove('is-highlighted');
    const card = document.getElementById(`scenario-${id}`);
    if (!card) return;
    card.classList.add('is-highlighted');
    card.scrollIntoView({ block: 'start' });
    card.focus({ preventScroll: true });
  }

  // The offer sits in the shared card (which the link scrolled to), or at the top without one.
  function showOffer() {
    const want = wanted.preset;
    const policy = policyPanel.policy;
    for (const el of document.querySelectorAll('.scenario .share-offer')) el.remove();
    if (!offerBox) return;
    offerBox.hidden = true;
    fill(offerBox);
    if (!want || !policy || want === policy.preset) return;
    const card = wanted.scenario ? document.getElementById(`scenario-${wanted.scenario}`) : null;
    let box = offerBox;
    if (card) {
      box = h('div', { class: 'share-offer share-offer--card', role: 'region', 'aria-label': 'Shared link' });
      card.querySelector('.scenario__head').after(box);
    }
    const known = (policy.presets ?? []).some((p) => p.name === want);
    const dismiss = h('button', { type: 'button', class: 'button button--small' }, `Keep ${policy.preset}`);
    dismiss.addEventListener('click', () => {
      wanted = { ...wanted, preset: '' };
      showOffer();
    });
    const lead = ['This link was shared for the preset ', h('code', {}, want), wanted.scenario ? [' (scenario ', h('code', {}, wanted.scenario), ')'] : null,
      '; the API runs ', h('code', {}, policy.preset), ' now. '];
    let body;
    if (!known) {
      body = [...lead, `The API does not know a preset called “${want}”.`, ' ', dismiss];
    } else if (policyPanel.canSwitch()) {
      const yes = h('button', { type: 'button', class: 'button button--primary button--small' }, `Switch to ${want}`);
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        await policyPanel.switchTo({ variables: { CORS_PRESET: want } });
        yes.disabled = false;
      });
      body = [...lead, 'Switching changes it for every open page. ', yes, ' ', dismiss];
    } else if (ctx.role === 'trusted') {
      body = [...lead, 'Switching at runtime is off here: restart with ', h('code', {}, `CORS_PRESET=${want}`), '. ', dismiss];
    } else {
      body = [...lead, 'Only the trusted page can switch: ',
        h('a', { href: `${ctx.trustedUrl}/${shareHash(wanted.scenario || 'get-simple', want)}` }, 'open this link on the trusted page'),
        ', switch there, and come back. ', dismiss];
    }
    fill(box, h('p', {}, body));
    box.hidden = false;
  }

  let autorunDone = '';
  async function followHash() {
    // Plain anchors (#policy, #scenario-get-simple) leave the shared-link state alone.
    const parsed = parseHash(window.location.hash);
    if (!(parsed.scenario || parsed.preset || parsed.autorun.length)) return;
    wanted = parsed;
    if (wanted.scenario && byId.has(wanted.scenario)) highlight(wanted.scenario);
    showOffer();
    const list = wanted.autorun.filter((id) => byId.has(id));
    const key = list.join(',');
    if (list.length && key !== autorunDone) {
      autorunDone = key;
      await policyPanel.ready;
      await runAll(list).catch((e) => console.error(e));
      if (wanted.scenario && byId.has(wanted.scenario)) highlight(wanted.scenario);
    }
  }

  // A handle for the console and for tests driving the page.
  window.corsLab = {
    ctx, run, runAll,
    get scenarios() { return scenarios; },
    get policy() { return policyPanel.policy; },
    switchPolicy: (body) => policyPanel.switchTo(body),
  };

  const list = document.getElementById('scenario-list');
  try {
    const catalogue = await loadCatalogue();
    scenarios = catalogue.scenarios;
    for (const s of scenarios) byId.set(s.id, s);
    renderGroups(list, document.getElementById('group-nav'), catalogue, ctx, (id) => { run(id).catch((e) => console.error(e)); });
    if (policyPanel.policy) policyPanel.onChange(policyPanel.policy);
    panel.setScenarios(scenarios);
    comparison = setUpCompare({
      ctx,
      policyPanel,
      scenarios,
      run: (scenario, policy) => runScenario(scenario, ctx, policy),
      onBusy: (busy) => { runAllButton.disabled = busy; },
    });
    if (policyPanel.policy) comparison?.policyChanged(policyPanel.policy);
    document.body.dataset.ready = 'true';
  } catch (e) {
    runAllButton.disabled = true;
    fill(list, h('p', { class: 'bad-text' }, `Could not load the scenarios: ${e.message ?? e}`));
    document.body.dataset.ready = 'error';
  }
  // After the catalogue, so the panel knows each run's scenario and credentials mode.
  panel.start();
  window.addEventListener('hashchange', () => {
    followHash();
    comparison?.followHash();
  });
  followHash();
  comparison?.followHash();
}

main();
