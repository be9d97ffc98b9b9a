//! [`ToSocketAddr`]: what `connect`, `bind` and `send_to` accept.

use crate::runtime::context;
use std::io;
use std::net::{IpAddr, SocketAddr};

/// An address in the simulated network: a `SocketAddr`, `(IpAddr, u16)`, `"ip:port"` or
/// `"node-name:port"` (resolved against the run's nodes, as DNS would be).
pub trait ToSocketAddr {
    /// Resolves to one address; a name no node has is `InvalidInput`.
    fn to_socket_addr(&self) -> io::Result<SocketAddr>;
}

impl ToSocketAddr for SocketAddr {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        Ok(*self)
    }
}

impl ToSocketAddr for (IpAddr, u16) {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.0, self.1))
    }
}

impl ToSocketAddr for (&str, u16) {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(resolve_host(self.0)?, self.1))
    }
}

impl ToSocketAddr for str {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        if let Ok(a) = self.parse::<SocketAddr>() {
            return Ok(a);
        }
        let (host, port) = self.rsplit_once(':').ok_or_else(|| invalid(self))?;
        let port: u16 = port.parse().map_err(|_| invalid(self))?;
        Ok(SocketAddr::new(resolve_host(host)?, port))
    }
}

impl ToSocketAddr for &str {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        (**self).to_socket_addr()
    }
}

impl ToSocketAddr for String {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        self.as_str().to_socket_addr()
    }
}

impl<T: ToSocketAddr + ?Sized> ToSocketAddr for &&T {
    fn to_socket_addr(&self) -> io::Result<SocketAddr> {
        (**self).to_socket_addr()
    }
}

fn invalid(s: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("`{s}` is not an address (expected ip:port or node-name:port)"),
    )
}

fn resolve_host(host: &str) -> io::Result<IpAddr> {
    if let Ok(ip) = host.parse() {
        return Ok(ip);
    }
    if host == "localhost" {
        return Ok(IpAddr::from([127, 0, 0, 1]));
    }
    context::world(|w| {
        let nodes = w.nodes.borrow();
        let n = nodes.by_name(host).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no node is called `{host}`"),
            )
        })?;
        Ok(nodes.get(n).ip)
    })
}
