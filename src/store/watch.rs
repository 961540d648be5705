//! Hot reload: a notify watcher on the fixtures directory (or the bundle
//! file's directory), debounced, feeding a reload that loads and checks the
//! whole set off to the side and swaps it in at once, or keeps the last good
//! data and reports the problems.
//!
//! The watcher lives in its own task; dropping it stops watching. When the
//! directory disappears or the system refuses a watch, the task says so
//! (log and health) and tries again every second.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::Store;
use super::fixtures::{self, APIKEYS, Problem, SANDBOX};
use crate::domain::schema::Res;

/// Quiet time after the last change before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(100);
/// How often a lost watch is retried.
const RETRY: Duration = Duration::from_secs(1);

/// What a successful reload did.
#[derive(Debug, Clone)]
pub struct Reloaded {
    pub files: usize,
    pub records: usize,
    pub millis: u128,
    /// Changes made through the API since the previous load, now discarded.
    pub discarded: u64,
}

/// Loads the fixtures again and swaps them in, or keeps the last good data
/// and records the problems. Blocking: call it off the async threads.
pub fn reload(store: &Store) -> Result<Reloaded, Vec<Problem>> {
    let started = Instant::now();
    let (source, now, base) = (store.source().clone(), store.clock().now_ms(), store.base());
    let s = store.clone();
    let swapped = super::loader::run(move || -> Result<_, Vec<Problem>> {
        let loaded = match source.path() {
            Some(path) => fixtures::reload(path, now, Some(&base))?,
            None => fixtures::load_source(&source, now)?,
        };
        drop(base); // before the swap: the old base is freed with it, here
        let (files, records) = (loaded.files, loaded.records);
        Ok((files, records, s.swap_in_loaded(loaded)))
    });
    match swapped {
        Ok((files, records, discarded)) => {
            let done = Reloaded {
                files,
                records,
                millis: started.elapsed().as_millis(),
                discarded,
            };
            tracing::info!(
                files = done.files,
                records = done.records,
                ms = done.millis as u64,
                discarded_api_changes = done.discarded,
                "reloaded fixtures"
            );
            Ok(done)
        }
        Err(problems) => {
            tracing::warn!(
                problems = problems.len(),
                "fixtures not reloaded: the last good data keeps being served"
            );
            for p in problems.iter().take(50) {
                tracing::warn!("{p}");
            }
            store.set_fixture_error(Some(problems.clone()));
            Err(problems)
        }
    }
}

/// Whether a change to `path` concerns the fixtures at `source`.
fn relevant(source: &Path, bundle: bool, path: &Path) -> bool {
    if bundle {
        return path.file_name() == source.file_name();
    }
    if path == source {
        return true; // the directory itself (removed, renamed)
    }
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some(stem) = name.strip_suffix(".json") else {
        return false;
    };
    stem == APIKEYS || stem == SANDBOX || Res::ALL.iter().any(|r| r.name() == stem)
}

/// Watches the fixtures for as long as the task runs (abort it to stop).
/// Returns at once for the embedded fixtures, which cannot change.
pub async fn run(store: Store) {
    let Some(source) = store.source().path().map(Path::to_path_buf) else {
        return;
    };
    let bundle = !source.is_dir();
    let dir: PathBuf = if bundle {
        source
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    } else {
        source.clone()
    };
    let (tx, mut rx) = mpsc::channel::<()>(1);
    let mut watcher: Option<RecommendedWatcher> = None;
    // The directory watched: a directory renamed over it is a new one.
    let mut watched_id = None;
    let mut lost = false;
    let mut retry = tokio::time::interval(RETRY);
    loop {
        if watcher.is_none() {
            match start_watcher(&dir, &source, bundle, tx.clone()) {
                Ok(w) => {
                    watcher = Some(w);
                    watched_id = dir_id(&dir);
                    store.set_watching(true, None);
                    tracing::info!(path = %dir.display(), "watching the fixtures for changes");
                    if lost {
                        lost = false;
                        let _ = tx.try_send(()); // whatever changed meanwhile
                    }
                }
                Err(e) => {
                    if !lost {
                        tracing::warn!(path = %dir.display(), error = %e, "cannot watch the fixtures; retrying every second");
                    }
                    lost = true;
                    store.set_watching(false, Some(format!("cannot watch {}: {e}", dir.display())));
                }
            }
        }
        tokio::select! {
            got = rx.recv() => {
                if got.is_none() {
                    return;
                }
                // debounce: wait until no change has come for DEBOUNCE
                while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
                let s = store.clone();
                let _ = tokio::task::spawn_blocking(move || reload(&s)).await;
            }
            _ = retry.tick() => {
                if watcher.is_some() && !dir.is_dir() {
                    watcher = None;
                    lost = true;
                    let msg = format!("the fixtures directory {} no longer exists", dir.display());
                    tracing::warn!("{msg}; serving the last good data and waiting for it to come back");
                    store.set_watching(false, Some(msg));
                } else if watcher.is_some() && dir_id(&dir) != watched_id {
                    tracing::info!(path = %dir.display(), "the fixtures directory was replaced; watching the new one");
                    watcher = None;
                    lost = true; // re-watch, then reload what the new directory holds
                }
            }
        }
    }
}

/// Identifies a directory (device and inode), to notice one replaced by a
/// rename while the old one is watched.
fn dir_id(dir: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        dir.is_dir().then_some((0, 0))
    }
}

fn start_watcher(
    dir: &Path,
    source: &Path,
    bundle: bool,
    tx: mpsc::Sender<()>,
) -> notify::Result<RecommendedWatcher> {
    let source = source.to_path_buf();
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        // Our own reads (open, close after reading) are not changes.
        if let EventKind::Access(kind) = event.kind
            && !matches!(
                kind,
                notify::event::AccessKind::Close(notify::event::AccessMode::Write)
            )
        {
            return;
        }
        if event.paths.iter().any(|p| relevant(&source, bundle, p)) {
            let _ = tx.try_send(()); // a full channel already holds a pending reload
        }
    })?;
    w.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fixture_files_are_relevant() {
        let dir = Path::new("/f");
        for yes in [
            "/f/companies.json",
            "/f/apikeys.json",
            "/f/sandbox.json",
            "/f",
        ] {
            assert!(relevant(dir, false, Path::new(yes)), "{yes}");
        }
        for no in [
            "/f/.companies.json.swp",
            "/f/companies.json~",
            "/f/4913",
            "/f/notes.txt",
            "/f/companies.json.tmp",
        ] {
            assert!(!relevant(dir, false, Path::new(no)), "{no}");
        }
        let bundle = Path::new("/b/state.json");
        assert!(relevant(bundle, true, Path::new("/b/state.json")));
        assert!(!relevant(bundle, true, Path::new("/b/other.json")));
    }
}
