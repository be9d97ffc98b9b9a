//! The simulated network and nodes: each property on a small realistic program.

use detsim::net::{self, Latency, LinkConfig, TcpListener, TcpStream, UdpSocket};
use detsim::node::{self, NodeStatus};
use detsim::{Config, Sim, TraceMode};
use futures::{AsyncReadExt, AsyncWriteExt};
use std::cell::Cell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An echo server on node "server", port 80: echoes every byte back.
fn echo_server() -> node::Node {
    node::Builder::new("server").build(|| async {
        let listener = TcpListener::bind("0.0.0.0:80").await.unwrap();
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            detsim::spawn(async move {
                let mut buf = [0u8; 256];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    })
}

/// Sends 200 numbered 8-byte messages through the echo server and checks that every
/// byte comes back, in order. Returns the virtual time it took.
async fn stream_roundtrip() -> Duration {
    echo_server();
    detsim::time::sleep(ms(1)).await;
    let start = detsim::time::Instant::now();
    let s = TcpStream::connect("server:80").await.unwrap();
    let (mut r, mut w) = s.split();
    let writer = async move {
        for i in 0u64..200 {
            w.write_all(&i.to_le_bytes()).await.unwrap();
        }
    };
    let reader = async move {
        let mut buf = [0u8; 8];
        for i in 0u64..200 {
            r.read_exact(&mut buf).await.unwrap();
            assert_eq!(u64::from_le_bytes(buf), i, "stream reordered or lost bytes");
        }
    };
    futures::join!(writer, reader);
    start.elapsed()
}

#[test]
fn streams_are_ordered_and_reliable_under_loss() {
    let clean = Sim::new(Config::default().seed(1)).run(stream_roundtrip());
    let clean = clean.result.unwrap();
    for seed in 0..20 {
        let out = Sim::new(Config::default().seed(seed)).run(async {
            net::set_default_link(LinkConfig::default().loss(0.3));
            stream_roundtrip().await
        });
        let took = out.result.unwrap_or_else(|f| panic!("seed {seed}: {f}"));
        assert!(
            took > clean,
            "loss must delay the stream: {took:?} vs {clean:?}"
        );
        assert!(out.stats.faults > 0, "seed {seed}: no loss was injected");
        let drops = out
            .trace
            .events()
            .filter(|e| matches!(e.kind, detsim::trace::EventKind::NetDrop { .. }))
            .count();
        assert_eq!(drops as u64, out.stats.faults);
    }
}

/// Sends `n` datagrams from main to a counting sink; returns how many arrived.
async fn datagrams(n: u32, link: LinkConfig) -> u32 {
    net::set_default_link(link);
    let got = Rc::new(Cell::new(0u32));
    let g = got.clone();
    node::Builder::new("sink").build(move || {
        let g = g.clone();
        async move {
            let s = UdpSocket::bind("0.0.0.0:9").await.unwrap();
            let mut buf = [0; 16];
            loop {
                s.recv_from(&mut buf).await.unwrap();
                g.set(g.get() + 1);
            }
        }
    });
    detsim::time::sleep(ms(1)).await;
    let s = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    for i in 0..n {
        s.send_to(&i.to_le_bytes(), "sink:9").await.unwrap();
        if i % 64 == 0 {
            detsim::time::sleep(ms(1)).await; // keep the receive queue short
        }
    }
    detsim::time::sleep(ms(100)).await;
    got.get()
}

#[test]
fn datagram_loss_and_duplication_rates_are_within_bounds() {
    let (n, loss, dup) = (2000u32, 0.2, 0.1);
    let mut total = 0u64;
    for seed in 0..5 {
        let link = LinkConfig::default().loss(loss).duplicate(dup);
        let out =
            Sim::new(Config::default().seed(seed).trace(TraceMode::Off)).run(datagrams(n, link));
        total += out.result.unwrap() as u64;
    }
    // Expected copies per datagram (1 - loss)(1 + dup); 5 sigma of the binomial sums.
    let trials = 5.0 * n as f64;
    let mean = trials * (1.0 - loss) * (1.0 + dup);
    let sigma = (trials * 0.25).sqrt() * 2.0;
    let got = total as f64;
    assert!(
        (got - mean).abs() < 5.0 * sigma,
        "received {got}, expected about {mean}"
    );
    let clean = Sim::new(Config::default().seed(9)).run(datagrams(n, LinkConfig::default()));
    assert_eq!(
        clean.result.unwrap(),
        n,
        "a clean link delivers every datagram once"
    );
}

#[test]
fn datagrams_reorder_with_variable_latency() {
    let out = Sim::new(Config::default().seed(4)).run(async {
        net::set_default_link(LinkConfig::default().latency(Latency::uniform(ms(1), ms(20))));
        let order = Rc::new(std::cell::RefCell::new(Vec::new()));
        let o = order.clone();
        node::Builder::new("sink").build(move || {
            let o = o.clone();
            async move {
                let s = UdpSocket::bind("0.0.0.0:9").await.unwrap();
                let mut buf = [0; 4];
                loop {
                    s.recv_from(&mut buf).await.unwrap();
                    o.borrow_mut().push(u32::from_le_bytes(buf));
                }
            }
        });
        detsim::time::sleep(ms(1)).await;
        let s = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        for i in 0u32..50 {
            s.send_to(&i.to_le_bytes(), "sink:9").await.unwrap();
        }
        detsim::time::sleep(ms(50)).await;
        let v = order.borrow().clone();
        v
    });
    let got = out.result.unwrap();
    assert_eq!(got.len(), 50);
    assert!(
        got.windows(2).any(|w| w[0] > w[1]),
        "no reordering: {got:?}"
    );
}

/// main pings `peer` over UDP; returns whether the ping and the reply arrived.
async fn ping_pong(block: impl FnOnce(node::Node)) -> (bool, bool) {
    let pinged = Rc::new(Cell::new(false));
    let p = pinged.clone();
    let peer = node::Builder::new("peer").build(move || {
        let p = p.clone();
        async move {
            let s = UdpSocket::bind("0.0.0.0:9").await.unwrap();
            let mut buf = [0; 4];
            let (_, from) = s.recv_from(&mut buf).await.unwrap();
            p.set(true);
            s.send_to(b"pong", from).await.unwrap();
        }
    });
    detsim::time::sleep(ms(1)).await;
    block(peer);
    let s = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
    // A one-way partition peer -> main still lets main's ping through.
    s.send_to(b"ping", "peer:9").await.unwrap();
    let mut buf = [0; 4];
    let pong = detsim::time::timeout(ms(100), s.recv_from(&mut buf))
        .await
        .is_ok();
    (pinged.get(), pong)
}

#[test]
fn partitions_block_both_ways_or_one_way_and_heal_restores() {
    let run = |f: fn(node::Node)| {
        Sim::new(Config::default().seed(2))
            .run(ping_pong(f))
            .result
            .unwrap()
    };
    assert_eq!(run(|_| {}), (true, true));
    assert_eq!(
        run(|p| net::partition(p, node::NodeId::MAIN)),
        (false, false)
    );
    assert_eq!(
        run(|p| net::partition_oneway(p, node::NodeId::MAIN)),
        (true, false)
    );
    assert_eq!(
        run(|p| net::partition_oneway(node::NodeId::MAIN, p)),
        (false, false)
    );
    assert_eq!(
        run(|p| {
            net::partition(p, node::NodeId::MAIN);
            net::heal(p, node::NodeId::MAIN);
        }),
        (true, true)
    );
    assert_eq!(run(net::clog), (false, false));
}

#[test]
fn a_partition_stalls_a_stream_then_heal_delivers_or_timeout_fails_it() {
    let run = |stall: Duration| {
        Sim::new(Config::default().seed(3)).run(async move {
            let server = echo_server();
            detsim::time::sleep(ms(1)).await;
            let mut s = TcpStream::connect("server:80").await.unwrap();
            net::partition(server, node::NodeId::MAIN);
            s.write_all(b"held").await.unwrap();
            let healer = detsim::spawn(async move {
                detsim::time::sleep(stall).await;
                net::heal(server, node::NodeId::MAIN);
            });
            let mut buf = [0; 4];
            let start = detsim::time::Instant::now();
            let r = s.read_exact(&mut buf).await;
            let took = start.elapsed();
            healer.await.unwrap();
            (r.map(|_| buf).map_err(|e| e.kind()), took)
        })
    };
    let (r, took) = run(ms(5_000)).result.unwrap();
    assert_eq!(r, Ok(*b"held"));
    assert!(took >= ms(5_000), "delivered before the heal: {took:?}");
    let (r, took) = run(ms(60_000)).result.unwrap();
    assert_eq!(r, Err(ErrorKind::TimedOut));
    assert_eq!(took, ms(30_000), "the default stream timeout");
}

#[test]
fn crash_resets_connections_and_refuses_new_ones() {
    let out = Sim::new(Config::default().seed(5)).run(async {
        let server = echo_server();
        detsim::time::sleep(ms(1)).await;
        let mut s = TcpStream::connect("server:80").await.unwrap();
        s.write_all(b"x").await.unwrap();
        let mut b = [0; 1];
        s.read_exact(&mut b).await.unwrap();
        node::crash(server);
        assert_eq!(server.status(), NodeStatus::Crashed);
        let read = s.read(&mut b).await.unwrap_err().kind();
        let write = s.write_all(b"y").await.unwrap_err().kind();
        let refused = TcpStream::connect("server:80").await.unwrap_err().kind();
        let bad_name = TcpStream::connect("nobody:80").await.unwrap_err().kind();
        (read, write, refused, bad_name)
    });
    let (read, write, refused, bad_name) = out.result.unwrap();
    assert_eq!(read, ErrorKind::ConnectionReset);
    assert_eq!(write, ErrorKind::BrokenPipe);
    assert_eq!(
        refused,
        ErrorKind::TimedOut,
        "a crashed host does not answer"
    );
    assert_eq!(bad_name, ErrorKind::InvalidInput);
    let text = out.trace.to_string();
    assert!(text.contains("CRASH n1:server"), "{text}");
}

#[test]
fn no_listener_is_refused_and_a_taken_port_is_addr_in_use() {
    let out = Sim::new(Config::default().seed(5)).run(async {
        node::Builder::new("idle").build(|| async {});
        let refused = TcpStream::connect("idle:80").await.unwrap_err().kind();
        let _a = TcpListener::bind("0.0.0.0:80").await.unwrap();
        let in_use = TcpListener::bind("0.0.0.0:80").await.unwrap_err().kind();
        let _u = UdpSocket::bind("0.0.0.0:53").await.unwrap();
        let udp_in_use = UdpSocket::bind("0.0.0.0:53").await.unwrap_err().kind();
        let foreign = TcpListener::bind("10.9.9.9:81").await.unwrap_err().kind();
        (refused, in_use, udp_in_use, foreign)
    });
    let got = out.result.unwrap();
    assert_eq!(
        got,
        (
            ErrorKind::ConnectionRefused,
            ErrorKind::AddrInUse,
            ErrorKind::AddrInUse,
            ErrorKind::AddrNotAvailable
        )
    );
}

#[test]
fn restart_reruns_init_and_pause_holds_a_node() {
    let out = Sim::new(Config::default().seed(6)).run(async {
        let boots = Rc::new(Cell::new(0u32));
        let ticks = Rc::new(Cell::new(0u32));
        let (b, t) = (boots.clone(), ticks.clone());
        let n = node::Builder::new("ticker").build(move || {
            b.set(b.get() + 1);
            let t = t.clone();
            async move {
                loop {
                    detsim::time::sleep(ms(10)).await;
                    t.set(t.get() + 1);
                }
            }
        });
        detsim::time::sleep(ms(105)).await;
        let before_pause = ticks.get();
        node::pause(n);
        detsim::time::sleep(ms(100)).await;
        let during_pause = ticks.get();
        node::resume(n);
        detsim::time::sleep(ms(1)).await;
        let after_resume = ticks.get();
        node::restart(n);
        detsim::time::sleep(ms(55)).await;
        (
            before_pause,
            during_pause,
            after_resume,
            boots.get(),
            ticks.get(),
            n.incarnation(),
        )
    });
    let (before, during, after, boots, end, incarnation) = out.result.unwrap();
    assert_eq!(before, 10);
    assert_eq!(during, 10, "a paused node's tasks must not run");
    assert_eq!(after, 11, "the held timer's task runs once on resume");
    assert_eq!(boots, 2, "restart re-runs init");
    assert_eq!(incarnation, 1);
    assert_eq!(end, after + 5);
}

#[test]
fn clock_skew_and_drift_show_in_system_time_not_instant() {
    let out = Sim::new(Config::default().seed(1))
        .node(
            node::Builder::new("fast")
                .clock_drift_ppm(1000)
                .clock_skew_ns(5_000_000),
            || async {},
        )
        .run(async {
            detsim::time::sleep(Duration::from_secs(10)).await;
            let main = detsim::time::SystemTime::now();
            let (tx, rx) = detsim::sync::oneshot::channel();
            let tx = std::cell::RefCell::new(Some(tx));
            node::Builder::new("probe")
                .clock_drift_ppm(1000)
                .clock_skew_ns(5_000_000)
                .build(move || {
                    let tx = tx.borrow_mut().take();
                    async move {
                        let _ = tx.unwrap().send((
                            detsim::time::SystemTime::now(),
                            detsim::time::Instant::now(),
                        ));
                    }
                });
            let (probe, instant) = rx.await.unwrap();
            (probe.duration_since(main).unwrap(), instant.elapsed())
        });
    let (ahead, instant_gap) = out.result.unwrap();
    // 5 ms of skew plus 1000 ppm of 10 s = 15 ms.
    assert_eq!(ahead, ms(15));
    assert_eq!(instant_gap, Duration::ZERO);
}

#[test]
fn same_seed_same_trace_including_network_events_and_trace_off_agrees() {
    let program = || async {
        net::set_default_link(
            LinkConfig::default()
                .latency(Latency::uniform(ms(1), ms(9)))
                .loss(0.1)
                .duplicate(0.1),
        );
        stream_roundtrip().await;
        datagrams(100, LinkConfig::default().loss(0.2).duplicate(0.2)).await
    };
    let a = Sim::new(Config::default().seed(11)).run(program());
    let b = Sim::new(Config::default().seed(11)).run(program());
    // Event lines only: the header names where `Sim::run` was called.
    let events = |t: &detsim::Trace| {
        t.to_string()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.contains("spawn t0:main"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        events(&a.trace) == events(&b.trace),
        "same seed, different traces"
    );
    let text = a.trace.to_string();
    for needle in [
        "send tcp",
        "deliver tcp",
        "DROP udp",
        "DUPLICATE udp",
        "# node n1 server",
    ] {
        assert!(text.contains(needle), "missing `{needle}`");
    }
    let off = Sim::new(Config::default().seed(11).trace(TraceMode::Off)).run(program());
    assert_eq!(off.fingerprint, a.fingerprint);
    let other =
        std::thread::spawn(move || Sim::new(Config::default().seed(11)).run(program()).trace)
            .join()
            .unwrap();
    assert!(
        events(&other) == events(&a.trace),
        "another thread, different trace"
    );
    assert_eq!(other.fingerprint, a.fingerprint);
    let replay = Sim::new(Config::default().seed(999))
        .replay(a.schedule.clone())
        .run(program());
    assert_eq!(replay.fingerprint, a.fingerprint);
}

/// The README's example, verbatim in substance.
#[test]
fn the_readme_example_runs_as_described() {
    let out = Sim::new(Config::default().seed(3)).run(async {
        net::set_default_link(
            LinkConfig::default()
                .latency(Latency::uniform(ms(1), ms(5)))
                .loss(0.1),
        );
        let server = node::Builder::new("server").build(|| async {
            let l = TcpListener::bind("0.0.0.0:80").await.unwrap();
            let (mut s, _) = l.accept().await.unwrap();
            let mut b = [0; 4];
            s.read_exact(&mut b).await.unwrap();
            s.write_all(&b).await.unwrap();
            futures::future::pending::<()>().await;
        });
        let mut s = TcpStream::connect("server:80").await.unwrap();
        s.write_all(b"ping").await.unwrap();
        let mut b = [0; 4];
        s.read_exact(&mut b).await.unwrap();
        node::crash(server);
        s.read(&mut b).await.unwrap_err().kind()
    });
    assert_eq!(out.result.unwrap(), ErrorKind::ConnectionReset);
    let view = out.trace.view().world_only().to_string();
    assert!(
        view.contains("CRASH n1:server") && !view.contains(" poll"),
        "{view}"
    );
}

#[test]
fn chrome_and_html_show_world_events() {
    let out = Sim::new(Config::default().seed(5)).run(async {
        let server = echo_server();
        detsim::time::sleep(ms(1)).await;
        let mut s = TcpStream::connect("server:80").await.unwrap();
        s.write_all(b"x").await.unwrap();
        net::partition(server, node::NodeId::MAIN);
        net::heal(server, node::NodeId::MAIN);
        node::crash(server);
    });
    out.result.unwrap();
    let chrome = detsim::trace::to_chrome_json(&out.trace);
    let v: serde_json::Value = serde_json::from_str(&chrome).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    let on_node = |name: &str| events.iter().any(|e| e["pid"] == 2 && e["name"] == name);
    for name in ["net_send", "net_deliver", "partition", "heal", "node_crash"] {
        assert!(on_node(name), "no {name} on a node track");
    }
    assert!(events
        .iter()
        .any(|e| e["ph"] == "M" && e["args"]["name"] == "n1 server"));
    let html = detsim::trace::to_html(&out.trace);
    // The page's event list holds the text form of each event (in its JSON model).
    assert!(html.contains("CRASH n1:server") && html.contains("PARTITION n1:server -x-> n0:main"));
}

#[test]
fn long_tail_latency_has_a_tail_and_replay_covers_network_choices() {
    let program = |tail: f64| async move {
        net::set_default_link(LinkConfig::default().latency(Latency::LongTail {
            min_us: 1_000,
            max_us: 2_000,
            tail,
            tail_max_us: 500_000,
        }));
        let got = Rc::new(std::cell::RefCell::new(Vec::new()));
        let g = got.clone();
        node::Builder::new("sink").build(move || {
            let g = g.clone();
            async move {
                let s = UdpSocket::bind("0.0.0.0:9").await.unwrap();
                let mut buf = [0; 8];
                loop {
                    s.recv_from(&mut buf).await.unwrap();
                    g.borrow_mut()
                        .push(detsim::time::Instant::now().as_nanos() - u64::from_le_bytes(buf));
                }
            }
        });
        detsim::time::sleep(ms(1)).await;
        let s = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        for _ in 0..200 {
            let now = detsim::time::Instant::now().as_nanos();
            s.send_to(&now.to_le_bytes(), "sink:9").await.unwrap();
            detsim::time::sleep(ms(1)).await;
        }
        detsim::time::sleep(ms(600)).await;
        let v = got.borrow().clone();
        v
    };
    let out = Sim::new(Config::default().seed(8)).run(program(0.1));
    let lat = out.result.unwrap();
    assert_eq!(lat.len(), 200);
    let slow = lat.iter().filter(|&&l| l > 2_000_000).count();
    assert!((5..60).contains(&slow), "{slow} of 200 in the tail");
    assert!(lat.iter().all(|&l| (1_000_000..=500_000_000).contains(&l)));
    // The schedule replays to the same run; under another latency model it diverges.
    let again = Sim::new(Config::default().seed(1))
        .replay(out.schedule.clone())
        .run(program(0.1));
    assert_eq!(again.fingerprint, out.fingerprint);
    let changed = Sim::new(Config::default().seed(1))
        .replay(out.schedule.clone())
        .run(program(0.0));
    assert!(
        matches!(changed.result, Err(detsim::Failure::Divergence { .. })),
        "{:?}",
        changed.result.err()
    );
}

/// `&TcpStream` reads and writes too: a reading task and a writing task share one
/// stream through an `Arc` (no lock), and a shutdown through a reference sends a FIN.
#[test]
fn a_stream_shared_by_reference_reads_and_writes_from_two_tasks() {
    for seed in 0..10 {
        let out = Sim::new(Config::default().seed(seed)).run(async {
            echo_server();
            detsim::time::sleep(ms(1)).await;
            let s = std::sync::Arc::new(TcpStream::connect("server:80").await.unwrap());
            let w = s.clone();
            let writer = detsim::spawn(async move {
                let mut w = &*w;
                for i in 0u32..50 {
                    w.write_all(&i.to_le_bytes()).await.unwrap();
                }
                w.close().await.unwrap();
            });
            let mut r = &*s;
            let mut got = Vec::new();
            r.read_to_end(&mut got).await.unwrap();
            writer.await.unwrap();
            got
        });
        let got = out.result.unwrap();
        let want: Vec<u8> = (0u32..50).flat_map(u32::to_le_bytes).collect();
        assert_eq!(
            got, want,
            "seed {seed}: echoed bytes, then EOF after our FIN"
        );
    }
}
