//! The whole zero-shot pipeline: PCA → control normalisation per batch → aggregation → max |cos|.
//! PCA and control normalisation can each be turned off, for ablations.

use crate::aggregate::{compound_profiles, gene_profiles};
use crate::error::{PhenomicsError, Result};
use crate::normalize::center_scale_on_controls;
use crate::relate::{max_abs_cosine, ActivityScores};
use crate::wells::{PerturbationType, WellTable};
use cellcast_stats::pca::Pca;

/// EFAAR keeps at most 128 components of the foundation-model embeddings.
pub const MAX_DEFAULT_COMPONENTS: usize = 128;

/// The default number of components: min(128, dimensions, wells − 1); the centred wells have rank
/// at most wells − 1, and a component beyond that rank is numerical noise.
pub fn default_components(wells: usize, dims: usize) -> usize {
    MAX_DEFAULT_COMPONENTS.min(dims).min(wells.saturating_sub(1))
}

/// Which steps run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineOptions {
    /// Project the embeddings on their principal components first.
    pub pca: bool,
    /// Components to keep; `None` for min(128, dimensions, wells − 1).
    pub pca_components: Option<usize>,
    /// Centre and scale each batch on its control wells.
    pub control_norm: bool,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions { pca: true, pca_components: None, control_norm: true }
    }
}

/// What the pipeline saw and did, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineReport {
    pub wells: usize,
    pub control_wells: usize,
    pub batches: usize,
    pub input_dimensions: usize,
    /// Kept components and the fraction of the variance they explain, when PCA ran.
    pub pca: Option<(usize, f64)>,
    pub genes: usize,
    pub compounds: usize,
    /// (compound, concentration) profiles.
    pub doses: usize,
}

/// Runs the pipeline on a well table: compounds × genes activity scores and a report.
pub fn run(wells: &WellTable, options: &PipelineOptions) -> Result<(ActivityScores, PipelineReport)> {
    wells.check_shape()?;
    for kind in [PerturbationType::Gene, PerturbationType::Compound] {
        if wells.count(kind) == 0 {
            return Err(PhenomicsError::NoWells(kind.as_str()));
        }
    }
    // (a) PCA on all wells.
    let (x, names, pca) = if options.pca {
        let k = options.pca_components.unwrap_or_else(|| default_components(wells.nwells(), wells.dimensions.len()));
        let fit = Pca::fit(&wells.embeddings, k)?;
        let names: Vec<String> = (1..=k).map(|c| format!("PC{c}")).collect();
        (fit.transform(&wells.embeddings), names, Some((k, fit.explained_fraction())))
    } else {
        (wells.embeddings.clone(), wells.dimensions.clone(), None)
    };
    // (b) Per batch, centre and scale on the controls.
    let is_control: Vec<bool> = wells.perturbation_type.iter().map(|&t| t == PerturbationType::Control).collect();
    let x = if options.control_norm { center_scale_on_controls(&x, &wells.batch, &is_control, &names)? } else { x };
    // (c) Profiles per gene and per compound dose; (d) max |cos| over doses.
    let genes = gene_profiles(&wells.perturbation, &wells.perturbation_type, &x);
    let compounds = compound_profiles(&wells.perturbation, &wells.perturbation_type, &wells.concentration, &x);
    let scores = max_abs_cosine(&compounds, &genes);
    let batches: std::collections::BTreeSet<&str> = wells.batch.iter().map(String::as_str).collect();
    let report = PipelineReport {
        wells: wells.nwells(),
        control_wells: wells.count(PerturbationType::Control),
        batches: batches.len(),
        input_dimensions: wells.dimensions.len(),
        pca,
        genes: genes.genes.len(),
        compounds: compounds.compounds.len(),
        doses: compounds.doses.len(),
    };
    Ok((scores, report))
}
