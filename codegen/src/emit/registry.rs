//! `registry.rs`: one lookup function and one listing per registry.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{hex_lit, ident};
use crate::ir::Registry;

pub fn emit(registries: &[Registry]) -> TokenStream {
    let items = registries.iter().map(|r| {
        let f = ident(&r.id);
        let table = format_ident!("{}", r.id.to_uppercase());
        let (id, title, source) = (&r.id, &r.title, &r.source);
        let arms = r.values.iter().map(|(v, name, _)| {
            let v = hex_lit(*v);
            quote!(#v => Some(#name),)
        });
        let rows = r.values.iter().map(|(v, name, _)| {
            let v = hex_lit(*v);
            quote!((#v, #name))
        });
        let fn_doc = format!(" The name of a `{id}` value ({title}), if it has one.");
        let table_doc = super::linkify(&format!(" Every named `{id}` value. Source: {source}."));
        quote! {
            #[doc = #fn_doc]
            pub fn #f(value: u64) -> ::core::option::Option<&'static str> {
                match value {
                    #(#arms)*
                    _ => None,
                }
            }

            #[doc = #table_doc]
            pub static #table: crate::value::Registry = crate::value::Registry {
                id: #id,
                title: #title,
                source: #source,
                values: &[#(#rows),*],
            };
        }
    });
    let all = registries.iter().map(|r| {
        let table = format_ident!("{}", r.id.to_uppercase());
        quote!(&#table)
    });
    let n = registries.len();
    quote! {
        #(#items)*

        /// Every registry.
        pub static ALL: [&crate::value::Registry; #n] = [#(#all),*];
    }
}
