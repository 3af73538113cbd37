//! Scores on real benchmark data from ../shared, against values polaris-lib computed on the same
//! inputs (fixtures/golden/real, made by scripts/golden/real_fixtures.py). The inputs are rebuilt
//! here from the shared files by the recipe recorded in each fixture; the tests skip, saying
//! so, when ../shared is absent.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use common::{close, golden, score_json, shared, temp_dir};
use serde_json::Value;

fn expected(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Compares a `cellcast score --json` output with a fixture, value and every breakdown entry.
/// numpy sums pairwise and cellcast sequentially; R² = 1 − RSS/TSS of a gene the mean
/// predicts almost perfectly cancels to ~1e-7, where that leaves ~1e-15 absolute difference.
fn assert_matches(out: &str, want: &Value) {
    let got: Value = serde_json::from_str(out).unwrap();
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    assert!(
        close(num(&got["value"]), num(&want["value"]), 1e-12, 1e-15),
        "value {} vs {}",
        got["value"],
        want["value"]
    );
    let key = want["breakdown"].as_str().unwrap();
    let entries = want["scores"].as_object().unwrap();
    assert_eq!(got[key].as_object().unwrap().len(), entries.len());
    for (k, v) in entries {
        assert!(close(num(&got[key][k]), num(v), 1e-12, 1e-13), "{key}[{k}]: {} vs {v}", got[key][k]);
    }
}

fn skip(what: &str) {
    eprintln!("SKIPPED {what}: ../shared is not beside the checkout");
}

#[test]
fn l1000_mean_baseline_matches_polaris() {
    let Some(shared) = shared() else { return skip("l1000_mean_baseline") };
    let fixture = golden().join("real/l1000_mean_baseline");
    let meta = expected(&fixture.join("expected.json"));
    let n_train = meta["source"]["n_train"].as_u64().unwrap() as usize;
    let mut reader = csv::Reader::from_path(shared.join("tasks/l1000-drugbank/train.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let genes: Vec<usize> = (0..header.len()).filter(|&k| header[k].starts_with("geneID-")).collect();
    assert_eq!(genes.len(), 978);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // Per-gene mean of the first n_train rows, summed in file order.
    let mut mean = vec![0.0f64; genes.len()];
    for row in &rows[..n_train] {
        for (m, &k) in mean.iter_mut().zip(&genes) {
            *m += row[k].parse::<f64>().unwrap();
        }
    }
    mean.iter_mut().for_each(|m| *m /= n_train as f64);

    let dir = temp_dir("real-l1000");
    let mut truth = String::from("id");
    let mut pred = String::from("id");
    for &k in &genes {
        write!(truth, ",{}", header[k]).unwrap();
        write!(pred, ",{}", header[k]).unwrap();
    }
    for row in &rows[n_train..] {
        write!(truth, "\n{}", &row[0]).unwrap();
        write!(pred, "\n{}", &row[0]).unwrap();
        for (&k, m) in genes.iter().zip(&mean) {
            write!(truth, ",{}", &row[k]).unwrap();
            write!(pred, ",{m:?}").unwrap();
        }
    }
    std::fs::write(dir.join("truth.csv"), truth).unwrap();
    std::fs::write(dir.join("pred.csv"), pred).unwrap();
    for (file, metric) in [
        ("expected.json", "polaris/mean_squared_error"),
        ("expected_r2.json", "polaris/r2"),
        ("expected_mae.json", "polaris/mean_absolute_error"),
    ] {
        let want = expected(&fixture.join(file));
        assert_eq!(want["metric"], metric);
        let out = score_json(metric, &dir.join("truth.csv"), &dir.join("pred.csv"), &[]);
        assert_matches(&out, &want);
    }
}

#[test]
fn rxrx3_gene_prior_matches_polaris() {
    let Some(shared) = shared() else { return skip("rxrx3_gene_prior") };
    let fixture = golden().join("real/rxrx3_gene_prior");
    let mut reader = csv::Reader::from_path(shared.join("tasks/rxrx3-compound-gene/train.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (treatment, gene, active) = (col("treatment"), col("gene"), col("active"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // Compounds sorted; even positions fit the gene prior, odd positions are scored.
    let compounds: Vec<&str> = rows.iter().map(|r| &r[treatment]).collect::<BTreeSet<_>>().into_iter().collect();
    let fit: BTreeSet<&str> = compounds.iter().step_by(2).copied().collect();
    let mut counts: HashMap<&str, (f64, f64)> = HashMap::new();
    for r in rows.iter().filter(|r| fit.contains(&r[treatment])) {
        let c = counts.entry(&r[gene]).or_default();
        c.0 += r[active].parse::<f64>().unwrap();
        c.1 += 1.0;
    }
    // The truth keeps the task's own columns (quoted CXSMILES with commas, gene names): only
    // the label named by the prediction's score column and the group column are read.
    let dir = temp_dir("real-rxrx3");
    let mut truth = csv::Writer::from_path(dir.join("truth.csv")).unwrap();
    truth.write_record(["id", "treatment", "SMILES", "gene", "active"]).unwrap();
    let mut pred = String::from("id,active");
    let smiles = col("SMILES");
    for (i, r) in rows.iter().enumerate().filter(|(_, r)| !fit.contains(&r[treatment])) {
        let prior = counts.get(&r[gene]).map_or(0.0, |(a, n)| a / n);
        truth.write_record([&i.to_string(), &r[treatment], &r[smiles], &r[gene], &r[active]]).unwrap();
        write!(pred, "\n{i},{prior:?}").unwrap();
    }
    truth.flush().unwrap();
    std::fs::write(dir.join("pred.csv"), pred).unwrap();
    for (file, metric) in [("expected.json", "polaris/pr_auc"), ("expected_roc.json", "polaris/roc_auc")] {
        let want = expected(&fixture.join(file));
        assert_eq!(want["metric"], metric);
        let out = score_json(metric, &dir.join("truth.csv"), &dir.join("pred.csv"), &["--group-by", "treatment"]);
        assert_matches(&out, &want);
    }
}
