//! [`ByteQueue`]: a FIFO of bytes with slice-sized pushes and pops (`memcpy`, not a loop
//! per byte as `VecDeque<u8>`'s iterator-based `extend` would be).

/// A FIFO of bytes: a `Vec` and a read offset, compacted when it empties (the common
/// case: a reader takes everything that arrived) or when the dead prefix is large.
#[derive(Debug, Default)]
pub(super) struct ByteQueue {
    buf: Vec<u8>,
    // invariant: head <= buf.len(); bytes before it were popped.
    head: usize,
}

impl ByteQueue {
    pub(super) fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Copies up to `out.len()` bytes out; returns how many.
    pub(super) fn pop_into(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len());
        out[..n].copy_from_slice(&self.buf[self.head..self.head + n]);
        self.skip(n);
        n
    }

    /// Moves the first `n` bytes to the back of `to`.
    pub(super) fn move_to(&mut self, to: &mut ByteQueue, n: usize) {
        let n = n.min(self.len());
        to.push(&self.buf[self.head..self.head + n]);
        self.skip(n);
    }

    /// Drops the first `n` bytes.
    pub(super) fn skip(&mut self, n: usize) {
        self.head += n.min(self.len());
        if self.head == self.buf.len() {
            self.buf.clear();
            self.head = 0;
        } else if self.head > 4096 && self.head > self.buf.len() / 2 {
            self.buf.drain(..self.head);
            self.head = 0;
        }
    }

    pub(super) fn clear(&mut self) {
        *self = ByteQueue::default();
    }
}

#[cfg(test)]
mod tests {
    use super::ByteQueue;

    #[test]
    fn bytes_come_out_in_order_across_compactions() {
        let mut q = ByteQueue::default();
        let mut other = ByteQueue::default();
        let mut next = 0u8;
        let mut expect = 0u8;
        for round in 0..2_000usize {
            let chunk: Vec<u8> = (0..(round % 97))
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect();
            q.push(&chunk);
            q.move_to(&mut other, round % 50);
            let mut out = vec![0u8; round % 61];
            let n = other.pop_into(&mut out);
            for b in &out[..n] {
                expect = expect.wrapping_add(1);
                assert_eq!(*b, expect);
            }
        }
        assert!(q.len() + other.len() > 0);
    }
}
