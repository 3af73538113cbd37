//! Differential-expression tables in pdex's layout (`real_de.csv`, `pred_de.csv`): computed by
//! [`crate::summary`], or read from a file the user gives (`--de-real`, `--de-pred`).

use std::io::Write;
use std::path::Path;

use crate::error::{input, CellEvalError, Result};
use crate::numeric::Precision;
use rayon::prelude::*;

/// pdex's columns, in its order.
pub const COLUMNS: [&str; 11] = [
    "target",
    "feature",
    "target_mean",
    "ref_mean",
    "target_membership",
    "ref_membership",
    "log2_fold_change",
    "percent_change",
    "p_value",
    "statistic",
    "fdr",
];

/// One (perturbation, gene) row.
#[derive(Debug, Clone, PartialEq)]
pub struct DeRow {
    /// Index into [`DeTable::targets`].
    pub target: u32,
    /// Index into [`DeTable::features`].
    pub feature: u32,
    pub target_mean: f64,
    pub ref_mean: f64,
    pub target_membership: u64,
    pub ref_membership: u64,
    pub log2_fold_change: f64,
    pub percent_change: f64,
    pub p_value: f64,
    pub statistic: f64,
    /// `None` where a read table has no value.
    pub fdr: Option<f64>,
}

/// A DE table: rows in their order (which breaks ties when genes are ranked).
#[derive(Debug, Clone, PartialEq)]
pub struct DeTable {
    pub targets: Vec<String>,
    pub features: Vec<String>,
    pub rows: Vec<DeRow>,
    /// The precision pdex's means were computed in (they are written in it); `None` for a table
    /// read from a file.
    pub mean_precision: Option<Precision>,
}

impl DeTable {
    /// Writes the table as pdex writes it.
    pub fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", COLUMNS.join(","))?;
        // Names quoted once; rows formatted in parallel, a block at a time, and written in order.
        let targets: Vec<String> = self.targets.iter().map(|t| csv_field(t)).collect();
        let features: Vec<String> = self.features.iter().map(|f| csv_field(f)).collect();
        let f32_means = self.mean_precision == Some(Precision::F32);
        const ROWS_PER_BLOCK: usize = 8192;
        for blocks in self.rows.chunks(ROWS_PER_BLOCK * rayon::current_num_threads().max(1) * 4) {
            let texts: Vec<Vec<u8>> = blocks
                .par_chunks(ROWS_PER_BLOCK)
                .map(|rows| {
                    let mut text = Vec::with_capacity(rows.len() * 160);
                    for r in rows {
                        // Writing into a Vec<u8> cannot fail.
                        let _ = write!(text, "{},{},", targets[r.target as usize], features[r.feature as usize]);
                        for mean in [r.target_mean, r.ref_mean] {
                            let _ =
                                if f32_means { write!(text, "{:?},", mean as f32) } else { write!(text, "{mean:?},") };
                        }
                        let _ = write!(
                            text,
                            "{},{},{:?},{:?},{:?},{:?},",
                            r.target_membership,
                            r.ref_membership,
                            r.log2_fold_change,
                            r.percent_change,
                            r.p_value,
                            r.statistic
                        );
                        if let Some(fdr) = r.fdr {
                            let _ = write!(text, "{fdr:?}");
                        }
                        text.push(b'\n');
                    }
                    text
                })
                .collect();
            for text in texts {
                out.write_all(&text)?;
            }
        }
        Ok(())
    }

    /// Reads a DE table (pdex's or any with columns `target`, `feature`, `log2_fold_change`,
    /// `p_value` and `fdr`; a plain or gzip-compressed CSV).
    pub fn read_csv(path: &Path) -> Result<DeTable> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|error| CellEvalError::Io { path: name.clone(), error })?;
        let reader: Box<dyn std::io::Read> = if name.ends_with(".gz") {
            Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file)))
        } else {
            Box::new(file)
        };
        let mut csv = csv::ReaderBuilder::new().from_reader(std::io::BufReader::new(reader));
        let header: Vec<String> = csv
            .headers()
            .map_err(|e| input(format!("{name}: cannot read the header: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        let col = |c: &str| header.iter().position(|h| h == c);
        let need = |c: &str| {
            col(c).ok_or_else(|| {
                input(format!(
                    "{name}: no column '{c}' (columns: {}); a DE table needs target, feature, log2_fold_change, \
                     p_value and fdr, as pdex writes them",
                    header.join(", ")
                ))
            })
        };
        let (ti, fi, li, pi, qi) =
            (need("target")?, need("feature")?, need("log2_fold_change")?, need("p_value")?, need("fdr")?);
        let optional = ["target_mean", "ref_mean", "percent_change", "statistic"].map(col);
        let mut table = DeTable { targets: Vec::new(), features: Vec::new(), rows: Vec::new(), mean_precision: None };
        let mut target_ids = std::collections::HashMap::new();
        let mut feature_ids = std::collections::HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for (k, record) in csv.records().enumerate() {
            let line = k + 2;
            let record = record.map_err(|e| input(format!("{name}: line {line}: {e}")))?;
            let text = |i: usize| record.get(i).unwrap_or("");
            let number = |i: usize, column: &str| -> Result<Option<f64>> {
                let s = text(i).trim();
                if s.is_empty() {
                    return Ok(None);
                }
                parse_float(s)
                    .map(Some)
                    .ok_or_else(|| input(format!("{name}: line {line}, column '{column}': '{s}' is not a number")))
            };
            let intern = |map: &mut std::collections::HashMap<String, u32>, list: &mut Vec<String>, s: &str| {
                *map.entry(s.to_string()).or_insert_with(|| {
                    list.push(s.to_string());
                    (list.len() - 1) as u32
                })
            };
            let target = intern(&mut target_ids, &mut table.targets, text(ti));
            let feature = intern(&mut feature_ids, &mut table.features, text(fi));
            if !seen.insert((target, feature)) {
                return Err(input(format!(
                    "{name}: line {line}: target '{}' and feature '{}' appear twice; a DE table has one row per \
                     (target, feature)",
                    text(ti),
                    text(fi)
                )));
            }
            let opt = |slot: usize, column: &str| -> Result<f64> {
                Ok(match optional[slot] {
                    Some(i) => number(i, column)?.unwrap_or(f64::NAN),
                    None => f64::NAN,
                })
            };
            table.rows.push(DeRow {
                target,
                feature,
                target_mean: opt(0, "target_mean")?,
                ref_mean: opt(1, "ref_mean")?,
                target_membership: 0,
                ref_membership: 0,
                log2_fold_change: number(li, "log2_fold_change")?.unwrap_or(f64::NAN),
                percent_change: opt(2, "percent_change")?,
                p_value: number(pi, "p_value")?.unwrap_or(f64::NAN),
                statistic: opt(3, "statistic")?,
                fdr: number(qi, "fdr")?,
            });
        }
        Ok(table)
    }

    /// The perturbations of the table, sorted (cell-eval's `get_perts`).
    pub fn sorted_targets(&self) -> Vec<String> {
        let mut t = self.targets.clone();
        t.sort();
        t
    }
}

/// Numbers as polars reads them, including `NaN`, `inf`, `-inf`.
fn parse_float(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "inf" | "Infinity" => Some(f64::INFINITY),
        "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
