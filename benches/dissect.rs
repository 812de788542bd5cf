//! Per-packet cost of the dissection chain, measured on frames built here by hand (no
//! capture file, no samplegen: the bench is self-contained).
//!
//! Frames (all linktype 1, Ethernet):
//! - `tcp_http`: Ethernet / IPv4 / TCP (NOP, NOP, timestamps) / HTTP GET request
//! - `udp_dns`: Ethernet / IPv4 / UDP / DNS query (DNS has no spec: it stays Raw)
//! - `vlan_ipv6_syn`: Ethernet / 802.1Q / IPv6 / TCP SYN (MSS, SACK-permitted, timestamps, NOP, window scale)
//! - `arp`: Ethernet / ARP request, padded to the 60-byte Ethernet minimum (the padding is
//!   no layer)
//! - `mix`: the four above in turn (throughput is per packet)
//!
//! Groups:
//! - `chain_full`: `chain::dissect` through every layer, reusing one `Vec<Layer>`
//! - `chain_transport`: the same, stopping after the transport layer
//! - `etherparse_sliced`: etherparse's zero-copy `SlicedPacket::from_ethernet` (the peer)
//! - `etherparse_headers`: etherparse's `PacketHeaders::from_ethernet_slice` (owned headers,
//!   TCP options walked), closer to what the chain builds
//! - `visit_fields`: dissect + visit every value of every layer with a counting visitor
//! - `visit_only`: visiting an already dissected frame
//! - `dump_fields`: one row of the `fields` format (7 columns) for an already dissected frame
//! - `dump_ndjson`: one line of `ndjson` for an already dissected frame
//!
//! Run: `cargo bench --bench dissect` (pass a filter, e.g. `-- mix`, to run a subset).

use std::hint::black_box;
use std::io::{self, Write};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pcapkit::chain::{self, Frame, Layer};
use pcapkit::dump::{Dumper, Fields, Ndjson};
use pcapkit::value::{FieldInfo, Value, Visitor};
use pcapkit::{Level, Thresholds, Timestamp};

// ---------------------------------------------------------------------------------------
// Frame construction
// ---------------------------------------------------------------------------------------

const MAC_A: [u8; 6] = [0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc];
const MAC_B: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/// Internet checksum (RFC 1071) over `parts`, concatenated.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in *part {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(128);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f
}

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut h = vec![0x45, 0x00];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&0x1c46u16.to_be_bytes()); // id
    h.extend_from_slice(&0x4000u16.to_be_bytes()); // DF
    h.push(64); // TTL
    h.push(proto);
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let sum = checksum(&[&h]);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// A TCP segment; `pseudo` is the pseudo-header prefix (addresses) for the checksum.
#[allow(clippy::too_many_arguments)]
fn tcp(
    pseudo: &[u8],
    src: u16,
    dst: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0, "TCP options pad to 32 bits");
    let doff = ((20 + options.len()) / 4) as u8;
    let mut s = Vec::new();
    s.extend_from_slice(&src.to_be_bytes());
    s.extend_from_slice(&dst.to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&ack.to_be_bytes());
    s.push(doff << 4);
    s.push(flags);
    s.extend_from_slice(&window.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    s.extend_from_slice(options);
    s.extend_from_slice(payload);
    let sum = checksum(&[pseudo, &[0, 6], &(s.len() as u16).to_be_bytes(), &s]);
    s[16..18].copy_from_slice(&sum.to_be_bytes());
    s
}

/// Ethernet / IPv4 / TCP (NOP, NOP, timestamps) / HTTP GET.
fn tcp_http() -> Vec<u8> {
    let (src, dst) = ([192, 168, 1, 10], [93, 184, 216, 34]);
    let options = [1, 1, 8, 10, 0x00, 0x2d, 0x1e, 0x5a, 0x6b, 0x03, 0x11, 0x07];
    let http = b"GET /index.html HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: curl/8.5.0\r\n\
Accept: */*\r\n\
Accept-Encoding: gzip, deflate\r\n\
Connection: keep-alive\r\n\r\n";
    let pseudo = [src, dst].concat();
    let seg = tcp(
        &pseudo,
        51724,
        80,
        0x3a1f_9c01,
        0x8c2e_4b10,
        0x18,
        502,
        &options,
        http,
    );
    let mut f = ethernet(MAC_A, MAC_B, 0x0800);
    f.extend_from_slice(&ipv4(6, src, dst, &seg));
    f
}

/// Ethernet / IPv4 / UDP / DNS query for www.example.com A (with an EDNS OPT record).
fn udp_dns() -> Vec<u8> {
    let (src, dst) = ([192, 168, 1, 10], [192, 168, 1, 1]);
    let mut dns = vec![
        0x4f, 0x3a, // id
        0x01, 0x00, // standard query, RD
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // 1 question, 1 additional
    ];
    for label in ["www", "example", "com"] {
        dns.push(label.len() as u8);
        dns.extend_from_slice(label.as_bytes());
    }
    dns.extend_from_slice(&[0, 0x00, 0x01, 0x00, 0x01]); // root, A, IN
    dns.extend_from_slice(&[0, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0x00, 0x00]); // OPT
    let len = (8 + dns.len()) as u16;
    let mut udp = Vec::new();
    udp.extend_from_slice(&53211u16.to_be_bytes());
    udp.extend_from_slice(&53u16.to_be_bytes());
    udp.extend_from_slice(&len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(&dns);
    let sum = checksum(&[&src, &dst, &[0, 17], &len.to_be_bytes(), &udp]);
    udp[6..8].copy_from_slice(&sum.to_be_bytes());
    let mut f = ethernet(MAC_B, MAC_A, 0x0800);
    f.extend_from_slice(&ipv4(17, src, dst, &udp));
    f
}

/// Ethernet / 802.1Q (VID 100) / IPv6 / TCP SYN with MSS, SACK-permitted, timestamps,
/// NOP and window scale.
fn vlan_ipv6_syn() -> Vec<u8> {
    let src: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    ];
    let dst: [u8; 16] = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50,
    ];
    let options = [
        2, 4, 0x05, 0xa0, // MSS 1440
        4, 2, // SACK permitted
        8, 10, 0x9a, 0x2b, 0x11, 0x04, 0, 0, 0, 0, // timestamps
        1, // NOP
        3, 3, 7, // window scale 7
    ];
    let pseudo = [src, dst].concat();
    let seg = tcp(
        &pseudo,
        49152,
        443,
        0x7f00_0001,
        0,
        0x02,
        64800,
        &options,
        &[],
    );
    let mut f = ethernet(MAC_A, MAC_B, 0x8100);
    f.extend_from_slice(&(100u16 | (5 << 13)).to_be_bytes()); // PCP 5, VID 100
    f.extend_from_slice(&0x86ddu16.to_be_bytes());
    f.extend_from_slice(&[0x60, 0x0a, 0xbc, 0xde]); // version 6, TC 0, flow label
    f.extend_from_slice(&(seg.len() as u16).to_be_bytes());
    f.push(6); // next header TCP
    f.push(64); // hop limit
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&seg);
    f
}

/// Ethernet / ARP request (who has 192.168.1.1? tell 192.168.1.10), padded to 60 bytes.
fn arp() -> Vec<u8> {
    let mut f = ethernet([0xff; 6], MAC_A, 0x0806);
    f.extend_from_slice(&[0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&[192, 168, 1, 10]);
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&[192, 168, 1, 1]);
    f.resize(60, 0);
    f
}

/// The frames, with the protocol chain each must dissect to (checked before measuring).
/// A frame's name, bytes, and expected protocol chain.
type Sample = (&'static str, Vec<u8>, &'static str);

fn frames() -> Vec<Sample> {
    vec![
        ("tcp_http", tcp_http(), "Ethernet:IPv4:TCP:HTTP"),
        ("udp_dns", udp_dns(), "Ethernet:IPv4:UDP:Raw"),
        ("vlan_ipv6_syn", vlan_ipv6_syn(), "Ethernet:VLAN:IPv6:TCP"),
        ("arp", arp(), "Ethernet:ARP"),
    ]
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Counts the values a header hands over, and the lists and items around them.
#[derive(Default)]
struct Count {
    fields: usize,
    lists: usize,
    items: usize,
    bytes: usize,
}

impl Visitor for Count {
    fn field(&mut self, _info: &'static FieldInfo, value: Value<'_>) {
        self.fields += 1;
        if let Value::Bytes(b, _) = value {
            self.bytes += b.len();
        } else if let Value::Text(t) = value {
            self.bytes += t.len();
        }
    }
    fn begin_list(&mut self, _info: &'static FieldInfo) {
        self.lists += 1;
    }
    fn begin_item(&mut self) {
        self.items += 1;
    }
}

/// A writer that only counts, so the dumpers' formatting is measured and not the I/O.
#[derive(Default)]
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The columns of the `fields` dump, as `bench/compare.sh` uses them.
const FIELD_PATHS: &[&str] = &[
    "frame.number",
    "frame.time_epoch",
    "ipv4.src",
    "ipv4.dst",
    "tcp.srcport",
    "tcp.dstport",
    "udp.dstport",
];

fn full() -> Thresholds {
    Thresholds::default()
}

fn transport() -> Thresholds {
    Thresholds {
        layer: Some(Level::Transport),
        protocol: None,
    }
}

fn frame_of(number: u64, data: &[u8]) -> Frame {
    let mut layers = Vec::new();
    chain::dissect(data, 1, &full(), &mut layers);
    Frame {
        number,
        timestamp: Timestamp {
            secs: 1_704_067_200,
            nanos: 19_000_000,
        },
        len: data.len() as u32,
        cap_len: data.len() as u32,
        linktype: 1,
        interface: None,
        data: data.to_vec(),
        layers,
        ..Frame::default()
    }
}

/// The inputs of every group: each frame alone, then all of them in turn.
fn inputs(frames: &[Sample]) -> Vec<(&'static str, Vec<&[u8]>)> {
    let mut v: Vec<(&'static str, Vec<&[u8]>)> = frames
        .iter()
        .map(|(name, data, _)| (*name, vec![data.as_slice()]))
        .collect();
    v.push(("mix", frames.iter().map(|(_, d, _)| d.as_slice()).collect()));
    v
}

fn check(frames: &[Sample]) {
    eprintln!(
        "size_of: Layer {} bytes, Header {} bytes; etherparse: SlicedPacket {} bytes, \
         PacketHeaders {} bytes",
        std::mem::size_of::<Layer>(),
        std::mem::size_of::<pcapkit::protocols::Header>(),
        std::mem::size_of::<etherparse::SlicedPacket>(),
        std::mem::size_of::<etherparse::PacketHeaders>()
    );
    for (name, data, chain_expected) in frames {
        let frame = frame_of(1, data);
        assert_eq!(&frame.protocols(), chain_expected, "{name}");
        assert!(
            frame.layers.iter().all(|l| l.truncated.is_none()),
            "{name}: no header may be cut short"
        );
        assert!(
            etherparse::SlicedPacket::from_ethernet(data).is_ok(),
            "{name}: etherparse must accept it"
        );
        let mut count = Count::default();
        for layer in &frame.layers {
            layer.visit(&mut count);
        }
        eprintln!(
            "{name:<14} {:>3} bytes  {:<24} {:>3} fields, {} lists, {} items",
            data.len(),
            chain_expected,
            count.fields,
            count.lists,
            count.items
        );
    }
}

// ---------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------

fn bench_dissect(c: &mut Criterion) {
    let frames = frames();
    check(&frames);
    let inputs = inputs(&frames);

    for (group_name, limits) in [("chain_full", full()), ("chain_transport", transport())] {
        let mut group = c.benchmark_group(group_name);
        for (name, packets) in &inputs {
            group.throughput(Throughput::Elements(packets.len() as u64));
            let mut layers: Vec<Layer> = Vec::with_capacity(8);
            group.bench_with_input(BenchmarkId::from_parameter(name), packets, |b, packets| {
                b.iter(|| {
                    for data in packets {
                        chain::dissect(black_box(data), 1, &limits, &mut layers);
                        black_box(&layers);
                    }
                })
            });
        }
        group.finish();
    }

    let mut group = c.benchmark_group("etherparse_sliced");
    for (name, packets) in &inputs {
        group.throughput(Throughput::Elements(packets.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), packets, |b, packets| {
            b.iter(|| {
                for data in packets {
                    let _ = black_box(etherparse::SlicedPacket::from_ethernet(black_box(data)));
                }
            })
        });
    }
    group.finish();

    // Owned headers, TCP options decoded: the nearest etherparse gets to owned values.
    let mut group = c.benchmark_group("etherparse_headers");
    for (name, packets) in &inputs {
        group.throughput(Throughput::Elements(packets.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), packets, |b, packets| {
            b.iter(|| {
                for data in packets {
                    let headers = etherparse::PacketHeaders::from_ethernet_slice(black_box(data));
                    if let Ok(h) = &headers {
                        if let Some(etherparse::TransportHeader::Tcp(t)) = &h.transport {
                            for opt in t.options_iterator() {
                                let _ = black_box(opt);
                            }
                        }
                    }
                    let _ = black_box(headers);
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("visit_fields");
    for (name, packets) in &inputs {
        group.throughput(Throughput::Elements(packets.len() as u64));
        let mut layers: Vec<Layer> = Vec::with_capacity(8);
        group.bench_with_input(BenchmarkId::from_parameter(name), packets, |b, packets| {
            b.iter(|| {
                let mut count = Count::default();
                for data in packets {
                    chain::dissect(black_box(data), 1, &full(), &mut layers);
                    for layer in &layers {
                        layer.visit(&mut count);
                    }
                }
                black_box((count.fields, count.lists, count.items, count.bytes))
            })
        });
    }
    group.finish();

    let dissected: Vec<(&'static str, Vec<Frame>)> = inputs
        .iter()
        .map(|(name, packets)| {
            let frames = packets
                .iter()
                .enumerate()
                .map(|(i, d)| frame_of(i as u64 + 1, d))
                .collect();
            (*name, frames)
        })
        .collect();

    let mut group = c.benchmark_group("visit_only");
    for (name, frames) in &dissected {
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), frames, |b, frames| {
            b.iter(|| {
                let mut count = Count::default();
                for frame in black_box(frames) {
                    for layer in &frame.layers {
                        layer.visit(&mut count);
                    }
                }
                black_box((count.fields, count.lists, count.items, count.bytes))
            })
        });
    }
    group.finish();

    let paths: Vec<String> = FIELD_PATHS.iter().map(|p| (*p).to_owned()).collect();
    let mut group = c.benchmark_group("dump_fields");
    for (name, frames) in &dissected {
        group.throughput(Throughput::Elements(frames.len() as u64));
        let mut dumper = Fields::new(Counter::default(), &paths).expect("known paths");
        group.bench_with_input(BenchmarkId::from_parameter(name), frames, |b, frames| {
            b.iter(|| {
                for frame in black_box(frames) {
                    dumper.frame(frame).expect("a counter never fails");
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("dump_ndjson");
    for (name, frames) in &dissected {
        group.throughput(Throughput::Elements(frames.len() as u64));
        let mut dumper = Ndjson::new(Counter::default());
        group.bench_with_input(BenchmarkId::from_parameter(name), frames, |b, frames| {
            b.iter(|| {
                for frame in black_box(frames) {
                    dumper.frame(frame).expect("a counter never fails");
                }
            })
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_dissect
}
criterion_main!(benches);
