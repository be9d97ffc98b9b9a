//! Reserving a slot before having the value: [`Sender::reserve`] and its permits, and
//! [`Sender::send_timeout`].
//!
//! A permit owns one buffer slot (a forgotten slot-semaphore permit); sending through it
//! cannot block, and dropping it unused gives the slot back.

use super::Sender;
use crate::sync::mpsc::chan::Chan;
use crate::sync::mpsc::error::{SendError, SendTimeoutError, TrySendError};
use crate::sync::TryAcquireError;
use std::fmt;
use std::time::Duration;

/// One reserved slot of a bounded channel; [`Permit::send`] fills it.
#[must_use = "a reserved slot is released when the permit is dropped"]
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
    /// `true` until the slot was used.
    holds_slot: bool,
}

/// Like [`Permit`], but owning the [`Sender`] (returned by `send` and `release`).
#[must_use = "a reserved slot is released when the permit is dropped"]
pub struct OwnedPermit<T> {
    /// `Some` until the slot was used or released.
    sender: Option<Sender<T>>,
}

impl<T> Sender<T> {
    /// Waits (FIFO with blocked `send`s) for a free slot and reserves it.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.tx.0.slots().acquire().await {
            Ok(slot) => slot.forget(),
            Err(_) => return Err(SendError(())),
        }
        Ok(Permit {
            chan: &self.tx.0,
            holds_slot: true,
        })
    }

    /// Reserves a slot if one is free now and no sender is queued.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.tx.0.slots().try_acquire() {
            Ok(slot) => slot.forget(),
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(())),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(())),
        }
        Ok(Permit {
            chan: &self.tx.0,
            holds_slot: true,
        })
    }

    /// Like [`Sender::reserve`], consuming the sender into an [`OwnedPermit`].
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        match self.tx.0.slots().acquire().await {
            Ok(slot) => slot.forget(),
            Err(_) => return Err(SendError(())),
        }
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// Like [`Sender::try_reserve`], consuming the sender; gives it back on failure.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        let acquired = self.tx.0.slots().try_acquire().map(|slot| slot.forget());
        match acquired {
            Ok(()) => {}
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(self)),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(self)),
        }
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// [`Sender::send`] bounded by `timeout` of virtual time (must run inside a
    /// simulation, like every detsim timer).
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        let permit = match crate::time::timeout(timeout, self.reserve()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(SendTimeoutError::Closed(value)),
            Err(_) => return Err(SendTimeoutError::Timeout(value)),
        };
        permit.send(value);
        Ok(())
    }
}

impl<T> Permit<'_, T> {
    /// Buffers `value` in the reserved slot (never waits). If the receiver closed
    /// meanwhile, the value is dropped, as in tokio.
    pub fn send(mut self, value: T) {
        self.holds_slot = false;
        let _ = self.chan.push(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        if self.holds_slot {
            self.chan.slots().add_permits(1);
        }
    }
}

impl<T> OwnedPermit<T> {
    /// Buffers `value` in the reserved slot and gives the sender back.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("permit holds its sender");
        let _ = sender.tx.0.push(value);
        sender
    }

    /// Gives the slot back unused and returns the sender.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("permit holds its sender");
        sender.tx.0.slots().add_permits(1);
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.tx.0.slots().add_permits(1);
        }
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Permit").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::OwnedPermit").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use crate::sync::mpsc::channel;
    use crate::sync::mpsc::error::TrySendError;
    use crate::sync::test_util::poll;
    use std::pin::pin;

    #[test]
    fn a_permit_holds_a_slot_until_used_or_dropped() {
        let (tx, mut rx) = channel(1);
        let permit = tx.try_reserve().unwrap();
        assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
        assert!(poll(pin!(tx.reserve())).is_pending());
        drop(permit);
        assert_eq!(tx.capacity(), 1, "an unused permit gives its slot back");
        futures::executor::block_on(tx.reserve()).unwrap().send(5);
        assert_eq!(rx.try_recv(), Ok(5));
        let owned = tx.clone().try_reserve_owned().unwrap();
        let tx2 = owned.send(6);
        assert_eq!(rx.try_recv(), Ok(6));
        let again = tx2.try_reserve_owned().unwrap().release();
        assert_eq!(again.capacity(), 1);
        drop(rx);
        assert!(matches!(tx.try_reserve(), Err(TrySendError::Closed(()))));
    }
}
