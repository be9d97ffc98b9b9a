//! [`TaskId`]: a task's identity within its run (a leaf: strategies, traces and the
//! runtime all name tasks by it).

use std::fmt;

/// Identifies a task within its run (`t0` is the main task).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub(crate) u32);

impl TaskId {
    /// The numeric id.
    pub fn as_u32(self) -> u32 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}
