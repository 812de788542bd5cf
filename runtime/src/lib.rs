//! pcapkit reads pcap and pcapng captures, dissects every frame through link, internet,
//! transport and application layers, and dumps what it found.
//!
//! Protocol layouts are TOML specs (`specs/`); the build turns each into a deku-derived
//! dissector in [`protocols`], registered in dispatch tables that the [`chain`] follows.
//!
//! ```no_run
//! use pcapkit::{Extractor, Format};
//!
//! let extractor = Extractor::builder()
//!     .input("capture.pcap")
//!     .output("out")
//!     .format(Format::Json)
//!     .store(true)
//!     .run()?;
//! for frame in extractor.frames() {
//!     println!("{} {}", frame.number, frame.protocols());
//! }
//! # Ok::<(), pcapkit::Error>(())
//! ```

#![warn(missing_docs)]

pub mod chain;
pub mod conversation;
pub mod dnsname;
pub mod dump;
pub mod engine;
pub mod extract;
pub mod flow;
pub mod hooks;
pub mod layer;
pub mod protocols;
pub mod reader;
pub mod reassembly;
pub mod registry;
pub mod session;
pub mod tlv;
pub mod trace;
pub mod value;
pub mod wire;

pub use chain::{Frame, Layer, LayerKind, Thresholds, Timestamp};
pub use dump::Format;
pub use engine::{EngineKind, ForeignLayer, ForeignValue};
pub use extract::{Error, Extractor, ExtractorBuilder, Reassembly};

pub use layer::Level;
pub use protocols::ProtocolId;
