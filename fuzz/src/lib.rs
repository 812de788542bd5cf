//! What the fuzz targets share: the invariants checked on every dissected frame, and a
//! whole-file reader harness. A broken invariant panics, which libFuzzer reports as a
//! crash with the input that caused it.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use pcapkit::dump::{Dumper, Ndjson};
use pcapkit::reader::{CaptureReader, Event};
use pcapkit::value::{Value, Visitor};
use pcapkit::{Frame, Layer};

/// Every layer lies within `data`, and each layer starts inside the payload of the one
/// before it: the dumps slice the bytes by these offsets.
pub fn check_layers(layers: &[Layer], data: &[u8]) {
    let mut within = 0..data.len();
    for (i, layer) in layers.iter().enumerate() {
        let end = layer
            .offset
            .checked_add(layer.header_len)
            .and_then(|e| e.checked_add(layer.payload_len))
            .expect("layer bounds overflow");
        assert!(
            layer.offset >= within.start && end <= within.end,
            "layer {i} ({}) at {}..{end} lies outside {within:?} ({} bytes)",
            layer.name,
            layer.offset,
            data.len()
        );
        if layer.header().is_some() {
            within = layer.payload_range();
        }
    }
}

/// Writes a frame as NDJSON, which must parse, and walks every value of every layer.
pub fn check_dump(frame: &Frame) {
    let mut out = Vec::new();
    let mut ndjson = Ndjson::new(&mut out);
    ndjson.frame(frame).expect("writing to memory");
    ndjson.finish().expect("writing to memory");
    let text = std::str::from_utf8(&out).expect("NDJSON is UTF-8");
    assert_eq!(text.matches('\n').count(), 1, "one line per frame: {text}");
    // Checks the syntax only: building a `Value` costs more than the dump.
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        panic!("invalid JSON ({e}): {text}");
    }
    for (layer, _) in frame.all_layers() {
        let mut v = Values::default();
        layer.visit(&mut v);
        v.finish();
    }
}

/// A visitor that formats every value and checks that lists and items nest.
#[derive(Default)]
pub struct Values {
    text: String,
    open: Vec<bool>,
}

impl Values {
    /// Every list and item opened was closed.
    pub fn finish(self) {
        assert!(self.open.is_empty(), "unclosed list or item");
    }
}

impl Visitor for Values {
    fn field(&mut self, info: &'static pcapkit::value::FieldInfo, value: Value<'_>) {
        assert!((info.id as usize) < pcapkit::protocols::FIELD_COUNT);
        self.text.clear();
        value.write_text(&mut self.text);
    }

    fn begin_list(&mut self, _info: &'static pcapkit::value::FieldInfo) {
        self.open.push(true);
    }

    fn end_list(&mut self) {
        assert_eq!(self.open.pop(), Some(true), "end_list without its list");
    }

    fn begin_item(&mut self) {
        assert_eq!(self.open.last(), Some(&true), "an item outside a list");
        self.open.push(false);
    }

    fn end_item(&mut self) {
        assert_eq!(self.open.pop(), Some(false), "end_item without its item");
    }
}

/// What a reader returned, event by event, with each packet's bytes.
fn read_all(reader: Result<CaptureReader, pcapkit::reader::ReadError>, len: usize) -> Vec<u8> {
    let mut reader = match reader {
        Ok(r) => r,
        Err(e) => return format!("error: {e}").into_bytes(),
    };
    let mut log = format!("{:?}\n", reader.info()).into_bytes();
    let mut events = 0usize;
    let mut last_offset = reader.offset();
    while let Some(event) = reader.next_event() {
        events += 1;
        // Every event consumes at least a record header: no endless loop on bad input.
        assert!(events <= len / 12 + 2, "{events} events from {len} bytes");
        let offset = reader.offset();
        assert!(
            offset >= last_offset && offset <= len as u64,
            "offset {offset}"
        );
        last_offset = offset;
        log.extend_from_slice(format!("{event:?}\n").as_bytes());
        if let Event::Packet(_) = event {
            let bytes = reader.packet();
            assert!(bytes.len() <= len);
            log.extend_from_slice(bytes);
        }
    }
    log
}

/// A scratch file the file reader reads: rewritten for each input rather than created.
pub struct Scratch(std::fs::File);

impl Scratch {
    /// In the temporary directory; removed when the process ends.
    pub fn new() -> Scratch {
        Scratch(tempfile::tempfile().expect("a temporary file"))
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch::new()
    }
}

/// Reads `data` as a capture three ways: as a stream, as a stream that hands out a few
/// bytes per read, and as a regular file (read in shared blocks, another code path).
/// All must see the same events and packet bytes.
pub fn check_reader(data: &[u8], scratch: &mut Scratch) {
    let stream = read_all(CaptureReader::new(Cursor::new(data.to_vec())), data.len());
    let trickle = read_all(CaptureReader::new(Trickle(data.to_vec(), 0)), data.len());
    assert_eq!(stream, trickle, "a stream read whole and in pieces differ");
    let file = &mut scratch.0;
    file.set_len(0).unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.write_all(data).unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    let from_file = read_all(
        CaptureReader::from_file(file.try_clone().unwrap()),
        data.len(),
    );
    assert_eq!(stream, from_file, "a stream and a file read differently");
}

/// Hands out its bytes (from the position) a few at a time: the worst case for buffering.
struct Trickle(Vec<u8>, usize);

impl Read for Trickle {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.0[self.1..];
        let n = out.len().min(rest.len()).min(7);
        out[..n].copy_from_slice(&rest[..n]);
        self.1 += n;
        Ok(n)
    }
}
