//! Issuing result and device tokens, reading device tokens back, and signing report and
//! self-service links.
//!
//! [`Tokens`] is the verifier's signing desk: it holds the settings and server keys, takes the
//! time from its caller and knows nothing of HTTP or the store — the flow fetches the merchant's
//! key and the device row and hands them in.
//!
//! Claims are strings on the wire and ids are types here: an id is spelled out as it goes into
//! a token, and a report link's id is parsed as it comes back (the flow parses a device token's
//! `did` itself, before looking the device up).

use mamori_core::token::{
    self, DeviceClaims, Eci, Method, Reason, ResultClaims, SigningKey, TokenError, TransStatus,
    Transaction, Validation,
};
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::model::{
    Authentication, AuthenticationId, CardholderId, DeviceId, MerchantId, MerchantKey, Outcome,
};
use crate::secrets::{RandomError, Secrets, hex, hmac_sha256, random_id};

/// What a result token says: the 3-D Secure status, how it was reached and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// `transStatus`.
    pub status: TransStatus,
    /// Frictionless or challenge.
    pub method: Method,
    /// `transStatusReason`, for anything but `Y`.
    pub reason: Option<Reason>,
}

/// A result could not be signed; each case is a fault on our side, never the caller's.
#[derive(Debug)]
pub enum IssueError {
    /// The merchant has no key that is still live.
    NoLiveKey(MerchantId),
    /// A stored key or value cannot be used for signing.
    Unusable(String),
    /// The system's random source failed (for the token id).
    Random(RandomError),
}

impl std::fmt::Display for IssueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoLiveKey(merchant) => write!(f, "merchant {merchant} has no live key"),
            Self::Unusable(what) => write!(f, "cannot sign: {what}"),
            Self::Random(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for IssueError {}

/// The ECI that goes with a status.
fn eci_for(status: TransStatus) -> Eci {
    match status {
        TransStatus::Authenticated => Eci::Authenticated,
        TransStatus::Attempted => Eci::Attempted,
        _ => Eci::NotAuthenticated,
    }
}

/// Seconds since the epoch as a token's `u64` time; a clock before 1970 reads as 0, which
/// makes every lifetime check fail closed.
fn epoch(seconds: i64) -> u64 {
    u64::try_from(seconds).unwrap_or(0)
}

const REPORT_CONTEXT: &[u8] = b"mamori-report-v1\0";
/// Its own context, so that no report link's MAC can pass as a self-service link's, even for an
/// id that would parse as both.
const SELFSERVICE_CONTEXT: &[u8] = b"mamori-selfservice-v1\0";

/// How long a self-service link works: 30 days. Every mail carries a fresh one, so a cardholder
/// who gets mail has a working link; a link found in an old mailbox or a forwarded mail stops
/// opening the card's page after a month, and it can only ever remove trust (the worst a
/// finder can do is make the cardholder's next purchase ask for a code).
pub const SELFSERVICE_LINK_LIFETIME: i64 = 30 * 24 * 60 * 60;

/// Signs and reads the verifier's tokens under its configuration and keys.
#[derive(Debug, Clone, Copy)]
pub struct Tokens<'a> {
    config: &'a Config,
    secrets: &'a Secrets,
}

impl<'a> Tokens<'a> {
    /// The signing desk over `config` (issuer, lifetimes) and `secrets` (server keys).
    pub fn new(config: &'a Config, secrets: &'a Secrets) -> Self {
        Self { config, secrets }
    }

    /// Signs `verdict` on `auth` with `keys`' newest live key (keys come newest first).
    ///
    /// # Errors
    ///
    /// [`IssueError`] when no key is live, a stored value is unusable or randomness fails.
    pub fn result(
        &self,
        keys: &[MerchantKey],
        auth: &Authentication,
        verdict: Verdict,
        now: i64,
    ) -> Result<Outcome, IssueError> {
        let key = keys
            .iter()
            .find(|k| k.is_live(now))
            .ok_or_else(|| IssueError::NoLiveKey(auth.merchant_id.clone()))?;
        let key = SigningKey::new(key.kid.as_str(), &key.secret)
            .map_err(|e| IssueError::Unusable(format!("merchant key {}: {e}", key.kid)))?;
        let iat = epoch(now);
        let eci = eci_for(verdict.status);
        let claims = ResultClaims {
            iss: self.config.public_url.to_string(),
            aud: auth.merchant_id.to_string(),
            sub: auth.id.to_string(),
            iat,
            exp: iat + epoch(self.config.security.result_token_lifetime.get()),
            jti: random_id("rt_").map_err(IssueError::Random)?,
            txn: Transaction {
                reference: auth.order_ref.as_str().to_owned(),
                amount: auth.amount.unsigned(),
                currency: auth.currency,
            },
            status: verdict.status,
            eci,
            method: verdict.method,
            reason: verdict.reason,
        };
        Ok(Outcome {
            status: verdict.status,
            eci,
            method: verdict.method,
            reason: verdict.reason,
            result_token: token::sign_result(&claims, &key),
        })
    }

    /// A device token naming `device_id` at `merchant_id` (in `did`, and in `sub`, which the
    /// verifier no longer reads: a token from before devices were shared by cards carried the
    /// card there, and is read by its `did` alone). It expires with the device row:
    /// `expires_at` is the row's.
    pub fn device(
        &self,
        merchant_id: &MerchantId,
        device_id: &DeviceId,
        expires_at: i64,
        now: i64,
    ) -> String {
        let claims = DeviceClaims {
            iss: self.config.public_url.to_string(),
            aud: merchant_id.to_string(),
            sub: device_id.to_string(),
            did: device_id.to_string(),
            iat: epoch(now),
            exp: epoch(expires_at),
        };
        token::sign_device(&claims, &self.secrets.device_key)
    }

    /// The claims of a device token presented for `merchant_id`, if its signature, audience and
    /// lifetime hold. A valid token proves only that the verifier issued it: the caller checks
    /// the device row it names.
    ///
    /// # Errors
    ///
    /// The [`TokenError`] that refused it, for the log.
    pub fn device_claims(
        &self,
        token: &str,
        merchant_id: &MerchantId,
        now: i64,
    ) -> Result<DeviceClaims, TokenError> {
        let validation = Validation::device(merchant_id.as_str(), epoch(now));
        token::verify_device(token, &self.secrets.device_keys, &validation)
    }

    /// A presented device token checked by every rule of [`Self::device_claims`] but the
    /// audience, which is the purchase's merchant and known only once the device it names has
    /// been read with the purchase: [`token::OpenedDevice::for_audience`] checks it then.
    ///
    /// # Errors
    ///
    /// The [`TokenError`] that refused it, for the log.
    pub fn open_device(&self, token: &str, now: i64) -> Result<token::OpenedDevice, TokenError> {
        // The audience is checked later, by `for_audience`; `open_device` does not look at it.
        let validation = Validation::device("", epoch(now));
        token::open_device(token, &self.secrets.device_keys, &validation)
    }

    /// The report link for an authentication: `<public_url>/report/<id>.<exp>.<hex mac>`.
    pub fn report_url(&self, authentication_id: &AuthenticationId, now: i64) -> String {
        let exp = now + self.config.security.report_link_lifetime;
        let mac = self.report_mac(authentication_id.as_str(), exp);
        format!(
            "{}/report/{authentication_id}.{exp}.{}",
            self.config.public_url.trim_end_matches('/'),
            hex(&mac)
        )
    }

    /// The authentication id a report token is for, if its signature holds, it has not
    /// expired and it names an authentication id (only a link this verifier signed can).
    pub fn report_authentication(&self, token: &str, now: i64) -> Option<AuthenticationId> {
        let mut parts = token.splitn(3, '.');
        let (id, exp, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let exp: i64 = exp.parse().ok()?;
        let expected = hex(&self.report_mac(id, exp));
        let valid: bool = expected.as_bytes().ct_eq(mac.as_bytes()).into();
        if valid && exp > now {
            AuthenticationId::parse(id)
        } else {
            None
        }
    }

    /// The link to a cardholder's own page (trusted browsers, open cases), mailed to `email`,
    /// the card's address: `<public_url>/me/<cardholder id>.<exp>.<hex mac>`, valid for
    /// [`SELFSERVICE_LINK_LIFETIME`] while the card keeps that address.
    pub fn selfservice_url(&self, cardholder_id: &CardholderId, email: &str, now: i64) -> String {
        format!(
            "{}/me/{}",
            self.config.public_url.trim_end_matches('/'),
            self.selfservice_token(cardholder_id, email, now + SELFSERVICE_LINK_LIFETIME)
        )
    }

    /// The token of a self-service link to `email` expiring at `exp` (the path segment after
    /// `/me/`). The MAC covers the address the link was mailed to, so changing a card's address
    /// (the issuer's answer to a lost mailbox) ends every link the old mailbox holds.
    pub fn selfservice_token(&self, cardholder_id: &CardholderId, email: &str, exp: i64) -> String {
        let mac = self.selfservice_mac(cardholder_id.as_str(), email, exp);
        format!("{cardholder_id}.{exp}.{}", hex(&mac))
    }

    /// The cardholder a self-service token claims to name, if it has not expired; whether
    /// the claim holds is [`Self::selfservice_holds`]'s to say, with the card's address.
    pub fn selfservice_claim(&self, token: &str, now: i64) -> Option<CardholderId> {
        let mut parts = token.splitn(3, '.');
        let (id, exp) = (parts.next()?, parts.next()?);
        let exp: i64 = exp.parse().ok()?;
        (exp > now).then(|| CardholderId::parse(id)).flatten()
    }

    /// Whether `token`'s signature holds for the card `cardholder_id` at its address `email`
    /// (compared in constant time).
    pub fn selfservice_holds(
        &self,
        token: &str,
        cardholder_id: &CardholderId,
        email: &str,
    ) -> bool {
        let mut parts = token.splitn(3, '.');
        let (Some(id), Some(exp), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let Ok(exp) = exp.parse::<i64>() else {
            return false;
        };
        let expected = hex(&self.selfservice_mac(id, email, exp));
        let valid: bool = expected.as_bytes().ct_eq(mac.as_bytes()).into();
        valid && id == cardholder_id.as_str()
    }

    fn selfservice_mac(&self, id: &str, email: &str, exp: i64) -> [u8; 32] {
        hmac_sha256(
            &self.secrets.report_key,
            &[
                SELFSERVICE_CONTEXT,
                id.as_bytes(),
                b"\0",
                email.as_bytes(),
                b"\0",
                exp.to_string().as_bytes(),
            ],
        )
    }

    fn report_mac(&self, id: &str, exp: i64) -> [u8; 32] {
        hmac_sha256(
            &self.secrets.report_key,
            &[
                REPORT_CONTEXT,
                id.as_bytes(),
                b"\0",
                exp.to_string().as_bytes(),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn desk_parts() -> (Config, Secrets) {
        (Config::default(), Secrets::derive(&[7; 32]))
    }

    #[test]
    fn a_selfservice_link_names_its_card_until_it_expires() {
        let (config, secrets) = desk_parts();
        let tokens = Tokens::new(&config, &secrets);
        let card = CardholderId::from_static("ch_1");
        let url = tokens.selfservice_url(&card, "a@example.jp", NOW);
        let token = url.rsplit_once("/me/").unwrap().1;
        assert_eq!(
            token.split('.').nth(1),
            Some((NOW + SELFSERVICE_LINK_LIFETIME).to_string().as_str())
        );
        assert_eq!(tokens.selfservice_claim(token, NOW), Some(card.clone()));
        assert!(tokens.selfservice_holds(token, &card, "a@example.jp"));
        let last = NOW + SELFSERVICE_LINK_LIFETIME;
        assert_eq!(tokens.selfservice_claim(token, last - 1), Some(card));
        assert_eq!(tokens.selfservice_claim(token, last), None, "expired");
    }

    #[test]
    fn a_selfservice_link_ends_when_its_card_changes_address() {
        let (config, secrets) = desk_parts();
        let tokens = Tokens::new(&config, &secrets);
        let card = CardholderId::from_static("ch_1");
        let token = tokens.selfservice_token(&card, "old@example.jp", NOW + 100);
        assert!(tokens.selfservice_holds(&token, &card, "old@example.jp"));
        assert!(!tokens.selfservice_holds(&token, &card, "new@example.jp"));
    }

    #[test]
    fn a_forged_or_foreign_selfservice_token_names_nobody() {
        let (config, secrets) = desk_parts();
        let tokens = Tokens::new(&config, &secrets);
        let card = CardholderId::from_static("ch_1");
        let email = "a@example.jp";
        let token = tokens.selfservice_token(&card, email, NOW + 100);
        let (_, rest) = token.split_once('.').unwrap();
        // Another card's id under this card's MAC, a later expiry, a flipped MAC digit.
        let other_card = format!("ch_2.{rest}");
        let later = token.replace(&format!(".{}.", NOW + 100), &format!(".{}.", NOW + 200));
        let mut flipped = token.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        for forged in [
            other_card.as_str(),
            &later,
            &flipped,
            "",
            "ch_1",
            "ch_1.x.y",
        ] {
            let claimed = tokens.selfservice_claim(forged, NOW);
            let holds = claimed.is_some_and(|id| tokens.selfservice_holds(forged, &id, email));
            assert!(!holds, "{forged}");
        }
        // A report link's MAC over the same text is not a self-service link's.
        let report = tokens.report_mac("ch_1", NOW + 100);
        let as_report = format!("ch_1.{}.{}", NOW + 100, hex(&report));
        assert!(!tokens.selfservice_holds(&as_report, &card, email));
        // Another verifier's key.
        let other_secrets = Secrets::derive(&[8; 32]);
        let elsewhere = Tokens::new(&config, &other_secrets);
        assert!(!elsewhere.selfservice_holds(&token, &card, email));
    }
}
