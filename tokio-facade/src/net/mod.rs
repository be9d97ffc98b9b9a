//! tokio's `net` on detsim's simulated network: [`TcpListener`], [`TcpStream`],
//! [`UdpSocket`], [`ToSocketAddrs`], [`lookup_host`].
//!
//! Sockets belong to the node of the task that creates them (the main node for the
//! test body; see `detsim::node`). A host name is a node's name: `connect("db:5432")`
//! reaches the node called `db`. Latency, loss, partitions and crashes come from the
//! run's links and fault plan, every one a recorded choice, so a run replays exactly.
//!
//! Not here (a compile error when used): `TcpSocket`, Unix sockets, `from_std` /
//! `into_std`, readiness (`readable`, `try_read`, `peek`).
//!
//! - `addr.rs` — [`ToSocketAddrs`], [`lookup_host`].
//! - `tcp.rs` — [`TcpListener`], [`TcpStream`], the halves (in [`tcp`]).
//! - `udp.rs` — [`UdpSocket`].

mod addr;
mod udp;

/// TCP types beyond the listener and stream: the stream's halves.
pub mod tcp;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
