//! Reading a saved file only if it is a regular file.
//!
//! A seeds or schedule path can name anything: reading a FIFO blocks forever, reading
//! `/dev/zero` allocates until the process dies. Both are hostile input, so they are an
//! error naming the path instead.

use std::fs;
use std::io;
use std::path::Path;

/// The bytes of `path`, or an `InvalidInput` error if it is not a regular file (checked
/// before opening it: opening a FIFO blocks).
pub(crate) fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, a device or a directory); refusing to read it",
        ));
    }
    fs::read(path)
}
