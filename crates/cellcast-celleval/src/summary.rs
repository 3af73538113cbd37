//! Everything cell-eval needs from one file, in one streamed pass per gene chunk: the
//! pseudobulk of every perturbation (as cell-eval's polars `group_by().mean()` gives it, in the
//! file's precision), the float64 centroids clustering uses, and pdex's differential expression.
//! Differential expression is computed here once per file and every DE metric reads it.

use rayon::prelude::*;

use crate::de::{DeRow, DeTable};
use crate::error::Result;
use crate::numeric::Precision;
use crate::pdex::{self, MeanRule, SortedControl};
use crate::screen::Screen;

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

/// What one gene gives.
struct GeneOut {
    bulk: Vec<f64>,
    centroid: Vec<f64>,
    /// pdex mean of every perturbation (control included).
    de_mean: Vec<f64>,
    /// (U, p) of every perturbation against the control (the control's own entry unused).
    test: Vec<(f64, f64)>,
}

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
    let rule = MeanRule { precision: p, sparse: screen.sparse, log1p: screen.scale.pdex_log1p };
    let mut bulk = vec![0.0; n_pert * n_genes];
    let mut centroid = vec![0.0; n_pert * n_genes];
    let mut de_mean = if with_de { vec![0.0; n_pert * n_genes] } else { Vec::new() };
    let mut tests = if with_de { vec![(0.0, 0.0); n_pert * n_genes] } else { Vec::new() };
    let groups = Groups {
        of_cell: &screen.perturbation_of_cell,
        sizes: &screen.sizes,
        control: screen.control,
        position: screen.position.as_deref(),
    };
    let mut done = 0;
    for range in screen.gene_chunks(budget_bytes) {
        let chunk = screen.gene_chunk(range.clone())?;
        let outs: Vec<GeneOut> = chunk
            .cells
            .par_iter()
            .zip(&chunk.values)
            .map_init(Scratch::default, |scratch, (cells, values)| gene(&groups, rule, with_de, cells, values, scratch))
            .collect();
        for (k, out) in outs.into_iter().enumerate() {
            let j = range.start + k;
            for g in 0..n_pert {
                bulk[g * n_genes + j] = out.bulk[g];
                centroid[g * n_genes + j] = out.centroid[g];
                if with_de {
                    de_mean[g * n_genes + j] = out.de_mean[g];
                    tests[g * n_genes + j] = out.test[g];
                }
            }
        }
        done += range.len();
        progress(done, n_genes);
    }
    let de = with_de.then(|| de_table(screen, &de_mean, &tests));
    Ok(Summary {
        perturbations: screen.perturbations.clone(),
        control: screen.control,
        bulk,
        centroid,
        n_genes,
        precision: p,
        de,
    })
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
    keys: Vec<u32>,
}

fn gene(screen: &Groups<'_>, rule: MeanRule, with_de: bool, cells: &[u32], values: &[f64], s: &mut Scratch) -> GeneOut {
    let n_pert = screen.sizes.len();
    let p = rule.precision;
    s.kept.clear();
    s.kept.extend(
        cells.iter().zip(values).filter(|(&c, _)| screen.of_cell[c as usize] != u32::MAX).map(|(&c, &v)| (c, v)),
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
    let mut out = GeneOut {
        bulk: Vec::with_capacity(n_pert),
        centroid: Vec::with_capacity(n_pert),
        de_mean: Vec::new(),
        test: Vec::new(),
    };
    for g in 0..n_pert {
        let n = screen.sizes[g] as f64;
        let sum: f64 = s.grouped[group(g)].iter().sum();
        // polars' mean of a float32 column is its float64 mean rounded to float32.
        out.bulk.push(p.round(sum / n));
        out.centroid.push(sum / n);
    }
    if !with_de {
        return out;
    }
    out.de_mean = (0..n_pert).map(|g| rule.pseudobulk(&s.grouped[group(g)], screen.sizes[g])).collect();
    for g in 0..n_pert {
        let range = s.starts[g]..s.starts[g + 1];
        sort_ascending(p, &mut s.grouped[range], &mut s.keys);
    }
    let control = SortedControl::new(&s.grouped[group(screen.control)]);
    let n_ref = screen.sizes[screen.control];
    out.test = (0..n_pert)
        .map(|g| {
            if g == screen.control {
                (f64::NAN, f64::NAN)
            } else {
                pdex::mann_whitney(&s.grouped[group(g)], screen.sizes[g], &control, n_ref)
            }
        })
        .collect();
    out
}

/// Sorts `v` ascending (IEEE total order). float32 values sort as 32-bit keys, about twice as
/// fast as comparing them as f64.
fn sort_ascending(p: Precision, v: &mut [f64], keys: &mut Vec<u32>) {
    if p == Precision::F64 {
        v.sort_unstable_by(f64::total_cmp);
        return;
    }
    // The bits of a float32, flipped so that unsigned order is its total order.
    let key = |x: f64| {
        let b = (x as f32).to_bits();
        b ^ (((b as i32) >> 31) as u32 | 0x8000_0000)
    };
    let value = |k: u32| f64::from(f32::from_bits(if k & 0x8000_0000 != 0 { k ^ 0x8000_0000 } else { !k }));
    keys.clear();
    keys.extend(v.iter().map(|&x| key(x)));
    keys.sort_unstable();
    for (x, &k) in v.iter_mut().zip(keys.iter()) {
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
    fn float32_keys_sort_in_total_order() {
        let tiny = 2f64.powi(-100);
        let mut v = vec![3.5, -0.0, tiny, -2.0, 0.0, f64::from(f32::MAX), -tiny, 7.25, -7.25, 1.0];
        let mut want = v.clone();
        want.sort_by(f64::total_cmp);
        sort_ascending(Precision::F32, &mut v, &mut Vec::new());
        assert_eq!(
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
}
