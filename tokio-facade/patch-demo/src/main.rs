//! Unmodified tokio code (and tokio-stream) running on detsim through `[patch]`: four
//! minutes of sleeps take no real time, and the output is the same on every run.

use tokio_stream::StreamExt;

#[tokio::main]
async fn main() {
    let start = tokio::time::Instant::now();
    let (tx, rx) = tokio::sync::mpsc::channel::<u32>(4);
    tokio::spawn(async move {
        for i in 0..5 {
            tx.send(i).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        }
    });
    let got: Vec<u32> = tokio_stream::wrappers::ReceiverStream::new(rx)
        .collect()
        .await;
    let (w, r) = tokio::sync::watch::channel(1);
    let mut changes = tokio_stream::wrappers::WatchStream::new(r);
    w.send(2).unwrap();
    drop(w);
    let latest = changes.next().await;
    println!("{got:?} {latest:?} after {:?} of virtual time", start.elapsed());
}
