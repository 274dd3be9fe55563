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

use mamori_core::fingerprint::Browser;
use wasm_bindgen::JsValue;

use crate::graphics;
use crate::js;

/// Collection stops starting new readings this many milliseconds after it began.
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

/// Reads every signal of the schema that this browser offers, within the deadline.
pub(crate) fn collect() -> Collected {
    let window = js::global();
    let navigator = js::prop(&window, "navigator");
    let user_agent = js::string(&navigator, "userAgent").unwrap_or_default();
    let browser = Browser::from_user_agent(&user_agent);
    let performance = js::prop(&window, "performance");
    let clock = || {
        js::call(&performance, "now", &[])
            .ok()
            .and_then(|now| now.as_f64())
    };
    let start = clock();
    let within_deadline = || match (start, clock()) {
        (Some(start), Some(now)) => now - start < DEADLINE_MS,
        _ => true,
    };
    let mut values = Vec::with_capacity(24);
    let mut put = |id: &'static str, value: Option<String>| {
        if let Some(value) = value {
            values.push((id, value));
        }
    };
    let whole = |object: &JsValue, name: &str| js::number(object, name).map(js::decimal);

    let screen = js::prop(&window, "screen");
    put("avail_screen", size(&screen, "availWidth", "availHeight"));
    put("screen", size(&screen, "width", "height"));
    put("color_depth", whole(&screen, "colorDepth"));
    put("color_gamut", Some(color_gamut(&window).into()));
    put(
        "color_scheme",
        Some(pick(
            &window,
            "(prefers-color-scheme: dark)",
            "dark",
            "light",
        )),
    );
    put("device_memory", whole(&navigator, "deviceMemory"));
    // Rounded to hundredths and written as JavaScript writes numbers: `1.25`, `1.5`, `2`.
    put(
        "dpr",
        js::number(&window, "devicePixelRatio")
            .map(|dpr| js::decimal((dpr * 100.0).round() / 100.0)),
    );
    put(
        "dynamic_range",
        Some(pick(&window, "(dynamic-range: high)", "high", "standard")),
    );
    put(
        "forced_colors",
        Some(pick(&window, "(forced-colors: active)", "active", "none")),
    );
    put(
        "hardware_concurrency",
        whole(&navigator, "hardwareConcurrency"),
    );
    put("languages", languages(&navigator));
    put("math", math(&window));
    put("platform", platform(&navigator));
    put("pointer", Some(pointer(&window)));
    put(
        "reduced_motion",
        Some(pick(
            &window,
            "(prefers-reduced-motion: reduce)",
            "reduce",
            "no-preference",
        )),
    );
    put("timezone", time_zone());
    put("touch_points", whole(&navigator, "maxTouchPoints"));
    put("user_agent", brand(&user_agent, browser));
    if within_deadline() {
        put("canvas", graphics::canvas_hash(&window));
    }
    if within_deadline() {
        let webgl = graphics::webgl(&window);
        let (vendor, renderer) = webgl.map_or((None, None), |(v, r)| (Some(v), Some(r)));
        put("webgl_vendor", vendor);
        put("webgl_renderer", renderer);
    }
    Collected { browser, values }
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
