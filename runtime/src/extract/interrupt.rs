//! What a run leaves behind if the process is stopped midway: the temporary files of
//! outputs being written, and progress bars on the terminal. Both are registered here
//! while they exist, so that a signal handler can clear them before the process exits
//! (see [`abandon_and_exit`]); Rust runs no destructors when a process exits.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// What is under way.
pub(crate) struct Pending {
    temps: Vec<(u64, PathBuf)>,
    bars: Vec<(u64, indicatif::ProgressBar)>,
}

static PENDING: Mutex<Pending> = Mutex::new(Pending {
    temps: Vec::new(),
    bars: Vec::new(),
});

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The registry, locked. Whoever holds it cannot be interrupted halfway by
/// [`abandon_and_exit`]: creating a temporary file and registering it, or renaming it into
/// place and forgetting it, happen wholly before or wholly after the cleanup.
pub(crate) fn lock() -> MutexGuard<'static, Pending> {
    // A panic elsewhere while holding the lock leaves the lists consistent.
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Pending {
    /// Registers a temporary file to remove; returns its id for [`Pending::forget_temp`].
    pub(crate) fn add_temp(&mut self, path: PathBuf) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        self.temps.push((id, path));
        id
    }

    pub(crate) fn forget_temp(&mut self, id: u64) {
        self.temps.retain(|(i, _)| *i != id);
    }

    /// Registers a progress bar to clear; returns its id for [`Pending::forget_bar`].
    pub(crate) fn add_bar(&mut self, bar: indicatif::ProgressBar) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        self.bars.push((id, bar));
        id
    }

    pub(crate) fn forget_bar(&mut self, id: u64) {
        self.bars.retain(|(i, _)| *i != id);
    }
}

/// Removes the temporary file of every output being written and clears every progress
/// bar, then exits the process with `code`; for a signal handler (the `pcapkit` command
/// exits 128 + the signal number, as shells expect). No output is renamed into place
/// after the removal, so a file an output would have replaced stays as it was.
pub fn abandon_and_exit(code: i32) -> ! {
    // Held until the process ends: no output can be committed after the cleanup.
    let pending = lock();
    for (_, path) in &pending.temps {
        // A temporary directory (`--files`) when it is no file.
        if std::fs::remove_file(path).is_err() {
            let _ = std::fs::remove_dir_all(path);
        }
    }
    for (_, bar) in &pending.bars {
        bar.finish_and_clear();
        // Nothing redraws it while the process ends.
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    std::process::exit(code)
}
