//! Measures how fast each strategy finds each bug of the catalogue (`tests/bugs/mod.rs`)
//! and prints the Markdown tables of `docs/bug-finding.md`.
//!
//! ```text
//! cargo run --release --example bug_table
//! ```
//!
//! Table 1, per buggy program: schedules to the first failure (the failing run included),
//! for Swarm (the default), Random, PCT depth 2 and PCT depth 3 the median over 20
//! campaigns started at seeds `k · 1,000,000` (k = 0..20), each capped at 10,000
//! schedules, and in how many of the 20 the bug was found; for DFS with preemption
//! bound 2, which is deterministic, the single count of runs to the first failure.
//!
//! Table 2, per fixed twin: 10,000 schedules each of Swarm, Random and PCT(3) must all pass, and
//! DFS(2) either exhausts the bounded space (its size is printed) or stops at its cap.
//!
//! It exits non-zero if a bug is not found or a fixed twin fails.
//!
//! `cargo run --release --example bug_table -- PROGRAM [budget=N] TOKEN...` measures one
//! program (`NAME` or `NAME-fixed`) with any strategy tokens instead, e.g.
//! `work-stealing budget=100000 pct:4 dfs:3`.

// The table reports how long the sweep took in real time; runs never see the clock.
#![allow(clippy::disallowed_methods)]

#[path = "../tests/bugs/mod.rs"]
mod bugs;

use bugs::{Bug, BUDGET, DFS_BOUND, DFS_SMALL_RUNS};
use detsim::explore::{Campaign, CampaignReport, StrategySpec};
use detsim::Config;
use std::time::Instant;

fn spec(token: &str) -> StrategySpec {
    token.parse().expect("valid strategy token")
}

fn dfs() -> StrategySpec {
    StrategySpec::Dfs {
        preemption_bound: DFS_BOUND,
    }
}

/// "N" or "> 10,000".
fn cell(found: Option<u64>) -> String {
    found.map_or(format!("> {}", thousands(BUDGET)), thousands)
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn campaign(bug: &Bug, fixed: bool, strategy: StrategySpec, seeds: u64) -> CampaignReport {
    Campaign::new((bug.make)(fixed), Config::default())
        .strategy(strategy)
        .seeds(seeds)
        .jobs(2)
        .run()
        .expect("campaign runs")
}

/// DFS is deterministic: one campaign, reported as runs to the first failure or as the
/// size of the space it exhausted without finding one.
fn dfs_cell(bug: &Bug) -> (String, bool) {
    let r = campaign(bug, false, dfs(), BUDGET);
    match (r.failures.is_empty(), r.complete) {
        (false, _) => (thousands(r.runs), true),
        (true, Some(true)) => (
            format!("complete, not found ({} schedules)", thousands(r.runs)),
            false,
        ),
        (true, _) => (format!("> {} (incomplete)", thousands(BUDGET)), false),
    }
}

/// One row of table 1; false if no strategy found the bug.
fn buggy_row(bug: &Bug) -> bool {
    let scenario = (bug.make)(false);
    let start = Instant::now();
    let mut found_any = false;
    let mut cells = Vec::new();
    for token in ["swarm", "random", "pct:2", "pct:3"] {
        let results: Vec<Option<u64>> = bugs::offsets()
            .map(|start| bugs::schedules_to_first_bug(&scenario, spec(token), start, BUDGET))
            .collect();
        let found = results.iter().flatten().count();
        found_any |= found > 0;
        cells.push(format!("{} ({found}/20)", cell(bugs::median(results))));
    }
    let (dfs, dfs_found) = dfs_cell(bug);
    found_any |= dfs_found;
    cells.push(dfs);
    println!(
        "| {} | {} | {} | {:.1} |",
        bug.name,
        bug.bug,
        cells.join(" | "),
        start.elapsed().as_secs_f64()
    );
    found_any
}

/// One row of table 2; false if a fixed twin failed anywhere.
fn fixed_row(bug: &Bug) -> bool {
    let start = Instant::now();
    let mut ok = true;
    let mut cells = Vec::new();
    for token in ["swarm", "random", "pct:3"] {
        let r = campaign(bug, true, spec(token), BUDGET);
        let passed = r.failures.is_empty() && r.runs == BUDGET;
        ok &= passed;
        cells.push(if passed {
            format!("{} pass", thousands(r.runs))
        } else {
            format!("FAIL: {:?}", r.failures.first().map(|f| &f.message))
        });
    }
    let cap = if bug.small { DFS_SMALL_RUNS } else { BUDGET };
    let r = campaign(bug, true, dfs(), cap);
    ok &= r.failures.is_empty();
    cells.push(match (r.failures.first(), r.complete) {
        (Some(f), _) => format!("FAIL: {}", f.message),
        (None, Some(true)) => format!("complete, {} schedules pass", thousands(r.runs)),
        (None, _) => format!("{} pass, incomplete (cap)", thousands(r.runs)),
    });
    println!(
        "| {}-fixed | {} | {:.1} |",
        bug.name,
        cells.join(" | "),
        start.elapsed().as_secs_f64()
    );
    ok
}

/// One program (`NAME` or `NAME-fixed`) under the given strategy tokens. A `budget=N`
/// argument sets the cap for the tokens after it.
fn probe(program: &str, args: &[String]) {
    let (name, fixed) = match program.strip_suffix("-fixed") {
        Some(name) => (name, true),
        None => (program, false),
    };
    let bug = bugs::find(name);
    let steps = (bug.make)(fixed).run(Config::default()).stats.steps;
    println!("{program}: {steps} scheduling steps in the run of seed 0");
    let mut budget = BUDGET;
    for arg in args {
        if let Some(n) = arg.strip_prefix("budget=") {
            budget = n.parse().expect("budget=N");
            continue;
        }
        let start = Instant::now();
        let result = probe_one(&bug, fixed, spec(arg), budget);
        let secs = start.elapsed().as_secs_f64();
        let cap = thousands(budget);
        println!("{program} {arg} (cap {cap}): {result} ({secs:.1} s)");
    }
}

/// DFS: its one count. Random and PCT: in how many of the 20 campaigns the bug showed
/// up, and the median (a median alone would hide a fixed twin failing now and then).
fn probe_one(bug: &Bug, fixed: bool, strategy: StrategySpec, budget: u64) -> String {
    if let StrategySpec::Dfs { .. } = strategy {
        let r = campaign(bug, fixed, strategy, budget);
        let found = if r.failures.is_empty() {
            "not found"
        } else {
            "found"
        };
        let runs = thousands(r.runs);
        return format!("{runs} runs, {found}, complete: {:?}", r.complete);
    }
    let scenario = (bug.make)(fixed);
    let results: Vec<Option<u64>> = bugs::offsets()
        .map(|start| bugs::schedules_to_first_bug(&scenario, strategy, start, budget))
        .collect();
    let found = results.iter().flatten().count();
    let median = bugs::median(results).map_or(format!("> {}", thousands(budget)), thousands);
    format!("found in {found} of 20 campaigns, median {median}")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some((name, tokens)) = args.split_first() {
        probe(name, tokens);
        return;
    }
    let total = Instant::now();
    let catalogue = bugs::catalogue();
    println!(
        "Schedules to first bug: median of 20 campaigns (found in how many of the 20) for \
         Swarm/Random/PCT; cap {}\n",
        thousands(BUDGET)
    );
    println!("| program | bug | Swarm (default) | Random | PCT(2) | PCT(3) | DFS(2) | seconds |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let mut ok = true;
    for bug in &catalogue {
        ok &= buggy_row(bug);
    }
    println!("\nFixed twins\n");
    println!("| program | Swarm | Random | PCT(3) | DFS(2) | seconds |");
    println!("|---|---|---|---|---|---:|");
    for bug in &catalogue {
        ok &= fixed_row(bug);
    }
    println!("\ntotal: {:.1} s", total.elapsed().as_secs_f64());
    if !ok {
        eprintln!("a bug was not found, or a fixed twin failed");
        std::process::exit(1);
    }
}
