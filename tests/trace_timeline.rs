//! The timelines. HTML: the model embedded in the page has the lanes, bars, arrows,
//! node marks and failure a user needs, for a distributed scenario (`kv-replication`)
//! and a CPU-bound one (`pool`); and, where Chromium is installed, the page renders
//! them with no script error. Chrome trace: a track per node, messages as flows.

use detsim::{Config, TraceMode};
use serde_json::Value;

fn trace_of(scenario: &str, seed: u64) -> detsim::Trace {
    let s = detsim::scenarios::find(scenario).expect("scenario exists");
    let out = s.run(
        Config::default()
            .seed(seed)
            .workers(4)
            .trace(TraceMode::Full),
    );
    assert!(
        out.failure().is_some(),
        "{scenario} seed {seed} should fail"
    );
    out.trace
}

/// The JSON model inside the page.
fn model(html: &str) -> Value {
    let open = r#"<script type="application/json" id="detsim-data">"#;
    let start = html.find(open).expect("the page embeds its model") + open.len();
    let len = html[start..].find("</script>").expect("model block closes");
    serde_json::from_str(&html[start..start + len]).expect("the model is JSON")
}

fn col(v: &Value, a: &str, b: &str) -> Vec<i64> {
    v[a][b]
        .as_array()
        .unwrap_or_else(|| panic!("{a}.{b} is an array"))
        .iter()
        .map(|x| x.as_i64().expect("integer"))
        .collect()
}

fn line(m: &Value, ev: i64) -> String {
    m["ev"]["lines"][ev as usize]
        .as_str()
        .expect("a line")
        .to_string()
}

fn failure_message(trace: &detsim::Trace) -> String {
    trace
        .events()
        .find_map(|e| match e.kind {
            detsim::trace::EventKind::Failure { message } => Some(message),
            _ => None,
        })
        .expect("the trace has its failure")
}

#[test]
fn page_is_self_contained() {
    let html = detsim::trace::to_html(&trace_of("pool", 5));
    assert!(html.starts_with("<!DOCTYPE html>"));
    for needle in ["<script src", "<link", "http://", "https://", "import("] {
        assert!(
            !html.contains(needle),
            "the page must fetch nothing: {needle}"
        );
    }
    for id in ["tl-canvas", "tl-list", "tl-zoom-in", "tl-fit", "tl-failure"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "missing #{id}");
    }
}

#[test]
fn kv_replication_timeline_shows_nodes_messages_crash_and_failure() {
    let trace = trace_of("kv-replication", 1);
    let m = model(&detsim::trace::to_html(&trace));
    let lanes: Vec<(String, String)> = m["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().into(),
                l["label"].as_str().unwrap().into(),
            )
        })
        .collect();
    let workers = lanes.iter().filter(|l| l.0 == "worker").count();
    assert_eq!(workers, 4, "{lanes:?}");
    let node_labels: Vec<&str> = lanes
        .iter()
        .filter(|l| l.0 == "node")
        .map(|l| l.1.as_str())
        .collect();
    assert_eq!(node_labels, ["n0 main", "n1 backup", "n2 primary"]);

    // A bar for every poll, in its worker lane and in its node lane.
    let polls = trace
        .events()
        .filter(|e| e.kind == detsim::trace::EventKind::Poll)
        .count();
    let bar_lanes = col(&m, "bars", "lane");
    assert_eq!(bar_lanes.iter().filter(|&&l| l < 4).count(), polls);
    assert_eq!(bar_lanes.iter().filter(|&&l| l >= 4).count(), polls);

    // Message arrows join a send to the delivery (or drop) of the same message.
    let kinds = col(&m, "arrows", "kind");
    let (from, to) = (col(&m, "arrows", "from_ev"), col(&m, "arrows", "to_ev"));
    let mut messages = 0;
    for i in (0..kinds.len()).filter(|&i| kinds[i] == 1 || kinds[i] == 2) {
        let (s, d) = (line(&m, from[i]), line(&m, to[i]));
        let what = |l: &str| {
            l.split_once(" tcp ")
                .or(l.split_once(" udp "))
                .map(|x| x.1.to_string())
        };
        assert!(
            d.contains(if kinds[i] == 1 { " deliver " } else { " DROP " }),
            "{d}"
        );
        if s.contains(" CRASH ") {
            // The reset a crash sends its peers: from the crashed node.
            let crashed = s.split(" CRASH ").nth(1).unwrap();
            assert!(d.contains(&format!("tcp {crashed} -> ")), "{s} -> {d}");
        } else {
            assert!(s.contains(" send "), "{s}");
            assert_eq!(what(&s), what(&d), "paired {s} with {d}");
        }
        assert!(from[i] < to[i]);
        messages += 1;
    }
    let delivered = trace
        .events()
        .filter(|e| matches!(e.kind, detsim::trace::EventKind::NetDeliver { .. }))
        .count();
    assert_eq!(messages, delivered, "an arrow per delivered message");

    // Wake arrows end at a poll of the woken task.
    let wakes: Vec<usize> = (0..kinds.len()).filter(|&i| kinds[i] == 0).collect();
    assert!(!wakes.is_empty());
    for &i in &wakes {
        let woken = line(&m, from[i]);
        let poll = line(&m, to[i]);
        if let Some(target) = woken.split("wake ").nth(1) {
            assert!(
                poll.contains(target) && poll.ends_with(" poll"),
                "{woken} -> {poll}"
            );
        }
    }

    // The primary's crash is marked, and it is down from then on.
    let n2 = 4 + 2;
    let crash = (0..col(&m, "marks", "kind").len())
        .find(|&i| col(&m, "marks", "kind")[i] == 4)
        .expect("a crash mark");
    assert_eq!(col(&m, "marks", "lane")[crash], n2);
    assert!(line(&m, col(&m, "marks", "ev")[crash]).contains("CRASH n2:primary"));
    assert_eq!(col(&m, "regions", "lane"), [n2]);
    assert_eq!(m["regions"]["label"][0], "down");

    // The failure, with its message and task.
    assert_eq!(m["failure"]["message"], failure_message(&trace).as_str());
    assert_eq!(m["failure"]["task"], 0);
    assert!(line(&m, m["failure"]["ev"].as_i64().unwrap()).contains("FAILURE"));
}

#[test]
fn pool_timeline_shows_burns_timers_and_the_late_heartbeat() {
    let trace = trace_of("pool", 5);
    let m = model(&detsim::trace::to_html(&trace));
    assert_eq!(
        m["lanes"].as_array().unwrap().len(),
        4,
        "one lane per worker, no nodes"
    );
    let burn = col(&m, "bars", "burn");
    let end = col(&m, "bars", "end");
    let ev = col(&m, "bars", "ev");
    let t = col(&m, "ev", "t");
    let burns: Vec<usize> = (0..burn.len()).filter(|&i| burn[i] == 1).collect();
    assert!(burns.len() >= 4, "the compressors' burns");
    for &b in &burns {
        assert!(end[b] > t[ev[b] as usize], "a burn lasts");
        assert!(line(&m, ev[b]).contains(" burn "));
    }
    // Timer arrows: armed, fired (via), then the poll; the heartbeat's are there.
    let kinds = col(&m, "arrows", "kind");
    let via = col(&m, "arrows", "via");
    let timers: Vec<usize> = (0..kinds.len()).filter(|&i| kinds[i] == 3).collect();
    assert!(!timers.is_empty());
    for &i in &timers {
        assert!(line(&m, col(&m, "arrows", "from_ev")[i]).contains("timer set"));
        assert!(line(&m, via[i]).contains("timer fire"));
        assert!(line(&m, col(&m, "arrows", "to_ev")[i]).ends_with(" poll"));
    }
    assert_eq!(m["failure"]["task"], 1, "the heartbeat is the failing task");
    assert!(m["failure"]["message"]
        .as_str()
        .unwrap()
        .contains("heartbeat"));
    assert!(m["marks"]["ev"].as_array().unwrap().is_empty());
}

#[test]
fn huge_traces_keep_their_last_events() {
    // More events than a page holds: the page keeps the last ones (the failure) and says so.
    let out = detsim::Sim::new(
        Config::default()
            .seed(3)
            .workers(2)
            .steps_max(10_000_000)
            .trace(TraceMode::Full),
    )
    .run(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                detsim::task::spawn(async {
                    for _ in 0..40_000 {
                        detsim::task::yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let total = out.trace.len();
    assert!(total > 300_000, "{total} events");
    let m = model(&detsim::trace::to_html(&out.trace));
    assert_eq!(m["total"], total);
    assert_eq!(m["skipped"], total - 300_000);
    assert_eq!(m["ev"]["t"].as_array().unwrap().len(), 300_000);
}

#[test]
fn chrome_trace_has_a_track_per_node_and_messages_as_flows() {
    let trace = trace_of("kv-replication", 1);
    let v: Value = serde_json::from_str(&detsim::trace::to_chrome_json(&trace)).unwrap();
    let evs = v["traceEvents"].as_array().unwrap();
    let tracks: Vec<&str> = evs
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name" && e["pid"] == 2)
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tracks, ["n0 main", "n1 backup", "n2 primary"]);
    let delivered = trace
        .events()
        .filter(|e| matches!(e.kind, detsim::trace::EventKind::NetDeliver { .. }))
        .count();
    let starts: Vec<&Value> = evs.iter().filter(|e| e["ph"] == "s").collect();
    let ends: Vec<&Value> = evs.iter().filter(|e| e["ph"] == "f").collect();
    assert_eq!(starts.len(), ends.len());
    let message_ends = ends.iter().filter(|e| e["name"] == "message").count();
    assert_eq!(message_ends, delivered, "a flow per delivered message");
    for (s, f) in starts.iter().zip(&ends) {
        assert_eq!(s["id"], f["id"]);
        assert!(s["ts"].as_f64() <= f["ts"].as_f64(), "{s} {f}");
        // Each end binds to a world slice on its node's track at that instant.
        let bound = |e: &Value| {
            evs.iter().any(|x| {
                x["ph"] == "X" && x["pid"] == 2 && x["tid"] == e["tid"] && x["ts"] == e["ts"]
            })
        };
        assert!(bound(s) && bound(f), "{s} {f}");
    }
}

/// Loads the pages in headless Chromium (when installed; `DETSIM_CHROMIUM` names the
/// binary) and reads what the script drew from `#tl-status`, and any error from
/// `#tl-errors`.
#[test]
fn pages_render_in_headless_chromium() {
    let bin = std::env::var("DETSIM_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    if std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: {bin} not found (set DETSIM_CHROMIUM)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("detsim-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (scenario, seed, lanes) in [("kv-replication", 1, 7), ("pool", 5, 4)] {
        let path = dir.join(format!("{scenario}.html"));
        let html = detsim::trace::to_html(&trace_of(scenario, seed));
        let probe = format!("<script>{PROBE}</script></body>");
        std::fs::write(&path, html.replace("</body>", &probe)).unwrap();
        let dom = dump_dom(&bin, &path);
        assert!(
            !dom.contains("id=\"tl-errors\">"),
            "script error: {dom:.2000}"
        );
        let status = dom
            .split("<div id=\"tl-status\"")
            .nth(1)
            .and_then(|s| s.split("</div>").next())
            .unwrap_or_else(|| panic!("no #tl-status in {dom:.2000}"));
        let attr = |name: &str| -> u64 {
            let key = format!("data-{name}=\"");
            let v = status
                .split(&key)
                .nth(1)
                .unwrap_or("")
                .split('"')
                .next()
                .unwrap();
            v.parse()
                .unwrap_or_else(|_| panic!("{scenario}: {name} in {status}"))
        };
        assert!(status.contains(">drawn"), "{scenario}: {status}");
        assert_eq!(attr("lanes"), lanes, "{scenario}");
        assert!(attr("bars") > 20, "{scenario}: {status}");
        assert!(attr("arrows") > 5, "{scenario}: {status}");
        assert_eq!(attr("failure"), 1, "{scenario}: {status}");
        // Hovering the failing task's last poll shows its details; clicking it selects
        // its row in the event list (scrolled to it); the wheel zooms.
        let probe = dom
            .split("<pre id=\"tl-probe\">")
            .nth(1)
            .and_then(|s| s.split("</pre>").next())
            .unwrap_or_else(|| panic!("{scenario}: no probe result"));
        let p: Value = serde_json::from_str(&probe.replace("&quot;", "\"").replace("&amp;", "&"))
            .unwrap_or_else(|e| panic!("{scenario}: {e}: {probe}"));
        assert!(p["error"].is_null(), "{scenario}: {p}");
        let tip = p["tip"].as_str().unwrap();
        assert!(
            tip.contains("spawned at") && tip.contains("the failing task"),
            "{tip}"
        );
        assert!(tip.contains("poll at"), "{tip}");
        assert_eq!(p["selected"], p["expected"], "{scenario}: {p}");
        assert!(p["scrolled"].as_f64().unwrap() > 0.0, "{scenario}: {p}");
        assert_eq!(p["zoomed"], true, "{scenario}: {p}");
        if scenario == "kv-replication" {
            assert!(attr("marks") > 10 && attr("regions") == 1, "{status}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Drives the page: hover, click and wheel on the failing task's last poll.
const PROBE: &str = include_str!("timeline_probe.js");

fn dump_dom(bin: &str, page: &std::path::Path) -> String {
    let mut child = std::process::Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1400,900",
            "--virtual-time-budget=3000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut out = String::new();
    let reader = std::thread::spawn({
        let mut stdout = child.stdout.take().unwrap();
        move || {
            use std::io::Read;
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        }
    });
    // At most 60 s (1,200 waits of 50 ms; no wall clock in tests, by clippy.toml).
    let mut waits = 0;
    while child.try_wait().unwrap().is_none() {
        waits += 1;
        if waits > 1_200 {
            let _ = child.kill();
            panic!("chromium did not finish in 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    out.push_str(&reader.join().unwrap());
    out
}
