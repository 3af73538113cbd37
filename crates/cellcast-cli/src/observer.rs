//! The terminal's [`Observer`]: notes and warnings on stderr, progress bars on stderr when it is
//! a terminal (hidden otherwise, so logs and tests see only the notes).

use cellcast::{Observer, Progress, Unit};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

#[derive(Default)]
pub struct Terminal {
    bars: MultiProgress,
}

impl Observer for Terminal {
    fn note(&self, message: &str) {
        self.bars.suspend(|| eprintln!("{message}"));
    }

    fn warning(&self, message: &str) {
        self.bars.suspend(|| eprintln!("warning: {message}"));
    }

    fn progress(&self, label: &str, total: u64, unit: Unit) -> Box<dyn Progress> {
        let template = match unit {
            Unit::Items => "{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)",
            Unit::Folds => "{msg:<24} [{bar:20}] fold {pos}/{len} {elapsed}",
        };
        let style = ProgressStyle::with_template(template).expect("valid template").progress_chars("=> ");
        let bar = self.bars.add(ProgressBar::new(total).with_style(style).with_message(label.to_string()));
        Box::new(Bar { bar, clear: unit == Unit::Items })
    }
}

struct Bar {
    bar: ProgressBar,
    /// Item counts vanish when done; per-model fold bars stay as a record of the run.
    clear: bool,
}

impl Progress for Bar {
    fn advance(&self, units: u64) {
        self.bar.inc(units);
    }

    fn finish(&self) {
        if self.clear {
            self.bar.finish_and_clear();
        } else {
            self.bar.finish();
        }
    }
}
