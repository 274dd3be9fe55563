//! How requests reach the verifier: the [`Transport`] trait, and [`Fetch`], its implementation
//! with the browser's `fetch`. The widget only ever talks through the trait, so the browser
//! tests drive the whole flow with a scripted transport and no server.

use std::future::Future;
use std::pin::Pin;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Request, RequestCredentials, RequestInit, RequestMode, Response};

/// A finished HTTP exchange: the status and the body parsed as JSON (`undefined` if it was not
/// JSON).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: JsValue,
}

/// The request never got an HTTP answer: offline, DNS, CORS refusal, or aborted.
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
    abort: Option<AbortController>,
}

impl Fetch {
    /// A transport to the verifier at `base` (no trailing slash).
    pub(crate) fn new(base: &str, client_secret: &str) -> Self {
        Self {
            base: base.to_owned(),
            authorization: ["Bearer ", client_secret].concat(),
            abort: AbortController::new().ok(),
        }
    }
}

impl Transport for Fetch {
    fn post(&self, path: &str, body: String) -> Pending {
        let url = [self.base.as_str(), path].concat();
        let authorization = self.authorization.clone();
        let signal = self.abort.as_ref().map(AbortController::signal);
        Box::pin(async move {
            let init = RequestInit::new();
            init.set_method("POST");
            init.set_mode(RequestMode::Cors);
            // The client secret travels in a header; cookies of the verifier's site must not.
            init.set_credentials(RequestCredentials::Omit);
            init.set_body(&JsValue::from_str(&body));
            init.set_signal(signal.as_ref());
            let request = Request::new_with_str_and_init(&url, &init).map_err(|_| NetworkError)?;
            let headers = request.headers();
            headers
                .set("Content-Type", "application/json")
                .map_err(|_| NetworkError)?;
            headers
                .set("Authorization", &authorization)
                .map_err(|_| NetworkError)?;
            let window = web_sys::window().ok_or(NetworkError)?;
            let response: Response = JsFuture::from(window.fetch_with_request(&request))
                .await
                .map_err(|_| NetworkError)?
                .dyn_into()
                .map_err(|_| NetworkError)?;
            let body = match response.json() {
                Ok(parsing) => JsFuture::from(parsing).await.unwrap_or(JsValue::UNDEFINED),
                Err(_) => JsValue::UNDEFINED,
            };
            Ok(Reply {
                status: response.status(),
                body,
            })
        })
    }

    fn abort(&self) {
        if let Some(controller) = &self.abort {
            controller.abort();
        }
    }
}
