//! [`ReadBuf`]: tokio's buffer for `AsyncRead::poll_read`, tracking filled and
//! initialised bytes of a possibly uninitialised slice.
//!
//! Invariants: `filled <= initialized <= buf.len()`; bytes `..initialized` are
//! initialised. Every `unsafe` below relies on them.

use std::fmt;
use std::mem::MaybeUninit;

/// A buffer being filled by a read: `[filled | initialised, unfilled | uninitialised]`.
pub struct ReadBuf<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    filled: usize,
    initialized: usize,
}

impl<'a> ReadBuf<'a> {
    /// A buffer over initialised bytes (all of them count as initialised).
    pub fn new(buf: &'a mut [u8]) -> ReadBuf<'a> {
        let initialized = buf.len();
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the slice is only ever
        // written with initialised bytes (no API de-initialises bytes).
        let buf = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        ReadBuf {
            buf,
            filled: 0,
            initialized,
        }
    }

    /// A buffer over uninitialised bytes.
    pub fn uninit(buf: &'a mut [MaybeUninit<u8>]) -> ReadBuf<'a> {
        ReadBuf {
            buf,
            filled: 0,
            initialized: 0,
        }
    }

    /// Total size of the buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The filled part.
    pub fn filled(&self) -> &[u8] {
        // SAFETY: `..filled` is initialised (invariants).
        unsafe { assume_init(&self.buf[..self.filled]) }
    }

    /// The filled part, mutably.
    pub fn filled_mut(&mut self) -> &mut [u8] {
        // SAFETY: `..filled` is initialised (invariants).
        unsafe { assume_init_mut(&mut self.buf[..self.filled]) }
    }

    /// The initialised part (filled and beyond).
    pub fn initialized(&self) -> &[u8] {
        // SAFETY: `..initialized` is initialised (invariants).
        unsafe { assume_init(&self.buf[..self.initialized]) }
    }

    /// The initialised part, mutably.
    pub fn initialized_mut(&mut self) -> &mut [u8] {
        // SAFETY: `..initialized` is initialised (invariants).
        unsafe { assume_init_mut(&mut self.buf[..self.initialized]) }
    }

    /// The unfilled part; the caller must not de-initialise bytes in it.
    ///
    /// # Safety
    /// Writing `MaybeUninit::uninit()` into an initialised byte breaks the invariants.
    pub unsafe fn unfilled_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut self.buf[self.filled..]
    }

    /// Initialises the whole unfilled part (with zeros where needed) and returns it.
    pub fn initialize_unfilled(&mut self) -> &mut [u8] {
        self.initialize_unfilled_to(self.remaining())
    }

    /// Initialises `n` unfilled bytes and returns them. Panics if fewer remain.
    #[track_caller]
    pub fn initialize_unfilled_to(&mut self, n: usize) -> &mut [u8] {
        assert!(self.remaining() >= n, "n overflows remaining");
        let end = self.filled + n;
        for byte in &mut self.buf[self.initialized.min(end)..end] {
            byte.write(0);
        }
        self.initialized = self.initialized.max(end);
        // SAFETY: `filled..end` is now initialised.
        unsafe { assume_init_mut(&mut self.buf[self.filled..end]) }
    }

    /// Bytes left to fill.
    pub fn remaining(&self) -> usize {
        self.capacity() - self.filled
    }

    /// Empties the filled part (initialised bytes stay initialised).
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// Marks `n` more bytes as filled. Panics past the initialised part.
    #[track_caller]
    pub fn advance(&mut self, n: usize) {
        let filled = self.filled.checked_add(n).expect("filled overflow");
        self.set_filled(filled);
    }

    /// Sets the filled length. Panics past the initialised part.
    #[track_caller]
    pub fn set_filled(&mut self, n: usize) {
        assert!(
            n <= self.initialized,
            "filled must not become larger than initialized"
        );
        self.filled = n;
    }

    /// Declares `n` unfilled bytes initialised.
    ///
    /// # Safety
    /// The caller must have initialised them.
    pub unsafe fn assume_init(&mut self, n: usize) {
        self.initialized = self.initialized.max(self.filled + n);
    }

    /// Appends `data` to the filled part. Panics if it does not fit.
    #[track_caller]
    pub fn put_slice(&mut self, data: &[u8]) {
        assert!(
            self.remaining() >= data.len(),
            "buf.len() must fit in remaining()"
        );
        let end = self.filled + data.len();
        for (slot, byte) in self.buf[self.filled..end].iter_mut().zip(data) {
            slot.write(*byte);
        }
        self.initialized = self.initialized.max(end);
        self.filled = end;
    }
}

/// # Safety
/// Every byte of `slice` must be initialised.
unsafe fn assume_init(slice: &[MaybeUninit<u8>]) -> &[u8] {
    // SAFETY: same layout; the caller guarantees initialisation.
    unsafe { &*(slice as *const [MaybeUninit<u8>] as *const [u8]) }
}

/// # Safety
/// Every byte of `slice` must be initialised.
unsafe fn assume_init_mut(slice: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    // SAFETY: same layout; the caller guarantees initialisation.
    unsafe { &mut *(slice as *mut [MaybeUninit<u8>] as *mut [u8]) }
}

impl fmt::Debug for ReadBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuf")
            .field("filled", &self.filled)
            .field("initialized", &self.initialized)
            .field("capacity", &self.capacity())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_initialises_and_tracks_lengths() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut storage);
        assert_eq!((buf.capacity(), buf.remaining()), (8, 8));
        buf.put_slice(b"abc");
        assert_eq!(buf.filled(), b"abc");
        assert_eq!(buf.initialized().len(), 3);
        buf.initialize_unfilled_to(2).copy_from_slice(b"de");
        buf.advance(2);
        assert_eq!(buf.filled(), b"abcde");
        assert_eq!(buf.initialize_unfilled(), &[0, 0, 0]);
        assert_eq!(buf.initialized().len(), 8);
        buf.clear();
        assert_eq!(buf.filled(), b"");
        buf.set_filled(4);
        assert_eq!(buf.filled_mut(), b"abcd");
        let mut plain = [7u8; 4];
        let mut buf = ReadBuf::new(&mut plain);
        buf.set_filled(4);
        assert_eq!(buf.filled(), &[7; 4]);
    }

    #[test]
    #[should_panic(expected = "filled must not become larger than initialized")]
    fn cannot_fill_uninitialised_bytes() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 4];
        ReadBuf::uninit(&mut storage).advance(1);
    }
}
