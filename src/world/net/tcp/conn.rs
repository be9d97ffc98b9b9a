//! A connection's state and protocol: segments, delivery, stalls, resets (see `mod.rs`).

use super::bytes::ByteQueue;
use crate::trace::{EventKind, Proto};
use crate::world::{ctx, link, World};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::task::Waker;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Syn,
    SynAck,
    Data,
    Fin,
    Rst(io::ErrorKind),
}

/// A message to one end of a connection.
pub(crate) struct Segment {
    pub(super) conn: u32,
    pub(super) to: u8,
    pub(super) kind: Kind,
    pub(super) data: Vec<u8>,
}

pub(super) struct End {
    pub(super) node: u32,
    pub(super) addr: SocketAddr,
    pub(super) rx: ByteQueue,
    /// The peer's FIN arrived: reads past `rx` return 0.
    pub(super) fin: bool,
    pub(super) error: Option<io::ErrorKind>,
    /// The reader's (or connecting task's) waker.
    pub(super) waker: Option<Waker>,
    // invariant: the delivery time of the last segment scheduled to this end.
    pub(super) last_delivery: u64,
    /// Bytes of the segments scheduled to this end and not yet delivered, in order, and
    /// each segment's kind and length: deliveries to one end happen in scheduling order
    /// (invariant 1), so the next delivery is always the front (no buffer per segment).
    pub(super) transit: ByteQueue,
    pub(super) in_flight: VecDeque<(Kind, u32)>,
    /// Segments to this end held by a partition, in order.
    pub(super) held: VecDeque<Segment>,
    /// When the current stall began (a `Stall` action checks it is unchanged).
    pub(super) stall_since: Option<u64>,
    pub(super) established: bool,
    pub(super) write_closed: bool,
    /// False once its owner dropped it or its node crashed.
    pub(super) open: bool,
}

impl End {
    pub(super) fn new(node: u32, addr: SocketAddr, open: bool) -> Self {
        End {
            node,
            addr,
            rx: ByteQueue::default(),
            fin: false,
            error: None,
            waker: None,
            last_delivery: 0,
            transit: ByteQueue::default(),
            in_flight: VecDeque::new(),
            held: VecDeque::new(),
            stall_since: None,
            established: false,
            write_closed: false,
            open,
        }
    }

    pub(super) fn wake(&mut self, wakers: &mut Vec<Waker>) {
        if let Some(w) = self.waker.take() {
            wakers.push(w);
        }
    }
}

pub(super) struct Conn {
    pub(super) ends: [End; 2],
}

pub(super) struct Listener {
    pub(super) node: u32,
    pub(super) addr: SocketAddr,
    pub(super) backlog: VecDeque<(u32, SocketAddr)>,
    pub(super) waker: Option<Waker>,
}

/// Streams state of a run.
#[derive(Default)]
pub(crate) struct TcpState {
    pub(super) listeners: Vec<Option<Listener>>,
    pub(super) by_port: BTreeMap<(u32, u16), u32>,
    pub(super) conns: Vec<Conn>,
    /// Number of ends with held segments (heal checks nothing when 0).
    pub(super) held: usize,
    // invariant: (node, port) of every open connecting-side end.
    pub(super) client_ports: BTreeSet<(u32, u16)>,
}

impl TcpState {
    pub(super) fn port_in_use(&self, node: u32, port: u16) -> bool {
        self.by_port.contains_key(&(node, port)) || self.client_ports.contains(&(node, port))
    }

    /// Marks end `end` of `conn` closed (keeping `client_ports` in step).
    pub(super) fn close_end(&mut self, conn: u32, end: usize) {
        let e = &mut self.conns[conn as usize].ends[end];
        e.open = false;
        e.rx.clear();
        e.waker = None;
        if end == 0 {
            self.client_ports.remove(&(e.node, e.addr.port()));
        }
    }
}

pub(super) fn wake_all(wakers: Vec<Waker>) {
    for w in wakers {
        w.wake();
    }
}

/// Sends a segment from end `from` of `conn` (held if the link is blocked).
pub(super) fn send(w: &World, conn: u32, from: u8, kind: Kind, data: &[u8]) {
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
    if w.links.borrow().is_blocked(from_node, to_node) {
        let data = data.to_vec();
        hold(
            w,
            Segment {
                conn,
                to,
                kind,
                data,
            },
            from_node,
            to_node,
        );
    } else {
        schedule(w, conn, to, kind, data, (from_node, to_node));
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
fn schedule(w: &World, conn: u32, to: u8, kind: Kind, data: &[u8], nodes: (u32, u32)) {
    let now = ctx::now();
    let (from_node, to_node) = nodes;
    let delay = match from_node == to_node {
        true => 0,
        false => transit_time(w, from_node, to_node, data.len() as u32),
    };
    let at = {
        let mut net = w.net.borrow_mut();
        let end = &mut net.tcp.conns[conn as usize].ends[to as usize];
        let at = (now + delay).max(end.last_delivery + 1);
        end.last_delivery = at;
        end.transit.push(data);
        end.in_flight.push_back((kind, data.len() as u32));
        at
    };
    ctx::arm_call(at, deliver_event, (conn as u64) << 8 | to as u64);
}

/// [`deliver`] as a world event: `word` is `conn << 8 | to`.
fn deliver_event(word: u64) {
    ctx::with_world(|w| deliver(w, (word >> 8) as u32, word as u8));
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
    let mut delay = latency.sample(w) + crate::world::fault::injected_delay(w);
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
pub(crate) fn deliver(w: &World, conn: u32, to: u8) {
    let (from_node, to_node, open, kind, len) = {
        let mut net = w.net.borrow_mut();
        let c = &mut net.tcp.conns[conn as usize];
        let from_node = c.ends[1 - to as usize].node;
        let end = &mut c.ends[to as usize];
        let (kind, len) = end
            .in_flight
            .pop_front()
            .expect("a delivery per scheduled segment");
        if !end.open || kind != Kind::Data {
            end.transit.skip(len as usize);
        }
        (from_node, end.node, end.open, kind, len)
    };
    let proto = Proto::Tcp;
    let (from, bytes) = (from_node, len);
    if kind == Kind::Syn {
        return accept_syn(w, conn, from_node, to_node);
    }
    if !open {
        ctx::emit(EventKind::NetDrop {
            proto,
            from,
            to: to_node,
            bytes,
        });
        if matches!(kind, Kind::Data | Kind::SynAck) && w.nodes.borrow().is_up(to_node) {
            // Data to a closed socket of a live host is answered with a reset.
            send(w, conn, to, Kind::Rst(io::ErrorKind::ConnectionReset), &[]);
        }
        return;
    }
    ctx::emit(EventKind::NetDeliver {
        proto,
        from,
        to: to_node,
        bytes,
    });
    let waker = {
        let mut net = w.net.borrow_mut();
        let end = &mut net.tcp.conns[conn as usize].ends[to as usize];
        match kind {
            Kind::Data => {
                let End { rx, transit, .. } = end;
                transit.move_to(rx, len as usize);
            }
            Kind::Fin => end.fin = true,
            Kind::Rst(kind) => end.error = end.error.or(Some(kind)),
            Kind::SynAck => {
                end.established = true;
                end.stall_since = None;
            }
            Kind::Syn => unreachable!("handled above"),
        }
        end.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// A SYN reaches the listening side: queue the connection, or refuse it.
fn accept_syn(w: &World, conn: u32, from_node: u32, to_node: u32) {
    let proto = Proto::Tcp;
    let client_open = w.net.borrow().tcp.conns[conn as usize].ends[0].open;
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
        let port = tcp.conns[conn as usize].ends[1].addr.port();
        let client = tcp.conns[conn as usize].ends[0].addr;
        match tcp.by_port.get(&(to_node, port)).copied() {
            Some(l) => {
                let l = tcp.listeners[l as usize]
                    .as_mut()
                    .expect("by_port names live listeners");
                l.backlog.push_back((conn, client));
                if let Some(w) = l.waker.take() {
                    wakers.push(w);
                }
                tcp.conns[conn as usize].ends[1].open = true;
                tcp.conns[conn as usize].ends[1].established = true;
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
    send(w, conn, 1, answer, &[]);
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
        schedule(w, seg.conn, seg.to, seg.kind, &seg.data, (from, to));
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
        let to_node = w.net.borrow().tcp.conns[conn as usize].ends[1 - from as usize].node;
        let rst = Kind::Rst(io::ErrorKind::ConnectionReset);
        schedule(w, conn, 1 - from, rst, &[], (n, to_node));
    }
}

/// Opens a connection from the calling node to `addr`: a new conn, its connect
/// timeout armed, its SYN sent.
pub(super) fn start_connect(w: &World, addr: SocketAddr) -> io::Result<(u32, SocketAddr)> {
    let node = ctx::current_node();
    let remote = super::super::node_of(w, addr, node)?;
    let local = {
        let net = w.net.borrow();
        let port = super::super::ephemeral_port(w, node, |p| net.tcp.port_in_use(node, p))?;
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
    send(w, conn, 0, Kind::Syn, &[]);
    Ok((conn, local))
}

/// Closes end `end` of `conn` (owner dropped it): tells the peer with `how`.
pub(super) fn close(w: &World, conn: u32, end: u8, how: Kind) {
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
        send(w, conn, end, how, &[]);
    }
}

pub(super) fn error(kind: io::ErrorKind, op: &str) -> io::Error {
    let what = match kind {
        io::ErrorKind::ConnectionRefused => "connection refused",
        io::ErrorKind::ConnectionReset => "connection reset by peer",
        io::ErrorKind::TimedOut => "connection timed out",
        io::ErrorKind::BrokenPipe => "broken pipe",
        _ => "network error",
    };
    io::Error::new(kind, format!("{op}: {what}"))
}
