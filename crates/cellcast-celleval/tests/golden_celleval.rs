//! cellcast's cell-eval against cell-eval 0.8.2 itself: every fixture case under
//! `fixtures/golden/evaluate/` (made by `scripts/golden/evaluate_fixtures.py` from the real
//! screens in ../shared/data) is evaluated from its own `real.h5ad` / `pred.h5ad` and every
//! value of cell-eval's results.csv, agg_results.csv, real_de.csv and pred_de.csv is compared
//! (1e-6 relative; the bar).

use std::path::{Path, PathBuf};

use cellcast_celleval::{evaluate, Ceiling, DeTable, EvaluateOptions, NumpyLog1p, Quiet, Results};
use cellcast_data::anndata::CellSource;
use cellcast_data::H5ad;
use serde_json::Value;

/// The float32 log1p numpy ran where the case was made (the counts cases' normalised values, and
/// so their Wilcoxon ties, depend on it): case.json's `numpy_log1p`; cases made before it was
/// recorded were made on a CPU with AVX-512.
fn case_numpy_log1p(case: &Value) -> NumpyLog1p {
    let name = case["numpy_log1p"].as_str().unwrap_or("avx512");
    NumpyLog1p::parse(name).unwrap_or_else(|| panic!("case.json: unknown numpy_log1p '{name}'"))
}

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
/// results.csv (named `{prefix}{name}`), and its aggregate when `agg` names it.
fn compare_results(
    ours: &Results,
    dir: &Path,
    case: &Value,
    prefix: &str,
    name: &str,
    agg: Option<&str>,
    errors: &mut Vec<String>,
) {
    let (header, body) = rows(&read_text(&locate(dir, case, &format!("{prefix}{name}"))));
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
    let Some(agg_name) = agg else { return };
    let (_, agg) = rows(&read_text(&locate(dir, case, &format!("{prefix}{agg_name}"))));
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

fn compare_corrected(c: &Ceiling, dir: &Path, case: &Value, name: &str, errors: &mut Vec<String>) {
    let (header, body) = rows(&read_text(&locate(dir, case, name)));
    let ours: Vec<&str> = c.corrected.iter().map(|(n, _)| n.as_str()).collect();
    if ours != header.iter().map(String::as_str).collect::<Vec<_>>() {
        errors.push(format!("{name} columns: ours {ours:?}, cell-eval {header:?}"));
        return;
    }
    for ((n, v), want) in c.corrected.iter().zip(&body[0]) {
        if !close(Some(*v), parse(want)) {
            errors.push(format!("{name} {n}: ours {v}, cell-eval {want}"));
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
    if failed || argv.get(1) != Some(&"run") {
        return None;
    }
    let real = H5ad::open(&locate(dir, case, flag("-ar", "--adata-real").unwrap())).unwrap();
    let pred = flag("-ap", "--adata-pred").map(|p| H5ad::open(&locate(dir, case, p)).unwrap());
    let de_real = flag("-dr", "--de-real").map(|p| locate(dir, case, p));
    let de_pred = flag("-dp", "--de-pred").map(|p| locate(dir, case, p));
    let skip: Vec<String> =
        flag("--skip-metrics", "--skip-metrics").map(|v| v.split(',').map(String::from).collect()).unwrap_or_default();
    let opts = EvaluateOptions {
        pert_column: flag("--pert-col", "--pert-col").unwrap_or("target"),
        control: flag("--control-pert", "--control-pert").unwrap_or("non-targeting"),
        profile: flag("--profile", "--profile").unwrap_or("full"),
        celltype_column: flag("--celltype-col", "--celltype-col"),
        skip_metrics: skip,
        allow_discrete: has("--allow-discrete"),
        de_real: de_real.as_deref(),
        de_pred: de_pred.as_deref(),
        embed_key: flag("--embed-key", "--embed-key"),
        ceiling_seed: has("--ceiling")
            .then(|| flag("--ceiling-seed", "--ceiling-seed").map_or(0, |s| s.parse().unwrap())),
        numpy_log1p: Some(case_numpy_log1p(case)),
        ..EvaluateOptions::default()
    };
    let results = evaluate(&real, pred.as_ref().map(|p| p as &dyn CellSource), None, &opts, &Quiet).unwrap();
    let sub = flag("-o", "--outdir").unwrap_or(".");
    let rel = |name: &str| if sub == "." { name.to_string() } else { format!("{sub}/{name}") };
    let mut errors = Vec::new();
    for e in results {
        let prefix = e.celltype.as_ref().map(|c| format!("{}_", c.replace('/', "-"))).unwrap_or_default();
        if let Some(c) = &e.ceiling {
            compare_results(&c.results, dir, case, &rel(&prefix), "ceiling_results.csv", None, &mut errors);
            compare_corrected(c, dir, case, &rel(&format!("{prefix}agg_ceiling_results.csv")), &mut errors);
        }
        let Some(r) = e.results else { continue };
        compare_results(&r, dir, case, &rel(&prefix), "results.csv", Some("agg_results.csv"), &mut errors);
        if let Some(de) = &r.de_real {
            compare_de(de, &locate(dir, case, &rel(&format!("{prefix}real_de.csv"))), &mut errors);
        }
        if let Some(de) = &r.de_pred {
            compare_de(de, &locate(dir, case, &rel(&format!("{prefix}pred_de.csv"))), &mut errors);
        }
    }
    Some(errors)
}

/// `cell-eval score` runs: the user and base runs it reads are found by their output folders,
/// and cellcast's score against the same baseline file is compared with score.csv.
fn score_case(dir: &Path, case: &Value, run: &Value) -> Option<Vec<String>> {
    let argv = |r: &Value| -> Vec<String> {
        r["argv"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    let a = argv(run);
    if a.get(1).map(String::as_str) != Some("score") {
        return None;
    }
    let flag = |a: &[String], f: &[&str]| a.iter().position(|x| f.contains(&x.as_str())).map(|i| a[i + 1].clone());
    let folder = |p: String| Path::new(&p).parent().unwrap().to_string_lossy().into_owned();
    let (user_dir, base_dir) = (folder(flag(&a, &["-i"])?), folder(flag(&a, &["-I"])?));
    let runs = case["runs"].as_array().unwrap();
    let find = |d: &str| runs.iter().map(argv).find(|r| flag(r, &["-o", "--outdir"]).as_deref() == Some(d));
    let (user, base) = (find(&user_dir)?, find(&base_dir)?);
    let open = |r: &[String], f: &[&str]| H5ad::open(&locate(dir, case, &flag(r, f).unwrap())).unwrap();
    let (real, pred, baseline) = (open(&user, &["-ar"]), open(&user, &["-ap"]), open(&base, &["-ap"]));
    let opts = EvaluateOptions {
        pert_column: &flag(&user, &["--pert-col"]).unwrap(),
        control: &flag(&user, &["--control-pert"]).unwrap(),
        profile: &flag(&user, &["--profile"]).unwrap(),
        numpy_log1p: Some(case_numpy_log1p(case)),
        ..EvaluateOptions::default()
    };
    let opts = EvaluateOptions { pert_column: opts.pert_column, control: opts.control, profile: opts.profile, ..opts };
    let e = evaluate(&real, Some(&pred), Some(&baseline), &opts, &Quiet).unwrap();
    let scores = e[0].results.as_ref().unwrap().scores.clone().unwrap();
    let (_, body) = rows(&read_text(&locate(dir, case, &flag(&a, &["-o"]).unwrap())));
    let mut errors = Vec::new();
    let ours: Vec<&str> = scores.iter().map(|s| s.metric.as_str()).collect();
    let theirs: Vec<&str> = body.iter().map(|r| r[0].as_str()).collect();
    if ours != theirs {
        errors.push(format!("score rows: ours {ours:?}, cell-eval {theirs:?}"));
    } else {
        for (s, r) in scores.iter().zip(&body) {
            if !close(Some(s.from_baseline), parse(&r[1])) {
                errors.push(format!("score {}: ours {}, cell-eval {}", s.metric, s.from_baseline, r[1]));
            }
        }
    }
    Some(errors)
}

/// `cell-eval baseline`: cellcast's baseline vector against the rows of cell-eval's
/// baseline.h5ad, and pdex on that file against its baseline_de.csv.
fn baseline_case(dir: &Path, case: &Value, run: &Value) -> Option<Vec<String>> {
    let a: Vec<&str> = run["argv"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    if a.get(1) != Some(&"baseline") {
        return None;
    }
    let flag = |f: &str| a.iter().position(|x| *x == f).map(|i| a[i + 1]);
    let real = H5ad::open(&locate(dir, case, flag("-a")?)).unwrap();
    let opts = EvaluateOptions {
        pert_column: flag("--pert-col")?,
        control: flag("--control-pert")?,
        numpy_log1p: Some(case_numpy_log1p(case)),
        ..EvaluateOptions::default()
    };
    let ours = cellcast_celleval::build_baseline(&real, &opts, &Quiet).unwrap();
    let theirs = H5ad::open(&locate(dir, case, flag("-o")?)).unwrap();
    let labels = theirs.obs_column(opts.pert_column).unwrap().labels();
    let mut errors = Vec::new();
    let n_control = labels.iter().filter(|l| l.as_deref() == Some(opts.control)).count();
    if n_control != ours.control_cells || labels.len() != ours.obs_names.len() {
        errors.push(format!(
            "baseline cells: ours {} ({} control), cell-eval {} ({n_control})",
            ours.obs_names.len(),
            ours.control_cells,
            labels.len()
        ));
    }
    let (idx, vals) = ours.x.row(0);
    let mut vector = vec![0.0; theirs.shape().1];
    for (&j, &v) in idx.iter().zip(vals) {
        vector[j as usize] = v;
    }
    for block in theirs.row_blocks(None, 4096).unwrap() {
        let block = block.unwrap();
        for r in 0..block.rows.n_rows() {
            if labels[block.start + r].as_deref() == Some(opts.control) {
                continue;
            }
            let (idx, vals) = block.rows.row(r);
            let mut row = vec![0.0; vector.len()];
            for (&j, &v) in idx.iter().zip(vals) {
                row[j as usize] = v;
            }
            if let Some(j) = (0..row.len()).find(|&j| !close(Some(row[j]), Some(vector[j]))) {
                errors.push(format!(
                    "baseline row {}: gene {j} is {} in cell-eval's, {} in ours",
                    block.start + r,
                    row[j],
                    vector[j]
                ));
                return Some(errors);
            }
        }
    }
    let de = cellcast_celleval::log1p_differential_expression(&theirs, &opts, &Quiet).unwrap();
    compare_de(&de, &locate(dir, case, flag("-O")?), &mut errors);
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
    assert!(!dirs.is_empty(), "no fixture case under {}", root.display());
    let mut failures = Vec::new();
    for dir in dirs {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        for run in case["runs"].as_array().unwrap() {
            let name = format!("{} / {}", dir.file_name().unwrap().to_string_lossy(), run["name"]);
            let outcome = run_case(&dir, &case, run)
                .or_else(|| score_case(&dir, &case, run))
                .or_else(|| baseline_case(&dir, &case, run));
            match outcome {
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
