//! Datagrams: [`UdpSocket`] with loss, duplication and reordering.
//!
//! Each datagram takes its own latency draw, so two datagrams may arrive in either
//! order. Per datagram, in order, each a recorded choice with 0 meaning "nothing
//! happens": lost? (`DROP`), duplicated? (`DUPLICATE`, the copy takes its own latency).
//! A blocked link (partition, clog) drops datagrams. A receiver keeps at most
//! [`QUEUE_MAX`] unread datagrams; more are dropped, as a full socket buffer would.

use super::super::{ctx, link, World};
use crate::runtime::context;
use crate::trace::{EventKind, Proto};
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll, Waker};

/// Unread datagrams a socket keeps before dropping new ones.
pub(crate) const QUEUE_MAX: usize = 1024;

/// A datagram in flight.
pub(crate) struct Datagram {
    from_node: u32,
    from: SocketAddr,
    to_node: u32,
    port: u16,
    data: Vec<u8>,
}

struct Socket {
    id: u32,
    queue: VecDeque<(Vec<u8>, SocketAddr)>,
    waker: Option<Waker>,
}

/// Datagram state of a run.
#[derive(Default)]
pub(crate) struct UdpState {
    by_port: BTreeMap<(u32, u16), Socket>,
    next_id: u32,
}

/// Node `n` crashed: its sockets are gone.
pub(crate) fn crash(w: &World, n: u32) {
    let mut net = w.net.borrow_mut();
    net.udp.by_port.retain(|&(node, _), _| node != n);
}

/// A datagram socket bound to a port of the calling task's node.
///
/// ```
/// use detsim::{Config, Sim, node, net::UdpSocket};
/// let out = Sim::new(Config::default().seed(1)).run(async {
///     node::Builder::new("echo").build(|| async {
///         let s = UdpSocket::bind("0.0.0.0:7").await.unwrap();
///         let mut buf = [0; 64];
///         loop {
///             let (n, from) = s.recv_from(&mut buf).await.unwrap();
///             s.send_to(&buf[..n], from).await.unwrap();
///         }
///     });
///     let s = UdpSocket::bind("0.0.0.0:0").await.unwrap();
///     s.send_to(b"ping", "echo:7").await.unwrap();
///     let mut buf = [0; 64];
///     let (n, _) = s.recv_from(&mut buf).await.unwrap();
///     buf[..n].to_vec()
/// });
/// assert_eq!(out.result.unwrap(), b"ping");
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    id: u32,
    node: u32,
    addr: SocketAddr,
}

impl UdpSocket {
    /// Binds `addr` on the calling task's node (port 0 picks a free port).
    pub async fn bind(addr: impl super::ToSocketAddr) -> io::Result<UdpSocket> {
        let addr = addr.to_socket_addr()?;
        context::world(|w| {
            let (node, mut addr) = super::local_node_addr(w, addr)?;
            if addr.port() == 0 {
                let net = w.net.borrow();
                let used = |p| net.udp.by_port.contains_key(&(node, p));
                addr.set_port(super::ephemeral_port(w, node, used)?);
            }
            let mut net = w.net.borrow_mut();
            let udp = &mut net.udp;
            if udp.by_port.contains_key(&(node, addr.port())) {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("address {addr} is already in use"),
                ));
            }
            let id = udp.next_id;
            udp.next_id += 1;
            let socket = Socket {
                id,
                queue: VecDeque::new(),
                waker: None,
            };
            udp.by_port.insert((node, addr.port()), socket);
            Ok(UdpSocket { id, node, addr })
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }

    /// Sends `buf` to `target`; returns at once (delivery, loss and duplication happen
    /// in the network). Sending to an address no node has is `HostUnreachable`.
    pub async fn send_to(&self, buf: &[u8], target: impl super::ToSocketAddr) -> io::Result<usize> {
        let target = target.to_socket_addr()?;
        context::world(|w| {
            let to_node = super::node_of(w, target, self.node)?;
            let d = Datagram {
                from_node: self.node,
                from: self.addr,
                to_node,
                port: target.port(),
                data: buf.to_vec(),
            };
            send(w, d);
            Ok(buf.len())
        })
    }

    /// Waits for a datagram; copies it into `buf` (truncating) and returns its length
    /// and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        futures::future::poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Polls for a datagram.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        context::world(|w| {
            let mut net = w.net.borrow_mut();
            let Some(s) = net
                .udp
                .by_port
                .get_mut(&(self.node, self.addr.port()))
                .filter(|s| s.id == self.id)
            else {
                let e = io::Error::new(io::ErrorKind::NotConnected, "socket closed (node crashed)");
                return Poll::Ready(Err(e));
            };
            match s.queue.pop_front() {
                Some((data, from)) => {
                    let n = data.len().min(buf.len());
                    buf[..n].copy_from_slice(&data[..n]);
                    Poll::Ready(Ok((n, from)))
                }
                None => {
                    s.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        context::try_world(|w| {
            let mut net = w.net.borrow_mut();
            let key = (self.node, self.addr.port());
            if net.udp.by_port.get(&key).is_some_and(|s| s.id == self.id) {
                net.udp.by_port.remove(&key);
            }
        });
    }
}

fn send(w: &World, d: Datagram) {
    let (from, to, bytes, proto) = (d.from_node, d.to_node, d.data.len() as u32, Proto::Udp);
    ctx::emit(EventKind::NetSend {
        proto,
        from,
        to,
        bytes,
    });
    let (latency, loss, dup, blocked) = {
        let links = w.links.borrow();
        let c = links.config(from, to);
        let same = from == to;
        let loss = if same {
            0.0
        } else {
            link::loss(&links, from, to)
        };
        let dup = if same { 0.0 } else { c.duplicate };
        (c.latency.clone(), loss, dup, links.is_blocked(from, to))
    };
    if blocked || ctx::fault(w, loss) {
        ctx::emit(EventKind::NetDrop {
            proto,
            from,
            to,
            bytes,
        });
        return;
    }
    let now = ctx::now();
    let transit = |w: &World| match from == to {
        true => 0,
        false => latency.sample(w) + super::super::fault::injected_delay(w),
    };
    if ctx::fault(w, dup) {
        ctx::emit(EventKind::NetDuplicate {
            proto,
            from,
            to,
            bytes,
        });
        let copy = Datagram {
            data: d.data.clone(),
            ..d
        };
        let at = now + transit(w);
        ctx::arm(at, move |w| deliver(w, copy));
    }
    let at = now + transit(w);
    ctx::arm(at, move |w| deliver(w, d));
}

/// A datagram arrives (a world event).
pub(crate) fn deliver(w: &World, d: Datagram) {
    let (proto, from, to, bytes) = (Proto::Udp, d.from_node, d.to_node, d.data.len() as u32);
    let waker = {
        let mut net = w.net.borrow_mut();
        match net.udp.by_port.get_mut(&(d.to_node, d.port)) {
            Some(s) if s.queue.len() < QUEUE_MAX => {
                s.queue.push_back((d.data, d.from));
                Some(s.waker.take())
            }
            _ => None,
        }
    };
    match waker {
        Some(w) => {
            ctx::emit(EventKind::NetDeliver {
                proto,
                from,
                to,
                bytes,
            });
            if let Some(w) = w {
                w.wake();
            }
        }
        None => ctx::emit(EventKind::NetDrop {
            proto,
            from,
            to,
            bytes,
        }),
    }
}
