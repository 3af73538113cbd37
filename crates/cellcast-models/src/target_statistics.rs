//! The statistics `targets rank` can rank genes by: how far each gene of a group of cells has
//! moved from the control cells, on the normalised values.
//!
//! Every statistic is one entry of [`STATISTICS`]: its name, its formula in words (what `--help`
//! and the README print) and a function of one gene's [`GeneEvidence`] — the group's and the
//! controls' [`Moments`], and the rank-sum z when the statistic reads it. A new statistic is one
//! function and one entry. Every statistic is signed (positive: the group is above the
//! controls); [`crate::targets::de_target_scores`] turns it for the direction. A statistic that
//! is undefined for a gene is NaN, and the ranking puts that gene last.

use rayon::prelude::*;

use cellcast_stats::de::{rank_genes_vs_control_single_cells, CellsByGenes, DeError, DeMethod, ExprValue};
use cellcast_stats::Matrix;

use crate::ModelError;

/// One gene's values in one group of cells (or in the controls).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Cells in the group.
    pub cells: f64,
    pub mean: f64,
    /// Sample variance (n − 1 in the denominator); NaN for a single cell.
    pub variance: f64,
    /// Cells with a non-zero value.
    pub detected: f64,
}

impl Moments {
    /// The moments of explicit values (tests, and the dev script's cross-check).
    pub fn of(values: &[f64]) -> Moments {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let detected = values.iter().filter(|v| **v != 0.0).count() as f64;
        Moments { cells: n, mean, variance: if values.len() < 2 { f64::NAN } else { variance }, detected }
    }

    fn detection_rate(&self) -> f64 {
        self.detected / self.cells
    }
}

/// What a statistic reads of one gene.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneEvidence {
    pub group: Moments,
    pub control: Moments,
    /// The tie-corrected Wilcoxon rank-sum z of the group against the controls (scanpy's
    /// `rank_genes_groups` score); NaN unless the statistic reads ranks.
    pub wilcoxon: f64,
}

/// One statistic of the registry.
#[derive(Debug)]
pub struct TargetStatistic {
    /// The name `--statistic` takes.
    pub name: &'static str,
    /// What it measures, in a few words.
    pub summary: &'static str,
    /// Its exact formula, as `--help` and the README give it.
    pub formula: &'static str,
    /// Whether it reads the rank-sum z (which needs the values ranked, not only moments).
    pub ranks: bool,
    /// Whether it is defined for a group of a single cell.
    pub single_cell: bool,
    value: fn(&GeneEvidence) -> f64,
}

impl PartialEq for TargetStatistic {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl TargetStatistic {
    /// The statistic of one gene (signed: positive when the group is above the controls).
    pub fn value(&self, evidence: &GeneEvidence) -> f64 {
        (self.value)(evidence)
    }
}

/// Every statistic `targets rank` offers, in the order `--help` lists them.
pub static STATISTICS: &[TargetStatistic] = &[
    TargetStatistic {
        name: "wilcoxon",
        summary: "tie-corrected Wilcoxon rank-sum z against the controls (scanpy's rank_genes_groups score)",
        formula: "z = (R − n(n + m + 1)/2) / √(n·m/12 · (n + m + 1 − T/((n + m)(n + m − 1)))), R the sum of the \
                  group's midranks among the n + m values, T = Σ(t³ − t) over tied blocks; 0 when every value ties",
        ranks: true,
        single_cell: true,
        value: |e| e.wilcoxon,
    },
    TargetStatistic {
        name: "welch",
        summary: "Welch's t of the group mean against the control mean",
        formula: "t = (x̄ − ȳ) / √(s²ₓ/n + s²ᵧ/m), sample variances (n − 1 denominators); undefined for one cell",
        ranks: false,
        single_cell: false,
        value: welch_t,
    },
    TargetStatistic {
        name: "mean_z",
        summary: "the mean shift in units of the control spread",
        formula: "d = (x̄ − ȳ) / sᵧ, sᵧ the controls' standard deviation (m − 1 denominator); undefined when the \
                  controls are constant",
        ranks: false,
        single_cell: true,
        value: mean_shift,
    },
    TargetStatistic {
        name: "detection",
        summary: "the change in detection rate (share of cells with a non-zero value), as a binomial z",
        formula: "z = (pₓ − pᵧ) / √(p(1 − p)(1/n + 1/m)), pₓ, pᵧ the shares of non-zero values, p the pooled \
                  share; 0 when p is 0 or 1",
        ranks: false,
        single_cell: true,
        value: detection_z,
    },
    TargetStatistic {
        name: "combined",
        summary: "the rank-sum, mean-shift and detection z's together (Stouffer's sum)",
        formula: "(z_wilcoxon + z_mean + z_detection) / √3, z_mean = (x̄ − ȳ) / (sᵧ √(1/n + 1/m)), z_detection as \
                  detection; an undefined part counts 0",
        ranks: true,
        single_cell: true,
        value: combined,
    },
];

/// The statistic of this name.
pub fn statistic(name: &str) -> Result<&'static TargetStatistic, ModelError> {
    STATISTICS.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = STATISTICS.iter().map(|s| s.name).collect();
        ModelError::Parameter(format!("no target statistic '{name}'; available: {}", names.join(", ")))
    })
}

/// Welch's t, as `scipy.stats.ttest_ind(x, y, equal_var=False)`.
fn welch_t(e: &GeneEvidence) -> f64 {
    let (g, c) = (&e.group, &e.control);
    (g.mean - c.mean) / (g.variance / g.cells + c.variance / c.cells).sqrt()
}

fn mean_shift(e: &GeneEvidence) -> f64 {
    (e.group.mean - e.control.mean) / e.control.variance.sqrt()
}

/// The pooled two-proportion z of the detection rates.
fn detection_z(e: &GeneEvidence) -> f64 {
    let (g, c) = (&e.group, &e.control);
    let pooled = (g.detected + c.detected) / (g.cells + c.cells);
    if pooled <= 0.0 || pooled >= 1.0 {
        return 0.0;
    }
    (g.detection_rate() - c.detection_rate()) / (pooled * (1.0 - pooled) * (1.0 / g.cells + 1.0 / c.cells)).sqrt()
}

/// Three views of one shift: the rank z (bounded, robust to outlying cells), the mean shift as a
/// z (how far the values moved) and the detection z (a knockout's cells losing the transcript,
/// which a downstream, graded change of a well-expressed gene does not do).
fn combined(e: &GeneEvidence) -> f64 {
    let (g, c) = (&e.group, &e.control);
    let mean = (g.mean - c.mean) / (c.variance * (1.0 / g.cells + 1.0 / c.cells)).sqrt();
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    (finite(e.wilcoxon) + finite(mean) + finite(detection_z(e))) / 3f64.sqrt()
}

/// The statistic of every gene for every group against the controls: the tested groups (every
/// group but the control, ascending) and their statistics (groups × genes). `cell_groups[i]` is
/// the group of cell `i` (`None`: in no group); every group number up to the largest must have a
/// cell. Groups of a single cell are scored (NaN where the statistic needs two).
pub fn statistic_by_group<X: CellsByGenes>(
    x: &X,
    cell_groups: &[Option<usize>],
    control: usize,
    statistic: &TargetStatistic,
) -> Result<(Vec<usize>, Matrix), ModelError> {
    let (tested, mut scores) = statistics_by_group(x, cell_groups, control, &[statistic])?;
    Ok((tested, scores.pop().expect("one statistic asked")))
}

/// [`statistic_by_group`] for several statistics at once, one matrix each in the order asked:
/// the moments are summed once and the rank-sum z computed once for all of them (it is the
/// costly part, and `auto` evaluates every statistic on the same cells).
pub fn statistics_by_group<X: CellsByGenes>(
    x: &X,
    cell_groups: &[Option<usize>],
    control: usize,
    statistics: &[&TargetStatistic],
) -> Result<(Vec<usize>, Vec<Matrix>), ModelError> {
    let members = members(x.n_cells(), cell_groups, control)?;
    let wilcoxon = if statistics.iter().any(|s| s.ranks) {
        let de = rank_genes_vs_control_single_cells(x, cell_groups, control, DeMethod::Wilcoxon { tie_correct: true })
            .map_err(|e| ModelError::Parameter(e.to_string()))?;
        Some(de.scores)
    } else {
        None
    };
    let control_moments = moments(x, &members[control])?;
    let tested: Vec<usize> = (0..members.len()).filter(|&g| g != control).collect();
    let genes = x.n_genes();
    // Per group: every statistic's row of genes, one after the other.
    let rows: Vec<Vec<f64>> = tested
        .par_iter()
        .enumerate()
        .map(|(r, &g)| {
            let group = moments(x, &members[g])?;
            let mut row = Vec::with_capacity(statistics.len() * genes);
            for statistic in statistics {
                row.extend(group.iter().zip(&control_moments).enumerate().map(|(j, (&group, &control))| {
                    let wilcoxon = wilcoxon.as_ref().map_or(f64::NAN, |w| w.get(r, j));
                    statistic.value(&GeneEvidence { group, control, wilcoxon })
                }));
            }
            Ok(row)
        })
        .collect::<Result<_, ModelError>>()?;
    let matrices = (0..statistics.len())
        .map(|k| {
            let values: Vec<f64> = rows.iter().flat_map(|row| &row[k * genes..(k + 1) * genes]).copied().collect();
            Matrix::from_row_major(rows.len(), genes, values).expect("one value per group and gene")
        })
        .collect();
    Ok((tested, matrices))
}

/// The cells of each group, refusing what [`rank_genes_vs_control_single_cells`] refuses (with
/// its messages).
fn members(cells: usize, cell_groups: &[Option<usize>], control: usize) -> Result<Vec<Vec<usize>>, ModelError> {
    let refuse = |e: DeError| Err(ModelError::Parameter(e.to_string()));
    if cell_groups.len() != cells {
        return refuse(DeError::LabelCount { cells, labels: cell_groups.len() });
    }
    let groups = cell_groups.iter().flatten().max().map_or(0, |g| g + 1).max(control + 1);
    let mut members = vec![Vec::new(); groups];
    for (i, g) in cell_groups.iter().enumerate() {
        if let Some(g) = g {
            members[*g].push(i);
        }
    }
    if members[control].is_empty() {
        return refuse(DeError::MissingControl(control));
    }
    if groups < 2 {
        return refuse(DeError::NoContrast(control));
    }
    if let Some(group) = members.iter().position(Vec::is_empty) {
        return refuse(DeError::EmptyGroup { group });
    }
    Ok(members)
}

/// Each gene's moments over the given cells (two passes: the variance from the centred values).
fn moments<X: CellsByGenes>(x: &X, cells: &[usize]) -> Result<Vec<Moments>, ModelError> {
    let genes = x.n_genes();
    let (mut sum, mut detected) = (vec![0.0; genes], vec![0usize; genes]);
    let mut non_finite = None;
    for &i in cells {
        x.for_each_in_row(i, |j, v| {
            let v = v.to_f64();
            if !v.is_finite() {
                non_finite.get_or_insert((i, j));
            }
            if v != 0.0 {
                sum[j] += v;
                detected[j] += 1;
            }
        });
    }
    if let Some((cell, gene)) = non_finite {
        return Err(ModelError::Parameter(DeError::NonFinite { cell, gene }.to_string()));
    }
    let n = cells.len() as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    // Zeros are not visited: each contributes mean², added once per gene below.
    let mut squares = vec![0.0; genes];
    for &i in cells {
        x.for_each_in_row(i, |j, v| {
            let v = v.to_f64();
            if v != 0.0 {
                squares[j] += (v - mean[j]) * (v - mean[j]);
            }
        });
    }
    Ok((0..genes)
        .map(|j| {
            let zeros = n - detected[j] as f64;
            let variance =
                if cells.len() < 2 { f64::NAN } else { (squares[j] + zeros * mean[j] * mean[j]) / (n - 1.0) };
            Moments { cells: n, mean: mean[j], variance, detected: detected[j] as f64 }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(group: &[f64], control: &[f64]) -> GeneEvidence {
        GeneEvidence { group: Moments::of(group), control: Moments::of(control), wilcoxon: f64::NAN }
    }

    fn value(name: &str, e: &GeneEvidence) -> f64 {
        statistic(name).unwrap().value(e)
    }

    #[test]
    fn formulas_on_a_hand_computed_gene() {
        // Group 0, 2, 4: mean 2, variance 4, 2 of 3 detected. Controls 1, 1, 3, 3, 0: mean 1.6,
        // variance (2·0.36 + 2·1.96 + 2.56)/4 = 1.8, 4 of 5 detected; pooled detection 6/8.
        let e = evidence(&[0.0, 2.0, 4.0], &[1.0, 1.0, 3.0, 3.0, 0.0]);
        assert_eq!(e.group, Moments { cells: 3.0, mean: 2.0, variance: 4.0, detected: 2.0 });
        assert!((e.control.variance - 1.8).abs() < 1e-15 && e.control.mean == 1.6);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(value("welch", &e), 0.4 / (4.0 / 3.0 + 1.8 / 5.0f64).sqrt()));
        assert!(close(value("mean_z", &e), 0.4 / 1.8f64.sqrt()));
        let detection = (2.0 / 3.0 - 0.8) / (0.75 * 0.25 * (1.0 / 3.0 + 1.0 / 5.0f64)).sqrt();
        assert!(close(value("detection", &e), detection) && close(detection, -0.421_637_021_355_784), "{detection}");
        // Combined: the mean shift as a z (× 1/√(1/3 + 1/5)), detection and the rank z.
        let e = GeneEvidence { wilcoxon: 0.5, ..e };
        let z_mean = 0.4 / (1.8 * (1.0 / 3.0 + 1.0 / 5.0f64)).sqrt();
        assert!(close(value("combined", &e), (0.5 + z_mean + detection) / 3f64.sqrt()));
        assert_eq!(value("wilcoxon", &e), 0.5);
    }

    #[test]
    fn single_cells_and_constant_genes() {
        // One cell: no variance of its own, so Welch's t is undefined; the others are defined.
        let e = evidence(&[3.0], &[1.0, 2.0, 3.0]);
        assert!(e.group.variance.is_nan() && value("welch", &e).is_nan());
        assert_eq!(value("mean_z", &e), 1.0);
        assert_eq!(value("detection", &e), 0.0, "every value detected: no change in detection");
        for s in STATISTICS {
            assert_eq!(s.single_cell, !s.value(&GeneEvidence { wilcoxon: 0.0, ..e }).is_nan(), "{}", s.name);
        }
        // Controls all zero: no spread to measure the shift against; detection still rises.
        let e = evidence(&[0.0, 1.0], &[0.0, 0.0, 0.0]);
        assert_eq!(value("mean_z", &e), f64::INFINITY);
        assert!((value("detection", &e) - 0.5 / (0.2 * 0.8 * (0.5 + 1.0 / 3.0f64)).sqrt()).abs() < 1e-12);
        // Combined counts an undefined part (here the mean shift) as 0.
        let e = GeneEvidence { wilcoxon: 1.0, ..e };
        let want = (1.0 + value("detection", &e)) / 3f64.sqrt();
        assert!((value("combined", &e) - want).abs() < 1e-12);
    }

    #[test]
    fn the_registry_names_each_statistic_once_and_refuses_others() {
        for (i, s) in STATISTICS.iter().enumerate() {
            assert!(STATISTICS[..i].iter().all(|o| o.name != s.name), "{} twice", s.name);
            assert_eq!(statistic(s.name).unwrap(), s);
        }
        let e = statistic("ttest").unwrap_err().to_string();
        assert!(e.contains("no target statistic 'ttest'") && e.contains("wilcoxon, welch, mean_z"), "{e}");
    }

    #[test]
    fn groups_are_checked_as_the_rank_test_checks_them() {
        let x = Matrix::from_rows(&[[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]]).unwrap();
        let mean_z = statistic("mean_z").unwrap();
        let (groups, s) = statistic_by_group(&x, &[Some(0), Some(0), Some(1)], 0, mean_z).unwrap();
        // Controls (1, 0), (2, 1): means 1.5, 0.5, sd √0.5 each; the cell (0, 3).
        assert_eq!(groups, vec![1]);
        assert!((s.get(0, 0) + 1.5 / 0.5f64.sqrt()).abs() < 1e-12 && (s.get(0, 1) - 2.5 / 0.5f64.sqrt()).abs() < 1e-12);
        let err = |groups: &[Option<usize>]| statistic_by_group(&x, groups, 0, mean_z).unwrap_err().to_string();
        assert!(err(&[Some(0), Some(0)]).contains("3 cells but 2 group labels"));
        assert!(err(&[Some(1), Some(1), Some(1)]).contains("control group 0 has no cells"));
        assert!(err(&[Some(0), Some(0), Some(0)]).contains("no group besides the control"));
        assert!(err(&[Some(0), Some(0), Some(2)]).contains("group 1 has no cells"));
        let bad = Matrix::from_rows(&[[1.0], [f64::NAN]]).unwrap();
        let e = statistic_by_group(&bad, &[Some(0), Some(1)], 0, mean_z).unwrap_err().to_string();
        assert!(e.contains("cell 1, gene 0 is not finite"), "{e}");
    }
}
