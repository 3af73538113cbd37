//! Neural regressors on burn's pure-Rust CPU backend: a deep MLP on the chemistry embedding and a
//! fusion decoder that also reads how well the compound is supported by the training set.
//!
//! Both predict the **residual over the training mean** of every target (an untrained network
//! is the mean baseline), with a heteroscedastic head: a per-target mean and log-variance. A
//! member trains with mean squared error for a few warm-up epochs, then with the Gaussian
//! negative log-likelihood, AdamW, dropout, and early stopping on an inner validation fold
//! (whole scaffold groups when the features carry groups). An ensemble of seeded members
//! (default 5; member m validates on inner fold m) gives the prediction — the members' mean — and
//! its total variance (the members' mean variance plus the variance of their means, see
//! [`EnsembleMoments`](crate::EnsembleMoments)), served by [`Fitted::predict_with_std`].
//!
//! Same seed, same features, same rows → identical predictions, whatever the thread count: all
//! randomness comes from per-member [`SplitMix64`](cellcast_stats::rng::SplitMix64) streams and
//! each member trains single-threaded (members and folds run in parallel instead).

mod inputs;
mod net;

pub use inputs::{Embedding, NeighbourPca, Support};
pub use net::{Objective, TrainParams};

use cellcast_stats::rng::SplitMix64;
use cellcast_stats::Matrix;
use rayon::prelude::*;

use crate::inner::inner_folds;
use crate::uncertainty::EnsembleMoments;
use crate::{column_means, Features, Fitted, ModelError, Predictor};
use inputs::{FittedInputs, InputSpec};
use net::{Block, Cpu, HeteroNet, TrainData, TrainLog};

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// The embedding alone.
    Mlp,
    /// The embedding, plus neighbour-support scalars (and optionally the neighbour-profile PCA)
    /// joining after the encoder layer.
    Fusion,
}

/// An ensemble of heteroscedastic networks (checked when fitted).
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralRegressor {
    pub architecture: Architecture,
    pub embedding: Embedding,
    /// The fusion decoder's support scalars (ignored by the MLP).
    pub support: Support,
    /// Ablation: the PCA of the retrieved neighbours' residual profiles as extra inputs.
    pub neighbour_pca: Option<NeighbourPca>,
    /// Inside `fit`, compute a training compound's neighbour inputs without the compounds of its
    /// own group (scaffold) — what a scaffold split does to test compounds — instead of leaving
    /// out only the compound itself.
    pub leave_group_out: bool,
    /// Ensemble size.
    pub members: usize,
    /// Inner folds for early stopping (member m validates on fold m mod k).
    pub inner_folds: usize,
    pub seed: u64,
    pub train: TrainParams,
}

impl NeuralRegressor {
    /// The deep MLP on log Morgan counts and standardised descriptors, 5 members.
    pub fn mlp(seed: u64) -> Self {
        NeuralRegressor {
            architecture: Architecture::Mlp,
            embedding: Embedding::MorganCountsAndDescriptors,
            support: Support::default(),
            neighbour_pca: None,
            leave_group_out: false,
            members: 5,
            inner_folds: 5,
            seed,
            train: TrainParams::default(),
        }
    }

    /// The fusion decoder (MLP + neighbour support), 5 members.
    pub fn fusion(seed: u64) -> Self {
        NeuralRegressor { architecture: Architecture::Fusion, ..Self::mlp(seed) }
    }

    pub fn with_embedding(mut self, embedding: Embedding) -> Self {
        self.embedding = embedding;
        self
    }

    pub fn with_neighbour_pca(mut self, pca: NeighbourPca) -> Self {
        self.neighbour_pca = Some(pca);
        self
    }

    pub fn with_members(mut self, members: usize) -> Self {
        self.members = members;
        self
    }

    fn spec(&self) -> InputSpec {
        InputSpec {
            embedding: self.embedding,
            support: (self.architecture == Architecture::Fusion).then_some(self.support),
            pca: self.neighbour_pca,
            leave_group_out: self.leave_group_out,
        }
    }

    fn member_seed(&self, m: usize) -> u64 {
        SplitMix64::new(self.seed ^ (m as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407)).next_u64()
    }
}

/// The fitted ensemble.
pub struct FittedNeural {
    inputs: FittedInputs,
    /// Training mean per target (the residuals' origin).
    means: Vec<f64>,
    /// The residuals' overall scale (networks work in units of it).
    scale: f64,
    members: Vec<HeteroNet<Cpu>>,
    logs: Vec<TrainLog>,
}

impl Predictor for NeuralRegressor {
    fn name(&self) -> String {
        let mut name = String::from(match self.architecture {
            Architecture::Mlp => "mlp",
            Architecture::Fusion => "fusion",
        });
        if let Some(p) = self.neighbour_pca {
            name.push_str(&format!("_pca{}", p.components));
        }
        name.push_str(match self.embedding {
            Embedding::MorganCountsAndDescriptors => "",
            Embedding::External => "_emb",
            Embedding::ExternalAndChemistry => "_emb_chem",
        });
        name
    }

    fn notes(&self) -> Vec<String> {
        let input = match self.embedding {
            Embedding::MorganCountsAndDescriptors => "log(1 + Morgan r2/2048 counts) and the 14 standardised descriptors",
            Embedding::External => "the standardised `--embedding` file",
            Embedding::ExternalAndChemistry => {
                "the standardised `--embedding` file, log(1 + Morgan r2/2048 counts) and the 14 standardised descriptors"
            }
        };
        let t = &self.train;
        let mut what = match self.architecture {
            Architecture::Mlp => "a deep MLP".to_string(),
            Architecture::Fusion => format!(
                "the fusion decoder: after the first layer it adds the compound's neighbour support among the training compounds — the largest Tanimoto similarity, the mean of the {} largest, log(1 + the number ≥ {}), computed for a training compound without itself",
                self.support.top_k, self.support.threshold
            ),
        };
        if let Some(p) = self.neighbour_pca {
            what.push_str(&format!(
                ", and the {} principal-component scores of its {} nearest neighbours' similarity-weighted residual profile",
                p.components, p.k
            ));
        }
        vec![
            format!(
                "- `{}`: an ensemble of {} seeded networks (burn, CPU) on {input}; {what}.",
                self.name(),
                self.members
            ),
            format!(
                "- Networks of the neural models: each predicts every target's residual over the training mean with a heteroscedastic head (per-target mean and log-variance): {} → {} ReLU units, dropout {}, AdamW (lr {}, weight decay {}), {} epochs of MSE, then {} with early stopping on an inner validation fold of whole scaffolds (member m holds out inner fold m mod {}). Prediction: the members' mean; σ: √(mean member variance + variance of the member means).",
                t.hidden,
                t.fused,
                t.dropout,
                t.learning_rate,
                t.weight_decay,
                t.warmup_epochs,
                match t.objective {
                    Objective::GaussianNll => "Gaussian NLL".to_string(),
                    Objective::BetaNll(b) => format!("β-NLL (β = {b})"),
                },
                self.inner_folds
            ),
        ]
    }

    fn fit(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<Box<dyn Fitted>, ModelError> {
        Ok(Box::new(self.fit_neural(features, rows, y)?))
    }
}

impl NeuralRegressor {
    /// Fits the ensemble (members in parallel).
    pub fn fit_neural(&self, features: &Features, rows: &[usize], y: &Matrix) -> Result<FittedNeural, ModelError> {
        self.train.validate()?;
        if self.members == 0 {
            return Err(ModelError::Parameter("an ensemble needs at least one member".into()));
        }
        if rows.is_empty() || y.nrows() != rows.len() {
            return Err(ModelError::NoRows);
        }
        if y.ncols() == 0 {
            return Err(ModelError::Parameter("no targets to predict".into()));
        }
        let means = column_means(y);
        let t = y.ncols();
        let mut residual = y.clone();
        let (mut sum_sq, mut n_obs) = (0.0, 0usize);
        let mut per_target = vec![(0.0, 0usize); t];
        for i in 0..rows.len() {
            for (j, v) in residual.row_mut(i).iter_mut().enumerate() {
                if !v.is_nan() {
                    *v -= means[j];
                    sum_sq += *v * *v;
                    n_obs += 1;
                    per_target[j].0 += *v * *v;
                    per_target[j].1 += 1;
                }
            }
        }
        let scale = if n_obs > 0 && sum_sq > 0.0 { (sum_sq / n_obs as f64).sqrt() } else { 1.0 };
        let (inputs, x, side) = FittedInputs::fit(self.spec(), features, rows, &residual)?;
        let mut yb = Block::zeros(rows.len(), t);
        let mut mask = Block::zeros(rows.len(), t);
        for i in 0..rows.len() {
            for j in 0..t {
                let v = residual.get(i, j);
                if !v.is_nan() {
                    yb.row_mut(i)[j] = (v / scale) as f32;
                    mask.row_mut(i)[j] = 1.0;
                }
            }
        }
        // The variance head starts at each target's residual variance (the mean baseline's).
        let log_var0: Vec<f32> = per_target
            .iter()
            .map(|&(s, n)| {
                let var = if n > 0 { s / n as f64 / (scale * scale) } else { 1.0 };
                var.max(1e-4).ln() as f32
            })
            .collect();
        let data = TrainData { x, side, y: yb, mask };
        let folds = inner_folds(features, rows, self.inner_folds, self.seed);
        let trained = (0..self.members)
            .into_par_iter()
            .map(|m| {
                let (train, val): (Vec<usize>, Vec<usize>) = match &folds {
                    Some((fold_of, k)) => (0..rows.len()).partition(|&i| fold_of[i] != m % k),
                    None => ((0..rows.len()).collect(), Vec::new()),
                };
                net::train_member(&data, &train, &val, &self.train, &log_var0, self.member_seed(m))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (members, logs) = trained.into_iter().unzip();
        Ok(FittedNeural { inputs, means, scale, members, logs })
    }
}

impl FittedNeural {
    /// The ensemble's moments on the original scale, rows × targets each.
    pub fn moments(&self, features: &Features, rows: &[usize]) -> (Matrix, Matrix, Matrix) {
        let t = self.means.len();
        let (x, side) = self.inputs.transform(features, rows);
        let outputs: Vec<(Vec<f32>, Vec<f32>)> =
            self.members.par_iter().map(|net| net::predict(net, &x, &side)).collect();
        let complete = outputs.iter().all(|(m, v)| m.len() == rows.len() * t && v.len() == m.len());
        let s2 = self.scale * self.scale;
        let mean_of = |cell: usize| self.means[cell % t];
        let moments = complete
            .then(|| {
                let mu: Vec<Vec<f64>> =
                    outputs.iter().map(|(m, _)| m.iter().map(|&v| f64::from(v) * self.scale).collect()).collect();
                let var: Vec<Vec<f64>> =
                    outputs.iter().map(|(_, v)| v.iter().map(|&lv| f64::from(lv).exp() * s2).collect()).collect();
                EnsembleMoments::combine(&mu, &var)
            })
            .flatten();
        // (Only if the backend returned nothing: the mean baseline with the residual variance.)
        let moments = moments.unwrap_or_else(|| EnsembleMoments {
            mean: vec![0.0; rows.len() * t],
            aleatoric: vec![s2; rows.len() * t],
            epistemic: vec![0.0; rows.len() * t],
        });
        let mean = (0..rows.len() * t).map(|c| moments.mean[c] + mean_of(c)).collect();
        let to_matrix = |v: Vec<f64>| {
            Matrix::from_row_major(rows.len(), t, v).unwrap_or_else(|| Matrix::filled(rows.len(), t, 0.0))
        };
        (to_matrix(mean), to_matrix(moments.aleatoric), to_matrix(moments.epistemic))
    }

    /// How each member's training went: (best epoch, epochs run, validation MSE on the original
    /// scale).
    pub fn training_summary(&self) -> Vec<(usize, usize, f64)> {
        self.logs.iter().map(|l| (l.best_epoch, l.epochs_run, l.val_mse * self.scale * self.scale)).collect()
    }
}

impl Fitted for FittedNeural {
    fn predict(&self, features: &Features, rows: &[usize]) -> Matrix {
        self.moments(features, rows).0
    }

    fn predict_with_std(&self, features: &Features, rows: &[usize]) -> Option<(Matrix, Matrix)> {
        let (mean, aleatoric, epistemic) = self.moments(features, rows);
        let mut std = aleatoric;
        for (s, e) in std.as_mut_slice().iter_mut().zip(epistemic.as_slice()) {
            *s = (*s + e).sqrt();
        }
        Some((mean, std))
    }

    fn describe(&self) -> Option<String> {
        let epochs: Vec<String> = self.logs.iter().map(|l| l.best_epoch.to_string()).collect();
        let val: Vec<f64> = self.training_summary().iter().map(|s| s.2).filter(|v| v.is_finite()).collect();
        let val = if val.is_empty() {
            String::new()
        } else {
            format!(", inner-validation MSE {:.3}", val.iter().sum::<f64>() / val.len() as f64)
        };
        Some(format!("{} members, kept epochs {}{val}", self.members.len(), epochs.join("/")))
    }
}

#[cfg(test)]
mod tests;
