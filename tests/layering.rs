//! The layering of `src/`, checked: data flows `cli → explore → runtime → choice/trace`
//! and nowhere else (see ARCHITECTURE.md).
//!
//! The test reads every `.rs` file under `src/`, drops comments, and resolves each path
//! that starts with `crate::` or `super::` (including grouped imports like
//! `crate::{a, b::c}` and names re-exported at the crate root by `lib.rs`) to the
//! top-level module it reaches. Then it checks the rules below, naming file and line of
//! every violation. It is a text scan, not a compiler pass, so it can be fooled on
//! purpose (a macro building a path); it is there to catch the accidental import.
//!
//! Rules:
//! 1. Nothing below `explore/` imports `explore`, `cli`, `harness` or scenarios; this
//!    includes the failure store (`store/`) and the strategy token (`spec.rs`), which
//!    exploration saves through and the user API re-exports.
//! 2. `trace/`, `choice.rs`, `strategy.rs`, `sync/` and the leaf modules import nothing
//!    from `runtime` (`trace/` re-exports the tracing layer, which lives above the
//!    runtime, only to keep its public path `detsim::trace::layer`).
//! 3. `time/`, `rand.rs`, the tracing layer and `world/` reach the runtime only through
//!    `runtime::context`, and never name `Core`.
//! 4. `explore/` imports nothing from `harness` (the user API, which calls exploration)
//!    or `cli`: it saves failures through `store::FailureSink`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Modules that sit above the runtime (rule 1 forbids them below it).
const UPPER: &[&str] = &["explore", "cli", "harness", "scenario", "scenarios"];

/// Top-level modules below `explore/` (rule 1 applies to them).
const BELOW_EXPLORE: &[&str] = &[
    "runtime",
    "time",
    "trace",
    "sync",
    "choice",
    "strategy",
    "rand",
    "tracing_layer",
    "hash",
    "config",
    "task_id",
    "seed",
    "task",
    "world",
    "guards",
    "store",
    "spec",
];

/// Top-level modules that must not import the runtime (rule 2).
const BELOW_RUNTIME: &[&str] = &[
    "trace", "choice", "strategy", "sync", "hash", "config", "task_id", "seed", "spec",
];

/// What `explore/` must not import (rule 4).
const ABOVE_EXPLORE: &[&str] = &["harness", "cli"];
/// Top-level modules that may use the runtime only through its interface (rule 3).
const INTERFACE_USERS: &[&str] = &["time", "rand", "tracing_layer", "world"];

#[derive(Debug)]
struct Reference {
    line: usize,
    /// The path as written after `crate::`, resolved from `super::` (e.g. `runtime::context`).
    path: String,
}

#[derive(Debug, PartialEq)]
struct Violation {
    file: String,
    line: usize,
    what: String,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `runtime/step.rs` → `["runtime", "step"]`.
fn module_of(rel: &str) -> Vec<String> {
    let rel = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The source with comments (line, doc and block) and string literals blanked out,
/// keeping line breaks so line numbers stay right.
fn strip(source: &str) -> String {
    let b = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &source[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(b.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(b.len(), |n| i + n + 2);
            out.extend(source[i..end].chars().filter(|&c| c == '\n'));
            i = end;
        } else if b[i] == b'"' && !source[..i].ends_with('\'') {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.extend(source[i..j.min(b.len())].chars().filter(|&c| c == '\n'));
            out.push_str("\"\"");
            i = j + 1;
        } else {
            let c = rest.chars().next().expect("in bounds");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Paths (`a::b::c`, `a::{b, c::d}`) starting at `s`, flattened to their prefixes.
fn paths_at(s: &str) -> Vec<String> {
    let s = s.trim_start();
    if let Some(inner) = s.strip_prefix('{') {
        let mut depth = 1;
        let end = inner
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map_or(inner.len(), |(i, _)| i);
        let mut items = Vec::new();
        let (mut level, mut start) = (0, 0);
        for (i, c) in inner[..end].char_indices() {
            match c {
                '{' => level += 1,
                '}' => level -= 1,
                ',' if level == 0 => {
                    items.push(&inner[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&inner[start..end]);
        return items
            .into_iter()
            .filter(|i| !i.trim().is_empty())
            .flat_map(paths_at)
            .collect();
    }
    let ident: String = s.chars().take_while(|&c| is_ident(c)).collect();
    if ident.is_empty() {
        return Vec::new();
    }
    let rest = &s[ident.len()..];
    match rest.trim_start().strip_prefix("::") {
        Some(more) => {
            let tails = paths_at(more);
            if tails.is_empty() {
                vec![ident]
            } else {
                tails.into_iter().map(|t| format!("{ident}::{t}")).collect()
            }
        }
        None => vec![ident],
    }
}

/// Every `crate::` / `super::` path in `source` (already stripped), resolved to a path
/// from the crate root.
fn references(module: &[String], source: &str) -> Vec<Reference> {
    let mut refs = Vec::new();
    for (n, line) in source.lines().enumerate() {
        for (at, _) in line
            .match_indices("crate::")
            .chain(line.match_indices("super::"))
        {
            if line[..at].chars().next_back().is_some_and(is_ident) {
                continue; // `pub(crate)`-like or part of a longer name
            }
            let (mut base, mut rest): (Vec<String>, &str) = (module.to_vec(), &line[at..]);
            if let Some(r) = rest.strip_prefix("crate::") {
                base.clear();
                rest = r;
            } else {
                while let Some(r) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = r;
                }
            }
            // Paths continue on the next lines in multi-line `use` groups.
            let following: String = source
                .lines()
                .skip(n)
                .take(40)
                .collect::<Vec<_>>()
                .join(" ");
            let offset = following.find(rest).unwrap_or(0);
            for p in paths_at(&following[offset..]) {
                let full = base
                    .iter()
                    .cloned()
                    .chain([p])
                    .collect::<Vec<_>>()
                    .join("::");
                refs.push(Reference {
                    line: n + 1,
                    path: full,
                });
            }
        }
    }
    refs
}

/// Names re-exported at the crate root: `Sim` → `runtime`, `check` → `harness`, …
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let stripped = strip(lib);
    for (at, _) in stripped.match_indices("pub use ") {
        for p in paths_at(&stripped[at + "pub use ".len()..]) {
            let mut parts = p.split("::");
            let (Some(module), Some(last)) = (parts.next(), p.rsplit("::").next()) else {
                continue;
            };
            if module != last {
                map.insert(last.to_string(), module.to_string());
            }
        }
    }
    map
}

/// The top-level module a resolved path reaches.
fn top_module(path: &str, reexports: &BTreeMap<String, String>) -> String {
    let first = path.split("::").next().unwrap_or_default();
    reexports
        .get(first)
        .cloned()
        .unwrap_or_else(|| first.to_string())
}

fn check_file(rel: &str, source: &str, reexports: &BTreeMap<String, String>) -> Vec<Violation> {
    let module = module_of(rel);
    let Some(top) = module.first().cloned() else {
        return Vec::new(); // lib.rs / main.rs wire everything together
    };
    let stripped = strip(source);
    let mut found = Vec::new();
    let mut flag = |line: usize, what: String| {
        found.push(Violation {
            file: rel.to_string(),
            line,
            what,
        })
    };
    for r in references(&module, &stripped) {
        let target = top_module(&r.path, reexports);
        if target == top {
            continue;
        }
        if BELOW_EXPLORE.contains(&top.as_str()) && UPPER.contains(&target.as_str()) {
            flag(
                r.line,
                format!("`{top}` is below explore but uses `{}`", r.path),
            );
        }
        if BELOW_RUNTIME.contains(&top.as_str()) && target == "runtime" {
            flag(
                r.line,
                format!("`{top}` is below the runtime but uses `{}`", r.path),
            );
        }
        if top == "explore" && ABOVE_EXPLORE.contains(&target.as_str()) {
            flag(
                r.line,
                format!("`explore` is below harness and cli but uses `{}`", r.path),
            );
        }
        let via_interface = r.path.starts_with("runtime::context");
        if INTERFACE_USERS.contains(&top.as_str()) && target == "runtime" && !via_interface {
            flag(
                r.line,
                format!("`{top}` must use only runtime::context, not `{}`", r.path),
            );
        }
    }
    if INTERFACE_USERS.contains(&top.as_str()) {
        for (n, line) in stripped.lines().enumerate() {
            let named = line.match_indices("Core").any(|(i, _)| {
                let before = line[..i].chars().next_back();
                let after = line[i + 4..].chars().next();
                !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
            });
            if named {
                flag(n + 1, format!("`{top}` names the runtime's `Core`"));
            }
        }
    }
    found
}

#[test]
fn src_follows_the_layering_rules() {
    let src = src_dir();
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let reexports = root_reexports(&lib);
    assert_eq!(reexports.get("Sim").map(String::as_str), Some("runtime"));
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 50, "found the sources: {}", files.len());
    let mut violations = Vec::new();
    let mut checked_refs = 0;
    for path in &files {
        let rel = path
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let source = std::fs::read_to_string(path).expect("readable source");
        checked_refs += references(&module_of(&rel), &strip(&source)).len();
        violations.extend(check_file(&rel, &source, &reexports));
    }
    assert!(checked_refs > 200, "the scan sees paths: {checked_refs}");
    let report: Vec<String> = violations
        .iter()
        .map(|v| format!("src/{}:{}: {}", v.file, v.line, v.what))
        .collect();
    assert!(
        report.is_empty(),
        "layering violations:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_checker_catches_each_kind_of_violation() {
    let lib = "pub use runtime::{spawn, Sim};\npub use harness::{check, Check};\n";
    let re = root_reexports(lib);
    let bad = |rel: &str, src: &str| -> Vec<String> {
        check_file(rel, src, &re)
            .into_iter()
            .map(|v| format!("{}:{}", v.line, v.what))
            .collect()
    };
    // Rule 1, direct, grouped over lines, through `super::`, and via a root re-export.
    assert_eq!(
        bad("runtime/step.rs", "use crate::explore::Candidates;").len(),
        1
    );
    assert_eq!(
        bad(
            "runtime/step.rs",
            "use crate::{\n    choice::Chooser,\n    explore::Random,\n};"
        )
        .len(),
        1
    );
    assert_eq!(bad("choice.rs", "fn f() { crate::check(); }").len(), 1);
    assert_eq!(
        bad("time/sleep.rs", "use super::super::explore::Pct;").len(),
        1
    );
    // Rule 2.
    assert_eq!(
        bad("trace/text.rs", "use crate::runtime::context;").len(),
        1
    );
    assert_eq!(
        bad("strategy.rs", "fn f() -> crate::Sim { todo!() }").len(),
        1
    );
    // Rule 3: only the interface, and never `Core`.
    assert_eq!(
        bad(
            "time/sleep.rs",
            "use crate::runtime::context::{self, TimerKey};"
        ),
        Vec::<String>::new()
    );
    assert_eq!(bad("rand.rs", "use crate::runtime::core::Core;").len(), 2);
    assert_eq!(bad("world/net.rs", "fn f(c: &Core) {}").len(), 1);
    // Rule 1 for the store and the strategy token; rule 4: explore saves through the
    // store, never through harness or cli.
    assert_eq!(
        bad("store/seeds.rs", "use crate::explore::StrategySpec;").len(),
        1
    );
    assert_eq!(bad("store/sink.rs", "fn f() { crate::check(); }").len(), 1);
    assert_eq!(bad("spec.rs", "use crate::runtime::Sim;").len(), 1);
    assert_eq!(
        bad(
            "explore/campaign/ledger.rs",
            "use crate::harness::seeds::{self, SeedCase};"
        )
        .len(),
        2
    );
    assert_eq!(bad("explore/found.rs", "use crate::cli::args;").len(), 1);
    assert_eq!(bad("explore/pool.rs", "use crate::Check;").len(), 1);
    assert_eq!(
        bad(
            "explore/campaign/ledger.rs",
            "use crate::store::{FailureSink, SeedCase};\nuse crate::spec::StrategySpec;"
        ),
        Vec::<String>::new()
    );
    // Comments, strings and `pub(crate)` are not paths; upper layers may use anything.
    let fine = "// use crate::explore::X;\n/// [`crate::explore::Pct`]\npub(crate) fn f() { let _ = \"crate::explore\"; }";
    assert_eq!(bad("runtime/core.rs", fine), Vec::<String>::new());
    assert_eq!(
        bad("explore/pct.rs", "use crate::runtime::context;"),
        Vec::<String>::new()
    );
    assert_eq!(
        bad("runtime/task.rs", "use super::core::Core;"),
        Vec::<String>::new()
    );
}
