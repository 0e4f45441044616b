//! The run's own rows that the label-free score reads its tails from: a
//! uniform sample of at most [`SIZE`] rows, each drawn by a hash of its
//! position in the run (the smallest draws are kept), so the sample is the
//! same however the run is chunked, and is every row of a smaller run.

use sentinel_manifest::batch::Batch;

/// Rows the sample keeps at most.
pub const SIZE: usize = 50_000;

/// A row's draw: splitmix64 of its position (a bijection, so no two rows
/// draw alike).
fn draw(position: usize) -> u64 {
    let mut z = (position as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The positions of the sample of a run of `n` rows, in run order.
pub fn positions(n: usize, size: usize) -> Vec<usize> {
    let mut d: Vec<(u64, usize)> = (0..n).map(|i| (draw(i), i)).collect();
    if d.len() > size {
        d.select_nth_unstable(size);
        d.truncate(size);
    }
    let mut at: Vec<usize> = d.into_iter().map(|(_, i)| i).collect();
    at.sort_unstable();
    at
}

/// The sample of a run read chunk by chunk: its rows and their positions.
pub struct RunSample {
    size: usize,
    rows: Batch,
    /// Each kept row's draw and position, aligned with `rows`.
    kept: Vec<(u64, usize)>,
    /// Rows whose draw is above this can no longer be kept.
    cut: u64,
    /// Rows seen so far (the next chunk's first position).
    seen: usize,
}

impl RunSample {
    pub fn new(size: usize) -> RunSample {
        RunSample {
            size,
            rows: Batch::empty(),
            kept: Vec::new(),
            cut: u64::MAX,
            seen: 0,
        }
    }

    /// The next chunk of the run.
    pub fn add(&mut self, b: &Batch) {
        let idx: Vec<usize> = (0..b.len).filter(|&i| draw(self.seen + i) <= self.cut).collect();
        self.kept
            .extend(idx.iter().map(|&i| (draw(self.seen + i), self.seen + i)));
        self.rows.append(b.select(&idx));
        self.seen += b.len;
        if self.kept.len() >= 2 * self.size.max(1) {
            self.prune();
        }
    }

    /// Keeps the `size` smallest draws (in run order).
    fn prune(&mut self) {
        if self.size == 0 {
            (self.rows, self.kept, self.cut) = (Batch::empty(), Vec::new(), 0);
            return;
        }
        if self.kept.len() > self.size {
            let mut draws: Vec<u64> = self.kept.iter().map(|k| k.0).collect();
            let (_, nth, _) = draws.select_nth_unstable(self.size - 1);
            self.cut = *nth;
        }
        let idx: Vec<usize> = (0..self.kept.len())
            .filter(|&i| self.kept[i].0 <= self.cut)
            .collect();
        if idx.len() < self.kept.len() {
            self.rows = self.rows.select(&idx);
            self.kept = idx.iter().map(|&i| self.kept[i]).collect();
        }
    }

    /// The sampled rows and their positions in the run, in run order.
    pub fn finish(mut self) -> (Batch, Vec<usize>) {
        self.prune();
        (self.rows, self.kept.into_iter().map(|k| k.1).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` rows whose line numbers are their positions from `first`.
    fn batch(first: usize, n: usize) -> Batch {
        let mut b = Batch::empty();
        b.len = n;
        b.file = vec![0; n];
        b.line = (first..first + n).map(|i| i as u64).collect();
        b.invalid = vec![0; n];
        b
    }

    #[test]
    fn the_sample_does_not_depend_on_chunking() {
        let n = 1_000;
        let want = positions(n, 100);
        assert_eq!(want.len(), 100);
        assert!(want.windows(2).all(|w| w[0] < w[1]));
        for chunk in [1, 7, 99, 250, 1_000] {
            let mut s = RunSample::new(100);
            let mut at = 0;
            while at < n {
                let len = chunk.min(n - at);
                s.add(&batch(at, len));
                at += len;
            }
            let (rows, got) = s.finish();
            assert_eq!(got, want, "chunks of {chunk}");
            // The rows are the ones at those positions.
            let lines: Vec<usize> = rows.line.iter().map(|l| *l as usize).collect();
            assert_eq!(lines, want);
        }
    }

    #[test]
    fn a_small_run_is_its_own_sample() {
        assert_eq!(positions(30, 100), (0..30).collect::<Vec<_>>());
        let mut s = RunSample::new(100);
        s.add(&batch(0, 30));
        assert_eq!(s.finish().1, (0..30).collect::<Vec<_>>());
        assert!(positions(0, 100).is_empty());
        // A sample of no rows keeps none, however many it sees.
        let mut none = RunSample::new(0);
        for k in 0..5 {
            none.add(&batch(k * 10, 10));
        }
        assert!(none.finish().1.is_empty());
        assert!(positions(30, 0).is_empty());
    }
}
