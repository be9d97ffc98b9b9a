//! Throughput of the simulated world (the W5) and a gossip scale run.
//!
//! Run with `cargo bench --bench world -- --warm-up-time 1 --measurement-time 3`.
//!
//! - **W5 — TCP round trips.** Node `server` accepts one connection and echoes 64-byte
//!   requests; node `client` connects and performs 10,000 request/response round trips
//!   of 64 bytes over simulated TCP with a fixed 1 ms one-way latency (the default link,
//!   no loss). `Config::default()` (4 workers, random strategy), seed 1, trace off and
//!   full. Rate: round trips/s of wall time, including building and dropping the `Sim`.
//! - **Gossip.** N nodes; every 100 ms each sends 64 bytes to 3 seeded peers over UDP,
//!   for 60 s of virtual time (N = 50, 100, 200). Rate: messages/s. The TCP variant
//!   opens a connection to a peer on first use and keeps it.

// Benchmarks time the runs from outside.
#![allow(clippy::disallowed_methods)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use detsim::net::{TcpListener, TcpStream, UdpSocket};
use detsim::{node, Config, Sim, TraceMode};
use futures::{AsyncReadExt, AsyncWriteExt};
use std::time::Duration;

const ROUND_TRIPS: u64 = 10_000;

/// W5: returns the number of round trips done.
pub fn w5(trace: TraceMode) -> u64 {
    let out = Sim::new(Config::default().seed(1).trace(trace)).run(async {
        node::Builder::new("server").build(|| async {
            let listener = TcpListener::bind("0.0.0.0:80").await.unwrap();
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 64];
            while s.read_exact(&mut buf).await.is_ok() {
                s.write_all(&buf).await.unwrap();
            }
        });
        let (tx, rx) = detsim::sync::oneshot::channel();
        let tx = std::cell::RefCell::new(Some(tx));
        node::Builder::new("client").build(move || {
            let tx = tx.borrow_mut().take();
            async move {
                let mut s = TcpStream::connect("server:80").await.unwrap();
                let mut buf = [7u8; 64];
                for _ in 0..ROUND_TRIPS {
                    s.write_all(&buf).await.unwrap();
                    s.read_exact(&mut buf).await.unwrap();
                }
                let _ = tx.unwrap().send(ROUND_TRIPS);
            }
        });
        rx.await.unwrap()
    });
    out.result.unwrap()
}

/// Gossip over UDP: returns the number of datagrams sent.
pub fn gossip(nodes: u32, trace: TraceMode) -> u64 {
    let out = Sim::new(Config::default().seed(1).trace(trace)).run(async move {
        for i in 0..nodes {
            node::Builder::new(format!("g{i}")).build(move || async move {
                let s = UdpSocket::bind("0.0.0.0:7").await.unwrap();
                let recv = async {
                    let mut buf = [0u8; 64];
                    loop {
                        s.recv_from(&mut buf).await.unwrap();
                    }
                };
                let send = async {
                    let mut tick = detsim::time::interval(Duration::from_millis(100));
                    loop {
                        tick.tick().await;
                        for _ in 0..3 {
                            let peer = detsim::rand::gen_range(0..nodes);
                            s.send_to(&[1u8; 64], format!("g{peer}:7")).await.unwrap();
                        }
                    }
                };
                futures::join!(recv, send);
            });
        }
        detsim::time::sleep(Duration::from_secs(60)).await;
    });
    out.result.unwrap();
    // 600 ticks in 60 s (the first at 0), 3 messages each.
    nodes as u64 * 600 * 3
}

/// Gossip over TCP (a connection per peer, opened on first use and kept): returns the
/// number of messages sent.
pub fn gossip_tcp(nodes: u32, trace: TraceMode) -> u64 {
    let out = Sim::new(Config::default().seed(1).trace(trace)).run(async move {
        for i in 0..nodes {
            node::Builder::new(format!("g{i}")).build(move || async move {
                let listener = TcpListener::bind("0.0.0.0:7").await.unwrap();
                detsim::spawn(async move {
                    loop {
                        let (mut s, _) = listener.accept().await.unwrap();
                        detsim::spawn(async move {
                            let mut buf = [0u8; 64];
                            while s.read_exact(&mut buf).await.is_ok() {}
                        });
                    }
                });
                let mut peers: std::collections::BTreeMap<u32, TcpStream> = Default::default();
                let mut tick = detsim::time::interval(Duration::from_millis(100));
                loop {
                    tick.tick().await;
                    for _ in 0..3 {
                        let peer = detsim::rand::gen_range(0..nodes);
                        if let std::collections::btree_map::Entry::Vacant(e) = peers.entry(peer) {
                            e.insert(TcpStream::connect(format!("g{peer}:7")).await.unwrap());
                        }
                        peers
                            .get_mut(&peer)
                            .unwrap()
                            .write_all(&[1u8; 64])
                            .await
                            .unwrap();
                    }
                }
            });
        }
        detsim::time::sleep(Duration::from_secs(60)).await;
    });
    out.result.unwrap();
    nodes as u64 * 600 * 3
}

fn bench_w5(c: &mut Criterion) {
    let mut g = c.benchmark_group("W5 tcp round trips");
    g.throughput(Throughput::Elements(ROUND_TRIPS));
    g.sample_size(10);
    g.bench_function("trace off", |b| b.iter(|| w5(TraceMode::Off)));
    g.bench_function("trace full", |b| b.iter(|| w5(TraceMode::Full)));
    g.finish();
}

fn bench_gossip(c: &mut Criterion) {
    let mut g = c.benchmark_group("gossip udp 60s");
    g.sample_size(10);
    for n in [50u32, 100, 200] {
        g.throughput(Throughput::Elements(n as u64 * 1800));
        g.bench_function(format!("{n} nodes"), |b| {
            b.iter(|| gossip(n, TraceMode::Off))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("gossip tcp 60s");
    g.sample_size(10);
    for n in [50u32, 100, 200] {
        g.throughput(Throughput::Elements(n as u64 * 1800));
        g.bench_function(format!("{n} nodes"), |b| {
            b.iter(|| gossip_tcp(n, TraceMode::Off))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_w5, bench_gossip);
criterion_main!(benches);
