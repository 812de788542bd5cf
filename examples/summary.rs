//! Summarises a capture with the library: frames per protocol chain, the busiest TCP
//! destination ports, and the warnings the reader gave.
//!
//! ```sh
//! cargo run --example summary -- samples/demo.pcap
//! ```

use std::collections::BTreeMap;

use pcapkit::protocols::Header;
use pcapkit::{Extractor, ProtocolId};

fn main() -> Result<(), pcapkit::Error> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "samples/demo.pcap".to_owned());
    // Iterator mode without storing frames: memory stays flat whatever the capture's size.
    let mut extractor = Extractor::builder().input(&path).store(false).build()?;
    let mut chains: BTreeMap<String, u64> = BTreeMap::new();
    let mut ports: BTreeMap<u16, u64> = BTreeMap::new();
    for frame in &mut extractor {
        *chains.entry(frame.protocols()).or_default() += 1;
        if let Some(Header::Tcp(tcp)) = frame.header(ProtocolId::Tcp) {
            *ports.entry(tcp.dstport).or_default() += 1;
        }
    }
    println!("{path}: {} frames", extractor.frame_count());
    for (chain, n) in &chains {
        println!("{n:>8}  {chain}");
    }
    let mut busiest: Vec<_> = ports.into_iter().collect();
    busiest.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (port, n) in busiest.iter().take(5) {
        println!("{n:>8}  TCP segments to port {port}");
    }
    for warning in extractor.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(())
}
