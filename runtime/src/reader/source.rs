//! The bytes of a capture: a regular file read in large shared blocks, or a read-ahead
//! window over any other byte stream. The readers ask for the next `n` bytes and consume
//! them; memory stays bounded by a few blocks, whatever the file size.
//!
//! A file is read, not memory-mapped: a mapped file that another process truncates kills
//! the reader with SIGBUS when it touches the missing pages, while a read just sees the
//! file end early, which the readers report as damage at that offset. Blocks are shared
//! (reference-counted) with the dissecting threads, so that packets are still dissected
//! where they lie, without a copy: about as fast as the map was.

use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

const CHUNK: usize = 1 << 20;

/// Size of a file block, read in one call. Small enough that its bytes are still in the
/// CPU's caches when its packets are dissected: 4 MiB blocks made a run 15 % slower.
const BLOCK: usize = 1 << 20;

/// Blocks kept for reuse once every packet in them is done with: a fresh allocation would
/// fault its pages in again.
const SPARE_BLOCKS: usize = 8;

/// A block of a file, shared by the reader and the threads dissecting its packets. Only
/// the bytes before the reader's fill mark are meaningful; a block is written only while
/// nobody else holds it.
pub type Block = Arc<Vec<u8>>;

pub enum Source {
    /// A regular file, read a block at a time.
    Blocks(Blocks),
    Stream(Stream),
}

impl Source {
    pub fn stream(inner: Box<dyn Read + Send>) -> Source {
        Source::Stream(Stream::new(inner))
    }

    /// Reads a regular file in shared blocks; anything else (a pipe, a device) as a stream.
    pub fn file(file: File) -> Source {
        if file.metadata().is_ok_and(|m| m.is_file()) {
            Source::Blocks(Blocks::new(file))
        } else {
            Source::stream(Box::new(file))
        }
    }

    /// At least `n` bytes unless the input ends first (then what is left).
    pub fn fill(&mut self, n: usize) -> io::Result<&[u8]> {
        match self {
            Source::Blocks(b) => b.fill(n),
            Source::Stream(s) => s.fill(n),
        }
    }

    pub fn consume(&mut self, n: usize) {
        match self {
            Source::Blocks(b) => b.consume(n),
            Source::Stream(s) => s.consume(n),
        }
    }

    /// Offset in the input of the next byte.
    pub fn offset(&self) -> u64 {
        match self {
            Source::Blocks(b) => b.offset,
            Source::Stream(s) => s.offset(),
        }
    }

    /// Asks the CPU to start loading the bytes `ahead` bytes past the current position
    /// (the next record's header), so that reading them later does not wait on memory.
    pub fn prefetch(&self, ahead: usize) {
        let window = match self {
            Source::Blocks(b) => &b.block[b.start..b.end],
            Source::Stream(s) => &s.buf[s.start..s.end],
        };
        prefetch(window.get(ahead..).unwrap_or_default());
    }

    /// Bytes consumed since the last `fill`, by their offset in the input (they stay in
    /// place until the next `fill`).
    pub fn recent(&self, offset: u64, len: usize) -> &[u8] {
        match self {
            Source::Blocks(b) => {
                let (block, at) = b.locate(offset);
                &block[at..at + len]
            }
            Source::Stream(s) => s.recent(offset, len),
        }
    }

    /// The shared block holding the bytes consumed since the last `fill` at `offset`, and
    /// where they start in it; `None` for a stream, whose window is reused.
    pub fn shared(&self, offset: u64) -> Option<(&Block, usize)> {
        match self {
            Source::Blocks(b) => Some(b.locate(offset)),
            Source::Stream(_) => None,
        }
    }
}

pub struct Blocks {
    file: File,
    /// The current block: the unconsumed bytes are `block[start..end]`.
    block: Block,
    start: usize,
    end: usize,
    /// File offset of `block[start]`.
    offset: u64,
    eof: bool,
    /// Former blocks, reused once nobody else holds them.
    spare: Vec<Block>,
}

impl Blocks {
    fn new(file: File) -> Blocks {
        Blocks {
            file,
            block: Arc::new(Vec::new()),
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            spare: Vec::new(),
        }
    }

    fn fill(&mut self, n: usize) -> io::Result<&[u8]> {
        while self.end - self.start < n && !self.eof {
            // Read after the data only into a block nobody else reads, and with room
            // for all `n` bytes; else start a new block with the unconsumed bytes.
            let len = self.block.len();
            if Arc::get_mut(&mut self.block).is_none() || len - self.start < n || self.end == len {
                self.renew(n);
            }
            let buf = Arc::get_mut(&mut self.block).expect("a renewed block is not shared");
            match self.file.read(&mut buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(read) => self.end += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let len = (self.end - self.start).min(n);
        Ok(&self.block[self.start..self.start + len])
    }

    /// Moves to a block (a spare, else a new one) of room for `n` bytes at least, holding
    /// the unconsumed bytes at its start.
    fn renew(&mut self, n: usize) {
        let mut n = n;
        if n > BLOCK {
            // A damaged record may claim far more than the file holds: room for what it
            // holds is enough (a growing file is asked again), and zeroing 64 MiB for
            // a few bytes is not.
            let left = self
                .file
                .metadata()
                .map_or(u64::MAX, |m| m.len() - self.offset.min(m.len()));
            n = n
                .min(usize::try_from(left).unwrap_or(usize::MAX))
                .max(self.end - self.start);
        }
        let size = BLOCK.max(n.next_power_of_two());
        let mut fresh = match self
            .spare
            .iter()
            .position(|b| b.len() >= size && Arc::strong_count(b) == 1)
        {
            Some(i) => self.spare.swap_remove(i),
            None => Arc::new(vec![0; size]),
        };
        let left = self.end - self.start;
        Arc::get_mut(&mut fresh).expect("a spare block is not shared")[..left]
            .copy_from_slice(&self.block[self.start..self.end]);
        let old = std::mem::replace(&mut self.block, fresh);
        if !old.is_empty() {
            if self.spare.len() >= SPARE_BLOCKS {
                self.spare.remove(0);
            }
            self.spare.push(old);
        }
        self.start = 0;
        self.end = left;
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    /// The current block and the index in it of the byte at `offset`, consumed since the
    /// last `fill`.
    fn locate(&self, offset: u64) -> (&Block, usize) {
        (&self.block, self.start - (self.offset - offset) as usize)
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

/// Asks the CPU to start loading the cache lines of `value` (its own bytes, not what it
/// points to), up to eight of them.
#[cfg(target_arch = "x86_64")]
pub fn prefetch_value<T: ?Sized>(value: &T) {
    let start = (value as *const T).cast::<u8>();
    let lines = std::mem::size_of_val(value).div_ceil(64).min(8);
    for line in 0..lines {
        // SAFETY: a prefetch is only a hint; it never faults, whatever the address, and
        // the address is only computed (`wrapping_add`), never read.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                start.wrapping_add(line * 64).cast(),
            );
        }
    }
}

/// Asks the CPU to start loading the cache lines of `value`, up to eight of them.
#[cfg(not(target_arch = "x86_64"))]
pub fn prefetch_value<T: ?Sized>(_value: &T) {}

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
            // Grown as bytes arrive, not to `n` at once: a damaged record may claim far
            // more bytes than the stream holds.
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

    fn file_of(data: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, data).unwrap();
        std::io::Seek::rewind(&mut f).unwrap();
        f
    }

    #[test]
    fn a_file_is_read_in_blocks_that_stay_as_they_were_while_shared() {
        let data: Vec<u8> = (0..3 * BLOCK + 1000).map(|i| (i % 251) as u8).collect();
        let mut s = Source::file(file_of(&data));
        assert!(matches!(s, Source::Blocks(_)));
        let mut pos = 0;
        let mut held: Vec<(Block, usize, usize)> = Vec::new();
        // Records of an odd size, so that some span two blocks.
        while s.fill(7777).unwrap().len() == 7777 {
            s.consume(7777);
            let (block, at) = s.shared(pos as u64).unwrap();
            assert_eq!(&block[at..at + 7777], &data[pos..pos + 7777]);
            assert_eq!(s.recent(pos as u64, 7777), &data[pos..pos + 7777]);
            held.push((block.clone(), at, pos));
            pos += 7777;
        }
        assert_eq!(s.fill(7777).unwrap(), &data[pos..]);
        // Blocks handed out were never reused nor written while held.
        for (block, at, pos) in &held {
            assert_eq!(&block[*at..*at + 7777], &data[*pos..*pos + 7777]);
        }
    }

    #[test]
    fn a_file_block_grows_for_a_record_larger_than_a_block() {
        let data = vec![9u8; 3 * BLOCK];
        let mut s = Source::file(file_of(&data));
        s.fill(10).unwrap();
        s.consume(5);
        assert_eq!(s.fill(2 * BLOCK).unwrap().len(), 2 * BLOCK);
        assert_eq!(s.offset(), 5);
    }

    #[test]
    fn a_record_claiming_more_than_the_input_holds_allocates_only_what_it_holds() {
        // Found by the read_pcap fuzz target: every damaged record length made the
        // reader allocate and zero up to 64 MiB.
        let data = vec![3u8; 100];
        let mut s = Source::stream(Box::new(io::Cursor::new(data.clone())));
        assert_eq!(s.fill(64 << 20).unwrap(), &data[..]);
        let Source::Stream(stream) = &s else { panic!() };
        assert_eq!(stream.buf.len(), CHUNK);
        let mut s = Source::file(file_of(&data));
        s.fill(10).unwrap();
        s.consume(10);
        assert_eq!(s.fill(64 << 20).unwrap(), &data[10..]);
        let Source::Blocks(blocks) = &s else { panic!() };
        assert_eq!(blocks.block.len(), BLOCK);
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
