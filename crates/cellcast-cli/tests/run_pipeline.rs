//! `cellcast run` end to end: the submission contract, the out-of-fold scores recomputed
//! independently from the written folds, and byte-identical outputs for the same seed.

mod common;

use std::path::{Path, PathBuf};

use common::{cellcast_ok, golden, read_csv_text, shared, temp_dir};

/// A small task from the public molecules: 3 targets that depend on the molecule's size.
fn tiny_task(dir: &Path) -> PathBuf {
    let task = dir.join("task");
    std::fs::create_dir_all(&task).unwrap();
    let mols = read_csv_text(&golden().join("chem/public/molecules.csv"));
    let mols: Vec<_> = mols.iter().filter(|m| m["id"].starts_with("d_")).take(48).collect();
    let mut train = String::from("compound,smiles,t1,t2,t3\n");
    let mut test = String::from("id,smiles\n");
    let mut sample = String::from("id,t1,t2,t3\n");
    for (i, m) in mols.iter().enumerate() {
        let size = m["smiles"].len() as f64;
        if i < 36 {
            train.push_str(&format!(
                "{},\"{}\",{},{},{}\n",
                m["id"],
                m["smiles"],
                size / 10.0,
                (i % 3) as f64,
                -size / 20.0
            ));
        } else {
            test.push_str(&format!("q{i},\"{}\"\n", m["smiles"]));
            sample.push_str(&format!("q{i},0,0,0\n"));
        }
    }
    std::fs::write(task.join("train.csv"), train).unwrap();
    std::fs::write(task.join("test_features.csv"), test).unwrap();
    std::fs::write(task.join("sample_submission.csv"), sample).unwrap();
    task
}

fn run(task: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["run", task.to_str().unwrap(), "--out", out.to_str().unwrap(), "--bootstrap", "200"];
    args.extend_from_slice(extra);
    cellcast_ok(args);
}

fn assert_valid_submission(task: &Path, out: &Path) {
    let sample = std::fs::read_to_string(task.join("sample_submission.csv")).unwrap();
    let sub = std::fs::read_to_string(out.join("submission.csv")).unwrap();
    assert_eq!(sample.lines().next(), sub.lines().next(), "same columns in the same order");
    let ids = |t: &str| t.lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(ids(&sample), ids(&sub), "same ids in the same order");
    for line in sub.lines().skip(1) {
        assert!(line.split(',').skip(1).all(|v| v.parse::<f64>().is_ok_and(f64::is_finite)), "finite: {line}");
    }
}

#[test]
fn same_seed_same_outputs_and_a_valid_submission() {
    let dir = temp_dir("run-tiny");
    let task = tiny_task(&dir);
    let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
    run(&task, &a, &["--split", "random", "--folds", "3", "--seed", "7"]);
    run(&task, &b, &["--split", "random", "--folds", "3", "--seed", "7"]);
    run(&task, &c, &["--split", "random", "--folds", "3", "--seed", "8"]);
    for file in ["submission.csv", "leaderboard.csv", "folds.csv", "report.md", "predictions.parquet"] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file} differs for one seed"
        );
    }
    assert_ne!(std::fs::read(a.join("folds.csv")).unwrap(), std::fs::read(c.join("folds.csv")).unwrap());
    assert_valid_submission(&task, &a);
}

#[test]
fn malformed_tasks_are_refused_clearly() {
    let dir = temp_dir("run-bad");
    let task = tiny_task(&dir);
    std::fs::write(task.join("sample_submission.csv"), "id,t1,t2,t3\nnot_a_test_id,0,0,0\n").unwrap();
    let e = common::cellcast_err(["run", task.to_str().unwrap(), "--out", dir.join("o").to_str().unwrap()]);
    assert!(
        e.contains("ids do not match sample_submission.csv") && e.contains("'not_a_test_id'") && e.contains("'q36'"),
        "{e}"
    );
    let ids: String = (36..48).map(|i| format!("q{i},0,0\n")).collect();
    std::fs::write(task.join("sample_submission.csv"), format!("id,t1,t9\n{ids}")).unwrap();
    let e = common::cellcast_err(["run", task.to_str().unwrap(), "--out", dir.join("o").to_str().unwrap()]);
    assert!(e.contains("'t9'"), "{e}");
}

#[test]
fn l1000_scaffold_cv_scores_recompute_from_the_written_folds() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED l1000_scaffold_cv_scores_recompute_from_the_written_folds: ../shared is absent");
        return;
    };
    let task = shared.join("tasks/l1000-drugbank");
    let out = temp_dir("run-l1000").join("out");
    run(&task, &out, &[]);
    assert_valid_submission(&task, &out);

    // Recompute the mean baseline's out-of-fold MSE from train.csv and folds.csv.
    let train = read_csv_text(&task.join("train.csv"));
    let genes: Vec<&String> = train[0].keys().filter(|k| k.starts_with("geneID-")).collect();
    let fold: std::collections::HashMap<String, String> =
        read_csv_text(&out.join("folds.csv")).into_iter().map(|r| (r["id"].clone(), r["fold"].clone())).collect();
    assert_eq!(fold.len(), 936);
    let value = |r: &std::collections::BTreeMap<String, String>, g: &String| r[g.as_str()].parse::<f64>().unwrap();
    let mut per_gene = vec![0.0; genes.len()];
    for f in 0..5 {
        let (inside, outside): (Vec<_>, Vec<_>) = train.iter().partition(|r| fold[&r["drugbank_id"]] == f.to_string());
        for (j, g) in genes.iter().enumerate() {
            let mean = outside.iter().map(|r| value(r, g)).sum::<f64>() / outside.len() as f64;
            per_gene[j] += inside.iter().map(|r| (value(r, g) - mean).powi(2)).sum::<f64>();
        }
    }
    let want = per_gene.iter().sum::<f64>() / (936.0 * genes.len() as f64);
    let board = read_csv_text(&out.join("leaderboard.csv"));
    let row = |model: &str| {
        board.iter().find(|r| r["model"] == model && r["metric"] == "polaris/mean_squared_error").unwrap()
    };
    let got: f64 = row("mean")["score"].parse().unwrap();
    assert!((got - want).abs() < 1e-9 * want, "mean baseline OOF MSE {got} vs recomputed {want}");
    // Scaffold folds keep whole scaffolds together and the selected model beats the mean.
    let selected = board.iter().find(|r| r["selected"] == "1" && r["metric"] == "polaris/mean_squared_error").unwrap();
    assert!(selected["score"].parse::<f64>().unwrap() <= got);
}

#[test]
fn demo_reproduces_the_random_versus_scaffold_contrast() {
    let out = temp_dir("demo").join("out");
    cellcast_ok(["demo", "--out", out.to_str().unwrap()]);
    let rows = read_csv_text(&out.join("leaderboard.csv"));
    assert_eq!(
        rows[0].keys().cloned().collect::<std::collections::BTreeSet<_>>(),
        ["metric", "model", "regime", "score"].iter().map(|s| s.to_string()).collect()
    );
    let mse = |regime: &str, model: &str| -> f64 {
        rows.iter()
            .find(|r| r["regime"] == regime && r["model"] == model && r["metric"] == "polaris/mean_squared_error")
            .unwrap()["score"]
            .parse()
            .unwrap()
    };
    // Retrieval far better than the mean under the random split, worse under the scaffold split.
    assert!(mse("random", "knn_k1_uniform") < 0.5 * mse("random", "mean"));
    assert!(mse("scaffold", "knn_k1_uniform") > mse("scaffold", "mean"));
}

#[test]
fn a_synthetic_task_runs_and_its_submission_scores() {
    let dir = temp_dir("synth");
    let task = dir.join("task");
    cellcast_ok(["synth", "--out", task.to_str().unwrap(), "--compounds", "240", "--targets", "5"]);
    let out = dir.join("out");
    run(&task, &out, &["--folds", "3"]);
    assert_valid_submission(&task, &out);
    // The held-out families are new scaffolds: score the submission with the official metric.
    let json = common::score_json(
        "polaris/mean_squared_error",
        &task.join("test_labels.csv"),
        &out.join("submission.csv"),
        &[],
    );
    let value: f64 = serde_json::from_str::<serde_json::Value>(&json).unwrap()["value"].as_f64().unwrap();
    assert!(value.is_finite() && value > 0.0);
}
