//! [`write_atomic`]: replacing a saved file so that a crash leaves the old contents or the
//! new ones, never a torn file.
//!
//! The temp file is `tempfile`'s (an exclusively created, randomly named `.<name>.*.tmp`
//! next to the target, removed if anything fails before the rename; `persist` is the
//! rename, `MoveFileEx` with replace on Windows). What `tempfile` does not do is done
//! here: fsync the data before the rename, keep the replaced file's permissions (a new
//! file gets the usual `0o666` minus the umask, not `tempfile`'s private `0o600`), and
//! fsync the directory after it.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// `path`'s directory (`.` for a bare name), created if missing, and its file name
/// (`default` if it has none): where its temp and lock sidecars go, and their stem.
pub(crate) fn created_dir_and_name<'a>(
    path: &'a Path,
    default: &'a str,
) -> io::Result<(&'a Path, std::borrow::Cow<'a, str>)> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map_or(default.into(), |n| n.to_string_lossy());
    Ok((dir, name))
}

/// Replaces `path` with `bytes` atomically and durably: write a temp file in the same
/// directory, fsync it, rename it over `path`, fsync the directory. Creates the directory
/// if missing.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (dir, name) = created_dir_and_name(path, "file")?;
    let mut tmp = temp_builder(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    if let Ok(meta) = fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.as_file().sync_all()?;
    // Dropping the temp file on an error removes it; `persist` closes nothing on Unix and
    // renames over the target (replacing it on Windows too).
    tmp.persist(path).map_err(|e| e.error)?;
    // Durability of the rename itself. Best effort: some file systems refuse to fsync a
    // directory, and the rename has already made the new contents visible atomically.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A temp-file builder creating files as `File::create` would (`0o666` minus the umask).
fn temp_builder(prefix: &str) -> tempfile::Builder<'_, '_> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_and_leaves_no_temp_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("x.seeds");
        write_atomic(&path, b"one\n").unwrap();
        write_atomic(&path, b"two\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two\n");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("x.seeds")]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_permissions_of_the_file_it_replaces() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.schedule");
        write_atomic(&path, b"a").unwrap();
        let fresh = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        let plain = dir.path().join("plain");
        fs::File::create(&plain).unwrap();
        let expected = fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            fresh, expected,
            "a new file is created as File::create would"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"b").unwrap();
        let kept = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(kept, 0o640);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        write_atomic(&path, b"old").unwrap();
        // The target is a directory now: the rename fails, the temp file goes away.
        let blocked = dir.path().join("d");
        fs::create_dir(&blocked).unwrap();
        fs::write(blocked.join("inside"), b"").unwrap();
        assert!(write_atomic(&blocked, b"new").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let leftovers = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(leftovers, 0);
    }
}
