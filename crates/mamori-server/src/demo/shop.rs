//! The demo shop's backend: what a merchant's server does around the widget, in three routes.
//!
//! - `POST /demo/shop/checkout` `{"card_number", "amount"}`: fixes the order (reference, yen)
//!   and starts the authentication server-to-server with the demo merchant's secret key; the
//!   page gets only the authentication id and its client secret.
//! - `POST /demo/shop/complete` `{"order_ref", "result_token"?}`: verifies the result token
//!   with [`mamori_core::token::verify_result`] against the order it stored and the
//!   authentication it created for it, captures only on `Y`, redeems the token once,
//!   and answers `accepted` or `refused` with the reason. Without a token (the page saw the
//!   code expire) it asks the verifier for the authoritative result and verifies that instead.
//! - `GET /`: the shop page, which lives with the widget under `/assets/demo/`.
//!
//! The backend talks to the verifier's merchant API (`POST` and `GET /v1/authentications`)
//! through the same handlers a remote shop reaches over HTTPS, called in process: the
//! bearer key, the JSON and the answers are exactly those of docs/api.md.
//!
//! It is a demo, not a template for the browser-facing part of a shop: the page trusts the
//! amount the visitor types, because showing what each amount does is the point.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method as HttpMethod, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use mamori_core::token::{
    ExpectedOrder, KeySet, ResultClaims, ResultError, SigningKey, TokenError, Validation,
    verify_result,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::orders::{Order, Orders, PayError};
use super::{MERCHANT_ID, MERCHANT_SECRET_KEY};
use crate::api::extract::JsonBody;
use crate::api::merchant;
use crate::error::ApiError;
use crate::secrets::random_id;
use crate::state::AppState;

/// The shop sells in yen only.
const CURRENCY: &str = "JPY";

/// The largest purchase the shop takes, in yen: enough to show every ceiling of the demo cards.
const MAX_AMOUNT: u64 = 10_000_000;

/// Where the shop's page is, under the assets directory.
const PAGE: &str = "/assets/demo/";

/// Largest verifier answer read back, in bytes (they are a few hundred).
const ANSWER_LIMIT: usize = 64 * 1024;

/// The shop's routes, with their order book; `has_page` says whether the assets directory holds
/// the shop's page.
pub fn router(has_page: bool) -> Router<AppState> {
    Router::new()
        .route("/", get(move || home(has_page)))
        .route("/demo/shop/checkout", post(checkout))
        .route("/demo/shop/complete", post(complete))
        .layer(Extension(Arc::new(Orders::default())))
}

/// `GET /`: the shop page, or how to get it when the assets directory lacks it.
async fn home(has_page: bool) -> Response {
    if has_page {
        return Redirect::to(PAGE).into_response();
    }
    Html(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>mamori demo</title></head><body style=\"font-family:sans-serif;max-width:40em;\
         margin:2em auto\"><h1>mamori demo</h1><p>The demo shop's pages are not in the assets \
         directory. <code>cargo xtask demo</code> builds the widget and starts the demo with \
         them; by hand, pass <code>--assets-dir</code> a directory holding the widget's \
         release (<code>target/www</code>) and <code>demo/</code> (from <code>www/demo</code>).</p>\
         <p><a href=\"/demo/mailbox\">Demo mailbox</a></p></body></html>\n",
    )
    .into_response()
}

/// `POST /demo/shop/checkout`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutRequest {
    card_number: String,
    amount: u64,
}

impl CheckoutRequest {
    /// The shop's own limit on a demo order.
    fn checked(self) -> Result<Self, ApiError> {
        if (1..=MAX_AMOUNT).contains(&self.amount) {
            Ok(self)
        } else {
            Err(ApiError::InvalidRequest(
                "amount must be a whole number of yen from 1 to 10,000,000.",
            ))
        }
    }

    /// The merchant backend's `POST /v1/authentications` body for this order.
    fn authentication(&self, order_ref: &str) -> Value {
        json!({
            "card_number": self.card_number,
            "amount": self.amount,
            "currency": CURRENCY,
            "order_ref": order_ref,
        })
    }
}

async fn checkout(
    State(state): State<AppState>,
    Extension(orders): Extension<Arc<Orders>>,
    JsonBody(request): JsonBody<CheckoutRequest>,
) -> Result<Response, ApiError> {
    let request = request.checked()?;
    let reference = random_id("order_")?;
    let body = request.authentication(&reference);
    let (status, answer) =
        call_verifier(&state, HttpMethod::POST, "/v1/authentications", Some(body)).await?;
    if status != StatusCode::CREATED {
        // The verifier's refusal (say, `invalid_card_number`) is what the page should show.
        return Ok((status, Json(answer)).into_response());
    }
    let (Some(id), Some(client_secret)) = (answer["id"].as_str(), answer["client_secret"].as_str())
    else {
        return Err(ApiError::Internal(format!("unexpected answer: {answer}")));
    };
    orders.insert(Order {
        reference: reference.clone(),
        amount: request.amount,
        authentication: id.to_owned(),
        paid_with: None,
    });
    Ok(Json(json!({
        "order_ref": reference,
        "amount": request.amount,
        "currency": CURRENCY,
        "authentication": id,
        "client_secret": client_secret,
    }))
    .into_response())
}

/// `POST /demo/shop/complete`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteRequest {
    order_ref: String,
    #[serde(default)]
    result_token: Option<String>,
}

async fn complete(
    State(state): State<AppState>,
    Extension(orders): Extension<Arc<Orders>>,
    JsonBody(request): JsonBody<CompleteRequest>,
) -> Result<Json<Value>, ApiError> {
    let order = orders.get(&request.order_ref).ok_or(ApiError::NotFound)?;
    // The merchant's view of the authentication: its state and the risk engine's reasons,
    // which the page shows so a visitor can see why they were (not) challenged.
    let path = format!("/v1/authentications/{}", order.authentication);
    let (status, info) = call_verifier(&state, HttpMethod::GET, &path, None).await?;
    if status != StatusCode::OK {
        return Err(ApiError::Internal(format!("GET {path}: {status} {info}")));
    }
    let token = match (&request.result_token, info["result_token"].as_str()) {
        (Some(token), _) => token.clone(),
        (None, Some(token)) => token.to_owned(),
        (None, None) => {
            return Ok(Json(json!({
                "outcome": "pending",
                "order_ref": order.reference,
                "state": info["state"],
            })));
        }
    };
    let mut answer = judge(&state, &orders, &order, &token);
    answer["order_ref"] = json!(order.reference);
    answer["amount"] = json!(order.amount);
    answer["reasons"] = info["reasons"].clone();
    Ok(Json(answer))
}

/// What the shop decides about `token` for `order`: `accepted` only for a valid token of the
/// authentication the shop created for exactly this order, with status `Y`, redeemed for the
/// first time.
fn judge(state: &AppState, orders: &Orders, order: &Order, token: &str) -> Value {
    let (claims, why) = match verify(state, order, token) {
        // Only `Y` comes back as claims (`A`, attempted, is not allowed by this shop and never
        // comes from this verifier anyway): the one answer to capture on.
        Ok(claims) => match orders.pay(&order.reference, &claims.jti) {
            Ok(()) => (claims, None),
            Err(PayError::AlreadyPaid) => (claims, Some("already_paid")),
            Err(PayError::Unknown) => (claims, Some("unknown_order")),
        },
        // A genuine token saying `N`, `U` or `R`: the cardholder was not authenticated. Its
        // claims say why, for the page and the shop's logs.
        Err(ResultError::Status(claims)) => (*claims, Some("not_authenticated")),
        Err(error) => {
            return json!({"outcome": "refused", "why": "invalid_token", "detail": error.code()});
        }
    };
    json!({
        "outcome": if why.is_none() { "accepted" } else { "refused" },
        "why": why,
        "status": claims.status.code(),
        "eci": claims.eci.code(),
        "method": claims.method,
        "reason": claims.reason.map(|r| r.to_string()),
    })
}

/// Verifies `token` with the demo merchant's key against `order` and the authentication the
/// shop created for it, as any merchant backend must before capturing.
fn verify(state: &AppState, order: &Order, token: &str) -> Result<ResultClaims, ResultError> {
    // The key string the merchant was given, exactly as a remote shop would configure it; it is
    // a constant of the demo, so failing to parse it is a bug reported as a refused token.
    let key = SigningKey::from_secret_key(MERCHANT_SECRET_KEY)
        .map_err(|_| ResultError::Token(TokenError::UnknownKey))?;
    let keys = KeySet::from(key);
    let now = u64::try_from(state.now()).unwrap_or(0);
    let expected = ExpectedOrder {
        authentication: &order.authentication,
        reference: &order.reference,
        amount: order.amount,
        currency: CURRENCY,
    };
    verify_result(
        token,
        &keys,
        &Validation::result(MERCHANT_ID.as_str(), now),
        Some(&expected),
    )
}

/// Calls the verifier's merchant API with the demo merchant's secret key and returns the
/// status and JSON answer.
async fn call_verifier(
    state: &AppState,
    method: HttpMethod,
    path: &str,
    body: Option<Value>,
) -> Result<(StatusCode, Value), ApiError> {
    let api = Router::new()
        .route("/v1/authentications", post(merchant::create))
        .route("/v1/authentications/{id}", get(merchant::get))
        .with_state(state.clone());
    let mut request = Request::builder().method(method).uri(path).header(
        header::AUTHORIZATION,
        format!("Bearer {MERCHANT_SECRET_KEY}"),
    );
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let request = request
        .body(body)
        .map_err(|e| ApiError::Internal(format!("building {path}: {e}")))?;
    let response = match api.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), ANSWER_LIMIT)
        .await
        .map_err(|e| ApiError::Internal(format!("reading {path}: {e}")))?;
    let answer = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::Internal(format!("answer of {path}: {e}")))?;
    Ok((status, answer))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use crate::clock::ManualClock;
    use crate::config::{Config, Delivery};
    use crate::secrets::Secrets;
    use crate::state::AppState;
    use crate::store::SqliteStore;

    const NOW: i64 = 1_800_000_000;
    const ORIGIN: &str = "http://127.0.0.1:8080";

    async fn app() -> (axum::Router, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("shop.db").display());
        let store = Arc::new(SqliteStore::open(&url).await.unwrap());
        let secrets = Secrets::derive(&[7; 32]);
        let origins = vec![ORIGIN.to_owned()];
        super::super::seed(store.as_ref(), &secrets, origins, NOW)
            .await
            .unwrap();
        let mut config = Config::default();
        config.mail.delivery = Delivery::Mailbox;
        let state = AppState::new(config, store, secrets, Arc::new(ManualClock::new(NOW)));
        (super::super::app(state, None), dir)
    }

    async fn post(
        app: &axum::Router,
        path: &str,
        body: Value,
        bearer: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, ORIGIN);
        if let Some(token) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn checkout(app: &axum::Router, card: &str, amount: u64) -> Value {
        let (status, order) = post(
            app,
            "/demo/shop/checkout",
            json!({"card_number": card, "amount": amount}),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{order}");
        order
    }

    /// The widget's device step for `order`, as a browser on the shop's origin sends it.
    async fn device(app: &axum::Router, order: &Value) -> Value {
        let path = format!(
            "/v1/authentications/{}/device",
            order["authentication"].as_str().unwrap()
        );
        let body = json!({
            "fingerprint": {"v": 1, "browser": "chromium", "components": {}},
            "device_token": null,
            "browser": {"language": "ja-JP", "timezone": "Asia/Tokyo", "user_agent": "test"},
        });
        let (status, answer) = post(app, &path, body, order["client_secret"].as_str()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    #[tokio::test]
    async fn a_rejected_card_is_refused_after_verifying_its_token() {
        let (app, _dir) = app().await;
        let order = checkout(&app, "378734493671000", 5000).await;
        assert_eq!(order["currency"], "JPY");
        let answer = device(&app, &order).await;
        assert_eq!(answer["outcome"], "rejected");
        let token = answer["result_token"].clone();
        let complete = json!({"order_ref": order["order_ref"], "result_token": token});
        let (status, verdict) = post(&app, "/demo/shop/complete", complete, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(verdict["outcome"], "refused", "{verdict}");
        assert_eq!(verdict["why"], "not_authenticated");
        assert_eq!(
            (verdict["status"].as_str(), verdict["reason"].as_str()),
            (Some("R"), Some("12"))
        );
        assert_eq!(verdict["reasons"], json!(["card_blocked"]));
    }

    #[tokio::test]
    async fn a_token_for_another_order_or_a_forged_one_is_refused() {
        let (app, _dir) = app().await;
        let first = checkout(&app, "378734493671000", 5000).await;
        let token = device(&app, &first).await["result_token"].clone();
        let second = checkout(&app, "378734493671000", 5000).await;
        for (order, token, detail) in [
            // Bound to the first's authentication, which is checked before the order.
            (&second, token.clone(), "authentication"),
            (
                &first,
                json!(format!("{}x", token.as_str().unwrap())),
                "signature",
            ),
        ] {
            let complete = json!({"order_ref": order["order_ref"], "result_token": token});
            let (_, verdict) = post(&app, "/demo/shop/complete", complete, None).await;
            assert_eq!(verdict["outcome"], "refused", "{verdict}");
            assert_eq!(verdict["why"], "invalid_token", "{verdict}");
            assert_eq!(verdict["detail"], detail, "{verdict}");
        }
    }

    #[tokio::test]
    async fn without_a_token_the_shop_asks_the_verifier() {
        let (app, _dir) = app().await;
        let order = checkout(&app, "378282246310005", 12_800).await;
        let complete = json!({"order_ref": order["order_ref"]});
        let (status, verdict) = post(&app, "/demo/shop/complete", complete, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(verdict["outcome"], "pending", "{verdict}");
        assert_eq!(verdict["state"], "pending");
        let (status, _) = post(
            &app,
            "/demo/shop/complete",
            json!({"order_ref": "order_x"}),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn checkout_relays_the_verifiers_refusals() {
        let (app, _dir) = app().await;
        let card = json!({"card_number": "378282246310006", "amount": 100});
        let (status, answer) = post(&app, "/demo/shop/checkout", card, None).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_card_number"))
        );
        let zero = json!({"card_number": "378282246310005", "amount": 0});
        let (status, answer) = post(&app, "/demo/shop/checkout", zero, None).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request"))
        );
    }
}
