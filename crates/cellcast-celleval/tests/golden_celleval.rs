//! cellcast's cell-eval against cell-eval 0.8.2 itself: every fixture case under
//! `fixtures/golden/evaluate/` (made by `scripts/golden/evaluate_fixtures.py` from the real
//! screens in ../shared/data) is evaluated from its own `real.h5ad` / `pred.h5ad` and every
//! value of cell-eval's results.csv, agg_results.csv, real_de.csv and pred_de.csv is compared
//! (1e-6 relative; the bar).

use std::path::{Path, PathBuf};

use cellcast_celleval::{evaluate, DeTable, EvaluateOptions, Quiet, Results};
use cellcast_data::H5ad;
use serde_json::Value;

fn fixtures() -> PathBuf {
    std::env::var_os("CELLEVAL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/evaluate"))
}

/// Equal within 1e-6 relative (both NaN, or both missing, count as equal).
fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) if x.is_nan() && y.is_nan() => true,
        (Some(x), Some(y)) if x == y => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-6 * x.abs().max(y.abs()),
        _ => false,
    }
}

fn parse(s: &str) -> Option<f64> {
    match s {
        "" => None,
        "NaN" => Some(f64::NAN),
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => Some(s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))),
    }
}

/// A case's file: in its folder, or (stored once for several cases) where case.json's `files`
/// says.
fn locate(dir: &Path, case: &Value, name: &str) -> PathBuf {
    let here = dir.join(name);
    if here.exists() || PathBuf::from(format!("{}.gz", here.display())).exists() {
        return here;
    }
    for key in [name.to_string(), format!("{name}.gz")] {
        if let Some(at) = case["files"][&key]["stored_at"].as_str() {
            let p = dir.parent().unwrap().join(at);
            return if key.ends_with(".gz") && !name.ends_with(".gz") { p.with_extension("") } else { p };
        }
    }
    here
}

fn read_text(path: &Path) -> String {
    if path.exists() {
        return std::fs::read_to_string(path).unwrap();
    }
    let gz = PathBuf::from(format!("{}.gz", path.display()));
    let mut s = String::new();
    use std::io::Read;
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&gz).unwrap_or_else(|_| panic!("{}", gz.display())))
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let body = r.records().map(|x| x.unwrap().iter().map(String::from).collect()).collect();
    (header, body)
}

/// Mismatches of one results table against cell-eval's.
fn compare_results(ours: &Results, dir: &Path, case: &Value, prefix: &str, errors: &mut Vec<String>) {
    let (header, body) = rows(&read_text(&locate(dir, case, &format!("{prefix}results.csv"))));
    let names: Vec<&str> = ours.columns.iter().map(|c| c.name.as_str()).collect();
    let expected: Vec<&str> = header[1..].iter().map(String::as_str).collect();
    if names != expected {
        errors.push(format!("{prefix}results.csv columns: ours {names:?}, cell-eval {expected:?}"));
        return;
    }
    let perts: Vec<&str> = body.iter().map(|r| r[0].as_str()).collect();
    if perts != ours.perturbations.iter().map(String::as_str).collect::<Vec<_>>() {
        errors.push(format!("{prefix}results.csv rows: ours {:?}, cell-eval {perts:?}", ours.perturbations));
        return;
    }
    for (k, col) in ours.columns.iter().enumerate() {
        for (i, row) in body.iter().enumerate() {
            let want = parse(&row[k + 1]);
            if !close(col.values[i], want) {
                errors.push(format!(
                    "{prefix}results.csv {} / {}: ours {:?}, cell-eval {want:?}",
                    perts[i], col.name, col.values[i]
                ));
            }
        }
    }
    let (_, agg) = rows(&read_text(&locate(dir, case, &format!("{prefix}agg_results.csv"))));
    let ours_agg = ours.aggregate();
    for (s, row) in agg.iter().enumerate() {
        for (k, col) in ours.columns.iter().enumerate() {
            let want = parse(&row[k + 1]);
            // The standard deviation of a constant column is rounding noise (polars and cellcast
            // sum in different orders): compared absolutely.
            let noise = row[0] == "std"
                && want.is_some_and(|w| w.abs() < 1e-12)
                && ours_agg[k][s].is_some_and(|o| o.abs() < 1e-12);
            if !noise && !close(ours_agg[k][s], want) {
                errors.push(format!(
                    "{prefix}agg_results.csv {} / {}: ours {:?}, cell-eval {want:?}",
                    row[0], col.name, ours_agg[k][s]
                ));
            }
        }
    }
}

fn compare_de(ours: &DeTable, path: &Path, errors: &mut Vec<String>) {
    let (header, body) = rows(&read_text(path));
    let col = |c: &str| header.iter().position(|h| h == c).unwrap();
    if body.len() != ours.rows.len() {
        errors.push(format!("{}: {} rows, ours {}", path.display(), body.len(), ours.rows.len()));
        return;
    }
    let mut bad = 0;
    for (row, r) in body.iter().zip(&ours.rows) {
        let key_ok = row[col("target")] == ours.targets[r.target as usize]
            && row[col("feature")] == ours.features[r.feature as usize];
        let checks = [
            ("target_mean", r.target_mean),
            ("ref_mean", r.ref_mean),
            ("log2_fold_change", r.log2_fold_change),
            ("percent_change", r.percent_change),
            ("p_value", r.p_value),
            ("statistic", r.statistic),
            ("fdr", r.fdr.unwrap_or(f64::NAN)),
        ];
        for (name, v) in checks {
            let want = parse(&row[col(name)]);
            if !key_ok || !close(Some(v), want) {
                bad += 1;
                if bad <= 10 {
                    errors.push(format!(
                        "{} {} / {} {name}: ours {v:?}, cell-eval {want:?}",
                        path.display(),
                        row[col("target")],
                        row[col("feature")]
                    ));
                }
            }
        }
    }
    if bad > 10 {
        errors.push(format!("{}: {bad} mismatching values in all", path.display()));
    }
}

/// Runs one `cell-eval run` of a case; `None` when it uses what this test does not cover.
fn run_case(dir: &Path, case: &Value, run: &Value) -> Option<Vec<String>> {
    let argv: Vec<&str> = run["argv"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let flag = |short: &str, long: &str| argv.iter().position(|a| *a == short || *a == long).map(|i| argv[i + 1]);
    let has = |f: &str| argv.contains(&f);
    let failed = run["exit_code"].as_i64().is_some_and(|c| c != 0);
    if failed || argv.get(1) != Some(&"run") || has("--embed-key") || has("--ceiling") || has("-dr") || has("--de-real")
    {
        return None;
    }
    let real = H5ad::open(&locate(dir, case, flag("-ar", "--adata-real").unwrap())).unwrap();
    let pred = H5ad::open(&locate(dir, case, flag("-ap", "--adata-pred").unwrap())).unwrap();
    let skip: Vec<String> =
        flag("--skip-metrics", "--skip-metrics").map(|v| v.split(',').map(String::from).collect()).unwrap_or_default();
    let opts = EvaluateOptions {
        pert_column: flag("--pert-col", "--pert-col").unwrap_or("target"),
        control: flag("--control-pert", "--control-pert").unwrap_or("non-targeting"),
        profile: flag("--profile", "--profile").unwrap_or("full"),
        celltype_column: flag("--celltype-col", "--celltype-col"),
        skip_metrics: skip,
        allow_discrete: has("--allow-discrete"),
        ..EvaluateOptions::default()
    };
    let results = evaluate(&real, &pred, None, &opts, &Quiet).unwrap();
    let sub = flag("-o", "--outdir").unwrap_or(".");
    let rel = |name: &str| if sub == "." { name.to_string() } else { format!("{sub}/{name}") };
    let mut errors = Vec::new();
    for r in results {
        let prefix = r.celltype.as_ref().map(|c| format!("{}_", c.replace('/', "-"))).unwrap_or_default();
        compare_results(&r, dir, case, &rel(&prefix), &mut errors);
        if let Some(de) = &r.de_real {
            compare_de(de, &locate(dir, case, &rel(&format!("{prefix}real_de.csv"))), &mut errors);
        }
        if let Some(de) = &r.de_pred {
            compare_de(de, &locate(dir, case, &rel(&format!("{prefix}pred_de.csv"))), &mut errors);
        }
    }
    Some(errors)
}

#[test]
fn every_fixture_case_matches_cell_eval() {
    let root = fixtures();
    let Ok(entries) = std::fs::read_dir(&root) else {
        eprintln!("skipped: no fixtures at {}", root.display());
        return;
    };
    let mut dirs: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.join("case.json").exists()).collect();
    dirs.sort();
    let mut failures = Vec::new();
    for dir in dirs {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        for run in case["runs"].as_array().unwrap() {
            let name = format!("{} / {}", dir.file_name().unwrap().to_string_lossy(), run["name"]);
            match run_case(&dir, &case, run) {
                None => eprintln!("{name}: not covered here"),
                Some(errors) if errors.is_empty() => eprintln!("{name}: every value matches cell-eval"),
                Some(errors) => {
                    eprintln!("{name}: {} mismatches", errors.len());
                    for e in errors.iter().take(40) {
                        eprintln!("  {e}");
                    }
                    failures.push(name);
                }
            }
        }
    }
    assert!(failures.is_empty(), "cases differing from cell-eval: {failures:?}");
}
