//! Device fingerprint collection: each signal of [`mamori_core::fingerprint::SCHEMA`] read
//! through web-sys as the canonical string its schema entry documents, for the device step to
//! hash with [`mamori_core::fingerprint::hash_component`], so the verifier scores exactly what
//! was collected here.
//!
//! The ids are written out here rather than looked up in `SCHEMA`, whose documentation strings
//! would otherwise ship in the widget; the browser tests check that every id is in the schema.
//!
//! Every reading fails soft: a missing API, a throwing getter or a blocked canvas leaves that
//! component absent, which the verifier counts as one mismatch rather than an error. The
//! readings are synchronous JavaScript calls and cannot be interrupted, so the time bound is a
//! deadline checked between them, with the costly ones (canvas, WebGL) last: on a device slow
//! enough to reach it, the rest is left absent and the purchase goes on.
//!
//! The device step takes its fingerprint from [`page`]: collected once per page, in three
//! steps run in the browser's idle time, so the page never stalls on it in one long task.

use std::cell::OnceCell;

use js_sys::Promise;
use mamori_core::fingerprint::Browser;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::graphics;
use crate::js;

/// Collection starts no further reading once it has spent this many milliseconds.
const DEADLINE_MS: f64 = 150.0;

/// The `Math` functions of the `math` signal and their arguments: results whose last bits
/// differ between JavaScript engines and the math libraries under them.
const MATH: &[(&str, f64)] = &[
    ("acos", 0.123_124_234_234_234_24),
    ("acosh", 1e308),
    ("asin", 0.123_124_234_234_234_24),
    ("asinh", 1.0),
    ("atan", 0.5),
    ("atanh", 0.5),
    ("cbrt", 100.0),
    ("cos", 10.000_000_000_123),
    ("cosh", 1.0),
    ("exp", 1.0),
    ("expm1", 1.0),
    ("log1p", 10.0),
    ("sin", -1e300),
    ("sinh", 1.0),
    ("tan", -1e300),
    ("tanh", 1.0),
];

/// The signals read in one browser: the family, and `(component id, canonical value)` for each
/// signal it offered (in reading order: the verifier reads them into a map).
pub(crate) struct Collected {
    pub(crate) browser: Browser,
    pub(crate) values: Vec<(&'static str, String)>,
}

/// Reads every signal of the schema that this browser offers, within the deadline, all at once:
/// what the browser tests check the readings with, one collection at a time.
#[cfg(test)]
#[cfg(target_arch = "wasm32")]
pub(crate) fn collect() -> Collected {
    let mut reading = Reading::begin();
    for step in STEPS {
        reading.step(*step);
    }
    reading.collected
}

/// The fingerprint of this page in its wire form, `{v, browser, components}` with every value
/// hashed: a promise of it, the same one for every device step in the page.
///
/// The first call starts the collection in the browser's idle time, one step per idle
/// callback, so that no reading holds up the page in one long task and the readings run while
/// the device step waits for IndexedDB; later calls (a second `mount`) answer the promise of the
/// first. The signals cannot change meanwhile in a way worth a second collection.
pub(crate) fn page() -> Promise {
    PAGE.with(|page| {
        page.get_or_init(|| future_to_promise(collect_when_idle()))
            .clone()
    })
}

thread_local! {
    /// [`page`]'s promise, made on the first call.
    static PAGE: OnceCell<Promise> = const { OnceCell::new() };
}

/// The readings, in the order they run: the costly ones (canvas, WebGL) last, each alone in
/// its step, so that a deadline reached leaves only them out.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Everything but the graphics: screen, media queries, navigator, `Math`, `Intl`.
    Plain,
    Canvas,
    Webgl,
}

const STEPS: &[Step] = &[Step::Plain, Step::Canvas, Step::Webgl];

/// A collection in progress: what it has read, and the main-thread time it has spent.
struct Reading {
    window: JsValue,
    user_agent: String,
    performance: JsValue,
    collected: Collected,
    /// Milliseconds spent reading so far, by `performance.now()`; `None` without a clock.
    spent: Option<f64>,
}

impl Reading {
    fn begin() -> Self {
        let window = js::global();
        let user_agent = js::string(&js::prop(&window, "navigator"), "userAgent");
        let user_agent = user_agent.unwrap_or_default();
        Self {
            performance: js::prop(&window, "performance"),
            window,
            collected: Collected {
                browser: Browser::from_user_agent(&user_agent),
                values: Vec::with_capacity(24),
            },
            user_agent,
            spent: Some(0.0),
        }
    }

    fn now(&self) -> Option<f64> {
        js::call(&self.performance, "now", &[])
            .ok()
            .and_then(|now| now.as_f64())
    }

    /// Runs `step` unless the time spent has reached the deadline, and counts its time; each
    /// step is marked as a `mamori:fingerprint` user-timing measure, where a page or a
    /// benchmark can see what the fingerprint cost its main thread.
    fn step(&mut self, step: Step) {
        if self.spent.is_some_and(|spent| spent >= DEADLINE_MS) {
            return;
        }
        let start = self.now();
        let values = &mut self.collected.values;
        let mut put = |id: &'static str, value: Option<String>| {
            if let Some(value) = value {
                values.push((id, value));
            }
        };
        match step {
            Step::Plain => plain(
                &self.window,
                &self.user_agent,
                self.collected.browser,
                &mut put,
            ),
            Step::Canvas => put("canvas", graphics::canvas_hash(&self.window)),
            Step::Webgl => {
                let webgl = graphics::webgl(&self.window);
                let (vendor, renderer) = webgl.map_or((None, None), |(v, r)| (Some(v), Some(r)));
                put("webgl_vendor", vendor);
                put("webgl_renderer", renderer);
            }
        }
        let end = self.now();
        self.spent = match (self.spent, start, end) {
            (Some(spent), Some(start), Some(end)) => {
                let _ = js::call(
                    &self.performance,
                    "measure",
                    &[
                        "mamori:fingerprint".into(),
                        js::object([("start", start.into()), ("end", end.into())]),
                    ],
                );
                Some(spent + end - start)
            }
            _ => None,
        };
    }
}

/// [`collect`], one step per idle callback, then hashed into the wire form.
async fn collect_when_idle() -> Result<JsValue, JsValue> {
    let mut reading = Reading::begin();
    for step in STEPS {
        // An idle callback cannot fail; the result says only that the wait is over.
        let _ = idle().await;
        reading.step(*step);
    }
    Ok(wire(&reading.collected))
}

/// `{v, browser, components}`: each value hashed with
/// [`mamori_core::fingerprint::hash_component`], as the device step sends it.
pub(crate) fn wire(collected: &Collected) -> JsValue {
    let components: JsValue = js_sys::Object::new().into();
    for (id, value) in &collected.values {
        let hash = mamori_core::fingerprint::hash_component(id, value);
        js::set(&components, id, &hash.to_hex().into());
    }
    let browser = match collected.browser {
        Browser::Chromium => "chromium",
        Browser::Firefox => "firefox",
        Browser::Safari => "safari",
        Browser::Other => "other",
    };
    js::object([
        ("v", mamori_core::fingerprint::VERSION.into()),
        ("browser", browser.into()),
        ("components", components),
    ])
}

/// The longest wait for an idle moment, in milliseconds: a page that is never idle still gets
/// its fingerprint, one step per task, this much later.
const IDLE_TIMEOUT_MS: u32 = 100;

/// A future that resolves at the browser's next idle moment (`requestIdleCallback`), or in the
/// next task where there is no such call (Safari).
fn idle() -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve, _| {
        let window = js::global();
        let waiting = js::call(
            &window,
            "requestIdleCallback",
            &[
                resolve.clone().into(),
                js::object([("timeout", IDLE_TIMEOUT_MS.into())]),
            ],
        );
        if waiting.is_err() {
            let _ = js::call(&window, "setTimeout", &[resolve.into(), 0.into()]);
        }
    }))
}

/// The plain signals (every one but the graphics), each given to `put` with its id.
fn plain(
    window: &JsValue,
    user_agent: &str,
    browser: Browser,
    put: &mut impl FnMut(&'static str, Option<String>),
) {
    let navigator = js::prop(window, "navigator");
    let whole = |object: &JsValue, name: &str| js::number(object, name).map(js::decimal);

    let screen = js::prop(window, "screen");
    put("avail_screen", size(&screen, "availWidth", "availHeight"));
    put("screen", size(&screen, "width", "height"));
    put("color_depth", whole(&screen, "colorDepth"));
    put("color_gamut", Some(color_gamut(window).into()));
    put(
        "color_scheme",
        Some(pick(
            window,
            "(prefers-color-scheme: dark)",
            "dark",
            "light",
        )),
    );
    put("device_memory", whole(&navigator, "deviceMemory"));
    // Rounded to hundredths and written as JavaScript writes numbers: `1.25`, `1.5`, `2`.
    put(
        "dpr",
        js::number(window, "devicePixelRatio")
            .map(|dpr| js::decimal((dpr * 100.0).round() / 100.0)),
    );
    put(
        "dynamic_range",
        Some(pick(window, "(dynamic-range: high)", "high", "standard")),
    );
    put(
        "forced_colors",
        Some(pick(window, "(forced-colors: active)", "active", "none")),
    );
    put(
        "hardware_concurrency",
        whole(&navigator, "hardwareConcurrency"),
    );
    put("languages", languages(&navigator));
    put("math", math(window));
    put("platform", platform(&navigator));
    put("pointer", Some(pointer(window)));
    put(
        "reduced_motion",
        Some(pick(
            window,
            "(prefers-reduced-motion: reduce)",
            "reduce",
            "no-preference",
        )),
    );
    put("timezone", time_zone());
    put("touch_points", whole(&navigator, "maxTouchPoints"));
    put("user_agent", brand(user_agent, browser));
}

/// The IANA time zone the browser reports, e.g. `Asia/Tokyo`.
pub(crate) fn time_zone() -> Option<String> {
    // `Intl.DateTimeFormat()` called without `new` constructs all the same.
    let intl = js::prop(&js::global(), "Intl");
    let format = js::call(&intl, "DateTimeFormat", &[]).ok()?;
    let options = js::call(&format, "resolvedOptions", &[]).ok()?;
    js::string(&options, "timeZone").filter(|zone| !zone.is_empty())
}

/// Two of `screen`'s dimensions as `larger x smaller`, so rotating the device does not change
/// the value.
fn size(screen: &JsValue, width: &str, height: &str) -> Option<String> {
    let a = js::count(screen, width).filter(|n| *n > 0)?;
    let b = js::count(screen, height).filter(|n| *n > 0)?;
    let digits = crate::texts::digits;
    Some([digits(a.max(b)), "x".into(), digits(a.min(b))].concat())
}

fn matches(window: &JsValue, query: &str) -> bool {
    js::call(window, "matchMedia", &[query.into()])
        .is_ok_and(|list| js::prop(&list, "matches").is_truthy())
}

fn pick(window: &JsValue, query: &str, yes: &str, no: &str) -> String {
    if matches(window, query) { yes } else { no }.into()
}

fn color_gamut(window: &JsValue) -> &'static str {
    ["rec2020", "p3", "srgb"]
        .into_iter()
        .find(|gamut| matches(window, &["(color-gamut: ", gamut, ")"].concat()))
        .unwrap_or("none")
}

fn pointer(window: &JsValue) -> String {
    let pointer = ["fine", "coarse"]
        .into_iter()
        .find(|kind| matches(window, &["(pointer: ", kind, ")"].concat()))
        .unwrap_or("none");
    let hover = if matches(window, "(hover: hover)") {
        ",hover"
    } else {
        ",none"
    };
    [pointer, hover].concat()
}

fn languages(navigator: &JsValue) -> Option<String> {
    let list = js::call(&js::prop(navigator, "languages"), "join", &[",".into()]).ok()?;
    list.as_string().filter(|list| !list.is_empty())
}

/// `navigator.userAgentData.platform` where there is one (Chromium), else `navigator.platform`.
fn platform(navigator: &JsValue) -> Option<String> {
    js::string(&js::prop(navigator, "userAgentData"), "platform")
        .filter(|p| !p.is_empty())
        .or_else(|| js::string(navigator, "platform"))
        .filter(|p| !p.is_empty())
}

/// The results of [`MATH`], each as JavaScript writes it.
fn math(window: &JsValue) -> Option<String> {
    let math = js::prop(window, "Math");
    let results = MATH
        .iter()
        .map(|(name, argument)| {
            let result = js::call(&math, name, &[(*argument).into()]).ok()?;
            result.as_f64().map(js::decimal)
        })
        .collect::<Option<Vec<String>>>()?;
    Some(results.join(","))
}

/// `Family/major`, e.g. `Chromium/156`, from the `User-Agent` string.
fn brand(user_agent: &str, browser: Browser) -> Option<String> {
    let (name, marker) = match browser {
        Browser::Chromium => ("Chromium/", "Chrome/"),
        Browser::Firefox => ("Firefox/", "Firefox/"),
        Browser::Safari => ("Safari/", "Version/"),
        Browser::Other => return None,
    };
    let major = user_agent
        .split(marker)
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .filter(|digits| !digits.is_empty())?;
    Some([name, major].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brands_are_family_and_major_version() {
        let headless = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                        HeadlessChrome/156.0.0.0 Safari/537.36";
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        let cases = [
            (headless, "Chromium/156"),
            (firefox, "Firefox/140"),
            (safari, "Safari/18"),
        ];
        for (user_agent, expected) in cases {
            let browser = Browser::from_user_agent(user_agent);
            assert_eq!(brand(user_agent, browser).as_deref(), Some(expected));
        }
        assert_eq!(brand("curl/8.0", Browser::Other), None);
    }
}
