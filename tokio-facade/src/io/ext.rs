//! [`AsyncReadExt`] and [`AsyncWriteExt`]: tokio's extension methods, as `async`
//! methods over the poll functions (tokio names its futures; these are anonymous).
//! `read_buf`/`write_buf` take the `bytes` crate's `BufMut`/`Buf`, as tokio's do.

use super::{AsyncRead, AsyncWrite, ReadBuf};
use bytes::{Buf, BufMut};
use std::future::poll_fn;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Poll};

/// `read_u16`, `read_i64_le`, ...: reads `size_of::<T>()` bytes and decodes them.
macro_rules! read_int {
    ($($name:ident, $ty:ty, $from:ident;)*) => {$(
        #[doc = concat!("Reads a `", stringify!($ty), "` (`", stringify!($from), "`).")]
        fn $name(&mut self) -> impl Future<Output = io::Result<$ty>> + '_
        where
            Self: Unpin,
        {
            async move {
                let mut bytes = [0u8; std::mem::size_of::<$ty>()];
                self.read_exact(&mut bytes).await?;
                Ok(<$ty>::$from(bytes))
            }
        }
    )*};
}

/// `write_u16`, `write_i64_le`, ...: encodes and writes all bytes.
macro_rules! write_int {
    ($($name:ident, $ty:ty, $to:ident;)*) => {$(
        #[doc = concat!("Writes a `", stringify!($ty), "` (`", stringify!($to), "`).")]
        fn $name(&mut self, n: $ty) -> impl Future<Output = io::Result<()>> + '_
        where
            Self: Unpin,
        {
            async move { self.write_all(&n.$to()).await }
        }
    )*};
}

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

    /// Reads some bytes into `buf`'s spare capacity (growing a `BytesMut`/`Vec` as
    /// `BufMut` does); 0 means EOF or no room.
    fn read_buf<'a, B>(&'a mut self, buf: &'a mut B) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
        B: BufMut + ?Sized,
    {
        poll_fn(move |cx| {
            if !buf.has_remaining_mut() {
                return Poll::Ready(Ok(0));
            }
            let chunk = buf.chunk_mut();
            // SAFETY: `UninitSlice` is a `[MaybeUninit<u8>]` of the buffer's spare
            // capacity; `ReadBuf` never de-initialises bytes, and we only advance
            // `buf` by what the reader reports filled.
            let dst = unsafe { chunk.as_uninit_slice_mut() };
            let mut rb = ReadBuf::uninit(dst);
            let before = rb.filled().as_ptr();
            ready!(Pin::new(&mut *self).poll_read(cx, &mut rb))?;
            assert_eq!(rb.filled().as_ptr(), before, "poll_read swapped the buffer");
            let n = rb.filled().len();
            // SAFETY: the reader initialised `n` bytes at the start of the chunk.
            unsafe { buf.advance_mut(n) };
            Poll::Ready(Ok(n))
        })
    }

    /// A reader of at most `limit` bytes of this one.
    fn take(self, limit: u64) -> super::Take<Self>
    where
        Self: Sized,
    {
        super::Take::new(self, limit)
    }

    /// This reader, then `next`.
    fn chain<R: AsyncRead>(self, next: R) -> super::Chain<Self, R>
    where
        Self: Sized,
    {
        super::Chain::new(self, next)
    }

    read_int! {
        read_u8, u8, from_be_bytes;
        read_i8, i8, from_be_bytes;
        read_u16, u16, from_be_bytes;
        read_i16, i16, from_be_bytes;
        read_u32, u32, from_be_bytes;
        read_i32, i32, from_be_bytes;
        read_u64, u64, from_be_bytes;
        read_i64, i64, from_be_bytes;
        read_u128, u128, from_be_bytes;
        read_i128, i128, from_be_bytes;
        read_f32, f32, from_be_bytes;
        read_f64, f64, from_be_bytes;
        read_u16_le, u16, from_le_bytes;
        read_i16_le, i16, from_le_bytes;
        read_u32_le, u32, from_le_bytes;
        read_i32_le, i32, from_le_bytes;
        read_u64_le, u64, from_le_bytes;
        read_i64_le, i64, from_le_bytes;
        read_u128_le, u128, from_le_bytes;
        read_i128_le, i128, from_le_bytes;
        read_f32_le, f32, from_le_bytes;
        read_f64_le, f64, from_le_bytes;
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

    /// Writes from several buffers.
    fn write_vectored<'a>(
        &'a mut self,
        bufs: &'a [io::IoSlice<'a>],
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        poll_fn(move |cx| Pin::new(&mut *self).poll_write_vectored(cx, bufs))
    }

    /// Writes some of `buf`'s bytes and advances it past them.
    fn write_buf<'a, B>(
        &'a mut self,
        buf: &'a mut B,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
        B: Buf,
    {
        async move {
            if !buf.has_remaining() {
                return Ok(0);
            }
            let n = self.write(buf.chunk()).await?;
            buf.advance(n);
            Ok(n)
        }
    }

    /// Writes all of `buf`'s bytes, advancing it.
    fn write_all_buf<'a, B>(
        &'a mut self,
        buf: &'a mut B,
    ) -> impl Future<Output = io::Result<()>> + 'a
    where
        Self: Unpin,
        B: Buf,
    {
        async move {
            while buf.has_remaining() {
                let n = self.write(buf.chunk()).await?;
                if n == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
                buf.advance(n);
            }
            Ok(())
        }
    }

    write_int! {
        write_u8, u8, to_be_bytes;
        write_i8, i8, to_be_bytes;
        write_u16, u16, to_be_bytes;
        write_i16, i16, to_be_bytes;
        write_u32, u32, to_be_bytes;
        write_i32, i32, to_be_bytes;
        write_u64, u64, to_be_bytes;
        write_i64, i64, to_be_bytes;
        write_u128, u128, to_be_bytes;
        write_i128, i128, to_be_bytes;
        write_f32, f32, to_be_bytes;
        write_f64, f64, to_be_bytes;
        write_u16_le, u16, to_le_bytes;
        write_i16_le, i16, to_le_bytes;
        write_u32_le, u32, to_le_bytes;
        write_i32_le, i32, to_le_bytes;
        write_u64_le, u64, to_le_bytes;
        write_i64_le, i64, to_le_bytes;
        write_u128_le, u128, to_le_bytes;
        write_i128_le, i128, to_le_bytes;
        write_f32_le, f32, to_le_bytes;
        write_f64_le, f64, to_le_bytes;
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
