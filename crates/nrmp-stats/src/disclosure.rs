//! Statistical disclosure control for published tables of counts.
//!
//! ## Primary suppression
//! A cell is *primary*-suppressed when its count lies in the [`SuppressionRule`] range,
//! **1–5 inclusive by default**. Zero is *not* suppressed by default: a published zero tells
//! nobody anything about an individual, and suppressing zeros makes tables unreadable. If in a
//! given table a zero *is* disclosive (e.g. "no child in this council went missing" reveals an
//! attribute of every child), set `min = 0`. The rule is applied to margins (row, column and
//! grand totals) as well as interior cells, since a small total is as disclosive as a small
//! cell.
//!
//! ## Complementary (secondary) suppression
//! Margins are published, so a lone suppressed cell in a row can be recovered by subtraction.
//! The table with its margins is treated as a linear system — every row and column sums to its
//! total, and the totals sum to the grand total — and protection proceeds in two steps,
//! repeated until stable:
//!
//! 1. **line rule** — every row or column (including the margin row/column) that contains a
//!    suppressed cell must contain at least two; where it contains exactly one, the cheapest
//!    other cell on that line is suppressed;
//! 2. **exact-disclosure audit** — the line rule is necessary but not sufficient (two
//!    protected blocks joined by a single cell let that cell be recovered from sums of several
//!    rows and columns). Every suppressed cell is checked by Gaussian elimination for whether
//!    its value is *uniquely determined* by the published cells; if one is, the cheapest cell
//!    whose suppression makes it undetermined is added.
//!
//! "Cheapest" means, in order: an interior cell rather than a total, a non-zero cell rather
//! than a zero (zeros are often known structurally), then the smallest count. This is a
//! greedy heuristic — finding the minimum-loss suppression pattern is NP-hard — so the
//! pattern is protective but not necessarily minimal.
//!
//! [`protect_linked_tables`] protects two tables that share their row totals (e.g. the same
//! local authorities broken down by age in one table and by sex in another) *as one system*,
//! so the pair cannot be differenced to recover a cell, and a shared total suppressed in one is
//! suppressed in both.
//!
//! ## Publications of several tables
//! Tables published together can share figures in any pattern: cohort totals, year totals,
//! whole cells of overlapping periods. [`LinkedTables`] is the general suppression plan over
//! such a set: each table is a [`FigureSystem`] (figures + identities), and each shared
//! figure is declared with [`LinkedTables::link`]. The set is protected as one system and
//! audited as one ([`LinkedTables::recoverable`]), so no suppressed figure can be recovered by
//! differencing two tables. The audit eliminates one connected component of suppressed
//! figures at a time, so a publication of many loosely linked tables costs little more than
//! its tables one by one; tables that share nothing are independent blocks whose suppression
//! does not depend on each other.
//!
//! **Limitations:** only *exact* recovery is prevented. Bounds implied by non-negativity
//! (interval disclosure) are not computed; use rounding ([`round_to_base`]) in addition where
//! narrow intervals would matter.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StatsError};

/// Which counts are primary-suppressed: those with `min ≤ count ≤ max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressionRule {
    /// Smallest suppressed count (default 1; set 0 to suppress zeros).
    pub min: u64,
    /// Largest suppressed count (default 5).
    pub max: u64,
}

impl Default for SuppressionRule {
    fn default() -> Self {
        Self { min: 1, max: 5 }
    }
}

impl SuppressionRule {
    /// Rule suppressing `min..=max`.
    ///
    /// # Errors
    /// [`StatsError::InvalidInput`] if `min > max`.
    pub fn new(min: u64, max: u64) -> Result<Self> {
        if min > max {
            return Err(StatsError::InvalidInput(format!(
                "suppression range {min}..={max} is empty"
            )));
        }
        Ok(Self { min, max })
    }

    /// Whether `count` is primary-suppressed under this rule.
    pub fn is_primary(&self, count: u64) -> bool {
        (self.min..=self.max).contains(&count)
    }
}

/// `(row, col)` positions of interior cells.
pub type CellList = Vec<(usize, usize)>;

/// Publication status of one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CellStatus {
    /// Value may be published.
    Published,
    /// Suppressed because the count itself is small.
    Primary,
    /// Suppressed to protect another cell.
    Secondary,
}

impl CellStatus {
    /// `true` for [`CellStatus::Primary`] and [`CellStatus::Secondary`].
    pub fn is_suppressed(self) -> bool {
        self != Self::Published
    }
}

/// A 2-D table of counts with margins and the publication status of every cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtectedTable {
    /// Interior counts, `values[row][col]`.
    pub values: Vec<Vec<u64>>,
    /// Row totals.
    pub row_totals: Vec<u64>,
    /// Column totals.
    pub col_totals: Vec<u64>,
    /// Grand total.
    pub grand_total: u64,
    /// Status of each interior cell.
    pub status: Vec<Vec<CellStatus>>,
    /// Status of each row total.
    pub row_total_status: Vec<CellStatus>,
    /// Status of each column total.
    pub col_total_status: Vec<CellStatus>,
    /// Status of the grand total.
    pub grand_total_status: CellStatus,
}

impl ProtectedTable {
    /// The interior value if it may be published.
    pub fn published(&self, row: usize, col: usize) -> Option<u64> {
        let st = self.status.get(row)?.get(col)?;
        (!st.is_suppressed()).then(|| self.values[row][col])
    }

    /// Number of suppressed cells (interior and margins), split `(primary, secondary)`.
    pub fn suppressed_counts(&self) -> (usize, usize) {
        let all = self
            .status
            .iter()
            .flatten()
            .chain(&self.row_total_status)
            .chain(&self.col_total_status)
            .chain(std::iter::once(&self.grand_total_status));
        all.fold((0, 0), |(p, s), st| match st {
            CellStatus::Primary => (p + 1, s),
            CellStatus::Secondary => (p, s + 1),
            CellStatus::Published => (p, s),
        })
    }
}

/// Rounds `value` to the nearest multiple of `base` (halves round up), e.g. base 5.
/// `base` 0 or 1 returns `value` unchanged.
pub fn round_to_base(value: u64, base: u64) -> u64 {
    if base <= 1 {
        return value;
    }
    let r = value % base;
    if r * 2 >= base {
        value - r + base
    } else {
        value - r
    }
}

/// A table (or set of linked tables) as a linear system `Σ coef · cell = 0`.
struct System {
    values: Vec<u64>,
    is_margin: Vec<bool>,
    status: Vec<CellStatus>,
    equations: Vec<Vec<(usize, f64)>>,
}

impl System {
    fn cost(&self, i: usize) -> (bool, bool, u64, usize) {
        (self.is_margin[i], self.values[i] == 0, self.values[i], i)
    }

    fn suppressed(&self, i: usize) -> bool {
        self.status[i].is_suppressed()
    }

    /// Suppressed cells whose value is uniquely determined by the published ones, ascending.
    fn disclosed(&self, by_cell: &[Vec<usize>]) -> Vec<usize> {
        disclosed_by_component(&self.equations, by_cell, &self.status)
    }

    fn protect(&mut self) -> Result<()> {
        let n = self.values.len();
        let by_cell = cell_equations(&self.equations, n);
        for _ in 0..=n {
            // 1. line rule
            let lone = self.equations.iter().enumerate().find_map(|(k, eq)| {
                let mut sup = eq.iter().filter(|(i, _)| self.suppressed(*i));
                (sup.next().is_some() && sup.next().is_none()).then_some((k, eq))
            });
            if let Some((e_idx, eq)) = lone {
                // Prefer a complement whose other lines already hold a suppressed cell, so
                // that it does not itself create a new lone suppression.
                let creates_lone = |i: usize| {
                    by_cell[i].iter().any(|k| {
                        *k != e_idx && !self.equations[*k].iter().any(|(j, _)| self.suppressed(*j))
                    })
                };
                let pick = eq
                    .iter()
                    .map(|(i, _)| *i)
                    .filter(|i| !self.suppressed(*i))
                    .min_by_key(|i| {
                        let (margin, zero, value, idx) = self.cost(*i);
                        (margin, creates_lone(*i), zero, value, idx)
                    });
                match pick {
                    Some(i) => {
                        self.status[i] = CellStatus::Secondary;
                        continue;
                    }
                    None => {
                        return Err(StatsError::InvalidInput(
                            "a line has a single cell; it cannot be protected".into(),
                        ));
                    }
                }
            }
            // 2. exact-disclosure audit
            let disclosed = self.disclosed(&by_cell);
            let Some(&target) = disclosed.first() else {
                return Ok(());
            };
            // Only a published cell that shares an equation with the target's component can
            // change whether the target is determined.
            let (component, _) = component_of(&self.equations, &by_cell, &self.status, target);
            let mut near = vec![false; n];
            for u in &component {
                for k in &by_cell[*u] {
                    for (j, _) in &self.equations[*k] {
                        near[*j] = !self.suppressed(*j);
                    }
                }
            }
            let mut candidates: Vec<usize> = (0..n).filter(|i| near[*i]).collect();
            candidates.sort_by_key(|i| self.cost(*i));
            let mut fixed = false;
            for c in candidates {
                self.status[c] = CellStatus::Secondary;
                if !is_disclosed(&self.equations, &by_cell, &self.status, target) {
                    fixed = true;
                    break;
                }
                self.status[c] = CellStatus::Published;
            }
            if !fixed {
                return Err(StatsError::InvalidInput(
                    "no complementary suppression protects the table".into(),
                ));
            }
        }
        Err(StatsError::NoConvergence {
            iterations: n,
            detail: "complementary suppression".into(),
        })
    }
}

/// For each cell, the equations it appears in.
fn cell_equations(equations: &[Vec<(usize, f64)>], n: usize) -> Vec<Vec<usize>> {
    let mut by_cell = vec![Vec::new(); n];
    for (k, eq) in equations.iter().enumerate() {
        for (i, _) in eq {
            if by_cell[*i].last() != Some(&k) {
                by_cell[*i].push(k);
            }
        }
    }
    by_cell
}

/// The suppressed cells connected to the suppressed cell `start` through equations, and
/// those equations: whether a cell is determined depends on its component only.
fn component_of(
    equations: &[Vec<(usize, f64)>],
    by_cell: &[Vec<usize>],
    status: &[CellStatus],
    start: usize,
) -> (Vec<usize>, Vec<usize>) {
    let mut seen_cell = std::collections::HashSet::from([start]);
    let mut seen_eq = std::collections::HashSet::new();
    let mut cells = vec![start];
    let mut eqs = Vec::new();
    let mut next = 0;
    while next < cells.len() {
        let u = cells[next];
        next += 1;
        for k in &by_cell[u] {
            if !seen_eq.insert(*k) {
                continue;
            }
            eqs.push(*k);
            for (j, _) in &equations[*k] {
                if status[*j].is_suppressed() && seen_cell.insert(*j) {
                    cells.push(*j);
                }
            }
        }
    }
    cells.sort_unstable();
    eqs.sort_unstable();
    (cells, eqs)
}

/// Whether the suppressed cell `target` is determined by the published cells.
fn is_disclosed(
    equations: &[Vec<(usize, f64)>],
    by_cell: &[Vec<usize>],
    status: &[CellStatus],
    target: usize,
) -> bool {
    let (cells, eqs) = component_of(equations, by_cell, status, target);
    let sub: Vec<&Vec<(usize, f64)>> = eqs.iter().map(|k| &equations[*k]).collect();
    determined(&sub, &cells, status.len()).contains(&target)
}

/// [`disclosed_unknowns`], one connected component of suppressed cells at a time (the same
/// answer; far less work when a publication is many loosely linked tables). Ascending.
fn disclosed_by_component(
    equations: &[Vec<(usize, f64)>],
    by_cell: &[Vec<usize>],
    status: &[CellStatus],
) -> Vec<usize> {
    let mut done = vec![false; status.len()];
    let mut out = Vec::new();
    for u in 0..status.len() {
        if done[u] || !status[u].is_suppressed() {
            continue;
        }
        let (cells, eqs) = component_of(equations, by_cell, status, u);
        for c in &cells {
            done[*c] = true;
        }
        let sub: Vec<&Vec<(usize, f64)>> = eqs.iter().map(|k| &equations[*k]).collect();
        out.extend(determined(&sub, &cells, status.len()));
    }
    out.sort_unstable();
    out
}

/// Indices of suppressed cells uniquely determined by the equations (reduced row echelon form
/// over the suppressed cells; a pivot variable is determined iff its row has no free entries).
fn disclosed_unknowns(equations: &[Vec<(usize, f64)>], status: &[CellStatus]) -> Vec<usize> {
    let unknowns: Vec<usize> = (0..status.len())
        .filter(|i| status[*i].is_suppressed())
        .collect();
    let all: Vec<&Vec<(usize, f64)>> = equations.iter().collect();
    determined(&all, &unknowns, status.len())
}

/// The cells of `unknowns` (ascending) that `equations` determine; every other cell the
/// equations name is known.
fn determined(equations: &[&Vec<(usize, f64)>], unknowns: &[usize], n: usize) -> Vec<usize> {
    let k = unknowns.len();
    if k == 0 {
        return Vec::new();
    }
    let mut col_of = vec![usize::MAX; n];
    for (c, u) in unknowns.iter().enumerate() {
        col_of[*u] = c;
    }
    let mut m: Vec<Vec<f64>> = equations
        .iter()
        .map(|eq| {
            let mut row = vec![0.0; k];
            for (i, coef) in eq.iter() {
                if col_of[*i] != usize::MAX {
                    row[col_of[*i]] += coef;
                }
            }
            row
        })
        .filter(|r| r.iter().any(|v| *v != 0.0))
        .collect();
    const EPS: f64 = 1e-9;
    let mut pivots: Vec<(usize, usize)> = Vec::new(); // (row, col)
    let mut r = 0;
    for c in 0..k {
        if r >= m.len() {
            break;
        }
        let Some(pr) = (r..m.len())
            .filter(|i| m[*i][c].abs() > EPS)
            .max_by(|a, b| m[*a][c].abs().total_cmp(&m[*b][c].abs()))
        else {
            continue;
        };
        m.swap(r, pr);
        let p = m[r][c];
        for v in m[r].iter_mut() {
            *v /= p;
        }
        for i in 0..m.len() {
            if i != r && m[i][c].abs() > EPS {
                let f = m[i][c];
                for j in 0..k {
                    m[i][j] -= f * m[r][j];
                }
            }
        }
        pivots.push((r, c));
        r += 1;
    }
    let is_pivot: Vec<bool> = {
        let mut v = vec![false; k];
        for (_, c) in &pivots {
            v[*c] = true;
        }
        v
    };
    pivots
        .iter()
        .filter(|(row, _)| (0..k).all(|j| is_pivot[j] || m[*row][j].abs() <= EPS))
        .map(|(_, c)| unknowns[*c])
        .collect()
}

fn validate_rect(values: &[Vec<u64>], what: &'static str) -> Result<(usize, usize)> {
    let r = values.len();
    let c = values.first().map_or(0, Vec::len);
    if r == 0 || c == 0 {
        return Err(StatsError::Empty);
    }
    if let Some(bad) = values.iter().find(|row| row.len() != c) {
        return Err(StatsError::LengthMismatch {
            what,
            got: bad.len(),
            expected: c,
        });
    }
    Ok((r, c))
}

/// Cell layout of one table inside a [`System`].
struct Layout {
    interior: Vec<Vec<usize>>,
    row_totals: Vec<usize>,
    col_totals: Vec<usize>,
    grand: usize,
}

/// Adds a table to the system, reusing `shared_rows` (row totals + grand total) if given.
fn add_table(sys: &mut System, values: &[Vec<u64>], shared: Option<(&[usize], usize)>) -> Layout {
    let push = |sys: &mut System, v: u64, margin: bool| {
        sys.values.push(v);
        sys.is_margin.push(margin);
        sys.status.push(CellStatus::Published);
        sys.values.len() - 1
    };
    let interior: Vec<Vec<usize>> = values
        .iter()
        .map(|row| row.iter().map(|v| push(sys, *v, false)).collect())
        .collect();
    let (row_totals, grand) = match shared {
        Some((rt, g)) => (rt.to_vec(), g),
        None => {
            let rt: Vec<usize> = values
                .iter()
                .map(|row| push(sys, row.iter().sum(), true))
                .collect();
            let g = push(sys, values.iter().flatten().sum(), true);
            (rt, g)
        }
    };
    let ncol = values[0].len();
    let col_totals: Vec<usize> = (0..ncol)
        .map(|c| push(sys, values.iter().map(|r| r[c]).sum(), true))
        .collect();
    for (r, row) in interior.iter().enumerate() {
        let mut eq: Vec<(usize, f64)> = row.iter().map(|i| (*i, 1.0)).collect();
        eq.push((row_totals[r], -1.0));
        sys.equations.push(eq);
    }
    for (c, ct) in col_totals.iter().enumerate() {
        let mut eq: Vec<(usize, f64)> = interior.iter().map(|row| (row[c], 1.0)).collect();
        eq.push((*ct, -1.0));
        sys.equations.push(eq);
    }
    let mut eq: Vec<(usize, f64)> = col_totals.iter().map(|i| (*i, 1.0)).collect();
    eq.push((grand, -1.0));
    sys.equations.push(eq);
    if shared.is_none() {
        let mut eq: Vec<(usize, f64)> = row_totals.iter().map(|i| (*i, 1.0)).collect();
        eq.push((grand, -1.0));
        sys.equations.push(eq);
    }
    Layout {
        interior,
        row_totals,
        col_totals,
        grand,
    }
}

fn extract(sys: &System, layout: &Layout) -> ProtectedTable {
    ProtectedTable {
        values: layout
            .interior
            .iter()
            .map(|r| r.iter().map(|i| sys.values[*i]).collect())
            .collect(),
        row_totals: layout.row_totals.iter().map(|i| sys.values[*i]).collect(),
        col_totals: layout.col_totals.iter().map(|i| sys.values[*i]).collect(),
        grand_total: sys.values[layout.grand],
        status: layout
            .interior
            .iter()
            .map(|r| r.iter().map(|i| sys.status[*i]).collect())
            .collect(),
        row_total_status: layout.row_totals.iter().map(|i| sys.status[*i]).collect(),
        col_total_status: layout.col_totals.iter().map(|i| sys.status[*i]).collect(),
        grand_total_status: sys.status[layout.grand],
    }
}

fn apply_primary(sys: &mut System, rule: &SuppressionRule) {
    for i in 0..sys.values.len() {
        if rule.is_primary(sys.values[i]) {
            sys.status[i] = CellStatus::Primary;
        }
    }
}

fn empty_system() -> System {
    System {
        values: Vec::new(),
        is_margin: Vec::new(),
        status: Vec::new(),
        equations: Vec::new(),
    }
}

/// Primary and complementary suppression of a 2-D table whose margins will be published.
///
/// # Errors
/// [`StatsError::Empty`] / [`StatsError::LengthMismatch`] for a ragged or empty table.
pub fn protect_table(values: &[Vec<u64>], rule: &SuppressionRule) -> Result<ProtectedTable> {
    validate_rect(values, "table row")?;
    let mut sys = empty_system();
    let layout = add_table(&mut sys, values, None);
    apply_primary(&mut sys, rule);
    sys.protect()?;
    Ok(extract(&sys, &layout))
}

/// Protects two tables with the same rows (and therefore the same row totals and grand
/// total) jointly, so that neither can be combined with the other to recover a cell.
///
/// # Errors
/// As [`protect_table`], plus [`StatsError::InvalidInput`] if the row totals differ.
pub fn protect_linked_tables(
    a: &[Vec<u64>],
    b: &[Vec<u64>],
    rule: &SuppressionRule,
) -> Result<(ProtectedTable, ProtectedTable)> {
    let (ra, _) = validate_rect(a, "first table row")?;
    let (rb, _) = validate_rect(b, "second table row")?;
    let totals = |t: &[Vec<u64>]| t.iter().map(|r| r.iter().sum::<u64>()).collect::<Vec<_>>();
    if ra != rb || totals(a) != totals(b) {
        return Err(StatsError::InvalidInput(
            "linked tables must have identical row totals".into(),
        ));
    }
    let mut sys = empty_system();
    let la = add_table(&mut sys, a, None);
    let lb = add_table(&mut sys, b, Some((&la.row_totals, la.grand)));
    apply_primary(&mut sys, rule);
    sys.protect()?;
    Ok((extract(&sys, &la), extract(&sys, &lb)))
}

/// Protects an arbitrary set of published figures linked by additive identities — the
/// general form behind [`protect_table`], for publications that are not a plain 2-D table
/// (e.g. per row: *at risk = went missing + did not*, *went missing = once + more than
/// once*, plus column totals). `values[i]` is figure `i`; `is_margin[i]` marks totals (kept
/// published in preference to interior figures); each equation is a list of
/// `(figure, coefficient)` whose weighted sum is zero. Figures that are implied but not
/// printed (a complement such as "did not go missing") must be included as figures too: they
/// are primary-suppressed when small, because publishing "all but 2" discloses as much as "2".
///
/// Returns the status of every figure; no suppressed figure is determined by the published
/// ones (audited by Gaussian elimination, as for tables).
///
/// # Errors
/// [`StatsError::LengthMismatch`] if `is_margin` and `values` differ in length,
/// [`StatsError::InvalidInput`] for an equation naming a figure out of range, or as
/// [`protect_table`].
pub fn protect_cells(
    values: &[u64],
    is_margin: &[bool],
    equations: &[Vec<(usize, f64)>],
    rule: &SuppressionRule,
) -> Result<Vec<CellStatus>> {
    if is_margin.len() != values.len() {
        return Err(StatsError::LengthMismatch {
            what: "is_margin",
            got: is_margin.len(),
            expected: values.len(),
        });
    }
    if equations
        .iter()
        .flatten()
        .any(|(i, c)| *i >= values.len() || !c.is_finite())
    {
        return Err(StatsError::InvalidInput(
            "equation names a figure out of range".into(),
        ));
    }
    let mut sys = System {
        values: values.to_vec(),
        is_margin: is_margin.to_vec(),
        status: vec![CellStatus::Published; values.len()],
        equations: equations.to_vec(),
    };
    apply_primary(&mut sys, rule);
    sys.protect()?;
    Ok(sys.status)
}

/// Audit for [`protect_cells`]: indices of suppressed figures that the published ones
/// determine exactly.
pub fn recoverable_figures(equations: &[Vec<(usize, f64)>], status: &[CellStatus]) -> Vec<usize> {
    disclosed_unknowns(equations, status)
}

/// Protects any number of tables that share their row totals (and grand total) as one
/// system — the generalisation of [`protect_linked_tables`] used for a breakdown published
/// with several measures over the same denominators (e.g. "went missing / not",
/// "missing more than once / not", "never found / not", each by local authority).
///
/// # Errors
/// [`StatsError::Empty`] for no tables; otherwise as [`protect_linked_tables`].
pub fn protect_table_group(
    tables: &[Vec<Vec<u64>>],
    rule: &SuppressionRule,
) -> Result<Vec<ProtectedTable>> {
    let first = tables.first().ok_or(StatsError::Empty)?;
    let (rows, _) = validate_rect(first, "table row")?;
    let totals = |t: &[Vec<u64>]| t.iter().map(|r| r.iter().sum::<u64>()).collect::<Vec<_>>();
    let want = totals(first);
    for t in &tables[1..] {
        let (r, _) = validate_rect(t, "linked table row")?;
        if r != rows || totals(t) != want {
            return Err(StatsError::InvalidInput(
                "linked tables must have identical row totals".into(),
            ));
        }
    }
    let mut sys = empty_system();
    let l0 = add_table(&mut sys, first, None);
    let shared_rows = l0.row_totals.clone();
    let shared_grand = l0.grand;
    let mut layouts = vec![l0];
    for t in &tables[1..] {
        layouts.push(add_table(&mut sys, t, Some((&shared_rows, shared_grand))));
    }
    apply_primary(&mut sys, rule);
    sys.protect()?;
    Ok(layouts.iter().map(|l| extract(&sys, l)).collect())
}

/// One table of a [`LinkedTables`] set: its figures and the additive identities between
/// them, as for [`protect_cells`] (indices local to the table).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FigureSystem {
    /// The figures.
    pub values: Vec<u64>,
    /// Which figures are totals (published in preference to interior figures).
    pub is_margin: Vec<bool>,
    /// Identities: `(figure, coefficient)` lists whose weighted sum is zero.
    pub equations: Vec<Vec<(usize, f64)>>,
}

/// Where the cells of a 2-D table are in its [`FigureSystem::grid`]: interior cells row by
/// row, then the row totals, the column totals and the grand total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridLayout {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

impl GridLayout {
    /// Interior cell `(r, c)`.
    pub fn cell(&self, r: usize, c: usize) -> usize {
        r * self.cols + c
    }
    /// Total of row `r`.
    pub fn row_total(&self, r: usize) -> usize {
        self.rows * self.cols + r
    }
    /// Total of column `c`.
    pub fn col_total(&self, c: usize) -> usize {
        self.rows * self.cols + self.rows + c
    }
    /// The grand total.
    pub fn grand(&self) -> usize {
        self.rows * self.cols + self.rows + self.cols
    }
}

impl FigureSystem {
    /// A 2-D table with its row, column and grand totals.
    ///
    /// # Errors
    /// [`StatsError::Empty`] / [`StatsError::LengthMismatch`] for an empty or ragged table.
    pub fn grid(values: &[Vec<u64>]) -> Result<(Self, GridLayout)> {
        let (rows, cols) = validate_rect(values, "table row")?;
        let l = GridLayout { rows, cols };
        let mut fs = FigureSystem::default();
        fs.values.extend(values.iter().flatten());
        fs.values
            .extend(values.iter().map(|r| r.iter().sum::<u64>()));
        fs.values
            .extend((0..cols).map(|c| values.iter().map(|r| r[c]).sum::<u64>()));
        fs.values.push(values.iter().flatten().sum());
        fs.is_margin = (0..fs.values.len()).map(|i| i >= rows * cols).collect();
        for r in 0..rows {
            let mut eq: Vec<(usize, f64)> = (0..cols).map(|c| (l.cell(r, c), 1.0)).collect();
            eq.push((l.row_total(r), -1.0));
            fs.equations.push(eq);
        }
        for c in 0..cols {
            let mut eq: Vec<(usize, f64)> = (0..rows).map(|r| (l.cell(r, c), 1.0)).collect();
            eq.push((l.col_total(c), -1.0));
            fs.equations.push(eq);
        }
        let mut eq: Vec<(usize, f64)> = (0..rows).map(|r| (l.row_total(r), 1.0)).collect();
        eq.push((l.grand(), -1.0));
        fs.equations.push(eq);
        let mut eq: Vec<(usize, f64)> = (0..cols).map(|c| (l.col_total(c), 1.0)).collect();
        eq.push((l.grand(), -1.0));
        fs.equations.push(eq);
        Ok((fs, l))
    }
}

/// A figure of a [`LinkedTables`] set: `(table, figure)`.
pub type FigureRef = (usize, usize);

/// A set of tables published together that share figures — the same year totals in a table
/// by police force × year and one by local authority × year; the same cohort totals in tables
/// of one cohort by nationality and by age band. Suppressing each table on its own is not
/// enough: a total that one table suppresses (to protect one of its cells) and another
/// publishes gives that cell back by differencing. A `LinkedTables` is protected as **one
/// system** ([`LinkedTables::protect`]): every table's identities plus `a = b` for each linked
/// pair, so a shared figure has one status everywhere and no suppressed figure is determined
/// by everything published in the set ([`LinkedTables::recoverable`] audits that).
///
/// Tables that share nothing are independent blocks of the system: adding one to a set does
/// not change the others' suppression.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkedTables {
    tables: Vec<FigureSystem>,
    links: Vec<(FigureRef, FigureRef)>,
}

impl LinkedTables {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tables, in the order added.
    pub fn tables(&self) -> &[FigureSystem] {
        &self.tables
    }

    /// Adds a table; returns its index.
    ///
    /// # Errors
    /// [`StatsError::LengthMismatch`] if `is_margin` and `values` differ in length,
    /// [`StatsError::InvalidInput`] for an equation naming a figure out of range.
    pub fn add(&mut self, table: FigureSystem) -> Result<usize> {
        if table.is_margin.len() != table.values.len() {
            return Err(StatsError::LengthMismatch {
                what: "is_margin",
                got: table.is_margin.len(),
                expected: table.values.len(),
            });
        }
        if table
            .equations
            .iter()
            .flatten()
            .any(|(i, c)| *i >= table.values.len() || !c.is_finite())
        {
            return Err(StatsError::InvalidInput(
                "equation names a figure out of range".into(),
            ));
        }
        self.tables.push(table);
        Ok(self.tables.len() - 1)
    }

    /// Declares that figure `a` and figure `b` are the same quantity.
    ///
    /// # Errors
    /// [`StatsError::InvalidInput`] if either is out of range or their values differ.
    pub fn link(&mut self, a: FigureRef, b: FigureRef) -> Result<()> {
        let value = |(t, i): FigureRef| self.tables.get(t).and_then(|x| x.values.get(i)).copied();
        match (value(a), value(b)) {
            (Some(x), Some(y)) if x == y => {
                self.links.push((a, b));
                Ok(())
            }
            (Some(x), Some(y)) => Err(StatsError::InvalidInput(format!(
                "linked figures differ: {a:?} is {x}, {b:?} is {y}"
            ))),
            _ => Err(StatsError::InvalidInput(format!(
                "link names a figure out of range: {a:?} – {b:?}"
            ))),
        }
    }

    fn offsets(&self) -> Vec<usize> {
        let mut off = vec![0];
        for t in &self.tables {
            off.push(off[off.len() - 1] + t.values.len());
        }
        off
    }

    fn system(&self) -> System {
        let off = self.offsets();
        let mut sys = empty_system();
        for (t, fs) in self.tables.iter().enumerate() {
            sys.values.extend(&fs.values);
            sys.is_margin.extend(&fs.is_margin);
            sys.equations.extend(
                fs.equations
                    .iter()
                    .map(|eq| eq.iter().map(|(i, c)| (off[t] + i, *c)).collect()),
            );
        }
        sys.status = vec![CellStatus::Published; sys.values.len()];
        for ((ta, ia), (tb, ib)) in &self.links {
            sys.equations
                .push(vec![(off[*ta] + ia, 1.0), (off[*tb] + ib, -1.0)]);
        }
        sys
    }

    fn split(&self, status: &[CellStatus]) -> Vec<Vec<CellStatus>> {
        let off = self.offsets();
        (0..self.tables.len())
            .map(|t| status[off[t]..off[t + 1]].to_vec())
            .collect()
    }

    /// The joint suppression plan: primary suppression under `rule` in every table, then
    /// complementary suppression over the whole set until no suppressed figure is determined
    /// by the published ones. One status vector per table.
    ///
    /// # Errors
    /// As [`protect_cells`].
    pub fn protect(&self, rule: &SuppressionRule) -> Result<Vec<Vec<CellStatus>>> {
        let mut sys = self.system();
        apply_primary(&mut sys, rule);
        sys.protect()?;
        Ok(self.split(&sys.status))
    }

    /// Each table protected on its own, ignoring the links (what publishing the tables one at
    /// a time would do) — to compare with [`LinkedTables::protect`].
    ///
    /// # Errors
    /// As [`protect_cells`].
    pub fn protect_each(&self, rule: &SuppressionRule) -> Result<Vec<Vec<CellStatus>>> {
        self.tables
            .iter()
            .map(|t| protect_cells(&t.values, &t.is_margin, &t.equations, rule))
            .collect()
    }

    /// Audit of a set of statuses (one vector per table): the suppressed figures that
    /// everything published in the set determines exactly, through the tables' identities
    /// and the links.
    ///
    /// # Errors
    /// [`StatsError::LengthMismatch`] if the statuses do not match the tables.
    pub fn recoverable(&self, status: &[Vec<CellStatus>]) -> Result<Vec<FigureRef>> {
        if status.len() != self.tables.len() {
            return Err(StatsError::LengthMismatch {
                what: "status tables",
                got: status.len(),
                expected: self.tables.len(),
            });
        }
        for (t, st) in self.tables.iter().zip(status) {
            if st.len() != t.values.len() {
                return Err(StatsError::LengthMismatch {
                    what: "status figures",
                    got: st.len(),
                    expected: t.values.len(),
                });
            }
        }
        let sys = self.system();
        let flat: Vec<CellStatus> = status.iter().flatten().copied().collect();
        let by_cell = cell_equations(&sys.equations, flat.len());
        let off = self.offsets();
        Ok(disclosed_by_component(&sys.equations, &by_cell, &flat)
            .into_iter()
            .map(|i| {
                let t = off.partition_point(|o| *o <= i) - 1;
                (t, i - off[t])
            })
            .collect())
    }
}

/// Audit: the interior cells `(row, col)` of a protected table whose suppressed value can be
/// recovered exactly from the published cells and margins. Empty for any output of
/// [`protect_table`]; useful to check hand-edited suppression patterns.
pub fn recoverable_cells(table: &ProtectedTable) -> Vec<(usize, usize)> {
    let mut sys = empty_system();
    let layout = add_table(&mut sys, &table.values, None);
    set_status(&mut sys, &layout, table, true);
    interior_hits(&layout, &disclosed_unknowns(&sys.equations, &sys.status))
}

fn set_status(sys: &mut System, layout: &Layout, t: &ProtectedTable, margins: bool) {
    for (r, row) in layout.interior.iter().enumerate() {
        for (c, i) in row.iter().enumerate() {
            sys.status[*i] = t
                .status
                .get(r)
                .and_then(|s| s.get(c))
                .copied()
                .unwrap_or(CellStatus::Published);
        }
    }
    for (c, i) in layout.col_totals.iter().enumerate() {
        sys.status[*i] = t
            .col_total_status
            .get(c)
            .copied()
            .unwrap_or(CellStatus::Published);
    }
    if margins {
        for (r, i) in layout.row_totals.iter().enumerate() {
            sys.status[*i] = t
                .row_total_status
                .get(r)
                .copied()
                .unwrap_or(CellStatus::Published);
        }
        sys.status[layout.grand] = t.grand_total_status;
    }
}

fn interior_hits(layout: &Layout, disclosed: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (r, row) in layout.interior.iter().enumerate() {
        for (c, i) in row.iter().enumerate() {
            if disclosed.contains(i) {
                out.push((r, c));
            }
        }
    }
    out
}

/// Audit for a pair of tables sharing row totals: the interior cells of each whose value can
/// be recovered from *both* publications together. A shared total counts as published if
/// either table publishes it.
///
/// # Errors
/// [`StatsError::InvalidInput`] if the tables do not share row totals.
pub fn recoverable_cells_linked(
    a: &ProtectedTable,
    b: &ProtectedTable,
) -> Result<(CellList, CellList)> {
    if a.row_totals != b.row_totals || a.values.is_empty() || b.values.is_empty() {
        return Err(StatsError::InvalidInput(
            "linked tables must have identical row totals".into(),
        ));
    }
    let mut sys = empty_system();
    let la = add_table(&mut sys, &a.values, None);
    let lb = add_table(&mut sys, &b.values, Some((&la.row_totals, la.grand)));
    set_status(&mut sys, &la, a, true);
    set_status(&mut sys, &lb, b, false);
    let both = |x: CellStatus, y: CellStatus| {
        if x.is_suppressed() && y.is_suppressed() {
            x
        } else {
            CellStatus::Published
        }
    };
    for (r, i) in la.row_totals.iter().enumerate() {
        sys.status[*i] = both(a.row_total_status[r], b.row_total_status[r]);
    }
    sys.status[la.grand] = both(a.grand_total_status, b.grand_total_status);
    let disclosed = disclosed_unknowns(&sys.equations, &sys.status);
    Ok((
        interior_hits(&la, &disclosed),
        interior_hits(&lb, &disclosed),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use CellStatus::{Primary, Published, Secondary};

    /// Every line (row/column incl. margins) has 0 or ≥ 2 suppressed cells.
    fn line_rule_holds(t: &ProtectedTable) -> bool {
        let rows_ok = t.status.iter().zip(&t.row_total_status).all(|(row, rt)| {
            let k = row
                .iter()
                .chain(std::iter::once(rt))
                .filter(|s| s.is_suppressed())
                .count();
            k != 1
        });
        let cols_ok = (0..t.col_totals.len()).all(|c| {
            let k = t
                .status
                .iter()
                .map(|r| r[c])
                .chain(std::iter::once(t.col_total_status[c]))
                .filter(|s| s.is_suppressed())
                .count();
            k != 1
        });
        rows_ok && cols_ok
    }

    #[test]
    fn rule_defaults_and_rounding() {
        let r = SuppressionRule::default();
        assert!(!r.is_primary(0) && r.is_primary(1) && r.is_primary(5) && !r.is_primary(6));
        assert!(SuppressionRule::new(0, 5).unwrap().is_primary(0));
        assert!(SuppressionRule::new(6, 5).is_err());
        assert_eq!(round_to_base(12, 5), 10);
        assert_eq!(round_to_base(13, 5), 15);
        assert_eq!(round_to_base(15, 5), 15);
        assert_eq!(round_to_base(7, 0), 7);
        assert_eq!(round_to_base(5, 10), 10);
    }

    #[test]
    fn single_small_cell_gets_smallest_complements() {
        let t = vec![vec![20, 3, 40], vec![15, 30, 9], vec![25, 12, 50]];
        let p = protect_table(&t, &SuppressionRule::default()).unwrap();
        assert_eq!(p.status[0][1], Primary);
        // row 0: the smallest other cell is 20 (col 0); then a rectangle is closed with
        // three complements in total (the minimum possible for one primary cell)
        assert_eq!(p.status[0][0], Secondary);
        assert_eq!(p.suppressed_counts(), (1, 3));
        assert!(p.row_total_status.iter().all(|s| *s == Published));
        assert!(line_rule_holds(&p));
        assert!(recoverable_cells(&p).is_empty());
        assert_eq!(p.published(2, 2), Some(50));
        assert_eq!(p.published(0, 1), None);
        assert_eq!(p.grand_total_status, Published);
    }

    #[test]
    fn zero_not_suppressed_by_default_and_not_preferred_as_complement() {
        let t = vec![vec![0, 2, 30], vec![40, 50, 60]];
        let p = protect_table(&t, &SuppressionRule::default()).unwrap();
        assert_eq!(p.status[0][0], Published);
        assert_eq!(
            p.status[0][2], Secondary,
            "non-zero 30 preferred over the zero"
        );
        assert!(recoverable_cells(&p).is_empty());
        let z = protect_table(&t, &SuppressionRule::new(0, 5).unwrap()).unwrap();
        assert_eq!(z.status[0][0], Primary);
    }

    #[test]
    fn bridge_between_two_blocks_is_caught_by_the_audit() {
        // Hand-made pattern satisfying the line rule but leaking the bridge cell (1,2):
        // block A = rows 0,1 × cols 0,1; block B = rows 2,3 × cols 2,3; bridge (1,2).
        let vals = vec![vec![10u64; 5]; 5];
        let mut status = vec![vec![Published; 5]; 5];
        for (r, c) in [
            (0, 0),
            (0, 1),
            (1, 0),
            (1, 1),
            (2, 2),
            (2, 3),
            (3, 2),
            (3, 3),
            (1, 2),
        ] {
            status[r][c] = Secondary;
        }
        let table = ProtectedTable {
            row_totals: vec![50; 5],
            col_totals: vec![50; 5],
            grand_total: 250,
            values: vals,
            status,
            row_total_status: vec![Published; 5],
            col_total_status: vec![Published; 5],
            grand_total_status: Published,
        };
        assert!(line_rule_holds(&table));
        assert_eq!(recoverable_cells(&table), vec![(1, 2)]);
    }

    #[test]
    fn protection_never_leaves_recoverable_cells() {
        // deterministic pseudo-random tables with many small cells
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % 40
        };
        for _ in 0..40 {
            let t: Vec<Vec<u64>> = (0..5)
                .map(|_| (0..4).map(|_| next().saturating_sub(12)).collect())
                .collect();
            let p = protect_table(&t, &SuppressionRule::default()).unwrap();
            assert!(line_rule_holds(&p), "{t:?}");
            assert!(recoverable_cells(&p).is_empty(), "{t:?}");
            for (r, row) in t.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    if (1..=5).contains(v) {
                        assert_eq!(p.status[r][c], Primary);
                    }
                }
            }
        }
    }

    #[test]
    fn single_column_table_suppresses_the_totals_too() {
        let t = vec![vec![3], vec![40], vec![50]];
        let p = protect_table(&t, &SuppressionRule::default()).unwrap();
        // row 0's only other cell is its row total (= the same value): it must go
        assert!(p.row_total_status[0].is_suppressed());
        assert!(line_rule_holds(&p));
        assert!(recoverable_cells(&p).is_empty());
    }

    #[test]
    fn linked_tables_share_margin_suppression() {
        // same three areas, by age (a) and by sex (b)
        let a = vec![vec![10, 20, 30], vec![2, 40, 18], vec![25, 25, 25]];
        let b = vec![vec![30, 30], vec![33, 27], vec![4, 71]];
        let (pa, pb) = protect_linked_tables(&a, &b, &SuppressionRule::default()).unwrap();
        assert_eq!(pa.status[1][0], Primary);
        assert_eq!(pb.status[2][0], Primary);
        assert_eq!(pa.row_total_status, pb.row_total_status);
        assert_eq!(pa.grand_total_status, pb.grand_total_status);
        assert!(recoverable_cells(&pa).is_empty());
        assert!(recoverable_cells(&pb).is_empty());
        let (ra, rb) = recoverable_cells_linked(&pa, &pb).unwrap();
        assert!(ra.is_empty() && rb.is_empty());
        let bad = vec![vec![1, 2], vec![3, 4], vec![5, 6]];
        assert!(protect_linked_tables(&a, &bad, &SuppressionRule::default()).is_err());
    }

    #[test]
    fn linked_audit_catches_differencing() {
        // B on its own is safe (b00, b10, T0, T1 lie on one cycle), but A publishes T0 and
        // T1, and then b00 = T0 − b01 − b02 follows.
        let a = protect_table(&[vec![30, 30], vec![30, 30]], &SuppressionRule::default()).unwrap();
        let mut b = protect_table(
            &[vec![20, 20, 20], vec![20, 20, 20]],
            &SuppressionRule::default(),
        )
        .unwrap();
        for (r, c) in [(0, 0), (1, 0)] {
            b.status[r][c] = Secondary;
        }
        b.row_total_status = vec![Secondary, Secondary];
        assert!(recoverable_cells(&b).is_empty());
        let (ra, rb) = recoverable_cells_linked(&a, &b).unwrap();
        assert!(ra.is_empty());
        assert_eq!(rb, vec![(0, 0), (1, 0)]);
    }

    #[test]
    fn general_cells_protect_complements_and_sums() {
        // Per row: T = M + N, M = R + O; column totals of T, M, N, R, O.
        let rows = [(50u64, 3u64, 1u64), (40, 20, 9), (60, 15, 14)];
        let mut values = Vec::new();
        let mut margin = Vec::new();
        let mut eqs: Vec<Vec<(usize, f64)>> = Vec::new();
        let mut cols: Vec<Vec<usize>> = vec![Vec::new(); 5];
        for (t, m, r) in rows {
            let base = values.len();
            values.extend([t, m, t - m, r, m - r]);
            margin.extend([true, false, false, false, false]);
            eqs.push(vec![(base + 1, 1.0), (base + 2, 1.0), (base, -1.0)]);
            eqs.push(vec![(base + 3, 1.0), (base + 4, 1.0), (base + 1, -1.0)]);
            for (c, col) in cols.iter_mut().enumerate() {
                col.push(base + c);
            }
        }
        for col in &cols {
            let tot = values.len();
            values.push(col.iter().map(|i| values[*i]).sum());
            margin.push(true);
            let mut eq: Vec<(usize, f64)> = col.iter().map(|i| (*i, 1.0)).collect();
            eq.push((tot, -1.0));
            eqs.push(eq);
        }
        let st = protect_cells(&values, &margin, &eqs, &SuppressionRule::default()).unwrap();
        assert!(st[1].is_suppressed()); // M = 3
        assert!(st[3].is_suppressed()); // R = 1
        assert!(st[14].is_suppressed()); // O = 1 in the third row
        assert!(recoverable_figures(&eqs, &st).is_empty());
        assert!(protect_cells(&values, &margin[1..], &eqs, &SuppressionRule::default()).is_err());
        assert!(
            protect_cells(
                &[1],
                &[false],
                &[vec![(3, 1.0)]],
                &SuppressionRule::default()
            )
            .is_err()
        );
    }

    #[test]
    fn table_group_protects_every_member_jointly() {
        // Three measures over the same four denominators.
        let a = vec![vec![3, 40], vec![20, 30], vec![15, 60], vec![30, 20]];
        let b = vec![vec![1, 42], vec![8, 42], vec![9, 66], vec![12, 38]];
        let c = vec![vec![0, 43], vec![2, 48], vec![7, 68], vec![10, 40]];
        let g = protect_table_group(&[a.clone(), b, c], &SuppressionRule::default()).unwrap();
        assert_eq!(g.len(), 3);
        for t in &g {
            assert!(recoverable_cells(t).is_empty());
            assert_eq!(t.row_totals, g[0].row_totals);
            assert_eq!(t.row_total_status, g[0].row_total_status);
            assert!(line_rule_holds(t));
        }
        assert!(g[0].status[0][0].is_suppressed());
        assert!(g[1].status[0][0].is_suppressed());
        assert!(g[2].status[1][0].is_suppressed());
        for i in 0..g.len() {
            for j in i + 1..g.len() {
                let (x, y) = recoverable_cells_linked(&g[i], &g[j]).unwrap();
                assert!(x.is_empty() && y.is_empty());
            }
        }
        assert!(protect_table_group(&[], &SuppressionRule::default()).is_err());
        let bad = vec![vec![1, 2], vec![3, 4], vec![5, 6], vec![7, 9]];
        assert!(protect_table_group(&[a, bad], &SuppressionRule::default()).is_err());
    }

    /// Two overlapping publications: missing children by local authority × year for
    /// 2019–2021 and for 2020–2022 share their 2020 and 2021 cells. Protected one at a time,
    /// the first hides 2020 cells to protect its small 2019 cell while the second (no small
    /// cells) prints them: differencing the first's row total gives the small cell back.
    /// Protected jointly, nothing is recoverable and every small count stays suppressed.
    #[test]
    fn overlapping_tables_leak_one_at_a_time_but_not_jointly() {
        let (early, le) = FigureSystem::grid(&[vec![3, 20, 30], vec![10, 40, 50]]).unwrap();
        let (late, ll) = FigureSystem::grid(&[vec![20, 30, 25], vec![40, 50, 60]]).unwrap();
        let mut set = LinkedTables::new();
        let a = set.add(early).unwrap();
        let b = set.add(late).unwrap();
        for r in 0..2 {
            for c in 0..2 {
                set.link((a, le.cell(r, c + 1)), (b, ll.cell(r, c)))
                    .unwrap();
            }
        }
        let rule = SuppressionRule::default();

        let each = set.protect_each(&rule).unwrap();
        // On its own each table is safe ...
        for (t, st) in set.tables().iter().zip(&each) {
            assert!(recoverable_figures(&t.equations, st).is_empty());
        }
        // ... but the early table hides 2020 cells that the late table prints.
        assert!(each[a][le.cell(0, 1)].is_suppressed());
        assert!(!each[b][ll.cell(0, 0)].is_suppressed());
        let leaked = set.recoverable(&each).unwrap();
        assert!(leaked.contains(&(a, le.cell(0, 0))), "{leaked:?}");

        let joint = set.protect(&rule).unwrap();
        assert!(set.recoverable(&joint).unwrap().is_empty());
        for (t, st) in set.tables().iter().zip(&joint) {
            for (v, s) in t.values.iter().zip(st) {
                if rule.is_primary(*v) {
                    assert_eq!(*s, Primary);
                }
            }
        }
        // A shared cell has one status in both tables.
        for r in 0..2 {
            for c in 0..2 {
                assert_eq!(joint[a][le.cell(r, c + 1)], joint[b][ll.cell(r, c)]);
            }
        }
        assert!(set.link((a, le.cell(0, 0)), (b, ll.cell(0, 0))).is_err());
        assert!(set.link((a, 99), (b, 0)).is_err());
        assert!(set.recoverable(&joint[..1]).is_err());
    }

    #[test]
    fn unlinked_tables_are_independent_blocks() {
        let rule = SuppressionRule::default();
        let (x, _) = FigureSystem::grid(&[vec![3, 40, 7], vec![12, 2, 30]]).unwrap();
        let (y, _) = FigureSystem::grid(&[vec![1, 50], vec![60, 4]]).unwrap();
        let mut alone = LinkedTables::new();
        alone.add(x.clone()).unwrap();
        let mut both = LinkedTables::new();
        both.add(y).unwrap();
        both.add(x).unwrap();
        assert_eq!(
            alone.protect(&rule).unwrap()[0],
            both.protect(&rule).unwrap()[1]
        );
        // The grid helper is the same system as protect_table.
        let t = vec![vec![3, 40, 7], vec![12, 2, 30]];
        let p = protect_table(&t, &rule).unwrap();
        let g = &alone.protect(&rule).unwrap()[0];
        for r in 0..2 {
            for c in 0..3 {
                assert_eq!(p.status[r][c], g[r * 3 + c]);
            }
        }
    }

    #[test]
    fn ragged_and_empty_rejected() {
        assert!(protect_table(&[], &SuppressionRule::default()).is_err());
        assert!(protect_table(&[vec![1, 2], vec![3]], &SuppressionRule::default()).is_err());
    }
}
