//! From spec files as written to the checked model: every rule a spec must follow.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use quote::quote;

use crate::expr::{Expr, Ty};
use crate::ir::*;
use crate::model;

/// A spec the generator cannot use: which file, where in it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: PathBuf,
    /// `field \`flags_offset\``, `payload.size`, `bind #2` ...; empty for the whole file.
    pub location: String,
    pub reason: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        if !self.location.is_empty() {
            write!(f, "{}: ", self.location)?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for SpecError {}

/// Builds errors for one file.
#[derive(Clone)]
pub(crate) struct At<'a> {
    file: &'a Path,
}

impl At<'_> {
    pub(crate) fn err(&self, location: impl Into<String>, reason: impl Into<String>) -> SpecError {
        SpecError {
            file: self.file.to_owned(),
            location: location.into(),
            reason: reason.into(),
        }
    }
}

/// Reads every spec and registry under `dir` and checks them together.
pub fn load(dir: &Path) -> Result<Model, SpecError> {
    let mut files = Vec::new();
    collect_toml(dir, &mut files).map_err(|e| SpecError {
        file: dir.to_owned(),
        location: String::new(),
        reason: format!("cannot read the specs folder: {e}"),
    })?;
    files.sort();

    let mut specs = Vec::new();
    let mut registries = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(dir).unwrap_or(path).to_owned();
        let text = std::fs::read_to_string(path).map_err(|e| SpecError {
            file: rel.clone(),
            location: String::new(),
            reason: format!("cannot read: {e}"),
        })?;
        let toml_err = |e: toml::de::Error| SpecError {
            file: rel.clone(),
            location: e
                .span()
                .map(|span| {
                    format!(
                        "line {}",
                        text[..span.start.min(text.len())].matches('\n').count() + 1
                    )
                })
                .unwrap_or_default(),
            reason: e.message().trim_end().replace('\n', " "),
        };
        if rel.starts_with("registry") {
            let file: model::RegistryFile = toml::from_str(&text).map_err(toml_err)?;
            registries.push((rel, file));
        } else {
            let file: model::SpecFile = toml::from_str(&text).map_err(toml_err)?;
            specs.push((rel, file));
        }
    }
    let mut model = build(specs, registries)?;
    model.files = files;
    Ok(model)
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Checks parsed files together (exposed for tests that build specs in memory).
pub fn build(
    specs: Vec<(PathBuf, model::SpecFile)>,
    registries: Vec<(PathBuf, model::RegistryFile)>,
) -> Result<Model, SpecError> {
    let registries = registries
        .into_iter()
        .map(|(file, r)| check_registry(file, r))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = BTreeMap::new();
    for r in &registries {
        if let Some(prev) = seen.insert(r.id.clone(), r.file.clone()) {
            return Err(At { file: &r.file }.err(
                "registry.id",
                format!("registry `{}` is also defined in {}", r.id, prev.display()),
            ));
        }
    }
    let registry_ids: BTreeSet<String> = registries.iter().map(|r| r.id.clone()).collect();

    // TLV families first: protocol fields refer to them.
    let mut tlvs = Vec::new();
    for (file, spec) in &specs {
        for family in &spec.tlv {
            tlvs.push(check_tlv(file, family, &registry_ids)?);
        }
    }
    let mut tlv_ids = BTreeMap::new();
    for t in &tlvs {
        if let Some(prev) = tlv_ids.insert(t.id.clone(), t.file.clone()) {
            return Err(At { file: &t.file }.err(
                format!("tlv `{}`", t.id),
                format!("TLV family is also defined in {}", prev.display()),
            ));
        }
    }

    let mut protocols = Vec::new();
    for (file, spec) in specs {
        let at = At { file: &file };
        let Some(meta) = spec.protocol else {
            if !spec.field.is_empty() || !spec.bind.is_empty() || spec.payload.is_some() {
                return Err(at.err(
                    "",
                    "fields, bindings or a payload need a [protocol] section",
                ));
            }
            if !spec.record.is_empty() || !spec.example.is_empty() {
                return Err(at.err(
                    "",
                    "records and examples belong to the [protocol] of their file, and this file has none",
                ));
            }
            if spec.tlv.is_empty() {
                return Err(at.err("", "the file declares neither a [protocol] nor a [[tlv]]"));
            }
            continue;
        };
        let record_names: BTreeSet<String> = spec.record.iter().map(|r| r.name.clone()).collect();
        let cx = Cx {
            at: at.clone(),
            registries: &registry_ids,
            tlvs: &tlv_ids,
            hooked: meta.hook.is_some(),
            records: &record_names,
        };
        let mut protocol = check_protocol(&cx, &file, meta, spec.bind, spec.field, spec.payload)?;
        protocol.stream = spec
            .stream
            .map(|s| check_stream(&cx.at, &protocol, s))
            .transpose()?;
        protocol.records = check_records(&cx, &protocol, &spec.record)?;
        protocols.push((protocol, spec.example));
    }

    let mut ids = BTreeMap::new();
    let mut names = BTreeMap::new();
    let mut camels = BTreeMap::new();
    for (p, _) in &protocols {
        let at = At { file: &p.file };
        if let Some(prev) = ids.insert(p.id.clone(), p.file.clone()) {
            return Err(at.err(
                "protocol.id",
                format!("`{}` is also the id of {}", p.id, prev.display()),
            ));
        }
        if let Some(prev) = names.insert(p.name.to_lowercase(), p.file.clone()) {
            return Err(at.err(
                "protocol.name",
                format!("`{}` is also the name of {}", p.name, prev.display()),
            ));
        }
        if let Some(prev) = camels.insert(camel_name(&p.id), p.file.clone()) {
            return Err(at.err(
                "protocol.id",
                format!(
                    "`{}` and the id of {} make the same Rust name `{}`",
                    p.id,
                    prev.display(),
                    camel_name(&p.id)
                ),
            ));
        }
    }
    let mut checked = Vec::new();
    for (mut p, examples) in protocols {
        check_paths(&p, &tlvs)?;
        p.examples = check_examples(&p, &tlvs, &examples)?;
        checked.push(p);
    }
    let mut protocols = checked;
    protocols.sort_by(|a, b| (a.layer, &a.id).cmp(&(b.layer, &b.id)));

    let tables = check_tables(&protocols)?;
    check_wireshark_names(&protocols, &tlvs)?;
    Ok(Model {
        protocols,
        registries,
        tlvs,
        tables,
        files: Vec::new(),
    })
}

/// Every `wireshark` name looks like a display-filter field name, names one path only,
/// and is not another value's pcapkit path.
fn check_wireshark_names(protocols: &[Protocol], tlvs: &[TlvFamily]) -> Result<(), SpecError> {
    let mut paths: BTreeSet<String> = BTreeSet::new();
    let mut named: Vec<(&Path, String, String, String)> = Vec::new();
    for p in protocols {
        let header = entries(&p.fields)
            .into_iter()
            .map(|e| (e.name.to_owned(), e));
        let records = p.records.iter().flat_map(|r| {
            entries(&r.fields)
                .into_iter()
                .map(move |e| (r.path_of(e.name), e))
        });
        // The fields of a TLV family's variants sit at the protocol's top level (`tcp.mss`),
        // as the field table puts them.
        let mut all: Vec<_> = header.chain(records).collect();
        let options: Vec<_> = all
            .iter()
            .filter_map(|(_, e)| match &e.field.ty {
                FieldType::Tlv(family) => tlvs.iter().find(|t| &t.id == family),
                _ => None,
            })
            .flat_map(|t| t.variants.iter().flat_map(|v| entries(&v.fields)))
            .map(|e| (e.name.to_owned(), e))
            .collect();
        all.extend(options);
        for (local, e) in all {
            let path = format!("{}.{local}", p.id);
            if let Some(w) = e.wireshark {
                let place = match e.range {
                    Some(r) => format!("field `{}`: bits `{}`", e.field.name, r.name),
                    None => format!("field `{}`", e.field.name),
                };
                named.push((&p.file, place, w.to_owned(), path.clone()));
            }
            paths.insert(path);
        }
    }
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for (file, place, w, path) in &named {
        let at = At { file };
        let valid = w.split('.').count() >= 2
            && w.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        // Wireshark names hold hyphens (`ftp-data.setup-frame`) and a few
                        // capitals (`l2tp.Ns`) too.
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if !valid {
            return Err(at.err(
                format!("{place}: wireshark"),
                format!("`{w}` is not a display-filter field name (words of letters, digits, `_` or `-`, joined by `.`, as `ip.src`)"),
            ));
        }
        if paths.contains(w) && w != path {
            return Err(at.err(
                format!("{place}: wireshark"),
                format!(
                    "`{w}` is the pcapkit path of another value, so `-e {w}` would be ambiguous"
                ),
            ));
        }
        if let Some(prev) = owner.insert(w, path) {
            if prev != path {
                return Err(at.err(
                    format!("{place}: wireshark"),
                    format!("`{w}` is already the Wireshark name of `{prev}`"),
                ));
            }
        }
    }
    Ok(())
}

fn check_tables(protocols: &[Protocol]) -> Result<BTreeMap<String, Table>, SpecError> {
    // A table exists when some payload dispatches through it; frames start from `linktype`.
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    tables.insert("linktype".into(), Table::default());
    for p in protocols {
        for table in p.payload.iter().flat_map(Payload::tables) {
            tables.entry(table.clone()).or_default();
        }
    }
    // A constant `next` names a frame protocol.
    let frame_ids: Vec<&str> = protocols
        .iter()
        .filter(|p| p.layer != Layer::Capture)
        .map(|p| p.id.as_str())
        .collect();
    for p in protocols {
        let rules = p.payload.iter().flat_map(|pl| pl.rules.iter());
        for (i, rule) in rules.enumerate() {
            if let Target::Next(next) = &rule.target {
                if !frame_ids.contains(&next.as_str()) {
                    let place = match p.payload.as_ref().map_or(0, |pl| pl.rules.len()) {
                        1 => "payload.next".to_owned(),
                        _ => format!("payload.rule #{}.next", i + 1),
                    };
                    return Err(
                        At { file: &p.file }.err(place, format!("no protocol has the id `{next}`"))
                    );
                }
            }
        }
    }
    let mut owners: BTreeMap<(String, u64), &Path> = BTreeMap::new();
    for p in protocols {
        let at = At { file: &p.file };
        for (i, b) in p.binds.iter().enumerate() {
            let location = format!("bind #{} (table `{}`)", i + 1, b.table);
            let known = tables.keys().cloned().collect::<Vec<_>>().join(", ");
            let Some(table) = tables.get_mut(&b.table) else {
                return Err(at.err(
                    location,
                    format!("no spec dispatches its payload through this table (tables: {known})"),
                ));
            };
            match &b.key {
                BindKey::Value(key) => {
                    if let Some(prev) = owners.insert((b.table.clone(), *key), &p.file) {
                        return Err(at.err(
                            location,
                            format!("key {key:#x} is already bound by {}", prev.display()),
                        ));
                    }
                    table.keys.push((*key, p.id.clone(), b.name.clone()));
                }
                BindKey::Heuristic(hook) => {
                    table
                        .heuristics
                        .push((p.id.clone(), hook.clone(), b.name.clone()))
                }
            }
        }
    }
    for t in tables.values_mut() {
        t.keys.sort();
    }
    Ok(tables)
}

fn check_registry(file: PathBuf, r: model::RegistryFile) -> Result<Registry, SpecError> {
    let at = At { file: &file };
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if !is_identifier(&r.registry.id) {
        return Err(at.err(
            "registry.id",
            format!(
                "`{}` must be lower-case letters, digits and `_`, starting with a letter",
                r.registry.id
            ),
        ));
    }
    if r.registry.id != stem {
        return Err(at.err(
            "registry.id",
            format!("`{}` must match the file name `{stem}`", r.registry.id),
        ));
    }
    if !(1..=64).contains(&r.registry.width) {
        return Err(at.err("registry.width", "must be between 1 and 64"));
    }
    let max = max_of_width(r.registry.width);
    let mut values = Vec::new();
    for (key, value) in &r.values {
        let v = parse_int(key).ok_or_else(|| {
            at.err(
                format!("values.{key}"),
                "key is not a decimal or 0x-hex integer",
            )
        })?;
        if v > max {
            return Err(at.err(
                format!("values.{key}"),
                format!("does not fit in {} bits", r.registry.width),
            ));
        }
        let doc = match value {
            model::RegistryValue::Full { doc, .. } => doc.clone(),
            model::RegistryValue::Name(_) => String::new(),
        };
        values.push((v, value.name().to_owned(), doc));
    }
    values.sort_by_key(|v| v.0);
    if let Some(w) = values.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(at.err("values", format!("value {:#x} is listed twice", w[0].0)));
    }
    Ok(Registry {
        id: r.registry.id,
        title: r.registry.title,
        width: r.registry.width,
        source: r.registry.source,
        values,
        file,
    })
}

fn max_of_width(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

fn parse_int(s: &str) -> Option<u64> {
    let s = s.replace('_', "");
    match s.strip_prefix("0x").or(s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// What a protocol's checks need to know about the rest of the specs.
struct Cx<'a> {
    at: At<'a>,
    registries: &'a BTreeSet<String>,
    tlvs: &'a BTreeMap<String, PathBuf>,
    hooked: bool,
    /// Names of the file's records (usable as field types).
    records: &'a BTreeSet<String>,
}

/// Method names every generated header has: no field or bit range may take them.
const RESERVED: &[&str] = &[
    "parse",
    "parse_partial",
    "check",
    "check_within",
    "payload_len",
    "pdu_len",
    "next_protocol",
    "visit",
];

/// A spec name as the emitter spells it in Rust (keywords get a trailing `_`).
fn rust_name(name: &str) -> String {
    crate::emit::ident(name).to_string()
}

/// A spec id as the emitter spells a type (`ipv6_frag` → `Ipv6Frag`).
fn camel_name(id: &str) -> String {
    crate::emit::camel(id).to_string()
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_protocol(
    cx: &Cx,
    file: &Path,
    meta: model::ProtocolMeta,
    binds: Vec<model::Bind>,
    fields: Vec<model::Field>,
    payload: Option<model::Payload>,
) -> Result<Protocol, SpecError> {
    let at = &cx.at;
    if !is_identifier(&meta.id) {
        return Err(at.err(
            "protocol.id",
            format!(
                "`{}` must be lower-case letters, digits and `_`, starting with a letter",
                meta.id
            ),
        ));
    }
    if meta.name.trim().is_empty() || meta.name.contains(':') {
        return Err(at.err(
            "protocol.name",
            "must be non-empty and must not contain `:`",
        ));
    }
    let layer = Layer::parse(&meta.layer).ok_or_else(|| {
        at.err(
            "protocol.layer",
            format!(
                "`{}` is not one of link, internet, transport, application, capture",
                meta.layer
            ),
        )
    })?;
    let endian = Endian::parse(&meta.endian).ok_or_else(|| {
        at.err(
            "protocol.endian",
            format!("`{}` is not one of big, little, runtime", meta.endian),
        )
    })?;
    if let Some(hook) = &meta.hook {
        if !is_identifier(hook) {
            return Err(at.err("protocol.hook", format!("`{hook}` is not a function name")));
        }
    }
    if let Some(view) = &meta.view {
        if !(view.starts_with(|c: char| c.is_ascii_uppercase())
            && view.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(at.err("protocol.view", format!("`{view}` is not a type name")));
        }
    }

    let fields = check_fields(cx, "field", &fields)?;
    if fields.is_empty() && meta.hook.is_none() && layer == Layer::Capture {
        return Err(at.err("", "a capture structure needs fields"));
    }

    let mut checked_binds = Vec::new();
    for (i, b) in binds.into_iter().enumerate() {
        let location = format!("bind #{}", i + 1);
        if layer == Layer::Capture {
            return Err(at.err(
                location,
                "a capture structure is not dissected from frames, so it cannot bind",
            ));
        }
        let key = match (b.key, b.heuristic) {
            (Some(k), None) => BindKey::Value(k),
            (None, Some(h)) if is_identifier(&h) => BindKey::Heuristic(h),
            (None, Some(h)) => {
                return Err(at.err(location, format!("heuristic `{h}` is not a function name")))
            }
            _ => return Err(at.err(location, "give either `key` or `heuristic`")),
        };
        checked_binds.push(Bind {
            table: b.table,
            key,
            name: b.name,
        });
    }

    let payload = payload
        .map(|p| check_payload(at, p, &fields, layer))
        .transpose()?;

    Ok(Protocol {
        file: file.to_owned(),
        id: meta.id,
        name: meta.name,
        layer,
        title: meta.title,
        reference: meta.reference,
        endian,
        hook: meta.hook,
        view: meta.view,
        binds: checked_binds,
        fields,
        payload,
        stream: None,
        records: Vec::new(),
        examples: Vec::new(),
    })
}

/// `[stream]`: either a declared length (which needs the payload's size and a header read
/// without a byte order given at run time) or a hook.
fn check_stream(at: &At<'_>, p: &Protocol, s: model::Stream) -> Result<StreamFraming, SpecError> {
    if p.layer != Layer::Application {
        return Err(at.err(
            "stream",
            "only an application protocol is cut from a TCP stream",
        ));
    }
    match (s.pdu.as_deref(), s.hook) {
        (Some("declared"), None) => {
            if p.payload.as_ref().and_then(|pl| pl.size.as_ref()).is_none() {
                return Err(at.err(
                    "stream.pdu",
                    "`declared` needs the header to declare its payload's length ([payload] size)",
                ));
            }
            if p.endian == Endian::Runtime {
                return Err(at.err(
                    "stream.pdu",
                    "a header whose byte order is given at run time cannot frame a stream",
                ));
            }
            Ok(StreamFraming::Declared)
        }
        (Some(other), None) => Err(at.err(
            "stream.pdu",
            format!("`{other}` is not a framing (known: declared)"),
        )),
        (None, Some(hook)) if is_identifier(&hook) => Ok(StreamFraming::Hook(hook)),
        (None, Some(hook)) => {
            Err(at.err("stream.hook", format!("`{hook}` is not a function name")))
        }
        _ => Err(at.err("stream", "give either `pdu` or `hook`")),
    }
}

fn check_payload(
    at: &At,
    p: model::Payload,
    fields: &[Field],
    layer: Layer,
) -> Result<Payload, SpecError> {
    let size = p
        .size
        .map(|s| check_expr_with(at, "payload.size", &s, fields, None, &[CAPTURED]))
        .transpose()?;
    let inline = p.when.is_some() || p.table.is_some() || p.key.is_some() || p.next.is_some();
    if inline && !p.rule.is_empty() {
        return Err(at.err(
            "payload",
            "give either one rule in place (`when`, `table`, `key`, `next`) or \
             `[[payload.rule]]` entries, not both",
        ));
    }
    let written = if inline {
        vec![(
            "payload".to_owned(),
            model::Rule {
                when: p.when,
                table: p.table,
                key: p.key,
                next: p.next,
            },
        )]
    } else {
        p.rule
            .into_iter()
            .enumerate()
            .map(|(i, r)| (format!("payload.rule #{}", i + 1), r))
            .collect()
    };
    let count = written.len();
    let mut rules = Vec::new();
    for (i, (place, r)) in written.into_iter().enumerate() {
        let rule = check_rule(at, &place, r, fields)?;
        if layer == Layer::Capture {
            let key = match rule.target {
                Target::Table { .. } => "table",
                Target::Next(_) => "next",
            };
            return Err(at.err(
                format!("{place}.{key}"),
                "a capture structure does not dispatch",
            ));
        }
        if rule.when.is_none() && i + 1 < count {
            return Err(at.err(
                place,
                format!(
                    "a rule without `when` always applies, so the {} after it would never be tried",
                    if count - i - 1 == 1 { "rule" } else { "rules" }
                ),
            ));
        }
        rules.push(rule);
    }
    Ok(Payload { size, rules })
}

/// The names a payload rule's `when` and `key` see besides the fields: `payload(o, w)`.
const RULE_BUILTINS: &[&str] = &[crate::expr::PAYLOAD_BYTES];

fn check_rule(at: &At, place: &str, r: model::Rule, fields: &[Field]) -> Result<Rule, SpecError> {
    let when = r
        .when
        .map(|s| {
            check_expr_with(
                at,
                &format!("{place}.when"),
                &s,
                fields,
                None,
                RULE_BUILTINS,
            )
        })
        .transpose()?;
    let keys = r
        .key
        .map(model::Keys::into_vec)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            check_expr_with(
                at,
                &format!("{place}.key #{}", i + 1),
                &k,
                fields,
                None,
                RULE_BUILTINS,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let target = match (r.table, keys.is_empty(), r.next) {
        (Some(_), _, Some(_)) => {
            return Err(at.err(
                place,
                "`next` names the protocol itself: it takes no `table` (and no `key`)",
            ))
        }
        (None, false, Some(_)) => {
            return Err(at.err(place, "`next` names the protocol itself: it takes no `key`"))
        }
        (Some(_), true, None) => return Err(at.err(place, "`table` needs a `key` to look up")),
        (None, false, None) => return Err(at.err(place, "`key` needs a `table` to look it up in")),
        (None, true, None) if when.is_some() => {
            return Err(at.err(
                format!("{place}.when"),
                "`when` decides whether to dispatch: it needs a `table` and `key`, or a `next`",
            ))
        }
        (None, true, None) => {
            return Err(at.err(
                place,
                "a rule needs a `table` and `key`, or a `next` protocol",
            ))
        }
        (Some(table), false, None) => {
            if !is_identifier(&table) {
                return Err(at.err(
                    format!("{place}.table"),
                    format!("`{table}` is not a table name"),
                ));
            }
            Target::Table { table, keys }
        }
        (None, true, Some(next)) => {
            if !is_identifier(&next) {
                return Err(at.err(
                    format!("{place}.next"),
                    format!("`{next}` is not a protocol id"),
                ));
            }
            Target::Next(next)
        }
    };
    Ok(Rule { when, target })
}

/// Checks a list of fields (a protocol's header or a TLV variant's value).
fn check_fields(cx: &Cx, what: &str, fields: &[model::Field]) -> Result<Vec<Field>, SpecError> {
    let at = &cx.at;
    let mut out: Vec<Field> = Vec::new();
    let mut names = BTreeSet::new();
    for (i, f) in fields.iter().enumerate() {
        let location = format!("{what} `{}`", f.name);
        if !is_identifier(&f.name) {
            return Err(at.err(
                format!("{what} #{}", i + 1),
                format!(
                    "`{}` must be lower-case letters, digits and `_`, starting with a letter",
                    f.name
                ),
            ));
        }
        let ty = match &f.switch {
            Some(key) => check_switch(cx, &location, f, key, &out)?,
            None if f.ty.is_empty() => {
                return Err(at.err(&location, "missing `type` (or `switch`)"));
            }
            None => parse_type_in(&f.ty, cx.records).ok_or_else(|| {
                let records = if cx.records.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; records of this file: {}",
                        cx.records.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                };
                at.err(
                    &location,
                    format!(
                        "unknown type `{}` (known: u8 u16 u24 u32 u64 i8 i16 i32 i64 mac ipv4 ipv6 bytes dns_name T[] tlv:FAMILY{}{records})",
                        f.ty,
                        if cx.hooked { " str kv[]" } else { "" }
                    ),
                )
            })?,
        };
        if f.switch.is_none() && (f.cases.is_some() || f.default.is_some()) {
            return Err(at.err(&location, "`cases` and `default` need a `switch`"));
        }
        if f.session {
            if what != "field" {
                return Err(at.err(&location, "only a protocol's own fields may be `session`"));
            }
            if !matches!(ty, FieldType::Str | FieldType::KvList) {
                return Err(at.err(&location, "a `session` field is `str` or `kv[]`"));
            }
            if f.cond.is_some()
                || f.size.is_some()
                || f.count.is_some()
                || f.assert.is_some()
                || f.bits.is_some()
                || f.hook.is_some()
                || f.peek
            {
                return Err(at.err(
                    &location,
                    "a `session` field is not on the wire: no `if`, `size`, `count`, `assert`, `bits`, `hook` or `peek`",
                ));
            }
        } else if fields[..i].iter().any(|g| g.session) {
            return Err(at.err(&location, "wire fields come before the `session` fields"));
        }
        if matches!(ty, FieldType::Str | FieldType::KvList) && !cx.hooked && !f.session {
            return Err(at.err(
                &location,
                format!("type `{}` is only for protocols with a hook", f.ty),
            ));
        }
        if cx.hooked && ty.uses_records() {
            return Err(at.err(&location, "records are not for protocols with a hook"));
        }
        if let FieldType::Tlv(family) = &ty {
            if !cx.tlvs.contains_key(family) {
                let known = cx.tlvs.keys().cloned().collect::<Vec<_>>().join(", ");
                return Err(at.err(
                    &location,
                    format!("unknown TLV family `{family}` (known: {known})"),
                ));
            }
        }
        if let FieldType::List(elem) = &ty {
            if elem.fixed_size().is_none() && !matches!(**elem, FieldType::Record(_)) {
                return Err(at.err(
                    &location,
                    "list elements must have a fixed size, or be records",
                ));
            }
        }
        if f.count.is_some() {
            if !matches!(ty, FieldType::List(_)) {
                return Err(at.err(
                    &location,
                    format!("`count` is only for lists (`T[]`), not `{}`", f.ty),
                ));
            }
            if f.size.is_some() {
                return Err(at.err(
                    &location,
                    "give either `count` (elements) or `size` (bytes), not both",
                ));
            }
        }
        if let Some(r) = &f.registry {
            check_registry_ref(cx, &location, r)?;
            if !ty.is_uint() {
                return Err(at.err(&location, "`enum` needs an unsigned integer field"));
            }
        }
        let endian = f
            .endian
            .as_deref()
            .map(|e| {
                Endian::parse(e)
                    .filter(|e| *e != Endian::Runtime)
                    .ok_or_else(|| at.err(&location, format!("endian `{e}` is not big or little")))
            })
            .transpose()?;
        let display = match f.display.as_deref() {
            None => Display::Hex,
            Some(d) => {
                if ty != FieldType::Bytes {
                    return Err(at.err(&location, "`display` is only for `bytes` fields"));
                }
                match d {
                    "hex" => Display::Hex,
                    "mac" => Display::Mac,
                    "ipv4" => Display::Ipv4,
                    "ipv6" => Display::Ipv6,
                    "text" => Display::Text,
                    _ => {
                        return Err(at.err(
                            &location,
                            format!("display `{d}` is not one of hex, mac, ipv4, ipv6, text"),
                        ))
                    }
                }
            }
        };
        if f.size.is_some() && !ty.is_sized() {
            return Err(at.err(
                &location,
                format!(
                    "`size` is only for bytes, lists, TLV lists and switches, not `{}`",
                    f.ty
                ),
            ));
        }
        if ty.is_sized() && f.size.is_none() && f.count.is_none() {
            let rest_after = fields[i + 1..].iter().any(|g| !g.peek && !g.session);
            if rest_after {
                return Err(at.err(
                    &location,
                    "without `size` the field takes the rest of the input, so it must be the last field",
                ));
            }
        }
        if f.peek {
            if f.cond.is_some() {
                return Err(at.err(&location, "a `peek` field cannot be optional (`if`)"));
            }
            if ty.fixed_size().is_none() {
                return Err(at.err(&location, "a `peek` field must have a fixed size"));
            }
            if i + 1 != fields.len() {
                return Err(at.err(&location, "a `peek` field must be the last field"));
            }
        }
        if let Some(hook) = &f.hook {
            if !is_identifier(hook) {
                return Err(at.err(&location, format!("hook `{hook}` is not a function name")));
            }
        }

        let bits = match &f.bits {
            None => Vec::new(),
            Some(bits) => {
                let FieldType::Int {
                    bytes,
                    signed: false,
                } = ty
                else {
                    return Err(at.err(&location, "bit ranges need an unsigned integer container"));
                };
                let mut out = Vec::new();
                flatten_bits(
                    cx,
                    &location,
                    bits,
                    u32::from(bytes) * 8,
                    0,
                    0,
                    &f.ty,
                    &mut out,
                )?;
                out
            }
        };
        for name in std::iter::once(&f.name).chain(bits.iter().map(|b| &b.name)) {
            // `type` and `type_` are one Rust name (keywords get a trailing `_`).
            let rust = rust_name(name);
            if !names.insert(rust.clone()) {
                return Err(at.err(
                    &location,
                    format!("the name `{name}` is used twice (as `{rust}` in Rust)"),
                ));
            }
            // Bit ranges become accessor methods, beside the generated ones.
            if name != &f.name && RESERVED.contains(&name.as_str()) {
                return Err(at.err(
                    &location,
                    format!(
                        "`{name}` is the name of a generated method; choose another (reserved: {})",
                        RESERVED.join(", ")
                    ),
                ));
            }
        }

        let mut field = Field {
            name: f.name.clone(),
            doc: f.doc.clone(),
            ty,
            registry: f.registry.clone(),
            assert: None,
            cond: None,
            show: None,
            size: None,
            count: None,
            display,
            endian,
            peek: f.peek,
            hook: f.hook.clone(),
            bits,
            wireshark: f.wireshark.clone(),
            session: f.session,
        };
        // `size` and `if` see the fields before; `assert` and `show` see this one too.
        let before = out.as_slice();
        field.size = f
            .size
            .as_ref()
            .map(|s| check_expr(at, &format!("{location}: size"), s, before, None))
            .transpose()?;
        field.count = f
            .count
            .as_ref()
            .map(|s| check_expr(at, &format!("{location}: count"), s, before, None))
            .transpose()?;
        field.cond = f
            .cond
            .as_ref()
            .map(|s| check_expr(at, &format!("{location}: if"), s, before, None))
            .transpose()?;
        field.assert = f
            .assert
            .as_ref()
            .map(|s| check_expr(at, &format!("{location}: assert"), s, before, Some(&field)))
            .transpose()?;
        field.show = f
            .show
            .as_ref()
            .map(|s| check_expr(at, &format!("{location}: show"), s, before, Some(&field)))
            .transpose()?;
        let mut ranges = field.bits.clone();
        for r in &mut ranges {
            if let Some(a) = &r.assert {
                let src = a.src.clone();
                r.assert = Some(check_expr(
                    at,
                    &format!("{location}: bits `{}`: assert", r.name),
                    &src,
                    before,
                    Some(&field),
                )?);
            }
            if let Some(s) = &r.show {
                let src = s.src.clone();
                r.show = Some(check_expr(
                    at,
                    &format!("{location}: bits `{}`: show", r.name),
                    &src,
                    before,
                    Some(&field),
                )?);
            }
        }
        field.bits = ranges;
        out.push(field);
    }
    Ok(out)
}

/// A `switch` field's key, cases and default.
fn check_switch(
    cx: &Cx,
    location: &str,
    f: &model::Field,
    key: &str,
    before: &[Field],
) -> Result<FieldType, SpecError> {
    let at = &cx.at;
    if !f.ty.is_empty() {
        return Err(at.err(
            location,
            "a `switch` field takes its type from its `cases`: leave out `type`",
        ));
    }
    let key = check_expr(at, &format!("{location}: switch"), key, before, None)?;
    let case = |what: &str, name: &str| -> Result<Case, SpecError> {
        if name == "bytes" {
            Ok(Case::Bytes)
        } else if cx.records.contains(name) {
            Ok(Case::Record(name.to_owned()))
        } else {
            let known = cx.records.iter().cloned().collect::<Vec<_>>().join(", ");
            Err(at.err(
                location,
                format!(
                    "{what}: `{name}` is not a record of this file, nor `bytes` (records: {})",
                    if known.is_empty() { "none" } else { &known }
                ),
            ))
        }
    };
    let Some(given) = f.cases.as_ref().filter(|c| !c.is_empty()) else {
        return Err(at.err(location, "a `switch` needs `cases` (value = record name)"));
    };
    let mut cases = Vec::new();
    for (k, name) in given {
        let v = parse_int(k).ok_or_else(|| {
            at.err(
                location,
                format!("case `{k}`: not a decimal or 0x-hex integer"),
            )
        })?;
        if cases.iter().any(|(seen, _)| *seen == v) {
            return Err(at.err(location, format!("case {v} is given twice")));
        }
        cases.push((v, case(&format!("case {k}"), name)?));
    }
    cases.sort_by_key(|c| c.0);
    if !cases.iter().any(|(_, c)| matches!(c, Case::Record(_))) {
        return Err(at.err(
            location,
            "a `switch` needs at least one case that is a record",
        ));
    }
    if let Some((_, Case::Record(r))) = cases
        .iter()
        .find(|(_, c)| matches!(c, Case::Record(r) if camel_name(r) == "Raw"))
    {
        return Err(at.err(
            location,
            format!("record `{r}` cannot be a case: `Raw` is the name of the switch's raw bytes"),
        ));
    }
    let default = match &f.default {
        Some(d) => case("default", d)?,
        None => Case::Bytes,
    };
    Ok(FieldType::Switch(Box::new(Switch {
        key,
        cases,
        default,
    })))
}

/// The file's `[[record]]`s: names, paths, fields, and no record inside itself.
fn check_records(
    cx: &Cx,
    p: &Protocol,
    records: &[model::Record],
) -> Result<Vec<Record>, SpecError> {
    let at = &cx.at;
    let mut out: Vec<Record> = Vec::new();
    let mut camels: BTreeMap<String, String> = BTreeMap::new();
    camels.insert(camel_name(&p.id), format!("the protocol `{}`", p.id));
    for r in records {
        let location = format!("record `{}`", r.name);
        if !is_identifier(&r.name) {
            return Err(at.err(
                &location,
                "a record name must be lower-case letters, digits and `_`, starting with a letter",
            ));
        }
        if parse_type(&r.name).is_some() || r.name == "switch" {
            return Err(at.err(
                &location,
                "a record cannot take the name of a built-in type",
            ));
        }
        if out.iter().any(|o| o.name == r.name) {
            return Err(at.err(&location, "the record is declared twice"));
        }
        if let Some(prev) = camels.insert(camel_name(&r.name), location.clone()) {
            return Err(at.err(
                &location,
                format!(
                    "its Rust name `{}` is also that of {prev}",
                    camel_name(&r.name)
                ),
            ));
        }
        let path = r.path.clone().unwrap_or_else(|| r.name.clone());
        if !path.is_empty() && !path.split('.').all(is_identifier) {
            return Err(at.err(
                &location,
                format!("path `{path}` must be lower-case names joined by `.`, or empty"),
            ));
        }
        if r.field.is_empty() {
            return Err(at.err(&location, "a record needs fields"));
        }
        let fields = check_fields(cx, &format!("{location}: field"), &r.field)?;
        out.push(Record {
            name: r.name.clone(),
            doc: r.doc.clone(),
            path,
            fields,
        });
    }
    // Switch enums are named after their owner and field (`OspfBody`).
    let owners = std::iter::once((p.id.as_str(), &p.fields))
        .chain(out.iter().map(|r| (r.name.as_str(), &r.fields)));
    for (owner, fields) in owners {
        for f in fields
            .iter()
            .filter(|f| matches!(f.ty, FieldType::Switch(_)))
        {
            let name = format!("{}{}", camel_name(owner), camel_name(&f.name));
            if let Some(prev) = camels.insert(name.clone(), format!("switch `{}`", f.name)) {
                return Err(at.err(
                    format!("field `{}`", f.name),
                    format!("the switch's Rust type `{name}` is also the name of {prev}"),
                ));
            }
        }
    }
    // No record may hold itself, directly or through others: its size would be endless
    // (and hostile input could nest it as deep as it likes).
    fn uses(fields: &[Field]) -> Vec<String> {
        let mut names = Vec::new();
        for f in fields {
            match &f.ty {
                FieldType::Record(r) => names.push(r.clone()),
                FieldType::List(elem) => {
                    if let FieldType::Record(r) = &**elem {
                        names.push(r.clone());
                    }
                }
                FieldType::Switch(s) => names.extend(s.records().into_iter().map(str::to_owned)),
                _ => {}
            }
        }
        names
    }
    fn visit(
        name: &str,
        records: &[Record],
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == name) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(name.to_owned());
            return Some(cycle);
        }
        if done.contains(name) {
            return None;
        }
        stack.push(name.to_owned());
        let r = records.iter().find(|r| r.name == name)?;
        for used in uses(&r.fields) {
            if let Some(cycle) = visit(&used, records, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(name.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for r in &out {
        if let Some(cycle) = visit(&r.name, &out, &mut Vec::new(), &mut done) {
            return Err(at.err(
                format!("record `{}`", cycle[0]),
                format!("a record cannot hold itself ({})", cycle.join(" holds ")),
            ));
        }
    }
    Ok(out)
}

fn check_registry_ref(cx: &Cx, location: &str, r: &str) -> Result<(), SpecError> {
    if cx.registries.contains(r) {
        return Ok(());
    }
    let known = cx.registries.iter().cloned().collect::<Vec<_>>().join(", ");
    Err(cx
        .at
        .err(location, format!("unknown registry `{r}` (known: {known})")))
}

#[allow(clippy::too_many_arguments)]
fn flatten_bits(
    cx: &Cx,
    location: &str,
    bits: &[model::Bits],
    width: u32,
    base_shift: u32,
    depth: u32,
    container: &str,
    out: &mut Vec<BitRange>,
) -> Result<(), SpecError> {
    let at = &cx.at;
    let sum: u64 = bits.iter().map(|b| u64::from(b.width)).sum();
    if sum != u64::from(width) {
        return Err(at.err(
            location,
            format!("bit widths add up to {sum}, but the container `{container}` has {width} bits"),
        ));
    }
    let mut shift = base_shift + width;
    for b in bits {
        let here = format!("{location}: bits `{}`", b.name);
        if !is_identifier(&b.name) {
            return Err(at.err(
                location,
                format!("bit range `{}` must be a lower-case name", b.name),
            ));
        }
        if b.width == 0 {
            return Err(at.err(&here, "width must be at least 1"));
        }
        shift -= b.width;
        let is_bool = match b.ty.as_deref() {
            None | Some("uint") => false,
            Some("bool") if b.width == 1 => true,
            Some("bool") => return Err(at.err(&here, "a `bool` range must be 1 bit wide")),
            Some(t) => return Err(at.err(&here, format!("type `{t}` is not bool or uint"))),
        };
        if let Some(r) = &b.registry {
            check_registry_ref(cx, &here, r)?;
        }
        let scale = b.scale.unwrap_or(1);
        if scale == 0 || (is_bool && scale != 1) {
            return Err(at.err(&here, "`scale` must be at least 1, and is not for booleans"));
        }
        out.push(BitRange {
            name: b.name.clone(),
            doc: b.doc.clone(),
            shift,
            width: b.width,
            is_bool,
            scale,
            registry: b.registry.clone(),
            // Parsed later, once the field exists to be referred to.
            assert: b.assert.as_ref().map(|s| Checked {
                src: s.clone(),
                expr: Expr::Int(0),
            }),
            show: b.show.as_ref().map(|s| Checked {
                src: s.clone(),
                expr: Expr::Int(0),
            }),
            depth,
            wireshark: b.wireshark.clone(),
        });
        if let Some(inner) = &b.bits {
            flatten_bits(cx, &here, inner, b.width, shift, depth + 1, &b.name, out)?;
        }
    }
    Ok(())
}

/// A field's type: a built-in one, or a record of the file (`lsa_header`, `lsa_header[]`).
fn parse_type_in(s: &str, records: &BTreeSet<String>) -> Option<FieldType> {
    if let Some(elem) = s.strip_suffix("[]") {
        if records.contains(elem) {
            return Some(FieldType::List(Box::new(FieldType::Record(
                elem.to_owned(),
            ))));
        }
    } else if records.contains(s) {
        return Some(FieldType::Record(s.to_owned()));
    }
    parse_type(s)
}

fn parse_type(s: &str) -> Option<FieldType> {
    if let Some(elem) = s.strip_suffix("[]") {
        if elem == "kv" {
            return Some(FieldType::KvList);
        }
        return Some(FieldType::List(Box::new(parse_type(elem)?)));
    }
    if let Some(family) = s.strip_prefix("tlv:") {
        return is_identifier(family).then(|| FieldType::Tlv(family.to_owned()));
    }
    Some(match s {
        "u8" => FieldType::Int {
            bytes: 1,
            signed: false,
        },
        "u16" => FieldType::Int {
            bytes: 2,
            signed: false,
        },
        "u24" => FieldType::Int {
            bytes: 3,
            signed: false,
        },
        "u32" => FieldType::Int {
            bytes: 4,
            signed: false,
        },
        "u64" => FieldType::Int {
            bytes: 8,
            signed: false,
        },
        "i8" => FieldType::Int {
            bytes: 1,
            signed: true,
        },
        "i16" => FieldType::Int {
            bytes: 2,
            signed: true,
        },
        "i32" => FieldType::Int {
            bytes: 4,
            signed: true,
        },
        "i64" => FieldType::Int {
            bytes: 8,
            signed: true,
        },
        "mac" => FieldType::Mac,
        "ipv4" => FieldType::Ipv4,
        "ipv6" => FieldType::Ipv6,
        "bytes" => FieldType::Bytes,
        "str" => FieldType::Str,
        "dns_name" => FieldType::DnsName,
        _ => return None,
    })
}

/// The names an expression may use: the integer fields in `fields` and their bit ranges,
/// and `this` (the field the expression belongs to, for `assert` and `show`).
pub(crate) fn scope<'a>(fields: &'a [Field], this: Option<&'a Field>) -> Vec<(&'a str, Ty)> {
    let mut names = Vec::new();
    for f in fields.iter().chain(this) {
        if f.ty.is_int() {
            names.push((f.name.as_str(), Ty::Int));
        }
        for b in &f.bits {
            names.push((b.name.as_str(), if b.is_bool { Ty::Bool } else { Ty::Int }));
        }
    }
    names
}

/// `expr` with every `sizeof(field)` given the `size` of that earlier field of `fields`
/// (`Expr::SizeOf`): the region a switch, bytes or a list was read over.
fn with_sizes(expr: Expr, fields: &[Field]) -> Result<Expr, String> {
    Ok(match expr {
        Expr::Call(f, args) if f == "sizeof" => {
            let [Expr::Name(name)] = args.as_slice() else {
                return Err("`sizeof` takes one field name: sizeof(body)".to_owned());
            };
            let field = fields
                .iter()
                .find(|f| &f.name == name)
                .ok_or_else(|| format!("`sizeof({name})`: no field `{name}` before this one"))?;
            if field.cond.is_some() {
                return Err(format!(
                    "`sizeof({name})`: `{name}` is not always on the wire (`if`)"
                ));
            }
            let size = field.size.as_ref().ok_or_else(|| {
                format!("`sizeof({name})`: `{name}` has no `size` (only a field read over `size` bytes has one to name)")
            })?;
            Expr::SizeOf(name.clone(), Box::new(size.expr.clone()))
        }
        Expr::Call(f, args) => Expr::Call(
            f,
            args.into_iter()
                .map(|a| with_sizes(a, fields))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(e) => Expr::Not(Box::new(with_sizes(*e, fields)?)),
        Expr::Binary(op, a, b) => Expr::Binary(
            op,
            Box::new(with_sizes(*a, fields)?),
            Box::new(with_sizes(*b, fields)?),
        ),
        e @ (Expr::Int(_) | Expr::Name(_) | Expr::SizeOf(..)) => e,
    })
}

/// The name `payload.size` may use for the bytes captured after the header.
pub const CAPTURED: &str = "captured";

fn check_expr(
    at: &At,
    location: &str,
    src: &str,
    fields: &[Field],
    this: Option<&Field>,
) -> Result<Checked, SpecError> {
    check_expr_with(at, location, src, fields, this, &[])
}

fn check_expr_with(
    at: &At,
    location: &str,
    src: &str,
    fields: &[Field],
    this: Option<&Field>,
    builtins: &[&'static str],
) -> Result<Checked, SpecError> {
    let expr = Expr::parse(src).map_err(|e| at.err(location, format!("`{src}`: {e}")))?;
    let expr = with_sizes(expr, fields).map_err(|e| at.err(location, format!("`{src}`: {e}")))?;
    let mut names = scope(fields, this);
    names.extend(builtins.iter().map(|b| (*b, Ty::Int)));
    let resolve = |n: &str| {
        names
            .iter()
            .find(|(name, _)| *name == n)
            .map(|(_, ty)| (quote!(x), *ty))
    };
    if let Err(e) = expr.to_rust(&resolve) {
        let mut reason = format!("`{src}`: {e}");
        if e.starts_with("unknown name") {
            let all = fields.iter().chain(this);
            let not_numbers: Vec<_> = all
                .filter(|f| !f.ty.is_int())
                .map(|f| f.name.as_str())
                .collect();
            if let Some(n) = expr.names().into_iter().find(|n| not_numbers.contains(n)) {
                reason = format!(
                    "`{src}`: `{n}` is not a number, so it cannot be used in an expression"
                );
            } else {
                let known: Vec<_> = names.iter().map(|(n, _)| *n).collect();
                reason.push_str(&format!(
                    " (known here: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ));
            }
        }
        return Err(at.err(location, reason));
    }
    Ok(Checked {
        src: src.to_owned(),
        expr,
    })
}

fn check_tlv(
    file: &Path,
    t: &model::TlvFamily,
    registries: &BTreeSet<String>,
) -> Result<TlvFamily, SpecError> {
    let at = At { file };
    let location = format!("tlv `{}`", t.id);
    if !is_identifier(&t.id) {
        return Err(at.err(&location, "the id must be a lower-case name"));
    }
    let width = |what: &str, s: &str| match s {
        "u8" => Ok(1u8),
        "u16" => Ok(2),
        _ => Err(at.err(&location, format!("`{what}` must be u8 or u16, not `{s}`"))),
    };
    let kind_bytes = width("kind", &t.kind)?;
    let length_bytes = width("length", &t.length)?;
    let covers_all = match t.covers.as_str() {
        "all" => true,
        "value" => false,
        c => {
            return Err(at.err(
                &location,
                format!("`covers` must be all or value, not `{c}`"),
            ))
        }
    };
    if let Some(r) = &t.registry {
        if !registries.contains(r) {
            return Err(at.err(&location, format!("unknown registry `{r}`")));
        }
    }
    if !(1..=8).contains(&t.align) {
        return Err(at.err(&location, "`align` must be between 1 and 8"));
    }
    let unit = match u8::try_from(t.unit) {
        Ok(u) if u >= 1 => u,
        _ => {
            return Err(at.err(
                &location,
                format!(
                    "`unit` (bytes counted by one unit of the length) must be between 1 and 255, not {}",
                    t.unit
                ),
            ))
        }
    };
    let kind_max = max_of_width(u32::from(kind_bytes) * 8);
    if let Some(k) = t.single.iter().chain(&t.end).find(|k| **k > kind_max) {
        return Err(at.err(
            &location,
            format!(
                "kind {k} (in `single` or `end`) does not fit in `{}`",
                t.kind
            ),
        ));
    }
    let no_tlvs = BTreeMap::new();
    let no_records = BTreeSet::new();
    let cx = Cx {
        at: at.clone(),
        registries,
        tlvs: &no_tlvs,
        hooked: false,
        records: &no_records,
    };
    let mut kinds = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut variants = Vec::new();
    for v in &t.variant {
        let here = format!("{location}: variant `{}`", v.name);
        if !is_identifier(&v.name) || !names.insert(v.name.clone()) {
            return Err(at.err(&here, "variant names must be unique lower-case names"));
        }
        if !kinds.insert(v.kind) {
            return Err(at.err(&here, format!("kind {} is declared twice", v.kind)));
        }
        if camel_name(&v.name) == camel_name(&t.id) {
            return Err(at.err(
                &here,
                "a variant cannot take the family's name (both become one Rust type)",
            ));
        }
        if v.kind > max_of_width(u32::from(kind_bytes) * 8) {
            return Err(at.err(
                &here,
                format!("kind {} does not fit in `{}`", v.kind, t.kind),
            ));
        }
        if t.single.contains(&v.kind) {
            return Err(at.err(&here, "a single-byte kind has no value to declare"));
        }
        if let Some(f) = v.fields.iter().find(|f| f.ty.starts_with("tlv:")) {
            return Err(at.err(&here, format!("field `{}`: TLV lists cannot nest", f.name)));
        }
        let fields = check_fields(&cx, &format!("{here}: field"), &v.fields)?;
        variants.push(TlvVariant {
            kind: v.kind,
            name: v.name.clone(),
            doc: v.doc.clone(),
            fields,
        });
    }
    Ok(TlvFamily {
        file: file.to_owned(),
        id: t.id.clone(),
        kind_bytes,
        length_bytes,
        covers_all,
        unit,
        registry: t.registry.clone(),
        single: t.single.clone(),
        end: t.end,
        align: t.align,
        variants,
    })
}

/// Every value a protocol shows has a path `id.name`; TLV variant values share the
/// protocol's namespace, so two of them must not take the same name. Values of records
/// are `id.PATH.name` (PATH: the record's `path`, by default its name); records may share
/// a path (two layouts of one thing, such as OSPFv2 and OSPFv3 LSA headers), which then
/// gives one column, but not with the header or a TLV family.
fn check_paths(p: &Protocol, tlvs: &[TlvFamily]) -> Result<BTreeSet<String>, SpecError> {
    let at = At { file: &p.file };
    // path → (where it comes from, the record it belongs to)
    let mut seen: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    let mut add = |name: String, origin: String, record: Option<&str>| -> Result<(), SpecError> {
        match seen.get(&name) {
            Some((_, Some(prev))) if record.is_some_and(|r| r != prev) => Ok(()),
            Some((prev, _)) => Err(at.err(
                origin,
                format!("the path `{}.{name}` is already taken by {prev}", p.id),
            )),
            None => {
                seen.insert(name, (origin, record.map(str::to_owned)));
                Ok(())
            }
        }
    };
    // A family used by several fields shows its options' values once.
    let mut families = BTreeSet::new();
    let owners =
        std::iter::once((None, &p.fields)).chain(p.records.iter().map(|r| (Some(r), &r.fields)));
    for (record, fields) in owners {
        let path_of = |name: &str| match record {
            Some(r) => r.path_of(name),
            None => name.to_owned(),
        };
        let origin_of = |name: &str| match record {
            Some(r) => format!("record `{}`: field `{name}`", r.name),
            None => format!("field `{name}`"),
        };
        let rec = record.map(|r| r.name.as_str());
        for e in entries(fields) {
            add(path_of(e.name), origin_of(&e.field.name), rec)?;
            match &e.field.ty {
                FieldType::Tlv(family) => {
                    for sub in ["kind", "length", "data"] {
                        add(
                            path_of(&format!("{}.{sub}", e.name)),
                            origin_of(e.name),
                            rec,
                        )?;
                    }
                    let family = tlvs.iter().find(|t| &t.id == family).expect("checked");
                    if !families.insert(family.id.as_str()) {
                        continue;
                    }
                    for v in &family.variants {
                        for ve in entries(&v.fields) {
                            add(
                                ve.name.to_owned(),
                                format!("option `{}` of TLV family `{}`", v.name, family.id),
                                None,
                            )?;
                        }
                    }
                }
                FieldType::KvList => {
                    for sub in ["name", "value"] {
                        add(format!("{}.{sub}", e.name), origin_of(e.name), None)?;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(seen.into_keys().map(|k| format!("{}.{k}", p.id)).collect())
}

/// `[[example]]`s: the hex must be bytes, and every value named must be a path of the
/// protocol.
fn check_examples(
    p: &Protocol,
    tlvs: &[TlvFamily],
    examples: &[model::Example],
) -> Result<Vec<Example>, SpecError> {
    let at = At { file: &p.file };
    let paths = check_paths(p, tlvs)?;
    let mut out = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        let location = format!("example #{}", i + 1);
        let digits: String = e.hex.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty()
            || digits.len() % 2 != 0
            || !digits.chars().all(|c| c.is_ascii_hexdigit())
        {
            return Err(at.err(
                &location,
                "`hex` must be an even number of hex digits (spaces and line breaks allowed)",
            ));
        }
        let bytes = (0..digits.len())
            .step_by(2)
            .map(|j| u8::from_str_radix(&digits[j..j + 2], 16).expect("hex digits"))
            .collect();
        if e.fields.is_empty() {
            return Err(at.err(
                &location,
                "an example needs `fields`: the values the bytes must give",
            ));
        }
        let mut fields = Vec::new();
        for (key, value) in &e.fields {
            let path = format!("{}.{key}", p.id);
            if !paths.contains(&path) {
                let last = key.rsplit('.').next().unwrap_or(key);
                let near: Vec<&str> = paths
                    .iter()
                    .filter(|q| q.rsplit('.').next() == Some(last))
                    .map(String::as_str)
                    .collect();
                let hint = if near.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", near.join(", "))
                };
                return Err(at.err(
                    format!("{location}: fields.{key}"),
                    format!("`{path}` is not a value of this protocol{hint}"),
                ));
            }
            let text = |v: &toml::Value| -> Option<String> {
                Some(match v {
                    toml::Value::Integer(n) => n.to_string(),
                    toml::Value::Boolean(b) => if *b { "1" } else { "0" }.to_owned(),
                    toml::Value::String(s) => s.clone(),
                    _ => return None,
                })
            };
            let values = match value {
                toml::Value::Array(items) => items.iter().map(text).collect::<Option<Vec<_>>>(),
                v => text(v).map(|t| vec![t]),
            }
            .ok_or_else(|| {
                at.err(
                    format!("{location}: fields.{key}"),
                    "a value is a number, a boolean, a string, or a list of them",
                )
            })?;
            fields.push((path, values));
        }
        out.push(Example {
            doc: e.doc.clone(),
            bytes,
            fields,
        });
    }
    Ok(out)
}
