//! Argument checks at the edge: every numeric flag is parsed by one of these, so a value out of
//! its range is refused before any work starts, with the range in the message (and in `--help`).

use std::ops::RangeInclusive;

/// A whole number in `range` (`--folds`, `--bootstrap`, `-k`, …).
pub fn whole(range: RangeInclusive<usize>) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let expected = || match *range.end() {
            usize::MAX => format!("a whole number of at least {}", range.start()),
            end => format!("a whole number from {} to {end}", range.start()),
        };
        let v: usize = s.trim().parse().map_err(|_| format!("'{s}' is not {}", expected()))?;
        if range.contains(&v) {
            Ok(v)
        } else {
            Err(format!("{v} is out of range: give {}", expected()))
        }
    }
}

/// A finite number in `[min, max]` (`--noise`), or in `(min, max)` when `open`
/// (`--test-fraction`).
pub fn number(min: f64, max: f64, open: bool) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let expected = match (open, max.is_finite()) {
            (true, true) => format!("a number greater than {min} and less than {max}"),
            (true, false) => format!("a number greater than {min}"),
            (false, true) => format!("a number from {min} to {max}"),
            (false, false) => format!("a number of at least {min}"),
        };
        let v: f64 = s.trim().parse().map_err(|_| format!("'{s}' is not {expected}"))?;
        let inside = if open { v > min && v < max } else { v >= min && v <= max };
        if v.is_finite() && inside {
            Ok(v)
        } else {
            Err(format!("{s} is out of range: give {expected}"))
        }
    }
}

/// `--fractions train,valid,test`: three numbers in [0, 1] that sum to 1.
pub fn fractions(s: &str) -> Result<(f64, f64, f64), String> {
    let unit = number(0.0, 1.0, false);
    let v = s.split(',').map(unit).collect::<Result<Vec<f64>, _>>()?;
    let [a, b, c] = v[..] else {
        return Err("give three fractions: train,valid,test (e.g. 0.8,0.1,0.1)".into());
    };
    if (a + b + c - 1.0).abs() > 1e-9 {
        return Err(format!("the fractions sum to {}, not 1", a + b + c));
    }
    Ok((a, b, c))
}

/// The worker-thread flag every parallel command takes.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct Threads {
    /// Worker threads, 1 to 1024 [default: all cores]. Every command gives the same bytes
    /// whatever the number.
    #[arg(long, global = true, value_parser = whole(1..=1024))]
    pub threads: Option<usize>,
}

impl Threads {
    /// Sizes the global pool (once, before any parallel work).
    pub fn install(self) -> anyhow::Result<()> {
        if let Some(n) = self.threads {
            rayon::ThreadPoolBuilder::new().num_threads(n).build_global()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_enforced_and_stated() {
        let folds = whole(2..=100);
        assert_eq!(folds("5"), Ok(5));
        assert_eq!(folds("1").unwrap_err(), "1 is out of range: give a whole number from 2 to 100");
        assert!(folds("-1").unwrap_err().contains("not a whole number from 2 to 100"));
        assert_eq!(whole(1..=usize::MAX)("0").unwrap_err(), "0 is out of range: give a whole number of at least 1");
        let frac = number(0.0, 1.0, true);
        assert_eq!(frac("0.5"), Ok(0.5));
        assert!(frac("0").is_err() && frac("1").is_err() && frac("nan").is_err() && frac("inf").is_err());
        assert_eq!(frac("1.5").unwrap_err(), "1.5 is out of range: give a number greater than 0 and less than 1");
        assert_eq!(number(0.0, f64::INFINITY, false)("0"), Ok(0.0));
        assert_eq!(fractions("0.8,0.1,0.1"), Ok((0.8, 0.1, 0.1)));
        assert!(
            fractions("0.8,0.1").is_err() && fractions("0.8,0.3,0.1").is_err() && fractions("1.2,-0.1,-0.1").is_err()
        );
    }
}

/// Which way a perturbation moves its target (`targets rank`, `targets evaluate`, `synth`).
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DirectionArg {
    /// CRISPRi, knockout, knockdown: the target drops.
    Down,
    /// CRISPRa, overexpression: the target rises.
    Up,
    /// Unknown: any large change.
    Both,
}

impl DirectionArg {
    pub fn direction(self) -> cellcast::engine::models::targets::Direction {
        use cellcast::engine::models::targets::Direction;
        match self {
            DirectionArg::Down => Direction::Down,
            DirectionArg::Up => Direction::Up,
            DirectionArg::Both => Direction::Both,
        }
    }
}

/// `NAME=FILE` (`--pred`, `--predictions`), split at the first `=`.
pub fn named_file(flag: &str, spec: &str) -> anyhow::Result<(String, std::path::PathBuf)> {
    match spec.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => Ok((name.to_string(), file.into())),
        _ => anyhow::bail!("{flag} {spec}: give NAME=FILE, e.g. {flag} ridge=ridge.csv"),
    }
}
