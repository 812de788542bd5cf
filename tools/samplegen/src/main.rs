//! `samplegen`: writes pcapkit's sample captures from scratch, byte by byte.
//!
//! The project ships only captures it generates itself, so their content and
//! licensing are fully known. See README.md for what each capture contains.

mod bench;
mod demo;
mod stateful;
#[cfg(test)]
mod verify;

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

/// Write deterministic pcap captures for testing and benchmarking pcapkit.
///
/// Every byte is built here: no captured traffic, no randomness beyond a fixed
/// seed, so the same command always writes the same file. Captures are classic
/// pcap, little-endian, microsecond timestamps from 2024-01-01T00:00:00Z,
/// link type Ethernet (1). All IPv4 header, TCP, UDP, ICMP and ICMPv6 checksums
/// are correct.
#[derive(Parser, Debug)]
#[command(
    name = "samplegen",
    version,
    after_help = "Examples:\n  samplegen demo samples/demo.pcap\n  \
                  samplegen bench /tmp/bench.pcap --packets 1000000\n  \
                  samplegen reassembly /tmp/reassembly.pcap --packets 100000\n  \
                  samplegen http2 /tmp/http2.pcap --packets 100000\n  \
                  samplegen flood /tmp/flood.pcap --packets 5000000\n  \
                  samplegen doh /tmp/doh.pcap\n  \
                  samplegen tls /tmp/tls.pcap"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write the 44-frame demo capture that exercises the dissectors.
    ///
    /// ARP (plain, 802.1Q-tagged), QinQ, DNS A/AAAA with name compression, a full
    /// HTTP/1.1 TCP conversation on port 80 (SYN options, timestamps, a SACK and a
    /// retransmission), HTTP on non-standard TCP port 8081 (found only by
    /// heuristics), ICMP echo, IPv4 Record Route and Router Alert options, a UDP
    /// datagram in three IPv4 fragments, ICMP port unreachable quoting the
    /// offending header, ICMPv6 echo, and a UDP datagram in two IPv6 fragments
    /// behind Hop-by-Hop, Destination Options and Routing headers.
    Demo {
        /// Output file.
        out: PathBuf,
    },
    /// Write a large benchmark capture with a realistic traffic mix.
    ///
    /// About 60% IPv4/TCP (handshakes with options, timestamps on most segments,
    /// HTTP on port 80, bulk segments of 0..MSS bytes), 30% IPv4/UDP (DNS on 53
    /// and other datagrams), 5% ARP and 5% IPv6 TCP/UDP, spread over many
    /// concurrent flows. About 740 bytes per frame on average (100k frames: ~72 MB).
    Bench {
        /// Output file.
        out: PathBuf,
        /// Number of frames to write.
        #[arg(long, default_value_t = 100_000)]
        packets: u64,
        /// Concurrent IPv4 TCP flows (IPv6 and UDP flow counts scale with it).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        flows: u64,
        /// Generator seed; the same seed always gives the same file.
        #[arg(long, default_value_t = bench::DEFAULT_SEED)]
        seed: u64,
    },
    /// Write a capture for reassembly: HTTP/1.1 transfers of 1..64 KiB spread over many
    /// segments (some out of order, some retransmitted) and fragmented UDP datagrams
    /// (some in reverse order), many at a time.
    Reassembly {
        /// Output file.
        out: PathBuf,
        /// Number of frames to write.
        #[arg(long, default_value_t = 100_000)]
        packets: u64,
        /// Generator seed; the same seed always gives the same file.
        #[arg(long, default_value_t = bench::DEFAULT_SEED)]
        seed: u64,
    },
    /// Write HTTP/2 with prior knowledge (h2c on port 80): many connections at a time,
    /// each with 1..20 requests answered by HEADERS and DATA frames spanning segments,
    /// header blocks HPACK-coded with the dynamic table.
    Http2 {
        /// Output file.
        out: PathBuf,
        /// Number of frames to write.
        #[arg(long, default_value_t = 100_000)]
        packets: u64,
        /// Generator seed; the same seed always gives the same file.
        #[arg(long, default_value_t = bench::DEFAULT_SEED)]
        seed: u64,
    },
    /// Write DNS over HTTPS in cleartext (RFC 8484): HTTP/1.1 POSTs on port 80 (one
    /// body that is not DNS), HTTP/2 with prior knowledge on port 8080 (two streams,
    /// one answer padded), and DNS on UDP and TCP port 5300, which no binding knows
    /// (for `--decode-as udp.port==5300,dns`; over TCP a query split between two
    /// segments). 36 frames.
    Doh {
        /// Output file.
        out: PathBuf,
    },
    /// Write TLS 1.2 handshakes whose messages span several records (RFC 5246 section
    /// 6.2.1): a 20 KB Certificate over two records cut into 1448-byte segments, a
    /// ClientKeyExchange over three records (the first holding 2 bytes of its header), a
    /// ClientHello over two records, and a message claiming 16 MB. 43 frames.
    Tls {
        /// Output file.
        out: PathBuf,
    },
    /// Write a flood that reassembly must survive within its memory budget: fragments of
    /// datagrams that never complete, SYNs from new endpoints, tiny overlapping fragments
    /// and segments far outside the window.
    Flood {
        /// Output file.
        out: PathBuf,
        /// Number of frames to write.
        #[arg(long, default_value_t = 5_000_000)]
        packets: u64,
    },
}

fn create(path: &PathBuf) -> std::io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
}

fn run(cli: Cli) -> std::io::Result<()> {
    match cli.command {
        Command::Demo { out } => {
            let frames = demo::write(create(&out)?)?;
            eprintln!("wrote {frames} frames to {}", out.display());
        }
        Command::Bench {
            out,
            packets,
            flows,
            seed,
        } => {
            let started = Instant::now();
            let cfg = bench::Config {
                packets,
                flows: flows as usize,
                seed,
            };
            let s = bench::generate(create(&out)?, &cfg)?;
            eprintln!(
                "wrote {} frames ({} bytes) to {} in {:.3} s: tcp {}, udp {} (dns {}), arp {}, ipv6 {}",
                s.packets,
                s.bytes,
                out.display(),
                started.elapsed().as_secs_f64(),
                s.tcp,
                s.udp,
                s.dns,
                s.arp,
                s.ipv6
            );
        }
        Command::Reassembly { out, packets, seed } => {
            let n = stateful::reassembly(create(&out)?, packets, seed)?;
            eprintln!("wrote {n} frames to {}", out.display());
        }
        Command::Http2 { out, packets, seed } => {
            let n = stateful::http2(create(&out)?, packets, seed)?;
            eprintln!("wrote {n} frames to {}", out.display());
        }
        Command::Doh { out } => {
            let pcap = pcapkit_testkit::doh::pcap();
            std::fs::write(&out, pcap)?;
            let n = pcapkit_testkit::doh::packets().len();
            eprintln!("wrote {n} frames to {}", out.display());
        }
        Command::Tls { out } => {
            std::fs::write(&out, pcapkit_testkit::tls::pcap())?;
            let n = pcapkit_testkit::tls::packets().len();
            eprintln!("wrote {n} frames to {}", out.display());
        }
        Command::Flood { out, packets } => {
            let n = stateful::flood(create(&out)?, packets)?;
            eprintln!("wrote {n} frames to {}", out.display());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("samplegen: {e}");
            ExitCode::FAILURE
        }
    }
}
