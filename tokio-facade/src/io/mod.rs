//! tokio's `io` traits: [`AsyncRead`] (with [`ReadBuf`]), [`AsyncWrite`], [`AsyncBufRead`],
//! [`AsyncSeek`], and the most used methods of [`AsyncReadExt`] / [`AsyncWriteExt`].
//!
//! They are runtime-agnostic (poll functions and wakers), so they are the same
//! contracts as tokio's; simulated sockets and files implement them once the simulated
//! network and disk exist. Not here yet: `BufReader`/`BufWriter`, `split`, `copy`,
//! `duplex`, stdin/stdout — using them is a compile error.
//!
//! - `read_buf.rs` — [`ReadBuf`].
//! - `traits.rs` — the four traits and their impls for boxes, references, `Pin`,
//!   `&[u8]` and `Vec<u8>`.
//! - `ext.rs` — [`AsyncReadExt`], [`AsyncWriteExt`].

mod ext;
mod read_buf;
mod traits;

pub use ext::{AsyncReadExt, AsyncWriteExt};
pub use read_buf::ReadBuf;
pub use std::io::{Error, ErrorKind, Result, SeekFrom};
pub use traits::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
