//! [`UdpSocket`] over detsim's simulated datagrams (loss, duplication, reordering).
//!
//! `connect` sets a default peer, as the OS does: `send` goes to it and `recv` only
//! returns its datagrams (others are discarded). Sending on a socket with no peer is
//! `NotConnected`.

use super::addr::{first_ok, resolve, ToSocketAddrs};
use crate::io::ReadBuf;
use futures::FutureExt;
use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::task::{ready, Context, Poll};

/// A datagram socket bound to a port of the calling task's node (tokio's `UdpSocket`).
#[derive(Debug)]
pub struct UdpSocket {
    inner: detsim::net::UdpSocket,
    // invariant: the address given to the last successful `connect`.
    peer: Mutex<Option<SocketAddr>>,
}

impl UdpSocket {
    /// Binds `addr` on the calling task's node (port 0 picks a free port).
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let inner = first_ok(&addr, detsim::net::UdpSocket::bind).await?;
        Ok(UdpSocket {
            inner,
            peer: Mutex::new(None),
        })
    }

    /// Sets the default peer of [`UdpSocket::send`] and the only sender
    /// [`UdpSocket::recv`] accepts.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let peer = resolve(&addr)?[0];
        *self.peer.lock().expect("peer lock") = Some(peer);
        Ok(())
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The connected peer; `NotConnected` before [`UdpSocket::connect`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.peer()
    }

    fn peer(&self) -> io::Result<SocketAddr> {
        self.peer
            .lock()
            .expect("peer lock")
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "UdpSocket: not connected"))
    }

    /// Sends `buf` to `target`; returns at once (the network decides its fate).
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        first_ok(&target, |a| self.inner.send_to(buf, a)).await
    }

    /// Sends `buf` to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let peer = self.peer()?;
        self.inner.send_to(buf, peer).await
    }

    /// Polls to send `buf` to `target` (always ready: sends never wait).
    pub fn poll_send_to(
        &self,
        _cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let sent = self.inner.send_to(buf, target).now_or_never();
        Poll::Ready(sent.expect("a simulated send never waits"))
    }

    /// Polls to send `buf` to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let peer = self.peer()?;
        self.poll_send_to(cx, buf, peer)
    }

    /// Waits for a datagram; copies it into `buf` (truncating) and returns its length and
    /// sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.recv_from(buf).await
    }

    /// Waits for a datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| {
            let mut rb = ReadBuf::new(buf);
            ready!(self.poll_recv(cx, &mut rb))?;
            Poll::Ready(Ok(rb.filled().len()))
        })
        .await
    }

    /// Polls for a datagram; fills `buf` and returns the sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let dst = buf.initialize_unfilled();
        let (n, from) = ready!(self.inner.poll_recv_from(cx, dst))?;
        buf.advance(n);
        Poll::Ready(Ok(from))
    }

    /// Polls for a datagram from the connected peer (others are discarded).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let peer = self.peer()?;
        loop {
            let start = buf.filled().len();
            let from = ready!(self.poll_recv_from(cx, buf))?;
            if from == peer {
                return Poll::Ready(Ok(()));
            }
            buf.set_filled(start);
        }
    }
}
