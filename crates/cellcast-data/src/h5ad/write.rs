//! Writing small AnnData files: a CSR `X`, the obs and var names, and categorical obs columns,
//! in anndata's current encoding (`dataframe` 0.2.0, `csr_matrix` 0.1.0, `categorical` 0.2.0),
//! so that `anndata.read_h5ad` and [`super::H5ad`] read them back.
//!
//! This is for generated screens (`cellcast synth --kind screen`) and tests; the whole file is
//! built in memory, then written atomically.

use std::io::Write as _;
use std::path::Path;

use cellcast_stats::sparse::CsrMatrix;
use hdf5_pure::{AttrValue, FileBuilder, GroupBuilder};

use crate::error::{DataError, Result};

/// A categorical obs column: every cell's category index (`None` = missing) and the categories.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalColumn {
    pub name: String,
    pub categories: Vec<String>,
    pub codes: Vec<Option<u32>>,
}

/// What [`write_h5ad`] writes.
#[derive(Debug, Clone, Copy)]
pub struct NewAnnData<'a> {
    /// cells × genes; stored as float32 when every value is exactly a float32 (counts are),
    /// float64 otherwise.
    pub x: &'a CsrMatrix<f64>,
    pub obs_names: &'a [String],
    pub var_names: &'a [String],
    pub obs_columns: &'a [CategoricalColumn],
    /// Categorical var columns (codes per gene).
    pub var_columns: &'a [CategoricalColumn],
}

fn text(s: &str) -> AttrValue {
    AttrValue::VarLenString(s.to_string())
}

fn encoded(group: &mut GroupBuilder, kind: &str, version: &str) {
    group.set_attr("encoding-type", text(kind));
    group.set_attr("encoding-version", text(version));
}

fn invalid(path: &Path, object: &str, message: String) -> DataError {
    DataError::H5ad { path: path.to_path_buf(), object: object.to_string(), message }
}

/// A `dataframe` group: the index and categorical columns.
fn frame(
    path: &Path,
    b: &mut FileBuilder,
    name: &str,
    index: &[String],
    columns: &[CategoricalColumn],
) -> Result<hdf5_pure::FinishedGroup> {
    let mut g = b.create_group(name);
    encoded(&mut g, "dataframe", "0.2.0");
    g.set_attr("_index", text("_index"));
    g.set_attr("column-order", AttrValue::VarLenStringArray(columns.iter().map(|c| c.name.clone()).collect()));
    let names: Vec<&str> = index.iter().map(String::as_str).collect();
    g.create_dataset("_index").with_vlen_strings(&names);
    for column in columns {
        if column.codes.len() != index.len() {
            let object = format!("{name}/{}", column.name);
            return Err(invalid(path, &object, format!("{} codes for {} rows", column.codes.len(), index.len())));
        }
        let mut c = g.create_group(&column.name);
        encoded(&mut c, "categorical", "0.2.0");
        c.set_attr("ordered", AttrValue::I8(0));
        let codes: Vec<i32> = column.codes.iter().map(|c| c.map_or(-1, |k| k as i32)).collect();
        c.create_dataset("codes").with_i32_data(&codes);
        let categories: Vec<&str> = column.categories.iter().map(String::as_str).collect();
        c.create_dataset("categories").with_vlen_strings(&categories);
        g.add_group(c.finish());
    }
    Ok(g.finish())
}

/// Writes `data` to `path` (atomically) as an `.h5ad` file.
pub fn write_h5ad(path: &Path, data: &NewAnnData<'_>) -> Result<()> {
    let (n_obs, n_vars) = (data.x.n_rows(), data.x.n_cols());
    if data.obs_names.len() != n_obs || data.var_names.len() != n_vars {
        return Err(invalid(
            path,
            "X",
            format!(
                "X is {n_obs} × {n_vars} but there are {} obs names and {} var names",
                data.obs_names.len(),
                data.var_names.len()
            ),
        ));
    }
    let mut b = FileBuilder::new();
    b.set_attr("encoding-type", text("anndata"));
    b.set_attr("encoding-version", text("0.1.0"));

    let mut x = b.create_group("X");
    encoded(&mut x, "csr_matrix", "0.1.0");
    x.set_attr("shape", AttrValue::I64Array(vec![n_obs as i64, n_vars as i64]));
    let values = data.x.data();
    if values.iter().all(|&v| f64::from(v as f32) == v) {
        let narrow: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        x.create_dataset("data").with_f32_data(&narrow);
    } else {
        x.create_dataset("data").with_f64_data(values);
    }
    let indices: Vec<i32> = data.x.indices().iter().map(|&j| j as i32).collect();
    x.create_dataset("indices").with_i32_data(&indices);
    let indptr: Vec<i64> = data.x.indptr().iter().map(|&p| p as i64).collect();
    x.create_dataset("indptr").with_i64_data(&indptr);
    b.add_group(x.finish());

    let obs = frame(path, &mut b, "obs", data.obs_names, data.obs_columns)?;
    b.add_group(obs);
    let var = frame(path, &mut b, "var", data.var_names, data.var_columns)?;
    b.add_group(var);

    for name in ["layers", "obsm", "varm", "obsp", "varp", "uns"] {
        let mut g = b.create_group(name);
        encoded(&mut g, "dict", "0.1.0");
        b.add_group(g.finish());
    }
    let bytes = b.finish().map_err(|e| invalid(path, "/", format!("cannot encode the file: {e}")))?;
    crate::write::write_atomically(path, |out| out.write_all(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h5ad::H5ad;

    #[test]
    fn written_files_read_back() {
        let x = CsrMatrix::new(3, 2, vec![0, 1, 1, 3], vec![1, 0, 1], vec![2.0, 1.0, 5.0]).unwrap();
        let names = |p: &str, n: usize| (0..n).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
        let column = CategoricalColumn {
            name: "perturbation".into(),
            categories: vec!["KO".into(), "control".into()],
            codes: vec![Some(1), None, Some(0)],
        };
        let dir = std::env::temp_dir().join(format!("cellcast-h5ad-write-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("small.h5ad");
        let (obs, var) = (names("c", 3), names("g", 2));
        let data = NewAnnData { x: &x, obs_names: &obs, var_names: &var, obs_columns: &[column], var_columns: &[] };
        write_h5ad(&path, &data).unwrap();
        let h5 = H5ad::open(&path).unwrap();
        assert_eq!(h5.shape(), (3, 2));
        assert_eq!(h5.obs_names(), obs.as_slice());
        assert_eq!(h5.var_names(), var.as_slice());
        assert_eq!(
            h5.obs_column("perturbation").unwrap().labels(),
            vec![Some("control".to_string()), None, Some("KO".to_string())]
        );
        let blocks: Vec<_> = h5.row_blocks(None, 2).unwrap().map(|b| b.unwrap()).collect();
        assert_eq!(blocks[0].rows.data(), &[2.0]);
        assert_eq!(blocks[1].rows.indices(), &[0, 1]);
        assert_eq!(blocks[1].rows.data(), &[1.0, 5.0]);

        let bad = NewAnnData { x: &x, obs_names: &obs[..2], var_names: &var, obs_columns: &[], var_columns: &[] };
        assert!(write_h5ad(&dir.join("bad.h5ad"), &bad).unwrap_err().to_string().contains("2 obs names"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
