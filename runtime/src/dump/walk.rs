//! One walk of a capture's headers and frames, many writers: the walk decides what is
//! shown and in which order (PyPCAPKit's layout: `Global Header`, `Frame 1`, ... with
//! layers nested in chain order; pcapng sections, interfaces and metadata blocks as
//! entries of their own, block options as `options` lists); a [`TreeWriter`] only decides how a dictionary, a list
//! and a value look (JSON, plist, an indented text tree).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use super::{Dumper, Render};
use crate::chain::{Frame, Layer, LayerKind, Reassembled, Timestamp};
use crate::engine::ForeignValue;
use crate::protocols::ProtocolId;
use crate::reader::pcapng_meta::{
    CustomBlock, DecryptionSecrets, InterfaceStatistics, NameResolution, OptionIter, OptionValue,
    RecordValue,
};
use crate::reader::{CaptureInfo, Interface, Metadata, Section};
use crate::value::{BytesDisplay, FieldInfo, Value, Visitor};

/// One leaf of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf<'a> {
    /// A typed value (raw bytes are `Value::Bytes(_, BytesDisplay::Hex)`).
    Value(Value<'a>),
    /// Nothing: the open end of a hole that reaches past what was received.
    Null,
    /// A frame's capture time (JSON shows it as ISO 8601 text, plist as a `<date>`).
    Time(Timestamp),
}

/// Receives the tree events of a walk. `key` is `None` for an element of a list (and for
/// a root dictionary); every `open_*` is matched by a `close_*` of the same kind.
pub trait TreeWriter {
    /// A dictionary starts.
    fn open_dict(&mut self, key: Option<&str>);
    /// A list starts.
    fn open_list(&mut self, key: Option<&str>);
    /// A value.
    fn leaf(&mut self, key: Option<&str>, leaf: Leaf<'_>);
    /// The dictionary opened last ends.
    fn close_dict(&mut self);
    /// The list opened last ends.
    fn close_list(&mut self);
}

/// A writer of a whole document, whose text is taken after each top-level entry.
pub trait DocumentWriter: TreeWriter {
    /// The document's opening (`{`, the plist prologue); called once, first.
    fn begin(&mut self);
    /// A top-level entry is complete (a frame): the writer may lay it out now.
    fn entry_done(&mut self) {}
    /// The document's closing; called once, last.
    fn end(&mut self);
    /// The text written so far and not yet taken; the dumper writes and clears it.
    fn text(&mut self) -> &mut String;
    /// A renderer of frames as entries of this document on another thread (see
    /// [`Dumper::renderer`]), asked between entries; `None` (the default): the format
    /// cannot.
    fn renderer(&self, _nanosecond: bool) -> Option<Box<dyn Render>> {
        None
    }
    /// Before an entry made by a [renderer](Self::renderer): what the renderer leaves out
    /// because it depends on the entries before (JSON's comma).
    fn join(&mut self) {}
}

/// Renders frames as top-level entries (`Frame N`), each with a copy of `template`: a
/// writer in the document's state between entries, with no text.
pub(crate) struct EntryRender<D> {
    pub template: D,
    pub nanosecond: bool,
}

impl<D: DocumentWriter + Clone + Send> Render for EntryRender<D> {
    fn render(&mut self, f: &Frame, out: &mut String) {
        let mut w = self.template.clone();
        *w.text() = std::mem::take(out);
        let mut key = String::from("Frame ");
        key.push_str(itoa::Buffer::new().format(f.number));
        frame(&mut w, Some(&key), f, self.nanosecond);
        w.entry_done();
        *out = std::mem::take(w.text());
    }
}

fn value<T: TreeWriter + ?Sized>(w: &mut T, key: &str, v: Value<'_>) {
    w.leaf(Some(key), Leaf::Value(v));
}

fn text<T: TreeWriter + ?Sized>(w: &mut T, key: &str, t: &str) {
    value(w, key, Value::Text(t));
}

fn uint<T: TreeWriter + ?Sized>(w: &mut T, key: &str, v: u64) {
    value(w, key, Value::Uint(v));
}

fn hex<T: TreeWriter + ?Sized>(w: &mut T, key: &str, b: &[u8]) {
    value(w, key, Value::Bytes(b, BytesDisplay::Hex));
}

/// Turns a header's visit into tree events.
struct Members<'a, T: TreeWriter + ?Sized> {
    w: &'a mut T,
    /// Per open list: whether its entries are items (dictionaries) rather than values.
    lists: Vec<bool>,
    /// A top-level list left out (pcapng options, which [`options`] shows instead).
    skip: Option<&'static str>,
    /// Depth of the events being left out (0: none).
    skipping: usize,
}

impl<T: TreeWriter + ?Sized> Visitor for Members<'_, T> {
    fn field(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        if self.skipping > 0 {
            return;
        }
        let in_bare_list = self.lists.last() == Some(&false);
        let key = (!in_bare_list).then_some(info.name);
        self.w.leaf(key, Leaf::Value(value));
    }

    fn begin_list(&mut self, info: &'static FieldInfo) {
        if self.skipping > 0 || (self.lists.is_empty() && self.skip == Some(info.name)) {
            self.skipping += 1;
            return;
        }
        self.w.open_list(Some(info.name));
        self.lists.push(false);
    }

    fn end_list(&mut self) {
        if self.skipping > 0 {
            self.skipping -= 1;
            return;
        }
        self.lists.pop();
        self.w.close_list();
    }

    fn begin_item(&mut self) {
        if self.skipping > 0 {
            self.skipping += 1;
            return;
        }
        if let Some(l) = self.lists.last_mut() {
            *l = true;
        }
        self.w.open_dict(None);
        self.lists.push(true);
    }

    fn end_item(&mut self) {
        if self.skipping > 0 {
            self.skipping -= 1;
            return;
        }
        self.lists.pop();
        self.w.close_dict();
    }

    fn begin_record(&mut self, info: &'static FieldInfo) {
        if self.skipping > 0 {
            self.skipping += 1;
            return;
        }
        let in_bare_list = self.lists.last() == Some(&false);
        self.w.open_dict((!in_bare_list).then_some(info.name));
        // Its values are members of the record's dictionary.
        self.lists.push(true);
    }

    fn end_record(&mut self) {
        if self.skipping > 0 {
            self.skipping -= 1;
            return;
        }
        self.lists.pop();
        self.w.close_dict();
    }
}

/// A header's values, as members of the open dictionary (through its generated visitor).
pub fn header_members<T: TreeWriter + ?Sized>(w: &mut T, visit: impl FnOnce(&mut dyn Visitor)) {
    let mut members = Members {
        w,
        lists: Vec::new(),
        skip: None,
        skipping: 0,
    };
    visit(&mut members);
}

/// A pcapng header's values but its generic `options` list (shown by [`options`]).
fn header_members_but_options<T: TreeWriter + ?Sized>(
    w: &mut T,
    visit: impl FnOnce(&mut dyn Visitor),
) {
    let mut members = Members {
        w,
        lists: Vec::new(),
        skip: Some("options"),
        skipping: 0,
    };
    visit(&mut members);
}

/// The pcap file header as `Global Header` (pcapng has none: its sections and interfaces
/// come as their own entries). Returns whether frame times are in nanoseconds.
pub fn global_header<T: TreeWriter + ?Sized>(w: &mut T, info: &CaptureInfo) -> bool {
    let CaptureInfo::Pcap(h) = info else {
        return true;
    };
    w.open_dict(Some("Global Header"));
    header_members(w, |v| h.raw.visit(v));
    text(w, "byte_order", h.byte_order.name());
    value(w, "nanosecond", Value::Bool(h.nanosecond));
    w.close_dict();
    h.nanosecond
}

/// A pcapng section header block, as `Section Header N`.
pub fn section<T: TreeWriter + ?Sized>(w: &mut T, s: &Section) {
    let mut key = String::from("Section Header ");
    key.push_str(itoa::Buffer::new().format(s.number));
    w.open_dict(Some(&key));
    text(w, "byte_order", s.byte_order.name());
    header_members_but_options(w, |v| s.header.visit(v));
    options(w, s.options.iter());
    w.close_dict();
}

/// A pcapng interface description block, as `Interface Description N` (`number` counts
/// them across sections, from 1).
pub fn interface<T: TreeWriter + ?Sized>(w: &mut T, i: &Interface, number: u32) {
    let mut key = String::from("Interface Description ");
    key.push_str(itoa::Buffer::new().format(number));
    w.open_dict(Some(&key));
    uint(w, "section", u64::from(i.section));
    uint(w, "index", u64::from(i.index));
    header_members_but_options(w, |v| i.header.visit(v));
    options(w, i.options.iter());
    w.close_dict();
}

/// A pcapng block's options as the list `options`: per option its `kind` (code and the
/// draft's name for it in this block), `length`, and its value under the option's name
/// (`comment` for `opt_comment`), or several named parts; bytes that cannot be read
/// are `data` with the reason in `malformed`.
pub fn options<T: TreeWriter + ?Sized>(w: &mut T, mut list: OptionIter<'_>) {
    let block = list.block();
    w.open_list(Some("options"));
    let mut shown = 0;
    while shown < MAX_OPTIONS {
        let Some(o) = list.next() else { break };
        shown += 1;
        w.open_dict(None);
        let mut key = "value";
        if let Some(h) = o.header {
            value(
                w,
                "kind",
                Value::Enum(u64::from(h.code), block.name(h.code)),
            );
            uint(w, "length", u64::from(h.length));
            key = match h.code {
                1 => "comment",
                code => block.name(code).unwrap_or("value"),
            };
        }
        option_value(w, key, &o.value);
        w.close_dict();
    }
    not_shown(w, list.count_rest(), "options", MAX_OPTIONS);
    w.close_list();
}

/// Options listed per block, and records per Name Resolution Block: a block of tiny
/// items would otherwise take some 50 times its size as text (real blocks hold a few).
const MAX_OPTIONS: usize = 10_000;
const MAX_RECORDS: usize = 100_000;

/// The last element of a list cut at `max` elements: how many more there were.
fn not_shown<T: TreeWriter + ?Sized>(w: &mut T, more: u64, what: &str, max: usize) {
    if more > 0 {
        w.open_dict(None);
        text(
            w,
            "malformed",
            &format!("{more} more {what} not shown: at most {max} are listed per block"),
        );
        w.close_dict();
    }
}

fn option_value<T: TreeWriter + ?Sized>(w: &mut T, key: &str, v: &OptionValue<'_>) {
    let bytes_text = |t| Value::Bytes(t, BytesDisplay::Text);
    match *v {
        OptionValue::End => {}
        OptionValue::Text(t) => value(w, key, bytes_text(t)),
        OptionValue::Uint(n) => uint(w, key, n),
        OptionValue::Int(n) => value(w, key, Value::Int(n)),
        OptionValue::Time(t) => text(w, key, &t.epoch()),
        OptionValue::Mac(m) => value(w, key, Value::Mac(m)),
        OptionValue::Bytes(b) => hex(w, key, b),
        OptionValue::Ipv4(a) => value(w, key, Value::Ipv4(a)),
        OptionValue::Ipv6(a) => value(w, key, Value::Ipv6(a)),
        OptionValue::Ipv4Net { address, netmask } => {
            value(w, "address", Value::Ipv4(address));
            value(w, "netmask", Value::Ipv4(netmask));
        }
        OptionValue::Ipv6Net {
            address,
            prefix_length,
        } => {
            value(w, "address", Value::Ipv6(address));
            uint(w, "prefix_length", u64::from(prefix_length));
        }
        OptionValue::Filter { kind, filter } => {
            let name = crate::registry::pcapng_filter_type(u64::from(kind));
            value(w, "filter_type", Value::Enum(u64::from(kind), name));
            if kind == 0 {
                value(w, "filter", bytes_text(filter));
            } else {
                hex(w, "filter", filter);
            }
        }
        OptionValue::Flags(f) => {
            uint(w, key, u64::from(f.0));
            let (d, r) = (f.direction(), f.reception_type());
            let registry = crate::registry::pcapng_direction;
            value(w, "direction", Value::Enum(d.into(), registry(d.into())));
            let registry = crate::registry::pcapng_reception_type;
            value(
                w,
                "reception_type",
                Value::Enum(r.into(), registry(r.into())),
            );
            uint(w, "fcs_length", f.fcs_length().into());
            value(w, "checksum_not_ready", Value::Bool(f.checksum_not_ready()));
            value(w, "checksum_valid", Value::Bool(f.checksum_valid()));
            let tso = f.tcp_segmentation_offloaded();
            value(w, "tcp_segmentation_offloaded", Value::Bool(tso));
            uint(w, "reserved", f.reserved().into());
            uint(w, "link_layer_errors", f.link_layer_errors().into());
            for (name, set) in f.errors() {
                value(w, name, Value::Bool(set));
            }
        }
        OptionValue::Hash { algorithm, hash } => {
            let name = crate::registry::pcapng_hash_algorithm(u64::from(algorithm));
            value(w, "algorithm", Value::Enum(u64::from(algorithm), name));
            hex(w, "hash", hash);
        }
        OptionValue::Verdict {
            kind,
            value: verdict,
            data,
        } => {
            let name = crate::registry::pcapng_verdict_type(u64::from(kind));
            value(w, "verdict_type", Value::Enum(u64::from(kind), name));
            match verdict {
                Some(n) => uint(w, "verdict", n),
                None => hex(w, "verdict", data),
            }
        }
        OptionValue::ProcessThread { process, thread } => {
            uint(w, "process_id", u64::from(process));
            uint(w, "thread_id", u64::from(thread));
        }
        OptionValue::Custom { pen, data, text } => {
            uint(w, "pen", u64::from(pen));
            if text {
                value(w, "custom", bytes_text(data));
            } else {
                hex(w, "custom", data);
            }
        }
        OptionValue::Unknown(b) => hex(w, "data", b),
        OptionValue::Malformed { data, ref reason } => {
            hex(w, "data", data);
            text(w, "malformed", reason);
        }
    }
}

/// A pcapng Name Resolution, Interface Statistics, Decryption Secrets or Custom Block,
/// as the dictionary `key` (`Name Resolution 1`).
pub fn metadata<T: TreeWriter + ?Sized>(w: &mut T, key: &str, m: &Metadata) {
    w.open_dict(Some(key));
    uint(w, "section", u64::from(m.section()));
    match m {
        Metadata::NameResolution(b) => name_resolution(w, b),
        Metadata::InterfaceStatistics(b) => statistics(w, b),
        Metadata::DecryptionSecrets(b) => secrets(w, b),
        Metadata::Custom(b) => custom(w, b),
    }
    w.close_dict();
}

fn name_resolution<T: TreeWriter + ?Sized>(w: &mut T, b: &NameResolution) {
    w.open_list(Some("records"));
    let mut records = b.records();
    let mut shown = 0;
    while shown < MAX_RECORDS {
        let Some(r) = records.next() else { break };
        shown += 1;
        w.open_dict(None);
        if let Some(h) = r.header {
            let name = crate::registry::pcapng_nrb_record(u64::from(h.code));
            value(w, "kind", Value::Enum(u64::from(h.code), name));
            uint(w, "length", u64::from(h.length));
        }
        let names = match r.value {
            RecordValue::End => None,
            RecordValue::Ipv4(a, names) => {
                value(w, "address", Value::Ipv4(a));
                Some(names)
            }
            RecordValue::Ipv6(a, names) => {
                value(w, "address", Value::Ipv6(a));
                Some(names)
            }
            RecordValue::Eui48(a, names) => {
                value(w, "address", Value::Mac(a));
                Some(names)
            }
            RecordValue::Eui64(a, names) => {
                hex(w, "address", a);
                Some(names)
            }
            RecordValue::Unknown(data) => {
                hex(w, "data", data);
                None
            }
            RecordValue::Malformed { data, ref reason } => {
                hex(w, "data", data);
                text(w, "malformed", reason);
                None
            }
        };
        if let Some(names) = names {
            w.open_list(Some("names"));
            for n in names.iter() {
                w.leaf(None, Leaf::Value(Value::Bytes(n, BytesDisplay::Text)));
            }
            w.close_list();
        }
        w.close_dict();
    }
    not_shown(w, records.count_rest(), "records", MAX_RECORDS);
    w.close_list();
    options(w, b.options());
}

fn statistics<T: TreeWriter + ?Sized>(w: &mut T, b: &InterfaceStatistics) {
    if let Some(i) = b.interface {
        uint(w, "interface", u64::from(i));
    }
    if let Some(t) = b.timestamp {
        text(w, "time_epoch", &t.epoch());
    }
    options(w, b.options.iter());
    if let Some(reason) = &b.malformed {
        text(w, "malformed", reason);
    }
}

fn secrets<T: TreeWriter + ?Sized>(w: &mut T, b: &DecryptionSecrets) {
    if let Some(t) = b.secrets_type {
        let name = crate::registry::pcapng_secrets_type(u64::from(t));
        value(w, "secrets_type", Value::Enum(u64::from(t), name));
    }
    if let Some(n) = b.secrets_length {
        uint(w, "secrets_length", u64::from(n));
    }
    options(w, b.options.iter());
    if let Some(reason) = &b.malformed {
        text(w, "malformed", reason);
    }
}

fn custom<T: TreeWriter + ?Sized>(w: &mut T, b: &CustomBlock) {
    let t = u64::from(b.block_type);
    value(
        w,
        "block_type",
        Value::Enum(t, crate::registry::pcapng_block(t)),
    );
    if let Some(pen) = b.pen {
        uint(w, "pen", u64::from(pen));
    }
    uint(w, "length", u64::from(b.length));
    if let Some(reason) = &b.malformed {
        text(w, "malformed", reason);
    }
}

/// The top-level key of a metadata block: its kind and its number among blocks of that
/// kind (`Name Resolution 2`), counted by `counts` (one counter per kind).
pub fn metadata_key(m: &Metadata, counts: &mut [u32; 4]) -> String {
    let (i, name) = match m {
        Metadata::NameResolution(_) => (0, "Name Resolution "),
        Metadata::InterfaceStatistics(_) => (1, "Interface Statistics "),
        Metadata::DecryptionSecrets(_) => (2, "Decryption Secrets "),
        Metadata::Custom(_) => (3, "Custom Block "),
    };
    counts[i] = counts[i].saturating_add(1);
    let mut key = String::from(name);
    key.push_str(itoa::Buffer::new().format(counts[i]));
    key
}

fn layer_key(layer: &Layer) -> &'static str {
    match &layer.kind {
        LayerKind::Header(h) => h.protocol().id(),
        LayerKind::View(p) => p.id(),
        LayerKind::Raw => "raw",
        LayerKind::Malformed { .. } => "malformed",
    }
}

/// A frame as a dictionary under `key` (`None`: a root dictionary, as NDJSON's lines).
pub fn frame<T: TreeWriter + ?Sized>(
    w: &mut T,
    key: Option<&str>,
    frame: &Frame,
    nanosecond: bool,
) {
    w.open_dict(key);
    frame_members(w, frame, nanosecond);
    w.close_dict();
}

/// A frame's members: record metadata, the layers nested in chain order (reassembled
/// layers continue the chain), reassembly results and notes, the protocol chain and the
/// frame's own bytes.
fn frame_members<T: TreeWriter + ?Sized>(w: &mut T, frame: &Frame, nanosecond: bool) {
    w.open_dict(Some("frame_info"));
    value(w, "ts_sec", Value::Int(frame.timestamp.secs));
    if nanosecond {
        uint(w, "ts_nsec", u64::from(frame.timestamp.nanos));
    } else {
        uint(w, "ts_usec", u64::from(frame.timestamp.nanos / 1000));
    }
    uint(w, "incl_len", u64::from(frame.cap_len));
    uint(w, "orig_len", u64::from(frame.len));
    w.close_dict();
    uint(w, "number", frame.number);
    w.leaf(Some("time"), Leaf::Time(frame.timestamp));
    text(
        w,
        "time_epoch",
        frame
            .timestamp
            .epoch_in(&mut [0; crate::Timestamp::EPOCH_LEN]),
    );
    uint(w, "len", u64::from(frame.len));
    uint(w, "cap_len", u64::from(frame.cap_len));
    if let Some(i) = frame.interface {
        uint(w, "interface", u64::from(i));
    }
    value(
        w,
        "linktype",
        Value::enumerated(u64::from(frame.linktype), crate::registry::linktype),
    );
    if let Some(o) = &frame.pcapng_options {
        options(w, o.iter());
    }
    if frame.foreign.is_empty() {
        native_layers(w, frame);
    } else {
        foreign_layers(w, frame);
    }
    if !frame.reassembled.is_empty() {
        w.open_list(Some("reassembly"));
        for r in &frame.reassembled {
            reassembled(w, r);
        }
        w.close_list();
    }
    if !frame.notes.is_empty() {
        w.open_list(Some("notes"));
        for note in &frame.notes {
            w.leaf(None, Leaf::Value(Value::Text(note)));
        }
        w.close_list();
    }
    let mut chain = String::new();
    frame.write_protocols(&mut chain);
    text(w, "protocols", &chain);
    hex(w, "packet", &frame.data);
}

/// The layers our dissectors made, nested in chain order (reassembled layers continue
/// the chain).
fn native_layers<T: TreeWriter + ?Sized>(w: &mut T, frame: &Frame) {
    let mut depth = 0;
    let mut stream = frame.tcp_stream;
    for (layer, data) in frame.all_layers() {
        w.open_dict(Some(layer_key(layer)));
        depth += 1;
        match &layer.kind {
            LayerKind::Header(_) | LayerKind::View(_) => {
                let protocol = layer.protocol().expect("a header has a protocol");
                if layer.name != protocol.name() {
                    text(w, "name", layer.name);
                }
                header_members(w, |v| layer.visit_in(data, v));
                if layer.missing > 0 {
                    uint(w, "missing", layer.missing);
                }
                if let Some(reason) = &layer.truncated {
                    text(w, "truncated", reason);
                }
                if protocol == ProtocolId::Tcp {
                    if let Some(s) = stream.take() {
                        uint(w, "stream", s);
                    }
                }
            }
            LayerKind::Raw => {
                uint(w, "length", layer.header_len as u64);
                hex(w, "packet", &data[layer.header_range()]);
            }
            LayerKind::Malformed { protocol, reason } => {
                text(w, "protocol", protocol.id());
                uint(w, "offset", layer.offset as u64);
                text(w, "reason", reason);
                hex(w, "packet", &data[layer.header_range()]);
            }
        }
    }
    for _ in 0..depth {
        w.close_dict();
    }
}

/// The layers a third-party engine decoded (see [`crate::engine::ForeignLayer`]), nested
/// in chain order as ours are: each a dictionary under its [key](crate::engine::ForeignLayer::key)
/// (`ipv4`, tshark's `data`, `raw` for bytes left over), holding the backend's fields
/// under the backend's names with the backend's values. A name met more than once in a layer
/// (tshark's `ip.addr`, one per address) is a list of its values, where it first
/// appears: a dictionary's keys stay unique. Bytes left over (`Raw`) have their `length`
/// and `packet`, as our `raw` layers do.
fn foreign_layers<T: TreeWriter + ?Sized>(w: &mut T, frame: &Frame) {
    let mut depth = 0;
    for (i, l) in frame.foreign.iter().enumerate() {
        let key = l.key();
        w.open_dict(Some(&key));
        depth += 1;
        let raw = l.protocol.is_none() && l.name == "Raw";
        // The backend's name, where the key does not say it (etherparse's `MACsec`).
        let shown = l.protocol.map_or(key.as_ref(), |p| p.name());
        if l.name != shown && !raw {
            text(w, "name", l.name);
        }
        for (name, values) in grouped(&l.fields) {
            if let [one] = values[..] {
                value(w, name, one.as_value());
            } else {
                w.open_list(Some(name));
                for v in values {
                    w.leaf(None, Leaf::Value(v.as_value()));
                }
                w.close_list();
            }
        }
        if raw {
            // The range as the frame holds it (clamped to the bytes captured).
            if let Some(layer) = frame.layers.get(i) {
                uint(w, "length", layer.header_len as u64);
                hex(
                    w,
                    "packet",
                    frame.data.get(layer.header_range()).unwrap_or(&[]),
                );
            }
        }
    }
    for _ in 0..depth {
        w.close_dict();
    }
}

/// Field names, each with all its values.
type Grouped<'a> = Vec<(&'a str, Vec<&'a ForeignValue>)>;

/// A layer's fields by name, in order of first appearance, each with all its values.
fn grouped<'a>(fields: &'a [(Cow<'static, str>, ForeignValue)]) -> Grouped<'a> {
    let mut out: Grouped<'a> = Vec::with_capacity(fields.len());
    // A map only for long layers (tshark's can hold up to a thousand fields): most
    // have a few dozen, where a scan is cheaper.
    let mut index: Option<HashMap<&str, usize>> = (fields.len() > 32).then(HashMap::new);
    for (name, v) in fields {
        let name = name.as_ref();
        let at = match &mut index {
            Some(map) => map.get(name).copied(),
            None => out.iter().position(|(n, _)| *n == name),
        };
        match at {
            Some(k) => out[k].1.push(v),
            None => {
                if let Some(map) = &mut index {
                    map.insert(name, out.len());
                }
                out.push((name, vec![v]));
            }
        }
    }
    out
}

/// What reassembly did, as a list element: which datagram or stream, which frames,
/// whether complete, what is missing; the dissected layers are in the frame's layer
/// nesting, not here.
fn reassembled<T: TreeWriter + ?Sized>(w: &mut T, r: &Reassembled) {
    w.open_dict(None);
    text(w, "kind", r.kind.name());
    uint(w, "id", r.id);
    if r.kind.on_tcp() {
        text(w, "src", &r.src.to_string());
        text(w, "dst", &r.dst.to_string());
    } else {
        text(w, "src", &r.src.addr.to_string());
        text(w, "dst", &r.dst.addr.to_string());
    }
    if let Some(p) = r.protocol {
        text(w, "protocol", p.id());
    }
    uint(w, "offset", r.offset);
    uint(w, "length", r.data.len() as u64);
    value(w, "completed", Value::Bool(r.completed));
    w.open_list(Some("frames"));
    for f in &r.frames {
        w.leaf(None, Leaf::Value(Value::Uint(*f)));
    }
    w.close_list();
    if !r.holes.is_empty() {
        w.open_list(Some("holes"));
        for h in &r.holes {
            w.open_list(None);
            w.leaf(None, Leaf::Value(Value::Uint(h.start)));
            if h.end == crate::reassembly::OPEN_END {
                w.leaf(None, Leaf::Null);
            } else {
                w.leaf(None, Leaf::Value(Value::Uint(h.end)));
            }
            w.close_list();
        }
        w.close_list();
    }
    if !r.anomalies.is_empty() {
        w.open_list(Some("anomalies"));
        for a in &r.anomalies {
            w.leaf(None, Leaf::Value(Value::Text(a)));
        }
        w.close_list();
    }
    w.close_dict();
}

/// Datagrams and PDUs still incomplete at the end, as the `Incomplete Reassembly` list.
pub fn incomplete<T: TreeWriter + ?Sized>(w: &mut T, incomplete: &[Reassembled]) {
    w.open_list(Some("Incomplete Reassembly"));
    for r in incomplete {
        reassembled(w, r);
    }
    w.close_list();
}

/// A dumper writing one document (`json`, `plist`, `tree`): the global header, pcapng
/// sections and interfaces, then `Frame 1`, `Frame 2`, ... written out one at a time.
pub struct Document<W: Write, D: DocumentWriter> {
    out: W,
    doc: D,
    nanosecond: bool,
    interfaces: u32,
    /// Metadata blocks so far, per kind (for their keys).
    metadata: [u32; 4],
}

impl<W: Write, D: DocumentWriter + Default> Document<W, D> {
    /// Writes to `out`, an entry at a time; wrap a file in a `BufWriter`.
    pub fn new(out: W) -> Self {
        let mut doc = D::default();
        doc.begin();
        Document {
            out,
            doc,
            nanosecond: false,
            interfaces: 0,
            metadata: [0; 4],
        }
    }
}

impl<W: Write, D: DocumentWriter> Document<W, D> {
    /// Sets whether frame times are in nanoseconds, for a document without the capture's
    /// header (a frame's own file).
    pub fn set_nanosecond(&mut self, nanosecond: bool) {
        self.nanosecond = nanosecond;
    }

    /// The output, to take what was written so far (a flow trace's buffer).
    pub fn output_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Gives back the memory the text of a large entry left behind: for documents that
    /// stay open in thousands (flow traces).
    pub fn shrink(&mut self) {
        self.doc.text().shrink_to(1024);
    }

    /// Ends a top-level entry and hands its text to the output.
    fn entry_done(&mut self) -> io::Result<()> {
        self.doc.entry_done();
        let text = self.doc.text();
        self.out.write_all(text.as_bytes())?;
        text.clear();
        Ok(())
    }
}

impl<W: Write, D: DocumentWriter> Dumper for Document<W, D> {
    fn header(&mut self, info: &CaptureInfo) -> io::Result<()> {
        self.nanosecond = global_header(&mut self.doc, info);
        self.entry_done()
    }

    fn section(&mut self, s: &Section) -> io::Result<()> {
        section(&mut self.doc, s);
        self.entry_done()
    }

    fn interface(&mut self, i: &Interface) -> io::Result<()> {
        self.interfaces += 1;
        interface(&mut self.doc, i, self.interfaces);
        self.entry_done()
    }

    fn metadata(&mut self, m: &Metadata) -> io::Result<()> {
        let key = metadata_key(m, &mut self.metadata);
        metadata(&mut self.doc, &key, m);
        self.entry_done()
    }

    fn frame(&mut self, f: &Frame) -> io::Result<()> {
        let mut key = String::from("Frame ");
        key.push_str(itoa::Buffer::new().format(f.number));
        frame(&mut self.doc, Some(&key), f, self.nanosecond);
        self.entry_done()
    }

    fn renderer(&self) -> Option<Box<dyn Render>> {
        self.doc.renderer(self.nanosecond)
    }

    fn rendered(&mut self, _frame: &Frame, text: &str) -> io::Result<()> {
        self.doc.join();
        self.entry_done()?;
        self.out.write_all(text.as_bytes())
    }

    fn reassembled_at_end(&mut self, list: &[Reassembled]) -> io::Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        incomplete(&mut self.doc, list);
        self.entry_done()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.doc.end();
        self.entry_done()?;
        self.out.flush()
    }
}
