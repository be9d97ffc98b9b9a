//! Multi-producer, single-consumer channels (tokio semantics).
//!
//! - `chan`: shared core (buffer, sender count, receiver waker, slot semaphore).
//! - `receiver`: the receiving logic and receiver API shared by both flavours.
//! - `bounded`: [`channel`], [`Sender`], [`Receiver`]: senders wait FIFO when full;
//!   `bounded/reserve.rs`: [`Permit`]s (`Sender::reserve`) and `send_timeout`.
//! - `unbounded`: [`unbounded_channel`] and its never-waiting sender.
//! - [`error`]: [`SendError`](error::SendError), [`TrySendError`](error::TrySendError),
//!   [`TryRecvError`](error::TryRecvError).
//!
//! ```rust
//! use detsim::sync::mpsc;
//! futures::executor::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(1);
//!     tx.send(1).await.unwrap();
//!     assert!(tx.try_send(2).is_err(), "buffer of 1 is full");
//!     drop(tx);
//!     assert_eq!(rx.recv().await, Some(1));
//!     assert_eq!(rx.recv().await, None, "all senders gone");
//! });
//! ```

mod bounded;
mod chan;
pub mod error;
mod receiver;
mod unbounded;

pub use bounded::{channel, OwnedPermit, Permit, Receiver, Sender};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender};
