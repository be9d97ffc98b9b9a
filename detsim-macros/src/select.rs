//! The facade's `select!`: tokio's syntax and semantics, with a recorded first branch.
//!
//! tokio's `select!` polls its branches starting at an index drawn from a thread-local
//! RNG — a source of nondeterminism detsim cannot see or replay. Here the start index
//! comes from `<crate>::__private::select_start(n)`, a recorded choice of the run
//! (`biased;` polls in order and draws nothing).
//!
//! Semantics (tokio's, in order): preconditions are evaluated, then every branch's
//! future is created (also for disabled branches, which are never polled); each poll
//! tries the enabled branches from the start index on; a completed branch whose value
//! does not match its pattern is disabled; the first match drops every future and runs
//! its handler; with every branch disabled, the `else` handler runs (or it panics).

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::visit_mut::VisitMut;
use syn::{Expr, Pat, Token};

struct Branch {
    pat: Pat,
    fut: Expr,
    cond: Option<Expr>,
    handler: Expr,
}

struct Select {
    krate: TokenStream,
    biased: bool,
    branches: Vec<Branch>,
    otherwise: Option<Expr>,
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        input.parse::<Token![crate]>()?;
        input.parse::<Token![=]>()?;
        let mut krate = TokenStream::new();
        while !input.peek(Token![;]) {
            krate.extend([input.parse::<TokenTree>()?]);
        }
        input.parse::<Token![;]>()?;
        let biased = input.peek(syn::Ident) && input.fork().parse::<syn::Ident>()? == "biased";
        if biased {
            input.parse::<syn::Ident>()?;
            input.parse::<Token![;]>()?;
        }
        let (mut branches, mut otherwise) = (Vec::new(), None);
        while !input.is_empty() {
            if input.peek(Token![else]) {
                input.parse::<Token![else]>()?;
                input.parse::<Token![=>]>()?;
                otherwise = Some(handler(input)?);
                continue;
            }
            branches.push(branch(input)?);
        }
        if branches.is_empty() {
            return Err(input.error("select! needs at least one branch"));
        }
        if branches.len() > 64 {
            return Err(input.error("select! supports at most 64 branches"));
        }
        Ok(Select {
            krate,
            biased,
            branches,
            otherwise,
        })
    }
}

fn branch(input: ParseStream<'_>) -> syn::Result<Branch> {
    let pat = Pat::parse_multi_with_leading_vert(input)?;
    input.parse::<Token![=]>()?;
    let fut = input.parse::<Expr>()?;
    let cond = match input.peek(Token![,]) && input.peek2(Token![if]) {
        true => {
            input.parse::<Token![,]>()?;
            input.parse::<Token![if]>()?;
            Some(Expr::parse_without_eager_brace(input)?)
        }
        false => None,
    };
    input.parse::<Token![=>]>()?;
    let handler = handler(input)?;
    Ok(Branch {
        pat,
        fut,
        cond,
        handler,
    })
}

/// A block handler needs no comma after it; any other expression does (unless last).
fn handler(input: ParseStream<'_>) -> syn::Result<Expr> {
    let expr = match input.peek(syn::token::Brace) {
        true => Expr::Block(syn::ExprBlock {
            attrs: Vec::new(),
            label: None,
            block: input.parse()?,
        }),
        false => input.parse()?,
    };
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
    } else if !input.is_empty() && !matches!(expr, Expr::Block(_)) {
        return Err(input.error("expected `,` after a select! handler"));
    }
    Ok(expr)
}

/// The pattern as checked against `&value`: no `mut` / `ref` on bindings.
struct Clean;

impl VisitMut for Clean {
    fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
        p.by_ref = None;
        p.mutability = None;
        syn::visit_mut::visit_pat_ident_mut(self, p);
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Select>(input) {
        Ok(select) => generate(&select),
        Err(e) => e.to_compile_error(),
    }
}

fn generate(s: &Select) -> TokenStream {
    let krate = &s.krate;
    let n = s.branches.len();
    let types: Vec<_> = (0..n).map(|i| format_ident!("__T{}", i)).collect();
    let variants: Vec<_> = (0..n).map(|i| format_ident!("__B{}", i)).collect();
    let futs: Vec<_> = (0..n).map(|i| format_ident!("__fut{}", i)).collect();
    let conds = s.branches.iter().enumerate().filter_map(|(i, b)| {
        let cond = b.cond.as_ref()?;
        let bit = 1u64 << i;
        Some(quote!(if !(#cond) { __disabled |= #bit; }))
    });
    let makes = s.branches.iter().zip(&futs).map(|(b, f)| {
        let fut = &b.fut;
        quote!(let mut #f = ::core::pin::pin!(#fut);)
    });
    let polls = s.branches.iter().enumerate().map(|(i, b)| {
        let (f, v, bit) = (&futs[i], &variants[i], 1u64 << i);
        let mut check = b.pat.clone();
        Clean.visit_pat_mut(&mut check);
        quote! {
            #i => {
                if __disabled & #bit != 0 { continue; }
                match ::core::future::Future::poll(#f.as_mut(), __cx) {
                    ::core::task::Poll::Ready(__value) => {
                        __disabled |= #bit;
                        #[allow(unused_variables, unreachable_patterns)]
                        match &__value { #check => {}, _ => continue }
                        return ::core::task::Poll::Ready(__Out::#v(__value));
                    }
                    ::core::task::Poll::Pending => { __pending = true; }
                }
            }
        }
    });
    let arms = s.branches.iter().zip(&variants).map(|(b, v)| {
        let (pat, handler) = (&b.pat, &b.handler);
        quote!(__Out::#v(#pat) => #handler,)
    });
    let otherwise = match &s.otherwise {
        Some(e) => quote!(#e),
        None => quote!(::core::panic!(
            "all branches are disabled and there is no else branch"
        )),
    };
    let start = match s.biased || n == 1 {
        true => quote!(0usize),
        false => quote!(#krate::__private::select_start(#n)),
    };
    // One branch: no rotation (and no `% 1` for clippy to flag in the user's crate).
    let index = match n {
        1 => quote!(__k),
        _ => quote!((__start + __k) % #n),
    };
    quote! {{
        #[allow(non_camel_case_types)]
        enum __Out<#(#types),*> { #(#variants(#types),)* __Disabled }
        #[allow(unused_mut)]
        let mut __disabled: u64 = 0;
        #(#conds)*
        let __out = {
            #(#makes)*
            ::core::future::poll_fn(|__cx| {
                #[allow(unused_variables)]
                let __start: usize = #start;
                let mut __pending = false;
                for __k in 0..#n {
                    match #index {
                        #(#polls)*
                        _ => ::core::unreachable!(),
                    }
                }
                match __pending {
                    true => ::core::task::Poll::Pending,
                    false => ::core::task::Poll::Ready(__Out::__Disabled),
                }
            })
            .await
        };
        #[allow(unreachable_patterns, unreachable_code)]
        match __out {
            #(#arms)*
            __Out::__Disabled => #otherwise,
            _ => ::core::unreachable!("select!: a branch's pattern was checked before"),
        }
    }}
}
