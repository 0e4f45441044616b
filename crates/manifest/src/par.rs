//! The one parallel pattern of the tool: an ordered map over a stream.
//! Items go in through a [`Feed`] (from any thread), a few workers apply one
//! function to them, and the results come out of [`Ordered`] in the order
//! the items went in. At most `capacity` items are in flight (fed and not
//! yet taken), so memory stays bounded however fast the feeder is.
//!
//! A worker's panic is caught, handed on in its item's place and raised
//! again by `Ordered`'s `next`, so a run never waits for an item for ever.
//! Dropping [`Ordered`] stops the feed ([`Feed::send`] then fails) and the
//! workers end once their queue is empty.
//!
//! Threads are started by the caller's `spawn`: `std::thread::spawn` for a
//! stream that outlives the caller (the reader's rounds), or a scope's
//! `spawn` for one that borrows (scoring, writing); see [`map_all`].

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};

/// A job a worker thread runs, for the caller's `spawn`.
pub type Job<'a> = Box<dyn FnOnce() + Send + 'a>;

/// The count of items in flight, shared by the two ends.
struct Gate {
    state: Mutex<(usize, bool)>,
    cond: Condvar,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, bool)> {
        // The gate holds two plain values: a panic elsewhere cannot leave
        // them half-written.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The feeding end: sends items to the workers.
pub struct Feed<I> {
    jobs: Sender<(usize, I)>,
    gate: Arc<Gate>,
    capacity: usize,
    sent: usize,
}

/// The feed was stopped: the receiving end is gone, or a worker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a worker thread stopped")
    }
}

impl std::error::Error for Stopped {}

impl<I> Feed<I> {
    /// Sends an item; waits while `capacity` items are in flight.
    pub fn send(&mut self, item: I) -> Result<(), Stopped> {
        {
            let mut g = self.gate.lock();
            while g.0 >= self.capacity && !g.1 {
                g = self.gate.cond.wait(g).unwrap_or_else(|e| e.into_inner());
            }
            if g.1 {
                return Err(Stopped);
            }
            g.0 += 1;
        }
        self.jobs.send((self.sent, item)).map_err(|_| Stopped)?;
        self.sent += 1;
        Ok(())
    }

    /// Items fed and not yet taken from [`Ordered`].
    pub fn in_flight(&self) -> usize {
        self.gate.lock().0
    }

    /// Whether [`Feed::send`] would wait.
    pub fn is_full(&self) -> bool {
        self.in_flight() >= self.capacity
    }
}

/// The receiving end: the results in the order their items were fed.
pub struct Ordered<O> {
    done: Receiver<(usize, std::thread::Result<O>)>,
    waiting: BTreeMap<usize, std::thread::Result<O>>,
    next: usize,
    gate: Arc<Gate>,
}

impl<O> Iterator for Ordered<O> {
    type Item = O;

    /// The next result in feeding order; `None` once the feed is dropped and
    /// every result taken. Waits for a result that is not done yet. A
    /// worker's panic is raised again here.
    fn next(&mut self) -> Option<O> {
        loop {
            if let Some(r) = self.waiting.remove(&self.next) {
                self.next += 1;
                {
                    let mut g = self.gate.lock();
                    g.0 = g.0.saturating_sub(1);
                }
                self.gate.cond.notify_all();
                return Some(r.unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            match self.done.recv() {
                Ok((seq, r)) => {
                    self.waiting.insert(seq, r);
                }
                Err(_) => return None,
            }
        }
    }
}

impl<O> Drop for Ordered<O> {
    fn drop(&mut self) {
        self.gate.lock().1 = true;
        self.gate.cond.notify_all();
    }
}

/// Starts `workers` threads (through `spawn`) that apply `f` to what the
/// [`Feed`] sends, with at most `capacity` items in flight.
pub fn ordered<'a, I, O, F>(
    workers: usize,
    capacity: usize,
    f: F,
    mut spawn: impl FnMut(Job<'a>),
) -> (Feed<I>, Ordered<O>)
where
    I: Send + 'a,
    O: Send + 'a,
    F: Fn(I) -> O + Send + Sync + 'a,
{
    let (jobs, job_rx) = channel::<(usize, I)>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done) = channel();
    let f = Arc::new(f);
    for _ in 0..workers.max(1) {
        let (job_rx, done_tx, f) = (job_rx.clone(), done_tx.clone(), f.clone());
        spawn(Box::new(move || loop {
            // One worker waits for the next item at a time.
            let job = match job_rx.lock() {
                Ok(rx) => rx.recv(),
                Err(_) => return,
            };
            let Ok((seq, item)) = job else { return };
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(item)));
            if done_tx.send((seq, out)).is_err() {
                return;
            }
        }));
    }
    let gate = Arc::new(Gate {
        state: Mutex::new((0, false)),
        cond: Condvar::new(),
    });
    (
        Feed {
            jobs,
            gate: gate.clone(),
            capacity: capacity.max(1),
            sent: 0,
        },
        Ordered {
            done,
            waiting: BTreeMap::new(),
            next: 0,
            gate,
        },
    )
}

/// `f` over every item on `workers` scoped threads, results in item order.
pub fn map_all<I, O, F>(items: Vec<I>, workers: usize, f: F) -> Vec<O>
where
    I: Send,
    O: Send,
    F: Fn(I) -> O + Send + Sync,
{
    let n = items.len();
    std::thread::scope(|scope| {
        let (mut feed, out) = ordered(workers, n.max(1), f, |job| {
            scope.spawn(job);
        });
        for item in items {
            // Room for every item: sending never waits, and only fails if a
            // worker is gone, whose panic `next` raises below.
            if feed.send(item).is_err() {
                break;
            }
        }
        drop(feed);
        out.collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn results_come_in_feeding_order_whatever_the_finishing_order() {
        // Early items take longest, so they finish last.
        let out = map_all((0..40u64).collect(), 4, |i| {
            std::thread::sleep(Duration::from_millis(40u64.saturating_sub(i)));
            i * 10
        });
        assert_eq!(out, (0..40u64).map(|i| i * 10).collect::<Vec<_>>());
        assert!(map_all(Vec::<u8>::new(), 2, |x| x).is_empty());
    }

    #[test]
    fn a_feeder_on_another_thread_waits_at_capacity() {
        let (mut feed, out) = ordered(
            2,
            3,
            |x: usize| x + 1,
            |job| {
                std::thread::spawn(job);
            },
        );
        let peak = Arc::new(Mutex::new(0usize));
        let p = peak.clone();
        let feeder = std::thread::spawn(move || {
            for i in 0..100 {
                feed.send(i).unwrap();
                let mut m = p.lock().unwrap();
                *m = (*m).max(feed.in_flight());
            }
        });
        let mut got = Vec::new();
        for x in out {
            got.push(x);
            std::thread::sleep(Duration::from_micros(200));
        }
        feeder.join().unwrap();
        assert_eq!(got, (1..=100).collect::<Vec<_>>());
        assert!(*peak.lock().unwrap() <= 3, "at most capacity in flight");
    }

    #[test]
    fn a_workers_panic_is_raised_by_the_receiver() {
        let r = std::panic::catch_unwind(|| {
            map_all((0..10).collect(), 2, |i: i32| {
                if i == 7 {
                    panic!("item seven");
                }
                i
            })
        });
        assert!(r.is_err());
    }

    #[test]
    fn dropping_the_receiver_stops_a_waiting_feeder() {
        let (mut feed, out) = ordered(
            1,
            1,
            |x: u8| x,
            |job| {
                std::thread::spawn(job);
            },
        );
        feed.send(1).unwrap();
        let feeder = std::thread::spawn(move || feed.send(2));
        std::thread::sleep(Duration::from_millis(50));
        drop(out);
        assert_eq!(feeder.join().unwrap(), Err(Stopped));
    }
}
