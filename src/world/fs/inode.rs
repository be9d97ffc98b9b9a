//! One file's contents: the page cache a program sees, and what survives a crash.
//!
//! Invariants:
//! 1. `data` is the file as the program sees it (the page cache).
//! 2. The durable image is `data` cut or zero-extended to `durable_len`, with `cut`'s
//!    bytes put back at its offset, then each `shadow` page's bytes. A page is saved in
//!    `shadow` the first time an unsynced write changes bytes below `durable_len` (and
//!    below `cut`'s offset), and never again until the next sync; a truncation below
//!    `durable_len` moves the cut-off durable bytes into `cut` (without a copy when it
//!    cuts the whole file). So memory is at most twice the file's size, however many
//!    operations run between syncs, and a truncate-then-sync costs no copy.
//! 3. `last_write` is the last write since the last sync (the one a crash may tear).

use std::collections::BTreeMap;
use std::sync::Arc;

/// Shadow granularity.
pub(super) const PAGE: u64 = 4096;
/// Torn-write granularity.
pub(super) const SECTOR: u64 = 512;

/// What of a torn write survives a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tear {
    /// Its first `n` bytes.
    Prefix(u64),
    /// The sectors (chunks of `chunk` bytes) whose flag is set, in any order.
    Sectors { chunk: u64, keep: Vec<bool> },
}

#[derive(Debug, Default)]
pub(super) struct Inode {
    data: Vec<u8>,
    // invariant: rule 2 of the module docs.
    durable_len: u64,
    shadow: BTreeMap<u64, Box<[u8]>>,
    /// Durable bytes from an offset to `durable_len`, cut off by a truncation.
    cut: Option<(u64, Vec<u8>)>,
    // invariant: rule 3; `None` after a sync.
    last_write: Option<(u64, u64)>,
    /// Unsynced changes exist (writes or length changes).
    dirty: bool,
    /// The name it was last created or renamed under (for crash events).
    pub(super) name: Arc<str>,
    /// References from the live namespace, the durable one, and open handles; the
    /// inode is freed when all three are 0.
    pub(super) live_links: u32,
    pub(super) durable_links: u32,
    pub(super) open: u32,
}

impl Inode {
    pub(super) fn new(name: Arc<str>) -> Self {
        Inode {
            name,
            ..Inode::default()
        }
    }

    pub(super) fn len(&self) -> u64 {
        self.data.len() as u64
    }

    pub(super) fn is_referenced(&self) -> bool {
        self.live_links + self.durable_links + self.open > 0
    }

    /// Copies bytes at `offset` into `buf`; returns how many (0 at or past the end).
    pub(super) fn read(&self, offset: u64, buf: &mut [u8]) -> usize {
        let len = self.len();
        if offset >= len {
            return 0;
        }
        let n = (len - offset).min(buf.len() as u64) as usize;
        let at = offset as usize;
        buf[..n].copy_from_slice(&self.data[at..at + n]);
        n
    }

    /// The file's length after writing `n` bytes at `offset`.
    pub(super) fn len_after_write(&self, offset: u64, n: u64) -> u64 {
        self.len().max(offset + n)
    }

    /// Writes `buf` at `offset` (zero-filling any gap).
    pub(super) fn write(&mut self, offset: u64, buf: &[u8]) {
        if buf.is_empty() {
            return;
        }
        let end = offset + buf.len() as u64;
        self.save(offset, end);
        if end > self.len() {
            self.data.resize(end as usize, 0);
        }
        self.data[offset as usize..end as usize].copy_from_slice(buf);
        self.last_write = Some((offset, buf.len() as u64));
        self.dirty = true;
    }

    /// Cuts or zero-extends the file to `len`.
    pub(super) fn set_len(&mut self, len: u64) {
        if len < self.len() {
            self.save_cut(len);
            self.data.truncate(len as usize);
            self.data.shrink_to(len as usize * 2);
        } else {
            self.data.resize(len as usize, 0);
        }
        self.dirty = true;
    }

    /// Makes the current contents durable.
    pub(super) fn sync(&mut self) {
        self.durable_len = self.len();
        self.shadow = BTreeMap::new();
        self.cut = None;
        self.last_write = None;
        self.dirty = false;
    }

    /// True if a crash now would change the file.
    pub(super) fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub(super) fn durable_len(&self) -> u64 {
        self.durable_len
    }

    /// The last unsynced write `(offset, len)`, clamped to the current length.
    pub(super) fn torn_candidate(&self) -> Option<(u64, u64)> {
        let (offset, len) = self.last_write?;
        let end = (offset + len).min(self.len());
        (end > offset).then_some((offset, end - offset))
    }

    /// Saves the durable bytes of every page overlapping `[from, to)` below
    /// `durable_len` that is not saved yet (rule 2).
    fn save(&mut self, from: u64, to: u64) {
        let saved_from = self.cut.as_ref().map_or(self.durable_len, |c| c.0);
        let to = to.min(saved_from);
        if from >= to {
            return;
        }
        for page in from / PAGE..=(to - 1) / PAGE {
            let start = page * PAGE;
            let end = (start + PAGE).min(saved_from).min(self.len());
            let data = &self.data;
            self.shadow
                .entry(page)
                .or_insert_with(|| data[start as usize..end as usize].into());
        }
    }

    /// Before cutting the file to `len`: keeps its durable bytes from `len` on in `cut`
    /// (rule 2). Bytes already there, or past `durable_len`, need nothing.
    fn save_cut(&mut self, len: u64) {
        let saved_from = self.cut.as_ref().map_or(self.durable_len, |c| c.0);
        let end = saved_from.min(self.len());
        if len >= end {
            return;
        }
        let bytes = match (len, self.cut.is_none()) {
            (0, true) => {
                let mut all = std::mem::take(&mut self.data);
                all.truncate(end as usize);
                all
            }
            _ => self.data[len as usize..end as usize].to_vec(),
        };
        let bytes = match self.cut.take() {
            Some((_, tail)) => [bytes, tail].concat(),
            None => bytes,
        };
        self.cut = Some((len, bytes));
    }

    /// The crash: the file becomes its durable image, plus what `tear` keeps of the
    /// last unsynced write. The result is durable.
    pub(super) fn crash(&mut self, tear: Option<Tear>) {
        let pieces = self.torn_pieces(tear);
        self.data.resize(self.durable_len as usize, 0);
        if let Some((at, bytes)) = self.cut.take() {
            let at = at as usize;
            self.data[at..at + bytes.len()].copy_from_slice(&bytes);
        }
        for (page, bytes) in std::mem::take(&mut self.shadow) {
            let at = (page * PAGE) as usize;
            self.data[at..at + bytes.len()].copy_from_slice(&bytes);
        }
        for (offset, bytes) in pieces {
            let end = offset as usize + bytes.len();
            if end > self.data.len() {
                self.data.resize(end, 0);
            }
            self.data[offset as usize..end].copy_from_slice(&bytes);
        }
        self.sync();
    }

    /// The byte ranges of the last write that `tear` keeps, copied out.
    fn torn_pieces(&self, tear: Option<Tear>) -> Vec<(u64, Vec<u8>)> {
        let (Some(tear), Some((offset, len))) = (tear, self.torn_candidate()) else {
            return Vec::new();
        };
        let slice = |from: u64, n: u64| self.data[from as usize..(from + n) as usize].to_vec();
        match tear {
            Tear::Prefix(n) => vec![(offset, slice(offset, n.min(len)))],
            Tear::Sectors { chunk, keep } => keep
                .iter()
                .enumerate()
                .filter(|(_, k)| **k)
                .map(|(i, _)| i as u64 * chunk)
                .filter(|&at| at < len)
                .map(|at| (offset + at, slice(offset + at, chunk.min(len - at))))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synced(bytes: &[u8]) -> Inode {
        let mut i = Inode::new("f".into());
        i.write(0, bytes);
        i.sync();
        i
    }

    fn contents(i: &Inode) -> Vec<u8> {
        let mut buf = vec![0; i.len() as usize];
        i.read(0, &mut buf);
        buf
    }

    #[test]
    fn a_crash_restores_overwritten_and_truncated_bytes() {
        let original: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut i = synced(&original);
        i.write(5_000, &[9; 3_000]);
        i.write(100, &[7; 10]);
        i.set_len(2_000);
        i.write(12_000, b"tail");
        i.crash(None);
        assert_eq!(contents(&i), original);
        assert!(!i.is_dirty());
    }

    #[test]
    fn a_crash_undoes_interleaved_truncations_and_writes() {
        let original: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let mut i = synced(&original);
        i.write(9_000, &[1; 5_000]);
        i.set_len(12_000);
        i.write(11_000, &[2; 4_000]);
        i.set_len(6_000);
        i.write(6_000, &[3; 100]);
        i.set_len(0);
        i.write(0, &[4; 30_000]);
        assert!(i.cut.is_some());
        i.crash(None);
        assert_eq!(contents(&i), original);
        i.set_len(0);
        i.sync();
        assert_eq!(i.len(), 0);
        i.crash(None);
        assert_eq!(i.len(), 0, "a synced truncation is durable");
    }

    #[test]
    fn shadow_memory_is_bounded_by_file_size_not_by_writes() {
        let mut i = synced(&[1; 8 * PAGE as usize]);
        for n in 0..10_000u64 {
            i.write((n * 17) % (8 * PAGE), &[2; 64]);
        }
        assert!(i.shadow.len() <= 8, "{} pages saved", i.shadow.len());
        i.crash(None);
        assert_eq!(contents(&i), vec![1; 8 * PAGE as usize]);
    }

    #[test]
    fn tears_keep_a_prefix_or_some_sectors_of_the_last_write() {
        let mut i = synced(b"head");
        i.write(4, &[5; 1024]);
        i.crash(Some(Tear::Prefix(10)));
        assert_eq!(contents(&i), [b"head".as_slice(), &[5; 10]].concat());

        let mut i = synced(b"");
        i.write(0, &[6; 1024]);
        let keep = vec![false, true];
        i.crash(Some(Tear::Sectors { chunk: 512, keep }));
        assert_eq!(contents(&i), [vec![0; 512], vec![6; 512]].concat());
    }
}
