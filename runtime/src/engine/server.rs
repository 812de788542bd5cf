//! The server engine: the reader sends every frame to one of N workers by a symmetric
//! hash of the unordered pair of its IP addresses (the inner ones of an IP-in-IP tunnel), so both directions of a
//! flow, and the fragments of a datagram (which have no ports), meet on one worker;
//! frames without IP go to worker 0. Each worker owns a [`Session`]: it dissects its
//! frames and runs the stateful stages over them, in capture order. The caller merges
//! the workers' results by frame number, following the reader's plan of which worker
//! has which frame.
//!
//! What the merge puts right, so the output is the default engine's:
//! - TCP stream numbers: each worker numbers its own connections from 0; the merger
//!   sees frames in capture order, so a worker-local stream's first frame tells its
//!   global number (order of first appearance, as `tcp.stream` is defined).
//! - Timeouts: a datagram expires in capture time at whatever frame comes next, which
//!   may be another worker's; the reader sends every worker the time of each frame it
//!   does not own (when the second changes), and what expires there is put on that frame.
//! - The end: datagrams given up on come out by first fragment (IPv4, then IPv6), PDUs
//!   and connection summaries by global stream.
//!
//! What it cannot put right: each worker has 1/N of the memory budget, so on a capture
//! that goes over budget the datagrams and PDUs given up on (and when) may differ; and
//! an extraction stopped before the end does not report what was pending.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

use super::{give_back, keep_spares, load_dissected, Engine, Item, Options, SessionEnd, IN_FLIGHT};
use crate::chain::{self, Frame, Reassembled, ReassemblyKind};
use crate::flow::FlowMark;
use crate::reader::{Block, CaptureReader, Event};
use crate::session::Session;

/// A worker's share of a batch.
struct Shard {
    work: Vec<Work>,
    /// The packets of `Work::Packet`, in order (kept apart: ticks stay small).
    packets: Vec<Item>,
    blocks: Vec<Block>,
    spare: Vec<Box<Frame>>,
}

enum Work {
    /// The next of the worker's packets (`Item::Shared` or `Item::Frame`), and its number.
    Packet { number: u64 },
    /// Another worker's frame: the capture time it brings, for expiry.
    Tick { number: u64, secs: i64 },
}

/// What a worker made of a shard.
enum Out {
    Frame {
        frame: Box<Frame>,
        flow: Option<FlowMark>,
        /// How many of `frame.reassembled`, first, expired at the frame's time.
        expired: usize,
    },
    /// Datagrams that expired at another worker's frame `number`.
    Expired {
        number: u64,
        reassembled: Vec<Reassembled>,
    },
}

enum Message {
    Shard {
        out: Vec<Out>,
        spare: Vec<Box<Frame>>,
    },
    End(SessionEnd),
}

/// Where each item of a batch is: on a worker, or here.
enum Route {
    Worker(usize),
    Event(Box<Event>),
}

struct Plan {
    routes: Vec<Route>,
    offset: u64,
}

/// The caller's end: the merger.
pub(crate) struct ServerEngine {
    plans: Receiver<Plan>,
    outputs: Vec<Receiver<Message>>,
    routes: std::vec::IntoIter<Route>,
    /// Each worker's results for the current batch.
    outs: Vec<std::iter::Peekable<std::vec::IntoIter<Out>>>,
    recycle: SyncSender<Vec<Box<Frame>>>,
    done_with: Vec<Box<Frame>>,
    offset: u64,
    /// Each worker's stream numbers, local to global.
    streams: Vec<Vec<u64>>,
    next_stream: u64,
    /// The input ended and every frame was merged.
    ended: bool,
}

impl ServerEngine {
    /// Starts the reader and `threads` workers (at least one); `sessions`, when given,
    /// are the workers' (one each).
    pub(crate) fn start(
        mut reader: CaptureReader,
        options: Options,
        threads: usize,
        sessions: Option<Vec<Session>>,
    ) -> ServerEngine {
        let threads = sessions.as_ref().map_or(threads.max(1), Vec::len);
        // Expiry needs every worker to see time pass.
        let ticks = sessions
            .as_ref()
            .and_then(|s| s.first())
            .map(|s| {
                let o = s.options();
                let on = (o.ipv4, o.ipv6);
                (on.0 || on.1, o.ipv4_timeout.min(o.ipv6_timeout) <= 0)
            })
            .filter(|(on, _)| *on);
        let sessions: Vec<Option<Session>> = match sessions {
            Some(s) => s.into_iter().map(Some).collect(),
            None => (0..threads).map(|_| None).collect(),
        };
        let mut inputs = Vec::with_capacity(threads);
        let mut outputs = Vec::with_capacity(threads);
        for (w, session) in sessions.into_iter().enumerate() {
            let (send_input, input) = sync_channel::<Shard>(IN_FLIGHT);
            let (send_output, output) = sync_channel::<Message>(IN_FLIGHT);
            inputs.push(send_input);
            outputs.push(output);
            thread::Builder::new()
                .name(format!("pcapkit-server-{w}"))
                .spawn(move || work(input, send_output, session, options))
                .expect("the system can start a thread");
        }
        let (send_plan, plans) = sync_channel::<Plan>(IN_FLIGHT);
        let (recycle, returned) = sync_channel::<Vec<Box<Frame>>>(IN_FLIGHT * 2);
        thread::Builder::new()
            .name("pcapkit-reader".into())
            .spawn(move || {
                let mut spare: Vec<Box<Frame>> = Vec::new();
                let mut number = 0u64;
                let mut last_secs = None;
                loop {
                    while let Ok(frames) = returned.try_recv() {
                        keep_spares(&mut spare, frames);
                    }
                    let (items, blocks, ended) = super::fill(&mut reader, &mut spare);
                    let mut shards: Vec<Shard> = (0..threads)
                        .map(|_| Shard {
                            work: Vec::new(),
                            packets: Vec::new(),
                            blocks: blocks.clone(),
                            spare: Vec::new(),
                        })
                        .collect();
                    let mut routes = Vec::with_capacity(items.len());
                    for item in items {
                        let (secs, w) = match &item {
                            Item::Shared {
                                record,
                                block,
                                at,
                                len,
                            } => (
                                record.timestamp.secs,
                                shard(record.linktype, &blocks[*block][*at..*at + *len], threads),
                            ),
                            Item::Frame { frame, .. } => (
                                frame.timestamp.secs,
                                shard(frame.linktype, &frame.data, threads),
                            ),
                            Item::Event(_) => {
                                let Item::Event(e) = item else { unreachable!() };
                                routes.push(Route::Event(e));
                                continue;
                            }
                            _ => unreachable!("the reader reads packets and events"),
                        };
                        number += 1;
                        if let Some((_, always)) = ticks {
                            if always || last_secs != Some(secs) {
                                for (v, s) in shards.iter_mut().enumerate() {
                                    if v != w {
                                        s.work.push(Work::Tick { number, secs });
                                    }
                                }
                            }
                            last_secs = Some(secs);
                        }
                        if matches!(item, Item::Shared { .. }) {
                            if let Some(f) = spare.pop() {
                                shards[w].spare.push(f);
                            }
                        }
                        shards[w].work.push(Work::Packet { number });
                        shards[w].packets.push(item);
                        routes.push(Route::Worker(w));
                    }
                    let plan = Plan {
                        routes,
                        offset: reader.offset(),
                    };
                    if send_plan.send(plan).is_err() {
                        return;
                    }
                    for (input, shard) in inputs.iter().zip(shards) {
                        if input.send(shard).is_err() {
                            return;
                        }
                    }
                    if ended {
                        return;
                    }
                }
            })
            .expect("the system can start a thread");
        ServerEngine {
            plans,
            outputs,
            routes: Vec::new().into_iter(),
            outs: Vec::new(),
            recycle,
            done_with: Vec::new(),
            offset: 0,
            streams: vec![Vec::new(); threads],
            next_stream: 0,
            ended: false,
        }
    }

    /// The global number of worker `w`'s stream `local`; a stream not seen before is
    /// the next one.
    fn global(&mut self, w: usize, local: u64) -> u64 {
        let map = &mut self.streams[w];
        while map.len() as u64 <= local {
            map.push(self.next_stream);
            self.next_stream += 1;
        }
        map[local as usize]
    }

    fn renumber(&mut self, w: usize, r: &mut Reassembled) {
        if r.kind.on_tcp() {
            r.id = self.global(w, r.id);
        }
    }

    /// Takes the next batch's plan and every worker's results for it.
    fn next_batch(&mut self) -> bool {
        let Ok(plan) = self.plans.recv() else {
            return false;
        };
        self.offset = plan.offset;
        self.routes = plan.routes.into_iter();
        self.outs.clear();
        for w in 0..self.outputs.len() {
            match self.outputs[w].recv() {
                Ok(Message::Shard { out, spare }) => {
                    self.outs.push(out.into_iter().peekable());
                    for frame in spare {
                        self.recycle(frame);
                    }
                }
                // A worker ended early: it panicked; what it had is lost.
                _ => return false,
            }
        }
        true
    }

    /// Frame `w`'s next result, with what expired at it on other workers.
    fn merge(&mut self, w: usize) -> Option<Item> {
        let Some(Out::Frame {
            mut frame,
            mut flow,
            expired,
        }) = self.outs[w].next()
        else {
            return None;
        };
        let mut others = Vec::new();
        for v in 0..self.outs.len() {
            if v == w {
                continue;
            }
            if let Some(Out::Expired { number, .. }) = self.outs[v].peek() {
                if *number == frame.number {
                    let Some(Out::Expired { reassembled, .. }) = self.outs[v].next() else {
                        unreachable!()
                    };
                    others.push((v, reassembled));
                }
            }
        }
        if let Some(local) = frame.tcp_stream {
            frame.tcp_stream = Some(self.global(w, local));
        }
        if let Some(mark) = &mut flow {
            mark.stream = self.global(w, mark.stream);
        }
        let mut reassembled = std::mem::take(&mut frame.reassembled);
        for r in &mut reassembled {
            self.renumber(w, r);
        }
        if !others.is_empty() {
            // As the default engine's one pool would: IPv4 then IPv6, oldest first.
            let rest = reassembled.split_off(expired);
            for (_, list) in others {
                reassembled.extend(list);
            }
            reassembled.sort_by_key(expiry_order);
            reassembled.extend(rest);
        }
        frame.reassembled = reassembled;
        Some(Item::Processed { frame, flow })
    }
}

/// Datagrams given up on, in the order of one pool: IPv4 before IPv6, then by first
/// fragment.
fn expiry_order(r: &Reassembled) -> (u8, u64) {
    let kind = match r.kind {
        ReassemblyKind::Ipv4 => 0,
        ReassemblyKind::Ipv6 => 1,
        ReassemblyKind::Tcp | ReassemblyKind::Http2Body => 2,
    };
    let key = match r.kind {
        ReassemblyKind::Tcp | ReassemblyKind::Http2Body => r.id,
        _ => r.frames.first().copied().unwrap_or(u64::MAX),
    };
    (kind, key)
}

impl Engine for ServerEngine {
    fn next_item(&mut self) -> Option<Item> {
        loop {
            match self.routes.next() {
                Some(Route::Event(e)) => return Some(Item::Event(e)),
                Some(Route::Worker(w)) => return self.merge(w),
                None => {
                    if !self.next_batch() {
                        self.ended = true;
                        return None;
                    }
                }
            }
        }
    }

    fn bytes(&self, _block: usize, _at: usize, _len: usize) -> &[u8] {
        unreachable!("the server engine hands out processed frames only")
    }

    fn recycle(&mut self, frame: Box<Frame>) {
        give_back(&mut self.done_with, &self.recycle, frame);
    }

    fn offset(&self) -> u64 {
        self.offset
    }

    fn finish_session(&mut self) -> Option<SessionEnd> {
        let mut end = SessionEnd {
            rest: Vec::new(),
            connections: Vec::new(),
        };
        if !self.ended {
            // Stopped early: the workers are ahead of the caller; what they hold is not
            // what the frames handed out left pending.
            return Some(end);
        }
        for w in 0..self.outputs.len() {
            let Ok(Message::End(mut e)) = self.outputs[w].recv() else {
                continue;
            };
            for r in &mut e.rest {
                self.renumber(w, r);
            }
            for c in &mut e.connections {
                c.stream = self.global(w, c.stream);
            }
            end.rest.extend(e.rest);
            end.connections.extend(e.connections);
        }
        end.rest.sort_by_key(expiry_order);
        end.connections.sort_by_key(|c| c.stream);
        Some(end)
    }
}

/// A worker: dissects its packets and runs its session over them, in order.
fn work(
    input: Receiver<Shard>,
    output: SyncSender<Message>,
    mut session: Option<Session>,
    options: Options,
) {
    while let Ok(shard) = input.recv() {
        let Shard {
            work,
            packets,
            blocks,
            mut spare,
        } = shard;
        let mut packets = packets.into_iter();
        let mut out = Vec::with_capacity(work.len());
        for w in work {
            match w {
                Work::Tick { number, secs } => {
                    if let Some(s) = &mut session {
                        let reassembled = s.expire(secs);
                        if !reassembled.is_empty() {
                            out.push(Out::Expired {
                                number,
                                reassembled,
                            });
                        }
                    }
                }
                Work::Packet { number } => {
                    let item = packets.next().expect("a packet for each Work::Packet");
                    let (mut frame, bytes): (Box<Frame>, Option<&[u8]>) = match item {
                        Item::Shared {
                            record,
                            block,
                            at,
                            len,
                        } => {
                            let bytes = &blocks[block][at..at + len];
                            let mut frame = spare.pop().unwrap_or_default();
                            load_dissected(
                                &mut frame,
                                &record,
                                bytes,
                                options.keep_bytes,
                                &options.thresholds,
                            );
                            (frame, Some(bytes))
                        }
                        Item::Frame { mut frame, .. } => {
                            chain::dissect(
                                &frame.data,
                                frame.linktype,
                                &options.thresholds,
                                &mut frame.layers,
                            );
                            (frame, None)
                        }
                        _ => unreachable!("workers get packets"),
                    };
                    frame.number = number;
                    let (flow, expired) = match &mut session {
                        Some(s) => {
                            // What expires at this frame's time comes first, as in
                            // `Session::process` (which then finds nothing more to expire).
                            let expired = s.expire(frame.timestamp.secs);
                            match bytes {
                                Some(bytes) => s.process(&mut frame, bytes),
                                None => {
                                    let data = std::mem::take(&mut frame.data);
                                    s.process(&mut frame, &data);
                                    frame.data = data;
                                }
                            }
                            let n = expired.len();
                            frame.reassembled.splice(0..0, expired);
                            (s.last_flow(), n)
                        }
                        None => {
                            frame.clear_reassembly();
                            (None, 0)
                        }
                    };
                    out.push(Out::Frame {
                        frame,
                        flow,
                        expired,
                    });
                }
            }
        }
        if output.send(Message::Shard { out, spare }).is_err() {
            return;
        }
    }
    let end = match &mut session {
        Some(s) => {
            let rest = s.finish();
            SessionEnd {
                rest,
                connections: s.take_connections(),
            }
        }
        None => SessionEnd {
            rest: Vec::new(),
            connections: Vec::new(),
        },
    };
    let _ = output.send(Message::End(end));
}

/// The worker of a packet: a hash of the unordered pair of its IP addresses (see
/// [`innermost`]),
/// or 0 without IP (or for link types not looked into).
fn shard(linktype: u32, bytes: &[u8], workers: usize) -> usize {
    if workers <= 1 {
        return 0;
    }
    let Some((a, b)) = ip_pair(linktype, bytes) else {
        return 0;
    };
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    // FNV-1a over both addresses: cheap and spreads host pairs well enough.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in lo.iter().chain(hi) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % workers as u64) as usize
}

/// The source and destination addresses the packet's flow is keyed by, found by a quick
/// look through the common link layers.
fn ip_pair(linktype: u32, bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let ip = match linktype {
        // Ethernet, with any number of VLAN tags.
        1 => {
            let mut at = 12;
            loop {
                let ethertype = u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?);
                match ethertype {
                    0x8100 | 0x88a8 | 0x9100 => at += 4,
                    0x0800 | 0x86dd => break bytes.get(at + 2..)?,
                    _ => return None,
                }
            }
        }
        // Raw IP.
        12 | 14 | 101 | 228 | 229 => bytes,
        // BSD loopback (the family in host or network order): IP follows the 4 bytes.
        0 | 108 => bytes.get(4..)?,
        // Linux cooked capture v1 and v2.
        113 => bytes.get(16..)?,
        276 => bytes.get(20..)?,
        _ => return None,
    };
    innermost(ip, 0)
}

/// The addresses a session keys the packet's state by: those of the IP header that
/// carries its TCP segment or its fragment. Through IP-in-IP and 6in4 tunnels (whose
/// two directions may take different relays) the inner header's; a fragment's own
/// header's (later fragments have no inner header to look at).
fn innermost(ip: &[u8], depth: u8) -> Option<(&[u8], &[u8])> {
    let (pair, next, rest) = match ip.first()? >> 4 {
        4 => {
            let pair = (ip.get(12..16)?, ip.get(16..20)?);
            let fragment = ip.get(6..8)?;
            if fragment[0] & 0x20 != 0 || fragment[0] & 0x1f != 0 || fragment[1] != 0 {
                return Some(pair);
            }
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            (pair, ip[9], ip.get(ihl..))
        }
        6 => {
            let pair = (ip.get(8..24)?, ip.get(24..40)?);
            let mut next = *ip.get(6)?;
            let mut at = 40;
            // Hop-by-hop, routing and destination options come before a fragment header.
            while matches!(next, 0 | 43 | 60) {
                let Some(header) = ip.get(at..at + 2) else {
                    return Some(pair);
                };
                next = header[0];
                at += (usize::from(header[1]) + 1) * 8;
            }
            (pair, next, ip.get(at..))
        }
        _ => return None,
    };
    match (next, rest) {
        // IP in IP, 6in4; a few levels at most.
        (4 | 41, Some(inner)) if depth < 4 => innermost(inner, depth + 1).or(Some(pair)),
        _ => Some(pair),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_and_fragments_of_a_host_pair_share_a_worker() {
        let mut there = vec![0u8; 14];
        there[12..14].copy_from_slice(&[0x08, 0x00]);
        let mut ip = vec![0x45, 0, 0, 20, 0, 1, 0x20, 0, 64, 17, 0, 0];
        ip.extend([10, 0, 0, 1, 10, 0, 0, 2]);
        there.extend(&ip);
        let mut back = there.clone();
        back[26..30].copy_from_slice(&[10, 0, 0, 2]);
        back[30..34].copy_from_slice(&[10, 0, 0, 1]);
        for n in 2..8 {
            assert_eq!(shard(1, &there, n), shard(1, &back, n));
        }
        // Through a VLAN tag, the same pair.
        let mut tagged = there[..12].to_vec();
        tagged.extend([0x81, 0x00, 0x00, 0x05]);
        tagged.extend(&there[12..]);
        assert_eq!(ip_pair(1, &tagged), ip_pair(1, &there));
        assert_eq!(
            ip_pair(1, &there),
            Some((&[10, 0, 0, 1][..], &[10, 0, 0, 2][..]))
        );
        // ARP: no IP, worker 0.
        let mut arp = there.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert_eq!(shard(1, &arp, 3), 0);
    }
}
