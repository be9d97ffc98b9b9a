//! The ledger of a seed sweep: which chunks of seed indices are claimed (one in-flight
//! line per chunk), which indices returned, the failures found, and the commit that
//! saves them and closes in-flight claims.
//!
//! Rules (they make the seeds file as thread-count-independent as the report):
//! 1. Indices are handed out one at a time in increasing order; a chunk is claimed in the
//!    in-flight log when its first index is handed out.
//! 2. Failures are saved in index order, as the *commit frontier* advances: a chunk is
//!    committed once every chunk below it is, every index of it handed out has returned,
//!    and no more will be (it was handed out to its end, or past the bound). Committing
//!    saves its failures at indices ≤ the bound — exactly the ones the report lists — and
//!    only then writes its in-flight `done`.
//! 3. A failure past the final bound is never saved: a one-thread campaign would never
//!    have run it. It is not lost either: the report's bound is the J-independent answer.
//! 4. The per-signature save cap counts lines actually added, in index order, so a seed
//!    already in the file (a resumed or re-found one) does not use it up.
//! 5. A hang is a failure at its index, returned like any outcome (its thread is
//!    abandoned; the indices after it are handed out to the others as usual).

use super::shard::Plan;
use crate::explore::FoundFailure;
use crate::explore::StrategySpec;
use crate::store::inflight::{Claim, InFlight};
use crate::store::{FailureSink, SeedCase};
use std::collections::{BTreeMap, VecDeque};

/// Seeds saved per failure signature and campaign: every failing seed is kept, up to
/// this many of one kind (a bug that fails half the seeds must not flood the corpus).
const SAVED_PER_SIGNATURE: usize = 10;

/// Indices handed out together under one in-flight claim.
const CHUNK: u64 = 32;

#[derive(Debug)]
struct Chunk {
    first: u64,
    end: u64,
    // Indices of it handed out and not returned yet.
    out: u64,
    claim: Claim,
}

/// Where failures go: the store (through its sink), and the in-flight log they close.
#[derive(Debug)]
pub(super) struct Saver {
    pub(super) sink: Option<Box<dyn FailureSink>>,
    pub(super) strategy: StrategySpec,
    pub(super) inflight: Option<InFlight>,
    /// Per signature, how many seeds were added to the seeds file (rule 4).
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

/// Hand-out, returns, failures and the commit frontier of one seed sweep.
#[derive(Debug)]
pub(super) struct Ledger {
    plan: Plan,
    workers: usize,
    keep_going: usize,
    pub(super) saver: Saver,
    /// The next index to hand out.
    next: u64,
    // invariant: indices above it need not run (the first `keep_going` distinct
    // failures are at or below it); `u64::MAX` until then.
    bound: u64,
    /// Failures by index.
    failures: BTreeMap<u64, FoundFailure>,
    /// Per signature, the lowest index failing with it.
    first_of: BTreeMap<String, u64>,
    // invariant: the uncommitted chunks, in index order: chunk k covers
    // `[k * CHUNK, (k + 1) * CHUNK)` of the plan, and the front one starts at the frontier
    // (every index below it is committed, rule 2).
    chunks: VecDeque<Chunk>,
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
            next: 0,
            bound: u64::MAX,
            failures: BTreeMap::new(),
            first_of: BTreeMap::new(),
            chunks: VecDeque::new(),
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

    /// The next index to run, claiming its chunk first if it starts one (rule 1); none
    /// once the plan is handed out or the bound reached.
    pub(super) fn hand_out(&mut self) -> Option<u64> {
        let index = self.next;
        if index >= self.plan.len || index > self.bound {
            return None;
        }
        self.next += 1;
        if index % CHUNK != 0 {
            if let Some(chunk) = self.chunks.back_mut() {
                chunk.out += 1;
                return Some(index);
            }
        }
        let end = index.saturating_add(CHUNK).min(self.plan.len);
        let claim = self.claim_of(index, end);
        self.saver.claim(claim);
        self.chunks.push_back(Chunk {
            first: index,
            end,
            out: 1,
            claim,
        });
        Some(index)
    }

    /// The run at `index` returned, failing with `found` or not.
    pub(super) fn returned(&mut self, index: u64, found: Option<FoundFailure>) {
        if let Some(found) = found {
            self.failure(index, found);
        }
        if let Some(front) = self.chunks.front() {
            let k = (index - front.first) / CHUNK;
            if let Some(chunk) = usize::try_from(k).ok().and_then(|k| self.chunks.get_mut(k)) {
                chunk.out = chunk.out.saturating_sub(1);
            }
        }
        self.commit(false);
    }

    /// Records a failure at `index` and tightens the bound when it completes
    /// `keep_going` distinct signatures.
    fn failure(&mut self, index: u64, found: FoundFailure) {
        let first = self
            .first_of
            .entry(found.signature.clone())
            .or_insert(index);
        *first = (*first).min(index);
        self.failures.insert(index, found);
        let mut firsts: Vec<u64> = self.first_of.values().copied().collect();
        firsts.sort_unstable();
        if let Some(&b) = firsts.get(self.keep_going.saturating_sub(1)) {
            self.bound = self.bound.min(b);
        }
    }

    /// True if nothing more of `chunk` will run or return.
    fn settled(&self, chunk: &Chunk) -> bool {
        let handed_to = self.next.clamp(chunk.first, chunk.end);
        chunk.out == 0 && (handed_to == chunk.end || handed_to > self.bound)
    }

    /// Commits chunks in index order (rule 2). With `all` (the threads are done), also
    /// the ones past a gap or cut short (a stopped campaign): their failures are saved all
    /// the same, and their claims closed once saved.
    pub(super) fn commit(&mut self, all: bool) {
        while let Some(chunk) = self.chunks.front() {
            if !all && !self.settled(chunk) {
                return;
            }
            let (first, end, claim) = (chunk.first, chunk.end, chunk.claim);
            let upto = end.min(self.bound.saturating_add(1)).max(first);
            let mut saved = true;
            if self.failures.range(first..upto).next().is_some() {
                let keep: Vec<FoundFailure> = self
                    .failures
                    .range(first..upto)
                    .map(|(_, f)| f.clone())
                    .collect();
                for f in &keep {
                    saved &= self.saver.save(f);
                }
            }
            // At the end (`all`) nothing runs any more: what did not run was never in
            // flight, so a chunk closes once its failures are saved.
            if saved {
                self.saver.done(claim);
            }
            self.chunks.pop_front();
        }
    }

    /// The bound: `u64::MAX` until `keep_going` distinct failures are found.
    pub(super) fn bound(&self) -> u64 {
        self.bound
    }

    /// True once every index of the plan was handed out.
    pub(super) fn handed_out_all(&self) -> bool {
        self.next >= self.plan.len
    }

    /// The first `keep_going` distinct failures at indices ≤ the bound, in index order.
    pub(super) fn distinct(&self) -> Vec<FoundFailure> {
        let mut distinct: Vec<FoundFailure> = Vec::new();
        for f in self.failures.range(..=self.bound).map(|(_, f)| f) {
            if distinct.len() < self.keep_going
                && !distinct.iter().any(|d| d.signature == f.signature)
            {
                distinct.push(f.clone());
            }
        }
        distinct
    }

    /// The seeds failing at indices ≤ the bound, ascending.
    pub(super) fn failing_seeds(&self) -> Vec<u64> {
        let mut seeds: Vec<u64> = self
            .failures
            .range(..=self.bound)
            .map(|(_, f)| f.seed)
            .collect();
        seeds.sort_unstable();
        seeds
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
