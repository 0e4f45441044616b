//! Times the matcher alone: every name of a file (one a line) screened by
//! name against a list, as `screen` does for each distinct party name.
//!
//!     cargo run --release --example screen_names -- NAMES.txt LIST.csv

use sentinel_parties::screen::list::List;
use sentinel_parties::screen::matcher::{Matcher, Scratch, DEFAULT_MIN_SCORE};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (names, list) = match args.as_slice() {
        [_, n, l] => (n, l),
        _ => anyhow::bail!("usage: screen_names NAMES.txt LIST.csv"),
    };
    let text = std::fs::read_to_string(names)?;
    let names: Vec<&str> = text.lines().collect();
    let mut l = List::default();
    l.add_file(std::path::Path::new(list))?;
    let t = std::time::Instant::now();
    let m = Matcher::new(l);
    let indexed = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let mut scratch = Scratch::default();
    let found: usize = names
        .iter()
        .map(|n| m.by_name_with(n, DEFAULT_MIN_SCORE, &mut scratch).len())
        .sum();
    let s = t.elapsed().as_secs_f64();
    println!(
        "{} names against {} listed names: indexed in {indexed:.3} s, screened in {s:.3} s ({:.1} us a name), {found} name matches",
        names.len(),
        m.len(),
        s * 1e6 / names.len() as f64
    );
    Ok(())
}
