//! Counts heap allocations: per protocol when each header of a capture is dissected,
//! and per frame over a whole `--nofile` extraction and a `fields` one. The figures in BENCHMARKS.md
//! ("Allocations per frame") come from it.
//!
//! ```sh
//! cargo run --release --example allocations -- samples/demo.pcap
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use pcapkit::chain::{self, Thresholds};
use pcapkit::protocols;
use pcapkit::reader::{CaptureReader, Event};
use pcapkit::Extractor;

/// The system allocator, counting.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call goes to the system allocator unchanged; counting is an atomic add.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The columns of the `fields` extraction counted.
const FIELDS: [&str; 14] = [
    "frame.number",
    "frame.time_epoch",
    "ipv4.src",
    "ipv4.dst",
    "tcp.srcport",
    "tcp.dstport",
    "udp.dstport",
    "tcp.mss",
    "http.method",
    "http.uri",
    "http.status",
    "dns.qname",
    "dns.a",
    "dns.ttl",
];

fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let out = f();
    (out, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "samples/demo.pcap".to_owned());

    // Each header of each frame, dissected again on its own.
    let mut reader = CaptureReader::from_file(std::fs::File::open(&path)?)?;
    let mut layers = Vec::with_capacity(32);
    let mut per_protocol: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    while let Some(event) = reader.next_event() {
        let Event::Packet(record) = event else {
            continue;
        };
        let data = reader.packet().to_vec();
        chain::dissect(&data, record.linktype, &Thresholds::default(), &mut layers);
        for layer in &layers {
            let Some(protocol) = layer.protocol() else {
                continue;
            };
            let (header, n) = counted(|| protocols::dissect(protocol, &data[layer.offset..]));
            drop(header);
            let entry = per_protocol.entry(protocol.name()).or_default();
            entry.0 += 1;
            entry.1 += n;
        }
    }
    println!("{:<14} {:>8} {:>12}", "protocol", "headers", "allocations");
    for (name, (headers, n)) in &per_protocol {
        println!(
            "{name:<14} {headers:>8} {:>12.2}",
            *n as f64 / *headers as f64
        );
    }

    // The whole extraction, as `pcapkit FILE --nofile` runs it (startup included).
    let (extractor, n) = counted(|| {
        Extractor::builder()
            .input(&path)
            .store(false)
            .nofile(true)
            .run()
    });
    let frames = extractor?.frame_count().max(1);
    println!(
        "--nofile: {n} allocations for {frames} frames, {:.3} a frame",
        n as f64 / frames as f64
    );

    // A `fields` extraction to /dev/null of the common stack's values and HTTP's and
    // DNS's, as `pcapkit FILE -e ... -o /dev/null` runs it.
    let (extractor, n) = counted(|| {
        Extractor::builder()
            .input(&path)
            .store(false)
            .format(pcapkit::Format::Fields)
            .fields(FIELDS)
            .output("/dev/null")
            .run()
    });
    let frames = extractor?.frame_count().max(1);
    println!(
        "fields ({} columns): {n} allocations for {frames} frames, {:.3} a frame",
        FIELDS.len(),
        n as f64 / frames as f64
    );
    Ok(())
}
