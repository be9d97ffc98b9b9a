//! Streaming a full trace to a file (`Sim::stream_trace`, `run --trace text|json --out`):
//! the file is byte for byte the in-memory trace's text / JSON lines, events are not
//! kept in memory, and an unwritable file is reported without changing the run.

use detsim::trace::TraceStream;
use detsim::{Config, Sim};
use std::path::PathBuf;
use tracing_subscriber::prelude::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("detsim-stream-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A program with tasks of several names, timers, channels, a log line and a failure
/// (the lost update), so every kind of line the formats have shows up.
async fn program() {
    let (tx, mut rx) = futures::channel::mpsc::unbounded::<u32>();
    let counter = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut hs = Vec::new();
    for i in 0..6u32 {
        let (tx, counter) = (tx.clone(), counter.clone());
        hs.push(detsim::task::spawn_named(
            format!("worker-{}", i % 2),
            async move {
                let v = counter.get();
                detsim::time::sleep(std::time::Duration::from_millis(u64::from(i % 3))).await;
                counter.set(v + 1);
                tracing::info!(worker = i, "wrote");
                tx.unbounded_send(i).unwrap();
            },
        ));
    }
    drop(tx);
    for h in hs {
        h.await.unwrap();
    }
    let mut sum = 0;
    while let Some(v) = futures::StreamExt::next(&mut rx).await {
        sum += v;
    }
    assert_eq!(sum, 15);
    assert_eq!(counter.get(), 6, "lost update");
}

/// One run with the tracing layer installed, from one call site (a main-task panic's
/// message names where `Sim::run` was called, and failure messages are fingerprinted).
fn run(config: Config, stream: Option<TraceStream>) -> detsim::Outcome<()> {
    let subscriber = tracing_subscriber::registry().with(detsim::trace::layer());
    tracing::subscriber::with_default(subscriber, || {
        let mut sim = Sim::new(config);
        if let Some(stream) = stream {
            sim = sim.stream_trace(stream);
        }
        sim.run(program())
    })
}

#[test]
fn a_streamed_trace_is_the_in_memory_trace_byte_for_byte() {
    let dir = temp_dir("same");
    let mut failures = 0;
    for seed in 0..6 {
        let config = Config::default().seed(seed);
        let memory = run(config.clone(), None);
        let text_path = dir.join(format!("seed-{seed}.trace"));
        let json_path = dir.join(format!("seed-{seed}.jsonl"));
        let text = run(config.clone(), Some(TraceStream::text(&text_path)));
        let json = run(config.clone(), Some(TraceStream::json_lines(&json_path)));
        for streamed in [&text, &json] {
            assert_eq!(streamed.trace.stream_error(), None);
            assert_eq!(streamed.fingerprint, memory.fingerprint);
            assert_eq!(streamed.result, memory.result);
            assert!(streamed.trace.is_empty(), "events went to the file");
            assert!(streamed.trace.tasks.is_empty(), "the task table too");
            let (_, events) = streamed.trace.streamed().expect("streamed");
            assert_eq!(events, memory.trace.len() as u64);
        }
        assert_eq!(
            std::fs::read_to_string(&text_path).unwrap(),
            memory.trace.to_string()
        );
        assert_eq!(
            std::fs::read_to_string(&json_path).unwrap(),
            memory.trace.to_json_lines()
        );
        failures += usize::from(memory.failure().is_some());
        assert!(memory.trace.to_string().contains("log INFO wrote"));
    }
    assert!(
        failures > 0,
        "some seed shows the lost update (a FAILURE line)"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 12, "no temporary files left: {left:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unwritable_trace_file_is_reported_and_the_run_is_unchanged() {
    let dir = temp_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, "a file where a directory should be").unwrap();
    let config = Config::default().seed(3);
    let memory = run(config.clone(), None);
    let out = run(config, Some(TraceStream::text(blocker.join("run.trace"))));
    let error = out.trace.stream_error().expect("the error is reported");
    assert!(error.starts_with("cannot write trace file"), "{error}");
    assert!(error.contains("run.trace"), "{error}");
    assert_eq!(out.fingerprint, memory.fingerprint);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_stream_never_replaces_what_is_not_a_regular_file() {
    let dir = temp_dir("special");
    let target = dir.join("a-directory");
    std::fs::create_dir_all(&target).unwrap();
    let out = run(Config::default().seed(1), Some(TraceStream::text(&target)));
    let error = out.trace.stream_error().expect("refused");
    assert!(error.contains("not a regular file"), "{error}");
    assert!(target.is_dir(), "the directory is untouched");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "no temporary files: {left:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
