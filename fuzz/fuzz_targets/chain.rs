//! The protocol chain from every link type: the first two bytes are the link type
//! (LINKTYPE_ value, little-endian), the rest is the frame (seeds: the corpus's frames,
//! each behind its link type). The frame is then dumped as NDJSON, which must parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcapkit::{chain, Frame, Thresholds};
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
});
