//! Schedule files, `*.schedule`: a recorded choice list with a checked header.
//!
//! Format (v1), ASCII apart from the scenario name:
//!
//! ```text
//! detsim-schedule v1
//! scenario: bank
//! strategy: pct:3:160
//! config: {"seed":17,"workers":4,"steps_max":5000000,...}
//! program: 9f3a0c41d2e87b10
//! choices: 123
//! checksum: 1c2d9e0f33a1b7c4
//! ---
//! t3/5 t0/4 w1/4 m2/3 r=1234567 ...
//! ```
//!
//! - The header lines come in exactly this order, each `key: value` and ending in `\n`.
//!   `config` is [`Config`] as one line of JSON, `program` the [`program_fingerprint`] of
//!   the build that recorded the file, `choices` the number of body tokens; `program` and
//!   `checksum` are 16 lowercase hex digits.
//! - The body holds one token per choice: `<code><value>/<n>` for a choice of `n ≥ 1`
//!   outcomes, `<code>=<value>` for a raw draw (`n == 0`), where `<code>` is
//!   [`ChoiceKind::code`]. Tokens are separated by ASCII whitespace; the encoder writes 16
//!   per line.
//! - `checksum` is FNV-1a over every byte of the file except the checksum line itself: the
//!   header lines before it, the `---` line and the body. It covers the header too because
//!   a single flipped bit there (`"workers":4` → `"workers":5`) would otherwise parse into
//!   a valid header for another run.
//!
//! Invariants:
//! 1. [`ScheduleFile::to_text`] is the one encoder; `parse(to_text(f)) == f` for every `f`
//!    whose scenario name has no control characters (the encoder writes those as `?`).
//! 2. Parsing never panics and never trusts the header for sizes: a file that is empty,
//!    truncated, bit-flipped, non-UTF-8 or of another version is a typed
//!    [`ScheduleFileError`] naming the path and the byte offset.
//! 3. Any change to the bytes after the checksum line is reported as
//!    [`ScheduleFileError::Checksum`] (the body is decoded only after the checksum matched).
//! 4. [`ScheduleFile::save`] replaces the file atomically (temp file, fsync, rename).

use super::atomic::write_atomic;
use crate::choice::{Choice, ChoiceKind, Schedule};
use crate::config::Config;
use crate::hash::fnv1a;
use crate::spec::StrategySpec;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

/// First word of the first line.
const MAGIC: &str = "detsim-schedule";
/// The version this build writes and reads.
const VERSION: &str = "v1";
/// Body tokens per line (keeps diffs and terminals readable).
const TOKENS_PER_LINE: usize = 16;
/// The line between header and body.
const SEPARATOR: &str = "---";

/// What a schedule was recorded from: everything but the choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleHeader {
    /// Name of the scenario (one line; the encoder replaces control characters with `?`).
    pub scenario: String,
    /// Strategy that produced the schedule (replay does not need it; people do).
    pub strategy: StrategySpec,
    /// Config of the recorded run.
    pub config: Config,
    /// [`program_fingerprint`] of the build that recorded it.
    pub program: u64,
}

impl ScheduleHeader {
    /// A header for a schedule recorded by this build.
    pub fn new(scenario: impl Into<String>, strategy: StrategySpec, config: Config) -> Self {
        ScheduleHeader {
            scenario: scenario.into(),
            strategy,
            config,
            program: program_fingerprint(),
        }
    }

    /// True if the recording build is the running one. If not, replay may diverge because
    /// the program changed; callers should say so before replaying.
    pub fn is_from_this_build(&self) -> bool {
        self.program == program_fingerprint()
    }
}

/// A recorded schedule with its header: the contents of a `*.schedule` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleFile {
    /// What the schedule was recorded from.
    pub header: ScheduleHeader,
    /// The recorded choices.
    pub schedule: Schedule,
}

/// A schedule file that cannot be read, or is damaged, or is of another version.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleFileError {
    /// Reading or writing failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file is not in the v1 format (empty, truncated, or a field does not parse).
    #[error("{}:{line} (byte {offset}): {message}", .path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// Byte offset of the problem.
        offset: usize,
        /// 1-based line of `offset`.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The contents do not match the header's checksum.
    #[error("{}: checksum mismatch: header says {expected:016x}, contents hash to {actual:016x} (the file was truncated or edited)", .path.display())]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Checksum written in the header.
        expected: u64,
        /// Checksum of the contents.
        actual: u64,
    },
    /// The file is a schedule of another format version.
    #[error("{}: schedule format '{found}' is not supported (this build reads {VERSION})", .path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version the file declares (control characters escaped, cut at 40 characters).
        found: String,
    },
    /// The file is not valid UTF-8.
    #[error("{}: not valid UTF-8 at byte {offset}", .path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
}

impl ScheduleFile {
    /// The file's text (the one encoder).
    pub fn to_text(&self) -> String {
        let h = &self.header;
        let config = serde_json::to_string(&h.config).expect("Config always serialises");
        let scenario: String = h
            .scenario
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        let head = format!(
            "{MAGIC} {VERSION}\nscenario: {scenario}\nstrategy: {}\nconfig: {config}\n\
             program: {:016x}\nchoices: {}\n",
            h.strategy,
            h.program,
            self.schedule.len()
        );
        let tail = format!("{SEPARATOR}\n{}", encode_body(&self.schedule));
        let checksum = fnv1a(format!("{head}{tail}").as_bytes());
        format!("{head}checksum: {checksum:016x}\n{tail}")
    }

    /// Parses a file's bytes; `path_for_messages` only names the file in errors.
    pub fn parse(
        path_for_messages: &Path,
        bytes: &[u8],
    ) -> Result<ScheduleFile, ScheduleFileError> {
        let mut cur = Cursor {
            path: path_for_messages,
            bytes,
            pos: 0,
        };
        if bytes.is_empty() {
            return Err(cur.error(0, format!("empty file: expected '{MAGIC} {VERSION}'")));
        }
        let header = parse_header(&mut cur)?;
        let declared = cur.field("choices", digits::<usize>)?;
        let checksum_line = cur.pos;
        let expected = cur.field("checksum", hex16)?;
        let checksum_line = checksum_line..cur.pos;
        let (start, line) = cur.line()?;
        if line != SEPARATOR {
            return Err(cur.error(
                start,
                format!("expected '{SEPARATOR}', found {}", snippet(line)),
            ));
        }
        verify_checksum(path_for_messages, bytes, checksum_line, expected)?;
        let schedule = parse_body(&cur, declared)?;
        Ok(ScheduleFile { header, schedule })
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<ScheduleFile, ScheduleFileError> {
        let path = path.as_ref();
        let bytes =
            super::regular_file::read_regular(path).map_err(|source| ScheduleFileError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        ScheduleFile::parse(path, &bytes)
    }

    /// Writes the file atomically (temp file, fsync, rename), creating its directory.
    ///
    /// An existing `path` that is not a regular file (a FIFO, a device such as
    /// `/dev/null`, a directory) is an error, never replaced.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ScheduleFileError> {
        let path = path.as_ref();
        if fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            return Err(ScheduleFileError::Io {
                path: path.to_path_buf(),
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "exists and is not a regular file; refusing to replace it",
                ),
            });
        }
        write_atomic(path, self.to_text().as_bytes()).map_err(|source| ScheduleFileError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// A fingerprint of the running program build: FNV-1a over the bytes of the executable
/// (read once per process), or of the crate version if the executable cannot be read.
///
/// Why: a schedule is a list of answers to the questions one build of the program asked.
/// Another build may ask different questions, and its replay then diverges — replay reports
/// where, but the caller should warn up front ("recorded by another build") so a divergence
/// is not mistaken for a fixed bug. Any rebuild changes the fingerprint, so a mismatch is a
/// warning, not an error.
pub fn program_fingerprint() -> u64 {
    static FINGERPRINT: OnceLock<u64> = OnceLock::new();
    *FINGERPRINT.get_or_init(|| {
        std::env::current_exe()
            .and_then(fs::read)
            .map(|exe| fnv1a(&exe))
            .unwrap_or_else(|_| fnv1a(concat!("detsim ", env!("CARGO_PKG_VERSION")).as_bytes()))
    })
}

/// The body text: tokens separated by spaces, [`TOKENS_PER_LINE`] per line.
fn encode_body(schedule: &Schedule) -> String {
    let mut out = String::new();
    for (i, c) in schedule.choices.iter().enumerate() {
        let code = c.kind.code();
        // Writing into a String cannot fail.
        let _ = match c.n {
            0 => write!(out, "{code}={}", c.value),
            n => write!(out, "{code}{}/{n}", c.value),
        };
        let line_full = (i + 1) % TOKENS_PER_LINE == 0 || i + 1 == schedule.len();
        out.push(if line_full { '\n' } else { ' ' });
    }
    out
}

/// Reads the magic line and the header fields up to `program`.
fn parse_header(cur: &mut Cursor<'_>) -> Result<ScheduleHeader, ScheduleFileError> {
    // Checked on raw bytes first, so that a file of another kind (binary or not) is
    // reported as such rather than as bad UTF-8 or a truncated header.
    if !cur.bytes.starts_with(format!("{MAGIC} ").as_bytes()) {
        let message = format!("not a schedule file: expected '{MAGIC} {VERSION}'");
        return Err(cur.error(0, message));
    }
    let (_, magic) = cur.line()?;
    let found = &magic[MAGIC.len() + 1..];
    if found != VERSION {
        return Err(ScheduleFileError::Version {
            path: cur.path.to_path_buf(),
            found: crate::quote::printable(&found.chars().take(40).collect::<String>()),
        });
    }
    Ok(ScheduleHeader {
        scenario: cur.field("scenario", |v| Ok(v.to_string()))?,
        strategy: cur.field("strategy", |v| v.parse().map_err(|e| format!("{e}")))?,
        config: cur.field("config", |v| {
            let config: Config = serde_json::from_str(v).map_err(|e| format!("{e}"))?;
            config
                .validate()
                .map_err(|e| format!("unusable config: {e}"))?;
            Ok(config)
        })?,
        program: cur.field("program", hex16)?,
    })
}

/// Checks the checksum over everything but the checksum line.
fn verify_checksum(
    path: &Path,
    bytes: &[u8],
    checksum_line: Range<usize>,
    expected: u64,
) -> Result<(), ScheduleFileError> {
    let covered = [&bytes[..checksum_line.start], &bytes[checksum_line.end..]].concat();
    let actual = fnv1a(&covered);
    if actual != expected {
        return Err(ScheduleFileError::Checksum {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    Ok(())
}

/// Decodes the body (everything after the cursor) and checks the declared count. The
/// choices vector grows with what is actually there; `declared` is only compared.
fn parse_body(cur: &Cursor<'_>, declared: usize) -> Result<Schedule, ScheduleFileError> {
    let text = cur.utf8(cur.pos, &cur.bytes[cur.pos..])?;
    let mut choices = Vec::new();
    for (offset, token) in tokens(text) {
        let choice = parse_token(token).map_err(|m| cur.error(cur.pos + offset, m))?;
        choices.push(choice);
    }
    if choices.len() != declared {
        let message = format!("body has {} choices, header says {declared}", choices.len());
        return Err(cur.error(cur.bytes.len(), message));
    }
    Ok(Schedule { choices })
}

/// One body token: `<code><value>/<n>` (n ≥ 1) or `<code>=<value>` (raw draw, n = 0).
fn parse_token(token: &str) -> Result<Choice, String> {
    let bad = |why: &str| format!("bad choice {}: {why}", snippet(token));
    let code = token.chars().next().ok_or_else(|| bad("empty"))?;
    let kind = ChoiceKind::from_code(code).ok_or_else(|| bad("unknown kind code"))?;
    let rest = &token[code.len_utf8()..];
    if let Some(value) = rest.strip_prefix('=') {
        let value = digits(value).map_err(|e| bad(&e))?;
        return Ok(Choice { kind, n: 0, value });
    }
    let (value, n) = rest
        .split_once('/')
        .ok_or_else(|| bad("expected <code><value>/<n> or <code>=<value>"))?;
    let n: u32 = digits(n).map_err(|e| bad(&e))?;
    if n == 0 {
        return Err(bad(
            "n must be at least 1 (raw draws are written <code>=<value>)",
        ));
    }
    let value = digits(value).map_err(|e| bad(&e))?;
    Ok(Choice { kind, n, value })
}

/// Whitespace-separated tokens with their byte offsets.
fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        // Splitting at ASCII bytes always lands on char boundaries.
        (start < pos).then(|| (start, &text[start..pos]))
    })
}

/// A plain decimal number: digits only (no sign, no spaces), in range.
fn digits<T: FromStr>(s: &str) -> Result<T, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{} is not a decimal number", snippet(s)));
    }
    s.parse()
        .map_err(|_| format!("{} is out of range", snippet(s)))
}

/// Exactly 16 lowercase hex digits (one spelling per value, so a flipped case bit is caught).
fn hex16(s: &str) -> Result<u64, String> {
    let ok = s.len() == 16 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !ok {
        return Err(format!(
            "expected 16 lowercase hex digits, found {}",
            snippet(s)
        ));
    }
    u64::from_str_radix(s, 16).map_err(|e| e.to_string())
}

/// Untrusted text for error messages: quoted, escaped, cut (see [`crate::quote`]).
fn snippet(s: &str) -> String {
    crate::quote::quoted(s)
}

/// Reads the header line by line, tracking the byte offset for error messages.
struct Cursor<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    // invariant: at the start of a line (0 or just after a '\n').
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// The next line without its `\n`, with its start offset. A line without `\n` means
    /// the file ends inside the header.
    fn line(&mut self) -> Result<(usize, &'a str), ScheduleFileError> {
        let start = self.pos;
        let rest = &self.bytes[start..];
        let end = rest.iter().position(|&b| b == b'\n');
        let line = self.utf8(start, &rest[..end.unwrap_or(rest.len())])?;
        let Some(end) = end else {
            return Err(self.error(
                self.bytes.len(),
                "file ends inside the header (truncated?)".into(),
            ));
        };
        self.pos = start + end + 1;
        Ok((start, line))
    }

    /// The next line as `key: value`, with the value parsed by `parse`.
    fn field<T>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ScheduleFileError> {
        let (start, line) = self.line()?;
        let Some(value) = line.strip_prefix(key).and_then(|r| r.strip_prefix(": ")) else {
            return Err(self.error(
                start,
                format!("expected '{key}: ...', found {}", snippet(line)),
            ));
        };
        parse(value).map_err(|m| self.error(start + key.len() + 2, format!("bad {key}: {m}")))
    }

    /// `bytes` (found at file offset `offset`) as text, or [`ScheduleFileError::NotUtf8`].
    fn utf8(&self, offset: usize, bytes: &'a [u8]) -> Result<&'a str, ScheduleFileError> {
        std::str::from_utf8(bytes).map_err(|e| ScheduleFileError::NotUtf8 {
            path: self.path.to_path_buf(),
            offset: offset + e.valid_up_to(),
        })
    }

    /// A [`ScheduleFileError::Format`] at byte `offset`.
    fn error(&self, offset: usize, message: String) -> ScheduleFileError {
        let line = self.bytes[..offset.min(self.bytes.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ScheduleFileError::Format {
            path: self.path.to_path_buf(),
            offset,
            line,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ScheduleFile {
        let c = |kind, n, value| Choice { kind, n, value };
        ScheduleFile {
            header: ScheduleHeader::new("bank", StrategySpec::Random, Config::default().seed(3)),
            schedule: Schedule {
                choices: vec![c(ChoiceKind::Task, 5, 3), c(ChoiceKind::Rand, 0, u64::MAX)],
            },
        }
    }

    #[test]
    fn tokens_encode_and_parse() {
        assert_eq!(
            encode_body(&sample().schedule),
            format!("t3/5 r={}\n", u64::MAX)
        );
        for bad in [
            "x1/2",
            "t1/0",
            "t/2",
            "t1",
            "t+1/2",
            "t1/99999999999",
            "r=",
            "é1/2",
        ] {
            assert!(parse_token(bad).is_err(), "{bad}");
        }
        let c = parse_token("f0/1").unwrap();
        assert_eq!((c.kind, c.n, c.value), (ChoiceKind::Fault, 1, 0));
    }

    #[test]
    fn body_lines_wrap_at_sixteen_tokens() {
        let mut file = sample();
        file.schedule.choices = vec![
            Choice {
                kind: ChoiceKind::Task,
                n: 2,
                value: 1
            };
            33
        ];
        let text = file.to_text();
        let body = text.split("---\n").nth(1).unwrap();
        let widths: Vec<usize> = body.lines().map(|l| l.split(' ').count()).collect();
        assert_eq!(widths, vec![16, 16, 1]);
        assert_eq!(
            ScheduleFile::parse(Path::new("x"), text.as_bytes()).unwrap(),
            file
        );
    }

    #[test]
    fn non_utf8_body_with_a_valid_checksum_is_not_utf8() {
        // Forge a file whose checksum matches, so the body's UTF-8 check is what fails.
        let text = sample().to_text();
        let mut bytes = text.replace("t3/5", "t\u{ff}/5").into_bytes();
        let bad = bytes.windows(2).position(|w| w == [0xc3, 0xbf]).unwrap();
        bytes[bad] = 0xff;
        let start = text.find("checksum: ").unwrap();
        let end = start + text[start..].find('\n').unwrap() + 1;
        let sum = fnv1a(&[&bytes[..start], &bytes[end..]].concat());
        let line = format!("checksum: {sum:016x}\n");
        bytes.splice(start..end, line.bytes());
        let err = ScheduleFile::parse(Path::new("x"), &bytes).unwrap_err();
        assert!(
            matches!(err, ScheduleFileError::NotUtf8 { offset, .. } if offset == bad),
            "{err}"
        );
    }

    #[test]
    fn fingerprint_is_stable_within_a_process() {
        assert_eq!(program_fingerprint(), program_fingerprint());
        assert!(sample().header.is_from_this_build());
    }
}
