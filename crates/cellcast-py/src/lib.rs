//! `cellcast._cellcast`: the native half of the Python package. Each function takes plain Python
//! values (lists, numpy arrays, tuples), calls one façade function with the GIL released, and
//! returns plain values plus what the façade's observer collected; `python/cellcast` turns those
//! into DataFrames, warnings and exceptions. Errors become the package's exception classes
//! (defined in Python, `cellcast._errors`) by the façade's `ErrorKind`.

mod cells;
mod evaluate;

use cellcast::engine::chem::MorganParams;
use cellcast::engine::data::split::{Part, SplitMethod};
use cellcast::table::{Frame, FrameColumn, Table};
use cellcast::{Collect, ErrorKind};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// The façade's error as the package's exception: `InputError` (a ValueError), `CellcastIOError`
/// (an OSError) or `ComputeError` (a RuntimeError), all `CellcastError`s, carrying the whole
/// message chain the CLI prints.
fn to_py(py: Python<'_>, error: cellcast::Error) -> PyErr {
    let class = match error.kind() {
        ErrorKind::Input => "InputError",
        ErrorKind::Io => "CellcastIOError",
        ErrorKind::Compute => "ComputeError",
    };
    let made = py
        .import("cellcast._errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((error.message().to_string(),)));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        // The package's Python half is missing (the module imported on its own): still an error.
        Err(_) => PyRuntimeError::new_err(error.message().to_string()),
    }
}

/// Rows that failed, with the reason: `[(row, reason), …]`.
type Failures = Vec<(usize, String)>;

fn failures<T, E: std::fmt::Display>(results: &[Result<T, E>]) -> Failures {
    results.iter().enumerate().filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e.to_string()))).collect()
}

/// `morgan(smiles, radius, n_bits, counts, chirality) -> (array (n, n_bits), failures)`: uint8
/// bits or uint32 counts; a failed row is all zero and listed in `failures`.
#[pyfunction]
#[pyo3(signature = (smiles, radius, n_bits, counts, chirality))]
fn morgan<'py>(
    py: Python<'py>,
    smiles: Vec<String>,
    radius: u32,
    n_bits: u32,
    counts: bool,
    chirality: bool,
) -> PyResult<(Bound<'py, PyAny>, Failures)> {
    let params = MorganParams { radius, nbits: n_bits, chirality };
    let n = smiles.len();
    let width = n_bits as usize;
    if counts {
        let (matrix, failed) = py
            .detach(|| -> cellcast::Result<_> {
                let results = cellcast::chem::morgan_counts(&smiles, params)?;
                let mut matrix = vec![0u32; n * width];
                for (row, r) in results.iter().enumerate() {
                    if let Ok(fp) = r {
                        for &(bit, count) in fp.entries() {
                            matrix[row * width + bit as usize] = count;
                        }
                    }
                }
                Ok((matrix, failures(&results)))
            })
            .map_err(|e| to_py(py, e))?;
        Ok((array2(py, n, width, matrix)?.into_any(), failed))
    } else {
        let (matrix, failed) = py
            .detach(|| -> cellcast::Result<_> {
                let results = cellcast::chem::morgan_bits(&smiles, params)?;
                let mut matrix = vec![0u8; n * width];
                for (row, r) in results.iter().enumerate() {
                    if let Ok(fp) = r {
                        for bit in fp.on_bits() {
                            matrix[row * width + bit as usize] = 1;
                        }
                    }
                }
                Ok((matrix, failures(&results)))
            })
            .map_err(|e| to_py(py, e))?;
        Ok((array2(py, n, width, matrix)?.into_any(), failed))
    }
}

fn array2<T: numpy::Element>(
    py: Python<'_>,
    rows: usize,
    cols: usize,
    data: Vec<T>,
) -> PyResult<Bound<'_, PyArray2<T>>> {
    let array = Array2::from_shape_vec((rows, cols), data).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(array.into_pyarray(py))
}

/// `scaffolds(smiles, generic) -> (values, failures)`: RDKit's Murcko scaffold SMILES, `None`
/// where the molecule could not be read.
#[pyfunction]
#[pyo3(signature = (smiles, generic))]
fn scaffolds(py: Python<'_>, smiles: Vec<String>, generic: bool) -> (Vec<Option<String>>, Failures) {
    py.detach(|| {
        let results = cellcast::chem::scaffolds(&smiles, generic);
        let failed = failures(&results);
        (results.into_iter().map(Result::ok).collect(), failed)
    })
}

/// `canonical_smiles(smiles) -> (values, failures)`: RDKit's canonical isomeric SMILES.
#[pyfunction]
#[pyo3(signature = (smiles,))]
fn canonical_smiles(py: Python<'_>, smiles: Vec<String>) -> (Vec<Option<String>>, Failures) {
    py.detach(|| {
        let results = cellcast::chem::canonical_smiles(&smiles);
        let failed = failures(&results);
        (results.into_iter().map(Result::ok).collect(), failed)
    })
}

/// `split(smiles, method, folds, seed, fractions) -> (folds or parts, notes)`: a list of fold
/// numbers for the k-fold methods, of "train"/"valid"/"test" for the others.
#[pyfunction]
#[pyo3(signature = (smiles, method, folds, seed, fractions))]
fn split<'py>(
    py: Python<'py>,
    smiles: Vec<String>,
    method: &str,
    folds: usize,
    seed: u64,
    fractions: (f64, f64, f64),
) -> PyResult<(Bound<'py, PyList>, Vec<String>)> {
    let method: SplitMethod = method.parse().map_err(|e: String| to_py(py, cellcast::Error::input(e)))?;
    let observer = Collect::default();
    let parts = py
        .detach(|| cellcast::chem::split_smiles(&smiles, method, folds, seed, fractions, &observer))
        .map_err(|e| to_py(py, e))?;
    let list = PyList::empty(py);
    for p in parts {
        match p {
            Part::Fold(k) => list.append(k)?,
            other => list.append(other.to_string())?,
        }
    }
    Ok((list, observer.notes()))
}

/// `metrics() -> list[dict]`: the scorer registry, as `cellcast metrics --json` lists it.
#[pyfunction]
fn metrics(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for m in cellcast::score::metrics() {
        let row = PyDict::new(py);
        row.set_item("name", m.name)?;
        row.set_item("direction", m.direction)?;
        row.set_item("inputs", m.inputs)?;
        let params = PyList::empty(py);
        for p in m.params {
            let d = PyDict::new(py);
            d.set_item("key", p.key)?;
            d.set_item("default", p.default)?;
            d.set_item("required", p.default.is_none())?;
            d.set_item("help", p.help)?;
            params.append(d)?;
        }
        row.set_item("params", params)?;
        row.set_item("missing_truth", m.missing_truth)?;
        row.set_item("summary", m.summary)?;
        row.set_item("source", m.source)?;
        list.append(row)?;
    }
    Ok(list)
}

/// A table argument: a path, or `(name, [(column, kind, values), …])` as `_util.table_arg`
/// makes it (kind: float, int, bool or text; numbers as numpy arrays, text as lists).
fn table(arg: Option<Bound<'_, PyAny>>) -> PyResult<Option<Table>> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else { return Ok(None) };
    if let Ok(path) = arg.extract::<String>() {
        return Ok(Some(Table::Path(path.into())));
    }
    let (name, specs): (String, Vec<(String, String, Bound<'_, PyAny>)>) = arg.extract()?;
    let mut columns = Vec::with_capacity(specs.len());
    for (column, kind, values) in specs {
        // The frame owns its columns (the façade reads it on worker threads), so one copy here.
        let values = match kind.as_str() {
            "float" => FrameColumn::Float(values.extract::<PyReadonlyArray1<f64>>()?.as_array().to_vec()),
            "int" => FrameColumn::Int(values.extract::<PyReadonlyArray1<i64>>()?.as_array().to_vec()),
            "bool" => FrameColumn::Bool(values.extract::<PyReadonlyArray1<bool>>()?.as_array().to_vec()),
            _ => FrameColumn::Text(values.extract::<Vec<Option<String>>>()?),
        };
        columns.push((column, values));
    }
    Ok(Some(Table::Frame(Frame { name, columns })))
}

fn required_table(arg: Bound<'_, PyAny>, what: &str) -> PyResult<Table> {
    table(Some(arg))?.ok_or_else(|| PyValueError::new_err(format!("{what} is required (a DataFrame or a path)")))
}

/// `score(metric, truth, pred, *, weights, baseline, group_by, id_column, params) -> dict`:
/// metric, value, direction, breakdown (its key), entries [(id, value)], details, n_scored,
/// n_skipped, n_masked, warnings, params [(key, value)].
#[pyfunction]
#[pyo3(signature = (metric, truth, pred, *, weights, baseline, group_by, id_column, params))]
#[allow(clippy::too_many_arguments)]
fn score<'py>(
    py: Python<'py>,
    metric: String,
    truth: Bound<'py, PyAny>,
    pred: Bound<'py, PyAny>,
    weights: Option<Bound<'py, PyAny>>,
    baseline: Option<Bound<'py, PyAny>>,
    group_by: Option<String>,
    id_column: String,
    params: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = cellcast::score::ScoreOptions {
        metric,
        truth: required_table(truth, "truth")?,
        pred: required_table(pred, "pred")?,
        weights: table(weights)?,
        baseline: table(baseline)?,
        group_by,
        id_column,
        params,
    };
    // The metric's warnings come back in the outcome; the observer's copies are not needed.
    let outcome = py.detach(|| cellcast::score::score(&opts, &cellcast::Silent)).map_err(|e| to_py(py, e))?;
    let s = &outcome.score;
    let out = PyDict::new(py);
    out.set_item("metric", &s.metric)?;
    out.set_item("value", s.value)?;
    out.set_item("direction", s.direction.as_str())?;
    out.set_item("breakdown", s.breakdown.key())?;
    out.set_item("entries", s.entries.clone())?;
    let details = PyDict::new(py);
    for (k, v) in &s.details {
        details.set_item(k, v)?;
    }
    out.set_item("details", details)?;
    out.set_item("n_scored", s.n_scored)?;
    out.set_item("n_skipped", s.n_skipped)?;
    out.set_item("n_masked", s.n_masked)?;
    out.set_item("warnings", s.warnings.clone())?;
    out.set_item("params", outcome.params.clone())?;
    Ok(out)
}

/// `compare(truth, preds [(name, table)], *, metrics, weights, baseline, group_by, params, folds,
/// bootstrap, seed, id_column, out) -> dict`: models, metrics [(name, direction)], reference,
/// leaderboard / pairwise / rank_agreement / folds as {column: values}, headline, units,
/// unit_kind, warnings, written.
#[pyfunction]
#[pyo3(signature = (truth, preds, *, metrics, weights, baseline, group_by, params, folds, bootstrap, seed, id_column, out))]
#[allow(clippy::too_many_arguments)]
fn compare<'py>(
    py: Python<'py>,
    truth: Bound<'py, PyAny>,
    preds: Vec<(String, Bound<'py, PyAny>)>,
    metrics: Vec<String>,
    weights: Option<Bound<'py, PyAny>>,
    baseline: Option<Bound<'py, PyAny>>,
    group_by: Option<String>,
    params: Vec<(String, String)>,
    folds: Option<Bound<'py, PyAny>>,
    bootstrap: usize,
    seed: u64,
    id_column: String,
    out: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = cellcast::compare::CompareOptions {
        truth: required_table(truth, "truth")?,
        preds: preds
            .into_iter()
            .map(|(name, t)| Ok((name.clone(), required_table(t, &format!("prediction '{name}'"))?)))
            .collect::<PyResult<_>>()?,
        metrics,
        weights: table(weights)?,
        baseline: table(baseline)?,
        group_by,
        params,
        folds: table(folds)?,
        bootstrap,
        seed,
        id_column,
        out: out.map(Into::into),
        cells: None,
    };
    let o = py.detach(|| cellcast::compare::compare(&opts, &cellcast::Silent)).map_err(|e| to_py(py, e))?;
    let d = PyDict::new(py);
    d.set_item("models", o.models.clone())?;
    d.set_item("metrics", o.metrics.iter().map(|(m, dir)| (m.clone(), dir.as_str())).collect::<Vec<_>>())?;
    d.set_item("reference", o.reference)?;
    let board = PyDict::new(py);
    board.set_item("model", o.board.iter().map(|r| r.model.clone()).collect::<Vec<_>>())?;
    board.set_item("metric", o.board.iter().map(|r| r.metric.clone()).collect::<Vec<_>>())?;
    board.set_item("score", o.board.iter().map(|r| r.score).collect::<Vec<_>>())?;
    board.set_item("rank", o.board.iter().map(|r| r.rank).collect::<Vec<_>>())?;
    board.set_item("ci_low", o.board.iter().map(|r| r.ci_low).collect::<Vec<_>>())?;
    board.set_item("ci_high", o.board.iter().map(|r| r.ci_high).collect::<Vec<_>>())?;
    board.set_item("direction", o.board.iter().map(|r| r.direction.as_str()).collect::<Vec<_>>())?;
    d.set_item("leaderboard", board)?;
    let pairs = PyDict::new(py);
    pairs.set_item("metric", o.pairs.iter().map(|r| r.metric.clone()).collect::<Vec<_>>())?;
    pairs.set_item("model_a", o.pairs.iter().map(|r| r.model_a.clone()).collect::<Vec<_>>())?;
    pairs.set_item("model_b", o.pairs.iter().map(|r| r.model_b.clone()).collect::<Vec<_>>())?;
    pairs.set_item("delta", o.pairs.iter().map(|r| r.delta).collect::<Vec<_>>())?;
    pairs.set_item("ci_low", o.pairs.iter().map(|r| r.ci_low).collect::<Vec<_>>())?;
    pairs.set_item("ci_high", o.pairs.iter().map(|r| r.ci_high).collect::<Vec<_>>())?;
    pairs.set_item("p", o.pairs.iter().map(|r| r.p).collect::<Vec<_>>())?;
    pairs.set_item("p_resolution", o.pairs.iter().map(|r| r.p_resolution).collect::<Vec<_>>())?;
    pairs.set_item("resamples", o.pairs.iter().map(|r| r.resamples).collect::<Vec<_>>())?;
    d.set_item("pairwise", pairs)?;
    let agree = PyDict::new(py);
    agree.set_item("metric_a", o.agreement.iter().map(|r| r.metric_a.clone()).collect::<Vec<_>>())?;
    agree.set_item("metric_b", o.agreement.iter().map(|r| r.metric_b.clone()).collect::<Vec<_>>())?;
    agree.set_item("kendall_tau", o.agreement.iter().map(|r| r.kendall_tau).collect::<Vec<_>>())?;
    agree.set_item("inversions", o.agreement.iter().map(|r| r.inversions).collect::<Vec<_>>())?;
    agree.set_item("pairs", o.agreement.iter().map(|r| r.pairs).collect::<Vec<_>>())?;
    d.set_item("rank_agreement", agree)?;
    let folds = PyDict::new(py);
    folds.set_item("model", o.folds.iter().map(|r| r.model.clone()).collect::<Vec<_>>())?;
    folds.set_item("metric", o.folds.iter().map(|r| r.metric.clone()).collect::<Vec<_>>())?;
    folds.set_item("fold", o.folds.iter().map(|r| r.fold.clone()).collect::<Vec<_>>())?;
    folds.set_item("score", o.folds.iter().map(|r| r.score).collect::<Vec<_>>())?;
    d.set_item("folds", folds)?;
    d.set_item("headline", cellcast::report::compare::headline(&o))?;
    d.set_item("units", o.units)?;
    d.set_item("unit_kind", o.unit_kind)?;
    d.set_item("warnings", o.warnings.clone())?;
    d.set_item("written", o.written.clone())?;
    Ok(d)
}

#[pymodule]
fn _cellcast(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(morgan, m)?)?;
    m.add_function(wrap_pyfunction!(scaffolds, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_smiles, m)?)?;
    m.add_function(wrap_pyfunction!(split, m)?)?;
    m.add_function(wrap_pyfunction!(metrics, m)?)?;
    m.add_function(wrap_pyfunction!(score, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(cells::pseudobulk, m)?)?;
    m.add_function(wrap_pyfunction!(cells::targets_rank, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate::evaluate, m)?)?;
    Ok(())
}

/// `run(task_dir, out, split, folds, seed, models, split_file, predictions) -> dict`: leaderboard
/// [(column, values)], submission {id_column, ids, columns, values}, selected, notes, warnings.
#[pyfunction]
#[pyo3(signature = (task_dir, out, split, folds, seed, models, split_file=None, predictions=Vec::new()))]
#[allow(clippy::too_many_arguments)]
fn run<'py>(
    py: Python<'py>,
    task_dir: String,
    out: Option<String>,
    split: &str,
    folds: usize,
    seed: u64,
    models: Option<Vec<String>>,
    split_file: Option<String>,
    predictions: Vec<(String, String)>,
) -> PyResult<Bound<'py, PyDict>> {
    let split = match split {
        "scaffold" | "scaffold-kfold" => SplitMethod::ScaffoldKfold,
        "random" | "random-kfold" => SplitMethod::RandomKfold,
        other => {
            return Err(to_py(py, cellcast::Error::input(format!("split must be scaffold or random (got '{other}')"))))
        }
    };
    // The folds of a split file replace the split and the fold count.
    let own_folds = split_file.is_none();
    let opts = cellcast::run::RunOptions {
        task: task_dir.into(),
        out: out.map(Into::into),
        split: own_folds.then_some(split),
        folds: own_folds.then_some(folds),
        seed,
        models: models.unwrap_or_default(),
        split_file: split_file.map(Into::into),
        predictions: predictions.into_iter().map(|(n, p)| (n, p.into())).collect(),
        ..Default::default()
    };
    let observer = Collect::default();
    let outcome = py.detach(|| cellcast::run::run(&opts, &observer)).map_err(|e| to_py(py, e))?;
    let rows = &outcome.leaderboard;
    let board = PyList::empty(py);
    board.append(("model", rows.iter().map(|r| r.model.clone()).collect::<Vec<_>>()))?;
    board.append(("metric", rows.iter().map(|r| r.metric.clone()).collect::<Vec<_>>()))?;
    board.append(("direction", rows.iter().map(|r| r.direction.as_str()).collect::<Vec<_>>()))?;
    board.append(("score", rows.iter().map(|r| r.score).collect::<Vec<_>>()))?;
    board.append(("fold_mean", rows.iter().map(|r| r.fold_mean).collect::<Vec<_>>()))?;
    board.append(("fold_sd", rows.iter().map(|r| r.fold_sd).collect::<Vec<_>>()))?;
    board.append(("rank", rows.iter().map(|r| r.rank).collect::<Vec<_>>()))?;
    board.append(("selected", rows.iter().map(|r| r.selected).collect::<Vec<_>>()))?;
    let sub = &outcome.submission;
    let submission = PyDict::new(py);
    submission.set_item("id_column", &sub.id_column)?;
    submission.set_item("ids", &sub.ids)?;
    submission.set_item("columns", &sub.columns)?;
    submission
        .set_item("values", array2(py, sub.values.nrows(), sub.values.ncols(), sub.values.as_slice().to_vec())?)?;
    let d = PyDict::new(py);
    d.set_item("leaderboard", board)?;
    d.set_item("submission", submission)?;
    d.set_item("selected", &outcome.selected)?;
    d.set_item("notes", observer.notes())?;
    d.set_item("warnings", observer.warnings())?;
    Ok(d)
}
