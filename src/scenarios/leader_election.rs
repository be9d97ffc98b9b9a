//! Raft-style leader election over simulated UDP: terms, votes, heartbeats.
//!
//! Three nodes start as followers with randomised election timeouts. A follower that
//! hears nothing becomes a candidate: it starts a new term, votes for itself and asks
//! the others (`RequestVote`); with a majority it is leader for that term and sends
//! heartbeats. Terms and votes are kept in each node's durable state (they survive a
//! crash, as Raft requires). An observer records every leader: **at most one leader per
//! term** is the invariant.
//!
//! Bug: on a `RequestVote` the voter adopts the request's term with
//! `if term >= current_term { current_term = term; voted_for = None }` — `>=` where Raft
//! says `>`. A second candidate of the *same* term then wipes the vote the first one got,
//! and both win. It needs two candidates in one term, which message delay, loss and
//! partitions make likely. Fix: `>`.

use crate::fault::FaultPlan;
use crate::net::{Latency, LinkConfig, UdpSocket};
use crate::node;
use crate::time::{sleep, timeout, Instant}; // virtual: `Instant::now()` reads no wall clock
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

const NODES: usize = 3;
const PORT: u16 = 9000;
const REQUEST_VOTE: u64 = 1;
const VOTE: u64 = 2;
const HEARTBEAT: u64 = 3;

/// The plan the scenario runs under unless `--faults` replaces it.
pub(super) fn plan() -> FaultPlan {
    FaultPlan {
        duration_ms: 3_000,
        crash: [0.0, 0.5],
        restart_ms: [100, 1_000],
        partition: [0.0, 2.0],
        heal_ms: [100, 1_000],
        loss: [0.0, 0.2],
        duplicate: [0.0, 0.2],
        delay: [0.0, 0.1],
        delay_max_ms: 20,
        link: LinkConfig::default().latency(Latency::uniform(
            Duration::from_millis(1),
            Duration::from_millis(15),
        )),
        ..FaultPlan::default()
    }
}

/// A node's durable state (survives crashes).
#[derive(Default)]
struct Durable {
    term: u64,
    voted_for: Option<u64>,
}

/// Leaders seen, by term: the observer that checks the invariant.
type Leaders = Rc<RefCell<BTreeMap<u64, u64>>>;

pub(super) async fn run(fixed: bool) {
    let leaders: Leaders = Rc::default();
    for id in 0..NODES as u64 {
        let durable = Rc::new(RefCell::new(Durable::default()));
        let leaders = leaders.clone();
        node::Builder::new(format!("raft{id}"))
            .build(move || member(id, durable.clone(), leaders.clone(), fixed));
    }
    sleep(Duration::from_secs(4)).await;
}

fn addr_of(id: u64) -> String {
    format!("raft{id}:{PORT}")
}

fn encode(kind: u64, term: u64, from: u64) -> [u8; 24] {
    let mut b = [0u8; 24];
    for (i, w) in [kind, term, from].into_iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    b
}

fn decode(b: &[u8]) -> Option<(u64, u64, u64)> {
    let w = |i: usize| {
        Some(u64::from_le_bytes(
            b.get(i * 8..i * 8 + 8)?.try_into().ok()?,
        ))
    };
    Some((w(0)?, w(1)?, w(2)?))
}

struct Member {
    id: u64,
    socket: UdpSocket,
    durable: Rc<RefCell<Durable>>,
    leaders: Leaders,
    fixed: bool,
}

async fn member(id: u64, durable: Rc<RefCell<Durable>>, leaders: Leaders, fixed: bool) {
    let Ok(socket) = UdpSocket::bind(("0.0.0.0", PORT)).await else {
        return;
    };
    let m = Member {
        id,
        socket,
        durable,
        leaders,
        fixed,
    };
    let mut votes = 0usize;
    let mut leader_of: Option<u64> = None;
    let mut deadline = Instant::now() + election_timeout();
    loop {
        if let Some(term) = leader_of {
            if m.durable.borrow().term != term {
                leader_of = None; // stepped down
            } else {
                m.broadcast(HEARTBEAT, term).await;
                deadline = Instant::now() + Duration::from_millis(50);
            }
        }
        let mut buf = [0u8; 24];
        let wait = deadline.duration_since(Instant::now());
        match timeout(wait, m.socket.recv_from(&mut buf)).await {
            Ok(Ok((n, from))) => {
                let Some((kind, term, sender)) = decode(&buf[..n]) else {
                    continue;
                };
                match m.handle(kind, term, sender, from).await {
                    Handled::Heard => deadline = Instant::now() + election_timeout(),
                    Handled::Vote if leader_of.is_none() => {
                        votes += 1;
                        if votes * 2 > NODES {
                            let term = m.durable.borrow().term;
                            m.become_leader(term);
                            leader_of = Some(term);
                        }
                    }
                    _ => {}
                }
            }
            Ok(Err(_)) => return,
            Err(_) if leader_of.is_none() => {
                votes = 1;
                let term = {
                    let mut d = m.durable.borrow_mut();
                    d.term += 1;
                    d.voted_for = Some(m.id);
                    d.term
                };
                m.broadcast(REQUEST_VOTE, term).await;
                deadline = Instant::now() + election_timeout();
            }
            Err(_) => {}
        }
    }
}

enum Handled {
    /// A current leader or candidate was heard: reset the election timer.
    Heard,
    /// A vote for us in our current term.
    Vote,
    Ignored,
}

fn election_timeout() -> Duration {
    Duration::from_millis(crate::rand::gen_range(150..300))
}

impl Member {
    async fn broadcast(&self, kind: u64, term: u64) {
        for peer in (0..NODES as u64).filter(|&p| p != self.id) {
            let _ = self
                .socket
                .send_to(&encode(kind, term, self.id), addr_of(peer))
                .await;
        }
    }

    async fn handle(&self, kind: u64, term: u64, sender: u64, from: SocketAddr) -> Handled {
        match kind {
            REQUEST_VOTE => {
                let granted = self.grant_vote(term, sender);
                if granted {
                    let _ = self
                        .socket
                        .send_to(&encode(VOTE, term, self.id), from)
                        .await;
                    return Handled::Heard;
                }
                Handled::Ignored
            }
            VOTE if term == self.durable.borrow().term => Handled::Vote,
            HEARTBEAT if term >= self.durable.borrow().term => {
                let mut d = self.durable.borrow_mut();
                if term > d.term {
                    d.term = term;
                    d.voted_for = None;
                }
                Handled::Heard
            }
            _ => Handled::Ignored,
        }
    }

    fn grant_vote(&self, term: u64, candidate: u64) -> bool {
        let mut d = self.durable.borrow_mut();
        let newer = if self.fixed {
            term > d.term
        } else {
            term >= d.term
        }; // BUG: >=
        if newer {
            d.term = term;
            d.voted_for = None;
        }
        if term == d.term && d.voted_for.is_none_or(|v| v == candidate) {
            d.voted_for = Some(candidate);
            return true;
        }
        false
    }

    fn become_leader(&self, term: u64) {
        let previous = self.leaders.borrow_mut().insert(term, self.id);
        if let Some(other) = previous.filter(|&o| o != self.id) {
            panic!(
                "two leaders in term {term}: raft{other} and raft{}",
                self.id
            );
        }
    }
}
