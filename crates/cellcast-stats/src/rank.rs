//! Ranks with ties averaged (scipy's `rankdata(method="average")`).

/// 1-based ranks; tied values share the mean of the ranks they span.
/// NaN values must be removed by the caller (their order is not defined).
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) hold ranks start+1..=end; their mean is (start+1+end)/2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_mean_rank() {
        assert_eq!(average_ranks(&[10.0, 20.0, 10.0, 5.0, 20.0, 20.0]), vec![2.5, 5.0, 2.5, 1.0, 5.0, 5.0]);
        assert!(average_ranks(&[]).is_empty());
    }
}
