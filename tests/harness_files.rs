//! Seeds files and schedule files: round trips, damage detection, atomic appends.

use detsim::explore::StrategySpec;
use detsim::harness::{
    append_case, program_fingerprint, scenario_seeds_path, ScheduleFile, ScheduleFileError,
    ScheduleHeader, SeedCase, SeedsError, SeedsFile,
};
use detsim::{Choice, ChoiceKind, Config, Schedule};
use std::path::Path;
use std::sync::Arc;

/// A fixed-seed PRNG (SplitMix64) so the fuzz tests are reproducible.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// FNV-1a, as the file format specifies; lets tests forge files whose checksum matches.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Recomputes the checksum line of an edited schedule file.
fn reseal_bytes(bytes: &[u8]) -> Vec<u8> {
    let key = b"checksum: ";
    let Some(start) = bytes.windows(key.len()).position(|w| w == key) else {
        return bytes.to_vec();
    };
    let end = bytes[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |e| start + e + 1);
    let sum = fnv1a(&[&bytes[..start], &bytes[end..]].concat());
    let line = format!("checksum: {sum:016x}\n");
    [&bytes[..start], line.as_bytes(), &bytes[end..]].concat()
}

fn reseal(text: &str) -> String {
    String::from_utf8(reseal_bytes(text.as_bytes())).unwrap()
}

const SEEDS_SAMPLE: &str = "\
# detsim seeds v1 — scenario bank (replayed first by every `detsim fuzz bank`)
seed=17 strategy=random workers=4  # panic at src/scenarios/bank.rs:40:9: lost update

# a hand-written note between cases
seed=1203 strategy=pct:3:160 workers=2
seed=0x10 x-found-by=ci-42 x-shard=3/8#deadlock: all tasks blocked
   seed=5\tworkers=1   strategy=dfs:2
";

// ---------------------------------------------------------------- seeds files

#[test]
fn seeds_parse_print_parse_round_trips() {
    let path = Path::new("seeds/bank.seeds");
    let file = SeedsFile::parse(path, SEEDS_SAMPLE).unwrap();
    assert_eq!(file.cases.len(), 4);
    let third = &file.cases[2];
    assert_eq!((third.seed, third.workers), (16, 4));
    assert_eq!(third.strategy, StrategySpec::Random);
    assert_eq!(
        third.summary.as_deref(),
        Some("deadlock: all tasks blocked")
    );
    let extra = [("x-found-by", "ci-42"), ("x-shard", "3/8")].map(|(k, v)| (k.into(), v.into()));
    assert_eq!(third.extra, extra.to_vec());
    assert_eq!(
        third.to_string(),
        "seed=16 strategy=random workers=4 x-found-by=ci-42 x-shard=3/8  # deadlock: all tasks blocked"
    );

    let text = file.to_text();
    assert!(
        text.starts_with("# detsim seeds v1 — scenario bank "),
        "{text}"
    );
    let again = SeedsFile::parse(path, &text).unwrap();
    assert_eq!(again, file);
    assert_eq!(again.to_text(), text, "printing is canonical");
    for case in &file.cases {
        let line = SeedsFile::parse(path, &case.to_string()).unwrap();
        assert_eq!(line.cases, vec![case.clone()]);
    }
}

#[test]
fn seeds_malformed_line_names_file_and_line() {
    let text = "# header\nseed=1\nseed=x1 workers=2\n";
    let err = SeedsFile::parse(Path::new("seeds/bank.seeds"), text).unwrap_err();
    assert!(matches!(err, SeedsError::Parse { line: 3, .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.starts_with("seeds/bank.seeds:3: bad seed 'x1': invalid digit"),
        "{shown}"
    );

    for (line, expected) in [
        (
            "seed=1 workers",
            "seeds/x.seeds:1: expected key=value, found 'workers'",
        ),
        ("seed=1 seed=1", "seeds/x.seeds:1: duplicate key 'seed'"),
        (
            "seed=1 strategy=pct:x",
            "seeds/x.seeds:1: invalid strategy 'pct:x'",
        ),
        ("seed=1 workers=-2", "seeds/x.seeds:1: bad workers '-2'"),
        ("seed=99999999999999999999", "seeds/x.seeds:1: bad seed"),
    ] {
        let err = SeedsFile::parse(Path::new("seeds/x.seeds"), line).unwrap_err();
        assert!(err.to_string().starts_with(expected), "{err}");
    }
}

#[test]
fn seeds_non_utf8_names_line_and_byte() {
    let bytes = b"seed=1\nseed=2 # caf\xe9\n";
    let err = SeedsFile::from_bytes(Path::new("s.seeds"), bytes).unwrap_err();
    assert!(
        matches!(
            err,
            SeedsError::NotUtf8 {
                line: 2,
                offset: 19,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "s.seeds:2: not valid UTF-8 (byte 19)");
}

#[test]
fn seeds_missing_file_is_an_empty_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let file = SeedsFile::load(dir.path().join("nope.seeds")).unwrap();
    assert!(file.cases.is_empty());
    let err = SeedsFile::load(dir.path()).unwrap_err(); // a directory cannot be read
    assert!(matches!(err, SeedsError::Io { .. }), "{err:?}");
}

/// Fragments that make random lines look like seeds lines often enough to reach deep.
const FRAGMENTS: &[&[u8]] = &[
    b"seed=",
    b"strategy=",
    b"workers=",
    b"pct:",
    b"dfs:",
    b"random",
    b"0x",
    b"1",
    b"7",
    b"18446744073709551616",
    b"=",
    b"#",
    b" ",
    b"\t",
    b"\n",
    b"\r\n",
    b"k=v",
    b"\xff",
    b"\xc3",
    b"\xe2\x80\x94",
    b"\x00",
    b"\x0b",
    b"# detsim seeds v",
    b":",
    b"-",
];

#[test]
fn seeds_parser_never_panics_and_what_parses_reprints() {
    let mut rng = SplitMix(0x5eed_5eed);
    let check = |bytes: &[u8]| {
        if let Ok(file) = SeedsFile::from_bytes(Path::new("f.seeds"), bytes) {
            for case in &file.cases {
                let again = SeedsFile::parse(Path::new("f.seeds"), &case.to_string()).unwrap();
                assert_eq!(again.cases, vec![case.clone()], "{bytes:?}");
            }
        }
    };
    for _ in 0..3000 {
        let mut input = Vec::new();
        for _ in 0..rng.below(30) {
            match rng.below(4) {
                0 => input.push(rng.next() as u8),
                _ => input.extend_from_slice(FRAGMENTS[rng.below(FRAGMENTS.len())]),
            }
        }
        check(&input);
    }
    let sample = SEEDS_SAMPLE.as_bytes();
    for cut in 0..=sample.len() {
        check(&sample[..cut]);
    }
}

#[test]
fn append_case_twice_writes_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_seeds_path(dir.path(), "bank");
    assert_eq!(path, dir.path().join("bank.seeds"));
    let case = SeedCase::new(17, StrategySpec::Random, 4).with_summary("lost update");
    assert!(append_case(&path, &case).unwrap());
    let other_summary = case.clone().with_summary("found again, differently worded");
    assert!(!append_case(&path, &other_summary).unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("seed=17").count(), 1, "{text}");
    assert_eq!(SeedsFile::load(&path).unwrap().cases, vec![case]);
}

#[test]
fn append_case_creates_the_directory_and_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_seeds_path(&dir.path().join("nested/seeds"), "bank");
    let case = SeedCase::new(1203, "pct:3:160".parse().unwrap(), 2);
    assert!(append_case(&path, &case).unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        // A test binary's files are replayed by `cargo test` (a CLI's name its `fuzz`).
        "# detsim seeds v1 — scenario bank (replayed first by every `cargo test`)\n\
         seed=1203 strategy=pct:3:160 workers=2\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temp file is left behind");
}

#[test]
fn append_case_keeps_hand_edits_and_refuses_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bank.seeds");
    std::fs::write(&path, "# mine\nseed=1  # note").unwrap(); // no final newline
    assert!(append_case(&path, &SeedCase::new(2, StrategySpec::Random, 4)).unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "# mine\nseed=1  # note\nseed=2 strategy=random workers=4\n"
    );

    std::fs::write(&path, "seed=1\nbogus\n").unwrap();
    let err = append_case(&path, &SeedCase::new(3, StrategySpec::Random, 4)).unwrap_err();
    assert!(matches!(err, SeedsError::Parse { line: 2, .. }), "{err:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "seed=1\nbogus\n");

    // A case whose line would not parse back is refused, not written.
    let mut weird = SeedCase::new(4, StrategySpec::Random, 4);
    weird.extra.push(("seed".into(), "5".into()));
    std::fs::write(&path, "").unwrap();
    assert!(append_case(&path, &weird).is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
}

#[test]
fn concurrent_appends_keep_every_case() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("race.seeds"));
    let shared = SeedCase::new(999, StrategySpec::Random, 4);
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (path, shared) = (path.clone(), shared.clone());
            std::thread::spawn(move || {
                let mut wrote_shared = 0;
                for i in 0..10 {
                    let case = SeedCase::new(t * 100 + i, StrategySpec::Random, 1 + t as usize);
                    assert!(append_case(&*path, &case).unwrap());
                    wrote_shared += append_case(&*path, &shared).unwrap() as usize;
                }
                wrote_shared
            })
        })
        .collect();
    let wrote_shared: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(wrote_shared, 1, "exactly one thread wrote the shared case");
    let file = SeedsFile::load(&*path).unwrap();
    assert_eq!(file.cases.len(), 41);
    for t in 0..4u64 {
        for i in 0..10 {
            assert!(file.contains(&SeedCase::new(
                t * 100 + i,
                StrategySpec::Random,
                1 + t as usize
            )));
        }
    }
}

// ---------------------------------------------------------------- schedule files

fn sample_schedule(len: usize) -> ScheduleFile {
    let mut rng = SplitMix(17);
    let kinds = [
        ChoiceKind::Task,
        ChoiceKind::Worker,
        ChoiceKind::Timer,
        ChoiceKind::Fault,
    ];
    let choices = (0..len)
        .map(|i| match i % 7 {
            6 => Choice {
                kind: ChoiceKind::Rand,
                n: 0,
                value: rng.next(),
            },
            _ => {
                let n = 2 + rng.below(9) as u32;
                let value = rng.below(n as usize) as u64;
                Choice {
                    kind: kinds[rng.below(kinds.len())],
                    n,
                    value,
                }
            }
        })
        .collect();
    ScheduleFile {
        header: ScheduleHeader::new(
            "bank",
            "pct:3:160".parse().unwrap(),
            Config::default().seed(17).workers(4),
        ),
        schedule: Schedule { choices },
    }
}

#[test]
fn schedule_parse_print_parse_round_trips() {
    let path = Path::new("bank.schedule");
    for len in [0, 1, 15, 16, 17, 100] {
        let file = sample_schedule(len);
        let text = file.to_text();
        let parsed = ScheduleFile::parse(path, text.as_bytes()).unwrap();
        assert_eq!(parsed, file);
        assert_eq!(parsed.to_text(), text);
    }
    let text = sample_schedule(20).to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "detsim-schedule v1");
    assert_eq!(lines[1], "scenario: bank");
    assert_eq!(lines[2], "strategy: pct:3:160");
    assert!(
        lines[3].starts_with("config: {\"seed\":17,\"workers\":4,"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], format!("program: {:016x}", program_fingerprint()));
    assert_eq!(lines[5], "choices: 20");
    assert!(lines[6].starts_with("checksum: ") && lines[6].len() == 26);
    assert_eq!(lines[7], "---");
    assert_eq!(lines[8].split(' ').count(), 16);
    assert!(
        lines[8].split(' ').nth(6).unwrap().starts_with("r="),
        "{}",
        lines[8]
    );
}

#[test]
fn schedule_save_and_load_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/bank.schedule");
    let file = sample_schedule(40);
    file.save(&path).unwrap();
    file.save(&path).unwrap(); // replacing an existing file
    assert_eq!(ScheduleFile::load(&path).unwrap(), file);
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );
    let err = ScheduleFile::load(dir.path().join("missing.schedule")).unwrap_err();
    assert!(matches!(err, ScheduleFileError::Io { .. }), "{err:?}");
}

/// Byte offset where the body starts (just after the `---` line).
fn body_start(text: &str) -> usize {
    text.find("\n---\n").unwrap() + 5
}

#[test]
fn schedule_every_truncation_is_an_error() {
    let text = sample_schedule(60).to_text();
    let bytes = text.as_bytes();
    let body = body_start(&text);
    for cut in 0..bytes.len() {
        let err = ScheduleFile::parse(Path::new("t.schedule"), &bytes[..cut]).unwrap_err();
        match err {
            // Inside the header the structure is incomplete ...
            ScheduleFileError::Format { offset, .. } if cut < body => {
                assert!(offset <= cut, "cut {cut}: offset {offset}")
            }
            // ... and after it the body no longer matches the checksum.
            ScheduleFileError::Checksum { .. } if cut >= body => {}
            other => panic!("cut at {cut}: unexpected {other:?}"),
        }
    }
}

#[test]
fn schedule_every_bit_flip_is_an_error() {
    // Flips are checked in the whole file, header and body (more than its first 300 bytes).
    let text = sample_schedule(60).to_text();
    assert!(text.len() > 300);
    let body = body_start(&text);
    let checksum_value = text.find("checksum: ").unwrap() + "checksum: ".len();
    let line_of = |i: usize| text[..i].matches('\n').count() + 1;
    for i in 0..text.len() {
        for bit in 0..8 {
            let mut bytes = text.clone().into_bytes();
            bytes[i] ^= 1 << bit;
            let err = match ScheduleFile::parse(Path::new("f.schedule"), &bytes) {
                Ok(_) => panic!("flip of bit {bit} at byte {i} went unnoticed"),
                Err(err) => err,
            };
            let ok = match &err {
                // The body is checked by the checksum before it is decoded.
                ScheduleFileError::Checksum { .. } => true,
                _ if i >= body => false,
                ScheduleFileError::NotUtf8 { offset, .. } => *offset == i,
                ScheduleFileError::Version { .. } => i <= "detsim-schedule v1".len(),
                // A flipped '\n' joins two lines; the error is on the first or second.
                ScheduleFileError::Format { line, offset, .. } => {
                    (*line == line_of(i) || *line == line_of(i) + 1)
                        && (i < checksum_value
                            || i >= checksum_value + 16
                            || *offset == checksum_value)
                }
                ScheduleFileError::Io { .. } => false,
            };
            assert!(ok, "flip of bit {bit} at byte {i}: {err:?}");
        }
    }
}

#[test]
fn schedule_non_utf8_is_reported_with_its_offset() {
    let text = sample_schedule(5).to_text();
    let mut bytes = text.clone().into_bytes();
    let at = text.find("bank").unwrap() + 1;
    bytes[at] = 0xff;
    let err = ScheduleFile::parse(Path::new("u.schedule"), &bytes).unwrap_err();
    assert!(
        matches!(err, ScheduleFileError::NotUtf8 { offset, .. } if offset == at),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("u.schedule: not valid UTF-8 at byte {at}")
    );
}

#[test]
fn schedule_empty_foreign_and_future_files_are_typed_errors() {
    let parse = |bytes: &[u8]| ScheduleFile::parse(Path::new("x.schedule"), bytes).unwrap_err();
    let err = parse(b"");
    assert!(
        matches!(
            err,
            ScheduleFileError::Format {
                offset: 0,
                line: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("x.schedule:1 (byte 0): empty file"),
        "{err}"
    );

    let err = parse(b"\x89PNG\r\n\x1a\n");
    assert!(err.to_string().contains("not a schedule file"), "{err}");

    let future = sample_schedule(3).to_text().replacen("v1", "v2", 1);
    let err = parse(future.as_bytes());
    assert!(
        matches!(&err, ScheduleFileError::Version { found, .. } if found == "v2"),
        "{err:?}"
    );
}

#[test]
fn schedule_fields_that_do_not_parse_name_line_and_offset() {
    let text = sample_schedule(20).to_text();
    let parse = |t: &str| ScheduleFile::parse(Path::new("x.schedule"), t.as_bytes()).unwrap_err();

    let err = parse(&reseal(
        &text.replace("strategy: pct:3:160", "strategy: pct:0"),
    ));
    let at = text.find("pct:3").unwrap();
    assert!(
        err.to_string().starts_with(&format!(
            "x.schedule:3 (byte {at}): bad strategy: invalid strategy 'pct:0'"
        )),
        "{err}"
    );

    // The count is compared, never used to allocate.
    let huge = text.replace("choices: 20\n", &format!("choices: {}\n", usize::MAX));
    let err = parse(&reseal(&huge));
    assert!(
        err.to_string()
            .contains(&format!("body has 20 choices, header says {}", usize::MAX)),
        "{err}"
    );

    let bad_token = reseal(&text.replacen("\n---\n", "\n---\nq1/2 ", 1));
    let err = parse(&bad_token);
    let at = bad_token.find("q1/2").unwrap();
    assert!(
        matches!(err, ScheduleFileError::Format { offset, line: 9, .. } if offset == at),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("bad choice 'q1/2': unknown kind code"),
        "{err}"
    );

    // An edited header without a new checksum is caught by the checksum.
    let err = parse(&text.replace("choices: 20", "choices: 21"));
    assert!(matches!(err, ScheduleFileError::Checksum { .. }), "{err:?}");
}

/// Bytes that edits insert: body syntax, kind codes, and one that is never UTF-8.
const EDIT_BYTES: &[u8] = b" \n=/0123456789twmrfx\xff";

#[test]
fn schedule_parser_never_panics_on_edited_files() {
    // Random edits, half of them resealed so that they reach the body decoder.
    let text = sample_schedule(40).to_text().into_bytes();
    let mut rng = SplitMix(0xface);
    let mut reached_body = 0;
    for round in 0..3000 {
        let mut bytes = text.clone();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(6) {
                0 => bytes.truncate(at),
                1 | 2 if at < bytes.len() => bytes[at] = rng.next() as u8,
                _ => bytes.insert(at, EDIT_BYTES[rng.below(EDIT_BYTES.len())]),
            }
        }
        if round % 2 == 0 {
            bytes = reseal_bytes(&bytes);
        }
        match ScheduleFile::parse(Path::new("e.schedule"), &bytes) {
            Ok(file) => {
                let again = ScheduleFile::parse(Path::new("e.schedule"), file.to_text().as_bytes());
                assert_eq!(again.unwrap(), file);
                reached_body += 1;
            }
            Err(ScheduleFileError::Format { message, .. })
                if message.starts_with("bad choice") || message.starts_with("body has") =>
            {
                reached_body += 1
            }
            Err(_) => {}
        }
    }
    assert!(
        reached_body > 300,
        "only {reached_body} edits reached the body decoder"
    );
    for _ in 0..500 {
        let noise: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
        assert!(ScheduleFile::parse(Path::new("n.schedule"), &noise).is_err());
    }
}

#[test]
fn schedule_header_knows_its_build() {
    let file = sample_schedule(1);
    assert_eq!(file.header.program, program_fingerprint());
    assert!(file.header.is_from_this_build());
    let mut other = file.header.clone();
    other.program ^= 1;
    assert!(!other.is_from_this_build());
}
