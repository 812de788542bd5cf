//! Per-packet cost of the dissection chain, measured on frames built here with
//! `pcapkit-testkit` (no capture file: the bench is self-contained).
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
//! - `chain_views`, `chain_views_transport`: the same two, walking the headers that have
//!   a generated view through it, undecoded (`Thresholds::views`)
//! - `etherparse_sliced`: etherparse's zero-copy `SlicedPacket::from_ethernet` (the peer)
//! - `etherparse_headers`: etherparse's `PacketHeaders::from_ethernet_slice` (owned headers,
//!   TCP options walked), closer to what the chain builds
//! - `visit_fields`: dissect + visit every value of every layer with a counting visitor
//! - `visit_only`: visiting an already dissected frame
//! - `dump_fields`: one row of the `fields` format (7 columns) for an already dissected frame
//! - `dump_ndjson`: one line of `ndjson` for an already dissected frame
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml` (pass a filter, e.g. `-- mix`, to run a subset).

use std::hint::black_box;
use std::io::{self, Write};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pcapkit::chain::{self, Frame, Layer};
use pcapkit::dump::{Dumper, Fields, Ndjson};
use pcapkit::value::{FieldInfo, Value, Visitor};
use pcapkit::{Level, Thresholds, Timestamp};
use pcapkit_testkit::net::*;

// ---------------------------------------------------------------------------------------
// Frame construction (with pcapkit-testkit, as the tests and samplegen do)
// ---------------------------------------------------------------------------------------

const MAC_A: Mac = [0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc];
const MAC_B: Mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/// Ethernet / IPv4 (ID 0x1c46, DF) / TCP (NOP, NOP, timestamps) / HTTP GET.
fn tcp_http() -> Vec<u8> {
    let options = TcpOptions::new()
        .nop()
        .nop()
        .timestamps(0x002d_1e5a, 0x6b03_1107);
    let http = b"GET /index.html HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: curl/8.5.0\r\n\
Accept: */*\r\n\
Accept-Encoding: gzip, deflate\r\n\
Connection: keep-alive\r\n\r\n";
    let mut ip = Ipv4::new([192, 168, 1, 10], [93, 184, 216, 34], IPPROTO_TCP, 0x1c46);
    ip.dont_fragment = true;
    let mut f = Vec::with_capacity(128 + http.len());
    push_ethernet(&mut f, MAC_A, MAC_B, &[], ETHERTYPE_IPV4);
    let ip_start = begin_ipv4(&mut f, &ip);
    let tcp = Tcp {
        sport: 51724,
        dport: 80,
        seq: 0x3a1f_9c01,
        ack: 0x8c2e_4b10,
        flags: tcp_flags::PSH | tcp_flags::ACK,
        window: 502,
        options: options.as_bytes(),
    };
    let tcp_start = begin_tcp(&mut f, &tcp);
    f.extend_from_slice(http);
    finish_tcp(&mut f, tcp_start, ip.pair());
    finish_ipv4(&mut f, ip_start);
    f
}

/// Ethernet / IPv4 / UDP / DNS query for www.example.com A (with an EDNS OPT record).
fn udp_dns() -> Vec<u8> {
    let mut ip = Ipv4::new([192, 168, 1, 10], [192, 168, 1, 1], IPPROTO_UDP, 0x1c46);
    ip.dont_fragment = true;
    let mut f = Vec::with_capacity(128);
    push_ethernet(&mut f, MAC_B, MAC_A, &[], ETHERTYPE_IPV4);
    let ip_start = begin_ipv4(&mut f, &ip);
    let udp_start = begin_udp(&mut f, 53211, 53);
    push_dns_header(&mut f, 0x4f3a, DNS_FLAGS_QUERY, [1, 0, 0, 1]);
    push_dns_question(&mut f, "www.example.com", DNS_TYPE_A);
    // OPT: root name, type 41, UDP payload size 1232, no extended flags, no data.
    f.extend_from_slice(&[0, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0x00, 0x00]);
    finish_udp(&mut f, udp_start, ip.pair());
    finish_ipv4(&mut f, ip_start);
    f
}

/// Ethernet / 802.1Q (PCP 5, VID 100) / IPv6 / TCP SYN with MSS, SACK-permitted,
/// timestamps, NOP and window scale.
fn vlan_ipv6_syn() -> Vec<u8> {
    let src = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    ];
    let dst = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50,
    ];
    let options = TcpOptions::new()
        .mss(1440)
        .sack_permitted()
        .timestamps(0x9a2b_1104, 0)
        .nop()
        .window_scale(7);
    let vlan = VlanTag {
        tpid: ETHERTYPE_VLAN,
        pcp: 5,
        dei: false,
        vid: 100,
    };
    let mut ip = Ipv6::new(src, dst, IPPROTO_TCP);
    ip.flow_label = 0x0abcde;
    let mut f = Vec::with_capacity(128);
    push_ethernet(&mut f, MAC_A, MAC_B, &[vlan], ETHERTYPE_IPV6);
    let ip_start = begin_ipv6(&mut f, &ip);
    let tcp = Tcp {
        sport: 49152,
        dport: 443,
        seq: 0x7f00_0001,
        ack: 0,
        flags: tcp_flags::SYN,
        window: 64800,
        options: options.as_bytes(),
    };
    let tcp_start = begin_tcp(&mut f, &tcp);
    finish_tcp(&mut f, tcp_start, ip.pair());
    finish_ipv6(&mut f, ip_start);
    f
}

/// Ethernet / ARP request (who has 192.168.1.1? tell 192.168.1.10), padded to 60 bytes.
fn arp() -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    push_ethernet(&mut f, [0xff; 6], MAC_A, &[], ETHERTYPE_ARP);
    push_arp(
        &mut f,
        ARP_REQUEST,
        MAC_A,
        [192, 168, 1, 10],
        [0; 6],
        [192, 168, 1, 1],
    );
    pad_frame(&mut f);
    f
}

/// The frames, with the protocol chain each must dissect to (checked before measuring).
/// A frame's name, bytes, and expected protocol chain.
type Sample = (&'static str, Vec<u8>, &'static str);

fn frames() -> Vec<Sample> {
    vec![
        ("tcp_http", tcp_http(), "Ethernet:IPv4:TCP:HTTP"),
        ("udp_dns", udp_dns(), "Ethernet:IPv4:UDP:DNS"),
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

/// The columns of the `fields` dump, as `benches/compare.sh` uses them.
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
        ..Default::default()
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

    // `chain_views*`: the headers that have a generated view are walked through it and
    // left undecoded (what `--nofile` and the `fields` output do).
    let views = |t: Thresholds| Thresholds { views: true, ..t };
    for (group_name, limits) in [
        ("chain_full", full()),
        ("chain_transport", transport()),
        ("chain_views", views(full())),
        ("chain_views_transport", views(transport())),
    ] {
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
