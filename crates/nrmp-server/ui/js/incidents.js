// Incidents: the list of incidents (open ones by default) filtered by risk grade and force, most
// recently last seen first, with their warning flags; and one incident in full — its risk-grade
// history, sightings, return and return-home interview — with the changes an episode goes
// through (a new grade, a sighting, the return). What appears is what the API returned for the
// caller's grant.

import { api, organisations, rememberReason } from './api.js';
import { busy, checkboxes, checked, field, h, problemBox, reasonField, replace, showProblem, val } from './dom.js';
import * as fmt from './format.js';

async function forceOptions() {
  try {
    const orgs = await organisations();
    return orgs.filter((o) => o.kind === 'police_force').map((o) => [o.code, o.name])
      .sort((a, b) => a[1].localeCompare(b[1]));
  } catch {
    return [];
  }
}

export function incidentsScreen() {
  const list = h('section', { 'aria-live': 'polite', 'aria-label': 'Incidents' });
  const force = field('Force where missing', 'force', { input: 'select', options: [['', 'Any force']] });
  const form = h('form', { class: 'card', novalidate: true },
    h('h1', {}, 'Incidents'),
    h('div', { class: 'grid' },
      checkboxes('Risk grade', 'risk', fmt.GRADES, ['high', 'medium']),
      force,
      h('div', { class: 'field' }, h('span', { class: 'check' },
        h('input', { type: 'checkbox', id: 'open-only', name: 'open', checked: true }),
        h('label', { for: 'open-only' }, 'Open incidents only')))),
    reasonField('Reason for the search', { required: true, hint: 'Recorded in the audit log with this search only, e.g. "daily review of high-risk cases".' }),
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  let next = null;
  let params = null;

  async function page(more) {
    const q = new URLSearchParams(params);
    if (more && next) q.set('after', next);
    const why = val(form, 'reason');
    const res = await busy(form, () => api('GET', `/api/v1/incidents?${q}`, { reason: why }));
    next = res.next;
    const rows = res.items.map(row);
    let tbody = list.querySelector('tbody');
    if (!more || !tbody) {
      tbody = h('tbody', {});
      replace(list, h('table', { class: 'list' },
        h('caption', {}, 'Most recently last seen first'),
        h('thead', {}, h('tr', {}, ['Last seen', 'Grade', 'Force', 'Category', 'Place', 'Warnings', ''].map((t) => h('th', { scope: 'col' }, t)))),
        tbody));
    }
    tbody.append(...rows);
    list.querySelector('.more')?.remove();
    if (!more && res.items.length === 0) replace(list, h('p', {}, 'No incidents match (or none that you may see).'));
    if (next) {
      list.append(h('button', { type: 'button', class: 'more', on: { click: () => page(true).catch((e) => showProblem(form, e)) } }, 'More'));
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const p = {};
    if (form.elements.namedItem('open').checked) p.open = 'true';
    const grades = checked(form, 'risk');
    if (grades.length) p.risk = grades.join(',');
    const f = val(form, 'force');
    if (f) p.force = f;
    params = p;
    rememberReason(val(form, 'reason'));
    try {
      await page(false);
    } catch (e) {
      showProblem(form, e);
    }
  });
  return {
    title: 'Incidents',
    el: h('div', {}, form, list),
    load: async () => {
      const opts = await forceOptions();
      const sel = force.querySelector('select');
      sel.append(...opts.map(([v, l]) => h('option', { value: v }, l)));
    },
  };
}

function row(i) {
  return h('tr', {},
    h('td', {}, fmt.time(i.last_seen_at)),
    h('td', {}, fmt.grade(i.risk)),
    h('td', {}, fmt.org(i.force_missing)),
    h('td', {}, fmt.label(i.category) || '—'),
    h('td', {}, i.last_seen_place ? i.last_seen_place.description : '—'),
    h('td', {}, fmt.flags(i.warning_flags) || ''),
    h('td', {}, h('a', { href: `#/incidents/${i.id}` }, 'View'), ' · ', h('a', { href: `#/persons/${i.person_id}` }, 'Person')));
}

/**
 * A page read with `read(reason)` (an API call): `open()` reads first without a reason; if the
 * API asks for one, a small form asks for it (for this page) and the read is tried again.
 * `reload()` reads again under the reason stated for this page, which the page shows, so
 * nothing is recorded under a reason the user cannot see. `render(answer, reload)` draws it.
 */
export function withReason(el, read, render) {
  let stated = '';
  // `asked`: the reason came from the form below (so a refusal is shown there).
  const go = async (why, asked = false) => {
    replace(el, h('p', { class: 'muted' }, 'Loading…'));
    try {
      render(await read(why), () => go(stated));
      stated = why;
      if (why) el.prepend(h('p', { class: 'muted stated-reason' }, `Opened for: \u201c${why}\u201d (recorded with each read of this page).`));
    } catch (e) {
      if (!e.reasonRequired) {
        replace(el, problemBox(e));
        return;
      }
      const form = h('form', { class: 'card narrow', novalidate: true },
        h('p', {}, 'Your organisation is not involved in this case: state why you consult it (recorded in the audit log).'),
        reasonField('Reason', { required: true, hint: 'Recorded in the audit log with the reads of this page only.' }),
        h('button', { type: 'submit', class: 'primary' }, 'Open'));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const r = val(form, 'reason');
        rememberReason(r);
        go(r, true);
      });
      replace(el, form);
      if (asked) showProblem(form, e);
      form.querySelector('input').focus();
    }
  };
  return { open: () => go(''), reload: () => go(stated) };
}

export function incidentScreen(id) {
  const el = h('div', {});
  const page = withReason(el, (why) => api('GET', `/api/v1/incidents/${id}`, { reason: why }), (i, reload) => replace(el, detail(i, reload)));
  return { title: 'Incident', el, load: page.open };
}

function section(title, ...body) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...body);
}

function detail(i, reload) {
  const facts = [
    ['Status', i.open === undefined ? undefined : i.open ? 'Open' : 'Closed'],
    ['Category', i.category && fmt.label(i.category)],
    ['Reported', i.reported_at && fmt.time(i.reported_at)],
    ['Last seen', i.last_seen_at && fmt.time(i.last_seen_at)],
    ['Where', i.last_seen_place && fmt.place(i.last_seen_place)],
    ['Force where missing', i.force_missing && fmt.org(i.force_missing)],
    ['Owner', i.owning_org && fmt.org(i.owning_org)],
    ['Also involved', i.involved && (i.involved.map(fmt.org).join(', ') || 'none')],
  ].filter(([, v]) => v !== undefined);
  const out = [
    h('p', {}, h('a', { href: '#/incidents' }, '← Incidents'), ' · ', h('a', { href: `#/persons/${i.person_id}` }, 'The person\'s history')),
    h('h1', {}, 'Missing incident ', fmt.grade(i.risk)),
    fmt.flags(i.warning_flags),
    h('dl', { class: 'kv card' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
  ];
  if (i.circumstances !== undefined) out.push(section('Circumstances', h('p', { class: 'pre' }, i.circumstances || '—')));
  if (i.risk_history !== undefined) {
    out.push(section('Risk-grade history',
      h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, ['When', 'Grade', 'By', 'Organisation', 'Rationale'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, i.risk_history.map((g) => h('tr', {}, h('td', {}, fmt.time(g.at)), h('td', {}, fmt.grade(g.grade)), h('td', {}, g.by), h('td', {}, fmt.org(g.source)), h('td', {}, g.rationale))))),
      i.open ? gradeForm(i, reload) : null));
  }
  if (i.sightings !== undefined) {
    out.push(section('Sightings',
      i.sightings.length === 0 ? h('p', { class: 'muted' }, 'None recorded.')
        : h('ul', { class: 'plain' }, i.sightings.map((x) => h('li', {}, h('strong', {}, fmt.time(x.at)), ` — ${fmt.place(x.place)} (reported by ${fmt.org(x.reported_by)}) `, x.details))),
      i.open ? sightingForm(i, reload) : null));
  }
  if (i.returned !== undefined) {
    const r = i.returned;
    out.push(section('Return',
      r ? h('dl', { class: 'kv returned' },
        h('dt', {}, 'Found'), h('dd', {}, fmt.time(r.found_at)),
        h('dt', {}, 'Found by'), h('dd', {}, fmt.org(r.found_by)),
        h('dt', {}, 'Outcome'), h('dd', {}, fmt.label(r.outcome)),
        i.return_place !== undefined ? [h('dt', {}, 'Where'), h('dd', {}, fmt.place(i.return_place))] : null)
        : [h('p', { class: 'muted' }, 'Not returned yet.'), returnForm(i, reload)]));
  }
  const withheld = [['risk_history', 'risk-grade history'], ['circumstances', 'circumstances'], ['sightings', 'sightings'],
    ['returned', 'the return'], ['return_interview', 'the return-home interview']].filter(([k]) => i[k] === undefined).map(([, t]) => t);
  if (withheld.length) out.push(h('p', { class: 'muted' }, `Not shown to your role for this case: ${withheld.join(', ')}.`));
  if (i.return_interview !== undefined || i.return_interview_outcome !== undefined) {
    out.push(section('Return-home interview',
      i.return_interview === null ? h('p', { class: 'muted' }, 'None recorded.') : fmt.generic(i.return_interview),
      i.return_interview_outcome !== undefined && i.return_interview_outcome !== null ? fmt.generic(i.return_interview_outcome) : null));
  }
  return out;
}

// A datetime-local value (the browser's local time) as an RFC 3339 instant.
export function instant(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

export function nowLocal() {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

// A change to the incident: `action` names it (`risk`, `sighting`, `return`) for styling and tests.
function writeForm(action, title, fields, submit, build) {
  const form = h('form', { class: 'sub', novalidate: true, 'data-action': action }, h('h3', {}, title), ...fields,
    reasonField('Reason', { hint: 'Why you make this change (recorded in the audit log with this change only).' }),
    h('button', { type: 'submit' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const why = val(form, 'reason');
    if (why) rememberReason(why);
    try {
      await busy(form, () => build(form, why));
    } catch (e) {
      showProblem(form, e);
    }
  });
  return h('details', { 'data-action': action }, h('summary', {}, title), form);
}

function gradeForm(i, reload) {
  return writeForm('risk', 'Change the risk grade', [
    field('New grade', 'grade', { input: 'select', options: fmt.GRADES, value: i.risk }),
    field('Rationale', 'rationale', { input: 'textarea', required: true }),
  ], 'Change grade', async (form, why) => {
    await api('POST', `/api/v1/incidents/${i.id}/risk`, { body: { grade: val(form, 'grade'), rationale: val(form, 'rationale') }, reason: why });
    await reload();
  });
}

function placeFields(prefix) {
  return [
    field('Place', `${prefix}.description`, { required: true }),
  ];
}

function sightingForm(i, reload) {
  return writeForm('sighting', 'Add a sighting', [
    field('When', 'at', { input: 'datetime-local', value: nowLocal(), required: true }),
    ...placeFields('place'),
    field('Details', 'details', { input: 'textarea' }),
  ], 'Add sighting', async (form, why) => {
    const body = { at: instant(val(form, 'at')), place: { description: val(form, 'place.description'), authority: null, force: i.force_missing || null }, details: val(form, 'details') };
    await api('POST', `/api/v1/incidents/${i.id}/sightings`, { body, reason: why });
    await reload();
  });
}

function returnForm(i, reload) {
  return writeForm('return', 'Record the return', [
    field('Found at', 'found_at', { input: 'datetime-local', value: nowLocal(), required: true }),
    ...placeFields('place'),
    field('Outcome', 'outcome', { input: 'select', options: [['safe', 'Safe'], ['harmed', 'Harmed'], ['deceased', 'Deceased']] }),
  ], 'Record return', async (form, why) => {
    const body = { found_at: instant(val(form, 'found_at')), place: { description: val(form, 'place.description'), authority: null, force: null }, outcome: val(form, 'outcome') };
    await api('POST', `/api/v1/incidents/${i.id}/return`, { body, reason: why });
    await reload();
  });
}
