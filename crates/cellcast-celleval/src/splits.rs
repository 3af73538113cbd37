//! `--celltype-column`: cell-eval evaluates each cell type on its own (`split_anndata_on_celltype`).

use cellcast_data::anndata::CellSource;

use crate::error::{input, Result};

/// Cell-type masks for real, pred and baseline (`None` for a file not given), cell types in the
/// real file's order of first appearance (pandas' `unique`).
pub(crate) type Split = (String, Vec<Option<Vec<bool>>>);

pub(crate) fn celltype_splits(
    real: &dyn CellSource,
    pred: Option<&dyn CellSource>,
    baseline: Option<&dyn CellSource>,
    column: &str,
) -> Result<Vec<Option<Split>>> {
    let labels = |s: &dyn CellSource| -> Result<Vec<Option<String>>> {
        Ok(s.obs_column(column)
            .map_err(|_| input(format!("{}: no obs column '{column}' (--celltype-column)", s.name())))?
            .labels())
    };
    let real_labels = labels(real)?;
    let mut order: Vec<String> = Vec::new();
    for l in real_labels.iter().flatten() {
        if !order.contains(l) {
            order.push(l.clone());
        }
    }
    let others: Vec<Option<Vec<Option<String>>>> =
        [pred, baseline].iter().map(|s| s.map(labels).transpose()).collect::<Result<_>>()?;
    for (src, l) in [pred, baseline].iter().zip(&others) {
        let (Some(src), Some(l)) = (src, l) else { continue };
        let mut types: Vec<&String> = l.iter().flatten().collect();
        types.sort();
        types.dedup();
        if types.len() != order.len() || order.iter().any(|t| !types.contains(&t)) {
            return Err(input(format!(
                "the cell types of {} ({}) and {} ({}) differ; cell-eval evaluates the same cell types",
                real.name(),
                order.join(", "),
                src.name(),
                types.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let mask = |l: &[Option<String>], ct: &str| l.iter().map(|x| x.as_deref() == Some(ct)).collect::<Vec<bool>>();
    Ok(order
        .iter()
        .map(|ct| {
            let mut masks = vec![Some(mask(&real_labels, ct))];
            masks.extend(others.iter().map(|l| l.as_ref().map(|l| mask(l, ct))));
            Some((ct.clone(), masks))
        })
        .collect())
}
