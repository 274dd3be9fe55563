//! Protection cases on the wire: a case as the admin API and `mamori cases --json` show it,
//! and a move's request.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Method, Status};
use crate::model;

/// A case's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Just reported; the amount is not charged to the cardholder while the case is open.
    Open,
    /// The issuer is looking into it; the amount is still not charged.
    UnderReview,
    /// Decided for the cardholder: not charged, or given back.
    Refunded,
    /// Decided against the report.
    Declined,
}

impl From<model::CaseState> for CaseState {
    fn from(state: model::CaseState) -> Self {
        match state {
            model::CaseState::Open => Self::Open,
            model::CaseState::UnderReview => Self::UnderReview,
            model::CaseState::Refunded => Self::Refunded,
            model::CaseState::Declined => Self::Declined,
        }
    }
}

impl From<CaseState> for model::CaseState {
    fn from(state: CaseState) -> Self {
        match state {
            CaseState::Open => Self::Open,
            CaseState::UnderReview => Self::UnderReview,
            CaseState::Refunded => Self::Refunded,
            CaseState::Declined => Self::Declined,
        }
    }
}

/// A protection case: the reported charge as it was, and where the issuer is with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProtectionCase)]
pub struct CaseView {
    /// `pc_…`.
    pub id: String,
    /// The report that opened it (`fr_…`).
    pub report_id: String,
    /// The purchase reported (`au_…`).
    pub authentication_id: String,
    /// The card (`ch_…`).
    pub cardholder_id: String,
    /// The merchant (`m_…`).
    pub merchant_id: String,
    /// Its display name when the case opened.
    pub merchant_name: String,
    /// In the currency's minor unit.
    pub amount: u64,
    /// ISO 4217 alphabetic code.
    pub currency: String,
    /// When the purchase was attempted.
    pub purchased_at: i64,
    /// The browser the purchase was made in (family, language, time zone).
    pub browser: String,
    /// How the purchase was authenticated, if it reached an outcome.
    #[schema(required = true)]
    pub method: Option<Method>,
    /// The result's `transStatus`, if it reached an outcome.
    #[schema(required = true)]
    pub status: Option<Status>,
    /// The 3-D Secure `transStatusReason` when the status was not `Y`.
    #[schema(required = true, pattern = "^[0-9]{2}$")]
    pub trans_status_reason: Option<String>,
    /// The risk engine's reasons.
    pub reasons: Vec<String>,
    /// Where the case is.
    pub state: CaseState,
    /// The issuer's last note.
    #[schema(required = true)]
    pub note: Option<String>,
    /// When the report opened it.
    pub created_at: i64,
    /// When its state last changed.
    pub updated_at: i64,
}

impl From<&model::ProtectionCase> for CaseView {
    fn from(case: &model::ProtectionCase) -> Self {
        Self {
            id: case.id.to_string(),
            report_id: case.report_id.to_string(),
            authentication_id: case.authentication_id.to_string(),
            cardholder_id: case.cardholder_id.to_string(),
            merchant_id: case.merchant_id.to_string(),
            merchant_name: case.merchant_name.clone(),
            amount: case.amount.unsigned(),
            currency: case.currency.as_str().to_owned(),
            purchased_at: case.purchased_at,
            browser: case.browser.clone(),
            method: case.method.map(Method::from),
            status: case.status.map(Status::from),
            trans_status_reason: case.reason.map(|r| r.to_string()),
            reasons: case
                .risk_reasons
                .iter()
                .map(|r| r.name().into_owned())
                .collect(),
            state: case.state.into(),
            note: case.note.clone(),
            created_at: case.created_at,
            updated_at: case.updated_at,
        }
    }
}

/// A list of cases, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProtectionCases)]
pub struct CaseList {
    /// The cases.
    pub items: Vec<CaseView>,
}

/// `POST /admin/v1/cases/{id}/state`: where to move the case, and the issuer's note.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MoveCase)]
pub struct MoveRequest {
    /// `under_review`, `refunded` or `declined` (a case never moves back to `open`).
    pub state: CaseState,
    /// Replaces the last note when given; at most 2000 characters.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// The answer to a move: the case as it is now, and the state it left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MovedCase)]
pub struct MovedView {
    /// The case.
    pub case: CaseView,
    /// Where it was before the move.
    pub previous_state: CaseState,
}
