//! [`JoinError`]: why awaiting a task gave no value (tokio's opaque error).

use super::task::TaskId;
use std::any::Any;
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// Why awaiting a [`JoinHandle`](super::JoinHandle) gave no value: the task was
/// cancelled, or it panicked (then the panic's payload is kept for
/// [`JoinError::into_panic`]).
pub struct JoinError {
    id: TaskId,
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// Boxed: every task's join state has room for a `JoinError`, and panics are rare
    /// (16 bytes per task instead of 56).
    Panic(Box<Panicked>),
}

/// The message is extracted up front for `Display`; the mutex makes the error `Sync`
/// for any payload (as tokio's `SyncWrapper` does).
struct Panicked {
    message: String,
    payload: Mutex<Box<dyn Any + Send + 'static>>,
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> Self {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: TaskId, message: String, payload: Box<dyn Any + Send>) -> Self {
        let payload = Mutex::new(payload);
        JoinError {
            id,
            repr: Repr::Panic(Box::new(Panicked { message, payload })),
        }
    }

    /// True if the task was aborted (or dropped when its run ended).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// True if the task panicked (only seen with `Config::panic_is_failure == false`;
    /// by default a panic fails the run).
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic's payload, to resume it with `std::panic::resume_unwind`.
    ///
    /// Panics if the task was cancelled (use [`JoinError::try_into_panic`]).
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError` reason is not a panic.")
    }

    /// The panic's payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p
                .payload
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)),
            Repr::Cancelled => Err(self),
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic message, if the task panicked.
    pub fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(p) => Some(&p.message),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id.0),
            Repr::Panic(p) => {
                write!(
                    f,
                    "task {} panicked with message {:?}",
                    self.id.0, p.message
                )
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Panic(p) => {
                write!(f, "JoinError::Panic({}, {:?}, ...)", self.id, p.message)
            }
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> Self {
        let msg = match &e.repr {
            Repr::Cancelled => "task was cancelled",
            Repr::Panic(_) => "task panicked",
        };
        std::io::Error::other(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_payload_survives_and_messages_name_the_task() {
        let e = JoinError::panic(TaskId(3), "boom".into(), Box::new(17u32));
        assert!(e.is_panic() && !e.is_cancelled());
        assert_eq!(e.to_string(), "task 3 panicked with message \"boom\"");
        assert_eq!(e.panic_message(), Some("boom"));
        assert_eq!(*e.into_panic().downcast::<u32>().unwrap(), 17);
        let c = JoinError::cancelled(TaskId(4));
        assert_eq!(c.to_string(), "task 4 was cancelled");
        let c = c.try_into_panic().unwrap_err();
        assert_eq!(c.id(), TaskId(4));
        assert_eq!(std::io::Error::from(c).to_string(), "task was cancelled");
    }

    #[test]
    fn a_join_error_is_two_words() {
        // Every task's join state has room for one: keep it small (the panic is boxed).
        assert_eq!(std::mem::size_of::<JoinError>(), 16);
        assert!(std::mem::size_of::<Option<Result<(), JoinError>>>() <= 24);
    }
}
