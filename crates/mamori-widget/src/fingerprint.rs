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
use web_sys::{Navigator, Window};

use crate::graphics;
use crate::js;

/// Collection stops starting new readings this many milliseconds after it began.
const DEADLINE_MS: f64 = 150.0;

/// The signals read in one browser: the family, and `(component id, canonical value)` for each
/// signal it offered (in reading order: the verifier reads them into a map).
pub(crate) struct Collected {
    pub(crate) browser: Browser,
    pub(crate) values: Vec<(&'static str, String)>,
}

/// Reads every signal of the schema that this browser offers, within the deadline.
pub(crate) fn collect() -> Collected {
    let mut values = Vec::with_capacity(24);
    let Some(window) = web_sys::window() else {
        return Collected {
            browser: Browser::Other,
            values,
        };
    };
    let navigator = window.navigator();
    let user_agent = navigator.user_agent().unwrap_or_default();
    let browser = Browser::from_user_agent(&user_agent);
    let performance = window.performance();
    let start = performance.as_ref().map_or(0.0, web_sys::Performance::now);
    let within_deadline = || {
        performance
            .as_ref()
            .is_none_or(|p| p.now() - start < DEADLINE_MS)
    };
    let mut put = |id: &'static str, value: Option<String>| {
        if let Some(value) = value {
            values.push((id, value));
        }
    };

    let screen = window.screen().ok();
    put(
        "avail_screen",
        screen
            .as_ref()
            .and_then(|s| size(s.avail_width().ok()?, s.avail_height().ok()?)),
    );
    put(
        "screen",
        screen
            .as_ref()
            .and_then(|s| size(s.width().ok()?, s.height().ok()?)),
    );
    put(
        "color_depth",
        screen
            .as_ref()
            .and_then(|s| s.color_depth().ok())
            .map(|depth| js::decimal(depth.into())),
    );
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
    put(
        "device_memory",
        js::number(&navigator, "deviceMemory").map(js::decimal),
    );
    // Rounded to hundredths and written as JavaScript writes numbers: `1.25`, `1.5`, `2`.
    put(
        "dpr",
        Some(js::decimal(
            (window.device_pixel_ratio() * 100.0).round() / 100.0,
        )),
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
        Some(js::decimal(navigator.hardware_concurrency())),
    );
    put("languages", languages(&navigator));
    put("math", Some(math()));
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
    put(
        "touch_points",
        Some(js::decimal(navigator.max_touch_points().into())),
    );
    put("user_agent", brand(&user_agent, browser));
    if within_deadline() {
        put("canvas", graphics::canvas_hash(&window, &within_deadline));
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
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js::string(&format.resolved_options(), "timeZone").filter(|zone| !zone.is_empty())
}

/// `larger x smaller`, so that rotating the device does not change the value.
fn size(a: i32, b: i32) -> Option<String> {
    (a > 0 && b > 0).then(|| {
        let (larger, smaller) = (a.max(b), a.min(b));
        [
            crate::texts::digits(larger as u32),
            "x".into(),
            crate::texts::digits(smaller as u32),
        ]
        .concat()
    })
}

fn matches(window: &Window, query: &str) -> bool {
    window
        .match_media(query)
        .ok()
        .flatten()
        .is_some_and(|list| list.matches())
}

fn pick(window: &Window, query: &str, yes: &str, no: &str) -> String {
    if matches(window, query) { yes } else { no }.into()
}

fn color_gamut(window: &Window) -> &'static str {
    ["rec2020", "p3", "srgb"]
        .into_iter()
        .find(|gamut| matches(window, &["(color-gamut: ", gamut, ")"].concat()))
        .unwrap_or("none")
}

fn pointer(window: &Window) -> String {
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

fn languages(navigator: &Navigator) -> Option<String> {
    let list: String = navigator.languages().join(",").into();
    (!list.is_empty()).then_some(list)
}

/// `navigator.userAgentData.platform` where there is one (Chromium), else `navigator.platform`.
fn platform(navigator: &Navigator) -> Option<String> {
    js::string(&js::prop(navigator, "userAgentData"), "platform")
        .filter(|p| !p.is_empty())
        .or_else(|| navigator.platform().ok())
        .filter(|p| !p.is_empty())
}

/// Functions whose last bits differ between JavaScript engines and their math libraries.
fn math() -> String {
    use js_sys::Math;
    let results = [
        Math::acos(0.123_124_234_234_234_24),
        Math::acosh(1e308),
        Math::asin(0.123_124_234_234_234_24),
        Math::asinh(1.0),
        Math::atan(0.5),
        Math::atanh(0.5),
        Math::cbrt(100.0),
        Math::cos(10.000_000_000_123),
        Math::cosh(1.0),
        Math::exp(1.0),
        Math::expm1(1.0),
        Math::log1p(10.0),
        Math::sin(-1e300),
        Math::sinh(1.0),
        Math::tan(-1e300),
        Math::tanh(1.0),
    ];
    let texts: Vec<String> = results.into_iter().map(js::decimal).collect();
    texts.join(",")
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
    fn sizes_ignore_rotation() {
        assert_eq!(size(1080, 1920).as_deref(), Some("1920x1080"));
        assert_eq!(size(1920, 1080).as_deref(), Some("1920x1080"));
        assert_eq!(size(0, 1080), None);
    }

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
