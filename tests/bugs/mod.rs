//! The bug catalogue: small, realistic async programs, each with one real concurrency bug
//! and a fixed twin, written over detsim's own primitives.
//!
//! Every program is `fn(fixed: bool) -> Scenario`. The buggy version (`fixed == false`)
//! fails for *some* schedules — by a panicking assertion or by a deadlock, which detsim
//! reports as `Failure::Deadlock` — and the fixed one for none. The fixes remove the
//! race; none of them merely makes it less likely.
//!
//! detsim interleaves tasks only at `.await` points, so shared memory held in a `Cell`
//! is read and written atomically within one poll. Where a real program would race on
//! separate machine accesses (the work-stealing deque), each access is preceded by a
//! `yield_now()` that stands for "another thread may run here".
//!
//! Shared by `tests/bugs_catalogue.rs` (the CI checks) and `examples/bug_table.rs`
//! (the measurements in `docs/bug-finding.md`), so both measure the same programs.

#![allow(dead_code)] // each user needs only part of the helpers

use detsim::explore::{Campaign, StrategySpec};
use detsim::sync::{mpsc, oneshot, Mutex, Notify};
use detsim::task::{spawn_named, yield_now};
use detsim::time::{sleep, timeout};
use detsim::{Config, Scenario};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

/// One entry of the catalogue.
#[derive(Clone, Copy, Debug)]
pub struct Bug {
    /// Short name; the scenarios are called `<name>` and `<name>-fixed`.
    pub name: &'static str,
    /// What goes wrong, in one line (the table's second column).
    pub bug: &'static str,
    /// A piece of the failure message every failing run of the buggy program shows, so a
    /// check can tell the catalogued bug from an accidental failure.
    pub symptom: &'static str,
    /// Builds the buggy (`false`) or fixed (`true`) program.
    pub make: fn(bool) -> Scenario,
    /// Few enough schedules that DFS with preemption bound [`DFS_BOUND`] exhausts the
    /// fixed version within [`DFS_SMALL_RUNS`] runs.
    pub small: bool,
}

/// The preemption bound DFS uses throughout the catalogue.
pub const DFS_BOUND: u32 = 2;

/// Run cap for exhausting a "small" fixed program with DFS (the largest needs < 10,000).
pub const DFS_SMALL_RUNS: u64 = 100_000;

/// Schedules per campaign: a bug must show up within this many.
pub const BUDGET: u64 = 10_000;

const DEADLOCK: &str = "deadlock: no task can run";

/// The whole catalogue, in the order of the table.
#[rustfmt::skip] // one entry per line reads as the table it is
pub fn catalogue() -> Vec<Bug> {
    vec![
        Bug { name: "lost-update", bug: "read, await, write of a counter: an increment is lost", symptom: "lost update", make: lost_update, small: true },
        Bug { name: "overdraft", bug: "balance check, await, debit: two withdrawals both pass the check", symptom: "overdraft", make: overdraft, small: true },
        Bug { name: "use-before-init", bug: "a handler reads the config before the loader stored it", symptom: "config read before it was loaded", make: use_before_init, small: true },
        Bug { name: "lost-wakeup", bug: "flag check, await, `notified()`: `notify_waiters` in the gap is lost (deadlock)", symptom: DEADLOCK, make: lost_wakeup, small: true },
        Bug { name: "lock-order", bug: "two transfers lock two accounts in opposite orders (deadlock)", symptom: DEADLOCK, make: lock_order, small: true },
        Bug { name: "bounded-buffer", bug: "`if` instead of `while` around the wait: take from empty / put into full", symptom: "buffer", make: bounded_buffer, small: true },
        Bug { name: "commit-before-prepare", bug: "2PC coordinator sends commit before the vote; commit overtakes prepare", symptom: "commit arrived before prepare", make: commit_before_prepare, small: true },
        Bug { name: "reorder-10", bug: "new-format write lands between migration and legacy read; 10 bystanders", symptom: "legacy reader found a row", make: reorder_10, small: false },
        Bug { name: "reorder-50", bug: "the same, with 50 bystanders", symptom: "legacy reader found a row", make: reorder_50, small: false },
        Bug { name: "reorder-10-reader-first", bug: "reorder-10, legacy reader spawned first, bystanders last", symptom: "legacy reader found a row", make: reorder_10_reader_first, small: false },
        Bug { name: "reorder-50-reader-first", bug: "reorder-50, legacy reader spawned first, bystanders last", symptom: "legacy reader found a row", make: reorder_50_reader_first, small: false },
        Bug { name: "token-ring", bug: "a node forwards the token before releasing it: two holders", symptom: "while another node holds it", make: token_ring, small: true },
        Bug { name: "work-stealing", bug: "owner takes the last item with a plain store, not a CAS: item taken twice", symptom: "an item was taken twice", make: work_stealing, small: true },
        Bug { name: "late-window", bug: "lost update whose window opens only after 40 steps of a long job", symptom: "lost update", make: late_window, small: true },
        Bug { name: "retry-duplicate", bug: "client retries after a timeout; the server applies the deposit twice", symptom: "applied more than once", make: retry_duplicate, small: true },
        Bug { name: "compaction-100", bug: "100 identical writers; one is preempted between reading its base revision and committing while 91 others commit, and its base is compacted", symptom: "has been compacted", make: compaction_100, small: false },
        Bug { name: "reorder-20", bug: "the rolling-upgrade reorder among 20 tasks, legacy reader spawned first", symptom: "legacy reader found a row", make: reorder_20, small: false },
        Bug { name: "lock-cycle-3", bug: "three movers lock (A,B), (B,C), (C,A) among 7 auditors: a 3-lock cycle (deadlock)", symptom: DEADLOCK, make: lock_cycle_3, small: false },
    ]
}

/// The catalogue entry called `name`.
pub fn find(name: &str) -> Bug {
    catalogue()
        .into_iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no program called {name} in the catalogue"))
}

/// The scenario `name` (or `name-fixed`) running `program(fixed)`.
fn scenario<Fut>(name: &str, fixed: bool, program: fn(bool) -> Fut) -> Scenario
where
    Fut: Future<Output = ()> + 'static,
{
    let (label, what) = if fixed {
        (format!("{name}-fixed"), "fixed twin of a catalogue bug")
    } else {
        (name.to_string(), "catalogue bug")
    };
    Scenario::new(label, what, move || program(fixed))
}

/// Yields `n` times: `n` more scheduling points for the task.
async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

// ---------------------------------------------------------------------------------------
// 1. Lost update.

/// Two request handlers count hits. The buggy handler locks for the read and again for
/// the write, with an await between: both read 0 and both write 1. Fixed: one guard
/// spans read and write.
pub fn lost_update(fixed: bool) -> Scenario {
    scenario("lost-update", fixed, |fixed| async move {
        let hits = Rc::new(Mutex::new(0u32));
        let handlers: Vec<_> = (0..2)
            .map(|_| spawn_named("handler", count_hit(hits.clone(), fixed)))
            .collect();
        for h in handlers {
            h.await.unwrap();
        }
        assert_eq!(*hits.lock().await, 2, "lost update: a hit was not counted");
    })
}

async fn count_hit(hits: Rc<Mutex<u32>>, fixed: bool) {
    if fixed {
        let mut n = hits.lock().await;
        let seen = *n;
        yield_now().await; // write the access log
        *n = seen + 1;
    } else {
        let seen = *hits.lock().await;
        yield_now().await; // write the access log
        *hits.lock().await = seen + 1;
    }
}

// ---------------------------------------------------------------------------------------
// 2. Atomicity violation: check-then-act across an await.

/// Two withdrawals of 60 from a balance of 100. The buggy one checks the balance, awaits
/// a fraud check, then debits: both checks pass and the account goes negative. Fixed:
/// check and debit happen in one step (a reservation), and the await comes after.
pub fn overdraft(fixed: bool) -> Scenario {
    scenario("overdraft", fixed, |fixed| async move {
        let balance = Rc::new(Cell::new(100i64));
        let ws: Vec<_> = (0..2)
            .map(|_| spawn_named("withdraw", withdraw(balance.clone(), 60, fixed)))
            .collect();
        for w in ws {
            w.await.unwrap();
        }
        assert!(balance.get() >= 0, "overdraft: balance {}", balance.get());
    })
}

async fn withdraw(balance: Rc<Cell<i64>>, amount: i64, fixed: bool) -> bool {
    if balance.get() < amount {
        return false;
    }
    if fixed {
        balance.set(balance.get() - amount); // reserve first, nobody else sees the money
        if !fraud_check().await {
            balance.set(balance.get() + amount);
            return false;
        }
    } else {
        if !fraud_check().await {
            return false;
        }
        balance.set(balance.get() - amount);
    }
    true
}

/// A remote fraud check that approves everything (after a round trip).
async fn fraud_check() -> bool {
    yield_now().await;
    true
}

// ---------------------------------------------------------------------------------------
// 3. Order violation: use before init.

/// A server starts its config loader and its first connection handler together. The
/// loader needs three polls (open, read, parse); the handler two (accept, serve), and
/// the buggy handler assumes the config is there by then. Fixed: the handler waits for
/// the loader's "ready" signal.
pub fn use_before_init(fixed: bool) -> Scenario {
    scenario("use-before-init", fixed, |fixed| async move {
        let config: Rc<RefCell<Option<u32>>> = Rc::new(RefCell::new(None));
        let (ready_tx, ready_rx) = oneshot::channel::<()>();
        let c = config.clone();
        let loader = spawn_named("loader", async move {
            yields(2).await; // open and read the file
            *c.borrow_mut() = Some(8080);
            let _ = ready_tx.send(());
        });
        let c = config.clone();
        let handler = spawn_named("handler", async move {
            yield_now().await; // accept a connection
            if fixed {
                ready_rx.await.expect("loader signals");
            }
            let port = c.borrow().expect("config read before it was loaded");
            assert_eq!(port, 8080);
        });
        loader.await.unwrap();
        handler.await.unwrap();
    })
}

// ---------------------------------------------------------------------------------------
// 4. Lost wakeup → deadlock.

/// A waiter checks a `done` flag, logs that it is about to wait (an await), and only then
/// creates its `notified()` future. A worker that sets the flag and calls
/// `notify_waiters()` in that gap wakes nobody (`notify_waiters` stores no permit), and
/// the waiter sleeps forever: a deadlock. Fixed: the `Notified` future is created before
/// the check, which registers it for every later `notify_waiters` (tokio's rule).
pub fn lost_wakeup(fixed: bool) -> Scenario {
    scenario("lost-wakeup", fixed, |fixed| async move {
        let job = Rc::new((Cell::new(false), Notify::new()));
        let j = job.clone();
        let worker = spawn_named("worker", async move {
            yield_now().await; // do the work
            j.0.set(true);
            j.1.notify_waiters();
        });
        let j = job.clone();
        let waiter = spawn_named("waiter", async move {
            let (done, finished) = (&j.0, &j.1);
            if fixed {
                let notified = finished.notified();
                if !done.get() {
                    yield_now().await; // log "waiting"
                    notified.await;
                }
            } else if !done.get() {
                yield_now().await; // log "waiting"
                finished.notified().await;
            }
            assert!(done.get());
        });
        worker.await.unwrap();
        waiter.await.unwrap();
    })
}

// ---------------------------------------------------------------------------------------
// 5. Lock-order deadlock.

/// Transfers A→B and B→A each lock the source account, write an audit record (an await),
/// then lock the destination: each holds the lock the other waits for. Fixed: both lock
/// the accounts in one global order (by id), whatever the direction.
pub fn lock_order(fixed: bool) -> Scenario {
    scenario("lock-order", fixed, |fixed| async move {
        let accounts = Rc::new([Mutex::new(100i64), Mutex::new(100i64)]);
        let t1 = spawn_named("a->b", transfer(accounts.clone(), 0, 1, 30, fixed));
        let t2 = spawn_named("b->a", transfer(accounts.clone(), 1, 0, 20, fixed));
        t1.await.unwrap();
        t2.await.unwrap();
        let total = *accounts[0].lock().await + *accounts[1].lock().await;
        assert_eq!(total, 200, "money created or destroyed");
    })
}

async fn transfer(accounts: Rc<[Mutex<i64>; 2]>, from: usize, to: usize, amount: i64, fixed: bool) {
    let (first, second) = if fixed {
        (from.min(to), from.max(to))
    } else {
        (from, to)
    };
    let mut a = accounts[first].lock().await;
    yield_now().await; // audit record
    let mut b = accounts[second].lock().await;
    let (src, dst) = if first == from {
        (&mut *a, &mut *b)
    } else {
        (&mut *b, &mut *a)
    };
    *src -= amount;
    *dst += amount;
}

// ---------------------------------------------------------------------------------------
// 6. Bounded buffer with a wrong wait condition.

/// A one-slot buffer between two producers and two consumers (two items each), with a
/// `Notify` per condition. The buggy `put`/`take` wait with `if`: a woken task does not
/// re-check, so when another consumer (producer) got there first, or a stale permit woke
/// it, it takes from an empty buffer (puts into a full one). Fixed: `while`.
pub fn bounded_buffer(fixed: bool) -> Scenario {
    scenario("bounded-buffer", fixed, |fixed| async move {
        let buf = Rc::new(Buffer {
            items: RefCell::new(VecDeque::new()),
            not_empty: Notify::new(),
            not_full: Notify::new(),
            fixed,
        });
        let mut tasks = Vec::new();
        for p in 0..2u32 {
            let b = buf.clone();
            tasks.push(spawn_named("producer", async move {
                for i in 0..2 {
                    b.put(p * 10 + i).await;
                }
            }));
        }
        for _ in 0..2 {
            let b = buf.clone();
            tasks.push(spawn_named("consumer", async move {
                for _ in 0..2 {
                    b.take().await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    })
}

struct Buffer {
    items: RefCell<VecDeque<u32>>,
    not_empty: Notify,
    not_full: Notify,
    fixed: bool,
}

impl Buffer {
    const CAPACITY: usize = 1;

    fn is_full(&self) -> bool {
        self.items.borrow().len() >= Self::CAPACITY
    }

    fn is_empty(&self) -> bool {
        self.items.borrow().is_empty()
    }

    async fn put(&self, item: u32) {
        if self.fixed {
            while self.is_full() {
                self.not_full.notified().await;
            }
        } else if self.is_full() {
            self.not_full.notified().await;
        }
        assert!(!self.is_full(), "put into a full buffer");
        self.items.borrow_mut().push_back(item);
        self.not_empty.notify_one();
    }

    async fn take(&self) -> u32 {
        if self.fixed {
            while self.is_empty() {
                self.not_empty.notified().await;
            }
        } else if self.is_empty() {
            self.not_empty.notified().await;
        }
        let item = self.items.borrow_mut().pop_front();
        self.not_full.notify_one();
        item.expect("take from an empty buffer")
    }
}

// ---------------------------------------------------------------------------------------
// 7. Two-stage protocol race: commit overtakes prepare.

enum Msg {
    Prepare(oneshot::Sender<()>),
    Commit,
}

/// Two-phase commit with one participant. Each message travels by its own network task
/// (two hops). The buggy coordinator pipelines: it sends prepare, then commit, then waits
/// for the vote — and commit may arrive first. Fixed: commit is sent only after the
/// participant voted, which it does only after it prepared.
pub fn commit_before_prepare(fixed: bool) -> Scenario {
    scenario("commit-before-prepare", fixed, |fixed| async move {
        let (inbox, mut rx) = mpsc::unbounded_channel::<Msg>();
        let participant = spawn_named("participant", async move {
            let mut prepared = false;
            for _ in 0..2 {
                match rx.recv().await.expect("two messages") {
                    Msg::Prepare(vote) => {
                        yield_now().await; // write the prepare record
                        prepared = true;
                        let _ = vote.send(());
                    }
                    Msg::Commit => assert!(prepared, "commit arrived before prepare"),
                }
            }
        });
        let coordinator = spawn_named("coordinator", async move {
            let (vote_tx, vote_rx) = oneshot::channel();
            deliver(inbox.clone(), Msg::Prepare(vote_tx));
            yield_now().await; // log "prepare sent"
            if fixed {
                vote_rx.await.expect("participant votes");
                deliver(inbox, Msg::Commit);
            } else {
                deliver(inbox, Msg::Commit);
                vote_rx.await.expect("participant votes");
            }
        });
        coordinator.await.unwrap();
        participant.await.unwrap();
    })
}

/// Sends `msg` after two network hops, on a task of its own (messages race).
fn deliver(inbox: mpsc::UnboundedSender<Msg>, msg: Msg) {
    spawn_named("network", async move {
        yields(2).await;
        let _ = inbox.send(msg);
    });
}

// ---------------------------------------------------------------------------------------
// 8, 9. The reorder bug: one task must run between two others, among bystanders.

/// A rolling upgrade. A migrator flips the table to the new row format after three
/// awaits (copy, verify, swap); a writer writes one row, in the new format if the flip
/// happened; a legacy reader, still on the old code, reads the table once and cannot
/// parse new-format rows. The bug needs the order *migrator done → writer → legacy
/// reader*: the writer must land in the gap between the two others. Bystanders (request
/// handlers, three yields each) run alongside. Fixed: the writer uses the new format
/// only once the legacy reader is gone.
async fn rolling_upgrade(bystanders: usize, order: Spawn, fixed: bool) {
    let st = Rc::new(Table::default());
    let bystander = |_| spawn_named("request", yields(3));
    let reader = || spawn_named("legacy-reader", legacy_read(st.clone()));
    let writer = || spawn_named("writer", write_row(st.clone(), fixed));
    let migrator = || spawn_named("migrator", migrate(st.clone()));
    // Spawn order is the order of these statements (an iterator chain would be lazy).
    let mut tasks = Vec::new();
    if order == Spawn::BystandersFirst {
        tasks.extend((0..bystanders).map(bystander));
        tasks.extend([reader(), writer(), migrator()]);
    } else {
        tasks.extend([reader(), writer(), migrator()]);
        tasks.extend((0..bystanders).map(bystander));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Which tasks `rolling_upgrade` spawns first. Random and PCT do not care; DFS does: its
/// first schedule runs every task to its end, in an order fixed by the ready list, and
/// it revisits the earliest choices last.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spawn {
    /// Bystanders, then legacy reader, writer, migrator (traffic, then the upgrade).
    BystandersFirst,
    /// Legacy reader, writer, migrator, then bystanders (services, then traffic).
    ReaderFirst,
}

async fn legacy_read(t: Rc<Table>) {
    let new_rows = t.rows.borrow().iter().filter(|&&new| new).count();
    assert_eq!(new_rows, 0, "legacy reader found a row in the new format");
    t.legacy_gone.set(true);
}

async fn write_row(t: Rc<Table>, fixed: bool) {
    let new = t.migrated.get() && (!fixed || t.legacy_gone.get());
    t.rows.borrow_mut().push(new);
}

async fn migrate(t: Rc<Table>) {
    yields(3).await; // copy, verify, swap
    t.migrated.set(true);
}

#[derive(Default)]
struct Table {
    migrated: Cell<bool>,
    legacy_gone: Cell<bool>,
    /// One entry per row: `true` = new format.
    rows: RefCell<Vec<bool>>,
}

/// The reorder bug with 10 bystanders.
pub fn reorder_10(fixed: bool) -> Scenario {
    scenario("reorder-10", fixed, |fixed| {
        rolling_upgrade(10, Spawn::BystandersFirst, fixed)
    })
}

/// The reorder bug with 50 bystanders.
pub fn reorder_50(fixed: bool) -> Scenario {
    scenario("reorder-50", fixed, |fixed| {
        rolling_upgrade(50, Spawn::BystandersFirst, fixed)
    })
}

/// [`reorder_10`] with the legacy reader spawned first and the bystanders last.
pub fn reorder_10_reader_first(fixed: bool) -> Scenario {
    scenario("reorder-10-reader-first", fixed, |fixed| {
        rolling_upgrade(10, Spawn::ReaderFirst, fixed)
    })
}

/// [`reorder_50`] with the legacy reader spawned first and the bystanders last.
pub fn reorder_50_reader_first(fixed: bool) -> Scenario {
    scenario("reorder-50-reader-first", fixed, |fixed| {
        rolling_upgrade(50, Spawn::ReaderFirst, fixed)
    })
}

// ---------------------------------------------------------------------------------------
// 10. Token ring.

const RING: usize = 4;
const HOPS: u32 = 8; // two rounds

/// Four nodes pass a token over mpsc channels; holding it grants exclusive use of a
/// resource, checked with a shared `holder` slot. The buggy node forwards the token, logs
/// the hand-off (an await), and only then releases the slot: the next node can take the
/// token while it still "holds" it. Fixed: release, then forward.
pub fn token_ring(fixed: bool) -> Scenario {
    scenario("token-ring", fixed, |fixed| async move {
        let holder = Rc::new(Cell::new(None::<usize>));
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..RING).map(|_| mpsc::unbounded_channel()).unzip();
        txs[0].send(0).unwrap(); // inject the token at node 0
        let mut nodes = Vec::new();
        for (i, rx) in rxs.into_iter().enumerate() {
            let next = txs[(i + 1) % RING].clone();
            nodes.push(spawn_named(
                "node",
                node(i, rx, next, holder.clone(), fixed),
            ));
        }
        drop(txs); // each channel's only sender is now its upstream node
        for n in nodes {
            n.await.unwrap();
        }
    })
}

/// Serves the token until the last hop; exiting drops `next`, which ends the next node.
async fn node(
    me: usize,
    mut rx: mpsc::UnboundedReceiver<u32>,
    next: mpsc::UnboundedSender<u32>,
    holder: Rc<Cell<Option<usize>>>,
    fixed: bool,
) {
    while let Some(hop) = rx.recv().await {
        let other = holder.replace(Some(me));
        assert_eq!(
            other, None,
            "node {me} got the token while another node holds it"
        );
        yield_now().await; // use the guarded resource
        let last = hop + 1 == HOPS;
        if fixed {
            holder.set(None);
        }
        if !last {
            let _ = next.send(hop + 1);
        }
        if !fixed {
            yield_now().await; // log the hand-off
            holder.set(None);
        }
        if last {
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 11. Work-stealing deque: the last-element race.

const ITEMS: u32 = 3;

/// A Chase–Lev deque: the owner pushes and pops at the bottom, two thieves steal at the
/// top. For the last element the owner must race the thieves with a CAS on `top`. The
/// buggy owner loads `top` and later stores `top + 1`: a thief whose CAS lands between
/// the two takes the same item. Fixed: the owner uses the CAS too.
pub fn work_stealing(fixed: bool) -> Scenario {
    scenario("work-stealing", fixed, |fixed| async move {
        let dq = Rc::new(Deque {
            fixed,
            ..Deque::default()
        });
        let taken = Rc::new(RefCell::new(Vec::new()));
        let (d, t) = (dq.clone(), taken.clone());
        let mut tasks = vec![spawn_named("owner", async move {
            for item in 0..ITEMS {
                d.push(item).await;
            }
            while let Some(item) = d.pop().await {
                t.borrow_mut().push(item);
            }
        })];
        for _ in 0..2 {
            let (d, t) = (dq.clone(), taken.clone());
            tasks.push(spawn_named("thief", async move {
                for _ in 0..3 {
                    if let Some(item) = d.steal().await {
                        t.borrow_mut().push(item);
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let mut all = taken.borrow().clone();
        all.sort_unstable();
        let unique: BTreeSet<u32> = all.iter().copied().collect();
        assert_eq!(all.len(), unique.len(), "an item was taken twice: {all:?}");
        assert_eq!(all, (0..ITEMS).collect::<Vec<_>>(), "an item was lost");
    })
}

/// `top` and `bottom` are the shared atomics; `slots` never wraps, so a published slot
/// is never overwritten while a thief may still read it.
#[derive(Default)]
struct Deque {
    top: Cell<i64>,
    bottom: Cell<i64>,
    slots: RefCell<Vec<u32>>,
    fixed: bool,
}

/// One atomic load; the yield before it lets another thread's access come first.
async fn load(c: &Cell<i64>) -> i64 {
    yield_now().await;
    c.get()
}

/// One atomic store.
async fn store(c: &Cell<i64>, v: i64) {
    yield_now().await;
    c.set(v);
}

/// One atomic compare-and-swap.
async fn cas(c: &Cell<i64>, old: i64, new: i64) -> bool {
    yield_now().await;
    let ok = c.get() == old;
    if ok {
        c.set(new);
    }
    ok
}

impl Deque {
    fn slot(&self, i: i64) -> u32 {
        self.slots.borrow()[i as usize]
    }

    async fn push(&self, item: u32) {
        let b = load(&self.bottom).await;
        self.slots.borrow_mut().push(item); // slot b: only the owner writes slots
        store(&self.bottom, b + 1).await;
    }

    async fn pop(&self) -> Option<u32> {
        let b = load(&self.bottom).await - 1;
        store(&self.bottom, b).await; // claim slot b before looking at top
        let t = load(&self.top).await;
        if t > b {
            store(&self.bottom, t).await; // empty: undo the claim
            return None;
        }
        let item = self.slot(b);
        if t < b {
            return Some(item); // more than one left: no thief can reach slot b
        }
        let won = if self.fixed {
            cas(&self.top, t, t + 1).await
        } else {
            store(&self.top, t + 1).await; // BUG: overwrites a thief's successful CAS
            true
        };
        store(&self.bottom, t + 1).await;
        won.then_some(item)
    }

    async fn steal(&self) -> Option<u32> {
        let t = load(&self.top).await;
        let b = load(&self.bottom).await;
        if t >= b {
            return None;
        }
        let item = self.slot(t);
        cas(&self.top, t, t + 1).await.then_some(item)
    }
}

// ---------------------------------------------------------------------------------------
// 12. Retry after a timeout, without idempotency.

struct Deposit {
    id: u64,
    amount: i64,
    reply: oneshot::Sender<()>,
}

const PROCESSING: Duration = Duration::from_millis(10);

/// A client sends a deposit and waits 10 ms for the acknowledgement; the server takes
/// 10 ms to apply it. When both timers are due at the same instant and the client runs
/// first, it times out and retries, and the server applies the same deposit twice.
/// Fixed: the server remembers applied request ids (an idempotency key) and only
/// acknowledges a repeat.
pub fn retry_duplicate(fixed: bool) -> Scenario {
    scenario("retry-duplicate", fixed, |fixed| async move {
        let balance = Rc::new(Cell::new(0i64));
        let (inbox, rx) = mpsc::unbounded_channel::<Deposit>();
        let server = spawn_named("server", serve(rx, balance.clone(), fixed));
        let client = spawn_named("client", async move {
            for _attempt in 0..3 {
                let (reply, ack) = oneshot::channel();
                let _ = inbox.send(Deposit {
                    id: 1,
                    amount: 100,
                    reply,
                });
                if timeout(PROCESSING, ack).await.is_ok() {
                    break;
                }
            }
        });
        client.await.unwrap();
        server.await.unwrap();
        assert_eq!(balance.get(), 100, "the deposit was applied more than once");
    })
}

async fn serve(mut rx: mpsc::UnboundedReceiver<Deposit>, balance: Rc<Cell<i64>>, fixed: bool) {
    let mut applied = BTreeSet::new();
    while let Some(d) = rx.recv().await {
        sleep(PROCESSING).await;
        if !fixed || applied.insert(d.id) {
            balance.set(balance.get() + d.amount);
        }
        let _ = d.reply.send(()); // the client may have given up on this attempt
    }
}

// ---------------------------------------------------------------------------------------
// 13. A lost update with a late, one-step window.

const CHUNKS: usize = 40;

/// A compactor works through 40 chunks (an await each), then adds the bytes it freed to
/// a stats counter with a read, an await (flushing its log), and a write; a request
/// handler adds to the same counter once, the same way, right at start-up. The update is
/// lost only if the handler's read-write lands inside the compactor's one-step window,
/// after the compactor's 40 chunks: the handler must sit still for 40 scheduling steps.
/// Fixed: both hold the counter's lock across read and write.
pub fn late_window(fixed: bool) -> Scenario {
    scenario("late-window", fixed, |fixed| async move {
        let freed = Rc::new(Mutex::new(0u64));
        let f = freed.clone();
        let compactor = spawn_named("compactor", async move {
            yields(CHUNKS).await;
            add_stat(&f, 1000, fixed).await;
        });
        let f = freed.clone();
        let handler = spawn_named("handler", async move { add_stat(&f, 1, fixed).await });
        compactor.await.unwrap();
        handler.await.unwrap();
        assert_eq!(
            *freed.lock().await,
            1001,
            "lost update: a stats increment vanished"
        );
    })
}

async fn add_stat(stat: &Mutex<u64>, n: u64, fixed: bool) {
    if fixed {
        let mut v = stat.lock().await;
        let seen = *v;
        yield_now().await; // flush the log
        *v = seen + n;
    } else {
        let seen = *stat.lock().await;
        yield_now().await; // flush the log
        *stat.lock().await = seen + n;
    }
}

// ---------------------------------------------------------------------------------------
// 16. Compacted base revision (one task out of 100, two lock-protected stages).

/// Writers in the compaction program.
const WRITERS: usize = 100;

/// Revisions of history the store keeps for in-flight transactions.
const RETAIN: u64 = 90;

/// An MVCC store keeps [`RETAIN`] revisions of history. Each of 100 identical writers
/// reads its base revision under the store lock (stage 1), computes its change (eight
/// awaits), and commits against that base under the lock again (stage 2); every commit
/// compacts history older than `RETAIN` revisions. The bug needs one writer to be
/// preempted between its two stages while more than 90 others commit in between — its
/// base is gone ("required revision has been compacted", as etcd says). Fixed: a writer
/// holds its base revision from stage 1 to stage 2, and compaction never passes the
/// oldest held base.
pub fn compaction_100(fixed: bool) -> Scenario {
    scenario("compaction-100", fixed, |fixed| async move {
        let store = Rc::new(Mutex::new(Store::default()));
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| spawn_named("writer", transact(store.clone(), fixed)))
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        assert_eq!(store.lock().await.rev, WRITERS as u64, "a commit was lost");
    })
}

#[derive(Default)]
struct Store {
    rev: u64,
    /// Revisions below this are gone.
    compacted: u64,
    /// Base revisions held by in-flight transactions (fixed version), with counts.
    held: std::collections::BTreeMap<u64, usize>,
}

impl Store {
    fn compact(&mut self) {
        let mut floor = self.rev.saturating_sub(RETAIN);
        if let Some((&oldest, _)) = self.held.iter().next() {
            floor = floor.min(oldest);
        }
        self.compacted = self.compacted.max(floor);
    }
}

async fn transact(store: Rc<Mutex<Store>>, fixed: bool) {
    let base = {
        let mut s = store.lock().await;
        let base = s.rev;
        if fixed {
            *s.held.entry(base).or_insert(0) += 1;
        }
        base
    };
    yields(8).await; // compute the change
    let mut s = store.lock().await;
    assert!(
        base >= s.compacted,
        "required revision {base} has been compacted (compacted below {})",
        s.compacted
    );
    s.rev += 1;
    if fixed {
        let n = s.held.get_mut(&base).expect("held base");
        *n -= 1;
        if *n == 0 {
            s.held.remove(&base);
        }
    }
    s.compact();
}

// ---------------------------------------------------------------------------------------
// 17. Reorder among 20 tasks.

/// The rolling-upgrade reorder bug among 20 tasks: legacy reader, writer, migrator and 17
/// bystanders, the reader spawned first (the order DFS handles worst).
pub fn reorder_20(fixed: bool) -> Scenario {
    scenario("reorder-20", fixed, |fixed| {
        rolling_upgrade(17, Spawn::ReaderFirst, fixed)
    })
}

// ---------------------------------------------------------------------------------------
// 18. A 3-lock cycle among 10 tasks.

/// Three shelves, each behind a lock. Three movers each move stock between two shelves:
/// (A,B), (B,C) and (C,A), locking the source, recording the move (an await), then
/// locking the destination. Seven auditors each lock one shelf at a time to count it.
/// The deadlock needs all three movers to hold their first lock at once. Fixed: movers
/// lock the two shelves in index order.
pub fn lock_cycle_3(fixed: bool) -> Scenario {
    scenario("lock-cycle-3", fixed, |fixed| async move {
        let shelves: Rc<[Mutex<i64>; 3]> =
            Rc::new([Mutex::new(100), Mutex::new(100), Mutex::new(100)]);
        let mut tasks = Vec::new();
        for i in 0..7 {
            tasks.push(spawn_named("auditor", audit(shelves.clone(), i % 3)));
        }
        for (from, to) in [(0, 1), (1, 2), (2, 0)] {
            tasks.push(spawn_named(
                "mover",
                move_stock(shelves.clone(), from, to, fixed),
            ));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let mut total = 0;
        for s in shelves.iter() {
            total += *s.lock().await;
        }
        assert_eq!(total, 300, "stock created or destroyed");
    })
}

async fn audit(shelves: Rc<[Mutex<i64>; 3]>, start: usize) {
    for k in 0..3 {
        let shelf = shelves[(start + k) % 3].lock().await;
        yield_now().await; // count it
        assert!(*shelf >= 0, "negative stock");
    }
}

async fn move_stock(shelves: Rc<[Mutex<i64>; 3]>, from: usize, to: usize, fixed: bool) {
    yields(2).await; // pick the order
    let (first, second) = if fixed {
        (from.min(to), from.max(to))
    } else {
        (from, to)
    };
    let mut a = shelves[first].lock().await;
    yield_now().await; // record the move
    let mut b = shelves[second].lock().await;
    let (src, dst) = if first == from {
        (&mut *a, &mut *b)
    } else {
        (&mut *b, &mut *a)
    };
    *src -= 10;
    *dst += 10;
}

// ---------------------------------------------------------------------------------------
// Measuring.

/// Schedules a campaign of `strategy` runs before the first failure (that run included),
/// starting at seed `start`, or `None` if none of `budget` schedules fails. For DFS the
/// seed only fixes the non-task choices and `budget` caps the runs.
pub fn schedules_to_first_bug(
    scenario: &Scenario,
    strategy: StrategySpec,
    start: u64,
    budget: u64,
) -> Option<u64> {
    let report = Campaign::new(scenario.clone(), Config::default())
        .strategy(strategy)
        .start(start)
        .seeds(budget)
        .jobs(2)
        .run()
        .expect("campaign runs");
    (!report.failures.is_empty()).then_some(report.runs)
}

/// The 20 campaign start seeds the medians are taken over.
pub fn offsets() -> impl Iterator<Item = u64> {
    (0..20u64).map(|k| k * 1_000_000)
}

/// Median of per-campaign results, where `None` (not found) counts as larger than any
/// number: the mean of the two middle values (rounded down) for an even count, and
/// `None` if either of them was not found.
pub fn median(mut results: Vec<Option<u64>>) -> Option<u64> {
    results.sort_by_key(|r| r.unwrap_or(u64::MAX));
    let n = results.len();
    if n == 0 {
        return None;
    }
    let (lo, hi) = (results[(n - 1) / 2]?, results[n / 2]?);
    Some((lo + hi) / 2)
}

/// Median over [`offsets`] of [`schedules_to_first_bug`].
pub fn median_to_first_bug(
    scenario: &Scenario,
    strategy: StrategySpec,
    budget: u64,
) -> Option<u64> {
    median(
        offsets()
            .map(|start| schedules_to_first_bug(scenario, strategy, start, budget))
            .collect(),
    )
}
