//! Your own scenarios on the `detsim` command line.
//!
//! A crate that uses detsim registers its scenarios with [`detsim::cli::main`] in a binary
//! (or, as here, an example) and gets the whole command line: `list`, `run`, `fuzz`,
//! `replay`, `shrink` and `check-determinism`, with the same flags, files and exit codes as
//! the `detsim` binary.
//!
//! ```text
//! cargo run --release --example user_cli -- list
//! cargo run --release --example user_cli -- fuzz my-cache          # exit 1: finds the stale read
//! cargo run --release --example user_cli -- fuzz my-cache-fixed    # exit 0
//! cargo run --release --example user_cli -- replay my-cache --seed N --trace text
//! cargo run --release --example user_cli -- shrink my-cache --seed N --out stale.schedule
//! ```
//!
//! `fuzz` keeps failing seeds in `seeds/my-cache.seeds` (relative to the working directory;
//! `--seeds-dir DIR` puts them elsewhere) and prints, for each failure, the exact command
//! that replays it.
//!
//! The scenario: a read-through cache in front of a slow database. A reader that misses
//! the cache asks the database, and fills the cache with the answer when it arrives. A
//! writer updates the database, then invalidates the cache entry.
//!
//! The bug: if the write and its invalidation land while a reader's answer is still in
//! flight, the reader then fills the cache with the value from *before* the write. Nothing
//! invalidates it again, so the cache serves a stale value for good. The fix (`-fixed`): the
//! cache keeps a generation number that every invalidation bumps; a reader fills the cache
//! only if the generation is still the one it saw when it missed.

use detsim::time::sleep;
use detsim::Scenario;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

/// A key-value store with network latency on every request and response.
struct Database {
    value: Cell<u64>,
}

impl Database {
    async fn latency() {
        sleep(Duration::from_micros(detsim::rand::gen_range(50..500))).await;
    }

    async fn read(&self) -> u64 {
        Self::latency().await; // request
        let value = self.value.get();
        Self::latency().await; // response in flight
        value
    }

    async fn write(&self, value: u64) {
        Self::latency().await;
        self.value.set(value);
        Self::latency().await; // acknowledgement
    }
}

/// A read-through cache of one entry in front of [`Database`].
struct Cache {
    db: Database,
    entry: RefCell<Option<u64>>,
    generation: Cell<u64>,
    /// Check the generation before filling (the fix).
    fixed: bool,
}

impl Cache {
    async fn get(&self) -> u64 {
        if let Some(value) = *self.entry.borrow() {
            return value;
        }
        let seen = self.generation.get();
        let value = self.db.read().await;
        if !self.fixed || self.generation.get() == seen {
            *self.entry.borrow_mut() = Some(value);
        }
        value
    }

    async fn put(&self, value: u64) {
        self.db.write(value).await;
        self.generation.set(self.generation.get() + 1);
        *self.entry.borrow_mut() = None;
    }
}

async fn cache_scenario(fixed: bool) {
    let cache = Rc::new(Cache {
        db: Database {
            value: Cell::new(0),
        },
        entry: RefCell::new(None),
        generation: Cell::new(0),
        fixed,
    });
    let mut tasks = Vec::new();
    for r in 0..2 {
        let cache = cache.clone();
        tasks.push(detsim::task::spawn_named(
            format!("reader-{r}"),
            async move {
                for _ in 0..3 {
                    cache.get().await;
                    sleep(Duration::from_micros(detsim::rand::gen_range(0..800))).await;
                }
            },
        ));
    }
    let writer = cache.clone();
    tasks.push(detsim::task::spawn_named("writer", async move {
        for version in 1..=3 {
            sleep(Duration::from_micros(detsim::rand::gen_range(0..1_000))).await;
            writer.put(version).await;
        }
    }));
    for t in tasks {
        t.await.expect("cache tasks do not panic");
    }
    // Every write has been acknowledged: a read must now see the last one.
    let served = cache.get().await;
    let stored = cache.db.value.get();
    assert_eq!(
        served, stored,
        "stale read: the cache serves version {served} after version {stored} was written"
    );
}

fn main() -> std::process::ExitCode {
    detsim::cli::main(vec![
        Scenario::new(
            "my-cache",
            "read-through cache; a fill that races an invalidation keeps a stale value",
            || cache_scenario(false),
        ),
        Scenario::new(
            "my-cache-fixed",
            "the same cache; fills are dropped if an invalidation happened meanwhile",
            || cache_scenario(true),
        ),
    ])
}
