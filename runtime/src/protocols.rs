//! The dissectors generated from `specs/`: one module per protocol, the TLV option
//! families, [`ProtocolId`], [`Header`], [`dissect`] and the dispatch [`table`]s.
//!
//! Nothing here is written by hand; see `specs/README.md` for the language and
//! `cargo run -p pcapkit-codegen --example dump -- specs DIR` to read the code.

include!(concat!(env!("OUT_DIR"), "/protocols.rs"));
