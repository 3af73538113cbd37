//! What `run` leaves in its output folder: every unreadable molecule named with what it got,
//! outputs of one run only (never a mix of two), and the folder untouched by an interrupted run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{cellcast, cellcast_ok, temp_dir};

/// A synthetic task folder with one unreadable training and one unreadable test molecule.
fn task_with_unreadable_molecules(dir: &Path) -> PathBuf {
    let task = dir.join("task");
    cellcast_ok(["synth", "--out", task.to_str().unwrap()]);
    let edit = |file: &str, from: &str, to: &str| {
        let path = task.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} lacks {from}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
    edit("train.csv", "syn_0001,C(=O)OC(=O)N1CCN(F)CC1,", "syn_0001,C1CC,");
    edit("test_features.csv", "syn_0018,BrC1CC2CCC(O)C2C1", "syn_0018,C(C)(C)(C)(C)C");
    task
}

/// Every file of a folder with its bytes, sorted by name.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn unreadable_molecules_are_named_with_what_they_got() {
    let dir = temp_dir("outputs-unreadable");
    let task = task_with_unreadable_molecules(&dir);
    let out = dir.join("out");
    let run = cellcast([
        "run",
        task.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--models",
        "knn_tuned",
        "--split",
        "random",
    ]);
    assert!(run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for text in [stderr.as_ref(), report.as_str()] {
        assert!(text.contains("2 molecule(s) could not be read (1 training, 1 test"), "{text}");
        assert!(text.contains("id 'syn_0001', SMILES 'C1CC': invalid SMILES: unmatched ring closure"), "{text}");
        assert!(
            text.contains(
                "id 'syn_0018', SMILES 'C(C)(C)(C)(C)C': rejected by sanitization (as RDKit would): Explicit valence"
            ),
            "{text}"
        );
        assert!(text.contains("test compound: knn_tuned predicts the training mean of every target for it"), "{text}");
    }
    // And it does: the submission row of syn_0018 is the per-target training mean.
    let mut train = csv::Reader::from_path(task.join("train.csv")).unwrap();
    let header: Vec<String> = train.headers().unwrap().iter().map(str::to_string).collect();
    let rows: Vec<csv::StringRecord> = train.records().map(Result::unwrap).collect();
    let sub = common::read_csv(&out.join("submission.csv"));
    for (j, column) in sub.columns.iter().enumerate() {
        let k = header.iter().position(|c| c == column).unwrap();
        let mean = rows.iter().map(|r| r[k].parse::<f64>().unwrap()).sum::<f64>() / rows.len() as f64;
        assert!((sub.rows["syn_0018"][j] - mean).abs() < 1e-9, "{column}");
    }
}

#[test]
fn a_rerun_replaces_the_outputs_of_the_previous_run() {
    let dir = temp_dir("outputs-rerun");
    let task = dir.join("task");
    cellcast_ok(["synth", "--out", task.to_str().unwrap()]);
    let out = dir.join("out");
    let run = |split: &str| {
        cellcast_ok([
            "run",
            task.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--models",
            "knn_tuned",
            "--split",
            split,
            "--bootstrap",
            "100",
        ])
    };
    run("random"); // kNN wins and its gene programs are written
    assert!(out.join("programs.csv").exists());
    std::fs::write(out.join("my_notes.txt"), "kept").unwrap();
    run("scaffold"); // the mean wins: no programs
    assert_eq!(
        names(&out),
        [
            ".cellcast-outputs",
            "folds.csv",
            "leaderboard.csv",
            "my_notes.txt",
            "predictions.parquet",
            "report.html",
            "report.md",
            "submission.csv"
        ],
        "the first run's programs.csv is gone, the user's file is kept"
    );
    assert!(std::fs::read_to_string(out.join("report.md")).unwrap().contains("scaffold"));
    let leftovers: Vec<String> = names(&dir).into_iter().filter(|n| n.starts_with('.')).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_interrupted_run_leaves_the_folder_as_it_was() {
    let dir = temp_dir("outputs-interrupt");
    let task = dir.join("task");
    cellcast_ok(["synth", "--out", task.to_str().unwrap()]);
    let out = dir.join("out");
    let t = task.to_str().unwrap();
    let o = out.to_str().unwrap();
    cellcast_ok(["run", t, "--out", o, "--models", "knn_tuned", "--bootstrap", "100"]);
    let before = snapshot(&out);

    for signal in ["TERM", "INT"] {
        // The neural panel takes long enough to be interrupted mid-run.
        let child = Command::new(env!("CARGO_BIN_EXE_cellcast"))
            .args(["run", t, "--out", o, "--neural", "--neural-members", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let staging = dir.join(format!(".out.staging-{}", child.id()));
        let started = Instant::now();
        while !staging.join("folds.csv").exists() {
            assert!(started.elapsed() < Duration::from_secs(60), "the run never started writing");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        let killed = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(killed.success());
        let result = child.wait_with_output().unwrap();
        let expected = if signal == "TERM" { 128 + 15 } else { 128 + 2 };
        assert_eq!(result.status.code(), Some(expected), "{}", String::from_utf8_lossy(&result.stderr));
        assert!(String::from_utf8_lossy(&result.stderr).contains("partial outputs removed"));
        assert!(snapshot(&out) == before, "SIG{signal}: the folder changed");
        assert!(!staging.exists(), "SIG{signal}: the staging folder is left");
    }
}
