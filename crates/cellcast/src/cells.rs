//! Where single cells come from — an `.h5ad` file or an AnnData in memory — and the labelled
//! screen that `targets rank`, `targets evaluate` and `task genetic` read from them.

use std::path::PathBuf;
use std::time::Instant;

use cellcast_data::anndata::{AnnDataView, CellSource};
use cellcast_data::cells::{Screen, ScreenSelection};
use cellcast_data::h5ad::H5ad;
use cellcast_data::pseudobulk::{Normalization, NormalizationChoice};
use cellcast_models::targets::condition_genes;

use crate::{bail, Context, Observer, Result};

/// The cells a workflow reads: an AnnData file, or an AnnData in memory (the Python package
/// passes an `anndata.AnnData` this way, without writing a file). Both give the same numbers.
// One source is made per call and moved into the options: boxing the larger variant would
// only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum CellsSource<'a> {
    /// An `.h5ad` file, streamed.
    H5ad(PathBuf),
    /// Arrays borrowed from memory.
    Memory(AnnDataView<'a>),
}

impl Default for CellsSource<'_> {
    fn default() -> Self {
        CellsSource::H5ad(PathBuf::new())
    }
}

impl CellsSource<'_> {
    /// How notes and errors name the cells: the file's path, or `AnnData (in memory)`.
    pub fn name(&self) -> String {
        match self {
            CellsSource::H5ad(path) => path.display().to_string(),
            CellsSource::Memory(view) => view.name(),
        }
    }

    /// Checks what can be checked before reading: a view whole (shapes, arrays, columns).
    pub fn validate(&self) -> Result<()> {
        if let CellsSource::Memory(view) = self {
            view.validate()?;
        }
        Ok(())
    }

    /// Opens the file (reading its names and column lists), or borrows the view.
    pub(crate) fn open(&self) -> Result<Opened<'_, '_>> {
        match self {
            CellsSource::H5ad(path) => {
                Ok(Opened::File(H5ad::open(path).with_context(|| format!("reading {}", path.display()))?))
            }
            CellsSource::Memory(view) => Ok(Opened::Memory(view)),
        }
    }
}

/// An opened [`CellsSource`].
pub(crate) enum Opened<'s, 'a> {
    File(H5ad),
    Memory(&'s AnnDataView<'a>),
}

impl Opened<'_, '_> {
    pub fn source(&self) -> &dyn CellSource {
        match self {
            Opened::File(h5) => h5,
            Opened::Memory(view) => *view,
        }
    }
}

/// The cells of a screen to read: labels, control, selection, normalisation, gene names.
#[derive(Debug, Clone, Default)]
pub struct ScreenOptions<'a> {
    pub cells: CellsSource<'a>,
    /// The obs column of perturbation labels.
    pub group_column: String,
    /// The label of the control cells in `group_column`.
    pub control: String,
    /// A layer instead of X.
    pub layer: Option<String>,
    /// Per-cell normalisation; `None`: cp10k-log1p for raw counts, else none (said in a note).
    pub normalize: Option<Normalization>,
    /// Only the cells with this value in this obs column (e.g. `dataset`, `norman19`).
    pub filter: Option<(String, String)>,
    /// Name genes by this var column instead of var_names (e.g. `gene_name` when var_names are
    /// Ensembl ids and the labels are symbols).
    pub gene_column: Option<String>,
}

impl ScreenOptions<'_> {
    pub fn validate(&self) -> Result<()> {
        if self.group_column.is_empty() {
            bail!("give the obs column of perturbation labels (group column)");
        }
        self.cells.validate()
    }

    pub(crate) fn selection(&self) -> ScreenSelection<'_> {
        ScreenSelection {
            group_column: &self.group_column,
            control: &self.control,
            filter: self.filter.as_ref().map(|(c, v)| (c.as_str(), v.as_str())),
            layer: self.layer.as_deref(),
            normalize: self.normalize,
            gene_column: self.gene_column.as_deref(),
        }
    }
}

/// A screen read, with what was assumed on the way.
pub(crate) struct ScreenRead {
    pub screen: Screen,
    /// The var column a note suggested naming genes by, if any.
    pub gene_column_hint: Option<String>,
}

/// Reads the selected cells of a screen, noting what was read and assumed; refuses a screen with
/// nothing but controls.
pub(crate) fn read_screen(
    src: &dyn CellSource,
    sel: &ScreenSelection<'_>,
    observer: &dyn Observer,
) -> Result<ScreenRead> {
    let start = Instant::now();
    let screen = cellcast_data::cells::read_screen(src, sel)?;
    note_normalization(&screen.cells.normalization, observer, |_| String::new());
    let sizes = screen.group_sizes();
    observer.note(&format!(
        "{}: {} cells × {} genes read ({} left out: no label{}) in {:.2} s; {} group(s) besides '{}' ({} control cells)",
        src.name(),
        screen.cells.x.n_rows(),
        screen.genes.len(),
        screen.cells_left_out,
        if sel.filter.is_some() { " or filtered" } else { "" },
        start.elapsed().as_secs_f64(),
        screen.groups.len() - 1,
        sel.control,
        sizes[screen.control]
    ));
    let gene_column_hint = if sel.gene_column.is_none() { suggest_gene_column(src, &screen, observer) } else { None };
    if screen.groups.len() < 2 {
        bail!("{}: only the control group '{}' has cells; there is nothing to rank", src.name(), sel.control);
    }
    Ok(ScreenRead { screen, gene_column_hint })
}

/// "normalisation: cp10k-log1p — assumed, because …" or "normalisation: none (as asked)"; for an
/// assumed choice, `then` may add a line.
pub(crate) fn note_normalization(
    choice: &NormalizationChoice,
    observer: &dyn Observer,
    then: impl FnOnce(&NormalizationChoice) -> String,
) {
    if choice.assumed {
        observer.note(&format!(
            "normalisation: {} — assumed, because --normalize was not given and {}",
            choice.normalization.name(),
            choice.reason
        ));
        let more = then(choice);
        if !more.is_empty() {
            observer.note(&more);
        }
    } else {
        observer.note(&format!("normalisation: {} (as asked)", choice.normalization.name()));
    }
}

/// When the labels name few var_names but many values of a text var column (symbols beside
/// Ensembl ids), says which gene column to pass, and returns it.
fn suggest_gene_column(src: &dyn CellSource, screen: &Screen, observer: &dyn Observer) -> Option<String> {
    let named: Vec<String> = screen
        .groups
        .iter()
        .enumerate()
        .filter(|&(g, _)| g != screen.control)
        .flat_map(|(_, label)| condition_genes(label).collect::<Vec<_>>())
        .collect();
    let hits = |names: &std::collections::HashSet<&str>| named.iter().filter(|g| names.contains(g.as_str())).count();
    let by_var_names = hits(&screen.genes.iter().map(String::as_str).collect());
    for column in src.var_columns() {
        let Ok(values) = src.var_column(&column) else { continue };
        let labels: Vec<String> = values.labels().into_iter().flatten().collect();
        let found = hits(&labels.iter().map(String::as_str).collect());
        if found > by_var_names && found * 2 >= named.len() {
            observer.note(&format!(
                "hint: the perturbation labels name {found} genes of var column '{column}' but {by_var_names} var_names; \
                 pass --gene-column {column} to name genes by it"
            ));
            return Some(column);
        }
    }
    None
}

/// The groups whose labels name genes that are not measured (label, those genes), noted.
pub(crate) fn report_unmeasured(screen: &Screen, observer: &dyn Observer) -> Vec<(String, Vec<String>)> {
    let measured: std::collections::HashSet<&str> = screen.genes.iter().map(String::as_str).collect();
    let missing: Vec<(String, Vec<String>)> = screen
        .groups
        .iter()
        .enumerate()
        .filter(|&(g, _)| g != screen.control)
        .filter_map(|(_, label)| {
            let absent: Vec<String> = condition_genes(label).filter(|gene| !measured.contains(gene.as_str())).collect();
            (!absent.is_empty()).then(|| (label.clone(), absent))
        })
        .collect();
    if missing.is_empty() {
        observer.note("every group's label names measured genes");
        return missing;
    }
    let shown: Vec<String> = missing.iter().take(10).map(|(l, a)| format!("{l} ({})", a.join(", "))).collect();
    observer.note(&format!(
        "note: {} of {} groups name genes that are not measured, so those genes cannot be ranked: {}{}",
        missing.len(),
        screen.groups.len() - 1,
        shown.join("; "),
        if missing.len() > shown.len() {
            format!("; … ({} more)", missing.len() - shown.len())
        } else {
            String::new()
        }
    ));
    missing
}
