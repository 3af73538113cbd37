//! An AnnData in memory gives the same pseudobulk and target ranks, bit for bit, as the file it
//! was read from — whatever the layout (CSR, CSC, dense) and dtype (float64, float32, int32) the
//! arrays are handed over in. Files: the committed fixtures (`fixtures/golden/h5ad/`) and, when
//! `../shared/data` is there, the real screens.

use std::path::{Path, PathBuf};

use cellcast::engine::data::anndata::{AnnDataView, Indices, MatrixView, Values};
use cellcast::engine::data::h5ad::{AnnColumn, H5ad, ValueType};
use cellcast::engine::stats::sparse::CsrMatrix;
use cellcast::pseudobulk::{pseudobulk, Aggregation, Normalization, PseudobulkOptions};
use cellcast::targets::{rank, Direction, TargetsRankOptions};
use cellcast::{CellsSource, Silent};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A matrix read whole through the `.h5ad` reader.
struct Whole {
    x: CsrMatrix<f64>,
    value_type: ValueType,
}

fn read_whole(h5: &H5ad, layer: Option<&str>) -> Whole {
    let info = h5.matrix_info(layer).unwrap();
    let (n, m) = h5.shape();
    let (mut indptr, mut indices, mut data) = (vec![0usize], Vec::new(), Vec::new());
    for b in h5.row_blocks(layer, n.max(1)).unwrap() {
        let b = b.unwrap();
        for r in 0..b.rows.n_rows() {
            let (idx, vals) = b.rows.row(r);
            indices.extend_from_slice(idx);
            data.extend_from_slice(vals);
            indptr.push(data.len());
        }
    }
    Whole { x: CsrMatrix::new(n, m, indptr, indices, data).unwrap(), value_type: info.value_type }
}

/// Owned arrays in one layout and dtype, for a view to borrow.
struct Arrays {
    kind: &'static str,
    shape: (usize, usize),
    indptr: Vec<i64>,
    indptr32: Vec<i32>,
    indices: Vec<i32>,
    f64s: Vec<f64>,
    f32s: Vec<f32>,
    i32s: Vec<i32>,
    dtype: ValueType,
}

impl Arrays {
    /// `kind`: csr, csc or dense; `dtype`: how the values are handed over.
    fn new(w: &CsrMatrix<f64>, kind: &'static str, dtype: ValueType) -> Arrays {
        let shape = (w.n_rows(), w.n_cols());
        let (indptr, indices, values): (Vec<i64>, Vec<i32>, Vec<f64>) = match kind {
            "csr" => (
                w.indptr().iter().map(|&p| p as i64).collect(),
                w.indices().iter().map(|&j| j as i32).collect(),
                w.data().to_vec(),
            ),
            "csc" => {
                let mut cols: Vec<Vec<(i32, f64)>> = vec![Vec::new(); shape.1];
                for i in 0..shape.0 {
                    let (idx, vals) = w.row(i);
                    for (&j, &v) in idx.iter().zip(vals) {
                        cols[j as usize].push((i as i32, v));
                    }
                }
                let mut indptr = vec![0i64];
                let (mut indices, mut data) = (Vec::new(), Vec::new());
                for c in cols {
                    for (i, v) in c {
                        indices.push(i);
                        data.push(v);
                    }
                    indptr.push(data.len() as i64);
                }
                (indptr, indices, data)
            }
            _ => (Vec::new(), Vec::new(), w.to_dense().as_slice().to_vec()),
        };
        Arrays {
            kind,
            shape,
            indptr32: indptr.iter().map(|&p| p as i32).collect(),
            indptr,
            indices,
            f32s: if dtype == ValueType::F32 { values.iter().map(|&v| v as f32).collect() } else { Vec::new() },
            i32s: if dtype == ValueType::I32 { values.iter().map(|&v| v as i32).collect() } else { Vec::new() },
            f64s: if dtype == ValueType::F64 { values } else { Vec::new() },
            dtype,
        }
    }

    fn view(&self) -> MatrixView<'_> {
        let data = match self.dtype {
            ValueType::F32 => Values::F32(&self.f32s),
            ValueType::I32 => Values::I32(&self.i32s),
            _ => Values::F64(&self.f64s),
        };
        let shape = self.shape;
        match self.kind {
            // int64 pointers for CSR, int32 for CSC: both index widths are exercised.
            "csr" => MatrixView::Csr {
                shape,
                indptr: Indices::I64(&self.indptr),
                indices: Indices::I32(&self.indices),
                data,
            },
            "csc" => MatrixView::Csc {
                shape,
                indptr: Indices::I32(&self.indptr32),
                indices: Indices::I32(&self.indices),
                data,
            },
            _ => MatrixView::Dense { shape, data },
        }
    }
}

/// The dtypes a matrix can be handed over in without changing a value.
fn dtypes(w: &Whole) -> Vec<ValueType> {
    let mut out = vec![ValueType::F64];
    if w.x.data().iter().all(|&v| v as f32 as f64 == v) {
        out.push(ValueType::F32);
    }
    if w.x.data().iter().all(|&v| v.fract() == 0.0 && v.abs() < 1e9) {
        out.push(ValueType::I32);
    }
    if w.value_type != ValueType::F64 && !out.contains(&w.value_type) {
        out.push(w.value_type);
    }
    out
}

fn columns(h5: &H5ad, obs: bool) -> Vec<(String, AnnColumn)> {
    let names = if obs { h5.obs_columns() } else { h5.var_columns() };
    names.iter().map(|c| (c.clone(), if obs { h5.obs_column(c) } else { h5.var_column(c) }.unwrap())).collect()
}

fn same_bits(what: &str, a: &cellcast::engine::stats::Matrix, b: &cellcast::engine::stats::Matrix) {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()), "{what}: shape");
    for (k, (x, y)) in a.as_slice().iter().zip(b.as_slice()).enumerate() {
        assert_eq!(x.to_bits(), y.to_bits(), "{what}: value {k}: {x} vs {y}");
    }
}

/// Obs columns that make sensible groups (2 to 500 labels).
fn group_columns(h5: &H5ad) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in h5.obs_columns() {
        let g = h5.obs_column(c).unwrap().grouping();
        if (2..=500).contains(&g.labels.len()) {
            out.push((c.clone(), g.labels[0].clone()));
        }
    }
    out
}

/// Every check of one file: pseudobulk (X and layers, default and explicit normalisation, with a
/// replicate column) and target ranks, file against memory in every layout and dtype.
fn check_file(path: &Path, max_rank_columns: usize) {
    let h5 = H5ad::open(path).unwrap();
    let groups = group_columns(&h5);
    assert!(!groups.is_empty(), "{}: no obs column to group by", path.display());
    let x = read_whole(&h5, None);
    let layer_names = h5.layers().unwrap();
    let layers: Vec<(String, Whole)> = layer_names.iter().map(|l| (l.clone(), read_whole(&h5, Some(l)))).collect();
    let layer_arrays: Vec<(String, Arrays)> =
        layers.iter().map(|(l, w)| (l.clone(), Arrays::new(&w.x, "csr", ValueType::F64))).collect();
    let obs = columns(&h5, true);
    let var = columns(&h5, false);
    let file = CellsSource::H5ad(path.to_path_buf());
    for kind in ["csr", "csc", "dense"] {
        for dtype in dtypes(&x) {
            let arrays = Arrays::new(&x.x, kind, dtype);
            let view = AnnDataView {
                x: arrays.view(),
                layers: layer_arrays.iter().map(|(l, a)| (l.clone(), a.view())).collect(),
                obs_names: h5.obs_names().to_vec(),
                obs: obs.clone(),
                var_names: h5.var_names().to_vec(),
                var: var.clone(),
                obsm: Vec::new(),
            };
            let memory = CellsSource::Memory(view);
            let what = format!("{} as {kind} {dtype}", path.display());
            for (column, _) in &groups {
                for normalize in [None, Some(Normalization::None), Some(Normalization::CpmLog2)] {
                    for (layer, agg) in [(None, Aggregation::Mean)]
                        .into_iter()
                        .chain(layer_names.iter().map(|l| (Some(l.clone()), Aggregation::Sum)))
                    {
                        let opts = |cells| PseudobulkOptions {
                            cells,
                            group_column: column.clone(),
                            layer: layer.clone(),
                            normalize,
                            agg,
                            ..Default::default()
                        };
                        let a = pseudobulk(&opts(file.clone()), &Silent).unwrap();
                        let b = pseudobulk(&opts(memory.clone()), &Silent).unwrap();
                        let what = format!("{what}: pseudobulk by {column}, layer {layer:?}, {normalize:?}");
                        assert_eq!(a.ids, b.ids, "{what}");
                        assert_eq!(a.genes, b.genes, "{what}");
                        assert_eq!(a.n_cells, b.n_cells, "{what}");
                        assert_eq!(a.normalization.normalization, b.normalization.normalization, "{what}");
                        same_bits(&what, &a.values, &b.values);
                    }
                }
                if let Some((replicate, _)) = groups.iter().find(|(c, _)| c != column) {
                    let opts = |cells| PseudobulkOptions {
                        cells,
                        group_column: column.clone(),
                        replicate_column: Some(replicate.clone()),
                        ..Default::default()
                    };
                    let a = pseudobulk(&opts(file.clone()), &Silent).unwrap();
                    let b = pseudobulk(&opts(memory.clone()), &Silent).unwrap();
                    assert_eq!(a.ids, b.ids, "{what}: by {column} × {replicate}");
                    same_bits(&format!("{what}: by {column} × {replicate}"), &a.values, &b.values);
                }
            }
            for (column, control) in groups.iter().take(max_rank_columns) {
                let opts = |cells| TargetsRankOptions {
                    screen: cellcast::cells::ScreenOptions {
                        cells,
                        group_column: column.clone(),
                        control: control.clone(),
                        ..Default::default()
                    },
                    direction: Direction::Down,
                    ..Default::default()
                };
                let (a, b) = (rank(&opts(file.clone()), &Silent), rank(&opts(memory.clone()), &Silent));
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!((&a.ids, &a.genes), (&b.ids, &b.genes), "{what}: rank by {column}");
                        // The reason names the layout and dtype, which differ on purpose.
                        let choice = |c: &cellcast::targets::NormalizationChoice| (c.normalization, c.assumed);
                        assert_eq!(choice(&a.normalization), choice(&b.normalization), "{what}: rank by {column}");
                        same_bits(&format!("{what}: rank by {column}"), &a.scores, &b.scores);
                    }
                    (Err(a), Err(b)) => {
                        let (a, b) = (a.to_string(), b.to_string());
                        let tail = |s: &str| s.split_once(": ").map_or(s.to_string(), |(_, t)| t.to_string());
                        assert_eq!(tail(&a), tail(&b), "{what}: rank by {column}");
                    }
                    (a, b) => panic!("{what}: rank by {column}: file {:?}, memory {:?}", a.err(), b.err()),
                }
            }
        }
    }
}

#[test]
fn committed_fixtures_in_memory_match_the_files() {
    let dir = root().join("fixtures/golden/h5ad");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "h5ad"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "fixtures missing in {}", dir.display());
    for f in files {
        check_file(&f, usize::MAX);
    }
}

#[test]
fn real_screens_in_memory_match_the_files() {
    let data = root().join("../shared/data");
    let files = [
        "chemical_singlecell/scgen_kang2018_pbmc_ifnb_valid_n1975x6998.h5ad",
        "genetic_perturbation/perturbench_devel_norman19_mcfaline23_n5961x500.h5ad",
        "genetic_perturbation/papalexi2021_thp1_eccite_rep1_n9428x299.h5ad",
    ];
    let present: Vec<PathBuf> = files.iter().map(|f| data.join(f)).filter(|p| p.exists()).collect();
    if present.is_empty() {
        eprintln!("skipped: {} is absent (the real screens live in ../shared/data)", data.display());
        return;
    }
    for f in present {
        check_file(&f, 1);
    }
}

#[test]
fn bad_views_are_refused_with_the_element_named() {
    let names = |n: usize| (0..n).map(|i| format!("c{i}")).collect::<Vec<_>>();
    let view = |indptr: &'static [i64], indices: &'static [i32], data: &'static [f64]| AnnDataView {
        x: MatrixView::Csr {
            shape: (2, 3),
            indptr: Indices::I64(indptr),
            indices: Indices::I32(indices),
            data: Values::F64(data),
        },
        layers: Vec::new(),
        obs_names: names(2),
        obs: vec![("g".into(), AnnColumn::Text(vec![Some("a".into()), Some("b".into())]))],
        var_names: names(3),
        var: Vec::new(),
        obsm: Vec::new(),
    };
    let refused = |v: AnnDataView<'_>| {
        let opts = PseudobulkOptions { cells: CellsSource::Memory(v), group_column: "g".into(), ..Default::default() };
        pseudobulk(&opts, &Silent).unwrap_err().to_string()
    };
    assert!(refused(view(&[0, 2, 1], &[0, 1, 2], &[1.0, 2.0, 3.0])).contains("X/indptr"));
    assert!(refused(view(&[0, 1, 3], &[0, 1, 3], &[1.0, 2.0, 3.0])).contains("row 1 has index 3"));
    assert!(refused(view(&[0, 1, 2], &[0, 1, 2], &[1.0, 2.0, 3.0])).contains("runs from 0 to 2"));
    assert!(refused(view(&[0, 1], &[0, 1, 2], &[1.0, 2.0, 3.0])).contains("needs 3"));
    assert!(refused(view(&[0, 1, 3], &[0, 1, 2], &[1.0, 2.0])).contains("data holds 2"));
    let nan = refused(view(&[0, 1, 3], &[0, 1, 2], &[1.0, f64::NAN, 3.0]));
    assert!(nan.contains("cell 1, gene 1 (0-based) holds NaN"), "{nan}");
    let mut short = view(&[0, 1, 3], &[0, 1, 2], &[1.0, 2.0, 3.0]);
    short.obs_names.pop();
    assert!(refused(short).contains("obs_names: has 1 names"));
    let mut column = view(&[0, 1, 3], &[0, 1, 2], &[1.0, 2.0, 3.0]);
    column.obs[0].1 = AnnColumn::Text(vec![None]);
    assert!(refused(column).contains("obs/g: has 1 values for 2 cells"));
    let dense = AnnDataView::new(MatrixView::Dense { shape: (2, 2), data: Values::F32(&[1.0, 2.0, 3.0]) });
    let e = pseudobulk(
        &PseudobulkOptions { cells: CellsSource::Memory(dense), group_column: "g".into(), ..Default::default() },
        &Silent,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("a dense 2 × 2 matrix holds 4"), "{e}");
}
