//! `cellcast run TASK_DIR`: load → featurize → split → cross-validate the panel → score under the
//! official metric and the panel → bootstrap → select → refit → submission and report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use cellcast_data::output::{Column, OutputTable};
use cellcast_data::split::{group_kfold, random_kfold, Part, SplitTable};
use cellcast_data::task::RegressionTask;
use cellcast_data::write::{format_number, write_atomically, write_matrix_csv};
use cellcast_eval::{cross_validate, paired_bootstrap, Comparison, CvResult, PanelMetric};
use cellcast_metrics::Direction;
use cellcast_models::{Average, Features, Kernel, MeanResponse, Predictor, RetrievalKnn, RidgeGcv, TunedKnn};
use cellcast_stats::Matrix;
use indicatif::{ProgressBar, ProgressStyle};

use crate::report::fmt;

/// How the training compounds are split for cross-validation.
#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq, Debug)]
pub enum SplitKind {
    /// Whole Bemis–Murcko scaffold groups per fold (scikit-learn GroupKFold): new chemistry.
    Scaffold,
    /// Seeded random folds: optimistic when test compounds resemble training ones.
    Random,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Task folder with train.csv, test_features.csv and sample_submission.csv.
    pub task: PathBuf,
    /// Output folder (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "scaffold")]
    pub split: SplitKind,
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Paired bootstrap resamples over compounds.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// The model panel: baselines, tuned retrieval, fixed retrieval references and ridge.
pub fn panel(seed: u64) -> Vec<Box<dyn Predictor>> {
    let knn = |k, kernel| -> Box<dyn Predictor> { Box::new(RetrievalKnn { k, kernel }) };
    vec![
        Box::new(MeanResponse),
        Box::new(TunedKnn::standard(seed)),
        knn(1, Kernel::Uniform),
        knn(10, Kernel::Tanimoto),
        knn(50, Kernel::Tanimoto),
        Box::new(RidgeGcv::standard()),
        Box::new(Average { members: vec![Box::new(TunedKnn::standard(seed)), Box::new(RidgeGcv::standard())] }),
    ]
}

fn metrics(official: &str) -> Vec<PanelMetric> {
    vec![
        PanelMetric::Registry(official.to_string()),
        PanelMetric::Registry("mejia/wmse".into()),
        PanelMetric::RowPearson,
        PanelMetric::RowCosine,
    ]
}

/// Folds of the training compounds and their groups (scaffolds, or empty for random).
pub fn make_folds(
    smiles: &[Option<String>],
    ids: &[String],
    kind: SplitKind,
    folds: usize,
    seed: u64,
) -> Result<(Vec<usize>, Vec<String>)> {
    Ok(match kind {
        SplitKind::Random => (random_kfold(smiles.len(), folds, seed)?, vec![String::new(); smiles.len()]),
        SplitKind::Scaffold => {
            let mols = crate::chem_cmd::Molecules { ids: ids.to_vec(), smiles: smiles.to_vec() };
            let groups = crate::chem_cmd::scaffold_groups(&mols);
            (group_kfold(&groups, folds)?, groups)
        }
    })
}

fn better(direction: Direction, a: f64, b: f64) -> bool {
    match direction {
        Direction::LowerIsBetter => a < b,
        Direction::HigherIsBetter => a > b,
    }
}

/// Per-compound official loss (mean squared error over the compound's observed targets), the
/// unit the paired bootstrap resamples.
fn row_losses(truth: &Matrix, pred: &Matrix) -> Vec<f64> {
    truth
        .rows()
        .zip(pred.rows())
        .map(|(t, p)| {
            let (s, n) = t
                .iter()
                .zip(p)
                .filter(|(a, _)| !a.is_nan())
                .fold((0.0, 0usize), |(s, n), (a, b)| (s + (a - b) * (a - b), n + 1));
            if n == 0 {
                0.0
            } else {
                s / n as f64
            }
        })
        .collect()
}

pub fn run(args: &RunArgs) -> Result<()> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global()?;
    }
    let task =
        RegressionTask::load(&args.task).with_context(|| format!("loading the task in {}", args.task.display()))?;
    eprintln!(
        "task {}: {} training compounds, {} test compounds, {} targets; official metric {}",
        task.name,
        task.train_ids.len(),
        task.test_ids.len(),
        task.targets.len(),
        task.metric
    );
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let all_smiles: Vec<Option<String>> = task.train_smiles.iter().chain(&task.test_smiles).cloned().collect();
    let features = Features::from_smiles(&all_smiles);
    let unreadable = features.morgan.iter().filter(|f| f.is_none()).count();
    if unreadable > 0 {
        eprintln!("note: {unreadable} molecule(s) could not be read; models predict the training mean for them");
    }
    let n_train = task.train_ids.len();
    let (folds, groups) = make_folds(&task.train_smiles, &task.train_ids, args.split, args.folds, args.seed)?;
    let split_table =
        SplitTable { ids: task.train_ids.clone(), groups, parts: folds.iter().map(|&f| Part::Fold(f)).collect() };
    split_table.write(&args.out.join("folds.csv"))?;

    let models = panel(args.seed);
    let metric_panel = metrics(&task.metric);
    let bar = ProgressBar::new((models.len() * args.folds) as u64);
    bar.set_style(
        ProgressStyle::with_template("cross-validation [{bar:30}] {pos}/{len} {msg}")
            .expect("template")
            .progress_chars("=> "),
    );
    let train_rows: Vec<usize> = (0..n_train).collect();
    let cv = cross_validate(
        &models,
        &features,
        &train_rows,
        &task.train_y,
        &task.train_ids,
        &task.targets,
        &folds,
        args.folds,
        &metric_panel,
        &|model, fold| {
            bar.set_message(format!("{model} fold {fold}"));
            bar.inc(1);
        },
    )?;
    bar.finish_and_clear();

    // Selection: the best pooled out-of-fold official score.
    let direction = metric_panel[0].direction();
    let best = (0..cv.models.len())
        .reduce(
            |a, b| if better(direction, cv.models[b].pooled[0].value, cv.models[a].pooled[0].value) { b } else { a },
        )
        .expect("non-empty panel");
    let mean_idx = cv.models.iter().position(|m| m.model == "mean").expect("the panel has the mean");
    let losses: Vec<Vec<f64>> = cv.models.iter().map(|m| row_losses(&task.train_y, &m.oof)).collect();
    // Each model against the best and against the mean, on the same resamples of compounds.
    let versus = |other: usize| -> Vec<Comparison> {
        losses.iter().map(|l| paired_bootstrap(l, &losses[other], args.bootstrap, args.seed)).collect()
    };
    let (vs_best, vs_mean) = (versus(best), versus(mean_idx));
    write_leaderboard(&args.out.join("leaderboard.csv"), &cv, best, &vs_best, &vs_mean)?;

    // Refit the winner on all of train; predict the test rows in sample_submission order.
    let winner = &models[best];
    let fitted = winner
        .fit(&features, &train_rows, &task.train_y)
        .map_err(|e| anyhow::anyhow!("refitting {}: {e}", winner.name()))?;
    let test_rows: Vec<usize> = (n_train..n_train + task.test_ids.len()).collect();
    let pred = fitted.predict(&features, &test_rows);
    if pred.as_slice().iter().any(|v| !v.is_finite()) {
        bail!("{} produced a non-finite prediction; no submission written", winner.name());
    }
    write_matrix_csv(&args.out.join("submission.csv"), "id", &task.test_ids, &task.targets, &pred)?;
    write_predictions(&args.out.join("predictions.parquet"), &task, &pred)?;
    let summary = summary_table(&cv, best, &vs_mean);
    write_report(&args.out.join("report.md"), &task, args, &cv, best, &summary)?;
    write_html_report(&args.out.join("report.html"), &task, &cv, best, &vs_mean)?;
    crate::emit(&summary)?;
    eprintln!(
        "selected {}; wrote submission.csv, predictions.parquet, leaderboard.csv, folds.csv, report.md to {}",
        cv.models[best].model,
        args.out.display()
    );
    Ok(())
}

fn write_predictions(path: &Path, task: &RegressionTask, pred: &Matrix) -> Result<()> {
    let (mut ids, mut targets, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for (i, id) in task.test_ids.iter().enumerate() {
        for (j, t) in task.targets.iter().enumerate() {
            ids.push(Some(id.clone()));
            targets.push(Some(t.clone()));
            values.push(pred.get(i, j));
        }
    }
    OutputTable::new()
        .with("id", Column::Text(ids))
        .with("target", Column::Text(targets))
        .with("prediction", Column::Float(values))
        .write(path)?;
    Ok(())
}

/// Mean and standard deviation (ddof 1) of a metric over folds.
fn fold_stats(cv: &CvResult, model: usize, metric: usize) -> (f64, f64) {
    let v: Vec<f64> = cv.models[model].fold_scores.iter().map(|f| f[metric].value).collect();
    (cellcast_stats::moments::mean(&v), cellcast_stats::moments::variance(&v, 1))
}

/// Rank (1 = best) of each model under each metric.
fn ranks(cv: &CvResult) -> Vec<Vec<usize>> {
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

fn write_leaderboard(
    path: &Path,
    cv: &CvResult,
    best: usize,
    vs_best: &[Comparison],
    vs_mean: &[Comparison],
) -> Result<()> {
    let ranks = ranks(cv);
    write_atomically(path, |out| {
        let mut w = std::io::BufWriter::new(out);
        use std::io::Write;
        writeln!(w, "model,metric,direction,score,fold_mean,fold_sd,rank,selected,diff_vs_best,ci_low_vs_best,ci_high_vs_best,p_vs_best,diff_vs_mean,ci_low_vs_mean,ci_high_vs_mean,p_vs_mean")?;
        for (m, model) in cv.models.iter().enumerate() {
            for (k, metric) in cv.metrics.iter().enumerate() {
                let (fm, fsd) = fold_stats(cv, m, k);
                let mut line = format!(
                    "{},{},{},{},{},{},{},{}",
                    model.model,
                    metric.name(),
                    metric.direction().as_str(),
                    format_number(model.pooled[k].value),
                    format_number(fm),
                    format_number(fsd),
                    ranks[m][k],
                    u8::from(m == best)
                );
                if k == 0 {
                    for c in [&vs_best[m], &vs_mean[m]] {
                        let _ = write!(
                            line,
                            ",{},{},{},{}",
                            format_number(c.difference),
                            format_number(c.ci_low),
                            format_number(c.ci_high),
                            format_number(c.p_value)
                        );
                    }
                } else {
                    line.push_str(",,,,,,,,");
                }
                writeln!(w, "{line}")?;
            }
        }
        w.flush()
    })?;
    Ok(())
}

fn summary_table(cv: &CvResult, best: usize, vs_mean: &[Comparison]) -> String {
    let ranks = ranks(cv);
    let width = cv.models.iter().map(|m| m.model.len()).max().unwrap_or(5) + 2;
    let mut s = String::new();
    let _ = write!(s, "{:<width$}", "model");
    for m in &cv.metrics {
        let _ = write!(s, "{:>30}", m.name());
    }
    let _ = writeln!(s, "{:>34}", "Δ official vs mean [95% CI]");
    for (i, model) in cv.models.iter().enumerate() {
        let mark = if i == best { "*" } else { " " };
        let _ = write!(s, "{mark}{:<w$}", model.model, w = width - 1);
        for (k, score) in model.pooled.iter().enumerate() {
            let _ = write!(s, "{:>30}", format!("{} (#{})", fmt(score.value), ranks[i][k]));
        }
        let c = &vs_mean[i];
        let _ = writeln!(s, "{:>34}", format!("{} [{}, {}]", fmt(c.difference), fmt(c.ci_low), fmt(c.ci_high)));
    }
    let _ = writeln!(s, "* selected (best cross-validated {}); ranks per metric in parentheses", cv.metrics[0].name());
    s
}

fn write_report(
    path: &Path,
    task: &RegressionTask,
    args: &RunArgs,
    cv: &CvResult,
    best: usize,
    summary: &str,
) -> Result<()> {
    let mut r = String::new();
    let _ = writeln!(r, "# cellcast run: {}\n", task.name);
    let _ = writeln!(
        r,
        "{} training compounds, {} test compounds, {} targets. Official metric: `{}`. \
         {}-fold {} cross-validation, seed {}; {} paired bootstrap resamples over compounds.\n",
        task.train_ids.len(),
        task.test_ids.len(),
        task.targets.len(),
        task.metric,
        args.folds,
        if args.split == SplitKind::Scaffold { "scaffold (GroupKFold on Bemis–Murcko scaffolds)" } else { "random" },
        args.seed,
        args.bootstrap
    );
    let _ =
        writeln!(r, "Selected: **{}**, refit on all training compounds for `submission.csv`.\n", cv.models[best].model);
    let _ = writeln!(r, "## Pooled out-of-fold scores\n\n```\n{summary}```\n");
    let _ = writeln!(r, "## Per-fold {}\n", cv.metrics[0].name());
    let _ = writeln!(r, "| model | {} |", (0..args.folds).map(|f| format!("fold {f}")).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(r, "|---|{}", "---|".repeat(args.folds));
    for m in &cv.models {
        let cells: Vec<String> = m.fold_scores.iter().map(|f| fmt(f[0].value)).collect();
        let _ = writeln!(r, "| {} | {} |", m.model, cells.join(" | "));
    }
    let _ = writeln!(r, "\nModels: `mean` = per-target training mean; `knn_tuned` = Tanimoto kNN on Morgan r2/2048 with k and kernel chosen on inner 3-fold CV of each training fold; `knn_k*` = fixed kNN references; `ridge_morgan_counts` = multi-output ridge on log(1 + Morgan r2/2048 counts), α by leave-one-out CV within each training fold (scikit-learn RidgeCV's rule); `avg(…)` = equal-weight average of its members.");
    write_atomically(path, |out| {
        use std::io::Write;
        out.write_all(r.as_bytes())
    })?;
    Ok(())
}

/// report.html: the official score of every model with its bootstrap interval (shifted from the
/// difference to the mean onto the score scale) and its per-fold values, plus the rank table.
fn write_html_report(
    path: &Path,
    task: &RegressionTask,
    cv: &CvResult,
    best: usize,
    vs_mean: &[Comparison],
) -> Result<()> {
    let mean_idx = cv.models.iter().position(|m| m.model == "mean").expect("the panel has the mean");
    let mean_score = cv.models[mean_idx].pooled[0].value;
    let folds: Vec<Vec<f64>> = cv.models.iter().map(|m| m.fold_scores.iter().map(|f| f[0].value).collect()).collect();
    let rows: Vec<crate::plot::Row> = cv
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| crate::plot::Row {
            label: &m.model,
            value: m.pooled[0].value,
            interval: (mean_score + vs_mean[i].ci_low, mean_score + vs_mean[i].ci_high),
            folds: &folds[i],
            highlight: i == best,
        })
        .collect();
    let metric = cv.metrics[0].name();
    let svg = crate::plot::dot_plot(
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
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>cellcast: {name}</title><style>\
         body{{font-family:sans-serif;margin:2em;max-width:70em}} table{{border-collapse:collapse}} \
         td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} td:first-child{{text-align:left}} \
         tr.best{{background:#fdecea}} .rank{{color:#888;font-size:small}}</style></head><body>\
         <h1>cellcast run: {name}</h1><p>Selected: <b>{best}</b>. Ranks per metric show where the metrics disagree.</p>\
         {svg}<h2>Pooled out-of-fold scores</h2>{table}<p>Details: report.md, leaderboard.csv, folds.csv.</p></body></html>\n",
        name = task.name,
        best = cv.models[best].model
    );
    write_atomically(path, |out| {
        use std::io::Write;
        out.write_all(html.as_bytes())
    })?;
    Ok(())
}
