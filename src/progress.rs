//! A progress line on stderr for work that takes more than a second, on a terminal only:
//! `kube-compactor: planning 1523 nodes, 6025 pods… 3 s`, rewritten every second and erased
//! when the work is done. Never written to a pipe or a file, so scripts and logs see only
//! the output.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Shows a progress line while alive (when stderr is a terminal and the work outlasts the
/// first second); dropping it erases the line.
pub(crate) struct Progress {
    done: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// A progress line about `what` on stderr, when stderr is a terminal.
    pub(crate) fn start(what: String) -> Self {
        if std::io::stderr().is_terminal() {
            Self::on(what, std::io::stderr(), Duration::from_secs(1))
        } else {
            Self {
                done: None,
                thread: None,
            }
        }
    }

    /// The line on `out`, first after `delay`, then every `delay`.
    fn on(what: String, mut out: impl Write + Send + 'static, delay: Duration) -> Self {
        let (done, wait) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut shown = false;
            // Until the work is done (a message, or the sender dropped).
            while let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(delay) {
                shown = true;
                let _ = write!(
                    out,
                    "\r\x1b[2Kkube-compactor: {what}… {} s",
                    started.elapsed().as_secs()
                );
                let _ = out.flush();
            }
            if shown {
                let _ = write!(out, "\r\x1b[2K");
                let _ = out.flush();
            }
        });
        Self {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A writer whose bytes a test reads back (clones share them).
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl Shared {
    /// Everything written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[cfg(test)]
impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_work_shows_nothing() {
        let out = Shared::default();
        drop(Progress::on(
            "planning".into(),
            out.clone(),
            Duration::from_secs(3600),
        ));
        assert!(out.0.lock().unwrap().is_empty());
    }

    #[test]
    fn long_work_shows_a_line_then_erases_it() {
        let out = Shared::default();
        let p = Progress::on(
            "planning 3 nodes".into(),
            out.clone(),
            Duration::from_millis(1),
        );
        // Wait for the first line (the thread writes it after 1 ms).
        for _ in 0..5000 {
            if !out.0.lock().unwrap().is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(p);
        let text = out.text();
        assert!(
            text.starts_with("\r\x1b[2Kkube-compactor: planning 3 nodes… 0 s"),
            "{text:?}"
        );
        assert!(text.ends_with("\r\x1b[2K"), "{text:?}");
    }

    #[test]
    fn not_a_terminal_means_no_thread() {
        // The test harness captures stderr: not a terminal.
        if !std::io::stderr().is_terminal() {
            let p = Progress::start("planning".into());
            assert!(p.thread.is_none());
        }
    }
}
