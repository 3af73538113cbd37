//! Polygamma functions and the helpers limma builds on them.
//!
//! limma's `eBayes` needs ψ′ (trigamma), ψ″ (for the Newton step of `trigammaInverse`) and
//! statmod's `logmdigamma`. The polygammas use the standard upward recurrence into the range
//! where the Bernoulli asymptotic series has converged to double precision; the series is taken
//! far enough (x ≥ 10, seven Bernoulli terms) that the truncation error is below 1e-16 relative.

use std::f64::consts::PI;

/// Threshold above which the asymptotic series is used directly.
const ASYMPTOTIC_FROM: f64 = 10.0;

/// Digamma ψ(x) = d/dx ln Γ(x), for any real x that is not a non-positive integer.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        // Reflection: ψ(1 − x) − ψ(x) = π cot(πx).
        return digamma(1.0 - x) - PI / (PI * x).tan();
    }
    let mut x = x;
    let mut acc = 0.0;
    while x < ASYMPTOTIC_FROM {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let u = 1.0 / (x * x);
    let series = u
        * (1.0 / 12.0
            - u * (1.0 / 120.0
                - u * (1.0 / 252.0 - u * (1.0 / 240.0 - u * (1.0 / 132.0 - u * (691.0 / 32760.0 - u / 12.0))))));
    acc + x.ln() - 0.5 / x - series
}

/// Trigamma ψ′(x), for any real x that is not a non-positive integer.
pub fn trigamma(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        // Reflection: ψ′(1 − x) + ψ′(x) = π² / sin²(πx).
        let s = (PI * x).sin();
        return -trigamma(1.0 - x) + PI * PI / (s * s);
    }
    let mut x = x;
    let mut acc = 0.0;
    while x < ASYMPTOTIC_FROM {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let u = 1.0 / (x * x);
    let series = u
        * (1.0 / 6.0
            - u * (1.0 / 30.0
                - u * (1.0 / 42.0 - u * (1.0 / 30.0 - u * (5.0 / 66.0 - u * (691.0 / 2730.0 - u * 7.0 / 6.0))))));
    acc + 1.0 / x + 0.5 * u + series / x
}

/// Tetragamma ψ″(x), for x > 0 (NaN elsewhere: limma never needs it there).
pub fn tetragamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let mut x = x;
    let mut acc = 0.0;
    while x < ASYMPTOTIC_FROM {
        acc -= 2.0 / (x * x * x);
        x += 1.0;
    }
    let u = 1.0 / (x * x);
    // −1/x² − 1/x³ − Σ_k (2k+1)·B_2k / x^(2k+2)
    let series = u
        * u
        * (0.5
            - u * (1.0 / 6.0
                - u * (1.0 / 6.0 - u * (3.0 / 10.0 - u * (5.0 / 6.0 - u * (691.0 / 210.0 - u * 35.0 / 2.0))))));
    acc - u - u / x - series
}

/// statmod's `logmdigamma(z) = log(z) − ψ(z)`, evaluated as statmod does (recursion to z ≥ 5,
/// then its series) so that limma's prior estimates are reproduced to the last digits.
pub fn logmdigamma(z: f64) -> f64 {
    if z.is_nan() || z <= 0.0 {
        return f64::NAN;
    }
    if z < 5.0 {
        let shifted = logmdigamma(z + 5.0);
        let recurrence: f64 = (0..5).map(|k| 1.0 / (z + f64::from(k))).sum();
        return (z / (z + 5.0)).ln() + shifted + recurrence;
    }
    let u = 1.0 / (z * z);
    let tail = u
        * (1.0 / 12.0
            - u * (1.0 / 120.0
                - u * (1.0 / 252.0
                    - u * (1.0 / 240.0
                        - u * (1.0 / 132.0 - u * (691.0 / 32760.0 - u * (1.0 / 12.0 - u * 3617.0 / 8160.0)))))));
    1.0 / (2.0 * z) + tail
}

/// limma's `trigammaInverse`: the y > 0 with ψ′(y) = x.
///
/// Newton's method on 1/ψ′(y), which is nearly linear, from y = 0.5 + 1/x; the extremes use
/// limma's asymptotic shortcuts. Returns NaN for x < 0 or NaN, as limma does.
pub fn trigamma_inverse(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x > 1e7 {
        return 1.0 / x.sqrt();
    }
    if x < 1e-6 {
        return 1.0 / x;
    }
    let mut y = 0.5 + 1.0 / x;
    for _ in 0..=50 {
        let tri = trigamma(y);
        let dif = tri * (1.0 - tri / x) / tetragamma(y);
        y += dif;
        if -dif / y < 1e-8 {
            break;
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn known_values() {
        // ψ(1) = −γ, ψ′(1) = π²/6, ψ″(1) = −2ζ(3).
        let euler_gamma = 0.577_215_664_901_532_9;
        assert!(close(digamma(1.0), -euler_gamma, 1e-15));
        assert!(close(trigamma(1.0), PI * PI / 6.0, 1e-15));
        assert!(close(tetragamma(1.0), -2.0 * 1.202_056_903_159_594_2, 1e-15));
        // ψ′(1/2) = π²/2.
        assert!(close(trigamma(0.5), PI * PI / 2.0, 1e-15));
    }

    #[test]
    fn logmdigamma_matches_definition() {
        for z in [0.01_f64, 0.3, 1.0, 2.5, 4.99, 5.0, 12.0] {
            // statmod's series stops at u⁸, which leaves up to ~6e-12 relative error near z = 5.
            let direct = z.ln() - digamma(z);
            assert!(close(logmdigamma(z), direct, 1e-11), "z={z}");
        }
    }

    #[test]
    fn trigamma_inverse_round_trips() {
        for x in [1e-5, 0.01, 0.5, 1.0, 3.0, 100.0, 1e5] {
            let y = trigamma_inverse(x);
            assert!(close(trigamma(y), x, 1e-8), "x={x}, y={y}");
        }
        assert!(trigamma_inverse(-1.0).is_nan());
    }
}
