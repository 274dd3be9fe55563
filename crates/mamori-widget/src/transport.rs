//! How requests reach the verifier: the [`Transport`] trait, and [`Fetch`], its implementation
//! with the browser's `fetch` (called in `net.js`). The widget only ever talks through the trait, so the browser
//! tests drive the whole flow with a scripted transport and no server.

use std::future::Future;
use std::pin::Pin;

use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;

use crate::js;

/// A finished HTTP exchange: the status and the body parsed as JSON (`undefined` if it was not
/// JSON).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: JsValue,
}

/// The request never got a whole HTTP answer: offline, DNS, CORS refusal, a connection cut
/// while the body arrived, or aborted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NetworkError;

/// What a transport returns; boxed because the trait is used as an object.
pub(crate) type Pending = Pin<Box<dyn Future<Output = Result<Reply, NetworkError>>>>;

/// Sends the widget's requests.
pub(crate) trait Transport {
    /// POSTs `body` (JSON text) to `path` under the verifier's base URL.
    fn post(&self, path: &str, body: String) -> Pending;

    /// Abandons every request in flight; their futures resolve to [`NetworkError`].
    fn abort(&self);
}

/// [`Transport`] over `fetch`, authenticated with the client secret.
pub(crate) struct Fetch {
    base: String,
    authorization: String,
    /// An `AbortController` whose signal every request carries.
    abort: JsValue,
}

impl Fetch {
    /// A transport to the verifier at `base` (no trailing slash).
    pub(crate) fn new(base: &str, client_secret: &str) -> Self {
        let abort = js::construct("AbortController").unwrap_or(JsValue::UNDEFINED);
        Self {
            base: base.to_owned(),
            authorization: ["Bearer ", client_secret].concat(),
            abort,
        }
    }
}

#[wasm_bindgen(module = "/src/net.js")]
extern "C" {
    /// `fetch`'s POST: a promise of `[status, body]`, rejected without a whole answer.
    #[wasm_bindgen(js_name = post)]
    fn fetch_post(url: &str, authorization: &str, body: &str, signal: &JsValue) -> Promise;
}

impl Transport for Fetch {
    fn post(&self, path: &str, body: String) -> Pending {
        let url = [self.base.as_str(), path].concat();
        let signal = js::prop(&self.abort, "signal");
        let sent = JsFuture::from(fetch_post(&url, &self.authorization, &body, &signal));
        Box::pin(async move {
            let answer = sent.await.map_err(|_| NetworkError)?;
            let status = js::count(&answer, "0").ok_or(NetworkError)?;
            Ok(Reply {
                status: u16::try_from(status).unwrap_or(0),
                body: js::prop(&answer, "1"),
            })
        })
    }

    fn abort(&self) {
        let _ = js::call(&self.abort, "abort", &[]);
    }
}
