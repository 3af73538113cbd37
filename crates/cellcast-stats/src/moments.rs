//! Means and variances, written the way each reference package computes them.

/// Arithmetic mean; NaN for an empty slice.
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

/// Two-pass variance with `ddof` delta degrees of freedom (numpy's `var(ddof=…)`).
/// NaN when fewer than `ddof + 1` values.
pub fn variance(x: &[f64], ddof: usize) -> f64 {
    if x.len() <= ddof {
        return f64::NAN;
    }
    let m = mean(x);
    let ss: f64 = x.iter().map(|v| (v - m) * (v - m)).sum();
    ss / (x.len() - ddof) as f64
}

/// Median (average of the two middle values for an even count); NaN for an empty slice.
pub fn median(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Replicate samples summarised per group, the way the VCPI contest derives its moments: per
/// group and gene the sums of x and x² (samples added in sample order), per gene the totals over
/// all samples and the two-pass variance over all samples (ddof 1, 0 with fewer than 2 samples).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicateSums {
    /// Group labels, sorted.
    pub groups: Vec<String>,
    /// Samples per group.
    pub sizes: Vec<usize>,
    /// groups × genes.
    pub sum: crate::Matrix,
    pub sum_sq: crate::Matrix,
    pub total: Vec<f64>,
    pub total_sq: Vec<f64>,
    pub pooled_var: Vec<f64>,
    pub samples: usize,
}

impl ReplicateSums {
    /// Empty sums for `genes` genes; `of[i]` is sample i's group (an index into `groups`).
    pub fn new(groups: Vec<String>, of: &[usize], genes: usize) -> ReplicateSums {
        let mut sizes = vec![0; groups.len()];
        for &g in of {
            sizes[g] += 1;
        }
        ReplicateSums {
            sum: crate::Matrix::filled(groups.len(), genes, 0.0),
            sum_sq: crate::Matrix::filled(groups.len(), genes, 0.0),
            total: vec![0.0; genes],
            total_sq: vec![0.0; genes],
            pooled_var: vec![0.0; genes],
            samples: of.len(),
            sizes,
            groups,
        }
    }

    /// Sums of `samples` (one row per sample) with `labels[i]` the group of sample `i`.
    pub fn from_rows(samples: &[Vec<f64>], labels: &[String]) -> ReplicateSums {
        let genes = samples.first().map_or(0, Vec::len);
        let mut groups: Vec<String> = labels.to_vec();
        groups.sort_unstable();
        groups.dedup();
        let of: Vec<usize> = labels.iter().map(|l| groups.binary_search(l).expect("a label")).collect();
        let mut acc = ReplicateSums::new(groups, &of, genes);
        for j in 0..genes {
            let column: Vec<f64> = samples.iter().map(|s| s[j]).collect();
            acc.add_gene(j, &column, &of);
        }
        acc
    }

    /// Adds gene `j`'s values over every sample (`of[i]` = sample i's group): what a reader of
    /// a genes × samples table calls once per gene row.
    pub fn add_gene(&mut self, j: usize, values: &[f64], of: &[usize]) {
        for (&v, &g) in values.iter().zip(of) {
            let (s, q) = (self.sum.get(g, j), self.sum_sq.get(g, j));
            self.sum.set(g, j, s + v);
            self.sum_sq.set(g, j, q + v * v);
            self.total[j] += v;
            self.total_sq[j] += v * v;
        }
        self.pooled_var[j] = if values.len() >= 2 { variance(values, 1) } else { 0.0 };
    }

    /// Group means, groups × genes.
    pub fn means(&self) -> crate::Matrix {
        let mut m = self.sum.clone();
        for (g, &n) in self.sizes.iter().enumerate() {
            for v in m.row_mut(g) {
                *v /= n as f64;
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_of_small_sample() {
        let x = [1.0, 2.0, 4.0, 7.0];
        assert_eq!(mean(&x), 3.5);
        assert_eq!(variance(&x, 0), 5.25);
        assert_eq!(variance(&x, 1), 7.0);
        assert_eq!(median(&x), 3.0);
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert!(mean(&[]).is_nan());
        assert!(variance(&[1.0], 1).is_nan());
    }
}
