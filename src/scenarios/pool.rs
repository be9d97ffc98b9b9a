//! A CPU-bound pipeline on 4 workers next to a latency-sensitive heartbeat.
//!
//! Three compressors and a log flusher do CPU work (`task::burn`) in long chunks without
//! yielding. When all four happen to burn at once, no worker is left for the heartbeat,
//! which must answer within 3 ms of virtual time: its deadline is missed. Fix: CPU work
//! acquires a permit of a 3-permit semaphore first, so one worker always stays free —
//! what tokio users get by moving such work to a bounded blocking pool.

use crate::sync::Semaphore;
use crate::task::burn;
use crate::time::{sleep, Instant};
use std::rc::Rc;
use std::time::Duration;

const HEARTBEATS: u32 = 40;
const PERIOD: Duration = Duration::from_millis(2);
const LATENCY_MAX: Duration = Duration::from_millis(3);

async fn cpu_work(limit: &Option<Rc<Semaphore>>, chunk: Duration) {
    let _permit = match limit {
        Some(s) => Some(s.acquire().await.expect("semaphore never closes")),
        None => None,
    };
    burn(chunk).await;
}

async fn heartbeat() {
    for _ in 0..HEARTBEATS {
        let due = Instant::now() + PERIOD; // detsim's virtual clock, not std's
        sleep(PERIOD).await;
        let late = Instant::now().duration_since(due);
        assert!(
            late <= LATENCY_MAX,
            "heartbeat {late:?} late (bound {LATENCY_MAX:?}): all workers busy burning CPU"
        );
    }
}

pub(super) async fn run(fixed: bool) {
    let limit = fixed.then(|| Rc::new(Semaphore::new(3)));
    let mut tasks = vec![crate::task::spawn_named("heartbeat", heartbeat())];
    for c in 0..3 {
        let limit = limit.clone();
        tasks.push(crate::task::spawn_named(
            format!("compress-{c}"),
            async move {
                for _ in 0..4 {
                    let chunk = Duration::from_micros(crate::rand::gen_range(2_000..12_000));
                    cpu_work(&limit, chunk).await;
                    sleep(Duration::from_micros(crate::rand::gen_range(100..4_000))).await;
                }
            },
        ));
    }
    let limit2 = limit.clone();
    tasks.push(crate::task::spawn_named("flusher", async move {
        for _ in 0..8 {
            sleep(Duration::from_micros(crate::rand::gen_range(1_000..10_000))).await;
            cpu_work(&limit2, Duration::from_millis(4)).await;
        }
    }));
    for t in tasks {
        t.await.expect("pipeline tasks do not panic");
    }
}
