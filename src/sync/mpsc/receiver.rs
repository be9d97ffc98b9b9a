//! The receiving half, shared by both channel flavours.
//!
//! [`Rx`] holds the receiving logic (waiting, `FusedStream` bookkeeping,
//! closing on drop); [`receiver_api!`] gives each public receiver type
//! (`Receiver`, `UnboundedReceiver`) the same methods and trait impls, all
//! forwarding to its `rx: Rx<T>` field. The forwarding is a macro because the
//! two must stay distinct types whose docs name themselves; the logic is not.

use super::chan::Chan;
use super::error::TryRecvError;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Receiver handle: closes the channel on drop, remembers having returned
/// `None` (for `FusedStream`).
pub(super) struct Rx<T> {
    chan: Arc<Chan<T>>,
    terminated: bool,
}

impl<T> Rx<T> {
    pub(super) fn new(chan: Arc<Chan<T>>) -> Self {
        Rx {
            chan,
            terminated: false,
        }
    }

    /// Free slots of a bounded channel right now.
    pub(super) fn free_slots(&self) -> usize {
        self.chan.slots().available_permits()
    }

    pub(super) async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    pub(super) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let poll = self.chan.poll_recv(cx);
        if let Poll::Ready(None) = poll {
            self.terminated = true;
        }
        poll
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    pub(super) fn close(&self) {
        self.chan.close_rx();
    }

    pub(super) fn is_closed(&self) -> bool {
        self.chan.rx_is_closed()
    }

    pub(super) fn len(&self) -> usize {
        self.chan.len()
    }

    pub(super) fn is_terminated(&self) -> bool {
        self.terminated
    }

    /// `Debug` of the public receiver type called `name`.
    pub(super) fn fmt_as(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<T> Drop for Rx<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

/// Implements the receiver API for `$ty<T>`, a struct with a field `rx: Rx<T>`:
/// `recv`, `poll_recv`, `try_recv`, `close` (documented by the given doc
/// comment), `is_closed`, `len`, `is_empty`, and `Stream`, `FusedStream` and
/// `Debug` (printing `$debug_name`).
macro_rules! receiver_api {
    ($ty:ident, $debug_name:literal, $(#[$close_doc:meta])* fn close) => {
        impl<T> $ty<T> {
            #[doc = concat!(
                "Waits for the next value; `None` once the buffer is empty and all ",
                "senders are gone (or [`", stringify!($ty), "::close`] was called). ",
                "Cancel safe."
            )]
            pub async fn recv(&mut self) -> Option<T> {
                self.rx.recv().await
            }

            #[doc = concat!("Poll form of [`", stringify!($ty), "::recv`].")]
            pub fn poll_recv(
                &mut self,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<Option<T>> {
                self.rx.poll_recv(cx)
            }

            /// Waits for at least one value, then appends up to `limit` buffered values to
            /// `buffer`; returns how many (0 only if `limit` is 0 or the channel is closed
            /// and drained). Cancel safe.
            pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                if limit == 0 {
                    return 0;
                }
                let Some(first) = self.rx.recv().await else {
                    return 0;
                };
                buffer.push(first);
                let mut n = 1;
                while n < limit {
                    match self.rx.try_recv() {
                        Ok(v) => buffer.push(v),
                        Err(_) => break,
                    }
                    n += 1;
                }
                n
            }

            /// Takes a buffered value without waiting.
            pub fn try_recv(&mut self) -> Result<T, $crate::sync::mpsc::error::TryRecvError> {
                self.rx.try_recv()
            }

            $(#[$close_doc])*
            pub fn close(&mut self) {
                self.rx.close();
            }

            #[doc = concat!(
                "Whether closed by [`", stringify!($ty), "::close`] or by all senders dropping."
            )]
            pub fn is_closed(&self) -> bool {
                self.rx.is_closed()
            }

            /// Number of buffered values.
            pub fn len(&self) -> usize {
                self.rx.len()
            }

            /// Whether no value is buffered.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }

        impl<T> ::futures::stream::Stream for $ty<T> {
            type Item = T;

            fn poll_next(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<Option<T>> {
                self.get_mut().rx.poll_recv(cx)
            }
        }

        impl<T> ::futures::stream::FusedStream for $ty<T> {
            fn is_terminated(&self) -> bool {
                self.rx.is_terminated()
            }
        }

        impl<T> ::std::fmt::Debug for $ty<T> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.rx.fmt_as($debug_name, f)
            }
        }
    };
}

pub(super) use receiver_api;
