//! Malformed `.h5ad` files get errors that name the element — never a panic. The files are
//! written here with `hdf5-pure`, each with one thing wrong; the fixtures are also truncated and
//! corrupted byte by byte.

// DataError is large on purpose (see the crate's lib.rs).
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use cellcast_data::h5ad::{AnnColumn, H5ad};
use cellcast_data::pseudobulk::{pseudobulk, Aggregation, Normalization, PseudobulkOptions};
use cellcast_data::DataError;
use hdf5_pure::{AttrValue, FileBuilder};

fn text(s: &str) -> AttrValue {
    AttrValue::VarLenString(s.to_string())
}

/// A 3-cell × 4-gene AnnData file; `spoil` changes one thing.
struct Spec {
    x_encoding: &'static str,
    shape: Vec<i64>,
    indptr: Vec<i64>,
    indices: Vec<i32>,
    data: Vec<f64>,
    codes: Vec<i8>,
    column_encoding: &'static str,
    index_attr: Option<&'static str>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            x_encoding: "csr_matrix",
            shape: vec![3, 4],
            // cell 0: genes 0, 2; cell 1: nothing; cell 2: genes 1, 2, 3
            indptr: vec![0, 2, 2, 5],
            indices: vec![0, 2, 1, 2, 3],
            data: vec![1.0, 3.0, 2.0, 2.0, 4.0],
            codes: vec![1, 0, 1],
            column_encoding: "categorical",
            index_attr: Some("_index"),
        }
    }
}

fn write(spec: &Spec, name: &str) -> PathBuf {
    let mut b = FileBuilder::new();
    b.set_attr("encoding-type", text("anndata"));
    b.set_attr("encoding-version", text("0.1.0"));
    let mut x = b.create_group("X");
    x.set_attr("encoding-type", text(spec.x_encoding));
    x.set_attr("encoding-version", text("0.1.0"));
    x.set_attr("shape", AttrValue::I64Array(spec.shape.clone()));
    x.create_dataset("data").with_f64_data(&spec.data);
    x.create_dataset("indices").with_i32_data(&spec.indices);
    x.create_dataset("indptr").with_i64_data(&spec.indptr);
    b.add_group(x.finish());

    let mut obs = b.create_group("obs");
    obs.set_attr("encoding-type", text("dataframe"));
    obs.set_attr("encoding-version", text("0.2.0"));
    if let Some(index) = spec.index_attr {
        obs.set_attr("_index", text(index));
    }
    obs.set_attr("column-order", AttrValue::VarLenStringArray(vec!["grp".into()]));
    obs.create_dataset("_index").with_vlen_strings(&["c0", "c1", "c2"]);
    let mut grp = obs.create_group("grp");
    grp.set_attr("encoding-type", text(spec.column_encoding));
    grp.set_attr("encoding-version", text("0.2.0"));
    grp.set_attr("ordered", AttrValue::I8(0));
    grp.create_dataset("codes").with_i8_data(&spec.codes);
    grp.create_dataset("categories").with_vlen_strings(&["ctrl", "KO"]);
    obs.add_group(grp.finish());
    b.add_group(obs.finish());

    let mut var = b.create_group("var");
    var.set_attr("encoding-type", text("dataframe"));
    var.set_attr("encoding-version", text("0.2.0"));
    var.set_attr("_index", text("_index"));
    var.set_attr("column-order", AttrValue::F64Array(Vec::new()));
    var.create_dataset("_index").with_vlen_strings(&["g0", "g1", "g2", "g3"]);
    b.add_group(var.finish());

    // obsm: a dense 3 × 2 array and a sparse 3 × 2 CSC matrix [[0, 5], [1, 0], [0, 0]].
    let mut obsm = b.create_group("obsm");
    obsm.set_attr("encoding-type", text("dict"));
    obsm.create_dataset("X_pca").with_f64_data(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).with_shape(&[3, 2]);
    let mut sp = obsm.create_group("X_sparse");
    sp.set_attr("encoding-type", text("csc_matrix"));
    sp.set_attr("shape", AttrValue::I64Array(vec![3, 2]));
    sp.create_dataset("data").with_f64_data(&[1.0, 5.0]);
    sp.create_dataset("indices").with_i32_data(&[1, 0]);
    sp.create_dataset("indptr").with_i64_data(&[0, 1, 2]);
    obsm.add_group(sp.finish());
    b.add_group(obsm.finish());
    let mut uns = b.create_group("uns");
    uns.set_attr("encoding-type", text("dict"));
    uns.create_dataset("seed").with_i64_data(&[42]).with_shape(&[]);
    b.add_group(uns.finish());

    let bytes = b.finish().unwrap();
    let path = dir().join(format!("{name}.h5ad"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("cellcast-h5ad-malformed-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn options(normalize: Option<Normalization>) -> PseudobulkOptions<'static> {
    PseudobulkOptions {
        layer: None,
        group_column: "grp",
        replicate_column: None,
        normalize,
        agg: Aggregation::Mean,
        block: Some(1),
    }
}

/// Reads everything the reader offers; returns the first error.
fn read_everything(path: &Path) -> Result<(), DataError> {
    let h5 = H5ad::open(path)?;
    for c in h5.obs_columns().to_vec() {
        let _ = h5.obs_column(&c)?.labels();
    }
    for c in h5.var_columns().to_vec() {
        let _ = h5.var_column(&c)?;
    }
    let _ = h5.matrix_info(None)?;
    for b in h5.row_blocks(None, 3)? {
        b?;
    }
    for layer in h5.layers()? {
        for b in h5.row_blocks(Some(&layer), 5)? {
            b?;
        }
    }
    for name in h5.obsm_names()? {
        h5.obsm(&name)?;
    }
    if let Some(col) = h5.obs_columns().first() {
        let opts = PseudobulkOptions { group_column: col, ..options(None) };
        pseudobulk(&h5, &opts, &mut |_| {})?;
    }
    Ok(())
}

#[test]
fn the_well_formed_file_reads() {
    let path = write(&Spec::default(), "good");
    let h5 = H5ad::open(&path).unwrap();
    assert_eq!(h5.shape(), (3, 4));
    assert_eq!(h5.var_columns(), &[] as &[String]);
    let AnnColumn::Categorical(c) = h5.obs_column("grp").unwrap() else { panic!("categorical") };
    assert_eq!(c.categories, vec!["ctrl", "KO"]);
    assert!(!c.ordered);
    let pb = pseudobulk(&h5, &options(Some(Normalization::None)), &mut |_| {}).unwrap();
    assert_eq!(pb.ids, vec!["ctrl", "KO"]);
    assert_eq!(pb.n_cells, vec![1, 2]);
    assert_eq!(pb.values.row(0), &[0.0, 0.0, 0.0, 0.0]);
    assert_eq!(pb.values.row(1), &[0.5, 1.0, 2.5, 2.0]);
    // Counts: normalised by default, and the choice is explained.
    let pb = pseudobulk(&h5, &options(None), &mut |_| {}).unwrap();
    assert_eq!(pb.normalization.normalization, Normalization::Cp10kLog1p);
    assert!(pb.normalization.reason.contains("raw counts"), "{}", pb.normalization.reason);
    let cp10k = |v: f64, total: f64| (v / (total / 1e4)).ln_1p();
    let cell0 = [cp10k(1.0, 4.0), 0.0, cp10k(3.0, 4.0), 0.0];
    let cell2 = [0.0, cp10k(2.0, 8.0), cp10k(2.0, 8.0), cp10k(4.0, 8.0)];
    let mean: Vec<f64> = (0..4).map(|j| (0.0 + cell0[j] + cell2[j]) / 2.0).collect();
    assert_eq!(pb.values.row(1), mean.as_slice());
    assert_eq!(h5.obsm_names().unwrap(), vec!["X_pca", "X_sparse"]);
    assert_eq!(h5.obsm("X_pca").unwrap().row(2), &[5.0, 6.0]);
    let sparse = h5.obsm("X_sparse").unwrap();
    assert_eq!((sparse.row(0), sparse.row(1), sparse.row(2)), (&[0.0, 5.0][..], &[1.0, 0.0][..], &[0.0, 0.0][..]));
    assert_eq!(h5.uns_scalar("seed").unwrap(), cellcast_data::h5ad::UnsValue::Integer(42));
    read_everything(&path).unwrap();
}

fn error_of(spec: Spec, name: &str) -> String {
    let path = write(&spec, name);
    let e = read_everything(&path).expect_err(name);
    e.to_string()
}

#[test]
fn unsupported_encodings_are_named() {
    let path = write(&Spec { x_encoding: "coo_matrix", ..Spec::default() }, "coo");
    match H5ad::open(&path) {
        Err(DataError::H5adEncoding { object, encoding, .. }) => {
            assert_eq!((object.as_str(), encoding.as_str()), ("X", "coo_matrix"));
        }
        other => panic!("{other:?}"),
    }
    let e = H5ad::open(&path).unwrap_err().to_string();
    assert!(e.contains("X has encoding-type 'coo_matrix'") && e.contains("csr_matrix"), "{e}");

    let path = write(&Spec { column_encoding: "awkward-array", ..Spec::default() }, "awkward");
    let h5 = H5ad::open(&path).unwrap();
    match h5.obs_column("grp") {
        Err(DataError::H5adEncoding { object, encoding, .. }) => {
            assert_eq!((object.as_str(), encoding.as_str()), ("obs/grp", "awkward-array"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn inconsistent_sparse_arrays_are_refused() {
    let e = error_of(Spec { indptr: vec![0, 2, 1, 5], ..Spec::default() }, "decreasing");
    assert!(e.contains("X/indptr") && e.contains("row 1"), "{e}");
    let e = error_of(Spec { indptr: vec![0, 2, 2, 4], ..Spec::default() }, "short_end");
    assert!(e.contains("X/indptr") && e.contains("from 0 to 5"), "{e}");
    let e = error_of(Spec { indptr: vec![0, 2, 5], ..Spec::default() }, "short_indptr");
    assert!(e.contains("X/indptr") && e.contains("needs 4"), "{e}");
    let e = error_of(Spec { indices: vec![0, 2, 1, 2, 4], ..Spec::default() }, "index_out_of_range");
    assert!(e.contains("X/indices") && e.contains("row 2") && e.contains("index 4"), "{e}");
    // A negative int32 index (its bits read as an unsigned number are past every gene).
    let e = error_of(Spec { indices: vec![0, 2, 1, -3, 3], ..Spec::default() }, "negative_index");
    assert!(e.contains("X/indices") && e.contains("row 2 has index -3"), "{e}");
    // A value that is not a number, named by cell and gene.
    let e = error_of(Spec { data: vec![1.0, 3.0, 2.0, f64::NAN, 4.0], ..Spec::default() }, "nan_value");
    assert!(e.contains("X/data") && e.contains("cell 2, gene 2 (0-based) holds NaN"), "{e}");
    let e = error_of(Spec { indices: vec![0, 2, 1, 2], ..Spec::default() }, "short_indices");
    assert!(e.contains("X/indices") && e.contains("4 values"), "{e}");
    let e = error_of(Spec { shape: vec![3, 5], ..Spec::default() }, "shape");
    assert!(e.contains("X") && e.contains("[3, 5]"), "{e}");
    let e = error_of(Spec { codes: vec![1, 0, 2], ..Spec::default() }, "code");
    assert!(e.contains("obs/grp/codes") && e.contains("row 2 has code 2"), "{e}");
    let e = error_of(Spec { codes: vec![1, 0], ..Spec::default() }, "codes_length");
    assert!(e.contains("obs/grp/codes") && e.contains("expected 3"), "{e}");
    let e = error_of(Spec { index_attr: None, ..Spec::default() }, "no_index");
    assert!(e.contains("obs") && e.contains("_index"), "{e}");
    let e = error_of(Spec { index_attr: Some("nope"), ..Spec::default() }, "bad_index");
    assert!(e.contains("obs/nope"), "{e}");
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../fixtures/golden/h5ad/{name}.h5ad")))
        .unwrap()
}

#[test]
fn truncated_files_are_errors() {
    for name in ["csr_f32", "legacy_v06", "dense_f32"] {
        let bytes = fixture_bytes(name);
        let mut errors = Vec::new();
        for k in 1..40 {
            let len = bytes.len() * k / 40;
            let path = dir().join(format!("trunc_{name}_{k}.h5ad"));
            std::fs::write(&path, &bytes[..len]).unwrap();
            errors.push(read_everything(&path).is_err());
            let _ = std::fs::remove_file(&path);
        }
        eprintln!("{name}: {errors:?}");
        // Cut anywhere in the first 3/4 of the file, something the reader needs is gone. (A cut in
        // the tail may only remove what the reader never reads, e.g. uns colours.)
        assert!(errors[..29].iter().all(|&e| e), "{name}: {errors:?}");
    }
}

/// A small seeded generator (no dependency needed for a few hundred draws).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let mut rng = Lcg(20260521);
    for name in ["csr_f64", "legacy_v06", "legacy_v07", "csc_f64"] {
        let bytes = fixture_bytes(name);
        for trial in 0..150 {
            let mut b = bytes.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = rng.next() as usize % b.len();
                b[at] = match rng.next() % 3 {
                    0 => b[at] ^ (1 << (rng.next() % 8)),
                    1 => 0xff,
                    _ => 0,
                };
            }
            let path = dir().join(format!("corrupt_{name}_{trial}.h5ad"));
            std::fs::write(&path, &b).unwrap();
            let _ = read_everything(&path); // an error or a value, never a panic
            let _ = std::fs::remove_file(&path);
        }
    }
}
