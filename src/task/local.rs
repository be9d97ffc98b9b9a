//! Task-local values: [`task_local!`](crate::task_local) and [`LocalKey`] (tokio's API).
//!
//! Design (tokio's): the value lives in a thread-local slot only while the future that
//! owns it is being polled. [`LocalKey::scope`] wraps a future; every poll swaps the
//! value into the slot, polls, and swaps it back out — also if the poll panics — so
//! other tasks polled on the same thread never see it. A run polls on one thread, so
//! this is deterministic and nothing outlives the poll.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Declares task-local keys: `task_local! { pub static ID: u32; }`.
///
/// ```
/// use detsim::{Config, Sim};
/// detsim::task_local! { static REQUEST: u32; }
/// let out = Sim::new(Config::default()).run(async {
///     let a = detsim::spawn(REQUEST.scope(1, async { detsim::task::yield_now().await; REQUEST.get() }));
///     let b = detsim::spawn(REQUEST.scope(2, async { REQUEST.get() }));
///     (a.await.unwrap(), b.await.unwrap(), REQUEST.try_with(|v| *v).is_err())
/// });
/// assert_eq!(out.result.unwrap(), (1, 2, true));
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __KEY: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey { inner: __KEY }
        };
    };
}

/// A key made by [`task_local!`](crate::task_local).
pub struct LocalKey<T: 'static> {
    /// The thread-local slot; public only for the macro.
    #[doc(hidden)]
    pub inner: std::thread::LocalKey<RefCell<Option<T>>>,
}

/// The key has no value in this task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("task-local value not set")]
pub struct AccessError(());

impl<T: 'static> LocalKey<T> {
    /// Runs `future` with the key set to `value`.
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            slot: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with the key set to `value`.
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        let mut slot = Some(value);
        self.enter(&mut slot, f)
    }

    /// Calls `f` with the value; panics if the key is not set.
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        self.try_with(f)
            .expect("cannot access a task-local storage value without setting it first")
    }

    /// Calls `f` with the value, or fails if the key is not set.
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        self.inner.with(|cell| match cell.borrow().as_ref() {
            Some(v) => Ok(f(v)),
            None => Err(AccessError(())),
        })
    }

    /// Swaps `slot` into the key for the duration of `f` (also on panic).
    fn enter<R>(&'static self, slot: &mut Option<T>, f: impl FnOnce() -> R) -> R {
        struct Restore<'a, T: 'static> {
            key: &'static LocalKey<T>,
            slot: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                self.key
                    .inner
                    .with(|cell| std::mem::swap(self.slot, &mut *cell.borrow_mut()));
            }
        }
        self.inner
            .with(|cell| std::mem::swap(slot, &mut *cell.borrow_mut()));
        let _restore = Restore { key: self, slot };
        f()
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A copy of the value; panics if the key is not set.
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

pin_project_lite::pin_project! {
    /// A future run with a task-local value set (made by [`LocalKey::scope`]).
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        slot: Option<T>,
        // `None` once dropped inside the scope.
        #[pin]
        future: Option<F>,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            // Drop the future with its value in scope, as tokio does.
            let this = this.project();
            if this.future.is_some() {
                let key = *this.key;
                let mut future = this.future;
                key.enter(this.slot, || future.set(None));
            }
        }
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let key = *this.key;
        let future = this.future;
        key.enter(this.slot, || match future.as_pin_mut() {
            Some(f) => f.poll(cx),
            None => panic!("TaskLocalFuture polled after its future was dropped"),
        })
    }
}

impl<T: 'static + fmt::Debug, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.slot)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    crate::task_local! {
        static NAME: String;
        pub(crate) static NUM: u8
    }

    #[test]
    fn scopes_nest_and_restore_even_after_a_panic() {
        assert!(NAME.try_with(|_| ()).is_err());
        NAME.sync_scope("outer".into(), || {
            NAME.sync_scope("inner".into(), || assert_eq!(NAME.get(), "inner"));
            assert_eq!(NAME.get(), "outer");
            let r = std::panic::catch_unwind(|| NAME.sync_scope("boom".into(), || panic!()));
            assert!(r.is_err());
            assert_eq!(NAME.get(), "outer", "restored after the panic");
        });
        let v = futures::executor::block_on(NUM.scope(3, async { NUM.get() + 1 }));
        assert_eq!(v, 4);
        assert!(NUM.try_with(|_| ()).is_err(), "nothing outlives the scope");
    }
}
