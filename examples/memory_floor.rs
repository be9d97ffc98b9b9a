//! The memory floor under issue 8's flatness target: a bare loop that touches one random
//! heap cell per step (112 bytes, like a small task cell), with no runtime at all, at
//! 1,000, 10,000 and 100,000 cells — and with the cell prefetched 3, 8 or 16 steps ahead
//! (exactly: the picks are drawn in advance, which a scheduler cannot do, since its picks
//! depend on what the polls do).
//!
//! Why: `scale_probe` shows detsim's per-poll cost growing from 1 k to 100 k live tasks.
//! This shows how much of that growth any program pays on this machine for a random
//! access pattern over that much memory, whatever it does per step.
//!
//! ```sh
//! cargo run --release --example memory_floor
//! ```

use rand_chacha::rand_core::{RngCore, SeedableRng};

/// A heap cell the size of a small task cell; `state` is what a step reads.
#[allow(dead_code)] // `pad` is never read: it gives the cell its size
struct Cell {
    state: u64,
    pad: [u64; 13],
}

const STEPS: usize = 2_000_000;

/// Best of five passes over `STEPS` random picks among `n` cells, prefetching `ahead`
/// steps ahead (0: none); nanoseconds per step.
fn ns_per_step(n: usize, ahead: usize) -> f64 {
    let cells: Vec<Box<Cell>> = (0..n)
        .map(|i| {
            Box::new(Cell {
                state: i as u64,
                pad: [0; 13],
            })
        })
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let picks: Vec<u32> = (0..STEPS + 16)
        .map(|_| ((rng.next_u32() as u64 * n as u64) >> 32) as u32)
        .collect();
    let mut best = f64::MAX;
    for _ in 0..5 {
        // Wall clock outside any simulation: this measures the loop.
        #[allow(clippy::disallowed_methods)]
        let start = std::time::Instant::now();
        let mut acc = 0u64;
        for s in 0..STEPS {
            if ahead > 0 {
                prefetch(&cells[picks[s + ahead] as usize]);
            }
            acc = acc
                .wrapping_mul(31)
                .wrapping_add(cells[picks[s] as usize].state);
            for k in 0..4 {
                acc = acc.rotate_left(7) ^ k; // a few cycles of work per step
            }
        }
        std::hint::black_box(acc);
        best = best.min(start.elapsed().as_secs_f64());
    }
    best * 1e9 / STEPS as f64
}

/// A hint to bring `cell`'s first cache line in.
#[inline(always)]
fn prefetch(cell: &Cell) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unused_unsafe)] // a safe function on newer compilers
    // SAFETY: a prefetch never faults and changes no program state, for any address
    // (and this one is a live reference).
    unsafe {
        std::arch::x86_64::_mm_prefetch(
            cell as *const Cell as *const i8,
            std::arch::x86_64::_MM_HINT_T0,
        )
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = cell;
}

fn main() {
    for ahead in [0, 3, 8, 16] {
        let row: Vec<String> = [1_000, 10_000, 100_000]
            .iter()
            .map(|&n| format!("{n:>7} cells {:5.1} ns", ns_per_step(n, ahead)))
            .collect();
        println!("prefetch {ahead:>2} steps ahead: {}", row.join("   "));
    }
}
