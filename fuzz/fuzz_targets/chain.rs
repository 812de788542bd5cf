//! The protocol chain from every link type: the first two bytes are the link type
//! (LINKTYPE_ value, little-endian), the rest is the frame (seeds: the corpus's frames,
//! each behind its link type). The frame is then dumped as NDJSON, which must parse, and
//! walked again through the generated views (`Thresholds::views`), which must find the
//! same layers and read the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcapkit::value::{FieldInfo, Value, Visitor};
use pcapkit::{chain, Frame, Layer, Thresholds};
use pcapkit_fuzz::{check_dump, check_layers};

fuzz_target!(|data: &[u8]| {
    let [a, b, bytes @ ..] = data else {
        return;
    };
    let linktype = u32::from(u16::from_le_bytes([*a, *b]));
    let mut frame = Frame {
        number: 1,
        len: bytes.len() as u32,
        cap_len: bytes.len() as u32,
        linktype,
        data: bytes.to_vec(),
        ..Frame::default()
    };
    chain::dissect(bytes, linktype, &Thresholds::default(), &mut frame.layers);
    check_layers(&frame.layers, bytes);
    frame.tcp_lengths();
    check_dump(&frame);

    let views = Thresholds {
        views: true,
        ..Thresholds::default()
    };
    let mut viewed = Vec::new();
    chain::dissect(bytes, linktype, &views, &mut viewed);
    let shape = |l: &Layer| {
        (
            l.name,
            l.protocol(),
            l.offset,
            l.header_len,
            l.payload_len,
            l.missing,
        )
    };
    let decoded: Vec<_> = frame.layers.iter().map(shape).collect();
    let walked: Vec<_> = viewed.iter().map(shape).collect();
    assert_eq!(decoded, walked, "the walk through views finds other layers");
    for (a, b) in frame.layers.iter().zip(&viewed) {
        let (mut va, mut vb) = (Texts::default(), Texts::default());
        a.visit_in(bytes, &mut va);
        b.visit_in(bytes, &mut vb);
        assert_eq!(va.0, vb.0, "{}: a view reads other values", a.name);
    }
});

/// Every value shown, with its path, as text.
#[derive(Default)]
struct Texts(Vec<String>);

impl Visitor for Texts {
    fn field(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        self.0.push(format!("{}={value}", info.path));
    }
}
