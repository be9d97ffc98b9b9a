//! Re-running the seeds an earlier campaign left in flight (it died or hung while
//! running them), before this campaign's own seeds.
//!
//! Each left-over claim is closed (`done`) only after all its seeds ran — under the
//! watchdog, or in child processes with `isolate` — and their failures are saved. A crash
//! while resuming therefore leaves the claim open for the next campaign: the seed that
//! crashed is re-run until a campaign that survives it (`--isolate`) saves it.

use super::sweep::{SeedRunner, SeedSweep};
use crate::explore::executor::MAX_HUNG;
use crate::explore::{FailureKind, FoundFailure};
use crate::store::inflight::Claim;

impl SeedSweep {
    /// Runs every seed of `claims`; the failures found, in seed order per claim.
    pub(super) fn resume(&mut self, runner: &SeedRunner, claims: &[Claim]) -> Vec<FoundFailure> {
        let mut failures = Vec::new();
        for claim in claims {
            let mut saved = true;
            for seed in claim.seeds() {
                if self.ledger.hangs >= MAX_HUNG {
                    return failures; // the claim stays open for the next campaign
                }
                let Some(found) = runner.run_claimed(seed, claim) else {
                    continue;
                };
                saved &= self.ledger.saver.save(&found);
                if found.kind == FailureKind::Hang {
                    self.ledger.hangs += 1;
                }
                failures.push(found);
            }
            if saved {
                self.ledger.saver.done(*claim);
            }
        }
        failures
    }
}
