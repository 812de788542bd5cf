//! `protocols.rs`: the protocol modules, the `ProtocolId` and `Header` enums, `dissect`, the
//! dispatch tables built from every spec's `[[bind]]`, and the global field table.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::fields::Layout;
use super::*;
use crate::ir::*;

pub fn emit(model: &Model, layout: &Layout) -> TokenStream {
    let modules = model.protocols.iter().map(|p| {
        let m = ident(&p.id);
        let file = format!("/proto_{}.rs", p.id);
        let title = if p.title.is_empty() {
            &p.name
        } else {
            &p.title
        };
        let doc = format!(" {title}: `specs/{}`.", p.file.display());
        quote! {
            #[doc = #doc]
            pub mod #m {
                include!(concat!(env!("OUT_DIR"), #file));
            }
        }
    });
    let tlv_modules = model.tlvs.iter().map(|t| {
        let m = ident(&t.id);
        let file = format!("/tlv_{}.rs", t.id);
        let doc = format!(
            " Options of the `{}` TLV family: `specs/{}`.",
            t.id,
            t.file.display()
        );
        quote! {
            #[doc = #doc]
            pub mod #m {
                include!(concat!(env!("OUT_DIR"), #file));
            }
        }
    });

    let frame: Vec<&Protocol> = model.frame_protocols().collect();
    let variants: Vec<_> = frame.iter().map(|p| camel(&p.id)).collect();
    let modules_of: Vec<_> = frame.iter().map(|p| ident(&p.id)).collect();
    let ids: Vec<&str> = frame.iter().map(|p| p.id.as_str()).collect();
    let names: Vec<&str> = frame.iter().map(|p| p.name.as_str()).collect();
    let titles: Vec<&str> = frame.iter().map(|p| p.title.as_str()).collect();
    let refs: Vec<&str> = frame.iter().map(|p| p.reference.as_str()).collect();
    let specs: Vec<String> = frame
        .iter()
        .map(|p| format!("specs/{}", p.file.display()))
        .collect();
    let levels: Vec<_> = frame.iter().map(|p| ident(p.layer.variant())).collect();
    let viewed: Vec<&&Protocol> = frame.iter().filter(|p| super::view::has_view(p)).collect();
    let view_variants: Vec<_> = viewed.iter().map(|p| camel(&p.id)).collect();
    let view_types: Vec<_> = viewed.iter().map(|p| super::view::view_path(p)).collect();
    let n = frame.len();
    let variant_docs: Vec<String> = frame
        .iter()
        .map(|p| {
            let title = if p.title.is_empty() {
                &p.name
            } else {
                &p.title
            };
            format!(" {title} (`{}`).", p.id)
        })
        .collect();
    let header_docs: Vec<String> = frame
        .iter()
        .map(|p| format!(" A {} header.", p.name))
        .collect();
    let header_types: Vec<TokenStream> = frame
        .iter()
        .map(|p| {
            let (m, t) = (ident(&p.id), camel(&p.id));
            if boxed_in_header(p) {
                quote!(::std::boxed::Box<#m::#t>)
            } else {
                quote!(#m::#t)
            }
        })
        .collect();
    let boxed: Vec<bool> = frame.iter().map(|p| boxed_in_header(p)).collect();
    let wrap = |value: TokenStream| -> Vec<TokenStream> {
        boxed
            .iter()
            .map(|b| {
                if *b {
                    quote!(::std::boxed::Box::new(#value))
                } else {
                    value.clone()
                }
            })
            .collect()
    };
    let wrap_h = wrap(quote!(h));
    let wrap_partial: Vec<TokenStream> = frame
        .iter()
        .map(|p| {
            let (m, t) = (ident(&p.id), camel(&p.id));
            let read = quote!(#m::#t::parse_partial(input)?);
            if boxed_in_header(p) {
                quote!(::std::boxed::Box::new(#read))
            } else {
                read
            }
        })
        .collect();
    let lower_names: Vec<String> = frame.iter().map(|p| p.name.to_lowercase()).collect();
    let bindings = frame.iter().map(|p| {
        let rows = p.binds.iter().map(|b| {
            let table = &b.table;
            let name = opt_str(b.name.as_deref());
            match &b.key {
                BindKey::Value(k) => {
                    quote!(Binding { table: #table, key: Some(#k), heuristic: None, name: #name })
                }
                BindKey::Heuristic(h) => {
                    quote!(Binding { table: #table, key: None, heuristic: Some(#h), name: #name })
                }
            }
        });
        quote!(&[#(#rows),*])
    });

    // Who names each protocol as a constant `next` in a payload rule.
    let named_by = frame.iter().map(|p| {
        let parents: Vec<&str> = frame
            .iter()
            .filter(|q| {
                q.payload
                    .iter()
                    .flat_map(|pl| pl.rules.iter())
                    .any(|r| matches!(&r.target, Target::Next(n) if *n == p.id))
            })
            .map(|q| q.id.as_str())
            .collect();
        quote!(&[#(#parents),*])
    });
    // How each protocol's PDUs are cut from a TCP stream, if they are.
    let framers = frame.iter().map(|p| match &p.stream {
        Some(StreamFraming::Declared) => {
            let (m, t) = (ident(&p.id), camel(&p.id));
            quote!(Some(#m::#t::pdu_len))
        }
        Some(StreamFraming::Hook(h)) => {
            let (m, h) = (ident(&p.id), ident(h));
            quote!(Some(crate::hooks::#m::#h))
        }
        None => quote!(None),
    });
    let tables = model
        .tables
        .iter()
        .map(|(name, table)| emit_table(name, table));
    let field_tables = frame.iter().map(|p| {
        let m = ident(&p.id);
        quote!(&#m::FIELDS)
    });
    let field_count = layout.total;

    quote! {
        #(#modules)*

        /// TLV option families, shared by the protocols that use them.
        pub mod tlv {
            #(#tlv_modules)*
        }

        /// Every protocol frames are dissected into, one per spec.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ProtocolId {
            #(#[doc = #variant_docs] #variants),*
        }

        impl ProtocolId {
            /// Every protocol, by layer then id.
            pub const ALL: [ProtocolId; #n] = [#(ProtocolId::#variants),*];

            /// The spec's id: the prefix of field paths and the JSON key of the layer.
            pub const fn id(self) -> &'static str {
                match self { #(ProtocolId::#variants => #ids),* }
            }

            /// The display name used in the protocol chain.
            pub const fn name(self) -> &'static str {
                match self { #(ProtocolId::#variants => #names),* }
            }

            /// The long name.
            pub const fn title(self) -> &'static str {
                match self { #(ProtocolId::#variants => #titles),* }
            }

            /// The defining document.
            pub const fn reference(self) -> &'static str {
                match self { #(ProtocolId::#variants => #refs),* }
            }

            /// The spec file the dissector was generated from.
            pub const fn spec(self) -> &'static str {
                match self { #(ProtocolId::#variants => #specs),* }
            }

            /// The layer the protocol belongs to (for the `layer` threshold).
            pub const fn layer(self) -> crate::layer::Level {
                match self { #(ProtocolId::#variants => crate::layer::Level::#levels),* }
            }

            /// Where the protocol is found: its spec's `[[bind]]` entries.
            pub const fn bindings(self) -> &'static [Binding] {
                match self { #(ProtocolId::#variants => #bindings),* }
            }

            /// The protocols whose payload rules name this one as their `next` (by id).
            pub const fn named_by(self) -> &'static [&'static str] {
                match self { #(ProtocolId::#variants => #named_by),* }
            }

            /// How the protocol's PDUs are cut from a reassembled TCP stream (its spec's
            /// `[stream]`); `None`: its payload is dissected segment by segment.
            pub fn stream_framer(self) -> ::core::option::Option<crate::reassembly::framing::Framer> {
                match self { #(ProtocolId::#variants => #framers),* }
            }

            /// Every value a header of this protocol shows.
            pub fn fields(self) -> &'static [crate::value::FieldInfo] {
                match self { #(ProtocolId::#variants => &#modules_of::FIELDS),* }
            }

            /// Finds a protocol by id or display name, ignoring case (`tcp`, `IPv4`).
            pub fn from_name(name: &str) -> ::core::option::Option<ProtocolId> {
                let lower = name.to_ascii_lowercase();
                match lower.as_str() {
                    #(#ids => Some(ProtocolId::#variants),)*
                    _ => match lower.as_str() {
                        #(#lower_names => Some(ProtocolId::#variants),)*
                        _ => None,
                    },
                }
            }
        }

        impl ::core::fmt::Display for ProtocolId {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.pad(self.name())
            }
        }

        /// One `[[bind]]` of a spec.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Binding {
            /// The dispatch table.
            pub table: &'static str,
            /// The key, for a binding by key.
            pub key: ::core::option::Option<u64>,
            /// The hook function, for a heuristic binding.
            pub heuristic: ::core::option::Option<&'static str>,
            /// Display name for frames found through this binding, if not the protocol's.
            pub name: ::core::option::Option<&'static str>,
        }

        /// The protocol a payload goes to, found through a dispatch table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Next {
            /// The protocol of the payload.
            pub protocol: ProtocolId,
            /// The binding's display name, if it has one (`RARP`).
            pub name: ::core::option::Option<&'static str>,
        }

        /// A dissected header of any protocol. Protocols parsed by hooks (text, with
        /// owned strings) are boxed, so that the others stay small.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Header {
            #(#[doc = #header_docs] #variants(#header_types)),*
        }

        impl Header {
            /// Which protocol this header is.
            pub fn protocol(&self) -> ProtocolId {
                match self { #(Header::#variants(_) => ProtocolId::#variants),* }
            }

            /// Hands every value of the header to `v`, in wire order.
            pub fn visit<V: crate::value::Visitor + ?Sized>(&self, v: &mut V) {
                match self { #(Header::#variants(h) => h.visit(v)),* }
            }

            /// Length of the payload the header declares, if it declares one, given the
            /// bytes captured after the header.
            pub fn payload_len(&self, captured: u64) -> ::core::option::Option<u64> {
                match self { #(Header::#variants(h) => h.payload_len(captured)),* }
            }

            /// The protocol of the payload, if the dispatch tables know it.
            pub fn next_protocol(&self, payload: &[u8]) -> ::core::option::Option<Next> {
                match self { #(Header::#variants(h) => h.next_protocol(payload)),* }
            }
        }

        /// Dissects a `protocol` header at the start of `input`: the header and its length.
        pub fn dissect(protocol: ProtocolId, input: &[u8]) -> ::core::result::Result<(Header, usize), crate::layer::DissectError> {
            Ok(match protocol {
                #(ProtocolId::#variants => {
                    let (h, len) = #modules_of::#variants::parse(input)?;
                    (Header::#variants(#wrap_h), len)
                }),*
            })
        }

        /// The chain's step over a `protocol` header read through its view, without
        /// decoding it (see `crate::chain::step`): `None` for a protocol without a view,
        /// or when the view cannot stand in for the struct (the bytes fall short, an
        /// assertion fails), so the caller dissects the header as usual.
        #[inline]
        pub fn view_step(protocol: ProtocolId, input: &[u8], stop: bool) -> ::core::option::Option<crate::chain::Step> {
            match protocol {
                #(ProtocolId::#view_variants => crate::chain::step::<#view_types>(input, stop),)*
                _ => None,
            }
        }

        /// Whether `protocol` has a view (`XxxView`): the chain may leave its headers undecoded.
        pub fn has_view(protocol: ProtocolId) -> bool {
            matches!(protocol, #(ProtocolId::#view_variants)|*)
        }

        /// Hands the values of the `protocol` header at the start of `bytes` to `v`,
        /// through its view; `false` for a protocol without a view.
        pub fn visit_view<V: crate::value::Visitor + ?Sized>(protocol: ProtocolId, bytes: &[u8], v: &mut V) -> bool {
            match protocol {
                #(ProtocolId::#view_variants => {
                    if let Some((view, _)) = <#view_types as crate::chain::HeaderView>::read(bytes) {
                        crate::chain::HeaderView::visit(&view, v);
                    }
                    true
                })*
                _ => false,
            }
        }

        /// A `protocol` header cut short: read with the missing bytes as zeros, if the
        /// captured bytes pass the spec's assertions over them.
        pub fn dissect_partial(protocol: ProtocolId, input: &[u8]) -> ::core::option::Option<Header> {
            Some(match protocol {
                #(ProtocolId::#variants => Header::#variants(#wrap_partial)),*
            })
        }

        /// Dispatch tables: a key to the protocol bound to it, from every spec's `[[bind]]`.
        pub mod table {
            use super::{Next, ProtocolId};
            #(#tables)*
        }

        /// The field tables of every frame protocol, in `ProtocolId::ALL` order.
        pub static FIELD_TABLES: [&[crate::value::FieldInfo]; #n] = [#(#field_tables),*];

        /// Number of field ids (`FieldInfo::id` is below this).
        pub const FIELD_COUNT: usize = #field_count;
    }
}

/// Headers larger than this many bytes are boxed in `Header`, so that every layer of
/// every frame does not pay for the largest protocol.
const INLINE_HEADER_BYTES: u64 = 80;

/// What an option list takes in a header: its bytes are held inline up to the 40 of an
/// IP or TCP header (`TlvList`).
const TLV_LIST_BYTES: u64 = 56;

/// What a `switch` field is taken to need, not knowing its largest case.
const SWITCH_BYTES: u64 = 64;

/// Whether a protocol's header is kept behind a `Box` in `Header`: text protocols (owned
/// strings) and large layouts.
fn boxed_in_header(p: &Protocol) -> bool {
    let size: u64 = p
        .fields
        .iter()
        .map(|f| {
            let inline = match &f.ty {
                FieldType::Int { bytes: 3, .. } => 4,
                FieldType::Tlv(_) => TLV_LIST_BYTES,
                // An enum of records: as large as its largest case, often large.
                FieldType::Switch(_) => SWITCH_BYTES,
                t => t.fixed_size().unwrap_or(24),
            };
            if f.cond.is_some() && f.ty.fixed_size().is_some() {
                inline * 2
            } else {
                inline
            }
        })
        .sum();
    p.hook.is_some() || size > INLINE_HEADER_BYTES
}

fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

fn emit_table(name: &str, table: &Table) -> TokenStream {
    let f = ident(name);
    let arms = table.keys.iter().map(|(key, proto, bind_name)| {
        let v = camel(proto);
        let name = opt_str(bind_name.as_deref());
        let key = hex_lit(*key);
        quote!(#key => Some(Next { protocol: ProtocolId::#v, name: #name }),)
    });
    let doc = format!(" The `{name}` table.");
    let lookup = quote! {
        #[doc = #doc]
        pub fn #f(key: u64) -> ::core::option::Option<Next> {
            match key {
                #(#arms)*
                _ => None,
            }
        }
    };
    if table.heuristics.is_empty() {
        return lookup;
    }
    let h = format_ident!("{}_heuristic", name);
    let tries = table.heuristics.iter().map(|(proto, hook, bind_name)| {
        let name = opt_str(bind_name.as_deref());
        let v = camel(proto);
        let m = ident(proto);
        let hook = ident(hook);
        quote! {
            if crate::hooks::#m::#hook(payload) {
                return Some(Next { protocol: ProtocolId::#v, name: #name });
            }
        }
    });
    let doc = format!(" The heuristics bound to the `{name}` table, tried in order.");
    quote! {
        #lookup
        #[doc = #doc]
        pub fn #h(payload: &[u8]) -> ::core::option::Option<Next> {
            #(#tries)*
            None
        }
    }
}
