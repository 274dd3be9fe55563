//! Browser tests (wasm-bindgen-test in headless Chromium): the fingerprint, and the whole
//! challenge flow driven through a scripted [`Transport`], so no server is needed. The real
//! `fetch` path is covered by the end-to-end suites against a running verifier, and here only
//! where nothing answers it (a closed port). Waits between tries are zero here, so tests of the
//! network's failures wait for events, never for the clock; and the widget's countdowns read a
//! clock each test sets ([`Mounted::advance`]), starting at [`T0`].
//!
//! [`golden`]: the verifier's golden answers, read by the widget's parser.

mod device_key;
mod golden;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlButtonElement, HtmlElement, HtmlInputElement};

use crate::api::Timing;
use crate::device;
use crate::fingerprint;
use crate::guard::Listener;
use crate::options::{Mode, Options};
use crate::transport::{Fetch, NetworkError, Pending, Reply, Transport};
use crate::widget::{Clock, Widget};

wasm_bindgen_test_configure!(run_in_browser);

/// Where every test's clock starts, in milliseconds since the epoch: the challenges the
/// scripts answer are timed from it.
const T0: f64 = 1_800_000_000_000.0;

/// No wait between tries, and a time limit no scripted exchange comes near.
const PROMPT: Timing = Timing {
    timeout_ms: 10_000.0,
    backoff_ms: [0.0; 3],
};

/// Replies given in order, and every request kept; `hold` keeps replies back until `release`.
#[derive(Default)]
struct Script {
    replies: RefCell<VecDeque<Result<Reply, NetworkError>>>,
    sent: RefCell<Vec<(String, String)>>,
    hold: Cell<bool>,
    waiting: RefCell<Vec<js_sys::Function>>,
}

impl Script {
    fn reply(&self, status: u16, json: &str) {
        let body = js_sys::JSON::parse(json).expect("test JSON parses");
        self.replies
            .borrow_mut()
            .push_back(Ok(Reply { status, body }));
    }

    fn fail(&self) {
        self.replies.borrow_mut().push_back(Err(NetworkError));
    }

    fn release(&self) {
        self.hold.set(false);
        for resolve in self.waiting.borrow_mut().drain(..) {
            resolve.call0(&JsValue::NULL).expect("resolve is callable");
        }
    }

    fn paths(&self) -> Vec<String> {
        self.sent.borrow().iter().map(|(p, _)| p.clone()).collect()
    }

    fn last_body(&self) -> String {
        self.body(self.sent.borrow().len() - 1)
    }

    /// The body of the `index`th request.
    fn body(&self, index: usize) -> String {
        self.sent.borrow()[index].1.clone()
    }

    /// `name` in the last request's body.
    fn last_field(&self, name: &str) -> JsValue {
        field(&self.last_body(), name)
    }
}

/// `name` in the JSON object `body`.
fn field(body: &str, name: &str) -> JsValue {
    let body = js_sys::JSON::parse(body).expect("bodies are JSON");
    js_sys::Reflect::get(&body, &name.into()).expect("bodies are objects")
}

struct Scripted(Rc<Script>);

impl Transport for Scripted {
    fn post(&self, path: &str, body: String) -> Pending {
        let script = Rc::clone(&self.0);
        script.sent.borrow_mut().push((path.to_owned(), body));
        let reply = script
            .replies
            .borrow_mut()
            .pop_front()
            .unwrap_or(Err(NetworkError));
        let gate = script
            .hold
            .get()
            .then(|| Promise::new(&mut |resolve, _| script.waiting.borrow_mut().push(resolve)));
        Box::pin(async move {
            if let Some(gate) = gate {
                let _ = JsFuture::from(gate).await;
            }
            reply
        })
    }

    fn abort(&self) {}
}

/// A mounted widget under test, with the events it raised.
struct Mounted {
    host: Element,
    widget: Rc<Widget>,
    /// The widget's clock.
    now: Rc<Cell<f64>>,
    script: Rc<Script>,
    events: Rc<RefCell<Vec<(String, JsValue)>>>,
    _listeners: Vec<Listener>,
}

impl Mounted {
    /// Moves the widget's clock on by `millis` and redraws, as its next tick would.
    fn advance(&self, millis: f64) {
        self.now.set(self.now.get() + millis);
        self.widget.refresh();
    }

    fn find(&self, name: &str) -> HtmlElement {
        self.host
            .query_selector("[data-mamori=root]")
            .expect("valid selector")
            .expect("root is mounted")
            .shadow_root()
            .expect("open shadow root")
            .query_selector(&format!("[data-mamori={name}]"))
            .expect("valid selector")
            .unwrap_or_else(|| panic!("no [data-mamori={name}]"))
            .unchecked_into()
    }

    fn input(&self) -> HtmlInputElement {
        self.find("code").unchecked_into()
    }

    fn button(&self, name: &str) -> HtmlButtonElement {
        self.find(name).unchecked_into()
    }

    fn text(&self, name: &str) -> String {
        self.find(name).text_content().unwrap_or_default()
    }

    fn event_names(&self) -> Vec<String> {
        self.events
            .borrow()
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn detail(&self, name: &str, field: &str) -> JsValue {
        let events = self.events.borrow();
        let (_, detail) = events
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name} event"));
        js_sys::Reflect::get(detail, &field.into()).expect("detail is an object")
    }

    fn count(&self, name: &str) -> usize {
        self.event_names().iter().filter(|n| *n == name).count()
    }

    /// Types `code` and submits it, and waits until it is sent (the device key is made first);
    /// fails if it never is.
    async fn enter(&self, code: &str) {
        let before = self.script.paths().len();
        self.enter_unsent(code).await;
        self.sent_more_than(before).await;
    }

    /// Types `code` and submits it, for an entry the widget must not send: nothing waits for
    /// a request, the caller checks there was none.
    async fn enter_unsent(&self, code: &str) {
        self.input().set_value(code);
        self.button("submit").click();
        settle().await;
    }

    /// Waits until more than `count` requests were sent; the limit is only there to fail
    /// instead of hanging.
    async fn sent_more_than(&self, count: usize) {
        for _ in 0..500 {
            if self.script.paths().len() > count {
                settle().await;
                return;
            }
            sleep(20).await;
        }
        panic!(
            "no request after the first {count}: {:?}",
            self.script.paths()
        );
    }

    /// Waits until `name` was raised; the limit is only there to fail instead of hanging.
    async fn until(&self, name: &str) {
        for _ in 0..500 {
            if self.count(name) > 0 {
                return;
            }
            sleep(20).await;
        }
        panic!("no {name} event; got {:?}", self.event_names());
    }
}

fn options(lang: Option<&str>, mode: Mode) -> Options {
    Options {
        verifier: "https://verifier.test".into(),
        authentication: "au_test".into(),
        client_secret: "cs_test".into(),
        lang: lang.map(str::to_owned),
        mode,
        theme: vec![("--mamori-accent".into(), "#123456".into())],
    }
}

/// A challenge answer: the code expires and a resend opens these many seconds after [`T0`].
fn challenge_json(expires_in: f64, resend_in: f64) -> String {
    challenge_json_at(T0, expires_in, resend_in)
}

/// The same, timed from `now` (milliseconds since the epoch).
fn challenge_json_at(now: f64, expires_in: f64, resend_in: f64) -> String {
    let now = now / 1000.0;
    format!(
        r#"{{"outcome":"challenge","challenge":{{"masked_email":"t***@example.com","code_length":6,
            "expires_at":{},"attempts_left":5,"resends_left":3,"resend_available_at":{},
            "locale":"en"}}}}"#,
        now + expires_in,
        now + resend_in
    )
}

const AUTHENTICATED: &str =
    r#"{"outcome":"authenticated","status":"Y","result_token":"rt.y","device_token":"dt.new"}"#;

/// Mounts with the device step answered by `device` (status, JSON).
async fn mount(device: (u16, &str), lang: Option<&str>, mode: Mode) -> Mounted {
    let script = Rc::new(Script::default());
    script.reply(device.0, device.1);
    start(options(lang, mode), script, None, PROMPT).await
}

/// Mounts in English, inline, with `script`'s replies and `timing`.
async fn mount_scripted(script: Script, timing: Timing) -> Mounted {
    start(
        options(Some("en"), Mode::Inline),
        Rc::new(script),
        None,
        timing,
    )
    .await
}

/// Mounts with `options`, over `transport` if given and otherwise over `script`.
async fn start(
    options: Options,
    script: Rc<Script>,
    transport: Option<Box<dyn Transport>>,
    timing: Timing,
) -> Mounted {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let events: Rc<RefCell<Vec<(String, JsValue)>>> = Rc::default();
    let listeners = [
        "mamori:ready",
        "mamori:challenge",
        "mamori:resend",
        "mamori:result",
        "mamori:error",
        "mamori:expired",
        "mamori:cancel",
    ]
    .into_iter()
    .map(|name| {
        let events = Rc::clone(&events);
        Listener::new(&host, name, move |event| {
            let detail = event.unchecked_into::<web_sys::CustomEvent>().detail();
            events.borrow_mut().push((name.to_owned(), detail));
        })
    })
    .collect();
    let scripted = transport.is_none();
    let transport = transport.unwrap_or_else(|| Box::new(Scripted(Rc::clone(&script))));
    let now = Rc::new(Cell::new(T0));
    let clock = Clock::Manual(Rc::clone(&now));
    let widget = Widget::start(&host, &options, transport, timing, clock).expect("mounts");
    let mounted = Mounted {
        host,
        widget,
        now,
        script,
        events,
        _listeners: listeners,
    };
    // The device step reads the device key from IndexedDB before it sends (a real transport's
    // requests are not recorded: those tests wait for the widget's events instead).
    if scripted {
        mounted.sent_more_than(0).await;
    }
    mounted
}

async fn sleep(millis: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Lets spawned futures and the microtasks they queue run.
async fn settle() {
    sleep(20).await;
}

#[wasm_bindgen_test]
fn fingerprint_has_schema_components_and_is_stable() {
    let first = fingerprint::collect();
    let second = fingerprint::collect();
    let ids: Vec<&str> = first.values.iter().map(|(id, _)| *id).collect();
    for id in &ids {
        assert!(
            mamori_core::fingerprint::component(id).is_some(),
            "{id} is not in the schema"
        );
    }
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "an id was collected twice");
    // Headless Chromium offers every signal but, without a GPU, possibly WebGL.
    let optional = ["webgl_renderer", "webgl_vendor"];
    for component in mamori_core::fingerprint::SCHEMA {
        assert!(
            ids.contains(&component.id) || optional.contains(&component.id),
            "{} missing",
            component.id
        );
    }
    assert_eq!(first.browser, mamori_core::fingerprint::Browser::Chromium);
    assert_eq!(first.values, second.values, "two runs differ");
}

/// What a browser resisting fingerprinting does to read-backs: `getImageData` answers every
/// call with one pixel changed differently (on the `OffscreenCanvas` the main thread draws on, as
/// the Worker does). Sync code between `install` and `restore` cannot be interleaved with another
/// test.
const NOISY_CANVAS: &str = "(() => { const p = OffscreenCanvasRenderingContext2D.prototype; \
    p.mamoriRead = p.getImageData; let n = 0; \
    p.getImageData = function (...a) { const i = this.mamoriRead(...a); i.data[0] ^= ++n; \
    return i; }; })()";
const QUIET_CANVAS: &str = "(() => { const p = OffscreenCanvasRenderingContext2D.prototype; \
    p.getImageData = p.mamoriRead; delete p.mamoriRead; })()";

#[wasm_bindgen_test]
fn a_canvas_read_back_with_noise_is_left_out() {
    let steady = crate::graphics::canvas_hash();
    assert!(steady.is_some(), "two read-backs of one drawing differ");
    js_sys::eval(NOISY_CANVAS).unwrap();
    let noisy = crate::graphics::canvas_hash();
    js_sys::eval(QUIET_CANVAS).unwrap();
    assert_eq!(noisy, None, "a noisy canvas gave a value");
    assert_eq!(crate::graphics::canvas_hash(), steady);
}

/// The Worker's answer as a browser resisting fingerprinting would give it: read-backs that
/// differ, and WebGL strings.
const NOISY_ANSWER: &str = "({ canvas: 'noisy', webgl: ['Vendor', 'Renderer'] })";

#[wasm_bindgen_test]
fn a_worker_canvas_with_noise_is_left_out_and_not_read_again() {
    let (canvas, webgl) = crate::graphics::from_worker(&js_sys::eval(NOISY_ANSWER).unwrap());
    assert_eq!(
        canvas,
        Some(None),
        "a noisy canvas gave a value, or is read again"
    );
    assert_eq!(webgl, Some(("Vendor".into(), "Renderer".into())));
    let (canvas, webgl) = crate::graphics::from_worker(&JsValue::UNDEFINED);
    assert_eq!((canvas, webgl), (None, None), "no answer gave values");
    for malformed in [
        "'0f'",
        "'0F'.repeat(32)",
        "'0f'.repeat(31) + 'zz'",
        "[1, 2]",
    ] {
        let answer = js_sys::eval(&format!("({{ canvas: {malformed} }})")).unwrap();
        assert_eq!(
            crate::graphics::from_worker(&answer).0,
            None,
            "{malformed} was taken"
        );
    }
}

#[wasm_bindgen_test]
async fn the_worker_and_the_main_thread_read_the_same_values() {
    let on_main_thread = fingerprint::collect();
    let (off_thread, from_worker) = fingerprint::collect_off_thread().await;
    assert!(from_worker.0, "the Worker did not read the canvas");
    // Headless Chromium without a GPU may have no WebGL; where the main thread has it, so must
    // the Worker.
    if on_main_thread
        .values
        .iter()
        .any(|(id, _)| *id == "webgl_vendor")
    {
        assert!(from_worker.1, "the Worker did not read WebGL");
    }
    let sorted = |mut values: Vec<(&'static str, String)>| {
        values.sort();
        values
    };
    assert_eq!(
        sorted(off_thread.values),
        sorted(on_main_thread.values),
        "the two paths read different values"
    );
}

/// A page whose Content Security Policy refuses `blob:` Workers, as Chromium tells it: the
/// constructor throws.
const REFUSE_WORKERS: &str = "(() => { globalThis.mamoriWorker = Worker; \
    globalThis.Worker = function () { throw new DOMException('refused', 'SecurityError'); }; })()";
const ALLOW_WORKERS: &str = "(() => { globalThis.Worker = globalThis.mamoriWorker; \
    delete globalThis.mamoriWorker; })()";

#[wasm_bindgen_test]
async fn without_a_worker_the_main_thread_reads_the_graphics() {
    let on_main_thread = fingerprint::collect();
    js_sys::eval(REFUSE_WORKERS).unwrap();
    let (fallen_back, from_worker) = fingerprint::collect_off_thread().await;
    js_sys::eval(ALLOW_WORKERS).unwrap();
    assert_eq!(from_worker, (false, false), "a refused Worker answered");
    assert_eq!(fallen_back.values, on_main_thread.values);
}

/// Counts `getContext("webgl")` calls in `mamoriWebgl`, for as long as it is installed.
const COUNT_WEBGL: &str = "(() => { const p = OffscreenCanvas.prototype; \
    p.mamoriGet = p.getContext; globalThis.mamoriWebgl = 0; \
    p.getContext = function (kind, ...a) { if (kind === 'webgl') globalThis.mamoriWebgl++; \
    return this.mamoriGet(kind, ...a); }; })()";
const UNCOUNT_WEBGL: &str = "(() => { const p = OffscreenCanvas.prototype; \
    p.getContext = p.mamoriGet; delete p.mamoriGet; return globalThis.mamoriWebgl; })()";

#[wasm_bindgen_test]
fn webgl_is_read_from_one_context_per_page() {
    let first = crate::graphics::webgl();
    js_sys::eval(COUNT_WEBGL).unwrap();
    let second = crate::graphics::webgl();
    let contexts = js_sys::eval(UNCOUNT_WEBGL).unwrap();
    assert_eq!(
        contexts.as_f64(),
        Some(0.0),
        "a second WebGL context was made"
    );
    assert_eq!(first, second);
}

/// The `mamori:fingerprint` user-timing measures in the page so far.
fn fingerprint_measures() -> u32 {
    web_sys::window()
        .unwrap()
        .performance()
        .unwrap()
        .get_entries_by_name_with_entry_type("mamori:fingerprint", "measure")
        .length()
}

#[wasm_bindgen_test]
async fn the_page_fingerprint_is_collected_once_and_shared() {
    let first = JsFuture::from(fingerprint::page()).await.unwrap();
    let measured = fingerprint_measures();
    assert!(measured >= 3, "each idle step is measured");
    let second = JsFuture::from(fingerprint::page()).await.unwrap();
    assert!(js_sys::Object::is(&first, &second), "a second collection");
    assert_eq!(fingerprint_measures(), measured, "a second reading");
    let direct = fingerprint::wire(&fingerprint::collect());
    assert_eq!(
        js_sys::JSON::stringify(&first).unwrap(),
        js_sys::JSON::stringify(&direct).unwrap(),
        "the idle collection and a direct one differ"
    );
}

/// Not an assertion on speed (speed lives in benchmarks): prints the median collection time
/// for the report, next to the other results. The WebGL strings are read once per page, so
/// all but the first run are what a second device step in the same page costs.
#[wasm_bindgen_test]
fn fingerprint_timing_is_reported() {
    let performance = web_sys::window().unwrap().performance().unwrap();
    let mut times: Vec<f64> = (0..21)
        .map(|_| {
            let start = performance.now();
            let collected = fingerprint::collect();
            assert!(!collected.values.is_empty());
            performance.now() - start
        })
        .collect();
    times.sort_by(f64::total_cmp);
    console_log!(
        "mamori-fingerprint: median {:.2} ms, min {:.2} ms, max {:.2} ms over {} runs",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len()
    );
}

#[wasm_bindgen_test]
async fn device_step_sends_the_fingerprint_and_frictionless_ends_it() {
    let m = mount(
        (
            200,
            r#"{"outcome":"frictionless","status":"Y","result_token":"rt.f"}"#,
        ),
        Some("en"),
        Mode::Inline,
    )
    .await;
    assert_eq!(m.script.paths(), ["/v1/authentications/au_test/device"]);
    let body = js_sys::JSON::parse(&m.script.last_body()).unwrap();
    let fingerprint = js_sys::Reflect::get(&body, &"fingerprint".into()).unwrap();
    let components = js_sys::Reflect::get(&fingerprint, &"components".into()).unwrap();
    let timezone = js_sys::Reflect::get(&components, &"timezone".into()).unwrap();
    assert_eq!(timezone.as_string().map(|h| h.len()), Some(32));
    assert_eq!(m.event_names(), ["mamori:ready", "mamori:result"]);
    assert_eq!(
        m.detail("mamori:result", "resultToken")
            .as_string()
            .as_deref(),
        Some("rt.f")
    );
    assert!(m.find("challenge").hidden(), "no challenge shown");
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn challenge_renders_and_accepts_a_typed_code() {
    let m = mount(
        (200, &challenge_json(600.0, 30.0)),
        Some("en"),
        Mode::Inline,
    )
    .await;
    assert!(!m.find("challenge").hidden());
    let shadow = m.find("frame").get_root_node();
    let sheets = js_sys::Reflect::get(&shadow, &"adoptedStyleSheets".into()).unwrap();
    assert_eq!(
        js_sys::Array::from(&sheets).length(),
        1,
        "styles adopted, no <style>"
    );
    assert_eq!(m.text("title"), "Confirm it's you");
    assert!(m.text("intro").contains("t***@example.com"));
    assert_eq!(m.text("status"), "Code sent.");
    assert_eq!(
        m.find("status").get_attribute("aria-live").as_deref(),
        Some("polite")
    );
    let input = m.input();
    assert_eq!(input.get_attribute("inputmode").as_deref(), Some("numeric"));
    assert_eq!(
        input.get_attribute("autocomplete").as_deref(),
        Some("one-time-code")
    );
    assert_eq!(
        m.detail("mamori:challenge", "maskedEmail")
            .as_string()
            .as_deref(),
        Some("t***@example.com")
    );

    m.script.reply(200, AUTHENTICATED);
    m.enter("123456").await;
    assert_eq!(
        m.script.last_field("code").as_string().as_deref(),
        Some("123456")
    );
    assert_eq!(
        m.detail("mamori:result", "status").as_string().as_deref(),
        Some("Y")
    );
    assert_eq!(
        m.detail("mamori:result", "resultToken")
            .as_string()
            .as_deref(),
        Some("rt.y")
    );
    assert_eq!(
        device::load("mamori.device.verifier.test").as_deref(),
        Some("dt.new")
    );
    assert_eq!(m.text("status"), "Confirmed.");
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn pasted_and_full_width_codes_are_normalised() {
    for (entered, sent) in [
        ("123-456", "123456"),
        (" 98 76 54 ", "987654"),
        ("１２３ ４５６", "123456"),
    ] {
        let m = mount(
            (200, &challenge_json(600.0, 30.0)),
            Some("en"),
            Mode::Inline,
        )
        .await;
        m.script.reply(200, AUTHENTICATED);
        m.enter(entered).await;
        assert_eq!(
            m.script.last_field("code").as_string().as_deref(),
            Some(sent),
            "{entered}"
        );
        m.widget.destroy();
    }
}

#[wasm_bindgen_test]
async fn errors_are_announced_and_nothing_is_sent_for_a_malformed_code() {
    let m = mount(
        (200, &challenge_json(600.0, 30.0)),
        Some("en"),
        Mode::Inline,
    )
    .await;
    m.enter_unsent("12ab56").await;
    assert_eq!(m.script.paths().len(), 1, "a malformed code is not sent");
    assert_eq!(m.text("status"), "Enter the 6-digit code from the email.");
    assert_eq!(
        m.input().get_attribute("aria-invalid").as_deref(),
        Some("true")
    );

    m.script
        .reply(200, r#"{"outcome":"wrong_code","attempts_left":4}"#);
    m.enter("111111").await;
    assert_eq!(m.text("status"), "Wrong code, 4 tries left.");
    assert_eq!(m.input().value(), "", "the wrong code is cleared");

    m.script.fail();
    m.enter("222222").await;
    assert!(
        m.text("status")
            .starts_with("Could not reach the card issuer")
    );
    assert_eq!(
        m.detail("mamori:error", "code").as_string().as_deref(),
        Some("network")
    );
    assert_eq!(m.detail("mamori:error", "fatal").as_bool(), Some(false));
    assert!(!m.button("submit").disabled(), "the cardholder can retry");

    m.script.reply(200, AUTHENTICATED);
    m.enter("222222").await;
    assert_eq!(
        m.detail("mamori:result", "status").as_string().as_deref(),
        Some("Y")
    );
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn a_code_in_flight_is_never_sent_twice() {
    let m = mount(
        (200, &challenge_json(600.0, 30.0)),
        Some("en"),
        Mode::Inline,
    )
    .await;
    m.script.hold.set(true);
    m.script.reply(200, AUTHENTICATED);
    m.enter("123456").await;
    assert!(
        m.button("submit").disabled(),
        "submit is disabled while in flight"
    );
    // A disabled button swallows clicks before the widget sees them; `requestSubmit()` (Enter
    // in the field, a page script) submits the form anyway, which only the widget's own
    // in-flight guard stops.
    m.input().set_value("123456");
    let form = m.input().form().expect("the code field is in a form");
    form.request_submit().expect("the form submits");
    m.button("resend").click();
    settle().await;
    assert_eq!(m.script.paths().len(), 2, "device step and one verify");
    m.script.release();
    settle().await;
    assert_eq!(
        m.event_names()
            .iter()
            .filter(|n| *n == "mamori:result")
            .count(),
        1
    );
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn origin_not_allowed_is_a_clear_fatal_error() {
    let m = mount(
        (
            403,
            r#"{"error":"origin_not_allowed","message":"origin not allowed"}"#,
        ),
        Some("en"),
        Mode::Inline,
    )
    .await;
    assert!(m.text("status").contains("not registered"));
    assert_eq!(
        m.detail("mamori:error", "code").as_string().as_deref(),
        Some("origin_not_allowed")
    );
    assert_eq!(m.detail("mamori:error", "fatal").as_bool(), Some(true));
    assert_eq!(m.detail("mamori:error", "retryable").as_bool(), Some(false));
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn expiry_counts_down_and_is_announced() {
    let m = mount((200, &challenge_json(2.5, 30.0)), Some("en"), Mode::Inline).await;
    assert_eq!(m.text("countdown"), "Code expires in 0:03");
    m.advance(1_100.0);
    assert_eq!(m.text("countdown"), "Code expires in 0:02");
    assert!(!m.event_names().contains(&"mamori:expired".to_owned()));
    assert!(!m.button("submit").disabled(), "still open 0.1 s before");
    m.advance(1_300.0);
    assert_eq!(m.text("countdown"), "Code expires in 0:01");
    assert!(!m.event_names().contains(&"mamori:expired".to_owned()));
    m.advance(100.0);
    assert_eq!(m.text("countdown"), "Code expires in 0:00");
    assert_eq!(m.text("status"), "The code has expired. Send a new code.");
    assert!(m.event_names().contains(&"mamori:expired".to_owned()));
    assert!(m.button("submit").disabled());
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn resend_is_disabled_during_its_cooldown() {
    let m = mount((200, &challenge_json(600.0, 1.5)), Some("en"), Mode::Inline).await;
    let resend = m.button("resend");
    assert!(resend.disabled());
    assert_eq!(resend.text_content().as_deref(), Some("New code in 2 s"));
    resend.click();
    settle().await;
    assert_eq!(m.script.paths().len(), 1, "no resend during the cooldown");
    m.advance(1_499.0);
    assert_eq!(resend.text_content().as_deref(), Some("New code in 1 s"));
    assert!(resend.disabled(), "1 ms before the cooldown ends");
    m.advance(1.0);
    assert!(!resend.disabled());
    assert_eq!(resend.text_content().as_deref(), Some("Send a new code"));
    m.script.reply(
        200,
        &challenge_json_at(m.now.get(), 600.0, 30.0).replace(r#""outcome":"challenge","#, ""),
    );
    resend.click();
    settle().await;
    assert_eq!(
        m.script.paths()[1],
        "/v1/authentications/au_test/challenge/resend"
    );
    assert_eq!(m.text("status"), "A new code was sent.");
    assert!(m.event_names().contains(&"mamori:resend".to_owned()));
    assert!(resend.disabled(), "a new cooldown");
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn destroy_removes_nodes_listeners_and_timers() {
    let m = mount(
        (200, &challenge_json(600.0, 30.0)),
        Some("en"),
        Mode::Inline,
    )
    .await;
    let input = m.input();
    let submit = m.button("submit");
    m.widget.destroy();
    m.widget.destroy();
    assert_eq!(m.host.child_element_count(), 0, "every node is gone");
    // A detached button still dispatches clicks; no listener may answer them any more.
    input.set_value("123456");
    submit.click();
    sleep(1100).await;
    assert_eq!(m.script.paths().len(), 1, "nothing sent after destroy");
    assert_eq!(m.event_names(), ["mamori:ready", "mamori:challenge"]);
}

#[wasm_bindgen_test]
async fn japanese_and_english_texts() {
    let ja = mount(
        (200, &challenge_json(600.0, 30.0)),
        Some("ja"),
        Mode::Inline,
    )
    .await;
    assert_eq!(ja.text("title"), "ご本人確認");
    assert_eq!(ja.text("label"), "確認コード");
    assert_eq!(ja.text("status"), "確認コードを送信しました。");
    assert!(ja.text("countdown").starts_with("有効期限まで"));
    ja.script
        .reply(200, r#"{"outcome":"wrong_code","attempts_left":2}"#);
    ja.enter("111111").await;
    assert_eq!(
        ja.text("status"),
        "コードが正しくありません。残り2回入力できます。"
    );
    ja.widget.destroy();

    let html = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .document_element()
        .unwrap();
    html.set_attribute("lang", "ja-JP").unwrap();
    let from_page = mount((200, &challenge_json(600.0, 30.0)), None, Mode::Inline).await;
    assert_eq!(from_page.text("submit"), "確認する");
    from_page.widget.destroy();
    html.set_attribute("lang", "en").unwrap();
    let en = mount((200, &challenge_json(600.0, 30.0)), None, Mode::Inline).await;
    assert_eq!(en.text("submit"), "Verify");
    en.widget.destroy();
}

#[wasm_bindgen_test]
async fn dialog_opens_for_a_challenge_and_escape_cancels() {
    let m = mount(
        (200, &challenge_json(600.0, 30.0)),
        Some("en"),
        Mode::Dialog,
    )
    .await;
    let dialog: web_sys::HtmlDialogElement = m.find("frame").unchecked_into();
    assert!(dialog.open());
    m.script.reply(
        200,
        r#"{"outcome":"cancelled","status":"N","result_token":"rt.n"}"#,
    );
    let escape = web_sys::Event::new_with_event_init_dict("cancel", &{
        let init = web_sys::EventInit::new();
        init.set_cancelable(true);
        init
    })
    .unwrap();
    dialog.dispatch_event(&escape).unwrap();
    settle().await;
    assert_eq!(m.script.paths()[1], "/v1/authentications/au_test/cancel");
    assert_eq!(
        m.detail("mamori:cancel", "status").as_string().as_deref(),
        Some("N")
    );
    assert_eq!(
        m.detail("mamori:result", "resultToken")
            .as_string()
            .as_deref(),
        Some("rt.n")
    );
    assert!(!dialog.open());
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn a_closed_port_is_a_retryable_network_error() {
    // Nothing listens on port 2 of the loopback interface, and Chromium does not block it, so
    // `fetch` is refused by the connection itself.
    let options = Options {
        verifier: "http://127.0.0.1:2".into(),
        ..options(Some("en"), Mode::Inline)
    };
    let fetch = Box::new(Fetch::new(&options.verifier, &options.client_secret));
    let m = start(options, Rc::default(), Some(fetch), PROMPT).await;
    m.until("mamori:error").await;
    assert_eq!(
        m.detail("mamori:error", "code").as_string().as_deref(),
        Some("network")
    );
    assert_eq!(m.detail("mamori:error", "retryable").as_bool(), Some(true));
    assert_eq!(m.detail("mamori:error", "fatal").as_bool(), Some(true));
    assert_eq!(
        m.text("status"),
        "Could not reach the card issuer. Check your connection and try again."
    );
    assert_eq!(m.count("mamori:error"), 1, "one error, after every try");
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn the_device_step_is_tried_again_after_no_answer_and_a_503() {
    let script = Script::default();
    script.fail();
    script.reply(503, r#"{"error":"unavailable","message":"not ready"}"#);
    script.reply(200, &challenge_json(600.0, 30.0));
    let m = mount_scripted(script, PROMPT).await;
    m.until("mamori:challenge").await;
    assert_eq!(m.script.paths(), ["/v1/authentications/au_test/device"; 3]);
    assert_eq!(m.event_names(), ["mamori:ready", "mamori:challenge"]);
    assert_eq!(m.text("status"), "Code sent.");
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn the_device_step_gives_up_after_three_more_tries() {
    let script = Script::default();
    for _ in 0..5 {
        script.reply(502, "null");
    }
    let m = mount_scripted(script, PROMPT).await;
    m.until("mamori:error").await;
    settle().await;
    assert_eq!(m.script.paths().len(), 4, "one try and three more");
    assert_eq!(
        m.detail("mamori:error", "code").as_string().as_deref(),
        Some("server_error")
    );
    assert_eq!(m.detail("mamori:error", "retryable").as_bool(), Some(true));
    assert_eq!(m.detail("mamori:error", "fatal").as_bool(), Some(true));
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn a_device_step_decided_while_its_answer_was_lost_ends_for_good() {
    // The verifier decided the first try (frictionless, say) but its answer never arrived; it
    // answers the repeat with `authentication_finished`, which no further try can change.
    let script = Script::default();
    script.fail();
    script.reply(
        409,
        r#"{"error":"authentication_finished","message":"finished"}"#,
    );
    script.reply(200, &challenge_json(600.0, 30.0));
    let m = mount_scripted(script, PROMPT).await;
    m.until("mamori:error").await;
    settle().await;
    assert_eq!(m.script.paths().len(), 2);
    assert_eq!(
        m.detail("mamori:error", "code").as_string().as_deref(),
        Some("authentication_finished")
    );
    assert_eq!(m.detail("mamori:error", "retryable").as_bool(), Some(false));
    assert_eq!(m.detail("mamori:error", "fatal").as_bool(), Some(true));
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn a_code_lost_to_the_network_is_sent_again_only_by_the_cardholder() {
    let m = mount(
        (200, &challenge_json(600.0, 30.0)),
        Some("en"),
        Mode::Inline,
    )
    .await;
    m.script.fail();
    m.script.reply(503, "null");
    m.enter("123456").await;
    m.until("mamori:error").await;
    settle().await;
    assert_eq!(
        m.script.paths().len(),
        2,
        "device step and one verify, not repeated"
    );
    assert_eq!(
        m.detail("mamori:error", "code").as_string().as_deref(),
        Some("network")
    );
    assert_eq!(m.detail("mamori:error", "retryable").as_bool(), Some(true));
    assert_eq!(m.detail("mamori:error", "fatal").as_bool(), Some(false));
    assert_eq!(
        m.text("status"),
        "Could not reach the card issuer. Check your connection and try again."
    );
    assert_eq!(m.input().value(), "123456", "the code is kept");
    assert!(!m.button("submit").disabled());

    // The cardholder's own try: a 503 is not repeated either.
    m.button("submit").click();
    settle().await;
    assert_eq!(m.script.paths().len(), 3);
    assert_eq!(
        m.script.last_field("code").as_string().as_deref(),
        Some("123456")
    );
    assert_eq!(
        m.detail("mamori:error", "code").as_string().as_deref(),
        Some("server_error")
    );
    assert_eq!(m.detail("mamori:error", "retryable").as_bool(), Some(true));

    m.script.reply(200, AUTHENTICATED);
    m.button("submit").click();
    settle().await;
    assert_eq!(m.script.paths().len(), 4);
    assert_eq!(
        m.script.last_field("code").as_string().as_deref(),
        Some("123456")
    );
    assert_eq!(
        m.detail("mamori:result", "status").as_string().as_deref(),
        Some("Y")
    );
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn a_request_without_an_answer_runs_out_of_time_as_network() {
    let script = Script::default();
    script.reply(200, &challenge_json(600.0, 30.0));
    let quick = Timing {
        timeout_ms: 50.0,
        ..PROMPT
    };
    let m = mount_scripted(script, quick).await;
    m.until("mamori:challenge").await;
    m.script.hold.set(true);
    m.script.reply(200, AUTHENTICATED);
    m.enter("123456").await;
    m.until("mamori:error").await;
    assert_eq!(
        m.detail("mamori:error", "code").as_string().as_deref(),
        Some("network")
    );
    assert_eq!(m.detail("mamori:error", "fatal").as_bool(), Some(false));
    assert!(
        !m.button("submit").disabled(),
        "the cardholder can try again"
    );
    // The late answer is not heard: the request was given up.
    m.script.release();
    settle().await;
    assert_eq!(m.count("mamori:result"), 0);
    assert_eq!(m.script.paths().len(), 2);
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn refusals_are_not_retryable_and_cooldowns_are() {
    let m = mount((200, &challenge_json(600.0, 0.0)), Some("en"), Mode::Inline).await;
    m.script.reply(
        429,
        r#"{"error":"resend_cooldown","message":"wait","retry_after":30}"#,
    );
    m.button("resend").click();
    settle().await;
    assert_eq!(m.script.paths().len(), 2, "a resend is not repeated");
    assert_eq!(
        m.detail("mamori:error", "code").as_string().as_deref(),
        Some("resend_cooldown")
    );
    assert_eq!(m.detail("mamori:error", "retryable").as_bool(), Some(true));
    m.script
        .reply(400, r#"{"error":"invalid_code","message":"six digits"}"#);
    m.enter("123456").await;
    assert_eq!(
        m.detail("mamori:error", "code").as_string().as_deref(),
        Some("invalid_code")
    );
    assert_eq!(m.detail("mamori:error", "retryable").as_bool(), Some(false));
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn destroy_stops_the_tries_still_to_come() {
    let script = Script::default();
    script.fail();
    script.reply(200, &challenge_json(600.0, 30.0));
    // A wait far longer than the time `mount_scripted` lets pass, so `destroy` comes first.
    let slow = Timing {
        backoff_ms: [1_000.0; 3],
        ..PROMPT
    };
    let m = mount_scripted(script, slow).await;
    assert_eq!(
        m.script.paths().len(),
        1,
        "the first try failed; the next one waits"
    );
    m.widget.destroy();
    sleep(1_500).await;
    assert_eq!(m.script.paths().len(), 1, "no try after destroy");
    assert_eq!(m.event_names(), ["mamori:ready"]);
}
