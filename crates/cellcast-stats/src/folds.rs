//! Cross-validation folds from row counts and group labels, deterministic for a given seed:
//! scikit-learn's `KFold(shuffle=True)` layout over cellcast's seeded permutation, and its
//! `GroupKFold` assignment. The file formats and the scaffold splits live in `cellcast-data`.

use std::collections::HashMap;

use crate::rng::SplitMix64;

/// Why a split cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitError {
    #[error("cannot make {folds} folds from {items} {what}; use at most {items} folds")]
    TooFewItems { folds: usize, items: usize, what: &'static str },
    #[error("the number of folds must be at least 2 (got {0})")]
    TooFewFolds(usize),
    #[error("split fractions must be non-negative and sum to at most 1 (got {0:?})")]
    BadFractions((f64, f64, f64)),
}

/// Fold (0..folds) of each of `n` rows: a seeded permutation cut into contiguous folds, the
/// first `n % folds` of them one row larger, as scikit-learn's `KFold` cuts.
pub fn random_kfold(n: usize, folds: usize, seed: u64) -> std::result::Result<Vec<usize>, SplitError> {
    check_folds(folds, n, "rows")?;
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    let mut fold_of = vec![0; n];
    let mut start = 0;
    for f in 0..folds {
        let size = n / folds + usize::from(f < n % folds);
        for &i in &order[start..start + size] {
            fold_of[i] = f;
        }
        start += size;
    }
    Ok(fold_of)
}

fn check_folds(folds: usize, items: usize, what: &'static str) -> std::result::Result<(), SplitError> {
    if folds < 2 {
        return Err(SplitError::TooFewFolds(folds));
    }
    if folds > items {
        return Err(SplitError::TooFewItems { folds, items, what });
    }
    Ok(())
}

/// Fold of each row by scikit-learn's `GroupKFold`: unique groups in sorted order, visited by
/// size descending (ties: the later group first, as numpy's reversed argsort gives), each put in
/// the fold with the fewest rows so far (the first such fold on ties).
pub fn group_kfold(groups: &[String], folds: usize) -> std::result::Result<Vec<usize>, SplitError> {
    let mut unique: Vec<&str> = groups.iter().map(String::as_str).collect();
    unique.sort_unstable();
    unique.dedup();
    check_folds(folds, unique.len(), "groups")?;
    let index: HashMap<&str, usize> = unique.iter().enumerate().map(|(k, g)| (*g, k)).collect();
    let member: Vec<usize> = groups.iter().map(|g| index[g.as_str()]).collect();
    let mut sizes = vec![0usize; unique.len()];
    for &g in &member {
        sizes[g] += 1;
    }
    let mut order: Vec<usize> = (0..unique.len()).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(b.cmp(&a)));
    let mut load = vec![0usize; folds];
    let mut fold_of_group = vec![0; unique.len()];
    for g in order {
        let lightest = (0..folds).min_by_key(|&f| (load[f], f)).expect("folds ≥ 2");
        load[lightest] += sizes[g];
        fold_of_group[g] = lightest;
    }
    Ok(member.iter().map(|&g| fold_of_group[g]).collect())
}
