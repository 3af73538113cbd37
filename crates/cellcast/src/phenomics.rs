//! Zero-shot compound–gene activity scores from per-well image embeddings: the EFAAR baseline of
//! RxRx3-core (PCA, control normalisation per batch, mean profiles, |cosine|).

use std::path::PathBuf;

use cellcast_data::output::{Column, OutputTable};
use cellcast_phenomics::{mean_average_precision, pipeline};
pub use cellcast_phenomics::{ActivityScores, ApSummary, PipelineOptions, PipelineReport, Truth, WellTable};

use crate::{bail, Context, Observer, Result};

/// Options of [`phenomics`].
#[derive(Debug, Clone)]
pub struct PhenomicsOptions {
    /// Per-well embeddings (CSV, TSV or Parquet): perturbation, perturbation_type,
    /// concentration, batch, optional plate and well, then the embedding columns.
    pub embeddings: PathBuf,
    /// PCA, its components, control normalisation.
    pub pipeline: PipelineOptions,
    /// Known activity, `compound,gene,active` (0/1): the outcome has the mean per-compound
    /// average precision.
    pub truth: Option<PathBuf>,
    /// `compound,gene,score` (CSV, or Parquet by extension); `None`: only return the scores.
    pub out: Option<PathBuf>,
}

impl Default for PhenomicsOptions {
    fn default() -> Self {
        Self { embeddings: PathBuf::new(), pipeline: PipelineOptions::default(), truth: None, out: None }
    }
}

impl PhenomicsOptions {
    pub fn validate(&self) -> Result<()> {
        if self.pipeline.pca_components == Some(0) {
            bail!("PCA components must be at least 1");
        }
        Ok(())
    }
}

/// What [`phenomics`] scored.
#[derive(Debug, Clone)]
pub struct PhenomicsOutcome {
    /// compounds × genes.
    pub scores: ActivityScores,
    pub report: PipelineReport,
    /// Against the truth, when one was given.
    pub average_precision: Option<ApSummary>,
}

/// Scores every compound–gene pair of an embeddings table (see the module documentation).
pub fn phenomics(opts: &PhenomicsOptions, observer: &dyn Observer) -> Result<PhenomicsOutcome> {
    opts.validate()?;
    observer.note(&format!("reading {}", opts.embeddings.display()));
    let wells = WellTable::read(&opts.embeddings).context("reading the embeddings")?;
    // Read the truth before the work, so a bad truth file fails fast.
    let truth = match &opts.truth {
        Some(path) => Some(Truth::read(path).context("reading the truth")?),
        None => None,
    };
    observer.note("scoring: PCA, control normalisation, profiles, |cos| …");
    let (scores, report) = pipeline::run(&wells, &opts.pipeline)
        .with_context(|| format!("scoring the embeddings of {}", opts.embeddings.display()))?;
    if let Some(out) = &opts.out {
        scores_table(&scores).write(out)?;
    }
    let average_precision = truth.as_ref().map(|t| mean_average_precision(&scores, t));
    Ok(PhenomicsOutcome { scores, report, average_precision })
}

/// The long table compound,gene,score, compound-major.
pub fn scores_table(scores: &ActivityScores) -> OutputTable {
    let n = scores.compounds.len() * scores.genes.len();
    let (mut compound, mut gene, mut score) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
    for (c, name) in scores.compounds.iter().enumerate() {
        for (g, gene_name) in scores.genes.iter().enumerate() {
            compound.push(Some(name.clone()));
            gene.push(Some(gene_name.clone()));
            score.push(scores.scores.get(c, g));
        }
    }
    OutputTable::new()
        .with("compound", Column::Text(compound))
        .with("gene", Column::Text(gene))
        .with("score", Column::Float(score))
}
