//! A primary–backup key-value store over simulated TCP, with a client that fails over.
//!
//! Nodes: `backup` stores what it is sent; `primary` serves the client and replicates to
//! the backup. The client (main) writes ten keys, one at a time, and counts a write as
//! *acknowledged* when the primary answers `OK`. If the primary dies, it fails over:
//! every acknowledged write must be readable from the backup.
//!
//! Bug: the primary acknowledges a write at once and replicates in the background every
//! 10 ms (asynchronous replication). A primary crash between the acknowledgement and the
//! next replication round loses an acknowledged write. Fix: replicate synchronously — the
//! backup's `OK` comes before the client's.
//!
//! The fault plan ([`plan`]) crashes only the primary, at a rate each seed draws, over a
//! link with variable latency and a little loss.

use super::wire::{recv, send};
use crate::fault::FaultPlan;
use crate::net::{Latency, LinkConfig, TcpListener, TcpStream};
use crate::node::{self, NodeStatus};
use crate::time::{sleep, timeout};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

const WRITES: u32 = 10;

/// The plan the scenario runs under unless `--faults` replaces it.
pub(super) fn plan() -> FaultPlan {
    FaultPlan {
        duration_ms: 1_000,
        tick_ms: 10,
        crash: [0.5, 4.0],
        crash_nodes: vec!["primary".into()],
        restart_ms: [5_000, 5_000],
        loss: [0.0, 0.05],
        link: LinkConfig::default().latency(Latency::uniform(
            Duration::from_micros(500),
            Duration::from_millis(3),
        )),
        ..FaultPlan::default()
    }
}

pub(super) async fn run(sync_replication: bool) {
    node::Builder::new("backup").build(backup);
    let primary = node::Builder::new("primary").build(move || primary(sync_replication));
    sleep(Duration::from_millis(5)).await;
    let acked = client_writes().await;
    if primary.status() != NodeStatus::Crashed {
        sleep(Duration::from_millis(100)).await; // let replication settle
    }
    let missing = failover_read(&acked).await;
    assert!(
        missing.is_empty(),
        "acknowledged writes lost after failover: keys {missing:?} were acknowledged by the primary but the backup does not have them"
    );
}

/// Writes keys `k0..` until one fails; returns the acknowledged ones.
async fn client_writes() -> Vec<u32> {
    let mut acked = Vec::new();
    let Ok(mut s) = TcpStream::connect("primary:7000").await else {
        return acked;
    };
    for i in 0..WRITES {
        let put = format!("PUT k{i} v{i}");
        let answer = timeout(Duration::from_secs(1), async {
            send(&mut s, &put).await?;
            recv(&mut s).await
        })
        .await;
        match answer {
            Ok(Ok(a)) if a == "OK" => acked.push(i),
            _ => break,
        }
        sleep(Duration::from_millis(crate::rand::gen_range(1..8))).await;
    }
    acked
}

/// Reads every acknowledged key from the backup; returns the missing ones.
async fn failover_read(acked: &[u32]) -> Vec<u32> {
    let mut s = TcpStream::connect("backup:7000")
        .await
        .expect("the backup never crashes in this scenario");
    let mut missing = Vec::new();
    for &i in acked {
        send(&mut s, &format!("GET k{i}")).await.expect("backup up");
        let v = recv(&mut s).await.expect("backup up");
        if v != format!("v{i}") {
            missing.push(i);
        }
    }
    missing
}

async fn backup() {
    let store = Rc::new(RefCell::new(BTreeMap::<String, String>::new()));
    let listener = TcpListener::bind("0.0.0.0:7000").await.expect("port free");
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        let store = store.clone();
        crate::spawn(async move {
            while let Ok(msg) = recv(&mut s).await {
                let answer = apply(&store, &msg);
                if send(&mut s, &answer).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Applies `PUT k v` or `GET k` to a store; returns the answer.
fn apply(store: &RefCell<BTreeMap<String, String>>, msg: &str) -> String {
    let parts: Vec<&str> = msg.split(' ').collect();
    match parts.as_slice() {
        ["PUT", k, v] => {
            store.borrow_mut().insert(k.to_string(), v.to_string());
            "OK".into()
        }
        ["GET", k] => store
            .borrow()
            .get(*k)
            .cloned()
            .unwrap_or_else(|| "NONE".into()),
        _ => "ERR".into(),
    }
}

async fn primary(sync_replication: bool) {
    let Ok(backup) = TcpStream::connect("backup:7000").await else {
        return;
    };
    let backup = Rc::new(crate::sync::Mutex::new(backup));
    let pending = Rc::new(RefCell::new(Vec::<String>::new()));
    if !sync_replication {
        crate::spawn(replicate_in_background(backup.clone(), pending.clone()));
    }
    let store = Rc::new(RefCell::new(BTreeMap::new()));
    let listener = TcpListener::bind("0.0.0.0:7000").await.expect("port free");
    while let Ok((mut client, _)) = listener.accept().await {
        let (backup, pending, store) = (backup.clone(), pending.clone(), store.clone());
        crate::spawn(async move {
            while let Ok(msg) = recv(&mut client).await {
                apply(&store, &msg);
                if sync_replication {
                    let mut b = backup.lock().await;
                    if send(&mut b, &msg).await.is_err() || recv(&mut b).await.is_err() {
                        return;
                    }
                } else {
                    pending.borrow_mut().push(msg); // BUG: acknowledged before replicated
                }
                if send(&mut client, "OK").await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Ships pending writes to the backup every 10 ms.
async fn replicate_in_background(
    backup: Rc<crate::sync::Mutex<TcpStream>>,
    pending: Rc<RefCell<Vec<String>>>,
) {
    loop {
        sleep(Duration::from_millis(10)).await;
        let batch: Vec<String> = pending.borrow_mut().drain(..).collect();
        let mut b = backup.lock().await;
        for msg in batch {
            if send(&mut b, &msg).await.is_err() || recv(&mut b).await.is_err() {
                return;
            }
        }
    }
}
