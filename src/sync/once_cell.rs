//! [`OnceCell`]: a value set once, with async initialisation (tokio's semantics).
//!
//! Design (no `unsafe`): the value lives in a `std::sync::OnceLock`; a one-permit
//! [`Semaphore`] makes initialisers take turns in FIFO order. If an initialiser is
//! cancelled or fails, its permit passes to the next waiter, which tries again.

use super::Semaphore;
use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

/// A cell written at most once; `get_or_init` runs one initialiser at a time.
///
/// ```rust
/// use detsim::sync::OnceCell;
/// futures::executor::block_on(async {
///     let cell = OnceCell::new();
///     assert_eq!(*cell.get_or_init(|| async { 1 }).await, 1);
///     assert_eq!(*cell.get_or_init(|| async { 2 }).await, 1, "already set");
///     assert!(cell.set(3).is_err());
/// });
/// ```
pub struct OnceCell<T> {
    value: OnceLock<T>,
    init: Semaphore,
}

/// Why [`OnceCell::set`] failed; holds the value back.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetError<T> {
    /// The cell already holds a value.
    #[error("cell already initialized")]
    AlreadyInitializedError(T),
    /// Another task is initialising the cell.
    #[error("cell is currently being initialized")]
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether the cell already held a value.
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether another task was initialising the cell.
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> Self {
        OnceCell {
            value: OnceLock::new(),
            init: Semaphore::new(1),
        }
    }

    /// A cell holding `value` if it is `Some`.
    pub fn new_with(value: Option<T>) -> Self {
        let cell = Self::new();
        if let Some(v) = value {
            let _ = cell.value.set(v);
        }
        cell
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// The value, mutably, if set.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Sets the value unless the cell holds one or is being initialised.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        let Ok(_permit) = self.init.try_acquire() else {
            return Err(SetError::InitializingError(value));
        };
        self.value
            .set(value)
            .map_err(SetError::AlreadyInitializedError)
    }

    /// The value, running `f` to make it if the cell is empty. Initialisers run one at
    /// a time (FIFO); a cancelled one lets the next waiter try.
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let result = self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(f().await) })
            .await;
        match result {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// Like [`OnceCell::get_or_init`]; an error leaves the cell empty for the next try.
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        let _permit = self.init.acquire().await.expect("never closed");
        if let Some(v) = self.get() {
            return Ok(v); // someone else initialised it while we waited
        }
        let value = f().await?;
        Ok(self.value.get_or_init(|| value))
    }

    /// The value, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        self.value.take()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        Self::new_with(Some(value))
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll, yield_now};
    use std::task::Poll;

    #[test]
    fn one_initialiser_at_a_time_and_a_cancelled_one_passes_on() {
        let cell = OnceCell::new();
        let mut first = Box::pin(cell.get_or_init(|| async {
            yield_now().await;
            1
        }));
        let mut second = Box::pin(cell.get_or_init(|| async { 2 }));
        assert!(poll(first.as_mut()).is_pending());
        assert!(poll(second.as_mut()).is_pending(), "waits for the first");
        assert_eq!(cell.set(9), Err(SetError::InitializingError(9)));
        drop(first); // cancelled mid-initialisation
        assert_eq!(poll(second.as_mut()), Poll::Ready(&2));
        assert!(cell.set(3).unwrap_err().is_already_init_err());
    }

    #[test]
    fn failed_init_leaves_it_empty_and_take_resets() {
        let mut cell = OnceCell::<u8>::default();
        let r = futures::executor::block_on(cell.get_or_try_init(|| async { Err("no") }));
        assert_eq!(r, Err("no"));
        assert!(!cell.initialized());
        cell.set(4).unwrap();
        *cell.get_mut().unwrap() += 1;
        assert_eq!(format!("{cell:?}"), "OnceCell { value: Some(5) }");
        assert_eq!(cell.take(), Some(5));
        assert_eq!(OnceCell::from(6).into_inner(), Some(6));
    }
}
