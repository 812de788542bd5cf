//! The bytes of a capture: a memory-mapped file, or a read-ahead window over any byte
//! stream. The readers ask for the next `n` bytes and consume them; with a stream,
//! memory stays bounded by the largest block, whatever the file size.

use std::fs::File;
use std::io::{self, Read};

const CHUNK: usize = 1 << 20;

/// Pages of a mapped file behind the read position are given back every this many bytes,
/// so that memory use stays flat however large the file.
const RELEASE_EVERY: usize = 8 << 20;

pub enum Source {
    /// A regular file, mapped: no copy into a buffer, no read calls.
    Mapped {
        /// Shared, so that a dissecting thread can read packets where they lie.
        map: std::sync::Arc<memmap2::Mmap>,
        pos: usize,
        /// Bytes before this were given back.
        released: usize,
    },
    Stream(Stream),
}

impl Source {
    pub fn stream(inner: Box<dyn Read + Send>) -> Source {
        Source::Stream(Stream::new(inner))
    }

    /// Maps a regular file; anything else (a pipe, a device) is read as a stream.
    pub fn file(file: File) -> Source {
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        // SAFETY: the map is only read. A capture truncated by another process while it
        // is being read would fault; capture files are not rewritten in place.
        match regular.then(|| unsafe { memmap2::Mmap::map(&file) }) {
            Some(Ok(map)) => {
                // Read ahead, and let the kernel map many pages per fault.
                let _ = map.advise(memmap2::Advice::Sequential);
                Source::Mapped {
                    map: std::sync::Arc::new(map),
                    pos: 0,
                    released: 0,
                }
            }
            _ => Source::stream(Box::new(file)),
        }
    }

    /// At least `n` bytes unless the input ends first (then what is left).
    pub fn fill(&mut self, n: usize) -> io::Result<&[u8]> {
        match self {
            Source::Mapped { map, pos, .. } => {
                let rest = &map[*pos..];
                Ok(&rest[..rest.len().min(n)])
            }
            Source::Stream(s) => s.fill(n),
        }
    }

    pub fn consume(&mut self, n: usize) {
        match self {
            Source::Mapped { map, pos, released } => {
                *pos = (*pos + n).min(map.len());
                // Keep the last stretch mapped: the packet just consumed is still read.
                let behind = pos.saturating_sub(RELEASE_EVERY) & !0xfff;
                if behind >= *released + RELEASE_EVERY {
                    // SAFETY: nothing reads these bytes again: every reader of the map
                    // asks for bytes at or after `released`, which only grows; a read
                    // there anyway would fault the page back in from the file.
                    let _ = unsafe {
                        map.unchecked_advise_range(
                            memmap2::UncheckedAdvice::DontNeed,
                            *released,
                            behind - *released,
                        )
                    };
                    *released = behind;
                }
            }
            Source::Stream(s) => s.consume(n),
        }
    }

    /// Offset in the input of the next byte.
    pub fn offset(&self) -> u64 {
        match self {
            Source::Mapped { pos, .. } => *pos as u64,
            Source::Stream(s) => s.offset(),
        }
    }

    /// Asks the CPU to start loading the bytes `ahead` bytes past the current position
    /// (the next record's header), so that reading them later does not wait on memory.
    pub fn prefetch(&self, ahead: usize) {
        let window = match self {
            Source::Mapped { map, pos, .. } => &map[*pos..],
            Source::Stream(s) => &s.buf[s.start..s.end],
        };
        prefetch(window.get(ahead..).unwrap_or_default());
    }

    /// The whole input, when it is a mapped file.
    pub fn mapped(&self) -> Option<std::sync::Arc<memmap2::Mmap>> {
        match self {
            Source::Mapped { map, .. } => Some(map.clone()),
            Source::Stream(_) => None,
        }
    }

    /// Bytes consumed since the last `fill`, by their offset in the input (they stay in
    /// place until the next `fill`).
    pub fn recent(&self, offset: u64, len: usize) -> &[u8] {
        match self {
            Source::Mapped { map, .. } => &map[offset as usize..offset as usize + len],
            Source::Stream(s) => s.recent(offset, len),
        }
    }
}

/// Asks the CPU to start loading the cache line holding the first of `bytes`.
#[cfg(target_arch = "x86_64")]
pub fn prefetch(bytes: &[u8]) {
    if let Some(byte) = bytes.first() {
        // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                (byte as *const u8).cast(),
            );
        }
    }
}

/// Asks the CPU to start loading the cache line holding the first of `bytes`.
#[cfg(not(target_arch = "x86_64"))]
pub fn prefetch(_bytes: &[u8]) {}

pub struct Stream {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    eof: bool,
}

impl Stream {
    pub fn new(inner: Box<dyn Read + Send>) -> Self {
        Stream {
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

    fn recent(&self, offset: u64, len: usize) -> &[u8] {
        let at = self.start - (self.offset - offset) as usize;
        &self.buf[at..at + len]
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
    struct Trickle(Vec<u8>);

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match out.first_mut() {
                Some(o) if !self.0.is_empty() => {
                    *o = self.0.remove(0);
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn fill_gathers_across_reads_and_stops_at_the_end() {
        let data: Vec<u8> = (0..=255).collect();
        let mut s = Source::stream(Box::new(Trickle(data.clone())));
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
        let mut s = Source::stream(Box::new(io::Cursor::new(data)));
        s.fill(10).unwrap();
        s.consume(5);
        assert_eq!(s.fill(2 * CHUNK).unwrap().len(), 2 * CHUNK);
    }
}
