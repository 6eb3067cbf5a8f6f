//! Progress bars for long CLI work (hidden when stderr is not a terminal, e.g. in CI).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar counting towards `total` items.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// A spinner counting items of unknown total.
pub fn counter(what: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg:>12} {human_pos} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(what.to_owned());
    pb
}

/// Progress of the application layer's bulk work (import, export) as one spinner per kind of
/// record, shown while that kind is being worked on.
#[derive(Debug, Default)]
pub struct Spinners {
    bars: std::sync::Mutex<std::collections::HashMap<&'static str, ProgressBar>>,
}

impl nrmp_app::bulk::import::Progress for Spinners {
    fn advance(&self, what: &'static str, n: u64) {
        if let Ok(mut bars) = self.bars.lock() {
            bars.entry(what).or_insert_with(|| counter(what)).inc(n);
        }
    }

    fn finish(&self, what: &'static str) {
        if let Ok(mut bars) = self.bars.lock()
            && let Some(pb) = bars.remove(what)
        {
            pb.finish_and_clear();
        }
    }
}

impl Spinners {
    /// Clears every spinner still shown.
    pub fn finish_all(&self) {
        if let Ok(mut bars) = self.bars.lock() {
            for (_, pb) in bars.drain() {
                pb.finish_and_clear();
            }
        }
    }
}
