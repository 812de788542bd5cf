//! Snapshots of generated code, so that a change to the generator shows up as a diff in
//! review: the UDP dissector (a plain header) and the TCP option family (TLV variants).
//!
//! After an intended change: `cargo insta review` (or `INSTA_UPDATE=always cargo test`).

use std::path::Path;

fn generated(name: &str) -> String {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let model = pcapkit_codegen::load(&specs).unwrap_or_else(|e| panic!("{e}"));
    pcapkit_codegen::emit_all(&model)
        .into_iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no generated file {name}"))
        .code
}

#[test]
fn udp_dissector() {
    insta::assert_snapshot!(generated("proto_udp.rs"));
}

#[test]
fn tcp_option_family() {
    insta::assert_snapshot!(generated("tlv_tcp_option.rs"));
}
