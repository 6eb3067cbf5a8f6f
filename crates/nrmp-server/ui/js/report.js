// Report a person missing (POST /api/v1/incidents): the register person, the force where they
// went missing, when and where last seen, the circumstances and the initial risk grade with its
// rationale. The API owns the rules; its errors appear under the field they name.

import { api, organisations, rememberReason } from './api.js';
import { busy, field, h, reasonField, showProblem, val } from './dom.js';
import * as fmt from './format.js';
import { instant, nowLocal } from './incidents.js';

export function reportScreen(personId) {
  const force = field('Force where missing', 'force_missing', { input: 'select', options: [['', 'Choose a force']], required: true });
  const form = h('form', { class: 'card', novalidate: true },
    h('h1', {}, 'Report missing'),
    field('Person id', 'person_id', { value: personId, required: true, hint: 'The register id of the person (open their history from an encounter check to fill it in).' }),
    h('div', { class: 'grid' },
      force,
      field('Category', 'category', { input: 'select', options: [['missing', 'Missing'], ['away_from_placement', 'Away from placement']] }),
      field('Last seen at', 'last_seen_at', { input: 'datetime-local', value: nowLocal(), required: true }),
      field('Last seen place', 'last_seen_place.description', { hint: 'Area-level only: never the address of a placement.' })),
    field('Circumstances', 'circumstances', { input: 'textarea' }),
    h('div', { class: 'grid' },
      field('Risk grade', 'risk.grade', { input: 'select', options: fmt.GRADES, value: 'medium' }),
      field('Rationale for the grade', 'risk.rationale', { input: 'textarea', required: true })),
    reasonField('Reason', { hint: 'Why you make this report (recorded in the audit log with this report only).' }),
    h('button', { type: 'submit', class: 'primary' }, 'Report missing'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = val(form, 'force_missing');
    const body = {
      person_id: val(form, 'person_id'),
      force_missing: f,
      category: val(form, 'category'),
      last_seen_at: instant(val(form, 'last_seen_at')),
      last_seen_place: { description: val(form, 'last_seen_place.description'), authority: null, force: f || null },
      circumstances: val(form, 'circumstances'),
      risk: { grade: val(form, 'risk.grade'), rationale: val(form, 'risk.rationale') },
    };
    const why = val(form, 'reason');
    if (why) rememberReason(why);
    try {
      const created = await busy(form, () => api('POST', '/api/v1/incidents', { body, reason: why }));
      location.hash = `#/incidents/${created.id}`;
    } catch (e) {
      showProblem(form, e);
    }
  });
  return {
    title: 'Report missing',
    el: form,
    load: async () => {
      try {
        const orgs = await organisations();
        const sel = force.querySelector('select');
        sel.append(...orgs.filter((o) => o.kind === 'police_force').sort((a, b) => a.name.localeCompare(b.name))
          .map((o) => h('option', { value: o.code }, o.name)));
      } catch {
        // the directory is optional here: the API names a missing force
      }
    },
  };
}
