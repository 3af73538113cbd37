//! The metrics that need more than pseudobulks: `pearson_edistance` (every cell), the
//! discrimination scores on an obsm embedding (`--embed-key`) and `clustering_agreement`
//! (float64 centroids).

use cellcast_metrics::celleval::Distance;
use rayon::prelude::*;

use crate::error::{input, Result};
use crate::screen::Screen;
use crate::summary::Summary;
use crate::{MetricColumn, Reporter};

/// discrimination_score_l2 / _cosine on the perturbations' mean embeddings (`obsm[key]`),
/// every dimension compared (no gene to drop in an embedding).
pub(crate) fn embedding_discrimination(
    metric: &str,
    real: &Screen<'_>,
    pred: &Screen<'_>,
    key: &str,
    perturbations: &[String],
) -> Result<Option<Vec<MetricColumn>>> {
    let effects = |s: &Screen<'_>| -> Result<(Vec<f64>, usize)> {
        let e = s.obsm(key)?;
        let dims = e.ncols();
        let mut sums = vec![0.0; s.perturbations.len() * dims];
        for (c, &g) in s.perturbation_of_cell.iter().enumerate() {
            if g != u32::MAX {
                for (acc, v) in sums[g as usize * dims..(g as usize + 1) * dims].iter_mut().zip(e.row(c)) {
                    *acc += v;
                }
            }
        }
        let mean =
            |g: usize| -> Vec<f64> { sums[g * dims..(g + 1) * dims].iter().map(|v| v / s.sizes[g] as f64).collect() };
        let control = mean(s.control);
        let mut out = Vec::with_capacity(perturbations.len() * dims);
        for p in perturbations {
            let g = s.perturbations.iter().position(|q| q == p).expect("checked");
            out.extend(mean(g).iter().zip(&control).map(|(a, b)| a - b));
        }
        Ok((out, dims))
    };
    let ((real_e, dims), (pred_e, pred_dims)) = (effects(real)?, effects(pred)?);
    if dims != pred_dims {
        return Err(input(format!(
            "obsm '{key}' has {dims} dimensions in {} but {pred_dims} in {}",
            real.name, pred.name
        )));
    }
    let unnamed = vec![String::new(); dims];
    let labels: Vec<&str> = perturbations.iter().map(String::as_str).collect();
    let d = if metric.ends_with("l2") { Distance::L2 } else { Distance::Cosine };
    Ok(cellcast_metrics::celleval::discrimination_scores(&real_e, &pred_e, &unnamed, &labels, d)
        .map(|v| vec![MetricColumn { name: metric.into(), values: v.into_iter().map(Some).collect() }]))
}

/// cell-eval's `ClusteringAgreement` on the float64 centroids of the perturbations (sorted,
/// control excluded); an error (cell-eval raises, and leaves the column out) says why.
pub(crate) fn clustering_agreement(
    real: &Summary,
    pred: &Summary,
    perturbations: &[String],
) -> std::result::Result<f64, String> {
    let centroids = |s: &Summary| {
        let rows: Vec<&[f64]> = perturbations
            .iter()
            .map(|p| s.centroid_row(s.perturbations.iter().position(|q| q == p).expect("checked")))
            .collect();
        cellcast_stats::Matrix::from_rows(&rows).ok_or_else(|| "no perturbation".to_string())
    };
    cellcast_stats::cluster::clustering_agreement(&centroids(real)?, &centroids(pred)?).map_err(|e| e.to_string())
}

/// `pearson_edistance`; `None` (column left out) with fewer than two perturbations, where
/// scipy's pearsonr raises.
pub(crate) fn pearson_edistance(
    real: &Screen<'_>,
    pred: &Screen<'_>,
    perturbations: &[String],
    reporter: &dyn Reporter,
) -> Result<Option<Vec<MetricColumn>>> {
    use crate::edistance::{energy_distance, kernel, mean_distance, Cells};
    if perturbations.len() < 2 {
        return Ok(None);
    }
    let distances = |s: &Screen<'_>| -> Result<Vec<f64>> {
        reporter.note(&format!("{}: energy distances of {} perturbations", s.name, perturbations.len()));
        let rows = s.cell_rows()?;
        let by_perturbation = s.rows_by_perturbation(&rows);
        let n_genes = s.n_genes();
        let precision = s.precision;
        let kernel = kernel(&rows.stored_per_gene(n_genes), rows.len());
        // Each set's rows copied out of the held ones (compact storage) as float64.
        let control_rows = rows.select(&by_perturbation[s.control]);
        let control = Cells::new(control_rows.sparse_rows(), n_genes, &kernel);
        let sigma = mean_distance(precision, &control, None);
        let groups: Vec<usize> =
            perturbations.iter().map(|p| s.perturbations.iter().position(|q| q == p).expect("checked")).collect();
        Ok(groups
            .into_par_iter()
            .map(|g| {
                let set = rows.select(&by_perturbation[g]);
                energy_distance(precision, &Cells::new(set.sparse_rows(), n_genes, &kernel), &control, sigma)
            })
            .collect())
    };
    let (dr, dp) = rayon::join(|| distances(real), || distances(pred));
    let (dr, dp) = (dr?, dp?);
    let r = cellcast_stats::correlation::pearson(&dr, &dp);
    Ok(Some(vec![MetricColumn { name: "pearson_edistance".into(), values: vec![Some(r); perturbations.len()] }]))
}
