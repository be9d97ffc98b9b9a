//! tokio's `io`: the traits ([`AsyncRead`] with [`ReadBuf`], [`AsyncWrite`],
//! [`AsyncBufRead`], [`AsyncSeek`]), their extension traits, buffered wrappers,
//! [`split`], the copy loops, [`duplex`] and small readers/writers.
//!
//! The traits are runtime-agnostic (poll functions and wakers), the same contracts as
//! tokio's; simulated sockets (`net`) and files (`fs`) implement them. Not here (a
//! compile error when used): `stdin`/`stdout`/`stderr`, `unix::AsyncFd`, `Interest`
//! and `Ready`, `simplex`.
//!
//! - `read_buf.rs` — [`ReadBuf`].
//! - `traits.rs` — the four traits and their impls for boxes, references, `Pin`,
//!   `&[u8]` and `Vec<u8>`.
//! - `ext.rs` — [`AsyncReadExt`], [`AsyncWriteExt`] (with `read_buf`/`write_buf` over
//!   the `bytes` crate, and the integer readers and writers).
//! - `buf_read_ext.rs` — [`AsyncBufReadExt`] ([`Lines`], [`Split`]), [`AsyncSeekExt`].
//! - `buf_reader.rs`, `buf_writer.rs`, `buf_stream.rs` — the buffered wrappers.
//! - `split.rs` — [`split`]; `copy.rs` — [`copy`], [`copy_buf`], [`copy_bidirectional`].
//! - `duplex.rs` — [`duplex`]; `adapters.rs` — [`Take`], [`Chain`], [`empty`],
//!   [`sink`], [`repeat`].
//! - `bridge.rs` — detsim's `futures::io` types under tokio's traits.

mod adapters;
pub(crate) mod bridge;
mod buf_read_ext;
mod buf_reader;
mod buf_stream;
mod buf_writer;
mod copy;
mod duplex;
mod ext;
mod read_buf;
mod split;
mod traits;

pub use adapters::{empty, repeat, sink, Chain, Empty, Repeat, Sink, Take};
pub use buf_read_ext::{AsyncBufReadExt, AsyncSeekExt, Lines, Split};
pub use buf_reader::BufReader;
pub use buf_stream::BufStream;
pub use buf_writer::BufWriter;
pub use copy::{copy, copy_bidirectional, copy_buf};
pub use duplex::{duplex, DuplexStream};
pub use ext::{AsyncReadExt, AsyncWriteExt};
pub use read_buf::ReadBuf;
pub use split::{split, ReadHalf, WriteHalf};
pub use std::io::{Error, ErrorKind, Result, SeekFrom};
pub use traits::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
