//! [`buggify`]: fault points in user code, after FoundationDB's `BUGGIFY`.

use crate::runtime::context;
use crate::trace::EventKind;
use crate::world::ctx;

/// True if the fault point at `site` fires now. Use it through [`crate::buggify!`].
///
/// Without a fault plan (or after the liveness phase began) it is always false and
/// draws nothing. With one, each site is enabled or not once per run (a recorded choice,
/// 0 = disabled), and an enabled site fires with the seed's `buggify` probability (a
/// recorded choice, 0 = no).
pub fn buggify(site: &'static str) -> bool {
    context::world(|w| {
        let p = {
            let f = w.faults.borrow();
            if !f.active || f.profile.buggify <= 0.0 {
                return false;
            }
            f.profile.buggify
        };
        let known = w.faults.borrow().sites.get(site).copied();
        let enabled = known.unwrap_or_else(|| {
            let on = ctx::choose(2) == 1;
            w.faults.borrow_mut().sites.insert(site, on);
            on
        });
        if !enabled || !ctx::fault(w, p) {
            return false;
        }
        let node = ctx::current_node();
        let value = crate::hash::fnv1a(site.as_bytes()) & 0xffff_ffff_ffff;
        ctx::emit(EventKind::Fault {
            what: "buggify",
            node,
            value,
        });
        true
    })
}

/// A fault point: `if detsim::buggify!() { /* misbehave */ }` (see [`buggify`]).
#[macro_export]
macro_rules! buggify {
    () => {
        $crate::fault::buggify(concat!(file!(), ":", line!(), ":", column!()))
    };
}
