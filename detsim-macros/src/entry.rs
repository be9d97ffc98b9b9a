//! Entry-point attributes: an `async fn` becomes a sync fn running its body under detsim.
//!
//! Tests run as a campaign through `check()` (seeds, strategy, jobs, the environment
//! overrides, the replay line on failure, and the test's seeds file under the crate's
//! `seeds/` replayed first); `main` runs one seed.

use crate::args::{self, Arg};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{ItemFn, ReturnType};

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    DetsimTest,
    DetsimMain,
    TokioTest,
    TokioMain,
}

impl Kind {
    fn is_tokio(self) -> bool {
        matches!(self, Kind::TokioTest | Kind::TokioMain)
    }

    fn name(self) -> &'static str {
        match self {
            Kind::DetsimTest => "#[detsim::test]",
            Kind::DetsimMain => "#[detsim::main]",
            Kind::TokioTest => "#[tokio::test]",
            Kind::TokioMain => "#[tokio::main]",
        }
    }
}

/// What the arguments asked for.
#[derive(Default)]
struct Settings {
    krate: Option<syn::Path>,
    seeds: Option<u64>,
    start: Option<u64>,
    strategy: Option<String>,
    jobs: Option<u64>,
    workers: Option<u64>,
    current_thread: bool,
}

pub(crate) fn expand(kind: Kind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let result = syn::parse2::<ItemFn>(item.clone()).and_then(|f| {
        let settings = settings(kind, args::parse(attr)?)?;
        generate(kind, &settings, f)
    });
    match result {
        Ok(tokens) => tokens,
        // Keep the function so the error is the only one the user sees.
        Err(e) => {
            let err = e.to_compile_error();
            quote!(#err #item)
        }
    }
}

fn settings(kind: Kind, args: Vec<Arg>) -> syn::Result<Settings> {
    let mut s = Settings::default();
    for arg in args {
        match arg.name.to_string().as_str() {
            "crate" => {
                s.krate = Some(syn::parse_str(&arg.str()?).map_err(|e| {
                    syn::Error::new_spanned(&arg.value, format!("bad crate path: {e}"))
                })?)
            }
            "seeds" if kind != Kind::DetsimMain => s.seeds = Some(arg.int()?),
            "start" if kind != Kind::DetsimMain => s.start = Some(arg.int()?),
            "strategy" if kind != Kind::DetsimMain => s.strategy = Some(arg.str()?),
            "jobs" if kind != Kind::DetsimMain => s.jobs = Some(arg.int()?),
            "workers" | "worker_threads" => s.workers = Some(arg.int()?),
            "flavor" if kind.is_tokio() => {
                match arg.str()?.as_str() {
                    "current_thread" => s.current_thread = true,
                    "multi_thread" => {}
                    other => {
                        let msg = format!("unknown flavor {other:?}; expected \"current_thread\" or \"multi_thread\"");
                        return Err(syn::Error::new_spanned(&arg.value, msg));
                    }
                }
            }
            // Virtual time is always "paused": it only moves when every task waits.
            "start_paused" if kind.is_tokio() => drop(arg.bool()?),
            other => {
                let msg = format!("{}: unknown argument `{other}`", kind.name());
                return Err(syn::Error::new_spanned(&arg.name, msg));
            }
        }
    }
    Ok(s)
}

fn generate(kind: Kind, s: &Settings, f: ItemFn) -> syn::Result<TokenStream> {
    if f.sig.asyncness.is_none() {
        let msg = "the `async` keyword is missing from the function declaration";
        return Err(syn::Error::new_spanned(f.sig.fn_token, msg));
    }
    if !f.sig.inputs.is_empty() {
        let msg = format!("{} functions cannot take arguments", kind.name());
        return Err(syn::Error::new_spanned(&f.sig.inputs, msg));
    }
    let default_crate: syn::Path = match kind.is_tokio() {
        true => syn::parse_quote!(::tokio),
        false => syn::parse_quote!(::detsim),
    };
    let krate = s.krate.clone().unwrap_or(default_crate);
    let detsim = match kind.is_tokio() {
        true => quote!(#krate::__private::detsim),
        false => quote!(#krate),
    };
    match kind {
        Kind::DetsimTest | Kind::TokioTest => Ok(test_fn(kind, s, &detsim, f)),
        Kind::DetsimMain => Ok(detsim_main(s, &detsim, f)),
        Kind::TokioMain => Ok(tokio_main(s, &krate, f)),
    }
}

/// The body as a closure making a fresh future per run, checked against the return type.
fn program(detsim: &TokenStream, f: &ItemFn) -> TokenStream {
    let ret = match &f.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let block = &f.block;
    quote! {
        || async move {
            let __result = #detsim::harness::entry::body::<#ret, _>(async move #block).await;
            #detsim::harness::entry::TestReturn::finish(__result)
        }
    }
}

fn test_fn(kind: Kind, s: &Settings, detsim: &TokenStream, f: ItemFn) -> TokenStream {
    let mut check = quote!(#detsim::Check::new());
    let seeds = s.seeds.or((kind == Kind::TokioTest).then_some(100));
    if let Some(n) = seeds {
        check.extend(quote!(.seeds(#n)));
    }
    if let Some(n) = s.start {
        check.extend(quote!(.start(#n)));
    }
    if let Some(token) = &s.strategy {
        check.extend(quote!(.strategy(#detsim::harness::entry::strategy(#token))));
    }
    if let Some(n) = s.jobs {
        let n = n as usize;
        check.extend(quote!(.jobs(#n)));
    }
    if let Some(config) = config(s, detsim) {
        check.extend(quote!(.config(#config)));
    }
    let (attrs, vis, name) = (&f.attrs, &f.vis, &f.sig.ident);
    check.extend(quote! {
        .seeds_dir(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/seeds"))
        .name(#detsim::harness::entry::test_name(::core::module_path!(), ::core::stringify!(#name)))
    });
    let program = program(detsim, &f);
    quote_spanned! {f.sig.ident.span()=>
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis fn #name() {
            #detsim::check(#check, #program)
        }
    }
}

fn config(s: &Settings, detsim: &TokenStream) -> Option<TokenStream> {
    let workers = match (s.current_thread, s.workers) {
        (true, _) => Some(1usize),
        (false, w) => w.map(|w| w as usize),
    }?;
    Some(quote!(#detsim::Config::default().workers(#workers)))
}

fn detsim_main(s: &Settings, detsim: &TokenStream, f: ItemFn) -> TokenStream {
    let config = config(s, detsim).unwrap_or(quote!(#detsim::Config::default()));
    let program = program(detsim, &f);
    let (attrs, vis, name) = (&f.attrs, &f.vis, &f.sig.ident);
    quote! {
        #(#attrs)*
        #vis fn #name() {
            #detsim::harness::entry::run_main(#config, #program)
        }
    }
}

fn tokio_main(s: &Settings, krate: &syn::Path, f: ItemFn) -> TokenStream {
    let mut builder = match s.current_thread {
        true => quote!(#krate::runtime::Builder::new_current_thread()),
        false => quote!(#krate::runtime::Builder::new_multi_thread()),
    };
    if let Some(n) = s.workers {
        let n = n as usize;
        builder.extend(quote!(.worker_threads(#n)));
    }
    let (attrs, vis, name, block) = (&f.attrs, &f.vis, &f.sig.ident, &f.block);
    let output = &f.sig.output;
    quote! {
        #(#attrs)*
        #vis fn #name() #output {
            let body = async move #block;
            #builder
                .enable_all()
                .build()
                .expect("Failed building the Runtime")
                .block_on(body)
        }
    }
}
