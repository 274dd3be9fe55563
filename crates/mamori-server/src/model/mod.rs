//! The verifier's vocabulary: merchants, cardholders, devices, authentications and their states.
//!
//! These are plain data shared by the store, the risk engine and the HTTP layer. Each enum and
//! each id ([`id`]) has one spelling on the wire and in the database (`as_str`/`parse`), so a
//! row read back is exactly the value written.

mod authentication;
pub mod browser;
mod case;
pub mod id;
mod money;
mod reason;

pub use crate::mail::headers::MailThread;
pub use authentication::{Assessment, Authentication, Challenge, Final, Finished, Progress};
pub use browser::{BrowserInfo, LanguageTag, TimeZone, UserAgent};
pub use case::{CaseState, ProtectionCase};
pub use id::{
    AdminTokenId, AuthenticationId, CardholderId, CaseId, DeviceId, KeyId, MerchantId, ReportId,
};
use mamori_core::device_key::PublicKey;
pub use mamori_core::token::Currency;
use mamori_core::token::{Eci, Method, Reason, TransStatus};
pub use money::{Amount, Ceilings, OrderRef};
pub use reason::DecisionReason;

/// Where an authentication is in its life. Only `Pending` and `Challenging` can change; the
/// rest are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Created by the merchant; the widget has not sent the device step yet.
    Pending,
    /// A code was sent; waiting for the cardholder to enter it.
    Challenging,
    /// Authenticated, frictionless or by code.
    Succeeded,
    /// The cardholder entered too many wrong codes.
    Failed,
    /// The risk engine refused the purchase.
    Rejected,
    /// The authentication outlived its lifetime before it finished.
    Expired,
    /// The cardholder cancelled the challenge.
    Cancelled,
}

impl State {
    /// The spelling in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Challenging => "challenging",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads [`State::as_str`] back.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => Self::Pending,
            "challenging" => Self::Challenging,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "rejected" => Self::Rejected,
            "expired" => Self::Expired,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// Whether no further state change is possible.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::Challenging)
    }
}

/// The merchant's 3-D Secure challenge preference (`threeDSRequestorChallengeInd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengePreference {
    /// `01`: no preference.
    NoPreference,
    /// `02`: no challenge requested (the issuer may still challenge).
    NoChallengeRequested,
    /// `03`: challenge requested by the merchant.
    Requested,
    /// `04`: challenge mandated (regulation or the merchant's own rules).
    Mandated,
}

impl ChallengePreference {
    /// The two-digit wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoPreference => "01",
            Self::NoChallengeRequested => "02",
            Self::Requested => "03",
            Self::Mandated => "04",
        }
    }

    /// Reads [`ChallengePreference::as_str`] back.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "01" => Self::NoPreference,
            "02" => Self::NoChallengeRequested,
            "03" => Self::Requested,
            "04" => Self::Mandated,
            _ => return None,
        })
    }
}

/// The language of a cardholder's mail and pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    /// Japanese.
    Ja,
    /// English.
    En,
}

impl Locale {
    /// The BCP 47 tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ja => "ja",
            Self::En => "en",
        }
    }

    /// Reads [`Locale::as_str`] back.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ja" => Some(Self::Ja),
            "en" => Some(Self::En),
            _ => None,
        }
    }
}

/// Whether a card may be used at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardStatus {
    /// Usable.
    Active,
    /// Every purchase is rejected.
    Blocked,
    /// Unenrolled by the issuer: kept for the records of its authentications and reports, but
    /// treated as not enrolled, and its card reference is free for a later enrolment.
    Unenrolled,
}

impl CardStatus {
    /// The spelling in the database and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Blocked => "blocked",
            Self::Unenrolled => "unenrolled",
        }
    }

    /// Reads [`CardStatus::as_str`] back.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "blocked" => Some(Self::Blocked),
            "unenrolled" => Some(Self::Unenrolled),
            _ => None,
        }
    }
}

/// A merchant that may start authentications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    /// `m_…`, the `aud` of its result tokens.
    pub id: MerchantId,
    /// Shown to cardholders in mail and on the report page.
    pub name: String,
    /// Exact origins (`scheme://host[:port]`) whose pages may run the widget.
    pub origins: Vec<String>,
    /// A sandbox merchant's purchases are for testing; they are marked as such in mail.
    pub sandbox: bool,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// Whether it has a live webhook endpoint, read with the row (never written through it):
    /// the device step queues `authentication.finished` only then, and otherwise stays one
    /// self-committing statement.
    pub webhook: bool,
}

/// One of a merchant's HMAC keys.
#[derive(Clone, PartialEq, Eq)]
pub struct MerchantKey {
    /// Globally unique; the `kid` of tokens and the middle of the secret-key string.
    pub kid: KeyId,
    /// The merchant the key belongs to.
    pub merchant_id: MerchantId,
    /// The 32-byte HMAC secret.
    pub secret: Vec<u8>,
    /// Seconds since the Unix epoch; the newest key signs.
    pub created_at: i64,
    /// After this time the key neither authenticates nor verifies (the end of a rotation's
    /// overlap window); `None` while it is current.
    pub retire_at: Option<i64>,
}

impl std::fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerchantKey")
            .field("kid", &self.kid)
            .field("merchant_id", &self.merchant_id)
            .field("retire_at", &self.retire_at)
            .finish_non_exhaustive()
    }
}

impl MerchantKey {
    /// Whether the key is still accepted at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.retire_at.is_none_or(|at| now < at)
    }
}

/// An enrolled card and its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cardholder {
    /// `ch_…`, the `sub` of device tokens.
    pub id: CardholderId,
    /// Hex HMAC-SHA256 of the card number under the server's card key.
    pub card_ref: String,
    /// The last four digits, for display.
    pub last4: String,
    /// The pre-registered address codes and alerts go to.
    pub email: String,
    /// The language of its mail and pages.
    pub locale: Locale,
    /// Whether the card may be used.
    pub status: CardStatus,
    /// Purchases above its currency's ceiling, or in a currency without one, are always
    /// challenged.
    pub frictionless_ceilings: Ceilings,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// How many times the issuer has changed the card's address: raised by one with each
    /// change, never lowered, so it never repeats for the card. Self-service links are bound to
    /// it ([`crate::tokens::Tokens::selfservice_url`]).
    pub contact_epoch: i64,
}

/// A browser at one merchant's origin, as its device token names it. Which cards it is trusted
/// for is [`DeviceTrust`]'s business: several cards share a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `dv_…`, the `did` (and `sub`) of its device token.
    pub id: DeviceId,
    /// The merchant whose origin stores its token.
    pub merchant_id: MerchantId,
    /// Canonical fingerprint JSON presented at its last successful challenge.
    pub fingerprint: String,
    /// The public half of its device-bound key; `None` for a browser without WebCrypto or
    /// IndexedDB, or one trusted before keys existed (identified by its token alone).
    pub public_key: Option<PublicKey>,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// After this its token names nothing; slid forward by each successful challenge, and
    /// always the `exp` of its newest token.
    pub expires_at: i64,
    /// Set when the device was revoked.
    pub revoked_at: Option<i64>,
}

impl Device {
    /// Whether its token can still name it at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A card's trust in a device: a correct code for that card in that browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTrust {
    /// The browser.
    pub device_id: DeviceId,
    /// The card.
    pub cardholder_id: CardholderId,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// After this the device is no longer trusted for the card; slid by each success.
    pub expires_at: i64,
    /// Set when revoked (a fraud report on the card).
    pub revoked_at: Option<i64>,
}

impl DeviceTrust {
    /// Whether it counts at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// How an authentication ended, as the result token and `GET` report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The 3-D Secure `transStatus`.
    pub status: TransStatus,
    /// The electronic commerce indicator.
    pub eci: Eci,
    /// Frictionless or challenge.
    pub method: Method,
    /// The 3-D Secure `transStatusReason` when not `Y`.
    pub reason: Option<Reason>,
    /// The signed result token.
    pub result_token: String,
}

/// An "I did not make this purchase" report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FraudReport {
    /// `fr_…`.
    pub id: ReportId,
    /// The card reported.
    pub cardholder_id: CardholderId,
    /// The purchase reported.
    pub authentication_id: AuthenticationId,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// Set by `mamori reports resolve`; until then the card is always challenged.
    pub resolved_at: Option<i64>,
}

/// A mail waiting in (or delivered from) the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Row id.
    pub id: i64,
    /// What the mail is about (`code`, `alert_failed`, …), for metrics and the demo mailbox.
    pub kind: String,
    /// The cardholder's address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Its place among its purchase's mails, from which its `Message-ID` and the one it
    /// answers derive.
    pub thread: Option<MailThread>,
}

impl Mail {
    /// See [`mail_priority`].
    pub fn priority(&self) -> i64 {
        mail_priority(&self.kind)
    }
}

/// A mail to queue in the same transaction as a state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// See [`Mail::kind`].
    pub kind: String,
    /// The cardholder's address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
    /// Kept for a sandbox merchant to read instead of being sent, when set.
    pub sandbox: Option<SandboxMailbox>,
    /// For an alert: queued only if no alert of its kind was queued for this card within the
    /// window. A code never has one.
    pub dedupe: Option<Dedupe>,
    /// See [`Mail::thread`].
    pub thread: Option<MailThread>,
}

impl NewMail {
    /// See [`mail_priority`].
    pub fn priority(&self) -> i64 {
        mail_priority(&self.kind)
    }
}

/// The order in which due mail is delivered, lowest first: a code (0) before anything else
/// (1), so that a burst of alerts cannot delay a code past its lifetime.
pub fn mail_priority(kind: &str) -> i64 {
    if kind == CODE_MAIL { 0 } else { 1 }
}

/// The [`Mail::kind`] of a mail carrying a one-time code.
pub const CODE_MAIL: &str = "code";

/// At most one alert of a kind per card per window: what [`NewMail::dedupe`] holds.
///
/// The store decides it in the transaction that queues the alert, with one conditional write
/// per card and kind, so two requests (even on two instances) never both queue one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dedupe {
    /// The card the alert is about.
    pub cardholder_id: CardholderId,
    /// Seconds from a queued alert during which the next one of its kind is dropped.
    pub window: i64,
}

/// Where a sandbox merchant's mail is kept: its own mailbox, by authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxMailbox {
    /// The sandbox merchant, the only one that reads it.
    pub merchant_id: MerchantId,
    /// The authentication the mail is about.
    pub authentication_id: AuthenticationId,
}

/// A retried `POST /v1/authentications`: what its `Idempotency-Key` is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The merchant that sent it; keys are per merchant.
    pub merchant_id: MerchantId,
    /// The header's value.
    pub key: String,
    /// SHA-256 of the request as parsed, so a different body under the same key is seen.
    pub request_hash: Vec<u8>,
    /// The authentication the first request created.
    pub authentication_id: AuthenticationId,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
}

/// A message the demo mailbox received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxMessage {
    /// Row id.
    pub id: i64,
    /// See [`Mail::kind`].
    pub kind: String,
    /// The cardholder's address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
    /// Seconds since the Unix epoch.
    pub delivered_at: i64,
    /// The sandbox merchant it was kept for, if any.
    pub merchant_id: Option<MerchantId>,
    /// The authentication a sandbox mail is about.
    pub authentication_id: Option<AuthenticationId>,
}
