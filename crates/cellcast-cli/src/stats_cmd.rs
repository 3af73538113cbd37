//! `cellcast de …` and `cellcast weights …`: read, compute, write a genes-wide CSV.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use cellcast_data::write::write_matrix;
use cellcast_data::{preview, WideSpec, WideTable};
use cellcast_metrics::weights::{mejia_weights, myllia_weights, vcpi_weights, GroupWeights, ScanpyDtype, VcpiVariance};
use cellcast_stats::limma::moderated_t_vs_control;

use crate::load;

fn warn_all(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

fn write_out(
    out: &Path,
    id_header: &str,
    rows: &[String],
    genes: &[String],
    values: &cellcast_data::Matrix,
) -> Result<()> {
    write_matrix(out, id_header, rows, genes, values).context("writing the output")?;
    eprintln!("wrote {} ({} rows × {} genes)", out.display(), rows.len(), genes.len());
    Ok(())
}

pub fn limma(expr: &Path, groups: &Path, control: &str, out: &Path, id: &str) -> Result<()> {
    let table = load::complete(expr, id, "expression matrix")?;
    let labels = load::groups_for(&table, groups, id)?;
    let fit = moderated_t_vs_control(&table.values, &labels, control)
        .with_context(|| format!("fitting limma to {}", expr.display()))?;
    warn_all(&fit.warnings);
    eprintln!(
        "limma: {} genes, residual df {}, prior df {}, prior variance {}",
        table.columns.len(),
        fit.df_residual,
        fit.df_prior,
        fit.var_prior
    );
    write_out(out, "id", &fit.groups, &table.columns, &fit.t)
}

pub fn myllia(t: &Path, targets: &Path, out: &Path, id: &str) -> Result<()> {
    let table = load::complete(t, id, "moderated t matrix")?;
    let target_table = WideTable::read(targets, &WideSpec::text_only(id, &["target"]))
        .context("reading the targets file (columns: id, target)")?;
    let column = target_table.text_column("target").expect("requested column");
    let by_id: HashMap<&str, Option<&str>> =
        target_table.ids.iter().zip(column).map(|(i, t)| (i.as_str(), t.as_deref())).collect();
    let missing: Vec<&str> = table.ids.iter().filter(|i| !by_id.contains_key(i.as_str())).map(String::as_str).collect();
    if !missing.is_empty() {
        bail!(
            "{}: no row for {} perturbation(s) of {} ({}); give every perturbation its target (an empty target zeroes no gene)",
            targets.display(),
            missing.len(),
            t.display(),
            preview(&missing, 5)
        );
    }
    let target_gene: Vec<Vec<usize>> =
        table.ids.iter().map(|i| by_id[i.as_str()].and_then(|g| table.column_index(g)).into_iter().collect()).collect();
    let outside = target_gene.iter().filter(|g| g.is_empty()).count();
    if outside > 0 {
        eprintln!("note: {outside} perturbation(s) target no gene of the panel; none of their genes is zeroed");
    }
    let w = myllia_weights(&table.values, &target_gene);
    write_out(out, "id", &table.ids, &table.columns, &w)
}

fn write_group_weights(w: GroupWeights, genes: &[String], out: &Path) -> Result<()> {
    warn_all(&w.warnings);
    write_out(out, "id", &w.groups, genes, &w.weights)
}

pub fn vcpi(counts: &Path, groups: &Path, mode: VcpiVariance, out: &Path, id: &str) -> Result<()> {
    let table = load::complete(counts, id, "counts matrix")?;
    if let Some((i, j)) = first_negative(&table) {
        return Err(table
            .bad_value(i, j, format!("count {} is negative", table.values.get(i, j)), "counts must be ≥ 0")
            .into());
    }
    let labels = load::groups_for(&table, groups, id)?;
    write_group_weights(vcpi_weights(&table.values, &labels, mode), &table.columns, out)
}

pub fn mejia(
    expr: &Path,
    groups: &Path,
    control: Option<&str>,
    dtype: ScanpyDtype,
    out: &Path,
    id: &str,
) -> Result<()> {
    let table = load::complete(expr, id, "expression matrix")?;
    let labels = load::groups_for(&table, groups, id)?;
    let (values, labels) = match control {
        None => (table.values.clone(), labels),
        Some(c) => {
            let keep: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] != c).collect();
            if keep.len() == labels.len() {
                bail!("control group '{c}' has no rows in {}", groups.display());
            }
            (table.values.select_rows(&keep), keep.iter().map(|&i| labels[i].clone()).collect())
        }
    };
    write_group_weights(mejia_weights(&values, &labels, dtype), &table.columns, out)
}

fn first_negative(table: &WideTable) -> Option<(usize, usize)> {
    table.values.rows().enumerate().find_map(|(i, r)| r.iter().position(|v| *v < 0.0).map(|j| (i, j)))
}
