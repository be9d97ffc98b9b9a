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
    let mut schedule = s.run(Config::default().seed(8)).schedule.into_schedule();
    schedule.choices.truncate(schedule.len() / 2);
    let out = s.replay(Config::default().seed(8), schedule);
    let text = out.failure().expect("diverges").to_string();
    assert!(text.contains("the schedule has only"), "{text}");
}

/// A user strategy that spends its own randomness freely: aux draws on every spawn and
/// pick, and main-stream draws it throws away. It can hand out only its picks.
#[derive(Debug, Default)]
struct Jumpy {
    stickiness: u64,
}

impl detsim::explore::Strategy for Jumpy {
    fn on_spawn(&mut self, _task: detsim::TaskId, rng: &mut detsim::explore::StrategyRng) {
        self.stickiness = rng.aux_u64() % 4;
    }

    fn pick(
        &mut self,
        candidates: &detsim::explore::Candidates<'_>,
        rng: &mut detsim::explore::StrategyRng,
    ) -> usize {
        let _ = rng.draw_below(7); // shifts the main stream under user randomness
        match candidates.last() {
            Some(last) if rng.aux_u64() % 4 < self.stickiness => last,
            _ => rng.draw_below(candidates.len()),
        }
    }
}

/// Tasks that interleave through a lock, timers and user randomness (`Rand` choices on
/// the main stream the strategy also draws from).
fn mixed() -> Scenario {
    Scenario::new("mixed", "locks, timers, rand", || async {
        let m = std::sync::Arc::new(detsim::sync::Mutex::new(Vec::new()));
        let hs: Vec<_> = (0..5u64)
            .map(|i| {
                let m = m.clone();
                detsim::spawn(async move {
                    for _ in 0..3 {
                        let d = detsim::rand::random::<u64>() % 3;
                        detsim::time::sleep(std::time::Duration::from_millis(d)).await;
                        m.lock().await.push(i);
                        detsim::task::yield_now().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        assert_eq!(m.lock().await.len(), 15);
    })
}

#[test]
fn a_strategy_with_its_own_randomness_replays_without_it() {
    let s = mixed();
    let mut differs_from_random = false;
    for seed in 0..20 {
        let config = Config::default().seed(seed).trace(detsim::TraceMode::Full);
        let out = s.run_with(config.clone(), Box::new(Jumpy::default()));
        assert!(out.is_ok(), "seed {seed}: {:?}", out.failure());
        let again = s.replay(config.clone(), out.schedule.clone());
        assert!(again.is_ok(), "seed {seed}: {:?}", again.failure());
        assert_eq!(again.fingerprint, out.fingerprint, "seed {seed}");
        assert_eq!(
            again.trace.to_string(),
            out.trace.to_string(),
            "seed {seed}"
        );
        assert_eq!(again.schedule, out.schedule, "seed {seed}");
        differs_from_random |= s.run(config).fingerprint != out.fingerprint;
    }
    assert!(
        differs_from_random,
        "the strategy changes the runs it makes"
    );
}

/// A run's recorded schedule holds every choice as it was made, whatever its width
/// (picks among more than 16,384 tasks, raw 64-bit draws, timer and worker choices):
/// it has one entry per counted choice, a strict replay on another seed follows it to
/// the same run and records the same schedule, and edits through it stick.
#[test]
fn recorded_schedules_hold_choices_of_every_width_and_replay_exactly() {
    let s = Scenario::new("wide", "choices of every width", || async {
        let hs: Vec<_> = (0..20_000u64)
            .map(|i| {
                detsim::spawn(async move {
                    let mut x = i;
                    if i % 97 == 0 {
                        x ^= detsim::rand::random::<u64>();
                    }
                    detsim::time::sleep(std::time::Duration::from_millis(i % 3)).await;
                    detsim::task::yield_now().await;
                    x
                })
            })
            .collect();
        let mut sum = 0u64;
        for h in hs {
            sum = sum.wrapping_add(h.await.unwrap());
        }
        assert_ne!(sum, 0);
    });
    for seed in [1, 2] {
        let config = Config::default()
            .seed(seed)
            .workers(3)
            .trace(detsim::TraceMode::Schedule);
        let out = s.run(config.clone());
        assert!(out.is_ok(), "{:?}", out.failure());
        let choices = &out.schedule.choices;
        assert_eq!(choices.len() as u64, out.stats.choices);
        use detsim::ChoiceKind::*;
        let wide_pick = |c: &&detsim::Choice| c.kind == Task && c.n > 1 << 14;
        assert!(
            choices.iter().any(|c| wide_pick(&c)),
            "picks among > 16,384 tasks"
        );
        assert!(choices
            .iter()
            .any(|c| c.kind == Rand && c.n == 0 && c.value > u32::MAX as u64));
        assert!(choices.iter().any(|c| c.kind == Timer));
        assert!(choices.iter().any(|c| c.kind == Worker));
        assert!(choices.iter().all(|c| c.n == 0 || c.value < c.n as u64));
        let again = s.replay(config.clone().seed(seed + 100), out.schedule.clone());
        assert!(again.is_ok(), "seed {seed}: {:?}", again.failure());
        assert_eq!(again.fingerprint, out.fingerprint, "seed {seed}");
        assert_eq!(again.schedule, out.schedule, "seed {seed}");
        // An edit through the recorded schedule is what it converts into.
        let mut edited = again.schedule;
        let half = edited.len() / 2;
        edited.choices.truncate(half);
        edited.choices[0].value = 0;
        let edited = detsim::Schedule::from(edited);
        assert_eq!(edited.len(), half);
        assert_eq!(edited.choices[1..], out.schedule.choices[1..half]);
    }
}
