//! [`Swarm`]: the default strategy — a portfolio that varies the strategy per seed.
//!
//! Swarm testing (A. Groce et al., "Swarm Testing", ISSTA 2012) observes that one fixed
//! configuration of a random tester is worse than a mix of configurations: every single
//! configuration suppresses some behaviours. Here each seed runs one member of the
//! portfolio in [`MEMBERS`]: uniform [`Random`] (best for bugs that need several switches
//! between tasks that never block, like the work-stealing race), or adaptive [`Pct`] of
//! depth 1 to 5 (best for ordering bugs among many tasks, and for windows that open late
//! in a long run; depth 1 is a random priority order with no change point).
//!
//! Determinism: the member is the first draw of the run's auxiliary stream, which depends
//! on the seed alone, so `(seed, "swarm", workers)` reproduces the run, J threads or one,
//! and — as for every strategy — the recorded schedule replays without it.

use super::pct::Pct;
use super::strategy::{Candidates, Random, Strategy};
use crate::choice::StrategyRng;
use crate::TaskId;
use std::fmt;

/// One member of the portfolio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    /// Uniform random choice.
    Random,
    /// Adaptive PCT of this depth ([`Pct::adaptive`]).
    Pct(u32),
}

/// The portfolio, with weights: out of [`TOTAL`] seeds, `weight` run the member.
pub(crate) const MEMBERS: [(u64, Member); 6] = [
    (3, Member::Random),
    (1, Member::Pct(1)),
    (1, Member::Pct(2)),
    (1, Member::Pct(3)),
    (1, Member::Pct(4)),
    (1, Member::Pct(5)),
];

const TOTAL: u64 = {
    let mut t = 0;
    let mut i = 0;
    while i < MEMBERS.len() {
        t += MEMBERS[i].0;
        i += 1;
    }
    t
};

/// The default strategy: each seed runs one member of a portfolio of Random and PCT
/// depths, chosen by the seed.
///
/// ```
/// use detsim::explore::Swarm;
/// use detsim::{Config, Sim, TraceMode};
/// let run = |seed| {
///     let config = Config::default().seed(seed).trace(TraceMode::Off);
///     let out = Sim::new(config).strategy(Box::new(Swarm::default())).run(async {
///         let a = detsim::spawn(async { detsim::task::yield_now().await });
///         let b = detsim::spawn(async { detsim::task::yield_now().await });
///         a.await.unwrap();
///         b.await.unwrap();
///     });
///     out.fingerprint
/// };
/// assert_eq!(run(7), run(7)); // the seed decides the member and the run
/// ```
#[derive(Default)]
pub struct Swarm {
    member: Option<Box<dyn Strategy>>,
    chosen: Option<Member>,
}

impl fmt::Debug for Swarm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Swarm")
            .field("member", &self.chosen)
            .finish()
    }
}

impl Swarm {
    /// The member this run uses, once the run has started (`None` before).
    pub fn member(&self) -> Option<Member> {
        self.chosen
    }

    /// The member for a draw of the auxiliary stream.
    fn member_of(draw: u64) -> Member {
        let mut x = draw % TOTAL;
        for (weight, member) in MEMBERS {
            if x < weight {
                return member;
            }
            x -= weight;
        }
        unreachable!("the weights sum to TOTAL")
    }

    fn strategy(&mut self, rng: &mut StrategyRng) -> &mut dyn Strategy {
        if self.member.is_none() {
            let member = Self::member_of(rng.aux_u64());
            self.chosen = Some(member);
            self.member = Some(match member {
                Member::Random => Box::new(Random),
                Member::Pct(depth) => Box::new(Pct::adaptive(depth)),
            });
        }
        self.member.as_deref_mut().expect("set above")
    }
}

impl Strategy for Swarm {
    fn on_spawn(&mut self, task: TaskId, rng: &mut StrategyRng) {
        self.strategy(rng).on_spawn(task, rng);
    }

    fn pick(&mut self, candidates: &Candidates<'_>, rng: &mut StrategyRng) -> usize {
        self.strategy(rng).pick(candidates, rng)
    }

    /// The member's guess, once it is chosen; before that, none (choosing the member
    /// here would be harmless — it is the first aux draw either way — but a hint should
    /// not be what starts a run's plan).
    fn hint(&mut self, n: usize, ahead: usize, rng: &mut StrategyRng) -> Option<usize> {
        self.member.as_deref_mut()?.hint(n, ahead, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_is_reachable_in_proportion() {
        let mut counts = [0u64; MEMBERS.len()];
        for draw in 0..TOTAL * 10 {
            let m = Swarm::member_of(draw);
            let i = MEMBERS.iter().position(|&(_, x)| x == m).unwrap();
            counts[i] += 1;
        }
        for (i, (weight, _)) in MEMBERS.iter().enumerate() {
            assert_eq!(counts[i], weight * 10);
        }
    }

    #[test]
    fn the_seed_decides_the_member() {
        let member = |seed| {
            let mut s = Swarm::default();
            let mut chooser = crate::choice::Chooser::new(seed);
            s.on_spawn(TaskId(0), chooser.strategy_rng());
            s.member().unwrap()
        };
        let members: Vec<Member> = (0..64).map(member).collect();
        assert_eq!(members, (0..64).map(member).collect::<Vec<_>>());
        assert!(members.contains(&Member::Random));
        assert!(members.contains(&Member::Pct(5)));
    }
}
