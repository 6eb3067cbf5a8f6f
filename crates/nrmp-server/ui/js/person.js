// A person's history (GET /api/v1/persons/{id}/history): names and aliases, date of birth and
// description, then their incidents, NRM referrals, placements and profiles. Each kind is
// decided by the API on its own; a kind the caller may not see is absent from the answer and
// so from this screen, and within a record only the fields returned are shown.

import { api } from './api.js';
import { withReason } from './incidents.js';
import { h, replace } from './dom.js';
import * as fmt from './format.js';

export function personScreen(id) {
  const el = h('div', {});
  const page = withReason(el, (why) => api('GET', `/api/v1/persons/${id}/history`, { reason: why }), (v) => replace(el, history(v)));
  return { title: 'Person', el, load: page.open };
}

function history(v) {
  const p = v.person;
  const facts = [];
  if (p.names !== undefined) {
    facts.push(['Names', h('ul', { class: 'plain' }, p.names.map((n) => h('li', {}, fmt.name(n), n.kind !== 'primary' ? h('span', { class: 'muted' }, ` (${fmt.label(n.kind)})`) : null)))]);
  }
  if (p.dob !== undefined) facts.push(['Date of birth', fmt.dob(p.dob)]);
  if (p.sex !== undefined) facts.push(['Sex', fmt.label(p.sex)]);
  if (p.nationalities !== undefined) facts.push(['Nationalities', p.nationalities.join(', ') || '—']);
  if (p.languages !== undefined) facts.push(['Languages', p.languages.join(', ') || '—']);
  if (p.identifiers !== undefined) facts.push(['Identifiers', fmt.generic(p.identifiers)]);
  if (p.description !== undefined) facts.push(['Description', fmt.generic(p.description, [], true)]);
  if (p.owning_org !== undefined) facts.push(['Record owner', fmt.org(p.owning_org)]);
  const out = [
    h('h1', {}, fmt.primaryName(p)),
    h('dl', { class: 'kv card' }, facts.map(([k, x]) => [h('dt', {}, k), h('dd', {}, x)])),
    h('p', {}, h('a', { href: `#/report?person=${p.id}`, class: 'button' }, 'Report this person missing')),
  ];
  if (v.incidents !== undefined) {
    const items = [...v.incidents].reverse();
    out.push(h('section', { class: 'card' }, h('h2', {}, `Missing incidents (${items.length})`),
      items.length === 0 ? h('p', { class: 'muted' }, 'None.') : h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, ['Last seen', 'Status', 'Grade', 'Force', 'Warnings', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, items.map((i) => h('tr', {},
          h('td', {}, fmt.time(i.last_seen_at)),
          h('td', {}, i.open === undefined ? '—' : i.open ? 'Open' : 'Closed'),
          h('td', {}, fmt.grade(i.risk)),
          h('td', {}, fmt.org(i.force_missing)),
          h('td', {}, fmt.flags(i.warning_flags) || ''),
          h('td', {}, h('a', { href: `#/incidents/${i.id}` }, 'View'))))))));
  }
  for (const [key, title] of [['referrals', 'NRM referrals'], ['placements', 'Placements'], ['profiles', 'Profiles']]) {
    if (v[key] === undefined) continue;
    out.push(h('section', { class: 'card' }, h('h2', {}, `${title} (${v[key].length})`),
      v[key].length === 0 ? h('p', { class: 'muted' }, 'None.')
        : h('ul', { class: 'records' }, v[key].map((r) => h('li', {}, fmt.generic(r, ['person_id']))))));
  }
  const absent = ['incidents', 'referrals', 'placements', 'profiles'].filter((k) => v[k] === undefined);
  if (absent.length) out.push(h('p', { class: 'muted' }, `Not shown to your role: ${absent.join(', ')}.`));
  return out;
}
