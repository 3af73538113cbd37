//! All-or-nothing outputs.
//!
//! A command that writes several files into an output folder writes them into a [`StagedDir`]
//! beside it (`.NAME.staging-PID`) and [`StagedDir::commit`]s only when every file succeeded: the
//! files are then moved into the folder, and the files an earlier cellcast run left there that
//! this run did not write are removed, so the folder never mixes two runs. Dropping the stage
//! without committing (an error, a panic) removes it, and the folder is exactly as it was.
//!
//! Single files go through [`crate::write::write_atomically`] (a temporary file, then a rename).
//! Both register what they are writing here, so that a front end's signal handler can call
//! [`remove_pending`] on SIGINT or SIGTERM and leave nothing behind. A process killed outright
//! (SIGKILL) cannot clean up; the next write to the same place removes what a dead process
//! left.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{DataError, Result};

/// The name of the file in an output folder that lists what the last cellcast run wrote there.
pub const MANIFEST: &str = ".cellcast-outputs";

/// Temporary files and staging folders being written now, removed by [`remove_pending`]. The
/// lock is also held while a stage is committed, so a signal handler waits for the moves to end.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn register(path: &Path) {
    pending().push(path.to_path_buf());
}

pub(crate) fn unregister(path: &Path) {
    pending().retain(|p| p != path);
}

/// Removes every temporary file and staging folder still being written (for a signal handler:
/// after it returns, exit). Waits for a commit in progress to finish first, and leaves the lock
/// held so that nothing new starts before the process exits.
pub fn remove_pending() {
    let mut guard = pending();
    for path in guard.drain(..) {
        if path.is_dir() {
            let _ = std::fs::remove_dir_all(&path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    std::mem::forget(guard);
}

/// Whether the process `pid` is alive (on systems without `/proc`, assume it is).
fn process_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes what dead processes left in `dir` while writing `name`: entries named
/// `.{name}.{tag}PID{suffix}` whose PID is no longer running.
pub(crate) fn sweep_stale(dir: &Path, name: &str, tag: &str, suffix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let prefix = format!(".{name}.{tag}");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else { continue };
        let Some(pid) = rest.strip_suffix(suffix).and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !process_alive(pid) {
            let path = entry.path();
            let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        }
    }
}

/// A staging folder for the outputs of one command; see the module docs.
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl StagedDir {
    /// Prepares to write the folder `target`: it may exist (a folder) or not; its parent is
    /// created. Nothing in `target` changes until [`StagedDir::commit`].
    pub fn new(target: &Path) -> Result<Self> {
        let io = |path: &Path, source| DataError::Io { path: path.to_path_buf(), error: source };
        if target.exists() && !target.is_dir() {
            return Err(DataError::Output {
                path: target.to_path_buf(),
                message: "exists and is not a folder; give the path of a folder (new or existing) for the outputs"
                    .into(),
            });
        }
        // `--out .` or `--out ..`: the folder by its real name, so the stage can sit beside it.
        let resolved;
        let target = if target.file_name().is_none() && target.is_dir() {
            resolved = target.canonicalize().map_err(|e| io(target, e))?;
            resolved.as_path()
        } else {
            target
        };
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| *n != "..")
            .ok_or_else(|| DataError::Output {
                path: target.to_path_buf(),
                message: "is not a folder name cellcast can stage beside (give e.g. results/run1)".into(),
            })?
            .to_string();
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        sweep_stale(parent, &name, "staging-", "");
        let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| io(&staging, e))?;
        }
        std::fs::create_dir(&staging).map_err(|e| io(&staging, e))?;
        register(&staging);
        Ok(StagedDir { target: target.to_path_buf(), staging, committed: false })
    }

    /// The folder the outputs are written to until the commit.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// `name` inside the staging folder.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.staging.join(name)
    }

    /// The folder the outputs end up in.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Moves every staged output into the target folder and removes the outputs of an earlier
    /// cellcast run there that this run did not write; files cellcast did not write are kept.
    /// Returns the names written, sorted.
    pub fn commit(mut self) -> Result<Vec<String>> {
        let io = |path: &Path, source| DataError::Io { path: path.to_path_buf(), error: source };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.staging).map_err(|e| io(&self.staging, e))? {
            let entry = entry.map_err(|e| io(&self.staging, e))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        let manifest: String = names.iter().map(|n| format!("{n}\n")).collect();
        std::fs::write(self.staging.join(MANIFEST), manifest).map_err(|e| io(&self.staging, e))?;

        let guard = pending(); // a signal handler waits until the moves are done
        if !self.target.exists() {
            std::fs::rename(&self.staging, &self.target).map_err(|e| io(&self.target, e))?;
        } else {
            let previous: BTreeSet<String> = std::fs::read_to_string(self.target.join(MANIFEST))
                .map(|text| text.lines().map(str::to_string).filter(|l| !l.is_empty()).collect())
                .unwrap_or_default();
            // A folder cannot be renamed over a non-empty one: clear those first, if ours.
            for name in &names {
                let dest = self.target.join(name);
                if dest.is_dir() && self.staging.join(name).is_dir() {
                    if !previous.contains(name) {
                        return Err(DataError::Output {
                            path: dest,
                            message: "is a folder cellcast did not write; move it away to write the outputs".into(),
                        });
                    }
                    std::fs::remove_dir_all(&dest).map_err(|e| io(&dest, e))?;
                }
            }
            for name in names.iter().map(String::as_str).chain([MANIFEST]) {
                let dest = self.target.join(name);
                std::fs::rename(self.staging.join(name), &dest).map_err(|e| io(&dest, e))?;
            }
            for stale in previous.iter().filter(|p| !names.contains(p) && p.as_str() != MANIFEST) {
                let path = self.target.join(stale);
                if path.is_dir() {
                    let _ = std::fs::remove_dir_all(&path);
                } else {
                    let _ = std::fs::remove_file(&path);
                }
            }
            let _ = std::fs::remove_dir(&self.staging);
        }
        self.committed = true;
        drop(guard);
        unregister(&self.staging);
        Ok(names)
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
            unregister(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn outputs_appear_whole_or_not_at_all() {
        let root = std::env::temp_dir().join(format!("cellcast-staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let out = root.join("run");

        // A failed run (dropped stage) leaves nothing, not even the folder.
        let stage = StagedDir::new(&out).unwrap();
        std::fs::write(stage.join("folds.csv"), "x").unwrap();
        drop(stage);
        assert_eq!(listing(&root), Vec::<String>::new());

        // A first run: the folder appears with its outputs and the manifest.
        let stage = StagedDir::new(&out).unwrap();
        for f in ["folds.csv", "programs.csv", "submission.csv"] {
            std::fs::write(stage.join(f), "first").unwrap();
        }
        assert_eq!(stage.commit().unwrap(), vec!["folds.csv", "programs.csv", "submission.csv"]);
        assert_eq!(listing(&out), vec![MANIFEST, "folds.csv", "programs.csv", "submission.csv"]);
        std::fs::write(out.join("notes.txt"), "mine").unwrap();

        // A failed re-run leaves the first run's outputs exactly as they were.
        let stage = StagedDir::new(&out).unwrap();
        std::fs::write(stage.join("folds.csv"), "second").unwrap();
        drop(stage);
        assert_eq!(std::fs::read_to_string(out.join("folds.csv")).unwrap(), "first");
        assert_eq!(listing(&root), vec!["run"]);

        // A successful re-run replaces the outputs, drops the first run's programs.csv that it did
        // not write, and keeps the user's file.
        let stage = StagedDir::new(&out).unwrap();
        for f in ["folds.csv", "submission.csv"] {
            std::fs::write(stage.join(f), "second").unwrap();
        }
        stage.commit().unwrap();
        assert_eq!(listing(&out), vec![MANIFEST, "folds.csv", "notes.txt", "submission.csv"]);
        assert_eq!(std::fs::read_to_string(out.join("submission.csv")).unwrap(), "second");
        assert_eq!(listing(&root), vec!["run"]);

        // A stage left by a dead process is swept by the next one.
        let dead = root.join(".run.staging-4000000000");
        std::fs::create_dir(&dead).unwrap();
        let stage = StagedDir::new(&out).unwrap();
        assert!(!dead.exists());
        drop(stage);

        // A file where the folder should be is refused by name.
        let file = root.join("a_file");
        std::fs::write(&file, "").unwrap();
        let e = StagedDir::new(&file).unwrap_err().to_string();
        assert!(e.contains("a_file") && e.contains("not a folder"), "{e}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
