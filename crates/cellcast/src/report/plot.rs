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
    fn reliability_plot_has_a_marker_per_bin_and_the_diagonal() {
        let svg = reliability_plot("σ of fusion", &[(1.0, 1.2), (2.0, 2.1), (f64::NAN, 1.0)]);
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(svg.matches("stroke-dasharray").count(), 1);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(reliability_plot("t", &[]).matches("<circle").count(), 0);
    }
}
