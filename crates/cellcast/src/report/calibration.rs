//! The report section on a model's predictive uncertainty: how its out-of-fold σ relates to its
//! out-of-fold errors (see `cellcast_eval::calibration`), with a reliability plot.

use std::fmt::Write as _;

use cellcast_eval::calibration::{Calibration, ONE_SIGMA, TWO_SIGMA};

use super::fmt;

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.1} %", 100.0 * v)
    } else {
        "–".into()
    }
}

/// The markdown section for `model`; `svg` is the file name of its reliability plot.
pub fn markdown(model: &str, c: &Calibration, svg: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## Uncertainty calibration of `{model}`\n");
    let _ = writeln!(
        s,
        "Out-of-fold predictive σ (the ensemble's total standard deviation: mean member variance + \
         variance of the member means) against the out-of-fold absolute error, over {} cells \
         (compounds × targets with a label).\n",
        c.cells
    );
    let _ = writeln!(
        s,
        "- Pearson(σ, |error|): **{}**; for a σ that ignores the compound (each target's sd over the \
         training folds): {}",
        fmt(c.pearson),
        fmt(c.pearson_per_target_sd)
    );
    let _ = writeln!(
        s,
        "- coverage of ±1σ: **{}** (Gaussian {}), of ±2σ: **{}** (Gaussian {})",
        pct(c.coverage_1),
        pct(ONE_SIGMA),
        pct(c.coverage_2),
        pct(TWO_SIGMA)
    );
    let _ = writeln!(
        s,
        "- σ scale: ×{} makes ±1σ cover {} of all folds' cells (the 68.3 % quantile of |error|/σ); \
         the Gaussian maximum-likelihood scale √mean((error/σ)²) is ×{}. They differ when errors \
         are heavier-tailed than a Gaussian.",
        fmt(c.scale),
        pct(ONE_SIGMA),
        fmt(c.gaussian_scale)
    );
    if !c.held_out.is_empty() {
        let _ = writeln!(
            s,
            "- fit on the other folds, tested on each fold: coverage of ±1σ {} → **{}**, of ±2σ {} → **{}** \
             (pooled over the held-out folds)\n",
            pct(c.coverage_1),
            pct(c.coverage_1_scaled),
            pct(c.coverage_2),
            pct(c.coverage_2_scaled)
        );
        let _ = writeln!(
            s,
            "| held-out fold | cells | scale (fit on the others) | ±1σ before | ±1σ after | ±2σ before | ±2σ after |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        for h in &c.held_out {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                h.fold,
                h.cells,
                fmt(h.scale),
                pct(h.coverage_1_before),
                pct(h.coverage_1_after),
                pct(h.coverage_2_before),
                pct(h.coverage_2_after)
            );
        }
    }
    let _ = writeln!(
        s,
        "\nReliability by decile of σ (a calibrated σ has RMS σ = RMSE in every row):\n\n\
         | decile | σ range | RMS σ | RMSE | RMSE / RMS σ | ±1σ coverage |\n|---|---|---|---|---|---|"
    );
    for (k, b) in c.deciles.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | {} – {} | {} | {} | {} | {} |",
            k + 1,
            fmt(b.sigma_low),
            fmt(b.sigma_high),
            fmt(b.rms_sigma),
            fmt(b.rmse),
            fmt(b.rmse / b.rms_sigma),
            pct(b.coverage_1)
        );
    }
    let _ = writeln!(s, "\n![reliability of σ for {model}]({svg})\n");
    s
}

/// A file-name-safe form of a model name.
pub fn file_stem(model: &str) -> String {
    model.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cellcast_stats::Matrix;

    #[test]
    fn section_lists_coverage_deciles_and_held_out_scales() {
        let truth = Matrix::from_rows(&(0..40).map(|i| [f64::from(i % 5) - 2.0]).collect::<Vec<_>>()).unwrap();
        let pred = Matrix::filled(40, 1, 0.0);
        let std = Matrix::from_rows(&(0..40).map(|i| [1.0 + f64::from(i % 3)]).collect::<Vec<_>>()).unwrap();
        let folds: Vec<usize> = (0..40).map(|i| i % 2).collect();
        let c = cellcast_eval::calibrate(&truth, &pred, &std, &folds, 2).unwrap();
        let md = markdown("fusion", &c, "calibration_fusion.svg");
        assert!(md.starts_with("## Uncertainty calibration of `fusion`"));
        assert!(md.contains("Pearson(σ, |error|)") && md.contains("(Gaussian 68.3 %)"));
        assert!(md.contains("| held-out fold |") && md.contains("| decile | σ range |"), "{md}");
        assert!(md.contains("\n| 10 | "), "ten deciles: {md}");
        assert!(md.contains("![reliability of σ for fusion](calibration_fusion.svg)"));
        assert_eq!(file_stem("stack(a+b)"), "stack_a_b_");
    }
}
