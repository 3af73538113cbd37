//! The report of `compare`: who wins under the official metric, by how much against the
//! reference and against the runner-up, and whether that is real — in words and numbers first,
//! then the forest plot of the differences, the ranks under every metric with the inversions
//! marked, every pairwise difference, the metrics' agreement and the per-fold scores.

use std::fmt::Write as _;

use super::plot::{forest_plot, ForestRow};
use super::{fmt_p, fmt_sig};
use crate::compare::{CompareOutcome, Pair};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The spread the official metric's numbers are written to: the width of the scores' intervals.
fn official_span(o: &CompareOutcome) -> f64 {
    let official = &o.metrics[0].0;
    let widths: Vec<f64> = o
        .board
        .iter()
        .filter(|r| &r.metric == official)
        .map(|r| r.ci_high - r.ci_low)
        .filter(|w| w.is_finite() && *w > 0.0)
        .collect();
    widths.iter().copied().fold(f64::NAN, f64::min)
}

/// The spread a difference is written to: its interval's width.
fn pair_span(p: &Pair) -> f64 {
    let w = p.ci_high - p.ci_low;
    if w.is_finite() && w > 0.0 {
        w
    } else {
        p.delta.abs()
    }
}

fn pair_text(p: &Pair) -> String {
    let span = pair_span(p);
    format!(
        "Δ = {} [{}, {}], p {}",
        fmt_sig(p.delta, span),
        fmt_sig(p.ci_low, span),
        fmt_sig(p.ci_high, span),
        match fmt_p(p.p, p.p_resolution) {
            t if t.starts_with('<') => t,
            t => format!("= {t}"),
        }
    )
}

/// What the report opens with: the winner under the official metric, its difference from the
/// reference and from the runner-up with intervals and p-values, and plainly whether the
/// runner-up can be told apart; then any metric that puts another model first.
pub fn headline(o: &CompareOutcome) -> String {
    let (official, direction) = &o.metrics[0];
    let order = o.official_order();
    let span = official_span(o);
    let w = &o.models[order[0]];
    let Some(row) = o.row(w, official) else { return String::new() };
    let mut s = format!(
        "Under {official} ({} is better), {w} ranks first with {} [95% CI {}, {}].",
        direction.as_str(),
        fmt_sig(row.score, span),
        fmt_sig(row.ci_low, span),
        fmt_sig(row.ci_high, span)
    );
    let reference = &o.models[o.reference];
    if reference != w {
        if let Some(p) = o.pair(official, w, reference) {
            let verdict = if p.separated() { "a real difference" } else { "not distinguishable from it" };
            let _ = write!(s, " Against {reference}: {} — {verdict}.", pair_text(&p));
        }
    }
    if order.len() > 1 {
        let r = &o.models[order[1]];
        if r != reference || reference == w {
            if let Some(p) = o.pair(official, w, r) {
                if p.separated() {
                    let _ =
                        write!(s, " Against the runner-up {r}: {}; the lead is real at the 5% level.", pair_text(&p));
                } else {
                    let _ = write!(
                        s,
                        " Against the runner-up {r}: {}; the two cannot be told apart on these {} {}.",
                        pair_text(&p),
                        o.units,
                        o.unit_kind
                    );
                }
            }
        }
    }
    for (metric, _) in &o.metrics[1..] {
        if let Some(first) = o.board.iter().find(|b| &b.metric == metric && b.rank == 1) {
            if &first.model != w {
                let _ = write!(s, " Under {metric}, {} ranks first instead.", first.model);
            }
        }
    }
    s
}

/// Whose units the bootstrap resamples.
fn whose(o: &CompareOutcome) -> &'static str {
    if o.unit_kind == "perturbations" {
        "real screen's"
    } else {
        "truth's"
    }
}

/// The console summary: the official metric's leaderboard (score, rank, 95% CI), best first,
/// then the headline.
pub fn summary(o: &CompareOutcome) -> String {
    let official = &o.metrics[0].0;
    let width = o.models.iter().map(String::len).max().unwrap_or(5).max(5) + 2;
    let mut text = format!("{:<width$}{:>14}{:>6}{:>28}\n", "model", "score", "rank", "95% CI");
    for &m in &o.official_order() {
        if let Some(r) = o.row(&o.models[m], official) {
            let ci = format!("[{}, {}]", super::fmt(r.ci_low), super::fmt(r.ci_high));
            let _ = writeln!(text, "{:<width$}{:>14}{:>6}{ci:>28}", r.model, super::fmt(r.score), r.rank);
        }
    }
    let _ = writeln!(text, "\n{}", headline(o));
    text
}

/// `report.md`.
pub fn markdown(o: &CompareOutcome) -> String {
    let (official, _) = &o.metrics[0];
    let mut r = String::new();
    let _ = writeln!(r, "# cellcast compare: {} models\n", o.models.len());
    let _ = writeln!(r, "{}\n", headline(o));
    let _ = writeln!(
        r,
        "Paired bootstrap: {} resamples of the {} {} {}, seed {}; every model scored on the same draws by the \
         metric code `cellcast score` runs. Differences are row model minus column model.\n",
        o.bootstrap,
        whose(o),
        o.units,
        o.unit_kind,
        o.seed
    );
    let _ = writeln!(r, "## Ranks under every metric\n");
    let _ = writeln!(
        r,
        "| model | {} |",
        o.metrics.iter().map(|(m, d)| format!("{m} ({} better)", d.as_str())).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(r, "|---|{}", "---|".repeat(o.metrics.len()));
    for &m in &o.official_order() {
        let model = &o.models[m];
        let official_rank = o.row(model, official).map_or(0, |b| b.rank);
        let cells: Vec<String> = o
            .metrics
            .iter()
            .map(|(metric, _)| {
                o.row(model, metric).map_or(String::new(), |b| {
                    let mark = if b.rank != official_rank { " ⇄" } else { "" };
                    format!("{} (#{}){mark}", super::fmt(b.score), b.rank)
                })
            })
            .collect();
        let _ = writeln!(r, "| {model} | {} |", cells.join(" | "));
    }
    let _ = writeln!(r, "\n⇄: the rank differs from the official one.\n");
    let _ = writeln!(r, "## Pairwise differences under {official}\n");
    let _ = writeln!(r, "| model a | model b | Δ (a − b) | 95% CI | p |\n|---|---|---|---|---|");
    for p in &official_pairs(o) {
        let _ = writeln!(
            r,
            "| {} | {} | {} | [{}, {}] | {} |",
            p.model_a,
            p.model_b,
            fmt_sig(p.delta, pair_span(p)),
            fmt_sig(p.ci_low, pair_span(p)),
            fmt_sig(p.ci_high, pair_span(p)),
            fmt_p(p.p, p.p_resolution)
        );
    }
    if !o.agreement.is_empty() {
        let _ = writeln!(
            r,
            "\n## Do the metrics agree?\n\n| metric | metric | Kendall's τ | inversions |\n|---|---|---|---|"
        );
        for a in &o.agreement {
            let _ = writeln!(
                r,
                "| {} | {} | {:.2} | {} of {} pairs |",
                a.metric_a, a.metric_b, a.kendall_tau, a.inversions, a.pairs
            );
        }
    }
    if !o.folds.is_empty() {
        let folds = fold_names(o);
        let _ = writeln!(
            r,
            "\n## {official} per fold\n\n| model | {} |\n|---|{}",
            folds.join(" | "),
            "---|".repeat(folds.len())
        );
        for model in &o.models {
            let cells: Vec<String> =
                folds.iter().map(|f| fold_score(o, model, official, f).map_or(String::new(), super::fmt)).collect();
            let _ = writeln!(r, "| {model} | {} |", cells.join(" | "));
        }
    }
    if !o.warnings.is_empty() {
        let _ = writeln!(r, "\n## Warnings\n");
        for w in &o.warnings {
            let _ = writeln!(r, "- {w}");
        }
    }
    r
}

/// The official metric's pairs, each oriented better model first (Δ = better − worse), in the
/// official order.
fn official_pairs(o: &CompareOutcome) -> Vec<Pair> {
    let official = &o.metrics[0].0;
    let order = o.official_order();
    let mut out = Vec::new();
    for (i, &a) in order.iter().enumerate() {
        for &b in &order[i + 1..] {
            if let Some(p) = o.pair(official, &o.models[a], &o.models[b]) {
                out.push(p);
            }
        }
    }
    out
}

fn fold_names(o: &CompareOutcome) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for f in &o.folds {
        if !names.contains(&f.fold) {
            names.push(f.fold.clone());
        }
    }
    names
}

fn fold_score(o: &CompareOutcome, model: &str, metric: &str, fold: &str) -> Option<f64> {
    o.folds.iter().find(|f| f.model == model && f.metric == metric && f.fold == fold).map(|f| f.score)
}

/// `report.html`: one self-contained page (no network, no script).
pub fn html(o: &CompareOutcome) -> String {
    let (official, direction) = &o.metrics[0];
    let order = o.official_order();
    let reference = &o.models[o.reference];
    let mut body = String::new();
    // The headline, with its numbers as attributes for scripts that read the page.
    let winner = &o.models[order[0]];
    let _ = write!(body, r#"<p id="headline" data-winner="{}" data-metric="{}""#, escape(winner), escape(official));
    if let Some(p) = o.pair(official, winner, reference).filter(|_| winner != reference) {
        let _ = write!(
            body,
            r#" data-reference="{}" data-delta="{}" data-ci-low="{}" data-ci-high="{}" data-p="{}""#,
            escape(reference),
            p.delta,
            p.ci_low,
            p.ci_high,
            p.p
        );
    }
    let _ = write!(body, ">{}</p>", escape(&headline(o)));

    let rows: Vec<(String, Pair)> = order
        .iter()
        .filter(|&&m| m != o.reference)
        .filter_map(|&m| o.pair(official, &o.models[m], reference).map(|p| (o.models[m].clone(), p)))
        .collect();
    if !rows.is_empty() {
        let forest: Vec<ForestRow> = rows
            .iter()
            .map(|(m, p)| ForestRow {
                label: m,
                delta: p.delta,
                interval: (p.ci_low, p.ci_high),
                highlight: m == winner,
            })
            .collect();
        let better_side = match direction {
            cellcast_metrics::Direction::LowerIsBetter => "negative is better",
            cellcast_metrics::Direction::HigherIsBetter => "positive is better",
        };
        let _ = write!(
            body,
            "<h2>Difference from {} under {}</h2><figure>{}</figure>",
            escape(reference),
            escape(official),
            forest_plot(
                &format!("Δ {official} vs {reference}, 95% paired-bootstrap CI"),
                &format!("Δ {official} ({better_side}); 0 = {reference}"),
                &forest
            )
        );
    }

    let _ = write!(body, "<h2>Ranks under every metric</h2><table class=\"num\"><tr><th>model</th>");
    for (m, d) in &o.metrics {
        let _ = write!(body, "<th>{}<br><small>{} is better</small></th>", escape(m), d.as_str());
    }
    body.push_str("</tr>");
    for &m in &order {
        let model = &o.models[m];
        let official_rank = o.row(model, official).map_or(0, |b| b.rank);
        let class = if m == order[0] { r#" class="winner""# } else { "" };
        let _ = write!(body, "<tr{class}><td>{}</td>", escape(model));
        for (metric, _) in &o.metrics {
            match o.row(model, metric) {
                Some(b) => {
                    let inv = if b.rank != official_rank {
                        r#" class="inversion" title="rank differs from the official one""#
                    } else {
                        ""
                    };
                    let _ =
                        write!(body, "<td{inv}>{} <span class=\"rank\">#{}</span></td>", super::fmt(b.score), b.rank);
                }
                None => body.push_str("<td></td>"),
            }
        }
        body.push_str("</tr>");
    }
    body.push_str(
        "</table><p class=\"note\">Shaded: the metric ranks the model differently from the official metric.</p>",
    );

    let _ = write!(
        body,
        "<h2>Pairwise differences under {}</h2><p class=\"note\">Each pair better model first.</p><table class=\"num\"><tr><th>model a</th><th class=\"t\">model b</th><th>Δ (a − b)</th><th>95% CI</th><th>p</th></tr>",
        escape(official)
    );
    for p in &official_pairs(o) {
        let class = if p.separated() { "" } else { r#" class="tie""# };
        let _ = write!(
            body,
            "<tr{class}><td>{}</td><td class=\"t\">{}</td><td>{}</td><td>[{}, {}]</td><td>{}</td></tr>",
            escape(&p.model_a),
            escape(&p.model_b),
            fmt_sig(p.delta, pair_span(p)),
            fmt_sig(p.ci_low, pair_span(p)),
            fmt_sig(p.ci_high, pair_span(p)),
            escape(&fmt_p(p.p, p.p_resolution))
        );
    }
    body.push_str(
        "</table><p class=\"note\">Grey rows: the interval contains 0 — the two models cannot be told apart.</p>",
    );

    if !o.agreement.is_empty() {
        body.push_str("<h2>Do the metrics agree?</h2><table class=\"num\"><tr><th>metric</th><th class=\"t\">metric</th><th>Kendall's τ</th><th>inversions</th></tr>");
        for a in &o.agreement {
            let _ = write!(
                body,
                "<tr><td>{}</td><td class=\"t\">{}</td><td>{:.2}</td><td>{} of {}</td></tr>",
                escape(&a.metric_a),
                escape(&a.metric_b),
                a.kendall_tau,
                a.inversions,
                a.pairs
            );
        }
        body.push_str("</table>");
    }
    if !o.folds.is_empty() {
        let folds = fold_names(o);
        let _ = write!(body, "<h2>{} per fold</h2><table class=\"num\"><tr><th>model</th>", escape(official));
        for f in &folds {
            let _ = write!(body, "<th>fold {}</th>", escape(f));
        }
        body.push_str("</tr>");
        for &m in &order {
            let _ = write!(body, "<tr><td>{}</td>", escape(&o.models[m]));
            for f in &folds {
                let v = fold_score(o, &o.models[m], official, f).map_or(String::new(), super::fmt);
                let _ = write!(body, "<td>{v}</td>");
            }
            body.push_str("</tr>");
        }
        body.push_str("</table>");
    }
    if !o.warnings.is_empty() {
        body.push_str("<h2>Warnings</h2><ul>");
        for w in &o.warnings {
            let _ = write!(body, "<li>{}</li>", escape(w));
        }
        body.push_str("</ul>");
    }
    let _ = write!(
        body,
        "<p class=\"note\">Paired bootstrap: {} resamples of the {} {} {}, seed {}; every model scored on the same draws by \
         the metric code <code>cellcast score</code> runs. Files: <a href=\"leaderboard.csv\">leaderboard.csv</a>, \
         <a href=\"pairwise.csv\">pairwise.csv</a>, <a href=\"rank_agreement.csv\">rank_agreement.csv</a>, \
         <a href=\"report.md\">report.md</a>.</p>",
        o.bootstrap, whose(o), o.units, o.unit_kind, o.seed
    );
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>cellcast compare</title><style>{STYLE}</style></head><body><h1>cellcast compare: {} models</h1>{body}</body></html>\n",
        o.models.len()
    )
}

/// The page's look, shared by the reports.
pub const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:76em;padding:0 1.5em;color:#222;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.3em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
#headline{font-size:1.12em;background:#f4f8fb;border-left:4px solid #2c6e9b;padding:.8em 1em}\
figure{margin:0;overflow-x:auto}svg{max-width:100%;height:auto}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d5d5d5;padding:5px 10px;text-align:right;font-variant-numeric:tabular-nums}\
td:first-child{overflow-wrap:anywhere;max-width:24em}table.num td{white-space:nowrap}table.num td:first-child{white-space:normal}td.tie{color:#777}\
th{background:#f2f2f2}td:first-child,th:first-child,td.t,th.t{text-align:left}tr.winner td:first-child{font-weight:bold}\
td.inversion{background:#fdebd0}tr.tie td{color:#777}.rank{color:#888;font-size:.85em}.note{color:#555;font-size:.9em}";
