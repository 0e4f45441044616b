//! A run's large buffers freed off its critical path. Returning the memory
//! a score run held (about 0.9 GB for a million lines) to the system takes
//! the kernel about 80 ms; a background thread frees the held rows and has
//! the allocator return what is free while the output is synced and
//! renamed into place, and the binary waits for it before it exits.
//! [`collect`] has the allocator return what is free between a run's
//! passes.

use std::sync::Mutex;
use std::thread::JoinHandle;

static PENDING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Drops `v` on a background thread (here, when no thread can be started).
pub fn free_later<T: Send + 'static>(v: T) {
    // A failed spawn drops the closure, and `v` with it, right here.
    if let Ok(h) = std::thread::Builder::new().name("free".into()).spawn(move || {
        drop(v);
        // Freed memory goes back to the system only when the allocator
        // collects it (at exit, otherwise): here, off the main thread.
        collect();
    }) {
        match PENDING.lock() {
            Ok(mut p) => p.push(h),
            Err(_) => {
                let _ = h.join();
            }
        }
    }
}

/// Has the allocator return to the system what is free now (between a
/// run's passes: what one pass freed is not held through the next).
pub fn collect() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any
    // thread at any time (mimalloc's documented API).
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// Waits until everything given to [`free_later`] is freed.
pub fn wait() {
    let pending: Vec<JoinHandle<()>> = match PENDING.lock() {
        Ok(mut p) => p.drain(..).collect(),
        Err(_) => return,
    };
    for h in pending {
        let _ = h.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static DROPPED: AtomicUsize = AtomicUsize::new(0);

    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            std::thread::sleep(std::time::Duration::from_millis(20));
            DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wait_returns_once_everything_is_freed() {
        for _ in 0..3 {
            free_later(vec![Counted]);
        }
        wait();
        assert_eq!(DROPPED.load(Ordering::SeqCst), 3);
    }
}
