//! Gene programs of what the selected model learned from chemistry: NMF of |its out-of-fold
//! prediction − the mean baseline's| (compounds × targets), k by the elbow of the
//! reconstruction error, each program reported with its share and its top genes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::{bail, Context, Result};
use cellcast_data::output::{Column, OutputTable};
use cellcast_models::programs::{elbow, nmf, Nmf, NmfOptions};
use cellcast_stats::Matrix;

/// Programs tried when choosing k by the elbow.
const MAX_PROGRAMS: usize = 8;
/// Genes listed per program.
const TOP_GENES: usize = 10;

#[derive(Debug, Clone)]
pub struct GenePrograms {
    /// ‖X − WH‖_F for k = 1..=MAX_PROGRAMS (as far as the matrix allows).
    pub errors: Vec<f64>,
    pub fit: Nmf,
    /// 1 − ‖X − WH‖²/‖X‖².
    pub explained: f64,
}

/// Factorises the magnitude of `prediction − baseline`; `None` when there is nothing to factorise
/// (the two agree everywhere).
pub fn gene_programs(prediction: &Matrix, baseline: &Matrix) -> Result<Option<GenePrograms>> {
    let values: Vec<f64> = prediction.as_slice().iter().zip(baseline.as_slice()).map(|(p, b)| (p - b).abs()).collect();
    let norm2: f64 = values.iter().map(|v| v * v).sum();
    if norm2 == 0.0 || !norm2.is_finite() {
        return Ok(None);
    }
    let x =
        Matrix::from_row_major(prediction.nrows(), prediction.ncols(), values).expect("same shape as the prediction");
    let ks = MAX_PROGRAMS.min(x.nrows()).min(x.ncols());
    let fits: Vec<Nmf> = (1..=ks).map(|k| nmf(&x, &NmfOptions::new(k))).collect::<Result<_, _>>()?;
    let errors: Vec<f64> = fits.iter().map(|f| f.error).collect();
    let k = elbow(&errors);
    let fit = fits.into_iter().nth(k - 1).expect("k within the fitted range").sorted_by_share();
    let explained = 1.0 - fit.error.powi(2) / norm2;
    Ok(Some(GenePrograms { errors, fit, explained }))
}

/// Reads a gene annotation (CSV or TSV): a symbol column (`symbol`, `gene_symbol` or
/// `pr_gene_symbol`) and whichever other column names the most of `targets`.
pub fn read_gene_annotation(path: &Path, targets: &[String]) -> Result<HashMap<String, String>> {
    let tab = matches!(path.extension().and_then(|e| e.to_str()), Some("tsv" | "txt" | "tab"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if tab { b'\t' } else { b',' })
        .flexible(false)
        .from_path(path)
        .with_context(|| format!("reading the gene annotation {}", path.display()))?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let Some(symbol) = header.iter().position(|h| {
        let h = h.to_ascii_lowercase();
        h == "symbol" || h == "gene_symbol" || h == "pr_gene_symbol"
    }) else {
        bail!(
            "{}: no symbol column (expected one named symbol, gene_symbol or pr_gene_symbol; found {})",
            path.display(),
            header.join(", ")
        );
    };
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), line + 2))?;
        rows.push(record.iter().map(str::to_string).collect::<Vec<_>>());
    }
    let wanted: std::collections::HashSet<&str> = targets.iter().map(String::as_str).collect();
    let key = (0..header.len())
        .filter(|&c| c != symbol)
        .max_by_key(|&c| (rows.iter().filter(|r| wanted.contains(r[c].as_str())).count(), std::cmp::Reverse(c)))
        .filter(|&c| rows.iter().any(|r| wanted.contains(r[c].as_str())));
    let Some(key) = key else {
        bail!("{}: no column of the annotation names any of the task's targets (e.g. {})", path.display(), targets[0]);
    };
    Ok(rows.into_iter().map(|r| (r[key].clone(), r[symbol].clone())).collect())
}

fn label(target: &str, symbols: Option<&HashMap<String, String>>) -> String {
    match symbols.and_then(|s| s.get(target)) {
        Some(symbol) => format!("{symbol} ({target})"),
        None => target.to_string(),
    }
}

/// programs.csv: one row per (program, rank) with the target, its symbol and the loading.
pub fn write_programs_csv(
    path: &Path,
    programs: &GenePrograms,
    targets: &[String],
    symbols: Option<&HashMap<String, String>>,
) -> Result<()> {
    let shares = programs.fit.shares();
    let (mut program, mut share, mut rank, mut target, mut symbol, mut loading) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (j, s) in shares.iter().enumerate() {
        for (r, &g) in programs.fit.top_columns(j, targets.len()).iter().enumerate() {
            program.push(Some(format!("program_{}", j + 1)));
            share.push(*s);
            rank.push(Some((r + 1).to_string()));
            target.push(Some(targets[g].clone()));
            symbol.push(symbols.and_then(|m| m.get(&targets[g]).cloned()));
            loading.push(programs.fit.h.get(j, g));
        }
    }
    OutputTable::new()
        .with("program", Column::Text(program))
        .with("share", Column::Float(share))
        .with("rank", Column::Text(rank))
        .with("target", Column::Text(target))
        .with("symbol", Column::Text(symbol))
        .with("loading", Column::Float(loading))
        .write(path)?;
    Ok(())
}

/// The report section.
pub fn markdown(
    programs: &GenePrograms,
    model: &str,
    targets: &[String],
    symbols: Option<&HashMap<String, String>>,
) -> String {
    let mut s = String::new();
    let k = programs.fit.h.nrows();
    let _ = writeln!(
        s,
        "## Gene programs of `{model}`\n\nNMF (scikit-learn's multiplicative updates, NNDSVDa start) of |`{model}` − `mean`| over the out-of-fold predictions: what the model learned from chemistry beyond the baseline. k = {k} by the elbow of the reconstruction error (k = 1…{}: {}); the {k} programs explain {:.1}% of its squared magnitude. Every gene's loading is in `programs.csv`.\n",
        programs.errors.len(),
        programs.errors.iter().map(|e| format!("{e:.3}")).collect::<Vec<_>>().join(", "),
        100.0 * programs.explained
    );
    let _ = writeln!(s, "| program | share | top genes |\n|---|---|---|");
    for (j, share) in programs.fit.shares().iter().enumerate() {
        let genes: Vec<String> =
            programs.fit.top_columns(j, TOP_GENES).iter().map(|&g| label(&targets[g], symbols)).collect();
        let _ = writeln!(s, "| {} | {:.1}% | {} |", j + 1, 100.0 * share, genes.join(", "));
    }
    s
}
