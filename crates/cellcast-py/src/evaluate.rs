//! `cellcast.evaluate`: cell-eval 0.8.2 from Python, over files or AnnData in memory.

use cellcast::evaluate::{EvaluateOptions, Results, Scale};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::cells::hold_cells;
use crate::to_py;

fn scale(py: Python<'_>, s: Option<String>) -> PyResult<Option<Scale>> {
    s.map(|s| {
        Scale::parse(&s)
            .ok_or_else(|| to_py(py, cellcast::Error::input(format!("a scale is counts or log1p (got '{s}')"))))
    })
    .transpose()
}

/// A results table as (perturbations, columns, values as a 2-d float array, NaN where none).
fn table<'py>(py: Python<'py>, r: &Results) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    let (n, k) = (r.perturbations.len(), names.len());
    let mut values = Vec::with_capacity(n * k);
    for i in 0..n {
        values.extend(r.columns.iter().map(|c| c.values[i].unwrap_or(f64::NAN)));
    }
    let agg: Vec<f64> = {
        let a = r.aggregate();
        (0..9).flat_map(|s| a.iter().map(move |col| col[s].unwrap_or(f64::NAN))).collect()
    };
    let shape = |rows: usize, v: Vec<f64>| numpy::ndarray::Array2::from_shape_vec((rows, k), v).expect("shape");
    d.set_item("perturbations", &r.perturbations)?;
    d.set_item("columns", names)?;
    d.set_item("values", shape(n, values).into_pyarray(py))?;
    d.set_item("agg", shape(9, agg).into_pyarray(py))?;
    if let Some(scores) = &r.scores {
        let s: Vec<(String, f64)> = scores.iter().map(|s| (s.metric.clone(), s.from_baseline)).collect();
        d.set_item("scores", s)?;
    }
    Ok(d)
}

/// `evaluate(real, pred, pert_column, control, profile, celltype_column, embed_key, baseline,
/// de_real, de_pred, skip_metrics, ceiling_seed, allow_discrete, real_scale, pred_scale, out,
/// numpy_log1p)
/// -> dict(evaluations=[{celltype, results, ceiling}], run_json, written, notes, warnings)`.
#[pyfunction]
#[pyo3(signature = (real, pred, pert_column, control, profile, celltype_column, embed_key, baseline, de_real, de_pred,
    skip_metrics, ceiling_seed, allow_discrete, real_scale, pred_scale, out, numpy_log1p))]
#[allow(clippy::too_many_arguments)]
pub fn evaluate<'py>(
    py: Python<'py>,
    real: Bound<'py, PyAny>,
    pred: Option<Bound<'py, PyAny>>,
    pert_column: String,
    control: String,
    profile: String,
    celltype_column: Option<String>,
    embed_key: Option<String>,
    baseline: Option<Bound<'py, PyAny>>,
    de_real: Option<String>,
    de_pred: Option<String>,
    skip_metrics: Vec<String>,
    ceiling_seed: Option<u64>,
    allow_discrete: bool,
    real_scale: Option<String>,
    pred_scale: Option<String>,
    out: Option<String>,
    numpy_log1p: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let numpy_log1p = numpy_log1p
        .map(|name| {
            cellcast::evaluate::NumpyLog1p::parse(&name).ok_or_else(|| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "numpy_log1p: '{name}' is not one of {}",
                    cellcast::evaluate::NumpyLog1p::NAMES.join(", ")
                ))
            })
        })
        .transpose()?;
    let held_real = hold_cells(&real)?;
    let held_pred = pred.as_ref().map(hold_cells).transpose()?;
    let held_base = baseline.as_ref().map(hold_cells).transpose()?;
    let opts = EvaluateOptions {
        real: held_real.source()?,
        pred: held_pred.as_ref().map(|h| h.source()).transpose()?,
        baseline: held_base.as_ref().map(|h| h.source()).transpose()?,
        pert_column,
        control,
        profile,
        celltype_column,
        skip_metrics,
        allow_discrete,
        real_scale: scale(py, real_scale)?,
        pred_scale: scale(py, pred_scale)?,
        de_real: de_real.map(Into::into),
        de_pred: de_pred.map(Into::into),
        ceiling_seed,
        embed_key,
        numpy_log1p,
        out: out.map(Into::into),
        ..EvaluateOptions::default()
    };
    let observer = cellcast::Collect::default();
    let outcome = py.detach(|| cellcast::evaluate::evaluate(&opts, &observer)).map_err(|e| to_py(py, e))?;
    let d = PyDict::new(py);
    let mut evaluations = Vec::new();
    for e in &outcome.evaluations {
        let item = PyDict::new(py);
        item.set_item("celltype", &e.celltype)?;
        item.set_item("results", e.results.as_ref().map(|r| table(py, r)).transpose()?)?;
        if let Some(c) = &e.ceiling {
            let ceil = table(py, &c.results)?;
            ceil.set_item("corrected", c.corrected.clone())?;
            item.set_item("ceiling", ceil)?;
        } else {
            item.set_item("ceiling", py.None())?;
        }
        evaluations.push(item);
    }
    d.set_item("evaluations", evaluations)?;
    d.set_item("run_json", &outcome.run_json)?;
    d.set_item("written", &outcome.written)?;
    d.set_item("notes", observer.notes())?;
    d.set_item("warnings", observer.warnings())?;
    Ok(d)
}
