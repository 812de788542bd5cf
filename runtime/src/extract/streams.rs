//! What `pcapkit streams` and `pcapkit follow` print: every TCP connection as one NDJSON
//! line, or one conversation the way `tshark -q -z follow,tcp,ascii|raw,N` prints it.
//! The summaries come from an [`Extractor`](super::Extractor) built with
//! [`connections`](super::ExtractorBuilder::connections) (and
//! [`chunks`](super::ExtractorBuilder::chunks) for `follow`).
//!
//! ```no_run
//! use pcapkit::extract::streams::{connection_json, follow_text, FollowFormat};
//! use pcapkit::Extractor;
//!
//! let extractor = Extractor::builder()
//!     .input("capture.pcap")
//!     .ip(true)
//!     .store(false)
//!     .connections(false)
//!     .chunks(0)
//!     .run()?;
//! for c in extractor.connections() {
//!     println!("{}", connection_json(c));
//! }
//! let text = follow_text(&extractor.connections()[0], FollowFormat::Raw);
//! # Ok::<(), pcapkit::Error>(())
//! ```

use std::fmt;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::str::FromStr;

use super::output::Output;
use super::Error;
use crate::dump::json_string;
use crate::reassembly::tcp::{ChunkData, ConnectionSummary, DirectionSummary};
use crate::value::write_hex;

/// One connection as a JSON object on one line (no newline): `stream`, `a`, `b`,
/// `frames`, `a_to_b` and `b_to_a` (`bytes`, `sha256`, `gaps`, and `payload` in hex when
/// kept), `completed`, `protocol` (a display name, or null).
///
/// ```
/// use pcapkit::extract::streams::connection_json;
/// use pcapkit::flow::Endpoint;
/// use pcapkit::reassembly::tcp::ConnectionSummary;
///
/// let ep = |s: &str| Endpoint { addr: s.parse().unwrap(), port: 80 };
/// let c = ConnectionSummary {
///     stream: 0,
///     a: ep("2001:db8::1"),
///     b: ep("2001:db8::2"),
///     frames: vec![1, 2],
///     a_to_b: Default::default(),
///     b_to_a: Default::default(),
///     completed: false,
///     protocol: None,
///     chunks: Vec::new(),
/// };
/// assert!(connection_json(&c).starts_with(r#"{"stream":0,"a":"[2001:db8::1]:80","#));
/// ```
pub fn connection_json(c: &ConnectionSummary) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(&format!("{{\"stream\":{},\"a\":", c.stream));
    json_string(&mut out, &c.a.to_string());
    out.push_str(",\"b\":");
    json_string(&mut out, &c.b.to_string());
    out.push_str(",\"frames\":[");
    for (i, f) in c.frames.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(itoa::Buffer::new().format(*f));
    }
    out.push_str("],\"a_to_b\":");
    direction_json(&mut out, &c.a_to_b);
    out.push_str(",\"b_to_a\":");
    direction_json(&mut out, &c.b_to_a);
    out.push_str(&format!(",\"completed\":{},\"protocol\":", c.completed));
    match c.protocol {
        Some(p) => json_string(&mut out, p.name()),
        None => out.push_str("null"),
    }
    out.push('}');
    out
}

fn direction_json(out: &mut String, d: &DirectionSummary) {
    out.push_str(&format!("{{\"bytes\":{},\"sha256\":\"", d.bytes));
    write_hex(out, &d.sha256);
    out.push_str(&format!("\",\"gaps\":{}", d.gaps));
    if let Some(p) = &d.payload {
        out.push_str(",\"payload\":\"");
        write_hex(out, p);
        out.push('"');
    }
    out.push('}');
}

/// Writes `connections` as NDJSON to `output` (`-`: standard output); a file is written
/// to a temporary name and renamed into place when complete, as the main command's, and
/// is never the capture `input` they were read from.
pub fn write_ndjson(
    connections: &[ConnectionSummary],
    input: &Path,
    output: &Path,
) -> Result<(), Error> {
    let input_id = std::fs::metadata(input)
        .ok()
        .as_ref()
        .and_then(super::output::FileId::of);
    let name = input.display().to_string();
    let mut out = Output::create(output, None, input_id.map(|id| (id, name.as_str())))?;
    let write_error = |source| Error::Write {
        path: out_name(output),
        source,
    };
    let mut w = BufWriter::with_capacity(1 << 16, out.writer()?);
    for c in connections {
        w.write_all(connection_json(c).as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .map_err(write_error)?;
    }
    w.flush().map_err(write_error)?;
    drop(w);
    out.commit()
}

fn out_name(output: &Path) -> String {
    if output == Path::new("-") {
        "standard output".into()
    } else {
        output.display().to_string()
    }
}

/// How `follow` shows the data, as tshark's `-z follow,tcp,MODE,N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FollowFormat {
    /// Printable ASCII, CR and LF as they are, other bytes as `.`; each chunk preceded
    /// by its length.
    #[default]
    Ascii,
    /// Hex digits, one line a chunk.
    Raw,
}

impl FromStr for FollowFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "ascii" => Ok(FollowFormat::Ascii),
            "raw" => Ok(FollowFormat::Raw),
            _ => Err(format!("unknown follow format `{s}` (known: ascii, raw)")),
        }
    }
}

impl fmt::Display for FollowFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FollowFormat::Ascii => "ascii",
            FollowFormat::Raw => "raw",
        })
    }
}

const SEPARATOR: &str = "===================================================================\n";

/// The conversation as `tshark -q -z follow,tcp,MODE,N` prints it: a separator, the
/// mode, the filter, node 0 (`a`, the source of the first frame) and node 1, then one
/// chunk per segment's worth of in-order data, in delivery order, node 1's indented by
/// a tab; lost bytes are a chunk `[N bytes missing in capture file]` and a NUL, as
/// tshark shows them. Needs the connection's chunks
/// ([`chunks`](super::ExtractorBuilder::chunks)).
pub fn follow_text(c: &ConnectionSummary, format: FollowFormat) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(b'\n');
    out.extend_from_slice(SEPARATOR.as_bytes());
    out.extend_from_slice(
        format!(
            "Follow: tcp,{format}\nFilter: tcp.stream eq {}\nNode 0: {}\nNode 1: {}\n",
            c.stream, c.a, c.b
        )
        .as_bytes(),
    );
    for chunk in &c.chunks {
        let missing;
        let data: &[u8] = match &chunk.data {
            ChunkData::Bytes(b) => b,
            ChunkData::Missing(n) => {
                // tshark's placeholder counts its terminating NUL as data.
                missing = format!("[{n} bytes missing in capture file]\0");
                missing.as_bytes()
            }
        };
        if chunk.from_b {
            out.push(b'\t');
        }
        match format {
            FollowFormat::Ascii => {
                out.extend_from_slice(format!("{}\n", data.len()).as_bytes());
                out.extend(data.iter().map(|&b| match b {
                    b'\r' | b'\n' | 0x20..=0x7e => b,
                    _ => b'.',
                }));
            }
            FollowFormat::Raw => {
                let mut hex = String::with_capacity(data.len() * 2);
                write_hex(&mut hex, data);
                out.extend_from_slice(hex.as_bytes());
            }
        }
        out.push(b'\n');
    }
    out.extend_from_slice(SEPARATOR.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Endpoint;
    use crate::reassembly::tcp::Chunk;

    #[test]
    fn follow_shows_chunks_like_tshark() {
        let ep = |s: &str, port| Endpoint {
            addr: s.parse().unwrap(),
            port,
        };
        let chunk = |from_b, data| Chunk {
            from_b,
            frame: 0,
            data,
        };
        let c = ConnectionSummary {
            stream: 3,
            a: ep("10.0.0.1", 1234),
            b: ep("::1", 80),
            frames: Vec::new(),
            a_to_b: Default::default(),
            b_to_a: Default::default(),
            completed: true,
            protocol: None,
            chunks: vec![
                chunk(false, ChunkData::Bytes(b"GET\r\n\x01".to_vec())),
                chunk(true, ChunkData::Missing(2)),
                chunk(true, ChunkData::Bytes(b"ok\t".to_vec())),
            ],
        };
        let head = format!(
            "\n{SEPARATOR}Follow: tcp,MODE\nFilter: tcp.stream eq 3\nNode 0: 10.0.0.1:1234\nNode 1: [::1]:80\n"
        );
        assert_eq!(
            String::from_utf8(follow_text(&c, FollowFormat::Ascii)).unwrap(),
            format!(
                "{}6\nGET\r\n.\n\t34\n[2 bytes missing in capture file].\n\t3\nok.\n{SEPARATOR}",
                head.replace("MODE", "ascii")
            )
        );
        assert_eq!(
            String::from_utf8(follow_text(&c, FollowFormat::Raw)).unwrap(),
            format!(
                "{}4745540d0a01\n\t5b32206279746573206d697373696e6720696e20636170747572652066696c655d00\n\t6f6b09\n{SEPARATOR}",
                head.replace("MODE", "raw")
            )
        );
    }
}
