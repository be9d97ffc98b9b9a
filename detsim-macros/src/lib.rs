//! Procedural macros of detsim and its tokio facade.
//!
//! - `entry.rs` — `#[detsim::test]`, `#[detsim::main]`, and the facade's
//!   `#[tokio::test]` / `#[tokio::main]`: an `async fn` becomes a sync fn whose body
//!   runs under detsim (a campaign for tests, one run for `main`).
//! - `select.rs` — the facade's `select!`: tokio's syntax, but the branch polled first
//!   is a recorded choice of the run instead of a draw from a thread-local RNG.
//! - `args.rs` — `key = value` attribute arguments.
//!
//! Every expansion names the runtime crate by a path (`crate = "..."`, default `::detsim`
//! or `::tokio`), so a renamed dependency still works.

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod args;
mod entry;
mod select;

use proc_macro::TokenStream;

/// Runs an `async fn` test as a detsim campaign (see `detsim::harness` docs):
/// `#[detsim::test(seeds = 1000, strategy = "pct:3", workers = 4)]`.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::DetsimTest, attr.into(), item.into()).into()
}

/// Runs `async fn main` once under detsim (seed from `DETSIM_SEED`, default 0).
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::DetsimMain, attr.into(), item.into()).into()
}

/// The tokio facade's `#[tokio::test]`: a detsim campaign (default 100 seeds).
#[proc_macro_attribute]
pub fn tokio_test(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::TokioTest, attr.into(), item.into()).into()
}

/// The tokio facade's `#[tokio::main]`: one run through the facade's `Runtime`.
#[proc_macro_attribute]
pub fn tokio_main(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::TokioMain, attr.into(), item.into()).into()
}

/// Implementation of the facade's `select!`; called as
/// `select_impl!{ crate = $crate; <tokio select! input> }`.
#[doc(hidden)]
#[proc_macro]
pub fn select_impl(input: TokenStream) -> TokenStream {
    select::expand(input.into()).into()
}
