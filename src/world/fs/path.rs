//! Paths of the simulated file system: relative to the node's root, `/`-separated,
//! normalised (no `.`, no empty parts; `..` is refused), the root being `""`.

use std::io;
use std::path::Path;
use std::sync::Arc;

/// The normalised form of `path` (a leading `/` means the same as none).
pub(super) fn normalize(path: &Path) -> io::Result<Arc<str>> {
    let text = path.to_str().ok_or_else(|| invalid(path, "is not UTF-8"))?;
    let mut out = String::with_capacity(text.len());
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(invalid(path, "uses `..`, which the simulated disk refuses")),
            p if p.contains('\0') => return Err(invalid(path, "contains a NUL byte")),
            p => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(p);
            }
        }
    }
    Ok(out.into())
}

/// The parent directory of a normalised path (`""` for a top-level name).
pub(super) fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The last component of a normalised path.
pub(super) fn file_name(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

/// How a path shows in traces and errors (the root as `.`).
pub(super) fn shown(path: &str) -> &str {
    if path.is_empty() {
        "."
    } else {
        path
    }
}

fn invalid(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("simulated path {:?} {why}", path.display().to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_dotdot_is_refused() {
        let n = |p: &str| normalize(Path::new(p)).map(|a| a.to_string());
        assert_eq!(n("/data//wal.log").unwrap(), "data/wal.log");
        assert_eq!(n("./data/./x").unwrap(), "data/x");
        assert_eq!(n("/").unwrap(), "");
        let e = n("data/../x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("a"), "");
        assert_eq!(file_name("a/b/c"), "c");
    }
}
