//! A Kaggle "Echoes of Silenced Genes"-style task (log-fold-changes, limma weights, mean
//! baseline) from a single-cell CRISPR screen, with the genetic response panel scored on its
//! held-out perturbations.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use cellcast_data::output::{Column, OutputTable};
use cellcast_data::staging::StagedDir;
use cellcast_data::write::write_matrix;
use cellcast_eval::genetic_task::{broadcast, build_genetic_task, evaluate_genetic_panel};
pub use cellcast_eval::genetic_task::{GeneticModelResult, GeneticTask, GENETIC_METRICS};
use cellcast_models::genetic::GeneticModel;
use cellcast_models::targets::condition_genes;
use cellcast_stats::rng::SplitMix64;

use crate::cells::{read_screen, ScreenOptions};
use crate::{bail, Context, Observer, Result};

/// How the test perturbations are chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum TestSplit {
    /// A seeded share of the perturbations, greater than 0 and less than 1.
    Random { fraction: f64 },
    /// Every double perturbation A+B whose singles A and B are in the screen.
    Doubles,
    /// A file with one test id per line (a first line `id` is a header).
    File(PathBuf),
}

/// Options of [`task_genetic`].
#[derive(Debug, Clone)]
pub struct GeneticTaskOptions<'a> {
    pub screen: ScreenOptions<'a>,
    pub split: TestSplit,
    /// Seed of the random test split.
    pub seed: u64,
    /// Fit limma on the pseudobulk means of (perturbation, replicate) pairs, the replicates being
    /// this obs column's labels, instead of on single cells.
    pub replicate_column: Option<String>,
    /// Output folder, written whole or not at all.
    pub out: PathBuf,
}

impl Default for GeneticTaskOptions<'_> {
    fn default() -> Self {
        Self {
            screen: ScreenOptions::default(),
            split: TestSplit::Random { fraction: 0.5 },
            seed: 0,
            replicate_column: None,
            out: PathBuf::new(),
        }
    }
}

impl GeneticTaskOptions<'_> {
    pub fn validate(&self) -> Result<()> {
        if let TestSplit::Random { fraction } = self.split {
            if !(fraction > 0.0 && fraction < 1.0) {
                bail!("--test-fraction must be between 0 and 1 (exclusive), got {fraction}");
            }
        }
        self.screen.validate()
    }
}

/// What [`task_genetic`] built and scored.
#[derive(Debug, Clone)]
pub struct GeneticTaskOutcome {
    pub task: GeneticTask,
    /// Each panel model's held-out predictions and scores ([`GENETIC_METRICS`]).
    pub results: Vec<GeneticModelResult>,
}

/// Builds the task, scores the panel and writes everything to `out` (see the CLI's
/// `task genetic --help` for the files).
pub fn task_genetic(opts: &GeneticTaskOptions<'_>, observer: &dyn Observer) -> Result<GeneticTaskOutcome> {
    opts.validate()?;
    let opened = opts.screen.cells.open()?;
    let src = opened.source();
    let screen = read_screen(src, &opts.screen.selection(), observer)?.screen;
    let labels: Vec<String> = screen.group_of_row.iter().map(|&g| screen.groups[g].clone()).collect();
    let perturbations: Vec<&str> =
        screen.groups.iter().enumerate().filter(|&(g, _)| g != screen.control).map(|(_, l)| l.as_str()).collect();
    let test: HashSet<String> = match &opts.split {
        TestSplit::File(path) => read_test_ids(path, &perturbations)?,
        TestSplit::Doubles => seen_doubles(&perturbations)?,
        TestSplit::Random { fraction } => draw_test(&perturbations, *fraction, opts.seed)?,
    };
    let replicates: Option<Vec<String>> = match &opts.replicate_column {
        None => None,
        Some(column) => {
            let values = src.obs_column(column)?;
            let reps: Vec<String> = screen
                .cells
                .cells
                .iter()
                .map(|&c| values.label(c).ok_or(c))
                .collect::<std::result::Result<_, _>>()
                .map_err(|c| {
                    crate::Error::input(format!("obs/{column}: cell '{}' has no replicate label", src.obs_names()[c]))
                })?;
            Some(reps)
        }
    };
    let task = build_genetic_task(
        &screen.cells.x,
        &labels,
        replicates.as_deref(),
        &opts.screen.control,
        &screen.genes,
        &|p| test.contains(p),
    )?;
    for w in &task.warnings {
        observer.note(&format!("limma: {w}"));
    }
    observer.note(&format!(
        "{} perturbations ({} train, {} test) × {} genes; limma prior df {:.2}, prior variance {:.4}",
        task.perturbations.len(),
        task.train().len(),
        task.test().len(),
        task.genes.len(),
        task.df_prior,
        task.var_prior
    ));
    let results = evaluate_genetic_panel(&task, &GeneticModel::panel())?;
    let stage = StagedDir::new(&opts.out)?;
    write_task(&task, stage.path())?;
    let dir = stage.join("predictions");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let test_ids: Vec<String> = task.test().iter().map(|&i| task.perturbations[i].clone()).collect();
    for r in &results {
        write_matrix(&dir.join(format!("{}.csv", r.model)), "id", &test_ids, &task.genes, &r.lfc)?;
    }

    let mut header = format!("{:<16}", "model");
    for m in GENETIC_METRICS {
        header.push_str(&format!(" {:>13}", m.trim_start_matches("celleval/").replace("discrimination_score", "pds")));
    }
    header.push_str(&format!(" {:>9}", "fallbacks"));
    observer.note(&header);
    for r in &results {
        let mut line = format!("{:<16}", r.model);
        for (_, v) in &r.scores {
            line.push_str(&format!(" {v:>13.4}"));
        }
        line.push_str(&format!(" {:>9}", r.fallbacks));
        observer.note(&line);
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
    Ok(GeneticTaskOutcome { task, results })
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
    let bulk = cellcast_stats::Matrix::from_rows(&bulk)
        .ok_or_else(|| crate::Error::new(crate::ErrorKind::Compute, "internal error: profiles of unequal lengths"))?;
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
