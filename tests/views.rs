//! The chain walked through generated views (`Thresholds::views`) against the chain that
//! decodes every header: the same layers (names, protocols, offsets, lengths) and, read
//! back from the bytes, the same values, on every frame of the demo capture and, in CI,
//! of the corpus; with a TCP payload left to the session or not. And the `fields` output
//! of an extraction that reassembles (whose session decodes the headers it acts on), with
//! frames walked through views and with every header decoded.

use std::fs::File;
use std::path::Path;

use pcapkit::chain::{self, Layer, LayerKind, Thresholds};
use pcapkit::reader::{CaptureReader, Event};

use crate::common;

/// A layer as both walks must agree on it.
fn shape(layer: &Layer) -> (&'static str, Option<&'static str>, usize, usize, usize, u64) {
    (
        layer.name,
        layer.protocol().map(|p| p.id()),
        layer.offset,
        layer.header_len,
        layer.payload_len,
        layer.missing,
    )
}

/// Compares both walks over every frame of `path`; returns the frames walked through at
/// least one view, and the differences found (frame number and what differs).
fn compare(path: &Path, defer_streams: bool) -> (usize, Vec<String>) {
    // Some corpus files are damaged on purpose: those that do not open have no frames.
    let Ok(mut reader) = CaptureReader::from_file(File::open(path).unwrap()) else {
        return (0, Vec::new());
    };
    let decoded = Thresholds {
        defer_streams,
        ..Thresholds::default()
    };
    let viewed = Thresholds {
        views: true,
        ..decoded
    };
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let (mut number, mut with_views, mut bad) = (0, 0, Vec::new());
    while let Some(event) = reader.next_event() {
        let Event::Packet(record) = event else {
            continue;
        };
        number += 1;
        let data = reader.packet().to_vec();
        chain::dissect(&data, record.linktype, &decoded, &mut a);
        chain::dissect(&data, record.linktype, &viewed, &mut b);
        if b.iter().any(|l| matches!(l.kind, LayerKind::View(_))) {
            with_views += 1;
        }
        let shapes_a: Vec<_> = a.iter().map(shape).collect();
        let shapes_b: Vec<_> = b.iter().map(shape).collect();
        if shapes_a != shapes_b {
            bad.push(format!(
                "frame {number}: layers {shapes_a:?} against {shapes_b:?}"
            ));
            continue;
        }
        for (la, lb) in a.iter().zip(&b) {
            let va = common::values(|v| la.visit_in(&data, v));
            let vb = common::values(|v| lb.visit_in(&data, v));
            if va != vb {
                bad.push(format!(
                    "frame {number}, {}: {va:?} against {vb:?}",
                    la.name
                ));
            }
            // Decoding a viewed layer gives the decoded walk's header.
            let mut lb = lb.clone();
            lb.decode(&data);
            if lb.header() != la.header() {
                bad.push(format!("frame {number}, {}: decodes differently", la.name));
            }
        }
    }
    (with_views, bad)
}

#[test]
fn views_walk_the_demo_capture_as_decoded_headers_do() {
    let (with_views, mut bad) = compare(&common::demo_path(), false);
    bad.extend(compare(&common::demo_path(), true).1);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // The demo capture is mostly Ethernet, IP, TCP and UDP: views carry most frames.
    assert!(
        with_views >= 20,
        "only {with_views} frames walked through views"
    );
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn views_walk_the_corpus_as_decoded_headers_do() {
    let mut bad = Vec::new();
    let mut with_views = 0;
    for path in common::corpus_captures(15) {
        for defer_streams in [false, true] {
            let (n, b) = compare(&path, defer_streams);
            with_views += n;
            bad.extend(b.into_iter().map(|b| format!("{}: {b}", path.display())));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(
        with_views >= 1000,
        "only {with_views} frames walked through views"
    );
}

/// The `fields` output of `capture` with IP and TCP reassembly: frames walked through
/// views (nothing kept) or decoded (`store` keeps them, so the chain decodes every header).
fn reassembled_fields(capture: &Path, decoded: bool) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.tsv");
    let extractor = pcapkit::Extractor::builder()
        .input(capture)
        .output(&out)
        .extension(false)
        .fields([
            "frame.number",
            "frame.protocols",
            "ipv4.src",
            "ipv4.flags_offset",
            "ipv6.dst",
            "tcp.stream",
            "tcp.srcport",
            "tcp.seq",
            "tcp.len",
            "http.content_length",
            "dns.qry.name",
        ])
        .ip(true)
        .tcp(true)
        .store(decoded)
        .run()
        .map_err(|e| e.to_string())?;
    let mut written = std::fs::read(&out).map_err(|e| e.to_string())?;
    for w in extractor.warnings() {
        written.extend_from_slice(w.as_bytes());
    }
    Ok(written)
}

#[test]
fn reassembling_gives_the_same_fields_through_views_as_decoded() {
    let demo = common::demo_path();
    let viewed = reassembled_fields(&demo, false).unwrap();
    assert!(viewed.len() > 1000, "nothing written");
    assert!(viewed == reassembled_fields(&demo, true).unwrap());
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn reassembling_gives_the_same_fields_through_views_as_decoded_over_the_corpus() {
    let bad: Vec<String> = common::corpus_captures(15)
        .iter()
        .filter(|c| reassembled_fields(c, false) != reassembled_fields(c, true))
        .map(|c| c.display().to_string())
        .collect();
    assert!(bad.is_empty(), "differ: {bad:#?}");
}
