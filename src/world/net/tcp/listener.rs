//! [`TcpListener`]: a port accepting connections.

use super::conn::{close, Kind, Listener};
use super::TcpStream;
use crate::runtime::context;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
/// A socket listening for connections.
///
/// ```
/// use detsim::{Config, Sim, node, net::{TcpListener, TcpStream}};
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// let out = Sim::new(Config::default().seed(1)).run(async {
///     node::Builder::new("server").build(|| async {
///         let listener = TcpListener::bind("0.0.0.0:80").await.unwrap();
///         loop {
///             let (mut s, _) = listener.accept().await.unwrap();
///             detsim::spawn(async move {
///                 let mut buf = [0; 5];
///                 s.read_exact(&mut buf).await.unwrap();
///                 s.write_all(&buf).await.unwrap();
///             });
///         }
///     });
///     detsim::time::sleep(std::time::Duration::from_millis(1)).await;
///     let mut s = TcpStream::connect("server:80").await.unwrap();
///     s.write_all(b"hello").await.unwrap();
///     let mut buf = [0; 5];
///     s.read_exact(&mut buf).await.unwrap();
///     buf
/// });
/// assert_eq!(&out.result.unwrap(), b"hello");
/// ```
#[derive(Debug)]
pub struct TcpListener {
    id: u32,
    addr: SocketAddr,
}

impl TcpListener {
    /// Listens on `addr` of the calling task's node (`0.0.0.0:port`, `ip:port`; port 0
    /// picks a free port). `AddrInUse` if the port is taken on that node.
    pub async fn bind(addr: impl super::super::ToSocketAddr) -> io::Result<TcpListener> {
        let addr = addr.to_socket_addr()?;
        context::world(|w| {
            let (node, mut addr) = super::super::local_node_addr(w, addr)?;
            if addr.port() == 0 {
                let net = w.net.borrow();
                let port = super::super::ephemeral_port(w, node, |p| net.tcp.port_in_use(node, p))?;
                addr.set_port(port);
            }
            let mut net = w.net.borrow_mut();
            let tcp = &mut net.tcp;
            if tcp.by_port.contains_key(&(node, addr.port())) {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("address {addr} is already in use"),
                ));
            }
            let id = tcp.listeners.len() as u32;
            tcp.listeners.push(Some(Listener {
                node,
                addr,
                backlog: VecDeque::new(),
                waker: None,
            }));
            tcp.by_port.insert((node, addr.port()), id);
            Ok(TcpListener { id, addr })
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }

    /// Waits for the next connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        futures::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for the next connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        context::world(|w| {
            let mut net = w.net.borrow_mut();
            let tcp = &mut net.tcp;
            let Some(Some(l)) = tcp.listeners.get_mut(self.id as usize) else {
                let e = io::Error::new(
                    io::ErrorKind::NotConnected,
                    "listener closed (node crashed)",
                );
                return Poll::Ready(Err(e));
            };
            match l.backlog.pop_front() {
                Some((conn, peer)) => Poll::Ready(Ok((
                    TcpStream {
                        conn,
                        end: 1,
                        local: l.addr,
                        peer,
                    },
                    peer,
                ))),
                None => {
                    l.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        context::try_world(|w| {
            let pending: Vec<u32> = {
                let mut net = w.net.borrow_mut();
                let tcp = &mut net.tcp;
                let Some(l) = tcp
                    .listeners
                    .get_mut(self.id as usize)
                    .and_then(Option::take)
                else {
                    return;
                };
                tcp.by_port.remove(&(l.node, l.addr.port()));
                l.backlog.iter().map(|(c, _)| *c).collect()
            };
            for conn in pending {
                close(w, conn, 1, Kind::Rst(io::ErrorKind::ConnectionReset));
            }
        });
    }
}
