//! [`AsyncReadExt`] and [`AsyncWriteExt`]: the most used of tokio's extension methods,
//! as `async` methods over the poll functions.

use super::{AsyncRead, AsyncWrite, ReadBuf};
use std::future::poll_fn;
use std::future::Future;
use std::io;
use std::pin::Pin;

/// Reading methods for every [`AsyncRead`] (tokio's names and semantics).
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; 0 means EOF (or an empty `buf`).
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        async move {
            let mut rb = ReadBuf::new(buf);
            poll_fn(|cx| Pin::new(&mut *self).poll_read(cx, &mut rb)).await?;
            Ok(rb.filled().len())
        }
    }

    /// Fills `buf` exactly; `UnexpectedEof` if the reader ends first.
    fn read_exact<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        async move {
            let mut rb = ReadBuf::new(buf);
            while rb.remaining() > 0 {
                let before = rb.filled().len();
                poll_fn(|cx| Pin::new(&mut *self).poll_read(cx, &mut rb)).await?;
                if rb.filled().len() == before {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            Ok(rb.filled().len())
        }
    }

    /// Reads to EOF, appending to `out`; returns the number of bytes read.
    fn read_to_end<'a>(
        &'a mut self,
        out: &'a mut Vec<u8>,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        async move {
            let start = out.len();
            let mut chunk = [0u8; 4096];
            loop {
                let n = self.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(out.len() - start);
                }
                out.extend_from_slice(&chunk[..n]);
            }
        }
    }

    /// Reads to EOF as UTF-8, appending to `out`.
    fn read_to_string<'a>(
        &'a mut self,
        out: &'a mut String,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        async move {
            let mut bytes = Vec::new();
            let n = self.read_to_end(&mut bytes).await?;
            let text = String::from_utf8(bytes)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            out.push_str(&text);
            Ok(n)
        }
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Writing methods for every [`AsyncWrite`] (tokio's names and semantics).
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `buf`, returning how many bytes.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_write(cx, buf))
    }

    /// Writes all of `buf`; `WriteZero` if the writer stops accepting bytes.
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> impl Future<Output = io::Result<()>> + 'a
    where
        Self: Unpin,
    {
        async move {
            let mut rest = buf;
            while !rest.is_empty() {
                let n = self.write(rest).await?;
                if n == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
                rest = &rest[n..];
            }
            Ok(())
        }
    }

    /// Flushes buffered data.
    fn flush(&mut self) -> impl Future<Output = io::Result<()>> + '_
    where
        Self: Unpin,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_flush(cx))
    }

    /// Shuts the writer down.
    fn shutdown(&mut self) -> impl Future<Output = io::Result<()>> + '_
    where
        Self: Unpin,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_shutdown(cx))
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn read_and_write_helpers_follow_tokio() {
        block_on(async {
            let mut src: &[u8] = b"hello world";
            let mut five = [0u8; 5];
            assert_eq!(src.read_exact(&mut five).await.unwrap(), 5);
            assert_eq!(&five, b"hello");
            let mut rest = String::new();
            src.read_to_string(&mut rest).await.unwrap();
            assert_eq!(rest, " world");
            assert_eq!(src.read(&mut five).await.unwrap(), 0, "EOF");
            let mut short: &[u8] = b"ab";
            let err = short.read_exact(&mut five).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
            let mut out = Vec::new();
            out.write_all(b"abc").await.unwrap();
            out.flush().await.unwrap();
            out.shutdown().await.unwrap();
            assert_eq!(out, b"abc");
        });
    }
}
