//! What people and programs read from cellcast, pinned: the metric list, a human summary and a
//! JSON score. Regenerate after an intended change with `UPDATE_SNAPSHOTS=1 cargo test`.

mod common;

use std::path::Path;

use common::{cellcast_ok, golden};

fn check(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing snapshot {}; run with UPDATE_SNAPSHOTS=1", path.display()));
    assert_eq!(actual, expected, "snapshot {name} changed; rerun with UPDATE_SNAPSHOTS=1 if intended");
}

#[test]
fn metric_registry_listing() {
    check("metrics.txt", &cellcast_ok(["metrics"]));
    let json: serde_json::Value = serde_json::from_str(&cellcast_ok(["metrics", "--json"])).unwrap();
    let names: Vec<&str> = json.as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 27);
    assert!(names.contains(&"polaris/pr_auc") && names.contains(&"myllia/score") && names.contains(&"ranking/mrr"));
    assert!(names.contains(&"celleval/discrimination_score_cosine"));
}

#[test]
fn human_and_json_scores() {
    let dir = golden().join("score/polaris_pr_auc_grouped_mean");
    let truth = dir.join("truth.csv");
    let pred = dir.join("pred.csv");
    let args = |json: bool| {
        let mut a = vec![
            "score".to_string(),
            "--metric".into(),
            "polaris/pr_auc".into(),
            "--truth".into(),
            truth.display().to_string(),
            "--pred".into(),
            pred.display().to_string(),
            "--group-by".into(),
            "treatment".into(),
        ];
        if json {
            a.push("--json".into());
        }
        a
    };
    check("score_pr_auc_grouped.txt", &cellcast_ok(args(false)));
    check("score_pr_auc_grouped.json", &cellcast_ok(args(true)));
}

#[test]
fn demo_output() {
    check("demo.txt", &cellcast_ok(["demo"]));
}
