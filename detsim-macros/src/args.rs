//! `key = value, ...` attribute arguments, with errors pointing at the bad token.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, MetaNameValue, Token};

/// One argument: its name, and its value as a literal.
pub(crate) struct Arg {
    pub(crate) name: syn::Ident,
    pub(crate) value: Lit,
}

/// Parses `a = 1, b = "x"`.
pub(crate) fn parse(attr: TokenStream) -> syn::Result<Vec<Arg>> {
    let list = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(attr)?;
    list.into_iter()
        .map(|nv| {
            let name = nv
                .path
                .get_ident()
                .cloned()
                .ok_or_else(|| syn::Error::new_spanned(&nv.path, "expected a name"))?;
            match nv.value {
                Expr::Lit(ExprLit { lit, .. }) => Ok(Arg { name, value: lit }),
                other => Err(syn::Error::new_spanned(other, "expected a literal")),
            }
        })
        .collect()
}

impl Arg {
    pub(crate) fn int(&self) -> syn::Result<u64> {
        match &self.value {
            Lit::Int(i) => i.base10_parse(),
            other => Err(syn::Error::new_spanned(other, "expected an integer")),
        }
    }

    pub(crate) fn str(&self) -> syn::Result<String> {
        match &self.value {
            Lit::Str(s) => Ok(s.value()),
            other => Err(syn::Error::new_spanned(other, "expected a string")),
        }
    }

    pub(crate) fn bool(&self) -> syn::Result<bool> {
        match &self.value {
            Lit::Bool(b) => Ok(b.value),
            other => Err(syn::Error::new_spanned(other, "expected true or false")),
        }
    }
}
