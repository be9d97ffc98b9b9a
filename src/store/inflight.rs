//! The in-flight log: which seeds a campaign is running, so a seed that hangs the
//! process or gets it killed (CI timeout, OOM, stack overflow, abort) is found afterwards.
//!
//! Protocol (`<dir>/<scenario>.inflight`, one line per event):
//! 1. `claim FIRST COUNT STRIDE STRATEGY WORKERS` is written before any seed of a chunk
//!    runs (its seeds are `FIRST + i * STRIDE`, `i < COUNT`, run with that strategy token
//!    and worker count, so a later campaign with other flags still re-runs them the way
//!    they ran); `done FIRST STRIDE` only once every seed of
//!    the chunk has run and every failure among them that the campaign keeps is saved.
//!    The log only shrinks after what it names has been run and saved.
//! 2. Opening a log never truncates it: claims an earlier campaign left open stay open
//!    until this campaign has re-run them and saved what failed, so a crash *while
//!    resuming* loses nothing either.
//! 3. A live campaign holds an exclusive lock on its log (the OS drops it when the
//!    process dies). A second campaign of the same scenario and directory takes the next
//!    free name, `<scenario>.N.inflight`; logs no live process holds are adopted: their
//!    open claims are copied into this campaign's log, then the file is removed.
//! 4. A log with no open claim left is deleted when the campaign ends.
//!
//! Lines are small appends without fsync: the page cache survives a killed process,
//! which is the case that matters; a machine crash may lose the tail. Older logs with
//! `claim FIRST COUNT` and `done FIRST` lines are read with the current campaign's stride,
//! strategy and workers.

use super::file_lock::try_lock_unowned;
use crate::spec::StrategySpec;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Names tried per scenario and directory (rule 3).
const MAX_LOGS: usize = 64;

/// Seeds the in-flight log reconstructs at most per claim (a corrupt count is not a
/// reason to allocate without bound).
const MAX_CLAIM: u64 = 1 << 20;

/// A chunk of seeds: `first + i * stride` for `i < count`, run with `strategy` on
/// `workers` simulated workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Claim {
    pub(crate) first: u64,
    pub(crate) count: u64,
    pub(crate) stride: u64,
    pub(crate) strategy: StrategySpec,
    pub(crate) workers: usize,
}

impl Claim {
    pub(crate) fn seeds(self) -> impl Iterator<Item = u64> {
        (0..self.count.min(MAX_CLAIM))
            .map(move |i| self.first.wrapping_add(i.wrapping_mul(self.stride)))
    }
}

#[derive(Debug)]
struct Log {
    file: File,
    // invariant: the claims of the file without a matching `done` (rule 4).
    open: BTreeMap<(u64, u64), Claim>,
}

/// A campaign's in-flight log, locked for the campaign's lifetime.
#[derive(Debug)]
pub(crate) struct InFlight {
    path: PathBuf,
    log: Mutex<Log>,
}

impl InFlight {
    /// Opens (or creates) this campaign's log in `dir` and returns it with the claims
    /// earlier campaigns left open (rules 2 and 3), in seed order.
    pub(crate) fn open(
        dir: &Path,
        scenario: &str,
        defaults: Claim,
    ) -> std::io::Result<(InFlight, Vec<Claim>)> {
        std::fs::create_dir_all(dir)?;
        let mut ours: Option<(PathBuf, File)> = None;
        let mut adopted: Vec<(PathBuf, File)> = Vec::new();
        for n in 1..=MAX_LOGS {
            let path = log_path(dir, scenario, n);
            let create = ours.is_none();
            if !create && !path.exists() {
                continue;
            }
            let Some(file) = try_lock_unowned(&path, create)? else {
                continue;
            };
            match ours {
                None => ours = Some((path, file)),
                Some(_) => adopted.push((path, file)),
            }
        }
        let (path, mut file) = ours.ok_or_else(|| {
            std::io::Error::other(format!(
                "{MAX_LOGS} campaigns of '{scenario}' are running in {}",
                dir.display()
            ))
        })?;
        let mut open = parse(&read_all(&mut file)?, defaults);
        for (other, mut f) in adopted {
            for c in parse(&read_all(&mut f)?, defaults).into_values() {
                file.write_all(claim_line(&c).as_bytes())?;
                open.insert((c.first, c.stride), c);
            }
            // Its claims are in our log now (best effort: a leftover is re-adopted).
            let _ = std::fs::remove_file(&other);
        }
        let leftovers = open.values().copied().collect();
        let log = Mutex::new(Log { file, open });
        Ok((InFlight { path, log }, leftovers))
    }

    fn line(&self, update: impl FnOnce(&mut Log) -> String) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let text = update(&mut log);
        // Best effort: a full disk must not stop the campaign itself.
        let _ = log.file.write_all(text.as_bytes());
    }

    pub(crate) fn claim(&self, c: Claim) {
        self.line(|log| {
            log.open.insert((c.first, c.stride), c);
            claim_line(&c)
        });
    }

    pub(crate) fn done(&self, c: Claim) {
        self.line(|log| {
            log.open.remove(&(c.first, c.stride));
            format!("done {} {}\n", c.first, c.stride)
        });
    }

    /// Ends the campaign's use of the log: deleted if nothing in it is open (rule 4).
    pub(crate) fn finish(self) {
        let log = self
            .log
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if log.open.is_empty() {
            // Removed while still locked, so no other campaign adopts it meanwhile.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn claim_line(c: &Claim) -> String {
    format!(
        "claim {} {} {} {} {}\n",
        c.first, c.count, c.stride, c.strategy, c.workers
    )
}

/// `<scenario>.inflight`, then `<scenario>.N.inflight` (the name made a valid file name
/// on every OS, as for seeds files).
pub(crate) fn log_path(dir: &Path, scenario: &str, n: usize) -> PathBuf {
    let stem = super::file_stem(scenario);
    match n {
        1 => dir.join(format!("{stem}.inflight")),
        n => dir.join(format!("{stem}.{n}.inflight")),
    }
}

fn read_all(file: &mut File) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The open claims of a log's text (a torn or unknown line is skipped).
fn parse(text: &str, defaults: Claim) -> BTreeMap<(u64, u64), Claim> {
    let mut open = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok());
        match (words.first().copied(), num(1), num(2), num(3)) {
            (Some("claim"), Some(first), Some(count), stride) => {
                let c = Claim {
                    first,
                    count,
                    stride: stride.unwrap_or(defaults.stride).max(1),
                    strategy: words
                        .get(4)
                        .and_then(|w| w.parse().ok())
                        .unwrap_or(defaults.strategy),
                    workers: num(5)
                        .and_then(|w| usize::try_from(w).ok())
                        .filter(|&w| w >= 1)
                        .unwrap_or(defaults.workers),
                };
                open.insert((first, c.stride), c);
            }
            (Some("done"), Some(first), Some(stride), _) => {
                open.remove(&(first, stride));
            }
            (Some("done"), Some(first), None, _) => open.retain(|&(f, _), _| f != first),
            _ => {}
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(first: u64, count: u64, stride: u64) -> Claim {
        Claim {
            first,
            count,
            stride,
            strategy: StrategySpec::Random,
            workers: 4,
        }
    }

    #[test]
    fn open_claims_are_those_without_done() {
        let open = parse(
            "claim 0 32 1\ndone 0 1\nclaim 32 32 1 pct:3:90 2\nclaim 7 3\ndone 5\ngarbage\nclaim 9",
            claim(0, 0, 2),
        );
        let claims: Vec<Claim> = open.into_values().collect();
        let pct = Claim {
            strategy: "pct:3:90".parse().unwrap(),
            workers: 2,
            ..claim(32, 32, 1)
        };
        assert_eq!(claims, vec![claim(7, 3, 2), pct]);
        assert_eq!(claims[0].seeds().collect::<Vec<_>>(), vec![7, 9, 11]);
        let line = claim_line(&pct);
        assert_eq!(parse(&line, claim(0, 0, 5)).into_values().next(), Some(pct));
    }

    #[test]
    fn a_second_campaign_takes_another_log_and_adopts_dead_ones() {
        let dir = tempfile::tempdir().unwrap();
        let c = |first| claim(first, 2, 1);
        let (a, left) = InFlight::open(dir.path(), "s", c(0)).unwrap();
        assert!(left.is_empty());
        a.claim(c(10));
        // `a` is live: `b` gets its own log and does not touch a's claims.
        let (b, left) = InFlight::open(dir.path(), "s", c(0)).unwrap();
        assert!(left.is_empty(), "{left:?}");
        assert!(dir.path().join("s.2.inflight").exists());
        b.claim(c(20));
        drop(a); // dies with claim 10 open
        drop(b); // dies with claim 20 open
        let (c3, left) = InFlight::open(dir.path(), "s", c(0)).unwrap();
        assert_eq!(left, vec![c(10), c(20)]);
        assert!(!dir.path().join("s.2.inflight").exists(), "adopted");
        c3.done(c(10));
        c3.finish();
        assert!(
            dir.path().join("s.inflight").exists(),
            "claim 20 is still open"
        );
        let (c4, left) = InFlight::open(dir.path(), "s", c(0)).unwrap();
        assert_eq!(left, vec![c(20)]);
        c4.done(c(20));
        c4.finish();
        assert!(!dir.path().join("s.inflight").exists());
    }
}
