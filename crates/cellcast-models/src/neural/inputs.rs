//! What the networks read: the chemistry embedding and, for the fusion decoder, neighbour support.

use cellcast_chem::similarity::tanimoto_bits;
use cellcast_stats::Matrix;
use faer::Mat;
use rayon::prelude::*;

use super::net::Block;
use crate::{Features, ModelError};

/// The per-compound vector a network reads (its "chemistry embedding").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embedding {
    /// log(1 + count) of each Morgan r2/2048 count and the 14 RDKit descriptors standardised on
    /// the training rows (a compound without descriptors gets 0, the training mean).
    MorganCountsAndDescriptors,
    /// The user's per-compound embedding ([`Features::embedding`]), each column standardised on
    /// the training rows.
    External,
    /// Both side by side.
    ExternalAndChemistry,
}

impl Embedding {
    fn chemistry(self) -> bool {
        matches!(self, Embedding::MorganCountsAndDescriptors | Embedding::ExternalAndChemistry)
    }

    fn external(self) -> bool {
        matches!(self, Embedding::External | Embedding::ExternalAndChemistry)
    }
}

/// Neighbour-support scalars of the fusion decoder, from Tanimoto similarities (Morgan r2/2048
/// bits) of a compound to the training compounds: the maximum, the mean of the `top_k` largest,
/// and log(1 + the number at or above `threshold`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Support {
    pub top_k: usize,
    pub threshold: f64,
}

impl Default for Support {
    fn default() -> Self {
        Support { top_k: 5, threshold: 0.4 }
    }
}

/// The ablation input: the similarity-weighted mean residual profile (label − training mean) of
/// the `k` most similar training compounds, projected on the first `components` principal
/// components of the training residual profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighbourPca {
    pub components: usize,
    pub k: usize,
}

/// Which inputs a network gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct InputSpec {
    pub embedding: Embedding,
    pub support: Option<Support>,
    pub pca: Option<NeighbourPca>,
    /// When computing the neighbour inputs of training rows inside `fit`, also leave out the
    /// training compounds of the row's own group (scaffold), as a scaffold split does to a test
    /// compound; otherwise only the compound itself is left out.
    pub leave_group_out: bool,
}

impl InputSpec {
    pub fn side_width(&self) -> usize {
        self.support.map_or(0, |_| 3) + self.pca.map_or(0, |p| p.components)
    }
}

/// Centre and scale per column (population sd; a constant column keeps scale 1).
#[derive(Debug, Clone, PartialEq)]
struct ColumnScaler {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl ColumnScaler {
    /// Fit on the rows of `values` that are `Some` (and finite per cell).
    fn fit<'a>(width: usize, values: impl Iterator<Item = &'a [f64]>) -> Self {
        let values: Vec<&[f64]> = values.collect();
        let mut mean = vec![0.0; width];
        let mut n = vec![0.0; width];
        for v in &values {
            for j in 0..width {
                if v[j].is_finite() {
                    mean[j] += v[j];
                    n[j] += 1.0;
                }
            }
        }
        for j in 0..width {
            mean[j] /= f64::max(n[j], 1.0);
        }
        let mut var = vec![0.0; width];
        for v in &values {
            for j in 0..width {
                if v[j].is_finite() {
                    var[j] += (v[j] - mean[j]).powi(2);
                }
            }
        }
        let scale = (0..width)
            .map(|j| {
                let sd = (var[j] / f64::max(n[j], 1.0)).sqrt();
                if sd > 1e-12 {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        ColumnScaler { mean, scale }
    }

    /// Standardised value; a missing (non-finite) cell becomes 0, the training mean.
    fn apply(&self, j: usize, v: f64) -> f32 {
        if v.is_finite() {
            ((v - self.mean[j]) / self.scale[j]) as f32
        } else {
            0.0
        }
    }
}

/// The principal axes of the training residual profiles.
struct PcaBasis {
    centre: Vec<f64>,
    /// targets × components.
    axes: Mat<f64>,
}

/// Fitted input transformation.
pub(crate) struct FittedInputs {
    spec: InputSpec,
    count_bits: usize,
    descriptors: Option<ColumnScaler>,
    external: Option<ColumnScaler>,
    /// Feature row of each training compound with a fingerprint (the neighbour library).
    library: Vec<usize>,
    /// Residual profile (labels − training mean, missing → 0) of each library entry.
    library_residuals: Matrix,
    pca: Option<PcaBasis>,
    /// Standardisation of the side inputs, fit on the training rows' own (left-out) values.
    side_scaler: Option<ColumnScaler>,
}

/// Tanimoto similarity of `query` (a feature row) to every library entry, excluding the query
/// row itself and, with `group`, every entry of that group.
fn similarities(features: &Features, library: &[usize], query: usize, group: Option<&str>) -> Vec<(usize, f64)> {
    let Some(q) = &features.morgan[query] else {
        return Vec::new();
    };
    let groups = features.groups.as_ref();
    let mut out: Vec<(usize, f64)> = library
        .iter()
        .enumerate()
        .filter(|&(_, &r)| r != query)
        .filter(|&(_, &r)| match (group, groups) {
            (Some(g), Some(all)) => all[r] != g,
            _ => true,
        })
        .filter_map(|(i, &r)| features.morgan[r].as_ref().map(|fp| (i, tanimoto_bits(q, fp))))
        .collect();
    // Most similar first; ties keep the earlier training row.
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

impl FittedInputs {
    /// Fits scalers (and the PCA) on the training `rows` and returns the training inputs.
    /// `residual` has one row per entry of `rows` (NaN = missing label).
    pub fn fit(
        spec: InputSpec,
        features: &Features,
        rows: &[usize],
        residual: &Matrix,
    ) -> Result<(Self, Block, Block), ModelError> {
        if spec.embedding.external() {
            match &features.embedding {
                None => {
                    return Err(ModelError::Parameter(
                        "this model reads an external embedding, but none was given".into(),
                    ))
                }
                Some(e) if e.nrows() != features.morgan.len() || e.ncols() == 0 => {
                    return Err(ModelError::Parameter(format!(
                        "the external embedding has {} rows × {} columns for {} compounds",
                        e.nrows(),
                        e.ncols(),
                        features.morgan.len()
                    )))
                }
                Some(_) => {}
            }
        }
        if let Some(p) = spec.pca {
            if p.components == 0 || p.k == 0 {
                return Err(ModelError::Parameter(
                    "neighbour PCA needs at least one component and one neighbour".into(),
                ));
            }
        }
        if let Some(s) = spec.support {
            if s.top_k == 0 {
                return Err(ModelError::Parameter("support top_k must be at least 1".into()));
            }
        }
        let descriptors = spec.embedding.chemistry().then(|| {
            ColumnScaler::fit(14, rows.iter().filter_map(|&r| features.descriptors[r].as_ref().map(|d| &d[..])))
        });
        let external = match (&features.embedding, spec.embedding.external()) {
            (Some(e), true) => Some(ColumnScaler::fit(e.ncols(), rows.iter().map(|&r| e.row(r)))),
            _ => None,
        };
        let with_fp: Vec<usize> = (0..rows.len()).filter(|&i| features.morgan[rows[i]].is_some()).collect();
        let library: Vec<usize> = with_fp.iter().map(|&i| rows[i]).collect();
        let t = residual.ncols();
        let mut library_residuals = Matrix::filled(with_fp.len(), t, 0.0);
        for (k, &i) in with_fp.iter().enumerate() {
            for (o, &v) in library_residuals.row_mut(k).iter_mut().zip(residual.row(i)) {
                *o = if v.is_nan() { 0.0 } else { v };
            }
        }
        let pca = match spec.pca {
            Some(p) => Some(pca_basis(&library_residuals, p.components)?),
            None => None,
        };
        let mut fitted = FittedInputs {
            spec,
            count_bits: features.count_bits as usize,
            descriptors,
            external,
            library,
            library_residuals,
            pca,
            side_scaler: None,
        };
        let raw_side = fitted.raw_side(features, rows, true);
        if spec.side_width() > 0 {
            fitted.side_scaler = Some(ColumnScaler::fit(spec.side_width(), raw_side.rows()));
        }
        let side = fitted.scale_side(&raw_side);
        let x = fitted.embedding(features, rows);
        Ok((fitted, x, side))
    }

    /// The inputs of `rows` (e.g. test compounds).
    pub fn transform(&self, features: &Features, rows: &[usize]) -> (Block, Block) {
        (self.embedding(features, rows), self.scale_side(&self.raw_side(features, rows, false)))
    }

    fn width(&self) -> usize {
        let chem = if self.spec.embedding.chemistry() { self.count_bits + 14 } else { 0 };
        chem + self.external.as_ref().map_or(0, |e| e.mean.len())
    }

    /// The embedding block (rows × width).
    fn embedding(&self, features: &Features, rows: &[usize]) -> Block {
        let mut x = Block::zeros(rows.len(), self.width());
        for (i, &r) in rows.iter().enumerate() {
            let out = x.row_mut(i);
            let mut at = 0;
            if let Some(scaler) = &self.descriptors {
                if let Some(c) = &features.morgan_counts[r] {
                    for &(j, n) in c.entries() {
                        if (j as usize) < self.count_bits {
                            out[j as usize] = f64::from(n).ln_1p() as f32;
                        }
                    }
                }
                if let Some(d) = &features.descriptors[r] {
                    for j in 0..14 {
                        out[self.count_bits + j] = scaler.apply(j, d[j]);
                    }
                }
                at = self.count_bits + 14;
            }
            if let (Some(scaler), Some(e)) = (&self.external, &features.embedding) {
                for (j, &v) in e.row(r).iter().enumerate() {
                    out[at + j] = scaler.apply(j, v);
                }
            }
        }
        x
    }

    /// Unscaled side inputs (rows × side width): support scalars, then PCA scores.
    fn raw_side(&self, features: &Features, rows: &[usize], in_fit: bool) -> Matrix {
        let width = self.spec.side_width();
        let mut out = Matrix::filled(rows.len(), width, 0.0);
        if width == 0 {
            return out;
        }
        let groups = features.groups.as_ref().filter(|_| in_fit && self.spec.leave_group_out);
        let per_row: Vec<Vec<f64>> = rows
            .par_iter()
            .map(|&r| {
                let sims = similarities(features, &self.library, r, groups.map(|g| g[r].as_str()));
                let mut v = Vec::with_capacity(width);
                if let Some(s) = self.spec.support {
                    let max = sims.first().map_or(0.0, |n| n.1);
                    let top: Vec<f64> = sims.iter().take(s.top_k).map(|n| n.1).collect();
                    let mean_top = if top.is_empty() { 0.0 } else { top.iter().sum::<f64>() / top.len() as f64 };
                    let above = sims.iter().take_while(|n| n.1 >= s.threshold).count();
                    v.extend([max, mean_top, (above as f64).ln_1p()]);
                }
                if let (Some(p), Some(basis)) = (self.spec.pca, &self.pca) {
                    let t = self.library_residuals.ncols();
                    let mut profile = vec![0.0; t];
                    let mut wsum = 0.0;
                    for &(i, sim) in sims.iter().take(p.k).filter(|n| n.1 > 0.0) {
                        wsum += sim;
                        for (a, &b) in profile.iter_mut().zip(self.library_residuals.row(i)) {
                            *a += sim * b;
                        }
                    }
                    for c in 0..basis.axes.ncols() {
                        // No neighbour: the mean profile (residual 0).
                        let score = if wsum > 0.0 {
                            (0..t).map(|j| (profile[j] / wsum - basis.centre[j]) * basis.axes[(j, c)]).sum()
                        } else {
                            (0..t).map(|j| -basis.centre[j] * basis.axes[(j, c)]).sum()
                        };
                        v.push(score);
                    }
                }
                v
            })
            .collect();
        for (i, v) in per_row.iter().enumerate() {
            out.row_mut(i).copy_from_slice(v);
        }
        out
    }

    fn scale_side(&self, raw: &Matrix) -> Block {
        let mut side = Block::zeros(raw.nrows(), raw.ncols());
        if let Some(scaler) = &self.side_scaler {
            for i in 0..raw.nrows() {
                for (j, (o, &v)) in side.row_mut(i).iter_mut().zip(raw.row(i)).enumerate() {
                    *o = scaler.apply(j, v);
                }
            }
        }
        side
    }
}

/// The first `components` principal axes of the rows of `residuals` (centred), by thin SVD; each
/// axis's largest loading is made positive so the result does not depend on the solver's signs.
fn pca_basis(residuals: &Matrix, components: usize) -> Result<PcaBasis, ModelError> {
    crate::linalg::fixed_parallelism();
    let (n, t) = (residuals.nrows(), residuals.ncols());
    if n < 2 {
        return Err(ModelError::NoRows);
    }
    let centre: Vec<f64> = (0..t).map(|j| (0..n).map(|i| residuals.get(i, j)).sum::<f64>() / n as f64).collect();
    let centred = Mat::<f64>::from_fn(n, t, |i, j| residuals.get(i, j) - centre[j]);
    let svd = centred.thin_svd().map_err(|e| ModelError::Parameter(format!("PCA failed: {e:?}")))?;
    let v = svd.V();
    let q = components.min(v.ncols());
    let axes = Mat::<f64>::from_fn(t, q, |j, c| {
        let largest = (0..t).map(|k| v[(k, c)]).fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
        if largest < 0.0 {
            -v[(j, c)]
        } else {
            v[(j, c)]
        }
    });
    Ok(PcaBasis { centre, axes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_leaves_the_training_compound_itself_out() {
        // Rows 0 and 1 are identical; row 2 is unrelated; row 3 is a query equal to row 0.
        let f = Features::from_bits(&[&[1, 2, 3], &[1, 2, 3], &[9], &[1, 2, 3]]);
        let y = Matrix::from_rows(&[[1.0], [2.0], [3.0]]).unwrap();
        let spec = InputSpec {
            embedding: Embedding::MorganCountsAndDescriptors,
            support: Some(Support { top_k: 2, threshold: 0.5 }),
            pca: None,
            leave_group_out: false,
        };
        let (fitted, _, _) = FittedInputs::fit(spec, &f, &[0, 1, 2], &y).unwrap();
        let train = fitted.raw_side(&f, &[0, 1, 2], true);
        // Row 0 sees row 1 (similarity 1) but not itself: max 1, top-2 mean 0.5, one above 0.5.
        assert_eq!(train.row(0), &[1.0, 0.5, 1f64.ln_1p()]);
        // Row 2 shares nothing with anyone.
        assert_eq!(train.row(2), &[0.0, 0.0, 0.0]);
        // A new compound sees both copies.
        let test = fitted.raw_side(&f, &[3], false);
        assert_eq!(test.row(0), &[1.0, 1.0, 2f64.ln_1p()]);
    }

    #[test]
    fn leave_group_out_hides_the_scaffold_during_fit_only() {
        let mut f = Features::from_bits(&[&[1, 2, 3], &[1, 2, 3], &[1, 2], &[1, 2, 3]]);
        f.groups = Some(vec!["a".into(), "a".into(), "b".into(), "a".into()]);
        let y = Matrix::from_rows(&[[1.0], [2.0], [3.0]]).unwrap();
        let spec = InputSpec {
            embedding: Embedding::MorganCountsAndDescriptors,
            support: Some(Support { top_k: 1, threshold: 0.5 }),
            pca: None,
            leave_group_out: true,
        };
        let (fitted, _, _) = FittedInputs::fit(spec, &f, &[0, 1, 2], &y).unwrap();
        // Row 0 may only see row 2 (group b): similarity 2/3.
        let train = fitted.raw_side(&f, &[0], true);
        assert!((train.get(0, 0) - 2.0 / 3.0).abs() < 1e-12);
        // At prediction time nothing but the row itself is hidden.
        assert_eq!(fitted.raw_side(&f, &[3], false).get(0, 0), 1.0);
    }

    #[test]
    fn neighbour_pca_scores_the_neighbours_profile() {
        // Two clusters of profiles along one direction; a query next to cluster "+" gets a
        // positive first score, one next to cluster "−" a negative one.
        let f = Features::from_bits(&[&[1, 2], &[1, 2, 3], &[10, 11], &[10, 11, 12], &[1, 2, 4], &[10, 11, 13]]);
        let y = Matrix::from_rows(&[[2.0, 1.0], [2.2, 1.1], [-2.0, -1.0], [-2.2, -1.1]]).unwrap();
        let spec = InputSpec {
            embedding: Embedding::MorganCountsAndDescriptors,
            support: None,
            pca: Some(NeighbourPca { components: 1, k: 2 }),
            leave_group_out: false,
        };
        let (fitted, _, side) = FittedInputs::fit(spec, &f, &[0, 1, 2, 3], &y).unwrap();
        assert_eq!((side.rows, side.cols), (4, 1));
        let test = fitted.raw_side(&f, &[4, 5], false);
        assert!(test.get(0, 0) > 1.0 && test.get(1, 0) < -1.0, "{test:?}");
    }
}
