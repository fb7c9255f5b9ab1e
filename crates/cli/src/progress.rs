//! Progress bars, drawn on stderr only when it is a terminal (never in pipes, logs or tests).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

fn enabled(wanted: bool) -> bool {
    wanted && std::io::stderr().is_terminal()
}

/// A bar over `len` units (bytes, days…).
pub fn bar(wanted: bool, len: u64, message: &str) -> ProgressBar {
    if !enabled(wanted) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len).with_message(message.to_owned());
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>18} [{bar:40}] {percent:>3}% {elapsed_precise}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A spinner for work of unknown length.
pub fn spinner(wanted: bool, message: &str) -> ProgressBar {
    if !enabled(wanted) {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner().with_message(message.to_owned());
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}
