// Shared by `lib.rs` (against the facade) and `tests/facade_vs_tokio.rs` (against the
// real tokio): only tokio's public API, nothing detsim-specific.
//
// Every program but `racy_counter` and `first_ready` gives one answer on every schedule.

use std::sync::Arc;
use std::time::Duration;

/// Producers feed a bounded channel; a consumer sums; results come back over oneshot,
/// watch and a JoinSet. The answer does not depend on the schedule.
pub async fn pipeline() -> (u64, u64, usize, Vec<u64>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(4);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let (progress_tx, mut progress_rx) = tokio::sync::watch::channel(0u64);
    let consumer = tokio::spawn(async move {
        let mut sum = 0;
        while let Some(v) = rx.recv().await {
            sum += v;
            progress_tx.send_replace(sum);
        }
        done_tx.send(sum).unwrap();
    });
    let mut producers = tokio::task::JoinSet::new();
    for p in 0..4u64 {
        let tx = tx.clone();
        producers.spawn(async move {
            for i in 0..25 {
                tx.send(p * 100 + i).await.unwrap();
                if i % 5 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            p
        });
    }
    drop(tx);
    let mut finished = Vec::new();
    while let Some(r) = producers.join_next().await {
        finished.push(r.unwrap());
    }
    finished.sort_unstable();
    let sum = done_rx.await.unwrap();
    consumer.await.unwrap();
    let last_seen = *progress_rx.borrow_and_update();
    (sum, last_seen, finished.len(), finished)
}

/// Interval ticks inside a timeout, a sleep past a deadline, and a broadcast fan-out:
/// the timing answers are exact on virtual time (and on tokio's paused clock).
pub async fn timers() -> (u32, bool, Vec<u32>, u128) {
    let start = tokio::time::Instant::now();
    let mut ticks = 0u32;
    let counted = tokio::time::timeout(Duration::from_millis(55), async {
        let mut every = tokio::time::interval(Duration::from_millis(10));
        loop {
            every.tick().await;
            ticks += 1;
        }
    })
    .await;
    let timed_out = counted.is_err();
    let (tx, _) = tokio::sync::broadcast::channel::<u32>(8);
    let listeners: Vec<_> = (0..3u32)
        .map(|i| {
            let mut rx = tx.subscribe();
            tokio::spawn(async move {
                let mut sum = 0;
                while let Ok(v) = rx.recv().await {
                    sum += v * (i + 1);
                }
                sum
            })
        })
        .collect();
    for v in 1..=4 {
        tx.send(v).unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    drop(tx);
    let mut sums = Vec::new();
    for l in listeners {
        sums.push(l.await.unwrap());
    }
    let elapsed_ms = start.elapsed().as_millis();
    (ticks, timed_out, sums, elapsed_ms)
}

/// Locks, semaphores, a barrier, a once-cell and select! with `biased;` — used correctly,
/// so the answer is fixed.
pub async fn coordination() -> (u32, u32, usize, &'static str) {
    let counter = Arc::new(tokio::sync::Mutex::new(0u32));
    let table = Arc::new(tokio::sync::RwLock::new(Vec::new()));
    let gate = Arc::new(tokio::sync::Semaphore::new(2));
    let barrier = Arc::new(tokio::sync::Barrier::new(4));
    let config = Arc::new(tokio::sync::OnceCell::new());
    let mut tasks = Vec::new();
    for i in 0..4u32 {
        let (counter, table, gate) = (counter.clone(), table.clone(), gate.clone());
        let (barrier, config) = (barrier.clone(), config.clone());
        tasks.push(tokio::spawn(async move {
            let limit = *config.get_or_init(|| async { 10u32 }).await;
            {
                let _permit = gate.acquire().await.unwrap(); // at most two inside
                let mut c = counter.lock().await;
                let v = *c;
                tokio::task::yield_now().await;
                *c = v + limit;
            }
            table.write().await.push(i);
            barrier.wait().await.is_leader()
        }));
    }
    let mut leaders = 0;
    for t in tasks {
        leaders += u32::from(t.await.unwrap());
    }
    let total = *counter.lock().await;
    let rows = table.read().await.len();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u8>();
    tx.send(1).unwrap();
    let which = tokio::select! {
        biased;
        Some(_) = rx.recv() => "channel",
        _ = tokio::time::sleep(Duration::from_millis(1)) => "timer",
    };
    (total, leaders, rows, which)
}

/// A lost update: the counter is read, the lock dropped, and written later. Correct on
/// most schedules; a simulation finds the ones where it is not.
pub async fn racy_counter() -> u32 {
    let counter = Arc::new(tokio::sync::Mutex::new(0u32));
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let counter = counter.clone();
            tokio::spawn(async move {
                let v = *counter.lock().await;
                tokio::task::yield_now().await;
                *counter.lock().await = v + 1;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let total = *counter.lock().await;
    total
}

/// Which of two ready branches an unbiased `select!` takes: tokio draws it from a
/// thread-local RNG; the facade from the run's recorded choices.
pub async fn first_ready() -> &'static str {
    let (a_tx, mut a) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (b_tx, mut b) = tokio::sync::mpsc::unbounded_channel::<()>();
    a_tx.send(()).unwrap();
    b_tx.send(()).unwrap();
    tokio::select! {
        _ = a.recv() => "a",
        _ = b.recv() => "b",
    }
}
