//! Which TCP segments of a connection repeat data already seen, as tshark 4.0's sequence
//! analysis decides it, for the application protocols the binding stage dissects
//! segment by segment (FTP control and data).
//!
//! tshark 4.0 (defaults `tcp.analyze_sequence_numbers` and `tcp.no_subdissector_on_error`
//! both TRUE) hands no segment flagged as a retransmission, a fast retransmission, an
//! out-of-order segment or a keep-alive to the application; a *spurious* retransmission
//! (every byte of it already acknowledged by the receiver) is still dissected. With
//! desegmentation and out-of-order reassembly on, it hands the application only the
//! bytes it has not had yet: a segment whose bytes all came before gives nothing, one
//! that repeats some and adds some gives the new ones.
//!
//! State is two sequence numbers and a few runs of received bytes per direction, for a
//! bounded number of connections (the idle longest is forgotten first). There is no idle
//! timeout: tshark keeps its analysis for the whole capture, and a retransmission may
//! come long after (in capture time) the data it repeats.

use std::collections::HashMap;
use std::ops::Range;

use crate::flow::FlowKey;

/// Connections followed at most.
pub const MAX_TRACKED: usize = 8192;
/// Disjoint runs of received bytes kept per direction; past this the lowest two merge
/// (the bytes between them then count as received: a bounded approximation).
const MAX_RUNS: usize = 16;

/// A TCP segment, as far as the analysis needs it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeqSegment {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number, when the ACK flag is set.
    pub ack: Option<u32>,
    /// SYN flag.
    pub syn: bool,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// Payload length.
    pub len: u32,
}

/// What the analysis says of a segment's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    /// tshark without reassembly gives the payload to no application: a retransmission
    /// or an out-of-order segment (its sequence number is below the highest seen in its
    /// direction) that the receiver had not acknowledged yet, or a keep-alive.
    pub repeated: bool,
    /// Bytes at the payload's start that arrived before (all of them: nothing new).
    pub seen: u32,
    /// It starts past a gap (bytes of its direction not received yet): tshark, putting
    /// out-of-order data in order, holds it until the gap is filled.
    pub held: bool,
}

#[derive(Debug, Default)]
struct Dir {
    /// Sequence number after the highest byte seen (tshark's `nextseq`).
    next: Option<u32>,
    /// Last acknowledgment number this direction sent (tshark's `lastack`).
    last_ack: Option<u32>,
    /// Sequence number of offset 0, for `runs`.
    origin: Option<u32>,
    /// Highest offset seen, to place 32-bit sequence numbers.
    high: u64,
    /// Received bytes, as sorted disjoint offset ranges.
    runs: Vec<Range<u64>>,
}

impl Dir {
    /// The offset of `seq`: the one nearest the highest seen (across 32-bit wrap).
    fn offset(&mut self, seq: u32) -> u64 {
        let origin = *self.origin.get_or_insert(seq);
        let rel = u64::from(seq.wrapping_sub(origin));
        let base = self.high & !0xffff_ffff;
        [
            base.checked_sub(1 << 32),
            Some(base),
            base.checked_add(1 << 32),
        ]
        .into_iter()
        .flatten()
        .map(|b| b | rel)
        .min_by_key(|c| c.abs_diff(self.high))
        .unwrap_or(rel)
    }

    /// Where the bytes received without a gap from offset 0 end.
    fn in_order(&self) -> u64 {
        self.runs
            .first()
            .filter(|r| r.start == 0)
            .map_or(0, |r| r.end)
    }

    /// Bytes at the start of `range` already received.
    fn seen_head(&self, range: &Range<u64>) -> u64 {
        self.runs
            .iter()
            .find(|r| r.start <= range.start && range.start < r.end)
            .map_or(0, |r| r.end.min(range.end) - range.start)
    }

    fn receive(&mut self, range: Range<u64>) {
        if range.is_empty() {
            return;
        }
        self.high = self.high.max(range.end);
        let mut merged = range;
        self.runs.retain(|r| {
            if r.end < merged.start || r.start > merged.end {
                true
            } else {
                merged = merged.start.min(r.start)..merged.end.max(r.end);
                false
            }
        });
        let at = self.runs.partition_point(|r| r.start < merged.start);
        self.runs.insert(at, merged);
        if self.runs.len() > MAX_RUNS {
            let second = self.runs.remove(1);
            self.runs[0].end = second.end;
        }
    }
}

/// `a` before `b` in sequence space (RFC 1982 style, as tshark's `LT_SEQ`).
fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

#[derive(Debug, Default)]
struct Tracked {
    /// 0: from the key's lower endpoint, 1: from the higher.
    dirs: [Dir; 2],
    last: i64,
}

/// Sequence analysis of the followed connections.
#[derive(Debug, Default)]
pub struct SeqAnalysis {
    conns: HashMap<FlowKey, Tracked>,
}

impl SeqAnalysis {
    /// Connections followed.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// Whether no connection is followed.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// Analyses segment `s` of connection `key`, sent by its lower endpoint when
    /// `from_low`, at capture time `now` (seconds), and remembers it.
    pub fn add(&mut self, key: FlowKey, from_low: bool, s: SeqSegment, now: i64) -> Verdict {
        if !self.conns.contains_key(&key) && self.conns.len() >= MAX_TRACKED {
            if let Some(old) = self
                .conns
                .iter()
                .min_by_key(|(_, c)| c.last)
                .map(|(k, _)| *k)
            {
                self.conns.remove(&old);
            }
        }
        let conn = self.conns.entry(key).or_default();
        conn.last = now;
        // A SYN starts the connection over (a new one may reuse the ports, with another
        // initial sequence number); a SYN-ACK starts its own direction over.
        if s.syn {
            match (s.ack, from_low) {
                (None, _) => {
                    *conn = Tracked {
                        last: now,
                        ..Tracked::default()
                    }
                }
                (Some(_), true) => conn.dirs[0] = Dir::default(),
                (Some(_), false) => conn.dirs[1] = Dir::default(),
            }
        }
        let (fwd, rev) = if from_low {
            let [a, b] = &mut conn.dirs;
            (a, b)
        } else {
            let [a, b] = &mut conn.dirs;
            (b, a)
        };
        let mut verdict = Verdict::default();
        if s.len > 0 {
            // tshark: a keep-alive is one byte (or none) just below the next expected.
            let keep_alive = s.len <= 1
                && !(s.syn || s.fin || s.rst)
                && fwd.next.is_some_and(|n| n.wrapping_sub(1) == s.seq);
            let not_advanced = fwd.next.is_some_and(|n| lt(s.seq, n));
            // Spurious: the receiver acknowledged every byte of it already.
            let end = s.seq.wrapping_add(s.len);
            let spurious = rev.last_ack.is_some_and(|a| !lt(a, end));
            verdict.repeated = keep_alive || (not_advanced && !spurious);
            // SYN data starts one past the SYN's sequence number.
            let start = fwd.offset(s.seq.wrapping_add(u32::from(s.syn)));
            let range = start..start + u64::from(s.len);
            verdict.seen = fwd.seen_head(&range) as u32;
            verdict.held = range.start > fwd.in_order();
            fwd.receive(range);
        } else if fwd.origin.is_none() && s.syn {
            fwd.origin = Some(s.seq.wrapping_add(1));
        }
        let next = s
            .seq
            .wrapping_add(s.len)
            .wrapping_add(u32::from(s.syn || s.fin));
        if (s.len > 0 || s.syn || s.fin) && fwd.next.is_none_or(|n| lt(n, next)) {
            fwd.next = Some(next);
        }
        if let Some(ack) = s.ack {
            fwd.last_ack = Some(ack);
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Endpoint;

    fn key() -> FlowKey {
        let a = Endpoint {
            addr: "10.0.0.1".parse().unwrap(),
            port: 1137,
        };
        let b = Endpoint {
            addr: "10.0.0.2".parse().unwrap(),
            port: 21,
        };
        FlowKey::new(a, b).0
    }

    fn seg(seq: u32, ack: u32, len: u32) -> SeqSegment {
        SeqSegment {
            seq,
            ack: Some(ack),
            len,
            ..SeqSegment::default()
        }
    }

    /// ppp_Ftp.pcap's control connection (stream 1), relative numbers: tshark 4.0 flags
    /// frames 7 and 8 as spurious retransmissions and still dissects them as FTP, and
    /// frames 9 and 10 as retransmissions, which it does not.
    #[test]
    fn retransmissions_are_repeated_spurious_ones_are_not() {
        let mut a = SeqAnalysis::default();
        let k = key();
        // true: from the client (the lower endpoint here).
        let v = |a: &mut SeqAnalysis, client, s| a.add(k, client, s, 0);
        assert_eq!(v(&mut a, true, seg(1, 1, 15)), Verdict::default());
        assert!(!v(&mut a, false, seg(87, 39, 79)).repeated);
        assert!(!v(&mut a, false, seg(200, 72, 55)).repeated);
        let f7 = v(&mut a, true, seg(1, 1, 15));
        assert!(!f7.repeated);
        assert_eq!(f7.seen, 15);
        let f8 = v(&mut a, true, seg(1, 1, 18));
        assert!(!f8.repeated);
        assert_eq!(
            f8.seen, 15,
            "with reassembly tshark gives FTP only `n\\r\\n`"
        );
        let f9 = v(&mut a, false, seg(200, 72, 55));
        assert!(f9.repeated);
        assert_eq!(f9.seen, 55);
        let f10 = v(&mut a, false, seg(200, 72, 17));
        assert!(f10.repeated);
        assert_eq!(f10.seen, 17);
    }

    /// ppp_Ftp.pcap frame 5: the server's segment at 200 follows its one at 87..166;
    /// 166..200 never came, so tshark with reassembly never dissects it.
    #[test]
    fn a_segment_past_a_gap_is_held() {
        let mut a = SeqAnalysis::default();
        let k = key();
        assert!(!a.add(k, false, seg(87, 39, 79), 0).held);
        let f5 = a.add(k, false, seg(200, 72, 55), 0);
        assert!(f5.held);
        assert!(!f5.repeated);
        // The gap filled: in order again, and what follows is too.
        assert!(!a.add(k, false, seg(166, 72, 34), 0).held);
        assert!(!a.add(k, false, seg(255, 72, 5), 0).held);
    }

    /// ndpi_ftp.pcap frames 72 and 74: a segment that arrives after the one following it
    /// is out of order (not dissected without reassembly), but its bytes are new.
    #[test]
    fn out_of_order_is_repeated_but_new() {
        let mut a = SeqAnalysis::default();
        let k = key();
        let syn = SeqSegment {
            seq: 0,
            syn: true,
            ..SeqSegment::default()
        };
        a.add(k, false, syn, 0);
        let f72 = a.add(k, false, seg(1441, 1, 1440), 0);
        assert!(!f72.repeated);
        assert!(f72.held, "with reassembly tshark holds it for frame 74");
        let f74 = a.add(k, false, seg(1, 1, 1440), 0);
        assert!(f74.repeated);
        assert_eq!(f74.seen, 0);
        assert!(!f74.held);
        let f76 = a.add(k, false, seg(2881, 1, 1440), 0);
        assert_eq!(f76, Verdict::default());
    }

    /// ppp_Ftp.pcap frames 7 to 10 come 15 years of capture time after the data they
    /// repeat; tshark still flags them.
    #[test]
    fn no_idle_timeout_but_a_syn_starts_over() {
        let mut a = SeqAnalysis::default();
        let k = key();
        a.add(k, true, seg(1000, 1, 10), 0);
        assert!(a.add(k, true, seg(1000, 1, 10), 500_000_000).repeated);
        let syn = SeqSegment {
            seq: 5,
            syn: true,
            ..SeqSegment::default()
        };
        a.add(k, true, syn, 500_000_001);
        assert_eq!(
            a.add(k, true, seg(6, 1, 10), 500_000_002),
            Verdict::default()
        );
    }

    #[test]
    fn keep_alive_is_repeated_and_wraps() {
        let mut a = SeqAnalysis::default();
        let k = key();
        a.add(k, true, seg(u32::MAX - 4, 1, 10), 0);
        // The next expected byte is at 5 (wrapped); one byte at 4 is a keep-alive.
        let ka = a.add(k, true, seg(4, 1, 1), 0);
        assert!(ka.repeated);
        assert_eq!(ka.seen, 1);
        assert_eq!(a.add(k, true, seg(5, 1, 3), 0), Verdict::default());
    }

    #[test]
    fn runs_and_connections_stay_bounded() {
        let mut a = SeqAnalysis::default();
        let k = key();
        for i in 0..1000u32 {
            a.add(k, true, seg(i * 100, 1, 10), 0);
        }
        assert!(a.conns[&k].dirs[0].runs.len() <= MAX_RUNS);
        let mut k2 = k;
        for port in 0..(MAX_TRACKED as u16 + 10) {
            k2.low.port = port;
            a.add(k2, true, seg(1, 1, 1), i64::from(port));
        }
        assert_eq!(a.len(), MAX_TRACKED);
    }
}
