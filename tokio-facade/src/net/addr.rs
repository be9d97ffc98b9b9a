//! [`ToSocketAddrs`]: what `bind`, `connect`, `send_to` and [`lookup_host`] accept, with
//! tokio's impls. Host names resolve against the run's nodes (a node's name is its host
//! name; `localhost` is the calling node), through [`detsim::net::ToSocketAddr`].

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Converts or resolves to socket addresses (tokio's trait; sealed, as in tokio).
///
/// Implemented for `SocketAddr` (and `V4`/`V6`), `(IpAddr, u16)` (and `Ipv4Addr`,
/// `Ipv6Addr`), `&str` / `String` as `"host:port"`, `(&str, u16)`, `(String, u16)`,
/// `&[SocketAddr]`, and references to all of these. A host is an IP address,
/// `localhost`, or the name of a node of the simulation.
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// The resolution itself; not part of the API (tokio seals it the same way).
    #[doc(hidden)]
    pub trait ToSocketAddrsPriv {
        /// Every address, in order (one for a host name: a node has one IP).
        fn to_socket_addrs_sim(&self) -> io::Result<Vec<SocketAddr>>;
    }
}

use sealed::ToSocketAddrsPriv;

/// Resolves `host` ("host:port", `(host, port)`, an address) to its addresses, as a
/// DNS lookup would: a node's name gives that node's IP. An unknown name is an error.
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(host.to_socket_addrs_sim()?.into_iter())
}

/// Resolves `addr`, or `InvalidInput` if it names no address at all.
pub(crate) fn resolve(addr: &impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let all = addr.to_socket_addrs_sim()?;
    if all.is_empty() {
        let e = io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        );
        return Err(e);
    }
    Ok(all)
}

/// Runs `op` on each address in turn until one succeeds (tokio's rule for `bind` and
/// `connect`), returning the last error otherwise.
pub(crate) async fn first_ok<T, F, Fut>(addr: &impl ToSocketAddrs, mut op: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in resolve(addr)? {
        match op(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("resolve returns at least one address"))
}

fn one(addr: &(impl detsim::net::ToSocketAddr + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    Ok(vec![addr.to_socket_addr()?])
}

macro_rules! direct {
    ($($ty:ty => |$a:ident| $conv:expr;)*) => {$(
        impl ToSocketAddrs for $ty {}
        impl ToSocketAddrsPriv for $ty {
            fn to_socket_addrs_sim(&self) -> io::Result<Vec<SocketAddr>> {
                let $a = self;
                Ok(vec![$conv])
            }
        }
    )*};
}

direct! {
    SocketAddr => |a| *a;
    SocketAddrV4 => |a| SocketAddr::V4(*a);
    SocketAddrV6 => |a| SocketAddr::V6(*a);
    (IpAddr, u16) => |a| SocketAddr::new(a.0, a.1);
    (Ipv4Addr, u16) => |a| SocketAddr::new(IpAddr::V4(a.0), a.1);
    (Ipv6Addr, u16) => |a| SocketAddr::new(IpAddr::V6(a.0), a.1);
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_socket_addrs_sim(&self) -> io::Result<Vec<SocketAddr>> {
        one(self)
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_socket_addrs_sim(&self) -> io::Result<Vec<SocketAddr>> {
        one(self.as_str())
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_socket_addrs_sim(&self) -> io::Result<Vec<SocketAddr>> {
        one(self)
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_socket_addrs_sim(&self) -> io::Result<Vec<SocketAddr>> {
        one(&(self.0.as_str(), self.1))
    }
}

impl ToSocketAddrs for &[SocketAddr] {}
impl ToSocketAddrsPriv for &[SocketAddr] {
    fn to_socket_addrs_sim(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(self.to_vec())
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_socket_addrs_sim(&self) -> io::Result<Vec<SocketAddr>> {
        (**self).to_socket_addrs_sim()
    }
}
