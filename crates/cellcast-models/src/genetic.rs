//! Response prediction for unseen genetic perturbations, from per-perturbation pseudobulk
//! profiles (perturbations × genes, log-normalised) of the training perturbations:
//!
//! - `no_change`: the control profile — the perturbation does nothing;
//! - `mean`: the mean of the training perturbations' profiles;
//! - `additive`: for a double `A+B`, control + (A − control) + (B − control) when both singles
//!   were trained on (the mean otherwise);
//! - `linear_k{k}`: Ahlmann-Eltze et al.'s low-rank linear model. G = the top-k principal
//!   directions of the training profiles over genes (genes × k); a perturbation's embedding is
//!   the row of G of its gene (a double: the sum of both rows); with P the training embeddings
//!   (k × perturbations) and b the mean training profile,
//!   K = (GᵀG + λI)⁻¹ Gᵀ (Y − b) Pᵀ (PPᵀ + λI)⁻¹ and a prediction is b + G K p;
//! - `embedding_knn{k}`: the mean profile of the k training perturbations whose embeddings (as
//!   above) are most cosine-similar.
//!
//! The embedding models embed a perturbed gene by its row of G when it is measured, otherwise by
//! the PCA embedding (row of V, same components) of its single perturbation when that was
//! trained on — so a double `A+B` of trained singles is embedded even when A and B are not
//! measured. A perturbation with a gene that has neither falls back to `additive` for doubles
//! and `mean` otherwise, and the count of fallbacks is reported — never hidden.

use std::collections::HashMap;

use faer::linalg::solvers::Solve;
use faer::Mat;

use cellcast_stats::Matrix;

use crate::targets::condition_genes;
use crate::ModelError;

/// Pseudobulk profiles of perturbations.
#[derive(Debug, Clone)]
pub struct PerturbationProfiles {
    /// Condition labels (`KLF1`, `KLF1+MAP2K6`).
    pub names: Vec<String>,
    pub genes: Vec<String>,
    /// Perturbations × genes.
    pub profiles: Matrix,
    /// The control profile (one value per gene).
    pub control: Vec<f64>,
}

/// A response model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeneticModel {
    NoChange,
    Mean,
    Additive,
    LowRankLinear { k: usize, lambda: f64 },
    EmbeddingKnn { k: usize, components: usize },
}

/// Predictions for the requested perturbations, and how many fell back to a simpler model.
#[derive(Debug, Clone)]
pub struct Prediction {
    pub profiles: Matrix,
    pub fallbacks: usize,
}

impl GeneticModel {
    /// The panel: the three baselines and the two embedding models at their published defaults.
    pub fn panel() -> Vec<GeneticModel> {
        vec![
            Self::NoChange,
            Self::Mean,
            Self::Additive,
            Self::LowRankLinear { k: 10, lambda: 0.1 },
            Self::EmbeddingKnn { k: 5, components: 10 },
        ]
    }

    pub fn name(&self) -> String {
        match self {
            Self::NoChange => "no_change".into(),
            Self::Mean => "mean".into(),
            Self::Additive => "additive".into(),
            Self::LowRankLinear { k, .. } => format!("linear_k{k}"),
            Self::EmbeddingKnn { k, .. } => format!("embedding_knn{k}"),
        }
    }

    /// Predicts the profiles of `targets` (condition labels) from the training perturbations.
    pub fn predict(&self, train: &PerturbationProfiles, targets: &[String]) -> Result<Prediction, ModelError> {
        crate::linalg::fixed_parallelism();
        let (n, m) = (train.profiles.nrows(), train.profiles.ncols());
        if n == 0 {
            return Err(ModelError::NoRows);
        }
        if train.control.len() != m || train.genes.len() != m || train.names.len() != n {
            return Err(ModelError::Parameter("profiles, genes, names and control disagree in size".into()));
        }
        let mean = column_mean(&train.profiles);
        let trained: HashMap<&str, usize> = train.names.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
        let additive = |target: &str| -> Option<Vec<f64>> {
            let singles: Vec<usize> =
                condition_genes(target).map(|g| trained.get(g.as_str()).copied()).collect::<Option<_>>()?;
            let mut out = train.control.clone();
            for s in singles {
                for ((o, v), c) in out.iter_mut().zip(train.profiles.row(s)).zip(&train.control) {
                    *o += v - c;
                }
            }
            Some(out)
        };
        let fallback = |target: &str, fallbacks: &mut usize| {
            *fallbacks += 1;
            additive(target).unwrap_or_else(|| mean.clone())
        };
        let mut out = Matrix::filled(targets.len(), m, 0.0);
        let mut fallbacks = 0;
        match *self {
            Self::NoChange => (0..targets.len()).for_each(|i| out.row_mut(i).copy_from_slice(&train.control)),
            Self::Mean => (0..targets.len()).for_each(|i| out.row_mut(i).copy_from_slice(&mean)),
            Self::Additive => {
                for (i, t) in targets.iter().enumerate() {
                    let row = match additive(t) {
                        Some(r) if condition_genes(t).count() > 1 => r,
                        _ => fallback_to_mean(&mean, &mut fallbacks),
                    };
                    out.row_mut(i).copy_from_slice(&row);
                }
            }
            Self::LowRankLinear { k, lambda } => {
                let space = GeneSpace::fit(train, &mean, k)?;
                let embeddings: Vec<Option<Vec<f64>>> = train.names.iter().map(|p| space.embed(p)).collect();
                let used: Vec<usize> = (0..n).filter(|&i| embeddings[i].is_some()).collect();
                if used.is_empty() {
                    for (i, t) in targets.iter().enumerate() {
                        out.row_mut(i).copy_from_slice(&fallback(t, &mut fallbacks));
                    }
                } else {
                    let kk = space.g.ncols();
                    let p = Mat::<f64>::from_fn(kk, used.len(), |a, j| embeddings[used[j]].as_ref().expect("used")[a]);
                    let y = Mat::<f64>::from_fn(m, used.len(), |g, j| train.profiles.get(used[j], g) - mean[g]);
                    let ridge = |a: Mat<f64>| {
                        let mut a = a;
                        for d in 0..a.nrows() {
                            a[(d, d)] += lambda;
                        }
                        a
                    };
                    // K = (GᵀG + λI)⁻¹ Gᵀ Y Pᵀ (PPᵀ + λI)⁻¹, as two solves.
                    let left = ridge(space.g.transpose() * &space.g)
                        .partial_piv_lu()
                        .solve(space.g.transpose() * &y * p.transpose());
                    let kmat =
                        ridge(&p * p.transpose()).partial_piv_lu().solve(left.transpose()).transpose().to_owned();
                    for (i, t) in targets.iter().enumerate() {
                        match space.embed(t) {
                            Some(e) => {
                                let pe = Mat::<f64>::from_fn(kk, 1, |a, _| e[a]);
                                let delta = &space.g * (&kmat * &pe);
                                for (g, cell) in out.row_mut(i).iter_mut().enumerate() {
                                    *cell = mean[g] + delta[(g, 0)];
                                }
                            }
                            None => out.row_mut(i).copy_from_slice(&fallback(t, &mut fallbacks)),
                        }
                    }
                }
            }
            Self::EmbeddingKnn { k, components } => {
                let space = GeneSpace::fit(train, &mean, components)?;
                let embeddings: Vec<Option<Vec<f64>>> = train.names.iter().map(|p| space.embed(p)).collect();
                for (i, t) in targets.iter().enumerate() {
                    let Some(e) = space.embed(t) else {
                        out.row_mut(i).copy_from_slice(&fallback(t, &mut fallbacks));
                        continue;
                    };
                    let mut near: Vec<(f64, usize)> =
                        (0..n).filter_map(|j| embeddings[j].as_ref().map(|x| (cosine(&e, x), j))).collect();
                    if near.is_empty() {
                        out.row_mut(i).copy_from_slice(&fallback(t, &mut fallbacks));
                        continue;
                    }
                    near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                    near.truncate(k.max(1));
                    let rows: Vec<usize> = near.iter().map(|&(_, j)| j).collect();
                    out.row_mut(i).copy_from_slice(&column_mean(&train.profiles.select_rows(&rows)));
                }
            }
        }
        Ok(Prediction { profiles: out, fallbacks })
    }
}

fn fallback_to_mean(mean: &[f64], fallbacks: &mut usize) -> Vec<f64> {
    *fallbacks += 1;
    mean.to_vec()
}

/// The PCA of the centred training profiles (genes × perturbations = U Σ Vᵀ): G = the top-k
/// columns of U (gene embeddings, one row per gene) and the matching rows of V (the training
/// perturbations' embeddings in the same space).
struct GeneSpace {
    g: Mat<f64>,
    gene_row: HashMap<String, usize>,
    /// For each trained single-gene perturbation, its row of V (top k).
    single_row: HashMap<String, Vec<f64>>,
}

impl GeneSpace {
    fn fit(train: &PerturbationProfiles, mean: &[f64], k: usize) -> Result<Self, ModelError> {
        crate::linalg::fixed_parallelism();
        let (n, m) = (train.profiles.nrows(), train.profiles.ncols());
        let centred = Mat::<f64>::from_fn(m, n, |g, j| train.profiles.get(j, g) - mean[g]);
        let svd = centred.thin_svd().map_err(|e| ModelError::Parameter(format!("SVD failed: {e:?}")))?;
        let k = k.min(n).min(m).max(1);
        let (u, v) = (svd.U(), svd.V());
        // Fix each direction's sign (largest |entry| of U positive) so the fit is reproducible;
        // V's column flips with U's.
        let signs: Vec<f64> = (0..k)
            .map(|c| u[((0..m).fold(0, |b, i| if u[(i, c)].abs() > u[(b, c)].abs() { i } else { b }), c)].signum())
            .collect();
        let g = Mat::<f64>::from_fn(m, k, |r, c| u[(r, c)] * signs[c]);
        let single_row = train
            .names
            .iter()
            .enumerate()
            .filter(|(_, name)| condition_genes(name).count() == 1)
            .filter_map(|(j, name)| {
                let gene = condition_genes(name).next()?;
                Some((gene, (0..k).map(|c| v[(j, c)] * signs[c]).collect()))
            })
            .collect();
        Ok(Self { g, gene_row: train.genes.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect(), single_row })
    }

    /// A perturbation's embedding: the sum over its genes of the gene's row of G when the gene
    /// is measured (Ahlmann-Eltze's choice), else the row of V of the gene's trained single
    /// perturbation; `None` when a gene has neither.
    fn embed(&self, condition: &str) -> Option<Vec<f64>> {
        let rows: Vec<Vec<f64>> = condition_genes(condition)
            .map(|gene| match self.gene_row.get(&gene) {
                Some(&r) => Some((0..self.g.ncols()).map(|c| self.g[(r, c)]).collect()),
                None => self.single_row.get(&gene).cloned(),
            })
            .collect::<Option<_>>()?;
        if rows.is_empty() {
            return None;
        }
        Some((0..self.g.ncols()).map(|c| rows.iter().map(|r| r[c]).sum()).collect())
    }
}

fn column_mean(x: &Matrix) -> Vec<f64> {
    crate::pca::column_means(x)
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellcast_stats::rng::SplitMix64;

    /// 40 genes; perturbing gene g moves a low-rank program tied to g's own expression pattern.
    fn screen(seed: u64) -> (PerturbationProfiles, Vec<String>, Matrix) {
        let mut rng = SplitMix64::new(seed);
        let m = 40;
        let genes: Vec<String> = (0..m).map(|g| format!("G{g}")).collect();
        let control: Vec<f64> = (0..m).map(|_| 2.0 + rng.uniform()).collect();
        // Three programs; each gene loads on them; perturbing gene p shifts by its loadings.
        let load: Vec<[f64; 3]> = (0..m).map(|_| [rng.normal(), rng.normal(), rng.normal()]).collect();
        let effect = |p: usize, g: usize| (0..3).map(|c| load[p][c] * load[g][c]).sum::<f64>() * 0.5;
        let profile = |ps: &[usize], rng: &mut SplitMix64| -> Vec<f64> {
            (0..m).map(|g| control[g] + ps.iter().map(|&p| effect(p, g)).sum::<f64>() + 0.02 * rng.normal()).collect()
        };
        let train_ids: Vec<usize> = (0..30).collect();
        let mut rows = Vec::new();
        let mut names = Vec::new();
        for &p in &train_ids {
            rows.push(profile(&[p], &mut rng));
            names.push(format!("G{p}"));
        }
        let test_names: Vec<String> = vec!["G31".into(), "G35".into(), "G2+G5".into()];
        let truth =
            Matrix::from_rows(&[profile(&[31], &mut rng), profile(&[35], &mut rng), profile(&[2, 5], &mut rng)])
                .unwrap();
        let train = PerturbationProfiles { names, genes, profiles: Matrix::from_rows(&rows).unwrap(), control };
        (train, test_names, truth)
    }

    fn mse(a: &Matrix, b: &Matrix) -> f64 {
        a.as_slice().iter().zip(b.as_slice()).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.as_slice().len() as f64
    }

    #[test]
    fn embedding_models_beat_the_baselines_on_a_planted_low_rank_screen() {
        let (train, test, truth) = screen(1);
        let score = |model: GeneticModel| {
            let p = model.predict(&train, &test).unwrap();
            (mse(&p.profiles, &truth), p.fallbacks)
        };
        let (no_change, _) = score(GeneticModel::NoChange);
        let (mean, _) = score(GeneticModel::Mean);
        let (linear, linear_fallbacks) = score(GeneticModel::LowRankLinear { k: 3, lambda: 0.1 });
        assert_eq!(linear_fallbacks, 0);
        assert!(linear < 0.25 * mean.min(no_change), "linear {linear}, mean {mean}, no change {no_change}");
        let (knn, _) = score(GeneticModel::EmbeddingKnn { k: 3, components: 3 });
        assert!(knn < mean, "knn {knn} vs mean {mean}");
        // Additive nails the double (both singles trained) and falls back to the mean for singles.
        let additive = GeneticModel::Additive.predict(&train, &test).unwrap();
        assert_eq!(additive.fallbacks, 2);
        let double_err: f64 =
            (0..40).map(|g| (additive.profiles.get(2, g) - truth.get(2, g)).powi(2)).sum::<f64>() / 40.0;
        assert!(double_err < 0.01, "{double_err}");
    }

    #[test]
    fn unmeasured_genes_fall_back_and_are_counted() {
        let (train, _, _) = screen(2);
        let targets: Vec<String> = vec!["NOTMEASURED".into(), "G1+G3".into()];
        let p = GeneticModel::LowRankLinear { k: 3, lambda: 0.1 }.predict(&train, &["NOTMEASURED".into()]).unwrap();
        assert_eq!(p.fallbacks, 1);
        let mean = column_mean(&train.profiles);
        assert!(p.profiles.row(0).iter().zip(&mean).all(|(a, b)| (a - b).abs() < 1e-12));
        let p = GeneticModel::NoChange.predict(&train, &targets).unwrap();
        assert_eq!((p.fallbacks, p.profiles.row(1)), (0, train.control.as_slice()));
    }

    #[test]
    fn doubles_of_trained_singles_are_embedded_even_when_their_genes_are_unmeasured() {
        // The screen with the perturbed genes renamed away from the measured gene names: the
        // singles' PCA embeddings (rows of V) must carry the double.
        let (mut train, _, truth) = screen(5);
        train.names = train.names.iter().map(|n| format!("X{n}")).collect();
        let double = vec!["XG2+XG5".to_string()];
        let err = |m: GeneticModel| {
            let p = m.predict(&train, &double).unwrap();
            (mse(&p.profiles, &truth.select_rows(&[2])), p.fallbacks)
        };
        let (linear, fallbacks) = err(GeneticModel::LowRankLinear { k: 10, lambda: 0.1 });
        let (mean, _) = err(GeneticModel::Mean);
        let (additive, _) = err(GeneticModel::Additive);
        assert_eq!(fallbacks, 0);
        assert!(linear < 0.5 * mean, "linear {linear}, mean {mean}, additive {additive}");
        let p = GeneticModel::LowRankLinear { k: 10, lambda: 0.1 }.predict(&train, &["XG31".into()]).unwrap();
        assert_eq!(p.fallbacks, 1, "an unseen single with an unmeasured gene has no embedding");
    }
}
