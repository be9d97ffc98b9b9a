//! The task table of a full trace: 16 bytes per task while the run goes, the public
//! [`TaskInfo`]s built only when someone reads them.
//!
//! Why: a full trace keeps one entry per task spawned, and a run of a million tasks
//! (W7) spent more memory on its `Vec<TaskInfo>` (64 bytes each, grown by reallocation)
//! than on its seven million events. Most runs never read the table (a benchmark, a
//! campaign's passing runs); those that print a trace read it once. So a task is kept as
//! indices into a table of distinct names and one of spawn sites, its parent and its
//! node, and [`TaskTable`] derefs to `[TaskInfo]` by building the entries on first use.
//! The trace's own lookups (a task's name, site, node, for text and JSON) read the
//! compact records and never build the table. A spawn site is kept as its `Location`
//! and rendered (path normalised, formatted: thousands of instructions) the first time
//! it is read, once per site: a campaign's passing runs never read theirs.

use super::site::SiteCache;
use super::{SharedStr, TaskInfo};
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::panic::Location;
use std::sync::OnceLock;

/// No parent (the main task).
const NO_PARENT: u32 = u32::MAX;

/// A task as the table keeps it; its id is its index.
#[derive(Clone, Copy, Debug)]
struct Record {
    /// Index into `names`.
    name: u32,
    /// Index into `sites`.
    site: u32,
    parent: u32,
    node: u32,
}

/// Every task spawned in a run, by id (see the module docs). Reads as a slice of
/// [`TaskInfo`] (`iter`, `get`, `len`, indexing, `for t in &trace.tasks`).
#[derive(Clone, Default)]
pub struct TaskTable {
    // invariant: `records[i]` is task `i`; its indices are in range.
    records: Vec<Record>,
    names: Vec<SharedStr>,
    sites: Vec<Site>,
    /// `&'static` names already in `names`, by address (a miss adds a copy of the
    /// reference, never of the string).
    name_index: Vec<(&'static str, u32)>,
    /// Spawn sites already in `sites`, by `Location` address (a miss adds a copy).
    site_index: Vec<(&'static Location<'static>, u32)>,
    /// The last task's `&'static` name and site with their indices: tasks spawned in a
    /// loop find theirs here, without a search.
    last: Option<Last>,
    built: OnceLock<Vec<TaskInfo>>,
}

#[derive(Clone, Copy)]
struct Last {
    name: &'static str,
    site: &'static Location<'static>,
    indices: (u32, u32),
}

/// A spawn site, rendered on first read.
#[derive(Clone, Debug)]
struct Site {
    location: &'static Location<'static>,
    rendered: OnceLock<SharedStr>,
}

impl Site {
    fn text(&self) -> &SharedStr {
        self.rendered
            .get_or_init(|| super::fmt_location(self.location).into())
    }
}

impl TaskTable {
    /// Adds the next task (ids arrive in order). Costs no allocation when the name is a
    /// `&'static str` seen before and the site is one of the last few.
    pub(crate) fn push(
        &mut self,
        id: u32,
        name: Cow<'static, str>,
        site: &'static Location<'static>,
        parent: Option<u32>,
        node: u32,
    ) {
        debug_assert_eq!(id as usize, self.records.len(), "tasks arrive in id order");
        if self.records.capacity() == 0 {
            // One allocation for a small run's tasks, not three (4, 8, 16).
            self.records.reserve(16);
        }
        let (name, site) = match (&name, self.last) {
            (Cow::Borrowed(s), Some(last))
                if std::ptr::eq(*s, last.name) && std::ptr::eq(site, last.site) =>
            {
                last.indices
            }
            _ => self.indices(name, site),
        };
        self.records.push(Record {
            name,
            site,
            parent: parent.unwrap_or(NO_PARENT),
            node,
        });
        if self.built.get().is_some() {
            let info = self.info(id as usize);
            self.built.get_mut().expect("checked above").push(info);
        }
    }

    /// The name's and site's indices when they are not the last task's (kept as the
    /// last if the name is `&'static`).
    #[inline(never)]
    fn indices(&mut self, name: Cow<'static, str>, site: &'static Location<'static>) -> (u32, u32) {
        let borrowed = match name {
            Cow::Borrowed(s) => Some(s),
            Cow::Owned(_) => None,
        };
        let indices = (self.name_index(name), self.site_index(site));
        self.last = borrowed.map(|name| Last {
            name,
            site,
            indices,
        });
        indices
    }

    fn name_index(&mut self, name: Cow<'static, str>) -> u32 {
        let i = self.names.len() as u32;
        match name {
            Cow::Borrowed(s) => {
                if let Some(&(_, i)) = self.name_index.iter().find(|(n, _)| std::ptr::eq(*n, s)) {
                    return i;
                }
                self.names.push(s.into());
                remember(&mut self.name_index, s, i);
            }
            Cow::Owned(s) => self.names.push(s.into()),
        }
        i
    }

    fn site_index(&mut self, site: &'static Location<'static>) -> u32 {
        if let Some(&(_, i)) = self.site_index.iter().find(|(l, _)| std::ptr::eq(*l, site)) {
            return i;
        }
        let i = self.sites.len() as u32;
        self.sites.push(Site {
            location: site,
            rendered: OnceLock::new(),
        });
        remember(&mut self.site_index, site, i);
        i
    }

    /// The entry of task `i` (in range).
    fn info(&self, i: usize) -> TaskInfo {
        let r = self.records[i];
        TaskInfo {
            id: i as u32,
            name: self.names[r.name as usize].clone(),
            spawned_at: self.sites[r.site as usize].text().clone(),
            parent: (r.parent != NO_PARENT).then_some(r.parent),
            node: r.node,
        }
    }

    /// The name of task `id`, without building the table.
    pub(crate) fn name(&self, id: u32) -> Option<&str> {
        let r = self.records.get(id as usize)?;
        Some(&self.names[r.name as usize])
    }

    /// The spawn site of task `id`, without building the table.
    pub(crate) fn site(&self, id: u32) -> Option<&str> {
        let r = self.records.get(id as usize)?;
        Some(self.sites[r.site as usize].text())
    }

    /// The node of task `id`, without building the table.
    pub(crate) fn node(&self, id: u32) -> Option<u32> {
        self.records.get(id as usize).map(|r| r.node)
    }
}

/// Adds `(key, i)` to a small index of recent keys (at most [`SiteCache::SIZE`],
/// replaced in turn once full).
fn remember<K>(index: &mut Vec<(K, u32)>, key: K, i: u32) {
    if index.len() < SiteCache::SIZE {
        index.push((key, i));
    } else {
        index[i as usize % SiteCache::SIZE] = (key, i);
    }
}

impl Deref for TaskTable {
    type Target = [TaskInfo];

    fn deref(&self) -> &[TaskInfo] {
        self.built
            .get_or_init(|| (0..self.records.len()).map(|i| self.info(i)).collect())
    }
}

impl<'a> IntoIterator for &'a TaskTable {
    type Item = &'a TaskInfo;
    type IntoIter = std::slice::Iter<'a, TaskInfo>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Debug for TaskTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq for TaskTable {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for TaskTable {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_as_added_and_lookups_agree() {
        let sites = [Location::caller(), Location::caller(), Location::caller()];
        let mut table = TaskTable::default();
        let mut expected = Vec::new();
        for i in 0..100u32 {
            let name: Cow<'static, str> = match i % 4 {
                0 => Cow::Borrowed("task"),
                1 => Cow::Borrowed("other"),
                2 => Cow::Owned(format!("owned-{i}")),
                _ => Cow::Borrowed("task"),
            };
            let site = sites[(i % 3) as usize];
            let parent = i.checked_sub(1).map(|p| p / 2);
            let node = i % 5;
            expected.push(TaskInfo {
                id: i,
                name: name.clone().into(),
                spawned_at: crate::trace::fmt_location(site).into(),
                parent,
                node,
            });
            table.push(i, name, site, parent, node);
            if i == 50 {
                // Built halfway: later tasks are added to the built table too.
                assert_eq!(table.len(), 51);
            }
        }
        assert_eq!(&*table, &expected[..]);
        for t in &expected {
            assert_eq!(table.name(t.id), Some(t.name.as_str()));
            assert_eq!(table.site(t.id), Some(t.spawned_at.as_str()));
            assert_eq!(table.node(t.id), Some(t.node));
        }
        assert_eq!(table.name(100), None);
        // Few distinct strings: static names and sites are not copied per task.
        assert_eq!(table.sites.len(), 3);
        assert!(table.names.len() <= 25 + 3, "{}", table.names.len());
    }

    /// Tasks spawned in a row with the same name and site take the last task's indices
    /// (`TaskTable::last`); a change of either alone, an owned name, or a name with the
    /// same text at another address must not.
    #[test]
    fn runs_of_the_same_name_and_site_and_changes_of_one() {
        let sites = [Location::caller(), Location::caller()];
        let twin: &'static str = Box::leak(String::from("a").into_boxed_str());
        let steps: [(Cow<'static, str>, usize); 10] = [
            (Cow::Borrowed("a"), 0),
            (Cow::Borrowed("a"), 0),
            (Cow::Borrowed("b"), 0), // name changes alone
            (Cow::Borrowed("b"), 0),
            (Cow::Borrowed("b"), 1), // site changes alone
            (Cow::Owned("b".to_string()), 1),
            (Cow::Borrowed("b"), 1),
            (Cow::Borrowed(twin), 1), // same text, another address
            (Cow::Borrowed("a"), 1),
            (Cow::Borrowed("a"), 0),
        ];
        let mut table = TaskTable::default();
        for (i, (name, site)) in steps.iter().enumerate() {
            table.push(i as u32, name.clone(), sites[*site], None, 0);
        }
        for (i, (name, site)) in steps.iter().enumerate() {
            assert_eq!(table.name(i as u32), Some(&**name), "task {i}");
            let at = crate::trace::fmt_location(sites[*site]);
            assert_eq!(table.site(i as u32), Some(at.as_str()), "task {i}");
        }
        // The repeats cost nothing: names "a", "b", the owned "b" and the twin.
        assert_eq!(table.names.len(), 4);
        assert_eq!(table.sites.len(), 2);
    }
}
