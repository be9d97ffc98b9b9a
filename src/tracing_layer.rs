//! A `tracing` layer that copies log events of simulated tasks into the run's trace.
//!
//! Log lines land in the full trace next to the scheduling events that caused them, with
//! the step, virtual time, worker and task. They are never fingerprinted, so a run's
//! identity does not depend on the log level or on whether a subscriber is installed.
//!
//! It sits above the runtime and reaches the run only through `runtime::context::log`;
//! `detsim::trace` re-exports it, so its public path is `detsim::trace::layer`.

use crate::runtime::context;
use std::fmt::Write;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

/// The layer; install it with `tracing_subscriber::registry().with(detsim::trace::layer())`.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// let subscriber = tracing_subscriber::registry().with(detsim::trace::layer());
/// let out = tracing::subscriber::with_default(subscriber, || {
///     detsim::Sim::new(detsim::Config::default()).run(async { tracing::info!(answer = 42, "hello") })
/// });
/// assert!(out.trace.to_string().contains("log INFO hello answer=42"));
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct SimLayer(());

/// A [`SimLayer`].
pub fn layer() -> SimLayer {
    SimLayer(())
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value}");
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for SimLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        context::log(|| {
            let mut message = Message(event.metadata().level().to_string());
            event.record(&mut message);
            message.0
        });
    }
}
