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

/// What the notes on the models end with: how every model treats missing labels and molecules
/// that cannot be read.
const MISSING_NOTE: &str = "- Missing labels are skipped by the mean and kNN and imputed with the target mean for ridge; a compound that cannot be read gets the mean.";

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
    let _ = writeln!(r, "{MISSING_NOTE}\n");
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

/// `report.html`: the official score of every model with its bootstrap interval (shifted from
/// the difference to the mean onto the score scale) and its per-fold values, the rank table, and
/// the reliability plots.
pub fn html(o: &RunOutcome) -> String {
    let (cv, best, vs_mean) = (&o.cv, o.selected_index, &o.vs_mean);
    let mean_score = cv.models[o.mean_index].pooled[0].value;
    let folds: Vec<Vec<f64>> = cv.models.iter().map(|m| m.fold_scores.iter().map(|f| f[0].value).collect()).collect();
    let rows: Vec<plot::Row> = cv
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| plot::Row {
            label: &m.model,
            value: m.pooled[0].value,
            interval: (mean_score + vs_mean[i].ci_low, mean_score + vs_mean[i].ci_high),
            folds: &folds[i],
            highlight: i == best,
        })
        .collect();
    let metric = cv.metrics[0].name();
    let svg = plot::dot_plot(
        &format!("{metric}: pooled out-of-fold (dot), 95% bootstrap CI vs the mean (line), folds (grey)"),
        &format!("{} is better", cv.metrics[0].direction().as_str()),
        &rows,
    );
    let ranks = ranks(cv);
    let mut table = String::from("<table><tr><th>model</th>");
    for m in &cv.metrics {
        let _ = write!(table, "<th>{}</th>", m.name());
    }
    table.push_str("</tr>");
    for (i, m) in cv.models.iter().enumerate() {
        let _ = write!(table, "<tr{}><td>{}</td>", if i == best { r#" class="best""# } else { "" }, m.model);
        for (k, s) in m.pooled.iter().enumerate() {
            let _ = write!(table, "<td>{} <span class=\"rank\">#{}</span></td>", fmt(s.value), ranks[i][k]);
        }
        table.push_str("</tr>");
    }
    table.push_str("</table>");
    if !o.calibrations.is_empty() {
        table.push_str("<h2>Uncertainty calibration</h2><p>Details: report.md.</p>");
        for c in &o.calibrations {
            table.push_str(&calibration_svg(&c.model, &c.calibration));
        }
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>cellcast: {name}</title><style>\
         body{{font-family:sans-serif;margin:2em;max-width:70em}} table{{border-collapse:collapse}} \
         td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} td:first-child{{text-align:left}} \
         tr.best{{background:#fdecea}} .rank{{color:#888;font-size:small}}</style></head><body>\
         <h1>cellcast run: {name}</h1><p>Selected: <b>{best}</b>. Ranks per metric show where the metrics disagree.</p>\
         {svg}<h2>Pooled out-of-fold scores</h2>{table}<p>Details: report.md, leaderboard.csv, folds.csv.</p></body></html>\n",
        name = o.task.name,
        best = cv.models[best].model
    )
}
