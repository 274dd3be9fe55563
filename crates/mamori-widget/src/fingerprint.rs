//! Device fingerprint collection: each signal of [`mamori_core::fingerprint::SCHEMA`] read as
//! the canonical string its schema entry documents, for the device step to hash with
//! [`mamori_core::fingerprint::hash_component`], so the verifier scores exactly what was
//! collected here. The browser's own readings are `signals.js`; the browser family, the
//! `user_agent` brand, hashing and the wire form are here.
//!
//! The ids are written out here rather than looked up in `SCHEMA`, whose documentation strings
//! would otherwise ship in the widget; the browser tests check that every id is in the schema.
//!
//! Every reading fails soft: a missing API, a throwing getter or a blocked canvas leaves that
//! component absent, which the verifier counts as one mismatch rather than an error. The
//! readings are synchronous JavaScript calls and cannot be interrupted, so the time bound is a
//! deadline on the main thread's time checked between them, with the costly ones (canvas,
//! WebGL) last: on a device slow enough to reach it, the rest is left absent and the purchase
//! goes on.
//!
//! The device step takes its fingerprint from [`page`]: collected once per page in the
//! browser's idle time, the costly graphics readings in a Worker (see [`crate::graphics`]) and
//! on the main thread only where no Worker runs, so the page never stalls on it in one long
//! task.

use std::cell::OnceCell;

use js_sys::Promise;
use mamori_core::fingerprint::Browser;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::graphics;
use crate::js;

/// Collection starts no further reading once it has spent this many milliseconds.
const DEADLINE_MS: f64 = 150.0;

/// The ids of the plain signals `signals.js` reads, which it names in its answer.
const PLAIN: &[&str] = &[
    "avail_screen",
    "screen",
    "color_depth",
    "color_gamut",
    "color_scheme",
    "device_memory",
    "dpr",
    "dynamic_range",
    "forced_colors",
    "hardware_concurrency",
    "languages",
    "math",
    "platform",
    "pointer",
    "reduced_motion",
    "timezone",
    "touch_points",
];

#[wasm_bindgen(module = "/src/signals.js")]
extern "C" {
    /// `[[id, value], …]` of the plain signals; `value` undefined where there is none.
    #[wasm_bindgen(js_name = plain)]
    fn read_plain() -> js_sys::Array;
    #[wasm_bindgen(js_name = timeZone)]
    fn read_time_zone() -> Option<String>;
    #[wasm_bindgen(js_name = idle)]
    fn idle_promise(timeout: u32) -> Promise;
}

/// The signals read in one browser: the family, and `(component id, canonical value)` for each
/// signal it offered (in reading order: the verifier reads them into a map).
pub(crate) struct Collected {
    pub(crate) browser: Browser,
    pub(crate) values: Vec<(&'static str, String)>,
}

/// Reads every signal of the schema that this browser offers on the main thread, all at once
/// and without the deadline (a loaded test machine would otherwise leave the graphics out of
/// some runs): what the browser tests check the readings with, one collection at a time.
#[cfg(test)]
#[cfg(target_arch = "wasm32")]
pub(crate) fn collect() -> Collected {
    let mut reading = Reading::begin();
    reading.spent = None;
    for step in [Step::Plain, Step::Canvas, Step::Webgl] {
        reading.step(step);
    }
    reading.collected
}

/// Reads every signal as [`page`] does, the graphics in a Worker, without the deadline and
/// without waiting for idle time; with whether the Worker read the canvas and WebGL (neither
/// where it could not run).
#[cfg(test)]
#[cfg(target_arch = "wasm32")]
pub(crate) async fn collect_off_thread() -> (Collected, (bool, bool)) {
    let mut reading = Reading::begin();
    reading.spent = None;
    reading.step(Step::Plain);
    let answer = JsFuture::from(graphics::off_thread(WORKER_TIMEOUT_MS)).await;
    reading.worker = answer.unwrap_or_default();
    reading.step(Step::WorkerAnswer);
    let from_worker = reading.off_thread;
    for step in [Step::Canvas, Step::Webgl] {
        if reading.needs(step) {
            reading.step(step);
        }
    }
    (reading.collected, from_worker)
}

/// The fingerprint of this page in its wire form, `{v, browser, components}` with every value
/// hashed: a promise of it, the same one for every device step in the page.
///
/// The first call starts the collection in the browser's idle time: the graphics in a Worker,
/// the other signals meanwhile on the main thread, in steps that never hold up the page in one
/// long task, while the device step waits for IndexedDB; later calls (a second `mount`) answer
/// the promise of the first. The signals cannot change meanwhile in a way worth a second
/// collection.
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

/// The main thread's parts of a collection, each timed and measured on its own.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Everything but the graphics: screen, media queries, navigator, `Math`, `Intl`.
    Plain,
    /// Making the Worker that reads the graphics (its promise is kept in the reading).
    StartWorker,
    /// Taking the Worker's answer, kept in the reading (`undefined` where none came).
    WorkerAnswer,
    /// The canvas drawn and read on the main thread, if the Worker did not read it.
    Canvas,
    /// The WebGL strings read on the main thread, if the Worker did not read them.
    Webgl,
}

/// How long the Worker may take to answer, in milliseconds, before the main thread reads the
/// graphics itself: ample for starting a thread and a software WebGL context on a slow device,
/// short enough that a Worker that never answers delays the device step only this much.
const WORKER_TIMEOUT_MS: u32 = 1_000;

/// A collection in progress: what it has read, and the main-thread time it has spent.
struct Reading {
    user_agent: String,
    performance: JsValue,
    collected: Collected,
    /// Milliseconds spent reading so far, by `performance.now()`; `None` without a clock.
    spent: Option<f64>,
    /// The promise of the Worker's answer once [`Step::StartWorker`] has run, then its answer.
    worker: JsValue,
    /// Whether the Worker read the canvas (a noisy one included, left out) and WebGL: the main
    /// thread does not read them again.
    off_thread: (bool, bool),
}

impl Reading {
    fn begin() -> Self {
        let window = js::global();
        let user_agent = js::string(&js::prop(&window, "navigator"), "userAgent");
        let user_agent = user_agent.unwrap_or_default();
        Self {
            performance: js::prop(&window, "performance"),
            collected: Collected {
                browser: Browser::from_user_agent(&user_agent),
                values: Vec::with_capacity(24),
            },
            user_agent,
            spent: Some(0.0),
            worker: JsValue::UNDEFINED,
            off_thread: (false, false),
        }
    }

    fn now(&self) -> Option<f64> {
        js::call(&self.performance, "now", &[])
            .ok()
            .and_then(|now| now.as_f64())
    }

    /// Whether `step` still has something to read: the main thread's graphics readings are
    /// skipped where the Worker read that signal.
    fn needs(&self, step: Step) -> bool {
        match step {
            Step::Canvas => !self.off_thread.0,
            Step::Webgl => !self.off_thread.1,
            Step::Plain | Step::StartWorker | Step::WorkerAnswer => true,
        }
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
        match step {
            Step::Plain => {
                for entry in read_plain().iter() {
                    let id = js::prop(&entry, "0").as_string();
                    let id = PLAIN.iter().find(|known| Some(**known) == id.as_deref());
                    if let Some(id) = id {
                        put(values, id, js::prop(&entry, "1").as_string());
                    }
                }
                let brand = brand(&self.user_agent, self.collected.browser);
                put(values, "user_agent", brand);
            }
            Step::StartWorker => self.worker = graphics::off_thread(WORKER_TIMEOUT_MS).into(),
            Step::WorkerAnswer => {
                let (canvas, webgl) = graphics::from_worker(&self.worker);
                self.off_thread = (canvas.is_some(), webgl.is_some());
                put(values, "canvas", canvas.flatten());
                put_webgl(values, webgl);
            }
            Step::Canvas => put(values, "canvas", graphics::canvas_hash()),
            Step::Webgl => put_webgl(values, graphics::webgl()),
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

/// Adds `(id, value)` to the readings where there is a value.
fn put(values: &mut Vec<(&'static str, String)>, id: &'static str, value: Option<String>) {
    if let Some(value) = value {
        values.push((id, value));
    }
}

/// Adds the WebGL vendor and renderer to the readings where they were read.
fn put_webgl(values: &mut Vec<(&'static str, String)>, webgl: Option<(String, String)>) {
    let (vendor, renderer) = webgl.map_or((None, None), |(v, r)| (Some(v), Some(r)));
    put(values, "webgl_vendor", vendor);
    put(values, "webgl_renderer", renderer);
}

/// The collection in idle time, then hashed into the wire form: the Worker started and the
/// plain signals read in one idle period; once the Worker has answered, its answer hashed, and
/// whatever it did not read (everything where no Worker runs) read on the main thread, the
/// costly readings last and each in its own step. A step runs in the idle period the previous
/// one ran in while at least [`IDLE_LEFT_MS`] of it remain, and otherwise waits for the next
/// one: a quiet page is fingerprinted in one idle period, a busy one or a browser without idle
/// callbacks one step per task.
async fn collect_when_idle() -> Result<JsValue, JsValue> {
    let mut reading = Reading::begin();
    // The `IdleDeadline` of the period the last step ran in (`undefined` after a plain task).
    let mut period = idle().await.unwrap_or_default();
    reading.step(Step::StartWorker);
    reading.step(Step::Plain);
    if let Ok(worker) = std::mem::take(&mut reading.worker).dyn_into::<Promise>() {
        // The promise resolves, to `undefined` where no Worker answered.
        reading.worker = JsFuture::from(worker).await.unwrap_or_default();
        period = JsValue::UNDEFINED;
        reading.step(Step::WorkerAnswer);
    }
    for step in [Step::Canvas, Step::Webgl] {
        if !reading.needs(step) {
            continue;
        }
        let left = js::call(&period, "timeRemaining", &[]).ok();
        if left.and_then(|left| left.as_f64()).unwrap_or(0.0) < IDLE_LEFT_MS {
            // An idle callback cannot fail.
            period = idle().await.unwrap_or_default();
        }
        reading.step(step);
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

/// The idle time a further step needs, in milliseconds: more than the costliest step (a WebGL
/// context or the canvas drawing) takes in headless Chromium without a GPU.
const IDLE_LEFT_MS: f64 = 20.0;

/// A future that resolves to an `IdleDeadline` at the browser's next idle period, or to
/// `undefined` in the next task where there is no `requestIdleCallback` (Safari).
fn idle() -> JsFuture {
    JsFuture::from(idle_promise(IDLE_TIMEOUT_MS))
}

/// The IANA time zone the browser reports, e.g. `Asia/Tokyo`.
pub(crate) fn time_zone() -> Option<String> {
    read_time_zone()
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
