//! Target-identification ranking metrics (hit@k, recall@k, nDCG@k, MRR).
//!
//! Candidates are ranked by score descending; tied scores keep their column order (a stable
//! sort by (score desc, column asc) — the reference's numpy argsort gives no guarantee here).
//! As in the reference, targets that are not candidate columns are dropped, repeated targets
//! count once, and queries left without a target are skipped.

use crate::error::Result;
use crate::inputs::RankingInputs;
use crate::params::Params;
use crate::registry::MetricInfo;
use crate::score::{Breakdown, Score};

#[derive(Clone, Copy)]
enum Kind {
    RelevantHit,
    ExactHit,
    Recall,
    Ndcg,
    Mrr,
}

/// The per-query value, given the 1-based ranks of the query's (distinct, candidate) targets.
fn query_value(kind: Kind, target_ranks: &[usize], k: usize) -> f64 {
    let in_top = target_ranks.iter().filter(|&&r| r <= k).count();
    match kind {
        Kind::RelevantHit => f64::from(u8::from(in_top > 0)),
        Kind::ExactHit => f64::from(u8::from(in_top == target_ranks.len())),
        Kind::Recall => in_top as f64 / target_ranks.len() as f64,
        Kind::Ndcg => {
            let dcg: f64 = target_ranks.iter().filter(|&&r| r <= k).map(|&r| 1.0 / ((r + 1) as f64).log2()).sum();
            let ideal: f64 = (1..=target_ranks.len().min(k)).map(|r| 1.0 / ((r + 1) as f64).log2()).sum();
            dcg / ideal
        }
        Kind::Mrr => 1.0 / *target_ranks.iter().min().expect("a scored query has a target") as f64,
    }
}

pub(crate) fn score(info: &MetricInfo, x: &RankingInputs, params: &Params) -> Result<Score> {
    let kind = match info.name {
        "ranking/relevant_hit@k" => Kind::RelevantHit,
        "ranking/exact_hit@k" => Kind::ExactHit,
        "ranking/recall@k" => Kind::Recall,
        "ranking/ndcg@k" => Kind::Ndcg,
        _ => Kind::Mrr,
    };
    // MRR has no cut-off; the @k metrics were checked to carry a positive k.
    let k = params.get_usize("k").unwrap_or(usize::MAX);
    let mut score = Score::new(info.name, info.direction, Breakdown::PerRow);
    let mut order: Vec<usize> = Vec::with_capacity(x.candidates.len());
    let mut rank_of = vec![0usize; x.candidates.len()];
    for (i, id) in x.ids.iter().enumerate() {
        let scores = x.scores.row(i); // finite: checked before any metric runs
        let mut wanted: Vec<usize> =
            x.targets[i].iter().filter_map(|t| x.candidates.iter().position(|c| c == t)).collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            score.n_skipped += 1;
            continue;
        }
        order.clear();
        order.extend(0..x.candidates.len());
        // `+ 0.0` turns −0 into +0 so that the two tie, as they do numerically.
        order.sort_by(|&a, &b| (scores[b] + 0.0).total_cmp(&(scores[a] + 0.0)).then(a.cmp(&b)));
        for (pos, &j) in order.iter().enumerate() {
            rank_of[j] = pos + 1;
        }
        let ranks: Vec<usize> = wanted.iter().map(|&j| rank_of[j]).collect();
        score.entries.push((id.clone(), query_value(kind, &ranks, k)));
    }
    score.n_scored = score.entries.len();
    if score.n_skipped > 0 {
        score
            .warnings
            .push(format!("{} quer(ies) without a target among the candidate columns skipped", score.n_skipped));
    }
    score.value = if score.n_scored == 0 {
        score.warnings.push("no query could be scored: the value is 0, as in the reference".into());
        0.0
    } else {
        score.entries.iter().map(|(_, v)| v).sum::<f64>() / score.n_scored as f64
    };
    Ok(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_query_values() {
        // Targets at ranks 2 and 5.
        let ranks = [2, 5];
        assert_eq!(query_value(Kind::RelevantHit, &ranks, 1), 0.0);
        assert_eq!(query_value(Kind::RelevantHit, &ranks, 2), 1.0);
        assert_eq!(query_value(Kind::ExactHit, &ranks, 4), 0.0);
        assert_eq!(query_value(Kind::ExactHit, &ranks, 5), 1.0);
        assert_eq!(query_value(Kind::Recall, &ranks, 3), 0.5);
        assert_eq!(query_value(Kind::Mrr, &ranks, usize::MAX), 0.5);
        let ndcg = query_value(Kind::Ndcg, &ranks, 5);
        let expected = (1.0 / 3f64.log2() + 1.0 / 6f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((ndcg - expected).abs() < 1e-15);
    }
}
