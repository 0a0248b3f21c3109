// The policy panel: the effective policy and what set each field, switching presets or fields at
// runtime (trusted page only, through POST /_lab/switch with the page's secret), and the
// broken-on-purpose presets with their mistake, symptom and fix.

import { h, fill, formatClock } from './dom.js';
import { shareHash } from './cards.js';

// The variables a switch may set, in the order of the policy's fields.
const FIELD_VARIABLES = [
  ['allow_origins', 'CORS_ALLOW_ORIGINS', 'e.g. http://localhost:8080,http://127.0.0.1:8081'],
  ['allow_methods', 'CORS_ALLOW_METHODS', 'e.g. GET,POST,PUT'],
  ['allow_headers', 'CORS_ALLOW_HEADERS', 'e.g. content-type,x-token'],
  ['expose_headers', 'CORS_EXPOSE_HEADERS', 'e.g. x-secret'],
  ['max_age', 'CORS_MAX_AGE', 'seconds, 0–86400'],
  ['allow_credentials', 'CORS_ALLOW_CREDENTIALS', 'true / false'],
  ['debug', 'CORS_DEBUG', 'true / false'],
];

// For each broken preset, the scenario that shows its symptom best (and the page to run it from).
const TRY_WITH = {
  'broken-trailing-slash': ['get-simple'],
  'broken-wildcard-credentials': ['credentialed-get'],
  'broken-no-content-type': ['post-json'],
  'broken-double-origin': ['get-simple'],
  'broken-auth-preflight': ['put-item'],
  'broken-reflect-origin': ['attack-whoami', 'untrusted'],
  'broken-allow-null': ['sandboxed-iframe'],
};

function isPresetSource(source) {
  return /^preset\b/i.test(String(source ?? ''));
}

/** The fields set by a variable rather than by the preset: variable → value. */
function overridesOf(policy) {
  return new Map((policy?.fields ?? []).filter((f) => !isPresetSource(f.source)).map((f) => [f.variable, f.value]));
}

/** The switch's `variables` that put this policy back: its preset and the fields set on top of it. */
export function variablesOf(policy) {
  return { CORS_PRESET: policy.preset, ...Object.fromEntries(overridesOf(policy)) };
}

export class PolicyPanel {
  /**
   * `ctx`: the page context (role, apiUrl, secret, trustedUrl…); `onChange(policy)` after every
   * new policy (load, switch, or `event: policy`).
   */
  constructor(ctx, { onChange = () => {} } = {}) {
    this.ctx = ctx;
    this.onChange = onChange;
    this.policy = null;
    this.restartedSinceLoad = false; // another run of the API than the one the page was rendered for
    this.el = {
      preset: document.getElementById('policy-preset'),
      summary: document.getElementById('policy-summary'),
      broken: document.getElementById('policy-broken'),
      fields: document.getElementById('policy-fields'),
      fieldsBox: document.getElementById('policy-fields-box'),
      switchBox: document.getElementById('policy-switch'),
      updated: document.getElementById('policy-updated'),
      brokenList: document.getElementById('broken-list'),
    };
    this.message = h('div', { class: 'switch__message', role: 'status', 'aria-live': 'polite' });
    this.ready = new Promise((resolve) => { this.resolveReady = resolve; });
  }

  /** May this page switch the policy? */
  canSwitch() {
    return this.ctx.role === 'trusted' && Boolean(this.ctx.secret) && this.policy?.switchable !== false;
  }

  async load() {
    try {
      const res = await fetch(`${this.ctx.apiUrl}/_lab/policy`, { cache: 'no-store' });
      if (!res.ok) throw new Error(`status ${res.status}`);
      this.set(await res.json(), { source: 'load' });
    } catch (e) {
      this.showUnavailable(e);
    } finally {
      this.resolveReady(this.policy);
    }
    return this.policy;
  }

  showUnavailable(e) {
    this.el.preset.textContent = 'unknown';
    this.el.preset.dataset.preset = '';
    fill(this.el.summary,
      h('strong', { class: 'bad-text' }, 'The API did not answer'),
      ` at ${this.ctx.apiUrl}/_lab/policy (${e.message ?? e}). Is the lab running (`, h('code', {}, 'cargo run'), ')?');
    this.el.fieldsBox.hidden = true;
    fill(this.el.switchBox);
    fill(this.el.brokenList, h('p', { class: 'bad-text' }, 'The presets are listed by the API, which did not answer.'));
  }

  /** Show a new effective policy. `source`: 'load' | 'switch' | 'event'. */
  set(policy, { source = 'load' } = {}) {
    if (!policy || typeof policy !== 'object') return;
    const previous = this.policy;
    // An answer can arrive after an event of a later switch: of one run of the API, keep the
    // higher generation (a restarted API counts from 0 again, under another instance).
    if (previous && policy.instance === previous.instance && policy.generation < previous.generation) return;
    // A switch answers {preset, fields, generation, instance} only: keep what it does not repeat.
    this.policy = { ...(previous ?? {}), ...policy };
    const p = this.policy;
    this.el.preset.textContent = p.preset ?? '(custom)';
    this.el.preset.dataset.preset = p.preset ?? '';
    this.el.summary.textContent = p.summary ?? '';
    this.showBrokenNote();
    this.showFields();
    this.showSwitch();
    this.showBrokenList();
    const same = previous && previous.preset === p.preset && JSON.stringify(previous.fields) === JSON.stringify(p.fields);
    // A new run of the API (the learner restarted it, e.g. with another CORS_PRESET): not a switch.
    const restarted = previous?.instance !== undefined && policy.instance !== undefined && policy.instance !== previous.instance;
    if (restarted) {
      this.restartedSinceLoad = true;
      const was = previous.preset !== p.preset ? ` (was ${previous.preset ?? 'custom'})` : '';
      this.el.updated.textContent = `The API restarted at ${formatClock(Date.now())}, with preset ${p.preset ?? '(custom)'}${was}.`;
    } else if (source !== 'load' && previous && !(source === 'event' && same)) {
      const changed = previous.preset !== p.preset ? ` from ${previous.preset} to ${p.preset}` : '';
      this.el.updated.textContent = `Policy switched${changed} at ${formatClock(Date.now())}${source === 'event' ? ' (seen on the live stream, from any page)' : ''}.`;
    }
    this.onChange(p);
  }

  presetInfo(name) {
    return (this.policy?.presets ?? []).find((x) => x.name === name) ?? null;
  }

  showBrokenNote() {
    const box = this.el.broken;
    const info = this.policy.broken ? this.presetInfo(this.policy.preset) : null;
    if (!info) {
      box.hidden = true;
      return;
    }
    fill(box,
      h('p', {}, h('span', { class: 'badge badge--broken' }, 'broken on purpose'), ' ', h('strong', {}, 'The mistake: '), info.mistake ?? ''),
      info.symptom ? h('p', {}, h('strong', {}, 'Symptom in Chromium: '), info.symptom) : null,
      info.fix ? h('p', {}, h('strong', {}, 'Fix: '), info.fix) : null);
    box.hidden = false;
  }

  showFields() {
    const fields = this.policy.fields ?? [];
    this.el.fieldsBox.hidden = !fields.length;
    fill(this.el.fields, fields.map((f) => {
      const empty = f.value === '' || f.value === null || f.value === undefined;
      const fromPreset = isPresetSource(f.source);
      return h('tr', { class: fromPreset ? null : 'is-override' },
        h('th', { scope: 'row' }, h('code', {}, f.name)),
        h('td', {}, h('code', {}, f.variable)),
        h('td', {}, empty
          ? h('span', { class: 'muted' }, f.name === 'max_age' ? '(not sent: browsers cache 5 s)' : '(empty)')
          : h('code', {}, String(f.value))),
        h('td', { class: fromPreset ? 'muted' : 'source--override' }, fromPreset ? f.source : [h('strong', {}, f.source ?? ''), ' (overrides the preset)']));
    }));
  }

  showSwitch() {
    const box = this.el.switchBox;
    if (this.ctx.role !== 'trusted') {
      fill(box, this.readOnlyNote());
      return;
    }
    if (this.policy.switchable === false || !this.ctx.secret) {
      fill(box,
        h('h3', { class: 'panel__sub' }, 'Switch the policy'),
        h('p', {}, 'Switching at runtime is off: the API was started without ', h('code', {}, 'LAB_SECRET'),
          ' (the page got no secret). Restart with ', h('code', {}, 'CORS_*'), ' variables instead, or start the whole lab with ', h('code', {}, 'cargo run'), ', which makes a secret.'));
      return;
    }
    // Keep a message (e.g. the problems of the last attempt) across re-renders.
    const current = this.policy.preset;
    const presets = this.policy.presets ?? [];
    const plain = presets.filter((p) => !p.broken);
    const quick = h('div', { class: 'switch__presets', role: 'group', 'aria-label': 'Switch to a preset' },
      plain.map((p) => {
        const b = h('button', {
          type: 'button',
          class: `button button--small${p.name === current ? ' is-current' : ''}`,
          'aria-pressed': String(p.name === current),
          dataset: { switchPreset: p.name },
        }, p.name);
        b.addEventListener('click', () => this.switchTo({ variables: { CORS_PRESET: p.name } }));
        return b;
      }),
      h('a', { href: '#broken', class: 'small' }, `${presets.length - plain.length} broken on purpose ↓`));
    const reset = h('button', { type: 'button', class: 'button button--small', dataset: { switchReset: '' } }, 'Reset to the starting policy');
    reset.addEventListener('click', () => this.switchTo({ reset: true }));
    fill(box,
      h('h3', { class: 'panel__sub' }, 'Switch the policy (no restart)'),
      quick,
      this.fieldsForm(),
      h('div', { class: 'switch__actions' }, reset),
      this.message);
  }

  fieldsForm() {
    const fields = this.policy.fields ?? [];
    const overrides = overridesOf(this.policy);
    const presetSelect = h('select', { id: 'switch-preset', name: 'CORS_PRESET' },
      (this.policy.presets ?? []).map((p) => h('option', { value: p.name, selected: p.name === this.policy.preset }, p.broken ? `${p.name} (broken on purpose)` : p.name)));
    const inputs = FIELD_VARIABLES.map(([name, variable, placeholder]) => {
      const id = `switch-${name}`;
      const now = fields.find((f) => f.name === name);
      const input = h('input', {
        id, name: variable, type: 'text', autocomplete: 'off', spellcheck: 'false',
        placeholder: `preset's: ${now && isPresetSource(now.source) ? (now.value || '(empty)') : placeholder}`,
      });
      input.value = overrides.get(variable) ?? '';
      return h('div', { class: 'switch__field' }, h('label', { for: id }, h('code', {}, variable)), input);
    });
    const form = h('form', { class: 'switch__form', novalidate: true },
      h('div', { class: 'switch__field' }, h('label', { for: 'switch-preset' }, h('code', {}, 'CORS_PRESET')), presetSelect),
      inputs,
      h('p', { class: 'small muted switch__help' }, 'Empty fields fall back to the preset, as unset variables do. Broken presets and off ignore the other fields (only CORS_DEBUG applies to broken ones).'),
      h('button', { type: 'submit', class: 'button button--primary button--small' }, 'Apply these variables'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const variables = {};
      for (const el of form.elements) {
        if (!el.name) continue;
        const v = String(el.value ?? '').trim();
        if (v !== '') variables[el.name] = v;
      }
      this.switchTo({ variables });
    });
    return h('details', { class: 'switch__details' }, h('summary', {}, 'Set fields, as environment variables'), form);
  }

  readOnlyNote() {
    const tryButton = h('button', { type: 'button', class: 'button button--small' }, 'Try to switch from this page anyway');
    const out = h('p', { class: 'small', role: 'status' });
    tryButton.addEventListener('click', async () => {
      out.textContent = 'Sending POST /_lab/switch from this origin…';
      try {
        const res = await fetch(`${this.ctx.apiUrl}/_lab/switch`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Lab-Secret': 'guess' },
          body: JSON.stringify({ variables: { CORS_PRESET: 'permissive' } }),
        });
        out.textContent = `The API answered ${res.status} — readable?! Check the policy above.`;
      } catch (e) {
        out.textContent = `Script got: ${e} — the preflight from ${this.ctx.pageOrigin} was refused, so the POST was never sent, and the policy did not change.`;
      }
    });
    return [
      h('h3', { class: 'panel__sub' }, 'Read-only on this page'),
      h('p', {}, 'Only the trusted lab page (', h('a', { href: `${this.ctx.trustedUrl}/#policy` }, this.ctx.trustedUrl), ') may switch the policy. The API’s ',
        h('code', {}, '/_lab/switch'), ' allows the trusted origin only, and checks a secret that only the trusted page was given. '),
      h('p', {}, 'A page from another origin is refused — that is the point of CORS: a site you visit must not reconfigure, or read, a server that trusts someone else. (The secret matters too: a simple cross-origin POST would still be ',
        h('em', {}, 'sent'), '; CORS only hides its answer.)'),
      tryButton, out,
    ];
  }

  /** POST /_lab/switch with the page's secret; shows 403/422 problems. Resolves to the new policy or null. */
  async switchTo(body) {
    if (!this.canSwitch()) {
      this.showMessage('error', 'This page may not switch the policy.');
      return null;
    }
    this.showMessage('busy', 'Switching…');
    let res;
    try {
      res = await fetch(`${this.ctx.apiUrl}/_lab/switch`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Lab-Secret': this.ctx.secret },
        body: JSON.stringify(body),
      });
    } catch (e) {
      // The switch's own CORS policy allows the trusted page's origin only, so from another
      // address its preflight fails, and script sees nothing more than this error.
      this.showMessage('error', this.ctx.misaddressed
        ? `The switch request failed: ${e}. Its preflight was refused: only ${this.ctx.servedAs} may switch the policy, and this page is open at ${this.ctx.pageOrigin}. Open ${this.ctx.servedAs}/ to switch.`
        : `The switch request failed: ${e}. Is the API running?`);
      return null;
    }
    let data = null;
    try { data = await res.json(); } catch { data = null; }
    if (res.ok) {
      this.set(data ?? {}, { source: 'switch' });
      // The full view (summary, presets) follows; `event: policy` brings it too.
      await this.load();
      this.showMessage('ok', body.reset ? `Back to the starting policy: ${this.policy?.preset}.` : `Now in force: ${this.policy?.preset}. Run the scenarios again.`);
      return this.policy;
    }
    if (res.status === 422 && Array.isArray(data?.problems)) {
      this.showProblems(data);
    } else {
      // `cargo run` makes a new secret at each start, and this page still has the one it was
      // rendered with (a fixed LAB_SECRET, as under Docker, survives restarts).
      const hint = res.status === 403 && this.restartedSinceLoad
        ? ' The API restarted since this page was loaded, and each start of `cargo run` makes a new secret: reload this page to switch again.'
        : '';
      this.showMessage('error', `The API refused (${res.status}): ${data?.error ?? res.statusText}.${hint}`);
    }
    return null;
  }

  showMessage(kind, text) {
    this.message.dataset.kind = kind;
    fill(this.message, text ? h('p', {}, text) : null);
  }

  showProblems(data) {
    this.message.dataset.kind = 'error';
    const n = data.problems.length;
    fill(this.message,
      h('p', {}, h('strong', {}, `Refused: ${n} problem${n === 1 ? '' : 's'}`), ' — the policy did not change.'),
      h('ul', { class: 'problems' }, data.problems.map((p) => h('li', {},
        h('code', {}, `${p.variable}=${p.value ?? ''}`), ' ', h('span', { class: 'bad-text' }, p.problem ?? p.message ?? ''),
        p.accepted ? h('div', { class: 'small muted' }, 'Accepted: ', p.accepted) : null))));
  }

  showBrokenList() {
    const presets = (this.policy.presets ?? []).filter((p) => p.broken);
    if (!presets.length) {
      fill(this.el.brokenList, h('p', { class: 'muted' }, 'This API lists no broken presets.'));
      return;
    }
    const can = this.canSwitch();
    fill(this.el.brokenList, presets.map((p) => {
      const active = p.name === this.policy.preset;
      const [tryId, tryFrom] = TRY_WITH[p.name] ?? [];
      const tryUrl = tryFrom === 'untrusted' ? `${this.ctx.untrustedUrl}/` : '';
      let action;
      if (active) {
        const back = h('button', { type: 'button', class: 'button button--small' }, 'Reset to the starting policy');
        back.addEventListener('click', () => this.switchTo({ reset: true }));
        action = can ? back : h('span', { class: 'small muted' }, 'Active now.');
      } else if (can) {
        const b = h('button', { type: 'button', class: 'button button--small button--warn', dataset: { switchPreset: p.name } }, `Switch to ${p.name}`);
        b.addEventListener('click', () => this.switchTo({ variables: { CORS_PRESET: p.name } }));
        action = b;
      } else {
        action = h('span', { class: 'small muted' }, this.ctx.role === 'trusted'
          ? `Switching is off here: restart with CORS_PRESET=${p.name}.`
          : h('span', {}, 'Switch from the ', h('a', { href: `${this.ctx.trustedUrl}/${shareHash(tryId ?? 'get-simple', p.name)}` }, 'trusted page'), `, or restart with CORS_PRESET=${p.name}.`));
      }
      return h('article', { class: `broken-card${active ? ' is-active' : ''}`, dataset: { preset: p.name } },
        h('header', {},
          h('h3', {}, h('code', {}, p.name)),
          h('span', { class: 'badge badge--broken' }, 'broken on purpose'),
          active ? h('span', { class: 'badge badge--active' }, 'active now') : null),
        h('p', {}, h('strong', {}, 'Mistake: '), p.mistake ?? ''),
        h('p', {}, h('strong', {}, 'Symptom in Chromium: '), p.symptom ?? ''),
        h('p', {}, h('strong', {}, 'Fix: '), p.fix ?? ''),
        h('div', { class: 'broken-card__actions' },
          action,
          tryId ? h('a', { class: 'small', href: `${tryUrl}${shareHash(tryId, p.name)}` }, `Try it with “${tryId}”${tryFrom === 'untrusted' ? ' on the untrusted page' : ''}`) : null));
    }));
  }
}
