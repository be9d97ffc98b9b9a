//! The facade's `net`, `io` and `fs` on detsim's simulated world, written with tokio's
//! paths: echo servers on nodes, error kinds, datagrams, buffered io, the disk.

use detsim::net::{set_default_link, LinkConfig};
use detsim::{node, Config, Sim};
use std::io::ErrorKind;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

fn run<T: 'static>(seed: u64, f: impl std::future::Future<Output = T> + 'static) -> T {
    match Sim::new(Config::default().seed(seed)).run(f).result {
        Ok(v) => v,
        Err(failure) => panic!("seed {seed}: {failure}"),
    }
}

/// A line echo server on node `server`, port 7: BufReader lines over the read half,
/// BufWriter over the write half.
fn echo_server() -> node::Node {
    node::Builder::new("server").build(|| async {
        let listener = TcpListener::bind("0.0.0.0:7").await.unwrap();
        loop {
            let (stream, peer) = listener.accept().await.unwrap();
            assert_eq!(stream.peer_addr().unwrap(), peer);
            tokio::spawn(async move {
                let (read, write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let mut out = BufWriter::new(write);
                // Errors end the connection (the tests check the client's side).
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply = format!("{}\n", line.to_uppercase());
                    if out.write_all(reply.as_bytes()).await.is_err() || out.flush().await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    })
}

async fn connect_retrying(addr: &str) -> TcpStream {
    loop {
        match TcpStream::connect(addr).await {
            Ok(s) => return s,
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                tokio::time::sleep(Duration::from_millis(1)).await
            }
            Err(e) => panic!("connect: {e}"),
        }
    }
}

#[test]
fn a_line_echo_server_on_a_node_answers_over_split_buffered_streams() {
    for seed in 0..20 {
        let lines = run(seed, async {
            echo_server();
            let mut s = connect_retrying("server:7").await;
            s.set_nodelay(true).unwrap();
            assert!(s.nodelay().unwrap());
            let server_ip = tokio::net::lookup_host("server:7")
                .await
                .unwrap()
                .next()
                .unwrap();
            assert_eq!(s.peer_addr().unwrap(), server_ip);
            let (r, mut w) = s.split();
            w.write_all(b"hello\nworld\n").await.unwrap();
            let mut r = BufReader::new(r);
            let (mut a, mut b) = (String::new(), String::new());
            r.read_line(&mut a).await.unwrap();
            r.read_line(&mut b).await.unwrap();
            w.shutdown().await.unwrap();
            let mut rest = Vec::new();
            r.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty(), "the server closes after our FIN");
            (a, b)
        });
        assert_eq!(lines, ("HELLO\n".into(), "WORLD\n".into()));
    }
}

#[test]
fn errors_have_tokios_kinds() {
    run(1, async {
        let server = echo_server();
        // Nothing listens on port 9: refused.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let e = TcpStream::connect("server:9").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        // A port taken on this node.
        let _l = TcpListener::bind("0.0.0.0:80").await.unwrap();
        let e = TcpListener::bind("0.0.0.0:80").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AddrInUse);
        // The server crashes under an open connection: reset, then broken pipe.
        let mut s = connect_retrying("server:7").await;
        s.write_all(b"x\n").await.unwrap();
        let mut line = [0u8; 2];
        s.read_exact(&mut line).await.unwrap();
        node::crash(server.id());
        let e = s.read(&mut line).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionReset);
        let e = s.write_all(b"y\n").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BrokenPipe);
        // An unknown host name is a clear error.
        let e = TcpStream::connect("nowhere:1").await.unwrap_err();
        assert!(e.to_string().contains("nowhere"), "{e}");
    });
}

#[test]
fn a_partition_longer_than_the_stream_timeout_times_out() {
    run(2, async {
        set_default_link(LinkConfig::default().stream_timeout(Duration::from_millis(500)));
        let server = echo_server();
        let mut s = connect_retrying("server:7").await;
        detsim::net::partition(node::current().id(), server.id());
        s.write_all(b"lost\n").await.unwrap();
        let mut buf = [0u8; 8];
        let e = s.read(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TimedOut);
    });
}

#[test]
fn udp_sockets_send_receive_and_filter_by_connected_peer() {
    run(3, async {
        node::Builder::new("peer").build(|| async {
            let s = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
            let mut buf = [0u8; 16];
            let (n, from) = s.recv_from(&mut buf).await.unwrap();
            s.send_to(&buf[..n], from).await.unwrap();
        });
        let stranger_task = tokio::spawn(async {
            let s = UdpSocket::bind("0.0.0.0:6000").await.unwrap();
            s.send_to(b"noise", "main:7000").await.unwrap();
        });
        let s = UdpSocket::bind("0.0.0.0:7000").await.unwrap();
        let e = s.send(b"x").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotConnected);
        s.connect("peer:5000").await.unwrap();
        assert_eq!(s.peer_addr().unwrap().port(), 5000);
        stranger_task.await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        s.send(b"ping").await.unwrap();
        let mut buf = [0u8; 16];
        let n = s.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping", "the stranger's datagram was discarded");
    });
}

#[test]
fn io_helpers_follow_tokio() {
    run(4, async {
        // read_buf into BytesMut, integers both ways.
        let (mut a, mut b) = tokio::io::duplex(16);
        let writer = tokio::spawn(async move {
            a.write_u32(0xdead_beef).await.unwrap();
            a.write_i16_le(-2).await.unwrap();
            a.write_all(&[7; 40]).await.unwrap(); // more than the pipe holds: waits
            a
        });
        assert_eq!(b.read_u32().await.unwrap(), 0xdead_beef);
        assert_eq!(b.read_i16_le().await.unwrap(), -2);
        let mut buf = bytes::BytesMut::with_capacity(64);
        while buf.len() < 40 {
            assert!(b.read_buf(&mut buf).await.unwrap() > 0);
        }
        assert_eq!(&buf[..], &[7; 40]);
        drop(writer.await.unwrap());
        assert_eq!(
            b.read_buf(&mut buf).await.unwrap(),
            0,
            "EOF once the peer is gone"
        );

        // BufWriter holds bytes until flush.
        let (a, mut b) = tokio::io::duplex(64);
        let mut w = BufWriter::new(a);
        w.write_all(b"held").await.unwrap();
        assert_eq!(w.buffer(), b"held");
        w.flush().await.unwrap();
        let mut four = [0u8; 4];
        b.read_exact(&mut four).await.unwrap();
        assert_eq!(&four, b"held");

        // copy_bidirectional through a proxy: both directions, then shutdowns.
        let (mut client, mut proxy_a) = tokio::io::duplex(8);
        let (mut proxy_b, mut upstream) = tokio::io::duplex(8);
        let proxy = tokio::spawn(async move {
            tokio::io::copy_bidirectional(&mut proxy_a, &mut proxy_b)
                .await
                .unwrap()
        });
        client.write_all(b"request!!").await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        upstream.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"request!!");
        upstream.write_all(b"reply").await.unwrap();
        upstream.shutdown().await.unwrap();
        let mut got = String::new();
        client.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "reply");
        assert_eq!(proxy.await.unwrap(), (9, 5));

        // split / unsplit, take, chain, copy into a sink, lines of a slice.
        let (one, _other) = tokio::io::duplex(8);
        let (r, w) = tokio::io::split(one);
        assert!(r.is_pair_of(&w));
        let _one = r.unsplit(w);
        let mut chained = (&b"ab"[..]).chain(&b"cd"[..]).take(3);
        let mut s = String::new();
        chained.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "abc");
        let n = tokio::io::copy(
            &mut tokio::io::repeat(1).take(10_000),
            &mut tokio::io::sink(),
        )
        .await
        .unwrap();
        assert_eq!(n, 10_000);
        let mut lines = (&b"a\r\nb\nc"[..]).lines();
        let mut all = Vec::new();
        while let Some(l) = lines.next_line().await.unwrap() {
            all.push(l);
        }
        assert_eq!(all, ["a", "b", "c"]);
        let mut e = tokio::io::empty();
        assert_eq!(e.read(&mut four).await.unwrap(), 0);
    });
}

#[test]
fn files_on_the_simulated_disk_and_a_crash_keeps_only_synced_data() {
    let out = run(5, async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let db = node::Builder::new("db").build(move || {
            let tx = tx.clone();
            async move {
                tokio::fs::create_dir_all("data/wal").await.unwrap();
                if tokio::fs::try_exists("data/wal/synced").await.unwrap() {
                    // After the restart: report what survived.
                    let synced = tokio::fs::read_to_string("data/wal/synced").await.unwrap();
                    let gone = tokio::fs::metadata("data/wal/renamed")
                        .await
                        .unwrap_err()
                        .kind();
                    tx.send((synced, gone)).unwrap();
                    return;
                }
                tokio::fs::write("data/wal/synced", b"durable")
                    .await
                    .unwrap();
                let f = tokio::fs::File::open("data/wal/synced").await.unwrap();
                f.sync_all().await.unwrap();
                // Names are durable top-down: each directory's entry, then its children.
                tokio::fs::sync_dir("").await.unwrap();
                tokio::fs::sync_dir("data").await.unwrap();
                tokio::fs::sync_dir("data/wal").await.unwrap();
                let mut f = tokio::fs::OpenOptions::new()
                    .create(true)
                    .truncate(true)
                    .write(true)
                    .read(true)
                    .open("data/wal/unsynced")
                    .await
                    .unwrap();
                f.write_all(b"volatile").await.unwrap();
                f.rewind().await.unwrap();
                let mut back = String::new();
                f.read_to_string(&mut back).await.unwrap();
                assert_eq!(back, "volatile");
                assert_eq!(f.seek(std::io::SeekFrom::End(-3)).await.unwrap(), 5);
                assert_eq!(f.metadata().await.unwrap().len(), 8);
                tokio::fs::rename("data/wal/unsynced", "data/wal/renamed")
                    .await
                    .unwrap();
                let mut names = Vec::new();
                let mut dir = tokio::fs::read_dir("data/wal").await.unwrap();
                while let Some(e) = dir.next_entry().await.unwrap() {
                    names.push(e.file_name().into_string().unwrap());
                }
                assert_eq!(names, ["renamed", "synced"]);
                std::future::pending::<()>().await;
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        node::crash(db.id());
        node::restart(db.id());
        rx.recv().await.unwrap()
    });
    assert_eq!(out, ("durable".to_string(), ErrorKind::NotFound));
}

#[test]
fn block_on_takes_a_future_that_borrows() {
    let words = ["a".to_string(), "b".to_string()];
    let rt = tokio::runtime::Runtime::new().unwrap();
    let joined = rt.block_on(async {
        tokio::task::yield_now().await;
        words.join("+")
    });
    assert_eq!(joined, "a+b");
    let first: &String = rt.block_on(async { &words[0] });
    assert_eq!(first, "a");
}
