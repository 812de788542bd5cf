//! The spec files as written: serde mirrors of the TOML, before any checking.
//!
//! Every struct denies unknown keys, so a misspelt key is an error, not a silent default.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One file under `specs/` other than a registry: a protocol (or capture structure),
/// optionally with TLV families, or TLV families alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    pub protocol: Option<ProtocolMeta>,
    #[serde(default)]
    pub bind: Vec<Bind>,
    #[serde(default)]
    pub field: Vec<Field>,
    pub payload: Option<Payload>,
    pub stream: Option<Stream>,
    #[serde(default)]
    pub tlv: Vec<TlvFamily>,
    #[serde(default)]
    pub record: Vec<Record>,
    #[serde(default)]
    pub example: Vec<Example>,
}

/// `[[record]]`: a named sub-structure, usable as a field type in its file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub name: String,
    #[serde(default)]
    pub doc: String,
    /// Prefix of its values' paths (`ospf.PATH.field`); by default the record's name,
    /// `""` for none (`ospf.field`).
    pub path: Option<String>,
    #[serde(default)]
    pub field: Vec<Field>,
}

/// `[[example]]`: bytes of a header and the values they must give.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    #[serde(default)]
    pub doc: String,
    pub hex: String,
    /// Field path (without the protocol's id) → value, or list of values in wire order.
    #[serde(default)]
    pub fields: BTreeMap<String, toml::Value>,
}

/// `[protocol]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolMeta {
    pub id: String,
    pub name: String,
    pub layer: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, rename = "ref")]
    pub reference: String,
    #[serde(default = "default_endian")]
    pub endian: String,
    pub hook: Option<String>,
    /// A hand-written view (`chain::HeaderView`) in `hooks::<id>`, for the chain's walk
    /// through views.
    pub view: Option<String>,
}

fn default_endian() -> String {
    "big".to_owned()
}

/// `[stream]`: how the protocol's PDUs are cut from a reassembled TCP stream.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stream {
    /// `"declared"`: a PDU is the header and the payload length its `[payload] size` gives.
    pub pdu: Option<String>,
    /// A function of the protocol's hook module that says how long the PDU at the start
    /// of the stream is.
    pub hook: Option<String>,
}

/// `[[bind]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bind {
    pub table: String,
    pub key: Option<u64>,
    pub name: Option<String>,
    pub heuristic: Option<String>,
}

/// `[[field]]`, and the fields of a TLV variant.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    /// Required, except for a `switch` field (whose type is chosen by its cases).
    #[serde(rename = "type", default)]
    pub ty: String,
    #[serde(default)]
    pub doc: String,
    #[serde(rename = "enum")]
    pub registry: Option<String>,
    pub assert: Option<String>,
    #[serde(rename = "if")]
    pub cond: Option<String>,
    pub show: Option<String>,
    pub size: Option<String>,
    /// For `T[]`: the number of elements, an expression over earlier fields.
    pub count: Option<String>,
    /// An expression over earlier fields choosing the field's type among `cases`.
    pub switch: Option<String>,
    /// For `switch`: value → record name (or `bytes`).
    pub cases: Option<BTreeMap<String, String>>,
    /// For `switch`: the type when no case matches (`bytes` when not given).
    pub default: Option<String>,
    pub display: Option<String>,
    pub endian: Option<String>,
    #[serde(default)]
    pub peek: bool,
    pub hook: Option<String>,
    pub bits: Option<Vec<Bits>>,
    /// Its Wireshark display-filter name (`ip.src`), which `-e` accepts too.
    pub wireshark: Option<String>,
    /// Not on the wire: filled after dissection by the session's conversation state
    /// (`str` or `kv[]`, after every wire field).
    #[serde(default)]
    pub session: bool,
}

/// One named bit range of a bit-field container.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Bits {
    pub name: String,
    pub width: u32,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub scale: Option<u64>,
    #[serde(rename = "enum")]
    pub registry: Option<String>,
    pub assert: Option<String>,
    /// An expression: the range is shown (dumps, `-e`) only when it holds.
    pub show: Option<String>,
    #[serde(default)]
    pub doc: String,
    pub bits: Option<Vec<Bits>>,
    /// Its Wireshark display-filter name (`ip.flags.df`), which `-e` accepts too.
    pub wireshark: Option<String>,
}

/// `[payload]`: its size, and where it goes: one rule written in place (`when`, `table`,
/// `key` or `next`), or `[[payload.rule]]`s tried in order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    pub size: Option<String>,
    pub table: Option<String>,
    pub key: Option<Keys>,
    pub when: Option<String>,
    /// A constant next protocol, by id.
    pub next: Option<String>,
    #[serde(default)]
    pub rule: Vec<Rule>,
}

/// `[[payload.rule]]`: when `when` holds, look `key` up in `table`, or go to `next`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub when: Option<String>,
    pub table: Option<String>,
    pub key: Option<Keys>,
    pub next: Option<String>,
}

/// `key = "expr"` or `key = ["expr", "expr"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Keys {
    One(String),
    Many(Vec<String>),
}

impl Keys {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Keys::One(k) => vec![k],
            Keys::Many(ks) => ks,
        }
    }
}

/// `[[tlv]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlvFamily {
    pub id: String,
    pub kind: String,
    pub length: String,
    #[serde(default = "default_covers")]
    pub covers: String,
    /// The length counts units of this many bytes (IPv6 Neighbor Discovery: 8).
    #[serde(default = "default_unit")]
    pub unit: u64,
    pub registry: Option<String>,
    #[serde(default)]
    pub single: Vec<u64>,
    pub end: Option<u64>,
    #[serde(default = "default_align")]
    pub align: u64,
    #[serde(default)]
    pub variant: Vec<TlvVariant>,
}

fn default_covers() -> String {
    "all".to_owned()
}

fn default_unit() -> u64 {
    1
}

fn default_align() -> u64 {
    1
}

/// `[[tlv.variant]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlvVariant {
    pub kind: u64,
    pub name: String,
    #[serde(default)]
    pub doc: String,
    #[serde(default)]
    pub fields: Vec<Field>,
}

/// A file under `specs/registry/`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFile {
    pub registry: RegistryMeta,
    #[serde(default)]
    pub values: BTreeMap<String, RegistryValue>,
}

/// `[registry]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryMeta {
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub width: u32,
    #[serde(default)]
    pub source: String,
}

/// A registry entry: a bare name or `{ name, doc }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RegistryValue {
    Name(String),
    Full {
        name: String,
        #[serde(default)]
        doc: String,
    },
}

impl RegistryValue {
    pub fn name(&self) -> &str {
        match self {
            RegistryValue::Name(n) | RegistryValue::Full { name: n, .. } => n,
        }
    }
}
