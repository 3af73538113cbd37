//! cell-eval's differential-expression metrics (`cell_eval/metrics/_de.py`,
//! `cell_eval/_types/_de.py`), from the real and predicted DE tables.
//!
//! cell-eval casts `log2_fold_change`, `p_value` and `fdr` to float32 before anything else, so a
//! gene is significant when its float32 FDR is below 0.05, and genes are ranked by float32
//! |log2 fold change| (descending; ties in the table's row order, polars' "ordinal" rank).

use std::collections::{HashMap, HashSet};

use cellcast_stats::classification::{average_precision, roc_auc};
use cellcast_stats::correlation::spearman;

use crate::de::DeTable;
use crate::describe::MetricColumn;
use crate::error::{input, Result};

const FDR_THRESHOLD: f32 = 0.05;

/// One row as cell-eval's metrics see it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    feature: u32,
    /// float32 log2 fold change (widened).
    lfc: f64,
    /// float32 FDR (widened); `None` where missing.
    fdr: Option<f64>,
}

impl Entry {
    fn significant(&self) -> bool {
        self.fdr.is_some_and(|q| (q as f32) < FDR_THRESHOLD)
    }
}

/// A DE table per perturbation, features interned across the real and predicted tables.
struct View {
    by_target: HashMap<String, Vec<Entry>>,
}

impl View {
    fn new(table: &DeTable, features: &mut HashMap<String, u32>) -> View {
        let ids: Vec<u32> = table
            .features
            .iter()
            .map(|f| {
                let next = features.len() as u32;
                *features.entry(f.clone()).or_insert(next)
            })
            .collect();
        let mut by_target: HashMap<String, Vec<Entry>> = HashMap::new();
        for r in &table.rows {
            by_target.entry(table.targets[r.target as usize].clone()).or_default().push(Entry {
                feature: ids[r.feature as usize],
                lfc: r.log2_fold_change as f32 as f64,
                fdr: r.fdr.map(|q| q as f32 as f64),
            });
        }
        View { by_target }
    }

    fn entries(&self, target: &str) -> &[Entry] {
        self.by_target.get(target).map_or(&[], Vec::as_slice)
    }

    fn significant(&self, target: &str) -> impl Iterator<Item = &Entry> {
        self.entries(target).iter().filter(|e| e.significant())
    }

    /// Significant genes by |lfc| descending, ties in row order, NaN first (polars sorts NaN
    /// above every number).
    fn ranked(&self, target: &str) -> Vec<u32> {
        let mut sig: Vec<&Entry> = self.significant(target).collect();
        sig.sort_by(|a, b| {
            use std::cmp::Ordering;
            let (x, y) = (a.lfc.abs(), b.lfc.abs());
            match (x.is_nan(), y.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                _ => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
            }
        });
        sig.iter().map(|e| e.feature).collect()
    }

    fn any_significant(&self) -> bool {
        self.by_target.values().flatten().any(Entry::significant)
    }
}

/// The DE metrics of one evaluation: the perturbations (sorted) and a column per metric asked
/// for, in the order asked.
pub struct DeMetrics {
    pub perturbations: Vec<String>,
    real: View,
    pred: View,
}

impl DeMetrics {
    /// Pairs the two tables; their perturbations must be the same (cell-eval's `DEComparison`).
    pub fn new(real: &DeTable, pred: &DeTable) -> Result<DeMetrics> {
        let (r, p) = (real.sorted_targets(), pred.sorted_targets());
        if r != p {
            let only_real: Vec<&String> = r.iter().filter(|t| !p.contains(t)).take(5).collect();
            let only_pred: Vec<&String> = p.iter().filter(|t| !r.contains(t)).take(5).collect();
            return Err(input(format!(
                "the real and predicted DE tables have different perturbations (only in real: {only_real:?}; \
                 only in pred: {only_pred:?}); cell-eval compares the same perturbations"
            )));
        }
        let mut features = HashMap::new();
        let real = View::new(real, &mut features);
        let pred = View::new(pred, &mut features);
        Ok(DeMetrics { perturbations: r, real, pred })
    }

    /// The column(s) of one DE metric; `None` if `name` is not a DE metric.
    pub fn compute(&self, name: &str) -> Option<Vec<MetricColumn>> {
        let per =
            |f: &dyn Fn(&str) -> Option<f64>| -> Vec<Option<f64>> { self.perturbations.iter().map(|p| f(p)).collect() };
        let one = |values: Vec<Option<f64>>| Some(vec![MetricColumn { name: name.to_string(), values }]);
        if let Some((kind, k)) = overlap_kind(name) {
            return one(self.overlap(kind, k));
        }
        match name {
            "de_spearman_sig" => {
                let v = self.spearman_significant();
                one(vec![Some(v); self.perturbations.len()])
            }
            "de_direction_match" => one(per(&|t| self.direction_match(t))),
            "de_spearman_lfc_sig" => one(per(&|t| self.spearman_lfc(t))),
            "de_sig_genes_recall" => one(per(&|t| self.recall(t))),
            "de_nsig_counts" => Some(vec![
                MetricColumn {
                    name: "de_nsig_counts_real".into(),
                    values: per(&|t| Some(self.real.significant(t).count() as f64)),
                },
                MetricColumn {
                    name: "de_nsig_counts_pred".into(),
                    values: per(&|t| Some(self.pred.significant(t).count() as f64)),
                },
            ]),
            "pr_auc" => one(per(&|t| Some(self.auc(t, Curve::Pr)))),
            "roc_auc" => one(per(&|t| Some(self.auc(t, Curve::Roc)))),
            _ => None,
        }
    }

    fn overlap(&self, kind: Overlap, k: Option<usize>) -> Vec<Option<f64>> {
        if !self.real.any_significant() || !self.pred.any_significant() {
            return vec![Some(0.0); self.perturbations.len()];
        }
        self.perturbations
            .iter()
            .map(|t| {
                let real = self.real.ranked(t);
                let pred = self.pred.ranked(t);
                let size = match kind {
                    Overlap::Overlap => real.len(),
                    Overlap::Precision => pred.len(),
                };
                let k_eff = k.filter(|&k| k > 0).unwrap_or(size).min(size);
                if k_eff == 0 {
                    return Some(0.0);
                }
                let a: HashSet<u32> = real.iter().take(k_eff).copied().collect();
                let b: HashSet<u32> = pred.iter().take(k_eff).copied().collect();
                Some(a.intersection(&b).count() as f64 / k_eff as f64)
            })
            .collect()
    }

    fn spearman_significant(&self) -> f64 {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for t in &self.perturbations {
            let n = self.real.significant(t).count();
            if n > 0 {
                x.push(n as f64);
                y.push(self.pred.significant(t).count() as f64);
            }
        }
        if x.is_empty() {
            return 1.0;
        }
        spearman(&x, &y)
    }

    fn pred_lfc(&self, t: &str) -> HashMap<u32, f64> {
        self.pred.entries(t).iter().map(|e| (e.feature, e.lfc)).collect()
    }

    fn direction_match(&self, t: &str) -> Option<f64> {
        let pred = self.pred_lfc(t);
        let (mut matched, mut n) = (0usize, 0usize);
        for e in self.real.significant(t) {
            if let Some(&q) = pred.get(&e.feature) {
                n += 1;
                matched += usize::from(sign(e.lfc) == sign(q));
            }
        }
        (n > 0).then(|| matched as f64 / n as f64)
    }

    fn spearman_lfc(&self, t: &str) -> Option<f64> {
        let pred = self.pred_lfc(t);
        let (real, joined): (Vec<f64>, Vec<f64>) =
            self.real.significant(t).map(|e| (e.lfc, pred.get(&e.feature).copied().unwrap_or(0.0))).unzip();
        (!real.is_empty()).then(|| spearman(&real, &joined))
    }

    fn recall(&self, t: &str) -> Option<f64> {
        let pred: HashSet<u32> = self.pred.significant(t).map(|e| e.feature).collect();
        let real: Vec<u32> = self.real.significant(t).map(|e| e.feature).collect();
        (!real.is_empty()).then(|| real.iter().filter(|f| pred.contains(f)).count() as f64 / real.len() as f64)
    }

    /// `compute_generic_auc`: labels = real FDR < 0.05, scores = −log10 of the predicted FDR
    /// (1 where missing) clipped to [1e-10, 1], all in float32; NaN for one class only.
    fn auc(&self, t: &str, curve: Curve) -> f64 {
        let pred: HashMap<u32, Option<f64>> = self.pred.entries(t).iter().map(|e| (e.feature, e.fdr)).collect();
        let (mut labels, mut scores) = (Vec::new(), Vec::new());
        for e in self.real.entries(t).iter().filter(|e| e.fdr.is_some()) {
            let q = pred.get(&e.feature).copied().flatten().unwrap_or(1.0) as f32;
            let q = q.clamp(1e-10_f32, 1.0);
            labels.push(e.significant());
            scores.push(-(q.log10()) as f64);
        }
        let positives = labels.iter().filter(|&&l| l).count();
        if labels.is_empty() || positives == 0 || positives == labels.len() {
            return f64::NAN;
        }
        match curve {
            Curve::Pr => average_precision(&labels, &scores),
            Curve::Roc => roc_auc(&labels, &scores),
        }
        .unwrap_or(f64::NAN)
    }
}

#[derive(Clone, Copy)]
enum Curve {
    Pr,
    Roc,
}

#[derive(Clone, Copy)]
enum Overlap {
    Overlap,
    Precision,
}

/// `overlap_at_{N,50,…}` / `precision_at_{…}` → (kind, k); `N` is no k.
fn overlap_kind(name: &str) -> Option<(Overlap, Option<usize>)> {
    let (kind, rest) = if let Some(r) = name.strip_prefix("overlap_at_") {
        (Overlap::Overlap, r)
    } else {
        (Overlap::Precision, name.strip_prefix("precision_at_")?)
    };
    match rest {
        "N" => Some((kind, None)),
        _ => rest.parse().ok().map(|k| (kind, Some(k))),
    }
}

/// polars' `sign`: −1, 0 or 1 (NaN stays NaN, and is then unequal to everything here).
fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else if v == 0.0 {
        0.0
    } else {
        f64::NAN
    }
}
