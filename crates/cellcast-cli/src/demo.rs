//! `cellcast demo`: three kinds of model scored on built-in synthetic data under several
//! metrics, to show in seconds what cellcast does and why one metric is not enough.

use anyhow::Result;
use cellcast_metrics::{resolve, score, Direction, Inputs, MatrixInputs, Params};
use cellcast_stats::rng::SplitMix64;
use cellcast_stats::Matrix;

use crate::report::fmt;

const COMPOUNDS: usize = 60;
const GENES: usize = 40;

/// Truth: a per-gene baseline plus, per compound, a strong response on a few genes and small
/// noise elsewhere — the sparse shape of real perturbation signatures.
fn synthetic_truth(rng: &mut SplitMix64) -> (Vec<f64>, Matrix) {
    let base: Vec<f64> = (0..GENES).map(|_| rng.normal()).collect();
    let mut truth = Matrix::filled(COMPOUNDS, GENES, 0.0);
    for i in 0..COMPOUNDS {
        for (cell, b) in truth.row_mut(i).iter_mut().zip(&base) {
            let hit = rng.uniform() < 0.15;
            let effect = if hit { 2.5 * rng.normal() } else { 0.0 };
            *cell = b + effect + 0.3 * rng.normal();
        }
    }
    (base, truth)
}

pub fn run() -> Result<()> {
    let mut rng = SplitMix64::new(20_261_121);
    let (base, truth) = synthetic_truth(&mut rng);
    let ids: Vec<String> = (0..COMPOUNDS).map(|i| format!("cmpd_{i:02}")).collect();
    let genes: Vec<String> = (0..GENES).map(|j| format!("gene_{j:02}")).collect();

    // Three archetypes of the field's models.
    let mut models: Vec<(&str, Matrix)> = Vec::new();
    let mut mean = Matrix::filled(COMPOUNDS, GENES, 0.0);
    let mut shrunk = Matrix::filled(COMPOUNDS, GENES, 0.0);
    let mut noisy = Matrix::filled(COMPOUNDS, GENES, 0.0);
    for i in 0..COMPOUNDS {
        for (j, &b) in base.iter().enumerate() {
            let effect = truth.get(i, j) - b;
            mean.set(i, j, b);
            // Smooth model: right direction, a third of the magnitude, a little noise.
            shrunk.set(i, j, b + 0.35 * effect + 0.2 * rng.normal());
            // Retrieval-like model: full magnitude, but a neighbour's noise on top.
            noisy.set(i, j, b + effect + 1.1 * rng.normal());
        }
    }
    models.push(("mean baseline", mean));
    models.push(("smooth (shrunk)", shrunk));
    models.push(("retrieval-like", noisy));

    // DEG-style weights: each compound's squared true effect, normalised per compound, so the
    // genes that respond dominate (the idea behind Mejia et al.'s and the VCPI contest's weights).
    let mut weights = Matrix::filled(COMPOUNDS, GENES, 0.0);
    for i in 0..COMPOUNDS {
        let sq: Vec<f64> = (0..GENES).map(|j| (truth.get(i, j) - base[j]).powi(2)).collect();
        let total: f64 = sq.iter().sum();
        for (j, v) in sq.iter().enumerate() {
            weights.set(i, j, v / total);
        }
    }

    let metric_names = ["polaris/mean_squared_error", "polaris/pearsonr", "vcpi/wmse"];
    let mut out = String::new();
    outln!(out, "cellcast demo: {COMPOUNDS} synthetic compounds × {GENES} genes, three archetypal models");
    outln!(out, "(built-in data; the point is how the metrics disagree, not the numbers themselves)\n");
    outf!(out, "{:<18}", "model");
    for m in metric_names {
        outf!(out, "{m:>30}");
    }
    outln!(out);
    let mut table: Vec<Vec<f64>> = Vec::new();
    for (_, pred) in &models {
        let mut row = Vec::new();
        for m in metric_names {
            let (info, params) = resolve(m, &Params::default())?;
            let w = (m == "vcpi/wmse").then_some(&weights);
            let inputs = MatrixInputs { ids: &ids, targets: &genes, truth: &truth, pred, weights: w, baseline: None };
            row.push(score(info, Inputs::Matrix(inputs), &params)?.value);
        }
        table.push(row);
    }
    for (k, (name, _)) in models.iter().enumerate() {
        outf!(out, "{name:<18}");
        for (c, m) in metric_names.iter().enumerate() {
            let (info, _) = resolve(m, &Params::default())?;
            let better = |a: f64, b: f64| match info.direction {
                Direction::LowerIsBetter => a < b,
                Direction::HigherIsBetter => a > b,
            };
            let value = table[k][c];
            let cell = if value.is_nan() {
                "undefined".to_string()
            } else {
                let rank = 1 + table.iter().filter(|r| better(r[c], value)).count();
                format!("{} (#{rank})", fmt(value))
            };
            outf!(out, "{cell:>30}");
        }
        outln!(out);
    }
    outln!(out, "\nMSE crowns the smooth model; the DEG-weighted MSE (weights on the genes each compound");
    outln!(out, "moves) crowns the retrieval-like one: the metric picks the winner. Per-gene Pearson is");
    outln!(out, "undefined for a constant prediction such as the mean baseline.");
    outln!(out, "Score your own files: `cellcast score --help`; all metrics: `cellcast metrics`.");
    crate::emit(&out)
}
