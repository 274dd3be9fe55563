//! What one simulated client does once, over its connection: the three operations the tables
//! report.
//!
//! - **empty**: one `POST` with a device-step body to the baseline server.
//! - **frictionless**: the merchant backend creates the authentication, then the widget sends
//!   the device step with the trusted device token and its device key's proof for this
//!   authentication, and gets the result token (2 requests).
//! - **challenge**: create, a device step without a token (a new browser), the one-time code
//!   read from the SMTP sink once the outbox has mailed it, and the code verified with a fresh
//!   device key and its registration proof, for the result and a new device token (3 requests
//!   and one mail).
//!
//! The browsers behave as the widget does wherever WebCrypto is there (every modern browser):
//! keyed devices, so every frictionless purchase costs the verifier one ECDSA P-256
//! verification. Each operation checks the answer it must get, so a run that quietly stopped
//! doing the work it claims to measure shows up as errors, not as speed: a keyed device whose
//! proof does not verify is challenged, not passed.

use std::time::Duration;

use hyper::body::Bytes;
use mamori_core::device_key::Purpose;
use mamori_core::fingerprint::{Browser, Fingerprint, SCHEMA, hash_component};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::browser_key::BrowserKey;
use crate::cards::Card;
use crate::http::{Answer, Connection, Failure};
use crate::verifier::ORIGIN;

/// The longest a client waits for its code mail before counting the round trip as failed.
const MAIL_WAIT: Duration = Duration::from_secs(30);

/// The purchase amount (yen): under the cards' ceiling and the same every time, so the
/// "unusual amount" signal never fires.
const AMOUNT: u64 = 4_200;

/// What every client shares.
pub(crate) struct Context {
    /// The merchant's secret key.
    pub(crate) merchant_key: String,
    /// The browser's fingerprint, the same on every visit so a trusted device matches.
    fingerprint: Value,
}

impl Context {
    /// A context for `merchant_key`.
    pub(crate) fn new(merchant_key: String) -> Self {
        let mut fingerprint = Fingerprint::new(Browser::Chromium);
        for component in SCHEMA {
            let hash = hash_component(component.id, format!("bench-{}", component.id));
            // Every id comes from the schema itself, so none is refused.
            let _ = fingerprint.insert(component.id, hash);
        }
        let fingerprint = serde_json::from_str(&fingerprint.to_json()).unwrap_or(Value::Null);
        Self {
            merchant_key,
            fingerprint,
        }
    }

    /// The device step's body from a browser holding `token`, with `proof` when it holds a
    /// device key too (the member is left out otherwise, as the widget leaves it out).
    fn device_body(&self, token: Option<&str>, proof: Option<&str>) -> Bytes {
        let mut body = json!({
            "fingerprint": self.fingerprint,
            "device_token": token,
            "browser": {"language": "en-US", "timezone": "Asia/Tokyo",
                        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 mamori-bench"},
        });
        if let (Some(proof), Some(body)) = (proof, body.as_object_mut()) {
            body.insert("device_proof".into(), proof.into());
        }
        Bytes::from(body.to_string())
    }
}

/// One operation on the empty baseline.
///
/// # Errors
///
/// When the request fails or is not answered `200`.
pub(crate) async fn empty(
    connection: &mut Connection,
    context: &Context,
    card: &Card,
) -> Result<u32, Failure> {
    let answer = connection
        .post(
            "/v1/authentications/au_bench/device",
            &[("authorization", "Bearer cs_bench"), ("origin", ORIGIN)],
            context.device_body(card.device_token.as_deref(), None),
        )
        .await?;
    expect_status(&answer, 200)?;
    Ok(1)
}

/// One frictionless authentication; `card` must hold a trusted device token and its key, whose
/// `device` proof for the new authentication goes with the device step.
///
/// # Errors
///
/// When the card's browser holds no device key, any request fails, or the verifier does not
/// answer `frictionless` with a result token (as it does not when the proof fails to verify).
pub(crate) async fn frictionless(
    connection: &mut Connection,
    context: &Context,
    card: &Card,
    order: u64,
) -> Result<u32, Failure> {
    let key = card
        .device_key
        .as_ref()
        .ok_or("the card's browser holds no device key")?;
    let (id, secret) = create(connection, context, card, order).await?;
    let proof = key.proof(Purpose::Device, &id)?;
    let body = context.device_body(card.device_token.as_deref(), Some(&proof));
    let device = widget(connection, card, &id, &secret, "/device", body).await?;
    if device["outcome"] != "frictionless" || !device["result_token"].is_string() {
        return Err(format!("device step answered {device}").into());
    }
    Ok(2)
}

/// Checks that the verifier bound `card`'s device key: a device step with the trusted token and
/// a signature by that key over the wrong message (the `register` one for the same
/// authentication) must be challenged. Without this, a verifier that dropped registered keys
/// would pass every frictionless purchase on its token alone and the runs would measure the
/// unbound path while claiming the keyed one. Leaves one authentication waiting for its code,
/// whose mail the card's next challenge discards.
///
/// # Errors
///
/// When the card holds no key, a request fails, or the step is not challenged.
pub(crate) async fn keyed_device_needs_its_proof(
    connection: &mut Connection,
    context: &Context,
    card: &Card,
    order: u64,
) -> Result<(), Failure> {
    let key = card
        .device_key
        .as_ref()
        .ok_or("the card's browser holds no device key")?;
    let (id, secret) = create(connection, context, card, order).await?;
    let wrong_proof = key.proof(Purpose::Register, &id)?;
    let body = context.device_body(card.device_token.as_deref(), Some(&wrong_proof));
    let device = widget(connection, card, &id, &secret, "/device", body).await?;
    if device["outcome"] == "challenge" {
        Ok(())
    } else {
        Err(format!(
            "a device step with a proof that does not verify answered {device}: the verifier \
             does not hold the device key the card registered"
        )
        .into())
    }
}

/// One challenge round trip; `codes` receives the codes mailed to `card`. The code goes with a
/// fresh device key's registration, as the widget sends it; on success the card keeps the new
/// device token and that key.
///
/// # Errors
///
/// When any request fails, the code mail does not come, or the code is not accepted.
pub(crate) async fn challenge(
    connection: &mut Connection,
    context: &Context,
    card: &mut Card,
    codes: &mut mpsc::UnboundedReceiver<String>,
    order: u64,
) -> Result<u32, Failure> {
    // A code from an earlier round that timed out would be the wrong one.
    while codes.try_recv().is_ok() {}
    let (id, secret) = create(connection, context, card, order).await?;
    let device = widget(
        connection,
        card,
        &id,
        &secret,
        "/device",
        context.device_body(None, None),
    )
    .await?;
    if device["outcome"] != "challenge" {
        return Err(format!("device step answered {device}").into());
    }
    let code = tokio::time::timeout(MAIL_WAIT, codes.recv())
        .await
        .map_err(|_| "no code mail within 30 s")?
        .ok_or("the SMTP sink stopped")?;
    let key = BrowserKey::generate()?;
    let body = json!({
        "code": code,
        "device_key": {"public_key": key.public_key()?, "proof": key.proof(Purpose::Register, &id)?},
    });
    let body = Bytes::from(body.to_string());
    let verified = widget(connection, card, &id, &secret, "/challenge/verify", body).await?;
    match (&verified["outcome"], verified["device_token"].as_str()) {
        (outcome, Some(token)) if outcome == "authenticated" => {
            card.device_token = Some(token.to_owned());
            card.device_key = Some(key);
            Ok(3)
        }
        _ => Err(format!("verify answered {verified}").into()),
    }
}

/// `POST /v1/authentications` as the merchant's backend; answers the id and client secret.
async fn create(
    connection: &mut Connection,
    context: &Context,
    card: &Card,
    order: u64,
) -> Result<(String, String), Failure> {
    let body = json!({
        "card_number": card.number, "amount": AMOUNT, "currency": "JPY",
        "order_ref": format!("bench-{order}"),
    });
    let authorization = format!("Bearer {}", context.merchant_key);
    let answer = connection
        .post(
            "/v1/authentications",
            &[("authorization", &authorization)],
            Bytes::from(body.to_string()),
        )
        .await?;
    expect_status(&answer, 201)?;
    let created: Value = serde_json::from_slice(&answer.body)?;
    match (created["id"].as_str(), created["client_secret"].as_str()) {
        (Some(id), Some(secret)) => Ok((id.to_owned(), secret.to_owned())),
        _ => Err(format!("create answered {created}").into()),
    }
}

/// A widget call on authentication `id`, from `card`'s browser; answers the JSON body.
async fn widget(
    connection: &mut Connection,
    card: &Card,
    id: &str,
    secret: &str,
    path: &str,
    body: Bytes,
) -> Result<Value, Failure> {
    let authorization = format!("Bearer {secret}");
    let answer = connection
        .post(
            &format!("/v1/authentications/{id}{path}"),
            &[
                ("authorization", &authorization),
                ("origin", ORIGIN),
                ("x-forwarded-for", &card.ip),
            ],
            body,
        )
        .await?;
    expect_status(&answer, 200)?;
    Ok(serde_json::from_slice(&answer.body)?)
}

fn expect_status(answer: &Answer, status: u16) -> Result<(), Failure> {
    if answer.status == status {
        Ok(())
    } else {
        Err(format!(
            "answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )
        .into())
    }
}
