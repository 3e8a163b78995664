//! The terminal progress bar of `kubesim run`: simulated time done and events per second,
//! shown only on a terminal, only once a run has taken a second (quick runs stay quiet),
//! and never with `--quiet`. The only place besides the summary line that reads the wall
//! clock; it cannot change what is simulated.

use indicatif::{ProgressBar, ProgressStyle};
use kubesim::engine::SimTime;
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Wall time before the bar appears (`KUBESIM_PROGRESS_AFTER_MS` overrides it, for tests).
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A progress bar that appears late and only where someone is watching.
pub struct Bar {
    total: SimTime,
    enabled: bool,
    started: Instant,
    show_after: Duration,
    bar: OnceLock<ProgressBar>,
}

impl Bar {
    /// A bar for a run of `total` simulated time; `wanted` is false with `--quiet`.
    pub fn new(total: SimTime, wanted: bool) -> Bar {
        let show_after = std::env::var("KUBESIM_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(SHOW_AFTER, Duration::from_millis);
        Bar {
            total,
            enabled: wanted && std::io::stderr().is_terminal(),
            started: Instant::now(),
            show_after,
            bar: OnceLock::new(),
        }
    }

    /// The run reached simulated time `t` after `events` events.
    pub fn update(&self, t: SimTime, events: u64) {
        if !self.enabled {
            return;
        }
        let elapsed = self.started.elapsed();
        if elapsed < self.show_after {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(self.total.as_millis().max(1));
            let style = ProgressStyle::with_template("{bar:32.cyan/blue} {percent:>3}% {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        bar.set_position(t.as_millis());
        let rate = events as f64 / elapsed.as_secs_f64().max(1e-3);
        bar.set_message(format!(
            "{:.0} of {:.0} s simulated, {:.0} events/s",
            t.as_secs_f64(),
            self.total.as_secs_f64(),
            rate
        ));
    }

    /// The run is over: the bar leaves the terminal as it found it.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

/// A bar over a count of things (runs of a comparison), with the same rules as [`Bar`].
pub struct Counter {
    total: u64,
    what: &'static str,
    enabled: bool,
    started: Instant,
    show_after: Duration,
    bar: OnceLock<ProgressBar>,
}

impl Counter {
    /// A bar for `total` `what`s; `wanted` is false with `--quiet`.
    pub fn new(total: u64, what: &'static str, wanted: bool) -> Counter {
        let probe = Bar::new(SimTime::ZERO, wanted);
        Counter {
            total,
            what,
            enabled: probe.enabled,
            started: probe.started,
            show_after: probe.show_after,
            bar: OnceLock::new(),
        }
    }

    /// `done` of them are finished.
    pub fn update(&self, done: u64) {
        if !self.enabled || self.started.elapsed() < self.show_after {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(self.total.max(1));
            let template = format!("{{bar:32.cyan/blue}} {{pos}}/{{len}} {} {{msg}}", self.what);
            let style = ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        bar.set_position(done);
        bar.set_message(format!("({:.0} s)", self.started.elapsed().as_secs_f64()));
    }

    /// All done: the bar leaves the terminal as it found it.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}
