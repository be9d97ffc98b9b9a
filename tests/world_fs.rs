//! The simulated disk (`detsim::fs`): durability across crashes, torn writes, injected
//! `EIO`, quotas, lying fsync, latency, determinism of every file operation and fault.

use detsim::fault::FaultPlan;
use detsim::fs::{self, File, OpenOptions};
use detsim::node::{self, Node};
use detsim::time::sleep;
use detsim::{Config, Outcome, Sim, TraceMode};
use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use std::cell::RefCell;
use std::future::Future;
use std::io::{ErrorKind, SeekFrom};
use std::rc::Rc;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

type Seen = Rc<RefCell<Vec<String>>>;

/// Runs `before` on a node called `db`, crashes and restarts it, then runs `after` on
/// its second incarnation; returns what `after` reports.
fn crash_between<B, BF, A, AF>(config: Config, before: B, after: A) -> (Vec<String>, Outcome<()>)
where
    B: Fn() -> BF + 'static,
    BF: Future<Output = ()> + 'static,
    A: Fn(Seen) -> AF + 'static,
    AF: Future<Output = ()> + 'static,
{
    let seen: Seen = Rc::default();
    let s = seen.clone();
    let out = Sim::new(config).run(async move {
        let (before, after) = (Rc::new(before), Rc::new(after));
        let db = node::Builder::new("db").build(move || {
            let (before, after, s) = (before.clone(), after.clone(), s.clone());
            async move {
                match node::current().incarnation() {
                    0 => before().await,
                    _ => after(s).await,
                }
            }
        });
        sleep(ms(50)).await;
        node::crash(db);
        node::restart(db);
        sleep(ms(50)).await;
    });
    let seen = seen.borrow().clone();
    (seen, out)
}

async fn contents(path: &str) -> String {
    match fs::read(path).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == ErrorKind::NotFound => "<missing>".into(),
        Err(e) => format!("<{e}>"),
    }
}

#[test]
fn unsynced_writes_vanish_after_a_crash_and_synced_ones_survive() {
    let (seen, out) = crash_between(
        Config::default().seed(1),
        || async {
            let f = File::create("log").await.unwrap();
            f.write_all_at(b"synced;", 0).await.unwrap();
            f.sync_data().await.unwrap();
            fs::sync_dir("/").await.unwrap();
            f.write_all_at(b"lost", 7).await.unwrap();
            assert_eq!(
                contents("log").await,
                "synced;lost",
                "reads see the page cache"
            );
        },
        |seen| async move {
            {
                let c = contents("log").await;
                seen.borrow_mut().push(c)
            }
        },
    );
    out.result.unwrap();
    assert_eq!(seen, ["synced;"]);
    let text = out.trace.to_string();
    assert!(text.contains("disk LOSE n1:db log @7+11 -> ok"), "{text}");
}

#[test]
fn a_rename_without_sync_dir_vanishes_and_one_with_it_survives() {
    for sync in [false, true] {
        let (seen, out) = crash_between(
            Config::default().seed(2),
            move || async move {
                fs::write("snap.tmp", b"v2").await.unwrap();
                File::options()
                    .write(true)
                    .open("snap.tmp")
                    .await
                    .unwrap()
                    .sync_all()
                    .await
                    .unwrap();
                fs::sync_dir(".").await.unwrap();
                fs::rename("snap.tmp", "snap").await.unwrap();
                if sync {
                    fs::sync_dir(".").await.unwrap();
                }
            },
            |seen| async move {
                {
                    let c = contents("snap").await;
                    seen.borrow_mut().push(c)
                };
                {
                    let c = contents("snap.tmp").await;
                    seen.borrow_mut().push(c)
                };
            },
        );
        out.result.unwrap();
        match sync {
            false => assert_eq!(seen, ["<missing>", "v2"]),
            true => assert_eq!(seen, ["v2", "<missing>"]),
        }
    }
}

#[test]
fn a_restart_sees_exactly_the_durable_state() {
    let (seen, out) = crash_between(
        Config::default().seed(3),
        || async {
            for name in ["kept", "removed", "gone", "overwritten", "truncated"] {
                fs::write(name, b"durable").await.unwrap();
                File::options()
                    .write(true)
                    .open(name)
                    .await
                    .unwrap()
                    .sync_data()
                    .await
                    .unwrap();
            }
            fs::sync_dir("").await.unwrap();
            fs::remove_file("gone").await.unwrap();
            fs::sync_dir("").await.unwrap(); // the removal is durable
                                             // Synced data, name never synced.
            fs::write("new", b"x").await.unwrap();
            File::options()
                .write(true)
                .open("new")
                .await
                .unwrap()
                .sync_data()
                .await
                .unwrap();
            fs::remove_file("removed").await.unwrap();
            fs::rename("kept", "kept2").await.unwrap();
            let f = File::options()
                .write(true)
                .open("overwritten")
                .await
                .unwrap();
            f.write_all_at(b"XX", 2).await.unwrap();
            f.set_len(3).await.unwrap();
            let t = File::options().write(true).open("truncated").await.unwrap();
            t.set_len(2).await.unwrap();
            // A directory whose own entry is never synced: its synced child goes too.
            fs::create_dir_all("sub/deeper").await.unwrap();
            fs::write("sub/deeper/f", b"y").await.unwrap();
            fs::sync_dir("sub/deeper").await.unwrap();
            fs::sync_dir("sub").await.unwrap();
        },
        |seen| async move {
            let names: Vec<String> = fs::read_dir("")
                .await
                .unwrap()
                .iter()
                .map(|e| e.file_name())
                .collect();
            seen.borrow_mut().push(names.join(","));
            for name in ["kept", "removed", "overwritten", "truncated"] {
                let c = contents(name).await;
                seen.borrow_mut().push(format!("{name}={c}"));
            }
        },
    );
    out.result.unwrap();
    assert_eq!(
        seen,
        [
            "kept,overwritten,removed,truncated",
            "kept=durable",
            "removed=durable",
            "overwritten=durable",
            "truncated=durable",
        ]
    );
}

fn torn_plan() -> FaultPlan {
    let mut plan = FaultPlan::default();
    plan.swarm = false;
    plan.disk.torn = [1.0, 1.0];
    plan
}

/// The bytes written by the torn write: distinct, never zero.
fn record_bytes() -> Vec<u8> {
    (0..2000u32).map(|i| (i % 251) as u8 + 1).collect()
}

#[test]
fn torn_writes_leave_a_prefix_or_some_sectors_of_the_last_write() {
    let (mut prefixes, mut gapped) = (0, 0);
    for seed in 0..40 {
        let (seen, out) = crash_between(
            Config::default().seed(seed).faults(torn_plan()),
            || async {
                let f = File::create("wal").await.unwrap();
                f.write_all_at(b"head", 0).await.unwrap();
                f.sync_data().await.unwrap();
                fs::sync_dir("").await.unwrap();
                f.write_all_at(&record_bytes(), 4).await.unwrap();
            },
            |seen| async move {
                let b = fs::read("wal").await.unwrap();
                seen.borrow_mut()
                    .push(b.iter().map(|x| format!("{x:02x}")).collect());
            },
        );
        out.result.unwrap();
        let bytes: Vec<u8> = (0..seen[0].len() / 2)
            .map(|i| u8::from_str_radix(&seen[0][2 * i..2 * i + 2], 16).unwrap())
            .collect();
        assert_eq!(
            &bytes[..4],
            b"head",
            "seed {seed}: the synced part survives"
        );
        let tail = &bytes[4..];
        let full = record_bytes();
        assert!(tail.len() <= full.len());
        if tail == &full[..tail.len()] {
            prefixes += (!tail.is_empty() && tail.len() < full.len()) as u32;
        } else {
            // Sectors kept out of order: every chunk is the written bytes or zeros.
            for (i, chunk) in tail.chunks(512).enumerate() {
                let written = &full[i * 512..i * 512 + chunk.len()];
                assert!(
                    chunk == written || chunk.iter().all(|&b| b == 0),
                    "seed {seed}"
                );
            }
            gapped += 1;
        }
        assert!(
            out.trace.to_string().contains("FAULT torn_write n1:db"),
            "seed {seed}"
        );
    }
    assert!(prefixes > 0, "some seeds keep a strict prefix");
    assert!(
        gapped > 0,
        "some seeds keep later sectors without earlier ones"
    );
}

#[test]
fn injected_eio_surfaces_as_an_error_the_program_handles() {
    let mut plan = FaultPlan::default();
    plan.swarm = false;
    plan.disk.eio = [0.2, 0.2];
    let out = Sim::new(Config::default().seed(7).faults(plan)).run(async {
        let mut options = OpenOptions::new();
        let f = options
            .read(true)
            .write(true)
            .create(true)
            .open("data")
            .await;
        let f = f.unwrap();
        let mut errors = 0;
        for i in 0..100u64 {
            let record = [i as u8; 10];
            // Retry each step until it succeeds, as a careful program does.
            while let Err(e) = f.write_all_at(&record, i * 10).await {
                assert_eq!(e.raw_os_error(), Some(5), "{e}");
                errors += 1;
            }
            while f.sync_data().await.is_err() {
                errors += 1;
            }
        }
        let mut buf = vec![0; 1000];
        while let Err(e) = f.read_at(&mut buf, 0).await {
            assert_eq!(e.raw_os_error(), Some(5), "{e}");
            errors += 1;
        }
        assert!(buf
            .chunks(10)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&b| b == i as u8)));
        errors
    });
    let errors = out.result.unwrap();
    assert!(
        (20..=80).contains(&errors),
        "{errors} injected errors in ~250 ops at p=0.2"
    );
    assert!(out.stats.faults >= errors as u64);
    assert!(out.trace.to_string().contains("-> EIO"));
}

#[test]
fn a_disk_is_full_at_its_quota() {
    let out = Sim::new(Config::default().seed(1)).run(async {
        fs::set_quota(node::current(), Some(1000));
        let f = File::create("a").await.unwrap();
        f.write_all_at(&[1; 600], 0).await.unwrap();
        f.write_all_at(&[2; 100], 0).await.unwrap(); // overwriting needs no space
        let g = File::create("b").await.unwrap();
        let e = g.write_all_at(&[3; 600], 0).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::StorageFull, "{e}");
        assert_eq!(
            fs::metadata("b").await.unwrap().len(),
            0,
            "a failed write changes nothing"
        );
        g.write_all_at(&[3; 400], 0).await.unwrap();
        assert_eq!(fs::used_bytes(node::current()), 1000);
        drop(f);
        fs::remove_file("a").await.unwrap();
        g.write_all_at(&[4; 600], 400).await.unwrap();
        fs::used_bytes(node::current())
    });
    assert_eq!(out.result.unwrap(), 1000);
    assert!(out
        .trace
        .to_string()
        .contains("disk write n0:main b @0+600 -> ENOSPC"));
}

#[test]
fn a_lying_fsync_loses_synced_data_and_only_its_knob_turns_it_on() {
    for lie in [0.0, 1.0] {
        let mut plan = FaultPlan::default();
        plan.disk.lying_fsync = lie;
        plan.disk.eio = [0.0, 0.0];
        plan.disk.torn = [0.0, 1.0];
        let (seen, out) = crash_between(
            Config::default().seed(5).faults(plan),
            || async {
                let f = File::create("x").await.unwrap();
                f.write_all_at(b"data", 0).await.unwrap();
                f.sync_data().await.unwrap();
                fs::sync_dir("").await.unwrap();
            },
            |seen| async move {
                {
                    let c = contents("x").await;
                    seen.borrow_mut().push(c)
                }
            },
        );
        out.result.unwrap();
        let expected = if lie > 0.0 { "" } else { "data" };
        assert_eq!(seen, [expected], "lying_fsync = {lie}");
    }
}

#[test]
fn operations_take_the_plans_latency_in_virtual_time() {
    let mut plan = FaultPlan::default();
    plan.disk.latency_us = [100, 100];
    let out = Sim::new(Config::default().seed(1).faults(plan)).run(async {
        let t0 = detsim::time::Instant::now();
        let mut f = File::create("f").await.unwrap(); // 1 op
        f.write_all(b"abc").await.unwrap(); // 1 op
        f.sync_all().await.unwrap(); // 1 op
        t0.elapsed()
    });
    assert_eq!(out.result.unwrap(), Duration::from_micros(300));
}

#[test]
fn sequential_io_seek_and_append_work_like_std() {
    let out = Sim::new(Config::default().seed(1)).run(async {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .open("/d.txt")
            .await
            .unwrap();
        f.write_all(b"hello world").await.unwrap();
        f.seek(SeekFrom::Start(6)).await.unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "world");
        let mut a = OpenOptions::new().append(true).open("d.txt").await.unwrap();
        a.write_all(b"!").await.unwrap();
        assert_eq!(f.seek(SeekFrom::End(0)).await.unwrap(), 12);
        let e = File::open("missing").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open("d.txt")
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        let e = File::open("d.txt")
            .await
            .unwrap()
            .write_all_at(b"x", 0)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "read-only handle");
        let e = fs::read("../etc/passwd").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        fs::create_dir_all("a/b").await.unwrap();
        let e = fs::remove_dir("a").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DirectoryNotEmpty);
        fs::rename("a", "c").await.unwrap();
        assert!(fs::metadata("c/b").await.unwrap().is_dir());
        String::from_utf8(fs::read("d.txt").await.unwrap()).unwrap()
    });
    assert_eq!(out.result.unwrap(), "hello world!");
}

#[test]
fn a_handle_from_before_a_crash_is_stale() {
    let out = Sim::new(Config::default().seed(1)).run(async {
        let slot: Rc<RefCell<Option<File>>> = Rc::default();
        let s = slot.clone();
        let db: Node = node::Builder::new("db").build(move || {
            let s = s.clone();
            async move {
                let f = File::create("f").await.unwrap();
                *s.borrow_mut() = Some(f);
            }
        });
        sleep(ms(1)).await;
        node::crash(db);
        let f = slot.borrow_mut().take().unwrap();
        f.write_all_at(b"x", 0).await.unwrap_err().to_string()
    });
    assert!(out.result.unwrap().contains("stale file handle"));
}

/// A workload with every disk fault on, crashes from the plan, and latency.
fn faulty_workload(seed: u64, trace: TraceMode) -> Outcome<()> {
    let mut plan = FaultPlan::default();
    plan.swarm = false;
    plan.duration_ms = 500;
    plan.tick_ms = 10;
    plan.crash = [0.0, 8.0];
    plan.restart_ms = [5, 20];
    plan.disk.eio = [0.01, 0.1];
    plan.disk.torn = [0.0, 0.7];
    plan.disk.latency_us = [10, 2000];
    let sim = Sim::new(Config::default().seed(seed).trace(trace).faults(plan)).node(
        node::Builder::new("db"),
        || async {
            let Ok(mut f) = OpenOptions::new()
                .append(true)
                .create(true)
                .open("log")
                .await
            else {
                return;
            };
            fs::sync_dir("").await.ok();
            for i in 0..200u32 {
                let _ = f.write_all(format!("record {i};").as_bytes()).await;
                if i % 10 == 0 {
                    let _ = f.sync_data().await;
                }
                sleep(ms(1)).await;
            }
        },
    );
    sim.run(async { sleep(ms(600)).await })
}

#[test]
fn same_seed_gives_the_same_trace_of_every_file_operation_and_fault() {
    let a = faulty_workload(11, TraceMode::Full);
    let b = faulty_workload(11, TraceMode::Full);
    let text = a.trace.to_string();
    assert_eq!(text, b.trace.to_string());
    let needles = [
        "disk write n1:db log",
        "disk sync_data",
        "disk LOSE",
        "CRASH",
        "-> EIO",
    ];
    for needle in needles {
        assert!(text.contains(needle), "{needle} missing");
    }
    let other = std::thread::spawn(|| faulty_workload(11, TraceMode::Full).trace.to_string());
    assert_eq!(other.join().unwrap(), text, "another thread");
    let off = faulty_workload(11, TraceMode::Off);
    assert_eq!(off.fingerprint, a.fingerprint, "trace on/off");
    let c = faulty_workload(12, TraceMode::Off);
    assert_ne!(c.fingerprint, a.fingerprint);
}

#[test]
fn disk_operations_show_on_the_nodes_lane_in_chrome_traces_html_and_json() {
    let out = faulty_workload(3, TraceMode::Full);
    let json: serde_json::Value =
        serde_json::from_str(&detsim::trace::to_chrome_json(&out.trace)).unwrap();
    let disk_on_n1 = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "disk" && e["pid"] == 2 && e["tid"] == 1)
        .count();
    assert!(disk_on_n1 > 100, "{disk_on_n1} disk events on n1's track");
    // The HTML timeline: a mark per disk operation on node n1's lane (kind 11 = done,
    // 12 = failed), each pointing at its `disk …` event line.
    let html = detsim::trace::to_html(&out.trace);
    let open = r#"<script type="application/json" id="detsim-data">"#;
    let start = html.find(open).expect("the page embeds its model") + open.len();
    let len = html[start..].find("</script>").unwrap();
    let m: serde_json::Value = serde_json::from_str(&html[start..start + len]).unwrap();
    let n1_lane = m["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["kind"] == "node" && l["id"] == 1)
        .expect("n1 has a lane");
    let ints = |k: &str| -> Vec<u64> {
        m["marks"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect()
    };
    let (lanes, kinds, evs) = (ints("lane"), ints("kind"), ints("ev"));
    let disk: Vec<usize> = (0..kinds.len())
        .filter(|&i| kinds[i] == 11 || kinds[i] == 12)
        .collect();
    assert!(
        disk.len() > 100,
        "{} disk marks in the HTML timeline",
        disk.len()
    );
    assert!(
        disk.iter().any(|&i| kinds[i] == 12),
        "a failed operation is marked"
    );
    for &i in &disk {
        assert_eq!(lanes[i] as usize, n1_lane, "disk marks sit on n1's lane");
        let line = m["ev"]["lines"][evs[i] as usize].as_str().unwrap();
        assert!(line.contains(" disk "), "{line}");
    }
    let lines = out.trace.to_json_lines();
    let line = lines
        .lines()
        .find(|l| l.contains("\"event\":\"disk\""))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    for key in ["node", "op", "path", "offset", "len", "result"] {
        assert!(v["kind"].get(key).is_some(), "{key} missing in {line}");
    }
}

#[test]
fn a_plan_file_with_a_bad_disk_key_is_rejected_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, "[disk]\ntorn = [0.0, 1.5]\n").unwrap();
    let e = FaultPlan::load(&path).unwrap_err().to_string();
    assert!(e.contains("disk.torn") && e.contains("1.5"), "{e}");
    std::fs::write(&path, "[disk]\ntear = [0.0, 0.5]\n").unwrap();
    let e = FaultPlan::load(&path).unwrap_err().to_string();
    assert!(e.contains("tear"), "{e}");
    std::fs::write(
        &path,
        "[disk]\neio = [0.0, 0.1]\nlying_fsync = 0.5\nquota_bytes = 4096\n",
    )
    .unwrap();
    let plan = FaultPlan::load(&path).unwrap();
    assert_eq!(plan.disk.quota_bytes, Some(4096));
}
