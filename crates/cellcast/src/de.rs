//! Differential expression of groups of samples against a control group.

use std::path::PathBuf;

use cellcast_stats::limma::moderated_t_vs_control;

use crate::table::{complete, groups_for, LabelledMatrix, Table};
use crate::{Context, Observer, Result};

/// Options of [`limma`].
#[derive(Debug, Clone)]
pub struct LimmaOptions {
    /// Expression (log scale): an id column (sample) and one column per gene.
    pub expr: Table,
    /// Sample groups: columns `id` (matching `expr`) and `group`.
    pub groups: Table,
    /// The label of the control group.
    pub control: String,
    pub id_column: String,
    /// Where to write the moderated t (groups × genes); `None` writes nothing.
    pub out: Option<PathBuf>,
}

impl Default for LimmaOptions {
    fn default() -> Self {
        Self {
            expr: Table::default(),
            groups: Table::default(),
            control: String::new(),
            id_column: "id".into(),
            out: None,
        }
    }
}

impl LimmaOptions {
    pub fn validate(&self) -> Result<()> {
        if self.control.is_empty() {
            crate::bail!("limma needs the control group's label");
        }
        Ok(())
    }
}

/// limma's moderated t of every group against the control, with the eBayes fit.
#[derive(Debug, Clone)]
pub struct LimmaOutcome {
    /// One row per non-control group (sorted), one column per gene.
    pub t: LabelledMatrix,
    pub df_residual: f64,
    pub df_prior: f64,
    pub var_prior: f64,
}

/// Fits `~0 + group` per gene, forms the contrasts group − control and applies eBayes with
/// limma's defaults (squeezeVar / fitFDist, no trend, not robust), as limma 3.63 does.
pub fn limma(opts: &LimmaOptions, observer: &dyn Observer) -> Result<LimmaOutcome> {
    opts.validate()?;
    let id = opts.id_column.as_str();
    let table = complete(&opts.expr, id, "expression matrix")?;
    let labels = groups_for(&table, &opts.groups, id)?;
    let fit = moderated_t_vs_control(&table.values, &labels, &opts.control)
        .with_context(|| format!("fitting limma to {}", opts.expr.describe()))?;
    for w in &fit.warnings {
        observer.warning(w);
    }
    observer.note(&format!(
        "limma: {} genes, residual df {}, prior df {}, prior variance {}",
        table.columns.len(),
        fit.df_residual,
        fit.df_prior,
        fit.var_prior
    ));
    let t = LabelledMatrix { id_column: "id".into(), ids: fit.groups, columns: table.columns, values: fit.t };
    if let Some(out) = &opts.out {
        t.write(out)?;
    }
    Ok(LimmaOutcome { t, df_residual: fit.df_residual, df_prior: fit.df_prior, var_prior: fit.var_prior })
}
