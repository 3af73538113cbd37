//! Every scoring fixture in fixtures/golden/score, produced by the reference packages
//! (polaris-lib, scikit-learn, scipy, transcribed host metrics), scored through the CLI.

mod common;

use common::{cellcast_ok, close, golden};
use serde_json::Value;

fn as_f64(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn every_score_fixture_matches_its_reference() {
    let root = golden().join("score");
    let mut cases: Vec<_> =
        std::fs::read_dir(&root).expect("fixtures/golden/score exists").map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() >= 40, "expected the full fixture set, found {}", cases.len());
    for dir in cases {
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
        let mut args = vec![
            "score".to_string(),
            "--metric".into(),
            expected["metric"].as_str().unwrap().to_string(),
            "--truth".into(),
            dir.join("truth.csv").display().to_string(),
            "--pred".into(),
            dir.join("pred.csv").display().to_string(),
            "--json".into(),
        ];
        for (flag, file) in [("--weights", "weights.csv"), ("--baseline", "baseline.csv")] {
            if dir.join(file).exists() {
                args.extend([flag.to_string(), dir.join(file).display().to_string()]);
            }
        }
        if let Some(g) = expected["group_by"].as_str() {
            args.extend(["--group-by".to_string(), g.to_string()]);
        }
        for (k, v) in expected["params"].as_object().unwrap() {
            args.extend(["--param".to_string(), format!("{k}={}", v.as_str().unwrap())]);
        }
        let out: Value = serde_json::from_str(&cellcast_ok(&args)).unwrap();
        let case = dir.file_name().unwrap().to_string_lossy().to_string();
        let (got, want) = (as_f64(&out["value"]), as_f64(&expected["value"]));
        assert!(close(got, want, 1e-12, 1e-15), "{case}: value {got} vs reference {want}");
        let key = expected["breakdown"].as_str().unwrap();
        let got_entries = out[key].as_object().unwrap_or_else(|| panic!("{case}: no {key} in {out}"));
        let want_entries = expected["scores"].as_object().unwrap();
        let mut got_keys: Vec<&String> = got_entries.keys().collect();
        let mut want_keys: Vec<&String> = want_entries.keys().collect();
        got_keys.sort();
        want_keys.sort();
        assert_eq!(got_keys, want_keys, "{case}: breakdown keys");
        for (k, v) in want_entries {
            let (g, w) = (as_f64(&got_entries[k]), as_f64(v));
            assert!(close(g, w, 1e-12, 1e-15), "{case}: {key}[{k}] = {g} vs reference {w}");
        }
    }
}
