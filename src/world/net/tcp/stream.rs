//! [`TcpStream`]: one end of a connection, `futures::io::{AsyncRead, AsyncWrite}`.

use super::conn::{close, error, send, start_connect, Kind};
use crate::runtime::context;
use futures::io::{AsyncRead, AsyncWrite};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

/// One end of a connection: `futures::io::{AsyncRead, AsyncWrite}`.
///
/// Writes never block (the send buffer is unbounded) and return once the bytes are
/// scheduled; reads wait for delivered bytes. Dropping it (or `close`) sends a FIN.
#[derive(Debug)]
pub struct TcpStream {
    pub(super) conn: u32,
    pub(super) end: u8,
    pub(super) local: SocketAddr,
    pub(super) peer: SocketAddr,
}

impl TcpStream {
    /// Connects from the calling task's node to `addr` (`"node-name:port"` works).
    /// `ConnectionRefused` if nothing listens there, `TimedOut` if the SYN cannot get
    /// through (partition, crashed host) within the link's stream timeout.
    pub async fn connect(addr: impl super::super::ToSocketAddr) -> io::Result<TcpStream> {
        let addr = addr.to_socket_addr()?;
        let (conn, local) = context::world(|w| start_connect(w, addr))?;
        let mut pending = Connecting { conn, done: false };
        futures::future::poll_fn(|cx| pending.poll_connect(cx)).await?;
        pending.done = true;
        Ok(TcpStream {
            conn,
            end: 0,
            local,
            peer: addr,
        })
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }
}

/// A connection attempt; closes its end if dropped before it completes.
struct Connecting {
    conn: u32,
    done: bool,
}

impl Connecting {
    fn poll_connect(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        context::world(|w| {
            let mut net = w.net.borrow_mut();
            let end = &mut net.tcp.conns[self.conn as usize].ends[0];
            if let Some(kind) = end.error {
                end.stall_since = None;
                return Poll::Ready(Err(error(kind, "connect")));
            }
            if end.established {
                return Poll::Ready(Ok(()));
            }
            end.waker = Some(cx.waker().clone());
            Poll::Pending
        })
    }
}

impl Drop for Connecting {
    fn drop(&mut self) {
        if !self.done {
            context::try_world(|w| {
                close(w, self.conn, 0, Kind::Rst(io::ErrorKind::ConnectionReset))
            });
        }
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        context::try_world(|w| close(w, self.conn, self.end, Kind::Fin));
    }
}

impl TcpStream {
    fn read_ref(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        context::world(|w| {
            let mut net = w.net.borrow_mut();
            let end = &mut net.tcp.conns[self.conn as usize].ends[self.end as usize];
            if !end.rx.is_empty() {
                let n = end.rx.pop_into(buf);
                return Poll::Ready(Ok(n));
            }
            if let Some(kind) = end.error {
                return Poll::Ready(Err(error(kind, "read")));
            }
            if !end.open {
                let e = io::Error::new(io::ErrorKind::NotConnected, "read: the node crashed");
                return Poll::Ready(Err(e));
            }
            if end.fin || buf.is_empty() {
                return Poll::Ready(Ok(0));
            }
            if !end.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                end.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
    }

    fn write_ref(&self, buf: &[u8]) -> Poll<io::Result<usize>> {
        context::world(|w| {
            {
                let net = w.net.borrow();
                let end = &net.tcp.conns[self.conn as usize].ends[self.end as usize];
                match end.error {
                    Some(io::ErrorKind::TimedOut) => {
                        return Poll::Ready(Err(error(io::ErrorKind::TimedOut, "write")))
                    }
                    Some(_) => return Poll::Ready(Err(error(io::ErrorKind::BrokenPipe, "write"))),
                    // Closed: shut down for writing, or its node crashed mid-poll.
                    None if end.write_closed || !end.open => {
                        return Poll::Ready(Err(error(io::ErrorKind::BrokenPipe, "write")))
                    }
                    None => {}
                }
            }
            if !buf.is_empty() {
                send(w, self.conn, self.end, Kind::Data, buf);
            }
            Poll::Ready(Ok(buf.len()))
        })
    }

    /// Shuts the writing side down (a FIN). Does nothing outside a run or during its
    /// teardown, so a drop that shuts down (a tokio-style owned write half) is safe.
    fn close_ref(&self) -> Poll<io::Result<()>> {
        if crate::world::ctx::closed() {
            return Poll::Ready(Ok(()));
        }
        context::world(|w| {
            let send_fin = {
                let mut net = w.net.borrow_mut();
                let end = &mut net.tcp.conns[self.conn as usize].ends[self.end as usize];
                let first = !end.write_closed && end.error.is_none();
                end.write_closed = true;
                first
            };
            if send_fin {
                send(w, self.conn, self.end, Kind::Fin, &[]);
            }
            Poll::Ready(Ok(()))
        })
    }
}

/// Reads and writes through a shared reference too (as `async-net` and `smol` do), so a
/// stream shared by a reading and a writing task needs no lock: the state is the
/// world's, and only a read ever waits.
macro_rules! stream_io {
    ($ty:ty) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.read_ref(cx, buf)
            }
        }

        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.write_ref(buf)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.close_ref()
            }
        }
    };
}

stream_io!(TcpStream);
stream_io!(&TcpStream);
