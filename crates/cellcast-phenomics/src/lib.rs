//! Zero-shot compound–gene activity from Cell Painting embeddings, as the RxRx3-core benchmark's
//! baseline does it (Recursion's EFAAR pipeline: Embed, Filter, Align, Aggregate, Relate).
//!
//! Every well of the screen — compound at a concentration, CRISPR knockout of a gene, or control —
//! is an image embedding (a [`WellTable`], read from CSV or Parquet). Then, each step its own
//! function:
//!
//! 1. [`Pca`]: principal components of all wells (centred on the global mean, signs fixed);
//! 2. [`center_scale_on_controls`]: per batch, subtract the control wells' mean and divide by
//!    their standard deviation, removing batch effects;
//! 3. [`gene_profiles`], [`compound_profiles`]: the mean well per gene and per
//!    (compound, concentration);
//! 4. [`max_abs_cosine`]: |cos| between every compound dose and every gene, maximised over the
//!    compound's concentrations — compounds × genes [`ActivityScores`].
//!
//! [`pipeline::run`] chains them (PCA and control normalisation can be turned off for
//! ablations); [`mean_average_precision`] scores the result against known activity with the
//! average precision of `polaris/pr_auc`. Real embeddings are not shipped: [`synth_phenomics`]
//! generates wells with planted compound–gene structure, batch effects and noise.

// Errors carry the file, row, column and offending text so a user can fix the input; they are
// built once on a cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

pub mod aggregate;
mod error;
pub mod evaluate;
pub mod normalize;
pub mod pipeline;
pub mod relate;
pub mod synth;
pub mod wells;

pub use aggregate::{compound_profiles, gene_profiles, CompoundProfiles, GeneProfiles};
pub use cellcast_stats::pca::Pca;
pub use error::{PhenomicsError, Result};
pub use evaluate::{mean_average_precision, ApSummary, Truth};
pub use normalize::center_scale_on_controls;
pub use pipeline::{default_components, MAX_DEFAULT_COMPONENTS};
pub use pipeline::{PipelineOptions, PipelineReport};
pub use relate::{cosine, max_abs_cosine, ActivityScores};
pub use synth::{synth_phenomics, SynthParams, SynthPhenomics};
pub use wells::{PerturbationType, WellTable};
