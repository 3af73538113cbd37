//! `cellcast._cellcast`: the native half of the Python package. Each function takes plain Python
//! values (lists, numpy arrays, tuples), calls one façade function with the GIL released, and
//! returns plain values plus what the façade's observer collected; `python/cellcast` turns those
//! into DataFrames, warnings and exceptions. Errors become the package's exception classes
//! (defined in Python, `cellcast._errors`) by the façade's `ErrorKind`.

use cellcast::engine::chem::MorganParams;
use cellcast::engine::data::split::{Part, SplitMethod};
use cellcast::{Collect, ErrorKind};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2};
use pyo3::exceptions::PyRuntimeError;
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
    for m in cellcast::engine::metrics::metrics() {
        let row = PyDict::new(py);
        row.set_item("name", m.name)?;
        row.set_item("direction", m.direction.as_str())?;
        row.set_item("inputs", m.inputs_text())?;
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
        row.set_item("missing_truth", m.missing_truth.describe())?;
        row.set_item("summary", m.summary)?;
        row.set_item("source", m.source)?;
        list.append(row)?;
    }
    Ok(list)
}

#[pymodule]
fn _cellcast(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(morgan, m)?)?;
    m.add_function(wrap_pyfunction!(scaffolds, m)?)?;
    m.add_function(wrap_pyfunction!(canonical_smiles, m)?)?;
    m.add_function(wrap_pyfunction!(split, m)?)?;
    m.add_function(wrap_pyfunction!(metrics, m)?)?;
    Ok(())
}
