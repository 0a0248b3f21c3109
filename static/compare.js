// “Compare policies”: the same scenarios under several presets, side by side. For each preset
// chosen, the page switches the API to it (POST /_lab/switch, as the policy panel does), runs
// each chosen scenario for real in this browser, and writes what happened into one column of a
// table; when it is done, or stopped, it switches back to the policy that was in force. A row
// whose cells differ is marked: that request is what the choice of policy changes.
//
// Besides the presets, a column may be the policy in force when the comparison starts, when it
// sets fields of its own: an architect's policy, set in the policy panel, against the presets.
//
// Only the trusted page can switch, so only it can compare. Switching changes the policy for
// every open page, which is why a link (`#compare=strict,off&compare-group=Credentials`) only
// fills the form: the comparison starts when someone presses the button.
//
// A switch from elsewhere during a comparison (another trusted page, or a restart of the API;
// the API's policy is read after each run) stops it: the run under way is left out, and the
// other policy stands.
//
// DOM contract (the browser tests rely on it): #compare[data-state="idle" | "running" | "done"
// | "stopped" | "disturbed" | "failed"]; inputs name="compare-preset" (value = a preset, or "now") and #compare-group;
// #compare-run and #compare-stop; each result cell td.compare__cell has data-preset,
// data-scenario, data-run-id, data-outcome (pass | blocked | unreached), data-cors-error and
// data-preflights, and a button[data-details] that shows its run in #compare-detail (fields
// data-field="console" and "script-result"); a row that differs has data-differs.

import { h, fill, wordBreaks, copyText } from './dom.js';
import { variablesOf } from './policy.js';
import { fixFor, formatScriptResult } from './cards.js';

const DEFAULT_PRESETS = ['strict', 'permissive', 'off'];
// The column of the policy in force when the comparison starts: its preset with the fields set
// on top of it (the policy panel's "Set fields"), for checking one's own policy against presets.
const NOW = 'now';

const ALL_GROUPS = '';
const LINKED = 'linked'; // not a group's name: those have capitals and spaces

/** `CORS_MAX_AGE=7, CORS_ALLOW_HEADERS=…`: what a policy sets on top of its preset ('' for none). */
export function overridesText(variables) {
  return Object.entries(variables).filter(([k]) => k !== 'CORS_PRESET').map(([k, v]) => `${k}=${v}`).join(', ');
}

/** `#compare=a,b&compare-group=G&compare-scenarios=x,y` → { presets, group, scenarios }, or null. */
export function parseCompareHash(hash) {
  const text = String(hash ?? '').replace(/^#/, '');
  if (!text.includes('compare')) return null;
  const p = new URLSearchParams(text);
  if (!p.has('compare')) return null;
  const list = (name) => (p.get(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return { presets: list('compare'), group: p.get('compare-group') ?? ALL_GROUPS, scenarios: list('compare-scenarios') };
}

/** The link that fills the form the same way. */
export function compareHash({ presets, group, scenarios }) {
  const p = new URLSearchParams({ compare: presets.join(',') });
  if (scenarios?.length) p.set('compare-scenarios', scenarios.join(','));
  else if (group) p.set('compare-group', group);
  return `#${p.toString()}`;
}

// A cell is named by its column and its scenario; neither contains this character.
const KEY_SEPARATOR = '\u0000';
const cellKeyOf = (column, scenarioId) => `${column}${KEY_SEPARATOR}${scenarioId}`;

/** A cell's result in one word, for telling rows apart: the outcome and the CorsError. */
export function outcomeKey(result) {
  return result.outcome === 'blocked' ? `blocked:${result.corsError}` : result.outcome;
}

/** Whether the cells of a row say different things. */
export function rowDiffers(results) {
  return new Set(results.map(outcomeKey)).size > 1;
}

// A no-cors run: its requests carried no Origin, so no CORS check, and script got an opaque answer.
const isOpaque = (result) => (result.entries ?? []).length > 0 && result.entries.every((e) => !e.origin);

function cellBody(result) {
  const preflights = result.preflightCount ?? 0;
  const preflightNote = preflights
    ? h('span', { class: 'compare__preflights' }, `${preflights} preflight${preflights === 1 ? '' : 's'}`)
    : null;
  if (result.journalError) {
    return [h('span', { class: 'compare__word bad-text' }, '? journal unreadable'), h('span', { class: 'small' }, 'is the API running?')];
  }
  if (result.outcome === 'pass') {
    return [h('span', { class: 'compare__word ok-text' }, isOpaque(result) ? '✓ sent, opaque' : '✓ passes'), preflightNote];
  }
  if (result.outcome === 'unreached') {
    return [h('span', { class: 'compare__word muted' }, '– nothing sent')];
  }
  const notSent = (result.rounds ?? []).some((r) => r.notSent);
  return [
    h('span', { class: 'compare__word bad-text' }, '✗ blocked'),
    h('code', { class: 'compare__error' }, wordBreaks(result.corsError || 'blocked')),
    preflightNote,
    notSent ? h('span', { class: 'compare__never' }, 'request never sent') : null,
  ];
}

// Under a cell: the button that shows its run below the table.
function detailsButton(key, label) {
  return h('button', { type: 'button', class: 'compare__details-button', dataset: { details: key }, 'aria-controls': 'compare-detail' }, label);
}

function summary(results) {
  const count = (outcome) => results.filter((r) => r.outcome === outcome).length;
  const parts = [[count('pass'), 'pass'], [count('blocked'), 'blocked'], [count('unreached'), 'nothing sent']]
    .filter(([n]) => n > 0).map(([n, word]) => `${n} ${word}`);
  return parts.join(' · ') || '–';
}

/** A cell in words, for the Markdown table. */
export function cellText(result) {
  if (!result) return '…';
  const preflights = result.preflightCount ? ` (${result.preflightCount} preflight${result.preflightCount === 1 ? '' : 's'})` : '';
  if (result.journalError) return '? journal unreadable';
  if (result.outcome === 'blocked') return `✗ ${result.corsError || 'blocked'}${preflights}`;
  if (result.outcome === 'unreached') return '– nothing sent';
  return `${isOpaque(result) ? '✓ sent, opaque' : '✓ passes'}${preflights}`;
}

// `|` would end a Markdown cell early.
const mdCell = (text) => String(text).replaceAll('|', '\\|');

/**
 * The comparison as a Markdown table, for a ticket or a handout: a line saying where and when,
 * then one row per scenario (`columns` are the header texts, `cellsOf(scenario)` a row's results).
 */
export function comparisonMarkdown({ when, pageOrigin, browser, columns, list, cellsOf }) {
  const lines = [
    `CORS Lab, ${when}: from ${pageOrigin}${browser ? `, in ${browser}` : ''}.`,
    '',
    `| Scenario | ${columns.map(mdCell).join(' | ')} |`,
    `|---|${columns.map(() => '---').join('|')}|`,
    ...list.map((s) => `| ${mdCell(s.title)} | ${cellsOf(s).map((r) => mdCell(cellText(r))).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `Chromium/Chrome 156.0.8078.108`, from the user agent, or '' when it names neither. */
function browserName() {
  const m = /(?:HeadlessChrome|Chrome|Chromium)\/([\d.]+)/.exec(navigator.userAgent);
  return m ? `Chromium/Chrome ${m[1]}` : '';
}

/**
 * Set up the section. `run(scenario, policy)` runs one scenario under the policy in force and
 * resolves to its result (runner.js's `runScenario`). `onBusy(true | false)` brackets a comparison.
 */
export function setUpCompare({ ctx, policyPanel, scenarios, run, onBusy = () => {} }) {
  const section = document.getElementById('compare');
  if (!section) return;
  const form = section.querySelector('#compare-form');
  const presetBox = section.querySelector('#compare-presets');
  const groupSelect = section.querySelector('#compare-group');
  const runButton = section.querySelector('#compare-run');
  const stopButton = section.querySelector('#compare-stop');
  const onlyDiffers = section.querySelector('#compare-only-differs');
  const status = section.querySelector('#compare-status');
  const result = section.querySelector('#compare-result');
  const link = section.querySelector('#compare-link');
  let stopRequested = false;
  let wanted = parseCompareHash(window.location.hash);
  section.dataset.state = 'idle';

  const order = [];
  for (const s of scenarios) if (!order.includes(s.group)) order.push(s.group);
  const linked = () => scenarios.filter((s) => wanted?.scenarios?.includes(s.id));

  // The groups, and first, when a link named scenarios one by one, those.
  function renderGroupOptions() {
    const fromLink = linked();
    const selected = fromLink.length ? LINKED : (wanted?.group ?? groupSelect.value);
    fill(groupSelect,
      fromLink.length ? h('option', { value: LINKED }, `The ${fromLink.length} the link chose`) : null,
      h('option', { value: ALL_GROUPS }, `All ${scenarios.length} scenarios`),
      order.map((g) => h('option', { value: g }, `${g} (${scenarios.filter((s) => s.group === g).length})`)));
    groupSelect.value = [...groupSelect.options].some((o) => o.value === selected) ? selected : ALL_GROUPS;
  }
  renderGroupOptions();

  function chosenPresets() {
    return [...presetBox.querySelectorAll('input[name="compare-preset"]:checked')].map((i) => i.value);
  }

  function chosenScenarios() {
    const group = groupSelect.value;
    if (group === LINKED) return linked();
    return group === ALL_GROUPS ? scenarios : scenarios.filter((s) => s.group === group);
  }

  function choice() {
    const group = groupSelect.value;
    return group === LINKED
      ? { presets: chosenPresets(), scenarios: linked().map((s) => s.id) }
      : { presets: chosenPresets(), group };
  }

  function updateLink() {
    link.setAttribute('href', compareHash(choice()));
  }

  // The checkboxes: the policy in force first when it sets fields of its own, then the presets.
  function renderPresets(policy, checkedNames) {
    const presets = policy?.presets ?? [];
    if (!presets.length) return;
    const checked = new Set(checkedNames);
    const own = overridesText(variablesOf(policy));
    const unknown = (wanted?.presets ?? []).filter((name) => name !== NOW && !presets.some((p) => p.name === name));
    fill(presetBox,
      own ? h('label', { class: 'compare__preset compare__preset--now' },
        h('input', { type: 'checkbox', name: 'compare-preset', value: NOW, checked: checked.has(NOW) }),
        ' ', h('strong', {}, 'in force now'), ' ', h('code', {}, policy.preset), h('span', { class: 'muted small' }, ` with ${own}`)) : null,
      presets.map((p) => h('label', { class: 'compare__preset' },
        h('input', { type: 'checkbox', name: 'compare-preset', value: p.name, checked: checked.has(p.name) }),
        ' ', h('code', {}, p.name), p.broken ? h('span', { class: 'muted small' }, ' broken') : null)),
      unknown.length ? h('p', { class: 'small bad-text compare__unknown' }, `The link names presets this API does not know: ${unknown.join(', ')}.`) : null,
      !own && wanted?.presets?.includes(NOW) ? h('p', { class: 'small muted compare__unknown' }, `The link asks for the policy in force now as a column of its own, but it sets no field on top of its preset, so it is the ${policy.preset} column.`) : null);
  }

  const linkedOrDefault = () => (wanted?.presets?.length ? wanted.presets : DEFAULT_PRESETS);

  function canCompare() {
    return policyPanel.canSwitch();
  }

  function refreshControls(busy) {
    const can = canCompare();
    runButton.disabled = busy || !can || chosenPresets().length === 0 || chosenScenarios().length === 0;
    stopButton.hidden = !busy;
    for (const el of form.querySelectorAll('input, select')) el.disabled = busy || !can;
    if (!busy && !can && policyPanel.policy) {
      fill(status, ctx.role === 'trusted'
        ? ['Comparing switches the policy at runtime, which is off here: the API was started without ', h('code', {}, 'LAB_SECRET'),
          '. Start the lab with ', h('code', {}, 'cargo run'), ', which makes one, or under Docker with ', h('code', {}, 'LAB_SECRET=$(openssl rand -hex 16) docker compose up'), '.']
        : ['Comparing switches the API’s policy, and only the trusted page may do that: ',
          h('a', { href: `${ctx.trustedUrl}/${compareHash(choice())}` }, 'compare on the trusted page'), '.']);
    }
  }

  let ownPolicy = {}; // the variables of the policy in force when the comparison started

  function renderTable(presets, list, cells) {
    const rows = [];
    for (const group of order) {
      const members = list.filter((s) => s.group === group);
      if (!members.length) continue;
      const groupRow = h('tr', { class: 'compare__group' }, h('th', { scope: 'colgroup', colspan: presets.length + 1 }, group));
      rows.push(groupRow);
      for (const s of members) {
        const row = presets.map((p) => cells.get(cellKeyOf(p, s.id)));
        const done = row.filter(Boolean);
        const differs = done.length === presets.length && rowDiffers(done);
        if (differs) groupRow.dataset.anyDiffers = 'true';
        rows.push(h('tr', { class: 'compare__row', dataset: { scenario: s.id, differs: differs ? 'true' : null } },
          h('th', { scope: 'row' }, h('a', { href: `#scenario-${s.id}` }, s.title), differs ? h('span', { class: 'compare__differs' }, ' differs') : null),
          presets.map((p, i) => {
            const r = row[i];
            if (!r) return h('td', { class: 'compare__cell is-pending', dataset: { preset: p, scenario: s.id } }, h('span', { class: 'muted' }, '…'));
            return h('td', {
              class: `compare__cell is-${r.outcome}`,
              title: r.reason || null,
              dataset: { preset: p, scenario: s.id, runId: r.runId, outcome: r.outcome, corsError: r.corsError ?? '', preflights: r.preflightCount ?? 0 },
            }, cellBody(r), detailsButton(cellKeyOf(p, s.id), r.outcome === 'blocked' ? 'Why?' : 'Details'));
          })));
      }
    }
    const foot = h('tr', { class: 'compare__summary' }, h('th', { scope: 'row' }, 'In all'),
      presets.map((p) => h('td', {}, summary(list.map((s) => cells.get(cellKeyOf(p, s.id))).filter(Boolean)))));
    fill(result, h('div', { class: 'table-wrap' },
      h('table', { class: 'compare__table' },
        h('caption', {}, `${list.length} scenario${list.length === 1 ? '' : 's'} from the ${ctx.role === 'trusted' ? 'trusted' : 'untrusted'} page (${ctx.pageOrigin}), under ${presets.length} polic${presets.length === 1 ? 'y' : 'ies'}`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Scenario'), presets.map((p) => h('th', { scope: 'col' },
          p === NOW ? ['in force: ', h('code', {}, ownPolicy.CORS_PRESET), h('span', { class: 'compare__own' }, overridesText(ownPolicy))] : h('code', {}, p))))),
        h('tbody', {}, rows),
        h('tfoot', {}, foot))));
  }

  function columnTitle(p) {
    return p === NOW ? `in force: ${ownPolicy.CORS_PRESET} with ${overridesText(ownPolicy)}` : p;
  }

  // Below the table: the same as Markdown, with a copy button.
  function showMarkdown(presets, list, cells) {
    const text = comparisonMarkdown({
      when: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      pageOrigin: ctx.pageOrigin,
      browser: browserName(),
      columns: presets.map(columnTitle),
      list,
      cellsOf: (s) => presets.map((p) => cells.get(cellKeyOf(p, s.id))),
    });
    const copied = h('span', { class: 'small muted', role: 'status' });
    const copy = h('button', { type: 'button', class: 'button button--small' }, 'Copy');
    copy.addEventListener('click', async () => {
      copied.textContent = (await copyText(text)) ? ' Copied.' : ' Copy failed: select the text instead.';
    });
    result.append(h('details', { class: 'compare__markdown' },
      h('summary', {}, 'The table as Markdown, for a ticket or a handout'),
      h('pre', { id: 'compare-markdown' }, text),
      copy, copied));
  }

  let shown = new Map(); // the last comparison's cells, for their details

  // One cell's run: what Chromium printed, what the script got, and for a block, the fix.
  function showDetail(key) {
    const r = shown.get(key);
    const detail = section.querySelector('#compare-detail');
    if (!r || !detail) return;
    const [preset, id] = key.split(KEY_SEPARATOR);
    const scenario = scenarios.find((s) => s.id === id);
    const verdict = r.outcome === 'blocked' ? ['blocked, ', wordBreaks(r.corsError || 'CORS error')] : { pass: 'passed', unreached: 'nothing sent' }[r.outcome] ?? r.outcome;
    const blocked = r.outcome === 'blocked' ? fixFor(r, scenario, ctx, policyPanel.policy) : null;
    fill(detail,
      h('h3', {}, h('a', { href: `#scenario-${id}` }, scenario?.title ?? id), ' under ', preset === NOW ? columnTitle(preset) : h('code', {}, preset), ': ', verdict),
      r.console ? [h('p', { class: 'small' }, 'Chromium’s console said (DevTools, Console tab):'), h('pre', { class: 'console', 'aria-label': 'Chromium console line', dataset: { field: 'console' } }, r.console)] : null,
      blocked ? [h('p', {}, h('strong', {}, 'In plain English: '), blocked.what), h('p', { class: 'fix' }, h('strong', {}, 'Fix: '), blocked.fix)] : null,
      h('p', { class: 'small' }, 'The script got:'),
      h('pre', { class: 'script-result', dataset: { field: 'script-result' } }, formatScriptResult(r.script)),
      h('p', { class: 'small muted' }, `Run ${r.runId}: its requests are in the live journal, and in DevTools' Network tab under run=${r.runId}.`));
    detail.dataset.details = key;
    detail.hidden = false;
    detail.scrollIntoView({ block: 'nearest' });
  }
  result.addEventListener('click', (ev) => {
    const button = ev.target.closest('[data-details]');
    if (button) showDetail(button.dataset.details);
  });

  // The policy in force now, asked of the API itself, when it is no longer the one this
  // comparison switched to; null while it still is. Asked after each run (its journal has been
  // read by then), so "still ours" means no switch happened while the run's requests were out.
  async function switchedElsewhere(ours) {
    let seen;
    try {
      const res = await fetch(`${ctx.apiUrl}/_lab/policy`, { cache: 'no-store' });
      seen = await res.json();
    } catch (e) {
      return { preset: `an unknown policy (the API did not answer: ${e})` };
    }
    return seen.instance === ours.instance && seen.generation === ours.generation ? null : seen;
  }

  async function compare() {
    const presets = chosenPresets();
    const list = chosenScenarios();
    const before = policyPanel.policy;
    if (!presets.length || !list.length || !before) return;
    const restore = variablesOf(before);
    ownPolicy = restore;
    let disturbed = null;
    const cells = new Map();
    shown = cells;
    section.querySelector('#compare-detail').hidden = true;
    stopRequested = false;
    section.dataset.state = 'running';
    // Leaving now would leave the API on whichever preset is in its column.
    const warnOnLeave = (ev) => { ev.preventDefault(); ev.returnValue = ''; };
    window.addEventListener('beforeunload', warnOnLeave);
    onBusy(true);
    refreshControls(true);
    renderTable(presets, list, cells);
    let state = 'done';
    try {
      outer: for (const [pi, preset] of presets.entries()) {
        const variables = preset === NOW ? restore : { CORS_PRESET: preset };
        const name = preset === NOW ? `the policy in force (${before.preset} with ${overridesText(restore)})` : preset;
        fill(status, `Switching the API to ${name} (${pi + 1} of ${presets.length})…`);
        const now = await policyPanel.switchTo({ variables });
        if (!now || now.preset !== variables.CORS_PRESET) {
          fill(status, `The API did not switch to ${name}; the comparison stopped. The policy panel says why.`);
          state = 'failed';
          break;
        }
        for (const [si, scenario] of list.entries()) {
          if (stopRequested) { state = 'stopped'; break outer; }
          fill(status, `Under ${name} (${pi + 1} of ${presets.length}): ${scenario.title} (${si + 1} of ${list.length})…`);
          const cell = await run(scenario, now);
          // Another page's switch, or a restart of the API: this run may have been under that
          // policy, so it is not this column's.
          const other = await switchedElsewhere(now);
          if (other) {
            disturbed = { name, scenario, by: other };
            state = 'disturbed';
            break outer;
          }
          cells.set(cellKeyOf(preset, scenario.id), cell);
          renderTable(presets, list, cells);
          applyFilter();
        }
      }
    } finally {
      // After a switch from elsewhere, that policy stands: putting ours back would undo it.
      const back = state === 'disturbed' ? null : await policyPanel.switchTo({ variables: restore });
      window.removeEventListener('beforeunload', warnOnLeave);
      const differ = result.querySelectorAll('tr[data-differs]').length;
      const restored = back ? `The API is back on ${back.preset}${Object.keys(restore).length > 1 ? ', with the fields that were set' : ''}.`
        : 'Putting the policy back failed: see the policy panel, and switch it there.';
      if (state === 'done') {
        fill(status, `Done: ${list.length} scenario${list.length === 1 ? '' : 's'} under ${presets.length} polic${presets.length === 1 ? 'y' : 'ies'}; ${differ} row${differ === 1 ? '' : 's'} differ. ${restored}`);
      } else if (state === 'stopped') {
        fill(status, `Stopped. ${restored}`);
      } else if (state === 'disturbed') {
        fill(status, `Stopped: while ${disturbed.scenario.title} ran under ${disturbed.name}, the API's policy changed elsewhere (another page switched it, or the API restarted); it now runs ${disturbed.by?.preset ?? 'another policy'}. That run is left out, since it may have been under the new policy, and this page did not switch the policy back. Before the comparison it was ${before.preset}${overridesText(restore) ? ` with ${overridesText(restore)}` : ''}: the policy panel can switch to it again.`);
      } else {
        status.append(' ', restored);
      }
      showMarkdown(presets, list, cells);
      section.dataset.state = state;
      onBusy(false);
      refreshControls(false);
    }
  }

  function applyFilter() {
    result.classList.toggle('is-only-differs', onlyDiffers.checked);
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    compare().catch((e) => {
      fill(status, `The comparison failed: ${e}`);
      section.dataset.state = 'failed';
    });
  });
  form.addEventListener('change', () => {
    refreshControls(section.dataset.state === 'running');
    updateLink();
  });
  stopButton.addEventListener('click', () => {
    stopRequested = true;
    fill(status, 'Stopping after this scenario…');
  });
  onlyDiffers.addEventListener('change', applyFilter);

  function followHash() {
    const parsed = parseCompareHash(window.location.hash);
    if (!parsed) return;
    wanted = parsed;
    renderGroupOptions();
    renderPresets(policyPanel.policy, linkedOrDefault());
    const list = chosenScenarios();
    fill(status, `This link chose ${wanted.presets.length ? wanted.presets.join(', ') : 'no preset'}, and ${list.length} scenario${list.length === 1 ? '' : 's'}. Press Compare to run them.`);
    refreshControls(section.dataset.state === 'running');
    updateLink();
    section.scrollIntoView({ block: 'start' });
  }

  return {
    /** The policy panel has a new view of the policy (a switch, or another page's). */
    policyChanged(policy) {
      if (section.dataset.state === 'running') return;
      // Keep what is ticked; the "in force now" line follows the policy.
      renderPresets(policy, presetBox.querySelector('input') ? chosenPresets() : linkedOrDefault());
      refreshControls(false);
      updateLink();
    },
    followHash,
  };
}
