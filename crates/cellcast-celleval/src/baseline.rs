//! `cell-eval baseline` (`cell_eval/_baseline.py::build_base_mean_adata`): the prediction every
//! model is scored against in the Virtual Cell Challenge. Each perturbation's cells (as many as
//! in the real data) are predicted as one vector — the mean of every perturbation's mean,
//! control included — and the real control cells are kept as they are, normalised like the real
//! data.
//!
//! cell-eval orders the perturbation blocks by a polars `group_by` (in no fixed order) and
//! averages the means in that order; here both follow the perturbations' order, so the vector
//! can differ from one cell-eval run in the last float32 bit.

use cellcast_stats::sparse::CsrMatrix;

use crate::error::Result;
use crate::screen::Screen;
use crate::summary::Summary;

/// The baseline AnnData: predicted cells first (perturbation blocks), then the control cells.
pub struct Baseline {
    pub x: CsrMatrix<f64>,
    pub obs_names: Vec<String>,
    /// Every cell's perturbation (index into `perturbations`).
    pub codes: Vec<u32>,
    pub perturbations: Vec<String>,
    pub control_cells: usize,
}

/// Builds the baseline of `screen` (summarised without DE) with `obs_names` of the real file.
pub fn baseline(screen: &Screen<'_>, summary: &Summary, obs_names: &[String]) -> Result<Baseline> {
    let p = summary.precision;
    let n_genes = summary.n_genes;
    let n_pert = summary.perturbations.len();
    // numpy's mean over axis 0 of the (perturbation × gene) means: rows added one after another.
    let mut mean = vec![0.0; n_genes];
    for g in 0..n_pert {
        for (m, v) in mean.iter_mut().zip(summary.bulk_row(g)) {
            *m = p.round(*m + v);
        }
    }
    for m in &mut mean {
        *m = p.round(*m / n_pert as f64);
    }
    let nonzero: Vec<u32> = (0..n_genes as u32).filter(|&j| mean[j as usize] != 0.0).collect();
    let values: Vec<f64> = nonzero.iter().map(|&j| mean[j as usize]).collect();

    let (mut indptr, mut indices, mut data) = (vec![0usize], Vec::new(), Vec::new());
    let (mut names, mut codes) = (Vec::new(), Vec::new());
    for g in (0..n_pert).filter(|&g| g != screen.control) {
        for _ in 0..screen.sizes[g] {
            names.push(format!("p.{}", names.len()));
            codes.push(g as u32);
            indices.extend_from_slice(&nonzero);
            data.extend_from_slice(&values);
            indptr.push(data.len());
        }
    }
    let rows = screen.cell_rows()?;
    let control_rows = rows.select(&screen.rows_by_perturbation(&rows)[screen.control]);
    for r in 0..control_rows.len() {
        let (idx, vals) = control_rows.row(r);
        names.push(obs_names[control_rows.cell(r)].clone());
        codes.push(screen.control as u32);
        indices.extend_from_slice(idx);
        data.extend_from_slice(vals);
        indptr.push(data.len());
    }
    let x = CsrMatrix::new(names.len(), n_genes, indptr, indices, data)
        .map_err(|e| crate::error::input(format!("internal error building the baseline: {e}")))?;
    Ok(Baseline {
        x,
        obs_names: names,
        codes,
        perturbations: summary.perturbations.clone(),
        control_cells: control_rows.len(),
    })
}
