//! `insta` glue: traces as snapshot files under the crate's `snapshots/` directory.
//!
//! A trace's text form is stable and diff-friendly, so a behaviour change of a scenario —
//! another interleaving, an extra wake, a timer firing later — shows up in review as a
//! snapshot diff (`cargo insta review`, or `INSTA_UPDATE=always cargo test` to accept).

/// The `insta` crate detsim uses, for [`crate::assert_trace_snapshot!`].
pub use insta;

/// Asserts that a trace matches the snapshot `snapshots/<name>.snap` of the calling crate.
///
/// ```no_run
/// let out = detsim::Sim::new(detsim::Config::default().seed(3)).run(async {
///     detsim::spawn(async {}).await.unwrap();
/// });
/// detsim::assert_trace_snapshot!("spawn_and_join", out.trace);
/// ```
#[macro_export]
macro_rules! assert_trace_snapshot {
    ($name:expr, $trace:expr) => {{
        let mut settings = $crate::snapshot::insta::Settings::clone_current();
        settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        let text = ::std::string::ToString::to_string(&$trace);
        settings.bind(|| $crate::snapshot::insta::assert_snapshot!($name, text));
    }};
}
