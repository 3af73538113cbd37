//! `cellcast run` end to end: the submission contract, the out-of-fold scores recomputed
//! independently from the written folds, and byte-identical outputs for the same seed.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_valid_submission, cellcast_ok, golden, read_csv_text, shared, temp_dir};

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

    // A gene annotation must have a symbol column and name the task's targets.
    let task = tiny_task(&temp_dir("run-bad-annotation"));
    let annotation = dir.join("genes.csv");
    for (text, want) in
        [("gene,name\nt1,A\n", "no symbol column"), ("gene,symbol\nx1,A\n", "names any of the task's targets")]
    {
        std::fs::write(&annotation, text).unwrap();
        let e = common::cellcast_err([
            "run",
            task.to_str().unwrap(),
            "--out",
            dir.join("o2").to_str().unwrap(),
            "--gene-annotation",
            annotation.to_str().unwrap(),
        ]);
        assert!(e.contains(want) && e.contains("genes.csv"), "{e}");
    }
}

#[test]
fn l1000_scaffold_cv_scores_recompute_from_the_written_folds() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED l1000_scaffold_cv_scores_recompute_from_the_written_folds: ../shared is absent");
        return;
    };
    let task = shared.join("tasks/l1000-drugbank");
    let out = temp_dir("run-l1000").join("out");
    let annotation = shared.join("data/l1000/landmark_genes_978.csv");
    run(&task, &out, &["--gene-annotation", annotation.to_str().unwrap()]);
    assert_valid_submission(&task, &out);

    let got = assert_mean_oof_mse(&read_csv_text(&task.join("train.csv")), "drugbank_id", &out);
    let board = read_csv_text(&out.join("leaderboard.csv"));
    // Scaffold folds keep whole scaffolds together and the selected model beats the mean.
    let selected = board.iter().find(|r| r["selected"] == "1" && r["metric"] == "polaris/mean_squared_error").unwrap();
    assert!(selected["score"].parse::<f64>().unwrap() <= got);

    // Gene programs of the winner: every gene once per program, shares summing to one, symbols
    // joined from the annotation, and the sterol-biosynthesis program statins and friends drive.
    let programs = read_csv_text(&out.join("programs.csv"));
    let names: std::collections::BTreeSet<&str> = programs.iter().map(|r| r["program"].as_str()).collect();
    assert_eq!(programs.len(), names.len() * 978);
    let share_sum: f64 = names
        .iter()
        .map(|n| programs.iter().find(|r| r["program"] == *n).unwrap()["share"].parse::<f64>().unwrap())
        .sum();
    assert!((share_sum - 1.0).abs() < 1e-9, "shares sum to {share_sum}");
    assert!(programs.iter().any(|r| r["target"] == "geneID-332" && r["symbol"] == "BIRC5"));
    let sterol = names.iter().any(|n| {
        let top: Vec<&str> = programs
            .iter()
            .filter(|r| r["program"] == *n && r["rank"].parse::<usize>().unwrap() <= 10)
            .map(|r| r["symbol"].as_str())
            .collect();
        top.contains(&"HMGCR") && top.contains(&"HMGCS1") && top.contains(&"INSIG1")
    });
    assert!(sterol, "no program leads with HMGCR, HMGCS1 and INSIG1");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Gene programs of `") && report.contains("HMGCR (geneID-3156)"));
}

/// Recomputes the mean baseline's out-of-fold MSE from the training rows (`geneID-*` columns,
/// ids in `id_column`) and the written folds.csv, checks the leaderboard agrees, and returns it.
fn assert_mean_oof_mse(train: &[std::collections::BTreeMap<String, String>], id_column: &str, out: &Path) -> f64 {
    let genes: Vec<&String> = train[0].keys().filter(|k| k.starts_with("geneID-")).collect();
    let fold: std::collections::HashMap<String, String> =
        read_csv_text(&out.join("folds.csv")).into_iter().map(|r| (r["id"].clone(), r["fold"].clone())).collect();
    assert_eq!(fold.len(), train.len());
    let value = |r: &std::collections::BTreeMap<String, String>, g: &String| r[g.as_str()].parse::<f64>().unwrap();
    let mut per_gene = vec![0.0; genes.len()];
    for f in 0..5 {
        let (inside, outside): (Vec<_>, Vec<_>) = train.iter().partition(|r| fold[&r[id_column]] == f.to_string());
        for (j, g) in genes.iter().enumerate() {
            let mean = outside.iter().map(|r| value(r, g)).sum::<f64>() / outside.len() as f64;
            per_gene[j] += inside.iter().map(|r| (value(r, g) - mean).powi(2)).sum::<f64>();
        }
    }
    let want = per_gene.iter().sum::<f64>() / (train.len() as f64 * genes.len() as f64);
    let board = read_csv_text(&out.join("leaderboard.csv"));
    let row = board.iter().find(|r| r["model"] == "mean" && r["metric"] == "polaris/mean_squared_error").unwrap();
    let got: f64 = row["score"].parse().unwrap();
    assert!((got - want).abs() < 1e-9 * want, "mean baseline OOF MSE {got} vs recomputed {want}");
    got
}

#[test]
fn a_gct_training_matrix_with_a_molecule_table_runs() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED a_gct_training_matrix_with_a_molecule_table_runs: ../shared is absent");
        return;
    };
    // The real A375 plate (978 probes × 377 wells, genes named by probe id) as train.gct; SMILES
    // joined from a pert_id table; targets named geneID-<entrez> as in the Polaris tasks.
    let l1000 = shared.join("data/l1000");
    let derived = read_csv_text(&l1000.join("derived_a375_ljp005_level3_with_smiles.csv"));
    let task = temp_dir("run-gct").join("task");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::copy(l1000.join("cmapPy_test_l1000_n377x978.gct"), task.join("train.gct")).unwrap();
    let mut molecules: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for r in derived.iter().filter(|r| !r["smiles"].is_empty()) {
        molecules.insert(&r["pert_id"], &r["smiles"]);
    }
    let table: String = molecules.iter().map(|(k, v)| format!("{k},\"{v}\"\n")).collect();
    std::fs::write(task.join("molecules.csv"), format!("pert_id,smiles\n{table}")).unwrap();
    std::fs::write(task.join("task.toml"), "molecules = \"molecules.csv\"\n").unwrap();
    std::fs::write(task.join("test_features.csv"), "id,smiles\nq1,CC(=O)Oc1ccccc1C(=O)O\nq2,c1ccccc1O\n").unwrap();
    let genes: Vec<&String> = derived[0].keys().filter(|k| k.starts_with("geneID-")).collect();
    let header = genes.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(",");
    let zeros = vec!["0"; genes.len()].join(",");
    std::fs::write(task.join("sample_submission.csv"), format!("id,{header}\nq1,{zeros}\nq2,{zeros}\n")).unwrap();
    let out = task.parent().unwrap().join("out");
    run(&task, &out, &["--models", "knn_tuned"]);
    assert_valid_submission(&task, &out);
    // Wells are the training rows (ids = the GCT's column ids), genes matched through pr_gene_id:
    // the derived CSV holds the same values, so the mean baseline's OOF MSE recomputes from it.
    assert_mean_oof_mse(&derived, "inst_id", &out);
    let folds = read_csv_text(&out.join("folds.csv"));
    let vehicle = derived.iter().filter(|r| r["smiles"].is_empty()).count();
    let alone = folds.iter().filter(|r| r["group"] == format!("unparsed:{}", r["id"])).count();
    assert_eq!(alone, vehicle, "each well without a molecule is a scaffold group of its own");

    // Without the molecule table the error says what to add.
    std::fs::remove_file(task.join("task.toml")).unwrap();
    let o = out.with_file_name("out2");
    let e = common::cellcast_err(["run", task.to_str().unwrap(), "--out", o.to_str().unwrap()]);
    assert!(
        e.contains("train.gct") && e.contains("no column-metadata field holds SMILES") && e.contains("molecules = "),
        "{e}"
    );
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

/// A pair task (compound, gene, active) from the public molecules: 30 training compounds, each
/// measured on three of five genes (one pair twice), 6 test compounds on two genes, one of which
/// ("GNEW") no training compound was measured on.
fn pair_task(dir: &Path) -> PathBuf {
    let task = dir.join("pairs");
    std::fs::create_dir_all(&task).unwrap();
    let mols = read_csv_text(&golden().join("chem/public/molecules.csv"));
    let mols: Vec<_> = mols.iter().filter(|m| m["id"].starts_with("d_")).take(36).collect();
    let mut train = String::from("treatment,SMILES,gene,active\n");
    let mut test = String::from("id,treatment,SMILES,gene\n");
    let mut sample = String::from("id,active\n");
    for (i, m) in mols.iter().enumerate() {
        let name = format!("cpd{i}");
        if i < 30 {
            for g in 0..3 {
                let gene = (i + g) % 5;
                let active = u8::from((m["smiles"].len() + gene) % 3 == 0 || g == 0 && i % 4 == 0);
                train.push_str(&format!("{name},\"{}\",G{gene},{active}\n", m["smiles"]));
            }
            if i == 0 {
                train.push_str(&format!("{name},\"{}\",G0,1\n", m["smiles"]));
            }
        } else {
            for (k, gene) in ["G1", "GNEW"].iter().enumerate() {
                test.push_str(&format!("p{i}_{k},{name},\"{}\",{gene}\n", m["smiles"]));
                sample.push_str(&format!("p{i}_{k},0.5\n"));
            }
        }
    }
    std::fs::write(task.join("train.csv"), train).unwrap();
    std::fs::write(task.join("test_features.csv"), test).unwrap();
    std::fs::write(task.join("sample_submission.csv"), sample).unwrap();
    task
}

/// scikit-learn's average precision (ties share a threshold).
fn average_precision(labels: &[bool], scores: &[f64]) -> Option<f64> {
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut seen, mut ap, mut last_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut k = 0;
    while k < order.len() {
        let mut end = k;
        while end < order.len() && scores[order[end]] == scores[order[k]] {
            tp += usize::from(labels[order[end]]);
            seen += 1;
            end += 1;
        }
        let recall = tp as f64 / positives as f64;
        ap += (recall - last_recall) * tp as f64 / seen as f64;
        last_recall = recall;
        k = end;
    }
    Some(ap)
}

#[test]
fn pair_tasks_pivot_score_per_compound_and_write_one_score_per_pair() {
    let dir = temp_dir("run-pairs");
    let task = pair_task(&dir);
    let out = dir.join("out");
    run(&task, &out, &["--split", "random", "--folds", "3"]);
    assert_valid_submission(&task, &out);

    // Recompute the mean baseline (each gene's active rate among the other folds' compounds
    // measured on it; the repeated pair counts once, as its average) and its grouped AP.
    let train = read_csv_text(&task.join("train.csv"));
    let fold: std::collections::HashMap<String, String> =
        read_csv_text(&out.join("folds.csv")).into_iter().map(|r| (r["id"].clone(), r["fold"].clone())).collect();
    assert_eq!(fold.len(), 30);
    let mut label: std::collections::BTreeMap<(String, String), (f64, f64)> = Default::default();
    for r in &train {
        let e = label.entry((r["treatment"].clone(), r["gene"].clone())).or_default();
        e.0 += r["active"].parse::<f64>().unwrap();
        e.1 += 1.0;
    }
    let label: Vec<(String, String, f64)> = label.into_iter().map(|((c, g), (s, n))| (c, g, s / n)).collect();
    let mut per_compound = Vec::new();
    for c in fold.keys() {
        let mine: Vec<&(String, String, f64)> = label.iter().filter(|l| &l.0 == c).collect();
        let rate = |g: &str| {
            let others: Vec<f64> = label.iter().filter(|l| l.1 == g && fold[&l.0] != fold[c]).map(|l| l.2).collect();
            others.iter().sum::<f64>() / others.len() as f64
        };
        let labels: Vec<bool> = mine.iter().map(|l| l.2 == 1.0).collect();
        let scores: Vec<f64> = mine.iter().map(|l| rate(&l.1)).collect();
        per_compound.extend(average_precision(&labels, &scores));
    }
    let want = per_compound.iter().sum::<f64>() / per_compound.len() as f64;
    let board = read_csv_text(&out.join("leaderboard.csv"));
    let mean_ap: f64 = board.iter().find(|r| r["model"] == "mean" && r["metric"] == "polaris/pr_auc").unwrap()["score"]
        .parse()
        .unwrap();
    assert!((mean_ap - want).abs() < 1e-12, "mean baseline grouped AP {mean_ap} vs recomputed {want}");
    assert!(board.iter().any(|r| r["metric"] == "polaris/roc_auc"));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains(&format!("{} of 30 training compounds have a positive", per_compound.len())), "{report}");
    // A pair whose gene no training compound was measured on gets the mean label.
    let observed: Vec<f64> = label.iter().map(|l| l.2).collect();
    let fallback = observed.iter().sum::<f64>() / observed.len() as f64;
    let sub = read_csv_text(&out.join("submission.csv"));
    let unseen: Vec<f64> =
        sub.iter().filter(|r| r["id"].ends_with("_1")).map(|r| r["active"].parse().unwrap()).collect();
    assert_eq!(unseen.len(), 6);
    assert!(unseen.iter().all(|v| (v - fallback).abs() < 1e-12), "{unseen:?} vs {fallback}");

    // The report describes the models that ran, and the layout (treatment, gene, active) is
    // RxRx3-core's unless task.toml says otherwise.
    assert!(report.contains("- `label_prop_k10`:") && !report.contains("`control`"), "{report}");
    let differences = "## Differences from the upstream RxRx3-core benchmark";
    assert!(report.contains(differences));
    let config = dir.join("none.toml");
    std::fs::write(&config, "benchmark = \"none\"\n").unwrap();
    let plain = dir.join("plain");
    run(
        &task,
        &plain,
        &["--split", "random", "--folds", "3", "--models", "gene_prior_s1", "--task-config", config.to_str().unwrap()],
    );
    assert!(!std::fs::read_to_string(plain.join("report.md")).unwrap().contains(differences));
    std::fs::write(&config, "benchmark = \"rxrx4\"\n").unwrap();
    let e = common::cellcast_err([
        "run",
        task.to_str().unwrap(),
        "--out",
        plain.to_str().unwrap(),
        "--task-config",
        config.to_str().unwrap(),
    ]);
    assert!(e.contains("none.toml") && e.contains("benchmark = 'rxrx4' is not one of rxrx3-core, none"), "{e}");
}

#[test]
fn task_toml_models_and_control_profile() {
    let dir = temp_dir("run-toml");
    let task = tiny_task(&dir);
    std::fs::write(task.join("task.toml"), "control = \"zero\"\nsplit = \"random\"\nfolds = 3\n").unwrap();
    let out = dir.join("out");
    run(&task, &out, &["--models", "control,knn_k1_uniform"]);
    let board = read_csv_text(&out.join("leaderboard.csv"));
    let models: std::collections::BTreeSet<&str> = board.iter().map(|r| r["model"].as_str()).collect();
    assert_eq!(models, ["control", "knn_k1_uniform", "mean"].into_iter().collect());
    // The control baseline predicts 0 everywhere: its MSE is the mean square of the labels.
    let train = read_csv_text(&task.join("train.csv"));
    let mut per_target = [0.0; 3];
    for r in &train {
        for (j, t) in ["t1", "t2", "t3"].iter().enumerate() {
            per_target[j] += r[*t].parse::<f64>().unwrap().powi(2) / train.len() as f64;
        }
    }
    let control: f64 =
        board.iter().find(|r| r["model"] == "control" && r["metric"] == "polaris/mean_squared_error").unwrap()["score"]
            .parse()
            .unwrap();
    assert!((control - per_target.iter().sum::<f64>() / 3.0).abs() < 1e-12);
    assert_eq!(read_csv_text(&out.join("folds.csv")).iter().map(|r| r["fold"].clone()).max().unwrap(), "2");

    let o = dir.join("o2");
    let e = common::cellcast_err(["run", task.to_str().unwrap(), "--out", o.to_str().unwrap(), "--models", "ridge"]);
    assert!(e.contains("no model named 'ridge'") && e.contains("ridge_morgan_counts"), "{e}");
    std::fs::write(dir.join("bad.toml"), "contrl = \"zero\"\n").unwrap();
    let e = common::cellcast_err([
        "run",
        task.to_str().unwrap(),
        "--out",
        o.to_str().unwrap(),
        "--task-config",
        dir.join("bad.toml").to_str().unwrap(),
    ]);
    assert!(e.contains("bad.toml") && e.contains("not a valid task.toml") && e.contains("contrl"), "{e}");
}

#[test]
fn rxrx3_pairs_run_gives_a_valid_submission() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED rxrx3_pairs_run_gives_a_valid_submission: ../shared is absent");
        return;
    };
    let task = shared.join("tasks/rxrx3-compound-gene");
    let out = temp_dir("run-rxrx3").join("out");
    run(&task, &out, &["--models", "knn_tuned"]);
    assert_valid_submission(&task, &out);
    let board = read_csv_text(&out.join("leaderboard.csv"));
    let ap = |model: &str| -> f64 {
        board.iter().find(|r| r["model"] == model && r["metric"] == "polaris/pr_auc").unwrap()["score"].parse().unwrap()
    };
    // Gene prior under 5-fold scaffold CV on the 293 training compounds; kNN clearly above it.
    assert!((ap("mean") - 0.428637).abs() < 5e-7, "{}", ap("mean"));
    assert!(ap("knn_tuned") > ap("mean") + 0.05);
}

/// `cellcast split` of a synthetic task's train.csv into 3 random folds (seed 7).
fn random_split(train: &Path, out: &Path) {
    cellcast_ok([
        "split",
        "--input",
        train.to_str().unwrap(),
        "--smiles-column",
        "smiles",
        "--id-column",
        "compound_id",
        "--method",
        "random-kfold",
        "--folds",
        "3",
        "--seed",
        "7",
        "--out",
        out.to_str().unwrap(),
    ]);
}

#[test]
fn run_reads_the_folds_of_a_split_file() {
    let dir = temp_dir("run-split-file");
    let task = dir.join("task");
    cellcast_ok(["synth", "--out", task.to_str().unwrap()]);
    let split = dir.join("split.csv");
    let train = task.join("train.csv");
    random_split(&train, &split);
    let out = dir.join("out");
    let (t, o, s) = (task.to_str().unwrap(), out.to_str().unwrap(), split.to_str().unwrap());
    cellcast_ok(["run", t, "--out", o, "--split-file", s, "--models", "knn_tuned", "--bootstrap", "100"]);
    let fold_of = |path: &std::path::Path| -> Vec<(String, String)> {
        let mut r = csv::Reader::from_path(path).unwrap();
        let mut v: Vec<(String, String)> =
            r.records().map(|x| x.unwrap()).map(|x| (x[0].into(), x[2].into())).collect();
        v.sort();
        v
    };
    assert_eq!(fold_of(&out.join("folds.csv")), fold_of(&split), "run used the file's folds");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("Cross-validation: 3-fold, the folds of"), "{report}");
    // A split of other compounds is refused by name, and nothing is written.
    std::fs::write(&split, "id,group,fold\nsyn_0000,,0\nsomething_else,,1\n").unwrap();
    let other = dir.join("other");
    let e = common::cellcast_err(["run", t, "--out", other.to_str().unwrap(), "--split-file", s]);
    assert!(e.contains("split.csv") && e.contains("no fold for") && e.contains("'syn_0001'"), "{e}");
    assert!(!other.exists());
}

#[test]
fn an_outside_models_out_of_fold_predictions_rank_beside_the_panel() {
    let dir = temp_dir("run-outside");
    let task = dir.join("task");
    cellcast_ok(["synth", "--out", task.to_str().unwrap(), "--compounds", "120", "--targets", "4"]);
    let split = dir.join("split.csv");
    let train = task.join("train.csv");
    random_split(&train, &split);
    // An outside "model": the truth shrunk towards 0 — far better than the panel — written as
    // `id` + one column per target, rows in another order.
    let rows = read_csv_text(&train);
    let targets: Vec<String> = rows[0].keys().filter(|k| k.starts_with("response_")).cloned().collect();
    let mut text = format!("id,{}\n", targets.join(","));
    let mut squared = vec![0.0; targets.len()];
    for row in rows.iter().rev() {
        let values: Vec<f64> = targets.iter().map(|t| row[t].parse::<f64>().unwrap()).collect();
        let pred: Vec<f64> = values.iter().map(|v| 0.9 * v).collect();
        for (k, (v, p)) in values.iter().zip(&pred).enumerate() {
            squared[k] += (v - p) * (v - p);
        }
        text.push_str(&format!(
            "{},{}\n",
            row["compound_id"],
            pred.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(",")
        ));
    }
    let mse = squared.iter().map(|s| s / rows.len() as f64).sum::<f64>() / targets.len() as f64;
    let oof = dir.join("mine.csv");
    std::fs::write(&oof, &text).unwrap();
    let out = dir.join("out");
    let (t, o, s) = (task.to_str().unwrap(), out.to_str().unwrap(), split.to_str().unwrap());
    let mine = format!("mine={}", oof.display());
    cellcast_ok([
        "run",
        t,
        "--out",
        o,
        "--split-file",
        s,
        "--models",
        "knn_tuned",
        "--predictions",
        &mine,
        "--bootstrap",
        "100",
    ]);
    let board = read_csv_text(&out.join("leaderboard.csv"));
    let row = board.iter().find(|r| r["model"] == "mine" && r["metric"] == "polaris/mean_squared_error").unwrap();
    let score: f64 = row["score"].parse().unwrap();
    assert!((score - mse).abs() <= 1e-12 * mse, "{score} vs {mse}");
    assert_eq!(row["rank"], "1");
    let ci_high: f64 = row["ci_high_vs_mean"].parse().unwrap();
    assert!(ci_high < 0.0, "clearly better than the mean: {row:?}");
    // The submission still comes from a panel model, and the report says what the outside model is.
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("`mine`: an outside model") && report.contains("Selected: **knn_tuned**"), "{report}");
    // The HTML's headline: the winner, its difference from the mean with the interval, in words
    // and numbers; p-values at the bootstrap's resolution, never 0.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let headline = html.split(r#"<p id="headline""#).nth(1).unwrap().split("</p>").next().unwrap();
    let attr = |name: &str| -> String {
        headline.split(&format!("{name}=\"")).nth(1).unwrap().split('"').next().unwrap().to_string()
    };
    assert_eq!((attr("data-winner").as_str(), attr("data-selected").as_str()), ("mine", "knn_tuned"));
    let delta: f64 = attr("data-delta-vs-mean").parse().unwrap();
    assert_eq!(delta, row["diff_vs_mean"].parse::<f64>().unwrap());
    let (lo, hi): (f64, f64) = (attr("data-ci-low").parse().unwrap(), attr("data-ci-high").parse().unwrap());
    assert!(lo <= delta && delta <= hi && hi < 0.0);
    assert!(headline.contains("mine ranks first") && headline.contains("p &lt; 0.01"), "{headline}");
    assert!(headline.contains("outside model") && headline.contains("submission comes from knn_tuned"), "{headline}");
    for r in &board {
        for k in ["p_vs_mean", "p_vs_best"] {
            if let Ok(p) = r[k].parse::<f64>() {
                assert!(p >= 0.01, "p written below the resolution of 100 resamples: {r:?}");
            }
        }
    }

    // A file missing a training compound is refused by name; without the folds, by clap.
    let short: String = text.lines().take(50).map(|l| format!("{l}\n")).collect();
    std::fs::write(&oof, short).unwrap();
    let bad = dir.join("bad");
    let e = common::cellcast_err(["run", t, "--out", bad.to_str().unwrap(), "--split-file", s, "--predictions", &mine]);
    assert!(e.contains("mine.csv") && e.contains("no prediction for training compound"), "{e}");
    let e = common::cellcast_err(["run", t, "--out", bad.to_str().unwrap(), "--predictions", &mine]);
    assert!(e.contains("--split-file"), "{e}");
    assert!(!bad.exists());
}
