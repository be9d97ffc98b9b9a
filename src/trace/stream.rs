//! Streaming a full trace to a file while the run goes: [`TraceStream`].
//!
//! A full trace in memory costs 4–8 bytes per event plus the task table and the recorded
//! choices, so a run of hundreds of millions of events needs gigabytes. Streamed, each event is rendered (text or JSON lines) and
//! written through a buffer as it happens, and the run keeps only what rendering later
//! events needs: each task's name, interned (4 bytes per task).
//!
//! The file is byte for byte what the in-memory trace prints (`Display` /
//! [`super::Trace::to_json_lines`]), whose header comes first but is only known at the end
//! (the fingerprint, the whole task table). So the task table and the events go to two
//! temporary files next to the target, and [`Sink::finish`] writes the header, appends
//! both and renames the result into place: readers never see a half-written trace.
//!
//! An I/O error does not stop the run (the run is the thing being tested): the stream
//! stops writing, and [`super::Trace::stream_error`] reports it afterwards.

use super::text::{self, TaskNames};
use super::{Event, EventKind, TaskInfo};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The text format of a streamed trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamFormat {
    /// The text form (`Display` of [`super::Trace`]), as in snapshots.
    Text,
    /// JSON lines: the task table, then one event per line.
    JsonLines,
}

/// Where and how to stream a run's full trace; give it to [`crate::Sim::stream_trace`].
///
/// ```
/// use detsim::{Config, Sim, trace::TraceStream};
/// let dir = std::env::temp_dir().join(format!("detsim-doc-{}", std::process::id()));
/// let path = dir.join("run.trace");
/// let out = Sim::new(Config::default().seed(1))
///     .stream_trace(TraceStream::text(&path))
///     .run(async { detsim::spawn(async {}).await.unwrap() });
/// assert_eq!(out.trace.stream_error(), None);
/// assert!(out.trace.is_empty()); // the events went to the file
/// let text = std::fs::read_to_string(&path).unwrap();
/// assert!(text.starts_with("# detsim trace v1 seed=1"));
/// # std::fs::remove_dir_all(dir).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStream {
    path: PathBuf,
    format: StreamFormat,
}

impl TraceStream {
    /// Streams the text form to `path`.
    pub fn text(path: impl AsRef<Path>) -> Self {
        TraceStream {
            path: path.as_ref().to_path_buf(),
            format: StreamFormat::Text,
        }
    }

    /// Streams JSON lines to `path`.
    pub fn json_lines(path: impl AsRef<Path>) -> Self {
        TraceStream {
            path: path.as_ref().to_path_buf(),
            format: StreamFormat::JsonLines,
        }
    }

    /// The file the trace goes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format.
    pub fn format(&self) -> StreamFormat {
        self.format
    }
}

/// The open stream of one run.
pub(super) struct Sink {
    stream: TraceStream,
    files: Option<Files>,
    error: Option<String>,
    /// Interned task names: `names[task]` indexes `distinct`.
    names: Vec<u32>,
    distinct: Vec<String>,
    index: BTreeMap<String, u32>,
    /// The last spawned task and its spawn site (a `Spawn` event names it).
    last_spawn: Option<(u32, super::SharedStr)>,
    line: String,
    events: u64,
}

struct Files {
    tasks: BufWriter<File>,
    events: BufWriter<File>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("stream", &self.stream)
            .field("events", &self.events)
            .field("error", &self.error)
            .finish()
    }
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn create(path: &Path) -> io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 16, File::create(path)?))
}

impl Sink {
    pub(super) fn open(stream: TraceStream) -> Self {
        let files = (|| -> io::Result<Files> {
            refuse_special(&stream.path)?;
            if let Some(dir) = stream.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            Ok(Files {
                tasks: create(&sibling(&stream.path, ".tasks.tmp"))?,
                events: create(&sibling(&stream.path, ".events.tmp"))?,
            })
        })();
        let (files, error) = match files {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(describe(&stream.path, &e))),
        };
        Sink {
            stream,
            files,
            error,
            names: Vec::new(),
            distinct: Vec::new(),
            index: BTreeMap::new(),
            last_spawn: None,
            line: String::new(),
            events: 0,
        }
    }

    /// Number of events written (or that would have been, after an error).
    pub(super) fn events(&self) -> u64 {
        self.events
    }

    pub(super) fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub(super) fn stream(&self) -> &TraceStream {
        &self.stream
    }

    pub(super) fn add_task(&mut self, info: TaskInfo) {
        let next = self.distinct.len() as u32;
        let name = match self.index.get(&*info.name) {
            Some(&name) => name,
            None => {
                self.index.insert(info.name.to_string(), next);
                self.distinct.push(info.name.to_string());
                next
            }
        };
        debug_assert_eq!(
            self.names.len(),
            info.id as usize,
            "tasks arrive in id order"
        );
        self.names.push(name);
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        match self.stream.format {
            StreamFormat::Text => {
                let _ = text::write_task(&mut line, &info);
            }
            StreamFormat::JsonLines => {
                line.push_str(&serde_json::to_string(&info).expect("TaskInfo serialises"));
                line.push('\n');
            }
        }
        self.write(|f| f.tasks.write_all(line.as_bytes()));
        self.line = line;
        self.last_spawn = Some((info.id, info.spawned_at));
    }

    pub(super) fn event(&mut self, e: &Event) {
        self.events += 1;
        if self.files.is_none() {
            return;
        }
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        match self.stream.format {
            StreamFormat::Text => {
                text::write_event(&mut line, self, e);
                line.truncate(line.trim_end().len());
                line.push('\n');
            }
            StreamFormat::JsonLines => {
                line.push_str(&serde_json::to_string(e).expect("Event serialises"));
                line.push('\n');
            }
        }
        self.write(|f| f.events.write_all(line.as_bytes()));
        self.line = line;
    }

    /// Runs `op` on the open files; the first error closes them and is kept.
    fn write(&mut self, op: impl FnOnce(&mut Files) -> io::Result<()>) {
        if let Some(files) = self.files.as_mut() {
            if let Err(e) = op(files) {
                self.error = Some(describe(&self.stream.path, &e));
                self.files = None;
            }
        }
    }

    /// Writes the final file: header, task table, events; removes the temporary files.
    pub(super) fn finish(&mut self, seed: u64, fingerprint: u64) {
        let tasks_path = sibling(&self.stream.path, ".tasks.tmp");
        let events_path = sibling(&self.stream.path, ".events.tmp");
        if let Some(files) = self.files.take() {
            let result = self.assemble(files, seed, fingerprint, &tasks_path, &events_path);
            if let Err(e) = result {
                self.error = Some(describe(&self.stream.path, &e));
            }
        }
        let _ = std::fs::remove_file(tasks_path);
        let _ = std::fs::remove_file(events_path);
    }

    fn assemble(
        &self,
        files: Files,
        seed: u64,
        fingerprint: u64,
        tasks: &Path,
        events: &Path,
    ) -> io::Result<()> {
        let flush = |w: BufWriter<File>| w.into_inner().map_err(|e| e.into_error());
        flush(files.tasks)?;
        flush(files.events)?;
        let target = &self.stream.path;
        let partial = sibling(target, ".tmp");
        let mut out = create(&partial)?;
        if self.stream.format == StreamFormat::Text {
            let mut header = String::new();
            let _ = text::write_header(&mut header, seed, fingerprint);
            out.write_all(header.as_bytes())?;
        }
        io::copy(&mut File::open(tasks)?, &mut out)?;
        io::copy(&mut File::open(events)?, &mut out)?;
        out.into_inner().map_err(|e| e.into_error())?;
        // Never replace what is not a regular file (a FIFO, `/dev/null`): the rename
        // would swap a device node for a file.
        if let Ok(meta) = std::fs::metadata(target) {
            if !meta.is_file() {
                let _ = std::fs::remove_file(&partial);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} exists and is not a regular file", target.display()),
                ));
            }
        }
        std::fs::rename(&partial, target)
    }
}

impl TaskNames for Sink {
    fn name(&self, id: u32) -> &str {
        self.names
            .get(id as usize)
            .map_or("?", |&n| self.distinct[n as usize].as_str())
    }

    fn spawned_at(&self, id: u32) -> &str {
        match &self.last_spawn {
            Some((t, at)) if *t == id => at,
            _ => "?",
        }
    }
}

/// The target must be new or a regular file: a trace never replaces a device such as
/// `/dev/null`, a FIFO or a directory (the final step is a rename over the target).
fn refuse_special(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it exists and is not a regular file; refusing to replace it",
        )),
        _ => Ok(()),
    }
}

fn describe(path: &Path, e: &io::Error) -> String {
    format!("cannot write trace file {}: {e}", path.display())
}

/// Builds the event a stream renders from the fields the trace records.
pub(super) fn event(
    step: u64,
    time_ns: u64,
    worker: Option<u16>,
    task: Option<u32>,
    kind: EventKind,
) -> Event {
    Event {
        step,
        time_ns,
        worker,
        task,
        kind,
    }
}
