//! `cellcast pseudobulk` end to end on the golden `.h5ad` fixtures: the table scanpy computes,
//! the normalisation assumption printed, clean errors.

mod common;

use std::path::PathBuf;

use common::{cellcast, cellcast_err, golden, read_csv, temp_dir};
use serde_json::Value;

fn fixture(name: &str) -> (PathBuf, Value) {
    let dir = golden().join("h5ad");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap()).unwrap();
    (dir.join(format!("{name}.h5ad")), json)
}

/// Runs `cellcast pseudobulk`, asserting success; returns stderr.
fn pseudobulk(args: &[&str]) -> String {
    let mut all = vec!["pseudobulk"];
    all.extend_from_slice(args);
    let out = cellcast(all);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "cellcast pseudobulk failed: {stderr}");
    stderr
}

/// The golden case with these settings (float64 reference).
fn case<'a>(
    json: &'a Value,
    group: &str,
    replicate: Option<&str>,
    normalize: &str,
    agg: &str,
    layer: Option<&str>,
) -> &'a Value {
    json["pseudobulk"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["group_column"] == group
                && c["replicate_column"].as_str() == replicate
                && c["normalize"] == normalize
                && c["agg"] == agg
                && c["layer"].as_str() == layer
                && c["variant"] == "float64"
        })
        .unwrap_or_else(|| panic!("no golden case {group} {replicate:?} {normalize} {agg} {layer:?}"))
}

/// The output CSV equals the golden table (CSV floats round-trip exactly; scanpy's aggregate
/// and cellcast add the same float64 values in the same order). The tolerance covers pandas'
/// groupby (last bit) and serde_json's parsing without `float_roundtrip` in this crate.
/// The output's id column is `id` whatever the group column, so every command reads it as is.
fn check(out: &std::path::Path, expected: &Value) {
    let csv = read_csv(out);
    let header = std::fs::read_to_string(out).unwrap();
    assert!(header.starts_with("id,"), "{}", &header[..60.min(header.len())]);
    let groups: Vec<String> =
        expected["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap().to_string()).collect();
    assert_eq!(csv.ids, groups);
    let genes: Vec<&str> = expected["genes"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    assert_eq!(csv.columns, genes);
    for (g, row) in expected["values"].as_array().unwrap().iter().enumerate() {
        let want: Vec<f64> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let got = &csv.rows[&groups[g]];
        for (j, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-13 * b.abs(),
                "{}: group {}, gene {}: {a} vs {b}",
                out.display(),
                groups[g],
                genes[j]
            );
        }
    }
}

#[test]
fn counts_are_normalised_by_default_and_the_choice_is_printed() {
    let (h5ad, json) = fixture("csr_f32");
    let dir = temp_dir("pseudobulk-default");
    let out = dir.join("pb.csv");
    let stderr =
        pseudobulk(&["--h5ad", h5ad.to_str().unwrap(), "--group-column", "group", "--out", out.to_str().unwrap()]);
    assert!(stderr.contains("normalisation: cp10k-log1p — assumed"), "{stderr}");
    assert!(stderr.contains("non-negative integer: raw counts"), "{stderr}");
    assert!(stderr.contains("3 groups"), "{stderr}");
    check(&out, case(&json, "group", None, "cp10k-log1p", "mean", None));

    // Explicit choices print no assumption.
    for (normalize, agg) in [("cpm-log2", "mean"), ("none", "sum"), ("none", "mean")] {
        let stderr = pseudobulk(&[
            "--h5ad",
            h5ad.to_str().unwrap(),
            "--group-column",
            "group",
            "--normalize",
            normalize,
            "--agg",
            agg,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!stderr.contains("assumed"), "{stderr}");
        check(&out, case(&json, "group", None, normalize, agg, None));
    }
}

#[test]
fn transformed_values_are_used_as_stored_and_the_choice_is_printed() {
    let (h5ad, json) = fixture("csr_f64_lognorm");
    let dir = temp_dir("pseudobulk-lognorm");
    let out = dir.join("pb.parquet");
    let stderr =
        pseudobulk(&["--h5ad", h5ad.to_str().unwrap(), "--group-column", "group_na", "--out", out.to_str().unwrap()]);
    assert!(stderr.contains("normalisation: none — assumed"), "{stderr}");
    assert!(stderr.contains("not non-negative integers"), "{stderr}");
    assert!(stderr.contains("2 cells without a label left out"), "{stderr}");
    // Parquet holds the same table: convert through the reader of `cellcast score`.
    let spec = cellcast_data::WideSpec {
        id_column: "id",
        text_columns: &[],
        optional_text: &[],
        numeric: cellcast_data::NumericColumns::Rest,
    };
    let table = cellcast_data::WideTable::read(&out, &spec).unwrap();
    let expected = case(&json, "group_na", None, "none", "mean", None);
    let groups: Vec<&str> = expected["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    assert_eq!(table.ids, groups);
    for (g, row) in expected["values"].as_array().unwrap().iter().enumerate() {
        let want: Vec<f64> = row.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        for (a, b) in table.values.row(g).iter().zip(&want) {
            assert!((a - b).abs() <= 1e-13 * b.abs(), "{a} vs {b}");
        }
    }
}

#[test]
fn layers_replicates_and_csc() {
    let (h5ad, json) = fixture("csr_f32");
    let dir = temp_dir("pseudobulk-layers");
    let out = dir.join("pb.csv");
    pseudobulk(&[
        "--h5ad",
        h5ad.to_str().unwrap(),
        "--group-column",
        "group",
        "--layer",
        "counts",
        "--normalize",
        "none",
        "--agg",
        "sum",
        "--out",
        out.to_str().unwrap(),
    ]);
    check(&out, case(&json, "group", None, "none", "sum", Some("counts")));
    pseudobulk(&[
        "--h5ad",
        h5ad.to_str().unwrap(),
        "--group-column",
        "group",
        "--replicate-column",
        "replicate",
        "--normalize",
        "cp10k-log1p",
        "--block",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    check(&out, case(&json, "group", Some("replicate"), "cp10k-log1p", "mean", None));

    let (h5ad, json) = fixture("csc_f64");
    let stderr =
        pseudobulk(&["--h5ad", h5ad.to_str().unwrap(), "--group-column", "group", "--out", out.to_str().unwrap()]);
    assert!(stderr.contains("CSC") && stderr.contains("two passes"), "{stderr}");
    check(&out, case(&json, "group", None, "cp10k-log1p", "mean", None));
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let (h5ad, _) = fixture("csr_f32");
    let dir = temp_dir("pseudobulk-errors");
    let out = dir.join("pb.csv");
    let h = h5ad.to_str().unwrap();
    let o = out.to_str().unwrap();
    let e = cellcast_err(["pseudobulk", "--h5ad", h, "--group-column", "nope", "--out", o]);
    assert!(e.contains("no column 'nope'") && e.contains("'group'"), "{e}");
    let e = cellcast_err(["pseudobulk", "--h5ad", h, "--group-column", "group", "--layer", "raw", "--out", o]);
    assert!(e.contains("no layer 'raw'") && e.contains("counts"), "{e}");
    let e = cellcast_err(["pseudobulk", "--h5ad", h, "--group-column", "group", "--normalize", "tpm", "--out", o]);
    assert!(e.contains("cp10k-log1p"), "{e}");
    let missing = dir.join("missing.h5ad");
    let e = cellcast_err(["pseudobulk", "--h5ad", missing.to_str().unwrap(), "--group-column", "g", "--out", o]);
    assert!(e.contains("missing.h5ad"), "{e}");
    let csv = golden().join("h5ad/csr_f32.json");
    let e = cellcast_err(["pseudobulk", "--h5ad", csv.to_str().unwrap(), "--group-column", "g", "--out", o]);
    assert!(e.contains("not an HDF5 file"), "{e}");
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no temporary file is left behind");
}

#[test]
fn real_norman19_file_when_present() {
    let Some(shared) = common::shared() else {
        eprintln!("SKIPPED real_norman19_file_when_present: ../shared does not exist");
        return;
    };
    let (_, json) = fixture("real_norman19_mcfaline23");
    let h5ad = shared.join(json["file"].as_str().unwrap());
    let dir = temp_dir("pseudobulk-norman");
    let out = dir.join("pb.csv");
    let stderr =
        pseudobulk(&["--h5ad", h5ad.to_str().unwrap(), "--group-column", "condition", "--out", out.to_str().unwrap()]);
    assert!(stderr.contains("normalisation: none — assumed"), "{stderr}");
    let expected = case(&json, "condition", None, "none", "mean", None);
    let csv = read_csv(&out);
    let groups: Vec<&str> = expected["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    assert_eq!(csv.ids, groups);
    let genes = expected["gene_indices"].as_array().unwrap();
    for (g, row) in expected["values"].as_array().unwrap().iter().enumerate() {
        for (k, want) in row.as_array().unwrap().iter().enumerate() {
            let j = genes[k].as_u64().unwrap() as usize;
            assert_eq!(csv.columns[j], expected["genes"][k].as_str().unwrap());
            // serde_json here parses without float_roundtrip: allow its last-bit error.
            let (a, b) = (csv.rows[groups[g]][j], want.as_f64().unwrap());
            assert!((a - b).abs() <= 1e-15 * b.abs(), "group {}, gene {j}: {a} vs {b}", groups[g]);
        }
    }
}

#[test]
fn the_output_goes_into_score_as_it_is() {
    let dir = common::temp_dir("pseudobulk-into-score");
    let screen = dir.join("screen");
    common::cellcast_ok(["synth", "--kind", "screen", "--out", screen.to_str().unwrap(), "--cells", "6"]);
    let pb = dir.join("pb.csv.gz");
    let pb_csv = dir.join("pb.csv");
    for out in [&pb_csv, &pb] {
        let h5ad = screen.join("screen.h5ad");
        common::cellcast_ok([
            "pseudobulk",
            "--h5ad",
            h5ad.to_str().unwrap(),
            "--group-column",
            "perturbation",
            "--out",
            out.to_str().unwrap(),
        ]);
    }
    // No --id-column: the id column is `id`. A table scored against itself (written once plain,
    // once gzip-compressed) has MAE 0.
    assert_eq!(std::fs::read(&pb).unwrap()[..2], [0x1f, 0x8b], "pb.csv.gz is gzip");
    let json = common::score_json("celleval/mae", &pb, &pb_csv, &["--param", "control=control"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["value"], 0.0, "{json}");
    assert_eq!(v["n_scored"], 25, "{json}");
}
