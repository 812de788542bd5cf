//! Output formats. A dumper receives the capture's header, its sections, interfaces and
//! metadata blocks (pcapng), and every frame, in order; the extractor writes its output to a temporary
//! file and renames it at the end, so no half-written file is ever left behind.

mod fields;
mod files;
mod json;
mod plist;
mod tree;
pub mod walk;

use std::fmt;
use std::io;
use std::str::FromStr;

use crate::chain::{Frame, Reassembled};
use crate::reader::{CaptureInfo, Interface, Metadata, Section};

pub use fields::{unknown_field, Fields, FRAME_FIELDS};
pub use files::Files;
pub(crate) use json::string as json_string;
pub use json::{Json, JsonText, Ndjson};
pub use plist::{Plist, PlistText};
pub use tree::{Tree, TreeText};
pub use walk::{Document, DocumentWriter, Leaf, TreeWriter};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON document in PyPCAPKit's layout (`Global Header`, `Frame 1`, ...).
    Json,
    /// One JSON object a line, one line a frame.
    Ndjson,
    /// Tab-separated columns chosen with `-e`, like `tshark -T fields`.
    Fields,
    /// An XML property list (Apple's plist 1.0) in PyPCAPKit's layout.
    Plist,
    /// PyPCAPKit's indented text tree, a block per frame.
    Tree,
}

impl Format {
    /// Every format, for parsing by name.
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Ndjson,
        Format::Fields,
        Format::Plist,
        Format::Tree,
    ];

    /// The name [`FromStr`] accepts (in any case) and [`Display`](fmt::Display) prints.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Fields => "fields",
            Format::Plist => "plist",
            Format::Tree => "tree",
        }
    }

    /// The file extension `extension` appends.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Fields => "tsv",
            Format::Plist => "plist",
            // PyPCAPKit's extension for its tree.
            Format::Tree => "txt",
        }
    }

    /// The format a file name's extension suggests (any case; `jsonl` is NDJSON, `txt`
    /// and `tree` the text tree);
    /// `None` for an extension no format uses.
    ///
    /// ```
    /// use pcapkit::Format;
    ///
    /// assert_eq!(Format::from_extension("JSONL"), Some(Format::Ndjson));
    /// assert_eq!(Format::from_extension("tsv"), Some(Format::Fields));
    /// assert_eq!(Format::from_extension("plist"), Some(Format::Plist));
    /// assert_eq!(Format::from_extension("txt"), Some(Format::Tree));
    /// assert_eq!(Format::from_extension("pcap"), None);
    /// ```
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "tsv" => Some(Format::Fields),
            "plist" => Some(Format::Plist),
            "txt" | "tree" => Some(Format::Tree),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown format `{s}` (known: json, ndjson, fields, plist, tree)")
            })
    }
}

/// Renders frames' text on a thread of its own, for a [`Dumper`] that writes it in order.
pub trait Render: Send {
    /// Appends `frame`'s text to `out`.
    fn render(&mut self, frame: &Frame, out: &mut String);
}

/// Writes what the extractor finds.
pub trait Dumper {
    /// The capture's file header, first of all; pcapng has none, and says so.
    fn header(&mut self, info: &CaptureInfo) -> io::Result<()>;
    /// A pcapng section header block, when it is read; ignored by default.
    fn section(&mut self, _section: &Section) -> io::Result<()> {
        Ok(())
    }
    /// A pcapng interface description block, when it is read; ignored by default.
    fn interface(&mut self, _interface: &Interface) -> io::Result<()> {
        Ok(())
    }
    /// A pcapng name resolution, interface statistics, decryption secrets or custom
    /// block, when it is read; ignored by default.
    fn metadata(&mut self, _metadata: &Metadata) -> io::Result<()> {
        Ok(())
    }
    /// A frame, once dissected.
    fn frame(&mut self, frame: &Frame) -> io::Result<()>;
    /// Whether this dumper reads headers with [`Layer::visit_in`](crate::Layer::visit_in),
    /// so that the chain may leave them undecoded (`Thresholds::views`); `false` by default.
    fn reads_views(&self) -> bool {
        false
    }
    /// A renderer of this dumper's frames for another thread (the render stage), when the
    /// format allows: asked after [`header`](Self::header), it writes a frame's text as
    /// [`frame`](Self::frame) would, but for what depends on the frames before it, which
    /// [`rendered`](Self::rendered) adds. `None` (the default): frames are written here.
    fn renderer(&self) -> Option<Box<dyn Render>> {
        None
    }
    /// Writes a frame whose text this dumper's [renderer](Self::renderer) made, in place
    /// of [`frame`](Self::frame); by default ignores `text` and writes the frame itself.
    fn rendered(&mut self, frame: &Frame, text: &str) -> io::Result<()> {
        let _ = text;
        self.frame(frame)
    }
    /// Datagrams and PDUs still incomplete when the capture ended (after the last frame);
    /// ignored by default.
    fn reassembled_at_end(&mut self, _incomplete: &[Reassembled]) -> io::Result<()> {
        Ok(())
    }
    /// Completes the output (closing brackets) and flushes it.
    fn finish(&mut self) -> io::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case_and_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.name().to_uppercase().parse::<Format>(), Ok(f));
        }
        assert_eq!("PLIST".parse::<Format>(), Ok(Format::Plist));
        assert_eq!("tree".parse::<Format>(), Ok(Format::Tree));
        assert!("xml".parse::<Format>().unwrap_err().contains("plist, tree"));
    }

    #[test]
    fn extensions_choose_formats() {
        for f in Format::ALL {
            assert_eq!(Format::from_extension(f.extension()), Some(f));
        }
        assert_eq!(Format::extension(Format::Plist), "plist");
        assert_eq!(Format::extension(Format::Tree), "txt");
        assert_eq!(Format::from_extension("Plist"), Some(Format::Plist));
        assert_eq!(Format::from_extension("TXT"), Some(Format::Tree));
        assert_eq!(Format::from_extension("tree"), Some(Format::Tree));
        assert_eq!(Format::from_extension("xml"), None);
    }
}
