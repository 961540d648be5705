//! The one thread that loads fixtures. Every load of the served data (at
//! start-up, on a hot reload, on a reset) runs here, so the memory of every
//! loaded state comes from this thread's one malloc arena: what a reload
//! frees is reused by the next one, instead of staying resident in the
//! arena of whichever blocking thread happened to run the previous load
//! (glibc keeps freed small chunks in their arena and never returns holes
//! in the middle of it to the system; with loads on changing threads the
//! resident size grew by a whole data set per reload).
//!
//! After each load, once its result is handed over, the thread gives the
//! memory the load freed (file text, parse buffers, a replaced state) back
//! to the system (`malloc_trim`), so the resident size after a load is the
//! data served, not the high-water mark of parsing it.

use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

/// Where jobs for the loader thread go (started on first use).
static JOBS: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();

/// Runs `f` on the loader thread and waits for it: call it from a blocking
/// context (a blocking task, start-up), never on an async worker. Runs `f`
/// on the calling thread when the loader thread cannot be started.
pub fn run<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let Some(tx) = jobs() else {
        return f();
    };
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let _ = done_tx.send(f());
    });
    let unsent = tx.lock().unwrap_or_else(|e| e.into_inner()).send(job);
    if let Err(mpsc::SendError(job)) = unsent {
        job(); // the thread is gone: load here
    }
    match done_rx.recv() {
        Ok(r) => r,
        // `f` panicked on the loader thread: a bug, passed on to the caller
        Err(_) => panic!("a fixture load panicked"),
    }
}

fn jobs() -> Option<&'static Mutex<mpsc::Sender<Job>>> {
    if let Some(tx) = JOBS.get() {
        return Some(tx);
    }
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("fixtures-loader".into())
        .spawn(move || {
            for job in rx {
                // a panicking job must not take the thread (and later loads) with it
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                give_back_freed_memory();
            }
        })
        .ok()?;
    Some(JOBS.get_or_init(|| Mutex::new(tx)))
}

/// Returns the free memory of the malloc heaps to the system (glibc keeps
/// it otherwise). The caller is not waiting: its result was sent already.
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own
    // heaps; it takes no pointer and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
