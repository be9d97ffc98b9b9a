//! Determinism across processes: the built binary, run twice, prints byte-identical traces.

use assert_cmd::Command;

fn trace(scenario: &str, seed: &str) -> Vec<u8> {
    let out = Command::cargo_bin("detsim")
        .unwrap()
        .args(["run", scenario, "--seed", seed, "--trace", "text"])
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    out.stdout
}

#[test]
fn same_seed_same_trace_in_two_processes() {
    for (scenario, seed) in [("bank", "3"), ("pool", "5"), ("lost-wakeup-fixed", "11")] {
        let a = trace(scenario, seed);
        let b = trace(scenario, seed);
        assert!(a.len() > 500, "{scenario}: trace too short");
        assert_eq!(a, b, "{scenario} seed {seed} differs between processes");
    }
}
