//! `fields`: like `tshark -T fields`: the columns named with `-e`, a header line, one
//! tab-separated row a frame; a field present several times in a frame is joined with `,`.
//!
//! With a third-party engine (etherparse, pnet, tshark) the columns are the frame's
//! envelope (`frame.*`) and the backend's fields as it names them (see
//! [`ForeignLayer::names`]): `ipv4.src` of etherparse and pnet, tshark's `ip.src`.

use std::io::{self, Write};

use super::{Dumper, Render};
use crate::chain::Frame;
use crate::engine::{backend_fields, backend_has, EngineKind, ForeignLayer};
use crate::protocols::{ProtocolId, FIELD_COUNT, FIELD_TABLES};
use crate::reader::pcapng_meta::OptionValue;
use crate::reader::CaptureInfo;
use crate::value::{FieldInfo, Value, Visitor};

/// Fields every frame has, besides those of its protocols.
pub const FRAME_FIELDS: &[(&str, &str)] = &[
    ("frame.number", "1-based position in the capture"),
    (
        "frame.time_epoch",
        "seconds since 1970-01-01 UTC, with 9 decimals",
    ),
    ("frame.time", "ISO 8601 time, UTC"),
    ("frame.len", "length on the wire"),
    ("frame.cap_len", "bytes captured"),
    ("frame.linktype", "link-layer header type"),
    ("frame.interface", "pcapng interface index"),
    ("frame.comment", "pcapng packet comments (opt_comment)"),
    (
        "frame.packet_flags",
        "pcapng epb_flags word (direction, reception type, FCS length, errors)",
    ),
    (
        "frame.drop_count",
        "pcapng epb_dropcount: packets lost before this one",
    ),
    ("frame.packet_id", "pcapng epb_packetid"),
    (
        "frame.interface_queue",
        "pcapng epb_queue: the queue the packet came in on",
    ),
    (
        "frame.protocols",
        "the protocol chain, as Ethernet:IPv4:TCP",
    ),
    (
        "tcp.stream",
        "TCP connection number, from 0 in order of first appearance (with --tcp)",
    ),
    ("tcp.len", "TCP payload length of each segment, in bytes"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Frame(usize),
    Protocol(u32),
    /// A third-party backend's field: its index among `Rows::foreign`.
    Foreign(usize),
}

/// Where a requested path is found.
fn resolve(path: &str) -> Option<Column> {
    if let Some(i) = FRAME_FIELDS.iter().position(|(p, _)| *p == path) {
        return Some(Column::Frame(i));
    }
    FIELD_TABLES
        .iter()
        .flat_map(|t| t.iter())
        .find(|f| f.path == path)
        .or_else(|| {
            FIELD_TABLES
                .iter()
                .flat_map(|t| t.iter())
                .find(|f| f.wireshark == Some(path))
        })
        .map(|f| Column::Protocol(f.id))
}

/// Why a field path is not known, with the nearest known paths.
pub fn unknown_field(path: &str) -> String {
    let all = FRAME_FIELDS
        .iter()
        .map(|(p, _)| *p)
        .chain(FIELD_TABLES.iter().flat_map(|t| t.iter().map(|f| f.path)));
    let last = path.rsplit('.').next().unwrap_or(path);
    let mut near: Vec<&str> = all
        .filter(|p| p.rsplit('.').next() == Some(last))
        .take(6)
        .collect();
    near.sort_unstable();
    let mut msg = format!("unknown field `{path}`");
    if !near.is_empty() {
        msg.push_str(&format!(" (did you mean {}?)", near.join(", ")));
    }
    msg.push_str("; `pcapkit fields --list` lists them all");
    msg
}

/// Why `path`, one of our fields, is not a column with `engine` (a third-party engine,
/// whose fields are its backend's): with the backend's fields of the same protocol, when
/// the engine lists them.
fn not_reported(engine: EngineKind, path: &str) -> String {
    let mut msg = format!("the {engine} engine does not report `{path}`: ");
    match backend_fields(engine) {
        Some(list) => {
            let layer = path.split('.').next().unwrap_or(path);
            let near: Vec<&str> = list
                .iter()
                .copied()
                .filter(|f| f.split('.').next() == Some(layer))
                .collect();
            msg.push_str("its fields are its own, named after their layer");
            if near.is_empty() {
                let mut layers: Vec<&str> = list.iter().filter_map(|f| f.split('.').next()).collect();
                layers.dedup();
                msg.push_str(&format!(" (its layers: {})", layers.join(", ")));
            } else {
                msg.push_str(&format!(" ({})", near.join(", ")));
            }
        }
        None => msg.push_str("its fields are tshark's, named as tshark names them (`ip.src`; `tshark -G fields` lists them)"),
    }
    msg
}

/// Whether `path` is the frame's envelope (`frame.number`, ...), which every engine gives.
fn envelope(path: &str) -> Option<Column> {
    FRAME_FIELDS
        .iter()
        .position(|(p, _)| *p == path && p.starts_with("frame."))
        .map(Column::Frame)
}

/// The `fields` dumper.
pub struct Fields<W: Write> {
    out: W,
    paths: Vec<String>,
    rows: Rows,
    row: String,
}

/// Makes a frame's row: what a row holds depends on the frame alone, so copies render
/// rows on other threads.
#[derive(Clone)]
struct Rows {
    columns: Vec<Column>,
    /// Per field id, the slot collecting its values (`usize::MAX`: not requested).
    slot_of: Vec<usize>,
    /// Per field id, whether the field is requested or holds one that is (a list).
    holds: Vec<bool>,
    /// The protocols with a requested field: the other layers are not visited.
    protocols: Vec<ProtocolId>,
    /// Values per requested protocol field, joined with `,`.
    slots: Vec<String>,
    /// The third-party backend's fields requested, and their values joined with `,`.
    foreign: Vec<String>,
    foreign_slots: Vec<String>,
}

impl Rows {
    /// Appends `frame`'s row, line break included, to `row`.
    fn render(&mut self, frame: &Frame, row: &mut String) {
        for s in &mut self.slots {
            s.clear();
        }
        if !self.slots.is_empty() {
            let mut collect = Collect {
                slot_of: &self.slot_of,
                holds: &self.holds,
                slots: &mut self.slots,
            };
            for (layer, data) in frame.all_layers() {
                // Only the layers and option lists that hold a requested field.
                if layer
                    .protocol()
                    .is_some_and(|p| self.protocols.contains(&p))
                {
                    layer.visit_in(data, &mut collect);
                }
            }
        }
        for s in &mut self.foreign_slots {
            s.clear();
        }
        if !self.foreign.is_empty() {
            for l in &frame.foreign {
                let key = l.key();
                for (name, v) in &l.fields {
                    for (path, cell) in self.foreign.iter().zip(&mut self.foreign_slots) {
                        if ForeignLayer::names(&key, name, path) {
                            if !cell.is_empty() {
                                cell.push(',');
                            }
                            let start = cell.len();
                            v.as_value().write_text(cell);
                            escape_from(cell, start);
                        }
                    }
                }
            }
        }
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                row.push('\t');
            }
            match *column {
                Column::Frame(index) => frame_value(frame, index, row),
                Column::Protocol(id) => row.push_str(&self.slots[self.slot_of[id as usize]]),
                Column::Foreign(k) => row.push_str(&self.foreign_slots[k]),
            }
        }
        row.push('\n');
    }
}

impl Render for Rows {
    fn render(&mut self, frame: &Frame, out: &mut String) {
        Rows::render(self, frame, out);
    }
}

impl<W: Write> Fields<W> {
    /// Checks the paths; the error names the first unknown one.
    pub fn new(out: W, paths: &[String]) -> Result<Self, String> {
        Self::with_engine(out, paths, EngineKind::Default)
    }

    /// Checks the paths for the frames `engine` makes: with a third-party engine, the
    /// frame's envelope (`frame.*`) and the backend's fields (see the [module](self)
    /// documentation); one of ours the backend does not report is an error too.
    pub fn with_engine(out: W, paths: &[String], engine: EngineKind) -> Result<Self, String> {
        let mut columns = Vec::new();
        let mut slot_of = vec![usize::MAX; FIELD_COUNT];
        let mut slots = 0;
        let mut foreign = Vec::new();
        // Asked of the backend once for all (tshark lists its fields in a second).
        let backend = if engine.is_foreign() && paths.iter().any(|p| envelope(p).is_none()) {
            let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
            backend_has(engine, &paths)
        } else {
            Vec::new()
        };
        for (i, path) in paths.iter().enumerate() {
            let column = if engine.is_foreign() {
                if let Some(c) = envelope(path) {
                    c
                } else if backend.get(i) == Some(&true) {
                    foreign.push(path.clone());
                    columns.push(Column::Foreign(foreign.len() - 1));
                    continue;
                } else if resolve(path).is_some() {
                    return Err(not_reported(engine, path));
                } else {
                    return Err(unknown_field(path));
                }
            } else {
                resolve(path).ok_or_else(|| unknown_field(path))?
            };
            if let Column::Protocol(id) = column {
                if slot_of[id as usize] == usize::MAX {
                    slot_of[id as usize] = slots;
                    slots += 1;
                }
            }
            columns.push(column);
        }
        // A field holds a requested one when it is one, or its path is a prefix of one
        // (`tcp.options` of `tcp.options.mss`).
        let mut holds = vec![false; FIELD_COUNT];
        let mut protocols = Vec::new();
        for (p, table) in ProtocolId::ALL.iter().zip(FIELD_TABLES.iter()) {
            for info in table.iter() {
                let held = table.iter().any(|f| {
                    slot_of[f.id as usize] != usize::MAX
                        && (f.id == info.id
                            || f.path
                                .strip_prefix(info.path)
                                .is_some_and(|rest| rest.starts_with('.')))
                });
                if held {
                    holds[info.id as usize] = true;
                    if !protocols.contains(p) {
                        protocols.push(*p);
                    }
                }
            }
        }
        Ok(Fields {
            out,
            paths: paths.to_vec(),
            rows: Rows {
                columns,
                slot_of,
                holds,
                protocols,
                slots: vec![String::new(); slots],
                foreign_slots: vec![String::new(); foreign.len()],
                foreign,
            },
            row: String::new(),
        })
    }
}

struct Collect<'a> {
    slot_of: &'a [usize],
    holds: &'a [bool],
    slots: &'a mut [String],
}

impl Visitor for Collect<'_> {
    fn wants_list(&mut self, info: &'static FieldInfo, values: &'static [FieldInfo]) -> bool {
        // The list's own fields (kind, length, data) or its options' values.
        self.holds[info.id as usize]
            || values
                .iter()
                .any(|f| self.slot_of[f.id as usize] != usize::MAX)
    }

    fn field(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        let slot = self.slot_of[info.id as usize];
        if slot != usize::MAX {
            let cell = &mut self.slots[slot];
            if !cell.is_empty() {
                cell.push(',');
            }
            let start = cell.len();
            value.write_text(cell);
            // Only text can hold a tab, a line break or a backslash.
            if matches!(
                value,
                Value::Text(_) | Value::Bytes(_, crate::value::BytesDisplay::Text)
            ) {
                escape_from(cell, start);
            }
        }
    }

    /// A container of bit ranges is a column like any value when asked for.
    fn whole(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        self.field(info, value);
    }
}

/// Escapes tabs and line breaks written since `start`, as tshark does, so that a value
/// never splits a row or a column; and backslashes, which tshark 4.0 leaves as they are,
/// so that every cell reads back exactly (tshark's `\t` may be a tab or `\` and `t`).
fn escape_from(cell: &mut String, start: usize) {
    if cell[start..].contains(['\t', '\n', '\r', '\\']) {
        let escaped = cell[start..]
            .replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        cell.truncate(start);
        cell.push_str(&escaped);
    }
}

fn frame_value(frame: &Frame, index: usize, out: &mut String) {
    let mut num = itoa::Buffer::new();
    match FRAME_FIELDS[index].0 {
        "frame.number" => out.push_str(num.format(frame.number)),
        "frame.time_epoch" => {
            out.push_str(
                frame
                    .timestamp
                    .epoch_in(&mut [0; crate::Timestamp::EPOCH_LEN]),
            );
        }
        "frame.time" => out.push_str(
            frame
                .timestamp
                .iso8601_in(&mut [0; crate::Timestamp::ISO8601_LEN]),
        ),
        "frame.len" => out.push_str(num.format(frame.len)),
        "frame.cap_len" => out.push_str(num.format(frame.cap_len)),
        "frame.linktype" => out.push_str(num.format(frame.linktype)),
        "frame.interface" => {
            if let Some(i) = frame.interface {
                out.push_str(num.format(i));
            }
        }
        "frame.protocols" => frame.write_protocols(out),
        "frame.comment"
        | "frame.packet_flags"
        | "frame.drop_count"
        | "frame.packet_id"
        | "frame.interface_queue" => packet_options(frame, FRAME_FIELDS[index].0, out),
        "tcp.stream" => {
            if let Some(s) = frame.tcp_stream {
                out.push_str(num.format(s));
            }
        }
        "tcp.len" => {
            for (i, len) in frame.tcp_lengths().into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(num.format(len));
            }
        }
        other => unreachable!("{other} is listed in FRAME_FIELDS"),
    }
}

/// The values of a pcapng packet option (tshark's `frame.comment`, ...), joined with `,`.
fn packet_options(frame: &Frame, path: &str, out: &mut String) {
    let Some(options) = &frame.pcapng_options else {
        return;
    };
    let wanted = match path {
        "frame.comment" => 1,
        "frame.packet_flags" => 2,
        "frame.drop_count" => 4,
        "frame.packet_id" => 5,
        _ => 6,
    };
    let mut first = true;
    for o in options.iter() {
        if o.header.map(|h| h.code) != Some(wanted) {
            continue;
        }
        let start = out.len();
        match o.value {
            OptionValue::Text(t) => out.push_str(&String::from_utf8_lossy(t)),
            OptionValue::Flags(f) => out.push_str(itoa::Buffer::new().format(f.0)),
            OptionValue::Uint(n) => out.push_str(itoa::Buffer::new().format(n)),
            // Malformed, or a code the block type does not define.
            _ => continue,
        }
        if !first {
            out.insert(start, ',');
        }
        first = false;
        escape_from(out, start);
    }
}

impl<W: Write> Dumper for Fields<W> {
    fn header(&mut self, _info: &CaptureInfo) -> io::Result<()> {
        writeln!(self.out, "{}", self.paths.join("\t"))
    }

    fn reads_views(&self) -> bool {
        true
    }

    fn frame(&mut self, frame: &Frame) -> io::Result<()> {
        self.row.clear();
        self.rows.render(frame, &mut self.row);
        self.out.write_all(self.row.as_bytes())
    }

    fn renderer(&self) -> Option<Box<dyn Render>> {
        Some(Box::new(self.rows.clone()))
    }

    fn rendered(&mut self, _frame: &Frame, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_and_line_breaks_are_escaped() {
        let mut cell = String::from("a,");
        Value::Text("x\ty\r\nz\\").write_text(&mut cell);
        escape_from(&mut cell, 2);
        assert_eq!(cell, "a,x\\ty\\r\\nz\\\\");
    }

    #[test]
    fn unknown_fields_suggest_known_ones() {
        let msg = unknown_field("ipv9.src");
        assert!(msg.contains("ipv4.src"), "{msg}");
        assert!(msg.contains("ipv6.src"), "{msg}");
        assert!(Fields::new(Vec::new(), &["ipv9.src".to_owned()]).is_err());
        // A Wireshark name the spec declares is accepted too.
        assert_eq!(resolve("ip.src"), resolve("ipv4.src"));
        assert!(resolve("ip.src").is_some());
        assert!(Fields::new(
            Vec::new(),
            &["ipv4.src".to_owned(), "frame.number".to_owned()]
        )
        .is_ok());
    }
}
