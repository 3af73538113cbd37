//! cellcast as a library: every workflow of the `cellcast` command and the Python package, as a
//! function of plain options returning a typed outcome.
//!
//! Data flows one way — load → featurize → split → fit → predict → score → report — through the
//! crates below this one (`cellcast-data`, `-chem`, `-models`, `-metrics`, `-eval`, `-stats`,
//! `-phenomics`); this crate composes them. Each workflow takes an options struct (with
//! `Default` and `validate()`), and an [`Observer`] that receives notes, warnings and progress:
//! nothing here prints, parses command lines or draws progress bars.
//!
//! ```no_run
//! use cellcast::chem::{scaffold, ScaffoldOptions, MoleculeSource};
//!
//! let opts = ScaffoldOptions {
//!     input: MoleculeSource::new("compounds.csv", "smiles", "id"),
//!     out: "scaffolds.csv".into(),
//!     ..Default::default()
//! };
//! let outcome = scaffold(&opts, &cellcast::Silent)?;
//! println!("{} rows, {} unreadable", outcome.rows, outcome.failed);
//! # Ok::<(), cellcast::Error>(())
//! ```

mod error;
mod observer;

pub mod cells;
pub mod chem;
pub mod compare;
pub mod de;
pub mod demo;
pub mod evaluate;
pub mod genetic;
pub mod panel;
pub mod phenomics;
pub mod pseudobulk;
pub mod report;
pub mod run;
pub mod score;
pub mod synth;
pub mod table;
pub mod targets;
pub mod weights;

pub use cells::CellsSource;
pub use error::{Context, Error, ErrorKind, Result};
pub use observer::{Collect, Observer, Progress, Silent, Unit};

/// The crates below the façade, for callers that need their vocabulary types (a `Matrix`, a
/// `MorganParams`, a metric's `Params`).
pub mod engine {
    pub use cellcast_celleval as celleval;
    pub use cellcast_chem as chem;
    pub use cellcast_data as data;
    pub use cellcast_eval as eval;
    pub use cellcast_metrics as metrics;
    pub use cellcast_models as models;
    pub use cellcast_phenomics as phenomics;
    pub use cellcast_stats as stats;
}
