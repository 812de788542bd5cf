//! The tshark engine (PyPCAPKit's `pyshark`, which drives tshark too): runs
//! `tshark -r FILE -T json -n --no-duplicate-keys` as a child process and maps each
//! frame it reports, as its JSON streams in, into the frame envelope: number, time and
//! lengths as tshark gives them, the chain from `frame.protocols` (less the `ethertype`
//! pseudo-protocol; our names where the protocol is one of ours), and each layer's
//! fields as tshark names them (`ip.src`), subtrees flattened, in tshark's order.
//!
//! Our reader reads the file alongside, for what tshark's JSON does not carry (the
//! bytes, link type, pcapng blocks): each tshark frame is paired with the next packet,
//! and a disagreement on the envelope becomes a note on the frame. tshark is looked for
//! as `$PCAPKIT_TSHARK`, else `tshark` on `PATH`.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;
use std::thread::{self, JoinHandle};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::foreign::{apply_thresholds, fill_frame, ForeignLayer, ForeignValue};
use super::{load, Engine, Item, Options};
use crate::chain::{Frame, Timestamp};
use crate::protocols::ProtocolId;
use crate::reader::{CaptureReader, Event};

/// tshark's protocol names for ours, where they differ or coincide: the chain shows
/// ours, and the `protocol` threshold finds tshark's.
const NAMES: &[(&str, ProtocolId)] = &[
    ("eth", ProtocolId::Ethernet),
    ("vlan", ProtocolId::Vlan),
    ("ieee8021ad", ProtocolId::Ieee8021ad),
    ("sll", ProtocolId::Sll),
    ("null", ProtocolId::Null),
    ("loop", ProtocolId::Loop),
    ("llc", ProtocolId::Llc),
    ("mpls", ProtocolId::Mpls),
    ("ppp", ProtocolId::Ppp),
    ("pppoes", ProtocolId::Pppoe),
    ("ip", ProtocolId::Ipv4),
    ("ipv6", ProtocolId::Ipv6),
    ("ipv6.hopopts", ProtocolId::Ipv6Hopopt),
    ("ipv6.routing", ProtocolId::Ipv6Route),
    ("ipv6.fraghdr", ProtocolId::Ipv6Frag),
    ("ipv6.dstopts", ProtocolId::Ipv6Opts),
    ("arp", ProtocolId::Arp),
    ("icmp", ProtocolId::Icmp),
    ("icmpv6", ProtocolId::Icmpv6),
    ("gre", ProtocolId::Gre),
    ("erspan", ProtocolId::Erspan),
    ("ah", ProtocolId::Ah),
    ("esp", ProtocolId::Esp),
    ("ospf", ProtocolId::Ospf),
    ("ipx", ProtocolId::Ipx),
    ("hip", ProtocolId::Hip),
    ("mipv6", ProtocolId::Mh),
    ("tcp", ProtocolId::Tcp),
    ("udp", ProtocolId::Udp),
    ("sctp", ProtocolId::Sctp),
    ("gtp", ProtocolId::Gtp),
    ("l2tp", ProtocolId::L2tp),
    ("teredo", ProtocolId::Teredo),
    ("vxlan", ProtocolId::Vxlan),
    ("geneve", ProtocolId::Geneve),
    ("dhcp", ProtocolId::Dhcp),
    ("dns", ProtocolId::Dns),
    ("ftp", ProtocolId::Ftp),
    ("ftp-data", ProtocolId::FtpData),
    ("http", ProtocolId::Http),
    ("http2", ProtocolId::Http2),
    ("tls", ProtocolId::Tls),
];

/// Fields kept per layer, and subtree depth followed: tshark's trees are bounded, but a
/// hostile capture can make some long (one field per DNS answer, ...).
const MAX_FIELDS: usize = 1024;
const MAX_DEPTH: usize = 16;
/// Distinct tshark protocol names given a static name; past that, `unknown`.
const MAX_NAMES: usize = 4096;
/// Bytes of tshark's standard error kept for a warning.
const MAX_STDERR: usize = 4096;

/// A frame as tshark reports it.
struct TsFrame {
    number: u64,
    time: Timestamp,
    len: u32,
    cap_len: u32,
    layers: Vec<ForeignLayer>,
}

/// Runs tshark on the file, and our reader alongside.
pub(crate) struct TsharkEngine {
    reader: CaptureReader,
    frames: Receiver<Result<TsFrame, String>>,
    child: Child,
    parser: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<String>>,
    options: Options,
    pending: VecDeque<Item>,
    count: u64,
    /// tshark stopped reporting (its error already warned about).
    dry: bool,
}

/// Where tshark is: `$PCAPKIT_TSHARK`, else `tshark` on `PATH`.
fn program() -> std::ffi::OsString {
    std::env::var_os("PCAPKIT_TSHARK").unwrap_or_else(|| "tshark".into())
}

impl TsharkEngine {
    /// Starts tshark on `path`; fails, saying so, when it cannot be run.
    pub(crate) fn start(
        reader: CaptureReader,
        path: &Path,
        options: Options,
    ) -> Result<TsharkEngine, String> {
        let program = program();
        let mut child = Command::new(&program)
            .arg("-r")
            .arg(path)
            .args(["-T", "json", "-n", "--no-duplicate-keys"])
            // Frame by frame, as our engines without --ip/--tcp: no reassembly.
            .args(["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"])
            .args(["-o", "tcp.desegment_tcp_streams:FALSE"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                let name = Path::new(&program).display();
                if e.kind() == std::io::ErrorKind::NotFound {
                    format!(
                        "--engine tshark needs tshark (Wireshark's command-line tool) on PATH, \
                         and `{name}` was not found: install it (Debian: apt install tshark) \
                         or set PCAPKIT_TSHARK to its path"
                    )
                } else {
                    format!("--engine tshark: cannot run `{name}`: {e}")
                }
            })?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        // Frames in flight between the parser and the caller: bounded, as the others.
        let (send, frames) = sync_channel(super::BATCH_FRAMES);
        let parser = thread::Builder::new()
            .name("pcapkit-tshark".into())
            .spawn(move || parse(stdout, &send))
            .map_err(|e| e.to_string())?;
        let stderr = thread::Builder::new()
            .name("pcapkit-tshark-err".into())
            .spawn(move || drain(stderr))
            .map_err(|e| e.to_string())?;
        let mut pending = VecDeque::new();
        if let Some(p) = options.thresholds.protocol {
            if !NAMES.iter().any(|(_, q)| *q == p) {
                pending.push_back(Item::event(Event::Warning(format!(
                    "the tshark engine does not know tshark's name for {}: the protocol \
                     threshold is ignored",
                    p.name()
                ))));
            }
        }
        Ok(TsharkEngine {
            reader,
            frames,
            child,
            parser: Some(parser),
            stderr: Some(stderr),
            options,
            pending,
            count: 0,
            dry: false,
        })
    }

    /// tshark's exit, as a warning when it failed.
    fn finish(&mut self) -> Option<String> {
        let stderr = self.stderr.take()?;
        if let Some(p) = self.parser.take() {
            let _ = p.join();
        }
        let status = self.child.wait().ok();
        let text = stderr.join().unwrap_or_default();
        let text = text
            .lines()
            .filter(|l| !l.starts_with("Running as user"))
            .collect::<Vec<_>>()
            .join("; ");
        match status {
            Some(s) if s.success() => None,
            Some(s) => Some(format!("tshark exited with {s}: {text}")),
            None => Some("tshark could not be waited for".into()),
        }
    }
}

impl Engine for TsharkEngine {
    fn next_item(&mut self) -> Option<Item> {
        if let Some(item) = self.pending.pop_front() {
            return Some(item);
        }
        let record = match self.reader.next_event() {
            None => {
                let mut extra = 0u64;
                while let Ok(Ok(_)) = self.frames.try_recv() {
                    extra += 1;
                }
                if extra > 0 {
                    self.pending.push_back(Item::event(Event::Warning(format!(
                        "tshark reported frames past the {} pcapkit read",
                        self.count
                    ))));
                }
                if let Some(w) = self.finish() {
                    self.pending.push_back(Item::event(Event::Warning(w)));
                }
                return self.pending.pop_front();
            }
            Some(Event::Packet(record)) => record,
            Some(event) => return Some(Item::event(event)),
        };
        let data = self.reader.packet();
        let mut frame = Frame::default();
        load(&mut frame, &record, data, self.options.keep_bytes);
        frame.pcapng_options = self.reader.packet_options().map(Box::new);
        self.count += 1;
        frame.number = self.count;
        let reported = if self.dry {
            None
        } else {
            match self.frames.recv() {
                Ok(Ok(f)) => Some(f),
                Ok(Err(e)) => {
                    self.dry = true;
                    self.pending.push_back(Item::event(Event::Warning(format!(
                        "tshark's output could not be read from frame {}: {e}",
                        self.count
                    ))));
                    None
                }
                Err(_) => {
                    self.dry = true;
                    let why = self.finish().unwrap_or_else(|| "it ended".into());
                    self.pending.push_back(Item::event(Event::Warning(format!(
                        "tshark reported nothing from frame {} on: {why}",
                        self.count
                    ))));
                    None
                }
            }
        };
        let Some(mut f) = reported else {
            frame.notes.push("tshark did not report this frame".into());
            fill_frame(&mut frame, Vec::new());
            return Some(Item::Processed {
                frame: Box::new(frame),
                flow: None,
            });
        };
        let ours = (frame.number, frame.timestamp, frame.len, frame.cap_len);
        let theirs = (f.number, f.time, f.len, f.cap_len);
        if ours != theirs {
            frame.notes.push(format!(
                "tshark reports frame {} at {} with {} bytes ({} captured); the capture's \
                 record is frame {} at {} with {} bytes ({} captured)",
                f.number, f.time, f.len, f.cap_len, ours.0, ours.1, ours.2, ours.3
            ));
        }
        frame.number = f.number;
        frame.timestamp = f.time;
        frame.len = f.len;
        frame.cap_len = f.cap_len;
        apply_thresholds(&mut f.layers, &self.options.thresholds, None);
        fill_frame(&mut frame, f.layers);
        Some(Item::Processed {
            frame: Box::new(frame),
            flow: None,
        })
    }

    fn offset(&self) -> u64 {
        self.reader.offset()
    }
}

/// Which of `paths` are tshark's field names (`F` lines of `tshark -G fields`: some
/// 230 000 of them); `None` when tshark cannot be run.
pub(crate) fn known_fields(paths: &[&str]) -> Option<Vec<bool>> {
    let names: std::collections::HashSet<String> = field_names().ok()?.into_iter().collect();
    Some(paths.iter().map(|p| names.contains(*p)).collect())
}

/// Every field name `tshark -G fields` prints, in its order.
pub(crate) fn field_names() -> Result<Vec<String>, String> {
    let program = program();
    let name = Path::new(&program).display().to_string();
    let out = Command::new(&program)
        .args(["-G", "fields"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{name}` (tshark, or $PCAPKIT_TSHARK): {e}"))?;
    if !out.status.success() {
        return Err(format!("`{name} -G fields` failed: {}", out.status));
    }
    Ok(out
        .stdout
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let mut parts = line.split(|&b| b == b'\t');
            (parts.next() == Some(b"F")).then_some(())?;
            Some(String::from_utf8_lossy(parts.nth(1)?).into_owned())
        })
        .collect())
}

impl Drop for TsharkEngine {
    fn drop(&mut self) {
        // Stopped early (an error, an interrupted run): tshark is not left behind.
        if self.stderr.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Keeps the start of tshark's standard error.
fn drain(stderr: ChildStderr) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    let mut stderr = stderr;
    while let Ok(n) = stderr.read(&mut buf) {
        if n == 0 {
            break;
        }
        let room = MAX_STDERR.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Reads tshark's JSON array one frame at a time, sending each as it is read.
fn parse(stdout: impl Read, send: &SyncSender<Result<TsFrame, String>>) {
    struct Frames<'a> {
        send: &'a SyncSender<Result<TsFrame, String>>,
        sent: &'a mut u64,
    }
    impl<'de> Visitor<'de> for Frames<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("tshark's JSON array of frames")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(v) = seq.next_element::<Json>()? {
                *self.sent += 1;
                if self.send.send(frame(&v)).is_err() {
                    // The caller is gone.
                    return Ok(());
                }
            }
            Ok(())
        }
    }
    let mut sent = 0;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, stdout));
    let result = (&mut de).deserialize_seq(Frames {
        send,
        sent: &mut sent,
    });
    if let Err(e) = result {
        // A capture without frames gives no output at all.
        if !(e.is_eof() && sent == 0) {
            let _ = send.send(Err(e.to_string()));
        }
    }
}

/// A JSON value as tshark writes it, objects' members in tshark's order (serde_json's
/// `Value` would sort them): numbers and text as text, `true`, `false` and `null` as
/// nothing.
#[derive(Debug)]
enum Json {
    Text(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
    Nothing,
}

impl Json {
    /// An object's first member named `key`.
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Text(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::Text(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Text(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Text(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
                Ok(Json::Text(v.to_string()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
                Ok(Json::Nothing)
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Nothing)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Json::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(kv) = map.next_entry()? {
                    out.push(kv);
                }
                Ok(Json::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// One element of tshark's array as a frame.
fn frame(v: &Json) -> Result<TsFrame, String> {
    let layers = v
        .get("_source")
        .and_then(|s| s.get("layers"))
        .filter(|l| matches!(l, Json::Object(_)))
        .ok_or("a frame without `_source.layers`")?;
    let f = layers
        .get("frame")
        .filter(|l| matches!(l, Json::Object(_)))
        .ok_or("a frame without its `frame` layer")?;
    let text = |k: &str| f.get(k).and_then(Json::as_str).unwrap_or_default();
    let number = text("frame.number")
        .parse()
        .map_err(|_| "no frame.number")?;
    let time = epoch(text("frame.time_epoch")).ok_or("no frame.time_epoch")?;
    let len = text("frame.len").parse().unwrap_or(0);
    let cap_len = text("frame.cap_len").parse().unwrap_or(0);
    let mut seen: Vec<(&str, usize)> = Vec::new();
    let mut out = Vec::new();
    for name in text("frame.protocols").split(':') {
        // A dissector table tshark lists as if it were a protocol.
        if name == "ethertype" || name.is_empty() {
            continue;
        }
        let nth = match seen.iter_mut().find(|(n, _)| *n == name) {
            Some((_, k)) => {
                *k += 1;
                *k
            }
            None => {
                seen.push((name, 0));
                0
            }
        };
        let (display, protocol) = match NAMES.iter().find(|(t, _)| *t == name) {
            Some((_, p)) => (p.name(), Some(*p)),
            None => (intern(name), None),
        };
        let mut layer = ForeignLayer::new(display, protocol, 0, 0);
        // With --no-duplicate-keys a protocol met twice is an array of its layers.
        let fields = match layers.get(name) {
            Some(Json::Array(a)) => a.get(nth),
            Some(o) if nth == 0 => Some(o),
            _ => None,
        };
        if let Some(fields) = fields {
            flatten(None, fields, 0, &mut layer.fields);
        }
        out.push(layer);
    }
    Ok(TsFrame {
        number,
        time,
        len,
        cap_len,
        layers: out,
    })
}

/// A layer's fields, subtrees (`ip.flags_tree`) and repeated fields flattened in order.
fn flatten(
    key: Option<&str>,
    v: &Json,
    depth: usize,
    out: &mut Vec<(std::borrow::Cow<'static, str>, ForeignValue)>,
) {
    if out.len() >= MAX_FIELDS || depth > MAX_DEPTH {
        return;
    }
    match v {
        Json::Object(m) => {
            for (k, v) in m {
                flatten(Some(k), v, depth + 1, out);
            }
        }
        Json::Array(a) => {
            for v in a {
                flatten(key, v, depth + 1, out);
            }
        }
        Json::Text(s) => {
            if let Some(k) = key {
                out.push((k.to_owned().into(), ForeignValue::Text(s.clone())));
            }
        }
        Json::Nothing => {}
    }
}

/// `1084443427.311224000` (tshark's `frame.time_epoch`; negative before 1970).
fn epoch(s: &str) -> Option<Timestamp> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (secs, frac) = s.split_once('.').unwrap_or((s, "0"));
    let secs: i64 = secs.parse().ok()?;
    let digits = frac.get(..frac.len().min(9))?;
    let mut nanos: u32 = digits.parse().ok()?;
    nanos *= 10u32.pow(9 - digits.len() as u32);
    Some(match (neg, nanos) {
        (false, _) => Timestamp { secs, nanos },
        (true, 0) => Timestamp {
            secs: -secs,
            nanos: 0,
        },
        (true, n) => Timestamp {
            secs: -secs - 1,
            nanos: 1_000_000_000 - n,
        },
    })
}

/// A static name for a tshark protocol name (a few hundred at most in practice).
fn intern(name: &str) -> &'static str {
    static NAMES_SEEN: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut seen = NAMES_SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let seen = seen.get_or_insert_with(HashSet::new);
    if let Some(n) = seen.get(name) {
        return n;
    }
    if seen.len() >= MAX_NAMES {
        return "unknown";
    }
    let n: &'static str = Box::leak(name.to_owned().into_boxed_str());
    seen.insert(n);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_parse_as_tshark_prints_them() {
        assert_eq!(
            epoch("1084443427.311224000"),
            Some(Timestamp {
                secs: 1_084_443_427,
                nanos: 311_224_000
            })
        );
        assert_eq!(
            epoch("-1.500000000"),
            Some(Timestamp {
                secs: -2,
                nanos: 500_000_000
            })
        );
        assert_eq!(
            epoch("12.5"),
            Some(Timestamp {
                secs: 12,
                nanos: 500_000_000
            })
        );
        assert_eq!(epoch("x"), None);
    }

    #[test]
    fn a_frame_maps_its_chain_and_fields() {
        let v: Json = serde_json::from_str(
            r#"{"_source":{"layers":{
                "frame":{"frame.number":"3","frame.time_epoch":"1.000000001",
                         "frame.len":"70","frame.cap_len":"60",
                         "frame.protocols":"eth:ethertype:ip:ip:udp:data"},
                "eth":{"eth.dst":"fe:ff:20:00:01:00","eth.type":"0x0800"},
                "ip":[{"ip.src":"10.0.0.1","ip.flags_tree":{"ip.flags.df":"1"}},
                      {"ip.src":"10.0.0.2"}],
                "udp":{"udp.srcport":"53"},
                "data":{"data.len":"4"}}}}"#,
        )
        .unwrap();
        let f = frame(&v).unwrap();
        assert_eq!((f.number, f.len, f.cap_len), (3, 70, 60));
        assert_eq!(f.time, Timestamp { secs: 1, nanos: 1 });
        let names: Vec<_> = f.layers.iter().map(|l| l.name).collect();
        assert_eq!(names, ["Ethernet", "IPv4", "IPv4", "UDP", "data"]);
        assert_eq!(
            f.layers[1].field("ip.flags.df"),
            Some(&ForeignValue::Text("1".into()))
        );
        assert_eq!(
            f.layers[2].field("ip.src"),
            Some(&ForeignValue::Text("10.0.0.2".into()))
        );
        // In tshark's order, not sorted (`ip.flags_tree` sorts before `ip.src`).
        let fields: Vec<&str> = f.layers[1].fields.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(fields, ["ip.src", "ip.flags.df"]);
        let empty: Json = serde_json::from_str(r#"{"_source": {}}"#).unwrap();
        assert!(frame(&empty).is_err());
    }
}
