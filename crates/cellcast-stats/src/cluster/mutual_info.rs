//! scikit-learn 1.9.1's `adjusted_mutual_info_score(labels_true, labels_pred)` (arithmetic
//! average), in its own order of operations: contingency table over the sorted labels, the
//! non-zero mutual-information terms summed by numpy's pairwise sum, the expected mutual
//! information loop of `_expected_mutual_info_fast.pyx` (scipy's cephes `gammaln` for the
//! vectorised terms, the C library's `lgamma` for the inner ones), entropies, and the epsilon
//! guards on numerator and denominator.

/// AMI of two labelings of the same items. Labels are ordered as their decimal strings sort,
/// because cell-eval hands scikit-learn Leiden's labels as strings; the order only moves the last
/// bits of the sums. Labelings of different lengths are compared on their common prefix.
pub fn adjusted_mutual_info(labels_true: &[usize], labels_pred: &[usize]) -> f64 {
    let n = labels_true.len().min(labels_pred.len());
    let (labels_true, labels_pred) = (&labels_true[..n], &labels_pred[..n]);
    let (classes, class_idx) = encode(labels_true);
    let (clusters, cluster_idx) = encode(labels_pred);
    if (classes == 1 && clusters == 1) || (classes == 0 && clusters == 0) {
        return 1.0;
    }
    if classes == 1 || clusters == 1 {
        return 0.0;
    }
    let mut table = vec![0u64; classes * clusters];
    for (&r, &c) in class_idx.iter().zip(&cluster_idx) {
        table[r * clusters + c] += 1;
    }
    let a: Vec<u64> = (0..classes).map(|r| table[r * clusters..(r + 1) * clusters].iter().sum()).collect();
    let b: Vec<u64> = (0..clusters).map(|c| (0..classes).map(|r| table[r * clusters + c]).sum()).collect();
    let mi = mutual_info(&table, &a, &b, n as u64);
    let emi = expected_mutual_info(&a, &b, n as u64);
    let h_true = entropy(&a);
    let h_pred = entropy(&b);
    let normalizer = (h_true + h_pred) / 2.0;
    let eps = f64::EPSILON;
    let mut denominator = normalizer - emi;
    denominator = if denominator < 0.0 { denominator.min(-eps) } else { denominator.max(eps) };
    let mut numerator = mi - emi;
    numerator = if numerator < 0.0 { numerator.min(-eps) } else { numerator.max(eps) };
    numerator / denominator
}

/// Class index of every item, classes ordered by the string form of their label (`np.unique`
/// on strings).
fn encode(labels: &[usize]) -> (usize, Vec<usize>) {
    let mut uniq: Vec<usize> = labels.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    uniq.sort_by_key(|l| l.to_string());
    let mut index = std::collections::HashMap::with_capacity(uniq.len());
    for (i, &l) in uniq.iter().enumerate() {
        index.insert(l, i);
    }
    (uniq.len(), labels.iter().map(|l| index[l]).collect())
}

/// `mutual_info_score` from the (CSR-ordered) non-zero cells of the contingency table.
fn mutual_info(table: &[u64], a: &[u64], b: &[u64], n: u64) -> f64 {
    let clusters = b.len();
    let nf = n as f64;
    let log_n = nf.ln();
    let log_sums = nf.ln();
    let mut terms = Vec::new();
    for (cell, &count) in table.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let (r, c) = (cell / clusters, cell % clusters);
        let cn = count as f64 / nf;
        let outer = (a[r] * b[c]) as f64;
        let log_outer = (-outer.ln() + log_sums) + log_sums;
        let mut t = cn * ((count as f64).ln() - log_n) + cn * log_outer;
        if t.abs() < f64::EPSILON {
            t = 0.0;
        }
        terms.push(t);
    }
    numpy_sum(&terms).max(0.0)
}

/// `expected_mutual_information(contingency, n_samples)`.
fn expected_mutual_info(a: &[u64], b: &[u64], n: u64) -> f64 {
    let nf = n as f64;
    let max_ab = a.iter().chain(b).copied().max().unwrap_or(0) as usize;
    let mut nijs: Vec<f64> = (0..=max_ab).map(|v| v as f64).collect();
    nijs[0] = 1.0;
    let term1: Vec<f64> = nijs.iter().map(|&x| x / nf).collect();
    let log_a: Vec<f64> = a.iter().map(|&x| (x as f64).ln()).collect();
    let log_b: Vec<f64> = b.iter().map(|&x| (x as f64).ln()).collect();
    let log_n = nf.ln();
    let log_nnij: Vec<f64> = nijs.iter().map(|&x| log_n + x.ln()).collect();
    let gln_a: Vec<f64> = a.iter().map(|&x| gammaln(x as f64 + 1.0)).collect();
    let gln_b: Vec<f64> = b.iter().map(|&x| gammaln(x as f64 + 1.0)).collect();
    let gln_na: Vec<f64> = a.iter().map(|&x| gammaln((n - x + 1) as f64)).collect();
    let gln_nb: Vec<f64> = b.iter().map(|&x| gammaln((n - x + 1) as f64)).collect();
    let gln_n1 = gammaln(nf + 1.0);
    let gln_nnij: Vec<f64> = nijs.iter().map(|&x| gammaln(x + 1.0) + gln_n1).collect();
    let mut emi = 0.0;
    for (i, &ai) in a.iter().enumerate() {
        for (j, &bj) in b.iter().enumerate() {
            let (ai, bj, ni) = (ai as i64, bj as i64, n as i64);
            let start = 1.max(ai - ni + bj);
            let end = ai.min(bj) + 1;
            for nij in start..end {
                let k = nij as usize;
                let term2 = log_nnij[k] - log_a[i] - log_b[j];
                let gln = gln_a[i] + gln_b[j] + gln_na[i] + gln_nb[j]
                    - gln_nnij[k]
                    - lgamma((ai - nij + 1) as f64)
                    - lgamma((bj - nij + 1) as f64)
                    - lgamma((ni - ai - bj + nij + 1) as f64);
                let term3 = gln.exp();
                emi += term1[k] * term2 * term3;
            }
        }
    }
    emi
}

/// `_entropy` from the class sizes (in class order).
fn entropy(counts: &[u64]) -> f64 {
    if counts.len() <= 1 {
        return 0.0;
    }
    let pi: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let pi_sum = numpy_sum(&pi);
    let log_sum = pi_sum.ln();
    let terms: Vec<f64> = pi.iter().map(|&p| (p / pi_sum) * (p.ln() - log_sum)).collect();
    -numpy_sum(&terms)
}

/// numpy's pairwise summation of a contiguous float64 array (`np.sum`).
pub(crate) fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |s, &x| s + x)
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
    }
}

#[allow(clippy::excessive_precision)]
/// scipy's `gammaln` for x ≥ 1 (cephes `lgam`; all arguments here are positive integers).
fn gammaln(x: f64) -> f64 {
    // Cephes' coefficients exactly as scipy spells them.
    const A: [f64; 5] = [
        8.11614167470508450300E-4,
        -5.95061904284301438324E-4,
        7.93650340457716943945E-4,
        -2.77777777730099687205E-3,
        8.33333333333331927722E-2,
    ];
    const B: [f64; 6] = [
        -1.37825152569120859100E3,
        -3.88016315134637840924E4,
        -3.31612992738871184744E5,
        -1.16237097492762307383E6,
        -1.72173700820839662146E6,
        -8.53555664245765465627E5,
    ];
    const C: [f64; 6] = [
        -3.51815701436523470549E2,
        -1.70642106651881159223E4,
        -2.20528590553854454839E5,
        -1.13933444367982507207E6,
        -2.53252307177582951285E6,
        -2.01889141433532773231E6,
    ];
    const LS2PI: f64 = 0.91893853320467274178;
    let polevl = |x: f64, c: &[f64]| c[1..].iter().fold(c[0], |acc, &v| acc * x + v);
    let p1evl = |x: f64, c: &[f64]| c[1..].iter().fold(x + c[0], |acc, &v| acc * x + v);
    if x < 13.0 {
        let (mut z, mut p, mut u) = (1.0, 0.0, x);
        while u >= 3.0 {
            p -= 1.0;
            u = x + p;
            z *= u;
        }
        while u < 2.0 {
            z /= u;
            p += 1.0;
            u = x + p;
        }
        if u == 2.0 {
            return z.ln();
        }
        p -= 2.0;
        let x = x + p;
        let p = x * polevl(x, &B) / p1evl(x, &C);
        return z.ln() + p;
    }
    let mut q = (x - 0.5) * x.ln() - x + LS2PI;
    if x > 1.0e8 {
        return q;
    }
    let p = 1.0 / (x * x);
    if x >= 1000.0 {
        q += ((7.9365079365079365079365e-4 * p - 2.7777777777777777777778e-3) * p + 0.0833333333333333333333) / x;
    } else {
        q += polevl(p, &A) / x;
    }
    q
}

/// The C library's `lgamma`, which the Cython EMI loop calls (glibc's on Linux).
#[cfg(unix)]
fn lgamma(x: f64) -> f64 {
    extern "C" {
        fn lgamma_r(x: f64, sign: *mut i32) -> f64;
    }
    let mut sign = 0i32;
    // SAFETY: lgamma_r is a pure libm function writing only through the given pointer.
    unsafe { lgamma_r(x, &mut sign) }
}

#[cfg(not(unix))]
fn lgamma(x: f64) -> f64 {
    gammaln(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_cases() {
        assert_eq!(adjusted_mutual_info(&[0, 0, 0], &[1, 1, 1]), 1.0);
        assert_eq!(adjusted_mutual_info(&[0, 1, 2], &[1, 1, 1]), 0.0);
        assert_eq!(adjusted_mutual_info(&[], &[]), 1.0);
    }

    #[test]
    fn numpy_sum_orders() {
        let a: Vec<f64> = (0..300).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let s = numpy_sum(&a);
        assert!((s - a.iter().sum::<f64>()).abs() < 1e-12);
    }
}
