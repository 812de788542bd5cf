//! Times HPACK header blocks with Huffman-coded strings (RFC 7541, Appendix C.6.1: a
//! response, every string coded, a fresh decoder each time so that nothing is indexed):
//! loona-hpack decoding the strings itself, against pcapkit's pass that decodes them
//! first ([`without_huffman`]), as the HTTP/2 stage does.
//!
//! ```sh
//! cargo run --release --example hpack_huffman
//! ```

use std::hint::black_box;
use std::time::Instant;

use loona_hpack::Decoder;
use pcapkit::conversation::http2::without_huffman;

/// RFC 7541, C.6.1.
const BLOCK: &str = "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3";
const ROUNDS: u32 = 20_000;

fn main() {
    let block: Vec<u8> = (0..BLOCK.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&BLOCK[i..i + 2], 16).expect("hex"))
        .collect();
    let plain = Decoder::new()
        .decode(&without_huffman(&block))
        .expect("RFC block");
    assert_eq!(plain, Decoder::new().decode(&block).expect("RFC block"));

    let start = Instant::now();
    for _ in 0..ROUNDS {
        black_box(Decoder::new().decode(black_box(&block)).expect("RFC block"));
    }
    let by_loona = start.elapsed() / ROUNDS;
    let start = Instant::now();
    for _ in 0..ROUNDS {
        let block = without_huffman(black_box(&block));
        black_box(Decoder::new().decode(&block).expect("RFC block"));
    }
    let by_pcapkit = start.elapsed() / ROUNDS;
    println!(
        "a {}-byte block of {} fields: {by_loona:?} with loona-hpack's Huffman decoder, \
         {by_pcapkit:?} with the strings decoded first",
        block.len(),
        plain.len()
    );
}
