//! The rows that may still need reasons while pass 2 runs: the `k`
//! largest scores seen, and the kept rows themselves, pruned as the floor
//! of those scores rises.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use sentinel_manifest::batch::Batch;

/// Keeps the `k` largest scores seen; its floor only rises, so a row below
/// it can never end up among the top `k`.
pub(crate) struct TopK {
    pub(crate) k: usize,
    heap: BinaryHeap<Reverse<OrdF64>>,
}

#[derive(PartialEq)]
struct OrdF64(f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl TopK {
    pub(crate) fn new(k: usize) -> TopK {
        TopK {
            k: k.max(1),
            heap: BinaryHeap::new(),
        }
    }
    /// No row scoring below this can end up among the top `k`.
    pub(crate) fn floor(&self) -> f64 {
        if self.heap.len() < self.k {
            f64::NEG_INFINITY
        } else {
            self.heap.peek().map_or(f64::NEG_INFINITY, |r| r.0 .0)
        }
    }

    /// Records a score; true when the row may end up among the top `k`.
    pub(crate) fn offer(&mut self, s: f64) -> bool {
        if self.heap.len() < self.k {
            self.heap.push(Reverse(OrdF64(s)));
            return true;
        }
        let floor = self.heap.peek().map_or(f64::NEG_INFINITY, |r| r.0 .0);
        if s >= floor {
            self.heap.pop();
            self.heap.push(Reverse(OrdF64(s)));
            true
        } else {
            false
        }
    }
}

/// Rows that may need reasons, kept (with their run positions and risk)
/// until the run is ranked; rows that fall out of reach are dropped as the
/// floor rises, so at most a few times the reason depth are held.
#[derive(Default)]
pub(crate) struct Candidates {
    parts: Vec<(Batch, Vec<usize>, Vec<f64>)>,
    pub(crate) rows: usize,
}

impl Candidates {
    pub(crate) fn push(&mut self, b: &Batch, local: &[usize], start: usize, risk: &[f64]) {
        if local.is_empty() {
            return;
        }
        self.rows += local.len();
        self.parts.push((
            b.select(local),
            local.iter().map(|i| start + i).collect(),
            local.iter().map(|&i| risk[i]).collect(),
        ));
    }

    /// Keeps the rows for which `keep(run position, risk)` holds.
    pub(crate) fn retain(&mut self, keep: impl Fn(usize, f64) -> bool) {
        let mut rows = 0;
        for (b, at, risk) in &mut self.parts {
            let idx: Vec<usize> = (0..b.len).filter(|&i| keep(at[i], risk[i])).collect();
            if idx.len() < b.len {
                *b = b.select(&idx);
                *at = idx.iter().map(|&i| at[i]).collect();
                *risk = idx.iter().map(|&i| risk[i]).collect();
            }
            rows += idx.len();
        }
        self.parts.retain(|p| p.0.len > 0);
        self.rows = rows;
    }

    /// All kept rows as one batch, with their run positions.
    pub(crate) fn into_batch(self) -> Option<(Batch, Vec<usize>)> {
        let mut all: Option<(Batch, Vec<usize>)> = None;
        for (b, at, _) in self.parts {
            match &mut all {
                None => all = Some((b, at)),
                Some((a, pos)) => {
                    a.append(b);
                    pos.extend(at);
                }
            }
        }
        all
    }
}
