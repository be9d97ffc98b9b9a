//! Fault plans: swarm profiles, buggify, injected delays, liveness, shrinking faults.

use detsim::explore::shrink;
use detsim::fault::FaultPlan;
use detsim::{Config, Failure, Scenario, Sim, TraceMode};
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A program whose timeout is "always enough": the reply takes 10 ms, the caller waits
/// 15 ms. Injected delays (to wake-ups, timers, deliveries) break that assumption.
async fn reply_within_timeout() -> u32 {
    let (tx, rx) = detsim::sync::oneshot::channel();
    detsim::spawn(async move {
        detsim::time::sleep(ms(10)).await;
        let _ = tx.send(42);
    });
    match detsim::time::timeout(ms(15), rx).await {
        Ok(v) => v.unwrap(),
        Err(_) => panic!("reply did not arrive within its timeout"),
    }
}

fn delay_plan() -> FaultPlan {
    let mut plan = FaultPlan::default();
    plan.delay = [0.2, 0.5];
    plan.delay_max_ms = 20;
    plan
}

#[test]
fn a_timing_bug_appears_with_injected_delays_and_never_without() {
    let s = Scenario::new("timeout", "reply within a timeout", || async {
        reply_within_timeout().await;
    });
    let without = (0..300)
        .filter(|&seed| {
            s.run(Config::default().seed(seed).trace(TraceMode::Off))
                .is_ok()
        })
        .count();
    assert_eq!(without, 300, "without delays the timeout is always enough");
    let delayed = s.clone().with_faults(delay_plan());
    let failing = (0..300)
        .find(|&seed| {
            delayed
                .run(Config::default().seed(seed).trace(TraceMode::Off))
                .failure()
                .is_some()
        })
        .expect("injected delays expose the timeout within 300 seeds");
    let out = delayed.run(Config::default().seed(failing));
    assert!(out.stats.faults > 0);
    assert!(out.trace.to_string().contains("FAULT delay"));
}

#[test]
fn injected_delays_change_timing_but_not_the_result_of_a_correct_program() {
    let program = || async {
        let (tx, rx) = detsim::sync::oneshot::channel();
        detsim::spawn(async move {
            detsim::time::sleep(ms(10)).await;
            let _ = tx.send(42u32);
        });
        let v = rx.await.unwrap(); // no timeout: correct under any delay
        (v, detsim::time::Instant::now())
    };
    let mut changed = 0;
    for seed in 0..50 {
        let plain = Sim::new(Config::default().seed(seed))
            .run(program())
            .result
            .unwrap();
        let config = Config::default().seed(seed).faults(delay_plan());
        let delayed = Sim::new(config).run(program()).result.unwrap();
        assert_eq!(plain.0, delayed.0);
        changed += (plain.1 != delayed.1) as u32;
    }
    assert!(
        changed > 10,
        "delays changed the timing of only {changed} of 50 seeds"
    );
}

#[test]
fn swarm_profiles_differ_per_seed() {
    let mut plan = FaultPlan::default();
    plan.loss = [0.0, 0.5];
    let program = || async {
        let got = std::rc::Rc::new(std::cell::Cell::new(0u32));
        let g = got.clone();
        detsim::node::Builder::new("sink").build(move || {
            let g = g.clone();
            async move {
                let s = detsim::net::UdpSocket::bind("0.0.0.0:9").await.unwrap();
                let mut buf = [0; 4];
                loop {
                    s.recv_from(&mut buf).await.unwrap();
                    g.set(g.get() + 1);
                }
            }
        });
        detsim::time::sleep(ms(1)).await;
        let s = detsim::net::UdpSocket::bind("0.0.0.0:0").await.unwrap();
        for _ in 0..100 {
            s.send_to(b"x", "sink:9").await.unwrap();
        }
        detsim::time::sleep(ms(10)).await;
        got.get()
    };
    let received: Vec<u32> = (0..40)
        .map(|seed| {
            Sim::new(Config::default().seed(seed).faults(plan.clone()))
                .run(program())
                .result
                .unwrap()
        })
        .collect();
    let lossless = received.iter().filter(|&&r| r == 100).count();
    let heavy = received.iter().filter(|&&r| r < 80).count();
    assert!(
        lossless >= 5,
        "some seeds should draw loss off: {received:?}"
    );
    assert!(
        heavy >= 5,
        "some seeds should draw heavy loss: {received:?}"
    );
    plan.swarm = false;
    let fixed: Vec<u32> = (0..10)
        .map(|seed| {
            Sim::new(Config::default().seed(seed).faults(plan.clone()))
                .run(program())
                .result
                .unwrap()
        })
        .collect();
    assert!(
        fixed.iter().all(|&r| r < 75),
        "without swarm every seed runs at the upper bound: {fixed:?}"
    );
}

#[test]
fn buggify_fires_only_under_a_plan_and_is_replayable() {
    let program = || async {
        let mut fired = 0;
        for _ in 0..100 {
            if detsim::buggify!() {
                fired += 1;
            }
            detsim::task::yield_now().await;
        }
        fired
    };
    let none = Sim::new(Config::default().seed(1)).run(program());
    assert_eq!(none.result.unwrap(), 0);
    let mut plan = FaultPlan::default();
    plan.buggify = [0.25, 0.25];
    plan.swarm = false;
    let counts: Vec<u32> = (0..20)
        .map(|seed| {
            Sim::new(Config::default().seed(seed).faults(plan.clone()))
                .run(program())
                .result
                .unwrap()
        })
        .collect();
    // A site is enabled in about half the runs; then it fires about a quarter of the time.
    assert!(counts.contains(&0), "{counts:?}");
    assert!(counts.iter().any(|&c| (10..45).contains(&c)), "{counts:?}");
    let out = Sim::new(Config::default().seed(3).faults(plan.clone())).run(program());
    let again = Sim::new(Config::default().seed(77).faults(plan))
        .replay(out.schedule.clone())
        .run(program());
    assert_eq!(again.fingerprint, out.fingerprint);
}

#[test]
fn the_liveness_phase_heals_restarts_and_checks_convergence() {
    let mut plan = FaultPlan::default();
    plan.duration_ms = 1_000;
    plan.liveness_ms = Some(500);
    plan.crash = [5.0, 5.0];
    plan.swarm = false;
    plan.restart_ms = [60_000, 60_000]; // crashed nodes stay down until the liveness phase
                                        // Converges: waits until the node has been up for 100 ms after the liveness phase.
    let converging = || async {
        let n = detsim::node::Builder::new("svc").build(|| async {});
        loop {
            detsim::time::sleep(ms(100)).await;
            let t = detsim::time::Instant::now().as_nanos();
            if t > 1_200_000_000 && n.status() == detsim::node::NodeStatus::Up {
                return n.incarnation();
            }
        }
    };
    let out = Sim::new(Config::default().seed(1).faults(plan.clone())).run(converging());
    assert!(
        out.result.unwrap() > 0,
        "the plan crashed the node at least once"
    );
    assert!(out.trace.to_string().contains("FAULT liveness"));
    let stuck = || async {
        loop {
            detsim::time::sleep(ms(100)).await;
        }
    };
    let out = Sim::new(Config::default().seed(1).faults(plan)).run(stuck());
    match out.result {
        Err(Failure::Liveness { since, within }) => {
            assert_eq!((since, within), (ms(1_000), ms(500)));
        }
        other => panic!("expected a liveness failure, got {other:?}"),
    }
}

#[test]
fn a_shrunk_kv_replication_failure_keeps_only_the_fault_it_needs() {
    let kv = detsim::scenarios::find("kv-replication").unwrap();
    let config = |seed| Config::default().seed(seed).trace(TraceMode::Schedule);
    // The first failing seed whose run injected more than one fault.
    let (seed, out) = (0..2_000)
        .map(|seed| (seed, kv.run(config(seed))))
        .find(|(_, o)| o.failure().is_some() && o.stats.faults > 1)
        .expect("a failing seed with several faults");
    let shrunk = shrink(&kv, &config(seed), out.schedule, 400).expect("it fails");
    assert!(shrunk.before.faults > 1);
    assert_eq!(
        shrunk.after.faults, 1,
        "one primary crash is all the bug needs"
    );
    let replayed = kv.replay(Config::default().seed(seed), shrunk.schedule);
    assert_eq!(
        replayed.failure().unwrap().signature(),
        shrunk.failure.signature()
    );
    assert!(replayed.trace.to_string().contains("CRASH n2:primary"));
}

#[test]
fn an_invalid_plan_in_code_is_a_config_failure_not_a_panic() {
    let mut plan = FaultPlan::default();
    plan.restart_ms = [2_000, 100];
    let out = Sim::new(Config::default().faults(plan)).run(async {});
    let failure = out.result.unwrap_err().to_string();
    assert!(failure.contains("restart_ms"), "{failure}");
}

#[test]
fn fault_plan_runs_have_the_same_fingerprint_with_the_trace_off_and_full() {
    for name in ["leader-election", "leader-election-fixed", "kv-replication"] {
        let s = detsim::scenarios::find(name).unwrap();
        for seed in 0..20 {
            let off = s.run(Config::default().seed(seed).trace(TraceMode::Off));
            let full = s.run(Config::default().seed(seed));
            assert_eq!(off.fingerprint, full.fingerprint, "{name} seed {seed}");
            assert_eq!(off.stats.faults, full.stats.faults);
        }
    }
}
