//! Records (`[[record]]`) and switch fields.
//!
//! A record is a deku struct like a header, in a module of its own inside its protocol's
//! module (so its `size`/`if` helpers cannot clash with the header's), taking the byte
//! order from whoever reads it. Its values are visited with the protocol's `FIELDS`.
//!
//! A switch field is an enum with one variant per record its cases name, and `Raw` for
//! the bytes as they are (the default `bytes`, or a case whose bytes do not fit its
//! layout). It always reads a region, `size` bytes or the rest of the input, and a case
//! must take the region whole: so every byte of the region is accounted for, and a
//! hostile length can never make a case read outside its region.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::fields::ProtoLayout;
use super::*;
use crate::ir::*;

/// The module of one record, and the `pub use` that brings its type into the protocol's
/// module.
pub fn emit(model: &Model, p: &Protocol, r: &Record, lay: &ProtoLayout) -> TokenStream {
    let pseudo = pseudo_protocol(p, r);
    let module = ident(&r.name);
    let ty = camel(&r.name);
    let strukt = super::protocol::record_struct(&pseudo);
    let visit = super::protocol::emit_visit(model, &pseudo, lay, Some(&r.name), Access::Field);
    let switches = emit_switches(&pseudo, &r.name, &r.fields, lay, Some(&r.name));
    let doc = if r.doc.is_empty() {
        format!(" The `{}` record.", r.name)
    } else {
        format!(" The `{}` record: {}", r.name, r.doc)
    };
    quote! {
        #[doc = #doc]
        pub mod #module {
            #![allow(unused_imports)]
            use super::*;

            #strukt

            impl #ty {
                #visit
            }

            #switches
        }
        pub use #module::#ty;
    }
}

/// A record described as a tiny protocol, so the protocol emitter can build its struct;
/// its byte order comes from whoever reads it.
fn pseudo_protocol(p: &Protocol, r: &Record) -> Protocol {
    Protocol {
        file: PathBuf::from(&p.file),
        id: r.name.clone(),
        name: r.name.clone(),
        layer: Layer::Capture,
        title: if r.doc.is_empty() {
            format!("The `{}` record of {}", r.name, p.name)
        } else {
            r.doc.clone()
        },
        reference: p.reference.clone(),
        endian: Endian::Runtime,
        hook: None,
        view: None,
        binds: Vec::new(),
        fields: r.fields.clone(),
        payload: None,
        stream: None,
        records: Vec::new(),
        examples: Vec::new(),
    }
}

/// The enums of the switch fields among `fields` (of the header, or of record `record`).
pub fn emit_switches(
    p: &Protocol,
    owner: &str,
    fields: &[Field],
    lay: &ProtoLayout,
    record: Option<&str>,
) -> TokenStream {
    let enums = fields.iter().filter_map(|f| match &f.ty {
        FieldType::Switch(sw) => Some(emit_switch(p, owner, f, sw, lay, record)),
        _ => None,
    });
    quote!(#(#enums)*)
}

fn emit_switch(
    p: &Protocol,
    owner: &str,
    f: &Field,
    sw: &Switch,
    _lay: &ProtoLayout,
    _record: Option<&str>,
) -> TokenStream {
    let ty = switch_type(owner, &f.name);
    let records = sw.records();
    let variants = records.iter().map(|r| {
        let v = camel(r);
        let keys: Vec<String> = sw
            .cases
            .iter()
            .filter(|(_, c)| *c == Case::Record((*r).to_owned()))
            .map(|(k, _)| k.to_string())
            .collect();
        let mut doc = match keys.as_slice() {
            [] => String::new(),
            [one] => format!(" The key is {one}."),
            many => format!(" The key is one of {}.", many.join(", ")),
        };
        if sw.default == Case::Record((*r).to_owned()) {
            doc.push_str(" No other case matched.");
        }
        quote!(#[doc = #doc] #v(#v),)
    });
    let arm = |case: &Case| match case {
        Case::Record(r) => {
            let v = camel(r);
            quote!(crate::wire::read_whole(&bytes, endian).map(Self::#v))
        }
        Case::Bytes => quote!(None),
    };
    // Keys reading the same record share an arm.
    let mut arms = Vec::new();
    for r in &records {
        let case = Case::Record((*r).to_owned());
        let keys: Vec<u64> = sw
            .cases
            .iter()
            .filter(|(_, c)| *c == case)
            .map(|(k, _)| *k)
            .collect();
        let keys = key_patterns(&keys);
        if !keys.is_empty() && sw.default != case {
            let read = arm(&case);
            arms.push(quote!(#(#keys)|* => #read,));
        }
    }
    let bytes_keys: Vec<u64> = sw
        .cases
        .iter()
        .filter(|(_, c)| *c == Case::Bytes && sw.default != Case::Bytes)
        .map(|(k, _)| *k)
        .collect();
    let bytes_keys = key_patterns(&bytes_keys);
    if !bytes_keys.is_empty() {
        arms.push(quote!(#(#bytes_keys)|* => None,));
    }
    let default = arm(&sw.default);
    let matched = if arms.is_empty() {
        quote! {
            let _ = key;
            #default
        }
    } else {
        quote! {
            match key {
                #(#arms)*
                _ => #default,
            }
        }
    };
    let writes = records.iter().map(|r| {
        let v = camel(r);
        quote!(Self::#v(x) => ::deku::DekuWriter::to_writer(x, writer, endian),)
    });
    let visits = records.iter().map(|r| {
        let v = camel(r);
        quote! {
            Self::#v(x) => {
                v.begin_record(info);
                x.visit(v);
                v.end_record();
            }
        }
    });
    let doc = format!(
        " `{}` of {}: its layout is chosen by `{}`.",
        f.name, p.name, sw.key.src
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum #ty {
            #(#variants)*
            /// The bytes as they are: no case matched, or they do not fit the case's layout.
            Raw(crate::wire::Bytes),
        }

        impl #ty {
            /// Reads `size` bytes (the rest of the input when `usize::MAX`) and the case
            /// `key` chooses from them; the bytes stay raw when they do not fit it whole.
            pub fn read<R: ::deku::no_std_io::Read + ::deku::no_std_io::Seek>(
                reader: &mut ::deku::reader::Reader<R>,
                key: u64,
                size: usize,
                endian: ::deku::ctx::Endian,
            ) -> ::core::result::Result<Self, ::deku::DekuError> {
                let bytes = crate::wire::read_bytes(reader, size)?;
                let case = { #matched };
                Ok(case.unwrap_or(Self::Raw(bytes)))
            }

            /// Writes the case back.
            pub fn write<W: ::deku::no_std_io::Write + ::deku::no_std_io::Seek>(
                &self,
                writer: &mut ::deku::writer::Writer<W>,
                endian: ::deku::ctx::Endian,
            ) -> ::core::result::Result<(), ::deku::DekuError> {
                match self {
                    #(#writes)*
                    Self::Raw(bytes) => writer.write_bytes(bytes),
                }
            }

            /// Hands the case's values to `v`, as a record named by `info`; raw bytes as
            /// the value of `info`.
            pub fn visit<V: crate::value::Visitor + ?Sized>(
                &self,
                v: &mut V,
                info: &'static crate::value::FieldInfo,
            ) {
                match self {
                    #(#visits)*
                    Self::Raw(bytes) => {
                        v.field(info, crate::value::Value::Bytes(bytes, crate::value::BytesDisplay::Hex))
                    }
                }
            }
        }
    }
}
