//! Shrinking: minimal failing schedules that replay to the same failure.

mod common;

use detsim::explore::shrink;
use detsim::{Config, Scenario, TraceMode};

/// Two tasks: read, yield, write. The race needs both reads before either write. Five
/// detached bystanders make the original schedules long; none of them is needed.
fn lost_update() -> Scenario {
    Scenario::new("lost-update", "read, yield, write", || async {
        for b in 0..5 {
            detsim::task::spawn_named(format!("bystander-{b}"), async {
                for _ in 0..10 {
                    detsim::task::yield_now().await;
                }
            });
        }
        common::lost_update_named("inc").await;
    })
}

#[test]
fn lost_update_shrinks_to_the_steps_the_race_needs_and_replays() {
    let s = lost_update();
    // A long, noisy failing run: 8 workers, so worker choices pad the schedule too.
    let config = Config::default().workers(8);
    let failing = (0..1000)
        .map(|seed| s.run(config.clone().seed(seed)))
        .find(|o| o.failure().is_some() && o.stats.steps > 20)
        .expect("the race is found");
    let config = config.seed(failing.seed);
    let shrunk = shrink(&s, &config, failing.schedule.clone(), 5_000).unwrap();
    // main polls, inc-0 reads, inc-1 reads, both write, main asserts: 6 polls.
    eprintln!(
        "lost update: {:?} -> {:?} in {} replays",
        shrunk.before, shrunk.after, shrunk.attempts
    );
    let replay = s.replay(config.trace(TraceMode::Full), shrunk.schedule.clone());
    let failure = replay.failure().expect("the shrunk schedule still fails");
    assert_eq!(failure.signature(), shrunk.failure.signature());
    assert!(failure.to_string().contains("lost update"), "{failure}");
    // The race itself needs 6 polls (main spawns; inc-0 reads; inc-1 reads; both write;
    // main asserts), and the shrinker gets there from a 30+ step run with five
    // bystanders (measured: 35 -> 6 steps, 28 -> 5 switches, 97 replays).
    assert!(shrunk.after.steps <= 6, "shrunk to {:?}", shrunk.after);
    // The race needs one preemption: inc-0 yields and is runnable, inc-1 runs instead.
    assert!(shrunk.after.preemptions <= shrunk.before.preemptions);
    assert!(
        shrunk.after.preemptions >= 1,
        "a lost update needs a preemption"
    );
    assert!(shrunk.before.steps > 20);
    assert!(shrunk.after <= shrunk.before);
    eprintln!(
        "lost update: {:?} -> {:?} in {} replays",
        shrunk.before, shrunk.after, shrunk.attempts
    );
}

#[test]
fn shrinking_a_passing_schedule_is_an_error() {
    let s = detsim::scenarios::find("bank-fixed").unwrap();
    let out = s.run(Config::default().seed(1));
    assert!(shrink(&s, &Config::default().seed(1), out.schedule, 100).is_err());
}

#[test]
fn shrunk_bank_failure_keeps_its_signature() {
    let s = detsim::scenarios::find("bank").unwrap();
    let failing = (0..100)
        .map(|seed| s.run(Config::default().seed(seed)))
        .find(|o| o.failure().is_some())
        .unwrap();
    let config = Config::default().seed(failing.seed);
    let shrunk = shrink(&s, &config, failing.schedule.clone(), 3_000).unwrap();
    assert_eq!(
        shrunk.failure.signature(),
        failing.failure().unwrap().signature()
    );
    assert!(shrunk.after.choices <= shrunk.before.choices);
    assert!(s.replay(config, shrunk.schedule).failure().is_some());
}
