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
//! - `bytes.rs` — a byte FIFO for receive buffers and bytes in transit.
//! - `conn.rs` — connection state and the protocol (send, hold, deliver, stall, reset).
//! - `listener.rs` — [`TcpListener`].
//! - `stream.rs` — [`TcpStream`].

mod bytes;
mod conn;
mod listener;
mod stream;

pub(crate) use conn::{crash, release_held, TcpState};
pub use listener::TcpListener;
pub use stream::TcpStream;
