//! Source locations as they appear in traces, failures and fingerprints: the same on every
//! machine and in every checkout.
//!
//! `Location::file()` is whatever path rustc was given: relative (`src/lib.rs`) for a crate
//! of the workspace being built, absolute for any other (a path dependency outside the
//! workspace, `~/.cargo/registry/src/<index>/detsim-0.1.0/src/...`, a git checkout, the
//! standard library under `/rustc/<hash>/`). Spawn sites and panic locations end up in
//! failure messages, which are fingerprinted, so a raw path would make the same seed's
//! fingerprint depend on where the code was checked out.
//!
//! Rules, applied to every path (relative or absolute, `/` or `\` separated), so that a
//! crate gives the same locations as a workspace member and as a dependency:
//! 1. The standard library (`/rustc/<hash>/library/…`, or a rustup toolchain's
//!    `lib/rustlib/src/rust/library/…`) becomes `library/…`.
//! 2. Otherwise the path starts at the *last* directory named `src`, `tests`, `examples` or
//!    `benches` (the crate's own layout; the last one, because a home directory such as
//!    `~/src/` must not count): `/home/me/src/app/src/main.rs` → `src/main.rs`.
//! 3. A path with no such directory keeps only its file name (a crate root `lib.rs`
//!    outside `src/`, a file generated into `OUT_DIR`).
//!
//! What is lost: the crate's name. A `Location` does not carry it, and the directory above
//! `src/` is not a name (`detsim-0.1.0` in the registry, any name in a checkout).

use std::borrow::Cow;
use std::panic::Location;
use std::sync::Arc;

/// Directories that start a crate's own layout.
const CRATE_DIRS: [&str; 4] = ["src", "tests", "examples", "benches"];

/// `file` normalised by the rules above, with `/` separators.
pub fn source_path(file: &str) -> Cow<'_, str> {
    if !file.contains('\\') && is_normal(file) {
        return Cow::Borrowed(file);
    }
    let unified = file.replace('\\', "/");
    let parts: Vec<&str> = unified.split('/').filter(|p| !p.is_empty()).collect();
    let Some((_, dirs)) = parts.split_last() else {
        return Cow::Owned(unified);
    };
    if let Some(i) = std_library(dirs) {
        return Cow::Owned(parts[i..].join("/"));
    }
    let start = dirs
        .iter()
        .rposition(|d| CRATE_DIRS.contains(d))
        .unwrap_or(parts.len() - 1);
    Cow::Owned(parts[start..].join("/"))
}

/// `file:line:column` with the file normalised.
pub(crate) fn fmt_location(l: &Location<'_>) -> String {
    format!("{}:{}:{}", source_path(l.file()), l.line(), l.column())
}

/// Spawn sites already rendered by [`fmt_location`]: a run spawns its tasks from a few
/// sites, often thousands from one, and rendering one (normalising its path, formatting)
/// costs far more than the spawn itself. Keyed by the `Location`'s address, which is fixed
/// for a call site; a miss only costs the rendering, so the cache never changes a result.
#[derive(Clone, Debug, Default)]
pub(crate) struct SiteCache {
    entries: Vec<(&'static Location<'static>, Arc<str>)>,
    /// The entry to replace next once full.
    next: usize,
}

impl SiteCache {
    pub(super) const SIZE: usize = 16;

    /// `fmt_location(site)`, shared with every task spawned at `site` while it is cached.
    pub(crate) fn render(&mut self, site: &'static Location<'static>) -> Arc<str> {
        if let Some((_, s)) = self.entries.iter().find(|(l, _)| std::ptr::eq(*l, site)) {
            return s.clone();
        }
        let s: Arc<str> = fmt_location(site).into();
        if self.entries.len() < Self::SIZE {
            self.entries.push((site, s.clone()));
        } else {
            self.entries[self.next] = (site, s.clone());
            self.next = (self.next + 1) % Self::SIZE;
        }
        s
    }
}

/// True if `file` already is what [`source_path`] returns (the common case, checked
/// without allocating): relative, starting at its only crate directory.
fn is_normal(file: &str) -> bool {
    let mut parts = file.split('/');
    let first = parts.next().unwrap_or_default();
    let mut dirs: Vec<&str> = parts.collect();
    if dirs.pop().is_none() {
        // A bare file name.
        return !first.is_empty() && first != "." && first != "..";
    }
    CRATE_DIRS.contains(&first)
        && !dirs
            .iter()
            .any(|d| CRATE_DIRS.contains(d) || d.is_empty() || *d == "..")
}

/// Index of `library` in a standard-library path, if `dirs` is one.
fn std_library(dirs: &[&str]) -> Option<usize> {
    let lib = dirs.iter().position(|d| *d == "library")?;
    let before = &dirs[..lib];
    let rustc = before.len() == 2 && before[0] == "rustc";
    let rustup = before.ends_with(&["lib", "rustlib", "src", "rust"]);
    (rustc || rustup).then_some(lib)
}

#[cfg(test)]
mod tests {
    use super::source_path;

    #[test]
    fn every_checkout_gives_the_same_path() {
        let cases = [
            ("src/scenarios/mod.rs", "src/scenarios/mod.rs"),
            ("tests/bugs/mod.rs", "tests/bugs/mod.rs"),
            ("/tmp/a/detsim/src/scenarios/mod.rs", "src/scenarios/mod.rs"),
            (
                "/home/u/.cargo/registry/src/index.crates.io-6f17d22bba15001f/detsim-0.1.0/src/runtime/task.rs",
                "src/runtime/task.rs",
            ),
            (
                "/home/u/.cargo/git/checkouts/detsim-3f2a/9c1d2e4/src/lib.rs",
                "src/lib.rs",
            ),
            ("/home/me/src/app/src/main.rs", "src/main.rs"),
            ("/home/me/src/app/tests/it.rs", "tests/it.rs"),
            ("crates/app/examples/demo.rs", "examples/demo.rs"),
            ("../shared/src/lib.rs", "src/lib.rs"),
            ("C:\\Users\\me\\app\\src\\main.rs", "src/main.rs"),
            ("/w/target/release/build/app-1f/out/gen.rs", "gen.rs"),
            ("lib.rs", "lib.rs"),
            (
                "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/option.rs",
                "library/core/src/option.rs",
            ),
            (
                "/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/src/rust/library/std/src/thread/mod.rs",
                "library/std/src/thread/mod.rs",
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(source_path(raw), expected, "{raw}");
            if !expected.starts_with("library/") {
                assert_eq!(source_path(expected), expected, "idempotent: {expected}");
            }
        }
    }

    #[test]
    fn cached_sites_render_as_fresh_ones() {
        use super::{fmt_location, SiteCache};
        use std::panic::Location;
        let here: &'static Location<'static> = Location::caller();
        // More distinct sites than the cache holds (each call has its own column).
        let sites: [&'static Location<'static>; 20] = [
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
            Location::caller(),
        ];
        let mut cache = SiteCache::default();
        for round in 0..3 {
            for site in std::iter::once(&here)
                .chain(&sites)
                .chain(sites.iter().rev())
            {
                assert_eq!(*cache.render(site), *fmt_location(site), "round {round}");
            }
        }
        assert_eq!(cache.entries.len(), SiteCache::SIZE);
    }
}
