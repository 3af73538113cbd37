//! One AnnData file (real or predicted) read the way cell-eval reads it, without ever holding
//! its matrix whole.
//!
//! [`Screen::open`] makes one pass over `X`: the perturbation labels, each cell's total, the
//! per-gene count of stored values and what the values look like. From that it decides the
//! scale as cell-eval's `guess_is_lognorm` does (integers → raw counts, normalised by
//! `sc.pp.normalize_total` to the file's median total and log1p-transformed; decimals → log1p
//! already, refused when negative or ≥ 15) unless the caller declares it. [`Screen::gene_chunk`]
//! then hands back a range of genes, each as its (cell, normalised value) pairs in cell order —
//! as many genes per pass as the memory budget allows — and [`Screen::cell_rows`] the cells'
//! normalised rows. When the file's stored values fit the budget the first pass keeps them
//! ([`CellRows`], normalised once) and the file is read only once; otherwise every pass streams
//! `X` again.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use cellcast_data::anndata::CellSource;
use cellcast_data::h5ad::{MatrixEncoding, RowBlock, ValueType};

use crate::error::{CellEvalError, Result};
use crate::numeric::{median, NumpyLog1p, Precision};

/// The scale of a file's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Raw (integer) counts.
    Counts,
    /// log1p-normalised expression.
    Log1p,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Scale::Counts => "counts",
            Scale::Log1p => "log1p",
        }
    }

    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "counts" => Some(Scale::Counts),
            "log1p" => Some(Scale::Log1p),
            _ => None,
        }
    }
}

/// How a file's values are read: what was decided about their scale, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleChoice {
    /// What the values are.
    pub scale: Scale,
    /// Whether the scale was declared by the caller rather than detected.
    pub declared: bool,
    /// Whether the counts were normalised (median total, then log1p) before anything else.
    pub normalized: bool,
    /// The total every cell was scaled to, when normalised.
    pub target_sum: Option<f64>,
    /// What pdex is told (`is_log1p`): cell-eval says `true` unless discrete data is allowed.
    pub pdex_log1p: bool,
    /// Why, in words.
    pub reason: String,
}

/// How to read the files.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions<'a> {
    /// The obs column of perturbation labels.
    pub pert_column: &'a str,
    /// The control label.
    pub control: &'a str,
    /// Declared scale; `None` detects it as cell-eval does.
    pub scale: Option<Scale>,
    /// cell-eval's `--allow-discrete`: integer data is left as it is (not normalised) and pdex
    /// is told the data is not log1p.
    pub allow_discrete: bool,
    /// Only these cells (a cell-type split); `None` reads all.
    pub keep: Option<&'a [bool]>,
    /// Keep the values read in memory when they take at most this many bytes
    /// ([`HeldRows::bytes_per_value`] each); 0 streams the file on every pass.
    pub hold_bytes: u64,
    /// The float32 log1p of counts normalisation (numpy's, see [`NumpyLog1p`]).
    pub numpy_log1p: NumpyLog1p,
}

/// A file opened for evaluation (see the [module documentation](self)).
pub struct Screen<'a> {
    src: &'a dyn CellSource,
    /// The file's path (or `AnnData (in memory)`), for messages.
    pub name: String,
    /// var_names, as stored.
    pub genes: Vec<String>,
    /// Perturbation labels in pdex's order: category order for a categorical column, sorted
    /// otherwise (control included).
    pub perturbations: Vec<String>,
    /// The perturbation of every kept cell (index into `perturbations`), `u32::MAX` for cells
    /// not kept.
    pub perturbation_of_cell: Vec<u32>,
    /// Cells of each perturbation.
    pub sizes: Vec<usize>,
    /// Index of the control in `perturbations`.
    pub control: usize,
    pub precision: Precision,
    /// Whether `X` is stored sparse (pdex averages a sparse matrix differently from a dense one).
    pub sparse: bool,
    pub scale: ScaleChoice,
    /// The float32 log1p of counts normalisation and of pdex's means.
    pub numpy_log1p: NumpyLog1p,
    /// Per kept cell, the divisor of counts normalisation.
    size_factor: Option<Vec<f64>>,
    /// Stored non-zero values per gene among kept cells.
    gene_nnz: Vec<u64>,
    block_rows: usize,
    /// For a reordered subset ([`Screen::subset`]): each cell's position in it. Sums run in this
    /// order, as they run over the rows of the subset's AnnData in cell-eval.
    pub position: Option<Vec<u32>>,
    /// The kept cells' normalised values, when they fit the budget (shared with subsets).
    held: Option<Arc<HeldRows>>,
}

/// A stored value of held rows: float32 when every value of the file is one exactly (float32
/// data, counts, and counts normalised in float32, as cell-eval computes them), float64 otherwise.
pub trait HeldValue: Copy + Send + Sync + 'static {
    fn from_f64(v: f64) -> Self;
    fn get(self) -> f64;
}

impl HeldValue for f32 {
    #[inline]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    #[inline]
    fn get(self) -> f64 {
        f64::from(self)
    }
}

impl HeldValue for f64 {
    #[inline]
    fn from_f64(v: f64) -> f64 {
        v
    }
    #[inline]
    fn get(self) -> f64 {
        self
    }
}

/// A gene index of held rows: 16 bits for files of at most 65,536 genes.
pub trait HeldGene: Copy + Send + Sync + 'static {
    fn from_u32(j: u32) -> Self;
    fn get(self) -> usize;
}

impl HeldGene for u16 {
    #[inline]
    fn from_u32(j: u32) -> u16 {
        j as u16
    }
    #[inline]
    fn get(self) -> usize {
        usize::from(self)
    }
}

impl HeldGene for u32 {
    #[inline]
    fn from_u32(j: u32) -> u32 {
        j
    }
    #[inline]
    fn get(self) -> usize {
        self as usize
    }
}

/// Cells' non-zero values, row by row (compressed), in file order: gene indices ascending and
/// values.
#[derive(Debug, Clone, Default)]
pub struct CellRows<G = u32, V = f64> {
    /// The file row of each row.
    cells: Vec<u32>,
    indptr: Vec<usize>,
    genes: Vec<G>,
    values: Vec<V>,
}

impl<G: HeldGene, V: HeldValue> CellRows<G, V> {
    fn with_capacity(rows: usize, values: usize) -> Self {
        let mut indptr = Vec::with_capacity(rows + 1);
        indptr.push(0);
        CellRows {
            cells: Vec::with_capacity(rows),
            indptr,
            genes: Vec::with_capacity(values),
            values: Vec::with_capacity(values),
        }
    }

    fn push(&mut self, cell: usize, genes: &[u32], values: &[f64]) {
        self.cells.push(cell as u32);
        self.genes.extend(genes.iter().map(|&j| G::from_u32(j)));
        self.values.extend(values.iter().map(|&v| V::from_f64(v)));
        self.indptr.push(self.values.len());
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The file row of row `r`.
    pub fn cell(&self, r: usize) -> usize {
        self.cells[r] as usize
    }

    /// Row `r`: (gene indices ascending, values).
    pub fn row(&self, r: usize) -> (&[G], &[V]) {
        let span = self.indptr[r]..self.indptr[r + 1];
        (&self.genes[span.clone()], &self.values[span])
    }

    /// The rows `rows`, in that order, copied out with 32-bit genes and float64 values.
    fn select(&self, rows: &[usize]) -> CellRows {
        let n: usize = rows.iter().map(|&r| self.indptr[r + 1] - self.indptr[r]).sum();
        let mut out = CellRows::with_capacity(rows.len(), n);
        for &r in rows {
            let (genes, values) = self.row(r);
            out.cells.push(self.cells[r]);
            out.genes.extend(genes.iter().map(|&j| j.get() as u32));
            out.values.extend(values.iter().map(|&v| v.get()));
            out.indptr.push(out.values.len());
        }
        out
    }

    /// The same rows with float64 values.
    fn widen(self) -> CellRows<G, f64> {
        CellRows {
            cells: self.cells,
            indptr: self.indptr,
            genes: self.genes,
            values: self.values.into_iter().map(HeldValue::get).collect(),
        }
    }

    /// Calls `f(cell, values)` with each row's values, to rewrite them in place.
    fn map_values(&mut self, mut f: impl FnMut(usize, &mut [V])) {
        for r in 0..self.cells.len() {
            f(self.cells[r] as usize, &mut self.values[self.indptr[r]..self.indptr[r + 1]]);
        }
    }
}

impl CellRows {
    /// The rows as (genes, values) slices, as the energy distances take them.
    pub fn sparse_rows(&self) -> Vec<SparseRow<'_>> {
        (0..self.len()).map(|r| self.row(r)).collect()
    }
}

/// Calls `$body` with `$rows` bound to the [`CellRows`] inside a [`HeldRows`], whatever its
/// storage (the code is compiled once per storage).
macro_rules! with_rows {
    ($held:expr, $rows:ident => $body:expr) => {
        match $held {
            $crate::screen::HeldRows::U16F32($rows) => $body,
            $crate::screen::HeldRows::U16F64($rows) => $body,
            $crate::screen::HeldRows::U32F32($rows) => $body,
            $crate::screen::HeldRows::U32F64($rows) => $body,
        }
    };
}
pub(crate) use with_rows;

/// A file's kept cells' normalised values, as compact as they can be stored exactly: 6 bytes a
/// value (16-bit gene, float32 value) for most files, up to 12.
#[derive(Debug, Clone)]
pub enum HeldRows {
    U16F32(CellRows<u16, f32>),
    U16F64(CellRows<u16, f64>),
    U32F32(CellRows<u32, f32>),
    U32F64(CellRows<u32, f64>),
}

impl HeldRows {
    /// The narrowest storage a file of `n_genes` genes of this value type may need.
    fn for_file(n_genes: usize, value_type: ValueType, rows: usize, values: usize) -> HeldRows {
        let narrow_genes = n_genes <= 1 << 16;
        match (narrow_genes, value_type != ValueType::F64) {
            (true, true) => HeldRows::U16F32(CellRows::with_capacity(rows, values)),
            (true, false) => HeldRows::U16F64(CellRows::with_capacity(rows, values)),
            (false, true) => HeldRows::U32F32(CellRows::with_capacity(rows, values)),
            (false, false) => HeldRows::U32F64(CellRows::with_capacity(rows, values)),
        }
    }

    /// Bytes a stored value takes in the storage [`HeldRows::for_file`] picks.
    pub fn bytes_per_value(n_genes: usize, value_type: ValueType) -> u64 {
        let gene = if n_genes <= 1 << 16 { 2 } else { 4 };
        let value = if value_type != ValueType::F64 { 4 } else { 8 };
        gene + value
    }

    /// Appends a row; `exact32`: every value is a float32 exactly (else float32 storage is
    /// widened first, so no value is ever rounded).
    fn push(&mut self, cell: usize, genes: &[u32], values: &[f64], exact32: bool) {
        if !exact32 {
            self.widen();
        }
        with_rows!(self, rows => rows.push(cell, genes, values))
    }

    fn widen(&mut self) {
        let placeholder = HeldRows::U32F64(CellRows::with_capacity(0, 0));
        *self = match std::mem::replace(self, placeholder) {
            HeldRows::U16F32(r) => HeldRows::U16F64(r.widen()),
            HeldRows::U32F32(r) => HeldRows::U32F64(r.widen()),
            wide => wide,
        };
    }

    pub fn len(&self) -> usize {
        with_rows!(self, rows => rows.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file row of row `r`.
    pub fn cell(&self, r: usize) -> usize {
        with_rows!(self, rows => rows.cell(r))
    }

    /// Stored values in all.
    pub fn stored(&self) -> usize {
        with_rows!(self, rows => rows.values.len())
    }

    /// The rows that store each of the `n_genes` genes (counted from the rows themselves: a
    /// subset of a screen, a cell type or a half, shares its file's first-pass counts).
    pub fn stored_per_gene(&self, n_genes: usize) -> Vec<u64> {
        let mut counts = vec![0; n_genes];
        with_rows!(self, rows => rows.genes.iter().for_each(|j| counts[j.get()] += 1));
        counts
    }

    /// The rows `rows`, in that order, with 32-bit genes and float64 values.
    pub fn select(&self, rows: &[usize]) -> CellRows {
        with_rows!(self, held => held.select(rows))
    }
}

/// What the first pass sees of the values.
struct ValueScan {
    has_decimals: bool,
    min: f64,
    max: f64,
}

impl<'a> Screen<'a> {
    /// Reads labels and scans the values (see the [module documentation](self)).
    pub fn open(src: &'a dyn CellSource, opts: &ReadOptions<'_>) -> Result<Screen<'a>> {
        src.validate()?;
        let name = src.name();
        let (n_obs, n_vars) = src.shape();
        if let Some(k) = opts.keep {
            if k.len() != n_obs {
                return Err(CellEvalError::Input(format!(
                    "{name}: a selection of {} cells for {n_obs} cells",
                    k.len()
                )));
            }
        }
        let kept = |c: usize| opts.keep.is_none_or(|k| k[c]);
        let column = src.obs_column(opts.pert_column).map_err(|_| {
            CellEvalError::Input(format!(
                "{name}: no obs column '{}' (obs columns: {}); pass the perturbation column with --pert-column",
                opts.pert_column,
                src.obs_columns().join(", ")
            ))
        })?;
        let grouping = column.grouping();
        let missing = (0..n_obs).filter(|&c| kept(c) && grouping.of_cell[c].is_none()).count();
        if missing > 0 {
            let first = (0..n_obs).find(|&c| kept(c) && grouping.of_cell[c].is_none()).unwrap_or(0);
            return Err(CellEvalError::Input(format!(
                "{name}: obs/{}: {missing} cell(s) have no perturbation label (the first is cell {first}, '{}'); \
                 cell-eval would score them as a perturbation named 'nan' in some metrics and drop them from \
                 differential expression in others. Label or remove them.",
                opts.pert_column,
                src.obs_names().get(first).map(String::as_str).unwrap_or("?"),
            )));
        }
        // Only perturbations some kept cell holds (a cell-type split keeps every category in
        // cell-eval, and pdex then fails on the empty ones).
        let mut sizes_all = vec![0usize; grouping.labels.len()];
        for c in (0..n_obs).filter(|&c| kept(c)) {
            sizes_all[grouping.of_cell[c].unwrap() as usize] += 1;
        }
        let mut remap = vec![u32::MAX; grouping.labels.len()];
        let mut perturbations = Vec::new();
        let mut sizes = Vec::new();
        for (g, label) in grouping.labels.iter().enumerate() {
            if sizes_all[g] > 0 {
                remap[g] = perturbations.len() as u32;
                perturbations.push(label.clone());
                sizes.push(sizes_all[g]);
            }
        }
        let perturbation_of_cell: Vec<u32> =
            (0..n_obs).map(|c| if kept(c) { remap[grouping.of_cell[c].unwrap() as usize] } else { u32::MAX }).collect();
        let control = perturbations.iter().position(|p| p == opts.control).ok_or_else(|| {
            CellEvalError::Input(format!(
                "{name}: control '{}' is not a label of obs/{} (labels: {}); pass it with --control",
                opts.control,
                opts.pert_column,
                preview(&perturbations)
            ))
        })?;

        let info = src.matrix_info(None)?;
        let sparse = info.encoding != MatrixEncoding::Dense;
        // About half a million stored values a block. Counted in cells of a dense file's width, a
        // sparse file's blocks were a few dozen cells (64 of a VCC-sized file), and each read of
        // one scans the dataset's whole chunk index (8,191 chunks there): 3% of that run's time.
        let block_rows = (500_000 * n_obs as u64 / info.stored.max(1)).clamp(64, 65_536) as usize;
        let mut totals = vec![0.0f64; n_obs];
        let mut gene_nnz = vec![0u64; n_vars];
        let mut scan = ValueScan { has_decimals: false, min: f64::INFINITY, max: f64::NEG_INFINITY };
        let mut held = (info.stored.saturating_mul(HeldRows::bytes_per_value(n_vars, info.value_type))
            <= opts.hold_bytes)
            .then(|| HeldRows::for_file(n_vars, info.value_type, n_obs, info.stored as usize));
        let (mut genes, mut values) = (Vec::new(), Vec::new());
        for block in src.row_blocks(None, block_rows)? {
            let block = block?;
            for r in 0..block.rows.n_rows() {
                let cell = block.start + r;
                if !kept(cell) {
                    continue;
                }
                let (idx, vals) = block.rows.row(r);
                // Stored zeros are dropped (most files store none).
                let (idx, vals) = if vals.iter().fold(false, |any, &v| any | (v == 0.0)) {
                    genes.clear();
                    values.clear();
                    for (&j, &v) in idx.iter().zip(vals).filter(|(_, &v)| v != 0.0) {
                        genes.push(j);
                        values.push(v);
                    }
                    (&genes[..], &values[..])
                } else {
                    (idx, vals)
                };
                for &j in idx {
                    gene_nnz[j as usize] += 1;
                }
                let row = RowScan::of(vals);
                totals[cell] = row.total;
                scan.has_decimals |= row.decimals;
                let (mut lo, mut hi) = (row.min, row.max);
                if vals.len() < n_vars {
                    (lo, hi) = (lo.min(0.0), hi.max(0.0));
                }
                scan.min = scan.min.min(lo);
                scan.max = scan.max.max(hi);
                if let Some(h) = &mut held {
                    h.push(cell, idx, vals, row.exact32);
                }
            }
        }
        let integer_type = info.value_type.is_integer() || info.value_type == ValueType::Bool;
        let mut precision = if info.value_type == ValueType::F64 { Precision::F64 } else { Precision::F32 };
        let (scale, size_factor) = decide_scale(&name, opts, &scan, sparse, precision, &totals, &perturbation_of_cell)?;
        if integer_type && !scale.normalized {
            // Integers left as they are (--allow-discrete): cell-eval's pseudobulks of them are
            // float64.
            precision = Precision::F64;
        }
        if let (Some(h), Some(factors)) = (&mut held, &size_factor) {
            // Normalised counts are rounded to the working precision, so float32 storage holds
            // them exactly (a float64 file is held in float64).
            let log1p = opts.numpy_log1p;
            with_rows!(h, rows => rows.map_values(|cell, values| normalize_row(precision, log1p, factors[cell], values)));
        }
        Ok(Screen {
            src,
            name,
            genes: src.var_names().to_vec(),
            perturbations,
            perturbation_of_cell,
            sizes,
            control,
            precision,
            sparse,
            scale,
            numpy_log1p: opts.numpy_log1p,
            size_factor,
            gene_nnz,
            block_rows,
            position: None,
            held: held.map(Arc::new),
        })
    }

    /// The cells with `position[cell] != u32::MAX`, in the order of their positions, read as
    /// this screen reads them (same scale and normalisation factors: a subset of the normalised
    /// data, as cell-eval's `adata[idx]`). Perturbations left without cells are dropped.
    pub fn subset(&self, position: Vec<u32>) -> Result<Screen<'a>> {
        let mut sizes_all = vec![0usize; self.perturbations.len()];
        for (c, &g) in self.perturbation_of_cell.iter().enumerate() {
            if g != u32::MAX && position[c] != u32::MAX {
                sizes_all[g as usize] += 1;
            }
        }
        let mut remap = vec![u32::MAX; sizes_all.len()];
        let (mut perturbations, mut sizes) = (Vec::new(), Vec::new());
        for (g, &n) in sizes_all.iter().enumerate() {
            if n > 0 {
                remap[g] = perturbations.len() as u32;
                perturbations.push(self.perturbations[g].clone());
                sizes.push(n);
            }
        }
        let control = remap[self.control];
        if control == u32::MAX {
            return Err(CellEvalError::Input(format!(
                "{}: the control '{}' has no cell in this subset",
                self.name, self.perturbations[self.control]
            )));
        }
        let perturbation_of_cell = self
            .perturbation_of_cell
            .iter()
            .zip(&position)
            .map(|(&g, &p)| if g == u32::MAX || p == u32::MAX { u32::MAX } else { remap[g as usize] })
            .collect();
        Ok(Screen {
            src: self.src,
            name: self.name.clone(),
            genes: self.genes.clone(),
            perturbations,
            perturbation_of_cell,
            sizes,
            control: control as usize,
            precision: self.precision,
            sparse: self.sparse,
            scale: self.scale.clone(),
            numpy_log1p: self.numpy_log1p,
            size_factor: self.size_factor.clone(),
            gene_nnz: self.gene_nnz.clone(),
            block_rows: self.block_rows,
            position: Some(position),
            held: self.held.clone(),
        })
    }

    /// The file's `obsm[key]` (all cells of the file), refused if its rows are not the cells.
    pub fn obsm(&self, key: &str) -> Result<cellcast_stats::Matrix> {
        let m = self.src.obsm(key)?;
        if m.nrows() != self.perturbation_of_cell.len() {
            return Err(CellEvalError::Input(format!(
                "{}: obsm '{key}' has {} rows for {} cells",
                self.name,
                m.nrows(),
                self.perturbation_of_cell.len()
            )));
        }
        Ok(m)
    }

    pub fn n_genes(&self) -> usize {
        self.genes.len()
    }

    /// Calls `f(cell, genes, values)` for every kept cell in file order, with its non-zero
    /// values normalised, streamed from the file.
    fn for_each_row(&self, f: &mut RowVisitor<'_>) -> Result<()> {
        let mut scratch = (Vec::new(), Vec::new());
        for block in self.src.row_blocks(None, self.block_rows)? {
            self.visit_block(&block?, 0..self.n_genes(), &mut scratch, f);
        }
        Ok(())
    }

    /// [`Screen::for_each_row`] over the rows of one block read from the file, each cut to the
    /// genes `keep` (a value is normalised on its own, so normalising part of a row gives the
    /// same numbers; a streamed file's DE pass, a third of the genes at a time on a VCC-sized
    /// file, normalises and copies only those).
    fn visit_block(
        &self,
        block: &RowBlock,
        keep: Range<usize>,
        (genes, values): &mut (Vec<u32>, Vec<f64>),
        f: &mut RowVisitor<'_>,
    ) {
        for r in 0..block.rows.n_rows() {
            let cell = block.start + r;
            if self.perturbation_of_cell[cell] == u32::MAX {
                continue;
            }
            let (idx, vals) = genes_in(block.rows.row(r), &keep);
            genes.clear();
            values.clear();
            for (&j, &v) in idx.iter().zip(vals).filter(|(_, &v)| v != 0.0) {
                genes.push(j);
                values.push(v);
            }
            if let Some(factors) = &self.size_factor {
                normalize_row(self.precision, self.numpy_log1p, factors[cell], values);
            }
            f(cell, genes, values);
        }
    }

    /// Gene ranges whose gathered values fit `budget_bytes` each (one range at least one gene),
    /// each value a cell index and a `V` (see [`Screen::gene_chunk`]).
    pub fn gene_chunks<V: HeldValue>(&self, budget_bytes: u64) -> Vec<Range<usize>> {
        let bytes_per_value = (4 + std::mem::size_of::<V>()) as u64;
        let mut out = Vec::new();
        let mut start = 0;
        let mut used = 0u64;
        for (j, &nnz) in self.gene_nnz.iter().enumerate() {
            let need = nnz * bytes_per_value;
            if j > start && used + need > budget_bytes {
                out.push(start..j);
                start = j;
                used = 0;
            }
            used += need;
        }
        if start < self.gene_nnz.len() || out.is_empty() {
            out.push(start..self.gene_nnz.len());
        }
        out
    }

    /// The genes `range`, each as (kept cell, normalised non-zero value) pairs in cell order, from
    /// a pass over the file (a held file is summarised from memory instead, see
    /// [`Screen::held_rows`]). Values read in float32 precision are float32 numbers: `V = f32`
    /// holds them exactly in half the memory.
    ///
    /// This thread reads and decodes the file's blocks of rows while another normalises them and
    /// files their values under their genes, a few blocks behind (the evaluation of a VCC-sized
    /// pair of files took 57 s instead of 72). Both keep the file's order, so the chunk is the
    /// same on any number of threads.
    pub fn gene_chunk<V: HeldValue>(&self, range: Range<usize>) -> Result<GeneChunk<V>> {
        let mut filer = Filer::new(GeneChunk::sized(range.clone(), &self.gene_nnz));
        std::thread::scope(|s| {
            let (blocks, received) = std::sync::mpsc::sync_channel::<RowBlock>(4);
            let filing = s.spawn(|| {
                let mut scratch = (Vec::new(), Vec::new());
                for block in received {
                    let file = &mut |cell, idx: &[u32], vals: &[f64]| filer.add(cell, idx, vals);
                    self.visit_block(&block, range.clone(), &mut scratch, file);
                }
            });
            let read = (|| -> Result<()> {
                for block in self.src.row_blocks(None, self.block_rows)? {
                    if blocks.send(block?).is_err() {
                        break;
                    }
                }
                Ok(())
            })();
            drop(blocks);
            if let Err(panic) = filing.join() {
                std::panic::resume_unwind(panic);
            }
            read
        })?;
        filer.finish().map_err(|j| {
            // The first pass counted every kept non-zero value; a file changed since gives more.
            CellEvalError::Input(format!(
                "{}: gene {j} has more non-zero values on this pass over the file than on the first; \
                 was the file changed while it was read?",
                self.name
            ))
        })
    }
}

/// What receives a cell's row: (cell, gene indices, values).
type RowVisitor<'a> = dyn FnMut(usize, &[u32], &[f64]) + 'a;

/// One cell's counts normalised in place as cell-eval reads them: log1p(x / factor), each step
/// rounded to the working precision. In float32 (every count file but a float64 one) through
/// the float32 log1p numpy runs (`log1p`): its AVX-512 kernel sixteen values at a time in SIMD
/// lanes; the C library's one value at a time, once per small whole count of the cell (most
/// stored counts).
fn normalize_row<V: HeldValue>(precision: Precision, log1p: NumpyLog1p, factor: f64, values: &mut [V]) {
    if precision == Precision::F64 {
        for v in values {
            *v = V::from_f64((v.get() / factor).ln_1p());
        }
        return;
    }
    if log1p == NumpyLog1p::CLibrary {
        // log1p of count k < 64 (NaN until computed: never a log1p of a count).
        let mut memo = [f32::NAN; 64];
        for v in values {
            let x = v.get();
            let k = x as usize;
            let y = if k < memo.len() && k as f64 == x {
                if memo[k].is_nan() {
                    memo[k] = log1p.f32((x / factor) as f32);
                }
                memo[k]
            } else {
                log1p.f32((x / factor) as f32)
            };
            *v = V::from_f64(f64::from(y));
        }
        return;
    }
    let mut scaled = [0f32; 16];
    for chunk in values.chunks_mut(16) {
        let scaled = &mut scaled[..chunk.len()];
        for (s, v) in scaled.iter_mut().zip(chunk.iter()) {
            *s = (v.get() / factor) as f32;
        }
        log1p.in_place(scaled);
        for (v, &s) in chunk.iter_mut().zip(scaled.iter()) {
            *v = V::from_f64(f64::from(s));
        }
    }
}

/// One cell's non-zero values: (gene indices, values).
pub type SparseRow<'r> = (&'r [u32], &'r [f64]);

/// The part of a row (genes ascending) whose genes lie in `keep`.
fn genes_in<'r>((idx, vals): SparseRow<'r>, keep: &Range<usize>) -> SparseRow<'r> {
    let lo = idx.partition_point(|&j| (j as usize) < keep.start);
    let hi = lo + idx[lo..].partition_point(|&j| (j as usize) < keep.end);
    (&idx[lo..hi], &vals[lo..hi])
}

/// Genes `start..start + len()`: for each, its kept cells with a non-zero value (in cell order)
/// and those values, normalised. Each gene's pairs have their own stretch of two flat arrays,
/// sized from the first pass's counts (with a vector per gene instead, grown push by push, the
/// evaluation of a VCC-sized pair of files took 87 s instead of 72).
pub struct GeneChunk<V = f64> {
    pub start: usize,
    /// Gene `start + k`'s pairs are at `starts[k]..ends[k]` (`starts[k + 1]` bounds the stretch).
    starts: Vec<usize>,
    ends: Vec<usize>,
    cells: Vec<u32>,
    values: Vec<V>,
}

impl<V: HeldValue> GeneChunk<V> {
    /// Empty, with room for `gene_nnz[j]` pairs of each gene j of `range`.
    fn sized(range: Range<usize>, gene_nnz: &[u64]) -> Self {
        let mut starts = Vec::with_capacity(range.len() + 1);
        starts.push(0usize);
        for &nnz in &gene_nnz[range.clone()] {
            starts.push(starts[starts.len() - 1] + nnz as usize);
        }
        let total = starts[range.len()];
        GeneChunk {
            start: range.start,
            ends: starts[..range.len()].to_vec(),
            starts,
            cells: vec![0; total],
            values: vec![V::from_f64(0.0); total],
        }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Gene `start + k`'s kept cells and their values.
    pub fn gene(&self, k: usize) -> (&[u32], &[V]) {
        let stretch = self.starts[k]..self.ends[k];
        (&self.cells[stretch.clone()], &self.values[stretch])
    }
}

/// Files cells' values under their genes in a [`GeneChunk`]. Written straight to their genes'
/// stretches, consecutive values land thousands of stretches apart, each write a cache (and
/// TLB) miss; so they are staged, sorted by gene (stably: cells stay in order) a batch at a time,
/// and copied a gene's run at a time (the whole evaluation of a VCC-sized pair of files took
/// 46 s instead of 57).
struct Filer<V> {
    chunk: GeneChunk<V>,
    /// Staged values: the gene's place in the chunk, the cell, the value.
    genes: Vec<u32>,
    cells: Vec<u32>,
    values: Vec<V>,
    /// The staged values sorted by gene, and where each gene's run ends.
    sorted_cells: Vec<u32>,
    sorted_values: Vec<V>,
    run_ends: Vec<u32>,
    /// A gene whose stretch overflowed (its surplus values are left out).
    full: Option<u32>,
}

impl<V: HeldValue> Filer<V> {
    /// Values staged before they are sorted and copied.
    const BATCH: usize = 1 << 16;

    fn new(chunk: GeneChunk<V>) -> Self {
        Filer {
            chunk,
            genes: Vec::with_capacity(Self::BATCH),
            cells: Vec::with_capacity(Self::BATCH),
            values: Vec::with_capacity(Self::BATCH),
            sorted_cells: Vec::new(),
            sorted_values: Vec::new(),
            run_ends: Vec::new(),
            full: None,
        }
    }

    /// Files a cell's values, all of the chunk's genes (`idx`: the row as
    /// [`Screen::visit_block`] cuts it).
    fn add(&mut self, cell: usize, idx: &[u32], vals: &[f64]) {
        let start = self.chunk.start;
        for (&j, &v) in idx.iter().zip(vals) {
            let k = j as usize - start;
            debug_assert!(k < self.chunk.len(), "gene {j} is not in the chunk");
            self.genes.push(k as u32);
            self.cells.push(cell as u32);
            self.values.push(V::from_f64(v));
        }
        if self.genes.len() >= Self::BATCH {
            self.flush();
        }
    }

    /// Sorts the staged values by gene and copies each gene's run to the end of its stretch.
    fn flush(&mut self) {
        let n = self.chunk.len();
        let staged = self.genes.len();
        // Counting sort: run_ends[k] = where gene k's run starts, then (after placing) ends.
        self.run_ends.clear();
        self.run_ends.resize(n + 1, 0);
        for &k in &self.genes {
            self.run_ends[k as usize + 1] += 1;
        }
        for k in 0..n {
            self.run_ends[k + 1] += self.run_ends[k];
        }
        self.sorted_cells.resize(staged, 0);
        self.sorted_values.resize(staged, V::from_f64(0.0));
        for ((&k, &cell), &v) in self.genes.iter().zip(&self.cells).zip(&self.values) {
            let at = &mut self.run_ends[k as usize];
            self.sorted_cells[*at as usize] = cell;
            self.sorted_values[*at as usize] = v;
            *at += 1;
        }
        let chunk = &mut self.chunk;
        let mut from = 0;
        for k in 0..n {
            let to = self.run_ends[k] as usize;
            if to > from {
                let at = chunk.ends[k];
                let take = (to - from).min(chunk.starts[k + 1] - at);
                if take < to - from {
                    self.full.get_or_insert((chunk.start + k) as u32);
                }
                chunk.cells[at..at + take].copy_from_slice(&self.sorted_cells[from..from + take]);
                chunk.values[at..at + take].copy_from_slice(&self.sorted_values[from..from + take]);
                chunk.ends[k] = at + take;
            }
            from = to;
        }
        self.genes.clear();
        self.cells.clear();
        self.values.clear();
    }

    /// The filled chunk, or `Err(gene)` if a gene got more values than its stretch holds.
    fn finish(mut self) -> std::result::Result<GeneChunk<V>, u32> {
        self.flush();
        match self.full {
            Some(j) => Err(j),
            None => Ok(self.chunk),
        }
    }
}

/// What the first pass records of one cell's stored non-zero values (finite: the reader refuses
/// others).
struct RowScan {
    /// The sum in stored order (any order for whole numbers whose sums are all exact).
    total: f64,
    min: f64,
    max: f64,
    /// Some value has decimals as cell-eval sees them ([`has_decimals`]).
    decimals: bool,
    /// Every value is a float32 exactly.
    exact32: bool,
}

impl RowScan {
    /// Eight independent lanes, so that the pass compiles to SIMD (it reads every stored value
    /// of the file), then the tail.
    fn of(values: &[f64]) -> RowScan {
        const LANES: usize = 8;
        let mut lo = [f64::INFINITY; LANES];
        let mut hi = [f64::NEG_INFINITY; LANES];
        let mut sum = [0.0; LANES];
        let (mut decimals, mut whole, mut exact32) = ([false; LANES], [true; LANES], [true; LANES]);
        let mut lane = |l: usize, v: f64| {
            lo[l] = if v < lo[l] { v } else { lo[l] };
            hi[l] = if v > hi[l] { v } else { hi[l] };
            sum[l] += v;
            let (d, w) = decimals_and_whole(v);
            decimals[l] |= d;
            whole[l] &= w;
            exact32[l] &= f64::from(v as f32) == v;
        };
        let chunks = values.chunks_exact(LANES);
        let tail = chunks.remainder();
        for chunk in chunks {
            for (l, &v) in chunk.iter().enumerate() {
                lane(l, v);
            }
        }
        for &v in tail {
            lane(0, v);
        }
        let min = lo.iter().fold(f64::INFINITY, |a, &v| a.min(v));
        let max = hi.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v));
        // Whole numbers sum exactly in any order while every partial sum stays below 2^53;
        // otherwise the total is summed again in stored order.
        let largest = max.abs().max(min.abs());
        let exact_any_order = whole.iter().all(|&w| w) && largest * (values.len() as f64) < 9_007_199_254_740_992.0;
        let total = if exact_any_order { sum.iter().sum() } else { values.iter().sum() };
        RowScan { total, min, max, decimals: decimals.iter().any(|&d| d), exact32: exact32.iter().all(|&e| e) }
    }
}

/// cell-eval's test of a value for decimals, `v − trunc(v) > 1e-3` ([`has_decimals`]), and
/// whether the value is a whole number, without a library call (`trunc` is one on baseline
/// x86-64) or a float-to-integer conversion, so that it vectorises: adding and subtracting 2^52
/// rounds a |v| below 2^52 to the nearest whole number r, and a |v| below r has a fraction above
/// ½, a |v| above it the fraction |v| − r. Every float from 2^52 on is whole.
#[inline(always)]
fn decimals_and_whole(v: f64) -> (bool, bool) {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let a = v.abs();
    let f = a - ((a + TWO_52) - TWO_52);
    let small = a < TWO_52;
    // A negative v has v − trunc(v) ≤ 0: no decimals for cell-eval.
    (v >= 0.0 && small && !(0.0..=1e-3).contains(&f), !small || f == 0.0)
}

/// cell-eval's test of a value for decimals: `v − trunc(v) > 1e-3`.
#[cfg(test)]
fn has_decimals(v: f64) -> bool {
    decimals_and_whole(v).0
}

/// cell-eval's `guess_is_lognorm` and `_convert_to_normlog`, or the caller's declaration.
fn decide_scale(
    name: &str,
    opts: &ReadOptions<'_>,
    scan: &ValueScan,
    sparse: bool,
    precision: Precision,
    totals: &[f64],
    perturbation_of_cell: &[u32],
) -> Result<(ScaleChoice, Option<Vec<f64>>)> {
    let range = || format!("[{}, {}]", short(scan.min), short(scan.max));
    let (scale, declared, reason) = match opts.scale {
        Some(s) => (s, true, format!("declared {} (values in {})", s.name(), range())),
        None if !scan.has_decimals => (
            Scale::Counts,
            false,
            format!("every value is a whole number (values in {}), so cell-eval reads raw counts", range()),
        ),
        None => {
            if scan.min < 0.0 {
                return Err(CellEvalError::Input(format!(
                    "{name}: X has negative values (min {}); cell-eval refuses them (both counts and log1p data \
                     are >= 0). Give counts or log1p-normalised expression",
                    short(scan.min)
                )));
            }
            if !opts.allow_discrete && scan.max >= 15.0 {
                return Err(CellEvalError::Input(format!(
                    "{name}: X has decimals but values up to {} (>= 15), which cell-eval refuses as a mix of \
                     scales; give log1p-normalised data, declare the scale with --scale, or pass --allow-discrete",
                    short(scan.max)
                )));
            }
            (
                Scale::Log1p,
                false,
                format!("values have decimals and lie in {} (below 15), so cell-eval reads log1p data", range()),
            )
        }
    };
    let normalize = scale == Scale::Counts && !opts.allow_discrete;
    if !normalize {
        let reason =
            if scale == Scale::Counts { format!("{reason}; --allow-discrete: left as they are") } else { reason };
        let choice = ScaleChoice {
            scale,
            declared,
            normalized: false,
            target_sum: None,
            pdex_log1p: !opts.allow_discrete,
            reason,
        };
        return Ok((choice, None));
    }
    // scanpy's normalize_total: totals in the working precision; the target is the median total
    // (a CSR matrix takes the median over every cell, a dense one over cells with counts).
    let p = precision;
    let kept_totals: Vec<f64> = totals
        .iter()
        .zip(perturbation_of_cell)
        .filter(|(_, &g)| g != u32::MAX)
        .map(|(&t, _)| p.round(t))
        .filter(|&t| sparse || t > 0.0)
        .collect();
    let target = median(p, &kept_totals).unwrap_or(0.0);
    if target <= 0.0 {
        return Err(CellEvalError::Input(format!("{name}: every cell has zero counts; nothing to normalise")));
    }
    let factors = totals
        .iter()
        .map(|&t| {
            let f = p.round(p.round(t) / target);
            if f == 0.0 {
                1.0
            } else {
                f
            }
        })
        .collect();
    let choice = ScaleChoice {
        scale,
        declared,
        normalized: true,
        target_sum: Some(target),
        pdex_log1p: true,
        reason: format!(
            "{reason}; normalised each cell to the file's median total ({}) and log1p-transformed, as cell-eval does",
            short(target)
        ),
    };
    Ok((choice, Some(factors)))
}

fn short(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

pub(crate) fn preview(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(12).map(String::as_str).collect();
    if items.len() > shown.len() {
        format!("{}, … ({} in all)", shown.join(", "), items.len())
    } else {
        shown.join(", ")
    }
}

impl Screen<'_> {
    /// The kept cells' normalised rows, when the first pass kept them.
    pub fn held_rows(&self) -> Option<&HeldRows> {
        self.held.as_deref()
    }

    /// The kept cells' normalised rows: the held ones, or read now.
    pub fn cell_rows(&self) -> Result<Cow<'_, HeldRows>> {
        if let Some(h) = &self.held {
            return Ok(Cow::Borrowed(h.as_ref()));
        }
        // Values read in float32 precision are float32 numbers, held exactly in float32.
        let value_type = if self.precision == Precision::F32 { ValueType::F32 } else { ValueType::F64 };
        let mut rows = HeldRows::for_file(
            self.n_genes(),
            value_type,
            self.perturbation_of_cell.len(),
            self.gene_nnz.iter().sum::<u64>() as usize,
        );
        self.for_each_row(&mut |cell, genes, values| rows.push(cell, genes, values, true))?;
        Ok(Cow::Owned(rows))
    }

    /// For each perturbation, the rows of `rows` (from [`Screen::cell_rows`]) holding its cells,
    /// in the order cell-eval sees them (file order, or a subset's positions).
    pub fn rows_by_perturbation(&self, rows: &HeldRows) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = self.sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
        for r in 0..rows.len() {
            let g = self.perturbation_of_cell[rows.cell(r)];
            if g != u32::MAX {
                out[g as usize].push(r);
            }
        }
        if let Some(pos) = &self.position {
            for list in &mut out {
                list.sort_by_key(|&r| pos[rows.cell(r)]);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_rows_widen_rather_than_round() {
        let mut held = HeldRows::for_file(3, ValueType::I64, 2, 4);
        held.push(7, &[0, 2], &[1.0, 3.0], true);
        assert!(matches!(held, HeldRows::U16F32(_)));
        // 2^24 + 1 is no float32: the storage turns float64 and keeps the earlier rows.
        let big = 16_777_217.0;
        held.push(9, &[1], &[big], false);
        assert!(matches!(held, HeldRows::U16F64(_)));
        let rows = held.select(&[1, 0]);
        assert_eq!((rows.cell(0), rows.row(0)), (9, (&[1u32][..], &[big][..])));
        assert_eq!((rows.cell(1), rows.row(1)), (7, (&[0u32, 2][..], &[1.0, 3.0][..])));
        assert_eq!(HeldRows::bytes_per_value(3, ValueType::F32), 6);
        assert_eq!(HeldRows::bytes_per_value(70_000, ValueType::F64), 12);
        assert!(matches!(HeldRows::for_file(70_000, ValueType::F64, 0, 0), HeldRows::U32F64(_)));
    }

    #[test]
    fn decimals_found_as_cell_eval_finds_them() {
        // −2.5 − trunc(−2.5) = −0.5: cell-eval's test does not see negative decimals either.
        let cases = [(3.0, false), (3.0005, false), (3.5, true), (-2.5, false), (1e300, false), (0.002, true)];
        for (v, want) in cases {
            assert_eq!(has_decimals(v), v - v.trunc() > 1e-3, "{v}");
            assert_eq!(has_decimals(v), want, "{v}");
        }
        // Seeded values around the rounding points, the 1e-3 boundary and 2^52.
        let mut rng = cellcast_stats::rng::SplitMix64::new(5);
        let edges =
            [0.0, -0.0, 0.5, 0.499_999_999, 0.500_000_001, 0.001, 0.001_000_001, 0.999, 4_503_599_627_370_495.5];
        for k in 0..100_000 {
            let base = (rng.next_u64() % 1000) as f64;
            let v = match k % 4 {
                0 => base + edges[k % edges.len()],
                1 => -(base + edges[k % edges.len()]),
                2 => (rng.next_u64() >> 11) as f64 * 2f64.powi(-((k % 60) as i32)),
                _ => base,
            };
            assert_eq!(has_decimals(v), v - v.trunc() > 1e-3, "{v}");
            assert_eq!(decimals_and_whole(v).1, v == v.trunc(), "{v}");
        }
    }

    #[test]
    fn row_scan_matches_the_plain_loop() {
        // Rows of whole numbers (summed in lanes), of decimals (summed in order) and mixed, of
        // every length up to three lane blocks and a tail.
        let mut rng = cellcast_stats::rng::SplitMix64::new(9);
        for n in 1..40 {
            for kind in 0..3 {
                let values: Vec<f64> = (0..n)
                    .map(|i| {
                        let w = (rng.next_u64() % 500) as f64 + 1.0;
                        let d = w / 7.0 + 1e-9;
                        match kind {
                            0 => w,
                            1 => d,
                            _ if i % 3 == 0 => -d,
                            _ => w,
                        }
                    })
                    .collect();
                let row = RowScan::of(&values);
                let plain: f64 = values.iter().sum();
                assert_eq!(row.total.to_bits(), plain.to_bits(), "{values:?}");
                assert_eq!(row.min, values.iter().cloned().fold(f64::INFINITY, f64::min));
                assert_eq!(row.max, values.iter().cloned().fold(f64::NEG_INFINITY, f64::max));
                assert_eq!(row.decimals, values.iter().any(|&v| v - v.trunc() > 1e-3));
                assert_eq!(row.exact32, values.iter().all(|&v| f64::from(v as f32) == v));
            }
        }
    }

    #[test]
    fn filer_keeps_each_genes_cells_in_order_across_batches() {
        // 400 cells × genes 10..310 of a file, about a third of them stored: more values than
        // one batch, so runs of one gene are copied from several sorts.
        let (range, n_genes) = (10..310, 400);
        let mut rng = cellcast_stats::rng::SplitMix64::new(11);
        let rows: Vec<(Vec<u32>, Vec<f64>)> = (0..400)
            .map(|c| {
                let idx: Vec<u32> = (0..n_genes as u32).filter(|_| rng.next_u64().is_multiple_of(3)).collect();
                let vals = idx.iter().map(|&j| f64::from(j) + c as f64 / 1000.0).collect();
                (idx, vals)
            })
            .collect();
        let mut gene_nnz = vec![0u64; n_genes];
        for (idx, _) in &rows {
            idx.iter().for_each(|&j| gene_nnz[j as usize] += 1);
        }
        assert!(3 * gene_nnz[range.clone()].iter().sum::<u64>() > Filer::<f64>::BATCH as u64);
        let file = |gene_nnz: &[u64]| {
            let mut filer = Filer::<f64>::new(GeneChunk::sized(range.clone(), gene_nnz));
            for _ in 0..3 {
                // Three passes' worth of cells (1200) for more than one batch.
                for (c, (idx, vals)) in rows.iter().enumerate() {
                    // The row cut to the chunk's genes, as `visit_block` cuts it.
                    let (idx, vals) = genes_in((idx, vals), &range);
                    filer.add(c, idx, vals);
                }
            }
            filer.finish()
        };
        let thrice: Vec<u64> = gene_nnz.iter().map(|n| 3 * n).collect();
        let chunk = file(&thrice).expect("room for every value");
        assert_eq!(chunk.len(), range.len());
        for (k, j) in range.clone().enumerate() {
            let (cells, values) = chunk.gene(k);
            let want: Vec<(u32, f64)> = (0..3)
                .flat_map(|_| rows.iter().enumerate())
                .filter_map(|(c, (idx, vals))| idx.iter().position(|&g| g as usize == j).map(|p| (c as u32, vals[p])))
                .collect();
            let got: Vec<(u32, f64)> = cells.iter().copied().zip(values.iter().copied()).collect();
            assert_eq!(got, want, "gene {j}");
        }
        // A gene given more values than the first pass counted is named, not overrun.
        let first = range.clone().find(|&j| gene_nnz[j] > 0).expect("a stored gene");
        assert_eq!(file(&gene_nnz).err(), Some(first as u32));
    }
}
