//! `DETSIM_SEED` replays one seed. Its own test binary: environment variables are
//! process-wide, so no other test may run beside it.

mod common;

use common::lost_update as racy;
use detsim::{check, Check};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[test]
fn detsim_seed_replays_exactly_that_seed() {
    let failing = (0..1000u64)
        .find(|&s| {
            detsim::Sim::new(detsim::Config::default().seed(s))
                .run(racy())
                .failure()
                .is_some()
        })
        .expect("a failing seed");
    let passing = (0..1000u64)
        .find(|&s| {
            detsim::Sim::new(detsim::Config::default().seed(s))
                .run(racy())
                .is_ok()
        })
        .expect("a passing seed");
    std::env::set_var("DETSIM_SEED", passing.to_string());
    check(Check::new(), racy); // only the passing seed runs: no panic
    std::env::set_var("DETSIM_SEED", failing.to_string());
    let panic = catch_unwind(AssertUnwindSafe(|| check(Check::new(), racy)))
        .expect_err("replayed seed fails");
    let report = panic.downcast_ref::<String>().unwrap();
    assert!(
        report.contains(&format!("seed {failing} failed")),
        "{report}"
    );
    std::env::set_var("DETSIM_SEED", "not-a-number");
    let panic = catch_unwind(AssertUnwindSafe(|| check(Check::new(), racy))).expect_err("bad env");
    let report = panic.downcast_ref::<String>().unwrap();
    assert!(report.contains("DETSIM_SEED"), "{report}");
    std::env::remove_var("DETSIM_SEED");
}
