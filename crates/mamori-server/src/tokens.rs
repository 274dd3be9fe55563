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
//!
//! # Self-service links
//!
//! A link to a cardholder's own page is `<card id>.<exp>.<mac>`, the MAC (HMAC-SHA256 under the
//! report key, in its own context) over the card id, the expiry and the card's **contact
//! epoch** ([`crate::model::Cardholder::contact_epoch`]): a count the issuer's every change of
//! the card's address raises by one, in the transaction that changes it. A link therefore opens
//! the page only while the card keeps the address it was mailed to *at that time*: after a
//! change, every link mailed before it is dead for good, even if the card later gets the old
//! address back (A → B → A), because the count never repeats. Binding the address itself, as
//! links before migration 0016 did, revived the old mailbox's links on such a return.
//!
//! Links minted before the upgrade (context `mamori-selfservice-v1`, MAC over the address) are
//! refused, not honoured until they expire: that binding cannot tell whether the card went
//! A → B → A before the upgrade, so honouring it would keep the hole open for up to 30 days.
//! Refusing costs little: the page can only remove trust, its refusal asks for the latest
//! mail's link, every mail after the upgrade carries a new one, and the issuer's support desk
//! removes browsers meanwhile (`DELETE /admin/v1/cardholders/{id}/devices/{device_id}`).

use mamori_core::token::{
    self, DeviceClaims, Eci, Method, Reason, ResultClaims, SigningKey, TokenError, TransStatus,
    Transaction, Validation,
};
use subtle::ConstantTimeEq;

use crate::config::Config;
use crate::model::{
    Authentication, AuthenticationId, Cardholder, CardholderId, DeviceId, MerchantId, MerchantKey,
    Outcome,
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

/// A link's expiry as it is written (`i64`'s own decimal form, which its MAC covers) and nothing
/// else: `+1800000100` or `01800000100` would parse to the same number, so one link would have
/// several spellings that all verify.
fn parse_exp(text: &str) -> Option<i64> {
    let exp: i64 = text.parse().ok()?;
    (exp.to_string() == text).then_some(exp)
}

const REPORT_CONTEXT: &[u8] = b"mamori-report-v1\0";
/// Its own context, so that no report link's MAC can pass as a self-service link's, even for an
/// id that would parse as both. `v2` binds the contact epoch; `v1` (the address) is refused (see
/// the module docs).
const SELFSERVICE_CONTEXT: &[u8] = b"mamori-selfservice-v2\0";

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
        let exp = parse_exp(exp)?;
        let expected = hex(&self.report_mac(id, exp));
        let valid: bool = expected.as_bytes().ct_eq(mac.as_bytes()).into();
        if valid && exp > now {
            AuthenticationId::parse(id)
        } else {
            None
        }
    }

    /// The link to `cardholder`'s own page (trusted browsers, open cases):
    /// `<public_url>/me/<cardholder id>.<exp>.<hex mac>`, valid for
    /// [`SELFSERVICE_LINK_LIFETIME`] while the card keeps its contact epoch, that is until the
    /// issuer next changes its address (see the module docs).
    pub fn selfservice_url(&self, cardholder: &Cardholder, now: i64) -> String {
        format!(
            "{}/me/{}",
            self.config.public_url.trim_end_matches('/'),
            self.selfservice_token(
                &cardholder.id,
                cardholder.contact_epoch,
                now + SELFSERVICE_LINK_LIFETIME
            )
        )
    }

    /// The token of a self-service link for the card at `contact_epoch`, expiring at `exp` (the
    /// path segment after `/me/`).
    pub fn selfservice_token(
        &self,
        cardholder_id: &CardholderId,
        contact_epoch: i64,
        exp: i64,
    ) -> String {
        let mac = self.selfservice_mac(cardholder_id.as_str(), contact_epoch, exp);
        format!("{cardholder_id}.{exp}.{}", hex(&mac))
    }

    /// The cardholder a self-service token claims to name, if it has not expired; whether
    /// the claim holds is [`Self::selfservice_holds`]'s to say, with the card as stored.
    pub fn selfservice_claim(&self, token: &str, now: i64) -> Option<CardholderId> {
        let mut parts = token.splitn(3, '.');
        let (id, exp) = (parts.next()?, parts.next()?);
        let exp = parse_exp(exp)?;
        (exp > now).then(|| CardholderId::parse(id)).flatten()
    }

    /// Whether `token`'s signature holds for `cardholder` at its current contact epoch
    /// (compared in constant time): `false` for a link mailed before the card's address last
    /// changed.
    pub fn selfservice_holds(&self, token: &str, cardholder: &Cardholder) -> bool {
        let mut parts = token.splitn(3, '.');
        let (Some(id), Some(exp), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let Some(exp) = parse_exp(exp) else {
            return false;
        };
        let expected = hex(&self.selfservice_mac(id, cardholder.contact_epoch, exp));
        let valid: bool = expected.as_bytes().ct_eq(mac.as_bytes()).into();
        valid && id == cardholder.id.as_str()
    }

    fn selfservice_mac(&self, id: &str, contact_epoch: i64, exp: i64) -> [u8; 32] {
        hmac_sha256(
            &self.secrets.report_key,
            &[
                SELFSERVICE_CONTEXT,
                id.as_bytes(),
                b"\0",
                contact_epoch.to_string().as_bytes(),
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
    use crate::model::{CardStatus, Ceilings, Locale};

    const NOW: i64 = 1_800_000_000;

    fn desk_parts() -> (Config, Secrets) {
        (Config::default(), Secrets::derive(&[7; 32]))
    }

    fn card(id: &'static str, contact_epoch: i64) -> Cardholder {
        Cardholder {
            id: CardholderId::from_static(id),
            card_ref: "ref".into(),
            last4: "0005".into(),
            email: "a@example.jp".into(),
            locale: Locale::Ja,
            status: CardStatus::Active,
            frictionless_ceilings: Ceilings::default(),
            created_at: 0,
            contact_epoch,
        }
    }

    #[test]
    fn a_selfservice_link_names_its_card_until_it_expires() {
        let (config, secrets) = desk_parts();
        let tokens = Tokens::new(&config, &secrets);
        let card = card("ch_1", 0);
        let url = tokens.selfservice_url(&card, NOW);
        let token = url.rsplit_once("/me/").unwrap().1;
        assert_eq!(
            token.split('.').nth(1),
            Some((NOW + SELFSERVICE_LINK_LIFETIME).to_string().as_str())
        );
        assert_eq!(tokens.selfservice_claim(token, NOW), Some(card.id.clone()));
        assert!(tokens.selfservice_holds(token, &card));
        let last = NOW + SELFSERVICE_LINK_LIFETIME;
        assert_eq!(tokens.selfservice_claim(token, last - 1), Some(card.id));
        assert_eq!(tokens.selfservice_claim(token, last), None, "expired");
    }

    /// The link is bound to the contact epoch, not the address: a later epoch refuses it
    /// whatever the address is, and the address alone never matters.
    #[test]
    fn a_selfservice_link_ends_when_its_cards_contact_epoch_moves() {
        let (config, secrets) = desk_parts();
        let tokens = Tokens::new(&config, &secrets);
        let before = card("ch_1", 3);
        let token = tokens.selfservice_token(&before.id, 3, NOW + 100);
        assert!(tokens.selfservice_holds(&token, &before));
        let moved_back = Cardholder {
            email: before.email.clone(),
            ..card("ch_1", 4)
        };
        assert!(!tokens.selfservice_holds(&token, &moved_back));
        let respelled = Cardholder {
            email: "A@EXAMPLE.JP".into(),
            ..before.clone()
        };
        assert!(tokens.selfservice_holds(&token, &respelled));
    }

    /// A link signed as before migration 0016 (over the address) does not open the page.
    #[test]
    fn a_link_bound_to_the_address_is_refused() {
        let (config, secrets) = desk_parts();
        let tokens = Tokens::new(&config, &secrets);
        let card = card("ch_1", 0);
        let exp = NOW + 100;
        let v1 = hmac_sha256(
            &secrets.report_key,
            &[
                b"mamori-selfservice-v1\0",
                b"ch_1",
                b"\0",
                card.email.as_bytes(),
                b"\0",
                exp.to_string().as_bytes(),
            ],
        );
        let token = format!("ch_1.{exp}.{}", hex(&v1));
        assert_eq!(tokens.selfservice_claim(&token, NOW), Some(card.id.clone()));
        assert!(!tokens.selfservice_holds(&token, &card));
    }

    /// A link's expiry has one spelling: a sign or a leading zero, which the MAC (over the
    /// number) would not see, makes the link invalid, for a self-service and a report link.
    #[test]
    fn an_expiry_spelled_another_way_is_refused() {
        let (config, secrets) = desk_parts();
        let tokens = Tokens::new(&config, &secrets);
        let card = card("ch_1", 0);
        let token = tokens.selfservice_token(&card.id, 0, NOW + 100);
        let report = tokens.report_url(
            &AuthenticationId::from_static("au_5a1e2b7c9d0f4e3a8b6c1d2e3f4a5b6c"),
            NOW,
        );
        let report = report
            .rsplit_once("/report/")
            .map(|(_, t)| t.to_owned())
            .unwrap();
        assert!(tokens.selfservice_holds(&token, &card));
        assert!(tokens.selfservice_claim(&token, NOW).is_some());
        assert!(tokens.report_authentication(&report, NOW).is_some());
        for respell in [|exp: &str| format!("+{exp}"), |exp: &str| format!("0{exp}")] {
            let (id, rest) = token.split_once('.').unwrap();
            let (exp, mac) = rest.split_once('.').unwrap();
            let respelled = format!("{id}.{}.{mac}", respell(exp));
            assert!(!tokens.selfservice_holds(&respelled, &card), "{respelled}");
            assert_eq!(
                tokens.selfservice_claim(&respelled, NOW),
                None,
                "{respelled}"
            );
            let (id, rest) = report.split_once('.').unwrap();
            let (exp, mac) = rest.split_once('.').unwrap();
            let respelled = format!("{id}.{}.{mac}", respell(exp));
            assert_eq!(
                tokens.report_authentication(&respelled, NOW),
                None,
                "{respelled}"
            );
        }
    }

    #[test]
    fn a_forged_or_foreign_selfservice_token_names_nobody() {
        let (config, secrets) = desk_parts();
        let tokens = Tokens::new(&config, &secrets);
        let card = card("ch_1", 0);
        let token = tokens.selfservice_token(&card.id, 0, NOW + 100);
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
            let holds = claimed.is_some_and(|id| {
                let named = Cardholder { id, ..card.clone() };
                tokens.selfservice_holds(forged, &named)
            });
            assert!(!holds, "{forged}");
        }
        // A report link's MAC over the same text is not a self-service link's.
        let report = tokens.report_mac("ch_1", NOW + 100);
        let as_report = format!("ch_1.{}.{}", NOW + 100, hex(&report));
        assert!(!tokens.selfservice_holds(&as_report, &card));
        // Another verifier's key.
        let other_secrets = Secrets::derive(&[8; 32]);
        let elsewhere = Tokens::new(&config, &other_secrets);
        assert!(!elsewhere.selfservice_holds(&token, &card));
    }
}
