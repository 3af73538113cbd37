//! Everything cell-eval needs from one file: the pseudobulk of every perturbation (as cell-eval's
//! polars `group_by().mean()` gives it, in the file's precision), the float64 centroids
//! clustering uses, and pdex's differential expression. Differential expression is computed here
//! once per file and every DE metric reads it.
//!
//! A file held in memory is summarised a perturbation at a time, its cells turned gene-major in a
//! buffer of their own size; a streamed one a gene chunk at a time, each chunk gathered from a pass
//! over the file. Both reach every gene's values of a perturbation in the same order, so the same
//! numbers.

use rayon::prelude::*;

use crate::de::{DeRow, DeTable};
use crate::error::Result;
use crate::numeric::Precision;
use crate::pdex::{self, MeanRule, SortedControl};
use crate::screen::{with_rows, CellRows, HeldGene, HeldValue, Screen};

/// One file, summarised.
pub struct Summary {
    /// Perturbation labels (the screen's order).
    pub perturbations: Vec<String>,
    pub control: usize,
    /// Perturbation × gene pseudobulks, row-major, in the file's precision.
    pub bulk: Vec<f64>,
    /// Perturbation × gene float64 means (cell-eval's clustering centroids), row-major.
    pub centroid: Vec<f64>,
    pub n_genes: usize,
    pub precision: Precision,
    /// pdex's table, when asked for.
    pub de: Option<DeTable>,
}

impl Summary {
    pub fn bulk_row(&self, g: usize) -> &[f64] {
        &self.bulk[g * self.n_genes..(g + 1) * self.n_genes]
    }

    pub fn centroid_row(&self, g: usize) -> &[f64] {
        &self.centroid[g * self.n_genes..(g + 1) * self.n_genes]
    }
}

/// The perturbation × gene tables a summary fills, row-major.
struct Tables {
    n_genes: usize,
    with_de: bool,
    bulk: Vec<f64>,
    centroid: Vec<f64>,
    /// pdex's mean of every perturbation (control included).
    de_mean: Vec<f64>,
    /// (U, p) of every perturbation against the control (NaN for the control).
    tests: Vec<(f64, f64)>,
}

impl Tables {
    fn new(n_pert: usize, n_genes: usize, with_de: bool) -> Tables {
        let de = if with_de { n_pert * n_genes } else { 0 };
        Tables {
            n_genes,
            with_de,
            bulk: vec![0.0; n_pert * n_genes],
            centroid: vec![0.0; n_pert * n_genes],
            de_mean: vec![0.0; de],
            tests: vec![(0.0, 0.0); de],
        }
    }

    /// Perturbation `g`, gene `j`.
    fn set(&mut self, g: usize, j: usize, one: &GroupSummary, test: (f64, f64)) {
        let at = g * self.n_genes + j;
        self.bulk[at] = one.bulk;
        self.centroid[at] = one.centroid;
        if self.with_de {
            self.de_mean[at] = one.de_mean;
            self.tests[at] = test;
        }
    }
}

/// What the rank test gives a perturbation without one (the control, or no DE asked).
const NO_TEST: (f64, f64) = (f64::NAN, f64::NAN);

/// Summarises `screen`, reading at most `budget_bytes` of gathered values at a time;
/// `with_de` computes differential expression too. `progress(done, total)` is called after
/// every gene chunk.
pub fn summarize(
    screen: &Screen<'_>,
    with_de: bool,
    budget_bytes: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Summary> {
    let n_pert = screen.perturbations.len();
    let n_genes = screen.n_genes();
    let p = screen.precision;
    let rule = MeanRule {
        precision: p,
        sparse: screen.sparse,
        log1p: screen.scale.pdex_log1p,
        numpy_log1p: screen.numpy_log1p,
    };
    let mut tables = Tables::new(n_pert, n_genes, with_de);
    if let Some(held) = screen.held_rows() {
        let cells = screen.rows_by_perturbation(held);
        with_rows!(held, rows => by_perturbation(screen, &cells, rows, rule, &mut tables, progress));
    } else {
        match p {
            Precision::F32 => streamed::<f32>(screen, rule, budget_bytes, &mut tables, progress)?,
            Precision::F64 => streamed::<f64>(screen, rule, budget_bytes, &mut tables, progress)?,
        }
    }
    let de = with_de.then(|| de_table(screen, &tables.de_mean, &tables.tests));
    Ok(Summary {
        perturbations: screen.perturbations.clone(),
        control: screen.control,
        bulk: tables.bulk,
        centroid: tables.centroid,
        n_genes,
        precision: p,
        de,
    })
}

/// [`summarize`] of a streamed file: a gene chunk at a time, each gathered from a pass over the
/// file with its values stored as `V` (exact: float32 for values read in float32 precision).
fn streamed<V: HeldValue>(
    screen: &Screen<'_>,
    rule: MeanRule,
    budget_bytes: u64,
    tables: &mut Tables,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<()> {
    let groups = Groups {
        of_cell: &screen.perturbation_of_cell,
        sizes: &screen.sizes,
        control: screen.control,
        position: screen.position.as_deref(),
    };
    let (n_genes, with_de) = (tables.n_genes, tables.with_de);
    let mut done = 0;
    for range in screen.gene_chunks::<V>(budget_bytes) {
        let chunk = screen.gene_chunk::<V>(range.clone())?;
        let outs: Vec<Vec<(GroupSummary, (f64, f64))>> = (0..chunk.len())
            .into_par_iter()
            .map_init(Scratch::default, |scratch, k| {
                let (cells, values) = chunk.gene(k);
                gene(&groups, rule, with_de, cells, values, scratch)
            })
            .collect();
        for (k, out) in outs.iter().enumerate() {
            for (g, (one, test)) in out.iter().enumerate() {
                tables.set(g, range.start + k, one, *test);
            }
        }
        done += range.len();
        progress(done, n_genes);
    }
    Ok(())
}

/// The cells' perturbations (what the per-gene work needs of a [`Screen`]).
struct Groups<'a> {
    of_cell: &'a [u32],
    sizes: &'a [usize],
    control: usize,
    /// Cells' positions in a reordered subset: values are summed in this order.
    position: Option<&'a [u32]>,
}

/// What the per-gene work reuses from one gene to the next (one per worker).
#[derive(Default)]
struct Scratch {
    kept: Vec<(u32, f64)>,
    /// The gene's non-zero values grouped by perturbation (`starts`), in cell order.
    grouped: Vec<f64>,
    starts: Vec<usize>,
    fill: Vec<usize>,
    keys: SortKeys,
    below: Vec<u32>,
}

fn gene<V: HeldValue>(
    screen: &Groups<'_>,
    rule: MeanRule,
    with_de: bool,
    cells: &[u32],
    values: &[V],
    s: &mut Scratch,
) -> Vec<(GroupSummary, (f64, f64))> {
    let n_pert = screen.sizes.len();
    s.kept.clear();
    s.kept.extend(
        cells.iter().zip(values).filter(|(&c, _)| screen.of_cell[c as usize] != u32::MAX).map(|(&c, &v)| (c, v.get())),
    );
    if let Some(pos) = screen.position {
        s.kept.sort_by_key(|&(c, _)| pos[c as usize]);
    }
    s.starts.clear();
    s.starts.resize(n_pert + 1, 0);
    for &(c, _) in &s.kept {
        s.starts[screen.of_cell[c as usize] as usize + 1] += 1;
    }
    for g in 0..n_pert {
        s.starts[g + 1] += s.starts[g];
    }
    s.fill.clone_from(&s.starts);
    s.grouped.resize(s.kept.len(), 0.0);
    for &(c, v) in &s.kept {
        let g = screen.of_cell[c as usize] as usize;
        s.grouped[s.fill[g]] = v;
        s.fill[g] += 1;
    }
    let group = |g: usize| s.starts[g]..s.starts[g + 1];
    let mut out: Vec<(GroupSummary, (f64, f64))> = (0..n_pert)
        .map(|g| (group_summary(rule, with_de, &mut s.grouped[group(g)], screen.sizes[g], &mut s.keys), NO_TEST))
        .collect();
    if with_de {
        let control = SortedControl::new(&s.grouped[group(screen.control)]);
        let n_ref = screen.sizes[screen.control];
        for (g, (_, test)) in out.iter_mut().enumerate().filter(|&(g, _)| g != screen.control) {
            *test = pdex::mann_whitney(&s.grouped[group(g)], screen.sizes[g], &control, n_ref, &mut s.below);
        }
    }
    out
}

/// What one perturbation's values of one gene give.
struct GroupSummary {
    /// polars' mean, in the file's precision.
    bulk: f64,
    /// The float64 mean.
    centroid: f64,
    /// pdex's mean (0 without DE).
    de_mean: f64,
}

/// Summarises one perturbation's non-zero values of one gene (`values`, in cell order, of `n`
/// cells); with DE, leaves `values` sorted ascending for the rank test.
fn group_summary(rule: MeanRule, with_de: bool, values: &mut [f64], n: usize, keys: &mut SortKeys) -> GroupSummary {
    let sum: f64 = values.iter().sum();
    let nf = n as f64;
    // polars' mean of a float32 column is its float64 mean rounded to float32.
    let mut out = GroupSummary { bulk: rule.precision.round(sum / nf), centroid: sum / nf, de_mean: 0.0 };
    if with_de {
        out.de_mean = rule.pseudobulk(values, n);
        sort_ascending(rule.precision, values, keys);
    }
    out
}

/// One perturbation's cells, turned gene-major: gene j's non-zero values, in the order of the
/// cells, are `values[starts[j]..starts[j + 1]]`.
#[derive(Default)]
struct GeneMajor {
    starts: Vec<usize>,
    fill: Vec<usize>,
    values: Vec<f64>,
    keys: SortKeys,
    below: Vec<u32>,
}

impl GeneMajor {
    fn load<G: HeldGene, V: HeldValue>(&mut self, rows: &CellRows<G, V>, cells: &[usize], n_genes: usize) {
        self.starts.clear();
        self.starts.resize(n_genes + 1, 0);
        for &r in cells {
            for &j in rows.row(r).0 {
                self.starts[j.get() + 1] += 1;
            }
        }
        for j in 0..n_genes {
            self.starts[j + 1] += self.starts[j];
        }
        self.fill.clone_from(&self.starts);
        self.values.resize(self.starts[n_genes], 0.0);
        for &r in cells {
            let (genes, values) = rows.row(r);
            for (&j, &v) in genes.iter().zip(values) {
                let at = &mut self.fill[j.get()];
                self.values[*at] = v.get();
                *at += 1;
            }
        }
    }

    fn gene(&self, j: usize) -> &[f64] {
        &self.values[self.starts[j]..self.starts[j + 1]]
    }

    /// The rank test of gene `j` (after [`GeneMajor::summarize`] sorted its values).
    fn test(&mut self, j: usize, n: usize, control: &SortedControl<'_>, n_ref: usize) -> (f64, f64) {
        let values = &self.values[self.starts[j]..self.starts[j + 1]];
        pdex::mann_whitney(values, n, control, n_ref, &mut self.below)
    }

    /// Summarises gene `j`, as [`group_summary`].
    fn summarize(&mut self, rule: MeanRule, with_de: bool, j: usize, n: usize) -> GroupSummary {
        let range = self.starts[j]..self.starts[j + 1];
        group_summary(rule, with_de, &mut self.values[range], n, &mut self.keys)
    }
}

/// [`summarize`] over held rows, a perturbation at a time (in parallel): its cells (`cells[g]`,
/// rows of `rows`) are turned gene-major in a buffer of their own size, instead of the whole file
/// gathered gene by gene. Each gene's values reach the same sums and tests, in the same order, as
/// on the streamed path.
fn by_perturbation<G: HeldGene, V: HeldValue>(
    screen: &Screen<'_>,
    cells: &[Vec<usize>],
    rows: &CellRows<G, V>,
    rule: MeanRule,
    tables: &mut Tables,
    progress: &mut dyn FnMut(usize, usize),
) {
    let (n_genes, with_de) = (tables.n_genes, tables.with_de);
    let c = screen.control;
    let n_ref = screen.sizes[c];
    let mut control = GeneMajor::default();
    control.load(rows, &cells[c], n_genes);
    for j in 0..n_genes {
        let one = control.summarize(rule, with_de, j, n_ref);
        tables.set(c, j, &one, NO_TEST);
    }
    let sorted_control: Vec<SortedControl<'_>> =
        if with_de { (0..n_genes).map(|j| SortedControl::new(control.gene(j))).collect() } else { Vec::new() };
    let others: Vec<usize> = (0..cells.len()).filter(|&g| g != c).collect();
    // A batch per progress step; each perturbation's results go to its own rows.
    let batch = (4 * rayon::current_num_threads()).max(1);
    for (k, part) in others.chunks(batch).enumerate() {
        let outs: Vec<Vec<(GroupSummary, (f64, f64))>> = part
            .par_iter()
            .map_init(GeneMajor::default, |m, &g| {
                m.load(rows, &cells[g], n_genes);
                (0..n_genes)
                    .map(|j| {
                        let one = m.summarize(rule, with_de, j, screen.sizes[g]);
                        let test =
                            if with_de { m.test(j, screen.sizes[g], &sorted_control[j], n_ref) } else { NO_TEST };
                        (one, test)
                    })
                    .collect()
            })
            .collect();
        for (&g, out) in part.iter().zip(&outs) {
            for (j, (one, test)) in out.iter().enumerate() {
                tables.set(g, j, one, *test);
            }
        }
        progress((k * batch + part.len()).min(others.len()), others.len());
    }
}

/// The sort keys of [`sort_ascending`], kept between genes.
#[derive(Default)]
struct SortKeys {
    narrow: Vec<u32>,
    wide: Vec<u64>,
}

/// Sorts `v` ascending (IEEE total order). float32 values sort as 32-bit keys, about twice as
/// fast as comparing them as f64, and short lists of keys by a SIMD sorting network
/// ([`cellcast_stats::sort`]).
fn sort_ascending(p: Precision, v: &mut [f64], keys: &mut SortKeys) {
    if p == Precision::F64 {
        // As 64-bit keys in the same order (the standard sort takes integers through its
        // sorting networks; with `total_cmp` as the comparison it was 20% of a run on a dense
        // float64 screen).
        let key = |x: f64| {
            let b = x.to_bits();
            b ^ (((b as i64) >> 63) as u64 | 0x8000_0000_0000_0000)
        };
        let value =
            |k: u64| f64::from_bits(if k & 0x8000_0000_0000_0000 != 0 { k ^ 0x8000_0000_0000_0000 } else { !k });
        let wide = &mut keys.wide;
        wide.clear();
        wide.extend(v.iter().map(|&x| key(x)));
        wide.sort_unstable();
        for (x, &k) in v.iter_mut().zip(wide.iter()) {
            *x = value(k);
        }
        return;
    }
    // The bits of a float32, flipped so that unsigned order is its total order.
    let key = |x: f64| {
        let b = (x as f32).to_bits();
        b ^ (((b as i32) >> 31) as u32 | 0x8000_0000)
    };
    let value = |k: u32| f64::from(f32::from_bits(if k & 0x8000_0000 != 0 { k ^ 0x8000_0000 } else { !k }));
    let narrow = &mut keys.narrow;
    narrow.clear();
    narrow.extend(v.iter().map(|&x| key(x)));
    cellcast_stats::sort::sort_u32(narrow);
    for (x, &k) in v.iter_mut().zip(narrow.iter()) {
        *x = value(k);
    }
}

/// pdex's table: perturbations (control excluded) in the screen's order, genes in var order.
fn de_table(screen: &Screen<'_>, de_mean: &[f64], tests: &[(f64, f64)]) -> DeTable {
    let n_genes = screen.n_genes();
    let p = screen.precision;
    let c = screen.control;
    let ref_mean = &de_mean[c * n_genes..(c + 1) * n_genes];
    let targets: Vec<usize> = (0..screen.perturbations.len()).filter(|&g| g != c).collect();
    let mut rows = Vec::with_capacity(targets.len() * n_genes);
    for (t, &g) in targets.iter().enumerate() {
        let ps: Vec<f64> = (0..n_genes).map(|j| tests[g * n_genes + j].1).collect();
        let fdr = pdex::false_discovery_control(&ps);
        for j in 0..n_genes {
            let tm = de_mean[g * n_genes + j];
            let rm = ref_mean[j];
            rows.push(DeRow {
                target: t as u32,
                feature: j as u32,
                target_mean: tm,
                ref_mean: rm,
                target_membership: screen.sizes[g] as u64,
                ref_membership: screen.sizes[c] as u64,
                log2_fold_change: pdex::log2_fold_change(tm, rm),
                percent_change: pdex::percent_change(p, tm, rm),
                p_value: ps[j],
                statistic: tests[g * n_genes + j].0,
                fdr: Some(fdr[j]),
            });
        }
    }
    DeTable {
        targets: targets.iter().map(|&g| screen.perturbations[g].clone()).collect(),
        features: screen.genes.clone(),
        rows,
        mean_precision: Some(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_in_total_order() {
        // float32 values (as float32 keys) and float64 ones (as float64 keys): signed zeros,
        // subnormal-sized and large values, negatives.
        let tiny = 2f64.powi(-100);
        let v32 = vec![3.5, -0.0, tiny, -2.0, 0.0, f64::from(f32::MAX), -tiny, 7.25, -7.25, 1.0];
        let v64 = vec![3.5, -0.0, 1e-310, -2.0, 0.0, f64::MAX, -1e-310, 7.25 + 1e-15, -7.25, 7.25, f64::MIN];
        for (p, mut v) in [(Precision::F32, v32), (Precision::F64, v64)] {
            let mut want = v.clone();
            want.sort_by(f64::total_cmp);
            sort_ascending(p, &mut v, &mut SortKeys::default());
            assert_eq!(
                v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "{p:?}"
            );
        }
    }
}
