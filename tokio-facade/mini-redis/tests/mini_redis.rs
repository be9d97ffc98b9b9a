//! mini-redis 0.4 under detsim (see `src/lib.rs` for the system and its invariants).

use detsim::{check, Check, Config};
use detsim_mini_redis::{fault_plan, scenario, MESSAGES};

fn all_messages() -> Vec<u32> {
    (0..MESSAGES).collect()
}

/// One run without faults: the system works at all, and the run is a simulation (its
/// trace shows the nodes' TCP traffic).
#[test]
fn set_get_publish_subscribe_across_six_nodes() {
    let out = detsim::Sim::new(Config::default().seed(1)).run(scenario());
    assert_eq!(out.result.unwrap(), all_messages());
    let trace = out.trace.to_string();
    for name in [
        "redis",
        "client-1",
        "client-2",
        "client-3",
        "subscriber",
        "publisher",
    ] {
        assert!(trace.contains(name), "node {name} missing from the trace");
    }
    assert!(trace.contains("send tcp"), "{trace}");
}

/// 1,000 seeds with latency, loss and partitions that heal: every invariant holds.
#[test]
fn a_thousand_seeds_with_network_faults_stay_green() {
    let config = Config::default().faults(fault_plan());
    check(Check::new().seeds(1_000).config(config), || async {
        assert_eq!(scenario().await, all_messages());
    });
}

/// Identical fingerprints twice on one thread and once on another, for 100 seeds.
#[test]
fn check_determinism_passes_on_100_seeds() {
    let config = Config::default().faults(fault_plan());
    Check::new()
        .seeds(100)
        .config(config)
        .determinism(|| async {
            assert_eq!(scenario().await, all_messages());
        });
}

/// The plan bites: over 100 seeds, streams to and from the server lose segments (and
/// retransmit) and the server's links are partitioned and healed while clients run.
#[test]
fn the_fault_plan_drops_and_partitions_the_servers_links() {
    let (mut drops, mut partitions, mut heals) = (0, 0, 0);
    for seed in 0..100 {
        let config = Config::default().seed(seed).faults(fault_plan());
        let out = detsim::Sim::new(config).run(scenario());
        assert_eq!(out.result.unwrap(), all_messages(), "seed {seed}");
        for line in out.trace.to_string().lines() {
            let redis = line.contains(":redis");
            drops += usize::from(redis && line.contains("DROP tcp"));
            partitions += usize::from(redis && line.contains("PARTITION"));
            heals += usize::from(redis && line.contains("HEAL"));
        }
    }
    assert!(drops > 100, "{drops} dropped segments");
    assert!(partitions > 10, "{partitions} partitions of the server");
    assert!(heals > 10, "{heals} heals");
}

/// The other side of the green campaign: with crashes of the server in the plan, the
/// invariants cannot hold (the server's data is in memory), and the failure comes back
/// through mini-redis's own error path — the facade's `ConnectionReset`/`BrokenPipe` —
/// with a seed that replays to the same run.
#[test]
fn server_crashes_are_caught_through_mini_redis_errors_and_replay() {
    let mut plan = fault_plan();
    plan.swarm = false;
    plan.crash = [2.0, 2.0];
    plan.crash_nodes = vec!["redis".into()];
    plan.restart_ms = [10, 50];
    let config = |seed| Config::default().seed(seed).faults(plan.clone());
    let (seed, out) = (0..50)
        .map(|seed| (seed, detsim::Sim::new(config(seed)).run(scenario())))
        .find(|(_, out)| out.result.is_err())
        .expect("a crash of the server breaks an invariant within 50 seeds");
    let message = out.failure().unwrap().to_string();
    let by_network = ["connection reset", "broken pipe", "reset by server"];
    assert!(
        by_network.iter().any(|m| message.contains(m)),
        "seed {seed}: {message}"
    );
    let again = detsim::Sim::new(config(seed)).run(scenario());
    assert_eq!(again.fingerprint, out.fingerprint, "seed {seed} replays");
    assert_eq!(again.failure().unwrap().to_string(), message);
}
