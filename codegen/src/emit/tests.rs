//! `property_tests.rs`: per spec, a builder of random valid headers and the proptests that
//! hold the generated dissector to its spec:
//! - random bytes never panic, and a parsed header never claims more bytes than it had;
//! - a random valid header reads back whole and writes back byte for byte;
//! - dissecting a frame that starts with such a header keeps every layer inside the frame.
//!
//! The file is included by `tests/spec_properties.rs`, which provides `Rng`, `put`,
//! `write_back`, `NullVisitor` and the proptest imports.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::*;
use crate::ir::*;

pub fn emit(model: &Model) -> TokenStream {
    let modules = model.protocols.iter().map(emit_protocol);
    quote!(#(#modules)*)
}

fn emit_protocol(p: &Protocol) -> TokenStream {
    let m = ident(&p.id);
    let ty = camel(&p.id);
    let runtime = p.endian == Endian::Runtime;
    let endians = if runtime {
        quote!([::deku::ctx::Endian::Big, ::deku::ctx::Endian::Little])
    } else {
        quote!([::deku::ctx::Endian::Big])
    };
    let parse = |input: TokenStream| {
        if runtime {
            quote!(#ty::parse(#input, endian))
        } else {
            quote!(#ty::parse(#input))
        }
    };
    let parse_random = parse(quote!(&input));
    let never_panic = {
        let next = if p.layer == Layer::Capture {
            quote!()
        } else {
            quote!(let _ = header.next_protocol(&input[len..]);)
        };
        quote! {
            #[test]
            fn random_bytes_never_panic(input in vec(any::<u8>(), 0..256)) {
                for endian in #endians {
                    let _ = endian;
                    if let Ok((header, len)) = #parse_random {
                        prop_assert!(len <= input.len());
                        let _ = header.payload_len((input.len() - len) as u64);
                        #next
                        header.visit(&mut NullVisitor);
                    }
                }
            }
        }
    };

    // Records, switches, counted lists and names are checked by the spec's examples instead.
    let buildable = p.hook.is_none()
        && p.fields.iter().all(|f| f.hook.is_none())
        && !p.has_records()
        && !p.has_names();
    let (builder, round_trip, chain) = if buildable {
        let builder = emit_builder(p);
        let peek = p.peek_len();
        let parse_sample = parse(quote!(&bytes));
        let write = if runtime {
            quote!(write_back(&header, endian))
        } else {
            quote!(write_back(&header, ()))
        };
        let round_trip = quote! {
            #[test]
            fn write_read_round_trip(seed in any::<u64>()) {
                for endian in #endians {
                    let mut rng = Rng::new(seed);
                    let bytes = sample(&mut rng, endian);
                    prop_assume!(bytes.is_some(), "no valid header drawn");
                    let bytes = bytes.unwrap();
                    let (header, len) = #parse_sample
                        .map_err(|e| TestCaseError::fail(format!("{e} in {bytes:02x?}")))?;
                    prop_assert_eq!(len, bytes.len() - #peek);
                    prop_assert_eq!(#write, bytes);
                }
            }
        };
        let chain = if p.layer == Layer::Capture {
            quote!()
        } else {
            quote! {
                #[test]
                fn layers_stay_inside_the_frame(seed in any::<u64>(), tail in vec(any::<u8>(), 0..128)) {
                    let mut rng = Rng::new(seed);
                    let endian = ::deku::ctx::Endian::Big;
                    let mut frame = sample(&mut rng, endian).unwrap_or_default();
                    frame.extend_from_slice(&tail);
                    check_layers(pcapkit::protocols::ProtocolId::#ty, &frame)?;
                }
            }
        };
        (builder, round_trip, chain)
    } else {
        (quote!(), quote!(), quote!())
    };

    // The direct reader (see `emit_direct`) against deku's, which it stands in for: the
    // same header and length, or both short, on any bytes; and it reads valid headers.
    let direct = if super::protocol::reads_directly(p) {
        let valid = if buildable {
            quote! {
                #[test]
                fn direct_read_reads_valid_headers(seed in any::<u64>()) {
                    let mut rng = Rng::new(seed);
                    let bytes = sample(&mut rng, ::deku::ctx::Endian::Big);
                    prop_assume!(bytes.is_some(), "no valid header drawn");
                    let bytes = bytes.unwrap();
                    let direct = #ty::read_direct(&bytes);
                    prop_assert!(direct.is_some(), "a valid header does not read directly: {:02x?}", bytes);
                    prop_assert_eq!(direct, pcapkit::wire::read_header::<#ty, _>(&bytes, ()).ok());
                }
            }
        } else {
            quote!()
        };
        quote! {
            #[test]
            fn direct_read_agrees_with_deku(input in vec(any::<u8>(), 0..256)) {
                let deku = pcapkit::wire::read_header::<#ty, _>(&input, ()).ok();
                prop_assert_eq!(#ty::read_direct(&input), deku);
            }
            #valid
        }
    } else {
        quote!()
    };

    // The view (see `view.rs`) against deku's reader of the spec, on any bytes and on
    // valid headers drawn from the spec: the same length, every field and bit range, the
    // same assertions, payload length, next protocol and visited values.
    let view = if super::view::generated_view(p) {
        let view_ty = super::view::view_type(p);
        let mut same = Vec::new();
        for f in &p.fields {
            let name = ident(&f.name);
            let held = match f.ty {
                FieldType::Bytes => quote!(h.#name.as_slice()),
                FieldType::Tlv(_) => quote!(h.#name.as_bytes()),
                _ => quote!(h.#name),
            };
            same.push(quote!(prop_assert_eq!(v.#name(), #held, "field {}", stringify!(#name));));
            for r in &f.bits {
                let bit = ident(&r.name);
                same.push(
                    quote!(prop_assert_eq!(v.#bit(), h.#bit(), "bits {}", stringify!(#bit));),
                );
            }
        }
        let valid = if buildable {
            quote! {
                #[test]
                fn view_reads_valid_headers(seed in any::<u64>()) {
                    let mut rng = Rng::new(seed);
                    let bytes = sample(&mut rng, ::deku::ctx::Endian::Big);
                    prop_assume!(bytes.is_some(), "no valid header drawn");
                    let bytes = bytes.unwrap();
                    prop_assert!(pcapkit::protocols::#m::#view_ty::new(&bytes).is_some());
                    view_agrees(&bytes)?;
                }
            }
        } else {
            quote!()
        };
        quote! {
            fn view_agrees(bytes: &[u8]) -> Result<(), TestCaseError> {
                let deku = pcapkit::wire::read_header::<#ty, _>(bytes, ()).ok();
                let view = pcapkit::protocols::#m::#view_ty::new(bytes);
                prop_assert_eq!(view.map(|(_, n)| n), deku.as_ref().map(|(_, n)| *n));
                let (Some((v, n)), Some((h, _))) = (view, deku) else {
                    return Ok(());
                };
                prop_assert_eq!(v.as_bytes(), &bytes[..n]);
                #(#same)*
                prop_assert_eq!(v.check(), h.check());
                let captured = (bytes.len() - n) as u64;
                prop_assert_eq!(v.declared_payload_len(captured), h.payload_len(captured));
                prop_assert_eq!(v.payload_protocol(&bytes[n..]), h.next_protocol(&bytes[n..]));
                prop_assert_eq!(values(|x| v.visit(x)), values(|x| h.visit(x)));
                prop_assert_eq!(v.decode(), Some(h));
                Ok(())
            }

            proptest! {
                #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]
                #[test]
                fn view_agrees_with_deku(input in vec(any::<u8>(), 0..256)) {
                    view_agrees(&input)?;
                }
                #valid
            }
        }
    } else {
        quote!()
    };

    let examples = p.examples.iter().enumerate().map(|(i, e)| {
        let name = format_ident!("example_{}", i + 1);
        let n = i + 1;
        let spec = format!("specs/{}", p.file.display());
        let bytes = &e.bytes;
        let parse = parse(quote!(bytes));
        let write = if runtime {
            quote!(write_back(&header, endian))
        } else {
            quote!(write_back(&header, ()))
        };
        let endian = if runtime {
            quote!(let endian = ::deku::ctx::Endian::Big;)
        } else {
            quote!()
        };
        let round_trip = if p.hook.is_none() {
            quote! {
                assert_eq!(
                    #write, &bytes[..len],
                    "{} example #{}: the header does not write back to its bytes", #spec, #n
                );
            }
        } else {
            quote!()
        };
        let rows = e
            .fields
            .iter()
            .map(|(path, values)| quote!((#path, &[#(#values),*])));
        let doc = format!(" {}", e.doc);
        quote! {
            #[doc = #doc]
            #[test]
            fn #name() {
                let bytes: &[u8] = &[#(#bytes),*];
                #endian
                let (header, len) = #parse.unwrap_or_else(|e| {
                    panic!("{} example #{}: the bytes do not parse: {e}", #spec, #n)
                });
                let expected: &[(&str, &[&str])] = &[#(#rows),*];
                check_example(#spec, #n, |v| header.visit(v), expected);
                #round_trip
            }
        }
    });

    quote! {
        mod #m {
            #![allow(unused_imports, unused_variables, unused_mut, clippy::all)]
            use super::*;
            use pcapkit::protocols::#m::#ty;

            #builder

            #(#examples)*

            #view

            proptest! {
                #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]
                #never_panic
                #round_trip
                #chain
                #direct
            }
        }
    }
}

/// `fn sample(rng, endian) -> Option<Vec<u8>>`: the header's fields in order, drawn at
/// random, redrawn until their assertions hold, sized as their expressions say.
fn emit_builder(p: &Protocol) -> TokenStream {
    let default_big = match p.endian {
        Endian::Big => quote!(true),
        Endian::Little => quote!(false),
        Endian::Runtime => quote!(endian == ::deku::ctx::Endian::Big),
    };
    let mut stmts = Vec::new();
    for (i, f) in p.fields.iter().enumerate() {
        let before = &p.fields[..i];
        let name = ident(&f.name);
        let big = match f.endian {
            Some(Endian::Big) => quote!(true),
            Some(_) => quote!(false),
            None => default_big.clone(),
        };
        let draw = draw_value(p, f, &big);
        let put = put_value(f, &big);
        let stmt = match &f.cond {
            Some(c) => {
                let cond = c.expr.to_bool(&local_resolver(before)).expect("checked");
                quote! {
                    let #name = if #cond { Some({ #draw }) } else { None };
                    if let Some(ref #name) = #name {
                        #put
                    }
                }
            }
            None => quote! {
                let #name = { #draw };
                #put
            },
        };
        stmts.push(stmt);
    }
    quote! {
        /// A valid header with random values, as bytes; `None` when no draw satisfied the spec.
        fn sample(rng: &mut Rng, endian: ::deku::ctx::Endian) -> Option<Vec<u8>> {
            let mut out = Vec::new();
            #(#stmts)*
            Some(out)
        }
    }
}

/// The expression drawing one field's value (evaluates to the field's Rust type).
fn draw_value(p: &Protocol, f: &Field, _big: &TokenStream) -> TokenStream {
    let name = ident(&f.name);
    let i = p
        .fields
        .iter()
        .position(|g| g.name == f.name)
        .expect("own field");
    let before = &p.fields[..i];
    let size = |elem: u64| {
        let n = match &f.size {
            Some(s) => s.expr.to_int(&local_resolver(before)).expect("checked"),
            None => quote!(rng.u64() % 64),
        };
        quote! {
            let n: u64 = #n;
            if n > 4096 || n % #elem != 0 {
                return None;
            }
        }
    };
    match &f.ty {
        FieldType::Int { bytes, .. } => {
            let rust = rust_type(&f.ty, &|_| quote!());
            let mask = if *bytes == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * u32::from(*bytes))) - 1
            };
            let mask = hex_lit(mask);
            // Assertions of the field and its ranges, over this draw and the fields before.
            let mut scope: Vec<Field> = before.to_vec();
            let mut this = f.clone();
            this.cond = None;
            scope.push(this);
            let resolve = local_resolver(&scope);
            let checks: Vec<TokenStream> = f
                .assert
                .iter()
                .chain(f.bits.iter().filter_map(|r| r.assert.as_ref()))
                .map(|a| a.expr.to_bool(&resolve).expect("checked"))
                .collect();
            let ok = match checks.as_slice() {
                [] => quote!(true),
                [one] => one.clone(),
                many => quote!(#((#many))&&*),
            };
            // Values worth trying besides random ones: the assertions' own numbers.
            let mut literals: Vec<u64> = f
                .assert
                .iter()
                .chain(f.bits.iter().filter_map(|r| r.assert.as_ref()))
                .flat_map(|a| a.expr.literals())
                .collect();
            literals.sort_unstable();
            literals.dedup();
            let literals = literals
                .iter()
                .map(|l| proc_macro2::Literal::u64_unsuffixed(*l));
            quote! {
                let mut tries = 0;
                loop {
                    let #name = rng.draw(#mask, &[#(#literals),*]) as #rust;
                    if #ok {
                        break #name;
                    }
                    tries += 1;
                    if tries == 1000 {
                        return None;
                    }
                }
            }
        }
        FieldType::Mac => quote!(rng.array::<6>()),
        FieldType::Ipv4 => quote!(::std::net::Ipv4Addr::from(rng.array::<4>())),
        FieldType::Ipv6 => quote!(::std::net::Ipv6Addr::from(rng.array::<16>())),
        FieldType::Bytes => {
            let check = size(1);
            quote! {
                #check
                rng.bytes(n as usize)
            }
        }
        FieldType::Tlv(_) => {
            let check = size(1);
            // Any bytes make a list: the reader accounts for every byte it is given.
            quote! {
                #check
                rng.bytes(n as usize)
            }
        }
        FieldType::List(elem) => {
            let elem_size = elem.fixed_size().expect("checked");
            let check = size(elem_size);
            let elem_ty = rust_type(elem, &|_| quote!());
            let one = match **elem {
                FieldType::Mac => quote!(rng.array::<6>()),
                FieldType::Ipv4 => quote!(::std::net::Ipv4Addr::from(rng.array::<4>())),
                FieldType::Ipv6 => quote!(::std::net::Ipv6Addr::from(rng.array::<16>())),
                FieldType::Int { bytes, .. } => {
                    let mask = if bytes == 8 {
                        u64::MAX
                    } else {
                        (1u64 << (8 * u32::from(bytes))) - 1
                    };
                    let mask = hex_lit(mask);
                    quote!((rng.u64() & #mask) as #elem_ty)
                }
                _ => unreachable!("list elements have a fixed size"),
            };
            quote! {
                #check
                (0..n / #elem_size).map(|_| #one).collect::<Vec<#elem_ty>>()
            }
        }
        FieldType::Str | FieldType::KvList => unreachable!("only in hooked protocols"),
        FieldType::DnsName => unreachable!("protocols with names are not drawn"),
        FieldType::Record(_) | FieldType::Switch(_) => {
            unreachable!("protocols with records are not drawn")
        }
    }
}

/// Statements appending a drawn value (bound to the field's name) to `out`.
fn put_value(f: &Field, big: &TokenStream) -> TokenStream {
    let name = ident(&f.name);
    match &f.ty {
        FieldType::Int { bytes, .. } => {
            let bytes = usize::from(*bytes);
            quote!(put(&mut out, #name.clone() as u64, #bytes, #big);)
        }
        FieldType::Mac => quote!(out.extend_from_slice(&#name[..]);),
        FieldType::Ipv4 | FieldType::Ipv6 => quote!(out.extend_from_slice(&#name.octets());),
        FieldType::Bytes | FieldType::Tlv(_) => quote!(out.extend_from_slice(&#name[..]);),
        FieldType::List(elem) => {
            let one = match **elem {
                FieldType::Int { bytes, .. } => {
                    let bytes = usize::from(bytes);
                    quote!(put(&mut out, *item as u64, #bytes, #big);)
                }
                FieldType::Mac => quote!(out.extend_from_slice(&item[..]);),
                _ => quote!(out.extend_from_slice(&item.octets());),
            };
            quote! {
                for item in #name.iter() {
                    #one
                }
            }
        }
        FieldType::Str | FieldType::KvList => unreachable!("only in hooked protocols"),
        FieldType::DnsName => unreachable!("protocols with names are not drawn"),
        FieldType::Record(_) | FieldType::Switch(_) => {
            unreachable!("protocols with records are not drawn")
        }
    }
}
