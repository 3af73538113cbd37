//! The per-gene weights the weighted metrics read: Myllia's (from moderated t), VCPI's (from
//! raw DRUG-seq counts) and Mejia et al.'s (from expression).

use std::collections::HashMap;
use std::path::PathBuf;

use cellcast_data::{preview, WideSpec};
use cellcast_metrics::weights::{mejia_weights, myllia_weights, vcpi_weights, GroupWeights};
pub use cellcast_metrics::weights::{ScanpyDtype, VcpiVariance};

use crate::table::{complete, groups_for, LabelledMatrix, Table};
use crate::{bail, Context, Observer, Result};

/// Options of [`myllia`].
#[derive(Debug, Clone)]
pub struct MylliaOptions {
    /// Moderated t: id (perturbation) and one column per gene (e.g. from [`crate::de::limma`]).
    pub t: Table,
    /// Each perturbation's target gene: columns `id` and `target`.
    pub targets: Table,
    pub id_column: String,
    /// `None` writes nothing.
    pub out: Option<PathBuf>,
}

impl Default for MylliaOptions {
    fn default() -> Self {
        Self { t: Table::default(), targets: Table::default(), id_column: "id".into(), out: None }
    }
}

/// Kaggle "Echoes of Silenced Genes" weights: c = min(|t| + 0.1, 10), c = 0 for the
/// perturbation's own target gene, w = n·c²/Σc² (each row sums to the number of genes).
pub fn myllia(opts: &MylliaOptions, observer: &dyn Observer) -> Result<LabelledMatrix> {
    let id = opts.id_column.as_str();
    let table = complete(&opts.t, id, "moderated t matrix")?;
    let target_table = opts
        .targets
        .read(&WideSpec::text_only(id, &["target"]))
        .context("reading the targets file (columns: id, target)")?;
    let column = target_table.text_column("target").cloned().unwrap_or_default();
    let by_id: HashMap<&str, Option<&str>> =
        target_table.ids.iter().zip(&column).map(|(i, t)| (i.as_str(), t.as_deref())).collect();
    let missing: Vec<&str> = table.ids.iter().filter(|i| !by_id.contains_key(i.as_str())).map(String::as_str).collect();
    if !missing.is_empty() {
        bail!(
            "{}: no row for {} perturbation(s) of {} ({}); give every perturbation its target (an empty target zeroes no gene)",
            opts.targets.describe(),
            missing.len(),
            opts.t.describe(),
            preview(&missing, 5)
        );
    }
    let target_gene: Vec<Vec<usize>> =
        table.ids.iter().map(|i| by_id[i.as_str()].and_then(|g| table.column_index(g)).into_iter().collect()).collect();
    let outside = target_gene.iter().filter(|g| g.is_empty()).count();
    if outside > 0 {
        observer.note(&format!(
            "note: {outside} perturbation(s) target no gene of the panel; none of their genes is zeroed"
        ));
    }
    let values = myllia_weights(&table.values, &target_gene);
    finish(LabelledMatrix { id_column: "id".into(), ids: table.ids, columns: table.columns, values }, &opts.out)
}

/// Options of [`vcpi`].
#[derive(Debug, Clone)]
pub struct VcpiOptions {
    /// Raw counts: id (sample) and one column per gene.
    pub counts: Table,
    /// Sample → compound: columns `id` and `group`.
    pub groups: Table,
    pub variance: VcpiVariance,
    pub id_column: String,
    pub out: Option<PathBuf>,
}

impl Default for VcpiOptions {
    fn default() -> Self {
        Self {
            counts: Table::default(),
            groups: Table::default(),
            variance: VcpiVariance::PerCompoundFloored,
            id_column: "id".into(),
            out: None,
        }
    }
}

/// VCPI contest weights: log2(CPM+1) per sample (empty libraries dropped), Welch t of each
/// compound against all other samples, |t| → min–max → square → normalised to sum to 1.
pub fn vcpi(opts: &VcpiOptions, observer: &dyn Observer) -> Result<LabelledMatrix> {
    let id = opts.id_column.as_str();
    let table = complete(&opts.counts, id, "counts matrix")?;
    let negative = table.values.rows().enumerate().find_map(|(i, r)| r.iter().position(|v| *v < 0.0).map(|j| (i, j)));
    if let Some((i, j)) = negative {
        return Err(table
            .bad_value(i, j, format!("count {} is negative", table.values.get(i, j)), "counts must be ≥ 0")
            .into());
    }
    let labels = groups_for(&table, &opts.groups, id)?;
    group_weights(vcpi_weights(&table.values, &labels, opts.variance), table.columns, &opts.out, observer)
}

/// Options of [`mejia`].
#[derive(Debug, Clone)]
pub struct MejiaOptions {
    /// Expression (log-normalised): id (cell or sample) and one column per gene.
    pub expr: Table,
    /// Cell → group: columns `id` and `group`.
    pub groups: Table,
    /// Drop this group's rows first (Mejia et al. test perturbations against the other
    /// perturbations, without the controls).
    pub control: Option<String>,
    /// The dtype scanpy would see: float32 reproduces scanpy on float32 AnnData bit for bit.
    pub x_dtype: ScanpyDtype,
    pub id_column: String,
    pub out: Option<PathBuf>,
}

impl Default for MejiaOptions {
    fn default() -> Self {
        Self {
            expr: Table::default(),
            groups: Table::default(),
            control: None,
            x_dtype: ScanpyDtype::Float64,
            id_column: "id".into(),
            out: None,
        }
    }
}

/// Mejia et al. DEG weights: scanpy's `t-test_overestim_var` of each group against the rest,
/// |t| → min–max → square → normalised to sum to 1.
pub fn mejia(opts: &MejiaOptions, observer: &dyn Observer) -> Result<LabelledMatrix> {
    let id = opts.id_column.as_str();
    let table = complete(&opts.expr, id, "expression matrix")?;
    let labels = groups_for(&table, &opts.groups, id)?;
    let (values, labels) = match &opts.control {
        None => (table.values.clone(), labels),
        Some(c) => {
            let keep: Vec<usize> = (0..labels.len()).filter(|&i| &labels[i] != c).collect();
            if keep.len() == labels.len() {
                bail!("control group '{c}' has no rows in {}", opts.groups.describe());
            }
            (table.values.select_rows(&keep), keep.iter().map(|&i| labels[i].clone()).collect())
        }
    };
    group_weights(mejia_weights(&values, &labels, opts.x_dtype), table.columns, &opts.out, observer)
}

fn group_weights(
    w: GroupWeights,
    genes: Vec<String>,
    out: &Option<PathBuf>,
    observer: &dyn Observer,
) -> Result<LabelledMatrix> {
    for warning in &w.warnings {
        observer.warning(warning);
    }
    finish(LabelledMatrix { id_column: "id".into(), ids: w.groups, columns: genes, values: w.weights }, out)
}

fn finish(table: LabelledMatrix, out: &Option<PathBuf>) -> Result<LabelledMatrix> {
    if let Some(out) = out {
        table.write(out)?;
    }
    Ok(table)
}
