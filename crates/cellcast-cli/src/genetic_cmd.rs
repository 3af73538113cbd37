//! `cellcast task genetic`: a Myllia-style task (log-fold-changes, limma weights, mean baseline)
//! from a single-cell screen, with the genetic response panel scored on its held-out
//! perturbations.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use cellcast_data::output::{Column, OutputTable};
use cellcast_data::staging::StagedDir;
use cellcast_data::write::write_matrix;
use cellcast_eval::genetic_task::{
    broadcast, build_genetic_task, evaluate_genetic_panel, GeneticTask, GENETIC_METRICS,
};
use cellcast_models::genetic::GeneticModel;
use cellcast_models::targets::condition_genes;
use cellcast_stats::rng::SplitMix64;

use crate::targets_cmd::ScreenArgs;

pub const LONG_ABOUT: &str = "\
Build a Kaggle \"Echoes of Silenced Genes\"-style task from a single-cell CRISPR screen, and score
the genetic response panel on its held-out perturbations.

From the cells of every perturbation (a label of --group-column) and the controls (--control):
  log-fold-change   mean log-expression of the perturbation's cells minus the controls'
                    (X normalised to cp10k + log1p when it holds raw counts; see --normalize)
  weights           limma moderated t of each perturbation against the controls, one ~0 + group
                    fit over single cells (or, with --replicate-column, over the pseudobulks of
                    (perturbation, replicate) pairs), eBayes (no trend, not robust) —
                    RECONSTRUCTED: the host did not publish its design — then the published recipe
                    c = min(|t| + 0.1, 10), c = 0 on the perturbation's own target gene(s),
                    w = n·c²/Σc²
  baseline          the mean log-fold-change of the training perturbations (published)

The perturbations are split into training and test: --split random (--test-fraction of them,
drawn with --seed), --split doubles (every A+B whose singles A and B are in the screen is
predicted from the rest), or --test FILE listing test ids one per line. Written to --out:
  train_lfc.csv, test_lfc.csv       id + one column per gene (log-fold-changes)
  weights.csv, train_weights.csv    Myllia weights of the test / training perturbations
  baseline.csv                      the mean training log-fold-change, one row per test id
  pseudobulk.csv                    mean log-expression of the controls and every perturbation
  split.csv                         id, set (train/test), cells, targets (';'-joined),
                                    measured_targets
  predictions/<model>.csv           each panel model's predicted test log-fold-changes
  leaderboard.csv                   model, metric, value, fallbacks

The panel: no_change (the controls), mean (of the training perturbations; its Myllia score is 0 by
construction), additive (A+B from A and B), linear_k10 (Ahlmann-Eltze's low-rank linear model,
λ = 0.1) and embedding_knn5. Scores: myllia/score (official) and cell-eval's celleval/mae,
mae_delta, pearson_delta and discrimination_score_l1|l2|cosine on the pseudobulks.

Score your own predictions exactly as the host does:
  cellcast score --metric myllia/score --truth DIR/test_lfc.csv --pred pred.csv \\
      --weights DIR/weights.csv --baseline DIR/baseline.csv

Example:
  cellcast task genetic --h5ad norman.h5ad --group-column condition --control control \\
      --where dataset=norman19 --test-fraction 0.5 --seed 0 --out norman_task";

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitArg {
    Random,
    Doubles,
}

#[derive(clap::Args)]
pub struct GeneticArgs {
    #[command(flatten)]
    pub screen: ScreenArgs,
    /// How to choose the test perturbations: `random` (--test-fraction of them, drawn with
    /// --seed) or `doubles` (every double perturbation A+B whose singles A and B are in the
    /// screen: the singles train, the combination is predicted).
    #[arg(long, value_enum, default_value = "random", conflicts_with = "test")]
    pub split: SplitArg,
    /// Share of the perturbations held out as test with --split random, greater than 0 and
    /// less than 1.
    #[arg(long, default_value_t = 0.5, conflicts_with = "test", value_parser = crate::args::number(0.0, 1.0, true))]
    pub test_fraction: f64,
    /// The test perturbations: a file with one id per line (a first line `id` is a header).
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Seed of the random test split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fit limma on the pseudobulk means of (perturbation, replicate) pairs, the replicates being
    /// this obs column's labels (donor, well, guide), instead of on single cells.
    #[arg(long)]
    pub replicate_column: Option<String>,
    /// Output folder (written whole or not at all: a staging folder beside it is moved in when
    /// everything succeeded).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: &GeneticArgs) -> Result<()> {
    let start = Instant::now();
    let screen = args.screen.read()?;
    let labels: Vec<String> = screen.group_of_row.iter().map(|&g| screen.groups[g].clone()).collect();
    let perturbations: Vec<&str> =
        screen.groups.iter().enumerate().filter(|&(g, _)| g != screen.control).map(|(_, l)| l.as_str()).collect();
    let test: HashSet<String> = match &args.test {
        Some(path) => read_test_ids(path, &perturbations)?,
        None if args.split == SplitArg::Doubles => seen_doubles(&perturbations)?,
        None => draw_test(&perturbations, args.test_fraction, args.seed)?,
    };
    let replicates: Option<Vec<String>> = match &args.replicate_column {
        None => None,
        Some(column) => {
            let h5 = cellcast_data::h5ad::H5ad::open(&args.screen.h5ad)?;
            let values = h5.obs_column(column)?;
            let reps: Vec<String> = screen
                .cells
                .cells
                .iter()
                .map(|&c| values.label(c).ok_or(c))
                .collect::<std::result::Result<_, _>>()
                .map_err(|c| anyhow::anyhow!("obs/{column}: cell '{}' has no replicate label", h5.obs_names()[c]))?;
            Some(reps)
        }
    };
    let task = build_genetic_task(
        &screen.cells.x,
        &labels,
        replicates.as_deref(),
        &args.screen.control,
        &screen.genes,
        &|p| test.contains(p),
    )?;
    for w in &task.warnings {
        eprintln!("limma: {w}");
    }
    eprintln!(
        "{} perturbations ({} train, {} test) × {} genes; limma prior df {:.2}, prior variance {:.4}",
        task.perturbations.len(),
        task.train().len(),
        task.test().len(),
        task.genes.len(),
        task.df_prior,
        task.var_prior
    );
    let results = evaluate_genetic_panel(&task, &GeneticModel::panel())?;
    let stage = StagedDir::new(&args.out)?;
    write_task(&task, stage.path())?;
    let dir = stage.join("predictions");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let test_ids: Vec<String> = task.test().iter().map(|&i| task.perturbations[i].clone()).collect();
    for r in &results {
        write_matrix(&dir.join(format!("{}.csv", r.model)), "id", &test_ids, &task.genes, &r.lfc)?;
    }

    eprint!("{:<16}", "model");
    for m in GENETIC_METRICS {
        eprint!(" {:>13}", m.trim_start_matches("celleval/").replace("discrimination_score", "pds"));
    }
    eprintln!(" {:>9}", "fallbacks");
    for r in &results {
        eprint!("{:<16}", r.model);
        for (_, v) in &r.scores {
            eprint!(" {v:>13.4}");
        }
        eprintln!(" {:>9}", r.fallbacks);
    }
    let rows: Vec<(&str, &str, f64, usize)> = results
        .iter()
        .flat_map(|r| r.scores.iter().map(move |(m, v)| (r.model.as_str(), m.as_str(), *v, r.fallbacks)))
        .collect();
    OutputTable::new()
        .with("model", Column::Text(rows.iter().map(|r| Some(r.0.to_string())).collect()))
        .with("metric", Column::Text(rows.iter().map(|r| Some(r.1.to_string())).collect()))
        .with("value", Column::Float(rows.iter().map(|r| r.2).collect()))
        .with("fallbacks", Column::Int(rows.iter().map(|r| r.3 as i64).collect()))
        .write(&stage.join("leaderboard.csv"))?;
    stage.commit()?;
    eprintln!(
        "wrote the task, predictions and leaderboard to {} in {:.2} s",
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A seeded share of the perturbations (at least one, and at least one left for training).
fn draw_test(perturbations: &[&str], fraction: f64, seed: u64) -> Result<HashSet<String>> {
    if !(fraction > 0.0 && fraction < 1.0) {
        bail!("--test-fraction must be between 0 and 1 (exclusive), got {fraction}");
    }
    if perturbations.len() < 2 {
        bail!("{} perturbation(s): a task needs at least two (one to train on, one to test)", perturbations.len());
    }
    let mut order: Vec<&str> = perturbations.to_vec();
    order.sort_unstable();
    SplitMix64::new(seed).shuffle(&mut order);
    let n = ((fraction * order.len() as f64).round() as usize).clamp(1, order.len() - 1);
    Ok(order[..n].iter().map(|s| s.to_string()).collect())
}

/// Double perturbations whose single perturbations are all in the screen.
fn seen_doubles(perturbations: &[&str]) -> Result<HashSet<String>> {
    let singles: HashSet<String> =
        perturbations.iter().filter(|p| condition_genes(p).count() == 1).map(|p| p.to_string()).collect();
    let test: HashSet<String> = perturbations
        .iter()
        .filter(|p| condition_genes(p).count() > 1 && condition_genes(p).all(|g| singles.contains(&g)))
        .map(|p| p.to_string())
        .collect();
    if test.is_empty() {
        bail!("--split doubles: no double perturbation (A+B) of the screen has both its singles in the screen");
    }
    Ok(test)
}

fn read_test_ids(path: &Path, perturbations: &[&str]) -> Result<HashSet<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let known: HashSet<&str> = perturbations.iter().copied().collect();
    let mut ids = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let id = line.trim();
        if id.is_empty() || (n == 0 && id == "id") {
            continue;
        }
        if !known.contains(id) {
            bail!(
                "{}:{}: '{id}' is not a perturbation of the screen (is it the control, or filtered out?)",
                path.display(),
                n + 1
            );
        }
        ids.insert(id.to_string());
    }
    Ok(ids)
}

fn write_task(task: &GeneticTask, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (train, test) = (task.train(), task.test());
    let ids = |rows: &[usize]| rows.iter().map(|&i| task.perturbations[i].clone()).collect::<Vec<_>>();
    let genes = &task.genes;
    let lfc = task.lfc();
    write_matrix(&dir.join("train_lfc.csv"), "id", &ids(&train), genes, &lfc.select_rows(&train))?;
    write_matrix(&dir.join("test_lfc.csv"), "id", &ids(&test), genes, &lfc.select_rows(&test))?;
    write_matrix(&dir.join("weights.csv"), "id", &ids(&test), genes, &task.weights.select_rows(&test))?;
    write_matrix(&dir.join("train_weights.csv"), "id", &ids(&train), genes, &task.weights.select_rows(&train))?;
    write_matrix(&dir.join("baseline.csv"), "id", &ids(&test), genes, &broadcast(&task.baseline(), test.len()))?;
    let mut bulk_ids = vec![task.control.clone()];
    bulk_ids.extend(task.perturbations.iter().cloned());
    let mut bulk = vec![task.control_profile.clone()];
    bulk.extend(task.profiles.rows().map(<[f64]>::to_vec));
    let bulk = cellcast_stats::Matrix::from_rows(&bulk).expect("rows of one length");
    write_matrix(&dir.join("pseudobulk.csv"), "id", &bulk_ids, genes, &bulk)?;
    let all: Vec<usize> = (0..task.perturbations.len()).collect();
    let text = |f: &dyn Fn(usize) -> String| Column::Text(all.iter().map(|&i| Some(f(i))).collect());
    OutputTable::new()
        .with("id", text(&|i| task.perturbations[i].clone()))
        .with("set", text(&|i| if task.is_test[i] { "test" } else { "train" }.to_string()))
        .with("cells", Column::Int(task.cells.iter().map(|&c| c as i64).collect()))
        .with("targets", text(&|i| condition_genes(&task.perturbations[i]).collect::<Vec<_>>().join(";")))
        .with("measured_targets", Column::Int(task.target_columns.iter().map(|t| t.len() as i64).collect()))
        .write(&dir.join("split.csv"))?;
    Ok(())
}
