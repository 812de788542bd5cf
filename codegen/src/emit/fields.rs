//! The field table: every value a protocol shows gets a path (`tcp.mss`), a JSON key, a type
//! description and a global index, so the dumpers can pick columns without comparing strings.

use std::collections::BTreeMap;

use crate::ir::*;

pub struct Info {
    /// Where the value's bytes end in the header, when static (`u32::MAX` otherwise).
    pub end: u32,
    pub path: String,
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
    let push = |infos: &mut Vec<Info>, end: u32, name: &str, ty: String, doc: &str| {
        infos.push(Info {
            end,
            path: format!("{}.{name}", p.id),
            name: name.rsplit('.').next().unwrap_or(name).to_owned(),
            ty,
            doc: doc.to_owned(),
        });
    };
    for e in entries(&p.fields) {
        index.insert(format!("entry:{}", e.name), infos.len());
        let i = p
            .fields
            .iter()
            .position(|f| std::ptr::eq(f, e.field))
            .expect("own field");
        let end = ends[i]
            .and_then(|e| u32::try_from(e).ok())
            .unwrap_or(u32::MAX);
        push(&mut infos, end, e.name, e.ty.clone(), e.doc);
        let f = e.field;
        match &f.ty {
            FieldType::Tlv(family) => {
                let family = model.tlv(family);
                let bits = |bytes: Option<u8>| format!("u{}", u32::from(bytes.unwrap_or(1)) * 8);
                let kind_ty = match family.and_then(|t| t.registry.as_ref()) {
                    Some(r) => format!("{} ({r})", bits(family.map(|t| t.kind_bytes))),
                    None => bits(family.map(|t| t.kind_bytes)),
                };
                let length_ty = bits(family.map(|t| t.length_bytes));
                push(
                    &mut infos,
                    u32::MAX,
                    &format!("{}.kind", f.name),
                    kind_ty,
                    "option kind",
                );
                push(
                    &mut infos,
                    u32::MAX,
                    &format!("{}.length", f.name),
                    length_ty,
                    "option length, as on the wire",
                );
                push(
                    &mut infos,
                    u32::MAX,
                    &format!("{}.data", f.name),
                    "bytes".into(),
                    "value of an option kept raw",
                );
                if let Some(t) = family {
                    for v in &t.variants {
                        for ve in entries(&v.fields) {
                            push(&mut infos, u32::MAX, ve.name, ve.ty.clone(), ve.doc);
                        }
                    }
                }
            }
            FieldType::KvList => {
                push(
                    &mut infos,
                    u32::MAX,
                    &format!("{}.name", f.name),
                    "str".into(),
                    "name",
                );
                push(
                    &mut infos,
                    u32::MAX,
                    &format!("{}.value", f.name),
                    "str".into(),
                    "value",
                );
            }
            _ => {}
        }
    }
    ProtoLayout { base, infos, index }
}
