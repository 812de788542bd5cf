//! A byte assembler shared by IP defragmentation and TCP streams: pieces arrive at byte
//! offsets, in any order, duplicated or overlapping; the assembler keeps the bytes, the
//! ranges received (RFC 815's hole list, kept as its complement) and what overlapped.
//!
//! The first copy of a byte wins: a later piece never overwrites what arrived before it,
//! and a later piece whose bytes differ from those already held is reported as a
//! conflict. This is how tshark's TCP analysis treats retransmissions, and it cannot be
//! steered by an attacker sending a second, different copy.
//!
//! Everything is bounded: the bytes held by `window` (an offset past `base + window` is
//! refused), the number of disjoint ranges by `max_ranges` (a piece that would add one
//! more is refused), so a flood of tiny, scattered pieces costs no more than a full buffer.

use std::ops::Range;

/// Why a piece was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// It ends beyond the window the assembler may hold.
    OutOfWindow,
    /// It would add a disjoint range beyond the bounded count.
    TooManyRanges,
}

/// What inserting a piece did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inserted {
    /// Bytes that were new.
    pub new: u64,
    /// Bytes that were held already (retransmitted or overlapping).
    pub duplicate: u64,
    /// The first range (stream offsets) where the piece's bytes differ from those held.
    pub conflict: Option<Range<u64>>,
}

/// Bytes received at offsets from `base`, kept as disjoint runs: memory follows the bytes
/// received, never the span between them, so a far piece costs its own size only.
#[derive(Debug, Clone)]
pub struct Assembler {
    /// The first offset not consumed.
    base: u64,
    /// Received ranges at or after `base`: sorted, disjoint, never touching.
    ranges: Vec<Range<u64>>,
    /// The bytes of each range; the first run may start with `skip` consumed bytes.
    runs: Vec<Vec<u8>>,
    /// Bytes consumed at the front of the first run, dropped once they are half of it.
    skip: usize,
    /// Bytes held in `runs`.
    held: usize,
    window: u64,
    max_ranges: usize,
}

impl Assembler {
    /// An empty assembler taking bytes in `base..base + window`, in at most `max_ranges`
    /// disjoint runs.
    pub fn new(base: u64, window: u64, max_ranges: usize) -> Assembler {
        Assembler {
            base,
            ranges: Vec::new(),
            runs: Vec::new(),
            skip: 0,
            held: 0,
            window,
            max_ranges: max_ranges.max(1),
        }
    }

    /// The first offset not consumed.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Bytes held in memory.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Received ranges, in order.
    pub fn ranges(&self) -> &[Range<u64>] {
        &self.ranges
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Frees the memory of the run lists when nothing is held (a closed connection kept
    /// for its number holds none, and there may be thousands of them).
    pub fn release(&mut self) {
        if self.ranges.is_empty() {
            self.ranges = Vec::new();
            self.runs = Vec::new();
            self.skip = 0;
        }
    }

    /// The end of the furthest byte received, or `base` when nothing is held.
    pub fn end(&self) -> u64 {
        self.ranges.last().map_or(self.base, |r| r.end)
    }

    /// Makes room for the first run to grow up to stream offset `end` without being
    /// copied as it grows (when a message's length is known from its head), when that is
    /// at most `limit` bytes ahead: capacity is not counted in [`held`](Self::held), so
    /// a larger message grows as usual.
    pub fn reserve_to(&mut self, end: u64, limit: usize) {
        let Some(first) = self.ranges.first() else {
            return;
        };
        if first.start != self.base || end <= first.end || end - first.end > limit as u64 {
            return;
        }
        let want = (end - first.end) as usize;
        let run = &mut self.runs[0];
        if run.capacity() - run.len() < want {
            run.reserve_exact(want);
        }
    }

    /// The bytes of run `k` (without the consumed front of the first).
    fn run(&self, k: usize) -> &[u8] {
        let skip = if k == 0 { self.skip } else { 0 };
        &self.runs[k][skip..]
    }

    /// Takes `bytes` at stream offset `offset`. Bytes before `base` were consumed: they
    /// count as duplicates and are not compared.
    pub fn insert(&mut self, offset: u64, bytes: &[u8]) -> Result<Inserted, Refused> {
        let mut inserted = Inserted::default();
        let end = offset.saturating_add(bytes.len() as u64);
        // Drop what lies before base.
        let (offset, bytes) = if offset < self.base {
            let skip = (self.base - offset).min(bytes.len() as u64);
            inserted.duplicate += skip;
            (self.base, &bytes[skip as usize..])
        } else {
            (offset, bytes)
        };
        if bytes.is_empty() {
            return Ok(inserted);
        }
        if end > self.base.saturating_add(self.window) {
            return Err(Refused::OutOfWindow);
        }
        // Runs the piece touches or overlaps: [first, last).
        let first = self.ranges.partition_point(|r| r.end < offset);
        let last = self.ranges.partition_point(|r| r.start <= end);
        if first == last {
            if self.ranges.len() >= self.max_ranges {
                return Err(Refused::TooManyRanges);
            }
            self.ranges.insert(first, offset..end);
            self.runs.insert(first, bytes.to_vec());
            if first == 0 {
                // The new first run has nothing consumed; the old one's skip moves along.
                self.compact_first_of(1);
            }
            self.held += bytes.len();
            inserted.new = bytes.len() as u64;
            return Ok(inserted);
        }
        // Grow the first touched run (or a new one from the piece's head) left to right
        // through the others, filling gaps from the piece and comparing overlaps.
        if first == 0 {
            self.compact_first_of(0);
        }
        let run_start = self.ranges[first].start;
        let (merged_start, mut merged) = if offset < run_start {
            let head = &bytes[..(run_start - offset) as usize];
            inserted.new += head.len() as u64;
            let mut m = Vec::with_capacity(head.len() + self.runs[first].len());
            m.extend_from_slice(head);
            m.extend_from_slice(&self.runs[first]);
            (offset, m)
        } else {
            (run_start, std::mem::take(&mut self.runs[first]))
        };
        for k in first..last {
            let r = self.ranges[k].clone();
            if k > first {
                // The gap before run k comes from the piece; then run k's bytes.
                let pos = merged_start + merged.len() as u64;
                let gap = &bytes[(pos - offset) as usize..(r.start - offset) as usize];
                inserted.new += gap.len() as u64;
                merged.extend_from_slice(gap);
                merged.extend_from_slice(&self.runs[k]);
            }
            // Compare the piece with run k where they overlap.
            let from = r.start.max(offset);
            let to = r.end.min(end);
            if to > from {
                inserted.duplicate += to - from;
                let theirs = &bytes[(from - offset) as usize..(to - offset) as usize];
                let ours = &merged[(from - merged_start) as usize..(to - merged_start) as usize];
                if inserted.conflict.is_none() && theirs != ours {
                    let at = theirs
                        .iter()
                        .zip(ours)
                        .position(|(a, b)| a != b)
                        .unwrap_or(0);
                    let back = theirs
                        .iter()
                        .zip(ours)
                        .rposition(|(a, b)| a != b)
                        .unwrap_or(0);
                    inserted.conflict = Some(from + at as u64..from + back as u64 + 1);
                }
            }
        }
        let pos = merged_start + merged.len() as u64;
        if end > pos {
            let tail = &bytes[(pos - offset) as usize..];
            inserted.new += tail.len() as u64;
            merged.extend_from_slice(tail);
        }
        let merged_end = merged_start + merged.len() as u64;
        self.held += inserted.new as usize;
        if last == first + 1 {
            // The common case, a piece extending one run: replaced in place.
            self.ranges[first] = merged_start..merged_end;
            self.runs[first] = merged;
        } else {
            self.ranges
                .splice(first..last, std::iter::once(merged_start..merged_end));
            self.runs.splice(first..last, [merged]);
        }
        Ok(inserted)
    }

    /// Drops the consumed front of the first run before it changes place (`at` is the
    /// index the old first run has now).
    fn compact_first_of(&mut self, at: usize) {
        if self.skip > 0 {
            if let Some(run) = self.runs.get_mut(at) {
                run.drain(..self.skip);
            }
            self.skip = 0;
        }
    }

    /// The contiguous bytes from `base` (empty when the first byte is missing).
    pub fn contiguous(&self) -> &[u8] {
        match self.ranges.first() {
            Some(r) if r.start == self.base => self.run(0),
            _ => &[],
        }
    }

    /// Takes the first `len` contiguous bytes out, moving `base` past them; the run's own
    /// buffer when they are all of it (no copy).
    pub fn take_front(&mut self, len: usize) -> Vec<u8> {
        let contiguous = self.contiguous();
        let len = len.min(contiguous.len());
        if len == 0 {
            return Vec::new();
        }
        if len == contiguous.len() {
            let mut run = self.runs.remove(0);
            let r = self.ranges.remove(0);
            run.drain(..self.skip);
            self.skip = 0;
            self.held -= run.len();
            self.base = r.end;
            return run;
        }
        let bytes = contiguous[..len].to_vec();
        self.consume(self.base + len as u64);
        bytes
    }

    /// Bytes held in `range`, which must lie within one received range.
    pub fn slice(&self, range: Range<u64>) -> &[u8] {
        let k = self.ranges.partition_point(|r| r.end <= range.start);
        let start = self.ranges[k].start;
        &self.run(k)[(range.start - start) as usize..(range.end - start) as usize]
    }

    /// Forgets the bytes before `to` (received or not), moving `base` there.
    pub fn consume(&mut self, to: u64) {
        if to <= self.base {
            return;
        }
        self.base = to;
        // Whole runs before `to` go.
        let gone = self.ranges.partition_point(|r| r.end <= to);
        if gone > 0 {
            // The first run's skipped front is no longer in `held`: add it back before
            // the whole run goes, or `held` drops below zero on the way.
            self.held += self.skip;
            self.skip = 0;
            for run in self.runs.drain(..gone) {
                self.held -= run.len();
            }
            self.ranges.drain(..gone);
        }
        // The first run may start before `to`: its front is skipped, dropped later.
        if let Some(r) = self.ranges.first_mut() {
            if r.start < to {
                let n = (to - r.start) as usize;
                r.start = to;
                self.skip += n;
                self.held -= n;
                if self.skip > 4096 && self.skip * 2 > self.runs[0].len() {
                    self.runs[0].drain(..self.skip);
                    self.skip = 0;
                }
            }
        }
    }

    /// The holes in `base..total`: what is missing to have every byte up to `total`.
    pub fn holes(&self, total: u64) -> Vec<Range<u64>> {
        let mut holes = Vec::new();
        let mut pos = self.base;
        for r in &self.ranges {
            if r.start >= total {
                break;
            }
            if r.start > pos {
                holes.push(pos..r.start);
            }
            pos = pos.max(r.end);
        }
        if pos < total {
            holes.push(pos..total);
        }
        holes
    }
}

#[cfg(test)]
// Expected range lists often hold one range.
#[allow(clippy::single_range_in_vec_init)]
mod tests {

    #[test]
    fn room_is_made_for_a_small_message_only() {
        let mut a = Assembler::new(0, 1 << 20, 8);
        a.insert(0, b"HTTP/1.1 200 OK\r\n").unwrap();
        a.reserve_to(70_000, 64 << 10);
        assert!(
            a.runs[0].capacity() < 1000,
            "a message past the limit grows as usual"
        );
        a.reserve_to(5_000, 64 << 10);
        assert!(a.runs[0].capacity() >= 5_000);
        a.insert(17, &[7; 100]).unwrap();
        assert_eq!(a.contiguous().len(), 117, "the bytes are as inserted");
        assert_eq!(a.held(), 117, "room made is not bytes held");
    }
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn in_order_pieces_are_contiguous() {
        let mut a = Assembler::new(0, 100, 4);
        assert_eq!(a.insert(0, b"abc").unwrap().new, 3);
        assert_eq!(a.insert(3, b"def").unwrap().new, 3);
        assert_eq!(a.contiguous(), b"abcdef");
        assert_eq!(a.ranges(), &[0..6]);
        assert!(a.holes(6).is_empty());
    }

    #[test]
    fn out_of_order_pieces_leave_holes_until_filled() {
        let mut a = Assembler::new(10, 100, 4);
        a.insert(16, b"ghi").unwrap();
        assert_eq!(a.contiguous(), b"");
        assert_eq!(a.holes(20), vec![10..16, 19..20]);
        a.insert(10, b"abc").unwrap();
        assert_eq!(a.holes(19), vec![13..16]);
        a.insert(13, b"def").unwrap();
        assert_eq!(a.contiguous(), b"abcdefghi");
        assert_eq!(a.ranges(), &[10..19]);
    }

    #[test]
    fn first_copy_wins_and_conflicts_are_reported() {
        let mut a = Assembler::new(0, 100, 4);
        a.insert(0, b"abcdef").unwrap();
        let same = a.insert(2, b"cd").unwrap();
        assert_eq!((same.new, same.duplicate, same.conflict), (0, 2, None));
        let other = a.insert(4, b"XfgH").unwrap();
        assert_eq!(other.new, 2);
        assert_eq!(other.duplicate, 2);
        assert_eq!(other.conflict, Some(4..5));
        assert_eq!(a.contiguous(), b"abcdefgH");
    }

    #[test]
    fn bounds_refuse_far_pieces_and_scattered_floods() {
        let mut a = Assembler::new(0, 100, 2);
        assert_eq!(a.insert(99, b"xy"), Err(Refused::OutOfWindow));
        a.insert(0, b"a").unwrap();
        a.insert(10, b"b").unwrap();
        assert_eq!(a.insert(20, b"c"), Err(Refused::TooManyRanges));
        // Touching an existing range adds none.
        assert!(a.insert(11, b"c").is_ok());
        assert_eq!(a.ranges(), &[0..1, 10..12]);
    }

    #[test]
    fn consumed_bytes_are_duplicates_and_free_room() {
        let mut a = Assembler::new(0, 8, 4);
        a.insert(0, b"abcdefgh").unwrap();
        a.consume(6);
        assert_eq!(a.contiguous(), b"gh");
        assert_eq!(a.held(), 2, "consumed bytes are no longer counted");
        let again = a.insert(4, b"efghij").unwrap();
        assert_eq!((again.new, again.duplicate), (2, 4));
        assert_eq!(a.contiguous(), b"ghij");
    }

    #[test]
    fn consuming_past_a_partly_consumed_run_counts_its_bytes_once() {
        // Found by the reassembly fuzz target (a TCP gap given up on at the end of the
        // capture): `held` went below zero, which overflow checks make a panic.
        let mut a = Assembler::new(0, 100, 4);
        a.insert(0, b"abcdefghij").unwrap();
        a.insert(30, b"xyz").unwrap();
        a.consume(4);
        assert_eq!(a.held(), 9);
        a.consume(20);
        assert_eq!((a.base(), a.held(), a.ranges()), (20, 3, &[30..33][..]));
        a.consume(31);
        assert_eq!((a.held(), a.contiguous()), (2, &b"yz"[..]));
        a.consume(40);
        assert_eq!((a.held(), a.is_empty()), (0, true));
    }

    #[test]
    fn the_front_is_taken_whole_or_in_part() {
        let mut a = Assembler::new(0, 100, 4);
        a.insert(0, b"abcdef").unwrap();
        a.insert(8, b"ij").unwrap();
        assert_eq!(a.take_front(2), b"ab");
        assert_eq!((a.base(), a.held()), (2, 6));
        assert_eq!(a.take_front(99), b"cdef");
        assert_eq!((a.base(), a.held(), a.contiguous()), (6, 2, &b""[..]));
        assert_eq!(a.holes(10), vec![6..8]);
    }

    proptest! {
        /// Any byte string, cut into pieces, shuffled, with some pieces duplicated and
        /// some overlapping copies of the same bytes, comes back whole.
        #[test]
        fn shuffled_duplicated_pieces_reassemble_exactly(
            data in proptest::collection::vec(any::<u8>(), 1..2000),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
            extra in proptest::collection::vec((any::<prop::sample::Index>(), 1usize..64), 0..20),
            order in any::<u64>(),
        ) {
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(data.len())).collect();
            bounds.extend([0, data.len()]);
            bounds.sort_unstable();
            bounds.dedup();
            let mut pieces: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
            for (at, len) in &extra {
                let s = at.index(data.len());
                pieces.push((s, (s + len).min(data.len())));
            }
            shuffle(&mut pieces, order);
            let mut a = Assembler::new(1000, data.len() as u64, 64);
            for &(s, e) in &pieces {
                let r = a.insert(1000 + s as u64, &data[s..e]).unwrap();
                prop_assert_eq!(r.conflict, None);
            }
            prop_assert_eq!(a.contiguous(), &data[..]);
            prop_assert!(a.holes(1000 + data.len() as u64).is_empty());
        }

        /// With pieces left out, the holes are exactly the bytes no piece covered.
        #[test]
        fn missing_pieces_are_reported_exactly(
            data_len in 1usize..1500,
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 1..30),
            keep in proptest::collection::vec(any::<bool>(), 31),
            order in any::<u64>(),
        ) {
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(data_len)).collect();
            bounds.extend([0, data_len]);
            bounds.sort_unstable();
            bounds.dedup();
            let all: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
            let mut kept: Vec<(usize, usize)> =
                all.iter().zip(&keep).filter(|(_, k)| **k).map(|(p, _)| *p).collect();
            let mut covered = vec![false; data_len];
            for &(s, e) in &kept {
                covered[s..e].iter_mut().for_each(|c| *c = true);
            }
            shuffle(&mut kept, order);
            let mut a = Assembler::new(0, data_len as u64, 64);
            for &(s, e) in &kept {
                a.insert(s as u64, &vec![7u8; e - s]).unwrap();
            }
            let mut expected = Vec::new();
            let mut i = 0;
            while i < data_len {
                if covered[i] { i += 1; continue; }
                let s = i;
                while i < data_len && !covered[i] { i += 1; }
                expected.push(s as u64..i as u64);
            }
            prop_assert_eq!(a.holes(data_len as u64), expected);
        }
    }

    /// A deterministic shuffle (xorshift), so failures reproduce from the seed.
    fn shuffle<T>(items: &mut [T], mut seed: u64) {
        seed |= 1;
        for i in (1..items.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            items.swap(i, (seed % (i as u64 + 1)) as usize);
        }
    }
}
