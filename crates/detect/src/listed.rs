//! Restricted-party evidence in the scores (`score --list`, issue #29): a
//! line whose party matches a list entry (at the screening's least score)
//! is raised, in whichever mode the run scores. The evidence is combined
//! with the model's score by a fixed rule rather than learnt, so that a
//! model trained without a list (every model so far) scores with one:
//!
//! - supervised: the match multiplies the line's odds by
//!   `exp(LISTED_LOGIT * score)` (100 at a perfect match), as one more
//!   piece of independent evidence in the model's log-odds;
//! - label-free: the match adds its surprisal in the run, `-ln P(a line of
//!   the run matches at this score or more)`, like every other term of the
//!   label-free sum: a match that a large share of the run's lines carry
//!   weighs little, a rare one much.

use crate::model::labelfree::P_FLOOR;

/// Log-odds a perfect match adds to a supervised score (ln 100).
pub const LISTED_LOGIT: f64 = 4.605_170_185_988_091;

/// A line's match, within its chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListedLine {
    /// The line's position in its chunk.
    pub row: usize,
    /// The match's score (0..1).
    pub score: f64,
    /// `-ln P(score or more)` over the run's lines.
    pub surprisal: f64,
}

/// The run's listed lines: positions (ascending) and match scores.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    at: Vec<usize>,
    score: Vec<f64>,
    /// The scores sorted, for the share of the run at or above one.
    sorted: Vec<f64>,
    /// Lines in the run.
    n: usize,
}

impl Listing {
    /// From `(position, score)` of the run's listed lines (any order) in a
    /// run of `n` lines.
    pub fn new(n: usize, mut lines: Vec<(usize, f64)>) -> Listing {
        lines.sort_by_key(|l| l.0);
        let mut sorted: Vec<f64> = lines.iter().map(|l| l.1).collect();
        sorted.sort_by(f64::total_cmp);
        let (at, score) = lines.into_iter().unzip();
        Listing { at, score, sorted, n }
    }

    /// Lines that match.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// `-ln` of the share of the run's lines matching at `score` or more
    /// (floored at [`P_FLOOR`]).
    pub fn surprisal(&self, score: f64) -> f64 {
        let above = self.sorted.len() - self.sorted.partition_point(|s| *s < score);
        let p = above as f64 / self.n.max(1) as f64;
        -p.max(P_FLOOR).ln()
    }

    /// The listed lines among positions `off..off + len`, chunk-relative.
    pub fn chunk(&self, off: usize, len: usize) -> Vec<ListedLine> {
        let from = self.at.partition_point(|a| *a < off);
        let to = self.at.partition_point(|a| *a < off + len);
        (from..to)
            .map(|k| ListedLine {
                row: self.at[k] - off,
                score: self.score[k],
                surprisal: self.surprisal(self.score[k]),
            })
            .collect()
    }
}

/// A supervised probability raised by a match of `score`.
pub fn lift(p: f64, score: f64) -> f64 {
    if !p.is_finite() {
        return p;
    }
    let ratio = (LISTED_LOGIT * score.clamp(0.0, 1.0)).exp();
    let odds = p * ratio;
    odds / (odds + (1.0 - p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_match_multiplies_the_odds() {
        // Odds 1:99 -> 100:99 at a perfect match.
        assert!((lift(0.01, 1.0) - 100.0 / 199.0).abs() < 1e-12);
        assert_eq!(lift(0.3, 0.0), 0.3);
        assert!(lift(0.3, 0.9) > lift(0.3, 0.88));
        assert_eq!(lift(1.0, 1.0), 1.0);
        assert_eq!(lift(0.0, 1.0), 0.0);
    }

    #[test]
    fn rarer_matches_weigh_more() {
        let l = Listing::new(1000, vec![(7, 0.9), (3, 0.95), (500, 1.0)]);
        assert_eq!(l.len(), 3);
        // One line in a thousand at 1.0 or more; three at 0.9 or more.
        assert!((l.surprisal(1.0) - (1000f64).ln()).abs() < 1e-9);
        assert!((l.surprisal(0.9) - (1000f64 / 3.0).ln()).abs() < 1e-9);
        let c = l.chunk(0, 100);
        assert_eq!(c.iter().map(|x| x.row).collect::<Vec<_>>(), vec![3, 7]);
        let c = l.chunk(400, 200);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].row, 100);
        assert_eq!(c[0].score, 1.0);
        assert!(l.chunk(600, 400).is_empty());
    }
}
