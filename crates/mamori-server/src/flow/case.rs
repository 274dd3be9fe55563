//! Protection cases: opening one with a fraud report, and the issuer's moves through its states
//! (the rule is [`CaseState::can_move_to`]), each mailed to the cardholder.
//!
//! A move reads the case, decides with the rule, and asks the store for one conditional change
//! from the state it read, with the cardholder's mail in the same transaction: of two
//! concurrent moves, one happens and the other is refused as if it had come second.

use super::report::Reportable;
use super::{Flow, FlowError};
use crate::flow::notice::browser_summary;
use crate::mail::templates::{self, CaseFacts};
use crate::model::{Cardholder, CaseId, CaseState, FraudReport, NewMail, ProtectionCase};
use crate::store::CaseMove;
use crate::webhooks::NewEvent;

/// The longest note an issuer may leave on a case, in characters (as JSON Schema's `maxLength`
/// counts them): a few paragraphs, bounded so that a case row (and the webhook that carries the
/// note) stays small.
pub const MAX_NOTE_LEN: usize = 2000;

/// A case after a move, and the state it left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedCase {
    /// The case as it is now.
    pub case: ProtectionCase,
    /// Where it was before the move.
    pub previous: CaseState,
}

impl Flow<'_> {
    /// Every case in `state` (every case when `None`), oldest first.
    ///
    /// # Errors
    ///
    /// [`FlowError::Internal`] when the store fails.
    pub async fn cases(&self, state: Option<CaseState>) -> Result<Vec<ProtectionCase>, FlowError> {
        Ok(self.store.cases(state).await?)
    }

    /// The case with this id.
    ///
    /// # Errors
    ///
    /// [`FlowError::UnknownCase`] when there is none.
    pub async fn case(&self, id: &CaseId) -> Result<ProtectionCase, FlowError> {
        self.store.case(id).await?.ok_or(FlowError::UnknownCase)
    }

    /// Moves the case to `to`, with the issuer's `note` (`None` keeps the last one), and mails
    /// the cardholder.
    ///
    /// # Errors
    ///
    /// [`FlowError::UnknownCase`]; [`FlowError::InvalidCaseNote`] for a note over
    /// [`MAX_NOTE_LEN`] characters or holding control characters other than line breaks;
    /// [`FlowError::CaseState`] (nothing changed) when the rule forbids the move, or another
    /// move of the case came first.
    pub async fn move_case(
        &self,
        id: &CaseId,
        to: CaseState,
        note: Option<&str>,
    ) -> Result<MovedCase, FlowError> {
        if let Some(note) = note {
            let control = note
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r');
            if note.chars().count() > MAX_NOTE_LEN || control {
                return Err(FlowError::InvalidCaseNote);
            }
        }
        let case = self.case(id).await?;
        let from = case.state;
        if !from.can_move_to(to) {
            return Err(FlowError::CaseState { from, to });
        }
        let cardholder = self
            .store
            .cardholder(&case.cardholder_id)
            .await?
            .ok_or_else(|| FlowError::Internal(format!("case {id} names no cardholder")))?;
        let now = self.now();
        let mail = self.case_mail(&case, &cardholder, to);
        let moved = ProtectionCase {
            state: to,
            note: note.map(str::to_owned).or(case.note.clone()),
            updated_at: now,
            ..case
        };
        let events = [NewEvent::protection_case_updated(&moved, from, now)?];
        let change = CaseMove {
            id,
            from,
            to,
            note,
            now,
            mail: &mail,
            events: &events,
        };
        if !self.store.move_case(&change).await? {
            // Another move came first: this one is refused as if it had come second.
            let current = self.case(id).await?.state;
            return Err(FlowError::CaseState { from: current, to });
        }
        self.mail_queued();
        self.events_queued();
        tracing::info!(case = %id, from = %from, to = %to, "protection case moved");
        Ok(MovedCase {
            case: moved,
            previous: from,
        })
    }

    /// The case a report on `reported` opens, in state `open`, holding the charge's facts as
    /// they are now.
    pub(super) fn opening_case(
        &self,
        id: CaseId,
        report: &FraudReport,
        reported: &Reportable,
    ) -> ProtectionCase {
        let auth = &reported.auth;
        let outcome = auth.outcome();
        let assessment = auth.assessment();
        ProtectionCase {
            id,
            report_id: report.id.clone(),
            authentication_id: auth.id.clone(),
            cardholder_id: reported.cardholder.id.clone(),
            merchant_id: reported.merchant.id.clone(),
            merchant_name: reported.merchant.name.clone(),
            amount: auth.amount,
            currency: auth.currency,
            purchased_at: auth.created_at,
            browser: browser_summary(assessment.map(|a| &a.browser)),
            method: outcome.map(|o| o.method),
            status: outcome.map(|o| o.status),
            reason: outcome.and_then(|o| o.reason),
            risk_reasons: assessment
                .map(|a| a.risk_reasons.clone())
                .unwrap_or_default(),
            state: CaseState::Open,
            note: None,
            created_at: report.created_at,
            updated_at: report.created_at,
        }
    }

    /// The mail telling `cardholder` that `case` is now in `state`, with the link to their
    /// page.
    pub(super) fn case_mail(
        &self,
        case: &ProtectionCase,
        cardholder: &Cardholder,
        state: CaseState,
    ) -> NewMail {
        let url = self.tokens().selfservice_url(cardholder, self.now());
        let facts = CaseFacts {
            recipient: &cardholder.email,
            locale: cardholder.locale,
            merchant: &case.merchant_name,
            amount: case.amount,
            currency: case.currency,
            time: case.purchased_at,
            selfservice_url: &url,
        };
        templates::case_mail(&facts, state)
    }
}
