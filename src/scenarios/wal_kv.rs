//! A write-ahead-logged key–value store on a node's simulated disk, with a client that
//! survives its crashes.
//!
//! Node `kv` keeps its map in memory, appends every `PUT` to `wal.log` (records of
//! length, checksum, `key=value`), and every [`SNAPSHOT_EVERY`] puts writes the whole
//! map to `snap.tmp`, syncs it, renames it to `snap` and truncates the log. On start
//! it recovers: `snap`, then the log's valid records (a torn or garbage tail is cut
//! off and the cut synced before anything is appended). The client (main) writes
//! [`WRITES`] keys, retrying through crashes, and counts a put as *acknowledged* when
//! `kv` answers `OK`. After the fault plan's liveness phase restarts `kv`, every
//! acknowledged key must be readable.
//!
//! Bugs (in `wal-kv`): the put is acknowledged *before* `sync_data` of the log (a
//! background task syncs every 5 ms), and the snapshot is installed by a `rename`
//! without `sync_dir`, then the log truncated: a crash can undo the rename after the
//! truncation is durable. Fix (`wal-kv-fixed`): `sync_data` before `OK`, `sync_dir`
//! after the rename and before truncating the log.
//!
//! The fault plan ([`plan`]) crashes only `kv`, tears unsynced writes, adds disk
//! latency and rare `EIO`s (which the store answers with `ERR`, never `OK`).

use super::wire::{recv, send};
use crate::fault::FaultPlan;
use crate::fs::{self, DiskPlan, File, OpenOptions};
use crate::net::{TcpListener, TcpStream};
use crate::node;
use crate::sync::Mutex;
use crate::time::{sleep, timeout};
use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;
use std::time::Duration;

/// Keys the client writes.
pub(super) const WRITES: u32 = 40;
/// Puts between snapshots.
pub(super) const SNAPSHOT_EVERY: u32 = 8;

const LOG: &str = "wal.log";

/// The plan the scenario runs under unless `--faults` replaces it.
pub(super) fn plan() -> FaultPlan {
    let disk = DiskPlan {
        torn: [0.0, 1.0],
        latency_us: [10, 300],
        eio: [0.0, 0.002],
        ..DiskPlan::default()
    };
    FaultPlan {
        duration_ms: 400,
        tick_ms: 5,
        crash: [1.0, 10.0],
        crash_nodes: vec!["kv".into()],
        restart_ms: [2, 30],
        disk,
        ..FaultPlan::default()
    }
}

pub(super) async fn run(fixed: bool) {
    node::Builder::new("kv").build(move || serve(fixed));
    let mut acked = Vec::new();
    for i in 0..WRITES {
        if put(i).await {
            acked.push(i);
        }
        sleep(Duration::from_millis(crate::rand::gen_range(1..6))).await;
    }
    sleep(Duration::from_millis(450)).await; // past the liveness phase: kv is up
    let missing = missing(&acked).await;
    assert!(
        missing.is_empty(),
        "acknowledged puts lost after crash and restart: keys {missing:?} were acknowledged by kv but are not in its store"
    );
}

/// Connects to `kv`, retrying while it is down (for at most 10 s; a connection to a
/// crashed host would wait for TCP's own timeout).
async fn connect() -> TcpStream {
    for _ in 0..1_000 {
        let attempt = timeout(Duration::from_millis(8), TcpStream::connect("kv:7000"));
        if let Ok(Ok(s)) = attempt.await {
            return s;
        }
        sleep(Duration::from_millis(2)).await;
    }
    panic!("kv did not accept connections for 10 s");
}

/// Puts `k{i}=v{i}` until kv answers; true if it answered `OK`.
async fn put(i: u32) -> bool {
    for _ in 0..50 {
        let mut s = connect().await;
        let answer = timeout(Duration::from_millis(200), async {
            send(&mut s, &format!("PUT k{i} v{i}")).await?;
            recv(&mut s).await
        })
        .await;
        match answer {
            Ok(Ok(a)) if a == "OK" => return true,
            _ => sleep(Duration::from_millis(2)).await, // ERR, reset or timeout: retry
        }
    }
    false
}

/// The acknowledged keys kv does not have.
async fn missing(acked: &[u32]) -> Vec<u32> {
    let mut s = connect().await;
    let mut missing = Vec::new();
    for &i in acked {
        send(&mut s, &format!("GET k{i}"))
            .await
            .expect("kv is up after liveness");
        let v = recv(&mut s).await.expect("kv is up after liveness");
        if v != format!("v{i}") {
            missing.push(i);
        }
    }
    missing
}

/// The store's state: its map, the open log and where it ends.
struct Store {
    map: BTreeMap<String, String>,
    log: File,
    end: u64,
    puts: u32,
    fixed: bool,
}

async fn serve(fixed: bool) {
    let store = loop {
        match recover(fixed).await {
            Ok(store) => break store,
            Err(_) => sleep(Duration::from_millis(1)).await, // an injected EIO: retry
        }
    };
    let store = Rc::new(Mutex::new(store));
    if !fixed {
        crate::spawn(sync_in_background(store.clone()));
    }
    let listener = TcpListener::bind("0.0.0.0:7000").await.expect("port free");
    while let Ok((mut conn, _)) = listener.accept().await {
        let store = store.clone();
        crate::spawn(async move {
            while let Ok(msg) = recv(&mut conn).await {
                let answer = handle(&store, &msg).await;
                if send(&mut conn, &answer).await.is_err() {
                    return;
                }
            }
        });
    }
}

async fn handle(store: &Mutex<Store>, msg: &str) -> String {
    let mut s = store.lock().await;
    match msg.split(' ').collect::<Vec<_>>().as_slice() {
        ["PUT", k, v] => match put_durably(&mut s, k, v).await {
            Ok(()) => "OK".into(),
            Err(_) => "ERR".into(),
        },
        ["GET", k] => s.map.get(*k).cloned().unwrap_or_else(|| "NONE".into()),
        _ => "ERR".into(),
    }
}

async fn put_durably(s: &mut Store, k: &str, v: &str) -> io::Result<()> {
    let record = encode(k, v);
    s.log.write_all_at(&record, s.end).await?;
    s.end += record.len() as u64;
    if s.fixed {
        s.log.sync_data().await?;
    } // else BUG: acknowledged before the log is synced
    s.map.insert(k.into(), v.into());
    s.puts += 1;
    if s.puts % SNAPSHOT_EVERY == 0 {
        let _ = snapshot(s).await; // a failed snapshot leaves the log in charge
    }
    Ok(())
}

/// Writes the map to `snap` and truncates the log.
async fn snapshot(s: &mut Store) -> io::Result<()> {
    let bytes: Vec<u8> = s.map.iter().flat_map(|(k, v)| encode(k, v)).collect();
    let tmp = File::create("snap.tmp").await?;
    tmp.write_all_at(&bytes, 0).await?;
    tmp.sync_data().await?;
    fs::rename("snap.tmp", "snap").await?;
    if s.fixed {
        fs::sync_dir("").await?;
    } // else BUG: the rename is not durable, but the truncation below will be
    s.log.set_len(0).await?; // whatever the log holds is in the snapshot
    s.end = 0; // even if the sync below fails: the next put's sync covers the cut
    s.log.sync_data().await
}

async fn sync_in_background(store: Rc<Mutex<Store>>) {
    loop {
        sleep(Duration::from_millis(5)).await;
        let _ = store.lock().await.log.sync_data().await;
    }
}

/// Rebuilds the store from `snap` and the log; cuts a torn tail off the log.
async fn recover(fixed: bool) -> io::Result<Store> {
    let mut map = BTreeMap::new();
    match fs::read("snap").await {
        Ok(bytes) => drop(decode(&bytes, &mut map)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = OpenOptions::new();
    let log = options
        .read(true)
        .write(true)
        .create(true)
        .open(LOG)
        .await?;
    log.sync_data().await?;
    fs::sync_dir("").await?; // the log's name is durable from the start
    let len = log.metadata().await?.len();
    let mut bytes = vec![0; len as usize];
    log.read_exact_at(&mut bytes, 0).await?;
    let end = decode(&bytes, &mut map) as u64;
    if end < len {
        log.set_len(end).await?; // a torn or garbage tail
        log.sync_data().await?;
    }
    Ok(Store {
        map,
        log,
        end,
        puts: 0,
        fixed,
    })
}

/// A record: length (4 bytes LE), FNV-1a checksum of the payload (4), `key=value`.
fn encode(k: &str, v: &str) -> Vec<u8> {
    let payload = format!("{k}={v}");
    let mut out = (payload.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&checksum(payload.as_bytes()).to_le_bytes());
    out.extend_from_slice(payload.as_bytes());
    out
}

/// Applies the valid records of `bytes` to `map`; returns where they end.
fn decode(bytes: &[u8], map: &mut BTreeMap<String, String>) -> usize {
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        let sum = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
        let Some(payload) = bytes.get(at + 8..at + 8 + len) else {
            break;
        };
        let Some((k, v)) = std::str::from_utf8(payload)
            .ok()
            .and_then(|p| p.split_once('='))
        else {
            break;
        };
        if len == 0 || checksum(payload) != sum {
            break;
        }
        map.insert(k.into(), v.into());
        at += 8 + len;
    }
    at
}

fn checksum(bytes: &[u8]) -> u32 {
    let h = bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    });
    h
}
