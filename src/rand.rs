//! Randomness for user code, drawn through the run's one choice point.
//!
//! Every value is a recorded `Rand` choice, so it replays from the seed or the schedule,
//! and the shrinker can lower it. [`SimRng`] implements [`rand::RngCore`], so the whole
//! `rand::Rng` API (ranges, shuffles, distributions) works on it.
//!
//! ```
//! use detsim::{Config, Sim};
//! let run = |seed| Sim::new(Config::default().seed(seed)).run(async {
//!     (detsim::rand::random::<u32>(), detsim::rand::gen_range(1..=6u8))
//! }).result.unwrap();
//! assert_eq!(run(5), run(5));
//! assert!((1..=6).contains(&run(5).1));
//! ```

use crate::choice::ChoiceKind;
use crate::runtime::context;
use crate::trace::EventKind;
use rand::distributions::uniform::{SampleRange, SampleUniform};
use rand::distributions::{Distribution, Standard};
use rand::Rng;

/// A handle to the run's random stream; cheap to create, usable only inside a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimRng(());

/// The run's random stream.
pub fn rng() -> SimRng {
    SimRng(())
}

/// The seed of the current run (for canaries and log lines; drawing from it is not a
/// substitute for [`random`], which records its choices).
pub fn seed() -> u64 {
    context::seed()
}

/// A random value of any type `rand` can generate.
pub fn random<T>() -> T
where
    Standard: Distribution<T>,
{
    rng().gen()
}

/// A random value in `range`.
pub fn gen_range<T: SampleUniform, R: SampleRange<T>>(range: R) -> T {
    rng().gen_range(range)
}

/// True with probability `p`.
pub fn gen_bool(p: f64) -> bool {
    rng().gen_bool(p)
}

/// One of `n` outcomes (`0..n`), drawn as one recorded choice of `n` (not 64 bits), so
/// the shrinker lowers it towards 0 and a schedule replays it. `n <= 1` draws nothing.
///
/// This is the hook for code that must pick among alternatives — the `tokio` facade's
/// `select!` picks the branch it polls first with it. Panics outside a simulation.
pub fn choose(n: usize) -> usize {
    try_choose(n).expect("detsim::rand::choose must be called from inside a simulation")
}

/// [`choose`], or `None` outside a simulation (callers fall back to a fixed order).
pub fn try_choose(n: usize) -> Option<usize> {
    if n <= 1 {
        return Some(0);
    }
    context::current_task()?; // inside a simulation's task
    let value = context::choose(ChoiceKind::Rand, n);
    context::emit(EventKind::Choice {
        what: "choose",
        value: value as u64,
    });
    Some(value)
}

impl rand::RngCore for SimRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }

    fn next_u64(&mut self) -> u64 {
        let value = context::draw_bits(ChoiceKind::Rand);
        context::emit(EventKind::Choice {
            what: "rand",
            value,
        });
        value
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
