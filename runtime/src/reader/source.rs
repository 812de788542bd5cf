//! A read-ahead window over any byte stream: the readers ask for the next `n` bytes and
//! consume them, and memory stays bounded by the largest block, whatever the file size.

use std::io::{self, Read};

const CHUNK: usize = 1 << 20;

pub struct Source<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    eof: bool,
}

impl<R: Read> Source<R> {
    pub fn new(inner: R) -> Self {
        Source {
            inner,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
        }
    }

    /// Makes at least `n` bytes available unless the stream ends first; returns the bytes
    /// available (fewer than `n` only at the end of the stream).
    pub fn fill(&mut self, n: usize) -> io::Result<&[u8]> {
        while self.end - self.start < n && !self.eof {
            if self.start > 0
                && (self.buf.len() - self.end < CHUNK / 4 || self.buf.len() - self.start < n)
            {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.start < n {
                self.buf.resize(n.next_power_of_two().max(CHUNK), 0);
            }
            if self.end == self.buf.len() {
                let grown = self.buf.len() * 2;
                self.buf.resize(grown, 0);
            }
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(read) => self.end += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let len = (self.end - self.start).min(n);
        Ok(&self.buf[self.start..self.start + len])
    }

    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    /// Offset in the stream of the next byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte at a time, the worst case for buffering.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((b, rest)), Some(o)) => {
                    *o = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn fill_gathers_across_reads_and_stops_at_the_end() {
        let data: Vec<u8> = (0..=255).collect();
        let mut s = Source::new(Trickle(&data));
        assert_eq!(s.fill(10).unwrap(), &data[..10]);
        s.consume(4);
        assert_eq!(s.offset(), 4);
        assert_eq!(&s.fill(3).unwrap()[..3], &data[4..7]);
        assert_eq!(s.fill(1000).unwrap(), &data[4..]);
        s.consume(1000);
        assert!(s.fill(1).unwrap().is_empty());
        assert_eq!(s.offset(), 256);
    }

    #[test]
    fn blocks_larger_than_the_buffer_grow_it() {
        let data = vec![7u8; 3 * CHUNK];
        let mut s = Source::new(&data[..]);
        s.fill(10).unwrap();
        s.consume(5);
        assert_eq!(s.fill(2 * CHUNK).unwrap().len(), 2 * CHUNK);
    }
}
