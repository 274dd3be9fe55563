//! Issuing result and device tokens, checking device tokens, and signing report links.

use mamori_core::fingerprint::{self, Fingerprint};
use mamori_core::token::{
    self, Currency, DeviceClaims, Eci, Method, Reason, ResultClaims, SigningKey, TransStatus,
    Transaction, Validation,
};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::model::{Authentication, Outcome};
use crate::risk::DeviceMatch;
use crate::secrets::{hex, hmac_sha256, random_id};
use crate::state::AppState;

/// The ECI that goes with a status.
fn eci_for(status: TransStatus) -> Eci {
    match status {
        TransStatus::Authenticated => Eci::Authenticated,
        TransStatus::Attempted => Eci::Attempted,
        _ => Eci::NotAuthenticated,
    }
}

/// Signs the result of `auth` with its merchant's newest live key.
///
/// # Errors
///
/// [`ApiError::Internal`] when the merchant has no live key or stored values are unusable.
pub async fn result_outcome(
    state: &AppState,
    auth: &Authentication,
    status: TransStatus,
    method: Method,
    reason: Option<Reason>,
) -> Result<Outcome, ApiError> {
    let now = state.now();
    let keys = state.store.merchant_keys(&auth.merchant_id).await?;
    let key = keys.iter().find(|k| k.is_live(now)).ok_or_else(|| {
        ApiError::Internal(format!("merchant {} has no live key", auth.merchant_id))
    })?;
    let key = SigningKey::new(&key.kid, &key.secret)
        .map_err(|e| ApiError::Internal(format!("merchant key {}: {e}", key.kid)))?;
    let currency = Currency::new(&auth.currency)
        .ok_or_else(|| ApiError::Internal(format!("stored currency {:?}", auth.currency)))?;
    let iat = u64::try_from(now).map_err(|_| ApiError::Internal("clock before 1970".into()))?;
    let lifetime = u64::try_from(state.config.security.result_token_lifetime).unwrap_or(0);
    let eci = eci_for(status);
    let claims = ResultClaims {
        iss: state.config.public_url.to_string(),
        aud: auth.merchant_id.clone(),
        sub: auth.id.clone(),
        iat,
        exp: iat + lifetime,
        jti: random_id("rt_")?,
        txn: Transaction {
            reference: auth.order_ref.clone(),
            amount: u64::try_from(auth.amount).unwrap_or(0),
            currency,
        },
        status,
        eci,
        method,
        reason,
    };
    Ok(Outcome {
        status,
        eci,
        method,
        reason,
        result_token: token::sign_result(&claims, &key),
    })
}

/// A device token for `device_id`, trusted for `cardholder_id` at `merchant_id`.
pub fn device_token(
    state: &AppState,
    merchant_id: &str,
    cardholder_id: &str,
    device_id: &str,
) -> String {
    let now = u64::try_from(state.now()).unwrap_or(0);
    let lifetime = u64::try_from(state.config.security.device_lifetime).unwrap_or(0);
    let claims = DeviceClaims {
        iss: state.config.public_url.to_string(),
        aud: merchant_id.into(),
        sub: cardholder_id.into(),
        did: device_id.into(),
        iat: now,
        exp: now + lifetime,
    };
    token::sign_device(&claims, &state.secrets.device_key)
}

/// What a presented device token is worth for this authentication: a valid signature is not
/// enough — the device must exist, be unrevoked and unexpired, and belong to this card and
/// merchant.
///
/// # Errors
///
/// [`ApiError::Internal`] on a store failure.
pub async fn device_match(
    state: &AppState,
    auth: &Authentication,
    token: Option<&str>,
    presented: &Fingerprint,
) -> Result<(DeviceMatch, Option<String>), ApiError> {
    let Some(token) = token else {
        return Ok((DeviceMatch::NoToken, None));
    };
    let Some(cardholder) = auth.cardholder_id.as_deref() else {
        return Ok((DeviceMatch::NotTrusted, None));
    };
    let now = state.now();
    let validation = Validation::device(&auth.merchant_id, u64::try_from(now).unwrap_or(0));
    let claims = match token::verify_device(token, &state.secrets.device_keys, &validation) {
        Ok(claims) => claims,
        Err(e) => {
            tracing::info!(authentication = %auth.id, error = e.code(), "device token refused");
            return Ok((DeviceMatch::NotTrusted, None));
        }
    };
    let device = state.store.device(&claims.did).await?;
    let Some(device) = device.filter(|d| {
        d.cardholder_id == cardholder
            && claims.sub == cardholder
            && d.merchant_id == auth.merchant_id
            && d.revoked_at.is_none()
            && d.expires_at > now
    }) else {
        tracing::info!(authentication = %auth.id, "device unknown, revoked or for another card");
        return Ok((DeviceMatch::NotTrusted, None));
    };
    let stored: Option<Fingerprint> = serde_json::from_str(&device.fingerprint).ok();
    let similarity = stored.map_or(0, |stored| fingerprint::similarity(&stored, presented));
    Ok((DeviceMatch::Trusted { similarity }, Some(device.id)))
}

const REPORT_CONTEXT: &[u8] = b"mamori-report-v1\0";

/// A signed, expiring report link token for an authentication: `<id>.<exp>.<hex mac>`.
pub fn report_token(state: &AppState, authentication_id: &str) -> String {
    let exp = state.now() + state.config.security.report_link_lifetime;
    let mac = report_mac(&state.secrets.report_key, authentication_id, exp);
    format!("{authentication_id}.{exp}.{}", hex(&mac))
}

/// The full report URL for an authentication.
pub fn report_url(state: &AppState, authentication_id: &str) -> String {
    format!(
        "{}/report/{}",
        state.config.public_url.trim_end_matches('/'),
        report_token(state, authentication_id)
    )
}

/// The authentication id a report token is for, if its signature holds and it has not expired.
pub fn check_report_token(state: &AppState, token: &str) -> Option<String> {
    let mut parts = token.splitn(3, '.');
    let (id, exp, mac) = (parts.next()?, parts.next()?, parts.next()?);
    let exp: i64 = exp.parse().ok()?;
    let expected = hex(&report_mac(&state.secrets.report_key, id, exp));
    let valid: bool = expected.as_bytes().ct_eq(mac.as_bytes()).into();
    (valid && exp > state.now()).then(|| id.to_owned())
}

fn report_mac(key: &[u8; 32], id: &str, exp: i64) -> [u8; 32] {
    hmac_sha256(
        key,
        &[
            REPORT_CONTEXT,
            id.as_bytes(),
            b"\0",
            exp.to_string().as_bytes(),
        ],
    )
}
