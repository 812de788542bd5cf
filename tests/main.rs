//! The integration tests, built as one binary: each `tests/*.rs` file is a module here,
//! so the library and the dev-dependencies are linked once instead of once per file.
//!
//! Cargo no longer finds test files by itself (`autotests = false`): a new file must be
//! added below, and `every_test_file_is_a_module` fails until it is. Each file keeps its
//! own `use crate::common;`: the helpers in `tests/common/` (and the output readers in
//! `tests/formats/`) are compiled once, here.

mod common;
mod formats;

#[path = "allocations.rs"]
mod allocations;
#[path = "bit_containers.rs"]
mod bit_containers;
#[path = "cli.rs"]
mod cli;
#[path = "dns.rs"]
mod dns;
#[path = "doh.rs"]
mod doh;
#[path = "engines.rs"]
mod engines;
#[path = "foreign_output.rs"]
mod foreign_output;
#[path = "ftp.rs"]
mod ftp;
#[path = "http2.rs"]
mod http2;
#[path = "industrial.rs"]
mod industrial;
#[path = "library.rs"]
mod library;
#[path = "link_layers.rs"]
mod link_layers;
#[path = "llc_ipx.rs"]
mod llc_ipx;
#[path = "multicast.rs"]
mod multicast;
#[path = "ntp.rs"]
mod ntp;
#[path = "outputs.rs"]
mod outputs;
#[path = "pcapng_metadata.rs"]
mod pcapng_metadata;
#[path = "peers.rs"]
mod peers;
#[path = "ppp.rs"]
mod ppp;
#[path = "reassembly.rs"]
mod reassembly;
#[path = "robustness.rs"]
mod robustness;
#[path = "spec_interpreter.rs"]
mod spec_interpreter;
#[path = "spec_properties.rs"]
mod spec_properties;
#[path = "streams.rs"]
mod streams;
#[path = "tls.rs"]
mod tls;
#[path = "trace.rs"]
mod trace;
#[path = "tunnels.rs"]
mod tunnels;
#[path = "views.rs"]
mod views;

/// Every `tests/*.rs` file (and `tests/*/main.rs`, which cargo would also have built) is
/// a module of this binary: otherwise its tests would silently never run.
#[test]
fn every_test_file_is_a_module() {
    let this = include_str!("main.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/ is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let file = if path.is_dir() {
            if !path.join("main.rs").is_file() {
                continue; // a module directory such as common/
            }
            format!("{name}/main.rs")
        } else if name.ends_with(".rs") && name != "main.rs" {
            name
        } else {
            continue;
        };
        if !this.contains(&format!("#[path = \"{file}\"]")) {
            missing.push(file);
        }
    }
    assert!(
        missing.is_empty(),
        "not modules of tests/main.rs, so never run: {missing:?}"
    );
}
