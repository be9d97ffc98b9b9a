//! `detsim::fs`: one simulated file system per node, with crash semantics and I/O faults.
//!
//! The API is the one storage code uses (all async): [`File::create`] / [`File::open`] /
//! [`OpenOptions`], [`File::read_at`] / [`File::write_at`], sequential reads and writes
//! through `futures::io` ([`futures::AsyncReadExt`] / [`futures::AsyncWriteExt`] /
//! `AsyncSeekExt`), [`File::set_len`], [`File::sync_data`] / [`File::sync_all`],
//! [`File::metadata`], [`rename`], [`remove_file`], [`read_dir`], [`create_dir_all`] and
//! [`sync_dir`]. Errors are `std::io::Error` with the usual kinds. A task uses the disk
//! of the node it runs on; paths are relative to that node's root (`/a` = `a`).
//!
//! # Durability model
//!
//! 1. **Writes land in a volatile page cache.** Reads see them at once.
//! 2. **`sync_data` / `sync_all` make one file's contents (data and length) durable**;
//!    they do not make its name durable.
//! 3. **`sync_dir(d)` makes `d`'s entries durable**: the creates, renames and removes
//!    in `d` since its last `sync_dir`. A new file needs both: `sync_data` for its
//!    bytes, `sync_dir` of its directory for its name (as on POSIX; ext4 and xfs give
//!    no more guarantee).
//! 4. **A crash of the node loses everything not durable**: each file goes back to
//!    its last synced contents, the namespace to its last synced entries, and every open
//!    handle goes stale. A restarted node sees exactly the durable state.
//! 5. **Torn writes** (fault plan `disk.torn`): at a crash, the last unsynced write of a
//!    file may be torn rather than lost — a seeded prefix of it survives, or a seeded
//!    subset of its 512-byte sectors (out of order, gaps read as zeros).
//! 6. **Faults** (fault plan `[disk]`, [`DiskPlan`]): `EIO` on a read, write or sync
//!    with a probability (nothing changes; a failed sync makes nothing durable);
//!    `ENOSPC` (`StorageFull`) past a per-node quota of file bytes; a latency per
//!    operation in virtual time; and, only behind its own knob, an fsync that reports
//!    success but makes nothing durable.
//!
//! Every operation is a trace event ([`crate::trace::EventKind::Disk`]: node, path,
//! offset, length, result); every injected fault, latency and tear is a recorded choice
//! encoded so that 0 is benign, so it replays and shrinks like any other choice.
//!
//! Memory is proportional to live file data: a file keeps its current bytes plus, for
//! pages changed since the last sync, their durable bytes (once per page), however many
//! operations ran.
//!
//! Code map:
//! - `path.rs` — path normalisation.
//! - `inode.rs` — one file's bytes, its durable image, tears.
//! - `disk.rs` — one node's namespaces (live and durable) and inodes.
//! - `file.rs` — [`File`], [`OpenOptions`], the `futures::io` traits.
//! - `ops.rs` — path operations ([`rename`], [`sync_dir`], …), latency, `EIO`, events.
//! - `plan.rs` — [`DiskPlan`].

mod disk;
mod file;
mod inode;
mod ops;
mod path;
mod plan;

pub use file::{File, OpenOptions};
pub use ops::{
    create_dir, create_dir_all, metadata, read, read_dir, remove_dir, remove_file, rename,
    sync_dir, write, DirEntry, Metadata,
};
pub use plan::DiskPlan;

use super::{ctx, World};
use crate::fault::FaultPlan;
use crate::node::NodeId;
use crate::runtime::context;
use crate::trace::{DiskOp, DiskResult, EventKind};
use disk::Disk;
use inode::{Tear, SECTOR};
use std::collections::BTreeMap;

/// The disk faults a run uses (drawn from the plan at the start of the run).
#[derive(Clone, Debug, Default)]
struct Profile {
    eio: f64,
    torn: f64,
    lying_fsync: f64,
    latency_ns: [u64; 2],
    quota: Option<u64>,
}

/// Every node's disk (created on first use).
#[derive(Debug, Default)]
pub(crate) struct Disks {
    by_node: Vec<Option<Disk>>,
    profile: Profile,
}

impl Disks {
    fn get(&self, node: u32) -> Option<&Disk> {
        self.by_node.get(node as usize).and_then(Option::as_ref)
    }

    fn disk_mut(&mut self, node: u32) -> &mut Disk {
        let i = node as usize;
        if self.by_node.len() <= i {
            self.by_node.resize_with(i + 1, || None);
        }
        let quota = self.profile.quota;
        self.by_node[i].get_or_insert_with(|| Disk::with_quota(quota))
    }
}

/// Draws the run's disk profile from `plan` (called once, by the fault executor).
pub(crate) fn start(w: &World, plan: &FaultPlan) {
    use super::fault::exec::pick;
    let d = &plan.disk;
    let profile = Profile {
        eio: pick(plan, d.eio),
        torn: pick(plan, d.torn),
        lying_fsync: d.lying_fsync,
        latency_ns: d.latency_us.map(|us| us.saturating_mul(1_000)),
        quota: d.quota_bytes,
    };
    w.disks.borrow_mut().profile = profile;
}

/// True while the fault plan injects faults.
fn faults_active(w: &World) -> bool {
    w.faults.borrow().active
}

/// The crash of `node` (rule 4, with tears by rule 5): called by `node::crash`.
pub(crate) fn crash(w: &World, node: u32) {
    let (dirty, p_torn) = {
        let disks = w.disks.borrow();
        match disks.get(node) {
            Some(d) => (d.dirty(), disks.profile.torn),
            None => return,
        }
    };
    let may_tear = p_torn > 0.0 && faults_active(w);
    let mut tears = BTreeMap::new();
    for d in dirty {
        if let (true, Some((_, len))) = (may_tear, d.last_write) {
            if ctx::fault(w, p_torn) {
                let (tear, kept) = draw_tear(len);
                let what = "torn_write";
                ctx::emit(EventKind::Fault {
                    what,
                    node,
                    value: kept,
                });
                tears.insert(d.ino, tear);
            }
        }
        ctx::emit(EventKind::Disk {
            node,
            op: DiskOp::Lose,
            path: d.name,
            offset: d.durable_len,
            len: d.len,
            result: DiskResult::Ok,
        });
    }
    w.disks.borrow_mut().disk_mut(node).crash(tears);
}

/// What survives of a torn write of `len` bytes, and how many bytes that is: a prefix
/// (choice 0) or some sectors (at most 64 chunks, each kept or not); 0 keeps nothing.
fn draw_tear(len: u64) -> (Tear, u64) {
    if ctx::choose(2) == 0 {
        let n = ctx::extra(len.saturating_sub(1));
        return (Tear::Prefix(n), n);
    }
    let chunk = len.div_ceil(64).next_multiple_of(SECTOR).max(SECTOR);
    let keep: Vec<bool> = (0..len.div_ceil(chunk))
        .map(|_| ctx::choose(2) == 1)
        .collect();
    let kept = (0..keep.len() as u64)
        .filter(|&i| keep[i as usize])
        .map(|i| chunk.min(len - i * chunk))
        .sum();
    (Tear::Sectors { chunk, keep }, kept)
}

/// Sets the disk quota of `node` (bytes of file data; `None`: unlimited), overriding
/// the fault plan's `disk.quota_bytes`. Writes past it fail with `StorageFull`.
pub fn set_quota(node: impl Into<NodeId>, bytes: Option<u64>) {
    let node = node.into().as_u32();
    context::world(|w| w.disks.borrow_mut().disk_mut(node).quota = bytes);
}

/// Bytes of live file data on `node`'s disk (what the quota counts).
pub fn used_bytes(node: impl Into<NodeId>) -> u64 {
    let node = node.into().as_u32();
    context::world(|w| w.disks.borrow().get(node).map_or(0, Disk::used))
}
