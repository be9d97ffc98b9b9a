//! One function per subcommand (except `fuzz` and `merge`, in their own files).

use super::args::{
    Command, DeterminismArgs, ReplayArgs, RunArgs, RunOpts, ShrinkArgs, TraceFormat,
};
use super::{indent, program_invocation, shell_quote, InputError, Verdict};
use crate::explore::watchdog::run_guarded;
use crate::explore::{
    check_determinism, check_determinism_isolated, run_one, shrink_with_watchdog, Isolate,
    IsolatedCheckError, ShrinkError, Shrunk, StrategySpec,
};
use crate::harness::{ScheduleFile, ScheduleFileError, ScheduleHeader};
use crate::trace::TraceStream;
use crate::{Config, Failure, Outcome, Scenario, Sim, TraceMode};
use anyhow::{Context, Result};
use std::path::Path;

/// `faults`: the `--faults` file, already applied to `scenarios` (isolated child
/// processes are given it again).
pub(crate) fn dispatch(
    command: Command,
    scenarios: &[Scenario],
    faults: Option<&Path>,
) -> Result<Verdict> {
    match command {
        Command::List => {
            if scenarios.is_empty() {
                errln!("detsim: no scenarios are registered (pass them to detsim::cli::main)");
            }
            let width = scenarios.iter().map(|s| s.name().len()).max().unwrap_or(0);
            for s in scenarios {
                outln!("{:<width$}  {}", s.name(), s.description());
            }
            Ok(Verdict::Pass)
        }
        Command::Run(a) => run(a, scenarios),
        Command::Fuzz(a) => super::fuzz::fuzz(a, scenarios, faults),
        Command::Replay(a) => replay(a, scenarios),
        Command::Shrink(a) => shrink_cmd(a, scenarios),
        Command::CheckDeterminism(a) => determinism(a, scenarios),
        Command::Merge(a) => super::merge::merge(a),
    }
}

pub(crate) fn find<'a>(scenarios: &'a [Scenario], name: &str) -> Result<&'a Scenario> {
    scenarios.iter().find(|s| s.name() == name).ok_or_else(|| {
        let names: Vec<&str> = scenarios.iter().map(Scenario::name).collect();
        let available = if names.is_empty() {
            "none are registered".to_string()
        } else {
            format!("available: {}", names.join(", "))
        };
        InputError(format!(
            "unknown scenario {} ({available})",
            crate::quote::quoted(name)
        ))
        .into()
    })
}

fn per_seed_strategy(spec: &StrategySpec) -> Result<()> {
    if matches!(spec, StrategySpec::Dfs { .. }) {
        return Err(InputError("dfs explores many runs from one seed; use `fuzz --strategy dfs:B`, or replay its saved --schedule".into()).into());
    }
    Ok(())
}

fn run(a: RunArgs, scenarios: &[Scenario]) -> Result<Verdict> {
    let scenario = find(scenarios, &a.scenario)?;
    refuse_special_out(&a.opts)?;
    per_seed_strategy(&a.opts.strategy)?;
    if a.json {
        let config = Config::default()
            .seed(a.seed)
            .workers(a.opts.workers)
            .trace(TraceMode::Off);
        let out = run_one(scenario, config, &a.opts.strategy);
        outln!(
            "{}",
            serde_json::to_string(&crate::explore::RunSummary::of(&out))?
        );
        return Ok(if out.is_ok() {
            Verdict::Pass
        } else {
            Verdict::Fail
        });
    }
    let config = Config::default()
        .seed(a.seed)
        .workers(a.opts.workers)
        .trace(TraceMode::Full);
    let out = run_streamed(scenario, config.clone(), &a.opts)?;
    if let Some(path) = &a.schedule_out {
        refuse_special_file(path)?;
        let header = ScheduleHeader::new(scenario.name(), a.opts.strategy, config);
        ScheduleFile {
            header,
            schedule: out.schedule.clone().into(),
        }
        .save(path)?;
        errln!("schedule written to {}", path.display());
    }
    report_outcome(scenario, &out, &a.opts)
}

fn replay(a: ReplayArgs, scenarios: &[Scenario]) -> Result<Verdict> {
    let scenario = find(scenarios, &a.scenario)?;
    refuse_special_out(&a.opts)?;
    let out = match (&a.source.seed, &a.source.schedule) {
        (Some(seed), _) => {
            per_seed_strategy(&a.opts.strategy)?;
            let config = Config::default()
                .seed(*seed)
                .workers(a.opts.workers)
                .trace(TraceMode::Full);
            run_streamed(scenario, config, &a.opts)?
        }
        (None, Some(path)) => {
            let file = load_schedule(path, scenario)?;
            let config = file.header.config.clone().trace(TraceMode::Full);
            let mut sim = Sim::new(config).replay(file.schedule);
            if let Some(stream) = trace_stream(&a.opts)? {
                sim = sim.stream_trace(stream);
            }
            let out = scenario.run_sim(sim);
            if let Some(d @ Failure::Divergence { .. }) = out.failure() {
                return Err(InputError(format!(
                    "{}: the program no longer follows this schedule: {d}",
                    path.display()
                ))
                .into());
            }
            out
        }
        (None, None) => unreachable!("clap requires --seed or --schedule"),
    };
    report_outcome(scenario, &out, &a.opts)
}

/// Loads a schedule file for `scenario`, checking the scenario name and build.
fn load_schedule(path: &Path, scenario: &Scenario) -> Result<ScheduleFile> {
    let file = ScheduleFile::load(path).map_err(|e| match e {
        ScheduleFileError::Io { path, source } => InputError(format!(
            "cannot read schedule file {}: {source}",
            path.display()
        )),
        other => InputError(other.to_string()),
    })?;
    if file.header.scenario != scenario.name() {
        return Err(InputError(format!(
            "{}: this schedule was recorded from scenario {}, not '{}'",
            path.display(),
            crate::quote::quoted(&file.header.scenario),
            scenario.name()
        ))
        .into());
    }
    if !file.header.is_from_this_build() {
        errln!(
            "detsim: warning: {} was recorded by another build of the program; replay may diverge",
            path.display()
        );
    }
    Ok(file)
}

/// `--out` is checked before the run: a streamed trace opens its file as the run starts.
fn refuse_special_out(opts: &RunOpts) -> Result<()> {
    match &opts.out {
        Some(path) => refuse_special_file(path),
        None => Ok(()),
    }
}

/// `--trace text|json --out FILE` streams the trace to the file as the run goes, so a
/// run of millions of events needs no more memory than one with the trace off.
/// (Chrome and HTML are laid out from the whole trace, so they are built in memory.)
/// The path is checked before the run: never a FIFO, a device or a directory.
fn trace_stream(opts: &RunOpts) -> Result<Option<TraceStream>> {
    let (Some(path), Some(format)) = (opts.out.as_deref(), opts.trace) else {
        return Ok(None);
    };
    refuse_special_file(path)?;
    Ok(match format {
        TraceFormat::Text => Some(TraceStream::text(path)),
        TraceFormat::Json => Some(TraceStream::json_lines(path)),
        TraceFormat::Chrome | TraceFormat::Html => None,
    })
}

/// One run of a seed with `opts`' strategy, its trace streamed if `opts` asks for it.
fn run_streamed(scenario: &Scenario, config: Config, opts: &RunOpts) -> Result<Outcome<()>> {
    let Some(stream) = trace_stream(opts)? else {
        return Ok(run_one(scenario, config, &opts.strategy));
    };
    let mut sim = Sim::new(config).stream_trace(stream);
    if let Some(strategy) = opts.strategy.per_run() {
        sim = sim.strategy(strategy);
    }
    Ok(scenario.run_sim(sim))
}

fn report_outcome(scenario: &Scenario, out: &Outcome<()>, opts: &RunOpts) -> Result<Verdict> {
    if let Some((path, events)) = out.trace.streamed() {
        if let Some(error) = out.trace.stream_error() {
            anyhow::bail!("{error}");
        }
        errln!("trace written to {} ({events} events)", path.display());
    } else if let Some(format) = opts.trace {
        write_trace(&out.trace, format, opts.out.as_deref())?;
    }
    // A machine-readable trace on stdout stays alone there: the summary goes to stderr.
    let machine_stdout = opts.out.is_none() && opts.trace.is_some_and(|f| f != TraceFormat::Text);
    let say = |text: &str| {
        if machine_stdout {
            errln!("{text}");
        } else {
            outln!("{text}");
        }
    };
    let s = &out.stats;
    let summary = format!(
        "steps {}, virtual time {:?}, tasks {}, choices {}, fingerprint {:016x}",
        s.steps, s.elapsed, s.tasks_spawned, s.choices, out.fingerprint
    );
    match out.failure() {
        None => {
            say(&format!(
                "{} seed {}: passed ({summary})",
                scenario.name(),
                out.seed
            ));
            Ok(Verdict::Pass)
        }
        Some(f) => {
            say(&format!(
                "{} seed {}: FAILED ({summary})\n{}",
                scenario.name(),
                out.seed,
                indent(&f.to_string(), "  ")
            ));
            if opts.trace.is_none() {
                say(&format!(
                    "last events (--trace text for all):\n{}",
                    out.trace.tail(15)
                ));
            }
            Ok(Verdict::Fail)
        }
    }
}

pub(crate) fn write_trace(
    trace: &crate::Trace,
    format: TraceFormat,
    out: Option<&Path>,
) -> Result<()> {
    let text = match format {
        TraceFormat::Text => trace.to_string(),
        TraceFormat::Json => trace.to_json_lines(),
        TraceFormat::Chrome => crate::trace::to_chrome_json(trace),
        TraceFormat::Html => crate::trace::to_html(trace),
    };
    match out {
        Some(path) => {
            refuse_special_file(path)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create directory {}", dir.display()))?;
            }
            std::fs::write(path, text)
                .with_context(|| format!("cannot write trace file {}", path.display()))?;
            errln!("trace written to {}", path.display());
        }
        // Best effort: `replay ... --trace text | head` may close the pipe early.
        None => out!("{text}"),
    }
    Ok(())
}

/// An output path must be new or a regular file: writing a trace or schedule must never
/// replace (or feed) a FIFO, a device such as `/dev/null`, or a directory.
pub(crate) fn refuse_special_file(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(InputError(format!(
            "refusing to write {}: it exists and is not a regular file ({}); give a file path",
            crate::quote::quoted(&path.to_string_lossy()),
            file_kind(&meta)
        ))
        .into()),
        _ => Ok(()),
    }
}

/// What a non-regular file is, in words.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// A failing run to shrink: its config, schedule and strategy, and how to name it.
struct ToShrink {
    config: Config,
    schedule: crate::Schedule,
    strategy: StrategySpec,
    what: String,
}

fn failing_schedule(scenario: &Scenario, a: &ShrinkArgs) -> Result<ToShrink> {
    let (source, workers, strategy) = (&a.source, a.workers, &a.strategy);
    match (&source.seed, &source.schedule) {
        (Some(seed), _) => {
            per_seed_strategy(strategy)?;
            let config = Config::default()
                .seed(*seed)
                .workers(workers)
                .trace(TraceMode::Schedule);
            let (s, c, spec) = (scenario.clone(), config.clone(), *strategy);
            let out = run_guarded(Some(a.watchdog), move || run_one(&s, c, &spec)).map_err(|hung| {
                InputError(format!(
                    "{} seed {seed} ({strategy}, {workers} workers) hangs: {hung}; a hang has no schedule to shrink",
                    scenario.name()
                ))
            })?;
            if out.failure().is_none() {
                return Err(InputError(format!(
                    "{} seed {seed} ({strategy}, {workers} workers) passes: nothing to shrink \
                     (shrink a seed that `fuzz` reported as failing)",
                    scenario.name()
                ))
                .into());
            }
            Ok(ToShrink {
                config,
                schedule: out.schedule.into(),
                strategy: *strategy,
                what: format!("seed {seed} ({strategy}, {workers} workers)"),
            })
        }
        (None, Some(path)) => {
            let file = load_schedule(path, scenario)?;
            Ok(ToShrink {
                config: file.header.config,
                schedule: file.schedule,
                strategy: file.header.strategy,
                what: format!("schedule {}", path.display()),
            })
        }
        (None, None) => unreachable!("clap requires --seed or --schedule"),
    }
}

fn shrink_cmd(a: ShrinkArgs, scenarios: &[Scenario]) -> Result<Verdict> {
    let scenario = find(scenarios, &a.scenario)?;
    refuse_special_file(&a.out)?;
    let source = failing_schedule(scenario, &a)?;
    let shrunk = shrink_with_watchdog(
        scenario,
        &source.config,
        source.schedule,
        a.budget,
        Some(a.watchdog),
    )
    .map_err(|e| {
        let why = match e {
            ShrinkError::Hangs(hung) => format!("replaying it hangs: {hung}"),
            _ => "the run passes: nothing to shrink".to_string(),
        };
        InputError(format!("{} {}: {why}", scenario.name(), source.what))
    })?;
    let header = ScheduleHeader::new(scenario.name(), source.strategy, source.config);
    save_shrunk(header, &shrunk, &a.out)?;
    print_shrunk(scenario.name(), &source.what, &shrunk, &a);
    Ok(Verdict::Fail)
}

/// Writes the shrunk schedule to `path`, under `header` (the original run's).
fn save_shrunk(header: ScheduleHeader, shrunk: &Shrunk, path: &Path) -> Result<()> {
    ScheduleFile {
        header,
        schedule: shrunk.schedule.clone(),
    }
    .save(path)
    .map_err(|e| anyhow::anyhow!("cannot write the shrunk schedule: {e}"))
}

/// What shrinking `what` achieved, the failure it keeps, and how to replay the result.
fn print_shrunk(scenario: &str, what: &str, shrunk: &Shrunk, a: &ShrinkArgs) {
    let budget_note = if shrunk.stopped_by_hang {
        format!(
            " (stopped early: a candidate ran past the --watchdog of {:?})",
            a.watchdog
        )
    } else if shrunk.attempts >= a.budget {
        format!(
            " (the whole --budget {}; a larger one may shrink further)",
            a.budget
        )
    } else {
        String::new()
    };
    outln!(
        "{scenario} {what}: shrunk in {} replays{budget_note}",
        shrunk.attempts
    );
    let (b, f) = (shrunk.before, shrunk.after);
    let faults = match (b.faults, f.faults) {
        (0, 0) => String::new(),
        (b, f) => format!(", faults {b} -> {f}"),
    };
    outln!(
        "  steps {} -> {}, choices {} -> {}, context switches {} -> {}, preemptions {} -> {}{faults}",
        b.steps,
        f.steps,
        b.choices,
        f.choices,
        b.switches,
        f.switches,
        b.preemptions,
        f.preemptions
    );
    outln!(
        "  failure ({}): {}",
        shrunk.failure.kind(),
        indent(&shrunk.failure.to_string(), "    ").trim_start()
    );
    outln!(
        "shrunk schedule written to {}; replay it with:\n  {} replay {} --schedule {} --trace text",
        a.out.display(),
        program_invocation(),
        shell_quote(scenario),
        shell_quote(&a.out.to_string_lossy())
    );
}

fn determinism(a: DeterminismArgs, scenarios: &[Scenario]) -> Result<Verdict> {
    let scenario = find(scenarios, &a.scenario)?;
    if a.seeds == 0 {
        return Err(InputError("--seeds must be at least 1".into()).into());
    }
    let Some(last) = a.start.checked_add(a.seeds - 1) else {
        return Err(InputError(format!(
            "--start {} --seeds {} runs past the largest seed, 2^64-1 (from that start, --seeds is at most {})",
            a.start,
            a.seeds,
            u128::from(u64::MAX - a.start) + 1
        ))
        .into());
    };
    per_seed_strategy(&a.strategy)?;
    if a.isolate {
        return determinism_isolated(&a, scenario.name(), last);
    }
    let config = Config::default().workers(a.workers);
    match check_determinism(scenario, &config, &a.strategy, a.start..=last) {
        Ok(n) => {
            outln!("{}: deterministic: {n} seeds, each run twice here and once on another thread, identical fingerprints", scenario.name());
            Ok(Verdict::Pass)
        }
        Err(leak) => {
            outln!("{}: NOT deterministic: {leak}", scenario.name());
            Ok(Verdict::Fail)
        }
    }
}

/// `check-determinism --isolate`: every run in a fresh child process of this program.
fn determinism_isolated(a: &DeterminismArgs, name: &str, last: u64) -> Result<Verdict> {
    let program = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("--isolate needs the path of this program: {e}"))?;
    let child = |tail: &[&str]| Isolate {
        program: program.clone(),
        args: ["run", name]
            .iter()
            .chain(tail)
            .map(|s| s.to_string())
            .collect(),
    };
    let (summary, trace) = (child(&["--json"]), child(&["--trace", "text"]));
    let seeds = a.start..=last;
    match check_determinism_isolated(&summary, &trace, &a.strategy, a.workers, seeds, None) {
        Ok(n) => {
            outln!("{name}: deterministic: {n} seeds, each run in two fresh processes, identical fingerprints");
            Ok(Verdict::Pass)
        }
        Err(IsolatedCheckError::Nondeterministic(leak)) => {
            outln!("{name}: NOT deterministic: {leak}");
            Ok(Verdict::Fail)
        }
        Err(e) => Err(anyhow::anyhow!("{name}: check-determinism --isolate: {e}")),
    }
}
