//! mini-redis under detsim: a server node, two key-value clients, a client shared by
//! concurrent tasks (mini-redis's `buffer`), a publisher and a subscriber, each on its
//! own simulated node, all through mini-redis's own client and server code (crates.io,
//! unmodified) over the facade's `tokio::net`.
//!
//! What [`scenario`] checks, whatever the seed and the network faults:
//! 1. every GET after a client's own SET returns that value (each client, and each task
//!    of the shared client, owns its keys);
//! 2. a key SET with an expiry is gone within a bounded time (the server's purge task);
//! 3. the subscriber receives every published message exactly once, in order.
//!
//! The fault plan ([`fault_plan`]) adds latency, loss (retransmissions) and partitions
//! that heal before the links' stream timeout: TCP survives them, so any error or lost
//! message is a bug.

use bytes::Bytes;
use detsim::fault::FaultPlan;
use detsim::net::{Latency, LinkConfig};
use detsim::node;
use mini_redis::client::{self, Client};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::sleep;

/// The server's address, by node name (the simulated DNS).
pub const SERVER: &str = "redis:6379";

/// Pause between two operations of a client: the workload spans the fault window.
pub const THINK: Duration = Duration::from_millis(50);

/// SET/GET pairs per key-value client.
pub const OPERATIONS: usize = 20;

/// Tasks sharing the buffered client's connection.
pub const CONCURRENT: usize = 4;

/// Messages the publisher sends.
pub const MESSAGES: u32 = 20;

/// The channel the publisher and subscriber use.
pub const CHANNEL: &str = "news";

/// Latency, loss and healing partitions while the clients run; then 20 s to finish.
pub fn fault_plan() -> FaultPlan {
    let mut plan = FaultPlan::default();
    plan.duration_ms = 3_000;
    plan.liveness_ms = Some(20_000);
    plan.link = LinkConfig::default().latency(Latency::Uniform {
        min_us: 200,
        max_us: 5_000,
    });
    plan.loss = [0.0, 0.2];
    plan.partition = [0.0, 4.0];
    plan.heal_ms = [50, 1_500];
    plan.delay = [0.0, 0.1];
    plan.delay_max_ms = 20;
    plan
}

/// Connects, retrying while the server is not listening yet (it starts on its own node).
pub async fn connect() -> Client {
    for _ in 0..200 {
        match client::connect(SERVER).await {
            Ok(c) => return c,
            Err(e) => {
                let refused = e
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused);
                assert!(refused, "connect failed: {e}");
                sleep(Duration::from_millis(10)).await;
            }
        }
    }
    panic!("the server never started listening");
}

/// The whole system; returns what the subscriber received.
pub async fn scenario() -> Vec<u32> {
    node::Builder::new("redis").build(|| async {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:6379").await.unwrap();
        mini_redis::server::run(listener, std::future::pending::<()>())
            .await
            .unwrap();
    });
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<&'static str>();
    for name in ["client-1", "client-2"] {
        let done = done_tx.clone();
        node::Builder::new(name).build(move || {
            let done = done.clone();
            async move {
                key_value_client(name).await;
                done.send(name).unwrap();
            }
        });
    }
    let done = done_tx.clone();
    node::Builder::new("client-3").build(move || {
        let done = done.clone();
        async move {
            buffered_client(CONCURRENT).await;
            done.send("client-3").unwrap();
        }
    });
    let (got_tx, mut got_rx) = mpsc::unbounded_channel::<Vec<u32>>();
    node::Builder::new("subscriber").build(move || {
        let got = got_tx.clone();
        async move { got.send(subscriber().await).unwrap() }
    });
    node::Builder::new("publisher").build(publisher);
    for _ in 0..3 {
        done_rx.recv().await.expect("a key-value client finished");
    }
    got_rx.recv().await.expect("the subscriber finished")
}

/// SET then GET its own keys (invariant 1), then a key with an expiry (invariant 2).
async fn key_value_client(name: &str) {
    let mut c = connect().await;
    for i in 0..OPERATIONS {
        let key = format!("{name}/{i}");
        let value = Bytes::from(format!("value {i} of {name}"));
        c.set(&key, value.clone()).await.unwrap();
        let got = c.get(&key).await.unwrap();
        assert_eq!(got, Some(value), "GET {key} after SET");
        sleep(THINK).await;
    }
    let key = format!("{name}/expiring");
    let ttl = Duration::from_millis(50);
    c.set_expires(&key, Bytes::from_static(b"soon gone"), ttl)
        .await
        .unwrap();
    for _ in 0..100 {
        if c.get(&key).await.unwrap().is_none() {
            return;
        }
        sleep(Duration::from_millis(20)).await;
    }
    panic!("{key} was SET with a {ttl:?} expiry but is still there 2 s later");
}

/// `tasks` tasks SET and GET their own keys at once through one connection
/// (`mini_redis::buffer`: a task owns the connection, requests come over a channel).
async fn buffered_client(tasks: usize) {
    let buffer = mini_redis::buffer(connect().await);
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let mut b = buffer.clone();
            tokio::spawn(async move {
                for i in 0..OPERATIONS / 2 {
                    let key = format!("buffered/{t}/{i}");
                    let value = Bytes::from(format!("{t}:{i}"));
                    b.set(&key, value.clone()).await.unwrap();
                    assert_eq!(b.get(&key).await.unwrap(), Some(value), "GET {key}");
                    sleep(THINK).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
}

/// Publishes once the subscriber listens (PUBLISH returns the number of subscribers),
/// then the numbered messages, then "end".
async fn publisher() {
    let mut c = connect().await;
    while c
        .publish(CHANNEL, Bytes::from_static(b"hello"))
        .await
        .unwrap()
        == 0
    {
        sleep(Duration::from_millis(10)).await;
    }
    for i in 0..MESSAGES {
        let receivers = c
            .publish(CHANNEL, Bytes::from(i.to_string()))
            .await
            .unwrap();
        assert_eq!(receivers, 1, "PUBLISH {i}: the one subscriber");
        sleep(THINK).await;
    }
    c.publish(CHANNEL, Bytes::from_static(b"end"))
        .await
        .unwrap();
}

/// Subscribes and collects the numbered messages until "end" (invariant 3).
async fn subscriber() -> Vec<u32> {
    let mut sub = connect()
        .await
        .subscribe(vec![CHANNEL.into()])
        .await
        .unwrap();
    assert_eq!(sub.get_subscribed(), [CHANNEL.to_string()]);
    let mut got = Vec::new();
    loop {
        let msg = sub
            .next_message()
            .await
            .unwrap()
            .expect("the server closed the subscription");
        assert_eq!(msg.channel, CHANNEL);
        match &msg.content[..] {
            b"hello" => assert!(got.is_empty(), "hello after numbered messages: {got:?}"),
            b"end" => return got,
            n => got.push(std::str::from_utf8(n).unwrap().parse().unwrap()),
        }
    }
}
