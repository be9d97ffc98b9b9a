//! Replaying the seeds file before a campaign: every saved case is run again and
//! reported as a [`Regression`] (still failing or fixed), so known bugs stay watched.

use super::{run_one, Campaign, CampaignError};
use crate::explore::isolate::run_isolated;
use crate::explore::report::{FoundFailure, Regression};
use crate::harness::seeds::{SeedCase, SeedsFile};
use crate::TraceMode;

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
            strategy: case.strategy.to_string(),
            workers: case.workers,
            failure,
        };
        // A seed case in isolate mode runs in a child too: it may be what aborts.
        if let (Some(iso), None) = (&self.isolate, case_schedule(case)) {
            let limit = self.watchdog;
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
        let outcome = match case_schedule(case) {
            // DFS failures (and hand-added cases) carry a schedule file: replay it.
            Some(Ok(file)) => self
                .scenario
                .replay(file.header.config.trace(TraceMode::Off), file.schedule),
            Some(Err(e)) => return unreadable_case(case, e.to_string()),
            None => run_one(&self.scenario, config, &case.strategy),
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

/// The first line of a failure message, cut to a readable length, for seeds files.
pub(super) fn summary_of(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// The schedule file a seeds-file case names with `schedule=PATH`, if any.
fn case_schedule(
    case: &SeedCase,
) -> Option<Result<crate::harness::ScheduleFile, crate::harness::ScheduleFileError>> {
    let (_, path) = case.extra.iter().find(|(k, _)| k == "schedule")?;
    Some(crate::harness::ScheduleFile::load(path))
}

/// A case whose schedule file cannot be read: reported as still failing, with the reason,
/// so it is looked at rather than silently dropped.
fn unreadable_case(case: &SeedCase, why: String) -> Regression {
    Regression {
        seed: case.seed,
        strategy: case.strategy.to_string(),
        workers: case.workers,
        failure: Some(FoundFailure::outside(
            case.seed,
            &case.strategy,
            case.workers,
            "unreadable_schedule",
            why,
        )),
    }
}
