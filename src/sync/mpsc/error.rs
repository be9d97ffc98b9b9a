//! Errors returned by the `mpsc` channels.

use std::fmt;

/// The receiver is closed or dropped; the unsent value is given back.
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("channel closed")]
pub struct SendError<T>(pub T);

/// Why [`Sender::try_send`](super::Sender::try_send) failed; carries the value.
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TrySendError<T> {
    /// The buffer is full (or other senders are queued first).
    #[error("no available capacity")]
    Full(T),
    /// The receiver is closed or dropped.
    #[error("channel closed")]
    Closed(T),
}

/// Why `try_recv` returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TryRecvError {
    /// Nothing buffered, but senders may still send.
    #[error("receiving on an empty channel")]
    Empty,
    /// Nothing buffered, and every sender is gone or the receiver closed.
    #[error("receiving on a closed channel")]
    Disconnected,
}

impl<T> TrySendError<T> {
    /// Gives back the value that could not be sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(e: SendError<T>) -> Self {
        TrySendError::Closed(e.0)
    }
}

// Debug without `T: Debug` (like tokio), so `?` into `anyhow` works for any T.
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

/// Why [`Sender::send_timeout`](super::Sender::send_timeout) failed; carries the value.
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendTimeoutError<T> {
    /// No slot became free in time.
    #[error("timed out waiting on send operation")]
    Timeout(T),
    /// The receiver is closed or dropped.
    #[error("channel closed")]
    Closed(T),
}

impl<T> SendTimeoutError<T> {
    /// Gives back the value that could not be sent.
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(v) | SendTimeoutError::Closed(v) => v,
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}
