//! A self-contained HTML timeline, meant as the place to go to understand a failure.
//!
//! - `model.rs` — what is drawn (lanes, bars, marks, arrows, regions, the failure),
//!   computed from the trace in Rust so tests can check it;
//! - `timeline.js` — renders the model on a canvas (viewport-culled, so big traces stay
//!   fast), with a time axis, zoom, pan, hover detail, and a virtual event list that
//!   clicking a bar scrolls to;
//! - `timeline.css` — the page's style.
//!
//! The page fetches nothing: the model is a JSON block in the page, and the script and
//! style are inlined (`include_str!`). Why a canvas and not SVG: a trace of 100,000
//! events would be 100,000+ DOM nodes, which browsers lay out too slowly to zoom.

mod model;

pub(crate) use model::pair_messages;
use model::Model;

use super::Trace;

const SCRIPT: &str = include_str!("timeline.js");
const STYLE: &str = include_str!("timeline.css");

/// Reports script errors into the page (`#tl-errors`) so a headless browser's dumped
/// DOM shows them; a separate block so that it runs even if the main script does not
/// parse.
const ERROR_HOOK: &str = "window.__tlErrors = []; window.onerror = function (m, src, line) { window.__tlErrors.push(m + ' (line ' + line + ')'); var e = document.getElementById('tl-errors'); if (e) { e.textContent = window.__tlErrors.join('\\n'); e.hidden = false; } };";

/// The trace as an HTML page.
///
/// ```
/// let out = detsim::Sim::new(detsim::Config::default()).run(async { detsim::task::yield_now().await });
/// assert!(detsim::trace::to_html(&out.trace).starts_with("<!DOCTYPE html>"));
/// ```
pub fn to_html(trace: &Trace) -> String {
    let model = Model::of(trace);
    let json = serde_json::to_string(&model).expect("the model serialises");
    // Inside <script>, only "</" can end the block early; JSON allows "\u003c" for '<'.
    let json = json.replace('<', "\\u003c");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>detsim trace seed {seed}</title>\n<style>{STYLE}</style>\n\
         <script>{ERROR_HOOK}</script></head>\n<body>\n{BODY}\
         <script type=\"application/json\" id=\"detsim-data\">{json}</script>\n\
         <script>{SCRIPT}</script>\n</body></html>\n",
        seed = trace.seed,
    )
}

/// The page's skeleton; the script fills it in.
const BODY: &str = r#"<header id="tl-head">
<div class="row"><b id="tl-title">detsim trace</b>
<span class="tools">
<button id="tl-zoom-out" title="zoom out (-)">&minus;</button><button id="tl-zoom-in" title="zoom in (+)">+</button><button id="tl-fit" title="show everything (0)">fit</button>
<button id="tl-goto-failure" title="go to the failure (f)">failure</button>
<button id="tl-axis" title="x axis: virtual time or scheduling steps (s)">axis: time</button>
<label><input type="checkbox" id="tl-wakes" checked> wake arrows</label>
<label><input type="checkbox" id="tl-msgs" checked> messages</label>
<span id="tl-range"></span></span></div>
<div id="tl-failure" hidden></div>
<div id="tl-note" hidden></div>
<div id="tl-legend"></div>
</header>
<div id="tl-canvas-box"><canvas id="tl-canvas"></canvas><div id="tl-tip" hidden></div></div>
<div id="tl-bottom"><div class="row"><b>events</b> <input id="tl-find" placeholder="find (Enter: next)" size="30"> <span id="tl-sel"></span>
<span class="help">wheel: zoom · drag: pan · shift+wheel: scroll lanes · click a bar: show its event</span></div>
<div id="tl-list"><div id="tl-list-space"></div></div></div>
<pre id="tl-errors" hidden></pre>
<div id="tl-status" hidden></div>
"#;
