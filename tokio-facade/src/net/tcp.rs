//! [`TcpListener`], [`TcpStream`] and the stream's halves, over detsim's simulated TCP.
//!
//! The simulated stream is reliable and ordered; writes never wait (the send buffer is
//! unbounded) and reads wait for delivered bytes. Errors have tokio's kinds: connecting
//! where nothing listens is `ConnectionRefused`, a port taken is `AddrInUse`, reading
//! from a connection whose peer crashed is `ConnectionReset` and writing to it
//! `BrokenPipe`, a partition that outlasts the link's stream timeout is `TimedOut`.

use super::addr::{first_ok, ToSocketAddrs};
use crate::io::{AsyncRead, AsyncWrite, ReadBuf};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

type SimStream = detsim::net::TcpStream;

/// A listening socket on the calling task's node (tokio's `TcpListener`).
#[derive(Debug)]
pub struct TcpListener {
    inner: detsim::net::TcpListener,
}

impl TcpListener {
    /// Listens on `addr` (`"0.0.0.0:6379"`, the node's own IP, port 0 for any free
    /// port). `AddrInUse` if the port is taken on this node.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let inner = first_ok(&addr, detsim::net::TcpListener::bind).await?;
        Ok(TcpListener { inner })
    }

    /// Waits for a connection; returns the stream and the peer's address.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.inner
            .poll_accept(cx)
            .map_ok(|(s, peer)| (TcpStream::new(s), peer))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// One end of a connection (tokio's `TcpStream`): tokio's `AsyncRead`/`AsyncWrite`.
///
/// `shutdown()` (from `AsyncWriteExt`) sends a FIN; dropping the stream closes it.
pub struct TcpStream {
    inner: SimStream,
    nodelay: AtomicBool,
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl TcpStream {
    fn new(inner: SimStream) -> TcpStream {
        TcpStream {
            inner,
            nodelay: AtomicBool::new(false),
        }
    }

    /// Connects from the calling task's node to `addr` (`"node-name:port"` works).
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let inner = first_ok(&addr, SimStream::connect).await?;
        Ok(TcpStream::new(inner))
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Accepted and remembered: the simulated stream sends every write at once anyway
    /// (there is no Nagle delay to switch off).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.nodelay.store(nodelay, Ordering::Relaxed);
        Ok(())
    }

    /// What [`TcpStream::set_nodelay`] last set.
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(self.nodelay.load(Ordering::Relaxed))
    }

    /// Borrowed halves, for reading and writing at once from one task.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf(&self.inner), WriteHalf(&self.inner))
    }

    /// Owned halves, to read and write from different tasks. Dropping the write half
    /// shuts the writing side down (a FIN), as in tokio.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let shared = Arc::new(self);
        let read = OwnedReadHalf {
            inner: shared.clone(),
        };
        let write = OwnedWriteHalf {
            inner: shared,
            shutdown_on_drop: true,
        };
        (read, write)
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        read(&self.inner, cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        write(&self.inner, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        shutdown(&self.inner, cx)
    }
}

fn read(s: &SimStream, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
    let mut s = s;
    crate::io::bridge::poll_read(Pin::new(&mut s), cx, buf)
}

fn write(s: &SimStream, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    let mut s = s;
    futures::io::AsyncWrite::poll_write(Pin::new(&mut s), cx, buf)
}

fn shutdown(s: &SimStream, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    let mut s = s;
    futures::io::AsyncWrite::poll_close(Pin::new(&mut s), cx)
}

/// The reading half of [`TcpStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a SimStream);

/// The writing half of [`TcpStream::split`]; `shutdown` shuts the stream's writing side.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a SimStream);

/// The reading half of [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    inner: Arc<TcpStream>,
}

/// The writing half of [`TcpStream::into_split`]; dropping it shuts the writing side
/// down (unless [`OwnedWriteHalf::forget`]).
#[derive(Debug)]
pub struct OwnedWriteHalf {
    inner: Arc<TcpStream>,
    shutdown_on_drop: bool,
}

/// [`OwnedReadHalf::reunite`] was given halves of two different streams.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl std::error::Error for ReuniteError {}

impl OwnedReadHalf {
    /// Puts the stream back together, if `write` is its other half.
    pub fn reunite(self, write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        reunite(self, write)
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl OwnedWriteHalf {
    /// Puts the stream back together, if `read` is its other half.
    pub fn reunite(self, read: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        reunite(read, self)
    }

    /// Drops the half without shutting the writing side down.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

fn reunite(read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
    if !Arc::ptr_eq(&read.inner, &write.inner) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    drop(write);
    Ok(Arc::try_unwrap(read.inner).expect("the two halves held the only references"))
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let mut s = &self.inner.inner;
            let _ = futures::io::AsyncWrite::poll_close(Pin::new(&mut s), &mut noop_cx());
        }
    }
}

fn noop_cx() -> Context<'static> {
    Context::from_waker(futures::task::noop_waker_ref())
}

macro_rules! half_read {
    ($ty:ty, |$s:ident| $inner:expr) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let $s = self.get_mut();
                read($inner, cx, buf)
            }
        }
    };
}

macro_rules! half_write {
    ($ty:ty, |$s:ident| $inner:expr) => {
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let $s = self.get_mut();
                write($inner, cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $s = self.get_mut();
                shutdown($inner, cx)
            }
        }
    };
}

half_read!(ReadHalf<'_>, |s| s.0);
half_write!(WriteHalf<'_>, |s| s.0);
half_read!(OwnedReadHalf, |s| &s.inner.inner);
half_write!(OwnedWriteHalf, |s| &s.inner.inner);
