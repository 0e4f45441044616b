//! A run's restricted-party matches (`score --list`, issue #29): each
//! line's strongest match, screened in pass 1 (each distinct party name
//! once), read by pass 2 as evidence ([`sentinel_detect::listed`]), by the
//! cases (a listed entry joins its flagged lines) and by the reasons (a
//! `LISTED_PARTY` reason first).

use std::sync::Arc;

use sentinel_detect::listed::{ListedLine, Listing};
use sentinel_manifest::batch::Batch;
use sentinel_parties::screen::filed::{Screener, ROLES};
use sentinel_parties::screen::matcher::{Match, Matcher};

/// The reason code of a line whose party matches a list entry.
pub const LISTED_PARTY: &str = "LISTED_PARTY";

/// The lists a run is screened against, and the least score of a match.
#[derive(Clone)]
pub struct RunList {
    pub matcher: Arc<Matcher>,
    pub min_score: f64,
    /// The filer's country ([`sentinel_parties::screen::filed::filer_country`]).
    pub filer_country: Option<String>,
}

/// Collects the matches of a run's lines, chunk by chunk (pass 1).
pub struct Collect<'m> {
    screener: Screener<'m>,
    matcher: &'m Arc<Matcher>,
    /// (line, role, match in the screener's `found`), in line order.
    lines: Vec<(usize, u8, u32)>,
}

impl<'m> Collect<'m> {
    pub fn new(list: &'m RunList) -> Collect<'m> {
        Collect {
            screener: Screener::new(&list.matcher, list.min_score, list.filer_country.clone()),
            matcher: &list.matcher,
            lines: Vec::new(),
        }
    }

    /// Screens a chunk whose first line is the run's `start`-th.
    pub fn add(&mut self, b: &Batch, start: usize) {
        for i in 0..b.len {
            if let Some((role, m)) = self.screener.best(b, i) {
                self.lines.push((start + i, role, m));
            }
        }
    }

    /// The run's matches, once all `n` lines are screened.
    pub fn finish(self, n: usize) -> RunMatches {
        let names = self.screener.names();
        let found = self.screener.into_found();
        let listing = Listing::new(
            n,
            self.lines
                .iter()
                .map(|&(at, _, m)| (at, found[m as usize].score))
                .collect(),
        );
        RunMatches {
            matcher: Arc::clone(self.matcher),
            lines: self.lines,
            found,
            listing,
            names,
        }
    }
}

/// A run's listed lines.
pub struct RunMatches {
    matcher: Arc<Matcher>,
    /// Each listed line's strongest match: (line, role, match in `found`),
    /// in line order.
    lines: Vec<(usize, u8, u32)>,
    found: Vec<Match>,
    listing: Listing,
    /// Distinct party names screened.
    pub names: usize,
}

impl RunMatches {
    /// Lines with a match.
    pub fn lines(&self) -> usize {
        self.lines.len()
    }

    /// Distinct entries matched.
    pub fn entries(&self) -> usize {
        let mut e: Vec<u32> = self
            .lines
            .iter()
            .map(|l| self.found[l.2 as usize].entry)
            .collect();
        e.sort_unstable();
        e.dedup();
        e.len()
    }

    /// The listed lines among run positions `off..off + len`.
    pub fn chunk(&self, off: usize, len: usize) -> Vec<ListedLine> {
        self.listing.chunk(off, len)
    }

    /// Line `at`'s role and match.
    fn of(&self, at: usize) -> Option<(u8, &Match)> {
        let k = self.lines.binary_search_by_key(&at, |l| l.0).ok()?;
        let (_, role, m) = self.lines[k];
        Some((role, &self.found[m as usize]))
    }

    /// The entry (index over the run's lists) line `at` matches.
    pub fn entry(&self, at: usize) -> Option<u32> {
        self.of(at).map(|(_, m)| m.entry)
    }

    /// The `LISTED_PARTY` sentence of line `at` (row `i` of `b`): the role
    /// and name filed, the list, entry and name matched, the score and its
    /// evidence.
    pub fn sentence(&self, at: usize, b: &Batch, i: usize) -> Option<String> {
        let (role, m) = self.of(at)?;
        let role = &ROLES[role as usize];
        let e = self.matcher.list.entries.get(m.entry as usize)?;
        let listed = e.names.first().map_or("", String::as_str);
        let matched = e.names.get(m.alias as usize).map_or(listed, String::as_str);
        let alias = if m.alias > 0 {
            format!(" as its alias \"{}\"", clip(matched))
        } else {
            String::new()
        };
        let who = match role.name {
            "usppi" => "exporter",
            "ultimate_consignee" => "ultimate consignee",
            _ => "intermediate consignee",
        };
        Some(format!(
            "{who} \"{}\" matches {} entry {}, \"{}\"{alias} (score {:.2}: {})",
            clip(&b.text(role.name_col)[i]),
            clip(&e.source),
            clip(&e.id),
            clip(listed),
            m.score,
            sentinel_manifest::safe_text::printable(&m.evidence)
        ))
    }
}

/// A cell of a filing or a list (either written by anyone) for a
/// sentence: cut to 120 characters, control characters shown, not obeyed
/// (the sentence reaches terminals too).
fn clip(s: &str) -> String {
    sentinel_manifest::safe_text::printable(&sentinel_manifest::safe_text::cut(s, 120))
}
