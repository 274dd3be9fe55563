//! How requests reach the verifier: the [`Transport`] trait, and [`Fetch`], its implementation
//! with the browser's `fetch`. The widget only ever talks through the trait, so the browser
//! tests drive the whole flow with a scripted transport and no server.

use std::future::Future;
use std::pin::Pin;

use js_sys::Promise;
use wasm_bindgen::{JsCast, JsValue};
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

impl Transport for Fetch {
    fn post(&self, path: &str, body: String) -> Pending {
        let url = [self.base.as_str(), path].concat();
        let headers = js::object([
            ("Content-Type", "application/json".into()),
            ("Authorization", self.authorization.as_str().into()),
        ]);
        let init = js::object([
            ("method", "POST".into()),
            ("mode", "cors".into()),
            // The client secret travels in a header; cookies of the verifier's site must not.
            ("credentials", "omit".into()),
            ("cache", "no-store".into()),
            ("headers", headers),
            ("body", body.into()),
            ("signal", js::prop(&self.abort, "signal")),
        ]);
        let sent = js::call(&js::global(), "fetch", &[url.into(), init]);
        Box::pin(async move {
            let response =
                JsFuture::from(sent.map_err(|_| NetworkError)?.unchecked_into::<Promise>())
                    .await
                    .map_err(|_| NetworkError)?;
            let status = js::count(&response, "status").ok_or(NetworkError)?;
            let body = match js::call(&response, "json", &[]) {
                Ok(parsing) => match JsFuture::from(parsing.unchecked_into::<Promise>()).await {
                    Ok(body) => body,
                    // A body that is not JSON is an answer (a proxy's error page, say); one cut
                    // off by the connection or by `abort` is not.
                    Err(error) if error.is_instance_of::<js_sys::SyntaxError>() => {
                        JsValue::UNDEFINED
                    }
                    Err(_) => return Err(NetworkError),
                },
                Err(_) => JsValue::UNDEFINED,
            };
            Ok(Reply {
                status: u16::try_from(status).unwrap_or(0),
                body,
            })
        })
    }

    fn abort(&self) {
        let _ = js::call(&self.abort, "abort", &[]);
    }
}
