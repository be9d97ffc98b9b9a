//! Replaying the seeds file before a campaign: every saved case is run again and
//! reported as a [`Regression`] (still failing or fixed), so known bugs stay watched.
//! Each case runs under the watchdog (in a child process with `isolate`): a saved hang
//! is reported as still hanging, not a campaign stuck at "0 runs".

use super::{hang_failure, run_one, Campaign, CampaignError};
use crate::explore::isolate::run_isolated;
use crate::explore::watchdog::run_guarded;
use crate::explore::{FailureKind, FoundFailure, Regression};
use crate::store::{ScheduleFile, ScheduleFileError, SeedCase, SeedsFile};
use crate::{Outcome, TraceMode};

impl Campaign {
    pub(super) fn replay_seeds_file(&self) -> Result<Vec<Regression>, CampaignError> {
        let Some(path) = self.seeds_path() else {
            return Ok(Vec::new());
        };
        let file = SeedsFile::load(&path)?;
        Ok(file
            .cases
            .iter()
            .map(|case| self.replay_case(case))
            .collect())
    }

    fn replay_case(&self, case: &SeedCase) -> Regression {
        let regression = |failure| Regression {
            seed: case.seed,
            strategy: case.strategy,
            workers: case.workers,
            failure,
        };
        // A seed case in isolate mode runs in a child too: it may be what aborts.
        let dir = self.options.seeds_dir.clone().unwrap_or_default();
        if let (Some(iso), None) = (&self.isolate, case_schedule(case, &dir)) {
            let limit = self.options.watchdog;
            return regression(run_isolated(
                iso,
                case.seed,
                &case.strategy,
                case.workers,
                limit,
            ));
        }
        let config = self
            .config
            .clone()
            .seed(case.seed)
            .workers(case.workers)
            .trace(TraceMode::Off);
        let scenario = self.scenario.clone();
        let strategy = case.strategy;
        let run: Box<dyn FnOnce() -> Outcome<()> + Send> = match case_schedule(case, &dir) {
            // DFS failures (and hand-added cases) carry a schedule file: replay it.
            Some(Ok(file)) => Box::new(move || {
                scenario.replay(file.header.config.trace(TraceMode::Off), file.schedule)
            }),
            Some(Err(e)) => return unreadable_case(case, e.to_string()),
            None => Box::new(move || run_one(&scenario, config, &strategy)),
        };
        let outcome = match run_guarded(self.options.watchdog, run) {
            Ok(outcome) => outcome,
            Err(hung) => {
                return regression(Some(hang_failure(
                    case.seed,
                    &case.strategy,
                    case.workers,
                    hung,
                )))
            }
        };
        regression(outcome.failure().map(|f| {
            FoundFailure::new(
                case.seed,
                &case.strategy,
                case.workers,
                f,
                outcome.fingerprint,
            )
        }))
    }
}

/// The schedule file a seeds-file case names with `schedule=PATH`, if any.
fn case_schedule(
    case: &SeedCase,
    dir: &std::path::Path,
) -> Option<Result<ScheduleFile, ScheduleFileError>> {
    Some(ScheduleFile::load(case.schedule_path(dir)?))
}

/// A case whose schedule file cannot be read: reported as still failing, with the reason,
/// so it is looked at rather than silently dropped.
fn unreadable_case(case: &SeedCase, why: String) -> Regression {
    Regression {
        seed: case.seed,
        strategy: case.strategy,
        workers: case.workers,
        failure: Some(FoundFailure::outside(
            case.seed,
            &case.strategy,
            case.workers,
            FailureKind::UnreadableSchedule,
            why,
        )),
    }
}
