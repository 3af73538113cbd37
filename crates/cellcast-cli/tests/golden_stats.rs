//! limma and the weight builders through the CLI, against fixtures made by inmoose (limma),
//! scanpy and the transcribed VCPI contest code.

mod common;

use common::{assert_csv_close, cellcast_ok, golden, temp_dir};
use serde_json::Value;

fn cases(kind: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(golden().join(kind)).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    assert!(!v.is_empty(), "no {kind} fixtures");
    v
}

fn s(p: &std::path::Path) -> String {
    p.display().to_string()
}

#[test]
fn limma_moderated_t_matches_inmoose() {
    let out_dir = temp_dir("limma");
    for dir in cases("limma") {
        let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
        let out = out_dir.join(format!("{}.csv", dir.file_name().unwrap().to_string_lossy()));
        cellcast_ok([
            "de",
            "limma",
            "--expr",
            &s(&dir.join("expr.csv")),
            "--groups",
            &s(&dir.join("groups.csv")),
            "--control",
            meta["control"].as_str().unwrap(),
            "--out",
            &s(&out),
        ]);
        // limma uses statmod's logmdigamma series (≈6e-12 relative near 5), inmoose scipy's
        // digamma: the two agree to ~1e-12 in t; the absolute term covers t ≈ 0.
        assert_csv_close(&out, &dir.join("expected_t.csv"), 1e-10, 1e-9);
    }
}

#[test]
fn myllia_weights_match_the_recipe() {
    let out_dir = temp_dir("myllia");
    for dir in cases("weights_myllia") {
        let out = out_dir.join(format!("{}.csv", dir.file_name().unwrap().to_string_lossy()));
        cellcast_ok([
            "weights",
            "myllia",
            "--t",
            &s(&dir.join("t.csv")),
            "--targets",
            &s(&dir.join("targets.csv")),
            "--out",
            &s(&out),
        ]);
        assert_csv_close(&out, &dir.join("expected.csv"), 1e-12, 1e-15);
    }
}

#[test]
fn vcpi_weights_match_the_contest_code() {
    let out_dir = temp_dir("vcpi");
    for dir in cases("weights_vcpi") {
        for mode in ["per_compound_floored", "pooled"] {
            let out = out_dir.join(format!("{}_{mode}.csv", dir.file_name().unwrap().to_string_lossy()));
            cellcast_ok([
                "weights",
                "vcpi",
                "--counts",
                &s(&dir.join("counts.csv")),
                "--groups",
                &s(&dir.join("groups.csv")),
                "--variance",
                mode,
                "--out",
                &s(&out),
            ]);
            assert_csv_close(&out, &dir.join(format!("expected_{mode}.csv")), 1e-10, 1e-14);
        }
    }
}

#[test]
fn mejia_weights_match_scanpy() {
    let out_dir = temp_dir("mejia");
    for dir in cases("weights_mejia") {
        let meta: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
        let out = out_dir.join(format!("{}.csv", dir.file_name().unwrap().to_string_lossy()));
        cellcast_ok([
            "weights",
            "mejia",
            "--expr",
            &s(&dir.join("expr.csv")),
            "--groups",
            &s(&dir.join("groups.csv")),
            "--x-dtype",
            meta["x_dtype"].as_str().unwrap(),
            "--out",
            &s(&out),
        ]);
        assert_csv_close(&out, &dir.join("expected.csv"), 1e-12, 1e-15);
    }
}
