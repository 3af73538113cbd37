//! Single cells in memory, normalised: the cells × genes matrix that differential expression,
//! target ranking and per-cell models need whole.
//!
//! [`read_cells`] streams `X` (or a layer) in row blocks, keeps the cells asked for, and stores
//! them sparse — O(stored values of the kept cells), never densified. Each cell is then
//! normalised as [`crate::pseudobulk`] normalises it ([`Normalization`]); when no normalisation
//! is given, the stored values of the kept cells decide (non-negative integers → raw counts →
//! `cp10k-log1p`; anything else → as stored), and [`Cells::normalization`] says what was assumed
//! and why.

use cellcast_stats::sparse::CsrMatrix;

use crate::anndata::CellSource;
use crate::error::Result;
use crate::h5ad::{MatrixEncoding, MatrixInfo};
use crate::pseudobulk::{assumed, auto_block, Normalization, NormalizationChoice, ValueCheck};

/// Cells read by [`read_cells`].
#[derive(Debug, Clone)]
pub struct Cells {
    /// Kept cells × all genes, normalised.
    pub x: CsrMatrix<f64>,
    /// For each row of `x`, the cell's index in the file.
    pub cells: Vec<usize>,
    pub normalization: NormalizationChoice,
    pub matrix: MatrixInfo,
}

/// Reads the cells `keep` marks (all when `None`) of `X` or `layer`, normalised with `normalize`
/// (decided from the data when `None`; see the [module documentation](self)).
pub fn read_cells(
    src: &dyn CellSource,
    layer: Option<&str>,
    normalize: Option<Normalization>,
    keep: Option<&[bool]>,
) -> Result<Cells> {
    src.validate()?;
    read_checked(src, layer, normalize, keep)
}

/// [`read_cells`] of a source already validated.
fn read_checked(
    src: &dyn CellSource,
    layer: Option<&str>,
    normalize: Option<Normalization>,
    keep: Option<&[bool]>,
) -> Result<Cells> {
    let info = src.matrix_info(layer)?;
    let (n_obs, n_vars) = src.shape();
    if let Some(k) = keep.filter(|k| k.len() != n_obs) {
        return Err(
            src.error(&info.object, format!("internal error: a selection of {} cells for {n_obs} cells", k.len()))
        );
    }
    let kept = |cell: usize| keep.is_none_or(|k| k[cell]);
    // Reserve for the kept share of the stored values (assuming cells alike), so that the arrays
    // do not grow by doubling — which would leave up to twice the memory allocated. A dense
    // matrix stores its zeros too, which are dropped here: no estimate.
    let n_kept = keep.map_or(n_obs, |k| k.iter().filter(|&&b| b).count());
    let expected = match info.encoding {
        MatrixEncoding::Dense => 0,
        _ => (info.stored as f64 * n_kept as f64 / n_obs.max(1) as f64 * 1.02) as usize,
    };
    let mut cells = Vec::with_capacity(n_kept);
    let mut indptr = Vec::with_capacity(n_kept + 1);
    indptr.push(0usize);
    let mut indices = Vec::with_capacity(expected);
    let mut data = Vec::with_capacity(expected);
    let mut check = ValueCheck::new();
    for block in src.row_blocks(layer, auto_block(&info, n_obs))? {
        let block = block?;
        for r in 0..block.rows.n_rows() {
            let cell = block.start + r;
            if !kept(cell) {
                continue;
            }
            let (idx, vals) = block.rows.row(r);
            for (&j, &v) in idx.iter().zip(vals) {
                check.see(cell, j as usize, v);
            }
            indices.extend_from_slice(idx);
            data.extend_from_slice(vals);
            indptr.push(data.len());
            cells.push(cell);
        }
    }
    let (norm, normalization) = match normalize {
        Some(n) => (n, NormalizationChoice { normalization: n, assumed: false, reason: String::new() }),
        None => {
            let n = if check.counts { Normalization::Cp10kLog1p } else { Normalization::None };
            (n, assumed(n, &check, &info, src))
        }
    };
    if norm != Normalization::None {
        for w in indptr.windows(2) {
            let row = &mut data[w[0]..w[1]];
            let f = norm.factor(row.iter().sum());
            for v in row {
                *v = norm.apply(*v, f);
            }
        }
    }
    let x = CsrMatrix::new(cells.len(), n_vars, indptr, indices, data)
        .map_err(|e| src.error(&info.object, e.to_string()))?;
    Ok(Cells { x, cells, normalization, matrix: info })
}

/// Which cells of a screen to read, and how.
#[derive(Debug, Clone, Copy)]
pub struct ScreenSelection<'a> {
    /// The obs column of perturbation labels.
    pub group_column: &'a str,
    /// The label of the control cells.
    pub control: &'a str,
    /// Only cells whose label in this obs column is this value (e.g. `dataset`, `norman19`).
    pub filter: Option<(&'a str, &'a str)>,
    pub layer: Option<&'a str>,
    pub normalize: Option<Normalization>,
    /// Name the genes by this var column (e.g. `gene_name` when var_names are Ensembl ids);
    /// missing names fall back to the var name.
    pub gene_column: Option<&'a str>,
}

/// A perturbation screen in memory: labelled cells, normalised.
#[derive(Debug, Clone)]
pub struct Screen {
    /// The selected, labelled cells (rows of `cells.x`).
    pub cells: Cells,
    /// The groups that have selected cells, in the column's order (control included).
    pub groups: Vec<String>,
    /// The group of every row of `cells.x`.
    pub group_of_row: Vec<usize>,
    pub control: usize,
    /// Gene names, made unique ([`crate::pseudobulk::make_unique`]).
    pub genes: Vec<String>,
    /// Cells of the file left out because they have no label or fail the filter.
    pub cells_left_out: usize,
}

impl Screen {
    /// Cells in each group.
    pub fn group_sizes(&self) -> Vec<usize> {
        let mut n = vec![0; self.groups.len()];
        for &g in &self.group_of_row {
            n[g] += 1;
        }
        n
    }
}

/// Reads the labelled cells of a screen (see [`ScreenSelection`]). Errors name the column and
/// list labels when the control label or the filter value matches no cell.
pub fn read_screen(src: &dyn CellSource, sel: &ScreenSelection<'_>) -> Result<Screen> {
    src.validate()?;
    let err = |object: String, message: String| src.error(&object, message);
    let grouping = src.obs_column(sel.group_column)?.grouping();
    let mut keep: Vec<bool> = grouping.of_cell.iter().map(Option::is_some).collect();
    if let Some((column, value)) = sel.filter {
        let labels = src.obs_column(column)?.labels();
        if !labels.iter().any(|l| l.as_deref() == Some(value)) {
            let seen = crate::h5ad::AnnColumn::Text(labels).grouping().labels;
            return Err(err(
                format!("obs/{column}"),
                format!("no cell has '{value}'; labels: {}", preview_labels(&seen)),
            ));
        }
        for (k, l) in keep.iter_mut().zip(&labels) {
            *k &= l.as_deref() == Some(value);
        }
    }
    // Groups with a selected cell, renumbered in the column's order.
    let mut used = vec![false; grouping.labels.len()];
    for (g, k) in grouping.of_cell.iter().zip(&keep) {
        if let (Some(g), true) = (g, k) {
            used[*g as usize] = true;
        }
    }
    let mut new_index = vec![usize::MAX; used.len()];
    let mut groups = Vec::new();
    for (g, label) in grouping.labels.iter().enumerate() {
        if used[g] {
            new_index[g] = groups.len();
            groups.push(label.clone());
        }
    }
    let control = groups.iter().position(|g| g == sel.control).ok_or_else(|| {
        let within = sel.filter.map_or_else(String::new, |(c, v)| format!(" among the cells with {c} = {v}"));
        err(
            format!("obs/{}", sel.group_column),
            format!(
                "no cell is labelled '{}'{within}; labels: {} (pass the control's label with --control)",
                sel.control,
                preview_labels(&groups)
            ),
        )
    })?;
    let cells = read_checked(src, sel.layer, sel.normalize, Some(&keep))?;
    let group_of_row = cells.cells.iter().map(|&c| new_index[grouping.of_cell[c].expect("kept") as usize]).collect();
    let names: Vec<String> = match sel.gene_column {
        None => src.var_names().to_vec(),
        Some(column) => src
            .var_column(column)?
            .labels()
            .into_iter()
            .zip(src.var_names())
            .map(|(label, var_name)| label.unwrap_or_else(|| var_name.clone()))
            .collect(),
    };
    let (genes, _) = crate::pseudobulk::make_unique(&names);
    let cells_left_out = src.shape().0 - cells.cells.len();
    Ok(Screen { cells, groups, group_of_row, control, genes, cells_left_out })
}

/// The first labels, for an error message.
fn preview_labels(labels: &[String]) -> String {
    let shown: Vec<&str> = labels.iter().take(12).map(String::as_str).collect();
    let more = labels.len().saturating_sub(shown.len());
    format!("{}{}", shown.join(", "), if more > 0 { format!(", … ({more} more)") } else { String::new() })
}
