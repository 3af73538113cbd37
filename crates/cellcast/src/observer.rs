//! How a workflow tells its caller what it is doing without printing: notes (what it assumed,
//! what it wrote), warnings, and progress of long steps. The CLI prints notes on stderr and draws
//! progress bars; the Python package collects warnings; tests and batch callers stay [`Silent`].

/// Receives a workflow's notes, warnings and progress. Called from worker threads, so `Sync`.
pub trait Observer: Sync {
    /// Something the user should know: what was assumed and why, what was skipped, a summary.
    fn note(&self, _message: &str) {}

    /// Something that may make a result differ from what the user expects. Defaults to a note.
    fn warning(&self, message: &str) {
        self.note(&format!("warning: {message}"));
    }

    /// A long step of `total` units (molecules, folds, cells…) begins; the handle is advanced as
    /// units finish and dropped or finished at the end.
    fn progress(&self, _label: &str, _total: u64, _unit: Unit) -> Box<dyn Progress> {
        Box::new(NoProgress)
    }
}

/// What a progress step counts, so a front end can word it ("fold 3/5", "1,200/5,000 molecules").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Items,
    Folds,
}

/// One long step's progress.
pub trait Progress: Send + Sync {
    fn advance(&self, units: u64);
    /// The step is over (also when the handle is dropped without it).
    fn finish(&self) {}
}

/// Ignores everything: for tests and callers that only want the outcome.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {}

struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _units: u64) {}
}

/// Keeps every note and warning, in order (the Python package returns them; tests read them).
#[derive(Debug, Default)]
pub struct Collect {
    pub notes: std::sync::Mutex<Vec<String>>,
    pub warnings: std::sync::Mutex<Vec<String>>,
}

impl Collect {
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().map(|n| n.clone()).unwrap_or_default()
    }

    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

impl Observer for Collect {
    fn note(&self, message: &str) {
        if let Ok(mut n) = self.notes.lock() {
            n.push(message.to_string());
        }
    }

    fn warning(&self, message: &str) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(message.to_string());
        }
    }
}
