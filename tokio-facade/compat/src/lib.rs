//! The same small tokio programs, compiled against detsim's tokio facade here and
//! against the real tokio in `tests/facade_vs_tokio.rs` (which includes `programs.rs`
//! with `tokio` bound to the real crate).

/// The programs, built on the facade: `tokio` below is the facade crate.
pub mod on_facade {
    include!("programs.rs");
}
