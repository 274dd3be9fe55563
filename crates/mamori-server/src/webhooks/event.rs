//! The events mamori sends, their endpoints' owners, and what the outbox holds of them.
//!
//! An event's body — `{"type","timestamp","data"}` — is written once, when the state change
//! that causes it is stored, and is the exact byte string signed at every attempt; its
//! `webhook-id` (`msg_…`) is fixed then too, so a receiver de-duplicates retries by it.

use mamori_core::token::{Eci, Method, Reason, TransStatus};
use serde::Serialize;

use crate::model::{
    Amount, Authentication, AuthenticationId, CardholderId, CaseId, CaseState, Currency, Final,
    MerchantId, Outcome, ProtectionCase, ReportId,
};
use crate::secrets::{RandomError, random_id};
use crate::text::format_rfc3339;

/// `authentication.finished`: to the merchant, once per authentication reaching a final state.
pub const AUTHENTICATION_FINISHED: &str = "authentication.finished";
/// `authentication.failed`: to the issuer, when a purchase's wrong codes are exhausted.
pub const AUTHENTICATION_FAILED: &str = "authentication.failed";
/// `fraud_report.created`: to the issuer, when a cardholder reports a purchase (and its case
/// opens).
pub const FRAUD_REPORT_CREATED: &str = "fraud_report.created";
/// `protection_case.updated`: to the issuer, at every move of a case.
pub const PROTECTION_CASE_UPDATED: &str = "protection_case.updated";

/// Whose endpoint an event goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The issuer running this verifier.
    Issuer,
    /// A merchant.
    Merchant(MerchantId),
}

/// How the issuer is written in the `owner` columns; no merchant id can be spelled so (they
/// start with `m_`).
const ISSUER: &str = "issuer";

impl Owner {
    /// The spelling in the database and the CLI's JSON: `issuer`, or the merchant's id.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Issuer => ISSUER,
            Self::Merchant(id) => id.as_str(),
        }
    }

    /// Reads [`Self::as_str`]'s spelling back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        if text == ISSUER {
            return Some(Self::Issuer);
        }
        MerchantId::parse(text).map(Self::Merchant)
    }
}

/// An event to queue in the transaction of the change that causes it, for its owner's live
/// endpoint (none, none queued).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Whose endpoint.
    pub owner: Owner,
    /// `msg_…`: the `webhook-id` of every attempt.
    pub message_id: String,
    /// The event's `type`.
    pub event_type: &'static str,
    /// The JSON body, signed as is.
    pub body: String,
}

/// The body every event shares.
#[derive(Serialize)]
struct Envelope<'a, T> {
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: String,
    data: T,
}

/// `authentication.finished`'s `data`: what the merchant's result token says, and the state.
#[derive(Serialize)]
struct Finished<'a> {
    authentication_id: &'a AuthenticationId,
    merchant_id: &'a MerchantId,
    order_ref: &'a str,
    amount: Amount,
    currency: Currency,
    state: &'static str,
    status: TransStatus,
    eci: Eci,
    method: Method,
    reason: Option<Reason>,
}

/// `authentication.failed`'s `data`.
#[derive(Serialize)]
struct Failed<'a> {
    authentication_id: &'a AuthenticationId,
    merchant_id: &'a MerchantId,
    cardholder_id: Option<&'a CardholderId>,
    amount: Amount,
    currency: Currency,
    reason: Option<Reason>,
}

/// `fraud_report.created`'s `data`: the report, the case it opened and the charge.
#[derive(Serialize)]
struct ReportCreated<'a> {
    report_id: &'a ReportId,
    case_id: &'a CaseId,
    authentication_id: &'a AuthenticationId,
    cardholder_id: &'a CardholderId,
    merchant_id: &'a MerchantId,
    amount: Amount,
    currency: Currency,
    /// Seconds since the Unix epoch, as every time of the admin API.
    created_at: i64,
}

/// `protection_case.updated`'s `data`: where the case is now and where it was.
#[derive(Serialize)]
struct CaseUpdated<'a> {
    case_id: &'a CaseId,
    report_id: &'a ReportId,
    authentication_id: &'a AuthenticationId,
    cardholder_id: &'a CardholderId,
    state: &'static str,
    previous_state: &'static str,
    note: Option<&'a str>,
}

impl NewEvent {
    /// `fraud_report.created` for the report that opens `case` (its facts are the report's).
    ///
    /// # Errors
    ///
    /// [`RandomError`] when no message id can be made.
    pub fn fraud_report_created(case: &ProtectionCase, now: i64) -> Result<Self, RandomError> {
        let data = ReportCreated {
            report_id: &case.report_id,
            case_id: &case.id,
            authentication_id: &case.authentication_id,
            cardholder_id: &case.cardholder_id,
            merchant_id: &case.merchant_id,
            amount: case.amount,
            currency: case.currency,
            created_at: case.created_at,
        };
        Self::new(Owner::Issuer, FRAUD_REPORT_CREATED, data, now)
    }

    /// `protection_case.updated` for `case` as a move from `previous` left it.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when no message id can be made.
    pub fn protection_case_updated(
        case: &ProtectionCase,
        previous: CaseState,
        now: i64,
    ) -> Result<Self, RandomError> {
        let data = CaseUpdated {
            case_id: &case.id,
            report_id: &case.report_id,
            authentication_id: &case.authentication_id,
            cardholder_id: &case.cardholder_id,
            state: case.state.as_str(),
            previous_state: previous.as_str(),
            note: case.note.as_deref(),
        };
        Self::new(Owner::Issuer, PROTECTION_CASE_UPDATED, data, now)
    }

    /// `authentication.finished` for `auth` ending as `end` with `outcome`, at `now`.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when no message id can be made.
    pub fn authentication_finished(
        auth: &Authentication,
        end: Final,
        outcome: &Outcome,
        now: i64,
    ) -> Result<Self, RandomError> {
        let data = Finished {
            authentication_id: &auth.id,
            merchant_id: &auth.merchant_id,
            order_ref: auth.order_ref.as_str(),
            amount: auth.amount,
            currency: auth.currency,
            state: end.as_str(),
            status: outcome.status,
            eci: outcome.eci,
            method: outcome.method,
            reason: outcome.reason,
        };
        Self::new(
            Owner::Merchant(auth.merchant_id.clone()),
            AUTHENTICATION_FINISHED,
            data,
            now,
        )
    }

    /// `authentication.failed` for `auth`, whose wrong codes ran out with `outcome`, at `now`.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when no message id can be made.
    pub fn authentication_failed(
        auth: &Authentication,
        outcome: &Outcome,
        now: i64,
    ) -> Result<Self, RandomError> {
        let data = Failed {
            authentication_id: &auth.id,
            merchant_id: &auth.merchant_id,
            cardholder_id: auth.cardholder_id.as_ref(),
            amount: auth.amount,
            currency: auth.currency,
            reason: outcome.reason,
        };
        Self::new(Owner::Issuer, AUTHENTICATION_FAILED, data, now)
    }

    fn new(
        owner: Owner,
        event_type: &'static str,
        data: impl Serialize,
        now: i64,
    ) -> Result<Self, RandomError> {
        let envelope = Envelope {
            event_type,
            timestamp: format_rfc3339(now),
            data,
        };
        // These structs hold strings, numbers and unit enums: serialising cannot fail.
        let body = serde_json::to_string(&envelope).unwrap_or_default();
        Ok(Self {
            owner,
            message_id: random_id("msg_")?,
            event_type,
            body,
        })
    }
}

/// An event claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The outbox row.
    pub id: i64,
    /// `webhook-id`.
    pub message_id: String,
    /// Whose endpoint.
    pub owner: Owner,
    /// The event's `type`.
    pub event_type: String,
    /// The body to sign and send.
    pub body: String,
    /// Attempts so far, this one included (an attempt deferred is given back): what the
    /// retry schedule and giving up go by.
    pub attempts: i64,
    /// The claim: the event's count of claims, this one included, which never repeats (unlike
    /// `attempts`). Renewing and settling match it, so a claim whose lease ran out changes
    /// nothing of the next one.
    pub claim: i64,
}

/// An owner's endpoint, as `mamori webhooks show` and the admin API tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Whose.
    pub owner: Owner,
    /// Where events are POSTed.
    pub url: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// Set when the endpoint answered `410 Gone`; its pending events were given up then.
    pub disabled: Option<Disabled>,
    /// The secrets that sign now, sealed (see [`super::sign`]), newest first.
    pub secrets: Vec<SealedSecret>,
    /// Events owed (neither delivered nor given up).
    pub pending: i64,
    /// Events given up: out of retries, or pending when the endpoint was disabled.
    pub given_up: i64,
}

/// What an attempt needs of its owner's live endpoint, and no more: unlike [`Endpoint`], no
/// counts of the owner's events, which would read its whole history at every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEndpoint {
    /// Where events are POSTed.
    pub url: String,
    /// When the endpoint was set to `url` (seconds since the Unix epoch): with the URL, which
    /// setting of the endpoint an attempt went to.
    pub created_at: i64,
    /// The secrets that sign now, sealed, newest first.
    pub secrets: Vec<SealedSecret>,
}

/// Why and when an endpoint stopped receiving events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disabled {
    /// Seconds since the Unix epoch.
    pub at: i64,
    /// What the endpoint answered.
    pub reason: String,
}

/// One signing secret of an endpoint, sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The sealed bytes.
    pub sealed: Vec<u8>,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    /// When it stops signing: the end of a rotation's overlap; `None` while current.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecret")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}
