//! In-memory AnnData from Python: numpy arrays borrowed (read-only, no copy) as the slices of an
//! `AnnDataView`, and the single-cell workflows over it.

use cellcast::cells::CellsSource;
use cellcast::engine::data::anndata::{Indices, MatrixView, Values};
use cellcast::engine::data::h5ad::Categorical;
use cellcast::engine::data::pseudobulk::{Aggregation, Normalization};
use cellcast::engine::data::{AnnColumn, AnnDataView};
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::to_py;

/// A numpy array held (borrowed read-only) while the workflow runs.
enum Held<'py> {
    F64(PyReadonlyArray1<'py, f64>),
    F32(PyReadonlyArray1<'py, f32>),
    I64(PyReadonlyArray1<'py, i64>),
    I32(PyReadonlyArray1<'py, i32>),
    I16(PyReadonlyArray1<'py, i16>),
    I8(PyReadonlyArray1<'py, i8>),
    U64(PyReadonlyArray1<'py, u64>),
    U32(PyReadonlyArray1<'py, u32>),
    U16(PyReadonlyArray1<'py, u16>),
    U8(PyReadonlyArray1<'py, u8>),
    Bool(PyReadonlyArray1<'py, bool>),
}

fn hold<'py>(a: &Bound<'py, PyAny>) -> PyResult<Held<'py>> {
    macro_rules! try_as {
        ($($v:ident: $t:ty),*) => {$(
            if let Ok(x) = a.extract::<PyReadonlyArray1<'py, $t>>() {
                return Ok(Held::$v(x));
            }
        )*};
    }
    try_as!(F64: f64, F32: f32, I64: i64, I32: i32, I16: i16, I8: i8, U64: u64, U32: u32, U16: u16, U8: u8, Bool: bool);
    Err(PyValueError::new_err("a matrix array must be a 1-d numpy array of numbers"))
}

fn slice<'a, T: numpy::Element>(a: &'a PyReadonlyArray1<'_, T>) -> PyResult<&'a [T]> {
    a.as_slice().map_err(|e| PyValueError::new_err(format!("a matrix array is not contiguous: {e}")))
}

impl Held<'_> {
    fn values(&self) -> PyResult<Values<'_>> {
        Ok(match self {
            Held::F64(a) => Values::F64(slice(a)?),
            Held::F32(a) => Values::F32(slice(a)?),
            Held::I64(a) => Values::I64(slice(a)?),
            Held::I32(a) => Values::I32(slice(a)?),
            Held::I16(a) => Values::I16(slice(a)?),
            Held::I8(a) => Values::I8(slice(a)?),
            Held::U64(a) => Values::U64(slice(a)?),
            Held::U32(a) => Values::U32(slice(a)?),
            Held::U16(a) => Values::U16(slice(a)?),
            Held::U8(a) => Values::U8(slice(a)?),
            Held::Bool(a) => Values::Bool(slice(a)?),
        })
    }

    fn indices(&self) -> PyResult<Indices<'_>> {
        Ok(match self {
            Held::I64(a) => Indices::I64(slice(a)?),
            Held::I32(a) => Indices::I32(slice(a)?),
            _ => return Err(PyValueError::new_err("sparse indices must be int32 or int64")),
        })
    }
}

/// ("csr"|"csc", shape, indptr, indices, data) or ("dense", shape, data), held.
struct HeldMatrix<'py> {
    kind: String,
    shape: (usize, usize),
    arrays: Vec<Held<'py>>,
}

fn hold_matrix<'py>(spec: &Bound<'py, PyAny>) -> PyResult<HeldMatrix<'py>> {
    let kind: String = spec.get_item(0)?.extract()?;
    let shape: (usize, usize) = spec.get_item(1)?.extract()?;
    let n = if kind == "dense" { 1 } else { 3 };
    let arrays = (0..n).map(|i| hold(&spec.get_item(2 + i)?)).collect::<PyResult<Vec<_>>>()?;
    Ok(HeldMatrix { kind, shape, arrays })
}

impl HeldMatrix<'_> {
    fn view(&self) -> PyResult<MatrixView<'_>> {
        let shape = self.shape;
        Ok(match self.kind.as_str() {
            "dense" => MatrixView::Dense { shape, data: self.arrays[0].values()? },
            "csr" => MatrixView::Csr {
                shape,
                indptr: self.arrays[0].indices()?,
                indices: self.arrays[1].indices()?,
                data: self.arrays[2].values()?,
            },
            "csc" => MatrixView::Csc {
                shape,
                indptr: self.arrays[0].indices()?,
                indices: self.arrays[1].indices()?,
                data: self.arrays[2].values()?,
            },
            other => return Err(PyValueError::new_err(format!("unknown matrix layout '{other}'"))),
        })
    }
}

fn obs_column(spec: &Bound<'_, PyAny>) -> PyResult<AnnColumn> {
    let kind: String = spec.get_item(0)?.extract()?;
    Ok(match kind.as_str() {
        "categorical" => {
            let codes: Vec<i64> = spec.get_item(1)?.extract::<PyReadonlyArray1<i64>>()?.as_array().to_vec();
            AnnColumn::Categorical(Categorical {
                codes: codes.into_iter().map(|c| u32::try_from(c).ok()).collect(),
                categories: spec.get_item(2)?.extract()?,
                ordered: spec.get_item(3)?.extract()?,
            })
        }
        "numeric" => AnnColumn::Numeric(spec.get_item(1)?.extract::<PyReadonlyArray1<f64>>()?.as_array().to_vec()),
        "integer" => AnnColumn::Integer(
            spec.get_item(1)?.extract::<PyReadonlyArray1<i64>>()?.as_array().iter().map(|&v| Some(v)).collect(),
        ),
        "bool" => AnnColumn::Bool(
            spec.get_item(1)?.extract::<PyReadonlyArray1<bool>>()?.as_array().iter().map(|&v| Some(v)).collect(),
        ),
        _ => AnnColumn::Text(spec.get_item(1)?.extract()?),
    })
}

/// The cells argument held: a path, or the dict `_cells.cells_arg` makes.
pub(crate) struct HeldCells<'py> {
    path: Option<String>,
    x: Option<HeldMatrix<'py>>,
    layers: Vec<(String, HeldMatrix<'py>)>,
    obs_names: Vec<String>,
    obs: Vec<(String, AnnColumn)>,
    var_names: Vec<String>,
    obsm: Vec<(String, cellcast::engine::stats::Matrix)>,
}

pub(crate) fn hold_cells<'py>(cells: &Bound<'py, PyAny>) -> PyResult<HeldCells<'py>> {
    if let Ok(path) = cells.extract::<String>() {
        return Ok(HeldCells {
            path: Some(path),
            x: None,
            layers: vec![],
            obs_names: vec![],
            obs: vec![],
            var_names: vec![],
            obsm: vec![],
        });
    }
    let d = cells.cast::<PyDict>()?;
    let get = |k: &str| d.get_item(k)?.ok_or_else(|| PyValueError::new_err(format!("cells: no '{k}'")));
    let x = get("x")?;
    let x = if x.is_none() { None } else { Some(hold_matrix(&x)?) };
    let mut layers = Vec::new();
    for (k, v) in get("layers")?.cast::<PyDict>()?.iter() {
        layers.push((k.extract::<String>()?, hold_matrix(&v)?));
    }
    let mut obs = Vec::new();
    for item in get("obs")?.try_iter()? {
        let item = item?;
        obs.push((item.get_item(0)?.extract::<String>()?, obs_column(&item.get_item(1)?)?));
    }
    // obsm embeddings (optional key): 2-d float64 arrays, copied (they are small).
    let mut obsm = Vec::new();
    if let Some(m) = d.get_item("obsm")? {
        for (k, v) in m.cast::<PyDict>()?.iter() {
            let a: numpy::PyReadonlyArray2<'_, f64> = v.extract()?;
            let a = a.as_array();
            let (r, c) = a.dim();
            let matrix = cellcast::engine::stats::Matrix::from_row_major(r, c, a.iter().copied().collect())
                .ok_or_else(|| PyValueError::new_err("obsm: inconsistent shape"))?;
            obsm.push((k.extract::<String>()?, matrix));
        }
    }
    Ok(HeldCells {
        path: None,
        x,
        layers,
        obs_names: get("obs_names")?.extract()?,
        obs,
        var_names: get("var_names")?.extract()?,
        obsm,
    })
}

impl HeldCells<'_> {
    pub(crate) fn source(&self) -> PyResult<CellsSource<'_>> {
        if let Some(path) = &self.path {
            return Ok(CellsSource::H5ad(path.into()));
        }
        let n_vars = self.var_names.len();
        let x = match &self.x {
            Some(m) => m.view()?,
            // Only a layer was passed: X is an empty stand-in of the right shape.
            None => MatrixView::Dense { shape: (self.obs_names.len(), n_vars), data: Values::F64(&[]) },
        };
        let layers = self.layers.iter().map(|(k, m)| Ok((k.clone(), m.view()?))).collect::<PyResult<Vec<_>>>()?;
        Ok(CellsSource::Memory(AnnDataView {
            x,
            layers,
            obs_names: self.obs_names.clone(),
            obs: self.obs.clone(),
            var_names: self.var_names.clone(),
            var: Vec::new(),
            obsm: self.obsm.clone(),
        }))
    }
}

/// `pseudobulk(cells, group_column, normalize, layer, agg) -> dict(rows, columns, values,
/// n_cells, warnings)`; `normalize=None` lets the data decide, as the command does.
#[pyfunction]
#[pyo3(signature = (cells, group_column, normalize, layer, agg))]
pub fn pseudobulk<'py>(
    py: Python<'py>,
    cells: Bound<'py, PyAny>,
    group_column: String,
    normalize: Option<String>,
    layer: Option<String>,
    agg: String,
) -> PyResult<Bound<'py, PyDict>> {
    let normalize = match normalize.as_deref() {
        None => None,
        Some(s) => Some(Normalization::parse(s).ok_or_else(|| {
            to_py(py, cellcast::Error::input(format!("normalize must be cp10k-log1p, cpm-log2 or none (got '{s}')")))
        })?),
    };
    let agg = match agg.as_str() {
        "mean" => Aggregation::Mean,
        "sum" => Aggregation::Sum,
        other => return Err(to_py(py, cellcast::Error::input(format!("agg must be mean or sum (got '{other}')")))),
    };
    let held = hold_cells(&cells)?;
    let opts = cellcast::pseudobulk::PseudobulkOptions {
        cells: held.source()?,
        group_column,
        layer,
        normalize,
        agg,
        ..Default::default()
    };
    let observer = cellcast::Collect::default();
    let out = py.detach(|| cellcast::pseudobulk::pseudobulk(&opts, &observer)).map_err(|e| to_py(py, e))?;
    let d = PyDict::new(py);
    d.set_item("rows", &out.ids)?;
    d.set_item("columns", &out.genes)?;
    let (r, c) = (out.values.nrows(), out.values.ncols());
    let values = numpy::ndarray::Array2::from_shape_vec((r, c), out.values.as_slice().to_vec())
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    d.set_item("values", values.into_pyarray(py))?;
    d.set_item("n_cells", &out.n_cells)?;
    d.set_item("warnings", observer.warnings())?;
    Ok(d)
}

/// `targets_rank(cells, group_column, control, direction, layer, statistic, specific) ->
/// dict(rows, columns, values, record, warnings)`: groups × genes scores, higher = more likely the
/// perturbed gene; `record` is the JSON `targets rank` writes beside its output.
#[pyfunction]
#[pyo3(signature = (cells, group_column, control, direction, layer, statistic, specific))]
#[allow(clippy::too_many_arguments)]
pub fn targets_rank<'py>(
    py: Python<'py>,
    cells: Bound<'py, PyAny>,
    group_column: String,
    control: String,
    direction: String,
    layer: Option<String>,
    statistic: String,
    specific: Option<bool>,
) -> PyResult<Bound<'py, PyDict>> {
    use cellcast::targets::Direction;
    let direction = match direction.as_str() {
        "down" => Direction::Down,
        "up" => Direction::Up,
        "both" => Direction::Both,
        other => {
            return Err(to_py(
                py,
                cellcast::Error::input(format!("direction must be down, up or both (got '{other}')")),
            ))
        }
    };
    let statistic = cellcast::targets::StatisticChoice::parse(&statistic).map_err(|e| to_py(py, e))?;
    let held = hold_cells(&cells)?;
    let opts = cellcast::targets::TargetsRankOptions {
        screen: cellcast::cells::ScreenOptions {
            cells: held.source()?,
            group_column,
            control,
            layer,
            ..Default::default()
        },
        direction,
        statistic,
        specific,
        out: None,
    };
    let observer = cellcast::Collect::default();
    let out = py.detach(|| cellcast::targets::rank(&opts, &observer)).map_err(|e| to_py(py, e))?;
    let d = PyDict::new(py);
    d.set_item("rows", &out.ids)?;
    d.set_item("columns", &out.genes)?;
    let (r, c) = (out.scores.nrows(), out.scores.ncols());
    let values = numpy::ndarray::Array2::from_shape_vec((r, c), out.scores.as_slice().to_vec())
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    d.set_item("values", values.into_pyarray(py))?;
    d.set_item("record", &out.record)?;
    d.set_item("warnings", observer.warnings())?;
    Ok(d)
}
