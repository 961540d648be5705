//! The process's log: every line (start-up, reloads, the access log) goes
//! through one bounded, non-blocking writer to stderr. A request never waits
//! for the terminal or the file behind stderr: lines are handed to a writer
//! thread, which writes them in batches; if its queue is ever full, lines are
//! dropped and counted, never silently (the count is in `GET
//! /_sandbox/health` and in a warning line once the queue has room again).

use std::io::{BufWriter, IsTerminal, Write as _};
use std::time::Duration;

use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, NonBlockingBuilder, WorkerGuard};

/// Lines the writer thread may hold before new ones are dropped.
pub const QUEUE_LINES: usize = 64 * 1024;

/// How lines are written (`--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Where log lines go: the writer thread's queue, with its drop counter.
/// Cloning is cheap (shared queue and counter).
#[derive(Clone)]
pub struct Sink {
    writer: Option<NonBlocking>,
    dropped: Option<ErrorCounter>,
    pub format: Format,
    /// ANSI colours (stderr is a terminal, text format).
    pub ansi: bool,
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
            writer: None,
            dropped: None,
            format: Format::Text,
            ansi: false,
        }
    }

    /// Whether lines written here go anywhere.
    pub fn is_on(&self) -> bool {
        self.writer.is_some()
    }

    /// Queues one whole line (with its newline); never blocks.
    pub fn write_line(&self, line: &[u8]) {
        if let Some(w) = &self.writer {
            let _ = w.clone().write_all(line);
        }
    }

    /// Lines dropped because the queue was full, since start.
    pub fn dropped_lines(&self) -> u64 {
        self.dropped
            .as_ref()
            .map_or(0, |d| d.dropped_lines() as u64)
    }
}

/// Keeps the writer thread alive; dropping it flushes what is queued.
pub struct Guard {
    _worker: WorkerGuard,
}

/// Installs the global `tracing` subscriber (filtered by `RUST_LOG`,
/// default `info`) on the non-blocking writer, and returns the sink for the
/// access log, which formats its own lines into the same queue.
pub fn init(format: Format) -> (Sink, Guard) {
    use tracing_subscriber::EnvFilter;
    let ansi = format == Format::Text && std::io::stderr().is_terminal();
    let stderr = BufWriter::with_capacity(64 * 1024, std::io::stderr());
    let (sink, worker) = sink_over(stderr, QUEUE_LINES, format, ansi);
    let writer = sink.writer.clone().expect("a writer");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer.clone())
        .with_ansi(ansi);
    match format {
        Format::Text => builder.init(),
        Format::Json => builder.json().init(),
    }
    (sink, Guard { _worker: worker })
}

/// A sink whose lines a thread of its own writes to `out`, holding at most
/// `queue` lines; more are dropped and counted.
fn sink_over<W: std::io::Write + Send + 'static>(
    out: W,
    queue: usize,
    format: Format,
    ansi: bool,
) -> (Sink, WorkerGuard) {
    let (writer, worker) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(queue)
        .thread_name("log-writer")
        .finish(out);
    let sink = Sink {
        dropped: Some(writer.error_counter()),
        writer: Some(writer),
        format,
        ansi,
    };
    (sink, worker)
}

/// Reports dropped lines: once a second, if more were dropped since the
/// last look, one warning with the number (itself dropped only if the queue
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
    use std::sync::{Arc, Mutex};

    /// A writer that blocks until told to go on, then keeps what it got.
    struct Stuck {
        go: mpsc::Receiver<()>,
        got: Arc<Mutex<Vec<u8>>>,
        waited: bool,
    }

    impl std::io::Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if !self.waited {
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
    fn a_full_queue_drops_lines_and_counts_them_without_blocking() {
        let (go, wait) = mpsc::channel();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stuck = Stuck {
            go: wait,
            got: got.clone(),
            waited: false,
        };
        let (sink, worker) = sink_over(stuck, 4, Format::Text, false);
        // the writer thread takes at most one line and blocks on it; the
        // queue holds 4 more; the rest are dropped, and writing never waits
        for i in 0..20 {
            sink.write_line(format!("line {i}\n").as_bytes());
        }
        let dropped = sink.dropped_lines();
        assert!((15..=16).contains(&dropped), "dropped {dropped}");
        go.send(()).unwrap();
        drop(worker); // flushes what is queued
        let written = String::from_utf8(got.lock().unwrap().clone()).unwrap();
        assert_eq!(written.lines().count() as u64, 20 - dropped, "{written}");
        assert!(written.starts_with("line 0\n"), "{written}");
    }
}
