//! The process's log: every line (start-up, reloads, the access log) goes
//! through one bounded, non-blocking writer to stderr. A request never waits
//! for the terminal or the file behind stderr, and never wakes a thread:
//! lines are appended to a buffer in memory, which a writer thread of its
//! own takes and writes every few milliseconds, or at once when it is half
//! full. If the buffer is ever full, lines are dropped and counted, never
//! silently (the count is in `GET /_sandbox/health` and in a warning line
//! once there is room again).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Bytes of log lines the buffer holds before new lines are dropped (about
/// 60,000 access-log lines).
pub const BUFFER_BYTES: usize = 8 * 1024 * 1024;

/// How long a line may wait in the buffer before the writer takes it.
const FLUSH_EVERY: Duration = Duration::from_millis(10);

/// How lines are written (`--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Where log lines go: the shared buffer, with its drop counter. Cloning is
/// cheap.
#[derive(Clone)]
pub struct Sink {
    shared: Option<Arc<Shared>>,
    pub format: Format,
    /// ANSI colours (stderr is a terminal, text format).
    pub ansi: bool,
}

/// The buffer between the threads that log and the writer thread.
struct Shared {
    pending: Mutex<Pending>,
    /// Wakes the writer: lines arrived in an empty buffer, it is half full,
    /// or the sink is closing.
    wake: Condvar,
    dropped: AtomicU64,
    capacity: usize,
}

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    closing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // a panic while holding the lock leaves only whole lines behind
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("format", &self.format)
            .field("dropped", &self.dropped_lines())
            .finish()
    }
}

impl Sink {
    /// A sink that writes nothing (a server started in-process by tests).
    pub fn none() -> Sink {
        Sink {
            shared: None,
            format: Format::Text,
            ansi: false,
        }
    }

    /// Whether lines written here go anywhere.
    pub fn is_on(&self) -> bool {
        self.shared.is_some()
    }

    /// Adds one whole line (with its newline) to the buffer; never blocks
    /// on the output, and drops (and counts) the line if the buffer is full.
    pub fn write_line(&self, line: &[u8]) {
        let Some(shared) = &self.shared else {
            return;
        };
        let mut pending = shared.lock();
        let before = pending.lines.len();
        if before + line.len() > shared.capacity {
            drop(pending);
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        pending.lines.extend_from_slice(line);
        let half = shared.capacity / 2;
        let wake = before == 0 || (before < half && pending.lines.len() >= half);
        drop(pending);
        if wake {
            shared.wake.notify_one();
        }
    }

    /// Lines dropped because the buffer was full, since start.
    pub fn dropped_lines(&self) -> u64 {
        self.shared
            .as_ref()
            .map_or(0, |s| s.dropped.load(Ordering::Relaxed))
    }
}

/// Keeps the writer thread alive; dropping it writes what is buffered and
/// ends the thread.
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A `tracing` writer into the sink: the formatter writes each event as
/// one whole line.
impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_line(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Sink {
    type Writer = Sink;

    fn make_writer(&'a self) -> Sink {
        self.clone()
    }
}

/// Installs the global `tracing` subscriber (filtered by `RUST_LOG`,
/// default `info`) on the sink, and returns the sink for the access log,
/// which formats its own lines into the same buffer.
pub fn init(format: Format) -> (Sink, Guard) {
    use tracing_subscriber::EnvFilter;
    let ansi = format == Format::Text && std::io::stderr().is_terminal();
    let (sink, guard) = sink_over(std::io::stderr(), BUFFER_BYTES, format, ansi);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(sink.clone())
        .with_ansi(ansi);
    match format {
        Format::Text => builder.init(),
        Format::Json => builder.json().init(),
    }
    (sink, guard)
}

/// A sink whose lines a thread of its own writes to `out`, holding at most
/// `capacity` bytes not yet taken by it; more lines are dropped and counted.
fn sink_over<W: Write + Send + 'static>(
    out: W,
    capacity: usize,
    format: Format,
    ansi: bool,
) -> (Sink, Guard) {
    let shared = Arc::new(Shared {
        pending: Mutex::new(Pending::default()),
        wake: Condvar::new(),
        dropped: AtomicU64::new(0),
        capacity,
    });
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || write_out(&shared, out))
            .ok()
    };
    let sink = Sink {
        shared: Some(shared.clone()),
        format,
        ansi,
    };
    (sink, Guard { shared, thread })
}

/// The writer thread: sleeps while the buffer is empty; once lines arrive,
/// waits up to `FLUSH_EVERY` (less when the buffer fills to half), takes
/// them all and writes them in one go.
fn write_out<W: Write>(shared: &Shared, mut out: W) {
    let mut batch = Vec::new();
    loop {
        let mut pending = shared.lock();
        while pending.lines.is_empty() && !pending.closing {
            pending = shared.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
        }
        if !pending.closing && pending.lines.len() < shared.capacity / 2 {
            pending = shared
                .wake
                .wait_timeout_while(pending, FLUSH_EVERY, |p| {
                    !p.closing && p.lines.len() < shared.capacity / 2
                })
                .map_or_else(|e| e.into_inner().0, |(p, _)| p);
        }
        std::mem::swap(&mut pending.lines, &mut batch);
        let closing = pending.closing;
        drop(pending);
        // nothing to do about a failed write of the log itself
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if closing && shared.lock().lines.is_empty() {
            return;
        }
    }
}

/// Reports dropped lines: once a second, if more were dropped since the
/// last look, one warning with the number (itself dropped only if the buffer
/// is still full, in which case the next look reports it).
pub async fn report_drops(sink: Sink) {
    let mut reported = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let dropped = sink.dropped_lines();
        if dropped > reported {
            tracing::warn!(
                dropped_lines = dropped,
                new = dropped - reported,
                "log lines dropped: stderr did not keep up with the requests"
            );
            reported = dropped;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A writer that says when a write begins, blocks until told to go on,
    /// then keeps what it got.
    struct Stuck {
        began: mpsc::Sender<()>,
        go: mpsc::Receiver<()>,
        got: Arc<Mutex<Vec<u8>>>,
        waited: bool,
    }

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if !self.waited {
                let _ = self.began.send(());
                let _ = self.go.recv();
                self.waited = true;
            }
            self.got.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_buffer_drops_lines_and_counts_them_without_blocking() {
        let (began, begun) = mpsc::channel();
        let (go, wait) = mpsc::channel();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stuck = Stuck {
            began,
            go: wait,
            got: got.clone(),
            waited: false,
        };
        // room for 8 lines of 8 bytes
        let (sink, guard) = sink_over(stuck, 64, Format::Text, false);
        sink.write_line(b"line 00\n");
        begun.recv().unwrap(); // the writer took it, and is stuck writing it
        // 8 more fit in the buffer; the other 12 are dropped; writing never waits
        for i in 1..=20 {
            sink.write_line(format!("line {i:02}\n").as_bytes());
        }
        assert_eq!(sink.dropped_lines(), 12);
        go.send(()).unwrap();
        drop(guard); // writes what is buffered
        let written = String::from_utf8(got.lock().unwrap().clone()).unwrap();
        let expected: String = (0..=8).map(|i| format!("line {i:02}\n")).collect();
        assert_eq!(written, expected);
    }

    #[test]
    fn lines_are_written_without_waiting_for_the_buffer_to_fill() {
        let got = Arc::new(Mutex::new(Vec::new()));
        struct Keep(Arc<Mutex<Vec<u8>>>);
        impl Write for Keep {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (sink, _guard) = sink_over(Keep(got.clone()), BUFFER_BYTES, Format::Text, false);
        sink.write_line(b"one line\n");
        // polled, not slept on: the writer takes it within FLUSH_EVERY
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while got.lock().unwrap().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the line was never written"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(&got.lock().unwrap()[..], b"one line\n");
    }
}
