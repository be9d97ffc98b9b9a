//! Spare chunks: the word buffers a run's trace and choice log were written into, kept
//! on this thread for the next run's when the record they held is dropped. A leaf
//! module (`trace/compact.rs` and `choice/log.rs` use it; it uses nothing).
//!
//! Why: a full trace is mostly fresh memory. W1 (1,000 tasks × 100 yields) writes about
//! 1.2 MB per run (8 bytes per poll, 4 per pick), and glibc hands blocks that large back
//! to the system when they are freed (an `mmap`'d block is unmapped; the heap's top is
//! trimmed beyond twice the mmap threshold), so every run faulted the same pages in
//! again: ~270 page faults per run, about 0.45 ms of its 2.9 ms on this machine — half of
//! what the full trace cost over the trace-off run. Running with glibc's trimming
//! disabled took W1's full trace from 1.47× the trace-off time to 1.27×; keeping the
//! chunks here does the same for detsim's own buffers, on any allocator.
//!
//! What it is not: simulation state. A buffer is handed out empty (`len` 0) and only its
//! capacity is reused; the trace and the choice log never read past what they wrote, so
//! no run's events, choices or fingerprint depend on what ran before it on the thread
//! (`runs_after_other_runs_on_the_thread_are_unchanged` in `tests/runtime_core.rs`
//! compares them). It holds at most [`KEEP_WORDS`] per thread, only buffers of the
//! sizes the chunk ladders ask for, and frees everything else.

use std::cell::RefCell;

/// The most words kept per thread: 8 MiB (every chunk of a run of a few hundred
/// thousand events; larger runs free their largest chunks as before).
pub(crate) const KEEP_WORDS: usize = 1 << 21;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u32>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer of exactly `capacity` words (a power of two, as the chunk ladders
/// ask): a spare one of that capacity if this thread has it, else a new allocation.
pub(crate) fn take(capacity: usize) -> Vec<u32> {
    let spare = SPARE.try_with(|spare| {
        let mut spare = spare.try_borrow_mut().ok()?;
        let i = spare.iter().position(|v| v.capacity() == capacity)?;
        Some(spare.swap_remove(i))
    });
    match spare {
        Ok(Some(words)) => words,
        _ => Vec::with_capacity(capacity),
    }
}

/// Gives a buffer back: kept, emptied, if its capacity is a chunk size (a power of two)
/// and this thread's spares stay within [`KEEP_WORDS`]; otherwise freed.
pub(crate) fn give(mut words: Vec<u32>) {
    let capacity = words.capacity();
    if !capacity.is_power_of_two() || capacity > KEEP_WORDS {
        return;
    }
    words.clear();
    // Outside the thread's lifetime (its locals being destroyed) the buffer is freed.
    let _ = SPARE.try_with(move |spare| {
        let Ok(mut spare) = spare.try_borrow_mut() else {
            return;
        };
        let kept: usize = spare.iter().map(Vec::capacity).sum();
        if kept + capacity <= KEEP_WORDS {
            spare.push(words);
        }
    });
}

/// Frees this thread's spares; the bytes freed (`Sim::release_thread_memory`).
pub(crate) fn release() -> usize {
    let freed = SPARE.try_with(|spare| {
        let Ok(mut spare) = spare.try_borrow_mut() else {
            return 0;
        };
        let words: usize = spare.iter().map(Vec::capacity).sum();
        spare.clear();
        spare.shrink_to_fit();
        words * std::mem::size_of::<u32>()
    });
    freed.unwrap_or(0)
}

/// Words this thread keeps now (tests).
#[cfg(test)]
pub(crate) fn kept() -> usize {
    SPARE.with(|spare| spare.borrow().iter().map(Vec::capacity).sum())
}

/// Frees this thread's spares (tests: a test starts from none, whatever ran before it
/// on its thread).
#[cfg(test)]
pub(crate) fn clear() {
    release();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_comes_back_empty_for_its_size_only() {
        clear();
        let mut words = take(1 << 12);
        words.extend([7, 8, 9]);
        let address = words.as_ptr();
        give(words);
        assert_eq!(kept(), 1 << 12);
        // Another size is a new allocation; the kept one stays.
        let other = take(1 << 10);
        assert_eq!(other.capacity(), 1 << 10);
        assert_eq!(kept(), 1 << 12);
        let again = take(1 << 12);
        assert_eq!(again.as_ptr(), address, "the same allocation, reused");
        assert!(again.is_empty(), "handed out empty");
        assert_eq!(kept(), 0);
    }

    #[test]
    fn keeps_at_most_keep_words_and_only_chunk_sizes() {
        clear();
        give(Vec::with_capacity(1000)); // not a chunk size (a clone's exact length)
        assert_eq!(kept(), 0);
        give(Vec::with_capacity(KEEP_WORDS * 2));
        assert_eq!(kept(), 0);
        give(Vec::with_capacity(KEEP_WORDS / 2));
        give(Vec::with_capacity(KEEP_WORDS / 2));
        give(Vec::with_capacity(KEEP_WORDS / 2)); // over the limit: freed
        assert_eq!(kept(), KEEP_WORDS);
    }
}
