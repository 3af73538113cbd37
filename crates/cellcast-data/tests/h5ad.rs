//! AnnData reading and pseudobulk, checked against what anndata 0.12 reads and scanpy 1.11
//! aggregates from the same files (`fixtures/golden/h5ad/`, written by
//! `scripts/golden/h5ad_fixtures.py`).
//!
//! The tests on the real files need `../shared/data` next to the repository; without it they
//! print why and pass.

// DataError is large on purpose (see the crate's lib.rs).
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use cellcast_data::h5ad::{AnnColumn, H5ad, Layout, MatrixEncoding, UnsValue};
use cellcast_data::pseudobulk::{pseudobulk, Aggregation, Normalization, Pseudobulk, PseudobulkOptions};
use cellcast_data::{DataError, NumericColumns, WideSpec, WideTable};
use serde_json::Value;

const SYNTHETIC: [&str; 8] =
    ["csr_f32", "csr_f64_lognorm", "csc_f64", "dense_f32", "csr_f64", "csr_noncanonical", "legacy_v06", "legacy_v07"];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/h5ad")
}

fn golden(name: &str) -> Value {
    let path = golden_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn open(name: &str) -> H5ad {
    let path = golden_dir().join(format!("{name}.h5ad"));
    H5ad::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect()
}

/// Names as the fixture keeps them: all, or `{len, head, tail}`.
fn check_names(what: &str, ours: &[String], golden: &Value) {
    match golden {
        Value::Array(_) => assert_eq!(ours, strings(golden), "{what}"),
        Value::Object(o) => {
            assert_eq!(ours.len() as u64, o["len"].as_u64().unwrap(), "{what} (length)");
            let (head, tail) = (strings(&o["head"]), strings(&o["tail"]));
            assert_eq!(&ours[..head.len()], head, "{what} (head)");
            assert_eq!(&ours[ours.len() - tail.len()..], tail, "{what} (tail)");
        }
        other => panic!("{what}: unexpected golden {other}"),
    }
}

/// A column against anndata's; `positions` (real files) says which cells the golden lists.
fn check_column(what: &str, ours: &AnnColumn, golden: &Value) {
    let kind = golden["kind"].as_str().unwrap();
    assert_eq!(ours.kind(), kind, "{what}: kind");
    let positions: Option<Vec<usize>> =
        golden.get("positions").map(|p| p.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect());
    if let Some(len) = golden.get("len") {
        assert_eq!(ours.len() as u64, len.as_u64().unwrap(), "{what}: length");
    }
    let key = if kind == "categorical" { "codes" } else { "values" };
    let expected = golden[key].as_array().unwrap();
    let at: Vec<usize> = positions.unwrap_or_else(|| (0..expected.len()).collect());
    if golden.get("positions").is_none() {
        assert_eq!(ours.len(), expected.len(), "{what}: length");
    }
    for (k, &i) in at.iter().enumerate() {
        let g = &expected[k];
        match ours {
            AnnColumn::Numeric(v) => match g.as_f64() {
                Some(x) => assert_eq!(v[i], x, "{what}[{i}]"),
                None => assert!(v[i].is_nan(), "{what}[{i}]: expected NaN, got {}", v[i]),
            },
            AnnColumn::Integer(v) => assert_eq!(v[i], g.as_i64(), "{what}[{i}]"),
            AnnColumn::Bool(v) => assert_eq!(v[i], g.as_bool(), "{what}[{i}]"),
            AnnColumn::Text(v) => assert_eq!(v[i].as_deref(), g.as_str(), "{what}[{i}]"),
            AnnColumn::Categorical(c) => {
                let code = g.as_i64().unwrap();
                assert_eq!(c.codes[i].map_or(-1, i64::from), code, "{what}: code of row {i}");
            }
        }
    }
    if let AnnColumn::Categorical(c) = ours {
        check_names(&format!("{what}: categories"), &c.categories, &golden["categories"]);
        assert_eq!(c.ordered, golden["ordered"].as_bool().unwrap(), "{what}: ordered");
        if let Some(counts) = golden.get("code_counts") {
            let mut n = vec![0u64; c.categories.len()];
            for k in c.codes.iter().flatten() {
                n[*k as usize] += 1;
            }
            let expected: Vec<u64> = counts.as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
            assert_eq!(n, expected, "{what}: cells per category");
        }
    }
}

/// Every block of `layer`, `block` rows at a time, as dense rows.
fn dense_rows(h5: &H5ad, layer: Option<&str>, block: usize) -> Vec<Vec<f64>> {
    let mut rows = Vec::new();
    let mut expected_start = 0;
    for b in h5.row_blocks(layer, block).unwrap() {
        let b = b.unwrap();
        assert_eq!(b.start, expected_start);
        assert!(b.rows.n_rows() <= block);
        expected_start += b.rows.n_rows();
        for i in 0..b.rows.n_rows() {
            let mut row = vec![0.0; h5.n_vars()];
            let (idx, vals) = b.rows.row(i);
            for (&j, &v) in idx.iter().zip(vals) {
                row[j as usize] = v;
            }
            rows.push(row);
        }
    }
    assert_eq!(expected_start, h5.n_obs());
    rows
}

fn check_matrix(what: &str, ours: &[Vec<f64>], golden: &Value) {
    let golden = golden.as_array().unwrap();
    assert_eq!(ours.len(), golden.len(), "{what}: rows");
    for (i, (a, b)) in ours.iter().zip(golden).enumerate() {
        assert_eq!(a, &floats(b), "{what}: row {i}");
    }
}

#[test]
fn synthetic_files_read_as_anndata_reads_them() {
    for name in SYNTHETIC {
        let g = golden(name);
        let h5 = open(name);
        assert_eq!(h5.shape(), (g["n_obs"].as_u64().unwrap() as usize, g["n_vars"].as_u64().unwrap() as usize));
        check_names(&format!("{name} obs_names"), h5.obs_names(), &g["obs_names"]);
        check_names(&format!("{name} var_names"), h5.var_names(), &g["var_names"]);
        assert_eq!(h5.obs_columns(), strings(&g["obs_columns"]), "{name} obs columns");
        assert_eq!(h5.var_columns(), strings(&g["var_columns"]), "{name} var columns");
        assert_eq!(h5.layout() == Layout::Legacy, name == "legacy_v06", "{name} layout");
        for (col, expected) in g["obs"].as_object().unwrap() {
            check_column(&format!("{name} obs/{col}"), &h5.obs_column(col).unwrap(), expected);
        }
        for (col, expected) in g["var"].as_object().unwrap() {
            check_column(&format!("{name} var/{col}"), &h5.var_column(col).unwrap(), expected);
        }

        let info = h5.matrix_info(None).unwrap();
        let encoding = match info.encoding {
            MatrixEncoding::Csr => "csr",
            MatrixEncoding::Csc => "csc",
            MatrixEncoding::Dense => "dense",
        };
        assert_eq!(encoding, g["x"]["encoding"].as_str().unwrap(), "{name} X encoding");
        assert_eq!(info.value_type.to_string(), g["x"]["dtype"].as_str().unwrap(), "{name} X dtype");
        if let Some(nnz) = g["x"].get("nnz") {
            assert_eq!(info.stored, nnz.as_u64().unwrap(), "{name} X nnz");
        }
        // Values after canonicalisation: the non-canonical fixture's duplicate sums to the
        // count anndata reads (the script asserts that).
        for block in [1, 7, 1000] {
            check_matrix(&format!("{name} X (blocks of {block})"), &dense_rows(&h5, None, block), &g["x"]["dense"]);
        }

        let layers: Vec<String> = g["layers"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(h5.layers().unwrap(), layers, "{name} layers");
        for layer in &layers {
            let info = h5.matrix_info(Some(layer)).unwrap();
            assert_eq!(info.value_type.to_string(), g["layers"][layer]["dtype"].as_str().unwrap(), "{name} {layer}");
            check_matrix(
                &format!("{name} layer {layer}"),
                &dense_rows(&h5, Some(layer), 5),
                &g["layers"][layer]["dense"],
            );
        }

        let obsm = g["obsm"].as_object().unwrap();
        assert_eq!(h5.obsm_names().unwrap(), obsm.keys().cloned().collect::<Vec<_>>(), "{name} obsm");
        for (key, expected) in obsm {
            let m = h5.obsm(key).unwrap();
            let rows: Vec<Vec<f64>> = m.rows().map(<[f64]>::to_vec).collect();
            check_matrix(&format!("{name} obsm/{key}"), &rows, expected);
        }

        for (key, expected) in g["uns"].as_object().unwrap() {
            let ours = h5.uns_scalar(key).unwrap_or_else(|e| panic!("{name} uns/{key}: {e}"));
            let (kind, v) = expected.as_object().unwrap().iter().next().unwrap();
            let want = match kind.as_str() {
                "integer" => UnsValue::Integer(v.as_i64().unwrap()),
                "number" => UnsValue::Number(v.as_f64().unwrap()),
                "bool" => UnsValue::Bool(v.as_bool().unwrap()),
                "text" => UnsValue::Text(v.as_str().unwrap().to_string()),
                other => panic!("{other}"),
            };
            assert_eq!(ours, want, "{name} uns/{key}");
        }
    }
}

fn close(a: f64, b: f64, rel: f64, abs: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= abs + rel * b.abs()
}

fn options<'a>(case: &'a Value, normalize: Option<Normalization>, block: Option<usize>) -> PseudobulkOptions<'a> {
    PseudobulkOptions {
        layer: case["layer"].as_str(),
        group_column: case["group_column"].as_str().unwrap(),
        replicate_column: case["replicate_column"].as_str(),
        normalize,
        agg: match case["agg"].as_str().unwrap() {
            "mean" => Aggregation::Mean,
            _ => Aggregation::Sum,
        },
        block,
    }
}

fn run(h5: &H5ad, opts: &PseudobulkOptions<'_>) -> Pseudobulk {
    pseudobulk(h5, opts, &mut |_| {}).unwrap_or_else(|e| panic!("{}: {e}", h5.path().display()))
}

/// Our pseudobulk against the golden table; returns the largest relative difference.
fn check_case(what: &str, ours: &Pseudobulk, case: &Value, rel: f64, abs: f64) -> f64 {
    assert_eq!(ours.ids, strings(&case["groups"]), "{what}: groups");
    let n: Vec<usize> = case["n_cells"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
    assert_eq!(ours.n_cells, n, "{what}: cells per group");
    let genes: Vec<usize> =
        case["gene_indices"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
    let names = strings(&case["genes"]);
    let mut worst = 0.0f64;
    for (g, row) in case["values"].as_array().unwrap().iter().enumerate() {
        for (k, want) in floats(row).into_iter().enumerate() {
            let j = genes[k];
            assert_eq!(ours.genes[j], names[k], "{what}: gene {j}");
            let got = ours.values.get(g, j);
            assert!(
                close(got, want, rel, abs),
                "{what}: group '{}', gene '{}': {got} vs {want}",
                ours.ids[g],
                names[k]
            );
            if want != 0.0 {
                worst = worst.max(((got - want) / want).abs());
            }
        }
    }
    worst
}

#[test]
fn pseudobulk_matches_scanpy_and_pandas() {
    for name in SYNTHETIC {
        let g = golden(name);
        let h5 = open(name);
        let mut worst64 = 0.0f64;
        for (k, case) in g["pseudobulk"].as_array().unwrap().iter().enumerate() {
            let norm = Normalization::parse(case["normalize"].as_str().unwrap()).unwrap();
            let what = format!("{name} case {k} ({}, {})", case["normalize"], case["variant"]);
            let ours = run(&h5, &options(case, Some(norm), None));
            assert!(!ours.normalization.assumed);
            match case["variant"].as_str().unwrap() {
                // Same arithmetic in float64 as scanpy's / pandas' on a float64 copy of X.
                "float64" => {
                    let w = check_case(&what, &ours, case, 1e-13, 1e-300);
                    if w > 0.0 {
                        eprintln!("{what}: {w:e} ({})", case["reference"]);
                    }
                    worst64 = worst64.max(w);
                }
                // scanpy normalises float32 X in float32; cellcast in f64.
                _ => {
                    check_case(&what, &ours, case, 3e-6, 1e-6);
                }
            }
        }
        eprintln!("{name}: largest relative difference from the float64 references {worst64:e}");
    }
}

#[test]
fn normalisation_is_assumed_from_the_values() {
    for name in SYNTHETIC {
        let g = golden(name);
        let h5 = open(name);
        let expected = Normalization::parse(g["auto_normalize"].as_str().unwrap()).unwrap();
        let case = &g["pseudobulk"][0];
        let case_layer = case["layer"].as_str();
        assert!(case_layer.is_none());
        let auto = run(&h5, &options(case, None, None));
        assert!(auto.normalization.assumed, "{name}");
        assert_eq!(auto.normalization.normalization, expected, "{name}: {}", auto.normalization.reason);
        let explicit = run(&h5, &options(case, Some(expected), None));
        assert_eq!(auto.values, explicit.values, "{name}: the assumed normalisation gives the same table");
        if expected == Normalization::None {
            assert!(auto.normalization.reason.contains("not non-negative integers"), "{}", auto.normalization.reason);
        } else {
            assert!(auto.normalization.reason.contains("raw counts"), "{}", auto.normalization.reason);
        }
    }
}

#[test]
fn block_size_and_storage_do_not_change_the_result() {
    let cases = golden("csr_f64");
    for case in cases["pseudobulk"].as_array().unwrap().iter().filter(|c| c["variant"] == "float64") {
        let mut reference: Option<Pseudobulk> = None;
        // The same counts stored CSR, CSC and dense (float32 holds these integers exactly).
        for name in ["csr_f64", "csc_f64", "dense_f32", "csr_f32"] {
            let h5 = open(name);
            for block in [Some(1), Some(7), Some(1000), None] {
                for normalize in [Normalization::parse(case["normalize"].as_str().unwrap()), None] {
                    let ours = run(&h5, &options(case, normalize, block));
                    match &reference {
                        None => reference = Some(ours),
                        Some(r) if normalize.is_some() => {
                            assert_eq!(ours.ids, r.ids);
                            assert_eq!(ours.n_cells, r.n_cells);
                            // Bit for bit: the same values added in the same order.
                            assert_eq!(ours.values, r.values, "{name}, block {block:?}, case {case}");
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
}

#[test]
fn output_table_reads_back() {
    let h5 = open("csr_f32");
    let g = golden("csr_f32");
    let case = g["pseudobulk"].as_array().unwrap().iter().find(|c| c["replicate_column"] == "replicate").unwrap();
    let ours = run(&h5, &options(case, Some(Normalization::Cp10kLog1p), None));
    assert_eq!(ours.id_column, "group|replicate");
    let dir = std::env::temp_dir().join(format!("cellcast-h5ad-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["pb.csv", "pb.parquet"] {
        let path = dir.join(file);
        ours.write(&path).unwrap();
        let spec = WideSpec {
            id_column: cellcast_data::pseudobulk::PSEUDOBULK_ID,
            text_columns: &[],
            optional_text: &[],
            numeric: NumericColumns::Rest,
        };
        let back = WideTable::read(&path, &spec).unwrap();
        assert_eq!(back.ids, ours.ids);
        assert_eq!(back.columns, ours.genes);
        assert_eq!(back.values, ours.values, "{file}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Real files
// ---------------------------------------------------------------------------------------------

fn shared(rel: &str, test: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIPPED {test}: {} does not exist (the real files live in ../shared)", path.display());
        None
    }
}

fn check_real(name: &str, test: &str) {
    let g = golden(name);
    let Some(path) = shared(g["file"].as_str().unwrap(), test) else { return };
    let h5 = H5ad::open(&path).unwrap();
    assert_eq!(h5.shape(), (g["n_obs"].as_u64().unwrap() as usize, g["n_vars"].as_u64().unwrap() as usize));
    check_names("obs_names", h5.obs_names(), &g["obs_names"]);
    check_names("var_names", h5.var_names(), &g["var_names"]);
    assert_eq!(h5.obs_columns(), strings(&g["obs_columns"]));
    assert_eq!(h5.var_columns(), strings(&g["var_columns"]));
    for (col, expected) in g["obs"].as_object().unwrap() {
        check_column(&format!("obs/{col}"), &h5.obs_column(col).unwrap(), expected);
    }
    for (col, expected) in g["var"].as_object().unwrap() {
        check_column(&format!("var/{col}"), &h5.var_column(col).unwrap(), expected);
    }
    let info = h5.matrix_info(None).unwrap();
    assert_eq!(info.value_type.to_string(), g["x"]["dtype"].as_str().unwrap());
    assert_eq!(info.stored, g["x"]["nnz"].as_u64().unwrap());
    // Whole-matrix sum and a few rows, streamed in blocks of 500 cells.
    let mut total = 0.0;
    let rows = g["x"]["rows"].as_object().unwrap();
    for b in h5.row_blocks(None, 500).unwrap() {
        let b = b.unwrap();
        total += b.rows.data().iter().sum::<f64>();
        for (i, expected) in rows {
            let i: usize = i.parse().unwrap();
            if (b.start..b.start + b.rows.n_rows()).contains(&i) {
                let (idx, vals) = b.rows.row(i - b.start);
                let want: Vec<u32> =
                    expected["indices"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
                assert_eq!(idx, want.as_slice(), "row {i}");
                assert_eq!(vals, floats(&expected["values"]).as_slice(), "row {i}");
            }
        }
    }
    let want = g["x"]["sum"].as_f64().unwrap();
    assert!(close(total, want, 1e-9, 0.0), "sum of X: {total} vs {want}");
    for (key, expected) in g["obsm"].as_object().unwrap() {
        let m = h5.obsm(key).unwrap();
        let shape: Vec<usize> =
            expected["shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
        assert_eq!(vec![m.nrows(), m.ncols()], shape, "obsm/{key}");
        assert_eq!(m.row(0), floats(&expected["row0"]).as_slice(), "obsm/{key} row 0");
    }
    let expected_auto = Normalization::parse(g["auto_normalize"].as_str().unwrap()).unwrap();
    for (k, case) in g["pseudobulk"].as_array().unwrap().iter().enumerate() {
        let norm = Normalization::parse(case["normalize"].as_str().unwrap()).unwrap();
        let what = format!("{name} case {k} ({}, {})", case["normalize"], case["variant"]);
        let ours = run(&h5, &options(case, Some(norm), None));
        match case["variant"].as_str().unwrap() {
            "float64" => {
                let worst = check_case(&what, &ours, case, 1e-13, 1e-300);
                eprintln!("{what}: largest relative difference {worst:e}");
            }
            _ => {
                check_case(&what, &ours, case, 3e-6, 1e-6);
            }
        }
        if k == 0 {
            let auto = run(&h5, &options(case, None, Some(777)));
            assert_eq!(auto.normalization.normalization, expected_auto, "{}", auto.normalization.reason);
            if expected_auto == norm {
                assert_eq!(auto.values, ours.values);
            }
        }
    }
}

#[test]
fn real_norman19_perturbench_file() {
    check_real("real_norman19_mcfaline23", "real_norman19_perturbench_file");
}

#[test]
fn real_kang2018_file_in_the_pre_0_7_layout() {
    check_real("real_kang2018_pbmc", "real_kang2018_file_in_the_pre_0_7_layout");
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_things_are_named() {
    let h5 = open("csr_f32");
    let e = h5.obs_column("nope").unwrap_err().to_string();
    assert!(e.contains("no column 'nope'") && e.contains("group"), "{e}");
    let e = h5.matrix_info(Some("nope")).unwrap_err().to_string();
    assert!(e.contains("no layer 'nope'") && e.contains("counts"), "{e}");
    let e = h5.obsm("X_umap").unwrap_err().to_string();
    assert!(e.contains("X_pca"), "{e}");
    let e = h5.uns_scalar("params").unwrap_err().to_string();
    assert!(e.contains("uns/params") && e.contains("group"), "{e}");
    let e = h5.column_blocks(None, 10).unwrap_err().to_string();
    assert!(e.contains("CSR") && e.contains("CSC"), "{e}");
    let opts = PseudobulkOptions {
        layer: None,
        group_column: "missing_col",
        replicate_column: None,
        normalize: None,
        agg: Aggregation::Mean,
        block: None,
    };
    assert!(matches!(pseudobulk(&h5, &opts, &mut |_| {}), Err(DataError::MissingColumn { .. })));
}

#[test]
fn not_hdf5_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("cellcast-h5ad-nothdf5-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.h5ad");
    std::fs::write(&path, b"id,a\n1,2\n").unwrap();
    let e = H5ad::open(&path).unwrap_err().to_string();
    assert!(e.contains("not an HDF5 file"), "{e}");
    let e = H5ad::open(&dir.join("absent.h5ad")).unwrap_err();
    assert!(matches!(e, DataError::Io { .. }), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_non_finite_value_in_x_is_an_error_naming_its_cell_and_gene() {
    use cellcast_data::h5ad::{write_h5ad, CategoricalColumn, NewAnnData};
    use cellcast_stats::sparse::CsrMatrix;
    let dir = std::env::temp_dir().join(format!("cellcast-h5ad-nan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let names = |p: &str, n: usize| (0..n).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
    let (obs, var) = (names("c", 3), names("g", 2));
    let group = CategoricalColumn { name: "group".into(), categories: vec!["A".into()], codes: vec![Some(0); 3] };
    for (bad, shown) in [(f64::NAN, "NaN"), (f64::INFINITY, "inf")] {
        // Cell 2, gene 1 holds the bad value (cells 0 and 1 are fine).
        let x = CsrMatrix::new(3, 2, vec![0, 1, 2, 4], vec![0, 1, 0, 1], vec![1.5, 2.0, 0.5, bad]).unwrap();
        let path = dir.join("bad.h5ad");
        let data = NewAnnData {
            x: &x,
            obs_names: &obs,
            var_names: &var,
            obs_columns: std::slice::from_ref(&group),
            var_columns: &[],
        };
        write_h5ad(&path, &data).unwrap();
        let h5 = H5ad::open(&path).unwrap();
        let opts = PseudobulkOptions {
            layer: None,
            group_column: "group",
            replicate_column: None,
            normalize: Some(Normalization::None),
            agg: Aggregation::Mean,
            block: Some(2),
        };
        let e = pseudobulk(&h5, &opts, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("X/data") && e.contains(&format!("cell 2, gene 1 (0-based) holds {shown}")), "{e}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
