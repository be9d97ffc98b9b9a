//! The repository's regression corpus: every case in `seeds/<scenario>.seeds` still
//! fails on the buggy scenario and passes on its fixed twin.

use detsim::explore::Campaign;
use detsim::harness::SeedsFile;
use detsim::Config;
use std::path::Path;

#[test]
fn every_saved_seed_still_fails_and_its_fixed_twin_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut checked = 0;
    for scenario in detsim::scenarios::builtin() {
        let name = scenario.name();
        let Some(fixed) = detsim::scenarios::find(&format!("{name}-fixed")) else {
            continue; // only bug/fix pairs keep a corpus
        };
        let file = SeedsFile::load(dir.join(format!("{name}.seeds"))).expect("seeds file parses");
        assert!(!file.cases.is_empty(), "seeds/{name}.seeds has no cases");
        for case in &file.cases {
            let run = |s: &detsim::Scenario| {
                let config = Config::default().seed(case.seed).workers(case.workers);
                match case.strategy.per_run() {
                    Some(strategy) => s.run_with(config, strategy),
                    None => s.run(config),
                }
            };
            assert!(
                run(&scenario).failure().is_some(),
                "{name}: seed {} no longer fails",
                case.seed
            );
            assert!(
                run(&fixed).is_ok(),
                "{name}-fixed: seed {} fails",
                case.seed
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} cases checked");
}

#[test]
fn a_campaign_replays_the_corpus_first() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    // Copy, so the test never writes into the repository's corpus.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("bank.seeds"), tmp.path().join("bank.seeds")).unwrap();
    let bank = detsim::scenarios::find("bank").unwrap();
    let report = Campaign::new(bank, Config::default())
        .start(1_000_000)
        .seeds(1)
        .seeds_dir(Some(tmp.path().to_path_buf()))
        .run()
        .unwrap();
    let saved = SeedsFile::load(dir.join("bank.seeds")).unwrap().cases.len();
    assert_eq!(report.regressions.len(), saved);
    assert!(report.regressions.iter().all(|r| r.failure.is_some()));
}
