//! Task cells' memory: blocks kept on the thread when a cell is freed and handed to
//! the thread's next spawns of a cell of the same size.
//!
//! Why: with glibc, a run with many tasks paid for its cells twice more than it
//! allocated them. Freeing 100,000 cells merged the chunks again
//! (`malloc_consolidate`, ~1 cache miss per task in cachegrind's model), and the heap's
//! top was given back to the system after every run, so the next run faulted ~12 MB of
//! pages in again (~3,200 page faults per run at 100 k tasks; 56 with the pool). Small
//! runs save glibc's `malloc` and `free` per task (~130 instructions; a pool hit is ~15).
//!
//! Blocks are 16-byte aligned, as glibc's are: 64-byte (cache-line) blocks, which put
//! a small task's header and future on one line, were tried and not kept — glibc's
//! `posix_memalign` leaves a hole before each block (W6 peak RSS 24.6 → 38.0 MB) and
//! the polls were no faster (`scale_probe`, 100 k tasks: 46.4 ns per poll with 64-byte
//! blocks, 44.4 with these, fastest of 8 interleaved processes).
//!
//! What it is not: simulation state. A block is written in full (`ptr::write` of a
//! whole cell) before it is read, and nothing in a run depends on an address.
//! A thread keeps at most [`KEEP_BYTES`]; other blocks go back to the allocator.

use std::alloc::Layout;
use std::cell::RefCell;
use std::ptr::NonNull;

/// Every block's alignment and the unit of its size (glibc's: a cell costs what it did).
pub(super) const UNIT: usize = 16;

/// Block sizes kept: 16, 32, …, 1,024 bytes (larger cells are allocated one by one).
const CLASSES: usize = 64;

/// The most bytes of free blocks a thread keeps: 16 MiB (the cells of ~130,000 small
/// tasks).
pub(super) const KEEP_BYTES: usize = 16 << 20;

struct Pool {
    /// Per class: free blocks of `(class + 1) * UNIT` bytes.
    free: [Vec<NonNull<u8>>; CLASSES],
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            free: [const { Vec::new() }; CLASSES],
            bytes: 0,
        })
    };
}

/// The block class of `layout`, if blocks of its size are kept.
#[inline]
fn class(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (layout.align() == UNIT && size != 0 && size % UNIT == 0 && size <= CLASSES * UNIT)
        .then(|| size / UNIT - 1)
}

fn class_layout(class: usize) -> Layout {
    Layout::from_size_align((class + 1) * UNIT, UNIT).expect("a small layout")
}

/// A block for `layout` (non-zero size): a kept one of its size if the thread has one,
/// else a new allocation.
#[inline]
pub(super) fn alloc(layout: Layout) -> NonNull<u8> {
    if let Some(class) = class(layout) {
        let kept = POOL.try_with(|pool| {
            let mut pool = pool.try_borrow_mut().ok()?;
            let block = pool.free[class].pop()?;
            pool.bytes -= layout.size();
            Some(block)
        });
        if let Ok(Some(block)) = kept {
            return block;
        }
    }
    debug_assert!(layout.size() != 0);
    // SAFETY: `layout` has a non-zero size (the caller's contract; a cell has a header).
    let block = unsafe { std::alloc::alloc(layout) };
    NonNull::new(block).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
}

/// Gives a block back: kept for the thread's next spawns if its size is kept and the
/// thread's blocks stay within [`KEEP_BYTES`], else freed.
///
/// # Safety
/// `block` came from [`alloc`] with this `layout`, holds nothing that needs dropping any
/// more, and is not used afterwards.
#[inline]
pub(super) unsafe fn dealloc(block: NonNull<u8>, layout: Layout) {
    if let Some(class) = class(layout) {
        let kept = POOL.try_with(|pool| {
            let Ok(mut pool) = pool.try_borrow_mut() else {
                return false;
            };
            if pool.bytes + layout.size() > KEEP_BYTES {
                return false;
            }
            pool.bytes += layout.size();
            pool.free[class].push(block);
            true
        });
        if kept == Ok(true) {
            return;
        }
    }
    // SAFETY: allocated by `std::alloc::alloc` with `layout` (a kept block of this size
    // was too, with its class's layout, which is this one) and not used afterwards.
    unsafe { std::alloc::dealloc(block.as_ptr(), layout) }
}

/// Frees this thread's kept blocks; the bytes freed (`Sim::release_thread_memory`).
pub(super) fn release() -> usize {
    let freed = POOL.try_with(|pool| {
        let Ok(mut pool) = pool.try_borrow_mut() else {
            return 0;
        };
        let bytes = pool.bytes;
        pool.free_all();
        bytes
    });
    freed.unwrap_or(0)
}

impl Pool {
    /// Gives every kept block back to the allocator.
    fn free_all(&mut self) {
        for (class, blocks) in self.free.iter_mut().enumerate() {
            let layout = class_layout(class);
            for block in blocks.drain(..) {
                // SAFETY: every kept block of this class was allocated with its layout
                // and is owned by the pool alone.
                unsafe { std::alloc::dealloc(block.as_ptr(), layout) }
            }
            *blocks = Vec::new();
        }
        self.bytes = 0;
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.free_all();
    }
}

/// Bytes of free blocks this thread keeps (tests).
#[cfg(test)]
pub(super) fn kept_bytes() -> usize {
    POOL.with(|pool| pool.borrow().bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_kept_by_size_and_capped() {
        // A thread of the test's own (no simulation runs here): an empty pool.
        std::thread::spawn(|| {
            let small = Layout::from_size_align(128, UNIT).unwrap();
            let a = alloc(small);
            assert_eq!(a.as_ptr() as usize % UNIT, 0, "aligned");
            // SAFETY: from `alloc` with `small`, unused afterwards.
            unsafe { dealloc(a, small) };
            assert_eq!(kept_bytes(), 128);
            // The next block of that size is the same one; another size is not.
            let other = Layout::from_size_align(144, UNIT).unwrap();
            let b = alloc(other);
            assert_ne!(b, a);
            let c = alloc(small);
            assert_eq!(c, a);
            assert_eq!(kept_bytes(), 0);
            // Sizes past the classes, other alignments: allocated and freed one by one.
            let big = Layout::from_size_align(4096, UNIT).unwrap();
            let wide = Layout::from_size_align(256, 256).unwrap();
            let (d, e) = (alloc(big), alloc(wide));
            assert_eq!(e.as_ptr() as usize % 256, 0);
            // SAFETY: each from `alloc` with its layout, unused afterwards.
            unsafe {
                dealloc(d, big);
                dealloc(e, wide);
                dealloc(b, other);
                dealloc(c, small);
            }
            assert_eq!(kept_bytes(), 144 + 128);
            // The cap: blocks past it go back to the allocator.
            let largest = Layout::from_size_align(CLASSES * UNIT, UNIT).unwrap();
            let blocks: Vec<_> = (0..KEEP_BYTES / largest.size() + 10)
                .map(|_| alloc(largest))
                .collect();
            for block in blocks {
                // SAFETY: from `alloc` with this layout, unused afterwards.
                unsafe { dealloc(block, largest) };
            }
            assert!(kept_bytes() <= KEEP_BYTES);
            assert!(kept_bytes() > KEEP_BYTES - largest.size());
        })
        .join()
        .unwrap();
    }
}
