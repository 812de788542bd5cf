//! The field table: every value a protocol shows gets a path (`tcp.mss`), a JSON key, a type
//! description and a global index, so the dumpers can pick columns without comparing strings.

use std::collections::BTreeMap;

use crate::ir::*;

pub struct Info {
    /// Where the value's bytes end in the header, when static (`u32::MAX` otherwise).
    pub end: u32,
    pub path: String,
    /// Wireshark display-filter name, if the spec gives one.
    pub wireshark: Option<String>,
    pub name: String,
    pub ty: String,
    pub doc: String,
}

pub struct ProtoLayout {
    /// Global index of this protocol's first field.
    pub base: usize,
    pub infos: Vec<Info>,
    index: BTreeMap<String, usize>,
}

impl ProtoLayout {
    /// Local index of a header entry (a field or a bit range), by name.
    pub fn entry(&self, name: &str) -> usize {
        self.index[&format!("entry:{name}")]
    }

    /// Local index of the first value of a TLV family's options in this protocol (its
    /// variants' values are listed once, however many fields use the family).
    pub fn tlv_values(&self, family: &str) -> usize {
        self.index[&format!("tlv:{family}")]
    }

    /// Local index of an entry of the header (`record`: `None`) or of a record.
    pub fn entry_in(&self, record: Option<&str>, name: &str) -> usize {
        match record {
            None => self.entry(name),
            Some(r) => self.index[&format!("entry:{r}:{name}")],
        }
    }
}

pub struct Layout {
    pub protos: BTreeMap<String, ProtoLayout>,
    pub total: usize,
}

impl Layout {
    pub fn new(model: &Model) -> Layout {
        let mut protos = BTreeMap::new();
        let mut total = 0;
        for p in &model.protocols {
            let layout = proto_layout(model, p, total);
            total += layout.infos.len();
            protos.insert(p.id.clone(), layout);
        }
        Layout { protos, total }
    }

    pub fn of(&self, id: &str) -> &ProtoLayout {
        &self.protos[id]
    }
}

fn proto_layout(model: &Model, p: &Protocol, base: usize) -> ProtoLayout {
    let mut infos = Vec::new();
    let mut index = BTreeMap::new();
    let ends = static_ends(&p.fields);
    let header = entries(&p.fields).into_iter().map(|e| {
        let i = p
            .fields
            .iter()
            .position(|f| std::ptr::eq(f, e.field))
            .expect("own field");
        let end = ends[i]
            .and_then(|e| u32::try_from(e).ok())
            .unwrap_or(u32::MAX);
        (None, e, end)
    });
    let records = p.records.iter().flat_map(|r| {
        entries(&r.fields)
            .into_iter()
            .map(move |e| (Some(r), e, u32::MAX))
    });
    for (record, e, end) in header.chain(records) {
        let key = match record {
            None => format!("entry:{}", e.name),
            Some(r) => format!("entry:{}:{}", r.name, e.name),
        };
        let local = match record {
            None => e.name.to_owned(),
            Some(r) => r.path_of(e.name),
        };
        let path = format!("{}.{local}", p.id);
        // Records may share a path (checked): one column for both.
        if record.is_some() {
            if let Some(at) = infos.iter().position(|i: &Info| i.path == path) {
                let shared = &mut infos[at];
                if !shared.ty.split(" or ").any(|t| t == e.ty) {
                    shared.ty = format!("{} or {}", shared.ty, e.ty);
                }
                if shared.doc.is_empty() {
                    shared.doc = e.doc.to_owned();
                }
                if shared.wireshark.is_none() {
                    shared.wireshark = e.wireshark.map(str::to_owned);
                }
                index.insert(key, at);
                continue;
            }
        }
        index.insert(key, infos.len());
        push(&mut infos, end, &path, e.ty.clone(), e.doc);
        if let Some(last) = infos.last_mut() {
            last.wireshark = e.wireshark.map(str::to_owned);
        }
        let f = e.field;
        let sub = |s: &str| format!("{}.{s}", path);
        match &f.ty {
            FieldType::Tlv(family) => {
                let family = model.tlv(family);
                let bits = |bytes: Option<u8>| format!("u{}", u32::from(bytes.unwrap_or(1)) * 8);
                let kind_ty = match family.and_then(|t| t.registry.as_ref()) {
                    Some(r) => format!("{} ({r})", bits(family.map(|t| t.kind_bytes))),
                    None => bits(family.map(|t| t.kind_bytes)),
                };
                let length_ty = bits(family.map(|t| t.length_bytes));
                push(&mut infos, u32::MAX, &sub("kind"), kind_ty, "option kind");
                push(
                    &mut infos,
                    u32::MAX,
                    &sub("length"),
                    length_ty,
                    "option length, as on the wire",
                );
                push(
                    &mut infos,
                    u32::MAX,
                    &sub("data"),
                    "bytes".into(),
                    "value of an option kept raw",
                );
                if let Some(t) = family.filter(|t| !index.contains_key(&format!("tlv:{}", t.id))) {
                    index.insert(format!("tlv:{}", t.id), infos.len());
                    for v in &t.variants {
                        for ve in entries(&v.fields) {
                            let path = format!("{}.{}", p.id, ve.name);
                            push(&mut infos, u32::MAX, &path, ve.ty.clone(), ve.doc);
                            if let Some(last) = infos.last_mut() {
                                last.wireshark = ve.wireshark.map(str::to_owned);
                            }
                        }
                    }
                }
            }
            FieldType::KvList => {
                push(&mut infos, u32::MAX, &sub("name"), "str".into(), "name");
                push(&mut infos, u32::MAX, &sub("value"), "str".into(), "value");
            }
            _ => {}
        }
    }
    ProtoLayout { base, infos, index }
}

fn push(infos: &mut Vec<Info>, end: u32, path: &str, ty: String, doc: &str) {
    infos.push(Info {
        end,
        path: path.to_owned(),
        wireshark: None,
        name: path.rsplit('.').next().unwrap_or(path).to_owned(),
        ty,
        doc: doc.to_owned(),
    });
}
