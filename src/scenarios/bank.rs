//! A bank: tellers move money between accounts stored behind an async storage layer.
//!
//! Bug: `transfer` reads both balances, awaits storage, then writes both. Two transfers
//! touching the same account interleave at those awaits and one update is lost, so money
//! is created or destroyed. Fix: lock both accounts (in index order, so two transfers
//! in opposite directions cannot deadlock) for the whole read-modify-write.

use crate::sync::Mutex;
use crate::time::sleep;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

const ACCOUNTS: usize = 16;
const INITIAL: i64 = 100;

/// Account balances behind simulated storage latency.
struct Ledger {
    balances: RefCell<Vec<i64>>,
    locks: Vec<Arc<Mutex<()>>>,
}

impl Ledger {
    async fn read(&self, account: usize) -> i64 {
        sleep(Duration::from_micros(crate::rand::gen_range(1..50))).await;
        self.balances.borrow()[account]
    }

    async fn write(&self, account: usize, value: i64) {
        sleep(Duration::from_micros(crate::rand::gen_range(1..50))).await;
        self.balances.borrow_mut()[account] = value;
    }

    async fn transfer(&self, from: usize, to: usize, amount: i64, locked: bool) {
        let (first, second) = (from.min(to), from.max(to));
        let _a = if locked {
            Some(self.locks[first].lock().await)
        } else {
            None
        };
        let _b = if locked {
            Some(self.locks[second].lock().await)
        } else {
            None
        };
        let source = self.read(from).await;
        if source < amount {
            return; // insufficient funds
        }
        let target = self.read(to).await;
        self.write(from, source - amount).await;
        self.write(to, target + amount).await;
    }
}

pub(super) async fn run(locked: bool) {
    let ledger = Rc::new(Ledger {
        balances: RefCell::new(vec![INITIAL; ACCOUNTS]),
        locks: (0..ACCOUNTS).map(|_| Arc::new(Mutex::new(()))).collect(),
    });
    let tellers: Vec<_> = (0..2)
        .map(|t| {
            let ledger = ledger.clone();
            crate::task::spawn_named(format!("teller-{t}"), async move {
                for _ in 0..2 {
                    let from = crate::rand::gen_range(0..ACCOUNTS);
                    let to = (from + crate::rand::gen_range(1..ACCOUNTS)) % ACCOUNTS;
                    ledger
                        .transfer(from, to, crate::rand::gen_range(1..=30), locked)
                        .await;
                }
            })
        })
        .collect();
    for t in tellers {
        t.await.expect("tellers do not panic");
    }
    let balances = ledger.balances.borrow().clone();
    let total: i64 = balances.iter().sum();
    assert_eq!(
        total,
        INITIAL * ACCOUNTS as i64,
        "money was created or destroyed: balances {balances:?}"
    );
}
