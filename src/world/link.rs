//! Links between nodes: latency models, loss and duplication rates, partitions, clogs.
//!
//! Every link uses the default [`LinkConfig`] unless [`set_link`] overrides it for one
//! direction. A *partition* blocks one direction of one pair of nodes; a *clog* blocks
//! every link into and out of a node. Blocked streams hold their segments (and fail with
//! `TimedOut` after [`LinkConfig::stream_timeout_ms`]); blocked datagrams are dropped.
//! Traffic from a node to itself takes no time and is never lost or blocked.

use super::ctx;
use super::node::NodeId;
use crate::runtime::context;
use crate::trace::EventKind;
use crate::world::World;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How long a message takes on a link. Times in microseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Latency {
    /// Always `us`.
    Fixed {
        /// One-way latency.
        us: u64,
    },
    /// Uniform in `min_us..=max_us` (a recorded choice; 0 picks `min_us`).
    Uniform {
        /// Lower bound.
        min_us: u64,
        /// Upper bound.
        max_us: u64,
    },
    /// Uniform in `min_us..=max_us`, but with probability `tail` up to `tail_max_us`
    /// (a slow path: GC pauses, queueing, a retransmission).
    LongTail {
        /// Lower bound.
        min_us: u64,
        /// Upper bound of the common case.
        max_us: u64,
        /// Probability of the tail.
        tail: f64,
        /// Upper bound of the tail.
        tail_max_us: u64,
    },
}

impl Latency {
    /// Always `d`.
    pub fn fixed(d: std::time::Duration) -> Self {
        Latency::Fixed {
            us: d.as_micros() as u64,
        }
    }

    /// Uniform between `min` and `max`.
    pub fn uniform(min: std::time::Duration, max: std::time::Duration) -> Self {
        Latency::Uniform {
            min_us: min.as_micros() as u64,
            max_us: max.as_micros().max(min.as_micros()) as u64,
        }
    }

    /// Checks the bounds (`min <= max`, probability in `0..=1`); names the bad field.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        match *self {
            Latency::Fixed { .. } => Ok(()),
            Latency::Uniform { min_us, max_us } if min_us > max_us => {
                Err(("max_us", format!("{max_us} is below min_us {min_us}")))
            }
            Latency::LongTail {
                min_us,
                max_us,
                tail,
                tail_max_us,
            } => {
                if min_us > max_us {
                    return Err(("max_us", format!("{max_us} is below min_us {min_us}")));
                }
                if tail_max_us < max_us {
                    return Err(("tail_max_us", format!("{tail_max_us} is below max_us")));
                }
                super::fault::check_probability("tail", tail)
            }
            Latency::Uniform { .. } => Ok(()),
        }
    }

    /// Draws one latency in ns (recorded choices; 0 is the fastest).
    pub(crate) fn sample(&self, w: &World) -> u64 {
        const US: u64 = 1_000;
        match *self {
            Latency::Fixed { us } => us * US,
            Latency::Uniform { min_us, max_us } => {
                (min_us + ctx::extra(max_us.saturating_sub(min_us))) * US
            }
            Latency::LongTail {
                min_us,
                max_us,
                tail,
                tail_max_us,
            } => {
                let base = min_us + ctx::extra(max_us.saturating_sub(min_us));
                let slow = ctx::fault(w, tail);
                let extra = match slow {
                    true => ctx::extra(tail_max_us.saturating_sub(base)),
                    false => 0,
                };
                (base + extra) * US
            }
        }
    }
}

/// The behaviour of one direction of a link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LinkConfig {
    /// One-way latency.
    pub latency: Latency,
    /// Probability that a datagram is lost; for streams, that a segment needs a
    /// retransmission (which delays it and everything behind it).
    pub loss: f64,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// Retransmission delay of a lost stream segment (doubles per consecutive loss).
    pub retransmit_ms: u64,
    /// How long a stream may be stalled by a partition before it fails with `TimedOut`.
    pub stream_timeout_ms: u64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency: Latency::Fixed { us: 1_000 },
            loss: 0.0,
            duplicate: 0.0,
            retransmit_ms: 200,
            stream_timeout_ms: 30_000,
        }
    }
}

impl LinkConfig {
    /// Sets the latency model.
    pub fn latency(mut self, latency: Latency) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the loss probability.
    pub fn loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }

    /// Sets the duplication probability.
    pub fn duplicate(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }

    /// Sets how long a partition may stall a stream before it times out.
    pub fn stream_timeout(mut self, d: std::time::Duration) -> Self {
        self.stream_timeout_ms = d.as_millis() as u64;
        self
    }

    /// Checks every field; the error names the field.
    pub(crate) fn validate(&self) -> Result<(), (&'static str, String)> {
        self.latency.validate().map_err(|(k, m)| match k {
            "max_us" => ("latency.max_us", m),
            "tail_max_us" => ("latency.tail_max_us", m),
            _ => ("latency.tail", m),
        })?;
        super::fault::check_probability("loss", self.loss)?;
        super::fault::check_probability("duplicate", self.duplicate)
    }
}

/// The links of a run.
#[derive(Debug, Default)]
pub(crate) struct Links {
    default: LinkConfig,
    overrides: BTreeMap<(u32, u32), LinkConfig>,
    /// Blocked directions (from, to).
    blocked: BTreeSet<(u32, u32)>,
    clogged: BTreeSet<u32>,
    /// Extra loss while a fault plan's loss burst lasts.
    pub(crate) burst_loss: f64,
}

impl Links {
    pub(crate) fn config(&self, from: u32, to: u32) -> &LinkConfig {
        self.overrides.get(&(from, to)).unwrap_or(&self.default)
    }

    /// True if traffic from `from` to `to` cannot pass now.
    pub(crate) fn is_blocked(&self, from: u32, to: u32) -> bool {
        if from == to {
            return false;
        }
        if self.blocked.is_empty() && self.clogged.is_empty() {
            return false;
        }
        self.blocked.contains(&(from, to))
            || self.clogged.contains(&from)
            || self.clogged.contains(&to)
    }

    pub(crate) fn set_default(&mut self, config: LinkConfig) {
        self.default = config;
    }
}

/// The effective loss probability on a link (its own, or a burst's if higher).
pub(crate) fn loss(links: &Links, from: u32, to: u32) -> f64 {
    links.config(from, to).loss.max(links.burst_loss)
}

/// Sets the configuration of every link without an override.
pub fn set_default_link(config: LinkConfig) {
    context::world(|w| w.links.borrow_mut().set_default(config));
}

/// Sets the configuration of the link from `from` to `to` (one direction).
pub fn set_link(from: impl Into<NodeId>, to: impl Into<NodeId>, config: LinkConfig) {
    let (from, to) = (from.into().0, to.into().0);
    context::world(|w| w.links.borrow_mut().overrides.insert((from, to), config));
}

/// Blocks traffic between `a` and `b`, both ways.
pub fn partition(a: impl Into<NodeId>, b: impl Into<NodeId>) {
    let (a, b) = (a.into(), b.into());
    partition_oneway(a, b);
    partition_oneway(b, a);
}

/// Blocks traffic from `from` to `to` only.
pub fn partition_oneway(from: impl Into<NodeId>, to: impl Into<NodeId>) {
    let (from, to) = (from.into().0, to.into().0);
    context::world(|w| block(w, from, to));
}

/// Lets traffic between `a` and `b` flow again, both ways.
pub fn heal(a: impl Into<NodeId>, b: impl Into<NodeId>) {
    let (a, b) = (a.into().0, b.into().0);
    context::world(|w| {
        unblock(w, a, b);
        unblock(w, b, a);
    });
}

/// Heals every partition and unclogs every node.
pub fn heal_all() {
    context::world(heal_all_in);
}

pub(crate) fn heal_all_in(w: &World) {
    let (pairs, clogged): (Vec<_>, Vec<_>) = {
        let links = w.links.borrow();
        let pairs = links.blocked.iter().copied().collect();
        (pairs, links.clogged.iter().copied().collect())
    };
    for (from, to) in pairs {
        unblock(w, from, to);
    }
    for n in clogged {
        set_clog(w, n, false);
    }
}

/// Blocks every link into and out of `node` (it looks hung to everyone else).
pub fn clog(node: impl Into<NodeId>) {
    let n = node.into().0;
    context::world(|w| set_clog(w, n, true));
}

/// Undoes [`clog`].
pub fn unclog(node: impl Into<NodeId>) {
    let n = node.into().0;
    context::world(|w| set_clog(w, n, false));
}

pub(crate) fn block(w: &World, from: u32, to: u32) {
    if from == to || !w.links.borrow_mut().blocked.insert((from, to)) {
        return;
    }
    ctx::emit(EventKind::Partition { from, to });
}

pub(crate) fn unblock(w: &World, from: u32, to: u32) {
    if !w.links.borrow_mut().blocked.remove(&(from, to)) {
        return;
    }
    ctx::emit(EventKind::Heal { from, to });
    super::net::tcp::release_held(w);
}

fn set_clog(w: &World, n: u32, on: bool) {
    let changed = {
        let mut links = w.links.borrow_mut();
        match on {
            true => links.clogged.insert(n),
            false => links.clogged.remove(&n),
        }
    };
    if !changed {
        return;
    }
    // Shown as a `clog` fault event: value 1 when it starts, 0 when it ends.
    let kind = match on {
        true => EventKind::Fault {
            what: "clog",
            node: n,
            value: 1,
        },
        false => EventKind::Fault {
            what: "clog",
            node: n,
            value: 0,
        },
    };
    ctx::emit(kind);
    if !on {
        super::net::tcp::release_held(w);
    }
}
