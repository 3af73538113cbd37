//! A random forest classifier (Breiman 2001, as scikit-learn's `RandomForestClassifier` with its
//! defaults): bootstrap samples, √features candidate features per split, Gini impurity, trees
//! grown until their leaves are pure, class probabilities averaged over the trees. Seeded: each
//! tree draws from its own generator, so the forest is the same for a seed whatever the number of
//! threads.

use rayon::prelude::*;

use cellcast_stats::rng::SplitMix64;
use cellcast_stats::Matrix;

use crate::ModelError;

/// Forest hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestParams {
    pub trees: usize,
    /// Candidate features per split; `None` = ⌊√features⌋ (at least 1).
    pub max_features: Option<usize>,
    /// A node with fewer samples is a leaf.
    pub min_samples_split: usize,
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams { trees: 100, max_features: None, min_samples_split: 2, seed: 0 }
    }
}

enum Node {
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
    /// Class probabilities of the training samples that reached the leaf.
    Leaf(Vec<f64>),
}

struct Tree {
    nodes: Vec<Node>,
}

/// A fitted forest.
pub struct RandomForest {
    trees: Vec<Tree>,
    classes: usize,
}

impl RandomForest {
    /// Fits on `x` (samples × features) with classes `y[i] < classes`.
    pub fn fit(x: &Matrix, y: &[usize], classes: usize, params: ForestParams) -> Result<Self, ModelError> {
        if x.nrows() == 0 {
            return Err(ModelError::NoRows);
        }
        if y.len() != x.nrows() || y.iter().any(|&c| c >= classes) || params.trees == 0 {
            return Err(ModelError::Parameter(format!(
                "{} samples with {} labels in {classes} classes, {} trees",
                x.nrows(),
                y.len(),
                params.trees
            )));
        }
        let features = x.ncols();
        let mtry = params.max_features.unwrap_or(((features as f64).sqrt()) as usize).clamp(1, features.max(1));
        let trees = (0..params.trees)
            .into_par_iter()
            .map(|t| {
                let mut rng = SplitMix64::new(params.seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let sample: Vec<usize> = (0..x.nrows()).map(|_| rng.below(x.nrows() as u64) as usize).collect();
                grow(x, y, classes, sample, mtry, params.min_samples_split.max(2), &mut rng)
            })
            .collect();
        Ok(RandomForest { trees, classes })
    }

    /// Class probabilities of one sample (the mean over the trees of the leaf's class shares).
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        let mut p = vec![0.0; self.classes];
        for tree in &self.trees {
            let mut node = 0;
            loop {
                match &tree.nodes[node] {
                    Node::Split { feature, threshold, left, right } => {
                        node = if row[*feature] <= *threshold { *left } else { *right };
                    }
                    Node::Leaf(share) => {
                        for (a, b) in p.iter_mut().zip(share) {
                            *a += b;
                        }
                        break;
                    }
                }
            }
        }
        let n = self.trees.len() as f64;
        p.iter().map(|v| v / n).collect()
    }
}

/// Grows one tree depth-first with an explicit stack (no recursion limit on deep trees).
fn grow(
    x: &Matrix,
    y: &[usize],
    classes: usize,
    sample: Vec<usize>,
    mtry: usize,
    min_split: usize,
    rng: &mut SplitMix64,
) -> Tree {
    let mut nodes = vec![Node::Leaf(Vec::new())];
    let mut stack = vec![(0usize, sample)];
    let mut features: Vec<usize> = (0..x.ncols()).collect();
    while let Some((at, idx)) = stack.pop() {
        let counts = class_counts(y, &idx, classes);
        let pure = counts.iter().filter(|&&c| c > 0).count() <= 1;
        let split = if pure || idx.len() < min_split {
            None
        } else {
            best_split(x, y, classes, &idx, &counts, mtry, &mut features, rng)
        };
        match split {
            None => {
                let n = idx.len() as f64;
                nodes[at] = Node::Leaf(counts.iter().map(|&c| c as f64 / n).collect());
            }
            Some((feature, threshold)) => {
                let (l, r): (Vec<usize>, Vec<usize>) = idx.iter().partition(|&&i| x.get(i, feature) <= threshold);
                let (left, right) = (nodes.len(), nodes.len() + 1);
                nodes.push(Node::Leaf(Vec::new()));
                nodes.push(Node::Leaf(Vec::new()));
                nodes[at] = Node::Split { feature, threshold, left, right };
                stack.push((right, r));
                stack.push((left, l));
            }
        }
    }
    Tree { nodes }
}

fn class_counts(y: &[usize], idx: &[usize], classes: usize) -> Vec<usize> {
    let mut c = vec![0; classes];
    for &i in idx {
        c[y[i]] += 1;
    }
    c
}

/// The (feature, threshold) among `mtry` random features that most lowers the weighted Gini
/// impurity; thresholds are midpoints between consecutive distinct values. `None` when no
/// candidate feature separates the samples (scikit-learn then keeps drawing features; here the
/// node becomes a leaf only if all features are constant).
#[allow(clippy::too_many_arguments)]
fn best_split(
    x: &Matrix,
    y: &[usize],
    classes: usize,
    idx: &[usize],
    counts: &[usize],
    mtry: usize,
    features: &mut [usize],
    rng: &mut SplitMix64,
) -> Option<(usize, f64)> {
    let n = idx.len() as f64;
    let mut best: Option<(f64, usize, f64)> = None;
    let mut order: Vec<(f64, usize)> = Vec::with_capacity(idx.len());
    let mut left = vec![0usize; classes];
    // Partial Fisher–Yates: draw features until mtry of them separate the samples (or all tried).
    let mut useful = 0;
    for k in 0..features.len() {
        if useful >= mtry {
            break;
        }
        let pick = k + rng.below((features.len() - k) as u64) as usize;
        features.swap(k, pick);
        let f = features[k];
        order.clear();
        order.extend(idx.iter().map(|&i| (x.get(i, f), y[i])));
        order.sort_by(|a, b| a.0.total_cmp(&b.0));
        if order[0].0 == order[order.len() - 1].0 {
            continue;
        }
        useful += 1;
        left.iter_mut().for_each(|c| *c = 0);
        let mut sum_sq_left = 0.0f64;
        let mut sum_sq_right: f64 = counts.iter().map(|&c| (c * c) as f64).sum();
        for s in 0..order.len() - 1 {
            let c = order[s].1;
            // Move one sample of class c from right to left: update Σ count² on both sides.
            let (l, r) = (left[c] as f64, (counts[c] - left[c]) as f64);
            sum_sq_left += 2.0 * l + 1.0;
            sum_sq_right -= 2.0 * r - 1.0;
            left[c] += 1;
            if order[s].0 == order[s + 1].0 {
                continue;
            }
            let (nl, nr) = ((s + 1) as f64, n - (s + 1) as f64);
            // Weighted Gini = Σ_side n_side (1 − Σ p²) = n − Σ_side Σ count² / n_side.
            let impurity = n - sum_sq_left / nl - sum_sq_right / nr;
            if best.is_none_or(|b| impurity < b.0) {
                best = Some((impurity, f, 0.5 * (order[s].0 + order[s + 1].0)));
            }
        }
    }
    best.map(|(_, f, t)| (f, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_classes_are_learned_and_the_forest_is_reproducible() {
        let mut rng = SplitMix64::new(1);
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..300 {
            let class = i % 3;
            // Class is decided by feature 0's band; features 1-3 are noise.
            let x0 = class as f64 + 0.3 * rng.uniform();
            rows.push(vec![x0, rng.normal(), rng.normal(), rng.normal()]);
            y.push(class);
        }
        let x = Matrix::from_rows(&rows).unwrap();
        let params = ForestParams { trees: 25, ..ForestParams::default() };
        let forest = RandomForest::fit(&x, &y, 3, params).unwrap();
        for (probe, class) in [([0.1, 0.0, 0.0, 0.0], 0), ([1.2, 0.0, 0.0, 0.0], 1), ([2.2, 5.0, -3.0, 0.0], 2)] {
            let p = forest.predict_proba(&probe);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            let best = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            assert_eq!(best, class, "{p:?}");
            assert!(p[class] > 0.8, "{p:?}");
        }
        let again = RandomForest::fit(&x, &y, 3, params).unwrap();
        assert_eq!(again.predict_proba(&[0.9, 0.1, 0.2, 0.3]), forest.predict_proba(&[0.9, 0.1, 0.2, 0.3]));
        assert!(RandomForest::fit(&x, &y, 2, params).is_err());
    }

    #[test]
    fn constant_features_make_a_leaf() {
        let x = Matrix::from_rows(&[[1.0], [1.0], [1.0]]).unwrap();
        let forest = RandomForest::fit(&x, &[0, 1, 1], 2, ForestParams { trees: 1, ..Default::default() }).unwrap();
        let p = forest.predict_proba(&[1.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
