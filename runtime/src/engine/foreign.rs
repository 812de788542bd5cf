//! What the third-party engines (etherparse, pnet, tshark) share: their layers and
//! fields, how the `layer` and `protocol` thresholds cut what they report, and the
//! engine that drives a frame-at-a-time decoder over the reader.
//!
//! A backend's layer becomes a [`Layer`] of kind `Raw` named as the backend names it
//! (with our display name where it is one of our protocols), so the frame's chain and
//! offsets are there for every consumer; its fields are in [`Frame::foreign`], one
//! [`ForeignLayer`] per layer, named as ours where they mean the same thing.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{load, Engine, EngineKind, Item, Options};
use crate::chain::{Frame, Layer, LayerKind, Thresholds};
use crate::layer::Level;
use crate::protocols::ProtocolId;
use crate::reader::{CaptureReader, Event};
use crate::value::{BytesDisplay, Value};

/// One layer as a third-party backend decoded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignLayer {
    /// The layer's name: ours (`IPv4`) when it is one of our protocols, else the
    /// backend's (`tshark`'s `data`, `Raw` for bytes left over).
    pub name: &'static str,
    /// Our protocol, when the layer is one.
    pub protocol: Option<ProtocolId>,
    /// Where the header starts in the frame (0 when the backend does not say: tshark).
    pub offset: usize,
    /// Bytes of the header (0 when the backend does not say).
    pub header_len: usize,
    /// The backend's fields, in its order: named as ours where they mean the same
    /// thing (`src`, `ttl`), else as the backend names them (tshark: `ip.src`).
    pub fields: Vec<(Cow<'static, str>, ForeignValue)>,
}

impl ForeignLayer {
    /// A layer with no fields yet.
    pub fn new(
        name: &'static str,
        protocol: Option<ProtocolId>,
        offset: usize,
        len: usize,
    ) -> Self {
        ForeignLayer {
            name,
            protocol,
            offset,
            header_len: len,
            fields: Vec::new(),
        }
    }

    /// Adds a field named as ours.
    pub(crate) fn add(&mut self, name: &'static str, value: ForeignValue) -> &mut Self {
        self.fields.push((Cow::Borrowed(name), value));
        self
    }

    /// The key the output formats give the layer: our protocol's id (`ipv4`) when it is
    /// one of ours, else the backend's name in lower case (tshark's `data`, etherparse's
    /// `igmp`; `raw` for bytes left over).
    pub fn key(&self) -> Cow<'static, str> {
        match self.protocol {
            Some(p) => Cow::Borrowed(p.id()),
            None if self.name.bytes().any(|b| b.is_ascii_uppercase()) => {
                Cow::Owned(self.name.to_ascii_lowercase())
            }
            None => Cow::Borrowed(self.name),
        }
    }

    /// Whether `path` (as `-e` gives it) names the field `field` of a layer keyed `key`:
    /// a field named with a dot is named in full (tshark's `ip.src`), any other after its
    /// layer's key (etherparse's `src` of `ipv4` is `ipv4.src`).
    pub fn names(key: &str, field: &str, path: &str) -> bool {
        if field.contains('.') {
            return path == field;
        }
        path.len() == key.len() + 1 + field.len()
            && path.starts_with(key)
            && path.as_bytes()[key.len()] == b'.'
            && path.ends_with(field)
    }

    /// The first value of a field.
    pub fn field(&self, name: &str) -> Option<&ForeignValue> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// A backend's field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForeignValue {
    /// An unsigned integer or bit range.
    Uint(u64),
    /// A flag.
    Bool(bool),
    /// A MAC address.
    Mac([u8; 6]),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// Bytes (shown in hex).
    Bytes(Vec<u8>),
    /// Text, as the backend gave it (tshark gives every value so).
    Text(String),
}

impl ForeignValue {
    /// The value as the output formats write a native one (bytes in hex), so that both
    /// are written, and escaped, by the same code.
    pub fn as_value(&self) -> Value<'_> {
        match self {
            ForeignValue::Uint(v) => Value::Uint(*v),
            ForeignValue::Bool(b) => Value::Bool(*b),
            ForeignValue::Mac(m) => Value::Mac(*m),
            ForeignValue::Ipv4(a) => Value::Ipv4(*a),
            ForeignValue::Ipv6(a) => Value::Ipv6(*a),
            ForeignValue::Bytes(b) => Value::Bytes(b, BytesDisplay::Hex),
            ForeignValue::Text(t) => Value::Text(t),
        }
    }
}

impl fmt::Display for ForeignValue {
    /// As `tshark -T fields` shows values: decimal, 1/0, colon-separated MACs, hex bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForeignValue::Uint(v) => write!(f, "{v}"),
            ForeignValue::Bool(b) => f.write_str(if *b { "1" } else { "0" }),
            ForeignValue::Mac(m) => write!(
                f,
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            ForeignValue::Ipv4(a) => write!(f, "{a}"),
            ForeignValue::Ipv6(a) => write!(f, "{a}"),
            ForeignValue::Bytes(b) => b.iter().try_for_each(|x| write!(f, "{x:02x}")),
            ForeignValue::Text(t) => f.write_str(t),
        }
    }
}

/// A MAC address from a slice of 6 bytes (else the bytes).
pub(crate) fn mac_or_bytes(b: &[u8]) -> ForeignValue {
    match <[u8; 6]>::try_from(b) {
        Ok(m) => ForeignValue::Mac(m),
        Err(_) => ForeignValue::Bytes(b.to_vec()),
    }
}

/// An IPv4 address from a slice of 4 bytes (else the bytes).
pub(crate) fn ipv4_or_bytes(b: &[u8]) -> ForeignValue {
    match <[u8; 4]>::try_from(b) {
        Ok(a) => ForeignValue::Ipv4(Ipv4Addr::from(a)),
        Err(_) => ForeignValue::Bytes(b.to_vec()),
    }
}

/// Where `part` starts in `whole` (a slice of it), else `whole.len()`.
pub(crate) fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    let start = whole.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    if at >= start && at <= start + whole.len() {
        at - start
    } else {
        whole.len()
    }
}

/// The layer a protocol belongs to; a backend's own protocol counts as the layer of
/// the one before it, or as application above a transport.
fn levels(layers: &[ForeignLayer]) -> impl Iterator<Item = Level> + '_ {
    let mut last = Level::Link;
    layers.iter().map(move |l| {
        let level = match l.protocol {
            Some(p) => p.layer(),
            None if last >= Level::Transport => Level::Application,
            None => last,
        };
        last = level;
        level
    })
}

/// Cuts `layers` where the thresholds stop dissection, as the default engine does: the
/// matching protocol stays, what is above it goes, and (when `cap_len` is known and
/// offsets are) a `Raw` layer stands for its bytes. Returns whether it cut.
pub(crate) fn apply_thresholds(
    layers: &mut Vec<ForeignLayer>,
    thresholds: &Thresholds,
    cap_len: Option<usize>,
) -> bool {
    let mut cut = None;
    for (i, level) in levels(layers).enumerate() {
        if thresholds.layer.is_some_and(|l| level > l) {
            cut = Some((i, layers[i].offset));
            break;
        }
        if thresholds.protocol.is_some() && thresholds.protocol == layers[i].protocol {
            if i + 1 < layers.len() {
                cut = Some((i + 1, layers[i].offset + layers[i].header_len));
            }
            break;
        }
    }
    let Some((at, rest)) = cut else { return false };
    layers.truncate(at);
    if let Some(end) = cap_len {
        if rest < end {
            layers.push(ForeignLayer::new("Raw", None, rest, end - rest));
        }
    }
    true
}

/// Fills `frame.layers` (`Raw` layers named as the backend's, their ranges clamped to
/// the captured bytes) and `frame.foreign` from `layers`.
pub(crate) fn fill_frame(frame: &mut Frame, layers: Vec<ForeignLayer>) {
    let cap = frame.cap_len as usize;
    frame.layers.clear();
    frame.layers.extend(layers.iter().map(|l| {
        let offset = l.offset.min(cap);
        Layer {
            kind: LayerKind::Raw,
            name: l.name,
            offset,
            header_len: l.header_len.min(cap - offset),
            payload_len: 0,
            missing: 0,
            truncated: None,
        }
    }));
    frame.foreign = layers;
}

/// Which of `paths` (as `-e` gives them) `engine`'s backend reports: etherparse and
/// pnet from their lists, tshark from `tshark -G fields`. All of them when the engine
/// is not in this build or tshark cannot be run: starting the engine then says so.
pub(crate) fn backend_has(engine: EngineKind, paths: &[&str]) -> Vec<bool> {
    let listed = |list: &[&str]| -> Vec<bool> { paths.iter().map(|p| list.contains(p)).collect() };
    match engine {
        #[cfg(feature = "etherparse")]
        EngineKind::Etherparse => listed(<super::etherparse::Etherparse as Decoder>::FIELDS),
        #[cfg(feature = "pnet")]
        EngineKind::Pnet => listed(<super::pnet::Pnet as Decoder>::FIELDS),
        #[cfg(feature = "tshark")]
        EngineKind::Tshark => {
            super::tshark::known_fields(paths).unwrap_or_else(|| vec![true; paths.len()])
        }
        _ => {
            let _ = listed;
            vec![true; paths.len()]
        }
    }
}

/// The field paths `-e` takes with `engine`, where the engine lists them (etherparse,
/// pnet); `None` for tshark (its own names, `tshark -G fields`) and our engines.
pub(crate) fn backend_fields(engine: EngineKind) -> Option<&'static [&'static str]> {
    match engine {
        #[cfg(feature = "etherparse")]
        EngineKind::Etherparse => Some(<super::etherparse::Etherparse as Decoder>::FIELDS),
        #[cfg(feature = "pnet")]
        EngineKind::Pnet => Some(<super::pnet::Pnet as Decoder>::FIELDS),
        _ => None,
    }
}

/// Every field name `-e` takes with a third-party engine, in the backend's order: the
/// lists of etherparse and pnet, and for tshark the names `tshark -G fields` prints.
/// `None` for our own engines, whose fields are the specs' (`ProtocolId::fields`).
///
/// # Errors
/// The engine is not in this build, or tshark cannot be run.
pub fn backend_field_names(engine: EngineKind) -> Result<Option<Vec<String>>, String> {
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
    match engine {
        EngineKind::Default | EngineKind::Pipeline | EngineKind::Server => Ok(None),
        #[cfg(feature = "etherparse")]
        EngineKind::Etherparse => Ok(Some(owned(
            <super::etherparse::Etherparse as Decoder>::FIELDS,
        ))),
        #[cfg(feature = "pnet")]
        EngineKind::Pnet => Ok(Some(owned(<super::pnet::Pnet as Decoder>::FIELDS))),
        #[cfg(feature = "tshark")]
        EngineKind::Tshark => super::tshark::field_names().map(Some),
        #[allow(unreachable_patterns)]
        other => {
            let _ = owned;
            Err(format!(
                "this pcapkit was built without the `{}` feature",
                other.name()
            ))
        }
    }
}

/// A frame-at-a-time decoder (etherparse, pnet).
pub(crate) trait Decoder: Send + 'static {
    /// The engine's name, in warnings.
    const NAME: &'static str;
    /// Every field it reports, as `-e` names them (`ipv4.src`: the layer's
    /// [key](ForeignLayer::key), a dot, the field's name).
    const FIELDS: &'static [&'static str];
    /// Whether it decodes `protocol` (the `protocol` threshold is ignored, with a
    /// warning, when it does not).
    fn knows(protocol: ProtocolId) -> bool;
    /// Decodes a frame of `linktype` into `out` (the header layers, then `Raw` for bytes
    /// left over); `notes` gets why it stopped early. `Err(())`: the link type is not
    /// one it decodes.
    fn decode(
        &mut self,
        data: &[u8],
        linktype: u32,
        out: &mut Vec<ForeignLayer>,
        notes: &mut Vec<String>,
    ) -> Result<(), ()>;
}

/// Runs a [`Decoder`] over the reader, on the caller's thread, numbering frames.
pub(crate) struct DecodeEngine<D> {
    reader: CaptureReader,
    decoder: D,
    options: Options,
    count: u64,
    /// Warnings to hand out before the next frame.
    pending: VecDeque<Item>,
    /// Link types already warned about.
    warned: Vec<u32>,
}

impl<D: Decoder> DecodeEngine<D> {
    /// Starts decoding `reader`'s packets with `decoder`.
    pub(crate) fn start(reader: CaptureReader, decoder: D, options: Options) -> Self {
        let mut pending = VecDeque::new();
        if let Some(p) = options.thresholds.protocol {
            if !D::knows(p) {
                pending.push_back(Item::event(Event::Warning(format!(
                    "the {} engine does not decode {}: the protocol threshold is ignored",
                    D::NAME,
                    p.name()
                ))));
            }
        }
        DecodeEngine {
            reader,
            decoder,
            options,
            count: 0,
            pending,
            warned: Vec::new(),
        }
    }
}

impl<D: Decoder> Engine for DecodeEngine<D> {
    fn next_item(&mut self) -> Option<Item> {
        if let Some(item) = self.pending.pop_front() {
            return Some(item);
        }
        let record = match self.reader.next_event()? {
            Event::Packet(record) => record,
            event => return Some(Item::event(event)),
        };
        let data = self.reader.packet();
        let mut frame = Frame::default();
        load(&mut frame, &record, data, self.options.keep_bytes);
        frame.pcapng_options = self.reader.packet_options().map(Box::new);
        self.count += 1;
        frame.number = self.count;
        let mut layers = Vec::new();
        let decoded = self
            .decoder
            .decode(data, record.linktype, &mut layers, &mut frame.notes);
        if decoded.is_err() {
            layers.clear();
            if !data.is_empty() {
                layers.push(ForeignLayer::new("Raw", None, 0, data.len()));
            }
            if !self.warned.contains(&record.linktype) {
                self.warned.push(record.linktype);
                self.pending.push_back(Item::event(Event::Warning(format!(
                    "the {} engine does not decode link type {}: its frames are left Raw",
                    D::NAME,
                    record.linktype
                ))));
            }
        }
        apply_thresholds(&mut layers, &self.options.thresholds, Some(data.len()));
        fill_frame(&mut frame, layers);
        Some(Item::Processed {
            frame: Box::new(frame),
            flow: None,
        })
    }

    fn offset(&self) -> u64 {
        self.reader.offset()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(layers: &[ForeignLayer]) -> Vec<&str> {
        layers.iter().map(|l| l.name).collect()
    }

    fn tcp_frame() -> Vec<ForeignLayer> {
        vec![
            ForeignLayer::new("Ethernet", Some(ProtocolId::Ethernet), 0, 14),
            ForeignLayer::new("IPv4", Some(ProtocolId::Ipv4), 14, 20),
            ForeignLayer::new("TCP", Some(ProtocolId::Tcp), 34, 20),
            ForeignLayer::new("Raw", None, 54, 10),
        ]
    }

    #[test]
    fn a_layer_threshold_keeps_that_layer_and_makes_the_rest_raw() {
        let mut l = tcp_frame();
        let t = Thresholds {
            layer: Some(Level::Internet),
            protocol: None,
            ..Default::default()
        };
        assert!(apply_thresholds(&mut l, &t, Some(64)));
        assert_eq!(chain(&l), ["Ethernet", "IPv4", "Raw"]);
        assert_eq!((l[2].offset, l[2].header_len), (34, 30));
    }

    #[test]
    fn a_protocol_threshold_keeps_the_protocol_and_makes_its_payload_raw() {
        let mut l = tcp_frame();
        let t = Thresholds {
            layer: None,
            protocol: Some(ProtocolId::Ethernet),
            ..Default::default()
        };
        assert!(apply_thresholds(&mut l, &t, Some(64)));
        assert_eq!(chain(&l), ["Ethernet", "Raw"]);
        assert_eq!((l[1].offset, l[1].header_len), (14, 50));
        // Without offsets (tshark), the layers above are only dropped.
        let mut l = tcp_frame();
        assert!(apply_thresholds(&mut l, &t, None));
        assert_eq!(chain(&l), ["Ethernet"]);
    }

    #[test]
    fn unknown_protocols_above_transport_count_as_application() {
        let mut l = tcp_frame();
        l[3] = ForeignLayer::new("tls", None, 54, 10);
        let t = Thresholds {
            layer: Some(Level::Transport),
            protocol: None,
            ..Default::default()
        };
        assert!(apply_thresholds(&mut l, &t, None));
        assert_eq!(chain(&l), ["Ethernet", "IPv4", "TCP"]);
    }
}
