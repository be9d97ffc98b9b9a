//! `sleep`'s paths besides "armed, then polled once it fired" (the common one, which
//! every timer test takes): polled early, dropped unpolled after firing, reset.

use detsim::time::{sleep, Instant};
use detsim::{Config, Sim};
use futures::FutureExt;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The paths besides "armed, then polled once it fired": a poll before it fires (a
/// join), a sleep that fired but was dropped unpolled after its slot was reused
/// (its stale key must not cancel the new timer), and a reset.
#[test]
fn early_polls_stale_drops_and_resets_keep_their_deadlines() {
    let out = Sim::new(Config::default().seed(3)).run(async {
        let t0 = Instant::now();
        // Joined: the 5 ms sleep is polled again, early, when the 2 ms one fires.
        futures::future::join(sleep(ms(2)), sleep(ms(5))).await;
        assert_eq!(t0.elapsed(), ms(5));
        // `b` fires at 8 ms along with the awaited sleep, and is not polled again.
        let mut b = Box::pin(sleep(ms(3)));
        assert!(b.as_mut().now_or_never().is_none(), "armed");
        sleep(ms(3)).await;
        // Two new timers take the two freed slots (`b`'s among them) ...
        let (mut c1, mut c2) = (Box::pin(sleep(ms(4))), Box::pin(sleep(ms(6))));
        assert!(c1.as_mut().now_or_never().is_none());
        assert!(c2.as_mut().now_or_never().is_none());
        // ... so dropping `b` now must release nothing.
        drop(b);
        futures::future::join(c1, c2).await;
        assert_eq!(t0.elapsed(), ms(14));
        // Reset while armed: the new deadline counts, the old one is cancelled.
        let mut r = Box::pin(sleep(ms(50)));
        assert!(r.as_mut().now_or_never().is_none());
        r.as_mut().reset(Instant::now() + ms(1));
        r.await;
        assert_eq!(t0.elapsed(), ms(15));
    });
    out.result.unwrap();
    assert_eq!(out.stats.timers_fired, 7, "the 50 ms timer was cancelled");
    assert_eq!(out.stats.elapsed, ms(15));
}
