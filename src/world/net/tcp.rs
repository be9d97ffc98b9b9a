//! Streams: [`TcpListener`] and [`TcpStream`] (reliable, ordered, never hung forever).
//!
//! A connection is two *ends* (0: the connecting side, 1: the accepted side). Every
//! message between them — connection set-up (SYN, SYN-ACK), data, FIN, RST — is a
//! segment scheduled as a world event. Invariants:
//! 1. **Order.** Segments to one end are delivered at strictly increasing times:
//!    `max(previous delivery + 1 ns, now + latency + retransmissions)`, so no two share
//!    an instant and the `Timer` choice can never reorder a stream.
//! 2. **Loss is delay.** Each lost transmission (a recorded choice, 0 = delivered) adds
//!    the retransmission timeout, doubling, and shows as a `DROP` event.
//! 3. **Partitions hold, then fail.** A segment sent over a blocked link waits in its
//!    end's `held` queue until the link heals; if it is still held after the link's
//!    `stream_timeout_ms`, both ends fail with `TimedOut`.
//! 4. **Crash resets.** A crashed node's ends close at once; the peer gets an RST after
//!    one latency (reads: `ConnectionReset`, writes: `BrokenPipe`).

use super::super::{ctx, link, World};
use crate::runtime::context;
use crate::trace::{EventKind, Proto};
use futures::io::{AsyncRead, AsyncWrite};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Syn,
    SynAck,
    Data,
    Fin,
    Rst(io::ErrorKind),
}

/// A message to one end of a connection.
pub(crate) struct Segment {
    conn: u32,
    to: u8,
    kind: Kind,
    data: Vec<u8>,
}

struct End {
    node: u32,
    addr: SocketAddr,
    rx: VecDeque<u8>,
    /// The peer's FIN arrived: reads past `rx` return 0.
    fin: bool,
    error: Option<io::ErrorKind>,
    /// The reader's (or connecting task's) waker.
    waker: Option<Waker>,
    // invariant: the delivery time of the last segment scheduled to this end.
    last_delivery: u64,
    /// Segments to this end held by a partition, in order.
    held: VecDeque<Segment>,
    /// When the current stall began (a `Stall` action checks it is unchanged).
    stall_since: Option<u64>,
    established: bool,
    write_closed: bool,
    /// False once its owner dropped it or its node crashed.
    open: bool,
}

impl End {
    fn new(node: u32, addr: SocketAddr, open: bool) -> Self {
        End {
            node,
            addr,
            rx: VecDeque::new(),
            fin: false,
            error: None,
            waker: None,
            last_delivery: 0,
            held: VecDeque::new(),
            stall_since: None,
            established: false,
            write_closed: false,
            open,
        }
    }

    fn wake(&mut self, wakers: &mut Vec<Waker>) {
        if let Some(w) = self.waker.take() {
            wakers.push(w);
        }
    }
}

struct Conn {
    ends: [End; 2],
}

struct Listener {
    node: u32,
    addr: SocketAddr,
    backlog: VecDeque<(u32, SocketAddr)>,
    waker: Option<Waker>,
}

/// Streams state of a run.
#[derive(Default)]
pub(crate) struct TcpState {
    listeners: Vec<Option<Listener>>,
    by_port: BTreeMap<(u32, u16), u32>,
    conns: Vec<Conn>,
    /// Number of ends with held segments (heal checks nothing when 0).
    held: usize,
    // invariant: (node, port) of every open connecting-side end.
    client_ports: BTreeSet<(u32, u16)>,
}

impl TcpState {
    fn port_in_use(&self, node: u32, port: u16) -> bool {
        self.by_port.contains_key(&(node, port)) || self.client_ports.contains(&(node, port))
    }

    /// Marks end `end` of `conn` closed (keeping `client_ports` in step).
    fn close_end(&mut self, conn: u32, end: usize) {
        let e = &mut self.conns[conn as usize].ends[end];
        e.open = false;
        e.rx = VecDeque::new();
        e.waker = None;
        if end == 0 {
            self.client_ports.remove(&(e.node, e.addr.port()));
        }
    }
}

fn wake_all(wakers: Vec<Waker>) {
    for w in wakers {
        w.wake();
    }
}

/// Sends a segment from end `from` of `conn` (held if the link is blocked).
fn send(w: &World, conn: u32, from: u8, kind: Kind, data: Vec<u8>) {
    let to = 1 - from;
    let (from_node, to_node) = {
        let net = w.net.borrow();
        let c = &net.tcp.conns[conn as usize];
        (c.ends[from as usize].node, c.ends[to as usize].node)
    };
    ctx::emit(EventKind::NetSend {
        proto: Proto::Tcp,
        from: from_node,
        to: to_node,
        bytes: data.len() as u32,
    });
    let seg = Segment {
        conn,
        to,
        kind,
        data,
    };
    if w.links.borrow().is_blocked(from_node, to_node) {
        hold(w, seg, from_node, to_node);
    } else {
        schedule(w, seg, from_node, to_node);
    }
}

fn hold(w: &World, seg: Segment, from_node: u32, to_node: u32) {
    let now = ctx::now();
    let timeout = w
        .links
        .borrow()
        .config(from_node, to_node)
        .stream_timeout_ms;
    let (conn, to) = (seg.conn, seg.to);
    let arm = {
        let mut net = w.net.borrow_mut();
        let tcp = &mut net.tcp;
        let end = &mut tcp.conns[conn as usize].ends[to as usize];
        if end.held.is_empty() {
            tcp.held += 1;
        }
        let end = &mut tcp.conns[conn as usize].ends[to as usize];
        end.held.push_back(seg);
        end.stall_since.is_none().then(|| {
            end.stall_since = Some(now);
            now
        })
    };
    if let Some(since) = arm {
        let at = now.saturating_add(timeout.saturating_mul(1_000_000));
        ctx::arm(at, move |w| stall_timeout(w, conn, to, since));
    }
}

/// Schedules a segment's delivery (invariants 1 and 2).
fn schedule(w: &World, seg: Segment, from_node: u32, to_node: u32) {
    let now = ctx::now();
    let delay = match from_node == to_node {
        true => 0,
        false => transit_time(w, from_node, to_node, seg.data.len() as u32),
    };
    let at = {
        let mut net = w.net.borrow_mut();
        let end = &mut net.tcp.conns[seg.conn as usize].ends[seg.to as usize];
        let at = (now + delay).max(end.last_delivery + 1);
        end.last_delivery = at;
        at
    };
    ctx::arm(at, move |w| deliver(w, seg));
}

/// Latency plus retransmission delays for one segment (recorded choices).
fn transit_time(w: &World, from: u32, to: u32, bytes: u32) -> u64 {
    let (latency, loss, rto_ms) = {
        let links = w.links.borrow();
        let c = links.config(from, to);
        (
            c.latency.clone(),
            link::loss(&links, from, to),
            c.retransmit_ms,
        )
    };
    let mut delay = latency.sample(w) + super::super::fault::injected_delay(w);
    let mut rto = rto_ms.saturating_mul(1_000_000);
    // Bounded: a stream is delayed by loss, never hung by it.
    for _ in 0..8 {
        if !ctx::fault(w, loss) {
            break;
        }
        let proto = Proto::Tcp;
        ctx::emit(EventKind::NetDrop {
            proto,
            from,
            to,
            bytes,
        });
        delay = delay.saturating_add(rto);
        rto = rto.saturating_mul(2);
    }
    delay
}

/// A segment arrives (a world event).
pub(crate) fn deliver(w: &World, seg: Segment) {
    let (from_node, to_node, open) = {
        let net = w.net.borrow();
        let c = &net.tcp.conns[seg.conn as usize];
        let to = &c.ends[seg.to as usize];
        (c.ends[1 - seg.to as usize].node, to.node, to.open)
    };
    let bytes = seg.data.len() as u32;
    let proto = Proto::Tcp;
    if seg.kind == Kind::Syn {
        return accept_syn(w, seg, from_node, to_node);
    }
    if !open {
        ctx::emit(EventKind::NetDrop {
            proto,
            from: from_node,
            to: to_node,
            bytes,
        });
        if matches!(seg.kind, Kind::Data | Kind::SynAck) && w.nodes.borrow().is_up(to_node) {
            // Data to a closed socket of a live host is answered with a reset.
            send(
                w,
                seg.conn,
                seg.to,
                Kind::Rst(io::ErrorKind::ConnectionReset),
                Vec::new(),
            );
        }
        return;
    }
    ctx::emit(EventKind::NetDeliver {
        proto,
        from: from_node,
        to: to_node,
        bytes,
    });
    let mut wakers = Vec::new();
    {
        let mut net = w.net.borrow_mut();
        let end = &mut net.tcp.conns[seg.conn as usize].ends[seg.to as usize];
        match seg.kind {
            Kind::Data => end.rx.extend(seg.data.iter()),
            Kind::Fin => end.fin = true,
            Kind::Rst(kind) => end.error = end.error.or(Some(kind)),
            Kind::SynAck => {
                end.established = true;
                end.stall_since = None;
            }
            Kind::Syn => unreachable!("handled above"),
        }
        end.wake(&mut wakers);
    }
    wake_all(wakers);
}

/// A SYN reaches the listening side: queue the connection, or refuse it.
fn accept_syn(w: &World, seg: Segment, from_node: u32, to_node: u32) {
    let proto = Proto::Tcp;
    let client_open = w.net.borrow().tcp.conns[seg.conn as usize].ends[0].open;
    if !client_open || !w.nodes.borrow().is_up(to_node) {
        // No one to answer: the connecting side times out (its stall is armed).
        ctx::emit(EventKind::NetDrop {
            proto,
            from: from_node,
            to: to_node,
            bytes: 0,
        });
        return;
    }
    ctx::emit(EventKind::NetDeliver {
        proto,
        from: from_node,
        to: to_node,
        bytes: 0,
    });
    let mut wakers = Vec::new();
    let accepted = {
        let mut net = w.net.borrow_mut();
        let tcp = &mut net.tcp;
        let port = tcp.conns[seg.conn as usize].ends[1].addr.port();
        let client = tcp.conns[seg.conn as usize].ends[0].addr;
        match tcp.by_port.get(&(to_node, port)).copied() {
            Some(l) => {
                let l = tcp.listeners[l as usize]
                    .as_mut()
                    .expect("by_port names live listeners");
                l.backlog.push_back((seg.conn, client));
                if let Some(w) = l.waker.take() {
                    wakers.push(w);
                }
                tcp.conns[seg.conn as usize].ends[1].open = true;
                tcp.conns[seg.conn as usize].ends[1].established = true;
                true
            }
            None => false,
        }
    };
    wake_all(wakers);
    let answer = match accepted {
        true => Kind::SynAck,
        false => Kind::Rst(io::ErrorKind::ConnectionRefused),
    };
    send(w, seg.conn, 1, answer, Vec::new());
}

/// A stall's timeout fires: fail the connection unless the stall ended meanwhile.
pub(crate) fn stall_timeout(w: &World, conn: u32, end: u8, since: u64) {
    let mut wakers = Vec::new();
    {
        let mut net = w.net.borrow_mut();
        let tcp = &mut net.tcp;
        let c = &mut tcp.conns[conn as usize];
        if c.ends[end as usize].stall_since != Some(since) {
            return;
        }
        for e in &mut c.ends {
            e.stall_since = None;
            if !e.held.is_empty() {
                e.held.clear();
                tcp.held -= 1;
            }
            if e.open {
                e.error = e.error.or(Some(io::ErrorKind::TimedOut));
            }
            e.wake(&mut wakers);
        }
    }
    ctx::emit(EventKind::Fault {
        what: "stream_timeout",
        node: 0,
        value: conn as u64,
    });
    wake_all(wakers);
}

/// After a heal or unclog: schedules held segments whose link is open again, in order.
pub(crate) fn release_held(w: &World) {
    if w.net.borrow().tcp.held == 0 {
        return;
    }
    let ready: Vec<(Segment, u32, u32)> = {
        let links = w.links.borrow();
        let mut net = w.net.borrow_mut();
        let tcp = &mut net.tcp;
        let mut out = Vec::new();
        for c in &mut tcp.conns {
            for to in 0..2 {
                let (from_node, to_node) = (c.ends[1 - to].node, c.ends[to].node);
                let e = &mut c.ends[to];
                if e.held.is_empty() || links.is_blocked(from_node, to_node) {
                    continue;
                }
                e.stall_since = None;
                out.extend(e.held.drain(..).map(|s| (s, from_node, to_node)));
                tcp.held -= 1;
            }
        }
        out
    };
    for (seg, from, to) in ready {
        schedule(w, seg, from, to);
    }
}

/// Node `n` crashed: close its listeners and ends; reset their peers (invariant 4).
pub(crate) fn crash(w: &World, n: u32) {
    let mut resets = Vec::new();
    let mut dropped = Vec::new();
    {
        let mut net = w.net.borrow_mut();
        let tcp = &mut net.tcp;
        tcp.by_port.retain(|&(node, _), _| node != n);
        for l in tcp.listeners.iter_mut() {
            if l.as_ref().is_some_and(|l| l.node == n) {
                dropped.push(l.take());
            }
        }
        for id in 0..tcp.conns.len() as u32 {
            for i in 0..2 {
                let c = &tcp.conns[id as usize];
                if c.ends[i].node != n || !c.ends[i].open {
                    continue;
                }
                let peer = &c.ends[1 - i];
                if peer.open && peer.node != n {
                    resets.push((id, i as u8));
                }
                tcp.close_end(id, i);
            }
        }
    }
    drop(dropped);
    for (conn, from) in resets {
        let seg = Segment {
            conn,
            to: 1 - from,
            kind: Kind::Rst(io::ErrorKind::ConnectionReset),
            data: Vec::new(),
        };
        let to_node = w.net.borrow().tcp.conns[conn as usize].ends[1 - from as usize].node;
        schedule(w, seg, n, to_node);
    }
}

/// A socket listening for connections.
///
/// ```
/// use detsim::{Config, Sim, node, net::{TcpListener, TcpStream}};
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// let out = Sim::new(Config::default().seed(1)).run(async {
///     node::Builder::new("server").build(|| async {
///         let listener = TcpListener::bind("0.0.0.0:80").await.unwrap();
///         loop {
///             let (mut s, _) = listener.accept().await.unwrap();
///             detsim::spawn(async move {
///                 let mut buf = [0; 5];
///                 s.read_exact(&mut buf).await.unwrap();
///                 s.write_all(&buf).await.unwrap();
///             });
///         }
///     });
///     detsim::time::sleep(std::time::Duration::from_millis(1)).await;
///     let mut s = TcpStream::connect("server:80").await.unwrap();
///     s.write_all(b"hello").await.unwrap();
///     let mut buf = [0; 5];
///     s.read_exact(&mut buf).await.unwrap();
///     buf
/// });
/// assert_eq!(&out.result.unwrap(), b"hello");
/// ```
#[derive(Debug)]
pub struct TcpListener {
    id: u32,
    addr: SocketAddr,
}

impl TcpListener {
    /// Listens on `addr` of the calling task's node (`0.0.0.0:port`, `ip:port`; port 0
    /// picks a free port). `AddrInUse` if the port is taken on that node.
    pub async fn bind(addr: impl super::ToSocketAddr) -> io::Result<TcpListener> {
        let addr = addr.to_socket_addr()?;
        context::world(|w| {
            let (node, mut addr) = super::local_node_addr(w, addr)?;
            if addr.port() == 0 {
                let net = w.net.borrow();
                let port = super::ephemeral_port(w, node, |p| net.tcp.port_in_use(node, p))?;
                addr.set_port(port);
            }
            let mut net = w.net.borrow_mut();
            let tcp = &mut net.tcp;
            if tcp.by_port.contains_key(&(node, addr.port())) {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("address {addr} is already in use"),
                ));
            }
            let id = tcp.listeners.len() as u32;
            tcp.listeners.push(Some(Listener {
                node,
                addr,
                backlog: VecDeque::new(),
                waker: None,
            }));
            tcp.by_port.insert((node, addr.port()), id);
            Ok(TcpListener { id, addr })
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }

    /// Waits for the next connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        futures::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        context::world(|w| {
            let mut net = w.net.borrow_mut();
            let tcp = &mut net.tcp;
            let Some(Some(l)) = tcp.listeners.get_mut(self.id as usize) else {
                let e = io::Error::new(
                    io::ErrorKind::NotConnected,
                    "listener closed (node crashed)",
                );
                return Poll::Ready(Err(e));
            };
            match l.backlog.pop_front() {
                Some((conn, peer)) => Poll::Ready(Ok((
                    TcpStream {
                        conn,
                        end: 1,
                        local: l.addr,
                        peer,
                    },
                    peer,
                ))),
                None => {
                    l.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        context::try_world(|w| {
            let pending: Vec<u32> = {
                let mut net = w.net.borrow_mut();
                let tcp = &mut net.tcp;
                let Some(l) = tcp
                    .listeners
                    .get_mut(self.id as usize)
                    .and_then(Option::take)
                else {
                    return;
                };
                tcp.by_port.remove(&(l.node, l.addr.port()));
                l.backlog.iter().map(|(c, _)| *c).collect()
            };
            for conn in pending {
                close(w, conn, 1, Kind::Rst(io::ErrorKind::ConnectionReset));
            }
        });
    }
}

/// One end of a connection: `futures::io::{AsyncRead, AsyncWrite}`.
///
/// Writes never block (the send buffer is unbounded) and return once the bytes are
/// scheduled; reads wait for delivered bytes. Dropping it (or `close`) sends a FIN.
#[derive(Debug)]
pub struct TcpStream {
    conn: u32,
    end: u8,
    local: SocketAddr,
    peer: SocketAddr,
}

impl TcpStream {
    /// Connects from the calling task's node to `addr` (`"node-name:port"` works).
    /// `ConnectionRefused` if nothing listens there, `TimedOut` if the SYN cannot get
    /// through (partition, crashed host) within the link's stream timeout.
    pub async fn connect(addr: impl super::ToSocketAddr) -> io::Result<TcpStream> {
        let addr = addr.to_socket_addr()?;
        let (conn, local) = context::world(|w| start_connect(w, addr))?;
        let mut pending = Connecting { conn, done: false };
        futures::future::poll_fn(|cx| pending.poll_connect(cx)).await?;
        pending.done = true;
        Ok(TcpStream {
            conn,
            end: 0,
            local,
            peer: addr,
        })
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }
}

fn start_connect(w: &World, addr: SocketAddr) -> io::Result<(u32, SocketAddr)> {
    let node = ctx::current_node();
    let remote = super::node_of(w, addr, node)?;
    let local = {
        let net = w.net.borrow();
        let port = super::ephemeral_port(w, node, |p| net.tcp.port_in_use(node, p))?;
        SocketAddr::new(w.nodes.borrow().get(node).ip, port)
    };
    let remote_addr = SocketAddr::new(w.nodes.borrow().get(remote).ip, addr.port());
    let conn = {
        let mut net = w.net.borrow_mut();
        let tcp = &mut net.tcp;
        tcp.client_ports.insert((node, local.port()));
        tcp.conns.push(Conn {
            ends: [
                End::new(node, local, true),
                End::new(remote, remote_addr, false),
            ],
        });
        tcp.conns.len() as u32 - 1
    };
    // The connect timeout: cancelled by the SYN-ACK or RST (both clear the stall).
    let now = ctx::now();
    let timeout = w.links.borrow().config(node, remote).stream_timeout_ms;
    w.net.borrow_mut().tcp.conns[conn as usize].ends[0].stall_since = Some(now);
    let at = now.saturating_add(timeout.saturating_mul(1_000_000));
    ctx::arm(at, move |w| stall_timeout(w, conn, 0, now));
    send(w, conn, 0, Kind::Syn, Vec::new());
    Ok((conn, local))
}

/// A connection attempt; closes its end if dropped before it completes.
struct Connecting {
    conn: u32,
    done: bool,
}

impl Connecting {
    fn poll_connect(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        context::world(|w| {
            let mut net = w.net.borrow_mut();
            let end = &mut net.tcp.conns[self.conn as usize].ends[0];
            if let Some(kind) = end.error {
                end.stall_since = None;
                return Poll::Ready(Err(error(kind, "connect")));
            }
            if end.established {
                return Poll::Ready(Ok(()));
            }
            end.waker = Some(cx.waker().clone());
            Poll::Pending
        })
    }
}

impl Drop for Connecting {
    fn drop(&mut self) {
        if !self.done {
            context::try_world(|w| {
                close(w, self.conn, 0, Kind::Rst(io::ErrorKind::ConnectionReset))
            });
        }
    }
}

fn error(kind: io::ErrorKind, op: &str) -> io::Error {
    let what = match kind {
        io::ErrorKind::ConnectionRefused => "connection refused",
        io::ErrorKind::ConnectionReset => "connection reset by peer",
        io::ErrorKind::TimedOut => "connection timed out",
        io::ErrorKind::BrokenPipe => "broken pipe",
        _ => "network error",
    };
    io::Error::new(kind, format!("{op}: {what}"))
}

/// Closes end `end` of `conn` (owner dropped it): tells the peer with `how`.
fn close(w: &World, conn: u32, end: u8, how: Kind) {
    if ctx::closed() {
        return;
    }
    let notify = {
        let mut net = w.net.borrow_mut();
        let tcp = &mut net.tcp;
        let e = &mut tcp.conns[conn as usize].ends[end as usize];
        if !e.open {
            return;
        }
        let notify = e.error.is_none() && !e.write_closed && (end == 1 || e.established);
        e.write_closed = true;
        tcp.close_end(conn, end as usize);
        notify
    };
    if notify {
        send(w, conn, end, how, Vec::new());
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        context::try_world(|w| close(w, self.conn, self.end, Kind::Fin));
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        context::world(|w| {
            let mut net = w.net.borrow_mut();
            let end = &mut net.tcp.conns[self.conn as usize].ends[self.end as usize];
            if !end.rx.is_empty() {
                let n = buf.len().min(end.rx.len());
                let (a, b) = end.rx.as_slices();
                let from_a = n.min(a.len());
                buf[..from_a].copy_from_slice(&a[..from_a]);
                buf[from_a..n].copy_from_slice(&b[..n - from_a]);
                end.rx.drain(..n);
                return Poll::Ready(Ok(n));
            }
            if let Some(kind) = end.error {
                return Poll::Ready(Err(error(kind, "read")));
            }
            if !end.open {
                let e = io::Error::new(io::ErrorKind::NotConnected, "read: the node crashed");
                return Poll::Ready(Err(e));
            }
            if end.fin || buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            if !end.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                end.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        context::world(|w| {
            {
                let net = w.net.borrow();
                let end = &net.tcp.conns[self.conn as usize].ends[self.end as usize];
                match end.error {
                    Some(io::ErrorKind::TimedOut) => {
                        return Poll::Ready(Err(error(io::ErrorKind::TimedOut, "write")))
                    }
                    Some(_) => return Poll::Ready(Err(error(io::ErrorKind::BrokenPipe, "write"))),
                    // Closed: shut down for writing, or its node crashed mid-poll.
                    None if end.write_closed || !end.open => {
                        return Poll::Ready(Err(error(io::ErrorKind::BrokenPipe, "write")))
                    }
                    None => {}
                }
            }
            if !buf.is_empty() {
                send(w, self.conn, self.end, Kind::Data, buf.to_vec());
            }
            Poll::Ready(Ok(buf.len()))
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        context::world(|w| {
            let send_fin = {
                let mut net = w.net.borrow_mut();
                let end = &mut net.tcp.conns[self.conn as usize].ends[self.end as usize];
                let first = !end.write_closed && end.error.is_none();
                end.write_closed = true;
                first
            };
            if send_fin {
                send(w, self.conn, self.end, Kind::Fin, Vec::new());
            }
            Poll::Ready(Ok(()))
        })
    }
}
