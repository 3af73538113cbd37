//! `synth`: synthetic data with known answers — a positive-control task folder that [`crate::run`]
//! reads, a Cell Painting-like screen with planted compound–gene activity, a single-cell CRISPR
//! screen with known targets, or a DRUG-seq counts task with planted gene programs.

use std::path::{Path, PathBuf};

use cellcast_data::h5ad::{write_h5ad, CategoricalColumn, NewAnnData};
use cellcast_data::output::{Column, OutputTable};
use cellcast_data::staging::StagedDir;
use cellcast_data::write::write_matrix;
use cellcast_metrics::weights::{log2_cpm, vcpi_weights_from_sums, VcpiVariance};
use cellcast_models::drugseq_synth::{synth_drugseq, DrugseqParams, SynthDrugseq};
use cellcast_models::screen_synth::{synth_screen, Knockout, ScreenParams};
use cellcast_models::synth::{synth_task, SynthTask};
use cellcast_models::targets::{condition_genes, Direction};
use cellcast_phenomics::{synth_phenomics, SynthParams};
use cellcast_stats::moments::ReplicateSums;
use cellcast_stats::Matrix;

use crate::demo::{COMPOUNDS, NOISE, TARGETS};
use crate::{bail, Observer, Result};

/// What [`synth`] generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SynthKind {
    /// A SMILES → response task folder: train.csv, test_features.csv, sample_submission.csv,
    /// test_labels.csv.
    #[default]
    Task,
    /// Per-well embeddings with planted compound–gene activity (embeddings.parquet, truth.csv).
    Phenomics,
    /// A single-cell CRISPR screen of raw counts with known targets (screen.h5ad, targets.csv).
    Screen,
    /// A DRUG-seq task folder in the VCPI layout (raw counts of replicate samples, planted gene
    /// programs switched on by chemistry).
    Drugseq,
}

impl SynthKind {
    pub const ALL: [SynthKind; 4] = [SynthKind::Task, SynthKind::Phenomics, SynthKind::Screen, SynthKind::Drugseq];

    pub fn name(self) -> &'static str {
        match self {
            SynthKind::Task => "task",
            SynthKind::Phenomics => "phenomics",
            SynthKind::Screen => "screen",
            SynthKind::Drugseq => "drugseq",
        }
    }
}

impl std::str::FromStr for SynthKind {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
            crate::Error::input(format!("no synthetic kind '{s}'; available: {}", names.join(", ")))
        })
    }
}

/// Options of [`synth`]. `None` takes the kind's default; a value given for a kind that does not
/// use it is refused (named by its command-line flag).
#[derive(Debug, Clone, Default)]
pub struct SynthOptions {
    /// Output folder (written all-or-nothing).
    pub out: PathBuf,
    pub kind: SynthKind,
    /// Compounds [task: 300, 24 to 2,352; phenomics: 120; drugseq: 240, at least 20].
    pub compounds: Option<usize>,
    /// Responses per compound [task: 20].
    pub targets: Option<usize>,
    /// Noise sd [task: 0.5 per response; phenomics: 1 per well and dimension].
    pub noise: Option<f64>,
    /// Genes knocked out [phenomics: 200], measured [screen: 300; drugseq].
    pub genes: Option<usize>,
    /// Single-gene perturbations [screen: 20].
    pub perturbations: Option<usize>,
    /// Cells per perturbation [screen: 40].
    pub cells: Option<usize>,
    /// Which way perturbations move their targets [screen: down; `Both` is refused].
    pub direction: Option<Direction>,
    /// CRISPR knockouts instead of CRISPRi [screen, down only]: a share of cells escape, the
    /// edited cells keep part of the mRNA, targets are lowly detected genes.
    pub knockout: bool,
    /// Embedding dimensions [phenomics: 64].
    pub dims: Option<usize>,
    /// Batches [phenomics: 4].
    pub batches: Option<usize>,
    /// Batch-effect strength [phenomics: 1].
    pub batch_effect: Option<f64>,
    /// Seed of every random draw: the same seed writes the same bytes.
    pub seed: u64,
}

/// The compounds `synth` of a task can make.
const SYNTH_TASK_COMPOUNDS: std::ops::RangeInclusive<usize> = 24..=2352;

impl SynthOptions {
    /// Refuses a kind-specific value given with another kind, and values a kind cannot use.
    pub fn validate(&self) -> Result<()> {
        use SynthKind::{Drugseq, Phenomics, Screen, Task};
        let flags: [(&str, bool, &[SynthKind]); 11] = [
            ("--compounds", self.compounds.is_some(), &[Task, Phenomics, Drugseq]),
            ("--targets", self.targets.is_some(), &[Task]),
            ("--noise", self.noise.is_some(), &[Task, Phenomics]),
            ("--genes", self.genes.is_some(), &[Phenomics, Screen, Drugseq]),
            ("--dims", self.dims.is_some(), &[Phenomics]),
            ("--batches", self.batches.is_some(), &[Phenomics]),
            ("--batch-effect", self.batch_effect.is_some(), &[Phenomics]),
            ("--perturbations", self.perturbations.is_some(), &[Screen]),
            ("--cells", self.cells.is_some(), &[Screen]),
            ("--direction", self.direction.is_some(), &[Screen]),
            ("--knockout", self.knockout, &[Screen]),
        ];
        if let (Task, Some(n)) = (self.kind, self.compounds) {
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
            if given && !kinds.contains(&self.kind) {
                let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                bail!("{flag} applies to --kind {} only", names.join(" / "));
            }
        }
        Ok(())
    }
}

/// What [`synth`] wrote.
#[derive(Debug, Clone)]
pub struct SynthOutcome {
    pub out: PathBuf,
    /// What was written, in words ("a synthetic task with 300 compounds").
    pub description: String,
}

/// Writes the synthetic data of `opts.kind` into `opts.out`.
pub fn synth(opts: &SynthOptions, _observer: &dyn Observer) -> Result<SynthOutcome> {
    opts.validate()?;
    let stage = StagedDir::new(&opts.out)?;
    let out = stage.path();
    let description = match opts.kind {
        SynthKind::Phenomics => synth_phenomics_screen(opts, out)?,
        SynthKind::Screen => synth_crispr_screen(opts, out)?,
        SynthKind::Drugseq => synth_drugseq_task(opts, out)?,
        SynthKind::Task => {
            let task = synth_task(
                opts.compounds.unwrap_or(COMPOUNDS),
                opts.targets.unwrap_or(TARGETS),
                opts.noise.unwrap_or(NOISE),
                opts.seed,
            );
            write_task(&task, out)?;
            format!("a synthetic task with {} compounds", task.ids.len())
        }
    };
    stage.commit()?;
    Ok(SynthOutcome { out: opts.out.clone(), description })
}

/// A task folder: the last two scaffold families are the test compounds.
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
    let zeros = Matrix::filled(test.len(), task.targets.len(), 0.0);
    write_matrix(&dir.join("sample_submission.csv"), "id", &test_ids, &task.targets, &zeros)?;
    write_matrix(&dir.join("test_labels.csv"), "id", &test_ids, &task.targets, &task.y.select_rows(&test))?;
    Ok(())
}

/// embeddings.parquet and truth.csv in `out`; says what it wrote.
fn synth_phenomics_screen(opts: &SynthOptions, out: &Path) -> Result<String> {
    let defaults = SynthParams::default();
    let params = SynthParams {
        compounds: opts.compounds.unwrap_or(defaults.compounds),
        genes: opts.genes.unwrap_or(defaults.genes),
        dims: opts.dims.unwrap_or(defaults.dims),
        batches: opts.batches.unwrap_or(defaults.batches),
        batch_effect: opts.batch_effect.unwrap_or(defaults.batch_effect),
        noise: opts.noise.unwrap_or(defaults.noise),
        seed: opts.seed,
        ..defaults
    };
    let screen = synth_phenomics(&params)?;
    screen.wells.write(&out.join("embeddings.parquet"))?;
    screen.truth.write(&out.join("truth.csv"))?;
    Ok(format!(
        "{} wells ({} compounds × {} concentrations, {} genes, {} batches, {} dimensions) and the planted truth",
        screen.wells.nwells(),
        params.compounds,
        params.concentrations.len(),
        params.genes,
        params.batches,
        params.dims,
    ))
}

/// screen.h5ad (obs `perturbation`, control `control`, and `replicate` r1–r3; raw counts) and
/// targets.csv (`id,targets`, the truth `ranking/*` reads) in `out`; says what it wrote.
fn synth_crispr_screen(opts: &SynthOptions, out: &Path) -> Result<String> {
    let defaults = ScreenParams::default();
    let direction = opts.direction.unwrap_or(Direction::Down);
    if direction == Direction::Both {
        bail!("--direction: a generated screen's perturbations go down (CRISPRi) or up (CRISPRa)");
    }
    if opts.knockout && direction != Direction::Down {
        bail!("--knockout: knockouts lower their targets; leave --direction at down");
    }
    let params = ScreenParams {
        genes: opts.genes.unwrap_or(defaults.genes),
        perturbations: opts.perturbations.unwrap_or(defaults.perturbations),
        cells_per_group: opts.cells.unwrap_or(defaults.cells_per_group),
        direction,
        knockout: opts.knockout.then(Knockout::default),
        seed: opts.seed,
        ..defaults
    };
    if params.genes < 30 || params.perturbations < 2 || params.cells_per_group < 1 {
        bail!("a screen needs at least 30 genes, 2 perturbations and 1 cell per perturbation");
    }
    let screen = synth_screen(&params);
    let obs_names: Vec<String> = (0..screen.labels.len()).map(|i| format!("cell{i}")).collect();
    let column = CategoricalColumn {
        name: "perturbation".into(),
        categories: screen.groups.clone(),
        codes: screen.labels.iter().map(|l| screen.groups.iter().position(|g| g == l).map(|k| k as u32)).collect(),
    };
    // Three replicates (say, wells) per perturbation, dealt in turn: for pseudobulk designs.
    let replicate = CategoricalColumn {
        name: "replicate".into(),
        categories: vec!["r1".into(), "r2".into(), "r3".into()],
        codes: (0..screen.labels.len()).map(|i| Some((i % 3) as u32)).collect(),
    };
    let data = NewAnnData {
        x: &screen.counts,
        obs_names: &obs_names,
        var_names: &screen.genes,
        obs_columns: &[column, replicate],
        var_columns: &[],
    };
    write_h5ad(&out.join("screen.h5ad"), &data)?;
    let perturbed = &screen.groups[1..];
    OutputTable::new()
        .with("id", Column::Text(perturbed.iter().cloned().map(Some).collect()))
        .with(
            "targets",
            Column::Text(perturbed.iter().map(|g| Some(condition_genes(g).collect::<Vec<_>>().join(";"))).collect()),
        )
        .write(&out.join("targets.csv"))?;
    Ok(format!(
        "{} cells ({} {} + control) × {} genes (screen.h5ad: obs 'perturbation', control '{}'; targets.csv)",
        screen.labels.len(),
        perturbed.len(),
        if opts.knockout { "knockouts" } else { "perturbations" },
        screen.genes.len(),
        screen.control
    ))
}

/// A DRUG-seq counts task folder (see [`write_drugseq`]) in `out`; says what it wrote.
fn synth_drugseq_task(opts: &SynthOptions, out: &Path) -> Result<String> {
    let defaults = DrugseqParams::default();
    let params = DrugseqParams {
        compounds: opts.compounds.unwrap_or(defaults.compounds),
        genes: opts.genes.unwrap_or(defaults.genes),
        seed: opts.seed,
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
