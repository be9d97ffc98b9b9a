//! [`merge_reports`]: the reports of the N shards of one campaign (`--shard K/N`, run
//! anywhere) combined into the report the unsharded campaign gives.
//!
//! Why the merge is exact: shard K runs the seeds `start + K-1 + i*N` in increasing
//! order and stops at the seed where its own `keep_going`-th distinct failure signature
//! first appears (its *bound*). The unsharded campaign stops at the seed S where the
//! `keep_going`-th distinct signature first appears in the whole range. Every shard's
//! bound is ≥ S (the seeds of one shard up to its bound already hold `keep_going`
//! distinct signatures, so the whole range reaches that many no later), so every seed
//! ≤ S ran in some shard, and every signature whose first occurrence is ≤ S is among
//! the distinct failures its shard reports. Hence:
//! 1. `failures`: the shards' failures in seed order, the first of each signature, the
//!    first `keep_going` of them; S is the seed of the last one if there are
//!    `keep_going`, else the whole range ran (`exhausted`).
//! 2. `failing_seeds`: the union of the shards', up to S; `runs` = the seeds from
//!    `start` to S (or the whole range); `passes` = runs − failing seeds.
//! 3. Seeds-file regressions and resumed seeds: the union, each run once.
//!
//! A shard stopped by `--time`, Ctrl-C or hangs ran an unknown part of its seeds: the
//! merge then is a union (runs summed, failures pooled) with that stop reason, not an
//! unsharded campaign's answer.
//!
//! DFS shards search disjoint parts of one tree (`Dfs::with_shard`), each stopping at its
//! own first failure, so their merge is a union too: runs summed, the first failure of
//! each signature in shard order, complete if every shard is. When no shard failed and
//! all completed, it equals the unsharded search (same runs, complete).

use super::found::{FoundFailure, Regression};
use super::report::{CampaignReport, StopReason};
use super::{Shard, StrategySpec};

/// Why shard reports cannot be merged.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// No report was given.
    #[error("nothing to merge: give the JSON report (`fuzz --json`) of every shard")]
    Empty,
    /// Two reports are of different campaigns.
    #[error("{a} and {b} are not shards of one campaign: {what} {va} in {a}, {vb} in {b}")]
    Mismatch {
        /// The first report.
        a: String,
        /// The report that differs.
        b: String,
        /// What differs (`scenario`, `strategy`, …).
        what: &'static str,
        /// Its value in `a`.
        va: String,
        /// Its value in `b`.
        vb: String,
    },
    /// Two reports are of the same shard.
    #[error("shard {shard} is in both {a} and {b}: give each shard's report once")]
    Overlap {
        /// The shard.
        shard: Shard,
        /// One report.
        a: String,
        /// The other.
        b: String,
    },
    /// Some shards have no report.
    #[error("missing shard{} {}: the reports cover {have} of {count}", if .missing.len() == 1 { "" } else { "s" }, list(.missing))]
    Missing {
        /// The shards without a report.
        missing: Vec<Shard>,
        /// How many shards have one.
        have: usize,
        /// The number of shards.
        count: u64,
    },
    /// A shard's report contradicts the others (a shard stopped before a seed the
    /// merged campaign needs): reports of different builds or a hand-edited report.
    #[error("{name} stopped at seed {bound}, before seed {needed} the merged campaign stops at: the reports do not come from one campaign (different builds?)")]
    Inconsistent {
        /// The report.
        name: String,
        /// Where it stopped.
        bound: u64,
        /// Where the merge says every shard must have run to.
        needed: u64,
    },
}

fn list(shards: &[Shard]) -> String {
    let shown: Vec<String> = shards.iter().take(10).map(Shard::to_string).collect();
    let more = shards.len().saturating_sub(shown.len());
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{} and {more} more", shown.join(", "))
    }
}

/// Merges the reports of every shard of one campaign, each named (its file) for error
/// messages, into the report of the unsharded campaign (see the module docs).
pub fn merge_reports(parts: &[(String, CampaignReport)]) -> Result<CampaignReport, MergeError> {
    let (name0, first) = parts.first().ok_or(MergeError::Empty)?;
    for (name, r) in &parts[1..] {
        same_campaign(name0, first, name, r)?;
    }
    let mut parts: Vec<&(String, CampaignReport)> = parts.iter().collect();
    parts.sort_by_key(|(_, r)| r.shard.index);
    check_shards(&parts)?;
    let reports: Vec<&CampaignReport> = parts.iter().map(|(_, r)| r).collect();
    if matches!(first.strategy, StrategySpec::Dfs { .. }) {
        return Ok(merge_dfs(&reports));
    }
    let failures = distinct(&reports, first.keep_going);
    let stopped = stop_reason(&reports, failures.len() >= first.keep_going);
    let bound = (stopped == StopReason::Failures).then(|| failures.last().map(|f| f.seed));
    let bound = bound.flatten();
    if let Some(needed) = bound {
        consistent(&parts, needed)?;
    }
    let failing_seeds = failing_seeds(&reports, bound);
    let runs = match (stopped, bound) {
        (StopReason::Failures, Some(s)) => s - first.start + 1,
        (StopReason::Exhausted, _) => first.seeds,
        _ => reports.iter().map(|r| r.runs).sum(),
    };
    Ok(CampaignReport {
        shard: Shard::default(),
        runs,
        passes: runs.saturating_sub(failing_seeds.len() as u64),
        failures,
        failing_seeds,
        regressions: regressions(&reports),
        stopped,
        complete: None,
        nondeterminism: None,
        resumed_in_flight: resumed_seeds(&reports),
        resumed_failures: resumed_failures(&reports),
        ..first.clone()
    })
}

/// The union of DFS shards (see the module docs).
fn merge_dfs(reports: &[&CampaignReport]) -> CampaignReport {
    let first = reports[0];
    let mut failures: Vec<FoundFailure> = Vec::new();
    for f in reports.iter().flat_map(|r| &r.failures) {
        if failures.len() < first.keep_going && !failures.iter().any(|d| d.signature == f.signature)
        {
            failures.push(f.clone());
        }
    }
    let runs = reports.iter().map(|r| r.runs).sum();
    let complete = reports.iter().all(|r| r.complete == Some(true));
    let nondeterminism = reports.iter().find_map(|r| r.nondeterminism.clone());
    let early = [
        StopReason::Hung,
        StopReason::Nondeterministic,
        StopReason::Interrupted,
        StopReason::TimeLimit,
        StopReason::RunCap,
    ];
    let stopped = match early
        .into_iter()
        .find(|e| reports.iter().any(|r| r.stopped == *e))
    {
        Some(e) => e,
        None if !failures.is_empty() => StopReason::Failures,
        None => StopReason::Exhausted,
    };
    CampaignReport {
        shard: Shard::default(),
        runs,
        passes: reports.iter().map(|r| r.passes).sum(),
        failing_seeds: failing_seeds(reports, None),
        failures,
        regressions: regressions(reports),
        stopped,
        complete: Some(complete),
        nondeterminism,
        resumed_in_flight: resumed_seeds(reports),
        resumed_failures: resumed_failures(reports),
        ..first.clone()
    }
}

/// Fails unless `b` is a shard of the campaign `a` is a shard of.
fn same_campaign(
    na: &str,
    a: &CampaignReport,
    nb: &str,
    b: &CampaignReport,
) -> Result<(), MergeError> {
    let fields: [(&'static str, String, String); 7] = [
        ("scenario", a.scenario.clone(), b.scenario.clone()),
        ("strategy", a.strategy.to_string(), b.strategy.to_string()),
        ("workers", a.workers.to_string(), b.workers.to_string()),
        ("start", a.start.to_string(), b.start.to_string()),
        ("seeds", a.seeds.to_string(), b.seeds.to_string()),
        (
            "keep_going",
            a.keep_going.to_string(),
            b.keep_going.to_string(),
        ),
        (
            "shard count",
            a.shard.count.to_string(),
            b.shard.count.to_string(),
        ),
    ];
    match fields.into_iter().find(|(_, va, vb)| va != vb) {
        None => Ok(()),
        Some((what, va, vb)) => Err(MergeError::Mismatch {
            a: na.to_string(),
            b: nb.to_string(),
            what,
            va,
            vb,
        }),
    }
}

/// Each shard `1..=N` exactly once (`parts` sorted by shard index, one shard count).
fn check_shards(parts: &[&(String, CampaignReport)]) -> Result<(), MergeError> {
    for w in parts.windows(2) {
        if w[0].1.shard == w[1].1.shard {
            return Err(MergeError::Overlap {
                shard: w[0].1.shard,
                a: w[0].0.clone(),
                b: w[1].0.clone(),
            });
        }
    }
    let count = parts[0].1.shard.count;
    let missing: Vec<Shard> = (1..=count)
        .filter(|&index| !parts.iter().any(|(_, r)| r.shard.index == index))
        .take(1000)
        .map(|index| Shard { index, count })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(MergeError::Missing {
        missing,
        have: parts.len(),
        count,
    })
}

/// Rule 1: the first failure of each signature in seed order, at most `keep_going`.
fn distinct(reports: &[&CampaignReport], keep_going: usize) -> Vec<FoundFailure> {
    let mut all: Vec<&FoundFailure> = reports.iter().flat_map(|r| &r.failures).collect();
    all.sort_by_key(|f| f.seed);
    let mut out: Vec<FoundFailure> = Vec::new();
    for f in all {
        if out.len() < keep_going && !out.iter().any(|d| d.signature == f.signature) {
            out.push(f.clone());
        }
    }
    out
}

/// Exact (`failures` or `exhausted`) unless a shard stopped early; then the most severe
/// early stop.
fn stop_reason(reports: &[&CampaignReport], enough: bool) -> StopReason {
    let early = [
        StopReason::Hung,
        StopReason::Interrupted,
        StopReason::TimeLimit,
        StopReason::RunCap,
    ];
    match early
        .into_iter()
        .find(|e| reports.iter().any(|r| r.stopped == *e))
    {
        Some(e) => e,
        None if enough => StopReason::Failures,
        None => StopReason::Exhausted,
    }
}

/// Every shard stopped by failures ran up to at least `needed` (see the module docs).
fn consistent(parts: &[&(String, CampaignReport)], needed: u64) -> Result<(), MergeError> {
    for (name, r) in parts {
        let bound = r.failures.iter().map(|f| f.seed).max();
        if let (StopReason::Failures, Some(bound)) = (r.stopped, bound) {
            if bound < needed {
                return Err(MergeError::Inconsistent {
                    name: name.clone(),
                    bound,
                    needed,
                });
            }
        }
    }
    Ok(())
}

/// Rule 2: the shards' failing seeds up to `bound`, ascending, each once.
fn failing_seeds(reports: &[&CampaignReport], bound: Option<u64>) -> Vec<u64> {
    let mut seeds: Vec<u64> = reports
        .iter()
        .flat_map(|r| r.failing_seeds.iter().copied())
        .filter(|&s| bound.is_none_or(|b| s <= b))
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    seeds
}

/// Rule 3: each seeds-file case once, in the order the shards (by index) list them; a
/// case one shard saw fail counts as failing.
fn regressions(reports: &[&CampaignReport]) -> Vec<Regression> {
    let mut out: Vec<Regression> = Vec::new();
    for g in reports.iter().flat_map(|r| &r.regressions) {
        let same =
            |o: &Regression| (o.seed, o.strategy, o.workers) == (g.seed, g.strategy, g.workers);
        match out.iter_mut().find(|o| same(o)) {
            Some(o) if o.failure.is_none() => o.failure = g.failure.clone(),
            Some(_) => {}
            None => out.push(g.clone()),
        }
    }
    out
}

fn resumed_seeds(reports: &[&CampaignReport]) -> Vec<u64> {
    let mut seeds: Vec<u64> = reports
        .iter()
        .flat_map(|r| r.resumed_in_flight.iter().copied())
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    seeds
}

fn resumed_failures(reports: &[&CampaignReport]) -> Vec<FoundFailure> {
    let mut all: Vec<&FoundFailure> = reports.iter().flat_map(|r| &r.resumed_failures).collect();
    all.sort_by_key(|f| f.seed);
    let mut out: Vec<FoundFailure> = Vec::new();
    for f in all {
        if !out.iter().any(|o| o.same_run(f)) {
            out.push(f.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::{FailureKind, Fingerprint};

    fn failure(seed: u64, signature: &str) -> FoundFailure {
        FoundFailure {
            seed,
            strategy: StrategySpec::Random,
            workers: 4,
            kind: FailureKind::Panic,
            message: format!("{signature} at {seed}"),
            signature: signature.into(),
            fingerprint: Some(Fingerprint(seed)),
            schedule: None,
        }
    }

    /// Shard `k/n` of `seeds` seeds from 0 where `failing` fail with their signatures.
    fn shard(k: u64, n: u64, keep_going: usize, failing: &[(u64, &str)]) -> CampaignReport {
        let mine: Vec<(u64, &str)> = failing
            .iter()
            .copied()
            .filter(|(s, _)| s % n == k - 1)
            .collect();
        let mut found: Vec<FoundFailure> = Vec::new();
        let mut bound = None;
        for &(s, sig) in &mine {
            if !found.iter().any(|f| f.signature == sig) {
                found.push(failure(s, sig));
                if found.len() == keep_going {
                    bound = Some(s);
                    break;
                }
            }
        }
        let seeds = 100u64;
        let runs = bound.map_or((seeds - (k - 1)).div_ceil(n), |b| b / n + 1);
        let failing_seeds: Vec<u64> = mine
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| bound.is_none_or(|b| *s <= b))
            .collect();
        CampaignReport {
            scenario: "x".into(),
            strategy: StrategySpec::Random,
            workers: 4,
            start: 0,
            seeds,
            shard: Shard { index: k, count: n },
            keep_going,
            runs,
            passes: runs - failing_seeds.len() as u64,
            failures: found,
            failing_seeds,
            regressions: Vec::new(),
            stopped: if bound.is_some() {
                StopReason::Failures
            } else {
                StopReason::Exhausted
            },
            complete: None,
            nondeterminism: None,
            resumed_in_flight: Vec::new(),
            resumed_failures: Vec::new(),
        }
    }

    fn merged(n: u64, keep_going: usize, failing: &[(u64, &str)]) -> CampaignReport {
        let parts: Vec<(String, CampaignReport)> = (1..=n)
            .rev()
            .map(|k| (format!("r{k}.json"), shard(k, n, keep_going, failing)))
            .collect();
        merge_reports(&parts).unwrap()
    }

    #[test]
    fn a_merge_is_the_unsharded_campaign() {
        let failing = [
            (5, "a"),
            (9, "a"),
            (14, "b"),
            (22, "a"),
            (23, "c"),
            (40, "d"),
        ];
        for keep_going in [1, 2, 3, 4, 5] {
            let whole = merged(1, keep_going, &failing);
            for n in [2, 3, 4, 7] {
                assert_eq!(
                    merged(n, keep_going, &failing),
                    whole,
                    "{n} shards, keep going {keep_going}"
                );
            }
        }
        let whole = merged(1, 2, &failing);
        assert_eq!(
            (whole.runs, whole.failing_seeds.clone()),
            (15, vec![5, 9, 14])
        );
        assert_eq!(merged(4, 9, &failing).stopped, StopReason::Exhausted);
    }

    #[test]
    fn mismatched_overlapping_or_missing_shards_are_refused() {
        let part = |k, n| (format!("r{k}.json"), shard(k, n, 1, &[(3, "a")]));
        let err = |parts: Vec<(String, CampaignReport)>| merge_reports(&parts).unwrap_err();
        let e = err(vec![part(1, 4), part(2, 4), part(4, 4)]);
        assert_eq!(e.to_string(), "missing shard 3/4: the reports cover 3 of 4");
        let e = err(vec![part(1, 2), part(1, 2), part(2, 2)]);
        assert!(matches!(e, MergeError::Overlap { .. }), "{e}");
        let e = err(vec![part(1, 2), part(2, 3)]);
        assert!(
            e.to_string()
                .contains("shard count 2 in r1.json, 3 in r2.json"),
            "{e}"
        );
        let mut other = part(2, 2);
        other.1.scenario = "y".into();
        let e = err(vec![part(1, 2), other]);
        assert!(
            e.to_string()
                .contains("scenario x in r1.json, y in r2.json"),
            "{e}"
        );
        let mut pct = part(2, 2);
        pct.1.strategy = "pct:3:10".parse().unwrap();
        assert!(err(vec![part(1, 2), pct])
            .to_string()
            .contains("strategy random"));
        assert_eq!(merge_reports(&[]).unwrap_err(), MergeError::Empty);
    }
}
