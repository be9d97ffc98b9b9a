//! [`Builder`]: tokio's task builder (a name for the task).

use super::{spawn_named, JoinHandle};
use std::future::Future;

/// Configures a task before spawning it; the name shows in traces and failure reports.
///
/// ```
/// use detsim::{Config, Sim};
/// let out = Sim::new(Config::default()).run(async {
///     let h = detsim::task::Builder::new().name("worker").spawn(async { 1 }).unwrap();
///     h.await.unwrap()
/// });
/// assert_eq!(out.result.unwrap(), 1);
/// assert!(out.trace.tasks.iter().any(|t| t.name == "worker"));
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Builder<'a> {
    name: Option<&'a str>,
}

impl<'a> Builder<'a> {
    /// A builder with no name (the task is called `task`).
    pub fn new() -> Self {
        Builder { name: None }
    }

    /// Names the task.
    pub fn name(self, name: &'a str) -> Self {
        Builder { name: Some(name) }
    }

    /// Spawns `future` (never fails in a simulation; `io::Result` as in tokio).
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> std::io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Ok(spawn_named(self.task_name("task"), future))
    }

    /// The same as [`Builder::spawn`] (detsim tasks never need `Send`).
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> std::io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn(future)
    }

    /// Runs `f` as a task, like [`super::spawn_blocking`].
    #[track_caller]
    pub fn spawn_blocking<F, R>(self, f: F) -> std::io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + 'static,
        R: 'static,
    {
        Ok(spawn_named(self.task_name("blocking"), async move { f() }))
    }

    fn task_name(&self, default: &'static str) -> std::borrow::Cow<'static, str> {
        match self.name {
            Some(name) => name.to_string().into(),
            None => default.into(),
        }
    }
}
