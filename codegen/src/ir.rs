//! The checked model the emitter works from: every name resolved, every expression parsed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::expr::Expr;

/// Everything under `specs/`, checked.
#[derive(Debug)]
pub struct Model {
    /// Frame protocols and capture structures, sorted by layer then id.
    pub protocols: Vec<Protocol>,
    pub registries: Vec<Registry>,
    pub tlvs: Vec<TlvFamily>,
    /// Dispatch tables, by name: who binds into each.
    pub tables: BTreeMap<String, Table>,
    /// Every spec and registry file read (for `cargo:rerun-if-changed`).
    pub files: Vec<PathBuf>,
}

impl Model {
    pub fn registry(&self, id: &str) -> Option<&Registry> {
        self.registries.iter().find(|r| r.id == id)
    }

    pub fn tlv(&self, id: &str) -> Option<&TlvFamily> {
        self.tlvs.iter().find(|t| t.id == id)
    }

    /// The protocols that frames are dissected into (not capture structures).
    pub fn frame_protocols(&self) -> impl Iterator<Item = &Protocol> {
        self.protocols.iter().filter(|p| p.layer != Layer::Capture)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Link,
    Internet,
    Transport,
    Application,
    Capture,
}

impl Layer {
    pub fn parse(s: &str) -> Option<Layer> {
        Some(match s {
            "link" => Layer::Link,
            "internet" => Layer::Internet,
            "transport" => Layer::Transport,
            "application" => Layer::Application,
            "capture" => Layer::Capture,
            _ => return None,
        })
    }

    pub fn variant(self) -> &'static str {
        match self {
            Layer::Link => "Link",
            Layer::Internet => "Internet",
            Layer::Transport => "Transport",
            Layer::Application => "Application",
            Layer::Capture => "Capture",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Big,
    Little,
    /// Passed in by the caller (pcap and pcapng structures).
    Runtime,
}

impl Endian {
    pub fn parse(s: &str) -> Option<Endian> {
        Some(match s {
            "big" => Endian::Big,
            "little" => Endian::Little,
            "runtime" => Endian::Runtime,
            _ => return None,
        })
    }
}

#[derive(Debug)]
pub struct Protocol {
    /// Path of the spec, relative to the specs folder.
    pub file: PathBuf,
    pub id: String,
    pub name: String,
    pub layer: Layer,
    pub title: String,
    pub reference: String,
    pub endian: Endian,
    /// Whole-protocol hook: `hooks::<id>::<hook>` fills the struct.
    pub hook: Option<String>,
    /// `hooks::<id>::<view>`: a hand-written `chain::HeaderView` the chain may walk
    /// through instead of reading the header (in place of a generated view).
    pub view: Option<String>,
    pub binds: Vec<Bind>,
    pub fields: Vec<Field>,
    pub payload: Option<Payload>,
    /// How PDUs are cut from a reassembled TCP stream, when the protocol runs over one.
    pub stream: Option<StreamFraming>,
    /// The file's `[[record]]`s, in the order declared.
    pub records: Vec<Record>,
    /// The file's `[[example]]`s.
    pub examples: Vec<Example>,
}

impl Protocol {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn record(&self, name: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.name == name)
    }

    /// Whether any field of the header or of a record is a record, a switch or a counted
    /// list (layouts the random sample builder does not draw).
    pub fn has_records(&self) -> bool {
        !self.records.is_empty()
            || self
                .fields
                .iter()
                .any(|f| f.count.is_some() || f.ty.uses_records())
    }

    /// Whether any field of the header or of a record is a `dns_name`: the header is
    /// then read with the whole message at hand, for compression pointers.
    pub fn has_names(&self) -> bool {
        self.fields
            .iter()
            .chain(self.records.iter().flat_map(|r| r.fields.iter()))
            .any(|f| f.ty == FieldType::DnsName)
    }

    /// Bytes read but not consumed at the end of the header (`peek` fields).
    pub fn peek_len(&self) -> usize {
        let peek: u64 = self
            .fields
            .iter()
            .filter(|f| f.peek)
            .filter_map(|f| f.ty.fixed_size())
            .sum();
        usize::try_from(peek).expect("peek fields are a few bytes")
    }
}

#[derive(Debug, Clone)]
pub struct Bind {
    pub table: String,
    pub key: BindKey,
    pub name: Option<String>,
}

#[derive(Debug, Clone)]
pub enum BindKey {
    Value(u64),
    /// Hook function name in `hooks::<id>`.
    Heuristic(String),
}

/// A checked expression with the text it came from (for messages and docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub src: String,
    pub expr: Expr,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub doc: String,
    pub ty: FieldType,
    pub registry: Option<String>,
    pub assert: Option<Checked>,
    pub cond: Option<Checked>,
    pub show: Option<Checked>,
    pub size: Option<Checked>,
    /// For lists: the number of elements.
    pub count: Option<Checked>,
    pub display: Display,
    /// `None`: the protocol's byte order.
    pub endian: Option<Endian>,
    pub peek: bool,
    pub hook: Option<String>,
    /// Named bit ranges, outermost first, with their position in the container.
    pub bits: Vec<BitRange>,
    /// Wireshark display-filter name (`ip.src`).
    pub wireshark: Option<String>,
    /// Not on the wire: filled by the session after dissection (empty until then).
    pub session: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// Integer of 1, 2, 3, 4 or 8 bytes.
    Int {
        bytes: u8,
        signed: bool,
    },
    Mac,
    Ipv4,
    Ipv6,
    /// Byte string of `size` bytes (or the rest of the input).
    Bytes,
    /// `T[]`: whole elements of a fixed-size type filling `size` bytes.
    List(Box<FieldType>),
    /// `tlv:FAMILY`
    Tlv(String),
    /// Text, filled by a protocol hook.
    Str,
    /// `dns_name`: a domain name in RFC 1035 wire form, compression pointers followed
    /// in the whole message.
    DnsName,
    /// `kv[]`: name/value text pairs, filled by a protocol hook.
    KvList,
    /// A `[[record]]` of the same file, by name.
    Record(String),
    /// A type chosen by the value of an expression over earlier fields.
    Switch(Box<Switch>),
}

/// A `switch` field: its key, its cases and its default, over a region of `size` bytes
/// (or the rest of the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub key: Checked,
    /// Key value → case, by increasing key.
    pub cases: Vec<(u64, Case)>,
    pub default: Case,
}

/// What a switch case reads: a record, or the bytes as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Case {
    Record(String),
    Bytes,
}

impl Switch {
    /// The distinct records the cases and the default read, in order of first use.
    pub fn records(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in self.cases.iter().map(|(_, c)| c).chain([&self.default]) {
            if let Case::Record(r) = c {
                if !out.contains(&r.as_str()) {
                    out.push(r);
                }
            }
        }
        out
    }
}

/// A `[[record]]`: a named structure of fields, used as a field type, a list element or a
/// switch case.
#[derive(Debug, Clone)]
pub struct Record {
    pub name: String,
    pub doc: String,
    /// Prefix of its values' paths, without the protocol's id; empty for none.
    pub path: String,
    pub fields: Vec<Field>,
}

impl Record {
    /// The path of one of its values, below the protocol's id (`lsa.type`).
    pub fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }
}

/// An `[[example]]`: header bytes and the values they must show.
#[derive(Debug, Clone)]
pub struct Example {
    pub doc: String,
    pub bytes: Vec<u8>,
    /// Full path (`ospf.version`) → the values in wire order, as `-e` prints them.
    pub fields: Vec<(String, Vec<String>)>,
}

impl FieldType {
    /// Whether the type reads records (itself, as list elements or as switch cases).
    pub fn uses_records(&self) -> bool {
        match self {
            FieldType::Record(_) | FieldType::Switch(_) => true,
            FieldType::List(elem) => elem.uses_records(),
            _ => false,
        }
    }

    /// Wire size in bytes when fixed.
    pub fn fixed_size(&self) -> Option<u64> {
        Some(match self {
            FieldType::Int { bytes, .. } => u64::from(*bytes),
            FieldType::Mac => 6,
            FieldType::Ipv4 => 4,
            FieldType::Ipv6 => 16,
            _ => return None,
        })
    }

    pub fn is_uint(&self) -> bool {
        matches!(self, FieldType::Int { signed: false, .. })
    }

    pub fn is_int(&self) -> bool {
        matches!(self, FieldType::Int { .. })
    }

    /// Types whose length comes from `size` (or the rest of the input).
    pub fn is_sized(&self) -> bool {
        matches!(
            self,
            FieldType::Bytes | FieldType::List(_) | FieldType::Tlv(_) | FieldType::Switch(_)
        )
    }

    /// The name users see in `pcapkit fields --list`.
    pub fn describe(&self) -> String {
        match self {
            FieldType::Int { bytes, signed } => {
                format!(
                    "{}{}",
                    if *signed { "i" } else { "u" },
                    u32::from(*bytes) * 8
                )
            }
            FieldType::Mac => "mac".into(),
            FieldType::Ipv4 => "ipv4".into(),
            FieldType::Ipv6 => "ipv6".into(),
            FieldType::Bytes => "bytes".into(),
            FieldType::List(t) => format!("{}[]", t.describe()),
            FieldType::Tlv(f) => format!("tlv:{f}"),
            FieldType::Str => "str".into(),
            FieldType::DnsName => "dns_name".into(),
            FieldType::KvList => "kv[]".into(),
            FieldType::Record(r) => r.clone(),
            FieldType::Switch(s) => {
                let mut names: Vec<&str> = s.records();
                if s.default == Case::Bytes || s.cases.iter().any(|(_, c)| *c == Case::Bytes) {
                    names.push("bytes");
                }
                names.join(" | ")
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    Hex,
    Mac,
    Ipv4,
    Ipv6,
    Text,
}

#[derive(Debug, Clone)]
pub struct BitRange {
    pub name: String,
    pub doc: String,
    /// Distance of the range's lowest bit from the container's lowest bit.
    pub shift: u32,
    pub width: u32,
    pub is_bool: bool,
    pub scale: u64,
    pub registry: Option<String>,
    pub assert: Option<Checked>,
    /// Shown only when this holds.
    pub show: Option<Checked>,
    /// Nesting depth: 0 for a range of the container, 1 for a range of a range...
    pub depth: u32,
    /// Wireshark display-filter name (`ip.flags.df`).
    pub wireshark: Option<String>,
}

impl BitRange {
    /// Largest value the accessor returns (after scaling).
    pub fn max_value(&self) -> u64 {
        let raw = if self.width >= 64 {
            u64::MAX
        } else {
            (1u64 << self.width) - 1
        };
        raw.saturating_mul(self.scale)
    }
}

/// How a protocol's PDUs are cut from a reassembled TCP stream (`[stream]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamFraming {
    /// The header, then the payload length the header declares.
    Declared,
    /// `hooks::<id>::<hook>(stream, context)` says.
    Hook(String),
}

#[derive(Debug, Clone)]
pub struct Payload {
    pub size: Option<Checked>,
    /// Where the payload goes: the first rule whose `when` holds and whose target knows
    /// the payload's protocol. Empty: nowhere (the payload stays Raw).
    pub rules: Vec<Rule>,
}

/// One dispatch rule of a `[payload]`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub when: Option<Checked>,
    pub target: Target,
}

/// Where a rule sends the payload.
#[derive(Debug, Clone)]
pub enum Target {
    /// Look the keys up in this table, in order, then its heuristics.
    Table { table: String, keys: Vec<Checked> },
    /// Always this protocol (by id).
    Next(String),
}

impl Payload {
    /// The tables the rules look keys up in.
    pub fn tables(&self) -> impl Iterator<Item = &String> {
        self.rules.iter().filter_map(|r| match &r.target {
            Target::Table { table, .. } => Some(table),
            Target::Next(_) => None,
        })
    }
}

#[derive(Debug)]
pub struct TlvFamily {
    pub file: PathBuf,
    pub id: String,
    pub kind_bytes: u8,
    pub length_bytes: u8,
    /// The length counts kind and length bytes too.
    pub covers_all: bool,
    /// The length counts units of this many bytes (1 to 255).
    pub unit: u8,
    pub registry: Option<String>,
    pub single: Vec<u64>,
    pub end: Option<u64>,
    pub align: u64,
    pub variants: Vec<TlvVariant>,
}

#[derive(Debug)]
pub struct TlvVariant {
    pub kind: u64,
    pub name: String,
    pub doc: String,
    pub fields: Vec<Field>,
}

#[derive(Debug)]
pub struct Registry {
    pub file: PathBuf,
    pub id: String,
    pub title: String,
    pub width: u32,
    pub source: String,
    /// Sorted by value.
    pub values: Vec<(u64, String, String)>,
}

/// A dispatch table and the protocols bound into it.
#[derive(Debug, Default)]
pub struct Table {
    /// (key, protocol id, display-name override)
    pub keys: Vec<(u64, String, Option<String>)>,
    /// (protocol id, hook function, display-name override)
    pub heuristics: Vec<(String, String, Option<String>)>,
}

/// Where each field ends in the header, in bytes, when that is the same in every header:
/// the fields up to the first one of variable size or presence.
pub fn static_ends(fields: &[Field]) -> Vec<Option<u64>> {
    let mut offset = Some(0u64);
    fields
        .iter()
        .map(|f| {
            let end = match (offset, f.ty.fixed_size(), &f.cond) {
                (Some(o), Some(size), None) => Some(o + size),
                _ => None,
            };
            offset = end;
            end
        })
        .collect()
}

/// One value a field list shows: a field, or one bit range of it.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub name: &'a str,
    /// Wireshark display-filter name, if the spec gives one.
    pub wireshark: Option<&'a str>,
    pub doc: &'a str,
    pub ty: String,
    pub field: &'a Field,
    pub range: Option<&'a BitRange>,
    /// The whole container of bit ranges (`l2tp.flags_version`): a value of its own for
    /// whoever asks for it by name (`-e`), which the dumps leave out, as its ranges follow.
    pub whole: bool,
}

/// The values a list of fields shows, in order: a field with bit ranges shows itself as a
/// whole (`Entry::whole`), then its ranges; any other field shows itself.
pub fn entries(fields: &[Field]) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    for f in fields {
        let ty = match &f.registry {
            Some(r) => format!("{} ({r})", f.ty.describe()),
            None => f.ty.describe(),
        };
        let whole = !f.bits.is_empty();
        let doc = match f.doc.as_str() {
            "" if whole => "the whole field; its bit ranges follow",
            doc => doc,
        };
        out.push(Entry {
            name: &f.name,
            wireshark: f.wireshark.as_deref(),
            doc,
            ty,
            field: f,
            range: None,
            whole,
        });
        for r in &f.bits {
            let ty = match (&r.registry, r.is_bool) {
                (_, true) => "bool".to_owned(),
                (Some(reg), false) => format!("u{} ({reg})", r.width),
                (None, false) => format!("u{}", r.width),
            };
            out.push(Entry {
                name: &r.name,
                wireshark: r.wireshark.as_deref(),
                doc: &r.doc,
                ty,
                field: f,
                range: Some(r),
                whole: false,
            });
        }
    }
    out
}
