//! `--files`: a directory instead of one file: `headers.EXT` (the global header, pcapng
//! sections, interfaces and metadata blocks, incomplete reassembly at the end) and one `frame-NNNNNN.EXT`
//! per frame, each a complete document of its format (PyPCAPKit's `files=True`, without
//! its `Frame 1..json` names).

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::PathBuf;

use super::walk::{Document, DocumentWriter};
use super::Dumper;
use crate::chain::{Frame, Reassembled};
use crate::reader::{CaptureInfo, Interface, Metadata, Section};

/// Writes a document per frame into a directory, and the headers into one more.
pub struct Files<D: DocumentWriter + Default> {
    dir: PathBuf,
    extension: &'static str,
    headers: Document<BufWriter<File>, D>,
    nanosecond: bool,
}

impl<D: DocumentWriter + Default> Files<D> {
    /// Writes into `dir` (which exists), naming files with `extension` (`json`).
    pub fn new(dir: PathBuf, extension: &'static str) -> io::Result<Self> {
        let headers = File::create(dir.join(format!("headers.{extension}")))?;
        Ok(Files {
            dir,
            extension,
            headers: Document::new(BufWriter::new(headers)),
            nanosecond: true,
        })
    }

    /// The file of frame `number`: `frame-000001.json`; more digits past 999999.
    pub fn frame_name(number: u64, extension: &str) -> String {
        format!("frame-{number:06}.{extension}")
    }
}

impl<D: DocumentWriter + Default> Dumper for Files<D> {
    fn header(&mut self, info: &CaptureInfo) -> io::Result<()> {
        self.nanosecond = match info {
            CaptureInfo::Pcap(h) => h.nanosecond,
            CaptureInfo::Pcapng => true,
        };
        self.headers.header(info)
    }

    fn section(&mut self, s: &Section) -> io::Result<()> {
        self.headers.section(s)
    }

    fn interface(&mut self, i: &Interface) -> io::Result<()> {
        self.headers.interface(i)
    }

    fn metadata(&mut self, m: &Metadata) -> io::Result<()> {
        self.headers.metadata(m)
    }

    fn frame(&mut self, frame: &Frame) -> io::Result<()> {
        let path = self
            .dir
            .join(Self::frame_name(frame.number, self.extension));
        let mut doc: Document<_, D> = Document::new(BufWriter::new(File::create(path)?));
        doc.set_nanosecond(self.nanosecond);
        doc.frame(frame)?;
        doc.finish()
    }

    fn reassembled_at_end(&mut self, incomplete: &[Reassembled]) -> io::Result<()> {
        self.headers.reassembled_at_end(incomplete)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.headers.finish()
    }
}
