// Statistics: pick a table of the national picture (POST /api/v1/statistics) and read it as the
// API published it — counts beside proportions with denominators and 95 % CIs, suppressed cells
// shown as suppressed (never recomputed here) — with an SVG chart of the proportions and their
// intervals. Disclosure control is the API's; this screen only draws what it returned.

import { api } from './api.js';
import { busy, field, h, replace, s, showProblem, val } from './dom.js';
import { label, percent } from './format.js';

const TABLES = [
  ['missing', 'Who went missing (proportion of persons at risk)'],
  ['trend', 'Yearly trend'],
  ['time-to-missing', 'Time to first missing episode (Kaplan–Meier)'],
  ['proportion-trafficked', 'Proportion of trafficked and unaccompanied children who went missing'],
  ['spend-model', 'Missing rates against children\'s-services spend per child (ecological model)'],
];
// Tables the API can draw as SVG (`chart: true`).
const CHARTED = new Set(['trend', 'time-to-missing', 'spend-model']);
const BY = ['cohort', 'year', 'force', 'authority', 'nationality', 'age-band', 'sex'].map((b) => [b, label(b)]);
const COHORTS = [['all', 'Everyone'], ['children', 'Children'], ['adults', 'Adults'], ['looked-after', 'Looked-after children'],
  ['unaccompanied', 'Unaccompanied children'], ['nrm-children', 'NRM-referred children']];
const ORIGINS = [['referral', 'NRM referral'], ['care', 'Entering care']];
const GROUPS = ['cohort', 'none', 'sex', 'age-band', 'placement-type'].map((g) => [g, label(g)]);

export function statsScreen() {
  const out = h('section', { 'aria-live': 'polite', 'aria-label': 'Published table' });
  const options = h('div', { class: 'grid' });
  const period = h('div', { class: 'grid' });
  const form = h('form', { class: 'card', novalidate: true },
    h('h1', {}, 'Statistics'),
    h('p', { class: 'muted' }, 'Aggregates only. Small counts are suppressed by the register\'s disclosure control.'),
    h('p', { class: 'muted' }, 'Except for the national unit\'s analysts, periods are whole, completed calendar years (1 January to 31 December): one year per table, several for the trend and the table by year.'),
    field('Table', 'table', { input: 'select', options: TABLES }),
    options,
    period,
    h('button', { type: 'submit', class: 'primary' }, 'Publish'));
  const table = form.elements.namedItem('table');
  const showOptions = () => {
    const t = table.value;
    // The API names the period `starts` for time to missing (follow-ups starting in it).
    const p = periodName(t);
    replace(period,
      field(t === 'time-to-missing' ? 'Starting from' : 'From', `${p}.from`, { input: 'date' }),
      field(t === 'time-to-missing' ? 'Starting to' : 'To', `${p}.to`, { input: 'date' }));
    replace(options,
      t === 'missing' ? [field('Rows', 'by', { input: 'select', options: BY }), field('Population', 'cohort', { input: 'select', options: COHORTS })] : null,
      t === 'trend' ? field('Population', 'cohort', { input: 'select', options: COHORTS, value: 'nrm-children' }) : null,
      t === 'time-to-missing' ? [field('From', 'origin', { input: 'select', options: ORIGINS }), field('Groups', 'by', { input: 'select', options: GROUPS })] : null);
  };
  table.addEventListener('change', showOptions);
  showOptions();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = val(form, 'table');
    const body = { table: t };
    if (CHARTED.has(t)) body.chart = true;
    for (const k of ['by', 'cohort', 'origin']) {
      const v = val(form, k);
      if (v) body[k] = v;
    }
    const range = {};
    for (const k of ['from', 'to']) {
      const v = val(form, `${periodName(t)}.${k}`);
      if (v) range[k] = v;
    }
    if (Object.keys(range).length) body[periodName(t)] = range;
    replace(out, h('p', { class: 'muted' }, 'Computing… (the first table after start loads the register and can take a while)'));
    try {
      const report = await busy(form, () => api('POST', '/api/v1/statistics', { body }));
      replace(out, renderReport(report));
    } catch (e) {
      replace(out);
      showProblem(form, e);
    }
  });
  return { title: 'Statistics', el: h('div', {}, form, out) };
}

function periodName(table) {
  return table === 'time-to-missing' ? 'starts' : 'period';
}

export function renderReport(r) {
  return h('div', {},
    [...(r.tables || []), ...(r.grids || [])].some((t) => t.title === r.title) ? null : h('h2', {}, r.title),
    (r.charts || []).map(served),
    (r.tables || []).map((t) => h('section', { class: 'card' }, renderTable(t), (r.charts || []).length ? null : chart(t))),
    (r.grids || []).map((g) => h('section', { class: 'card' }, renderGrid(g))),
    (r.text || []).length ? h('div', { class: 'notes' }, r.text.map((x) => h('p', {}, x))) : null);
}

// A chart the API drew (an SVG document), shown as an image: an SVG in an <img> runs no script
// and loads nothing (the policy allows data: images only).
function served(c) {
  return h('figure', { class: 'card chart' },
    h('img', { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(c.svg)}`, alt: c.title }),
    h('figcaption', { class: 'muted' }, c.title));
}

// A cell as published: the count over its denominator ([c] where suppressed), then the
// proportion with its interval, or a rate.
function cell(c) {
  if (!c) return '';
  let base = c.suppressed ? '[c]' : String(c.count ?? '—');
  if (c.denominator !== null && c.denominator !== undefined) base += ` / ${c.denominator}`;
  else if (c.denominator_suppressed) base += ' / [c]';
  let second = null;
  if (c.proportion) {
    const p = c.proportion;
    second = `${percent(p.estimate)} (${(p.ci_low * 100).toFixed(1)}–${(p.ci_high * 100).toFixed(1)})`;
  } else if (c.rate !== undefined && c.rate !== null) {
    second = `${c.rate.toFixed(2)} each`;
  }
  return [h('span', { class: 'count' }, base), second ? h('span', { class: 'pct' }, second) : null];
}

function renderTable(t) {
  return [
    h('div', { class: 'scroll' }, h('table', { class: 'list stats' },
      h('caption', {}, t.title),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t.label_heading), t.columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, t.rows.map((row) => h('tr', {},
        h('th', { scope: 'row' }, row.label),
        t.columns.map((_, i) => {
          const c = row.cells[i];
          const sup = c && (c.suppressed || c.denominator_suppressed);
          return h('td', { class: sup ? 'n suppressed' : 'n', title: sup ? 'suppressed by disclosure control' : null }, cell(c));
        })))))),
    (t.notes || []).map((n) => h('p', { class: 'muted' }, `Note: ${n}`)),
  ];
}

function renderGrid(g) {
  return [
    h('div', { class: 'scroll' }, h('table', { class: 'list' },
      h('caption', {}, g.title),
      h('thead', {}, h('tr', {}, g.header.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, g.rows.map((row) => h('tr', {}, row.map((c) => h('td', {}, c))))))),
    (g.notes || []).map((n) => h('p', { class: 'muted' }, `Note: ${n}`)),
  ];
}

/**
 * A horizontal bar chart of the first column holding proportions: each row's estimate with its
 * confidence interval as a whisker; a suppressed cell is drawn as a labelled gap.
 */
export function chart(t) {
  const col = t.columns.findIndex((_, i) => t.rows.some((r) => r.cells[i] && r.cells[i].proportion));
  if (col < 0) return null;
  const rows = t.rows.map((r) => ({ label: r.label, cell: r.cells[col] }));
  const max = Math.max(0.01, ...rows.map((r) => (r.cell && r.cell.proportion ? r.cell.proportion.ci_high : 0)));
  const W = 640;
  const L = 170;
  const R = 70;
  const rowH = 22;
  const H = rows.length * rowH + 30;
  const x = (v) => L + (v / max) * (W - L - R);
  const ticks = [0, max / 2, max];
  return h('figure', { class: 'chart' },
    s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${t.title}: ${t.columns[col]} with 95% intervals` },
      ticks.map((v) => s('g', {},
        s('line', { x1: x(v), x2: x(v), y1: 0, y2: H - 22, class: 'grid' }),
        s('text', { x: x(v), y: H - 6, 'text-anchor': 'middle', class: 'num' }, percent(v, 0)))),
      rows.map((r, i) => {
        const y = i * rowH + 4;
        const p = r.cell && r.cell.proportion;
        return s('g', {},
          s('text', { x: L - 6, y: y + 13, 'text-anchor': 'end', class: 'lbl' }, r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label),
          p ? [
            s('rect', { x: L, y, width: Math.max(1, x(p.estimate) - L), height: rowH - 8, class: 'bar' }),
            s('line', { x1: x(p.ci_low), x2: x(p.ci_high), y1: y + (rowH - 8) / 2, y2: y + (rowH - 8) / 2, class: 'ci' }),
            s('text', { x: W - R + 6, y: y + 13, class: 'num' }, percent(p.estimate)),
          ] : s('text', { x: L + 4, y: y + 13, class: 'muted-svg' }, r.cell && r.cell.suppressed ? 'suppressed' : 'no proportion'));
      })),
    h('figcaption', { class: 'muted' }, `${t.columns[col]}: estimate and 95 % confidence interval.`));
}
