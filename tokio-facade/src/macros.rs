//! tokio's macros: `select!` (first branch a recorded choice), `pin!`; `join!` and
//! `try_join!` are the `futures` ones (they poll in a fixed order, as deterministic as
//! tokio's rotating order); `task_local!` is detsim's.

/// Waits on several futures and runs the handler of the first that completes — tokio's
/// syntax and rules (`biased;`, `, if` preconditions, refutable patterns, `else`).
///
/// Unlike tokio, which draws the branch to poll first from a thread-local RNG, this
/// draws it with a recorded choice of the run ([`detsim::rand::choose`]), so it varies
/// with the seed and replays from a schedule. `biased;` polls in order, drawing nothing.
///
/// ```
/// use detsim::{Config, Sim};
/// let out = Sim::new(Config::default().seed(1)).run(async {
///     let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
///     tx.send(5).await.unwrap();
///     tokio::select! {
///         Some(v) = rx.recv() => v,
///         _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => 0,
///     }
/// });
/// assert_eq!(out.result.unwrap(), 5);
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__private::select_impl! { crate = $crate; $($tokens)* }
    };
}

/// Pins values on the stack, as tokio's `pin!`: `pin!(a, b);` or `pin! { let a = f(); }`.
#[macro_export]
macro_rules! pin {
    ($($x:ident),* $(,)?) => { $(
        let mut $x = ::core::pin::pin!($x);
    )* };
    ($(let $x:ident = $init:expr;)*) => { $(
        let mut $x = ::core::pin::pin!($init);
    )* };
}
