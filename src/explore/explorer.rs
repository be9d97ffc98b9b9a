//! The exploration model: an [`Explorer`] hands out run plans and takes their outcomes
//! back; a [`Runner`] turns a plan into an outcome. A campaign is one explorer driven by
//! one executor.
//!
//! Why split it this way: the explorer is the whole search policy (which run next, what
//! an outcome means, when to stop, the report), and it is plain single-threaded state, so
//! its logic is tested on one thread with [`run_serial`]. The runner is a pure function
//! of the plan (scenario, config and strategy are fixed by the campaign), shared by all
//! threads. Executors decide only *where* plans run: [`run_threads`] (`executor.rs`) on
//! J threads under the watchdog. An explorer whose report depends only on its outcomes
//! in its own order (never on arrival order) gives the same answer on any executor — the
//! seed sweep commits by seed index, DFS by depth-first order (`dfs/search.rs`).
//!
//! Explorers: the DFS search (`campaign/dfs_run.rs`); the seed sweep (random, PCT,
//! swarm: `campaign/pool.rs`) follows the same rules with chunked claims.

use super::watchdog::Hung;

/// What an explorer says when asked for work.
#[derive(Debug)]
pub(crate) enum Next<P> {
    /// Run this plan.
    Run(P),
    /// Nothing to hand out until a run in flight returns.
    Wait,
    /// Over: nothing more will be handed out.
    Done,
}

/// The search policy of a campaign: plans out, outcomes in.
pub(crate) trait Explorer: Send + 'static {
    /// One run to make.
    type Plan: Send + 'static;
    /// What a run of a plan gives back.
    type Outcome: Send + 'static;

    /// The next plan. `Wait` only while some plan handed out has not returned.
    fn next(&mut self) -> Next<Self::Plan>;

    /// The plan's number, unique among those handed out (the watchdog names hung runs
    /// by it).
    fn ident(plan: &Self::Plan) -> u64;

    /// The outcome of the plan numbered `id`.
    fn outcome(&mut self, id: u64, outcome: Self::Outcome);

    /// The run of the plan numbered `id` went past the watchdog (it returns nothing).
    fn hung(&mut self, id: u64, hung: Hung);
}

/// Makes runs: plan in, outcome out. Shared by every thread of an executor.
pub(crate) trait Runner: Send + Sync + 'static {
    /// The plans it runs.
    type Plan;
    /// What a run gives back.
    type Outcome;

    /// Makes the run of `plan`.
    fn run(&self, plan: Self::Plan) -> Self::Outcome;
}

/// Drives `explorer` with `runner` on the calling thread until it is done (no watchdog):
/// the reference executor, for tests.
#[cfg(test)]
pub(crate) fn run_serial<E, R>(explorer: &mut E, runner: &R)
where
    E: Explorer,
    R: Runner<Plan = E::Plan, Outcome = E::Outcome>,
{
    loop {
        match explorer.next() {
            Next::Run(plan) => {
                let id = E::ident(&plan);
                let outcome = runner.run(plan);
                explorer.outcome(id, outcome);
            }
            Next::Done => return,
            Next::Wait => unreachable!("nothing is in flight on one thread"),
        }
    }
}

pub(crate) use super::executor::{run_threads, Halt, Stops};
