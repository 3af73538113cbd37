//! Gradient-boosted trees for multi-class classification, in the way of XGBoost's `hist` method:
//! features binned at quantiles once, then each round fits one depth-limited regression tree
//! per class to the softmax loss's gradients and Hessians (second-order gain
//! G²/(H + λ), leaf weight −G/(H + λ), shrunk by the learning rate). Deterministic: no row or
//! column sampling, ties broken by feature then bin order.

use rayon::prelude::*;

use cellcast_stats::Matrix;

use crate::ModelError;

/// Boosting hyper-parameters (XGBoost's defaults where it has one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoostingParams {
    pub rounds: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    /// L2 penalty on leaf weights (XGBoost's `lambda`).
    pub lambda: f64,
    /// A split needs this much Hessian on each side (XGBoost's `min_child_weight`).
    pub min_child_weight: f64,
    /// Quantile bins per feature.
    pub bins: usize,
}

impl Default for BoostingParams {
    fn default() -> Self {
        BoostingParams { rounds: 100, learning_rate: 0.1, max_depth: 3, lambda: 1.0, min_child_weight: 1.0, bins: 32 }
    }
}

enum Node {
    Split { feature: usize, bin: u8, left: usize, right: usize },
    Leaf(f64),
}

/// A fitted booster.
pub struct GradientBoosting {
    /// Per feature, the upper edge of every bin but the last.
    edges: Vec<Vec<f64>>,
    /// trees[round][class].
    trees: Vec<Vec<Vec<Node>>>,
    classes: usize,
}

impl GradientBoosting {
    /// Fits on `x` (samples × features) with classes `y[i] < classes`.
    pub fn fit(x: &Matrix, y: &[usize], classes: usize, p: BoostingParams) -> Result<Self, ModelError> {
        let (n, features) = (x.nrows(), x.ncols());
        if n == 0 {
            return Err(ModelError::NoRows);
        }
        if y.len() != n || y.iter().any(|&c| c >= classes) || !(2..=256).contains(&p.bins) {
            return Err(ModelError::Parameter(format!(
                "{n} samples with {} labels in {classes} classes, {} bins (2..=256)",
                y.len(),
                p.bins
            )));
        }
        let edges: Vec<Vec<f64>> = (0..features).map(|j| quantile_edges(&x.column(j), p.bins)).collect();
        let binned: Vec<Vec<u8>> = (0..n).map(|i| bin_row(x.row(i), &edges)).collect();
        let mut scores = vec![0.0; n * classes];
        let mut trees = Vec::with_capacity(p.rounds);
        for _ in 0..p.rounds {
            let probs: Vec<f64> = scores.chunks(classes).flat_map(softmax).collect();
            let round: Vec<Vec<Node>> = (0..classes)
                .into_par_iter()
                .map(|k| {
                    let g: Vec<f64> = (0..n).map(|i| probs[i * classes + k] - f64::from(u8::from(y[i] == k))).collect();
                    let h: Vec<f64> =
                        (0..n).map(|i| (probs[i * classes + k] * (1.0 - probs[i * classes + k])).max(1e-16)).collect();
                    grow(&binned, &g, &h, features, &p)
                })
                .collect();
            for (i, row) in binned.iter().enumerate() {
                for (k, tree) in round.iter().enumerate() {
                    scores[i * classes + k] += predict_tree(tree, row);
                }
            }
            trees.push(round);
        }
        Ok(GradientBoosting { edges, trees, classes })
    }

    /// Class probabilities of one sample.
    pub fn predict_proba(&self, row: &[f64]) -> Vec<f64> {
        let binned = bin_row(row, &self.edges);
        let mut score = vec![0.0; self.classes];
        for round in &self.trees {
            for (s, tree) in score.iter_mut().zip(round) {
                *s += predict_tree(tree, &binned);
            }
        }
        softmax(&score)
    }
}

fn softmax(scores: &[f64]) -> Vec<f64> {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f64 = e.iter().sum();
    e.iter().map(|v| v / total).collect()
}

/// Upper edges of up to `bins` quantile bins (distinct values only).
fn quantile_edges(values: &[f64], bins: usize) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..bins).filter_map(|b| v.get(b * v.len() / bins).copied()).collect();
    edges.dedup();
    edges
}

/// The bin of every value: the number of edges below it.
fn bin_row(row: &[f64], edges: &[Vec<f64>]) -> Vec<u8> {
    row.iter().zip(edges).map(|(&v, e)| e.partition_point(|&edge| edge < v) as u8).collect()
}

fn predict_tree(tree: &[Node], row: &[u8]) -> f64 {
    let mut at = 0;
    loop {
        match tree[at] {
            Node::Split { feature, bin, left, right } => at = if row[feature] <= bin { left } else { right },
            Node::Leaf(w) => return w,
        }
    }
}

/// One regression tree on gradients `g` and Hessians `h`, depth-first.
fn grow(binned: &[Vec<u8>], g: &[f64], h: &[f64], features: usize, p: &BoostingParams) -> Vec<Node> {
    let mut nodes = vec![Node::Leaf(0.0)];
    let mut stack = vec![(0usize, (0..binned.len()).collect::<Vec<usize>>(), 0usize)];
    let mut hist = vec![(0.0f64, 0.0f64); p.bins];
    while let Some((at, rows, depth)) = stack.pop() {
        let (gs, hs) = rows.iter().fold((0.0, 0.0), |(a, b), &i| (a + g[i], b + h[i]));
        let leaf = -gs / (hs + p.lambda) * p.learning_rate;
        let parent = gs * gs / (hs + p.lambda);
        let mut best: Option<(f64, usize, u8)> = None;
        if depth < p.max_depth && rows.len() >= 2 {
            for f in 0..features {
                hist.iter_mut().for_each(|b| *b = (0.0, 0.0));
                for &i in &rows {
                    let b = &mut hist[binned[i][f] as usize];
                    b.0 += g[i];
                    b.1 += h[i];
                }
                let (mut gl, mut hl) = (0.0, 0.0);
                for (bin, &(bg, bh)) in hist.iter().enumerate().take(p.bins - 1) {
                    gl += bg;
                    hl += bh;
                    let (gr, hr) = (gs - gl, hs - hl);
                    if hl < p.min_child_weight || hr < p.min_child_weight {
                        continue;
                    }
                    let gain = gl * gl / (hl + p.lambda) + gr * gr / (hr + p.lambda) - parent;
                    if gain > 1e-12 && best.is_none_or(|b| gain > b.0) {
                        best = Some((gain, f, bin as u8));
                    }
                }
            }
        }
        match best {
            None => nodes[at] = Node::Leaf(leaf),
            Some((_, feature, bin)) => {
                let (l, r): (Vec<usize>, Vec<usize>) = rows.iter().partition(|&&i| binned[i][feature] <= bin);
                let (left, right) = (nodes.len(), nodes.len() + 1);
                nodes.push(Node::Leaf(0.0));
                nodes.push(Node::Leaf(0.0));
                nodes[at] = Node::Split { feature, bin, left, right };
                stack.push((right, r, depth + 1));
                stack.push((left, l, depth + 1));
            }
        }
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellcast_stats::rng::SplitMix64;

    #[test]
    fn learns_an_interaction_a_linear_model_cannot() {
        // Class = XOR of the signs of features 0 and 1; feature 2 is noise.
        let mut rng = SplitMix64::new(2);
        let (mut rows, mut y) = (Vec::new(), Vec::new());
        for _ in 0..400 {
            let (a, b) = (rng.normal(), rng.normal());
            rows.push(vec![a, b, rng.normal()]);
            y.push(usize::from((a > 0.0) != (b > 0.0)));
        }
        let x = Matrix::from_rows(&rows).unwrap();
        let model = GradientBoosting::fit(&x, &y, 2, BoostingParams::default()).unwrap();
        let right = (0..400).filter(|&i| {
            let p = model.predict_proba(x.row(i));
            (p[1] > 0.5) == (y[i] == 1)
        });
        assert!(right.count() > 380);
        let p = model.predict_proba(&[1.5, -1.5, 0.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12 && p[1] > 0.8, "{p:?}");
        let again = GradientBoosting::fit(&x, &y, 2, BoostingParams::default()).unwrap();
        assert_eq!(again.predict_proba(&[0.3, 0.2, 0.1]), model.predict_proba(&[0.3, 0.2, 0.1]));
        assert!(GradientBoosting::fit(&x, &y, 1, BoostingParams::default()).is_err());
    }

    #[test]
    fn bins_follow_quantiles() {
        let edges = quantile_edges(&[5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0], 4);
        assert_eq!(edges, vec![3.0, 5.0, 7.0]);
        assert_eq!(
            bin_row(&[0.0, 3.0, 3.5, 9.0], &[edges.clone(), edges.clone(), edges.clone(), edges]),
            vec![0, 0, 1, 3]
        );
    }
}
