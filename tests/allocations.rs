//! Dissecting the common stack allocates nothing: option lists and short byte fields are
//! held inline, and the `fields` output visits only what it prints.
//!
//! The test binary's allocator counts the allocations of each thread (tests run on
//! threads of their own, so they do not see each other's).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs::File;

use pcapkit::chain::{self, Frame, LayerKind, Thresholds};
use pcapkit::dump::{Dumper, Fields};
use pcapkit::reader::{CaptureReader, Event};

use crate::common;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: a thread being torn down has no counter left, and is not measured.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is passed on to the system allocator unchanged; counting touches
// only a thread-local integer, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Protocols whose dissection must not allocate.
const INLINE: &[&str] = &[
    "Ethernet",
    "802.1ad",
    "VLAN",
    "IPv4",
    "IPv6",
    "HOPOPT",
    "IPv6-Opts",
    "IPv6-Frag",
    "TCP",
    "UDP",
    "ICMP",
    "Raw",
];

/// Ethernet, IPv4 with a Router Alert option, and TCP with the full 40 bytes of options:
/// MSS, SACK permitted, timestamps, NOP, window scale, two SACK blocks, two NOPs.
fn tcp_with_options() -> Vec<u8> {
    let tcp_options: Vec<u8> = [
        &[2, 4, 0x05, 0xb4][..],
        &[4, 2],
        &[8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
        &[1],
        &[3, 3, 7],
        &[5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40],
        &[1, 1],
    ]
    .concat();
    assert_eq!(tcp_options.len(), 40);
    let mut tcp = vec![
        0x9c, 0x40, 0x9c, 0x41, 0, 0, 0, 1, 0, 0, 0, 0, 0xf0, 0x18, 0xff, 0xff,
    ];
    tcp.extend_from_slice(&[0, 0, 0, 0]);
    tcp.extend_from_slice(&tcp_options);
    tcp.push(0);
    let total = (24 + tcp.len()) as u16;
    let mut ip = vec![
        0x46, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0x94, 0x04, 0x00, 0x00]);
    let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&tcp);
    frame
}

/// The frames of the demo capture (and the frame above) whose protocols are all in
/// [`INLINE`], with their link types.
fn inline_frames() -> Vec<(u32, Vec<u8>)> {
    let mut reader = CaptureReader::from_file(File::open(common::demo_path()).unwrap()).unwrap();
    let mut layers = Vec::new();
    let mut out = vec![(1, tcp_with_options())];
    while let Some(event) = reader.next_event() {
        if let Event::Packet(record) = event {
            let data = reader.packet().to_vec();
            chain::dissect(&data, record.linktype, &Thresholds::default(), &mut layers);
            if layers.iter().all(|l| INLINE.contains(&l.name)) {
                out.push((record.linktype, data));
            }
        }
    }
    out
}

#[test]
fn the_common_stack_is_dissected_without_allocating() {
    let frames = inline_frames();
    // TCP with options (the SYNs), UDP, ICMP, VLAN and QinQ, IPv6 extension headers.
    assert!(frames.len() >= 25, "only {} frames to check", frames.len());
    let (linktype, data) = &frames[0];
    let mut layers = Vec::with_capacity(16);
    chain::dissect(data, *linktype, &Thresholds::default(), &mut layers);
    let names: Vec<&str> = layers.iter().map(|l| l.name).collect();
    assert_eq!(names, ["Ethernet", "IPv4", "TCP", "Raw"]);
    for (linktype, data) in &frames {
        let n = allocations(|| {
            chain::dissect(data, *linktype, &Thresholds::default(), &mut layers);
        });
        let names: Vec<&str> = layers.iter().map(|l| l.name).collect();
        assert_eq!(n, 0, "{} allocated {n} times", names.join(":"));
    }
}

#[test]
fn a_fields_row_of_the_common_stack_allocates_nothing() {
    let paths = [
        "frame.number",
        "frame.time_epoch",
        "ipv4.src",
        "ipv4.dst",
        "tcp.srcport",
        "tcp.dstport",
        "udp.dstport",
        "tcp.mss",
    ];
    let frames: Vec<Frame> = inline_frames()
        .into_iter()
        .enumerate()
        .map(|(i, (linktype, data))| {
            dissected(i as u64 + 1, linktype, data, &Thresholds::default())
        })
        .collect();
    rows_allocate_nothing(&paths, &frames);
}

/// Renders a `fields` row of `paths` twice for each of `frames`, and checks that the
/// second rendering allocates nothing (the first sizes the row and cells).
fn rows_allocate_nothing(paths: &[&str], frames: &[Frame]) {
    let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    let mut fields = Fields::new(std::io::sink(), &paths).unwrap();
    for frame in frames {
        fields.frame(frame).unwrap();
    }
    for frame in frames {
        let n = allocations(|| fields.frame(frame).unwrap());
        assert_eq!(
            n,
            0,
            "frame {} ({}) allocated {n} times",
            frame.number,
            frame.protocols()
        );
    }
}

/// Every frame of the demo capture whose headers are all
/// walked through views, DNS and HTTP included, dissects without an allocation.
#[test]
fn frames_walked_through_views_allocate_nothing() {
    let views = Thresholds {
        views: true,
        ..Thresholds::default()
    };
    let mut reader = CaptureReader::from_file(File::open(common::demo_path()).unwrap()).unwrap();
    let mut layers = Vec::with_capacity(16);
    let mut seen: Vec<&str> = Vec::new();
    let mut walked = 0;
    while let Some(event) = reader.next_event() {
        let Event::Packet(record) = event else {
            continue;
        };
        let data = reader.packet().to_vec();
        // The first walk of a frame sizes `layers`; the one measured must not need more.
        chain::dissect(&data, record.linktype, &views, &mut layers);
        let viewed = layers
            .iter()
            .all(|l| matches!(l.kind, LayerKind::View(_) | LayerKind::Raw));
        if !viewed {
            continue;
        }
        walked += 1;
        let n = allocations(|| chain::dissect(&data, record.linktype, &views, &mut layers));
        let names: Vec<&str> = layers.iter().map(|l| l.name).collect();
        assert_eq!(n, 0, "{} allocated {n} times", names.join(":"));
        seen.extend(names);
    }
    assert!(walked >= 30, "only {walked} frames walked through views");
    for name in ["DNS", "HTTP", "TCP", "UDP"] {
        assert!(
            seen.contains(&name),
            "no {name} layer walked through a view"
        );
    }
}

/// A `fields` row of HTTP values, from heads walked through their views, is rendered
/// without an allocation: the view hands over its text as it lies in the frame.
#[test]
fn a_fields_row_of_http_values_read_through_views_allocates_nothing() {
    let paths = [
        "http.method",
        "http.uri",
        "http.version",
        "http.status",
        "http.reason",
        "http.headers.name",
        "http.content_length",
    ];
    // Heads only: a continuation shows nothing.
    let rows = viewed_rows_allocate_nothing(&paths, |l| l.name == "HTTP" && l.header_len > 0);
    assert!(rows >= 2, "only {rows} HTTP heads");
}

/// The same for DNS: the view reads each record on the stack as its section is shown.
#[test]
fn a_fields_row_of_dns_values_read_through_views_allocates_nothing() {
    let paths = [
        "dns.id",
        "dns.qr",
        "dns.qname",
        "dns.qtype",
        "dns.rrname",
        "dns.ttl",
        "dns.a",
        "dns.aaaa",
        "dns.cname",
        "dns.udp_payload_size",
    ];
    let rows = viewed_rows_allocate_nothing(&paths, |l| l.name == "DNS");
    // Queries and responses with answers (A, CNAME) and additional records.
    assert!(rows >= 4, "only {rows} DNS messages");
}

/// [`rows_allocate_nothing`] over the frames of the demo capture holding a layer that
/// `wanted` picks, walked through its view; returns how many frames.
fn viewed_rows_allocate_nothing(paths: &[&str], wanted: impl Fn(&chain::Layer) -> bool) -> usize {
    let views = Thresholds {
        views: true,
        ..Thresholds::default()
    };
    let mut reader = CaptureReader::from_file(File::open(common::demo_path()).unwrap()).unwrap();
    let mut frames = Vec::new();
    while let Some(event) = reader.next_event() {
        let Event::Packet(record) = event else {
            continue;
        };
        let number = frames.len() as u64 + 1;
        let frame = dissected(number, record.linktype, reader.packet().to_vec(), &views);
        let picked = frame.layers.iter().find(|l| wanted(l));
        if picked.is_some_and(|l| matches!(l.kind, LayerKind::View(_))) {
            frames.push(frame);
        }
    }
    rows_allocate_nothing(paths, &frames);
    frames.len()
}

/// Frame `number` of `data`, dissected up to `thresholds`.
fn dissected(number: u64, linktype: u32, data: Vec<u8>, thresholds: &Thresholds) -> Frame {
    let mut frame = Frame {
        number,
        linktype,
        len: data.len() as u32,
        cap_len: data.len() as u32,
        ..Frame::default()
    };
    chain::dissect(&data, linktype, thresholds, &mut frame.layers);
    frame.data = data;
    frame
}

#[test]
fn the_counter_counts() {
    // The other tests would pass with a counter that never moves.
    let n = allocations(|| drop(std::hint::black_box(vec![1u8; 100])));
    assert_eq!(n, 1);
}
