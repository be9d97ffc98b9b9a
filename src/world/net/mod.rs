//! Simulated network: [`TcpListener`], [`TcpStream`], [`UdpSocket`].
//!
//! - `addr.rs` — [`ToSocketAddr`]: `SocketAddr`s, `"ip:port"` and `"node-name:port"`.
//! - `tcp.rs` — reliable ordered streams (`futures::io::AsyncRead/AsyncWrite`).
//! - `udp.rs` — datagrams with loss, duplication and reordering.
//!
//! Sockets belong to the node of the task that creates them; addresses are the node's IP
//! (or `0.0.0.0` / `127.0.0.1`, meaning that node) and a port. Handles are plain ids
//! (`Send + Sync`); the state lives in the run's world. Misuse (a port in use, no
//! listener, a reset connection) is an ordinary `std::io::Error`.

mod addr;
pub(crate) mod tcp;
pub(crate) mod udp;

pub use super::link::{
    clog, heal, heal_all, partition, partition_oneway, set_default_link, set_link, unclog, Latency,
    LinkConfig,
};
pub use addr::ToSocketAddr;
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;

use crate::world::World;
use std::io;
use std::net::SocketAddr;

/// Network state of a run.
#[derive(Default)]
pub(crate) struct Net {
    pub(crate) tcp: tcp::TcpState,
    pub(crate) udp: udp::UdpState,
}

/// Closes everything of crashed node `n`: listeners, sockets; resets its connections.
pub(crate) fn crash(w: &World, n: u32) {
    udp::crash(w, n);
    tcp::crash(w, n);
}

/// Resolves the local address to bind on the calling node: (node, port); port 0 picks
/// an ephemeral port.
fn local_node_addr(w: &World, addr: SocketAddr) -> io::Result<(u32, SocketAddr)> {
    let node = super::ctx::current_node();
    let nodes = w.nodes.borrow();
    let ip = nodes.get(node).ip;
    let ok = addr.ip().is_unspecified() || addr.ip().is_loopback() || addr.ip() == ip;
    if !ok {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("{} is not an address of node n{node} ({ip})", addr.ip()),
        ));
    }
    Ok((node, SocketAddr::new(ip, addr.port())))
}

/// An ephemeral port on node `n` not in use by `in_use`.
fn ephemeral_port(w: &World, n: u32, in_use: impl Fn(u16) -> bool) -> io::Result<u16> {
    let mut nodes = w.nodes.borrow_mut();
    let state = nodes.get_mut(n);
    for _ in 0..16_384 {
        let p = state.next_port;
        state.next_port = if p == u16::MAX { 49152 } else { p + 1 };
        if !in_use(p) {
            return Ok(p);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        "no free ephemeral port",
    ))
}

/// The node with `addr`'s IP, as seen from node `asking`.
fn node_of(w: &World, addr: SocketAddr, asking: u32) -> io::Result<u32> {
    w.nodes.borrow().by_ip(addr.ip(), asking).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::HostUnreachable,
            format!("no node has address {}", addr.ip()),
        )
    })
}
