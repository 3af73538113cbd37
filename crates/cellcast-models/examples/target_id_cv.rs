//! Held-out target identification on a labelled screen given as a CSV of cells: a `condition`
//! column (controls labelled `control`) and one column per gene (log-normalised expression).
//! Prints MRR and hit@1/5/10 of every reference-based ranker for groups of 1, 10 and 20 cells.
//!
//! cargo run --release -p cellcast-models --example target_id_cv -- cells.csv

use cellcast_models::targets::{cross_validate_rankers, ConditionRanker, CvOptions, GroupSize, TargetRanker};
use cellcast_stats::Matrix;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: target_id_cv CELLS.csv")?;
    let mut reader = csv::Reader::from_path(&path)?;
    let header = reader.headers()?.clone();
    let label_col = header.iter().position(|h| h == "condition").ok_or("no `condition` column")?;
    let mut labels = Vec::new();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        labels.push(record[label_col].to_string());
        let row: Result<Vec<f64>, _> =
            record.iter().enumerate().filter(|(j, _)| *j != label_col).map(|(_, v)| v.parse::<f64>()).collect();
        rows.push(row?);
    }
    let x = Matrix::from_rows(&rows).ok_or("rows of different lengths")?;
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let rankers = [
        TargetRanker::Reference(ConditionRanker::PcaKnn { components: 50, k: 15 }),
        TargetRanker::Reference(ConditionRanker::PcaCentroid { components: 50 }),
        TargetRanker::Reference(ConditionRanker::Signature),
    ];
    let genes: Vec<String> = header.iter().filter(|h| *h != "condition").map(str::to_string).collect();
    println!("group_size,ranker,groups,mrr,hit@1,hit@5,hit@10");
    for group_size in [1, 10, 20] {
        for s in cross_validate_rankers(
            &x,
            &genes,
            &labels,
            "control",
            &rankers,
            CvOptions { folds: 5, group_size: GroupSize::Cells(group_size), seed: 0 },
        )? {
            println!(
                "{group_size},{},{},{:.4},{:.4},{:.4},{:.4}",
                s.ranker, s.groups, s.mrr, s.hit_at[0], s.hit_at[1], s.hit_at[2]
            );
        }
    }
    Ok(())
}
