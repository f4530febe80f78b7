//! Progress of a wait: a status line on stderr, redrawn in place, only once the wait has lasted
//! [`AFTER`] and only when stderr is a terminal and the report is for a human. Otherwise (piped,
//! or `-o json|yaml`) nothing while waiting and one line at the end. Never on stdout: the
//! report stays the only thing there. No escape sequence is written, only `\r` and spaces.

use std::{
    collections::BTreeMap,
    io::{IsTerminal, Write},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

/// Waits shorter than this show nothing.
pub const AFTER: Duration = Duration::from_secs(2);
/// A redraw at most this often, and at least this often while sleeping.
const TICK: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A status line redrawn in place (stderr is a terminal, the report is a table).
    Live,
    /// One line when the wait ends.
    Final,
}

static MODE: OnceLock<Mode> = OnceLock::new();

/// Decides the mode for the run: live only on a terminal and for a human-readable report.
pub fn init(structured_output: bool) {
    let _ = MODE.set(mode_for(std::io::stderr().is_terminal(), structured_output));
}

pub fn mode_for(stderr_terminal: bool, structured_output: bool) -> Mode {
    if stderr_terminal && !structured_output {
        Mode::Live
    } else {
        Mode::Final
    }
}

fn mode() -> Mode {
    *MODE.get_or_init(|| mode_for(std::io::stderr().is_terminal(), false))
}

struct State {
    what: String,
    detail: String,
    counters: BTreeMap<String, u64>,
    start: Instant,
    after: Duration,
    mode: Mode,
    /// Width of the line on screen, to blank it out.
    drawn: usize,
    last_draw: Option<Instant>,
    /// Something was waited for (an update or a sleep): a bare slow call is no wait.
    engaged: bool,
    out: Box<dyn Write + Send>,
}

/// One wait's progress; clones share it (concurrent pages of one list). Finished when the
/// last clone drops: the live line is blanked, or the final line written.
#[derive(Clone)]
pub struct Progress(Arc<Mutex<State>>);

impl Progress {
    /// A wait described as `what` ("waiting for ..."), shown on stderr as the run decided.
    pub fn start(what: impl Into<String>) -> Progress {
        Progress::to(what, mode(), AFTER, Box::new(std::io::stderr()))
    }

    /// A wait shown on `out`: the form tests use.
    pub fn to(
        what: impl Into<String>,
        mode: Mode,
        after: Duration,
        out: Box<dyn Write + Send>,
    ) -> Progress {
        Progress(Arc::new(Mutex::new(State {
            what: what.into(),
            detail: String::new(),
            counters: BTreeMap::new(),
            start: Instant::now(),
            after,
            mode,
            drawn: 0,
            last_draw: None,
            engaged: false,
            out,
        })))
    }

    fn with(&self, f: impl FnOnce(&mut State)) {
        if let Ok(mut s) = self.0.lock() {
            f(&mut s);
        }
    }

    /// Replaces the detail ("attempt 3", "round 2: 1 check pending").
    pub fn detail(&self, detail: impl Into<String>) {
        self.with(|s| {
            s.detail = detail.into();
            s.engaged = true;
            s.draw(false);
        });
    }

    /// Adds `n` to a counter shown as "N label" ("3 pages of pods").
    pub fn add(&self, label: &str, n: u64) {
        self.with(|s| {
            *s.counters.entry(label.to_string()).or_default() += n;
            s.engaged = true;
            s.draw(false);
        });
    }

    /// Sleeps `d`, keeping the line's elapsed time current.
    pub async fn sleep(&self, d: Duration) {
        self.with(|s| s.engaged = true);
        let end = tokio::time::Instant::now() + d;
        loop {
            let now = tokio::time::Instant::now();
            if now >= end {
                return;
            }
            tokio::time::sleep((end - now).min(TICK)).await;
            self.with(|s| s.draw(false));
        }
    }
}

impl State {
    fn text(&self) -> String {
        line(
            &self.what,
            &self.detail,
            &self.counters,
            self.start.elapsed(),
        )
    }

    fn draw(&mut self, force: bool) {
        if self.mode != Mode::Live || self.start.elapsed() < self.after {
            return;
        }
        if !force && self.last_draw.is_some_and(|t| t.elapsed() < TICK) {
            return;
        }
        let text = self.text();
        let width = text.chars().count();
        let pad = " ".repeat(self.drawn.saturating_sub(width));
        let _ = write!(self.out, "\r{text}{pad}");
        let _ = self.out.flush();
        self.drawn = width;
        self.last_draw = Some(Instant::now());
    }
}

impl Drop for State {
    fn drop(&mut self) {
        match self.mode {
            Mode::Live if self.drawn > 0 => {
                let _ = write!(self.out, "\r{}\r", " ".repeat(self.drawn));
            }
            Mode::Final if self.engaged && self.start.elapsed() >= self.after => {
                let _ = writeln!(self.out, "{}", self.text());
            }
            _ => {}
        }
        let _ = self.out.flush();
    }
}

/// The status line: "waiting for X: 3 pages of pods, attempt 2 (5s)". Pure.
pub fn line(
    what: &str,
    detail: &str,
    counters: &BTreeMap<String, u64>,
    elapsed: Duration,
) -> String {
    let mut parts: Vec<String> = counters.iter().map(|(k, n)| format!("{n} {k}")).collect();
    if !detail.is_empty() {
        parts.push(detail.to_string());
    }
    let secs = elapsed.as_secs();
    if parts.is_empty() {
        format!("{what} ({secs}s)")
    } else {
        format!("{what}: {} ({secs}s)", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer the test reads back after the progress is dropped.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn the_line_names_counters_detail_and_seconds() {
        let mut c = BTreeMap::new();
        assert_eq!(
            line("waiting", "", &c, Duration::from_millis(2500)),
            "waiting (2s)"
        );
        c.insert("pages of pods".to_string(), 3);
        c.insert("pages of serviceaccounts".to_string(), 1);
        assert_eq!(
            line("reading", "attempt 2", &c, Duration::from_secs(7)),
            "reading: 3 pages of pods, 1 pages of serviceaccounts, attempt 2 (7s)"
        );
    }

    #[test]
    fn live_redraws_in_place_then_blanks_the_line() {
        let buf = Buf::default();
        let p = Progress::to("waiting", Mode::Live, Duration::ZERO, Box::new(buf.clone()));
        p.detail("attempt 1");
        p.0.lock().unwrap().draw(true);
        drop(p);
        let text = buf.text();
        assert!(text.starts_with("\rwaiting: attempt 1 (0s)"), "{text:?}");
        assert!(
            text.ends_with(&format!("\r{}\r", " ".repeat(23))),
            "{text:?}"
        );
        assert!(!text.contains('\n') && !text.contains('\x1b'), "{text:?}");
    }

    #[test]
    fn final_mode_writes_one_line_at_the_end() {
        let buf = Buf::default();
        let p = Progress::to(
            "waiting",
            Mode::Final,
            Duration::ZERO,
            Box::new(buf.clone()),
        );
        let q = p.clone();
        p.add("pages", 2);
        q.add("pages", 1);
        assert_eq!(buf.text(), "", "nothing while waiting");
        drop(p);
        assert_eq!(buf.text(), "", "a clone still waits");
        drop(q);
        assert_eq!(buf.text(), "waiting: 3 pages (0s)\n");
    }

    #[test]
    fn short_or_idle_waits_show_nothing() {
        for mode in [Mode::Live, Mode::Final] {
            let buf = Buf::default();
            let p = Progress::to(
                "waiting",
                mode,
                Duration::from_secs(3600),
                Box::new(buf.clone()),
            );
            p.detail("attempt 1");
            drop(p);
            assert_eq!(buf.text(), "", "{mode:?}: under the threshold");
            let buf = Buf::default();
            drop(Progress::to(
                "waiting",
                mode,
                Duration::ZERO,
                Box::new(buf.clone()),
            ));
            assert_eq!(buf.text(), "", "{mode:?}: nothing was waited for");
        }
    }

    #[tokio::test]
    async fn sleeping_keeps_the_line_drawn() {
        let buf = Buf::default();
        let p = Progress::to("waiting", Mode::Live, Duration::ZERO, Box::new(buf.clone()));
        p.sleep(Duration::from_millis(600)).await;
        assert!(buf.text().starts_with("\rwaiting (0s)"), "{:?}", buf.text());
    }

    #[test]
    fn modes() {
        assert_eq!(mode_for(true, false), Mode::Live);
        assert_eq!(mode_for(true, true), Mode::Final, "-o json on a terminal");
        assert_eq!(mode_for(false, false), Mode::Final, "piped");
    }
}
