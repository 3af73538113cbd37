//! `cellcast evaluate` end to end on the golden cell-eval cases (fixtures/golden/evaluate/, made
//! by cell-eval 0.8.2's own CLI): the files it writes equal cell-eval's, the baseline and score
//! round trip, what run.json records, and clean errors that leave no output behind.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_csv_close, cellcast, cellcast_err, cellcast_ok, golden, read_csv_text, temp_dir};
use serde_json::Value;

fn case(name: &str) -> PathBuf {
    golden().join("evaluate").join(name)
}

/// A DE table of a case, unzipped into `dir` (the fixtures keep them gzipped).
fn unzip(gz: &Path, dir: &Path) -> PathBuf {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(gz).unwrap()).read_to_string(&mut text).unwrap();
    let out = dir.join(gz.file_stem().unwrap());
    std::fs::write(&out, text).unwrap();
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn writes_cell_evals_files_with_its_numbers() {
    let dir = case("norman_log1p");
    let out = temp_dir("evaluate-norman").join("eval");
    let stdout = cellcast_ok([
        "evaluate",
        "--real",
        s(&dir.join("real.h5ad")),
        "--pred",
        s(&dir.join("pred.h5ad")),
        "--pert-column",
        "condition",
        "--control",
        "control",
        "--out",
        s(&out),
    ]);
    assert!(stdout.contains("discrimination_score_l1") && stdout.contains("clustering_agreement"), "{stdout}");
    for f in ["results.csv", "agg_results.csv", "real_de.csv", "pred_de.csv", "run.json"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    assert_csv_close(&out.join("results.csv"), &dir.join("results.csv"), 1e-6, 0.0);
    assert_csv_close(&out.join("agg_results.csv"), &dir.join("agg_results.csv"), 1e-6, 1e-12);
    // pdex's tables: the same rows in the same order, as cell-eval writes them.
    let expected = temp_dir("evaluate-norman-de");
    for f in ["real_de.csv", "pred_de.csv"] {
        let theirs = std::fs::read_to_string(unzip(&dir.join(format!("{f}.gz")), &expected)).unwrap();
        let ours = std::fs::read_to_string(out.join(f)).unwrap();
        assert_eq!(theirs.lines().next(), ours.lines().next(), "{f} header");
        assert_eq!(theirs.lines().count(), ours.lines().count(), "{f} rows");
        let key = |l: &str| l.split(',').take(2).collect::<Vec<_>>().join(",");
        assert!(theirs.lines().zip(ours.lines()).all(|(a, b)| key(a) == key(b)), "{f}: row order");
    }
    let run: Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let e = &run["evaluations"][0]["results"];
    assert_eq!(e["files"][0]["scale"], "log1p");
    assert_eq!(e["files"][0]["normalized"], false);
    assert_eq!(e["controls"]["identical"], true);
    assert_eq!(run["fdr"]["scope"], "per perturbation, over every gene of the file");
    assert_eq!(e["columns"].as_array().unwrap().len(), 28);
}

#[test]
fn counts_are_normalised_and_said_so() {
    // The same counts, evaluated by cell-eval on a CPU with AVX-512 and on one without (numpy's
    // float32 log1p differs, and so do the DE tables): each reproduced with its kernel.
    for (name, kernel, said) in [
        ("papalexi_counts", "avx512", "numpy's AVX-512 kernel"),
        ("papalexi_counts_c_library", "c-library", "the C library's log1pf"),
    ] {
        let dir = case(name);
        let tmp = temp_dir(&format!("evaluate-{name}"));
        let out = tmp.join("eval");
        let inputs = case("papalexi_counts");
        let o = cellcast([
            "evaluate",
            "--real",
            s(&inputs.join("real.h5ad")),
            "--pred",
            s(&inputs.join("pred.h5ad")),
            "--pert-column",
            "target_top",
            "--control",
            "non-targeting",
            "--numpy-log1p",
            kernel,
            "--out",
            s(&out),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{stderr}");
        assert!(stderr.contains("whole number") && stderr.contains("median total"), "{stderr}");
        assert!(stderr.contains(&format!("float32 log1p: {said}")), "{stderr}");
        assert!(stderr.contains("control cells differ"), "{stderr}");
        assert_csv_close(&out.join("results.csv"), &dir.join("results.csv"), 1e-6, 0.0);
        // pdex's table row by row: the kernel moves p-values by up to 0.6% on these cells.
        let theirs = read_csv_text(&unzip(&dir.join("real_de.csv.gz"), &tmp));
        let ours = read_csv_text(&out.join("real_de.csv"));
        assert_eq!(theirs.len(), ours.len());
        for (t, o) in theirs.iter().zip(&ours) {
            assert_eq!((&t["target"], &t["feature"]), (&o["target"], &o["feature"]));
            for c in ["log2_fold_change", "p_value", "statistic", "fdr"] {
                let (x, y): (f64, f64) = (o[c].parse().unwrap(), t[c].parse().unwrap());
                assert!(
                    common::close(x, y, 1e-9, 0.0),
                    "{name} {} / {} {c}: ours {x}, cell-eval {y}",
                    t["target"],
                    t["feature"]
                );
            }
        }
        let run: Value = serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
        let files = &run["evaluations"][0]["results"]["files"];
        assert_eq!(files[0]["scale"], "counts");
        assert_eq!(files[0]["normalized"], true);
        assert_eq!(files[0]["precision"], "float32");
        assert_eq!(run["evaluations"][0]["results"]["controls"]["identical"], false);
        assert_eq!(run["options"]["numpy_log1p"], kernel);
    }
}

#[test]
fn baseline_then_score_as_the_challenge_does() {
    let dir = case("norman_baseline_vcc");
    let real = golden().join("evaluate/norman_log1p/real.h5ad");
    let pred = golden().join("evaluate/norman_log1p/pred.h5ad");
    let tmp = temp_dir("evaluate-baseline");
    let base = tmp.join("baseline.h5ad");
    cellcast_ok([
        "evaluate",
        "baseline",
        "--real",
        s(&real),
        "--pert-column",
        "condition",
        "--control",
        "control",
        "--out",
        s(&base),
    ]);
    assert!(base.exists() && tmp.join("baseline_de.csv").exists());
    let out = tmp.join("eval");
    cellcast_ok([
        "evaluate",
        "--real",
        s(&real),
        "--pred",
        s(&pred),
        "--pert-column",
        "condition",
        "--control",
        "control",
        "--profile",
        "vcc",
        "--baseline",
        s(&base),
        "--out",
        s(&out),
    ]);
    assert_csv_close(&out.join("results.csv"), &dir.join("user/results.csv"), 1e-6, 0.0);
    assert_csv_close(&out.join("score.csv"), &dir.join("score.csv"), 1e-6, 1e-12);
}

#[test]
fn ceiling_alone_needs_no_prediction() {
    let dir = case("norman_ceiling");
    let real = golden().join("evaluate/norman_log1p/real.h5ad");
    let out = temp_dir("evaluate-ceiling").join("eval");
    cellcast_ok([
        "evaluate",
        "--real",
        s(&real),
        "--pert-column",
        "condition",
        "--control",
        "control",
        "--ceiling",
        "--out",
        s(&out),
    ]);
    assert!(!out.join("results.csv").exists());
    assert_csv_close(&out.join("ceiling_results.csv"), &dir.join("ceiling_results.csv"), 1e-6, 0.0);
    let ours = std::fs::read_to_string(out.join("agg_ceiling_results.csv")).unwrap();
    let theirs = std::fs::read_to_string(dir.join("agg_ceiling_results.csv")).unwrap();
    assert_eq!(ours.lines().next(), theirs.lines().next());
}

#[test]
fn bad_inputs_fail_cleanly_and_write_nothing() {
    let dir = case("norman_log1p");
    let (real, pred) = (dir.join("real.h5ad"), dir.join("pred.h5ad"));
    let tmp = temp_dir("evaluate-errors");
    let out = tmp.join("eval");
    let run = |extra: &[&str]| {
        let mut args = vec!["evaluate", "--real", s(&real), "--out", s(&out)];
        args.extend_from_slice(extra);
        cellcast_err(args)
    };
    let e = run(&["--pred", s(&pred), "--pert-column", "condition", "--control", "nope"]);
    assert!(e.contains("control 'nope'") && e.contains("--control"), "{e}");
    let e = run(&["--pred", s(&pred), "--pert-column", "no_such_column", "--control", "control"]);
    assert!(e.contains("no obs column 'no_such_column'"), "{e}");
    let kang = golden().join("evaluate/kang_celltype/pred.h5ad");
    let e = run(&["--pred", s(&kang), "--pert-column", "condition", "--control", "control"]);
    assert!(e.contains("same var_names in the same order"), "{e}");
    let e = run(&["--pred", s(&pred), "--pert-column", "condition", "--control", "control", "--skip-metrics", "mea"]);
    assert!(e.contains("unknown metric 'mea'"), "{e}");
    let e = run(&["--pert-column", "condition", "--control", "control"]);
    assert!(e.contains("--pred"), "{e}");
    let e =
        run(&["--pred", s(&pred), "--pert-column", "condition", "--control", "control", "--de-real", "/no/such.csv"]);
    assert!(e.contains("/no/such.csv: no such DE table"), "{e}");
    assert!(!out.exists(), "a failed evaluation left {}", out.display());
}

#[test]
fn the_same_bytes_on_any_thread_count_and_memory_budget() {
    let dir = case("papalexi_counts");
    let tmp = temp_dir("evaluate-threads");
    // 1 MiB: the files are streamed on every pass and the DE pass takes several gene chunks;
    // the default keeps them in memory after one read.
    let run = |threads: &str, budget: &str| {
        let out = tmp.join(format!("t{threads}-{budget}"));
        cellcast_ok([
            "evaluate",
            "--threads",
            threads,
            "--memory-budget",
            budget,
            "--real",
            s(&dir.join("real.h5ad")),
            "--pred",
            s(&dir.join("pred.h5ad")),
            "--pert-column",
            "target_top",
            "--control",
            "non-targeting",
            "--ceiling",
            "--out",
            s(&out),
        ]);
        out
    };
    let one = run("1", "1024");
    for other in [run("2", "1024"), run("2", "1")] {
        for f in [
            "results.csv",
            "agg_results.csv",
            "real_de.csv",
            "pred_de.csv",
            "ceiling_results.csv",
            "agg_ceiling_results.csv",
        ] {
            assert_eq!(std::fs::read(one.join(f)).unwrap(), std::fs::read(other.join(f)).unwrap(), "{f}");
        }
    }
}
