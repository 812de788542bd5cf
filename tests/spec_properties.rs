//! Property tests generated from every spec (see `codegen/src/emit/tests.rs`): random
//! bytes never panic a dissector, a random valid header reads back whole and writes back
//! byte for byte, and the layers of a frame never leave the frame.
//!
//! This file provides what the generated tests use; the tests themselves are in OUT_DIR.

use std::io::Cursor;

use deku::writer::Writer;
use deku::DekuWriter;
use pcapkit::protocols::ProtocolId;
use pcapkit::value::{FieldInfo, Value, Visitor};
use pcapkit::Thresholds;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// Appends the low `bytes` bytes of `value` in the given byte order.
pub fn put(out: &mut Vec<u8>, value: u64, bytes: usize, big: bool) {
    let le = value.to_le_bytes();
    if big {
        out.extend(le[..bytes].iter().rev());
    } else {
        out.extend_from_slice(&le[..bytes]);
    }
}

/// The wire form of a header, through its deku writer.
pub fn write_back<T: DekuWriter<C>, C>(header: &T, ctx: C) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cursor = Cursor::new(&mut out);
    let mut writer = Writer::new(&mut cursor);
    header
        .to_writer(&mut writer, ctx)
        .expect("a parsed header writes back");
    writer.finalize().expect("whole bytes");
    out
}

/// Throws every value away (visiting must still not panic).
pub struct NullVisitor;

impl Visitor for NullVisitor {
    fn field(&mut self, _info: &'static FieldInfo, value: Value<'_>) {
        let _ = value.to_string();
    }
}

/// Checks a spec's `[[example]]`: each path named must show exactly these values, in
/// order; the message names the spec, the example and every value that differs.
pub fn check_example(
    spec: &str,
    n: usize,
    visit: impl FnOnce(&mut Values),
    expected: &[(&str, &[&str])],
) {
    let mut got = Values::default();
    visit(&mut got);
    let wrong: Vec<String> = expected
        .iter()
        .filter_map(|(path, want)| {
            let have = got.0.get(path).map(Vec::as_slice).unwrap_or_default();
            (have != *want).then(|| format!("  {path}: expected {want:?}, got {have:?}"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{spec} example #{n}: values differ:\n{}",
        wrong.join("\n")
    );
}

/// Dissects `frame` from `protocol` and checks that the layers tile the frame: each
/// starts where the previous header ended, and none reaches past the frame's end.
pub fn check_layers(protocol: ProtocolId, frame: &[u8]) -> Result<(), TestCaseError> {
    let mut layers = Vec::new();
    pcapkit::chain::dissect_from(protocol, frame, &Thresholds::default(), &mut layers);
    let mut expected_offset = 0;
    for layer in &layers {
        prop_assert_eq!(
            layer.offset,
            expected_offset,
            "layer {} starts off its place",
            layer.name
        );
        prop_assert!(
            layer.payload_range().end <= frame.len(),
            "layer {} runs past the frame",
            layer.name
        );
        expected_offset = layer.offset + layer.header_len;
        layer.visit(&mut NullVisitor);
    }
    Ok(())
}

use crate::common;

pub use common::{values, Rng, Values};

include!(concat!(env!("OUT_DIR"), "/property_tests.rs"));
