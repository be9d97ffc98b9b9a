//! The bridge from detsim's `futures::io` types (simulated sockets and files) to
//! tokio's traits: a `ReadBuf` read becomes a slice read of its unfilled part.

use super::ReadBuf;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Reads from a `futures::io::AsyncRead` into `buf`'s unfilled part.
pub(crate) fn poll_read<R>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>>
where
    R: futures::io::AsyncRead + ?Sized,
{
    if buf.remaining() == 0 {
        return Poll::Ready(Ok(()));
    }
    let n = ready!(reader.poll_read(cx, buf.initialize_unfilled()))?;
    buf.advance(n);
    Poll::Ready(Ok(()))
}
