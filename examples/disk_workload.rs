//! The disk benchmark's workload (shared by `benches/disk.rs` and `examples/disk_rss.rs`):
//! a node appends [`RECORDS`] records of 100 bytes per batch, `sync_data` every
//! [`SYNC_EVERY`]; with `truncate`, the file is cut to 0 (and synced) between batches.

#![allow(dead_code)]

use detsim::fs::OpenOptions;
use detsim::{node, Config, Sim};
use futures::AsyncWriteExt;

/// Records per batch.
pub const RECORDS: u64 = 100_000;
/// Records between syncs.
pub const SYNC_EVERY: u64 = 100;

/// Runs `batches` batches; returns the file's final length and the run's trace length.
pub fn append(config: Config, batches: u64, truncate: bool) -> (u64, usize) {
    let out = Sim::new(config).run(async move {
        let (tx, rx) = detsim::sync::oneshot::channel();
        let tx = std::cell::RefCell::new(Some(tx));
        node::Builder::new("db").build(move || {
            let tx = tx.borrow_mut().take();
            async move {
                let mut options = OpenOptions::new();
                let mut f = options.write(true).create(true).open("log").await.unwrap();
                let record = [7u8; 100];
                for batch in 0..batches {
                    if truncate && batch > 0 {
                        f.set_len(0).await.unwrap();
                        f.sync_data().await.unwrap();
                        futures::AsyncSeekExt::seek(&mut f, std::io::SeekFrom::Start(0))
                            .await
                            .unwrap();
                    }
                    for i in 1..=RECORDS {
                        f.write_all(&record).await.unwrap();
                        if i % SYNC_EVERY == 0 {
                            f.sync_data().await.unwrap();
                        }
                    }
                }
                let len = f.metadata().await.unwrap().len();
                let _ = tx.unwrap().send(len);
            }
        });
        rx.await.unwrap()
    });
    (out.result.unwrap(), out.trace.len())
}

fn main() {
    let (len, _) = append(Config::default().seed(1), 1, false);
    println!("file length {len}");
}
