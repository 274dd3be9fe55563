//! "I did not make this purchase": the cardholder follows the signed link in a mail, sees the
//! purchase, and confirms. Confirming records the report and revokes the card's trust in every
//! browser in one transaction (another card trusted in the same browser keeps its trust), and
//! opens the report's protection case ([`super::case`]) with its mail; from then on every
//! purchase on the card is challenged until the issuer resolves the report.

use super::{Flow, FlowError};
use crate::model::{
    Authentication, Cardholder, CaseId, CaseState, FraudReport, Merchant, ReportId,
};
use crate::store::CaseOpening;
use crate::webhooks::NewEvent;

/// The purchase a report link names, with its card and merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reportable {
    /// The purchase.
    pub auth: Authentication,
    /// The card it was made with.
    pub cardholder: Cardholder,
    /// Where.
    pub merchant: Merchant,
    /// Whether it has been reported already.
    pub reported: bool,
}

impl Flow<'_> {
    /// The purchase the report link `token` names.
    ///
    /// # Errors
    ///
    /// [`FlowError::InvalidReportLink`] for a forged or expired link, or one naming a purchase
    /// without an enrolled card.
    pub async fn reportable(&self, token: &str) -> Result<Reportable, FlowError> {
        let mut reportable = self.purchase_of(token).await?;
        reportable.reported = self.store.report_for(&reportable.auth.id).await?.is_some();
        Ok(reportable)
    }

    /// The purchase `token` names, not yet asked whether it was reported. (Not `cardholder_of`:
    /// that stands a sandbox purchase in for a cardholder, and a sandbox link reports nothing.)
    async fn purchase_of(&self, token: &str) -> Result<Reportable, FlowError> {
        let id = self
            .tokens()
            .report_authentication(token, self.now())
            .ok_or(FlowError::InvalidReportLink)?;
        let auth = self.store.authentication(&id).await?;
        let auth = auth.ok_or(FlowError::InvalidReportLink)?;
        let cardholder = match &auth.cardholder_id {
            Some(id) => self.store.cardholder(id).await?,
            None => None,
        };
        let merchant = self.store.merchant(&auth.merchant_id).await?;
        let (Some(cardholder), Some(merchant)) = (cardholder, merchant) else {
            return Err(FlowError::InvalidReportLink);
        };
        Ok(Reportable {
            auth,
            cardholder,
            merchant,
            reported: false,
        })
    }

    /// Records the cardholder's report on the purchase `token` names; reporting twice changes
    /// nothing.
    ///
    /// # Errors
    ///
    /// As [`Flow::reportable`].
    pub async fn report(&self, token: &str) -> Result<Reportable, FlowError> {
        let mut reportable = self.purchase_of(token).await?;
        let report = FraudReport {
            id: ReportId::mint()?,
            cardholder_id: reportable.cardholder.id.clone(),
            authentication_id: reportable.auth.id.clone(),
            created_at: self.now(),
            resolved_at: None,
        };
        let case = self.opening_case(CaseId::mint()?, &report, &reportable);
        let mail = self.case_mail(&case, &reportable.cardholder, CaseState::Open);
        let events = [NewEvent::fraud_report_created(&case, report.created_at)?];
        let opening = CaseOpening {
            case: &case,
            mail: &mail,
            events: &events,
        };
        if self.store.report_fraud(&report, &opening).await? {
            self.mail_queued();
            self.events_queued();
            tracing::warn!(report = %report.id, case = %case.id,
                authentication = %report.authentication_id, cardholder = %report.cardholder_id,
                "fraud reported; case opened, the card's device trust revoked");
        }
        reportable.reported = true;
        Ok(reportable)
    }
}
