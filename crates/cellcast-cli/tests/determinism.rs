//! Same seed, same bytes, any thread count: every parallel command run with `--threads 1` and
//! `--threads 3` (more workers than this 2-core machine has, so the work really is split
//! differently) writes byte-identical outputs.

mod common;

use std::path::{Path, PathBuf};

use common::{cellcast_ok, shared, temp_dir};

/// Every file of a folder (or the file itself), by name, with its bytes.
fn contents(path: &Path) -> Vec<(String, Vec<u8>)> {
    if path.is_file() {
        return vec![(String::new(), std::fs::read(path).unwrap())];
    }
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

/// Runs `args` (whose `OUT` is replaced by an output path) with 1 and with 3 threads and
/// asserts that the outputs are the same bytes.
fn same_bytes_any_threads(name: &str, args: &[&str], out_is_dir: bool) {
    let dir = temp_dir(&format!("det-{name}"));
    let outputs: Vec<PathBuf> =
        ["t1", "t3"].iter().map(|t| dir.join(if out_is_dir { t.to_string() } else { format!("{t}.csv") })).collect();
    for (threads, out) in ["1", "3"].iter().zip(&outputs) {
        let mut full: Vec<&str> = args.iter().map(|a| if *a == "OUT" { out.to_str().unwrap() } else { a }).collect();
        full.extend(["--threads", threads]);
        cellcast_ok(&full);
    }
    let (one, three) = (contents(&outputs[0]), contents(&outputs[1]));
    assert!(!one.is_empty(), "{name}: no output");
    assert_eq!(one.len(), three.len(), "{name}: different files");
    for ((f1, b1), (f3, b3)) in one.iter().zip(&three) {
        assert_eq!(f1, f3, "{name}: different files");
        assert!(b1 == b3, "{name}: {f1} differs between --threads 1 and --threads 3");
    }
}

#[test]
fn run_on_the_shared_tasks() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED run_on_the_shared_tasks: ../shared is absent");
        return;
    };
    for task in ["rxrx3-compound-gene", "l1000-drugbank"] {
        let path = shared.join("tasks").join(task);
        same_bytes_any_threads(task, &["run", path.to_str().unwrap(), "--out", "OUT"], true);
    }
}

#[test]
fn run_on_a_synthetic_task() {
    let dir = temp_dir("det-inputs-task");
    let task = dir.join("task");
    cellcast_ok(["synth", "--out", task.to_str().unwrap(), "--compounds", "120"]);
    same_bytes_any_threads("synth-run", &["run", task.to_str().unwrap(), "--out", "OUT", "--bootstrap", "200"], true);
}

#[test]
fn single_cell_commands() {
    let dir = temp_dir("det-inputs-screen");
    let screen = dir.join("screen");
    cellcast_ok(["synth", "--kind", "screen", "--out", screen.to_str().unwrap(), "--cells", "12"]);
    let h5ad = screen.join("screen.h5ad");
    let h = h5ad.to_str().unwrap();
    let common = ["--h5ad", h, "--group-column", "perturbation", "--control", "control"];
    let with = |head: &[&'static str], tail: &[&'static str]| -> Vec<&str> {
        head.iter().copied().chain(common.iter().copied()).chain(tail.iter().copied()).collect()
    };
    same_bytes_any_threads("targets-rank", &with(&["targets", "rank"], &["--out", "OUT"]), false);
    same_bytes_any_threads(
        "targets-evaluate",
        &with(&["targets", "evaluate"], &["--group-size", "1,4", "--trees", "20", "--rounds", "10", "--out", "OUT"]),
        false,
    );
    same_bytes_any_threads("task-genetic", &with(&["task", "genetic"], &["--out", "OUT"]), true);
    same_bytes_any_threads(
        "pseudobulk",
        &["pseudobulk", "--h5ad", h, "--group-column", "perturbation", "--block", "7", "--out", "OUT"],
        false,
    );
}

#[test]
fn phenomics_and_chemistry() {
    let dir = temp_dir("det-inputs-phenomics");
    let screen = dir.join("screen");
    cellcast_ok(["synth", "--kind", "phenomics", "--out", screen.to_str().unwrap(), "--compounds", "30"]);
    let embeddings = screen.join("embeddings.parquet");
    same_bytes_any_threads(
        "phenomics",
        &["phenomics", "--embeddings", embeddings.to_str().unwrap(), "--out", "OUT"],
        false,
    );

    let task = dir.join("task");
    cellcast_ok(["synth", "--out", task.to_str().unwrap()]);
    let train = task.join("train.csv");
    let mols = ["--input", train.to_str().unwrap(), "--smiles-column", "smiles", "--id-column", "compound_id"];
    let with = |head: &[&'static str], tail: &[&'static str]| -> Vec<&str> {
        head.iter().copied().chain(mols.iter().copied()).chain(tail.iter().copied()).collect()
    };
    same_bytes_any_threads("morgan", &with(&["featurize", "morgan"], &["--out", "OUT"]), false);
    same_bytes_any_threads("descriptors", &with(&["featurize", "descriptors"], &["--out", "OUT"]), false);
    same_bytes_any_threads("scaffold", &with(&["scaffold"], &["--out", "OUT"]), false);
    same_bytes_any_threads(
        "split",
        &with(&["split"], &["--method", "chemprop-balanced", "--seed", "3", "--out", "OUT"]),
        false,
    );
    same_bytes_any_threads(
        "neighbors",
        &[
            "neighbors",
            "--query",
            train.to_str().unwrap(),
            "--library",
            train.to_str().unwrap(),
            "--smiles-column",
            "smiles",
            "--id-column",
            "compound_id",
            "-k",
            "3",
            "--out",
            "OUT",
        ],
        false,
    );
}

#[test]
fn demo() {
    same_bytes_any_threads("demo", &["demo", "--out", "OUT"], true);
}
