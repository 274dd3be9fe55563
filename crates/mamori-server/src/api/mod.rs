//! The HTTP surface: the router, and the layers every response passes through.
//!
//! - [`admin`]: the issuer's admin API at `/admin/v1`, behind its own tokens.
//! - [`merchant`]: `POST /v1/authentications`, `GET /v1/authentications/{id}`,
//!   `GET /v1/sandbox/mail`.
//! - [`widget`]: the device step (which makes the gate's checks itself) and the challenge, behind
//!   [`widget::gate`].
//! - [`crate::report`]: the cardholder's report page.
//! - [`crate::selfservice`]: the cardholder's own page, `/me/{token}`.
//! - [`widget_files`]: the widget's release files at `/widget/`, for any origin.
//! - [`crate::ops`]: health, readiness, metrics, the OpenAPI document.
//! - [`forwarded`]: the client's address, behind trusted proxies or not.
//!
//! [`routes`] is the verifier's whole surface and [`finish`] its layers; `mamori serve` answers
//! [`app`], their composition. `mamori demo` adds its shop and mailbox to [`routes`] in
//! `demo::app` (feature `demo`), so nothing of the demo is reachable from [`app`].

pub mod admin;
pub mod extract;
pub mod forwarded;
pub mod merchant;
mod refusal;
pub mod throttle;
pub mod widget;
pub mod widget_files;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::error::{ApiError, ErrorDetail};
use crate::state::AppState;
use crate::{ops, report, selfservice};

/// The policy for pages and JSON: nothing loads, nothing frames us; the report page's inline
/// styles and its form posting back to us are all that is allowed.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The policy for `/assets/`, where the demo's shop pages live: what the merchant guide asks a
/// shop for (`worker-src blob:` lets the widget read its fingerprint's graphics off the main
/// thread).
const ASSETS_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                          worker-src blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                          connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                          form-action 'self'";

/// The whole application, ready to serve or to test with `oneshot`.
pub fn app(state: AppState) -> Router {
    finish(routes(&state), state)
}

/// Every route of the verifier, without the layers.
pub fn routes(state: &AppState) -> Router<AppState> {
    let widget = Router::new()
        .route(
            "/v1/authentications/{id}/challenge/verify",
            post(widget::verify).options(widget::options),
        )
        .route(
            "/v1/authentications/{id}/challenge/resend",
            post(widget::resend).options(widget::options),
        )
        .route(
            "/v1/authentications/{id}/cancel",
            post(widget::cancel).options(widget::options),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), widget::gate))
        // Outside the gate: the device step makes the gate's checks itself (see `widget`).
        .route(
            "/v1/authentications/{id}/device",
            post(widget::device).options(widget::device_options),
        );

    let router = Router::new()
        .route("/v1/authentications", post(merchant::create))
        .route("/v1/authentications/{id}", get(merchant::get))
        .route("/v1/sandbox/mail", get(merchant::sandbox_mail))
        .merge(widget)
        .route("/report/{token}", get(report::show).post(report::confirm))
        .route("/me/{token}", get(selfservice::show))
        .route(
            "/me/{token}/browsers/{device_id}/remove",
            post(selfservice::remove),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .nest("/admin/v1", admin::routes());
    match &state.widget_files {
        Some(files) => router.merge(files.clone().router()),
        None => router,
    }
}

/// `router` with the fallbacks and the layers every response passes through.
pub fn finish(router: Router<AppState>, state: AppState) -> Router {
    let limit = state.config.security.body_limit.get();
    router
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Security headers on every response, whatever produced it.
async fn security_headers(request: Request, next: Next) -> Response {
    let assets = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let csp = if assets { ASSETS_CSP } else { CSP };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Browsers honour this only over HTTPS, where the verifier runs in production; over the
    // demo's plain HTTP it is ignored.
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    let cache = if assets {
        "public, max-age=300"
    } else {
        "no-store"
    };
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(cache));
    response
}

/// Latency metrics and one structured log line per request, and the detail a failed request's
/// error kept from the client ([`log_detail`]).
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // The route pattern, not the path: ids must not become metric labels.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let mut response = next.run(request).await;
    log_detail(&mut response, &method, route);
    let elapsed = started.elapsed();
    let status = response.status();
    // Labelled from closed sets only (`metrics`' docs): a made-up method counts as `other`.
    state
        .metrics
        .request(&method, matched.as_ref(), status, elapsed);
    let status = status.as_u16();
    tracing::info!(%method, %route, status, micros = elapsed.as_micros() as u64, "request");
    response
}

/// Logs the [`ErrorDetail`] a rendered [`ApiError`] left on `response`, and removes it: the one
/// place an error's detail is written, so that rendering an error has no side effects.
fn log_detail(response: &mut Response, method: &Method, route: &str) {
    match response.extensions_mut().remove::<ErrorDetail>() {
        Some(ErrorDetail::Unauthorized(detail)) => {
            tracing::info!(%method, route, detail, "unauthorized request");
        }
        Some(ErrorDetail::Internal(detail)) => {
            tracing::error!(%method, route, detail, "internal error");
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::response::IntoResponse;

    use super::*;

    /// Log output, shared with the subscriber that writes it.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        /// Runs `f` with a subscriber writing here, and returns what it logged.
        fn logs(f: impl FnOnce()) -> String {
            let captured = Self::default();
            let writer = captured.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::with_default(subscriber, f);
            let bytes = captured.0.lock().unwrap().clone();
            String::from_utf8(bytes).unwrap()
        }
    }

    #[test]
    fn rendering_an_error_logs_nothing_and_the_middleware_logs_its_detail() {
        for (error, level, detail) in [
            (
                ApiError::Internal("database is on fire".into()),
                "ERROR",
                "database is on fire",
            ),
            (
                ApiError::Unauthorized("unknown key id"),
                "INFO",
                "unknown key id",
            ),
        ] {
            let mut response = None;
            let logged = Captured::logs(|| response = Some(error.into_response()));
            assert_eq!(logged, "", "rendering logged");
            let mut response = response.unwrap();
            assert!(response.extensions().get::<ErrorDetail>().is_some());

            let logged = Captured::logs(|| {
                log_detail(&mut response, &Method::POST, "/v1/authentications");
            });
            assert!(
                logged.contains(level)
                    && logged.contains(detail)
                    && logged.contains("/v1/authentications"),
                "{logged}"
            );
            assert!(
                response.extensions().get::<ErrorDetail>().is_none(),
                "the detail stays on the response"
            );
        }

        // Errors without a detail leave nothing to log.
        let mut response = ApiError::NotFound.into_response();
        let logged = Captured::logs(|| log_detail(&mut response, &Method::GET, "unmatched"));
        assert_eq!(logged, "");
    }
}
