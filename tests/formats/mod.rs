//! Reading the outputs back, to check that every format holds what the JSON holds: a
//! plist as the JSON it must equal once `<data>` is hex, and a small reader of the text
//! tree that parses it back to its structure and compares that with the JSON.

#![allow(dead_code)]

use std::path::Path;

use serde_json::{Map, Value as Json};

use crate::common::{ok, run};

/// A plist as JSON would show it: `<data>` as hex, `<date>` as its text.
pub fn plist_to_json(v: plist::Value) -> Json {
    match v {
        plist::Value::Dictionary(d) => {
            Json::Object(d.into_iter().map(|(k, v)| (k, plist_to_json(v))).collect())
        }
        plist::Value::Array(a) => Json::Array(a.into_iter().map(plist_to_json).collect()),
        plist::Value::Boolean(b) => Json::Bool(b),
        plist::Value::Integer(i) => match i.as_unsigned() {
            Some(u) => Json::from(u),
            None => Json::from(i.as_signed().expect("an integer")),
        },
        plist::Value::String(s) => Json::String(s),
        plist::Value::Data(d) => Json::String(d.iter().map(|b| format!("{b:02x}")).collect()),
        plist::Value::Date(d) => Json::String(d.to_xml_format()),
        other => panic!("unexpected plist value {other:?}"),
    }
}

/// JSON as the plist shows it: `time` in whole seconds, `null` as the string `null`, an
/// enum without a name without its `name` member, text as XML can hold it.
pub fn json_as_plist(v: Json, key: &str) -> Json {
    match v {
        Json::Object(o) => Json::Object(
            o.into_iter()
                .filter(|(k, v)| !(k == "name" && v.is_null()))
                .map(|(k, v)| {
                    let v = json_as_plist(v, &k);
                    (k, v)
                })
                .collect::<Map<_, _>>(),
        ),
        Json::Array(a) => Json::Array(a.into_iter().map(|v| json_as_plist(v, "")).collect()),
        Json::Null => Json::String("null".into()),
        // A date only when plistlib can read it (years 0001 to 9999); else the text.
        Json::String(s) if key == "time" && plist_date(&s) => {
            Json::String(format!("{}Z", &s[..19]))
        }
        // Characters XML 1.0 cannot hold are U+FFFD in the plist.
        Json::String(s) => Json::String(
            s.chars()
                .map(|c| match c {
                    '\t' | '\n' | '\r' => c,
                    '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
                    c => c,
                })
                .collect(),
        ),
        other => other,
    }
}

/// Whether a frame time is a `<date>` in the plist: a four-digit year from 0001.
fn plist_date(iso: &str) -> bool {
    iso.len() >= 19
        && iso.as_bytes()[4] == b'-'
        && iso[..4].bytes().all(|c| c.is_ascii_digit())
        && &iso[..4] != "0000"
}

/// One node of a tree read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `key -> value`: a value on the key's line.
    Scalar(String),
    /// Children `|-- key ...`: a dictionary, in order.
    Dict(Vec<(String, Node)>),
    /// Children `|-- [0]`, `|-- [1]`, ...: a list of dictionaries or lists.
    Items(Vec<Node>),
    /// Children `|--> ...`: the values of a list, or the hex lines of bytes (lines that
    /// continue a value are joined to it with a space).
    Lines(Vec<String>),
    /// No children: an empty dictionary or list.
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mark {
    /// A top-level entry's name.
    Entry,
    /// `|-- `
    Branch,
    /// `|--> `
    Arrow,
    /// A value's next line.
    More,
}

#[derive(Debug)]
struct Line {
    depth: usize,
    mark: Mark,
    /// Per level 1..depth: whether the line shows that level's bar.
    bars: Vec<bool>,
    text: String,
}

fn parse_line(line: &str) -> Result<Line, String> {
    let Some(mut rest) = line.strip_prefix("  ") else {
        if line.starts_with(' ') {
            return Err("indented by one space".into());
        }
        return Ok(Line {
            depth: 0,
            mark: Mark::Entry,
            bars: Vec::new(),
            text: line.to_owned(),
        });
    };
    let mut bars = Vec::new();
    loop {
        for (prefix, mark) in [("|-- ", Mark::Branch), ("|--> ", Mark::Arrow)] {
            if let Some(text) = rest.strip_prefix(prefix) {
                // `|-- ` is also the start of `|--> `: the arrow is tried second and wins.
                if mark == Mark::Branch && text.starts_with("> ") {
                    continue;
                }
                return Ok(Line {
                    depth: bars.len() + 1,
                    mark,
                    bars,
                    text: text.to_owned(),
                });
            }
        }
        if let Some(r) = rest.strip_prefix("|     ") {
            bars.push(true);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("      ") {
            bars.push(false);
            rest = r;
        } else if let Some(text) = rest.strip_prefix("     ") {
            return Ok(Line {
                depth: bars.len() + 1,
                mark: Mark::More,
                bars,
                text: text.to_owned(),
            });
        } else {
            return Err(format!("cannot read the indentation before {rest:?}"));
        }
    }
}

/// Reads a whole tree document: its entries (`Frame 1`, ...) and what each holds. Checks
/// the layout too: entries apart by one empty line, and a level's bar drawn exactly
/// while more members of that level follow.
pub fn read_tree(text: &str) -> Result<Vec<(String, Node)>, String> {
    let mut lines: Vec<Line> = Vec::new();
    let mut blank_before = true;
    for (n, l) in text.lines().enumerate() {
        if l.is_empty() {
            if blank_before {
                return Err(format!("line {}: two empty lines in a row", n + 1));
            }
            blank_before = true;
            continue;
        }
        let line = parse_line(l).map_err(|e| format!("line {}: {e}: {l:?}", n + 1))?;
        if (line.mark == Mark::Entry) != blank_before {
            return Err(format!(
                "line {}: entries, and only entries, follow an empty line: {l:?}",
                n + 1
            ));
        }
        blank_before = false;
        lines.push(line);
    }
    check_bars(&lines)?;
    // A value's next lines continue it.
    let mut merged: Vec<Line> = Vec::with_capacity(lines.len());
    for line in lines {
        if line.mark == Mark::More {
            let last = merged.last_mut().ok_or("a continuation line comes first")?;
            if last.mark != Mark::Arrow || last.depth != line.depth {
                return Err(format!("{:?} continues no value", line.text));
            }
            last.text.push(' ');
            last.text.push_str(&line.text);
        } else {
            merged.push(line);
        }
    }
    let mut i = 0;
    let mut entries = Vec::new();
    while i < merged.len() {
        let name = merged[i].text.clone();
        i += 1;
        let node = children(&merged, &mut i, 1).map_err(|e| format!("in {name:?}: {e}"))?;
        entries.push((name, node));
    }
    Ok(entries)
}

/// The bar of level k shows on a line exactly when a member at depth k comes later,
/// before a line of a lower depth ends that level's container.
fn check_bars(lines: &[Line]) -> Result<(), String> {
    let mut later: Vec<bool> = Vec::new();
    for line in lines.iter().rev() {
        for k in 1..line.depth {
            let want = later.get(k).copied().unwrap_or(false);
            if line.bars[k - 1] != want {
                return Err(format!(
                    "{:?}: the bar of level {k} is {} but should {}",
                    line.text,
                    if want { "missing" } else { "drawn" },
                    if want { "be drawn" } else { "not be" }
                ));
            }
        }
        if line.mark == Mark::Entry {
            later.clear();
        } else if line.mark != Mark::More {
            if later.len() <= line.depth {
                later.resize(line.depth + 1, false);
            }
            later[line.depth] = true;
            later.truncate(line.depth + 1);
        }
    }
    Ok(())
}

/// Whether `label` is `[n]`.
fn index_label(label: &str) -> Option<usize> {
    label.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

/// The node holding the lines at `depth` from `*i` on (moving `*i` past them).
fn children(lines: &[Line], i: &mut usize, depth: usize) -> Result<Node, String> {
    let Some(first) = lines.get(*i).filter(|l| l.depth >= depth) else {
        return Ok(Node::Empty);
    };
    if first.depth > depth {
        return Err(format!("{:?} skips a level", first.text));
    }
    let here = |i: usize| lines.get(i).filter(|l| l.depth >= depth);
    if first.mark == Mark::Arrow {
        let mut values = Vec::new();
        while let Some(l) = here(*i) {
            if l.depth != depth || l.mark != Mark::Arrow {
                return Err(format!("{:?} among a list's values", l.text));
            }
            values.push(l.text.clone());
            *i += 1;
        }
        return Ok(Node::Lines(values));
    }
    if index_label(&first.text).is_some() {
        let mut items = Vec::new();
        while let Some(l) = here(*i) {
            if index_label(&l.text) != Some(items.len()) || l.mark != Mark::Branch {
                return Err(format!("{:?} where [{}] belongs", l.text, items.len()));
            }
            *i += 1;
            items.push(children(lines, i, depth + 1)?);
        }
        return Ok(Node::Items(items));
    }
    let mut members = Vec::new();
    while let Some(l) = here(*i) {
        if l.depth != depth || l.mark != Mark::Branch {
            return Err(format!("{:?} among a dictionary's members", l.text));
        }
        *i += 1;
        match l.text.split_once(" -> ") {
            Some((key, value)) => {
                members.push((key.to_owned(), Node::Scalar(value.to_owned())));
                if lines.get(*i).is_some_and(|n| n.depth > depth) {
                    return Err(format!("{key:?} has a value and members"));
                }
            }
            None => {
                let node = children(lines, i, depth + 1)?;
                members.push((l.text.clone(), node));
            }
        }
    }
    Ok(Node::Dict(members))
}

/// Text as the tree writes it: control characters escaped.
fn escaped(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a line is bytes in hex, two digits and a space at a time.
fn hex_line(line: &str) -> bool {
    line.split(' ')
        .all(|b| b.len() == 2 && b.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// A JSON value that is not a container, as the tree shows it on one line.
fn scalar_matches(v: &Json, line: &str) -> bool {
    match v {
        Json::Null => line == "None",
        Json::Bool(b) => line == if *b { "True" } else { "False" },
        Json::Number(n) => line == n.to_string(),
        Json::String(s) if s.is_empty() => line == "NIL" || line.is_empty(),
        Json::String(s) => line == escaped(s) || (hex_line(line) && line.replace(' ', "") == *s),
        Json::Object(o) => enum_text(o).is_some_and(|t| t == line),
        Json::Array(_) => false,
    }
}

/// A registry value (`{"name": ..., "value": ...}`) as the tree writes it: `name [value]`.
fn enum_text(o: &Map<String, Json>) -> Option<String> {
    if o.len() != 2 {
        return None;
    }
    let value = o.get("value")?.as_u64()?;
    match o.get("name")? {
        Json::String(n) => Some(format!("{n} [{value}]")),
        Json::Null => Some(format!("[{value}]")),
        _ => None,
    }
}

/// The JSON member a tree member stands for, and its node. Keys are written escaped (a
/// third-party backend's may hold anything); one holding ` -> ` itself (tshark's
/// `Content-encoded entity body (gzip): 1112 bytes -> 3096 bytes`) made its line split
/// at its own arrow: the line is split again after the JSON key it starts with.
fn member(o: &Map<String, Json>, key: &str, child: &Node) -> Option<(String, Node)> {
    if o.contains_key(key) {
        return Some((key.to_owned(), child.clone()));
    }
    if let Some(k) = o.keys().find(|k| escaped(k) == key) {
        return Some((k.clone(), child.clone()));
    }
    let Node::Scalar(value) = child else {
        return None;
    };
    let line = format!("{key} -> {value}");
    o.keys().find_map(|k| {
        let rest = line.strip_prefix(&escaped(k))?.strip_prefix(" -> ")?;
        Some((k.clone(), Node::Scalar(rest.to_owned())))
    })
}

/// Checks that a tree node holds the JSON value `v`; `path` names it in the error.
pub fn tree_matches(v: &Json, node: &Node, path: &str) -> Result<(), String> {
    let fail = || Err(format!("{path}: the tree holds {node:?} for {v}"));
    match (v, node) {
        (Json::Object(o), Node::Dict(members)) => {
            if members.len() != o.len() {
                return Err(format!(
                    "{path}: the tree has members {:?}, the JSON {:?}",
                    members.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                    o.keys().collect::<Vec<_>>()
                ));
            }
            for (key, child) in members {
                let (key, child) = match member(o, key, child) {
                    Some(found) => found,
                    None => return Err(format!("{path}: the JSON has no {key:?}")),
                };
                tree_matches(&o[&key], &child, &format!("{path}/{key}"))?;
            }
            Ok(())
        }
        (Json::Object(o), Node::Empty) if o.is_empty() => Ok(()),
        (Json::Array(a), Node::Empty) if a.is_empty() => Ok(()),
        (Json::Array(a), Node::Items(items)) if a.len() == items.len() => {
            for (k, (value, item)) in a.iter().zip(items).enumerate() {
                if !(value.is_object() || value.is_array()) {
                    return Err(format!("{path}[{k}]: a value listed as an entry"));
                }
                tree_matches(value, item, &format!("{path}[{k}]"))?;
            }
            Ok(())
        }
        (Json::Array(a), Node::Lines(lines)) if a.len() == lines.len() => {
            for (k, (value, line)) in a.iter().zip(lines).enumerate() {
                if !scalar_matches(value, line) {
                    return Err(format!("{path}[{k}]: the tree holds {line:?} for {value}"));
                }
            }
            Ok(())
        }
        (_, Node::Scalar(line)) if scalar_matches(v, line) => Ok(()),
        // Bytes are hex lines below their key.
        (Json::String(s), Node::Lines(lines))
            if lines.len() == 1 && hex_line(&lines[0]) && lines[0].replace(' ', "") == *s =>
        {
            Ok(())
        }
        _ => fail(),
    }
}

/// Checks that a whole tree document holds the whole JSON document.
pub fn tree_holds_json(json: &Json, tree: &str) -> Result<(), String> {
    let entries = read_tree(tree)?;
    let Json::Object(top) = json else {
        return Err("the JSON is not an object".into());
    };
    let names: Vec<&String> = entries.iter().map(|(k, _)| k).collect();
    if entries.len() != top.len() {
        return Err(format!(
            "the tree has {} entries, the JSON {}: {names:?}",
            entries.len(),
            top.len()
        ));
    }
    for (name, node) in &entries {
        let value = top
            .get(name)
            .ok_or_else(|| format!("the JSON has no entry {name:?}"))?;
        tree_matches(value, node, name)?;
    }
    Ok(())
}

/// Runs pcapkit on `capture` in JSON, plist and tree (with `extra` arguments) and checks
/// that the plist equals the JSON and that the tree reads back to it.
pub fn assert_formats_agree(capture: &Path, extra: &[&str]) {
    let run_format = |format: &str| {
        let mut args = vec![capture.to_str().unwrap(), "-f", format];
        args.extend_from_slice(extra);
        run(args)
    };
    let json: Json = serde_json::from_str(&ok(&run_format("json"))).expect("valid JSON");
    let out = run_format("plist");
    let plist = plist::Value::from_reader_xml(&out.stdout[..])
        .unwrap_or_else(|e| panic!("{capture:?} {extra:?}: not a valid plist: {e}"));
    let (got, want) = (plist_to_json(plist), json_as_plist(json.clone(), ""));
    assert!(
        got == want,
        "plist and JSON differ for {capture:?} {extra:?}"
    );
    let out = run_format("tree");
    let tree = String::from_utf8(out.stdout).expect("the tree is UTF-8");
    if let Err(e) = tree_holds_json(&json, &tree) {
        panic!("{capture:?} {extra:?}: the tree does not hold the JSON: {e}");
    }
}
