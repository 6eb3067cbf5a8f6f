// How register values read on screen: names, dates of birth, grades, warning flags, places,
// organisations, times. Pure functions of the JSON the API returned.

import { h } from './dom.js';

export const GRADES = [
  ['high', 'High'],
  ['medium', 'Medium'],
  ['low', 'Low'],
  ['no_apparent_risk', 'No apparent risk'],
];

export const SEXES = [['', '—'], ['male', 'Male'], ['female', 'Female'], ['other', 'Other'], ['unknown', 'Unknown']];

export const ROLES = {
  call_handler: 'Call handler',
  missing_person_coordinator: 'Missing-person coordinator',
  patrol_officer: 'Patrol officer',
  missing_from_care_lead: 'Missing-from-care lead',
  social_worker: 'Social worker',
  national_analyst: 'National analyst',
  advocate: 'Advocate',
  researcher: 'Researcher',
  administrator: 'Administrator',
};

export function label(s) {
  if (s === null || s === undefined) return '';
  const t = String(s).replace(/[_-]/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

export function grade(g) {
  if (!g) return h('span', { class: 'muted' }, '—');
  const found = GRADES.find(([v]) => v === g);
  return h('span', { class: `grade grade-${g}` }, found ? found[1] : label(g));
}

/** A name object ({kind, given, family, original, order_unknown}) as one line. */
export function name(n) {
  if (!n) return '';
  const main = [n.given, n.family].filter(Boolean).join(' ') || n.full || '';
  const orig = n.original ? ` (${n.original})` : '';
  return `${main}${orig}`;
}

/** The primary name of a person view, or the first, or a placeholder. */
export function primaryName(person) {
  const names = person && person.names;
  if (!Array.isArray(names) || names.length === 0) return 'Name withheld';
  const p = names.find((n) => n.kind === 'primary') || names[0];
  return name(p) || 'Unnamed';
}

/** A date of birth in any of its forms. */
export function dob(d) {
  if (d === undefined) return undefined;
  if (d === null) return 'not known';
  switch (d.kind) {
    case 'exact':
      return d.date;
    case 'approximate':
      return `about ${d.month ? `${d.year}-${String(d.month).padStart(2, '0')}` : d.year}`;
    case 'age_assessed':
      return `assessed: born ${d.earliest} to ${d.latest}${d.assessed_on ? ` (on ${d.assessed_on})` : ''}`;
    case 'disputed': {
      const parts = Object.entries(d).filter(([k]) => k !== 'kind').map(([k, v]) => `${label(k)}: ${typeof v === 'object' ? dob(v) || JSON.stringify(v) : v}`);
      return `disputed — ${parts.join('; ')}`;
    }
    default:
      return JSON.stringify(d);
  }
}

export function time(t) {
  if (!t) return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

// Organisation names from the directory (GET /api/v1/organisations), once it has been read.
const orgNames = new Map();

export function knowOrganisations(list) {
  for (const o of list || []) orgNames.set(o.code, o.name);
}

/** An organisation by name when the directory knows it, else by its code. */
export function org(code) {
  if (!code) return '—';
  return orgNames.get(code) || code;
}

export function place(p) {
  if (!p) return '—';
  const where = [p.authority, p.force].filter(Boolean).map(org).join(', ');
  return `${p.description || '(no description)'}${where ? ` — ${where}` : ''}`;
}

/** A warning flag ({flag, …}) as a short phrase. */
export function flag(f) {
  switch (f.flag) {
    case 'missing_soon_after_referral':
      return `Missing ${f.hours} h after an NRM referral`;
    case 'missing_soon_after_care':
      return `Missing ${f.hours} h after entering care`;
    case 'repeat_missing':
      return `Repeat missing (${f.count} episodes)`;
    case 'open_longer_than':
      return `Open more than ${f.days} days`;
    case 'high_risk':
      return 'High risk';
    case 'found_in_another_force':
      return 'Found in another force';
    default:
      return label(f.flag);
  }
}

export function flags(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  return h('ul', { class: 'flags', 'aria-label': 'Warning flags' }, list.map((f) => h('li', { class: 'flag' }, flag(f))));
}

export function percent(x, digits = 1) {
  const floor = 10 ** -digits;
  if (x > 0 && x * 100 < floor) return `< ${floor.toFixed(digits)} %`;
  return `${(x * 100).toFixed(digits)} %`;
}

/**
 * Any JSON value as a definition list / list / text: for records whose fields vary with the
 * caller's grant (only what the API returned is shown; absent keys are simply not there).
 */
export function generic(v, skip = [], compact = false) {
  if (v === null) return h('span', { class: 'muted' }, 'none');
  if (compact && v && typeof v === 'object' && !Array.isArray(v)) {
    const kept = Object.entries(v).filter(([, x]) => x !== null && !(Array.isArray(x) && x.length === 0));
    if (kept.length === 0) return h('span', { class: 'muted' }, 'none recorded');
    return generic(Object.fromEntries(kept), skip);
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return h('span', { class: 'muted' }, 'none');
    return h('ul', { class: 'plain' }, v.map((x) => h('li', {}, generic(x))));
  }
  if (typeof v === 'object') {
    if ('kind' in v && ('given' in v || 'family' in v)) return name(v);
    if ('kind' in v && ('date' in v || 'year' in v || 'earliest' in v)) return dob(v);
    if ('description' in v && 'force' in v && 'authority' in v) return place(v);
    return h('dl', { class: 'kv' }, Object.entries(v).filter(([k]) => !skip.includes(k))
      .map(([k, x]) => [h('dt', {}, label(k)), h('dd', {}, generic(x))]));
  }
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return time(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}
