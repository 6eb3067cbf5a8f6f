// Building the page without HTML strings (text always goes in as text, never as markup), form
// fields with their labels, and showing an API problem next to the fields its `errors` name.

import { previousReason } from './api.js';

/**
 * h('p', {class: 'x'}, 'text', child…): an element. Attributes named on* are refused (no
 * handlers in markup); use `on: {click: f}` instead.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') {
      for (const [ev, f] of Object.entries(v)) el.addEventListener(ev, f);
    } else if (k.startsWith('on')) {
      throw new Error(`attribute ${k}: use the on: {…} option`);
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

let ids = 0;

/**
 * A labelled form field. `name` is the API field it fills (so an error naming that field is
 * shown under it); `input` is 'text', 'select' (with `options`: [[value, label]…]), 'textarea',
 * or any input type.
 */
export function field(label, name, opts = {}) {
  const id = `f${++ids}`;
  const { input = 'text', options = [], hint, value, required, ...rest } = opts;
  let control;
  if (input === 'select') {
    control = h('select', { id, name, required, ...rest },
      options.map(([v, l]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, l)));
  } else if (input === 'textarea') {
    control = h('textarea', { id, name, required, rows: 3, ...rest });
    if (value !== undefined) control.value = value;
  } else {
    control = h('input', { id, name, type: input, required, ...rest });
    if (value !== undefined && value !== null) control.value = value;
  }
  const hintEl = hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    hintEl, control);
}

/**
 * The stated reason for one action (sent as X-NRMP-Reason and recorded in the audit log with
 * that action only). It starts empty: a reason given earlier is offered behind a button that
 * fills it in, never sent silently.
 */
export function reasonField(label, { required = false, hint } = {}) {
  const f = field(label, 'reason', { required, hint: hint || 'Recorded in the audit log with this action only.' });
  const before = previousReason();
  if (before) {
    const input = f.querySelector('input');
    const reuse = h('button', { type: 'button', class: 'link reuse-reason' }, `Use the same reason as before: \u201c${before}\u201d`);
    reuse.addEventListener('click', () => {
      input.value = before;
      input.focus();
    });
    f.append(reuse);
  }
  return f;
}

/** A fieldset of checkboxes sharing `name`. */
export function checkboxes(legend, name, options, checked = []) {
  return h('fieldset', { class: 'field checks', 'data-field': name },
    h('legend', {}, legend),
    options.map(([v, l]) => {
      const id = `f${++ids}`;
      return h('span', { class: 'check' },
        h('input', { type: 'checkbox', id, name, value: v, checked: checked.includes(v) }),
        h('label', { for: id }, l));
    }));
}

/** The value of the named control in `form` (trimmed text; '' if absent). */
export function val(form, name) {
  const el = form.elements.namedItem(name);
  return el && 'value' in el ? el.value.trim() : '';
}

/** The checked values of the checkboxes named `name`. */
export function checked(form, name) {
  return Array.from(form.querySelectorAll(`input[type=checkbox][name="${name}"]:checked`), (e) => e.value);
}

// The problem's title, with its detail when that says more.
function headline(err) {
  const title = err.title || 'Not done';
  const more = err.message && err.message.toLowerCase() !== title.toLowerCase() ? ` — ${err.message}` : '';
  return h('p', {}, h('strong', {}, title), more);
}

/** Removes the messages of an earlier problem from `form`. */
export function clearErrors(form) {
  form.querySelectorAll('.field-error, .form-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => {
    e.removeAttribute('aria-invalid');
    const d = (e.getAttribute('aria-describedby') || '').split(' ').filter((x) => !x.endsWith('-err'));
    if (d.length) e.setAttribute('aria-describedby', d.join(' '));
    else e.removeAttribute('aria-describedby');
  });
}

// `names[0].family` → candidates to look for: itself, then without indices, then its parents.
function fieldCandidates(name) {
  const out = [name];
  const plain = name.replace(/\[\d+\]/g, '');
  out.push(plain);
  const parts = plain.split('.');
  while (parts.length > 1) {
    parts.pop();
    out.push(parts.join('.'));
  }
  return out;
}

/**
 * Shows `err` (an ApiError or any Error) in `form`: each entry of `errors` under the field it
 * names, the rest (and the problem's detail) in a summary at the top. Focuses the first.
 */
export function showProblem(form, err) {
  clearErrors(form);
  const loose = [];
  let first = null;
  for (const e of err.errors || []) {
    const box = fieldCandidates(e.field)
      .map((n) => form.querySelector(`[data-field="${CSS.escape(n)}"]`))
      .find(Boolean);
    if (!box) {
      loose.push(`${e.field}: ${e.problem}`);
      continue;
    }
    const control = box.querySelector('input, select, textarea');
    const msg = h('p', { class: 'field-error', id: `${control ? control.id : 'x'}-err` },
      box.dataset.field === e.field ? e.problem : `${e.field}: ${e.problem}`);
    box.append(msg);
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      const d = control.getAttribute('aria-describedby');
      control.setAttribute('aria-describedby', d ? `${d} ${msg.id}` : msg.id);
      first = first || control;
    }
  }
  const summary = h('div', { class: 'form-error', role: 'alert', tabindex: '-1' },
    headline(err),
    loose.length ? h('ul', {}, loose.map((l) => h('li', {}, l))) : null);
  form.prepend(summary);
  (first || summary).focus?.();
}

/** Replaces the content of `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A problem shown on its own (not tied to a form). */
export function problemBox(err) {
  return h('div', { class: 'form-error', role: 'alert' },
    headline(err),
    (err.errors || []).length ? h('ul', {}, err.errors.map((e) => h('li', {}, `${e.field}: ${e.problem}`))) : null);
}

/** Clears the form's earlier errors and disables its submit button while `work` runs. */
export async function busy(form, work) {
  clearErrors(form);
  const btn = form.querySelector('button[type=submit]');
  if (btn) btn.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    if (btn) btn.disabled = false;
    form.removeAttribute('aria-busy');
  }
}
