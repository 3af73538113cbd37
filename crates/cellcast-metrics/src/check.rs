//! The one non-finite-value policy every metric follows, applied before any metric runs:
//! predictions, scores, weights and baselines must be finite; an infinite truth value is an
//! error; a missing (NaN) truth cell is masked only where the metric's reference masks it
//! ([`MissingTruth::Masked`]), and then counted so the caller can say so.

use cellcast_stats::Matrix;

use crate::error::{MetricError, NonFiniteCell, Result};
use crate::inputs::Inputs;
use crate::registry::{MetricInfo, MissingTruth};

/// Checks every input of `inputs` against the policy; returns how many truth cells are masked.
pub(crate) fn finite_inputs(info: &MetricInfo, inputs: &Inputs) -> Result<usize> {
    /// The inputs that must be finite everywhere, by role.
    type Complete<'a> = Vec<(&'static str, &'a Matrix)>;
    let (ids, columns, truth, others): (&[String], &[String], Option<&Matrix>, Complete) = match inputs {
        Inputs::Matrix(x) => {
            let mut others = vec![("prediction", x.pred)];
            others.extend(x.weights.map(|w| ("weights", w)));
            others.extend(x.baseline.map(|b| ("baseline", b)));
            (x.ids, x.targets, Some(x.truth), others)
        }
        Inputs::Labels(x) => (x.ids, x.label_names, Some(x.truth), vec![("prediction", x.scores)]),
        Inputs::Ranking(x) => (x.ids, x.candidates, None, vec![("prediction", x.scores)]),
    };
    let bad = |input: &'static str, i: usize, j: usize, v: f64, hint: &str| {
        MetricError::NonFinite(Box::new(NonFiniteCell {
            metric: info.name.to_string(),
            input,
            id: ids[i].clone(),
            column: columns[j].clone(),
            what: if v.is_nan() { "missing".to_string() } else { format!("{v}, not a finite number") },
            hint: hint.to_string(),
        }))
    };
    for (input, m) in others {
        if let Some((i, j, v)) = first_where(m, |v| !v.is_finite()) {
            return Err(bad(input, i, j, v, "every cell must be a finite number"));
        }
    }
    let Some(truth) = truth else { return Ok(0) };
    if let Some((i, j, v)) = first_where(truth, f64::is_infinite) {
        return Err(bad("truth", i, j, v, "no metric can score an infinite truth; fix or remove the cell"));
    }
    match info.missing_truth {
        MissingTruth::Masked(_) => Ok(truth.as_slice().iter().filter(|v| v.is_nan()).count()),
        MissingTruth::Refused => match first_where(truth, f64::is_nan) {
            Some((i, j, v)) => {
                Err(bad("truth", i, j, v, "this metric needs complete truth (it has no rule for a missing cell)"))
            }
            None => Ok(0),
        },
    }
}

/// The first cell (row, column, value) where `pred` holds, in row-major order.
fn first_where(m: &Matrix, pred: impl Fn(f64) -> bool) -> Option<(usize, usize, f64)> {
    let ncols = m.ncols().max(1);
    m.as_slice().iter().position(|&v| pred(v)).map(|k| (k / ncols, k % ncols, m.as_slice()[k]))
}
