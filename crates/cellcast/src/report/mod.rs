//! What a run says to people: the console leaderboard, `report.md`, `report.html` and their
//! charts, rendered from the run's typed outcome ([`RunOutcome`]) only — never from how the run
//! was asked for — so the CLI, the Python package and tests render the same text.

pub mod calibration;
pub mod compare;
pub mod plot;
pub mod programs;

use std::fmt::Write as _;

use cellcast_data::task::{Benchmark, LabelKind, Layout};
use cellcast_eval::{Comparison, CvResult};
use cellcast_metrics::Direction;

use crate::run::RunOutcome;

/// A number as every cellcast table prints it: six decimals, or scientific for the very small
/// and very large.
pub fn fmt(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e6) {
        format!("{v:.6e}")
    } else {
        format!("{v:.6}")
    }
}

/// `v` with as many decimals as a quantity that varies over `span` needs (two significant
/// digits of the span), no more: 3.854 and −0.005, not 3.853912 and −0.004871.
pub fn fmt_sig(v: f64, span: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() { "NaN".into() } else { format!("{v}") };
    }
    let scale = if span.is_finite() && span > 0.0 { span } else { v.abs().max(1e-12) };
    let decimals = (1.0 - scale.log10().floor()).clamp(0.0, 12.0) as usize;
    let s = format!("{v:.decimals$}");
    // No "-0.000".
    if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// A p-value as a reader takes it: "< 0.001" when no resample crossed zero (the bootstrap
/// cannot say more with `1 / resolution` resamples), else two significant digits.
pub fn fmt_p(p: f64, resolution: f64) -> String {
    if p.is_nan() {
        return "n/a".into();
    }
    if p <= resolution {
        return format!("< {}", fmt_sig(resolution, resolution * 10.0).trim_end_matches('0'));
    }
    if p >= 0.1 {
        format!("{p:.2}")
    } else {
        let decimals = (1.0 - p.log10().floor()) as usize;
        format!("{p:.decimals$}")
    }
}

/// Whether `a` beats `b` under `direction`.
pub fn better(direction: Direction, a: f64, b: f64) -> bool {
    match direction {
        Direction::LowerIsBetter => a < b,
        Direction::HigherIsBetter => a > b,
    }
}

/// Rank (1 = best, ties share the better rank) of each model under each metric.
pub fn ranks(cv: &CvResult) -> Vec<Vec<usize>> {
    (0..cv.models.len())
        .map(|m| {
            (0..cv.metrics.len())
                .map(|k| {
                    let v = cv.models[m].pooled[k].value;
                    1 + cv.models.iter().filter(|o| better(cv.metrics[k].direction(), o.pooled[k].value, v)).count()
                })
                .collect()
        })
        .collect()
}

/// The console leaderboard: every metric with its rank, then the official metric's
/// paired-bootstrap difference to the mean baseline and to the selected model.
pub fn summary_table(cv: &CvResult, best: usize, vs_mean: &[Comparison], vs_best: &[Comparison]) -> String {
    let ranks = ranks(cv);
    let width = cv.models.iter().map(|m| m.model.len()).max().unwrap_or(5) + 2;
    let mut s = String::new();
    let _ = write!(s, "{:<width$}", "model");
    for m in &cv.metrics {
        let _ = write!(s, "{:>30}", m.name());
    }
    let _ = writeln!(s, "{:>34}{:>34}", "Δ official vs mean [95% CI]", "Δ vs selected [95% CI]");
    for (i, model) in cv.models.iter().enumerate() {
        let mark = if i == best { "*" } else { " " };
        let _ = write!(s, "{mark}{:<w$}", model.model, w = width - 1);
        for (k, score) in model.pooled.iter().enumerate() {
            let _ = write!(s, "{:>30}", format!("{} (#{})", fmt(score.value), ranks[i][k]));
        }
        for c in [&vs_mean[i], &vs_best[i]] {
            let _ = write!(s, "{:>34}", format!("{} [{}, {}]", fmt(c.difference), fmt(c.ci_low), fmt(c.ci_high)));
        }
        s.push('\n');
    }
    let _ = writeln!(s, "* selected (best cross-validated {}); ranks per metric in parentheses", cv.metrics[0].name());
    s
}

/// The file name of a model's reliability plot.
pub fn calibration_file(model: &str) -> String {
    format!("calibration_{}.svg", calibration::file_stem(model))
}

/// A model's reliability plot (SVG).
pub fn calibration_svg(model: &str, c: &cellcast_eval::Calibration) -> String {
    let points: Vec<(f64, f64)> = c.deciles.iter().map(|b| (b.rms_sigma, b.rmse)).collect();
    plot::reliability_plot(&format!("{model}: σ deciles, claimed vs made"), &points)
}

/// What the notes on the models end with: how the models that ran treat missing labels and
/// molecules that cannot be read.
fn missing_note(models: &[&str]) -> String {
    let has = |part: &str| models.iter().any(|m| m.contains(part));
    let mut skipped = vec!["the mean"];
    if has("knn") {
        skipped.push("kNN");
    }
    let mut s = format!("- Missing labels are skipped by {}", skipped.join(" and "));
    if has("ridge") {
        s.push_str(" and imputed with the target mean for ridge");
    }
    s.push_str("; a compound that cannot be read gets the mean.");
    s
}

/// `report.md`.
pub fn markdown(o: &RunOutcome) -> String {
    let (task, cv, best) = (&o.task, &o.cv, o.selected_index);
    let mut r = String::new();
    let _ = writeln!(r, "# cellcast run: {}\n", task.name);
    let what = match &task.layout {
        Layout::Wide => format!("{} test compounds, {} targets", task.test_ids.len(), task.targets.len()),
        Layout::Pairs(p) => format!(
            "{} test compounds in {} (compound, {}) pairs; {} {}s measured in training, {} compound–{} pairs labelled",
            task.test_ids.len(),
            p.cells.len(),
            p.target_column,
            task.targets.len(),
            p.target_column,
            task.train_y.as_slice().iter().filter(|v| !v.is_nan()).count(),
            p.target_column
        ),
    };
    let _ = writeln!(
        r,
        "{} training compounds, {what}. Official metric: `{}`. \
         Cross-validation: {}; seed {}; {} paired bootstrap resamples over compounds.\n",
        task.train_ids.len(),
        task.metric,
        o.split,
        o.seed,
        o.bootstrap
    );
    if task.labels == LabelKind::Binary {
        let _ = writeln!(
            r,
            "Binary labels: scores are ranked per compound. {} of {} training compounds have a positive and are scored; {} are skipped (Polaris `on_error=ignore`).\n",
            o.scored,
            task.train_ids.len(),
            task.train_ids.len() - o.scored
        );
    }
    let chose = o.fit_description.as_deref().map(|d| format!(" (fit on all of train: {d})")).unwrap_or_default();
    let _ = writeln!(
        r,
        "Selected: **{}**{chose}, refit on all training compounds for `submission.csv`.\n",
        cv.models[best].model
    );
    let _ = writeln!(r, "{}\n", headline(o));
    let _ = writeln!(r, "## Pooled out-of-fold scores\n\n```\n{}```\n", o.summary);
    let _ = writeln!(r, "## Per-fold {}\n", cv.metrics[0].name());
    let _ = writeln!(r, "| model | {} |", (0..o.folds).map(|f| format!("fold {f}")).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(r, "|---|{}", "---|".repeat(o.folds));
    for m in &cv.models {
        let cells: Vec<String> = m.fold_scores.iter().map(|f| fmt(f[0].value)).collect();
        let _ = writeln!(r, "| {} | {} |", m.model, cells.join(" | "));
    }
    let _ = writeln!(r, "\n## Models\n");
    for note in &o.model_notes {
        let _ = writeln!(r, "{note}");
    }
    let names: Vec<&str> = cv.models.iter().map(|m| m.model.as_str()).collect();
    let _ = writeln!(r, "{}\n", missing_note(&names));
    if task.benchmark == Some(Benchmark::Rxrx3Core) {
        let _ = writeln!(r, "{RXRX3_DIFFERENCES}");
    }
    if let Some(u) = &o.unreadable {
        let _ = writeln!(r, "{}", unreadable_section(u));
    }
    for c in &o.calibrations {
        let _ = writeln!(r, "{}", calibration::markdown(&c.model, &c.calibration, &calibration_file(&c.model)));
    }
    if let Some(p) = &o.programs {
        let _ =
            writeln!(r, "{}", programs::markdown(p, &cv.models[best].model, &task.targets, o.gene_symbols.as_ref()));
    }
    r
}

fn unreadable_section(u: &crate::run::Unreadable) -> String {
    let total = u.lines.len();
    let mut section = format!(
        "## Unreadable molecules\n\n{total} molecule(s) could not be read ({} training, {} test compounds).\n\n",
        total - u.test,
        u.test
    );
    for line in &u.lines {
        section.push_str(&format!("- {}\n", line.replace('|', "\\|")));
    }
    section
}

/// What a reader of an RxRx3 compound–gene report must know before comparing its numbers with
/// Recursion's published ones.
const RXRX3_DIFFERENCES: &str = "## Differences from the upstream RxRx3-core benchmark

- Labels: `active = 1` when the best measured potency (IC50/EC50) is ≤ 1 µM, `active = 0` when it is ≥ 10 µM; pairs in between are dropped (the benchmark's thresholds applied to its compound–gene annotations).
- Negatives: each compound also gets up to 20 randomly drawn RxRx3-core genes as negatives, as the benchmark's negative sampling does; so the gene prior and \"does this gene have any known ligand\" carry signal a real screen would not.
- No images: the upstream zero-shot method scores pairs by |cosine| between OpenPhenom embeddings of compound and knockout wells. Those embeddings are not available here, so every model above uses chemistry and training labels only; the embedding pipeline (`cellcast phenomics`) runs when per-well embeddings are supplied.
- Split: test compounds are whole scaffold groups held out from training, so scores measure generalisation to new chemotypes; upstream evaluates all annotated compounds zero-shot.
";

/// `Δ = d [lo, hi], p …`, each number to the precision its interval supports.
pub fn difference_text(c: &Comparison) -> String {
    let w = c.ci_high - c.ci_low;
    let span = if w.is_finite() && w > 0.0 { w } else { c.difference.abs() };
    let p = fmt_p(c.p_value, 1.0 / c.resamples.max(1) as f64);
    format!(
        "Δ = {} [{}, {}], p {}",
        fmt_sig(c.difference, span),
        fmt_sig(c.ci_low, span),
        fmt_sig(c.ci_high, span),
        if p.starts_with('<') { p } else { format!("= {p}") }
    )
}

/// `c` seen from the other side: b − a.
fn flipped(c: &Comparison) -> Comparison {
    Comparison { difference: -c.difference, ci_low: -c.ci_high, ci_high: -c.ci_low, ..c.clone() }
}

/// Whether an interval excludes 0.
fn separated(c: &Comparison) -> bool {
    c.ci_low > 0.0 || c.ci_high < 0.0
}

/// The models in order of the official pooled score, best first.
fn official_order(cv: &CvResult) -> Vec<usize> {
    let direction = cv.metrics[0].direction();
    let mut order: Vec<usize> = (0..cv.models.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (cv.models[a].pooled[0].value, cv.models[b].pooled[0].value);
        if better(direction, x, y) {
            std::cmp::Ordering::Less
        } else if better(direction, y, x) {
            std::cmp::Ordering::Greater
        } else {
            a.cmp(&b)
        }
    });
    order
}

/// What a run's report opens with: the winner under the official metric, its difference from
/// the mean baseline and from the runner-up (intervals, p-values), plainly whether the
/// runner-up can be told apart, and which model the submission comes from.
pub fn headline(o: &RunOutcome) -> String {
    let cv = &o.cv;
    let metric = cv.metrics[0].name();
    let order = official_order(cv);
    let (top, selected) = (order[0], o.selected_index);
    // Differences are measured against the selected model; seen from the top model when it
    // is the selected one.
    let name = |i: usize| cv.models[i].model.as_str();
    let w = o.vs_mean[top].ci_high - o.vs_mean[top].ci_low;
    let mut s = format!(
        "Under {metric} ({} is better, pooled out of fold), {} ranks first with {}.",
        cv.metrics[0].direction().as_str(),
        name(top),
        if w.is_finite() && w > 0.0 {
            fmt_sig(cv.models[top].pooled[0].value, w / 10.0)
        } else {
            fmt(cv.models[top].pooled[0].value)
        }
    );
    if top != o.mean_index {
        let c = &o.vs_mean[top];
        let verdict = if separated(c) { "a real difference" } else { "not distinguishable from it" };
        let _ = write!(s, " Against the mean baseline: {} — {verdict}.", difference_text(c));
    }
    if let Some(&runner) = order.get(1) {
        // top − runner: from the comparisons with the selected model.
        let c = if top == selected {
            Some(flipped(&o.vs_best[runner]))
        } else if runner == selected {
            Some(o.vs_best[top].clone())
        } else {
            None
        };
        if let Some(c) = c {
            if separated(&c) {
                let _ = write!(
                    s,
                    " Against the runner-up {}: {}; the lead is real at the 5% level.",
                    name(runner),
                    difference_text(&c)
                );
            } else {
                let _ = write!(
                    s,
                    " Against the runner-up {}: {}; the two cannot be told apart on these {} compounds.",
                    name(runner),
                    difference_text(&c),
                    o.scored
                );
            }
        }
    }
    if top != selected {
        let _ = write!(
            s,
            " {} is an outside model (not refit here), so the submission comes from {}, the best panel model ({} against {}).",
            name(top),
            name(selected),
            difference_text(&o.vs_best[top]),
            name(selected)
        );
    }
    for (k, m) in cv.metrics.iter().enumerate().skip(1) {
        let direction = m.direction();
        let first = (0..cv.models.len()).reduce(|a, b| {
            if better(direction, cv.models[b].pooled[k].value, cv.models[a].pooled[k].value) {
                b
            } else {
                a
            }
        });
        if let Some(f) = first.filter(|&f| f != top) {
            let _ = write!(s, " Under {}, {} ranks first instead.", m.name(), name(f));
        }
    }
    s
}

/// The subset of Markdown the report's sections use (headings, paragraphs, lists, tables,
/// bold, code) as HTML, so the HTML page carries every section of report.md without a second
/// copy of its text.
pub fn markdown_to_html(md: &str) -> String {
    fn inline(t: &str) -> String {
        let t = t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let mut out = String::new();
        let (mut bold, mut code) = (false, false);
        let mut chars = t.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    out.push_str(if bold { "</b>" } else { "<b>" });
                    bold = !bold;
                }
                '`' => {
                    out.push_str(if code { "</code>" } else { "<code>" });
                    code = !code;
                }
                _ => out.push(c),
            }
        }
        out
    }
    let mut html = String::new();
    let mut in_list = false;
    let mut in_table = false;
    for line in md.lines() {
        let l = line.trim_end();
        if in_list && !l.starts_with("- ") {
            html.push_str("</ul>");
            in_list = false;
        }
        if in_table && !l.starts_with('|') {
            html.push_str("</table>");
            in_table = false;
        }
        if let Some(h) = l.strip_prefix("## ") {
            let _ = write!(html, "<h2>{}</h2>", inline(h));
        } else if let Some(item) = l.strip_prefix("- ") {
            if !in_list {
                html.push_str("<ul>");
                in_list = true;
            }
            let _ = write!(html, "<li>{}</li>", inline(item));
        } else if l.starts_with('|') {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            if cells.iter().all(|c| c.chars().all(|ch| ch == '-' || ch == ':')) {
                continue;
            }
            let tag = if in_table { "td" } else { "th" };
            if !in_table {
                html.push_str("<table>");
                in_table = true;
            }
            html.push_str("<tr>");
            for c in cells {
                let _ = write!(html, "<{tag}>{}</{tag}>", inline(c));
            }
            html.push_str("</tr>");
        } else if !l.is_empty() {
            let _ = write!(html, "<p>{}</p>", inline(l));
        }
    }
    if in_list {
        html.push_str("</ul>");
    }
    if in_table {
        html.push_str("</table>");
    }
    html
}

/// `report.html`: the answer first (the headline), the forest plot of every model's difference
/// from the mean baseline, the ranks under every metric with the inversions shaded, every model
/// against the selected one, the per-fold scores, then the gene programs and the calibration.
pub fn html(o: &RunOutcome) -> String {
    let (cv, best) = (&o.cv, o.selected_index);
    let metric = cv.metrics[0].name();
    let order = official_order(cv);
    let esc = |t: &str| t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut body = String::new();
    let top = order[0];
    let c = &o.vs_mean[top];
    let _ = write!(
        body,
        r#"<p class="task">{} training compounds ({} scored), official metric <b>{}</b>; cross-validation: {}; seed {}; {} paired bootstrap resamples over compounds.</p>"#,
        o.task.train_ids.len(),
        o.scored,
        esc(&metric),
        esc(&o.split),
        o.seed,
        o.bootstrap
    );
    let _ = write!(
        body,
        r#"<p id="headline" data-winner="{}" data-selected="{}" data-metric="{}" data-delta-vs-mean="{}" data-ci-low="{}" data-ci-high="{}" data-p="{}">{}</p>"#,
        esc(&cv.models[top].model),
        esc(&cv.models[best].model),
        esc(&metric),
        c.difference,
        c.ci_low,
        c.ci_high,
        c.p_value,
        esc(&headline(o))
    );
    let rows: Vec<plot::ForestRow> = order
        .iter()
        .filter(|&&i| i != o.mean_index)
        .map(|&i| plot::ForestRow {
            label: &cv.models[i].model,
            delta: o.vs_mean[i].difference,
            interval: (o.vs_mean[i].ci_low, o.vs_mean[i].ci_high),
            highlight: i == best,
        })
        .collect();
    let better_side = match cv.metrics[0].direction() {
        Direction::LowerIsBetter => "negative is better",
        Direction::HigherIsBetter => "positive is better",
    };
    let _ = write!(
        body,
        "<h2>Difference from the mean baseline</h2><figure>{}</figure>",
        plot::forest_plot(
            &format!("Δ {metric} vs mean, pooled out of fold, 95% paired-bootstrap CI"),
            &format!("Δ {metric} ({better_side}); 0 = the mean baseline"),
            &rows
        )
    );
    let ranks = ranks(cv);
    body.push_str("<h2>Ranks under every metric</h2><table class=\"num\"><tr><th>model</th>");
    for m in &cv.metrics {
        let _ = write!(body, "<th>{}<br><small>{} is better</small></th>", esc(&m.name()), m.direction().as_str());
    }
    body.push_str("</tr>");
    for &i in &order {
        let m = &cv.models[i];
        let class = if i == best { r#" class="winner""# } else { "" };
        let _ = write!(body, "<tr{class}><td>{}</td>", esc(&m.model));
        for (k, s) in m.pooled.iter().enumerate() {
            let inv = if ranks[i][k] != ranks[i][0] { r#" class="inversion""# } else { "" };
            let _ = write!(body, "<td{inv}>{} <span class=\"rank\">#{}</span></td>", fmt(s.value), ranks[i][k]);
        }
        body.push_str("</tr>");
    }
    body.push_str(
        "</table><p class=\"note\">Shaded: the metric ranks the model differently from the official metric.</p>",
    );
    let _ = write!(
        body,
        "<h2>Every model against the selected one and the mean ({})</h2><table class=\"num\"><tr><th>model</th>\
         <th>Δ vs selected</th><th>95% CI</th><th>p</th><th>Δ vs mean</th><th>95% CI</th><th>p</th></tr>",
        esc(&metric)
    );
    for &i in &order {
        let _ = write!(
            body,
            "<tr{}><td>{}</td>",
            if i == best { r#" class="winner""# } else { "" },
            esc(&cv.models[i].model)
        );
        for (c, same) in [(&o.vs_best[i], i == best), (&o.vs_mean[i], i == o.mean_index)] {
            if same {
                body.push_str("<td>—</td><td></td><td></td>");
                continue;
            }
            let w = c.ci_high - c.ci_low;
            let span = if w.is_finite() && w > 0.0 { w } else { c.difference.abs() };
            let class = if separated(c) { "" } else { r#" class="tie""# };
            let _ = write!(
                body,
                "<td{class}>{}</td><td{class}>[{}, {}]</td><td{class}>{}</td>",
                fmt_sig(c.difference, span),
                fmt_sig(c.ci_low, span),
                fmt_sig(c.ci_high, span),
                esc(&fmt_p(c.p_value, 1.0 / c.resamples.max(1) as f64))
            );
        }
        body.push_str("</tr>");
    }
    body.push_str(
        "</table><p class=\"note\">Δ is this model minus the other under the official metric, paired bootstrap over \
         compounds; grey: the interval contains 0, the two cannot be told apart.</p>",
    );
    let _ = write!(body, "<h2>{} per fold</h2><table class=\"num\"><tr><th>model</th>", esc(&metric));
    for f in 0..o.folds {
        let _ = write!(body, "<th>fold {f}</th>");
    }
    body.push_str("</tr>");
    for &i in &order {
        let m = &cv.models[i];
        let _ = write!(body, "<tr><td>{}</td>", esc(&m.model));
        for f in &m.fold_scores {
            let _ = write!(body, "<td>{}</td>", fmt(f[0].value));
        }
        body.push_str("</tr>");
    }
    body.push_str("</table>");
    if let Some(p) = &o.programs {
        body.push_str(&markdown_to_html(&programs::markdown(
            p,
            &cv.models[best].model,
            &o.task.targets,
            o.gene_symbols.as_ref(),
        )));
    }
    for c in &o.calibrations {
        body.push_str(&markdown_to_html(&calibration::markdown(&c.model, &c.calibration, &calibration_file(&c.model))));
        body.push_str(&calibration_svg(&c.model, &c.calibration));
    }
    body.push_str(
        "<p class=\"note\">Files: <a href=\"report.md\">report.md</a> (models and notes), \
         <a href=\"leaderboard.csv\">leaderboard.csv</a>, <a href=\"folds.csv\">folds.csv</a>, \
         <a href=\"submission.csv\">submission.csv</a>.</p>",
    );
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>cellcast run: {name}</title><style>{style}</style></head><body><h1>cellcast run: {name}</h1>{body}</body></html>\n",
        name = esc(&o.task.name),
        style = compare::STYLE
    )
}
