// Tiny DOM helpers. Everything that comes from the network is set as text, never as HTML.

/**
 * h('div', { class: 'x', dataset: { run: 'a' } }, 'text', childNode, [more, children])
 * Attribute values of null/undefined/false are skipped; `true` sets an empty attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'dataset') {
      for (const [k, v] of Object.entries(value)) {
        if (v !== null && v !== undefined) el.dataset[k] = String(v);
      }
    } else if (name === 'text') {
      el.textContent = String(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

/**
 * An identifier such as `HeaderDisallowedByPreflightResponse` with a line-break opportunity
 * (`<wbr>`) before each inner capital, so that a narrow column wraps it between its words
 * rather than in the middle of one. The text is unchanged.
 */
export function wordBreaks(identifier) {
  return String(identifier)
    .split(/(?=[A-Z])/)
    .flatMap((word, i) => (i === 0 ? [word] : [h('wbr'), word]));
}

/** Replace all children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A two-column table of [name, value] header pairs; `highlight(name)` marks rows. */
export function headerTable(pairs, { caption, highlight } = {}) {
  if (!pairs || pairs.length === 0) {
    return h('p', { class: 'muted small' }, caption ? `${caption}: none` : 'none');
  }
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'headers' },
      caption ? h('caption', {}, caption) : null,
      h('tbody', {},
        pairs.map(([name, value]) =>
          h('tr', { class: highlight && highlight(name) ? 'is-cors' : null },
            h('th', { scope: 'row' }, name),
            h('td', {}, value))))));
}

/** True for header names that belong to CORS (request or response side). */
export function isCorsHeader(name) {
  const n = String(name).toLowerCase();
  return n === 'origin' || n === 'vary' || n.startsWith('access-control-');
}

/** A header name as the specs write it: `access-control-allow-origin` → `Access-Control-Allow-Origin`. */
export function headerCase(name) {
  return String(name).split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');
}

/** `s` as one shell word, in single quotes (for the curl commands the page shows). */
export function shellQuote(s) {
  return `'${String(s).replaceAll("'", "'\\''")}'`;
}

/** Copy text to the clipboard; falls back to selecting a hidden textarea. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

/** HH:MM:SS, the clock time a learner can find again in DevTools. */
export function formatClock(ms) {
  if (typeof ms !== 'number') return '';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The value of a header in a list of [name, value] pairs (case-insensitive), or null. */
export function headerValue(pairs, name) {
  const n = String(name).toLowerCase();
  const found = (pairs ?? []).filter(([k]) => String(k).toLowerCase() === n).map(([, v]) => v);
  return found.length ? found.join(', ') : null;
}

export function formatTime(ms) {
  if (typeof ms !== 'number') return '';
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
