//! Snapshots of generated code, so that a change to the generator shows up as a diff in
//! review: the UDP dissector (a plain header) and the TCP option family (TLV variants).
//!
//! After an intended change: `cargo insta review` (or `INSTA_UPDATE=always cargo test`).
//!
//! Field ids are global (numbered over every spec), so they are shown relative to the
//! file's first: adding an unrelated spec does not change these snapshots.

use std::path::Path;

fn generated(name: &str) -> String {
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let model = pcapkit_codegen::load(&specs).unwrap_or_else(|e| panic!("{e}"));
    let code = pcapkit_codegen::emit_all(&model)
        .into_iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no generated file {name}"))
        .code;
    relative_ids(&code)
}

/// `id: 471u32` becomes `id: FIRST + 0`, and so on, `FIRST` being the smallest id in the file.
fn relative_ids(code: &str) -> String {
    // `id: <digits>u32`, `id` being a whole word: where it is, and the number.
    let ids: Vec<(usize, usize, u64)> = code
        .match_indices("id: ")
        .filter(|(at, _)| {
            !code[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .filter_map(|(at, key)| {
            let start = at + key.len();
            let rest = &code[start..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let id = rest[..digits].parse().ok()?;
            rest[digits..]
                .starts_with("u32")
                .then_some((start, start + digits + 3, id))
        })
        .collect();
    let Some(first) = ids.iter().map(|(_, _, id)| *id).min() else {
        return code.to_owned();
    };
    let mut out = String::with_capacity(code.len());
    let mut done = 0;
    for (start, end, id) in ids {
        out.push_str(&code[done..start]);
        out.push_str(&format!("FIRST + {}", id - first));
        done = end;
    }
    out.push_str(&code[done..]);
    out
}

#[test]
fn relative_ids_name_the_offset_from_the_first() {
    let code = "FieldInfo { id: 12u32, end: 2u32 }, FieldInfo { id: 14u32 }, grid: 3u32";
    assert_eq!(
        relative_ids(code),
        "FieldInfo { id: FIRST + 0, end: 2u32 }, FieldInfo { id: FIRST + 2 }, grid: 3u32"
    );
}

#[test]
fn udp_dissector() {
    insta::assert_snapshot!(generated("proto_udp.rs"));
}

#[test]
fn tcp_option_family() {
    insta::assert_snapshot!(generated("tlv_tcp_option.rs"));
}

#[test]
fn mobility_header_switch() {
    // A switch over a region its spec sizes, and the option list after it, whose size
    // names the switch's (`sizeof(body)`).
    insta::assert_snapshot!(generated("proto_mh.rs"));
}
