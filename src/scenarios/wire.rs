//! Length-prefixed messages over a simulated `TcpStream`, shared by the scenarios.

use crate::net::TcpStream;
use futures::{AsyncReadExt, AsyncWriteExt};
use std::io;

/// Writes one message: a 4-byte little-endian length, then the bytes.
pub(super) async fn send(s: &mut TcpStream, msg: &str) -> io::Result<()> {
    let mut frame = (msg.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(msg.as_bytes());
    s.write_all(&frame).await
}

/// Reads one message (`UnexpectedEof` if the peer closed).
pub(super) async fn recv(s: &mut TcpStream) -> io::Result<String> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).await?;
    let mut buf = vec![0u8; u32::from_le_bytes(len) as usize];
    s.read_exact(&mut buf).await?;
    String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
