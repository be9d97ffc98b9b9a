//! Built-in scenarios: small realistic programs with a real bug (`<name>`) and a fixed
//! twin (`<name>-fixed`), so `detsim fuzz <name>` shows the whole loop out of the box.
//!
//! - `bank.rs` — concurrent transfers; a lost update across an await.
//! - `lost_wakeup.rs` — producer/consumer with `Notify` used wrongly: a deadlock.
//! - `pool.rs` — CPU-bound work that starves a latency-sensitive task of workers.

mod bank;
mod lost_wakeup;
mod pool;

use crate::Scenario;

/// Every built-in scenario, buggy and fixed, in a stable order.
///
/// ```
/// let names: Vec<String> = detsim::scenarios::builtin().iter().map(|s| s.name().to_string()).collect();
/// assert!(names.contains(&"bank".to_string()) && names.contains(&"bank-fixed".to_string()));
/// ```
pub fn builtin() -> Vec<Scenario> {
    vec![
        Scenario::new("bank", "concurrent transfers; a balance is read and written across an await (lost update)", || bank::run(false)),
        Scenario::new("bank-fixed", "the same bank, with per-account locks taken in a fixed order", || bank::run(true)),
        Scenario::new("lost-wakeup", "producer/consumer where Notify::notify_waiters can fire between check and wait (deadlock)", || lost_wakeup::run(false)),
        Scenario::new("lost-wakeup-fixed", "the same queue, with notify_one, which stores a permit", || lost_wakeup::run(true)),
        Scenario::new("pool", "CPU-bound pipeline on 4 workers; burning tasks starve a heartbeat past its latency bound", || pool::run(false)),
        Scenario::new("pool-fixed", "the same pipeline, with CPU work limited to 3 of the 4 workers by a semaphore", || pool::run(true)),
        Scenario::new("kv-replication", "primary-backup store over TCP that acknowledges before replicating; a primary crash loses an acknowledged write", || kv_replication::run(false)).with_faults(kv_replication::plan()),
        Scenario::new("kv-replication-fixed", "the same store, replicating synchronously before acknowledging", || kv_replication::run(true)).with_faults(kv_replication::plan()),
        Scenario::new("leader-election", "Raft-style election over UDP whose vote check uses >= for terms; two leaders in one term", || leader_election::run(false)).with_faults(leader_election::plan()),
        Scenario::new("leader-election-fixed", "the same election with Raft's rule: a vote resets only on a newer term", || leader_election::run(true)).with_faults(leader_election::plan()),
        Scenario::new("wal-kv", "write-ahead-logged store on a simulated disk that acknowledges before sync_data and renames its snapshot without sync_dir; a crash loses acknowledged puts", || wal_kv::run(false)).with_faults(wal_kv::plan()),
        Scenario::new("wal-kv-fixed", "the same store, syncing its log before acknowledging and its directory after the rename", || wal_kv::run(true)).with_faults(wal_kv::plan()),
        Scenario::new("abort-canary", "aborts the whole process on every 100th seed (run it with `fuzz --isolate`)", || async {
            crate::task::yield_now().await;
            if crate::rand::seed() % 100 == 0 {
                std::process::abort(); // what no in-process guard survives
            }
        }),
        Scenario::new("hang-canary", "loops forever without awaiting on every seed ending in 3 (only the --watchdog stops it)", || async {
            crate::task::yield_now().await;
            if crate::rand::seed() % 10 == 3 {
                loop {
                    // A synchronous loop: no await, so no step or time limit can stop it.
                    // (It sleeps rather than spins so an abandoned run costs no CPU.)
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
        }),
    ]
}

/// The built-in scenario called `name`.
pub fn find(name: &str) -> Option<Scenario> {
    builtin().into_iter().find(|s| s.name() == name)
}

// Scenarios on the simulated world (declared last so the spawn sites of the older
// scenarios, which their trace snapshots name, keep their lines):
// - `kv_replication.rs` — primary–backup store; an acknowledged write lost on failover.
// - `leader_election.rs` — Raft-style election; two leaders in one term.
// - `wire.rs` — length-prefixed messages over simulated TCP.
// - `wal_kv.rs` — a write-ahead-logged store on a node's disk; acknowledged puts lost.
mod kv_replication;
mod leader_election;
mod wal_kv;
mod wire;
