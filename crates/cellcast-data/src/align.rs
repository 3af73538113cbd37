//! Aligning one table to another by id and by column name, whatever their order in the files.

use std::collections::HashMap;

use cellcast_stats::Matrix;

use crate::error::{DataError, Result};
use crate::table::{preview, WideTable};

/// For each id of `reference`, the row of `other` that holds it. Ids `reference` has that
/// `other` lacks, and ids `other` has that `reference` lacks, are errors naming a few of them.
pub fn match_rows(reference: &WideTable, other: &WideTable) -> Result<Vec<usize>> {
    let index = other.id_index();
    let missing: Vec<&str> =
        reference.ids.iter().filter(|id| !index.contains_key(id.as_str())).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(mismatch(
            other,
            format!(
                "has no row for {} id(s) of {} ({}); every id there needs a row here",
                missing.len(),
                reference.path.display(),
                preview(&missing, 5)
            ),
        ));
    }
    if other.nrows() != reference.nrows() {
        let ref_index = reference.id_index();
        let extra: Vec<&str> =
            other.ids.iter().filter(|id| !ref_index.contains_key(id.as_str())).map(String::as_str).collect();
        return Err(mismatch(
            other,
            format!(
                "has {} id(s) that {} does not have ({}); remove them",
                extra.len(),
                reference.path.display(),
                preview(&extra, 5)
            ),
        ));
    }
    Ok(reference.ids.iter().map(|id| index[id.as_str()]).collect())
}

/// For each name in `wanted`, the numeric column of `other` that holds it. Missing and extra
/// columns are errors naming a few of them.
pub fn match_columns(wanted: &[String], other: &WideTable, wanted_from: &str) -> Result<Vec<usize>> {
    let index: HashMap<&str, usize> = other.columns.iter().enumerate().map(|(j, c)| (c.as_str(), j)).collect();
    let missing: Vec<&str> = wanted.iter().filter(|c| !index.contains_key(c.as_str())).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(mismatch(
            other,
            format!("lacks {} column(s) that {wanted_from} has ({})", missing.len(), preview(&missing, 5)),
        ));
    }
    if other.columns.len() != wanted.len() {
        let extra: Vec<&str> = other.columns.iter().filter(|c| !wanted.contains(c)).map(String::as_str).collect();
        return Err(mismatch(
            other,
            format!(
                "has {} column(s) that {wanted_from} does not have ({}); remove them or check the id column",
                extra.len(),
                preview(&extra, 5)
            ),
        ));
    }
    Ok(wanted.iter().map(|c| index[c.as_str()]).collect())
}

/// `other`'s values in `reference`'s row order and `reference`'s column order.
pub fn aligned_values(reference: &WideTable, other: &WideTable) -> Result<Matrix> {
    let rows = match_rows(reference, other)?;
    let cols = match_columns(&reference.columns, other, &reference.path.display().to_string())?;
    let mut data = Vec::with_capacity(rows.len() * cols.len());
    for &i in &rows {
        let row = other.values.row(i);
        data.extend(cols.iter().map(|&j| row[j]));
    }
    Ok(Matrix::from_row_major(rows.len(), cols.len(), data).expect("rows × columns values"))
}

fn mismatch(table: &WideTable, message: String) -> DataError {
    DataError::Mismatch { path: table.path.clone(), message }
}
