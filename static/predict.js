// “Predict first”: a workshop mode. With it on, each card asks two questions before it runs —
// does a preflight go first, and what does Chromium do — and hides the card's own answers (what
// it teaches, its “preflight: yes/no” line, the preflight-cache count, the curl command) until
// the card has run once, in either mode. After a run the card says which predictions were
// right, from what the run found: the journal's preflights and Chromium's verdict. The section
// keeps the tally of each card's last run. `#predict=on` at the end of the page's address turns
// it on (a teacher's link), and the choice is remembered in this browser.
//
// DOM contract (the browser tests rely on it): body[data-predict="on" | "off"]; each card has a
// .predict fieldset with the radios name="predict-<id>-preflight" (yes | no) and
// name="predict-<id>-outcome" (pass | blocked | unreached); a card that has run gets
// data-revealed; after a run with a prediction, its .predict__score has data-right and
// data-asked; #predict-tally has data-right and data-asked, summed over the cards.

import { h, fill } from './dom.js';

const KEY = 'cors-lab-predict';

const OUTCOMES = {
  pass: 'passes the CORS check',
  blocked: 'blocked by CORS',
  unreached: 'never reaches the API',
};

/** card id → { right, asked } of its last scored run */
const scores = new Map();

function on() {
  return document.body.dataset.predict === 'on';
}

function setMode(value, remember = true) {
  document.body.dataset.predict = value ? 'on' : 'off';
  const toggle = document.getElementById('predict-mode');
  if (toggle) toggle.checked = value;
  if (remember) {
    try { localStorage.setItem(KEY, value ? 'on' : 'off'); } catch { /* storage blocked: not remembered */ }
  }
}

/** Wire the section's “Predict first” switch; `#predict=on|off` in the address sets it. */
export function setUpPredictMode() {
  let stored = null;
  try { stored = localStorage.getItem(KEY); } catch { /* storage blocked */ }
  setMode(stored === 'on', false);
  const fromHash = () => {
    const wanted = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('predict');
    if (wanted === 'on' || wanted === 'off') setMode(wanted === 'on');
  };
  document.getElementById('predict-mode')?.addEventListener('change', (e) => setMode(e.target.checked));
  window.addEventListener('hashchange', fromHash);
  fromHash();
  showTally();
}

/** The two questions of a card, shown in predict mode. */
export function predictionBox(scenario) {
  const radio = (question, value, label) => h('label', { class: 'predict__choice' },
    h('input', { type: 'radio', name: `predict-${scenario.id}-${question}`, value }), ' ', label);
  return h('fieldset', { class: 'predict' },
    h('legend', {}, 'Your prediction'),
    h('div', { class: 'predict__question' },
      h('span', { class: 'predict__ask' }, 'A preflight first?'),
      radio('preflight', 'yes', 'yes'), radio('preflight', 'no', 'no')),
    h('div', { class: 'predict__question' },
      h('span', { class: 'predict__ask' }, 'Chromium:'),
      Object.entries(OUTCOMES).map(([value, label]) => radio('outcome', value, label))),
    h('p', { class: 'predict__score small', role: 'status' }));
}

function chosen(card, scenario, question) {
  return card.querySelector(`input[name="predict-${scenario.id}-${question}"]:checked`)?.value ?? null;
}

/** After a run: mark the card revealed and score what the learner predicted. */
export function scorePrediction(card, scenario, result) {
  // A card that has run shows its answers in either mode: its result is on show anyway.
  card.dataset.revealed = 'true';
  if (!on()) return;
  const out = card.querySelector('.predict__score');
  if (!out) return;
  const truth = { preflight: result.preflightSeen ? 'yes' : 'no', outcome: result.outcome };
  const asked = ['preflight', 'outcome']
    .map((q) => ({ q, said: chosen(card, scenario, q) }))
    .filter((p) => p.said !== null);
  if (asked.length === 0) {
    fill(out, 'No prediction made for this run.');
    delete out.dataset.right;
    delete out.dataset.asked;
    scores.delete(scenario.id);
    showTally();
    return;
  }
  const right = asked.filter((p) => p.said === truth[p.q]).length;
  const word = (q, v) => (q === 'preflight' ? (v === 'yes' ? 'a preflight' : 'no preflight') : OUTCOMES[v] ?? v);
  fill(out, asked.map((p) => h('span', { class: p.said === truth[p.q] ? 'predict__right' : 'predict__wrong' },
    p.said === truth[p.q] ? `✓ ${word(p.q, truth[p.q])}. ` : `✗ you said ${word(p.q, p.said)}; it was ${word(p.q, truth[p.q])}. `)));
  out.dataset.right = String(right);
  out.dataset.asked = String(asked.length);
  scores.set(scenario.id, { right, asked: asked.length });
  showTally();
}

function showTally() {
  const tally = document.getElementById('predict-tally');
  if (!tally) return;
  let right = 0;
  let asked = 0;
  for (const s of scores.values()) {
    right += s.right;
    asked += s.asked;
  }
  tally.dataset.right = String(right);
  tally.dataset.asked = String(asked);
  tally.textContent = asked ? `${right} of ${asked} predictions right` : '';
}
