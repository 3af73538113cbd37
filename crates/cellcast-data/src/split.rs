//! Train/test splits, all deterministic for a given seed, and their file format.
//!
//! - [`random_kfold`]: scikit-learn `KFold(shuffle=True)` layout (the first n mod K folds get one
//!   more row) over a seeded permutation — cellcast's generator, not numpy's.
//! - [`group_kfold`]: scikit-learn's `GroupKFold` assignment (before 1.6 / `shuffle=False`):
//!   groups by size, largest first, each to the currently lightest fold. With groups =
//!   Bemis–Murcko scaffolds this is the scaffold K-fold used across the field.
//! - [`deepchem_scaffold`]: DeepChem's `ScaffoldSplitter` train/valid/test.
//! - [`chemprop_scaffold`]: chemprop v1 `scaffold_split`, deterministic or balanced. The
//!   balanced variant shuffles with cellcast's seeded generator, so it does not reproduce
//!   chemprop's Python `random.Random(seed)` order.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use cellcast_stats::rng::SplitMix64;

use crate::error::{DataError, Result};
use crate::table::{WideSpec, WideTable};
use crate::write::write_atomically;

/// Where a row goes: a cross-validation fold, or one part of a train/valid/test split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    Fold(usize),
    Train,
    Valid,
    Test,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Fold(k) => write!(f, "{k}"),
            Part::Train => f.write_str("train"),
            Part::Valid => f.write_str("valid"),
            Part::Test => f.write_str("test"),
        }
    }
}

impl std::str::FromStr for Part {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "train" => Ok(Part::Train),
            "valid" | "val" => Ok(Part::Valid),
            "test" => Ok(Part::Test),
            _ => s.parse().map(Part::Fold).map_err(|_| format!("'{s}' is not a fold number or train/valid/test")),
        }
    }
}

/// How rows are split: the k-fold methods give folds 0..K-1, the deepchem / chemprop ones
/// train/valid/test. Scaffold methods read each row's group as its scaffold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SplitMethod {
    /// scikit-learn `GroupKFold` over Bemis–Murcko scaffolds.
    ScaffoldKfold,
    /// Seeded random K-fold.
    RandomKfold,
    /// `GroupKFold` over the values of a group column.
    GroupKfold,
    /// DeepChem `ScaffoldSplitter` (train/valid/test).
    Deepchem,
    /// chemprop v1 scaffold split, deterministic (train/valid/test).
    Chemprop,
    /// chemprop v1 balanced scaffold split, seeded (cellcast's generator, not Python's).
    ChempropBalanced,
}

impl SplitMethod {
    pub const ALL: [SplitMethod; 6] = [
        SplitMethod::ScaffoldKfold,
        SplitMethod::RandomKfold,
        SplitMethod::GroupKfold,
        SplitMethod::Deepchem,
        SplitMethod::Chemprop,
        SplitMethod::ChempropBalanced,
    ];

    /// The name used on the command line and in Python (`scaffold-kfold`, …).
    pub fn name(self) -> &'static str {
        match self {
            SplitMethod::ScaffoldKfold => "scaffold-kfold",
            SplitMethod::RandomKfold => "random-kfold",
            SplitMethod::GroupKfold => "group-kfold",
            SplitMethod::Deepchem => "deepchem",
            SplitMethod::Chemprop => "chemprop",
            SplitMethod::ChempropBalanced => "chemprop-balanced",
        }
    }

    /// Whether the rows' groups are their Bemis–Murcko scaffolds.
    pub fn uses_scaffolds(self) -> bool {
        !matches!(self, SplitMethod::RandomKfold | SplitMethod::GroupKfold)
    }

    /// Where each row goes, given its group (scaffold or group-column value; ignored by
    /// random-kfold). `folds` is used by the k-fold methods, `fractions` by the others.
    pub fn assign(
        self,
        groups: &[String],
        folds: usize,
        seed: u64,
        fractions: (f64, f64, f64),
    ) -> std::result::Result<Vec<Part>, SplitError> {
        Ok(match self {
            SplitMethod::RandomKfold => random_kfold(groups.len(), folds, seed)?.into_iter().map(Part::Fold).collect(),
            SplitMethod::ScaffoldKfold | SplitMethod::GroupKfold => {
                group_kfold(groups, folds)?.into_iter().map(Part::Fold).collect()
            }
            SplitMethod::Deepchem => deepchem_scaffold(groups, fractions)?,
            SplitMethod::Chemprop => chemprop_scaffold(groups, fractions, None)?,
            SplitMethod::ChempropBalanced => chemprop_scaffold(groups, fractions, Some(seed))?,
        })
    }
}

impl fmt::Display for SplitMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SplitMethod {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        SplitMethod::ALL.into_iter().find(|m| m.name() == wanted).ok_or_else(|| {
            let names: Vec<&str> = SplitMethod::ALL.iter().map(|m| m.name()).collect();
            format!("'{s}' is not a split method; use one of {}", names.join(", "))
        })
    }
}

pub use cellcast_stats::folds::{group_kfold, random_kfold, SplitError};

/// Row indices of each group, groups in order of first appearance.
fn groups_in_order(groups: &[String]) -> Vec<Vec<usize>> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut sets: Vec<Vec<usize>> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let k = *index.entry(g.as_str()).or_insert_with(|| {
            sets.push(Vec::new());
            sets.len() - 1
        });
        sets[k].push(i);
    }
    sets
}

fn check_fractions(f: (f64, f64, f64)) -> std::result::Result<(), SplitError> {
    let ok = [f.0, f.1, f.2].iter().all(|x| x.is_finite() && *x >= 0.0) && f.0 + f.1 + f.2 <= 1.0 + 1e-9;
    if ok {
        Ok(())
    } else {
        Err(SplitError::BadFractions(f))
    }
}

/// DeepChem's `ScaffoldSplitter`: groups ordered by (size, first row) descending; a group goes
/// to train unless train would pass `frac_train·n`, then to valid unless train+valid would pass
/// `(frac_train+frac_valid)·n`, else to test.
pub fn deepchem_scaffold(groups: &[String], fractions: (f64, f64, f64)) -> std::result::Result<Vec<Part>, SplitError> {
    check_fractions(fractions)?;
    let n = groups.len() as f64;
    let (train_cut, valid_cut) = (fractions.0 * n, (fractions.0 + fractions.1) * n);
    let mut sets = groups_in_order(groups);
    sets.sort_by(|a, b| (b.len(), b[0]).cmp(&(a.len(), a[0])));
    let mut parts = vec![Part::Train; groups.len()];
    let (mut train, mut valid) = (0usize, 0usize);
    for set in sets {
        let part = if (train + set.len()) as f64 > train_cut {
            if (train + valid + set.len()) as f64 > valid_cut {
                Part::Test
            } else {
                valid += set.len();
                Part::Valid
            }
        } else {
            train += set.len();
            Part::Train
        };
        set.iter().for_each(|&i| parts[i] = part);
    }
    Ok(parts)
}

/// chemprop v1's `scaffold_split`. Deterministic (`balanced = None`): groups by size
/// descending, first-seen first on ties. Balanced (`Some(seed)`): groups larger than half the
/// valid or test size first, each half shuffled with the seed. Each group goes to train if it
/// fits in `sizes.0·n`, else to valid if it fits in `sizes.1·n`, else to test.
pub fn chemprop_scaffold(
    groups: &[String],
    sizes: (f64, f64, f64),
    balanced: Option<u64>,
) -> std::result::Result<Vec<Part>, SplitError> {
    check_fractions(sizes)?;
    let n = groups.len() as f64;
    let (train_size, valid_size, test_size) = (sizes.0 * n, sizes.1 * n, sizes.2 * n);
    let mut sets = groups_in_order(groups);
    match balanced {
        None => sets.sort_by_key(|s| std::cmp::Reverse(s.len())), // stable: first-seen first on ties
        Some(seed) => {
            let (mut big, mut small): (Vec<_>, Vec<_>) =
                sets.into_iter().partition(|s| s.len() as f64 > valid_size / 2.0 || s.len() as f64 > test_size / 2.0);
            let mut rng = SplitMix64::new(seed);
            rng.shuffle(&mut big);
            rng.shuffle(&mut small);
            big.extend(small);
            sets = big;
        }
    }
    let mut parts = vec![Part::Train; groups.len()];
    let (mut train, mut valid) = (0usize, 0usize);
    for set in sets {
        let part = if (train + set.len()) as f64 <= train_size {
            train += set.len();
            Part::Train
        } else if (valid + set.len()) as f64 <= valid_size {
            valid += set.len();
            Part::Valid
        } else {
            Part::Test
        };
        set.iter().for_each(|&i| parts[i] = part);
    }
    Ok(parts)
}

/// A split as stored on disk: one row per id with its group (e.g. scaffold) and part.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitTable {
    pub ids: Vec<String>,
    pub groups: Vec<String>,
    pub parts: Vec<Part>,
}

impl SplitTable {
    /// Writes `id,group,fold` CSV atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomically(path, |out| {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["id", "group", "fold"]).map_err(std::io::Error::other)?;
            for ((id, g), p) in self.ids.iter().zip(&self.groups).zip(&self.parts) {
                w.write_record([id.as_str(), g.as_str(), &p.to_string()]).map_err(std::io::Error::other)?;
            }
            w.flush()
        })
    }

    /// Reads a split written by [`SplitTable::write`] (CSV or Parquet with `id`, `fold` and an
    /// optional `group` column).
    pub fn read(path: &Path) -> Result<Self> {
        let spec = WideSpec { optional_text: &["group"], ..WideSpec::text_only("id", &["fold"]) };
        let table = WideTable::read(path, &spec)?;
        let folds = table.text_column("fold").expect("requested column");
        let mut parts = Vec::with_capacity(folds.len());
        for (i, f) in folds.iter().enumerate() {
            let raw = f.as_deref().unwrap_or("");
            parts.push(raw.parse::<Part>().map_err(|why| DataError::Mismatch {
                path: path.to_path_buf(),
                message: format!("row {} (id '{}'), column 'fold': {why}", i + 1, table.ids[i]),
            })?);
        }
        let groups = table
            .text_column("group")
            .map(|g| g.iter().map(|v| v.clone().unwrap_or_default()).collect())
            .unwrap_or_else(|| vec![String::new(); parts.len()]);
        Ok(SplitTable { ids: table.ids, groups, parts })
    }
}

/// K-fold assignments of a given list of ids, read from a split file.
#[derive(Debug, Clone, PartialEq)]
pub struct KFolds {
    /// The fold (0..k) of each id, in the order asked for.
    pub folds: Vec<usize>,
    /// The group (e.g. scaffold) of each id; empty strings when the file has none.
    pub groups: Vec<String>,
    pub k: usize,
}

impl SplitTable {
    /// The folds of `ids` (each must have exactly one row; rows of other ids are an error too, so
    /// a split made for other data is never half-used), from a k-fold split. `path` names the
    /// file in errors.
    pub fn kfolds_of(&self, ids: &[String], path: &Path) -> Result<KFolds> {
        let mismatch = |message: String| DataError::Mismatch { path: path.to_path_buf(), message };
        let row_of: HashMap<&str, usize> = self.ids.iter().enumerate().map(|(r, id)| (id.as_str(), r)).collect();
        let missing: Vec<&str> = ids.iter().map(String::as_str).filter(|id| !row_of.contains_key(id)).collect();
        if !missing.is_empty() {
            return Err(mismatch(format!(
                "no fold for {} of the {} training compounds ({}); split the training compounds themselves",
                missing.len(),
                ids.len(),
                crate::preview(&missing, 5)
            )));
        }
        if self.ids.len() != ids.len() {
            let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
            let extra: Vec<&str> = self.ids.iter().map(String::as_str).filter(|id| !wanted.contains(id)).collect();
            return Err(mismatch(format!(
                "{} id(s) are not training compounds ({}); split the training compounds themselves",
                extra.len(),
                crate::preview(&extra, 5)
            )));
        }
        let mut folds = Vec::with_capacity(ids.len());
        for id in ids {
            match self.parts[row_of[id.as_str()]] {
                Part::Fold(k) => folds.push(k),
                part => {
                    return Err(mismatch(format!(
                        "id '{id}' is in part '{part}': cross-validation needs k-fold folds (cellcast split \
                         --method scaffold-kfold, random-kfold or group-kfold)"
                    )))
                }
            }
        }
        let k = folds.iter().max().map_or(0, |m| m + 1);
        if let Some(empty) = (0..k).find(|f| !folds.contains(f)) {
            return Err(mismatch(format!("fold {empty} of 0..{} has no compound; number the folds 0..K-1", k - 1)));
        }
        if k < 2 {
            return Err(mismatch(format!("{k} fold(s): cross-validation needs at least 2")));
        }
        let groups = ids.iter().map(|id| self.groups[row_of[id.as_str()]].clone()).collect();
        Ok(KFolds { folds, groups, k })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kfolds_of_a_split_file() {
        let table = SplitTable {
            ids: labels(&["a", "b", "c", "d"]),
            groups: labels(&["s1", "s1", "s2", "s3"]),
            parts: vec![Part::Fold(1), Part::Fold(1), Part::Fold(0), Part::Fold(0)],
        };
        let path = Path::new("folds.csv");
        let got = table.kfolds_of(&labels(&["d", "a", "c", "b"]), path).unwrap();
        assert_eq!(got, KFolds { folds: vec![0, 1, 0, 1], groups: labels(&["s3", "s1", "s2", "s1"]), k: 2 });
        let e = table.kfolds_of(&labels(&["a", "b", "c", "d", "e"]), path).unwrap_err().to_string();
        assert!(e.contains("folds.csv") && e.contains("no fold for 1 of the 5") && e.contains("'e'"), "{e}");
        let e = table.kfolds_of(&labels(&["a", "b", "c"]), path).unwrap_err().to_string();
        assert!(e.contains("'d'") && e.contains("not training compounds"), "{e}");
        let gap =
            SplitTable { parts: vec![Part::Fold(0), Part::Fold(2), Part::Fold(0), Part::Fold(2)], ..table.clone() };
        assert!(gap.kfolds_of(&table.ids, path).unwrap_err().to_string().contains("fold 1 of 0..2 has no compound"));
        let tvt = SplitTable { parts: vec![Part::Train, Part::Train, Part::Valid, Part::Test], ..table.clone() };
        assert!(tvt.kfolds_of(&table.ids, path).unwrap_err().to_string().contains("needs k-fold folds"));
    }

    fn labels(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn random_kfold_balances_and_repeats() {
        let f = random_kfold(11, 3, 42).unwrap();
        let counts: Vec<usize> = (0..3).map(|k| f.iter().filter(|&&x| x == k).count()).collect();
        assert_eq!(counts, vec![4, 4, 3]);
        assert_eq!(f, random_kfold(11, 3, 42).unwrap());
        assert_ne!(f, random_kfold(11, 3, 43).unwrap());
        assert_eq!(random_kfold(2, 3, 0), Err(SplitError::TooFewItems { folds: 3, items: 2, what: "rows" }));
    }

    #[test]
    fn group_kfold_puts_largest_groups_first_in_lightest_fold() {
        // Sizes a 4, b 3, c 2, d 1. Loads: a→0 [4,0]; b→1 [4,3]; c→1 [4,5]; d→0 [5,5].
        let g = labels(&["a", "a", "a", "a", "b", "b", "b", "c", "c", "d"]);
        let f = group_kfold(&g, 2).unwrap();
        assert_eq!(f, vec![0, 0, 0, 0, 1, 1, 1, 1, 1, 0]);
        // Whole groups stay together.
        assert!(group_kfold(&labels(&["x", "x"]), 2).is_err());
    }

    #[test]
    fn deepchem_and_chemprop_orders() {
        // 10 rows: group sizes 4 (s1), 3 (s2), 2 (s3), 1 (s4).
        let g = labels(&["s1", "s2", "s1", "s3", "s1", "s2", "s4", "s3", "s1", "s2"]);
        let dc = deepchem_scaffold(&g, (0.8, 0.1, 0.1)).unwrap();
        // Cut-offs 8 and 9. s1 → train (4), s2 → train (7), s3: 7+2 > 8 and 7+0+2 ≤ 9 → valid,
        // s4: 7+1 ≤ 8 → train.
        assert_eq!(dc[3], Part::Valid);
        assert_eq!(dc[6], Part::Train);
        assert_eq!(dc.iter().filter(|p| **p == Part::Train).count(), 8);
        let cp = chemprop_scaffold(&g, (0.8, 0.1, 0.1), None).unwrap();
        // s1 4 ≤ 8, s2 7 ≤ 8, s3 9 > 8 → valid 2 > 1 → test, s4 8 ≤ 8 → train.
        assert_eq!(cp[3], Part::Test);
        assert_eq!(cp[6], Part::Train);
        let b1 = chemprop_scaffold(&g, (0.8, 0.1, 0.1), Some(3)).unwrap();
        assert_eq!(b1, chemprop_scaffold(&g, (0.8, 0.1, 0.1), Some(3)).unwrap());
        assert!(deepchem_scaffold(&g, (0.9, 0.2, 0.1)).is_err());
    }

    #[test]
    fn parts_round_trip_through_text() {
        for p in [Part::Fold(0), Part::Fold(12), Part::Train, Part::Valid, Part::Test] {
            assert_eq!(p.to_string().parse::<Part>().unwrap(), p);
        }
        assert!("x".parse::<Part>().is_err());
    }
}
