//! The neural models in `cellcast run`: same folds and leaderboard as the rest of the panel,
//! out-of-fold σ with a calibration report, a `std` column in predictions.parquet, a user
//! embedding matched by id, and byte-identical outputs for the same seed.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cellcast_data::{NumericColumns, WideSpec, WideTable};
use common::{assert_valid_submission, cellcast_err, cellcast_ok, read_csv_text, shared, temp_dir};

/// The synthetic task (120 compounds, 5 targets) and an embedding of every compound: a few
/// counts read off its SMILES, all but the ids in `drop`.
fn synthetic_task_with_embedding(dir: &Path, drop: &[&str]) -> (PathBuf, PathBuf) {
    let task = dir.join("task");
    if !task.exists() {
        cellcast_ok(["synth", "--out", task.to_str().unwrap(), "--compounds", "120", "--targets", "5"]);
    }
    let mut rows = String::from("id,length,aromatic_c,nitrogen,oxygen\n");
    for (file, id) in [("train.csv", "compound_id"), ("test_features.csv", "id")] {
        for r in read_csv_text(&task.join(file)) {
            if drop.contains(&r[id].as_str()) {
                continue;
            }
            let s = &r["smiles"];
            let count = |c: char| s.chars().filter(|&x| x == c).count();
            rows.push_str(&format!("{},{},{},{},{}\n", r[id], s.len(), count('c'), count('N'), count('O')));
        }
    }
    let embedding = dir.join(format!("embedding{}.csv", drop.len()));
    std::fs::write(&embedding, rows).unwrap();
    (task, embedding)
}

/// predictions.parquet as (numeric column names, values).
fn predictions(out: &Path) -> WideTable {
    let spec = WideSpec {
        id_column: "id",
        text_columns: &["compound", "target"],
        optional_text: &[],
        numeric: NumericColumns::Rest,
    };
    WideTable::read_long(&out.join("predictions.parquet"), &spec).unwrap()
}

fn selected(out: &Path) -> String {
    read_csv_text(&out.join("leaderboard.csv")).into_iter().find(|r| r["selected"] == "1").unwrap()["model"].clone()
}

/// The std column is there exactly when the selected model gives a σ, and then positive.
fn assert_std_column(out: &Path, neural_selected: bool) {
    let p = predictions(out);
    if neural_selected {
        assert_eq!(p.columns, ["prediction", "std"]);
        assert!(p.values.column(1).iter().all(|s| s.is_finite() && *s > 0.0));
    } else {
        assert_eq!(p.columns, ["prediction"]);
    }
}

#[test]
fn neural_models_with_an_embedding_are_deterministic_and_calibrated() {
    let dir = temp_dir("neural-synth");
    let (task, embedding) = synthetic_task_with_embedding(&dir, &[]);
    let run = |out: &Path| {
        cellcast_ok([
            "run",
            task.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--split",
            "random",
            "--folds",
            "3",
            "--seed",
            "3",
            "--bootstrap",
            "100",
            "--models",
            "fusion,mlp_emb",
            "--neural-members",
            "2",
            "--embedding",
            embedding.to_str().unwrap(),
        ]);
    };
    let (a, b) = (dir.join("a"), dir.join("b"));
    run(&a);
    run(&b);
    for file in [
        "submission.csv",
        "leaderboard.csv",
        "report.md",
        "predictions.parquet",
        "calibration_fusion.svg",
        "calibration_mlp_emb.svg",
    ] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file} differs for one seed"
        );
    }
    assert_valid_submission(&task, &a);
    let board = read_csv_text(&a.join("leaderboard.csv"));
    let models: BTreeSet<&str> = board.iter().map(|r| r["model"].as_str()).collect();
    assert_eq!(models, ["fusion", "mean", "mlp_emb"].into_iter().collect());
    // Close analogues are in training under a random split: the fusion decoder beats the mean.
    let mse = |m: &str| -> f64 {
        board.iter().find(|r| r["model"] == m && r["metric"] == "polaris/mean_squared_error").unwrap()["score"]
            .parse()
            .unwrap()
    };
    assert!(mse("fusion") < 0.8 * mse("mean"), "fusion {} vs mean {}", mse("fusion"), mse("mean"));
    let report = std::fs::read_to_string(a.join("report.md")).unwrap();
    for model in ["fusion", "mlp_emb"] {
        assert!(report.contains(&format!("## Uncertainty calibration of `{model}`")), "{report}");
        assert!(report.contains(&format!("![reliability of σ for {model}](calibration_{model}.svg)")));
    }
    assert!(report.contains("Pearson(σ, |error|)") && report.contains("coverage of ±1σ"));
    assert!(!report.contains("## Uncertainty calibration of `mean`"));
    let sel = selected(&a);
    assert_std_column(&a, sel != "mean");
}

#[test]
fn embedding_ids_must_cover_every_compound() {
    let dir = temp_dir("neural-embedding-missing");
    let (task, embedding) = synthetic_task_with_embedding(&dir, &["syn_0000", "syn_0007"]);
    let e = cellcast_err([
        "run",
        task.to_str().unwrap(),
        "--out",
        dir.join("o").to_str().unwrap(),
        "--models",
        "mlp_emb",
        "--embedding",
        embedding.to_str().unwrap(),
    ]);
    assert!(e.contains("has no row for 2 of the task's 120 compounds"), "{e}");
    assert!(e.contains("'syn_0000'") && e.contains("'syn_0007'"), "{e}");
    // Without an embedding the models that read one are not available.
    let e =
        cellcast_err(["run", task.to_str().unwrap(), "--out", dir.join("o").to_str().unwrap(), "--models", "mlp_emb"]);
    assert!(e.contains("no model named 'mlp_emb'") && e.contains("fusion_pca16"), "{e}");
    let e = cellcast_err([
        "run",
        task.to_str().unwrap(),
        "--out",
        dir.join("o").to_str().unwrap(),
        "--models",
        "fusion",
        "--neural-members",
        "0",
    ]);
    assert!(e.contains("'--neural-members") && e.contains("give a whole number from 1 to 100"), "{e}");
}

#[test]
fn l1000_fusion_cross_validates_with_a_calibration_report() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED l1000_fusion_cross_validates_with_a_calibration_report: ../shared is absent");
        return;
    };
    let task = shared.join("tasks/l1000-drugbank");
    let out = temp_dir("neural-l1000").join("out");
    cellcast_ok([
        "run",
        task.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--models",
        "fusion",
        "--bootstrap",
        "200",
    ]);
    assert_valid_submission(&task, &out);
    let board = read_csv_text(&out.join("leaderboard.csv"));
    let row = |m: &str| board.iter().find(|r| r["model"] == m && r["metric"] == "polaris/mean_squared_error").unwrap();
    let (fusion, mean): (f64, f64) = (row("fusion")["score"].parse().unwrap(), row("mean")["score"].parse().unwrap());
    // Scaffold CV on 936 compounds: the fusion decoder beats the mean (3.987), and its paired
    // bootstrap interval against the mean excludes 0.
    assert!(fusion < mean - 0.03, "fusion {fusion} vs mean {mean}");
    assert!(row("fusion")["ci_high_vs_mean"].parse::<f64>().unwrap() < 0.0);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Uncertainty calibration of `fusion`"), "{report}");
    assert!(report.contains("fit on the other folds, tested on each fold") && report.contains("| held-out fold |"));
    assert!(out.join("calibration_fusion.svg").is_file());
    assert_std_column(&out, selected(&out) == "fusion");
}
