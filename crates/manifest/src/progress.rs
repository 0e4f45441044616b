//! Progress bars on stderr, drawn only on a terminal and never with `-q`,
//! so they never mix into piped data.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` steps labelled `stage`; hidden when `quiet`.
pub fn bar(len: u64, stage: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let pb = pb.with_style(style);
    pb.set_prefix(stage.to_string());
    pb
}

/// A counter of rows for work of unknown length; hidden when `quiet`.
pub fn counter(stage: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix:>10} {spinner} {pos} rows {per_sec} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let pb = pb.with_style(style);
    pb.set_prefix(stage.to_string());
    pb
}
