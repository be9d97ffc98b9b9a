//! Programs shared by several integration tests. Each test crate uses only some of them.

#![allow(dead_code)] // each test file needs only part of the helpers

/// The lost update: two tasks each read a shared counter, yield, and write it back plus
/// one. It fails ("lost update") when both read before either writes.
pub async fn lost_update() {
    increment_twice(None).await
}

/// [`lost_update`] with its two tasks named `{prefix}-0` and `{prefix}-1`.
pub async fn lost_update_named(prefix: &str) {
    increment_twice(Some(prefix)).await
}

async fn increment_twice(prefix: Option<&str>) {
    let n = std::rc::Rc::new(std::cell::Cell::new(0));
    let hs: Vec<_> = (0..2)
        .map(|i| {
            let n = n.clone();
            let inc = async move {
                let v = n.get();
                detsim::task::yield_now().await;
                n.set(v + 1);
            };
            match prefix {
                Some(p) => detsim::task::spawn_named(format!("{p}-{i}"), inc),
                None => detsim::spawn(inc),
            }
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    assert_eq!(n.get(), 2, "lost update");
}
