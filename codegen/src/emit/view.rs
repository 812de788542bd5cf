//! Zero-copy views (in the style of smoltcp's `Packet<&[u8]>`): for a header whose every
//! field lies at a byte offset (the headers `read_direct` reads), `XxxView<'a>` over its
//! bytes, with an accessor per field and bit range, and the chain's methods (`check`,
//! `payload_len`, `next_protocol`) generated from the same expressions as the struct's.
//!
//! The chain walks such headers through their views without decoding them; the struct
//! is read from the view's bytes only when someone looks at the values.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::protocol::{
    emit_accessors, emit_check, emit_next, emit_payload_len, emit_visit, field_doc, reads_directly,
};
use super::*;
use crate::ir::*;

/// Method names every view has besides its accessors.
const VIEW_METHODS: &[&str] = &[
    "new",
    "as_bytes",
    "check",
    "check_within",
    "declared_payload_len",
    "payload_protocol",
    "visit",
    "decode",
];

/// The view's type name: `Ipv4View`.
pub(crate) fn view_type(p: &Protocol) -> Ident {
    format_ident!("{}View", camel(&p.id))
}

/// Whether the chain may walk `p` through a view: a generated one, or the hand-written
/// one its spec names (`[protocol] view`, in its hook's module).
pub(crate) fn has_view(p: &Protocol) -> bool {
    p.view.is_some() || generated_view(p)
}

/// The view's type, from the `protocols` module.
pub(crate) fn view_path(p: &Protocol) -> TokenStream {
    let m = ident(&p.id);
    match &p.view {
        Some(view) => {
            let view = format_ident!("{}", view);
            quote!(crate::hooks::#m::#view)
        }
        None => {
            let view = view_type(p);
            quote!(#m::#view)
        }
    }
}

/// Whether `p` gets a generated view: it names no hand-written one, its fields all lie at
/// byte offsets (see `reads_directly`), none is filled by the session, and no accessor
/// name is taken twice.
pub(crate) fn generated_view(p: &Protocol) -> bool {
    if p.view.is_some() || !reads_directly(p) || p.fields.iter().any(|f| f.session) {
        return false;
    }
    let mut names: Vec<&str> = VIEW_METHODS.to_vec();
    for f in &p.fields {
        names.push(&f.name);
        names.extend(f.bits.iter().map(|r| r.name.as_str()));
    }
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    names.len() == count
}

/// The bytes of the fixed fields before the first field of variable length.
fn prefix_len(p: &Protocol) -> u64 {
    p.fields.iter().map_while(|f| f.ty.fixed_size()).sum()
}

/// The length of variable field `f`, its size helper reading its inputs from `recv`.
fn size_of(p: &Protocol, f: &Field, recv: &TokenStream) -> TokenStream {
    let size = f.size.as_ref().expect("checked by reads_directly");
    let args = deps(&p.fields, &[&size.expr]).into_iter().map(|d| {
        let d = ident(&d.name);
        quote!(#recv.#d())
    });
    let helper = format_ident!("{}_size", f.name);
    quote!(#helper(#(#args),*))
}

/// `XxxView` and its methods, or nothing for a protocol without a view.
pub fn emit(model: &Model, layout: &super::fields::Layout, p: &Protocol) -> TokenStream {
    if !generated_view(p) {
        return quote!();
    }
    let ty = camel(&p.id);
    let view = view_type(p);
    let prefix = prefix_len(p);
    let prefix_lit = proc_macro2::Literal::usize_unsuffixed(prefix as usize);
    let this = quote!(self);
    let provisional = quote!(view);

    // `new`: the header's length, each variable field's read from the values before it.
    let mut steps = Vec::new();
    // Each field's offset: the fixed bytes before it, then the variable lengths.
    let mut fixed = 0u64;
    let mut variable: Vec<&Field> = Vec::new();
    let mut accessors = Vec::new();
    for f in &p.fields {
        let name = ident(&f.name);
        let doc = field_doc(f);
        let fixed_lit = proc_macro2::Literal::usize_unsuffixed(fixed as usize);
        let offset = if variable.is_empty() {
            quote!(#fixed_lit)
        } else {
            let sizes = variable.iter().map(|v| size_of(p, v, &this));
            quote!(#fixed_lit #(+ #sizes)*)
        };
        let little = f.endian.unwrap_or(p.endian) == Endian::Little;
        match f.ty.fixed_size() {
            Some(n) => {
                let n_lit = proc_macro2::Literal::usize_unsuffixed(n as usize);
                let bytes = if variable.is_empty() {
                    let end = proc_macro2::Literal::usize_unsuffixed((fixed + n) as usize);
                    quote!(<[u8; #n_lit]>::try_from(&self.head[#fixed_lit..#end]).unwrap_or_default())
                } else {
                    quote! {{
                        let at: usize = #offset;
                        self.bytes
                            .get(at..at + #n_lit)
                            .and_then(|b| <[u8; #n_lit]>::try_from(b).ok())
                            .unwrap_or_default()
                    }}
                };
                let ret = rust_type(&f.ty, &|_| quote!());
                let value = match &f.ty {
                    FieldType::Int { .. } if little => quote!(#ret::from_le_bytes(#bytes)),
                    FieldType::Int { .. } => quote!(#ret::from_be_bytes(#bytes)),
                    FieldType::Mac => bytes,
                    FieldType::Ipv4 | FieldType::Ipv6 => quote!(#ret::from(#bytes)),
                    _ => unreachable!("checked by reads_directly"),
                };
                accessors.push(quote! {
                    #doc
                    #[inline]
                    pub fn #name(&self) -> #ret {
                        #value
                    }
                });
                if variable.is_empty() {
                    fixed += n;
                } else {
                    steps.push(quote!(wire_at = wire_at.checked_add(#n_lit)?;));
                    fixed += n;
                }
            }
            None => {
                let size = size_of(p, f, &this);
                accessors.push(quote! {
                    #doc
                    #[inline]
                    pub fn #name(&self) -> &'a [u8] {
                        let at: usize = #offset;
                        self.bytes.get(at..at.saturating_add(#size)).unwrap_or(&[])
                    }
                });
                let size = size_of(p, f, &provisional);
                steps.push(quote!(wire_at = wire_at.checked_add(#size)?;));
                variable.push(f);
            }
        }
    }
    let bits = emit_accessors(p, Access::Method);
    let check = emit_check(p, Access::Method);
    let payload_len = emit_payload_len(p, Access::Method);
    let next = emit_next(model, p, Access::Method);
    let visit = emit_visit(model, p, layout.of(&p.id), None, Access::Method);
    let doc = format!(
        " A view of a {} header over its bytes: each value is read where it lies, when \
         asked for. [`{view}::new`] checks that the bytes hold the whole header; \
         [`{view}::decode`] reads the [`{ty}`] struct from them.",
        p.name
    );
    // The header read so far, for the lengths that read values before them.
    let reads_values = variable.iter().any(|f| {
        let size = f.size.as_ref().expect("checked by reads_directly");
        !deps(&p.fields, &[&size.expr]).is_empty()
    });
    let provisional_let = if reads_values {
        quote!(let #provisional = Self { head, bytes: input };)
    } else {
        quote!()
    };
    let new_body = if steps.is_empty() {
        quote! {
            let head = input.first_chunk::<#prefix_lit>()?;
            Some((Self { head, bytes: head }, #prefix_lit))
        }
    } else {
        quote! {
            let head = input.first_chunk::<#prefix_lit>()?;
            #provisional_let
            let mut wire_at: usize = #prefix_lit;
            #(#steps)*
            let bytes = input.get(..wire_at)?;
            Some((Self { head, bytes }, wire_at))
        }
    };
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct #view<'a> {
            /// The fixed fields at the start of the header.
            head: &'a [u8; #prefix_lit],
            /// The whole header.
            bytes: &'a [u8],
        }

        // A field named `len` is a length on the wire, not the view's size.
        #[allow(clippy::len_without_is_empty)]
        impl<'a> #view<'a> {
            /// The view of the header at the start of `input`, and the header's length;
            /// `None` when the bytes fall short (as for the struct's `read_direct`).
            #[inline]
            pub fn new(input: &'a [u8]) -> ::core::option::Option<(Self, usize)> {
                #new_body
            }

            /// The header's bytes.
            #[inline]
            pub fn as_bytes(&self) -> &'a [u8] {
                self.bytes
            }

            /// The decoded header (what the struct's `read_direct` reads from the same
            /// bytes).
            #[inline]
            pub fn decode(&self) -> ::core::option::Option<#ty> {
                #ty::read_direct(self.bytes).map(|(header, _)| header)
            }

            #visit

            #(#accessors)*
            #bits
            #check
            #payload_len
            #next
        }

        impl<'a> crate::chain::HeaderView<'a> for #view<'a> {
            #[inline]
            fn read(input: &'a [u8]) -> ::core::option::Option<(Self, usize)> {
                Self::new(input)
            }
            #[inline]
            fn check(&self) -> ::core::result::Result<(), crate::layer::DissectError> {
                #view::check(self)
            }
            #[inline]
            fn payload_len(&self, captured: u64) -> ::core::option::Option<u64> {
                #view::declared_payload_len(self, captured)
            }
            #[inline]
            fn next_protocol(&self, payload: &[u8]) -> ::core::option::Option<crate::protocols::Next> {
                #view::payload_protocol(self, payload)
            }
            fn visit<V: crate::value::Visitor + ?Sized>(&self, v: &mut V) {
                #view::visit(self, v)
            }
        }
    }
}
