//! Scheduling traces of the built-in scenarios, snapshotted under `snapshots/`.
//!
//! A change to the runtime, a strategy or a scenario that alters any interleaving shows up
//! here as a reviewed diff. Accept intended changes with `INSTA_UPDATE=always cargo test`
//! (or `cargo insta review`).

use detsim::{Config, Sim};

fn trace_of(name: &str, seed: u64, workers: usize) -> detsim::Trace {
    let scenario = detsim::scenarios::find(name).expect("built-in scenario");
    scenario
        .run(Config::default().seed(seed).workers(workers))
        .trace
}

#[test]
fn bank_seed_3() {
    detsim::assert_trace_snapshot!("bank_seed_3", trace_of("bank", 3, 4));
}

#[test]
fn lost_wakeup_deadlock_seed_1() {
    let t = trace_of("lost-wakeup", 1, 2);
    detsim::assert_trace_snapshot!("lost_wakeup_seed_1", t);
}

#[test]
fn lost_wakeup_fixed_seed_1() {
    detsim::assert_trace_snapshot!(
        "lost_wakeup_fixed_seed_1",
        trace_of("lost-wakeup-fixed", 1, 2)
    );
}

#[test]
fn burn_on_two_workers() {
    let out = Sim::new(Config::default().seed(5).workers(2)).run(async {
        let hs: Vec<_> = (0..3)
            .map(|i| {
                detsim::task::spawn_named(format!("cpu-{i}"), async move {
                    detsim::task::burn(std::time::Duration::from_millis(1 + i)).await;
                    detsim::task::yield_now().await;
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    detsim::assert_trace_snapshot!("burn_two_workers_seed_5", out.trace);
}

#[test]
fn pool_starved_heartbeat_seed_5() {
    // Four workers all burning CPU while the heartbeat misses its 3 ms bound.
    detsim::assert_trace_snapshot!("pool_seed_5", trace_of("pool", 5, 4));
}

#[test]
fn pool_fixed_seed_5() {
    detsim::assert_trace_snapshot!("pool_fixed_seed_5", trace_of("pool-fixed", 5, 4));
}

/// The network and fault events of a failing `kv-replication` seed: the writes, the
/// replication rounds, the primary's crash and the failover reads.
#[test]
fn kv_replication_world_view_seed_1() {
    let t = trace_of("kv-replication", 1, 4);
    detsim::assert_trace_snapshot!("kv_replication_world_seed_1", t.view().world_only());
}

/// One node's view of a `leader-election-fixed` run: its tasks and its messages.
#[test]
fn leader_election_fixed_node_view_seed_2() {
    let t = trace_of("leader-election-fixed", 2, 2);
    let text = t.view().node(1).world_only().to_string();
    let head: String = text.lines().take(60).collect::<Vec<_>>().join("\n");
    detsim::assert_trace_snapshot!("leader_election_fixed_n1_seed_2", head);
}
