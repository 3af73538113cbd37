//! A DRUG-seq counts task (VCPI layout) end to end: generated replicate counts with planted
//! gene programs → `cellcast run` scores the panel with `vcpi/wmse` on replicate weights and the
//! inverse-variance proxy beside it, recovers the programs, and writes a submission that
//! `cellcast score` reads with the held-out weights.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{assert_valid_submission, cellcast, cellcast_err, read_csv_text, score_json, temp_dir};
use serde_json::Value;

fn synth(name: &str, seed: &str) -> PathBuf {
    let dir = temp_dir(name);
    let task = dir.join("task");
    let o = cellcast(["synth", "--kind", "drugseq", "--out", task.to_str().unwrap(), "--seed", seed]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    task
}

fn run(task: &Path, out: &Path) -> String {
    let o = cellcast(["run", task.to_str().unwrap(), "--out", out.to_str().unwrap(), "--bootstrap", "200"]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "run failed: {stderr}");
    stderr
}

/// (model, metric) → rank.
fn ranks(out: &Path) -> BTreeMap<(String, String), usize> {
    read_csv_text(&out.join("leaderboard.csv"))
        .into_iter()
        .map(|r| ((r["model"].clone(), r["metric"].clone()), r["rank"].parse().unwrap()))
        .collect()
}

#[test]
fn counts_become_a_weighted_task_whose_rankings_invert_and_whose_programs_are_recovered() {
    let task = synth("drugseq-2", "2");
    let out = task.parent().unwrap().join("out");
    let stderr = run(&task, &out);
    assert!(
        stderr.contains("196 training compounds, 44 test compounds, 300 targets; official metric vcpi/wmse"),
        "{stderr}"
    );
    assert!(
        stderr.contains("train_counts.csv: 300 genes read, 300 scored; 588 replicate samples of 196 compounds"),
        "{stderr}"
    );
    assert_valid_submission(&task, &out);

    // The proxy crowns smooth predictions, the DEG-weighted metric does not (measured, seed 2):
    // the mean is last under vcpi/wmse and 3rd under the proxy; 50-neighbour kNN 7th and 1st.
    let r = ranks(&out);
    let rank = |m: &str, k: &str| r[&(m.to_string(), k.to_string())];
    assert_eq!(rank("mean", "vcpi/wmse"), 10);
    assert!(rank("mean", "proxy/inverse_variance_mse") <= 4, "{r:?}");
    assert!(
        rank("knn_k50_tanimoto", "vcpi/wmse") >= rank("knn_k50_tanimoto", "proxy/inverse_variance_mse") + 4,
        "{r:?}"
    );

    // Every planted program is found by its own NMF program: ≥ 10 of the top 15 genes.
    let mut planted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in read_csv_text(&task.join("planted_programs.csv")) {
        planted.entry(row["program"].clone()).or_default().insert(row["gene"].clone());
    }
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in read_csv_text(&out.join("programs.csv")) {
        if row["rank"].parse::<usize>().unwrap() <= 15 {
            found.entry(row["program"].clone()).or_default().insert(row["target"].clone());
        }
    }
    let mut matched = BTreeSet::new();
    for genes in found.values() {
        let (best, overlap) =
            planted.iter().map(|(k, p)| (k.clone(), p.intersection(genes).count())).max_by_key(|x| x.1).unwrap();
        assert!(overlap >= 10, "{best}: {overlap} of 15");
        matched.insert(best);
    }
    assert_eq!(matched.len(), planted.len(), "one NMF program per planted program");

    // The submission scores against the held-out truth with the held-out weights.
    let v: Value = serde_json::from_str(&score_json(
        "vcpi/wmse",
        &task.join("test_labels.csv"),
        &out.join("submission.csv"),
        &["--weights", task.join("test_weights.csv").to_str().unwrap()],
    ))
    .unwrap();
    let test_wmse = v["value"].as_f64().unwrap();
    assert!(test_wmse.is_finite() && test_wmse < 0.5, "{v}");
}

#[test]
fn broken_counts_tasks_are_clear_errors() {
    let task = synth("drugseq-broken", "0");
    let out = task.parent().unwrap().join("out");
    // A sample table that names no sample of the counts.
    let samples = std::fs::read_to_string(task.join("train_samples.csv")).unwrap();
    std::fs::write(task.join("train_samples.csv"), samples.replace("cmp_", "x_")).unwrap();
    let e = cellcast_err(["run", task.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(e.contains("train_counts.csv") && e.contains("do the sample ids match"), "{e}");
    std::fs::write(task.join("train_samples.csv"), &samples).unwrap();
    // A negative count names its gene and sample.
    let counts = std::fs::read_to_string(task.join("train_counts.csv")).unwrap();
    let mut lines: Vec<String> = counts.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[3].split(',').map(str::to_string).collect();
    fields[2] = "-4".into();
    lines[3] = fields.join(",");
    std::fs::write(task.join("train_counts.csv"), lines.join("\n")).unwrap();
    let e = cellcast_err(["run", task.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(e.contains("row 3 (id 'ENSG00000000002'), column 'cmp_0000_r2'") && e.contains("negative"), "{e}");
}

#[test]
fn matrix_market_counts_give_the_same_leaderboard() {
    let task = synth("drugseq-mtx", "1");
    let csv_out = task.parent().unwrap().join("out_csv");
    run(&task, &csv_out);
    // The same counts as Matrix Market (genes × samples) with 10x-style id files.
    let rows = read_csv_text(&task.join("train_counts.csv"));
    let header = std::fs::read_to_string(task.join("train_counts.csv")).unwrap();
    let samples: Vec<&str> = header.lines().next().unwrap().split(',').skip(1).collect();
    let mut entries = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for (j, s) in samples.iter().enumerate() {
            let v: u64 = row[*s].parse().unwrap();
            if v > 0 {
                entries.push(format!("{} {} {v}", i + 1, j + 1));
            }
        }
    }
    let mtx = format!(
        "%%MatrixMarket matrix coordinate integer general\n{} {} {}\n{}\n",
        rows.len(),
        samples.len(),
        entries.len(),
        entries.join("\n")
    );
    std::fs::write(task.join("train_counts.mtx"), mtx).unwrap();
    let genes: Vec<&str> = rows.iter().map(|r| r["gene"].as_str()).collect();
    std::fs::write(task.join("train_counts_genes.tsv"), genes.join("\n")).unwrap();
    std::fs::write(task.join("train_counts_samples.tsv"), samples.join("\n")).unwrap();
    std::fs::remove_file(task.join("train_counts.csv")).unwrap();
    let mtx_out = task.parent().unwrap().join("out_mtx");
    run(&task, &mtx_out);
    let scores = |out: &Path| -> Vec<(String, String, f64)> {
        read_csv_text(&out.join("leaderboard.csv"))
            .into_iter()
            .map(|r| (r["model"].clone(), r["metric"].clone(), r["score"].parse().unwrap()))
            .collect()
    };
    let (a, b) = (scores(&csv_out), scores(&mtx_out));
    assert_eq!(a.len(), b.len());
    for ((m, k, x), (_, _, y)) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-9 * x.abs().max(1e-12), "{m} {k}: {x} vs {y}");
    }
}

#[test]
fn the_real_vcpi_panel_and_test_compounds_when_present() {
    let Some(shared) = common::shared() else {
        eprintln!("SKIPPED the_real_vcpi_panel_and_test_compounds_when_present: ../shared does not exist");
        return;
    };
    // The contest's 12,995 scored genes and its first 60 test compounds (real SMILES); 30
    // training compounds (L1000 SMILES) × 2 replicates of deterministic counts over the panel
    // and 100 unscored genes.
    let panel: Vec<String> =
        read_csv_text(&shared.join("data/vcpi/gene_filter.csv")).into_iter().map(|r| r["gene_id"].clone()).collect();
    assert_eq!(panel.len(), 12_995);
    let test: Vec<_> = read_csv_text(&shared.join("data/vcpi/test_compounds.csv")).into_iter().take(60).collect();
    let train: Vec<_> = read_csv_text(&shared.join("tasks/l1000-drugbank/train.csv")).into_iter().take(30).collect();
    let dir = temp_dir("drugseq-real-panel").join("task");
    std::fs::create_dir_all(&dir).unwrap();
    let mut features = String::from("id,smiles\n");
    let mut sample = format!("id,{}\n", panel.join(","));
    for t in &test {
        features.push_str(&format!("{},\"{}\"\n", t["compound"], t["smiles"]));
        sample.push_str(&t["compound"]);
        sample.push_str(&",0".repeat(panel.len()));
        sample.push('\n');
    }
    std::fs::write(dir.join("test_features.csv"), features).unwrap();
    std::fs::write(dir.join("sample_submission.csv"), sample).unwrap();
    let mut samples = String::from("sample_id,compound_id,smiles\n");
    let mut ids = Vec::new();
    for t in &train {
        for r in 0..2 {
            let id = format!("{}_r{r}", t["drugbank_id"]);
            samples.push_str(&format!("{id},{},\"{}\"\n", t["drugbank_id"], t["SMILES"]));
            ids.push(id);
        }
    }
    std::fs::write(dir.join("train_samples.csv"), samples).unwrap();
    let genes: Vec<String> = panel.iter().cloned().chain((0..100).map(|k| format!("UNSCORED{k}"))).collect();
    let mut counts = format!("gene,{}\n", ids.join(","));
    for (g, gene) in genes.iter().enumerate() {
        counts.push_str(gene);
        for s in 0..ids.len() {
            counts.push_str(&format!(",{}", (g * 7 + s * 13 + (g * s) % 11) % 40));
        }
        counts.push('\n');
    }
    std::fs::write(dir.join("train_counts.csv"), counts).unwrap();
    let out = dir.parent().unwrap().join("out");
    let o = cellcast([
        "run",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--models",
        "knn_tuned,ridge_morgan_counts",
        "--folds",
        "3",
        "--bootstrap",
        "50",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("30 training compounds, 60 test compounds, 12995 targets; official metric vcpi/wmse"),
        "{stderr}"
    );
    assert!(stderr.contains("13095 genes read, 12995 scored; 60 replicate samples of 30 compounds"), "{stderr}");
    assert_valid_submission(&dir, &out);
}
