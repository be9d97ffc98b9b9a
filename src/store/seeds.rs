//! Seeds files, `seeds/<scenario>.seeds`: the regression corpus, replayed first by every run.
//!
//! Format (v1), one failing case per line; people edit these files by hand:
//!
//! ```text
//! # detsim seeds v1 — scenario bank (replayed first by every `detsim fuzz bank`)
//! seed=17 strategy=random workers=4  # panic at src/scenarios/bank.rs:40:9: lost update
//! seed=0x4b3 strategy=pct:3:160 workers=2
//! ```
//!
//! - Tokens are `key=value`, separated by whitespace. `#` starts a comment that runs to the
//!   end of the line; the comment of a case line is its [`SeedCase::summary`]. Blank and
//!   comment-only lines are allowed.
//! - `seed` is required (decimal, or hex with `0x`). `strategy` is a
//!   [`StrategySpec`] token (default `random`), `workers` a number from 1 to
//!   [`crate::Config::WORKERS_MAX`] (default 4), `schedule` the schedule file of a DFS case.
//!   Keys starting with `x-` are notes (`x-found-by=ci-42`), kept in order in
//!   [`SeedCase::extra`] with `schedule`. Any other key is an error: a mistyped `strategy`
//!   would otherwise silently replay another run (the default strategy).
//! - A comment line `# detsim seeds vN` with N ≠ 1 is a file from another format version.
//!
//! Invariants:
//! 1. A bad line is an error naming file and 1-based line; no input makes the parser panic.
//! 2. [`SeedCase`]'s `Display` is the one encoder: it writes a line that parses back to the
//!    same case (values are sanitised so they can be written at all).
//! 3. A case is identified by `(seed, strategy, workers)`; [`append_case`] never writes a
//!    second line for the same case.
//! 4. Writers replace the whole file atomically (temp file, fsync, rename, fsync of the
//!    directory): a crash at any moment leaves the old file or the new one, never a torn one.
//!    [`append_case`] keeps existing bytes — human comments and layout — unchanged.
//! 5. Appends are serialised across threads and processes (a lock on the sidecar file
//!    `.<name>.lock`): concurrent campaigns never lose each other's cases.

use super::atomic::{created_dir_and_name, write_atomic};
use super::file_lock::FileLock;
use super::file_stem;
use crate::quote::quoted;
use crate::spec::StrategySpec;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// The format version, written into the header comment of a new file as `v1`.
const VERSION: u32 = 1;

/// The keys of a case line (`schedule` names the schedule file of a DFS case).
const KNOWN_KEYS: [&str; 4] = ["seed", "strategy", "workers", "schedule"];

/// Keys starting with this are free-form notes (`x-found-by=ci-42`), kept in order.
const NOTE_PREFIX: &str = "x-";

/// Workers used when a line does not say (the same as [`crate::Config::default`]).
const DEFAULT_WORKERS: usize = 4;

/// One failing case: what re-runs it, plus a note for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedCase {
    /// Seed of the run.
    pub seed: u64,
    /// Strategy of the run.
    pub strategy: StrategySpec,
    /// Number of simulated workers (≥ 1).
    pub workers: usize,
    /// The line's trailing comment (usually the failure), without the `#`.
    pub summary: Option<String>,
    /// `schedule` and `x-` note keys, in order of appearance; kept so that annotations
    /// survive a round trip.
    pub extra: Vec<(String, String)>,
}

impl SeedCase {
    /// The schedule file the case names with `schedule=` (DFS failures), resolved: a
    /// relative name is looked up next to the seeds file first (`dir`, where campaigns
    /// write it, so a committed seeds directory works from any working directory), then
    /// as given (files written before names were relative to the seeds directory).
    pub fn schedule_path(&self, dir: &std::path::Path) -> Option<PathBuf> {
        let (_, value) = self.extra.iter().find(|(k, _)| k == "schedule")?;
        let named = PathBuf::from(value);
        let beside = dir.join(&named);
        Some(if named.is_relative() && beside.exists() {
            beside
        } else {
            named
        })
    }

    /// A case with no summary and no extra keys.
    pub fn new(seed: u64, strategy: StrategySpec, workers: usize) -> Self {
        SeedCase {
            seed,
            strategy,
            workers,
            summary: None,
            extra: Vec::new(),
        }
    }

    /// Sets [`SeedCase::summary`].
    pub fn with_summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = Some(summary.into());
        self
    }

    /// True if both describe the same run: equal `(seed, strategy, workers)`.
    pub fn same_run(&self, other: &SeedCase) -> bool {
        (self.seed, self.strategy, self.workers) == (other.seed, other.strategy, other.workers)
    }
}

impl fmt::Display for SeedCase {
    /// `seed=.. strategy=.. workers=.. [k=v ...]  # summary` on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed={} strategy={} workers={}",
            self.seed, self.strategy, self.workers
        )?;
        for (key, value) in &self.extra {
            write!(f, " {}={}", token_safe(key, true), token_safe(value, false))?;
        }
        match self.summary.as_deref().map(one_line) {
            Some(summary) if !summary.is_empty() => write!(f, "  # {summary}"),
            _ => Ok(()),
        }
    }
}

/// The cases of one seeds file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedsFile {
    /// Where the file lives (also used in error messages).
    pub path: PathBuf,
    /// The cases, in file order.
    pub cases: Vec<SeedCase>,
}

impl SeedsFile {
    /// Reads and parses `path`; a missing file is an empty corpus, not an error.
    pub fn load(path: impl AsRef<Path>) -> Result<SeedsFile, SeedsError> {
        let path = path.as_ref();
        SeedsFile::from_bytes(path, &read_if_exists(path)?)
    }

    /// Parses raw file contents; non-UTF-8 bytes are an error naming line and byte.
    pub fn from_bytes(path_for_messages: &Path, bytes: &[u8]) -> Result<SeedsFile, SeedsError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let offset = e.valid_up_to();
            SeedsError::NotUtf8 {
                path: path_for_messages.to_path_buf(),
                line: line_of(bytes, offset),
                offset,
            }
        })?;
        SeedsFile::parse(path_for_messages, text)
    }

    /// Parses file contents; the first bad line is the error.
    pub fn parse(path_for_messages: &Path, text: &str) -> Result<SeedsFile, SeedsError> {
        let mut cases = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let parsed = parse_line(line).map_err(|message| SeedsError::Parse {
                path: path_for_messages.to_path_buf(),
                line: index + 1,
                message,
            })?;
            cases.extend(parsed);
        }
        Ok(SeedsFile {
            path: path_for_messages.to_path_buf(),
            cases,
        })
    }

    /// True if the file holds a case for the same run as `case` (see [`SeedCase::same_run`]).
    pub fn contains(&self, case: &SeedCase) -> bool {
        self.cases.iter().any(|c| c.same_run(case))
    }

    /// The canonical text: the header comment, then one line per case. Comment-only lines
    /// of the parsed file are not part of the model and are not reproduced.
    pub fn to_text(&self) -> String {
        let mut out = header_line(&self.path);
        for case in &self.cases {
            out.push_str(&case.to_string());
            out.push('\n');
        }
        out
    }
}

/// A seeds file that cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum SeedsError {
    /// Reading or writing the file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A line does not parse.
    #[error("{}:{line}: {message}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },
    /// The file is not valid UTF-8.
    #[error("{}:{line}: not valid UTF-8 (byte {offset})", .path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first invalid byte.
        line: usize,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
}

/// `<dir>/<scenario>.seeds`, the name made a valid file name on every OS
/// ([`file_stem`]: a test path `a::b` is `a.b.seeds`). A file under the raw name, as
/// versions before this one wrote it on Unix, is still used if it is the only one.
pub fn scenario_seeds_path(dir: &Path, scenario: &str) -> PathBuf {
    let path = dir.join(format!("{}.seeds", file_stem(scenario)));
    let legacy = dir.join(format!("{scenario}.seeds"));
    if legacy != path && !path.exists() && legacy.exists() {
        return legacy;
    }
    path
}

/// Appends `case` to the seeds file at `path`, atomically and idempotently.
///
/// Returns `Ok(false)` without writing if the file already holds the same run. Creates the
/// parent directory, and starts a new file with the header comment. Existing bytes are kept
/// as they are. A file that does not parse is an error rather than something to append to:
/// its author should fix it first.
///
/// Concurrency: appends to one path are serialised across threads (an in-process lock
/// keyed by path) and across processes (an exclusive OS file lock on the sidecar
/// `.<name>.lock` next to the file, held from the read to the rename and then removed),
/// so concurrent campaigns — shards sharing one `seeds/` directory — never lose each
/// other's cases.
/// The sidecar is locked rather than the file itself because the file is replaced by a
/// rename, and a lock on the old file would not exclude a writer of the new one.
pub fn append_case(path: impl AsRef<Path>, case: &SeedCase) -> Result<bool, SeedsError> {
    let added = append_locked(path.as_ref(), false, |file| match file.contains(case) {
        true => Vec::new(),
        false => vec![case],
    })?;
    Ok(added > 0)
}

/// Adds every case of `files` that `path` does not hold yet, in seed order (then strategy
/// token, then workers), each run once; returns how many lines were added.
///
/// This is how the seeds files of the shards of a campaign become one (`detsim merge`):
/// `path` may be one of `files` (the committed corpus). A new file holds exactly the
/// cases in seed order; an existing one keeps its bytes, as with [`append_case`], and
/// the new cases follow in seed order. One atomic write, under the same locks as
/// [`append_case`]. The first of two cases of the same run is kept (its summary and
/// notes).
pub fn merge_into(path: impl AsRef<Path>, files: &[SeedsFile]) -> Result<usize, SeedsError> {
    let path = path.as_ref();
    let mut cases: Vec<&SeedCase> = Vec::new();
    for case in files.iter().flat_map(|f| &f.cases) {
        if !cases.iter().any(|c| c.same_run(case)) {
            cases.push(case);
        }
    }
    cases.sort_by_cached_key(|c| (c.seed, c.strategy.to_string(), c.workers));
    append_locked(path, true, |existing| {
        cases
            .into_iter()
            .filter(|c| !existing.contains(c))
            .collect()
    })
}

/// Under both locks (this process's and other processes'): reads `path`, asks `pick`
/// which cases to add given what the file holds, and appends them in one atomic write
/// (a header first if the file is new; `create`: write a header-only file even when
/// there is nothing to add). Returns how many cases were added.
fn append_locked<'c>(
    path: &Path,
    create: bool,
    pick: impl FnOnce(&SeedsFile) -> Vec<&'c SeedCase>,
) -> Result<usize, SeedsError> {
    let lock = path_lock(path);
    let _guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
    let _file_lock = lock_across_processes(path).map_err(|source| SeedsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut bytes = read_if_exists(path)?;
    let new = pick(&SeedsFile::from_bytes(path, &bytes)?);
    if new.is_empty() && !(create && bytes.is_empty()) {
        return Ok(0);
    }
    if bytes.is_empty() {
        bytes.extend_from_slice(header_line(path).as_bytes());
    } else if !bytes.ends_with(b"\n") {
        // A hand-edited file may lack the final newline; do not glue onto its last line.
        bytes.push(b'\n');
    }
    for case in &new {
        let line = checked_line(path, &bytes, case)?;
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    write_atomic(path, &bytes).map_err(|source| SeedsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(new.len())
}

/// Renders `case` and checks that the line parses back to the same run, so an append can
/// never make the file unreadable (e.g. an extra key named `seed`).
fn checked_line(path: &Path, existing: &[u8], case: &SeedCase) -> Result<String, SeedsError> {
    let line = case.to_string();
    match parse_line(&line) {
        Ok(Some(parsed)) if parsed.same_run(case) => Ok(line),
        outcome => Err(SeedsError::Parse {
            path: path.to_path_buf(),
            line: line_of(existing, existing.len()),
            message: format!(
                "refusing to append '{line}': it would not parse back ({})",
                outcome
                    .err()
                    .unwrap_or_else(|| "it describes another run".into())
            ),
        }),
    }
}

/// The comment line a new file starts with; names the scenario (the file stem) and the
/// command that replays the file: this program's `fuzz` (a user's own CLI names itself),
/// or `cargo test` for a test binary (`check()` with a seeds directory).
fn header_line(path: &Path) -> String {
    let scenario = path.file_stem().map_or("?".into(), |s| s.to_string_lossy());
    let program = std::env::args_os()
        .next()
        .as_deref()
        .map(Path::new)
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned());
    let command = match program {
        Some(p) if is_test_binary(&p) => "cargo test".to_string(),
        Some(p) => format!("{p} fuzz {scenario}"),
        None => format!("detsim fuzz {scenario}"),
    };
    format!(
        "# detsim seeds v{VERSION} — scenario {scenario} \
         (replayed first by every `{command}`)\n"
    )
}

/// True for cargo's test executables, named `<target>-<16 hex digits>`.
fn is_test_binary(stem: &str) -> bool {
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Key/value pairs of one line before defaults are applied.
#[derive(Default)]
struct Fields {
    seed: Option<u64>,
    strategy: Option<StrategySpec>,
    workers: Option<usize>,
    extra: Vec<(String, String)>,
}

/// Parses one line: `Ok(None)` for blank and comment-only lines, `Err(message)` if bad.
fn parse_line(line: &str) -> Result<Option<SeedCase>, String> {
    let (data, comment) = match line.split_once('#') {
        Some((data, comment)) => (data, Some(comment)),
        None => (line, None),
    };
    let mut fields = Fields::default();
    for token in data.split_whitespace() {
        apply_token(&mut fields, token)?;
    }
    let Some(seed) = fields.seed else {
        if fields.strategy.is_some() || fields.workers.is_some() || !fields.extra.is_empty() {
            return Err("missing required key 'seed'".into());
        }
        return comment.map_or(Ok(()), check_version).map(|()| None);
    };
    Ok(Some(SeedCase {
        seed,
        strategy: fields.strategy.unwrap_or_default(),
        workers: fields.workers.unwrap_or(DEFAULT_WORKERS),
        summary: comment.map(one_line).filter(|s| !s.is_empty()),
        extra: fields.extra,
    }))
}

/// Records one `key=value` token.
fn apply_token(fields: &mut Fields, token: &str) -> Result<(), String> {
    let (key, value) = token
        .split_once('=')
        .ok_or_else(|| format!("expected key=value, found {}", quoted(token)))?;
    let duplicate = || format!("duplicate key {}", quoted(key));
    match key {
        "" => return Err(format!("empty key in {}", quoted(token))),
        "seed" if fields.seed.is_some() => return Err(duplicate()),
        "strategy" if fields.strategy.is_some() => return Err(duplicate()),
        "workers" if fields.workers.is_some() => return Err(duplicate()),
        "seed" => fields.seed = Some(parse_seed(value)?),
        "strategy" => fields.strategy = Some(value.parse().map_err(|e| format!("{e}"))?),
        "workers" => fields.workers = Some(parse_workers(value)?),
        _ if fields.extra.iter().any(|(k, _)| k == key) => return Err(duplicate()),
        _ if key == "schedule" || key.starts_with(NOTE_PREFIX) => {
            fields.extra.push((key.to_string(), value.to_string()))
        }
        _ => return Err(unknown_key(key)),
    }
    Ok(())
}

/// Why a key is refused: a mistyped `strategy` must not silently become the default.
fn unknown_key(key: &str) -> String {
    let guess = KNOWN_KEYS
        .iter()
        .filter(|k| edit_distance(&key.to_ascii_lowercase(), k) <= 2)
        .min_by_key(|k| edit_distance(&key.to_ascii_lowercase(), k));
    let hint = guess.map_or(String::new(), |k| format!(" (did you mean '{k}'?)"));
    format!(
        "unknown key {}{hint}: a case has the keys {}, and notes as {NOTE_PREFIX}NAME=VALUE or after '#'",
        quoted(key),
        KNOWN_KEYS.join(", ")
    )
}

/// Levenshtein distance (short ASCII keys only; counts chars).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// A decimal or `0x` hexadecimal `u64` ([`crate::Seed`]).
fn parse_seed(value: &str) -> Result<u64, String> {
    value
        .parse::<crate::Seed>()
        .map(u64::from)
        .map_err(|e| e.to_string())
}

/// A worker count ≥ 1.
fn parse_workers(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if (1..=crate::Config::WORKERS_MAX).contains(&n) => Ok(n),
        Ok(_) => Err(format!(
            "bad workers {}: must be from 1 to {}",
            quoted(value),
            crate::Config::WORKERS_MAX
        )),
        Err(e) => Err(format!("bad workers {}: {e}", quoted(value))),
    }
}

/// Rejects a `# detsim seeds vN` header of another version.
fn check_version(comment: &str) -> Result<(), String> {
    let Some(rest) = comment.trim_start().strip_prefix("detsim seeds v") else {
        return Ok(());
    };
    let found = rest.split_whitespace().next().unwrap_or_default();
    if found == VERSION.to_string() {
        return Ok(());
    }
    Err(format!(
        "seeds format {} is not supported (this build reads v{VERSION})",
        quoted(&format!("v{found}"))
    ))
}

/// A summary on one line: control characters (newlines, tabs) become spaces; trimmed.
fn one_line(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    mapped.trim().to_string()
}

/// A key or value that survives tokenising: whitespace, `#` and (in keys) `=` become `_`;
/// an empty key becomes `_`.
fn token_safe(s: &str, is_key: bool) -> String {
    let bad = |c: char| c.is_whitespace() || c == '#' || (is_key && c == '=');
    let safe: String = s.chars().map(|c| if bad(c) { '_' } else { c }).collect();
    if is_key && safe.is_empty() {
        return "_".into();
    }
    safe
}

/// 1-based line number of byte `offset`.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The file's bytes, or nothing if it does not exist.
fn read_if_exists(path: &Path) -> Result<Vec<u8>, SeedsError> {
    match super::regular_file::read_regular(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(SeedsError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The in-process lock that serialises read-modify-write cycles on one path. Keyed by the
/// absolute path so `seeds/x.seeds` and `./seeds/x.seeds` share a lock (symlinks do not).
fn path_lock(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<BTreeMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let key = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    locks.entry(key).or_default().clone()
}

/// Holds the exclusive lock on `path`'s sidecar lock file while the value lives (the OS
/// releases it when the process dies; the sidecar is removed when the lock is released).
fn lock_across_processes(path: &Path) -> io::Result<FileLock> {
    let (dir, name) = created_dir_and_name(path, "seeds")?;
    FileLock::acquire(&dir.join(format!(".{name}.lock")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_each_run_once_in_seed_order_and_existing_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| SeedsFile::parse(Path::new(name), text).unwrap();
        let a = file(
            "a",
            "seed=30 strategy=swarm\nseed=4 strategy=swarm  # first\n",
        );
        let b = file(
            "b",
            "seed=4 strategy=swarm  # again\nseed=4 strategy=random\nseed=12\n",
        );
        let out = dir.path().join("x.seeds");
        assert_eq!(merge_into(&out, &[a.clone(), b.clone()]).unwrap(), 4);
        let merged = SeedsFile::load(&out).unwrap();
        let runs: Vec<String> = merged
            .cases
            .iter()
            .map(|c| format!("{} {}", c.seed, c.strategy))
            .collect();
        assert_eq!(runs, ["4 random", "4 swarm", "12 random", "30 swarm"]);
        assert_eq!(merged.cases[1].summary.as_deref(), Some("first"));
        // Into an existing, hand-edited file: its bytes stay, new cases follow.
        std::fs::write(&out, "# mine\nseed=12\n").unwrap();
        assert_eq!(merge_into(&out, &[a, b]).unwrap(), 3);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.starts_with("# mine\nseed=12\nseed=4 strategy=random"),
            "{text}"
        );
        assert_eq!(merge_into(&out, &[]).unwrap(), 0);
    }

    #[test]
    fn defaults_apply_and_comments_become_summaries() {
        let case = parse_line("seed=0x10  # boom at a.rs:1:2 ")
            .unwrap()
            .unwrap();
        assert_eq!(
            case,
            SeedCase::new(16, StrategySpec::Random, 4).with_summary("boom at a.rs:1:2")
        );
        assert_eq!(parse_line("   # just a comment").unwrap(), None);
        assert_eq!(parse_line("").unwrap(), None);
        assert_eq!(parse_line("seed=1 #").unwrap().unwrap().summary, None);
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let cases = [
            ("seed=x1", "bad seed 'x1': invalid digit"),
            ("seed=1 seed=2", "duplicate key 'seed'"),
            ("seed=1 x-a=1 x-a=2", "duplicate key 'x-a'"),
            ("seed=1 oops", "expected key=value, found 'oops'"),
            ("seed=1 =3", "empty key"),
            ("seed=1 workers=0", "must be from 1 to 1024"),
            ("seed=1 strategy=pct:0", "invalid strategy 'pct:0'"),
            ("workers=2", "missing required key 'seed'"),
            ("# detsim seeds v2", "seeds format 'v2' is not supported"),
            (
                "seed=1 stratgy=pct:3",
                "unknown key 'stratgy' (did you mean 'strategy'?)",
            ),
            (
                "seed=1 Workers=2",
                "unknown key 'Workers' (did you mean 'workers'?)",
            ),
            (
                "seed=1 found_by=ci",
                "unknown key 'found_by': a case has the keys",
            ),
            (
                "seed=1 workers=65536",
                "bad workers '65536': must be from 1 to 1024",
            ),
        ];
        for (line, expected) in cases {
            let message = parse_line(line).unwrap_err();
            assert!(message.contains(expected), "{line}: {message}");
        }
    }

    #[test]
    fn display_sanitises_what_the_format_cannot_hold() {
        let mut case = SeedCase::new(1, StrategySpec::Random, 2).with_summary("two\nlines");
        case.extra.push(("x-a key".into(), "v#1".into()));
        let line = case.to_string();
        assert_eq!(
            line,
            "seed=1 strategy=random workers=2 x-a_key=v_1  # two lines"
        );
        let parsed = parse_line(&line).unwrap().unwrap();
        assert_eq!(
            parsed.extra,
            vec![("x-a_key".to_string(), "v_1".to_string())]
        );
    }

    #[test]
    fn line_of_counts_from_one() {
        assert_eq!(line_of(b"a\nb\nc", 0), 1);
        assert_eq!(line_of(b"a\nb\nc", 2), 2);
        assert_eq!(line_of(b"a\nb\nc", 99), 3);
    }

    #[test]
    fn a_seeds_file_under_the_raw_name_is_still_found() {
        let dir = tempfile::tempdir().unwrap();
        let new = scenario_seeds_path(dir.path(), "m::t");
        assert_eq!(new, dir.path().join("m.t.seeds"));
        if cfg!(unix) {
            std::fs::write(dir.path().join("m::t.seeds"), "").unwrap();
            assert_eq!(
                scenario_seeds_path(dir.path(), "m::t"),
                dir.path().join("m::t.seeds")
            );
            std::fs::write(&new, "").unwrap();
            assert_eq!(scenario_seeds_path(dir.path(), "m::t"), new);
        }
    }
}
