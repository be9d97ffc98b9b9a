//! The ledger of a pool campaign: which chunks of seed indices are claimed and run,
//! the failures found, and the commit that saves them and closes in-flight claims.
//!
//! Rules (they make the seeds file as thread-count-independent as the report):
//! 1. Failures are saved in index order, as the *commit frontier* advances: a chunk is
//!    committed once every chunk below it is, and it has run to its end or to past the
//!    bound. Committing saves its failures at indices ≤ the bound — exactly the ones the
//!    report lists — and only then writes its in-flight `done`.
//! 2. A failure past the final bound is never saved: a one-thread campaign would never
//!    have run it. It is not lost either: the report's bound is the J-independent answer.
//! 3. The per-signature save cap counts lines actually added, in index order, so a seed
//!    already in the file (a resumed or re-found one) does not use it up.
//! 4. A hang is a failure at its index. The rest of its chunk is claimed again at once
//!    (a new in-flight line) and requeued, so other threads run it.

use super::shard::Plan;
use crate::explore::FoundFailure;
use crate::explore::StrategySpec;
use crate::store::inflight::{Claim, InFlight};
use crate::store::{FailureSink, SeedCase};
use std::collections::BTreeMap;

/// Seeds saved per failure signature and campaign: every failing seed is kept, up to
/// this many of one kind (a bug that fails half the seeds must not flood the corpus).
const SAVED_PER_SIGNATURE: usize = 10;

#[derive(Debug)]
struct Chunk {
    end: u64,
    // invariant: `Some(i)` once the indices `[first, i)` have run and nothing more will.
    ran_to: Option<u64>,
    claim: Claim,
}

/// Where failures go: the store (through its sink), and the in-flight log they close.
#[derive(Debug)]
pub(super) struct Saver {
    pub(super) sink: Option<Box<dyn FailureSink>>,
    pub(super) strategy: StrategySpec,
    pub(super) inflight: Option<InFlight>,
    /// Per signature, how many seeds were added to the seeds file (rule 3).
    saved: Vec<(String, usize)>,
}

impl Saver {
    pub(super) fn new(
        sink: Option<Box<dyn FailureSink>>,
        strategy: StrategySpec,
        inflight: Option<InFlight>,
    ) -> Self {
        Saver {
            sink,
            strategy,
            inflight,
            saved: Vec::new(),
        }
    }

    /// Saves `found` unless its signature's cap is used up; false if writing failed.
    pub(super) fn save(&mut self, found: &FoundFailure) -> bool {
        let Some(sink) = &mut self.sink else {
            return true;
        };
        let count = match self.saved.iter().position(|(s, _)| *s == found.signature) {
            Some(i) => i,
            None => {
                self.saved.push((found.signature.clone(), 0));
                self.saved.len() - 1
            }
        };
        if self.saved[count].1 >= SAVED_PER_SIGNATURE {
            return true;
        }
        let case = SeedCase::new(found.seed, found.strategy, found.workers)
            .with_summary(summary_of(&found.message));
        match sink.failing_case(&case) {
            Ok(added) => {
                self.saved[count].1 += usize::from(added);
                true
            }
            Err(e) => {
                // The error names the file.
                eprintln!("detsim: could not save failing seed {}: {e}", found.seed);
                false
            }
        }
    }

    pub(super) fn claim(&self, c: Claim) {
        if let Some(f) = &self.inflight {
            f.claim(c);
        }
    }

    pub(super) fn done(&self, c: Claim) {
        if let Some(f) = &self.inflight {
            f.done(c);
        }
    }
}

/// The first line of a failure message, cut to a readable length, for seeds files.
pub(super) fn summary_of(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// Claims, failures and the commit frontier of one pool campaign.
#[derive(Debug)]
pub(super) struct Ledger {
    plan: Plan,
    workers: usize,
    keep_going: usize,
    pub(super) saver: Saver,
    /// Failures by index.
    failures: BTreeMap<u64, FoundFailure>,
    /// Per signature, the lowest index failing with it.
    first_of: BTreeMap<String, u64>,
    /// Uncommitted chunks by first index.
    chunks: BTreeMap<u64, Chunk>,
    // invariant: every index below it is committed (rule 1).
    frontier: u64,
    /// First indices of requeued chunk rests (rule 4).
    requeue: Vec<u64>,
    /// Runs given up on as hung (resumed ones included).
    pub(super) hangs: usize,
}

impl Ledger {
    pub(super) fn new(plan: Plan, workers: usize, keep_going: usize, saver: Saver) -> Self {
        Ledger {
            plan,
            workers,
            keep_going,
            saver,
            failures: BTreeMap::new(),
            first_of: BTreeMap::new(),
            chunks: BTreeMap::new(),
            frontier: 0,
            requeue: Vec::new(),
            hangs: 0,
        }
    }

    /// The in-flight claim of indices `[first, end)`.
    fn claim_of(&self, first: u64, end: u64) -> Claim {
        Claim {
            first: self.plan.seed(first),
            count: end - first,
            stride: self.plan.stride(),
            strategy: self.saver.strategy,
            workers: self.workers,
        }
    }

    /// Registers (and logs) a chunk about to run.
    pub(super) fn register(&mut self, first: u64, end: u64) {
        let claim = self.claim_of(first, end);
        self.saver.claim(claim);
        let chunk = Chunk {
            end,
            ran_to: None,
            claim,
        };
        self.chunks.insert(first, chunk);
    }

    /// The lowest requeued chunk not past `bound`, as `(first, end)`.
    pub(super) fn take_requeued(&mut self, bound: u64) -> Option<(u64, u64)> {
        self.requeue.sort_unstable_by(|a, b| b.cmp(a));
        let first = self.requeue.pop().filter(|&f| f <= bound)?;
        Some((first, self.chunks.get(&first)?.end))
    }

    /// Records a failure at `index`; the new bound if it completes `keep_going`
    /// distinct signatures.
    pub(super) fn failure(&mut self, index: u64, found: FoundFailure) -> Option<u64> {
        let first = self
            .first_of
            .entry(found.signature.clone())
            .or_insert(index);
        *first = (*first).min(index);
        self.failures.insert(index, found);
        let mut firsts: Vec<u64> = self.first_of.values().copied().collect();
        firsts.sort_unstable();
        firsts.get(self.keep_going.saturating_sub(1)).copied()
    }

    /// The chunk at `first` ran up to (not including) `ran_to`.
    pub(super) fn ran(&mut self, first: u64, ran_to: u64, bound: u64) {
        if let Some(c) = self.chunks.get_mut(&first) {
            c.ran_to = Some(ran_to);
        }
        self.commit(bound, false);
    }

    /// Records the hang of the run at `index` (rule 4); the new bound, if any.
    pub(super) fn hang(&mut self, index: u64, found: FoundFailure) -> Option<u64> {
        self.hangs += 1;
        let bound = self.failure(index, found);
        let Some((&first, chunk)) = self.chunks.range_mut(..=index).next_back() else {
            return bound;
        };
        if index >= chunk.end {
            return bound;
        }
        let rest_end = chunk.end;
        chunk.end = index + 1;
        chunk.ran_to = Some(index + 1);
        debug_assert!(first <= index);
        if index + 1 < rest_end {
            self.register(index + 1, rest_end);
            self.requeue.push(index + 1);
        }
        bound
    }

    /// Commits chunks in index order (rule 1). With `all` (the campaign's threads are
    /// done), also the ones past a gap or not run to the end (a stopped campaign): their
    /// failures are saved all the same, and their claims closed once saved.
    pub(super) fn commit(&mut self, bound: u64, all: bool) {
        let firsts: Vec<u64> = self.chunks.keys().copied().collect();
        for first in firsts {
            let chunk = &self.chunks[&first];
            // What did not run (from `ran_to`, or from `first` if nothing did) is past the
            // bound: no thread runs it any more, and the report does not include it.
            let complete = chunk
                .ran_to
                .map_or(first > bound, |r| r >= chunk.end || r > bound);
            if !all && (first != self.frontier || !complete) {
                return;
            }
            let (end, claim) = (chunk.end, chunk.claim);
            let mut saved = true;
            let keep: Vec<FoundFailure> = self
                .failures
                .range(first..end.min(bound.saturating_add(1)).max(first))
                .map(|(_, f)| f.clone())
                .collect();
            for f in &keep {
                saved &= self.saver.save(f);
            }
            // At the end (`all`) nothing runs any more: what did not run was never in
            // flight, so a chunk closes once its failures are saved.
            if saved && (complete || all) {
                self.saver.done(claim);
            }
            self.chunks.remove(&first);
            if first == self.frontier && complete {
                self.frontier = end;
            }
        }
    }

    /// The first `keep_going` distinct failures at indices ≤ `bound`, in index order.
    pub(super) fn distinct(&self, bound: u64) -> Vec<FoundFailure> {
        let mut distinct: Vec<FoundFailure> = Vec::new();
        for f in self.failures.range(..=bound).map(|(_, f)| f) {
            if distinct.len() < self.keep_going
                && !distinct.iter().any(|d| d.signature == f.signature)
            {
                distinct.push(f.clone());
            }
        }
        distinct
    }

    /// The seeds failing at indices ≤ `bound`, ascending.
    pub(super) fn failing_seeds(&self, bound: u64) -> Vec<u64> {
        let mut seeds: Vec<u64> = self.failures.range(..=bound).map(|(_, f)| f.seed).collect();
        seeds.sort_unstable();
        seeds
    }

    /// True if a requeued chunk waits for a thread.
    pub(super) fn has_requeued(&self) -> bool {
        !self.requeue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::FailureKind;
    use crate::store::{ScheduleFile, StoreError};
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};

    /// A sink that keeps cases in memory, shared with the test.
    #[derive(Debug, Default, Clone)]
    struct Recorder(Arc<Mutex<Vec<SeedCase>>>);

    impl FailureSink for Recorder {
        fn failing_case(&mut self, case: &SeedCase) -> Result<bool, StoreError> {
            let mut cases = self.0.lock().unwrap();
            if cases.iter().any(|c| c.same_run(case)) {
                return Ok(false);
            }
            cases.push(case.clone());
            Ok(true)
        }

        fn failing_schedule(
            &mut self,
            _: &ScheduleFile,
            _: Option<String>,
            _: u64,
        ) -> Result<PathBuf, StoreError> {
            unreachable!("seed campaigns save no schedules")
        }
    }

    #[test]
    fn the_cap_per_signature_counts_only_lines_the_sink_added() {
        let recorder = Recorder::default();
        let spec = StrategySpec::Random;
        let mut saver = Saver::new(Some(Box::new(recorder.clone())), spec, None);
        let hang = |seed| FoundFailure::outside(seed, &spec, 4, FailureKind::Hang, "stuck".into());
        // Seed 3 is already in the store: saving it again does not use up the cap.
        recorder.0.lock().unwrap().push(SeedCase::new(3, spec, 4));
        for seed in 0..20 {
            assert!(saver.save(&hang(seed)));
        }
        let seeds: Vec<u64> = recorder.0.lock().unwrap().iter().map(|c| c.seed).collect();
        assert_eq!(seeds, [3, 0, 1, 2, 4, 5, 6, 7, 8, 9, 10], "ten added");
        let summary = recorder.0.lock().unwrap()[1].summary.clone();
        assert_eq!(summary.as_deref(), Some("stuck"));
    }
}
