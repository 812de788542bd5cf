//! One TLV family: an enum of its typed options, a deku struct per variant (each in its
//! own module, with its accessors), and the `TlvValue` impl the runtime's list reader uses.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::ir::*;

pub fn emit(t: &TlvFamily) -> TokenStream {
    let family = camel(&t.id);
    let mut modules = Vec::new();
    let mut variants = Vec::new();
    let mut reads = Vec::new();
    let mut kinds = Vec::new();
    let mut writes = Vec::new();
    let mut visits = Vec::new();
    let mut offset = 0usize;
    for v in &t.variants {
        let name = camel(&v.name);
        let kind = v.kind;
        let fallback = format!("`{}` option (kind {}).", v.name, v.kind);
        let doc = docs(&[if v.doc.is_empty() { &fallback } else { &v.doc }]);
        let kind = proc_macro2::Literal::u64_unsuffixed(kind);
        kinds.push(if v.fields.is_empty() {
            quote!(#family::#name => #kind,)
        } else {
            quote!(#family::#name(_) => #kind,)
        });
        if v.fields.is_empty() {
            variants.push(quote!(#doc #name,));
            reads.push(quote!(#kind => value.is_empty().then_some(#family::#name),));
            writes.push(quote!(#family::#name => Ok(()),));
            visits.push(quote!(#family::#name => {}));
            continue;
        }
        let module = ident(&v.name);
        let pseudo = pseudo_protocol(t, v);
        let strukt = protocol_struct(&pseudo);
        modules.push(quote! {
            #[doc = " Layout of the option's value."]
            pub mod #module {
                #strukt
            }
            pub use #module::#name;
        });
        variants.push(quote!(#doc #name(#name),));
        reads.push(
            quote!(#kind => crate::wire::read_whole::<#name>(value, endian).map(#family::#name),),
        );
        writes.push(quote!(#family::#name(x) => crate::wire::write_into(x, out, endian),));
        let value_entries = entries(&v.fields);
        let stmts: Vec<TokenStream> = value_entries
            .iter()
            .enumerate()
            .map(|(j, e)| {
                let i = offset + j;
                let at = index(i);
                let info = quote!(&infos[#at]);
                let infos_from = |start: usize| {
                    let start = index(start);
                    quote!(infos[#start..])
                };
                let field = ident(&e.field.name);
                super::protocol::visit_entry_for_tlv(e, info, &infos_from, i, quote!(x.#field))
            })
            .collect();
        offset += value_entries.len();
        visits.push(quote!(#family::#name(x) => { #(#stmts)* }));
    }
    let (kb, lb, covers, align) = (t.kind_bytes, t.length_bytes, t.covers_all, t.align as u8);
    let unit = t.unit;
    let single = &t.single;
    let end = match t.end {
        Some(e) => quote!(Some(#e)),
        None => quote!(None),
    };
    let registry = match &t.registry {
        Some(r) => {
            let r = ident(r);
            quote!(Some(crate::registry::#r))
        }
        None => quote!(None),
    };
    let doc = format!(
        " An option of the `{}` family with a known layout; others are kept raw.",
        t.id
    );
    let visit_body = if visits.is_empty() {
        quote!(let _ = (v, infos);)
    } else {
        quote!(match self { #(#visits)* })
    };
    let read_body = if reads.is_empty() {
        quote!(let _ = (kind, value, endian); None)
    } else {
        quote!(match kind { #(#reads)* _ => None })
    };
    let (kind_body, write_body) = if variants.is_empty() {
        (
            quote!(match *self {}),
            quote!(let _ = (out, endian); match *self {}),
        )
    } else {
        (
            quote!(match self { #(#kinds)* }),
            quote!(match self { #(#writes)* }),
        )
    };
    quote! {
        #(#modules)*

        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum #family {
            #(#variants)*
        }

        impl crate::tlv::TlvValue for #family {
            const FORMAT: crate::tlv::TlvFormat = crate::tlv::TlvFormat {
                kind_bytes: #kb,
                length_bytes: #lb,
                length_covers_all: #covers,
                length_unit: #unit,
                align: #align,
                single: &[#(#single),*],
                end: #end,
                registry: #registry,
            };

            fn read(kind: u64, value: &[u8], endian: ::deku::ctx::Endian) -> ::core::option::Option<Self> {
                #read_body
            }

            fn kind(&self) -> u64 {
                #kind_body
            }

            fn write(&self, out: &mut ::std::vec::Vec<u8>, endian: ::deku::ctx::Endian) -> ::core::result::Result<(), ::deku::DekuError> {
                #write_body
            }

            fn visit<V: crate::value::Visitor + ?Sized>(&self, v: &mut V, infos: &'static [crate::value::FieldInfo]) {
                #visit_body
            }
        }
    }
}

/// A variant's value, described as a tiny protocol so the protocol emitter can build its
/// struct (the byte order comes from the protocol using the family).
fn pseudo_protocol(t: &TlvFamily, v: &TlvVariant) -> Protocol {
    Protocol {
        file: PathBuf::from(&t.file),
        id: v.name.clone(),
        name: v.name.clone(),
        layer: Layer::Capture,
        title: if v.doc.is_empty() {
            format!("`{}` option", v.name)
        } else {
            v.doc.clone()
        },
        reference: String::new(),
        endian: Endian::Runtime,
        hook: None,
        view: None,
        binds: Vec::new(),
        fields: v.fields.clone(),
        payload: None,
        stream: None,
        records: Vec::new(),
        examples: Vec::new(),
    }
}

fn protocol_struct(p: &Protocol) -> TokenStream {
    super::protocol::struct_with_accessors(p)
}
