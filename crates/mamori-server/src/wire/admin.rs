//! The issuer admin API's requests and answers (`/admin/v1`), which the `mamori` CLI prints
//! too with `--json`: one set of field names for both.
//!
//! Requests carry text where the CLI takes text (a card number, an e-mail address, a locale,
//! ceilings as `CURRENCY:AMOUNT`); [`crate::admin`] parses each the one way both use, so a
//! value the CLI refuses the API refuses with the same message.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ErrorCode, Locale};
use crate::flow::notice::browser_summary;
use crate::model;
use crate::store::AdminToken;

/// `POST /admin/v1/cardholders`: cards to enrol, each on its own.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The cards, answered one result each, in this order.
    #[schema(min_items = 1, max_items = 100)]
    pub cardholders: Vec<Enrolment>,
}

/// One card to enrol.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// 12 to 19 digits, Luhn-valid; stored only as a keyed reference and the last four digits.
    pub card: String,
    /// The pre-registered address codes and alerts go to.
    pub email: String,
    /// `ja` (the default) or `en`.
    #[serde(default)]
    pub locale: Option<String>,
    /// Frictionless ceilings, `CURRENCY:AMOUNT` in minor units, one per currency; `["JPY:50000"]`
    /// when absent. Purchases above, or in a currency without one, are always challenged.
    #[serde(default)]
    pub ceilings: Option<Vec<String>>,
}

/// `PATCH /admin/v1/cardholders/{id}`: what to change; at least one member.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardholderPatch {
    /// The new pre-registered address.
    #[serde(default)]
    pub email: Option<String>,
    /// `ja` or `en`.
    #[serde(default)]
    pub locale: Option<String>,
    /// The new ceilings, replacing every current one.
    #[serde(default)]
    pub ceilings: Option<Vec<String>>,
}

/// An enrolled (or unenrolled) card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AdminCardholder)]
pub struct Cardholder {
    /// `ch_…`.
    pub id: String,
    /// The keyed reference merchants may authenticate with; `null` once unenrolled.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub card_ref: Option<String>,
    /// The card number's last four digits.
    pub last4: String,
    /// The pre-registered address.
    pub email: String,
    /// The language of its mail and pages.
    pub locale: Locale,
    /// `active`, `blocked` (every purchase rejected) or `unenrolled` (treated as not enrolled;
    /// kept for its authentications and reports).
    pub status: CardStatus,
    /// Frictionless ceilings, `CURRENCY:AMOUNT` in minor units.
    pub ceilings: Vec<String>,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
}

/// A card's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CardStatus {
    /// Usable.
    Active,
    /// Every purchase is rejected.
    Blocked,
    /// Unenrolled: treated as not enrolled.
    Unenrolled,
}

impl From<&model::Cardholder> for Cardholder {
    fn from(c: &model::Cardholder) -> Self {
        let status = match c.status {
            model::CardStatus::Active => CardStatus::Active,
            model::CardStatus::Blocked => CardStatus::Blocked,
            model::CardStatus::Unenrolled => CardStatus::Unenrolled,
        };
        let ceilings = c.frictionless_ceilings.to_string();
        Self {
            id: c.id.to_string(),
            card_ref: (status != CardStatus::Unenrolled).then(|| c.card_ref.clone()),
            last4: c.last4.clone(),
            email: c.email.clone(),
            locale: c.locale.into(),
            status,
            ceilings: ceilings
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            created_at: c.created_at,
        }
    }
}

/// `GET /admin/v1/cardholders`: every card, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardholderList {
    /// The cards.
    pub items: Vec<Cardholder>,
}

/// The answer to `POST /admin/v1/cardholders`: one result per requested card, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolResults {
    /// The results.
    pub items: Vec<EnrolResult>,
}

/// What became of one card to enrol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum EnrolResult {
    /// Enrolled.
    Enrolled {
        /// The new card.
        cardholder: Cardholder,
    },
    /// Refused; nothing was stored for this card.
    Refused {
        /// Why, as the error code a single request would answer.
        error: ErrorCode,
        /// An English sentence naming the field.
        message: String,
    },
}

/// A browser a card trusts: its purchases with the card are frictionless while the trust lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedBrowser {
    /// `dv_…`, what `DELETE …/devices/{device_id}` names.
    pub device_id: String,
    /// Its family, language and time zone as its newest purchase with the card reported them
    /// (`Firefox, ja-JP, Asia/Tokyo`); `unknown browser` when none did.
    pub browser: String,
    /// The merchant whose site it is trusted at (`m_…`): a browser's trust is per merchant.
    pub merchant_id: String,
    /// That merchant's display name.
    pub merchant_name: String,
    /// When the card started trusting it (a correct code), seconds since the Unix epoch.
    pub trusted_since: i64,
    /// Its newest purchase with the card; `null` when none is recorded.
    #[schema(required = true)]
    pub last_used: Option<i64>,
    /// When the trust lapses unless a purchase slides it.
    pub expires_at: i64,
}

impl From<&crate::store::TrustedBrowser> for TrustedBrowser {
    fn from(b: &crate::store::TrustedBrowser) -> Self {
        Self {
            device_id: b.device_id.to_string(),
            browser: browser_summary(Some(&b.browser)),
            merchant_id: b.merchant_id.to_string(),
            merchant_name: b.merchant_name.clone(),
            trusted_since: b.trusted_since,
            last_used: b.last_used,
            expires_at: b.expires_at,
        }
    }
}

/// `GET /admin/v1/cardholders/{id}/devices`: the card's live trusted browsers, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedBrowserList {
    /// The browsers.
    pub items: Vec<TrustedBrowser>,
}

impl TrustedBrowserList {
    /// `browsers` (oldest first, as the store answers them).
    pub fn new(browsers: &[crate::store::TrustedBrowser]) -> Self {
        Self {
            items: browsers.iter().map(TrustedBrowser::from).collect(),
        }
    }
}

/// A merchant's signing key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantKey {
    /// The key id: the `kid` of the tokens it signs.
    pub kid: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// When it stops (or stopped) authenticating and signing; `null` for the current key.
    pub retire_at: Option<i64>,
}

/// A merchant and its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AdminMerchant)]
pub struct Merchant {
    /// `m_…`.
    pub id: String,
    /// Shown to cardholders.
    pub name: String,
    /// Origins whose pages may run the widget.
    pub origins: Vec<String>,
    /// Whether it is a sandbox (test cards only).
    pub sandbox: bool,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// Its keys, newest first.
    pub keys: Vec<MerchantKey>,
}

impl Merchant {
    /// `merchant` with `keys` (newest first, as the store answers them).
    pub fn new(merchant: &model::Merchant, keys: &[model::MerchantKey]) -> Self {
        Self {
            id: merchant.id.to_string(),
            name: merchant.name.clone(),
            origins: merchant.origins.clone(),
            sandbox: merchant.sandbox,
            created_at: merchant.created_at,
            keys: keys
                .iter()
                .map(|k| MerchantKey {
                    kid: k.kid.to_string(),
                    created_at: k.created_at,
                    retire_at: k.retire_at,
                })
                .collect(),
        }
    }
}

/// `GET /admin/v1/merchants`: every merchant, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantList {
    /// The merchants.
    pub items: Vec<Merchant>,
}

/// `POST /admin/v1/merchants`: a merchant to register.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMerchant {
    /// Display name shown to cardholders; 1 to 100 characters, no control characters.
    pub name: String,
    /// Origins allowed to run the widget, `https://host[:port]` (or `http://`); at least one.
    #[schema(min_items = 1)]
    pub origins: Vec<String>,
    /// A sandbox merchant (test cards only); `false` when absent.
    #[serde(default)]
    pub sandbox: bool,
}

/// `PUT /admin/v1/merchants/{id}/origins`: the merchant's origins, replacing every current one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Origins {
    /// At least one.
    #[schema(min_items = 1)]
    pub origins: Vec<String>,
}

/// A merchant just registered, with its secret key: shown this once, never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantCreated {
    /// The merchant.
    pub merchant: Merchant,
    /// `mamori_sk.<kid>.<secret>`, for the merchant's backend.
    pub secret_key: String,
}

/// A merchant's new key, with its secret: shown this once, never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRotated {
    /// The new key's id.
    pub kid: String,
    /// `mamori_sk.<kid>.<secret>`.
    pub secret_key: String,
    /// When the older keys stop working (seconds since the Unix epoch).
    pub older_keys_retire_at: i64,
}

/// A fraud report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// `fr_…`.
    pub id: String,
    /// The reporting card.
    pub cardholder_id: String,
    /// The purchase reported.
    pub authentication_id: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// When the issuer resolved it; `null` while open (the card is forced to challenge).
    pub resolved_at: Option<i64>,
}

impl From<&model::FraudReport> for Report {
    fn from(r: &model::FraudReport) -> Self {
        Self {
            id: r.id.to_string(),
            cardholder_id: r.cardholder_id.to_string(),
            authentication_id: r.authentication_id.to_string(),
            created_at: r.created_at,
            resolved_at: r.resolved_at,
        }
    }
}

/// `GET /admin/v1/reports`: reports, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportList {
    /// The reports.
    pub items: Vec<Report>,
}

/// An admin API token, without the token (`mamori admin token list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AdminTokenInfo)]
pub struct AdminTokenView {
    /// `at_…`.
    pub id: String,
    /// What the issuer called it.
    pub name: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// The last request it authenticated, to the minute; `null` before the first.
    pub last_used_at: Option<i64>,
    /// When it was revoked; `null` while it works.
    pub revoked_at: Option<i64>,
}

impl From<&AdminToken> for AdminTokenView {
    fn from(t: &AdminToken) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.clone(),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A token just made (`mamori admin token create`): shown this once, never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminTokenCreated {
    /// `at_…`, what `mamori admin token revoke` names.
    pub id: String,
    /// What the issuer called it.
    pub name: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// `mamori_admin_…`, the bearer token of `/admin/v1`.
    pub token: String,
}

/// `mamori admin token list`: every token, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminTokenList {
    /// The tokens.
    pub items: Vec<AdminTokenView>,
}
