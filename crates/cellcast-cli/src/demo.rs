//! `cellcast demo` and `cellcast synth`: the whole pipeline on a built-in synthetic task, under a
//! random and a scaffold split — retrieval looks excellent when a compound's scaffold family is
//! in training and collapses when whole families are held out.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use cellcast_data::output::{Column, OutputTable};
use cellcast_data::staging::StagedDir;
use cellcast_data::write::write_matrix;
use cellcast_eval::{cross_validate, PanelMetric};
use cellcast_metrics::weights::{log2_cpm, vcpi_weights_from_sums, VcpiVariance};
use cellcast_models::drugseq_synth::{synth_drugseq, DrugseqParams, SynthDrugseq};
use cellcast_models::synth::{synth_task, SynthTask};
use cellcast_models::{Features, Kernel, MeanResponse, Predictor, RetrievalKnn, RidgeGcv, TunedKnn};
use cellcast_stats::moments::ReplicateSums;
use cellcast_stats::Matrix;

use crate::report::fmt;
use crate::run_cmd::{make_folds, SplitKind};

const COMPOUNDS: usize = 300;
const TARGETS: usize = 20;
const NOISE: f64 = 0.5;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Also write the results: DIR/leaderboard.csv with columns regime,model,metric,score.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of the synthetic task, the folds and the models.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// What `cellcast synth` generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SynthKind {
    /// A SMILES → response task folder that `cellcast run` reads.
    Task,
    /// Per-well Cell Painting-like embeddings with planted compound–gene activity, for
    /// `cellcast phenomics`.
    Phenomics,
    /// A single-cell CRISPR screen (raw counts, .h5ad) with known targets, for `cellcast targets`
    /// and `cellcast task genetic`.
    Screen,
    /// A DRUG-seq task folder in the VCPI layout (raw counts of replicate samples, planted gene
    /// programs switched on by chemistry) that `cellcast run` reads.
    Drugseq,
}

#[derive(clap::Args)]
pub struct SynthArgs {
    /// Output folder. --kind task: train.csv, test_features.csv, sample_submission.csv,
    /// test_labels.csv. --kind phenomics: embeddings.parquet, truth.csv (compound,gene,active).
    #[arg(long)]
    pub out: PathBuf,
    /// What to generate (each kind takes the flags marked with it below).
    #[arg(long, value_enum, default_value = "task")]
    pub kind: SynthKind,
    /// Number of compounds (task: default 300, 24 to 2,352; phenomics: default 120; drugseq:
    /// default 240, at least 20).
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub compounds: Option<usize>,
    /// Number of responses per compound [task only; default 20].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub targets: Option<usize>,
    /// Standard deviation of the noise (task: added to each response, default 0.5; phenomics:
    /// added to each well's every embedding dimension, default 1).
    #[arg(long, allow_negative_numbers = true, value_parser = crate::args::number(0.0, f64::INFINITY, false))]
    pub noise: Option<f64>,
    /// Number of genes knocked out [phenomics; default 200], or measured [screen; default 300].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub genes: Option<usize>,
    /// Single-gene perturbations [screen only; default 20, two of them of unmeasured genes; plus
    /// 5 double perturbations].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub perturbations: Option<usize>,
    /// Cells per perturbation [screen only; default 40; 200 control cells].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub cells: Option<usize>,
    /// Which way perturbations move their targets: down (CRISPRi) or up (CRISPRa) [screen only;
    /// default down].
    #[arg(long, value_enum)]
    pub direction: Option<crate::targets_cmd::DirectionArg>,
    /// Embedding dimensions [phenomics only; default 64].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub dims: Option<usize>,
    /// Number of batches, each with its own control wells [phenomics only; default 4].
    #[arg(long, value_parser = crate::args::whole(1..=usize::MAX))]
    pub batches: Option<usize>,
    /// Batch-effect strength: sd of each batch's shift of each dimension, in well-noise units;
    /// dimensions are also rescaled by exp(0.2 × this × N(0,1)) [phenomics only; default 1; 0 for
    /// none].
    #[arg(long, allow_negative_numbers = true, value_parser = crate::args::number(0.0, f64::INFINITY, false))]
    pub batch_effect: Option<f64>,
    /// Seed of every random draw: the same seed writes the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

fn demo_panel(seed: u64) -> Vec<Box<dyn Predictor>> {
    vec![
        Box::new(MeanResponse),
        Box::new(RetrievalKnn { k: 1, kernel: Kernel::Uniform }),
        Box::new(TunedKnn::standard(seed)),
        Box::new(RidgeGcv::standard()),
    ]
}

pub fn run(args: &DemoArgs) -> Result<()> {
    // Refuse an unusable --out before the work, not after it.
    let stage = args.out.as_deref().map(StagedDir::new).transpose()?;
    let task = synth_task(COMPOUNDS, TARGETS, NOISE, args.seed);
    let smiles: Vec<Option<String>> = task.smiles.iter().cloned().map(Some).collect();
    let mut features = Features::from_smiles(&smiles);
    let rows: Vec<usize> = (0..task.ids.len()).collect();
    let metrics = vec![PanelMetric::Registry("polaris/mean_squared_error".into()), PanelMetric::RowPearson];
    let models = demo_panel(args.seed);
    let mut out = String::new();
    outln!(out, "cellcast demo: {COMPOUNDS} synthetic compounds in 12 scaffold families × {TARGETS} responses");
    outln!(out, "(responses: a fixed function of each compound's scaffold and Morgan bits, plus noise; 5-fold CV)\n");
    let mut records: Vec<(String, String, String, f64)> = Vec::new();
    for (regime, kind) in [("random", SplitKind::Random), ("scaffold", SplitKind::Scaffold)] {
        let (folds, groups) = make_folds(&smiles, &task.ids, kind, 5, args.seed)?;
        // Tuning inside a training fold holds out whole scaffolds when the outer split does.
        features.groups = (kind == SplitKind::Scaffold).then_some(groups);
        let cv = cross_validate(
            &models,
            &features,
            &rows,
            &task.y,
            &task.ids,
            &task.targets,
            &folds,
            5,
            &metrics,
            &|_, _| {},
        )?;
        outln!(out, "{regime} split");
        for m in &cv.models {
            outf!(out, "  {:<20}", m.model);
            for s in &m.pooled {
                outf!(out, "  {} {:>10}", s.metric, fmt(s.value));
                records.push((regime.into(), m.model.clone(), s.metric.clone(), s.value));
            }
            outln!(out);
        }
    }
    let mse = |regime: &str, model: &str| {
        records
            .iter()
            .find(|r| r.0 == regime && r.1 == model && r.2 == "polaris/mean_squared_error")
            .map_or(f64::NAN, |r| r.3)
    };
    outln!(
        out,
        "\nNearest neighbour vs the mean (MSE): random split {} vs {}, scaffold split {} vs {}.",
        fmt(mse("random", "knn_k1_uniform")),
        fmt(mse("random", "mean")),
        fmt(mse("scaffold", "knn_k1_uniform")),
        fmt(mse("scaffold", "mean"))
    );
    outln!(out, "Retrieval wins when test compounds have relatives in training and loses to the mean when whole");
    outln!(out, "scaffold families are new: the split decides what a model is worth. Next: `cellcast run TASK_DIR`.");
    if let (Some(dir), Some(stage)) = (&args.out, stage) {
        let text = |f: fn(&(String, String, String, f64)) -> &String| {
            Column::Text(records.iter().map(|r| Some(f(r).clone())).collect())
        };
        OutputTable::new()
            .with("regime", text(|r| &r.0))
            .with("model", text(|r| &r.1))
            .with("metric", text(|r| &r.2))
            .with("score", Column::Float(records.iter().map(|r| r.3).collect()))
            .write(&stage.join("leaderboard.csv"))?;
        stage.commit()?;
        let _ = writeln!(out, "wrote {}", dir.join("leaderboard.csv").display());
    }
    crate::emit(&out)
}

/// Writes a synthetic task folder (the last two scaffold families are the test compounds) or a
/// synthetic phenomics screen.
pub fn synth(args: &SynthArgs) -> Result<()> {
    check_synth_flags(args)?;
    let stage = StagedDir::new(&args.out)?;
    let out = stage.path();
    let written = match args.kind {
        SynthKind::Phenomics => crate::phenomics_cmd::synth(args, out)?,
        SynthKind::Screen => crate::targets_cmd::synth_screen(args, out)?,
        SynthKind::Drugseq => synth_drugseq_task(args, out)?,
        SynthKind::Task => {
            let task = synth_task(
                args.compounds.unwrap_or(COMPOUNDS),
                args.targets.unwrap_or(TARGETS),
                args.noise.unwrap_or(NOISE),
                args.seed,
            );
            write_task(&task, out)?;
            format!("a synthetic task with {} compounds", task.ids.len())
        }
    };
    stage.commit()?;
    eprintln!("wrote {written} to {}", args.out.display());
    Ok(())
}

/// The compounds `synth --kind task` can make.
const SYNTH_TASK_COMPOUNDS: std::ops::RangeInclusive<usize> = 24..=2352;

fn write_task(task: &SynthTask, dir: &Path) -> Result<()> {
    let is_test = |i: usize| task.family[i] >= 10;
    let (train, test): (Vec<usize>, Vec<usize>) = (0..task.ids.len()).partition(|&i| !is_test(i));
    let mut train_families: Vec<usize> = train.iter().map(|&i| task.family[i]).collect();
    train_families.sort_unstable();
    train_families.dedup();
    if test.is_empty() || train_families.len() < 5 {
        bail!(
            "this seed's {} compounds give {} test compound(s) and {} training scaffold families: `run` needs at \
             least one test compound and 5 families; ask for more compounds",
            task.ids.len(),
            test.len(),
            train_families.len()
        );
    }
    let text =
        |rows: &[usize], values: &[String]| Column::Text(rows.iter().map(|&i| Some(values[i].clone())).collect());
    let mut table =
        OutputTable::new().with("compound_id", text(&train, &task.ids)).with("smiles", text(&train, &task.smiles));
    for (j, t) in task.targets.iter().enumerate() {
        table = table.with(t, Column::Float(train.iter().map(|&i| task.y.get(i, j)).collect()));
    }
    table.write(&dir.join("train.csv"))?;
    OutputTable::new()
        .with("id", text(&test, &task.ids))
        .with("smiles", text(&test, &task.smiles))
        .write(&dir.join("test_features.csv"))?;
    let test_ids: Vec<String> = test.iter().map(|&i| task.ids[i].clone()).collect();
    let zeros = cellcast_stats::Matrix::filled(test.len(), task.targets.len(), 0.0);
    write_matrix(&dir.join("sample_submission.csv"), "id", &test_ids, &task.targets, &zeros)?;
    write_matrix(&dir.join("test_labels.csv"), "id", &test_ids, &task.targets, &task.y.select_rows(&test))?;
    Ok(())
}

/// Refuses a kind-specific flag given with another kind.
fn check_synth_flags(args: &SynthArgs) -> Result<()> {
    use SynthKind::{Drugseq, Phenomics, Screen, Task};
    let flags: [(&str, bool, &[SynthKind]); 10] = [
        ("--compounds", args.compounds.is_some(), &[Task, Phenomics, Drugseq]),
        ("--targets", args.targets.is_some(), &[Task]),
        ("--noise", args.noise.is_some(), &[Task, Phenomics]),
        ("--genes", args.genes.is_some(), &[Phenomics, Screen, Drugseq]),
        ("--dims", args.dims.is_some(), &[Phenomics]),
        ("--batches", args.batches.is_some(), &[Phenomics]),
        ("--batch-effect", args.batch_effect.is_some(), &[Phenomics]),
        ("--perturbations", args.perturbations.is_some(), &[Screen]),
        ("--cells", args.cells.is_some(), &[Screen]),
        ("--direction", args.direction.is_some(), &[Screen]),
    ];
    if let (Task, Some(n)) = (args.kind, args.compounds) {
        if !(SYNTH_TASK_COMPOUNDS.contains(&n)) {
            bail!(
                "--compounds {n}: a synthetic task has {} to {} compounds (12 scaffold families × 14 × 14 \
                 substituent pairs; fewer leave no test family or too few training scaffolds for 5-fold CV)",
                SYNTH_TASK_COMPOUNDS.start(),
                SYNTH_TASK_COMPOUNDS.end()
            );
        }
    }
    for (flag, given, kinds) in flags {
        if given && !kinds.contains(&args.kind) {
            let names: Vec<String> = kinds
                .iter()
                .map(|k| clap::ValueEnum::to_possible_value(k).map_or_else(String::new, |v| v.get_name().to_string()))
                .collect();
            bail!("{flag} applies to --kind {} only", names.join(" / "));
        }
    }
    Ok(())
}

/// `cellcast synth --kind drugseq`: a counts task folder (see [`write_drugseq`]) in `out`; says
/// what it wrote.
fn synth_drugseq_task(args: &SynthArgs, out: &Path) -> Result<String> {
    let defaults = DrugseqParams::default();
    let params = DrugseqParams {
        compounds: args.compounds.unwrap_or(defaults.compounds),
        genes: args.genes.unwrap_or(defaults.genes),
        seed: args.seed,
        ..defaults
    };
    if params.genes < params.programs * params.program_genes * 2 || params.compounds < 20 {
        bail!("a DRUG-seq screen needs at least {} genes and 20 compounds", params.programs * params.program_genes * 2);
    }
    let screen = synth_drugseq(&params);
    write_drugseq(&screen, out)?;
    Ok(format!(
        "a DRUG-seq task ({} compounds × {} replicates, {} genes, {} planted programs)",
        screen.compounds.len(),
        params.replicates,
        screen.genes.len(),
        screen.planted.len(),
    ))
}

/// The VCPI layout: `train_counts.csv` (genes × training samples), `train_samples.csv`
/// (sample_id, compound_id, smiles), `test_features.csv`, `sample_submission.csv` (every gene
/// scored); and the answers: `test_labels.csv` (the test compounds' mean log2(CPM + 1)),
/// `test_weights.csv` (their VCPI weights, computed on all replicates as the contest's audit
/// does) and `planted_programs.csv` (program, gene, effect).
fn write_drugseq(s: &SynthDrugseq, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let train_samples: Vec<usize> = (0..s.samples.len()).filter(|&j| !s.is_test(s.samples[j].1)).collect();
    let text = |v: Vec<String>| Column::Text(v.into_iter().map(Some).collect());
    let mut counts = OutputTable::new().with("gene", text(s.genes.clone()));
    for &j in &train_samples {
        counts =
            counts.with(&s.samples[j].0, Column::Int((0..s.genes.len()).map(|g| s.counts.get(g, j) as i64).collect()));
    }
    counts.write(&dir.join("train_counts.csv"))?;
    OutputTable::new()
        .with("sample_id", text(train_samples.iter().map(|&j| s.samples[j].0.clone()).collect()))
        .with("compound_id", text(train_samples.iter().map(|&j| s.compounds[s.samples[j].1].clone()).collect()))
        .with("smiles", text(train_samples.iter().map(|&j| s.smiles[s.samples[j].1].clone()).collect()))
        .write(&dir.join("train_samples.csv"))?;
    let test: Vec<usize> = (0..s.compounds.len()).filter(|&c| s.is_test(c)).collect();
    let test_ids: Vec<String> = test.iter().map(|&c| s.compounds[c].clone()).collect();
    OutputTable::new()
        .with("id", text(test_ids.clone()))
        .with("smiles", text(test.iter().map(|&c| s.smiles[c].clone()).collect()))
        .write(&dir.join("test_features.csv"))?;
    write_matrix(
        &dir.join("sample_submission.csv"),
        "id",
        &test_ids,
        &s.genes,
        &Matrix::filled(test.len(), s.genes.len(), 0.0),
    )?;
    // The answers, from every replicate (train and test) as the contest computes them.
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    for (j, (_, c)) in s.samples.iter().enumerate() {
        let column: Vec<f64> = (0..s.genes.len()).map(|g| s.counts.get(g, j)).collect();
        if let Some(e) = log2_cpm(&column) {
            rows.push(e);
            labels.push(s.compounds[*c].clone());
        }
    }
    let sums = ReplicateSums::from_rows(&rows, &labels);
    let weights = vcpi_weights_from_sums(&sums, VcpiVariance::PerCompoundFloored);
    let means = sums.means();
    let test_rows: Vec<usize> = test_ids.iter().map(|id| sums.groups.binary_search(id).expect("a compound")).collect();
    write_matrix(&dir.join("test_labels.csv"), "id", &test_ids, &s.genes, &means.select_rows(&test_rows))?;
    write_matrix(&dir.join("test_weights.csv"), "id", &test_ids, &s.genes, &weights.weights.select_rows(&test_rows))?;
    let planted: Vec<(usize, usize, f64)> =
        s.planted.iter().enumerate().flat_map(|(k, genes)| genes.iter().map(move |&(g, e)| (k, g, e))).collect();
    OutputTable::new()
        .with("program", Column::Int(planted.iter().map(|p| p.0 as i64).collect()))
        .with("gene", text(planted.iter().map(|p| s.genes[p.1].clone()).collect()))
        .with("effect", Column::Float(planted.iter().map(|p| p.2).collect()))
        .write(&dir.join("planted_programs.csv"))?;
    Ok(())
}
