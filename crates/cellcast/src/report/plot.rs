//! Small hand-written SVG charts for reports (no plotting dependency, no fonts to install).

use std::fmt::Write as _;

/// One row of a dot plot: a label, a point (pooled score), an interval and per-fold values.
pub struct Row<'a> {
    pub label: &'a str,
    pub value: f64,
    pub interval: (f64, f64),
    pub folds: &'a [f64],
    pub highlight: bool,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A horizontal dot plot: per row, the per-fold values (small grey dots), the interval (a line)
/// and the pooled value (a large dot; red for the highlighted row).
pub fn dot_plot(title: &str, axis: &str, rows: &[Row]) -> String {
    let (label_w, plot_w, row_h, top) = (260.0, 460.0, 28.0, 40.0);
    let values =
        rows.iter().flat_map(|r| [r.value, r.interval.0, r.interval.1].into_iter().chain(r.folds.iter().copied()));
    let (mut lo, mut hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| label_w + (v - lo) / (hi - lo) * plot_w;
    let height = top + row_h * rows.len() as f64 + 40.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="12">"#,
        w = label_w + plot_w + 20.0
    );
    let _ = write!(s, r#"<text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#, escape(title));
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let _ = write!(s, r#"<text x="10" y="{}" dominant-baseline="middle">{}</text>"#, y, escape(r.label));
        let _ = write!(
            s,
            r##"<line x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="#444" stroke-width="2"/>"##,
            x(r.interval.0),
            x(r.interval.1)
        );
        for &f in r.folds {
            let _ = write!(s, r##"<circle cx="{}" cy="{}" r="2.5" fill="#999"/>"##, x(f), y + 7.0);
        }
        let color = if r.highlight { "#c0392b" } else { "#2c3e50" };
        let _ = write!(s, r#"<circle cx="{}" cy="{y}" r="5" fill="{color}"/>"#, x(r.value));
    }
    let axis_y = top + row_h * rows.len() as f64 + 10.0;
    let _ =
        write!(s, r##"<line x1="{label_w}" x2="{}" y1="{axis_y}" y2="{axis_y}" stroke="#000"/>"##, label_w + plot_w);
    for k in 0..=4 {
        let v = lo + (hi - lo) * k as f64 / 4.0;
        let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#, x(v), axis_y + 16.0, super::fmt(v));
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="end">{}</text></svg>"#,
        label_w + plot_w,
        axis_y - 4.0,
        escape(axis)
    );
    s
}

/// One row of a forest plot: a difference with its interval.
pub struct ForestRow<'a> {
    pub label: &'a str,
    pub delta: f64,
    pub interval: (f64, f64),
    pub highlight: bool,
}

/// Tick positions for `lo..hi`: about five steps of 1, 2 or 5 × 10^k.
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-12);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A forest plot of differences against a reference: per row the difference (a dot) and its
/// 95 % interval (a line), a zero line, and readable ticks. The axis spans the rows whose
/// intervals lie near the others (within four times the typical interval width of the middle
/// half): a row far outside — a broken model — is drawn as an arrow at the edge with its value
/// written beside it, so that it cannot squash the rest. Labels get the width they need (long
/// ones are shortened, the full name in a tooltip) and never run into the plot.
pub fn forest_plot(title: &str, axis: &str, rows: &[ForestRow]) -> String {
    const CHAR_W: f64 = 7.2;
    let shown = |l: &str| -> String {
        if l.chars().count() > 42 {
            format!("{}…", l.chars().take(41).collect::<String>())
        } else {
            l.to_string()
        }
    };
    let label_w = rows.iter().map(|r| shown(r.label).chars().count()).max().unwrap_or(5).max(8) as f64 * CHAR_W + 24.0;
    let (plot_w, row_h, top, value_w) = (520.0, 30.0, 44.0, 230.0);
    // The range the serious rows fill.
    let finite: Vec<&ForestRow> = rows.iter().filter(|r| r.delta.is_finite()).collect();
    let mut centers: Vec<f64> = finite.iter().map(|r| r.delta).collect();
    centers.sort_by(f64::total_cmp);
    let mut widths: Vec<f64> =
        finite.iter().map(|r| r.interval.1 - r.interval.0).filter(|w| w.is_finite() && *w > 0.0).collect();
    widths.sort_by(f64::total_cmp);
    let typical_w = widths.get(widths.len() / 2).copied().unwrap_or(0.0);
    // A row is off the axis when its difference lies further from the median difference than
    // six times the typical spread (the larger of the rows' median distance from it and the
    // typical interval width).
    let median = centers.get(centers.len() / 2).copied().unwrap_or(0.0);
    let mut distances: Vec<f64> = centers.iter().map(|c| (c - median).abs()).collect();
    distances.sort_by(f64::total_cmp);
    let spread = distances.get(distances.len() / 2).copied().unwrap_or(0.0).max(typical_w);
    let inside = |r: &ForestRow| -> bool { spread <= 0.0 || (r.delta - median).abs() <= 6.0 * spread };
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for r in finite.iter().filter(|r| inside(r)) {
        for v in [r.delta, r.interval.0, r.interval.1] {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    let pad = ((hi - lo) * 0.06).max(1e-12);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| label_w + (v.clamp(lo, hi) - lo) / (hi - lo) * plot_w;
    let height = top + row_h * rows.len() as f64 + 56.0;
    let width = label_w + plot_w + value_w;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13" role="img">"#
    );
    let _ = write!(s, r#"<text x="8" y="20" font-size="15" font-weight="bold">{}</text>"#, escape(title));
    let _ = write!(s, r##"<text x="{}" y="36" fill="#555">Δ [95% CI]</text>"##, label_w + plot_w + 12.0);
    let ticks = ticks(lo, hi);
    let axis_y = top + row_h * rows.len() as f64 + 8.0;
    for &t in &ticks {
        let _ = write!(
            s,
            r##"<line x1="{x}" x2="{x}" y1="{top}" y2="{axis_y}" stroke="#e4e4e4"/><text x="{x}" y="{}" text-anchor="middle" fill="#333">{}</text>"##,
            axis_y + 16.0,
            super::fmt_sig(t, hi - lo),
            x = x(t)
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{x0}" x2="{x0}" y1="{}" y2="{axis_y}" stroke="#333" stroke-width="1.5"/><line x1="{label_w}" x2="{}" y1="{axis_y}" y2="{axis_y}" stroke="#333"/>"##,
        top - 6.0,
        label_w + plot_w,
        x0 = x(0.0)
    );
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let color = if r.highlight { "#c0392b" } else { "#2c3e50" };
        let weight = if r.highlight { "bold" } else { "normal" };
        let _ = write!(
            s,
            r#"<text x="{}" y="{y}" text-anchor="end" dominant-baseline="middle" font-weight="{weight}"><title>{}</title>{}</text>"#,
            label_w - 12.0,
            escape(r.label),
            escape(&shown(r.label))
        );
        let width = r.interval.1 - r.interval.0;
        let span = if width.is_finite() && width > 0.0 { width } else { hi - lo };
        let number = |v: f64| super::fmt_sig(v, span);
        let value = format!("{} [{}, {}]", number(r.delta), number(r.interval.0), number(r.interval.1));
        let _ = write!(
            s,
            r#"<text x="{}" y="{y}" dominant-baseline="middle" fill="{color}">{}</text>"#,
            label_w + plot_w + 12.0,
            escape(&value)
        );
        if !r.delta.is_finite() {
            continue;
        }
        if !inside(r) {
            // Off the axis: an arrow at the edge it lies beyond.
            let (edge, dir) = if r.delta > hi { (label_w + plot_w, 1.0) } else { (label_w, -1.0) };
            let _ = write!(
                s,
                r##"<path d="M{} {} L{} {y} L{} {} Z" fill="#7f8c8d"><title>off the axis: {}</title></path>"##,
                edge - dir * 12.0,
                y - 6.0,
                edge,
                edge - dir * 12.0,
                y + 6.0,
                escape(&value)
            );
            continue;
        }
        if r.interval.0.is_finite() && r.interval.1.is_finite() {
            let _ = write!(
                s,
                r#"<line x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="{color}" stroke-width="2.5"/>"#,
                x(r.interval.0),
                x(r.interval.1)
            );
        }
        let _ = write!(s, r#"<circle cx="{}" cy="{y}" r="5.5" fill="{color}"/>"#, x(r.delta));
    }
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#333">{}</text></svg>"##,
        label_w + plot_w / 2.0,
        axis_y + 36.0,
        escape(axis)
    );
    s
}

/// A reliability plot: per bin, the σ a model claimed (x, RMS per bin) against the error it made
/// (y, RMSE per bin), with the diagonal of perfect calibration (dashed).
pub fn reliability_plot(title: &str, points: &[(f64, f64)]) -> String {
    let (left, size, top) = (60.0, 320.0, 40.0);
    let hi = points.iter().flat_map(|&(a, b)| [a, b]).filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let hi = if hi > 0.0 { hi * 1.08 } else { 1.0 };
    let x = |v: f64| left + v / hi * size;
    let y = |v: f64| top + size - v / hi * size;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#,
        w = left + size + 30.0,
        h = top + size + 50.0
    );
    let _ = write!(s, r#"<text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#, escape(title));
    let _ = write!(
        s,
        r##"<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="none" stroke="#000"/><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#888" stroke-dasharray="5,4"/>"##,
        x(0.0),
        y(0.0),
        x(hi),
        y(hi)
    );
    let path: Vec<String> = points
        .iter()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .map(|&(a, b)| format!("{},{}", x(a), y(b)))
        .collect();
    let _ = write!(s, r##"<polyline points="{}" fill="none" stroke="#c0392b"/>"##, path.join(" "));
    for p in &path {
        let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
        let _ = write!(s, r##"<circle cx="{cx}" cy="{cy}" r="4" fill="#c0392b"/>"##);
    }
    for k in 0..=4 {
        let v = hi * k as f64 / 4.0;
        let label = super::fmt(v);
        let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="middle">{label}</text>"#, x(v), top + size + 16.0);
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{label}</text>"#,
            left - 4.0,
            y(v)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">predicted σ (RMS per decile)</text><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">observed RMSE</text></svg>"#,
        left + size / 2.0,
        top + size + 38.0,
        top + size / 2.0,
        top + size / 2.0
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_has_one_marker_per_row_and_escapes_labels() {
        let rows = [
            Row { label: "avg(a+b)", value: 1.0, interval: (0.8, 1.2), folds: &[0.9, 1.1], highlight: true },
            Row { label: "x<y", value: 2.0, interval: (1.9, 2.1), folds: &[], highlight: false },
        ];
        let svg = dot_plot("MSE", "lower is better", &rows);
        assert_eq!(svg.matches(r#"r="5""#).count(), 2);
        assert!(svg.contains("x&lt;y") && svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn forest_plot_keeps_an_outlier_from_squashing_the_axis() {
        let rows: Vec<ForestRow> = [
            ("ridge", -0.24, (-0.31, -0.17)),
            ("knn", -0.20, (-0.28, -0.12)),
            ("a model with a very long name that would run into the plot area", -0.22, (-0.30, -0.15)),
            ("fusion", -0.25, (-0.33, -0.18)),
            ("broken", 3.5, (3.1, 3.9)),
        ]
        .iter()
        .map(|&(label, delta, interval)| ForestRow { label, delta, interval, highlight: label == "fusion" })
        .collect();
        let svg = forest_plot("Δ MSE vs mean", "lower is better", &rows);
        // Four dots on the axis, one arrow at its edge, the value written out.
        assert_eq!(svg.matches("<circle").count(), 4);
        assert_eq!(svg.matches("off the axis").count(), 1);
        assert!(svg.contains("3.5"));
        // The ticks cover the serious models, not the outlier: none beyond 1.
        let ticks = ticks(-0.35, 0.02);
        assert!(ticks.iter().all(|t| *t <= 0.02 && *t >= -0.35) && ticks.len() >= 3, "{ticks:?}");
        // Steps of 0.1: -0.3, -0.2, -0.1, 0.
        assert_eq!(ticks.len(), 4);
        assert!((ticks[1] - ticks[0] - 0.1).abs() < 1e-12 && ticks[3] == 0.0, "{ticks:?}");
        assert!(svg.contains("…") && svg.contains("<title>a model with a very long name"));
    }

    #[test]
    fn reliability_plot_has_a_marker_per_bin_and_the_diagonal() {
        let svg = reliability_plot("σ of fusion", &[(1.0, 1.2), (2.0, 2.1), (f64::NAN, 1.0)]);
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches("stroke-dasharray").count(), 1);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(reliability_plot("t", &[]).matches("<circle").count(), 0);
    }
}
