//! `detsim merge`: the `fuzz --json` reports of the shards of one campaign (run with
//! `--shard K/N`, anywhere) into the unsharded campaign's report, and their seeds files
//! into one (see [`crate::explore::merge_reports`] and [`crate::harness::merge_into`]).
//!
//! Output and exit status are `fuzz`'s: the text report (or `--json` on stdout, text on
//! stderr), 1 if the merged campaign failed, 2 for reports or seeds files that do not
//! read or do not fit together.

use super::args::MergeArgs;
use super::render::{json_report, text_report, Context};
use super::{InputError, Verdict};
use crate::explore::{merge_reports, CampaignReport};
use crate::harness::{merge_into, scenario_seeds_path, SeedsFile};
use anyhow::Result;
use std::path::Path;

pub(crate) fn merge(a: MergeArgs) -> Result<Verdict> {
    let parts = a
        .reports
        .iter()
        .map(|p| Ok((p.display().to_string(), read_report(p)?)))
        .collect::<Result<Vec<_>, InputError>>()?;
    let report = merge_reports(&parts).map_err(|e| InputError(e.to_string()))?;
    let seeds_path = scenario_seeds_path(&a.seeds_dir, &report.scenario);
    if !a.seeds_files.is_empty() {
        let files = a
            .seeds_files
            .iter()
            .map(SeedsFile::load)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| InputError(e.to_string()))?;
        let added = merge_into(&seeds_path, &files).map_err(|e| InputError(e.to_string()))?;
        errln!(
            "detsim: merged {} seeds files into {} ({added} new cases)",
            files.len(),
            seeds_path.display()
        );
    }
    let cx = Context::new(&report.scenario, seeds_path.clone(), None);
    let text = text_report(&cx, &report);
    if a.json {
        outln!("{}", json_report(&cx, &report)?);
        err!("{text}");
    } else {
        out!("{text}");
    }
    Ok(if report.failed() {
        Verdict::Fail
    } else {
        Verdict::Pass
    })
}

/// A shard's report, or an error naming its file.
fn read_report(path: &Path) -> Result<CampaignReport, InputError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| InputError(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        InputError(format!(
            "{}: not a `fuzz --json` report of this detsim version: {e}",
            path.display()
        ))
    })
}
