//! Replaying a schedule against a changed program stops with a precise divergence.

use detsim::{Config, Failure, Scenario};

fn workers(n: usize, extra_yield: bool) -> Scenario {
    Scenario::new("workers", "n tasks that yield", move || async move {
        let hs: Vec<_> = (0..n)
            .map(|_| {
                detsim::spawn(async move {
                    detsim::task::yield_now().await;
                    if extra_yield {
                        detsim::task::yield_now().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    })
}

#[test]
fn a_schedule_replays_exactly_on_the_same_program() {
    let s = workers(5, false);
    let out = s.run(Config::default().seed(3));
    let again = s.replay(Config::default().seed(3), out.schedule.clone());
    assert!(again.is_ok(), "{:?}", again.failure());
    assert_eq!(again.fingerprint, out.fingerprint);
}

#[test]
fn a_schedule_from_a_modified_program_reports_where_it_diverged() {
    let recorded = workers(5, false).run(Config::default().seed(3));
    // One task fewer: at some step, fewer tasks are runnable than the schedule says.
    let out = workers(4, false).replay(Config::default().seed(3), recorded.schedule.clone());
    match out.failure() {
        Some(f @ Failure::Divergence { step, .. }) => {
            let text = f.to_string();
            assert!(text.contains(&format!("at step {step}")), "{text}");
            assert!(
                text.contains("runnable tasks, but") || text.contains("choice"),
                "{text}"
            );
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
    // An extra await: the program wants more choices than were recorded.
    let out = workers(5, true).replay(Config::default().seed(3), recorded.schedule.clone());
    assert!(
        matches!(out.failure(), Some(Failure::Divergence { .. })),
        "{:?}",
        out.failure()
    );
}

#[test]
fn a_truncated_schedule_is_a_divergence_not_a_different_run() {
    let s = workers(5, false);
    let mut schedule = s.run(Config::default().seed(8)).schedule;
    schedule.choices.truncate(schedule.len() / 2);
    let out = s.replay(Config::default().seed(8), schedule);
    let text = out.failure().expect("diverges").to_string();
    assert!(text.contains("the schedule has only"), "{text}");
}
