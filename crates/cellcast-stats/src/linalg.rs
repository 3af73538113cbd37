//! The degree of parallelism of faer's kernels, fixed so that results do not depend on the
//! thread count.
//!
//! faer splits a product or a decomposition into as many parts as the parallelism it is given
//! and adds the parts' sums in that shape, so a different degree changes results in the last
//! bits. Every function of this crate that calls faer first calls [`fixed_parallelism`]: the
//! degree is then [`DEGREE`] whatever the size of the thread pool (a pool of one thread runs the
//! parts one after the other, with the same sums).

use std::sync::Once;

/// The fixed number of parts faer's parallel kernels split their work into.
pub const DEGREE: usize = 4;

/// Sets faer's global parallelism to [`DEGREE`] parts (once per process).
pub fn fixed_parallelism() {
    static SET: Once = Once::new();
    SET.call_once(|| faer::set_global_parallelism(faer::Par::rayon(DEGREE)));
}
