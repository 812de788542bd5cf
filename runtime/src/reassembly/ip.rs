//! IPv4 and IPv6 defragmentation (RFC 791, RFC 8200 section 4.5, RFC 815's hole list).
//!
//! Fragments are pooled by (source, destination, identification, protocol) for IPv4 and
//! (source, destination, identification) for IPv6, whose upper protocol comes from the
//! first fragment's Fragment header. Offsets are in bytes. A datagram is complete when
//! its last fragment (more-fragments clear) has given the total length and every byte
//! before it has arrived.
//!
//! Nothing here trusts the input: a fragment ending past 65535 bytes, a zero-length
//! fragment, a second last fragment with another end, or bytes past the end are refused
//! and reported; overlaps keep the first copy and report different bytes; the pool is
//! bounded in datagrams, in ranges per datagram and, by the session's budget, in bytes.

use std::collections::{HashMap, VecDeque};

// Seeded per process: fast, and keys chosen by a capture's author cannot aim at it.
use foldhash::fast::RandomState;
use std::net::IpAddr;
use std::ops::Range;

use super::assembler::{Assembler, Refused};

/// Largest datagram: the IPv4 total length and the IPv6 payload length are 16 bits.
const MAX_DATAGRAM: u64 = 65_535;
/// Disjoint runs per datagram: more means tiny, scattered fragments (an attack).
const MAX_RUNS: usize = 64;
/// Frames listed per datagram.
const MAX_FRAMES: usize = 8192;
/// What a pending datagram costs besides its bytes, for the memory budget: its state and
/// its table entry (with the table's slack). A flood of tiny first fragments costs mostly
/// this.
pub const DATAGRAM_COST: usize = std::mem::size_of::<Pending>() + 128;

/// Names a datagram being reassembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatagramKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Identification (16 bits in IPv4, 32 in IPv6).
    pub id: u32,
    /// IPv4's protocol field; 0 for IPv6 (not part of its key).
    pub protocol: u8,
}

/// One fragment, as the IP layer saw it.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// Its datagram.
    pub key: DatagramKey,
    /// Offset of its data in the datagram, in bytes.
    pub offset: u64,
    /// More fragments follow.
    pub more: bool,
    /// The upper protocol, from this fragment's header (IPv4 protocol, IPv6 next header).
    pub protocol: u8,
    /// Its data.
    pub data: &'a [u8],
    /// The frame it came in.
    pub frame: u64,
    /// Capture time, in seconds.
    pub time: i64,
}

/// A datagram put together, or given up on.
#[derive(Debug, Clone)]
pub struct Datagram {
    /// Its key.
    pub key: DatagramKey,
    /// The upper protocol, from the first fragment (offset 0) if it arrived.
    pub protocol: Option<u8>,
    /// Frames that brought fragments, in capture order.
    pub frames: Vec<u64>,
    /// Every byte arrived.
    pub completed: bool,
    /// What is missing, when not completed.
    pub holes: Vec<Range<u64>>,
    /// The bytes: the whole datagram, or the runs that arrived back to back.
    pub data: Vec<u8>,
    /// Whether `data` starts with the datagram's first byte (so it can be dissected).
    pub starts_at_zero: bool,
    /// Overlaps with different bytes and other oddities.
    pub anomalies: Vec<String>,
}

/// What a fragment did.
#[derive(Debug)]
pub enum Added {
    /// Held until the rest arrives.
    Held,
    /// It completed its datagram.
    Completed(Datagram),
    /// It was not taken: why.
    Refused(String),
}

struct Pending {
    assembler: Assembler,
    /// Total length, once the last fragment arrived.
    total: Option<u64>,
    protocol: Option<u8>,
    frames: Vec<u64>,
    /// Time of the first fragment, in seconds.
    first_seen: i64,
    anomalies: Vec<String>,
    /// Arrival order, for eviction of the oldest.
    serial: u64,
}

/// The fragment pool of one IP version.
pub struct Defragmenter {
    /// Boxed: a table of large entries would keep its slack at full entry size.
    pending: HashMap<DatagramKey, Box<Pending>, RandomState>,
    /// Keys in order of first fragment (stale entries are skipped).
    order: VecDeque<(DatagramKey, u64)>,
    serial: u64,
    held: usize,
    timeout: i64,
    /// The time of the last [`Defragmenter::expire`]: until the clock moves on, nothing
    /// more can be due (what arrives meanwhile is younger than the timeout).
    checked_at: Option<i64>,
}

impl Defragmenter {
    /// A pool whose incomplete datagrams expire `timeout` seconds (capture time) after
    /// their first fragment.
    pub fn new(timeout: i64) -> Defragmenter {
        Defragmenter {
            pending: HashMap::default(),
            order: VecDeque::new(),
            serial: 0,
            held: 0,
            timeout,
            checked_at: None,
        }
    }

    /// Bytes held, datagrams counted at [`DATAGRAM_COST`] each besides their bytes.
    pub fn held(&self) -> usize {
        self.held
            + self.pending.len() * DATAGRAM_COST
            + self.order.len() * std::mem::size_of::<(DatagramKey, u64)>()
    }

    /// Datagrams waiting for fragments.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no datagram is waiting.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes a fragment.
    pub fn add(&mut self, f: Fragment<'_>) -> Added {
        let end = f.offset + f.data.len() as u64;
        if f.data.is_empty() {
            return Added::Refused(format!(
                "zero-length fragment at offset {} of datagram id {:#x}",
                f.offset, f.key.id
            ));
        }
        if end > MAX_DATAGRAM {
            return Added::Refused(format!(
                "fragment at offset {} ends at byte {end}, past the largest datagram ({MAX_DATAGRAM})",
                f.offset
            ));
        }
        if self.order.len() > 2 * self.pending.len() + 1024 {
            // Completed datagrams leave stale entries behind: drop them.
            let pending = &self.pending;
            self.order
                .retain(|(k, serial)| pending.get(k).is_some_and(|p| p.serial == *serial));
        }
        let pending = match self.pending.get_mut(&f.key) {
            Some(p) => p,
            None => {
                // A datagram already due (its time runs behind the clock) is for the
                // next expiry to see.
                if self
                    .checked_at
                    .is_some_and(|t| t.saturating_sub(f.time) >= self.timeout)
                {
                    self.checked_at = None;
                }
                self.serial += 1;
                self.order.push_back((f.key, self.serial));
                self.pending.entry(f.key).or_insert(Box::new(Pending {
                    assembler: Assembler::new(0, MAX_DATAGRAM, MAX_RUNS),
                    total: None,
                    protocol: None,
                    frames: Vec::new(),
                    first_seen: f.time,
                    anomalies: Vec::new(),
                    serial: self.serial,
                }))
            }
        };
        if let Some(total) = pending.total {
            if !f.more && end != total {
                let why = format!(
                    "a second last fragment ends at {end}, the first said {total}: kept {total}"
                );
                note(&mut pending.anomalies, &why);
                return Added::Refused(why);
            }
            if end > total {
                // As tshark does: the bytes within the datagram are kept, the rest dropped.
                note(
                    &mut pending.anomalies,
                    &format!("fragment ends at {end}, past the datagram's end {total}: cut there"),
                );
            }
        } else if !f.more {
            if pending.assembler.end() > end {
                let why = format!(
                    "last fragment ends at {end}, but bytes up to {} arrived",
                    pending.assembler.end()
                );
                note(&mut pending.anomalies, &why);
                return Added::Refused(why);
            }
            pending.total = Some(end);
        }
        let data = match pending.total {
            Some(total) if end > total => {
                let keep = total.saturating_sub(f.offset) as usize;
                &f.data[..keep.min(f.data.len())]
            }
            _ => f.data,
        };
        let before = pending.assembler.held();
        let inserted = match pending.assembler.insert(f.offset, data) {
            Ok(i) => i,
            Err(Refused::TooManyRanges) => {
                let why = format!("more than {MAX_RUNS} separate runs of fragments");
                note(&mut pending.anomalies, &why);
                return Added::Refused(why);
            }
            Err(Refused::OutOfWindow) => unreachable!("checked against MAX_DATAGRAM above"),
        };
        self.held += pending.assembler.held() - before;
        if f.offset == 0 {
            pending.protocol.get_or_insert(f.protocol);
        }
        // A datagram has at most one fragment per 8 bytes; more frames are duplicates,
        // not kept beyond that many.
        if pending.frames.last() != Some(&f.frame) && pending.frames.len() < MAX_FRAMES {
            pending.frames.push(f.frame);
        }
        let mut conflict = None;
        if let Some(c) = inserted.conflict {
            let why = format!(
                "overlapping fragment with different bytes at {}..{} (first copy kept)",
                c.start, c.end
            );
            note(&mut pending.anomalies, &why);
            conflict = Some(why);
        }
        let complete = pending
            .total
            .is_some_and(|t| pending.assembler.contiguous().len() as u64 == t);
        if complete {
            let pending = self.pending.remove(&f.key).expect("present");
            self.held -= pending.assembler.held();
            return Added::Completed(finish(f.key, *pending, true));
        }
        match conflict {
            Some(why) => Added::Refused(why),
            None => Added::Held,
        }
    }

    /// Whether [`Defragmenter::expire`] at `now` may give anything up: not while nothing
    /// is pending, nor again within the second it last looked. Checked for every frame,
    /// so kept apart, small enough to inline.
    #[inline]
    pub fn may_expire(&self, now: i64) -> bool {
        let looked = self.timeout > 0 && self.checked_at == Some(now);
        !self.order.is_empty() && !looked
    }

    /// Gives up on datagrams whose first fragment is older than the timeout at `now`.
    pub fn expire(&mut self, now: i64) -> Vec<Datagram> {
        let mut gone = Vec::new();
        // Capture time is in seconds: most frames share their second with the last.
        if self.timeout > 0 && self.checked_at == Some(now) {
            return gone;
        }
        self.checked_at = Some(now);
        while let Some(&(key, serial)) = self.order.front() {
            match self.pending.get(&key) {
                Some(p) if p.serial == serial => {
                    if now.saturating_sub(p.first_seen) < self.timeout {
                        break;
                    }
                    gone.extend(self.remove(key));
                }
                _ => {}
            }
            self.order.pop_front();
        }
        gone
    }

    /// Gives up on the oldest datagram (to stay within the memory budget).
    pub fn evict_oldest(&mut self) -> Option<Datagram> {
        while let Some((key, serial)) = self.order.pop_front() {
            if self.pending.get(&key).is_some_and(|p| p.serial == serial) {
                return self.remove(key);
            }
        }
        None
    }

    /// Gives up on every datagram (the capture ended).
    pub fn drain(&mut self) -> Vec<Datagram> {
        let mut gone = Vec::new();
        while let Some(d) = self.evict_oldest() {
            gone.push(d);
        }
        gone
    }

    fn remove(&mut self, key: DatagramKey) -> Option<Datagram> {
        let p = self.pending.remove(&key)?;
        self.held -= p.assembler.held();
        Some(finish(key, *p, false))
    }
}

/// Anomalies kept per datagram: a flood of bad fragments for one datagram is reported,
/// not stored without end.
const MAX_ANOMALIES: usize = 16;

/// Records an anomaly, up to [`MAX_ANOMALIES`]; the last slot counts the rest.
fn note(anomalies: &mut Vec<String>, why: &str) {
    match anomalies.len() {
        n if n < MAX_ANOMALIES - 1 => anomalies.push(why.to_owned()),
        n if n == MAX_ANOMALIES - 1 => anomalies.push("1 more anomaly".to_owned()),
        _ => {
            let more = anomalies[MAX_ANOMALIES - 1]
                .split(' ')
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(1);
            anomalies[MAX_ANOMALIES - 1] = format!("{} more anomalies", more + 1);
        }
    }
}

fn finish(key: DatagramKey, p: Pending, completed: bool) -> Datagram {
    let total = p.total.unwrap_or_else(|| p.assembler.end());
    let (data, holes) = if completed {
        (p.assembler.contiguous().to_vec(), Vec::new())
    } else {
        let mut data = Vec::new();
        for r in p.assembler.ranges() {
            data.extend_from_slice(p.assembler.slice(r.clone()));
        }
        let mut holes = p.assembler.holes(total);
        if p.total.is_none() {
            // The last fragment never came: the end is unknown.
            holes.push(total..super::OPEN_END);
        }
        (data, holes)
    };
    Datagram {
        key,
        protocol: p.protocol,
        frames: p.frames,
        completed,
        holes,
        starts_at_zero: p.assembler.ranges().first().is_some_and(|r| r.start == 0),
        data,
        anomalies: p.anomalies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u32) -> DatagramKey {
        DatagramKey {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            id,
            protocol: 17,
        }
    }

    fn frag(id: u32, offset: u64, more: bool, data: &[u8], frame: u64) -> Fragment<'_> {
        Fragment {
            key: key(id),
            offset,
            more,
            protocol: 17,
            data,
            frame,
            time: frame as i64,
        }
    }

    #[test]
    fn fragments_in_any_order_complete_the_datagram() {
        let mut d = Defragmenter::new(30);
        assert!(matches!(d.add(frag(1, 16, false, b"tail", 1)), Added::Held));
        assert!(matches!(
            d.add(frag(1, 0, true, b"01234567", 2)),
            Added::Held
        ));
        match d.add(frag(1, 8, true, b"89abcdef", 3)) {
            Added::Completed(g) => {
                assert_eq!(g.data, b"0123456789abcdeftail");
                assert_eq!(g.frames, vec![1, 2, 3]);
                assert_eq!(g.protocol, Some(17));
                assert!(g.completed && g.holes.is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(d.len(), 0);
        assert!(
            d.held() < DATAGRAM_COST,
            "only the order list's stale entry"
        );
    }

    #[test]
    fn hostile_fragments_are_refused_and_reported() {
        let mut d = Defragmenter::new(30);
        assert!(
            matches!(d.add(frag(1, 65_528, false, &[0; 16], 1)), Added::Refused(r) if r.contains("past the largest"))
        );
        assert!(
            matches!(d.add(frag(1, 8, true, b"", 1)), Added::Refused(r) if r.contains("zero-length"))
        );
        assert!(matches!(
            d.add(frag(2, 8, false, b"abcdefgh", 1)),
            Added::Held
        ));
        assert!(
            matches!(d.add(frag(2, 8, false, b"abcdefghij", 2)), Added::Refused(r) if r.contains("second last fragment"))
        );
        assert!(matches!(
            d.add(frag(2, 0, true, b"AAAAAAAA", 3)),
            Added::Completed(_)
        ));
        // Teardrop: an overlap with other bytes keeps the first copy and says so.
        assert!(matches!(
            d.add(frag(3, 0, true, b"AAAAAAAA", 1)),
            Added::Held
        ));
        assert!(
            matches!(d.add(frag(3, 4, true, b"BBBBBBBB", 2)), Added::Refused(r) if r.contains("different bytes at 4..8"))
        );
        match d.add(frag(3, 12, false, b"CCCC", 3)) {
            Added::Completed(g) => {
                assert_eq!(g.data, b"AAAAAAAABBBBCCCC");
                assert_eq!(g.anomalies.len(), 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timeouts_and_eviction_report_incomplete_datagrams_with_holes() {
        let mut d = Defragmenter::new(30);
        d.add(frag(1, 0, true, b"01234567", 0));
        d.add(frag(2, 8, false, b"abcd", 10));
        assert!(d.expire(29).is_empty());
        let gone = d.expire(35);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].key.id, 1);
        assert!(!gone[0].completed);
        assert_eq!(gone[0].holes, vec![8..crate::reassembly::OPEN_END]);
        assert_eq!(gone[0].data, b"01234567");
        let last = d.evict_oldest().unwrap();
        assert_eq!(last.holes, vec![0..8]);
        assert!(!last.starts_at_zero);
        assert!(d.is_empty());
    }

    #[test]
    fn a_flood_of_distinct_ids_is_bounded_by_eviction() {
        let mut d = Defragmenter::new(30);
        for id in 0..10_000 {
            d.add(frag(id, 8, true, &[1; 8], u64::from(id)));
            while d.held() > 16 * 100 {
                d.evict_oldest();
            }
        }
        assert!(d.len() <= 100);
    }
}
