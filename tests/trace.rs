//! The flow tracer (`--trace`) on captures built here: each trace file, read back, holds
//! exactly its connection's original records (bytes, lengths, times at the chosen
//! resolution) in the chosen container and byte order; the index; flow ends; one-way
//! traces; dissection traces; thousands of connections under a low descriptor limit; and
//! the directory's safety rules.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use pcapkit::reader::{ByteOrder, CaptureInfo};
use pcapkit::{Extractor, Frame};
use serde_json::Value;

/// A record of the test capture: its frame number (from 1), connection (`None`: UDP),
/// and bytes.
struct Sent {
    conn: Option<usize>,
    data: Vec<u8>,
}

/// Three TCP connections interleaved with UDP: one closed by a FIN exchange, one reset,
/// one still open at the end; the IPv6 one checks file names.
fn capture() -> Vec<Sent> {
    let mut a = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:80");
    a.handshake()
        .send(true, b"GET / HTTP/1.0\r\n\r\n")
        .send(false, b"HTTP/1.0 200 OK\r\n\r\nhi");
    let mut b = TcpConversation::new("[2001:db8::1]:40001", "[2001:db8::2]:443");
    b.handshake().send(true, &[0x16; 40]);
    let mut c = TcpConversation::new("10.0.0.3:40002", "10.0.0.2:22");
    c.handshake().send(false, b"SSH-2.0-x\r\n");
    // Interleave: a's handshake, b's, c's, then data, then a's close and b's reset.
    let mut out = Vec::new();
    take(&mut a, 0, 3, &mut out);
    take(&mut b, 1, 3, &mut out);
    out.push(Sent {
        conn: None,
        data: eth_ipv4_udp(9, b"not tcp"),
    });
    take(&mut c, 2, 3, &mut out);
    take(&mut a, 0, 2, &mut out);
    take(&mut b, 1, 1, &mut out);
    take(&mut c, 2, 1, &mut out);
    a.close();
    take(&mut a, 0, 3, &mut out);
    let rst = b.segment(true, RST | ACK, b"");
    out.push(Sent {
        conn: Some(1),
        data: eth(&rst),
    });
    out
}

/// Moves the first `n` packets of connection `id` into the capture.
fn take(conn: &mut TcpConversation, id: usize, n: usize, out: &mut Vec<Sent>) {
    for p in conn.packets.drain(..n) {
        out.push(Sent {
            conn: Some(id),
            data: eth(&p),
        });
    }
}

fn eth(ip: &[u8]) -> Vec<u8> {
    let ethertype = if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 };
    ethernet(MAC_B, MAC_A, ethertype, ip)
}

/// The capture as a microsecond pcap: frame i at 1700000000 s + i ms + 7 µs, its wire
/// length 4 bytes more than captured for frame 2 (cut by a snapshot length).
fn pcap(sent: &[Sent]) -> Vec<u8> {
    let records: Vec<PcapRecord> = sent
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut r = PcapRecord::new(1_700_000_000, i as u32 * 1000 + 7, s.data.clone());
            if i == 1 {
                r.orig_len += 4;
            }
            r
        })
        .collect();
    pcap_file(1, &records)
}

/// Every record of a capture file, as pcapkit's reader gives them.
fn read(path: &Path) -> (CaptureInfo, Vec<Frame>) {
    let ex = Extractor::builder()
        .input(path)
        .layer(pcapkit::Level::Link)
        .run()
        .unwrap_or_else(|e| panic!("{} reads back: {e}", path.display()));
    assert!(ex.warnings().is_empty(), "{:?}", ex.warnings());
    (ex.info().clone(), ex.frames().to_vec())
}

fn index(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("index.ndjson"))
        .expect("index.ndjson")
        .lines()
        .map(|l| serde_json::from_str(l).expect("an index line is JSON"))
        .collect()
}

fn trace(input: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        input.as_os_str(),
        "--nofile".as_ref(),
        "--trace-out".as_ref(),
        dir.as_os_str(),
    ];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    run(all)
}

#[test]
fn pcap_and_pcapng_traces_hold_each_connections_records_in_both_orders_and_resolutions() {
    let sent = capture();
    let tmp = tempfile::tempdir().unwrap();
    let micro = write_file(tmp.path(), "micro.pcap", &pcap(&sent));
    // The same capture in nanoseconds, 789 ns past each microsecond.
    let nano = write_file(tmp.path(), "nano.pcap", &to_nanosecond(&pcap(&sent), 789));
    let (_, originals) = read(&nano);
    assert_eq!(originals.len(), sent.len());
    for input in [&micro, &nano] {
        let input_nanos = input == &nano;
        for container in ["pcap", "pcapng"] {
            for order in ["little", "big"] {
                for nanosecond in [false, true] {
                    let dir: PathBuf = tmp
                        .path()
                        .join(format!("{input_nanos}-{container}-{order}-{nanosecond}"));
                    let mut args = vec!["--trace-format", container, "--trace-byteorder", order];
                    if nanosecond {
                        args.push("--trace-nanosecond");
                    }
                    ok(&trace(input, &dir, &args));
                    let flows = index(&dir);
                    assert_eq!(flows.len(), 3, "three TCP connections");
                    for (conn, flow) in flows.iter().enumerate() {
                        let file = dir.join(flow["file"].as_str().unwrap());
                        assert!(file.to_string_lossy().ends_with(container));
                        let bytes = std::fs::read(&file).unwrap();
                        // The container's byte order, from its magic number.
                        let magic = if container == "pcap" {
                            &bytes[..4]
                        } else {
                            &bytes[8..12]
                        };
                        let big = matches!(magic, [0xa1, 0xb2, ..] | [0x1a, 0x2b, ..]);
                        assert_eq!(big, order == "big", "{}", file.display());
                        let (info, frames) = read(&file);
                        if let CaptureInfo::Pcap(h) = &info {
                            assert_eq!(h.nanosecond, nanosecond);
                            let want = if order == "big" {
                                ByteOrder::Big
                            } else {
                                ByteOrder::Little
                            };
                            assert_eq!(h.byte_order, want);
                        }
                        let want: Vec<(usize, &Sent)> = sent
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| s.conn == Some(conn))
                            .collect();
                        assert_eq!(frames.len(), want.len(), "{}", file.display());
                        for (got, (i, s)) in frames.iter().zip(&want) {
                            let original = &originals[*i];
                            assert_eq!(got.data, s.data, "same bytes");
                            assert_eq!(got.linktype, 1);
                            assert_eq!(got.len, original.len, "same wire length");
                            let mut time = original.timestamp;
                            if !input_nanos {
                                time.nanos -= time.nanos % 1000; // the µs input has no 789 ns
                            }
                            if !nanosecond {
                                time.nanos -= time.nanos % 1000; // cut, never rounded
                            }
                            assert_eq!(got.timestamp, time, "frame {}", i + 1);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn the_index_lists_flows_their_frames_and_how_they_ended() {
    let sent = capture();
    let tmp = tempfile::tempdir().unwrap();
    let input = write_file(tmp.path(), "in.pcap", &pcap(&sent));
    let dir = tmp.path().join("flows");
    let out = trace(&input, &dir, &[]);
    assert!(
        stderr(&out).contains("3 TCP flows traced into"),
        "{}",
        stderr(&out)
    );
    let flows = index(&dir);
    let ends: Vec<&str> = flows.iter().map(|f| f["end"].as_str().unwrap()).collect();
    assert_eq!(ends, ["fin", "rst", "capture"]);
    for (conn, flow) in flows.iter().enumerate() {
        let want: Vec<u64> = (1..)
            .zip(&sent)
            .filter(|(_, s)| s.conn == Some(conn))
            .map(|(n, _)| n)
            .collect();
        let frames: Vec<u64> = flow["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        assert_eq!(frames, want);
        assert_eq!(flow["stream"], conn as u64);
        assert_eq!(flow["packets"], want.len() as u64);
        let bytes: usize = want.iter().map(|&n| sent[n as usize - 1].data.len()).sum();
        assert_eq!(flow["bytes"], bytes as u64);
        let wire = bytes + if want.contains(&2) { 4 } else { 0 };
        assert_eq!(flow["wire_bytes"], wire as u64);
        assert_eq!(flow["one_way"], false);
    }
    assert_eq!(flows[0]["a"], "10.0.0.1:40000");
    assert_eq!(flows[0]["b"], "10.0.0.2:80");
    assert_eq!(flows[0]["first"], "1700000000.000007000");
    assert_eq!(flows[1]["a"], "[2001:db8::1]:40001");
    // Named so that any file system takes it: no colon.
    let name = flows[1]["file"].as_str().unwrap();
    assert_eq!(
        name,
        "000001_2001-db8--1_40001_2001-db8--2_443_20231114T221320.003007Z.pcap"
    );
    let mut listed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    let mut want: Vec<String> = flows
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_owned())
        .collect();
    want.push("index.ndjson".into());
    want.sort();
    assert_eq!(listed, want, "the flows' files and the index, nothing else");
}

#[test]
fn one_way_traces_a_file_per_direction() {
    let sent = capture();
    let tmp = tempfile::tempdir().unwrap();
    let input = write_file(tmp.path(), "in.pcap", &pcap(&sent));
    let dir = tmp.path().join("flows");
    ok(&trace(&input, &dir, &["--trace-direction", "one-way"]));
    let flows = index(&dir);
    // Connection 0 both ways, 1 both ways (the server answered the handshake), 2 both.
    assert_eq!(flows.len(), 6);
    let (_, originals) = read(&input);
    for flow in &flows {
        assert_eq!(flow["one_way"], true);
        let (_, frames) = read(&dir.join(flow["file"].as_str().unwrap()));
        let numbers: Vec<usize> = flow["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(frames.len(), numbers.len());
        let a = flow["a"].as_str().unwrap();
        for (f, n) in frames.iter().zip(&numbers) {
            assert_eq!(f.data, originals[n - 1].data);
            // Every frame of a one-way flow goes from its `a`.
            let data = &f.data;
            let src = if data[12..14] == [0x86, 0xdd] {
                let v6: [u8; 16] = data[22..38].try_into().unwrap();
                format!("[{}]:", std::net::Ipv6Addr::from(v6))
            } else {
                format!(
                    "{}:",
                    std::net::Ipv4Addr::new(data[26], data[27], data[28], data[29])
                )
            };
            assert!(a.starts_with(&src), "frame {n} goes from {a}");
        }
    }
}

#[test]
fn json_traces_hold_the_main_outputs_frames_under_their_numbers() {
    let sent = capture();
    let tmp = tempfile::tempdir().unwrap();
    let input = write_file(tmp.path(), "in.pcap", &pcap(&sent));
    let main: Value = serde_json::from_str(&ok(&run([
        input.as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
    ])))
    .unwrap();
    for format in ["json", "ndjson", "plist", "tree"] {
        let dir = tmp.path().join(format);
        ok(&trace(&input, &dir, &["--trace-format", format]));
        let flows = index(&dir);
        for flow in &flows {
            let numbers: Vec<u64> = flow["frames"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap())
                .collect();
            let file = dir.join(flow["file"].as_str().unwrap());
            let text = std::fs::read_to_string(&file).unwrap();
            match format {
                "json" => {
                    let doc: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(doc["Global Header"], main["Global Header"]);
                    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
                    assert_eq!(keys.len(), numbers.len() + 1, "the header and its frames");
                    for n in &numbers {
                        let key = format!("Frame {n}");
                        assert_eq!(doc[&key], main[&key], "{key}");
                    }
                }
                "ndjson" => {
                    let lines: Vec<Value> = text
                        .lines()
                        .map(|l| serde_json::from_str(l).unwrap())
                        .collect();
                    let got: Vec<u64> = lines
                        .iter()
                        .map(|l| l["number"].as_u64().expect("a frame number"))
                        .collect();
                    assert_eq!(got, numbers);
                }
                "plist" => {
                    let doc = plist::Value::from_file(&file).expect("a plist");
                    let dict = doc.as_dictionary().unwrap();
                    for n in &numbers {
                        assert!(dict.contains_key(&format!("Frame {n}")));
                    }
                    assert_eq!(dict.len(), numbers.len() + 1);
                }
                _ => {
                    let heads: Vec<&str> =
                        text.lines().filter(|l| l.starts_with("Frame ")).collect();
                    let want: Vec<String> = numbers.iter().map(|n| format!("Frame {n}")).collect();
                    assert_eq!(heads, want);
                }
            }
        }
    }
}

#[test]
fn tracing_leaves_the_main_output_as_it_was() {
    let sent = capture();
    let tmp = tempfile::tempdir().unwrap();
    let input = write_file(tmp.path(), "in.pcap", &pcap(&sent));
    let plain = ok(&run([input.as_os_str(), "-f".as_ref(), "json".as_ref()]));
    let dir = tmp.path().join("flows");
    let traced = ok(&run([
        input.as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
        "--trace-out".as_ref(),
        dir.as_os_str(),
    ]));
    assert_eq!(plain, traced);
    assert_eq!(index(&dir).len(), 3);
}

#[test]
fn twenty_thousand_concurrent_connections_under_a_low_descriptor_limit() {
    const CONNECTIONS: u32 = 20_000;
    // Every connection opens before any closes: each SYN, then each SYN-ACK, then each
    // ACK with data, so all 20 000 are open at once.
    let mut records = Vec::new();
    let mut t = 0u32;
    for (flags, from_client) in [(SYN, true), (SYN | ACK, false), (PSH | ACK, true)] {
        for i in 0..CONNECTIONS {
            let client: std::net::SocketAddr =
                format!("10.{}.{}.1:{}", i / 250, i % 250, 1024 + i % 60000)
                    .parse()
                    .unwrap();
            let server: std::net::SocketAddr = "192.0.2.80:80".parse().unwrap();
            let (src, dst) = if from_client {
                (client, server)
            } else {
                (server, client)
            };
            let payload: &[u8] = if flags & PSH != 0 { b"x" } else { b"" };
            let p = ip_tcp(src, dst, 1000 + u32::from(!from_client), 0, flags, payload);
            records.push(PcapRecord::new(
                1_700_000_000 + t / 1_000_000,
                t % 1_000_000,
                eth(&p),
            ));
            t += 1;
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let input = write_file(tmp.path(), "many.pcap", &pcap_file(1, &records));
    let dir = tmp.path().join("flows");
    // 40 descriptors in all, standard ones and the input's included.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 40 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_pcapkit"))
        .arg(&input)
        .args(["--nofile", "--trace-out"])
        .arg(&dir)
        .output()
        .unwrap();
    ok(&out);
    let flows = index(&dir);
    assert_eq!(flows.len(), CONNECTIONS as usize);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        CONNECTIONS as usize + 1
    );
    for flow in flows.iter().step_by(997) {
        let (_, frames) = read(&dir.join(flow["file"].as_str().unwrap()));
        assert_eq!(frames.len(), 3, "{}", flow["file"]);
        assert_eq!(flow["end"], "capture");
    }
}

#[test]
fn a_trace_directory_must_be_new_or_empty_and_hold_no_output() {
    let sent = capture();
    let tmp = tempfile::tempdir().unwrap();
    let input = write_file(tmp.path(), "in.pcap", &pcap(&sent));
    let dir = tmp.path().join("flows");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), b"mine").unwrap();
    let out = trace(&input, &dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--trace needs a new or empty directory"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(dir.join("keep.txt")).unwrap(), b"mine");

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = run([
        input.as_os_str(),
        "-o".as_ref(),
        empty.join("out.json").as_os_str(),
        "--trace-out".as_ref(),
        empty.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("must not lie one in the other"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "nothing written"
    );
    let leftovers = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".pcapkit-")
        })
        .count();
    assert_eq!(leftovers, 0, "no temporary directory left behind");
}

#[test]
fn the_library_calls_back_as_flows_end_and_gives_the_index() {
    let sent = capture();
    let tmp = tempfile::tempdir().unwrap();
    let input = write_file(tmp.path(), "in.pcap", &pcap(&sent));
    let dir = tmp.path().join("flows");
    let ended = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&ended);
    let ex = Extractor::builder()
        .input(&input)
        .store(false)
        .trace_output(&dir)
        .trace_format(pcapkit::trace::TraceFormat::Pcapng)
        .on_flow_closed(move |f| {
            seen.lock().unwrap().push((
                f.stream,
                f.end.map(|e| e.name()),
                *f.frames.last().unwrap(),
            ))
        })
        .run()
        .unwrap();
    assert_eq!(ex.trace_path(), Some(dir.as_path()));
    let by_stream: BTreeMap<u64, usize> = ex
        .trace()
        .iter()
        .map(|f| (f.stream, f.frames.len()))
        .collect();
    assert_eq!(by_stream, BTreeMap::from([(0, 8), (1, 5), (2, 4)]));
    // In the order they ended: a's FIN exchange at its last ACK (frame 17), b's RST
    // (frame 18), c at the end of the capture.
    assert_eq!(
        *ended.lock().unwrap(),
        [
            (0, Some("fin"), 17),
            (1, Some("rst"), 18),
            (2, Some("capture"), 14)
        ]
    );
}
