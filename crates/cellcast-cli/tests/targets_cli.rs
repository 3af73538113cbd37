//! `cellcast targets rank | evaluate` end to end: a generated CRISPRi screen (raw counts, known
//! targets) ranked and scored with `ranking/mrr`, clean errors, and the real Norman 2019 subset.

mod common;

use std::path::{Path, PathBuf};

use common::{cellcast, cellcast_err, read_csv, read_csv_text, score_json, temp_dir};
use serde_json::Value;

/// `cellcast synth --kind screen` into a fresh folder.
fn screen(name: &str, extra: &[&str]) -> PathBuf {
    let dir = temp_dir(name);
    let mut args = vec!["synth", "--kind", "screen", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(if extra.contains(&"--cells") { &[] } else { &["--cells", "8"] });
    args.extend_from_slice(extra);
    let out = cellcast(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// `targets COMMAND` on a generated screen: its .h5ad, groups from obs `perturbation`, controls
/// labelled `control`, then `extra`, then `--out`.
fn screen_args(command: &str, h5ad: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["targets", command, "--h5ad", h5ad.to_str().unwrap()]
        .into_iter()
        .chain(["--group-column", "perturbation", "--control", "control"])
        .chain(extra.iter().copied())
        .map(str::to_string)
        .collect();
    args.extend(["--out".to_string(), out.to_str().unwrap().to_string()]);
    args
}

/// Runs `targets rank` on DIR/screen.h5ad, asserting success; returns stderr.
fn rank(dir: &Path, out: &Path, extra: &[&str]) -> String {
    let args = screen_args("rank", &dir.join("screen.h5ad"), out, extra);
    let o = cellcast(&args);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "targets rank failed: {stderr}");
    stderr
}

fn mrr(truth: &Path, pred: &Path) -> f64 {
    let v: Value = serde_json::from_str(&score_json("ranking/mrr", truth, pred, &[])).unwrap();
    assert_eq!(v["n_skipped"], 2, "the two unmeasured targets are skipped: {v}");
    v["value"].as_f64().unwrap()
}

#[test]
fn ranks_a_generated_crispri_screen_and_scores_with_mrr() {
    let dir = screen("targets-rank", &[]);
    let out = dir.join("ranks.csv");
    let stderr = rank(&dir, &out, &["--direction", "down"]);
    // Raw counts are normalised, and the assumption is said.
    assert!(stderr.contains("normalisation: cp10k-log1p — assumed"), "{stderr}");
    assert!(stderr.contains("non-negative integer: raw counts"), "{stderr}");
    // The two perturbations of unmeasured genes are reported, not silently ranked.
    assert!(stderr.contains("2 of 25 groups name genes that are not measured"), "{stderr}");
    assert!(stderr.contains("NOTMEASURED18 (NOTMEASURED18)"), "{stderr}");

    let csv = read_csv(&out);
    assert_eq!(csv.columns.len(), 300, "one column per gene of the file");
    assert_eq!(csv.columns[0], "G0000");
    assert_eq!(csv.ids.len(), 25, "every perturbation, the control excluded");
    assert!(!csv.ids.iter().any(|id| id == "control"));
    let truth: Vec<_> = read_csv_text(&dir.join("targets.csv"));
    assert_eq!(truth.len(), 25);
    assert!(truth.iter().any(|r| r["targets"].contains(';')), "double perturbations name two targets");

    // Specific DE finds the knocked-down gene first in most groups of 8 cells (measured 0.900;
    // the plain statistic 0.812, the wrong direction ~0).
    let specific = mrr(&dir.join("targets.csv"), &out);
    assert!(specific > 0.85, "{specific}");
    let plain_out = dir.join("plain.csv");
    rank(&dir, &plain_out, &["--direction", "down", "--no-specific"]);
    let plain = mrr(&dir.join("targets.csv"), &plain_out);
    assert!(specific > plain + 0.05, "{specific} vs {plain}");
    let up_out = dir.join("up.parquet");
    rank(&dir, &up_out, &["--direction", "up"]);
    let up = mrr(&dir.join("targets.csv"), &up_out);
    assert!(up < 0.05, "{up}");
    // Same input, same output, byte for byte.
    let again = dir.join("again.csv");
    rank(&dir, &again, &["--direction", "down"]);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn a_crispra_screen_is_found_upwards_and_by_magnitude() {
    let dir = screen("targets-rank-up", &["--direction", "up", "--seed", "3"]);
    let truth = dir.join("targets.csv");
    let up = dir.join("up.csv");
    rank(&dir, &up, &["--direction", "up"]);
    let both = dir.join("both.csv");
    rank(&dir, &both, &[]);
    // Measured: up 0.971, both 0.884.
    let (up, both) = (mrr(&truth, &up), mrr(&truth, &both));
    assert!(up > 0.9 && both > 0.8, "up {up}, both {both}");
}

#[test]
fn bad_selections_are_clear_errors_and_write_nothing() {
    let dir = screen("targets-errors", &["--perturbations", "4"]);
    let h5ad = dir.join("screen.h5ad");
    let out = dir.join("ranks.csv");
    let base = ["targets", "rank", "--h5ad", h5ad.to_str().unwrap(), "--group-column", "perturbation"];
    let with = |extra: &[&str]| {
        let mut a: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend(["--out".to_string(), out.to_str().unwrap().to_string()]);
        a
    };
    let e = cellcast_err(with(&["--control", "NT"]));
    assert!(e.contains("no cell is labelled 'NT'") && e.contains("labels: control,"), "{e}");
    assert!(e.contains("--control"), "{e}");
    let e = cellcast_err(with(&["--control", "control", "--where", "perturbation=nothing"]));
    assert!(e.contains("obs/perturbation") && e.contains("no cell has 'nothing'"), "{e}");
    let e = cellcast_err(with(&["--control", "control", "--where", "nonsense"]));
    assert!(e.contains("COLUMN=VALUE"), "{e}");
    let e = cellcast_err(with(&["--control", "control", "--where", "batch=1"]));
    assert!(e.contains("batch"), "{e}");
    let e = cellcast_err(screen_args("evaluate", &h5ad, &out, &["--group-size", "500"]));
    assert!(e.contains("no perturbation has 500 cells in a held-out fold (the largest has 8 cells"), "{e}");
    assert!(e.contains("no --group-size could be evaluated"), "{e}");
    // Filtering to one perturbation leaves no control.
    let e = cellcast_err(with(&["--control", "control", "--where", "perturbation=G0148"]));
    assert!(e.contains("among the cells with perturbation = G0148"), "{e}");
    assert!(!out.exists());
}

#[test]
fn evaluate_reports_every_ranker_on_a_generated_screen() {
    let dir = screen("targets-evaluate", &["--cells", "20"]);
    let h5ad = dir.join("screen.h5ad");
    let out = dir.join("eval.csv");
    let extra = [
        "--group-size",
        "5",
        "--folds",
        "4",
        "--components",
        "10",
        "--trees",
        "20",
        "--rounds",
        "10",
        "--direction",
        "down",
    ];
    let args = screen_args("evaluate", &h5ad, &out, &extra);
    let o = cellcast(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = read_csv_text(&out);
    let rankers: Vec<&str> = rows.iter().map(|r| r["ranker"].as_str()).collect();
    assert_eq!(
        rankers,
        [
            "pca10_knn15",
            "pca10_forest20",
            "pca10_boosting10",
            "pca10_centroid",
            "signature",
            "consensus",
            "de_wilcoxon_down",
            "de_wilcoxon_down_specific"
        ]
    );
    let get = |r: &std::collections::BTreeMap<String, String>, k: &str| r[k].parse::<f64>().unwrap();
    for r in &rows {
        let mrr = get(r, "mrr");
        assert!((0.0..=1.0).contains(&mrr) && get(r, "hit@1") <= get(r, "hit@5"), "{r:?}");
    }
    // 25 perturbations × 20 cells in 4 folds → 5 cells per fold: one group each per fold.
    assert_eq!(get(&rows[0], "groups"), 100.0);
    // DE skips the 2 unmeasured singles and the doubles that contain one (5 × 4 folds... at
    // least the 2 × 4 singles' groups).
    assert!(get(&rows[6], "skipped") >= 8.0, "{:?}", rows[6]);
    assert_eq!(get(&rows[6], "candidates"), 300.0);
    // With 5 held-out cells, specific DE finds most knocked-down targets.
    assert!(get(&rows[7], "mrr") > 0.8, "{:?}", rows[7]);
}

#[test]
fn real_norman19_targets_when_present() {
    let Some(shared) = common::shared() else {
        eprintln!("SKIPPED real_norman19_targets_when_present: ../shared does not exist");
        return;
    };
    let h5ad = shared.join("data/genetic_perturbation/perturbench_devel_norman19_mcfaline23_n5961x500.h5ad");
    let dir = temp_dir("targets-norman");
    let ranks = dir.join("ranks.csv");
    let base = [
        "--h5ad",
        h5ad.to_str().unwrap(),
        "--group-column",
        "condition",
        "--control",
        "control",
        "--where",
        "dataset=norman19",
    ];
    let mut args = vec!["targets", "rank"];
    args.extend_from_slice(&base);
    args.extend_from_slice(&["--direction", "up", "--out", ranks.to_str().unwrap()]);
    let o = cellcast(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    // 31 of the 32 target genes are not among the 500 HVGs; only TMSB4X is.
    assert!(stderr.contains("32 of 33 groups name genes that are not measured"), "{stderr}");
    let csv = read_csv(&ranks);
    assert_eq!((csv.ids.len(), csv.columns.len()), (33, 500));
    let row = &csv.rows["TMSB4X"];
    let tmsb4x = csv.columns.iter().position(|g| g == "TMSB4X").unwrap();
    assert!(row.iter().all(|&v| v <= row[tmsb4x]), "CRISPRa of TMSB4X raises TMSB4X most");

    let eval = dir.join("eval.csv");
    let mut args = vec!["targets", "evaluate"];
    args.extend_from_slice(&base);
    args.extend_from_slice(&[
        "--group-size",
        "10",
        "--direction",
        "up",
        "--trees",
        "20",
        "--rounds",
        "5",
        "--out",
        eval.to_str().unwrap(),
    ]);
    let o = cellcast(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = read_csv_text(&eval);
    let mrr = |name: &str| rows.iter().find(|r| r["ranker"] == name).unwrap()["mrr"].parse::<f64>().unwrap();
    // Measured (5 folds, seed 0, groups of 10 cells): pca_knn 0.605, pca_centroid 0.747.
    let (knn, centroid) = (mrr("pca50_knn15"), mrr("pca50_centroid"));
    assert!((knn - 0.605).abs() < 0.01 && (centroid - 0.747).abs() < 0.01, "knn {knn}, centroid {centroid}");
    assert!(centroid > knn + 0.1);
    // … and the interval of the difference, over perturbations, lies above 0 (measured
    // +0.148 [+0.067, +0.232]); DE's candidates are other genes, so it has no comparison.
    let field = |name: &str, k: &str| rows.iter().find(|r| r["ranker"] == name).unwrap()[k].clone();
    let low: f64 = field("pca50_centroid", "ci_low").parse().unwrap();
    assert!(low > 0.0 && (field("pca50_centroid", "mrr_vs_pca_knn").parse::<f64>().unwrap() - 0.148).abs() < 0.01);
    assert_eq!(field("de_wilcoxon_up_specific", "ci_low"), "");
}

#[test]
fn real_kang2018_interferon_response_when_present() {
    let Some(shared) = common::shared() else {
        eprintln!("SKIPPED real_kang2018_interferon_response_when_present: ../shared does not exist");
        return;
    };
    // Not a genetic screen: IFN-β stimulation of PBMCs. Ranking genes upwards for the
    // stimulated cells against the controls must put interferon-stimulated genes on top.
    let h5ad = shared.join("data/chemical_singlecell/scgen_kang2018_pbmc_ifnb_valid_n1975x6998.h5ad");
    let dir = temp_dir("targets-kang");
    let ranks = dir.join("ranks.csv");
    let o = cellcast([
        "targets",
        "rank",
        "--h5ad",
        h5ad.to_str().unwrap(),
        "--group-column",
        "condition",
        "--control",
        "control",
        "--direction",
        "up",
        "--out",
        ranks.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("1975 cells × 6998 genes read"), "{stderr}");
    let csv = read_csv(&ranks);
    let row = &csv.rows["stimulated"];
    let mut order: Vec<usize> = (0..row.len()).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
    let top: Vec<&str> = order[..5].iter().map(|&j| csv.columns[j].as_str()).collect();
    // Measured: ISG15, IFIT3, IFI6, IFIT1, ISG20.
    let isgs = ["ISG15", "IFIT3", "IFI6", "IFIT1", "ISG20", "IFIT2", "RSAD2", "MX1", "IFITM3", "OAS1"];
    assert!(top.iter().all(|g| isgs.contains(g)), "{top:?}");
}

#[test]
fn genes_can_be_named_by_a_var_column() {
    use cellcast_data::h5ad::{write_h5ad, CategoricalColumn, NewAnnData};
    use cellcast_models::screen_synth::{synth_screen, ScreenParams};
    // var_names are Ensembl-like ids; the symbols the labels use are in var column gene_name.
    let s = synth_screen(&ScreenParams { cells_per_group: 8, ..ScreenParams::default() });
    let ids: Vec<String> = (0..s.genes.len()).map(|j| format!("ENSG{j:011}")).collect();
    let obs: Vec<String> = (0..s.labels.len()).map(|i| format!("c{i}")).collect();
    let perturbation = CategoricalColumn {
        name: "perturbation".into(),
        categories: s.groups.clone(),
        codes: s.labels.iter().map(|l| s.groups.iter().position(|g| g == l).map(|k| k as u32)).collect(),
    };
    let symbols = CategoricalColumn {
        name: "gene_name".into(),
        categories: s.genes.clone(),
        codes: (0..s.genes.len() as u32).map(Some).collect(),
    };
    let dir = temp_dir("targets-gene-column");
    let h5ad = dir.join("screen.h5ad");
    let data = NewAnnData {
        x: &s.counts,
        obs_names: &obs,
        var_names: &ids,
        obs_columns: &[perturbation],
        var_columns: &[symbols],
    };
    write_h5ad(&h5ad, &data).unwrap();
    let out = dir.join("ranks.csv");
    let stderr = rank(&dir, &out, &["--direction", "down"]);
    assert!(stderr.contains("pass --gene-column gene_name"), "{stderr}");
    assert_eq!(read_csv(&out).columns[0], "ENSG00000000000");
    let stderr = rank(&dir, &out, &["--direction", "down", "--gene-column", "gene_name"]);
    assert!(!stderr.contains("hint"), "{stderr}");
    let csv = read_csv(&out);
    assert_eq!(csv.columns[0], "G0000");
    // The same ranking as with symbol var_names (MRR 0.900 on this screen).
    let truth = dir.join("targets.csv");
    let targets: Vec<String> = s.groups[1..].iter().map(|g| format!("{g},{}", g.replace('+', ";"))).collect();
    std::fs::write(&truth, format!("id,targets\n{}\n", targets.join("\n"))).unwrap();
    assert!((mrr(&truth, &out) - 0.9).abs() < 1e-9);
}

#[test]
fn knockout_screens_are_generated_and_refused_upwards() {
    let dir = screen("targets-knockout", &["--knockout", "--cells", "30", "--seed", "1"]);
    let csv = read_csv_text(&dir.join("targets.csv"));
    assert_eq!(csv.len(), 25);
    let dir2 = temp_dir("targets-knockout-up");
    let e =
        cellcast_err(["synth", "--kind", "screen", "--knockout", "--direction", "up", "--out", dir2.to_str().unwrap()]);
    assert!(e.contains("--knockout: knockouts lower their targets"), "{e}");
    let e = cellcast_err(["synth", "--kind", "task", "--knockout", "--out", dir2.to_str().unwrap()]);
    assert!(e.contains("--knockout applies to --kind screen only"), "{e}");
}
