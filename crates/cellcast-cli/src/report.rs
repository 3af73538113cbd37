//! Printing scores and the registry, for people (tables) and programs (`--json`).

use anyhow::Result;
use cellcast::engine::metrics::RANKING_TIES;
use cellcast::score::{metrics, Breakdown, Score, ScoreOutcome};
use serde_json::{json, Map, Value};

pub use cellcast::report::fmt;

/// The JSON object `cellcast score --json` prints.
pub fn score_json(outcome: &ScoreOutcome) -> Value {
    let score = &outcome.score;
    let entries: Map<String, Value> = score.entries.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let details: Map<String, Value> = score.details.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let params: Map<String, Value> = outcome.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let mut out = Map::new();
    out.insert("metric".into(), json!(score.metric));
    out.insert("value".into(), json!(score.value));
    out.insert("direction".into(), json!(score.direction.as_str()));
    out.insert("params".into(), Value::Object(params));
    out.insert("n_scored".into(), json!(score.n_scored));
    out.insert("n_skipped".into(), json!(score.n_skipped));
    out.insert("n_masked".into(), json!(score.n_masked));
    if !details.is_empty() {
        out.insert("details".into(), Value::Object(details));
    }
    out.insert(score.breakdown.key().into(), Value::Object(entries));
    out.insert("warnings".into(), json!(score.warnings));
    Value::Object(out)
}

/// A short human summary: the value, then the best and worst entries.
pub fn print_score(score: &Score) -> Result<()> {
    let mut out = String::new();
    let unit = match score.breakdown {
        Breakdown::PerTarget => "targets",
        Breakdown::PerGroup => "groups",
        Breakdown::PerRow => "rows",
    };
    outln!(out, "{} = {} ({} is better)", score.metric, fmt(score.value), score.direction.as_str());
    outln!(out, "  scored {} {unit}, skipped {}", score.n_scored, score.n_skipped);
    if score.n_masked > 0 {
        outln!(out, "  masked {} missing truth cell(s)", score.n_masked);
    }
    for (k, v) in &score.details {
        outln!(out, "  {k}: {}", fmt(*v));
    }
    let mut ranked: Vec<&(String, f64)> = score.entries.iter().filter(|(_, v)| !v.is_nan()).collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    if ranked.len() > 1 {
        let mut show = |label: &str, items: &[&(String, f64)]| {
            let text: Vec<String> = items.iter().map(|(k, v)| format!("{k} {}", fmt(*v))).collect();
            outln!(out, "  {label}: {}", text.join(", "));
        };
        let n = ranked.len().min(3);
        show("lowest", &ranked[..n]);
        let top: Vec<&(String, f64)> = ranked.iter().rev().take(n).copied().collect();
        show("highest", &top);
    }
    outln!(out, "  (--json prints the score of every one of the {unit})");
    crate::emit(&out)
}

/// `cellcast metrics`.
pub fn print_registry(as_json: bool) -> Result<()> {
    let mut out = String::new();
    if as_json {
        let list: Vec<Value> = metrics()
            .iter()
            .map(|m| {
                json!({
                    "name": m.name,
                    "direction": m.direction,
                    "inputs": m.inputs,
                    "params": m.params.iter().map(|p| json!({"key": p.key, "default": p.default, "required": p.default.is_none(), "help": p.help})).collect::<Vec<_>>(),
                    "missing_truth": m.missing_truth,
                    "summary": m.summary,
                    "source": m.source,
                })
            })
            .collect();
        outln!(out, "{}", serde_json::to_string_pretty(&list)?);
        return crate::emit(&out);
    }
    for m in metrics() {
        outln!(out, "{}  ({} is better)", m.name, m.direction);
        outln!(out, "    {}", m.summary);
        outln!(out, "    inputs: {}", m.inputs);
        outln!(out, "    missing truth: {}", m.missing_truth);
        outln!(out, "    source: {}", m.source);
    }
    outln!(out, "\nRanking metrics rank candidates by score descending{RANKING_TIES}.");
    outln!(
        out,
        "Predictions, weights and baselines must be finite numbers, and so must truth, except where a metric masks\n\
         missing truth cells (said above, counted in --json's n_masked and in a warning)."
    );
    outln!(out, "`ranking/recall@5` is shorthand for `ranking/recall@k --param k=5`.");
    outln!(
        out,
        "celleval/* score per-perturbation pseudobulk tables (control row included); PDS ranks tied distances by\n\
         perturbation label order (numpy's stable argsort; cell-eval's default argsort leaves them to the platform)."
    );
    crate::emit(&out)
}
