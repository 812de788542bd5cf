//! One protocol (or capture structure): the deku struct, bit-range accessors, and the
//! methods the chain and the dumpers call (`parse`, `check`, `payload_len`,
//! `next_protocol`, `visit`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::fields::{Layout, ProtoLayout};
use super::*;
use crate::expr::bare;
use crate::ir::*;

pub fn emit(model: &Model, layout: &Layout, p: &Protocol) -> TokenStream {
    let lay = layout.of(&p.id);
    let ty = camel(&p.id);
    let strukt = emit_struct(p);
    let helpers = emit_helpers(p);
    let accessors = emit_accessors(p, Access::Field);
    let methods = emit_methods(model, p, lay);
    let visit = emit_visit(model, p, lay, None, Access::Field);
    let fields = emit_field_table(p, lay);
    let view = super::view::emit(model, layout, p);
    let switches = super::record::emit_switches(p, &p.id, &p.fields, lay, None);
    let records = p
        .records
        .iter()
        .map(|r| super::record::emit(model, p, r, lay));
    let accessors = if accessors.is_empty() {
        quote!()
    } else {
        quote! {
            impl #ty {
                #accessors
            }
        }
    };
    quote! {
        #strukt
        #helpers
        #accessors
        impl #ty {
            #methods
            #visit
        }
        #view
        #switches
        #(#records)*
        #fields
    }
}

fn struct_doc(p: &Protocol) -> TokenStream {
    let title = if p.title.is_empty() {
        &p.name
    } else {
        &p.title
    };
    let first = if p.reference.is_empty() {
        format!("{title}.")
    } else {
        format!("{title} ({}).", p.reference)
    };
    let origin = format!("Generated from `specs/{}`.", p.file.display());
    docs(&[&first, "", &origin])
}

fn tlv_path(family: &str) -> TokenStream {
    let module = ident(family);
    let ty = camel(family);
    quote!(crate::protocols::tlv::#module::#ty)
}

fn emit_struct(p: &Protocol) -> TokenStream {
    emit_struct_with(p, false)
}

/// The struct; with `asserts`, deku checks the spec's assertions as it reads (records,
/// which have no `check` of their own).
fn emit_struct_with(p: &Protocol, asserts: bool) -> TokenStream {
    let ty = camel(&p.id);
    let doc = struct_doc(p);
    let fields = p.fields.iter().map(|f| {
        let name = ident(&f.name);
        let mut rust = match &f.ty {
            FieldType::Switch(_) => {
                let t = switch_type(&p.id, &f.name);
                quote!(#t)
            }
            ty => rust_type(ty, &tlv_path),
        };
        if f.cond.is_some() {
            rust = quote!(::core::option::Option<#rust>);
        }
        let doc = field_doc(f);
        let mut attrs = if p.hook.is_some() {
            quote!()
        } else {
            deku_field_attrs(p, f)
        };
        if asserts && has_asserts(f) {
            let deps = deps(&p.fields, &assert_exprs(f));
            let args: Vec<String> = deps
                .iter()
                .map(|d| format!("*{}", ident(&d.name)))
                .collect();
            let call = format!("{}_holds({})", f.name, args.join(", "));
            attrs = quote!(#attrs #[deku(assert = #call)]);
        }
        quote! {
            #doc
            #attrs
            pub #name: #rust,
        }
    });
    if p.hook.is_some() {
        return quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Eq, Default)]
            pub struct #ty {
                #(#fields)*
            }
        };
    }
    let top = match p.endian {
        Endian::Big => quote!(#[deku(endian = "big")]),
        Endian::Little => quote!(#[deku(endian = "little")]),
        Endian::Runtime => quote!(#[deku(endian = "endian", ctx = "endian: deku::ctx::Endian")]),
    };
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, ::deku::DekuRead, ::deku::DekuWrite)]
        #top
        pub struct #ty {
            #(#fields)*
        }
    }
}

pub(crate) fn field_doc(f: &Field) -> TokenStream {
    let first = if f.doc.is_empty() {
        format!("`{}` ({}).", f.name, f.ty.describe())
    } else {
        f.doc.clone()
    };
    let mut lines = vec![first];
    if !f.bits.is_empty() {
        let ranges: Vec<String> = f
            .bits
            .iter()
            .filter(|b| b.depth == 0)
            .map(|b| format!("`{}` ({})", b.name, b.width))
            .collect();
        lines.push(format!(
            "Bit ranges, most significant first: {}.",
            ranges.join(", ")
        ));
    }
    if let Some(s) = &f.size {
        lines.push(format!("Length in bytes: `{}`.", s.src));
    }
    if let Some(c) = &f.count {
        lines.push(format!("Number of elements: `{}`.", c.src));
    }
    if let FieldType::Switch(sw) = &f.ty {
        lines.push(format!("Its layout is chosen by `{}`.", sw.key.src));
    }
    if let Some(c) = &f.cond {
        lines.push(format!("Present when `{}`.", c.src));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    docs(&refs)
}

/// Text of the deku byte order for a field (deku attributes are strings).
fn endian_text(p: &Protocol, f: &Field) -> &'static str {
    match f.endian.unwrap_or(p.endian) {
        Endian::Big => "deku::ctx::Endian::Big",
        Endian::Little => "deku::ctx::Endian::Little",
        Endian::Runtime => "endian",
    }
}

/// `name_size(*a, *b)`: a call to the helper computing a field's length, with the
/// earlier fields deku has in scope as references.
fn helper_call(p: &Protocol, f: &Field, suffix: &str, expr: &Checked) -> String {
    let deps = deps(&p.fields, &[&expr.expr]);
    let args: Vec<String> = deps
        .iter()
        .map(|d| format!("*{}", ident(&d.name)))
        .collect();
    format!("{}_{suffix}({})", f.name, args.join(", "))
}

fn deku_field_attrs(p: &Protocol, f: &Field) -> TokenStream {
    if f.session {
        // Not on the wire: read as empty, never written.
        return quote!(#[deku(skip)]);
    }
    let mut attrs: Vec<TokenStream> = Vec::new();
    let endian = endian_text(p, f);
    let size = match &f.size {
        Some(s) => helper_call(p, f, "size", s),
        None => "usize::MAX".to_owned(),
    };
    if let Some(e) = f.endian {
        let e = if e == Endian::Big { "big" } else { "little" };
        attrs.push(quote!(endian = #e));
    }
    if let Some(c) = &f.cond {
        let call = helper_call(p, f, "present", c);
        attrs.push(quote!(cond = #call));
    }
    let name = ident(&f.name).to_string();
    // Custom (reader, writer) for the field's value; the writer's value is `{v}`.
    let custom: Option<(String, Option<String>)> = if let Some(hook) = &f.hook {
        let module = ident(&p.id);
        Some((
            format!("crate::hooks::{module}::read_{hook}(deku::reader, {endian})"),
            Some(format!(
                "crate::hooks::{module}::write_{hook}(deku::writer, {{v}}, {endian})"
            )),
        ))
    } else {
        match &f.ty {
            FieldType::Int { bytes: 3, .. } => {
                attrs.push(quote!(bytes = 3));
                None
            }
            FieldType::Ipv4 | FieldType::Ipv6 if f.endian.is_none() => {
                attrs.push(quote!(endian = "big"));
                None
            }
            FieldType::Mac => Some((
                "crate::wire::read_array::<6, _>(deku::reader)".to_owned(),
                None,
            )),
            FieldType::Bytes if f.size.is_some() => Some((
                format!("crate::wire::read_bytes(deku::reader, {size})"),
                Some("crate::wire::write_bytes(deku::writer, {v})".to_owned()),
            )),
            FieldType::Bytes => Some((
                "crate::wire::read_rest(deku::reader)".to_owned(),
                Some("crate::wire::write_bytes(deku::writer, {v})".to_owned()),
            )),
            FieldType::DnsName => Some((
                "crate::dnsname::read(deku::reader)".to_owned(),
                Some("crate::dnsname::write(deku::writer, {v})".to_owned()),
            )),
            FieldType::Record(_) => {
                attrs.push(quote!(ctx = #endian));
                None
            }
            FieldType::Switch(sw) => {
                let ty = switch_type(&p.id, &f.name);
                let key = helper_call(p, f, "key", &sw.key);
                Some((
                    format!("{ty}::read(deku::reader, {key}, {size}, {endian})"),
                    Some(format!("{{v}}.write(deku::writer, {endian})")),
                ))
            }
            FieldType::List(elem) => {
                let endian = if matches!(**elem, FieldType::Ipv4 | FieldType::Ipv6) {
                    "deku::ctx::Endian::Big"
                } else {
                    endian
                };
                let read = match &f.count {
                    Some(c) => {
                        let count = helper_call(p, f, "count", c);
                        format!("crate::wire::read_count(deku::reader, {count}, {endian})")
                    }
                    None => format!("crate::wire::read_list(deku::reader, {size}, {endian})"),
                };
                Some((
                    read,
                    Some(format!(
                        "crate::wire::write_list(deku::writer, {{v}}, {endian})"
                    )),
                ))
            }
            FieldType::Tlv(_) => Some((
                format!("crate::tlv::read(deku::reader, {size}, {endian})"),
                Some(format!("crate::tlv::write(deku::writer, {{v}}, {endian})")),
            )),
            _ => None,
        }
    };
    if let Some((reader, writer)) = custom {
        // An `if` field is an Option: read Some(value), write the value when present.
        let (reader, writer) = if f.cond.is_some() {
            (
                format!("{reader}.map(Some)"),
                writer.map(|w| {
                    format!(
                        "match {name} {{ Some(v) => {}, None => Ok(()) }}",
                        w.replace("{v}", "v")
                    )
                }),
            )
        } else {
            (reader, writer.map(|w| w.replace("{v}", &name)))
        };
        attrs.push(quote!(reader = #reader));
        if let Some(writer) = writer {
            attrs.push(quote!(writer = #writer));
        }
    }
    if attrs.is_empty() {
        quote!()
    } else {
        quote!(#[deku(#(#attrs),*)])
    }
}

/// Rust type of a field as a helper parameter (an `if` field is an `Option`).
fn param_type(f: &Field) -> TokenStream {
    let t = rust_type(&f.ty, &tlv_path);
    if f.cond.is_some() {
        quote!(::core::option::Option<#t>)
    } else {
        t
    }
}

/// Free functions computing `size` and `if` from the containers they read: deku's
/// attributes call them, so the attributes stay short and the arithmetic is readable.
fn emit_helpers(p: &Protocol) -> TokenStream {
    if p.hook.is_some() {
        return quote!();
    }
    let mut out = Vec::new();
    for f in &p.fields {
        let key = match &f.ty {
            FieldType::Switch(sw) => Some(sw.key.clone()),
            _ => None,
        };
        let helpers = [
            ("size", &f.size, Helper::Size),
            ("count", &f.count, Helper::Count),
            ("key", &key, Helper::Key),
            ("present", &f.cond, Helper::Present),
        ];
        for (suffix, expr, kind) in helpers {
            let Some(expr) = expr else { continue };
            let deps = deps(&p.fields, &[&expr.expr]);
            let params = deps.iter().map(|d| {
                let n = ident(&d.name);
                let t = param_type(d);
                quote!(#n: #t)
            });
            let resolve = local_resolver(&p.fields);
            let name = format_ident!("{}_{}", f.name, suffix);
            let (doc, ret, body) = match kind {
                Helper::Size | Helper::Count => {
                    let code = expr.expr.to_int(&resolve).expect("checked");
                    let what = if kind == Helper::Size {
                        "Length of `{}` in bytes"
                    } else {
                        "Number of elements of `{}`"
                    };
                    (
                        format!(" {}: `{}`.", what.replace("{}", &f.name), expr.src),
                        quote!(usize),
                        quote!(usize::try_from(#code).unwrap_or(usize::MAX)),
                    )
                }
                Helper::Key => (
                    format!(
                        " The value choosing the layout of `{}`: `{}`.",
                        f.name, expr.src
                    ),
                    quote!(u64),
                    expr.expr.to_int(&resolve).expect("checked"),
                ),
                Helper::Present => {
                    let code = expr.expr.to_bool(&resolve).expect("checked");
                    (
                        format!(" Whether `{}` is on the wire: `{}`.", f.name, expr.src),
                        quote!(bool),
                        code,
                    )
                }
            };
            out.push(quote! {
                #[doc = #doc]
                fn #name(#(#params),*) -> #ret {
                    #body
                }
            });
        }
    }
    quote!(#(#out)*)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Helper {
    Size,
    Count,
    Key,
    Present,
}

pub(crate) fn emit_accessors(p: &Protocol, access: Access) -> TokenStream {
    let mut out = Vec::new();
    for f in &p.fields {
        let container = ident(&f.name);
        let value = access.read(&container);
        for r in &f.bits {
            let name = ident(&r.name);
            let (code, ret) = if f.cond.is_some() {
                let (code, _) = range_of(quote!(u64::from(v)), r);
                let ret = accessor_type(r);
                if r.is_bool {
                    let code = bare(code);
                    (
                        quote!(#value.map(|v| #code)),
                        quote!(::core::option::Option<#ret>),
                    )
                } else {
                    (
                        quote!(#value.map(|v| #code as #ret)),
                        quote!(::core::option::Option<#ret>),
                    )
                }
            } else {
                let (code, _) = range_of(quote!(u64::from(#value)), r);
                let ret = accessor_type(r);
                if r.is_bool {
                    (bare(code), ret)
                } else {
                    (quote!(#code as #ret), ret)
                }
            };
            let mut lines = vec![];
            if !r.doc.is_empty() {
                lines.push(r.doc.clone());
                lines.push(String::new());
            }
            let scale = if r.scale > 1 {
                format!(", times {}", r.scale)
            } else {
                String::new()
            };
            lines.push(format!(
                "Bits {}..{} of `{}`{scale}.",
                r.shift,
                r.shift + r.width,
                f.name
            ));
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            let doc = docs(&refs);
            out.push(quote! {
                #doc
                #[inline]
                pub fn #name(&self) -> #ret {
                    #code
                }
            });
        }
    }
    quote!(#(#out)*)
}

fn accessor_type(r: &BitRange) -> TokenStream {
    if r.is_bool {
        quote!(bool)
    } else {
        let t = uint_for(r.max_value());
        quote!(#t)
    }
}

fn emit_methods(model: &Model, p: &Protocol, _lay: &ProtoLayout) -> TokenStream {
    let id = &p.id;
    let peek = p.peek_len();
    let header_reader = header_reader(p);
    let (params, read) = match (&p.hook, p.endian) {
        (Some(hook), _) => {
            let hook = ident(hook);
            let module = ident(&p.id);
            (
                quote!(input: &[u8]),
                quote!(crate::hooks::#module::#hook(input).map_err(crate::layer::DissectError::new)?),
            )
        }
        (None, Endian::Runtime) => (
            quote!(input: &[u8], endian: ::deku::ctx::Endian),
            quote!(#header_reader::<Self, _>(input, endian)?),
        ),
        (None, _) => (
            quote!(input: &[u8]),
            quote!(#header_reader::<Self, _>(input, ())?),
        ),
    };
    let len = if peek > 0 {
        quote!(len - #peek)
    } else {
        quote!(len)
    };
    let parse_doc = format!(
        " Reads the {} header from the start of `input` and checks the spec's assertions; \
         returns it with the number of bytes it takes.",
        p.name
    );

    let check = emit_check(p, Access::Field);

    let payload_len = emit_payload_len(p, Access::Field);

    let pdu_len = match p.stream {
        Some(crate::ir::StreamFraming::Declared) => quote! {
            /// Length of the PDU at the start of a reassembled TCP stream: the header and
            /// the payload it declares (`[stream] pdu = "declared"`).
            pub fn pdu_len(
                stream: &[u8],
                _cx: crate::reassembly::framing::FramingContext,
            ) -> crate::reassembly::framing::Framing {
                crate::reassembly::framing::declared(Self::parse(stream), stream.len(), |h, rest| {
                    h.payload_len(rest)
                })
            }
        },
        _ => quote!(),
    };
    let next = emit_next(model, p, Access::Field);
    let partial = emit_partial(p);
    let direct = emit_direct(p);
    let read = if direct.is_empty() {
        read
    } else {
        quote! {
            match Self::read_direct(input) {
                Some(read) => read,
                None => #read,
            }
        }
    };
    let _ = id;
    quote! {
        #direct
        #[doc = #parse_doc]
        pub fn parse(#params) -> ::core::result::Result<(Self, usize), crate::layer::DissectError> {
            let (header, len) = #read;
            header.check()?;
            Ok((header, #len))
        }
        #check
        #partial
        #payload_len
        #pdu_len
        #next
    }
}

/// `payload_len`: the payload length the header declares, when its spec says how.
pub(crate) fn emit_payload_len(p: &Protocol, access: Access) -> TokenStream {
    // A view's field may be called `payload_len` (IPv6's is): its method is named apart.
    let name = match access {
        Access::Field => format_ident!("payload_len"),
        Access::Method => format_ident!("declared_payload_len"),
    };
    match p.payload.as_ref().and_then(|pl| pl.size.as_ref()) {
        Some(size) => {
            let deps = deps(&p.fields, &[&size.expr]);
            let bind = bind(&deps, access);
            let fields = local_resolver(&p.fields);
            let resolve = |n: &str| {
                if n == crate::check::CAPTURED {
                    Some((quote!(captured), crate::expr::Ty::Int))
                } else {
                    fields(n)
                }
            };
            let code = size.expr.to_int(&resolve).expect("checked");
            let captured = if size.expr.names().contains(&crate::check::CAPTURED) {
                quote!(captured)
            } else {
                quote!(_captured)
            };
            let doc = format!(
                " Length of the payload the header declares: `{}` (`captured`: bytes after the header).",
                size.src
            );
            quote! {
                #[doc = #doc]
                pub fn #name(&self, #captured: u64) -> ::core::option::Option<u64> {
                    #bind
                    Some(#code)
                }
            }
        }
        None => quote! {
            /// The header does not declare its payload's length: the payload is the rest.
            pub fn #name(&self, _captured: u64) -> ::core::option::Option<u64> {
                None
            }
        },
    }
}

/// Whether a header's every field can be read straight from the bytes: fixed-width
/// integers and addresses, and option lists or byte strings of a declared length, with no
/// `if`, hook or peek. Such headers get [`emit_direct`]'s reader.
pub(crate) fn reads_directly(p: &Protocol) -> bool {
    let plain = |f: &Field| match &f.ty {
        FieldType::Int { bytes, .. } => *bytes != 3,
        FieldType::Mac => true,
        FieldType::Ipv4 | FieldType::Ipv6 => f.endian.is_none_or(|e| e == Endian::Big),
        _ => false,
    };
    p.hook.is_none()
        && p.endian != Endian::Runtime
        && !p.has_names()
        && p.fields.iter().all(|f| {
            f.cond.is_none()
                && f.hook.is_none()
                && f.count.is_none()
                && !f.peek
                && (f.session
                    || plain(f)
                    || (matches!(f.ty, FieldType::Tlv(_) | FieldType::Bytes)
                        && f.size.as_ref().is_some_and(|s| {
                            // Its length reads fixed-width values only (passed by value).
                            deps(&p.fields, &[&s.expr]).iter().all(|d| plain(d))
                        })))
        })
}

/// `read_direct`: the header read from byte offsets, without deku's bit-level reader
/// (which costs some 20 instructions a field). `None` when the bytes fall short: deku's
/// reader then gives the error. Property tests hold it to deku's on every input.
fn emit_direct(p: &Protocol) -> TokenStream {
    if !reads_directly(p) {
        return quote!();
    }
    let mut reads = Vec::new();
    let mut names = Vec::new();
    for f in &p.fields {
        let name = ident(&f.name);
        names.push(name.clone());
        if f.session {
            reads.push(quote!(let #name = ::core::default::Default::default();));
            continue;
        }
        let little = f.endian.unwrap_or(p.endian) == Endian::Little;
        let read = match &f.ty {
            FieldType::Int { bytes, .. } => {
                let t = rust_type(&f.ty, &tlv_path);
                let n = proc_macro2::Literal::usize_unsuffixed(usize::from(*bytes));
                let from = if little {
                    quote!(from_le_bytes)
                } else {
                    quote!(from_be_bytes)
                };
                quote!(#t::#from(*input.get(wire_at..wire_at + #n)?.first_chunk::<#n>()?))
            }
            FieldType::Mac => quote!(*input.get(wire_at..wire_at + 6)?.first_chunk::<6>()?),
            FieldType::Ipv4 => {
                quote!(::std::net::Ipv4Addr::from(
                    *input.get(wire_at..wire_at + 4)?.first_chunk::<4>()?
                ))
            }
            FieldType::Ipv6 => {
                quote!(::std::net::Ipv6Addr::from(
                    *input.get(wire_at..wire_at + 16)?.first_chunk::<16>()?
                ))
            }
            FieldType::Tlv(_) | FieldType::Bytes => {
                let size = f.size.as_ref().expect("checked by reads_directly");
                let args = deps(&p.fields, &[&size.expr])
                    .into_iter()
                    .map(|d| ident(&d.name));
                let helper = format_ident!("{}_size", f.name);
                let bytes = quote!(input.get(wire_at..wire_at.checked_add(#helper(#(#args),*))?)?);
                if matches!(f.ty, FieldType::Tlv(_)) {
                    let endian = if little {
                        quote!(::deku::ctx::Endian::Little)
                    } else {
                        quote!(::deku::ctx::Endian::Big)
                    };
                    quote! {{
                        let bytes = #bytes;
                        wire_at += bytes.len();
                        crate::tlv::parse(bytes, #endian)
                    }}
                } else {
                    quote! {{
                        let bytes = #bytes;
                        wire_at += bytes.len();
                        crate::wire::Bytes::from_slice(bytes)
                    }}
                }
            }
            _ => unreachable!("checked by reads_directly"),
        };
        match f.ty.fixed_size() {
            Some(n) => {
                let n = proc_macro2::Literal::u64_unsuffixed(n);
                reads.push(quote! {
                    let #name = #read;
                    wire_at += #n;
                });
            }
            None => reads.push(quote!(let #name = #read;)),
        }
    }
    quote! {
        /// Reads the header straight from its byte offsets; `None` when the bytes fall
        /// short (then [`Self::parse`] reads it with deku, which says why). Gives what
        /// deku's reader gives, faster.
        #[inline]
        pub fn read_direct(input: &[u8]) -> ::core::option::Option<(Self, usize)> {
            let mut wire_at = 0usize;
            #(#reads)*
            Some((Self { #(#names),* }, wire_at))
        }
    }
}

pub(crate) fn emit_check(p: &Protocol, access: Access) -> TokenStream {
    let ends = static_ends(&p.fields);
    let end_of = |name: &str| -> Option<u64> {
        let container = lookup(&p.fields, name)?.field;
        let i = p.fields.iter().position(|f| std::ptr::eq(f, container))?;
        ends[i]
    };
    let mut checks = Vec::new();
    let mut exprs = Vec::new();
    for f in &p.fields {
        let asserts = f.assert.iter().map(|a| (f.name.clone(), a)).chain(
            f.bits
                .iter()
                .filter_map(|r| r.assert.as_ref().map(|a| (r.name.clone(), a))),
        );
        for (what, a) in asserts {
            exprs.push(&a.expr);
            let resolve = local_resolver(&p.fields);
            let fails = a.expr.negated().bool_operand(&resolve).expect("checked");
            // The message names the values the assertion read.
            let mut names: Vec<&str> = a.expr.names();
            names.dedup();
            let fmt = names
                .iter()
                .map(|n| format!("{n} = {{}}"))
                .collect::<Vec<_>>()
                .join(", ");
            let msg = format!("{}.{what}: `{}` does not hold ({fmt})", p.id, a.src);
            let args = names.iter().map(|n| resolve(n).expect("checked").0);
            // Checked only once every byte it reads was captured.
            let needs = std::iter::once(f.name.as_str())
                .chain(names.iter().copied())
                .map(end_of)
                .try_fold(0u64, |max, end| end.map(|e| max.max(e)));
            let mut guard = match needs {
                Some(n) => {
                    let n = proc_macro2::Literal::u64_unsuffixed(n);
                    quote!(captured >= #n &&)
                }
                None => quote!(captured == usize::MAX &&),
            };
            if f.cond.is_some() {
                let n = ident(&f.name);
                guard = quote!(#guard #n.is_some() &&);
            }
            checks.push(quote! {
                if #guard #fails {
                    return Err(crate::layer::DissectError::new(format!(#msg, #(#args),*)));
                }
            });
        }
    }
    let deps = deps(&p.fields, &exprs);
    let bind = bind(&deps, access);
    let captured = if checks.is_empty() {
        quote!(_captured)
    } else {
        quote!(captured)
    };
    quote! {
        /// Checks the assertions of the spec; the error names the first that fails.
        pub fn check(&self) -> ::core::result::Result<(), crate::layer::DissectError> {
            self.check_within(usize::MAX)
        }

        /// Checks the assertions that read only the first `captured` bytes of the header.
        pub fn check_within(&self, #captured: usize) -> ::core::result::Result<(), crate::layer::DissectError> {
            #bind
            #(#checks)*
            Ok(())
        }
    }
}

/// `parse_partial`: a header cut short by the capture's snapshot length, read as if the
/// missing bytes were zeros; only the values held by captured bytes are to be shown.
/// The function reading a header: with names, one that keeps the whole message at hand
/// for their compression pointers.
fn header_reader(p: &Protocol) -> TokenStream {
    if p.has_names() {
        quote!(crate::dnsname::read_header)
    } else {
        quote!(crate::wire::read_header)
    }
}

fn emit_partial(p: &Protocol) -> TokenStream {
    if p.hook.is_some() || p.endian == Endian::Runtime {
        return quote! {
            /// Not available for this protocol.
            pub fn parse_partial(_input: &[u8]) -> ::core::option::Option<Self> {
                None
            }
        };
    }
    let header_reader = header_reader(p);
    quote! {
        /// Reads a header cut short: the missing bytes read as zeros, and only the
        /// assertions over captured bytes are checked. Show only the values whose
        /// `FieldInfo::end` is within `input.len()`.
        pub fn parse_partial(input: &[u8]) -> ::core::option::Option<Self> {
            let mut padded = input.to_vec();
            padded.resize(input.len() + 0x1_0000, 0);
            let (header, _) = #header_reader::<Self, _>(&padded, ()).ok()?;
            header.check_within(input.len()).ok()?;
            Some(header)
        }
    }
}

pub(crate) fn emit_next(model: &Model, p: &Protocol, access: Access) -> TokenStream {
    let name = match access {
        Access::Field => format_ident!("next_protocol"),
        Access::Method => format_ident!("payload_protocol"),
    };
    let rules = p.payload.as_ref().map_or(&[][..], |pl| pl.rules.as_slice());
    if rules.is_empty() {
        return quote! {
            /// The spec declares no payload dispatch.
            pub fn #name(&self, _payload: &[u8]) -> ::core::option::Option<crate::protocols::Next> {
                None
            }
        };
    }
    let fields = local_resolver(&p.fields);
    let resolve = |n: &str| {
        if n == crate::expr::PAYLOAD_BYTES {
            Some((quote!(payload), crate::expr::Ty::Int))
        } else {
            fields(n)
        }
    };
    let mut exprs: Vec<&crate::expr::Expr> = Vec::new();
    for r in rules {
        exprs.extend(&r.when.as_ref().map(|w| &w.expr));
        if let Target::Table { keys, .. } = &r.target {
            exprs.extend(keys.iter().map(|k| &k.expr));
        }
    }
    let deps = deps(&p.fields, &exprs);
    let bind = bind(&deps, access);
    let mut uses_payload = exprs.iter().any(|e| e.calls("payload"));
    let mut docs = Vec::new();
    let mut arms = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let last = i + 1 == rules.len();
        // The lookup of the rule: an `Option<Next>`.
        let (lookup, what) = match &rule.target {
            Target::Table { table, keys } => {
                let f = ident(table);
                let mut chain = Vec::new();
                for (i, k) in keys.iter().enumerate() {
                    let code = k.expr.to_int(&resolve).expect("checked");
                    chain.push(if i == 0 {
                        quote!(crate::protocols::table::#f(#code))
                    } else {
                        quote!(.or_else(|| crate::protocols::table::#f(#code)))
                    });
                }
                let srcs: Vec<&str> = keys.iter().map(|k| k.src.as_str()).collect();
                let mut what = format!("`{}` looked up in table `{table}`", srcs.join("`, then `"));
                if model
                    .tables
                    .get(table)
                    .is_some_and(|t| !t.heuristics.is_empty())
                {
                    let h = format_ident!("{}_heuristic", table);
                    chain.push(quote!(.or_else(|| crate::protocols::table::#h(payload))));
                    uses_payload = true;
                    what.push_str(", then the table's heuristics");
                }
                (quote!(#(#chain)*), what)
            }
            Target::Next(next) => {
                let v = camel(next);
                (
                    quote!(Some(crate::protocols::Next { protocol: crate::protocols::ProtocolId::#v, name: None })),
                    format!("`{next}`"),
                )
            }
        };
        match &rule.when {
            Some(w) => docs.push(format!("{what}, when `{}`", w.src)),
            None => docs.push(what),
        }
        arms.push(match (&rule.when, last) {
            // The last rule: its lookup is the answer.
            (Some(w), true) => {
                let code = w.expr.negated().to_bool(&resolve).expect("checked");
                quote! {
                    if #code {
                        return None;
                    }
                    #lookup
                }
            }
            (None, _) => lookup,
            // A constant rule before others: its protocol when it applies.
            (Some(w), false) if matches!(rule.target, Target::Next(_)) => {
                let code = w.expr.to_bool(&resolve).expect("checked");
                quote! {
                    if #code {
                        return #lookup;
                    }
                }
            }
            // A rule before others: its answer if it has one, else the next rule.
            (Some(w), false) => {
                let code = w.expr.to_bool(&resolve).expect("checked");
                quote! {
                    if #code {
                        if let Some(next) = #lookup {
                            return Some(next);
                        }
                    }
                }
            }
        });
    }
    let payload_param = if uses_payload {
        quote!(payload)
    } else {
        quote!(_payload)
    };
    let doc: Vec<String> = if docs.len() == 1 {
        vec![format!(" The protocol of the payload: {}.", docs[0])]
    } else {
        let mut doc =
            vec![" The protocol of the payload, by the first rule that finds one:".to_owned()];
        for (i, d) in docs.iter().enumerate() {
            doc.push(format!(" {}. {d}", i + 1));
        }
        doc
    };
    quote! {
        #(#[doc = #doc])*
        pub fn #name(&self, #payload_param: &[u8]) -> ::core::option::Option<crate::protocols::Next> {
            #bind
            #(#arms)*
        }
    }
}

/// Rust building the `Value` of an entry from `src` (the container or field value).
fn value_of(ty: &FieldType, registry: Option<&String>, src: TokenStream) -> TokenStream {
    match ty {
        FieldType::Int {
            signed: true,
            bytes: 8,
        } => quote!(crate::value::Value::Int(#src)),
        FieldType::Int { signed: true, .. } => quote!(crate::value::Value::Int(i64::from(#src))),
        FieldType::Int { bytes, .. } => {
            // A u64 needs no conversion (clippy: useless_conversion).
            let wide = if *bytes == 8 {
                src
            } else {
                quote!(u64::from(#src))
            };
            match registry {
                Some(r) => {
                    let r = ident(r);
                    quote!(crate::value::Value::enumerated(#wide, crate::registry::#r))
                }
                None => quote!(crate::value::Value::Uint(#wide)),
            }
        }
        FieldType::Mac => quote!(crate::value::Value::Mac(#src)),
        FieldType::Ipv4 => quote!(crate::value::Value::Ipv4(#src)),
        FieldType::Ipv6 => quote!(crate::value::Value::Ipv6(#src)),
        FieldType::Str => quote!(crate::value::Value::Text(&#src)),
        FieldType::DnsName => quote!(crate::value::Value::Text(#src.as_str())),
        _ => unreachable!("lists are visited element by element"),
    }
}

fn display_tokens(d: Display) -> TokenStream {
    match d {
        Display::Hex => quote!(crate::value::BytesDisplay::Hex),
        Display::Mac => quote!(crate::value::BytesDisplay::Mac),
        Display::Ipv4 => quote!(crate::value::BytesDisplay::Ipv4),
        Display::Ipv6 => quote!(crate::value::BytesDisplay::Ipv6),
        Display::Text => quote!(crate::value::BytesDisplay::Text),
    }
}

/// Statements visiting one entry whose value (container or field) is in `v_src`.
pub(crate) fn visit_entry(
    model: Option<(&Model, &ProtoLayout)>,
    e: &Entry,
    info: TokenStream,
    infos_from: &dyn Fn(usize) -> TokenStream,
    local_index: usize,
    src: TokenStream,
) -> TokenStream {
    let f = e.field;
    if let Some(r) = e.range {
        let (code, _) = range_of(quote!(u64::from(#src)), r);
        let code = bare(code);
        let value = if r.is_bool {
            quote!(crate::value::Value::Bool(#code))
        } else {
            match &r.registry {
                Some(reg) => {
                    let reg = ident(reg);
                    quote!(crate::value::Value::enumerated(#code, crate::registry::#reg))
                }
                None => quote!(crate::value::Value::Uint(#code)),
            }
        };
        return quote!(v.field(#info, #value););
    }
    if e.whole {
        let value = value_of(&f.ty, f.registry.as_ref(), src);
        return quote!(v.whole(#info, #value););
    }
    match &f.ty {
        FieldType::Bytes => {
            let d = display_tokens(f.display);
            quote!(v.field(#info, crate::value::Value::Bytes(&#src, #d));)
        }
        FieldType::Record(_) => quote! {
            v.begin_record(#info);
            #src.visit(v);
            v.end_record();
        },
        FieldType::List(elem) if matches!(**elem, FieldType::Record(_)) => quote! {
            v.begin_list(#info);
            for item in #src.iter() {
                v.begin_item();
                item.visit(v);
                v.end_item();
            }
            v.end_list();
        },
        FieldType::Switch(_) => quote!(#src.visit(v, #info);),
        FieldType::List(elem) => {
            let value = value_of(elem, None, quote!(*item));
            quote! {
                v.begin_list(#info);
                for item in #src.iter() {
                    v.field(#info, #value);
                }
                v.end_list();
            }
        }
        FieldType::Tlv(family) => {
            let (model, lay) = model.expect("TLV lists are visited with their protocol's layout");
            let n = model
                .tlv(family)
                .map(|t| {
                    t.variants
                        .iter()
                        .map(|var| entries(&var.fields).len())
                        .sum::<usize>()
                })
                .unwrap_or(0);
            // The list's own infos (list, kind, length, data), then the family's values:
            // listed once per protocol, after the first field using the family.
            let own = infos_from(local_index);
            let values = infos_from(lay.tlv_values(family));
            let n = index(n);
            quote!(crate::tlv::visit(&#src, v, &#own[..4], &#values[..#n]);)
        }
        FieldType::KvList => {
            let name_info = infos_from(local_index + 1);
            let value_info = infos_from(local_index + 2);
            let list = quote! {
                v.begin_list(#info);
                for (name, value) in #src.iter() {
                    v.begin_item();
                    v.field(&#name_info[0], crate::value::Value::Text(name));
                    v.field(&#value_info[0], crate::value::Value::Text(value));
                    v.end_item();
                }
                v.end_list();
            };
            if f.session {
                // Filled by the session on some layers only: absent rather than empty elsewhere.
                quote!(if !#src.is_empty() { #list })
            } else {
                list
            }
        }
        FieldType::Str => quote! {
            // Hooks leave text fields empty when the message has none.
            if !#src.is_empty() {
                v.field(#info, crate::value::Value::Text(&#src));
            }
        },
        ty => {
            let value = value_of(ty, f.registry.as_ref(), src);
            quote!(v.field(#info, #value);)
        }
    }
}

/// `&value` → `value` in visiting code, for a `value` that is a reference already.
fn strip_borrows(code: TokenStream) -> TokenStream {
    code.to_string()
        .replace("& value", "value")
        .parse()
        .expect("valid Rust")
}

/// Visiting a value of a TLV variant (which cannot hold a TLV list itself).
pub(crate) fn visit_entry_for_tlv(
    e: &Entry,
    info: TokenStream,
    infos_from: &dyn Fn(usize) -> TokenStream,
    local_index: usize,
    src: TokenStream,
) -> TokenStream {
    visit_entry(None, e, info, infos_from, local_index, src)
}

fn has_asserts(f: &Field) -> bool {
    f.assert.is_some() || f.bits.iter().any(|r| r.assert.is_some())
}

fn assert_exprs(f: &Field) -> Vec<&crate::expr::Expr> {
    f.assert
        .iter()
        .chain(f.bits.iter().filter_map(|r| r.assert.as_ref()))
        .map(|a| &a.expr)
        .collect()
}

/// `FIELD_holds(...)`: whether a record field's assertions (and its ranges') hold.
fn emit_assert_helpers(p: &Protocol) -> TokenStream {
    let helpers = p.fields.iter().filter(|f| has_asserts(f)).map(|f| {
        let exprs = assert_exprs(f);
        let deps = deps(&p.fields, &exprs);
        let params = deps.iter().map(|d| {
            let n = ident(&d.name);
            let t = param_type(d);
            quote!(#n: #t)
        });
        let resolve = local_resolver(&p.fields);
        let checks: Vec<TokenStream> = exprs
            .iter()
            .map(|e| e.to_bool(&resolve).expect("checked"))
            .collect();
        let body = match checks.as_slice() {
            [one] => one.clone(),
            many => quote!(#((#many))&&*),
        };
        let name = format_ident!("{}_holds", f.name);
        let srcs: Vec<&str> = f
            .assert
            .iter()
            .chain(f.bits.iter().filter_map(|r| r.assert.as_ref()))
            .map(|a| a.src.as_str())
            .collect();
        let doc = format!(" Whether `{}` holds.", srcs.join("` and `"));
        quote! {
            #[doc = #doc]
            fn #name(#(#params),*) -> bool {
                #body
            }
        }
    });
    quote!(#(#helpers)*)
}

/// A record's struct, checked as it is read, with its helpers and accessors.
pub(crate) fn record_struct(p: &Protocol) -> TokenStream {
    let ty = camel(&p.id);
    let strukt = emit_struct_with(p, true);
    let helpers = emit_helpers(p);
    let holds = emit_assert_helpers(p);
    let accessors = emit_accessors(p, Access::Field);
    let accessors = if accessors.is_empty() {
        quote!()
    } else {
        quote!(impl #ty { #accessors })
    };
    quote! {
        #strukt
        #helpers
        #holds
        #accessors
    }
}

/// The struct, its helpers and its accessors, for a TLV variant's value.
pub(crate) fn struct_with_accessors(p: &Protocol) -> TokenStream {
    let ty = camel(&p.id);
    let strukt = emit_struct(p);
    let helpers = emit_helpers(p);
    let accessors = emit_accessors(p, Access::Field);
    if accessors.is_empty() {
        return quote!(#strukt #helpers);
    }
    quote! {
        #strukt
        #helpers
        impl #ty {
            #accessors
        }
    }
}

/// `visit` of a header, or of a record (`record`: its name; `p` is then the record as a
/// pseudo-protocol).
pub(crate) fn emit_visit(
    model: &Model,
    p: &Protocol,
    lay: &ProtoLayout,
    record: Option<&str>,
    access: Access,
) -> TokenStream {
    let mut stmts = Vec::new();
    for e in entries(&p.fields) {
        let f = e.field;
        let i = lay.entry_in(record, e.name);
        let at = index(i);
        let info = quote!(&FIELDS[#at]);
        let infos_from = |start: usize| {
            let start = index(start);
            quote!(FIELDS[#start..])
        };
        let name = ident(&f.name);
        let is_copy = f.ty.fixed_size().is_some();
        // The emptiness test of a text field with a `show`, joined to the show's.
        let mut text_present = None;
        let mut stmt = if f.cond.is_some() {
            let inner = visit_entry(Some((model, lay)), &e, info, &infos_from, i, quote!(value));
            // A non-copy value is borrowed: `value` is then a reference already.
            let inner = if is_copy { inner } else { strip_borrows(inner) };
            let pat = if is_copy {
                quote!(Some(value))
            } else {
                quote!(Some(ref value))
            };
            quote! {
                if let #pat = self.#name {
                    #inner
                }
            }
        } else {
            let src = match (access, &f.ty) {
                // A view holds an option list as its bytes: read as the struct reads them.
                (Access::Method, FieldType::Tlv(family)) => {
                    let item = tlv_path(family);
                    let endian = if f.endian.unwrap_or(p.endian) == Endian::Little {
                        quote!(::deku::ctx::Endian::Little)
                    } else {
                        quote!(::deku::ctx::Endian::Big)
                    };
                    quote!(crate::tlv::parse::<#item>(self.#name(), #endian))
                }
                _ => access.read(&name),
            };
            match (access, &f.ty) {
                // A view's bytes are a slice already.
                (Access::Method, FieldType::Bytes) if e.range.is_none() && !e.whole => {
                    let d = display_tokens(f.display);
                    quote!(v.field(#info, crate::value::Value::Bytes(#src, #d));)
                }
                // Empty text is absent (hooks leave a field empty when the message has
                // none): a condition of its own, joined to a `show` below.
                (_, FieldType::Str) if f.show.is_some() && e.range.is_none() => {
                    text_present = Some(quote!(!#src.is_empty()));
                    quote!(v.field(#info, crate::value::Value::Text(&#src));)
                }
                _ => visit_entry(Some((model, lay)), &e, info, &infos_from, i, src),
            }
        };
        for show in [e.range.and_then(|r| r.show.as_ref()), f.show.as_ref()]
            .into_iter()
            .flatten()
        {
            let deps = deps(&p.fields, &[&show.expr]);
            let bind = bind(&deps, access);
            let code = show
                .expr
                .to_bool(&local_resolver(&p.fields))
                .expect("checked");
            let present = text_present.take().map(|t| quote!(&& #t));
            stmt = quote! {
                {
                    #bind
                    if #code #present {
                        #stmt
                    }
                }
            };
        }
        stmts.push(stmt);
    }
    let body = if stmts.is_empty() {
        quote!(let _ = v;)
    } else {
        quote!(#(#stmts)*)
    };
    quote! {
        /// Hands every value of the header to `v`, in wire order.
        pub fn visit<V: crate::value::Visitor + ?Sized>(&self, v: &mut V) {
            #body
        }
    }
}

fn emit_field_table(p: &Protocol, lay: &ProtoLayout) -> TokenStream {
    let n = lay.infos.len();
    let protocol = &p.id;
    let rows = lay.infos.iter().enumerate().map(|(i, info)| {
        let id = u32::try_from(lay.base + i).expect("field count fits u32");
        let (path, name, ty, doc) = (&info.path, &info.name, &info.ty, &info.doc);
        let wireshark = match &info.wireshark {
            Some(w) => quote!(Some(#w)),
            None => quote!(None),
        };
        let end = if info.end == u32::MAX {
            quote!(u32::MAX)
        } else {
            let e = proc_macro2::Literal::u32_unsuffixed(info.end);
            quote!(#e)
        };
        quote! {
            crate::value::FieldInfo {
                id: #id,
                end: #end,
                protocol: #protocol,
                path: #path,
                wireshark: #wireshark,
                name: #name,
                ty: #ty,
                doc: #doc,
            }
        }
    });
    let doc = format!(" Every value a {} header shows, in order.", p.name);
    quote! {
        #[doc = #doc]
        pub static FIELDS: [crate::value::FieldInfo; #n] = [#(#rows),*];
    }
}
