//! Open enums generated from `specs/registry/`: a lookup function per registry
//! (`ethertype(0x0800) == Some("IPv4")`) and its table of named values.

include!(concat!(env!("OUT_DIR"), "/registry.rs"));
