//! Generated dissectors held to their specs by an interpreter that shares nothing with
//! the generator.
//!
//! The generated property tests (`spec_properties`) draw headers through code the
//! generator also wrote, so a generator bug that is consistent with itself passes them.
//! This file reads the spec files as written (the TOML through codegen's serde mirror
//! and its expression parser only: neither its checker nor its emitter), draws random
//! headers, lays their bytes out itself (widths, byte order, and bit positions computed
//! here from the widths), evaluates `if`, `show`, `assert`, `[payload] size` and the
//! dispatch rules with an evaluator of its own, and compares the generated dissector's
//! values, lengths and next protocol with what the spec says. Every `[[bind]]` key is also
//! planted in a parent header that dispatches through its table, and the chain must
//! reach the child.
//!
//! TLV option lists are built from their families' variants (kind and length in their
//! widths, the length per `covers` and `unit`, padding per `align`, one-byte kinds, the end kind and
//! the padding after it, unknown kinds kept raw) and checked item by item.
//!
//! Protocols the interpreter cannot lay out (hooks, records, switches, counted lists,
//! peeked fields, byte orders given at run time) are checked by their `[[example]]`
//! vectors instead, except that a field it cannot lay out behind an `if` only limits it
//! to the headers where the `if` does not hold (L2TP's data messages, without AVPs); the test names them, and fails if it covers fewer protocols than it did
//! when written.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use pcapkit::chain::{dissect_from, Layer, LayerKind};
use pcapkit::protocols::ProtocolId;
use pcapkit::value::{FieldInfo, Value, Visitor};
use pcapkit::Thresholds;
use pcapkit_codegen::expr::{BinOp, Expr};
use pcapkit_codegen::model::{Bits, Field, Keys, SpecFile};

use crate::common::Rng;

/// Random headers per protocol.
const CASES: usize = 200;
/// Attempts to plant each bind key.
const PLANTS: usize = 512;
/// Protocols covered when this test was written: fewer means a spec or the interpreter
/// lost coverage. (32 before PPP's compressed fields: PPP and PPP-in-HDLC became one
/// protocol read by a hook, which the interpreter cannot lay out; Cisco HDLC came in.)
const MIN_COVERED: usize = 31;
/// Generated round-trip, frame and direct-reader property tests when
/// `generated_property_tests_are_all_there` was written: fewer means the generator
/// dropped some. (41, 33 and 23 before PPP's compressed fields: PPP and PPP-in-HDLC
/// became one protocol read by a hook, its fields present or not by their own bytes,
/// with no generated test of these kinds; Cisco HDLC brought one of each.)
const MIN_ROUND_TRIPS: usize = 40;
const MIN_FRAMES: usize = 32;
const MIN_DIRECT: usize = 22;

// ---------------------------------------------------------------------------------------
// The specs, as written
// ---------------------------------------------------------------------------------------

/// A TLV family, as its spec declares it.
#[derive(Clone)]
struct Family {
    kind_bytes: usize,
    length_bytes: usize,
    covers_all: bool,
    /// Bytes one unit of the length counts.
    unit: usize,
    align: usize,
    single: Vec<u64>,
    end: Option<u64>,
    /// Kind, and the value's fields, for the variants the interpreter can lay out.
    variants: Vec<(u64, Vec<Field>)>,
    /// Every variant's kind (an unknown kind is none of them).
    known: BTreeSet<u64>,
}

struct Spec {
    id: String,
    families: HashMap<String, Family>,
    file: PathBuf,
    big: bool,
    fields: Vec<Field>,
    /// Dispatch rules in order: (when, target).
    rules: Vec<(Option<Expr>, Target)>,
    /// `[payload] size`, when the header declares its payload's length.
    payload_size: Option<Expr>,
    has_payload: bool,
    /// Literals of every expression of the spec: drawn often, so that conditions and
    /// dispatch rules hold as often as not.
    hints: Vec<u64>,
}

enum Target {
    Table(String, Vec<Expr>),
    Next(String),
}

fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs")
}

fn spec_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("specs/ is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "registry") {
                spec_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

fn parse(src: &str) -> Expr {
    Expr::parse(src).unwrap_or_else(|e| panic!("`{src}`: {e}"))
}

/// Every protocol spec, supported by the interpreter or not (with why not).
fn load() -> (Vec<Spec>, BTreeMap<String, String>) {
    let mut files = Vec::new();
    spec_files(&specs_dir(), &mut files);
    files.sort();
    let mut specs = Vec::new();
    let mut unsupported = BTreeMap::new();
    let files: Vec<(PathBuf, SpecFile)> = files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable spec");
            let file = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, file)
        })
        .collect();
    let mut families = HashMap::new();
    for (_, file) in &files {
        for t in &file.tlv {
            let bytes = |w: &str| width(w).map_or(1, |(b, _)| b);
            let variants = t
                .variant
                .iter()
                .filter(|v| v.fields.iter().all(|f| tlv_value_field(f).is_some()))
                .map(|v| (v.kind, v.fields.clone()))
                .collect();
            families.insert(
                t.id.clone(),
                Family {
                    kind_bytes: bytes(&t.kind),
                    length_bytes: bytes(&t.length),
                    covers_all: t.covers == "all",
                    unit: t.unit.max(1) as usize,
                    align: t.align.max(1) as usize,
                    single: t.single.clone(),
                    end: t.end,
                    variants,
                    known: t.variant.iter().map(|v| v.kind).collect(),
                },
            );
        }
    }
    for (path, file) in files {
        let Some(meta) = file.protocol else { continue };
        let why_not = if meta.hook.is_some() {
            Some("a hook fills it".to_owned())
        } else if meta.layer == "capture" {
            Some("a capture structure".to_owned())
        } else if meta.endian == "runtime" {
            Some("byte order given at run time".to_owned())
        } else {
            file.field
                .iter()
                .filter(|f| f.cond.is_none())
                .find_map(|f| unsupported_field(f).map(|w| format!("{}: {w}", f.name)))
        };
        if let Some(why) = why_not {
            unsupported.insert(meta.id, why);
            continue;
        }
        let mut rules = Vec::new();
        let mut payload_size = None;
        let has_payload = file.payload.is_some();
        if let Some(p) = file.payload {
            payload_size = p.size.as_deref().map(parse);
            let mut one = |when: Option<String>,
                           table: Option<String>,
                           key: Option<Keys>,
                           next: Option<String>| {
                let when = when.as_deref().map(parse);
                match (table, key, next) {
                    (Some(t), Some(k), None) => rules.push((
                        when,
                        Target::Table(t, k.into_vec().iter().map(|s| parse(s)).collect()),
                    )),
                    (None, None, Some(n)) => rules.push((when, Target::Next(n))),
                    _ => {}
                }
            };
            one(p.when, p.table, p.key, p.next);
            for r in p.rule {
                one(r.when, r.table, r.key, r.next);
            }
        }
        let mut sources: Vec<&str> = Vec::new();
        for f in &file.field {
            let exprs = [&f.assert, &f.cond, &f.show, &f.size];
            sources.extend(exprs.into_iter().flatten().map(String::as_str));
            for b in f.bits.iter().flatten() {
                sources.extend(b.assert.as_deref());
            }
        }
        let mut hints: Vec<u64> = sources
            .into_iter()
            .flat_map(|e| literals(Some(e)))
            .collect();
        for (when, _) in &rules {
            if let Some(w) = when {
                hints.extend(literals_of(w));
            }
        }
        hints.sort_unstable();
        hints.dedup();
        specs.push(Spec {
            id: meta.id,
            file: path,
            big: meta.endian != "little",
            fields: file.field,
            rules,
            payload_size,
            has_payload,
            hints,
            families: families.clone(),
        });
    }
    (specs, unsupported)
}

fn unsupported_field(f: &Field) -> Option<&'static str> {
    if f.hook.is_some() {
        Some("hooked")
    } else if f.ty.starts_with("tlv:") {
        None
    } else if f.count.is_some() || f.switch.is_some() || f.ty.ends_with("[]") {
        Some("a list or switch")
    } else if f.peek {
        Some("peeked")
    } else if width(&f.ty).is_none() && !matches!(f.ty.as_str(), "mac" | "ipv4" | "ipv6" | "bytes")
    {
        Some("a record")
    } else {
        None
    }
}

/// How a field of a TLV variant's value is laid out: a fixed size, or (`None` inside)
/// the rest of the value, whole elements of this many bytes. `None`: not drawn here.
fn tlv_value_field(f: &Field) -> Option<Option<usize>> {
    if f.cond.is_some() || f.assert.is_some() || f.size.is_some() || f.count.is_some() {
        return None;
    }
    if f.hook.is_some() || f.switch.is_some() || f.peek {
        return None;
    }
    let fixed = |ty: &str| match ty {
        "mac" => Some(6),
        "ipv4" => Some(4),
        "ipv6" => Some(16),
        t => width(t).map(|(b, _)| b),
    };
    match f.ty.strip_suffix("[]") {
        Some(elem) => fixed(elem).map(|_| None),
        None if f.ty == "bytes" => Some(None),
        None => fixed(&f.ty).map(Some),
    }
}

/// Bytes of an integer type, and whether it is signed.
fn width(ty: &str) -> Option<(usize, bool)> {
    Some(match ty {
        "u8" => (1, false),
        "u16" => (2, false),
        "u24" => (3, false),
        "u32" => (4, false),
        "u64" => (8, false),
        "i8" => (1, true),
        "i16" => (2, true),
        "i32" => (4, true),
        "i64" => (8, true),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------

/// Values of the names an expression may use, and the payload's bytes.
#[derive(Default, Clone)]
struct Env {
    names: HashMap<String, u64>,
    payload: Vec<u8>,
}

/// The value of `e` by the README's rules (u64, saturating `-` and `*`, `/` and `%` by
/// zero give zero, shifts past 63 give zero); `None` when it names something not read.
fn eval(e: &Expr, env: &Env) -> Option<u64> {
    Some(match e {
        Expr::Int(v) => *v,
        Expr::Name(n) => *env.names.get(n)?,
        Expr::Not(x) => u64::from(eval(x, env)? == 0),
        Expr::Binary(op, a, b) => {
            let (a, b) = (eval(a, env)?, eval(b, env)?);
            match op {
                BinOp::Or => u64::from(a != 0 || b != 0),
                BinOp::And => u64::from(a != 0 && b != 0),
                BinOp::Eq => u64::from(a == b),
                BinOp::Ne => u64::from(a != b),
                BinOp::Lt => u64::from(a < b),
                BinOp::Le => u64::from(a <= b),
                BinOp::Gt => u64::from(a > b),
                BinOp::Ge => u64::from(a >= b),
                BinOp::BitOr => a | b,
                BinOp::BitXor => a ^ b,
                BinOp::BitAnd => a & b,
                BinOp::Shl => a
                    .checked_shl(u32::try_from(b).ok()?)
                    .filter(|_| b < 64)
                    .unwrap_or(0),
                BinOp::Shr => a
                    .checked_shr(u32::try_from(b).ok()?)
                    .filter(|_| b < 64)
                    .unwrap_or(0),
                BinOp::Add => a.checked_add(b)?,
                BinOp::Sub => a.saturating_sub(b),
                BinOp::Mul => a.saturating_mul(b),
                BinOp::Div => a.checked_div(b).unwrap_or(0),
                BinOp::Rem => a.checked_rem(b).unwrap_or(0),
            }
        }
        Expr::Call(f, args) => match (f.as_str(), args.as_slice()) {
            ("min", [a, b]) => eval(a, env)?.min(eval(b, env)?),
            ("max", [a, b]) => eval(a, env)?.max(eval(b, env)?),
            ("if", [c, t, f]) => {
                if eval(c, env)? != 0 {
                    eval(t, env)?
                } else {
                    eval(f, env)?
                }
            }
            ("payload", [o, w]) => {
                let (o, w) = (eval(o, env)? as usize, eval(w, env)? as usize);
                match env.payload.get(o..o.saturating_add(w)) {
                    Some(bytes) => bytes.iter().fold(0, |acc, &b| acc << 8 | u64::from(b)),
                    None => 0,
                }
            }
            // The length of an earlier field read over `size` bytes, as drawn.
            ("sizeof", [Expr::Name(n)]) => *env.names.get(&format!("sizeof({n})"))?,
            _ => return None,
        },
        // The checker's form of `sizeof` (the parser here never gives it).
        Expr::SizeOf(_, size) => eval(size, env)?,
    })
}

fn holds(src: &str, env: &Env) -> Option<bool> {
    eval(&parse(src), env).map(|v| v != 0)
}

/// Literals an assertion names: drawn often, so that most headers pass it.
fn literals(src: Option<&str>) -> Vec<u64> {
    src.map(|src| literals_of(&parse(src))).unwrap_or_default()
}

fn literals_of(e: &Expr) -> Vec<u64> {
    fn walk(e: &Expr, out: &mut Vec<u64>) {
        match e {
            Expr::Int(v) => out.push(*v),
            Expr::Name(_) => {}
            Expr::Not(x) => walk(x, out),
            Expr::Binary(_, a, b) => {
                walk(a, out);
                walk(b, out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
            Expr::SizeOf(_, size) => walk(size, out),
        }
    }
    let mut out = Vec::new();
    walk(e, &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Drawing a header
// ---------------------------------------------------------------------------------------

/// Paths and what each must show, in wire order (`None`: the path must not be shown).
type Expected = Vec<(String, Option<Shown>)>;

/// A value the dissector must show.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shown {
    Number(i128),
    Bytes(Vec<u8>),
}

struct Drawn {
    bytes: Vec<u8>,
    env: Env,
    /// Path → the value shown, or `None`: not shown.
    expected: Expected,
    /// An assertion does not hold: the layer must be Malformed.
    fails: bool,
    /// The last field took the rest of the input.
    takes_rest: bool,
}

fn draw_int(rng: &mut Rng, bits: u32, hints: &[u64], spec_hints: &[u64]) -> u64 {
    let mask = if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    let v = match rng.below(8) {
        0 | 1 if !hints.is_empty() => hints[rng.index(hints.len())],
        4 if !spec_hints.is_empty() => spec_hints[rng.index(spec_hints.len())],
        2 => rng.below(16),
        3 => mask,
        _ => rng.u64(),
    };
    v & mask
}

/// Draws a bit range (and its own ranges) whose most significant bit is `top` bits below
/// the container's top; returns its raw value and adds every range's scaled value to `env`.
#[allow(clippy::too_many_arguments)]
fn draw_bits(
    rng: &mut Rng,
    ranges: &[Bits],
    width: u32,
    id: &str,
    spec_hints: &[u64],
    forced: Option<(&str, u64)>,
    env: &mut Env,
    expected: &mut Expected,
    fails: &mut bool,
) -> u64 {
    let mut value = 0u64;
    let mut used = 0;
    for r in ranges {
        used += r.width;
        let shift = width - used;
        let raw = match &r.bits {
            Some(inner) => draw_bits(
                rng, inner, r.width, id, spec_hints, forced, env, expected, fails,
            ),
            None => match forced {
                Some((name, v)) if name == r.name => v,
                _ => draw_int(rng, r.width, &literals(r.assert.as_deref()), spec_hints),
            },
        };
        let scaled = raw.saturating_mul(r.scale.unwrap_or(1));
        env.names.insert(r.name.clone(), scaled);
        if r.bits.is_none() {
            expected.push((
                format!("{id}.{}", r.name),
                Some(Shown::Number(i128::from(scaled))),
            ));
        }
        if let Some(a) = &r.assert {
            if holds(a, env) == Some(false) {
                *fails = true;
            }
        }
        value |= raw << shift;
    }
    assert_eq!(used, width, "{id}: bit widths must add up to the container");
    value
}

fn put(out: &mut Vec<u8>, value: u64, bytes: usize, big: bool) {
    let le = value.to_le_bytes();
    if big {
        out.extend(le[..bytes].iter().rev());
    } else {
        out.extend_from_slice(&le[..bytes]);
    }
}

/// A random header of `spec`, `forced` (a field or bit range) taking the given value;
/// `None` when the interpreter cannot tell what it must give.
fn draw(spec: &Spec, rng: &mut Rng, forced: Option<(&str, u64)>) -> Option<Drawn> {
    let mut d = Drawn {
        bytes: Vec::new(),
        env: Env::default(),
        expected: Vec::new(),
        fails: false,
        takes_rest: false,
    };
    let id = &spec.id;
    for f in &spec.fields {
        let path = format!("{id}.{}", f.name);
        if let Some(cond) = &f.cond {
            if !holds(cond, &d.env)? {
                d.expected.push((path, None));
                continue;
            }
            if unsupported_field(f).is_some() {
                // Present, and not a layout drawn here: another header, then.
                return None;
            }
        }
        let big = f.endian.as_deref().map_or(spec.big, |e| e != "little");
        let shown = if let Some((bytes, signed)) = width(&f.ty) {
            let bits = bytes as u32 * 8;
            // Retries keep most headers valid; a few are left failing on purpose.
            let mut tries = 0;
            let raw = loop {
                let mut env = d.env.clone();
                let mut expected = Vec::new();
                let mut fails = false;
                let raw = match (&f.bits, forced) {
                    (Some(ranges), _) => draw_bits(
                        rng,
                        ranges,
                        bits,
                        id,
                        &spec.hints,
                        forced,
                        &mut env,
                        &mut expected,
                        &mut fails,
                    ),
                    (None, Some((name, v))) if name == f.name => v,
                    (None, _) => draw_int(rng, bits, &literals(f.assert.as_deref()), &spec.hints),
                };
                env.names.insert(f.name.clone(), raw);
                if let Some(a) = &f.assert {
                    fails |= !holds(a, &env)?;
                }
                tries += 1;
                if !fails || tries >= 8 || rng.below(16) == 0 {
                    put(&mut d.bytes, raw, bytes, big);
                    d.env = env;
                    d.expected.extend(expected);
                    d.fails |= fails;
                    break raw;
                }
            };
            // A container of ranges shows its whole value too (to `-e`), before them.
            if signed {
                let v = (raw << (64 - bits)) as i64 >> (64 - bits);
                Shown::Number(i128::from(v))
            } else {
                Shown::Number(i128::from(raw))
            }
        } else {
            if let Some(family) = f.ty.strip_prefix("tlv:") {
                let family = spec.families.get(family).expect("a declared family");
                let size = match &f.size {
                    Some(size) => usize::try_from(eval(&parse(size), &d.env)?).ok()?,
                    None => {
                        d.takes_rest = true;
                        rng.index(40)
                    }
                };
                if size > 512 {
                    return None;
                }
                if f.size.is_some() {
                    d.env
                        .names
                        .insert(format!("sizeof({})", f.name), size as u64);
                }
                let path = format!("{id}.{}", f.name);
                let (bytes, shown) = draw_tlv(family, size, rng, id, &path, spec.big)?;
                d.bytes.extend_from_slice(&bytes);
                d.expected.extend(shown);
                continue;
            }
            let len = match (f.ty.as_str(), &f.size) {
                ("mac", _) => 6,
                ("ipv4", _) => 4,
                ("ipv6", _) => 16,
                (_, Some(size)) => usize::try_from(eval(&parse(size), &d.env)?).ok()?,
                (_, None) => {
                    d.takes_rest = true;
                    rng.index(24)
                }
            };
            if len > 512 {
                return None;
            }
            if f.size.is_some() {
                d.env
                    .names
                    .insert(format!("sizeof({})", f.name), len as u64);
            }
            let value: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            d.bytes.extend_from_slice(&value);
            if f.display.as_deref() == Some("text") || value.is_empty() {
                continue;
            }
            Shown::Bytes(value)
        };
        let show = match &f.show {
            Some(s) => holds(s, &d.env)?,
            None => true,
        };
        d.expected.push((path, show.then_some(shown)));
    }
    Some(d)
}

/// A value of a TLV variant's field, and what it shows.
fn draw_value(
    f: &Field,
    room: usize,
    rng: &mut Rng,
    id: &str,
    big: bool,
    out: &mut Vec<u8>,
    shown: &mut Expected,
) -> Option<()> {
    let path = format!("{id}.{}", f.name);
    let elem = match f.ty.strip_suffix("[]") {
        Some(e) => e,
        None if f.ty == "bytes" => {
            let value: Vec<u8> = (0..rng.index(room + 1))
                .map(|_| rng.below(256) as u8)
                .collect();
            out.extend_from_slice(&value);
            if f.display.as_deref() != Some("text") {
                shown.push((path, Some(Shown::Bytes(value))));
            }
            return Some(());
        }
        None => {
            draw_element(&f.ty, f, rng, id, big, out, shown);
            return Some(());
        }
    };
    let size = match elem {
        "mac" => 6,
        "ipv4" => 4,
        "ipv6" => 16,
        t => width(t)?.0,
    };
    for _ in 0..rng.index(room / size + 1) {
        draw_element(elem, f, rng, id, big, out, shown);
    }
    Some(())
}

fn draw_element(
    ty: &str,
    f: &Field,
    rng: &mut Rng,
    id: &str,
    big: bool,
    out: &mut Vec<u8>,
    shown: &mut Expected,
) {
    let path = format!("{id}.{}", f.name);
    if let Some((bytes, signed)) = width(ty) {
        let bits = bytes as u32 * 8;
        let mut env = Env::default();
        let mut fails = false;
        let raw = match &f.bits {
            Some(ranges) => draw_bits(
                rng,
                ranges,
                bits,
                id,
                &[],
                None,
                &mut env,
                shown,
                &mut fails,
            ),
            None => draw_int(rng, bits, &[], &[]),
        };
        put(out, raw, bytes, big);
        // A container of ranges shows its whole value too (to `-e`).
        let v = if signed {
            i128::from((raw << (64 - bits)) as i64 >> (64 - bits))
        } else {
            i128::from(raw)
        };
        shown.push((path, Some(Shown::Number(v))));
    } else {
        let len = match ty {
            "mac" => 6,
            "ipv4" => 4,
            _ => 16,
        };
        let value: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        out.extend_from_slice(&value);
        shown.push((path, Some(Shown::Bytes(value))));
    }
}

/// Exactly `size` bytes of options of `family`, and what they show: every option's kind
/// (`PATH.kind`), each length as on the wire (`PATH.length`), an unknown kind's bytes
/// (`PATH.data`), and a variant's values under the protocol's id.
fn draw_tlv(
    family: &Family,
    size: usize,
    rng: &mut Rng,
    id: &str,
    path: &str,
    big: bool,
) -> Option<(Vec<u8>, Expected)> {
    let mut out = Vec::new();
    let mut shown = Vec::new();
    let header = family.kind_bytes + family.length_bytes;
    let kind_path = format!("{path}.kind");
    let length_path = format!("{path}.length");
    let data_path = format!("{path}.data");
    // The paths are expected even when no option shows them.
    for p in [&kind_path, &length_path, &data_path] {
        shown.push((p.clone(), None));
    }
    let singles: Vec<u64> = family
        .single
        .iter()
        .copied()
        .filter(|k| Some(*k) != family.end)
        .collect();
    let pad = |n: usize| n.div_ceil(family.align) * family.align;
    // Bytes → the length as written, when the unit divides them.
    let in_units = |n: usize| (n % family.unit == 0).then_some(n / family.unit);
    let mut attempts = 0;
    while out.len() < size {
        // Lengths in units may leave a room nothing fits in.
        attempts += 1;
        if attempts > 1000 {
            return None;
        }
        let room = size - out.len();
        let choice = rng.below(8);
        if choice == 0 && !singles.is_empty() && room >= family.kind_bytes {
            let k = singles[rng.index(singles.len())];
            put(&mut out, k, family.kind_bytes, big);
            out.resize(out.len() + pad(family.kind_bytes) - family.kind_bytes, 0);
            shown.push((kind_path.clone(), Some(Shown::Number(i128::from(k)))));
            continue;
        }
        if room < pad(header) || (choice == 1 && family.end.is_some()) {
            // Nothing else fits, or the list ends here: the end kind, then padding.
            // The end kind is one byte wide when it is a single kind, else a whole option
            // with an empty value.
            let end_single = family.end.is_some_and(|e| family.single.contains(&e));
            let end_len = if end_single {
                family.kind_bytes
            } else {
                header
            };
            if let Some(end) = family.end.filter(|_| room >= end_len) {
                put(&mut out, end, family.kind_bytes, big);
                shown.push((kind_path.clone(), Some(Shown::Number(i128::from(end)))));
                if !end_single {
                    let length = in_units(if family.covers_all { header } else { 0 })?;
                    put(&mut out, length as u64, family.length_bytes, big);
                    shown.push((length_path.clone(), Some(Shown::Number(length as i128))));
                    // Not a variant: an option kept raw, with its (empty) value.
                    shown.push((data_path.clone(), Some(Shown::Bytes(Vec::new()))));
                }
                let padding = size - out.len();
                out.resize(size, 0);
                if padding > 0 {
                    // What follows the end is padding, kept as the list's raw tail.
                    shown.push((data_path.clone(), Some(Shown::Bytes(vec![0; padding]))));
                }
                break;
            }
            if let Some(&k) = singles.first().filter(|_| room >= family.kind_bytes) {
                put(&mut out, k, family.kind_bytes, big);
                shown.push((kind_path.clone(), Some(Shown::Number(i128::from(k)))));
                continue;
            }
            return None;
        }
        // A variant, or (sometimes) an unknown kind kept raw.
        let (kind, value, value_shown) = if choice == 2 || family.variants.is_empty() {
            let mask = if family.kind_bytes >= 8 {
                u64::MAX
            } else {
                (1 << (8 * family.kind_bytes)) - 1
            };
            let k = rng.u64() & mask;
            if family.known.contains(&k) || family.single.contains(&k) || Some(k) == family.end {
                continue;
            }
            let value: Vec<u8> = (0..rng.index((room - header).min(8) + 1))
                .map(|_| rng.below(256) as u8)
                .collect();
            let shown_data = vec![(data_path.clone(), Some(Shown::Bytes(value.clone())))];
            (k, value, shown_data)
        } else {
            let (k, fields) = &family.variants[rng.index(family.variants.len())];
            let mut value = Vec::new();
            let mut value_shown = Vec::new();
            let fixed: usize = fields
                .iter()
                .filter_map(|f| tlv_value_field(f).flatten())
                .sum();
            let Some(mut spare) = (room - header).checked_sub(fixed) else {
                continue;
            };
            spare = spare.min(24);
            for f in fields {
                let before = value.len();
                draw_value(f, spare, rng, id, big, &mut value, &mut value_shown)?;
                if tlv_value_field(f).flatten().is_none() {
                    spare -= value.len() - before;
                }
            }
            (*k, value, value_shown)
        };
        let total = header + value.len();
        if pad(total) > room {
            continue;
        }
        let Some(length) = in_units(if family.covers_all {
            total
        } else {
            value.len()
        }) else {
            continue;
        };
        let max_length = if family.length_bytes >= 8 {
            u64::MAX
        } else {
            (1 << (8 * family.length_bytes)) - 1
        };
        if length as u64 > max_length {
            continue;
        }
        put(&mut out, kind, family.kind_bytes, big);
        put(&mut out, length as u64, family.length_bytes, big);
        out.extend_from_slice(&value);
        out.resize(out.len() + pad(total) - total, 0);
        shown.push((kind_path.clone(), Some(Shown::Number(i128::from(kind)))));
        shown.push((length_path.clone(), Some(Shown::Number(length as i128))));
        shown.extend(value_shown);
    }
    Some((out, shown))
}

// ---------------------------------------------------------------------------------------
// What the dissector shows
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Collect(BTreeMap<&'static str, Vec<Shown>>);

impl Visitor for Collect {
    fn field(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        let shown = match value {
            Value::Uint(v) | Value::Enum(v, _) => Shown::Number(i128::from(v)),
            Value::Int(v) => Shown::Number(i128::from(v)),
            Value::Bool(b) => Shown::Number(i128::from(b)),
            Value::Mac(m) => Shown::Bytes(m.to_vec()),
            Value::Ipv4(a) => Shown::Bytes(a.octets().to_vec()),
            Value::Ipv6(a) => Shown::Bytes(a.octets().to_vec()),
            Value::Bytes(b, _) => Shown::Bytes(b.to_vec()),
            Value::Text(_) => return,
        };
        self.0.entry(info.path).or_default().push(shown);
    }

    fn whole(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        self.field(info, value);
    }
}

/// The protocols a table sends each key to, from every spec's `[[bind]]`s.
type Tables = HashMap<String, HashMap<u64, String>>;

/// Where the spec says the payload goes: the first rule whose `when` holds and whose
/// target knows a key. `Err(())`: the interpreter cannot tell (an unknown name).
fn next_protocol(spec: &Spec, env: &Env, tables: &Tables) -> Result<Option<String>, ()> {
    for (when, target) in &spec.rules {
        if let Some(w) = when {
            if eval(w, env).ok_or(())? == 0 {
                continue;
            }
        }
        match target {
            Target::Next(n) => return Ok(Some(n.clone())),
            Target::Table(t, keys) => {
                for k in keys {
                    let k = eval(k, env).ok_or(())?;
                    if let Some(child) = tables.get(t).and_then(|m| m.get(&k)) {
                        return Ok(Some(child.clone()));
                    }
                }
            }
        }
    }
    Ok(None)
}

enum Verdict {
    /// The dissector agrees with the spec; the protocol it went to next.
    Agrees(Option<ProtocolId>),
    /// The interpreter cannot say what the header must give.
    Unknown,
}

/// Dissects `drawn` plus `tail` and compares with the spec; panics with the difference.
fn check(spec: &Spec, drawn: &Drawn, tail: &[u8], tables: &Tables) -> Verdict {
    let protocol = ProtocolId::from_name(&spec.id).expect("every spec is a protocol");
    let mut frame = drawn.bytes.clone();
    frame.extend_from_slice(tail);
    let mut layers: Vec<Layer> = Vec::new();
    dissect_from(protocol, &frame, &Thresholds::default(), &mut layers);
    let what = || format!("{} ({}) on {:02x?}", spec.id, spec.file.display(), frame);
    let _ = &what;
    let first = layers
        .first()
        .unwrap_or_else(|| panic!("{}: no layer", what()));
    if drawn.fails {
        assert!(
            matches!(first.kind, LayerKind::Malformed { .. }),
            "{}: an assertion does not hold, yet the layer is {:?}",
            what(),
            first.kind
        );
        return Verdict::Agrees(None);
    }
    assert!(
        matches!(first.kind, LayerKind::Header(_)),
        "{}: the header is valid by its spec, yet the layer is {:?}",
        what(),
        first.kind
    );
    assert_eq!(
        first.header_len,
        drawn.bytes.len(),
        "{}: header length",
        what()
    );
    let mut got = Collect::default();
    first.visit(&mut got);
    let mut want: BTreeMap<&str, Vec<&Shown>> = BTreeMap::new();
    for (path, v) in &drawn.expected {
        want.entry(path).or_default().extend(v);
    }
    for (path, want) in want {
        let have: Vec<&Shown> = got.0.get(path).into_iter().flatten().collect();
        assert_eq!(have, want, "{path} of {}", what());
    }
    if !spec.has_payload {
        return Verdict::Agrees(None);
    }
    let mut env = drawn.env.clone();
    env.names.insert("captured".into(), tail.len() as u64);
    let declared = match &spec.payload_size {
        Some(size) => match eval(size, &env) {
            Some(n) => n,
            None => return Verdict::Unknown,
        },
        None => tail.len() as u64,
    };
    let in_frame = declared.min(tail.len() as u64);
    assert_eq!(
        first.payload_len as u64,
        in_frame,
        "{}: payload length",
        what()
    );
    assert_eq!(
        first.missing,
        declared - in_frame,
        "{}: payload missing",
        what()
    );
    env.payload = tail[..in_frame as usize].to_vec();
    let Ok(next) = next_protocol(spec, &env, tables) else {
        return Verdict::Unknown;
    };
    let went = layers.get(1).and_then(Layer::protocol);
    match next {
        // An empty payload goes nowhere; a protocol may also decline its bytes (a
        // threshold, a heuristic), which this test does not judge.
        Some(_) if in_frame == 0 => Verdict::Agrees(None),
        Some(child) => {
            let child = ProtocolId::from_name(&child).expect("a protocol");
            assert_eq!(went, Some(child), "{}: next protocol", what());
            Verdict::Agrees(went)
        }
        None => Verdict::Agrees(None),
    }
}

fn tables(specs: &[Spec]) -> Tables {
    let mut tables: Tables = HashMap::new();
    let mut files = Vec::new();
    spec_files(&specs_dir(), &mut files);
    // Binds of every spec, supported or not: a table sends keys to them all.
    for path in files {
        let file: SpecFile = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(meta) = file.protocol else { continue };
        for b in file.bind {
            if let Some(k) = b.key {
                tables
                    .entry(b.table)
                    .or_default()
                    .insert(k, meta.id.clone());
            }
        }
    }
    let _ = specs;
    tables
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

#[test]
fn dissectors_show_what_their_specs_say() {
    let (specs, unsupported) = load();
    let tables = tables(&specs);
    let mut covered = Vec::new();
    for spec in &specs {
        // A generator of its own per spec: adding or removing a spec leaves the others'
        // draws as they were.
        let mut rng = Rng::new(
            spec.id
                .bytes()
                .fold(0x5eed_5bec, |h: u64, b| h.rotate_left(5) ^ u64::from(b)),
        );
        let mut agreed = 0;
        for _ in 0..CASES {
            let Some(drawn) = draw(spec, &mut rng, None) else {
                continue;
            };
            let tail: Vec<u8> = if drawn.takes_rest {
                Vec::new()
            } else {
                (0..rng.index(48)).map(|_| rng.below(256) as u8).collect()
            };
            if let Verdict::Agrees(_) = check(spec, &drawn, &tail, &tables) {
                agreed += 1;
            }
        }
        assert!(
            agreed >= CASES / 4,
            "{}: only {agreed} of {CASES} random headers could be judged",
            spec.id
        );
        covered.push(spec.id.as_str());
    }
    println!("covered ({}): {covered:?}", covered.len());
    println!("by examples instead: {unsupported:#?}");
    assert!(
        covered.len() >= MIN_COVERED,
        "only {} protocols covered (was {MIN_COVERED}): {covered:?}",
        covered.len()
    );
}

#[test]
fn every_bind_key_reaches_its_protocol() {
    let (specs, _) = load();
    let tables = tables(&specs);
    let mut rng = Rng::new(0xb1_4d);
    let mut reached = BTreeSet::new();
    let mut planted = BTreeSet::new();
    for parent in &specs {
        for (i, (when, target)) in parent.rules.iter().enumerate() {
            let Target::Table(table, keys) = target else {
                continue;
            };
            // The key is planted in the field (or bit range) the rule's first key names.
            let Some(Expr::Name(field)) = keys.first() else {
                continue;
            };
            for (key, child) in tables.get(table).into_iter().flatten() {
                // A key the rule's own `when` rules out for every header drawn (Cisco
                // HDLC's SLARP, RARP's EtherType) is not the table's to reach from here.
                let entry = (parent.id.clone(), i, *key, child.clone());
                planted.insert(entry.clone());
                let (mut usable, mut ruled_out) = (0, 0);
                for _ in 0..PLANTS {
                    let Some(drawn) = draw(parent, &mut rng, Some((field, *key))) else {
                        continue;
                    };
                    if drawn.fails || drawn.takes_rest {
                        continue;
                    }
                    usable += 1;
                    if when
                        .as_ref()
                        .is_some_and(|w| eval(w, &drawn.env) == Some(0))
                    {
                        ruled_out += 1;
                        continue;
                    }
                    let tail: Vec<u8> = (1..64).map(|_| rng.below(256) as u8).collect();
                    if let Verdict::Agrees(Some(p)) = check(parent, &drawn, &tail, &tables) {
                        if p.id() == child {
                            reached.insert(entry.clone());
                            break;
                        }
                    }
                }
                if usable > 0 && ruled_out == usable {
                    planted.remove(&entry);
                }
            }
        }
    }
    let missed: Vec<_> = planted.difference(&reached).collect();
    println!(
        "{} bind keys planted, {} reached",
        planted.len(),
        reached.len()
    );
    assert!(
        missed.is_empty(),
        "bind keys never reached their protocol (parent, rule, key, child): {missed:?}"
    );
}

/// The generated property tests (`spec_properties`) are all there: a module per protocol
/// spec, with its random-bytes test and one test per `[[example]]`, and the round-trip,
/// frame and direct-reader tests for at least as many protocols as when this was written.
/// A generator change that drops generated tests fails nothing else (mutation testing of
/// `codegen/src/emit` found an empty `property_tests.rs`, and one without round trips).
#[test]
fn generated_property_tests_are_all_there() {
    // Whitespace dropped: prettyplease wraps the `proptest!` bodies at any token.
    let generated: String = include_str!(concat!(env!("OUT_DIR"), "/property_tests.rs"))
        .split_whitespace()
        .collect();
    let tests = |name: &str| generated.matches(&format!("fn{name}(")).count();
    let mut files = Vec::new();
    spec_files(&specs_dir(), &mut files);
    let (mut protocols, mut examples) = (0, 0);
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable spec");
        let file: SpecFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some(meta) = file.protocol else { continue };
        protocols += 1;
        examples += file.example.len();
        // A keyword gets a trailing `_` (`loop` → `loop_`).
        assert!(
            generated.contains(&format!("mod{}{{", meta.id))
                || generated.contains(&format!("mod{}_{{", meta.id)),
            "no generated property tests for {}",
            meta.id
        );
    }
    assert_eq!(tests("random_bytes_never_panic"), protocols);
    assert_eq!(generated.matches("fnexample_").count(), examples);
    for (name, min) in [
        ("write_read_round_trip", MIN_ROUND_TRIPS),
        ("layers_stay_inside_the_frame", MIN_FRAMES),
        ("direct_read_agrees_with_deku", MIN_DIRECT),
    ] {
        let n = tests(name);
        assert!(n >= min, "{n} generated `{name}` tests (were {min})");
    }
}
