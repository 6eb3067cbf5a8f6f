// The encounter check: "is this person reported missing anywhere?" An officer types what they
// have (a name as heard, a date or year of birth, sex, nationality) and why they check; the
// API answers the candidates the caller may see, best first, each with the match probability,
// the per-field weights of evidence (a waterfall from the prior to the total) and the person's
// open incidents — how urgently they are sought and which force to call.

import { api, rememberReason } from './api.js';
import { busy, field, h, reasonField, replace, s, showProblem, val } from './dom.js';
import * as fmt from './format.js';

export function checkScreen() {
  const results = h('section', { 'aria-live': 'polite', 'aria-label': 'Candidates' });
  const form = h('form', { class: 'card', novalidate: true },
    h('h1', {}, 'Encounter check'),
    h('p', { class: 'muted' }, 'Is this person reported missing anywhere? Give what you have; a name, a date of birth or an identifier is needed.'),
    h('div', { class: 'grid' },
      field('Given name(s)', 'given', { autocomplete: 'off' }),
      field('Family name', 'family', { autocomplete: 'off' }),
      field('Whole name (if unsure which part is the family name)', 'name', { autocomplete: 'off' }),
      field('Date of birth', 'dob', { hint: 'YYYY-MM-DD, YYYY-MM, YYYY or a range 2007..2009', autocomplete: 'off' }),
      field('Sex', 'sex', { input: 'select', options: fmt.SEXES }),
      field('Nationality', 'nationalities', { hint: 'ISO 3166 three-letter codes, comma-separated (AFG, ALB, VNM)', autocomplete: 'off' })),
    reasonField('Reason for the check', { required: true, hint: 'Recorded in the audit log with this check only, e.g. "stopped at Dover, no ID".' }),
    h('button', { type: 'submit', class: 'primary' }, 'Check'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const k of ['given', 'family', 'name', 'dob', 'sex']) {
      const v = val(form, k);
      if (v) body[k] = v;
    }
    const nat = val(form, 'nationalities');
    if (nat) body.nationalities = nat.split(/[\s,]+/).filter(Boolean).map((x) => x.toUpperCase());
    const why = val(form, 'reason');
    rememberReason(why);
    replace(results);
    try {
      const res = await busy(form, () => api('POST', '/api/v1/encounters', { body, reason: why }));
      replace(results, renderResults(res));
    } catch (e) {
      showProblem(form, e);
    }
  });
  return { title: 'Encounter check', el: h('div', {}, form, results) };
}

function renderResults(res) {
  const n = res.candidates.length;
  return [
    h('h2', {}, n === 0 ? 'No candidates' : `${n} candidate${n === 1 ? '' : 's'}, best first`),
    n === 0 ? h('p', {}, 'Nobody on the register that you may see resembles this description.') : null,
    h('ol', { class: 'candidates' }, res.candidates.map(candidate)),
  ];
}

function candidate(c) {
  const p = c.person;
  const facts = [];
  if (p.dob !== undefined) facts.push(['Born', fmt.dob(p.dob)]);
  if (p.sex !== undefined) facts.push(['Sex', fmt.label(p.sex)]);
  if (p.nationalities !== undefined) facts.push(['Nationality', p.nationalities.join(', ') || '—']);
  if (p.names && p.names.length > 1) facts.push(['Also known as', p.names.filter((x) => x.kind !== 'primary').map(fmt.name).join('; ')]);
  const prob = c.match_probability;
  return h('li', { class: 'card candidate' },
    h('div', { class: 'cand-head' },
      h('h3', {}, `${c.rank}. `, h('a', { href: `#/persons/${p.id}` }, fmt.primaryName(p))),
      h('div', { class: 'prob' },
        h('meter', { min: 0, max: 1, value: prob, 'aria-label': 'match probability' }),
        h('strong', {}, fmt.percent(prob)), h('span', { class: 'muted' }, ` match (${c.match_weight.toFixed(1)} bits)`))),
    facts.length ? h('dl', { class: 'kv' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : null,
    openIncidents(c.open_incidents),
    h('details', {},
      h('summary', {}, 'Why this candidate: weight of evidence by field'),
      waterfall(c.explanation, c.match_weight),
      c.withheld_evidence ? h('p', { class: 'muted' }, 'Fields you may not see also contributed; their weights are not shown.') : null));
}

function openIncidents(list) {
  if (!list || list.length === 0) return h('p', { class: 'ok' }, 'No open missing incident.');
  return h('div', { class: 'alert' },
    h('p', {}, h('strong', {}, `Reported missing: ${list.length} open incident${list.length === 1 ? '' : 's'}`)),
    h('ul', { class: 'plain' }, list.map((i) => h('li', {},
      fmt.grade(i.risk), ' ',
      h('a', { href: `#/incidents/${i.id}` }, i.last_seen_at ? `last seen ${fmt.time(i.last_seen_at)}` : 'open incident'),
      i.force_missing ? ` · call ${fmt.org(i.force_missing)}` : '',
      fmt.flags(i.warning_flags)))));
}

/**
 * The explanation as a waterfall: each field's weight (bits, positive for agreement) moves the
 * running total from the prior to the match weight. A table beside it carries the figures for
 * screen readers.
 */
export function waterfall(contribs, total) {
  const rows = contribs || [];
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No explanation to show.');
  let run = 0;
  const steps = rows.map((c) => {
    const from = run;
    run += c.weight;
    return { c, from, to: run };
  });
  const lo = Math.min(0, ...steps.map((x) => Math.min(x.from, x.to)));
  const hi = Math.max(0, ...steps.map((x) => Math.max(x.from, x.to)));
  const W = 600;
  const L = 190;
  const R = 60;
  const rowH = 22;
  const H = rowH * steps.length + 24;
  const x = (v) => L + ((v - lo) / (hi - lo || 1)) * (W - L - R);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'waterfall', role: 'img', 'aria-label': `Waterfall of match weights, total ${total.toFixed(1)} bits` },
    s('line', { x1: x(0), x2: x(0), y1: 0, y2: H - 18, class: 'axis' }),
    steps.map(({ c, from, to }, i) => {
      const y = i * rowH + 4;
      return s('g', {},
        s('text', { x: L - 6, y: y + 13, 'text-anchor': 'end', class: 'lbl' }, `${c.field} (${c.level})`),
        s('rect', { x: Math.min(x(from), x(to)), y, width: Math.max(1, Math.abs(x(to) - x(from))), height: rowH - 6, class: c.weight >= 0 ? 'pos' : 'neg' }),
        s('text', { x: W - R + 6, y: y + 13, class: 'num' }, `${c.weight >= 0 ? '+' : ''}${c.weight.toFixed(1)}`));
    }),
    s('text', { x: x(0), y: H - 4, 'text-anchor': 'middle', class: 'num' }, '0'),
    s('text', { x: x(run), y: H - 4, 'text-anchor': 'middle', class: 'num' }, `${total.toFixed(1)}`));
  const table = h('table', { class: 'small' },
    h('caption', { class: 'sr-only' }, 'Weight of evidence by field'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Agreement'), h('th', { scope: 'col' }, 'Weight (bits)'), h('th', { scope: 'col' }, 'Detail'))),
    h('tbody', {}, rows.map((c) => h('tr', {}, h('td', {}, c.field), h('td', {}, c.level), h('td', { class: 'n' }, c.weight.toFixed(2)), h('td', {}, c.detail)))));
  return h('div', { class: 'explain' }, svg, table);
}
